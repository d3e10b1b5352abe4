//! The report: one line per problem and a summary (text), or the same as JSON.
//!
//! Names come from the submission (file names, JSON keys, strings in heatmap files), so the text
//! report prints each through [`escape_name`]: one line per problem whatever the names hold, and
//! no control byte reaches the terminal. The JSON report is escaped by `serde_json`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::{Expected, Kind, Problem, Report};

/// A name as the reports print it: a backslash doubled, `\n`, `\r`, `\t` and `\0` for those
/// characters, `\xNN` for the other ASCII control characters (ESC is `\x1b`), `\u{NN}` for
/// the C1 controls and for the Unicode line separators and bidirectional controls (which could
/// break or reorder a line on a terminal). Everything else is printed as is.
pub(super) fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    escape_into(&mut out, name, true);
    out
}

/// [`escape_name`] of a path; bytes that are not UTF-8 are written `\xNN`.
pub(super) fn escape_path(path: &Path) -> String {
    let mut out = String::new();
    for chunk in path.as_os_str().as_encoded_bytes().utf8_chunks() {
        escape_into(&mut out, chunk.valid(), true);
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// A path for the JSON report: as it is when it is UTF-8, else [`escape_path`]'s form.
fn path_json(path: &Path) -> String {
    path.to_str()
        .map_or_else(|| escape_path(path), str::to_owned)
}

/// Writes `s` with its control characters escaped (and its backslashes doubled when `backslash`:
/// names; messages, whose names are escaped already, keep theirs).
fn escape_into(out: &mut String, s: &str, backslash: bool) {
    for c in s.chars() {
        match c {
            '\\' if backslash => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            '\u{80}'..='\u{9f}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// One line of the text report: `file: CXR id, task t: kind: message`, every name escaped.
pub(super) fn problem_text(p: &Problem) -> String {
    let mut s = escape_path(&p.file);
    if let Some(id) = &p.cxr_id {
        s.push_str(": CXR ");
        s.push_str(&escape_name(id));
    }
    if let Some(t) = &p.task {
        s.push_str(", task ");
        s.push_str(&escape_name(t));
    }
    s.push_str(": ");
    s.push_str(p.kind.name());
    s.push_str(": ");
    // The names a message quotes are escaped where it is made; this catches control characters
    // in texts from elsewhere (error messages quoting a file's contents).
    escape_into(&mut s, &p.message, false);
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
                "file": path_json(&p.file),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_unambiguously() {
        // Expected strings written by hand from the rules in `escape_name`'s documentation.
        assert_eq!(escape_name("patient1_study1"), "patient1_study1");
        assert_eq!(escape_name("Pleural Effusion é"), "Pleural Effusion é");
        assert_eq!(escape_name("a\nb\r\tc\0"), r"a\nb\r\tc\0");
        assert_eq!(escape_name("\u{1b}[2J\u{7f}\u{7}"), r"\x1b[2J\x7f\x07");
        // A literal backslash-n stays distinguishable from an escaped newline.
        assert_eq!(escape_name(r"a\n"), r"a\\n");
        assert_eq!(
            escape_name("\u{85}\u{2028}\u{202e}x\u{2066}"),
            r"\u{85}\u{2028}\u{202e}x\u{2066}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            let p = Path::new(std::ffi::OsStr::from_bytes(b"d/\xffa\nb\xc3"));
            assert_eq!(escape_path(p), r"d/\xffa\nb\xc3");
            assert_eq!(path_json(p), r"d/\xffa\nb\xc3");
            assert_eq!(path_json(Path::new("d/a\nb")), "d/a\nb");
        }
    }
}
