//! `chexlocalize`: the CheXlocalize evaluation suite as one safe, fast command.
//!
//! Every subcommand takes the flags of the original script it replaces (kebab-case, with the
//! script's snake_case spelling accepted too) and writes the same files.
//!
//! Exit codes: 0 success; 1 an input is missing or malformed, or an output cannot be written (the
//! message names the file, CXR id / task and what was expected, and no output file is left
//! behind), or `validate-submission` found problems; 2 the command line itself is wrong.
//!
//! Every command takes the global `--max-*` flags ([`limits::LimitArgs`]): what an input file
//! may claim (image sizes, tensor elements, file length) before anything is allocated for it.

mod args;
mod eval;
mod heatmaps;
mod inspect;
mod limits;
mod progress;
mod segment;
mod summaries;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
}

/// The error and its causes, leaving out a cause whose text the message already shows.
fn error_text(e: &anyhow::Error) -> String {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.limits.install();
    let result = match cli.command {
        Command::Inspect(a) => inspect::run(&a),
        Command::AnnotationToSegmentation(a) => segment::annotation_to_segmentation(&a),
        Command::HeatmapToSegmentation(a) => segment::heatmap_to_segmentation(&a),
        Command::Eval(a) => eval::run(&a),
        Command::CountSegs(a) => summaries::count_segs(&a),
        Command::CalculatePercentageDecrease(a) => summaries::percentage_decrease(&a),
        Command::PrecisionRecallSpecificity(a) => summaries::precision_recall_specificity(&a),
        Command::ValidateSubmission(a) => validate::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            ExitCode::from(1)
        }
    }
}
