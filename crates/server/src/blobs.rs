//! Uploads, content-addressed: stored once under their SHA-256, in the database by default (a
//! worker on another machine then needs only the database URL), or as files in a data folder
//! (`serve --data-dir`, shared by every worker) with only their hash and size in the database.
//!
//! A row whose `bytes` are shorter than its `size` is a file `DIR/ab/abcdef…` (the first two hex
//! digits, then the whole hash), written atomically and never executed or extracted; it is
//! checked against its hash when read, so a changed or truncated file fails its submission
//! rather than being scored. The ground truth always stays in the database.

use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::path::{Path, PathBuf};

use crate::error::ServerError;

/// SHA-256 as lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Where [`put_blob`] puts the bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BlobStore<'a> {
    /// In the `blobs` table.
    Database,
    /// In a file under this folder; the table keeps the hash and the size.
    Dir(&'a Path),
}

pub(crate) fn blob_path(dir: &Path, sha: &str) -> PathBuf {
    dir.join(&sha[..2]).join(sha)
}

/// Stores `bytes` under their SHA-256 (once) and returns the hash.
pub(crate) async fn put_blob(
    tx: &mut Transaction<'_, Any>,
    bytes: &[u8],
    store: BlobStore<'_>,
) -> Result<String, ServerError> {
    let sha = sha256_hex(bytes);
    match store {
        BlobStore::Database => {
            // Also turns a file row of the same content into a database row.
            sqlx::query(
                "INSERT INTO blobs (sha256, size, bytes) VALUES ($1, $2, $3) \
                 ON CONFLICT (sha256) DO UPDATE SET bytes = excluded.bytes",
            )
            .bind(&sha)
            .bind(bytes.len() as i64)
            .bind(bytes.to_vec())
            .execute(&mut **tx)
            .await?;
        }
        BlobStore::Dir(dir) => {
            let path = blob_path(dir, &sha);
            let data = bytes.to_vec();
            tokio::task::spawn_blocking(move || {
                if std::fs::read(&path).is_ok_and(|old| old == data) {
                    return Ok(());
                }
                // Creates the `ab/` folder; the file appears whole or not at all.
                chexlocalize_io::write_atomic(&path, &data)
            })
            .await
            .map_err(|e| ServerError::Scorer(format!("storing an upload: {e}")))?
            .map_err(|e| ServerError::Scorer(format!("storing an upload: {e}")))?;
            sqlx::query(
                "INSERT INTO blobs (sha256, size, bytes) VALUES ($1, $2, $3) \
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&sha)
            .bind(bytes.len() as i64)
            .bind(Vec::<u8>::new())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(sha)
}

/// A stored blob's bytes, from the database or, for a file row, from `data_dir` (checked
/// against its hash).
pub(crate) async fn get_blob(
    pool: &AnyPool,
    data_dir: Option<&Path>,
    sha: &str,
) -> Result<Vec<u8>, ServerError> {
    let row = sqlx::query("SELECT size, bytes FROM blobs WHERE sha256 = $1")
        .bind(sha)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| ServerError::corrupt(format!("blob {sha}"), "missing"))?;
    let size: i64 = row.try_get("size")?;
    let bytes: Vec<u8> = row.try_get("bytes")?;
    if bytes.len() as i64 == size {
        return Ok(bytes);
    }
    let Some(dir) = data_dir else {
        return Err(ServerError::corrupt(
            format!("blob {sha}"),
            "stored in a data folder: give this process the server's --data-dir",
        ));
    };
    let path = blob_path(dir, sha);
    let p = path.clone();
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(&p))
        .await
        .map_err(|e| ServerError::Scorer(format!("reading an upload: {e}")))?
        .map_err(|source| ServerError::Io {
            path: path.clone(),
            source,
        })?;
    if sha256_hex(&bytes) != sha {
        return Err(ServerError::corrupt(
            path.display().to_string(),
            "its content no longer matches its SHA-256",
        ));
    }
    Ok(bytes)
}
