//! Border following as OpenCV's `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)` does it
//! (Suzuki & Abe, 1985), giving the same contours with the same points.
//!
//! Facts of OpenCV (`imgproc/src/contours.cpp`) reproduced here:
//! - the image is padded with one row/column of zeros on every side and binarised (non-zero → 1);
//! - a raster scan starts an outer border at a 1 preceded by a 0, and a hole border at a 0
//!   preceded by a positive (not right-bound) pixel; the hole's tracing starts on that left pixel;
//! - tracing: the first neighbour is searched from direction 3 (outer) or 7 (hole) going
//!   clockwise, then the border is followed counter-clockwise; visited pixels are marked 2, or
//!   −126 when they are a right bound, which is what stops later scans from starting there;
//! - `CHAIN_APPROX_SIMPLE` keeps a point only where the chain direction changes;
//! - a single-pixel component gives a one-point contour.
//!
//! [`find_contours`]' order differs from OpenCV's tree order; CheXlocalize fills every contour
//! onto one mask, so the order does not change the result. [`find_contours_list`] gives
//! `findContours(mask, RETR_LIST, method)` exactly, order included: OpenCV lists the borders in
//! the reverse of the raster-scan order in which they are found (`compute_pathology_features.py`
//! takes the first of the longest contours, so there the order matters).

use ndarray::Array2;

/// Neighbour offsets `(dx, dy)` of the 8 chain directions (0 = +x, 2 = up, 4 = −x, 6 = down).
const DELTAS: [(isize, isize); 8] = [
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

const RIGHT_BOUND: i8 = 2 | -128;
const VISITED: i8 = 2;

/// How a border is turned into points (OpenCV's `ContourApproximationModes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContourApprox {
    /// `CHAIN_APPROX_NONE`: every border pixel, one point per step of the chain.
    None,
    /// `CHAIN_APPROX_SIMPLE`: only the points where the chain direction changes.
    Simple,
}

/// The contours of the non-zero pixels of `mask` (row-major `(h, w)`), each as `(x, y)` points,
/// as `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)` (in raster-scan order).
pub fn find_contours(mask: &Array2<u8>) -> Vec<Vec<[i32; 2]>> {
    scan(mask, ContourApprox::Simple)
}

/// `findContours(mask, RETR_LIST, approx)`: every outer and hole border, in OpenCV's order (the
/// reverse of the raster scan that finds them), each as `(x, y)` points.
pub fn find_contours_list(mask: &Array2<u8>, approx: ContourApprox) -> Vec<Vec<[i32; 2]>> {
    let mut contours = scan(mask, approx);
    contours.reverse();
    contours
}

/// Every border of `mask` in the order the raster scan finds them.
fn scan(mask: &Array2<u8>, approx: ContourApprox) -> Vec<Vec<[i32; 2]>> {
    let (h, w) = mask.dim();
    let (ph, pw) = (h + 2, w + 2);
    let mut img = vec![0i8; ph * pw];
    for (r, row) in mask.rows().into_iter().enumerate() {
        let dst = &mut img[(r + 1) * pw + 1..(r + 1) * pw + 1 + w];
        for (d, &v) in dst.iter_mut().zip(row.iter()) {
            *d = i8::from(v != 0);
        }
    }
    let step = pw as isize;
    let offs: [isize; 8] = DELTAS.map(|(dx, dy)| dy * step + dx);
    let mut contours = Vec::new();
    for y in 1..ph - 1 {
        let mut prev: i8 = 0;
        for x in 1..pw - 1 {
            let p = img[y * pw + x];
            if p != prev {
                let is_hole = if prev == 0 && p == 1 {
                    Some(false)
                } else if p == 0 && prev >= 1 {
                    Some(true)
                } else {
                    None
                };
                if let Some(hole) = is_hole {
                    let sx = x - usize::from(hole);
                    let points = follow(
                        &mut img,
                        &offs,
                        y * pw + sx,
                        hole,
                        [sx as i32 - 1, y as i32 - 1],
                        approx,
                    );
                    contours.push(points);
                }
            }
            prev = img[y * pw + x];
        }
    }
    contours
}

/// Follows one border from pixel index `start` (OpenCV's `icvFetchContour`), marking it.
fn follow(
    img: &mut [i8],
    offs: &[isize; 8],
    start: usize,
    hole: bool,
    mut pt: [i32; 2],
    approx: ContourApprox,
) -> Vec<[i32; 2]> {
    let at = |i: usize, s: usize| (i as isize + offs[s & 7]) as usize;
    let mut points = Vec::new();
    let s_end0 = if hole { 0 } else { 4 };
    let mut s = s_end0;
    let mut i1;
    loop {
        s = (s + 7) & 7;
        i1 = at(start, s);
        if img[i1] != 0 || s == s_end0 {
            break;
        }
    }
    if img[i1] == 0 && s == s_end0 {
        img[start] = RIGHT_BOUND;
        points.push(pt);
        return points;
    }
    let mut i3 = start;
    let mut prev_s = s ^ 4;
    loop {
        let s_end = s;
        let mut i4;
        loop {
            s += 1;
            i4 = at(i3, s);
            if img[i4] != 0 {
                break;
            }
        }
        s &= 7;
        if s.wrapping_sub(1) < s_end {
            img[i3] = RIGHT_BOUND;
        } else if img[i3] == 1 {
            img[i3] = VISITED;
        }
        if s != prev_s || approx == ContourApprox::None {
            points.push(pt);
            prev_s = s;
        }
        pt[0] += DELTAS[s].0 as i32;
        pt[1] += DELTAS[s].1 as i32;
        if i4 == start && i3 == i1 {
            break;
        }
        i3 = i4;
        s = (s + 4) & 7;
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_has_its_four_corners() {
        let mut m = Array2::zeros((5, 6));
        for r in 1..4 {
            for c in 1..5 {
                m[[r, c]] = 1u8;
            }
        }
        // cv2.findContours(m, RETR_TREE, CHAIN_APPROX_SIMPLE)[0] == [[[1,1]],[[1,3]],[[4,3]],[[4,1]]]
        assert_eq!(
            find_contours(&m),
            vec![vec![[1, 1], [1, 3], [4, 3], [4, 1]]]
        );
    }

    #[test]
    fn single_pixel_and_empty() {
        let mut m = Array2::zeros((3, 3));
        assert!(find_contours(&m).is_empty());
        m[[1, 1]] = 1u8;
        assert_eq!(find_contours(&m), vec![vec![[1, 1]]]);
    }
}
