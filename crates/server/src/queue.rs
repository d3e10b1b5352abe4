//! The job queue and the worker: claim a job with a lease, heartbeat it while scoring, and
//! write the result in the transaction that ends the job, which checks that the lease is
//! still this worker's (so a job whose lease expired and was claimed again is scored once).

use std::future::Future;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::db::{Backend, Db, ms};
use crate::error::ServerError;
use crate::score::{ScoreInput, ScoreOutput, score_submission_with};

/// The line a scoring child prints on stdout when the submission passed the validator,
/// before its [`ScoreOutput`] line.
pub const VALIDATED_LINE: &str = "validated";

/// How a worker scores a submission.
#[derive(Clone, Debug)]
pub enum Scorer {
    /// In a child process (`program args…`, e.g. the `chexlocalize` binary and `score-job`):
    /// it reads [`ScoreInput::to_bytes`] on stdin and writes [`ScoreOutput`] JSON as the last
    /// line of its stdout (after a [`VALIDATED_LINE`] line when the validator passed it).
    /// A crash, a non-zero exit or `timeout` fails that submission alone.
    ChildProcess {
        /// The executable.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
        /// Longest a scoring may take.
        timeout: Duration,
    },
    /// In this process, on a blocking thread (tests).
    InProcess,
}

impl Scorer {
    /// This executable with `score-job`, 120 s at most.
    pub fn current_exe() -> Result<Scorer, ServerError> {
        let program = std::env::current_exe().map_err(|source| ServerError::Io {
            path: PathBuf::from("current executable"),
            source,
        })?;
        Ok(Scorer::ChildProcess {
            program,
            args: vec!["score-job".into()],
            timeout: Duration::from_secs(120),
        })
    }
}

/// A worker's settings.
#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// This worker's name in the jobs table (lease owner); unique per worker.
    pub worker_id: String,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How often the lease is renewed while scoring (well under `lease`).
    pub heartbeat: Duration,
    /// How long an idle worker sleeps before looking at the queue again.
    pub poll_interval: Duration,
    /// Claims of one job before it is failed ("the worker died N times").
    pub max_attempts: i64,
    /// How to score.
    pub scorer: Scorer,
}

impl WorkerOptions {
    /// 60 s leases renewed every 10 s, a 500 ms poll, 3 attempts, a random worker id.
    pub fn new(scorer: Scorer) -> WorkerOptions {
        let mut r = [0u8; 6];
        let _ = getrandom::fill(&mut r);
        let suffix: String = r.iter().map(|b| format!("{b:02x}")).collect();
        WorkerOptions {
            worker_id: format!("worker-{}-{suffix}", std::process::id()),
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(10),
            poll_interval: Duration::from_millis(500),
            max_attempts: 3,
            scorer,
        }
    }
}

/// A claimed job: the lease is this worker's while `version` is the job's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The job.
    pub job_id: i64,
    /// Its submission.
    pub submission_id: i64,
    /// The lease owner.
    pub owner: String,
    /// The lease version (incremented by every claim).
    pub version: i64,
    /// Claims of this job so far, this one included.
    pub attempts: i64,
}

/// What [`finish_job`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// The result was written and the job ended.
    Written,
    /// The lease had expired and the job was claimed again: nothing written.
    LeaseLost,
}

/// Claims the oldest queued job, or one whose lease expired: in one statement that marks it
/// running (SQLite takes its write lock for the statement; Postgres skips rows other workers
/// hold with `FOR UPDATE SKIP LOCKED`), and marks its submission `validating`.
pub async fn claim_job(
    db: &Db,
    owner: &str,
    lease: Duration,
) -> Result<Option<Claim>, ServerError> {
    let now = ms(Utc::now());
    let expires = now + lease.as_millis() as i64;
    let lock = match db.backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE jobs SET state = 'running', lease_owner = $1, lease_version = lease_version + 1, \
         lease_expires_at = $2, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM jobs WHERE state = 'queued' \
         OR (state = 'running' AND lease_expires_at < $3) ORDER BY id LIMIT 1{lock}) \
         AND (state = 'queued' OR (state = 'running' AND lease_expires_at < $3)) \
         RETURNING id, submission_id, lease_version, attempts"
    );
    let mut tx = db.write_tx().await?;
    let Some(row) = sqlx::query(&sql)
        .bind(owner)
        .bind(expires)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
    else {
        tx.rollback().await?;
        return Ok(None);
    };
    let claim = Claim {
        job_id: row.try_get("id")?,
        submission_id: row.try_get("submission_id")?,
        owner: owner.to_string(),
        version: row.try_get("lease_version")?,
        attempts: row.try_get("attempts")?,
    };
    sqlx::query("UPDATE submissions SET status = 'validating' WHERE id = $1")
        .bind(claim.submission_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(claim))
}

