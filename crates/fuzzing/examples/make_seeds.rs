//! Writes the seed corpus of the fuzz targets into `fuzz/seeds/<target>/` with our own writers
//! (deterministic; a few KB per target). Run from anywhere:
//! `cargo run -p chexlocalize-fuzzing --example make_seeds`.
//!
//! Besides valid files, it writes small versions of the hostile shapes of issue 17 (deep
//! nesting, many dict keys, one zip entry under many names, broadcast tensors, huge claimed
//! shapes). The `*_rep` seeds are [`chexlocalize_fuzzing::expand`] records whose repeat bytes
//! are set below any limit: one mutated byte scales a shape up a thousandfold.

use std::path::Path;

use chexlocalize_io::pickle::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};
use chexlocalize_rle::Rle;

fn record(h: usize, w: usize, data: TensorData, prob: Prob, img: CxrImg) -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(vec![1, 1, h, w], data).expect("shape"),
        prob,
        task: "Edema".into(),
        gt: Value::Int(1),
        cxr_img: img,
        cxr_dims: (7, 5),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds");
    let put = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    // pickle: our writer at every protocol, a few shapes and types, and a hostile pickle.
    let small = record(
        2,
        3,
        TensorData::F32(vec![0.0, 0.5, 1.0, 0.25, -1.0, 2.0]),
        Prob::Float(0.75),
        CxrImg::Path("valid/patient1/study1/view1_frontal.jpg".into()),
    );
    for p in 2..=5 {
        put(
            "pickle",
            &format!("f32_protocol{p}.pkl"),
            &chexlocalize_pickle::dump_heatmap(&small, p)?,
        )?;
    }
    let vector = record(
        1,
        2,
        TensorData::F64(vec![0.125, 3.0]),
        Prob::Tensor(Tensor::new(
            vec![14],
            TensorData::F32((0..14).map(|i| i as f32 / 14.0).collect()),
        )?),
        CxrImg::Tensor(Tensor::new(
            vec![3, 1, 2],
            TensorData::U8(vec![1, 2, 3, 4, 5, 6]),
        )?),
    );
    put(
        "pickle",
        "f64_prob_vector.pkl",
        &chexlocalize_pickle::dump_heatmap(&vector, 2)?,
    )?;
    put(
        "pickle",
        "os_system.pkl",
        b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
    )?;

    // torch: the torch-written archives of the io tests (zip and legacy; a few hundred bytes
    // to 3 KB, written by tests/data/make_heatmap_files.py).
    let heatmaps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../io/tests/data/heatmaps");
    for (from, to) in [
        ("patient1_study1_view1_frontal_Edema_map.pt", "zip.pt"),
        (
            "patient1_study1_view1_frontal_Cardiomegaly_map.pt",
            "legacy.pt",
        ),
    ] {
        put("torch", to, &std::fs::read(heatmaps.join(from))?)?;
    }

    put(
        "torch",
        "ours_zip.pt",
        &chexlocalize_pickle::dump_heatmap_torch_zip(&vector, "ours_zip")?,
    )?;

    // npy: our writer, and numpy's big-endian Fortran-order float64 file.
    put(
        "npy",
        "f32_c.npy",
        &chexlocalize_io::npy_bytes(&[1, 1, 2, 3], &[0.0, 0.5, 1.0, -2.0, 3.5, 1e-3]),
    )?;
    put(
        "npy",
        "f64_be_fortran.npy",
        &std::fs::read(heatmaps.join("patient1_study1_view1_frontal_Atelectasis_map.npy"))?,
    )?;

    // rle: first byte = height - 1 (mod 16), then pycocotools counts text.
    let mask: Vec<u8> = (0..48).map(|i| u8::from((i * 7) % 5 < 2)).collect();
    let counts = Rle::encode(&mask, 6, 8)?.to_counts_string();
    put("rle", "mask_6x8", format!("\x05{counts}").as_bytes())?;
    put("rle", "first_pixel_set", b"\x0106")?;
    put("rle", "deltas", b"\x00PeQ33odQ31X[nLM")?;

    // json: one file of each of the three kinds.
    put(
        "json",
        "annotations.json",
        br#"{"patient1_study1_view1_frontal": {"img_size": [5, 7], "Edema": [[[0, 0], [3.5, 1], [2, 4]]], "Lung Opacity": [[[1, 1], [6, 1], [6, 4], [1.25, 4]]]}}"#,
    )?;
    put(
        "json",
        "segmentations.json",
        format!(
            r#"{{"patient1_study1_view1_frontal": {{"Edema": {{"size": [6, 8], "counts": "{counts}"}}, "Cardiomegaly": {{"size": [6, 8], "counts": "0`0"}}}}, "p2": {{}}}}"#
        )
        .as_bytes(),
    )?;
    put(
        "json",
        "salient_points.json",
        br#"{"patient1_study1_view1_frontal": {"Edema": [[1, 2], [3.75, 0.5]], "Support Devices": []}}"#,
    )?;

    // csv: the two tuning tables and pandas' quoting.
    put(
        "csv",
        "tuning_results.csv",
        b"threshold,task\n0.4,Edema\n0.7,Lung Opacity\n0.2,Edema\n",
    )?;
    put(
        "csv",
        "probability_tuning_results.csv",
        b"prob_threshold,mIoU,task\n0.0,0.1,Edema\n0.1,,Edema\n0.2,0.3,Cardiomegaly\n",
    )?;
    put(
        "csv",
        "quoted.csv",
        b"task,feature,text\r\nOverall,,\"0.329, (-0.677, 1.335)\"\n\"a \"\"b\"\"\",nan,-inf\n",
    )?;
    hostile_shapes(&put, &small)?;
    println!("seeds written to {}", root.display());
    Ok(())
}

