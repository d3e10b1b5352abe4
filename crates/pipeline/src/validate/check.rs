//! Walking the submission: every problem of the segmentation JSON and the heatmap folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::{
    HEATMAP_SUFFIXES, Limits, MaskFault, Problems, SegProblem, Task, parse_segmentations_with,
};
use rayon::prelude::*;
use serde_json::Value;

use super::report::{escape_name, escape_path};
use super::{Expected, Kind, Problem, Report};
use crate::error::Result;
use crate::heatmaps::{map_and_dims, task_probability};
use crate::options::Options;
use crate::progress::thread_pool_for;

/// Checks the segmentation JSON with the segmentation reader's list-every-problem mode; returns
/// (CXRs, masks) found.
pub(super) fn check_segmentations(
    path: &Path,
    expected: &Expected,
    limits: &Limits,
    report: &mut Report,
) -> (usize, usize) {
    let text = match chexlocalize_io::read_bytes(path, limits) {
        Ok(t) => t,
        Err(e) => {
            report.add(
                Kind::UnreadableFile,
                path,
                None,
                None,
                chexlocalize_io::chain_text(&e),
            );
            return (0, 0);
        }
    };
    let v: Value = match chexlocalize_io::parse_json(path, &text, limits) {
        Ok(v) => v,
        Err(e) => {
            let kind = match e {
                chexlocalize_io::IoError::Limit { .. } => Kind::OverLimit,
                _ => Kind::UnreadableFile,
            };
            report.add(kind, path, None, None, chexlocalize_io::chain_text(&e));
            return (0, 0);
        }
    };
    let mut found = Vec::new();
    let segs = match parse_segmentations_with(path, &v, limits, Problems::Collect(&mut found)) {
        Ok(segs) => segs,
        // Collecting never stops at a problem; should it, the error says why.
        Err(e) => {
            report.add(Kind::UnreadableFile, path, None, None, e.to_string());
            return (0, 0);
        }
    };
    if found.contains(&SegProblem::TopLevel) {
        report.add(
            Kind::UnreadableFile,
            path,
            None,
            None,
            "expected an object {cxr_id: {task: RLE mask}} at the top level",
        );
        return (0, 0);
    }
    // CXRs that are not expected are reported as such, and not looked into.
    for cxr in segs.cxrs() {
        if !expected.contains_key(&cxr.cxr_id) {
            report.add(
                Kind::ExtraCxr,
                path,
                Some(&cxr.cxr_id),
                None,
                "not in the expected list",
            );
        }
    }
    let is_expected = |p: &SegProblem| p.cxr_id().is_some_and(|id| expected.contains_key(id));
    // Every mask entry of a task is either read or reported.
    let mut masks = found
        .iter()
        .filter(|p| is_expected(p) && matches!(p, SegProblem::Mask { .. }))
        .count();
    for problem in found.iter().filter(|p| is_expected(p)) {
        add_problem(path, problem, report);
    }
    for cxr in segs.cxrs() {
        let Some(size) = expected.get(&cxr.cxr_id) else {
            continue;
        };
        masks += cxr.masks.len();
        let Some((eh, ew)) = *size else { continue };
        for (task, rle) in &cxr.masks {
            let (h, w) = (rle.height(), rle.width());
            if (eh, ew) != (h, w) {
                report.add(
                    Kind::SizeMismatch,
                    path,
                    Some(&cxr.cxr_id),
                    Some(task.name()),
                    format!("mask is {h}x{w} (h x w), the image is {eh}x{ew}"),
                );
            }
        }
    }
    for id in expected.keys() {
        if !segs.contains(id) {
            report.add(
                Kind::MissingCxr,
                path,
                Some(id),
                None,
                "no masks for this CXR (expected 10)",
            );
        }
    }
    (segs.len(), masks)
}

