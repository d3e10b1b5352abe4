//! Statistics (work in progress).
#![deny(missing_docs)]
