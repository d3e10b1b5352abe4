//! [`reproduce`]: the paper's pipeline end to end on a data folder, every stage in-process.
//!
//! Runs each stage whose inputs exist in the [`DataLayout`] (or are made by an earlier stage),
//! writes every output where the [`RunLayout`] says, then `run.json` (parameters, stage
//! timings and notes) and the HTML report. A stage whose input is missing is skipped; a stage
//! that fails stops the run with its error, except the tuned-threshold segmentations, which
//! nothing later needs (a task may have no usable tuning row on small data). After the paper's
//! stages come the ones beyond it (`reproduce/beyond.rs`): baselines and comparisons.

mod beyond;

use std::path::{Path, PathBuf};
use std::time::Instant;

use chexlocalize_io::layout::{EvalRun, SegFile};
use chexlocalize_io::{DataLayout, RunLayout, Task};
use chexlocalize_metrics::{Ci, Scoring};

use crate::error::Result;
use crate::options::{Level, Note, Options, Outcome};
use crate::{
    AnnotationsToSegmentations, AssuranceMetric, Bootstrap, ComputePathologyFeatures, CountSegs,
    DecreaseMetric, Evaluate, HeatmapsToSegmentations, HumanBenchmarkResults, Inspect,
    InspectFormat, Metric, PercentageDecrease, PlotPathologyFeatures, PolygonFill,
    PrecisionRecallSpecificity, Predictor, RegressionModelAssurance, RegressionPathologyFeatures,
    Report, Smoothing, Thresholds, Tune,
};

/// Inputs of [`reproduce`].
#[derive(Clone, Debug)]
pub struct Reproduce {
    /// The data folder (laid out like the original repository's `sample/`).
    pub data: DataLayout,
    /// The run folder to fill.
    pub run: RunLayout,
    /// Bootstrap seed of the evaluations.
    pub seed: u32,
    /// Parameters to record in `run.json` besides the pipeline's own (the caller's version,
    /// commit, platform, ...).
    pub extra_parameters: Vec<(String, String)>,
}

/// What happened to a stage.
#[derive(Clone, Debug, PartialEq)]
pub enum StageStatus {
    /// It ran.
    Done,
    /// An input is missing (no human benchmark, no heatmaps, ...).
    Skipped,
    /// It failed, and nothing later needs it: the run went on.
    Failed(String),
}

/// One stage of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct StageRecord {
    /// What the stage does, e.g. `eval mIoU, saliency (Otsu masks)`.
    pub name: &'static str,
    /// Wall time.
    pub seconds: f64,
    /// Whether it ran.
    pub status: StageStatus,
    /// Its warnings and messages.
    pub notes: Vec<Note>,
}

/// What [`reproduce`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSummary {
    /// Every stage, in order, the report last.
    pub stages: Vec<StageRecord>,
    /// The evaluations that ran, in run order: per task (sorted by name), the bootstrap mean
    /// and 95% CI.
    pub evaluations: Vec<(EvalRun, Vec<(Task, Ci)>)>,
    /// Wall time of the whole run.
    pub seconds: f64,
}

/// One stage to run: its name, the inputs it needs, and the call.
struct Step<'a> {
    name: &'static str,
    needs: Vec<Option<PathBuf>>,
    optional: bool,
    run: Box<dyn Fn() -> Result<StepOutput> + 'a>,
}

/// What a step returns: its outcome, and an evaluation's summary.
struct StepOutput {
    outcome: Outcome,
    evaluation: Option<(EvalRun, Vec<(Task, Ci)>)>,
}

impl From<Outcome> for StepOutput {
    fn from(outcome: Outcome) -> Self {
        StepOutput {
            outcome,
            evaluation: None,
        }
    }
}

