//! `chexlocalize validate-submission`: every problem of a competition submission, at once.
//!
//! A CheXplanation submission is a segmentation JSON `{cxr_id: {task: RLE mask}}` with a mask
//! for each of the ten tasks of each test CXR, and optionally a folder of heatmaps (per-pixel
//! confidences for the pointing game, in any format `chexlocalize-io` reads). The organiser gives
//! the expected CXR ids and image sizes as a CSV like CheXpert's `valid.csv` (a `Path` column;
//! sizes from `height`/`width` columns, or else from the images' headers), or as an annotation
//! or segmentation JSON (its `img_size` or mask sizes).
//!
//! Unlike the readers the other commands use, which stop at the first error, this walks the
//! whole submission and lists every problem, then a summary line; the exit code is 1 when there
//! is any problem.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chexlocalize_io::{CsvTable, HEATMAP_SUFFIXES, IoError, Limits, Task};
use chexlocalize_rle::Rle;
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde_json::Value;

use crate::heatmaps::{map_and_dims, task_probability};
use crate::progress::thread_pool;

/// Arguments of `chexlocalize validate-submission`.
#[derive(Args, Debug)]
pub(crate) struct ValidateArgs {
    /// The submitted segmentation JSON `{cxr_id: {task: {"size": [h, w], "counts": ...}}}`.
    #[arg(long = "seg-path", visible_alias = "seg_path")]
    seg_path: PathBuf,
    /// The submitted heatmap folder (optional): `<cxr_id>_<task>_map.pkl|.pt|.npy`, searched
    /// recursively.
    #[arg(long = "map-dir", visible_alias = "map_dir")]
    map_dir: Option<PathBuf>,
    /// The expected CXRs and their image sizes: a CSV with a `Path` column (like CheXpert's
    /// `valid.csv`), or an annotation or segmentation JSON.
    #[arg(long)]
    expected: PathBuf,
    /// Where the CSV's image paths are resolved, when it has no `height`/`width` columns
    /// (default: the CSV's folder). A path that does not exist there is tried without its
    /// leading folders (`CheXpert-v1.0/valid/p/s/v.jpg`, then `valid/p/s/v.jpg`, …).
    #[arg(long = "images-root", visible_alias = "images_root")]
    images_root: Option<PathBuf>,
    /// Report format: `text` (one line per problem and a summary) or `json`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Worker threads for reading heatmaps (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
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

pub(crate) fn run(args: &ValidateArgs) -> Result<()> {
    let limits = Limits::default();
    let expected = read_expected(&args.expected, args.images_root.as_deref(), &limits)?;
    if expected.is_empty() {
        bail!("{}: expected at least one CXR", args.expected.display());
    }
    let mut report = Report::default();
    let seg_stats = check_segmentations(&args.seg_path, &expected, &limits, &mut report);
    report.problems.sort();
    let mut maps = Report::default();
    let map_stats = match &args.map_dir {
        Some(dir) => Some(check_heatmaps(
            dir, &expected, &limits, args.jobs, &mut maps,
        )?),
        None => None,
    };
    // The segmentation's problems first, then the heatmaps', each sorted by file, CXR, task.
    maps.problems.sort();
    report.problems.extend(maps.problems);
    let summary = summary_line(&report, &expected, seg_stats, map_stats);
    match args.format {
        Format::Text => {
            let mut out = String::new();
            for p in &report.problems {
                out.push_str(&problem_text(p));
                out.push('\n');
            }
            out.push_str(&summary);
            out.push('\n');
            print!("{out}");
        }
        Format::Json => print!(
            "{}",
            json_report(&report, &expected, seg_stats, map_stats, &summary)
        ),
    }
    if report.problems.is_empty() {
        Ok(())
    } else {
        Err(anyhow!(Reported))
    }
}

/// The error returned when the report itself already says what is wrong: `main` exits with 1
/// without printing it again.
#[derive(Debug)]
pub(crate) struct Reported;

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the submission has problems (listed above)")
    }
}

impl std::error::Error for Reported {}

fn problem_text(p: &Problem) -> String {
    let mut s = p.file.display().to_string();
    if let Some(id) = &p.cxr_id {
        s.push_str(&format!(": CXR {id}"));
    }
    if let Some(t) = &p.task {
        s.push_str(&format!(", task {t}"));
    }
    s.push_str(&format!(": {}: {}", p.kind.name(), p.message));
    s
}

