//! The run's CSV tables as the report reads them, and HTML rendering of tables and numbers.

use std::collections::BTreeMap;

use chexlocalize_io::{CsvTable, IoError, Task};

/// A value with its 95 % confidence interval; NaN where unknown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ci {
    pub(crate) mean: f64,
    pub(crate) lower: f64,
    pub(crate) upper: f64,
}

impl Ci {
    pub(crate) const NAN: Ci = Ci {
        mean: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
    };
}

/// An `eval` summary (`name,lower,mean,upper`, one row per task) by task; rows that do not name
/// a task are ignored.
pub(crate) fn summary(t: &CsvTable) -> Result<BTreeMap<Task, Ci>, IoError> {
    let (cn, cl, cm, cu) = (
        t.column("name")?,
        t.column("lower")?,
        t.column("mean")?,
        t.column("upper")?,
    );
    let mut out = BTreeMap::new();
    for r in 0..t.rows.len() {
        if let Some(task) = Task::from_name(&t.rows[r][cn]) {
            out.insert(
                task,
                Ci {
                    mean: t.f64_at(r, cm)?,
                    lower: t.f64_at(r, cl)?,
                    upper: t.f64_at(r, cu)?,
                },
            );
        }
    }
    Ok(out)
}

/// One row of a `calculate-percentage-decrease` table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct PctRow {
    pub(crate) hb: f64,
    pub(crate) pred: f64,
    pub(crate) pct: Ci,
}

/// A percentage-decrease table (first column unnamed: the task or `Average`;
/// `hb,pred,pct_diff,pct_diff_lower,pct_diff_upper`): per task, and the `Average` row.
pub(crate) type PctTable = (BTreeMap<Task, PctRow>, Option<PctRow>);

pub(crate) fn pct_decrease(t: &CsvTable) -> Result<PctTable, IoError> {
    let cols = [
        t.column("hb")?,
        t.column("pred")?,
        t.column("pct_diff")?,
        t.column("pct_diff_lower")?,
        t.column("pct_diff_upper")?,
    ];
    let mut per_task = BTreeMap::new();
    let mut average = None;
    for r in 0..t.rows.len() {
        let v = |i: usize| t.f64_at(r, cols[i]);
        let row = PctRow {
            hb: v(0)?,
            pred: v(1)?,
            pct: Ci {
                mean: v(2)?,
                lower: v(3)?,
                upper: v(4)?,
            },
        };
        let name = t.rows[r].first().map(String::as_str).unwrap_or_default();
        if name == "Average" {
            average = Some(row);
        } else if let Some(task) = Task::from_name(name) {
            per_task.insert(task, row);
        }
    }
    Ok((per_task, average))
}

/// `count-segs`' `n_segs.csv` (`,0` header: task, count) by task.
pub(crate) fn counts(t: &CsvTable) -> Result<BTreeMap<Task, f64>, IoError> {
    let mut out = BTreeMap::new();
    if t.header.len() < 2 {
        return Err(IoError::Csv {
            path: t.path.clone(),
            line: 1,
            expected: "two columns: task and count".to_owned(),
        });
    }
    for r in 0..t.rows.len() {
        if let Some(task) = Task::from_name(&t.rows[r][0]) {
            out.insert(task, t.f64_at(r, 1)?);
        }
    }
    Ok(out)
}

/// Escapes text for HTML content and attribute values (`& < > " '`).
///
/// ```
/// assert_eq!(chexlocalize_report::escape_html("<a href='x'>&"), "&lt;a href=&#39;x&#39;&gt;&amp;");
/// ```
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// [`escape_html`], the short name used throughout the page code.
pub(crate) use escape_html as esc;

/// The dash shown for a missing number.
pub(crate) const DASH: &str = "—";

/// `x` with `decimals` decimals, or a dash for NaN / infinity.
pub(crate) fn num(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        DASH.to_owned()
    }
}

