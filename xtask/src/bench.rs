//! `cargo xtask bench`: our commands against the Python reference, side by side, whole
//! processes, on the original sample and on the val-scale fixture set; writes `BENCHMARKS.md`.
//!
//! The Python side runs the original scripts from a venv given by `CHEXLOCALIZE_PY` (the venv
//! folder; the scripts are taken from `CHEXLOCALIZE_PY_SRC`, default `$CHEXLOCALIZE_PY/src`, as
//! `../shared/tools/python-reference.sh` lays them out). Without it only our commands run and the
//! table says so. Wall time and peak memory (maximum resident set size) come from GNU
//! `/usr/bin/time` when it is installed; each command runs once, after one untimed warm-up of
//! ours (the page cache then holds the inputs for both sides). A per-map section times the
//! segmentation of each sample map in-process, single-threaded, on both sides.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::bench_cases::{Case, Data, cases, positive_results, regression_cases, subcommand};
use crate::bench_inprocess::{Reading, per_map, reading};
use crate::measure::{Measure, measure};
use crate::util::{build_cli, workspace_root};

/// Which part of BENCHMARKS.md a run regenerates.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Suite {
    /// Every section, the whole file from this one run.
    All,
    /// Our commands against the original scripts, whole processes (and the per-map timing).
    Cli,
    /// The hostile-input suite and the default limits.
    Hostile,
    /// The competition server: upload to scored, leaderboard latency, throughput.
    Server,
    /// The Python package in-process against pycocotools, hotcoco and the original functions.
    Python,
}

impl Suite {
    /// The sections of BENCHMARKS.md, in file order.
    const SECTIONS: [Suite; 4] = [Suite::Cli, Suite::Hostile, Suite::Server, Suite::Python];

    fn name(self) -> &'static str {
        match self {
            Suite::All => "all",
            Suite::Cli => "cli",
            Suite::Hostile => "hostile",
            Suite::Server => "server",
            Suite::Python => "python",
        }
    }
}

/// What every section's benchmark gets: the release binary, the data and the reference venv.
pub(crate) struct Ctx {
    /// The release `chexlocalize` binary.
    pub(crate) bin: PathBuf,
    /// The original sample, canonical.
    pub(crate) sample: PathBuf,
    /// The val-scale fixture set (made on first use), unless `--no-val`.
    pub(crate) val: Option<PathBuf>,
    /// The reference venv's `python` and the folder of the original scripts.
    pub(crate) python: Option<(PathBuf, PathBuf)>,
    /// Scratch space under `target/bench`.
    pub(crate) scratch: PathBuf,
}

/// Arguments of `cargo xtask bench`.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// The section to regenerate (`all` rewrites the whole file from this run; one section
    /// replaces only its own part of the file, which then says so in its first line).
    #[arg(value_enum, default_value = "all")]
    suite: Suite,
    /// The original sample (with its gradcam maps, ground truth and reference/ outputs).
    #[arg(long, default_value = "../shared/chexlocalize-sample")]
    sample: PathBuf,
    /// The val-scale fixture set (made with `cargo xtask fixtures --scale val` if missing).
    #[arg(long)]
    val: Option<PathBuf>,
    /// Skip the val-scale set (its Python tuning runs take about half an hour).
    #[arg(long)]
    no_val: bool,
    /// Where to write the table (default: BENCHMARKS.md at the workspace root).
    #[arg(long)]
    output: Option<PathBuf>,
}

struct Row {
    dataset: String,
    label: &'static str,
    ours: Measure,
    python: Option<Measure>,
}

