//! `cargo xtask bench python`: the Python package in-process against its peers, one Python
//! process per comparison group, the peers and ours on the same inputs in that process.
//!
//! - The wheel is built from `python/` in release (`maturin build --release`, abi3, so one wheel
//!   serves every Python ≥ 3.9) into `target/bench/wheels`.
//! - Mask group: `python/benchmarks/bench_mask.py` in the bench venv `target/py-bench-venv`
//!   (created with `python3`; `maturin numpy pycocotools hotcoco` installed into it by pip, never
//!   into the system Python), our wheel installed there. It times every `chexlocalize.mask`
//!   function (encode, decode, iou, area, merge, toBbox, frPyObjects; in batches and one call at a
//!   time) against `pycocotools.mask` and `hotcoco.mask` on blob masks of a CheXpert X-ray's size
//!   and star polygons, the libraries taking turns in each round (in every order over the
//!   rounds), best round kept; it first checks that every library's outputs are the same as ours.
//! - Original group, only when `CHEXLOCALIZE_PY` is set (the reference venv, with torch and cv2,
//!   and the original scripts): our wheel is installed without dependencies into
//!   `target/bench/pylib` and put on `PYTHONPATH` of the reference Python, which runs
//!   `python/benchmarks/bench_original.py`: `chexlocalize.heatmap_to_mask` against the original
//!   `interpolate` + `cam_to_segmentation` per map on the sample's maps (both with every core,
//!   masks checked equal), and `chexlocalize.evaluate` (metric iou) against eval.py's `evaluate`
//!   called in-process (same seed, summaries compared) on the sample and on the val-scale set,
//!   with predicted segmentations made by the release binary's `heatmap-to-segmentation` (Otsu).
//!
//! The ratio is the peer's time over ours (above 1× ours is faster). Without `CHEXLOCALIZE_PY`
//! the section names the rows it did not run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::pyvenv::{ensure_venv, path_with, run, venv_bin};
use crate::util::workspace_root;

/// Rounds of the mask group (each round runs every call of every library once, in one of the
/// six orders of the three libraries: each order twice).
const MASK_ROUNDS: usize = 12;
/// Passes over the sample maps for `heatmap_to_mask` and its original.
const MAP_PASSES: usize = 10;
/// Runs of `evaluate` on each side (one fewer on the val-scale set, at least one).
const EVAL_RUNS: usize = 3;
/// Peers measured in the mask group; the goal is at least 1× on every function.
const MASK_GOAL: f64 = 1.0;
/// The goal against the original functions.
const ORIGINAL_GOAL: f64 = 20.0;

/// What the section needs of `bench::Ctx` (given field by field, so that this file does not
/// import `bench.rs`, which calls it).
struct Ctx<'a> {
    /// The release `chexlocalize` binary.
    bin: &'a Path,
    /// The original sample, canonical.
    sample: &'a Path,
    /// The val-scale fixture set, unless `--no-val`.
    val: Option<&'a Path>,
    /// The reference venv's `python` and the folder of the original scripts.
    python: Option<&'a (PathBuf, PathBuf)>,
    /// Scratch space under `target/bench`.
    scratch: &'a Path,
}

