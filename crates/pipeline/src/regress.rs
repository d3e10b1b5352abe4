//! `regression_pathology_features` and `regression_model_assurance`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::{CsvTable, CsvWriter, Field, Limits, Task, layout, py_float_repr};
use chexlocalize_stats::{FisherIssue, Regression, SpearmanIssue, linear_regression, stars};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::features::{FEATURES, read_feature_rows};
use crate::heatmaps::{probability_for, task_heatmaps};
use crate::options::{Notes, Options, Outcome};
use crate::progress::thread_pool;

/// A per-CXR result CSV of `eval` (`<task>...,img_id`), looked up by CXR id.
struct Results {
    table: CsvTable,
    rows: HashMap<String, usize>,
    columns: HashMap<Task, usize>,
}

impl Results {
    fn read(path: &Path, limits: &Limits) -> Result<Results> {
        let table = CsvTable::read(path, limits)?;
        let id = table.column("img_id")?;
        let mut rows = HashMap::new();
        for (i, r) in table.rows.iter().enumerate() {
            if rows.insert(r[id].clone(), i).is_some() {
                return Err(Error::input(
                    path,
                    format!(
                        "line {}: CXR {} listed twice; expected one row per CXR",
                        i + 2,
                        r[id]
                    ),
                ));
            }
        }
        let mut columns = HashMap::new();
        for task in Task::SORTED {
            columns.insert(task, table.column(task.name())?);
        }
        Ok(Results {
            table,
            rows,
            columns,
        })
    }

    /// The value of `task` for CXR `id`.
    ///
    /// Parity: the reference pairs result rows with feature rows / probabilities by POSITION
    /// (it builds one DataFrame from arrays of equal length, or crashes when the lengths differ).
    /// We pair them by CXR id: the same numbers wherever the reference's rows line up, and an
    /// error naming the CXR where a result is missing.
    fn get(&self, id: &str, task: Task) -> Result<f64> {
        let r = *self.rows.get(id).ok_or_else(|| {
            Error::input(
                &self.table.path,
                format!("no row for CXR {id}; expected a result for every CXR with a ground-truth {task}"),
            )
        })?;
        Ok(self.table.f64_at(r, self.columns[&task])?)
    }

    fn ids(&self) -> Vec<&str> {
        let id = self.table.column("img_id").unwrap_or(0);
        self.table.rows.iter().map(|r| r[id].as_str()).collect()
    }
}

/// `format_ci` of the reference's `utils.py`: `"{mean}, ({lower}, {upper}){stars}"` for the
/// regression coefficient and for the Spearman correlation, each number printed as Python prints
/// the (already rounded) float, `nan` included.
fn format_ci(r: &Regression, bonferroni: f64) -> (String, String) {
    let coef = format!(
        "{}, ({}, {}){}",
        py_float_repr(r.mean),
        py_float_repr(r.lower),
        py_float_repr(r.upper),
        stars(r.coef_pval, bonferroni)
    );
    let corr = format!(
        "{}, ({}, {}){}",
        py_float_repr(r.corr),
        py_float_repr(r.corr_lower),
        py_float_repr(r.corr_upper),
        stars(r.corr_pval, bonferroni)
    );
    (coef, corr)
}

/// Warnings for the numbers of `r` that are NaN where the reference crashes or returns NaN.
fn warn(notes: &Notes, what: &str, r: &Regression, with_correlation: bool) {
    if r.fit.n == 0 {
        notes.warn(format!(
            "warning: {what}: no rows with both values; coefficient left NaN"
        ));
    } else if r.fit.df_resid.is_nan() || r.fit.df_resid <= 0.0 {
        notes.warn(format!(
            "warning: {what}: {} row(s), too few for a confidence interval of the coefficient (nan)",
            r.fit.n
        ));
    }
    if !with_correlation {
        return;
    }
    match r.correlation {
        Err(SpearmanIssue::TooFewPairs | SpearmanIssue::TooFewRows) => notes.warn(format!(
            "warning: {what}: fewer than 2 complete pairs, Spearman correlation left NaN (the \
             reference stops with \"The input must have at least 3 entries!\")"
        )),
        Err(SpearmanIssue::Constant) => notes.warn(format!(
            "warning: {what}: a constant variable, Spearman correlation undefined (nan)"
        )),
        Ok(_) => match r.correlation_ci {
            Err(FisherIssue::TooFewRows) => notes.warn(format!(
                "warning: {what}: n = {} <= 3, Fisher-z interval of the correlation left NaN \
                 (the reference stops with a math error)",
                r.n
            )),
            Err(FisherIssue::Perfect) => notes.warn(format!(
                "warning: {what}: perfect rank correlation, Fisher-z interval left NaN (the \
                 reference stops with a math domain error)"
            )),
            _ => {}
        },
    }
}

