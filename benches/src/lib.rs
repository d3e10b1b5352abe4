//! Inputs shared by the criterion benchmarks in `benches/benches/`: masks and heatmap records
//! of the sizes CheXlocalize handles (a 2320×2828 CXR, a 320×320 map).
#![deny(missing_docs)]

use chexlocalize_pickle::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};

/// Height of the benchmark CXR (the first sample CXR's).
pub const H: usize = 2320;
/// Width of the benchmark CXR.
pub const W: usize = 2828;

/// A row-major mask shaped like a segmented Grad-CAM region: three overlapping ellipses, one
/// with a hole, covering about a quarter of the image.
pub fn blob_mask(h: usize, w: usize) -> Vec<u8> {
    let ellipses = [
        (0.35, 0.4, 0.2, 0.15),
        (0.6, 0.55, 0.12, 0.25),
        (0.75, 0.3, 0.1, 0.1),
    ];
    let mut m = vec![0u8; h * w];
    for r in 0..h {
        for c in 0..w {
            let (y, x) = (r as f64 / h as f64, c as f64 / w as f64);
            let inside = ellipses
                .iter()
                .any(|(cy, cx, ry, rx)| ((y - cy) / ry).powi(2) + ((x - cx) / rx).powi(2) < 1.0);
            let hole = ((y - 0.35) / 0.05).powi(2) + ((x - 0.4) / 0.04).powi(2) < 1.0;
            m[r * w + c] = u8::from(inside && !hole);
        }
    }
    m
}

/// A heatmap record like the sample's: a 1×1×320×320 float32 map and a 3×320×320 image tensor.
pub fn sample_like_record() -> HeatmapRecord {
    let map: Vec<f32> = (0..320 * 320)
        .map(|i| {
            ((i % 320) as f32 * 0.01).sin().abs() * ((i / 320) as f32 * 0.02).cos().abs() * 1e-3
        })
        .collect();
    let img: Vec<f32> = (0..3 * 320 * 320)
        .map(|i| (i % 255) as f32 / 64.0 - 2.0)
        .collect();
    HeatmapRecord {
        map: Tensor::new(vec![1, 1, 320, 320], TensorData::F32(map))
            .unwrap_or_else(|_| unreachable!("shape matches")),
        prob: Prob::Float(0.25),
        task: "Cardiomegaly".into(),
        gt: Value::Int(1),
        cxr_img: CxrImg::Tensor(
            Tensor::new(vec![3, 320, 320], TensorData::F32(img))
                .unwrap_or_else(|_| unreachable!("shape matches")),
        ),
        cxr_dims: (2828, 2320),
    }
}
