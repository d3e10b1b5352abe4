//! A server on 127.0.0.1 with an ephemeral port over SQLite in a temporary folder, and the
//! helpers the HTTP tests share.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use chexlocalize_server::{CompetitionConfig, Db, Scorer, ServeOptions};
use serde_json::Value;

/// A server on 127.0.0.1:0 with one in-process scoring worker.
pub struct Server {
    pub base: String,
    pub db: Db,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start(edit: impl FnOnce(&mut CompetitionConfig)) -> Server {
        Server::start_with(edit, None).await
    }

    pub async fn start_with(
        edit: impl FnOnce(&mut CompetitionConfig),
        admin: Option<&str>,
    ) -> Server {
        Server::launch(edit, admin, NonZeroU32::new(600)).await
    }

    /// A server whose teams may make `per_minute` requests a minute.
    pub async fn start_rated(edit: impl FnOnce(&mut CompetitionConfig), per_minute: u32) -> Server {
        Server::launch(edit, None, NonZeroU32::new(per_minute)).await
    }

    async fn launch(
        edit: impl FnOnce(&mut CompetitionConfig),
        admin: Option<&str>,
        team_rate: Option<NonZeroU32>,
    ) -> Server {
        let dir = tempfile::tempdir().expect("tmp");
        let db = Db::connect(&format!("sqlite:{}", dir.path().join("c.db").display()))
            .await
            .expect("db");
        let (gt, _) = super::data();
        let far = chexlocalize_server::chrono::Utc::now()
            + chexlocalize_server::chrono::Duration::days(30);
        let mut cfg = super::config(gt.clone(), 5, far);
        edit(&mut cfg);
        db.init_competition(&cfg).await.expect("init");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let options = ServeOptions {
            bind: "127.0.0.1:0".parse().expect("addr"),
            workers: 1,
            scorer: Scorer::InProcess,
            admin_token: admin.map(str::to_owned),
            lease: Duration::from_secs(60),
            team_requests_per_minute: team_rate,
        };
        let served = db.clone();
        let task = tokio::spawn(async move {
            chexlocalize_server::serve_listener(served, listener, options, async move {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        Server {
            base,
            db,
            stop,
            task,
            _dir: dir,
        }
    }

    pub async fn add_team(&self, name: &str) -> String {
        self.db.add_team(name).await.expect("team")
    }

    /// Long counts strings of the ground truth's masks (what a leak would show).
    pub fn gt_counts_samples(&self) -> Vec<String> {
        let (gt, _) = super::data();
        let v: Value = serde_json::from_slice(&std::fs::read(gt).expect("gt")).expect("json");
        let mut out: Vec<String> = v
            .as_object()
            .expect("object")
            .values()
            .flat_map(|tasks| tasks.as_object().expect("tasks").values())
            .filter_map(|m| m["counts"].as_str())
            .filter(|c| c.len() > 12)
            .map(str::to_owned)
            .collect();
        out.sort_by_key(|c| std::cmp::Reverse(c.len()));
        out.truncate(20);
        assert!(!out.is_empty());
        out
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("server task");
    }
}

/// The fixtures' Otsu masks as a submission, and the same without one CXR (invalid).
pub fn fixtures_submission() -> (Vec<u8>, Vec<u8>) {
    let (_, pred) = super::data();
    let valid = std::fs::read(pred).expect("pred");
    let mut v: serde_json::Map<String, Value> = serde_json::from_slice(&valid).expect("json");
    let first = v.keys().next().cloned().expect("a CXR");
    v.remove(&first);
    (valid, serde_json::to_vec(&v).expect("json"))
}

/// A GET's JSON body (with the team's token when given); the status must be 200.
pub async fn get_json(c: &reqwest::Client, url: &str, token: Option<&str>) -> Value {
    let mut r = c.get(url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.expect("send");
    assert_eq!(r.status(), 200, "GET {url}");
    r.json().await.expect("json")
}

/// The leaderboard once it has `n` rows (every team's submission scored), within `within`.
pub async fn board_with_rows(c: &reqwest::Client, base: &str, n: usize, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let board = get_json(c, &format!("{base}/api/leaderboard"), None).await;
        if board["rows"].as_array().map(Vec::len) == Some(n) {
            return board;
        }
        assert!(Instant::now() < deadline, "not {n} rows yet: {board}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The body of a response that must come.
pub async fn text(
    r: impl std::future::Future<Output = reqwest::Result<reqwest::Response>>,
) -> String {
    r.await.expect("send").text().await.expect("body")
}
