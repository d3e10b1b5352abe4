//! Atomic output: a run's files appear all or none, and concurrent runs into one folder never mix
//! (see [`write_atomic_all`]).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::IoError;

/// Prefix and suffix of every temporary file this module creates.
const TMP_PREFIX: &str = ".chexlocalize-";
const TMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically (see [`write_atomic_all`]): the file appears whole or not
/// at all. Missing parent folders are created (as the reference scripts do for their output
/// folders).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_all(&[(path, bytes)])
}

/// [`write_atomic_all`] of files named `name` in the folder `dir` (created if missing); returns
/// their paths, in order.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let written = chexlocalize_io::write_atomic_all_in(
///     dir.path(),
///     [("a.csv", &b"x\n"[..]), ("b.csv", &b"y\n"[..])],
/// )?;
/// assert_eq!(written, [dir.path().join("a.csv"), dir.path().join("b.csv")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_atomic_all_in<'a, N: AsRef<Path>>(
    dir: &Path,
    files: impl IntoIterator<Item = (N, &'a [u8])>,
) -> Result<Vec<PathBuf>, IoError> {
    let (paths, bytes): (Vec<PathBuf>, Vec<&[u8]>) =
        files.into_iter().map(|(n, b)| (dir.join(n), b)).unzip();
    let pairs: Vec<(&Path, &[u8])> = paths.iter().map(PathBuf::as_path).zip(bytes).collect();
    write_atomic_all(&pairs)?;
    Ok(paths)
}

/// Writes several files as one output set, all or none:
///
/// 1. Each destination is resolved. An existing symbolic link is followed (to the end of its
///    chain) and stays a link: the file it points to is what gets replaced. An existing FIFO,
///    device or socket, and anything under `/dev` or `/proc` (`/dev/stdout`, `/dev/null`), is
///    *written through*: opened for writing and written, never replaced. A folder is an error.
/// 2. Each destination folder is created if missing and locked (an exclusive `flock` on the
///    folder itself, held until the set is in place; folders are locked in path order, so two
///    writers cannot deadlock). Under the lock, temporaries `.chexlocalize-*.tmp` left in the
///    folder by a killed run are removed: a live writer holds the lock while its own exist.
/// 3. Every file is written whole to a temporary file beside its destination and flushed.
/// 4. Written-through destinations are written.
/// 5. The temporaries are renamed into place. If a rename fails, the files already renamed are
///    put back as they were (older files restored from hard-linked backups, new ones removed).
///
/// An error at any step leaves no new file and no temporary, and older files untouched (a
/// written-through destination, being no file, may have received its bytes). Where a folder
/// cannot be locked (a platform other than unix, a network file system without `flock` on
/// folders, a folder that can be written but not read), the set is still written all or none,
/// without the protection against a concurrent writer and without removing stale temporaries.
pub fn write_atomic_all(files: &[(&Path, &[u8])]) -> Result<(), IoError> {
    let plans = files
        .iter()
        .map(|&(path, bytes)| Ok((plan(path)?, bytes)))
        .collect::<Result<Vec<_>, IoError>>()?;
    // Lock every destination folder, in path order, before anything is staged in it.
    let mut folders: Vec<PathBuf> = plans
        .iter()
        .filter_map(|(p, _)| match p {
            Plan::Replace { folder, .. } => Some(folder.clone()),
            Plan::Through { .. } => None,
        })
        .collect();
    folders.sort();
    folders.dedup();
    let _locks: Vec<FolderLock> = folders.iter().map(|f| FolderLock::acquire(f)).collect();

    let mut staged = Vec::new();
    for (plan, bytes) in &plans {
        if let Plan::Replace {
            shown,
            folder,
            target,
        } = plan
        {
            let tmp = stage(folder, target, bytes).map_err(|e| write_err(shown, e))?;
            staged.push((shown, target, tmp));
        }
    }
    for (plan, bytes) in &plans {
        if let Plan::Through { path } = plan {
            write_through(path, bytes).map_err(|e| write_err(path, e))?;
        }
    }
    commit(staged)
}

/// How one destination is written.
enum Plan {
    /// Staged in `folder` and renamed over `target` (the end of any symbolic link chain).
    Replace {
        /// The path as given (for errors).
        shown: PathBuf,
        /// The destination's folder, created and canonical.
        folder: PathBuf,
        /// `folder` joined with the destination's file name.
        target: PathBuf,
    },
    /// Not a regular file (a FIFO, a device): opened for writing and written.
    Through {
        /// The path as given.
        path: PathBuf,
    },
}

