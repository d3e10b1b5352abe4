//! The upsampled heatmap, one output row at a time: fast, and bit-identical to torch.
//!
//! torch computes each output pixel of `interpolate(mode='bilinear')` as a width pass then a
//! height pass, each `fma(t0, w0, t1 * w1)` (see the `upsample` module for the exact rule). The
//! width pass of a source row is shared by every output row that reads it, so
//! [`Upsampled::new`] computes it once per source row (`in_h × out_w` values, 3 MB for a
//! 320×320 map to 2320 columns); an output row is then one fused multiply-add per pixel, and
//! the passes of `segment` consume rows from a small buffer without holding the whole image.
//!
//! The multiply-add must be correctly rounded, as torch's contracted one is. Where the CPU has
//! a hardware FMA (x86-64 with FMA and AVX2, detected at run time; every aarch64) the row loops
//! run inside a function compiled for those features, through `pulp`'s safe dispatch (the
//! `dispatch` module), and vectorise; elsewhere the exact software FMA of the `fma` module is
//! used. Both give the same bits (tested against each other and against the straightforward
//! implementation in [`reference`](crate::reference)).

use ndarray::{Array2, ArrayView2};

use crate::axis::axis;
use crate::cells::{Cells, Class, from_order_key, order_key};
use crate::dispatch::{Fma, Job, dispatch};

/// A heatmap prepared for upsampling to `out_h × out_w`: the width pass of every source row it
/// reads, and the height-pass indices and weights of every output row.
///
/// ```
/// use chexlocalize_saliency::Upsampled;
/// use ndarray::array;
///
/// let map = array![[0.0f32, 1.0], [2.0, 3.0]];
/// let up = Upsampled::new(map.view(), 4, 4);
/// let mut row = vec![0.0; 4];
/// up.row(0, &mut row);
/// assert_eq!(row, [0.0, 0.25, 0.75, 1.0]);
/// assert_eq!(up.to_array().row(0).to_vec(), row);
/// assert_eq!(up.normalization(), (0.0, 3.0));
/// ```
#[derive(Clone, Debug)]
pub struct Upsampled {
    out_h: usize,
    out_w: usize,
    /// Per output row: slots (in `width_pass`) of its two source rows, and their weights.
    s0: Vec<usize>,
    s1: Vec<usize>,
    h0: Vec<f32>,
    h1: Vec<f32>,
    /// Width pass of each source row that is read, `out_w` values per slot.
    width_pass: Vec<f32>,
    /// Value bounds per block of output pixels; `None` when a source value is not finite.
    cells: Option<Cells>,
    /// `width_pass` holds the whole output, row by row (torch's small-output kernel, see the
    /// `small` module): rows are read as they are, `s0`/`h0` are unused and `cells` is `None`.
    dense: bool,
}

/// Output columns computed at once per column group in the width pass. Sixteen covers a whole
/// group (the output columns between two source columns) for upsampling up to 16×, so each
/// group is one step: with eight, the 8- and 9-column groups of a 320-wide map upsampled to
/// 2828 took one or two steps in an irregular pattern. Measured on AVX2 (best of 400,
/// alternating builds, a compile beside): `Upsampled::new` of a 320×320 map to 2320×2828 in
/// 0.53 ms, against 0.58 ms with eight.
const LANES: usize = 16;

struct WidthPass<'a> {
    map: ArrayView2<'a, f32>,
    out_h: usize,
    out_w: usize,
}

