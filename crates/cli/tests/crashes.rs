//! Every crash of the original scripts listed in the sample's `reference/CRASHES.md`, run with
//! our command on the same inputs: what we do instead (documented in the README and in
//! `cli::tune` / `cli::regress`). The sample is read in place from `../shared`; without it the
//! tests are skipped, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary in the sample folder (the reference's working directory).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// CRASHES.md 1: `tune_probability_threshold.py` stops at `DataFrame.append` (pandas >= 2). Ours
/// writes the CSV that the patched script wrote, byte for byte.
#[test]
fn crash_1_tune_probability_threshold_runs() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let out = tempfile::tempdir().expect("tmp");
    let o = out.path().to_str().expect("utf-8");
    ok(&run_in(
        &sample,
        &[
            "tune-probability-threshold",
            "--map_dir",
            "gradcam_maps_val",
            "--gt_path",
            "gt_segmentations_val.json",
            "--save_dir",
            o,
        ],
    ));
    assert_eq!(
        read(&out.path().join("probability_tuning_results.csv")),
        read(&sample.join("reference/tune_probability_threshold/probability_tuning_results.csv"))
    );
}

/// CRASHES.md 2: `regression_pathology_features.py` stops at `conf_int(cols=...)`, and once
/// patched at `math.atanh(±1)` (a Fisher interval of a perfect Spearman correlation, which this
/// script computes but never writes) on the second dependent variable. Ours writes all four
/// files, the first equal to the one the script wrote before crashing.
#[test]
fn crash_2_regression_pathology_features_completes() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let out = tempfile::tempdir().expect("tmp");
    let o = out.path().to_str().expect("utf-8");
    let feat = out.path().join("features");
    let f = feat.to_str().expect("utf-8");
    ok(&run_in(
        &sample,
        &[
            "compute-pathology-features",
            "--gt_ann",
            "gt_annotations_val.json",
            "--gt_seg",
            "gt_segmentations_val.json",
            "--save_dir",
            f,
        ],
    ));
    ok(&run_in(
        &sample,
        &[
            "regression-pathology-features",
            "--features_dir",
            f,
            "--pred_iou_results",
            "reference/eval_iou_tp/iou_results_per_cxr.csv",
            "--pred_hitmiss_results",
            "reference/eval_hitmiss/hitmiss_results_per_cxr.csv",
            "--evaluate_hb",
            "True",
            "--hb_iou_results",
            "reference/eval_iou_hb_tp/iou_humanbenchmark_results_per_cxr.csv",
            "--hb_hitmiss_results",
            "reference/eval_hitmiss_hb/hitmiss_humanbenchmark_results_per_cxr.csv",
            "--save_dir",
            o,
        ],
    ));
    assert_eq!(
        read(&out.path().join("regression_features_pred_iou.csv")),
        read(&sample.join("reference/regression_features/regression_features_pred_iou.csv"))
    );
    for name in ["iou_diff", "pred_hitmiss", "hitmiss_diff"] {
        let table = read(&out.path().join(format!("regression_features_{name}.csv")));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines[0], "task,feature,Linear regression coefficients",
            "{name}"
        );
        assert_eq!(lines.len(), 5, "{name}: one row per feature\n{table}");
    }
}

/// CRASHES.md 3 and 4: `regression_model_assurance.py` stops at `sqrt(n - 3)` (mIoU) and at
/// scipy's "at least 3 entries" (hit rate) with two CXRs per task. Ours writes its table with
/// `nan` where no interval or correlation exists, and says why on stderr.
#[test]
fn crashes_3_and_4_regression_model_assurance_completes() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    for (metric, results) in [
        ("iou", "reference/eval_iou_all/iou_results_per_cxr.csv"),
        (
            "hitmiss",
            "reference/eval_hitmiss/hitmiss_results_per_cxr.csv",
        ),
    ] {
        let out = tempfile::tempdir().expect("tmp");
        let o = out.path().to_str().expect("utf-8");
        let stderr = ok(&run_in(
            &sample,
            &[
                "regression-model-assurance",
                "--metric",
                metric,
                "--map_dir",
                "gradcam_maps_val",
                "--pred_results",
                results,
                "--save_dir",
                o,
            ],
        ));
        assert!(
            stderr.contains("warning") && stderr.contains("too few"),
            "{metric}: {stderr}"
        );
        let files: Vec<PathBuf> = std::fs::read_dir(out.path())
            .expect("list")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        assert_eq!(files.len(), 1, "{metric}: {files:?}");
        let table = read(&files[0]);
        assert!(table.contains("nan"), "{metric}: {table}");
    }
}
