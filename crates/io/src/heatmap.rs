//! Heatmap files: finding them, naming them, reading them safely.
//!
//! Three formats, all named `<cxr_id>_<task>_map.<ext>`:
//!
//! | extension | content |
//! |---|---|
//! | `.pkl` | CheXlocalize's pickle of `{map, prob, task, gt, cxr_img, cxr_dims}` (tensors as legacy torch storage bytes) |
//! | `.pt` | `torch.save` of the same dict: a zip archive (the default since torch 1.6) or torch's legacy format |
//! | `.npy` | `np.save` of the map alone (float32 or float64, `(h, w)` or `(1, 1, h, w)`), with a sidecar `<cxr_id>_<task>_map.json`: `{"prob": p or [14 CheXpert probabilities], "cxr_dims": [width, height]}` and optionally `"task"`, `"gt"`, `"cxr_img"` (a path) |
//!
//! `.pkl` and `.pt` files are told apart by their content, not their name, so a `torch.save`
//! archive named `.pkl` reads too. Nothing in any of them is executed.

use std::path::{Path, PathBuf};

use chexlocalize_pickle::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};
use serde_json::Value as Json;

use crate::files::read_file;
use crate::{IoError, Limits, Task};

/// The file name endings [`list_heatmaps`] looks for.
pub const HEATMAP_SUFFIXES: [&str; 3] = ["_map.pkl", "_map.pt", "_map.npy"];

/// A heatmap file found on disk, with the CXR id and task its name encodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeatmapFile {
    /// The file.
    pub path: PathBuf,
    /// The CXR id: the name's `_`-separated parts but the last two.
    pub cxr_id: String,
    /// The task part of the name, as written.
    pub task_name: String,
    /// The task, when `task_name` is one of the ten (or "Lung Opacity").
    pub task: Option<Task>,
}

/// Splits a heatmap file name `<cxr_id>_<task>_map.pkl` into `(cxr_id, task_name)`.
///
/// Parity: `utils.parse_pkl_filename` splits the file name on `_`; the task is the
/// second-to-last part and the CXR id the parts before it joined with `_`. A name with fewer than
/// three parts gives an error here (the reference would take an empty id).
pub fn parse_heatmap_name(path: &Path) -> Result<(String, String), IoError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| IoError::FileName {
            path: path.to_path_buf(),
            expected: "a UTF-8 file name".to_owned(),
        })?;
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() < 3 || parts[..parts.len() - 2].join("_").is_empty() {
        return Err(IoError::FileName {
            path: path.to_path_buf(),
            expected: "<cxr_id>_<task>_map.pkl".to_owned(),
        });
    }
    let task = parts[parts.len() - 2].to_owned();
    let cxr_id = parts[..parts.len() - 2].join("_");
    Ok((cxr_id, task))
}

/// Finds every heatmap file (`*_map.pkl`, `*_map.pt`, `*_map.npy`) under `dir` (recursively, like
/// the reference's `rglob('*_map.pkl')`), sorted by path as Python sorts `Path` objects
/// (component by component). Symbolic links to folders are not followed. `dir` may also be a
/// single file.
///
/// Nothing is opened while listing. An entry named like a heatmap that is not a regular file (a
/// FIFO, a device, a socket, a dangling link) or whose name is not UTF-8 is an error naming it
/// (the first in path order), not skipped.
pub fn list_heatmaps(dir: &Path) -> Result<Vec<HeatmapFile>, IoError> {
    let meta = std::fs::metadata(dir).map_err(|e| IoError::read(dir, e))?;
    let mut paths = Vec::new();
    if meta.is_file() {
        paths.push(dir.to_path_buf());
    } else if meta.is_dir() {
        let mut bad = Vec::new();
        walk(dir, &mut paths, &mut bad)?;
        crate::files::first_error(bad)?;
    } else {
        let kind = crate::files::non_regular_kind(meta.file_type()).unwrap_or("a special file");
        return Err(IoError::not_regular(dir, kind));
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let (cxr_id, task_name) = parse_heatmap_name(&path)?;
            let task = Task::from_name(&task_name);
            Ok(HeatmapFile {
                path,
                cxr_id,
                task_name,
                task,
            })
        })
        .collect()
}

/// Whether a file name ends like a heatmap, compared as bytes (a name that is not UTF-8 counts).
fn heatmap_named(name: &std::ffi::OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    HEATMAP_SUFFIXES
        .iter()
        .any(|s| bytes.ends_with(s.as_bytes()))
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    bad: &mut Vec<(PathBuf, IoError)>,
) -> Result<(), IoError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| IoError::read(&path, e))?;
        if ft.is_dir() {
            walk(&path, out, bad)?;
        } else if heatmap_named(&entry.file_name()) {
            match crate::files::entry_is_file(&path, ft) {
                Ok(true) if entry.file_name().to_str().is_none() => {
                    let e = IoError::FileName {
                        path: path.clone(),
                        expected: "a UTF-8 file name".to_owned(),
                    };
                    bad.push((path, e));
                }
                Ok(true) => out.push(path),
                Ok(false) => {} // a link to a folder: not followed
                Err(e) => bad.push((path, e)),
            }
        }
    }
    Ok(())
}

