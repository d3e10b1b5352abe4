//! The bootstrap flags of `eval`: `--replicates`, `--ci-level`, `--resample patient`.
//!
//! The data is built by hand so the expected values follow from the definitions: 1×1 masks
//! (`"01"` is pycocotools' compressed RLE of one foreground pixel, `"1"` of one background
//! pixel). Patient 1 has three CXRs on which the prediction is right (IoU 1), patient 2 one on
//! which it is empty (IoU 0 with `--true_pos_only False`); every other task is empty in both.

mod common;

use std::path::Path;

use common::{run, s, stderr};
use serde_json::{Map, Value, json};

const TASKS: [&str; 10] = [
    "Enlarged Cardiomediastinum",
    "Cardiomegaly",
    "Lung Lesion",
    "Airspace Opacity",
    "Edema",
    "Consolidation",
    "Atelectasis",
    "Pneumothorax",
    "Pleural Effusion",
    "Support Devices",
];

const IDS: [(&str, bool); 4] = [
    ("patient1_study1_view1_frontal", true),
    ("patient1_study2_view1_frontal", true),
    ("patient1_study3_view1_frontal", true),
    ("patient2_study1_view1_frontal", false),
];

fn segmentations(pred: bool) -> Value {
    let mut all = Map::new();
    for (id, right) in IDS {
        let mut tasks = Map::new();
        for t in TASKS {
            let on = t == "Edema" && (!pred || right);
            tasks.insert(
                t.into(),
                json!({"size": [1, 1], "counts": if on { "01" } else { "1" }}),
            );
        }
        all.insert(id.into(), Value::Object(tasks));
    }
    Value::Object(all)
}

fn write_inputs(dir: &Path) {
    std::fs::write(dir.join("gt.json"), segmentations(false).to_string()).expect("gt");
    std::fs::write(dir.join("pred.json"), segmentations(true).to_string()).expect("pred");
}

fn eval(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let (gt, pred, save) = (dir.join("gt.json"), dir.join("pred.json"), dir.join(out));
    let mut args = vec![
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        s(&gt),
        "--pred_path",
        s(&pred),
        "--save_dir",
        s(&save),
        // Patient 2's empty prediction scores 0, not NaN.
        "--true_pos_only",
        "False",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The Edema column of a bootstrap CSV.
fn edema_replicates(file: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(file).expect("bootstrap csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let c = header.iter().position(|h| *h == "Edema").expect("Edema");
    lines
        .map(|l| l.split(',').nth(c).expect("cell").parse().expect("number"))
        .collect()
}

#[test]
fn patient_resampling_draws_each_patient_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_inputs(tmp.path());
    let by_cxr = eval(tmp.path(), "cxr", &[]);
    assert!(by_cxr.status.success(), "{}", stderr(&by_cxr));
    let by_patient = eval(tmp.path(), "patient", &["--resample", "patient"]);
    assert!(by_patient.status.success(), "{}", stderr(&by_patient));
    let file = "iou_bootstrap_results_per_cxr.csv";
    // Two patients drawn twice: patient 1 twice (1), patient 2 twice (0), or one of each (3 of
    // 4 CXRs right: 0.75). Nothing else can occur.
    let patient = edema_replicates(&tmp.path().join("patient").join(file));
    assert_eq!(patient.len(), 1000);
    for m in [0.0, 0.75, 1.0] {
        assert!(patient.contains(&m), "{m} never drawn");
    }
    assert!(
        patient.iter().all(|m| [0.0, 0.75, 1.0].contains(m)),
        "{patient:?}"
    );
    // Four CXRs drawn independently give quarters, 0.5 and 0.25 among them.
    let cxr = edema_replicates(&tmp.path().join("cxr").join(file));
    assert!(cxr.contains(&0.5) && cxr.contains(&0.25));
}

#[test]
fn replicates_and_level_set_the_table_and_the_interval_positions() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_inputs(tmp.path());
    let out = eval(
        tmp.path(),
        "o",
        &[
            "--replicates",
            "200",
            "--ci-level",
            "0.9",
            "--rng",
            "chacha",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reps = edema_replicates(&tmp.path().join("o/iou_bootstrap_results_per_cxr.csv"));
    assert_eq!(reps.len(), 200);
    reps.sort_by(f64::total_cmp);
    // eval.py's rule with confidence_level = 0.1: positions int(0.05 * 200) - 1 = 9 and
    // int(0.95 * 200) - 1 = 189 of the sorted replicates, rounded to 3 decimals.
    let summary =
        std::fs::read_to_string(tmp.path().join("o/iou_summary_results.csv")).expect("summary");
    let row = summary
        .lines()
        .find(|l| l.starts_with("Edema,"))
        .expect("Edema row");
    let cells: Vec<f64> = row
        .split(',')
        .skip(1)
        .map(|c| c.parse().expect("number"))
        .collect();
    let r3 = |x: f64| (x * 1000.0).round() / 1000.0;
    assert_eq!(cells[0], r3(reps[9]), "{row}");
    assert_eq!(cells[2], r3(reps[189]), "{row}");
}

#[test]
fn too_few_replicates_or_a_bad_level_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_inputs(tmp.path());
    let out = eval(tmp.path(), "few", &["--replicates", "39"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("replicates") && e.contains("at least 40"), "{e}");
    assert!(!tmp.path().join("few").exists());
    for bad in ["1", "0", "100", "x", "nan"] {
        let out = eval(tmp.path(), "lvl", &["--ci-level", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("--ci-level"), "{}", stderr(&out));
    }
    let out = eval(tmp.path(), "many", &["--replicates", "100001"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("from 1 to 100000"),
        "{}",
        stderr(&out)
    );
    // Ids without a patient: the file and the id are named.
    let gt = tmp.path().join("gt.json");
    let text = std::fs::read_to_string(&gt)
        .expect("gt")
        .replace("patient2_study1_view1_frontal", "cxr9");
    std::fs::write(&gt, &text).expect("gt");
    std::fs::write(tmp.path().join("pred.json"), &text).expect("pred");
    let out = eval(tmp.path(), "p", &["--resample", "patient"]);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr(&out);
    assert!(e.contains("gt.json") && e.contains("cxr9"), "{e}");
}
