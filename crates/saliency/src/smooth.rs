//! The reference's optional smoothing before Otsu, exactly as OpenCV computes it:
//! `cv2.applyColorMap(q, COLORMAP_JET)` (BGR), then `cv2.cvtColor(heatmap, COLOR_RGB2GRAY)` — the
//! reference passes BGR data as RGB, so the blue channel gets the red weight (kept for parity) —
//! then `cv2.boxFilter(gray, -1, (k, k))` (normalised, `BORDER_REFLECT_101`, anchor at `k / 2`),
//! and `255 - result`.
//!
//! - The JET table is OpenCV 5.0.0's (`applyColorMap` of the ramp 0..=255), as data (`jet`).
//! - OpenCV 5's 8-bit RGB→gray is fixed point with 15 fractional bits:
//!   `(c0 * 9798 + c1 * 19235 + c2 * 3735 + 2^14) >> 15` (checked on the 256 JET colours and
//!   200 000 random triples against cv2).
//! - The 8-bit box filter sums the window exactly, then divides by `d = k * k` in one of three
//!   ways, found by comparing with cv2 on random images for k = 2..21 and 32: when `d` is a
//!   power of two up to 256, with OpenCV's 16-bit fixed-point reciprocal
//!   (`((s + delta) * m) >> 16`, `ColumnSum<ushort, uchar>`); other `d <= 256` round half up
//!   (`(s + d / 2) / d`); larger kernels round half to even (`cvRound(s / d)`).

use ndarray::Array2;

pub(crate) use crate::jet::JET_BGR;

/// The gray level of each 8-bit value's JET colour: `rgb2gray(JET_BGR[v])` for every `v`.
pub(crate) fn jet_gray() -> [u8; 256] {
    std::array::from_fn(|v| rgb2gray(JET_BGR[v]))
}

/// `cvtColor(…, COLOR_RGB2GRAY)` of an 8-bit pixel whose channels are `c` (c0 taken as red).
pub(crate) fn rgb2gray(c: [u8; 3]) -> u8 {
    ((u32::from(c[0]) * 9798 + u32::from(c[1]) * 19235 + u32::from(c[2]) * 3735 + (1 << 14)) >> 15)
        as u8
}

/// Horizontal window sums of source row `r` into `dst`: the row (from `source`) mapped through
/// `lut` into the middle of `padded` (`w + k - 1` long), its reflections on both sides, then `k`
/// shifted adds.
#[inline(always)]
fn horizontal(
    source: &mut impl FnMut(usize, &mut [u8]),
    r: usize,
    lut: &[u8; 256],
    k: usize,
    src: &mut [u8],
    padded: &mut [u32],
    dst: &mut [u32],
) {
    let (w, anchor) = (src.len(), k / 2);
    source(r, src);
    for (p, &v) in padded[anchor..anchor + w].iter_mut().zip(src.iter()) {
        *p = u32::from(lut[usize::from(v)]);
    }
    for j in (0..anchor).chain(anchor + w..w + k - 1) {
        padded[j] = u32::from(lut[usize::from(src[reflect101(j as isize - anchor as isize, w)])]);
    }
    dst.copy_from_slice(&padded[..w]);
    for d in 1..k {
        for (o, &p) in dst.iter_mut().zip(&padded[d..d + w]) {
            *o += p;
        }
    }
}

/// `BORDER_REFLECT_101` index into `0..n` (`n >= 1`).
pub(crate) fn reflect101(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let mut i = i.rem_euclid(period);
    if i >= n {
        i = period - i;
    }
    i as usize
}

/// How OpenCV turns an 8-bit box filter's window sum into the mean, for a window of `area`
/// pixels: with its 16-bit fixed-point reciprocal when `area` is a power of two up to 256
/// (`((s + delta) * m) >> 16`, `ColumnSum<ushort, uchar>`), rounding half up for other areas up
/// to 256 (`(s + area / 2) / area`), and half to even in float64 above (`cvRound(s / area)`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Divide {
    Fixed {
        delta: u64,
        scale: u64,
    },
    /// `(s + area / 2) / area` as a multiply and shift (exact for the sums that occur).
    HalfUp {
        add: u64,
        mul: u64,
        shift: u32,
        area: u64,
        /// `(m, p)` with `floor(x / area) = (x * m) >> p` for every `x` that occurs, `m <
        /// 2^16`: the division in 32-bit lanes.
        narrow: Option<(u32, u32)>,
    },
    Float {
        area: f64,
    },
}

