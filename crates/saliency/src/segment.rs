//! `cam_to_segmentation` of `heatmap_to_segmentation.py`: an upsampled heatmap to a binary mask,
//! with Otsu's threshold (OpenCV) and contour filling (OpenCV + Pillow), or a fixed threshold.
//!
//! Parity rules kept here: the float32 normalisation and numpy's `uint8` cast ([`normalization`],
//! [`quantize`]), OpenCV's Otsu ([`otsu_threshold`]), the strict `>` of both thresholds, and
//! that every contour, holes included, is filled.

use chexlocalize_raster::{BorderImage, RowRuns, RowSpans, fill_polygon};
use chexlocalize_rle::{Rle, RleError};
use ndarray::{Array2, ArrayView2};

use crate::cells::Class;
use crate::engine::{Fma, Job, Upsampled, dispatch, first_where, quantize_fast};

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
pub fn segment_runs(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> RowRuns {
    let up = Upsampled::new(map, height, width);
    let extremes = up.extremes();
    if let Threshold::Otsu { smoothing: Some(k) } = threshold {
        let (min, range) = up.normalization();
        return otsu_runs(&dispatch(Smoothed {
            up: &up,
            min,
            range,
            k,
        }));
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

/// The rest of `cam_to_segmentation` on an 8-bit image: `cv2.threshold(q, 0, q.max(),
/// THRESH_OTSU)`, then [`fill_contours`].
fn otsu_runs(q: &Array2<u8>) -> RowRuns {
    let (h, w) = q.dim();
    let q = q.as_standard_layout();
    let img = dispatch(DenseOtsu {
        pixels: q.as_slice().unwrap_or_default(),
        w,
    });
    fill_contours(img, h, w, [0, 0])
}

/// Otsu's binary image of a dense row-major 8-bit image of width `w`: its histogram counted
/// in runs, then `q > t` row by row (an image of zeros when its maximum, OpenCV's `maxval`,
/// is 0).
struct DenseOtsu<'a> {
    pixels: &'a [u8],
    w: usize,
}

impl Job for DenseOtsu<'_> {
    type Output = BorderImage;

    #[inline(always)]
    fn run<F: Fma>(self) -> BorderImage {
        let w = self.w.max(1);
        let h = self.pixels.len() / w;
        let mut hist = [0u64; 256];
        let simd = simd();
        for row in self.pixels.chunks_exact(w) {
            add_runs(&mut hist, row, simd);
        }
        let t = otsu_threshold(&hist);
        let maxval = self.pixels.iter().fold(0u8, |m, &v| m.max(v));
        let mut img = BorderImage::new(h, self.w);
        if maxval > 0 {
            let mut bits = vec![0u8; w];
            for (r, row) in self.pixels.chunks_exact(w).enumerate() {
                for (b, &v) in bits.iter_mut().zip(row) {
                    *b = u8::from(v > t);
                }
                img.set_row(r, &bits);
            }
        }
        img
    }
}

/// `findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)` of the binary image, and every contour of more
/// than one point filled with Pillow's polygon fill (holes included, as the reference does).
/// `img` may be a crop of the `height × width` image at `offset` (x, y) that holds all its
/// foreground: the contours are the same, shifted.
fn fill_contours(img: BorderImage, height: usize, width: usize, offset: [i32; 2]) -> RowRuns {
    let mut spans = RowSpans::new(height, width);
    for mut contour in img.find_contours() {
        if contour.len() > 1 {
            for p in &mut contour {
                p[0] += offset[0];
                p[1] += offset[1];
            }
            fill_polygon(&mut spans, &contour);
        }
    }
    spans.into_rows()
}

/// Adds the values of `q` to `hist` run by run: a row of a smooth map changes value every few
/// pixels, so a block of bytes is compared at once with its right neighbours (one bit per
/// byte), and only the positions where the value changes cost work. A run of value `a` over
/// `[s, e)` is counted as `+e` and `-s` on `hist[a]` (wrapping), so a change at `p` from `a` to
/// `b` is two updates and no run start has to be remembered.
#[inline(always)]
fn add_runs(hist: &mut [u64; 256], q: &[u8], simd: Simd) {
    let Some(&first) = q.first() else {
        return;
    };
    let n = q.len();
    let mut prev = usize::from(first);
    let mut change = |hist: &mut [u64; 256], p: usize, b: u8| {
        let b = usize::from(b);
        hist[prev] = hist[prev].wrapping_add(p as u64);
        hist[b] = hist[b].wrapping_sub(p as u64);
        prev = b;
    };
    // Block at `base`: bit j of `m` says whether q[base + j + 1] differs from q[base + j].
    let mut base = 0;
    while let (Some(x), Some(y)) = (q.get(base..base + 32), q.get(base + 1..base + 33)) {
        let (Ok(x), Ok(y)) = (<&[u8; 32]>::try_from(x), <&[u8; 32]>::try_from(y)) else {
            break;
        };
        let mut m = differences(simd, x, y);
        while m != 0 {
            let j = m.trailing_zeros() as usize;
            change(hist, base + j + 1, y[j]);
            m &= m - 1;
        }
        base += 32;
    }
    for p in base + 1..n {
        if q[p] != q[p - 1] {
            change(hist, p, q[p]);
        }
    }
    hist[prev] = hist[prev].wrapping_add(n as u64);
}

/// The AVX2 instructions [`differences`] uses, when the CPU has them (`None`: eight-byte words;
/// always `None` off x86-64).
#[cfg(target_arch = "x86_64")]
type Simd = Option<pulp::x86::V3>;
#[cfg(not(target_arch = "x86_64"))]
type Simd = Option<std::convert::Infallible>;

#[cfg(target_arch = "x86_64")]
fn simd() -> Simd {
    pulp::x86::V3::try_new()
}
#[cfg(not(target_arch = "x86_64"))]
fn simd() -> Simd {
    None
}

/// Bit `j` set where `x[j] != y[j]`: a byte compare and a mask extraction with AVX2, else eight
/// bytes at a time.
#[inline(always)]
fn differences(simd: Simd, x: &[u8; 32], y: &[u8; 32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd {
        use pulp::bytemuck::cast;
        let eq = v3.avx2._mm256_cmpeq_epi8(cast(*x), cast(*y));
        return !(v3.avx2._mm256_movemask_epi8(eq) as u32);
    }
    let _ = simd;
    let mut m = 0u32;
    for k in 0..4 {
        let word = |b: &[u8; 32]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[8 * k..8 * k + 8]);
            u64::from_le_bytes(w)
        };
        let d = word(x) ^ word(y);
        // One bit per non-zero byte of `d`.
        let nz =
            (((d & 0x7f7f_7f7f_7f7f_7f7f) + 0x7f7f_7f7f_7f7f_7f7f) | d) & 0x8080_8080_8080_8080;
        let bits = (nz >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        m |= (bits as u32) << (8 * k);
    }
    m
}

/// Otsu's histogram of the 8-bit image. Columns whose cell is below `v1` (the first value that
/// quantises to 1) are counted as zeros without being computed; the others are counted down the
/// columns of each row of cells where the CPU has AVX2 and FMA (see `columns`), else a row at a
/// time, in runs of equal values.
struct Histogram<'a> {
    up: &'a Upsampled,
    /// The smallest and largest upsampled values (the normalisation is `(lo, hi - lo)`).
    lo: f32,
    hi: f32,
    v1: f32,
    /// Whether to count by columns where the CPU can (always, but for tests of both paths).
    by_columns: bool,
}

