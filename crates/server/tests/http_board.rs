//! The leaderboard over HTTP as the competition moves on: baselines beside the teams, the
//! phase's end flipping it to the private split without a restart, and the per-team rate limit.

mod common;

use std::time::{Duration, Instant};

use chexlocalize_server::ServerError;
use chexlocalize_server::chrono::{self, Utc};
use common::server::{Server, fixtures_submission, get_json, text};
use serde_json::Value;

/// The leaderboard once `rows` team rows and `baselines` baseline rows are on it.
async fn board(c: &reqwest::Client, base: &str, rows: usize, baselines: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let b = get_json(c, &format!("{base}/api/leaderboard"), None).await;
        let n = |k: &str| b[k].as_array().map(Vec::len);
        if n("rows") == Some(rows) && n("baselines") == Some(baselines) {
            return b;
        }
        assert!(Instant::now() < deadline, "not there yet: {b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baselines_stand_beside_the_teams_unranked() {
    let server = Server::start(|_| {}).await;
    let (valid, _) = fixtures_submission();
    let c = reqwest::Client::new();
    let token = server.add_team("Team A").await;
    let r = c
        .post(format!("{}/api/submissions", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(valid.clone())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 202);
    // The organisers' Grad-CAM/Otsu result: the same masks, so the same scores.
    let name = "Grad-CAM <Otsu> & co";
    server
        .db
        .add_baseline(name, valid.clone(), None, Some("organisers".into()))
        .await
        .expect("baseline");
    let b = board(&c, &server.base, 1, 1).await;
    let (row, base) = (&b["rows"][0], &b["baselines"][0]);
    assert_eq!(row["team"], "Team A");
    assert_eq!(row["rank"], 1);
    assert_eq!(base["name"], name);
    assert!(
        base.get("rank").is_none(),
        "a baseline is not ranked: {base}"
    );
    assert!(row["miou"].as_f64().is_some());
    assert_eq!(base["miou"], row["miou"]);
    assert_eq!(base["tasks"], row["tasks"]);

    // The page shows it in its own row, escaped.
    let page = text(c.get(format!("{}/", server.base)).send()).await;
    assert!(
        page.contains("<tr class=\"baseline\"><td>baseline</td><td class=\"l\">Grad-CAM &lt;Otsu&gt; &amp; co</td>"),
        "{page}"
    );
    assert!(!page.contains("<Otsu>"));

    // A baseline has no token and no team's name; adding it again replaces what it shows.
    assert!(matches!(
        server.db.add_team(name).await,
        Err(ServerError::DuplicateTeam(_))
    ));
    assert!(matches!(
        server
            .db
            .add_baseline("Team A", valid.clone(), None, None)
            .await,
        Err(ServerError::DuplicateTeam(_))
    ));
    let again = server
        .db
        .add_baseline(name, valid, None, None)
        .await
        .expect("again");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let b = board(&c, &server.base, 1, 1).await;
        if b["baselines"][0]["submission"] == again {
            break;
        }
        assert!(Instant::now() < deadline, "{b}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The team's own list never shows the baseline's submissions.
    let mine = get_json(
        &c,
        &format!("{}/api/submissions", server.base),
        Some(&token),
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phase_end_flips_the_board_to_the_private_split() {
    let server = Server::start(|_| {}).await;
    let (valid, _) = fixtures_submission();
    let c = reqwest::Client::new();
    let token = server.add_team("Team A").await;
    let r: Value = c
        .post(format!("{}/api/submissions", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(valid)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let id = r["id"].as_i64().expect("an id");
    let public = board(&c, &server.base, 1, 0).await;
    assert_eq!(public["phase"], "public");
    let sub = get_json(
        &c,
        &format!("{}/api/submissions/{id}", server.base),
        Some(&token),
    )
    .await;
    assert!(sub["private"].is_null(), "private hidden: {sub}");
    assert_eq!(public["rows"][0]["miou"], sub["public"]["miou"]);
    let page = text(c.get(format!("{}/", server.base)).send()).await;
    assert!(page.contains("Public split"), "{page}");

    // The host moves the phase end into the past: the running server follows.
    let (gt, _) = common::data();
    let cfg = common::config(gt.clone(), 5, Utc::now() - chrono::Duration::seconds(1));
    server.db.init_competition(&cfg).await.expect("re-init");
    let fin = get_json(&c, &format!("{}/api/leaderboard", server.base), None).await;
    assert_eq!(fin["phase"], "final");
    let sub = get_json(
        &c,
        &format!("{}/api/submissions/{id}", server.base),
        Some(&token),
    )
    .await;
    let private = &sub["private"];
    assert!(private["miou"].as_f64().is_some(), "{sub}");
    assert_eq!(fin["rows"][0]["miou"], private["miou"]);
    assert_eq!(fin["rows"][0]["tasks"], private["tasks"]);
    assert_ne!(fin["rows"][0]["miou"], public["rows"][0]["miou"]);
    let page = text(c.get(format!("{}/", server.base)).send()).await;
    assert!(
        page.contains("Final ranking on the private split."),
        "{page}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_team_has_its_own_request_budget() {
    let server = Server::start_rated(|_| {}, 5).await;
    let c = reqwest::Client::new();
    let a = server.add_team("A").await;
    let b = server.add_team("B").await;
    let list = |t: &str| {
        c.get(format!("{}/api/submissions", server.base))
            .bearer_auth(t)
            .send()
    };
    for _ in 0..5 {
        assert_eq!(list(&a).await.expect("send").status(), 200);
    }
    let r = list(&a).await.expect("send");
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.expect("json");
    let msg = body["error"].as_str().expect("an error");
    assert!(msg.contains("\"A\"") && msg.contains("5 a minute"), "{msg}");
    // Another team, and the public pages, are not held back.
    assert_eq!(list(&b).await.expect("send").status(), 200);
    let lb = c
        .get(format!("{}/api/leaderboard", server.base))
        .send()
        .await
        .expect("send");
    assert_eq!(lb.status(), 200);
    // A bad token is refused as such, not counted against anyone.
    assert_eq!(list("nope").await.expect("send").status(), 401);
    let metrics = text(c.get(format!("{}/metrics", server.base)).send()).await;
    assert!(
        metrics.contains("chexlocalize_rate_limited_total 1"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adjacent_ranks_are_compared_with_a_paired_bootstrap() {
    let server = Server::start(|_| {}).await;
    let (otsu, _) = fixtures_submission();
    let perfect = std::fs::read(&common::data().0).expect("gt");
    let c = reqwest::Client::new();
    for (team, body) in [("Oracle", &perfect), ("Otsu A", &otsu), ("Otsu B", &otsu)] {
        let token = server.add_team(team).await;
        let r = c
            .post(format!("{}/api/submissions", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 202);
    }
    let b = board(&c, &server.base, 3, 0).await;
    let rows = b["rows"].as_array().expect("rows");
    assert_eq!(rows[0]["team"], "Oracle");
    // The ground truth itself against Grad-CAM: a gap no resampling closes.
    let first = &rows[0]["vs_next"];
    assert_eq!(first["differs"], true, "{first}");
    assert!(first["difference"].as_f64().expect("difference") > 0.5);
    assert!(first["lower"].as_f64().expect("lower") > 0.0);
    // The same masks twice: no difference in any replicate, p = 1.
    let second = &rows[1]["vs_next"];
    assert_eq!(second["differs"], false, "{second}");
    assert_eq!(second["difference"], 0.0);
    assert_eq!(second["p_holm"], 1.0);
    assert!(rows[2].get("vs_next").is_none(), "the last row has none");
    // The page says it in words.
    let page = text(c.get(format!("{}/", server.base)).send()).await;
    assert!(page.contains("<span class=\"ok\">differs</span>"), "{page}");
    assert!(page.contains("<span class=\"note\">tied</span>"));
    server.stop().await;
}
