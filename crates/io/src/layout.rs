//! Where each file of a run lives: the names every stage writes into its output folder (the
//! reference scripts' names) and [`RunLayout`], the folder of a whole run (`cargo xtask
//! reproduce --out`), which the pipeline writes and the report reads. This is the one place
//! those names are spelled.

use std::path::{Path, PathBuf};

/// `count_segs.py`'s output.
pub const N_SEGS: &str = "n_segs.csv";
/// `tune_heatmap_threshold.py`'s output.
pub const TUNING_RESULTS: &str = "tuning_results.csv";
/// `tune_probability_threshold.py`'s output.
pub const PROBABILITY_TUNING_RESULTS: &str = "probability_tuning_results.csv";
/// The four files of `compute_pathology_features.py`, in the order it writes them.
pub const FEATURE_FILES: [&str; 4] = [
    "num_instances.csv",
    "area_ratio.csv",
    "elongation.csv",
    "rec_area_ratio.csv",
];

/// The plot of one pathology feature (`plot_pathology_features.py`), e.g.
/// `area_ratio_dist.png`.
pub fn feature_plot(feature: &str) -> String {
    format!("{feature}_dist.png")
}

/// `calculate_percentage_decrease.py`'s output for `miou` or `hitrate`.
pub fn pct_decrease(metric: &str) -> String {
    format!("{metric}_pct_decrease.csv")
}

/// `precision_recall_specificity.py`'s output for `pred` or `hb`.
pub fn precision_recall_specificity(source: &str) -> String {
    format!("{source}_precision_recall_specificity.csv")
}

/// `regression_pathology_features.py`'s output for one dependent variable (`pred_iou`,
/// `pred_hitmiss`, `iou_diff`, `hitmiss_diff`).
pub fn regression_features(y: &str) -> String {
    format!("regression_features_{y}.csv")
}

/// `regression_model_assurance.py`'s output for `iou` or `hitmiss`.
pub fn regression_model_assurance(metric: &str) -> String {
    format!("regression_modelprob_{metric}.csv")
}

/// The three files of one `eval.py` run, by metric (`iou`, `hitmiss`) and whether the
/// predictions are the human benchmark's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalFiles {
    /// `<metric>_[humanbenchmark_]results_per_cxr.csv`.
    pub per_cxr: String,
    /// `<metric>_[humanbenchmark_]bootstrap_results_per_cxr.csv`.
    pub bootstrap: String,
    /// `<metric>_[humanbenchmark_]summary_results.csv`.
    pub summary: String,
}

impl EvalFiles {
    /// The names for `metric` (`iou` or `hitmiss`); `human_benchmark` adds `humanbenchmark_`.
    pub fn new(metric: &str, human_benchmark: bool) -> Self {
        let hb = if human_benchmark {
            "humanbenchmark_"
        } else {
            ""
        };
        EvalFiles {
            per_cxr: format!("{metric}_{hb}results_per_cxr.csv"),
            bootstrap: format!("{metric}_{hb}bootstrap_results_per_cxr.csv"),
            summary: format!("{metric}_{hb}summary_results.csv"),
        }
    }
}

/// The segmentation files of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegFile {
    /// The ground truth's masks.
    GroundTruth,
    /// The human benchmark's masks.
    HumanBenchmark,
    /// The saliency method's masks by Otsu's method.
    Otsu,
    /// By the tuned fixed thresholds.
    TunedThresholds,
    /// By Otsu's method with the tuned probability cutoffs.
    TunedCutoffs,
    /// By Otsu's method after a box filter of size 5.
    OtsuSmoothed5,
}

impl SegFile {
    /// The file name under `segmentations/`.
    pub fn name(self) -> &'static str {
        match self {
            SegFile::GroundTruth => "gt_segmentations.json",
            SegFile::HumanBenchmark => "hb_segmentations.json",
            SegFile::Otsu => "saliency_otsu.json",
            SegFile::TunedThresholds => "saliency_threshold.json",
            SegFile::TunedCutoffs => "saliency_probcut.json",
            SegFile::OtsuSmoothed5 => "saliency_otsu_smooth_k5.json",
        }
    }
}

