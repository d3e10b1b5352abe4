//! A host's and a team's commands end to end, as processes: `admin init`, `admin add-team`,
//! `serve` on 127.0.0.1 (an ephemeral port), `submit --wait` of a valid and an invalid
//! submission; then the leaderboard page in headless Chromium (a screenshot for `docs/`, and
//! the rows found in its DOM). Chromium missing: that part is skipped with a notice, except
//! under `CI=true`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The server process, killed when dropped.
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` on 127.0.0.1:0 and returns it with its base URL, read from its first line.
fn serve(db: &str) -> (Served, String) {
    serve_with(db, &[])
}

/// [`serve`] with more flags.
fn serve_with(db: &str, extra: &[&str]) -> (Served, String) {
    let mut child = bin()
        .args(["serve", "--db", db, "--bind", "127.0.0.1:0"])
        .args(if extra.contains(&"--workers") {
            &[][..]
        } else {
            &["--workers", "1"][..]
        })
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected 'listening on http://ADDR', got {line:?}"))
        .to_owned();
    (Served(child), base)
}

/// The fixtures' ground truth and Otsu masks (the CXRs of the ground truth only), made with the
/// binary; and the same masks without one CXR.
fn data(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let gt = dir.join("gt.json");
    ok(
        bin()
            .args(["annotation-to-segmentation", "--ann-path"])
            .arg(fixtures().join("gt_annotations_val.json"))
            .arg("--output-path")
            .arg(&gt)
            .output()
            .expect("runs"),
        "gt",
    );
    let all = dir.join("all.json");
    ok(
        bin()
            .args(["heatmap-to-segmentation", "--map-dir"])
            .arg(fixtures().join("gradcam_maps_val"))
            .arg("--output-path")
            .arg(&all)
            .output()
            .expect("runs"),
        "pred",
    );
    let read = |p: &Path| -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
    };
    let gt_ids = read(&gt);
    let mut pred = read(&all);
    pred.retain(|id, _| gt_ids.contains_key(id));
    let valid = dir.join("valid.json");
    std::fs::write(&valid, serde_json::to_vec(&pred).expect("json")).expect("write");
    let first = pred.keys().next().cloned().expect("a CXR");
    pred.remove(&first);
    let invalid = dir.join("invalid.json");
    std::fs::write(&invalid, serde_json::to_vec(&pred).expect("json")).expect("write");
    (gt, valid, invalid)
}

/// `admin init` and `add-team` on a new SQLite database in `dir`: its URL and the token.
fn competition(dir: &Path, gt: &Path) -> (String, String) {
    let db = format!("sqlite:{}", dir.join("competition.db").display());
    let config = dir.join("competition.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"CheXplanation (test)\"\ngt_path = {:?}\npublic_fraction = 0.5\n\
             split_seed = 7\ndaily_limit = 20\nphase_end = \"2099-01-01T00:00:00Z\"\n\
             metric = \"iou\"\nscoring = \"true_pos_only\"\nseed = 0\n",
            gt.to_string_lossy()
        ),
    )
    .expect("config");
    ok(
        bin()
            .args(["admin", "--db", &db, "init", "--config"])
            .arg(&config)
            .output()
            .expect("runs"),
        "admin init",
    );
    let token = ok(
        bin()
            .args(["admin", "--db", &db, "add-team", "Grad-CAM team"])
            .output()
            .expect("runs"),
        "add-team",
    )
    .trim()
    .to_owned();
    (db, token)
}

/// The files under `dir`, recursively.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("a folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Submits the valid file `n` times: the ids.
fn submit_n(base: &str, token: &str, valid: &Path, n: usize) -> Vec<i64> {
    (0..n)
        .map(|_| {
            let out = bin()
                .args(["submit", "--server", base, "--token", token, "--seg-path"])
                .arg(valid)
                .output()
                .expect("runs");
            ok(out, "submit")
                .lines()
                .next()
                .and_then(|l| l.trim().parse().ok())
                .expect("an id")
        })
        .collect()
}

/// The team's submissions as `(id, status)`.
fn statuses(base: &str, token: &str) -> Vec<(i64, String)> {
    let list: serde_json::Value = reqwest::blocking::Client::new()
        .get(format!("{base}/api/submissions"))
        .bearer_auth(token)
        .send()
        .and_then(|r| r.json())
        .expect("the list");
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| {
            (
                s["id"].as_i64().expect("id"),
                s["status"].as_str().expect("status").to_owned(),
            )
        })
        .collect()
}

/// Waits until a submission is being scored (its job leased): how many are not scored yet.
fn wait_until_scoring(base: &str, token: &str) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let l = statuses(base, token);
        if l.iter().any(|(_, s)| s == "validating" || s == "scoring") {
            return l.iter().filter(|(_, s)| s != "scored").count();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw a submission being scored: {l:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until all `ids` are scored (none failed or invalid), then checks that each was scored
/// once: one row in the export each.
fn all_scored_once(base: &str, token: &str, db: &str, ids: &[i64]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let l = statuses(base, token);
        assert_eq!(l.len(), ids.len(), "every accepted submission is there");
        if l.iter().all(|(_, s)| s == "scored") {
            break;
        }
        assert!(
            l.iter().all(|(_, s)| s != "failed" && s != "invalid"),
            "{l:?}"
        );
        assert!(std::time::Instant::now() < deadline, "{l:?}");
        std::thread::sleep(Duration::from_millis(250));
    }
    let csv = ok(
        bin()
            .args(["admin", "--db", db, "export"])
            .output()
            .expect("runs"),
        "export",
    );
    for id in ids {
        let rows = csv
            .lines()
            .filter(|l| l.split(',').next() == Some(&id.to_string()))
            .count();
        assert_eq!(rows, 1, "submission {id} in the export: {csv}");
    }
}

/// The server killed with SIGKILL while submissions are queued and one is being scored, then
/// started again on the same database: every accepted submission ends scored, once.
#[test]
fn a_killed_server_loses_no_submission() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (gt, valid, _) = data(tmp.path());
    let (db, token) = competition(tmp.path(), &gt);
    let (mut server, base) = serve_with(&db, &["--lease-seconds", "2"]);
    let ids = submit_n(&base, &token, &valid, 6);
    let unfinished = wait_until_scoring(&base, &token);
    server.0.kill().expect("SIGKILL");
    server.0.wait().expect("reaped");
    eprintln!("server killed mid-scoring with {unfinished} of 6 submissions not yet scored");
    let (_server, base) = serve_with(&db, &["--lease-seconds", "2"]);
    all_scored_once(&base, &token, &db, &ids);
}

/// A separate `chexlocalize worker` killed with SIGKILL mid-scoring (the server scores
/// nothing itself; uploads are files in a shared `--data-dir`): another worker takes the job
/// over once its lease expires, and every accepted submission ends scored, once.
#[test]
fn a_killed_worker_loses_no_submission() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (gt, valid, _) = data(tmp.path());
    let (db, token) = competition(tmp.path(), &gt);
    let data = tmp.path().join("uploads");
    let data = data.to_str().expect("a UTF-8 path");
    let (_server, base) = serve_with(&db, &["--workers", "0", "--data-dir", data]);
    let worker = || {
        Served(
            bin()
                .args([
                    "worker",
                    "--db",
                    &db,
                    "--lease-seconds",
                    "2",
                    "--data-dir",
                    data,
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("worker starts"),
        )
    };
    let ids = submit_n(&base, &token, &valid, 6);
    let mut first = worker();
    let unfinished = wait_until_scoring(&base, &token);
    first.0.kill().expect("SIGKILL");
    first.0.wait().expect("reaped");
    eprintln!("worker killed mid-scoring with {unfinished} of 6 submissions not yet scored");
    assert!(unfinished >= 1);
    let _second = worker();
    all_scored_once(&base, &token, &db, &ids);
    // One file per distinct upload (six identical submissions), under its hash.
    let files: Vec<_> = walk(Path::new(data));
    assert_eq!(files.len(), 1, "{files:?}");
}

#[test]
fn host_and_team_commands_end_to_end() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (gt, valid, invalid) = data(tmp.path());
    let (db, token) = competition(tmp.path(), &gt);
    assert_eq!(token.len(), 64, "a 256-bit token in hex: {token:?}");
    let (_server, base) = serve(&db);

    // A valid submission: scored; the first line is its id, then the public scores.
    let out = bin()
        .args(["submit", "--server", &base, "--token", &token, "--seg-path"])
        .arg(&valid)
        .args(["--note", "Otsu", "--wait"])
        .output()
        .expect("runs");
    let stdout = ok(out, "submit valid");
    let mut lines = stdout.lines();
    let id: i64 = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("an id first: {stdout}"));
    assert!(id >= 1);
    assert!(stdout.contains("status: scored"), "{stdout}");
    assert!(stdout.contains("mIoU (public split): 0."), "{stdout}");

    // An invalid one is stopped by the local check: exit 1, the problem named, nothing sent.
    let out = bin()
        .args(["submit", "--server", &base, "--token", &token, "--seg-path"])
        .arg(&invalid)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("missing_cxr"), "{stderr}");
    assert!(stderr.contains("not uploaded"), "{stderr}");

    // A wrong token: refused by the server, exit 1.
    let out = bin()
        .args(["submit", "--server", &base, "--token", "nope", "--seg-path"])
        .arg(&valid)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));

    // The organisers' baseline: queued by the admin command, shown unranked once scored.
    let out = bin()
        .args([
            "admin",
            "--db",
            &db,
            "add-baseline",
            "Organisers: Grad-CAM, Otsu",
        ])
        .arg("--seg-path")
        .arg(&valid)
        .output()
        .expect("runs");
    let baseline: i64 = ok(out, "add-baseline").trim().parse().expect("an id");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let board: serde_json::Value = reqwest::blocking::get(format!("{base}/api/leaderboard"))
            .and_then(|r| r.json())
            .expect("the leaderboard");
        if board["baselines"][0]["submission"] == baseline {
            assert_eq!(board["baselines"][0]["miou"], board["rows"][0]["miou"]);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{board}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let list = ok(
        bin()
            .args(["admin", "--db", &db, "list"])
            .output()
            .expect("runs"),
        "list",
    );
    assert!(
        list.contains("Organisers: Grad-CAM, Otsu\tbaseline\t1\t"),
        "{list}"
    );

    leaderboard_in_chromium(&base, tmp.path());
}

/// The leaderboard page as a user sees it: a screenshot (copied to `docs/leaderboard.png` when
/// `CHEXLOCALIZE_UPDATE_DOCS=1`) and the DOM with the team's row.
fn leaderboard_in_chromium(base: &str, tmp: &Path) {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "chromium is required when CI=true"
        );
        eprintln!("chromium not found: skipping the page check");
        return;
    };
    let headless = |extra: &[&str]| {
        let mut c = Command::new(chromium);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .args(extra)
        .arg(format!("{base}/"));
        c.output().expect("chromium runs")
    };
    let dom = headless(&["--dump-dom"]);
    let html = String::from_utf8_lossy(&dom.stdout);
    assert!(html.contains("id=\"leaderboard\""), "{html}");
    assert!(html.contains("Grad-CAM team"), "the team's row: {html}");
    assert!(
        html.contains("<tr class=\"baseline\"><td>baseline</td><td class=\"l\">Organisers: Grad-CAM, Otsu</td>"),
        "the baseline's row: {html}"
    );
    let png = tmp.join("leaderboard.png");
    let shot = headless(&[
        &format!("--screenshot={}", png.display()),
        "--window-size=1850,480",
    ]);
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).expect("png");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    if std::env::var("CHEXLOCALIZE_UPDATE_DOCS").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        std::fs::create_dir_all(&docs).expect("docs");
        std::fs::copy(&png, docs.join("leaderboard.png")).expect("copy");
    }
    std::thread::sleep(Duration::from_millis(10));
}
