//! The convex hull of integer points as OpenCV's `convexHull(points, clockwise, returnPoints=true)`
//! returns it: the same vertices, in the same direction, from the same first vertex.
//!
//! Facts of OpenCV (`imgproc/src/convhull.cpp`) reproduced here, because `minAreaRect` walks the
//! hull from its first vertex and keeps the LAST of equally small rectangles, so the start and the
//! direction decide which float32 rectangle comes out:
//! - the points are ordered by x, then y, then input index; the lowest and highest points are the
//!   first sorted points with the minimum / maximum y;
//! - Sklansky's scan builds four monotone chains (upper left/right towards the highest point,
//!   lower left/right towards the lowest), dropping collinear and duplicate points; the chains
//!   are joined into a hull in the requested direction, starting at the leftmost point; when all
//!   points are collinear the lower half mirrors the upper one and is cut to its end points;
//! - finally the hull is rotated so that its input indices run ascending or descending, when some
//!   rotation does that (for a contour: the vertex found first along the contour comes first).

/// `CV_SIGN`.
fn sign(x: i64) -> i32 {
    i32::from(x > 0) - i32::from(x < 0)
}

/// One monotone chain of Sklansky's scan from sorted position `start` to `end` (inclusive).
/// Returns sorted positions. `nsign`: the sign of `dy` that skips a point; `sign2`: the sign of a
/// convex turn.
fn sklansky(p: &[[i32; 2]], start: usize, end: usize, nsign: i32, sign2: i32) -> Vec<usize> {
    if start == end || p[start] == p[end] {
        return vec![start];
    }
    let incr: isize = if end > start { 1 } else { -1 };
    let at = |i: isize| p[i as usize];
    let (mut pprev, mut pcur) = (start as isize, start as isize + incr);
    let mut pnext = pcur + incr;
    let after_end = end as isize + incr;
    let mut stack: Vec<isize> = vec![pprev, pcur, pnext];
    let mut size = 3usize;
    let set = |stack: &mut Vec<isize>, i: usize, v: isize| {
        if i == stack.len() {
            stack.push(v);
        } else {
            stack[i] = v;
        }
    };
    while pnext != after_end {
        let (prev, cur, next) = (at(pprev), at(pcur), at(pnext));
        let by = i64::from(next[1]) - i64::from(cur[1]);
        if sign(by) != nsign {
            let ax = i64::from(cur[0]) - i64::from(prev[0]);
            let bx = i64::from(next[0]) - i64::from(cur[0]);
            let ay = i64::from(cur[1]) - i64::from(prev[1]);
            let convexity = ay * bx - ax * by;
            if sign(convexity) == sign2 && (ax != 0 || ay != 0) {
                pprev = pcur;
                pcur = pnext;
                pnext += incr;
                set(&mut stack, size, pnext);
                size += 1;
            } else if pprev == start as isize {
                pcur = pnext;
                stack[1] = pcur;
                pnext += incr;
                stack[2] = pnext;
            } else {
                stack[size - 2] = pnext;
                pcur = pprev;
                pprev = stack[size - 4];
                size -= 1;
            }
        } else {
            pnext += incr;
            stack[size - 1] = pnext;
        }
    }
    stack[..size - 1].iter().map(|&i| i as usize).collect()
}

/// The direction a hull is walked in, as OpenCV's `convexHull(points, clockwise)` means it: with
/// the x axis pointing right and the y axis pointing up (OpenCV's documented convention; on an
/// image, where y points down, each direction looks reversed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Orientation {
    /// `clockwise=true`.
    Clockwise,
    /// `clockwise=false`, OpenCV's default: `[0, 0], [4, 0], [4, 4], [0, 4]` for a square.
    CounterClockwise,
}

