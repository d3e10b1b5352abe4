//! Python virtual environments under `target/` for `cargo xtask test` and `cargo xtask bench
//! python`: created with the given interpreter, packages installed by pip into them, never into
//! the system Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Runs `cmd`, failing with `what` when it cannot start or exits non-zero.
pub(crate) fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// The cargo target folder (`CARGO_TARGET_DIR`, or `target/` at the workspace root).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::util::workspace_root().join("target"))
}

/// The scripts folder of a virtual environment (`bin`, or `Scripts` on Windows).
pub(crate) fn venv_bin(venv: &Path) -> PathBuf {
    venv.join(if cfg!(windows) { "Scripts" } else { "bin" })
}

/// The virtual environment `venv` (created with `base_python` when missing) with `packages`
/// installed by its pip; returns its `python`.
pub(crate) fn ensure_venv(base_python: &Path, venv: &Path, packages: &[&str]) -> Result<PathBuf> {
    let py = venv_bin(venv).join(if cfg!(windows) {
        "python.exe"
    } else {
        "python"
    });
    if !py.is_file() {
        println!("== creating the virtual environment {}", venv.display());
        run(
            Command::new(base_python).arg("-m").arg("venv").arg(venv),
            &format!("{} -m venv {}", base_python.display(), venv.display()),
        )?;
    }
    println!("== pip install {}", packages.join(" "));
    run(
        Command::new(&py)
            .args(["-m", "pip", "install", "--quiet"])
            .args(packages),
        &format!("pip install {} into {}", packages.join(" "), venv.display()),
    )?;
    Ok(py)
}

/// `PATH` with `dir` first (so maturin's cargo calls find the venv's tools).
pub(crate) fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(paths).unwrap_or_default()
}
