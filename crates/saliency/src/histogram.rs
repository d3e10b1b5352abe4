//! Otsu's histogram of the 8-bit image, counted in runs of equal values (a row of a smooth map
//! changes value every few pixels), a row at a time or down the columns of each row of cells
//! (see `columns`), without building the image.

use crate::cells::Class;
use crate::dispatch::{Fma, Job};
use crate::engine::Upsampled;
use crate::simd::Simd;
use crate::threshold::{first_where, quantize_fast};

/// Otsu's histogram counted run by run: a row of a smooth map changes value every few pixels, so
/// a block of bytes is compared at once with its right neighbours (one bit per byte), and only
/// the positions where the value changes cost work. A run of value `a` over `[s, e)` is counted
/// as `+e` and `-s` on `hist[a]` (wrapping), so a change at `p` from `a` to `b` is two updates and
/// no run start has to be remembered. The blocks are 64 bytes with AVX-512, 32 with AVX2 and
/// eight-byte words elsewhere. Consecutive changes go to two tables in turn, summed at
/// the end: a change often returns to the value of the one before, and one table would make each
/// update wait for the previous one's store.
pub(crate) struct RunHistogram {
    tables: [[u64; 256]; 2],
    simd: Simd,
}

impl RunHistogram {
    /// An empty histogram, counting with `simd`.
    pub(crate) fn new(simd: Simd) -> RunHistogram {
        RunHistogram {
            tables: [[0; 256]; 2],
            simd,
        }
    }

    /// Adds `count` pixels of value 0 (counted in bulk by the caller).
    pub(crate) fn add_zeros(&mut self, count: u64) {
        self.tables[0][0] = self.tables[0][0].wrapping_add(count);
    }

    /// The counts.
    pub(crate) fn finish(self) -> [u64; 256] {
        let [a, b] = self.tables;
        std::array::from_fn(|v| a[v].wrapping_add(b[v]))
    }

    /// Adds the values of `q`.
    #[inline(always)]
    pub(crate) fn add_runs(&mut self, q: &[u8]) {
        let Some(&first) = q.first() else {
            return;
        };
        let n = q.len();
        let mut prev = usize::from(first);
        // Block at `base`: bit j of the mask says whether q[base + j + 1] differs from
        // q[base + j].
        let mut base = 0;
        #[cfg(target_arch = "x86_64")]
        if let Some(v4) = self.simd.v4 {
            while let (Some(x), Some(y)) = (q.get(base..base + 64), q.get(base + 1..base + 65)) {
                let (Ok(x), Ok(y)) = (<&[u8; 64]>::try_from(x), <&[u8; 64]>::try_from(y)) else {
                    break;
                };
                changes(
                    &mut self.tables,
                    &mut prev,
                    base,
                    differences64(v4, x, y),
                    y,
                );
                base += 64;
            }
        }
        while let (Some(x), Some(y)) = (q.get(base..base + 32), q.get(base + 1..base + 33)) {
            let (Ok(x), Ok(y)) = (<&[u8; 32]>::try_from(x), <&[u8; 32]>::try_from(y)) else {
                break;
            };
            let m = differences(self.simd, x, y);
            changes(&mut self.tables, &mut prev, base, u64::from(m), y);
            base += 32;
        }
        let hist = &mut self.tables[0];
        for p in base + 1..n {
            if q[p] != q[p - 1] {
                count_change(hist, &mut prev, p as u64, usize::from(q[p]));
            }
        }
        hist[prev] = hist[prev].wrapping_add(n as u64);
    }
}

/// Counts the changes of a block at `base` (bit `j` of `m`: the value becomes `y[j]` at `base +
/// j + 1`), into the two tables in turn.
#[inline(always)]
fn changes(tables: &mut [[u64; 256]; 2], prev: &mut usize, base: usize, mut m: u64, y: &[u8]) {
    let [a, b] = tables;
    while m != 0 {
        change(a, prev, base, &mut m, y);
        if m == 0 {
            break;
        }
        change(b, prev, base, &mut m, y);
    }
}

/// Counts the lowest change of `m` into `hist` and clears it.
#[inline(always)]
fn change(hist: &mut [u64; 256], prev: &mut usize, base: usize, m: &mut u64, y: &[u8]) {
    let j = m.trailing_zeros() as usize;
    count_change(hist, prev, (base + j + 1) as u64, usize::from(y[j]));
    *m &= *m - 1;
}

/// The value changes from `prev` to `b` at `p`: the run of `prev` ends (`+p`) and one of `b`
/// starts (`-p`).
#[inline(always)]
fn count_change(hist: &mut [u64; 256], prev: &mut usize, p: u64, b: usize) {
    hist[*prev] = hist[*prev].wrapping_add(p);
    hist[b] = hist[b].wrapping_sub(p);
    *prev = b;
}

/// Bit `j` set where `x[j] != y[j]`, 64 bytes at once.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn differences64(v4: pulp::x86::V4, x: &[u8; 64], y: &[u8; 64]) -> u64 {
    use pulp::bytemuck::cast;
    v4.avx512bw._mm512_cmpneq_epi8_mask(cast(*x), cast(*y))
}

