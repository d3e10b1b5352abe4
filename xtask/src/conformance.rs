//! `cargo xtask conformance`: our commands against the Python reference's outputs.
//!
//! Each check runs the `chexlocalize` binary on the original sample (read in place, never copied)
//! and compares its outputs with `reference/` (see `reference/README.md` there for the commands
//! that produced them). The run fails if any check fails.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::util::{build_cli, run_cli};

struct Report {
    passed: usize,
    failures: Vec<String>,
}

impl Report {
    fn check(&mut self, name: &str, result: Result<String>) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                println!("ok    {name}: {detail}");
            }
            Err(e) => {
                println!("FAIL  {name}: {e:#}");
                self.failures.push(name.to_owned());
            }
        }
    }
}

pub(crate) fn run(sample: &Path) -> Result<()> {
    if !sample.join("reference").is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            bail!(
                "{}: the sample with its reference/ outputs is required when CI=true",
                sample.display()
            );
        }
        println!(
            "conformance: {} not found, skipped (set --sample to the original sample folder)",
            sample.display()
        );
        return Ok(());
    }
    let sample = sample.canonicalize()?;
    let bin = build_cli()?;
    let mut report = Report {
        passed: 0,
        failures: Vec::new(),
    };
    let out = tempfile_dir()?;
    let ctx = Ctx {
        bin: &bin,
        sample: &sample,
        out: &out,
    };
    report.check("inspect gradcam_maps_val", inspect_pickles(&bin, &sample));
    report.check(
        "inspect segmentations",
        inspect_segmentations(&bin, &sample),
    );
    for (name, input, reference, out) in [
        (
            "ground truth",
            "gt_annotations_val.json",
            "reference/gt_segmentations_from_annotations.json",
            "gt.json",
        ),
        (
            "ground truth, repository file",
            "gt_annotations_val.json",
            "gt_segmentations_val.json",
            "gt2.json",
        ),
        (
            "human benchmark",
            "reference/derived_inputs/hb_annotations.json",
            "reference/hb_segmentations.json",
            "hb.json",
        ),
    ] {
        report.check(
            &format!("annotation-to-segmentation ({name})"),
            ctx.annotations(input, reference, out),
        );
    }
    for (name, extra, reference) in [
        ("otsu", &[][..], "reference/saliency_otsu.json"),
        (
            "threshold",
            &["--threshold_path", "tuning_results.csv"][..],
            "reference/saliency_threshold.json",
        ),
        (
            "probcut",
            &[
                "--probability_threshold_path",
                "probability_tuning_results.csv",
            ][..],
            "reference/saliency_probcut.json",
        ),
        (
            "otsu_smooth_k5",
            &["--if_smoothing", "True", "--k", "5"][..],
            "reference/saliency_otsu_smooth_k5.json",
        ),
    ] {
        report.check(
            &format!("heatmap-to-segmentation ({name})"),
            ctx.heatmaps(name, extra, reference),
        );
    }
    for line in REFERENCE_COMMANDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let args: Vec<&str> = line.split_whitespace().collect();
        report.check(
            &format!("{} {}", args[0], args[args.len() - 1]),
            ctx.csv_command(&args),
        );
    }
    println!(
        "conformance: {} passed, {} failed",
        report.passed,
        report.failures.len()
    );
    if !report.failures.is_empty() {
        bail!("conformance failed: {}", report.failures.join(", "));
    }
    Ok(())
}

