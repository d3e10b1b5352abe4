//! The gray level of the JET colour of each upsampled value (the first step of the smoothing),
//! 32 values at a time with AVX2 or AVX-512.
//!
//! One value at a time, the table lookup keeps the 8-bit cast from vectorising and costs as much
//! as the rest of the smoothing together. With AVX2 the levels are computed eight lanes at a
//! time exactly as [`quantize_fast`] does (the same float32 operations), packed to 32 bytes, and
//! looked up in the 256-entry table as sixteen 16-entry byte shuffles: shuffle `j` sees the
//! index `level - 16 j` raised by `0x70` with unsigned saturation, which is `0x70..=0x7f` (a
//! valid index) exactly when the level's high nibble is `j` and has its top bit set (the
//! shuffle gives 0) otherwise.
//!
//! The normalisation's division `(v - min) / range` is the slowest step of a level (a vector
//! division issues once every several cycles). Where `range` lies in
//! `[2^-60, 2^60]`, the quotient is computed instead from the reciprocal `r = RN(1/range)`:
//! `q0 = RN(d · r)`, the exact residual `e = d - q0 · range` (one FMA), and `q = RN(q0 + e · r)`
//! (another). Markstein's theorem (Muller et al., *Handbook of Floating-Point Arithmetic*, on
//! division with an FMA) states that `q` is then the correctly rounded `d / range` — the same
//! bits as the division — when `r` is within half an ulp of `1/range`, `q0` within one ulp of
//! the quotient, and nothing underflows. The bounds on `range` keep `r` normal; a residual can
//! only underflow when `d < 2^-102`, and then the quotient is below `2^-42`, level 0 either
//! way; an infinite `d` keeps `q0`. Outside the bounds the division is used. Tested against
//! the scalar division at every level boundary of many ranges.
//!
//! With AVX-512 (x86-64-v4) the same levels are computed sixteen lanes at a time and looked up
//! as 16-bit words: the table is eight registers of 32 words, four two-register permutes
//! (`vpermt2w`, each covering 64 entries by the index's low six bits) and three blends by
//! the index's bits 6 and 7 give 32 gray levels in nine instructions, where the byte shuffles
//! take sixty-four.

use crate::simd::Simd;
use crate::threshold::quantize_fast;

/// The ranges whose quotients are computed from the reciprocal (see the module doc).
#[cfg(target_arch = "x86_64")]
const RECIPROCAL_RANGES: std::ops::RangeInclusive<f32> =
    f32::from_bits(0x2180_0000)..=f32::from_bits(0x5d80_0000); // 2^-60 ..= 2^60

/// One map's gray levels: the lookup table and the normalisation, also laid out as the
/// registers of the best instruction set the CPU has. Built once per map, so that each row's
/// call only loads them.
pub(crate) struct GrayLevels {
    lut: [u8; 256],
    min: f32,
    range: f32,
    #[cfg(target_arch = "x86_64")]
    vector: Vector,
}

/// The registers of one instruction set's path.
#[cfg(target_arch = "x86_64")]
enum Vector {
    V4(pulp::x86::V4, avx512::Tables),
    V3(pulp::x86::V3, avx2::Tables),
    Scalar,
}

impl GrayLevels {
    /// The levels `lut[quantize_fast(v, min, range)]`, computed with `simd`.
    #[inline(always)]
    pub(crate) fn new(simd: Simd, lut: [u8; 256], (min, range): (f32, f32)) -> GrayLevels {
        #[cfg(target_arch = "x86_64")]
        let vector = if let Some(v4) = simd.v4 {
            Vector::V4(v4, avx512::Tables::new(v4, &lut, (min, range)))
        } else if let Some(v3) = simd.v3 {
            Vector::V3(v3, avx2::Tables::new(v3, &lut, (min, range)))
        } else {
            Vector::Scalar
        };
        let _ = simd;
        GrayLevels {
            lut,
            min,
            range,
            #[cfg(target_arch = "x86_64")]
            vector,
        }
    }

    /// The gray level of every quantised value 0..=255.
    pub(crate) fn lut(&self) -> &[u8; 256] {
        &self.lut
    }

