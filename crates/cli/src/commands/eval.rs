//! `eval`.

use std::path::PathBuf;

use chexlocalize::{Evaluate, Evaluation, Options, Predictor};
use clap::Args;

use crate::args::py_bool;

/// Arguments of `chexlocalize eval`.
#[derive(Args, Debug)]
pub(crate) struct EvalArgs {
    #[command(flatten)]
    pub(crate) metric: crate::metric_args::MetricArgs,
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// Predictions: a segmentation JSON (iou, dice), a folder of heatmap pickles (hitmiss and
    /// the threshold-free metrics), or a salient-points JSON (hitmiss with
    /// --if_human_benchmark True).
    #[arg(long = "pred-path", visible_alias = "pred_path")]
    pred_path: PathBuf,
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
}

pub(crate) fn eval(a: &EvalArgs, options: &Options) -> chexlocalize::Result<Evaluation> {
    chexlocalize::evaluate(
        &Evaluate {
            metric: a.metric.metric(),
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
