//! The hostile inputs of issue 17, built byte by byte in code (nothing large is committed):
//! one function per case, deterministic, so that the test suite (`crates/cli/tests/hostile.rs`),
//! people and fuzzers get the same files. `cargo xtask hostile --out DIR` writes them all
//! ([`write_all`]).
//!
//! Heatmap pickles are written as Python's `pickle` with torch imported writes them (tensors
//! through `torch._utils._rebuild_tensor_v2` over a legacy storage), so every case is a valid
//! CheXlocalize heatmap except for its one hostile feature.
//!
//! ```
//! use chexlocalize_testkit::hostile;
//! let nested = hostile::nested_tuple_map(200_000);
//! assert!(nested.len() > 200_000 && nested.len() < 201_000);
//! ```

mod limits;
mod pickle;
mod zip;

use std::io;
use std::path::{Path, PathBuf};

pub use limits::{MAX_SIDE, json_values, largest_heatmap, largest_segmentations};
use pickle::{P, record};

/// The CXR id the cases use (in the ground truth the tests write).
pub const CXR: &str = "patient1_study1_view1_frontal";

/// The ten CheXlocalize tasks.
pub const TASKS: [&str; 10] = [
    "Airspace Opacity",
    "Atelectasis",
    "Cardiomegaly",
    "Consolidation",
    "Edema",
    "Enlarged Cardiomediastinum",
    "Lung Lesion",
    "Pleural Effusion",
    "Pneumothorax",
    "Support Devices",
];

/// `<cxr>_<task>_map.pkl`, the heatmap file name the commands expect.
pub fn map_name(cxr: &str, task: &str) -> String {
    format!("{cxr}_{task}_map.pkl")
}

/// A valid heatmap pickle: a `1 x 1 x h x w` float32 map of `values` (row-major) for `task`, on a
/// CXR of `cxr_dims` = (width, height).
pub fn heatmap(
    task: &str,
    (h, w): (usize, usize),
    values: &[f32],
    cxr_dims: (i64, i64),
) -> Vec<u8> {
    assert_eq!(values.len(), h * w, "values for a {h} x {w} map");
    record(task, cxr_dims, |p| {
        p.f32_tensor(values, &[1, 1, h as i64, w as i64]);
    })
}

/// A small valid map (2 x 3, distinct values) on a 3 x 2 (w x h) CXR: its masks are 2 x 3.
pub fn small_heatmap(task: &str) -> Vec<u8> {
    heatmap(task, (2, 3), &[0.0, 0.5, 1.0, 0.25, 0.75, 0.125], (3, 2))
}

/// Table row 1: a heatmap whose `map` is `depth` nested 1-tuples around an empty tuple
/// (`EMPTY_TUPLE` then `TUPLE1` repeated; 200 000 deep is a 200 KB file). Python's own
/// unpickler builds it; a recursive reader overflows its stack.
pub fn nested_tuple_map(depth: usize) -> Vec<u8> {
    record("Edema", (3, 2), |p| {
        p.op(b')');
        p.out.extend(std::iter::repeat_n(0x85, depth));
    })
}

/// Table row 2: a valid heatmap dict that also has `extra` distinct keys, each set by its own
/// `SETITEM` (protocol 4 short strings; 400 000 keys is about 4.6 MB, which Python loads in
/// 0.2 s). A dict kept as a list of pairs searched on every insert takes quadratic time.
pub fn many_keys(extra: usize) -> Vec<u8> {
    let mut p = P::default();
    p.out.extend([0x80, 4]);
    p.op(b'}');
    p.str("map")
        .f32_tensor(&[0.0, 0.5, 1.0, 0.25, 0.75, 0.125], &[1, 1, 2, 3])
        .op(b's');
    for i in 0..extra {
        let key = format!("k{i:07}");
        p.out.extend([0x8c, key.len() as u8]);
        p.out.extend(key.as_bytes());
        p.op(b'N').op(b's');
    }
    p.op(b'(');
    pickle::record_tail(&mut p, "Edema", (3, 2));
    p.op(b'u').op(b'.');
    p.out
}

