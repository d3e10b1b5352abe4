//! [`Bootstrap`]: how `eval`, `compare` and `calculate-percentage-decrease` resample — the seed,
//! the generator, the number of replicates, the interval's level and the unit resampled (a CXR,
//! as the reference does, or a patient).
//!
//! The default is the reference's bootstrap exactly (numpy's stream, 1000 replicates, 95 %,
//! CXRs), so default outputs stay byte-identical. `--resample patient` is a cluster bootstrap:
//! the validation set's 234 CXRs come from 200 patients and the test set's 668 from 500, and a
//! patient's CXRs are not independent draws, so resampling CXRs makes the intervals too narrow.

use std::path::Path;

use chexlocalize_metrics::{self as metrics, CiLevel, Clusters};

use crate::error::{Error, Result};

/// The most replicates a bootstrap may ask for (each is a row of the bootstrap CSV).
pub const MAX_REPLICATES: usize = 100_000;

/// The bootstrap's random generator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BootstrapRng {
    /// numpy's legacy `np.random.seed(seed)` stream: the reference's draws exactly.
    #[default]
    Numpy,
    /// ChaCha20: the same statistics, other draws.
    ChaCha,
}

/// What one bootstrap replicate draws.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resample {
    /// CXRs, independently (the reference).
    #[default]
    Cxr,
    /// Patients, each with all of their CXRs (the patient id is the CXR id's part before
    /// `_study`, e.g. `patient64541` of `patient64541_study1_view1_frontal`).
    Patient,
}

/// How to bootstrap. `Bootstrap::default()` is the reference's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bootstrap {
    /// Seed (numpy's legacy range, 0 to 2^32 - 1).
    pub seed: u32,
    /// Generator.
    pub rng: BootstrapRng,
    /// Replicates: 1 to [`MAX_REPLICATES`], and enough for the level (40 for 95 %).
    pub replicates: usize,
    /// The intervals' coverage.
    pub level: CiLevel,
    /// The unit resampled.
    pub resample: Resample,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            seed: 0,
            rng: BootstrapRng::Numpy,
            replicates: 1000,
            level: CiLevel::NINETY_FIVE,
            resample: Resample::Cxr,
        }
    }
}

impl Bootstrap {
    /// An error naming the option when the replicate count is out of range or too small for
    /// an interval at the level (the lower bound is the `int(alpha / 2 · R) − 1`-th replicate).
    pub fn check(&self) -> Result<()> {
        let alpha = 1.0 - self.level.get();
        let needed = ((1.0 / (alpha / 2.0)) - 1e-9).ceil() as usize;
        if !(1..=MAX_REPLICATES).contains(&self.replicates) {
            return Err(Error::Options(format!(
                "replicates: expected 1 to {MAX_REPLICATES}, found {}",
                self.replicates
            )));
        }
        if self.replicates < needed {
            return Err(Error::Options(format!(
                "replicates: {} is too few for a {} % interval; expected at least {needed}",
                self.replicates,
                self.level.get() * 100.0
            )));
        }
        Ok(())
    }

    /// The resampling units of rows with these CXR ids (`file` names where the ids came from).
    pub(crate) fn clusters(&self, ids: &[String], file: &Path) -> Result<Clusters> {
        match self.resample {
            Resample::Cxr => Ok(Clusters::singletons(ids.len())),
            Resample::Patient => {
                let patients = ids
                    .iter()
                    .map(|id| {
                        patient_of(id).ok_or_else(|| {
                            Error::input(
                                file,
                                format!(
                                    "CXR {id}: --resample patient expects ids like \
                                     patient64541_study1_view1_frontal (the patient before `_study`)"
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<&str>>>()?;
                Ok(Clusters::from_labels(&patients))
            }
        }
    }

    /// Replicate means `[replicate][column]` of `columns[c][row]`.
    pub(crate) fn run(&self, columns: &[Vec<f64>], clusters: &Clusters) -> Vec<Vec<f64>> {
        match self.rng {
            BootstrapRng::Numpy => metrics::bootstrap_clustered(
                columns,
                clusters,
                self.replicates,
                &mut metrics::NumpyLegacyRng::new(self.seed),
            ),
            BootstrapRng::ChaCha => metrics::bootstrap_clustered(
                columns,
                clusters,
                self.replicates,
                &mut metrics::ChaChaSampler::new(u64::from(self.seed)),
            ),
        }
    }

    /// [`metrics::paired_bootstrap`] with this generator: `[replicate][method][column]`.
    pub(crate) fn run_paired(
        &self,
        methods: &[Vec<Vec<f64>>],
        clusters: &Clusters,
    ) -> Vec<Vec<Vec<f64>>> {
        match self.rng {
            BootstrapRng::Numpy => metrics::paired_bootstrap(
                methods,
                clusters,
                self.replicates,
                &mut metrics::NumpyLegacyRng::new(self.seed),
            ),
            BootstrapRng::ChaCha => metrics::paired_bootstrap(
                methods,
                clusters,
                self.replicates,
                &mut metrics::ChaChaSampler::new(u64::from(self.seed)),
            ),
        }
    }
}

/// The patient of a CheXpert CXR id: `patient64541` of `patient64541_study1_view1_frontal`.
fn patient_of(id: &str) -> Option<&str> {
    id.split_once("_study")
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patient_ids_and_replicate_bounds() {
        assert_eq!(
            patient_of("patient64541_study1_view1_frontal"),
            Some("patient64541")
        );
        assert_eq!(patient_of("_study1"), None);
        assert_eq!(patient_of("cxr7"), None);
        let b = |replicates, level| Bootstrap {
            replicates,
            level: CiLevel::new(level).expect("level"),
            ..Bootstrap::default()
        };
        assert!(b(1000, 0.95).check().is_ok());
        assert!(b(40, 0.95).check().is_ok());
        let e = b(39, 0.95).check().expect_err("too few").to_string();
        assert!(e.contains("replicates") && e.contains("at least 40"), "{e}");
        assert!(b(200, 0.99).check().is_ok() && b(199, 0.99).check().is_err());
        assert!(b(MAX_REPLICATES + 1, 0.95).check().is_err());
        let e = Bootstrap {
            resample: Resample::Patient,
            ..Bootstrap::default()
        }
        .clusters(&["cxr1".to_string()], Path::new("gt.json"))
        .expect_err("no patient")
        .to_string();
        assert!(e.contains("gt.json") && e.contains("cxr1"), "{e}");
    }
}
