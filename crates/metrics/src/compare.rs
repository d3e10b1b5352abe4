//! Paired comparison of methods: one bootstrap whose every replicate resamples the same CXRs (or
//! patients) for all methods, the difference of each pair of methods with its interval, a
//! bootstrap p-value, and Holm's adjustment across the pairs.
//!
//! Pairing is what makes a small difference detectable: two methods scored on the same hard CXRs
//! go down together, so the spread of their difference is much smaller than the spread of either
//! score. hotcoco compares runs the same way; here the replicates are the reference's (each
//! method's replicate means are exactly what [`bootstrap_clustered`] gives that method alone
//! with the same sampler state), so a method's interval in a comparison is its `eval` interval.

use crate::bootstrap::{CiLevel, Clusters, bootstrap_clustered, reference_bounds};
use crate::numeric::nanmean;
use crate::rng::IndexSampler;

/// Every method's replicate means, `[replicate][method][column]`, from one shared draw per
/// replicate.
///
/// `methods[m][c][r]`: method `m`'s score on row `r` of column `c` (NaN = not applicable); every
/// method has the same columns and rows, in the same order.
///
/// # Panics
/// When the methods' shapes differ or a column's length is not `clusters.rows()` (a caller's bug).
pub fn paired_bootstrap(
    methods: &[Vec<Vec<f64>>],
    clusters: &Clusters,
    replicates: usize,
    sampler: &mut impl IndexSampler,
) -> Vec<Vec<Vec<f64>>> {
    let columns = methods.first().map_or(0, Vec::len);
    assert!(
        methods.iter().all(|m| m.len() == columns),
        "every method must have the same columns"
    );
    // All methods side by side as one wide table: one draw then serves every column.
    let wide: Vec<Vec<f64>> = methods.iter().flatten().cloned().collect();
    bootstrap_clustered(&wide, clusters, replicates, sampler)
        .into_iter()
        .map(|rep| {
            rep.chunks(columns.max(1))
                .map(<[f64]>::to_vec)
                .take(methods.len())
                .collect()
        })
        .collect()
}

/// The difference `a − b` of two methods on one column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairDiff {
    /// Index of the first method.
    pub a: usize,
    /// Index of the second method.
    pub b: usize,
    /// Index of the column.
    pub column: usize,
    /// The replicates' mean difference (NaN skipped).
    pub mean: f64,
    /// Lower bound of the interval of the difference (percentile, unrounded).
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Two-sided bootstrap p-value of "no difference": `min(1, 2 (1 + k) / (1 + R))` where `k`
    /// is the number of the `R` valid replicates on the less frequent side of zero (Davison &
    /// Hinkley's add-one rule, so it is never 0). NaN without valid replicates.
    pub p: f64,
    /// `p` after Holm's step-down adjustment across every pair of the same column.
    pub p_holm: f64,
}

/// Every pair `a < b` of methods on every column, from [`paired_bootstrap`]'s replicates.
///
/// The interval is the percentile interval at `level`, at the positions the reference uses for
/// its own intervals (`int(alpha / 2 · R) − 1` and `int((1 − alpha / 2) · R) − 1` of the sorted
/// valid replicates), unrounded. Holm's adjustment is per column: the family is the pairs
/// compared on that task.
pub fn pair_differences(replicates: &[Vec<Vec<f64>>], level: CiLevel) -> Vec<PairDiff> {
    let methods = replicates.first().map_or(0, Vec::len);
    let columns = replicates
        .first()
        .and_then(|r| r.first())
        .map_or(0, Vec::len);
    let mut out = Vec::new();
    for column in 0..columns {
        let first = out.len();
        for a in 0..methods {
            for b in a + 1..methods {
                let d: Vec<f64> = replicates
                    .iter()
                    .map(|r| r[a][column] - r[b][column])
                    .filter(|x| !x.is_nan())
                    .collect();
                let mut sorted = d.clone();
                sorted.sort_by(f64::total_cmp);
                let (lower, upper) = reference_bounds(&sorted, level);
                out.push(PairDiff {
                    a,
                    b,
                    column,
                    mean: nanmean(&d),
                    lower,
                    upper,
                    p: bootstrap_p(&d),
                    p_holm: f64::NAN,
                });
            }
        }
        let ps: Vec<f64> = out[first..].iter().map(|d| d.p).collect();
        for (d, q) in out[first..].iter_mut().zip(holm(&ps)) {
            d.p_holm = q;
        }
    }
    out
}

