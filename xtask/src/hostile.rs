//! `cargo xtask hostile --out DIR`: writes every hostile input of issue 17 (the cases of
//! `crates/cli/tests/hostile.rs`, built by `chexlocalize_testkit::hostile`) to a folder, for
//! people and fuzzers to reuse. About 26 MB, most of it the 21 MB zip case.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

/// Where to write the hostile files.
#[derive(Args, Debug)]
pub(crate) struct HostileArgs {
    /// Output folder (created; files already there are overwritten).
    #[arg(long)]
    out: PathBuf,
}

pub(crate) fn run(args: &HostileArgs) -> Result<()> {
    use chexlocalize_testkit::hostile;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    for f in hostile::files() {
        println!("{:>10} bytes  {}  ({})", f.bytes.len(), f.name, f.what);
    }
    let written = hostile::write_all(&args.out)
        .with_context(|| format!("writing the hostile files to {}", args.out.display()))?;
    println!(
        "{} hostile files written to {} (with dev_zero/seg.json, a link to /dev/zero, and a FIFO in fifo/)",
        written.len(),
        args.out.display()
    );
    Ok(())
}