/// The reference's commands (reference/README.md) whose outputs are CSV files, with the script
/// names replaced by our subcommands. The last argument is the reference's output folder.
/// `regression_features/` holds only `regression_features_pred_iou.csv`: the reference crashed
/// on the next dependent variable (reference/CRASHES.md); we write all four files and compare the
/// one it wrote.
const REFERENCE_COMMANDS: &str = "
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/saliency_otsu.json --true_pos_only True --seed 0 --save_dir reference/eval_iou_tp
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/saliency_otsu.json --true_pos_only False --seed 0 --save_dir reference/eval_iou_all
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/saliency_otsu.json --true_pos_only True --seed 7 --save_dir reference/eval_iou_tp_seed7
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/saliency_probcut.json --true_pos_only False --seed 0 --save_dir reference/eval_iou_probcut_all
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/hb_segmentations.json --true_pos_only True --if_human_benchmark True --seed 0 --save_dir reference/eval_iou_hb_tp
eval --metric iou --gt_path gt_segmentations_val.json --pred_path reference/hb_segmentations.json --true_pos_only False --if_human_benchmark True --seed 0 --save_dir reference/eval_iou_hb_all
eval --metric hitmiss --gt_path gt_segmentations_val.json --pred_path gradcam_maps_val --seed 0 --save_dir reference/eval_hitmiss
eval --metric hitmiss --gt_path gt_segmentations_val.json --pred_path gradcam_maps_val --seed 7 --save_dir reference/eval_hitmiss_seed7
eval --metric hitmiss --gt_path gt_segmentations_val.json --pred_path reference/derived_inputs/hb_salient_pts.json --if_human_benchmark True --seed 0 --save_dir reference/eval_hitmiss_hb
count-segs --seg_path gt_segmentations_val.json --save_dir reference/count_segs_gt
count-segs --seg_path reference/saliency_otsu.json --save_dir reference/count_segs_otsu
calculate-percentage-decrease --metric miou --hb_bootstrap_results reference/eval_iou_hb_tp/iou_humanbenchmark_bootstrap_results_per_cxr.csv --pred_bootstrap_results reference/eval_iou_tp/iou_bootstrap_results_per_cxr.csv --save_dir reference/pct_decrease
calculate-percentage-decrease --metric hitrate --hb_bootstrap_results reference/eval_hitmiss_hb/hitmiss_humanbenchmark_bootstrap_results_per_cxr.csv --pred_bootstrap_results reference/eval_hitmiss/hitmiss_bootstrap_results_per_cxr.csv --save_dir reference/pct_decrease
precision-recall-specificity --gt_path gt_segmentations_val.json --pred_seg_path reference/saliency_otsu.json --hb_seg_path reference/hb_segmentations.json --save_dir reference/precision_recall_specificity
tune-heatmap-threshold --map_dir gradcam_maps_val --gt_path gt_segmentations_val.json --save_dir reference/tune_heatmap_threshold
tune-probability-threshold --map_dir gradcam_maps_val --gt_path gt_segmentations_val.json --save_dir reference/tune_probability_threshold
compute-pathology-features --gt_ann gt_annotations_val.json --gt_seg gt_segmentations_val.json --save_dir reference/features
regression-pathology-features --features_dir reference/features --pred_iou_results reference/eval_iou_tp/iou_results_per_cxr.csv --pred_hitmiss_results reference/eval_hitmiss/hitmiss_results_per_cxr.csv --evaluate_hb True --hb_iou_results reference/eval_iou_hb_tp/iou_humanbenchmark_results_per_cxr.csv --hb_hitmiss_results reference/eval_hitmiss_hb/hitmiss_humanbenchmark_results_per_cxr.csv --save_dir reference/regression_features
";

struct Ctx<'a> {
    bin: &'a Path,
    sample: &'a Path,
    out: &'a Path,
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = crate::util::workspace_root().join("target/conformance");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

