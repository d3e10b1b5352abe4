//! The secondary analyses: regression tables, pixel precision / recall / specificity, tuned
//! thresholds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::{CsvTable, Limits, Task};

use super::Page;
use crate::tables::{DASH, csv_html, esc, num};
use chexlocalize_io::chain_text;

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

pub(super) fn regressions_section(page: &mut Page) {
    page.section("regressions", "Regressions");
    page.push(
        "<p class=\"caption\">Ordinary least squares of a localisation metric on each (min-max \
         normalised) pathology feature pooled over tasks, and on the model's probability per task \
         with Spearman's correlation: <code>coefficient, (95 % CI)</code>; stars: p &lt; 0.05, \
         0.01, 0.001 after Bonferroni correction.</p>",
    );
    for (path, command) in [
        (
            page.run.regression_features_dir(),
            "regression-pathology-features",
        ),
        (
            page.run.regression_model_assurance_dir(),
            "regression-model-assurance",
        ),
    ] {
        let dir = page.rel(&path);
        let files = match chexlocalize_io::list_files(&path) {
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
            match CsvTable::read(&path, &page.limits) {
                Ok(t) => page.push(&format!(
                    "<h3>{}</h3><p class=\"meta\">{dir}/{}</p>{}",
                    esc(&regression_title(&file)),
                    esc(&file),
                    csv_html(&t, "task", &[])
                )),
                Err(e) => page.note(&format!("Left out: {}", chain_text(&e))),
            }
        }
    }
    page.end_section();
}

pub(super) fn pixels_section(page: &mut Page) {
    page.section("pixels", "Pixel precision, recall, specificity");
    let mut tables = Vec::new();
    for (path, title) in [
        (page.run.prs("pred"), "Saliency method (Otsu masks)"),
        (page.run.prs("hb"), "Human benchmark"),
    ] {
        if let Some(t) = page.csv(path, "precision-recall-specificity") {
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

pub(super) fn thresholds_section(page: &mut Page) {
    page.section("thresholds", "Tuned thresholds");
    let mut cols: Vec<(&str, BTreeMap<Task, f64>)> = Vec::new();
    for (path, title, read) in [
        (
            page.run.tuning_results(),
            "Heatmap threshold",
            chexlocalize_io::read_thresholds as fn(&Path, &Limits) -> _,
        ),
        (
            page.run.probability_tuning_results(),
            "Probability cutoff",
            chexlocalize_io::read_probability_cutoffs,
        ),
    ] {
        if !path.is_file() {
            let rel = page.rel(&path);
            page.note(&format!("Not in this run: {rel}."));
            continue;
        }
        match read(&path, &page.limits) {
            Ok(m) => cols.push((title, m)),
            Err(e) => page.note(&format!("Left out: {}", chain_text(&e))),
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
