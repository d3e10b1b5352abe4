//! RLE encode / decode / counts text / IoU on a 2320×2828 mask.

use chexlocalize_benches::{H, W, blob_mask};
use chexlocalize_rle::Rle;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn rle(c: &mut Criterion) {
    let mask = blob_mask(H, W);
    let rle = Rle::encode(&mask, H, W).unwrap_or_else(|e| unreachable!("{e}"));
    let text = rle.to_counts_string();
    let other_mask: Vec<u8> = (0..H * W)
        .map(|i| mask[(i + 97 * W + 131) % (H * W)])
        .collect();
    let other = Rle::encode(&other_mask, H, W).unwrap_or_else(|e| unreachable!("{e}"));
    let mut g = c.benchmark_group("rle_2320x2828");
    g.sample_size(30);
    g.bench_function("encode", |b| b.iter(|| Rle::encode(black_box(&mask), H, W)));
    g.bench_function("decode", |b| b.iter(|| black_box(&rle).decode()));
    g.bench_function("to_counts_string", |b| {
        b.iter(|| black_box(&rle).to_counts_string())
    });
    g.bench_function("from_counts_str", |b| {
        b.iter(|| Rle::from_counts_str(H, W, black_box(&text)))
    });
    g.bench_function("iou_on_runs", |b| {
        b.iter(|| black_box(&rle).iou(black_box(&other)))
    });
    let other_text = other.to_counts_string();
    g.bench_function("iou_from_strings", |b| {
        // What pycocotools' `mask.iou([dt], [gt], [0])` does: parse both strings, then the runs.
        b.iter(|| {
            let x = Rle::from_counts_str(H, W, black_box(&text))?;
            let y = Rle::from_counts_str(H, W, black_box(&other_text))?;
            x.iou(&y)
        })
    });
    g.bench_function("iou_decode_and_compare", |b| {
        b.iter(|| {
            let (x, y) = (black_box(&rle).decode(), black_box(&other).decode());
            let (mut i, mut u) = (0u64, 0u64);
            for (a, b) in x.iter().zip(&y) {
                i += u64::from(a & b);
                u += u64::from(a | b);
            }
            i as f64 / u as f64
        })
    });
    g.finish();
}

criterion_group!(benches, rle);
criterion_main!(benches);
