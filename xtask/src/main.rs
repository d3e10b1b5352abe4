//! `cargo xtask`: fixtures, conformance, reproduce, bench.
fn main() {}
