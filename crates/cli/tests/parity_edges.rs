//! `heatmap-to-segmentation` against the ORIGINAL script on edge cases, end to end: a tuning CSV
//! whose thresholds are empty or `nan` for some tasks (the original uses Otsu for those tasks,
//! smoothed when asked), 1×1, constant and subnormal maps, on CXRs that take torch's
//! small-output kernel (30×40, 20×50) and one that does not (70×90), in every mode (Otsu, Otsu
//! smoothed, fixed thresholds, probability cutoffs). Expected outputs made once by
//! `tests/data/make_parity_edges.py` (the original script on the same maps).

use std::path::Path;
use std::process::Command;

use chexlocalize_io::HeatmapRecord;
use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value, dump_heatmap};
use serde_json::Value as Json;

fn write_maps(dir: &Path, maps: &Json) {
    for m in maps.as_array().expect("maps") {
        let shape: Vec<usize> = m["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|v| v.as_u64().expect("dim") as usize)
            .collect();
        let values: Vec<f32> = m["values"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| v.as_f64().expect("value") as f32)
            .collect();
        let task = m["task"].as_str().expect("task");
        let rec = HeatmapRecord {
            map: Tensor::new(vec![1, 1, shape[0], shape[1]], TensorData::F32(values))
                .expect("tensor"),
            prob: Prob::Float(m["prob"].as_f64().expect("prob")),
            task: task.into(),
            gt: Value::Int(1),
            cxr_img: CxrImg::Path("valid/x.jpg".into()),
            cxr_dims: (
                m["cxr_w"].as_i64().expect("w"),
                m["cxr_h"].as_i64().expect("h"),
            ),
        };
        let name = format!("{}_{task}_map.pkl", m["cxr_id"].as_str().expect("id"));
        std::fs::write(dir.join(name), dump_heatmap(&rec, 3).expect("pickle")).expect("write");
    }
}

#[test]
fn heatmap_to_segmentation_matches_the_original_on_edge_cases() {
    let data: Json =
        serde_json::from_str(include_str!("data/parity_edges.json")).expect("parity_edges.json");
    let dir = tempfile::tempdir().expect("tmp");
    let maps = dir.path().join("maps");
    std::fs::create_dir(&maps).expect("mkdir");
    write_maps(&maps, &data["maps"]);
    for csv in ["tuning_results.csv", "probability_tuning_results.csv"] {
        std::fs::write(dir.path().join(csv), data[csv].as_str().expect("csv")).expect("write");
    }
    let mut differing = Vec::new();
    let mut total = 0;
    for (i, run) in data["runs"].as_array().expect("runs").iter().enumerate() {
        let args: Vec<&str> = run["args"]
            .as_array()
            .expect("args")
            .iter()
            .map(|a| a.as_str().expect("arg"))
            .collect();
        let out = dir.path().join(format!("seg{i}.json"));
        let o = Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
            .current_dir(dir.path())
            .arg("heatmap-to-segmentation")
            .args(["--map_dir", maps.to_str().expect("utf-8")])
            .args(["--output_path", out.to_str().expect("utf-8")])
            .args(&args)
            .output()
            .expect("runs");
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got: Json =
            serde_json::from_str(&std::fs::read_to_string(&out).expect("output")).expect("json");
        let want = &run["output"];
        for (cxr, tasks) in want.as_object().expect("cxrs") {
            for (task, rle) in tasks.as_object().expect("tasks") {
                total += 1;
                if got[cxr][task] != *rle {
                    differing.push(format!("{args:?} {cxr} {task}"));
                }
            }
        }
    }
    assert_eq!(total, 150, "5 runs of 30 maps");
    assert!(
        differing.is_empty(),
        "{} of {total} masks differ from the original:\n{}",
        differing.len(),
        differing.join("\n")
    );
}

/// Human-benchmark salient points just outside the image are scored as the original's
/// `gt_mask[int(y), int(x)]` scores them (truncation, negative indices wrapping), with a warning
/// naming each; a point past the far edge is the original's IndexError, here a clear error.
/// Expected results: `tests/data/make_hb_points.py` (the original eval.py).
#[test]
fn human_benchmark_points_outside_the_image_as_the_original() {
    let data: Json =
        serde_json::from_str(include_str!("data/hb_points.json")).expect("hb_points.json");
    let dir = tempfile::tempdir().expect("tmp");
    let gt = dir.path().join("gt.json");
    std::fs::write(&gt, data["gt"].to_string()).expect("write");
    for (i, run) in data["runs"].as_array().expect("runs").iter().enumerate() {
        let pts = dir.path().join(format!("pts{i}.json"));
        std::fs::write(&pts, run["points"].to_string()).expect("write");
        let save = dir.path().join(format!("out{i}"));
        let o = Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
            .args([
                "eval",
                "--metric",
                "hitmiss",
                "--if_human_benchmark",
                "True",
            ])
            .args(["--gt_path", gt.to_str().expect("utf-8")])
            .args(["--pred_path", pts.to_str().expect("utf-8")])
            .args(["--save_dir", save.to_str().expect("utf-8")])
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&o.stderr);
        let want = run["result"].as_str().expect("result");
        if want == "error:IndexError" {
            assert_eq!(o.status.code(), Some(1), "run {i}: {err}");
            let (task, pt) = run["points"]["cxrA"]
                .as_object()
                .and_then(|m| m.iter().next())
                .expect("one task");
            let p = &pt[0];
            for needle in [
                pts.to_str().expect("utf-8"),
                "CXR cxrA",
                task.as_str(),
                &format!(
                    "[{}, {}]",
                    p[0].as_f64().expect("x"),
                    p[1].as_f64().expect("y")
                ),
                "IndexError",
            ] {
                assert!(err.contains(needle), "run {i}: {needle:?} not in {err}");
            }
            assert!(!err.contains("panicked"), "{err}");
        } else {
            assert!(o.status.success(), "run {i}: {err}");
            let got =
                std::fs::read_to_string(save.join("hitmiss_humanbenchmark_results_per_cxr.csv"))
                    .expect("results");
            assert_eq!(got, want, "run {i}");
            // One warning per point outside the 6x8 image: all but [7.9, 5.99], [0, 0], [1, 1].
            let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
            assert_eq!(warnings.len(), 8, "{err}");
            assert!(
                warnings
                    .iter()
                    .any(|w| w.contains("[-1.2, 3]") && w.contains("row 3, column 7")),
                "{err}"
            );
        }
    }
}
