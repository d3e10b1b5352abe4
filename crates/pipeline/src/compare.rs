//! `chexlocalize compare`: several methods on the same ground truth, each with its interval, and
//! every pair's difference from one paired bootstrap (the same resampled CXRs or patients for
//! all methods in a replicate), with a p-value, Holm-adjusted across the pairs of a task.
//!
//! Each method is scored exactly as `eval` scores it, and with the same bootstrap settings a
//! method's interval here is its `eval` interval (the replicates are drawn in the same order).
//! Rows are the ground truth's CXRs: with `--true_pos_only False`, a prediction for a CXR the
//! ground truth lacks is left out (noted), since the methods are compared on the same CXRs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chexlocalize_io::{CsvWriter, Field, Task};
use chexlocalize_metrics::{self as metrics, Ci, PairDiff, row_nanmean};

use crate::bootstrap::Bootstrap;
use crate::error::{Error, Result};
use crate::eval::{Metric, Predictor, ResultsTable, results_table};
use crate::options::{Notes, Options, Outcome};

/// The most methods one comparison takes (pairs grow as its square).
pub const MAX_METHODS: usize = 64;

/// The most replicates × methods one comparison takes: every replicate keeps each method's
/// mean per task and overall (11 numbers), so this bounds those at about 88 MB. Either bound
/// alone ([`MAX_METHODS`], [`MAX_REPLICATES`](crate::MAX_REPLICATES)) would allow 0.56 GB.
pub const MAX_REPLICATE_METHODS: usize = 1_000_000;

/// Inputs of [`compare`].
#[derive(Clone, Debug)]
pub struct Compare {
    /// What is scored (as `eval --metric`).
    pub metric: Metric,
    /// Ground-truth segmentation JSON.
    pub gt_path: PathBuf,
    /// The methods, by name: a segmentation JSON each ([`Metric::Iou`]); for
    /// [`Metric::HitMiss`], a folder of heatmaps (a saliency method) or a salient-points JSON
    /// (the human benchmark).
    pub methods: Vec<(String, PathBuf)>,
    /// Where to write `<metric>_comparison_scores.csv` and `<metric>_comparison_pairs.csv`.
    pub save_dir: PathBuf,
    /// The shared bootstrap.
    pub bootstrap: Bootstrap,
}

/// One method's score on one task (or `None` = over all tasks: the mean of the task means).
#[derive(Clone, Debug, PartialEq)]
pub struct MethodScore {
    /// The method's name.
    pub method: String,
    /// The task; `None` for the overall score.
    pub task: Option<Task>,
    /// The replicates' mean and interval, rounded as `eval` rounds them.
    pub ci: Ci,
}

/// One pair's difference on one task (or overall).
#[derive(Clone, Debug, PartialEq)]
pub struct PairRow {
    /// The task; `None` for the overall score.
    pub task: Option<Task>,
    /// First method.
    pub a: String,
    /// Second method.
    pub b: String,
    /// The difference `a − b`: mean, interval, p-values.
    pub diff: PairDiff,
    /// The interval excludes 0 and the Holm-adjusted p-value is below `1 − level`.
    pub significant: bool,
}

/// What [`compare`] found and wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The files written and the notes.
    pub outcome: Outcome,
    /// Per method, per task (sorted by name) then overall.
    pub scores: Vec<MethodScore>,
    /// Per task (sorted by name) then overall, every pair of methods in the given order.
    pub pairs: Vec<PairRow>,
}

/// Scores every method, bootstraps them together and writes the two CSV files (both or none).
pub fn compare(args: &Compare, options: &Options) -> Result<Comparison> {
    args.bootstrap.check()?;
    check_methods(&args.methods)?;
    let product = args.bootstrap.replicates.saturating_mul(args.methods.len());
    if product > MAX_REPLICATE_METHODS {
        return Err(Error::Options(format!(
            "replicates: expected at most {MAX_REPLICATE_METHODS} replicates × methods, found \
             {} × {} = {product}; use fewer replicates ({} for {} methods)",
            args.bootstrap.replicates,
            args.methods.len(),
            MAX_REPLICATE_METHODS / args.methods.len(),
            args.methods.len()
        )));
    }
    let notes = Notes::default();
    let gt = chexlocalize_io::read_segmentations(&args.gt_path, &options.limits)?;
    let ids: Vec<String> = gt.sorted_ids().into_iter().map(str::to_owned).collect();
    let mut methods = Vec::with_capacity(args.methods.len());
    for (name, path) in &args.methods {
        let predictor = match args.metric {
            Metric::HitMiss { .. } if path.is_file() => Predictor::HumanBenchmark,
            _ => Predictor::Saliency,
        };
        let table = results_table(
            &gt,
            &args.gt_path,
            args.metric,
            predictor,
            path,
            options,
            &notes,
        )?;
        methods.push(aligned(&table, &ids, name, &notes));
    }
    let clusters = args.bootstrap.clusters(&ids, &args.gt_path)?;
    let mut reps = args.bootstrap.run_paired(&methods, &clusters);
    // The overall score of a replicate: the mean of its task means (the leaderboard's mIoU).
    for rep in &mut reps {
        for m in rep.iter_mut() {
            let overall = row_nanmean(m);
            m.push(overall);
        }
    }
    let level = args.bootstrap.level;
    let names: Vec<&str> = args.methods.iter().map(|(n, _)| n.as_str()).collect();
    let column_task = |c: usize| Task::ALL.get(c).copied();
    let mut scores = Vec::new();
    for (m, name) in names.iter().enumerate() {
        for c in sorted_columns() {
            let col: Vec<f64> = reps.iter().map(|r| r[m][c]).collect();
            scores.push(MethodScore {
                method: (*name).to_owned(),
                task: column_task(c),
                ci: metrics::confidence_interval_at(&col, level),
            });
        }
    }
    let diffs = metrics::pair_differences(&reps, level);
    let alpha = 1.0 - level.get();
    let mut pairs = Vec::new();
    for c in sorted_columns() {
        for d in diffs.iter().filter(|d| d.column == c) {
            pairs.push(PairRow {
                task: column_task(c),
                a: names[d.a].to_owned(),
                b: names[d.b].to_owned(),
                diff: *d,
                significant: (d.lower > 0.0 || d.upper < 0.0) && d.p_holm < alpha,
            });
        }
    }
    let metric = args.metric.name();
    let (scores_csv, pairs_csv) = (scores_csv(&scores), pairs_csv(&pairs));
    let paths = chexlocalize_io::write_atomic_all_in(
        &args.save_dir,
        [
            (
                format!("{metric}_comparison_scores.csv"),
                scores_csv.as_str().as_bytes(),
            ),
            (
                format!("{metric}_comparison_pairs.csv"),
                pairs_csv.as_str().as_bytes(),
            ),
        ],
    )?;
    notes.info(format!(
        "{} methods compared on {} CXRs ({} replicates); written to {}",
        names.len(),
        ids.len(),
        args.bootstrap.replicates,
        args.save_dir.display()
    ));
    Ok(Comparison {
        outcome: notes.outcome(paths),
        scores,
        pairs,
    })
}

