//! Writes the seed corpus of the fuzz targets into `fuzz/seeds/<target>/` with our own writers
//! (deterministic; a few KB per target). Run from anywhere:
//! `cargo run -p chexlocalize-fuzzing --example make_seeds`.

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
    println!("seeds written to {}", root.display());
    Ok(())
}
