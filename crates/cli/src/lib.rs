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
//! The commands are also a library, so that pipelines (such as `cargo xtask reproduce`) run them
//! in-process, with the same arguments as on the command line:
//!
//! ```no_run
//! chexlocalize_cli::run([
//!     "chexlocalize", "count-segs", "--seg_path", "gt_segmentations_val.json", "--save_dir", "out",
//! ])?;
//! # Ok::<(), anyhow::Error>(())
//! ```
#![deny(missing_docs)]

mod args;
mod eval;
mod features;
mod heatmaps;
mod inspect;
mod limits;
mod plot;
mod progress;
mod regress;
mod report;
mod segment;
mod summaries;
mod tune;
mod validate;

use chexlocalize_io::Limits;
use std::process::ExitCode;

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
    Inspect(inspect::InspectArgs),
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
    /// Number of CXRs with a non-empty mask per task (`count_segs.py`).
    #[command(name = "count-segs", visible_alias = "count_segs")]
    CountSegs(summaries::CountSegsArgs),
    /// Percentage decrease from the human benchmark, with bootstrap CIs
    /// (`calculate_percentage_decrease.py`).
    #[command(
        name = "calculate-percentage-decrease",
        visible_alias = "calculate_percentage_decrease"
    )]
    CalculatePercentageDecrease(summaries::PctArgs),
    /// Pixel precision, recall and specificity per task (`precision_recall_specificity.py`).
    #[command(
        name = "precision-recall-specificity",
        visible_alias = "precision_recall_specificity"
    )]
    PrecisionRecallSpecificity(summaries::PrsArgs),
    /// Check a competition submission (segmentation JSON, optional heatmap folder) against the
    /// expected CXRs and image sizes; list every problem.
    #[command(name = "validate-submission", visible_alias = "validate_submission")]
    ValidateSubmission(validate::ValidateArgs),
    /// Per-task fixed heatmap threshold with the best mIoU (`tune_heatmap_threshold.py`).
    #[command(
        name = "tune-heatmap-threshold",
        visible_alias = "tune_heatmap_threshold"
    )]
    TuneHeatmapThreshold(tune::TuneArgs),
    /// mIoU of every probability cutoff per task (`tune_probability_threshold.py`).
    #[command(
        name = "tune-probability-threshold",
        visible_alias = "tune_probability_threshold"
    )]
    TuneProbabilityThreshold(tune::TuneArgs),
    /// Number of instances, area ratio, elongation and rectangularity of every ground-truth mask
    /// (`compute_pathology_features.py`).
    #[command(
        name = "compute-pathology-features",
        visible_alias = "compute_pathology_features"
    )]
    ComputePathologyFeatures(features::FeaturesArgs),
    /// OLS of the localisation metrics on the pathology features, pooled over tasks
    /// (`regression_pathology_features.py`).
    #[command(
        name = "regression-pathology-features",
        visible_alias = "regression_pathology_features"
    )]
    RegressionPathologyFeatures(regress::FeaturesRegressionArgs),
    /// One PNG per pathology feature: its distribution per task (`plot_pathology_features.py`).
    #[command(
        name = "plot-pathology-features",
        visible_alias = "plot_pathology_features"
    )]
    PlotPathologyFeatures(plot::PlotArgs),
    /// OLS and Spearman correlation of a localisation metric on the model's probability, per task
    /// (`regression_model_assurance.py`).
    #[command(
        name = "regression-model-assurance",
        visible_alias = "regression_model_assurance"
    )]
    RegressionModelAssurance(regress::ModelAssuranceArgs),
    /// The HTML report of a run folder: tables with CIs, charts, overlays, plots, regressions.
    Report(report::ReportArgs),
}

impl Command {
    /// A usage error in a combination of flags, which their own value parsers cannot see.
    fn usage_error(&self) -> Option<clap::Error> {
        let msg = match self {
            Command::HeatmapToSegmentation(a) => a.usage_error(),
            _ => None,
        }?;
        Some(Cli::command().error(ErrorKind::ArgumentConflict, msg))
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
    execute(cli.command, &cli.limits.limits())
}

/// Runs one command with the limits of its `--max-*` flags, passed down to every reader (no
/// process-global state: two calls in one process each get their own).
fn execute(command: Command, limits: &Limits) -> anyhow::Result<()> {
    match command {
        Command::Inspect(a) => inspect::run(&a, limits),
        Command::AnnotationToSegmentation(a) => segment::annotation_to_segmentation(&a, limits),
        Command::HeatmapToSegmentation(a) => segment::heatmap_to_segmentation(&a, limits),
        Command::Eval(a) => eval::run(&a, limits),
        Command::CountSegs(a) => summaries::count_segs(&a, limits),
        Command::CalculatePercentageDecrease(a) => summaries::percentage_decrease(&a, limits),
        Command::PrecisionRecallSpecificity(a) => {
            summaries::precision_recall_specificity(&a, limits)
        }
        Command::ValidateSubmission(a) => validate::run(&a, limits),
        Command::TuneHeatmapThreshold(a) => tune::tune_heatmap_threshold(&a, limits),
        Command::TuneProbabilityThreshold(a) => tune::tune_probability_threshold(&a, limits),
        Command::ComputePathologyFeatures(a) => features::compute_pathology_features(&a, limits),
        Command::RegressionPathologyFeatures(a) => {
            regress::regression_pathology_features(&a, limits)
        }
        Command::RegressionModelAssurance(a) => regress::regression_model_assurance(&a, limits),
        Command::PlotPathologyFeatures(a) => plot::plot_pathology_features(&a, limits),
        Command::Report(a) => report::report(&a, limits),
    }
}

/// The `chexlocalize` binary: parses the process's arguments (clap prints usage errors, an
/// out-of-range flag value included, and exits with code 2), runs the command, prints an error
/// and returns exit code 1 on failure.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(e) = cli.command.usage_error() {
        e.exit();
    }
    match execute(cli.command, &cli.limits.limits()) {
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
