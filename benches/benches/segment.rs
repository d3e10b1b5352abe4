//! One heatmap to a mask as `heatmap_to_segmentation.py` does it (320×320 → 2828×2320), and the
//! pointing game's most salient pixel.
//!
//! Maps: the 20 Grad-CAM maps of the original sample when `../shared/chexlocalize-sample` is
//! beside the repository (read in place; the figure is per map, averaged over the 20), else a
//! synthetic smooth map of the same size.

use chexlocalize_benches::{H, W, sample_like_record, sample_maps};
use chexlocalize_saliency::{Threshold, max_point, reference, segment_rle};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use std::hint::black_box;

fn segmentation(c: &mut Criterion) {
    let maps = sample_maps().unwrap_or_else(|| {
        let rec = sample_like_record();
        let map = Array2::from_shape_vec((320, 320), rec.map.to_f32_vec())
            .unwrap_or_else(|e| unreachable!("{e}"));
        vec![(map, H, W)]
    });
    let n = maps.len();
    let mut g = c.benchmark_group(format!("segment_320_to_cxr_per_map_of_{n}"));
    g.sample_size(10);
    let each = |f: &dyn Fn(&Array2<f32>, usize, usize)| {
        for (m, h, w) in &maps {
            f(black_box(m), *h, *w);
        }
    };
    g.bench_function("otsu_rle", |b| {
        b.iter(|| {
            each(&|m, h, w| {
                black_box(segment_rle(
                    m.view(),
                    h,
                    w,
                    Threshold::Otsu { smoothing: None },
                ))
                .ok();
            })
        })
    });
    g.bench_function("fixed_threshold_rle", |b| {
        b.iter(|| {
            each(&|m, h, w| {
                black_box(segment_rle(m.view(), h, w, Threshold::Fixed(0.4))).ok();
            })
        })
    });
    g.bench_function("otsu_smoothed_k5_rle", |b| {
        b.iter(|| {
            each(&|m, h, w| {
                black_box(segment_rle(
                    m.view(),
                    h,
                    w,
                    Threshold::Otsu { smoothing: Some(5) },
                ))
                .ok();
            })
        })
    });
    g.bench_function("max_point", |b| {
        b.iter(|| {
            each(&|m, h, w| {
                black_box(max_point(m.view(), h, w));
            })
        })
    });
    g.bench_function("otsu_reference_implementation", |b| {
        b.iter(|| {
            each(&|m, h, w| {
                black_box(reference::segment(
                    m.view(),
                    h,
                    w,
                    Threshold::Otsu { smoothing: None },
                ));
            })
        })
    });
    g.finish();
}

criterion_group!(benches, segmentation);
criterion_main!(benches);
