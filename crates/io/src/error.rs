//! The error type of every file operation.

use std::path::{Path, PathBuf};

use crate::files::escape_path;

/// What went wrong reading or writing a CheXlocalize file. Every variant names the file (as
/// [`escape_path`](crate::escape_path) shows it: control characters and bytes that are not UTF-8
/// escaped); the content errors also name the CXR id / task / line and say what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened, read or listed.
    #[error("{}: cannot read: {source}", escape_path(.path))]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The path names something other than a regular file (a FIFO, a device, a socket, a
    /// folder): it was not opened, or opened without blocking and not read.
    #[error("{}: is {kind}, not a regular file", escape_path(.path))]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is: "a FIFO", "a character device", "a block device", "a socket", "a folder".
        kind: &'static str,
    },
    /// The output could not be written.
    #[error("{}: cannot write: {source}", escape_path(.path))]
    Write {
        /// The output file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{}: not valid JSON: {source}", escape_path(.path))]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The JSON is valid but not shaped as expected.
    #[error("{}: {location}: expected {expected}", escape_path(.path))]
    Schema {
        /// The file.
        path: PathBuf,
        /// Where in the file: a CXR id, a task, an index.
        location: String,
        /// What was expected there.
        expected: String,
    },
    /// A run-length encoded mask is corrupt.
    #[error("{}: {location}: corrupt RLE mask: {source}", escape_path(.path))]
    Rle {
        /// The file.
        path: PathBuf,
        /// CXR id and task.
        location: String,
        /// What is wrong with the counts.
        source: chexlocalize_rle::RleError,
    },
    /// A heatmap pickle could not be decoded (nothing in it was executed).
    #[error("{}: not a CheXlocalize heatmap pickle: {source}", escape_path(.path))]
    Pickle {
        /// The file.
        path: PathBuf,
        /// What the safe reader refused.
        source: chexlocalize_pickle::PickleError,
    },
    /// A CSV file is malformed or lacks what the command needs.
    #[error("{}: line {line}: expected {expected}", escape_path(.path))]
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
    #[error("{}: {location}: {what} is over the limit: {limit}", escape_path(.path))]
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
    #[error("{}: not a heatmap .npy array: {reason}", escape_path(.path))]
    Npy {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// A file name does not follow the `<cxr_id>_<task>_map.pkl` convention.
    #[error("{}: file name: expected {expected}", escape_path(.path))]
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

    pub(crate) fn not_regular(path: &Path, kind: &'static str) -> Self {
        IoError::NotRegular {
            path: path.to_path_buf(),
            kind,
        }
    }

    pub(crate) fn read(path: &Path, source: std::io::Error) -> Self {
        IoError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}