impl Ctx<'_> {
    fn run(&self, args: &[&str]) -> Result<String> {
        run_cli(self.bin, self.sample, args)
    }

    /// Annotations to masks: every RLE string identical, and the file byte-identical.
    fn annotations(&self, input: &str, reference: &str, name: &str) -> Result<String> {
        let out = self.out.join(name);
        let out_s = out.to_string_lossy();
        self.run(&[
            "annotation-to-segmentation",
            "--ann_path",
            input,
            "--output_path",
            &out_s,
        ])?;
        let cmp = compare_masks(&out, &self.sample.join(reference))?;
        if cmp.differing_masks > 0 {
            bail!("{cmp}");
        }
        if std::fs::read(&out)? != std::fs::read(self.sample.join(reference))? {
            bail!("{cmp}, but the JSON text differs");
        }
        Ok(format!("{cmp}, file byte-identical"))
    }

    /// Heatmaps to masks: at most one differing pixel per mask (the reference's own float drift).
    fn heatmaps(&self, name: &str, extra: &[&str], reference: &str) -> Result<String> {
        let out = self.out.join(format!("saliency_{name}.json"));
        let out_s = out.to_string_lossy();
        let mut args = vec![
            "heatmap-to-segmentation",
            "--map_dir",
            "gradcam_maps_val",
            "--output_path",
            &out_s,
        ];
        args.extend_from_slice(extra);
        self.run(&args)?;
        let cmp = compare_masks(&out, &self.sample.join(reference))?;
        if cmp.max_pixels_per_mask > 1 || cmp.missing > 0 {
            bail!("{cmp}");
        }
        Ok(cmp.to_string())
    }

    /// A command writing CSV files: every file of the reference folder, field by field.
    fn csv_command(&self, args: &[&str]) -> Result<String> {
        let reference_dir = self.sample.join(args[args.len() - 1]);
        let ours_dir = self.out.join(args[args.len() - 1].replace('/', "_"));
        let ours_s = ours_dir.to_string_lossy();
        let mut a = args[..args.len() - 1].to_vec();
        a.push(&ours_s);
        self.run(&a)?;
        // Several commands may share a reference folder (pct_decrease): compare every reference
        // file this command is meant to write, i.e. those whose name starts with its metric.
        let metric = args
            .iter()
            .position(|a| *a == "--metric")
            .map(|i| args[i + 1]);
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&reference_dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if args[0] != "calculate-percentage-decrease"
                || metric.is_some_and(|m| name.starts_with(m))
            {
                files.push(path);
            }
        }
        files.sort();
        let mut details = Vec::new();
        for f in files {
            let name = f
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let ours = std::fs::read_to_string(ours_dir.join(&name))
                .map_err(|e| anyhow::anyhow!("{name}: not written ({e})"))?;
            let theirs = std::fs::read_to_string(&f)?;
            let detail = compare_csv(&ours, &theirs).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            details.push(format!("{name} {detail}"));
        }
        Ok(details.join("; "))
    }
}

/// Agreement between two segmentation files, mask by mask.
struct MaskComparison {
    masks: usize,
    differing_masks: usize,
    differing_pixels: u64,
    max_pixels_per_mask: u64,
    missing: usize,
}

impl std::fmt::Display for MaskComparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} masks, {} identical, {} differing pixels in all (max {} in one mask), {} missing",
            self.masks,
            self.masks - self.differing_masks,
            self.differing_pixels,
            self.max_pixels_per_mask,
            self.missing
        )
    }
}

fn compare_masks(ours: &Path, reference: &Path) -> Result<MaskComparison> {
    let a = chexlocalize_io::read_segmentations(ours, &chexlocalize_io::Limits::BUILTIN)?;
    let b = chexlocalize_io::read_segmentations(reference, &chexlocalize_io::Limits::BUILTIN)?;
    let mut c = MaskComparison {
        masks: 0,
        differing_masks: 0,
        differing_pixels: 0,
        max_pixels_per_mask: 0,
        missing: 0,
    };
    for cxr in b.cxrs() {
        for (task, rb) in &cxr.masks {
            c.masks += 1;
            let Some(ra) = a.get(&cxr.cxr_id, *task) else {
                c.missing += 1;
                continue;
            };
            if ra.to_counts_string() == rb.to_counts_string()
                && ra.height() == rb.height()
                && ra.width() == rb.width()
            {
                continue;
            }
            c.differing_masks += 1;
            let d = if (ra.height(), ra.width()) == (rb.height(), rb.width()) {
                let (da, db) = (ra.decode(), rb.decode());
                da.iter().zip(&db).filter(|(x, y)| x != y).count() as u64
            } else {
                u64::MAX
            };
            c.differing_pixels = c.differing_pixels.saturating_add(d);
            c.max_pixels_per_mask = c.max_pixels_per_mask.max(d);
        }
    }
    if a.len() != b.len() {
        c.missing += a.len().abs_diff(b.len());
    }
    Ok(c)
}