/// `expand` records: a literal (repeat once), in pieces of at most 255 bytes.
fn lit(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in bytes.chunks(255) {
        out.extend([0, c.len() as u8]);
        out.extend_from_slice(c);
    }
    out
}

/// `expand` record: `piece` repeated `1 + k³` times.
fn rep(k: u8, piece: &[u8]) -> Vec<u8> {
    assert!(k < 0x80 && piece.len() < 256);
    let mut out = vec![k, piece.len() as u8];
    out.extend_from_slice(piece);
    out
}

/// `expand` record: `piece` repeated `1 + k³` times, copy `i` with the digits of `i` at `at`.
fn numbered(k: u8, at: u8, piece: &[u8]) -> Vec<u8> {
    assert!(k < 0x80 && piece.len() < 255);
    let mut out = vec![k | 0x80, piece.len() as u8 + 1, at];
    out.extend_from_slice(piece);
    out
}

/// Table CRC-32 (IEEE, reflected 0xEDB88320), as zip archives carry.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Replaces the one occurrence of `from` in `bytes` by `to`.
fn patch(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern in the pickle");
    [&bytes[..at], to, &bytes[at + from.len()..]].concat()
}

/// A `.npy` version 1.0 file with `header` (padded as numpy pads it) and `data`.
fn npy(header: &str, data: &[u8]) -> Vec<u8> {
    let mut h = header.as_bytes().to_vec();
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((h.len() as u16).to_le_bytes());
    out.extend(h);
    out.extend_from_slice(data);
    out
}

/// Writes one seed: target, file name, bytes.
type Put<'a> = dyn Fn(&str, &str, &[u8]) -> std::io::Result<()> + 'a;