fn counts(report: &Report) -> BTreeMap<Kind, usize> {
    let mut c = BTreeMap::new();
    for p in &report.problems {
        *c.entry(p.kind).or_insert(0) += 1;
    }
    c
}

fn summary_line(
    report: &Report,
    expected: &Expected,
    seg: (usize, usize),
    maps: Option<usize>,
) -> String {
    let checked = format!(
        "{} CXRs expected; segmentations: {} CXRs, {} masks{}",
        expected.len(),
        seg.0,
        seg.1,
        maps.map_or_else(String::new, |n| format!("; heatmaps: {n} files"))
    );
    if report.problems.is_empty() {
        return format!("OK: {checked}; no problems");
    }
    let by_kind: Vec<String> = counts(report)
        .into_iter()
        .map(|(k, n)| format!("{} {n}", k.name()))
        .collect();
    format!(
        "FAILED: {} problem{} ({}); {checked}",
        report.problems.len(),
        if report.problems.len() == 1 { "" } else { "s" },
        by_kind.join(", ")
    )
}

fn json_report(
    report: &Report,
    expected: &Expected,
    seg: (usize, usize),
    maps: Option<usize>,
    summary: &str,
) -> String {
    let opt = |s: &Option<String>| s.as_ref().map_or(Value::Null, |s| Value::from(s.as_str()));
    let problems: Vec<Value> = report
        .problems
        .iter()
        .map(|p| {
            serde_json::json!({
                "kind": p.kind.name(),
                "file": p.file.display().to_string(),
                "cxr_id": opt(&p.cxr_id),
                "task": opt(&p.task),
                "message": p.message,
            })
        })
        .collect();
    let by_kind: serde_json::Map<String, Value> = counts(report)
        .into_iter()
        .map(|(k, n)| (k.name().to_owned(), Value::from(n)))
        .collect();
    let v = serde_json::json!({
        "ok": report.problems.is_empty(),
        "expected_cxrs": expected.len(),
        "segmentation_cxrs": seg.0,
        "segmentation_masks": seg.1,
        "heatmap_files": maps,
        "problem_counts": by_kind,
        "problems": problems,
        "summary": summary,
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// The CXR id of a CheXpert image path: `…/patient64541/study1/view1_frontal.jpg` ->
/// `patient64541_study1_view1_frontal` (the naming of the heatmap files and JSON keys).
fn cxr_id_of_path(p: &str) -> Option<String> {
    let parts: Vec<&str> = p.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    if parts.len() < 3 {
        return None;
    }
    let last = parts[parts.len() - 1];
    let stem = last.rsplit_once('.').map_or(last, |(s, _)| s);
    Some(format!(
        "{}_{}_{stem}",
        parts[parts.len() - 3],
        parts[parts.len() - 2]
    ))
}

fn read_expected(path: &Path, images_root: Option<&Path>, limits: &Limits) -> Result<Expected> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return expected_from_json(path, limits);
    }
    let t = CsvTable::read(path)?;
    let col = |names: &[&str]| {
        t.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let cp = t.column("Path")?;
    let (ch, cw) = (col(&["height", "img_h"]), col(&["width", "img_w"]));
    let root = images_root.map_or_else(
        || {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        },
        Path::to_path_buf,
    );
    let mut out = Expected::new();
    for (r, row) in t.rows.iter().enumerate() {
        let line = r + 2;
        let p = &row[cp];
        let id = cxr_id_of_path(p).ok_or_else(|| {
            anyhow!(
                "{}: line {line}: expected a Path like CheXpert-v1.0/valid/<patient>/<study>/<view>.jpg, found {p:?}",
                path.display()
            )
        })?;
        let size = match (ch, cw) {
            (Some(ch), Some(cw)) => {
                let (h, w) = (t.f64_at(r, ch)?, t.f64_at(r, cw)?);
                if !(h >= 1.0 && w >= 1.0 && h.fract() == 0.0 && w.fract() == 0.0) {
                    bail!(
                        "{}: line {line}: expected a positive integer height and width, found {h} and {w}",
                        path.display()
                    );
                }
                (h as usize, w as usize)
            }
            _ => image_size(&root, p)
                .with_context(|| format!("{}: line {line}: CXR {id}", path.display()))?,
        };
        limits.check_image(path, &format!("CXR {id}"), size.0 as u64, size.1 as u64)?;
        if out.insert(id.clone(), Some(size)).is_some() {
            bail!("{}: line {line}: CXR {id} is listed twice", path.display());
        }
    }
    Ok(out)
}

/// `(height, width)` of an image from its header, trying `root/p`, then `p` without its leading
/// folders one by one.
fn image_size(root: &Path, p: &str) -> Result<(usize, usize)> {
    let parts: Vec<&str> = p.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    let candidate = (0..parts.len())
        .map(|skip| {
            parts[skip..]
                .iter()
                .fold(root.to_path_buf(), |a, s| a.join(s))
        })
        .find(|c| c.is_file())
        .ok_or_else(|| {
            anyhow!(
                "image {p:?} not found under {} (give --images-root, or height and width columns)",
                root.display()
            )
        })?;
    let (w, h) = image::ImageReader::open(&candidate)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| anyhow!("{}: cannot read: {e}", candidate.display()))?
        .into_dimensions()
        .map_err(|e| anyhow!("{}: not a readable image: {e}", candidate.display()))?;
    Ok((h as usize, w as usize))
}

fn expected_from_json(path: &Path, limits: &Limits) -> Result<Expected> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("{}: cannot read: {e}", path.display()))?;
    let v: Value = serde_json::from_slice(&bytes)
        .map_err(|e| anyhow!("{}: not valid JSON: {e}", path.display()))?;
    let top = v.as_object().ok_or_else(|| {
        anyhow!(
            "{}: top level: expected an object {{cxr_id: ...}}",
            path.display()
        )
    })?;
    let annotations = top
        .values()
        .any(|e| e.as_object().is_some_and(|o| o.contains_key("img_size")));
    if annotations {
        let ann = chexlocalize_io::parse_annotations(path, &v)?;
        return Ok(ann
            .cxrs
            .into_iter()
            .map(|c| (c.cxr_id, Some((c.height, c.width))))
            .collect());
    }
    let segs = chexlocalize_io::parse_segmentations(path, &v)?;
    let mut out = Expected::new();
    for cxr in segs.cxrs() {
        let mut sizes: BTreeSet<(usize, usize)> = cxr
            .masks
            .iter()
            .map(|(_, r)| (r.height(), r.width()))
            .collect();
        if sizes.len() > 1 {
            bail!(
                "{}: CXR {}: expected masks of one size, found {sizes:?}",
                path.display(),
                cxr.cxr_id
            );
        }
        let size = sizes.pop_first();
        if let Some((h, w)) = size {
            limits.check_image(path, &format!("CXR {}", cxr.cxr_id), h as u64, w as u64)?;
        }
        out.insert(cxr.cxr_id.clone(), size);
    }
    Ok(out)
}

