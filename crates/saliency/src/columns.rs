//! Otsu's histogram counted down the columns of a row of cells, eight columns at a time (x86-64
//! with AVX2 and FMA; elsewhere `segment` counts row by row).
//!
//! The output rows of a row of cells blend the same two width-pass rows `t0`, `t1` with
//! different weights, so every value of an output column `x` lies between `t0[x]` and `t1[x]`,
//! widened by the cells' rounding margin ([`bounds`]). For a block of eight columns the 8-bit
//! levels of all its pixels therefore lie in `[base, top]`, known before any pixel is computed
//! (the block's sixteen sources reduced in registers, eight blocks at a time, then a
//! division-free level bound with a sixty-fourth of a level to spare), and `top - base` is small
//! on a smooth map: on the sample, 79 % of the computed pixels are in blocks with `top - base <=
//! 3`, 98.7 % with `top - base <= 7`. The 8-bit cast is monotonic, so a value's level is at least
//! `L` exactly when the value is at least [`Thresholds`]`[L]`, the first float that the
//! reference's normalisation and cast take to `L`. A block is therefore counted with three (or
//! seven) comparisons per pixel against raw upsampled values — no division, no cast — into one
//! counter per threshold and lane; the lane counters are kept per level across blocks and summed
//! once at the end. A block of one level needs no comparison; blocks spanning more than eight
//! levels are counted pixel by pixel. This replaces, for the histogram only, computing every
//! 8-bit value and counting the runs of each row, where the counting cost more than the
//! computing. Where the CPU has AVX-512, two neighbouring blocks whose levels together span at
//! most eight are counted as one block of sixteen columns in one vector (91 % of the computed
//! pixels on the sample), which halves the comparisons and the per-block work.

use std::arch::x86_64::{__m256, __m256i, __m512};

use pulp::bytemuck::cast;
use pulp::x86::{V3, V4};

use crate::cells::bounds;
use crate::threshold::{first_where, quantize_fast};

/// `_CMP_GE_OQ`: `a >= b`, false for NaN.
const GE: i32 = 0x1d;

/// Per level `L` in `1..=255`, the smallest raw value whose 8-bit level is at least `L` (+inf if
/// no value in the map's range reaches it); +inf also past 255, so that `base + 7` can be read.
pub(crate) struct Thresholds([f32; 256 + 8]);

impl Thresholds {
    /// The thresholds of a map whose values lie in `[lo, hi]`, normalised as `(min, range)`.
    #[inline(always)]
    pub(crate) fn new(lo: f32, hi: f32, vmin: f32, range: f32) -> Thresholds {
        let mut t = [f32::INFINITY; 256 + 8];
        t[0] = f32::NEG_INFINITY;
        let mut from = lo;
        for (level, slot) in (1u8..=255).zip(&mut t[1..]) {
            let reaches = |v: f32| quantize_fast(v, vmin, range) >= level;
            // The threshold is within a few units in the last place of `min + L range / 255`:
            // bisect a small bracket around it when it provably holds the threshold.
            let guess = vmin + f32::from(level) * (range / 255.0);
            let margin = range * (1.0 / 65_536.0) + guess.abs() * (1.0 / 2_097_152.0);
            let (a, b) = ((guess - margin).max(from), (guess + margin).min(hi));
            let found = if a <= b && !reaches(a) && reaches(b) {
                first_where(a, b, reaches)
            } else {
                first_where(from, hi, reaches)
            };
            match found {
                Some(v) => {
                    *slot = v;
                    from = v;
                }
                None => break,
            }
        }
        Thresholds(t)
    }
}

/// Bounds of the levels of the values in `[lo, hi]` (finite), without the division of the
/// exact cast: `(v - min) * (255 / range)` is within `2^-14` of the reference's
/// `255 * ((v - min) / range)` for every `v` whose level is in `0..=256` (each is within two
/// roundings, relative `2^-23`, of the same real number below 257), so one sixty-fourth of a
/// level either side is room enough. Needs a normal `range` with a finite `255 / range`.
#[inline(always)]
fn level_bounds(lo: f32, hi: f32, vmin: f32, scale: f32) -> (u8, u8) {
    let level = |v: f32, slack: f32| {
        let y = ((v - vmin) * scale + slack).floor();
        let y = if y > 0.0 { y } else { 0.0 };
        // An integer in 0..=255 as the low bits of 2^23 + y (a cast that vectorises).
        ((y.min(255.0) + 8_388_608.0).to_bits() & 0xff) as u8
    };
    (level(lo, -1.0 / 64.0), level(hi, 1.0 / 64.0))
}

