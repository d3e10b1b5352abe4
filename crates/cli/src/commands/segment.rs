//! `annotation-to-segmentation` and `heatmap-to-segmentation`.

use std::path::PathBuf;

use chexlocalize::{
    AnnotationsToSegmentations, HeatmapsToSegmentations, Options, Outcome, PolygonFill, Smoothing,
    Thresholds,
};
use clap::Args;

use crate::args::py_bool;

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
    pub(crate) jobs: Option<usize>,
}

/// `--fill-rule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum FillRuleArg {
    /// Pillow's `ImageDraw.polygon` (the reference).
    Pillow,
    /// GDAL's all-touched rule.
    AllTouched,
}

pub(crate) fn annotation_to_segmentation(
    a: &AnnotationArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::annotations_to_segmentations(
        &AnnotationsToSegmentations {
            ann_path: a.ann_path.clone(),
            output_path: a.output_path.clone(),
            fill_rule: match a.fill_rule {
                FillRuleArg::Pillow => PolygonFill::Pillow,
                FillRuleArg::AllTouched => PolygonFill::AllTouched,
            },
        },
        options,
    )
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
    pub(crate) jobs: Option<usize>,
}

impl HeatmapArgs {
    /// A combination of flags the flags' own parsers cannot refuse (a usage error, exit code 2).
    pub(crate) fn usage_error(&self) -> Option<String> {
        (self.if_smoothing && self.k == 0)
            .then(|| "--k 0: --if_smoothing True needs a box filter size from 1 to 4096".to_owned())
    }
}

pub(crate) fn heatmap_to_segmentation(
    a: &HeatmapArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    let thresholds = match (&a.threshold_path, &a.probability_threshold_path) {
        (Some(p), _) => Thresholds::Fixed(p.clone()),
        (None, Some(p)) => Thresholds::ProbabilityCutoffs(p.clone()),
        (None, None) => Thresholds::Otsu,
    };
    chexlocalize::heatmaps_to_segmentations(
        &HeatmapsToSegmentations {
            map_dir: a.map_dir.clone(),
            thresholds,
            smoothing: if a.if_smoothing {
                Smoothing::BoxFilter(a.k)
            } else {
                Smoothing::None
            },
            output_path: a.output_path.clone(),
        },
        options,
    )
}
