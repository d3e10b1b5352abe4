//! Parity quirk: torch upsamples SMALL outputs with another kernel.
//!
//! What torch 2.15 does on CPU (`UpSampleKernel.cpp`): `upsample_bilinear2d_kernel_impl_float`
//! takes `upsample_linear_channels_last` instead of the generic separable kernel when
//! `_use_channels_last_kernel_2d` holds, and for a one-channel float map that is when
//! `out_h + out_w <= 128`. That kernel rounds differently from the generic one (see the
//! `upsample` module):
//! - per axis, `src = max(scale * (i + 0.5) - 0.5, 0)` where the multiply-add IS contracted to
//!   one FMA (`scale = in / out` in float32), `i0 = min(trunc(src), in - 1)`,
//!   `i1 = i0 + (i0 < in - 1)`, `l1 = src - i0`, `l0 = 1 - l1`; `(1, 0)` when `out == in`;
//! - the four weights `w00 = h0 * w0`, `w01 = h0 * w1`, `w10 = h1 * w0`, `w11 = h1 * w1`
//!   (float32 products), and each pixel
//!   `fma(i11, w11, fma(i10, w10, fma(i00, w00, i01 * w01)))` (the scalar tail of its vector
//!   loop, as GCC contracts `i00*w00 + i01*w01 + i10*w10 + i11*w11`).
//!
//! So a constant map is NOT constant once upsampled to, say, 40×50 (a few pixels one ulp off),
//! and its mask is not the empty mask of the 0/0 normalisation: the reference's masks of 1×1
//! and constant maps on CXRs up to about 64×64 come from these one-ulp differences. Checked
//! against the original script on thousands of such cases (`tests/edge_oracle.rs`).
//!
//! Such outputs hold at most 64 × 64 pixels, so they are computed densely here.

use ndarray::{Array2, ArrayView2};

use crate::fma::fmaf;

/// Whether torch uses the small-output kernel for an `out_h × out_w` output.
pub(crate) fn is_small(out_h: usize, out_w: usize) -> bool {
    out_h.saturating_add(out_w) <= 128
}

/// One axis of the small-output kernel: `(i0, i1, l0, l1)` per output index.
fn axis(input: usize, output: usize) -> Vec<(usize, usize, f32, f32)> {
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|i| {
            if input == output {
                return (i, i, 1.0, 0.0);
            }
            let src = fmaf(scale, i as f32 + 0.5, -0.5).max(0.0);
            let i0 = (src as usize).min(input - 1);
            let l1 = src - i0 as f32;
            let i1 = if i0 < input - 1 { i0 + 1 } else { i0 };
            (i0, i1, 1.0 - l1, l1)
        })
        .collect()
}

/// The map upsampled to `out_h × out_w` by torch's small-output kernel, when torch uses it
/// ([`is_small`]) and the map has pixels; `None` otherwise.
pub(crate) fn upsample_small(
    map: ArrayView2<'_, f32>,
    out_h: usize,
    out_w: usize,
) -> Option<Array2<f32>> {
    let (in_h, in_w) = map.dim();
    if !is_small(out_h, out_w) || in_h == 0 || in_w == 0 {
        return None;
    }
    let (ay, ax) = (axis(in_h, out_h), axis(in_w, out_w));
    Some(Array2::from_shape_fn((out_h, out_w), |(y, x)| {
        let (r0, r1, h0, h1) = ay[y];
        let (c0, c1, w0, w1) = ax[x];
        let (w00, w01, w10, w11) = (h0 * w0, h0 * w1, h1 * w0, h1 * w1);
        let inner = fmaf(map[[r0, c0]], w00, map[[r0, c1]] * w01);
        fmaf(map[[r1, c1]], w11, fmaf(map[[r1, c0]], w10, inner))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_map_is_not_constant_on_40x50() {
        // torch 2.15: F.interpolate(torch.full((1,1,1,1), 0.5), size=(40, 50), mode='bilinear',
        // align_corners=False) holds 13 values 0x1.fffffcp-2, 73 of 0x1.fffffep-2, 1887 of
        // 0.5 and 27 of 0x1.000002p-1; the first that is not 0.5 (row-major) is at (20, 33).
        let m = Array2::from_elem((1, 1), 0.5f32);
        let up = upsample_small(m.view(), 40, 50).expect("small");
        let count = |v: f32| up.iter().filter(|&&x| x == v).count();
        let below = f32::from_bits(0.5f32.to_bits() - 1);
        let below2 = f32::from_bits(0.5f32.to_bits() - 2);
        let above = f32::from_bits(0.5f32.to_bits() + 1);
        assert_eq!(
            (count(below2), count(below), count(0.5), count(above)),
            (13, 73, 1887, 27)
        );
        let first = up.indexed_iter().find(|(_, v)| **v != 0.5).map(|(p, _)| p);
        assert_eq!(first, Some((20, 33)));
        assert!(upsample_small(m.view(), 64, 65).is_none());
        assert!(upsample_small(m.view(), 64, 64).is_some());
    }
}
