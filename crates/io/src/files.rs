//! Plain file access: the one function every reader of this crate opens files with, whole-file
//! reads for readers outside this crate (the report), folder listings, and file names as errors
//! show them.
//!
//! Every input is a stranger's: a path may name a FIFO (opening it for reading would wait for a
//! writer forever), a device (`/dev/zero` never ends, and its length says 0), a socket or a
//! folder. So a file is first looked at without opening it, then opened without blocking
//! (`O_NONBLOCK`) and looked at again on the open handle (it may have been swapped in between);
//! anything but a regular file is refused by name. Reading streams and stops at the byte cap
//! whatever the file's length claims.

use std::fs::{File, FileType};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{IoError, Limits};

/// Reads a whole regular file of at most `limits.max_file_bytes` bytes; the readers of this
/// crate call it under this name.
pub(crate) fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, IoError> {
    read_bytes(path, limits)
}

/// Reads a whole regular file of at most `limits.max_file_bytes` bytes. A FIFO, a device, a
/// socket or a folder is refused by name ([`IoError::NotRegular`]) without waiting on it; a file
/// longer than the limit is an [`IoError::Limit`] and no more than one byte past the limit is
/// read, whatever length the file system reports.
pub fn read_bytes(path: &Path, limits: &Limits) -> Result<Vec<u8>, IoError> {
    let mut bytes = Vec::new();
    read_into(path, limits, &mut bytes)?;
    Ok(bytes)
}

/// A regular file of at most `limits.max_file_bytes` bytes (by its length when opened), open
/// for reading, for readers that read only parts of it; with that length.
pub(crate) fn open_limited(path: &Path, limits: &Limits) -> Result<(File, u64), IoError> {
    let (file, len) = open_regular(path)?;
    if len > limits.max_file_bytes {
        return Err(IoError::Limit {
            path: path.to_path_buf(),
            location: "file".to_owned(),
            what: format!("{len} bytes"),
            limit: format!("at most {} bytes", limits.max_file_bytes),
        });
    }
    Ok((file, len))
}

/// [`read_bytes`] into `bytes` (cleared first; its capacity is reused).
fn read_into(path: &Path, limits: &Limits, bytes: &mut Vec<u8>) -> Result<(), IoError> {
    let max = limits.max_file_bytes;
    let (file, len) = open_regular(path)?;
    let over = |what: String| IoError::Limit {
        path: path.to_path_buf(),
        location: "file".to_owned(),
        what,
        limit: format!("at most {max} bytes"),
    };
    if len > max {
        return Err(over(format!("{len} bytes")));
    }
    // The claimed length (at most the limit) sizes the buffer, as `std::fs::read` does; a file
    // that grows meanwhile, or claims 0 (procfs), still stops at one byte past the limit.
    bytes.clear();
    bytes.reserve(usize::try_from(len).map_or(0, |n| n.saturating_add(1)));
    file.take(max.saturating_add(1))
        .read_to_end(bytes)
        .map_err(|e| IoError::read(path, e))?;
    if bytes.len() as u64 > max {
        return Err(over(format!("more than {max} bytes")));
    }
    Ok(())
}

/// The most a thread's read buffer keeps between files (larger ones are freed after use).
const KEPT_BUFFER_BYTES: usize = 4 << 20;

