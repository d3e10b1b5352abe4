//! `cam_to_segmentation` of `heatmap_to_segmentation.py`: an upsampled heatmap to a binary mask,
//! with Otsu's threshold (OpenCV) and contour filling (OpenCV + Pillow), or a fixed threshold.
//!
//! Parity rules kept here: the strict `>` of both thresholds, and that every contour, holes
//! included, is filled; the scalar steps (float32 normalisation, numpy's `uint8` cast, OpenCV's
//! Otsu) are in the `threshold` module, Otsu's histogram in `histogram`.

use chexlocalize_raster::{BorderImage, RowRuns, RowSpans};
use chexlocalize_rle::{Rle, RleError};
use ndarray::{Array2, ArrayView2};

use crate::cells::Class;
use crate::dispatch::{Fma, Job, dispatch};
use crate::engine::Upsampled;
use crate::fill::fill_contours;
use crate::histogram::Histogram;
use crate::parallel::Parallelism;
use crate::smoothed::SmoothedOtsu;
use crate::threshold::{Threshold, first_where, otsu_threshold, quantize_fast};

/// The reference's segmentation of a raw heatmap for a `height × width` X-ray, as a dense
/// row-major mask (0/1). See [`segment_runs`].
pub fn segment(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> Array2<u8> {
    segment_runs(map, height, width, threshold).to_mask()
}

/// [`segment`] as a pycocotools RLE, built from the row runs without a dense mask. Fails only
/// for masks of more than `u32::MAX` pixels, which pycocotools cannot encode.
pub fn segment_rle(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> Result<Rle, RleError> {
    let runs = segment_runs(map, height, width, threshold);
    Rle::from_row_runs(height, width, runs.rows())
}

/// [`segment_runs`] on this thread.
pub fn segment_runs(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> RowRuns {
    segment_runs_with(map, height, width, threshold, Parallelism::Sequential)
}

/// The reference's segmentation of a raw heatmap for a `height × width` X-ray, as the runs of
/// each row: the same pixels as [`reference::segment`](crate::reference::segment), computed
/// without the full-size float image.
///
/// How: the map is prepared once ([`Upsampled`]), its exact minimum and maximum found in one
/// pass over the rows, and every threshold on normalised or 8-bit values turned into one
/// threshold on raw upsampled values (the normalisation and the 8-bit cast are monotonic), so
/// the binary image is a comparison per pixel. Otsu's histogram is counted in runs of equal
/// 8-bit values; the binary image goes into a [`BorderImage`] for the contours, whose filling is
/// recorded as spans.
///
/// Maps with a NaN, or constant maps, give empty masks without smoothing (every normalised
/// value is NaN), as in the reference; maps with infinities take the straightforward path.
/// `parallelism` says whether the smoothed image may be made on two threads (see
/// [`Parallelism`]); the other modes run on the calling thread either way.
pub fn segment_runs_with(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
    parallelism: Parallelism,
) -> RowRuns {
    let up = Upsampled::new(map, height, width);
    let extremes = up.extremes();
    if let Threshold::Otsu { smoothing: Some(k) } = threshold {
        let (min, range) = up.normalization();
        // Below this raw value every pixel is 0 in 8 bits (the flat parts the filter skips).
        let zero_below = match extremes {
            Some((lo, hi)) if lo.is_finite() && hi.is_finite() => {
                first_where(lo, hi, |v| quantize_fast(v, min, range) > 0).unwrap_or(f32::INFINITY)
            }
            _ => f32::NEG_INFINITY,
        };
        return SmoothedOtsu {
            up: &up,
            min,
            range,
            k,
            zero_below,
        }
        .segment(parallelism);
    }
    let empty = || RowSpans::new(height, width).into_rows();
    let Some((lo, hi)) = extremes else {
        return empty(); // NaN somewhere, or nothing to segment
    };
    let (min, range) = (lo, hi - lo);
    if range == 0.0 {
        return empty(); // constant: 0/0 everywhere
    }
    if !(lo.is_finite() && hi.is_finite() && range.is_finite()) {
        return RowRuns::from_mask(&crate::reference::segment(map, height, width, threshold));
    }
    match threshold {
        Threshold::Fixed(t) => fixed_runs(&up, lo, hi, t),
        Threshold::Otsu { .. } => {
            let hist = dispatch(Histogram::new(&up, lo, hi));
            let t = otsu_threshold(&hist);
            // OpenCV sets `q > t` to maxval = q.max() = 255 (the maximum normalises to 1), so
            // the binary image is `q > t`, i.e. `v >= vt`.
            let Some(vt) = first_where(lo, hi, |v| quantize_fast(v, min, range) > t) else {
                return empty();
            };
            dispatch(Binarize { up: &up, vt })
        }
    }
}

/// The masks `normalised > t` for every `t` of `thresholds` (as [`Threshold::Fixed`]), from one
/// upsampling of the map: what tuning the fixed threshold needs (`tune_heatmap_threshold.py`
/// upsamples the map again for every threshold). Each mask costs a pass over the cells and the
/// pixels near its boundary only.
///
/// ```
/// use chexlocalize_saliency::{Threshold, segment_runs, segment_thresholds};
/// use ndarray::array;
///
/// let map = array![[0.0f32, 0.2], [0.1, 0.9]];
/// let masks = segment_thresholds(map.view(), 40, 50, &[0.2, 0.5]);
/// assert_eq!(masks[1], segment_runs(map.view(), 40, 50, Threshold::Fixed(0.5)));
/// assert!(masks[0].area() > masks[1].area());
/// ```
pub fn segment_thresholds(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    thresholds: &[f64],
) -> Vec<RowRuns> {
    let up = Upsampled::new(map, height, width);
    let empty = || RowSpans::new(height, width).into_rows();
    let Some((lo, hi)) = up.extremes() else {
        return thresholds.iter().map(|_| empty()).collect();
    };
    if hi - lo == 0.0 {
        return thresholds.iter().map(|_| empty()).collect();
    }
    if !(lo.is_finite() && hi.is_finite() && (hi - lo).is_finite()) {
        return thresholds
            .iter()
            .map(|&t| {
                RowRuns::from_mask(&crate::reference::segment(
                    map,
                    height,
                    width,
                    Threshold::Fixed(t),
                ))
            })
            .collect();
    }
    thresholds
        .iter()
        .map(|&t| fixed_runs(&up, lo, hi, t))
        .collect()
}

/// `normalised > t` of a finite, non-constant map with extremes `lo < hi`.
fn fixed_runs(up: &Upsampled, lo: f32, hi: f32, t: f64) -> RowRuns {
    let (min, range) = (lo, hi - lo);
    match first_where(lo, hi, |v| f64::from((v - min) / range) > t) {
        Some(vt) => dispatch(ThresholdRuns { up, vt }),
        None => {
            let (h, w) = up.dim();
            RowSpans::new(h, w).into_rows()
        }
    }
}

/// Row `oh` of the binary image `v >= vt` into `bits`, computing only the mixed ranges.
#[inline(always)]
fn binary_row<F: Fma>(
    up: &Upsampled,
    oh: usize,
    vt: f32,
    ranges: &[(usize, usize, Class)],
    v: &mut [f32],
    bits: &mut [u8],
) {
    for &(a, b, class) in ranges {
        match class {
            Class::Below => bits[a..b].fill(0),
            Class::Above => bits[a..b].fill(1),
            Class::Mixed => {
                up.row_range_with::<F>(oh, a, b, v);
                for (bit, &x) in bits[a..b].iter_mut().zip(&v[..b - a]) {
                    *bit = u8::from(x >= vt);
                }
            }
        }
    }
}

/// The binary image `v >= vt`, cropped to the bounding box of the cells that may hold
/// foreground (the rest is background, and OpenCV's border following only sees zeros there
/// either way), then its contours filled.
struct Binarize<'a> {
    up: &'a Upsampled,
    vt: f32,
}

impl Job for Binarize<'_> {
    type Output = RowRuns;

    #[inline(always)]
    fn run<F: Fma>(self) -> RowRuns {
        let (h, w) = self.up.dim();
        let groups = self.up.row_groups();
        // Every group's ranges in one vector: group `gy`'s are `all[at[gy]..at[gy + 1]]`.
        let (mut all, mut at, mut ranges) = (Vec::new(), vec![0], Vec::new());
        let (mut x0, mut x1, mut y0, mut y1) = (w, 0, h, 0);
        for (gy, &(start, end)) in groups.iter().enumerate() {
            self.up.ranges(gy, self.vt, &mut ranges);
            for &(a, b, class) in &ranges {
                if class != Class::Below {
                    (x0, x1, y0, y1) = (x0.min(a), x1.max(b), y0.min(start), y1.max(end));
                }
            }
            all.extend_from_slice(&ranges);
            at.push(all.len());
        }
        if x0 >= x1 || y0 >= y1 {
            return RowSpans::new(h, w).into_rows();
        }
        let mut img = BorderImage::new(y1 - y0, x1 - x0);
        let (mut v, mut bits) = (vec![0f32; w], vec![0u8; w]);
        for (gy, &(start, end)) in groups.iter().enumerate() {
            // Only the columns of the crop.
            ranges.clear();
            ranges.extend(all[at[gy]..at[gy + 1]].iter().filter_map(|&(a, b, class)| {
                let (a, b) = (a.max(x0), b.min(x1));
                (a < b).then_some((a, b, class))
            }));
            for oh in start.max(y0)..end.min(y1) {
                binary_row::<F>(self.up, oh, self.vt, &ranges, &mut v, &mut bits);
                img.set_row(oh - y0, &bits[x0..x1]);
            }
        }
        fill_contours(img, h, w, [x0 as i32, y0 as i32])
    }
}

/// The runs of `v >= vt` of every row.
struct ThresholdRuns<'a> {
    up: &'a Upsampled,
    vt: f32,
}

impl Job for ThresholdRuns<'_> {
    type Output = RowRuns;

    #[inline(always)]
    fn run<F: Fma>(self) -> RowRuns {
        let (h, w) = self.up.dim();
        let mut v = vec![0f32; w];
        let mut spans = RowSpans::new(h, w);
        let mut ranges = Vec::new();
        for (gy, (start, end)) in self.up.row_groups().into_iter().enumerate() {
            self.up.ranges(gy, self.vt, &mut ranges);
            for oh in start..end {
                for &(a, b, class) in &ranges {
                    match class {
                        Class::Below => {}
                        Class::Above => spans.push_span(oh, a, b),
                        Class::Mixed => {
                            self.up.row_range_with::<F>(oh, a, b, &mut v);
                            let mut run: Option<usize> = None;
                            for (i, &x) in v[..b - a].iter().enumerate() {
                                match (run, x >= self.vt) {
                                    (None, true) => run = Some(a + i),
                                    (Some(s), false) => {
                                        spans.push_span(oh, s, a + i);
                                        run = None;
                                    }
                                    _ => {}
                                }
                            }
                            if let Some(s) = run {
                                spans.push_span(oh, s, b);
                            }
                        }
                    }
                }
            }
        }
        spans.into_rows()
    }
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
