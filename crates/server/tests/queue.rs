//! The queue's guarantees: an expired lease is claimed again and the first worker's late
//! result is refused (scored once); a crashing, hanging or babbling scorer fails that
//! submission with a reason; a job claimed too often is failed.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use chexlocalize_server::chrono::{self, Utc};
use chexlocalize_server::{
    Db, Finish, ScoreOutput, Scorer, Status, SubmitOutcome, Team, WorkerOptions, claim_job,
    finish_job, heartbeat, work_one,
};

async fn setup(url: &str) -> (Db, Team, i64) {
    let (gt_seg, pred_seg) = common::data();
    let db = Db::connect(url).await.expect("connect");
    let cfg = common::config(gt_seg.clone(), 10, Utc::now() + chrono::Duration::days(1));
    db.init_competition(&cfg).await.expect("init");
    let token = db.add_team("t").await.expect("team");
    let team = db.team_by_token(&token).await.expect("q").expect("team");
    let bytes = std::fs::read(pred_seg).expect("pred");
    let Ok(SubmitOutcome::Accepted { id }) = db.submit(&team, bytes, None, None, Utc::now()).await
    else {
        panic!("accepted")
    };
    (db, team, id)
}

fn sqlite(dir: &tempfile::TempDir) -> String {
    format!("sqlite:{}", dir.path().join("q.db").display())
}

async fn lease_expiry(url: &str) {
    let (db, team, id) = setup(url).await;
    let first = claim_job(&db, "w1", Duration::from_millis(600))
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(first.submission_id, id);
    assert_eq!(
        claim_job(&db, "w2", Duration::from_secs(60))
            .await
            .expect("claim"),
        None,
        "leased"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut opts = WorkerOptions::new(Scorer::InProcess);
    opts.worker_id = "w2".into();
    assert_eq!(work_one(&db, &opts).await.expect("work"), Some(id));
    let scored = db.submission(&team, id).await.expect("q").expect("s");
    assert_eq!(scored.status, Status::Scored);
    // The first worker wakes up: its heartbeat and its result are refused.
    assert!(
        !heartbeat(&db, &first, Duration::from_secs(60))
            .await
            .expect("beat")
    );
    let late = ScoreOutput::Failed {
        reason: "late".into(),
    };
    assert_eq!(
        finish_job(&db, &first, &late, 1).await.expect("finish"),
        Finish::LeaseLost
    );
    let after = db.submission(&team, id).await.expect("q").expect("s");
    assert_eq!(after, scored, "scored exactly once");
    assert_eq!(work_one(&db, &opts).await.expect("work"), None);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_is_claimed_again_and_scored_once_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    lease_expiry(&sqlite(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_lease_is_claimed_again_and_scored_once_postgres() {
    let Some(url) = common::postgres_url("lease").await else {
        return;
    };
    lease_expiry(&url).await;
    common::drop_postgres(&url).await;
}

async fn fails_with(scorer: Scorer, want: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, team, id) = setup(&sqlite(&dir)).await;
    let opts = WorkerOptions::new(scorer);
    assert_eq!(work_one(&db, &opts).await.expect("work"), Some(id));
    let v = db.submission(&team, id).await.expect("q").expect("s");
    assert_eq!(v.status, Status::Failed);
    let reason = v.reason.unwrap_or_default();
    assert!(reason.contains(want), "{reason:?} should contain {want:?}");
    db.close().await;
}

fn sh(script: &str, timeout: Duration) -> Scorer {
    Scorer::ChildProcess {
        program: PathBuf::from("sh"),
        args: vec!["-c".into(), script.into()],
        timeout,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_scorer_fails_the_submission_with_a_reason() {
    fails_with(
        sh("kill -9 $$", Duration::from_secs(30)),
        "the scorer crashed",
    )
    .await;
    fails_with(
        sh("cat >/dev/null; exit 3", Duration::from_secs(30)),
        "exit status: 3",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_or_babbling_scorer_fails_the_submission() {
    fails_with(sh("sleep 30", Duration::from_millis(300)), "longer than").await;
    fails_with(
        sh("cat >/dev/null; echo nope", Duration::from_secs(30)),
        "not a score",
    )
    .await;
    fails_with(
        Scorer::ChildProcess {
            program: PathBuf::from("/nonexistent/scorer"),
            args: vec![],
            timeout: Duration::from_secs(5),
        },
        "could not be started",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_keeps_dying_is_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, team, id) = setup(&sqlite(&dir)).await;
    let mut opts = WorkerOptions::new(Scorer::InProcess);
    opts.max_attempts = 2;
    for w in ["dies-1", "dies-2"] {
        claim_job(&db, w, Duration::from_millis(1))
            .await
            .expect("claim")
            .expect("job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(work_one(&db, &opts).await.expect("work"), Some(id));
    let v = db.submission(&team, id).await.expect("q").expect("s");
    assert_eq!(v.status, Status::Failed);
    assert!(v.reason.unwrap_or_default().contains("2 attempts"));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_go_validating_then_scoring_then_final() {
    let dir = tempfile::tempdir().expect("tmp");
    let (db, team, id) = setup(&sqlite(&dir)).await;
    let script = "cat >/dev/null; sleep 0.5; echo validated; sleep 0.5; \
                  echo '{\"outcome\": \"failed\", \"reason\": \"test scorer\"}'";
    let opts = WorkerOptions::new(sh(script, Duration::from_secs(30)));
    let worker = {
        let db = db.clone();
        tokio::spawn(async move { work_one(&db, &opts).await })
    };
    let mut seen = Vec::new();
    loop {
        let s = db
            .submission(&team, id)
            .await
            .expect("q")
            .expect("s")
            .status;
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        if s.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(worker.await.expect("join").expect("work"), Some(id));
    let want = [Status::Validating, Status::Scoring, Status::Failed];
    assert!(seen.ends_with(&want), "{seen:?}");
    let v = db.submission(&team, id).await.expect("q").expect("s");
    assert_eq!(v.reason.as_deref(), Some("test scorer"));
    db.close().await;
}
