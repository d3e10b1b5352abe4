//! Beyond the paper: the paired bootstrap of `compare` (1000 replicates × 10 methods × 668 CXRs ×
//! 10 tasks, the test set's size; goal under 1 s), and the threshold-free and boundary metrics
//! on one 2320 × 2828 map / mask pair (a 320 × 320 map upsampled as for segmentation).

use chexlocalize_metrics::{
    CiLevel, Clusters, Localisation, NumpyLegacyRng, Spacing, hd95, localisation, pair_differences,
    paired_bootstrap, surface_dice,
};
use chexlocalize_rle::Rle;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn methods() -> Vec<Vec<Vec<f64>>> {
    (0..10)
        .map(|m| {
            (0..10)
                .map(|t| {
                    (0..668)
                        .map(|i| {
                            if (i * 7 + t) % 3 == 0 {
                                f64::NAN
                            } else {
                                ((i * 31 + t * 17 + m * 5) % 97) as f64 / 97.0
                            }
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// A smooth 320 × 320 map upsampled to 2320 × 2828, and an elliptic mask near its peak.
fn map_and_masks() -> (Vec<f32>, Rle, Rle) {
    let (h, w) = (2320usize, 2828usize);
    let small = ndarray::Array2::from_shape_fn((320, 320), |(r, c)| {
        let (y, x) = (r as f32 / 320.0 - 0.45, c as f32 / 320.0 - 0.55);
        (-(y * y + x * x) * 9.0).exp() + ((r * 7 + c * 13) % 17) as f32 * 0.004
    });
    let up = chexlocalize_saliency::upsample_bilinear(small.view(), h, w);
    let ellipse = |cy: f64, cx: f64| -> Rle {
        let m: Vec<u8> = (0..h * w)
            .map(|i| {
                let (y, x) = (
                    (i / w) as f64 / h as f64 - cy,
                    (i % w) as f64 / w as f64 - cx,
                );
                u8::from((y / 0.2).powi(2) + (x / 0.15).powi(2) < 1.0)
            })
            .collect();
        Rle::encode(&m, h, w).expect("mask")
    };
    (
        up.into_raw_vec_and_offset().0,
        ellipse(0.45, 0.55),
        ellipse(0.5, 0.5),
    )
}

fn compare(c: &mut Criterion) {
    let m = methods();
    let clusters = Clusters::singletons(668);
    let mut g = c.benchmark_group("paired_bootstrap_1000x10x668x10");
    g.sample_size(10);
    g.bench_function("replicates_and_pairs", |b| {
        b.iter(|| {
            let reps =
                paired_bootstrap(black_box(&m), &clusters, 1000, &mut NumpyLegacyRng::new(0));
            pair_differences(&reps, CiLevel::NINETY_FIVE)
        })
    });
    g.finish();

    let (map, gt, pred) = map_and_masks();
    let mut g = c.benchmark_group("per_map_2320x2828");
    g.sample_size(10);
    for (name, which) in [
        ("auroc", Localisation::Auroc),
        ("auprc", Localisation::Auprc),
        ("relevance_mass", Localisation::RelevanceMass),
        ("relevance_rank", Localisation::RelevanceRank),
        (
            "topk_intersection",
            Localisation::TopKIntersection { k: 1000 },
        ),
        ("energy_pointing_game", Localisation::EnergyPointingGame),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| localisation(black_box(&map), &gt, which))
        });
    }
    g.bench_function("hd95", |b| {
        b.iter(|| hd95(black_box(&pred), &gt, Spacing::PIXELS))
    });
    g.bench_function("surface_dice", |b| {
        b.iter(|| surface_dice(black_box(&pred), &gt, Spacing::PIXELS, 2.0))
    });
    g.finish();
}

criterion_group!(benches, compare);
criterion_main!(benches);
