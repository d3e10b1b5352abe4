//! One heatmap to a mask as `heatmap_to_segmentation.py` does it (320×320 → 2320×2828), and the
//! pointing game's most salient pixel.

use chexlocalize_benches::{H, W, sample_like_record};
use chexlocalize_saliency::{Threshold, max_point, segment};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use std::hint::black_box;

fn segmentation(c: &mut Criterion) {
    let rec = sample_like_record();
    let map = Array2::from_shape_vec((320, 320), rec.map.to_f32_vec())
        .unwrap_or_else(|e| unreachable!("{e}"));
    let mut g = c.benchmark_group("segment_320_to_2320x2828");
    g.sample_size(10);
    g.bench_function("otsu", |b| {
        b.iter(|| {
            segment(
                black_box(map.view()),
                H,
                W,
                Threshold::Otsu { smoothing: None },
            )
        })
    });
    g.bench_function("fixed_threshold", |b| {
        b.iter(|| segment(black_box(map.view()), H, W, Threshold::Fixed(0.4)))
    });
    g.bench_function("max_point", |b| {
        b.iter(|| max_point(black_box(map.view()), H, W))
    });
    g.finish();
}

criterion_group!(benches, segmentation);
criterion_main!(benches);
