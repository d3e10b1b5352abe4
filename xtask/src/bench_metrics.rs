//! The per-map metrics section of `cargo xtask bench`: the threshold-free localisation scores,
//! HD95 and surface Dice of one real sample map (upsampled to its CXR, as `eval` scores it),
//! ours in-process against their reference packages in one Python process
//! (`python/benchmarks/bench_metrics.py` in the venv `target/py-metrics-venv`), on the same
//! arrays. The values are shown side by side: Quantus breaks ties of the map by its sort order
//! where ours counts them in expectation, so rank-based scores may differ slightly on maps with
//! equal values.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chexlocalize_metrics::{Localisation, Spacing, hd95, localisation, surface_dice};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Threshold, segment_rle, upsample_bilinear};

use crate::pyvenv::{ensure_venv, target_dir};

/// Runs per metric on each side; the best counts.
const REPEAT: usize = 3;
/// `k` of the top-k intersection (as the criterion bench).
const K: usize = 1000;
/// Surface Dice tolerance, pixels.
const TOLERANCE: f64 = 2.0;
/// The per-map goal of the threshold-free metrics, seconds.
const GOAL: f64 = 5e-3;

/// The sample map whose Otsu mask overlaps its ground truth best (a map that localises, as a
/// typical scored map does): the map upsampled to its CXR, the ground truth and the Otsu mask.
fn inputs(sample: &Path) -> Result<(String, Vec<f32>, Rle, Rle)> {
    let limits = chexlocalize_io::Limits::default();
    let gt =
        chexlocalize_io::read_segmentations(&sample.join("gt_segmentations_val.json"), &limits)?;
    let mut best: Option<(f64, String, Vec<f32>, Rle, Rle)> = None;
    for f in chexlocalize_io::list_heatmaps(&sample.join("gradcam_maps_val"))? {
        let Some(task) = f.task else { continue };
        let Some(mask) = gt.get(&f.cxr_id, task).filter(|m| m.area() > 0) else {
            continue;
        };
        let rec = chexlocalize_io::read_heatmap(&f.path, &limits)?;
        let ((mh, mw), (h, w)) = rec
            .segmentation_sizes()
            .map_err(|e| anyhow::anyhow!("{}: {e}", f.path.display()))?;
        let map = ndarray::Array2::from_shape_vec((mh, mw), rec.map.to_f32_vec())?;
        let pred = segment_rle(map.view(), h, w, Threshold::Otsu { smoothing: None })?;
        let iou = pred.iou(mask)?;
        if best.as_ref().is_none_or(|b| iou > b.0) {
            let up = upsample_bilinear(map.view(), h, w)
                .into_raw_vec_and_offset()
                .0;
            let name = format!("{} {}, IoU {iou:.2}", f.cxr_id, task.name());
            best = Some((iou, name, up, mask.clone(), pred));
        }
    }
    let (_, name, up, gt, pred) = best.context("no sample map has a ground-truth mask")?;
    Ok((name, up, gt, pred))
}

/// The best of [`REPEAT`] runs of `f`: seconds and value.
fn best(mut f: impl FnMut() -> Result<f64>) -> Result<(f64, f64)> {
    let (mut t_best, mut value) = (f64::INFINITY, f64::NAN);
    for _ in 0..REPEAT {
        let t = Instant::now();
        value = f()?;
        t_best = t_best.min(t.elapsed().as_secs_f64());
    }
    Ok((t_best, value))
}

