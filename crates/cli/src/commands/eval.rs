//! `eval`.

use std::path::PathBuf;

use chexlocalize::{Evaluate, Evaluation, Metric, Options, Predictor, Scoring};
use clap::{Args, ValueEnum};

use crate::args::py_bool;

/// Arguments of `chexlocalize eval`.
#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    /// `iou` (mIoU of segmentations) or `hitmiss` (pointing game).
    #[arg(long, value_enum)]
    metric: MetricArg,
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
    #[command(flatten)]
    bootstrap: crate::args::BootstrapArgs,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
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
pub(crate) fn tolerance(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|t| (0.0..=1000.0).contains(t))
        .ok_or_else(|| format!("expected a number of pixels from 0 to 1000, found {s:?}"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MetricArg {
    Iou,
    Hitmiss,
}

pub(crate) fn eval(a: &EvalArgs, options: &Options) -> chexlocalize::Result<Evaluation> {
    chexlocalize::evaluate(
        &Evaluate {
            metric: match a.metric {
                MetricArg::Iou => Metric::Iou(if a.true_pos_only {
                    Scoring::TruePositivesOnly
                } else {
                    Scoring::All
                }),
                MetricArg::Hitmiss => Metric::HitMiss {
                    tolerance_px: a.tolerance_px,
                },
            },
            gt_path: a.gt_path.clone(),
            pred_path: a.pred_path.clone(),
            predictor: if a.if_human_benchmark {
                Predictor::HumanBenchmark
            } else {
                Predictor::Saliency
            },
            save_dir: a.save_dir.clone(),
            bootstrap: a.bootstrap.bootstrap(),
        },
        options,
    )
}
