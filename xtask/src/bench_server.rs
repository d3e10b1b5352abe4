//! `cargo xtask bench server`: the competition server as whole processes (the release
//! `chexlocalize serve`, `submit`, `admin`), each server on 127.0.0.1 with an ephemeral port and
//! a fresh SQLite database under `target/bench/server`.
//!
//! The data: the test-scale synthetic set (`cargo xtask fixtures --scale test`, 668 CXRs of 500
//! patients × 10 tasks, CXRs of 2000–2900 px, made in `target/fixtures-test` on first use), its
//! ground truth made by `annotation-to-segmentation`, and three predictions made by
//! `heatmap-to-segmentation` (Otsu; Otsu smoothed with k = 5; the thresholds CSV). The
//! competition splits the CXRs half and half (whole patients) and scores every submission on
//! both splits.
//!
//! What is timed (wall clock, `std::time::Instant`, in this process):
//! - **Upload → scored**: `serve --workers 1` and one team; after one untimed submission, each of
//!   [`UPLOAD_RUNS`] runs of `chexlocalize submit --seg-path OTSU --wait` as a whole process
//!   (local check, upload, wait until scored, which `submit` polls every 500 ms), the moment its
//!   first line (the id, printed once the upload is accepted) arrives, the server's own
//!   accepted → scored time (`submitted_at` → `finished_at` of `GET /api/submissions/ID`) and
//!   its `scoring_ms` (claim → result: the scoring child process; the increase of
//!   `chexlocalize_scoring_seconds_total` in `/metrics`). In the same run, our `eval --metric
//!   iou` and the original `eval.py` (when `CHEXLOCALIZE_PY` is set) on the same files.
//! - **Leaderboard latency**: [`LEADERBOARD_TEAMS`] teams with one scored submission each, then
//!   [`READERS`] concurrent readers (tasks on a 2-thread tokio runtime in this process, one
//!   reqwest client, keep-alive, no compression asked) each doing [`GETS_PER_READER`]
//!   sequential GETs of `/api/leaderboard`, then the same for the HTML page `/`: latency of each
//!   GET (to the last byte of the body) and requests per second over the whole burst. The
//!   readers share the 2 cores with the server.
//! - **Throughput**: [`QUEUED`] submissions of [`QUEUE_TEAMS`] teams queued by `submit` while
//!   `serve --workers 0` runs; that server stopped, `serve --workers N` (N = 1, 2) started on the
//!   same database; the time from its start until `/metrics` (polled every 50 ms) counts all of
//!   them scored.
//!
//! Every process started here is held by a `Proc` (in `bench_server_procs`), which kills and
//! reaps it when dropped, on every way out of the benchmark.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use crate::bench_server_load::{Http, percentile};
use crate::bench_server_procs::{competition, output, s, serve, server_seconds, submit};
use crate::measure::measure_any;
use crate::util::workspace_root;

/// Timed `submit --wait` runs (after one untimed).
pub(crate) const UPLOAD_RUNS: usize = 5;
/// Concurrent readers of the leaderboard.
pub(crate) const READERS: usize = 100;
/// Sequential GETs of each reader, per page.
pub(crate) const GETS_PER_READER: usize = 20;
/// Teams (one scored submission each) on the leaderboard that is read.
pub(crate) const LEADERBOARD_TEAMS: usize = 10;
/// Submissions queued for the throughput runs.
pub(crate) const QUEUED: usize = 20;
/// Teams the queued submissions come from.
pub(crate) const QUEUE_TEAMS: usize = 4;

/// The benchmark's files.
struct Data {
    /// The ground-truth segmentation JSON.
    gt: PathBuf,
    /// Otsu, smoothed Otsu, thresholds: the submissions.
    preds: Vec<PathBuf>,
    /// CXRs in the ground truth.
    cxrs: usize,
}

