//! CSV as pandas writes and reads it.
//!
//! Writing: fields are separated by `,`, rows end with `\n`, a field is quoted only when it holds
//! a comma, a quote or a line break (pandas' `QUOTE_MINIMAL`), floats are Python `repr`
//! ([`py_float_repr`]) and NaN is an empty field (pandas' default `na_rep`).
//!
//! Reading: RFC 4180 quoting; an empty numeric field is NaN (pandas' default).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::pyfmt::py_float_repr;
use crate::{IoError, Task, write_atomic};

/// One CSV field to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    /// Text, quoted when needed.
    Str(String),
    /// A float64 column value: Python `repr`, NaN as an empty field.
    Float(f64),
    /// An integer column value.
    Int(i64),
}

impl From<&str> for Field {
    fn from(s: &str) -> Self {
        Field::Str(s.to_owned())
    }
}
impl From<String> for Field {
    fn from(s: String) -> Self {
        Field::Str(s)
    }
}
impl From<f64> for Field {
    fn from(x: f64) -> Self {
        Field::Float(x)
    }
}
impl From<i64> for Field {
    fn from(x: i64) -> Self {
        Field::Int(x)
    }
}

/// Builds a CSV text in memory; [`CsvWriter::write`] stores it atomically.
#[derive(Clone, Debug, Default)]
pub struct CsvWriter {
    text: String,
}

impl CsvWriter {
    /// An empty CSV.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a row.
    pub fn row<I, F>(&mut self, fields: I) -> &mut Self
    where
        I: IntoIterator<Item = F>,
        F: Into<Field>,
    {
        for (i, f) in fields.into_iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            match f.into() {
                Field::Str(s) => push_field(&mut self.text, &s),
                Field::Float(x) if x.is_nan() => {}
                Field::Float(x) => self.text.push_str(&py_float_repr(x)),
                Field::Int(x) => self.text.push_str(&x.to_string()),
            }
        }
        self.text.push('\n');
        self
    }

    /// The CSV text so far.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Writes the CSV to `path` atomically (creating parent folders).
    pub fn write(&self, path: &Path) -> Result<(), IoError> {
        write_atomic(path, self.text.as_bytes())
    }
}

fn push_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// A CSV file read into memory: a header and rows of text fields.
#[derive(Clone, Debug, PartialEq)]
pub struct CsvTable {
    /// The file (for error messages).
    pub path: PathBuf,
    /// The header's field names.
    pub header: Vec<String>,
    /// The data rows.
    pub rows: Vec<Vec<String>>,
}

impl CsvTable {
    /// Reads and parses a CSV file of at most `limits.max_file_bytes`.
    pub fn read(path: &Path, limits: &crate::Limits) -> Result<CsvTable, IoError> {
        let bytes = crate::files::read_file(path, limits)?;
        let text = String::from_utf8(bytes).map_err(|e| IoError::Csv {
            path: path.to_path_buf(),
            line: 1,
            expected: format!(
                "UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        CsvTable::parse(path, &text)
    }

    /// Parses CSV text (`path` names the source in errors).
    ///
    /// Parity: pandas' `read_csv` (encoding `utf-8`) drops a UTF-8 byte order mark at the start
    /// of the file, so a CSV saved by Excel ("CSV UTF-8") reads with its first column named
    /// as written; so does this parser. A BOM anywhere else is kept as text, as pandas keeps it.
    pub fn parse(path: &Path, text: &str) -> Result<CsvTable, IoError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut records = parse_records(path, text)?;
        if records.is_empty() {
            return Err(IoError::Csv {
                path: path.to_path_buf(),
                line: 1,
                expected: "a header row".to_owned(),
            });
        }
        let header = records.remove(0);
        for (i, r) in records.iter().enumerate() {
            if r.len() != header.len() {
                return Err(IoError::Csv {
                    path: path.to_path_buf(),
                    line: i + 2,
                    expected: format!(
                        "{} fields like the header (found {})",
                        header.len(),
                        r.len()
                    ),
                });
            }
        }
        Ok(CsvTable {
            path: path.to_path_buf(),
            header,
            rows: records,
        })
    }

    /// The index of the column named `name`.
    pub fn column(&self, name: &str) -> Result<usize, IoError> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| IoError::Csv {
                path: self.path.clone(),
                line: 1,
                expected: format!("a column named {name:?} (found {:?})", self.header),
            })
    }

    /// The float in data row `row`, column `col`: an empty field is NaN (pandas' default).
    pub fn f64_at(&self, row: usize, col: usize) -> Result<f64, IoError> {
        let s = self.cell(row, col)?.trim();
        if s.is_empty() {
            return Ok(f64::NAN);
        }
        parse_py_float(s).ok_or_else(|| IoError::Csv {
            path: self.path.clone(),
            line: row + 2,
            expected: format!("a number in column {:?} (found {s:?})", self.header[col]),
        })
    }

