//! `annotation-to-segmentation` and `heatmap-to-segmentation`: polygons and heatmaps to RLE masks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use chexlocalize_io::{HeatmapFile, Limits, Segmentations, Task};
use chexlocalize_raster::{FillRule, rasterize_spans, rasterize_with};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Threshold, segment_rle};
use clap::Args;
use geo_types::LineString;
use rayon::prelude::*;

use crate::args::py_bool;
use crate::heatmaps::{map_and_dims, task_heatmaps, task_probability};
use crate::progress::{Progress, thread_pool};

/// Arguments of `chexlocalize annotation-to-segmentation`.
#[derive(Args, Debug)]
pub(crate) struct AnnotationArgs {
    /// JSON file with the polygon annotations.
    #[arg(long = "ann-path", visible_alias = "ann_path")]
    ann_path: PathBuf,
    /// Where to write the segmentation JSON.
    #[arg(
        long = "output-path",
        visible_alias = "output_path",
        default_value = "./human_segmentations.json"
    )]
    output_path: PathBuf,
    /// How polygons become pixels: `pillow` (the reference's rule, leaderboard-compatible) or
    /// `all-touched` (every pixel a polygon touches, GDAL's rule; larger masks, not
    /// leaderboard-compatible).
    #[arg(long = "fill-rule", visible_alias = "fill_rule", value_enum, default_value_t = FillRuleArg::Pillow)]
    fill_rule: FillRuleArg,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
}

/// `--fill-rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FillRuleArg {
    /// Pillow's `ImageDraw.polygon` (the reference).
    Pillow,
    /// GDAL's all-touched rule.
    AllTouched,
}

/// The mask of `polygons` on a `height × width` image as RLE.
fn rasterize_rle(
    rule: FillRuleArg,
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Rle> {
    match rule {
        FillRuleArg::Pillow => {
            let runs = rasterize_spans(polygons, height, width)?;
            Ok(Rle::from_row_runs(height, width, runs.rows())?)
        }
        FillRuleArg::AllTouched => encode(&rasterize_with(
            FillRule::AllTouched,
            polygons,
            height,
            width,
        )?),
    }
}

pub(crate) fn annotation_to_segmentation(args: &AnnotationArgs, limits: &Limits) -> Result<()> {
    let ann = chexlocalize_io::read_annotations(&args.ann_path, limits)?;
    // Reject what Pillow would not draw as a region before doing any work.
    for cxr in &ann.cxrs {
        for (task, polys) in &cxr.tasks {
            for (i, p) in polys.iter().enumerate() {
                if p.len() < 2 {
                    bail!(
                        "{}: CXR {}, task {task}, polygon {i}: expected at least 2 points, found {}",
                        args.ann_path.display(),
                        cxr.cxr_id,
                        p.len()
                    );
                }
            }
        }
    }
    let pool = thread_pool(args.jobs)?;
    let progress = Progress::new(ann.cxrs.len() as u64, "rasterising");
    // Parity: the reference writes, per CXR in file order, the ten tasks in LOCALIZATION_TASKS order.
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
                        let rle = rasterize_rle(args.fill_rule, &polys, cxr.height, cxr.width)
                            .with_context(|| {
                                format!(
                                    "{}: CXR {}, task {task}",
                                    args.ann_path.display(),
                                    cxr.cxr_id
                                )
                            })?;
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
            segs.insert(&cxr.cxr_id, task, rle)?;
        }
    }
    chexlocalize_io::write_segmentations(&args.output_path, &segs)?;
    eprintln!("Segmentation masks saved to {}", args.output_path.display());
    Ok(())
}

pub(crate) fn encode(mask: &ndarray::Array2<u8>) -> Result<Rle> {
    let (h, w) = mask.dim();
    let rle = match mask.as_slice() {
        Some(s) => Rle::encode(s, h, w),
        None => Rle::encode(&mask.iter().copied().collect::<Vec<u8>>(), h, w),
    };
    rle.map_err(|e| anyhow!("encoding a mask: {e}"))
}

