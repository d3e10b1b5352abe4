//! `compute_pathology_features` and the feature tables that the plot and regression stages read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chexlocalize_features::{MaskFeatures, mask_features_in};
use chexlocalize_io::layout::FEATURE_FILES;
use chexlocalize_io::{CsvTable, CsvWriter, Field, Limits, Task};
use chexlocalize_rle::Rle;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::options::{Notes, Options, Outcome};
use crate::progress::{Progress, thread_pool};

/// Inputs of [`compute_pathology_features`] (`compute_pathology_features.py`).
#[derive(Clone, Debug)]
pub struct ComputePathologyFeatures {
    /// Ground-truth annotation JSON (polygons: gives the number of instances).
    pub gt_ann: PathBuf,
    /// Ground-truth segmentation JSON (masks: gives area, elongation, irrectangularity).
    pub gt_seg: PathBuf,
    /// Where to write `num_instances.csv`, `area_ratio.csv`, `elongation.csv`,
    /// `rec_area_ratio.csv`.
    pub save_dir: PathBuf,
}

/// Number of instances, area ratio, elongation and rectangularity of every ground-truth mask
/// (`compute_pathology_features.py`): all four files or none.
pub fn compute_pathology_features(
    args: &ComputePathologyFeatures,
    options: &Options,
) -> Result<Outcome> {
    let limits = &options.limits;
    let notes = Notes::default();
    let ann = chexlocalize_io::read_annotations(&args.gt_ann, limits)?;
    let seg = chexlocalize_io::read_segmentations(&args.gt_seg, limits)?;
    let mut ids: Vec<&str> = ann.cxrs.iter().map(|c| c.cxr_id.as_str()).collect();
    ids.sort_unstable();
    // Only CXRs of the annotation file that also have masks are measured (`img_id in pos_ids`).
    let jobs: Vec<(usize, Task)> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| seg.contains(id))
        .flat_map(|(r, _)| Task::SORTED.into_iter().map(move |t| (r, t)))
        .collect();
    let pool = thread_pool(options)?;
    let progress = Progress::new(options, jobs.len() as u64, "features");
    let measured: Vec<((usize, Task), Option<MaskFeatures>)> = pool.install(|| {
        jobs.par_iter()
            .map(|&(r, task)| {
                let id = ids[r];
                let rle = seg.get(id, task).ok_or_else(|| {
                    Error::input(
                        &args.gt_seg,
                        format!("CXR {id}: expected a mask for task {task}"),
                    )
                })?;
                progress.inc();
                // Only the bounding box of the set pixels is decoded and traced.
                let Some((crop, offset)) = crop_of(rle) else {
                    return Ok(((r, task), None));
                };
                let image = (rle.height(), rle.width());
                let pixels = rle.area() as usize;
                Ok(((r, task), mask_features_in(&crop, offset, image, pixels)))
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    let measured: BTreeMap<(usize, Task), MaskFeatures> = measured
        .into_iter()
        .filter_map(|(k, f)| f.map(|f| (k, f)))
        .collect();
    for (&(r, task), f) in &measured {
        if f.degenerate {
            notes.warn(format!(
                "warning: {}: CXR {}, task {task}: the longest contour ({} points) is a single \
                 pixel or a 1-pixel-wide line, its minimum-area rectangle has a zero side; \
                 elongation and rec_area_ratio left empty (NaN) (the reference divides by zero \
                 and stops here)",
                args.gt_seg.display(),
                ids[r],
                f.longest_contour_len
            ));
        }
    }
    let cxr_ann: BTreeMap<&str, &chexlocalize_io::CxrAnnotations> =
        ann.cxrs.iter().map(|c| (c.cxr_id.as_str(), c)).collect();
    let header: Vec<&str> = Task::SORTED
        .iter()
        .map(|t| t.name())
        .chain(["img_id"])
        .collect();
    let mut files: Vec<CsvWriter> = (0..4).map(|_| CsvWriter::new()).collect();
    for f in &mut files {
        f.row(header.iter().copied());
    }
    // Parity: `area` starts as the Python int 0 and becomes a float only for a non-empty mask, so
    // pandas prints a task's column as ints (`0`) when no CXR has that pathology, else as floats
    // (`0.0` for the empty ones).
    let float_area: Vec<bool> = Task::SORTED
        .iter()
        .map(|t| measured.keys().any(|(_, task)| task == t))
        .collect();
    for (r, id) in ids.iter().enumerate() {
        let mut rows: [Vec<Field>; 4] = Default::default();
        for (c, &task) in Task::SORTED.iter().enumerate() {
            let (n, area, elong, rec) = match measured.get(&(r, task)) {
                // Parity: the number of instances is the number of annotated polygons, counted
                // only where the mask is non-empty.
                Some(f) => (
                    cxr_ann[id].polygons(task).len() as i64,
                    f.area_ratio,
                    f.elongation,
                    f.rec_area_ratio,
                ),
                None => (0, 0.0, f64::NAN, f64::NAN),
            };
            rows[0].push(Field::Int(n));
            rows[1].push(if float_area[c] {
                Field::Float(area)
            } else {
                Field::Int(0)
            });
            rows[2].push(Field::Float(elong));
            rows[3].push(Field::Float(rec));
        }
        for (w, mut row) in files.iter_mut().zip(rows) {
            row.push(Field::from(*id));
            w.row(row);
        }
    }
    // All four files or none.
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        FEATURE_FILES
            .iter()
            .zip(&files)
            .map(|(n, w)| (n, w.as_str().as_bytes())),
    )?;
    notes.info(format!(
        "features of {} CXRs written to {}",
        ids.len(),
        args.save_dir.display()
    ));
    Ok(notes.outcome(paths))
}

/// One row of the pooled regression / plot data: a CXR with a ground-truth instance of a task.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FeatureRow {
    pub(crate) task: Task,
    pub(crate) cxr_id: String,
    pub(crate) n_instance: f64,
    pub(crate) area_ratio: f64,
    pub(crate) elongation: f64,
    pub(crate) irrectangularity: f64,
}

/// The feature names and axis labels of the reference's plots and regressions.
pub(crate) const FEATURES: [(&str, &str); 4] = [
    ("n_instance", "Number of Instances"),
    ("area_ratio", "Area Ratio"),
    ("elongation", "Elongation"),
    ("irrectangularity", "Irrectangularity"),
];

impl FeatureRow {
    /// The value of feature `i` of [`FEATURES`].
    pub(crate) fn feature(&self, i: usize) -> f64 {
        [
            self.n_instance,
            self.area_ratio,
            self.elongation,
            self.irrectangularity,
        ][i]
    }
}

/// Reads the four feature files of `dir` and pools them as `plot_pathology_features.py` and
/// `regression_pathology_features.py` do: for each task in sorted order, the CXRs (in file order)
/// with at least one instance of that task; irrectangularity is `1 - rec_area_ratio`.
///
/// The four files are joined by `img_id` (the reference joins them by row position; the files
/// that `compute-pathology-features` writes list the same CXRs in the same order, so this is the
/// same wherever the reference is right, and an error where the files disagree).
pub(crate) fn read_feature_rows(dir: &Path, limits: &Limits) -> Result<Vec<FeatureRow>> {
    let tables: Vec<CsvTable> = FEATURE_FILES
        .iter()
        .map(|f| CsvTable::read(&dir.join(f), limits))
        .collect::<Result<_, _>>()?;
    let id_col = |t: &CsvTable| t.column("img_id");
    let ids: Vec<&str> = {
        let c = id_col(&tables[0])?;
        tables[0].rows.iter().map(|r| r[c].as_str()).collect()
    };
    let mut lookups: Vec<BTreeMap<&str, usize>> = Vec::new();
    for t in &tables {
        let c = id_col(t)?;
        let m: BTreeMap<&str, usize> = t
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r[c].as_str(), i))
            .collect();
        if m.len() != t.rows.len() {
            return Err(Error::input(&t.path, "expected each img_id once"));
        }
        for id in &ids {
            if !m.contains_key(id) {
                return Err(Error::input(
                    &t.path,
                    format!(
                        "no row for CXR {id} (listed in {})",
                        tables[0].path.display()
                    ),
                ));
            }
        }
        lookups.push(m);
    }
    let mut columns: Vec<Vec<usize>> = Vec::new();
    for t in &tables {
        columns.push(
            Task::SORTED
                .iter()
                .map(|task| t.column(task.name()))
                .collect::<Result<_, _>>()?,
        );
    }
    let value = |k: usize, id: &str, task_i: usize| -> Result<f64> {
        Ok(tables[k].f64_at(lookups[k][id], columns[k][task_i])?)
    };
    // Parity: CXRs whose instance counts are all 0 are dropped first (`eq(0).all(1)`).
    let mut positive = Vec::new();
    for id in &ids {
        let mut any = false;
        for ti in 0..Task::SORTED.len() {
            any |= value(0, id, ti)? != 0.0;
        }
        if any {
            positive.push(*id);
        }
    }
    let mut rows = Vec::new();
    for (ti, &task) in Task::SORTED.iter().enumerate() {
        for id in &positive {
            let n = value(0, id, ti)?;
            // Parity: `df[df.n_instance > 0]` (NaN is not > 0).
            if n > 0.0 {
                rows.push(FeatureRow {
                    task,
                    cxr_id: (*id).to_owned(),
                    n_instance: n,
                    area_ratio: value(1, id, ti)?,
                    elongation: value(2, id, ti)?,
                    irrectangularity: 1.0 - value(3, id, ti)?,
                });
            }
        }
    }
    Ok(rows)
}

