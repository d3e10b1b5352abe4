//! `cargo xtask`: project automation.
//!
//! - `cargo xtask fixtures [--scale small|val]`: the synthetic CheXlocalize dataset in `fixtures/`
//!   (or a val-sized one under `target/`), deterministically from a ChaCha seed.
//! - `cargo xtask conformance --sample DIR`: runs every implemented command on the original
//!   repository's sample and compares with the reference outputs of the Python scripts.
//! - `cargo xtask reproduce [--data DIR] [--out DIR]`: the paper's pipeline end to end.
//! - `cargo xtask bench`: our commands against the Python reference; writes `BENCHMARKS.md`.
//! - `cargo xtask hostile --out DIR`: the hostile inputs of the hostile-input suite, as files.
//! - `cargo xtask cycles`: fails naming the cycle if files of a crate import each other in one.
//! - `cargo xtask test`: `cargo test --workspace`, then the Python package's tests in a venv.

mod bench;
mod bench_cases;
mod bench_hostile;
mod bench_inprocess;
mod bench_metrics;
mod bench_python;
mod bench_scaling;
mod bench_server;
mod bench_server_load;
mod bench_server_procs;
mod conformance;
mod cycles;
mod fixtures;
mod hostile;
mod measure;
mod pytest;
mod pyvenv;
mod reproduce;
mod util;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate the synthetic dataset.
    Fixtures(fixtures::FixturesArgs),
    /// Run the paper's pipeline (the stages this release has) and summarise it.
    Reproduce(reproduce::ReproduceArgs),
    /// Time our commands against the Python reference (`CHEXLOCALIZE_PY`); write BENCHMARKS.md.
    Bench(bench::BenchArgs),
    /// Write every hostile input of the hostile-input suite to a folder.
    Hostile(hostile::HostileArgs),
    /// Fail if the files of a crate import each other in a cycle.
    Cycles(cycles::CyclesArgs),
    /// `cargo test --workspace`, then the Python package built into `target/py-venv` and pytest.
    Test(pytest::TestArgs),
    /// Compare our commands with the Python reference's outputs on the original sample.
    Conformance {
        /// The original repository's `sample/` folder with its `reference/` outputs.
        #[arg(long, default_value = "../shared/chexlocalize-sample")]
        sample: PathBuf,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Fixtures(a) => fixtures::run(&a),
        Command::Conformance { sample } => conformance::run(&sample),
        Command::Reproduce(a) => reproduce::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Hostile(a) => hostile::run(&a),
        Command::Cycles(a) => cycles::run(&a),
        Command::Test(a) => pytest::run_tests(&a),
    }
}
