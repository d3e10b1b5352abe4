//! `validate_submission`: every problem of a competition submission, at once.
//!
//! A CheXplanation submission is a segmentation JSON `{cxr_id: {task: RLE mask}}` with a mask
//! for each of the ten tasks of each test CXR, and optionally a folder of heatmaps (per-pixel
//! confidences for the pointing game, in any format `chexlocalize-io` reads). The organiser gives
//! the expected CXR ids and image sizes as a CSV like CheXpert's `valid.csv` (a `Path` column;
//! sizes from `height`/`width` columns, or else from the images' headers), or as an annotation
//! or segmentation JSON (its `img_size` or mask sizes).
//!
//! Unlike the readers the other commands use, which stop at the first error, this walks the
//! whole submission and lists every problem, then a summary line.

mod check;
mod expected;
mod report;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::options::Options;

use check::{check_heatmaps, check_segmentations};
use expected::read_expected;
use report::{json_report, problem_text, summary_line};

/// Inputs of [`validate_submission`].
#[derive(Clone, Debug)]
pub struct ValidateSubmission {
    /// The submitted segmentation JSON `{cxr_id: {task: {"size": [h, w], "counts": ...}}}`.
    pub seg_path: PathBuf,
    /// The submitted heatmap folder (optional): `<cxr_id>_<task>_map.pkl|.pt|.npy`, searched
    /// recursively.
    pub map_dir: Option<PathBuf>,
    /// The expected CXRs and their image sizes: a CSV with a `Path` column (like CheXpert's
    /// `valid.csv`), or an annotation or segmentation JSON.
    pub expected: PathBuf,
    /// Where the CSV's image paths are resolved, when it has no `height`/`width` columns
    /// (default: the CSV's folder). A path that does not exist there is tried without its
    /// leading folders (`CheXpert-v1.0/valid/p/s/v.jpg`, then `valid/p/s/v.jpg`, …).
    pub images_root: Option<PathBuf>,
    /// Report format.
    pub format: ReportFormat,
}

/// The format of [`Validation::report`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    /// One line per problem and a summary line.
    #[default]
    Text,
    /// One JSON object: the problems, their counts by kind, the summary.
    Json,
}

/// What [`validate_submission`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// The report in the requested format (every problem, then the summary).
    pub report: String,
    /// The summary line.
    pub summary: String,
    /// How many problems there are (0: the submission can be scored).
    pub problems: usize,
}

impl Validation {
    /// Whether the submission has no problem. [`validate_submission`] returns
    /// [`Error::Rejected`] otherwise; this is for callers of [`check_submission`].
    pub fn is_valid(&self) -> bool {
        self.problems == 0
    }
}

/// The kinds of problems, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    UnreadableFile,
    MissingCxr,
    ExtraCxr,
    UnknownTask,
    DuplicateTask,
    MissingTask,
    BadMask,
    CorruptRle,
    SizeMismatch,
    OverLimit,
    BadHeatmapName,
    UnreadableHeatmap,
    BadHeatmap,
    DuplicateHeatmap,
    ExtraHeatmap,
    MissingHeatmap,
    HeatmapTaskMismatch,
    HeatmapSizeMismatch,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::UnreadableFile => "unreadable_file",
            Kind::MissingCxr => "missing_cxr",
            Kind::ExtraCxr => "extra_cxr",
            Kind::UnknownTask => "unknown_task",
            Kind::DuplicateTask => "duplicate_task",
            Kind::MissingTask => "missing_task",
            Kind::BadMask => "bad_mask",
            Kind::CorruptRle => "corrupt_rle",
            Kind::SizeMismatch => "size_mismatch",
            Kind::OverLimit => "over_limit",
            Kind::BadHeatmapName => "bad_heatmap_name",
            Kind::UnreadableHeatmap => "unreadable_heatmap",
            Kind::BadHeatmap => "bad_heatmap",
            Kind::DuplicateHeatmap => "duplicate_heatmap",
            Kind::ExtraHeatmap => "extra_heatmap",
            Kind::MissingHeatmap => "missing_heatmap",
            Kind::HeatmapTaskMismatch => "heatmap_task_mismatch",
            Kind::HeatmapSizeMismatch => "heatmap_size_mismatch",
        }
    }
}

/// One problem: where (file, CXR, task) and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Problem {
    file: PathBuf,
    cxr_id: Option<String>,
    task: Option<String>,
    kind: Kind,
    message: String,
}

#[derive(Default)]
struct Report {
    problems: Vec<Problem>,
}

impl Report {
    fn add(
        &mut self,
        kind: Kind,
        file: &Path,
        cxr_id: Option<&str>,
        task: Option<&str>,
        message: impl Into<String>,
    ) {
        self.problems.push(Problem {
            file: file.to_path_buf(),
            cxr_id: cxr_id.map(str::to_owned),
            task: task.map(str::to_owned),
            kind,
            message: message.into(),
        });
    }
}

/// Expected CXRs: id -> `(height, width)` when known.
type Expected = BTreeMap<String, Option<(usize, usize)>>;

/// Checks a submission and returns its report, whether or not it has problems: an error only
/// when the expected CXRs cannot be read or a folder cannot be listed.
pub fn check_submission(args: &ValidateSubmission, options: &Options) -> Result<Validation> {
    let limits = &options.limits;
    let expected = read_expected(&args.expected, args.images_root.as_deref(), limits)?;
    if expected.is_empty() {
        return Err(Error::input(&args.expected, "expected at least one CXR"));
    }
    let mut report = Report::default();
    let seg_stats = check_segmentations(&args.seg_path, &expected, limits, &mut report);
    report.problems.sort();
    let mut maps = Report::default();
    let map_stats = match &args.map_dir {
        Some(dir) => Some(check_heatmaps(dir, &expected, options, &mut maps)?),
        None => None,
    };
    // The segmentation's problems first, then the heatmaps', each sorted by file, CXR, task.
    maps.problems.sort();
    report.problems.extend(maps.problems);
    let summary = summary_line(&report, &expected, seg_stats, map_stats);
    let text = match args.format {
        ReportFormat::Text => {
            let mut out = String::new();
            for p in &report.problems {
                out.push_str(&problem_text(p));
                out.push('\n');
            }
            out.push_str(&summary);
            out.push('\n');
            out
        }
        ReportFormat::Json => json_report(&report, &expected, seg_stats, map_stats, &summary),
    };
    Ok(Validation {
        report: text,
        summary,
        problems: report.problems.len(),
    })
}

/// [`check_submission`], then [`Error::Rejected`] when there is any problem; the report is
/// handed to `show` first either way (the command line prints it).
pub fn validate_submission(
    args: &ValidateSubmission,
    options: &Options,
    show: impl FnOnce(&Validation),
) -> Result<Validation> {
    let v = check_submission(args, options)?;
    show(&v);
    if v.is_valid() {
        Ok(v)
    } else {
        Err(Error::Rejected)
    }
}
