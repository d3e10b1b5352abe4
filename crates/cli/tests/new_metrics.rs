//! `eval --metric dice` and the threshold-free metrics on the original sample.
//!
//! The metric functions are checked against their reference implementations in
//! `crates/metrics/tests`; here the command around them: which CXRs are scored, the file
//! layout, and the Dice–IoU identity `D = 2 J / (1 + J)` against the reference-checked IoU.

mod common;

use std::path::{Path, PathBuf};

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

/// The original sample's ground truth and Grad-CAM heatmaps, and a scratch folder; `None` (a
/// skip) without the sample.
fn sample_maps() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    let sample = chexlocalize_testkit::sample_dir()?;
    let tmp = tempfile::tempdir().expect("tmp");
    Some((
        tmp,
        sample.join("gt_segmentations_val.json"),
        sample.join("gradcam_maps_val"),
    ))
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
    let Some((tmp, gt, maps)) = sample_maps() else {
        return;
    };
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

#[test]
fn baselines_score_what_their_definitions_say() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let gt = sample.join("gt_segmentations_val.json");
    for kind in ["center", "uniform"] {
        let out = tmp.path().join(kind);
        let o = run(&[
            "baseline",
            "--kind",
            kind,
            "--gt_path",
            s(&gt),
            "--out",
            s(&out),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(std::fs::read_dir(&out).expect("dir").count(), 20);
    }
    // A constant map is at chance on every scored CXR.
    eval(&["auroc"], &gt, &tmp.path().join("uniform"), tmp.path());
    let auroc = cells(&tmp.path().join("auroc_results_per_cxr.csv"));
    assert!(auroc.iter().filter(|c| !c.2.is_nan()).count() >= 4);
    assert!(
        auroc.iter().all(|c| c.2.is_nan() || c.2 == 0.5),
        "{auroc:?}"
    );
    // The centre Gaussian ranks pixels by their distance to the centre: the sample's masks are
    // central organs and effusions, so better than chance.
    eval(&["auroc"], &gt, &tmp.path().join("center"), tmp.path());
    let auroc = cells(&tmp.path().join("auroc_results_per_cxr.csv"));
    let cardio = auroc
        .iter()
        .find(|c| c.0 == "Cardiomegaly" && !c.2.is_nan())
        .expect("a scored Cardiomegaly");
    assert!(cardio.2 > 0.5, "{cardio:?}");
    // The prior of a split on itself puts its mass on the masks.
    let prior = tmp.path().join("prior");
    let o = run(&[
        "baseline",
        "--kind",
        "prior",
        "--train-gt",
        s(&gt),
        "--gt_path",
        s(&gt),
        "--out",
        s(&prior),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    eval(&["relevance-mass"], &gt, &prior, tmp.path());
    let mass = cells(&tmp.path().join("relevance_mass_results_per_cxr.csv"));
    assert!(mass.iter().all(|c| c.2.is_nan() || c.2 > 0.5), "{mass:?}");
}

#[test]
fn baseline_flags_go_together_and_a_failure_leaves_no_maps() {
    let tmp = tempfile::tempdir().expect("tmp");
    for (args, needle) in [
        (&["--kind", "prior"][..], "needs --train-gt"),
        (
            &["--kind", "center", "--train-gt", "t.json"],
            "for --kind prior only",
        ),
        (&["--kind", "center", "--map-side", "7"], "from 8 to 1024"),
    ] {
        let mut all = vec!["baseline", "--gt_path", "g.json", "--out", "o"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
    // The second CXR lacks a task: the first CXR's maps are removed again.
    let mask = serde_json::json!({"size": [2, 2], "counts": "4"});
    let full: serde_json::Map<String, serde_json::Value> = chexlocalize_io::Task::ALL
        .iter()
        .map(|t| (t.name().to_owned(), mask.clone()))
        .collect();
    let mut short = full.clone();
    short.remove("Edema");
    let gt = serde_json::json!({"a_study1": full, "b_study1": short});
    let gt_path = tmp.path().join("gt.json");
    std::fs::write(&gt_path, gt.to_string()).expect("gt");
    let out = tmp.path().join("maps");
    let o = run(&[
        "baseline",
        "--kind",
        "uniform",
        "--gt_path",
        s(&gt_path),
        "--out",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("b_study1"), "{}", stderr(&o));
    let left: Vec<_> = std::fs::read_dir(&out).map_or(Vec::new(), |d| d.collect());
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn boundary_metrics_of_the_ground_truth_against_itself_and_a_method() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let gt = sample.join("gt_segmentations_val.json");
    let pred = sample.join("gradcam_segmentations_val_sample.json");
    let (same, method) = (tmp.path().join("same"), tmp.path().join("method"));
    eval(&["hd95", "--spacing-mm", "0.5"], &gt, &gt, &same);
    eval(&["surface-dice", "--tolerance", "2"], &gt, &gt, &same);
    let hd = cells(&same.join("hd95_results_per_cxr.csv"));
    let sd = cells(&same.join("surface_dice_results_per_cxr.csv"));
    assert!(hd.iter().filter(|c| !c.2.is_nan()).count() >= 4);
    assert!(hd.iter().all(|c| c.2.is_nan() || c.2 == 0.0), "{hd:?}");
    assert!(sd.iter().all(|c| c.2.is_nan() || c.2 == 1.0), "{sd:?}");
    // Against Grad-CAM: distances in millimetres are half those in pixels.
    eval(&["hd95"], &gt, &pred, &method);
    let px = cells(&method.join("hd95_results_per_cxr.csv"));
    eval(&["hd95", "--spacing-mm", "0.5,0.5"], &gt, &pred, &method);
    let mm = cells(&method.join("hd95_results_per_cxr.csv"));
    for (p, m) in px.iter().zip(&mm) {
        assert_eq!(p.2.is_nan(), m.2.is_nan());
        assert!(
            p.2.is_nan() || (p.2 / 2.0 - m.2).abs() < 1e-9,
            "{p:?} {m:?}"
        );
    }
    assert!(px.iter().any(|c| c.2 > 0.0));
    for (args, needle) in [
        (&["surface-dice"][..], "needs --tolerance"),
        (&["iou", "--spacing-mm", "1"], "--spacing-mm is for"),
        (&["hd95", "--tolerance", "1"], "--tolerance is for"),
        (&["hd95", "--spacing-mm", "0,1"], "each above 0"),
    ] {
        let mut all = vec!["eval", "--metric"];
        all.extend_from_slice(args);
        all.extend(["--gt_path", "g.json", "--pred_path", "p.json"]);
        let o = run(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}");
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

#[test]
fn a_strict_tolerance_boundary_excludes_the_distance_itself() {
    let Some((tmp, gt, maps)) = sample_maps() else {
        return;
    };
    eval(&["hitmiss"], &gt, &maps, tmp.path());
    let inclusive = cells(&tmp.path().join("hitmiss_results_per_cxr.csv"));
    assert!(inclusive.iter().any(|c| c.2 == 1.0));
    // With tolerance 0, `< 0` holds for no distance: every scored CXR is a miss.
    eval(
        &["hitmiss", "--tolerance-boundary", "strict"],
        &gt,
        &maps,
        tmp.path(),
    );
    let strict = cells(&tmp.path().join("hitmiss_results_per_cxr.csv"));
    for (i, s) in inclusive.iter().zip(&strict) {
        assert_eq!(i.2.is_nan(), s.2.is_nan());
        assert!(s.2.is_nan() || s.2 == 0.0, "{s:?}");
    }
}
