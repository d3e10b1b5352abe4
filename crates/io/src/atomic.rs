//! Atomic output: a file appears whole or not at all.

use std::io::Write;
use std::path::Path;

use crate::IoError;

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed, then
/// renamed over `path`. Missing parent folders are created (as the reference scripts do for their
/// output folders). On error no file appears at `path` and the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_all(&[(path, bytes)])
}

/// Writes several files as one output: every file is first written whole to a temporary file
/// beside its destination and flushed, and only when all are complete are they renamed into
/// place. An error while writing (an unwritable folder, a full disk) leaves none of the outputs
/// and no temporary file. Renames within a folder do not fail in practice; if one did, the files
/// renamed before it would stay.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> Result<(), IoError> {
    let mut staged = Vec::with_capacity(files.len());
    for &(path, bytes) in files {
        let err = |source| IoError::Write {
            path: path.to_path_buf(),
            source,
        };
        if path.is_dir() {
            return Err(err(std::io::Error::other("it is a folder")));
        }
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(parent).map_err(err)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".chexlocalize-").suffix(".tmp");
        // A temporary file is private (0600) by default; an output should get the mode any
        // newly created file gets (0666 less the umask), as the reference's `open(path, 'w')`.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder.tempfile_in(parent).map_err(err)?;
        tmp.write_all(bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        staged.push((path, tmp));
    }
    for (path, tmp) in staged {
        tmp.persist(path).map_err(|e| IoError::Write {
            path: path.to_path_buf(),
            source: e.error,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn outputs_get_the_usual_file_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"x").expect("write");
        // The mode of a file created the ordinary way, under the same umask.
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, b"x").expect("write");
        assert_eq!(mode(&p), mode(&plain));
    }

    #[test]
    fn creates_parents_and_replaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a/b/out.csv");
        write_atomic(&p, b"one").expect("first write");
        write_atomic(&p, b"two").expect("second write");
        assert_eq!(std::fs::read(&p).expect("read back"), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().expect("parent"))
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn a_failing_file_leaves_none_of_the_others() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").expect("write");
        let good = dir.path().join("out/a.csv");
        let bad = blocker.join("b.csv");
        let e = write_atomic_all(&[(&good, b"a"), (&bad, b"b")]).expect_err("b is unwritable");
        assert!(e.to_string().contains("b.csv"), "{e}");
        assert!(!good.exists(), "a.csv must not appear when b.csv fails");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("out"))
            .expect("list")
            .collect();
        assert!(left.is_empty(), "temporary files left: {left:?}");
    }

    #[test]
    fn error_names_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").expect("write");
        let p = blocker.join("sub/out.json");
        let e = write_atomic(&p, b"x").expect_err("parent is a file");
        assert!(e.to_string().contains("out.json"), "{e}");
    }
}
