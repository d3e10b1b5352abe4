//! Heatmaps in the formats users have today: `torch.save` archives (zip and legacy) and `.npy`
//! arrays with a sidecar. The files in `tests/data/heatmaps/` were written by torch 2.15.0 and
//! numpy 2.4.6 (`tests/data/make_heatmap_files.py`); the expected values in `expected.json` are
//! what `torch.load` / `np.load` read back from them.

use std::path::{Path, PathBuf};

use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value};
use chexlocalize_io::{HeatmapRecord, IoError, Limits, Task, list_heatmaps, read_heatmap};
use serde_json::Value as Json;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/heatmaps")
}

fn expected() -> Json {
    let text = std::fs::read_to_string(data().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("json")
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn shape(v: &Json) -> Vec<usize> {
    floats(v).into_iter().map(|x| x as usize).collect()
}

#[test]
fn all_four_files_are_listed_with_their_ids_and_tasks() {
    let files = list_heatmaps(&data()).expect("list");
    let names: Vec<(String, Option<Task>)> =
        files.iter().map(|f| (f.cxr_id.clone(), f.task)).collect();
    let id = "patient1_study1_view1_frontal".to_owned();
    assert_eq!(
        names,
        [
            (id.clone(), Some(Task::Atelectasis)),
            (id.clone(), Some(Task::Cardiomegaly)),
            (id.clone(), Some(Task::Edema)),
            (id, Some(Task::Pneumothorax)),
        ],
        "sidecars and expected.json are not heatmaps"
    );
}

#[test]
fn torch_zip_and_legacy_files_read_as_torch_loads_them() {
    let exp = expected();
    for name in [
        "patient1_study1_view1_frontal_Edema_map.pt",
        "patient1_study1_view1_frontal_Cardiomegaly_map.pt",
    ] {
        let e = &exp[name];
        let rec = read_heatmap(&data().join(name), &Limits::default()).expect(name);
        assert_eq!(rec.map.shape, shape(&e["map_shape"]), "{name}");
        assert_eq!(rec.map.dtype().torch_name(), "float32");
        assert_eq!(
            rec.map.to_f64_vec(),
            floats(&e["map"]),
            "{name}: map values"
        );
        match &rec.prob {
            Prob::Tensor(t) => assert_eq!(t.to_f64_vec(), floats(&e["prob"])),
            other => panic!("{name}: prob {other:?}"),
        }
        assert_eq!(rec.task, e["task"].as_str().expect("task"));
        assert_eq!(rec.gt, Value::Int(e["gt"].as_i64().expect("gt")));
        match &rec.cxr_img {
            CxrImg::Tensor(t) => {
                assert_eq!(t.dtype().torch_name(), "uint8");
                assert_eq!(t.to_f64_vec(), floats(&e["cxr_img"]));
            }
            other => panic!("{name}: cxr_img {other:?}"),
        }
        let dims = floats(&e["cxr_dims"]);
        assert_eq!(rec.cxr_dims, (dims[0] as i64, dims[1] as i64));
    }
}

#[test]
fn npy_files_read_as_numpy_loads_them() {
    let exp = expected();
    for (name, prob) in [
        ("patient1_study1_view1_frontal_Pneumothorax_map.npy", None),
        (
            "patient1_study1_view1_frontal_Atelectasis_map.npy",
            Some(14),
        ),
    ] {
        let e = &exp[name];
        let rec = read_heatmap(&data().join(name), &Limits::default()).expect(name);
        assert_eq!(rec.map.shape, shape(&e["map_shape"]), "{name}");
        assert_eq!(
            rec.map.to_f64_vec(),
            floats(&e["map"]),
            "{name}: map values"
        );
        match (&rec.prob, prob) {
            (Prob::Float(p), None) => assert_eq!(*p, 0.25),
            (Prob::Tensor(t), Some(n)) => assert_eq!(t.numel(), n),
            other => panic!("{name}: prob {other:?}"),
        }
        assert_eq!(rec.cxr_dims, (7, 5));
        assert_eq!(
            Task::from_name(&rec.task),
            list_heatmaps(&data().join(name)).expect("one")[0].task
        );
    }
    // The big-endian Fortran-order float64 file is the case numpy's header says it is.
    assert_eq!(
        exp["patient1_study1_view1_frontal_Atelectasis_map.npy"]["dtype"],
        ">f8"
    );
    assert_eq!(
        exp["patient1_study1_view1_frontal_Atelectasis_map.npy"]["fortran_order"],
        true
    );
}

fn record() -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(
            vec![1, 1, 2, 3],
            TensorData::F32(vec![0.5, -1.0, 2.25, 0.0, 1e-7, 3.0]),
        )
        .expect("shape"),
        prob: Prob::Float(0.125),
        task: "Lung Opacity".into(),
        gt: Value::None,
        cxr_img: CxrImg::Other(Value::None),
        cxr_dims: (30, 20),
    }
}