/// Writes the `## Python package` section (the arguments are the fields of `bench::Ctx`).
pub(crate) fn write_section(
    md: &mut String,
    bin: &Path,
    sample: &Path,
    val: Option<&Path>,
    python: Option<&(PathBuf, PathBuf)>,
    scratch: &Path,
) -> Result<()> {
    let ctx = &Ctx {
        bin,
        sample,
        val,
        python,
        scratch,
    };
    let root = workspace_root();
    let venv = crate::pyvenv::target_dir().join("py-bench-venv");
    let py = ensure_venv(
        Path::new("python3"),
        &venv,
        &["maturin", "numpy", "pycocotools", "hotcoco"],
    )?;
    let wheels = build_wheel(&root, &venv, &py, ctx.scratch)?;
    run(
        pip_install(&py, &wheels).arg("--force-reinstall"),
        "pip install of the chexlocalize wheel into the bench venv",
    )?;
    writeln!(md, "## Python package\n")?;
    writeln!(
        md,
        "In-process: one Python process per group imports ours and the peer and runs both on the \
         same inputs, best of several runs (they take turns); ratio = peer time / our time (above \
         1× we are faster). Outputs are checked identical before timing. Made by `cargo xtask \
         bench python` (see `xtask/src/bench_python.rs`).\n"
    )?;

    let mask_json = ctx.scratch.join("python-mask.json");
    println!("== bench_mask.py (chexlocalize.mask, pycocotools, hotcoco)");
    run(
        Command::new(&py)
            .arg(root.join("python/benchmarks/bench_mask.py"))
            .args(["--repeat", &MASK_ROUNDS.to_string(), "--json"])
            .arg(&mask_json),
        "python/benchmarks/bench_mask.py",
    )?;
    let mask = read_json(&mask_json)?;
    writeln!(md, "### `chexlocalize.mask` vs pycocotools and hotcoco\n")?;
    write_group(md, &mask, MASK_GOAL)?;

    writeln!(
        md,
        "### `heatmap_to_mask` and `evaluate` vs the original functions\n"
    )?;
    let Some((ref_py, src)) = ctx.python else {
        writeln!(
            md,
            "NOT RUN: `CHEXLOCALIZE_PY` is unset (the reference venv with torch, cv2 and the \
             original scripts). Rows not run: `heatmap_to_mask` (Otsu, and smoothed k = 5) vs \
             `interpolate` + `cam_to_segmentation`; `evaluate` (metric iou) vs eval.py's \
             `evaluate` on the sample{}.\n",
            if ctx.val.is_some() {
                " and the val-scale set"
            } else {
                ""
            }
        )?;
        return Ok(());
    };
    let original = original_group(ctx, &root, ref_py, src, &wheels)?;
    write_group(md, &original, ORIGINAL_GOAL)?;
    Ok(())
}

/// Builds the release wheel into `scratch/wheels` (emptied first) and returns that folder.
fn build_wheel(root: &Path, venv: &Path, py: &Path, scratch: &Path) -> Result<PathBuf> {
    let wheels = scratch.join("wheels");
    if wheels.exists() {
        std::fs::remove_dir_all(&wheels)
            .with_context(|| format!("emptying the wheel folder {}", wheels.display()))?;
    }
    println!("== maturin build --release (the chexlocalize wheel)");
    let bin = venv_bin(venv);
    run(
        Command::new(bin.join("maturin"))
            .args(["build", "--release", "--quiet", "--out"])
            .arg(&wheels)
            .arg("--interpreter")
            .arg(py)
            .current_dir(root.join("python"))
            .env("VIRTUAL_ENV", venv)
            .env("PATH", path_with(&bin)),
        "maturin build --release of python/",
    )?;
    Ok(wheels)
}

/// `py -m pip install` of the chexlocalize wheel from `wheels`, offline and without deps.
fn pip_install(py: &Path, wheels: &Path) -> Command {
    let mut c = Command::new(py);
    c.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        "--find-links",
    ])
    .arg(wheels)
    .arg("chexlocalize");
    c
}

