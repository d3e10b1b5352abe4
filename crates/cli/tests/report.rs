//! `chexlocalize report` end to end: a run folder built by the commands themselves on the
//! committed fixtures (in-process, through `chexlocalize_cli::run`), then the report checked as a
//! browser would see it: an HTML page whose images decode as PNGs, with every task and the run's
//! parameters.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chexlocalize_io::Task;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs one command in-process.
fn cli(args: &[&str]) {
    let argv = std::iter::once("chexlocalize").chain(args.iter().copied());
    if let Err(e) = chexlocalize_cli::run(argv) {
        panic!("{args:?}: {}", chexlocalize_cli::error_text(&e));
    }
}

/// The stages of the paper's pipeline that the report reads, on the fixtures, into `out`
/// (without the human benchmark when `human` is false).
fn make_run(out: &Path, human: bool) {
    let f = fixtures();
    let maps = f.join("gradcam_maps_val");
    let seg = out.join("segmentations");
    let gt = seg.join("gt_segmentations.json");
    let hb = seg.join("hb_segmentations.json");
    let otsu = seg.join("saliency_otsu.json");
    let o = |rel: &str| out.join(rel);
    cli(&[
        "annotation-to-segmentation",
        "--ann_path",
        s(&f.join("gt_annotations_val.json")),
        "--output_path",
        s(&gt),
    ]);
    cli(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(&maps),
        "--output_path",
        s(&otsu),
    ]);
    cli(&[
        "eval",
        "--metric",
        "iou",
        "--gt_path",
        s(&gt),
        "--pred_path",
        s(&otsu),
        "--save_dir",
        s(&o("eval_iou_tp")),
    ]);
    cli(&[
        "eval",
        "--metric",
        "hitmiss",
        "--gt_path",
        s(&gt),
        "--pred_path",
        s(&maps),
        "--save_dir",
        s(&o("eval_hitmiss")),
    ]);
    if human {
        cli(&[
            "annotation-to-segmentation",
            "--ann_path",
            s(&f.join("hb_annotations_val.json")),
            "--output_path",
            s(&hb),
        ]);
        cli(&[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            s(&gt),
            "--pred_path",
            s(&hb),
            "--if_human_benchmark",
            "True",
            "--save_dir",
            s(&o("eval_iou_hb_tp")),
        ]);
        cli(&[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            s(&gt),
            "--pred_path",
            s(&f.join("hb_salient_pts_val.json")),
            "--if_human_benchmark",
            "True",
            "--save_dir",
            s(&o("eval_hitmiss_hb")),
        ]);
        for (metric, hb_csv, pred_csv) in [
            (
                "miou",
                "eval_iou_hb_tp/iou_humanbenchmark_bootstrap_results_per_cxr.csv",
                "eval_iou_tp/iou_bootstrap_results_per_cxr.csv",
            ),
            (
                "hitrate",
                "eval_hitmiss_hb/hitmiss_humanbenchmark_bootstrap_results_per_cxr.csv",
                "eval_hitmiss/hitmiss_bootstrap_results_per_cxr.csv",
            ),
        ] {
            cli(&[
                "calculate-percentage-decrease",
                "--metric",
                metric,
                "--hb_bootstrap_results",
                s(&o(hb_csv)),
                "--pred_bootstrap_results",
                s(&o(pred_csv)),
                "--save_dir",
                s(&o("pct_decrease")),
            ]);
        }
    }
    cli(&[
        "count-segs",
        "--seg_path",
        s(&gt),
        "--save_dir",
        s(&o("count_segs")),
    ]);
    cli(&[
        "compute-pathology-features",
        "--gt_ann",
        s(&f.join("gt_annotations_val.json")),
        "--gt_seg",
        s(&gt),
        "--save_dir",
        s(&o("features")),
    ]);
    cli(&[
        "plot-pathology-features",
        "--features_dir",
        s(&o("features")),
        "--save_dir",
        s(&o("feature_plots")),
    ]);
    std::fs::write(
        out.join("run.json"),
        r#"{"parameters": {"bootstrap seed": "0", "bootstrap RNG": "numpy"}, "stages": [{"name": "eval mIoU, saliency (Otsu masks)", "seconds": 0.25, "status": "done"}]}"#,
    )
    .expect("run.json");
}

/// Decodes standard base64 (the report's `data:` URIs).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| value(c))
            .collect();
        let n = digits
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend(n.to_be_bytes()[1..digits.len()].iter().copied());
    }
    out
}

/// The embedded PNGs of a page, decoded.
fn embedded_pngs(html: &str) -> Vec<image::DynamicImage> {
    html.split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|rest| {
            let b64 = rest.split('"').next().expect("closing quote");
            image::load_from_memory_with_format(&base64_decode(b64), image::ImageFormat::Png)
                .expect("an embedded image decodes as PNG")
        })
        .collect()
}

