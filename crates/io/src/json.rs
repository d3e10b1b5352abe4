//! Annotation, segmentation and salient-point JSON files.
//!
//! Input key order is kept (the reference iterates `dict` keys in file order); outputs are
//! written with Python `json.dump`'s default separators so that files compare byte for byte.

use std::collections::HashMap;
use std::path::Path;

use chexlocalize_rle::Rle;
use serde_json::{Map, Value};

use crate::json_value::read_json;
use crate::pyfmt::{json_float, push_json_string};
use crate::{IoError, Limits, Task, write_atomic};

/// A polygon as the annotation files store it: `(x, y)` vertices in image pixels.
pub type Polygon = Vec<[f64; 2]>;

/// The radiologist polygons of one CXR.
#[derive(Clone, Debug, PartialEq)]
pub struct CxrAnnotations {
    /// The CXR id (`patient64541_study1_view1_frontal`).
    pub cxr_id: String,
    /// Image height in pixels (`img_size[0]`).
    pub height: usize,
    /// Image width in pixels (`img_size[1]`).
    pub width: usize,
    /// Polygons per task, in file order; tasks without polygons may be absent.
    pub tasks: Vec<(Task, Vec<Polygon>)>,
}

impl CxrAnnotations {
    /// The polygons of `task` (empty when the task is absent).
    pub fn polygons(&self, task: Task) -> &[Polygon] {
        self.tasks
            .iter()
            .find(|(t, _)| *t == task)
            .map_or(&[][..], |(_, p)| p.as_slice())
    }
}

/// An annotation file: `{cxr_id: {"img_size": [h, w], task: [[[x, y], ...], ...], ...}, ...}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations {
    /// Per CXR, in file order.
    pub cxrs: Vec<CxrAnnotations>,
}

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
    fn entry(&mut self, cxr_id: &str) -> usize {
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

/// The salient points of one CXR per task, `(x, y)` each.
pub type TaskPoints = Vec<(Task, Vec<[f64; 2]>)>;

/// Salient points of a human benchmark: `{cxr_id: {task: [[x, y], ...]}}`, in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SalientPoints {
    /// Per CXR: its id and its points per task.
    pub cxrs: Vec<(String, TaskPoints)>,
}

impl SalientPoints {
    /// The points of `cxr_id` for `task`, if the CXR and task are present.
    pub fn get(&self, cxr_id: &str, task: Task) -> Option<&[[f64; 2]]> {
        let (_, tasks) = self.cxrs.iter().find(|(id, _)| id == cxr_id)?;
        tasks
            .iter()
            .find(|(t, _)| *t == task)
            .map(|(_, p)| p.as_slice())
    }
}

/// A CXR id and its JSON object.
type CxrObject<'a> = (&'a String, &'a Map<String, Value>);

/// The per-CXR objects of a `{cxr_id: {...}}` file, in file order.
fn cxr_objects<'a>(
    path: &Path,
    v: &'a Value,
    top_expected: &str,
    entry_expected: &str,
) -> Result<Vec<CxrObject<'a>>, IoError> {
    let top = v
        .as_object()
        .ok_or_else(|| IoError::schema(path, "top level", format!("an object {top_expected}")))?;
    top.iter()
        .map(|(cxr_id, entry)| {
            let obj = entry
                .as_object()
                .ok_or_else(|| IoError::schema(path, format!("CXR {cxr_id}"), entry_expected))?;
            Ok((cxr_id, obj))
        })
        .collect()
}

fn task_key(path: &Path, cxr_id: &str, key: &str) -> Result<Task, IoError> {
    Task::from_name(key).ok_or_else(|| {
        IoError::schema(
            path,
            format!("CXR {cxr_id}, key {key:?}"),
            "one of the 10 CheXlocalize task names",
        )
    })
}

fn push_unique<T>(
    path: &Path,
    cxr_id: &str,
    list: &mut Vec<(Task, T)>,
    task: Task,
    value: T,
) -> Result<(), IoError> {
    if list.iter().any(|(t, _)| *t == task) {
        return Err(IoError::schema(
            path,
            format!("CXR {cxr_id}, task {task}"),
            "one entry per task (both \"Lung Opacity\" and \"Airspace Opacity\" present?)",
        ));
    }
    list.push((task, value));
    Ok(())
}

