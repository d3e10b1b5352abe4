//! Walking the submission: every problem of the segmentation JSON and the heatmap folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chexlocalize_io::{HEATMAP_SUFFIXES, IoError, Limits, Task};
use chexlocalize_rle::Rle;
use rayon::prelude::*;
use serde_json::Value;

use super::report::{escape_name, escape_path};
use super::{Expected, Kind, Problem, Report};
use crate::heatmaps::{map_and_dims, task_probability};
use crate::progress::thread_pool;

/// Checks the segmentation JSON; returns (CXRs, masks) found.
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
                crate::chain_text(&e),
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
            report.add(kind, path, None, None, crate::chain_text(&e));
            return (0, 0);
        }
    };
    let Some(top) = v.as_object() else {
        report.add(
            Kind::UnreadableFile,
            path,
            None,
            None,
            "expected an object {cxr_id: {task: RLE mask}} at the top level",
        );
        return (0, 0);
    };
    let mut masks = 0;
    for (id, entry) in top {
        let Some(size) = expected.get(id) else {
            report.add(
                Kind::ExtraCxr,
                path,
                Some(id),
                None,
                "not in the expected list",
            );
            continue;
        };
        let Some(obj) = entry.as_object() else {
            report.add(
                Kind::BadMask,
                path,
                Some(id),
                None,
                "expected an object {task: RLE mask}",
            );
            continue;
        };
        let mut seen: HashMap<Task, &str> = HashMap::new();
        for (key, m) in obj {
            let Some(task) = Task::from_name(key) else {
                report.add(
                    Kind::UnknownTask,
                    path,
                    Some(id),
                    Some(key),
                    "not one of the 10 CheXlocalize tasks (\"Lung Opacity\" and \"Airspace Opacity\" are both accepted)",
                );
                continue;
            };
            if let Some(first) = seen.insert(task, key) {
                report.add(
                    Kind::DuplicateTask,
                    path,
                    Some(id),
                    Some(task.name()),
                    format!(
                        "two masks for one task: \"{}\" and \"{}\"",
                        escape_name(first),
                        escape_name(key)
                    ),
                );
                continue;
            }
            masks += 1;
            check_mask(path, id, task, m, *size, limits, report);
        }
        for task in Task::ALL {
            if !seen.contains_key(&task) {
                report.add(
                    Kind::MissingTask,
                    path,
                    Some(id),
                    Some(task.name()),
                    "no mask (expected one per task; an empty mask if nothing is found)",
                );
            }
        }
    }
    for id in expected.keys() {
        if !top.contains_key(id) {
            report.add(
                Kind::MissingCxr,
                path,
                Some(id),
                None,
                "no masks for this CXR (expected 10)",
            );
        }
    }
    (top.len(), masks)
}

fn check_mask(
    path: &Path,
    id: &str,
    task: Task,
    m: &Value,
    expected_size: Option<(usize, usize)>,
    limits: &Limits,
    report: &mut Report,
) {
    let mut bad = |kind, msg: String| report.add(kind, path, Some(id), Some(task.name()), msg);
    let Some(obj) = m.as_object() else {
        bad(
            Kind::BadMask,
            "expected an RLE mask {\"size\": [h, w], \"counts\": str}".to_owned(),
        );
        return;
    };
    let size = obj
        .get("size")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)));
    let Some((h, w)) = size else {
        bad(
            Kind::BadMask,
            "size: expected [h, w], two non-negative integers".to_owned(),
        );
        return;
    };
    if let Err(e) = limits.check_image(path, "", h, w) {
        let IoError::Limit { what, limit, .. } = e else {
            return;
        };
        bad(
            Kind::OverLimit,
            format!("size: {what} is over the limit: {limit}"),
        );
        return;
    }
    let (h, w) = (h as usize, w as usize);
    let rle = match obj.get("counts") {
        Some(Value::String(s)) => Rle::from_counts_str(h, w, s),
        Some(Value::Array(a)) => match a
            .iter()
            .map(|x| x.as_u64().and_then(|u| u32::try_from(u).ok()))
            .collect::<Option<Vec<u32>>>()
        {
            Some(runs) => Rle::from_runs(h, w, runs),
            None => {
                bad(
                    Kind::BadMask,
                    "counts: expected a string or a list of run lengths".to_owned(),
                );
                return;
            }
        },
        _ => {
            bad(
                Kind::BadMask,
                "counts: expected a pycocotools counts string".to_owned(),
            );
            return;
        }
    };
    if let Err(e) = rle {
        bad(Kind::CorruptRle, format!("corrupt RLE: {e}"));
        return;
    }
    if let Some((eh, ew)) = expected_size {
        if (eh, ew) != (h, w) {
            bad(
                Kind::SizeMismatch,
                format!("mask is {h}x{w} (h x w), the image is {eh}x{ew}"),
            );
        }
    }
}

/// Checks the heatmap folder; returns the number of heatmap files found.
pub(super) fn check_heatmaps(
    dir: &Path,
    expected: &Expected,
    limits: &Limits,
    jobs: Option<usize>,
    report: &mut Report,
) -> Result<usize> {
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
    let pool = thread_pool(crate::args::jobs_for(jobs, named.len()))?;
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
            let text = crate::chain_text(&e);
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
