//! [`Error`]: what can go wrong in a stage, by cause.

use std::path::{Path, PathBuf};

/// Why a stage failed. Each variant names the file (and, inside it, the CXR, task, line or key)
/// and what was expected; a wrapped cause is returned by [`source`](std::error::Error::source),
/// not repeated in the message, so [`chexlocalize_io::chain_text`] prints each cause once.
///
/// [`Error::is_input`] tells a problem of the inputs (the caller's to fix) from a failure of the
/// machine (a file that cannot be written, threads that cannot start).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading, parsing or writing a file (the file is named by the [`chexlocalize_io::IoError`]).
    #[error(transparent)]
    Io(#[from] chexlocalize_io::IoError),
    /// An input holds something other than what the stage needs.
    #[error("{}: {what}", file.display())]
    Input {
        /// The file (or folder) at fault.
        file: PathBuf,
        /// Where in it and what was expected, e.g. `CXR 1_v, task Edema: expected ...`.
        what: String,
    },
    /// A cause met while working on one part of an input.
    #[error("{}{}{at}", file.display(), if at.is_empty() { "" } else { ": " })]
    At {
        /// The file being worked on.
        file: PathBuf,
        /// The part of it, e.g. `CXR 1_v, task Edema` (may be empty).
        at: String,
        /// What went wrong there.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Two stage options contradict each other, or one is out of range.
    #[error("{0}")]
    Options(String),
    /// A mask could not be made or compared (sizes beyond the RLE format, mismatched masks).
    #[error(transparent)]
    Rle(#[from] chexlocalize_rle::RleError),
    /// A polygon could not be rasterised.
    #[error(transparent)]
    Raster(#[from] chexlocalize_raster::RasterError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metrics(#[from] chexlocalize_metrics::MetricsError),
    /// The report or a chart could not be made.
    #[error(transparent)]
    Report(#[from] chexlocalize_report::ReportError),
    /// The worker threads could not be started.
    #[error("starting worker threads")]
    Threads(#[source] rayon::ThreadPoolBuildError),
    /// `validate_submission` found problems (they are in its report, not repeated here).
    #[error("the submission has problems (listed above)")]
    Rejected,
}

impl Error {
    /// An [`Error::Input`] for `file`.
    pub(crate) fn input(file: &Path, what: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_path_buf(),
            what: what.into(),
        }
    }

    /// An [`Error::At`]: `source` met at `at` of `file`.
    pub(crate) fn at(
        file: &Path,
        at: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::At {
            file: file.to_path_buf(),
            at: at.into(),
            source: source.into(),
        }
    }

    /// Whether the inputs (or options) are at fault, rather than the machine: what an
    /// evaluation server reports to the submitter instead of logging as its own failure.
    pub fn is_input(&self) -> bool {
        match self {
            Error::Io(e) => !matches!(e, chexlocalize_io::IoError::Write { .. }),
            Error::Threads(_) => false,
            _ => true,
        }
    }
}

/// The result of a stage.
pub type Result<T, E = Error> = std::result::Result<T, E>;
