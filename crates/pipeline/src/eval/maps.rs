//! Per-CXR tables from heatmap folders: the pointing game (`get_hitrates` of eval.py) and the
//! threshold-free localisation scores, both on the map upsampled to the CXR's size exactly as
//! for segmentation.

use std::collections::HashMap;
use std::path::Path;

use chexlocalize_io::{Segmentations, Task};
use chexlocalize_metrics::{self as metrics, Localisation, ToleranceBoundary};
use chexlocalize_rle::Rle;
use rayon::prelude::*;

use super::{ResultsTable, gt_mask};
use crate::error::{Error, Result};
use crate::heatmaps::{map_and_dims, task_heatmaps};
use crate::options::{Notes, Options};
use crate::progress::{Progress, thread_pool};

/// What a heatmap is scored by.
#[derive(Clone, Copy, Debug)]
pub(super) enum MapScore {
    /// The pointing game with a tolerance in pixels and its boundary rule.
    Hit(f64, ToleranceBoundary),
    /// A threshold-free score.
    Localisation(Localisation),
}

/// One pointing-game outcome: 1 hit, 0 miss, NaN when the ground truth is empty.
fn hit_value(g: &Rle, (row, col): (usize, usize), tolerance: f64, b: ToleranceBoundary) -> f64 {
    if g.is_empty() {
        f64::NAN
    } else if metrics::hit_within(g, row, col, tolerance, b) {
        1.0
    } else {
        0.0
    }
}

/// `get_hitrates` of eval.py (the most salient pixel of each upsampled heatmap), or a
/// threshold-free score of the whole upsampled map.
///
/// The reference labels its rows with the sorted ground-truth ids by position; we join by CXR id,
/// which gives the same table whenever the reference's does not crash, and an error naming the
/// CXR when a ground-truth CXR has no heatmap.
pub(super) fn heatmap_table(
    gt: &Segmentations,
    gt_path: &Path,
    map_dir: &Path,
    score: MapScore,
    options: &Options,
    notes: &Notes,
) -> Result<ResultsTable> {
    let limits = &options.limits;
    let files: Vec<_> = task_heatmaps(map_dir, notes)?
        .into_iter()
        .filter(|(f, _)| gt.contains(&f.cxr_id))
        .collect();
    let ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    for id in &ids {
        if !files.iter().any(|(f, _)| &f.cxr_id == id) {
            return Err(Error::input(
                map_dir,
                format!(
                    "no heatmap for CXR {id} of the ground truth {}",
                    gt_path.display()
                ),
            ));
        }
    }
    let pool = thread_pool(options)?;
    let progress = Progress::new(options, files.len() as u64, "pointing");
    let hits: Vec<f64> = pool.install(|| {
        files
            .par_iter()
            .map(|(f, task)| {
                let g = gt_mask(gt, gt_path, &f.cxr_id, *task)?;
                let rec = chexlocalize_io::read_heatmap(&f.path, limits)?;
                let (map, h, w) = map_and_dims(&rec).map_err(|e| Error::input(&f.path, e))?;
                if (h, w) != (g.height(), g.width()) {
                    return Err(Error::input(
                        &f.path,
                        format!(
                            "cxr_dims give {h}x{w} (h x w) but the ground truth of CXR {}, task {task} is {}x{}",
                            f.cxr_id,
                            g.height(),
                            g.width()
                        ),
                    ));
                }
                let v = match score {
                    MapScore::Hit(tolerance, boundary) => {
                        let point = chexlocalize_saliency::max_point(map.view(), h, w);
                        hit_value(g, point, tolerance, boundary)
                    }
                    // Nothing to find: not scored (and not upsampled).
                    MapScore::Localisation(_) if g.is_empty() => f64::NAN,
                    MapScore::Localisation(which) => {
                        let up = chexlocalize_saliency::upsample_bilinear(map.view(), h, w);
                        let values = up.as_slice().ok_or_else(|| {
                            Error::input(&f.path, "the upsampled map is not contiguous")
                        })?;
                        metrics::localisation(values, g, which)
                            .map_err(|e| Error::input(&f.path, e.to_string()))?
                    }
                };
                progress.inc();
                Ok(v)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    // Columns in order of first appearance, as pandas' DataFrame.from_dict(orient='index').
    let mut tasks: Vec<Task> = Vec::new();
    let mut cells: HashMap<(&str, Task), f64> = HashMap::new();
    for ((f, task), v) in files.iter().zip(hits) {
        if !tasks.contains(task) {
            tasks.push(*task);
        }
        cells.insert((f.cxr_id.as_str(), *task), v);
    }
    let values: Vec<Vec<f64>> = tasks
        .iter()
        .map(|t| {
            ids.iter()
                .map(|id| cells.get(&(id.as_str(), *t)).copied().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    // Hit/miss columns without NaN are int64 in pandas (printed `1`, not `1.0`).
    let int_columns = values
        .iter()
        .map(|c| matches!(score, MapScore::Hit(..)) && c.iter().all(|x| !x.is_nan()))
        .collect();
    Ok(ResultsTable {
        tasks,
        ids,
        values,
        int_columns,
    })
}
