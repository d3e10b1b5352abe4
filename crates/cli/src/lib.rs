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

/// The error and its causes, leaving out a cause whose text the message already shows.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
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
