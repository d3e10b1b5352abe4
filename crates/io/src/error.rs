//! The error type of every file operation.

use std::path::{Path, PathBuf};

/// What went wrong reading or writing a CheXlocalize file. Every variant names the file; the
/// content errors also name the CXR id / task / line and say what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened, read or listed.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The output could not be written.
    #[error("{path}: cannot write: {source}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{path}: not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The JSON is valid but not shaped as expected.
    #[error("{path}: {location}: expected {expected}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// Where in the file: a CXR id, a task, an index.
        location: String,
        /// What was expected there.
        expected: String,
    },
    /// A run-length encoded mask is corrupt.
    #[error("{path}: {location}: corrupt RLE mask: {source}")]
    Rle {
        /// The file.
        path: PathBuf,
        /// CXR id and task.
        location: String,
        /// What is wrong with the counts.
        source: chexlocalize_rle::RleError,
    },
    /// A heatmap pickle could not be decoded (nothing in it was executed).
    #[error("{path}: not a CheXlocalize heatmap pickle: {source}")]
    Pickle {
        /// The file.
        path: PathBuf,
        /// What the safe reader refused.
        source: chexlocalize_pickle::PickleError,
    },
    /// A CSV file is malformed or lacks what the command needs.
    #[error("{path}: line {line}: expected {expected}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1).
        line: usize,
        /// What was expected.
        expected: String,
    },
    /// A size or count in the file is over the configured [`Limits`](crate::Limits); nothing
    /// was allocated for it.
    #[error("{path}: {location}: {what} is over the limit: {limit}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// Where in the file: a CXR id, a task, a key.
        location: String,
        /// What the file claims.
        what: String,
        /// The limit.
        limit: String,
    },
    /// A `.npy` array is not as numpy writes it, or not a heatmap (dtype, shape).
    #[error("{path}: not a heatmap .npy array: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A file name does not follow the `<cxr_id>_<task>_map.pkl` convention.
    #[error("{path}: file name: expected {expected}")]
    FileName {
        /// The file.
        path: PathBuf,
        /// What was expected.
        expected: String,
    },
}

impl IoError {
    pub(crate) fn schema(
        path: &Path,
        location: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        IoError::Schema {
            path: path.to_path_buf(),
            location: location.into(),
            expected: expected.into(),
        }
    }

    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        IoError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}