/// Runs the whole pipeline (see the module doc) and returns what each stage did; `observe` is
/// called after each stage (the command line prints progress with it).
pub fn reproduce(
    args: &Reproduce,
    options: &Options,
    mut observe: impl FnMut(usize, usize, &StageRecord),
) -> Result<RunSummary> {
    let started = Instant::now();
    let mut steps = steps(&args.data, &args.run, args.seed, options);
    steps.extend(beyond::steps(&args.data, &args.run, args.seed, options));
    let n = steps.len() + 1;
    let mut records = Vec::with_capacity(n);
    let mut evaluations = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let t = Instant::now();
        let (status, notes) = if step.needs.iter().all(Option::is_some) {
            match (step.run)() {
                Ok(out) => {
                    if let Some((run, summary)) = out.evaluation {
                        evaluations.push((run, summary));
                    }
                    (StageStatus::Done, out.outcome.notes)
                }
                Err(e) if step.optional => (
                    StageStatus::Failed(chexlocalize_io::chain_text(&e)),
                    Vec::new(),
                ),
                Err(e) => return Err(e),
            }
        } else {
            (StageStatus::Skipped, Vec::new())
        };
        let record = StageRecord {
            name: step.name,
            seconds: t.elapsed().as_secs_f64(),
            status,
            notes,
        };
        observe(i + 1, n, &record);
        records.push(record);
    }
    let mut parameters: Vec<(String, String)> = vec![
        ("data".into(), text(args.data.root())),
        ("output".into(), text(args.run.root())),
        ("bootstrap replicates".into(), "1000".into()),
        ("bootstrap seed".into(), args.seed.to_string()),
        (
            "bootstrap RNG".into(),
            "numpy (MT19937, np.random.choice)".into(),
        ),
        (
            "saliency masks evaluated".into(),
            format!("Otsu (segmentations/{})", SegFile::Otsu.name()),
        ),
        (
            "fixed thresholds".into(),
            format!(
                "tuned here: tune/{}",
                chexlocalize_io::layout::TUNING_RESULTS
            ),
        ),
        (
            "probability cutoffs".into(),
            format!(
                "tuned here: tune/{}",
                chexlocalize_io::layout::PROBABILITY_TUNING_RESULTS
            ),
        ),
    ];
    parameters.extend(args.extra_parameters.iter().cloned());
    parameters.push((
        "pipeline seconds".into(),
        format!("{:.3}", started.elapsed().as_secs_f64()),
    ));
    chexlocalize_io::write_atomic(
        &args.run.run_json(),
        run_json(&parameters, &records).as_bytes(),
    )?;
    // The report reads run.json (parameters and the stage table), so it comes last.
    let t = Instant::now();
    let out = crate::report(
        &Report {
            run: args.run.clone(),
            data: Some(args.data.root().to_path_buf()),
            output: None,
            overlays_per_task: 2,
        },
        options,
    )?;
    let record = StageRecord {
        name: "HTML report",
        seconds: t.elapsed().as_secs_f64(),
        status: StageStatus::Done,
        notes: out.notes,
    };
    observe(n, n, &record);
    records.push(record);
    Ok(RunSummary {
        stages: records,
        evaluations,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `run.json`: the run's parameters, and per stage its name, seconds, status and warnings.
fn run_json(params: &[(String, String)], records: &[StageRecord]) -> String {
    use chexlocalize_io::push_json_string as js;
    let mut s = String::from("{\"parameters\": {");
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        js(&mut s, k);
        s.push_str(": ");
        js(&mut s, v);
    }
    s.push_str("}, \"stages\": [");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str("{\"name\": ");
        js(&mut s, r.name);
        s.push_str(&format!(
            ", \"seconds\": {}, \"status\": ",
            chexlocalize_io::json_float(r.seconds)
        ));
        let status = match &r.status {
            StageStatus::Done => "done".to_owned(),
            StageStatus::Skipped => "skipped: an input is missing".to_owned(),
            StageStatus::Failed(why) => format!("failed: {why}"),
        };
        js(&mut s, &status);
        s.push_str(", \"warnings\": [");
        let warnings = r.notes.iter().filter(|n| n.level == Level::Warning);
        for (j, w) in warnings.enumerate() {
            if j > 0 {
                s.push_str(", ");
            }
            js(&mut s, &w.text);
        }
        s.push_str("]}");
    }
    s.push_str("]}\n");
    s
}

