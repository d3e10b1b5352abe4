//! `inspect`: a safe look into submission files.

use std::path::{Path, PathBuf};

use chexlocalize_io::pickle::{CxrImg, Prob, Tensor, Value};
use chexlocalize_io::{Field, HeatmapRecord, Limits, Task, py_float_repr};
use chexlocalize_metrics::pairwise_sum;

use crate::error::{Error, Result};
use crate::options::{Notes, Options, Outcome};

/// Inputs of [`inspect`].
#[derive(Clone, Debug)]
pub struct Inspect {
    /// Heatmap files (`.pkl`, `.pt`, `.npy` with its sidecar; or folders searched recursively
    /// for `*_map.pkl|.pt|.npy`) or segmentation JSON files.
    pub paths: Vec<PathBuf>,
    /// Output format.
    pub format: InspectFormat,
    /// Also write the text to this file (atomically).
    pub output: Option<PathBuf>,
}

/// The format of [`inspect`]'s summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InspectFormat {
    /// Aligned columns for a terminal.
    #[default]
    Table,
    /// CSV (the reference's `pkl_summary.csv` columns for heatmaps).
    Csv,
    /// A JSON array of objects.
    Json,
}

/// What [`inspect`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// The summary in the requested format.
    pub text: String,
    /// The file written, if any.
    pub outcome: Outcome,
}

/// Column names of a heatmap summary: those of the reference's `pkl_summary.csv`.
const PKL_COLUMNS: [&str; 13] = [
    "file",
    "task",
    "gt",
    "cxr_img",
    "cxr_w",
    "cxr_h",
    "prob",
    "map_shape",
    "map_min",
    "map_max",
    "map_sum_f64",
    "argmax_row",
    "argmax_col",
];

const SEG_COLUMNS: [&str; 6] = ["cxr_id", "task", "h", "w", "area", "bbox"];

/// Summarises heatmap files (one row each) or segmentation JSON files (one row per mask)
/// without running any of their code.
pub fn inspect(args: &Inspect, options: &Options) -> Result<Inspection> {
    let limits = &options.limits;
    let mut pickles = Vec::new();
    let mut jsons = Vec::new();
    for p in &args.paths {
        if p.is_dir() {
            pickles.extend(
                chexlocalize_io::list_heatmaps(p)?
                    .into_iter()
                    .map(|f| f.path),
            );
        } else if p
            .extension()
            .is_some_and(|e| e == "pkl" || e == "pt" || e == "npy")
        {
            // A file given by name is inspected whatever it is called.
            pickles.push(p.clone());
        } else if p.extension().is_some_and(|e| e == "json") {
            jsons.push(p.clone());
        } else if !p.exists() {
            return Err(Error::input(p, "no such file or folder"));
        } else {
            return Err(Error::input(
                p,
                "expected a heatmap file (*.pkl, *.pt, *.npy), a folder of them, or a segmentation JSON",
            ));
        }
    }
    if !pickles.is_empty() && !jsons.is_empty() {
        return Err(Error::Options(
            "inspect either heatmap pickles or segmentation JSON files in one call, not both"
                .to_owned(),
        ));
    }
    let (columns, rows): (&[&str], Vec<Vec<Field>>) = if jsons.is_empty() {
        pickles.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then_with(|| a.cmp(b)));
        let rows = pickles
            .iter()
            .map(|p| {
                let rec = chexlocalize_io::read_heatmap(p, limits)?;
                Ok(heatmap_row(p, &rec))
            })
            .collect::<Result<Vec<_>>>()?;
        (&PKL_COLUMNS, rows)
    } else {
        let mut rows = Vec::new();
        for j in &jsons {
            rows.extend(segmentation_rows(j, limits)?);
        }
        (&SEG_COLUMNS, rows)
    };
    let text = render(args.format, columns, &rows);
    let written = match &args.output {
        Some(path) => {
            chexlocalize_io::write_atomic(path, text.as_bytes())?;
            vec![path.clone()]
        }
        None => Vec::new(),
    };
    Ok(Inspection {
        text,
        outcome: Notes::default().outcome(written),
    })
}

fn heatmap_row(path: &Path, rec: &HeatmapRecord) -> Vec<Field> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let map = rec.map.to_f64_vec();
    let (min, max) = min_max(&map);
    let (row, col) = argmax_2d(&map, &rec.map.shape);
    vec![
        Field::Str(file),
        Field::Str(rec.task.clone()),
        Field::Str(value_text(&rec.gt)),
        Field::Str(match &rec.cxr_img {
            CxrImg::Path(p) => p.clone(),
            CxrImg::Tensor(t) => tensor_text(t),
            CxrImg::Other(v) => value_text(v),
        }),
        Field::Int(rec.cxr_dims.0),
        Field::Int(rec.cxr_dims.1),
        Field::Str(match &rec.prob {
            Prob::Float(x) => py_float_repr(*x),
            Prob::Tensor(t) => t
                .to_f64_vec()
                .iter()
                .map(|x| py_float_repr(*x))
                .collect::<Vec<_>>()
                .join(";"),
        }),
        Field::Str(shape_text(&rec.map.shape)),
        float_field(min),
        float_field(max),
        float_field(pairwise_sum(&map)),
        Field::Int(row as i64),
        Field::Int(col as i64),
    ]
}

