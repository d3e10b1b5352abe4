//! The one reader of segmentation files `{cxr_id: {task: {"size": [h, w], "counts": ...}}}`:
//! every command reads them here, stopping at the first problem ([`Problems::FirstError`]), and
//! `validate-submission` lists every problem of a submission with the same walk
//! ([`Problems::Collect`]).

use std::path::Path;

use chexlocalize_rle::{Rle, RleError};
use serde_json::Value;

use super::common::as_size;
use super::segmentations::Segmentations;
use crate::json_value::read_json;
use crate::{IoError, Limits, Task};

/// What [`parse_segmentations_with`] does with the problems of a file.
#[derive(Debug)]
pub enum Problems<'a> {
    /// Stop at the first problem and return it as an [`IoError`], as every command does. Keys
    /// that are not tasks are skipped (and listed in [`Segmentations::ignored_keys`]) and tasks
    /// may lack a mask, as in the reference.
    FirstError,
    /// Read the whole file: append every problem to the list (in file order), skip the masks that
    /// cannot be read and return the others; never an error. `validate-submission` reports
    /// these.
    Collect(&'a mut Vec<SegProblem>),
}

impl Problems<'_> {
    fn collects(&self) -> bool {
        matches!(self, Problems::Collect(_))
    }

    /// Takes one problem: `Ok` to read on, `Err` to stop.
    fn take(&mut self, path: &Path, problem: SegProblem) -> Result<(), IoError> {
        match self {
            Problems::Collect(list) => {
                list.push(problem);
                Ok(())
            }
            Problems::FirstError => problem.into_error(path).map_or(Ok(()), Err),
        }
    }
}

/// A problem of a segmentation file (see [`Problems::Collect`]).
#[derive(Clone, Debug, PartialEq)]
pub enum SegProblem {
    /// The top level is not an object `{cxr_id: {task: mask}}`.
    TopLevel,
    /// A CXR's value is not an object `{task: mask}`.
    NotAnObject {
        /// The CXR id.
        cxr_id: String,
    },
    /// A key that is not one of the ten tasks.
    UnknownTask {
        /// The CXR id.
        cxr_id: String,
        /// The key.
        key: String,
    },
    /// Two keys name one task (`"Lung Opacity"` and `"Airspace Opacity"`); the second is skipped.
    DuplicateTask {
        /// The CXR id.
        cxr_id: String,
        /// The task.
        task: Task,
        /// The key of the mask that is kept.
        first: String,
        /// The key of the mask that is skipped.
        second: String,
    },
    /// A task without a mask.
    MissingTask {
        /// The CXR id.
        cxr_id: String,
        /// The task.
        task: Task,
    },
    /// A mask that cannot be read.
    Mask {
        /// The CXR id.
        cxr_id: String,
        /// The task.
        task: Task,
        /// What is wrong with it.
        fault: MaskFault,
    },
}

/// Why one mask `{"size": [h, w], "counts": ...}` cannot be read.
#[derive(Clone, Debug, PartialEq)]
pub enum MaskFault {
    /// The mask is not an object.
    NotAnObject,
    /// `size` is missing or not `[h, w]`, two non-negative integers.
    Size,
    /// `size` is over the [`Limits`].
    OverLimit {
        /// What the file claims.
        what: String,
        /// The limit.
        limit: String,
    },
    /// `counts` is a list holding something other than a run length (an integer in `u32`).
    Runs,
    /// `counts` is missing, or neither a string nor a list.
    Counts,
    /// The counts do not describe an `h × w` mask.
    Corrupt(RleError),
}

impl SegProblem {
    /// The CXR the problem is about (`None` for [`SegProblem::TopLevel`]).
    pub fn cxr_id(&self) -> Option<&str> {
        match self {
            SegProblem::TopLevel => None,
            SegProblem::NotAnObject { cxr_id }
            | SegProblem::UnknownTask { cxr_id, .. }
            | SegProblem::DuplicateTask { cxr_id, .. }
            | SegProblem::MissingTask { cxr_id, .. }
            | SegProblem::Mask { cxr_id, .. } => Some(cxr_id),
        }
    }

