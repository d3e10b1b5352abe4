//! What the HTTP handlers share ([`AppState`]) and read from every request (cookies): apart
//! from the routes, so that the API and the admin page both use it without importing each
//! other.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

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
}

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Uploads accepted.
    pub uploads: AtomicU64,
    /// Uploads refused (size, limit, token, format).
    pub refused: AtomicU64,
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
