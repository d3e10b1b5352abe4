//! `chexlocalize eval`: mIoU and hit rate with bootstrap confidence intervals.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use chexlocalize_io::{CsvWriter, Field, Limits, Segmentations, Task};
use chexlocalize_metrics::{self as metrics, Scoring};
use chexlocalize_rle::Rle;
use clap::{Args, ValueEnum};
use rayon::prelude::*;

use crate::args::py_bool;
use crate::heatmaps::{map_and_dims, task_heatmaps};
use crate::progress::{Progress, thread_pool};

/// Arguments of `chexlocalize eval`.
#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// `iou` (mIoU of segmentations) or `hitmiss` (pointing game).
    #[arg(long, value_enum)]
    metric: Metric,
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// Predictions: a segmentation JSON (iou), a folder of heatmap pickles (hitmiss), or a
    /// salient-points JSON (hitmiss with --if_human_benchmark True).
    #[arg(long = "pred-path", visible_alias = "pred_path")]
    pred_path: PathBuf,
    /// IoU only on CXRs where both masks are non-empty (True), or also false positives and
    /// negatives (False).
    #[arg(long = "true-pos-only", visible_alias = "true_pos_only", action = clap::ArgAction::Set, value_parser = py_bool, default_value = "True")]
    true_pos_only: bool,
    /// Where to write the three CSV files.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// The predictions are a human benchmark: True or False.
    #[arg(long = "if-human-benchmark", visible_alias = "if_human_benchmark", action = clap::ArgAction::Set, value_parser = py_bool, default_value = "False")]
    if_human_benchmark: bool,
    /// Bootstrap seed: 0 to 4294967295 (2^32 - 1, numpy's legacy seed range).
    #[arg(long, default_value_t = 0, value_parser = crate::args::seed, allow_negative_numbers = true)]
    seed: u32,
    /// Bootstrap generator: `numpy` reproduces the reference (`np.random.seed(seed)`) exactly;
    /// `chacha` is a modern generator with the same statistics but other draws.
    #[arg(long, value_enum, default_value_t = RngArg::Numpy)]
    rng: RngArg,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
    /// Pointing game tolerance in pixels: a hit when a ground-truth pixel lies within this
    /// distance of the point: 0 to 1000 (0 = the reference's exact rule; TorchRay uses 15).
    #[arg(
        long = "tolerance-px",
        visible_alias = "tolerance_px",
        default_value_t = 0.0,
        value_parser = tolerance,
        allow_negative_numbers = true
    )]
    tolerance_px: f64,
}

