//! The bodies of the fuzz targets of `fuzz/` (cargo-fuzz), one function per target.
//!
//! Each function takes the fuzzer's bytes, runs one reader of untrusted input on them and checks
//! the reader's invariants (it may return an error, it must never panic, hang or allocate beyond
//! its limits, and what it accepts must survive a write / read round trip). `fuzz/` wraps them in
//! `libfuzzer_sys::fuzz_target!`; this crate's tests replay the committed seed corpus
//! (`fuzz/seeds/<target>/`) and every crash found so far (`fuzz/regressions/<target>/`) through
//! them on stable Rust, in `cargo test`.
//!
//! ```
//! // The evil pickle of the README: refused, nothing runs.
//! chexlocalize_fuzzing::pickle(b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.");
//! chexlocalize_fuzzing::rle(b"\x0206");
//! ```
#![deny(missing_docs)]

use std::path::Path;

use chexlocalize_io::{CsvTable, CsvWriter};
use chexlocalize_pickle::{Limits, dump_heatmap, load_heatmap, load_value};
use chexlocalize_rle::{Rle, RleError};

/// A target body: takes the fuzzer's bytes, panics on a broken invariant.
pub type Target = fn(&[u8]);

/// The targets, by name (the names of `fuzz/fuzz_targets/*.rs` and of the seed folders).
pub const TARGETS: &[(&str, Target)] = &[
    ("pickle", pickle),
    ("torch", torch),
    ("npy", npy),
    ("rle", rle),
    ("json", json),
    ("csv", csv),
];

/// Limits small enough that the fuzzer explores the limit checks, not the allocator.
fn fuzz_limits() -> Limits {
    Limits {
        max_elements: 1 << 16,
        max_bytes_object: 1 << 20,
        max_depth: 64,
        max_stack: 10_000,
        max_memo: 10_000,
        max_containers: 10_000,
        max_values: 100_000,
        max_value_bytes: 1 << 26,
    }
}

/// Heatmap pickles: the safe pickle machine and the record reader. What loads as a record is
/// written back with our writer and must load again with the same map and task.
pub fn pickle(data: &[u8]) {
    let limits = fuzz_limits();
    let _ = load_value(data, &limits);
    if let Ok(rec) = load_heatmap(data, &limits) {
        for protocol in [2, 5] {
            let Ok(bytes) = dump_heatmap(&rec, protocol) else {
                continue;
            };
            let back = load_heatmap(&bytes, &Limits::default())
                .unwrap_or_else(|e| panic!("our own pickle does not load back: {e}"));
            assert_eq!(back.map.shape, rec.map.shape);
            assert_eq!(back.task, rec.task);
            assert_eq!(back.cxr_dims, rec.cxr_dims);
        }
    }
}

/// `torch.save` files, zip archives and legacy files: the archive reader, `data.pkl` through
/// the pickle machine, storages from the entries.
pub fn torch(data: &[u8]) {
    let limits = fuzz_limits();
    let _ = chexlocalize_pickle::load_torch(data, &limits);
    let _ = load_heatmap(data, &limits);
}

/// numpy `.npy` arrays: header literal, dtype, order. A float32 array we read is written back
/// with our writer and must read back identical.
pub fn npy(data: &[u8]) {
    let path = Path::new("fuzz.npy");
    let limits = chexlocalize_io::Limits {
        pickle: fuzz_limits(),
        ..chexlocalize_io::Limits::default()
    };
    let Ok(t) = chexlocalize_io::parse_npy(path, data, &limits) else {
        return;
    };
    let v = t.to_f32_vec();
    let bytes = chexlocalize_io::npy_bytes(&t.shape, &v);
    let back = chexlocalize_io::parse_npy(path, &bytes, &limits).expect("our .npy reads back");
    assert_eq!(back.shape, t.shape);
    let same = back
        .to_f32_vec()
        .iter()
        .zip(&v)
        .all(|(a, b)| a.to_bits() == b.to_bits());
    assert!(same, "values differ after a round trip");
}