/// The four evaluations of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalRun {
    /// mIoU of the saliency method's Otsu masks (true positives only).
    IouSaliency,
    /// mIoU of the human benchmark.
    IouHumanBenchmark,
    /// Hit rate of the saliency method's heatmaps.
    HitSaliency,
    /// Hit rate of the human benchmark's salient points.
    HitHumanBenchmark,
}

impl EvalRun {
    /// Every evaluation, in run order.
    pub const ALL: [EvalRun; 4] = [
        EvalRun::IouSaliency,
        EvalRun::IouHumanBenchmark,
        EvalRun::HitSaliency,
        EvalRun::HitHumanBenchmark,
    ];

    /// The folder of the run.
    pub fn dir(self) -> &'static str {
        match self {
            EvalRun::IouSaliency => "eval_iou_tp",
            EvalRun::IouHumanBenchmark => "eval_iou_hb_tp",
            EvalRun::HitSaliency => "eval_hitmiss",
            EvalRun::HitHumanBenchmark => "eval_hitmiss_hb",
        }
    }

    /// The metric's name in the file names: `iou` or `hitmiss`.
    pub fn metric(self) -> &'static str {
        match self {
            EvalRun::IouSaliency | EvalRun::IouHumanBenchmark => "iou",
            EvalRun::HitSaliency | EvalRun::HitHumanBenchmark => "hitmiss",
        }
    }

    /// Whether the predictions are the human benchmark's.
    pub fn human_benchmark(self) -> bool {
        matches!(
            self,
            EvalRun::IouHumanBenchmark | EvalRun::HitHumanBenchmark
        )
    }

    /// Its three files' names.
    pub fn files(self) -> EvalFiles {
        EvalFiles::new(self.metric(), self.human_benchmark())
    }
}

/// The output folder of a run, every file of it named once:
///
/// ```text
/// run.json                                  parameters and stage timings
/// inspect/pkl_summary.csv                   what every heatmap file holds
/// segmentations/<SegFile>.json              ground truth, human benchmark, saliency masks
/// tune/tuning_results.csv, tune/probability_tuning_results.csv
/// eval_iou_tp/, eval_iou_hb_tp/, eval_hitmiss/, eval_hitmiss_hb/   eval.py's three CSVs each
/// pct_decrease/, precision_recall_specificity/, count_segs/
/// features/, feature_plots/, regression_features/, regression_model_assurance/
/// report.html
/// ```
///
/// ```
/// use chexlocalize_io::layout::{EvalRun, RunLayout, SegFile};
/// let run = RunLayout::new("out");
/// assert_eq!(run.segmentations(SegFile::Otsu), std::path::Path::new("out/segmentations/saliency_otsu.json"));
/// assert!(run.eval_summary(EvalRun::HitHumanBenchmark).ends_with("eval_hitmiss_hb/hitmiss_humanbenchmark_summary_results.csv"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLayout {
    root: PathBuf,
}

impl RunLayout {
    /// The run folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunLayout { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A path relative to the root.
    fn at(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.root.join(rel)
    }

    /// `run.json`: the run's parameters and the stages' timings.
    pub fn run_json(&self) -> PathBuf {
        self.at("run.json")
    }

    /// `report.html`.
    pub fn report(&self) -> PathBuf {
        self.at("report.html")
    }

    /// `inspect/pkl_summary.csv`.
    pub fn heatmap_summary(&self) -> PathBuf {
        self.at("inspect/pkl_summary.csv")
    }

    /// `segmentations/<file>`.
    pub fn segmentations(&self, file: SegFile) -> PathBuf {
        self.at("segmentations").join(file.name())
    }

    /// `tune/`, where both tuning files go.
    pub fn tune_dir(&self) -> PathBuf {
        self.at("tune")
    }

    /// `tune/tuning_results.csv`.
    pub fn tuning_results(&self) -> PathBuf {
        self.tune_dir().join(TUNING_RESULTS)
    }

    /// `tune/probability_tuning_results.csv`.
    pub fn probability_tuning_results(&self) -> PathBuf {
        self.tune_dir().join(PROBABILITY_TUNING_RESULTS)
    }

    /// The folder of one evaluation.
    pub fn eval_dir(&self, run: EvalRun) -> PathBuf {
        self.at(run.dir())
    }

    /// Its per-CXR results.
    pub fn eval_per_cxr(&self, run: EvalRun) -> PathBuf {
        self.eval_dir(run).join(run.files().per_cxr)
    }

