//! `tune-heatmap-threshold` and `tune-probability-threshold`: the per-task threshold and
//! probability cutoff with the highest mIoU, as the reference's tuning scripts choose them.
//!
//! The scripts upsample and segment every map again for every candidate (about an hour each on
//! the 2340 validation maps). Here each map is read and upsampled once: the fixed-threshold masks
//! of all candidates come from one [`segment_thresholds`] sweep, and the probability cutoffs
//! reuse one Otsu mask per map, its IoU being the same for every cutoff that keeps it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::pickle::{Prob, TensorData};
use chexlocalize_io::{CsvWriter, Field, HeatmapFile, HeatmapRecord, Segmentations, Task, layout};
use chexlocalize_metrics::{Scoring, arange, iou, nanmean, numpy_round, python_argmax};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Threshold, segment_rle, segment_thresholds};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::heatmaps::{map_and_dims, task_heatmaps};
use crate::options::{Notes, Options, Outcome};
use crate::progress::{Progress, thread_pool_for};

/// Inputs of [`tune_heatmap_threshold`] and [`tune_probability_threshold`].
#[derive(Clone, Debug)]
pub struct Tune {
    /// Folder with the heatmap pickles (`*_map.pkl`, searched recursively).
    pub map_dir: PathBuf,
    /// Ground-truth segmentation JSON.
    pub gt_path: PathBuf,
    /// Folder for the result CSV (created if missing).
    pub save_dir: PathBuf,
    /// The candidates tried.
    pub grid: Candidates,
}

/// The candidates a tuning stage tries.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Candidates {
    /// The reference's grid (thresholds `np.arange(0.2, 0.8, 0.1)`; cutoffs
    /// `np.arange(0, .9, .1)`, from 0.1 for Lung Lesion).
    #[default]
    Reference,
    /// These, for every task: finite, 1 to 1000 of them (see
    /// [`chexlocalize_metrics::parse_grid`] for the command line's spelling).
    Custom(Vec<f64>),
}

impl Candidates {
    /// The custom list, checked.
    fn custom(&self) -> Result<Option<Vec<f64>>> {
        match self {
            Candidates::Reference => Ok(None),
            Candidates::Custom(v) if v.is_empty() || v.len() > 1000 => Err(Error::Options(
                format!("grid: expected 1 to 1000 candidates, found {}", v.len()),
            )),
            Candidates::Custom(v) if v.iter().any(|x| !x.is_finite()) => Err(Error::Options(
                "grid: expected finite candidates".to_owned(),
            )),
            Candidates::Custom(v) => Ok(Some(v.clone())),
        }
    }
}

/// Candidates segmented at once per map: bounds the masks held in memory whatever the grid's
/// length (each chunk upsamples the map again, a small cost next to the chunk's masks).
const THRESHOLD_CHUNK: usize = 256;

/// The ground-truth mask of a CXR and task, checked against the map's target size.
fn gt_for<'a>(
    gt: &'a Segmentations,
    gt_path: &Path,
    file: &HeatmapFile,
    task: Task,
    (h, w): (usize, usize),
) -> Result<Option<&'a Rle>> {
    if !gt.contains(&file.cxr_id) {
        return Ok(None);
    }
    let g = gt.get(&file.cxr_id, task).ok_or_else(|| {
        Error::input(
            gt_path,
            format!("CXR {}: expected a mask for task {task}", file.cxr_id),
        )
    })?;
    if (g.height(), g.width()) != (h, w) {
        return Err(Error::input(
            &file.path,
            format!(
                "cxr_dims give {h}x{w} (h x w) but the ground truth of CXR {}, task {task} is {}x{}",
                file.cxr_id,
                g.height(),
                g.width()
            ),
        ));
    }
    Ok(Some(g))
}