fn as_size(v: &Value) -> Option<usize> {
    if let Some(u) = v.as_u64() {
        return usize::try_from(u).ok();
    }
    None
}

fn point(path: &Path, loc: &dyn Fn() -> String, v: &Value) -> Result<[f64; 2], IoError> {
    let bad = || IoError::schema(path, loc(), "a point [x, y] of two finite numbers");
    let a = v.as_array().ok_or_else(bad)?;
    if a.len() != 2 {
        return Err(bad());
    }
    let x = a[0].as_f64().filter(|x| x.is_finite()).ok_or_else(bad)?;
    let y = a[1].as_f64().filter(|y| y.is_finite()).ok_or_else(bad)?;
    Ok([x, y])
}

/// Reads an annotation file.
pub fn read_annotations(path: &Path, limits: &Limits) -> Result<Annotations, IoError> {
    let v = read_json(path, limits)?;
    parse_annotations(path, &v, limits)
}

/// Parses an annotation file's JSON value (`path` names the file in errors). Image sizes are
/// checked against `limits`.
pub fn parse_annotations(path: &Path, v: &Value, limits: &Limits) -> Result<Annotations, IoError> {
    let entries = cxr_objects(
        path,
        v,
        "{cxr_id: {\"img_size\": [h, w], task: polygons}}",
        "an object with \"img_size\" and task keys",
    )?;
    let mut cxrs = Vec::with_capacity(entries.len());
    for (cxr_id, obj) in entries {
        let size = obj.get("img_size").ok_or_else(|| {
            IoError::schema(path, format!("CXR {cxr_id}"), "an \"img_size\": [h, w] key")
        })?;
        let dims = size
            .as_array()
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((as_size(&a[0])?, as_size(&a[1])?)))
            .filter(|&(h, w)| h > 0 && w > 0)
            .ok_or_else(|| {
                IoError::schema(
                    path,
                    format!("CXR {cxr_id}, img_size"),
                    "[h, w]: two positive integers",
                )
            })?;
        limits.check_image(
            path,
            &format!("CXR {cxr_id}, img_size"),
            dims.0 as u64,
            dims.1 as u64,
        )?;
        let mut tasks = Vec::new();
        for (key, polys) in obj {
            if key == "img_size" {
                continue;
            }
            let task = task_key(path, cxr_id, key)?;
            let loc = |i: usize| format!("CXR {cxr_id}, task {task}, polygon {i}");
            let list = polys.as_array().ok_or_else(|| {
                IoError::schema(
                    path,
                    format!("CXR {cxr_id}, task {task}"),
                    "a list of polygons [[[x, y], ...], ...]",
                )
            })?;
            let mut polygons = Vec::with_capacity(list.len());
            for (i, poly) in list.iter().enumerate() {
                let pts = poly
                    .as_array()
                    .ok_or_else(|| IoError::schema(path, loc(i), "a list of [x, y] points"))?;
                let mut out = Vec::with_capacity(pts.len());
                for (k, p) in pts.iter().enumerate() {
                    out.push(point(path, &|| format!("{}, point {k}", loc(i)), p)?);
                }
                polygons.push(out);
            }
            push_unique(path, cxr_id, &mut tasks, task, polygons)?;
        }
        cxrs.push(CxrAnnotations {
            cxr_id: cxr_id.clone(),
            height: dims.0,
            width: dims.1,
            tasks,
        });
    }
    Ok(Annotations { cxrs })
}

/// Reads a segmentation file. Keys that are not task names are skipped and listed in
/// [`Segmentations::ignored_keys`] (the reference ignores them too).
pub fn read_segmentations(path: &Path, limits: &Limits) -> Result<Segmentations, IoError> {
    let v = read_json(path, limits)?;
    parse_segmentations(path, &v, limits)
}