fn check_methods(methods: &[(String, PathBuf)]) -> Result<()> {
    if !(2..=MAX_METHODS).contains(&methods.len()) {
        return Err(Error::Options(format!(
            "pred: expected 2 to {MAX_METHODS} methods (NAME=PATH), found {}",
            methods.len()
        )));
    }
    for (i, (name, _)) in methods.iter().enumerate() {
        let bad = name.is_empty() || name.len() > 100 || name.chars().any(char::is_control);
        if bad {
            return Err(Error::Options(format!(
                "pred: expected a method name of 1 to 100 printable characters, found {name:?}"
            )));
        }
        if methods[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::Options(format!(
                "pred: the method name {name:?} is given twice"
            )));
        }
    }
    Ok(())
}

/// Task columns in `LOCALIZATION_TASKS` order, then the overall column; listed by task name.
fn sorted_columns() -> Vec<usize> {
    let mut cols: Vec<usize> = (0..Task::ALL.len()).collect();
    cols.sort_by_key(|&c| Task::ALL[c].name());
    cols.push(Task::ALL.len());
    cols
}

/// A method's task columns on the ground truth's CXRs, in `ids` order.
fn aligned(table: &ResultsTable, ids: &[String], name: &str, notes: &Notes) -> Vec<Vec<f64>> {
    let row: HashMap<&str, usize> = table
        .ids
        .iter()
        .enumerate()
        .map(|(r, id)| (id.as_str(), r))
        .collect();
    let extra = table.ids.len().saturating_sub(ids.len());
    if extra > 0 {
        notes.warn(format!(
            "{name}: {extra} CXRs not in the ground truth are left out of the comparison"
        ));
    }
    table
        .task_columns()
        .into_iter()
        .map(|col| {
            ids.iter()
                .map(|id| row.get(id.as_str()).map_or(f64::NAN, |&r| col[r]))
                .collect()
        })
        .collect()
}

fn task_name(t: Option<Task>) -> &'static str {
    t.map_or("Overall", Task::name)
}

fn scores_csv(scores: &[MethodScore]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row(["method", "task", "lower", "mean", "upper"]);
    for s in scores {
        w.row([
            Field::from(s.method.as_str()),
            Field::from(task_name(s.task)),
            Field::Float(s.ci.lower),
            Field::Float(s.ci.mean),
            Field::Float(s.ci.upper),
        ]);
    }
    w
}

fn pairs_csv(pairs: &[PairRow]) -> CsvWriter {
    let mut w = CsvWriter::new();
    w.row([
        "task",
        "method_a",
        "method_b",
        "difference",
        "lower",
        "upper",
        "p_value",
        "p_holm",
        "significant",
    ]);
    for p in pairs {
        w.row([
            Field::from(task_name(p.task)),
            Field::from(p.a.as_str()),
            Field::from(p.b.as_str()),
            Field::Float(p.diff.mean),
            Field::Float(p.diff.lower),
            Field::Float(p.diff.upper),
            Field::Float(p.diff.p),
            Field::Float(p.diff.p_holm),
            Field::from(if p.significant { "True" } else { "False" }),
        ]);
    }
    w
}

/// The path of a method given as `NAME=PATH` (the CLI's form), split at the first `=`.
pub fn parse_method(arg: &str) -> std::result::Result<(String, PathBuf), String> {
    match arg.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => {
            Ok((name.to_owned(), Path::new(path).to_path_buf()))
        }
        _ => Err(format!("expected NAME=PATH, found {arg:?}")),
    }
}
