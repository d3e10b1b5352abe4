//! End to end on SQLite (and Postgres when `DATABASE_URL` is set): init, teams, submissions
//! (valid, invalid, over the daily limit), the queue worked until empty, statuses, and the
//! leaderboard's numbers against `chexlocalize::evaluate` on the same split.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use chexlocalize::{Bootstrap, Evaluate, Metric, Options, Predictor, Scoring, evaluate};
use chexlocalize_io::{Limits, Segmentations};
use chexlocalize_server::chrono::{Duration, Utc};
use chexlocalize_server::{
    Db, Phase, Rescore, Scorer, ServerError, Status, SubmitOutcome, WorkerOptions, public_split,
    work_one,
};

fn subset(segs: &Segmentations, keep: impl Fn(&str) -> bool) -> Segmentations {
    let mut out = Segmentations::new();
    for c in segs.cxrs().iter().filter(|c| keep(&c.cxr_id)) {
        for (t, r) in &c.masks {
            out.insert(&c.cxr_id, *t, r.clone()).expect("unique");
        }
    }
    out
}

/// The competition's bootstrap replicates in this test.
const REPLICATES: usize = 300;

/// `chexlocalize::evaluate` on the CXRs of `keep`: per task name, (lower, mean, upper).
fn expected(
    dir: &Path,
    gt: &Segmentations,
    pred: &Segmentations,
    keep: impl Fn(&str) -> bool + Copy,
) -> Vec<(String, f64, f64, f64)> {
    std::fs::create_dir_all(dir).expect("dir");
    let (g, p) = (dir.join("gt.json"), dir.join("pred.json"));
    chexlocalize_io::write_segmentations(&g, &subset(gt, keep)).expect("gt");
    chexlocalize_io::write_segmentations(&p, &subset(pred, keep)).expect("pred");
    let e = evaluate(
        &Evaluate {
            metric: Metric::Iou(Scoring::TruePositivesOnly),
            gt_path: g,
            pred_path: p,
            predictor: Predictor::Saliency,
            save_dir: dir.to_path_buf(),
            bootstrap: Bootstrap {
                seed: 0,
                replicates: REPLICATES,
                ..Bootstrap::default()
            },
        },
        &Options::default(),
    )
    .expect("evaluate");
    e.summary
        .iter()
        .map(|(t, ci)| (t.name().to_string(), ci.lower, ci.mean, ci.upper))
        .collect()
}

fn check_tasks(
    got: &std::collections::BTreeMap<String, chexlocalize_server::TaskScore>,
    want: &[(String, f64, f64, f64)],
) {
    assert_eq!(got.len(), want.len());
    for (name, lower, mean, upper) in want {
        let t = &got[name];
        let f = |x: f64| x.is_finite().then_some(x);
        assert_eq!(
            (t.lower, t.miou, t.upper),
            (f(*lower), f(*mean), f(*upper)),
            "{name}"
        );
    }
}

