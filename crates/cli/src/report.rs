//! `report`: the HTML report of a run folder (see `chexlocalize_report`).

use chexlocalize_io::Limits;
use std::path::PathBuf;

use anyhow::Result;
use chexlocalize_report::{Options, build_report};
use clap::Args;

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

pub(crate) fn report(args: &ReportArgs, limits: &Limits) -> Result<()> {
    let options = Options {
        overlays_per_task: args.overlays_per_task,
        limits: limits.clone(),
        ..Options::default()
    };
    let report = build_report(&args.run_dir, args.data.as_deref(), &options)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.run_dir.join("report.html"));
    chexlocalize_io::write_atomic(&output, report.html.as_bytes())?;
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    eprintln!(
        "report with {} images ({} KiB) written to {}",
        report.images,
        report.html.len() / 1024,
        output.display()
    );
    Ok(())
}
