//! Loading a heatmap pickle the size of the sample's (320×320 map, 3×320×320 image tensor).

use chexlocalize_benches::sample_like_record;
use chexlocalize_pickle::{Limits, dump_heatmap, load_heatmap};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn pickle(c: &mut Criterion) {
    let bytes = dump_heatmap(&sample_like_record(), 3).unwrap_or_else(|e| unreachable!("{e}"));
    let limits = Limits::default();
    let mut g = c.benchmark_group("pickle");
    g.sample_size(30);
    g.bench_function("load_heatmap_320", |b| {
        b.iter(|| load_heatmap(black_box(&bytes), &limits))
    });
    g.finish();
}

criterion_group!(benches, pickle);
criterion_main!(benches);
