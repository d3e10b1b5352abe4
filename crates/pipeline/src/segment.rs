//! `annotation-to-segmentation` and `heatmap-to-segmentation`: polygons and heatmaps to RLE masks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::{Annotations, HeatmapFile, Limits, Segmentations, Task};
use chexlocalize_raster::{FillRule, rasterize_spans, rasterize_with};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Threshold, segment_rle};
use geo_types::LineString;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::heatmaps::{map_and_dims, task_heatmaps, task_probability};
use crate::options::{Notes, Options, Outcome};
use crate::progress::{Progress, thread_pool};

/// Inputs of [`annotations_to_segmentations`] (`annotation_to_segmentation.py`).
#[derive(Clone, Debug)]
pub struct AnnotationsToSegmentations {
    /// JSON file with the polygon annotations.
    pub ann_path: PathBuf,
    /// Where to write the segmentation JSON.
    pub output_path: PathBuf,
    /// How polygons become pixels.
    pub fill_rule: PolygonFill,
}

/// How polygons become pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolygonFill {
    /// Pillow's `ImageDraw.polygon` (the reference's rule, leaderboard-compatible).
    #[default]
    Pillow,
    /// GDAL's all-touched rule: every pixel a polygon touches (larger masks, not
    /// leaderboard-compatible).
    AllTouched,
}

