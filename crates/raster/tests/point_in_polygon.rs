//! The scanline fill against a slow, obvious oracle: for triangles with integer vertices, every
//! pixel whose centre lies inside the triangle by more than half a pixel is set, and every set
//! pixel lies within one pixel of the triangle (Pillow fills the boundary too, rounding
//! crossings to whole pixels).

use chexlocalize_raster::fill_polygon;
use ndarray::Array2;
use proptest::prelude::*;

/// Signed distance from `p` to the line through `a`, `b` (positive on the left).
fn side(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    (dx * (p.1 - a.1) - dy * (p.0 - a.0)) / (dx * dx + dy * dy).sqrt()
}

/// Smallest signed distance of `p` to the triangle's edges, positive inside.
fn inside_depth(t: &[(f64, f64); 3], p: (f64, f64)) -> f64 {
    let orient = side(t[0], t[1], t[2]).signum();
    (0..3)
        .map(|i| orient * side(t[i], t[(i + 1) % 3], p))
        .fold(f64::INFINITY, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn triangles_match_the_geometric_oracle(v in proptest::array::uniform6(0i32..40)) {
        let t = [(f64::from(v[0]), f64::from(v[1])), (f64::from(v[2]), f64::from(v[3])), (f64::from(v[4]), f64::from(v[5]))];
        let area2 = (t[1].0 - t[0].0) * (t[2].1 - t[0].1) - (t[2].0 - t[0].0) * (t[1].1 - t[0].1);
        prop_assume!(area2.abs() >= 1.0);
        let mut mask = Array2::zeros((40, 40));
        fill_polygon(&mut mask, &[[v[0], v[1]], [v[2], v[3]], [v[4], v[5]]]);
        for ((r, c), &m) in mask.indexed_iter() {
            let depth = inside_depth(&t, (c as f64, r as f64));
            if depth > 0.5 {
                prop_assert_eq!(m, 1, "pixel ({}, {}) deep inside {:?} not set", c, r, t);
            }
            if m == 1 {
                prop_assert!(depth > -1.0, "pixel ({}, {}) set but {} px outside {:?}", c, r, -depth, t);
            }
        }
    }
}