thread_local! {
    /// The bytes of the last file this thread read with [`with_file_bytes`].
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` on the bytes of a whole regular file read as [`read_bytes`] reads it, in a
/// buffer the thread keeps for its next file (up to [`KEPT_BUFFER_BYTES`]): readers of many
/// files of one size (the heatmaps of a folder) then allocate no fresh pages per file, where a
/// new buffer each time came back from the kernel page by page (most of the time of reading a
/// `.npy` heatmap).
pub(crate) fn with_file_bytes<R>(
    path: &Path,
    limits: &Limits,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R, IoError> {
    BUFFER.with(|cell| {
        // A re-entrant call (none today) gets a buffer of its own.
        let mut fresh = Vec::new();
        let mut kept = cell.try_borrow_mut().ok();
        let buf = kept.as_deref_mut().unwrap_or(&mut fresh);
        let out = read_into(path, limits, buf).map(|()| f(buf));
        if buf.capacity() > KEPT_BUFFER_BYTES {
            *buf = Vec::new();
        }
        out
    })
}

/// Opens an input for streaming reads of a part of it (an image's header): the same checks as
/// [`read_bytes`] (regular files only, never a blocking open), no read.
pub fn open_input(path: &Path) -> Result<File, IoError> {
    open_regular(path).map(|(file, _)| file)
}

/// Opens a regular file for reading without ever blocking on it: refuses what `stat` shows is
/// not a regular file (without opening it), opens with `O_NONBLOCK` and checks the open handle
/// again. Returns the file and its length as the file system reports it.
fn open_regular(path: &Path) -> Result<(File, u64), IoError> {
    let meta = std::fs::metadata(path).map_err(|e| IoError::read(path, e))?;
    if let Some(kind) = non_regular_kind(meta.file_type()) {
        return Err(IoError::not_regular(path, kind));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        // A regular file ignores O_NONBLOCK; anything else swapped in since the `stat` above is
        // refused below before a read could wait on it.
        options.custom_flags((OFlags::NONBLOCK | OFlags::NOCTTY).bits() as i32);
    }
    let file = options.open(path).map_err(|e| IoError::read(path, e))?;
    let meta = file.metadata().map_err(|e| IoError::read(path, e))?;
    if let Some(kind) = non_regular_kind(meta.file_type()) {
        return Err(IoError::not_regular(path, kind));
    }
    Ok((file, meta.len()))
}

/// `None` for a regular file, else what it is ("a FIFO", "a folder", ...), as errors name it.
pub(crate) fn non_regular_kind(ft: FileType) -> Option<&'static str> {
    if ft.is_file() {
        return None;
    }
    if ft.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a FIFO");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
    }
    if ft.is_symlink() {
        return Some("a symbolic link");
    }
    Some("a special file")
}

/// What a folder entry is, looked at without opening it: `Ok(true)` a regular file (or a link to
/// one), `Ok(false)` a folder (or a link to one), `Err` anything else (a FIFO, a device, a
/// socket, a dangling link), naming the entry.
pub(crate) fn entry_is_file(path: &Path, ft: FileType) -> Result<bool, IoError> {
    let ft = if ft.is_symlink() {
        std::fs::metadata(path)
            .map_err(|e| IoError::read(path, e))?
            .file_type()
    } else {
        ft
    };
    match non_regular_kind(ft) {
        None => Ok(true),
        Some(_) if ft.is_dir() => Ok(false),
        Some(kind) => Err(IoError::not_regular(path, kind)),
    }
}

/// The regular files directly inside `dir` (not recursive; symbolic links to files count), sorted
/// by file name. Folders are left out; any other entry (a FIFO, a device, a socket, a dangling
/// link) is an error naming it (the first in name order), and nothing is opened.
pub fn list_files(dir: &Path) -> Result<Vec<PathBuf>, IoError> {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| IoError::read(dir, e))? {
        let entry = entry.map_err(|e| IoError::read(dir, e))?;
        let path = entry.path();
        let ft = entry.file_type().map_err(|e| IoError::read(&path, e))?;
        match entry_is_file(&path, ft) {
            Ok(true) => out.push(path),
            Ok(false) => {}
            Err(e) => bad.push((path, e)),
        }
    }
    first_error(bad)?;
    out.sort();
    Ok(out)
}

/// The error of the first path in sort order, so that a listing fails the same way every time.
pub(crate) fn first_error(mut bad: Vec<(PathBuf, IoError)>) -> Result<(), IoError> {
    bad.sort_by(|a, b| a.0.cmp(&b.0));
    match bad.into_iter().next() {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
