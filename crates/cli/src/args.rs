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
