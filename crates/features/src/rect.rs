//! `minAreaRect` and `contourArea` as OpenCV computes them, float32 rounding included.

use crate::hull::{Orientation, convex_hull};

/// A rotated rectangle (`cv::RotatedRect`): centre, side lengths and angle, all float32 as in
/// OpenCV.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RotatedRect {
    /// Centre `(x, y)`.
    pub center: [f32; 2],
    /// First side length (OpenCV's `size.width`).
    pub width: f32,
    /// Second side length (OpenCV's `size.height`).
    pub height: f32,
}

/// The minimum-area rectangle enclosing `points`, exactly as OpenCV's `minAreaRect` finds it:
/// the convex hull (counter-clockwise, see [`convex_hull`](crate::convex_hull)) converted to float32, then
/// rotating calipers in float32.
///
/// Facts of OpenCV (`imgproc/src/rotcalipers.cpp`) reproduced here:
/// - edge vectors are float32 differences; their inverse lengths are `1/sqrt` in double, rounded
///   to float32;
/// - the hull's orientation is the sign of the first non-zero cross product of consecutive edges;
///   the four calipers start at the first strictly lowest, rightmost, highest and leftmost hull
///   vertices;
/// - at each of the `n` steps the caliper whose edge makes the smallest angle with it is chosen by
///   the sign of a float32 dot product with the others (the first caliper wins ties), the base
///   vector becomes that unit edge (float32 products), and the rectangle's width and height are
///   float32 dot products of the caliper points' differences with the base;
/// - a rectangle replaces the best one when its float32 area is `<=` the best (so the LAST of
///   equal areas wins);
/// - side lengths are `sqrt` in double of the float32 side vectors, rounded to float32.
///
/// A hull of two points gives a zero-height rectangle along them; one point (or none) gives a
/// zero-size rectangle. (OpenCV 5 also swaps the sides and normalises the angle afterwards; the
/// side lengths as a pair are the same, and CheXlocalize only uses their ratio and product.)
pub fn min_area_rect(points: &[[i32; 2]]) -> RotatedRect {
    let hull: Vec<[f32; 2]> = convex_hull(points, Orientation::CounterClockwise)
        .into_iter()
        .map(|[x, y]| [x as f32, y as f32])
        .collect();
    match hull.len() {
        0 => RotatedRect {
            center: [0.0; 2],
            width: 0.0,
            height: 0.0,
        },
        1 => RotatedRect {
            center: hull[0],
            width: 0.0,
            height: 0.0,
        },
        2 => {
            let (a, b) = (hull[0], hull[1]);
            let (dx, dy) = (f64::from(b[0] - a[0]), f64::from(b[1] - a[1]));
            RotatedRect {
                center: [(a[0] + b[0]) * 0.5, (a[1] + b[1]) * 0.5],
                width: (dx * dx + dy * dy).sqrt() as f32,
                height: 0.0,
            }
        }
        _ => calipers(&hull),
    }
}