/// A problem the segmentation reader found, as the report lists it.
fn add_problem(path: &Path, problem: &SegProblem, report: &mut Report) {
    let (kind, cxr_id, task, message): (Kind, &str, Option<&str>, String) = match problem {
        // Reported before anything else is looked at.
        SegProblem::TopLevel => return,
        SegProblem::NotAnObject { cxr_id } => (
            Kind::BadMask,
            cxr_id,
            None,
            "expected an object {task: RLE mask}".to_owned(),
        ),
        SegProblem::UnknownTask { cxr_id, key } => (
            Kind::UnknownTask,
            cxr_id,
            Some(key),
            "not one of the 10 CheXlocalize tasks (\"Lung Opacity\" and \"Airspace Opacity\" are both accepted)".to_owned(),
        ),
        SegProblem::DuplicateTask {
            cxr_id,
            task,
            first,
            second,
        } => (
            Kind::DuplicateTask,
            cxr_id,
            Some(task.name()),
            format!(
                "two masks for one task: \"{}\" and \"{}\"",
                escape_name(first),
                escape_name(second)
            ),
        ),
        SegProblem::MissingTask { cxr_id, task } => (
            Kind::MissingTask,
            cxr_id,
            Some(task.name()),
            "no mask (expected one per task; an empty mask if nothing is found)".to_owned(),
        ),
        SegProblem::Mask {
            cxr_id,
            task,
            fault,
        } => {
            let (kind, message) = match fault {
                MaskFault::NotAnObject => (
                    Kind::BadMask,
                    "expected an RLE mask {\"size\": [h, w], \"counts\": str}".to_owned(),
                ),
                MaskFault::Size => (
                    Kind::BadMask,
                    "size: expected [h, w], two non-negative integers".to_owned(),
                ),
                MaskFault::OverLimit { what, limit } => (
                    Kind::OverLimit,
                    format!("size: {what} is over the limit: {limit}"),
                ),
                MaskFault::Runs => (
                    Kind::BadMask,
                    "counts: expected a string or a list of run lengths".to_owned(),
                ),
                MaskFault::Counts => (
                    Kind::BadMask,
                    "counts: expected a pycocotools counts string".to_owned(),
                ),
                MaskFault::Corrupt(e) => (Kind::CorruptRle, format!("corrupt RLE: {e}")),
            };
            (kind, cxr_id, Some(task.name()), message)
        }
    };
    report.add(kind, path, Some(cxr_id), task, message);
}

/// Checks the heatmap folder; returns the number of heatmap files found.
pub(super) fn check_heatmaps(
    dir: &Path,
    expected: &Expected,
    options: &Options,
    report: &mut Report,
) -> Result<usize> {
    let limits = &options.limits;
    if !dir.is_dir() {
        report.add(
            Kind::UnreadableFile,
            dir,
            None,
            None,
            "not a folder of heatmaps",
        );
        return Ok(0);
    }
    let mut paths = Vec::new();
    collect(dir, &mut paths, report);
    paths.sort();
    let mut named = Vec::new();
    let mut seen: HashMap<(String, Task), PathBuf> = HashMap::new();
    for p in &paths {
        let (id, task_name) = match chexlocalize_io::parse_heatmap_name(p) {
            Ok(x) => x,
            Err(_) => {
                let utf8 = p.file_name().and_then(|n| n.to_str()).is_some();
                report.add(
                    Kind::BadHeatmapName,
                    p,
                    None,
                    None,
                    if utf8 {
                        "expected a name <cxr_id>_<task>_map.pkl (or .pt, .npy)"
                    } else {
                        "the file name is not UTF-8 (expected <cxr_id>_<task>_map.pkl, .pt or .npy)"
                    },
                );
                continue;
            }
        };
        let Some(task) = Task::from_name(&task_name) else {
            report.add(
                Kind::UnknownTask,
                p,
                Some(&id),
                Some(&task_name),
                "the file name's task is not one of the 10 CheXlocalize tasks",
            );
            continue;
        };
        if !expected.contains_key(&id) {
            report.add(
                Kind::ExtraHeatmap,
                p,
                Some(&id),
                Some(task.name()),
                "CXR not in the expected list",
            );
            continue;
        }
        if let Some(first) = seen.insert((id.clone(), task), p.clone()) {
            report.add(
                Kind::DuplicateHeatmap,
                p,
                Some(&id),
                Some(task.name()),
                format!(
                    "a second heatmap for this CXR and task (first: {})",
                    escape_path(&first)
                ),
            );
            continue;
        }
        named.push((p.clone(), id, task));
    }
    let pool = thread_pool_for(options, named.len())?;
    let found: Vec<Vec<Problem>> = pool.install(|| {
        named
            .par_iter()
            .map(|(p, id, task)| check_heatmap(p, id, *task, expected, limits))
            .collect()
    });
    report.problems.extend(found.into_iter().flatten());
    for id in expected.keys() {
        for task in Task::ALL {
            if !seen.contains_key(&(id.clone(), task)) {
                report.add(
                    Kind::MissingHeatmap,
                    dir,
                    Some(id),
                    Some(task.name()),
                    "no heatmap for this CXR and task",
                );
            }
        }
    }
    Ok(paths.len())
}

/// Every file whose name ends like a heatmap (UTF-8 or not), recursively; unreadable folders are
/// reported.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, report: &mut Report) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report.add(
                Kind::UnreadableFile,
                dir,
                None,
                None,
                format!("cannot list: {e}"),
            );
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            collect(&p, out, report);
        } else if p.file_name().is_some_and(|n| {
            let n = n.as_encoded_bytes();
            HEATMAP_SUFFIXES.iter().any(|s| n.ends_with(s.as_bytes()))
        }) {
            out.push(p);
        }
    }
}

