//! The `chexlocalize` command-line tool.
fn main() {}
