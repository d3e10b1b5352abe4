use std::time::{Duration, Instant};

use super::*;
use crate::names::escape_path;

fn limits(max_file_bytes: u64) -> Limits {
    Limits {
        max_file_bytes,
        ..Limits::BUILTIN
    }
}

/// Runs `f` on another thread and fails (instead of hanging) when it takes over 5 s.
fn within_5s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(5))
        .expect("still blocked after 5 s")
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(p)
        .status()
        .expect("run mkfifo")
        .success();
    assert!(ok, "mkfifo {}", p.display());
}

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
    assert_eq!(read_bytes(&files[0], &Limits::BUILTIN).expect("read"), b"x");
    let e = list_files(&dir.path().join("nope")).expect_err("missing");
    assert!(e.to_string().contains("nope"), "{e}");
    let e = read_bytes(&dir.path().join("gone.png"), &Limits::BUILTIN).expect_err("missing");
    assert!(e.to_string().contains("gone.png"), "{e}");
}

#[test]
fn the_byte_cap_is_exact() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("ten.bin");
    std::fs::write(&p, b"0123456789").expect("write");
    assert_eq!(
        read_bytes(&p, &limits(10)).expect("10 bytes"),
        b"0123456789"
    );
    let e = read_bytes(&p, &limits(9)).expect_err("over");
    assert!(matches!(e, IoError::Limit { .. }), "{e:?}");
    assert!(
        e.to_string().contains("ten.bin") && e.to_string().contains("at most 9 bytes"),
        "{e}"
    );
}

/// A procfs file is a regular file whose length says 0 while it has content: the cap holds
/// whatever the length claims.
#[cfg(target_os = "linux")]
#[test]
fn the_cap_holds_when_the_length_says_zero() {
    let p = Path::new("/proc/self/maps");
    assert_eq!(std::fs::metadata(p).expect("stat").len(), 0);
    let e = read_bytes(p, &limits(16)).expect_err("maps is longer than 16 bytes");
    assert!(
        e.to_string()
            .contains("more than 16 bytes is over the limit: at most 16 bytes"),
        "{e}"
    );
    assert!(!read_bytes(p, &limits(1 << 20)).expect("read").is_empty());
}

/// `/dev/zero` never ends and its length says 0: it is refused by name, at once, directly or
/// behind a symbolic link (the `--seg-path` case of issue 17 read 11 GB before being killed).
#[cfg(unix)]
#[test]
fn devices_are_refused_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let link = dir.path().join("seg.json");
    std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
    let start = Instant::now();
    for p in [link.clone(), PathBuf::from("/dev/zero")] {
        let e = within_5s(move || read_bytes(&p, &Limits::BUILTIN)).expect_err("device");
        assert!(matches!(e, IoError::NotRegular { .. }), "{e:?}");
        assert!(
            e.to_string()
                .ends_with("is a character device, not a regular file"),
            "{e}"
        );
    }
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let e = read_bytes(dir.path(), &Limits::BUILTIN).expect_err("folder");
    assert!(
        e.to_string().ends_with("is a folder, not a regular file"),
        "{e}"
    );
}

/// Opening a FIFO for reading blocks until a writer comes; nobody writes here.
#[cfg(unix)]
#[test]
fn fifos_are_refused_without_blocking() {
    let dir = tempfile::tempdir().expect("tmp");
    let fifo = dir.path().join("a_Edema_map.pkl");
    mkfifo(&fifo);
    let p = fifo.clone();
    let e = within_5s(move || read_bytes(&p, &Limits::BUILTIN)).expect_err("fifo");
    assert_eq!(
        e.to_string(),
        format!("{}: is a FIFO, not a regular file", fifo.display())
    );
    // Listed, it is an error naming it; a normal file beside it does not hide it.
    std::fs::write(dir.path().join("b.csv"), b"x").expect("write");
    let d = dir.path().to_path_buf();
    let e = within_5s(move || list_files(&d)).expect_err("fifo in folder");
    assert!(e.to_string().contains("a_Edema_map.pkl: is a FIFO"), "{e}");
}

#[cfg(unix)]
#[test]
fn listing_follows_links_to_files_and_names_dangling_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("real.csv"), b"x").expect("write");
    std::os::unix::fs::symlink("real.csv", dir.path().join("link.csv")).expect("symlink");
    std::os::unix::fs::symlink(".", dir.path().join("loop")).expect("symlink");
    let names: Vec<_> = list_files(dir.path())
        .expect("list")
        .iter()
        .map(|p| p.file_name().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["link.csv", "real.csv"]);
    std::os::unix::fs::symlink("gone.csv", dir.path().join("dangling.csv")).expect("symlink");
    let e = list_files(dir.path()).expect_err("dangling");
    assert!(e.to_string().contains("dangling.csv: cannot read"), "{e}");
}

#[cfg(unix)]
#[test]
fn names_are_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let p = Path::new(std::ffi::OsStr::from_bytes(
        b"d/a\nOK b\x1b[2J\xff\xfe\tc\xc2\x85.pkl",
    ));
    assert_eq!(
        escape_path(p),
        "d/a\\nOK b\\x1b[2J\\xff\\xfe\\tc\\u{85}.pkl"
    );
    assert_eq!(escape_path(Path::new("plain/é ü.csv")), "plain/é ü.csv");
    let e = IoError::read(p, std::io::Error::other("x"));
    assert!(e.to_string().starts_with("d/a\\nOK b\\x1b[2J\\xff"), "{e}");
}

#[test]
fn the_kept_buffer_holds_only_the_current_file_and_stays_small() {
    let dir = tempfile::tempdir().expect("tmp");
    let (big, small) = (dir.path().join("big"), dir.path().join("small"));
    std::fs::write(&big, vec![7u8; KEPT_BUFFER_BYTES + 1]).expect("write");
    std::fs::write(&small, b"abc").expect("write");
    let limits = Limits::default();
    let n = with_file_bytes(&big, &limits, <[u8]>::len).expect("big");
    assert_eq!(n, KEPT_BUFFER_BYTES + 1);
    // Freed after use: a thread keeps at most KEPT_BUFFER_BYTES between files.
    assert_eq!(BUFFER.with(|b| b.borrow().capacity()), 0);
    let got = with_file_bytes(&small, &limits, <[u8]>::to_vec).expect("small");
    assert_eq!(got, b"abc");
    assert!(BUFFER.with(|b| b.borrow().capacity()) >= 3);
    // Errors are the same as read_bytes' and leave the next read intact.
    let e = with_file_bytes(dir.path(), &limits, <[u8]>::len).expect_err("a folder");
    assert!(e.to_string().contains("folder"), "{e}");
    let got = with_file_bytes(&small, &limits, <[u8]>::to_vec).expect("small again");
    assert_eq!(got, b"abc");
}
