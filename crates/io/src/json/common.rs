//! What the JSON readers and writers share: the `{cxr_id: {...}}` top level, task keys, sizes,
//! points and Python's number format.

use std::path::Path;

use serde_json::{Map, Value};

use crate::pyfmt::json_float;
use crate::{IoError, Task};

/// A CXR id and its JSON object.
pub(super) type CxrObject<'a> = (&'a String, &'a Map<String, Value>);

/// The per-CXR objects of a `{cxr_id: {...}}` file, in file order.
pub(super) fn cxr_objects<'a>(
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

/// The task a key names; any other key is an error.
pub(super) fn task_key(path: &Path, cxr_id: &str, key: &str) -> Result<Task, IoError> {
    Task::from_name(key).ok_or_else(|| {
        IoError::schema(
            path,
            format!("CXR {cxr_id}, key {key:?}"),
            "one of the 10 CheXlocalize task names",
        )
    })
}

/// Appends `(task, value)`; a second entry for one task is an error.
pub(super) fn push_unique<T>(
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

/// A non-negative integer that fits a `usize`.
pub(super) fn as_size(v: &Value) -> Option<usize> {
    if let Some(u) = v.as_u64() {
        return usize::try_from(u).ok();
    }
    None
}

/// A point `[x, y]` of two finite numbers.
pub(super) fn point(path: &Path, loc: &dyn Fn() -> String, v: &Value) -> Result<[f64; 2], IoError> {
    let bad = || IoError::schema(path, loc(), "a point [x, y] of two finite numbers");
    let a = v.as_array().ok_or_else(bad)?;
    if a.len() != 2 {
        return Err(bad());
    }
    let x = a[0].as_f64().filter(|x| x.is_finite()).ok_or_else(bad)?;
    let y = a[1].as_f64().filter(|y| y.is_finite()).ok_or_else(bad)?;
    Ok([x, y])
}

/// Writes `[[x, y], ...]` as `json.dump` does.
pub(super) fn push_points(out: &mut String, pts: &[[f64; 2]]) {
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
