//! `chexlocalize baseline`: heatmaps of "no model", so every report, comparison and leaderboard
//! can show what a method must beat.
//!
//! One `<cxr_id>_<task>_map.pkl` per CXR of the ground truth and per task, in the format the
//! commands read (`1 × 1 × S × S` float32, `cxr_dims` from the ground truth, `prob` 1.0 so the
//! probability threshold of `heatmap-to-segmentation` never empties it):
//!
//! - [`BaselineKind::Center`]: an isotropic Gaussian at the image centre (σ = a quarter of the
//!   side), the centre-point baseline of TorchRay's pointing game made a heatmap;
//! - [`BaselineKind::Uniform`]: a constant map (chance for every rank-based score; its first
//!   maximum, the pointing game's point, is the top-left pixel);
//! - [`BaselineKind::Prior`]: per task, the mean of the ground-truth masks of a *training*
//!   split's CXRs where the task is present, each resized to `S × S` by area (the share of each
//!   cell the mask covers): where the pathology usually is.

use std::path::{Path, PathBuf};

use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, TensorData, Value};
use chexlocalize_io::{HeatmapRecord, Segmentations, Task};
use chexlocalize_rle::Rle;

use crate::error::{Error, Result};
use crate::options::{Notes, Options, Outcome};

/// The sides a baseline map may have.
pub const BASELINE_MAP_SIDES: std::ops::RangeInclusive<usize> = 8..=1024;

/// Which baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaselineKind {
    /// A Gaussian at the centre.
    Center,
    /// A constant map.
    Uniform,
    /// The per-task mean mask of a training split's ground truth (a segmentation JSON).
    Prior {
        /// The training split's segmentation JSON (not the set being evaluated).
        train_gt: PathBuf,
    },
}

/// Inputs of [`baseline`].
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Which maps.
    pub kind: BaselineKind,
    /// The segmentation JSON of the set to make maps for (its CXR ids and sizes).
    pub gt_path: PathBuf,
    /// The folder to write the heatmaps into (created if missing).
    pub out_dir: PathBuf,
    /// The maps' side `S` (8 to 1024; 64 is plenty for a smooth map, upsampled like any other).
    pub map_side: usize,
}

/// Writes the baseline heatmaps: all of them, or (on an error) none of those it began.
pub fn baseline(args: &Baseline, options: &Options) -> Result<Outcome> {
    let s = args.map_side;
    if !BASELINE_MAP_SIDES.contains(&s) {
        return Err(Error::Options(format!(
            "map side: expected {} to {}, found {s}",
            BASELINE_MAP_SIDES.start(),
            BASELINE_MAP_SIDES.end()
        )));
    }
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, &options.limits)?;
    let maps: Vec<(Task, Vec<f32>)> = match &args.kind {
        BaselineKind::Center => Task::ALL.iter().map(|&t| (t, center(s))).collect(),
        BaselineKind::Uniform => Task::ALL.iter().map(|&t| (t, vec![1.0; s * s])).collect(),
        BaselineKind::Prior { train_gt } => {
            let train = chexlocalize_io::read_segmentations(train_gt, &options.limits)?;
            Task::ALL
                .iter()
                .map(|&t| Ok((t, prior(&train, train_gt, t, s)?)))
                .collect::<Result<_>>()?
        }
    };
    let notes = Notes::default();
    let mut written: Vec<PathBuf> = Vec::new();
    let result = write_all(&gt, &args.gt_path, &maps, s, &args.out_dir, &mut written);
    if let Err(e) = result {
        for p in &written {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    notes.info(format!(
        "{} baseline heatmaps written to {}",
        written.len(),
        args.out_dir.display()
    ));
    Ok(notes.outcome(written))
}

fn write_all(
    gt: &Segmentations,
    gt_path: &Path,
    maps: &[(Task, Vec<f32>)],
    s: usize,
    out: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::input(out, format!("creating it: {e}")))?;
    for id in gt.sorted_ids() {
        for (task, map) in maps {
            let g = gt
                .get(id, *task)
                .ok_or_else(|| Error::input(gt_path, format!("CXR {id}: no mask for {task}")))?;
            let rec = HeatmapRecord {
                map: Tensor::new(vec![1, 1, s, s], TensorData::F32(map.clone()))
                    .map_err(|e| Error::Options(format!("map: {e}")))?,
                prob: Prob::Float(1.0),
                task: task.name().to_owned(),
                gt: Value::None,
                cxr_img: CxrImg::Path(String::new()),
                cxr_dims: (g.width() as i64, g.height() as i64),
            };
            let path = out.join(format!("{id}_{}_map.pkl", task.name()));
            chexlocalize_io::write_heatmap(&path, &rec, 3)?;
            written.push(path);
        }
    }
    Ok(())
}

