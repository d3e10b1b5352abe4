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

/// The Grad-CAM maps of the original sample with their CXR sizes `(map, h, w)`, when the sample
/// is beside the repository (`../shared/chexlocalize-sample`, read in place); `None` otherwise.
pub fn sample_maps() -> Option<Vec<(ndarray::Array2<f32>, usize, usize)>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/chexlocalize-sample/gradcam_maps_val");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pkl"))
        .collect();
    paths.sort();
    let mut out = Vec::with_capacity(paths.len());
    for p in paths {
        let bytes = std::fs::read(&p).ok()?;
        let rec =
            chexlocalize_pickle::load_heatmap(&bytes, &chexlocalize_pickle::Limits::default())
                .ok()?;
        let s = rec.map.shape.clone();
        let (mh, mw) = (s[s.len() - 2], s[s.len() - 1]);
        let map = ndarray::Array2::from_shape_vec((mh, mw), rec.map.to_f32_vec()).ok()?;
        let (w, h) = rec.cxr_dims;
        out.push((map, usize::try_from(h).ok()?, usize::try_from(w).ok()?));
    }
    (!out.is_empty()).then_some(out)
}