/// Table row 3: a `torch.save` zip archive (`<name>/data.pkl`, `byteorder`, `data/0`, `version`)
/// whose one storage entry of `storage_bytes` bytes (a float32 map of about that size) is listed
/// in the central directory under `names` names in all (the others `<name>/alias/<i>`, all
/// pointing at the same local header). 20 MB under 1 000 names is a 21 MB file; a reader that
/// checks the CRC of every name reads 20 GB.
pub fn zip_aliased_storage(storage_bytes: usize, names: usize) -> Vec<u8> {
    let side = ((storage_bytes / 4) as f64).sqrt() as usize;
    let n = side * side;
    let name = "archive";
    let data_pkl = record("Edema", (side as i64, side as i64), |p| {
        p.tensor_with(
            |p| {
                p.op(b'(').str("storage").global("torch", "FloatStorage");
                p.str("0").str("cpu").int(n as i64).op(b't').op(b'Q');
            },
            0,
            &[1, 1, side as i64, side as i64],
            &[(n) as i64, n as i64, side as i64, 1],
        );
    });
    // A smooth ramp, so that the map is an ordinary one if it is ever read.
    let mut storage = Vec::with_capacity(n * 4);
    for i in 0..n {
        storage.extend(((i % side) as f32 / side as f32).to_le_bytes());
    }
    let entries = vec![
        (format!("{name}/data.pkl"), data_pkl),
        (format!("{name}/byteorder"), b"little".to_vec()),
        (format!("{name}/data/0"), storage),
        (format!("{name}/version"), b"3\n".to_vec()),
    ];
    let aliases: Vec<String> = (1..names).map(|i| format!("{name}/alias/{i}")).collect();
    zip::stored_with_aliases(&entries, (2, &aliases))
}

/// Table row 4: a heatmap (under 1 KB) whose map is a one-element storage viewed as
/// `1 x 1 x side x side` with strides 0 (torch accepts it; expanding it is `side`² floats: 1 GiB
/// for 16 384), on a 320 x 320 CXR.
pub fn zero_stride_map(side: usize) -> Vec<u8> {
    record("Edema", (320, 320), |p| {
        p.tensor_with(
            |p| pickle::legacy_storage(p, &[0.5]),
            0,
            &[1, 1, side as i64, side as i64],
            &[0, 0, 0, 0],
        );
    })
}

/// Table row "1x1 heatmap on a 50 x 40 CXR": a single-pixel map, CXR 50 wide and 40 high.
pub fn one_pixel_map(task: &str) -> Vec<u8> {
    heatmap(task, (1, 1), &[0.625], (50, 40))
}

/// "Also seen": an 8 x 8 map of float32 subnormals (k x 1e-44, all below 1.2e-38) on a 20 x 16
/// CXR.
pub fn subnormal_map(task: &str) -> Vec<u8> {
    let values: Vec<f32> = (0..64).map(|k| ((k * 37) % 64) as f32 * 1e-44).collect();
    heatmap(task, (8, 8), &values, (20, 16))
}

