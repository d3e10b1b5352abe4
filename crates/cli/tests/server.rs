//! `chexlocalize admin`, `worker` and the hidden `score-job` through the real binary: a host
//! initialises a competition and adds a team, a submission is scored by `score-job` in a
//! child process, the worker scores a rescore and stops on SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chexlocalize::{AnnotationsToSegmentations, Options, PolygonFill};
use std::io::Write;

use chexlocalize_server::{
    Db, ScoreInput, ScoreOutput, Scorer, ScoringRule, Status, SubmitOutcome, VALIDATED_LINE,
    WorkerOptions, work_one,
};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_chexlocalize"))
}

fn run(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stderr: {stderr}");
    String::from_utf8(out.stdout.clone()).expect("utf-8 stdout")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn admin_score_job_and_worker_through_the_binary() {
    let dir = tempfile::tempdir().expect("tmp");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let ann = fixtures.join("gt_annotations_val.json");
    let toml = dir.path().join("competition.toml");
    std::fs::write(
        &toml,
        format!(
            "name = \"test\"\ngt_path = {:?}\npublic_fraction = 0.5\nsplit_seed = 3\n\
             daily_limit = 5\nphase_end = \"2099-01-01T00:00:00Z\"\n",
            s(&ann)
        ),
    )
    .expect("toml");
    let db_url = format!("sqlite:{}", s(&dir.path().join("c.db")));
    let out = ok(&run(&[
        "admin",
        "--db",
        &db_url,
        "init",
        "--config",
        s(&toml),
    ]));
    assert!(
        out.contains("public and") && out.contains("private CXRs"),
        "{out}"
    );
    let token = ok(&run(&["admin", "--db", &db_url, "add-team", "alpha"]));
    let token = token.trim();
    assert_eq!(token.len(), 64, "{token}");
    assert!(ok(&run(&["admin", "--db", &db_url, "list"])).contains("alpha"));
    let dup = run(&["admin", "--db", &db_url, "add-team", "alpha"]);
    assert_eq!(dup.status.code(), Some(1));

    // The ground truth itself as a submission: a perfect score.
    let seg = dir.path().join("seg.json");
    chexlocalize::annotations_to_segmentations(
        &AnnotationsToSegmentations {
            ann_path: ann.clone(),
            output_path: seg.clone(),
            fill_rule: PolygonFill::Pillow,
        },
        &Options::default(),
    )
    .expect("segmentations");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (db, team, id) = rt.block_on(async {
        let db = Db::connect(&db_url).await.expect("connect");
        let team = db.team_by_token(token).await.expect("q").expect("alpha");
        let bytes = std::fs::read(&seg).expect("seg");
        let now = chexlocalize_server::chrono::Utc::now();
        let Ok(SubmitOutcome::Accepted { id }) = db.submit(&team, bytes, None, None, now).await
        else {
            panic!("accepted")
        };
        let opts = WorkerOptions::new(Scorer::ChildProcess {
            program: bin(),
            args: vec!["score-job".into()],
            timeout: Duration::from_secs(120),
        });
        assert_eq!(work_one(&db, &opts).await.expect("work"), Some(id));
        (db, team, id)
    });
    let view = rt
        .block_on(db.submission(&team, id))
        .expect("q")
        .expect("view");
    // score-job itself: `validated`, then the score.
    let input = ScoreInput {
        gt_json: std::fs::read(&seg).expect("seg"),
        public_ids: vec![],
        segmentations: std::fs::read(&seg).expect("seg"),
        maps: None,
        scoring: ScoringRule::TruePosOnly,
        seed: 0,
        replicates: 1000,
    };
    let mut child = Command::new(bin())
        .arg("score-job")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("score-job");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input.to_bytes())
        .expect("write");
    let out = ok(&child.wait_with_output().expect("wait"));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&VALIDATED_LINE), "{out}");
    match serde_json::from_str(lines.last().expect("a score")).expect("json") {
        ScoreOutput::Scored {
            public, private, ..
        } => {
            assert_eq!(public.miou, None, "empty public split");
            assert_eq!(private.miou, Some(1.0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(view.status, Status::Scored, "{view:?}");
    assert_eq!(view.public.and_then(|p| p.miou), Some(1.0));

    let csv = ok(&run(&["admin", "--db", &db_url, "export"]));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.lines().nth(1).is_some_and(|l| l.contains(",scored,")),
        "{csv}"
    );
    let out = ok(&run(&["admin", "--db", &db_url, "rescore", "all"]));
    assert_eq!(out.trim(), "1 submission(s) queued");
    assert_eq!(
        run(&["admin", "--db", &db_url, "rescore", "x"])
            .status
            .code(),
        Some(1)
    );

    // The worker scores it again, then stops on SIGTERM.
    let mut worker = Command::new(bin())
        .args(["worker", "--db", &db_url, "--workers", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("worker");
    let start = Instant::now();
    loop {
        let v = rt
            .block_on(db.submission(&team, id))
            .expect("q")
            .expect("view");
        if v.status == Status::Scored {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "not scored: {v:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &worker.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = worker.wait().expect("wait");
    assert!(status.success(), "{status}");
    rt.block_on(db.close());
}