impl Divide {
    pub(crate) fn new(area: u64) -> Divide {
        if area == 1 {
            // k = 1: the sum is the mean.
            return Divide::Fixed {
                delta: 0,
                scale: 65536,
            };
        }
        if area <= 256 && area.is_power_of_two() {
            let d = area as f64;
            let scalef = 65536.0 / d;
            let mut scale = scalef.floor() as u64;
            let frac = scalef - scale as f64;
            let mut delta = area / 2;
            if frac < 0.5 {
                delta += 1;
            } else {
                scale += 1;
            }
            Divide::Fixed { delta, scale }
        } else if area <= 256 {
            // floor(x / d) = (x * m) >> (24 + l) for every x < 2^24, with l = ceil(log2 d) and
            // m = floor(2^(24 + l) / d) + 1 (Granlund and Montgomery); window sums of an 8-bit
            // image over at most 256 pixels stay below 2^17.
            let l = 64 - (area - 1).leading_zeros();
            let shift = 24 + l;
            Divide::HalfUp {
                add: area / 2,
                mul: (1u64 << shift) / area + 1,
                shift,
                area,
                narrow: narrow_reciprocal(area),
            }
        } else {
            Divide::Float { area: area as f64 }
        }
    }

    /// [`Divide::apply`] of every sum (at most `255 * area`, as window sums of an 8-bit image
    /// are), inverted (`255 - mean`) when `invert`: one loop per rule, so that each
    /// vectorises (the fixed-point product stays below `2^25`, within 32 bits).
    #[inline(always)]
    pub(crate) fn apply_row<S: Copy + Into<u32>>(self, sums: &[S], out: &mut [u8], invert: bool) {
        let flip = if invert { 255u32 } else { 0 };
        let pairs = out.iter_mut().zip(sums);
        match self {
            Divide::Fixed { delta, scale } => {
                let (delta, scale) = (delta as u32, scale as u32);
                pairs.for_each(|(o, &s)| {
                    let s: u32 = s.into();
                    *o = ((((s + delta).wrapping_mul(scale)) >> 16) ^ flip) as u8;
                });
            }
            Divide::HalfUp {
                add,
                narrow: Some((m, p)),
                ..
            } => {
                let add = add as u32;
                pairs.for_each(|(o, &s)| {
                    let s: u32 = s.into();
                    *o = ((((s + add) * m) >> p) ^ flip) as u8;
                });
            }
            Divide::HalfUp { add, area, .. } => {
                // floor(x / d) for x = s + d/2 < 2^16 and d <= 256, in float32: y = x * fl(1/d)
                // is within q 2^-23 <= 2^-15 of q = x / d < 256, whose fraction is j / d, at
                // least 2^-8 below 1; adding 2^-10 (rounding by at most 2^-16) keeps y above
                // the integer part of q and below the next integer, so the floor is exact.
                let (add, r) = (add as u32, 1.0 / area as f32);
                pairs.for_each(|(o, &s)| {
                    let s: u32 = s.into();
                    let z = ((s + add) as f32 * r + 1.0 / 1024.0).floor();
                    let q = (z + 8_388_608.0).to_bits() & 0xff; // the integer z < 256
                    *o = (q ^ flip) as u8;
                });
            }
            Divide::Float { .. } => {
                pairs.for_each(|(o, &s)| *o = self.apply(s.into()) ^ flip as u8)
            }
        }
    }

    #[inline(always)]
    pub(crate) fn apply(self, s: u32) -> u8 {
        let s = u64::from(s);
        match self {
            Divide::Fixed { delta, scale } => (((s + delta) * scale) >> 16) as u8,
            Divide::HalfUp {
                add, mul, shift, ..
            } => (((s + add) * mul) >> shift) as u8,
            Divide::Float { area } => (s as f64 / area).round_ties_even().min(255.0) as u8,
        }
    }
}