fn data(ctx: &Ctx<'_>) -> Result<Data> {
    let dir = workspace_root().join("target/fixtures-test");
    // The tuning CSVs are written last: their presence says the set is whole.
    if !dir.join("probability_tuning_results.csv").exists() {
        eprintln!("server: generating the test-scale set in {}", dir.display());
        crate::fixtures::generate_test(&dir)?;
    }
    let gt = dir.join("gt_segmentations_val.json");
    if !gt.exists() {
        output(
            ctx.bin,
            &[
                "annotation-to-segmentation",
                "--ann_path",
                "gt_annotations_val.json",
                "--output_path",
                &s(&gt),
            ],
            &dir,
        )?;
    }
    let out = ctx.scratch.join("server/data");
    std::fs::create_dir_all(&out)?;
    let mut preds = Vec::new();
    for (name, extra) in [
        ("otsu.json", &[][..]),
        ("smooth.json", &["--if_smoothing", "True", "--k", "5"][..]),
        ("thr.json", &["--threshold_path", "tuning_results.csv"][..]),
    ] {
        let p = out.join(name);
        let mut args = vec!["heatmap-to-segmentation", "--map_dir", "gradcam_maps_val"];
        args.extend_from_slice(extra);
        let ps = s(&p);
        args.extend_from_slice(&["--output_path", &ps]);
        output(ctx.bin, &args, &dir)?;
        preds.push(p);
    }
    let text = std::fs::read(&gt).with_context(|| format!("reading {}", gt.display()))?;
    let v: serde_json::Value = serde_json::from_slice(&text)
        .with_context(|| format!("{}: expected a segmentation JSON", gt.display()))?;
    let cxrs = v.as_object().map_or(0, serde_json::Map::len);
    Ok(Data { gt, preds, cxrs })
}

fn median(v: &[f64]) -> f64 {
    percentile(v, 0.5)
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

/// What the benchmark needs of `bench`'s context (taken apart there, so that this file does not
/// import `bench.rs`, which imports it).
struct Ctx<'a> {
    /// The release `chexlocalize` binary.
    bin: &'a Path,
    /// The reference venv's `python` and the folder of the original scripts, if given.
    python: Option<&'a (PathBuf, PathBuf)>,
    /// Scratch space under `target/bench`.
    scratch: &'a Path,
}

/// Writes the `## Server` section (see the module doc): `bin` the release binary, `python` the
/// reference venv's `python` and the original scripts' folder (if given), `scratch` the scratch
/// folder under `target/bench`.
pub(crate) fn write_section(
    md: &mut String,
    bin: &Path,
    python: Option<&(PathBuf, PathBuf)>,
    scratch: &Path,
) -> Result<()> {
    let ctx = &Ctx {
        bin,
        python,
        scratch,
    };
    let scratch = ctx.scratch.join("server");
    std::fs::create_dir_all(&scratch)?;
    let data = data(ctx)?;
    let http = Http::new()?;
    let seg_mb = std::fs::metadata(&data.preds[0])?.len() as f64 / 1e6;
    let gt_mb = std::fs::metadata(&data.gt)?.len() as f64 / 1e6;

    writeln!(md, "## Server\n")?;
    writeln!(
        md,
        "`cargo xtask bench server`: the release `chexlocalize serve`, `submit` and `admin` as \
         whole processes, each server on 127.0.0.1 (an ephemeral port) with a fresh SQLite \
         database; wall clock. Data: the synthetic test-scale set (`cargo xtask fixtures --scale \
         test`: {} CXRs of 500 patients × 10 tasks, CXRs of 2000–2900 px; ground truth \
         {gt_mb:.1} MB), predictions by `heatmap-to-segmentation` (the Otsu submission: \
         {seg_mb:.1} MB of JSON). The competition has a public split of half the CXRs (whole \
         patients); **the server scores every submission on both splits** (validation, then \
         mIoU with 1000 bootstrap replicates on the public and on the private split), where \
         `eval.py` scores the whole set once.\n",
        data.cxrs
    )?;
    upload_to_scored(md, ctx, &data, &http, &scratch.join("upload"))?;
    leaderboard(md, ctx, &data, &http, &scratch.join("leaderboard"))?;
    throughput(md, ctx, &data, &http, &scratch)?;
    Ok(())
}

