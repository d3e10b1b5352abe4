//! `compare` (several methods on one ground truth, with a paired bootstrap) and `baseline` (the
//! heatmaps of "no model" to compare against).

use std::path::PathBuf;

use chexlocalize::{Baseline, BaselineKind, Compare, Comparison, Options, Outcome};
use clap::{Args, ValueEnum};

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

/// Arguments of `chexlocalize baseline`.
#[derive(Args, Debug)]
pub(crate) struct BaselineArgs {
    /// `center` (a Gaussian at the centre), `uniform` (a constant map) or `prior` (per task, the
    /// mean ground-truth mask of a training split: needs --train-gt).
    #[arg(long, value_enum)]
    kind: KindArg,
    /// The segmentation JSON of the set to make heatmaps for (its CXR ids and sizes).
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// The folder to write `<cxr_id>_<task>_map.pkl` into.
    #[arg(long)]
    out: PathBuf,
    /// The training split's segmentation JSON the prior is averaged from (`--kind prior`).
    #[arg(long = "train-gt", visible_alias = "train_gt")]
    train_gt: Option<PathBuf>,
    /// The maps' side in pixels: 8 to 1024.
    #[arg(long = "map-side", default_value_t = 64, value_parser = crate::args::int_in::<usize>(8, 1024, "a map side"))]
    map_side: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KindArg {
    Center,
    Uniform,
    Prior,
}

impl BaselineArgs {
    /// `--train-gt` goes with `--kind prior`, and only with it.
    pub(crate) fn usage_error(&self) -> Option<String> {
        match (self.kind, &self.train_gt) {
            (KindArg::Prior, None) => {
                Some("--kind prior needs --train-gt (a training split's segmentation JSON)".into())
            }
            (KindArg::Prior, Some(_)) | (_, None) => None,
            (_, Some(_)) => Some("--train-gt is for --kind prior only".into()),
        }
    }
}

pub(crate) fn baseline(a: &BaselineArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    chexlocalize::baseline(
        &Baseline {
            kind: match (a.kind, &a.train_gt) {
                (KindArg::Center, _) => BaselineKind::Center,
                (KindArg::Uniform, _) => BaselineKind::Uniform,
                (KindArg::Prior, t) => BaselineKind::Prior {
                    train_gt: t.clone().unwrap_or_default(),
                },
            },
            gt_path: a.gt_path.clone(),
            out_dir: a.out.clone(),
            map_side: a.map_side,
        },
        options,
    )
}