fn bootstrap_p(diffs: &[f64]) -> f64 {
    if diffs.is_empty() {
        return f64::NAN;
    }
    let below = diffs.iter().filter(|&&d| d <= 0.0).count();
    let above = diffs.iter().filter(|&&d| d >= 0.0).count();
    let k = below.min(above) as f64;
    (2.0 * (1.0 + k) / (1.0 + diffs.len() as f64)).min(1.0)
}

/// Holm's step-down adjustment of a family of p-values, in their given order: the `i`-th
/// smallest becomes `max over j ≤ i of min(1, (m − j) · p_(j))` (0-based `j`). NaN p-values
/// stay NaN and do not count in `m`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::bootstrap;
    use crate::rng::NumpyLegacyRng;

    #[test]
    fn each_method_gets_its_own_bootstrap_draw_for_draw() {
        let m0 = vec![vec![0.1, 0.4, f64::NAN, 0.9], vec![1.0, 0.0, 1.0, 1.0]];
        let m1 = vec![vec![0.2, 0.3, f64::NAN, 0.8], vec![0.0, 0.0, 1.0, 1.0]];
        let paired = paired_bootstrap(
            &[m0.clone(), m1.clone()],
            &Clusters::singletons(4),
            30,
            &mut NumpyLegacyRng::new(0),
        );
        let alone0 = bootstrap(&m0, 30, &mut NumpyLegacyRng::new(0));
        let alone1 = bootstrap(&m1, 30, &mut NumpyLegacyRng::new(0));
        for r in 0..30 {
            assert_eq!(format!("{:?}", paired[r][0]), format!("{:?}", alone0[r]));
            assert_eq!(format!("{:?}", paired[r][1]), format!("{:?}", alone1[r]));
        }
    }

    #[test]
    fn a_constant_shift_is_certain_and_identical_methods_are_not_different() {
        let base: Vec<f64> = (0..60).map(|i| f64::from(i % 7) / 7.0).collect();
        let shifted: Vec<f64> = base.iter().map(|x| x + 0.1).collect();
        let reps = paired_bootstrap(
            &[vec![shifted], vec![base.clone()], vec![base]],
            &Clusters::singletons(60),
            1000,
            &mut NumpyLegacyRng::new(0),
        );
        let d = pair_differences(&reps, CiLevel::NINETY_FIVE);
        assert_eq!(d.len(), 3);
        // shifted − base: every replicate is 0.1 (up to rounding), so p is the smallest possible.
        assert!((d[0].mean - 0.1).abs() < 1e-12 && (d[0].lower - 0.1).abs() < 1e-12);
        assert_eq!(d[0].p, 2.0 / 1001.0);
        assert_eq!(d[0].p_holm, (3.0 * 2.0 / 1001.0_f64).min(1.0));
        // base − base: all zero, p = 1.
        assert_eq!((d[2].a, d[2].b, d[2].mean, d[2].p), (1, 2, 0.0, 1.0));
    }

    /// Holm by its definition: reject in order while p_(j) ≤ α / (m − j); the adjusted p-value
    /// of a hypothesis is the smallest α at which it is rejected.
    fn holm_by_definition(p: &[f64]) -> Vec<f64> {
        let grid: Vec<f64> = (0..=10_000).map(|i| f64::from(i) / 10_000.0).collect();
        let mut sorted: Vec<(usize, f64)> = p.iter().copied().enumerate().collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
        let m = p.len();
        let mut out = vec![1.0; m];
        for (i, _) in p.iter().enumerate() {
            for &alpha in &grid {
                let mut rejected = false;
                for (j, &(k, pk)) in sorted.iter().enumerate() {
                    if pk > alpha / (m - j) as f64 {
                        break;
                    }
                    if k == i {
                        rejected = true;
                        break;
                    }
                }
                if rejected {
                    out[i] = alpha;
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn holm_matches_its_definition() {
        // p-values on a 1e-5 grid so the definition's 1e-4 α grid resolves them up to rounding.
        let cases: [&[f64]; 4] = [
            &[0.01, 0.04, 0.03, 0.005],
            &[0.5, 0.2, 0.9],
            &[0.001, 0.001, 0.2, 0.04, 0.3],
            &[0.02],
        ];
        for p in cases {
            let fast = holm(p);
            let slow = holm_by_definition(p);
            for (f, s) in fast.iter().zip(&slow) {
                assert!((f - s).abs() <= 1e-4 + 1e-12, "{p:?}: {fast:?} vs {slow:?}");
            }
        }
        assert!(holm(&[f64::NAN, 0.01])[0].is_nan());
        assert_eq!(holm(&[f64::NAN, 0.01])[1], 0.01);
    }
}