/// Checks the segmentation JSON; returns (CXRs, masks) found.
fn check_segmentations(
    path: &Path,
    expected: &Expected,
    limits: &Limits,
    report: &mut Report,
) -> (usize, usize) {
    let text = match std::fs::metadata(path)
        .map_err(|e| e.to_string())
        .and_then(|m| {
            if m.len() > limits.max_file_bytes {
                Err(format!(
                    "{} bytes, over the limit of {}",
                    m.len(),
                    limits.max_file_bytes
                ))
            } else {
                std::fs::read(path).map_err(|e| e.to_string())
            }
        }) {
        Ok(t) => t,
        Err(e) => {
            report.add(
                Kind::UnreadableFile,
                path,
                None,
                None,
                format!("cannot read: {e}"),
            );
            return (0, 0);
        }
    };
    let v: Value = match serde_json::from_slice(&text) {
        Ok(v) => v,
        Err(e) => {
            report.add(
                Kind::UnreadableFile,
                path,
                None,
                None,
                format!("not valid JSON: {e}"),
            );
            return (0, 0);
        }
    };
    let Some(top) = v.as_object() else {
        report.add(
            Kind::UnreadableFile,
            path,
            None,
            None,
            "expected an object {cxr_id: {task: RLE mask}} at the top level",
        );
        return (0, 0);
    };
    let mut masks = 0;
    for (id, entry) in top {
        let Some(size) = expected.get(id) else {
            report.add(
                Kind::ExtraCxr,
                path,
                Some(id),
                None,
                "not in the expected list",
            );
            continue;
        };
        let Some(obj) = entry.as_object() else {
            report.add(
                Kind::BadMask,
                path,
                Some(id),
                None,
                "expected an object {task: RLE mask}",
            );
            continue;
        };
        let mut seen: HashMap<Task, &str> = HashMap::new();
        for (key, m) in obj {
            let Some(task) = Task::from_name(key) else {
                report.add(
                    Kind::UnknownTask,
                    path,
                    Some(id),
                    Some(key),
                    "not one of the 10 CheXlocalize tasks (\"Lung Opacity\" and \"Airspace Opacity\" are both accepted)",
                );
                continue;
            };
            if let Some(first) = seen.insert(task, key) {
                report.add(
                    Kind::DuplicateTask,
                    path,
                    Some(id),
                    Some(task.name()),
                    format!("two masks for one task: {first:?} and {key:?}"),
                );
                continue;
            }
            masks += 1;
            check_mask(path, id, task, m, *size, limits, report);
        }
        for task in Task::ALL {
            if !seen.contains_key(&task) {
                report.add(
                    Kind::MissingTask,
                    path,
                    Some(id),
                    Some(task.name()),
                    "no mask (expected one per task; an empty mask if nothing is found)",
                );
            }
        }
    }
    for id in expected.keys() {
        if !top.contains_key(id) {
            report.add(
                Kind::MissingCxr,
                path,
                Some(id),
                None,
                "no masks for this CXR (expected 10)",
            );
        }
    }
    (top.len(), masks)
}

