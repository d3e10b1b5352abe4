//! [`Db`]: the pool, migrations, the competition row and the content-addressed blobs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chexlocalize::{Options, PolygonFill, segment_annotations};
use chexlocalize_io::{Limits, Segmentations};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Row};

use crate::blobs::{BlobStore, get_blob, put_blob};
use crate::config::{Competition, CompetitionConfig, DateTime, public_split};
use crate::error::ServerError;

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file (WAL mode): one machine, the embedded default.
    Sqlite,
    /// A Postgres server: workers on several machines.
    Postgres,
}

/// The server's database: a pool over SQLite or Postgres with one schema. Cheap to clone.
///
/// It is sqlx's `Any` driver rather than two typed pools: every query is written once with
/// `$N` placeholders (which both SQLite and Postgres accept) and portable SQL (`ON CONFLICT`,
/// `RETURNING`); the only per-backend SQL is the migrations (column types) and the job claim
/// (`FOR UPDATE SKIP LOCKED` on Postgres). No query binds an `Option<f64>`: sqlx 0.8.6's
/// `Any` driver sends a NULL double to Postgres as a `float4`, and the cached statement then
/// refuses a later `f64` ("incorrect binary data format"); scores live in JSON columns.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// Where uploads are stored when not in the database (`--data-dir`).
    pub(crate) data_dir: Option<Arc<PathBuf>>,
    /// The leaderboard's comparisons of adjacent ranks, per board.
    pub(crate) gaps: crate::significance::GapCache,
}

/// Unix milliseconds of a time.
pub(crate) fn ms(t: DateTime) -> i64 {
    t.timestamp_millis()
}

