//! Plain file access for readers outside this crate (the report): whole files and folder listings,
//! with errors that name the file.

use std::path::{Path, PathBuf};

use crate::IoError;

/// Reads a whole file (an image, a PNG to embed).
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, IoError> {
    std::fs::read(path).map_err(|e| IoError::read(path, e))
}

/// The regular files directly inside `dir` (not recursive; symbolic links to files count), sorted
/// by file name.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))? {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let path = entry.path();
        if path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_files_sorted_and_names_missing_folders() {
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        for name in ["b.csv", "a.csv"] {
            std::fs::write(dir.path().join(name), b"x").expect("write");
        }
        let files = list_files(dir.path()).expect("list");
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, [Some("a.csv".into()), Some("b.csv".into())]);
        assert_eq!(read_bytes(&files[0]).expect("read"), b"x");
        let e = list_files(&dir.path().join("nope")).expect_err("missing");
        assert!(e.to_string().contains("nope"), "{e}");
        let e = read_bytes(&dir.path().join("gone.png")).expect_err("missing");
        assert!(e.to_string().contains("gone.png"), "{e}");
    }
}