/// The mask of `polygons` on a `height × width` image as RLE.
fn rasterize_rle(
    rule: PolygonFill,
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Rle> {
    match rule {
        PolygonFill::Pillow => {
            let runs = rasterize_spans(polygons, height, width)?;
            Ok(Rle::from_row_runs(height, width, runs.rows())?)
        }
        PolygonFill::AllTouched => encode(&rasterize_with(
            FillRule::AllTouched,
            polygons,
            height,
            width,
        )?),
    }
}

/// Radiologist polygons to RLE masks, written as a segmentation JSON
/// (`annotation_to_segmentation.py`).
pub fn annotations_to_segmentations(
    args: &AnnotationsToSegmentations,
    options: &Options,
) -> Result<Outcome> {
    let ann = chexlocalize_io::read_annotations(&args.ann_path, &options.limits)?;
    let segs = segment_annotations(&ann, &args.ann_path, args.fill_rule, options)?;
    chexlocalize_io::write_segmentations(&args.output_path, &segs)?;
    let notes = Notes::default();
    notes.info(format!(
        "Segmentation masks saved to {}",
        args.output_path.display()
    ));
    Ok(notes.outcome(vec![args.output_path.clone()]))
}

/// The masks of annotations read from `source` (named in errors), in memory: per CXR in file
/// order, the ten tasks in `LOCALIZATION_TASKS` order, as the reference writes them.
pub fn segment_annotations(
    ann: &Annotations,
    source: &Path,
    fill_rule: PolygonFill,
    options: &Options,
) -> Result<Segmentations> {
    // Reject what Pillow would not draw as a region before doing any work.
    for cxr in &ann.cxrs {
        for (task, polys) in &cxr.tasks {
            for (i, p) in polys.iter().enumerate() {
                if p.len() < 2 {
                    return Err(Error::input(
                        source,
                        format!(
                            "CXR {}, task {task}, polygon {i}: expected at least 2 points, found {}",
                            cxr.cxr_id,
                            p.len()
                        ),
                    ));
                }
            }
        }
    }
    let pool = thread_pool(options)?;
    let progress = Progress::new(options, ann.cxrs.len() as u64, "rasterising");
    let masks: Vec<Vec<(Task, Rle)>> = pool.install(|| {
        ann.cxrs
            .par_iter()
            .map(|cxr| {
                let out = Task::ALL
                    .iter()
                    .map(|&task| {
                        let polys: Vec<LineString<f64>> = cxr
                            .polygons(task)
                            .iter()
                            .map(|p| {
                                LineString::from(p.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>())
                            })
                            .collect();
                        let rle = rasterize_rle(fill_rule, &polys, cxr.height, cxr.width).map_err(
                            |e| Error::at(source, format!("CXR {}, task {task}", cxr.cxr_id), e),
                        )?;
                        Ok((task, rle))
                    })
                    .collect::<Result<Vec<_>>>();
                progress.inc();
                out
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    let mut segs = Segmentations::new();
    for (cxr, masks) in ann.cxrs.iter().zip(masks) {
        for (task, rle) in masks {
            segs.insert(&cxr.cxr_id, task, rle)
                .map_err(|e| Error::at(source, "", e))?;
        }
    }
    Ok(segs)
}

pub(crate) fn encode(mask: &ndarray::Array2<u8>) -> Result<Rle> {
    let (h, w) = mask.dim();
    let rle = match mask.as_slice() {
        Some(s) => Rle::encode(s, h, w),
        None => Rle::encode(&mask.iter().copied().collect::<Vec<u8>>(), h, w),
    };
    Ok(rle?)
}

/// Inputs of [`heatmaps_to_segmentations`] (`heatmap_to_segmentation.py`).
#[derive(Clone, Debug)]
pub struct HeatmapsToSegmentations {
    /// Folder with the heatmap pickles (`*_map.pkl`, searched recursively).
    pub map_dir: PathBuf,
    /// How each task's threshold is chosen.
    pub thresholds: Thresholds,
    /// Smoothing before Otsu's method (ignored for tasks with a fixed threshold).
    pub smoothing: Smoothing,
    /// Where to write the segmentation JSON.
    pub output_path: PathBuf,
}

/// Where the per-task thresholds of [`heatmaps_to_segmentations`] come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Thresholds {
    /// Otsu's method on every map.
    #[default]
    Otsu,
    /// A CSV of per-task thresholds (`threshold,task`, as `tune_heatmap_threshold` writes); a
    /// NaN or empty threshold means Otsu's method for that task.
    Fixed(PathBuf),
    /// A CSV of probability cutoffs (`prob_threshold,mIoU,task`): masks of maps whose
    /// probability is below the best cutoff of their task are empty, the others Otsu's.
    ProbabilityCutoffs(PathBuf),
}

/// Smoothing of a heatmap before Otsu's method.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Smoothing {
    /// None.
    #[default]
    None,
    /// JET colormap, gray, box filter of this size (1 to 4096), as `--if_smoothing True --k k`.
    BoxFilter(usize),
}

/// How each map is turned into a mask, fixed per task before any map is read.
pub(crate) struct SegmentPlan {
    thresholds: Option<BTreeMap<Task, f64>>,
    cutoffs: Option<BTreeMap<Task, f64>>,
    smoothing: Option<usize>,
}

impl SegmentPlan {
    /// The task's thresholding. Parity: `heatmap_to_segmentation.py` reads the task's first
    /// `threshold` of the CSV and tests it with `np.isnan`: a NaN (an empty cell or `nan` in the
    /// CSV) means Otsu's method for that task, smoothed when `--if_smoothing True` (smoothing
    /// is ignored with a fixed threshold).
    fn threshold(&self, task: Task) -> Threshold {
        match self.thresholds.as_ref().and_then(|t| t.get(&task)) {
            Some(&t) if !t.is_nan() => Threshold::Fixed(t),
            _ => Threshold::Otsu {
                smoothing: self.smoothing,
            },
        }
    }
}

fn segment_one(file: &HeatmapFile, task: Task, plan: &SegmentPlan, limits: &Limits) -> Result<Rle> {
    let rec = chexlocalize_io::read_heatmap(&file.path, limits)?;
    let ctx = |e: String| Error::input(&file.path, e);
    let (map, h, w) = map_and_dims(&rec).map_err(ctx)?;
    if let Some(cutoffs) = &plan.cutoffs {
        let p = task_probability(&rec, task).map_err(ctx)?;
        // Parity: heatmap_to_segmentation.py empties the mask when prob < cutoff (strict).
        if cutoffs.get(&task).is_some_and(|&c| p < c) {
            return Ok(Rle::empty(h, w));
        }
    }
    segment_rle(map.view(), h, w, plan.threshold(task)).map_err(|e| Error::at(&file.path, "", e))
}

/// Heatmaps to RLE masks, written as a segmentation JSON (`heatmap_to_segmentation.py`).
pub fn heatmaps_to_segmentations(
    args: &HeatmapsToSegmentations,
    options: &Options,
) -> Result<Outcome> {
    let limits = &options.limits;
    let smoothing = match args.smoothing {
        Smoothing::None => None,
        Smoothing::BoxFilter(k @ 1..=4096) => Some(k),
        Smoothing::BoxFilter(k) => {
            return Err(Error::Options(format!(
                "smoothing: expected a box filter size from 1 to 4096, found {k}"
            )));
        }
    };
    let notes = Notes::default();
    let files = task_heatmaps(&args.map_dir, &notes)?;
    let (threshold_path, cutoff_path) = match &args.thresholds {
        Thresholds::Otsu => (None, None),
        Thresholds::Fixed(p) => (Some(p.as_path()), None),
        Thresholds::ProbabilityCutoffs(p) => (None, Some(p.as_path())),
    };
    let plan = SegmentPlan {
        thresholds: threshold_path
            .map(|p| chexlocalize_io::read_thresholds(p, limits))
            .transpose()?,
        cutoffs: cutoff_path
            .map(|p| chexlocalize_io::read_probability_cutoffs(p, limits))
            .transpose()?,
        smoothing,
    };
    for (f, task) in &files {
        for (table, path) in [
            (&plan.thresholds, threshold_path),
            (&plan.cutoffs, cutoff_path),
        ] {
            if let (Some(t), Some(p)) = (table, path) {
                if !t.contains_key(task) {
                    return Err(Error::input(
                        p,
                        format!(
                            "no usable row for task {task}, needed by {} (no row of that task, or every mIoU of it is NaN, where the reference's pandas idxmax fails too)",
                            f.path.display()
                        ),
                    ));
                }
            }
        }
    }
    let pool = thread_pool(options)?;
    let progress = Progress::new(options, files.len() as u64, "segmenting");
    let masks: Vec<Rle> = pool.install(|| {
        files
            .par_iter()
            .map(|(f, task)| {
                let r = segment_one(f, *task, &plan, limits);
                progress.inc();
                r
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    let mut segs = Segmentations::new();
    for ((f, task), rle) in files.iter().zip(masks) {
        segs.insert(&f.cxr_id, *task, rle)
            .map_err(|e| Error::at(&f.path, "", e))?;
    }
    chexlocalize_io::write_segmentations(&args.output_path, &segs)?;
    notes.info(format!(
        "Segmentation masks (in RLE format) saved to {}",
        args.output_path.display()
    ));
    Ok(notes.outcome(vec![args.output_path.clone()]))
}
