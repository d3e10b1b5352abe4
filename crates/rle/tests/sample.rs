//! Parity with pycocotools on the original CheXlocalize sample: every mask re-encodes to the
//! identical string; area, bbox and IoU equal `reference/rle_summary.csv` (pycocotools 2.0.11's
//! `area`, `toBbox` and `iou(pred, gt, iscrowd=[0])`, see that folder's README).

use std::path::Path;

use chexlocalize_rle::Rle;
use serde_json::Value;

fn masks(path: &Path) -> Vec<(String, String, Rle, String)> {
    let text = std::fs::read_to_string(path).expect("read sample JSON");
    let v: Value = serde_json::from_str(&text).expect("sample JSON");
    let mut out = Vec::new();
    for (cxr, tasks) in v.as_object().expect("object") {
        for (task, m) in tasks.as_object().expect("object") {
            let size = m["size"].as_array().expect("size");
            let (h, w) = (
                size[0].as_u64().expect("h") as usize,
                size[1].as_u64().expect("w") as usize,
            );
            let counts = m["counts"].as_str().expect("counts").to_owned();
            let rle = Rle::from_counts_str(h, w, &counts).expect("valid sample RLE");
            out.push((cxr.clone(), task.clone(), rle, counts));
        }
    }
    out
}

#[test]
fn every_sample_mask_round_trips() {
    let Some(dir) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let mut n = 0;
    for file in [
        "gt_segmentations_val.json",
        "gradcam_segmentations_val_sample.json",
        "reference/saliency_otsu.json",
        "reference/saliency_otsu_smooth_k5.json",
        "reference/hb_segmentations.json",
    ] {
        for (cxr, task, rle, counts) in masks(&dir.join(file)) {
            assert_eq!(
                rle.to_counts_string(),
                counts,
                "{file} {cxr} {task}: string"
            );
            let decoded = rle.decode();
            let again = Rle::encode(&decoded, rle.height(), rle.width()).expect("encode");
            assert_eq!(
                again.to_counts_string(),
                counts,
                "{file} {cxr} {task}: re-encoded"
            );
            n += 1;
        }
    }
    assert!(n >= 100, "only {n} masks");
}

#[test]
fn area_bbox_iou_match_rle_summary() {
    let Some(dir) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let gt = masks(&dir.join("gt_segmentations_val.json"));
    let pred = masks(&dir.join("gradcam_segmentations_val_sample.json"));
    let find = |list: &[(String, String, Rle, String)], c: &str, t: &str| {
        list.iter()
            .find(|m| m.0 == c && m.1 == t)
            .map(|m| m.2.clone())
            .expect("mask present")
    };
    let summary = std::fs::read_to_string(dir.join("reference/rle_summary.csv")).expect("summary");
    let bbox = |s: &str| -> Vec<f64> {
        s.split(';')
            .map(|x| x.parse().expect("bbox float"))
            .collect()
    };
    let mut rows = 0;
    for line in summary.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (g, p) = (find(&gt, f[0], f[1]), find(&pred, f[0], f[1]));
        assert_eq!(
            (g.height().to_string(), g.width().to_string()),
            (f[2].to_owned(), f[3].to_owned())
        );
        assert_eq!(g.area().to_string(), f[4], "{line}");
        assert_eq!(g.bbox().to_vec(), bbox(f[5]), "{line}");
        assert_eq!(p.area().to_string(), f[6], "{line}");
        assert_eq!(p.bbox().to_vec(), bbox(f[7]), "{line}");
        assert_eq!(
            p.iou(&g).expect("same size"),
            f[8].parse::<f64>().expect("iou"),
            "{line}"
        );
        rows += 1;
    }
    assert_eq!(rows, 20);
}
