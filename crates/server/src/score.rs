//! [`score_submission`]: validate a submission against the ground truth, then evaluate it on
//! the public and the private split. Pure and synchronous: what `chexlocalize score-job` runs
//! in a child process, and what the in-process scorer of the tests calls.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chexlocalize::{
    Bootstrap, Evaluate, Metric, Options, Predictor, ReportFormat, ValidateSubmission,
    check_submission, evaluate,
};
use chexlocalize_io::{Limits, Segmentations};
use serde::{Deserialize, Serialize};

use crate::config::ScoringRule;
use crate::maps::{check_map_name, unpack_maps};

/// What a scorer needs: the ground truth, the split, the submission, the metric.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreInput {
    /// The ground truth as a segmentation JSON.
    #[serde(skip)]
    pub gt_json: Vec<u8>,
    /// The CXR ids of the public split (the others are private).
    pub public_ids: Vec<String>,
    /// The submitted segmentation JSON.
    #[serde(skip)]
    pub segmentations: Vec<u8>,
    /// The submitted confidence-map archive ([`crate::pack_maps`]), if any: validated with the
    /// segmentations and scored by the pointing game (hit rate).
    #[serde(skip)]
    pub maps: Option<Vec<u8>>,
    /// Which CXRs count.
    pub scoring: ScoringRule,
    /// The bootstrap seed.
    pub seed: u32,
    /// Bootstrap replicates of the confidence intervals.
    pub replicates: u32,
}

#[derive(Serialize, Deserialize)]
struct Header {
    public_ids: Vec<String>,
    scoring: ScoringRule,
    seed: u32,
    /// Absent in headers written before it was configurable: `eval.py`'s 1000.
    #[serde(default = "default_replicates")]
    replicates: u32,
    gt_len: u64,
    seg_len: u64,
    maps_len: Option<u64>,
}

impl ScoreInput {
    /// The wire form for a child's stdin: one JSON header line, then the ground truth, the
    /// segmentations and the maps as raw bytes (lengths in the header).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            public_ids: self.public_ids.clone(),
            scoring: self.scoring,
            seed: self.seed,
            replicates: self.replicates,
            gt_len: self.gt_json.len() as u64,
            seg_len: self.segmentations.len() as u64,
            maps_len: self.maps.as_ref().map(|m| m.len() as u64),
        };
        let mut out = serde_json::to_vec(&header).unwrap_or_default();
        out.push(b'\n');
        out.extend_from_slice(&self.gt_json);
        out.extend_from_slice(&self.segmentations);
        if let Some(m) = &self.maps {
            out.extend_from_slice(m);
        }
        out
    }

    /// Reads [`ScoreInput::to_bytes`]'s form.
    pub fn from_bytes(bytes: &[u8]) -> Result<ScoreInput, String> {
        let nl = bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("score input: expected a JSON header line")?;
        let h: Header =
            serde_json::from_slice(&bytes[..nl]).map_err(|e| format!("score input header: {e}"))?;
        let mut rest = &bytes[nl + 1..];
        let mut take = |n: u64| -> Result<Vec<u8>, String> {
            let n = usize::try_from(n).map_err(|_| "score input: length too large")?;
            if rest.len() < n {
                return Err(format!(
                    "score input: expected {n} more bytes, found {}",
                    rest.len()
                ));
            }
            let (a, b) = rest.split_at(n);
            rest = b;
            Ok(a.to_vec())
        };
        let gt_json = take(h.gt_len)?;
        let segmentations = take(h.seg_len)?;
        let maps = h.maps_len.map(&mut take).transpose()?;
        Ok(ScoreInput {
            gt_json,
            public_ids: h.public_ids,
            segmentations,
            maps,
            scoring: h.scoring,
            seed: h.seed,
            replicates: h.replicates,
        })
    }
}

fn default_replicates() -> u32 {
    1000
}

/// One task's score on one split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskScore {
    /// Bootstrap mean of the per-CXR IoU (None when no CXR counts).
    pub miou: Option<f64>,
    /// 2.5th percentile.
    pub lower: Option<f64>,
    /// 97.5th percentile.
    pub upper: Option<f64>,
    /// CXRs that count in this task's mIoU.
    pub n: u64,
}

