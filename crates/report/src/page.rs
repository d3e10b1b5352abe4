//! The report page: reads the run folder section by section and writes the HTML.
//!
//! This file holds the page itself ([`Page`]: sections, notes, embedded images, reading a run's
//! files) and [`build_report`], which puts the sections in order; each section lives in a child
//! module: [`results`] (the results table and bar charts), [`figures`] (overlays and feature
//! plots), [`comparisons`] (methods side by side, forest plots), [`analyses`] (regressions,
//! pixel precision / recall, thresholds), [`run`] (`run.json`).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use chexlocalize_io::{CsvTable, Limits, RunLayout, Segmentations};

use crate::ReportError;
use crate::error::DirProblem;
use crate::options::Options;
use crate::tables::esc;
use chexlocalize_io::chain_text;

mod analyses;
mod comparisons;
mod figures;
mod results;
mod run;

use analyses::{pixels_section, regressions_section, thresholds_section};
use comparisons::comparisons_section;
use figures::{features_section, overlays_section};
use results::{charts_section, results_section};
use run::{read_run_json, run_section};

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
    run: RunLayout,
    limits: Limits,
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

    /// `path` relative to the run folder, as notes name it.
    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(self.run.root())
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// A CSV of the run, or `None` with a note when it is missing or malformed.
    fn csv(&mut self, path: PathBuf, missing: &str) -> Option<CsvTable> {
        if !path.is_file() {
            let rel = self.rel(&path);
            self.note(&format!("Not in this run: {rel} ({missing})."));
            return None;
        }
        match CsvTable::read(&path, &self.limits) {
            Ok(t) => Some(t),
            Err(e) => {
                self.note(&format!("Left out: {}", chain_text(&e)));
                None
            }
        }
    }

    /// Parses a CSV read by [`Page::csv`] with `parse`, or `None` with a note.
    fn parsed<T>(
        &mut self,
        path: PathBuf,
        missing: &str,
        parse: impl FnOnce(&CsvTable) -> Result<T, chexlocalize_io::IoError>,
    ) -> Option<T> {
        let t = self.csv(path, missing)?;
        match parse(&t) {
            Ok(v) => Some(v),
            Err(e) => {
                self.note(&format!("Left out: {}", chain_text(&e)));
                None
            }
        }
    }

    /// A segmentation file of the run, or `None` with a note.
    fn segmentations(&mut self, path: PathBuf, missing: &str) -> Option<Segmentations> {
        if !path.is_file() {
            let rel = self.rel(&path);
            self.note(&format!("Not in this run: {rel} ({missing})."));
            return None;
        }
        match chexlocalize_io::read_segmentations(&path, &self.limits) {
            Ok(s) => Some(s),
            Err(e) => {
                self.note(&format!("Left out: {}", chain_text(&e)));
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
    run: &RunLayout,
    data_dir: Option<&Path>,
    options: &Options,
) -> Result<Report, ReportError> {
    let run_dir = run.root();
    if let Some(reason) = DirProblem::of(run_dir) {
        return Err(ReportError::RunDir {
            path: run_dir.to_path_buf(),
            reason,
        });
    }
    if let Some((d, reason)) = data_dir.and_then(|d| DirProblem::of(d).map(|r| (d, r))) {
        return Err(ReportError::DataDir {
            path: d.to_path_buf(),
            reason,
        });
    }
    let mut page = Page {
        run: run.clone(),
        limits: options.limits.clone(),
        body: String::new(),
        toc: Vec::new(),
        notes: Vec::new(),
        images: 0,
    };
    let run_json = read_run_json(&page.run, &page.limits);
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
    comparisons_section(&mut page)?;
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

fn css((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
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

    /// The two required folders fail with a typed reason: missing, or not a folder.
    #[test]
    fn folder_errors_say_which_folder_and_what_is_wrong() {
        let tmp = tempfile::tempdir().expect("tmp");
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").expect("write");
        let o = Options::default();
        let err = |r: Result<Report, ReportError>| r.expect_err("an error");
        assert!(matches!(
            err(build_report(&RunLayout::new(&file), None, &o)),
            ReportError::RunDir { reason: DirProblem::NotAFolder, path } if path == file
        ));
        assert!(matches!(
            err(build_report(
                &RunLayout::new(tmp.path().join("nope")),
                None,
                &o
            )),
            ReportError::RunDir {
                reason: DirProblem::Missing,
                ..
            }
        ));
        assert!(matches!(
            err(build_report(
                &RunLayout::new(tmp.path()),
                Some(&tmp.path().join("nope")),
                &o
            )),
            ReportError::DataDir {
                reason: DirProblem::Missing,
                ..
            }
        ));
        assert!(matches!(
            err(build_report(&RunLayout::new(tmp.path()), Some(&file), &o)),
            ReportError::DataDir {
                reason: DirProblem::NotAFolder,
                ..
            }
        ));
    }
}
