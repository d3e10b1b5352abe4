//! `report`: the HTML report of a run folder (see `chexlocalize_report`).

use std::path::PathBuf;

use chexlocalize_io::RunLayout;
use chexlocalize_report::build_report;

use crate::error::Result;
use crate::options::{Notes, Options, Outcome};

/// Inputs of [`report`].
#[derive(Clone, Debug)]
pub struct Report {
    /// The run folder (`cargo xtask reproduce --out`, or [`crate::reproduce`]'s): `run.json`,
    /// `segmentations/`, `eval_*/`, ... (each part optional).
    pub run: RunLayout,
    /// Data folder the run read (`gradcam_maps_val/`, `valid/`), for the overlays of X-rays,
    /// heatmaps and outlines (default: `run.json`'s "data" parameter, when it names a folder).
    pub data: Option<PathBuf>,
    /// Where to write the report (default: the run's `report.html`).
    pub output: Option<PathBuf>,
    /// Overlay pictures per task (0 to 100).
    pub overlays_per_task: usize,
}

/// Builds the HTML report of a run folder and writes it (one self-contained file).
pub fn report(args: &Report, options: &Options) -> Result<Outcome> {
    let report_options = chexlocalize_report::Options {
        overlays_per_task: args.overlays_per_task,
        limits: options.limits.clone(),
        ..chexlocalize_report::Options::default()
    };
    let report = build_report(&args.run, args.data.as_deref(), &report_options)?;
    let output = args.output.clone().unwrap_or_else(|| args.run.report());
    chexlocalize_io::write_atomic(&output, report.html.as_bytes())?;
    let notes = Notes::default();
    for note in &report.notes {
        notes.warn(format!("note: {note}"));
    }
    notes.info(format!(
        "report with {} images ({} KiB) written to {}",
        report.images,
        report.html.len() / 1024,
        output.display()
    ));
    Ok(notes.outcome(vec![output]))
}
