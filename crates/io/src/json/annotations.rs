//! Annotation files: `{cxr_id: {"img_size": [h, w], task: [[[x, y], ...], ...], ...}, ...}`.

use std::path::Path;

use serde_json::Value;

use super::common::{as_size, cxr_objects, point, push_points, push_unique, task_key};
use crate::json_value::read_json;
use crate::pyfmt::push_json_string;
use crate::{IoError, Limits, Task};

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
}
