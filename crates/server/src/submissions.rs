//! Submissions: accept (limits, content-addressed blobs, a queued job), views, final
//! selection, rescoring, the admin's CSV export.

use chrono::{Duration, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::blobs::{BlobStore, put_blob};
use crate::config::DateTime;
use crate::db::{Db, from_ms, ms};
use crate::error::ServerError;
use crate::score::SplitScores;
use crate::teams::Team;

/// Where a submission is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for a worker.
    Queued,
    /// A worker holds it and is checking it.
    Validating,
    /// Valid; being scored.
    Scoring,
    /// Scored.
    Scored,
    /// The validator found problems (listed).
    Invalid,
    /// Could not be scored (with a reason): a crash, a timeout, too many attempts.
    Failed,
}

impl Status {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Validating => "validating",
            Status::Scoring => "scoring",
            Status::Scored => "scored",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Status, ServerError> {
        Ok(match s {
            "queued" => Status::Queued,
            "validating" => Status::Validating,
            "scoring" => Status::Scoring,
            "scored" => Status::Scored,
            "invalid" => Status::Invalid,
            "failed" => Status::Failed,
            other => return Err(ServerError::corrupt("submissions.status", other)),
        })
    }

    /// Whether it is final (scored, invalid or failed).
    pub fn is_final(self) -> bool {
        matches!(self, Status::Scored | Status::Invalid | Status::Failed)
    }
}

/// What [`Db::submit`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SubmitOutcome {
    /// Stored and queued.
    Accepted {
        /// The submission's id.
        id: i64,
    },
    /// The team has used its submissions of this UTC day.
    DailyLimit {
        /// The next UTC midnight.
        resets_at: DateTime,
    },
    /// The team has used all its submissions.
    TotalLimit,
}

/// A submission as its team sees it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubmissionView {
    /// Its id.
    pub id: i64,
    /// Its team's name.
    pub team: String,
    /// Its status.
    pub status: Status,
    /// 1 for the next job a worker takes, while queued.
    pub queue_position: Option<u64>,
    /// When it was accepted.
    pub submitted_at: DateTime,
    /// When its status became final.
    pub finished_at: Option<DateTime>,
    /// The team's note.
    pub note: Option<String>,
    /// Why it failed.
    pub reason: Option<String>,
    /// The validator's problems, when invalid.
    pub problems: Vec<String>,
    /// Its public-split scores, when scored.
    pub public: Option<SplitScores>,
    /// Its private-split scores: only from `phase_end` on.
    pub private: Option<SplitScores>,
    /// Whether it is selected for the private leaderboard.
    pub selected: bool,
    /// Whether confidence maps were uploaded with it.
    pub has_maps: bool,
}

/// Which submissions [`Db::rescore`] queues again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rescore {
    /// One submission.
    One(i64),
    /// Every submission whose status is final.
    All,
}

const SELECT_VIEW: &str = "SELECT s.id, t.name AS team, s.status, s.submitted_at, s.scored_at, \
     s.note, s.reason, s.problems, s.public_scores, s.private_scores, s.selected, s.maps_sha256 \
     FROM submissions s JOIN teams t ON t.id = s.team_id";

pub(crate) fn scores(row: &AnyRow, col: &str) -> Result<Option<SplitScores>, ServerError> {
    let text: Option<String> = row.try_get(col)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| ServerError::corrupt(col, e)))
        .transpose()
}

/// The next UTC midnight after `now`.
fn next_midnight(now: DateTime) -> DateTime {
    let day = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    day + Duration::days(1)
}

/// Stores the files and queues a submission with its scoring job, in `tx`: its id.
pub(crate) async fn enqueue(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    store: BlobStore<'_>,
    team_id: i64,
    segmentations: &[u8],
    maps: Option<&[u8]>,
    note: Option<String>,
    now: DateTime,
) -> Result<i64, ServerError> {
    let seg_sha = put_blob(tx, segmentations, store).await?;
    let maps_sha = match maps {
        Some(m) => Some(put_blob(tx, m, store).await?),
        None => None,
    };
    let id: i64 = sqlx::query(
        "INSERT INTO submissions (team_id, seg_sha256, maps_sha256, note, submitted_at, status) \
         VALUES ($1, $2, $3, $4, $5, 'queued') RETURNING id",
    )
    .bind(team_id)
    .bind(seg_sha)
    .bind(maps_sha)
    .bind(note)
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    sqlx::query("INSERT INTO jobs (submission_id, state, created_at) VALUES ($1, 'queued', $2)")
        .bind(id)
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
    Ok(id)
}

