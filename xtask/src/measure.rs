//! Timing one process: wall time, and peak memory from GNU `/usr/bin/time` when it is
//! installed (used by `bench` and its untrusted-input sections in `bench_hostile`).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// One timed process: wall seconds and peak resident memory in MB (if measurable).
pub(crate) struct Measure {
    pub(crate) seconds: f64,
    pub(crate) peak_mb: Option<f64>,
}

/// One timed process that may fail: its measure, exit code and standard error.
pub(crate) struct Outcome {
    pub(crate) measure: Measure,
    pub(crate) code: Option<i32>,
    pub(crate) stderr: String,
}

/// Runs `program args` in `cwd` under GNU time when available, whatever its exit status.
pub(crate) fn measure_any(program: &Path, args: &[String], cwd: &Path) -> Result<Outcome> {
    let gnu_time = Path::new("/usr/bin/time");
    let stats = std::env::temp_dir().join(format!("chexlocalize-bench-{}.txt", std::process::id()));
    let mut cmd = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f").arg("%e %M").arg("-o").arg(&stats).arg(program);
        c
    } else {
        Command::new(program)
    };
    let t = Instant::now();
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .output()
        .with_context(|| format!("running {}", program.display()))?;
    let wall = t.elapsed().as_secs_f64();
    // GNU time writes "Command exited with non-zero status N" before its line on a failure.
    let peak_mb = std::fs::read_to_string(&stats).ok().and_then(|s| {
        let kb: f64 = s.lines().last()?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    });
    let _ = std::fs::remove_file(&stats);
    Ok(Outcome {
        measure: Measure {
            seconds: wall,
            peak_mb,
        },
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs `program args` in `cwd` under GNU time when available; fails on a non-zero exit.
pub(crate) fn measure(program: &Path, args: &[String], cwd: &Path) -> Result<Measure> {
    let o = measure_any(program, args, cwd)?;
    if o.code != Some(0) {
        bail!(
            "{} {} failed:\n{}",
            program.display(),
            args.join(" "),
            o.stderr
        );
    }
    Ok(o.measure)
}