#[test]
fn our_npy_writer_reads_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("c1_Lung Opacity_map.npy");
    chexlocalize_io::write_npy_heatmap(&p, &record()).expect("write");
    assert!(chexlocalize_io::npy_sidecar_path(&p).exists());
    let back = read_heatmap(&p, &Limits::default()).expect("read");
    assert_eq!(back, record());
}

#[test]
fn npy_errors_name_the_file_and_what_was_expected() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("c1_Edema_map.npy");
    chexlocalize_io::write_npy_heatmap(&p, &record()).expect("write");
    let side = chexlocalize_io::npy_sidecar_path(&p);
    let cases: [(&str, &str); 4] = [
        (
            r#"{"prob": 0.5}"#,
            "c1_Edema_map.json: cxr_dims: expected [width, height]",
        ),
        (
            r#"{"cxr_dims": [3, 2]}"#,
            "c1_Edema_map.json: prob: expected a number",
        ),
        (
            r#"{"prob": 0.5, "cxr_dims": [3, 2], "cxr_dim": 1}"#,
            "key \"cxr_dim\": expected only the keys",
        ),
        (
            r#"{"prob": 0.5, "cxr_dims": [100000, 100000]}"#,
            "cxr_dims: an image of 100000 x 100000 pixels (h x w) is over the limit",
        ),
    ];
    for (text, needle) in cases {
        std::fs::write(&side, text).expect("write");
        let e = read_heatmap(&p, &Limits::default()).expect_err(text);
        assert!(e.to_string().contains(needle), "{text}: {e}");
    }
    std::fs::remove_file(&side).expect("rm");
    let e = read_heatmap(&p, &Limits::default()).expect_err("no sidecar");
    assert!(
        matches!(e, IoError::Sidecar { .. })
            && e.to_string()
                .contains("c1_Edema_map.npy: cannot read its sidecar")
            && e.to_string().contains("c1_Edema_map.json"),
        "{e}"
    );
    let os = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<std::io::Error>());
    assert_eq!(
        os.map(std::io::Error::kind),
        Some(std::io::ErrorKind::NotFound)
    );
    // numpy's object arrays hold pickles: refused without looking at the pickle.
    let obj = b"\x93NUMPY\x01\x00\x76\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }                                                             \n\x80\x04\x95";
    std::fs::write(&p, obj).expect("write");
    let e = read_heatmap(&p, &Limits::default()).expect_err("object array");
    assert!(
        e.to_string().contains("object array, which holds pickles"),
        "{e}"
    );
}

#[test]
fn a_torch_archive_named_pkl_reads_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("patient1_Edema_map.pkl");
    std::fs::copy(
        data().join("patient1_study1_view1_frontal_Edema_map.pt"),
        &p,
    )
    .expect("copy");
    let rec = read_heatmap(&p, &Limits::default()).expect("zip content, .pkl name");
    assert_eq!(rec.map.shape, vec![1, 1, 3, 4]);
}

#[test]
fn corrupt_torch_archives_are_refused() {
    let bytes =
        std::fs::read(data().join("patient1_study1_view1_frontal_Edema_map.pt")).expect("read");
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("x_Edema_map.pt");
    // A flipped bit in the map's first float (-5/7 as float32): the CRC-32 check catches it.
    let at = bytes
        .windows(4)
        .position(|w| w == (-5.0f32 / 7.0).to_le_bytes())
        .expect("map storage");
    let mut flipped = bytes.clone();
    flipped[at] ^= 0x40;
    std::fs::write(&p, &flipped).expect("write");
    let e = read_heatmap(&p, &Limits::default()).expect_err("corrupt");
    assert!(e.to_string().contains("x_Edema_map.pt"), "{e}");
    // Truncated archives have no end record.
    std::fs::write(&p, &bytes[..bytes.len() / 2]).expect("write");
    let e = read_heatmap(&p, &Limits::default()).expect_err("truncated");
    let text = chain_text(&e);
    assert!(text.contains("torch archive"), "{text}");
}

/// The error and its causes joined by `": "`, as a chain printer shows them.
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}