/// The eight columns at `x` of `t0` and `t1`, and how many of them are before `b` (the first
/// column is repeated in the missing lanes).
#[inline(always)]
fn block(t0: &[f32], t1: &[f32], x: usize, b: usize) -> ([f32; 8], [f32; 8], usize) {
    let lanes = (b - x).min(8);
    if let (Some(p), Some(q)) = (t0.get(x..x + 8), t1.get(x..x + 8)) {
        if let (8, Ok(p), Ok(q)) = (lanes, <[f32; 8]>::try_from(p), <[f32; 8]>::try_from(q)) {
            return (p, q, 8);
        }
    }
    let (mut p, mut q) = ([t0[x]; 8], [t1[x]; 8]);
    p[..lanes].copy_from_slice(&t0[x..x + lanes]);
    q[..lanes].copy_from_slice(&t1[x..x + lanes]);
    (p, q, lanes)
}

/// The sixteen columns at `x` of `t0` and `t1` as vectors, and how many of them are before
/// `b`; the lanes past `b` are -inf, which blends to -inf (or NaN), below every threshold.
#[inline(always)]
fn wide_block(t0: &[f32], t1: &[f32], x: usize, b: usize) -> (__m512, __m512, usize) {
    let lanes = (b - x).min(16);
    if let (16, Some(p), Some(q)) = (lanes, t0.get(x..x + 16), t1.get(x..x + 16)) {
        if let (Ok(p), Ok(q)) = (<&[f32; 16]>::try_from(p), <&[f32; 16]>::try_from(q)) {
            return (cast(*p), cast(*q), 16);
        }
    }
    let (mut p, mut q) = ([f32::NEG_INFINITY; 16], [f32::NEG_INFINITY; 16]);
    p[..lanes].copy_from_slice(&t0[x..x + lanes]);
    q[..lanes].copy_from_slice(&t1[x..x + lanes]);
    (cast(p), cast(q), lanes)
}

/// Otsu's histogram being counted block by block.
pub(crate) struct ColumnCounts {
    v3: V3,
    /// AVX-512, to count two blocks per vector where they allow it (`None`: one per AVX2
    /// vector).
    v4: Option<V4>,
    /// `(min, range)` of the normalisation, and `255 / range`.
    norm: (f32, f32),
    scale: f32,
    thresholds: Thresholds,
    /// Pixels counted one at a time (steep blocks) or in bulk by the caller.
    pub(crate) direct: [u64; 256],
    /// Per level `L` and lane: pixels of blocks with `base < L` whose level is at least `L`.
    lanes_at_least: Vec<__m256i>,
    /// The same summed over the lanes (what `flush` moved out of `lanes_at_least`).
    at_least: [u64; 256 + 8],
    /// Per level `L`: pixels of blocks whose `base` is `L` (so at least every level up to `L`).
    based: [u64; 256 + 8],
    /// Largest count a lane of `lanes_at_least` may hold since the last flush.
    lane_bound: u64,
    /// Per block of eight columns of the current range, the lowest and highest level.
    base: Vec<u8>,
    top: Vec<u8>,
}

impl ColumnCounts {
    /// Counting for a map whose values lie in `[lo, hi]`, normalised as `(min, range)`; `None`
    /// if the division-free level bounds cannot be used (`range` not normal or `255 / range`
    /// not finite).
    #[inline(always)]
    pub(crate) fn new(
        v3: V3,
        v4: Option<V4>,
        (lo, hi): (f32, f32),
        (vmin, range): (f32, f32),
    ) -> Option<Self> {
        let scale = 255.0 / range;
        if !(range.is_normal() && scale.is_finite()) {
            return None;
        }
        // (No closure: it would not be compiled for the dispatched features.)
        Some(ColumnCounts {
            v3,
            v4,
            norm: (vmin, range),
            scale,
            thresholds: Thresholds::new(lo, hi, vmin, range),
            direct: [0; 256],
            lanes_at_least: vec![v3.avx._mm256_setzero_si256(); 256 + 8],
            at_least: [0; 256 + 8],
            based: [0; 256 + 8],
            lane_bound: 0,
            base: Vec::new(),
            top: Vec::new(),
        })
    }

    /// Moves the lane counters into `at_least`.
    fn flush(&mut self) {
        for (total, lanes) in self.at_least.iter_mut().zip(&mut self.lanes_at_least) {
            let counts: [u32; 8] = cast(*lanes);
            *total += counts.iter().map(|&n| u64::from(n)).sum::<u64>();
            *lanes = self.v3.avx._mm256_setzero_si256();
        }
        self.lane_bound = 0;
    }