/// The time of Unix milliseconds (the epoch for an impossible value).
pub(crate) fn from_ms(ms: i64) -> DateTime {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Db {
    /// Opens `sqlite:PATH` (created if missing, switched to WAL) or `postgres://…` and runs
    /// the migrations.
    pub async fn connect(url: &str) -> Result<Db, ServerError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path.starts_with(":memory:") {
                return Err(ServerError::UnsupportedUrl(url.to_string()));
            }
            let sep = if path.contains('?') { '&' } else { '?' };
            (Backend::Sqlite, format!("sqlite:{path}{sep}mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(ServerError::UnsupportedUrl(url.to_string()));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 10,
            })
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&pool)
                    .await?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
            }
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Db {
            pool,
            backend,
            data_dir: None,
            gaps: Default::default(),
        })
    }

    /// Begins a transaction that writes. On SQLite it is `BEGIN IMMEDIATE`, which takes the
    /// write lock first (waiting up to the busy timeout, 5 s, for another writer): under a
    /// plain deferred `BEGIN`, a transaction that reads and then writes while another
    /// connection holds the write lock fails at once with "database is locked", because SQLite
    /// does not call the busy handler when a reader upgrades to a writer. Every transaction of
    /// this crate writes, so each begins here. On Postgres it is a plain `BEGIN`.
    pub(crate) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, ServerError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (waits for connections in use to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Creates the competition or updates it (a running server sees the change at its next
    /// request): reads `gt_path` (a segmentation JSON, or an annotation JSON whose polygons are
    /// filled as `annotation_to_segmentation.py` does), stores its masks in the database and
    /// draws the public split. Submissions keep their scores: `rescore` after changing the
    /// ground truth, the split or the metric.
    pub async fn init_competition(&self, cfg: &CompetitionConfig) -> Result<(), ServerError> {
        cfg.check(Path::new("competition config"))?;
        let path = cfg.gt_path.clone();
        let gt = tokio::task::spawn_blocking(move || load_gt(&path))
            .await
            .map_err(|e| ServerError::Scorer(format!("ground-truth reader: {e}")))??;
        let gt_json = gt.to_json_string().into_bytes();
        let public = public_split(
            gt.cxrs().iter().map(|c| c.cxr_id.as_str()),
            cfg.public_fraction,
            cfg.split_seed,
        );
        let public_ids = serde_json::to_string(&public)
            .map_err(|e| ServerError::corrupt("competition.public_ids", e))?;
        let config = serde_json::to_string(cfg)
            .map_err(|e| ServerError::corrupt("competition.config", e))?;
        let now = ms(chrono::Utc::now());
        let mut tx = self.write_tx().await?;
        // The ground truth always lives in the database, never in a data folder.
        let sha = put_blob(&mut tx, &gt_json, BlobStore::Database).await?;
        sqlx::query(
            "INSERT INTO competition (id, name, config, gt_sha256, public_ids, gt_cxrs, version, \
             updated_at) VALUES (1, $1, $2, $3, $4, $5, 1, $6) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, config = excluded.config, \
             gt_sha256 = excluded.gt_sha256, public_ids = excluded.public_ids, \
             gt_cxrs = excluded.gt_cxrs, version = competition.version + 1, \
             updated_at = excluded.updated_at",
        )
        .bind(&cfg.name)
        .bind(config)
        .bind(sha)
        .bind(public_ids)
        .bind(gt.len() as i64)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The competition, if initialised.
    pub async fn competition(&self) -> Result<Option<Competition>, ServerError> {
        let Some(row) = sqlx::query(
            "SELECT config, gt_sha256, public_ids, gt_cxrs, version, updated_at FROM competition \
             WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let config: String = row.try_get("config")?;
        let config: CompetitionConfig = serde_json::from_str(&config)
            .map_err(|e| ServerError::corrupt("competition.config", e))?;
        let public = self.public_ids_of(&row)?;
        let gt_sha256: String = row.try_get("gt_sha256")?;
        let total = row.try_get::<i64, _>("gt_cxrs")? as usize;
        Ok(Some(Competition {
            config,
            gt_sha256,
            public_cxrs: public.len(),
            private_cxrs: total.saturating_sub(public.len()),
            version: row.try_get("version")?,
            updated_at: from_ms(row.try_get("updated_at")?),
        }))
    }

    fn public_ids_of(&self, row: &sqlx::any::AnyRow) -> Result<Vec<String>, ServerError> {
        let public: String = row.try_get("public_ids")?;
        serde_json::from_str(&public).map_err(|e| ServerError::corrupt("competition.public_ids", e))
    }

    /// The stored ground truth (segmentation JSON bytes), the public CXR ids and the config:
    /// what a worker needs. Never handed to a page or an API answer.
    pub(crate) async fn scoring_context(
        &self,
    ) -> Result<(Vec<u8>, Vec<String>, CompetitionConfig), ServerError> {
        let row = sqlx::query("SELECT config, gt_sha256, public_ids FROM competition WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or(ServerError::NoCompetition)?;
        let config: String = row.try_get("config")?;
        let config: CompetitionConfig = serde_json::from_str(&config)
            .map_err(|e| ServerError::corrupt("competition.config", e))?;
        let sha: String = row.try_get("gt_sha256")?;
        Ok((self.blob(&sha).await?, self.public_ids_of(&row)?, config))
    }
}

/// Reads the ground truth: a segmentation JSON, else an annotation JSON filled into masks.
fn load_gt(path: &Path) -> Result<Segmentations, ServerError> {
    let limits = Limits::BUILTIN;
    match chexlocalize_io::read_segmentations(path, &limits) {
        Ok(s) => Ok(s),
        Err(seg_err) => match chexlocalize_io::read_annotations(path, &limits) {
            Ok(ann) => segment_annotations(&ann, path, PolygonFill::Pillow, &Options::default())
                .map_err(|e| ServerError::GroundTruth {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                }),
            Err(ann_err) => Err(ServerError::GroundTruth {
                path: path.to_path_buf(),
                message: format!(
                    "expected a segmentation JSON ({seg_err}) or an annotation JSON ({ann_err})"
                ),
            }),
        },
    }
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
        get_blob(
            &self.pool,
            self.data_dir.as_deref().map(|p| p.as_path()),
            sha,
        )
        .await
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
        let mut tx = db.write_tx().await.expect("tx");
        let sha = put_blob(&mut tx, b"{\"a\": 1}", db.blob_store())
            .await
            .expect("put");
        tx.commit().await.expect("commit");
        let file = crate::blobs::blob_path(&tmp.path().join("data"), &sha);
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
