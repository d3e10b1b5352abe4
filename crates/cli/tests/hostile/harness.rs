//! Runs the built `chexlocalize` binary as a child process and measures it: exit code, output,
//! wall time, and peak resident memory of that child alone (GNU time's `%M`, from `wait4`'s
//! `ru_maxrss`). A child still running after [`HARD_KILL`] is killed with its process group and
//! the test fails, so a hang fails instead of hanging CI.
//!
//! Children run one at a time (a lock), so that the wall time of one is not inflated by the
//! others of this suite on a 2-core machine.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The bound on wall time, per hostile file.
pub(crate) const MAX_SECS: f64 = 5.0;
/// The bound on peak RSS, per hostile file: 1.2 GB.
pub(crate) const MAX_RSS_BYTES: u64 = 1_200_000_000;
/// A child still running after this long is killed and the test fails.
pub(crate) const HARD_KILL: Duration = Duration::from_secs(10);

static SERIAL: Mutex<()> = Mutex::new(());

/// util-linux's prlimit, if installed.
const PRLIMIT: &str = "/usr/bin/prlimit";

/// GNU time, if installed (CI installs Debian's `time` package).
const GNU_TIME: &str = "/usr/bin/time";

/// What one child did.
#[derive(Debug)]
pub(crate) struct Run {
    /// The command line, for messages.
    pub(crate) label: String,
    /// Exit code (`None`: killed by a signal).
    pub(crate) code: Option<i32>,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
    /// Wall time.
    pub(crate) secs: f64,
    /// Peak RSS in bytes, when GNU time is available.
    pub(crate) peak_rss: Option<u64>,
}

impl Run {
    /// Both streams, for messages and needle searches.
    pub(crate) fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Exit code 1 (a clear error or a failed validation), every needle in stdout or stderr, no
    /// panic; within the bounds.
    pub(crate) fn fails_naming(&self, needles: &[&str]) -> &Self {
        assert_eq!(
            self.code,
            Some(1),
            "{}: expected exit code 1\n{}",
            self.label,
            self.text()
        );
        self.mentions(needles)
    }

    /// Exit code 2 (usage error) naming every needle; within the bounds.
    pub(crate) fn usage_error_naming(&self, needles: &[&str]) -> &Self {
        assert_eq!(
            self.code,
            Some(2),
            "{}: expected exit code 2\n{}",
            self.label,
            self.text()
        );
        self.mentions(needles)
    }

    /// Exit code 0; within the bounds.
    pub(crate) fn succeeds(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "{}: expected exit code 0\n{}",
            self.label,
            self.text()
        );
        self.mentions(&[])
    }

    /// Every needle in stdout or stderr, no panic, within the bounds.
    pub(crate) fn mentions(&self, needles: &[&str]) -> &Self {
        let text = self.text();
        for n in needles {
            assert!(text.contains(n), "{}: {n:?} not in:\n{text}", self.label);
        }
        assert!(!text.contains("panicked"), "{}: panic:\n{text}", self.label);
        self.within_bounds()
    }

    /// At least one of `words` (case-insensitive) in stdout or stderr: the limit or expectation
    /// a message names, whatever its exact wording.
    pub(crate) fn mentions_any(&self, words: &[&str]) -> &Self {
        let text = self.text().to_lowercase();
        assert!(
            words.iter().any(|w| text.contains(&w.to_lowercase())),
            "{}: none of {words:?} in:\n{}",
            self.label,
            self.text()
        );
        self
    }

    /// Wall time ≤ 5 s and peak RSS ≤ 1.2 GB.
    pub(crate) fn within_bounds(&self) -> &Self {
        assert!(
            self.secs <= MAX_SECS,
            "{}: took {:.2} s (bound {MAX_SECS} s)\n{}",
            self.label,
            self.secs,
            self.text()
        );
        if let Some(rss) = self.peak_rss {
            assert!(
                rss <= MAX_RSS_BYTES,
                "{}: peak RSS {} MB (bound {} MB)",
                self.label,
                rss / 1_000_000,
                MAX_RSS_BYTES / 1_000_000
            );
        }
        self
    }
}

