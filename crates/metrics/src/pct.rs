//! Percentage decrease from the human benchmark to a saliency method
//! (`calculate_percentage_decrease.py`).

use crate::MetricsError;
use crate::bootstrap::{CiLevel, confidence_interval_at};
use crate::numeric::{nanmean, numpy_round, row_nanmean};

/// One row of the percentage-decrease table.
#[derive(Clone, Debug, PartialEq)]
pub struct PctRow {
    /// Task name, or `Average`.
    pub name: String,
    /// Human benchmark mean (rounded to 3 decimals in the `Average` row).
    pub hb: f64,
    /// Saliency method mean (rounded to 3 decimals in the `Average` row).
    pub pred: f64,
    /// `(hb - pred) / hb * 100`, rounded to 3 decimals.
    pub pct_diff: f64,
    /// Lower bound of the bootstrap CI (95 % unless asked otherwise) of the percentage decrease.
    pub pct_diff_lower: f64,
    /// Upper bound.
    pub pct_diff_upper: f64,
}

/// The table: task rows sorted by decreasing `pct_diff` (ties in input order, NaN last), then
/// the `Average` row.
#[derive(Clone, Debug, PartialEq)]
pub struct PctDecrease {
    /// The rows.
    pub rows: Vec<PctRow>,
}

/// Computes the table from the two bootstrap tables (`names` = column names, `rows[r][c]`), with
/// intervals at `level` (the reference: [`CiLevel::NINETY_FIVE`]).
///
/// Both tables must have the same columns (in any order; they are aligned by name as pandas
/// does) and the same number of replicates.
pub fn percentage_decrease(
    hb_names: &[String],
    hb: &[Vec<f64>],
    pred_names: &[String],
    pred: &[Vec<f64>],
    level: CiLevel,
) -> Result<PctDecrease, MetricsError> {
    if hb.len() != pred.len() {
        return Err(MetricsError::ReplicateCountMismatch {
            human_benchmark: hb.len(),
            predictions: pred.len(),
        });
    }
    let mut sorted_hb = hb_names.to_vec();
    sorted_hb.sort();
    let mut sorted_pred = pred_names.to_vec();
    sorted_pred.sort();
    if sorted_hb != sorted_pred {
        return Err(MetricsError::ColumnMismatch {
            human_benchmark: hb_names.to_vec(),
            predictions: pred_names.to_vec(),
        });
    }
    // pandas keeps the order when both frames agree, and sorts the union otherwise.
    let names: Vec<String> = if hb_names == pred_names {
        hb_names.to_vec()
    } else {
        sorted_hb
    };
    let col = |table: &[Vec<f64>], table_names: &[String], name: &str| -> Vec<f64> {
        let c = table_names.iter().position(|n| n == name).unwrap_or(0);
        table
            .iter()
            .map(|r| r.get(c).copied().unwrap_or(f64::NAN))
            .collect()
    };
    let mut rows = Vec::with_capacity(names.len() + 1);
    for name in &names {
        let (h, p) = (col(hb, hb_names, name), col(pred, pred_names, name));
        let pct_bs: Vec<f64> = h.iter().zip(&p).map(|(h, p)| (h - p) / h).collect();
        let ci = confidence_interval_at(&pct_bs, level);
        let (hm, pm) = (nanmean(&h), nanmean(&p));
        rows.push(PctRow {
            name: name.clone(),
            hb: hm,
            pred: pm,
            pct_diff: numpy_round((hm - pm) / hm * 100.0, 3),
            pct_diff_lower: numpy_round(ci.lower * 100.0, 3),
            pct_diff_upper: numpy_round(ci.upper * 100.0, 3),
        });
    }
    // sort_values('pct_diff', ascending=False): stable for ties, NaN last.
    rows.sort_by(|a, b| match (a.pct_diff.is_nan(), b.pct_diff.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => b
            .pct_diff
            .partial_cmp(&a.pct_diff)
            .unwrap_or(std::cmp::Ordering::Equal),
    });
    let avg_pred = numpy_round(nanmean(&rows.iter().map(|r| r.pred).collect::<Vec<_>>()), 3);
    let avg_hb = numpy_round(nanmean(&rows.iter().map(|r| r.hb).collect::<Vec<_>>()), 3);
    let avg_pct = numpy_round((avg_hb - avg_pred) / avg_hb * 100.0, 3);
    let avg_bs: Vec<f64> = hb
        .iter()
        .zip(pred)
        .map(|(h, p)| {
            let (ah, ap) = (row_nanmean(h), row_nanmean(p));
            100.0 * (ah - ap) / ah
        })
        .collect();
    let ci = confidence_interval_at(&avg_bs, level);
    rows.push(PctRow {
        name: "Average".to_owned(),
        hb: avg_hb,
        pred: avg_pred,
        pct_diff: avg_pct,
        pct_diff_lower: numpy_round(ci.lower, 3),
        pct_diff_upper: numpy_round(ci.upper, 3),
    });
    Ok(PctDecrease { rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|&s| s.to_owned()).collect()
    }

    #[test]
    fn tables_that_do_not_line_up_say_what_differs() {
        let (ab, ba) = (names(&["a", "b"]), names(&["b", "a"]));
        let e = percentage_decrease(
            &ab,
            &vec![vec![1.0, 1.0]; 2],
            &ab,
            &vec![vec![1.0, 1.0]; 3],
            CiLevel::NINETY_FIVE,
        )
        .expect_err("2 and 3 replicates");
        assert_eq!(
            e,
            MetricsError::ReplicateCountMismatch {
                human_benchmark: 2,
                predictions: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "the human benchmark has 2 bootstrap replicates, the predictions 3"
        );
        let ac = names(&["a", "c"]);
        let e = percentage_decrease(
            &ab,
            &[vec![1.0, 1.0]],
            &ac,
            &[vec![1.0, 1.0]],
            CiLevel::NINETY_FIVE,
        )
        .expect_err("columns");
        assert_eq!(
            e.to_string(),
            r#"the bootstrap tables have different columns: ["a", "b"] and ["a", "c"]"#
        );
        assert!(
            percentage_decrease(
                &ab,
                &[vec![1.0, 2.0]],
                &ba,
                &[vec![2.0, 1.0]],
                CiLevel::NINETY_FIVE
            )
            .is_ok()
        );
    }
}
