//! Shared argument parsing: the scripts' `True`/`False` flag values and the bounds of the
//! numeric flags (an out-of-range value is a usage error, exit code 2, naming the flag and bound).

/// Parses a boolean flag value as the reference scripts accept it (`True`/`False`, which they
/// pass to Python's `eval`), plus lower-case `true`/`false`.
pub(crate) fn py_bool(s: &str) -> Result<bool, String> {
    match s {
        "True" | "true" => Ok(true),
        "False" | "false" => Ok(false),
        _ => Err(format!("expected True or False, found {s:?}")),
    }
}

/// A box filter size `--k`: 0 to 4096 (larger kernels would overflow the filter's 32-bit window
/// sums; chest X-ray smoothing uses single digits).
pub(crate) fn box_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(k) if k <= 4096 => Ok(k),
        _ => Err(format!(
            "expected a box filter size from 0 to 4096, found {s:?}"
        )),
    }
}

/// Most worker threads `--jobs` may ask for (more than any machine this runs on has cores; a
/// pool never gets more threads than it has items of work either).
pub(crate) const MAX_JOBS: u64 = 1024;

/// Largest seed `--seed` takes: numpy's legacy `np.random.seed` accepts 0 to 2^32 - 1.
pub(crate) const MAX_SEED: u64 = u32::MAX as u64;

/// Most overlay pictures per task `--overlays-per-task` may ask for.
pub(crate) const MAX_OVERLAYS: u64 = 100;

/// A clap value parser for an integer flag from `lo` to `hi` (inclusive); its error states the
/// bound (clap's message names the flag).
pub(crate) fn int_in<T: TryFrom<u64>>(
    lo: u64,
    hi: u64,
    what: &'static str,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        s.trim()
            .parse::<u64>()
            .ok()
            .filter(|v| (lo..=hi).contains(v))
            .and_then(|v| T::try_from(v).ok())
            .ok_or_else(|| format!("expected {what} from {lo} to {hi}, found {s:?}"))
    }
}

/// `--jobs`: 1 to [`MAX_JOBS`] worker threads.
pub(crate) fn jobs(s: &str) -> Result<usize, String> {
    int_in(1, MAX_JOBS, "a number of worker threads")(s)
}

/// `--seed`: numpy's legacy seed range, 0 to 2^32 - 1.
pub(crate) fn seed(s: &str) -> Result<u32, String> {
    int_in(0, MAX_SEED, "a seed (numpy's legacy range)")(s)
}

/// `--overlays-per-task`: 0 to [`MAX_OVERLAYS`].
pub(crate) fn overlays(s: &str) -> Result<usize, String> {
    int_in(0, MAX_OVERLAYS, "a number of overlays per task")(s)
}

/// `--replicates`: 1 to [`chexlocalize::MAX_REPLICATES`].
fn replicates(s: &str) -> Result<usize, String> {
    int_in(
        1,
        chexlocalize::MAX_REPLICATES as u64,
        "a number of bootstrap replicates",
    )(s)
}

/// `--ci-level`: a coverage from 0.5 to below 1 (`0.95`), or a percentage (`95`).
pub(crate) fn ci_level(s: &str) -> Result<chexlocalize::CiLevel, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a level such as 0.95 or 95, found {s:?}"))?;
    let v = if v >= 1.0 { v / 100.0 } else { v };
    chexlocalize::CiLevel::new(v).ok_or_else(|| {
        format!("expected a level from 0.5 to below 1 (or 50 to below 100 %), found {s:?}")
    })
}

/// The bootstrap's flags, shared by `eval` and `compare`; the defaults are the reference's.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct BootstrapArgs {
    /// Bootstrap seed: 0 to 4294967295 (2^32 - 1, numpy's legacy seed range).
    #[arg(long, default_value_t = 0, value_parser = seed, allow_negative_numbers = true)]
    seed: u32,
    /// Bootstrap generator: `numpy` reproduces the reference (`np.random.seed(seed)`) exactly;
    /// `chacha` is a modern generator with the same statistics but other draws.
    #[arg(long, value_enum, default_value_t = RngArg::Numpy)]
    rng: RngArg,
    /// Bootstrap replicates: 1 to 100000 (the reference: 1000); at least 40 for a 95 % interval.
    #[arg(long, default_value_t = 1000, value_parser = replicates)]
    replicates: usize,
    /// Confidence level of the intervals: 0.95 (the reference), 0.9, 99, ...
    #[arg(long = "ci-level", visible_alias = "ci_level", default_value = "0.95", value_parser = ci_level)]
    ci_level: chexlocalize::CiLevel,
    /// What a replicate resamples: `cxr` (the reference) or `patient` (every CXR of a patient
    /// together: a cluster bootstrap, wider and more honest intervals when patients have
    /// several CXRs).
    #[arg(long, value_enum, default_value_t = ResampleArg::Cxr)]
    resample: ResampleArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum RngArg {
    Numpy,
    Chacha,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ResampleArg {
    Cxr,
    Patient,
}

impl BootstrapArgs {
    /// The library's bootstrap settings.
    pub(crate) fn bootstrap(&self) -> chexlocalize::Bootstrap {
        chexlocalize::Bootstrap {
            seed: self.seed,
            rng: match self.rng {
                RngArg::Numpy => chexlocalize::BootstrapRng::Numpy,
                RngArg::Chacha => chexlocalize::BootstrapRng::ChaCha,
            },
            replicates: self.replicates,
            level: self.ci_level,
            resample: match self.resample {
                ResampleArg::Cxr => chexlocalize::Resample::Cxr,
                ResampleArg::Patient => chexlocalize::Resample::Patient,
            },
        }
    }
}