/// `(m, p)` such that `floor(x / d) = (x * m) >> p` for every `x <= 255 d + d / 2` (the
/// window sums of an 8-bit image plus the rounding term), with `m < 2^16` so that `x * m` fits
/// in 32 bits, if there is one. With `m = ceil(2^p / d)` and `e = m d - 2^p` (in `[0, d)`),
/// `x m / 2^p = x / d + x e / (d 2^p)`, and the floor is unchanged when `x e < 2^p`, since the
/// fraction of `x / d` is at most `1 - 1 / d`.
fn narrow_reciprocal(d: u64) -> Option<(u32, u32)> {
    let x_max = 255 * d + d / 2;
    (16..32u32).find_map(|p| {
        let m = (1u64 << p).div_ceil(d);
        let e = m * d - (1u64 << p);
        (m < 1 << 16 && x_max * e < 1u64 << p).then_some((m as u32, p))
    })
}

/// The normalised `k × k` box filter of an 8-bit image, rounded as OpenCV rounds (`k >= 1`),
/// with `BORDER_REFLECT_101` and the anchor at the centre.
pub fn box_filter(img: &Array2<u8>, k: usize) -> Array2<u8> {
    let identity: [u8; 256] = std::array::from_fn(|v| v as u8);
    let (h, w) = img.dim();
    box_filter_rows(h, w, k, &identity, false, rows_of(img))
}

/// A row source reading the rows of `img`.
fn rows_of(img: &Array2<u8>) -> impl FnMut(usize, &mut [u8]) + '_ {
    |r, row| row.iter_mut().zip(img.row(r)).for_each(|(o, &v)| *o = v)
}

/// `255 - boxFilter(cvtColor(applyColorMap(q, JET), RGB2GRAY), (k, k))`.
///
/// (`segment` does not build this image: the `smoothed` module fuses these steps with the
/// upsampling and Otsu's histogram, and skips the flat parts of the map.)
pub fn smooth(q: &Array2<u8>, k: usize) -> Array2<u8> {
    let (h, w) = q.dim();
    box_filter_rows(h, w, k, &jet_gray(), true, rows_of(q))
}

