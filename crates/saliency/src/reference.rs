//! The straightforward implementations: each step as the reference script takes it, on whole
//! images. They are the oracle the fast paths are tested against (bit for bit, by property
//! tests) and executable documentation of what the fast paths compute; they are slower (a
//! 320×320 map to 2828×2320 takes tens of milliseconds here, against about two in
//! [`segment`](crate::segment)).

use chexlocalize_raster::{fill_polygon, find_contours};
use ndarray::{Array2, ArrayView2};

use crate::axis::axis;
use crate::fma::fmaf;
use crate::threshold::{Threshold, normalization, otsu_threshold, quantize};

/// Calls `row(oh, values)` for every output row, in order, without holding the whole image.
fn for_each_row(
    map: ArrayView2<'_, f32>,
    out_h: usize,
    out_w: usize,
    mut row: impl FnMut(usize, &[f32]),
) {
    let (h, w) = map.dim();
    if h == 0 || w == 0 || out_h == 0 || out_w == 0 {
        return;
    }
    // Parity: torch's other kernel for outputs with out_h + out_w <= 128 (see `small`).
    if let Some(dense) = crate::small::upsample_small(map, out_h, out_w) {
        for (oh, values) in dense.rows().into_iter().enumerate() {
            row(oh, values.as_slice().unwrap_or_default());
        }
        return;
    }
    let (ay, ax) = (axis(h, out_h), axis(w, out_w));
    // Width pass of a source row, cached: consecutive output rows share source rows.
    let width_pass = |r: usize, out: &mut Vec<f32>| {
        out.clear();
        let src = map.row(r);
        out.extend((0..out_w).map(|x| fmaf(src[ax.i0[x]], ax.w0[x], src[ax.i1[x]] * ax.w1[x])));
    };
    let (mut t0, mut t1) = (Vec::with_capacity(out_w), Vec::with_capacity(out_w));
    let (mut r0, mut r1) = (usize::MAX, usize::MAX);
    let mut values = vec![0f32; out_w];
    for oh in 0..out_h {
        let (s0, s1) = (ay.i0[oh], ay.i1[oh]);
        if s0 != r0 {
            if s0 == r1 {
                std::mem::swap(&mut t0, &mut t1);
                r0 = r1;
                r1 = usize::MAX;
            } else {
                width_pass(s0, &mut t0);
                r0 = s0;
            }
        }
        if s1 != r1 {
            width_pass(s1, &mut t1);
            r1 = s1;
        }
        let (h0, h1) = (ay.w0[oh], ay.w1[oh]);
        for (v, (&a, &b)) in values.iter_mut().zip(t0.iter().zip(&t1)) {
            *v = fmaf(a, h0, b * h1);
        }
        row(oh, &values);
    }
}

