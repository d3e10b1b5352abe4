//! The smoothed Otsu mask (`--if_smoothing True --k k`) in one pass over the output rows (or
//! in two parts of them of about equal work, on two threads), with the flat parts of the map
//! skipped.
//!
//! The steps are those of [`smooth`](crate::smooth) and `otsu_fill`: every 8-bit pixel `q`
//! mapped to the gray of its JET colour, the `k × k` box filter, `m = 255 - mean`, Otsu's
//! threshold `t` of `m`, and every contour of `m > t` filled. Here they are fused:
//!
//! - Each upsampled row is computed once, when it enters the box filter's window, and only
//!   where it is needed: where a row's cells all quantise to 0 (the flat, zero-after-ReLU parts
//!   of a Grad-CAM map, about half its pixels), its horizontal window sums are `k · gray(0)`
//!   without computing a pixel.
//! - Each output row of `m` is counted into the histogram as it is made, with its row and
//!   column maxima, and kept in a per-thread buffer reused from map to map (no image-sized
//!   allocation, so no page faults per map).
//! - With [`Parallelism::Halves`] each part of the rows fills its box filter's ring from its
//!   own first row and returns its histogram and maxima; the two are merged before Otsu.
//! - After Otsu, the binary image is made only over the bounding box of `m > t`.
//!
//! The oracle is the step-by-step `reference::segment` (proptest in `tests/fast_vs_reference.rs`)
//! and OpenCV's own output on recorded cases (`tests/edge_oracle.rs`).

use std::cell::RefCell;
use std::ops::{Add, AddAssign, Range, Sub};

use chexlocalize_raster::{BorderImage, RowRuns, RowSpans};

use crate::cells::Class;
use crate::dispatch::{Fma, Job, dispatch};
use crate::engine::Upsampled;
use crate::fill::fill_contours;
use crate::gray::GrayLevels;
use crate::histogram::RunHistogram;
use crate::parallel::Parallelism;
use crate::simd::Simd;
use crate::smooth::{Divide, jet_gray, reflect101};
use crate::threshold::otsu_threshold;

/// Per-thread buffer for the smoothed image, kept between maps up to this size.
const KEEP_BYTES: usize = 16 << 20;

thread_local! {
    static IMAGE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The smoothed Otsu mask of `up`, normalised by `(min, range)`, with a `k × k` box filter.
pub(crate) struct SmoothedOtsu<'a> {
    pub(crate) up: &'a Upsampled,
    pub(crate) min: f32,
    pub(crate) range: f32,
    pub(crate) k: usize,
    /// Every upsampled value below this quantises to 0 (`f32::NEG_INFINITY` when no such
    /// bound is known: nothing is skipped).
    pub(crate) zero_below: f32,
}

/// The horizontal part of the filter: one row's window sums of `gray(q)`.
struct Horizontal<'a> {
    up: &'a Upsampled,
    k: usize,
    /// `gray(q)` of each value, for this map's normalisation.
    gray: GrayLevels,
    /// Per row group, the column ranges whose values all quantise to 0.
    zero: &'a [Vec<(usize, usize)>],
    /// Output row → row group.
    group_of: &'a [u32],
    /// Scratch: upsampled values and gray levels of one row.
    v: Vec<f32>,
    g: Vec<u8>,
    /// Scratch: the column ranges to compute.
    todo: Vec<(usize, usize)>,
}

impl Horizontal<'_> {
    /// Window sums of row `r` into `out` (`w` long).
    #[inline(always)]
    fn row<F: Fma, L: Lane>(&mut self, r: usize, out: &mut [L]) {
        let w = out.len();
        let k = self.k;
        let (anchor, right) = (k / 2, k - 1 - k / 2);
        let flat = L::of(k * usize::from(self.gray.lut()[0]));
        // Columns whose whole window lies in a zero range get `k · gray(0)`; the rest (`todo`)
        // are computed. Narrow images are computed whole.
        self.todo.clear();
        let mut next = 0;
        if w > 4 * k {
            for &(a, b) in &self.zero[self.group_of[r] as usize] {
                let (fa, fb) = (a + anchor, b.saturating_sub(right));
                if fa < fb {
                    if next < fa {
                        self.todo.push((next, fa));
                    }
                    out[fa..fb].fill(flat);
                    next = fb;
                }
            }
        }
        if next < w {
            self.todo.push((next, w));
        }
        for i in 0..self.todo.len() {
            let (c0, c1) = self.todo[i];
            // The pixels these windows read (reflected at the borders): `k` more on each side,
            // to the border when that is near.
            let e0 = c0.saturating_sub(k);
            let e1 = (c1 + k).min(w);
            self.up.row_range_with::<F>(r, e0, e1, &mut self.v);
            self.gray.apply(&self.v[..e1 - e0], &mut self.g[e0..e1]);
            // Interior columns as `k` shifted adds; the few near a border one by one.
            let (i0, i1) = (c0.max(anchor), c1.min(w.saturating_sub(right)));
            if i0 < i1 {
                let dst = &mut out[i0..i1];
                let src = &self.g[i0 - anchor..i1 - anchor];
                dst.iter_mut().zip(src).for_each(|(o, &s)| *o = L::from(s));
                for d in 1..k {
                    let src = &self.g[i0 - anchor + d..i1 - anchor + d];
                    dst.iter_mut().zip(src).for_each(|(o, &s)| *o += L::from(s));
                }
            }
            let (left, right) = if i0 < i1 {
                (c0..i0, i1..c1)
            } else {
                (c0..c1, c1..c1)
            };
            for x in left.chain(right) {
                out[x] = (0..k).fold(L::default(), |a, d| {
                    a + L::from(self.g[reflect101((x + d) as isize - anchor as isize, w)])
                });
            }
        }
    }
}