/// Reads and decodes a heatmap file (`.pkl`, `.pt` or `.npy` with its sidecar, see the
/// formats in the crate documentation) without executing anything in it. The record's `cxr_dims` must
/// be positive and within the limits' image size.
pub fn read_heatmap(path: &Path, limits: &Limits) -> Result<HeatmapRecord, IoError> {
    let rec = if path.extension().is_some_and(|e| e == "npy") {
        read_npy_heatmap(path, limits)?
    } else {
        crate::files::with_file_bytes(path, limits, |bytes| {
            chexlocalize_pickle::load_heatmap(bytes, &limits.pickle).map_err(|source| {
                IoError::Pickle {
                    path: path.to_path_buf(),
                    source,
                }
            })
        })??
    };
    let (w, h) = rec.cxr_dims;
    if w <= 0 || h <= 0 {
        return Err(IoError::schema(
            path,
            "cxr_dims",
            format!("(width, height): two positive integers, found ({w}, {h})"),
        ));
    }
    limits.check_image(path, "cxr_dims", h as u64, w as u64)?;
    Ok(rec)
}

/// The sidecar of a `.npy` heatmap: the same name with `.json`.
pub fn npy_sidecar_path(npy: &Path) -> PathBuf {
    npy.with_extension("json")
}

/// The `prob` of a heatmap file, reading as little of it as it can: a `.npy` heatmap's sidecar
/// alone, a plain pickle without its tensors' bytes ([`pickle::load_prob`], a few kilobytes of a
/// file of hundreds), anything else whole ([`read_heatmap`]). The record is checked as
/// [`read_heatmap`] checks it, except for what only reading the tensors' elements (or, for
/// `.npy`, the array file) would find; when the short read cannot tell, the file is read whole,
/// so errors are [`read_heatmap`]'s.
///
/// [`pickle::load_prob`]: chexlocalize_pickle::load_prob
pub fn read_heatmap_prob(path: &Path, limits: &Limits) -> Result<Prob, IoError> {
    let checked = |prob: Prob, (w, h): (i64, i64)| {
        (w > 0
            && h > 0
            && limits
                .check_image(path, "cxr_dims", h as u64, w as u64)
                .is_ok())
        .then_some(prob)
    };
    let quick = if path.extension().is_some_and(|e| e == "npy") {
        let side = read_sidecar(path, limits)?;
        checked(side.prob, side.cxr_dims)
    } else {
        let (file, _) = crate::files::open_limited(path, limits)?;
        chexlocalize_pickle::load_prob(file, &limits.pickle)
            .and_then(|s| checked(s.prob, s.cxr_dims))
    };
    match quick {
        Some(prob) => Ok(prob),
        None => Ok(read_heatmap(path, limits)?.prob),
    }
}

fn read_npy_heatmap(path: &Path, limits: &Limits) -> Result<HeatmapRecord, IoError> {
    let map = crate::npy::read_npy(path, limits)?;
    Ok(HeatmapRecord {
        map,
        ..read_sidecar(path, limits)?
    })
}

