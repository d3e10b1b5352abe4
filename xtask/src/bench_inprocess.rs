//! In-process timings of `cargo xtask bench` (single-threaded, best of several passes, both
//! sides on the same files): the segmentation of one map, and reading heatmap files — ours
//! against torch's unpickler (the original's `CPU_Unpickler`) on the pickles, and against
//! `np.load` on `.npy` copies.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// Runs a Python snippet in `cwd` that prints one number (seconds per item).
fn python_seconds(py: &Path, script: &str, cwd: &Path, what: &str) -> Result<f64> {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .current_dir(cwd)
        .output()
        .with_context(|| format!("running the {what} Python timing"))?;
    if !out.status.success() {
        bail!(
            "{what} Python timing failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse::<f64>()
        .with_context(|| format!("{what} Python timing printed {text:?}"))
}

/// Per map, in-process and single-threaded: Otsu segmentation of each sample map (load the
/// pickle, upsample, threshold, contours, fill, RLE), ours and the reference's functions.
/// Passes over the sample maps for the per-map timing of ours, and of Python (whose passes take
/// twenty times longer): about five seconds of passes on each side, so that the best pass of each
/// is taken over a similar stretch of the machine's (shared, noisy) time.
const PER_MAP_PASSES: usize = 100;
const PER_MAP_PASSES_PYTHON: usize = 10;

pub(crate) fn per_map(
    sample: &Path,
    python: Option<&(PathBuf, PathBuf)>,
) -> Result<(f64, Option<f64>)> {
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
            Some(python_seconds(py, &script, sample, "per-map")?)
        }
        None => None,
    };
    Ok((best, py))
}

/// Passes over the files when timing reads (the best pass counts; the first warms the page
/// cache).
const READ_PASSES: usize = 5;

/// Heatmap reading, per file, in-process and single-threaded.
pub(crate) struct Reading {
    /// Pickles read.
    pub(crate) pickles: usize,
    /// Ours (`chexlocalize_io::read_heatmap`: the whole record, limits in force) per pickle.
    pub(crate) ours_pkl: f64,
    /// The original's `CPU_Unpickler(f).load()` (torch) per pickle.
    pub(crate) torch_pkl: Option<f64>,
    /// `.npy` copies read.
    pub(crate) npys: usize,
    /// Ours per `.npy` heatmap (array and its JSON sidecar).
    pub(crate) ours_npy: f64,
    /// `np.load` per `.npy` (the array alone).
    pub(crate) numpy_npy: Option<f64>,
}

/// The best pass of `f` over `paths`, per path.
fn best_per_file(paths: &[PathBuf], mut f: impl FnMut(&Path) -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..READ_PASSES {
        let t = Instant::now();
        for p in paths {
            f(p)?;
        }
        best = best.min(t.elapsed().as_secs_f64() / paths.len().max(1) as f64);
    }
    Ok(best)
}

/// Times reading every heatmap pickle of `data/gradcam_maps_val` (ours and torch's), and `.npy`
/// copies of the first `npys` of them written under `scratch` (ours and `np.load`).
pub(crate) fn reading(
    data: &Path,
    scratch: &Path,
    npys: usize,
    python: Option<&(PathBuf, PathBuf)>,
) -> Result<Reading> {
    let limits = chexlocalize_io::Limits::default();
    let files = chexlocalize_io::list_heatmaps(&data.join("gradcam_maps_val"))?;
    let pkl: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let npy_dir = scratch.join("npy");
    std::fs::create_dir_all(&npy_dir)?;
    let mut npy = Vec::new();
    for p in pkl.iter().take(npys) {
        let rec = chexlocalize_io::read_heatmap(p, &limits)?;
        let name = p.file_name().map(Path::new).unwrap_or(p);
        let out = npy_dir.join(name).with_extension("npy");
        chexlocalize_io::write_npy_heatmap(&out, &rec)?;
        npy.push(out);
    }
    let read = |p: &Path| -> Result<()> {
        std::hint::black_box(chexlocalize_io::read_heatmap(p, &limits)?);
        Ok(())
    };
    let ours_pkl = best_per_file(&pkl, read)?;
    let ours_npy = best_per_file(&npy, read)?;
    let (mut torch_pkl, mut numpy_npy) = (None, None);
    if let Some((py, src)) = python {
        // The paths go through a file: thousands of them are too long for one argument.
        let list = |name: &str, paths: &[PathBuf]| -> Result<String> {
            let file = scratch.join(name);
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            std::fs::write(&file, serde_json::to_vec(&names)?)?;
            Ok(format!("json.load(open({:?}))", file.display().to_string()))
        };
        let script = |setup: &str, load: &str, paths: String| {
            format!(
                r#"
import json, sys, time
sys.path.insert(0, {src:?})
{setup}
paths = {paths}
best = float('inf')
for _ in range({READ_PASSES}):
    t = time.perf_counter()
    for p in paths:
        {load}
    best = min(best, (time.perf_counter() - t) / len(paths))
print(best)
"#,
                src = src.to_string_lossy(),
            )
        };
        let torch = script(
            "import torch\nfrom utils import CPU_Unpickler\ntorch.set_num_threads(1)",
            "CPU_Unpickler(open(p, 'rb')).load()",
            list("pickles.json", &pkl)?,
        );
        torch_pkl = Some(python_seconds(py, &torch, data, "torch unpickler")?);
        let numpy = script("import numpy as np", "np.load(p)", list("npys.json", &npy)?);
        numpy_npy = Some(python_seconds(py, &numpy, data, "np.load")?);
    }
    Ok(Reading {
        pickles: pkl.len(),
        ours_pkl,
        torch_pkl,
        npys: npy.len(),
        ours_npy,
        numpy_npy,
    })
}