#[test]
fn report_of_a_fixture_run_is_a_self_contained_page() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = tmp.path().join("run");
    make_run(&run, true);
    let out = tmp.path().join("out/report.html");
    cli(&[
        "report",
        "--run-dir",
        s(&run),
        "--data",
        s(&fixtures()),
        "--output",
        s(&out),
    ]);
    let html = std::fs::read_to_string(&out).expect("report written");

    // Structure: one document, balanced sections, no script, no external resource.
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    for tag in ["section", "table", "figure", "div", "tr"] {
        let open =
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count();
        let close = html.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open} times, closed {close}");
    }
    assert!(!html.contains("<script"));
    assert!(!html.contains("http://") && !html.contains("https://"));

    // Images: the two bar charts, two overlays per task, the four feature plots.
    let pngs = embedded_pngs(&html);
    assert!(pngs.len() >= 5, "{} images", pngs.len());
    assert_eq!(pngs.len(), 2 + 2 * 10 + 4);
    assert_eq!((pngs[0].width(), pngs[0].height()), (1600, 620));
    assert!(pngs[2..22].iter().all(|p| p.width() == 260));
    assert!(pngs[22..].iter().all(|p| p.width() == 1800));

    for task in Task::SORTED {
        assert!(html.contains(task.name()), "{task} missing");
    }
    assert!(html.contains("<h2>Results per task</h2>"));
    assert!(html.contains("<th>bootstrap seed</th>"), "parameters table");
    assert!(
        html.contains("eval mIoU, saliency (Otsu masks)"),
        "stage table"
    );
    // Every task has a finding in at least 17 CXRs of the fixtures (the generator schedules one
    // in every third of its 52 extra CXRs, also in the human benchmark and its points), so every
    // cell of the results table has a value and a confidence interval: no dash (NaN).
    for task in Task::SORTED {
        let row = html
            .split(&format!("<tr><td>{}</td><td>", task.name()))
            .nth(1)
            .and_then(|r| r.split("</tr>").next())
            .unwrap_or_else(|| panic!("{task} row"));
        let count: usize = row
            .split('<')
            .next()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| panic!("{task} count in {row}"));
        assert!(count >= 17, "{task}: {count} CXRs with the finding");
        assert!(!row.contains("class=\"na\""), "{task}: {row}");
        assert_eq!(
            row.matches("<span class=\"ci\">[").count(),
            6,
            "{task}: {row}"
        );
    }
    // Overlays have captions with the IoU of the mask.
    assert!(html.contains("IoU 0."));
}

#[test]
fn a_run_without_human_benchmark_still_gets_a_report() {
    let tmp = tempfile::tempdir().expect("tmp");
    make_run(tmp.path(), false);
    std::fs::remove_file(tmp.path().join("run.json")).expect("rm");
    // No --data and no run.json: no overlays, a note instead.
    cli(&["report", "--run_dir", s(tmp.path())]);
    let html = std::fs::read_to_string(tmp.path().join("report.html")).expect("written");
    assert!(
        html.contains("Not in this run: eval_iou_hb_tp/iou_humanbenchmark_summary_results.csv")
    );
    assert!(html.contains("Not in this run: run.json"));
    assert!(html.contains("No data folder"));
    // Charts (saliency only) and feature plots are still there.
    assert_eq!(embedded_pngs(&html).len(), 2 + 4);
}

fn run_bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn report_errors_name_the_folder_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("tmp");
    let missing = tmp.path().join("no-such-run");
    let output = tmp.path().join("report.html");
    let out = run_bin(&["report", "--run-dir", s(&missing), "--output", s(&output)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no-such-run"), "{stderr}");
    assert!(!output.exists());
    let out = run_bin(&[
        "report",
        "--run-dir",
        s(tmp.path()),
        "--data",
        s(&tmp.path().join("no-data")),
        "--output",
        s(&output),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no-data"), "{stderr}");
    assert!(!output.exists());
    // Malformed optional inputs are notes, not errors.
    std::fs::create_dir_all(tmp.path().join("eval_iou_tp")).expect("mkdir");
    std::fs::write(
        tmp.path().join("eval_iou_tp/iou_summary_results.csv"),
        "name,lower\nEdema,\"x\n",
    )
    .expect("write");
    std::fs::write(tmp.path().join("run.json"), "{not json").expect("write");
    let out = run_bin(&["report", "--run-dir", s(tmp.path()), "--output", s(&output)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("iou_summary_results.csv"), "{stderr}");
    assert!(stderr.contains("run.json"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(output.exists());
}

#[test]
fn comparisons_are_shown_side_by_side_with_a_forest_plot() {
    let tmp = tempfile::tempdir().expect("tmp");
    let run = tmp.path().join("run");
    make_run(&run, true);
    let seg = run.join("segmentations");
    cli(&[
        "compare",
        "--metric",
        "iou",
        "--gt_path",
        s(&seg.join("gt_segmentations.json")),
        "--pred",
        &format!("Grad-CAM <Otsu>={}", s(&seg.join("saliency_otsu.json"))),
        "--pred",
        &format!("human={}", s(&seg.join("hb_segmentations.json"))),
        "--save_dir",
        s(&run.join("compare")),
    ]);
    let out = tmp.path().join("report.html");
    cli(&["report", "--run-dir", s(&run), "--output", s(&out)]);
    let html = std::fs::read_to_string(&out).expect("report written");
    let section = html
        .split("<section id=\"comparisons\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("a comparisons section");
    // The method name is escaped; both methods head the table; the overall row is last.
    assert!(
        section.contains("<th>Grad-CAM &lt;Otsu&gt;</th><th>human</th>"),
        "{section}"
    );
    assert!(section.contains("<tr class=\"avg\"><td>Overall</td>"));
    assert!(section.contains("alt=\"Forest plot of the overall mIoU differences\""));
    let plots = embedded_pngs(section);
    assert_eq!(plots.len(), 1);
    assert_eq!(plots[0].width(), 1300);
    // Grad-CAM is far below the human benchmark on the fixtures: the pair differs.
    let pair = section
        .split("<td>Overall</td><td>Grad-CAM &lt;Otsu&gt;</td><td>human</td>")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("the overall pair");
    assert!(
        pair.contains("<td>-0.") && pair.ends_with("<td>yes</td>"),
        "{pair}"
    );
}