fn check_heatmap(
    p: &Path,
    id: &str,
    task: Task,
    expected: &Expected,
    limits: &Limits,
) -> Vec<Problem> {
    let mut report = Report::default();
    let mut add = |kind, msg: String| report.add(kind, p, Some(id), Some(task.name()), msg);
    let rec = match chexlocalize_io::read_heatmap(p, limits) {
        Ok(r) => r,
        Err(e) => {
            // The error names the file already; keep only what was wrong.
            let text = chexlocalize_io::chain_text(&e);
            let prefix = format!("{}: ", p.display());
            let msg = text.strip_prefix(&prefix).unwrap_or(&text).to_owned();
            add(Kind::UnreadableHeatmap, msg);
            return report.problems;
        }
    };
    if Task::from_name(&rec.task) != Some(task) {
        add(
            Kind::HeatmapTaskMismatch,
            format!(
                "the file says task \"{}\", its name says {}",
                escape_name(&rec.task),
                task.name()
            ),
        );
    }
    match map_and_dims(&rec) {
        Err(e) => add(Kind::BadHeatmap, e),
        Ok((_, h, w)) => {
            if let Some(Some((eh, ew))) = expected.get(id) {
                if (h, w) != (*eh, *ew) {
                    add(
                        Kind::HeatmapSizeMismatch,
                        format!("cxr_dims give {h}x{w} (h x w), the image is {eh}x{ew}"),
                    );
                }
            }
        }
    }
    if let Err(e) = task_probability(&rec, task) {
        add(Kind::BadHeatmap, e);
    }
    report.problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::report::problem_text;

    #[test]
    fn every_mask_problem_is_listed_with_its_kind_and_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("seg.json");
        std::fs::write(
            &path,
            r#"{"c": {"Edema": {"size": [2, 3], "counts": "06"}, "Atelectasis": [], "Cardiomegaly": {"size": [2]},
                      "Consolidation": {"size": [2, 3], "counts": [1, -1]}, "Lung Lesion": {"size": [2, 3], "counts": 6},
                      "Pleural Effusion": {"size": [2, 3], "counts": "07"}, "Pneumothorax": {"size": [3, 2], "counts": "06"},
                      "Support Devices": {"size": [2, 3], "counts": [6]}},
                "d": 5, "x": {"Edema": 5}}"#,
        )
        .expect("write");
        let expected: Expected = [
            ("c".to_owned(), Some((2, 3))),
            ("d".to_owned(), None),
            ("e".to_owned(), None),
        ]
        .into_iter()
        .collect();
        let mut report = Report::default();
        let stats = check_segmentations(&path, &expected, &Limits::BUILTIN, &mut report);
        report.problems.sort();
        let p = path.display();
        let lines: Vec<String> = report.problems.iter().map(problem_text).collect();
        let mut want = vec![
            format!(
                "{p}: CXR c, task Atelectasis: bad_mask: expected an RLE mask {{\"size\": [h, w], \"counts\": str}}"
            ),
            format!(
                "{p}: CXR c, task Cardiomegaly: bad_mask: size: expected [h, w], two non-negative integers"
            ),
            format!(
                "{p}: CXR c, task Consolidation: bad_mask: counts: expected a string or a list of run lengths"
            ),
            format!(
                "{p}: CXR c, task Lung Lesion: bad_mask: counts: expected a pycocotools counts string"
            ),
            format!(
                "{p}: CXR c, task Pleural Effusion: corrupt_rle: corrupt RLE: {}",
                chexlocalize_rle::Rle::from_counts_str(2, 3, "07").expect_err("7 pixels")
            ),
            format!(
                "{p}: CXR c, task Pneumothorax: size_mismatch: mask is 3x2 (h x w), the image is 2x3"
            ),
            format!("{p}: CXR d: bad_mask: expected an object {{task: RLE mask}}"),
            format!("{p}: CXR e: missing_cxr: no masks for this CXR (expected 10)"),
            format!("{p}: CXR x: extra_cxr: not in the expected list"),
        ];
        for task in ["Airspace Opacity", "Enlarged Cardiomediastinum"] {
            want.push(format!(
                "{p}: CXR c, task {task}: missing_task: no mask (expected one per task; an empty mask if nothing is found)"
            ));
        }
        let mut lines = lines;
        lines.sort();
        want.sort();
        assert_eq!(lines, want);
        // 3 CXRs in the file; c has 8 mask entries (read or not), d none, x is not looked into.
        assert_eq!(stats, (3, 8));
    }
}
