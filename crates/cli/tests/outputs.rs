//! Outputs end to end (issue 17): the commands that write several files write all of them or
//! none (a failure of the last file leaves none of the new ones and older files untouched);
//! concurrent runs into one folder leave one run's complete set; a symbolic link among the
//! outputs stays a link, a FIFO is written through; temporaries of a killed run are removed.
//! Inputs: the mid-size synthetic set `tests/data/regression_mid`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regression_mid")
}

fn d(name: &str) -> String {
    data().join(name).to_str().expect("utf-8 path").to_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

/// Every entry of `dir` (hidden ones included), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs a command whose outputs are `names` in `save`: with the last output's path taken by a
/// folder and an older copy of the first output present, the command fails naming the last
/// one, writes none of the outputs and leaves the older file as it was. Then, with the folder
/// gone, it writes all of them.
fn all_or_none(args: &[&str], save: &Path, names: &[&str]) {
    let last = save.join(names[names.len() - 1]);
    std::fs::create_dir_all(&last).expect("a folder in the way");
    let first = save.join(names[0]);
    std::fs::write(&first, "older output\n").expect("older file");
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("{}: cannot write: it is a folder", last.display())),
        "{err}"
    );
    assert_eq!(std::fs::read(&first).expect("read"), b"older output\n");
    let mut expected = vec![names[0].to_owned(), names[names.len() - 1].to_owned()];
    expected.sort();
    assert_eq!(entries(save), expected, "no new output, no temporary");
    std::fs::remove_dir(&last).expect("rmdir");
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    all.sort();
    assert_eq!(entries(save), all);
    assert_ne!(std::fs::read(&first).expect("read"), b"older output\n");
}

#[test]
fn compute_pathology_features_is_all_or_none() {
    let save = tempfile::tempdir().expect("tmp");
    let (ann, seg) = (d("gt_annotations_val.json"), d("gt_seg.json"));
    all_or_none(
        &[
            "compute-pathology-features",
            "--gt_ann",
            &ann,
            "--gt_seg",
            &seg,
            "--save_dir",
            s(save.path()),
        ],
        save.path(),
        &[
            "num_instances.csv",
            "area_ratio.csv",
            "elongation.csv",
            "rec_area_ratio.csv",
        ],
    );
}

#[test]
fn plot_pathology_features_is_all_or_none() {
    let save = tempfile::tempdir().expect("tmp");
    let features = d("");
    all_or_none(
        &[
            "plot-pathology-features",
            "--features_dir",
            &features,
            "--save_dir",
            s(save.path()),
        ],
        save.path(),
        &[
            "n_instance_dist.png",
            "area_ratio_dist.png",
            "elongation_dist.png",
            "irrectangularity_dist.png",
        ],
    );
}

#[test]
fn regression_pathology_features_is_all_or_none() {
    let save = tempfile::tempdir().expect("tmp");
    let (features, iou, hit) = (
        d(""),
        d("iou_tp_results_per_cxr.csv"),
        d("hitmiss_results_per_cxr.csv"),
    );
    all_or_none(
        &[
            "regression-pathology-features",
            "--features_dir",
            &features,
            "--pred_iou_results",
            &iou,
            "--pred_hitmiss_results",
            &hit,
            "--save_dir",
            s(save.path()),
        ],
        save.path(),
        &[
            "regression_features_pred_iou.csv",
            "regression_features_pred_hitmiss.csv",
        ],
    );
}

/// A prediction that differs from the ground truth: in each CXR, the masks of the tasks moved
/// one task along (the masks of one CXR share its size).
fn rotated_prediction(dir: &Path) -> String {
    let gt: serde_json::Value =
        serde_json::from_str(&read(&data().join("gt_seg.json"))).expect("gt json");
    let mut pred = serde_json::Map::new();
    for (id, tasks) in gt.as_object().expect("object") {
        let tasks = tasks.as_object().expect("tasks");
        let mut values: Vec<serde_json::Value> = tasks.values().cloned().collect();
        values.rotate_left(1);
        let rotated: serde_json::Map<String, serde_json::Value> =
            tasks.keys().cloned().zip(values).collect();
        pred.insert(id.clone(), rotated.into());
    }
    let p = dir.join("pred_seg.json");
    std::fs::write(&p, serde_json::Value::from(pred).to_string()).expect("write");
    s(&p).to_owned()
}

fn eval_args<'a>(gt: &'a str, pred: &'a str, save: &'a Path, seed: &'a str) -> Vec<&'a str> {
    vec![
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        gt,
        "--pred_path",
        pred,
        "--seed",
        seed,
        "--save_dir",
        s(save),
    ]
}