    /// The error the commands stop at; `None` for what they pass over (keys that are not tasks,
    /// tasks without a mask).
    fn into_error(self, path: &Path) -> Option<IoError> {
        Some(match self {
            SegProblem::TopLevel => IoError::schema(
                path,
                "top level",
                "an object {cxr_id: {task: {\"size\": [h, w], \"counts\": str}}}",
            ),
            SegProblem::NotAnObject { cxr_id } => {
                IoError::schema(path, format!("CXR {cxr_id}"), "an object {task: RLE mask}")
            }
            SegProblem::UnknownTask { .. } | SegProblem::MissingTask { .. } => return None,
            SegProblem::DuplicateTask { cxr_id, task, .. } => IoError::schema(
                path,
                format!("CXR {cxr_id}, task {task}"),
                "one mask per task (both \"Lung Opacity\" and \"Airspace Opacity\" present?)",
            ),
            SegProblem::Mask {
                cxr_id,
                task,
                fault,
            } => {
                let loc = format!("CXR {cxr_id}, task {task}");
                match fault {
                    MaskFault::NotAnObject => IoError::schema(
                        path,
                        loc,
                        "an RLE mask {\"size\": [h, w], \"counts\": str}",
                    ),
                    MaskFault::Size => IoError::schema(
                        path,
                        format!("{loc}, size"),
                        "[h, w]: two non-negative integers",
                    ),
                    MaskFault::OverLimit { what, limit } => IoError::Limit {
                        path: path.to_path_buf(),
                        location: format!("{loc}, size"),
                        what,
                        limit,
                    },
                    MaskFault::Runs => IoError::schema(
                        path,
                        format!("{loc}, counts"),
                        "a list of non-negative run lengths",
                    ),
                    MaskFault::Counts => IoError::schema(
                        path,
                        format!("{loc}, counts"),
                        "a counts string (or list of runs)",
                    ),
                    MaskFault::Corrupt(source) => IoError::Rle {
                        path: path.to_path_buf(),
                        location: loc,
                        source,
                    },
                }
            }
        })
    }
}

/// Reads a segmentation file. Keys that are not task names are skipped and listed in
/// [`Segmentations::ignored_keys`] (the reference ignores them too).
pub fn read_segmentations(path: &Path, limits: &Limits) -> Result<Segmentations, IoError> {
    let v = read_json(path, limits)?;
    parse_segmentations(path, &v, limits)
}

/// Parses a segmentation file's JSON value (`path` names the file in errors), stopping at the
/// first problem. Mask sizes are checked against `limits`.
pub fn parse_segmentations(
    path: &Path,
    v: &Value,
    limits: &Limits,
) -> Result<Segmentations, IoError> {
    parse_segmentations_with(path, v, limits, Problems::FirstError)
}

/// Parses a segmentation file's JSON value (`path` names the file in errors); `problems` says
/// whether to stop at the first problem or list them all. Mask sizes are checked against
/// `limits` before anything is allocated for them.
///
/// Every CXR of the file has an entry (with the masks that could be read), in file order.
pub fn parse_segmentations_with(
    path: &Path,
    v: &Value,
    limits: &Limits,
    mut problems: Problems<'_>,
) -> Result<Segmentations, IoError> {
    let mut segs = Segmentations::new();
    let Some(top) = v.as_object() else {
        problems.take(path, SegProblem::TopLevel)?;
        return Ok(segs);
    };
    // Every CXR's value is checked before any mask is read: the first error is that of the
    // first CXR that is not an object, wherever a bad mask is.
    let mut entries = Vec::with_capacity(top.len());
    for (cxr_id, entry) in top {
        let index = segs.entry(cxr_id);
        match entry.as_object() {
            Some(obj) => entries.push((index, cxr_id, obj)),
            None => problems.take(
                path,
                SegProblem::NotAnObject {
                    cxr_id: cxr_id.clone(),
                },
            )?,
        }
    }
    for (index, cxr_id, obj) in entries {
        let mut seen: Vec<(Task, &String)> = Vec::with_capacity(Task::ALL.len());
        for (key, m) in obj {
            let Some(task) = Task::from_name(key) else {
                segs.ignore(cxr_id, key);
                problems.take(
                    path,
                    SegProblem::UnknownTask {
                        cxr_id: cxr_id.clone(),
                        key: key.clone(),
                    },
                )?;
                continue;
            };
            let mask_problem = |fault| SegProblem::Mask {
                cxr_id: cxr_id.clone(),
                task,
                fault,
            };
            if let Some(&(_, first)) = seen.iter().find(|(t, _)| *t == task) {
                // The commands read the second mask before refusing it (a corrupt second mask
                // is reported as such); the list skips it.
                if !problems.collects() {
                    if let Err(fault) = parse_mask(path, m, limits) {
                        problems.take(path, mask_problem(fault))?;
                    }
                }
                problems.take(
                    path,
                    SegProblem::DuplicateTask {
                        cxr_id: cxr_id.clone(),
                        task,
                        first: first.clone(),
                        second: key.clone(),
                    },
                )?;
                continue;
            }
            seen.push((task, key));
            match parse_mask(path, m, limits) {
                Ok(rle) => segs.push_mask(index, task, rle),
                Err(fault) => problems.take(path, mask_problem(fault))?,
            }
        }
        if problems.collects() {
            for task in Task::ALL {
                if !seen.iter().any(|(t, _)| *t == task) {
                    problems.take(
                        path,
                        SegProblem::MissingTask {
                            cxr_id: cxr_id.clone(),
                            task,
                        },
                    )?;
                }
            }
        }
    }
    Ok(segs)
}