/// A pointing-game tolerance: a finite number of pixels from 0 to 1000.
fn tolerance(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|t| (0.0..=1000.0).contains(t))
        .ok_or_else(|| format!("expected a number of pixels from 0 to 1000, found {s:?}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Metric {
    Iou,
    Hitmiss,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum RngArg {
    Numpy,
    Chacha,
}

/// Per-CXR results: one column per task, rows sorted by CXR id.
pub(crate) struct ResultsTable {
    /// Column order of the per-CXR CSV.
    pub(crate) tasks: Vec<Task>,
    /// Row labels, sorted.
    pub(crate) ids: Vec<String>,
    /// `values[column][row]`; NaN = not applicable.
    pub(crate) values: Vec<Vec<f64>>,
    /// Columns pandas would hold as int64 (hit/miss columns without NaN): printed as `1`, not `1.0`.
    pub(crate) int_columns: Vec<bool>,
}

impl ResultsTable {
    fn column(&self, task: Task) -> Vec<f64> {
        self.tasks.iter().position(|t| *t == task).map_or_else(
            || vec![f64::NAN; self.ids.len()],
            |i| self.values[i].clone(),
        )
    }

    fn to_csv(&self) -> CsvWriter {
        let mut w = CsvWriter::new();
        w.row(self.tasks.iter().map(|t| t.name()).chain(["img_id"]));
        for r in 0..self.ids.len() {
            let mut row: Vec<Field> = self
                .tasks
                .iter()
                .enumerate()
                .map(|(c, _)| {
                    let x = self.values[c][r];
                    if self.int_columns[c] {
                        Field::Int(x as i64)
                    } else {
                        Field::Float(x)
                    }
                })
                .collect();
            row.push(Field::from(self.ids[r].as_str()));
            w.row(row);
        }
        w
    }
}

pub(crate) fn run(args: &EvalArgs, limits: &Limits) -> Result<()> {
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, limits)?;
    let table = match (args.metric, args.if_human_benchmark) {
        (Metric::Iou, _) => {
            let pred = chexlocalize_io::read_segmentations(&args.pred_path, limits)?;
            iou_table(
                &gt,
                &args.gt_path,
                &pred,
                &args.pred_path,
                if args.true_pos_only {
                    Scoring::TruePositivesOnly
                } else {
                    Scoring::All
                },
            )?
        }
        (Metric::Hitmiss, false) => heatmap_hit_table(
            &gt,
            &args.gt_path,
            &args.pred_path,
            args.tolerance_px,
            args.jobs,
            limits,
        )?,
        (Metric::Hitmiss, true) => {
            let pts = chexlocalize_io::read_salient_points(&args.pred_path, limits)?;
            human_hit_table(&gt, &args.gt_path, &pts, &args.pred_path, args.tolerance_px)?
        }
    };
    let metric = match args.metric {
        Metric::Iou => "iou",
        Metric::Hitmiss => "hitmiss",
    };
    let hb = if args.if_human_benchmark {
        "humanbenchmark_"
    } else {
        ""
    };
    let replicates = bootstrap_table(&table, args.seed, args.rng);
    let files = [
        (format!("{metric}_{hb}results_per_cxr.csv"), table.to_csv()),
        (
            format!("{metric}_{hb}bootstrap_results_per_cxr.csv"),
            bootstrap_csv(&replicates),
        ),
        (
            format!("{metric}_{hb}summary_results.csv"),
            summary_csv(&replicates),
        ),
    ];
    // All three files or none.
    let paths: Vec<PathBuf> = files.iter().map(|(n, _)| args.save_dir.join(n)).collect();
    let outputs: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&files)
        .map(|(p, (_, csv))| (p.as_path(), csv.as_str().as_bytes()))
        .collect();
    chexlocalize_io::write_atomic_all(&outputs)?;
    eprintln!("{} results written to {}", metric, args.save_dir.display());
    Ok(())
}

/// The bootstrap replicate means, `[replicate][task]` in `LOCALIZATION_TASKS` order.
pub(crate) fn bootstrap_table(table: &ResultsTable, seed: u32, rng: RngArg) -> Vec<Vec<f64>> {
    // Parity: eval.py's bootstrap iterates `df[LOCALIZATION_TASKS].columns`, i.e. the
    // LOCALIZATION_TASKS order, not the per-CXR CSV's sorted order.
    let columns: Vec<Vec<f64>> = Task::ALL.iter().map(|&t| table.column(t)).collect();
    match rng {
        RngArg::Numpy => {
            metrics::bootstrap(&columns, 1000, &mut metrics::NumpyLegacyRng::new(seed))
        }
        RngArg::Chacha => metrics::bootstrap(
            &columns,
            1000,
            &mut metrics::ChaChaSampler::new(u64::from(seed)),
        ),
    }
}

fn bootstrap_csv(replicates: &[Vec<f64>]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row(Task::ALL.iter().map(|t| t.name()));
    for r in replicates {
        w.row(r.iter().map(|&x| Field::Float(x)));
    }
    w
}

fn summary_csv(replicates: &[Vec<f64>]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row(["name", "lower", "mean", "upper"]);
    let mut records: Vec<(Task, metrics::Ci)> = Task::ALL
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let col: Vec<f64> = replicates.iter().map(|r| r[i]).collect();
            (t, metrics::confidence_interval(&col))
        })
        .collect();
    records.sort_by_key(|(t, _)| t.name());
    for (t, ci) in records {
        w.row([
            Field::from(t.name()),
            Field::Float(ci.lower),
            Field::Float(ci.mean),
            Field::Float(ci.upper),
        ]);
    }
    w
}

