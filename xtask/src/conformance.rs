//! `cargo xtask conformance`: our commands against the Python reference's outputs.
//!
//! Each check runs one stage of the `chexlocalize` library with the inputs of one of the
//! reference's commands (`reference/README.md` in the sample lists them), on the original sample
//! (read in place, never copied), and compares its outputs with `reference/`. The run fails if any
//! check fails. The command line's mapping of the scripts' flags onto the stages is tested by
//! `crates/cli/tests` (every flag, both spellings).

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chexlocalize::{
    AnnotationsToSegmentations, Bootstrap, Candidates, ComputePathologyFeatures, CountSegs,
    DecreaseMetric, EvalRun, Evaluate, HeatmapsToSegmentations, HumanBenchmarkResults, Inspect,
    InspectFormat, Metric, Options, PercentageDecrease, PolygonFill, PrecisionRecallSpecificity,
    Predictor, RegressionPathologyFeatures, RunLayout, Scoring, Smoothing, Thresholds, Tune,
};

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
    let mut report = Report {
        passed: 0,
        failures: Vec::new(),
    };
    let out = tempfile_dir()?;
    let ctx = Ctx {
        sample: &sample,
        out: &out,
        options: Options::default(),
    };
    report.check("inspect gradcam_maps_val", ctx.inspect_pickles());
    report.check("inspect segmentations", ctx.inspect_segmentations());
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
    for (name, thresholds, smoothing, reference) in [
        (
            "otsu",
            Thresholds::Otsu,
            Smoothing::None,
            "reference/saliency_otsu.json",
        ),
        (
            "threshold",
            Thresholds::Fixed(sample.join("tuning_results.csv")),
            Smoothing::None,
            "reference/saliency_threshold.json",
        ),
        (
            "probcut",
            Thresholds::ProbabilityCutoffs(sample.join("probability_tuning_results.csv")),
            Smoothing::None,
            "reference/saliency_probcut.json",
        ),
        (
            "otsu_smooth_k5",
            Thresholds::Otsu,
            Smoothing::BoxFilter(5),
            "reference/saliency_otsu_smooth_k5.json",
        ),
    ] {
        report.check(
            &format!("heatmap-to-segmentation ({name})"),
            ctx.heatmaps(name, thresholds, smoothing, reference),
        );
    }
    for check in reference_stages(&sample) {
        report.check(
            &format!("{} {}", check.stage, check.reference_dir),
            ctx.csv_stage(&check),
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

/// A stage whose outputs are CSV files, run into a folder and compared with a reference folder.
struct CsvCheck {
    /// The stage's name (the subcommand that runs it).
    stage: &'static str,
    /// The reference's output folder, relative to the sample.
    reference_dir: &'static str,
    /// Only the reference files whose name starts with this (folders shared by two runs).
    prefix: &'static str,
    /// Runs the stage with its outputs in the given folder.
    run: StageRun,
}

/// A stage call with its inputs bound, taking the output folder.
type StageRun = Box<dyn Fn(&Path, &Options) -> chexlocalize::Result<()>>;

impl CsvCheck {
    fn new(
        stage: &'static str,
        reference_dir: &'static str,
        run: impl Fn(&Path, &Options) -> chexlocalize::Result<()> + 'static,
    ) -> Self {
        CsvCheck {
            stage,
            reference_dir,
            prefix: "",
            run: Box::new(run),
        }
    }

    /// Compares only the reference files whose name starts with `prefix`.
    fn prefix(self, prefix: &'static str) -> Self {
        CsvCheck { prefix, ..self }
    }
}

/// The reference's commands whose outputs are CSV files (`reference/README.md` lists them), as
/// typed stage calls. `regression_features/` holds only `regression_features_pred_iou.csv`: the
/// reference crashed on the next dependent variable (reference/CRASHES.md); we write all four
/// files and compare the one it wrote.
fn reference_stages(sample: &Path) -> Vec<CsvCheck> {
    let s = |rel: &str| sample.join(rel);
    let gt = s("gt_segmentations_val.json");
    let mut v: Vec<CsvCheck> = Vec::new();
    let eval = |metric, pred: &str, seed, predictor, dir: &'static str| {
        let a = Evaluate {
            metric,
            gt_path: gt.clone(),
            pred_path: s(pred),
            predictor,
            save_dir: PathBuf::new(),
            bootstrap: Bootstrap {
                seed,
                ..Bootstrap::default()
            },
        };
        CsvCheck::new("eval", dir, move |out, o| {
            let a = Evaluate {
                save_dir: out.to_path_buf(),
                ..a.clone()
            };
            chexlocalize::evaluate(&a, o).map(drop)
        })
    };
    use Predictor::{HumanBenchmark as Hb, Saliency as Sal};
    use Scoring::{All, TruePositivesOnly as Tp};
    let (otsu, probcut, hb) = (
        "reference/saliency_otsu.json",
        "reference/saliency_probcut.json",
        "reference/hb_segmentations.json",
    );
    let hit = Metric::HitMiss {
        tolerance_px: 0.0,
        boundary: chexlocalize::ToleranceBoundary::Inclusive,
    };
    for (metric, pred, seed, predictor, dir) in [
        (Metric::Iou(Tp), otsu, 0, Sal, "reference/eval_iou_tp"),
        (Metric::Iou(All), otsu, 0, Sal, "reference/eval_iou_all"),
        (Metric::Iou(Tp), otsu, 7, Sal, "reference/eval_iou_tp_seed7"),
        (
            Metric::Iou(All),
            probcut,
            0,
            Sal,
            "reference/eval_iou_probcut_all",
        ),
        (Metric::Iou(Tp), hb, 0, Hb, "reference/eval_iou_hb_tp"),
        (Metric::Iou(All), hb, 0, Hb, "reference/eval_iou_hb_all"),
        (hit, "gradcam_maps_val", 0, Sal, "reference/eval_hitmiss"),
        (
            hit,
            "gradcam_maps_val",
            7,
            Sal,
            "reference/eval_hitmiss_seed7",
        ),
        (
            hit,
            "reference/derived_inputs/hb_salient_pts.json",
            0,
            Hb,
            "reference/eval_hitmiss_hb",
        ),
    ] {
        v.push(eval(metric, pred, seed, predictor, dir));
    }
    for (seg, dir) in [
        ("gt_segmentations_val.json", "reference/count_segs_gt"),
        ("reference/saliency_otsu.json", "reference/count_segs_otsu"),
    ] {
        let seg_path = s(seg);
        v.push(CsvCheck::new("count-segs", dir, move |out, o| {
            let a = CountSegs {
                seg_path: seg_path.clone(),
                save_dir: out.to_path_buf(),
            };
            chexlocalize::count_segs(&a, o).map(drop)
        }));
    }
    for (metric, hb, pred, prefix) in [
        (
            DecreaseMetric::Miou,
            EvalRun::IouHumanBenchmark,
            EvalRun::IouSaliency,
            "miou",
        ),
        (
            DecreaseMetric::HitRate,
            EvalRun::HitHumanBenchmark,
            EvalRun::HitSaliency,
            "hitrate",
        ),
    ] {
        // The reference's own bootstrap files, where its README's command reads them.
        let reference_run = RunLayout::new(s("reference"));
        let hb_file = reference_run.eval_bootstrap(hb);
        let pred_file = reference_run.eval_bootstrap(pred);
        v.push(
            CsvCheck::new(
                "calculate-percentage-decrease",
                "reference/pct_decrease",
                move |out, o| {
                    let a = PercentageDecrease {
                        metric,
                        hb_bootstrap_results: hb_file.clone(),
                        pred_bootstrap_results: pred_file.clone(),
                        save_dir: out.to_path_buf(),
                        level: chexlocalize::CiLevel::NINETY_FIVE,
                    };
                    chexlocalize::percentage_decrease(&a, o).map(drop)
                },
            )
            .prefix(prefix),
        );
    }
    let (gt2, otsu, hbs) = (
        gt.clone(),
        s("reference/saliency_otsu.json"),
        s("reference/hb_segmentations.json"),
    );
    v.push(CsvCheck::new(
        "precision-recall-specificity",
        "reference/precision_recall_specificity",
        move |out, o| {
            let a = PrecisionRecallSpecificity {
                gt_path: gt2.clone(),
                pred_seg_path: otsu.clone(),
                hb_seg_path: hbs.clone(),
                save_dir: out.to_path_buf(),
            };
            chexlocalize::precision_recall_specificity(&a, o).map(drop)
        },
    ));
    for (stage, dir, heatmap) in [
        (
            "tune-heatmap-threshold",
            "reference/tune_heatmap_threshold",
            true,
        ),
        (
            "tune-probability-threshold",
            "reference/tune_probability_threshold",
            false,
        ),
    ] {
        let (maps, gt3) = (s("gradcam_maps_val"), gt.clone());
        v.push(CsvCheck::new(stage, dir, move |out, o| {
            let a = Tune {
                map_dir: maps.clone(),
                gt_path: gt3.clone(),
                save_dir: out.to_path_buf(),
                grid: Candidates::Reference,
            };
            if heatmap {
                chexlocalize::tune_heatmap_threshold(&a, o).map(drop)
            } else {
                chexlocalize::tune_probability_threshold(&a, o).map(drop)
            }
        }));
    }
    let (ann, gt4) = (s("gt_annotations_val.json"), gt.clone());
    v.push(CsvCheck::new(
        "compute-pathology-features",
        "reference/features",
        move |out, o| {
            let a = ComputePathologyFeatures {
                gt_ann: ann.clone(),
                gt_seg: gt4.clone(),
                save_dir: out.to_path_buf(),
            };
            chexlocalize::compute_pathology_features(&a, o).map(drop)
        },
    ));
    let reference_run = RunLayout::new(s("reference"));
    let regression = RegressionPathologyFeatures {
        features_dir: s("reference/features"),
        pred_iou_results: reference_run.eval_per_cxr(EvalRun::IouSaliency),
        pred_hitmiss_results: reference_run.eval_per_cxr(EvalRun::HitSaliency),
        human_benchmark: Some(HumanBenchmarkResults {
            iou: reference_run.eval_per_cxr(EvalRun::IouHumanBenchmark),
            hitmiss: reference_run.eval_per_cxr(EvalRun::HitHumanBenchmark),
        }),
        save_dir: PathBuf::new(),
    };
    v.push(CsvCheck::new(
        "regression-pathology-features",
        "reference/regression_features",
        move |out, o| {
            let a = RegressionPathologyFeatures {
                save_dir: out.to_path_buf(),
                ..regression.clone()
            };
            chexlocalize::regression_pathology_features(&a, o).map(drop)
        },
    ));
    v
}

struct Ctx<'a> {
    sample: &'a Path,
    out: &'a Path,
    options: Options,
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = crate::util::workspace_root().join("target/conformance");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A stage's error as text.
fn text(e: chexlocalize::Error) -> anyhow::Error {
    anyhow::anyhow!("{}", chexlocalize::chain_text(&e))
}

impl Ctx<'_> {
    /// Annotations to masks: every RLE string identical, and the file byte-identical.
    fn annotations(&self, input: &str, reference: &str, name: &str) -> Result<String> {
        let out = self.out.join(name);
        chexlocalize::annotations_to_segmentations(
            &AnnotationsToSegmentations {
                ann_path: self.sample.join(input),
                output_path: out.clone(),
                fill_rule: PolygonFill::Pillow,
            },
            &self.options,
        )
        .map_err(text)?;
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
    fn heatmaps(
        &self,
        name: &str,
        thresholds: Thresholds,
        smoothing: Smoothing,
        reference: &str,
    ) -> Result<String> {
        let out = self.out.join(format!("saliency_{name}.json"));
        chexlocalize::heatmaps_to_segmentations(
            &HeatmapsToSegmentations {
                map_dir: self.sample.join("gradcam_maps_val"),
                thresholds,
                smoothing,
                output_path: out.clone(),
            },
            &self.options,
        )
        .map_err(text)?;
        let cmp = compare_masks(&out, &self.sample.join(reference))?;
        if cmp.max_pixels_per_mask > 1 || cmp.missing > 0 {
            bail!("{cmp}");
        }
        Ok(cmp.to_string())
    }

    /// A stage writing CSV files: every file of the reference folder (with the check's prefix),
    /// field by field.
    fn csv_stage(&self, check: &CsvCheck) -> Result<String> {
        let reference_dir = self.sample.join(check.reference_dir);
        let ours_dir = self.out.join(check.reference_dir.replace('/', "_"));
        (check.run)(&ours_dir, &self.options).map_err(text)?;
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&reference_dir)? {
            let path = entry?.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with(check.prefix) {
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

    /// `inspect` of the heatmaps against `reference/pkl_summary.csv`.
    fn inspect_pickles(&self) -> Result<String> {
        let ours = self.inspect(&self.sample.join("gradcam_maps_val"))?;
        let reference = std::fs::read_to_string(self.sample.join("reference/pkl_summary.csv"))?;
        compare_csv(&ours, &reference)
    }

    fn inspect(&self, path: &Path) -> Result<String> {
        let found = chexlocalize::inspect(
            &Inspect {
                paths: vec![path.to_path_buf()],
                format: InspectFormat::Csv,
                output: None,
            },
            &self.options,
        )
        .map_err(text)?;
        Ok(found.text)
    }

    /// `reference/rle_summary.csv` holds pycocotools' area and toBbox of the ground-truth and of
    /// the repository's Grad-CAM masks; `inspect` of the two JSON files must give the same numbers.
    fn inspect_segmentations(&self) -> Result<String> {
        let gt = csv_rows(&self.inspect(&self.sample.join("gt_segmentations_val.json"))?);
        let pred =
            csv_rows(&self.inspect(&self.sample.join("gradcam_segmentations_val_sample.json"))?);
        let reference = csv_rows(&std::fs::read_to_string(
            self.sample.join("reference/rle_summary.csv"),
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
