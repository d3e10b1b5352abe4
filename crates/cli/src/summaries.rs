//! `count-segs` and `precision-recall-specificity`.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use chexlocalize_io::{CsvTable, CsvWriter, Field, Limits, Segmentations, Task};
use chexlocalize_rle::Rle;
use clap::Args;

/// Arguments of `chexlocalize count-segs`.
#[derive(Args, Debug)]
pub(crate) struct CountSegsArgs {
    /// Segmentation JSON.
    #[arg(long = "seg-path", visible_alias = "seg_path")]
    seg_path: PathBuf,
    /// Where to write `n_segs.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

fn mask<'a>(segs: &'a Segmentations, path: &Path, id: &str, task: Task) -> Result<&'a Rle> {
    segs.get(id, task).ok_or_else(|| {
        anyhow!(
            "{}: CXR {id}: expected a mask for task {task}",
            path.display()
        )
    })
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

pub(crate) fn count_segs(args: &CountSegsArgs, limits: &Limits) -> Result<()> {
    let segs = chexlocalize_io::read_segmentations(&args.seg_path, limits)?;
    count_segs_csv(&segs, &args.seg_path)?.write(&args.save_dir.join("n_segs.csv"))?;
    Ok(())
}

/// Arguments of `chexlocalize precision-recall-specificity`.
#[derive(Args, Debug)]
pub(crate) struct PrsArgs {
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// Saliency method segmentation JSON.
    #[arg(long = "pred-seg-path", visible_alias = "pred_seg_path")]
    pred_seg_path: PathBuf,
    /// Human benchmark segmentation JSON.
    #[arg(long = "hb-seg-path", visible_alias = "hb_seg_path")]
    hb_seg_path: PathBuf,
    /// Where to write `pred_…` and `hb_precision_recall_specificity.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
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
                .map_err(|e| anyhow!("{}: CXR {id}, task {task}: {e}", seg_path.display()))?;
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

pub(crate) fn precision_recall_specificity(args: &PrsArgs, limits: &Limits) -> Result<()> {
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
    let paths: Vec<PathBuf> = outputs
        .iter()
        .map(|(source, _)| {
            args.save_dir
                .join(format!("{source}_precision_recall_specificity.csv"))
        })
        .collect();
    let files: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&outputs)
        .map(|(p, (_, csv))| (p.as_path(), csv.as_str().as_bytes()))
        .collect();
    chexlocalize_io::write_atomic_all(&files)?;
    Ok(())
}

/// Arguments of `chexlocalize calculate-percentage-decrease`.
#[derive(Args, Debug)]
pub(crate) struct PctArgs {
    /// `miou` or `hitrate` (names the output file).
    #[arg(long, value_parser = ["miou", "hitrate"])]
    metric: String,
    /// Bootstrap CSV of the human benchmark (`eval --if_human_benchmark True`).
    #[arg(long = "hb-bootstrap-results", visible_alias = "hb_bootstrap_results")]
    hb_bootstrap_results: PathBuf,
    /// Bootstrap CSV of the saliency method.
    #[arg(
        long = "pred-bootstrap-results",
        visible_alias = "pred_bootstrap_results"
    )]
    pred_bootstrap_results: PathBuf,
    /// Where to write `{metric}_pct_decrease.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// Accepted for compatibility with the script (which seeds numpy but draws nothing): 0 to
    /// 4294967295 (2^32 - 1, numpy's legacy seed range).
    #[arg(long, default_value_t = 0, value_parser = crate::args::seed, allow_negative_numbers = true)]
    seed: u32,
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

pub(crate) fn percentage_decrease(args: &PctArgs, limits: &Limits) -> Result<()> {
    let (hb_names, hb) = bootstrap_table(&args.hb_bootstrap_results, limits)?;
    let (pred_names, pred) = bootstrap_table(&args.pred_bootstrap_results, limits)?;
    let table = chexlocalize_metrics::percentage_decrease(&hb_names, &hb, &pred_names, &pred)
        .map_err(|e| {
            anyhow!(
                "{} and {}: {e}",
                args.hb_bootstrap_results.display(),
                args.pred_bootstrap_results.display()
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
    w.write(
        &args
            .save_dir
            .join(format!("{}_pct_decrease.csv", args.metric)),
    )?;
    Ok(())
}