fn check_mask(
    path: &Path,
    id: &str,
    task: Task,
    m: &Value,
    expected_size: Option<(usize, usize)>,
    limits: &Limits,
    report: &mut Report,
) {
    let mut bad = |kind, msg: String| report.add(kind, path, Some(id), Some(task.name()), msg);
    let Some(obj) = m.as_object() else {
        bad(
            Kind::BadMask,
            "expected an RLE mask {\"size\": [h, w], \"counts\": str}".to_owned(),
        );
        return;
    };
    let size = obj
        .get("size")
        .and_then(Value::as_array)
        .filter(|a| a.len() == 2)
        .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)));
    let Some((h, w)) = size else {
        bad(
            Kind::BadMask,
            "size: expected [h, w], two non-negative integers".to_owned(),
        );
        return;
    };
    if let Err(e) = limits.check_image(path, "", h, w) {
        let IoError::Limit { what, limit, .. } = e else {
            return;
        };
        bad(
            Kind::OverLimit,
            format!("size: {what} is over the limit: {limit}"),
        );
        return;
    }
    let (h, w) = (h as usize, w as usize);
    let rle = match obj.get("counts") {
        Some(Value::String(s)) => Rle::from_counts_str(h, w, s),
        Some(Value::Array(a)) => match a
            .iter()
            .map(|x| x.as_u64().and_then(|u| u32::try_from(u).ok()))
            .collect::<Option<Vec<u32>>>()
        {
            Some(runs) => Rle::from_runs(h, w, runs),
            None => {
                bad(
                    Kind::BadMask,
                    "counts: expected a string or a list of run lengths".to_owned(),
                );
                return;
            }
        },
        _ => {
            bad(
                Kind::BadMask,
                "counts: expected a pycocotools counts string".to_owned(),
            );
            return;
        }
    };
    if let Err(e) = rle {
        bad(Kind::CorruptRle, format!("corrupt RLE: {e}"));
        return;
    }
    if let Some((eh, ew)) = expected_size {
        if (eh, ew) != (h, w) {
            bad(
                Kind::SizeMismatch,
                format!("mask is {h}x{w} (h x w), the image is {eh}x{ew}"),
            );
        }
    }
}

