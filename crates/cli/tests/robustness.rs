//! Hostile and broken inputs, end to end: every command exits with 1, names the file, CXR and
//! task and what was expected, and leaves no output file; sizes claimed by files are checked
//! against the limits before anything is allocated; heatmaps in the new formats work in the
//! commands that read heatmaps (`validate-submission`: `validate_submission.rs`).

mod common;

use std::path::Path;
use std::process::Output;

use chexlocalize_io::HeatmapRecord;
use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value};
use chexlocalize_testkit::hostile::TASKS;
use common::{fixtures, run, s, stderr};
use serde_json::{Value as Json, json};

/// Exit code 1, every needle in the message, no panic.
fn assert_clean_failure(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "panic: {err}");
}

/// The files in `dir` (none when it does not exist), temporary files included.
fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A segmentation JSON with ten 2x3 masks per CXR, the last replaced by `edema`.
fn seg_json(ids: &[&str], edema: &Json) -> String {
    let mut top = serde_json::Map::new();
    for id in ids {
        let mut m = serde_json::Map::new();
        for t in TASKS {
            m.insert(t.to_owned(), json!({"size": [2, 3], "counts": "06"}));
        }
        m.insert("Edema".to_owned(), edema.clone());
        top.insert((*id).to_owned(), Json::Object(m));
    }
    Json::Object(top).to_string()
}

fn record(dims: (i64, i64)) -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(
            vec![1, 1, 2, 3],
            TensorData::F32(vec![0.0, 0.5, 1.0, 0.25, 0.75, 0.125]),
        )
        .expect("shape"),
        prob: Prob::Float(0.5),
        task: "Edema".into(),
        gt: Value::Int(1),
        cxr_img: CxrImg::Path("valid/x.jpg".into()),
        cxr_dims: dims,
    }
}

#[test]
fn sizes_over_the_limits_are_refused_before_allocating() {
    let dir = tempfile::tempdir().expect("tmp");
    // An annotation claiming a 100000 x 100000 image: Pillow would try to allocate 10 GB.
    let ann = dir.path().join("ann.json");
    std::fs::write(
        &ann,
        r#"{"cxr1": {"img_size": [100000, 100000], "Edema": [[[1, 2], [3, 4], [5, 1]]]}}"#,
    )
    .expect("write");
    let out = dir.path().join("out/gt.json");
    let res = run(&[
        "annotation-to-segmentation",
        "--ann_path",
        s(&ann),
        "--output_path",
        s(&out),
    ]);
    assert_clean_failure(
        &res,
        &[
            "ann.json: CXR cxr1, img_size: an image of 100000 x 100000 pixels (h x w) is over the limit",
        ],
    );
    assert!(!out.exists() && files_in(&dir.path().join("out")).is_empty());

    // The limit is a flag: the fixtures' CXRs (at least 150 x 150) are over 100 pixels.
    let res = run(&[
        "--max-image-pixels",
        "100",
        "annotation-to-segmentation",
        "--ann_path",
        s(&fixtures().join("gt_annotations_val.json")),
        "--output_path",
        s(&out),
    ]);
    assert_clean_failure(
        &res,
        &[
            "gt_annotations_val.json: CXR patient9000",
            "at most 65536 pixels a side and 100 pixels in all",
        ],
    );
    assert!(!out.exists());

    // A segmentation claiming a huge mask, in eval and count-segs.
    let seg = dir.path().join("seg.json");
    std::fs::write(
        &seg,
        seg_json(&["c"], &json!({"size": [65535, 65535], "counts": "0"})),
    )
    .expect("write");
    let save = dir.path().join("eval");
    let res = run(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        s(&seg),
        "--pred_path",
        s(&seg),
        "--save_dir",
        s(&save),
    ]);
    assert_clean_failure(
        &res,
        &[
            "seg.json: CXR c, task Edema, size: an image of 65535 x 65535 pixels (h x w) is over the limit",
        ],
    );
    let res = run(&["count-segs", "--seg_path", s(&seg), "--save_dir", s(&save)]);
    assert_clean_failure(&res, &["seg.json: CXR c, task Edema, size"]);
    assert!(!save.exists());

    // A heatmap claiming a 100000 x 100000 CXR: upsampling would need 40 GB.
    let maps = dir.path().join("maps");
    chexlocalize_io::write_heatmap(
        &maps.join("c_Edema_map.pkl"),
        &record((100_000, 100_000)),
        2,
    )
    .expect("write");
    let out = dir.path().join("sal.json");
    let res = run(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(&maps),
        "--output_path",
        s(&out),
    ]);
    assert_clean_failure(
        &res,
        &["c_Edema_map.pkl: cxr_dims: an image of 100000 x 100000"],
    );
    assert!(!out.exists());
}

