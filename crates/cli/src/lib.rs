//! `chexlocalize`: the CheXlocalize evaluation suite as one safe, fast command.
//!
//! Every subcommand takes the flags of the original script it replaces (kebab-case, with the
//! script's snake_case spelling accepted too) and writes the same files.
//!
//! Exit codes: 0 success; 1 an input is missing or malformed, or an output cannot be written (the
//! message names the file, CXR id / task and what was expected, and no output file is left
//! behind), or `validate-submission` found problems; 2 the command line itself is wrong.
//!
//! Every command takes the global `--max-*` flags (`limits::LimitArgs`): what an input file may
//! claim (image sizes, tensor elements, file length) before anything is allocated for it.
//!
//! This crate is argument parsing only: each subcommand becomes one call of the `chexlocalize`
//! library (the pipeline's typed stages), whose notes it prints to stderr. Programs call that
//! library directly; [`run`] parses a command line in-process (for tests):
//!
//! ```no_run
//! chexlocalize_cli::run([
//!     "chexlocalize", "count-segs", "--seg_path", "gt_segmentations_val.json", "--save_dir", "out",
//! ])?;
//! # Ok::<(), anyhow::Error>(())
//! ```
#![deny(missing_docs)]

mod args;
mod commands;
mod limits;
mod metric_args;

use std::process::ExitCode;

use chexlocalize::{Options, Outcome, ProgressBars};
use commands::{analyses, compare, eval, segment, serve, server, submit, tools};

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

/// CheXlocalize evaluation suite: heatmaps and polygons to masks, mIoU and hit rate.
#[derive(Parser, Debug)]
#[command(name = "chexlocalize", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    limits: limits::LimitArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Summarise heatmap pickles or a segmentation JSON without running any of their code.
    Inspect(tools::InspectArgs),
    /// Radiologist polygons (JSON) to RLE segmentation masks (`annotation_to_segmentation.py`).
    #[command(
        name = "annotation-to-segmentation",
        visible_alias = "annotation_to_segmentation"
    )]
    AnnotationToSegmentation(segment::AnnotationArgs),
    /// Heatmap pickles to RLE segmentation masks (`heatmap_to_segmentation.py`).
    #[command(
        name = "heatmap-to-segmentation",
        visible_alias = "heatmap_to_segmentation"
    )]
    HeatmapToSegmentation(segment::HeatmapArgs),
    /// mIoU or hit rate per CXR with bootstrap confidence intervals (`eval.py`).
    Eval(eval::EvalArgs),
    /// Several methods on one ground truth: each one's score and every pair's difference from
    /// one paired bootstrap, with Holm-adjusted p-values.
    Compare(compare::CompareArgs),
    /// Heatmaps of "no model" (centre, uniform, or a training split's mean mask) to score and
    /// compare like any method.
    Baseline(compare::BaselineArgs),
    /// Number of CXRs with a non-empty mask per task (`count_segs.py`).
    #[command(name = "count-segs", visible_alias = "count_segs")]
    CountSegs(analyses::CountSegsArgs),
    /// Percentage decrease from the human benchmark, with bootstrap CIs
    /// (`calculate_percentage_decrease.py`).
    #[command(
        name = "calculate-percentage-decrease",
        visible_alias = "calculate_percentage_decrease"
    )]
    CalculatePercentageDecrease(analyses::PctArgs),
    /// Pixel precision, recall and specificity per task (`precision_recall_specificity.py`).
    #[command(
        name = "precision-recall-specificity",
        visible_alias = "precision_recall_specificity"
    )]
    PrecisionRecallSpecificity(analyses::PrsArgs),
    /// Check a competition submission (segmentation JSON, optional heatmap folder) against the
    /// expected CXRs and image sizes; list every problem.
    #[command(name = "validate-submission", visible_alias = "validate_submission")]
    ValidateSubmission(tools::ValidateArgs),
    /// Per-task fixed heatmap threshold with the best mIoU (`tune_heatmap_threshold.py`).
    #[command(
        name = "tune-heatmap-threshold",
        visible_alias = "tune_heatmap_threshold"
    )]
    TuneHeatmapThreshold(analyses::TuneArgs),
    /// mIoU of every probability cutoff per task (`tune_probability_threshold.py`).
    #[command(
        name = "tune-probability-threshold",
        visible_alias = "tune_probability_threshold"
    )]
    TuneProbabilityThreshold(analyses::TuneArgs),
    /// Number of instances, area ratio, elongation and rectangularity of every ground-truth mask
    /// (`compute_pathology_features.py`).
    #[command(
        name = "compute-pathology-features",
        visible_alias = "compute_pathology_features"
    )]
    ComputePathologyFeatures(analyses::FeaturesArgs),
    /// OLS of the localisation metrics on the pathology features, pooled over tasks
    /// (`regression_pathology_features.py`).
    #[command(
        name = "regression-pathology-features",
        visible_alias = "regression_pathology_features"
    )]
    RegressionPathologyFeatures(analyses::FeaturesRegressionArgs),
    /// One PNG per pathology feature: its distribution per task (`plot_pathology_features.py`).
    #[command(
        name = "plot-pathology-features",
        visible_alias = "plot_pathology_features"
    )]
    PlotPathologyFeatures(analyses::PlotArgs),
    /// OLS and Spearman correlation of a localisation metric on the model's probability, per task
    /// (`regression_model_assurance.py`).
    #[command(
        name = "regression-model-assurance",
        visible_alias = "regression_model_assurance"
    )]
    RegressionModelAssurance(analyses::ModelAssuranceArgs),
    /// The HTML report of a run folder: tables with CIs, charts, overlays, plots, regressions.
    Report(tools::ReportArgs),
    /// The competition server: API, leaderboard and team pages, scoring workers.
    Serve(serve::ServeArgs),
    /// Check a submission locally, upload it to a competition server, and (with --wait)
    /// print its public scores.
    Submit(submit::SubmitArgs),
    /// Score one competition submission read on stdin (what a worker runs in a child process).
    #[command(name = "score-job", hide = true)]
    ScoreJob(server::ScoreJobArgs),
    /// Score queued competition submissions until SIGTERM or Ctrl-C.
    Worker(server::WorkerArgs),
    /// The competition's organisers: init, teams, rescoring, export.
    Admin(server::AdminArgs),
}

