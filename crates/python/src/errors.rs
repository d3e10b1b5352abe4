//! Pipeline errors as Python exceptions, with the command line's messages
//! ([`chexlocalize::chain_text`]).
//!
//! | cause | exception |
//! |---|---|
//! | a file or folder that does not exist | `FileNotFoundError` |
//! | an input over a limit (file size, image size, pickle limits) | `chexlocalize.LimitError` (a `ValueError`) |
//! | a file that cannot be written, threads that cannot start | `OSError` |
//! | anything else about the inputs | `ValueError` |

use chexlocalize::chain_text;
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;

pyo3::create_exception!(
    chexlocalize,
    LimitError,
    PyValueError,
    "An input claims more than the limits allow (a file, image, tensor or nesting over its limit); nothing was allocated for it."
);

/// Whether a cause in the chain is an I/O "not found".
fn not_found(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::NotFound {
                return true;
            }
        }
        cur = c.source();
    }
    false
}

/// Whether a cause in the chain is a limit.
fn over_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    use chexlocalize_io::IoError;
    use chexlocalize_io::pickle::PickleError;
    let mut cur = Some(e);
    while let Some(c) = cur {
        if matches!(c.downcast_ref::<IoError>(), Some(IoError::Limit { .. }))
            || matches!(
                c.downcast_ref::<PickleError>(),
                Some(PickleError::LimitExceeded { .. } | PickleError::NestingTooDeep { .. })
            )
        {
            return true;
        }
        cur = c.source();
    }
    false
}

/// The Python exception for a pipeline error, with the command line's message.
pub fn to_py(e: &chexlocalize::Error) -> PyErr {
    error_to_py(e, !e.is_input())
}

/// The Python exception for any error (`machine`: a failure of the machine, not the inputs).
pub fn error_to_py(e: &(dyn std::error::Error + 'static), machine: bool) -> PyErr {
    let text = chain_text(e);
    if not_found(e) {
        PyFileNotFoundError::new_err(text)
    } else if over_limit(e) {
        LimitError::new_err(text)
    } else if machine {
        PyOSError::new_err(text)
    } else {
        PyValueError::new_err(text)
    }
}