/// Reads every heatmap of `files` in parallel and applies `f` to it; results in file order.
fn per_map<T: Send>(
    files: &[(HeatmapFile, Task)],
    options: &Options,
    what: &str,
    f: impl Fn(&HeatmapFile, Task, &HeatmapRecord) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let limits = &options.limits;
    let pool = thread_pool_for(options, files.len())?;
    let progress = Progress::new(options, files.len() as u64, what);
    let out = pool.install(|| {
        files
            .par_iter()
            .map(|(file, task)| {
                let rec = chexlocalize_io::read_heatmap(&file.path, limits)?;
                let r = f(file, *task, &rec);
                progress.inc();
                r
            })
            .collect::<Result<Vec<T>>>()
    })?;
    progress.finish();
    Ok(out)
}

/// `tune_heatmap_threshold.py`: per task, the fixed threshold (of `np.arange(0.2, 0.8, 0.1)`
/// unless `--grid`) whose masks have the highest mIoU with the ground truth.
///
/// Parity: a map's IoU is taken with `true_pos_only=True` (NaN unless both masks are
/// non-empty) and is NaN when its CXR is not in the ground truth; the mIoU is numpy's
/// `nanmean` over the task's maps in sorted path order; the best candidate is Python's
/// `mious.index(max(mious))` ([`python_argmax`]); the threshold is written rounded to one
/// decimal (`np.round`), tasks in sorted order, every task (0.2 when it has no maps, as the
/// reference's all-NaN list gives).
pub fn tune_heatmap_threshold(args: &Tune, options: &Options) -> Result<Outcome> {
    let grid = args.grid.custom()?.unwrap_or_else(|| arange(0.2, 0.8, 0.1));
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, &options.limits)?;
    let notes = Notes::default();
    let files = task_heatmaps(&args.map_dir, &notes)?;
    let ious: Vec<Vec<f64>> = per_map(&files, options, "tuning", |file, task, rec| {
        let (map, h, w) = map_and_dims(rec).map_err(|e| Error::input(&file.path, e))?;
        let Some(g) = gt_for(&gt, &args.gt_path, file, task, (h, w))? else {
            return Ok(vec![f64::NAN; grid.len()]);
        };
        let mut out = Vec::with_capacity(grid.len());
        for chunk in grid.chunks(THRESHOLD_CHUNK) {
            for runs in segment_thresholds(map.view(), h, w, chunk) {
                let pred = Rle::from_row_runs(h, w, runs.rows())
                    .map_err(|e| Error::at(&file.path, "", e))?;
                out.push(iou(&pred, g, Scoring::TruePositivesOnly)?);
            }
        }
        Ok(out)
    })?;
    let mut csv = CsvWriter::new();
    csv.row(["threshold", "task"]);
    for task in Task::SORTED {
        let per_map: Vec<&Vec<f64>> = files
            .iter()
            .zip(&ious)
            .filter(|((_, t), _)| *t == task)
            .map(|(_, v)| v)
            .collect();
        let mious: Vec<f64> = (0..grid.len())
            .map(|k| nanmean(&per_map.iter().map(|v| v[k]).collect::<Vec<f64>>()))
            .collect();
        let best = python_argmax(&mious).unwrap_or(0);
        csv.row([
            Field::Float(numpy_round(grid[best], 1)),
            Field::from(task.name()),
        ]);
    }
    write_into(&args.save_dir, layout::TUNING_RESULTS, &csv, notes)
}

/// Whether a map's probability for `task` keeps its mask at `cutoff`, as
/// `tune_probability_threshold.py` compares: `pred_prob > cutoff` (strict). A float prob is
/// compared in float64; a tensor element stays a 0-dim tensor there, so torch compares in the
/// tensor's dtype — float32 (or narrower, widened here to float32) against the cutoff cast to
/// float32, float64 in float64.
fn keeps(rec: &HeatmapRecord, task: Task, cutoff: f64) -> Result<bool, String> {
    match &rec.prob {
        Prob::Float(p) => Ok(*p > cutoff),
        Prob::Tensor(t) => {
            let n = t.shape.iter().product::<usize>();
            let i = match n {
                14 if t.shape.len() == 1 => task.chexpert_index(),
                1 => 0,
                _ => {
                    return Err(format!(
                        "prob: expected a float or a 14-element CheXpert probability vector, found a tensor of {n} elements"
                    ));
                }
            };
            Ok(match &t.data {
                TensorData::F64(v) => v[i] > cutoff,
                _ => (t.to_f32_vec()[i]) > cutoff as f32,
            })
        }
    }
}

