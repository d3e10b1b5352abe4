//! `cargo xtask test`: the whole test suite, Rust and Python.
//!
//! 1. `cargo test --workspace` (skipped with `--python-only`);
//! 2. a virtual environment under `target/py-venv` (never the system Python's packages), with
//!    `maturin numpy pandas pycocotools pytest` installed into it;
//! 3. the `chexlocalize` wheel built from `python/` and installed there (`pip install ./python`,
//!    maturin as the PEP 517 backend), timed;
//! 4. pytest on `python/tests`, with the command line's binary, the sample (when present) and the
//!    hostile-input corpus (`cargo xtask hostile`) for the tests that compare with them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::pyvenv::{ensure_venv, path_with, run, target_dir, venv_bin};
use crate::util::workspace_root;

/// Arguments of `cargo xtask test`.
#[derive(clap::Args, Debug)]
pub(crate) struct TestArgs {
    /// Skip `cargo test --workspace` (build the wheel and run pytest only).
    #[arg(long)]
    python_only: bool,
    /// The Python interpreter that creates the virtual environment (3.9 or newer).
    #[arg(long, default_value = "python3")]
    python: PathBuf,
    /// The original repository's sample, for the tests that compare with the reference outputs
    /// (skipped when absent).
    #[arg(long, default_value = "../shared/chexlocalize-sample")]
    sample: PathBuf,
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Builds the debug `chexlocalize` binary (already built by `cargo test --workspace`).
fn debug_cli(root: &Path, target: &Path) -> Result<PathBuf> {
    run(
        cargo()
            .args(["build", "--quiet", "-p", "chexlocalize-cli"])
            .current_dir(root),
        "cargo build -p chexlocalize-cli",
    )?;
    Ok(target
        .join("debug")
        .join(format!("chexlocalize{}", std::env::consts::EXE_SUFFIX)))
}

pub(crate) fn run_tests(args: &TestArgs) -> Result<()> {
    let root = workspace_root();
    let target = target_dir();
    if !args.python_only {
        println!("== cargo test --workspace");
        run(
            cargo().args(["test", "--workspace"]).current_dir(&root),
            "cargo test --workspace",
        )?;
    }
    let cli = debug_cli(&root, &target)?;

    let venv = target.join("py-venv");
    let bin = venv_bin(&venv);
    let py = ensure_venv(
        &args.python,
        &venv,
        &["maturin", "numpy", "pandas", "pycocotools", "pytest"],
    )?;
    println!("== pip install ./python (the wheel, built by maturin)");
    let t0 = Instant::now();
    run(
        Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--force-reinstall",
                "--no-build-isolation",
            ])
            .arg(root.join("python"))
            .env("VIRTUAL_ENV", &venv)
            .env("PATH", path_with(&bin)),
        "pip install ./python",
    )?;
    println!(
        "wheel built and installed in {:.1} s",
        t0.elapsed().as_secs_f64()
    );

    let hostile = target.join("py-hostile");
    std::fs::create_dir_all(&hostile).with_context(|| format!("creating {}", hostile.display()))?;
    let n = chexlocalize_testkit::hostile::write_all(&hostile)
        .with_context(|| format!("writing the hostile files to {}", hostile.display()))?
        .len();
    println!("{n} hostile files in {}", hostile.display());
    println!("== pytest python/tests");
    let mut pytest = Command::new(&py);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("python").join("tests"))
        .current_dir(&root)
        .env("CHEXLOCALIZE_BIN", &cli)
        .env("CHEXLOCALIZE_HOSTILE", &hostile);
    let sample = if args.sample.is_absolute() {
        args.sample.clone()
    } else {
        root.join(&args.sample)
    };
    if sample.is_dir() {
        pytest.env("CHEXLOCALIZE_SAMPLE", &sample);
    } else {
        println!("(no sample at {}: its tests are skipped)", sample.display());
    }
    run(&mut pytest, "pytest")
}