/// pycocotools `counts` text. The first byte picks the mask height (1 to 16); the rest is the
/// text. The runs of an accepted string must survive writing and reading back (the text itself
/// only when it is minimal, as pycocotools writes it), and decoding must agree with the
/// run-level area, bounding box and pixel lookups.
pub fn rle(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let h = usize::from(first % 16) + 1;
    // The sum of the runs, learnt from the size mismatch against an empty mask.
    let total = match Rle::from_counts_str(1, 0, text) {
        Ok(_) => 0,
        Err(RleError::SumMismatch { got, .. }) => got,
        Err(_) => return,
    };
    let Ok(total) = usize::try_from(total) else {
        return;
    };
    if total % h != 0 {
        assert!(Rle::from_counts_str(h, total / h, text).is_err());
        return;
    }
    let w = total / h;
    if total > u32::MAX as usize {
        // pycocotools' runs are 32-bit: such a mask is refused, not wrapped.
        assert!(matches!(
            Rle::from_counts_str(h, w, text),
            Err(RleError::TooLarge { .. })
        ));
        return;
    }
    let r = Rle::from_counts_str(h, w, text).expect("runs cover h*w");
    let written = r.to_counts_string();
    let back = Rle::from_counts_str(h, w, &written).expect("our counts text reads back");
    assert_eq!(back, r, "runs do not round-trip through {written:?}");
    assert!(r.area() <= total as u64);
    let [x, y, bw, bh] = r.bbox();
    assert!(x + bw <= w as f64 && y + bh <= h as f64);
    if total <= 1 << 16 {
        let m = r.decode();
        assert_eq!(m.len(), total);
        assert_eq!(m.iter().filter(|&&b| b != 0).count() as u64, r.area());
        // `get` walks the runs: a few dozen pixels keep the target fast on long strings.
        for (i, &b) in m.iter().enumerate().step_by(total / 32 + 1) {
            assert_eq!(r.get(i / w, i % w), Some(b != 0));
        }
        let again = Rle::encode(&m, h, w).expect("encode");
        assert_eq!(again.area(), r.area());
        assert_eq!(again.decode(), m);
        if r.area() > 0 {
            assert_eq!(r.iou(&again).expect("same size"), 1.0);
        }
    }
}

/// Annotation, segmentation and salient-point JSON: the three parsers on the same text. What
/// one accepts is written back as `json.dump` text and must parse to the same value.
pub fn json(data: &[u8]) {
    let path = Path::new("fuzz.json");
    let limits = chexlocalize_io::Limits::BUILTIN;
    let Ok(v) = chexlocalize_io::parse_json(path, data, &limits) else {
        return;
    };
    if let Ok(a) = chexlocalize_io::parse_annotations(path, &v, &limits) {
        let text = chexlocalize_io::annotations_to_json_string(&a);
        let v2: serde_json::Value = serde_json::from_str(&text).expect("our annotation JSON");
        let back = chexlocalize_io::parse_annotations(path, &v2, &limits).expect("reads back");
        assert_eq!(back, a);
    }
    if let Ok(s) = chexlocalize_io::parse_segmentations(path, &v, &limits) {
        let text = s.to_json_string();
        let v2: serde_json::Value = serde_json::from_str(&text).expect("our segmentation JSON");
        let back = chexlocalize_io::parse_segmentations(path, &v2, &limits).expect("reads back");
        assert_eq!(back, s);
    }
    if let Ok(p) = chexlocalize_io::parse_salient_points(path, &v) {
        let text = chexlocalize_io::salient_points_to_json_string(&p);
        let v2: serde_json::Value = serde_json::from_str(&text).expect("our points JSON");
        let back = chexlocalize_io::parse_salient_points(path, &v2).expect("reads back");
        assert_eq!(back, p);
    }
}

/// The pandas-dialect CSV reader and the two tuning-table readers. A table we read is written
/// back with our writer and must read back the same.
pub fn csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.csv");
    let Ok(t) = CsvTable::parse(path, text) else {
        return;
    };
    let _ = t.thresholds();
    let _ = t.probability_cutoffs();
    // Every cell of a small table, and the first cells of a large one (each failing lookup
    // formats an error: probing all cells of a 4 KB table slowed the target tenfold).
    for (r, c) in (0..t.rows.len())
        .flat_map(|r| (0..t.header.len()).map(move |c| (r, c)))
        .take(256)
    {
        let _ = t.f64_at(r, c);
        let _ = t.task_at(r, c);
    }
    // Out-of-range lookups are errors, not panics.
    assert!(t.f64_at(t.rows.len(), 0).is_err());
    assert!(t.task_at(0, t.header.len()).is_err());
    // A one-column row holding an empty field is a blank line, which pandas (and we) skip.
    let blank = |r: &Vec<String>| r.len() == 1 && r[0].is_empty();
    if blank(&t.header) || t.rows.iter().any(blank) {
        return;
    }
    let mut w = CsvWriter::new();
    w.row(t.header.iter().map(String::as_str));
    for r in &t.rows {
        w.row(r.iter().map(String::as_str));
    }
    let back = CsvTable::parse(path, w.as_str()).expect("our CSV reads back");
    assert_eq!(back.header, t.header);
    assert_eq!(back.rows, t.rows);
}