/// A submission's score on one split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitScores {
    /// Mean over the tasks of the tasks' mIoU (tasks without a value left out).
    pub miou: Option<f64>,
    /// Mean of the tasks' lower bounds.
    pub miou_lower: Option<f64>,
    /// Mean of the tasks' upper bounds.
    pub miou_upper: Option<f64>,
    /// Mean over the tasks of the pointing game's hit rate (`eval.py --metric hitmiss`, exact
    /// rule), when confidence maps were submitted.
    pub hit_rate: Option<f64>,
    /// Per task, by name.
    pub tasks: BTreeMap<String, TaskScore>,
}

/// A submission's per-CXR IoU on one split: what the leaderboard's paired comparison of
/// adjacent ranks resamples.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CxrScores {
    /// CXR ids, sorted.
    pub ids: Vec<String>,
    /// Task names, in `LOCALIZATION_TASKS` order.
    pub tasks: Vec<String>,
    /// `values[task][cxr]`; `None` where the CXR does not count.
    pub values: Vec<Vec<Option<f64>>>,
}

/// What scoring found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ScoreOutput {
    /// Valid and scored on both splits.
    Scored {
        /// On the public split.
        public: SplitScores,
        /// On the private split (never shown before `phase_end`).
        private: SplitScores,
        /// Per CXR on the public split.
        #[serde(default)]
        public_cxr: Box<CxrScores>,
        /// Per CXR on the private split.
        #[serde(default)]
        private_cxr: Box<CxrScores>,
    },
    /// The validator's problems (file names relative to the submission).
    Invalid {
        /// One line per problem.
        problems: Vec<String>,
        /// The validator's summary line.
        summary: String,
    },
    /// Scoring could not be done.
    Failed {
        /// Why.
        reason: String,
    },
}

/// Validates the submission with `chexlocalize::check_submission` against the ground truth's
/// CXRs and sizes, then runs `chexlocalize::evaluate` (mIoU, 1000 bootstrap replicates, numpy's
/// stream from `seed`) on each split's CXRs.
pub fn score_submission(input: ScoreInput) -> ScoreOutput {
    score_submission_with(input, || {})
}

/// [`score_submission`], calling `validated` once the submission passed the validator and
/// scoring starts (the worker then shows the status `scoring`).
pub fn score_submission_with(input: ScoreInput, validated: impl FnOnce()) -> ScoreOutput {
    match score(&input, validated) {
        Ok(out) => out,
        Err(reason) => ScoreOutput::Failed { reason },
    }
}

fn score(input: &ScoreInput, validated: impl FnOnce()) -> Result<ScoreOutput, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temporary folder: {e}"))?;
    let root = dir.path();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(root.join(name), bytes).map_err(|e| format!("temporary file {name}: {e}"))
    };
    write("gt.json", &input.gt_json)?;
    write("segmentations.json", &input.segmentations)?;
    let maps = match &input.maps {
        None => None,
        Some(bytes) => match unpack_maps(bytes, Limits::BUILTIN.max_file_bytes) {
            Ok(entries) => {
                write_maps(&root.join("maps"), &entries, |_| true)?;
                Some(entries)
            }
            Err(problem) => {
                return Ok(ScoreOutput::Invalid {
                    problems: vec![problem],
                    summary: "FAILED: the confidence-map archive cannot be read".into(),
                });
            }
        },
    };
    let options = Options::default();
    let check = ValidateSubmission {
        seg_path: root.join("segmentations.json"),
        map_dir: maps.as_ref().map(|_| root.join("maps")),
        expected: root.join("gt.json"),
        images_root: None,
        format: ReportFormat::Text,
    };
    let hide = |s: &str| s.replace(&format!("{}/", root.display()), "");
    let v = check_submission(&check, &options).map_err(|e| hide(&e.to_string()))?;
    if !v.is_valid() {
        let mut problems: Vec<String> = v.report.lines().map(hide).collect();
        problems.pop(); // the summary line
        return Ok(ScoreOutput::Invalid {
            problems,
            summary: hide(&v.summary),
        });
    }
    validated();
    let limits = Limits::BUILTIN;
    let read = |name: &str| {
        chexlocalize_io::read_segmentations(&root.join(name), &limits)
            .map_err(|e| hide(&e.to_string()))
    };
    let gt = read("gt.json")?;
    let pred = read("segmentations.json")?;
    let public: BTreeSet<&str> = input.public_ids.iter().map(String::as_str).collect();
    let mut splits = Vec::new();
    for (name, on_public) in [("public", true), ("private", false)] {
        let keep = |id: &str| public.contains(id) == on_public;
        let split_dir = root.join(name);
        std::fs::create_dir_all(&split_dir).map_err(|e| format!("temporary folder: {e}"))?;
        splits.push(
            evaluate_split(
                &gt,
                &pred,
                maps.as_deref(),
                keep,
                &split_dir,
                input,
                &options,
            )
            .map_err(|e| hide(&e))?,
        );
    }
    let (private, private_cxr) = splits.pop().unwrap_or_default();
    let (public, public_cxr) = splits.pop().unwrap_or_default();
    Ok(ScoreOutput::Scored {
        public,
        private,
        public_cxr: Box::new(public_cxr),
        private_cxr: Box::new(private_cxr),
    })
}

