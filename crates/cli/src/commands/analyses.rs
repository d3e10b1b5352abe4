//! `count-segs`, `calculate-percentage-decrease`, `precision-recall-specificity`, the tuning
//! commands, the pathology feature commands and the regressions.

use std::path::PathBuf;

use chexlocalize::{
    AssuranceMetric, Candidates, ComputePathologyFeatures, CountSegs, DecreaseMetric,
    HumanBenchmarkResults, Options, Outcome, PercentageDecrease, PlotPathologyFeatures,
    PrecisionRecallSpecificity, RegressionModelAssurance, RegressionPathologyFeatures, Tune,
};
use chexlocalize_metrics::parse_grid;
use clap::{Args, ValueEnum};

use crate::args::py_bool;

/// Arguments of `chexlocalize count-segs`.
#[derive(Args, Debug)]
pub(crate) struct CountSegsArgs {
    /// Segmentation JSON.
    #[arg(long = "seg-path", visible_alias = "seg_path")]
    seg_path: PathBuf,
    /// Where to write `n_segs.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

pub(crate) fn count_segs(a: &CountSegsArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    chexlocalize::count_segs(
        &CountSegs {
            seg_path: a.seg_path.clone(),
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}

/// Arguments of `chexlocalize precision-recall-specificity`.
#[derive(Args, Debug)]
pub(crate) struct PrsArgs {
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// Saliency method segmentation JSON.
    #[arg(long = "pred-seg-path", visible_alias = "pred_seg_path")]
    pred_seg_path: PathBuf,
    /// Human benchmark segmentation JSON.
    #[arg(long = "hb-seg-path", visible_alias = "hb_seg_path")]
    hb_seg_path: PathBuf,
    /// Where to write `pred_…` and `hb_precision_recall_specificity.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

pub(crate) fn precision_recall_specificity(
    a: &PrsArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::precision_recall_specificity(
        &PrecisionRecallSpecificity {
            gt_path: a.gt_path.clone(),
            pred_seg_path: a.pred_seg_path.clone(),
            hb_seg_path: a.hb_seg_path.clone(),
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}

/// Arguments of `chexlocalize calculate-percentage-decrease`.
#[derive(Args, Debug)]
pub(crate) struct PctArgs {
    /// `miou` or `hitrate` (names the output file).
    #[arg(long, value_parser = ["miou", "hitrate"])]
    metric: String,
    /// Bootstrap CSV of the human benchmark (`eval --if_human_benchmark True`).
    #[arg(long = "hb-bootstrap-results", visible_alias = "hb_bootstrap_results")]
    hb_bootstrap_results: PathBuf,
    /// Bootstrap CSV of the saliency method.
    #[arg(
        long = "pred-bootstrap-results",
        visible_alias = "pred_bootstrap_results"
    )]
    pred_bootstrap_results: PathBuf,
    /// Where to write `{metric}_pct_decrease.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// Accepted for compatibility with the script (which seeds numpy but draws nothing): 0 to
    /// 4294967295 (2^32 - 1, numpy's legacy seed range).
    #[arg(long, default_value_t = 0, value_parser = crate::args::seed, allow_negative_numbers = true)]
    seed: u32,
    /// Confidence level of the intervals: 0.95 (the reference), 0.9, 99, ... (the replicates
    /// and what they resampled are those of the two bootstrap files).
    #[arg(long = "ci-level", visible_alias = "ci_level", default_value = "0.95", value_parser = crate::args::ci_level)]
    ci_level: chexlocalize::CiLevel,
}

pub(crate) fn percentage_decrease(a: &PctArgs, options: &Options) -> chexlocalize::Result<Outcome> {
    chexlocalize::percentage_decrease(
        &PercentageDecrease {
            metric: if a.metric == "miou" {
                DecreaseMetric::Miou
            } else {
                DecreaseMetric::HitRate
            },
            hb_bootstrap_results: a.hb_bootstrap_results.clone(),
            pred_bootstrap_results: a.pred_bootstrap_results.clone(),
            save_dir: a.save_dir.clone(),
            level: a.ci_level,
        },
        options,
    )
}

/// Arguments shared by both tuning commands.
#[derive(Args, Debug)]
pub(crate) struct TuneArgs {
    /// Folder with the heatmap pickles (`*_map.pkl`, searched recursively).
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: PathBuf,
    /// Ground-truth segmentation JSON.
    #[arg(long = "gt-path", visible_alias = "gt_path")]
    gt_path: PathBuf,
    /// Folder for the result CSV (created if missing).
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// Candidates instead of the reference's grid: `start:stop:step` (numpy's `arange`, stop
    /// excluded; step > 0, start < stop) or a comma-separated list. Finite values, 1 to 1000
    /// candidates. Applies to every task.
    #[arg(long, value_parser = grid, allow_hyphen_values = true)]
    grid: Option<Grid>,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
}

/// A checked `--grid` ([`chexlocalize_metrics::parse_grid`]).
#[derive(Clone, Debug)]
pub(crate) struct Grid(Vec<f64>);

/// The clap value parser of `--grid`: a refused grid is a usage error naming the bound.
fn grid(s: &str) -> Result<Grid, String> {
    parse_grid(s).map(Grid).map_err(|e| e.to_string())
}

impl TuneArgs {
    fn tune(&self) -> Tune {
        Tune {
            map_dir: self.map_dir.clone(),
            gt_path: self.gt_path.clone(),
            save_dir: self.save_dir.clone(),
            grid: match &self.grid {
                Some(g) => Candidates::Custom(g.0.clone()),
                None => Candidates::Reference,
            },
        }
    }
}

pub(crate) fn tune_heatmap_threshold(
    a: &TuneArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::tune_heatmap_threshold(&a.tune(), options)
}

pub(crate) fn tune_probability_threshold(
    a: &TuneArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::tune_probability_threshold(&a.tune(), options)
}

/// Arguments of `chexlocalize compute-pathology-features`.
#[derive(Args, Debug)]
pub(crate) struct FeaturesArgs {
    /// Ground-truth annotation JSON (polygons: gives the number of instances).
    #[arg(long = "gt-ann", visible_alias = "gt_ann")]
    gt_ann: PathBuf,
    /// Ground-truth segmentation JSON (masks: gives area, elongation, irrectangularity).
    #[arg(long = "gt-seg", visible_alias = "gt_seg")]
    gt_seg: PathBuf,
    /// Where to write `num_instances.csv`, `area_ratio.csv`, `elongation.csv`, `rec_area_ratio.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// Worker threads (1 to 1024, at most one per core; default: all cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
}

pub(crate) fn compute_pathology_features(
    a: &FeaturesArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::compute_pathology_features(
        &ComputePathologyFeatures {
            gt_ann: a.gt_ann.clone(),
            gt_seg: a.gt_seg.clone(),
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}

/// Arguments of `chexlocalize plot-pathology-features`.
#[derive(Args, Debug)]
pub(crate) struct PlotArgs {
    /// Folder with the four feature CSV files of `compute-pathology-features`.
    #[arg(long = "features-dir", visible_alias = "features_dir")]
    features_dir: PathBuf,
    /// Where to write `<feature>_dist.png`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

pub(crate) fn plot_pathology_features(
    a: &PlotArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::plot_pathology_features(
        &PlotPathologyFeatures {
            features_dir: a.features_dir.clone(),
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}

/// Arguments of `chexlocalize regression-pathology-features`.
#[derive(Args, Debug)]
pub(crate) struct FeaturesRegressionArgs {
    /// Folder with `num_instances.csv`, `area_ratio.csv`, `elongation.csv`, `rec_area_ratio.csv`.
    #[arg(long = "features-dir", visible_alias = "features_dir")]
    features_dir: PathBuf,
    /// Per-CXR IoU results of the saliency method (`iou_results_per_cxr.csv`).
    #[arg(long = "pred-iou-results", visible_alias = "pred_iou_results")]
    pred_iou_results: PathBuf,
    /// Per-CXR hit/miss results of the saliency method (`hitmiss_results_per_cxr.csv`).
    #[arg(long = "pred-hitmiss-results", visible_alias = "pred_hitmiss_results")]
    pred_hitmiss_results: PathBuf,
    /// Also regress the human benchmark's differences: True or False.
    #[arg(long = "evaluate-hb", visible_alias = "evaluate_hb", action = clap::ArgAction::Set, value_parser = py_bool, default_value = "False")]
    evaluate_hb: bool,
    /// Per-CXR IoU results of the human benchmark (with --evaluate_hb True).
    #[arg(long = "hb-iou-results", visible_alias = "hb_iou_results")]
    hb_iou_results: Option<PathBuf>,
    /// Per-CXR hit/miss results of the human benchmark (with --evaluate_hb True).
    #[arg(long = "hb-hitmiss-results", visible_alias = "hb_hitmiss_results")]
    hb_hitmiss_results: Option<PathBuf>,
    /// Where to write `regression_features_<y>.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
}

pub(crate) fn regression_pathology_features(
    a: &FeaturesRegressionArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    let human_benchmark = if a.evaluate_hb {
        let need = |p: &Option<PathBuf>, flag: &str| {
            p.clone().ok_or_else(|| {
                chexlocalize::Error::Options(format!("--evaluate_hb True needs --{flag}"))
            })
        };
        Some(HumanBenchmarkResults {
            iou: need(&a.hb_iou_results, "hb_iou_results")?,
            hitmiss: need(&a.hb_hitmiss_results, "hb_hitmiss_results")?,
        })
    } else {
        None
    };
    chexlocalize::regression_pathology_features(
        &RegressionPathologyFeatures {
            features_dir: a.features_dir.clone(),
            pred_iou_results: a.pred_iou_results.clone(),
            pred_hitmiss_results: a.pred_hitmiss_results.clone(),
            human_benchmark,
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}

/// The metric of `regression-model-assurance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum AssuranceArg {
    Iou,
    Hitmiss,
}

/// Arguments of `chexlocalize regression-model-assurance`.
#[derive(Args, Debug)]
pub(crate) struct ModelAssuranceArgs {
    /// `iou` or `hitmiss`: the dependent variable (names the output file).
    #[arg(long, value_enum)]
    metric: AssuranceArg,
    /// Folder of heatmap pickles (searched recursively); their `prob` is the independent
    /// variable. Nothing in them is executed.
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: PathBuf,
    /// Per-CXR results of the saliency method for that metric.
    #[arg(long = "pred-results", visible_alias = "pred_results")]
    pred_results: PathBuf,
    /// Where to write `regression_modelprob_<metric>.csv`.
    #[arg(long = "save-dir", visible_alias = "save_dir", default_value = ".")]
    save_dir: PathBuf,
    /// Worker threads for reading the pickles (1 to 1024, at most one per core; default: all
    /// cores).
    #[arg(long, value_parser = crate::args::jobs, allow_negative_numbers = true)]
    pub(crate) jobs: Option<usize>,
}

pub(crate) fn regression_model_assurance(
    a: &ModelAssuranceArgs,
    options: &Options,
) -> chexlocalize::Result<Outcome> {
    chexlocalize::regression_model_assurance(
        &RegressionModelAssurance {
            metric: match a.metric {
                AssuranceArg::Iou => AssuranceMetric::Iou,
                AssuranceArg::Hitmiss => AssuranceMetric::HitMiss,
            },
            map_dir: a.map_dir.clone(),
            pred_results: a.pred_results.clone(),
            save_dir: a.save_dir.clone(),
        },
        options,
    )
}
