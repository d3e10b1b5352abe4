//! The error type of every file operation.

use std::path::{Path, PathBuf};

use crate::names::escape_path;

/// What went wrong reading or writing a CheXlocalize file. Every variant names the file (as
/// [`escape_path`](crate::escape_path) shows it: control characters and bytes that are not UTF-8
/// escaped); the content errors also name the CXR id / task / line and say what was expected.
///
/// A variant that wraps a cause (the operating system's error, the JSON parser's, the RLE
/// decoder's, the pickle reader's) returns it from [`source`](std::error::Error::source) and
/// leaves it out of its own message: print the chain (`chexlocalize`'s `error_text`, `anyhow`'s
/// `{:#}`) to show every cause once, e.g. `a.json: cannot read: No such file or directory (os
/// error 2)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be opened, read or listed.
    #[error("{}: cannot read", escape_path(.path))]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
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
    #[error("{}: cannot write", escape_path(.path))]
    Write {
        /// The output file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{}: not valid JSON", escape_path(.path))]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error, with line and column.
        #[source]
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
    #[error("{}: {location}: corrupt RLE mask", escape_path(.path))]
    Rle {
        /// The file.
        path: PathBuf,
        /// CXR id and task.
        location: String,
        /// What is wrong with the counts.
        #[source]
        source: chexlocalize_rle::RleError,
    },
    /// A heatmap pickle could not be decoded (nothing in it was executed).
    #[error("{}: not a CheXlocalize heatmap pickle", escape_path(.path))]
    Pickle {
        /// The file.
        path: PathBuf,
        /// What the safe reader refused.
        #[source]
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
    /// The sidecar JSON of a `.npy` heatmap (its `prob` and `cxr_dims`) could not be read.
    #[error(
        "{}: cannot read its sidecar {} (a .npy heatmap needs one: {{\"prob\": p, \"cxr_dims\": [width, height]}})",
        escape_path(.path),
        escape_path(.sidecar)
    )]
    Sidecar {
        /// The `.npy` file.
        path: PathBuf,
        /// The sidecar it needs.
        sidecar: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
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

/// An error and its causes joined by `": "`, each cause once: a cause is left out only when the
/// link before it already ends with its text (errors of other crates that print their source
/// too). Every variant of this crate keeps its cause out of its own message, so this is how a
/// front end (the CLI, the report's notes) words any error chain.
pub fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut previous = text.clone();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !previous.ends_with(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        previous = t;
        cause = c.source();
    }
    text
}

/// `e` and its causes joined by `": "`, each printed as it is (no deduplication): what a chain
/// printer such as `anyhow`'s `{:#}` shows.
#[cfg(test)]
pub(crate) fn full_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    /// One error of every variant (the match below has no wildcard: a new variant must be
    /// added here), with the text the chain printer must show for it.
    fn one_of_each() -> Vec<(IoError, String)> {
        let p = || PathBuf::from("d/a.json");
        let json = serde_json::from_str::<serde_json::Value>("{").expect_err("bad JSON");
        let json_text = json.to_string();
        let rle = chexlocalize_rle::RleError::SumMismatch {
            expected: 6,
            got: 7,
        };
        let rle_text = rle.to_string();
        let pickle = chexlocalize_pickle::PickleError::Truncated {
            context: "pickle",
            offset: 3,
            needed: 1,
        };
        let pickle_text = pickle.to_string();
        let all = vec![
            (
                IoError::read(&p(), std::io::Error::other("disk on fire")),
                "d/a.json: cannot read: disk on fire".to_owned(),
            ),
            (
                IoError::not_regular(&p(), "a FIFO"),
                "d/a.json: is a FIFO, not a regular file".to_owned(),
            ),
            (
                IoError::Write {
                    path: p(),
                    source: std::io::Error::other("disk full"),
                },
                "d/a.json: cannot write: disk full".to_owned(),
            ),
            (
                IoError::Json {
                    path: p(),
                    source: json,
                },
                format!("d/a.json: not valid JSON: {json_text}"),
            ),
            (
                IoError::schema(&p(), "CXR x", "an object"),
                "d/a.json: CXR x: expected an object".to_owned(),
            ),
            (
                IoError::Rle {
                    path: p(),
                    location: "CXR x, task Edema".to_owned(),
                    source: rle,
                },
                format!("d/a.json: CXR x, task Edema: corrupt RLE mask: {rle_text}"),
            ),
            (
                IoError::Pickle {
                    path: p(),
                    source: pickle,
                },
                format!("d/a.json: not a CheXlocalize heatmap pickle: {pickle_text}"),
            ),
            (
                IoError::Csv {
                    path: p(),
                    line: 2,
                    expected: "3 fields".to_owned(),
                },
                "d/a.json: line 2: expected 3 fields".to_owned(),
            ),
            (
                IoError::Limit {
                    path: p(),
                    location: "CXR x".to_owned(),
                    what: "an image of 9 x 9 pixels".to_owned(),
                    limit: "at most 4".to_owned(),
                },
                "d/a.json: CXR x: an image of 9 x 9 pixels is over the limit: at most 4".to_owned(),
            ),
            (
                IoError::Npy {
                    path: p(),
                    reason: "dtype <i8".to_owned(),
                },
                "d/a.json: not a heatmap .npy array: dtype <i8".to_owned(),
            ),
            (
                IoError::Sidecar {
                    path: PathBuf::from("d/a_Edema_map.npy"),
                    sidecar: PathBuf::from("d/a_Edema_map.json"),
                    source: std::io::Error::other("gone"),
                },
                "d/a_Edema_map.npy: cannot read its sidecar d/a_Edema_map.json (a .npy heatmap \
                 needs one: {\"prob\": p, \"cxr_dims\": [width, height]}): gone"
                    .to_owned(),
            ),
            (
                IoError::FileName {
                    path: p(),
                    expected: "<cxr_id>_<task>_map.pkl".to_owned(),
                },
                "d/a.json: file name: expected <cxr_id>_<task>_map.pkl".to_owned(),
            ),
        ];
        for (e, _) in &all {
            match e {
                IoError::Read { .. }
                | IoError::NotRegular { .. }
                | IoError::Write { .. }
                | IoError::Json { .. }
                | IoError::Schema { .. }
                | IoError::Rle { .. }
                | IoError::Pickle { .. }
                | IoError::Csv { .. }
                | IoError::Limit { .. }
                | IoError::Npy { .. }
                | IoError::Sidecar { .. }
                | IoError::FileName { .. } => {}
            }
        }
        all
    }

    /// Printing the chain shows every cause once, and the text users see is unchanged.
    #[test]
    fn no_variant_repeats_its_source() {
        for (e, expected) in one_of_each() {
            let text = full_chain(&e);
            assert_eq!(text, expected);
            let mut link: &(dyn Error + 'static) = &e;
            while let Some(cause) = link.source() {
                let c = cause.to_string();
                assert!(!c.is_empty(), "{text}");
                assert!(
                    !link.to_string().contains(&c),
                    "{link} shows its source {c:?} in its own message"
                );
                assert_eq!(text.matches(&c).count(), 1, "{c:?} twice in {text:?}");
                link = cause;
            }
        }
    }

    /// The wrapping variants do expose their cause (so a chain printer can show it).
    #[test]
    fn wrapped_causes_are_sources() {
        let with_source = one_of_each()
            .iter()
            .filter(|(e, _)| e.source().is_some())
            .count();
        assert_eq!(with_source, 6);
    }
}