/// The integer type of the window sums: `u16` while `255 k²` fits (k <= 16), which halves the
/// vector work, else `u32`.
trait Lane:
    Copy + Default + From<u8> + Into<u32> + Add<Output = Self> + Sub<Output = Self> + AddAssign
{
    /// `n` (which fits).
    fn of(n: usize) -> Self;
}

impl Lane for u16 {
    #[inline(always)]
    fn of(n: usize) -> u16 {
        n as u16
    }
}

impl Lane for u32 {
    #[inline(always)]
    fn of(n: usize) -> u32 {
        n as u32
    }
}

impl SmoothedOtsu<'_> {
    /// The mask, with the rows of the smoothed image made in one band or two (see
    /// [`Parallelism`]); Otsu's threshold and the contours follow on this thread.
    pub(crate) fn segment(self, parallelism: Parallelism) -> RowRuns {
        let (h, w) = self.up.dim();
        if h == 0 || w == 0 {
            return RowSpans::new(h, w).into_rows();
        }
        let k = self.k.max(1);
        let groups = self.up.row_groups();
        let mut group_of = vec![0u32; h];
        let mut zero = Vec::with_capacity(groups.len());
        let mut ranges = Vec::new();
        for (gy, &(start, end)) in groups.iter().enumerate() {
            group_of[start..end].fill(gy as u32);
            self.up.ranges(gy, self.zero_below, &mut ranges);
            zero.push(
                ranges
                    .iter()
                    .filter(|r| r.2 == Class::Below)
                    .map(|r| (r.0, r.1))
                    .collect(),
            );
        }
        let mut image = IMAGE.with_borrow_mut(std::mem::take);
        if image.len() < h * w {
            image.resize(h * w, 0);
        }
        let m = &mut image[..h * w];
        let band = |rows: Range<usize>, out: &mut [u8]| {
            dispatch(Band {
                up: self.up,
                norm: (self.min, self.range),
                k,
                zero: &zero,
                group_of: &group_of,
                rows,
                out,
            })
        };
        let stats = match parallelism {
            Parallelism::Halves if h >= 2 => {
                let mid = balanced_middle(&zero, &group_of, w);
                let (top, bottom) = m.split_at_mut(mid * w);
                let (a, b) = rayon::join(|| band(0..mid, top), || band(mid..h, bottom));
                a.merge(b)
            }
            _ => band(0..h, m),
        };
        let runs = dispatch(Contours {
            m,
            w,
            h,
            stats: &stats,
        });
        if image.len() <= KEEP_BYTES {
            IMAGE.with_borrow_mut(|b| *b = image);
        }
        runs
    }
}

/// The row that splits the smoothed image's work in halves: a row costs its columns outside
/// the zero ranges (the horizontal pass) plus `w` (the vertical sums, division and histogram).
/// Always in `1..h` for `h >= 2`.
fn balanced_middle(zero: &[Vec<(usize, usize)>], group_of: &[u32], w: usize) -> usize {
    let cost: Vec<usize> = zero
        .iter()
        .map(|z| 2 * w - z.iter().map(|&(a, b)| b - a).sum::<usize>().min(w))
        .collect();
    let total: usize = group_of.iter().map(|&g| cost[g as usize]).sum();
    // The first row whose work is mostly past the half.
    let mut done = 0;
    let mid = group_of
        .iter()
        .position(|&g| {
            let c = cost[g as usize];
            done += c;
            2 * done - c > total
        })
        .unwrap_or(0);
    mid.clamp(1, group_of.len().saturating_sub(1).max(1))
}

/// Rows `rows` of the smoothed image `m` into `out`, with their histogram and maxima.
struct Band<'a> {
    up: &'a Upsampled,
    norm: (f32, f32),
    k: usize,
    zero: &'a [Vec<(usize, usize)>],
    group_of: &'a [u32],
    rows: Range<usize>,
    out: &'a mut [u8],
}

/// What Otsu's threshold and the crop need of a band of `m`: its histogram, the maximum of
/// each of its rows and of each column over its rows.
struct BandStats {
    hist: [u64; 256],
    row_max: Vec<u8>,
    col_max: Vec<u8>,
}

