//! The results table (mIoU and hit rate per task with CIs, percentage decrease) and the bar
//! charts drawn from the same summaries.

use std::collections::BTreeMap;

use chexlocalize_io::layout::EvalRun;
use chexlocalize_io::{CsvTable, Task};

use super::{Page, css};
use crate::ReportError;
use crate::charts::{HUMAN_RGB, SALIENCY_RGB, Series, metric_bar_chart};
use crate::tables::{Ci, DASH, PctRow, PctTable, ci_cell, counts, esc, num, pct_decrease, summary};

type Summary = BTreeMap<Task, Ci>;

fn summaries(page: &mut Page) -> [Option<Summary>; 4] {
    [
        page.parsed(
            page.run.eval_summary(EvalRun::IouSaliency),
            "the mIoU evaluation of the saliency masks",
            summary,
        ),
        page.parsed(
            page.run.eval_summary(EvalRun::IouHumanBenchmark),
            "no human benchmark segmentations?",
            summary,
        ),
        page.parsed(
            page.run.eval_summary(EvalRun::HitSaliency),
            "the hit-rate evaluation of the heatmaps",
            summary,
        ),
        page.parsed(
            page.run.eval_summary(EvalRun::HitHumanBenchmark),
            "no human benchmark salient points?",
            summary,
        ),
    ]
}

pub(super) fn results_section(page: &mut Page) {
    page.section("results", "Results per task");
    let [iou_s, iou_h, hit_s, hit_h] = summaries(page);
    let pct_i: Option<PctTable> = page.parsed(
        page.run.pct_decrease("miou"),
        "needs both mIoU evaluations",
        pct_decrease,
    );
    let pct_h: Option<PctTable> = page.parsed(
        page.run.pct_decrease("hitrate"),
        "needs both hit-rate evaluations",
        pct_decrease,
    );
    let n = page.parsed(page.run.n_segs(), "count-segs of the ground truth", counts);
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

pub(super) fn charts_section(page: &mut Page) -> Result<(), ReportError> {
    page.section("charts", "Charts");
    let mut notes = Vec::new();
    let mut figures = Vec::new();
    for (metric, sal, hb) in [
        ("mIoU", EvalRun::IouSaliency, EvalRun::IouHumanBenchmark),
        ("Hit rate", EvalRun::HitSaliency, EvalRun::HitHumanBenchmark),
    ] {
        let read = |run: EvalRun| {
            CsvTable::read(&page.run.eval_summary(run), &page.limits)
                .ok()
                .and_then(|t| summary(&t).ok())
        };
        let (s, h) = (read(sal), read(hb));
        let sal_rel = page.rel(&page.run.eval_summary(sal));
        let hb_rel = page.rel(&page.run.eval_summary(hb));
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