/// Renews a claim's lease; false when it is no longer this worker's.
pub async fn heartbeat(db: &Db, claim: &Claim, lease: Duration) -> Result<bool, ServerError> {
    let r = sqlx::query(
        "UPDATE jobs SET lease_expires_at = $1 WHERE id = $2 AND state = 'running' \
         AND lease_owner = $3 AND lease_version = $4",
    )
    .bind(ms(Utc::now()) + lease.as_millis() as i64)
    .bind(claim.job_id)
    .bind(&claim.owner)
    .bind(claim.version)
    .execute(&db.pool)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Ends the job and writes the submission's result in one transaction, only while the lease
/// is still this claim's; otherwise writes nothing and answers [`Finish::LeaseLost`].
pub async fn finish_job(
    db: &Db,
    claim: &Claim,
    out: &ScoreOutput,
    scoring_ms: i64,
) -> Result<Finish, ServerError> {
    let now = ms(Utc::now());
    let mut tx = db.write_tx().await?;
    let ended = sqlx::query(
        "UPDATE jobs SET state = 'done', finished_at = $1 WHERE id = $2 AND state = 'running' \
         AND lease_owner = $3 AND lease_version = $4",
    )
    .bind(now)
    .bind(claim.job_id)
    .bind(&claim.owner)
    .bind(claim.version)
    .execute(&mut *tx)
    .await?;
    if ended.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(Finish::LeaseLost);
    }
    let (status, reason, problems, public, private, cxr) = match out {
        ScoreOutput::Scored {
            public,
            private,
            public_cxr,
            private_cxr,
        } => (
            "scored",
            None,
            None,
            Some(public),
            Some(private),
            Some((public_cxr, private_cxr)),
        ),
        ScoreOutput::Invalid { problems, summary } => {
            let mut all = problems.clone();
            all.push(summary.clone());
            (
                "invalid",
                Some(summary.clone()),
                Some(json(&all)),
                None,
                None,
                None,
            )
        }
        ScoreOutput::Failed { reason } => ("failed", Some(reason.clone()), None, None, None, None),
    };
    sqlx::query(
        "UPDATE submissions SET status = $1, reason = $2, problems = $3, public_scores = $4, \
         private_scores = $5, scored_at = $6, scoring_ms = $7, public_cxr = $8, \
         private_cxr = $9 WHERE id = $10",
    )
    .bind(status)
    .bind(reason)
    .bind(problems)
    .bind(public.map(json))
    .bind(private.map(json))
    .bind(now)
    .bind(scoring_ms)
    .bind(cxr.as_ref().map(|c| json(&c.0)))
    .bind(cxr.as_ref().map(|c| json(&c.1)))
    .bind(claim.submission_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Finish::Written)
}

/// A result column's JSON (these types always serialise).
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Claims one job, scores it (heartbeating the lease) and writes the result in the
/// transaction that ends the job. `None` when the queue is empty; otherwise the submission's
/// id (also when the lease was lost meanwhile: another worker then writes it).
pub async fn work_one(db: &Db, opts: &WorkerOptions) -> Result<Option<i64>, ServerError> {
    let Some(claim) = claim_job(db, &opts.worker_id, opts.lease).await? else {
        return Ok(None);
    };
    let started = Instant::now();
    let out = if claim.attempts > opts.max_attempts {
        ScoreOutput::Failed {
            reason: format!(
                "scoring did not finish in {} attempts (the worker stopped or timed out each time)",
                opts.max_attempts
            ),
        }
    } else {
        let input = score_input(db, claim.submission_id).await?;
        let (valid_tx, mut valid_rx) = tokio::sync::oneshot::channel();
        let scoring = run_scorer(&opts.scorer, input, valid_tx);
        tokio::pin!(scoring);
        let mut beat = tokio::time::interval(opts.heartbeat);
        beat.tick().await;
        let mut marked = false;
        loop {
            tokio::select! {
                out = &mut scoring => break out,
                Ok(()) = &mut valid_rx, if !marked => {
                    marked = true;
                    mark_scoring(db, &claim).await?;
                }
                _ = beat.tick() => {
                    if !heartbeat(db, &claim, opts.lease).await? {
                        // Another worker holds the job now; it writes the result.
                        return Ok(Some(claim.submission_id));
                    }
                }
            }
        }
    };
    let elapsed = started.elapsed().as_millis() as i64;
    finish_job(db, &claim, &out, elapsed).await?;
    Ok(Some(claim.submission_id))
}