#[test]
fn hostile_pickles_run_nothing_in_any_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let maps = dir.path().join("maps");
    std::fs::create_dir(&maps).expect("mkdir");
    let marker = dir.path().join("pwned");
    // `os.system("touch <marker>")`: Python's pickle.load would run it.
    let cmd = format!("touch {}", s(&marker));
    let mut evil = b"\x80\x03cos\nsystem\nX".to_vec();
    evil.extend((cmd.len() as u32).to_le_bytes());
    evil.extend(cmd.as_bytes());
    evil.extend(b"\x85R.");
    std::fs::write(maps.join("c_Edema_map.pkl"), &evil).expect("write");
    let gt = dir.path().join("gt.json");
    std::fs::write(
        &gt,
        seg_json(&["c"], &json!({"size": [2, 3], "counts": "06"})),
    )
    .expect("write");
    let out = dir.path().join("out.json");
    for args in [
        vec!["inspect", s(&maps)],
        vec![
            "heatmap-to-segmentation",
            "--map_dir",
            s(&maps),
            "--output_path",
            s(&out),
        ],
        vec![
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            s(&gt),
            "--pred_path",
            s(&maps),
            "--save_dir",
            s(&out),
        ],
    ] {
        let res = run(&args);
        assert_clean_failure(&res, &["c_Edema_map.pkl", "refused global os.system"]);
    }
    assert!(!marker.exists(), "the pickle's command ran");
    assert!(!out.exists());
}

#[test]
fn multi_file_outputs_appear_all_or_none() {
    let dir = tempfile::tempdir().expect("tmp");
    let seg = dir.path().join("seg.json");
    std::fs::write(
        &seg,
        seg_json(&["a", "b"], &json!({"size": [2, 3], "counts": "06"})),
    )
    .expect("write");
    // eval writes three CSVs; the third cannot be written (a folder is in the way).
    let save = dir.path().join("eval");
    std::fs::create_dir_all(save.join("iou_summary_results.csv")).expect("mkdir");
    let res = run(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        s(&seg),
        "--pred_path",
        s(&seg),
        "--save_dir",
        s(&save),
    ]);
    assert_clean_failure(&res, &["iou_summary_results.csv: cannot write"]);
    assert_eq!(
        files_in(&save),
        ["iou_summary_results.csv"],
        "no partial output"
    );
    // precision-recall-specificity writes two.
    std::fs::remove_dir(save.join("iou_summary_results.csv")).expect("rmdir");
    std::fs::create_dir(save.join("hb_precision_recall_specificity.csv")).expect("mkdir");
    let res = run(&[
        "precision-recall-specificity",
        "--gt_path",
        s(&seg),
        "--pred_seg_path",
        s(&seg),
        "--hb_seg_path",
        s(&seg),
        "--save_dir",
        s(&save),
    ]);
    assert_clean_failure(&res, &["hb_precision_recall_specificity.csv: cannot write"]);
    assert_eq!(files_in(&save), ["hb_precision_recall_specificity.csv"]);
    // With the way clear, all of them appear.
    std::fs::remove_dir(save.join("hb_precision_recall_specificity.csv")).expect("rmdir");
    let res = run(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        s(&seg),
        "--pred_path",
        s(&seg),
        "--save_dir",
        s(&save),
    ]);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    assert_eq!(
        files_in(&save),
        [
            "iou_bootstrap_results_per_cxr.csv",
            "iou_results_per_cxr.csv",
            "iou_summary_results.csv"
        ]
    );
}