/// The reference's cutoff grid for a task: `np.arange(0, .9, .1)`, but `np.arange(0.1, .9, .1)`
/// for Lung Lesion (its comment: one positive CXR in the validation set makes the 0.001 gain at
/// cutoff 0 untrustworthy).
fn default_cutoffs(task: Task) -> Vec<f64> {
    if task == Task::LungLesion {
        arange(0.1, 0.9, 0.1)
    } else {
        arange(0.0, 0.9, 0.1)
    }
}

/// `tune_probability_threshold.py`: per task and probability cutoff, the mIoU of the Otsu masks
/// when masks of maps whose probability is not above the cutoff are emptied.
///
/// Parity: IoU with `true_pos_only=False` (NaN when both masks are empty) over all the task's
/// maps, with an empty ground truth for CXRs not in it; mIoU rounded to 3 decimals (`np.round`);
/// every cutoff written (rounded to 1 decimal), NaN as an empty field.
pub fn tune_probability_threshold(args: &Tune, options: &Options) -> Result<Outcome> {
    let custom = args.grid.custom()?;
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, &options.limits)?;
    let grid_of = |task: Task| custom.clone().unwrap_or_else(|| default_cutoffs(task));
    let notes = Notes::default();
    let files = task_heatmaps(&args.map_dir, &notes)?;
    let ious: BTreeMap<usize, Vec<f64>> = per_map(&files, options, "tuning", |file, task, rec| {
        let ctx = |e: String| Error::input(&file.path, e);
        let (map, h, w) = map_and_dims(rec).map_err(ctx)?;
        let g = gt_for(&gt, &args.gt_path, file, task, (h, w))?;
        let gt_area = g.map_or(0, Rle::area);
        let cutoffs = grid_of(task);
        let kept: Vec<bool> = cutoffs
            .iter()
            .map(|&c| keeps(rec, task, c))
            .collect::<Result<_, String>>()
            .map_err(ctx)?;
        // The Otsu mask's IoU, computed once if any cutoff keeps it.
        let kept_iou = if kept.contains(&true) {
            let pred = segment_rle(map.view(), h, w, Threshold::Otsu { smoothing: None })
                .map_err(|e| Error::at(&file.path, "", e))?;
            let empty;
            let g = match g {
                Some(g) => g,
                None => {
                    empty = Rle::empty(h, w);
                    &empty
                }
            };
            iou(&pred, g, Scoring::All)?
        } else {
            f64::NAN
        };
        // An emptied mask: IoU 0 against a non-empty ground truth, NaN against an empty one.
        let dropped = if gt_area == 0 { f64::NAN } else { 0.0 };
        Ok(kept
            .iter()
            .map(|&k| if k { kept_iou } else { dropped })
            .collect())
    })?
    .into_iter()
    .enumerate()
    .collect();
    let mut csv = CsvWriter::new();
    csv.row(["prob_threshold", "mIoU", "task"]);
    for task in Task::SORTED {
        let rows: Vec<&Vec<f64>> = files
            .iter()
            .enumerate()
            .filter(|(_, (_, t))| *t == task)
            .filter_map(|(i, _)| ious.get(&i))
            .collect();
        for (k, &cutoff) in grid_of(task).iter().enumerate() {
            let miou = numpy_round(nanmean(&rows.iter().map(|v| v[k]).collect::<Vec<f64>>()), 3);
            csv.row([
                Field::Float(numpy_round(cutoff, 1)),
                Field::Float(miou),
                Field::from(task.name()),
            ]);
        }
    }
    write_into(
        &args.save_dir,
        layout::PROBABILITY_TUNING_RESULTS,
        &csv,
        notes,
    )
}

/// Writes `csv` as `dir/name` (atomically; `dir` is created if missing) and says so.
fn write_into(dir: &Path, name: &str, csv: &CsvWriter, notes: Notes) -> Result<Outcome> {
    let path = dir.join(name);
    csv.write(&path)?;
    notes.info(format!("Saved {}", path.display()));
    Ok(notes.outcome(vec![path]))
}
