//! Uploads, content-addressed: stored once under their SHA-256, in the database by default (a
//! worker on another machine then needs only the database URL), or as files in a data folder
//! (`serve --data-dir`, shared by every worker) with only their hash and size in the database.
//!
//! A row whose `bytes` are shorter than its `size` is a file `DIR/ab/abcdef…` (the first two hex
//! digits, then the whole hash), written atomically and never executed or extracted; it is
//! checked against its hash when read, so a changed or truncated file fails its submission
//! rather than being scored. The ground truth always stays in the database.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sqlx::{Any, Row, Transaction};

use crate::db::{Db, sha256_hex};
use crate::error::ServerError;

/// Where [`put_blob`] puts the bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum BlobStore<'a> {
    /// In the `blobs` table.
    Database,
    /// In a file under this folder; the table keeps the hash and the size.
    Dir(&'a Path),
}

fn blob_path(dir: &Path, sha: &str) -> PathBuf {
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

impl Db {
    /// This database with uploads stored as files under `dir` (created if missing); every
    /// worker must be given the same folder.
    pub fn with_data_dir(mut self, dir: &Path) -> Result<Db, ServerError> {
        std::fs::create_dir_all(dir).map_err(|source| ServerError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        self.data_dir = Some(Arc::new(dir.to_path_buf()));
        Ok(self)
    }

    /// Where new uploads go.
    pub(crate) fn blob_store(&self) -> BlobStore<'_> {
        match &self.data_dir {
            Some(d) => BlobStore::Dir(d),
            None => BlobStore::Database,
        }
    }

    /// A stored blob's bytes, from the database or the data folder (checked against its hash).
    pub(crate) async fn blob(&self, sha: &str) -> Result<Vec<u8>, ServerError> {
        let row = sqlx::query("SELECT size, bytes FROM blobs WHERE sha256 = $1")
            .bind(sha)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| ServerError::corrupt(format!("blob {sha}"), "missing"))?;
        let size: i64 = row.try_get("size")?;
        let bytes: Vec<u8> = row.try_get("bytes")?;
        if bytes.len() as i64 == size {
            return Ok(bytes);
        }
        let Some(dir) = &self.data_dir else {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn uploads_in_a_data_folder_round_trip_and_are_checked() {
        let tmp = tempfile::tempdir().expect("tmp");
        let url = format!("sqlite:{}", tmp.path().join("c.db").display());
        let plain = Db::connect(&url).await.expect("db");
        let db = plain
            .clone()
            .with_data_dir(&tmp.path().join("data"))
            .expect("dir");
        let mut tx = db.pool.begin().await.expect("tx");
        let sha = put_blob(&mut tx, b"{\"a\": 1}", db.blob_store())
            .await
            .expect("put");
        tx.commit().await.expect("commit");
        let file = blob_path(&tmp.path().join("data"), &sha);
        assert_eq!(std::fs::read(&file).expect("a file"), b"{\"a\": 1}");
        let row = sqlx::query("SELECT bytes FROM blobs WHERE sha256 = $1")
            .bind(&sha)
            .fetch_one(&db.pool)
            .await
            .expect("row");
        assert!(
            row.try_get::<Vec<u8>, _>("bytes")
                .expect("bytes")
                .is_empty()
        );
        assert_eq!(db.blob(&sha).await.expect("read"), b"{\"a\": 1}");
        // Without the folder: a clear error, not empty bytes.
        let e = plain.blob(&sha).await.expect_err("no folder");
        assert!(e.to_string().contains("--data-dir"), "{e}");
        // A changed file is refused.
        std::fs::write(&file, b"{\"a\": 2}").expect("tamper");
        let e = db.blob(&sha).await.expect_err("tampered");
        assert!(e.to_string().contains("SHA-256"), "{e}");
        db.close().await;
    }
}