impl Command {
    /// A usage error in a combination of flags, which their own value parsers cannot see.
    fn usage_error(&self) -> Option<clap::Error> {
        let msg = match self {
            Command::HeatmapToSegmentation(a) => a.usage_error(),
            Command::Eval(a) => a.metric.usage_error(),
            Command::Compare(a) => a.metric.usage_error(),
            Command::Baseline(a) => a.usage_error(),
            _ => None,
        }?;
        Some(Cli::command().error(ErrorKind::ArgumentConflict, msg))
    }

    /// The command's `--jobs`, for those that take it.
    fn jobs(&self) -> Option<usize> {
        match self {
            Command::AnnotationToSegmentation(a) => a.jobs,
            Command::HeatmapToSegmentation(a) => a.jobs,
            Command::Eval(a) => a.jobs,
            Command::Compare(a) => a.jobs,
            Command::ValidateSubmission(a) => a.jobs,
            Command::TuneHeatmapThreshold(a) | Command::TuneProbabilityThreshold(a) => a.jobs,
            Command::ComputePathologyFeatures(a) => a.jobs,
            Command::RegressionModelAssurance(a) => a.jobs,
            _ => None,
        }
    }
}

/// The error and its causes joined by `": "`, each cause once.
///
/// Our errors leave a wrapped cause out of their own message (they return it from
/// [`source`](std::error::Error::source)), so the chain is printed as it is; a cause that the
/// link before it already ends with (some other crates' errors print their source too) is not
/// repeated.
pub fn error_text(e: &anyhow::Error) -> String {
    chexlocalize_io::chain_text(e.as_ref())
}

/// Parses `args` (the first one is the program name) as the `chexlocalize` command line and runs
/// the command. A malformed command line is an error whose text is clap's message.
pub fn run<I, T>(args: I) -> anyhow::Result<()>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(e) = cli.command.usage_error() {
        return Err(anyhow::anyhow!("{e}"));
    }
    execute(cli.command, cli.limits.limits())
}