/// The sidecar of the `.npy` heatmap at `path`, read and checked: the record but its map
/// (an empty tensor there, which [`read_npy_heatmap`] replaces).
fn read_sidecar(path: &Path, limits: &Limits) -> Result<HeatmapRecord, IoError> {
    let side = npy_sidecar_path(path);
    let text = match read_file(&side, limits) {
        Err(IoError::Read { source, .. }) => {
            return Err(IoError::Sidecar {
                path: path.to_path_buf(),
                sidecar: side,
                source,
            });
        }
        read => read?,
    };
    let v: Json = crate::json_value::parse_json(&side, &text, limits)?;
    let obj = v.as_object().ok_or_else(|| {
        IoError::schema(
            &side,
            "top level",
            "an object {\"prob\": p, \"cxr_dims\": [width, height]}",
        )
    })?;
    for k in obj.keys() {
        if !["prob", "cxr_dims", "task", "gt", "cxr_img"].contains(&k.as_str()) {
            return Err(IoError::schema(
                &side,
                format!("key {k:?}"),
                "only the keys prob, cxr_dims, task, gt and cxr_img",
            ));
        }
    }
    let prob = match obj.get("prob") {
        Some(Json::Number(n)) => n.as_f64().map(Prob::Float),
        Some(Json::Array(a)) => a
            .iter()
            .map(Json::as_f64)
            .collect::<Option<Vec<f64>>>()
            .and_then(|v| Tensor::new(vec![v.len()], TensorData::F64(v)).ok())
            .map(Prob::Tensor),
        _ => None,
    }
    .ok_or_else(|| {
        IoError::schema(
            &side,
            "prob",
            "a number or a list of the 14 CheXpert probabilities",
        )
    })?;
    let cxr_dims = obj
        .get("cxr_dims")
        .and_then(Json::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_i64()?, a[1].as_i64()?)))
        .ok_or_else(|| IoError::schema(&side, "cxr_dims", "[width, height]: two integers"))?;
    let task = match obj.get("task") {
        None => parse_heatmap_name(path)?.1,
        Some(Json::String(s)) => s.clone(),
        Some(_) => return Err(IoError::schema(&side, "task", "a task name")),
    };
    let gt = match obj.get("gt") {
        None | Some(Json::Null) => Value::None,
        Some(Json::Bool(b)) => Value::Bool(*b),
        Some(Json::Number(n)) => n
            .as_i64()
            .map(Value::Int)
            .or_else(|| n.as_f64().map(Value::Float))
            .unwrap_or(Value::None),
        Some(_) => return Err(IoError::schema(&side, "gt", "a number, a boolean or null")),
    };
    let cxr_img = match obj.get("cxr_img") {
        None | Some(Json::Null) => CxrImg::Other(Value::None),
        Some(Json::String(s)) => CxrImg::Path(s.clone()),
        Some(_) => return Err(IoError::schema(&side, "cxr_img", "a path to the image")),
    };
    let map = Tensor::new(vec![0], TensorData::F32(Vec::new()))
        .map_err(|e| IoError::schema(&side, "map", e.to_string()))?;
    Ok(HeatmapRecord {
        map,
        prob,
        task,
        gt,
        cxr_img,
        cxr_dims,
    })
}

/// Writes a heatmap as `.npy` (the map, float32) at `path` and its sidecar JSON (prob, cxr_dims,
/// task), atomically each.
pub fn write_npy_heatmap(path: &Path, record: &HeatmapRecord) -> Result<(), IoError> {
    let map = record.map.to_f32_vec();
    let npy = crate::npy::npy_bytes(&record.map.shape, &map);
    let prob = match &record.prob {
        Prob::Float(x) => crate::json_float(*x),
        Prob::Tensor(t) => {
            let v: Vec<String> = t.to_f64_vec().into_iter().map(crate::json_float).collect();
            format!("[{}]", v.join(", "))
        }
    };
    let mut side = format!(
        "{{\"prob\": {prob}, \"cxr_dims\": [{}, {}], \"task\": ",
        record.cxr_dims.0, record.cxr_dims.1
    );
    crate::push_json_string(&mut side, &record.task);
    side.push('}');
    crate::write_atomic_all(&[(path, &npy), (&npy_sidecar_path(path), side.as_bytes())])
}

/// Writes a heatmap pickle (protocol 2 to 5) atomically.
pub fn write_heatmap(path: &Path, record: &HeatmapRecord, protocol: u8) -> Result<(), IoError> {
    let bytes =
        chexlocalize_pickle::dump_heatmap(record, protocol).map_err(|source| IoError::Pickle {
            path: path.to_path_buf(),
            source,
        })?;
    crate::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_like_the_reference() {
        let (id, task) = parse_heatmap_name(Path::new(
            "d/patient64541_study1_view1_frontal_Lung Lesion_map.pkl",
        ))
        .expect("name");
        assert_eq!(id, "patient64541_study1_view1_frontal");
        assert_eq!(task, "Lung Lesion");
        assert!(parse_heatmap_name(Path::new("x_map.pkl")).is_err());
        assert!(parse_heatmap_name(Path::new("_Edema_map.pkl")).is_err());
    }

    #[test]
    fn listing_is_recursive_and_sorted() {
        let dir = tempfile::tempdir().expect("tmp");
        let sub = dir.path().join("b");
        std::fs::create_dir(&sub).expect("mkdir");
        for p in [
            dir.path().join("z_Edema_map.pkl"),
            sub.join("a_Edema_map.pkl"),
            dir.path().join("a_Pneumonia_map.pkl"),
            dir.path().join("notes.txt"),
        ] {
            std::fs::write(p, b"").expect("write");
        }
        let files = list_heatmaps(dir.path()).expect("list");
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(dir.path())
                    .expect("prefix")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "a_Pneumonia_map.pkl",
                "b/a_Edema_map.pkl",
                "z_Edema_map.pkl"
            ]
        );
        assert_eq!(files[0].task, None);
        assert_eq!(files[1].task, Some(Task::Edema));
    }

    #[test]
    fn missing_folder_names_it() {
        let e = list_heatmaps(Path::new("/nonexistent/maps")).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/maps"), "{e}");
    }
}
