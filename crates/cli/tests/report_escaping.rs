//! `validate-submission` prints names taken from the submission (file names, JSON keys) escaped:
//! a newline in a name cannot forge a line of the text report, control bytes (ESC, NUL) never
//! reach the terminal, and non-UTF-8 file names are reported with their bytes as `\xNN`.
#![cfg(unix)]

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Output;

use serde_json::{Value as Json, json};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn validate(seg: &Path, maps: &Path, csv: &Path, format: &str) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args([
            "validate-submission",
            "--seg-path",
            s(seg),
            "--map-dir",
            s(maps),
            "--expected",
            s(csv),
            "--format",
            format,
        ])
        .output()
        .expect("the binary runs")
}

const FORGED_ID: &str = "x\nOK: 0 problems";

/// A hostile submission for one expected CXR (`patient1_study1_view1_frontal`, 10 x 10): a CXR
/// id with a newline, a task key with ESC and NUL, a heatmap named with a newline and an ANSI
/// colour sequence, and one whose name is not UTF-8.
fn hostile_submission(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let csv = dir.join("expected.csv");
    std::fs::write(
        &csv,
        "Path,height,width\nCheXpert-v1.0/valid/patient1/study1/view1_frontal.jpg,10,10\n",
    )
    .expect("csv");
    let seg = dir.join("seg.json");
    let v = json!({
        FORGED_ID: {},
        "patient1_study1_view1_frontal": {
            "Ede\u{1b}ma\u{0}": {"size": [10, 10], "counts": "0d1"},
        },
    });
    std::fs::write(&seg, v.to_string()).expect("seg");
    let maps = dir.join("maps");
    std::fs::create_dir(&maps).expect("maps");
    std::fs::write(maps.join("a\n\u{1b}[31mOK_Edema_map.pkl"), b"junk").expect("map");
    let name = std::ffi::OsStr::from_bytes(b"\xff\xfe_Edema_map.pkl");
    std::fs::write(maps.join(name), b"junk").expect("non-UTF-8 map");
    (seg, maps, csv)
}

#[test]
fn names_cannot_forge_lines_or_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().expect("tmp");
    let (seg, maps, csv) = hostile_submission(dir.path());
    let out = validate(&seg, &maps, &csv, "text");
    assert_eq!(out.status.code(), Some(1));
    // No control byte but the line ends.
    assert!(
        out.stdout
            .iter()
            .all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)),
        "raw control byte in: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8(out.stdout).expect("the report is UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    // The problems, counted from the submission: segmentations: the forged id is not expected
    // (extra_cxr), the ESC/NUL key is no task (unknown_task), so the expected CXR misses all 10
    // tasks (missing_task x 10); heatmaps: the newline name's CXR is not expected
    // (extra_heatmap), the non-UTF-8 name is no heatmap name (bad_heatmap_name), and the
    // expected CXR has no heatmap of any task (missing_heatmap x 10). 24 lines and the summary.
    let summary = "FAILED: 24 problems (extra_cxr 1, unknown_task 1, missing_task 10, \
                   bad_heatmap_name 1, extra_heatmap 1, missing_heatmap 10); 1 CXRs expected; \
                   segmentations: 2 CXRs, 0 masks; heatmaps: 2 files";
    assert_eq!(lines.len(), 25, "{text}");
    assert_eq!(lines.last().copied(), Some(summary), "{text}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("OK") || l.starts_with("FAILED"))
            .count(),
        1,
        "{text}"
    );
    let (seg_s, maps_s) = (s(&seg), s(&maps));
    for want in [
        format!(r"{seg_s}: CXR x\nOK: 0 problems: extra_cxr: not in the expected list"),
        format!(
            r"{seg_s}: CXR patient1_study1_view1_frontal, task Ede\x1bma\0: unknown_task: not one of"
        ),
        format!(
            r"{maps_s}/a\n\x1b[31mOK_Edema_map.pkl: CXR a\n\x1b[31mOK, task Edema: extra_heatmap: CXR not in the expected list"
        ),
        format!(r"{maps_s}/\xff\xfe_Edema_map.pkl: bad_heatmap_name: the file name is not UTF-8"),
    ] {
        assert!(
            lines.iter().any(|l| l.starts_with(&want)),
            "no line starting {want:?} in:\n{text}"
        );
    }
}

#[test]
fn the_json_report_keeps_names_exact_and_escaped_by_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let (seg, maps, csv) = hostile_submission(dir.path());
    let out = validate(&seg, &maps, &csv, "json");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout
            .iter()
            .all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)),
        "raw control byte in the JSON report"
    );
    let v: Json = serde_json::from_slice(&out.stdout).expect("json report");
    let problems = v["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 24);
    let find = |kind: &str| {
        problems
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    // JSON strings carry the names exactly (decoded by the parser).
    assert_eq!(find("extra_cxr")["cxr_id"], FORGED_ID);
    assert_eq!(find("unknown_task")["task"], "Ede\u{1b}ma\u{0}");
    assert_eq!(find("extra_heatmap")["cxr_id"], "a\n\u{1b}[31mOK");
    // A non-UTF-8 file name cannot be a JSON string: its bytes are written \xNN.
    let bad = find("bad_heatmap_name")["file"].as_str().expect("file");
    assert!(bad.ends_with(r"/\xff\xfe_Edema_map.pkl"), "{bad}");
}
