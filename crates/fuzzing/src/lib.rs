//! The bodies of the fuzz targets of `fuzz/` (cargo-fuzz), one function per target.
//!
//! Each function takes the fuzzer's bytes, runs one reader of untrusted input on them and checks
//! the reader's invariants (it may return an error, it must never panic, hang or allocate beyond
//! its limits, and what it accepts must survive a write / read round trip). `fuzz/` wraps them in
//! `libfuzzer_sys::fuzz_target!`; this crate's tests replay the committed seed corpus
//! (`fuzz/seeds/<target>/`) and every crash found so far (`fuzz/regressions/<target>/`) through
//! them on stable Rust, in `cargo test`.
//!
//! Two targets, `pickle_rep` and `torch_rep`, first expand their input ([`expand_to`]): a few
//! bytes of "repeat this piece N times" records stand for a file of up to [`REP_MAX`] (16 KiB),
//! so one mutated byte turns a seed with a dozen nested tuples, dict keys or archive names into
//! one with hundreds, and the fuzzer reaches the shapes whose cost grows with the file (deep
//! nesting, many keys, long central directories, huge broadcast tensors) without ever holding
//! such a file in its corpus. They read with the built-in limits scaled down as the file is
//! ([`rep_limits`]: every count and size divided by [`REP_SCALE`] = 512, the depth kept), so an
//! input meets each limit where a full-size file meets the built-in one, at about 15 000
//! executions a second. [`expand`] (8 MiB) writes full-size versions of the same inputs (the
//! seeds' tests, `examples/expand.rs`); the hostile-input suite of the CLI checks the full-size
//! shapes against the built-in limits for time and memory.
//!
//! ```
//! // The evil pickle of the README: refused, nothing runs.
//! chexlocalize_fuzzing::pickle(b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.");
//! chexlocalize_fuzzing::rle(b"\x0206");
//! ```
#![deny(missing_docs)]

use std::path::Path;

use chexlocalize_io::{CsvTable, CsvWriter};
use chexlocalize_pickle::{
    Limits, dump_heatmap, heatmap_from_value, load_any, load_heatmap, load_value,
};
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
    ("pickle_rep", pickle_rep),
    ("torch_rep", torch_rep),
];

/// Most bytes [`expand`] produces (8 MiB: the issue's hostile files need up to 5 MB at these
/// shapes; a larger cap only slows the fuzzer on junk).
pub const EXPAND_MAX: usize = 8 << 20;

/// Expands the input of the `*_rep` targets: a sequence of records `[k, len, payload…]`, each
/// standing for its payload (`len` bytes, fewer at the end of the input) repeated
/// `1 + (k & 0x7f)³` times (1 to 2 048 384). When `k & 0x80` is set, the payload's first byte
/// `p` is a position and the rest the piece: copy `i` gets the eight decimal digits of `i`
/// (zero-padded, modulo 10⁸) written over its bytes `p..p + 8` (clipped to the piece), so
/// repeated dict keys and archive names differ. A last lone byte is copied as is. Expansion
/// stops before the output would pass [`EXPAND_MAX`].
///
/// ```
/// use chexlocalize_fuzzing::expand;
/// assert_eq!(expand(b"\x01\x02ab\x00\x01c"), b"ababc");
/// assert_eq!(expand(b"\x81\x0a\x01k________"), b"k00000000k00000001");
/// assert_eq!(expand(b"\x02\x01x").len(), 9);
/// ```
pub fn expand(data: &[u8]) -> Vec<u8> {
    expand_to(data, EXPAND_MAX)
}

