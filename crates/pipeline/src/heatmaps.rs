//! Heatmap pickles as the commands use them: listing by task, the 2-D map and its target size.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::pickle::Prob;
use chexlocalize_io::{HeatmapFile, HeatmapRecord, Task};

use crate::error::{Error, Result};
use crate::options::Notes;

/// The probability of a record for `task`.
///
/// Parity: `pkl_to_mask` uses `prob[CHEXPERT_TASKS.index(task)].item()` for a 14-element tensor
/// (a float32 widened to a Python float) and the value itself otherwise. A one-element tensor
/// compares like its element there; any other tensor makes the reference crash and is an error.
pub(crate) fn task_probability(rec: &HeatmapRecord, task: Task) -> Result<f64, String> {
    probability_for(&rec.prob, task)
}

/// [`task_probability`] of a record's `prob` alone.
pub(crate) fn probability_for(prob: &Prob, task: Task) -> Result<f64, String> {
    match prob {
        Prob::Float(x) => Ok(*x),
        Prob::Tensor(t) => {
            let v = t.to_f64_vec();
            match v.len() {
                14 if t.shape.len() == 1 => Ok(v[task.chexpert_index()]),
                1 => Ok(v[0]),
                n => Err(format!(
                    "prob: expected a float or a 14-element CheXpert probability vector, found a tensor of {n} elements"
                )),
            }
        }
    }
}

/// The map of a record as a 2-D `(h, w)` float32 array (the reference squeezes it), and the CXR
/// size `(h, w)` it is upsampled to.
pub(crate) fn map_and_dims(
    rec: &HeatmapRecord,
) -> Result<(ndarray::Array2<f32>, usize, usize), String> {
    let ((mh, mw), (h, w)) = rec.segmentation_sizes()?;
    let map = ndarray::Array2::from_shape_vec((mh, mw), rec.map.to_f32_vec())
        .map_err(|e| format!("map: {e}"))?;
    Ok((map, h, w))
}

/// Lists the heatmaps of `dir`, keeping the ten tasks and refusing duplicate (CXR, task) pairs.
pub(crate) fn task_heatmaps(dir: &Path, notes: &Notes) -> Result<Vec<(HeatmapFile, Task)>> {
    let files = chexlocalize_io::list_heatmaps(dir)?;
    let mut seen: HashMap<(String, Task), PathBuf> = HashMap::new();
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let Some(task) = f.task else {
            notes.warn(format!(
                "skipping {}: {:?} is not a CheXlocalize task",
                f.path.display(),
                f.task_name
            ));
            continue;
        };
        if let Some(first) = seen.insert((f.cxr_id.clone(), task), f.path.clone()) {
            return Err(Error::input(
                dir,
                format!(
                    "two heatmaps for CXR {}, task {task}: {} and {}",
                    f.cxr_id,
                    first.display(),
                    f.path.display()
                ),
            ));
        }
        out.push((f, task));
    }
    if out.is_empty() {
        // The reference writes its empty output silently; a user who pointed at the wrong
        // folder should hear about it.
        notes.warn(format!(
            "no heatmaps of the ten tasks under {}: expected files named \
             <cxr_id>_<task>_map.pkl, _map.pt or _map.npy (searched recursively)",
            dir.display()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Level;

    fn warnings(dir: &Path) -> Vec<String> {
        let notes = Notes::default();
        task_heatmaps(dir, &notes).expect("listing");
        let outcome = notes.outcome(Vec::new());
        outcome
            .notes
            .into_iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.text)
            .collect()
    }

    #[test]
    fn a_folder_without_heatmaps_is_warned_about() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("notes.txt"), "not a heatmap").expect("write");
        let w = warnings(dir.path());
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(
            w[0].starts_with("no heatmaps of the ten tasks under "),
            "{w:?}"
        );
        assert!(w[0].contains(&dir.path().display().to_string()), "{w:?}");
        // A heatmap of another task only is skipped, and the folder is still empty of the ten.
        std::fs::write(
            dir.path().join("p1_study1_view1_frontal_Fracture_map.pkl"),
            b"",
        )
        .expect("write");
        let w = warnings(dir.path());
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[1].starts_with("no heatmaps of the ten tasks"), "{w:?}");
    }

    #[test]
    fn a_folder_with_a_heatmap_is_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("p1_study1_view1_frontal_Edema_map.pkl"),
            b"",
        )
        .expect("write");
        assert!(warnings(dir.path()).is_empty());
    }
}