/// The pipeline's stages, in order, for the inputs found in `data`.
fn steps<'a>(data: &DataLayout, run: &'a RunLayout, seed: u32, o: &'a Options) -> Vec<Step<'a>> {
    let maps = data.heatmaps();
    let gt_ann = data.gt_annotations();
    let hb_ann = data.hb_annotations();
    let hb_pts = data.hb_salient_points();
    // Outputs of earlier stages count as present when the stage that writes them will run.
    let after = |inputs: &[&Option<PathBuf>], path: PathBuf| {
        inputs.iter().all(|i| i.is_some()).then_some(path)
    };
    let gt = after(&[&gt_ann], run.segmentations(SegFile::GroundTruth));
    let hb = after(&[&hb_ann], run.segmentations(SegFile::HumanBenchmark));
    let otsu = after(&[&maps], run.segmentations(SegFile::Otsu));
    let thresholds = after(&[&maps, &gt], run.tuning_results());
    let cutoffs = after(&[&maps, &gt], run.probability_tuning_results());
    let eval_iou = after(&[&gt, &otsu], run.eval_dir(EvalRun::IouSaliency));
    let eval_iou_hb = after(&[&gt, &hb], run.eval_dir(EvalRun::IouHumanBenchmark));
    let eval_hit = after(&[&gt, &maps], run.eval_dir(EvalRun::HitSaliency));
    let eval_hit_hb = after(&[&gt, &hb_pts], run.eval_dir(EvalRun::HitHumanBenchmark));
    let features = after(&[&gt_ann, &gt], run.features_dir());
    // A path that exists when the step runs (the step is skipped otherwise).
    let p = |x: &Option<PathBuf>| x.clone().unwrap_or_default();
    let mut v: Vec<Step<'a>> = Vec::new();
    let mut step = |name: &'static str,
                    needs: &[&Option<PathBuf>],
                    run: Box<dyn Fn() -> Result<StepOutput> + 'a>| {
        v.push(Step {
            name,
            needs: needs.iter().map(|n| (*n).clone()).collect(),
            optional: name.contains("(tuned"),
            run,
        })
    };
    let inspect = Inspect {
        paths: vec![p(&maps)],
        format: InspectFormat::Csv,
        output: Some(run.heatmap_summary()),
    };
    step(
        "inspect heatmaps",
        &[&maps],
        Box::new(move || Ok(crate::inspect(&inspect, o)?.outcome.into())),
    );
    for (name, ann, out) in [
        ("ground truth: annotations -> masks", &gt_ann, &gt),
        ("human benchmark: annotations -> masks", &hb_ann, &hb),
    ] {
        let a = AnnotationsToSegmentations {
            ann_path: p(ann),
            output_path: p(out),
            fill_rule: PolygonFill::Pillow,
        };
        step(
            name,
            &[ann],
            Box::new(move || Ok(crate::annotations_to_segmentations(&a, o)?.into())),
        );
    }
    let tune = Tune {
        map_dir: p(&maps),
        gt_path: p(&gt),
        save_dir: run.tune_dir(),
        grid: crate::Candidates::Reference,
    };
    let t2 = tune.clone();
    step(
        "tune heatmap threshold",
        &[&maps, &gt],
        Box::new(move || Ok(crate::tune_heatmap_threshold(&tune, o)?.into())),
    );
    step(
        "tune probability cutoff",
        &[&maps, &gt],
        Box::new(move || Ok(crate::tune_probability_threshold(&t2, o)?.into())),
    );
    let none = None;
    for (name, thresholds, smoothing, file, tuned) in [
        (
            "saliency: heatmaps -> masks (Otsu)",
            Thresholds::Otsu,
            Smoothing::None,
            SegFile::Otsu,
            &none,
        ),
        (
            "saliency: heatmaps -> masks (tuned thresholds)",
            Thresholds::Fixed(p(&thresholds)),
            Smoothing::None,
            SegFile::TunedThresholds,
            &thresholds,
        ),
        (
            "saliency: heatmaps -> masks (tuned cutoffs)",
            Thresholds::ProbabilityCutoffs(p(&cutoffs)),
            Smoothing::None,
            SegFile::TunedCutoffs,
            &cutoffs,
        ),
        (
            "saliency: heatmaps -> masks (smoothed, k=5)",
            Thresholds::Otsu,
            Smoothing::BoxFilter(5),
            SegFile::OtsuSmoothed5,
            &none,
        ),
    ] {
        let a = HeatmapsToSegmentations {
            map_dir: p(&maps),
            thresholds,
            smoothing,
            output_path: run.segmentations(file),
        };
        // A tuned variant needs its tuning output as well.
        let needs: Vec<&Option<PathBuf>> = match file {
            SegFile::TunedThresholds | SegFile::TunedCutoffs => vec![&maps, tuned],
            _ => vec![&maps],
        };
        step(
            name,
            &needs,
            Box::new(move || Ok(crate::heatmaps_to_segmentations(&a, o)?.into())),
        );
    }
    for (name, which, pred, metric, needs) in [
        (
            "eval mIoU, saliency (Otsu masks)",
            EvalRun::IouSaliency,
            &otsu,
            Metric::Iou(Scoring::TruePositivesOnly),
            [&gt, &otsu],
        ),
        (
            "eval mIoU, human benchmark",
            EvalRun::IouHumanBenchmark,
            &hb,
            Metric::Iou(Scoring::TruePositivesOnly),
            [&gt, &hb],
        ),
        (
            "eval hit rate, saliency",
            EvalRun::HitSaliency,
            &maps,
            Metric::HitMiss {
                tolerance_px: 0.0,
                boundary: crate::ToleranceBoundary::Inclusive,
            },
            [&gt, &maps],
        ),
        (
            "eval hit rate, human benchmark",
            EvalRun::HitHumanBenchmark,
            &hb_pts,
            Metric::HitMiss {
                tolerance_px: 0.0,
                boundary: crate::ToleranceBoundary::Inclusive,
            },
            [&gt, &hb_pts],
        ),
    ] {
        let a = Evaluate {
            metric,
            gt_path: p(&gt),
            pred_path: p(pred),
            predictor: if which.human_benchmark() {
                Predictor::HumanBenchmark
            } else {
                Predictor::Saliency
            },
            save_dir: run.eval_dir(which),
            bootstrap: Bootstrap {
                seed,
                ..Bootstrap::default()
            },
        };
        step(
            name,
            &needs,
            Box::new(move || {
                let e = crate::evaluate(&a, o)?;
                Ok(StepOutput {
                    outcome: e.outcome,
                    evaluation: Some((which, e.summary)),
                })
            }),
        );
    }
    for (name, metric, saliency, human, needs) in [
        (
            "percentage decrease, mIoU",
            DecreaseMetric::Miou,
            EvalRun::IouSaliency,
            EvalRun::IouHumanBenchmark,
            [&eval_iou, &eval_iou_hb],
        ),
        (
            "percentage decrease, hit rate",
            DecreaseMetric::HitRate,
            EvalRun::HitSaliency,
            EvalRun::HitHumanBenchmark,
            [&eval_hit, &eval_hit_hb],
        ),
    ] {
        let a = PercentageDecrease {
            metric,
            hb_bootstrap_results: run.eval_bootstrap(human),
            pred_bootstrap_results: run.eval_bootstrap(saliency),
            save_dir: run.pct_decrease_dir(),
            level: crate::CiLevel::NINETY_FIVE,
        };
        step(
            name,
            &needs,
            Box::new(move || Ok(crate::percentage_decrease(&a, o)?.into())),
        );
    }
    let prs = PrecisionRecallSpecificity {
        gt_path: p(&gt),
        pred_seg_path: p(&otsu),
        hb_seg_path: p(&hb),
        save_dir: run.prs_dir(),
    };
    step(
        "precision / recall / specificity",
        &[&gt, &otsu, &hb],
        Box::new(move || Ok(crate::precision_recall_specificity(&prs, o)?.into())),
    );
    let count = CountSegs {
        seg_path: p(&gt),
        save_dir: run.count_segs_dir(),
    };
    step(
        "count segmentations",
        &[&gt],
        Box::new(move || Ok(crate::count_segs(&count, o)?.into())),
    );
    let feat = ComputePathologyFeatures {
        gt_ann: p(&gt_ann),
        gt_seg: p(&gt),
        save_dir: run.features_dir(),
    };
    step(
        "pathology features",
        &[&gt_ann, &gt],
        Box::new(move || Ok(crate::compute_pathology_features(&feat, o)?.into())),
    );
    let plots = PlotPathologyFeatures {
        features_dir: run.features_dir(),
        save_dir: run.feature_plots_dir(),
    };
    step(
        "pathology feature plots",
        &[&features],
        Box::new(move || Ok(crate::plot_pathology_features(&plots, o)?.into())),
    );
    let regression = RegressionPathologyFeatures {
        features_dir: run.features_dir(),
        pred_iou_results: run.eval_per_cxr(EvalRun::IouSaliency),
        pred_hitmiss_results: run.eval_per_cxr(EvalRun::HitSaliency),
        human_benchmark: (eval_iou_hb.is_some() && eval_hit_hb.is_some()).then(|| {
            HumanBenchmarkResults {
                iou: run.eval_per_cxr(EvalRun::IouHumanBenchmark),
                hitmiss: run.eval_per_cxr(EvalRun::HitHumanBenchmark),
            }
        }),
        save_dir: run.regression_features_dir(),
    };
    step(
        "regression on pathology features",
        &[&features, &eval_iou, &eval_hit],
        Box::new(move || Ok(crate::regression_pathology_features(&regression, o)?.into())),
    );
    for (name, metric, which, dir) in [
        (
            "regression on model probability, mIoU",
            AssuranceMetric::Iou,
            EvalRun::IouSaliency,
            &eval_iou,
        ),
        (
            "regression on model probability, hit rate",
            AssuranceMetric::HitMiss,
            EvalRun::HitSaliency,
            &eval_hit,
        ),
    ] {
        let a = RegressionModelAssurance {
            metric,
            map_dir: p(&maps),
            pred_results: run.eval_per_cxr(which),
            save_dir: run.regression_model_assurance_dir(),
        };
        step(
            name,
            &[&maps, dir],
            Box::new(move || Ok(crate::regression_model_assurance(&a, o)?.into())),
        );
    }
    v
}
