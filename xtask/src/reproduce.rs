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

struct Stage {
    name: &'static str,
    outcome: String,
    seconds: f64,
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
    let bin = build_cli()?;
    let mut stages = Vec::new();
    let mut stage = |name: &'static str, f: &mut dyn FnMut() -> Result<String>| -> Result<()> {
        let t = Instant::now();
        let outcome = f()?;
        println!("{name:<32} {outcome}");
        stages.push(Stage {
            name,
            outcome,
            seconds: t.elapsed().as_secs_f64(),
        });
        Ok(())
    };
    let maps = data.join("gradcam_maps_val");
    stage("inspect heatmaps", &mut || {
        if !maps.is_dir() {
            return Ok("skipped: no gradcam_maps_val/".into());
        }
        let csv = run_cli(
            &bin,
            &data,
            &["inspect", "gradcam_maps_val", "--format", "csv"],
        )?;
        let dir = out.join("inspect");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("pkl_summary.csv"), &csv)?;
        Ok(format!(
            "{} heatmaps summarised -> inspect/pkl_summary.csv",
            csv.lines().count() - 1
        ))
    })?;
    let gt = data.join("gt_segmentations_val.json");
    let pred = data.join("gradcam_segmentations_val_sample.json");
    let have = |p: &Path| p.is_file();
    for (name, tp) in [
        ("eval iou (true positives)", "True"),
        ("eval iou (all)", "False"),
    ] {
        stage(name, &mut || {
            if !have(&gt) || !have(&pred) {
                return Ok("skipped: needs gt_segmentations_val.json and gradcam_segmentations_val_sample.json (annotation and heatmap segmentation are not in this release)".into());
            }
            let dir = out.join(if tp == "True" {
                "eval_iou_tp"
            } else {
                "eval_iou_all"
            });
            let (g, p, d) = (
                gt.to_string_lossy(),
                pred.to_string_lossy(),
                dir.to_string_lossy(),
            );
            run_cli(
                &bin,
                &data,
                &[
                    "eval",
                    "--metric",
                    "iou",
                    "--gt_path",
                    &g,
                    "--pred_path",
                    &p,
                    "--true_pos_only",
                    tp,
                    "--save_dir",
                    &d,
                ],
            )?;
            Ok(format!(
                "-> {}",
                dir.strip_prefix(&out).unwrap_or(&dir).display()
            ))
        })?;
    }
    stage("eval hit rate (pointing game)", &mut || {
        if !have(&gt) || !maps.is_dir() {
            return Ok("skipped: needs gt_segmentations_val.json and gradcam_maps_val/".into());
        }
        let dir = out.join("eval_hitmiss");
        let (g, d) = (gt.to_string_lossy(), dir.to_string_lossy());
        run_cli(
            &bin,
            &data,
            &[
                "eval",
                "--metric",
                "hitmiss",
                "--gt_path",
                &g,
                "--pred_path",
                "gradcam_maps_val",
                "--save_dir",
                &d,
            ],
        )?;
        Ok("-> eval_hitmiss".into())
    })?;
    stage("count segs", &mut || {
        if !have(&gt) {
            return Ok("skipped: needs gt_segmentations_val.json".into());
        }
        let dir = out.join("count_segs_gt");
        let (g, d) = (gt.to_string_lossy(), dir.to_string_lossy());
        run_cli(
            &bin,
            &data,
            &["count-segs", "--seg_path", &g, "--save_dir", &d],
        )?;
        Ok("-> count_segs_gt/n_segs.csv".into())
    })?;
    println!("\n{:<32} {:>9}", "stage", "seconds");
    for s in &stages {
        println!(
            "{:<32} {:>9.3}  {}",
            s.name,
            s.seconds,
            if s.outcome.starts_with("skipped") {
                "(skipped)"
            } else {
                ""
            }
        );
    }
    println!("\noutputs in {}", out.display());
    Ok(())
}