    /// The histogram of everything counted.
    pub(crate) fn finish(mut self) -> [u64; 256] {
        self.flush();
        let mut hist = self.direct;
        // Pixels at level `L` or above: those of blocks based at `L` or higher, and those
        // counted above their base.
        let (mut based_at_or_above, mut next) = (0u64, 0u64);
        for level in (0..256).rev() {
            based_at_or_above += self.based[level];
            let at_least = based_at_or_above + self.at_least[level];
            hist[level] += at_least - next;
            next = at_least;
        }
        hist
    }

    /// Adds the levels of columns `a..b` of the rows with `weights` (a row of cells reading
    /// the width-pass rows `t0` and `t1`).
    #[inline(always)]
    pub(crate) fn add_columns(
        &mut self,
        (t0, t1): (&[f32], &[f32]),
        weights: &[(f32, f32)],
        (a, b): (usize, usize),
    ) {
        let (v3, (vmin, _), scale) = (self.v3, self.norm, self.scale);
        // Per block of eight columns, the interval of levels of every value in it: the
        // smallest and largest of its sixteen sources, widened by the rounding margin. Eight
        // blocks at a time: their minima (and maxima) gathered into one vector.
        self.base.clear();
        self.top.clear();
        let blocks = (b - a).div_ceil(8);
        for group in (a..b).step_by(64) {
            let full = (t0.get(group..group + 64), t1.get(group..group + 64));
            let (mn, mx) = match full {
                (Some(p), Some(q)) if group + 64 <= b => {
                    let (p, q) = (<&[f32; 64]>::try_from(p), <&[f32; 64]>::try_from(q));
                    let (Ok(p), Ok(q)) = (p, q) else { continue };
                    block_extremes(v3, p, q)
                }
                _ => {
                    // The last blocks: lanes past `b` repeat column `b - 1`.
                    let (mut p, mut q) = ([t0[b - 1]; 64], [t1[b - 1]; 64]);
                    let n = b - group;
                    p[..n].copy_from_slice(&t0[group..b]);
                    q[..n].copy_from_slice(&t1[group..b]);
                    block_extremes(v3, &p, &q)
                }
            };
            let mut levels = [(0u8, 0u8); 8];
            for ((l, &mn), &mx) in levels.iter_mut().zip(&mn).zip(&mx) {
                let (lo, hi) = bounds(mn, mx);
                *l = level_bounds(lo, hi, vmin, scale);
            }
            self.base.extend(levels.map(|l| l.0));
            self.top.extend(levels.map(|l| l.1));
        }
        self.base.truncate(blocks);
        self.top.truncate(blocks);
        // A lane counts at most one pixel per row and block.
        let rows = weights.len() as u64;
        if self.lane_bound + rows * blocks as u64 > u64::from(u32::MAX) {
            self.flush();
        }
        self.lane_bound += rows * blocks as u64;
        let Some(v4) = self.v4 else {
            for (j, x) in (a..b).step_by(8).enumerate() {
                self.add_block((t0, t1), weights, (x, b), (self.base[j], self.top[j]));
            }
            return;
        };
        // With AVX-512: two blocks at once where their joint levels span at most eight.
        for (j, x) in (a..b).step_by(16).enumerate() {
            let (l, r) = (2 * j, 2 * j + 1);
            let joint = self.base.get(r).map(|&base_r| {
                let (base, top) = (self.base[l].min(base_r), self.top[l].max(self.top[r]));
                (usize::from(base), usize::from(top.saturating_sub(base)))
            });
            let Some((base, k @ 0..=7)) = joint else {
                self.add_block((t0, t1), weights, (x, b), (self.base[l], self.top[l]));
                if let (Some(&base), Some(&top)) = (self.base.get(r), self.top.get(r)) {
                    self.add_block((t0, t1), weights, (x + 8, b), (base, top));
                }
                continue;
            };
            let (c0, c1, lanes) = wide_block(t0, t1, x, b);
            self.based[base] += lanes as u64 * rows;
            if k == 0 {
                continue; // every pixel is at `base`
            }
            let t = &self.thresholds.0[base + 1..base + 8];
            let counters = &mut self.lanes_at_least[base + 1..base + 8];
            if k <= 3 {
                count_wide::<3>((v3, v4), (c0, c1), weights, t, counters);
            } else {
                count_wide::<7>((v3, v4), (c0, c1), weights, t, counters);
            }
        }
    }

