//! [`serve`]: the HTTP server and its scoring workers in one process, until a shutdown signal.

use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::http::{AppState, Metrics, router};
use crate::{Db, Scorer, ServerError, WorkerOptions, run_worker};

/// How [`serve`] runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on (port 0: any free port; the one chosen is printed).
    pub bind: SocketAddr,
    /// Scoring workers in this process (0: none, scoring left to `chexlocalize worker`s).
    pub workers: usize,
    /// How the workers score.
    pub scorer: Scorer,
    /// A token that opens the admin page, if any.
    pub admin_token: Option<String>,
    /// How long a worker's claim on a job lasts without a heartbeat (renewed every third of
    /// it): how soon the job of a killed worker is scored by another.
    pub lease: std::time::Duration,
    /// Requests a team's token may make per minute (API and team page; `None`: unlimited).
    pub team_requests_per_minute: Option<std::num::NonZeroU32>,
}

/// Listens on `options.bind`, prints `listening on http://ADDR` to stdout once it accepts
/// connections, runs `options.workers` scoring workers, and stops when `shutdown` resolves:
/// requests in flight are answered, and a submission being scored is finished first.
pub async fn serve(
    db: Db,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|source| ServerError::Io {
            path: options.bind.to_string().into(),
            source,
        })?;
    serve_listener(db, listener, options, shutdown).await
}

/// [`serve`] on a listener bound by the caller (tests bind `127.0.0.1:0` and read the port).
pub async fn serve_listener(
    db: Db,
    listener: tokio::net::TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map_err(|source| ServerError::Io {
        path: "listening socket".into(),
        source,
    })?;
    let max_upload = db
        .competition()
        .await?
        .map_or(crate::DEFAULT_MAX_UPLOAD_BYTES, |c| {
            c.config.max_upload_bytes
        });
    let state = AppState {
        db: db.clone(),
        metrics: Arc::new(Metrics::default()),
        admin_token_sha256: options.admin_token.as_deref().map(crate::sha256),
        max_upload_bytes: max_upload,
        team_rate: crate::TeamRate::new(options.team_requests_per_minute),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut workers = Vec::new();
    for _ in 0..options.workers {
        let (db, mut rx) = (db.clone(), stop_rx.clone());
        let mut opts = WorkerOptions::new(options.scorer.clone());
        opts.lease = options.lease;
        opts.heartbeat = options.lease / 3;
        workers.push(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            run_worker(&db, &opts, stop).await
        }));
    }
    println!("listening on http://{addr}");
    let _ = std::io::stdout().flush();
    let app = router(state);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServerError::Io {
            path: addr.to_string().into(),
            source,
        });
    let _ = stop_tx.send(true);
    for w in workers {
        if let Ok(Err(e)) = w.await {
            eprintln!("worker: {}", chexlocalize_io::chain_text(&e));
        }
    }
    served
}
