//! Writes the file a `*_rep` fuzz input stands for (`chexlocalize_fuzzing::expand`), to look at a
//! finding or to feed it to the CLI:
//! `cargo run -p chexlocalize-fuzzing --example expand -- fuzz/regressions/pickle_rep/x > x.pkl`.

use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: expand <fuzz input of a *_rep target>")?;
    let bytes = chexlocalize_fuzzing::expand(&std::fs::read(path)?);
    std::io::stdout().write_all(&bytes)?;
    Ok(())
}