/// The rotating calipers on a hull of at least 3 float32 points.
fn calipers(p: &[[f32; 2]]) -> RotatedRect {
    let n = p.len();
    let mut vect = vec![[0f32; 2]; n];
    let mut inv_len = vec![0f32; n];
    let (mut left, mut bottom, mut right, mut top) = (0usize, 0usize, 0usize, 0usize);
    let (mut left_x, mut right_x, mut top_y, mut bottom_y) = (p[0][0], p[0][0], p[0][1], p[0][1]);
    for i in 0..n {
        let pt0 = p[i];
        if pt0[0] < left_x {
            left_x = pt0[0];
            left = i;
        }
        if pt0[0] > right_x {
            right_x = pt0[0];
            right = i;
        }
        if pt0[1] > top_y {
            top_y = pt0[1];
            top = i;
        }
        if pt0[1] < bottom_y {
            bottom_y = pt0[1];
            bottom = i;
        }
        let pt = p[(i + 1) % n];
        let (dx, dy) = (f64::from(pt[0] - pt0[0]), f64::from(pt[1] - pt0[1]));
        vect[i] = [dx as f32, dy as f32];
        inv_len[i] = (1.0 / (dx * dx + dy * dy).sqrt()) as f32;
    }
    // Orientation: the sign of the first non-zero cross product of consecutive edges (double).
    let mut orientation = 0f32;
    let (mut ax, mut ay) = (f64::from(vect[n - 1][0]), f64::from(vect[n - 1][1]));
    for v in &vect {
        let (bx, by) = (f64::from(v[0]), f64::from(v[1]));
        let cross = ax * by - ay * bx;
        if cross != 0.0 {
            orientation = if cross > 0.0 { 1.0 } else { -1.0 };
            break;
        }
        (ax, ay) = (bx, by);
    }
    let (mut base_a, mut base_b) = (orientation, 0f32);
    let mut seq = [bottom, right, top, left];
    let mut min_area = f32::MAX;
    // Best so far: left point, base, width, height, bottom point.
    let mut best = (seq[3], base_a, 0f32, base_b, 0f32, seq[0]);
    // `a` is clockwise of (to the right of) `b`: a rotated by -90° has a negative dot with b.
    let is_right = |a: [f32; 2], b: [f32; 2]| a[1] * b[0] + (-a[0]) * b[1] < 0.0;
    for _ in 0..n {
        let rot = [
            vect[seq[0]],
            [vect[seq[1]][1], -vect[seq[1]][0]],
            [-vect[seq[2]][0], -vect[seq[2]][1]],
            [-vect[seq[3]][1], vect[seq[3]][0]],
        ];
        let mut main = 0usize;
        for i in 1..4 {
            if is_right(rot[i], rot[main]) {
                main = i;
            }
        }
        let k = seq[main];
        let (lead_x, lead_y) = (vect[k][0] * inv_len[k], vect[k][1] * inv_len[k]);
        (base_a, base_b) = match main {
            0 => (lead_x, lead_y),
            1 => (lead_y, -lead_x),
            2 => (-lead_x, -lead_y),
            _ => (-lead_y, lead_x),
        };
        seq[main] = if seq[main] + 1 == n { 0 } else { seq[main] + 1 };
        let (dx, dy) = (p[seq[1]][0] - p[seq[3]][0], p[seq[1]][1] - p[seq[3]][1]);
        let width = dx * base_a + dy * base_b;
        let (dx, dy) = (p[seq[2]][0] - p[seq[0]][0], p[seq[2]][1] - p[seq[0]][1]);
        let height = -dx * base_b + dy * base_a;
        let area = width * height;
        if area <= min_area {
            min_area = area;
            best = (seq[3], base_a, width, base_b, height, seq[0]);
        }
    }
    let (li, a1, width, b1, height, bi) = best;
    let (a2, b2) = (-b1, a1);
    let c1 = a1 * p[li][0] + p[li][1] * b1;
    let c2 = a2 * p[bi][0] + p[bi][1] * b2;
    let idet = 1.0f32 / (a1 * b2 - a2 * b1);
    let px = (c1 * b2 - c2 * b1) * idet;
    let py = (a1 * c2 - a2 * c1) * idet;
    let v1 = [a1 * width, b1 * width];
    let v2 = [a2 * height, b2 * height];
    let len = |v: [f32; 2]| {
        let (x, y) = (f64::from(v[0]), f64::from(v[1]));
        (x * x + y * y).sqrt() as f32
    };
    RotatedRect {
        center: [px + (v1[0] + v2[0]) * 0.5, py + (v1[1] + v2[1]) * 0.5],
        width: len(v1),
        height: len(v2),
    }
}

/// The area of a polygon, as OpenCV's `contourArea(points, oriented=false)`: the shoelace sum in
/// double of the float32-converted points, halved, absolute. Exact for integer contours.
pub fn contour_area(points: &[[i32; 2]]) -> f64 {
    let Some(&last) = points.last() else {
        return 0.0;
    };
    let f = |p: [i32; 2]| (f64::from(p[0] as f32), f64::from(p[1] as f32));
    let mut prev = f(last);
    let mut sum = 0.0f64;
    for &q in points {
        let cur = f(q);
        sum += prev.0 * cur.1 - prev.1 * cur.0;
        prev = cur;
    }
    (sum * 0.5).abs()
}
