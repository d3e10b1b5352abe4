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
