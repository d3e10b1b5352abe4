//! The comparisons of methods (`compare`, and the ones `reproduce` runs): per metric, every
//! method's score per task side by side with its interval, a forest plot of the overall pair
//! differences, and the pairs with their Holm-adjusted p-values.

use chexlocalize_io::{CsvTable, IoError};

use super::Page;
use crate::ReportError;
use crate::forest::{FOREST_WIDTH, ForestRow, forest_height, forest_plot};
use crate::tables::{Ci, DASH, ci_cell, esc, num};

/// The metrics a comparison may be of, with their names in the page.
const METRICS: [(&str, &str); 9] = [
    ("iou", "mIoU"),
    ("hitmiss", "hit rate"),
    ("dice", "Dice"),
    ("auroc", "AUROC"),
    ("auprc", "AUPRC"),
    ("relevance_mass", "relevance mass"),
    ("relevance_rank", "relevance rank"),
    ("topk_intersection", "top-k intersection"),
    ("energy_pointing_game", "energy pointing game"),
];

/// A comparison's scores: methods and tasks in file order, `(method, task) → Ci`.
struct Scores {
    methods: Vec<String>,
    tasks: Vec<String>,
    cells: Vec<(String, String, Ci)>,
}

fn scores(t: &CsvTable) -> Result<Scores, IoError> {
    let (m, k) = (t.column("method")?, t.column("task")?);
    let (lo, mean, up) = (t.column("lower")?, t.column("mean")?, t.column("upper")?);
    let mut s = Scores {
        methods: Vec::new(),
        tasks: Vec::new(),
        cells: Vec::new(),
    };
    for (r, row) in t.rows.iter().enumerate() {
        let (method, task) = (row[m].clone(), row[k].clone());
        if !s.methods.contains(&method) {
            s.methods.push(method.clone());
        }
        if !s.tasks.contains(&task) {
            s.tasks.push(task.clone());
        }
        let ci = Ci {
            lower: t.f64_at(r, lo)?,
            mean: t.f64_at(r, mean)?,
            upper: t.f64_at(r, up)?,
        };
        s.cells.push((method, task, ci));
    }
    Ok(s)
}

/// One pair's row.
struct Pair {
    task: String,
    a: String,
    b: String,
    diff: [f64; 3],
    p_holm: f64,
    significant: bool,
}

fn pairs(t: &CsvTable) -> Result<Vec<Pair>, IoError> {
    let c = |n: &str| t.column(n);
    let (task, a, b) = (c("task")?, c("method_a")?, c("method_b")?);
    let (d, lo, up, p, sig) = (
        c("difference")?,
        c("lower")?,
        c("upper")?,
        c("p_holm")?,
        c("significant")?,
    );
    (0..t.rows.len())
        .map(|r| {
            let row = &t.rows[r];
            Ok(Pair {
                task: row[task].clone(),
                a: row[a].clone(),
                b: row[b].clone(),
                diff: [t.f64_at(r, d)?, t.f64_at(r, lo)?, t.f64_at(r, up)?],
                p_holm: t.f64_at(r, p)?,
                significant: row[sig] == "True",
            })
        })
        .collect()
}

pub(super) fn comparisons_section(page: &mut Page) -> Result<(), ReportError> {
    page.section("comparisons", "Comparisons of methods");
    let dir = page.run.compare_dir();
    let found: Vec<(&str, &str)> = METRICS
        .into_iter()
        .filter(|(m, _)| dir.join(format!("{m}_comparison_scores.csv")).is_file())
        .collect();
    if found.is_empty() {
        let rel = page.rel(&dir);
        page.note(&format!(
            "Not in this run: {rel} (no `compare` results: run `chexlocalize compare` with --save_dir there)."
        ));
        page.end_section();
        return Ok(());
    }
    page.push(
        "<p class=\"lead\">Each comparison scores its methods on the same CXRs with one paired \
         bootstrap (every replicate resamples the same CXRs for all methods), so a difference is \
         judged by its own interval; p-values are Holm-adjusted across the pairs of a task.</p>",
    );
    for (metric, title) in found {
        let Some(s) = page.parsed(
            dir.join(format!("{metric}_comparison_scores.csv")),
            "the comparison's scores",
            scores,
        ) else {
            continue;
        };
        let p = page.parsed(
            dir.join(format!("{metric}_comparison_pairs.csv")),
            "the comparison's pairs",
            pairs,
        );
        page.push(&format!("<h3>{}</h3>", esc(title)));
        page.push(&scores_table(&s));
        if let Some(p) = p {
            let overall: Vec<&Pair> = p.iter().filter(|x| x.task == "Overall").collect();
            let rows: Vec<ForestRow> = overall
                .iter()
                .map(|x| ForestRow {
                    label: format!("{} − {}", x.a, x.b),
                    mean: x.diff[0],
                    lower: x.diff[1],
                    upper: x.diff[2],
                    significant: x.significant,
                })
                .collect();
            let png = forest_plot(title, &rows)?;
            let alt = format!("Forest plot of the overall {title} differences");
            let img = page.img(
                &png,
                &alt,
                (
                    FOREST_WIDTH as usize / 2,
                    forest_height(rows.len()) as usize / 2,
                ),
            );
            page.push(&format!(
                "<figure class=\"chart\">{img}<figcaption>Overall {} differences, A − B, with \
                 their intervals; dark: the pair differs (interval excludes 0, Holm p below the \
                 level).</figcaption></figure>",
                esc(title)
            ));
            page.push(&pairs_table(&overall));
            let by_task: Vec<&Pair> = p.iter().filter(|x| x.task != "Overall").collect();
            page.push(&format!(
                "<details><summary>Every task's pairs</summary>{}</details>",
                pairs_table(&by_task)
            ));
        }
    }
    page.end_section();
    Ok(())
}

fn scores_table(s: &Scores) -> String {
    let mut h = String::from("<table><thead><tr><th>task</th>");
    for m in &s.methods {
        h.push_str(&format!("<th>{}</th>", esc(m)));
    }
    h.push_str("</tr></thead><tbody>");
    for t in &s.tasks {
        let class = if t == "Overall" { " class=\"avg\"" } else { "" };
        h.push_str(&format!("<tr{class}><td>{}</td>", esc(t)));
        for m in &s.methods {
            let ci = s
                .cells
                .iter()
                .find(|(cm, ct, _)| cm == m && ct == t)
                .map_or(Ci::NAN, |c| c.2);
            h.push_str(&ci_cell(ci, 3, ""));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");
    h
}

fn pairs_table(rows: &[&Pair]) -> String {
    let mut h = String::from(
        "<table><thead><tr><th>task</th><th>A</th><th>B</th><th>A − B</th>\
         <th>Holm p</th><th>differ</th></tr></thead><tbody>",
    );
    for p in rows {
        let diff = Ci {
            mean: p.diff[0],
            lower: p.diff[1],
            upper: p.diff[2],
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>{}<td>{}</td><td>{}</td></tr>",
            esc(&p.task),
            esc(&p.a),
            esc(&p.b),
            ci_cell(diff, 3, ""),
            num(p.p_holm, 4),
            if p.significant { "yes" } else { DASH }
        ));
    }
    h.push_str("</tbody></table>");
    h
}
