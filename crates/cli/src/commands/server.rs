//! The competition server's commands: `score-job` (hidden; what a worker runs per submission),
//! `worker` and `admin`.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use chexlocalize::Outcome;
use chexlocalize_server::{
    CompetitionConfig, Db, Rescore, ScoreInput, Scorer, TeamKind, VALIDATED_LINE, WorkerOptions,
    run_worker, score_submission_with,
};
use clap::{Args, Subcommand};

/// Arguments of `score-job`: none (the input comes on stdin).
#[derive(Args, Debug)]
pub(crate) struct ScoreJobArgs {}

/// Arguments of `worker`.
#[derive(Args, Debug)]
pub(crate) struct WorkerArgs {
    /// The database: `sqlite:PATH` or `postgres://…`.
    #[arg(long)]
    db: String,
    /// Workers in this process (each scores one submission at a time, in a child process).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    workers: u32,
    /// Seconds a claim on a job lasts without a heartbeat: 1 to 3600 (how soon another worker
    /// takes over the job of one that was killed).
    #[arg(long = "lease-seconds", default_value_t = 60, value_parser = crate::args::int_in::<u64>(1, 3600, "a number of seconds"))]
    lease_seconds: u64,
    /// The server's `--data-dir`, when it stores uploads as files.
    #[arg(long = "data-dir")]
    data_dir: Option<PathBuf>,
}

/// Arguments of `admin`.
#[derive(Args, Debug)]
pub(crate) struct AdminArgs {
    /// The database: `sqlite:PATH` or `postgres://…`.
    #[arg(long)]
    db: String,
    #[command(subcommand)]
    action: AdminAction,
}

#[derive(Subcommand, Debug)]
enum AdminAction {
    /// Create or update the competition from a TOML file.
    Init {
        /// The competition's TOML file.
        #[arg(long)]
        config: PathBuf,
    },
    /// Add a team and print its token (shown once).
    #[command(name = "add-team")]
    AddTeam {
        /// The team's name.
        name: String,
    },
    /// Revoke a team's token.
    #[command(name = "revoke-team")]
    RevokeTeam {
        /// The team's name.
        name: String,
    },
    /// Queue an organisers' baseline (e.g. their Grad-CAM/Otsu masks, or the human benchmark):
    /// scored like a submission, shown on the leaderboard beside the teams, never ranked. Adding
    /// one again under the same name replaces what it shows.
    #[command(name = "add-baseline")]
    AddBaseline {
        /// The baseline's name as the leaderboard shows it.
        name: String,
        /// Its segmentation JSON (the format teams submit).
        #[arg(long)]
        seg_path: PathBuf,
        /// Its per-pixel confidence maps, for the hit rate (packed as the submit client does).
        #[arg(long)]
        map_dir: Option<PathBuf>,
        /// A note kept with the submission.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the teams and baselines.
    List,
    /// Queue a submission (an id) or every submission (`all`) for scoring again.
    Rescore {
        /// A submission id or `all`.
        which: String,
    },
    /// Print every submission and its scores as CSV.
    Export,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// `score-job`: a [`ScoreInput`] on stdin; on stdout, `validated` once the validator passed
/// it, then the [`chexlocalize_server::ScoreOutput`] JSON line.
pub(crate) fn score_job(_: &ScoreJobArgs) -> anyhow::Result<Outcome> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading the score input on stdin")?;
    let input = ScoreInput::from_bytes(&bytes).map_err(anyhow::Error::msg)?;
    let out = score_submission_with(input, || {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{VALIDATED_LINE}");
        let _ = stdout.flush();
    });
    let json = serde_json::to_string(&out).context("writing the score")?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(json.as_bytes())?;
    stdout.write_all(b"\n")?;
    Ok(Outcome::default())
}

/// `worker`: scores queued submissions until SIGTERM or Ctrl-C.
pub(crate) fn worker(args: &WorkerArgs) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let mut db = Db::connect(&args.db).await?;
        if let Some(dir) = &args.data_dir {
            db = db.with_data_dir(dir)?;
        }
        let scorer = Scorer::current_exe()?;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..args.workers {
            let db = db.clone();
            let mut opts = WorkerOptions::new(scorer.clone());
            opts.lease = std::time::Duration::from_secs(args.lease_seconds);
            opts.heartbeat = opts.lease / 3;
            let mut stopped = stopped.clone();
            tasks.spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                run_worker(&db, &opts, shutdown).await
            });
        }
        eprintln!(
            "{} worker(s) scoring from {}",
            args.workers,
            redact(&args.db)
        );
        shutdown_signal().await;
        let _ = stop.send(true);
        while let Some(r) = tasks.join_next().await {
            r.context("a worker task")??;
        }
        db.close().await;
        Ok(Outcome::default())
    })
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

/// Ctrl-C, or SIGTERM on Unix.
pub(crate) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `admin`: the organisers' commands.
pub(crate) fn admin(args: &AdminArgs) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        let db = Db::connect(&args.db).await?;
        let mut out = std::io::stdout().lock();
        match &args.action {
            AdminAction::Init { config } => {
                let cfg = CompetitionConfig::from_toml_file(config)?;
                db.init_competition(&cfg).await?;
                let c = db
                    .competition()
                    .await?
                    .context("the competition just written")?;
                writeln!(
                    out,
                    "competition {:?} version {}: {} public and {} private CXRs, phase ends {}",
                    c.config.name,
                    c.version,
                    c.public_cxrs,
                    c.private_cxrs,
                    c.config.phase_end.to_rfc3339()
                )?;
            }
            AdminAction::AddTeam { name } => writeln!(out, "{}", db.add_team(name).await?)?,
            AdminAction::RevokeTeam { name } => db.revoke_team(name).await?,
            AdminAction::AddBaseline {
                name,
                seg_path,
                map_dir,
                note,
            } => {
                let seg = std::fs::read(seg_path)
                    .with_context(|| format!("--seg-path {}", seg_path.display()))?;
                let maps = match map_dir {
                    Some(d) => Some(chexlocalize_server::pack_map_dir(d)?),
                    None => None,
                };
                let id = db.add_baseline(name, seg, maps, note.clone()).await?;
                writeln!(out, "{id}")?;
            }
            AdminAction::List => {
                writeln!(out, "id\tname\tkind\tsubmissions\tcreated_at\trevoked_at")?;
                for t in db.teams().await? {
                    let kind = match t.kind {
                        TeamKind::Team => "team",
                        TeamKind::Baseline => "baseline",
                    };
                    writeln!(
                        out,
                        "{}\t{}\t{kind}\t{}\t{}\t{}",
                        t.id,
                        t.name,
                        t.submissions,
                        t.created_at.to_rfc3339(),
                        t.revoked_at.map(|r| r.to_rfc3339()).unwrap_or_default()
                    )?;
                }
            }
            AdminAction::Rescore { which } => {
                let which = if which == "all" {
                    Rescore::All
                } else {
                    Rescore::One(which.parse().with_context(|| {
                        format!("rescore: expected a submission id or `all`, found {which:?}")
                    })?)
                };
                writeln!(out, "{} submission(s) queued", db.rescore(which).await?)?;
            }
            AdminAction::Export => out.write_all(db.export_csv().await?.as_bytes())?,
        }
        db.close().await;
        Ok(Outcome::default())
    })
}
