//! The error type of the report, and how the report words an error in a note.
//!
//! Each error says its own part once: a variant that wraps a cause returns it from
//! [`source`](std::error::Error::source) and leaves it out of its message, so that printing the
//! chain (as `chexlocalize`'s `error_text` or `anyhow`'s `{:#}` do) shows every cause once.

use std::error::Error;
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
        reason: DirProblem,
    },
    /// The data folder given explicitly is missing, or is not a folder.
    #[error(
        "{path}: expected a data folder laid out like the original sample (gradcam_maps_val/, valid/): {reason}"
    )]
    DataDir {
        /// The folder given.
        path: PathBuf,
        /// What is wrong with it.
        reason: DirProblem,
    },
    /// The DejaVu Sans font embedded in the binary could not be loaded by the chart library.
    #[error("drawing a chart: the embedded DejaVu Sans font could not be loaded")]
    Font,
    /// A chart could not be drawn.
    #[error("drawing {what}")]
    Draw {
        /// The chart.
        what: String,
        /// The drawing backend's error.
        source: Box<dyn Error + Send + Sync>,
    },
    /// A chart's pixel buffer did not match its size.
    #[error("drawing {what}: canvas of the wrong size")]
    Canvas {
        /// The chart.
        what: String,
    },
    /// An image could not be encoded as PNG.
    #[error("encoding {what} as PNG")]
    Png {
        /// The image.
        what: String,
        /// The encoder's error.
        source: image::ImageError,
    },
}

/// What is wrong with a folder given to [`build_report`](crate::build_report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirProblem {
    /// Nothing exists at that path.
    Missing,
    /// Something exists at that path, but it is not a folder.
    NotAFolder,
}

impl DirProblem {
    /// The problem of `path`, or `None` when it is a folder.
    pub(crate) fn of(path: &std::path::Path) -> Option<Self> {
        if path.is_dir() {
            None
        } else if path.exists() {
            Some(DirProblem::NotAFolder)
        } else {
            Some(DirProblem::Missing)
        }
    }
}

impl std::fmt::Display for DirProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DirProblem::Missing => "no such folder",
            DirProblem::NotAFolder => "not a folder",
        })
    }
}

impl ReportError {
    pub(crate) fn draw(what: &str, e: impl Error + Send + Sync + 'static) -> Self {
        ReportError::Draw {
            what: what.to_owned(),
            source: Box::new(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chexlocalize_io::chain_text;

    fn png_error() -> ReportError {
        let cause = image::ImageError::Limits(image::error::LimitError::from_kind(
            image::error::LimitErrorKind::DimensionError,
        ));
        ReportError::Png {
            what: "a chart".to_owned(),
            source: cause,
        }
    }

    /// The cause of a wrapping variant is in the chain, not in the message: printed once.
    #[test]
    fn a_wrapped_cause_is_printed_once() {
        let e = png_error();
        let cause = e
            .source()
            .expect("the encoder's error is the source")
            .to_string();
        assert!(!cause.is_empty());
        assert_eq!(e.to_string(), "encoding a chart as PNG");
        let text = chain_text(&e);
        assert_eq!(text, format!("encoding a chart as PNG: {cause}"));
        assert_eq!(text.matches(&cause).count(), 1, "{text}");

        let draw = ReportError::draw("the mIoU chart", std::fmt::Error);
        assert_eq!(draw.to_string(), "drawing the mIoU chart");
        assert_eq!(
            chain_text(&draw),
            "drawing the mIoU chart: an error occurred when formatting an argument"
        );
    }

    /// An error that shows its source in its own message too (as some other crates' errors do)
    /// still gets it once.
    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("x.csv: cannot read: {source}")]
        struct Twice {
            source: std::io::Error,
        }
        let e = Twice {
            source: std::io::Error::other("disk on fire"),
        };
        assert_eq!(chain_text(&e), "x.csv: cannot read: disk on fire");
    }

    #[test]
    fn folder_problems_say_what_is_wrong() {
        let e = ReportError::RunDir {
            path: PathBuf::from("runs/a"),
            reason: DirProblem::Missing,
        };
        assert_eq!(
            e.to_string(),
            "runs/a: expected the output folder of a run (`cargo xtask reproduce --out`): no such folder"
        );
        assert!(e.source().is_none());
        assert_eq!(DirProblem::NotAFolder.to_string(), "not a folder");
    }
}