/// A table cell with a value and, under it, its confidence interval: `0.366` / `[0.201, 0.512]`;
/// a dash when the value is unknown, the interval left out when both bounds are.
pub(crate) fn ci_cell(ci: Ci, decimals: usize, suffix: &str) -> String {
    if !ci.mean.is_finite() {
        return format!("<td class=\"na\">{DASH}</td>");
    }
    let interval = if ci.lower.is_finite() || ci.upper.is_finite() {
        format!(
            "<span class=\"ci\">[{}, {}]</span>",
            num(ci.lower, decimals),
            num(ci.upper, decimals)
        )
    } else {
        String::new()
    };
    format!("<td>{}{suffix}{interval}</td>", num(ci.mean, decimals))
}

/// How a CSV column is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    /// Text, escaped, left-aligned.
    Text,
    /// Numbers with three decimals, right-aligned.
    Float,
    /// Whole numbers (also `2.0`), right-aligned.
    Int,
}

fn is_missing(s: &str) -> bool {
    s.is_empty() || s.eq_ignore_ascii_case("nan")
}

/// The kind of a column from its fields: numbers when every present field is a number, whole
/// numbers when every one of them is whole.
fn column_kind<'a>(fields: impl Iterator<Item = &'a str>) -> Column {
    let mut kind = Column::Int;
    let mut any = false;
    for f in fields.map(str::trim).filter(|f| !is_missing(f)) {
        any = true;
        match f.parse::<f64>() {
            Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => {}
            Ok(_) => kind = Column::Float,
            Err(_) => return Column::Text,
        }
    }
    if any { kind } else { Column::Text }
}

/// A CSV field for display in a column of `kind`: a dash for an empty field or `nan`.
fn display_field(s: &str, kind: Column) -> String {
    let t = s.trim();
    if is_missing(t) {
        return DASH.to_owned();
    }
    match (kind, t.parse::<f64>()) {
        (Column::Float, Ok(x)) => num(x, 3),
        (Column::Int, Ok(x)) => num(x, 0),
        _ => esc(t),
    }
}

