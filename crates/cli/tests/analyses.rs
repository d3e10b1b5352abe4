//! The analysis commands end to end against the ORIGINAL scripts' outputs on the mid-size
//! synthetic set (`tests/data/regression_mid`, made by `tests/data/make_regression_oracle.sh`:
//! `cargo xtask fixtures --scale mid --seed 1`, then the original pipeline in the reference
//! Python environment), plus the cases where the reference crashes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value};
use chexlocalize_io::{CsvTable, HeatmapRecord, Task, write_heatmap};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/regression_mid")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn ok(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "stderr: {stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every named file of `ours` is byte-identical to the reference's copy in `regression_mid`.
fn assert_identical(ours: &Path, names: &[&str]) {
    for name in names {
        let a = std::fs::read_to_string(ours.join(name)).expect("ours written");
        let b = std::fs::read_to_string(data().join(name)).expect("reference");
        assert_eq!(a, b, "{name} differs from the reference");
    }
}

#[test]
fn features_match_the_reference_on_40_cxrs() {
    let out = tempfile::tempdir().expect("tmp");
    let d = data();
    ok(&run(&[
        "compute-pathology-features",
        "--gt_ann",
        s(&d.join("gt_annotations_val.json")),
        "--gt_seg",
        s(&d.join("gt_seg.json")),
        "--save_dir",
        s(out.path()),
    ]));
    assert_identical(
        out.path(),
        &[
            "num_instances.csv",
            "area_ratio.csv",
            "elongation.csv",
            "rec_area_ratio.csv",
        ],
    );
}

#[test]
fn feature_regressions_match_the_reference() {
    let out = tempfile::tempdir().expect("tmp");
    let d = data();
    ok(&run(&[
        "regression-pathology-features",
        "--features_dir",
        s(&d),
        "--pred_iou_results",
        s(&d.join("iou_tp_results_per_cxr.csv")),
        "--pred_hitmiss_results",
        s(&d.join("hitmiss_results_per_cxr.csv")),
        "--evaluate_hb",
        "True",
        "--hb_iou_results",
        s(&d.join("iou_humanbenchmark_results_per_cxr.csv")),
        "--hb_hitmiss_results",
        s(&d.join("hitmiss_humanbenchmark_results_per_cxr.csv")),
        "--save_dir",
        s(out.path()),
    ]));
    assert_identical(
        out.path(),
        &[
            "regression_features_pred_iou.csv",
            "regression_features_iou_diff.csv",
            "regression_features_pred_hitmiss.csv",
            "regression_features_hitmiss_diff.csv",
        ],
    );
}

/// Writes a tiny heatmap pickle per row of `probabilities.csv` (the probabilities the reference
/// read from the set's pickles), the probability as a float or inside a 14-vector.
fn write_maps(dir: &Path, ids: Option<&[&str]>, vector: bool) {
    let t = CsvTable::read(
        &data().join("probabilities.csv"),
        &chexlocalize_io::Limits::BUILTIN,
    )
    .expect("probabilities");
    for row in &t.rows {
        let (id, task_name) = (row[0].as_str(), row[1].as_str());
        if ids.is_some_and(|ids| !ids.contains(&id)) {
            continue;
        }
        let p: f64 = row[2].parse().expect("prob");
        let task = Task::from_name(task_name).expect("task");
        let prob = if vector {
            let mut v = vec![0.5f32; 14];
            v[task.chexpert_index()] = p as f32;
            Prob::Tensor(Tensor::new(vec![14], TensorData::F32(v)).expect("tensor"))
        } else {
            Prob::Float(p)
        };
        let rec = HeatmapRecord {
            map: Tensor::new(vec![1, 1, 2, 2], TensorData::F32(vec![0.1, 0.2, 0.3, 0.4]))
                .expect("map"),
            prob,
            task: task_name.to_owned(),
            gt: Value::Int(0),
            cxr_img: CxrImg::Path("x.jpg".to_owned()),
            cxr_dims: (4, 4),
        };
        write_heatmap(&dir.join(format!("{id}_{task_name}_map.pkl")), &rec, 3).expect("write");
    }
}

#[test]
fn model_assurance_matches_the_reference() {
    let maps = tempfile::tempdir().expect("tmp");
    write_maps(maps.path(), None, false);
    let out = tempfile::tempdir().expect("tmp");
    for (metric, results) in [
        ("iou", "iou_all_results_per_cxr.csv"),
        ("hitmiss", "hitmiss_results_per_cxr.csv"),
    ] {
        ok(&run(&[
            "regression-model-assurance",
            "--metric",
            metric,
            "--map_dir",
            s(maps.path()),
            "--pred_results",
            s(&data().join(results)),
            "--save_dir",
            s(out.path()),
        ]));
    }
    assert_identical(
        out.path(),
        &[
            "regression_modelprob_iou.csv",
            "regression_modelprob_hitmiss.csv",
        ],
    );
}

#[test]
fn probability_vectors_work_where_the_reference_crashes() {
    // The reference keeps a 14-vector's entry as a tensor and statsmodels fails on it. Ours
    // reads the entry (float32): the same table as with those float32 values given as floats.
    let (vec_maps, float_maps) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    write_maps(vec_maps.path(), None, true);
    let t = CsvTable::read(
        &data().join("probabilities.csv"),
        &chexlocalize_io::Limits::BUILTIN,
    )
    .expect("probabilities");
    let rounded: String = std::iter::once("img_id,task,prob".to_owned())
        .chain(t.rows.iter().map(|r| {
            let p: f64 = r[2].parse().expect("prob");
            format!("{},{},{}", r[0], r[1], f64::from(p as f32))
        }))
        .collect::<Vec<_>>()
        .join("\n");
    // Float pickles holding the float32 values.
    for line in rounded.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let rec = HeatmapRecord {
            map: Tensor::new(vec![1, 1, 2, 2], TensorData::F32(vec![0.1, 0.2, 0.3, 0.4]))
                .expect("map"),
            prob: Prob::Float(f[2].parse().expect("prob")),
            task: f[1].to_owned(),
            gt: Value::Int(0),
            cxr_img: CxrImg::Path("x.jpg".to_owned()),
            cxr_dims: (4, 4),
        };
        write_heatmap(
            &float_maps.path().join(format!("{}_{}_map.pkl", f[0], f[1])),
            &rec,
            3,
        )
        .expect("write");
    }
    let mut texts = Vec::new();
    for maps in [&vec_maps, &float_maps] {
        let out = tempfile::tempdir().expect("tmp");
        ok(&run(&[
            "regression-model-assurance",
            "--metric",
            "iou",
            "--map_dir",
            s(maps.path()),
            "--pred_results",
            s(&data().join("iou_all_results_per_cxr.csv")),
            "--save_dir",
            s(out.path()),
        ]));
        texts.push(
            std::fs::read_to_string(out.path().join("regression_modelprob_iou.csv"))
                .expect("written"),
        );
    }
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn too_few_rows_give_nan_and_warnings_not_a_crash() {
    // Three CXRs: n <= 3 per task, where the reference stops with a math error.
    let ids = [
        "patient90001_study1_view1_frontal",
        "patient90002_study1_view1_frontal",
        "patient90003_study1_view1_frontal",
    ];
    let maps = tempfile::tempdir().expect("tmp");
    write_maps(maps.path(), Some(&ids), false);
    let results = tempfile::tempdir().expect("tmp");
    let full = std::fs::read_to_string(data().join("iou_all_results_per_cxr.csv")).expect("csv");
    let few: Vec<&str> = full
        .lines()
        .filter(|l| l.starts_with("Airspace") || ids.iter().any(|id| l.ends_with(id)))
        .collect();
    let path = results.path().join("few.csv");
    std::fs::write(&path, few.join("\n")).expect("write");
    let out = tempfile::tempdir().expect("tmp");
    let stderr = ok(&run(&[
        "regression-model-assurance",
        "--metric",
        "iou",
        "--map_dir",
        s(maps.path()),
        "--pred_results",
        s(&path),
        "--save_dir",
        s(out.path()),
    ]));
    assert!(stderr.contains("n = 3 <= 3"), "{stderr}");
    let text =
        std::fs::read_to_string(out.path().join("regression_modelprob_iou.csv")).expect("written");
    let t = CsvTable::parse(&path, &text).expect("csv");
    assert_eq!(t.rows.len(), 11);
    for r in &t.rows[..10] {
        assert_eq!(r[1], "3.0");
        assert!(r[3].contains("(nan, nan)"), "{r:?}");
    }
    assert!(
        !t.rows[10][3].contains("nan"),
        "Overall has 30 rows: {:?}",
        t.rows[10]
    );
}

#[test]
fn bad_inputs_fail_cleanly_without_output() {
    let d = data();
    let out = tempfile::tempdir().expect("tmp");
    // A results file without the task columns.
    let bad = out.path().join("bad.csv");
    std::fs::write(&bad, "img_id,x\npatient90001_study1_view1_frontal,1\n").expect("write");
    let o = run(&[
        "regression-pathology-features",
        "--features_dir",
        s(&d),
        "--pred_iou_results",
        s(&bad),
        "--pred_hitmiss_results",
        s(&d.join("hitmiss_results_per_cxr.csv")),
        "--save_dir",
        s(out.path()),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("bad.csv") && stderr.contains("Airspace Opacity"),
        "{stderr}"
    );
    // A results file missing a CXR that has a finding: named in the error.
    let few = out.path().join("few.csv");
    let full = std::fs::read_to_string(d.join("iou_tp_results_per_cxr.csv")).expect("csv");
    let lines: Vec<&str> = full.lines().take(5).collect();
    std::fs::write(&few, lines.join("\n")).expect("write");
    let o = run(&[
        "regression-pathology-features",
        "--features_dir",
        s(&d),
        "--pred_iou_results",
        s(&few),
        "--pred_hitmiss_results",
        s(&d.join("hitmiss_results_per_cxr.csv")),
        "--save_dir",
        s(out.path()),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no row for CXR"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let written: Vec<_> = std::fs::read_dir(out.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("regression"))
        .collect();
    assert!(written.is_empty(), "no output on error");
}

#[test]
fn plots_are_png_files_of_the_expected_size() {
    let out = tempfile::tempdir().expect("tmp");
    ok(&run(&[
        "plot-pathology-features",
        "--features_dir",
        s(&data()),
        "--save_dir",
        s(out.path()),
    ]));
    for name in [
        "n_instance_dist.png",
        "area_ratio_dist.png",
        "elongation_dist.png",
        "irrectangularity_dist.png",
    ] {
        let bytes = std::fs::read(out.path().join(name)).expect("written");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}: PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR");
        let w = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let h = u32::from_be_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        assert_eq!((w, h), (1800, 900), "{name}");
        assert!(
            bytes.len() > 20_000,
            "{name}: a drawn plot, not a blank image"
        );
    }
}
