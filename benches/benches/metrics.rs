//! The bootstrap of `eval`: 1000 replicates over 234 CXRs × 10 tasks (the validation set's size).

use chexlocalize_metrics::{ChaChaSampler, NumpyLegacyRng, bootstrap, confidence_interval};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn columns() -> Vec<Vec<f64>> {
    (0..10)
        .map(|t| {
            (0..234)
                .map(|i| {
                    if (i * 7 + t) % 3 == 0 {
                        f64::NAN
                    } else {
                        ((i * 31 + t * 17) % 97) as f64 / 97.0
                    }
                })
                .collect()
        })
        .collect()
}

fn metrics(c: &mut Criterion) {
    let cols = columns();
    let mut g = c.benchmark_group("bootstrap_1000x234x10");
    g.sample_size(20);
    g.bench_function("numpy_stream", |b| {
        b.iter(|| bootstrap(black_box(&cols), 1000, &mut NumpyLegacyRng::new(0)))
    });
    g.bench_function("chacha", |b| {
        b.iter(|| bootstrap(black_box(&cols), 1000, &mut ChaChaSampler::new(0)))
    });
    g.bench_function("numpy_stream_and_cis", |b| {
        b.iter(|| {
            let reps = bootstrap(black_box(&cols), 1000, &mut NumpyLegacyRng::new(0));
            (0..10)
                .map(|t| confidence_interval(&reps.iter().map(|r| r[t]).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        })
    });
    g.finish();
}

criterion_group!(benches, metrics);
criterion_main!(benches);
