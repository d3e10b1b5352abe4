//! Bounds on the upsampled values over blocks of output pixels, from the source map alone.
//!
//! The output pixels whose two source rows and two source columns are the same form a *cell*
//! (about 9×7 pixels for a 320×320 map upsampled to 2828×2320). Every value in a cell is a
//! bilinear blend of its four source corners, rounded four times, so it lies within the corners'
//! range widened by a few units in the last place. Large parts of a Grad-CAM map are flat (zero
//! after the ReLU) or far from a threshold, so deciding per cell — "below", "above" or "mixed" —
//! lets the passes of `segment` skip most pixels and compute only the mixed cells exactly.
//!
//! Error bound (what `bounds` widens by): with `M` the largest corner magnitude, each pass
//! computes `fma(a, w0, b * w1)` where the weights are within `2^-24` of summing to one; the
//! weight error, the rounding of `b * w1` and of the sum each move the result by at most
//! `M · 2^-24` (and `2^-150` below the normal range), so the width pass is within `3 M 2^-24` of
//! the exact blend of its two sources and the height pass adds as much again: `6 M 2^-24 <
//! M 2^-21`. We widen by `M 2^-19 + 2^-126` and one more float each way. Products of
//! non-negative values stay non-negative, and four exact zeros give exactly zero, which keeps
//! the flat zero areas of ReLU maps exact.

use ndarray::ArrayView2;

/// How a cell's values compare with a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Every value is below the threshold.
    Below,
    /// Every value is at or above it.
    Above,
    /// Some may be on either side: compute them.
    Mixed,
}

/// The cell grid of an upsampling and each cell's bounds.
#[derive(Clone, Debug)]
pub(crate) struct Cells {
    /// Output row ranges `[start, end)` sharing their two source rows.
    pub(crate) rows: Vec<(usize, usize)>,
    /// Output column ranges `[start, end)` sharing their two source columns.
    pub(crate) cols: Vec<(usize, usize)>,
    /// Lower and upper bounds per cell, row-major over `(rows, cols)`.
    lo: Vec<f32>,
    hi: Vec<f32>,
    /// The smallest upper bound and the largest lower bound: some value is at most the first
    /// and some at least the second.
    pub(crate) upper_of_min: f32,
    pub(crate) lower_of_max: f32,
}

/// `[lo, hi]` holding every upsampled value of a cell whose corners lie in `[mn, mx]`
/// (finite). Branch-free, so that it vectorises over a row of cells: the margin
/// `M 2^-18 + 2^-126` also absorbs the rounding of the subtraction and addition themselves, and
/// the clamps make four zero corners give exactly `[0, 0]`. It also holds, with room to spare,
/// the height pass alone: the values of one output column over a row of cells are blends of
/// two width-pass values in `[mn, mx]`, within `3 M 2^-24` of their range.
#[inline(always)]
pub(crate) fn bounds(mn: f32, mx: f32) -> (f32, f32) {
    let m = max(mn.abs(), mx.abs());
    let margin = m * (1.0 / 262_144.0) + f32::MIN_POSITIVE;
    let lo = mn - margin;
    let hi = mx + margin;
    (
        if mn >= 0.0 { max(lo, 0.0) } else { lo },
        if mx <= 0.0 { min(hi, 0.0) } else { hi },
    )
}

/// A key whose integer order is the order of the non-NaN floats (-0.0 just below +0.0; NaNs
/// beyond the infinities).
#[inline(always)]
pub(crate) fn order_key(x: f32) -> i32 {
    let b = x.to_bits() as i32;
    b ^ ((b >> 31) & 0x7fff_ffff)
}

/// The float of an [`order_key`].
#[inline(always)]
pub(crate) fn from_order_key(k: i32) -> f32 {
    f32::from_bits((k ^ ((k >> 31) & 0x7fff_ffff)) as u32)
}

