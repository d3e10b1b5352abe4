//! The server end to end over HTTP on 127.0.0.1 (an ephemeral port, SQLite in a temporary
//! folder, the in-process scorer): init, teams, uploads (valid, invalid, oversized, over the
//! daily limit, bad token), scoring, the leaderboard and the pages; no response body ever holds
//! a ground-truth mask.

mod common;

use std::time::{Duration, Instant};

use common::server::{Server, board_with_rows, fixtures_submission, get_json, text};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_competition_over_http() {
    let server = Server::start(|cfg| {
        cfg.daily_limit = 3;
        cfg.max_upload_bytes = 4_000_000;
    })
    .await;
    let token = server.add_team("Team A").await;
    let other = server.add_team("Team <B>").await;
    let c = reqwest::Client::new();
    let url = |p: &str| format!("{}{p}", server.base);
    let mut bodies: Vec<String> = Vec::new();

    // A bad token: 401, nothing stored.
    let r = c
        .post(url("/api/submissions"))
        .bearer_auth("not-a-token")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 401);
    bodies.push(r.text().await.expect("body"));

    // Oversized: 413 (the declared length is over the limit: refused before the body is read;
    // the connection is then closed, so this request gets a client of its own).
    let once = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let r = once
        .post(url("/api/submissions"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(vec![b' '; 5_000_000])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 413);
    bodies.push(r.text().await.expect("body"));

    // A valid submission (the fixtures' Otsu masks) and an invalid one (a CXR missing).
    let (valid, invalid) = fixtures_submission();
    let post = |body: Vec<u8>, tok: &str| {
        c.post(url("/api/submissions"))
            .bearer_auth(tok)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post(valid.clone(), &token).await.expect("send");
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.expect("json");
    let good = v["id"].as_i64().expect("id");
    let r = post(invalid, &token).await.expect("send");
    assert_eq!(r.status(), 202);
    let bad = r.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    let r = post(valid.clone(), &other).await.expect("send");
    assert_eq!(r.status(), 202);

    // Both end: scored and invalid, with the validator's problems.
    let status = |id: i64| {
        let c = c.clone();
        let (u, t) = (url(&format!("/api/submissions/{id}")), token.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let v = get_json(&c, &u, Some(&t)).await;
                let s = v["status"].as_str().unwrap_or("").to_owned();
                if ["scored", "invalid", "failed"].contains(&s.as_str()) {
                    return v;
                }
                assert!(Instant::now() < deadline, "submission {id} still {s}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let g = status(good).await;
    assert_eq!(g["status"], "scored", "{g}");
    assert!(g["public"]["miou"].as_f64().is_some(), "{g}");
    assert!(
        g["private"].is_null(),
        "no private score before the phase ends: {g}"
    );
    let b = status(bad).await;
    assert_eq!(b["status"], "invalid", "{b}");
    assert!(
        b["problems"].as_array().is_some_and(|p| !p.is_empty()),
        "{b}"
    );
    bodies.push(g.to_string());
    bodies.push(b.to_string());

    // A team sees only its own submissions.
    let r = c
        .get(url(&format!("/api/submissions/{good}")))
        .bearer_auth(&other)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    let mine = get_json(&c, &url("/api/submissions"), Some(&token)).await;
    let ids: Vec<i64> = mine
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids, [bad, good], "own submissions, newest first");

    // The daily limit (3: two counted, the invalid one not): one more is accepted, then 429.
    let r = post(valid.clone(), &token).await.expect("send");
    assert_eq!(r.status(), 202);
    let r = post(valid.clone(), &token).await.expect("send");
    assert_eq!(r.status(), 202);
    let r = post(valid.clone(), &token).await.expect("send");
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    bodies.push(r.text().await.expect("body"));

    // The leaderboard: both teams (once the other team's submission is scored), the same
    // public mIoU (the same masks), per-task columns.
    let board = board_with_rows(&c, &server.base, 2, Duration::from_secs(60)).await;
    assert_eq!(board["phase"], "public");
    let rows = board["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{board}");
    assert_eq!(rows[0]["miou"], rows[1]["miou"]);
    assert_eq!(rows[0]["miou"], g["public"]["miou"]);
    assert_eq!(rows[0]["tasks"].as_object().map(|t| t.len()), Some(10));
    bodies.push(board.to_string());

    // Pages: the leaderboard with both teams (escaped), the format page, health and metrics.
    for page in ["/", "/format", "/team", "/healthz", "/metrics"] {
        let r = c.get(url(page)).send().await.expect("send");
        assert_eq!(r.status(), 200, "{page}");
        bodies.push(r.text().await.expect("body"));
    }
    assert!(bodies[bodies.len() - 5].contains("Team &lt;B&gt;"));
    assert!(!bodies[bodies.len() - 5].contains("Team <B>"));
    // Uploads: 5 accepted; refused: the bad token, the oversized one, the one over the limit.
    let metrics = &bodies[bodies.len() - 1];
    assert!(
        metrics.contains("chexlocalize_uploads_total 5\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("chexlocalize_refused_total 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE chexlocalize_queue_depth gauge"),
        "{metrics}"
    );

    // No response ever held a ground-truth mask.
    for needle in server.gt_counts_samples() {
        for b in &bodies {
            assert!(!b.contains(&needle), "a ground-truth RLE string was served");
        }
    }
    server.stop().await;
}

/// 50 teams submitting at once and 500 leaderboard reads at once: every request answered
/// without error, every submission scored, within bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_submitters_and_five_hundred_readers() {
    let server = Server::start(|_| {}).await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        tokens.push(server.add_team(&format!("team {i:02}")).await);
    }
    let (valid, _) = fixtures_submission();
    let c = reqwest::Client::new();
    let started = Instant::now();
    let uploads = tokens.iter().map(|t| {
        let (c, url, body) = (
            c.clone(),
            format!("{}/api/submissions", server.base),
            valid.clone(),
        );
        let t = t.clone();
        tokio::spawn(async move {
            c.post(url)
                .bearer_auth(t)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    });
    let reads = (0..500).map(|_| {
        let (c, url) = (c.clone(), format!("{}/api/leaderboard", server.base));
        tokio::spawn(async move { c.get(url).send().await.map(|r| r.status().as_u16()) })
    });
    let uploads: Vec<_> = uploads.collect();
    let reads: Vec<_> = reads.collect();
    for u in uploads {
        assert_eq!(u.await.expect("task").expect("answered"), 202);
    }
    for r in reads {
        assert_eq!(r.await.expect("task").expect("answered"), 200);
    }
    let answered = started.elapsed();
    assert!(answered < Duration::from_secs(60), "{answered:?}");
    // Every submission is scored (one worker, in-process scorer).
    board_with_rows(&c, &server.base, 50, Duration::from_secs(240)).await;
    eprintln!(
        "50 uploads and 500 leaderboard reads answered in {:.2} s; all scored in {:.1} s",
        answered.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    server.stop().await;
}

/// The admin page: absent without an admin token; with one, a login form unless the token is
/// sent, then the teams (escaped) and the export.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_needs_the_admin_token() {
    let c = reqwest::Client::new();
    let plain = Server::start(|_| {}).await;
    let r = c
        .get(format!("{}/admin", plain.base))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    plain.stop().await;

    let server = Server::start_with(|_| {}, Some("s3cret")).await;
    server.add_team("Team <A>").await;
    let get = |path: &str, token: Option<&str>| {
        let mut r = c.get(format!("{}{path}", server.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let page = text(get("/admin", None)).await;
    assert!(page.contains("Admin token"), "{page}");
    assert!(!page.contains("Team &lt;A&gt;"), "{page}");
    let page = text(get("/admin", Some("wrong"))).await;
    assert!(!page.contains("Team &lt;A&gt;"), "{page}");
    let page = text(get("/admin", Some("s3cret"))).await;
    assert!(page.contains("Team &lt;A&gt;"), "{page}");
    assert!(!page.contains("Team <A>"), "{page}");
    let r = get("/admin/export.csv", Some("wrong")).await.expect("send");
    assert_eq!(r.status(), 404);
    let r = get("/admin/export.csv", Some("s3cret"))
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/csv"))
    );
    server.stop().await;
}