fn gt_mask<'a>(gt: &'a Segmentations, path: &Path, id: &str, task: Task) -> Result<&'a Rle> {
    gt.get(id, task).ok_or_else(|| {
        anyhow!(
            "{}: CXR {id}: expected a mask for task {task}",
            path.display()
        )
    })
}

fn size_check(a: &Rle, b: &Rle, what: impl FnOnce() -> String) -> Result<()> {
    if (a.height(), a.width()) != (b.height(), b.width()) {
        bail!(
            "{}: mask sizes differ: prediction {}x{}, ground truth {}x{} (h x w)",
            what(),
            a.height(),
            a.width(),
            b.height(),
            b.width()
        );
    }
    Ok(())
}

/// `get_ious` of eval.py.
pub(crate) fn iou_table(
    gt: &Segmentations,
    gt_path: &Path,
    pred: &Segmentations,
    pred_path: &Path,
    scoring: Scoring,
) -> Result<ResultsTable> {
    let mut ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    let pred_only: Vec<String> = match scoring {
        Scoring::TruePositivesOnly => Vec::new(),
        Scoring::All => pred
            .sorted_ids()
            .into_iter()
            .filter(|id| !gt.contains(id))
            .map(str::to_owned)
            .collect(),
    };
    let mut values = Vec::with_capacity(10);
    for task in Task::SORTED {
        let mut col = Vec::with_capacity(ids.len() + pred_only.len());
        for id in &ids {
            let g = gt_mask(gt, gt_path, id, task)?;
            let empty;
            let p = if pred.contains(id) {
                pred.get(id, task).ok_or_else(|| {
                    anyhow!(
                        "{}: CXR {id}: expected a mask for task {task}",
                        pred_path.display()
                    )
                })?
            } else {
                // Parity: a CXR missing from the predictions counts as an empty mask.
                empty = Rle::empty(g.height(), g.width());
                &empty
            };
            size_check(p, g, || format!("CXR {id}, task {task}"))?;
            col.push(metrics::iou(p, g, scoring)?);
        }
        for id in &pred_only {
            let p = pred.get(id, task).ok_or_else(|| {
                anyhow!(
                    "{}: CXR {id}: expected a mask for task {task}",
                    pred_path.display()
                )
            })?;
            col.push(metrics::iou(
                p,
                &Rle::empty(p.height(), p.width()),
                scoring,
            )?);
        }
        values.push(col);
    }
    ids.extend(pred_only);
    Ok(sort_rows(ResultsTable {
        tasks: Task::SORTED.to_vec(),
        int_columns: vec![false; 10],
        ids,
        values,
    }))
}

/// Sorts rows by CXR id (the reference's `sort_values(by='img_id')`).
fn sort_rows(t: ResultsTable) -> ResultsTable {
    let mut order: Vec<usize> = (0..t.ids.len()).collect();
    order.sort_by(|&a, &b| t.ids[a].cmp(&t.ids[b]));
    ResultsTable {
        ids: order.iter().map(|&i| t.ids[i].clone()).collect(),
        values: t
            .values
            .iter()
            .map(|c| order.iter().map(|&i| c[i]).collect())
            .collect(),
        ..t
    }
}

/// One pointing-game outcome: 1 hit, 0 miss, NaN when the ground truth is empty.
fn hit_value(g: &Rle, row: usize, col: usize, tolerance: f64) -> f64 {
    if g.is_empty() {
        f64::NAN
    } else if metrics::hit_with_tolerance(g, row, col, tolerance) {
        1.0
    } else {
        0.0
    }
}

