//! The reference's bootstrap (`eval.py`'s `bootstrap_metric` and `compute_cis`).

use crate::numeric::{nanmean, numpy_round};
use crate::rng::IndexSampler;

/// Bootstrap replicate means: for each of `replicates` draws of `n` row indices with
/// replacement (`n` = rows), the NaN-skipping mean of each column over the drawn rows.
///
/// `columns[c][r]` is the value of row `r` in column `c`; every column has `n` rows. Returns
/// `[replicate][column]`. All columns of a replicate use the same draw, as `df.iloc[sample_ids]`.
pub fn bootstrap(
    columns: &[Vec<f64>],
    replicates: usize,
    sampler: &mut impl IndexSampler,
) -> Vec<Vec<f64>> {
    let n = columns.first().map_or(0, Vec::len);
    let mut idx = Vec::with_capacity(n);
    let mut buf = Vec::with_capacity(n);
    (0..replicates)
        .map(|_| {
            sampler.sample_indices(n, &mut idx);
            columns
                .iter()
                .map(|col| {
                    buf.clear();
                    buf.extend(idx.iter().map(|&i| col[i]));
                    nanmean(&buf)
                })
                .collect()
        })
        .collect()
}

/// A 95 % bootstrap confidence interval and the mean of the replicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ci {
    /// The 2.5th percentile, rounded to 3 decimals.
    pub lower: f64,
    /// The mean of the replicates (NaN skipped), rounded to 3 decimals.
    pub mean: f64,
    /// The 97.5th percentile, rounded to 3 decimals.
    pub upper: f64,
}

/// `compute_cis(series, confidence_level=0.05)` of eval.py, exactly.
///
/// The values are sorted ascending with NaN last (pandas `sort_values`); the bounds are the
/// elements at positions `int(0.025 * len) - 1` and `int(0.975 * len) - 1` (24 and 974 for 1000
/// replicates — the reference's off-by-one kept for parity), rounded with numpy's rounding; the
/// mean is pandas' NaN-skipping mean, rounded the same way. Fewer than 40 values give NaN bounds
/// (the reference would index out of range or wrap around).
pub fn confidence_interval(values: &[f64]) -> Ci {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.total_cmp(b),
    });
    let n = sorted.len();
    let at = |q: f64| -> f64 {
        let i = (q * n as f64) as usize;
        match i.checked_sub(1) {
            Some(i) if i < n => numpy_round(sorted[i], 3),
            _ => f64::NAN,
        }
    };
    Ci {
        lower: at(0.05 / 2.0),
        mean: numpy_round(nanmean(&sorted), 3),
        upper: at(1.0 - 0.05 / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_positions_and_nan_last() {
        let mut v: Vec<f64> = (0..1000).map(|i| f64::from(999 - i) / 1000.0).collect();
        v[3] = f64::NAN;
        let ci = confidence_interval(&v);
        // Sorted: 0.000 … with 0.996 missing (replaced by NaN, which sorts last).
        assert_eq!(ci.lower, 0.024);
        assert_eq!(ci.upper, 0.974);
    }

    #[test]
    fn total_cmp_ordering_of_negative_zero_is_irrelevant_after_rounding() {
        let v = vec![0.0; 1000];
        assert_eq!(
            confidence_interval(&v),
            Ci {
                lower: 0.0,
                mean: 0.0,
                upper: 0.0
            }
        );
    }
}
