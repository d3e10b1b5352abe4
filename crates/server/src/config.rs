//! The competition's TOML configuration ([`CompetitionConfig`]), its stored form
//! ([`Competition`]) and the public/private split by patient.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ServerError;

/// A point in time, UTC (RFC 3339 in TOML and JSON).
pub type DateTime = chrono::DateTime<chrono::Utc>;

/// The metric submissions are ranked by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// mIoU of the segmentation masks (`eval.py --metric iou`).
    #[default]
    Iou,
}

/// Which CXRs count in a task's mIoU (`eval.py --true_pos_only`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScoringRule {
    /// Only CXRs where both the ground truth and the prediction are non-empty (the default of
    /// the reference and of the paper's leaderboard).
    #[default]
    TruePosOnly,
    /// Every CXR whose masks' union is non-empty.
    All,
}

impl ScoringRule {
    pub(crate) fn scoring(self) -> chexlocalize::Scoring {
        match self {
            ScoringRule::TruePosOnly => chexlocalize::Scoring::TruePositivesOnly,
            ScoringRule::All => chexlocalize::Scoring::All,
        }
    }
}

/// The competition, as the host writes it in `competition.toml`:
///
/// ```toml
/// name = "CheXplanation"
/// gt_path = "gt_annotations_test.json"   # segmentation or annotation JSON; never served
/// public_fraction = 0.5                   # share of CXRs on the public split, split by patient
/// split_seed = 7
/// daily_limit = 5                         # submissions per team per UTC day
/// total_limit = 100                       # optional
/// final_selections = 2                    # K, default 2
/// phase_end = "2027-03-01T00:00:00Z"
/// metric = "iou"
/// scoring = "true_pos_only"               # or "all"
/// max_upload_bytes = 268435456
/// bootstrap_replicates = 1000             # eval.py's; 40 to 100000
/// seed = 0                                # bootstrap seed
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetitionConfig {
    /// The competition's name (shown on the pages).
    pub name: String,
    /// The test set's ground truth: a segmentation JSON or an annotation JSON (polygons are
    /// filled as `annotation_to_segmentation.py` does). Read by `init` into the database.
    pub gt_path: PathBuf,
    /// Share of CXRs on the public split (0 to 1), whole patients at a time.
    pub public_fraction: f64,
    /// Seed of the split.
    pub split_seed: u64,
    /// Submissions (pending or scored; invalid and failed ones do not count) per team per UTC day.
    pub daily_limit: u32,
    /// Submissions per team in total (same counting), if limited.
    #[serde(default)]
    pub total_limit: Option<u32>,
    /// How many submissions a team may select for the private leaderboard (K).
    #[serde(default = "default_final_selections")]
    pub final_selections: u32,
    /// End of the public phase: private scores are published from then on.
    pub phase_end: DateTime,
    /// The metric (only `iou`).
    #[serde(default)]
    pub metric: MetricKind,
    /// Which CXRs count (`true_pos_only`, the default, or `all`).
    #[serde(default)]
    pub scoring: ScoringRule,
    /// Largest upload (segmentations and maps together), in bytes.
    #[serde(default = "default_max_upload_bytes")]
    pub max_upload_bytes: u64,
    /// Bootstrap replicates of the confidence intervals (1000, `eval.py`'s, by default): at
    /// least 40 (enough for the 95 % interval), at most 100 000 (`chexlocalize::MAX_REPLICATES`).
    #[serde(default = "default_bootstrap_replicates")]
    pub bootstrap_replicates: u32,
    /// Seed of the bootstrap (numpy's legacy stream, as `eval.py --seed`).
    #[serde(default)]
    pub seed: u32,
}

fn default_final_selections() -> u32 {
    2
}
fn default_max_upload_bytes() -> u64 {
    256 << 20
}
fn default_bootstrap_replicates() -> u32 {
    1000
}

impl CompetitionConfig {
    /// Reads and checks a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path).map_err(|source| ServerError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut cfg = Self::from_toml_str(path, &text)?;
        if cfg.gt_path.is_relative() {
            if let Some(dir) = path.parent() {
                cfg.gt_path = dir.join(&cfg.gt_path);
            }
        }
        Ok(cfg)
    }

    /// Parses and checks TOML text (`path` names it in errors; `gt_path` is kept as written).
    pub fn from_toml_str(path: &Path, text: &str) -> Result<Self, ServerError> {
        let cfg: CompetitionConfig = toml::from_str(text).map_err(|e| ServerError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        cfg.check(path)?;
        Ok(cfg)
    }

    /// Checks the values' ranges.
    pub fn check(&self, path: &Path) -> Result<(), ServerError> {
        let bad = |message: String| ServerError::Config {
            path: path.to_path_buf(),
            message,
        };
        if self.name.trim().is_empty() {
            return Err(bad("name: expected a non-empty name".into()));
        }
        if !(0.0..=1.0).contains(&self.public_fraction) {
            return Err(bad(format!(
                "public_fraction: expected 0 to 1, found {}",
                self.public_fraction
            )));
        }
        if self.daily_limit == 0 {
            return Err(bad("daily_limit: expected at least 1".into()));
        }
        if self.total_limit == Some(0) {
            return Err(bad("total_limit: expected at least 1 (or no key)".into()));
        }
        if self.final_selections == 0 {
            return Err(bad("final_selections: expected at least 1".into()));
        }
        if self.max_upload_bytes == 0 {
            return Err(bad("max_upload_bytes: expected at least 1".into()));
        }
        let bootstrap = chexlocalize::Bootstrap {
            replicates: self.bootstrap_replicates as usize,
            ..chexlocalize::Bootstrap::default()
        };
        if let Err(e) = bootstrap.check() {
            let e = e.to_string();
            let e = e.trim_start_matches("replicates: ");
            return Err(bad(format!("bootstrap_replicates: {e}")));
        }
        Ok(())
    }
}