impl Job for WidthPass<'_> {
    type Output = Upsampled;

    #[inline(always)]
    fn run<F: Fma>(self) -> Upsampled {
        let (in_h, in_w) = self.map.dim();
        let (out_h, out_w) = (self.out_h, self.out_w);
        if in_h == 0 || in_w == 0 {
            // Nothing to interpolate: every output pixel is NaN (an empty mask downstream).
            return Upsampled {
                out_h,
                out_w,
                s0: vec![0; out_h],
                s1: vec![0; out_h],
                h0: vec![1.0; out_h],
                h1: vec![0.0; out_h],
                width_pass: vec![f32::NAN; out_w],
                cells: None,
                dense: false,
            };
        }
        if let Some(dense) = crate::small::upsample_small(self.map, out_h, out_w) {
            return Upsampled {
                out_h,
                out_w,
                s0: (0..out_h).collect(),
                s1: (0..out_h).collect(),
                h0: vec![1.0; out_h],
                h1: vec![0.0; out_h],
                width_pass: dense.into_iter().collect(),
                cells: None,
                dense: true,
            };
        }
        let rows = axis(in_h, out_h);
        let cols = axis(in_w, out_w);
        // Slots for the source rows that some output row reads, in order.
        let mut slot = vec![usize::MAX; in_h];
        for &r in rows.i0.iter().chain(&rows.i1) {
            slot[r] = 0;
        }
        let mut used = 0;
        for s in slot.iter_mut().filter(|s| **s == 0) {
            *s = used;
            used += 1;
        }
        // Output columns grouped by their two source columns: within a group the sources are
        // two scalars and the weights contiguous, so the loop vectorises.
        let mut groups: Vec<(usize, usize, usize, usize)> = Vec::new(); // (start, end, c0, c1)
        for x in 0..out_w {
            match groups.last_mut() {
                Some(g) if g.2 == cols.i0[x] && g.3 == cols.i1[x] => g.1 = x + 1,
                _ => groups.push((x, x + 1, cols.i0[x], cols.i1[x])),
            }
        }
        // Per source row and column group: the group's two source values against the weights of
        // its columns, `LANES` at a time from the group's start, straight into the row's place
        // (the lanes past the group's end are overwritten by the next group, or land in the
        // spare lanes past the row, dropped before the next row).
        let pad = |w: &[f32]| {
            let mut v = w.to_vec();
            v.resize(out_w + LANES, 0.0);
            v
        };
        let (w0, w1) = (pad(&cols.w0), pad(&cols.w1));
        let mut width_pass: Vec<f32> = Vec::with_capacity(used * out_w + LANES);
        let map = self.map.as_standard_layout();
        let map = map.as_slice().unwrap_or_default();
        for (r, &s) in slot.iter().enumerate() {
            let Some(src) = map
                .get(r * in_w..(r + 1) * in_w)
                .filter(|_| s != usize::MAX)
            else {
                continue;
            };
            let at = width_pass.len();
            width_pass.resize(at + out_w + LANES, 0.0);
            let row = &mut width_pass[at..];
            for &(start, end, c0, c1) in &groups {
                let (a, b) = (src[c0], src[c1]);
                let mut p = start;
                while let (Some(out), Some(w0), Some(w1)) = (
                    row.get_mut(p..p + LANES),
                    w0.get(p..p + LANES),
                    w1.get(p..p + LANES),
                ) {
                    if p >= end {
                        break;
                    }
                    let (Ok(out), Ok(w0), Ok(w1)) = (
                        <&mut [f32; LANES]>::try_from(out),
                        <&[f32; LANES]>::try_from(w0),
                        <&[f32; LANES]>::try_from(w1),
                    ) else {
                        break;
                    };
                    let (w0, w1) = (*w0, *w1);
                    let mut lanes = [0f32; LANES];
                    for k in 0..LANES {
                        lanes[k] = F::fma(a, w0[k], b * w1[k]);
                    }
                    *out = lanes;
                    p += LANES;
                }
            }
            width_pass.truncate(at + out_w);
        }
        let mut row_groups: Vec<(usize, usize, usize, usize)> = Vec::new();
        for y in 0..out_h {
            match row_groups.last_mut() {
                Some(g) if g.2 == rows.i0[y] && g.3 == rows.i1[y] => g.1 = y + 1,
                _ => row_groups.push((y, y + 1, rows.i0[y], rows.i1[y])),
            }
        }
        let cells = Cells::new(self.map, &row_groups, &groups);
        Upsampled {
            out_h,
            out_w,
            s0: rows.i0.iter().map(|&r| slot[r]).collect(),
            s1: rows.i1.iter().map(|&r| slot[r]).collect(),
            h0: rows.w0,
            h1: rows.w1,
            width_pass,
            cells,
            dense: false,
        }
    }
}

