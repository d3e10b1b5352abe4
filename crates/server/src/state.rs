//! What the HTTP handlers share ([`AppState`]) and read from every request (cookies): apart
//! from the routes, so that the API and the admin page both use it without importing each
//! other.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use axum::http::{HeaderMap, header};

use crate::Db;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// SHA-256 of the admin token (the admin page), when one is set.
    pub admin_token_sha256: Option<[u8; 32]>,
    /// Largest upload, in bytes (the competition's `max_upload_bytes`).
    pub max_upload_bytes: u64,
    /// Requests per team and minute.
    pub team_rate: TeamRate,
}

/// Per-team request limits on everything a token opens (the API and the team page): a token
/// bucket per team (`governor`), refilled at the rate, as deep as a minute's requests.
#[derive(Clone)]
pub struct TeamRate {
    per_minute: Option<NonZeroU32>,
    limiter: Option<Arc<DefaultKeyedRateLimiter<i64>>>,
}

impl TeamRate {
    /// At most `per_minute` requests a minute per team (`None`: unlimited).
    pub fn new(per_minute: Option<NonZeroU32>) -> Self {
        TeamRate {
            per_minute,
            limiter: per_minute.map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
        }
    }

    /// `Ok` when `team` may make one more request now; else the rate and the seconds until it
    /// may (at least 1).
    pub(crate) fn check(&self, team: &crate::Team) -> Result<(), (u32, u64)> {
        let (Some(limiter), Some(n)) = (&self.limiter, self.per_minute) else {
            return Ok(());
        };
        limiter.check_key(&team.id).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            (n.get(), wait.as_secs().max(1))
        })
    }
}

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Uploads accepted.
    pub uploads: AtomicU64,
    /// Uploads refused (size, limit, token, format).
    pub refused: AtomicU64,
    /// Requests refused by the per-team rate limit.
    pub rate_limited: AtomicU64,
}

/// A cookie's value.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}
