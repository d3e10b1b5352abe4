//! The HTML report of a CheXlocalize run: one self-contained page that shows what the pipeline
//! found, with its images embedded.
//!
//! # Guide
//!
//! [`build_report`] reads the output folder of a run (the layout `cargo xtask reproduce --out`
//! writes: `run.json`, `segmentations/`, `eval_*/`, `pct_decrease/`, `features/`,
//! `feature_plots/`, `regression_*/`, ...) and, for the overlays, the data folder the run read
//! (`gradcam_maps_val/*_map.pkl`, X-rays under `valid/<patient>/<study>/<view>.jpg`). It returns
//! the page as a [`Report`]; writing it is the caller's business (`chexlocalize report` writes it
//! atomically with `chexlocalize_io::write_atomic`). File access goes through `chexlocalize-io`.
//!
//! The page holds, in order: a per-task table of mIoU and hit rate with 95 % confidence
//! intervals for the saliency method and the human benchmark, and the percentage decrease; a
//! grouped bar chart per metric with CI whiskers; for a few CXRs per task an overlay of the X-ray,
//! the heatmap, the ground-truth outline and the predicted (Otsu) outline; the pathology-feature
//! plots; the regression tables; pixel precision / recall / specificity; the tuned thresholds;
//! the run's parameters and stage timings. Images are PNGs embedded as `data:` URIs; there is no
//! script and no external resource.
//!
//! Every part is optional: a missing file leaves its part out with a short note in the page (and
//! in [`Report::notes`]), so a run without a human benchmark still gets its report. Only a
//! missing run folder (or an explicitly given data folder that does not exist) is an error
//! ([`ReportError`]); an error wrapping another returns it as its `source()` instead of repeating
//! it in its message, so print the chain to show every cause once.
//!
//! The charts are drawn with `plotters` and an embedded DejaVu Sans, so no system font is
//! needed; [`pathology_feature_plot`] is also the drawing of `chexlocalize
//! plot-pathology-features`.
//!
//! ```
//! use chexlocalize_report::{DirProblem, Options, ReportError, RunLayout, build_report};
//!
//! // A run folder with nothing but its parameters.
//! let run = tempfile::tempdir()?;
//! std::fs::write(
//!     run.path().join("run.json"),
//!     r#"{"parameters": {"bootstrap seed": "0"}, "stages": [{"name": "eval", "seconds": 0.5, "status": "done"}]}"#,
//! )?;
//! let report = build_report(&RunLayout::new(run.path()), None, &Options::default())?;
//! assert!(report.html.starts_with("<!DOCTYPE html>"));
//! assert!(report.html.contains("bootstrap seed"));
//! // Everything else is missing, and the report says so instead of failing.
//! assert!(report.notes.iter().any(|n| n.contains("eval_iou_tp/iou_summary_results.csv")));
//! assert_eq!(report.images, 0);
//!
//! // A missing run folder is an error naming it.
//! let err = build_report(&RunLayout::new(run.path().join("nope")), None, &Options::default())
//!     .unwrap_err();
//! assert!(err.to_string().contains("nope"));
//! assert!(matches!(err, ReportError::RunDir { reason: DirProblem::Missing, .. }));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod charts;
mod cxr;
mod error;
mod forest;
mod lines;
mod options;
mod overlay;
mod page;
mod tables;

pub use charts::pathology_feature_plot;
pub use chexlocalize_io::RunLayout;
pub use error::{DirProblem, ReportError};
pub use lines::{Series, line_chart};
pub use options::Options;
pub use page::{Report, build_report};
pub use tables::escape_html;
