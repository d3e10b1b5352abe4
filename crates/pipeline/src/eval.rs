//! `chexlocalize eval`: mIoU and hit rate with bootstrap confidence intervals.

use std::path::{Path, PathBuf};

use chexlocalize_io::{CsvWriter, Field, Segmentations, Task};
use chexlocalize_metrics::{
    self as metrics, CiLevel, Clusters, Localisation, Scoring, Spacing, ToleranceBoundary,
};
use chexlocalize_rle::Rle;

mod maps;

use crate::bootstrap::Bootstrap;
use crate::error::{Error, Result};
use crate::options::{Notes, Options, Outcome};
use maps::{MapScore, heatmap_table};

/// Inputs of [`evaluate`] (`eval.py`).
#[derive(Clone, Debug)]
pub struct Evaluate {
    /// What is scored.
    pub metric: Metric,
    /// Ground-truth segmentation JSON.
    pub gt_path: PathBuf,
    /// Predictions: a segmentation JSON ([`Metric::Iou`]), a folder of heatmaps
    /// ([`Metric::HitMiss`] of a saliency method), or a salient-points JSON ([`Metric::HitMiss`]
    /// of the human benchmark).
    pub pred_path: PathBuf,
    /// Whose predictions they are (names the output files; selects the points reader).
    pub predictor: Predictor,
    /// Where to write the three CSV files.
    pub save_dir: PathBuf,
    /// How to bootstrap the confidence intervals (`Bootstrap::default()`: the reference's).
    pub bootstrap: Bootstrap,
}

/// The metric of [`evaluate`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// IoU of the segmentations, averaged per task (mIoU).
    Iou(Scoring),
    /// The pointing game: a hit when the ground truth holds a pixel within `tolerance_px`
    /// (0 to 1000; 0 is the reference's exact rule, TorchRay uses 15) of the point.
    HitMiss {
        /// Tolerance in pixels.
        tolerance_px: f64,
        /// Whether a pixel exactly at the tolerance counts (`≤`, the default) or not (`<`,
        /// TorchRay's rule).
        boundary: ToleranceBoundary,
    },
    /// The Dice coefficient of the segmentations (NaN where the ground truth is empty).
    Dice,
    /// The robust Hausdorff distance at 95 % between the masks' boundaries, in pixels or in the
    /// spacing's unit (`surface-distance`'s; an empty prediction scores the image diagonal).
    Hd95(Spacing),
    /// The share of both boundaries within `tolerance` of the other (`surface-distance`'s).
    SurfaceDice {
        /// Pixel size.
        spacing: Spacing,
        /// Tolerance in the spacing's unit (0 to 1000).
        tolerance: f64,
    },
    /// A threshold-free score of the heatmaps, upsampled to the CXR size as for segmentation.
    Localisation(Localisation),
}

impl Metric {
    /// The name in the output files: `iou`, `hitmiss`, `dice`, `hd95`, `surface_dice`, `auroc`, `auprc`,
    /// `relevance_mass`, `relevance_rank`, `topk_intersection` or `energy_pointing_game`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Iou(_) => "iou",
            Metric::HitMiss { .. } => "hitmiss",
            Metric::Dice => "dice",
            Metric::Hd95(_) => "hd95",
            Metric::SurfaceDice { .. } => "surface_dice",
            Metric::Localisation(l) => match l {
                Localisation::Auroc => "auroc",
                Localisation::Auprc => "auprc",
                Localisation::RelevanceMass => "relevance_mass",
                Localisation::RelevanceRank => "relevance_rank",
                Localisation::TopKIntersection { .. } => "topk_intersection",
                Localisation::EnergyPointingGame => "energy_pointing_game",
            },
        }
    }
}

/// Whose predictions are evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Predictor {
    /// A saliency method: segmentations, or heatmaps for the pointing game.
    #[default]
    Saliency,
    /// The human benchmark: segmentations, or salient points for the pointing game.
    HumanBenchmark,
}

/// What [`evaluate`] found: the per-task confidence intervals it wrote to the summary file.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The files written and the notes.
    pub outcome: Outcome,
    /// Per task, sorted by task name: the bootstrap mean and its interval (95 % by default).
    pub summary: Vec<(Task, metrics::Ci)>,
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
    /// One column per task in `LOCALIZATION_TASKS` order, NaN for a task the table lacks.
    ///
    /// Parity: eval.py's bootstrap iterates `df[LOCALIZATION_TASKS].columns`, i.e. the
    /// LOCALIZATION_TASKS order, not the per-CXR CSV's sorted order.
    pub(crate) fn task_columns(&self) -> Vec<Vec<f64>> {
        Task::ALL.iter().map(|&t| self.column(t)).collect()
    }

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