/// The map upsampled to `out_h × out_w` exactly as torch's bilinear `interpolate`.
pub fn upsample_bilinear(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Array2<f32> {
    let mut out = Array2::zeros((out_h, out_w));
    for_each_row(map, out_h, out_w, |oh, values| {
        out.row_mut(oh)
            .iter_mut()
            .zip(values)
            .for_each(|(o, v)| *o = *v);
    });
    out
}

/// `np.unravel_index(np.argmax(upsampled), shape)`: the first maximum in row-major order of the
/// map upsampled to `out_h × out_w` (the first NaN if there is one, as numpy), computed row by
/// row without materialising the image. `(0, 0)` for an empty output.
pub fn max_point(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> (usize, usize) {
    let mut best = (0usize, 0usize);
    let mut best_v = f32::NEG_INFINITY;
    let mut found_nan = false;
    let mut first = true;
    for_each_row(map, out_h, out_w, |oh, values| {
        if found_nan {
            return;
        }
        for (ow, &v) in values.iter().enumerate() {
            if v.is_nan() {
                best = (oh, ow);
                found_nan = true;
                return;
            }
            if first || v > best_v {
                best = (oh, ow);
                best_v = v;
                first = false;
            }
        }
    });
    best
}

/// `cam_to_segmentation` step by step: the full float32 image, its normalisation, the 8-bit
/// image, then Otsu and contour filling on dense masks ([`otsu_fill`]) or the fixed threshold.
pub fn segment(
    map: ArrayView2<'_, f32>,
    height: usize,
    width: usize,
    threshold: Threshold,
) -> Array2<u8> {
    let m = upsample_bilinear(map, height, width);
    let (min, range) = normalization(&m);
    let norm = |x: f32| (x - min) / range;
    match threshold {
        Threshold::Fixed(t) => m.mapv(|x| u8::from(f64::from(norm(x)) > t)),
        Threshold::Otsu { smoothing: None } => otsu_fill(&m.mapv(|x| quantize(norm(x)))),
        Threshold::Otsu { smoothing: Some(k) } => {
            otsu_fill(&smooth(&m.mapv(|x| quantize(norm(x))), k))
        }
    }
}

/// `cv2.threshold(q, 0, q.max(), THRESH_OTSU)`, then `findContours(RETR_TREE,
/// CHAIN_APPROX_SIMPLE)` and every contour of more than one point filled with Pillow's polygon
/// fill (holes included, as the reference does), on dense masks.
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

/// The normalised `k × k` box filter of an 8-bit image, rounded as OpenCV rounds (`k >= 1`):
/// full-size horizontal sums, then sliding column sums.
pub fn box_filter(img: &Array2<u8>, k: usize) -> Array2<u8> {
    let (h, w) = img.dim();
    if k <= 1 || h == 0 || w == 0 {
        return img.clone();
    }
    let anchor = (k / 2) as isize;
    // Horizontal window sums, sliding.
    let mut rows = Array2::<u32>::zeros((h, w));
    for r in 0..h {
        let src = img.row(r);
        let px = |c: isize| u32::from(src[crate::smooth::reflect101(c, w)]);
        let mut s: u32 = (0..k as isize).map(|d| px(d - anchor)).sum();
        for c in 0..w {
            rows[[r, c]] = s;
            let c = c as isize;
            s = s + px(c + 1 - anchor + k as isize - 1) - px(c - anchor);
        }
    }
    let area = (k * k) as u64;
    let divide: Box<dyn Fn(u64) -> u8> = if area <= 256 && area.is_power_of_two() {
        let d = area as f64;
        let scalef = 65536.0 / d;
        let mut div_scale = scalef.floor() as u64;
        let frac = scalef - div_scale as f64;
        let mut div_delta = area / 2;
        if frac < 0.5 {
            div_delta += 1;
        } else {
            div_scale += 1;
        }
        Box::new(move |s| (((s + div_delta) * div_scale) >> 16) as u8)
    } else if area <= 256 {
        Box::new(move |s| ((s + area / 2) / area) as u8)
    } else {
        Box::new(move |s| (s as f64 / area as f64).round_ties_even().min(255.0) as u8)
    };
    // Vertical window sums of the row sums, sliding down each column.
    let mut out = Array2::<u8>::zeros((h, w));
    let mut col: Vec<u64> = (0..w)
        .map(|c| {
            (0..k as isize)
                .map(|d| u64::from(rows[[crate::smooth::reflect101(d - anchor, h), c]]))
                .sum()
        })
        .collect();
    for r in 0..h {
        let (add, sub) = (
            crate::smooth::reflect101(r as isize + 1 - anchor + k as isize - 1, h),
            crate::smooth::reflect101(r as isize - anchor, h),
        );
        for c in 0..w {
            out[[r, c]] = divide(col[c]);
            col[c] = col[c] + u64::from(rows[[add, c]]) - u64::from(rows[[sub, c]]);
        }
    }
    out
}

/// `255 - boxFilter(cvtColor(applyColorMap(q, JET), RGB2GRAY), (k, k))`, with [`box_filter`].
pub fn smooth(q: &Array2<u8>, k: usize) -> Array2<u8> {
    let gray = q.mapv(|v| crate::smooth::rgb2gray(crate::smooth::JET_BGR[usize::from(v)]));
    box_filter(&gray, k).mapv(|v| 255 - v)
}
