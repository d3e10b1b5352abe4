//! The untrusted-input sections of `BENCHMARKS.md`, written by the same `cargo xtask bench` run:
//! the default limits (from `chexlocalize_io::Limits::BUILTIN`), each hostile input of issue 17
//! and each largest input the defaults accept run through the release binary (outcome, wall time,
//! peak RSS), and the last fuzzing run (`fuzz/RESULTS.md`, written by `fuzz/run-all.sh`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chexlocalize_io::Limits;
use chexlocalize_testkit::hostile::{self, CXR};

use crate::measure::measure_any;
use crate::util::workspace_root;

/// One hostile run: what it is, the command (its folder holds the inputs), and the files to
/// write there first.
struct Row {
    what: &'static str,
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

/// A heatmap folder holding one hostile Edema map, segmented.
fn heatmap_row(what: &'static str, bytes: Vec<u8>) -> Row {
    Row {
        what,
        files: vec![(format!("maps/{}", hostile::map_name(CXR, "Edema")), bytes)],
        args: strings(&[
            "heatmap-to-segmentation",
            "--map_dir",
            "maps",
            "--output_path",
            "out.json",
        ]),
    }
}

fn rows() -> Vec<Row> {
    let seg = hostile::largest_segmentations(CXR, 6_300_000).into_bytes();
    vec![
        heatmap_row(
            "pickle: map of 200 000 nested 1-tuples (200 KB)",
            hostile::nested_tuple_map(200_000),
        ),
        heatmap_row(
            "pickle: dict of 400 000 keys, one SETITEM each (4.8 MB)",
            hostile::many_keys(400_000),
        ),
        heatmap_row(
            "torch zip: one 20 MB entry under 1 000 names",
            hostile::zip_aliased_storage(20 << 20, 1000),
        ),
        heatmap_row(
            "pickle: 1 element viewed as 1x1x16384x16384, strides 0",
            hostile::zero_stride_map(16_384),
        ),
        heatmap_row(
            "largest heatmap the defaults accept (2048² map, 5792² CXR)",
            hostile::largest_heatmap("Edema"),
        ),
        Row {
            what: "annotations: polygon coordinates beyond int32",
            files: vec![(
                "ann.json".to_owned(),
                hostile::huge_polygon_annotations().into_bytes(),
            )],
            args: strings(&[
                "annotation-to-segmentation",
                "--ann_path",
                "ann.json",
                "--output_path",
                "out.json",
            ]),
        },
        Row {
            what: "JSON of 2^23 + 1 values (one past --max-json-values)",
            files: vec![(
                "seg.json".to_owned(),
                hostile::json_values((1 << 23) + 1).into_bytes(),
            )],
            args: strings(&["count-segs", "--seg_path", "seg.json", "--save_dir", "out"]),
        },
        Row {
            what: "segmentation JSON at the file limit (63 MB; 10 masks of 6.3 M runs), read as gt and pred",
            files: vec![("seg.json".to_owned(), seg)],
            args: strings(&[
                "eval",
                "--metric",
                "iou",
                "--gt_path",
                "seg.json",
                "--pred_path",
                "seg.json",
                "--save_dir",
                "out",
            ]),
        },
        Row {
            what: "--seg-path /dev/zero",
            files: Vec::new(),
            args: strings(&[
                "validate-submission",
                "--seg-path",
                "/dev/zero",
                "--expected",
                "/dev/zero",
            ]),
        },
        Row {
            what: "--grid 0:1:1e-12 (10^12 candidates)",
            files: Vec::new(),
            args: strings(&[
                "tune-heatmap-threshold",
                "--map_dir",
                "maps",
                "--gt_path",
                "gt.json",
                "--save_dir",
                "out",
                "--grid",
                "0:1:1e-12",
            ]),
        },
    ]
}

/// The end of the error line (the reason; its start names the file), for the table.
fn first_line(stderr: &str) -> String {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or("")
        .replace('|', "\\|");
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= 110 {
        return line;
    }
    let tail: String = chars[chars.len() - 110..].iter().collect();
    format!("…{tail}")
}

/// Appends the limits, hostile-input and fuzzing sections to `md`.
pub(crate) fn write_sections(md: &mut String, bin: &Path, scratch: &Path) -> Result<()> {
    let l = Limits::BUILTIN;
    writeln!(md, "\n## Untrusted input\n")?;
    writeln!(
        md,
        "Default limits (`chexlocalize_io::Limits::BUILTIN`; flags `--max-*`, see README):\n"
    )?;
    writeln!(md, "| limit | default |\n|---|---:|")?;
    for (name, v) in [
        ("file bytes (`--max-file-bytes`)", l.max_file_bytes),
        ("JSON values (`--max-json-values`)", l.max_json_values),
        ("image pixels (`--max-image-pixels`)", l.max_image_pixels),
        ("image side (`--max-image-side`)", l.max_image_side),
        (
            "tensor elements (`--max-tensor-elements`)",
            l.pickle.max_elements,
        ),
        ("pickle string / bytes object", l.pickle.max_bytes_object),
        ("pickle nesting depth", l.pickle.max_depth as u64),
        ("pickle stack, memo", l.pickle.max_stack as u64),
        ("pickle containers, zip entries", l.pickle.max_containers),
        ("decoded pickle objects", l.pickle.max_values),
        ("decoded pickle bytes", l.pickle.max_value_bytes),
    ] {
        writeln!(md, "| {name} | {v} |")?;
    }
    writeln!(
        md,
        "\nHostile inputs (`chexlocalize_testkit::hostile`), each run once by the release binary \
         with the default limits; exit 1 is the expected clear error, exit 2 a usage error:\n"
    )?;
    writeln!(
        md,
        "| input | command | exit | seconds | peak (MB) | message |\n|---|---|---:|---:|---:|---|"
    )?;
    for (i, row) in rows().into_iter().enumerate() {
        let dir: PathBuf = scratch.join(format!("case{i}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("maps"))?;
        for (name, bytes) in &row.files {
            let p = dir.join(name);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
        }
        let o = measure_any(bin, &row.args, &dir)?;
        writeln!(
            md,
            "| {} | `{}` | {} | {:.2} | {} | {} |",
            row.what,
            row.args[0],
            o.code.map_or("signal".to_owned(), |c| c.to_string()),
            o.measure.seconds,
            o.measure
                .peak_mb
                .map_or("–".to_owned(), |m| format!("{m:.0}")),
            first_line(&o.stderr),
        )?;
        let _ = std::fs::remove_dir_all(&dir);
    }
    let fuzz = workspace_root().join("fuzz/RESULTS.md");
    match std::fs::read_to_string(&fuzz) {
        Ok(text) => writeln!(
            md,
            "\n### Fuzzing (`fuzz/RESULTS.md`)\n\n{}",
            text.trim_end()
        )?,
        Err(_) => writeln!(
            md,
            "\nFuzzing: no `fuzz/RESULTS.md` (run `fuzz/run-all.sh`)."
        )?,
    }
    Ok(())
}
