//! Salient-point files of a human benchmark: `{cxr_id: {task: [[x, y], ...]}}`.

use std::path::Path;

use serde_json::Value;

use super::common::{cxr_objects, point, push_points, push_unique, task_key};
use crate::json_value::read_json;
use crate::pyfmt::push_json_string;
use crate::{IoError, Limits, Task};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_json_dump_text() {
        let text = r#"{"c": {"Edema": [[1, 2.5], [3, 4]], "Lung Opacity": []}, "d": {}}"#;
        let v: Value = serde_json::from_str(text).expect("json");
        let pts = parse_salient_points(Path::new("p.json"), &v).expect("parse");
        assert_eq!(
            pts.get("c", Task::Edema),
            Some(&[[1.0, 2.5], [3.0, 4.0]][..])
        );
        assert_eq!(pts.get("c", Task::AirspaceOpacity), Some(&[][..]));
        assert_eq!(pts.get("d", Task::Edema), None);
        assert_eq!(
            salient_points_to_json_string(&pts),
            r#"{"c": {"Edema": [[1, 2.5], [3, 4]], "Airspace Opacity": []}, "d": {}}"#
        );
    }

    #[test]
    fn point_errors_name_cxr_task_and_point() {
        for (text, needle) in [
            (
                r#"{"c": []}"#,
                "CXR c: expected an object {task: [[x, y], ...]}",
            ),
            (r#"{"c": {"Edema": [[1]]}}"#, "CXR c, task Edema, point 0"),
            (r#"{"c": {"Pneumonia": []}}"#, "key \"Pneumonia\""),
        ] {
            let v: Value = serde_json::from_str(text).expect("json");
            let e = parse_salient_points(Path::new("p.json"), &v).expect_err(text);
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }
}
