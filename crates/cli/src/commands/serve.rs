//! `chexlocalize serve`: the competition server (API, pages and scoring workers).

use std::net::SocketAddr;

use anyhow::{Context, Result};
use chexlocalize_server::{Db, Scorer, ServeOptions};
use clap::Args;

/// Arguments of `chexlocalize serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The database: `sqlite:PATH` (created if missing) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long)]
    db: String,
    /// Address to listen on, e.g. `127.0.0.1:8080` (port 0: any free port, printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Scoring workers in this process: 0 to 64 (0: scoring left to `chexlocalize worker`s).
    #[arg(long, default_value_t = 1, value_parser = crate::args::int_in::<usize>(0, 64, "a number of workers"))]
    workers: usize,
    /// A token that opens the admin page (`/admin`); none by default.
    #[arg(
        long = "admin-token",
        env = "CHEXLOCALIZE_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,
    /// Seconds a worker's claim on a job lasts without a heartbeat: 1 to 3600 (how soon the
    /// job of a killed server is scored again).
    #[arg(long = "lease-seconds", default_value_t = 60, value_parser = crate::args::int_in::<u64>(1, 3600, "a number of seconds"))]
    lease_seconds: u64,
    /// Requests a team's token may make per minute (API and team page; past it: 429 with
    /// Retry-After): 0 to 1000000, 0 for no limit.
    #[arg(long = "team-rate", default_value_t = 600, value_parser = crate::args::int_in::<u32>(0, 1_000_000, "requests per minute"))]
    team_rate: u32,
    /// Store uploads as files in this folder (content-addressed) instead of in the database;
    /// every `chexlocalize worker` must then be given the same folder.
    #[arg(long = "data-dir")]
    data_dir: Option<std::path::PathBuf>,
}

/// Runs the server until SIGTERM or Ctrl-C.
pub(crate) fn serve(a: &ServeArgs) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let mut db = Db::connect(&a.db).await?;
        if let Some(dir) = &a.data_dir {
            db = db.with_data_dir(dir)?;
        }
        let options = ServeOptions {
            bind: a.bind,
            workers: a.workers,
            scorer: Scorer::current_exe()?,
            admin_token: a.admin_token.clone(),
            lease: std::time::Duration::from_secs(a.lease_seconds),
            team_requests_per_minute: std::num::NonZeroU32::new(a.team_rate),
        };
        chexlocalize_server::serve(db, options, shutdown_signal()).await?;
        Ok::<(), chexlocalize_server::ServerError>(())
    })?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