/// Arguments of `chexlocalize heatmap-to-segmentation`.
#[derive(Args, Debug)]
pub(crate) struct HeatmapArgs {
    /// Folder with the heatmap pickles (`*_map.pkl`, searched recursively).
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: PathBuf,
    /// CSV of per-task thresholds (`threshold,task`); without it, Otsu's method is used.
    #[arg(
        long = "threshold-path",
        visible_alias = "threshold_path",
        conflicts_with = "probability_threshold_path"
    )]
    threshold_path: Option<PathBuf>,
    /// CSV of probability cutoffs (`prob_threshold,mIoU,task`): masks of maps whose probability is
    /// below the best cutoff of their task are empty.
    #[arg(
        long = "probability-threshold-path",
        visible_alias = "probability_threshold_path"
    )]
    probability_threshold_path: Option<PathBuf>,
    /// Where to write the segmentation JSON.
    #[arg(
        long = "output-path",
        visible_alias = "output_path",
        default_value = "./saliency_segmentations.json"
    )]
    output_path: PathBuf,
    /// Smooth the heatmap (JET colormap, gray, box filter of size k) before Otsu: True or False.
    #[arg(long = "if-smoothing", visible_alias = "if_smoothing", action = clap::ArgAction::Set, value_parser = py_bool, default_value = "False")]
    if_smoothing: bool,
    /// Box filter size for smoothing: 0 to 4096 (at least 1 when smoothing).
    #[arg(long, default_value_t = 0, value_parser = crate::args::box_size, allow_negative_numbers = true)]
    k: usize,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    jobs: Option<usize>,
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
    let ctx = |e: String| anyhow!("{}: {e}", file.path.display());
    let (map, h, w) = map_and_dims(&rec).map_err(ctx)?;
    if let Some(cutoffs) = &plan.cutoffs {
        let p = task_probability(&rec, task).map_err(ctx)?;
        // Parity: heatmap_to_segmentation.py empties the mask when prob < cutoff (strict).
        if cutoffs.get(&task).is_some_and(|&c| p < c) {
            return Ok(Rle::empty(h, w));
        }
    }
    segment_rle(map.view(), h, w, plan.threshold(task))
        .map_err(|e| anyhow!("{}: {e}", file.path.display()))
}

impl HeatmapArgs {
    /// A combination of flags the flags' own parsers cannot refuse (a usage error, exit code 2).
    pub(crate) fn usage_error(&self) -> Option<String> {
        (self.if_smoothing && self.k == 0)
            .then(|| "--k 0: --if_smoothing True needs a box filter size from 1 to 4096".to_owned())
    }
}

pub(crate) fn heatmap_to_segmentation(args: &HeatmapArgs, limits: &Limits) -> Result<()> {
    if args.if_smoothing && args.k == 0 {
        bail!("--if_smoothing True needs a box filter size --k >= 1");
    }
    let files = task_heatmaps(&args.map_dir)?;
    let plan = SegmentPlan {
        thresholds: args
            .threshold_path
            .as_deref()
            .map(|p| chexlocalize_io::read_thresholds(p, limits))
            .transpose()?,
        cutoffs: args
            .probability_threshold_path
            .as_deref()
            .map(|p| chexlocalize_io::read_probability_cutoffs(p, limits))
            .transpose()?,
        smoothing: args.if_smoothing.then_some(args.k),
    };
    for (f, task) in &files {
        for (table, path) in [
            (&plan.thresholds, &args.threshold_path),
            (&plan.cutoffs, &args.probability_threshold_path),
        ] {
            if let (Some(t), Some(p)) = (table, path) {
                if !t.contains_key(task) {
                    bail!(
                        "{}: no usable row for task {task}, needed by {} (no row of that task, or every mIoU of it is NaN, where the reference's pandas idxmax fails too)",
                        p.display(),
                        f.path.display()
                    );
                }
            }
        }
    }
    let pool = thread_pool(args.jobs)?;
    let progress = Progress::new(files.len() as u64, "segmenting");
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
        segs.insert(&f.cxr_id, *task, rle)?;
    }
    chexlocalize_io::write_segmentations(&args.output_path, &segs)?;
    eprintln!(
        "Segmentation masks (in RLE format) saved to {}",
        args.output_path.display()
    );
    Ok(())
}