    /// Adds the block of eight columns at `x` (those before `b`) whose levels lie in `[base,
    /// top]`.
    #[inline(always)]
    fn add_block(
        &mut self,
        (t0, t1): (&[f32], &[f32]),
        weights: &[(f32, f32)],
        (x, b): (usize, usize),
        (base, top): (u8, u8),
    ) {
        let (v3, norm, rows) = (self.v3, self.norm, weights.len() as u64);
        let (mut c0, mut c1, lanes) = block(t0, t1, x, b);
        let (base, k) = (usize::from(base), usize::from(top.saturating_sub(base)));
        if k > 7 {
            steep(v3, &mut self.direct, (c0, c1, lanes), weights, norm);
            return;
        }
        self.based[base] += lanes as u64 * rows;
        if k == 0 {
            return; // every pixel is at `base`
        }
        // Lanes past `b` blend -inf (or NaN), which is below every threshold.
        c0[lanes..].fill(f32::NEG_INFINITY);
        c1[lanes..].fill(f32::NEG_INFINITY);
        let t = &self.thresholds.0[base + 1..base + 8];
        let counters = &mut self.lanes_at_least[base + 1..base + 8];
        if k <= 3 {
            count::<3>(v3, (c0, c1), weights, t, counters);
        } else {
            count::<7>(v3, (c0, c1), weights, t, counters);
        }
    }
}

/// The smallest and the largest of `p[8 j..8 j + 8]` and `q[8 j..8 j + 8]` for each block `j`
/// of eight: the blocks' lane-wise extremes reduced across lanes together (unpack, shuffle and
/// half-swap steps, each halving the lanes left per block).
#[inline(always)]
fn block_extremes(v3: V3, p: &[f32; 64], q: &[f32; 64]) -> ([f32; 8], [f32; 8]) {
    let avx = v3.avx;
    let lanes = |x: &[f32; 64], j: usize| -> __m256 {
        let mut v = [0f32; 8];
        v.copy_from_slice(&x[8 * j..8 * j + 8]);
        cast(v)
    };
    let mut small = [avx._mm256_setzero_ps(); 8];
    let mut large = [avx._mm256_setzero_ps(); 8];
    for j in 0..8 {
        let (x, y) = (lanes(p, j), lanes(q, j));
        small[j] = avx._mm256_min_ps(x, y);
        large[j] = avx._mm256_max_ps(x, y);
    }
    (
        cast(reduce8(v3, small, |a, b| avx._mm256_min_ps(a, b))),
        cast(reduce8(v3, large, |a, b| avx._mm256_max_ps(a, b))),
    )
}

/// Lane `j` of the result is `op` folded over the eight lanes of `v[j]`.
#[inline(always)]
fn reduce8(v3: V3, v: [__m256; 8], op: impl Fn(__m256, __m256) -> __m256) -> __m256 {
    let avx = v3.avx;
    // Pairs: lane k of each 128-bit half now folds lanes k and k + 2 of one vector.
    let pair =
        |x: __m256, y: __m256| op(avx._mm256_unpacklo_ps(x, y), avx._mm256_unpackhi_ps(x, y));
    let (m01, m23, m45, m67) = (
        pair(v[0], v[1]),
        pair(v[2], v[3]),
        pair(v[4], v[5]),
        pair(v[6], v[7]),
    );
    // Quads: lane k of each half folds one vector's four lanes of that half.
    let quad = |x: __m256, y: __m256| {
        op(
            avx._mm256_shuffle_ps::<0b01_00_01_00>(x, y),
            avx._mm256_shuffle_ps::<0b11_10_11_10>(x, y),
        )
    };
    let (m0123, m4567) = (quad(m01, m23), quad(m45, m67));
    // Halves.
    op(
        avx._mm256_permute2f128_ps::<0x20>(m0123, m4567),
        avx._mm256_permute2f128_ps::<0x31>(m0123, m4567),
    )
}

/// The upsampled values of one row of a block, as `Upsampled::row_with` computes them:
/// `fma(t0, h0, t1 * h1)` lane by lane.
#[inline(always)]
fn row_values(v3: V3, (va, vb): (__m256, __m256), (h0, h1): (f32, f32)) -> __m256 {
    let avx = v3.avx;
    v3.fma._mm256_fmadd_ps(
        va,
        avx._mm256_set1_ps(h0),
        avx._mm256_mul_ps(vb, avx._mm256_set1_ps(h1)),
    )
}

