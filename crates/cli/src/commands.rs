//! The subcommands' arguments, and how each becomes a call of the `chexlocalize` pipeline.

pub(crate) mod analyses;
pub(crate) mod compare;
pub(crate) mod eval;
pub(crate) mod segment;
pub(crate) mod serve;
pub(crate) mod server;
pub(crate) mod submit;
pub(crate) mod tools;