/// mIoU or hit rate per CXR with bootstrap confidence intervals (`eval.py`): writes
/// `<metric>_[humanbenchmark_]results_per_cxr.csv`, `..._bootstrap_results_per_cxr.csv` and
/// `..._summary_results.csv` (all three or none).
pub fn evaluate(args: &Evaluate, options: &Options) -> Result<Evaluation> {
    let limits = &options.limits;
    if let Metric::SurfaceDice { tolerance, .. } = args.metric {
        if !(0.0..=1000.0).contains(&tolerance) {
            return Err(Error::Options(format!(
                "tolerance: expected a distance from 0 to 1000, found {tolerance}"
            )));
        }
    }
    if let Metric::HitMiss { tolerance_px, .. } = args.metric {
        if !(0.0..=1000.0).contains(&tolerance_px) {
            return Err(Error::Options(format!(
                "tolerance: expected a number of pixels from 0 to 1000, found {tolerance_px}"
            )));
        }
    }
    args.bootstrap.check()?;
    let notes = Notes::default();
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, limits)?;
    let table = results_table(
        &gt,
        &args.gt_path,
        args.metric,
        args.predictor,
        &args.pred_path,
        options,
        &notes,
    )?;
    let files = chexlocalize_io::layout::EvalFiles::new(
        args.metric.name(),
        args.predictor == Predictor::HumanBenchmark,
    );
    let clusters = args.bootstrap.clusters(&table.ids, &args.gt_path)?;
    let replicates = bootstrap_table(&table, &args.bootstrap, &clusters);
    let summary = summary(&replicates, args.bootstrap.level);
    let contents = [
        (files.per_cxr, table.to_csv()),
        (files.bootstrap, bootstrap_csv(&replicates)),
        (files.summary, summary_csv(&summary)),
    ];
    // All three files or none.
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        contents.iter().map(|(n, csv)| (n, csv.as_str().as_bytes())),
    )?;
    notes.info(format!(
        "{} results written to {}",
        args.metric.name(),
        args.save_dir.display()
    ));
    Ok(Evaluation {
        outcome: notes.outcome(paths),
        summary,
    })
}

/// The per-CXR table of one method: `get_ious` or `get_hitrates` of eval.py.
pub(crate) fn results_table(
    gt: &Segmentations,
    gt_path: &Path,
    metric: Metric,
    predictor: Predictor,
    pred_path: &Path,
    options: &Options,
    notes: &Notes,
) -> Result<ResultsTable> {
    let limits = &options.limits;
    let segmentations = || chexlocalize_io::read_segmentations(pred_path, limits);
    Ok(match metric {
        Metric::Iou(scoring) => iou_table(
            gt,
            gt_path,
            &segmentations()?,
            pred_path,
            MaskScore::Iou(scoring),
        )?,
        Metric::Dice => iou_table(gt, gt_path, &segmentations()?, pred_path, MaskScore::Dice)?,
        Metric::Hd95(spacing) => {
            let score = MaskScore::Hd95(spacing);
            iou_table(gt, gt_path, &segmentations()?, pred_path, score)?
        }
        Metric::SurfaceDice { spacing, tolerance } => {
            let score = MaskScore::SurfaceDice(spacing, tolerance);
            iou_table(gt, gt_path, &segmentations()?, pred_path, score)?
        }
        Metric::Localisation(which) => {
            let score = MapScore::Localisation(which);
            heatmap_table(gt, gt_path, pred_path, score, options, notes)?
        }
        Metric::HitMiss {
            tolerance_px,
            boundary,
        } => match predictor {
            Predictor::Saliency => {
                let score = MapScore::Hit(tolerance_px, boundary);
                heatmap_table(gt, gt_path, pred_path, score, options, notes)?
            }
            Predictor::HumanBenchmark => {
                let pts = chexlocalize_io::read_salient_points(pred_path, limits)?;
                let tolerance = (tolerance_px, boundary);
                human_hit_table(gt, gt_path, &pts, pred_path, tolerance, notes)?
            }
        },
    })
}

/// The bootstrap replicate means, `[replicate][task]` in `LOCALIZATION_TASKS` order.
pub(crate) fn bootstrap_table(
    table: &ResultsTable,
    bootstrap: &Bootstrap,
    clusters: &Clusters,
) -> Vec<Vec<f64>> {
    bootstrap.run(&table.task_columns(), clusters)
}