fn upload_to_scored(
    md: &mut String,
    ctx: &Ctx<'_>,
    data: &Data,
    http: &Http,
    dir: &Path,
) -> Result<()> {
    let bin = ctx.bin;
    let (db, tokens) = competition(bin, dir, &data.gt, 1)?;
    let server = serve(bin, &db, 1, &dir.join("serve.log"))?;
    let otsu = &data.preds[0];
    // Untimed: the page cache, the database's first writes.
    submit(bin, &server.base, &tokens[0], otsu, true, dir)?;
    let (mut whole, mut to_id, mut accepted, mut scoring) = (vec![], vec![], vec![], vec![]);
    for run in 0..UPLOAD_RUNS {
        let before = http.metric(&server.base, "chexlocalize_scoring_seconds_total")?;
        let sub = submit(bin, &server.base, &tokens[0], otsu, true, dir)?;
        let after = http.metric(&server.base, "chexlocalize_scoring_seconds_total")?;
        let view = http.get_json(
            &format!("{}/api/submissions/{}", server.base, sub.id),
            Some(&tokens[0]),
        )?;
        let server_s = server_seconds(&view)?;
        eprintln!(
            "server: upload run {run}: submit --wait {:.3} s (id after {:.3} s), accepted → \
             scored {server_s:.3} s, scoring {:.3} s",
            sub.total,
            sub.to_id,
            after - before
        );
        whole.push(sub.total);
        to_id.push(sub.to_id);
        accepted.push(server_s);
        scoring.push(after - before);
    }
    drop(server);
    // The same files through our `eval` and the original eval.py.
    let eval_args = |save: &Path| -> Vec<String> {
        [
            "--metric",
            "iou",
            "--gt_path",
            &s(&data.gt),
            "--pred_path",
            &s(otsu),
            "--true_pos_only",
            "True",
            "--save_dir",
            &s(save),
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let mut ours_args = vec!["eval".to_owned()];
    ours_args.extend(eval_args(&dir.join("eval_ours")));
    let mut ours_eval = f64::INFINITY;
    for _ in 0..2 {
        let o = measure_any(bin, &ours_args, dir)?;
        ensure!(o.code == Some(0), "chexlocalize eval failed: {}", o.stderr);
        ours_eval = ours_eval.min(o.measure.seconds);
    }
    let python = match ctx.python {
        Some((py, src)) => {
            let save = dir.join("eval_python");
            std::fs::create_dir_all(&save)?;
            let mut a = vec![s(&src.join("eval.py"))];
            a.extend(eval_args(&save));
            eprintln!("server: running the original eval.py on the same files");
            let o = measure_any(py, &a, dir)?;
            ensure!(o.code == Some(0), "eval.py failed: {}", o.stderr);
            Some(o.measure.seconds)
        }
        None => None,
    };
    let med = median(&whole);
    writeln!(md, "### Upload → scored\n")?;
    writeln!(
        md,
        "`serve --workers 1`; {UPLOAD_RUNS} runs of `chexlocalize submit --seg-path otsu.json \
         --wait` (after one untimed), each a whole process: the local check against \
         `/api/expected`, the upload, then the wait (`submit` asks every 500 ms; an idle worker \
         looks at the queue every 500 ms).\n"
    )?;
    writeln!(md, "| measure | min (s) | median (s) |")?;
    writeln!(md, "|---|---:|---:|")?;
    for (label, v) in [
        ("`submit --wait`, whole process", &whole),
        (
            "… of which until the id is printed (local check + upload)",
            &to_id,
        ),
        (
            "server: accepted → scored (`submitted_at` → `finished_at`)",
            &accepted,
        ),
        (
            "server: `scoring_ms` (claim → result, the scoring child)",
            &scoring,
        ),
    ] {
        writeln!(md, "| {label} | {:.3} | {:.3} |", min(v), median(v))?;
    }
    writeln!(
        md,
        "| `chexlocalize eval --metric iou` on the same files (one split), best of 2 | {ours_eval:.3} | |"
    )?;
    match python {
        Some(p) => writeln!(
            md,
            "| original `eval.py --metric iou` on the same files (one split), once | {p:.2} | |\n\n\
             The original `eval.py` takes {:.0}× the median upload → scored time of the server \
             (which scores two splits, plus the validation and the upload).",
            p / med
        )?,
        None => writeln!(
            md,
            "| original `eval.py` | NOT RUN (CHEXLOCALIZE_PY unset) | |"
        )?,
    }
    writeln!(
        md,
        "\nGoal of issue 19, under 2 s on 2 cores: {} (median {med:.2} s).\n",
        if med < 2.0 { "met" } else { "**not met**" }
    )?;
    Ok(())
}

fn leaderboard(md: &mut String, ctx: &Ctx<'_>, data: &Data, http: &Http, dir: &Path) -> Result<()> {
    let bin = ctx.bin;
    let (db, tokens) = competition(bin, dir, &data.gt, LEADERBOARD_TEAMS)?;
    let server = serve(bin, &db, 2, &dir.join("serve.log"))?;
    for (i, token) in tokens.iter().enumerate() {
        submit(
            bin,
            &server.base,
            token,
            &data.preds[i % data.preds.len()],
            false,
            dir,
        )?;
    }
    http.wait_scored(&server.base, LEADERBOARD_TEAMS, Duration::from_secs(600))?;
    let mut rows = Vec::new();
    for path in ["/api/leaderboard", "/"] {
        let url = format!("{}{path}", server.base);
        http.load(&url, 2, 50)?; // warm-up
        let l = http.load(&url, READERS, GETS_PER_READER)?;
        eprintln!(
            "server: {path}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {:.0} req/s",
            l.p(0.5) * 1e3,
            l.p(0.99) * 1e3,
            l.p(1.0) * 1e3,
            l.per_second()
        );
        rows.push((path, l));
    }
    drop(server);
    writeln!(md, "### Leaderboard under {READERS} concurrent readers\n")?;
    writeln!(
        md,
        "`serve --workers 2` (idle by then) with {LEADERBOARD_TEAMS} teams of one scored \
         submission each; {READERS} readers at once (tokio tasks in the benchmark's process, \
         one reqwest client, keep-alive, no compression asked), each {GETS_PER_READER} GETs in \
         a row, one page after the other; the readers run on the same 2 cores as the server. \
         Latency to the last byte of the body.\n"
    )?;
    writeln!(
        md,
        "| page | GETs | body (KB) | p50 (ms) | p99 (ms) | max (ms) | requests/s |"
    )?;
    writeln!(md, "|---|---:|---:|---:|---:|---:|---:|")?;
    for (path, l) in &rows {
        writeln!(
            md,
            "| `{path}` | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
            l.latencies.len(),
            l.body_bytes as f64 / 1e3,
            l.p(0.5) * 1e3,
            l.p(0.99) * 1e3,
            l.p(1.0) * 1e3,
            l.per_second()
        )?;
    }
    writeln!(md)?;
    Ok(())
}

fn throughput(
    md: &mut String,
    ctx: &Ctx<'_>,
    data: &Data,
    http: &Http,
    scratch: &Path,
) -> Result<()> {
    let bin = ctx.bin;
    let mut rows = Vec::new();
    for workers in [1usize, 2] {
        let dir = scratch.join(format!("throughput-{workers}"));
        let (db, tokens) = competition(bin, &dir, &data.gt, QUEUE_TEAMS)?;
        {
            let queueing = serve(bin, &db, 0, &dir.join("serve-queue.log"))?;
            for i in 0..QUEUED {
                let token = &tokens[i % QUEUE_TEAMS];
                submit(
                    bin,
                    &queueing.base,
                    token,
                    &data.preds[i % data.preds.len()],
                    false,
                    &dir,
                )?;
            }
        }
        let t = Instant::now();
        let server = serve(bin, &db, workers, &dir.join("serve.log"))?;
        http.wait_scored(&server.base, QUEUED, Duration::from_secs(1800))?;
        let secs = t.elapsed().as_secs_f64();
        let scoring = http.metric(&server.base, "chexlocalize_scoring_seconds_total")?;
        drop(server);
        eprintln!(
            "server: {QUEUED} queued submissions, {workers} worker(s): {secs:.2} s, \
             {:.1} per minute",
            QUEUED as f64 / secs * 60.0
        );
        rows.push((workers, secs, scoring / QUEUED as f64));
    }
    writeln!(md, "### Throughput\n")?;
    writeln!(
        md,
        "{QUEUED} submissions of {QUEUE_TEAMS} teams (the three predictions in turn) queued \
         while `serve --workers 0` ran; then `serve --workers N` on the same database, timed from \
         its start until `/metrics` (asked every 50 ms) counts all {QUEUED} scored. Each worker \
         scores one submission at a time in a child process; the 2 cores are shared by all of \
         them.\n"
    )?;
    writeln!(
        md,
        "| workers | seconds until all scored | scored per minute | mean `scoring_ms` (s) |"
    )?;
    writeln!(md, "|---:|---:|---:|---:|")?;
    for (w, secs, mean) in &rows {
        writeln!(
            md,
            "| {w} | {secs:.2} | {:.1} | {mean:.3} |",
            QUEUED as f64 / secs * 60.0
        )?;
    }
    writeln!(md)?;
    Ok(())
}
