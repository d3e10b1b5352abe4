//! Teams and their tokens: 256-bit random, stored as SHA-256, compared in constant time.

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use subtle::ConstantTimeEq;

use crate::blobs::sha256_hex;
use crate::config::DateTime;
use crate::db::{Db, from_ms, ms};
use crate::error::ServerError;

/// A team, as authenticated by its token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Team {
    /// Its row id.
    pub id: i64,
    /// Its name.
    pub name: String,
}

/// What a row of the teams table is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    /// A competing team, with a token.
    Team,
    /// An organisers' baseline (`admin add-baseline`): shown beside the teams, never ranked,
    /// no token.
    Baseline,
}

impl TeamKind {
    pub(crate) fn parse(s: &str) -> TeamKind {
        if s == "baseline" {
            TeamKind::Baseline
        } else {
            TeamKind::Team
        }
    }
}

/// A team as the admin lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamInfo {
    /// Its row id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// A team or a baseline.
    pub kind: TeamKind,
    /// When it was added.
    pub created_at: DateTime,
    /// When its token was revoked, if it was.
    pub revoked_at: Option<DateTime>,
    /// Its submissions, of any status.
    pub submissions: i64,
}

pub(crate) fn check_name(name: &str) -> Result<(), ServerError> {
    let n = name.chars().count();
    if n == 0 || n > 64 || name.chars().any(char::is_control) || name.trim() != name {
        return Err(ServerError::BadTeamName(name.to_string()));
    }
    Ok(())
}

/// A new token: 32 random bytes as 64 hex digits.
fn new_token() -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServerError::Scorer(format!("the system's random source failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Db {
    /// Adds a team and returns its token: shown this once, only its SHA-256 is stored.
    pub async fn add_team(&self, name: &str) -> Result<String, ServerError> {
        check_name(name)?;
        let token = new_token()?;
        let r =
            sqlx::query("INSERT INTO teams (name, token_sha256, created_at) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(sha256_hex(token.as_bytes()))
                .bind(ms(chrono::Utc::now()))
                .execute(&self.pool)
                .await;
        match r {
            Ok(_) => Ok(token),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(ServerError::DuplicateTeam(name.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes a team's token: it can no longer submit or read; its rows leave the
    /// leaderboard. Revoking twice is not an error.
    pub async fn revoke_team(&self, name: &str) -> Result<(), ServerError> {
        let r =
            sqlx::query("UPDATE teams SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
                .bind(ms(chrono::Utc::now()))
                .bind(name)
                .execute(&self.pool)
                .await?;
        if r.rows_affected() == 0 {
            let exists = sqlx::query("SELECT id FROM teams WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
            if exists.is_none() {
                return Err(ServerError::UnknownTeam(name.to_string()));
            }
        }
        Ok(())
    }

    /// Every team, by id.
    pub async fn teams(&self) -> Result<Vec<TeamInfo>, ServerError> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, t.kind, t.created_at, t.revoked_at, \
             (SELECT COUNT(*) FROM submissions s WHERE s.team_id = t.id) AS n \
             FROM teams t ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TeamInfo {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    kind: TeamKind::parse(&r.try_get::<String, _>("kind")?),
                    created_at: from_ms(r.try_get("created_at")?),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms),
                    submissions: r.try_get("n")?,
                })
            })
            .collect()
    }

    /// The team of a token, unless unknown or revoked. Every stored hash is compared in
    /// constant time (no early exit, no database index on the secret).
    pub async fn team_by_token(&self, token: &str) -> Result<Option<Team>, ServerError> {
        let digest = Sha256::digest(token.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let rows = sqlx::query(
            "SELECT id, name, token_sha256 FROM teams WHERE revoked_at IS NULL AND kind = 'team'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut found = None;
        for r in &rows {
            let stored: String = r.try_get("token_sha256")?;
            if bool::from(stored.as_bytes().ct_eq(hex.as_bytes())) {
                found = Some(Team {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                });
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hex_and_differ() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn team_names_are_checked() {
        assert!(check_name("team a").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(" x").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