/// A segmentation JSON giving every CXR of `ids` ten `h x w` masks, all with RLE `counts`.
pub fn seg_json(ids: &[&str], (h, w): (usize, usize), counts: &str) -> String {
    let mut s = String::from("{");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{id:?}: {{"));
        for (j, t) in TASKS.iter().enumerate() {
            if j > 0 {
                s.push_str(", ");
            }
            s.push_str(&format!(
                "{t:?}: {{\"size\": [{h}, {w}], \"counts\": {counts:?}}}"
            ));
        }
        s.push('}');
    }
    s.push('}');
    s
}

/// A CheXpert-style list of expected CXRs (`Path,height,width`), all `h x w`.
pub fn expected_csv(ids: &[&str], (h, w): (usize, usize)) -> String {
    let mut s = String::from("Path,height,width\n");
    for id in ids {
        let mut parts = id.splitn(3, '_');
        let (p, st, v) = (
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        s.push_str(&format!("CheXpert-v1.0/valid/{p}/{st}/{v}.jpg,{h},{w}\n"));
    }
    s
}

/// `tuning_results.csv` (`threshold,task`) giving 0.5 to every task except `overrides`
/// (task, threshold text, e.g. `"nan"` or `""`), optionally with a UTF-8 byte order mark.
pub fn thresholds_csv(overrides: &[(&str, &str)], bom: bool) -> String {
    let mut s = String::from(if bom {
        "\u{feff}threshold,task\n"
    } else {
        "threshold,task\n"
    });
    for t in TASKS {
        let v = overrides
            .iter()
            .find(|(o, _)| *o == t)
            .map_or("0.5", |(_, v)| v);
        s.push_str(&format!("{v},{t}\n"));
    }
    s
}

/// Polygon annotations whose coordinates lie beyond the int32 range (±3e9) on a 20 x 30
/// (h x w) image, for every task of `CXR`.
pub fn huge_polygon_annotations() -> String {
    let poly = "[[[-3e9, -3e9], [3e9, 5], [10.5, 3e9]], [[2, 2], [4e9, 2], [2, 8]]]";
    let mut s = format!("{{{CXR:?}: {{\"img_size\": [20, 30]");
    for t in TASKS {
        s.push_str(&format!(", {t:?}: {poly}"));
    }
    s.push_str("}}");
    s
}

/// One hostile file: its name, what it is, and its bytes.
pub struct HostileFile {
    /// File name (the heatmaps are named `<cxr>_<task>_map.<ext>` so the commands pick them up).
    pub name: String,
    /// The case, in a few words.
    pub what: &'static str,
    /// The content.
    pub bytes: Vec<u8>,
}

/// Every hostile regular file, each under its own subfolder name (`<case>/<file>`).
pub fn files() -> Vec<HostileFile> {
    let f = |case: &str, file: String, what, bytes| HostileFile {
        name: format!("{case}/{file}"),
        what,
        bytes,
    };
    let edema = map_name(CXR, "Edema");
    vec![
        f(
            "nested_tuples",
            edema.clone(),
            "map: 200 000 nested 1-tuples",
            nested_tuple_map(200_000),
        ),
        f(
            "many_keys",
            edema.clone(),
            "400 000 keys, one SETITEM each",
            many_keys(400_000),
        ),
        f(
            "zip_aliases",
            format!("{CXR}_Edema_map.pt"),
            "torch zip: one 20 MB entry under 1 000 names",
            zip_aliased_storage(20 << 20, 1000),
        ),
        f(
            "zero_strides",
            edema.clone(),
            "1 element viewed as 1x1x16384x16384, strides 0",
            zero_stride_map(16_384),
        ),
        f(
            "one_pixel",
            edema.clone(),
            "1x1 map on a 50x40 CXR",
            one_pixel_map("Edema"),
        ),
        f(
            "subnormal",
            edema,
            "8x8 map of float32 subnormals",
            subnormal_map("Edema"),
        ),
        f(
            "thresholds",
            "tuning_results.csv".into(),
            "NaN and empty thresholds (Edema, Cardiomegaly)",
            thresholds_csv(&[("Edema", "nan"), ("Cardiomegaly", "")], false).into_bytes(),
        ),
        f(
            "bom",
            "tuning_results.csv".into(),
            "tuning_results.csv with a UTF-8 BOM",
            thresholds_csv(&[], true).into_bytes(),
        ),
        f(
            "huge_polygons",
            "gt_annotations.json".into(),
            "polygon coordinates beyond int32",
            huge_polygon_annotations().into_bytes(),
        ),
    ]
}

/// Writes every file of [`files`] under `dir`, plus (on Unix) `dev_zero/seg.json`, a symbolic
/// link to `/dev/zero`, and `fifo/<cxr>_Edema_map.pkl`, a FIFO (made with `mkfifo`). Returns the
/// paths written.
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for f in files() {
        let p = dir.join(&f.name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, &f.bytes)?;
        out.push(p);
    }
    #[cfg(unix)]
    {
        let link = dir.join("dev_zero/seg.json");
        std::fs::create_dir_all(dir.join("dev_zero"))?;
        if link.symlink_metadata().is_err() {
            std::os::unix::fs::symlink("/dev/zero", &link)?;
        }
        out.push(link);
        let fifo = dir.join("fifo").join(map_name(CXR, "Edema"));
        std::fs::create_dir_all(dir.join("fifo"))?;
        if fifo.symlink_metadata().is_err() {
            mkfifo(&fifo)?;
        }
        out.push(fifo);
    }
    Ok(out)
}

/// Makes a FIFO at `path` with the `mkfifo` command (no `unsafe` needed).
pub fn mkfifo(path: &Path) -> io::Result<()> {
    let status = std::process::Command::new("mkfifo").arg(path).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "mkfifo {} failed",
            path.display()
        )))
    }
}
