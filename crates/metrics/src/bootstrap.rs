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
    bootstrap_clustered(columns, &Clusters::singletons(n), replicates, sampler)
}

/// Rows grouped into the units a bootstrap resamples: one CXR each (the reference), or every CXR
/// of one patient together (a cluster bootstrap: a patient's CXRs are not independent draws).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clusters {
    /// `members[k]`: the rows of cluster `k`, ascending.
    members: Vec<Vec<usize>>,
    rows: usize,
}

impl Clusters {
    /// Each of `n` rows its own cluster: [`bootstrap_clustered`] then draws exactly what
    /// [`bootstrap`] draws.
    pub fn singletons(n: usize) -> Clusters {
        Clusters {
            members: (0..n).map(|r| vec![r]).collect(),
            rows: n,
        }
    }

    /// Rows with equal labels form one cluster; clusters are numbered by first appearance.
    pub fn from_labels<S: AsRef<str>>(labels: &[S]) -> Clusters {
        let mut index: std::collections::HashMap<&str, usize> = Default::default();
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (r, label) in labels.iter().enumerate() {
            let k = *index.entry(label.as_ref()).or_insert_with(|| {
                members.push(Vec::new());
                members.len() - 1
            });
            members[k].push(r);
        }
        Clusters {
            members,
            rows: labels.len(),
        }
    }

    /// The number of clusters (what one replicate draws).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// No rows at all.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The number of rows grouped.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// One replicate's rows: `len()` clusters drawn with replacement, each contributing all of
    /// its rows, in draw order.
    pub(crate) fn draw(
        &self,
        sampler: &mut impl IndexSampler,
        picks: &mut Vec<usize>,
        rows: &mut Vec<usize>,
    ) {
        sampler.sample_indices(self.members.len(), picks);
        rows.clear();
        for &k in picks.iter() {
            rows.extend_from_slice(&self.members[k]);
        }
    }
}

