//! `cargo xtask reproduce`: the paper's pipeline end to end, in-process.
//!
//! Calls [`chexlocalize::reproduce`] on a data folder laid out like the original repository's
//! `sample/` (default: the committed `fixtures/`), writing the run folder (default
//! `target/reproduce/`; its layout is [`chexlocalize::RunLayout`]'s) and the HTML report, then
//! prints one line per stage and a summary table: mIoU and hit rate per task with their 95%
//! bootstrap CIs, for the saliency method and the human benchmark.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chexlocalize::{
    DataLayout, EvalRun, Level, Options, Reproduce, RunLayout, RunSummary, StageStatus, Task,
};
use clap::Args;

use crate::util::workspace_root;

/// Arguments of `cargo xtask reproduce`.
#[derive(Args, Debug)]
pub(crate) struct ReproduceArgs {
    /// Data folder laid out like the original `sample/` (default: `fixtures/`).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Output folder (default: `target/reproduce/`).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Bootstrap seed of the evaluations.
    #[arg(long, default_value_t = 0)]
    seed: u32,
}

/// The output of a command, or `unknown`.
fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub(crate) fn run(args: &ReproduceArgs) -> Result<()> {
    let root = workspace_root();
    let data = args.data.clone().unwrap_or_else(|| root.join("fixtures"));
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| root.join("target/reproduce"));
    let data = data
        .canonicalize()
        .with_context(|| format!("data folder {}", data.display()))?;
    std::fs::create_dir_all(&out).with_context(|| format!("output folder {}", out.display()))?;
    let out = out.canonicalize()?;
    let extra = vec![
        (
            "chexlocalize-rs".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (
            "git commit".to_owned(),
            command_output(
                "git",
                &[
                    "-C",
                    &root.to_string_lossy(),
                    "rev-parse",
                    "--short",
                    "HEAD",
                ],
            ),
        ),
        ("rustc".to_owned(), command_output("rustc", &["--version"])),
        (
            "platform".to_owned(),
            format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        ),
        (
            "threads".to_owned(),
            std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .to_string(),
        ),
    ];
    let run = RunLayout::new(out.clone());
    let summary = chexlocalize::reproduce(
        &Reproduce {
            data: DataLayout::new(data),
            run: run.clone(),
            seed: args.seed,
            extra_parameters: extra,
        },
        &Options::default(),
        |i, n, stage| {
            let status = match &stage.status {
                StageStatus::Done => String::new(),
                StageStatus::Skipped => "  (skipped: an input is missing)".to_owned(),
                StageStatus::Failed(why) => format!("  (failed, going on: {why})"),
            };
            let warnings = stage
                .notes
                .iter()
                .filter(|n| n.level == Level::Warning)
                .count();
            let warnings = match warnings {
                0 => String::new(),
                1 => "  1 warning".to_owned(),
                w => format!("  {w} warnings"),
            };
            eprintln!(
                "[{i:>2}/{n}] {:<46} {:>7.3} s{status}{warnings}",
                stage.name, stage.seconds
            );
        },
    )
    .map_err(|e| anyhow::anyhow!("{}", chexlocalize_io::chain_text(&e)))?;
    print_warnings(&summary);
    print_summary(&summary);
    println!(
        "\n{} stages in {:.1} s; outputs in {}; open {}",
        summary.stages.len(),
        summary.seconds,
        out.display(),
        run.report().display()
    );
    Ok(())
}

/// Each stage's warnings, once, under its name.
fn print_warnings(summary: &RunSummary) {
    for stage in &summary.stages {
        let warnings: Vec<&str> = stage
            .notes
            .iter()
            .filter(|n| n.level == Level::Warning)
            .map(|n| n.text.as_str())
            .collect();
        if !warnings.is_empty() {
            eprintln!("\n{}:", stage.name);
            for w in warnings {
                eprintln!("  {w}");
            }
        }
    }
}

/// `mean [lower, upper]`, `n/a` when the task has no result.
fn ci_text(summary: &RunSummary, run: EvalRun, task: Task) -> String {
    let ci = summary
        .evaluations
        .iter()
        .find(|(r, _)| *r == run)
        .and_then(|(_, per_task)| per_task.iter().find(|(t, _)| *t == task))
        .map(|(_, ci)| *ci);
    match ci {
        Some(ci) if !ci.mean.is_nan() => {
            format!("{:.3} [{:.3}, {:.3}]", ci.mean, ci.lower, ci.upper)
        }
        _ => "n/a".to_owned(),
    }
}

/// The table: per task, mIoU and hit rate (saliency, human benchmark) with 95% CIs.
fn print_summary(summary: &RunSummary) {
    let columns = [
        ("mIoU, saliency", EvalRun::IouSaliency),
        ("mIoU, human", EvalRun::IouHumanBenchmark),
        ("hit rate, saliency", EvalRun::HitSaliency),
        ("hit rate, human", EvalRun::HitHumanBenchmark),
    ];
    println!("\nlocalisation per task, mean [95% bootstrap CI]:");
    print!("{:<28}", "task");
    for (name, _) in &columns {
        print!(" {name:<22}");
    }
    println!();
    for task in Task::SORTED {
        print!("{:<28}", task.name());
        for (_, run) in &columns {
            print!(" {:<22}", ci_text(summary, *run, task));
        }
        println!();
    }
}
