//! `count_segs`, `precision_recall_specificity` and `calculate_percentage_decrease`.

use std::path::{Path, PathBuf};

use chexlocalize_io::{CsvTable, CsvWriter, Field, Limits, Segmentations, Task, layout};
use chexlocalize_rle::Rle;

use crate::error::{Error, Result};
use crate::options::{Notes, Options, Outcome};

/// Inputs of [`count_segs`] (`count_segs.py`).
#[derive(Clone, Debug)]
pub struct CountSegs {
    /// Segmentation JSON.
    pub seg_path: PathBuf,
    /// Where to write `n_segs.csv`.
    pub save_dir: PathBuf,
}

fn mask<'a>(segs: &'a Segmentations, path: &Path, id: &str, task: Task) -> Result<&'a Rle> {
    segs.get(id, task)
        .ok_or_else(|| Error::input(path, format!("CXR {id}: expected a mask for task {task}")))
}

/// Per task, the number of CXRs with a non-empty mask (`count_segs.py`).
pub(crate) fn count_segs_csv(segs: &Segmentations, path: &Path) -> Result<CsvWriter> {
    let mut w = CsvWriter::new();
    // Parity: pandas writes a Series with an empty index name and the column name `0`.
    w.row(["", "0"]);
    for task in Task::SORTED {
        let mut n = 0i64;
        for id in segs.sorted_ids() {
            n += i64::from(!mask(segs, path, id, task)?.is_empty());
        }
        w.row([Field::from(task.name()), Field::Int(n)]);
    }
    Ok(w)
}

/// The number of CXRs with a non-empty mask per task (`count_segs.py`).
pub fn count_segs(args: &CountSegs, options: &Options) -> Result<Outcome> {
    let segs = chexlocalize_io::read_segmentations(&args.seg_path, &options.limits)?;
    let path = args.save_dir.join(layout::N_SEGS);
    count_segs_csv(&segs, &args.seg_path)?.write(&path)?;
    Ok(Notes::default().outcome(vec![path]))
}

/// Inputs of [`precision_recall_specificity`] (`precision_recall_specificity.py`).
#[derive(Clone, Debug)]
pub struct PrecisionRecallSpecificity {
    /// Ground-truth segmentation JSON.
    pub gt_path: PathBuf,
    /// Saliency method segmentation JSON.
    pub pred_seg_path: PathBuf,
    /// Human benchmark segmentation JSON.
    pub hb_seg_path: PathBuf,
    /// Where to write `pred_…` and `hb_precision_recall_specificity.csv`.
    pub save_dir: PathBuf,
}

/// Pixel-level precision, recall and specificity per task over the ground-truth CXRs
/// (`precision_recall_specificity.py`), counted on runs without decoding the masks.
pub(crate) fn prs_csv(
    gt: &Segmentations,
    gt_path: &Path,
    seg: &Segmentations,
    seg_path: &Path,
) -> Result<CsvWriter> {
    let mut w = CsvWriter::new();
    w.row([
        "",
        "pathology",
        "precision",
        "recall/sensitivity",
        "specificity",
    ]);
    for (i, task) in Task::SORTED.into_iter().enumerate() {
        let (mut tp, mut tn, mut fp, mut fn_) = (0u64, 0u64, 0u64, 0u64);
        for id in gt.sorted_ids() {
            let g = mask(gt, gt_path, id, task)?;
            let empty;
            let s = if seg.contains(id) {
                mask(seg, seg_path, id, task)?
            } else {
                // Parity: a CXR missing from the segmentations counts as an empty mask.
                empty = Rle::empty(g.height(), g.width());
                &empty
            };
            let inter = s
                .intersection_area(g)
                .map_err(|e| Error::at(seg_path, format!("CXR {id}, task {task}"), e))?;
            let total = (g.height() * g.width()) as u64;
            tp += inter;
            fp += s.area() - inter;
            fn_ += g.area() - inter;
            tn += total - (s.area() + g.area() - inter);
        }
        // numpy divides the int64 sums as float64: 0/0 is NaN.
        let div = |a: u64, b: u64| a as f64 / b as f64;
        w.row([
            Field::Int(i as i64),
            Field::from(task.name()),
            Field::Float(div(tp, tp + fp)),
            Field::Float(div(tp, tp + fn_)),
            Field::Float(div(tn, tn + fp)),
        ]);
    }
    Ok(w)
}

