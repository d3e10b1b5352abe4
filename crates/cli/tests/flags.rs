//! Numeric flags out of range are usage errors: exit code 2 at once, a message naming the flag
//! and the bound (nothing read, nothing allocated for the value), and `--help` states the bound.
//! Values at the bounds are accepted (the command then fails on the missing inputs, exit 1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs the binary; the output and how long it took.
fn run(args: &[&str]) -> (Output, Duration) {
    let t = Instant::now();
    let out = bin().args(args).output().expect("the binary runs");
    (out, t.elapsed())
}

/// The text of a `--help` (which must succeed).
fn help(args: &[&str]) -> String {
    let (out, _) = run(args);
    assert_eq!(out.status.code(), Some(0), "{args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Plausible required arguments of each command (the paths need not exist: a bad flag value is
/// refused before any file is opened).
fn command(name: &str) -> Vec<&'static str> {
    match name {
        "tune-heatmap-threshold" | "tune-probability-threshold" => {
            vec!["--map_dir", "no-maps", "--gt_path", "no-gt.json"]
        }
        "heatmap-to-segmentation" => vec!["--map_dir", "no-maps"],
        "annotation-to-segmentation" => vec!["--ann_path", "no-ann.json"],
        "eval" => vec![
            "--metric",
            "iou",
            "--gt_path",
            "no-gt.json",
            "--pred_path",
            "no-pred.json",
        ],
        "calculate-percentage-decrease" => vec![
            "--metric",
            "miou",
            "--hb_bootstrap_results",
            "no-hb.csv",
            "--pred_bootstrap_results",
            "no-pred.csv",
        ],
        "compute-pathology-features" => vec!["--gt_ann", "no-ann.json", "--gt_seg", "no-seg.json"],
        "regression-model-assurance" => vec![
            "--metric",
            "iou",
            "--map_dir",
            "no-maps",
            "--pred_results",
            "no-results.csv",
        ],
        "validate-submission" => vec!["--seg-path", "no-seg.json", "--expected", "no.csv"],
        "report" => vec!["--run-dir", "no-run"],
        "count-segs" => vec!["--seg_path", "no-seg.json"],
        other => panic!("no arguments for {other}"),
    }
}

/// `chexlocalize <cmd> <required args> <flag> <value>` (`--flag=value`, so that negative values
/// reach the flag's parser as clap would pass them with a space too).
fn with_flag(cmd: &str, flag: &str, value: &str) -> Vec<String> {
    let mut v = vec![cmd.to_owned()];
    v.extend(command(cmd).into_iter().map(str::to_owned));
    v.push(format!("{flag}={value}"));
    v
}

/// Exit code 2 within a second, the flag and every needle in the message, no panic.
fn assert_usage_error(args: &[String], flag: &str, needles: &[&str]) {
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, took) = run(&argv);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{argv:?}: {err}");
    assert!(
        err.contains(flag),
        "{argv:?}: flag {flag} not named in: {err}"
    );
    for n in needles {
        assert!(err.contains(n), "{argv:?}: {n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{argv:?}: {err}");
    // A usage error needs no work: generous for a loaded 2-core machine, far below the > 90 s
    // of `--jobs 100000` and the abort of `--grid 0:1:1e-12` before this check existed.
    assert!(took < Duration::from_secs(2), "{argv:?} took {took:?}");
}

/// The bound of each flag, as the messages state it (from the flags' definitions: the issue's
/// choices, and numpy's legacy seed range 0..2^32).
const JOBS: &str = "from 1 to 1024";
const SEED: &str = "from 0 to 4294967295";

#[test]
fn jobs_out_of_range_are_usage_errors_in_every_command() {
    for cmd in [
        "tune-heatmap-threshold",
        "tune-probability-threshold",
        "heatmap-to-segmentation",
        "annotation-to-segmentation",
        "eval",
        "compute-pathology-features",
        "regression-model-assurance",
        "validate-submission",
    ] {
        for bad in [
            "0",
            "1025",
            "100000",
            "-1",
            "18446744073709551616",
            "2.5",
            "many",
        ] {
            assert_usage_error(&with_flag(cmd, "--jobs", bad), "--jobs", &[JOBS]);
        }
    }
}

#[test]
fn grids_out_of_range_are_usage_errors() {
    // (grid, what the message states). Candidate counts from first principles:
    // ceil((stop - start) / step), e.g. 1 / 1e-12 = 1e12.
    let cases: [(&str, &str); 14] = [
        ("0:1:1e-12", "at most 1000 candidates, found 1000000000000"),
        ("0:1e300:1", "at most 1000 candidates, found 1e300"),
        ("-1e308:1e308:1e300", "at most 1000 candidates, found inf"),
        ("0:1:0.0009999", "at most 1000 candidates, found 1001"),
        ("0:1:0", "expected a step > 0, found 0"),
        ("1:0:-0.1", "expected a step > 0, found -0.1"),
        ("0.5:0.5:0.1", "expected start < stop"),
        ("0.8:0.2:0.1", "expected start < stop"),
        ("0:nan:0.1", "expected finite numbers"),
        ("0:inf:0.1", "expected finite numbers"),
        ("0.1,NaN,0.3", "expected finite numbers"),
        ("", "expected finite numbers"),
        ("0:1", "expected start:stop:step or a comma-separated list"),
        ("0:1e-320:1e300", "expected at least one candidate"),
    ];
    for cmd in ["tune-heatmap-threshold", "tune-probability-threshold"] {
        for (grid, needle) in cases {
            assert_usage_error(&with_flag(cmd, "--grid", grid), "--grid", &[needle]);
        }
        let list = vec!["0.5"; 1001].join(",");
        assert_usage_error(
            &with_flag(cmd, "--grid", &list),
            "--grid",
            &["at most 1000 candidates, found 1001"],
        );
    }
}

#[test]
fn other_numeric_flags_out_of_range_are_usage_errors() {
    type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a str);
    let cases: &[Case<'_>] = &[
        ("eval", "--seed", &["4294967296", "-1", "1e3", "x"], SEED),
        (
            "calculate-percentage-decrease",
            "--seed",
            &["4294967296", "-1"],
            SEED,
        ),
        (
            "eval",
            "--replicates",
            &["0", "100001", "-1", "1e3"],
            "from 1 to 100000",
        ),
        (
            "eval",
            "--tolerance-px",
            &["1e12", "-3", "nan", "inf", "1000.5", "wide"],
            "from 0 to 1000",
        ),
        (
            "heatmap-to-segmentation",
            "--k",
            &["4097", "100000", "-1", "1.5"],
            "from 0 to 4096",
        ),
        (
            "report",
            "--overlays-per-task",
            &["101", "1000000000", "-2"],
            "from 0 to 100",
        ),
    ];
    for (cmd, flag, values, bound) in cases {
        for v in *values {
            assert_usage_error(&with_flag(cmd, flag, v), flag, &[bound]);
        }
    }
    // --k 0 means no smoothing, so with --if_smoothing True it is a usage error too.
    let mut args = with_flag("heatmap-to-segmentation", "--if_smoothing", "True");
    args.push("--k=0".into());
    assert_usage_error(&args, "--k 0", &["from 1 to 4096"]);
}