impl Upsampled {
    /// Prepares `map` for upsampling to `out_h × out_w` exactly as torch's bilinear
    /// `interpolate` (`align_corners=False`). A map with no pixels upsamples to NaN everywhere.
    pub fn new(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Upsampled {
        dispatch(WidthPass { map, out_h, out_w })
    }

    #[cfg(test)]
    pub(crate) fn new_with<F: Fma>(map: ArrayView2<'_, f32>, out_h: usize, out_w: usize) -> Self {
        WidthPass { map, out_h, out_w }.run::<F>()
    }

    /// `(out_h, out_w)`.
    pub fn dim(&self) -> (usize, usize) {
        (self.out_h, self.out_w)
    }

    /// Output row `oh` into `out[..out_w]`.
    #[inline(always)]
    pub(crate) fn row_with<F: Fma>(&self, oh: usize, out: &mut [f32]) {
        let w = self.out_w;
        if self.dense {
            out[..w].copy_from_slice(&self.width_pass[oh * w..(oh + 1) * w]);
            return;
        }
        let (s0, s1) = (self.s0[oh], self.s1[oh]);
        let (h0, h1) = (self.h0[oh], self.h1[oh]);
        let t0 = &self.width_pass[s0 * w..(s0 + 1) * w];
        let t1 = &self.width_pass[s1 * w..(s1 + 1) * w];
        for ((o, &a), &b) in out[..w].iter_mut().zip(t0).zip(t1) {
            *o = F::fma(a, h0, b * h1);
        }
    }

    /// The two width-pass rows that output row `oh` blends (`out_w` values each): every value
    /// of the row at column `x` is a blend of `t0[x]` and `t1[x]` with weights in `[0, 1]`.
    #[inline(always)]
    pub(crate) fn sources(&self, oh: usize) -> (&[f32], &[f32]) {
        let w = self.out_w;
        let (s0, s1) = (self.s0[oh], self.s1[oh]);
        (
            &self.width_pass[s0 * w..(s0 + 1) * w],
            &self.width_pass[s1 * w..(s1 + 1) * w],
        )
    }

    /// The height-pass weights `(h0, h1)` of output row `oh`: its value at column `x` is
    /// `fma(t0[x], h0, t1[x] * h1)` over its [`sources`](Upsampled::sources).
    #[inline(always)]
    pub(crate) fn weights(&self, oh: usize) -> (f32, f32) {
        (self.h0[oh], self.h1[oh])
    }

    /// Output row `oh`, columns `x0..x1`, into `out[..x1 - x0]`.
    #[inline(always)]
    pub(crate) fn row_range_with<F: Fma>(&self, oh: usize, x0: usize, x1: usize, out: &mut [f32]) {
        let w = self.out_w;
        if self.dense {
            out[..x1 - x0].copy_from_slice(&self.width_pass[oh * w + x0..oh * w + x1]);
            return;
        }
        let (s0, s1) = (self.s0[oh], self.s1[oh]);
        let (h0, h1) = (self.h0[oh], self.h1[oh]);
        let t0 = &self.width_pass[s0 * w + x0..s0 * w + x1];
        let t1 = &self.width_pass[s1 * w + x0..s1 * w + x1];
        for ((o, &a), &b) in out[..x1 - x0].iter_mut().zip(t0).zip(t1) {
            *o = F::fma(a, h0, b * h1);
        }
    }

    /// Whether value bounds per cell are known (the map is finite).
    pub(crate) fn has_cells(&self) -> bool {
        self.cells.is_some()
    }

    /// Groups of consecutive output rows `[start, end)` that share their cells (the whole
    /// output as one group when the map has non-finite values). With [`Upsampled::ranges`], the
    /// passes loop over these themselves: a closure called from here would not be compiled for
    /// the dispatched CPU features.
    pub(crate) fn row_groups(&self) -> Vec<(usize, usize)> {
        match &self.cells {
            Some(cells) => cells.rows.clone(),
            None => vec![(0, self.out_h)],
        }
    }

    /// The columns of row group `gy` split into ranges `(start, end, class)` by comparing the
    /// cells' bounds with `t`: [`Class::Below`] ranges hold only values `< t`,
    /// [`Class::Above`] only values `>= t`, [`Class::Mixed`] either (a whole row is `Mixed`
    /// when the map has non-finite values).
    #[inline(always)]
    pub(crate) fn ranges(&self, gy: usize, t: f32, out: &mut Vec<(usize, usize, Class)>) {
        match &self.cells {
            Some(cells) => cells.ranges(gy, t, out),
            None => {
                out.clear();
                out.push((0, self.out_w, Class::Mixed));
            }
        }
    }

    /// Output row `oh` into `out` (which must hold at least `out_w` values; nothing is written
    /// for a row outside the output or a short buffer).
    pub fn row(&self, oh: usize, out: &mut [f32]) {
        if oh < self.out_h && out.len() >= self.out_w {
            dispatch(OneRow { up: self, oh, out });
        }
    }

    /// Calls `f(oh, row)` for every output row in order.
    pub fn for_rows(&self, mut f: impl FnMut(usize, &[f32])) {
        dispatch(ForRows {
            up: self,
            f: &mut f,
        });
    }

    /// The whole upsampled map.
    pub fn to_array(&self) -> Array2<f32> {
        let mut out = Array2::zeros((self.out_h, self.out_w));
        self.for_rows(|r, values| {
            out.row_mut(r)
                .iter_mut()
                .zip(values)
                .for_each(|(o, &v)| *o = v);
        });
        out
    }

    /// The reference's normalisation `(m - min(m)) / max(m - min(m))` as `(min, range)`, so that
    /// a value normalises to `(x - min) / range` in float32.
    ///
    /// torch semantics: a NaN anywhere makes both NaN; a constant map has range 0 (and
    /// normalises to 0/0 = NaN). `range = max - min` equals torch's `max(m - min)` because
    /// rounding is monotonic, so one pass finds both. `(NaN, NaN)` for an empty output. A zero
    /// minimum may come out as `0.0` where torch has `-0.0` or the reverse; no later step can
    /// tell them apart.
    pub fn normalization(&self) -> (f32, f32) {
        match self.extremes() {
            Some((lo, hi)) => (lo, hi - lo),
            None => (f32::NAN, f32::NAN),
        }
    }

    /// The smallest and largest upsampled values; `None` if one is NaN or the output is empty.
    pub(crate) fn extremes(&self) -> Option<(f32, f32)> {
        if self.out_h == 0 || self.out_w == 0 {
            return None;
        }
        if self.cells.is_some() {
            return Some(dispatch(CellExtremes(self)));
        }
        let (lo, hi, nan) = dispatch(MinMax(self));
        (!nan).then_some((lo, hi))
    }
}

struct OneRow<'a, 'o> {
    up: &'a Upsampled,
    oh: usize,
    out: &'o mut [f32],
}

impl Job for OneRow<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn run<F: Fma>(self) {
        self.up.row_with::<F>(self.oh, self.out);
    }
}