/// Seeds of the hostile shapes, at harmless sizes.
fn hostile_shapes(put: &Put<'_>, small: &HeatmapRecord) -> Result<(), Box<dyn std::error::Error>> {
    // Broadcast tensors: a 1-element storage viewed as 1x1x16x16 with strides 0 (the issue's
    // 1x1x16384x16384 is two bytes away: BININT2 `M\x10\x00` -> `M\x00\x40`), and 16 values
    // repeated over 16 rows (stride 0 on the row axis).
    let one = record(
        1,
        1,
        TensorData::F32(vec![0.5]),
        Prob::Float(0.5),
        CxrImg::Path("x".into()),
    );
    let one = chexlocalize_pickle::dump_heatmap(&one, 2)?;
    let stride0 = patch(
        &one,
        b"K\x00(K\x01K\x01K\x01K\x01t(K\x01K\x01K\x01K\x01t\x89",
        b"K\x00(K\x01K\x01M\x10\x00M\x10\x00t(K\x00K\x00K\x00K\x00t\x89",
    );
    let row = record(
        1,
        16,
        TensorData::F32((0..16).map(|i| i as f32).collect()),
        Prob::Float(0.5),
        CxrImg::Path("x".into()),
    );
    let row = chexlocalize_pickle::dump_heatmap(&row, 2)?;
    let broadcast = patch(
        &row,
        b"K\x00(K\x01K\x01K\x01K\x10t(K\x10K\x10K\x10K\x01t\x89",
        b"K\x00(K\x01K\x01M\x10\x00K\x10t(K\x00K\x00K\x00K\x01t\x89",
    );
    for (name, bytes) in [
        ("stride0_map.pkl", &stride0),
        ("broadcast_rows.pkl", &broadcast),
    ] {
        put("pickle", name, bytes)?;
        put("pickle_rep", name, &lit(bytes))?;
    }
    // A 64-element storage viewed with size = stride = (2, 2, …) (one tuple, DUP'ed), of
    // 1 + k³ dims for a repeat byte k: 9 dims (512 elements) here, and k = 3 makes 28 dims:
    // 2^28 elements (1 GiB as float32), each index under 57.
    let grid = record(
        8,
        8,
        TensorData::F32((0..64).map(|i| i as f32).collect()),
        Prob::Float(0.5),
        CxrImg::Path("x".into()),
    );
    let grid = chexlocalize_pickle::dump_heatmap(&grid, 2)?;
    let view = b"K\x00(K\x01K\x01K\x08K\x08t(K@K@K\x08K\x01t\x89";
    let at = grid
        .windows(view.len())
        .position(|w| w == view)
        .expect("size and stride");
    put(
        "pickle_rep",
        "strided_dims.pkl",
        &[
            lit(&grid[..at]),
            lit(b"K\x00("),
            rep(2, b"K\x02"),
            lit(b"t2\x89"),
            lit(&grid[at + view.len()..]),
        ]
        .concat(),
    )?;
    put(
        "pickle_rep",
        "record.pkl",
        &lit(&chexlocalize_pickle::dump_heatmap(small, 2)?),
    )?;

    // Deep nesting: 1 001 TUPLE1 on an int, popped (dropped by the machine) or as the map of
    // a record; 1 002 lists appended into each other.
    put(
        "pickle_rep",
        "deep_tuple1",
        &[lit(b"\x80\x02K\x01"), rep(10, b"\x85"), lit(b"0N.")].concat(),
    )?;
    put(
        "pickle_rep",
        "deep_tuple1_map",
        &[
            lit(b"\x80\x02}X\x03\x00\x00\x00mapK\x01"),
            rep(10, b"\x85"),
            lit(b"s."),
        ]
        .concat(),
    )?;
    put(
        "pickle_rep",
        "deep_list_append",
        &[lit(b"\x80\x02]"), rep(10, b"]"), rep(10, b"a"), lit(b".")].concat(),
    )?;
    // Shared references: each list holds the previous one twice, through the memo (9 levels:
    // 512 leaves when copied into a tree) and through DUP + TUPLE2.
    put(
        "pickle_rep",
        "memo_shared_lists",
        &[
            lit(b"\x80\x02]q\x00"),
            rep(2, b"(h\x00h\x00lq\x00"),
            lit(b"."),
        ]
        .concat(),
    )?;
    put(
        "pickle_rep",
        "dup_shared_tuples",
        &[lit(b"\x80\x02K\x01"), rep(2, b"2\x86"), lit(b".")].concat(),
    )?;
    // A dict of 1 001 distinct keys "00000000".."00001000", set one SETITEM at a time.
    put(
        "pickle_rep",
        "many_keys_setitem",
        &[
            lit(b"\x80\x02}"),
            numbered(10, 5, b"X\x08\x00\x00\x00________K\x01s"),
            lit(b"."),
        ]
        .concat(),
    )?;

    // One stored entry of 1 030 302 zero bytes (1 + 101³) listed under 9 names
    // "a/data/00000000".. by the central directory; the end record's comment (64 001 bytes)
    // lies inside the directory's stated size, so raising the name count (one byte: the
    // repeat of the directory record) up to about 1 000 keeps every record inside it.
    let size = 1 + 101u32.pow(3);
    let zeros = vec![0u8; size as usize];
    let crc = crc32(&zeros);
    let name = b"a/data/________";
    let mut local = Vec::new();
    local.extend(0x0403_4b50u32.to_le_bytes());
    local.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method, time, date
    local.extend(crc.to_le_bytes());
    local.extend(size.to_le_bytes());
    local.extend(size.to_le_bytes());
    // The local name differs from the central ones (the reader does not compare them).
    local.extend(8u16.to_le_bytes());
    local.extend([0, 0]);
    local.extend(b"a/data/0");
    let mut central = Vec::new();
    central.extend(0x0201_4b50u32.to_le_bytes());
    central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // made by, needed, flags, method, time, date
    central.extend(crc.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend(size.to_le_bytes());
    central.extend((name.len() as u16).to_le_bytes());
    central.extend([0u8; 12]); // extra, comment, disk, internal, external attributes
    central.extend(0u32.to_le_bytes()); // local header offset: all names share one entry
    central.extend(name);
    let names = 1 + 2u32.pow(3);
    let comment = 1 + 40u32.pow(3);
    let cd_offset = local.len() as u32 + size;
    let cd_size = names * central.len() as u32 + 22 + comment;
    let mut eocd = Vec::new();
    eocd.extend(0x0605_4b50u32.to_le_bytes());
    eocd.extend([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    eocd.extend(cd_size.to_le_bytes());
    eocd.extend(cd_offset.to_le_bytes());
    eocd.extend((comment as u16).to_le_bytes());
    put(
        "torch_rep",
        "one_entry_many_names.pt",
        &[
            lit(&local),
            rep(101, &[0]),
            numbered(2, 53, &central),
            lit(&eocd),
            rep(40, &[0]),
        ]
        .concat(),
    )?;
    let heatmaps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../io/tests/data/heatmaps");
    put(
        "torch_rep",
        "zip64.pt",
        &lit(&std::fs::read(
            heatmaps.join("patient1_study1_view1_frontal_Edema_map.pt"),
        )?),
    )?;

    // .npy headers claiming huge shapes over a few bytes of data.
    put(
        "npy",
        "huge_shape.npy",
        &npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
            &[0; 16],
        ),
    )?;
    put(
        "npy",
        "huge_1d.npy",
        &npy(
            "{'descr': '<f8', 'fortran_order': True, 'shape': (4294967296,), }",
            &[0; 16],
        ),
    )?;

    // JSON: nesting, out-of-image points, a huge claimed mask size.
    put(
        "json",
        "nested.json",
        format!("{}{}", "[".repeat(200), "]".repeat(200)).as_bytes(),
    )?;
    put(
        "json",
        "points_outside.json",
        br#"{"p1": {"Edema": [[-1.2, 3], [5, 1e308], [0, -0.0]]}}"#,
    )?;
    put(
        "json",
        "huge_mask.json",
        br#"{"p1": {"Edema": {"size": [100000, 100000], "counts": "0"}}}"#,
    )?;
    // CSV: a UTF-8 BOM, NaN and empty thresholds.
    put("csv", "bom.csv", b"\xef\xbb\xbfthreshold,task\n0.4,Edema\n")?;
    put(
        "csv",
        "nan_thresholds.csv",
        b"threshold,task\nnan,Edema\n,Cardiomegaly\n",
    )?;
    Ok(())
}
