use std::cell::Cell;
use std::sync::{Arc, Barrier};

use super::*;

thread_local! {
    static FAIL_RENAME_AT: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The index of the staged file whose rename fails, in this thread (failure injection).
pub(super) fn fail_rename_at() -> Option<usize> {
    FAIL_RENAME_AT.with(Cell::get)
}

fn read(p: &Path) -> String {
    String::from_utf8(std::fs::read(p).expect("read")).expect("utf-8")
}

/// Every entry of `dir` (hidden ones included), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

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
    // A replaced file keeps its mode, as `open(path, 'w')` keeps it.
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    write_atomic(&p, b"y").expect("rewrite");
    assert_eq!(mode(&p), 0o640);
}

#[test]
fn creates_parents_and_replaces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("a/b/out.csv");
    write_atomic(&p, b"one").expect("first write");
    write_atomic(&p, b"two").expect("second write");
    assert_eq!(read(&p), "two");
    assert_eq!(entries(p.parent().expect("parent")), ["out.csv"]);
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
}

#[test]
fn a_folder_as_the_last_destination_leaves_older_files_untouched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (
        dir.path().join("a.csv"),
        dir.path().join("b.csv"),
        dir.path().join("c.csv"),
    );
    std::fs::write(&a, b"old a").expect("write");
    std::fs::create_dir(&c).expect("mkdir");
    let e = write_atomic_all(&[(&a, b"new a"), (&b, b"new b"), (&c, b"new c")])
        .expect_err("c is a folder");
    assert_eq!(
        crate::error::full_chain(&e),
        format!("{}: cannot write: it is a folder", c.display())
    );
    assert_eq!(read(&a), "old a");
    assert_eq!(entries(dir.path()), ["a.csv", "c.csv"]);
}

/// A rename failing after others were done: those are undone (older files restored, new ones
/// removed), and no temporary or backup stays.
#[test]
fn a_failed_rename_puts_everything_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (new, a, b) = (
        dir.path().join("new.csv"),
        dir.path().join("a.csv"),
        dir.path().join("b.csv"),
    );
    std::fs::write(&a, b"old a").expect("write");
    std::fs::write(&b, b"old b").expect("write");
    FAIL_RENAME_AT.with(|f| f.set(Some(2)));
    let e = write_atomic_all(&[(&new, b"1"), (&a, b"2"), (&b, b"3")]).expect_err("injected");
    FAIL_RENAME_AT.with(|f| f.set(None));
    assert!(
        crate::error::full_chain(&e).contains("b.csv: cannot write: injected failure"),
        "{e}"
    );
    assert_eq!((read(&a), read(&b)), ("old a".into(), "old b".into()));
    assert_eq!(entries(dir.path()), ["a.csv", "b.csv"]);
    // Without the failure, all three appear and nothing else.
    write_atomic_all(&[(&new, b"1"), (&a, b"2"), (&b, b"3")]).expect("write");
    assert_eq!(
        (read(&new), read(&a), read(&b)),
        ("1".into(), "2".into(), "3".into())
    );
    assert_eq!(entries(dir.path()), ["a.csv", "b.csv", "new.csv"]);
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

/// An existing symbolic link (here a relative chain of two) is followed and stays a link: the
/// file at its end is replaced, beside itself.
#[cfg(unix)]
#[test]
fn a_symlink_destination_stays_a_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("real")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("out")).expect("mkdir");
    let target = dir.path().join("real/target.csv");
    std::fs::write(&target, b"old").expect("write");
    let link = dir.path().join("out/link.csv");
    let link2 = dir.path().join("out/link2.csv");
    std::os::unix::fs::symlink("../real/target.csv", &link).expect("symlink");
    std::os::unix::fs::symlink("link.csv", &link2).expect("symlink");
    write_atomic(&link2, b"new").expect("write through the links");
    for (l, to) in [(&link, "../real/target.csv"), (&link2, "link.csv")] {
        assert!(
            std::fs::symlink_metadata(l)
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_link(l).expect("readlink"), Path::new(to));
    }
    assert_eq!(read(&target), "new");
    assert_eq!(entries(&dir.path().join("real")), ["target.csv"]);
    // A dangling link gets its file created, as `open(path, 'w')` does.
    let dangling = dir.path().join("out/dangling.csv");
    std::os::unix::fs::symlink("../real/made.csv", &dangling).expect("symlink");
    write_atomic(&dangling, b"made").expect("write");
    assert!(
        std::fs::symlink_metadata(&dangling)
            .expect("lstat")
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(&dir.path().join("real/made.csv")), "made");
}

/// A FIFO destination is written through (opened for writing and written), never replaced,
/// within a set of regular files.
#[cfg(unix)]
#[test]
fn a_fifo_destination_is_written_through() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("results.csv");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok);
    let f = fifo.clone();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::fs::File::open(f)
            .expect("open fifo")
            .read_to_string(&mut s)
            .expect("read fifo");
        s
    });
    let other = dir.path().join("other.csv");
    write_atomic_all(&[(&other, b"regular"), (&fifo, b"through the fifo")]).expect("write");
    assert_eq!(reader.join().expect("reader"), "through the fifo");
    let ft = std::fs::symlink_metadata(&fifo).expect("lstat").file_type();
    assert!(ft.is_fifo(), "{ft:?}");
    assert_eq!(read(&other), "regular");
    assert_eq!(entries(dir.path()), ["other.csv", "results.csv"]);
}

/// A run killed with SIGKILL leaves its temporaries; the next run into the folder removes them
/// (and only them).
#[test]
fn stale_temporaries_are_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    for stale in [".chexlocalize-Xy12ab.tmp", ".chexlocalize-backup-77-0.tmp"] {
        std::fs::write(dir.path().join(stale), b"half written").expect("plant");
    }
    std::fs::write(dir.path().join(".other.tmp"), b"not ours").expect("write");
    std::fs::create_dir(dir.path().join(".chexlocalize-folder.tmp")).expect("mkdir");
    write_atomic(&dir.path().join("out.csv"), b"x").expect("write");
    assert_eq!(
        entries(dir.path()),
        [".chexlocalize-folder.tmp", ".other.tmp", "out.csv"]
    );
}

/// Writers racing into one folder, started together round after round: after every round the
/// three files all come from one writer. (Without the folder lock a round can end with files
/// of both: one writer's first rename, then the other's three, then the first one's last two.)
#[test]
fn concurrent_writers_never_mix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = ["a.csv", "b.csv", "c.csv"].map(|n| dir.path().join(n));
    for round in 0..60 {
        let barrier = Arc::new(Barrier::new(3));
        let writers: Vec<_> = (0..3)
            .map(|w| {
                let (barrier, names) = (barrier.clone(), names.clone());
                std::thread::spawn(move || {
                    let text = format!("writer {w} round {round}\n").repeat(2000);
                    barrier.wait();
                    let files: Vec<(&Path, &[u8])> = names
                        .iter()
                        .map(|p| (p.as_path(), text.as_bytes()))
                        .collect();
                    write_atomic_all(&files).expect("write");
                })
            })
            .collect();
        for w in writers {
            w.join().expect("writer");
        }
        let contents: Vec<String> = names.iter().map(|p| read(p)).collect();
        assert!(
            contents.iter().all(|c| *c == contents[0]),
            "round {round}: mixed output {:?}",
            contents
                .iter()
                .map(|c| c.lines().next())
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(entries(dir.path()), ["a.csv", "b.csv", "c.csv"]);
}
