//! [`Stats`]: counts for the server's `/metrics`.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use crate::db::Db;
use crate::error::ServerError;

/// What `/metrics` reports (Prometheus gauges and counters).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Jobs queued.
    pub jobs_queued: u64,
    /// Jobs being scored (leased).
    pub jobs_running: u64,
    /// Submissions per status name.
    pub submissions: BTreeMap<String, u64>,
    /// Submissions that reached a final status after scoring (scored, invalid or failed).
    pub finished: u64,
    /// Total time from claim to result of those, in seconds.
    pub scoring_seconds_total: f64,
    /// Teams not revoked.
    pub teams: u64,
    /// Stored blobs and their bytes.
    pub blobs: u64,
    /// Bytes of the stored blobs.
    pub blob_bytes: u64,
}

impl Db {
    /// Counts for `/metrics`.
    pub async fn stats(&self) -> Result<Stats, ServerError> {
        let mut s = Stats::default();
        for r in sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await?
        {
            let n = r.try_get::<i64, _>("n")? as u64;
            match r.try_get::<String, _>("state")?.as_str() {
                "queued" => s.jobs_queued = n,
                "running" => s.jobs_running = n,
                _ => {}
            }
        }
        for r in sqlx::query("SELECT status, COUNT(*) AS n FROM submissions GROUP BY status")
            .fetch_all(&self.pool)
            .await?
        {
            s.submissions
                .insert(r.try_get("status")?, r.try_get::<i64, _>("n")? as u64);
        }
        // Summed here, not in SQL: SUM is NUMERIC on Postgres, which the Any driver cannot read.
        for r in sqlx::query("SELECT scoring_ms FROM submissions WHERE scoring_ms IS NOT NULL")
            .fetch_all(&self.pool)
            .await?
        {
            s.finished += 1;
            s.scoring_seconds_total += r.try_get::<i64, _>("scoring_ms")? as f64 / 1000.0;
        }
        s.teams = sqlx::query(
            "SELECT COUNT(*) AS n FROM teams WHERE revoked_at IS NULL AND kind = 'team'",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get::<i64, _>("n")? as u64;
        for r in sqlx::query("SELECT size FROM blobs")
            .fetch_all(&self.pool)
            .await?
        {
            s.blobs += 1;
            s.blob_bytes += r.try_get::<i64, _>("size")? as u64;
        }
        Ok(s)
    }
}