/// The box filter of `lut[img]`, inverted (`255 - mean`) when `invert`, with `img` given row by
/// row by `source`: window sums of the `k` rows in a ring (each source row mapped and summed
/// horizontally once, as `k` shifted adds of its padded copy), a running column sum, and the
/// division of a whole row at once ([`Divide::apply_row`]) — no image-sized intermediate.
#[inline(always)]
fn box_filter_rows(
    h: usize,
    w: usize,
    k: usize,
    lut: &[u8; 256],
    invert: bool,
    mut source: impl FnMut(usize, &mut [u8]),
) -> Array2<u8> {
    let mut out = vec![0u8; h * w];
    let shape = |out: Vec<u8>| Array2::from_shape_vec((h, w), out).unwrap_or_default();
    if h == 0 || w == 0 {
        return shape(out);
    }
    let mut src = vec![0u8; w];
    if k <= 1 {
        let flip = if invert { 255 } else { 0 };
        for (r, row) in out.chunks_exact_mut(w).enumerate() {
            source(r, &mut src);
            row.iter_mut()
                .zip(&src)
                .for_each(|(o, &v)| *o = lut[usize::from(v)] ^ flip);
        }
        return shape(out);
    }
    let anchor = k / 2;
    let divide = Divide::new((k * k) as u64);
    let mut padded = vec![0u32; w + k - 1];
    // Ring of the window's horizontal sums, by window position modulo k.
    let mut ring = vec![0u32; k * w];
    let mut col = vec![0u32; w];
    for d in 0..k {
        let row = &mut ring[d * w..(d + 1) * w];
        let r = reflect101(d as isize - anchor as isize, h);
        horizontal(&mut source, r, lut, k, &mut src, &mut padded, row);
        for (c, &v) in col.iter_mut().zip(row.iter()) {
            *c += v;
        }
    }
    let mut entering = vec![0u32; w];
    for (r, out_row) in out.chunks_exact_mut(w).enumerate() {
        divide.apply_row(&col, out_row, invert);
        if r + 1 == h {
            break;
        }
        let next = reflect101((r + k - anchor) as isize, h);
        horizontal(
            &mut source,
            next,
            lut,
            k,
            &mut src,
            &mut padded,
            &mut entering,
        );
        let leaving = &mut ring[(r % k) * w..(r % k + 1) * w];
        for ((c, l), &e) in col.iter_mut().zip(leaving.iter_mut()).zip(&entering) {
            *c = *c + e - *l;
            *l = e;
        }
    }
    shape(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jet_gray_matches_opencv() {
        // cv2.cvtColor(cv2.applyColorMap(np.arange(256, dtype=np.uint8)[None], cv2.COLORMAP_JET),
        //              cv2.COLOR_RGB2GRAY)[0] with OpenCV 5.0.0.
        let want: [u8; 256] = [
            38, 39, 41, 42, 43, 44, 45, 47, 48, 49, 50, 51, 53, 54, 55, 56, 57, 59, 60, 61, 62, 63,
            65, 66, 67, 68, 69, 71, 72, 73, 74, 75, 76, 79, 81, 83, 86, 88, 90, 93, 95, 97, 100,
            102, 104, 107, 109, 111, 114, 116, 119, 121, 123, 126, 128, 130, 133, 135, 137, 140,
            142, 144, 147, 149, 151, 154, 156, 158, 161, 163, 165, 168, 170, 173, 175, 177, 180,
            182, 184, 187, 189, 191, 194, 196, 198, 201, 203, 205, 208, 210, 212, 215, 217, 219,
            222, 224, 226, 225, 224, 224, 223, 222, 221, 221, 220, 219, 218, 218, 217, 216, 216,
            215, 214, 213, 213, 212, 211, 210, 210, 209, 208, 207, 207, 206, 205, 204, 204, 203,
            202, 201, 201, 200, 199, 198, 198, 197, 196, 196, 195, 194, 193, 193, 192, 191, 190,
            190, 189, 188, 187, 187, 186, 185, 184, 184, 183, 182, 181, 181, 180, 179, 177, 175,
            172, 170, 168, 165, 163, 161, 158, 156, 154, 151, 149, 146, 144, 142, 139, 137, 135,
            132, 130, 128, 125, 123, 121, 118, 116, 114, 111, 109, 107, 104, 102, 100, 97, 95, 92,
            90, 88, 85, 83, 81, 78, 76, 74, 71, 69, 67, 64, 62, 60, 57, 55, 53, 50, 48, 46, 43, 41,
            38, 36, 34, 31, 29, 29, 28, 28, 27, 27, 26, 26, 26, 25, 25, 24, 24, 23, 23, 22, 22, 21,
            21, 21, 20, 20, 19, 19, 18, 18, 17, 17, 16, 16, 16, 15, 15,
        ];
        for v in 0..256 {
            assert_eq!(rgb2gray(JET_BGR[v]), want[v], "value {v}");
        }
    }

    #[test]
    fn fixed_point_division_is_exact() {
        for area in 2..=256u64 {
            if area.is_power_of_two() {
                continue;
            }
            let d = Divide::new(area);
            for s in 0..=(255 * area) as u32 {
                let want = ((u64::from(s) + area / 2) / area) as u8;
                assert_eq!(d.apply(s), want, "area {area}, sum {s}");
            }
        }
    }

    #[test]
    fn row_division_equals_the_scalar_one() {
        for area in (1u64..=49).chain([64, 81, 100, 121, 144, 169, 196, 225, 255, 256, 289, 1024]) {
            let d = Divide::new(area);
            let sums: Vec<u32> = (0..=(255 * area) as u32).collect();
            for invert in [false, true] {
                let mut out = vec![0u8; sums.len()];
                d.apply_row(&sums, &mut out, invert);
                for (&s, &o) in sums.iter().zip(&out) {
                    let want = if invert { 255 - d.apply(s) } else { d.apply(s) };
                    assert_eq!(o, want, "area {area}, sum {s}, invert {invert}");
                }
            }
        }
    }

    #[test]
    fn reflect_101() {
        let got: Vec<usize> = (-3..8).map(|i| reflect101(i, 5)).collect();
        assert_eq!(got, [3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
    }
}
