//! The report: one line per problem and a summary (text), or the same as JSON.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Expected, Kind, Problem, Report};

/// The error returned when the report itself already says what is wrong: `main` exits with 1
/// without printing it again.
#[derive(Debug)]
pub(crate) struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the submission has problems (listed above)")
    }
}

impl std::error::Error for Reported {}

pub(super) fn problem_text(p: &Problem) -> String {
    let mut s = p.file.display().to_string();
    if let Some(id) = &p.cxr_id {
        s.push_str(&format!(": CXR {id}"));
    }
    if let Some(t) = &p.task {
        s.push_str(&format!(", task {t}"));
    }
    s.push_str(&format!(": {}: {}", p.kind.name(), p.message));
    s
}

fn counts(report: &Report) -> BTreeMap<Kind, usize> {
    let mut c = BTreeMap::new();
    for p in &report.problems {
        *c.entry(p.kind).or_insert(0) += 1;
    }
    c
}

pub(super) fn summary_line(
    report: &Report,
    expected: &Expected,
    seg: (usize, usize),
    maps: Option<usize>,
) -> String {
    let checked = format!(
        "{} CXRs expected; segmentations: {} CXRs, {} masks{}",
        expected.len(),
        seg.0,
        seg.1,
        maps.map_or_else(String::new, |n| format!("; heatmaps: {n} files"))
    );
    if report.problems.is_empty() {
        return format!("OK: {checked}; no problems");
    }
    let by_kind: Vec<String> = counts(report)
        .into_iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    format!(
        "FAILED: {} problem{} ({}); {checked}",
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
        by_kind.join(", ")
    )
}

pub(super) fn json_report(
    report: &Report,
    expected: &Expected,
    seg: (usize, usize),
    maps: Option<usize>,
    summary: &str,
) -> String {
    let opt = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| Value::from(s.as_str()));
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "kind": p.kind.name(),
                "file": p.file.display().to_string(),
                "cxr_id": opt(&p.cxr_id),
                "task": opt(&p.task),
                "message": p.message,
            })
        })
        .collect();
    let by_kind: serde_json::Map<String, Value> = counts(report)
        .into_iter()
        .map(|(k, n)| (k.name().to_owned(), Value::from(n)))
        .collect();
    let v = serde_json::json!({
        "ok": report.problems.is_empty(),
        "expected_cxrs": expected.len(),
        "segmentation_cxrs": seg.0,
        "segmentation_masks": seg.1,
        "heatmap_files": maps,
        "problem_counts": by_kind,
        "problems": problems,
        "summary": summary,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