#[test]
fn bad_inputs_of_every_command_name_file_cxr_and_task() {
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("out");
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        seg_json(&["c"], &json!({"size": [2, 3], "counts": "06"})),
    )
    .expect("write");
    let corrupt = dir.path().join("corrupt.json");
    std::fs::write(
        &corrupt,
        seg_json(&["c"], &json!({"size": [2, 3], "counts": "0~"})),
    )
    .expect("write");
    let wrong_size = dir.path().join("wrong_size.json");
    std::fs::write(
        &wrong_size,
        seg_json(&["c"], &json!({"size": [3, 2], "counts": "06"})),
    )
    .expect("write");
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec![
                "count-segs",
                "--seg_path",
                s(&corrupt),
                "--save_dir",
                s(&save),
            ],
            vec![
                "corrupt.json: CXR c, task Edema: corrupt RLE mask",
                "expected a character from '0' to 'o'",
            ],
        ),
        (
            vec![
                "precision-recall-specificity",
                "--gt_path",
                s(&good),
                "--pred_seg_path",
                s(&wrong_size),
                "--hb_seg_path",
                s(&good),
                "--save_dir",
                s(&save),
            ],
            vec!["wrong_size.json: CXR c, task Edema: size"],
        ),
        (
            vec![
                "eval",
                "--metric",
                "iou",
                "--gt_path",
                s(&good),
                "--pred_path",
                s(&wrong_size),
                "--save_dir",
                s(&save),
            ],
            vec!["CXR c, task Edema: mask sizes differ: prediction 3x2, ground truth 2x3"],
        ),
        (
            vec!["inspect", s(&corrupt)],
            vec!["corrupt.json: CXR c, task Edema: corrupt RLE mask"],
        ),
    ];
    for (args, needles) in cases {
        let res = run(&args);
        assert_clean_failure(&res, &needles);
        assert!(!save.exists(), "{args:?} left output");
    }
    // A bootstrap CSV with text where a number belongs.
    let hb = dir.path().join("hb.csv");
    std::fs::write(&hb, "Edema,Cardiomegaly\n0.5,0.25\nhigh,0.1\n").expect("write");
    let res = run(&[
        "calculate-percentage-decrease",
        "--metric",
        "miou",
        "--hb_bootstrap_results",
        s(&hb),
        "--pred_bootstrap_results",
        s(&hb),
        "--save_dir",
        s(&save),
    ]);
    assert_clean_failure(
        &res,
        &["hb.csv: line 3: expected a number in column \"Edema\" (found \"high\")"],
    );
    assert!(!save.exists());
    // Flags out of range are command-line errors (exit code 2).
    let res = run(&[
        "eval",
        "--metric",
        "hitmiss",
        "--gt_path",
        s(&good),
        "--pred_path",
        s(&good),
        "--tolerance-px",
        "1e12",
    ]);
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    let res = run(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(dir.path()),
        "--if_smoothing",
        "True",
        "--k",
        "100000",
    ]);
    assert_eq!(res.status.code(), Some(2), "{}", stderr(&res));
    assert!(stderr(&res).contains("expected a box filter size from 0 to 4096"));
}

#[test]
fn new_heatmap_formats_segment_like_pickles() {
    // The same map as a pickle, a torch-style .pt and a .npy with its sidecar gives the same
    // masks: the format changes nothing downstream.
    let dir = tempfile::tempdir().expect("tmp");
    let (pkl, npy) = (dir.path().join("pkl"), dir.path().join("npy"));
    let rec = record((5, 4));
    chexlocalize_io::write_heatmap(&pkl.join("c_Edema_map.pkl"), &rec, 2).expect("pkl");
    chexlocalize_io::write_npy_heatmap(&npy.join("c_Edema_map.npy"), &rec).expect("npy");
    let mut outs = Vec::new();
    for d in [&pkl, &npy] {
        let out = d.join("seg.json");
        let res = run(&[
            "heatmap-to-segmentation",
            "--map_dir",
            s(d),
            "--output_path",
            s(&out),
        ]);
        assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
        outs.push(std::fs::read_to_string(&out).expect("written"));
    }
    assert_eq!(outs[0], outs[1]);

    // torch- and numpy-written files (crates/io/tests/data) are listed, inspected and segmented.
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("../io/tests/data/heatmaps");
    let res = run(&["inspect", s(&real), "--format", "csv"]);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let text = String::from_utf8_lossy(&res.stdout);
    assert_eq!(text.lines().count(), 5, "{text}");
    for ext in [
        "Atelectasis_map.npy",
        "Cardiomegaly_map.pt",
        "Edema_map.pt",
        "Pneumothorax_map.npy",
    ] {
        assert!(text.contains(ext), "{ext} not in {text}");
    }
    let out = dir.path().join("real.json");
    let res = run(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(&real),
        "--output_path",
        s(&out),
    ]);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let v: Json = serde_json::from_str(&std::fs::read_to_string(&out).expect("out")).expect("json");
    let masks = v["patient1_study1_view1_frontal"].as_object().expect("cxr");
    assert_eq!(masks.len(), 4);
    for m in masks.values() {
        // cxr_dims (7, 5) = width 7, height 5.
        assert_eq!(m["size"], json!([5, 7]));
    }
}
