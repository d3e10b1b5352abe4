//! Whether adjacent ranks of the leaderboard differ: each pair of neighbours compared with one
//! paired bootstrap of their per-CXR IoU (1000 replicates resampling the same CXRs for both,
//! numpy's stream from the competition's seed), on the overall score (the mean of the task
//! means), with Holm's adjustment across the neighbouring pairs of the board. A pair "differs"
//! when its 95 % interval excludes 0 and its adjusted p-value is below 0.05.
//!
//! Results are cached per board (the phase and the submissions in rank order), so readers pay
//! for a bootstrap only when the board changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chexlocalize_metrics::{
    CiLevel, Clusters, NumpyLegacyRng, holm, pair_differences, paired_bootstrap, row_nanmean,
};
use serde::Serialize;

use crate::score::CxrScores;

/// How a row compares with the row ranked below it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NextGap {
    /// This row's overall mIoU minus the next one's (the replicates' mean).
    pub difference: f64,
    /// Lower bound of the difference's 95 % interval.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// The bootstrap p-value after Holm's adjustment across the board's neighbouring pairs.
    pub p_holm: f64,
    /// The interval excludes 0 and `p_holm < 0.05`.
    pub differs: bool,
}

/// A board: (the private split?, its submissions in rank order).
type Board = (bool, Vec<i64>);

/// Each row's gap to the next.
type Gaps = Vec<Option<NextGap>>;

/// Boards already compared.
#[derive(Clone, Debug, Default)]
pub(crate) struct GapCache(Arc<Mutex<HashMap<Board, Gaps>>>);

impl GapCache {
    /// The cached gaps of a board, if any.
    pub(crate) fn peek(&self, key: &Board) -> Option<Gaps> {
        self.0.lock().ok().and_then(|m| m.get(key).cloned())
    }

    /// The gaps of a board, computed by `compute` unless cached (at most 32 boards are kept).
    pub(crate) fn get_or(&self, key: Board, compute: impl FnOnce() -> Gaps) -> Gaps {
        if let Some(v) = self.peek(&key) {
            return v;
        }
        let v = compute();
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= 32 {
                m.clear();
            }
            m.insert(key, v.clone());
        }
        v
    }
}

/// For each row, its gap to the next row (`None` for the last row, or when either lacks
/// per-CXR scores on the same CXRs, e.g. scored before they were kept: `admin rescore all`).
pub(crate) fn adjacent_gaps(tables: &[Option<CxrScores>], seed: u32) -> Gaps {
    let mut raw: Vec<Option<(f64, f64, f64, f64)>> = vec![None; tables.len()];
    for i in 0..tables.len().saturating_sub(1) {
        let (Some(a), Some(b)) = (&tables[i], &tables[i + 1]) else {
            continue;
        };
        if a.ids != b.ids || a.tasks != b.tasks || a.ids.is_empty() {
            continue;
        }
        let cols = |t: &CxrScores| -> Vec<Vec<f64>> {
            t.values
                .iter()
                .map(|c| c.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
                .collect()
        };
        let mut reps = paired_bootstrap(
            &[cols(a), cols(b)],
            &Clusters::singletons(a.ids.len()),
            1000,
            &mut NumpyLegacyRng::new(seed),
        );
        for rep in &mut reps {
            for m in rep.iter_mut() {
                let overall = row_nanmean(m);
                m.push(overall);
            }
        }
        let overall = a.tasks.len();
        raw[i] = pair_differences(&reps, CiLevel::NINETY_FIVE)
            .into_iter()
            .find(|d| d.column == overall)
            .map(|d| (d.mean, d.lower, d.upper, d.p));
    }
    let p: Vec<f64> = raw
        .iter()
        .map(|r| r.map_or(f64::NAN, |(_, _, _, p)| p))
        .collect();
    raw.iter()
        .zip(holm(&p))
        .map(|(r, p_holm)| {
            r.map(|(difference, lower, upper, _)| NextGap {
                difference,
                lower,
                upper,
                p_holm,
                differs: (lower > 0.0 || upper < 0.0) && p_holm < 0.05,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(values: &[f64]) -> CxrScores {
        CxrScores {
            ids: (0..values.len()).map(|i| format!("cxr{i:03}")).collect(),
            tasks: vec!["Edema".into()],
            values: vec![values.iter().map(|&v| Some(v)).collect()],
        }
    }

    #[test]
    fn a_clear_gap_differs_a_tie_does_not_and_mismatched_tables_are_not_compared() {
        let strong: Vec<f64> = (0..80).map(|i| 0.6 + f64::from(i % 5) * 0.05).collect();
        let weak: Vec<f64> = strong.iter().map(|v| v - 0.3).collect();
        let tables = [
            Some(table(&strong)),
            Some(table(&weak)),
            Some(table(&weak)),
            Some(table(&weak[..40])),
        ];
        let gaps = adjacent_gaps(&tables, 0);
        assert_eq!(gaps.len(), 4);
        let first = gaps[0].as_ref().expect("compared");
        assert!(
            first.differs && (first.difference - 0.3).abs() < 1e-9,
            "{first:?}"
        );
        let second = gaps[1].as_ref().expect("compared");
        assert!(!second.differs && second.difference == 0.0, "{second:?}");
        assert!(gaps[2].is_none() && gaps[3].is_none());
        // Holm over the two compared pairs: the certain one's p doubles.
        assert_eq!(first.p_holm, 2.0 * 2.0 / 1001.0);
    }
}
