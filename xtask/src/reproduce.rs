//! `cargo xtask reproduce`: the paper's pipeline, as far as this release implements it.
//!
//! Runs each available stage on a data folder laid out like the original repository's `sample/`
//! (default: the committed `fixtures/`) and writes every output under `--out` (default
//! `target/reproduce/`), one folder per stage, then prints a timing table. Stages whose inputs are
//! missing are skipped with a message.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;

use crate::util::{build_cli, run_cli, workspace_root};

/// Arguments of `cargo xtask reproduce`.
#[derive(Args, Debug)]
pub(crate) struct ReproduceArgs {
    /// Data folder laid out like the original `sample/` (default: `fixtures/`).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder (default: `target/reproduce/`).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The first of `candidates` (relative to `data`) that exists.
fn first_existing(data: &Path, candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(|c| data.join(c)).find(|p| p.exists())
}

struct Runner {
    bin: PathBuf,
    data: PathBuf,
    out: PathBuf,
    timings: Vec<(&'static str, f64, bool)>,
}

impl Runner {
    /// Runs one stage: `args` of the CLI, or a skip message when an input is missing.
    fn stage(
        &mut self,
        name: &'static str,
        inputs: &[&Option<PathBuf>],
        args: &[&str],
    ) -> Result<()> {
        let t = Instant::now();
        let skipped = inputs.iter().any(|i| i.is_none());
        if skipped {
            println!("{name:<40} skipped: input missing");
        } else {
            run_cli(&self.bin, &self.data, args).with_context(|| format!("stage {name}"))?;
            println!("{name:<40} done");
        }
        self.timings
            .push((name, t.elapsed().as_secs_f64(), skipped));
        Ok(())
    }