/// `get_hitrates` of eval.py: the most salient pixel of each upsampled heatmap.
///
/// The reference labels its rows with the sorted ground-truth ids by position; we join by CXR id,
/// which gives the same table whenever the reference's does not crash, and an error naming the
/// CXR when a ground-truth CXR has no heatmap.
fn heatmap_hit_table(
    gt: &Segmentations,
    gt_path: &Path,
    map_dir: &Path,
    tolerance: f64,
    jobs: Option<usize>,
    limits: &Limits,
) -> Result<ResultsTable> {
    let files: Vec<_> = task_heatmaps(map_dir)?
        .into_iter()
        .filter(|(f, _)| gt.contains(&f.cxr_id))
        .collect();
    let ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    for id in &ids {
        if !files.iter().any(|(f, _)| &f.cxr_id == id) {
            bail!(
                "{}: no heatmap for CXR {id} of the ground truth {}",
                map_dir.display(),
                gt_path.display()
            );
        }
    }
    let pool = thread_pool(jobs)?;
    let progress = Progress::new(files.len() as u64, "pointing");
    let hits: Vec<f64> = pool.install(|| {
        files
            .par_iter()
            .map(|(f, task)| {
                let g = gt_mask(gt, gt_path, &f.cxr_id, *task)?;
                let rec = chexlocalize_io::read_heatmap(&f.path, limits)?;
                let (map, h, w) = map_and_dims(&rec).map_err(|e| anyhow!("{}: {e}", f.path.display()))?;
                if (h, w) != (g.height(), g.width()) {
                    bail!(
                        "{}: cxr_dims give {h}x{w} (h x w) but the ground truth of CXR {}, task {task} is {}x{}",
                        f.path.display(),
                        f.cxr_id,
                        g.height(),
                        g.width()
                    );
                }
                let (row, col) = chexlocalize_saliency::max_point(map.view(), h, w);
                progress.inc();
                Ok(hit_value(g, row, col, tolerance))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    // Columns in order of first appearance, as pandas' DataFrame.from_dict(orient='index').
    let mut tasks: Vec<Task> = Vec::new();
    let mut cells: HashMap<(&str, Task), f64> = HashMap::new();
    for ((f, task), v) in files.iter().zip(hits) {
        if !tasks.contains(task) {
            tasks.push(*task);
        }
        cells.insert((f.cxr_id.as_str(), *task), v);
    }
    let values: Vec<Vec<f64>> = tasks
        .iter()
        .map(|t| {
            ids.iter()
                .map(|id| cells.get(&(id.as_str(), *t)).copied().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let int_columns = values
        .iter()
        .map(|c| c.iter().all(|x| !x.is_nan()))
        .collect();
    Ok(ResultsTable {
        tasks,
        ids,
        values,
        int_columns,
    })
}

/// `get_hb_hitrates` of eval.py: a hit when any of the human's points is in the ground truth.
fn human_hit_table(
    gt: &Segmentations,
    gt_path: &Path,
    pts: &chexlocalize_io::SalientPoints,
    pts_path: &Path,
    tolerance: f64,
) -> Result<ResultsTable> {
    let ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    let mut values = Vec::with_capacity(10);
    for task in Task::SORTED {
        let mut col = Vec::with_capacity(ids.len());
        for id in &ids {
            let g = gt_mask(gt, gt_path, id, task)?;
            let v = if g.is_empty() {
                f64::NAN
            } else {
                let mut hit = 0.0;
                for &[x, y] in pts.get(id, task).unwrap_or(&[]) {
                    let (h, w) = (g.height(), g.width());
                    let (row, col) = metrics::human_point_to_pixel(x, y, h, w).map_err(|e| {
                        anyhow!("{}: CXR {id}, task {task}: salient {e}", pts_path.display())
                    })?;
                    if !metrics::point_inside(x, y, h, w) {
                        eprintln!(
                            "warning: {}: CXR {id}, task {task}: salient point [{x}, {y}] is outside the {h}x{w} image; scored at row {row}, column {col}, as the original indexes it (int() truncation, negative indices wrap)",
                            pts_path.display()
                        );
                    }
                    if metrics::hit_with_tolerance(g, row, col, tolerance) {
                        hit = 1.0;
                    }
                }
                hit
            };
            col.push(v);
        }
        values.push(col);
    }
    let int_columns = values
        .iter()
        .map(|c| c.iter().all(|x| !x.is_nan()))
        .collect();
    Ok(ResultsTable {
        tasks: Task::SORTED.to_vec(),
        ids,
        values,
        int_columns,
    })
}
