//! The report page: reads the run folder section by section and writes the HTML.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use chexlocalize_io::{CsvTable, Segmentations, Task};
use serde_json::Value;

use crate::ReportError;
use crate::charts::{HUMAN_RGB, SALIENCY_RGB, Series, metric_bar_chart};
use crate::cxr::{OverlayInput, XrayCache, overlay};
use crate::overlay::{GT_RGB, PRED_RGB};
use crate::tables::{
    Ci, DASH, PctRow, PctTable, ci_cell, counts, csv_html, esc, num, pct_decrease, summary,
};

/// What to put in the report besides the run's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Overlay pictures per task (CXRs with a ground-truth finding first, then by CXR id).
    pub overlays_per_task: usize,
    /// Width of an overlay picture in pixels.
    pub overlay_width: usize,
}

impl Default for Options {
    /// Two overlays per task, 260 pixels wide.
    fn default() -> Self {
        Options {
            overlays_per_task: 2,
            overlay_width: 260,
        }
    }
}

/// A built report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The whole page: one self-contained HTML file (images are `data:` URIs, no scripts, no
    /// external resources).
    pub html: String,
    /// The number of images embedded.
    pub images: usize,
    /// What was left out and why (also shown in the page, in its section).
    pub notes: Vec<String>,
}

/// The page being written.
struct Page {
    run: PathBuf,
    body: String,
    toc: Vec<(&'static str, &'static str)>,
    notes: Vec<String>,
    images: usize,
}

impl Page {
    fn section(&mut self, id: &'static str, title: &'static str) {
        self.toc.push((id, title));
        self.body
            .push_str(&format!("<section id=\"{id}\"><h2>{}</h2>\n", esc(title)));
    }

    fn end_section(&mut self) {
        self.body.push_str("</section>\n");
    }

    fn push(&mut self, html: &str) {
        self.body.push_str(html);
        self.body.push('\n');
    }

    /// A note in the page (and in [`Report::notes`]).
    fn note(&mut self, text: &str) {
        self.body
            .push_str(&format!("<p class=\"note\">{}</p>\n", esc(text)));
        self.notes.push(text.to_owned());
    }

    /// An `<img>` of a PNG as a `data:` URI.
    fn img(&mut self, png: &[u8], alt: &str, (w, h): (usize, usize)) -> String {
        self.images += 1;
        format!(
            "<img src=\"data:image/png;base64,{}\" alt=\"{}\" width=\"{w}\" height=\"{h}\">",
            data_uri_base64(png),
            esc(alt)
        )
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.run.join(rel)
    }

    /// A CSV of the run, or `None` with a note when it is missing or malformed.
    fn csv(&mut self, rel: &str, missing: &str) -> Option<CsvTable> {
        let path = self.path(rel);
        if !path.is_file() {
            self.note(&format!("Not in this run: {rel} ({missing})."));
            return None;
        }
        match CsvTable::read(&path) {
            Ok(t) => Some(t),
            Err(e) => {
                self.note(&format!("Left out: {e}"));
                None
            }
        }
    }

    /// Parses a CSV read by [`Page::csv`] with `parse`, or `None` with a note.
    fn parsed<T>(
        &mut self,
        rel: &str,
        missing: &str,
        parse: impl FnOnce(&CsvTable) -> Result<T, chexlocalize_io::IoError>,
    ) -> Option<T> {
        let t = self.csv(rel, missing)?;
        match parse(&t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(&format!("Left out: {e}"));
                None
            }
        }
    }

    /// A segmentation file of the run, or `None` with a note.
    fn segmentations(&mut self, rel: &str, missing: &str) -> Option<Segmentations> {
        let path = self.path(rel);
        if !path.is_file() {
            self.note(&format!("Not in this run: {rel} ({missing})."));
            return None;
        }
        match chexlocalize_io::read_segmentations(&path) {
            Ok(s) => Some(s),
            Err(e) => {
                self.note(&format!("Left out: {e}"));
                None
            }
        }
    }
}

