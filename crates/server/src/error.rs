//! [`ServerError`]: everything the server's core can fail with.

use std::path::PathBuf;

/// An error of the server's core. Messages name the file, key or row and what was expected;
/// none carries ground-truth masks or private-split results.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The database refused a query or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration could not be applied.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// `--db` is neither `sqlite:PATH` nor `postgres://…`.
    #[error("database URL {0:?}: expected sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The competition TOML could not be read or has a bad key.
    #[error("{path}: {message}")]
    Config {
        /// The TOML file.
        path: PathBuf,
        /// What was wrong, naming the key and what it expects.
        message: String,
    },
    /// The ground-truth file could not be read as a segmentation or an annotation JSON.
    #[error("ground truth {path}: {message}")]
    GroundTruth {
        /// The `gt_path` of the config.
        path: PathBuf,
        /// What the readers said.
        message: String,
    },
    /// No competition was initialised (`admin init` first).
    #[error("no competition: run `chexlocalize admin --db URL init --config FILE` first")]
    NoCompetition,
    /// No team of that name.
    #[error("no team named {0:?}")]
    UnknownTeam(String),
    /// A team of that name exists already.
    #[error("a team named {0:?} exists already")]
    DuplicateTeam(String),
    /// A team name is empty, too long or has control characters.
    #[error("team name {0:?}: expected 1 to 64 printable characters")]
    BadTeamName(String),
    /// No submission of that id for this team.
    #[error("no submission {0} of this team")]
    UnknownSubmission(i64),
    /// Only scored submissions can be selected for the private leaderboard.
    #[error("submission {id} is {status}: only a scored submission can be selected")]
    NotSelectable {
        /// The submission.
        id: i64,
        /// Its status.
        status: String,
    },
    /// The team has selected as many submissions as the competition allows.
    #[error("at most {limit} submissions can be selected; unselect one first")]
    TooManySelections {
        /// `final_selections` of the config.
        limit: u32,
    },
    /// An upload is larger than `max_upload_bytes`.
    #[error("upload of {size} bytes: expected at most {limit} bytes")]
    TooLarge {
        /// Its size.
        size: u64,
        /// `max_upload_bytes`.
        limit: u64,
    },
    /// A row of the database does not hold what this version writes.
    #[error("database row {what}: {message}")]
    Corrupt {
        /// Which row and column.
        what: String,
        /// What was expected.
        message: String,
    },
    /// The scorer (child process) could not be started or talked to.
    #[error("scorer: {0}")]
    Scorer(String),
    /// A local file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl ServerError {
    pub(crate) fn corrupt(what: impl Into<String>, message: impl std::fmt::Display) -> Self {
        ServerError::Corrupt {
            what: what.into(),
            message: message.to_string(),
        }
    }
}