/// The bounding box of `rle`'s set pixels, decoded, and its top-left `(row, col)`; `None` for an
/// empty mask. Runs are column-major: a run within one column spans its rows, a run across
/// columns spans every row of the columns it touches.
fn crop_of(rle: &Rle) -> Option<(ndarray::Array2<u8>, (usize, usize))> {
    let h = rle.height();
    let (mut r0, mut r1, mut c0, mut c1) = (usize::MAX, 0, usize::MAX, 0);
    let mut pos = 0usize;
    let mut set = Vec::new();
    for (i, &n) in rle.runs().iter().enumerate() {
        let n = n as usize;
        if i % 2 == 1 && n > 0 {
            let (first, last) = (pos, pos + n - 1);
            let (fc, lc) = (first / h, last / h);
            let (fr, lr) = if fc == lc {
                (first % h, last % h)
            } else {
                (0, h - 1)
            };
            (r0, r1, c0, c1) = (r0.min(fr), r1.max(lr), c0.min(fc), c1.max(lc));
            set.push((first, last));
        }
        pos += n;
    }
    if set.is_empty() {
        return None;
    }
    let (ch, cw) = (r1 - r0 + 1, c1 - c0 + 1);
    let mut buf = vec![0u8; ch * cw];
    for (first, last) in set {
        // Column by column: the run's part in each column is one range of rows.
        for c in first / h..=last / h {
            let top = if c == first / h { first % h } else { 0 };
            let bottom = if c == last / h { last % h } else { h - 1 };
            let col = c - c0;
            for cell in buf[(top - r0) * cw + col..=(bottom - r0) * cw + col]
                .iter_mut()
                .step_by(cw)
            {
                *cell = 1;
            }
        }
    }
    let crop = ndarray::Array2::from_shape_vec((ch, cw), buf).ok()?;
    Some((crop, (r0, c0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chexlocalize_features::mask_features;

    /// The cropped path gives the full image's features, whatever the mask touches.
    #[test]
    fn cropping_to_the_set_pixels_changes_no_feature() {
        let (h, w) = (37, 53);
        let shapes: [&dyn Fn(usize, usize) -> bool; 5] = [
            &|r, c| (5..20).contains(&r) && (7..30).contains(&c),
            &|r, c| (r as f64 - 18.0).powi(2) / 90.0 + (c as f64 - 25.0).powi(2) / 300.0 < 1.0,
            &|r, c| r < 3 || c + 2 >= w || (r * 7 + c * 3) % 11 == 0,
            &|r, c| (r + c) % 9 == 0 && r > 10,
            &|r, _| r == h - 1,
        ];
        for (i, f) in shapes.iter().enumerate() {
            let m: Vec<u8> = (0..h * w).map(|p| u8::from(f(p / w, p % w))).collect();
            let rle = Rle::encode(&m, h, w).expect("mask");
            let full = ndarray::Array2::from_shape_vec((h, w), m).expect("shape");
            let (crop, offset) = crop_of(&rle).expect("not empty");
            // Debug text: NaN features (degenerate rectangles) compare equal there.
            assert_eq!(
                format!(
                    "{:?}",
                    mask_features_in(&crop, offset, (h, w), rle.area() as usize)
                ),
                format!("{:?}", mask_features(&full)),
                "shape {i}"
            );
        }
        assert!(crop_of(&Rle::empty(4, 4)).is_none());
    }
}
