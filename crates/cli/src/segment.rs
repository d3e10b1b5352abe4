//! `annotation-to-segmentation` and `heatmap-to-segmentation`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chexlocalize_io::pickle::Prob;
use chexlocalize_io::{HeatmapFile, HeatmapRecord, Limits, Segmentations, Task};
use chexlocalize_raster::{FillRule, rasterize};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Threshold, segment};
use clap::{Args, ValueEnum};
use geo_types::LineString;
use rayon::prelude::*;

use crate::args::py_bool;
use crate::progress::{Progress, thread_pool};

/// Arguments of `chexlocalize annotation-to-segmentation`.
#[derive(Args, Debug)]
pub(crate) struct AnnotationArgs {
    /// JSON file with the polygon annotations.
    #[arg(long = "ann-path", visible_alias = "ann_path")]
    ann_path: PathBuf,
    /// Where to write the segmentation JSON.
    #[arg(long = "output-path", visible_alias = "output_path", default_value = "./human_segmentations.json")]
    output_path: PathBuf,
    /// Polygon fill rule: `pillow` (the reference's, leaderboard-compatible) or `all-touched`
    /// (every pixel a polygon touches; NOT leaderboard-compatible).
    #[arg(long = "fill-rule", visible_alias = "fill_rule", value_enum, default_value_t = FillRuleArg::Pillow)]
    fill_rule: FillRuleArg,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FillRuleArg {
    Pillow,
    AllTouched,
}

pub(crate) fn annotation_to_segmentation(args: &AnnotationArgs) -> Result<()> {
    let ann = chexlocalize_io::read_annotations(&args.ann_path)?;
    let rule = match args.fill_rule {
        FillRuleArg::Pillow => FillRule::Pillow,
        FillRuleArg::AllTouched => FillRule::AllTouched,
    };
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
                            .map(|p| LineString::from(p.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>()))
                            .collect();
                        let mask = rasterize(&polys, cxr.height, cxr.width, rule)
                            .with_context(|| format!("CXR {}, task {task}", cxr.cxr_id))?;
                        let rle = encode(&mask)?;
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
    #[arg(long = "threshold-path", visible_alias = "threshold_path", conflicts_with = "probability_threshold_path")]
    threshold_path: Option<PathBuf>,
    /// CSV of probability cutoffs (`prob_threshold,mIoU,task`): masks of maps whose probability is
    /// below the best cutoff of their task are empty.
    #[arg(long = "probability-threshold-path", visible_alias = "probability_threshold_path")]
    probability_threshold_path: Option<PathBuf>,
    /// Where to write the segmentation JSON.
    #[arg(long = "output-path", visible_alias = "output_path", default_value = "./saliency_segmentations.json")]
    output_path: PathBuf,
    /// Smooth the heatmap (JET colormap, gray, box filter of size k) before Otsu: True or False.
    #[arg(long = "if-smoothing", visible_alias = "if_smoothing", value_parser = py_bool, default_value = "False")]
    if_smoothing: bool,
    /// Box filter size for smoothing (>= 1 when smoothing).
    #[arg(long, default_value_t = 0)]
    k: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

/// How each map is turned into a mask, fixed per task before any map is read.
pub(crate) struct SegmentPlan {
    thresholds: Option<BTreeMap<Task, f64>>,
    cutoffs: Option<BTreeMap<Task, f64>>,
    smoothing: Option<usize>,
}

impl SegmentPlan {
    fn threshold(&self, task: Task) -> Threshold {
        match &self.thresholds {
            Some(t) => Threshold::Fixed(t[&task]),
            None => Threshold::Otsu {
                smoothing: self.smoothing,
            },
        }
    }
}

/// The probability of a record for `task`.
///
/// Parity: `pkl_to_mask` uses `prob[CHEXPERT_TASKS.index(task)].item()` for a 14-element tensor
/// (a float32 widened to a Python float) and the value itself otherwise. A one-element tensor
/// compares like its element there; any other tensor makes the reference crash and is an error.
pub(crate) fn task_probability(rec: &HeatmapRecord, task: Task) -> Result<f64, String> {
    match &rec.prob {
        Prob::Float(x) => Ok(*x),
        Prob::Tensor(t) => {
            let v = t.to_f64_vec();
            match v.len() {
                14 if t.shape.len() == 1 => Ok(v[task.chexpert_index()]),
                1 => Ok(v[0]),
                n => Err(format!(
                    "prob: expected a float or a 14-element CheXpert probability vector, found a tensor of {n} elements"
                )),
            }
        }
    }
}

/// The map of a record as a 2-D `(h, w)` float32 array (the reference squeezes it), and the CXR
/// size `(h, w)` it is upsampled to.
pub(crate) fn map_and_dims(rec: &HeatmapRecord) -> Result<(ndarray::Array2<f32>, usize, usize), String> {
    let dims: Vec<usize> = rec.map.shape.iter().copied().filter(|&d| d != 1).collect();
    let (mh, mw) = match (dims.as_slice(), rec.map.shape.as_slice()) {
        ([h, w], _) => (*h, *w),
        ([n], s) if s.len() >= 2 => {
            // one of the last two dims is 1
            let (h, w) = (s[s.len() - 2], s[s.len() - 1]);
            if h * w == *n { (h, w) } else { return Err(format!("map: expected a 2-D map, found shape {s:?}")) }
        }
        ([], s) if !s.is_empty() => (1, 1),
        (_, s) => return Err(format!("map: expected shape [1, 1, h, w] (or [h, w]), found {s:?}")),
    };
    let data: Vec<f32> = rec.map.to_f32_vec();
    let map = ndarray::Array2::from_shape_vec((mh, mw), data)
        .map_err(|e| format!("map: {e}"))?;
    let (w, h) = rec.cxr_dims;
    let limit = 1 << 16;
    if w <= 0 || h <= 0 || w > limit || h > limit {
        return Err(format!("cxr_dims: expected (width, height) between 1 and {limit}, found ({w}, {h})"));
    }
    Ok((map, h as usize, w as usize))
}

fn segment_one(file: &HeatmapFile, task: Task, plan: &SegmentPlan, limits: &Limits) -> Result<Rle> {
    let rec = chexlocalize_io::read_heatmap(&file.path, limits)?;
    let ctx = |e: String| anyhow!("{}: {e}", file.path.display());
    let (map, h, w) = map_and_dims(&rec).map_err(ctx)?;
    if let Some(cutoffs) = &plan.cutoffs {
        let p = task_probability(&rec, task).map_err(ctx)?;
        // Parity: heatmap_to_segmentation.py empties the mask when prob < cutoff (strict).
        if p < cutoffs[&task] {
            return Ok(Rle::empty(h, w));
        }
    }
    let mask = segment(map.view(), h, w, &plan.threshold(task)).map_err(|e| ctx(e.to_string()))?;
    encode(&mask)
}

/// Lists the heatmaps of `dir`, keeping the ten tasks and refusing duplicate (CXR, task) pairs.
pub(crate) fn task_heatmaps(dir: &Path) -> Result<Vec<(HeatmapFile, Task)>> {
    let files = chexlocalize_io::list_heatmaps(dir)?;
    let mut seen: HashMap<(String, Task), PathBuf> = HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let Some(task) = f.task else {
            eprintln!("skipping {}: {:?} is not a CheXlocalize task", f.path.display(), f.task_name);
            continue;
        };
        if let Some(first) = seen.insert((f.cxr_id.clone(), task), f.path.clone()) {
            bail!(
                "two heatmaps for CXR {}, task {task}: {} and {}",
                f.cxr_id,
                first.display(),
                f.path.display()
            );
        }
        out.push((f, task));
    }
    Ok(out)
}

pub(crate) fn heatmap_to_segmentation(args: &HeatmapArgs) -> Result<()> {
    if args.if_smoothing && args.k == 0 {
        bail!("--if_smoothing True needs a box filter size --k >= 1");
    }
    let files = task_heatmaps(&args.map_dir)?;
    let plan = SegmentPlan {
        thresholds: args.threshold_path.as_deref().map(chexlocalize_io::read_thresholds).transpose()?,
        cutoffs: args
            .probability_threshold_path
            .as_deref()
            .map(chexlocalize_io::read_probability_cutoffs)
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
                    bail!("{}: no row for task {task} (needed by {})", p.display(), f.path.display());
                }
            }
        }
    }
    let pool = thread_pool(args.jobs)?;
    let limits = Limits::default();
    let progress = Progress::new(files.len() as u64, "segmenting");
    let masks: Vec<Rle> = pool.install(|| {
        files
            .par_iter()
            .map(|(f, task)| {
                let r = segment_one(f, *task, &plan, &limits);
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
    eprintln!("Segmentation masks (in RLE format) saved to {}", args.output_path.display());
    Ok(())
}
