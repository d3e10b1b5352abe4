//! Edge-case heatmaps against the ORIGINAL `heatmap_to_segmentation.py` (numpy 2.4.6, torch
//! 2.15.0 CPU, OpenCV 5.0.0, Pillow 13.0.0, pycocotools 2.0.11): constant maps (0, 0.5, 1,
//! negative, huge, subnormal), 1×1 maps, single hot pixels, subnormal and narrow-range maps, on
//! CXRs of every height up to 64 (and every square), sizes around torch's small-output kernel
//! limit (`out_h + out_w <= 128`) and odd shapes (2×7, 3001×2), in Otsu, Otsu after smoothing
//! (`k = 5`) and fixed-threshold (0.5 and 0) modes. Expected masks made once by
//! `tests/data/make_edge_cases.py` (each kept as its area and the FNV-1a hash of its
//! pycocotools counts string).

use chexlocalize_saliency::{Threshold, segment_rle};
use ndarray::Array2;
use serde_json::Value;

fn fnv1a32(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

fn threshold(mode: &str) -> Threshold {
    match mode {
        "otsu" => Threshold::Otsu { smoothing: None },
        "smooth5" => Threshold::Otsu { smoothing: Some(5) },
        "fixed0.5" => Threshold::Fixed(0.5),
        "fixed0" => Threshold::Fixed(0.0),
        other => panic!("unknown mode {other}"),
    }
}

fn map(maps: &Value, name: &str) -> Array2<f32> {
    let m = &maps[name];
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
    Array2::from_shape_vec((shape[0], shape[1]), values).expect("map shape")
}

/// Masks that still differ, each for a known reason. On these tiny CXRs the smoothed 8-bit image
/// has a histogram with an exact tie between two Otsu thresholds (e.g. values 234, 236, 237,
/// 238, 240 twice each: thresholds 236 and 237 have the same between-class variance, 8/3).
/// OpenCV's wheels compute Otsu with Intel IPP (`ippiComputeThreshold_Otsu_8u_C1R`), whose
/// rounding breaks such ties sometimes one way, sometimes the other (236 here), and differently
/// on CPUs with other instruction sets (SSE4.2 vs AVX-512): the reference's own masks are not
/// reproducible across machines on ties. We follow OpenCV's own C++ formula, which agrees with
/// IPP on every untied histogram (`otsu_oracle.rs`: 905 tied and 100 untied histograms; IPP
/// always picks one of the tied thresholds).
const KNOWN: [&str; 3] = [
    "one_0.5 on 5x2, smooth5",
    "one_1e-40 on 5x2, smooth5",
    "one_3e+38 on 6x2, smooth5",
];

#[test]
fn edge_masks_match_the_original() {
    let data: Value =
        serde_json::from_str(include_str!("data/edge_cases.json")).expect("edge_cases.json");
    let modes: Vec<&str> = data["modes"]
        .as_array()
        .expect("modes")
        .iter()
        .map(|m| m.as_str().expect("mode"))
        .collect();
    let (mut checked, mut skipped, mut failures) = (0, 0, Vec::new());
    for case in data["cases"].as_array().expect("cases") {
        let name = case[0].as_str().expect("map name");
        let (h, w) = (
            case[1].as_u64().expect("h") as usize,
            case[2].as_u64().expect("w") as usize,
        );
        let m = map(&data["maps"], name);
        for (i, mode) in modes.iter().enumerate() {
            let want = case[3 + i].as_str().expect("mask");
            if want.starts_with("error:") {
                // The original fails on a CXR of height or width 1 (its assert after squeeze);
                // ours still gives a mask, which must at least be made without a panic.
                let _ = segment_rle(m.view(), h, w, threshold(mode)).expect("rle");
                skipped += 1;
                continue;
            }
            let rle = segment_rle(m.view(), h, w, threshold(mode)).expect("rle");
            let got = format!("{}:{:08x}", rle.area(), fnv1a32(&rle.to_counts_string()));
            let label = format!("{name} on {h}x{w}, {mode}");
            if KNOWN.contains(&label.as_str()) {
                assert_ne!(got, want, "{label} matches now: drop it from KNOWN");
                continue;
            }
            if got != want {
                failures.push(format!("{name} on {h}x{w}, {mode}: got {got}, want {want}"));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} masks differ from the original:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 7000, "{checked} masks checked");
    assert!(skipped > 0 && skipped < 200, "{skipped} error cases");
}
