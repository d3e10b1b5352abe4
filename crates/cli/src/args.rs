//! Shared argument parsing: the scripts' `True`/`False` flag values.

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
