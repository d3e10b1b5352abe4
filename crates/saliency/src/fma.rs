//! A correctly rounded single-precision fused multiply-add without `unsafe` or CPU features.
//!
//! torch's CPU kernels are compiled with FMA contraction, so `a * b + c` there rounds once. Rust's
//! `f32::mul_add` is exact too, but without the `fma` target feature it calls the C library's
//! `fmaf`, which is slow. We compute in f64 instead: `a * b` is exact in f64 (48 significant bits),
//! and the sum is rounded to f64 then to f32. That double rounding differs from a single rounding
//! only when the f64 sum lands exactly halfway between two f32 values; in that case the exact
//! remainder of the sum (TwoSum) decides the direction.

/// `a * b + c` with a single rounding to f32.
#[inline]
pub(crate) fn fmaf(a: f32, b: f32, c: f32) -> f32 {
    let p = f64::from(a) * f64::from(b); // exact
    let c = f64::from(c);
    let s = p + c;
    // Halfway between two f32s: the 29 low mantissa bits are exactly 1000…0.
    if s.to_bits() & 0x1fff_ffff != 0x1000_0000 {
        return s as f32;
    }
    let mag = s.abs();
    if !(f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&mag) {
        // Outside f32's normal range (never in heatmaps): the library routine.
        return a.mul_add(b, c as f32);
    }
    // TwoSum: the exact error of s = p + c.
    let bp = s - c;
    let err = (p - bp) + (c - (s - bp));
    if err == 0.0 {
        return s as f32; // a true tie: `as` rounds ties to even, like the FMA
    }
    // The two f32 neighbours of s: dropping the 29 extra bits gives the one nearer zero.
    let near_zero = f64::from_bits(s.to_bits() & !0x1fff_ffff) as f32;
    let away = f32::from_bits(near_zero.to_bits() + 1);
    let (lower, upper) = if s > 0.0 {
        (near_zero, away)
    } else {
        (away, near_zero)
    };
    if err > 0.0 { upper } else { lower }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn double_rounding_trap() {
        // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 lies exactly halfway between the f32 values
        // 1 + 2^-11 and 1 + 2^-11 + 2^-23; a tiny c decides the side (worked out by hand).
        let a = 1.0 + 2f32.powi(-12);
        let lo = 1.0 + 2f32.powi(-11);
        let hi = lo + 2f32.powi(-23);
        assert_eq!(fmaf(a, a, 2f32.powi(-100)), hi);
        assert_eq!(fmaf(a, a, -(2f32.powi(-100))), lo);
        assert_eq!(fmaf(a, a, 0.0), lo); // a true tie goes to the even mantissa
        assert_eq!(fmaf(-a, a, 2f32.powi(-100)), -lo);
        assert_eq!(fmaf(-a, a, -(2f32.powi(-100))), -hi);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn matches_the_platform_fma(a in any::<f32>(), b in any::<f32>(), c in any::<f32>()) {
            prop_assume!(a.is_finite() && b.is_finite() && c.is_finite());
            let want = a.mul_add(b, c); // libm fmaf: correctly rounded
            let got = fmaf(a, b, c);
            prop_assert!(got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()), "{a} {b} {c}: {got} vs {want}");
        }

    }
}
