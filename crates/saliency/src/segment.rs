//! `cam_to_segmentation` of `heatmap_to_segmentation.py`: an upsampled heatmap to a binary mask,
//! with Otsu's threshold (OpenCV) and contour filling (OpenCV + Pillow), or a fixed threshold.

use chexlocalize_raster::{fill_polygon, find_contours};
use ndarray::{Array2, ArrayView2};

use crate::upsample::upsample_bilinear;

/// How a normalised heatmap becomes a mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Threshold {
    /// Otsu's method on the 8-bit heatmap, then every contour filled (the reference's default);
    /// with `smoothing: Some(k)`, the heatmap is first smoothed as `--if_smoothing True --k k`
    /// does (see [`smooth`](crate::smooth)).
    Otsu {
        /// Box filter size `k >= 1`, or `None` for no smoothing.
        smoothing: Option<usize>,
    },
    /// `normalised > t` (strict), compared in float64 as numpy compares a float32 array with
    /// the `np.float64` the reference reads from its CSV.
    Fixed(f64),
}

/// The reference's normalisation `(m - min(m)) / max(m - min(m))` in float32, as a function
/// of one value: returns `(min, range)` so that `(x - min) / range` is the normalised value.
///
/// torch semantics: any NaN makes min and max NaN; a constant map gives 0/0 = NaN everywhere.
/// `range = max - min` equals torch's `max(m - min)` because rounding is monotonic, so one read
/// pass suffices.
pub fn normalization(m: &Array2<f32>) -> (f32, f32) {
    let (mut lo, mut hi, mut nan) = (f32::INFINITY, f32::NEG_INFINITY, false);
    for &x in m {
        nan |= x.is_nan();
        lo = lo.min(x);
        hi = hi.max(x);
    }
    if nan {
        (f32::NAN, f32::NAN)
    } else {
        (lo, hi - lo)
    }
}

/// `np.uint8(255 * x)` of one normalised value: float32 product, truncated toward zero; NaN
/// becomes 0 (what numpy's cast gives on x86-64, and what makes a constant map's mask empty in
/// the reference).
pub fn quantize(x: f32) -> u8 {
    (255.0f32 * x) as u8
}

/// OpenCV's Otsu threshold of an 8-bit image given as its histogram (`getThreshVal_Otsu_8u`):
/// between-class variance in double precision, the first maximum wins, classes holding less
/// than `FLT_EPSILON` of the pixels are skipped; 0 for an image of one value.
pub fn otsu_threshold(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0;
    }
    let scale = 1.0 / total as f64;
    let mu = hist
        .iter()
        .enumerate()
        .map(|(i, &h)| i as f64 * h as f64)
        .sum::<f64>()
        * scale;
    let (mut mu1, mut q1) = (0.0f64, 0.0f64);
    let (mut max_sigma, mut max_val) = (0.0f64, 0u8);
    let eps = f64::from(f32::EPSILON);
    for (i, &h) in hist.iter().enumerate() {
        let p_i = h as f64 * scale;
        mu1 *= q1;
        q1 += p_i;
        let q2 = 1.0 - q1;
        if q1.min(q2) < eps || q1.max(q2) > 1.0 - eps {
            continue;
        }
        mu1 = (mu1 + i as f64 * p_i) / q1;
        let mu2 = (mu - q1 * mu1) / q2;
        let sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
        if sigma > max_sigma {
            max_sigma = sigma;
            max_val = i as u8;
        }
    }
    max_val
}

/// The reference's segmentation of a raw heatmap for a `height × width` X-ray.
pub fn segment(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> Array2<u8> {
    let m = upsample_bilinear(map, height, width);
    // `normalize` in one read pass: the max of the rounded differences `x - min` is the rounded
    // difference of the max, rounding being monotonic, so no intermediate array is needed.
    let (mut lo, mut hi, mut nan) = (f32::INFINITY, f32::NEG_INFINITY, false);
    for &x in &m {
        nan |= x.is_nan();
        lo = lo.min(x);
        hi = hi.max(x);
    }
    let (min, range) = if nan {
        (f32::NAN, f32::NAN)
    } else {
        (lo, hi - lo)
    };
    let norm = |x: f32| (x - min) / range;
    match threshold {
        Threshold::Fixed(t) => m.mapv(|x| u8::from(f64::from(norm(x)) > t)),
        Threshold::Otsu { smoothing: None } => otsu_fill(&m.mapv(|x| (255.0f32 * norm(x)) as u8)),
        Threshold::Otsu { smoothing: Some(k) } => otsu_fill(&crate::smooth::smooth(
            &m.mapv(|x| (255.0f32 * norm(x)) as u8),
            k,
        )),
    }
}

/// `cv2.threshold(q, 0, q.max(), THRESH_OTSU)`, then `findContours(RETR_TREE,
/// CHAIN_APPROX_SIMPLE)` and every contour of more than one point filled with Pillow's polygon
/// fill (holes included, as the reference does).
pub fn otsu_fill(q: &Array2<u8>) -> Array2<u8> {
    let mut hist = [0u64; 256];
    q.iter().for_each(|&v| hist[usize::from(v)] += 1);
    let t = otsu_threshold(&hist);
    let maxval = q.iter().copied().max().unwrap_or(0);
    let binary = q.mapv(|v| if v > t { maxval } else { 0 });
    let mut mask = Array2::zeros(q.dim());
    for contour in find_contours(&binary) {
        if contour.len() > 1 {
            fill_polygon(&mut mask, &contour);
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_maps_give_empty_masks() {
        let map = Array2::from_elem((4, 4), 0.25f32);
        assert_eq!(
            segment(map.view(), 200, 150, Threshold::Otsu { smoothing: None })
                .iter()
                .filter(|&&v| v != 0)
                .count(),
            0
        );
        assert_eq!(
            segment(map.view(), 200, 150, Threshold::Fixed(0.2))
                .iter()
                .filter(|&&v| v != 0)
                .count(),
            0
        );
    }
}