/// Runs `bench_original.py` with the reference Python and returns its measurements.
fn original_group(
    ctx: &Ctx<'_>,
    root: &Path,
    ref_py: &Path,
    src: &Path,
    wheels: &Path,
) -> Result<Value> {
    let pylib = ctx.scratch.join("pylib");
    if pylib.exists() {
        std::fs::remove_dir_all(&pylib).with_context(|| format!("emptying {}", pylib.display()))?;
    }
    run(
        pip_install(ref_py, wheels).arg("--target").arg(&pylib),
        "pip install --target target/bench/pylib of the chexlocalize wheel",
    )?;
    let mut sets = vec![("sample", ctx.sample)];
    if let Some(val) = ctx.val {
        sets.push(("val", val));
    }
    let json = ctx.scratch.join("python-original.json");
    let mut cmd = Command::new(ref_py);
    cmd.arg(root.join("python/benchmarks/bench_original.py"))
        .arg("--src")
        .arg(src)
        .arg("--scratch")
        .arg(ctx.scratch)
        .arg("--json")
        .arg(&json)
        .args(["--repeat-map", &MAP_PASSES.to_string()])
        .args(["--repeat-eval", &EVAL_RUNS.to_string()])
        .env("PYTHONPATH", &pylib);
    for (name, data) in &sets {
        let pred = ctx.scratch.join(format!("python-pred-{name}.json"));
        let args = [
            "heatmap-to-segmentation",
            "--map_dir",
            "gradcam_maps_val",
            "--output_path",
        ];
        let status = Command::new(ctx.bin)
            .args(args)
            .arg(&pred)
            .current_dir(data)
            .status()
            .with_context(|| format!("running {}", ctx.bin.display()))?;
        if !status.success() {
            bail!(
                "{} heatmap-to-segmentation in {} failed ({status})",
                ctx.bin.display(),
                data.display()
            );
        }
        let mut arg = std::ffi::OsString::from(format!("{name}="));
        arg.push(data);
        arg.push(",");
        arg.push(&pred);
        cmd.arg("--data").arg(arg);
    }
    println!("== bench_original.py (heatmap_to_mask, evaluate vs the original functions)");
    run(&mut cmd, "python/benchmarks/bench_original.py")?;
    read_json(&json)
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: expected JSON", path.display()))
}

/// The table of one group's rows, then its inputs and versions, and the rows below `goal`.
fn write_group(md: &mut String, group: &Value, goal: f64) -> Result<()> {
    let rows = group["rows"]
        .as_array()
        .context("benchmark JSON: expected a list under \"rows\"")?;
    writeln!(
        md,
        "| function | peer | peer (ms) | ours (ms) | ratio (peer/ours) |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|")?;
    let mut below = Vec::new();
    for r in rows {
        let name = r["function"].as_str().unwrap_or("?");
        let peer = r["peer"].as_str().unwrap_or("?");
        let (Some(p), Some(o)) = (r["peer_s"].as_f64(), r["ours_s"].as_f64()) else {
            bail!("benchmark JSON: row {name} / {peer} without peer_s and ours_s seconds");
        };
        let ratio = p / o;
        let mark = if r["same_summary"] == Value::Bool(false) {
            " (summaries differ!)"
        } else {
            ""
        };
        writeln!(
            md,
            "| {name} | {peer} | {} | {} | {}{mark} |",
            ms(p),
            ms(o),
            x(ratio)
        )?;
        if ratio < goal {
            below.push(format!("{name} vs {peer} ({})", x(ratio)));
        }
    }
    let versions = group["versions"]
        .as_object()
        .map(|v| {
            v.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| format!("{k} {s}")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    writeln!(
        md,
        "\nInputs: {}. Versions: {versions}.",
        group["inputs"].as_str().unwrap_or("?")
    )?;
    if below.is_empty() {
        writeln!(md, "Every row meets the goal of ≥ {goal}×.\n")?;
    } else {
        writeln!(md, "Below the goal of ≥ {goal}×: {}.\n", below.join("; "))?;
    }
    Ok(())
}

/// Milliseconds with three significant figures or more.
fn ms(seconds: f64) -> String {
    let m = seconds * 1e3;
    if m >= 100.0 {
        format!("{m:.0}")
    } else if m >= 1.0 {
        format!("{m:.2}")
    } else {
        format!("{m:.4}")
    }
}

/// A ratio: two decimals below 10×, whole numbers above.
fn x(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else {
        format!("{ratio:.2}×")
    }
}