/// One mask `{"size": [h, w], "counts": str or [runs]}`; the size is checked against `limits`
/// before the counts are decoded.
fn parse_mask(path: &Path, m: &Value, limits: &Limits) -> Result<Rle, MaskFault> {
    let obj = m.as_object().ok_or(MaskFault::NotAnObject)?;
    let (h, w) = obj
        .get("size")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((as_size(&a[0])?, as_size(&a[1])?)))
        .ok_or(MaskFault::Size)?;
    if let Err(e) = limits.check_image(path, "", h as u64, w as u64) {
        return Err(match e {
            IoError::Limit { what, limit, .. } => MaskFault::OverLimit { what, limit },
            // `check_image` reports nothing else.
            _ => MaskFault::Size,
        });
    }
    match obj.get("counts") {
        Some(Value::String(s)) => Rle::from_counts_str(h, w, s).map_err(MaskFault::Corrupt),
        Some(Value::Array(a)) => {
            let runs = a
                .iter()
                .map(|x| x.as_u64().and_then(|u| u32::try_from(u).ok()))
                .collect::<Option<Vec<u32>>>()
                .ok_or(MaskFault::Runs)?;
            Rle::from_runs(h, w, runs).map_err(MaskFault::Corrupt)
        }
        _ => Err(MaskFault::Counts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("test.json")
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).expect("json")
    }

    #[test]
    fn segmentations_round_trip_json_dump_text() {
        // Format of `json.dump(results, f)` in annotation_to_segmentation.py (pycocotools RLE dicts).
        let text = r#"{"cxr1": {"Edema": {"size": [2, 3], "counts": "06"}, "Cardiomegaly": {"size": [2, 3], "counts": "123"}}}"#;
        let v: Value = serde_json::from_str(text).expect("json");
        let segs = parse_segmentations(p(), &v, &Limits::BUILTIN).expect("parse");
        assert_eq!(segs.to_json_string(), text);
        assert_eq!(segs.get("cxr1", Task::Cardiomegaly).map(Rle::area), Some(2));
        assert!(segs.get("cxr1", Task::Atelectasis).is_none());
    }

    #[test]
    fn segmentation_errors() {
        let cases = [
            (
                r#"{"c": {"Edema": {"size": [2, 3], "counts": "0~"}}}"#,
                "CXR c, task Edema",
            ),
            (
                r#"{"c": {"Edema": {"size": [2, 3], "counts": "07"}}}"#,
                "CXR c, task Edema",
            ),
            (r#"{"c": {"Edema": {"size": [2], "counts": "06"}}}"#, "size"),
            (r#"{"c": {"Edema": {"size": [2, 3]}}}"#, "counts"),
            (
                r#"{"c": {"Edema": {"size": [100000, 100000], "counts": "0"}}}"#,
                "CXR c, task Edema, size: an image of 100000 x 100000 pixels (h x w) is over the limit",
            ),
            (
                r#"{"c": {"Edema": {"size": [2, 3], "counts": "06"}, "Lung Opacity": {"size": [2, 3], "counts": "06"}, "Airspace Opacity": {"size": [2, 3], "counts": "06"}}}"#,
                "one mask per task",
            ),
        ];
        for (text, needle) in cases {
            let v: Value = serde_json::from_str(text).expect("json");
            let e = parse_segmentations(p(), &v, &Limits::BUILTIN).expect_err(text);
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn unknown_segmentation_keys_are_listed() {
        let v: Value =
            serde_json::from_str(r#"{"c": {"Pneumonia": {"size": [1, 1], "counts": "01"}}}"#)
                .expect("json");
        let segs = parse_segmentations(p(), &v, &Limits::BUILTIN).expect("parse");
        assert!(segs.contains("c"));
        assert_eq!(
            segs.ignored_keys(),
            &[("c".to_owned(), "Pneumonia".to_owned())]
        );
    }

    #[test]
    fn a_cxr_that_is_not_an_object_is_the_first_error() {
        // Entries are checked before masks: the bad mask of "a" comes first in the file.
        let v = json(r#"{"a": {"Edema": {"size": [2, 3], "counts": "0~"}}, "b": 5}"#);
        let e = parse_segmentations(p(), &v, &Limits::BUILTIN).expect_err("b");
        assert_eq!(
            e.to_string(),
            "test.json: CXR b: expected an object {task: RLE mask}"
        );
        let e = parse_segmentations(p(), &json("[]"), &Limits::BUILTIN).expect_err("list");
        assert_eq!(
            e.to_string(),
            "test.json: top level: expected an object {cxr_id: {task: {\"size\": [h, w], \"counts\": str}}}"
        );
    }

    #[test]
    fn a_corrupt_duplicate_is_reported_as_corrupt_when_stopping_at_the_first_error() {
        let v = json(
            r#"{"c": {"Lung Opacity": {"size": [2, 3], "counts": "06"}, "Airspace Opacity": {"size": [2, 3], "counts": "0~"}}}"#,
        );
        let e = parse_segmentations(p(), &v, &Limits::BUILTIN).expect_err("corrupt");
        assert!(
            e.to_string()
                .starts_with("test.json: CXR c, task Airspace Opacity: corrupt RLE mask"),
            "{e}"
        );
        let mut found = Vec::new();
        parse_segmentations_with(p(), &v, &Limits::BUILTIN, Problems::Collect(&mut found))
            .expect("collecting never fails");
        assert!(found.contains(&SegProblem::DuplicateTask {
            cxr_id: "c".into(),
            task: Task::AirspaceOpacity,
            first: "Lung Opacity".into(),
            second: "Airspace Opacity".into(),
        }));
        assert!(
            !found.iter().any(|f| matches!(f, SegProblem::Mask { .. })),
            "{found:?}"
        );
    }

    #[test]
    fn collect_lists_every_problem_and_keeps_the_good_masks() {
        let v = json(
            r#"{"a": {"Edema": {"size": [2, 3], "counts": "06"}, "Pneumonia": {}, "Atelectasis": [],
                      "Cardiomegaly": {"size": [2]}, "Consolidation": {"size": [100000, 100000], "counts": "0"},
                      "Enlarged Cardiomediastinum": {"size": [2, 3], "counts": [1, -1]},
                      "Lung Lesion": {"size": [2, 3], "counts": 6}, "Lung Opacity": {"size": [2, 3], "counts": "07"}},
                "b": 5, "c": {}}"#,
        );
        let mut found = Vec::new();
        let segs =
            parse_segmentations_with(p(), &v, &Limits::BUILTIN, Problems::Collect(&mut found))
                .expect("collecting never fails");
        assert_eq!(segs.len(), 3, "every CXR has an entry");
        assert!(segs.get("a", Task::Edema).is_some());
        assert_eq!(segs.cxrs()[0].masks.len(), 1);
        let mask = |task, fault| SegProblem::Mask {
            cxr_id: "a".into(),
            task,
            fault,
        };
        let mut expected = vec![
            SegProblem::NotAnObject { cxr_id: "b".into() },
            SegProblem::UnknownTask {
                cxr_id: "a".into(),
                key: "Pneumonia".into(),
            },
            mask(Task::Atelectasis, MaskFault::NotAnObject),
            mask(Task::Cardiomegaly, MaskFault::Size),
            mask(
                Task::Consolidation,
                MaskFault::OverLimit {
                    what: "an image of 100000 x 100000 pixels (h x w)".into(),
                    limit: "at most 65536 pixels a side and 33554432 pixels in all".into(),
                },
            ),
            mask(Task::EnlargedCardiomediastinum, MaskFault::Runs),
            mask(Task::LungLesion, MaskFault::Counts),
            mask(
                Task::AirspaceOpacity,
                MaskFault::Corrupt(Rle::from_counts_str(2, 3, "07").expect_err("7 of 6 pixels")),
            ),
        ];
        for (id, present) in [
            (
                "a",
                &[
                    Task::Edema,
                    Task::Atelectasis,
                    Task::Cardiomegaly,
                    Task::Consolidation,
                    Task::EnlargedCardiomediastinum,
                    Task::LungLesion,
                    Task::AirspaceOpacity,
                ][..],
            ),
            ("c", &[][..]),
        ] {
            for task in Task::ALL {
                if !present.contains(&task) {
                    expected.push(SegProblem::MissingTask {
                        cxr_id: id.into(),
                        task,
                    });
                }
            }
        }
        let key = |p: &SegProblem| format!("{p:?}");
        found.sort_by_key(key);
        expected.sort_by_key(key);
        assert_eq!(found, expected);
        // The commands stop at the first of them.
        let e = parse_segmentations(p(), &v, &Limits::BUILTIN).expect_err("b");
        assert!(e.to_string().contains("CXR b"), "{e}");
    }
}