async fn e2e(url: &str, dir: &Path) {
    let (gt_seg, pred_seg) = common::data();
    let db = Db::connect(url).await.expect("connect");
    let now = Utc::now();
    let mut cfg = common::config(
        common::fixtures().join("gt_annotations_val.json"),
        2,
        now + Duration::days(1),
    );
    // Not eval.py's 1000: the configured count reaches the scorer (the intervals below differ
    // from 1000 replicates' otherwise).
    cfg.bootstrap_replicates = REPLICATES as u32;
    db.init_competition(&cfg).await.expect("init");
    db.init_competition(&cfg).await.expect("init again updates");
    let comp = db.competition().await.expect("read").expect("initialised");
    assert_eq!(comp.version, 2);
    assert_eq!(comp.public_cxrs + comp.private_cxrs, 59);

    let ta = db.add_team("team a").await.expect("team a");
    let tb = db.add_team("team b").await.expect("team b");
    assert!(matches!(
        db.add_team("team a").await,
        Err(ServerError::DuplicateTeam(_))
    ));
    assert_ne!(ta, tb);
    let a = db
        .team_by_token(&ta)
        .await
        .expect("q")
        .expect("team a's token");
    let b = db
        .team_by_token(&tb)
        .await
        .expect("q")
        .expect("team b's token");
    assert_eq!(a.name, "team a");
    assert_eq!(db.team_by_token(&"0".repeat(64)).await.expect("q"), None);

    let valid = std::fs::read(pred_seg).expect("pred");
    let limits = Limits::BUILTIN;
    let pred = chexlocalize_io::read_segmentations(pred_seg, &limits).expect("pred");
    let gt = chexlocalize_io::read_segmentations(gt_seg, &limits).expect("gt");
    let half = subset(&pred, |id| id < "patient90030");
    let invalid = half.to_json_string().into_bytes();

    let submit =
        |team, bytes: &Vec<u8>| db.submit(team, bytes.clone(), None, Some("n".into()), now);
    let Ok(SubmitOutcome::Accepted { id: a1 }) = submit(&a, &valid).await else {
        panic!("a1")
    };
    let Ok(SubmitOutcome::Accepted { id: a2 }) = submit(&a, &invalid).await else {
        panic!("a2")
    };
    match submit(&a, &valid).await.expect("third") {
        SubmitOutcome::DailyLimit { resets_at } => {
            assert!(resets_at > now && resets_at <= now + Duration::days(1))
        }
        other => panic!("expected the daily limit, got {other:?}"),
    }
    let Ok(SubmitOutcome::Accepted { id: b1 }) = submit(&b, &valid).await else {
        panic!("b1")
    };
    assert_eq!(db.queue_depth().await.expect("depth"), 3);
    let v = db.submission(&a, a2).await.expect("q").expect("a2");
    assert_eq!((v.status, v.queue_position), (Status::Queued, Some(2)));
    assert_eq!(
        db.submission(&b, a1).await.expect("q"),
        None,
        "a team sees only its own"
    );

    let opts = WorkerOptions::new(Scorer::InProcess);
    let mut done = Vec::new();
    while let Some(id) = work_one(&db, &opts).await.expect("work") {
        done.push(id);
    }
    assert_eq!(done, [a1, a2, b1]);
    assert_eq!(db.queue_depth().await.expect("depth"), 0);
    let stats = db.stats().await.expect("stats");
    assert_eq!(
        (stats.jobs_queued, stats.jobs_running, stats.finished),
        (0, 0, 3)
    );
    assert_eq!(stats.submissions.get("scored"), Some(&2));
    assert_eq!(stats.submissions.get("invalid"), Some(&1));
    assert_eq!((stats.teams, stats.blobs), (2, 3), "gt, valid, invalid");

    let va1 = db.submission(&a, a1).await.expect("q").expect("a1");
    assert_eq!(va1.status, Status::Scored, "{va1:?}");
    assert!(
        va1.public.is_some() && va1.private.is_none(),
        "private hidden before phase end"
    );
    let va2 = db.submission(&a, a2).await.expect("q").expect("a2");
    assert_eq!(va2.status, Status::Invalid);
    assert!(
        va2.problems.iter().any(|p| p.contains("missing_cxr")),
        "{:?}",
        va2.problems
    );
    let tmp = std::env::temp_dir();
    let tmp = tmp.to_str().unwrap_or("/tmp");
    assert!(
        va2.problems.iter().all(|p| !p.contains(tmp)),
        "{:?}",
        va2.problems
    );
    let list = db.submissions(&a).await.expect("list");
    assert_eq!(
        list.iter().map(|s| s.id).collect::<Vec<_>>(),
        [a2, a1],
        "newest first"
    );

    // The invalid one no longer counts: a third is accepted today.
    assert!(matches!(
        submit(&a, &valid).await,
        Ok(SubmitOutcome::Accepted { .. })
    ));

    // The public leaderboard equals evaluate on the public split.
    let public: BTreeSet<String> =
        public_split(gt.cxrs().iter().map(|c| c.cxr_id.as_str()), 0.5, 7);
    let want_public = expected(&dir.join("public"), &gt, &pred, |id| public.contains(id));
    let lb = db.leaderboard(now).await.expect("leaderboard");
    assert_eq!(lb.phase, Phase::Public);
    assert_eq!(lb.rows.len(), 2);
    assert_eq!((lb.rows[0].submission, lb.rows[0].rank), (a1, 1));
    assert_eq!(
        (lb.rows[1].submission, lb.rows[1].rank),
        (b1, 1),
        "equal scores, equal rank"
    );
    check_tasks(&lb.rows[0].scores.tasks, &want_public);
    assert!(lb.rows[0].scores.tasks.values().any(|t| t.n > 0));

    // After phase end: the private split.
    let want_private = expected(&dir.join("private"), &gt, &pred, |id| !public.contains(id));
    assert_ne!(want_public, want_private);
    let later = now + Duration::days(2);
    let lb = db.leaderboard(later).await.expect("leaderboard");
    assert_eq!(lb.phase, Phase::Final);
    check_tasks(&lb.rows[0].scores.tasks, &want_private);
    let v = db
        .submission_at(&a, a1, later)
        .await
        .expect("q")
        .expect("a1");
    assert!(v.private.is_some());

    // No ground-truth mask in anything a team or a page sees.
    let gt_json = std::fs::read_to_string(gt_seg).expect("gt");
    let gt_value: serde_json::Value = serde_json::from_str(&gt_json).expect("json");
    let counts: Vec<String> = gt_value
        .as_object()
        .expect("object")
        .values()
        .flat_map(|c| c.as_object().expect("cxr").values())
        .filter_map(|m| m["counts"].as_str().map(str::to_string))
        .filter(|c| c.len() > 12)
        .collect();
    assert!(!counts.is_empty());
    let seen = serde_json::to_string(&(
        db.leaderboard(now).await.expect("lb"),
        db.submissions(&a).await.expect("a"),
        db.submissions(&b).await.expect("b"),
        db.competition().await.expect("c"),
    ))
    .expect("json");
    assert!(counts.iter().all(|c| !seen.contains(c.as_str())));

    // Selection, export, rescore.
    assert!(matches!(
        db.select(&a, a2).await,
        Err(ServerError::NotSelectable { .. })
    ));
    assert!(matches!(
        db.select(&b, a1).await,
        Err(ServerError::UnknownSubmission(_))
    ));
    db.select(&a, a1).await.expect("select");
    let csv = db.export_csv().await.expect("export");
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    assert_eq!(db.rescore(Rescore::One(b1)).await.expect("rescore"), 1);
    assert_eq!(
        db.rescore(Rescore::One(b1)).await.expect("rescore"),
        0,
        "already queued"
    );
    while work_one(&db, &opts).await.expect("work").is_some() {}
    let vb = db.submission(&b, b1).await.expect("q").expect("b1");
    assert_eq!(vb.status, Status::Scored);
    assert_eq!(vb.public, va1.public, "same file, same scores");

    db.revoke_team("team b").await.expect("revoke");
    assert_eq!(db.team_by_token(&tb).await.expect("q"), None);
    assert_eq!(db.leaderboard(now).await.expect("lb").rows.len(), 1);
    assert!(matches!(
        db.revoke_team("nobody").await,
        Err(ServerError::UnknownTeam(_))
    ));
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_sqlite() {
    let dir = tempfile::tempdir().expect("tmp");
    let url = format!("sqlite:{}", dir.path().join("c.db").display());
    e2e(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn end_to_end_postgres() {
    let Some(url) = common::postgres_url("e2e").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    e2e(&url, dir.path()).await;
    common::drop_postgres(&url).await;
}