/// An HTML table of a CSV file as it is: the header row (an unnamed first column is called
/// `first_name`; the names in `renames` are replaced); a column of numbers is right-aligned,
/// with three decimals unless all its numbers are whole; an empty field or `nan` is a dash; text
/// is escaped. A pandas index column (unnamed, holding 0, 1, 2, ...) is left out.
pub(crate) fn csv_html(t: &CsvTable, first_name: &str, renames: &[(&str, &str)]) -> String {
    let is_index = t.header.first().is_some_and(|h| h.is_empty())
        && t.rows
            .iter()
            .enumerate()
            .all(|(i, r)| r.first().is_some_and(|f| *f == i.to_string()));
    let skip = usize::from(is_index && t.header.len() > 1);
    let kinds: Vec<Column> = (0..t.header.len())
        .map(|c| column_kind(t.rows.iter().map(|r| r[c].as_str())))
        .collect();
    let class = |k: Column| {
        if k == Column::Text {
            ""
        } else {
            " class=\"num\""
        }
    };
    let mut h = String::from("<table class=\"data\"><thead><tr>");
    for (i, name) in t.header.iter().enumerate().skip(skip) {
        let shown = if i == 0 && name.is_empty() {
            first_name
        } else {
            renames
                .iter()
                .find(|(from, _)| from == name)
                .map_or(name.as_str(), |(_, to)| to)
        };
        h.push_str(&format!("<th{}>{}</th>", class(kinds[i]), esc(shown)));
    }
    h.push_str("</tr></thead><tbody>");
    for row in &t.rows {
        h.push_str("<tr>");
        for (f, &k) in row.iter().zip(&kinds).skip(skip) {
            h.push_str(&format!("<td{}>{}</td>", class(k), display_field(f, k)));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn table(text: &str) -> CsvTable {
        CsvTable::parse(Path::new("t.csv"), text).expect("csv")
    }

    #[test]
    fn summary_reads_nan_as_empty_fields() {
        let t = table("name,lower,mean,upper\nCardiomegaly,0.3,0.366,\nEdema,,,\nOther,1,1,1\n");
        let s = summary(&t).expect("summary");
        assert_eq!(s.len(), 2);
        let c = s[&Task::Cardiomegaly];
        assert_eq!((c.mean, c.lower), (0.366, 0.3));
        assert!(c.upper.is_nan() && s[&Task::Edema].mean.is_nan());
        let e = summary(&table("name,mean\nEdema,1\n")).expect_err("no lower");
        assert!(
            e.to_string().contains("t.csv") && e.to_string().contains("lower"),
            "{e}"
        );
    }

    #[test]
    fn nan_is_a_dash_everywhere() {
        assert_eq!(num(f64::NAN, 3), "—");
        assert_eq!(num(0.36620622920151646, 3), "0.366");
        assert_eq!(ci_cell(Ci::NAN, 3, ""), "<td class=\"na\">—</td>");
        let c = Ci {
            mean: 0.0,
            lower: 0.0,
            upper: f64::NAN,
        };
        assert_eq!(
            ci_cell(c, 3, ""),
            "<td>0.000<span class=\"ci\">[0.000, —]</span></td>"
        );
        let c = Ci {
            mean: 58.899,
            lower: f64::NAN,
            upper: f64::NAN,
        };
        assert_eq!(ci_cell(c, 1, " %"), "<td>58.9 %</td>");
        assert_eq!(display_field("", Column::Float), "—");
        assert_eq!(display_field("nan", Column::Text), "—");
        assert_eq!(display_field("0.7766965186884645", Column::Float), "0.777");
        assert_eq!(display_field("12.0", Column::Int), "12");
        assert_eq!(
            display_field("0.329, (-0.677, 1.335)**", Column::Text),
            "0.329, (-0.677, 1.335)**"
        );
        assert_eq!(display_field("a<b", Column::Text), "a&lt;b");
        assert_eq!(column_kind(["2.0", "", "40.0"].into_iter()), Column::Int);
        assert_eq!(column_kind(["0.0", "0.5"].into_iter()), Column::Float);
        assert_eq!(column_kind(["1", "Edema"].into_iter()), Column::Text);
        assert_eq!(column_kind(["", "nan"].into_iter()), Column::Text);
    }

    #[test]
    fn csv_tables_drop_the_pandas_index_and_rename() {
        let t = table(",pathology,precision\n0,Edema,0.5\n1,Atelectasis,\n");
        let h = csv_html(&t, "task", &[]);
        assert!(
            h.starts_with("<table class=\"data\"><thead><tr><th>pathology</th>"),
            "{h}"
        );
        assert!(
            h.contains("<td>Edema</td><td class=\"num\">0.500</td>"),
            "{h}"
        );
        assert!(
            h.contains("<td>Atelectasis</td><td class=\"num\">—</td>"),
            "{h}"
        );
        let t = table(",0\nEdema,3\n");
        let h = csv_html(&t, "task", &[("0", "CXRs")]);
        assert!(
            h.contains("<th>task</th><th class=\"num\">CXRs</th>"),
            "{h}"
        );
        assert!(h.contains("<td>Edema</td><td class=\"num\">3</td>"), "{h}");
    }

    #[test]
    fn pct_and_counts() {
        let t = table(
            ",hb,pred,pct_diff,pct_diff_lower,pct_diff_upper\nCardiomegaly,0.89,0.366,58.899,58.9,\nLung Lesion,,,,,\nAverage,0.616,0.215,65.097,64.933,66.89\n",
        );
        let (per_task, avg) = pct_decrease(&t).expect("pct");
        assert_eq!(per_task[&Task::Cardiomegaly].pct.mean, 58.899);
        assert!(per_task[&Task::LungLesion].hb.is_nan());
        assert_eq!(avg.map(|a| a.pct.upper), Some(66.89));
        let c = counts(&table(",0\nEdema,3\nAverage,1\n")).expect("counts");
        assert_eq!(c.get(&Task::Edema), Some(&3.0));
        assert_eq!(c.len(), 1);
    }
}
