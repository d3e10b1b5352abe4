//! The masks of a segmentation file, `{cxr_id: {task: {"size": [h, w], "counts": "..."}}}`, and
//! their writer (the reader is `seg_reader`).

use std::collections::HashMap;
use std::path::Path;

use chexlocalize_rle::Rle;

use crate::pyfmt::push_json_string;
use crate::{IoError, Task, write_atomic};

/// The masks of one CXR, per task.
#[derive(Clone, Debug, PartialEq)]
pub struct CxrMasks {
    /// The CXR id.
    pub cxr_id: String,
    /// Masks in insertion (file) order.
    pub masks: Vec<(Task, Rle)>,
}

/// A segmentation file: `{cxr_id: {task: {"size": [h, w], "counts": "..."}, ...}, ...}`.
#[derive(Clone, Debug, Default)]
pub struct Segmentations {
    cxrs: Vec<CxrMasks>,
    index: HashMap<String, usize>,
    ignored: Vec<(String, String)>,
}

impl PartialEq for Segmentations {
    fn eq(&self, other: &Self) -> bool {
        self.cxrs == other.cxrs
    }
}

/// Why [`Segmentations::insert`] refused a mask.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("duplicate mask for CXR {cxr_id}, task {task}")]
pub struct DuplicateMask {
    /// The CXR id.
    pub cxr_id: String,
    /// The task.
    pub task: Task,
}

impl Segmentations {
    /// An empty set of masks.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `cxr_id`'s entry, created (without masks) when missing.
    pub(super) fn entry(&mut self, cxr_id: &str) -> usize {
        match self.index.get(cxr_id) {
            Some(&i) => i,
            None => {
                self.cxrs.push(CxrMasks {
                    cxr_id: cxr_id.to_owned(),
                    masks: Vec::new(),
                });
                self.index.insert(cxr_id.to_owned(), self.cxrs.len() - 1);
                self.cxrs.len() - 1
            }
        }
    }

    /// Adds a mask to the entry at `index` (the reader has checked that its task has none).
    pub(super) fn push_mask(&mut self, index: usize, task: Task, rle: Rle) {
        self.cxrs[index].masks.push((task, rle));
    }

    /// Records a key of `cxr_id` that is not a task (see [`Segmentations::ignored_keys`]).
    pub(super) fn ignore(&mut self, cxr_id: &str, key: &str) {
        self.ignored.push((cxr_id.to_owned(), key.to_owned()));
    }

    /// Adds a mask; a second mask for the same CXR and task is refused.
    pub fn insert(&mut self, cxr_id: &str, task: Task, rle: Rle) -> Result<(), DuplicateMask> {
        let i = self.entry(cxr_id);
        let entry = &mut self.cxrs[i];
        if entry.masks.iter().any(|(t, _)| *t == task) {
            return Err(DuplicateMask {
                cxr_id: cxr_id.to_owned(),
                task,
            });
        }
        entry.masks.push((task, rle));
        Ok(())
    }

    /// The mask of `cxr_id` for `task`, if present.
    pub fn get(&self, cxr_id: &str, task: Task) -> Option<&Rle> {
        let cxr = &self.cxrs[*self.index.get(cxr_id)?];
        cxr.masks.iter().find(|(t, _)| *t == task).map(|(_, r)| r)
    }

    /// Whether the file has an entry for `cxr_id`.
    pub fn contains(&self, cxr_id: &str) -> bool {
        self.index.contains_key(cxr_id)
    }

    /// The CXRs in file order.
    pub fn cxrs(&self) -> &[CxrMasks] {
        &self.cxrs
    }

    /// The CXR ids sorted as Python's `sorted()` sorts strings (by code point).
    pub fn sorted_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.cxrs.iter().map(|c| c.cxr_id.as_str()).collect();
        ids.sort_unstable();
        ids
    }

    /// Number of CXRs.
    pub fn len(&self) -> usize {
        self.cxrs.len()
    }

    /// Whether there is no CXR.
    pub fn is_empty(&self) -> bool {
        self.cxrs.is_empty()
    }

    /// Keys that were read but are not CheXlocalize tasks, as `(cxr_id, key)`; the reference
    /// ignores them, and so do the commands (`validate-submission` reports them).
    pub fn ignored_keys(&self) -> &[(String, String)] {
        &self.ignored
    }

    /// The JSON text `json.dump` would write for the same dict (insertion order kept).
    pub fn to_json_string(&self) -> String {
        let mut out = String::with_capacity(64 + self.cxrs.len() * 1024);
        out.push('{');
        for (i, cxr) in self.cxrs.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            push_json_string(&mut out, &cxr.cxr_id);
            out.push_str(": {");
            for (j, (task, rle)) in cxr.masks.iter().enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                push_json_string(&mut out, task.name());
                out.push_str(&format!(
                    ": {{\"size\": [{}, {}], \"counts\": ",
                    rle.height(),
                    rle.width()
                ));
                push_json_string(&mut out, &rle.to_counts_string());
                out.push('}');
            }
            out.push('}');
        }
        out.push('}');
        out
    }
}

/// Writes masks as `json.dump` would, atomically.
pub fn write_segmentations(path: &Path, segs: &Segmentations) -> Result<(), IoError> {
    write_atomic(path, segs.to_json_string().as_bytes())
}