impl Job for Histogram<'_> {
    type Output = [u64; 256];

    #[inline(always)]
    fn run<F: Fma>(self) -> [u64; 256] {
        // Counting by columns needs the rows of cells (a map with a non-finite value that no
        // output pixel reads has none: then its rows are one group that reads many sources).
        #[cfg(target_arch = "x86_64")]
        if F::HARDWARE && self.by_columns && self.up.has_cells() {
            // (No closure here: it would not be compiled for the dispatched features.)
            if let Some(v3) = pulp::x86::V3::try_new() {
                if let Some(hist) = self.count_by_columns(v3) {
                    return hist;
                }
            }
        }
        let (_, w) = self.up.dim();
        let (min, range) = (self.lo, self.hi - self.lo);
        let (mut v, mut q) = (vec![0f32; w], vec![0u8; w]);
        let mut hist = [0u64; 256];
        let mut ranges = Vec::new();
        let simd = simd();
        for (gy, (start, end)) in self.up.row_groups().into_iter().enumerate() {
            self.up.ranges(gy, self.v1, &mut ranges);
            for oh in start..end {
                for &(a, b, class) in &ranges {
                    if class == Class::Below {
                        hist[0] = hist[0].wrapping_add((b - a) as u64);
                        continue;
                    }
                    self.up.row_range_with::<F>(oh, a, b, &mut v);
                    for (q, &x) in q[..b - a].iter_mut().zip(&v[..b - a]) {
                        *q = quantize_fast(x, min, range);
                    }
                    add_runs(&mut hist, &q[..b - a], simd);
                }
            }
        }
        hist
    }
}

impl<'a> Histogram<'a> {
    /// The histogram of a finite, non-constant map with extremes `lo < hi`.
    fn new(up: &'a Upsampled, lo: f32, hi: f32) -> Self {
        let (min, range) = (lo, hi - lo);
        let v1 = first_where(lo, hi, |v| quantize_fast(v, min, range) >= 1).unwrap_or(hi);
        Histogram {
            up,
            lo,
            hi,
            v1,
            by_columns: true,
        }
    }