/// Inputs of [`regression_pathology_features`] (`regression_pathology_features.py`).
#[derive(Clone, Debug)]
pub struct RegressionPathologyFeatures {
    /// Folder with `num_instances.csv`, `area_ratio.csv`, `elongation.csv`, `rec_area_ratio.csv`.
    pub features_dir: PathBuf,
    /// Per-CXR IoU results of the saliency method (`iou_results_per_cxr.csv`).
    pub pred_iou_results: PathBuf,
    /// Per-CXR hit/miss results of the saliency method (`hitmiss_results_per_cxr.csv`).
    pub pred_hitmiss_results: PathBuf,
    /// The human benchmark's per-CXR results, to regress its differences too (the
    /// reference's `--evaluate_hb True`).
    pub human_benchmark: Option<HumanBenchmarkResults>,
    /// Where to write `regression_features_<y>.csv`.
    pub save_dir: PathBuf,
}

/// The human benchmark's per-CXR results, for [`RegressionPathologyFeatures`].
#[derive(Clone, Debug)]
pub struct HumanBenchmarkResults {
    /// Per-CXR IoU results (`iou_humanbenchmark_results_per_cxr.csv`).
    pub iou: PathBuf,
    /// Per-CXR hit/miss results (`hitmiss_humanbenchmark_results_per_cxr.csv`).
    pub hitmiss: PathBuf,
}

/// `normalize` of the reference: min-max scaling over the non-NaN values, the column unchanged
/// when its minimum equals its maximum.
fn normalize(v: &[f64]) -> Vec<f64> {
    let finite = v.iter().copied().filter(|x| !x.is_nan());
    let min = finite.clone().fold(f64::NAN, f64::min);
    let max = finite.fold(f64::NAN, f64::max);
    if min == max {
        return v.to_vec();
    }
    v.iter().map(|x| (x - min) / (max - min)).collect()
}

/// OLS of the localisation metrics on the pathology features, pooled over tasks
/// (`regression_pathology_features.py`): every file or none.
pub fn regression_pathology_features(
    args: &RegressionPathologyFeatures,
    options: &Options,
) -> Result<Outcome> {
    let limits = &options.limits;
    let notes = Notes::default();
    let rows = read_feature_rows(&args.features_dir, limits)?;
    let pred_iou = Results::read(&args.pred_iou_results, limits)?;
    let pred_hit = Results::read(&args.pred_hitmiss_results, limits)?;
    let hb = match &args.human_benchmark {
        Some(hb) => Some((
            Results::read(&hb.iou, limits)?,
            Results::read(&hb.hitmiss, limits)?,
        )),
        None => None,
    };
    let mut ys: Vec<(&str, Vec<f64>)> = Vec::new();
    let column = |res: &Results| -> Result<Vec<f64>> {
        rows.iter().map(|r| res.get(&r.cxr_id, r.task)).collect()
    };
    let (iou, hit) = (column(&pred_iou)?, column(&pred_hit)?);
    // The reference's order of dependent variables.
    match &hb {
        Some((hb_iou, hb_hit)) => {
            let diff = |h: Vec<f64>, p: &[f64]| h.iter().zip(p).map(|(a, b)| a - b).collect();
            let iou_diff = diff(column(hb_iou)?, &iou);
            let hit_diff = diff(column(hb_hit)?, &hit);
            ys.extend([
                ("pred_iou", iou),
                ("iou_diff", iou_diff),
                ("pred_hitmiss", hit),
                ("hitmiss_diff", hit_diff),
            ]);
        }
        None => ys.extend([("pred_iou", iou), ("pred_hitmiss", hit)]),
    }
    let xs: Vec<Vec<f64>> = (0..FEATURES.len())
        .map(|i| normalize(&rows.iter().map(|r| r.feature(i)).collect::<Vec<_>>()))
        .collect();
    let mut outputs = Vec::new();
    for (y_name, y) in &ys {
        let mut w = CsvWriter::new();
        w.row(["task", "feature", "Linear regression coefficients"]);
        for ((feature, _), x) in FEATURES.iter().zip(&xs) {
            let r = linear_regression(y, x);
            warn(
                &notes,
                &format!("{y_name} ~ {feature} (Overall)"),
                &r,
                false,
            );
            // Parity: the four features are one family: Bonferroni correction 4.
            let (coef, _) = format_ci(&r, 4.0);
            w.row([
                Field::from("Overall"),
                Field::from(*feature),
                Field::from(coef),
            ]);
        }
        outputs.push((layout::regression_features(y_name), w));
    }
    // Every file or none.
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        outputs.iter().map(|(n, w)| (n, w.as_str().as_bytes())),
    )?;
    notes.info(format!(
        "regressions on {} (CXR, task) rows written to {}",
        rows.len(),
        args.save_dir.display()
    ));
    Ok(notes.outcome(paths))
}

