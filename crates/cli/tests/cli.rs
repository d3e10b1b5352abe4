//! The `chexlocalize` binary end to end: outputs on the committed fixtures, and clear errors
//! (exit code 1, the file named, no panic, no output left behind) on bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn assert_clean_failure(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} not in: {stderr}");
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
}

#[test]
fn inspect_fixture_pickles_as_csv() {
    let dir = fixtures().join("gradcam_maps_val");
    let out = run(&["inspect", dir.to_str().expect("utf-8"), "--format", "csv"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    // 60 CXRs x 10 tasks: one pickle each.
    assert_eq!(lines.len(), 601, "header + 600 pickles");
    assert!(lines[0].starts_with("file,task,gt,cxr_img,cxr_w,cxr_h,prob,map_shape"));
    // Rows are sorted by file name; the tiny odd-sized CXR comes first.
    assert!(lines[1].starts_with(
        "patient90001_study1_view1_frontal_Airspace Opacity_map.pkl,Airspace Opacity,"
    ));
    // The fixtures' hard cases: an all-zero map and a constant map (first argmax at 0,0).
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(name))
            .copied()
            .unwrap_or_default()
    };
    let zero = row("patient90001_study1_view1_frontal_Enlarged Cardiomediastinum_map.pkl");
    assert!(zero.ends_with(",1x1x20x20,0.0,0.0,0.0,0,0"), "{zero}");
    let constant = row("patient90001_study1_view1_frontal_Cardiomegaly_map.pkl");
    assert!(
        constant.ends_with(",1x1x20x20,0.25,0.25,100.0,0,0"),
        "{constant}"
    );
    // 14-element tensor probabilities are printed joined by ';'.
    assert!(text.lines().any(|l| {
        l.split(',')
            .nth(6)
            .is_some_and(|p| p.split(';').count() == 14)
    }));
}

#[test]
fn inspect_table_and_json_formats() {
    let file = fixtures().join("gradcam_maps_val/patient90003_study1_view1_frontal_Edema_map.pkl");
    for (format, start) in [("table", "file "), ("json", "[\n  {\"file\": ")] {
        let out = run(&["inspect", file.to_str().expect("utf-8"), "--format", format]);
        assert!(out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with(start),
            "{format}"
        );
    }
}

#[test]
fn corrupt_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let evil = dir.path().join("x_Edema_map.pkl");
    std::fs::write(
        &evil,
        b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
    )
    .expect("write");
    assert_clean_failure(
        &run(&["inspect", evil.to_str().expect("utf-8")]),
        "os.system",
    );

    let truncated = dir.path().join("y_Edema_map.pkl");
    let good = std::fs::read(
        fixtures().join("gradcam_maps_val/patient90003_study1_view1_frontal_Edema_map.pkl"),
    )
    .expect("read");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    assert_clean_failure(
        &run(&["inspect", truncated.to_str().expect("utf-8")]),
        "y_Edema_map.pkl",
    );

    let json = dir.path().join("seg.json");
    std::fs::write(
        &json,
        r#"{"c": {"Edema": {"size": [2, 3], "counts": "0~"}}}"#,
    )
    .expect("write");
    assert_clean_failure(
        &run(&["inspect", json.to_str().expect("utf-8")]),
        "CXR c, task Edema",
    );
    std::fs::write(&json, "{\"c\": ").expect("write");
    assert_clean_failure(
        &run(&["inspect", json.to_str().expect("utf-8")]),
        "seg.json",
    );
    assert_clean_failure(
        &run(&["inspect", "/nonexistent/file.json"]),
        "/nonexistent/file.json",
    );
}

#[test]
fn eval_errors_leave_no_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let gt = dir.path().join("gt.json");
    let pred = dir.path().join("pred.json");
    std::fs::write(&gt, r#"{"c": {"Edema": {"size": [2, 3], "counts": "6"}}}"#).expect("write");
    std::fs::write(
        &pred,
        r#"{"c": {"Edema": {"size": [2, 3], "counts": "06"}}}"#,
    )
    .expect("write");
    let save = dir.path().join("out");
    let out = run(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        gt.to_str().expect("utf-8"),
        "--pred_path",
        pred.to_str().expect("utf-8"),
        "--save_dir",
        save.to_str().expect("utf-8"),
    ]);
    // The ground truth lacks the nine other tasks: the reference raises KeyError, we name them.
    assert_clean_failure(&out, "expected a mask for task Airspace Opacity");
    assert!(!save.exists(), "no output folder on error");
}

#[test]
fn human_points_outside_the_image_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let gt = dir.path().join("gt.json");
    let pts = dir.path().join("pts.json");
    let masks: Vec<String> = chexlocalize_testkit::hostile::TASKS
        .iter()
        .map(|t| format!("\"{t}\": {{\"size\": [2, 3], \"counts\": \"06\"}}"))
        .collect();
    std::fs::write(&gt, format!("{{\"c\": {{{}}}}}", masks.join(", "))).expect("write");
    std::fs::write(&pts, r#"{"c": {"Edema": [[3, 0]]}}"#).expect("write");
    let save = dir.path().join("out");
    let out = run(&[
        "eval",
        "--metric",
        "hitmiss",
        "--if_human_benchmark",
        "True",
        "--gt_path",
        gt.to_str().expect("utf-8"),
        "--pred_path",
        pts.to_str().expect("utf-8"),
        "--save_dir",
        save.to_str().expect("utf-8"),
    ]);
    assert_clean_failure(&out, "CXR c, task Edema");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("point [3, 0] is past the edge of the 2x3 image")
    );
    assert!(!save.exists());
}

