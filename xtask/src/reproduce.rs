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

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::Args;

use crate::util::workspace_root;

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

/// One step of the pipeline: a `chexlocalize` command line, run when all its inputs exist.
struct Stage {
    name: &'static str,
    needs: Vec<Option<PathBuf>>,
    args: Vec<String>,
    /// Whether nothing later needs it, so that a failure is reported and the run goes on (the
    /// tuned-threshold segmentations: a task may have no usable tuning row on small data).
    optional: bool,
}

/// What happened to a stage.
struct Timing {
    name: &'static str,
    seconds: f64,
    status: String,
}

/// The first of `candidates` (relative to `data`) that exists.
fn first_existing(data: &Path, candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(|c| data.join(c)).find(|p| p.exists())
}

fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `text` of a path that may be missing (the stage is then skipped and the text unused).
fn opt(p: &Option<PathBuf>) -> String {
    p.as_deref().map(text).unwrap_or_default()
}

/// Whether a saliency segmentation file needs a tuning output.
fn extra_needed(file: &str) -> bool {
    file == "saliency_threshold.json" || file == "saliency_probcut.json"
}

/// The pipeline's stages, in order, for the inputs found in `data`.
fn stages(data: &Path, out: &Path, seed: u32) -> Vec<Stage> {
    let maps = first_existing(data, &["gradcam_maps_val"]);
    let gt_ann = first_existing(data, &["gt_annotations_val.json"]);
    let hb_ann = first_existing(
        data,
        &[
            "hb_annotations_val.json",
            "reference/derived_inputs/hb_annotations.json",
        ],
    );
    let hb_pts = first_existing(
        data,
        &[
            "hb_salient_pts_val.json",
            "reference/derived_inputs/hb_salient_pts.json",
        ],
    );
    let o = |rel: &str| out.join(rel);
    // Outputs of earlier stages count as present when the stage that writes them will run.
    let after = |inputs: &[&Option<PathBuf>], path: PathBuf| {
        inputs.iter().all(|i| i.is_some()).then_some(path)
    };
    let gt = after(&[&gt_ann], o("segmentations/gt_segmentations.json"));
    let hb = after(&[&hb_ann], o("segmentations/hb_segmentations.json"));
    let otsu = after(&[&maps], o("segmentations/saliency_otsu.json"));
    let thresholds = after(&[&maps, &gt], o("tune/tuning_results.csv"));
    let cutoffs = after(&[&maps, &gt], o("tune/probability_tuning_results.csv"));
    let eval_iou = after(&[&gt, &otsu], o("eval_iou_tp"));
    let eval_iou_hb = after(&[&gt, &hb], o("eval_iou_hb_tp"));
    let eval_hit = after(&[&gt, &maps], o("eval_hitmiss"));
    let eval_hit_hb = after(&[&gt, &hb_pts], o("eval_hitmiss_hb"));
    let features = after(&[&gt_ann, &gt], o("features"));
    let seed = seed.to_string();
    let owned = |args: &[&str]| {
        args.iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<String>>()
    };
    let mut v = Vec::new();
    let mut stage = |name: &'static str, needs: &[&Option<PathBuf>], args: Vec<String>| {
        v.push(Stage {
            name,
            needs: needs.iter().map(|n| (*n).clone()).collect(),
            args,
            optional: name.contains("(tuned"),
        })
    };
    stage(
        "inspect heatmaps",
        &[&maps],
        owned(&[
            "inspect",
            &opt(&maps),
            "--format",
            "csv",
            "--output",
            &text(&o("inspect/pkl_summary.csv")),
        ]),
    );
    stage(
        "ground truth: annotations -> masks",
        &[&gt_ann],
        owned(&[
            "annotation-to-segmentation",
            "--ann_path",
            &opt(&gt_ann),
            "--output_path",
            &opt(&gt),
        ]),
    );
    stage(
        "human benchmark: annotations -> masks",
        &[&hb_ann],
        owned(&[
            "annotation-to-segmentation",
            "--ann_path",
            &opt(&hb_ann),
            "--output_path",
            &opt(&hb),
        ]),
    );
    stage(
        "tune heatmap threshold",
        &[&maps, &gt],
        owned(&[
            "tune-heatmap-threshold",
            "--map_dir",
            &opt(&maps),
            "--gt_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("tune")),
        ]),
    );
    stage(
        "tune probability cutoff",
        &[&maps, &gt],
        owned(&[
            "tune-probability-threshold",
            "--map_dir",
            &opt(&maps),
            "--gt_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("tune")),
        ]),
    );
    let none = None;
    for (name, extra, file, tuned) in [
        (
            "saliency: heatmaps -> masks (Otsu)",
            vec![],
            "saliency_otsu.json",
            &none,
        ),
        (
            "saliency: heatmaps -> masks (tuned thresholds)",
            vec!["--threshold_path".to_owned(), opt(&thresholds)],
            "saliency_threshold.json",
            &thresholds,
        ),
        (
            "saliency: heatmaps -> masks (tuned cutoffs)",
            vec!["--probability_threshold_path".to_owned(), opt(&cutoffs)],
            "saliency_probcut.json",
            &cutoffs,
        ),
        (
            "saliency: heatmaps -> masks (smoothed, k=5)",
            owned(&["--if_smoothing", "True", "--k", "5"]),
            "saliency_otsu_smooth_k5.json",
            &none,
        ),
    ] {
        let mut args = owned(&[
            "heatmap-to-segmentation",
            "--map_dir",
            &opt(&maps),
            "--output_path",
            &text(&o(&format!("segmentations/{file}"))),
        ]);
        args.extend(extra);
        // A tuned variant needs its tuning output as well.
        let needs: Vec<&Option<PathBuf>> = if extra_needed(file) {
            vec![&maps, tuned]
        } else {
            vec![&maps]
        };
        stage(name, &needs, args);
    }
    stage(
        "eval mIoU, saliency (Otsu masks)",
        &[&gt, &otsu],
        owned(&[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&otsu),
            "--true_pos_only",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_iou),
        ]),
    );
    stage(
        "eval mIoU, human benchmark",
        &[&gt, &hb],
        owned(&[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&hb),
            "--true_pos_only",
            "True",
            "--if_human_benchmark",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_iou_hb),
        ]),
    );
    stage(
        "eval hit rate, saliency",
        &[&gt, &maps],
        owned(&[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&maps),
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_hit),
        ]),
    );
    stage(
        "eval hit rate, human benchmark",
        &[&gt, &hb_pts],
        owned(&[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&hb_pts),
            "--if_human_benchmark",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_hit_hb),
        ]),
    );
    let bootstrap = |dir: &Option<PathBuf>, file: &str| opt(&dir.as_ref().map(|d| d.join(file)));
    stage(
        "percentage decrease, mIoU",
        &[&eval_iou, &eval_iou_hb],
        owned(&[
            "calculate-percentage-decrease",
            "--metric",
            "miou",
            "--hb_bootstrap_results",
            &bootstrap(
                &eval_iou_hb,
                "iou_humanbenchmark_bootstrap_results_per_cxr.csv",
            ),
            "--pred_bootstrap_results",
            &bootstrap(&eval_iou, "iou_bootstrap_results_per_cxr.csv"),
            "--save_dir",
            &text(&o("pct_decrease")),
        ]),
    );
    stage(
        "percentage decrease, hit rate",
        &[&eval_hit, &eval_hit_hb],
        owned(&[
            "calculate-percentage-decrease",
            "--metric",
            "hitrate",
            "--hb_bootstrap_results",
            &bootstrap(
                &eval_hit_hb,
                "hitmiss_humanbenchmark_bootstrap_results_per_cxr.csv",
            ),
            "--pred_bootstrap_results",
            &bootstrap(&eval_hit, "hitmiss_bootstrap_results_per_cxr.csv"),
            "--save_dir",
            &text(&o("pct_decrease")),
        ]),
    );
    stage(
        "precision / recall / specificity",
        &[&gt, &otsu, &hb],
        owned(&[
            "precision-recall-specificity",
            "--gt_path",
            &opt(&gt),
            "--pred_seg_path",
            &opt(&otsu),
            "--hb_seg_path",
            &opt(&hb),
            "--save_dir",
            &text(&o("precision_recall_specificity")),
        ]),
    );
    stage(
        "count segmentations",
        &[&gt],
        owned(&[
            "count-segs",
            "--seg_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("count_segs")),
        ]),
    );
    stage(
        "pathology features",
        &[&gt_ann, &gt],
        owned(&[
            "compute-pathology-features",
            "--gt_ann",
            &opt(&gt_ann),
            "--gt_seg",
            &opt(&gt),
            "--save_dir",
            &opt(&features),
        ]),
    );
    stage(
        "pathology feature plots",
        &[&features],
        owned(&[
            "plot-pathology-features",
            "--features_dir",
            &opt(&features),
            "--save_dir",
            &text(&o("feature_plots")),
        ]),
    );
    let per_cxr = |dir: &Option<PathBuf>, file: &str| opt(&dir.as_ref().map(|d| d.join(file)));
    let mut regression = owned(&[
        "regression-pathology-features",
        "--features_dir",
        &opt(&features),
        "--pred_iou_results",
        &per_cxr(&eval_iou, "iou_results_per_cxr.csv"),
        "--pred_hitmiss_results",
        &per_cxr(&eval_hit, "hitmiss_results_per_cxr.csv"),
        "--save_dir",
        &text(&o("regression_features")),
    ]);
    if eval_iou_hb.is_some() && eval_hit_hb.is_some() {
        regression.extend(owned(&[
            "--evaluate_hb",
            "True",
            "--hb_iou_results",
            &per_cxr(&eval_iou_hb, "iou_humanbenchmark_results_per_cxr.csv"),
            "--hb_hitmiss_results",
            &per_cxr(&eval_hit_hb, "hitmiss_humanbenchmark_results_per_cxr.csv"),
        ]));
    }
    stage(
        "regression on pathology features",
        &[&features, &eval_iou, &eval_hit],
        regression,
    );
    for (metric, dir, file) in [
        ("iou", &eval_iou, "iou_results_per_cxr.csv"),
        ("hitmiss", &eval_hit, "hitmiss_results_per_cxr.csv"),
    ] {
        stage(
            if metric == "iou" {
                "regression on model probability, mIoU"
            } else {
                "regression on model probability, hit rate"
            },
            &[&maps, dir],
            owned(&[
                "regression-model-assurance",
                "--metric",
                metric,
                "--map_dir",
                &opt(&maps),
                "--pred_results",
                &per_cxr(dir, file),
                "--save_dir",
                &text(&o("regression_model_assurance")),
            ]),
        );
    }
    v
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