/// Parses a segmentation file's JSON value (`path` names the file in errors). Mask sizes are
/// checked against `limits`.
pub fn parse_segmentations(
    path: &Path,
    v: &Value,
    limits: &Limits,
) -> Result<Segmentations, IoError> {
    let entries = cxr_objects(
        path,
        v,
        "{cxr_id: {task: {\"size\": [h, w], \"counts\": str}}}",
        "an object {task: RLE mask}",
    )?;
    let mut segs = Segmentations::new();
    for (cxr_id, obj) in entries {
        // Keep CXRs without (known) masks: `contains` must see them.
        segs.entry(cxr_id);
        for (key, m) in obj {
            let Some(task) = Task::from_name(key) else {
                segs.ignored.push((cxr_id.clone(), key.clone()));
                continue;
            };
            let loc = format!("CXR {cxr_id}, task {task}");
            let rle = parse_rle(path, &loc, m, limits)?;
            segs.insert(cxr_id, task, rle).map_err(|_| {
                IoError::schema(
                    path,
                    loc.clone(),
                    "one mask per task (both \"Lung Opacity\" and \"Airspace Opacity\" present?)",
                )
            })?;
        }
    }
    Ok(segs)
}

fn parse_rle(path: &Path, loc: &str, m: &Value, limits: &Limits) -> Result<Rle, IoError> {
    let expected = "an RLE mask {\"size\": [h, w], \"counts\": str}";
    let obj = m
        .as_object()
        .ok_or_else(|| IoError::schema(path, loc, expected))?;
    let (h, w) = obj
        .get("size")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((as_size(&a[0])?, as_size(&a[1])?)))
        .ok_or_else(|| {
            IoError::schema(
                path,
                format!("{loc}, size"),
                "[h, w]: two non-negative integers",
            )
        })?;
    limits.check_image(path, &format!("{loc}, size"), h as u64, w as u64)?;
    let rle_err = |source| IoError::Rle {
        path: path.to_path_buf(),
        location: loc.to_owned(),
        source,
    };
    match obj.get("counts") {
        Some(Value::String(s)) => Rle::from_counts_str(h, w, s).map_err(rle_err),
        Some(Value::Array(a)) => {
            let runs = a
                .iter()
                .map(|x| x.as_u64().and_then(|u| u32::try_from(u).ok()))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| {
                    IoError::schema(
                        path,
                        format!("{loc}, counts"),
                        "a list of non-negative run lengths",
                    )
                })?;
            Rle::from_runs(h, w, runs).map_err(rle_err)
        }
        _ => Err(IoError::schema(
            path,
            format!("{loc}, counts"),
            "a counts string (or list of runs)",
        )),
    }
}

/// Writes masks as `json.dump` would, atomically.
pub fn write_segmentations(path: &Path, segs: &Segmentations) -> Result<(), IoError> {
    write_atomic(path, segs.to_json_string().as_bytes())
}

/// Reads a salient-points file `{cxr_id: {task: [[x, y], ...]}}`.
pub fn read_salient_points(path: &Path, limits: &Limits) -> Result<SalientPoints, IoError> {
    let v = read_json(path, limits)?;
    parse_salient_points(path, &v)
}

/// Parses a salient-points JSON value (`path` names the file in errors).
pub fn parse_salient_points(path: &Path, v: &Value) -> Result<SalientPoints, IoError> {
    let entries = cxr_objects(
        path,
        v,
        "{cxr_id: {task: [[x, y], ...]}}",
        "an object {task: [[x, y], ...]}",
    )?;
    let mut cxrs = Vec::with_capacity(entries.len());
    for (cxr_id, obj) in entries {
        let mut tasks = Vec::new();
        for (key, pts) in obj {
            let task = task_key(path, cxr_id, key)?;
            let loc = format!("CXR {cxr_id}, task {task}");
            let list = pts.as_array().ok_or_else(|| {
                IoError::schema(path, loc.clone(), "a list of points [[x, y], ...]")
            })?;
            let mut out = Vec::with_capacity(list.len());
            for (k, p) in list.iter().enumerate() {
                out.push(point(path, &|| format!("{loc}, point {k}"), p)?);
            }
            push_unique(path, cxr_id, &mut tasks, task, out)?;
        }
        cxrs.push((cxr_id.clone(), tasks));
    }
    Ok(SalientPoints { cxrs })
}

