//! The share of a mask's pixels among the `k` highest of a map, without sorting the map: the
//! selection behind [`Localisation::RelevanceRank`](crate::Localisation::RelevanceRank) and
//! [`Localisation::TopKIntersection`](crate::Localisation::TopKIntersection).
//!
//! A tie group of equal values at the cut contributes in proportion to the pixels it must
//! give (its expected share, as if the tied pixels were taken in random order), exactly as the
//! sorted walk `Sorted::top_share` in `localisation.rs`, this module's test oracle.
//!
//! 1. A regular sample of [`SAMPLE`] pixels, sorted, brackets the key of the `k`-th highest
//!    pixel between two sampled keys, a few binomial deviations either side of where it is
//!    expected.
//! 2. One pass over the map counts the pixels (and the mask's) above the bracket and collects
//!    the few inside it; the loop over a block has no branch, so it vectorises, and it notes
//!    any NaN on the way (then the share is NaN).
//! 3. When the `k`-th highest lies in the bracket (nearly always), a selection among the
//!    collected pixels finds its value and the tie group; otherwise the bucketed count below
//!    ([`by_buckets`]) answers, exact for any map.

/// Pixels in the sample that brackets the cut.
const SAMPLE: usize = 1 << 16;

/// Pixels per block of the branch-free loops.
const BLOCK: usize = 16;

/// The order-preserving `u32` of an `f32` (NaN excluded): negative values flipped whole,
/// non-negative ones with the sign bit set; `-0.0` and `0.0` become one key.
///
/// Branch-free, so that loops over a map vectorise: `v + 0.0` turns `-0.0` into `0.0` (and
/// leaves every other value as it is), and the sign, spread over all 32 bits, chooses between
/// flipping every bit and flipping the sign bit alone.
#[inline(always)]
pub(crate) fn key(v: f32) -> u32 {
    let b = (v + 0.0).to_bits();
    let flip = (((b as i32) >> 31) as u32) | 0x8000_0000;
    b ^ flip
}

/// The expected share of the mask's pixels (`mask`, row-major 0/1) among the `k` highest of
/// `map` (`1 <= k <= map.len()`); NaN when the map holds a NaN.
pub(crate) fn top_share(map: &[f32], mask: &[u8], k: usize) -> f64 {
    let n = map.len();
    if n < 4 * SAMPLE {
        return by_buckets(map, mask, k);
    }
    let (lo, hi) = bracket(map, k);
    // Pixels above the bracket (and the mask's among them), and the bracket's own, each as
    // `key << 1 | in mask`.
    let (mut above, mut hits, mut nan) = (0usize, 0usize, false);
    let mut inside: Vec<u64> = Vec::new();
    for (vs, ms) in map.chunks(BLOCK).zip(mask.chunks(BLOCK)) {
        let (mut a, mut h, mut any) = (0u32, 0u32, false);
        for (&v, &m) in vs.iter().zip(ms) {
            let kv = key(v);
            let up = kv > hi;
            a += u32::from(up);
            h += u32::from(up & (m != 0));
            any |= (kv >= lo) & !up;
            nan |= v.is_nan();
        }
        above += a as usize;
        hits += h as usize;
        if any {
            let block = vs.iter().zip(ms).map(|(&v, &m)| (key(v), m));
            let kept = block.filter(|&(kv, _)| kv >= lo && kv <= hi);
            inside.extend(kept.map(|(kv, m)| u64::from(kv) << 1 | u64::from(m != 0)));
        }
    }
    if nan {
        return f64::NAN;
    }
    if above >= k || above + inside.len() < k {
        return by_buckets(map, mask, k); // the sample misled: the cut is outside the bracket
    }
    // The `need`-th highest of the bracket is the cut's value.
    let need = k - above;
    let at = inside.len() - need;
    inside.select_nth_unstable(at);
    let cut = inside[at] >> 1;
    let (mut tied, mut tied_hits) = (0usize, 0usize);
    for &p in &inside {
        let (kv, m) = (p >> 1, (p & 1) as usize);
        if kv > cut {
            above += 1;
            hits += m;
        } else if kv == cut {
            tied += 1;
            tied_hits += m;
        }
    }
    share(hits, k - above, tied_hits, tied, k)
}