struct ForRows<'a, 'f> {
    up: &'a Upsampled,
    f: &'f mut dyn FnMut(usize, &[f32]),
}

impl Job for ForRows<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn run<F: Fma>(self) {
        let mut buf = vec![0f32; self.up.out_w];
        for oh in 0..self.up.out_h {
            self.up.row_with::<F>(oh, &mut buf);
            (self.f)(oh, &buf);
        }
    }
}

/// The exact minimum and maximum from the cells' bounds: a cell whose lower bound is not below
/// the smallest upper bound cannot hold the minimum, so only the few cells that can are
/// computed (often none: a flat zero area pins the minimum of a ReLU map at exactly zero).
struct CellExtremes<'a>(&'a Upsampled);

impl Job for CellExtremes<'_> {
    type Output = (f32, f32);

    #[inline(always)]
    fn run<F: Fma>(self) -> (f32, f32) {
        let up = self.0;
        let Some(cells) = &up.cells else {
            return (f32::NAN, f32::NAN);
        };
        let (lo_all, hi_all) = cells.all_bounds();
        let (upper_of_min, lower_of_max) = (cells.upper_of_min, cells.lower_of_max);
        let mut buf = vec![0f32; up.out_w];
        // Some value is <= upper_of_min; a smaller one can only be in a cell whose lower bound
        // is below it. Visit those by increasing lower bound while they can still win.
        let mut min = upper_of_min;
        let mut candidates = indices_where(lo_all, min, |l, t| l < t);
        candidates.sort_by(|&a, &b| cells.bounds(a).0.total_cmp(&cells.bounds(b).0));
        for i in candidates {
            if cells.bounds(i).0 >= min {
                break;
            }
            min = min.min(cell_extremes::<F>(up, cells, i, &mut buf).0);
        }
        let mut max = lower_of_max;
        let mut candidates = indices_where(hi_all, max, |h, t| h > t);
        candidates.sort_by(|&a, &b| cells.bounds(b).1.total_cmp(&cells.bounds(a).1));
        for i in candidates {
            if cells.bounds(i).1 <= max {
                break;
            }
            max = max.max(cell_extremes::<F>(up, cells, i, &mut buf).1);
        }
        (min, max)
    }
}

/// The indices `i` where `pred(values[i], t)` holds, few as a rule: sixteen values are tested
/// at once (a branch-free fold that vectorises) and only the blocks with a hit are looked into.
#[inline(always)]
fn indices_where(values: &[f32], t: f32, pred: fn(f32, f32) -> bool) -> Vec<usize> {
    let mut out = Vec::new();
    let blocks = values.chunks(16);
    for (b, block) in blocks.enumerate() {
        if block.iter().fold(false, |hit, &v| hit | pred(v, t)) {
            let hits = block.iter().enumerate().filter(|&(_, &v)| pred(v, t));
            out.extend(hits.map(|(i, _)| 16 * b + i));
        }
    }
    out
}