/// Counts the pixels of a block spanning more than eight levels one by one, each level computed
/// as [`quantize_fast`] does (the same float32 operations, eight lanes at a time).
#[inline(always)]
fn steep(
    v3: V3,
    hist: &mut [u64; 256],
    (c0, c1, lanes): ([f32; 8], [f32; 8], usize),
    weights: &[(f32, f32)],
    (vmin, range): (f32, f32),
) {
    let avx = v3.avx;
    let (va, vb): (__m256, __m256) = (cast(c0), cast(c1));
    let (fmin, frange) = (avx._mm256_set1_ps(vmin), avx._mm256_set1_ps(range));
    let (f255, fzero) = (avx._mm256_set1_ps(255.0), avx._mm256_setzero_ps());
    for &(h0, h1) in weights {
        let v = row_values(v3, (va, vb), (h0, h1));
        let y = avx._mm256_mul_ps(f255, avx._mm256_div_ps(avx._mm256_sub_ps(v, fmin), frange));
        let y = avx._mm256_floor_ps(avx._mm256_min_ps(avx._mm256_max_ps(y, fzero), f255));
        let levels: [i32; 8] = cast(avx._mm256_cvttps_epi32(y));
        for &level in &levels[..lanes] {
            if let Some(bin) = hist.get_mut(level as usize) {
                *bin += 1;
            }
        }
    }
}

/// Adds to `counters[j]`, for each of the first `N` thresholds `t[j]`, how many of the block's
/// pixels (eight columns blending `c0` and `c1` with `weights`) are at least `t[j]`, lane by
/// lane.
#[inline(always)]
fn count<const N: usize>(
    v3: V3,
    (c0, c1): ([f32; 8], [f32; 8]),
    weights: &[(f32, f32)],
    t: &[f32],
    counters: &mut [__m256i],
) {
    let avx = v3.avx;
    let avx2 = v3.avx2;
    let (va, vb): (__m256, __m256) = (cast(c0), cast(c1));
    let mut vt = [avx._mm256_set1_ps(f32::INFINITY); N];
    for (v, &t) in vt.iter_mut().zip(t) {
        *v = avx._mm256_set1_ps(t);
    }
    let mut local: [__m256i; N] = [avx._mm256_setzero_si256(); N];
    for &(h0, h1) in weights {
        let v = row_values(v3, (va, vb), (h0, h1));
        for (c, &t) in local.iter_mut().zip(&vt) {
            // The comparison is -1 in the lanes at or above the threshold.
            let ge = avx._mm256_castps_si256(avx._mm256_cmp_ps::<GE>(v, t));
            *c = avx2._mm256_sub_epi32(*c, ge);
        }
    }
    for (c, &l) in counters.iter_mut().zip(&local) {
        *c = avx2._mm256_add_epi32(*c, l);
    }
}

/// [`count`] of two blocks at once: `c0` and `c1` hold sixteen columns (lanes past the range
/// are -inf). The two halves of each counter are added into the eight lane counters, so a lane
/// still counts at most two pixels per row and pair of blocks, as for two blocks one by one.
#[inline(always)]
fn count_wide<const N: usize>(
    (v3, v4): (V3, V4),
    (c0, c1): (__m512, __m512),
    weights: &[(f32, f32)],
    t: &[f32],
    counters: &mut [__m256i],
) {
    let f = v4.avx512f;
    let mut vt = [f._mm512_set1_ps(f32::INFINITY); N];
    for (v, &t) in vt.iter_mut().zip(t) {
        *v = f._mm512_set1_ps(t);
    }
    let minus_one = f._mm512_set1_epi32(-1);
    let mut local = [f._mm512_setzero_si512(); N];
    for &(h0, h1) in weights {
        // `fma(t0, h0, t1 * h1)` lane by lane, as `row_values` computes it.
        let v = f._mm512_fmadd_ps(
            c0,
            f._mm512_set1_ps(h0),
            f._mm512_mul_ps(c1, f._mm512_set1_ps(h1)),
        );
        for (c, &t) in local.iter_mut().zip(&vt) {
            let ge = f._mm512_cmp_ps_mask::<GE>(v, t);
            *c = f._mm512_mask_sub_epi32(*c, ge, *c, minus_one);
        }
    }
    for (c, &l) in counters.iter_mut().zip(&local) {
        let (low, high) = (
            f._mm512_castsi512_si256(l),
            f._mm512_extracti64x4_epi64::<1>(l),
        );
        *c = v3
            .avx2
            ._mm256_add_epi32(*c, v3.avx2._mm256_add_epi32(low, high));
    }
}
