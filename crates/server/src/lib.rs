//! The CheXplanation competition server: the HTTP API and pages ([`serve`], [`router`]) over
//! the core: the database ([`Db`], SQLite or
//! Postgres), the competition ([`CompetitionConfig`] from TOML), teams and their tokens,
//! submissions with their limits, the job queue with leases and the worker ([`run_worker`],
//! [`work_one`]), scoring ([`score_submission`], run in a child process by `chexlocalize
//! score-job`) and the leaderboard.
//!
//! One submission's way: [`Db::submit`] stores its files under their SHA-256 and queues a job,
//! in one transaction; a worker [`claim_job`]s it with a lease (status `validating`), renews
//! the lease while the scorer runs, and [`finish_job`] writes `scored`, `invalid` (the
//! validator's problems) or `failed` (with a reason) in the transaction that ends the job,
//! only if the lease is still its own. A worker that dies leaves a lease that expires; another
//! worker claims the job again, and after [`WorkerOptions::max_attempts`] the submission is
//! failed with that reason. So every accepted submission ends scored, invalid or failed, once.
//!
//! The ground truth and the private split's results never leave: [`SubmissionView`] shows the
//! private scores only from `phase_end` on, no per-CXR result is stored, and the scorer's
//! problems name the submission's files only.
//!
//! ```no_run
//! use chexlocalize_server::{CompetitionConfig, Db, Scorer, SubmitOutcome, WorkerOptions, work_one};
//! # async fn demo() -> Result<(), chexlocalize_server::ServerError> {
//! let db = Db::connect("sqlite:competition.db").await?;
//! let cfg = CompetitionConfig::from_toml_file("competition.toml".as_ref())?;
//! db.init_competition(&cfg).await?;
//! let token = db.add_team("team a").await?;
//! let team = db.team_by_token(&token).await?.expect("just added");
//! let seg = std::fs::read("segmentations.json").expect("readable");
//! let now = chrono::Utc::now();
//! if let SubmitOutcome::Accepted { id } = db.submit(&team, seg, None, None, now).await? {
//!     let opts = WorkerOptions::new(Scorer::current_exe()?);
//!     while work_one(&db, &opts).await?.is_some() {}
//!     println!("{:?}", db.submission(&team, id).await?.map(|s| s.status));
//! }
//! println!("{:?}", db.leaderboard(now).await?.rows);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod admin;
mod baselines;
mod blobs;
mod config;
mod db;
mod error;
mod http;
mod leaderboard;
mod maps;
mod pages;
mod queue;
mod score;
mod serve;
mod significance;
mod site;
mod state;
mod stats;
mod submissions;
mod teams;

pub use chrono;
pub use config::{
    Competition, CompetitionConfig, DateTime, MetricKind, Phase, ScoringRule, patient_of,
    public_split,
};
pub use db::{Backend, Db};
pub use error::ServerError;
pub use http::{AppState, Metrics, router};
pub use leaderboard::{BaselineRow, Leaderboard, LeaderboardRow};
pub use maps::{MAX_MAP_ENTRIES, check_map_name, pack_map_dir, pack_maps, unpack_maps};
pub use queue::{
    Claim, Finish, Scorer, VALIDATED_LINE, WorkerOptions, claim_job, finish_job, heartbeat,
    run_worker, work_one,
};
pub use score::{
    CxrScores, ScoreInput, ScoreOutput, SplitScores, TaskScore, score_submission,
    score_submission_with,
};
pub use serve::{ServeOptions, serve, serve_listener};
pub use significance::NextGap;
pub use state::TeamRate;
pub use stats::Stats;
pub use submissions::{Rescore, Status, SubmissionView, SubmitOutcome};
pub use teams::{Team, TeamInfo, TeamKind};

/// The upload limit when no competition is configured yet (256 MiB).
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 256 << 20;

/// SHA-256 of a token.
pub(crate) fn sha256(s: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).into()
}