    /// `out[i] = lut[quantize_fast(v[i], min, range)]` for every `i` (`out` as long as `v`).
    #[inline(always)]
    pub(crate) fn apply(&self, v: &[f32], out: &mut [u8]) {
        let mut done = 0;
        #[cfg(target_arch = "x86_64")]
        match &self.vector {
            Vector::V4(v4, tables) => done = tables.apply(*v4, v, out),
            Vector::V3(v3, tables) => done = tables.apply(*v3, v, out),
            Vector::Scalar => {}
        }
        for (o, &x) in out[done..].iter_mut().zip(&v[done..]) {
            *o = self.lut[usize::from(quantize_fast(x, self.min, self.range))];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::{__m512, __m512i};

    use pulp::bytemuck::cast;
    use pulp::x86::V4;

    use super::RECIPROCAL_RANGES;

    /// The table as eight registers of 32 words, and the normalisation.
    pub(super) struct Tables {
        words: [__m512i; 8],
        norm: Norm,
    }

    impl Tables {
        #[inline(always)]
        pub(super) fn new(v4: V4, lut: &[u8; 256], (min, range): (f32, f32)) -> Tables {
            let f = v4.avx512f;
            let mut words = [f._mm512_setzero_si512(); 8];
            for (t, table) in words.iter_mut().enumerate() {
                let mut w = [0u16; 32];
                for (w, &g) in w.iter_mut().zip(&lut[32 * t..32 * t + 32]) {
                    *w = u16::from(g);
                }
                *table = cast(w);
            }
            let norm = Norm {
                min: f._mm512_set1_ps(min),
                range: f._mm512_set1_ps(range),
                reciprocal: RECIPROCAL_RANGES
                    .contains(&range)
                    .then(|| f._mm512_set1_ps(1.0 / range)),
            };
            Tables { words, norm }
        }

        /// The blocks of 32 that fit; returns how many values were done. Inlined into the
        /// caller, which must be compiled for x86-64-v4 (the smoothing's dispatch is, whenever
        /// the CPU has it); called from elsewhere it is correct but slow.
        #[inline(always)]
        pub(super) fn apply(&self, v4: V4, v: &[f32], out: &mut [u8]) -> usize {
            let (f, bw) = (v4.avx512f, v4.avx512bw);
            let (t, norm) = (&self.words, &self.norm);
            let (bit6, bit7) = (f._mm512_set1_epi16(64), f._mm512_set1_epi16(128));
            let blocks = v.len().min(out.len()) / 32;
            for (x, o) in v
                .chunks_exact(32)
                .zip(out.chunks_exact_mut(32))
                .take(blocks)
            {
                let a = f._mm512_cvtepi32_epi16(level(v4, &x[..16], norm));
                let b = f._mm512_cvtepi32_epi16(level(v4, &x[16..], norm));
                let idx = f._mm512_inserti64x4::<1>(f._mm512_castsi256_si512(a), b);
                let l0 = bw._mm512_permutex2var_epi16(t[0], idx, t[1]);
                let l1 = bw._mm512_permutex2var_epi16(t[2], idx, t[3]);
                let l2 = bw._mm512_permutex2var_epi16(t[4], idx, t[5]);
                let l3 = bw._mm512_permutex2var_epi16(t[6], idx, t[7]);
                let m6 = bw._mm512_test_epi16_mask(idx, bit6);
                let m7 = bw._mm512_test_epi16_mask(idx, bit7);
                let low = bw._mm512_mask_blend_epi16(m6, l0, l1);
                let high = bw._mm512_mask_blend_epi16(m6, l2, l3);
                let gray = bw._mm512_cvtepi16_epi8(bw._mm512_mask_blend_epi16(m7, low, high));
                let gray: [u8; 32] = cast(gray);
                o.copy_from_slice(&gray);
            }
            blocks * 32
        }
    }

    /// The normalisation in lanes, and the reciprocal of the range where it gives the quotient.
    struct Norm {
        min: __m512,
        range: __m512,
        reciprocal: Option<__m512>,
    }

    /// The 8-bit levels of sixteen values in 32-bit lanes, as `avx2::level` computes eight.
    #[inline(always)]
    fn level(v4: V4, x: &[f32], norm: &Norm) -> __m512i {
        let f = v4.avx512f;
        let mut lanes = [0f32; 16];
        lanes.copy_from_slice(&x[..16]);
        let x: __m512 = cast(lanes);
        let d = f._mm512_sub_ps(x, norm.min);
        let q = match norm.reciprocal {
            Some(r) => {
                let q0 = f._mm512_mul_ps(d, r);
                let e = f._mm512_fnmadd_ps(q0, norm.range, d);
                let q = f._mm512_fmadd_ps(e, r, q0);
                // An infinite `d` makes the residual NaN; its quotient is `q0` as is.
                let unordered = f._mm512_cmp_ps_mask::<{ std::arch::x86_64::_CMP_UNORD_Q }>(q, q);
                f._mm512_mask_blend_ps(unordered, q, q0)
            }
            None => f._mm512_div_ps(d, norm.range),
        };
        let f255 = f._mm512_set1_ps(255.0);
        let y = f._mm512_max_ps(f._mm512_mul_ps(f255, q), f._mm512_setzero_ps());
        // Non-negative after the `max` (NaN became 0 there), so truncation is the floor.
        f._mm512_cvttps_epi32(f._mm512_min_ps(y, f255))
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::{__m256, __m256i};

    use pulp::bytemuck::cast;
    use pulp::x86::V3;

    use super::RECIPROCAL_RANGES;

    /// The table as sixteen registers of 16 bytes (twice each), and the normalisation.
    pub(super) struct Tables {
        bytes: [__m256i; 16],
        norm: Norm,
    }

    impl Tables {
        #[inline(always)]
        pub(super) fn new(v3: V3, lut: &[u8; 256], (min, range): (f32, f32)) -> Tables {
            let avx = v3.avx;
            let mut bytes = [avx._mm256_setzero_si256(); 16];
            for (j, t) in bytes.iter_mut().enumerate() {
                let mut b = [0u8; 32];
                b[..16].copy_from_slice(&lut[16 * j..16 * j + 16]);
                b[16..].copy_from_slice(&lut[16 * j..16 * j + 16]);
                *t = cast(b);
            }
            let norm = Norm {
                min: avx._mm256_set1_ps(min),
                range: avx._mm256_set1_ps(range),
                reciprocal: RECIPROCAL_RANGES
                    .contains(&range)
                    .then(|| avx._mm256_set1_ps(1.0 / range)),
            };
            Tables { bytes, norm }
        }

        /// The blocks of 32 that fit; returns how many values were done.
        #[inline(always)]
        pub(super) fn apply(&self, v3: V3, v: &[f32], out: &mut [u8]) -> usize {
            let (avx, avx2) = (v3.avx, v3.avx2);
            let norm = &self.norm;
            let (sixteen, raise) = (avx._mm256_set1_epi8(16), avx._mm256_set1_epi8(0x70));
            let order: __m256i = cast([0i32, 4, 1, 5, 2, 6, 3, 7]);
            let blocks = v.len().min(out.len()) / 32;
            for (x, o) in v
                .chunks_exact(32)
                .zip(out.chunks_exact_mut(32))
                .take(blocks)
            {
                let (a, b) = (level(v3, &x[..8], norm), level(v3, &x[8..16], norm));
                let (c, d) = (level(v3, &x[16..24], norm), level(v3, &x[24..], norm));
                // Dwords come out as a0-3 b0-3 c0-3 d0-3 | a4-7 b4-7 c4-7 d4-7: put them in
                // order.
                let bytes = avx2._mm256_packus_epi16(
                    avx2._mm256_packus_epi32(a, b),
                    avx2._mm256_packus_epi32(c, d),
                );
                let mut idx = avx2._mm256_permutevar8x32_epi32(bytes, order);
                let mut gray = avx._mm256_setzero_si256();
                for &t in &self.bytes {
                    let hit = avx2._mm256_shuffle_epi8(t, avx2._mm256_adds_epu8(idx, raise));
                    gray = avx2._mm256_or_si256(gray, hit);
                    idx = avx2._mm256_sub_epi8(idx, sixteen);
                }
                let gray: [u8; 32] = cast(gray);
                o.copy_from_slice(&gray);
            }
            blocks * 32
        }
    }

    /// The normalisation in lanes, and the reciprocal of the range where it gives the quotient.
    struct Norm {
        min: __m256,
        range: __m256,
        reciprocal: Option<__m256>,
    }

    /// `RN(d / range)` in every lane: the division, or the same bits by Markstein's correction
    /// of the product with the reciprocal.
    #[inline(always)]
    fn quotient(v3: V3, d: __m256, norm: &Norm) -> __m256 {
        let (avx, fma) = (v3.avx, v3.fma);
        match norm.reciprocal {
            Some(r) => {
                let q0 = avx._mm256_mul_ps(d, r);
                let e = fma._mm256_fnmadd_ps(q0, norm.range, d);
                let q = fma._mm256_fmadd_ps(e, r, q0);
                // An infinite `d` makes the residual NaN; its quotient is `q0` (infinite) as is.
                let unordered = avx._mm256_cmp_ps::<{ std::arch::x86_64::_CMP_UNORD_Q }>(q, q);
                avx._mm256_blendv_ps(q, q0, unordered)
            }
            None => avx._mm256_div_ps(d, norm.range),
        }
    }

    /// The 8-bit levels of eight values, as [`quantize_fast`](crate::threshold::quantize_fast)
    /// computes them (`max(y, 0)` first, so that NaN becomes 0).
    #[inline(always)]
    fn level(v3: V3, x: &[f32], norm: &Norm) -> __m256i {
        let avx = v3.avx;
        let mut lanes = [0f32; 8];
        lanes.copy_from_slice(&x[..8]);
        let x: __m256 = cast(lanes);
        let f255 = avx._mm256_set1_ps(255.0);
        let d = avx._mm256_sub_ps(x, norm.min);
        let y = avx._mm256_mul_ps(f255, quotient(v3, d, norm));
        let y = avx._mm256_max_ps(y, avx._mm256_setzero_ps());
        avx._mm256_cvttps_epi32(avx._mm256_floor_ps(avx._mm256_min_ps(y, f255)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_and_special_value_matches_the_lookup() {
        let lut: [u8; 256] = std::array::from_fn(|i| (i as u8).wrapping_mul(37) ^ 0x5a);
        let (min, range) = (-0.25f32, 3.0);
        // Special values first (in the blocks of 32), then a sweep over every level and past.
        let mut v = vec![
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            -0.0,
            0.0,
            min,
            min + range,
        ];
        v.extend((0..2000).map(|i| min - 0.1 + i as f32 * (range + 0.2) / 2000.0));
        let mut got = vec![0u8; v.len()];
        for simd in Simd::every() {
            GrayLevels::new(simd, lut, (min, range)).apply(&v, &mut got);
            for (i, (&x, &g)) in v.iter().zip(&got).enumerate() {
                assert_eq!(
                    g,
                    lut[usize::from(quantize_fast(x, min, range))],
                    "{simd:?} {i}: {x}"
                );
            }
        }
        let levels: std::collections::BTreeSet<u8> =
            v.iter().map(|&x| quantize_fast(x, min, range)).collect();
        assert_eq!(levels.len(), 256);
    }

    /// At every level boundary (the first value of each level, found by bisection, and its
    /// two neighbouring floats) of many normalisations, the vector levels equal the scalar
    /// division's: ranges from far below to far above the reciprocal route's bounds, and at
    /// them; minima negative, zero and large; ranges with all-ones and all-zeros mantissas.
    #[test]
    fn level_boundaries_match_the_division() {
        let lut: [u8; 256] = std::array::from_fn(|i| i as u8);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut cases: Vec<(f32, f32)> = vec![
            (0.0, 1.0),
            (-1.0, 2.0),
            (0.0, f32::from_bits(0x3fff_ffff)),
            (0.0, f32::from_bits(0x3f80_0001)),
            (1e3, 7e-3),
            (0.0, f32::from_bits(0x2180_0000)), // 2^-60: the bound, reciprocal route
            (0.0, f32::from_bits(0x217f_ffff)), // just below: the division
            (0.0, f32::from_bits(0x5d80_0000)), // 2^60
            (-1e30, f32::from_bits(0x5d80_0001)),
            (0.0, 1e-38),
            (0.0, 3e38),
        ];
        for _ in 0..300 {
            let r = next();
            let exp = (r % 200) as i32 - 100;
            let mantissa = 1.0 + (next() % (1 << 23)) as f32 / (1 << 23) as f32;
            let range = mantissa * 2f32.powi(exp);
            let min = match r % 3 {
                0 => 0.0,
                1 => -range * (next() % 1000) as f32 / 997.0,
                _ => {
                    f32::from_bits((next() % 0x7f00_0000) as u32)
                        * if r % 2 == 0 { 1.0 } else { -1.0 }
                }
            };
            cases.push((min, range));
        }
        for (min, range) in cases {
            if !(min.is_finite() && range.is_finite() && range > 0.0) {
                continue;
            }
            let mut v = Vec::new();
            for level in 1..=255u8 {
                let hi = min + range;
                let Some(t) = crate::threshold::first_where(min, hi, |x| {
                    quantize_fast(x, min, range) >= level
                }) else {
                    continue;
                };
                v.extend([
                    t,
                    f32::from_bits(t.to_bits().wrapping_sub(1)),
                    f32::from_bits(t.to_bits() + 1),
                ]);
            }
            v.extend([min, min + range, min + range * 0.5]);
            let mut got = vec![0u8; v.len()];
            for simd in Simd::every() {
                GrayLevels::new(simd, lut, (min, range)).apply(&v, &mut got);
                for (&x, &g) in v.iter().zip(&got) {
                    assert_eq!(
                        g,
                        quantize_fast(x, min, range),
                        "min {min:e}, range {range:e}, x {x:e}"
                    );
                }
            }
        }
    }
}