    fn out(&self, rel: &str) -> String {
        self.out.join(rel).to_string_lossy().into_owned()
    }
}

fn s(p: &Option<PathBuf>) -> String {
    p.as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
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
    std::fs::create_dir_all(&out)?;
    let out = out.canonicalize()?;
    let mut r = Runner {
        bin: build_cli()?,
        data: data.clone(),
        out,
        timings: Vec::new(),
    };

    let maps = first_existing(&data, &["gradcam_maps_val"]);
    let gt_ann = first_existing(&data, &["gt_annotations_val.json"]);
    let hb_ann = first_existing(
        &data,
        &[
            "hb_annotations_val.json",
            "reference/derived_inputs/hb_annotations.json",
        ],
    );
    let hb_pts = first_existing(
        &data,
        &[
            "hb_salient_pts_val.json",
            "reference/derived_inputs/hb_salient_pts.json",
        ],
    );
    let thresholds = first_existing(&data, &["tuning_results.csv"]);
    let cutoffs = first_existing(&data, &["probability_tuning_results.csv"]);
    let pred_seg = maps
        .as_ref()
        .map(|_| r.out.join("segmentations/saliency_otsu.json"));
    let gt = gt_ann
        .as_ref()
        .map(|_| r.out.join("segmentations/gt_segmentations.json"));
    let hb = hb_ann
        .as_ref()
        .map(|_| r.out.join("segmentations/hb_segmentations.json"));

    let inspect = r.out("inspect");
    std::fs::create_dir_all(&inspect)?;
    let t = Instant::now();
    if maps.is_some() {
        let csv = run_cli(&r.bin, &data, &["inspect", &s(&maps), "--format", "csv"])?;
        std::fs::write(r.out.join("inspect/pkl_summary.csv"), csv)?;
        println!("{:<40} done", "inspect heatmaps");
    }
    r.timings.push((
        "inspect heatmaps",
        t.elapsed().as_secs_f64(),
        maps.is_none(),
    ));

    let (gt_s, hb_s) = (s(&gt), s(&hb));
    r.stage(
        "ground truth: annotations -> masks",
        &[&gt_ann],
        &[
            "annotation-to-segmentation",
            "--ann_path",
            &s(&gt_ann),
            "--output_path",
            &gt_s,
        ],
    )?;
    r.stage(
        "human benchmark: annotations -> masks",
        &[&hb_ann],
        &[
            "annotation-to-segmentation",
            "--ann_path",
            &s(&hb_ann),
            "--output_path",
            &hb_s,
        ],
    )?;
    let pred_s = s(&pred_seg);
    r.stage(
        "saliency: heatmaps -> masks (Otsu)",
        &[&maps],
        &[
            "heatmap-to-segmentation",
            "--map_dir",
            &s(&maps),
            "--output_path",
            &pred_s,
        ],
    )?;
    let o = r.out("segmentations/saliency_threshold.json");
    r.stage(
        "saliency: heatmaps -> masks (thresholds)",
        &[&maps, &thresholds],
        &[
            "heatmap-to-segmentation",
            "--map_dir",
            &s(&maps),
            "--threshold_path",
            &s(&thresholds),
            "--output_path",
            &o,
        ],
    )?;
    let o = r.out("segmentations/saliency_probcut.json");
    r.stage(
        "saliency: heatmaps -> masks (cutoffs)",
        &[&maps, &cutoffs],
        &[
            "heatmap-to-segmentation",
            "--map_dir",
            &s(&maps),
            "--probability_threshold_path",
            &s(&cutoffs),
            "--output_path",
            &o,
        ],
    )?;
    let o = r.out("segmentations/saliency_otsu_smooth_k5.json");
    r.stage(
        "saliency: heatmaps -> masks (smoothed)",
        &[&maps],
        &[
            "heatmap-to-segmentation",
            "--map_dir",
            &s(&maps),
            "--if_smoothing",
            "True",
            "--k",
            "5",
            "--output_path",
            &o,
        ],
    )?;
    let d = r.out("eval_iou_hb_tp");
    r.stage(
        "eval mIoU, human benchmark",
        &[&gt, &hb],
        &[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &gt_s,
            "--pred_path",
            &hb_s,
            "--if_human_benchmark",
            "True",
            "--save_dir",
            &d,
        ],
    )?;
    let d = r.out("eval_iou_tp");
    r.stage(
        "eval mIoU, saliency (Otsu masks)",
        &[&gt, &pred_seg],
        &[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &gt_s,
            "--pred_path",
            &s(&pred_seg),
            "--save_dir",
            &d,
        ],
    )?;
    let d = r.out("eval_hitmiss");
    r.stage(
        "eval hit rate, saliency",
        &[&gt, &maps],
        &[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &gt_s,
            "--pred_path",
            &s(&maps),
            "--save_dir",
            &d,
        ],
    )?;
    let d = r.out("eval_hitmiss_hb");
    r.stage(
        "eval hit rate, human benchmark",
        &[&gt, &hb_pts],
        &[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &gt_s,
            "--pred_path",
            &s(&hb_pts),
            "--if_human_benchmark",
            "True",
            "--save_dir",
            &d,
        ],
    )?;
    let (hb_bs, pred_bs) = (
        r.out("eval_hitmiss_hb/hitmiss_humanbenchmark_bootstrap_results_per_cxr.csv"),
        r.out("eval_hitmiss/hitmiss_bootstrap_results_per_cxr.csv"),
    );
    let d = r.out("pct_decrease");
    r.stage(
        "percentage decrease, hit rate",
        &[&gt, &maps, &hb_pts],
        &[
            "calculate-percentage-decrease",
            "--metric",
            "hitrate",
            "--hb_bootstrap_results",
            &hb_bs,
            "--pred_bootstrap_results",
            &pred_bs,
            "--save_dir",
            &d,
        ],
    )?;
    let (hb_bs, pred_bs) = (
        r.out("eval_iou_hb_tp/iou_humanbenchmark_bootstrap_results_per_cxr.csv"),
        r.out("eval_iou_tp/iou_bootstrap_results_per_cxr.csv"),
    );
    let d = r.out("pct_decrease");
    r.stage(
        "percentage decrease, mIoU",
        &[&gt, &hb, &pred_seg],
        &[
            "calculate-percentage-decrease",
            "--metric",
            "miou",
            "--hb_bootstrap_results",
            &hb_bs,
            "--pred_bootstrap_results",
            &pred_bs,
            "--save_dir",
            &d,
        ],
    )?;
    let d = r.out("count_segs_gt");
    r.stage(
        "count segmentations",
        &[&gt],
        &["count-segs", "--seg_path", &gt_s, "--save_dir", &d],
    )?;
    let d = r.out("precision_recall_specificity");
    r.stage(
        "precision / recall / specificity",
        &[&gt, &hb, &pred_seg],
        &[
            "precision-recall-specificity",
            "--gt_path",
            &gt_s,
            "--pred_seg_path",
            &s(&pred_seg),
            "--hb_seg_path",
            &hb_s,
            "--save_dir",
            &d,
        ],
    )?;

    println!("\n{:<40} {:>9}", "stage", "seconds");
    for (name, secs, skipped) in &r.timings {
        println!(
            "{name:<40} {secs:>9.3}{}",
            if *skipped { "  (skipped)" } else { "" }
        );
    }
    println!("\noutputs in {}", r.out.display());
    Ok(())
}