/// The masks of the CXRs `keep` accepts.
fn subset(segs: &Segmentations, keep: impl Fn(&str) -> bool) -> Segmentations {
    let mut out = Segmentations::new();
    for c in segs.cxrs().iter().filter(|c| keep(&c.cxr_id)) {
        for (task, rle) in &c.masks {
            // Keys are unique in `segs`, so no duplicate can arise.
            let _ = out.insert(&c.cxr_id, *task, rle.clone());
        }
    }
    out
}

/// Writes the map files whose CXR `keep` accepts into `dir` (created), under their checked
/// names.
fn write_maps(
    dir: &Path,
    entries: &[(String, Vec<u8>)],
    keep: impl Fn(&str) -> bool,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("temporary folder: {e}"))?;
    for (name, bytes) in entries {
        check_map_name(name)?;
        let (cxr_id, _) = chexlocalize_io::parse_heatmap_name(Path::new(name))
            .map_err(|e| format!("map {name:?}: {e}"))?;
        if keep(&cxr_id) {
            std::fs::write(dir.join(name), bytes).map_err(|e| format!("map {name:?}: {e}"))?;
        }
    }
    Ok(())
}

fn evaluate_split(
    gt: &Segmentations,
    pred: &Segmentations,
    maps: Option<&[(String, Vec<u8>)]>,
    keep: impl Fn(&str) -> bool + Copy,
    dir: &Path,
    input: &ScoreInput,
    options: &Options,
) -> Result<(SplitScores, CxrScores), String> {
    let gt = subset(gt, keep);
    if gt.is_empty() {
        return Ok(Default::default());
    }
    let pred = subset(pred, keep);
    let gt_path = dir.join("gt.json");
    let pred_path = dir.join("pred.json");
    chexlocalize_io::write_segmentations(&gt_path, &gt).map_err(|e| e.to_string())?;
    chexlocalize_io::write_segmentations(&pred_path, &pred).map_err(|e| e.to_string())?;
    let eval = evaluate(
        &Evaluate {
            metric: Metric::Iou(input.scoring.scoring()),
            gt_path,
            pred_path,
            predictor: Predictor::Saliency,
            save_dir: dir.to_path_buf(),
            bootstrap: Bootstrap {
                seed: input.seed,
                replicates: input.replicates as usize,
                ..Bootstrap::default()
            },
        },
        options,
    )
    .map_err(|e| e.to_string())?;
    let per_cxr = read_per_cxr(&dir.join("iou_results_per_cxr.csv"))?;
    let counts: BTreeMap<String, u64> = per_cxr
        .tasks
        .iter()
        .zip(&per_cxr.values)
        .map(|(t, v)| (t.clone(), v.iter().flatten().count() as u64))
        .collect();
    let mut scores = split_scores(&eval.summary, &counts);
    if let Some(maps) = maps {
        let map_dir = dir.join("maps");
        write_maps(&map_dir, maps, keep)?;
        let hit_dir = dir.join("hit");
        std::fs::create_dir_all(&hit_dir).map_err(|e| format!("temporary folder: {e}"))?;
        let hits = evaluate(
            &Evaluate {
                metric: Metric::HitMiss {
                    tolerance_px: 0.0,
                    boundary: chexlocalize::ToleranceBoundary::Inclusive,
                },
                gt_path: dir.join("gt.json"),
                pred_path: map_dir,
                predictor: Predictor::Saliency,
                save_dir: hit_dir,
                bootstrap: Bootstrap {
                    seed: input.seed,
                    replicates: input.replicates as usize,
                    ..Bootstrap::default()
                },
            },
            options,
        )
        .map_err(|e| e.to_string())?;
        scores.hit_rate = mean(hits.summary.iter().map(|(_, ci)| finite(ci.mean)));
    }
    Ok((scores, per_cxr))
}

