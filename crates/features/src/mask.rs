//! The geometric features of one ground-truth mask, as `compute_pathology_features.py`'s
//! `get_geometric_features` computes them.

use chexlocalize_raster::{ContourApprox, find_contours_list};
use ndarray::Array2;

use crate::rect::{contour_area, min_area_rect};

/// Shape features of one non-empty mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MaskFeatures {
    /// Number of borders (outer and holes) that OpenCV's `findContours(RETR_LIST)` finds.
    pub n_contours: usize,
    /// Mask pixels / image pixels.
    pub area_ratio: f64,
    /// Long side / short side of the minimum-area rectangle of the longest contour; NaN when the
    /// rectangle is degenerate (see [`MaskFeatures::degenerate`]).
    pub elongation: f64,
    /// `contourArea` of the longest contour / the rectangle's area; NaN when degenerate.
    pub rec_area_ratio: f64,
    /// Number of points of the longest contour.
    pub longest_contour_len: usize,
    /// The longest contour's rectangle has a zero side (a single pixel, or a contour whose hull is
    /// a segment: a 1-pixel-wide line). The reference divides by zero there and crashes.
    pub degenerate: bool,
}

/// The features of `mask` (row-major `(h, w)`, non-zero = inside), or `None` when it is empty.
///
/// Parity with `get_geometric_features`:
/// - contours are `findContours(mask, RETR_LIST, CHAIN_APPROX_NONE)`; the longest is the FIRST
///   contour with the most points in OpenCV's order (`np.argmax`);
/// - `elongation = max(w, h) / min(w, h)` and `rec_area_ratio = contourArea / (w * h)` in double
///   from `minAreaRect`'s float32 sides, as Python does with the floats OpenCV returns;
/// - `area_ratio` is the pixel count over `h * w`, as numpy's true division.
pub fn mask_features(mask: &Array2<u8>) -> Option<MaskFeatures> {
    let pixels = mask.iter().filter(|&&v| v != 0).count();
    mask_features_in(mask, (0, 0), mask.dim(), pixels)
}

/// [`mask_features`] of an image of `image = (h, w)` pixels with `pixels` set pixels (an RLE's
/// area), every one of them in `crop`, the part of the image starting at row and column
/// `offset`: the same numbers, without touching the rest of the image.
///
/// The contours are found in the crop and moved by the offset before anything is measured, so
/// `minAreaRect`'s float32 arithmetic sees the very coordinates of the full image. (Border
/// following pads the image with zeros, so a crop holding every set pixel has the image's
/// contours, in the same raster order.)
pub fn mask_features_in(
    crop: &Array2<u8>,
    offset: (usize, usize),
    image: (usize, usize),
    pixels: usize,
) -> Option<MaskFeatures> {
    let (h, w) = image;
    if pixels == 0 {
        return None;
    }
    let (dy, dx) = (offset.0 as i32, offset.1 as i32);
    let mut contours = find_contours_list(crop, ContourApprox::None);
    if (dy, dx) != (0, 0) {
        for p in contours.iter_mut().flatten() {
            *p = [p[0] + dx, p[1] + dy];
        }
    }
    let mut longest = 0usize;
    for (i, c) in contours.iter().enumerate() {
        if c.len() > contours[longest].len() {
            longest = i;
        }
    }
    let cnt = &contours[longest];
    let rect = min_area_rect(cnt);
    let (rw, rh) = (f64::from(rect.width), f64::from(rect.height));
    let degenerate = rw == 0.0 || rh == 0.0;
    let (elongation, rec_area_ratio) = if degenerate {
        (f64::NAN, f64::NAN)
    } else {
        (rw.max(rh) / rw.min(rh), contour_area(cnt) / (rw * rh))
    };
    Some(MaskFeatures {
        n_contours: contours.len(),
        area_ratio: pixels as f64 / (h * w) as f64,
        elongation,
        rec_area_ratio,
        longest_contour_len: cnt.len(),
        degenerate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_single_pixel_and_line() {
        let mut m = Array2::zeros((5, 6));
        assert_eq!(mask_features(&m), None);
        m[[2, 3]] = 1u8;
        let f = mask_features(&m).expect("one pixel");
        assert!(f.degenerate && f.elongation.is_nan() && f.rec_area_ratio.is_nan());
        assert_eq!((f.n_contours, f.area_ratio), (1, 1.0 / 30.0));
        for c in 0..6 {
            m[[2, c]] = 1;
        }
        let f = mask_features(&m).expect("a line");
        assert!(f.degenerate && f.elongation.is_nan());
    }

    #[test]
    fn a_rectangle() {
        // cv2.minAreaRect of the contour of a 3x5 block: sides 2 and 4 (pixel centres);
        // contourArea 8, so rec_area_ratio 1.
        let mut m = Array2::zeros((6, 8));
        for r in 1..4 {
            for c in 2..7 {
                m[[r, c]] = 1u8;
            }
        }
        let f = mask_features(&m).expect("block");
        assert_eq!((f.elongation, f.rec_area_ratio), (2.0, 1.0));
        assert_eq!(f.longest_contour_len, 12);
    }
}