fn run_cases(
    dataset: &str,
    data: &Path,
    cases: &[Case],
    bin: &Path,
    python: Option<&(PathBuf, PathBuf)>,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for c in cases {
        let mut ours_args = vec![subcommand(c.script)];
        ours_args.extend(c.args.iter().cloned());
        // Warm-up: fills the page cache for both sides and creates the output folders.
        measure(bin, &ours_args, data)?;
        let ours = measure(bin, &ours_args, data)?;
        let py = match python {
            Some((py, src)) => {
                let mut a = vec![src.join(c.script).to_string_lossy().into_owned()];
                a.extend(c.args.iter().cloned());
                Some(measure(py, &a, data)?)
            }
            None => None,
        };
        eprintln!(
            "{dataset:<8} {:<40} ours {:>8.3} s   python {}",
            c.label,
            ours.seconds,
            py.as_ref()
                .map_or("-".to_owned(), |m| format!("{:.3} s", m.seconds))
        );
        rows.push(Row {
            dataset: dataset.to_owned(),
            label: c.label,
            ours,
            python: py,
        });
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The widest of the vector paths the saliency code dispatches on that this CPU runs
/// (pulp's `V4` and `V3` levels, as `saliency::simd` detects them): its speed depends on the
/// path, so every stamp names it.
fn vector_path() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if pulp::x86::V4::try_new().is_some() {
            return "AVX-512";
        }
        if pulp::x86::V3::try_new().is_some() {
            return "AVX2 and FMA, no AVX-512";
        }
    }
    "no AVX2: scalar paths"
}

pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    let root = workspace_root();
    let bin = build_cli()?;
    let python = std::env::var_os("CHEXLOCALIZE_PY")
        .map(PathBuf::from)
        .map(|venv| {
            let src = std::env::var_os("CHEXLOCALIZE_PY_SRC")
                .map(PathBuf::from)
                .unwrap_or_else(|| venv.join("src"));
            (venv.join("bin/python"), src)
        });
    if let Some((py, src)) = &python {
        if !py.exists() || !src.join("eval.py").exists() {
            bail!(
                "CHEXLOCALIZE_PY: expected {} and {}/eval.py",
                py.display(),
                src.display()
            );
        }
    }
    let sample = args
        .sample
        .canonicalize()
        .with_context(|| format!("sample folder {}", args.sample.display()))?;
    let scratch = root.join("target/bench");
    std::fs::create_dir_all(&scratch)?;
    let val = if args.no_val {
        None
    } else {
        let val = args
            .val
            .clone()
            .unwrap_or_else(|| root.join("target/fixtures-val"));
        if !val.join("gradcam_maps_val").exists() {
            crate::fixtures::generate_val(&val)?;
        }
        let val = val.canonicalize()?;
        if !val.join("gt_segmentations_val.json").exists() {
            let a = [
                "annotation-to-segmentation",
                "--ann_path",
                "gt_annotations_val.json",
                "--output_path",
                "gt_segmentations_val.json",
            ];
            measure(&bin, &a.map(str::to_owned), &val)?;
        }
        Some(val)
    };
    let ctx = Ctx {
        bin,
        sample,
        val,
        python,
        scratch,
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| root.join("BENCHMARKS.md"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let stamp = format!("{} ({threads} threads; {})", cpu_model(), vector_path());
    let md = if args.suite == Suite::All {
        let mut md = String::from("# Benchmarks\n\n");
        writeln!(
            md,
            "Written by one `cargo xtask bench` run on {stamp}; each section says what it times.\n"
        )?;
        for s in Suite::SECTIONS {
            md.push_str(&section(s, &ctx)?);
        }
        md
    } else {
        let old = std::fs::read_to_string(&output).unwrap_or_default();
        let mut part = section(args.suite, &ctx)?;
        // Under the section's `##` title.
        let title_end = part
            .find("\n## ")
            .and_then(|i| part[i + 1..].find('\n').map(|j| i + 1 + j + 1))
            .unwrap_or(0);
        part.insert_str(
            title_end,
            &format!(
                "\n*Regenerated alone by `cargo xtask bench {}` on {stamp}.*\n",
                args.suite.name()
            ),
        );
        replace_section(&old, args.suite, &part)
    };
    chexlocalize_io::write_atomic(&output, md.as_bytes())?;
    println!("{md}\nwritten to {}", output.display());
    Ok(())
}

fn marker(s: Suite) -> String {
    format!("<!-- bench:{} -->", s.name())
}

/// One section, starting with its marker line and its `##` title.
fn section(s: Suite, ctx: &Ctx) -> Result<String> {
    let mut md = format!("{}\n", marker(s));
    match s {
        Suite::All => unreachable!("`all` is a list of sections"),
        Suite::Cli => cli_section(&mut md, ctx)?,
        Suite::Hostile => {
            crate::bench_hostile::write_sections(&mut md, &ctx.bin, &ctx.scratch.join("hostile"))?
        }
        Suite::Server => crate::bench_server::write_section(
            &mut md,
            &ctx.bin,
            ctx.python.as_ref(),
            &ctx.scratch,
        )?,
        Suite::Python => crate::bench_python::write_section(
            &mut md,
            &ctx.bin,
            &ctx.sample,
            ctx.val.as_deref(),
            ctx.python.as_ref(),
            &ctx.scratch,
        )?,
    }
    Ok(md)
}

/// `old` with the section of `s` replaced by `part` (sections run from their marker to the next
/// marker); a file without it gets `part` where the section order puts it.
fn replace_section(old: &str, s: Suite, part: &str) -> String {
    let start_of = |x: Suite| old.find(&marker(x));
    let next_after = |from: usize| {
        Suite::SECTIONS
            .iter()
            .filter_map(|&x| old[from + 1..].find(&marker(x)).map(|i| i + from + 1))
            .min()
            .unwrap_or(old.len())
    };
    let (a, b) = match start_of(s) {
        Some(a) => (a, next_after(a)),
        None => {
            let pos = Suite::SECTIONS
                .iter()
                .skip_while(|&&x| x != s)
                .skip(1)
                .find_map(|&x| start_of(x))
                .unwrap_or(old.len());
            (pos, pos)
        }
    };
    format!("{}{part}{}", &old[..a], &old[b..])
}

/// Our commands against the original scripts as whole processes, then the per-map timing.
fn cli_section(md: &mut String, ctx: &Ctx) -> Result<()> {
    let Ctx {
        bin,
        sample,
        val,
        python,
        scratch,
    } = ctx;
    let mut rows = Vec::new();
    run_cases(
        "sample",
        sample,
        &cases(
            &scratch.join("sample"),
            &Data {
                gt_seg: "gt_segmentations_val.json",
                hb_ann: "reference/derived_inputs/hb_annotations.json",
            },
        ),
        bin,
        python.as_ref(),
        &mut rows,
    )?;
    if let Some(val) = val {
        run_cases(
            "val",
            val,
            &cases(&scratch.join("val"), &Data::VAL),
            bin,
            python.as_ref(),
            &mut rows,
        )?;
        positive_results(&scratch.join("val"))?;
        run_cases(
            "val",
            val,
            &regression_cases(&scratch.join("val")),
            bin,
            python.as_ref(),
            &mut rows,
        )?;
    }
    let (ours_map, py_map) = per_map(sample, python.as_ref())?;
    // Reading: the val maps (the sample's when there is no val set).
    let read_from = val.as_deref().unwrap_or(sample);
    let reading = reading(read_from, &scratch.join("read"), 234, python.as_ref())?;
    writeln!(md, "## Commands\n")?;
    writeln!(
        md,
        "Whole processes, each run once after a warm-up of ours, wall time and peak resident \
         memory from GNU time. Python: the original scripts with the versions of \
         `../shared/tools/python-reference.sh`{}.\n",
        if python.is_some() {
            ""
        } else {
            " — NOT RUN (CHEXLOCALIZE_PY unset), ours only"
        }
    )?;
    writeln!(
        md,
        "| data | command | Python (s) | ours (s) | ratio | Python peak (MB) | ours peak (MB) |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|")?;
    let mb = |m: Option<&Measure>| {
        m.and_then(|m| m.peak_mb)
            .map_or("–".to_owned(), |x| format!("{x:.0}"))
    };
    for r in &rows {
        let (py, ratio) = match &r.python {
            Some(p) => (
                format!("{:.2}", p.seconds),
                format!("{:.0}×", p.seconds / r.ours.seconds),
            ),
            None => ("–".to_owned(), "–".to_owned()),
        };
        writeln!(
            md,
            "| {} | {} | {py} | {:.3} | {ratio} | {} | {} |",
            r.dataset,
            r.label,
            r.ours.seconds,
            mb(r.python.as_ref()),
            mb(Some(&r.ours)),
        )?;
    }
    writeln!(
        md,
        "\nPer map, in-process, single-threaded (Otsu segmentation of each of the {} sample maps, \
         320×320 to the CXR size, RLE included; best of several passes): ours {:.2} ms{}.",
        chexlocalize_io::list_heatmaps(&sample.join("gradcam_maps_val"))?.len(),
        ours_map * 1e3,
        match py_map {
            Some(p) => format!(
                ", the reference's `interpolate` + `cam_to_segmentation` + `encode_segmentation` {:.1} ms ({:.0}×)",
                p * 1e3,
                p / ours_map
            ),
            None => String::new(),
        }
    )?;
    let below: Vec<String> = rows
        .iter()
        .filter(|r| r.dataset == "val")
        .filter_map(|r| {
            let ratio = r.python.as_ref()?.seconds / r.ours.seconds;
            (ratio < 40.0).then(|| format!("{} ({ratio:.0}×)", r.label))
        })
        .collect();
    if !below.is_empty() {
        writeln!(
            md,
            "\nBelow the goal of ≥ 40× at val scale: {}.",
            below.join("; ")
        )?;
    }
    if ours_map > 1.5e-3 {
        writeln!(md, "\nPer map above the goal of ≤ 1.5 ms.")?;
    }
    reading_table(md, &reading, read_from == sample.as_path())?;
    crate::bench_metrics::write_section(md, sample, scratch)?;
    if let Some(val) = val {
        crate::bench_scaling::write_section(
            md,
            bin,
            val,
            &scratch.join("scaling"),
            &workspace_root().join("docs/scaling.png"),
            "docs/scaling.png",
        )?;
    }
    Ok(())
}

/// The heatmap-reading table.
fn reading_table(md: &mut String, r: &Reading, sample: bool) -> Result<()> {
    writeln!(
        md,
        "\n### Reading heatmaps\n\nIn-process, single-threaded, per file, best of several passes \
         over the same files (page cache warm), on the {} maps (320×320 float32). Ours reads the \
         whole record with the default limits in force.\n",
        if sample { "sample" } else { "val-scale" }
    )?;
    writeln!(md, "| files | peer | peer (ms) | ours (ms) | ratio |")?;
    writeln!(md, "|---|---|---:|---:|---:|")?;
    let ratio = |p: Option<f64>, ours: f64| {
        p.map_or(("–".to_owned(), "–".to_owned()), |p| {
            (format!("{:.3}", p * 1e3), format!("{:.2}×", p / ours))
        })
    };
    let (p, x) = ratio(r.torch_pkl, r.ours_pkl);
    writeln!(
        md,
        "| {} `.pkl` | the original's `CPU_Unpickler(f).load()` (torch) | {p} | {:.3} | {x} |",
        r.pickles,
        r.ours_pkl * 1e3
    )?;
    let (p, x) = ratio(r.numpy_npy, r.ours_npy);
    writeln!(
        md,
        "| {} `.npy` (+ JSON sidecar for ours) | `np.load(path)` | {p} | {:.3} | {x} |",
        r.npys,
        r.ours_npy * 1e3
    )?;
    Ok(())
}
