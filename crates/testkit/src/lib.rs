//! Test support shared by the workspace's crates (a dev-dependency only).
//!
//! The parity tests read the original CheXlocalize sample in place, from
//! `../shared/chexlocalize-sample` beside the workspace, and never copy it. Where it is missing
//! they are skipped with a message, except under `CI=true`, where CI guarantees it and a missing
//! sample is a failure:
//!
//! ```
//! if let Some(dir) = chexlocalize_testkit::sample_dir() {
//!     assert!(dir.join("reference").is_dir());
//! }
//! ```
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

/// The original sample folder, if present (one with a `reference/` folder); `None`, after a
/// "skipped" message, when it is not. Panics when it is missing and `CI=true`.
pub fn sample_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/chexlocalize-sample");
    if dir.join("reference").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} is required when CI=true",
        dir.display()
    );
    eprintln!("skipped: {} not found", dir.display());
    None
}

pub mod hostile;