/// The competition as stored: its config, the ground truth's hash and the split's sizes (the
/// ground truth itself and which CXRs are public stay in the database).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Competition {
    /// The config it was created or last updated from.
    pub config: CompetitionConfig,
    /// SHA-256 of the stored ground truth (hex).
    pub gt_sha256: String,
    /// CXRs on the public split.
    pub public_cxrs: usize,
    /// CXRs on the private split.
    pub private_cxrs: usize,
    /// Incremented by every `init`.
    pub version: i64,
    /// When it was last created or updated.
    pub updated_at: DateTime,
}

impl Competition {
    /// The phase at `now`.
    pub fn phase(&self, now: DateTime) -> Phase {
        if now < self.config.phase_end {
            Phase::Public
        } else {
            Phase::Final
        }
    }
}

/// The phase of the competition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before `phase_end`: only public-split scores are shown.
    Public,
    /// From `phase_end` on: the private leaderboard is published.
    Final,
}

/// The patient of a CXR id: the part before the first `_` (`patient64541` of
/// `patient64541_study1_view1_frontal`).
pub fn patient_of(cxr_id: &str) -> &str {
    cxr_id.split('_').next().unwrap_or(cxr_id)
}

/// The public split: whole patients, in an order drawn from `seed`, until `fraction` of the
/// CXRs are in. Deterministic: the same ids, fraction and seed give the same split.
pub fn public_split<'a>(
    ids: impl IntoIterator<Item = &'a str>,
    fraction: f64,
    seed: u64,
) -> BTreeSet<String> {
    let mut patients: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut total = 0usize;
    for id in ids {
        patients.entry(patient_of(id)).or_default().push(id);
        total += 1;
    }
    let mut order: Vec<([u8; 32], &str)> = patients
        .keys()
        .map(|p| {
            let mut h = Sha256::new();
            h.update(seed.to_le_bytes());
            h.update(p.as_bytes());
            (h.finalize().into(), *p)
        })
        .collect();
    order.sort();
    let want = (fraction * total as f64).round() as usize;
    let mut public = BTreeSet::new();
    for (_, p) in order {
        if public.len() >= want {
            break;
        }
        public.extend(patients[p].iter().map(|s| s.to_string()));
    }
    public
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_keeps_patients_whole_and_is_deterministic() {
        let ids: Vec<String> = (0..40)
            .flat_map(|p| (1..=3).map(move |s| format!("patient{p:05}_study{s}_view1_frontal")))
            .collect();
        let a = public_split(ids.iter().map(String::as_str), 0.5, 7);
        let b = public_split(ids.iter().map(String::as_str), 0.5, 7);
        let c = public_split(ids.iter().map(String::as_str), 0.5, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 60);
        for id in &ids {
            let p = patient_of(id);
            let same: Vec<bool> = ids
                .iter()
                .filter(|i| patient_of(i) == p)
                .map(|i| a.contains(i))
                .collect();
            assert!(same.iter().all(|x| *x == same[0]), "patient {p} split");
        }
    }

    #[test]
    fn config_checks_the_replicates() {
        let text = r#"
name = "x"
gt_path = "gt.json"
public_fraction = 0.5
split_seed = 1
daily_limit = 3
phase_end = "2030-01-01T00:00:00Z"
bootstrap_replicates = 500
"#;
        let with = |r: &str| {
            CompetitionConfig::from_toml_str(
                Path::new("c.toml"),
                &text.replace("bootstrap_replicates = 500", r),
            )
        };
        assert_eq!(
            with("bootstrap_replicates = 500")
                .expect("valid")
                .bootstrap_replicates,
            500
        );
        let ok = with("").expect("valid");
        assert_eq!(ok.bootstrap_replicates, 1000);
        assert_eq!(ok.final_selections, 2);
        assert_eq!(ok.scoring, ScoringRule::TruePosOnly);
        for (bad, says) in [
            (
                "bootstrap_replicates = 39",
                "too few for a 95 % interval; expected at least 40",
            ),
            ("bootstrap_replicates = 0", "expected 1 to 100000, found 0"),
            (
                "bootstrap_replicates = 100001",
                "expected 1 to 100000, found 100001",
            ),
        ] {
            let e = with(bad).expect_err(bad);
            assert!(matches!(e, ServerError::Config { .. }), "{e:?}");
            let text = e.to_string();
            assert!(
                text.contains("bootstrap_replicates: ") && text.contains(says),
                "{text}"
            );
        }
    }
}