/// `read_heatmap_prob` (the probability alone, reading as little as it can) gives
/// `read_heatmap`'s `prob` for every format, and `read_heatmap`'s error for a bad record.
#[test]
fn the_probability_alone_is_the_whole_reads() {
    use chexlocalize_io::read_heatmap_prob;
    let limits = Limits::default();
    // torch archives (zip, legacy) and npy: the files written by torch and numpy.
    let mut n = 0;
    for f in list_heatmaps(&data()).expect("list") {
        let whole = read_heatmap(&f.path, &limits).expect("read").prob;
        assert_eq!(read_heatmap_prob(&f.path, &limits).expect("prob"), whole);
        n += 1;
    }
    assert_eq!(n, 4);
    let dir = tempfile::tempdir().expect("tmp");
    // A plain pickle with a 320 × 320 map, and a 14-probability vector.
    let mut rec = record();
    rec.map = Tensor::new(vec![1, 1, 320, 320], TensorData::F32(vec![0.25; 320 * 320])).expect("t");
    rec.prob = Prob::Tensor(Tensor::new(vec![14], TensorData::F32(vec![0.5; 14])).expect("t"));
    let p = dir.path().join("c1_Edema_map.pkl");
    chexlocalize_io::write_heatmap(&p, &rec, 3).expect("write");
    assert_eq!(read_heatmap_prob(&p, &limits).expect("prob"), rec.prob);
    // Bad records: the same error as the whole read.
    for dims in [(0, 20), (100_000, 100_000)] {
        rec.cxr_dims = dims;
        chexlocalize_io::write_heatmap(&p, &rec, 3).expect("write");
        let want = read_heatmap(&p, &limits).expect_err("bad dims").to_string();
        let got = read_heatmap_prob(&p, &limits)
            .expect_err("bad dims")
            .to_string();
        assert_eq!(got, want);
    }
    let missing = dir.path().join("c2_Edema_map.pkl");
    assert_eq!(
        read_heatmap_prob(&missing, &limits)
            .expect_err("missing")
            .to_string(),
        read_heatmap(&missing, &limits)
            .expect_err("missing")
            .to_string()
    );
    let small = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    rec.cxr_dims = (30, 20);
    chexlocalize_io::write_heatmap(&p, &rec, 3).expect("write");
    assert_eq!(
        read_heatmap_prob(&p, &small)
            .expect_err("too big")
            .to_string(),
        read_heatmap(&p, &small).expect_err("too big").to_string()
    );
    // npy: the sidecar alone.
    let npy = dir.path().join("c1_Edema_map.npy");
    chexlocalize_io::write_npy_heatmap(&npy, &record()).expect("write");
    assert_eq!(
        read_heatmap_prob(&npy, &limits).expect("prob"),
        record().prob
    );
    std::fs::write(
        chexlocalize_io::npy_sidecar_path(&npy),
        r#"{"cxr_dims": [3, 2]}"#,
    )
    .expect("write");
    let e = read_heatmap_prob(&npy, &limits).expect_err("no prob");
    assert!(
        e.to_string()
            .contains("c1_Edema_map.json: prob: expected a number"),
        "{e}"
    );
}

/// `.npy` arrays are read straight into the tensor when numpy's default layout allows it, and
/// through the whole-file decoder otherwise: both give `parse_npy`'s tensor or error.
#[test]
fn npy_direct_reads_equal_the_decoder() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("c1_Edema_map.npy");
    chexlocalize_io::write_npy_heatmap(&p, &record()).expect("write");
    let good = std::fs::read(&p).expect("read");
    let limits = Limits::default();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![("as written", good.clone())];
    let mut longer = good.clone();
    longer.push(0);
    cases.push(("a byte too many", longer));
    cases.push(("a byte short", good[..good.len() - 1].to_vec()));
    cases.push(("header only", good[..good.len() - 4 * 6].to_vec()));
    let text = String::from_utf8_lossy(&good).into_owned();
    for (what, from, to) in [
        (
            "Fortran order",
            "'fortran_order': False",
            "'fortran_order': True ",
        ),
        ("big-endian", "'<f4'", "'>f4'"),
        ("float64 header", "'<f4'", "'<f8'"),
        ("another shape", "(1, 1, 2, 3)", "(1, 1, 3, 2)"),
    ] {
        assert!(text.contains(from), "{what}: {text:?}");
        let at = text.find(from).expect("found");
        let mut b = good.clone();
        b[at..at + to.len()].copy_from_slice(to.as_bytes());
        cases.push((what, b));
    }
    for (what, bytes) in cases {
        std::fs::write(&p, &bytes).expect("write");
        let want = chexlocalize_io::parse_npy(&p, &bytes, &limits).map_err(|e| e.to_string());
        let got = read_heatmap(&p, &limits)
            .map(|r| r.map)
            .map_err(|e| e.to_string());
        assert_eq!(got, want, "{what}");
    }
}