/// The `json.dump` text of an annotation file (used by the fixtures generator).
pub fn annotations_to_json_string(ann: &Annotations) -> String {
    let mut out = String::from("{");
    for (i, cxr) in ann.cxrs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_string(&mut out, &cxr.cxr_id);
        out.push_str(&format!(
            ": {{\"img_size\": [{}, {}]",
            cxr.height, cxr.width
        ));
        for (task, polys) in &cxr.tasks {
            out.push_str(", ");
            push_json_string(&mut out, task.name());
            out.push_str(": [");
            for (j, poly) in polys.iter().enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                push_points(&mut out, poly);
            }
            out.push(']');
        }
        out.push('}');
    }
    out.push('}');
    out
}

/// The `json.dump` text of a salient-points file (used by the fixtures generator).
pub fn salient_points_to_json_string(pts: &SalientPoints) -> String {
    let mut out = String::from("{");
    for (i, (cxr_id, tasks)) in pts.cxrs.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_json_string(&mut out, cxr_id);
        out.push_str(": {");
        for (j, (task, p)) in tasks.iter().enumerate() {
            if j > 0 {
                out.push_str(", ");
            }
            push_json_string(&mut out, task.name());
            out.push_str(": ");
            push_points(&mut out, p);
        }
        out.push('}');
    }
    out.push('}');
    out
}

fn push_points(out: &mut String, pts: &[[f64; 2]]) {
    out.push('[');
    for (k, [x, y]) in pts.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        out.push('[');
        out.push_str(&json_number(*x));
        out.push_str(", ");
        out.push_str(&json_number(*y));
        out.push(']');
    }
    out.push(']');
}

/// Integral coordinates are written as Python ints (`1200`), others as floats (`1200.5`).
fn json_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        json_float(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("test.json")
    }

    #[test]
    fn annotations_parse_and_alias() {
        let v: Value = serde_json::from_str(
            r#"{"b": {"img_size": [4, 5], "Lung Opacity": [[[0, 0], [3.5, 1], [2, 3]]]}, "a": {"img_size": [2, 2]}}"#,
        )
        .expect("json");
        let ann = parse_annotations(p(), &v, &Limits::BUILTIN).expect("parse");
        assert_eq!(ann.cxrs[0].cxr_id, "b", "file order kept");
        assert_eq!(ann.cxrs[0].polygons(Task::AirspaceOpacity).len(), 1);
        assert!(ann.cxrs[1].polygons(Task::Edema).is_empty());
        assert_eq!((ann.cxrs[0].height, ann.cxrs[0].width), (4, 5));
    }

    #[test]
    fn annotation_errors_name_cxr_and_task() {
        let cases = [
            (r#"[]"#, "top level"),
            (r#"{"x": {"Edema": []}}"#, "img_size"),
            (r#"{"x": {"img_size": [0, 3]}}"#, "img_size"),
            (
                r#"{"x": {"img_size": [100000, 100000]}}"#,
                "CXR x, img_size: an image of 100000 x 100000 pixels (h x w) is over the limit",
            ),
            (
                r#"{"x": {"img_size": [2, 3], "Pneumonia": []}}"#,
                "Pneumonia",
            ),
            (
                r#"{"x": {"img_size": [2, 3], "Edema": [[[1, "a"]]]}}"#,
                "task Edema, polygon 0, point 0",
            ),
            (
                r#"{"x": {"img_size": [2, 3], "Edema": [], "Lung Opacity": [], "Airspace Opacity": []}}"#,
                "one entry per task",
            ),
        ];
        for (text, needle) in cases {
            let v: Value = serde_json::from_str(text).expect("json");
            let e = parse_annotations(p(), &v, &Limits::BUILTIN).expect_err(text);
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
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
}
