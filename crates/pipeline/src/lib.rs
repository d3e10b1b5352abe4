//! `chexlocalize`: the CheXlocalize evaluation pipeline as a library, the project's front door.
//!
//! Each stage of the original scripts is one function taking its typed inputs and an
//! [`Options`] (limits on what input files may claim, worker threads, progress bars), and
//! returning what it wrote and found ([`Outcome`], [`Evaluation`], [`Validation`], ...). The
//! command line (`chexlocalize-cli`), `cargo xtask reproduce`, the report, the evaluation server
//! and the Python package all call these; nothing here parses command-line strings or prints.
//! Calls are independent: run them from many threads at once, each with its own options.
//!
//! | stage | reference script |
//! |---|---|
//! | [`annotations_to_segmentations`] ([`segment_annotations`] in memory) | `annotation_to_segmentation.py` |
//! | [`heatmaps_to_segmentations`] | `heatmap_to_segmentation.py` |
//! | [`evaluate`] | `eval.py` |
//! | [`compare`] | (new: a paired bootstrap of several methods) |
//! | [`baseline`] | (new: centre, uniform and prior heatmaps, what "no model" scores) |
//! | [`count_segs`], [`percentage_decrease`], [`precision_recall_specificity`] | `count_segs.py`, `calculate_percentage_decrease.py`, `precision_recall_specificity.py` |
//! | [`tune_heatmap_threshold`], [`tune_probability_threshold`] | `tune_heatmap_threshold.py`, `tune_probability_threshold.py` |
//! | [`compute_pathology_features`], [`plot_pathology_features`], [`regression_pathology_features`], [`regression_model_assurance`] | the scripts of the same names |
//! | [`inspect`], [`validate_submission`], [`report`] | (new) |
//! | [`reproduce`] | the whole paper pipeline on a data folder, into a [`RunLayout`] |
//!
//! Outputs are byte-identical to the reference scripts'. Every output file is written
//! atomically, and a stage writing several files writes all or none.
//!
//! ```no_run
//! use chexlocalize::{CountSegs, Options, count_segs};
//! let out = count_segs(
//!     &CountSegs { seg_path: "gt_segmentations_val.json".into(), save_dir: "out".into() },
//!     &Options::default(),
//! )?;
//! assert_eq!(out.written, [std::path::Path::new("out/n_segs.csv")]);
//! # Ok::<(), chexlocalize::Error>(())
//! ```
#![deny(missing_docs)]

mod baseline;
mod bootstrap;
mod compare;
mod error;
mod eval;
mod features;
mod heatmaps;
mod inspect;
mod options;
mod plot;
mod progress;
mod regress;
mod report;
mod reproduce;
mod segment;
mod summaries;
mod tune;
mod validate;

pub use baseline::{BASELINE_MAP_SIDES, Baseline, BaselineKind, baseline};
pub use bootstrap::{Bootstrap, BootstrapRng, MAX_REPLICATES, Resample};
pub use chexlocalize_io::layout::{EvalRun, SegFile};
pub use chexlocalize_io::{DataLayout, Limits, RunLayout, Task, chain_text};
pub use chexlocalize_metrics::{
    Ci, CiLevel, Localisation, PairDiff, Scoring, Spacing, ToleranceBoundary,
};
pub use compare::{
    Compare, Comparison, MAX_METHODS, MAX_REPLICATE_METHODS, MethodScore, PairRow, compare,
    parse_method,
};
pub use error::{Error, Result};
pub use eval::{Evaluate, Evaluation, Metric, Predictor, evaluate};
pub use features::{ComputePathologyFeatures, compute_pathology_features};
pub use inspect::{Inspect, InspectFormat, Inspection, inspect};
pub use options::{Level, Note, Options, Outcome, ProgressBars};
pub use plot::{PlotPathologyFeatures, plot_pathology_features};
pub use regress::{
    AssuranceMetric, HumanBenchmarkResults, RegressionModelAssurance, RegressionPathologyFeatures,
    regression_model_assurance, regression_pathology_features,
};
pub use report::{Report, report};
pub use reproduce::{Reproduce, RunSummary, StageRecord, StageStatus, reproduce};
pub use segment::{
    AnnotationsToSegmentations, HeatmapsToSegmentations, PolygonFill, Smoothing, Thresholds,
    annotations_to_segmentations, heatmaps_to_segmentations, segment_annotations,
};
pub use summaries::{
    CountSegs, DecreaseMetric, PercentageDecrease, PrecisionRecallSpecificity, count_segs,
    percentage_decrease, precision_recall_specificity,
};
pub use tune::{Candidates, Tune, tune_heatmap_threshold, tune_probability_threshold};
pub use validate::{
    ReportFormat, ValidateSubmission, Validation, check_submission, validate_submission,
};