/// A Gaussian at the centre of an `s × s` map, σ = s / 4, peak 1.
fn center(s: usize) -> Vec<f32> {
    let c = (s as f64 - 1.0) / 2.0;
    let sigma = s as f64 / 4.0;
    (0..s * s)
        .map(|i| {
            let (r, q) = ((i / s) as f64 - c, (i % s) as f64 - c);
            (-(r * r + q * q) / (2.0 * sigma * sigma)).exp() as f32
        })
        .collect()
}

/// The mean, over the CXRs where `task` is present, of the share of each of `s × s` cells that
/// the mask covers (a pixel belongs to the cell its top-left corner falls in). A task present
/// nowhere gives a constant map.
fn prior(train: &Segmentations, path: &Path, task: Task, s: usize) -> Result<Vec<f32>> {
    let mut sum = vec![0.0f64; s * s];
    let mut n = 0usize;
    for id in train.sorted_ids() {
        let g = train
            .get(id, task)
            .ok_or_else(|| Error::input(path, format!("CXR {id}: no mask for {task}")))?;
        if g.is_empty() {
            continue;
        }
        n += 1;
        add_cell_shares(g, s, &mut sum);
    }
    Ok(if n == 0 {
        vec![1.0; s * s]
    } else {
        sum.iter().map(|v| (v / n as f64) as f32).collect()
    })
}

/// Adds to `sum` each cell's covered share of `g`, walking its column-major runs.
fn add_cell_shares(g: &Rle, s: usize, sum: &mut [f64]) {
    let (h, w) = (g.height(), g.width());
    let cell_of = |p: usize, n: usize| p * s / n;
    // Pixels per cell along each axis, for the shares.
    let mut rows_in = vec![0usize; s];
    for r in 0..h {
        rows_in[cell_of(r, h)] += 1;
    }
    let mut cols_in = vec![0usize; s];
    for c in 0..w {
        cols_in[cell_of(c, w)] += 1;
    }
    let mut pos = 0usize;
    for (i, &run) in g.runs().iter().enumerate() {
        let run = run as usize;
        if i % 2 == 1 {
            for p in pos..pos + run {
                let (c, r) = (p / h, p % h);
                let (cr, cc) = (cell_of(r, h), cell_of(c, w));
                sum[cr * s + cc] += 1.0 / (rows_in[cr] * cols_in[cc]) as f64;
            }
        }
        pos += run;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn center_peaks_in_the_middle_and_prior_shares_are_areas() {
        let m = center(8);
        let at = |r: usize, c: usize| m[r * 8 + c];
        assert!(at(3, 3) > at(0, 0) && at(4, 4) == at(3, 3));
        // A 4×4 mask whose left half is set, on a 2×2 map: the left cells fully covered.
        let mut mask = vec![0u8; 16];
        for r in 0..4 {
            mask[r * 4] = 1;
            mask[r * 4 + 1] = 1;
        }
        let g = Rle::encode(&mask, 4, 4).expect("mask");
        let mut sum = vec![0.0; 4];
        add_cell_shares(&g, 2, &mut sum);
        assert_eq!(sum, [1.0, 0.0, 1.0, 0.0]);
        // A single pixel covers a quarter of its cell.
        let mut one = vec![0u8; 16];
        one[15] = 1;
        let mut sum = vec![0.0; 4];
        add_cell_shares(&Rle::encode(&one, 4, 4).expect("mask"), 2, &mut sum);
        assert_eq!(sum, [0.0, 0.0, 0.0, 0.25]);
    }
}
