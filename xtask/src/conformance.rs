//! `cargo xtask conformance`: our commands against the Python reference's outputs.
//!
//! Each check runs the `chexlocalize` binary on the original sample (read in place, never copied)
//! and compares its outputs with `reference/` (see `reference/README.md` there for the commands
//! that produced them). The run fails if any check fails.

use std::path::Path;

use anyhow::{Result, bail};

use crate::util::{build_cli, run_cli};

struct Report {
    passed: usize,
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String>) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                println!("ok    {name}: {detail}");
            }
            Err(e) => {
                println!("FAIL  {name}: {e:#}");
                self.failures.push(name.to_owned());
            }
        }
    }
}

pub(crate) fn run(sample: &Path) -> Result<()> {
    if !sample.join("reference").is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            bail!("{}: the sample with its reference/ outputs is required when CI=true", sample.display());
        }
        println!("conformance: {} not found, skipped (set --sample to the original sample folder)", sample.display());
        return Ok(());
    }
    let sample = sample.canonicalize()?;
    let bin = build_cli()?;
    let mut report = Report {
        passed: 0,
        failures: Vec::new(),
    };
    report.check("inspect gradcam_maps_val", inspect_pickles(&bin, &sample));
    report.check("inspect segmentations", inspect_segmentations(&bin, &sample));
    println!(
        "conformance: {} passed, {} failed",
        report.passed,
        report.failures.len()
    );
    if !report.failures.is_empty() {
        bail!("conformance failed: {}", report.failures.join(", "));
    }
    Ok(())
}

/// Splits CSV text into rows of fields (no quoted fields occur in the compared files).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// Compares two CSV texts field by field; reports the first differences.
fn compare_csv(ours: &str, reference: &str) -> Result<String> {
    let (a, b) = (csv_rows(ours), csv_rows(reference));
    let mut diffs = Vec::new();
    if a.len() != b.len() {
        diffs.push(format!("{} rows, reference has {}", a.len(), b.len()));
    }
    let mut fields = 0usize;
    for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
        if ra.len() != rb.len() {
            diffs.push(format!("line {}: {} fields, reference {}", i + 1, ra.len(), rb.len()));
            continue;
        }
        for (j, (fa, fb)) in ra.iter().zip(rb).enumerate() {
            fields += 1;
            if fa != fb {
                diffs.push(format!("line {} field {} ({}): {fa:?} vs reference {fb:?}", i + 1, j + 1, b[0][j]));
            }
        }
    }
    if diffs.is_empty() {
        Ok(format!("{} rows, {fields} fields identical", a.len()))
    } else {
        diffs.truncate(10);
        bail!("{}", diffs.join("\n      "))
    }
}

fn inspect_pickles(bin: &Path, sample: &Path) -> Result<String> {
    let ours = run_cli(bin, sample, &["inspect", "gradcam_maps_val", "--format", "csv"])?;
    let reference = std::fs::read_to_string(sample.join("reference/pkl_summary.csv"))?;
    compare_csv(&ours, &reference)
}

/// `reference/rle_summary.csv` holds pycocotools' area and toBbox of the ground-truth and of the
/// repository's Grad-CAM masks; `inspect` of the two JSON files must give the same numbers.
fn inspect_segmentations(bin: &Path, sample: &Path) -> Result<String> {
    let gt = csv_rows(&run_cli(bin, sample, &["inspect", "gt_segmentations_val.json", "--format", "csv"])?);
    let pred = csv_rows(&run_cli(
        bin,
        sample,
        &["inspect", "gradcam_segmentations_val_sample.json", "--format", "csv"],
    )?);
    let reference = csv_rows(&std::fs::read_to_string(sample.join("reference/rle_summary.csv"))?);
    // Ours: cxr_id,task,h,w,area,bbox; reference: cxr_id,task,h,w,gt_area,gt_bbox,pred_area,pred_bbox,iou.
    let mut ours = vec!["cxr_id,task,h,w,gt_area,gt_bbox,pred_area,pred_bbox".to_owned()];
    for (g, p) in gt.iter().zip(&pred).skip(1) {
        if g[..2] != p[..2] {
            bail!("gt and prediction rows not aligned: {g:?} vs {p:?}");
        }
        ours.push(format!("{},{},{},{},{},{},{},{}", g[0], g[1], g[2], g[3], g[4], g[5], p[4], p[5]));
    }
    let reference: Vec<String> = reference.iter().map(|r| r[..8].join(",")).collect();
    compare_csv(&ours.join("\n"), &reference.join("\n"))
}