/// Pixel precision, recall and specificity per task of the saliency method and of the human
/// benchmark (`precision_recall_specificity.py`): both files or none.
pub fn precision_recall_specificity(
    args: &PrecisionRecallSpecificity,
    options: &Options,
) -> Result<Outcome> {
    let limits = &options.limits;
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, limits)?;
    let pred = chexlocalize_io::read_segmentations(&args.pred_seg_path, limits)?;
    let hb = chexlocalize_io::read_segmentations(&args.hb_seg_path, limits)?;
    let outputs = [
        (
            "pred",
            prs_csv(&gt, &args.gt_path, &pred, &args.pred_seg_path)?,
        ),
        ("hb", prs_csv(&gt, &args.gt_path, &hb, &args.hb_seg_path)?),
    ];
    // Both files or none.
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        outputs.iter().map(|(source, csv)| {
            (
                layout::precision_recall_specificity(source),
                csv.as_str().as_bytes(),
            )
        }),
    )?;
    Ok(Notes::default().outcome(paths))
}

/// Inputs of [`percentage_decrease`] (`calculate_percentage_decrease.py`).
#[derive(Clone, Debug)]
pub struct PercentageDecrease {
    /// Which metric the bootstrap files hold (names the output file).
    pub metric: DecreaseMetric,
    /// Bootstrap CSV of the human benchmark.
    pub hb_bootstrap_results: PathBuf,
    /// Bootstrap CSV of the saliency method.
    pub pred_bootstrap_results: PathBuf,
    /// Where to write `{metric}_pct_decrease.csv`.
    pub save_dir: PathBuf,
    /// The intervals' coverage (the reference's: 95 %).
    pub level: chexlocalize_metrics::CiLevel,
}

/// The metric of [`percentage_decrease`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecreaseMetric {
    /// mIoU (`miou_pct_decrease.csv`).
    Miou,
    /// Hit rate (`hitrate_pct_decrease.csv`).
    HitRate,
}

impl DecreaseMetric {
    /// The name in the output file: `miou` or `hitrate`.
    pub fn name(self) -> &'static str {
        match self {
            DecreaseMetric::Miou => "miou",
            DecreaseMetric::HitRate => "hitrate",
        }
    }
}

fn bootstrap_table(path: &Path, limits: &Limits) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let t = CsvTable::read(path, limits)?;
    let rows = (0..t.rows.len())
        .map(|r| {
            (0..t.header.len())
                .map(|c| t.f64_at(r, c))
                .collect::<Result<Vec<f64>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((t.header, rows))
}

/// The percentage decrease of the saliency method from the human benchmark per task, with
/// bootstrap CIs (`calculate_percentage_decrease.py`).
pub fn percentage_decrease(args: &PercentageDecrease, options: &Options) -> Result<Outcome> {
    let limits = &options.limits;
    let (hb_names, hb) = bootstrap_table(&args.hb_bootstrap_results, limits)?;
    let (pred_names, pred) = bootstrap_table(&args.pred_bootstrap_results, limits)?;
    let table =
        chexlocalize_metrics::percentage_decrease(&hb_names, &hb, &pred_names, &pred, args.level)
            .map_err(|e| {
            Error::at(
                &args.hb_bootstrap_results,
                format!("and {}", args.pred_bootstrap_results.display()),
                e,
            )
        })?;
    let mut w = CsvWriter::new();
    w.row([
        "",
        "hb",
        "pred",
        "pct_diff",
        "pct_diff_lower",
        "pct_diff_upper",
    ]);
    for r in &table.rows {
        w.row([
            Field::from(r.name.as_str()),
            Field::Float(r.hb),
            Field::Float(r.pred),
            Field::Float(r.pct_diff),
            Field::Float(r.pct_diff_lower),
            Field::Float(r.pct_diff_upper),
        ]);
    }
    let path = args.save_dir.join(layout::pct_decrease(args.metric.name()));
    w.write(&path)?;
    Ok(Notes::default().outcome(vec![path]))
}