/// Bit `j` set where `x[j] != y[j]`: a byte compare and a mask extraction with AVX2, else eight
/// bytes at a time.
#[inline(always)]
fn differences(simd: Simd, x: &[u8; 32], y: &[u8; 32]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = simd.v3 {
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

/// How [`Histogram`] counts, where the CPU has the instructions (else a row at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counting {
    /// A row at a time, in runs of equal values.
    #[cfg_attr(not(test), allow(dead_code))]
    Rows,
    /// Down the columns of each row of cells, a block of eight columns per AVX2 vector.
    #[cfg_attr(not(test), allow(dead_code))]
    Columns,
    /// The same, two blocks per AVX-512 vector where the CPU has it and their levels allow.
    ColumnPairs,
}

/// Otsu's histogram of the 8-bit image. Columns whose cell is below `v1` (the first value that
/// quantises to 1) are counted as zeros without being computed; the others are counted down the
/// columns of each row of cells where the CPU has AVX2 and FMA (see `columns`), else a row at a
/// time, in runs of equal values.
pub(crate) struct Histogram<'a> {
    up: &'a Upsampled,
    /// The smallest and largest upsampled values (the normalisation is `(lo, hi - lo)`).
    lo: f32,
    hi: f32,
    v1: f32,
    /// How to count where the CPU can (the fastest way, but for tests of each way).
    counting: Counting,
}

impl Job for Histogram<'_> {
    type Output = [u64; 256];

    #[inline(always)]
    fn run<F: Fma>(self) -> [u64; 256] {
        // Counting by columns needs the rows of cells (a map with a non-finite value that no
        // output pixel reads has none: then its rows are one group that reads many sources).
        #[cfg(target_arch = "x86_64")]
        if F::HARDWARE && self.counting != Counting::Rows && self.up.has_cells() {
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
        let mut hist = RunHistogram::new(Simd::detect());
        let mut ranges = Vec::new();
        for (gy, (start, end)) in self.up.row_groups().into_iter().enumerate() {
            self.up.ranges(gy, self.v1, &mut ranges);
            for oh in start..end {
                for &(a, b, class) in &ranges {
                    if class == Class::Below {
                        hist.add_zeros((b - a) as u64);
                        continue;
                    }
                    self.up.row_range_with::<F>(oh, a, b, &mut v);
                    for (q, &x) in q[..b - a].iter_mut().zip(&v[..b - a]) {
                        *q = quantize_fast(x, min, range);
                    }
                    hist.add_runs(&q[..b - a]);
                }
            }
        }
        hist.finish()
    }
}

impl<'a> Histogram<'a> {
    /// The histogram of a finite, non-constant map with extremes `lo < hi`.
    pub(crate) fn new(up: &'a Upsampled, lo: f32, hi: f32) -> Self {
        let (min, range) = (lo, hi - lo);
        let v1 = first_where(lo, hi, |v| quantize_fast(v, min, range) >= 1).unwrap_or(hi);
        Histogram {
            up,
            lo,
            hi,
            v1,
            counting: Counting::ColumnPairs,
        }
    }

    /// The same histogram counted down the columns of each row of cells (see `columns`).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn count_by_columns(&self, v3: pulp::x86::V3) -> Option<[u64; 256]> {
        let norm = (self.lo, self.hi - self.lo);
        let v4 = match self.counting {
            Counting::ColumnPairs => pulp::x86::V4::try_new(),
            _ => None,
        };
        let mut counts = crate::columns::ColumnCounts::new(v3, v4, (self.lo, self.hi), norm)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    use crate::dispatch::dispatch;
    use crate::threshold::{normalization, quantize};

    /// The obvious histogram: one count per byte.
    fn naive_hist(q: &[u8]) -> [u64; 256] {
        let mut h = [0u64; 256];
        q.iter().for_each(|&v| h[usize::from(v)] += 1);
        h
    }

    /// Otsu's histogram of a map as `segment_runs` counts it, by columns or by rows; `None` for
    /// maps that take another path (NaN, constant, infinite).
    fn histogram(map: &Array2<f32>, h: usize, w: usize, counting: Counting) -> Option<[u64; 256]> {
        let up = Upsampled::new(map.view(), h, w);
        let (lo, hi) = up.extremes()?;
        let range = hi - lo;
        if range == 0.0 || !(lo.is_finite() && hi.is_finite() && range.is_finite()) {
            return None;
        }
        let job = Histogram {
            counting,
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
            for counting in [Counting::Rows, Counting::Columns, Counting::ColumnPairs] {
                if let Some(counted) = histogram(&map, oh, ow, counting) {
                    proptest::prop_assert_eq!(counted, want, "{:?}", counting);
                }
            }
        }

        /// Run counting, with AVX-512, AVX2 and neither, equals counting every byte over
        /// several rows; values drawn from a few levels so that runs and changes (often back to
        /// the value before) both occur, lengths around the 32- and 64-byte blocks.
        #[test]
        fn run_histograms_count_every_byte(
            rows in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..300), 1..4),
            scale in 1u8..64,
            zeros in 0u64..5,
        ) {
            let rows: Vec<Vec<u8>> = rows
                .iter()
                .map(|q| q.iter().map(|&v| v.wrapping_mul(scale)).collect())
                .collect();
            let mut want = naive_hist(&rows.concat());
            want[0] += zeros;
            for simd in Simd::every() {
                let mut counted = RunHistogram::new(simd);
                rows.iter().for_each(|q| counted.add_runs(q));
                counted.add_zeros(zeros);
                proptest::prop_assert_eq!(counted.finish(), want, "{:?}", simd);
            }
        }
    }
}