/// Splits CSV text into rows of fields (header first), honouring quotes (the regression outputs
/// quote their `"mean, (lower, upper)"` fields).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    match chexlocalize_io::CsvTable::parse(Path::new("csv"), text) {
        Ok(t) => std::iter::once(t.header).chain(t.rows).collect(),
        Err(_) => text
            .lines()
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect(),
    }
}

/// Compares two CSV texts field by field; reports the first differences.
fn compare_csv(ours: &str, reference: &str) -> Result<String> {
    let (a, b) = (csv_rows(ours), csv_rows(reference));
    let mut diffs = Vec::new();
    if a.len() != b.len() {
        diffs.push(format!("{} rows, reference has {}", a.len(), b.len()));
    }
    let mut fields = 0usize;
    for (i, (ra, rb)) in a.iter().zip(&b).enumerate() {
        if ra.len() != rb.len() {
            diffs.push(format!(
                "line {}: {} fields, reference {}",
                i + 1,
                ra.len(),
                rb.len()
            ));
            continue;
        }
        for (j, (fa, fb)) in ra.iter().zip(rb).enumerate() {
            fields += 1;
            if fa != fb {
                diffs.push(format!(
                    "line {} field {} ({}): {fa:?} vs reference {fb:?}",
                    i + 1,
                    j + 1,
                    b[0][j]
                ));
            }
        }
    }
    if diffs.is_empty() {
        Ok(format!("{} rows, {fields} fields identical", a.len()))
    } else {
        diffs.truncate(10);
        bail!("{}", diffs.join("\n      "))
    }
}

fn inspect_pickles(bin: &Path, sample: &Path) -> Result<String> {
    let ours = run_cli(
        bin,
        sample,
        &["inspect", "gradcam_maps_val", "--format", "csv"],
    )?;
    let reference = std::fs::read_to_string(sample.join("reference/pkl_summary.csv"))?;
    compare_csv(&ours, &reference)
}

/// `reference/rle_summary.csv` holds pycocotools' area and toBbox of the ground-truth and of the
/// repository's Grad-CAM masks; `inspect` of the two JSON files must give the same numbers.
fn inspect_segmentations(bin: &Path, sample: &Path) -> Result<String> {
    let gt = csv_rows(&run_cli(
        bin,
        sample,
        &["inspect", "gt_segmentations_val.json", "--format", "csv"],
    )?);
    let pred = csv_rows(&run_cli(
        bin,
        sample,
        &[
            "inspect",
            "gradcam_segmentations_val_sample.json",
            "--format",
            "csv",
        ],
    )?);
    let reference = csv_rows(&std::fs::read_to_string(
        sample.join("reference/rle_summary.csv"),
    )?);
    // Ours: cxr_id,task,h,w,area,bbox; reference: cxr_id,task,h,w,gt_area,gt_bbox,pred_area,pred_bbox,iou.
    let mut ours = vec!["cxr_id,task,h,w,gt_area,gt_bbox,pred_area,pred_bbox".to_owned()];
    for (g, p) in gt.iter().zip(&pred).skip(1) {
        if g[..2] != p[..2] {
            bail!("gt and prediction rows not aligned: {g:?} vs {p:?}");
        }
        ours.push(format!(
            "{},{},{},{},{},{},{},{}",
            g[0], g[1], g[2], g[3], g[4], g[5], p[4], p[5]
        ));
    }
    let reference: Vec<String> = reference.iter().map(|r| r[..8].join(",")).collect();
    compare_csv(&ours.join("\n"), &reference.join("\n"))
}