fn gnu_time() -> bool {
    let ok = Command::new(GNU_TIME)
        .args(["-f", "%M", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "GNU time ({GNU_TIME}) is required when CI=true (Debian package `time`)"
        );
        eprintln!("peak RSS not measured: GNU time ({GNU_TIME}) not found");
    }
    ok
}

/// Runs `chexlocalize args…` (in `cwd` if given) and measures it.
pub(crate) fn run_in<S: AsRef<OsStr>>(cwd: Option<&Path>, args: &[S]) -> Run {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let run = run_unserialised(cwd, args);
    drop(guard);
    eprintln!(
        "{}: exit {:?}, {:.2} s, peak RSS {}",
        run.label,
        run.code,
        run.secs,
        run.peak_rss.map_or("not measured".to_owned(), |b| format!(
            "{} MB",
            b / 1_000_000
        ))
    );
    run
}

/// Runs `chexlocalize args…` and measures it.
pub(crate) fn run<S: AsRef<OsStr>>(args: &[S]) -> Run {
    run_in(None, args)
}

/// Starts `chexlocalize args…` (not measured, not serialised) in its own process group.
pub(crate) fn spawn<S: AsRef<OsStr>>(args: &[S]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("the binary starts")
}

fn run_unserialised<S: AsRef<OsStr>>(cwd: Option<&Path>, args: &[S]) -> Run {
    let bin = env!("CARGO_BIN_EXE_chexlocalize");
    let label = std::iter::once(OsStr::new("chexlocalize"))
        .chain(args.iter().map(AsRef::as_ref))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let rss_file = tempfile::NamedTempFile::new().expect("tmp");
    let measured = gnu_time();
    let mut cmd = if measured {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M", "-o"]).arg(rss_file.path());
        c
    } else {
        Command::new("env")
    };
    // A safety net, not a bound: address space capped at 2.5 GiB (about twice the RSS bound) (prlimit execs the binary, so
    // GNU time still measures it), so that a runaway child fails here instead of taking the
    // shared machine's memory.
    if Path::new(PRLIMIT).exists() {
        cmd.args([PRLIMIT, "--as=2684354560", "--"]);
    }
    cmd.arg(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the binary starts");
    let pgid = child.id();
    let pipe = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut v);
            }
            v
        })
    };
    let out = pipe(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = pipe(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > HARD_KILL {
            kill_group(pgid);
            let _ = child.wait();
            panic!("{label}: still running after {HARD_KILL:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned();
    let peak_rss = measured.then(|| {
        let t = std::fs::read_to_string(rss_file.path()).unwrap_or_default();
        // GNU time puts "Command exited with non-zero status N" (or "terminated by signal")
        // before the format's line.
        t.lines()
            .last()
            .and_then(|l| l.trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .unwrap_or_else(|| panic!("{label}: no %M from GNU time in {t:?}"))
    });
    let mut code = status.code();
    // Under GNU time a child killed by signal N shows as exit code 128 + N.
    if measured && code.is_some_and(|c| c > 128) {
        let t = std::fs::read_to_string(rss_file.path()).unwrap_or_default();
        if t.contains("terminated by signal") {
            code = None;
        }
    }
    Run {
        label,
        code,
        stdout,
        stderr,
        secs,
        peak_rss,
    }
}

/// Sends SIGKILL to process group `pgid` (the `kill` command: no `unsafe`).
pub(crate) fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status();
}

/// The committed fixtures (`fixtures/` at the workspace root).
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// `p` as an argument.
pub(crate) fn os(p: &Path) -> OsString {
    p.as_os_str().to_owned()
}

/// The entries of `dir` (none when it does not exist), hidden ones included, sorted.
pub(crate) fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Writes `bytes` to `path`, creating its folder.
pub(crate) fn put(path: &Path, bytes: impl AsRef<[u8]>) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).expect("mkdir");
    }
    std::fs::write(path, bytes).expect("write");
}

/// Copies the fixtures' 80 heatmaps into `dir`.
pub(crate) fn copy_fixture_maps(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for e in std::fs::read_dir(fixtures().join("gradcam_maps_val")).expect("list") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
    }
}