/// The dependent variable of [`regression_model_assurance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssuranceMetric {
    /// IoU (`regression_modelprob_iou.csv`).
    Iou,
    /// Hit or miss (`regression_modelprob_hitmiss.csv`).
    HitMiss,
}

/// Inputs of [`regression_model_assurance`] (`regression_model_assurance.py`).
#[derive(Clone, Debug)]
pub struct RegressionModelAssurance {
    /// The dependent variable (names the output file).
    pub metric: AssuranceMetric,
    /// Folder of heatmaps (searched recursively); their `prob` is the independent variable.
    /// Nothing in them is executed.
    pub map_dir: PathBuf,
    /// Per-CXR results of the saliency method for that metric.
    pub pred_results: PathBuf,
    /// Where to write `regression_modelprob_<metric>.csv`.
    pub save_dir: PathBuf,
}

/// The model probability of every heatmap, by (CXR id, task).
///
/// Parity: a 14-element probability vector gives the task's entry (the reference keeps it as a
/// 0-d tensor and then crashes in statsmodels; we use its float32 value widened to a float);
/// a float is used as it is.
fn probabilities(
    map_dir: &Path,
    options: &Options,
    notes: &Notes,
) -> Result<HashMap<(String, Task), f64>> {
    let limits = &options.limits;
    let files = task_heatmaps(map_dir, notes)?;
    let pool = thread_pool(options)?;
    let probs: Vec<((String, Task), f64)> = pool.install(|| {
        files
            .par_iter()
            .map(|(f, task)| {
                // Only `prob` is used: the tensors' bytes are not read.
                let prob = chexlocalize_io::read_heatmap_prob(&f.path, limits)?;
                let p = probability_for(&prob, *task).map_err(|e| Error::input(&f.path, e))?;
                Ok(((f.cxr_id.clone(), *task), p))
            })
            .collect::<Result<_>>()
    })?;
    Ok(probs.into_iter().collect())
}

/// OLS and Spearman correlation of a localisation metric on the model's probability, per task
/// and overall (`regression_model_assurance.py`).
pub fn regression_model_assurance(
    args: &RegressionModelAssurance,
    options: &Options,
) -> Result<Outcome> {
    let notes = Notes::default();
    let results = Results::read(&args.pred_results, &options.limits)?;
    let probs = probabilities(&args.map_dir, options, &notes)?;
    let ids = results.ids();
    let metric = match args.metric {
        AssuranceMetric::Iou => "iou",
        AssuranceMetric::HitMiss => "hitmiss",
    };
    let mut w = CsvWriter::new();
    w.row([
        "task",
        "n",
        "Linear regression coefficients",
        "Spearman correlations",
    ]);
    let (mut all_y, mut all_x) = (Vec::new(), Vec::new());
    let emit = |name: &str, y: &[f64], x: &[f64], w: &mut CsvWriter| {
        let r = linear_regression(y, x);
        warn(&notes, &format!("{metric} ~ prob ({name})"), &r, true);
        // Parity: one test per row: Bonferroni correction 1.
        let (coef, corr) = format_ci(&r, 1.0);
        // Parity: pandas stores `n` in a float column after the concat: `21.0`.
        w.row([
            Field::from(name),
            Field::Float(r.n as f64),
            Field::from(coef),
            Field::from(corr),
        ]);
    };
    for task in Task::SORTED {
        let mut y = Vec::with_capacity(ids.len());
        let mut x = Vec::with_capacity(ids.len());
        for id in &ids {
            y.push(results.get(id, task)?);
            x.push(*probs.get(&((*id).to_owned(), task)).ok_or_else(|| {
                Error::input(
                    &args.map_dir,
                    format!(
                        "no heatmap for CXR {id}, task {task} (listed in {})",
                        args.pred_results.display()
                    ),
                )
            })?);
        }
        emit(task.name(), &y, &x, &mut w);
        all_y.extend(y);
        all_x.extend(x);
    }
    emit("Overall", &all_y, &all_x, &mut w);
    let path = args
        .save_dir
        .join(layout::regression_model_assurance(metric));
    w.write(&path)?;
    notes.info(format!(
        "model assurance regression of {} CXRs written to {}",
        ids.len(),
        args.save_dir.display()
    ));
    Ok(notes.outcome(vec![path]))
}