/// The smallest and largest computed values of cell `i`.
#[inline(always)]
fn cell_extremes<F: Fma>(up: &Upsampled, cells: &Cells, i: usize, buf: &mut [f32]) -> (f32, f32) {
    let (gy, gx) = cells.position(i);
    let ((r0, r1), (c0, c1)) = (cells.rows[gy], cells.cols[gx]);
    let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
    for oh in r0..r1 {
        up.row_range_with::<F>(oh, c0, c1, buf);
        for &v in &buf[..c1 - c0] {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    (lo, hi)
}

struct MinMax<'a>(&'a Upsampled);

impl Job for MinMax<'_> {
    type Output = (f32, f32, bool);

    #[inline(always)]
    fn run<F: Fma>(self) -> (f32, f32, bool) {
        let up = self.0;
        let mut buf = vec![0f32; up.out_w];
        // Minimum and maximum as order-preserving integer keys (integer reductions vectorise;
        // float ones do not, for their NaN rules), and the largest exponent field, which is all
        // ones exactly when some value is NaN or infinite.
        let (mut lo, mut hi, mut exp) = (i32::MAX, i32::MIN, 0i32);
        for oh in 0..up.out_h {
            up.row_with::<F>(oh, &mut buf);
            for &v in &buf {
                let k = order_key(v);
                lo = lo.min(k);
                hi = hi.max(k);
                exp = exp.max(v.to_bits() as i32 & 0x7f80_0000);
            }
        }
        if exp != 0x7f80_0000 {
            return (from_order_key(lo), from_order_key(hi), false);
        }
        // A NaN or an infinity: the keys of NaNs lie beyond the infinities, so look again
        // with NaN-ignoring float comparisons (rare maps; a second pass is fine).
        let (mut lo, mut hi, mut nan) = (f32::INFINITY, f32::NEG_INFINITY, false);
        for oh in 0..up.out_h {
            up.row_with::<F>(oh, &mut buf);
            for &v in &buf {
                lo = lo.min(v);
                hi = hi.max(v);
                nan |= v.is_nan();
            }
        }
        (lo, hi, nan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::SoftwareFma;
    use proptest::prelude::*;

    fn map_strategy() -> impl Strategy<Value = (Array2<f32>, usize, usize)> {
        (1usize..12, 1usize..12, 1usize..60, 1usize..60).prop_flat_map(|(h, w, oh, ow)| {
            (
                proptest::collection::vec(
                    prop_oneof![
                        3 => 0.0f32..1.0,
                        1 => Just(0.0f32),
                        1 => -5.0f32..5.0,
                        1 => any::<f32>().prop_filter("finite", |x| x.is_finite()),
                    ],
                    h * w,
                ),
                Just((h, w, oh, ow)),
            )
                .prop_map(|(v, (h, w, oh, ow))| {
                    (Array2::from_shape_vec((h, w), v).expect("shape"), oh, ow)
                })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Hardware and software FMA, and the straightforward per-pixel implementation, agree
        /// bit for bit.
        #[test]
        fn rows_match_the_reference((m, oh, ow) in map_strategy()) {
            let want = crate::reference::upsample_bilinear(m.view(), oh, ow);
            let soft = Upsampled::new_with::<SoftwareFma>(m.view(), oh, ow).to_array();
            let fast = Upsampled::new(m.view(), oh, ow).to_array();
            for ((a, b), c) in want.iter().zip(&soft).zip(&fast) {
                prop_assert_eq!(a.to_bits(), b.to_bits());
                prop_assert_eq!(a.to_bits(), c.to_bits());
            }
            let (min, range) = crate::normalization(&want);
            let (fmin, frange) = Upsampled::new(m.view(), oh, ow).normalization();
            // Equal values; the sign of a zero minimum may differ, which no later step sees
            // (x - 0.0 and x - (-0.0) are equal, and both normalise and quantise alike).
            prop_assert!(min == fmin || (min.is_nan() && fmin.is_nan()), "{} vs {}", min, fmin);
            prop_assert!(range == frange || (range.is_nan() && frange.is_nan()), "{} vs {}", range, frange);
        }
    }
}
