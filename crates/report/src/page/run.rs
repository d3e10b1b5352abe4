//! The run's parameters and stage timings (`run.json`).

use std::path::Path;

use serde_json::Value;

use super::{Options, Page};
use crate::tables::{esc, num};

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

/// `run.json`, or the note to show instead.
pub(super) fn read_run_json(run: &Path) -> Result<RunJson, String> {
    let path = run.join("run.json");
    if !path.is_file() {
        return Err(
            "Not in this run: run.json (the parameters and timings of `cargo xtask reproduce`)."
                .to_owned(),
        );
    }
    let v = chexlocalize_io::read_json(&path).map_err(|e| format!("Left out: {e}"))?;
    let bad = |what: &str| format!("Left out: {}: expected {what}", path.display());
    let obj = v
        .as_object()
        .ok_or_else(|| bad("an object {\"parameters\": {...}, \"stages\": [...]}"))?;
    let parameters = match obj.get("parameters") {
        None => Vec::new(),
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), text_of(v))).collect(),
        Some(_) => return Err(bad("\"parameters\" to be an object of names and values")),
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
        Some(_) => return Err(bad("\"stages\" to be a list")),
    };
    Ok(RunJson { parameters, stages })
}

pub(super) fn run_section(
    page: &mut Page,
    run_json: Result<RunJson, String>,
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
        Err(note) => page.note(&note),
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