#[test]
fn snake_case_flags_and_python_booleans_are_accepted() {
    let out = run(&["eval", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--true-pos-only") && help.contains("true_pos_only"),
        "{help}"
    );
    let out = run(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        "a",
        "--pred_path",
        "b",
        "--true_pos_only",
        "Maybe",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected True or False"));
}

#[test]
fn hit_rate_needs_a_heatmap_for_every_ground_truth_cxr() {
    // The reference crashes with a length mismatch here; we name the CXR.
    let dir = tempfile::tempdir().expect("tmp");
    let gt = dir.path().join("gt.json");
    std::fs::write(&gt, r#"{"patient00000_study1_view1_frontal": {}}"#).expect("write");
    let maps = fixtures().join("gradcam_maps_val");
    let save = dir.path().join("out");
    let out = run(&[
        "eval",
        "--metric",
        "hitmiss",
        "--gt_path",
        gt.to_str().expect("utf-8"),
        "--pred_path",
        maps.to_str().expect("utf-8"),
        "--save_dir",
        save.to_str().expect("utf-8"),
    ]);
    assert_clean_failure(&out, "no heatmap for CXR patient00000_study1_view1_frontal");
    assert!(!save.exists());
}

#[test]
fn annotation_to_segmentation_on_fixtures() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("nested/gt.json");
    let ann = fixtures().join("gt_annotations_val.json");
    let res = run(&[
        "annotation-to-segmentation",
        "--ann_path",
        ann.to_str().expect("utf-8"),
        "--output_path",
        out.to_str().expect("utf-8"),
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let text = std::fs::read_to_string(&out).expect("written, parent folder created");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cxrs = v.as_object().expect("object");
    // The 8 hard-case CXRs but the last (heatmaps, no ground truth), and the 52 extras.
    assert_eq!(cxrs.len(), 7 + 52, "the fixtures' CXRs with ground truth");
    // The reference writes all ten tasks per CXR, in LOCALIZATION_TASKS order.
    let first = cxrs
        .values()
        .next()
        .and_then(|c| c.as_object())
        .expect("cxr");
    assert_eq!(
        first.keys().next().map(String::as_str),
        Some("Enlarged Cardiomediastinum")
    );
    assert_eq!(first.len(), 10);
    assert!(text.starts_with("{\"patient90001_study1_view1_frontal\": {\"Enlarged Cardiomediastinum\": {\"size\": [97, 131], \"counts\": \""));
}

#[test]
fn one_point_polygons_are_refused_without_output() {
    let dir = tempfile::tempdir().expect("tmp");
    let ann = dir.path().join("ann.json");
    std::fs::write(
        &ann,
        r#"{"c": {"img_size": [10, 10], "Edema": [[[1, 2], [3, 4], [5, 1]], [[4.5, 4.5]]]}}"#,
    )
    .expect("write");
    let out = dir.path().join("out.json");
    let res = run(&[
        "annotation-to-segmentation",
        "--ann_path",
        ann.to_str().expect("utf-8"),
        "--output_path",
        out.to_str().expect("utf-8"),
    ]);
    assert_clean_failure(
        &res,
        "CXR c, task Edema, polygon 1: expected at least 2 points, found 1",
    );
    assert!(!out.exists());
}

/// Total set pixels of every mask in a segmentation JSON, per (CXR, task).
fn mask_areas(path: &Path) -> std::collections::BTreeMap<(String, String), u64> {
    let segs = chexlocalize_io::read_segmentations(path, &chexlocalize_io::Limits::BUILTIN)
        .expect("segmentations");
    let mut out = std::collections::BTreeMap::new();
    for cxr in segs.cxrs() {
        for (task, rle) in &cxr.masks {
            out.insert((cxr.cxr_id.clone(), task.name().to_owned()), rle.area());
        }
    }
    out
}

#[test]
fn all_touched_fill_rule_covers_more_than_pillow() {
    let dir = tempfile::tempdir().expect("tmp");
    let ann = fixtures().join("gt_annotations_val.json");
    let mut areas = Vec::new();
    for rule in ["pillow", "all-touched"] {
        let out = dir.path().join(format!("{rule}.json"));
        let res = run(&[
            "annotation-to-segmentation",
            "--ann_path",
            ann.to_str().expect("utf-8"),
            "--output_path",
            out.to_str().expect("utf-8"),
            "--fill-rule",
            rule,
        ]);
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        areas.push(mask_areas(&out));
    }
    let (pillow, touched) = (&areas[0], &areas[1]);
    assert_eq!(
        pillow.keys().collect::<Vec<_>>(),
        touched.keys().collect::<Vec<_>>()
    );
    // The all-touched rule adds the pixels the outlines pass through: on the fixtures every
    // non-empty mask grows and empty ones stay empty.
    for (k, &a) in pillow {
        let t = touched[k];
        assert!(
            if a == 0 { t == 0 } else { t > a },
            "{k:?}: pillow {a}, all-touched {t}"
        );
    }
    assert!(touched.values().sum::<u64>() > pillow.values().sum::<u64>());
    let res = run(&[
        "annotation-to-segmentation",
        "--ann_path",
        "x.json",
        "--fill-rule",
        "gdal",
    ]);
    assert_eq!(res.status.code(), Some(2), "unknown rule is a usage error");
}