/// [`bootstrap`] over clusters of rows: each replicate draws as many clusters as there are,
/// with replacement, and averages each column over all rows of the drawn clusters (NaN
/// skipped). With [`Clusters::singletons`] it is [`bootstrap`], draw for draw.
///
/// # Panics
/// When a column's length differs from `clusters.rows()` (a caller's bug, not input).
pub fn bootstrap_clustered(
    columns: &[Vec<f64>],
    clusters: &Clusters,
    replicates: usize,
    sampler: &mut impl IndexSampler,
) -> Vec<Vec<f64>> {
    assert!(
        columns.iter().all(|c| c.len() == clusters.rows()),
        "every column must have one value per clustered row"
    );
    let mut picks = Vec::with_capacity(clusters.len());
    let mut idx = Vec::with_capacity(clusters.rows());
    let mut buf = Vec::with_capacity(clusters.rows());
    (0..replicates)
        .map(|_| {
            clusters.draw(sampler, &mut picks, &mut idx);
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

/// The coverage of a confidence interval, from 0.5 to below 1 (the reference's is 0.95; an
/// interval covering less than half of the replicates is not one anyone reports).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CiLevel(f64);

impl CiLevel {
    /// The reference's 95 %.
    pub const NINETY_FIVE: CiLevel = CiLevel(0.95);

    /// A level in [0.5, 1), e.g. 0.9; `None` outside it or for NaN.
    pub fn new(level: f64) -> Option<CiLevel> {
        (0.5..1.0).contains(&level).then_some(CiLevel(level))
    }

    /// The level, e.g. 0.95.
    pub fn get(self) -> f64 {
        self.0
    }

    /// `1 - level`, snapped to 9 decimals: for 0.95 it is the literal 0.05 the reference divides
    /// (`1.0 - 0.95` is 0.050000000000000044, whose upper bound `int(0.97499… * 1000) - 1`
    /// would move one position down).
    fn alpha(self) -> f64 {
        ((1.0 - self.0) * 1e9).round() / 1e9
    }
}

/// The interval bounds of `sorted` at `level`, unrounded: the elements at positions
/// `int(alpha / 2 · len) − 1` and `int((1 − alpha / 2) · len) − 1` (`compute_cis`' rule and its
/// off-by-one); NaN where a position falls outside.
pub(crate) fn reference_bounds(sorted: &[f64], level: CiLevel) -> (f64, f64) {
    let alpha = level.alpha();
    let n = sorted.len();
    let at = |q: f64| {
        let i = (q * n as f64) as usize;
        match i.checked_sub(1) {
            Some(i) if i < n => sorted[i],
            _ => f64::NAN,
        }
    };
    (at(alpha / 2.0), at(1.0 - alpha / 2.0))
}

impl Default for CiLevel {
    fn default() -> Self {
        CiLevel::NINETY_FIVE
    }
}

/// A bootstrap confidence interval (95 % unless asked otherwise) and the mean of the replicates.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ci {
    /// The 2.5th percentile (the lower `(1 - level) / 2` quantile), rounded to 3 decimals.
    pub lower: f64,
    /// The mean of the replicates (NaN skipped), rounded to 3 decimals.
    pub mean: f64,
    /// The 97.5th percentile (the upper one), rounded to 3 decimals.
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
    confidence_interval_at(values, CiLevel::NINETY_FIVE)
}

/// [`confidence_interval`] at another level: the bounds at positions `int(alpha / 2 * len) - 1`
/// and `int((1 - alpha / 2) * len) - 1` with `alpha = 1 - level`, the reference's formula with
/// its `confidence_level` argument; at 95 % exactly [`confidence_interval`].
pub fn confidence_interval_at(values: &[f64], level: CiLevel) -> Ci {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => a.total_cmp(b),
    });
    let (lower, upper) = reference_bounds(&sorted, level);
    Ci {
        lower: numpy_round(lower, 3),
        mean: numpy_round(nanmean(&sorted), 3),
        upper: numpy_round(upper, 3),
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
    fn ninety_five_percent_is_the_reference_interval_and_other_levels_move_the_bounds() {
        let v: Vec<f64> = (0..1000).map(|i| f64::from(i) / 1000.0).collect();
        let at95 = confidence_interval_at(&v, CiLevel::new(0.95).expect("level"));
        assert_eq!(at95, confidence_interval(&v));
        assert_eq!((at95.lower, at95.upper), (0.024, 0.974));
        // 90 %: positions int(0.05 * 1000) - 1 = 49 and int(0.95 * 1000) - 1 = 949.
        let at90 = confidence_interval_at(&v, CiLevel::new(0.9).expect("level"));
        assert_eq!((at90.lower, at90.upper), (0.049, 0.949));
        assert!(CiLevel::new(1.0).is_none() && CiLevel::new(f64::NAN).is_none());
    }

    #[test]
    fn singleton_clusters_draw_what_the_row_bootstrap_draws() {
        use crate::rng::NumpyLegacyRng;
        let cols = vec![
            vec![0.1, f64::NAN, 0.5, 0.7, 0.2],
            vec![1.0, 0.0, 1.0, 1.0, 0.0],
        ];
        let a = bootstrap(&cols, 50, &mut NumpyLegacyRng::new(3));
        let b = bootstrap_clustered(
            &cols,
            &Clusters::singletons(5),
            50,
            &mut NumpyLegacyRng::new(3),
        );
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
    }

    #[test]
    fn a_cluster_is_drawn_whole() {
        // Two patients: rows 0, 2 and 4 belong to "p1", rows 1 and 3 to "p2". Every replicate
        // draws two clusters, so its mean is one of: all p1, all p2, or p1 and p2 together.
        let clusters = Clusters::from_labels(&["p1", "p2", "p1", "p2", "p1"]);
        assert_eq!((clusters.len(), clusters.rows()), (2, 5));
        let col = vec![vec![1.0, 0.0, 1.0, 0.0, 1.0]];
        let reps =
            bootstrap_clustered(&col, &clusters, 200, &mut crate::rng::ChaChaSampler::new(1));
        for r in &reps {
            assert!([1.0, 0.0, 0.6].contains(&r[0]), "{}", r[0]);
        }
        // With 200 replicates each of the three outcomes occurs.
        for m in [1.0, 0.0, 0.6] {
            assert!(reps.iter().any(|r| r[0] == m), "{m} never drawn");
        }
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
