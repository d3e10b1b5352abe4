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
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::measure::{Measure, measure_any};
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

/// Runs `program args` in `cwd` under GNU time when available; fails on a non-zero exit.
fn measure(program: &Path, args: &[String], cwd: &Path) -> Result<Measure> {
    let o = measure_any(program, args, cwd)?;
    if o.code != Some(0) {
        bail!(
            "{} {} failed:\n{}",
            program.display(),
            args.join(" "),
            o.stderr
        );
    }
    Ok(o.measure)
}

/// A benchmark row: our subcommand and arguments; the Python script gets the same arguments.
struct Case {
    label: &'static str,
    script: &'static str,
    args: Vec<String>,
}

fn case(label: &'static str, script: &'static str, args: &[&str]) -> Case {
    Case {
        label,
        script,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// The commands timed on a data folder laid out like the sample; outputs go to `out`.
fn cases(out: &Path, gt_seg: &str, with_features: bool) -> Vec<Case> {
    let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
    let mut v = vec![
        case(
            "annotation_to_segmentation",
            "annotation_to_segmentation.py",
            &[
                "--ann_path",
                "gt_annotations_val.json",
                "--output_path",
                &o("gt.json"),
            ],
        ),
        case(
            "heatmap_to_segmentation (Otsu)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--output_path",
                &o("otsu.json"),
            ],
        ),
        case(
            "heatmap_to_segmentation (Otsu, smoothed, k = 5)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--if_smoothing",
                "True",
                "--k",
                "5",
                "--output_path",
                &o("smooth.json"),
            ],
        ),
        case(
            "heatmap_to_segmentation (thresholds)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--threshold_path",
                "tuning_results.csv",
                "--output_path",
                &o("thr.json"),
            ],
        ),
        case(
            "eval --metric iou",
            "eval.py",
            &[
                "--metric",
                "iou",
                "--gt_path",
                gt_seg,
                "--pred_path",
                &o("otsu.json"),
                "--true_pos_only",
                "True",
                "--save_dir",
                &o("eval_iou"),
            ],
        ),
        case(
            "eval --metric hitmiss (heatmaps)",
            "eval.py",
            &[
                "--metric",
                "hitmiss",
                "--gt_path",
                gt_seg,
                "--pred_path",
                "gradcam_maps_val",
                "--save_dir",
                &o("eval_hitmiss"),
            ],
        ),
        case(
            "tune_heatmap_threshold",
            "tune_heatmap_threshold.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--gt_path",
                gt_seg,
                "--save_dir",
                &o("tune_h"),
            ],
        ),
        case(
            "tune_probability_threshold",
            "tune_probability_threshold.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--gt_path",
                gt_seg,
                "--save_dir",
                &o("tune_p"),
            ],
        ),
        case(
            "count_segs",
            "count_segs.py",
            &["--seg_path", gt_seg, "--save_dir", &o("count")],
        ),
    ];
    if with_features {
        v.push(case(
            "compute_pathology_features",
            "compute_pathology_features.py",
            &[
                "--gt_ann",
                "gt_annotations_val.json",
                "--gt_seg",
                gt_seg,
                "--save_dir",
                &o("features"),
            ],
        ));
    }
    v
}

/// The subcommand of a script (`tune_heatmap_threshold.py` → `tune-heatmap-threshold`).
fn subcommand(script: &str) -> String {
    script.trim_end_matches(".py").replace('_', "-")
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

/// Per map, in-process and single-threaded: Otsu segmentation of each sample map (load the
/// pickle, upsample, threshold, contours, fill, RLE), ours and the reference's functions.
/// Passes over the sample maps for the per-map timing of ours, and of Python (whose passes take
/// twenty times longer): about five seconds of passes on each side, so that the best pass of each
/// is taken over a similar stretch of the machine's (shared, noisy) time.
const PER_MAP_PASSES: usize = 100;
const PER_MAP_PASSES_PYTHON: usize = 10;

fn per_map(sample: &Path, python: Option<&(PathBuf, PathBuf)>) -> Result<(f64, Option<f64>)> {
    let files = chexlocalize_io::list_heatmaps(&sample.join("gradcam_maps_val"))?;
    let limits = chexlocalize_io::Limits::default();
    let mut maps = Vec::new();
    for f in &files {
        let rec = chexlocalize_io::read_heatmap(&f.path, &limits)?;
        let ((mh, mw), (h, w)) = rec
            .segmentation_sizes()
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.path.display()))?;
        let map = ndarray::Array2::from_shape_vec((mh, mw), rec.map.to_f32_vec())?;
        maps.push((map, h, w));
    }
    let otsu = chexlocalize_saliency::Threshold::Otsu { smoothing: None };
    // The best of many passes: the first passes of a process run while the allocator is still
    // growing its heap to the size one map needs (page faults), and the machine's speed drifts.
    let mut best = f64::INFINITY;
    for _ in 0..PER_MAP_PASSES {
        let t = Instant::now();
        for (m, h, w) in &maps {
            std::hint::black_box(chexlocalize_saliency::segment_rle(m.view(), *h, *w, otsu)?);
        }
        best = best.min(t.elapsed().as_secs_f64() / maps.len() as f64);
    }
    let py = match python {
        Some((py, src)) => {
            let script = format!(
                r#"
import sys, glob, time, torch
sys.path.insert(0, {src:?})
from utils import CPU_Unpickler, encode_segmentation
from heatmap_to_segmentation import cam_to_segmentation
import torch.nn.functional as F
torch.set_num_threads(1)
infos = [CPU_Unpickler(open(p, 'rb')).load() for p in sorted(glob.glob('gradcam_maps_val/*_map.pkl'))]
best = float('inf')
for _ in range({passes}):
    t = time.perf_counter()
    for info in infos:
        w, h = info['cxr_dims']
        up = F.interpolate(info['map'], size=(h, w), mode='bilinear', align_corners=False)
        encode_segmentation(cam_to_segmentation(up))
    best = min(best, (time.perf_counter() - t) / len(infos))
print(best)
"#,
                src = src.to_string_lossy(),
                passes = PER_MAP_PASSES_PYTHON,
            );
            let out = Command::new(py)
                .arg("-c")
                .arg(script)
                .current_dir(sample)
                .output()
                .context("running the per-map Python timing")?;
            if !out.status.success() {
                bail!(
                    "per-map Python timing failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Some(String::from_utf8_lossy(&out.stdout).trim().parse::<f64>()?)
        }
        None => None,
    };
    Ok((best, py))
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
    let stamp = format!("{} ({threads} threads)", cpu_model());
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
        &cases(&scratch.join("sample"), "gt_segmentations_val.json", true),
        bin,
        python.as_ref(),
        &mut rows,
    )?;
    if let Some(val) = val {
        run_cases(
            "val",
            val,
            &cases(&scratch.join("val"), "gt_segmentations_val.json", false),
            bin,
            python.as_ref(),
            &mut rows,
        )?;
    }
    let (ours_map, py_map) = per_map(sample, python.as_ref())?;
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
    Ok(())
}