/// [`expand`] with another cap than [`EXPAND_MAX`]: expansion stops before the output would
/// pass `cap` bytes.
///
/// ```
/// assert_eq!(chexlocalize_fuzzing::expand_to(b"\x7f\x01x", 10), b"xxxxxxxxxx");
/// ```
pub fn expand_to(data: &[u8], cap: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = data;
    while let [k, len, tail @ ..] = rest {
        let (payload, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        let (at, piece) = match payload.split_first() {
            Some((&p, piece)) if k & 0x80 != 0 => (Some(usize::from(p)), piece),
            _ => (None, payload),
        };
        if piece.is_empty() {
            continue;
        }
        let reps = 1 + usize::from(k & 0x7f).pow(3);
        let n = reps.min((cap - out.len()) / piece.len());
        match at {
            // Plain copies: doubling, a few large copies rather than millions of small ones.
            None => {
                let start = out.len();
                let total = n * piece.len();
                out.extend_from_slice(&piece[..piece.len().min(total)]);
                while out.len() - start < total {
                    let have = out.len() - start;
                    out.extend_from_within(start..start + have.min(total - have));
                }
            }
            Some(p) => {
                let mut piece = piece.to_vec();
                let (from, to) = (p.min(piece.len()), (p + 8).min(piece.len()));
                for i in 0..n {
                    let mut digits = [b'0'; 8];
                    let mut v = i % 100_000_000;
                    for d in digits.iter_mut().rev() {
                        *d = b'0' + (v % 10) as u8;
                        v /= 10;
                    }
                    piece[from..to].copy_from_slice(&digits[..to - from]);
                    out.extend_from_slice(&piece);
                }
            }
        }
        if n < reps {
            return out;
        }
    }
    if out.len() + rest.len() <= cap {
        out.extend_from_slice(rest);
    }
    out
}

/// The custom mutation of the `*_rep` targets (run for one mutation in four, libFuzzer's own
/// for the rest): sets the repeat count of one [`expand`] record of `data`, chosen by `seed`,
/// to one of 1 to 2 048 384 (`k` from 0 to 127, keeping the numbering flag). A file's cost
/// usually grows with one count (nesting depth, keys, names): libFuzzer's own mutations found
/// none of these shapes in a first 240 s run (6 192 executions); with this one, deep nesting and
/// many keys were found within 100 executions. Returns `false`
/// (nothing changed) when `data` holds no record header.
///
/// ```
/// let mut d = *b"\x8a\x02\x00x\x05\x01y";
/// assert!(chexlocalize_fuzzing::rescale(&mut d, 0x4000));
/// assert_eq!(d, *b"\xc0\x02\x00x\x05\x01y");
/// ```
pub fn rescale(data: &mut [u8], seed: u32) -> bool {
    let mut heads = Vec::new();
    let mut at = 0;
    while at + 1 < data.len() {
        heads.push(at);
        at += 2 + usize::from(data[at + 1]);
    }
    if heads.is_empty() {
        return false;
    }
    let h = heads[seed as usize % heads.len()];
    data[h] = (data[h] & 0x80) | ((seed >> 8) % 128) as u8;
    true
}

/// Plain pickles expanded to up to [`REP_MAX`] bytes ([`expand_to`]), read as a heatmap with
/// [`rep_limits`] on a thread with a rayon worker's stack ([`WORKER_STACK`]). Only
/// "no panic, no hang, no allocation over the limits" is checked: time and memory are bounded
/// by the fuzzer's `-timeout` and `-rss_limit_mb`.
pub fn pickle_rep(data: &[u8]) {
    read_scaled(&expand_to(data, REP_MAX));
}

/// `torch.save` files expanded like [`pickle_rep`]'s (long central directories, many entries,
/// large stored entries), read the same way.
pub fn torch_rep(data: &[u8]) {
    read_scaled(&expand_to(data, REP_MAX));
}

/// The stack of a rayon worker (2 MiB), where the CLI reads heatmaps: recursion that the main
/// thread's 8 MiB would survive must fail the target too.
pub const WORKER_STACK: usize = 2 << 20;

/// Most bytes the `*_rep` targets expand an input to (16 KiB, 1/512 of [`EXPAND_MAX`]).
pub const REP_MAX: usize = 16 << 10;

/// What [`rep_limits`] divides the built-in counts and sizes by: [`EXPAND_MAX`] / [`REP_MAX`].
pub const REP_SCALE: u64 = (EXPAND_MAX / REP_MAX) as u64;

/// The limits of the `*_rep` targets: the built-in ones with every count and size divided by
/// [`REP_SCALE`] (as [`REP_MAX`] is), the nesting depth kept. A file 1/512 of the size then
/// meets each limit where a full-size one meets the built-in limit, so the fuzzer reaches every
/// limit check and the shapes just under them at about 15 000 executions a second (10 million in
/// about ten minutes; the full-size files ran at 24 to 61 a second under AddressSanitizer).
pub fn rep_limits() -> Limits {
    let b = Limits::BUILTIN;
    let n = REP_SCALE as usize;
    Limits {
        max_elements: b.max_elements / REP_SCALE,
        max_bytes_object: b.max_bytes_object / REP_SCALE,
        max_depth: b.max_depth,
        max_stack: b.max_stack / n,
        max_memo: b.max_memo / n,
        max_containers: b.max_containers / REP_SCALE,
        max_values: b.max_values / REP_SCALE,
        max_value_bytes: b.max_value_bytes / REP_SCALE,
    }
}

fn read_scaled(bytes: &[u8]) {
    let limits = rep_limits();
    let read = || {
        if let Ok(v) = load_any(bytes, &limits) {
            let _ = heatmap_from_value(v);
        }
    };
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(s, read)
            .expect("spawn a reader thread");
        if let Err(panic) = worker.join() {
            std::panic::resume_unwind(panic);
        }
    });
}

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
    let whole = load_heatmap(data, &limits);
    // The probability read without the tensors' bytes is the whole read's when both answer.
    let skimmed = chexlocalize_pickle::load_prob(std::io::Cursor::new(data), &limits);
    // (Compared as printed, so that a NaN probability equals itself.)
    if let (Some(s), Ok(rec)) = (&skimmed, &whole) {
        assert_eq!(
            format!("{:?}", (&s.prob, s.cxr_dims)),
            format!("{:?}", (&rec.prob, rec.cxr_dims))
        );
    }
    if let Ok(rec) = whole {
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
    // A first header field starting with U+FEFF (after blank lines, say) would be written at the
    // very start of the file, where readers (pandas and ours) take it for a byte-order mark: such
    // a table cannot round-trip, in pandas either.
    if t.header.first().is_some_and(|h| h.starts_with('\u{feff}')) {
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
