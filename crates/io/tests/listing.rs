//! Heatmap folder listings with hostile entries (issue 17): a FIFO named like a heatmap beside
//! normal heatmaps, a name that is not UTF-8, a dangling link. Each is an error naming the entry,
//! answered at once (nothing is opened while listing).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chexlocalize_io::{IoError, list_heatmaps};

fn mkfifo(p: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", p.display());
}

/// A folder with two normal (empty) heatmap files in it.
fn maps() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    for name in ["a_Edema_map.pkl", "b_Edema_map.pkl"] {
        std::fs::write(dir.path().join(name), b"").expect("write");
    }
    dir
}

/// Lists on another thread, failing instead of hanging when that takes over 5 s.
fn list(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let d = dir.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(list_heatmaps(&d).map(|v| v.into_iter().map(|f| f.path).collect()));
    });
    let start = Instant::now();
    let r = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("listing blocked for 5 s");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    r
}

#[test]
fn a_fifo_named_like_a_heatmap_is_an_error_naming_it() {
    let dir = maps();
    mkfifo(&dir.path().join("c_Edema_map.pkl"));
    // A FIFO not named like a heatmap is none of the listing's business.
    mkfifo(&dir.path().join("notes.fifo"));
    let e = list(dir.path()).expect_err("fifo");
    assert_eq!(
        e.to_string(),
        format!(
            "{}: is a FIFO, not a regular file",
            dir.path().join("c_Edema_map.pkl").display()
        )
    );
    // Also in a sub-folder, and when the listed path itself is the FIFO.
    std::fs::remove_file(dir.path().join("c_Edema_map.pkl")).expect("rm");
    assert_eq!(list(dir.path()).expect("ok").len(), 2);
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    mkfifo(&sub.join("d_Edema_map.pt"));
    let e = list(dir.path()).expect_err("fifo in sub-folder");
    assert!(
        e.to_string().contains("sub/d_Edema_map.pt: is a FIFO"),
        "{e}"
    );
    let e = list(&sub.join("d_Edema_map.pt")).expect_err("the path is a FIFO");
    assert!(e.to_string().contains("is a FIFO"), "{e}");
}

#[test]
fn a_name_that_is_not_utf8_is_reported_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = maps();
    let name = std::ffi::OsStr::from_bytes(b"c\xff\xfe_Edema_map.pkl");
    std::fs::write(dir.path().join(name), b"").expect("write");
    let e = list(dir.path()).expect_err("not UTF-8");
    assert!(
        e.to_string()
            .ends_with("/c\\xff\\xfe_Edema_map.pkl: file name: expected a UTF-8 file name"),
        "{e}"
    );
}

#[test]
fn a_dangling_link_named_like_a_heatmap_is_an_error() {
    let dir = maps();
    std::os::unix::fs::symlink("gone.pkl", dir.path().join("c_Edema_map.pkl")).expect("ln");
    let e = list(dir.path()).expect_err("dangling");
    assert!(
        e.to_string().contains("c_Edema_map.pkl: cannot read"),
        "{e}"
    );
    // A link to a heatmap file is listed.
    std::fs::remove_file(dir.path().join("c_Edema_map.pkl")).expect("rm");
    std::os::unix::fs::symlink("a_Edema_map.pkl", dir.path().join("c_Edema_map.pkl")).expect("ln");
    assert_eq!(list(dir.path()).expect("ok").len(), 3);
}

/// Reading a FIFO named like a heatmap (as a command does after listing) is refused at once.
#[test]
fn reading_a_fifo_heatmap_is_refused_at_once() {
    let dir = maps();
    let fifo = dir.path().join("c_Edema_map.pkl");
    mkfifo(&fifo);
    let start = Instant::now();
    let e =
        chexlocalize_io::read_heatmap(&fifo, &chexlocalize_io::Limits::BUILTIN).expect_err("fifo");
    assert!(start.elapsed() < Duration::from_secs(1));
    assert!(
        e.to_string().ends_with("is a FIFO, not a regular file"),
        "{e}"
    );
}
