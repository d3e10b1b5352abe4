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