/// The input indices of the convex hull of `points`, as OpenCV's `convexHull(points, clockwise,
/// returnPoints=false)` orders them before returning points, walked in `orientation`. Empty for
/// no points; one index when all points coincide.
pub fn convex_hull_indices(points: &[[i32; 2]], orientation: Orientation) -> Vec<usize> {
    let clockwise = orientation == Orientation::Clockwise;
    let total = points.len();
    if total == 0 {
        return Vec::new();
    }
    let mut order: Vec<usize> = (0..total).collect();
    order.sort_by_key(|&i| (points[i][0], points[i][1], i));
    let p: Vec<[i32; 2]> = order.iter().map(|&i| points[i]).collect();
    let (mut miny, mut maxy) = (0usize, 0usize);
    for i in 1..total {
        let y = p[i][1];
        if p[miny][1] > y {
            miny = i;
        }
        if p[maxy][1] < y {
            maxy = i;
        }
    }
    if p[0] == p[total - 1] {
        return vec![order[0]];
    }
    let mut hull: Vec<usize> = Vec::with_capacity(total);
    // Upper half.
    let (mut tl, mut tr) = (
        sklansky(&p, 0, maxy, -1, 1),
        sklansky(&p, total - 1, maxy, -1, -1),
    );
    if !clockwise {
        std::mem::swap(&mut tl, &mut tr);
    }
    hull.extend(tl[..tl.len() - 1].iter().map(|&i| order[i]));
    hull.extend(tr[1..].iter().rev().map(|&i| order[i]));
    let stop = if tr.len() > 2 {
        Some(tr[1])
    } else if tl.len() > 2 {
        Some(tl[tl.len() - 2])
    } else {
        None
    };
    // Lower half.
    let (mut bl, mut br) = (
        sklansky(&p, 0, miny, 1, -1),
        sklansky(&p, total - 1, miny, 1, 1),
    );
    if clockwise {
        std::mem::swap(&mut bl, &mut br);
    }
    if let Some(stop) = stop {
        let check = if bl.len() > 2 {
            Some(bl[1])
        } else if bl.len() + br.len() > 2 {
            Some(br[2 - bl.len()])
        } else {
            None
        };
        if check.is_some_and(|c| c == stop || p[c] == p[stop]) {
            // All points on one line: the lower half mirrors the upper half.
            bl.truncate(2);
            br.truncate(2);
        }
    }
    hull.extend(bl[..bl.len() - 1].iter().map(|&i| order[i]));
    hull.extend(br[1..].iter().rev().map(|&i| order[i]));
    rotate_to_monotone(&mut hull);
    hull
}

/// OpenCV's last step: when a rotation of the hull makes its input indices ascending (or
/// descending) all the way round, start at the smallest (or largest) index.
fn rotate_to_monotone(hull: &mut Vec<usize>) {
    let n = hull.len();
    if n < 3 {
        return;
    }
    let (mut min_i, mut max_i, mut lt) = (0usize, 0usize, 0usize);
    for i in 1..n {
        let idx = hull[i];
        lt += usize::from(hull[i - 1] < idx);
        if lt > 1 && lt + 2 <= i {
            break;
        }
        if idx < hull[min_i] {
            min_i = i;
        }
        if idx > hull[max_i] {
            max_i = i;
        }
    }
    let dist = max_i.abs_diff(min_i);
    if !((dist == 1 || dist == n - 1) && (lt <= 1 || lt + 2 >= n)) {
        return;
    }
    let ascending = (max_i + 1) % n == min_i;
    let i0 = if ascending { min_i } else { max_i };
    if i0 == 0 {
        return;
    }
    let rotated: Vec<usize> = (0..n).map(|k| hull[(i0 + k) % n]).collect();
    let monotone = rotated.windows(2).all(|w| ascending == (w[0] < w[1]));
    if monotone {
        *hull = rotated;
    }
}

/// The convex hull of `points` as OpenCV's `convexHull(points, clockwise)` returns it, walked in
/// `orientation`.
pub fn convex_hull(points: &[[i32; 2]], orientation: Orientation) -> Vec<[i32; 2]> {
    convex_hull_indices(points, orientation)
        .into_iter()
        .map(|i| points[i])
        .collect()
}