/// `bytes` in standard base64 (RFC 4648 section 4: `+` and `/`, `=` padding), as `data:` URIs
/// take it.
fn data_uri_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const STYLE: &str = r#"
:root{--ink:#1d2330;--muted:#5b6472;--line:#e2e5ea;--head:#f1f3f6;--accent:#4c72b0}
*{box-sizing:border-box}
body{margin:0;background:#eef0f3;color:var(--ink);font:15px/1.5 "DejaVu Sans","Segoe UI",system-ui,-apple-system,Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 40px 60px;background:#fff;min-height:100vh}
h1{font-size:28px;margin:0 0 2px}
h2{font-size:21px;margin:38px 0 12px;padding-bottom:5px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:22px 0 6px}
p{margin:6px 0 10px}
.lead{color:#333a46;max-width:900px}
.meta{color:var(--muted);font-size:13px}
nav{margin:16px 0 6px;font-size:14px}
nav a{display:inline-block;margin:0 6px 6px 0;padding:3px 10px;border:1px solid var(--line);border-radius:14px;color:var(--accent);text-decoration:none}
table{border-collapse:collapse;margin:8px 0 14px;font-size:14px;font-variant-numeric:tabular-nums}
th,td{padding:5px 11px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
th{background:var(--head);font-weight:600}
th:first-child,td:first-child{text-align:left}
table.data th,table.data td{text-align:left}
table.data td.num,table.data th.num{text-align:right}
thead tr.group th{background:#fff;border-bottom:2px solid var(--line);text-align:center}
tr.avg td{font-weight:600;border-top:2px solid var(--line)}
td.na{color:#a0a6b0}
.ci{display:block;color:var(--muted);font-size:12px}
.caption,figcaption{color:var(--muted);font-size:13px}
.note{color:#7a4f00;background:#fff8e6;border-left:3px solid #f0b429;padding:5px 10px;font-size:13.5px;max-width:900px}
figure{margin:10px 0 18px}
img{max-width:100%;height:auto;display:block}
.chart img{border:1px solid var(--line)}
.task{margin:8px 0 4px}
.tasks{display:flex;flex-wrap:wrap;gap:8px 28px}
.grid{display:flex;gap:14px;align-items:flex-start}
.grid figure{margin:0}
.grid figcaption{margin-top:4px;line-height:1.35}
figcaption code{word-break:break-all}
.legend{display:flex;flex-wrap:wrap;gap:18px;align-items:center;font-size:13.5px;color:var(--muted);margin:6px 0 12px}
.sw{display:inline-block;width:22px;height:12px;margin-right:6px;vertical-align:middle;border:1px solid #999}
.jet{display:inline-block;width:120px;height:12px;margin:0 6px;vertical-align:middle;background:linear-gradient(to right,#000080,#0000ff,#0080ff,#00ffff,#80ff80,#ffff00,#ff8000,#ff0000,#800000)}
.cols{display:flex;flex-wrap:wrap;gap:0 36px}
code{font-size:12.5px}
table.stages td:first-child{white-space:nowrap}
table.stages td.done,table.stages td.skipped,table.stages td.failed{text-align:left}
table.stages td.skipped{color:var(--muted)}
table.stages td.failed{color:#a3321f}
"#;

/// Builds the report of the run in `run_dir` (the layout `cargo xtask reproduce --out` writes).
/// `data_dir` is the data folder the run read (heatmap pickles under `gradcam_maps_val/`, X-rays
/// under `valid/`), used for the overlays; without it, the run's `data` parameter is used when
/// it names a folder.
///
/// Everything in the run is optional: a missing or malformed file leaves its part of the report
/// out with a note. Errors: `run_dir` is not a folder, or `data_dir` is given and is not one.
pub fn build_report(
    run_dir: &Path,
    data_dir: Option<&Path>,
    options: &Options,
) -> Result<Report, ReportError> {
    if !run_dir.is_dir() {
        return Err(ReportError::RunDir {
            path: run_dir.to_path_buf(),
            reason: if run_dir.exists() {
                "not a folder".to_owned()
            } else {
                "no such folder".to_owned()
            },
        });
    }
    if let Some(d) = data_dir {
        if !d.is_dir() {
            return Err(ReportError::DataDir {
                path: d.to_path_buf(),
                reason: "no such folder".to_owned(),
            });
        }
    }
    let mut page = Page {
        run: run_dir.to_path_buf(),
        body: String::new(),
        toc: Vec::new(),
        notes: Vec::new(),
        images: 0,
    };
    let run_json = read_run_json(&page.run);
    let data = data_dir.map(Path::to_path_buf).or_else(|| {
        run_json
            .as_ref()
            .ok()
            .and_then(|j| j.parameters.iter().find(|(k, _)| k == "data"))
            .map(|(_, v)| PathBuf::from(v))
            .filter(|p| p.is_dir())
    });

    results_section(&mut page);
    charts_section(&mut page)?;
    overlays_section(&mut page, data.as_deref(), options);
    features_section(&mut page);
    regressions_section(&mut page);
    pixels_section(&mut page);
    thresholds_section(&mut page);
    run_section(&mut page, run_json, data.as_deref(), options);

    let run_name = run_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| run_dir.display().to_string());
    let mut html = String::with_capacity(page.body.len() + 8192);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>CheXlocalize report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        esc(&run_name)
    ));
    html.push_str("<header>\n<h1>CheXlocalize report</h1>\n");
    html.push_str(&format!(
        "<p class=\"meta\">Run <code>{}</code> · chexlocalize-report {}</p>\n",
        esc(&run_name),
        env!("CARGO_PKG_VERSION")
    ));
    html.push_str(
        "<p class=\"lead\">How well a saliency method localises ten pathologies on chest X-rays, \
         measured as in the CheXlocalize paper. Each heatmap is turned into a segmentation mask \
         (Otsu's threshold) and compared with the radiologists' ground-truth outline: \
         <strong>mIoU</strong> is the mean intersection over union over the CXRs that have the \
         finding. <strong>Hit rate</strong> (the pointing game) is the share of those CXRs whose \
         most salient pixel falls inside the ground truth. The <strong>human benchmark</strong> \
         is another group of radiologists' outlines and points, scored the same way. Intervals are \
         95 % bootstrap confidence intervals; a dash means the run has no value there (no CXR with \
         that finding).</p>\n</header>\n<nav>",
    );
    for (id, title) in &page.toc {
        html.push_str(&format!("<a href=\"#{id}\">{}</a>", esc(title)));
    }
    html.push_str("</nav>\n");
    html.push_str(&page.body);
    html.push_str("</main>\n</body>\n</html>\n");
    Ok(Report {
        html,
        images: page.images,
        notes: page.notes,
    })
}

/// The run's `run.json`.
struct RunJson {
    parameters: Vec<(String, String)>,
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
fn read_run_json(run: &Path) -> Result<RunJson, String> {
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

const IOU_SAL: &str = "eval_iou_tp/iou_summary_results.csv";
const IOU_HB: &str = "eval_iou_hb_tp/iou_humanbenchmark_summary_results.csv";
const HIT_SAL: &str = "eval_hitmiss/hitmiss_summary_results.csv";
const HIT_HB: &str = "eval_hitmiss_hb/hitmiss_humanbenchmark_summary_results.csv";
const PCT_IOU: &str = "pct_decrease/miou_pct_decrease.csv";
const PCT_HIT: &str = "pct_decrease/hitrate_pct_decrease.csv";

type Summary = BTreeMap<Task, Ci>;

fn summaries(page: &mut Page) -> [Option<Summary>; 4] {
    [
        page.parsed(IOU_SAL, "eval --metric iou of the saliency masks", summary),
        page.parsed(IOU_HB, "no human benchmark segmentations?", summary),
        page.parsed(HIT_SAL, "eval --metric hitmiss of the heatmaps", summary),
        page.parsed(HIT_HB, "no human benchmark salient points?", summary),
    ]
}

fn results_section(page: &mut Page) {
    page.section("results", "Results per task");
    let [iou_s, iou_h, hit_s, hit_h] = summaries(page);
    let pct_i: Option<PctTable> = page.parsed(PCT_IOU, "needs both mIoU evaluations", pct_decrease);
    let pct_h: Option<PctTable> =
        page.parsed(PCT_HIT, "needs both hit-rate evaluations", pct_decrease);
    let n = page.parsed(
        "count_segs/n_segs.csv",
        "count-segs of the ground truth",
        counts,
    );
    if iou_s.is_none() && iou_h.is_none() && hit_s.is_none() && hit_h.is_none() {
        page.note("No evaluation results in this run: the table is left out.");
        page.end_section();
        return;
    }
    let mut h = String::from(
        "<table class=\"results\"><thead><tr class=\"group\"><th></th><th></th>\
         <th colspan=\"3\">mIoU</th><th colspan=\"3\">Hit rate</th></tr>\
         <tr><th>Task</th><th>CXRs with<br>the finding</th>\
         <th>Saliency</th><th>Human<br>benchmark</th><th>Decrease</th>\
         <th>Saliency</th><th>Human<br>benchmark</th><th>Decrease</th></tr></thead><tbody>",
    );
    let get = |m: &Option<Summary>, t: Task| {
        m.as_ref()
            .and_then(|m| m.get(&t).copied())
            .unwrap_or(Ci::NAN)
    };
    let pct = |p: &Option<PctTable>, t: Task| {
        p.as_ref()
            .and_then(|(m, _)| m.get(&t).map(|r| r.pct))
            .unwrap_or(Ci::NAN)
    };
    for t in Task::SORTED {
        let count = n
            .as_ref()
            .and_then(|n| n.get(&t).copied())
            .map_or_else(|| DASH.to_owned(), |c| num(c, 0));
        h.push_str(&format!(
            "<tr><td>{}</td><td>{count}</td>{}{}{}{}{}{}</tr>",
            esc(t.name()),
            ci_cell(get(&iou_s, t), 3, ""),
            ci_cell(get(&iou_h, t), 3, ""),
            ci_cell(pct(&pct_i, t), 1, " %"),
            ci_cell(get(&hit_s, t), 3, ""),
            ci_cell(get(&hit_h, t), 3, ""),
            ci_cell(pct(&pct_h, t), 1, " %"),
        ));
    }
    let avg = |p: &Option<PctTable>| p.as_ref().and_then(|(_, a)| *a);
    let (ai, ah) = (avg(&pct_i), avg(&pct_h));
    if ai.is_some() || ah.is_some() {
        let plain = |x: f64| Ci {
            mean: x,
            lower: f64::NAN,
            upper: f64::NAN,
        };
        let cells = |a: Option<PctRow>| match a {
            Some(a) => format!(
                "{}{}{}",
                ci_cell(plain(a.pred), 3, ""),
                ci_cell(plain(a.hb), 3, ""),
                ci_cell(a.pct, 1, " %")
            ),
            None => format!("<td class=\"na\">{DASH}</td>").repeat(3),
        };
        h.push_str(&format!(
            "<tr class=\"avg\"><td>Average</td><td></td>{}{}</tr>",
            cells(ai),
            cells(ah)
        ));
    }
    h.push_str("</tbody></table>");
    page.push(&h);
    page.push(
        "<p class=\"caption\">Value with its 95 % bootstrap confidence interval below it. \
         mIoU is computed on the CXRs with the finding (true positives). Decrease: how much lower \
         the saliency method scores than the human benchmark, in percent of the human benchmark's \
         score (positive: the saliency method is worse). Average: over the tasks, as \
         <code>calculate-percentage-decrease</code> reports it.</p>",
    );
    page.end_section();
}

fn charts_section(page: &mut Page) -> Result<(), ReportError> {
    page.section("charts", "Charts");
    let mut notes = Vec::new();
    let mut figures = Vec::new();
    for (metric, sal_rel, hb_rel) in [("mIoU", IOU_SAL, IOU_HB), ("Hit rate", HIT_SAL, HIT_HB)] {
        let read = |rel: &str| {
            CsvTable::read(&page.path(rel))
                .ok()
                .and_then(|t| summary(&t).ok())
        };
        let (s, h) = (read(sal_rel), read(hb_rel));
        if s.is_none() && h.is_none() {
            notes.push(format!(
                "No {metric} chart: neither {sal_rel} nor {hb_rel} could be read (see the results section)."
            ));
            continue;
        }
        let mut series = Vec::new();
        if let Some(values) = &s {
            series.push(Series {
                label: "Saliency method",
                rgb: SALIENCY_RGB,
                values,
            });
        }
        if let Some(values) = &h {
            series.push(Series {
                label: "Human benchmark",
                rgb: HUMAN_RGB,
                values,
            });
        }
        let png = metric_bar_chart(metric, &series)?;
        let names: Vec<String> = series
            .iter()
            .map(|s| {
                format!(
                    "{} (<span class=\"sw\" style=\"background:{}\"></span>)",
                    s.label.to_lowercase(),
                    css(s.rgb)
                )
            })
            .collect();
        figures.push((metric, png, names.join(" and ")));
    }
    for n in notes {
        page.note(&n);
    }
    for (metric, png, names) in figures {
        let img = page.img(
            &png,
            &format!("{metric} per task with 95 % CI whiskers"),
            (1600, 620),
        );
        page.push(&format!(
            "<figure class=\"chart\">{img}<figcaption>{metric} per task: {names}; whiskers are \
             95 % bootstrap confidence intervals; n/a: no value.</figcaption></figure>"
        ));
    }
    page.end_section();
    Ok(())
}

fn css((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn overlays_section(page: &mut Page, data: Option<&Path>, options: &Options) {
    page.section("overlays", "Heatmaps and outlines");
    let Some(data) = data else {
        page.note(
            "No data folder (give --data, or run.json's \"data\" parameter names one): \
             the overlays of X-rays, heatmaps and outlines are left out.",
        );
        page.end_section();
        return;
    };
    if options.overlays_per_task == 0 {
        page.note("Overlays turned off (0 per task).");
        page.end_section();
        return;
    }
    let maps_dir = data.join("gradcam_maps_val");
    let maps = match chexlocalize_io::list_heatmaps(&maps_dir) {
        Ok(m) => m,
        Err(e) => {
            page.note(&format!("No overlays: {e}"));
            page.end_section();
            return;
        }
    };
    let gt = page.segmentations(
        "segmentations/gt_segmentations.json",
        "ground-truth masks: no outline drawn",
    );
    let pred = page.segmentations(
        "segmentations/saliency_otsu.json",
        "Otsu masks: no predicted outline drawn",
    );
    page.push(&format!(
        "<div class=\"legend\"><span><span class=\"sw\" style=\"background:{}\"></span>ground-truth \
         outline</span><span><span class=\"sw\" style=\"background:{}\"></span>predicted outline \
         (Otsu mask)</span><span>heatmap: low<span class=\"jet\"></span>high (normalised per \
         CXR)</span></div>",
        css((GT_RGB[0], GT_RGB[1], GT_RGB[2])),
        css((PRED_RGB[0], PRED_RGB[1], PRED_RGB[2]))
    ));
    page.push(&format!(
        "<p class=\"caption\">Up to {} per task, those with the finding first. The heatmap is \
         upsampled to the X-ray's size as the segmentation does, then shown at {} pixels wide. \
         IoU: of the predicted mask with the ground truth; p: the model's probability.</p>",
        if options.overlays_per_task == 1 {
            "one CXR".to_owned()
        } else {
            format!("{} CXRs", options.overlays_per_task)
        },
        options.overlay_width
    ));
    let mut cache = XrayCache::new();
    let mut failures = Vec::new();
    page.push("<div class=\"tasks\">");
    for task in Task::SORTED {
        let mut candidates: Vec<_> = maps.iter().filter(|m| m.task == Some(task)).collect();
        let has_finding = |id: &str| {
            gt.as_ref()
                .and_then(|g| g.get(id, task))
                .is_some_and(|r| r.area() > 0)
        };
        candidates.sort_by_cached_key(|m| (!has_finding(&m.cxr_id), m.cxr_id.clone()));
        candidates.truncate(options.overlays_per_task);
        let mut row = format!("<div><h3 class=\"task\">{}</h3>", esc(task.name()));
        if candidates.is_empty() {
            row.push_str("<p class=\"caption\">No heatmap for this task.</p></div>");
            page.push(&row);
            continue;
        }
        row.push_str("<div class=\"grid\">");
        for m in candidates {
            let input = OverlayInput {
                data,
                heatmap: m,
                task,
                gt: gt.as_ref().and_then(|g| g.get(&m.cxr_id, task)),
                pred: pred.as_ref().and_then(|p| p.get(&m.cxr_id, task)),
            };
            match overlay(&input, options.overlay_width, &mut cache) {
                Ok(o) => {
                    let img = page.img(
                        &o.png,
                        &format!("{}, {task}: X-ray, heatmap and outlines", m.cxr_id),
                        (o.width, o.height),
                    );
                    row.push_str(&format!(
                        "<figure style=\"width:{}px\">{img}<figcaption>{}</figcaption></figure>",
                        o.width, o.caption
                    ));
                }
                Err(e) => failures.push(e),
            }
        }
        row.push_str("</div></div>");
        page.push(&row);
    }
    page.push("</div>");
    for e in failures {
        page.note(&format!("Overlay left out: {e}"));
    }
    page.end_section();
}

/// The four plots of `plot-pathology-features`, in the reference's order, with their titles.
const FEATURE_PLOTS: [(&str, &str); 4] = [
    ("n_instance_dist.png", "Number of instances"),
    ("area_ratio_dist.png", "Area ratio"),
    ("elongation_dist.png", "Elongation"),
    ("irrectangularity_dist.png", "Irrectangularity"),
];

/// Width and height of a PNG, if `bytes` is one.
fn png_size(bytes: &[u8]) -> Option<(usize, usize)> {
    let r = image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    r.into_dimensions()
        .ok()
        .map(|(w, h)| (w as usize, h as usize))
}

fn features_section(page: &mut Page) {
    page.section("features", "Pathology features");
    let dir = page.path("feature_plots");
    page.push(
        "<p class=\"caption\">Shape of the ground-truth findings per task (letter-value plots of \
         <code>plot-pathology-features</code>): number of separate instances, share of the image \
         covered, elongation of the largest instance, and how far it is from its bounding \
         rectangle.</p>",
    );
    let files = match chexlocalize_io::list_files(&dir) {
        Ok(f) => f,
        Err(_) => {
            page.note("Not in this run: feature_plots/ (plot-pathology-features).");
            page.end_section();
            return;
        }
    };
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // The four known plots first, then any other PNG of the folder.
    let mut ordered: Vec<(PathBuf, String)> = Vec::new();
    for (file, title) in FEATURE_PLOTS {
        match files.iter().find(|p| name(p) == file) {
            Some(p) => ordered.push((p.clone(), title.to_owned())),
            None => page.note(&format!("Not in this run: feature_plots/{file}.")),
        }
    }
    for p in &files {
        let n = name(p);
        if n.ends_with(".png") && !FEATURE_PLOTS.iter().any(|(f, _)| *f == n) {
            ordered.push((p.clone(), n));
        }
    }
    for (path, title) in ordered {
        let bytes = match chexlocalize_io::read_bytes(&path) {
            Ok(b) => b,
            Err(e) => {
                page.note(&format!("Left out: {e}"));
                continue;
            }
        };
        let Some(size) = png_size(&bytes) else {
            page.note(&format!(
                "Left out: {}: expected a PNG image",
                path.display()
            ));
            continue;
        };
        let img = page.img(&bytes, &format!("{title} per task"), size);
        page.push(&format!(
            "<figure class=\"chart\">{img}<figcaption>{} per task.</figcaption></figure>",
            esc(&title)
        ));
    }
    page.end_section();
}

/// A title for a regression output file.
fn regression_title(file: &str) -> String {
    let known = [
        (
            "regression_features_pred_iou.csv",
            "Saliency IoU on the pathology features",
        ),
        (
            "regression_features_pred_hitmiss.csv",
            "Saliency hit/miss on the pathology features",
        ),
        (
            "regression_features_iou_diff.csv",
            "IoU gap (human benchmark − saliency) on the pathology features",
        ),
        (
            "regression_features_hitmiss_diff.csv",
            "Hit/miss gap (human benchmark − saliency) on the pathology features",
        ),
        (
            "regression_modelprob_iou.csv",
            "Saliency IoU on the model's probability",
        ),
        (
            "regression_modelprob_hitmiss.csv",
            "Saliency hit/miss on the model's probability",
        ),
    ];
    known
        .iter()
        .find(|(f, _)| *f == file)
        .map_or_else(|| file.to_owned(), |(_, t)| (*t).to_owned())
}

fn regressions_section(page: &mut Page) {
    page.section("regressions", "Regressions");
    page.push(
        "<p class=\"caption\">Ordinary least squares of a localisation metric on each (min-max \
         normalised) pathology feature pooled over tasks, and on the model's probability per task \
         with Spearman's correlation: <code>coefficient, (95 % CI)</code>; stars: p &lt; 0.05, \
         0.01, 0.001 after Bonferroni correction.</p>",
    );
    for (dir, command) in [
        ("regression_features", "regression-pathology-features"),
        ("regression_model_assurance", "regression-model-assurance"),
    ] {
        let files = match chexlocalize_io::list_files(&page.path(dir)) {
            Ok(f) => f,
            Err(_) => {
                page.note(&format!("Not in this run: {dir}/ ({command})."));
                continue;
            }
        };
        let csvs: Vec<PathBuf> = files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        if csvs.is_empty() {
            page.note(&format!("No CSV file in {dir}/ ({command})."));
        }
        for path in csvs {
            let file = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            match CsvTable::read(&path) {
                Ok(t) => page.push(&format!(
                    "<h3>{}</h3><p class=\"meta\">{dir}/{}</p>{}",
                    esc(&regression_title(&file)),
                    esc(&file),
                    csv_html(&t, "task", &[])
                )),
                Err(e) => page.note(&format!("Left out: {e}")),
            }
        }
    }
    page.end_section();
}

fn pixels_section(page: &mut Page) {
    page.section("pixels", "Pixel precision, recall, specificity");
    let mut tables = Vec::new();
    for (rel, title) in [
        (
            "precision_recall_specificity/pred_precision_recall_specificity.csv",
            "Saliency method (Otsu masks)",
        ),
        (
            "precision_recall_specificity/hb_precision_recall_specificity.csv",
            "Human benchmark",
        ),
    ] {
        if let Some(t) = page.csv(rel, "precision-recall-specificity") {
            tables.push(format!(
                "<div><h3>{}</h3>{}</div>",
                esc(title),
                csv_html(&t, "task", &[("recall/sensitivity", "recall")])
            ));
        }
    }
    if !tables.is_empty() {
        page.push(&format!("<div class=\"cols\">{}</div>", tables.concat()));
        page.push(
            "<p class=\"caption\">Over all pixels of all CXRs, per task; a dash where a ratio \
             has no denominator.</p>",
        );
    }
    page.end_section();
}

fn thresholds_section(page: &mut Page) {
    page.section("thresholds", "Tuned thresholds");
    let mut cols: Vec<(&str, BTreeMap<Task, f64>)> = Vec::new();
    for (rel, title, read) in [
        (
            "tune/tuning_results.csv",
            "Heatmap threshold",
            chexlocalize_io::read_thresholds as fn(&Path) -> _,
        ),
        (
            "tune/probability_tuning_results.csv",
            "Probability cutoff",
            chexlocalize_io::read_probability_cutoffs,
        ),
    ] {
        let path = page.path(rel);
        if !path.is_file() {
            page.note(&format!("Not in this run: {rel}."));
            continue;
        }
        match read(&path) {
            Ok(m) => cols.push((title, m)),
            Err(e) => page.note(&format!("Left out: {e}")),
        }
    }
    if !cols.is_empty() {
        let mut h = String::from("<table class=\"data\"><thead><tr><th>Task</th>");
        for (title, _) in &cols {
            h.push_str(&format!("<th>{}</th>", esc(title)));
        }
        h.push_str("</tr></thead><tbody>");
        for t in Task::SORTED {
            h.push_str(&format!("<tr><td>{}</td>", esc(t.name())));
            for (_, m) in &cols {
                h.push_str(&format!(
                    "<td>{}</td>",
                    m.get(&t).map_or_else(|| DASH.to_owned(), |x| num(*x, 2))
                ));
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table>");
        page.push(&h);
        page.push(
            "<p class=\"caption\">Per task, the fixed heatmap threshold with the best mIoU \
             (<code>tune-heatmap-threshold</code>, used for \
             <code>segmentations/saliency_threshold.json</code>) and the probability below which \
             a CXR gets an empty mask (<code>tune-probability-threshold</code>, used for \
             <code>segmentations/saliency_probcut.json</code>).</p>",
        );
    }
    page.end_section();
}

fn run_section(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine is the standard alphabet with padding: the test vectors of RFC 4648 section 10,
    /// and bytes that differ between the standard and URL-safe alphabets (`+/` vs `-_`).
    #[test]
    fn data_uris_use_standard_padded_base64() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(data_uri_base64(input.as_bytes()), want, "{input:?}");
        }
        // 0xfb 0xff 0xbf = 111110 111111 111110 111111: digits 62, 63, 62, 63.
        assert_eq!(data_uri_base64(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(data_uri_base64(&[0xff, 0xfe, 0x00]), "//4A");
    }
}
