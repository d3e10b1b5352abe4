//! The reference's own command lines, run by our binary: every `python <script>.py ...` line of
//! the sample's `reference/README.md` becomes `chexlocalize <script> ...` (the scripts' names and
//! snake_case flags are accepted as they are), with its output redirected to a temporary
//! folder; every file the script wrote must be identical to ours. This is what the command line
//! adds to `cargo xtask conformance` (which checks the stages themselves): that the scripts'
//! flags mean the same here. The sample is read in place from `../shared`; without it the test
//! is skipped, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `(script, arguments)` of every command line of the README.
fn reference_commands(sample: &Path) -> Vec<(String, Vec<String>)> {
    let readme = std::fs::read_to_string(sample.join("reference/README.md")).expect("README");
    readme
        .lines()
        .filter_map(|l| l.trim().strip_prefix("python "))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_owned);
            let script = words.next().expect("a script");
            let name = script.strip_suffix(".py").expect("a .py script").to_owned();
            (name, words.collect())
        })
        .collect()
}

/// Replaces the value of the output flag (`--save_dir` or `--output_path`) with a path under
/// `out`; returns the reference's output (a file or a folder, relative to the sample) and ours.
fn redirect(args: &mut [String], out: &Path) -> (String, PathBuf) {
    let at = args
        .iter()
        .position(|a| a == "--save_dir" || a == "--output_path")
        .expect("an output flag");
    let reference = args[at + 1].clone();
    let ours = out.join(reference.replace('/', "_"));
    args[at + 1] = ours.to_string_lossy().into_owned();
    (reference, ours)
}

#[test]
fn the_reference_command_lines_give_the_reference_files() {
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let out = tempfile::tempdir().expect("tmp");
    let commands = reference_commands(&sample);
    assert!(
        commands.len() >= 20,
        "{} commands in the README",
        commands.len()
    );
    let mut compared = 0;
    for (script, mut args) in commands {
        let (reference, ours) = redirect(&mut args, out.path());
        let run = Command::new(env!("CARGO_BIN_EXE_chexlocalize"))
            .arg(&script)
            .args(&args)
            .current_dir(&sample)
            .output()
            .expect("the binary runs");
        assert!(
            run.status.success(),
            "{script} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&run.stderr)
        );
        let reference = sample.join(&reference);
        let pairs: Vec<(PathBuf, PathBuf)> = if reference.is_dir() {
            // The reference folder may be shared by two commands (pct_decrease): compare the
            // files this one wrote.
            std::fs::read_dir(&ours)
                .expect("our folder")
                .map(|e| {
                    let name = e.expect("entry").file_name();
                    (reference.join(&name), ours.join(&name))
                })
                .collect()
        } else {
            vec![(reference, ours)]
        };
        for (theirs, mine) in pairs {
            let want =
                std::fs::read(&theirs).unwrap_or_else(|e| panic!("{}: {e}", theirs.display()));
            let got = std::fs::read(&mine).unwrap_or_else(|e| panic!("{}: {e}", mine.display()));
            // heatmap_to_segmentation.py writes each CXR's tasks in the order its folder listing
            // gave the files, which the file system decides: JSON is compared as values (the
            // same masks under the same keys), everything else byte for byte.
            let same = if mine.extension().is_some_and(|e| e == "json") {
                let parse =
                    |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b).expect("JSON");
                parse(&want) == parse(&got)
            } else {
                want == got
            };
            assert!(
                same,
                "{script}: {} differs from the reference's",
                mine.display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared} files compared");
}