    /// Its bootstrap replicates.
    pub fn eval_bootstrap(&self, run: EvalRun) -> PathBuf {
        self.eval_dir(run).join(run.files().bootstrap)
    }

    /// Its summary (mean and 95% CI per task).
    pub fn eval_summary(&self, run: EvalRun) -> PathBuf {
        self.eval_dir(run).join(run.files().summary)
    }

    /// `pct_decrease/`.
    pub fn pct_decrease_dir(&self) -> PathBuf {
        self.at("pct_decrease")
    }

    /// `pct_decrease/<metric>_pct_decrease.csv` (`miou` or `hitrate`).
    pub fn pct_decrease(&self, metric: &str) -> PathBuf {
        self.pct_decrease_dir().join(pct_decrease(metric))
    }

    /// `precision_recall_specificity/`.
    pub fn prs_dir(&self) -> PathBuf {
        self.at("precision_recall_specificity")
    }

    /// `precision_recall_specificity/<source>_precision_recall_specificity.csv` (`pred`, `hb`).
    pub fn prs(&self, source: &str) -> PathBuf {
        self.prs_dir().join(precision_recall_specificity(source))
    }

    /// `count_segs/`.
    pub fn count_segs_dir(&self) -> PathBuf {
        self.at("count_segs")
    }

    /// `count_segs/n_segs.csv`.
    pub fn n_segs(&self) -> PathBuf {
        self.count_segs_dir().join(N_SEGS)
    }

    /// `features/`, the four feature CSVs.
    pub fn features_dir(&self) -> PathBuf {
        self.at("features")
    }

    /// `feature_plots/`.
    pub fn feature_plots_dir(&self) -> PathBuf {
        self.at("feature_plots")
    }

    /// `regression_features/`.
    pub fn regression_features_dir(&self) -> PathBuf {
        self.at("regression_features")
    }

    /// `regression_features/regression_features_<y>.csv`.
    pub fn regression_features(&self, y: &str) -> PathBuf {
        self.regression_features_dir().join(regression_features(y))
    }

    /// `regression_model_assurance/`.
    pub fn regression_model_assurance_dir(&self) -> PathBuf {
        self.at("regression_model_assurance")
    }

    /// `regression_model_assurance/regression_modelprob_<metric>.csv`.
    pub fn regression_model_assurance(&self, metric: &str) -> PathBuf {
        self.regression_model_assurance_dir()
            .join(regression_model_assurance(metric))
    }
    /// `baselines/<kind>/`: the heatmaps of a baseline (`center`, `uniform`).
    pub fn baseline_dir(&self, kind: &str) -> PathBuf {
        self.at("baselines").join(kind)
    }

    /// `compare/`: the comparisons of methods (`<metric>_comparison_*.csv`).
    pub fn compare_dir(&self) -> PathBuf {
        self.at("compare")
    }
}

/// The inputs of a run: a data folder laid out like the original repository's `sample/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLayout {
    root: PathBuf,
}

impl DataLayout {
    /// The data folder at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DataLayout { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The first of `candidates` that exists.
    fn first(&self, candidates: &[&str]) -> Option<PathBuf> {
        candidates
            .iter()
            .map(|c| self.root.join(c))
            .find(|p| p.exists())
    }

    /// `gradcam_maps_val/`, the heatmaps, when present.
    pub fn heatmaps(&self) -> Option<PathBuf> {
        self.first(&["gradcam_maps_val"])
    }

    /// `gt_annotations_val.json`, when present.
    pub fn gt_annotations(&self) -> Option<PathBuf> {
        self.first(&["gt_annotations_val.json"])
    }

    /// The human benchmark's polygons (`hb_annotations_val.json`, or the reference's derived
    /// inputs), when present.
    pub fn hb_annotations(&self) -> Option<PathBuf> {
        self.first(&[
            "hb_annotations_val.json",
            "reference/derived_inputs/hb_annotations.json",
        ])
    }

    /// The human benchmark's salient points, when present.
    pub fn hb_salient_points(&self) -> Option<PathBuf> {
        self.first(&[
            "hb_salient_pts_val.json",
            "reference/derived_inputs/hb_salient_pts.json",
        ])
    }
}
