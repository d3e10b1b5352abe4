//! The scalar steps of `cam_to_segmentation` and their fast forms: what a [`Threshold`] is, the
//! float32 normalisation and numpy's `uint8` cast ([`normalization`], [`quantize`]), OpenCV's
//! Otsu ([`otsu_threshold`]); `quantize_fast` (the cast, vectorisable) and `first_where` (a
//! threshold on normalised or 8-bit values as one on raw upsampled values) for the fast paths.

use ndarray::Array2;

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

/// `np.uint8(255 * ((v - min) / range))` in float32, written so that it vectorises: the
/// saturating float-to-int cast becomes a clamp, a floor and the exponent trick (adding 2^23
/// puts an integer below 2^23 in the low mantissa bits). Equal to [`crate::quantize`] of the
/// normalised value for every input, NaN included (→ 0).
#[inline(always)]
#[allow(clippy::manual_clamp)] // `clamp` keeps NaN; `max(0.0)` maps it to 0 as the cast does
pub(crate) fn quantize_fast(v: f32, min: f32, range: f32) -> u8 {
    let x = (255.0f32 * ((v - min) / range)).max(0.0).min(255.0).floor();
    ((x + 8_388_608.0).to_bits() & 0xff) as u8
}

/// The first (by value) `f32` in `[lo, hi]` where the monotone predicate `p` holds, or `None`
/// if it does not hold at `hi`. Used to turn a threshold on normalised or quantised values
/// into one threshold on raw upsampled values.
#[inline(always)] // compiled inside a dispatch where called from one
pub(crate) fn first_where(lo: f32, hi: f32, p: impl Fn(f32) -> bool) -> Option<f32> {
    // Total order of non-NaN floats as unsigned keys (-0.0 just below +0.0).
    fn key(x: f32) -> u32 {
        let b = x.to_bits();
        if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
    }
    fn from_key(k: u32) -> f32 {
        f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
    }
    if !p(hi) {
        return None;
    }
    let (mut a, mut b) = (key(lo), key(hi));
    while a < b {
        let m = a + (b - a) / 2;
        if p(from_key(m)) {
            b = m;
        } else {
            a = m + 1;
        }
    }
    Some(from_key(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_fast_equals_the_cast() {
        let specials = [
            0.0f32,
            -0.0,
            1.0,
            0.5,
            1.0 + f32::EPSILON,
            -1e-9,
            -0.9,
            -1.5,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            254.0 / 255.0,
            3.0 / 255.0,
        ];
        for &x in &specials {
            assert_eq!(quantize_fast(x, 0.0, 1.0), crate::quantize(x), "{x}");
        }
        // Floats across [-0.01, 1.01], and the 64 floats on each side of every level k/255.
        for i in 0..=102_000 {
            let x = -0.01 + i as f32 * 1e-5;
            assert_eq!(quantize_fast(x, 0.0, 1.0), crate::quantize(x), "{x}");
        }
        for k in 0..=255u32 {
            let c = k as f32 / 255.0;
            let mut y = c;
            for _ in 0..64 {
                assert_eq!(quantize_fast(y, 0.0, 1.0), crate::quantize(y), "{y}");
                y = y.next_up();
            }
            let mut y = c;
            for _ in 0..64 {
                assert_eq!(quantize_fast(y, 0.0, 1.0), crate::quantize(y), "{y}");
                y = y.next_down();
            }
        }
    }

    #[test]
    fn first_where_finds_the_boundary() {
        assert_eq!(first_where(-2.0, 2.0, |x| x >= 0.5), Some(0.5));
        assert_eq!(first_where(-2.0, 2.0, |x| x > 0.5), Some(0.5f32.next_up()));
        assert_eq!(
            first_where(-2.0, 2.0, |x| x > -1.0),
            Some((-1.0f32).next_up())
        );
        assert_eq!(first_where(-2.0, 2.0, |_| true), Some(-2.0));
        assert_eq!(first_where(-2.0, 2.0, |x| x > 2.0), None);
        assert_eq!(first_where(0.0, 0.0, |_| true), Some(0.0));
        // -0.0 and +0.0: the predicate cannot tell them apart; either answer compares equal.
        assert_eq!(first_where(-1.0, 1.0, |x| x >= 0.0), Some(0.0));
    }
}
