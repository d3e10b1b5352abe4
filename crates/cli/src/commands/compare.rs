//! `compare`: several methods on one ground truth, with a paired bootstrap.

use std::path::PathBuf;

use chexlocalize::{Compare, Comparison, Options};
use clap::Args;

use crate::args::BootstrapArgs;

/// Arguments of `chexlocalize compare`.
#[derive(Args, Debug)]
pub(crate) struct CompareArgs {
    #[command(flatten)]
    pub(crate) metric: crate::metric_args::MetricArgs,
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// A method as NAME=PATH, twice or more (up to 64): a segmentation JSON (iou, dice), a
    /// folder of heatmaps (hitmiss, the threshold-free metrics), or a salient-points JSON of
    /// the human benchmark (hitmiss).
    #[arg(long = "pred", value_name = "NAME=PATH", required = true, value_parser = chexlocalize::parse_method)]
    pred: Vec<(String, PathBuf)>,
    /// Where to write `<metric>_comparison_scores.csv` and `<metric>_comparison_pairs.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    #[command(flatten)]
    bootstrap: BootstrapArgs,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
}

pub(crate) fn compare(a: &CompareArgs, options: &Options) -> chexlocalize::Result<Comparison> {
    let c = chexlocalize::compare(
        &Compare {
            metric: a.metric.metric(),
            gt_path: a.gt_path.clone(),
            methods: a.pred.clone(),
            save_dir: a.save_dir.clone(),
            bootstrap: a.bootstrap.bootstrap(),
        },
        options,
    )?;
    print!("{}", overall_text(&c));
    Ok(c)
}

/// The overall lines for the terminal: each method's score, then each pair's difference.
fn overall_text(c: &Comparison) -> String {
    let mut out = String::from("overall (mean of the task means):\n");
    for s in c.scores.iter().filter(|s| s.task.is_none()) {
        out += &format!(
            "  {:<24} {:.3} [{:.3}, {:.3}]\n",
            s.method, s.ci.mean, s.ci.lower, s.ci.upper
        );
    }
    for p in c.pairs.iter().filter(|p| p.task.is_none()) {
        out += &format!(
            "  {} - {}: {:+.3} [{:+.3}, {:+.3}], Holm p = {:.4}{}\n",
            p.a,
            p.b,
            p.diff.mean,
            p.diff.lower,
            p.diff.upper,
            p.diff.p_holm,
            if p.significant { " (differ)" } else { "" }
        );
    }
    out
}
