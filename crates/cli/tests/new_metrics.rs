//! `eval --metric dice` and the threshold-free metrics on the original sample.
//!
//! The metric functions are checked against their reference implementations in
//! `crates/metrics/tests`; here the command around them: which CXRs are scored, the file
//! layout, and the Dice–IoU identity `D = 2 J / (1 + J)` against the reference-checked IoU.

mod common;

use std::path::Path;

use common::{run, s, stderr};

/// Per-CXR cells of a results CSV, by (task, CXR id); empty cells are NaN.
fn cells(file: &Path) -> Vec<(String, String, f64)> {
    let text = std::fs::read_to_string(file).expect("csv");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(str::to_owned)
        .collect();
    let mut out = Vec::new();
    for l in lines {
        let row: Vec<&str> = l.split(',').collect();
        let id = row[header.len() - 1].to_owned();
        for (c, task) in header[..header.len() - 1].iter().enumerate() {
            let v = if row[c].is_empty() {
                f64::NAN
            } else {
                row[c].parse().expect("number")
            };
            out.push((task.clone(), id.clone(), v));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

fn eval(metric: &[&str], gt: &Path, pred: &Path, out: &Path) {
    let mut args = vec!["eval", "--metric"];
    args.extend_from_slice(metric);
    args.extend([
        "--gt_path",
        s(gt),
        "--pred_path",
        s(pred),
        "--save_dir",
        s(out),
    ]);
    let o = run(&args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
}

#[test]
fn dice_is_two_iou_over_one_plus_iou() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let gt = sample.join("gt_segmentations_val.json");
    let pred = sample.join("gradcam_segmentations_val_sample.json");
    eval(&["dice"], &gt, &pred, tmp.path());
    eval(&["iou", "--true_pos_only", "False"], &gt, &pred, tmp.path());
    let dice = cells(&tmp.path().join("dice_results_per_cxr.csv"));
    let iou = cells(&tmp.path().join("iou_results_per_cxr.csv"));
    assert_eq!(dice.len(), 20);
    let mut scored = 0;
    for ((t, id, d), (_, _, j)) in dice.iter().zip(&iou) {
        // Dice leaves out an empty ground truth; IoU with --true_pos_only False scores an
        // empty ground truth with a non-empty prediction as 0.
        if d.is_nan() {
            continue;
        }
        scored += 1;
        assert!(
            (d - 2.0 * j / (1.0 + j)).abs() < 1e-12,
            "{t} {id}: {d} vs {j}"
        );
    }
    assert!(scored >= 4, "{scored}");
}

#[test]
fn threshold_free_metrics_score_the_ground_truth_positive_cxrs() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let gt = sample.join("gt_segmentations_val.json");
    let maps = sample.join("gradcam_maps_val");
    // The positive (task, CXR) pairs: those the pointing game scores (NaN = empty ground truth).
    eval(&["hitmiss"], &gt, &maps, tmp.path());
    let hits = cells(&tmp.path().join("hitmiss_results_per_cxr.csv"));
    for (metric, file) in [
        (&["auroc"][..], "auroc"),
        (&["auprc"], "auprc"),
        (&["relevance-mass"], "relevance_mass"),
        (&["relevance_rank"], "relevance_rank"),
        (&["topk-intersection", "--k", "5000"], "topk_intersection"),
        (&["energy-pointing-game"], "energy_pointing_game"),
    ] {
        eval(metric, &gt, &maps, tmp.path());
        for suffix in [
            "results_per_cxr",
            "bootstrap_results_per_cxr",
            "summary_results",
        ] {
            assert!(tmp.path().join(format!("{file}_{suffix}.csv")).is_file());
        }
        let got = cells(&tmp.path().join(format!("{file}_results_per_cxr.csv")));
        assert_eq!(got.len(), hits.len(), "{file}");
        for ((t, id, v), (_, _, h)) in got.iter().zip(&hits) {
            assert_eq!(v.is_nan(), h.is_nan(), "{file} {t} {id}");
            assert!(
                v.is_nan() || (0.0..=1.0).contains(v),
                "{file} {t} {id}: {v}"
            );
        }
    }
}

#[test]
fn topk_needs_its_k_and_k_needs_topk() {
    let o = run(&[
        "eval",
        "--metric",
        "topk-intersection",
        "--gt_path",
        "g.json",
        "--pred_path",
        "m",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("needs --k"), "{}", stderr(&o));
    let o = run(&[
        "eval",
        "--metric",
        "auroc",
        "--k",
        "3",
        "--gt_path",
        "g.json",
        "--pred_path",
        "m",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--k is for"), "{}", stderr(&o));
}
