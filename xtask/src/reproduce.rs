//! `cargo xtask reproduce`: the paper's pipeline end to end, in-process.
//!
//! Runs every stage on a data folder laid out like the original repository's `sample/`
//! (default: the committed `fixtures/`) through the `chexlocalize` commands as a library
//! (`chexlocalize_cli::run`, no subprocesses), writes every output under `--out` (default
//! `target/reproduce/`, one folder per stage), `run.json` (parameters and timings), then the
//! HTML report, and prints a timing table. A stage whose input is missing (no human benchmark,
//! no heatmaps, ...) is skipped with a message; a stage that fails stops the run with its error.
//!
//! Output layout (the report reads it):
//! ```text
//! run.json                                  {"parameters": {...}, "stages": [{"name", "seconds", "status"}]}
//! inspect/pkl_summary.csv                   what every heatmap pickle holds
//! segmentations/gt_segmentations.json       ground truth, human benchmark, saliency masks
//! segmentations/hb_segmentations.json       (Otsu, tuned thresholds, tuned cutoffs, smoothed)
//! segmentations/saliency_{otsu,threshold,probcut,otsu_smooth_k5}.json
//! tune/tuning_results.csv, tune/probability_tuning_results.csv
//! eval_iou_tp/, eval_iou_hb_tp/, eval_hitmiss/, eval_hitmiss_hb/   eval.py's three CSVs each
//! pct_decrease/, precision_recall_specificity/, count_segs/
//! features/, feature_plots/, regression_features/, regression_model_assurance/
//! report.html
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use crate::util::workspace_root;
use stages::{stages, text};

mod stages;

/// Arguments of `cargo xtask reproduce`.
#[derive(Args, Debug)]
pub(crate) struct ReproduceArgs {
    /// Data folder laid out like the original `sample/` (default: `fixtures/`).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder (default: `target/reproduce/`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Bootstrap seed of the evaluations.
    #[arg(long, default_value_t = 0)]
    seed: u32,
}

/// What happened to a stage.
struct Timing {
    name: &'static str,
    seconds: f64,
    status: String,
}

/// `run.json`: the run's parameters and the stages' timings.
fn run_json(params: &[(&str, String)], timings: &[Timing]) -> String {
    let mut s = String::from("{\"parameters\": {");
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        chexlocalize_io::push_json_string(&mut s, k);
        s.push_str(": ");
        chexlocalize_io::push_json_string(&mut s, v);
    }
    s.push_str("}, \"stages\": [");
    for (i, t) in timings.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str("{\"name\": ");
        chexlocalize_io::push_json_string(&mut s, t.name);
        s.push_str(&format!(
            ", \"seconds\": {}, \"status\": ",
            chexlocalize_io::json_float(t.seconds)
        ));
        chexlocalize_io::push_json_string(&mut s, &t.status);
        s.push('}');
    }
    s.push_str("]}\n");
    s
}

/// The output of a command, or `unknown`.
fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(crate) fn run(args: &ReproduceArgs) -> Result<()> {
    let root = workspace_root();
    let data = args.data.clone().unwrap_or_else(|| root.join("fixtures"));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/reproduce"));
    let data = data
        .canonicalize()
        .with_context(|| format!("data folder {}", data.display()))?;
    std::fs::create_dir_all(&out).with_context(|| format!("output folder {}", out.display()))?;
    let out = out.canonicalize()?;
    let stages = stages(&data, &out, args.seed);
    let n = stages.len();
    let started = Instant::now();
    let mut timings = Vec::with_capacity(n + 1);
    for (i, st) in stages.iter().enumerate() {
        let t = Instant::now();
        let status = if st.needs.iter().all(Option::is_some) {
            eprintln!("[{}/{n}] {}", i + 1, st.name);
            let args = std::iter::once("chexlocalize".to_owned()).chain(st.args.clone());
            match chexlocalize_cli::run(args) {
                Ok(()) => "done".to_owned(),
                Err(e) if st.optional => {
                    let why = chexlocalize_cli::error_text(&e);
                    eprintln!("[{}/{n}] {} failed, going on: {why}", i + 1, st.name);
                    format!("failed: {why}")
                }
                Err(e) => {
                    let why = chexlocalize_cli::error_text(&e);
                    return Err(anyhow!("stage {:?}: {why}", st.name));
                }
            }
        } else {
            eprintln!("[{}/{n}] {} skipped: an input is missing", i + 1, st.name);
            "skipped: an input is missing".to_owned()
        };
        timings.push(Timing {
            name: st.name,
            seconds: t.elapsed().as_secs_f64(),
            status,
        });
    }
    let params = [
        ("data", text(&data)),
        ("output", text(&out)),
        ("bootstrap replicates", "1000".to_owned()),
        ("bootstrap seed", args.seed.to_string()),
        (
            "bootstrap RNG",
            "numpy (MT19937, np.random.choice)".to_owned(),
        ),
        (
            "saliency masks evaluated",
            "Otsu (segmentations/saliency_otsu.json)".to_owned(),
        ),
        (
            "fixed thresholds",
            "tuned here: tune/tuning_results.csv".to_owned(),
        ),
        (
            "probability cutoffs",
            "tuned here: tune/probability_tuning_results.csv".to_owned(),
        ),
        ("chexlocalize-rs", env!("CARGO_PKG_VERSION").to_owned()),
        (
            "git commit",
            command_output("git", &["-C", &text(&root), "rev-parse", "--short", "HEAD"]),
        ),
        ("rustc", command_output("rustc", &["--version"])),
        (
            "platform",
            format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        ),
        (
            "threads",
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string(),
        ),
        (
            "pipeline seconds",
            format!("{:.3}", started.elapsed().as_secs_f64()),
        ),
    ];
    chexlocalize_io::write_atomic(
        &out.join("run.json"),
        run_json(&params, &timings).as_bytes(),
    )?;
    // The report reads run.json (parameters and the stage table), so it comes last.
    let t = Instant::now();
    eprintln!("[report] report.html");
    chexlocalize_cli::run([
        "chexlocalize".to_owned(),
        "report".to_owned(),
        "--run-dir".to_owned(),
        text(&out),
        "--data".to_owned(),
        text(&data),
    ])
    .map_err(|e| anyhow!("stage \"report\": {}", chexlocalize_cli::error_text(&e)))?;
    timings.push(Timing {
        name: "HTML report",
        seconds: t.elapsed().as_secs_f64(),
        status: "done".to_owned(),
    });

    println!("\n{:<48} {:>9}", "stage", "seconds");
    for t in &timings {
        let note = if t.status == "done" {
            String::new()
        } else {
            format!("  ({})", t.status.split(':').next().unwrap_or_default())
        };
        println!("{:<48} {:>9.3}{note}", t.name, t.seconds);
    }
    println!("{:<48} {:>9.3}", "total", started.elapsed().as_secs_f64());
    println!(
        "\noutputs in {}; open {}",
        out.display(),
        out.join("report.html").display()
    );
    Ok(())
}
