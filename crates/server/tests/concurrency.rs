//! Several workers on one queue: every submission claimed and scored once; the upload limits.

mod common;

use std::time::Duration;

use chexlocalize_server::chrono::{self, Utc};
use chexlocalize_server::{
    Db, Scorer, ServerError, Status, SubmitOutcome, WorkerOptions, work_one,
};

/// `submissions` queued submissions shared by `workers` workers on the database at `url`.
async fn shared_queue(url: &str, submissions: usize, workers: usize) {
    let (gt_seg, pred_seg) = common::data();
    let db = Db::connect(url).await.expect("connect");
    let mut cfg = common::config(gt_seg.clone(), 100, Utc::now() + chrono::Duration::days(1));
    cfg.public_fraction = 0.3;
    db.init_competition(&cfg).await.expect("init");
    let token = db.add_team("t").await.expect("team");
    let team = db.team_by_token(&token).await.expect("q").expect("team");
    let bytes = std::fs::read(pred_seg).expect("pred");
    let mut ids = Vec::new();
    for _ in 0..submissions {
        match db
            .submit(&team, bytes.clone(), None, None, Utc::now())
            .await
        {
            Ok(SubmitOutcome::Accepted { id }) => ids.push(id),
            other => panic!("{other:?}"),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..workers {
        let db = db.clone();
        tasks.spawn(async move {
            let mut opts = WorkerOptions::new(Scorer::InProcess);
            opts.worker_id = format!("w{w}");
            opts.heartbeat = Duration::from_millis(100);
            let mut mine = Vec::new();
            while let Some(id) = work_one(&db, &opts).await.expect("work") {
                mine.push(id);
            }
            mine
        });
    }
    let mut claimed = Vec::new();
    let mut busy = 0;
    while let Some(r) = tasks.join_next().await {
        let mine = r.expect("worker");
        busy += usize::from(!mine.is_empty());
        claimed.extend(mine);
    }
    claimed.sort();
    assert_eq!(claimed, ids, "each submission claimed exactly once");
    assert!(busy >= 1);
    eprintln!("{workers} workers scored {submissions} submissions; {busy} of them took some");
    for id in ids {
        let v = db.submission(&team, id).await.expect("q").expect("view");
        assert_eq!(v.status, Status::Scored);
    }
    assert_eq!(db.queue_depth().await.expect("depth"), 0);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_queue_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    shared_queue(
        &format!("sqlite:{}", dir.path().join("c.db").display()),
        12,
        3,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_the_queue_postgres() {
    let Some(url) = common::postgres_url("share").await else {
        return;
    };
    // The case: 2 workers on Postgres share 50 queued submissions.
    shared_queue(&url, 50, 2).await;
    common::drop_postgres(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_and_size_limits() {
    let dir = tempfile::tempdir().expect("tmp");
    let (gt_seg, pred_seg) = common::data();
    let db = Db::connect(&format!("sqlite:{}", dir.path().join("c.db").display()))
        .await
        .expect("connect");
    let mut cfg = common::config(gt_seg.clone(), 5, Utc::now() + chrono::Duration::days(1));
    cfg.total_limit = Some(1);
    let bytes = std::fs::read(pred_seg).expect("pred");
    cfg.max_upload_bytes = bytes.len() as u64;
    db.init_competition(&cfg).await.expect("init");
    let token = db.add_team("t").await.expect("team");
    let team = db.team_by_token(&token).await.expect("q").expect("team");
    let now = Utc::now();
    let big = db
        .submit(&team, bytes.clone(), Some(vec![0]), None, now)
        .await;
    assert!(matches!(big, Err(ServerError::TooLarge { .. })), "{big:?}");
    let first = db
        .submit(&team, bytes.clone(), None, None, now)
        .await
        .expect("first");
    assert!(matches!(first, SubmitOutcome::Accepted { .. }));
    let second = db
        .submit(&team, bytes, None, None, now)
        .await
        .expect("second");
    assert_eq!(second, SubmitOutcome::TotalLimit);
    db.close().await;
}

/// Two processes writing one SQLite file (the server, and `admin add-baseline` or a second
/// worker): a transaction that reads before it writes must wait for the other writer, not
/// fail with "database is locked" (SQLite does not call the busy handler when a reader
/// upgrades to a writer, so a deferred `BEGIN` fails there at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_on_two_sqlite_connections_wait_for_each_other() {
    let dir = tempfile::tempdir().expect("tmp");
    let (gt_seg, pred_seg) = common::data();
    let url = format!("sqlite:{}", dir.path().join("c.db").display());
    let first = Db::connect(&url).await.expect("connect");
    let cfg = common::config(gt_seg.clone(), 100, Utc::now() + chrono::Duration::days(1));
    first.init_competition(&cfg).await.expect("init");
    let second = Db::connect(&url).await.expect("connect again");
    let bytes = std::fs::read(pred_seg).expect("pred");
    let rounds = 40;
    let mut tasks = tokio::task::JoinSet::new();
    for (side, db) in [first.clone(), second.clone()].into_iter().enumerate() {
        let bytes = bytes.clone();
        tasks.spawn(async move {
            for i in 0..rounds {
                // Alternately a new baseline and one that exists: both read, then write.
                let name = format!("baseline {side}-{}", i % 2);
                db.add_baseline(&name, bytes.clone(), None, None)
                    .await
                    .unwrap_or_else(|e| panic!("side {side}, round {i}: {e}"));
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("no writer failed");
    }
    assert_eq!(first.queue_depth().await.expect("depth"), 2 * rounds as u64);
    first.close().await;
    second.close().await;
}