/// Minimum and maximum of finite values as plain comparisons (which vectorise; `f32::min` and
/// `f32::max` carry NaN rules that do not).
#[inline(always)]
pub(crate) fn min(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

#[inline(always)]
pub(crate) fn max(a: f32, b: f32) -> f32 {
    if b > a { b } else { a }
}

impl Cells {
    /// The cells of `map` for output row groups `(start, end, r0, r1)` and column groups
    /// `(start, end, c0, c1)`; `None` if the map holds a NaN or an infinity.
    #[inline(always)] // compiled inside the dispatch of `Upsampled::new`
    pub(crate) fn new(
        map: ArrayView2<'_, f32>,
        row_groups: &[(usize, usize, usize, usize)],
        col_groups: &[(usize, usize, usize, usize)],
    ) -> Option<Cells> {
        let (in_h, in_w) = map.dim();
        // The map row by row as plain slices (a copy only if it is not in standard layout).
        let owned;
        let src: &[f32] = match map.as_slice() {
            Some(s) => s,
            None => {
                owned = map.iter().copied().collect::<Vec<f32>>();
                &owned
            }
        };
        // (A fold without early exit, which vectorises: maps are finite as a rule.)
        if src.iter().fold(false, |any, x| any | !x.is_finite()) {
            return None;
        }
        let row = |r: usize| &src[r * in_w..(r + 1) * in_w];
        debug_assert_eq!(src.len(), in_h * in_w);
        let ng = col_groups.len();
        let n = row_groups.len() * ng;
        let (mut lo, mut hi) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let (mut umin, mut lmax) = (i32::MAX, i32::MIN);
        // Column groups by their sources: `c1` is `c0` or `c0 + 1` (bilinear), so a group's
        // extremes over its two columns are `pair[c0]` or `single[c0]`. Upsampling gives runs of
        // consecutive pairs, copied as slices; anything else is gathered.
        let mut runs: Vec<(usize, usize, usize, bool)> = Vec::new(); // (g0, g1, c0 of g0, pair)
        for (g, &(_, _, c0, c1)) in col_groups.iter().enumerate() {
            let pair = c1 != c0;
            match runs.last_mut() {
                Some(r) if r.3 == pair && r.2 + (g - r.0) == c0 => r.1 = g + 1,
                _ => runs.push((g, g + 1, c0, pair)),
            }
        }
        let (mut cmin, mut cmax) = (vec![0f32; in_w], vec![0f32; in_w]);
        let (mut pmin, mut pmax) = (vec![0f32; in_w], vec![0f32; in_w]);
        let (mut gmin, mut gmax) = (vec![0f32; ng], vec![0f32; ng]);
        for &(_, _, r0, r1) in row_groups {
            // Per source column, the smaller and larger of the two source rows; per pair of
            // neighbouring columns; per column group; then the bounds of the row of cells.
            let (top, bottom) = (row(r0), row(r1));
            for c in 0..in_w {
                cmin[c] = min(top[c], bottom[c]);
                cmax[c] = max(top[c], bottom[c]);
            }
            for c in 0..in_w - 1 {
                pmin[c] = min(cmin[c], cmin[c + 1]);
                pmax[c] = max(cmax[c], cmax[c + 1]);
            }
            for &(g0, g1, c0, pair) in &runs {
                let (smin, smax) = if pair { (&pmin, &pmax) } else { (&cmin, &cmax) };
                gmin[g0..g1].copy_from_slice(&smin[c0..c0 + (g1 - g0)]);
                gmax[g0..g1].copy_from_slice(&smax[c0..c0 + (g1 - g0)]);
            }
            let done = lo.len();
            lo.extend(gmin.iter().zip(&gmax).map(|(&mn, &mx)| bounds(mn, mx).0));
            hi.extend(gmin.iter().zip(&gmax).map(|(&mn, &mx)| bounds(mn, mx).1));
            // Folded while the row is hot, as order-preserving integer keys (integer reductions
            // vectorise; float ones do not, for their NaN rules).
            umin = hi[done..].iter().fold(umin, |k, &h| k.min(order_key(h)));
            lmax = lo[done..].iter().fold(lmax, |k, &l| k.max(order_key(l)));
        }
        Some(Cells {
            rows: row_groups.iter().map(|g| (g.0, g.1)).collect(),
            cols: col_groups.iter().map(|g| (g.0, g.1)).collect(),
            lo,
            hi,
            upper_of_min: from_order_key(umin),
            lower_of_max: from_order_key(lmax),
        })
    }

    /// Bounds of cell `i` (row-major index).
    pub(crate) fn bounds(&self, i: usize) -> (f32, f32) {
        (self.lo[i], self.hi[i])
    }

    /// Lower and upper bounds of every cell (row-major).
    pub(crate) fn all_bounds(&self) -> (&[f32], &[f32]) {
        (&self.lo, &self.hi)
    }

    /// Row group and column group of cell `i`.
    pub(crate) fn position(&self, i: usize) -> (usize, usize) {
        (i / self.cols.len(), i % self.cols.len())
    }

    /// The columns of row group `gy` as ranges `(start, end, class)` against threshold `t`
    /// (values `>= t` are above), neighbouring cells of one class merged.
    #[inline(always)]
    pub(crate) fn ranges(&self, gy: usize, t: f32, out: &mut Vec<(usize, usize, Class)>) {
        out.clear();
        let n = self.cols.len();
        let (lo, hi) = (
            &self.lo[gy * n..(gy + 1) * n],
            &self.hi[gy * n..(gy + 1) * n],
        );
        let Some((&l, &h)) = lo.last().zip(hi.last()) else {
            return;
        };
        // 0 below, 1 mixed, 2 above, in a loop that vectorises; 8 copies of the last code past
        // the end, so that the words below never see a change there.
        let code = |l: f32, h: f32| u8::from(l >= t) + u8::from(h >= t);
        let mut codes: Vec<u8> = Vec::with_capacity(n + 8);
        codes.extend(lo.iter().zip(hi).map(|(&l, &h)| code(l, h)));
        codes.resize(n + 8, code(l, h));
        let class = |c: u8| match c {
            0 => Class::Below,
            1 => Class::Mixed,
            _ => Class::Above,
        };
        let mut push = |start: usize, end: usize| {
            out.push((
                self.cols[start].0,
                self.cols[end - 1].1,
                class(codes[start]),
            ));
        };
        // Eight codes compared with their right neighbours at once; a row of cells changes
        // class only a few times.
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&codes[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let mut start = 0;
        for i in (0..n).step_by(8) {
            let mut changed = word(i) ^ word(i + 1);
            while changed != 0 {
                // Byte j differs: the class changes between cells i + j and i + j + 1.
                let j = (changed.trailing_zeros() / 8) as usize;
                push(start, i + j + 1);
                start = i + j + 1;
                changed &= !(0xff << (8 * j));
            }
        }
        push(start, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zero_corners_are_exact_and_signs_clamp() {
        assert_eq!(bounds(0.0, 0.0), (0.0, 0.0));
        assert_eq!(bounds(-0.0, 0.0), (0.0, 0.0));
        let (lo, hi) = bounds(0.0, 1.0);
        assert_eq!(lo, 0.0);
        assert!(hi > 1.0 && hi < 1.0001);
        let (lo, hi) = bounds(-3.0, -1.0);
        assert!(lo < -3.0 && lo > -3.001);
        assert!(hi > -1.0 && hi <= 0.0);
        let m = ndarray::Array2::from_shape_vec((1, 2), vec![1.0, f32::NAN]).expect("shape");
        assert!(Cells::new(m.view(), &[(0, 1, 0, 0)], &[(0, 1, 0, 1)]).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every upsampled value lies within its cell's bounds (the reference upsampling, with
        /// corners of mixed signs and magnitudes).
        #[test]
        fn bounds_hold(
            (h, w) in (2usize..8, 2usize..8),
            (oh, extra) in (1usize..70, 0usize..70),
            seed in proptest::collection::vec(
                prop_oneof![Just(0.0f32), -1.0f32..1.0, -1e30f32..1e30, -1e-40f32..1e-40], 64),
        ) {
            // Cells serve torch's generic kernel only: outputs past the small-output limit.
            let ow = 129 - oh + extra;
            let map = ndarray::Array2::from_shape_fn((h, w), |(r, c)| seed[r * 8 + c]);
            let up = crate::reference::upsample_bilinear(map.view(), oh, ow);
            let group = |input: usize, output: usize| {
                let a = crate::axis::axis(input, output);
                let mut g: Vec<(usize, usize, usize, usize)> = Vec::new();
                for x in 0..output {
                    match g.last_mut() {
                        Some(last) if last.2 == a.i0[x] && last.3 == a.i1[x] => last.1 = x + 1,
                        _ => g.push((x, x + 1, a.i0[x], a.i1[x])),
                    }
                }
                g
            };
            let cells = Cells::new(map.view(), &group(h, oh), &group(w, ow)).expect("finite");
            for i in 0..cells.all_bounds().0.len() {
                let (gy, gx) = cells.position(i);
                let (lo, hi) = cells.bounds(i);
                for r in cells.rows[gy].0..cells.rows[gy].1 {
                    for c in cells.cols[gx].0..cells.cols[gx].1 {
                        let v = up[[r, c]];
                        prop_assert!(lo <= v && v <= hi, "{} not in [{}, {}]", v, lo, hi);
                    }
                }
            }
        }
    }
}