/// Checks the heatmap folder; returns the number of heatmap files found.
fn check_heatmaps(
    dir: &Path,
    expected: &Expected,
    limits: &Limits,
    jobs: Option<usize>,
    report: &mut Report,
) -> Result<usize> {
    if !dir.is_dir() {
        report.add(
            Kind::UnreadableFile,
            dir,
            None,
            None,
            "not a folder of heatmaps",
        );
        return Ok(0);
    }
    let mut paths = Vec::new();
    collect(dir, &mut paths, report);
    paths.sort();
    let mut named = Vec::new();
    let mut seen: HashMap<(String, Task), PathBuf> = HashMap::new();
    for p in &paths {
        let (id, task_name) = match chexlocalize_io::parse_heatmap_name(p) {
            Ok(x) => x,
            Err(_) => {
                report.add(
                    Kind::BadHeatmapName,
                    p,
                    None,
                    None,
                    "expected a name <cxr_id>_<task>_map.pkl (or .pt, .npy)",
                );
                continue;
            }
        };
        let Some(task) = Task::from_name(&task_name) else {
            report.add(
                Kind::UnknownTask,
                p,
                Some(&id),
                Some(&task_name),
                "the file name's task is not one of the 10 CheXlocalize tasks",
            );
            continue;
        };
        if !expected.contains_key(&id) {
            report.add(
                Kind::ExtraHeatmap,
                p,
                Some(&id),
                Some(task.name()),
                "CXR not in the expected list",
            );
            continue;
        }
        if let Some(first) = seen.insert((id.clone(), task), p.clone()) {
            report.add(
                Kind::DuplicateHeatmap,
                p,
                Some(&id),
                Some(task.name()),
                format!(
                    "a second heatmap for this CXR and task (first: {})",
                    first.display()
                ),
            );
            continue;
        }
        named.push((p.clone(), id, task));
    }
    let pool = thread_pool(jobs)?;
    let found: Vec<Vec<Problem>> = pool.install(|| {
        named
            .par_iter()
            .map(|(p, id, task)| check_heatmap(p, id, *task, expected, limits))
            .collect()
    });
    report.problems.extend(found.into_iter().flatten());
    for id in expected.keys() {
        for task in Task::ALL {
            if !seen.contains_key(&(id.clone(), task)) {
                report.add(
                    Kind::MissingHeatmap,
                    dir,
                    Some(id),
                    Some(task.name()),
                    "no heatmap for this CXR and task",
                );
            }
        }
    }
    Ok(paths.len())
}

/// Every file whose name ends like a heatmap, recursively; unreadable folders are reported.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, report: &mut Report) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report.add(
                Kind::UnreadableFile,
                dir,
                None,
                None,
                format!("cannot list: {e}"),
            );
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            collect(&p, out, report);
        } else if p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| HEATMAP_SUFFIXES.iter().any(|s| n.ends_with(s)))
        {
            out.push(p);
        }
    }
}

fn check_heatmap(
    p: &Path,
    id: &str,
    task: Task,
    expected: &Expected,
    limits: &Limits,
) -> Vec<Problem> {
    let mut report = Report::default();
    let mut add = |kind, msg: String| report.add(kind, p, Some(id), Some(task.name()), msg);
    let rec = match chexlocalize_io::read_heatmap(p, limits) {
        Ok(r) => r,
        Err(e) => {
            // The error names the file already; keep only what was wrong.
            let text = e.to_string();
            let prefix = format!("{}: ", p.display());
            let msg = text.strip_prefix(&prefix).unwrap_or(&text).to_owned();
            add(Kind::UnreadableHeatmap, msg);
            return report.problems;
        }
    };
    if Task::from_name(&rec.task) != Some(task) {
        add(
            Kind::HeatmapTaskMismatch,
            format!(
                "the file says task {:?}, its name says {}",
                rec.task,
                task.name()
            ),
        );
    }
    match map_and_dims(&rec) {
        Err(e) => add(Kind::BadHeatmap, e),
        Ok((_, h, w)) => {
            if let Some(Some((eh, ew))) = expected.get(id) {
                if (h, w) != (*eh, *ew) {
                    add(
                        Kind::HeatmapSizeMismatch,
                        format!("cxr_dims give {h}x{w} (h x w), the image is {eh}x{ew}"),
                    );
                }
            }
        }
    }
    if let Err(e) = task_probability(&rec, task) {
        add(Kind::BadHeatmap, e);
    }
    report.problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cxr_ids_from_chexpert_paths() {
        assert_eq!(
            cxr_id_of_path("CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg").as_deref(),
            Some("patient64541_study1_view1_frontal")
        );
        assert_eq!(
            cxr_id_of_path("test/patient1/study2/view2_lateral.png").as_deref(),
            Some("patient1_study2_view2_lateral")
        );
        assert_eq!(cxr_id_of_path("view1.jpg"), None);
    }
}