impl BandStats {
    /// The statistics of this band followed by `below`.
    fn merge(mut self, below: BandStats) -> BandStats {
        for (a, b) in self.hist.iter_mut().zip(below.hist) {
            *a = a.wrapping_add(b);
        }
        self.row_max.extend(below.row_max);
        for (a, b) in self.col_max.iter_mut().zip(below.col_max) {
            *a = (*a).max(b);
        }
        self
    }
}

impl Job for Band<'_> {
    type Output = BandStats;

    #[inline(always)]
    fn run<F: Fma>(self) -> BandStats {
        if self.k <= 16 {
            self.run_with::<F, u16>()
        } else {
            self.run_with::<F, u32>()
        }
    }
}

impl Band<'_> {
    #[inline(always)]
    fn run_with<F: Fma, L: Lane>(self) -> BandStats {
        let (h, w) = self.up.dim();
        let k = self.k;
        let mut horizontal = Horizontal {
            up: self.up,
            k,
            gray: GrayLevels::new(Simd::detect(), jet_gray(), self.norm),
            zero: self.zero,
            group_of: self.group_of,
            v: vec![0f32; w],
            g: vec![0u8; w],
            todo: Vec::new(),
        };
        let anchor = k / 2;
        let divide = Divide::new((k * k) as u64);
        let r0 = self.rows.start;
        // The window's horizontal sums in a ring (row `r - anchor + d` in slot `(r + d) % k`),
        // and their running column sums.
        let mut ring = vec![L::default(); k * w];
        let mut col = vec![L::default(); w];
        for d in 0..k {
            let at = (r0 + d) % k;
            let slot = &mut ring[at * w..(at + 1) * w];
            horizontal.row::<F, L>(reflect101((r0 + d) as isize - anchor as isize, h), slot);
            col.iter_mut().zip(slot.iter()).for_each(|(c, &v)| *c += v);
        }
        let mut entering = vec![L::default(); w];
        let mut hist = RunHistogram::new(Simd::detect());
        let mut row_max = vec![0u8; self.rows.len()];
        let mut col_max = vec![0u8; w];
        for (i, out) in self.out.chunks_exact_mut(w).enumerate() {
            let r = r0 + i;
            divide.apply_row(&col, out, true);
            hist.add_runs(out);
            row_max[i] = out.iter().fold(0, |a, &b| a.max(b));
            col_max
                .iter_mut()
                .zip(out.iter())
                .for_each(|(c, &v)| *c = (*c).max(v));
            if r + 1 == self.rows.end {
                break;
            }
            horizontal.row::<F, L>(reflect101((r + k - anchor) as isize, h), &mut entering);
            let leaving = &mut ring[(r % k) * w..(r % k + 1) * w];
            for ((c, l), &e) in col.iter_mut().zip(leaving.iter_mut()).zip(&entering) {
                *c = *c + e - *l;
                *l = e;
            }
        }
        BandStats {
            hist: hist.finish(),
            row_max,
            col_max,
        }
    }
}

/// Otsu's threshold `t` of the smoothed image `m` and its contours of `m > t` filled, made
/// over the bounding box of `m > t`.
struct Contours<'a> {
    m: &'a [u8],
    w: usize,
    h: usize,
    stats: &'a BandStats,
}

impl Job for Contours<'_> {
    type Output = RowRuns;

    #[inline(always)]
    fn run<F: Fma>(self) -> RowRuns {
        let (m, w, h) = (self.m, self.w, self.h);
        let BandStats {
            hist,
            row_max,
            col_max,
        } = self.stats;
        let t = otsu_threshold(hist);
        // OpenCV's binary image is `m > t` set to `maxval = max(m)`: all zeros when that is 0.
        let maxval = row_max.iter().fold(0, |a, &b| a.max(b));
        let rows = row_max
            .iter()
            .position(|&v| v > t)
            .zip(row_max.iter().rposition(|&v| v > t));
        let cols = col_max
            .iter()
            .position(|&v| v > t)
            .zip(col_max.iter().rposition(|&v| v > t));
        match (rows, cols) {
            (Some((y0, y1)), Some((x0, x1))) if maxval > 0 => {
                let mut img = BorderImage::new(y1 + 1 - y0, x1 + 1 - x0);
                for y in y0..=y1 {
                    img.set_row_with(y - y0, &m[y * w + x0..y * w + x1 + 1], |&v| v > t);
                }
                fill_contours(img, h, w, [x0 as i32, y0 as i32])
            }
            _ => RowSpans::new(h, w).into_rows(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::balanced_middle;

    #[test]
    fn the_halves_split_the_estimated_work() {
        // Ten rows of width 100 in two groups: equal work splits at the middle row.
        let group_of = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let none = vec![vec![], vec![]];
        assert_eq!(balanced_middle(&none, &group_of, 100), 5);
        // The top group all zero (it costs half as much per row): more rows go to the top
        // (700 against 800).
        let top_zero = vec![vec![(0, 100)], vec![]];
        assert_eq!(balanced_middle(&top_zero, &group_of, 100), 6);
        // Two rows: one each; one row: the bound stays in range.
        assert_eq!(balanced_middle(&none, &[0, 0], 10), 1);
        assert_eq!(balanced_middle(&none, &[0], 10), 1);
    }
}
