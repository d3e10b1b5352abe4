//! Heatmap pickle files: finding them, naming them, reading them safely.

use std::path::{Path, PathBuf};

use chexlocalize_pickle::{HeatmapRecord, Limits};

use crate::{IoError, Task};

/// A heatmap pickle found on disk, with the CXR id and task its name encodes.
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

/// Finds every `*_map.pkl` under `dir` (recursively, like the reference's `rglob`), sorted by
/// path as Python sorts `Path` objects (component by component). Symbolic links to folders are
/// not followed. `dir` may also be a single file.
pub fn list_heatmaps(dir: &Path) -> Result<Vec<HeatmapFile>, IoError> {
    let meta = std::fs::metadata(dir).map_err(|e| IoError::read(dir, e))?;
    let mut paths = Vec::new();
    if meta.is_file() {
        paths.push(dir.to_path_buf());
    } else {
        walk(dir, &mut paths)?;
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

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IoError> {
    let entries = std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| IoError::read(&path, e))?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with("_map.pkl"))
            && (ft.is_file() || (ft.is_symlink() && path.is_file()))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads and decodes a heatmap pickle without executing anything in it.
pub fn read_heatmap(path: &Path, limits: &Limits) -> Result<HeatmapRecord, IoError> {
    let bytes = std::fs::read(path).map_err(|e| IoError::read(path, e))?;
    chexlocalize_pickle::load_heatmap(&bytes, limits).map_err(|source| IoError::Pickle {
        path: path.to_path_buf(),
        source,
    })
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