fn write_err(path: &Path, source: std::io::Error) -> IoError {
    IoError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn plan(path: &Path) -> Result<Plan, IoError> {
    let err = |e| write_err(path, e);
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(err(std::io::Error::other("it is a folder"))),
        Ok(m) if !m.is_file() || is_pseudo(path) => {
            return Ok(Plan::Through {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let (target, via_pseudo) = resolve_links(path).map_err(err)?;
    if via_pseudo {
        return Ok(Plan::Through {
            path: path.to_path_buf(),
        });
    }
    let name = target
        .file_name()
        .ok_or_else(|| err(std::io::Error::other("not a file name")))?
        .to_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(err)?;
    let folder = std::fs::canonicalize(parent).map_err(err)?;
    Ok(Plan::Replace {
        shown: path.to_path_buf(),
        target: folder.join(name),
        folder,
    })
}

/// A path of a pseudo file system (`/dev/stdout` may be a link to a regular file the shell
/// opened, `/proc/self/fd/1` a link to `pipe:[…]`): written through, never renamed over.
fn is_pseudo(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// Follows the symbolic links of the last path component to the end of the chain (a dangling
/// link resolves to the file it names, which will be created, as `open(path, 'w')` does), and
/// says whether the chain passed through a pseudo file system (`out.csv -> /dev/stdout`).
fn resolve_links(path: &Path) -> std::io::Result<(PathBuf, bool)> {
    let mut p = path.to_path_buf();
    let mut via_pseudo = false;
    for _ in 0..40 {
        via_pseudo |= is_pseudo(&p);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(d) => d.join(to),
                    None => to,
                };
            }
            _ => return Ok((p, via_pseudo)),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// An exclusive lock on a destination folder, released when dropped.
struct FolderLock {
    /// The open folder holding the lock; `None` where the folder could not be locked.
    _handle: Option<File>,
}

impl FolderLock {
    /// Locks `folder` (waiting for another writer to finish) and removes stale temporaries.
    /// Where the folder cannot be locked (a folder that can be written but not read, a network
    /// file system without `flock` on folders, a platform other than unix), the output is still
    /// written atomically, without the protection against a concurrent writer, and temporaries
    /// are left alone (they might be a live writer's).
    fn acquire(folder: &Path) -> FolderLock {
        let handle = lock_folder(folder);
        if handle.is_some() {
            remove_stale_temporaries(folder);
        }
        FolderLock { _handle: handle }
    }
}

#[cfg(unix)]
fn lock_folder(folder: &Path) -> Option<File> {
    let handle = File::open(folder).ok()?;
    loop {
        match rustix::fs::flock(&handle, rustix::fs::FlockOperation::LockExclusive) {
            Ok(()) => return Some(handle),
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => return None,
        }
    }
}

#[cfg(not(unix))]
fn lock_folder(_folder: &Path) -> Option<File> {
    None
}

/// Removes the temporaries of killed runs from a folder this process holds locked. Best effort:
/// a temporary that cannot be removed is only litter.
fn remove_stale_temporaries(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.as_encoded_bytes();
        if name.starts_with(TMP_PREFIX.as_bytes())
            && name.ends_with(TMP_SUFFIX.as_bytes())
            && entry.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` whole to a new temporary file in `folder` and flushes it. The temporary gets
/// the mode of the file it will replace, else the mode any new file gets (0666 less the umask,
/// as the reference's `open(path, 'w')`).
fn stage(folder: &Path, target: &Path, bytes: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TMP_PREFIX).suffix(TMP_SUFFIX);
    // A temporary file is private (0600) by default.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(folder)?;
    if let Ok(old) = std::fs::metadata(target) {
        tmp.as_file().set_permissions(old.permissions())?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Writes into an existing FIFO, device or other non-regular file (blocking until a FIFO has a
/// reader, as any writer does).
fn write_through(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// A destination renamed into place, and how to undo it.
struct Done<'a> {
    target: &'a Path,
    /// A hard link to the file it replaced; `None` with `existed` when none could be made.
    backup: Option<PathBuf>,
    existed: bool,
}

/// Renames the staged temporaries into place; if one fails, undoes the ones before it.
fn commit(staged: Vec<(&PathBuf, &PathBuf, tempfile::NamedTempFile)>) -> Result<(), IoError> {
    let mut done: Vec<Done<'_>> = Vec::with_capacity(staged.len());
    let mut result = Ok(());
    for (i, (shown, target, tmp)) in staged.into_iter().enumerate() {
        let existed = std::fs::symlink_metadata(target).is_ok();
        let backup = if existed { backup_of(target, i) } else { None };
        #[cfg(test)]
        let renamed = match tests::fail_rename_at() {
            Some(at) if at == i => Err(std::io::Error::other("injected failure")),
            _ => tmp.persist(target).map(drop).map_err(|e| e.error),
        };
        #[cfg(not(test))]
        let renamed = tmp.persist(target).map(drop).map_err(|e| e.error);
        if let Err(e) = renamed {
            // This destination is as it was: only its backup goes.
            if let Some(b) = backup {
                let _ = std::fs::remove_file(b);
            }
            result = Err(write_err(shown, e));
            break;
        }
        done.push(Done {
            target,
            backup,
            existed,
        });
    }
    let failed = result.is_err();
    for d in done.into_iter().rev() {
        match (d.backup, failed) {
            (Some(b), true) => {
                let _ = std::fs::rename(b, d.target);
            }
            (Some(b), false) => {
                let _ = std::fs::remove_file(b);
            }
            (None, true) if !d.existed => {
                let _ = std::fs::remove_file(d.target);
            }
            (None, _) => {}
        }
    }
    result
}

/// A hard link to `target` beside it, to restore it if the set cannot be completed (`None` where
/// the file system has no hard links).
fn backup_of(target: &Path, i: usize) -> Option<PathBuf> {
    let folder = target.parent()?;
    let b = folder.join(format!(
        "{TMP_PREFIX}backup-{}-{i}{TMP_SUFFIX}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&b);
    std::fs::hard_link(target, &b).ok().map(|()| b)
}

#[cfg(test)]
#[path = "atomic_tests.rs"]
mod tests;