#[test]
fn limit_flags_out_of_range_are_usage_errors() {
    let cases: [(&str, &str); 4] = [
        ("--max-image-pixels", "from 1 to 1099511627776"),
        ("--max-image-side", "from 1 to 2147483647"),
        ("--max-file-bytes", "from 1 to 1099511627776"),
        ("--max-tensor-elements", "from 1 to 1099511627776"),
    ];
    for (flag, bound) in cases {
        for bad in ["0", "-1", "1099511627777", "18446744073709551615", "1e9"] {
            if flag == "--max-image-side" || bad != "1099511627777" {
                assert_usage_error(&with_flag("count-segs", flag, bad), flag, &[bound]);
            }
        }
        // Before the command's name too (the flags are global).
        let args: Vec<String> = [&format!("{flag}=0"), "count-segs", "--seg_path", "x.json"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_usage_error(&args, flag, &[bound]);
    }
    assert_usage_error(
        &with_flag("count-segs", "--max-image-side", "2147483648"),
        "--max-image-side",
        &["from 1 to 2147483647"],
    );
}

#[test]
fn values_at_the_bounds_are_accepted() {
    // Accepted flags: the command runs and fails on its missing input (exit 1, not 2).
    let cases: &[(&str, &str, &str)] = &[
        ("tune-heatmap-threshold", "--jobs", "1"),
        ("tune-heatmap-threshold", "--jobs", "1024"),
        ("tune-heatmap-threshold", "--grid", "0:1:0.001"),
        ("tune-heatmap-threshold", "--grid", "-0.5:0.5:0.5"),
        ("tune-probability-threshold", "--grid", "0.25"),
        ("eval", "--seed", "0"),
        ("eval", "--seed", "4294967295"),
        ("eval", "--tolerance-px", "1000"),
        ("eval", "--replicates", "100000"),
        ("eval", "--ci-level", "0.5"),
        ("eval", "--ci-level", "99.9"),
        ("calculate-percentage-decrease", "--ci-level", "90"),
        ("heatmap-to-segmentation", "--k", "4096"),
        ("count-segs", "--max-image-side", "2147483647"),
        ("count-segs", "--max-file-bytes", "1099511627776"),
        ("count-segs", "--max-tensor-elements", "1"),
    ];
    for (cmd, flag, v) in cases {
        let args = with_flag(cmd, flag, v);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (out, _) = run(&argv);
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {}", stderr(&out));
    }
}

#[test]
fn help_states_the_bounds() {
    let tune = help(&["tune-heatmap-threshold", "--help"]);
    assert!(tune.contains("1 to 1024"), "{tune}");
    assert!(
        tune.contains("1 to 1000") && tune.contains("step > 0"),
        "{tune}"
    );
    let eval = help(&["eval", "--help"]);
    assert!(
        eval.contains("0 to 4294967295") && eval.contains("0 to 1000"),
        "{eval}"
    );
    assert!(help(&["heatmap-to-segmentation", "--help"]).contains("0 to 4096"));
    assert!(help(&["report", "--help"]).contains("0 to 100"));
    let top = help(&["--help"]);
    assert!(
        top.contains("1 to 2^40") && top.contains("1 to 2^31 - 1"),
        "{top}"
    );
}

#[test]
fn many_jobs_on_little_work_finish_quickly() {
    // `--jobs 1024` (the bound) on 30 small maps: no more threads than maps are started. Before
    // the bound, `--jobs 100000` took over 90 s on the 2-CXR sample.
    let dir = tempfile::tempdir().expect("tmp");
    let gt = dir.path().join("gt.json");
    let (out, _) = run(&[
        "annotation-to-segmentation",
        "--ann_path",
        s(&fixtures().join("gt_annotations_val.json")),
        "--output_path",
        s(&gt),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let maps = fixtures().join("gradcam_maps_val");
    let (normal, normal_took) = run(&[
        "tune-heatmap-threshold",
        "--map_dir",
        s(&maps),
        "--gt_path",
        s(&gt),
        "--save_dir",
        s(&dir.path().join("a")),
        "--jobs",
        "1",
    ]);
    assert_eq!(normal.status.code(), Some(0), "{}", stderr(&normal));
    let (many, many_took) = run(&[
        "tune-heatmap-threshold",
        "--map_dir",
        s(&maps),
        "--gt_path",
        s(&gt),
        "--save_dir",
        s(&dir.path().join("b")),
        "--jobs",
        "1024",
    ]);
    assert_eq!(many.status.code(), Some(0), "{}", stderr(&many));
    assert!(
        many_took < normal_took * 3 + Duration::from_secs(2),
        "--jobs 1024: {many_took:?}, --jobs 1: {normal_took:?}"
    );
    let read = |d: &str| std::fs::read(dir.path().join(d).join("tuning_results.csv")).expect("csv");
    assert_eq!(
        read("a"),
        read("b"),
        "the same thresholds whatever the threads"
    );
}

#[test]
fn every_help_lists_the_limits_apart_after_the_command_s_own_options() {
    // The `--max-*` flags are global: without a heading of their own clap interleaves them with
    // each command's options.
    let top = help(&["--help"]);
    let commands: Vec<String> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect();
    assert!(commands.len() >= 10, "{top}");
    for c in &commands {
        let text = help(&[c, "--help"]);
        let heading = text
            .find("\nLimits on input files")
            .unwrap_or_else(|| panic!("{c}: no limits heading\n{text}"));
        let own = text.find("-h, --help").expect("the help flag");
        assert!(own < heading, "{c}: its own options come first\n{text}");
        for flag in [
            "--max-image-pixels",
            "--max-image-side",
            "--max-file-bytes",
            "--max-tensor-elements",
            "--max-json-values",
        ] {
            let at = text.find(flag).unwrap_or_else(|| panic!("{c}: no {flag}"));
            assert!(
                at > heading,
                "{c}: {flag} before the limits heading\n{text}"
            );
        }
    }
}
