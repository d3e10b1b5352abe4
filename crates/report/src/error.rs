//! The error type of the report.

use std::path::PathBuf;

/// Why a report could not be built. Missing or malformed optional parts of a run (a CSV, a plot,
/// an X-ray) are not errors: the report leaves that part out and says why in a note
/// ([`Report::notes`](crate::Report::notes)). Only the report's own required inputs and the
/// drawing itself can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The run folder is missing, or is not a folder.
    #[error(
        "{path}: expected the output folder of a run (`cargo xtask reproduce --out`): {reason}"
    )]
    RunDir {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The data folder given explicitly is missing, or is not a folder.
    #[error(
        "{path}: expected a data folder laid out like the original sample (gradcam_maps_val/, valid/): {reason}"
    )]
    DataDir {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A chart could not be drawn.
    #[error("drawing {what}: {message}")]
    Draw {
        /// The chart.
        what: String,
        /// The drawing backend's message.
        message: String,
    },
    /// An image could not be encoded as PNG.
    #[error("encoding {what} as PNG: {source}")]
    Png {
        /// The image.
        what: String,
        /// The encoder's error.
        source: image::ImageError,
    },
}

impl ReportError {
    pub(crate) fn draw(what: &str, e: impl std::fmt::Display) -> Self {
        ReportError::Draw {
            what: what.to_owned(),
            message: e.to_string(),
        }
    }
}