    /// The same histogram counted down the columns of each row of cells (see `columns`).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn count_by_columns(&self, v3: pulp::x86::V3) -> Option<[u64; 256]> {
        let norm = (self.lo, self.hi - self.lo);
        let mut counts = crate::columns::ColumnCounts::new(v3, (self.lo, self.hi), norm)?;
        let (mut ranges, mut weights) = (Vec::new(), Vec::new());
        for (gy, (start, end)) in self.up.row_groups().into_iter().enumerate() {
            self.up.ranges(gy, self.v1, &mut ranges);
            weights.clear();
            weights.extend((start..end).map(|oh| self.up.weights(oh)));
            let sources = self.up.sources(start);
            // Runs of columns that are not below `v1` (whether mixed or above).
            let mut run: Option<(usize, usize)> = None;
            for &(a, b, class) in &ranges {
                if class == Class::Below {
                    counts.direct[0] += ((b - a) * (end - start)) as u64;
                    if let Some(columns) = run.take() {
                        counts.add_columns(sources, &weights, columns);
                    }
                } else {
                    run = Some((run.map_or(a, |r| r.0), b));
                }
            }
            if let Some(columns) = run {
                counts.add_columns(sources, &weights, columns);
            }
        }
        Some(counts.finish())
    }
}

/// The smoothed 8-bit image (`--if_smoothing True --k k`), its rows of
/// `np.uint8(255 * normalised)` computed as the box filter reads them.
struct Smoothed<'a> {
    up: &'a Upsampled,
    min: f32,
    range: f32,
    k: usize,
}

impl Job for Smoothed<'_> {
    type Output = Array2<u8>;

    #[inline(always)]
    fn run<F: Fma>(self) -> Array2<u8> {
        let (h, w) = self.up.dim();
        let mut v = vec![0f32; w];
        crate::smooth::smooth_rows(
            h,
            w,
            self.k,
            // Inlined so that it is compiled for the dispatched features (a closure is not
            // otherwise).
            #[inline(always)]
            |r, row| {
                self.up.row_with::<F>(r, &mut v);
                for (q, &x) in row.iter_mut().zip(&v) {
                    *q = quantize_fast(x, self.min, self.range);
                }
            },
        )
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

    /// The obvious histogram: one count per byte.
    fn naive_hist(q: &[u8]) -> [u64; 256] {
        let mut h = [0u64; 256];
        q.iter().for_each(|&v| h[usize::from(v)] += 1);
        h
    }

    /// Otsu's histogram of a map as `segment_runs` counts it, by columns or by rows; `None` for
    /// maps that take another path (NaN, constant, infinite).
    fn histogram(map: &Array2<f32>, h: usize, w: usize, by_columns: bool) -> Option<[u64; 256]> {
        let up = Upsampled::new(map.view(), h, w);
        let (lo, hi) = up.extremes()?;
        let range = hi - lo;
        if range == 0.0 || !(lo.is_finite() && hi.is_finite() && range.is_finite()) {
            return None;
        }
        let job = Histogram {
            by_columns,
            ..Histogram::new(&up, lo, hi)
        };
        Some(dispatch(job))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Both ways of counting Otsu's histogram count every pixel of the reference's 8-bit
        /// image at its level: smooth and rough maps (steep blocks), offsets far from zero (wide
        /// rounding margins), flat zero areas, and outputs from much smaller to much larger than
        /// the map (rows of cells from one row to more than a batch of lane counters).
        #[test]
        fn histograms_count_every_pixel(
            (h, w) in (1usize..10, 1usize..10),
            (oh, ow) in (1usize..140, 1usize..140),
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    3 => 0.0f32..1.0,
                    2 => proptest::strategy::Just(0.0f32),
                    1 => -3.0f32..3.0,
                    1 => 1e-30f32..1e-29,
                ],
                100,
            ),
            offset in proptest::prop_oneof![
                proptest::strategy::Just(0.0f32),
                -1.0f32..1.0,
                1e3f32..1e5,
            ],
        ) {
            let map = Array2::from_shape_fn((h, w), |(r, c)| values[r * 10 + c] + offset);
            let reference = crate::reference::upsample_bilinear(map.view(), oh, ow);
            let (min, range) = normalization(&reference);
            let q: Vec<u8> = reference.iter().map(|&v| quantize((v - min) / range)).collect();
            let want = naive_hist(&q);
            if let Some(rows) = histogram(&map, oh, ow, false) {
                proptest::prop_assert_eq!(rows, want);
            }
            if let Some(columns) = histogram(&map, oh, ow, true) {
                proptest::prop_assert_eq!(columns, want);
            }
        }

        /// Run counting, with and without AVX2, equals counting every byte; values drawn from a
        /// few levels so that runs and changes both occur, lengths around the 32-byte blocks.
        #[test]
        fn add_runs_counts_every_byte(
            q in proptest::collection::vec(0u8..4, 0..200),
            scale in 1u8..64,
        ) {
            let q: Vec<u8> = q.iter().map(|&v| v.wrapping_mul(scale)).collect();
            let mut fast = [0u64; 256];
            add_runs(&mut fast, &q, simd());
            proptest::prop_assert_eq!(fast, naive_hist(&q));
            let mut portable = [0u64; 256];
            add_runs(&mut portable, &q, None);
            proptest::prop_assert_eq!(portable, naive_hist(&q));
        }
    }
}
