//! The scaling section of `cargo xtask bench`: wall time of our commands (Otsu segmentation,
//! with and without smoothing, and threshold tuning) on 1×, 2× and 4× the val-scale set, with 1
//! and 2 worker threads, as a table and a chart (`docs/scaling.png`).
//!
//! A k× set is the val set k times under other CXR ids: its heatmaps are symbolic links to the
//! val files named `copy<c>-<name>` (so the page cache holds one copy of the data, as it does for
//! the 1× set), and its ground truth is the val ground truth with every CXR repeated under those
//! ids.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chexlocalize_report::{Series, line_chart};

use crate::bench_cases::{Data, cases, subcommand};
use crate::measure::Measure;

/// The sizes, in val sets.
const SCALES: [usize; 3] = [1, 2, 4];
/// Worker threads (`--jobs`).
const THREADS: [usize; 2] = [1, 2];

/// A k× copy of the val set at `dir` (made once).
fn scaled_set(val: &Path, dir: &Path, k: usize) -> Result<()> {
    let maps = dir.join("gradcam_maps_val");
    if maps.exists() {
        return Ok(());
    }
    let staging = dir.join("gradcam_maps_val.partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let files = chexlocalize_io::list_heatmaps(&val.join("gradcam_maps_val"))?;
    for c in 0..k {
        for f in &files {
            let name = f.path.file_name().context("a heatmap file name")?;
            let name = name.to_string_lossy();
            let link = staging.join(if c == 0 {
                name.into_owned()
            } else {
                format!("copy{c}-{name}")
            });
            link_file(&f.path, &link)?;
        }
    }
    let gt_path = val.join("gt_segmentations_val.json");
    let gt: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(
        &std::fs::read(&gt_path).with_context(|| format!("reading {}", gt_path.display()))?,
    )?;
    let mut scaled = serde_json::Map::new();
    for c in 0..k {
        for (id, v) in &gt {
            let id = if c == 0 {
                id.clone()
            } else {
                format!("copy{c}-{id}")
            };
            scaled.insert(id, v.clone());
        }
    }
    std::fs::write(
        dir.join("gt_segmentations_val.json"),
        serde_json::to_vec(&scaled)?,
    )?;
    std::fs::rename(&staging, &maps)?;
    Ok(())
}

#[cfg(unix)]
fn link_file(target: &Path, link: &Path) -> Result<()> {
    std::os::unix::fs::symlink(target, link).with_context(|| format!("linking {}", link.display()))
}

#[cfg(not(unix))]
fn link_file(target: &Path, link: &Path) -> Result<()> {
    std::fs::copy(target, link).with_context(|| format!("copying to {}", link.display()))?;
    Ok(())
}

/// One timed command at every scale and thread count.
struct Line {
    label: &'static str,
    /// `[scale][threads]`.
    runs: Vec<Vec<Measure>>,
}

/// The val benchmark's cases timed here (with the same arguments).
const TIMED: [&str; 3] = [
    "heatmap_to_segmentation (Otsu)",
    "heatmap_to_segmentation (Otsu, smoothed, k = 5)",
    "tune_heatmap_threshold",
];

/// The commands timed, with their arguments relative to a set's folder and its output `out`.
fn commands(out: &Path) -> Vec<(&'static str, Vec<String>)> {
    cases(out, &Data::VAL)
        .into_iter()
        .filter(|c| TIMED.contains(&c.label))
        .map(|c| {
            let args = std::iter::once(subcommand(c.script)).chain(c.args);
            (c.label, args.collect())
        })
        .collect()
}

/// Writes the scaling section's table into `md` and its chart to `chart` (linked as
/// `chart_link`).
pub(crate) fn write_section(
    md: &mut String,
    bin: &Path,
    val: &Path,
    scratch: &Path,
    chart: &Path,
    chart_link: &str,
) -> Result<()> {
    let maps = chexlocalize_io::list_heatmaps(&val.join("gradcam_maps_val"))?.len();
    let sets: Vec<PathBuf> = SCALES
        .iter()
        .map(|k| scratch.join(format!("scale{k}")))
        .collect();
    for (&k, dir) in SCALES.iter().zip(&sets) {
        scaled_set(val, dir, k)?;
    }
    let timed = commands(Path::new("out"));
    anyhow::ensure!(
        timed.len() == TIMED.len(),
        "the scaling section times {TIMED:?}, but the val cases have only {:?}",
        timed.iter().map(|t| t.0).collect::<Vec<_>>()
    );
    let mut lines: Vec<Line> = Vec::new();
    for (i, (label, _)) in timed.into_iter().enumerate() {
        let mut runs = Vec::new();
        for (&k, dir) in SCALES.iter().zip(&sets) {
            let out = dir.join("out");
            std::fs::create_dir_all(&out)?;
            let args = commands(&out).swap_remove(i).1;
            let mut by_threads = Vec::new();
            for &t in &THREADS {
                let mut a = args.clone();
                a.extend(["--jobs".to_owned(), t.to_string()]);
                if k == SCALES[0] && t == THREADS[0] {
                    crate::measure::measure(bin, &a, dir)?; // warm-up
                }
                let m = crate::measure::measure(bin, &a, dir)?;
                eprintln!(
                    "scaling  {label:<32} {:>5} maps, {t} thread(s): {:.3} s",
                    maps * k,
                    m.seconds
                );
                by_threads.push(m);
            }
            runs.push(by_threads);
        }
        lines.push(Line { label, runs });
    }
    writeln!(md, "\n### Scaling\n")?;
    writeln!(
        md,
        "Wall time of whole processes on 1×, 2× and 4× the val-scale set ({maps} heatmaps per \
         set; a k× set repeats the val CXRs under other ids), with `--jobs 1` and `--jobs 2`; \
         one run each (the first after a warm-up). Chart: [{chart_link}]({chart_link}).\n"
    )?;
    writeln!(
        md,
        "| command | set | heatmaps | 1 thread (s) | 2 threads (s) | 2 threads vs 1 | peak (MB), 2 threads |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|")?;
    for l in &lines {
        for (k, runs) in SCALES.iter().zip(&l.runs) {
            let (one, two) = (&runs[0], &runs[1]);
            writeln!(
                md,
                "| {} | {k}× | {} | {:.3} | {:.3} | {:.2}× | {} |",
                l.label,
                maps * k,
                one.seconds,
                two.seconds,
                one.seconds / two.seconds,
                two.peak_mb.map_or("–".to_owned(), |m| format!("{m:.0}")),
            )?;
        }
    }
    let series: Vec<Series> = lines
        .iter()
        .flat_map(|l| {
            THREADS.iter().enumerate().map(move |(ti, t)| Series {
                name: format!("{}, {t} thread{}", l.label, if *t == 1 { "" } else { "s" }),
                points: SCALES
                    .iter()
                    .zip(&l.runs)
                    .map(|(&k, runs)| ((maps * k) as f64, runs[ti].seconds))
                    .collect(),
            })
        })
        .collect();
    let png = line_chart(
        "Wall time against the number of heatmaps",
        "heatmaps",
        "seconds",
        &series,
        (800, 480),
    )?;
    if let Some(parent) = chart.parent() {
        std::fs::create_dir_all(parent)?;
    }
    chexlocalize_io::write_atomic(chart, &png)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timed_commands_are_the_val_cases() {
        let timed = commands(Path::new("out"));
        let labels: Vec<&str> = timed.iter().map(|t| t.0).collect();
        assert_eq!(labels, TIMED);
        let line = |i: usize| timed[i].1.join(" ");
        assert_eq!(
            line(0),
            "heatmap-to-segmentation --map_dir gradcam_maps_val --output_path out/otsu.json"
        );
        assert_eq!(
            line(1),
            "heatmap-to-segmentation --map_dir gradcam_maps_val --if_smoothing True --k 5 \
             --output_path out/smooth.json"
        );
        assert_eq!(
            line(2),
            "tune-heatmap-threshold --map_dir gradcam_maps_val --gt_path \
             gt_segmentations_val.json --save_dir out/tune_h"
        );
    }
}
