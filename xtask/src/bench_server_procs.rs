//! The processes of `cargo xtask bench server` (see `bench_server`): `serve`, `admin` and
//! `submit` of the release binary, each held by a [`Proc`] that kills and reaps it when dropped.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

/// A child process, killed and reaped when dropped.
pub(crate) struct Proc {
    child: Child,
    /// Kept open so that a late line of the child does not meet a closed pipe.
    _stdout: Option<BufReader<ChildStdout>>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `chexlocalize serve` and its base URL.
pub(crate) struct Server {
    _proc: Proc,
    /// `http://ADDR`.
    pub(crate) base: String,
}

/// Starts `serve --db DB --bind 127.0.0.1:0 --workers N` (stderr to `log`) and reads its
/// `listening on http://ADDR` line.
pub(crate) fn serve(bin: &Path, db: &str, workers: usize, log: &Path) -> Result<Server> {
    let err = File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut child = Command::new(bin)
        .args(["serve", "--db", db, "--bind", "127.0.0.1:0", "--workers"])
        .arg(workers.to_string())
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .with_context(|| format!("starting {} serve", bin.display()))?;
    let stdout = child.stdout.take();
    let mut proc = Proc {
        child,
        _stdout: None,
    };
    let mut reader = BufReader::new(stdout.context("serve: no stdout")?);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .context("serve: reading its first line")?;
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .with_context(|| {
            format!(
                "serve (stderr in {}): expected `listening on http://ADDR` as its first line, \
                 found {line:?}",
                log.display()
            )
        })?
        .to_owned();
    proc._stdout = Some(reader);
    Ok(Server { _proc: proc, base })
}

/// Runs `bin args` in `cwd`; its stdout, or an error naming the command and its stderr.
pub(crate) fn output(bin: &Path, args: &[&str], cwd: &Path) -> Result<String> {
    let out = Command::new(bin)
        .args(args)
        .current_dir(cwd)
        .output()
        .with_context(|| format!("running {} {}", bin.display(), args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "{} {} failed ({}):\n{}",
            bin.display(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A path as a string argument.
pub(crate) fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}
/// A new competition in `dir` (emptied first) with `teams` teams: the database URL and the
/// tokens.
pub(crate) fn competition(
    bin: &Path,
    dir: &Path,
    gt: &Path,
    teams: usize,
) -> Result<(String, Vec<String>)> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let db = format!("sqlite:{}", dir.join("competition.db").display());
    let config = dir.join("competition.toml");
    std::fs::write(
        &config,
        format!(
            "name = \"CheXplanation (benchmark)\"\ngt_path = {:?}\npublic_fraction = 0.5\n\
             split_seed = 7\ndaily_limit = 1000\nphase_end = \"2099-01-01T00:00:00Z\"\n\
             metric = \"iou\"\nscoring = \"true_pos_only\"\nseed = 0\n",
            s(gt)
        ),
    )?;
    output(
        bin,
        &["admin", "--db", &db, "init", "--config", &s(&config)],
        dir,
    )?;
    let tokens = (0..teams)
        .map(|t| {
            let name = format!("team {t:02}");
            Ok(
                output(bin, &["admin", "--db", &db, "add-team", &name], dir)?
                    .trim()
                    .to_owned(),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((db, tokens))
}

/// One `submit` process: its id, seconds until the id line, seconds in all.
pub(crate) struct Submitted {
    /// The submission's id.
    pub(crate) id: i64,
    /// Seconds until the id line.
    pub(crate) to_id: f64,
    /// Seconds until the process ended.
    pub(crate) total: f64,
}

/// Runs `submit` (with `--wait` if `wait`), its stderr into `scratch/submit.stderr`.
pub(crate) fn submit(
    bin: &Path,
    base: &str,
    token: &str,
    seg: &Path,
    wait: bool,
    scratch: &Path,
) -> Result<Submitted> {
    let err_path = scratch.join("submit.stderr");
    let err = File::create(&err_path)?;
    let mut cmd = Command::new(bin);
    cmd.args(["submit", "--server", base, "--token", token, "--seg-path"])
        .arg(seg);
    if wait {
        cmd.arg("--wait");
    }
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(err)
        .spawn()
        .context("starting submit")?;
    let stdout = child.stdout.take();
    let mut proc = Proc {
        child,
        _stdout: None,
    };
    let mut reader = BufReader::new(stdout.context("submit: no stdout")?);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let to_id = t.elapsed().as_secs_f64();
    let mut rest = String::new();
    reader.read_to_string(&mut rest)?;
    let status = proc.child.wait()?;
    let total = t.elapsed().as_secs_f64();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    ensure!(
        status.success() && (!wait || rest.contains("status: scored")),
        "submit of {} failed ({status}): {first}{rest}\n{stderr}",
        seg.display()
    );
    let id = first
        .trim()
        .parse()
        .with_context(|| format!("submit: expected the id as its first line, found {first:?}"))?;
    Ok(Submitted { id, to_id, total })
}

/// Seconds from a submission's `submitted_at` to its `finished_at`.
pub(crate) fn server_seconds(view: &serde_json::Value) -> Result<f64> {
    let at = |k: &str| -> Result<chexlocalize_server::chrono::DateTime<_>> {
        let t = view[k]
            .as_str()
            .with_context(|| format!("a submission: expected {k} in {view}"))?;
        Ok(chexlocalize_server::chrono::DateTime::parse_from_rfc3339(
            t,
        )?)
    };
    Ok((at("finished_at")? - at("submitted_at")?).as_seconds_f64())
}
