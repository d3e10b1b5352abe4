//! Replays the committed fuzz seeds and crash regressions (`fuzz/seeds/<target>/`,
//! `fuzz/regressions/<target>/`) through the target bodies: none may panic, take 2 s or more,
//! or raise the process's peak memory over 1 GiB — the limits the fuzzer runs with
//! (`-timeout=2 -rss_limit_mb=1024`), so an input that is slow or big fails here too.
//!
//! A new finding goes to `regressions/<target>/` with the fix that makes it pass.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Per-input time bound (the fuzzer's `-timeout=2`).
const MAX_TIME: Duration = Duration::from_secs(2);
/// Peak resident memory of the test process, in KiB (the fuzzer's `-rss_limit_mb=1024`).
const MAX_PEAK_KIB: u64 = 1024 * 1024;

/// The process's peak resident set (`VmHWM`), in KiB, where /proc tells it.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries.map(|e| e.expect("list").path()).collect();
    out.sort();
    out
}

/// Runs `body` on `bytes` (read from `p`), panicking when it takes [`MAX_TIME`] or more or the
/// peak memory passes [`MAX_PEAK_KIB`].
fn run_bounded(p: &Path, body: fn(&[u8]), bytes: &[u8]) {
    let start = Instant::now();
    body(bytes);
    let took = start.elapsed();
    assert!(
        took < MAX_TIME,
        "{}: {took:?}, over the {MAX_TIME:?} bound",
        p.display()
    );
    if let Some(peak) = peak_rss_kib() {
        assert!(
            peak <= MAX_PEAK_KIB,
            "{}: peak RSS {peak} KiB, over {MAX_PEAK_KIB} KiB",
            p.display()
        );
    }
}

/// Runs every input of `kinds` through its target, checking the time and memory bounds.
fn replay(kinds: &[&str]) -> usize {
    let mut replayed = 0;
    for (name, body) in chexlocalize_fuzzing::TARGETS {
        for kind in kinds {
            for p in files(kind, name) {
                let bytes = std::fs::read(&p).expect("read");
                run_bounded(&p, *body, &bytes);
                replayed += 1;
            }
        }
    }
    replayed
}

#[test]
fn seeds_and_regressions_replay_within_bounds() {
    for (name, _) in chexlocalize_fuzzing::TARGETS {
        assert!(
            !files("seeds", name).is_empty(),
            "no seeds for fuzz target {name}"
        );
    }
    let n = replay(&["seeds", "regressions"]);
    eprintln!("{n} inputs replayed");
}

#[test]
fn a_slow_input_fails_the_replay() {
    fn slow(_: &[u8]) {
        std::thread::sleep(MAX_TIME + Duration::from_millis(20));
    }
    fn fast(_: &[u8]) {}
    run_bounded(Path::new("fast"), fast, b"");
    let r = std::panic::catch_unwind(|| run_bounded(Path::new("slow"), slow, b""));
    assert!(r.is_err(), "a 2 s input passed the time bound");
    assert!(peak_rss_kib().is_some_and(|k| k > 0 && k <= MAX_PEAK_KIB));
}
