//! `inspect`, `validate-submission` and `report`.

use std::path::PathBuf;

use chexlocalize::{
    Inspect, InspectFormat, Options, Outcome, Report, ReportFormat, RunLayout, ValidateSubmission,
};
use clap::{Args, ValueEnum};

/// Arguments of `chexlocalize inspect`.
#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// Heatmap files (`.pkl`, `.pt`, `.npy` with its sidecar; or folders searched recursively
    /// for `*_map.pkl|.pt|.npy`) or segmentation JSON files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormatArg::Table)]
    format: InspectFormatArg,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InspectFormatArg {
    Table,
    Csv,
    Json,
}

/// Runs `inspect`; prints the summary unless it went to `--output`.
pub(crate) fn inspect(a: &InspectArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    let found = chexlocalize::inspect(
        &Inspect {
            paths: a.paths.clone(),
            format: match a.format {
                InspectFormatArg::Table => InspectFormat::Table,
                InspectFormatArg::Csv => InspectFormat::Csv,
                InspectFormatArg::Json => InspectFormat::Json,
            },
            output: a.output.clone(),
        },
        options,
    )?;
    if a.output.is_none() {
        print!("{}", found.text);
    }
    Ok(found.outcome)
}

/// Arguments of `chexlocalize validate-submission`.
#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    /// The submitted segmentation JSON `{cxr_id: {task: {"size": [h, w], "counts": ...}}}`.
    #[arg(long = "seg-path", visible_alias = "seg_path")]
    seg_path: PathBuf,
    /// The submitted heatmap folder (optional): `<cxr_id>_<task>_map.pkl|.pt|.npy`, searched
    /// recursively.
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: Option<PathBuf>,
    /// The expected CXRs and their image sizes: a CSV with a `Path` column (like CheXpert's
    /// `valid.csv`), or an annotation or segmentation JSON.
    #[arg(long)]
    expected: PathBuf,
    /// Where the CSV's image paths are resolved, when it has no `height`/`width` columns
    /// (default: the CSV's folder). A path that does not exist there is tried without its
    /// leading folders (`CheXpert-v1.0/valid/p/s/v.jpg`, then `valid/p/s/v.jpg`, …).
    #[arg(long = "images-root", visible_alias = "images_root")]
    images_root: Option<PathBuf>,
    /// Report format: `text` (one line per problem and a summary) or `json`.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Worker threads for reading heatmaps (1 to 1024, at most one per core; default: all
    /// cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Json,
}

/// Runs `validate-submission`: prints the report; an error (exit code 1) when it lists any
/// problem.
pub(crate) fn validate(a: &ValidateArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    chexlocalize::validate_submission(
        &ValidateSubmission {
            seg_path: a.seg_path.clone(),
            map_dir: a.map_dir.clone(),
            expected: a.expected.clone(),
            images_root: a.images_root.clone(),
            format: match a.format {
                FormatArg::Text => ReportFormat::Text,
                FormatArg::Json => ReportFormat::Json,
            },
        },
        options,
        |v| print!("{}", v.report),
    )?;
    Ok(Outcome::default())
}

/// Arguments of `chexlocalize report`.
#[derive(Args, Debug)]
pub(crate) struct ReportArgs {
    /// Output folder of a run (`cargo xtask reproduce --out`): run.json, segmentations/, eval_*/,
    /// pct_decrease/, features/, feature_plots/, regression_*/ ... (each part optional).
    #[arg(long = "run-dir", visible_alias = "run_dir")]
    run_dir: PathBuf,
    /// Data folder the run read (gradcam_maps_val/, valid/), for the overlays of X-rays,
    /// heatmaps and outlines (default: run.json's "data" parameter, when it names a folder).
    #[arg(long = "data", visible_alias = "data_dir")]
    data: Option<PathBuf>,
    /// Where to write the report (default: RUN_DIR/report.html).
    #[arg(long = "output", visible_alias = "output_path")]
    output: Option<PathBuf>,
    /// Overlay pictures per task: 0 to 100.
    #[arg(
        long = "overlays-per-task",
        visible_alias = "overlays_per_task",
        default_value_t = 2,
        value_parser = crate::args::overlays,
        allow_negative_numbers = true
    )]
    overlays_per_task: usize,
}

pub(crate) fn report(a: &ReportArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    chexlocalize::report(
        &Report {
            run: RunLayout::new(a.run_dir.clone()),
            data: a.data.clone(),
            output: a.output.clone(),
            overlays_per_task: a.overlays_per_task,
        },
        options,
    )
}