/// Writes the section into `md`.
pub(crate) fn write_section(md: &mut String, sample: &Path, scratch: &Path) -> Result<()> {
    let (name, map, gt, pred) = inputs(sample)?;
    let (h, w) = (gt.height(), gt.width());
    let mut ours: Vec<(&str, (f64, f64))> = Vec::new();
    for (key, which) in [
        ("auroc", Localisation::Auroc),
        ("auprc", Localisation::Auprc),
        ("relevance_mass", Localisation::RelevanceMass),
        ("relevance_rank", Localisation::RelevanceRank),
        ("topk_intersection", Localisation::TopKIntersection { k: K }),
        ("energy_pointing_game", Localisation::EnergyPointingGame),
    ] {
        ours.push((key, best(|| Ok(localisation(&map, &gt, which)?))?));
    }
    ours.push(("hd95", best(|| Ok(hd95(&pred, &gt, Spacing::PIXELS)?))?));
    ours.push((
        "surface_dice",
        best(|| Ok(surface_dice(&pred, &gt, Spacing::PIXELS, TOLERANCE)?))?,
    ));
    let peer = peer_times(&map, &gt, &pred, scratch);
    writeln!(md, "\n### Per-map metrics\n")?;
    writeln!(
        md,
        "One sample map ({name}), upsampled to its {w}×{h} CXR as `eval` scores it, against its \
         ground truth (and our Otsu mask of it for HD95 and surface Dice); in-process, \
         single-threaded, best of {REPEAT} runs each side. Peers: Quantus, scikit-learn, numpy \
         and surface-distance in one Python process on the same arrays \
         (`python/benchmarks/bench_metrics.py`){}.\n",
        match &peer {
            Ok(p) => format!("; versions {}", p.versions),
            Err(e) => format!(" — NOT RUN: {e}"),
        }
    )?;
    writeln!(
        md,
        "| metric | peer | peer (ms) | ours (ms) | ratio | peer value | our value |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|")?;
    let mut over = Vec::new();
    for (key, (t, v)) in &ours {
        let p = peer.as_ref().ok().and_then(|p| p.metrics.get(*key));
        let (pt, pv) = p.map_or((None, None), |p| (Some(p.0), Some(p.1)));
        writeln!(
            md,
            "| {key} | {} | {} | {:.2} | {} | {} | {v:.6} |",
            peer_name(key),
            pt.map_or("–".to_owned(), |s| format!("{:.1}", s * 1e3)),
            t * 1e3,
            pt.map_or("–".to_owned(), |s| format!("{:.0}×", s / t)),
            pv.map_or("–".to_owned(), |v| format!("{v:.6}")),
        )?;
        if *t > GOAL && !matches!(*key, "hd95" | "surface_dice") {
            over.push(format!("{key} ({:.1} ms)", t * 1e3));
        }
    }
    if !over.is_empty() {
        writeln!(
            md,
            "\nAbove the goal of ≤ 5 ms per map for the threshold-free metrics: {}.",
            over.join(", ")
        )?;
    }
    Ok(())
}

fn peer_name(key: &str) -> &'static str {
    match key {
        "auroc" => "Quantus `AUC`",
        "auprc" => "scikit-learn `average_precision_score`",
        "relevance_mass" => "Quantus `RelevanceMassAccuracy`",
        "relevance_rank" => "Quantus `RelevanceRankAccuracy`",
        "topk_intersection" => "Quantus `TopKIntersection` (k = 1000)",
        "energy_pointing_game" => "numpy (mass in the mask's box)",
        "hd95" => "surface-distance `compute_robust_hausdorff(.., 95)`",
        _ => "surface-distance `compute_surface_dice_at_tolerance` (2 px)",
    }
}

/// The peers' seconds and values by metric, and their versions.
struct Peer {
    versions: String,
    metrics: std::collections::HashMap<String, (f64, f64)>,
}

fn peer_times(map: &[f32], gt: &Rle, pred: &Rle, scratch: &Path) -> Result<Peer> {
    let (h, w) = (gt.height(), gt.width());
    let dir = scratch.join("metrics");
    std::fs::create_dir_all(&dir)?;
    let dense = |m: &Rle| -> Vec<f32> { m.decode().into_iter().map(f32::from).collect() };
    let write = |file: &str, data: &[f32]| {
        std::fs::write(dir.join(file), chexlocalize_io::npy_bytes(&[h, w], data))
    };
    write("map.npy", map)?;
    write("gt.npy", &dense(gt))?;
    write("pred.npy", &dense(pred))?;
    let py = ensure_venv(
        Path::new("python3"),
        &target_dir().join("py-metrics-venv"),
        &[
            "numpy",
            "scipy",
            "scikit-learn",
            "quantus==0.6.0",
            "surface-distance",
        ],
    )?;
    let script = crate::util::workspace_root().join("python/benchmarks/bench_metrics.py");
    let out = Command::new(&py)
        .arg(&script)
        .arg("--dir")
        .arg(&dir)
        .args(["--k", &K.to_string(), "--tolerance", &TOLERANCE.to_string()])
        .args(["--repeat", &REPEAT.to_string()])
        .output()
        .context("running bench_metrics.py")?;
    if !out.status.success() {
        bail!(
            "bench_metrics.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let versions = v["versions"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let metrics = v["metrics"]
        .as_object()
        .context("bench_metrics.py: expected a \"metrics\" object")?
        .iter()
        .filter_map(|(k, m)| Some((k.clone(), (m["seconds"].as_f64()?, m["value"].as_f64()?))))
        .collect();
    Ok(Peer { versions, metrics })
}