/// Shows `scoring` while the lease is still this claim's.
async fn mark_scoring(db: &Db, claim: &Claim) -> Result<(), ServerError> {
    sqlx::query(
        "UPDATE submissions SET status = 'scoring' WHERE id = $1 AND status = 'validating' \
         AND EXISTS (SELECT 1 FROM jobs WHERE id = $2 AND state = 'running' \
         AND lease_owner = $3 AND lease_version = $4)",
    )
    .bind(claim.submission_id)
    .bind(claim.job_id)
    .bind(&claim.owner)
    .bind(claim.version)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// The scorer's input for a submission.
pub(crate) async fn score_input(db: &Db, submission_id: i64) -> Result<ScoreInput, ServerError> {
    let (gt_json, public_ids, cfg) = db.scoring_context().await?;
    let row = sqlx::query("SELECT seg_sha256, maps_sha256 FROM submissions WHERE id = $1")
        .bind(submission_id)
        .fetch_one(&db.pool)
        .await?;
    let seg: String = row.try_get("seg_sha256")?;
    let maps: Option<String> = row.try_get("maps_sha256")?;
    Ok(ScoreInput {
        gt_json,
        public_ids,
        segmentations: db.blob(&seg).await?,
        maps: match maps {
            Some(m) => Some(db.blob(&m).await?),
            None => None,
        },
        scoring: cfg.scoring,
        seed: cfg.seed,
        replicates: cfg.bootstrap_replicates,
    })
}

async fn run_scorer(
    scorer: &Scorer,
    input: ScoreInput,
    validated: tokio::sync::oneshot::Sender<()>,
) -> ScoreOutput {
    match scorer {
        Scorer::InProcess => {
            let job = move || {
                score_submission_with(input, move || {
                    let _ = validated.send(());
                })
            };
            match tokio::task::spawn_blocking(job).await {
                Ok(out) => out,
                Err(_) => ScoreOutput::Failed {
                    reason: "the scorer crashed".into(),
                },
            }
        }
        Scorer::ChildProcess {
            program,
            args,
            timeout,
        } => match tokio::time::timeout(*timeout, run_child(program, args, input, validated)).await
        {
            Ok(Ok(out)) => out,
            Ok(Err(reason)) => ScoreOutput::Failed { reason },
            Err(_) => ScoreOutput::Failed {
                reason: format!("scoring took longer than {} s", timeout.as_secs_f64()),
            },
        },
    }
}

/// Runs the child; its stderr is discarded (it could quote the submission), the reason
/// names only how it ended.
async fn run_child(
    program: &PathBuf,
    args: &[String],
    input: ScoreInput,
    validated: tokio::sync::oneshot::Sender<()>,
) -> Result<ScoreOutput, String> {
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("the scorer could not be started: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("the scorer has no stdin")?;
    let stdout = child.stdout.take().ok_or("the scorer has no stdout")?;
    let bytes = input.to_bytes();
    let writer = async move {
        // A child that dies early closes its stdin: the exit status says why.
        let _ = stdin.write_all(&bytes).await;
        drop(stdin);
    };
    let reader = async move {
        // At most 64 MiB of answer; the last line is the score.
        let mut lines = BufReader::new(stdout.take(64 << 20)).lines();
        let mut validated = Some(validated);
        let mut last = String::new();
        while let Ok(Some(line)) = lines.next_line().await {
            if line == VALIDATED_LINE {
                if let Some(v) = validated.take() {
                    let _ = v.send(());
                }
            } else if !line.trim().is_empty() {
                last = line;
            }
        }
        last
    };
    let ((), out) = tokio::join!(writer, reader);
    let status = child
        .wait()
        .await
        .map_err(|e| format!("the scorer could not be waited for: {e}"))?;
    if !status.success() {
        return Err(format!("the scorer crashed ({status})"));
    }
    serde_json::from_str(&out).map_err(|_| "the scorer's answer was not a score".to_string())
}

/// Works until `shutdown` resolves: a job at a time, sleeping `poll_interval` when the queue
/// is empty. A job being scored when `shutdown` comes is finished first. Database errors are
/// reported on stderr and retried after `poll_interval`.
pub async fn run_worker(
    db: &Db,
    opts: &WorkerOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    tokio::pin!(shutdown);
    loop {
        let idle = match work_one(db, opts).await {
            Ok(Some(_)) => false,
            Ok(None) => true,
            Err(e) => {
                eprintln!("worker {}: {e}", opts.worker_id);
                true
            }
        };
        if idle {
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(opts.poll_interval) => {}
            }
        } else if futures_ready(&mut shutdown).await {
            return Ok(());
        }
    }
}

/// Whether a pinned future is ready now, without waiting.
async fn futures_ready<F: Future<Output = ()>>(f: &mut std::pin::Pin<&mut F>) -> bool {
    tokio::select! {
        biased;
        () = f.as_mut() => true,
        () = std::future::ready(()) => false,
    }
}