/// NaN is printed as `nan` here (a value, not a missing field).
fn float_field(x: f64) -> Field {
    Field::Str(py_float_repr(x))
}

fn shape_text(shape: &[usize]) -> String {
    shape
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

fn tensor_text(t: &Tensor) -> String {
    format!(
        "tensor:{}:{}:sum={}",
        t.dtype().torch_name(),
        shape_text(&t.shape),
        py_float_repr(pairwise_sum(&t.to_f64_vec()))
    )
}

/// Python `repr`-like text of a scalar pickle value.
fn value_text(v: &Value) -> String {
    match v {
        Value::None => "None".to_owned(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => py_float_repr(*x),
        Value::Str(s) => s.clone(),
        Value::Tensor(t) => tensor_text(t),
        other => format!("{other:?}"),
    }
}

/// Minimum and maximum as torch's `min()`/`max()`: NaN if any element is NaN.
fn min_max(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for &x in v {
        if x.is_nan() {
            return (f64::NAN, f64::NAN);
        }
        lo = lo.min(x);
        hi = hi.max(x);
    }
    (lo, hi)
}

/// `np.unravel_index(np.argmax(m), m.shape[-2:])` of the map: the first maximum in row-major
/// order (the first NaN if there is one), as (row, column) of the last two dimensions.
fn argmax_2d(v: &[f64], shape: &[usize]) -> (usize, usize) {
    let mut best = 0usize;
    for (i, &x) in v.iter().enumerate() {
        if x.is_nan() {
            best = i;
            break;
        }
        if x > v[best] {
            best = i;
        }
    }
    let w = shape.last().copied().unwrap_or(1).max(1);
    let h = if shape.len() >= 2 {
        shape[shape.len() - 2].max(1)
    } else {
        1
    };
    ((best / w) % h, best % w)
}

fn segmentation_rows(path: &Path, limits: &Limits) -> Result<Vec<Vec<Field>>> {
    let segs = chexlocalize_io::read_segmentations(path, limits)?;
    let mut rows = Vec::new();
    for id in segs.sorted_ids() {
        for task in Task::SORTED {
            if let Some(rle) = segs.get(id, task) {
                let b = rle.bbox();
                rows.push(vec![
                    Field::Str(id.to_owned()),
                    Field::Str(task.name().to_owned()),
                    Field::Int(rle.height() as i64),
                    Field::Int(rle.width() as i64),
                    Field::Int(rle.area() as i64),
                    Field::Str(
                        b.iter()
                            .map(|x| py_float_repr(*x))
                            .collect::<Vec<_>>()
                            .join(";"),
                    ),
                ]);
            }
        }
    }
    Ok(rows)
}

fn field_text(f: &Field) -> String {
    match f {
        Field::Str(s) => s.clone(),
        Field::Float(x) if x.is_nan() => String::new(),
        Field::Float(x) => py_float_repr(*x),
        Field::Int(i) => i.to_string(),
    }
}

fn render(format: InspectFormat, columns: &[&str], rows: &[Vec<Field>]) -> String {
    match format {
        InspectFormat::Csv => {
            let mut w = chexlocalize_io::CsvWriter::new();
            w.row(columns.iter().copied());
            for r in rows {
                w.row(r.iter().cloned());
            }
            w.as_str().to_owned()
        }
        InspectFormat::Json => {
            let mut out = String::from("[");
            for (i, r) in rows.iter().enumerate() {
                out.push_str(if i == 0 { "\n  {" } else { ",\n  {" });
                for (j, (c, f)) in columns.iter().zip(r).enumerate() {
                    if j > 0 {
                        out.push_str(", ");
                    }
                    chexlocalize_io::push_json_string(&mut out, c);
                    out.push_str(": ");
                    match f {
                        Field::Int(i) => out.push_str(&i.to_string()),
                        Field::Float(x) => out.push_str(&chexlocalize_io::json_float(*x)),
                        Field::Str(s) => chexlocalize_io::push_json_string(&mut out, s),
                    }
                }
                out.push('}');
            }
            out.push_str("\n]\n");
            out
        }
        InspectFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| r.iter().map(field_text).collect())
                .collect();
            let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
            for r in &cells {
                for (w, c) in widths.iter_mut().zip(r) {
                    *w = (*w).max(c.chars().count());
                }
            }
            let mut out = String::new();
            let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
                let parts: Vec<String> = cells
                    .zip(&widths)
                    .map(|(c, w)| format!("{c:<w$}"))
                    .collect();
                out.push_str(parts.join("  ").trim_end());
                out.push('\n');
            };
            line(&mut out, &mut columns.iter().copied());
            for r in &cells {
                line(&mut out, &mut r.iter().map(String::as_str));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_is_first_max_row_major() {
        let v = [0.0, 3.0, 1.0, 3.0, 2.0, 0.0];
        assert_eq!(argmax_2d(&v, &[1, 1, 2, 3]), (0, 1));
        let v = [0.0, 3.0, f64::NAN, 5.0];
        assert_eq!(argmax_2d(&v, &[2, 2]), (1, 0));
    }

    #[test]
    fn min_max_nan_poisons() {
        assert_eq!(min_max(&[1.0, -2.0, 3.0]), (-2.0, 3.0));
        assert!(min_max(&[1.0, f64::NAN]).0.is_nan());
    }
}
