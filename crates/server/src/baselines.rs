//! Baselines: the organisers' reference results (their Grad-CAM/Otsu masks, the human
//! benchmark) scored like any submission and shown on the leaderboard beside the teams, never
//! ranked.
//!
//! A baseline is a row of `teams` with `kind = 'baseline'` and no token (its stored hash is
//! empty, which no SHA-256 matches), so it can never submit or read through the API. Each
//! `admin add-baseline` queues one more submission for it, free of the daily and total limits;
//! the leaderboard shows its newest scored one.

use chrono::Utc;
use sqlx::Row;

use crate::db::{Db, ms};
use crate::error::ServerError;
use crate::submissions::enqueue;
use crate::teams::check_name;

impl Db {
    /// Queues `segmentations` (and confidence `maps`, an archive as the submit client packs
    /// them) as the baseline `name`, creating it on first use; returns the submission's id.
    /// A team (not a baseline) of that name is an error.
    pub async fn add_baseline(
        &self,
        name: &str,
        segmentations: Vec<u8>,
        maps: Option<Vec<u8>>,
        note: Option<String>,
    ) -> Result<i64, ServerError> {
        check_name(name)?;
        self.competition()
            .await?
            .ok_or(ServerError::NoCompetition)?;
        let now = Utc::now();
        let mut tx = self.write_tx().await?;
        let existing = sqlx::query("SELECT id, kind FROM teams WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        let team_id: i64 = match existing {
            Some(r) => {
                if r.try_get::<String, _>("kind")? != "baseline" {
                    return Err(ServerError::DuplicateTeam(name.to_string()));
                }
                let id: i64 = r.try_get("id")?;
                // Adding it again shows it again after a `revoke-team`.
                sqlx::query("UPDATE teams SET revoked_at = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id
            }
            None => sqlx::query(
                "INSERT INTO teams (name, token_sha256, created_at, kind) \
                 VALUES ($1, '', $2, 'baseline') RETURNING id",
            )
            .bind(name)
            .bind(ms(now))
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?,
        };
        let id = enqueue(
            &mut tx,
            self.blob_store(),
            team_id,
            &segmentations,
            maps.as_deref(),
            note,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}