/// `eval`'s per-CXR results (task columns sorted by name, then `img_id`), with the tasks put
/// in `LOCALIZATION_TASKS` order.
fn read_per_cxr(path: &Path) -> Result<CxrScores, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("per-CXR results: {e}"))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let n = header.len().saturating_sub(1);
    let mut ids = Vec::new();
    let mut columns: Vec<Vec<Option<f64>>> = vec![Vec::new(); n];
    for line in lines {
        // Task names and CXR ids have no comma.
        let cells: Vec<&str> = line.split(',').collect();
        ids.push(cells.get(n).copied().unwrap_or_default().to_owned());
        for (c, col) in columns.iter_mut().enumerate() {
            let v = cells.get(c).and_then(|x| x.parse::<f64>().ok());
            col.push(v.filter(|x| x.is_finite()));
        }
    }
    let mut tasks = Vec::new();
    let mut values = Vec::new();
    for t in chexlocalize::Task::ALL {
        if let Some(c) = header[..n].iter().position(|h| *h == t.name()) {
            tasks.push(t.name().to_owned());
            values.push(std::mem::take(&mut columns[c]));
        }
    }
    Ok(CxrScores { ids, tasks, values })
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn mean(xs: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = xs.flatten().collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn split_scores(
    summary: &[(chexlocalize::Task, chexlocalize::Ci)],
    counts: &BTreeMap<String, u64>,
) -> SplitScores {
    let tasks: BTreeMap<String, TaskScore> = summary
        .iter()
        .map(|(t, ci)| {
            let name = t.name().to_string();
            let n = counts.get(&name).copied().unwrap_or(0);
            let score = TaskScore {
                miou: finite(ci.mean),
                lower: finite(ci.lower),
                upper: finite(ci.upper),
                n,
            };
            (name, score)
        })
        .collect();
    SplitScores {
        miou: mean(tasks.values().map(|t| t.miou)),
        miou_lower: mean(tasks.values().map(|t| t.lower)),
        miou_upper: mean(tasks.values().map(|t| t.upper)),
        hit_rate: None,
        tasks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips_and_refuses_truncation() {
        let input = ScoreInput {
            gt_json: b"{\"a\": 1}".to_vec(),
            public_ids: vec!["patient1_study1_view1_frontal".into()],
            segmentations: b"{}".to_vec(),
            maps: Some(vec![0, 1, 2, 10]),
            scoring: ScoringRule::All,
            seed: 3,
            replicates: 250,
        };
        let bytes = input.to_bytes();
        assert_eq!(ScoreInput::from_bytes(&bytes), Ok(input.clone()));
        // A header without the replicates (written before they were configurable) means 1000.
        let text = String::from_utf8_lossy(&bytes).replace(",\"replicates\":250", "");
        assert_ne!(text.as_bytes(), &bytes[..], "the key was in the header");
        let old = ScoreInput::from_bytes(text.as_bytes()).expect("old header");
        assert_eq!(old.replicates, 1000);
        assert_eq!(old.seed, input.seed);
        assert!(ScoreInput::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(ScoreInput::from_bytes(b"no header").is_err());
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        let mut called = false;
        let out = score_submission_with(
            ScoreInput {
                gt_json: b"{}".to_vec(),
                public_ids: vec![],
                segmentations: b"not json".to_vec(),
                maps: None,
                scoring: ScoringRule::TruePosOnly,
                seed: 0,
                replicates: 1000,
            },
            || called = true,
        );
        assert!(!called, "not validated");
        assert!(
            matches!(
                out,
                ScoreOutput::Failed { .. } | ScoreOutput::Invalid { .. }
            ),
            "{out:?}"
        );
    }
}