/// Runs one command with the limits of its `--max-*` flags, passed down to every reader (no
/// process-global state: two calls in one process each get their own), and prints the stage's
/// notes (warnings, what was written) to stderr.
fn execute(command: Command, limits: chexlocalize::Limits) -> anyhow::Result<()> {
    let options = Options {
        limits,
        jobs: command.jobs(),
        progress: ProgressBars::Terminal,
    };
    let o = &options;
    let outcome: Outcome = match command {
        Command::Inspect(a) => tools::inspect(&a, o)?,
        Command::AnnotationToSegmentation(a) => segment::annotation_to_segmentation(&a, o)?,
        Command::HeatmapToSegmentation(a) => segment::heatmap_to_segmentation(&a, o)?,
        Command::Eval(a) => eval::eval(&a, o)?.outcome,
        Command::Compare(a) => compare::compare(&a, o)?.outcome,
        Command::Baseline(a) => compare::baseline(&a, o)?,
        Command::CountSegs(a) => analyses::count_segs(&a, o)?,
        Command::CalculatePercentageDecrease(a) => analyses::percentage_decrease(&a, o)?,
        Command::PrecisionRecallSpecificity(a) => analyses::precision_recall_specificity(&a, o)?,
        Command::ValidateSubmission(a) => tools::validate(&a, o)?,
        Command::TuneHeatmapThreshold(a) => analyses::tune_heatmap_threshold(&a, o)?,
        Command::TuneProbabilityThreshold(a) => analyses::tune_probability_threshold(&a, o)?,
        Command::ComputePathologyFeatures(a) => analyses::compute_pathology_features(&a, o)?,
        Command::RegressionPathologyFeatures(a) => analyses::regression_pathology_features(&a, o)?,
        Command::RegressionModelAssurance(a) => analyses::regression_model_assurance(&a, o)?,
        Command::PlotPathologyFeatures(a) => analyses::plot_pathology_features(&a, o)?,
        Command::Report(a) => tools::report(&a, o)?,
        Command::Serve(a) => {
            serve::serve(&a)?;
            Outcome::default()
        }
        Command::Submit(a) => match submit::submit(&a, o)? {
            submit::Submitted::Ok => Outcome::default(),
            submit::Submitted::Rejected => {
                return Err(anyhow::anyhow!(
                    "the submission was not scored (reasons above)"
                ));
            }
        },
        Command::ScoreJob(a) => server::score_job(&a)?,
        Command::Worker(a) => server::worker(&a)?,
        Command::Admin(a) => server::admin(&a)?,
    };
    for note in &outcome.notes {
        eprintln!("{note}");
    }
    Ok(())
}

/// The `chexlocalize` binary: parses the process's arguments (clap prints usage errors, an
/// out-of-range flag value included, and exits with code 2), runs the command, prints an error
/// and returns exit code 1 on failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(e) = cli.command.usage_error() {
        e.exit();
    }
    match execute(cli.command, cli.limits.limits()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io_read_error() -> chexlocalize_io::IoError {
        chexlocalize_io::IoError::Read {
            path: "d/a.json".into(),
            source: std::io::Error::other("disk on fire"),
        }
    }

    /// An io error under a context: every link once, the text users always saw.
    #[test]
    fn the_chain_is_printed_once() {
        let e = anyhow::Error::from(io_read_error()).context("reading the ground truth");
        let text = error_text(&e);
        assert_eq!(
            text,
            "reading the ground truth: d/a.json: cannot read: disk on fire"
        );
        assert_eq!(text.matches("disk on fire").count(), 1, "{text}");
        assert_eq!(
            chexlocalize_io::chain_text(&io_read_error()),
            "d/a.json: cannot read: disk on fire"
        );
    }

    /// A cause is printed even when its text happens to occur earlier in the message; only a
    /// link that ends with its cause (another crate's error that prints its source) skips it.
    #[test]
    fn only_a_cause_already_printed_by_its_parent_is_skipped() {
        #[derive(Debug)]
        struct PrintsItsSource {
            source: std::io::Error,
        }
        impl std::fmt::Display for PrintsItsSource {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "disk on fire: {}", self.source)
            }
        }
        impl std::error::Error for PrintsItsSource {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.source)
            }
        }
        let e = anyhow::Error::from(PrintsItsSource {
            source: std::io::Error::other("disk on fire"),
        });
        assert_eq!(error_text(&e), "disk on fire: disk on fire");
        let e = anyhow::Error::from(io_read_error()).context("disk on fire, again");
        assert_eq!(
            error_text(&e),
            "disk on fire, again: d/a.json: cannot read: disk on fire"
        );
    }
}
