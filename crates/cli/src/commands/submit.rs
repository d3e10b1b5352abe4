//! `chexlocalize submit`: checks a submission locally with the server's own validator, uploads
//! it, and (with `--wait`) follows it until it is scored.
//!
//! The expected CXRs and image sizes come from the server (`GET /api/expected`: ids and sizes
//! only, never the ground truth), so the local check is the one the server runs. Heatmaps of
//! `--map-dir` are packed into one tar archive (flat names, no folders) for the pointing game.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chexlocalize::{Options, ReportFormat, ValidateSubmission};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Arguments of `chexlocalize submit`.
#[derive(Args, Debug)]
pub(crate) struct SubmitArgs {
    /// The competition server, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    server: String,
    /// The team's token (from the organisers' `admin add-team`).
    #[arg(long, env = "CHEXLOCALIZE_TOKEN", hide_env_values = true)]
    token: String,
    /// The segmentation JSON to submit.
    #[arg(long = "seg-path", visible_alias = "seg_path")]
    seg_path: PathBuf,
    /// A folder of per-pixel confidence maps (heatmaps) for the pointing game.
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: Option<PathBuf>,
    /// A note kept with the submission.
    #[arg(long)]
    note: Option<String>,
    /// Wait until the submission is scored (or rejected) and print its public scores.
    #[arg(long)]
    wait: bool,
    /// Longest wait with `--wait`, in seconds: 1 to 86400.
    #[arg(long, default_value_t = 600, value_parser = crate::args::int_in::<u64>(1, 86_400, "a number of seconds"))]
    wait_seconds: u64,
}

/// Exit status of `submit`: scored, or rejected / failed (the reasons printed).
pub(crate) enum Submitted {
    /// Uploaded (and scored, with `--wait`).
    Ok,
    /// The local check, the server or the scorer refused it.
    Rejected,
}

/// Runs `submit`; prints the submission id as the first line of its output.
pub(crate) fn submit(a: &SubmitArgs, options: &Options) -> Result<Submitted> {
    let server = a.server.trim_end_matches('/');
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .context("starting the HTTP client")?;
    // 1. The local check, against the server's list of CXRs and sizes.
    let expected: Value = client
        .get(format!("{server}/api/expected"))
        .bearer_auth(&a.token)
        .send()
        .and_then(|r| r.error_for_status())
        .with_context(|| format!("{server}/api/expected"))?
        .json()
        .with_context(|| format!("{server}/api/expected: expected JSON"))?;
    let tmp = tempfile::tempdir().context("a temporary folder")?;
    let expected_path = tmp.path().join("expected.json");
    std::fs::write(&expected_path, expected_annotations(&expected)?)?;
    let check = chexlocalize::check_submission(
        &ValidateSubmission {
            seg_path: a.seg_path.clone(),
            map_dir: a.map_dir.clone(),
            expected: expected_path,
            images_root: None,
            format: ReportFormat::Text,
        },
        options,
    )
    .map_err(|e| anyhow!("{}", chexlocalize::chain_text(&e)))?;
    if !check.is_valid() {
        eprint!("{}", check.report);
        eprintln!("not uploaded: fix the problems above first");
        return Ok(Submitted::Rejected);
    }
    eprintln!("local check: {}", check.summary);
    // 2. The upload.
    let seg = chexlocalize_io::read_bytes(&a.seg_path, &options.limits)?;
    let mut form = reqwest::blocking::multipart::Form::new().part(
        "segmentations",
        reqwest::blocking::multipart::Part::bytes(seg)
            .file_name("segmentations.json")
            .mime_str("application/json")?,
    );
    if let Some(dir) = &a.map_dir {
        let archive = chexlocalize_server::pack_map_dir(dir)?;
        form = form.part(
            "maps",
            reqwest::blocking::multipart::Part::bytes(archive)
                .file_name("maps.tar")
                .mime_str("application/x-tar")?,
        );
    }
    if let Some(note) = &a.note {
        form = form.text("note", note.clone());
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("uploading");
    bar.enable_steady_tick(Duration::from_millis(120));
    let response = client
        .post(format!("{server}/api/submissions"))
        .bearer_auth(&a.token)
        .multipart(form)
        .send()
        .with_context(|| format!("{server}/api/submissions"));
    bar.finish_and_clear();
    let response = response?;
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    if !status.is_success() {
        let why = body["error"].as_str().unwrap_or("no reason given");
        eprintln!("refused by the server ({status}): {why}");
        return Ok(Submitted::Rejected);
    }
    let id = body["id"].as_i64().ok_or_else(|| {
        anyhow!("{server}/api/submissions: expected {{\"id\": ...}} in the answer")
    })?;
    println!("{id}");
    if !a.wait {
        eprintln!(
            "submission {id}: {}",
            body["status"].as_str().unwrap_or("queued")
        );
        return Ok(Submitted::Ok);
    }
    // 3. The wait.
    let deadline = Instant::now() + Duration::from_secs(a.wait_seconds);
    loop {
        let v: Value = client
            .get(format!("{server}/api/submissions/{id}"))
            .bearer_auth(&a.token)
            .send()
            .and_then(|r| r.error_for_status())
            .with_context(|| format!("{server}/api/submissions/{id}"))?
            .json()?;
        match v["status"].as_str().unwrap_or("") {
            "scored" => {
                print_scores(&v);
                return Ok(Submitted::Ok);
            }
            s @ ("invalid" | "failed") => {
                println!("status: {s}");
                for p in v["problems"].as_array().into_iter().flatten() {
                    println!(
                        "  {}",
                        p.as_str().map_or_else(|| p.to_string(), str::to_owned)
                    );
                }
                if let Some(r) = v["reason"].as_str() {
                    println!("  {r}");
                }
                return Ok(Submitted::Rejected);
            }
            other => {
                if Instant::now() > deadline {
                    bail!("submission {id} still {other} after {} s", a.wait_seconds);
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    }
}

/// `{cxr_id: [h, w]}` from the server as an annotation file with only image sizes, which the
/// validator reads as the expected CXRs.
fn expected_annotations(v: &Value) -> Result<Vec<u8>> {
    let map = v
        .as_object()
        .ok_or_else(|| anyhow!("/api/expected: expected an object {{cxr_id: [h, w]}}"))?;
    let mut out = serde_json::Map::new();
    for (id, size) in map {
        out.insert(id.clone(), serde_json::json!({ "img_size": size }));
    }
    Ok(serde_json::to_vec(&out)?)
}

/// The public scores of a scored submission.
fn print_scores(v: &Value) {
    println!("status: scored");
    let s = &v["public"];
    if let Some(m) = s["miou"].as_f64() {
        println!(
            "mIoU (public split): {m:.4} [{:.4}, {:.4}]",
            s["miou_lower"].as_f64().unwrap_or(f64::NAN),
            s["miou_upper"].as_f64().unwrap_or(f64::NAN)
        );
    }
    if let Some(h) = s["hit_rate"].as_f64() {
        println!("hit rate (public split): {h:.4}");
    }
    if let Some(tasks) = s["tasks"].as_object() {
        for (task, t) in tasks {
            println!(
                "  {task:<28} {:.4} [{:.4}, {:.4}] n={}",
                t["miou"].as_f64().unwrap_or(f64::NAN),
                t["lower"].as_f64().unwrap_or(f64::NAN),
                t["upper"].as_f64().unwrap_or(f64::NAN),
                t["n"]
            );
        }
    }
}