impl Db {
    /// Accepts a submission: checks the team's limits (pending and scored submissions count;
    /// invalid and failed ones do not), stores the files under their SHA-256 and queues a job,
    /// all in one transaction.
    pub async fn submit(
        &self,
        team: &Team,
        segmentations: Vec<u8>,
        maps: Option<Vec<u8>>,
        note: Option<String>,
        now: DateTime,
    ) -> Result<SubmitOutcome, ServerError> {
        let comp = self
            .competition()
            .await?
            .ok_or(ServerError::NoCompetition)?;
        let cfg = &comp.config;
        let size = (segmentations.len() + maps.as_ref().map_or(0, Vec::len)) as u64;
        if size > cfg.max_upload_bytes {
            return Err(ServerError::TooLarge {
                size,
                limit: cfg.max_upload_bytes,
            });
        }
        let note = note.map(|n| {
            n.chars()
                .filter(|c| !c.is_control())
                .take(500)
                .collect::<String>()
        });
        let resets_at = next_midnight(now);
        let day_start = ms(resets_at - Duration::days(1));
        let mut tx = self.write_tx().await?;
        // A write first: takes SQLite's write lock and Postgres's row lock on the team, so
        // two uploads of one team cannot both pass the limit check.
        let locked = sqlx::query(
            "UPDATE teams SET last_submit_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(ms(now))
        .bind(team.id)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            return Err(ServerError::UnknownTeam(team.name.clone()));
        }
        let count = |since: i64| {
            sqlx::query(
                "SELECT COUNT(*) AS n FROM submissions WHERE team_id = $1 AND submitted_at >= $2 \
                 AND status NOT IN ('invalid', 'failed')",
            )
            .bind(team.id)
            .bind(since)
        };
        let today: i64 = count(day_start).fetch_one(&mut *tx).await?.try_get("n")?;
        if today >= i64::from(cfg.daily_limit) {
            return Ok(SubmitOutcome::DailyLimit { resets_at });
        }
        if let Some(total) = cfg.total_limit {
            let all: i64 = count(i64::MIN).fetch_one(&mut *tx).await?.try_get("n")?;
            if all >= i64::from(total) {
                return Ok(SubmitOutcome::TotalLimit);
            }
        }
        let id = enqueue(
            &mut tx,
            self.blob_store(),
            team.id,
            &segmentations,
            maps.as_deref(),
            note,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(SubmitOutcome::Accepted { id })
    }

    /// Whether private scores are shown at `now`.
    async fn final_phase(&self, now: DateTime) -> Result<bool, ServerError> {
        Ok(match self.competition().await? {
            Some(c) => now >= c.config.phase_end,
            None => false,
        })
    }

    async fn view(&self, row: &AnyRow, final_phase: bool) -> Result<SubmissionView, ServerError> {
        let id: i64 = row.try_get("id")?;
        let status = Status::parse(&row.try_get::<String, _>("status")?)?;
        let queue_position = if status == Status::Queued {
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM jobs WHERE state = 'queued' AND id <= \
                 (SELECT MAX(id) FROM jobs WHERE submission_id = $1)",
            )
            .bind(id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
            Some(n.max(1) as u64)
        } else {
            None
        };
        let problems: Option<String> = row.try_get("problems")?;
        Ok(SubmissionView {
            id,
            team: row.try_get("team")?,
            status,
            queue_position,
            submitted_at: from_ms(row.try_get("submitted_at")?),
            finished_at: row.try_get::<Option<i64>, _>("scored_at")?.map(from_ms),
            note: row.try_get("note")?,
            reason: row.try_get("reason")?,
            problems: problems
                .map(|p| serde_json::from_str(&p).map_err(|e| ServerError::corrupt("problems", e)))
                .transpose()?
                .unwrap_or_default(),
            public: scores(row, "public_scores")?,
            private: if final_phase {
                scores(row, "private_scores")?
            } else {
                None
            },
            selected: row.try_get::<i64, _>("selected")? != 0,
            has_maps: row.try_get::<Option<String>, _>("maps_sha256")?.is_some(),
        })
    }

    /// One of the team's submissions (private scores only from `phase_end` on).
    pub async fn submission(
        &self,
        team: &Team,
        id: i64,
    ) -> Result<Option<SubmissionView>, ServerError> {
        self.submission_at(team, id, Utc::now()).await
    }

    /// [`Db::submission`] as seen at `now`.
    pub async fn submission_at(
        &self,
        team: &Team,
        id: i64,
        now: DateTime,
    ) -> Result<Option<SubmissionView>, ServerError> {
        let row = sqlx::query(&format!("{SELECT_VIEW} WHERE s.id = $1 AND s.team_id = $2"))
            .bind(id)
            .bind(team.id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.view(&r, self.final_phase(now).await?).await?)),
            None => Ok(None),
        }
    }

    /// The team's submissions, newest first.
    pub async fn submissions(&self, team: &Team) -> Result<Vec<SubmissionView>, ServerError> {
        self.submissions_at(team, Utc::now()).await
    }

    /// [`Db::submissions`] as seen at `now`.
    pub async fn submissions_at(
        &self,
        team: &Team,
        now: DateTime,
    ) -> Result<Vec<SubmissionView>, ServerError> {
        let rows = sqlx::query(&format!(
            "{SELECT_VIEW} WHERE s.team_id = $1 ORDER BY s.id DESC"
        ))
        .bind(team.id)
        .fetch_all(&self.pool)
        .await?;
        let final_phase = self.final_phase(now).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.view(r, final_phase).await?);
        }
        Ok(out)
    }

    /// Selects a scored submission for the private leaderboard (at most `final_selections`;
    /// before `phase_end`). Selecting a selected one again is not an error.
    pub async fn select(&self, team: &Team, id: i64) -> Result<(), ServerError> {
        self.set_selected(team, id, true).await
    }

    /// Takes a submission out of the team's selection.
    pub async fn unselect(&self, team: &Team, id: i64) -> Result<(), ServerError> {
        self.set_selected(team, id, false).await
    }

    async fn set_selected(&self, team: &Team, id: i64, on: bool) -> Result<(), ServerError> {
        let comp = self
            .competition()
            .await?
            .ok_or(ServerError::NoCompetition)?;
        let mut tx = self.write_tx().await?;
        let r = sqlx::query(
            "UPDATE submissions SET selected = $1 WHERE id = $2 AND team_id = $3 AND status = 'scored'",
        )
        .bind(i64::from(on))
        .bind(id)
        .bind(team.id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            let row = sqlx::query("SELECT status FROM submissions WHERE id = $1 AND team_id = $2")
                .bind(id)
                .bind(team.id)
                .fetch_optional(&mut *tx)
                .await?;
            return match row {
                None => Err(ServerError::UnknownSubmission(id)),
                Some(r) => Err(ServerError::NotSelectable {
                    id,
                    status: r.try_get("status")?,
                }),
            };
        }
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM submissions WHERE team_id = $1 AND selected = 1",
        )
        .bind(team.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if on && n > i64::from(comp.config.final_selections) {
            tx.rollback().await?;
            return Err(ServerError::TooManySelections {
                limit: comp.config.final_selections,
            });
        }
        tx.commit().await?;
        Ok(())
    }

    /// Jobs waiting or being scored.
    pub async fn queue_depth(&self) -> Result<u64, ServerError> {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
        Ok(n as u64)
    }

    /// Queues submissions again (after a metric or ground-truth fix): their scores are cleared
    /// and a new job is queued for each. Submissions still pending are left alone. Returns how
    /// many were queued.
    pub async fn rescore(&self, which: Rescore) -> Result<u64, ServerError> {
        let mut tx = self.write_tx().await?;
        let reset = "UPDATE submissions SET status = 'queued', reason = NULL, problems = NULL, \
             public_scores = NULL, private_scores = NULL, public_cxr = NULL, private_cxr = NULL, \
             scored_at = NULL WHERE status IN ('scored', 'invalid', 'failed')";
        let rows = match which {
            Rescore::One(id) => {
                sqlx::query(&format!("{reset} AND id = $1 RETURNING id"))
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?
            }
            Rescore::All => {
                sqlx::query(&format!("{reset} RETURNING id"))
                    .fetch_all(&mut *tx)
                    .await?
            }
        };
        let now = ms(Utc::now());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            sqlx::query(
                "INSERT INTO jobs (submission_id, state, created_at) VALUES ($1, 'queued', $2)",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// Every submission and its public and private scores, as CSV (for the organisers only).
    pub async fn export_csv(&self) -> Result<String, ServerError> {
        let rows = sqlx::query(
            "SELECT s.id, t.name AS team, s.submitted_at, s.status, s.selected, s.public_scores, \
             s.private_scores, s.reason, s.note, s.seg_sha256 \
             FROM submissions s JOIN teams t ON t.id = s.team_id ORDER BY s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = String::from(
            "id,team,submitted_at,status,selected,public_miou,public_lower,public_upper,\
             private_miou,private_lower,private_upper,seg_sha256,reason,note\n",
        );
        let num = |x: Option<f64>| x.map_or(String::new(), |v| v.to_string());
        for r in &rows {
            let public = scores(r, "public_scores")?.unwrap_or_default();
            let private = scores(r, "private_scores")?.unwrap_or_default();
            let fields = [
                r.try_get::<i64, _>("id")?.to_string(),
                r.try_get("team")?,
                from_ms(r.try_get("submitted_at")?).to_rfc3339(),
                r.try_get("status")?,
                r.try_get::<i64, _>("selected")?.to_string(),
                num(public.miou),
                num(public.miou_lower),
                num(public.miou_upper),
                num(private.miou),
                num(private.miou_lower),
                num(private.miou_upper),
                r.try_get("seg_sha256")?,
                r.try_get::<Option<String>, _>("reason")?
                    .unwrap_or_default(),
                r.try_get::<Option<String>, _>("note")?.unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            out.push_str(&line.join(","));
            out.push('\n');
        }
        Ok(out)
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so a spreadsheet does not run it.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '@']) || (s.starts_with('-') && s.parse::<f64>().is_err()) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}