    /// The task named in data row `row`, column `col`.
    pub fn task_at(&self, row: usize, col: usize) -> Result<Task, IoError> {
        let s = self.cell(row, col)?;
        Task::from_name(s).ok_or_else(|| IoError::Csv {
            path: self.path.clone(),
            line: row + 2,
            expected: format!("a CheXlocalize task name (found {s:?})"),
        })
    }

    /// The text in data row `row`, column `col`; an error naming the line when it is missing.
    fn cell(&self, row: usize, col: usize) -> Result<&str, IoError> {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .map(String::as_str)
            .ok_or_else(|| IoError::Csv {
                path: self.path.clone(),
                line: row + 2,
                expected: format!("a field in column {}", col + 1),
            })
    }

    /// Per-task fixed thresholds of a `threshold,task` table; see [`read_thresholds`].
    pub fn thresholds(&self) -> Result<BTreeMap<Task, f64>, IoError> {
        let (ct, cx) = (self.column("task")?, self.column("threshold")?);
        let mut out = BTreeMap::new();
        for r in 0..self.rows.len() {
            let Some(task) = Task::from_name(self.cell(r, ct)?) else {
                continue;
            };
            let x = self.f64_at(r, cx)?;
            out.entry(task).or_insert(x);
        }
        Ok(out)
    }

    /// Per-task probability cutoffs of a `prob_threshold,mIoU,task` table; see
    /// [`read_probability_cutoffs`].
    pub fn probability_cutoffs(&self) -> Result<BTreeMap<Task, f64>, IoError> {
        let (ct, cp, cm) = (
            self.column("task")?,
            self.column("prob_threshold")?,
            self.column("mIoU")?,
        );
        let mut best: BTreeMap<Task, (f64, f64)> = BTreeMap::new();
        for r in 0..self.rows.len() {
            let Some(task) = Task::from_name(self.cell(r, ct)?) else {
                continue;
            };
            let (p, m) = (self.f64_at(r, cp)?, self.f64_at(r, cm)?);
            if m.is_nan() {
                continue;
            }
            match best.get(&task) {
                Some(&(_, bm)) if bm >= m => {}
                _ => {
                    best.insert(task, (p, m));
                }
            }
        }
        Ok(best.into_iter().map(|(t, (p, _))| (t, p)).collect())
    }

    /// A whole column of floats.
    pub fn f64_column(&self, col: usize) -> Result<Vec<f64>, IoError> {
        (0..self.rows.len()).map(|r| self.f64_at(r, col)).collect()
    }
}

/// Parses a float as pandas' C parser accepts it (also `nan`, `inf`, `-inf`, `NaN`, and every
/// string of pandas' default `na_values`).
fn parse_py_float(s: &str) -> Option<f64> {
    match s {
        "nan" | "NaN" | "NA" | "N/A" | "NULL" | "null" | "-nan" | "-NaN" | "#N/A" | "#N/A N/A"
        | "#NA" | "-1.#IND" | "-1.#QNAN" | "1.#IND" | "1.#QNAN" | "<NA>" | "None" | "n/a" => {
            Some(f64::NAN)
        }
        "inf" | "Infinity" | "+inf" => Some(f64::INFINITY),
        "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse::<f64>().ok(),
    }
}

fn parse_records(path: &Path, text: &str) -> Result<Vec<Vec<String>>, IoError> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut field_started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !field_started => {
                in_quotes = true;
                field_started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                field_started = false;
                records.push(std::mem::take(&mut record));
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if in_quotes {
        return Err(IoError::Csv {
            path: path.to_path_buf(),
            line,
            expected: "a closing quote".to_owned(),
        });
    }
    if field_started || !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    // pandas skips blank lines.
    records.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    Ok(records)
}

/// Per-task fixed thresholds from a `threshold,task` CSV (`tuning_results.csv`).
///
/// Parity: `heatmap_to_segmentation.py` takes `tuning_results[tuning_results['task'] == task]
/// ['threshold'].values[0]`, i.e. the FIRST row of each task; later rows of the same task are
/// ignored, as there. Rows naming unknown tasks are ignored (the reference never looks them up).
pub fn read_thresholds(
    path: &Path,
    limits: &crate::Limits,
) -> Result<BTreeMap<Task, f64>, IoError> {
    CsvTable::read(path, limits)?.thresholds()
}

