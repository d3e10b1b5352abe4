//! The bootstrap flags of `eval` (`--replicates`, `--ci-level`, `--resample patient`) and
//! `compare`, the paired bootstrap of several methods.
//!
//! The data is built by hand so the expected values follow from the definitions: 1×1 masks
//! (`"01"` is pycocotools' compressed RLE of one foreground pixel, `"1"` of one background
//! pixel). Patient 1 has three CXRs on which the prediction is right (IoU 1), patient 2 one on
//! which it is empty (IoU 0 with `--true_pos_only False`); every other task is empty in both.

mod common;

use std::path::Path;

use common::{run, s, stderr};
use serde_json::{Map, Value, json};

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
        for t in chexlocalize_io::Task::ALL.map(|t| t.name()) {
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

/// A second method, wrong on patient 1's first CXR too.
fn write_worse(dir: &Path) {
    let mut v = segmentations(true);
    v["patient1_study1_view1_frontal"]["Edema"]["counts"] = json!("1");
    std::fs::write(dir.join("worse.json"), v.to_string()).expect("worse");
}

fn compare(dir: &Path, out: &str, preds: &[&str]) -> std::process::Output {
    let (gt, save) = (dir.join("gt.json"), dir.join(out));
    let mut args = vec![
        "compare",
        "--metric",
        "iou",
        "--gt_path",
        s(&gt),
        "--save_dir",
        s(&save),
        "--true_pos_only",
        "False",
        "--resample",
        "patient",
    ];
    for p in preds {
        args.extend(["--pred", p]);
    }
    common::bin()
        .current_dir(dir)
        .args(&args)
        .output()
        .expect("runs")
}

/// The rows of a CSV whose first cells are `key`.
fn rows(file: &Path, key: &[&str]) -> Vec<Vec<String>> {
    std::fs::read_to_string(file)
        .expect("csv")
        .lines()
        .map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|r| r.iter().zip(key).all(|(c, k)| c == k))
        .collect()
}

#[test]
fn compare_scores_each_method_as_eval_does_and_pairs_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_inputs(tmp.path());
    write_worse(tmp.path());
    let out = compare(
        tmp.path(),
        "cmp",
        &["good=pred.json", "worse=worse.json", "copy=pred.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("good - worse"), "{stdout}");
    let scores = tmp.path().join("cmp/iou_comparison_scores.csv");
    // Each method's interval is its `eval` interval with the same bootstrap settings.
    for (name, file) in [("good", "pred.json"), ("worse", "worse.json")] {
        let args = vec![
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            "gt.json",
            "--pred_path",
            file,
            "--save_dir",
            name,
            "--true_pos_only",
            "False",
            "--resample",
            "patient",
        ];
        let e = common::bin()
            .current_dir(tmp.path())
            .args(&args)
            .output()
            .expect("eval");
        assert!(e.status.success(), "{}", stderr(&e));
        let summary = rows(
            &tmp.path().join(name).join("iou_summary_results.csv"),
            &["Edema"],
        );
        let ours = rows(&scores, &[name, "Edema"]);
        assert_eq!(ours.len(), 1);
        assert_eq!(ours[0][2..], summary[0][1..], "{name}");
    }
    let pairs = tmp.path().join("cmp/iou_comparison_pairs.csv");
    // A method and its copy: no difference, p = 1.
    let same = rows(&pairs, &["Edema", "good", "copy"]);
    assert_eq!(same[0][3..9], ["0.0", "0.0", "0.0", "1.0", "1.0", "False"]);
    // good − worse is never negative: patient 1 contributes +1/3 of its CXRs, patient 2 zero.
    let gw = rows(&pairs, &["Edema", "good", "worse"]);
    let lower: f64 = gw[0][4].parse().expect("lower");
    assert!(lower >= 0.0, "{gw:?}");
    // Overall rows come after the tasks, for every pair.
    assert_eq!(rows(&pairs, &["Overall"]).len(), 3);
}

#[test]
fn compare_refuses_what_it_cannot_compare() {
    let tmp = tempfile::tempdir().expect("tmp");
    write_inputs(tmp.path());
    let one = compare(tmp.path(), "one", &["a=pred.json"]);
    assert_eq!(one.status.code(), Some(1));
    assert!(
        stderr(&one).contains("expected 2 to 64 methods"),
        "{}",
        stderr(&one)
    );
    let twice = compare(tmp.path(), "two", &["a=pred.json", "a=gt.json"]);
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        stderr(&twice).contains("\"a\" is given twice"),
        "{}",
        stderr(&twice)
    );
    let bad = compare(tmp.path(), "bad", &["pred.json", "b=gt.json"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("NAME=PATH"), "{}", stderr(&bad));
    let missing = compare(tmp.path(), "m", &["a=pred.json", "b=nothere.json"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("nothere.json"),
        "{}",
        stderr(&missing)
    );
    // Each bound alone allows 100 000 replicates and 64 methods; their product is capped.
    let gt = tmp.path().join("gt.json");
    let many = common::bin()
        .current_dir(tmp.path())
        .args(["compare", "--metric", "iou", "--gt_path", s(&gt)])
        .args(["--save_dir", "many", "--replicates", "100000"])
        .args(["--pred", "a=pred.json", "--pred", "b=pred.json"])
        .args(["--pred", "c=pred.json", "--pred", "d=pred.json"])
        .args(["--pred", "e=pred.json", "--pred", "f=pred.json"])
        .args(["--pred", "g=pred.json", "--pred", "h=pred.json"])
        .args(["--pred", "i=pred.json", "--pred", "j=pred.json"])
        .args(["--pred", "k=pred.json"])
        .output()
        .expect("runs");
    assert_eq!(many.status.code(), Some(1), "{}", stderr(&many));
    assert!(
        stderr(&many).contains("100000 × 11 = 1100000; use fewer replicates (90909 for 11"),
        "{}",
        stderr(&many)
    );
    for d in ["one", "two", "bad", "m", "many"] {
        assert!(!tmp.path().join(d).exists(), "{d} was written");
    }
}
