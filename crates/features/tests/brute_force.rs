//! Property tests against slow, obvious geometry: the hull's vertex set is the set of strictly
//! extreme points found by brute force, and the rectangle's area is the smallest of the
//! rectangles aligned with each hull edge (computed in f64), up to float32 rounding.

use chexlocalize_features::{Orientation, convex_hull, min_area_rect};
use proptest::prelude::*;

fn cross(o: [i32; 2], a: [i32; 2], b: [i32; 2]) -> i64 {
    let (ax, ay) = (i64::from(a[0] - o[0]), i64::from(a[1] - o[1]));
    let (bx, by) = (i64::from(b[0] - o[0]), i64::from(b[1] - o[1]));
    ax * by - ay * bx
}

/// A point is a hull vertex iff some line through it has every other distinct point strictly on
/// one side: equivalently it is not inside (or on an edge of) any triangle / segment of others.
fn brute_hull(pts: &[[i32; 2]]) -> Vec<[i32; 2]> {
    let mut uniq: Vec<[i32; 2]> = pts.to_vec();
    uniq.sort();
    uniq.dedup();
    let covered = |p: [i32; 2]| {
        let others: Vec<[i32; 2]> = uniq.iter().copied().filter(|&q| q != p).collect();
        let on_segment = |a: [i32; 2], b: [i32; 2]| {
            cross(a, b, p) == 0
                && p[0] >= a[0].min(b[0])
                && p[0] <= a[0].max(b[0])
                && p[1] >= a[1].min(b[1])
                && p[1] <= a[1].max(b[1])
        };
        for i in 0..others.len() {
            for j in i + 1..others.len() {
                if on_segment(others[i], others[j]) {
                    return true;
                }
                for k in j + 1..others.len() {
                    let (a, b, c) = (others[i], others[j], others[k]);
                    let (d1, d2, d3) = (cross(a, b, p), cross(b, c, p), cross(c, a, p));
                    let neg = d1 < 0 || d2 < 0 || d3 < 0;
                    let pos = d1 > 0 || d2 > 0 || d3 > 0;
                    if !(neg && pos) && cross(a, b, c) != 0 {
                        return true;
                    }
                }
            }
        }
        false
    };
    let mut v: Vec<[i32; 2]> = uniq.iter().copied().filter(|&p| !covered(p)).collect();
    v.sort();
    v
}

fn brute_min_area(hull: &[[i32; 2]]) -> f64 {
    let n = hull.len();
    let mut best = f64::INFINITY;
    for i in 0..n {
        let (a, b) = (hull[i], hull[(i + 1) % n]);
        let (ex, ey) = (f64::from(b[0] - a[0]), f64::from(b[1] - a[1]));
        let len = (ex * ex + ey * ey).sqrt();
        let (ux, uy) = (ex / len, ey / len);
        let (mut lo, mut hi, mut lo2, mut hi2) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in hull {
            let (x, y) = (f64::from(p[0]), f64::from(p[1]));
            let (s, t) = (x * ux + y * uy, -x * uy + y * ux);
            (lo, hi, lo2, hi2) = (lo.min(s), hi.max(s), lo2.min(t), hi2.max(t));
        }
        best = best.min((hi - lo) * (hi2 - lo2));
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn hull_and_rectangle_match_brute_force(
        pts in proptest::collection::vec((0i32..40, 0i32..40), 1..25)
    ) {
        let pts: Vec<[i32; 2]> = pts.into_iter().map(|(x, y)| [x, y]).collect();
        let want = brute_hull(&pts);
        for cw in [Orientation::Clockwise, Orientation::CounterClockwise] {
            let mut got = convex_hull(&pts, cw);
            got.sort();
            prop_assert_eq!(&got, &want);
        }
        let hull = convex_hull(&pts, Orientation::CounterClockwise);
        if hull.len() >= 3 {
            let r = min_area_rect(&pts);
            let area = f64::from(r.width) * f64::from(r.height);
            let best = brute_min_area(&hull);
            prop_assert!((area - best).abs() <= 1e-4 * best.max(1.0), "{} vs {}", area, best);
        }
    }
}