/// Per-task probability cutoffs from a `prob_threshold,mIoU,task` CSV
/// (`probability_tuning_results.csv`).
///
/// Parity: `heatmap_to_segmentation.py` picks, per task, the row of `groupby('task')['mIoU']
/// .idxmax()`: the row with the highest mIoU, the FIRST such row in file order on ties, NaN
/// mIoUs skipped. A task whose mIoUs are all NaN has no cutoff; pandas raises there, we report
/// an error naming the task when that task is needed (it is left out of the map).
pub fn read_probability_cutoffs(
    path: &Path,
    limits: &crate::Limits,
) -> Result<BTreeMap<Task, f64>, IoError> {
    CsvTable::read(path, limits)?.probability_cutoffs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn writer_quotes_minimally_and_prints_floats_like_pandas() {
        let mut w = CsvWriter::new();
        w.row(["task", "feature", "Linear regression coefficients"]);
        w.row([
            Field::from("Overall"),
            Field::Float(f64::NAN),
            Field::from("0.329, (-0.677, 1.335)"),
        ]);
        w.row([Field::Float(0.1 + 0.2), Field::Int(3), Field::Float(1e-5)]);
        // Expected text: pandas DataFrame.to_csv(index=False) of the same rows.
        assert_eq!(
            w.as_str(),
            "task,feature,Linear regression coefficients\nOverall,,\"0.329, (-0.677, 1.335)\"\n0.30000000000000004,3,1e-05\n"
        );
    }

    #[test]
    fn reader_handles_quotes_nan_and_errors() {
        let t = CsvTable::parse(
            Path::new("x.csv"),
            "a,b\r\n\"1,5\",\n\"he said \"\"hi\"\"\",2.5\n",
        )
        .expect("parse");
        assert_eq!(t.rows[0][0], "1,5");
        assert!(t.f64_at(0, 1).expect("nan").is_nan());
        assert_eq!(t.rows[1][0], "he said \"hi\"");
        assert_eq!(t.f64_at(1, 1).expect("num"), 2.5);
        let e = t.f64_at(0, 0).expect_err("not a number");
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = CsvTable::parse(Path::new("x.csv"), "a,b\n1\n").expect_err("ragged");
        assert!(e.to_string().contains("x.csv: line 2"), "{e}");
        let e = CsvTable::parse(Path::new("x.csv"), "a\n\"open\n").expect_err("quote");
        assert!(e.to_string().contains("closing quote"), "{e}");
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped() {
        // Expected from pandas 3.1.1 (the reference environment): pd.read_csv(io.BytesIO(
        // b"\xef\xbb\xbfthreshold,task\n0.4,Edema\n")) has columns ['threshold', 'task'], and
        // pd.read_csv(io.BytesIO(b"a\n\xef\xbb\xbfb\n"))["a"] is ['\ufeffb'].
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("t.csv");
        std::fs::write(&p, b"\xef\xbb\xbfthreshold,task\n0.4,Edema\n").expect("write");
        let t = CsvTable::read(&p, &crate::Limits::BUILTIN).expect("read");
        assert_eq!(t.header, ["threshold", "task"]);
        assert_eq!(
            read_thresholds(&p, &crate::Limits::BUILTIN)
                .expect("thresholds")
                .get(&Task::Edema),
            Some(&0.4)
        );
        // Only at the start: a BOM inside a field is text.
        let t = CsvTable::parse(Path::new("x.csv"), "a\n\u{feff}b\n").expect("parse");
        assert_eq!(t.rows[0][0], "\u{feff}b");
    }

    #[test]
    fn probability_cutoff_is_first_max() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("p.csv");
        std::fs::write(
            &p,
            "prob_threshold,mIoU,task\n0.0,0.1,Edema\n0.1,0.3,Edema\n0.2,0.3,Edema\n0.0,,Cardiomegaly\n0.1,0.2,Cardiomegaly\n0.0,,Atelectasis\n",
        )
        .expect("write");
        let c = read_probability_cutoffs(&p, &crate::Limits::BUILTIN).expect("read");
        assert_eq!(c.get(&Task::Edema), Some(&0.1));
        assert_eq!(c.get(&Task::Cardiomegaly), Some(&0.1));
        assert_eq!(c.get(&Task::Atelectasis), None);
    }

    #[test]
    fn thresholds_first_row_wins() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("t.csv");
        std::fs::write(
            &p,
            "threshold,task\n0.4,Edema\n0.7,Edema\n0.2,Lung Opacity\n",
        )
        .expect("write");
        let t = read_thresholds(&p, &crate::Limits::BUILTIN).expect("read");
        assert_eq!(t.get(&Task::Edema), Some(&0.4));
        assert_eq!(t.get(&Task::AirspaceOpacity), Some(&0.2));
    }

    proptest! {
        #[test]
        fn write_then_read_round_trips(rows in proptest::collection::vec(proptest::collection::vec("[ -~\n]{0,8}", 3), 1..6)) {
            let mut w = CsvWriter::new();
            w.row(["a", "b", "c"]);
            for r in &rows {
                w.row(r.iter().map(String::as_str));
            }
            let t = CsvTable::parse(Path::new("x.csv"), w.as_str()).expect("parse");
            prop_assert_eq!(t.rows, rows);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,64}") {
            let _ = CsvTable::parse(Path::new("x.csv"), &s);
        }
    }
}