/// `(hits + need · tied_hits / tied) / k`: the hits above the cut, plus the tie group's
/// expected share of the `need` pixels it gives, over `k` (in the sorted walk's operation
/// order, so both give the same bits).
fn share(hits: usize, need: usize, tied_hits: usize, tied: usize, k: usize) -> f64 {
    let hits = hits as f64 + need as f64 * tied_hits as f64 / tied as f64;
    hits / k as f64
}

/// The keys bracketing the `k`-th highest of `map`: `(lo, hi)` with, as far as a regular
/// sample tells, more than `k` pixels at or above `lo` and fewer than `k` above `hi`. The
/// bracket reaches four binomial deviations (plus 16 ranks) either side of the sampled rank.
fn bracket(map: &[f32], k: usize) -> (u32, u32) {
    let n = map.len();
    let step = n / SAMPLE;
    let mut sample: Vec<u32> = (0..SAMPLE).map(|j| key(map[j * step])).collect();
    sample.sort_unstable_by(|a, b| b.cmp(a)); // highest first
    let rank = k as f64 * SAMPLE as f64 / n as f64; // expected sampled pixels among the top k
    let spread = 4.0 * (rank * (1.0 - rank / SAMPLE as f64)).max(0.0).sqrt() + 16.0;
    let hi = match (rank - spread).floor() {
        r if r < 0.0 => u32::MAX,
        r => sample[r as usize],
    };
    let lo = match (rank + spread).ceil() {
        r if r >= (SAMPLE - 1) as f64 => 0,
        r => sample[r as usize],
    };
    (lo, hi)
}

/// [`top_share`] for any map: one pass counts every pixel by the top 16 bits of its key (all
/// pixels, and the mask's), which fixes the bucket holding the `k`-th highest; a second pass
/// takes only that bucket's pixels, which are sorted to find the tie groups at the cut.
pub(crate) fn by_buckets(map: &[f32], mask: &[u8], k: usize) -> f64 {
    const BUCKETS: usize = 1 << 16;
    let bucket = |v: f32| (key(v) >> 16) as usize;
    // Per bucket, its pixels and the mask's, side by side (one cache line for both).
    let mut counts = vec![[0usize; 2]; BUCKETS];
    let mut nan = false;
    for (&v, &m) in map.iter().zip(mask) {
        let c = &mut counts[bucket(v)];
        c[0] += 1;
        c[1] += usize::from(m != 0);
        nan |= v.is_nan();
    }
    if nan {
        return f64::NAN;
    }
    let (mut taken, mut hits) = (0usize, 0usize);
    let mut cut = 0;
    for b in (0..BUCKETS).rev() {
        let [n, p] = counts[b];
        if taken + n >= k {
            cut = b;
            break;
        }
        taken += n;
        hits += p;
    }
    // The cut bucket's pixels, looked for a block at a time (the test vectorises; few blocks
    // hold any).
    let mut at_cut: Vec<(u32, bool)> = Vec::new();
    for (vs, ms) in map.chunks(BLOCK).zip(mask.chunks(BLOCK)) {
        if vs.iter().fold(false, |any, &v| any | (bucket(v) == cut)) {
            let block = vs.iter().zip(ms).map(|(&v, &m)| (key(v), m != 0));
            at_cut.extend(block.filter(|&(kv, _)| (kv >> 16) as usize == cut));
        }
    }
    at_cut.sort_unstable_by_key(|p| std::cmp::Reverse(p.0));
    for group in at_cut.chunk_by(|a, b| a.0 == b.0) {
        let (g, gp) = (group.len(), group.iter().filter(|p| p.1).count());
        if taken + g >= k {
            return share(hits, k - taken, gp, g, k);
        }
        taken += g;
        hits += gp;
    }
    share(hits, 0, 0, 1, k)
}
