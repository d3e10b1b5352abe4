//! The run's parameters and stage timings (`run.json`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Options, Page};
use chexlocalize_io::{Limits, RunLayout};

use crate::tables::{esc, num};
use chexlocalize_io::chain_text;

/// The run's `run.json`.
pub(super) struct RunJson {
    /// `"parameters"`: names and values, in the file's order.
    pub(super) parameters: Vec<(String, String)>,
    /// `"stages"`: name, seconds, status.
    stages: Vec<(String, f64, String)>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Why `run.json` is left out of the report.
#[derive(Debug, thiserror::Error)]
pub(super) enum RunJsonError {
    /// The run has no `run.json`.
    #[error("Not in this run: run.json (the parameters and timings of `cargo xtask reproduce`).")]
    Missing,
    /// It could not be read or is not JSON.
    #[error(transparent)]
    Read(chexlocalize_io::IoError),
    /// It is JSON of another shape.
    #[error("{path}: expected {expected}")]
    Shape {
        path: PathBuf,
        expected: RunJsonPart,
    },
}

impl RunJsonError {
    /// The note the report shows instead of the parameters and timings.
    fn note(&self) -> String {
        match self {
            RunJsonError::Missing => self.to_string(),
            other => format!("Left out: {}", chain_text(other)),
        }
    }
}

/// The part of `run.json` that has the wrong shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum RunJsonPart {
    /// The whole document is not an object.
    Document,
    /// `"parameters"` is not an object.
    Parameters,
    /// `"stages"` is not a list.
    Stages,
}

impl std::fmt::Display for RunJsonPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunJsonPart::Document => "an object {\"parameters\": {...}, \"stages\": [...]}",
            RunJsonPart::Parameters => "\"parameters\" to be an object of names and values",
            RunJsonPart::Stages => "\"stages\" to be a list",
        })
    }
}

/// `run.json` of the run folder `run`.
pub(super) fn read_run_json(run: &RunLayout, limits: &Limits) -> Result<RunJson, RunJsonError> {
    let path = run.run_json();
    if !path.is_file() {
        return Err(RunJsonError::Missing);
    }
    let v = chexlocalize_io::read_json(&path, limits).map_err(RunJsonError::Read)?;
    let bad = |expected| RunJsonError::Shape {
        path: path.clone(),
        expected,
    };
    let obj = v.as_object().ok_or_else(|| bad(RunJsonPart::Document))?;
    let parameters = match obj.get("parameters") {
        None => Vec::new(),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
        Some(_) => return Err(bad(RunJsonPart::Parameters)),
    };
    let stages = match obj.get("stages") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| {
                let field = |k: &str| s.get(k);
                (
                    field("name").map(text_of).unwrap_or_default(),
                    field("seconds").and_then(Value::as_f64).unwrap_or(f64::NAN),
                    field("status").map(text_of).unwrap_or_default(),
                )
            })
            .collect(),
        Some(_) => return Err(bad(RunJsonPart::Stages)),
    };
    Ok(RunJson { parameters, stages })
}

pub(super) fn run_section(
    page: &mut Page,
    run_json: Result<RunJson, RunJsonError>,
    data: Option<&Path>,
    options: &Options,
) {
    page.section("run", "Run parameters and timings");
    let mut params: Vec<(String, String)> = Vec::new();
    let mut stages = Vec::new();
    match run_json {
        Ok(j) => {
            params = j.parameters;
            stages = j.stages;
        }
        Err(e) => page.note(&e.note()),
    }
    params.push((
        "report".to_owned(),
        format!(
            "chexlocalize-report {}; {} overlays per task, {} px wide; X-rays and heatmaps from {}",
            env!("CARGO_PKG_VERSION"),
            options.overlays_per_task,
            options.overlay_width,
            data.map_or_else(|| "(none)".to_owned(), |d| d.display().to_string())
        ),
    ));
    let mut h =
        String::from("<div class=\"cols\"><div><h3>Parameters</h3><table class=\"params\"><tbody>");
    for (k, v) in &params {
        h.push_str(&format!(
            "<tr><th>{}</th><td style=\"text-align:left\">{}</td></tr>",
            esc(k),
            esc(v)
        ));
    }
    h.push_str("</tbody></table></div>");
    if !stages.is_empty() {
        h.push_str(
            "<div><h3>Stages</h3><table class=\"stages\"><thead><tr><th>Stage</th>\
             <th>Seconds</th><th style=\"text-align:left\">Status</th></tr></thead><tbody>",
        );
        let mut total = 0.0;
        for (name, secs, status) in &stages {
            if secs.is_finite() {
                total += secs;
            }
            let class = if status == "done" {
                "done"
            } else if status.starts_with("skipped") {
                "skipped"
            } else {
                "failed"
            };
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td class=\"{class}\">{}</td></tr>",
                esc(name),
                num(*secs, 3),
                esc(status)
            ));
        }
        h.push_str(&format!(
            "<tr class=\"avg\"><td>Total</td><td>{}</td><td></td></tr></tbody></table></div>",
            num(total, 3)
        ));
    }
    h.push_str("</div>");
    page.push(&h);
    page.end_section();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The notes shown instead of the run's parameters: what was wrong and where, cause once.
    #[test]
    fn a_bad_run_json_is_a_note_naming_the_file_and_what_was_expected() {
        let tmp = tempfile::tempdir().expect("tmp");
        let note = |text: Option<&str>| {
            if let Some(t) = text {
                std::fs::write(tmp.path().join("run.json"), t).expect("write");
            }
            read_run_json(&RunLayout::new(tmp.path()), &Limits::BUILTIN)
                .err()
                .map(|e| e.note())
        };
        assert_eq!(
            note(None).as_deref(),
            Some(
                "Not in this run: run.json (the parameters and timings of `cargo xtask reproduce`)."
            )
        );
        let path = tmp.path().join("run.json");
        let p = path.display();
        for (text, expected) in [
            (
                "[1]",
                "an object {\"parameters\": {...}, \"stages\": [...]}",
            ),
            (
                "{\"parameters\": 3}",
                "\"parameters\" to be an object of names and values",
            ),
            ("{\"stages\": {}}", "\"stages\" to be a list"),
        ] {
            assert_eq!(
                note(Some(text)),
                Some(format!("Left out: {p}: expected {expected}")),
                "{text}"
            );
        }
        let bad = note(Some("{not json")).expect("a note");
        assert!(
            bad.starts_with(&format!("Left out: {p}: not valid JSON: ")),
            "{bad}"
        );
        assert_eq!(bad.matches("line 1 column 2").count(), 1, "{bad}");
        assert!(note(Some("{\"parameters\": {\"a\": 1}}")).is_none());
    }
}