const EVAL_FILES: [&str; 3] = [
    "iou_results_per_cxr.csv",
    "iou_bootstrap_results_per_cxr.csv",
    "iou_summary_results.csv",
];

#[test]
fn eval_is_all_or_none() {
    let save = tempfile::tempdir().expect("tmp");
    let seg = d("gt_seg.json");
    all_or_none(
        &eval_args(&seg, &seg, save.path(), "0"),
        save.path(),
        &EVAL_FILES,
    );
}

#[test]
fn precision_recall_specificity_is_all_or_none() {
    let save = tempfile::tempdir().expect("tmp");
    let seg = d("gt_seg.json");
    all_or_none(
        &[
            "precision-recall-specificity",
            "--gt_path",
            &seg,
            "--pred_seg_path",
            &seg,
            "--hb_seg_path",
            &seg,
            "--save_dir",
            s(save.path()),
        ],
        save.path(),
        &[
            "pred_precision_recall_specificity.csv",
            "hb_precision_recall_specificity.csv",
        ],
    );
}

/// Two `eval` runs with different seeds (different bootstrap files) racing into one folder, a
/// few times: the folder always holds the complete set of one of them, as each writes alone.
#[test]
fn concurrent_evals_into_one_folder_leave_one_complete_set() {
    let seg = d("gt_seg.json");
    let tmp = tempfile::tempdir().expect("tmp");
    let pred = rotated_prediction(tmp.path());
    let solo: Vec<Vec<String>> = ["1", "2"]
        .iter()
        .map(|seed| {
            let dir = tmp.path().join(format!("solo{seed}"));
            let out = run(&eval_args(&seg, &pred, &dir, seed));
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            EVAL_FILES.iter().map(|n| read(&dir.join(n))).collect()
        })
        .collect();
    assert_ne!(
        solo[0][1], solo[1][1],
        "the seeds give different bootstraps"
    );
    let shared = tmp.path().join("shared");
    for round in 0..4 {
        let children: Vec<_> = ["1", "2"]
            .iter()
            .map(|seed| {
                Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
                    .args(eval_args(&seg, &pred, &shared, seed))
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("wait").success());
        }
        let got: Vec<String> = EVAL_FILES.iter().map(|n| read(&shared.join(n))).collect();
        assert!(
            got == solo[0] || got == solo[1],
            "round {round}: a mix of both runs"
        );
        assert_eq!(entries(&shared), {
            let mut v = EVAL_FILES.map(String::from).to_vec();
            v.sort();
            v
        });
    }
}

/// Among one run's outputs: a symbolic link stays a link (its target gets the content), a FIFO
/// is written through (a reader gets the content, the FIFO stays), and a temporary left by a
/// killed run is removed.
#[cfg(unix)]
#[test]
fn links_and_fifos_among_the_outputs_are_kept() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let seg = d("gt_seg.json");
    let tmp = tempfile::tempdir().expect("tmp");
    let reference = tmp.path().join("reference");
    let out = run(&eval_args(&seg, &seg, &reference, "0"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let save = tmp.path().join("save");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&save).expect("mkdir");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    let link = save.join(EVAL_FILES[2]);
    std::os::unix::fs::symlink("../elsewhere/summary.csv", &link).expect("symlink");
    std::fs::write(elsewhere.join("summary.csv"), "old").expect("write");
    let fifo = save.join(EVAL_FILES[0]);
    let ok = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok);
    std::fs::write(save.join(".chexlocalize-AbC123.tmp"), "killed run").expect("plant");
    let f = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::fs::File::open(f)
            .expect("open fifo")
            .read_to_string(&mut text)
            .expect("read fifo");
        text
    });
    let out = run(&eval_args(&seg, &seg, &save, "0"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        reader.join().expect("reader"),
        read(&reference.join(EVAL_FILES[0]))
    );
    assert!(
        std::fs::symlink_metadata(&fifo)
            .expect("lstat")
            .file_type()
            .is_fifo()
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        read(&elsewhere.join("summary.csv")),
        read(&reference.join(EVAL_FILES[2]))
    );
    let mut expected = EVAL_FILES.map(String::from).to_vec();
    expected.sort();
    assert_eq!(entries(&save), expected, "the stale temporary is gone");
    assert_eq!(entries(&elsewhere), ["summary.csv"]);
}

/// An output path that is the process's standard output (here `/proc/self/fd/1`, what
/// `/dev/stdout` links to; a test does not risk replacing `/dev/stdout` itself) is written
/// through: the JSON arrives on the pipe.
#[cfg(target_os = "linux")]
#[test]
fn standard_output_is_written_through() {
    let maps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/gradcam_maps_val");
    let out = run(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(&maps),
        "--output_path",
        "/proc/self/fd/1",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert!(v.as_object().is_some_and(|o| !o.is_empty()));
}