fn bootstrap_csv(replicates: &[Vec<f64>]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row(Task::ALL.iter().map(|t| t.name()));
    for r in replicates {
        w.row(r.iter().map(|&x| Field::Float(x)));
    }
    w
}

/// Per task, sorted by name: the replicates' mean and interval at `level`.
fn summary(replicates: &[Vec<f64>], level: CiLevel) -> Vec<(Task, metrics::Ci)> {
    let mut records: Vec<(Task, metrics::Ci)> = Task::ALL
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            let col: Vec<f64> = replicates.iter().map(|r| r[i]).collect();
            (t, metrics::confidence_interval_at(&col, level))
        })
        .collect();
    records.sort_by_key(|(t, _)| t.name());
    records
}

fn summary_csv(records: &[(Task, metrics::Ci)]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row(["name", "lower", "mean", "upper"]);
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
    gt.get(id, task)
        .ok_or_else(|| Error::input(path, format!("CXR {id}: expected a mask for task {task}")))
}

fn size_check(a: &Rle, b: &Rle, file: &Path, what: impl FnOnce() -> String) -> Result<()> {
    if (a.height(), a.width()) != (b.height(), b.width()) {
        return Err(Error::input(
            file,
            format!(
                "{}: mask sizes differ: prediction {}x{}, ground truth {}x{} (h x w)",
                what(),
                a.height(),
                a.width(),
                b.height(),
                b.width()
            ),
        ));
    }
    Ok(())
}

/// What a pair of masks is scored by.
#[derive(Clone, Copy, Debug)]
pub(crate) enum MaskScore {
    /// IoU with eval.py's rules.
    Iou(Scoring),
    /// The Dice coefficient (ground-truth CXRs only).
    Dice,
    /// HD95 (ground-truth CXRs only).
    Hd95(Spacing),
    /// Surface Dice at a tolerance (ground-truth CXRs only).
    SurfaceDice(Spacing, f64),
}

/// `get_ious` of eval.py, or the Dice coefficient of the same pairs.
pub(crate) fn iou_table(
    gt: &Segmentations,
    gt_path: &Path,
    pred: &Segmentations,
    pred_path: &Path,
    score: MaskScore,
) -> Result<ResultsTable> {
    let pair = |p: &Rle, g: &Rle| match score {
        MaskScore::Iou(scoring) => metrics::iou(p, g, scoring),
        MaskScore::Dice => metrics::dice(p, g),
        MaskScore::Hd95(spacing) => metrics::hd95(p, g, spacing),
        MaskScore::SurfaceDice(spacing, tolerance) => {
            metrics::surface_dice(p, g, spacing, tolerance)
        }
    };
    let mut ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    let pred_only: Vec<String> = match score {
        MaskScore::Iou(Scoring::TruePositivesOnly)
        | MaskScore::Dice
        | MaskScore::Hd95(_)
        | MaskScore::SurfaceDice(..) => Vec::new(),
        MaskScore::Iou(Scoring::All) => pred
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
                    Error::input(
                        pred_path,
                        format!("CXR {id}: expected a mask for task {task}"),
                    )
                })?
            } else {
                // Parity: a CXR missing from the predictions counts as an empty mask.
                empty = Rle::empty(g.height(), g.width());
                &empty
            };
            size_check(p, g, pred_path, || format!("CXR {id}, task {task}"))?;
            col.push(pair(p, g)?);
        }
        for id in &pred_only {
            let p = pred.get(id, task).ok_or_else(|| {
                Error::input(
                    pred_path,
                    format!("CXR {id}: expected a mask for task {task}"),
                )
            })?;
            col.push(pair(p, &Rle::empty(p.height(), p.width()))?);
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

/// `get_hb_hitrates` of eval.py: a hit when any of the human's points is in the ground truth.
fn human_hit_table(
    gt: &Segmentations,
    gt_path: &Path,
    pts: &chexlocalize_io::SalientPoints,
    pts_path: &Path,
    (tolerance, boundary): (f64, ToleranceBoundary),
    notes: &Notes,
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
                        Error::input(pts_path, format!("CXR {id}, task {task}: salient {e}"))
                    })?;
                    if !metrics::point_inside(x, y, h, w) {
                        notes.warn(format!(
                            "warning: {}: CXR {id}, task {task}: salient point [{x}, {y}] is outside the {h}x{w} image; scored at row {row}, column {col}, as the original indexes it (int() truncation, negative indices wrap)",
                            pts_path.display()
                        ));
                    }
                    if metrics::hit_within(g, row, col, tolerance, boundary) {
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
