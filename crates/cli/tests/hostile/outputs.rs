//! Outputs: links and FIFOs kept, multi-file outputs all or none, concurrent runs never mixed,
//! stale temporaries of a killed run harmless.

use std::ffi::OsString;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::Mini;
use crate::harness::{self, files_in, fixtures, os, put, run};
use chexlocalize_testkit::hostile::CXR;

fn args(items: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    items.iter().map(|x| x.as_ref().to_owned()).collect()
}

/// Table row: `--output_path` a symbolic link to a file (was: replaced by a regular file). The
/// link stays a link to the same file, which gets the new content.
#[test]
fn output_path_symlink_stays_a_link() {
    let m = Mini::new(None);
    let target = m.path("target.json");
    put(&target, "old");
    let link = m.path("link.json");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let mut a = m.args("heatmap-to-segmentation");
    a[4] = os(&link);
    run(&a).succeeds();
    let meta = std::fs::symlink_metadata(&link).expect("link");
    assert!(meta.file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_link(&link).expect("link"), target);
    let text = std::fs::read_to_string(&target).expect("target");
    assert!(
        text.contains(CXR),
        "the target did not get the output: {text}"
    );
}

/// Table row: `--output_path` a FIFO (was: replaced by rename). The output is written through
/// it (read here from a thread) and the FIFO stays.
#[test]
fn output_path_fifo_is_written_through() {
    let m = Mini::new(None);
    let fifo = m.path("out.fifo");
    chexlocalize_testkit::hostile::mkfifo(&fifo).expect("mkfifo");
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    // Opening for reading blocks until a writer opens it; if the command never does, this
    // thread stays blocked and is abandoned (the channel times out below).
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read(reader_path));
    });
    std::thread::sleep(Duration::from_millis(100));
    let mut a = m.args("heatmap-to-segmentation");
    a[4] = os(&fifo);
    let r = run(&a);
    let got = rx.recv_timeout(Duration::from_secs(2));
    r.succeeds();
    let meta = std::fs::symlink_metadata(&fifo).expect("fifo");
    assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
    let bytes = got.expect("nothing was written to the FIFO").expect("read");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(CXR), "FIFO got {text:?}");
}

/// The fixtures' pipeline, built once: ground truth and predicted segmentations, eval results
/// (IoU, hit/miss) and pathology features, in `$CARGO_TARGET_TMPDIR/hostile-pipeline`.
struct Pipeline {
    gt_seg: PathBuf,
    pred_seg: PathBuf,
    iou: PathBuf,
    hit: PathBuf,
    feats: PathBuf,
}

fn pipeline() -> &'static Pipeline {
    static P: OnceLock<Pipeline> = OnceLock::new();
    P.get_or_init(|| {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-pipeline");
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("mkdir");
        let p = Pipeline {
            gt_seg: d.join("gt_seg.json"),
            pred_seg: d.join("pred_seg.json"),
            iou: d.join("iou"),
            hit: d.join("hit"),
            feats: d.join("feats"),
        };
        let f = fixtures();
        let ann = f.join("gt_annotations_val.json");
        let maps = f.join("gradcam_maps_val");
        let steps: Vec<Vec<&dyn AsRef<std::ffi::OsStr>>> = vec![
            vec![
                &"annotation-to-segmentation",
                &"--ann_path",
                &ann,
                &"--output_path",
                &p.gt_seg,
            ],
            vec![
                &"heatmap-to-segmentation",
                &"--map_dir",
                &maps,
                &"--output_path",
                &p.pred_seg,
            ],
            vec![
                &"eval",
                &"--metric",
                &"iou",
                &"--gt_path",
                &p.gt_seg,
                &"--pred_path",
                &p.pred_seg,
                &"--save_dir",
                &p.iou,
            ],
            vec![
                &"eval",
                &"--metric",
                &"hitmiss",
                &"--gt_path",
                &p.gt_seg,
                &"--pred_path",
                &maps,
                &"--save_dir",
                &p.hit,
            ],
            vec![
                &"compute-pathology-features",
                &"--gt_ann",
                &ann,
                &"--gt_seg",
                &p.gt_seg,
                &"--save_dir",
                &p.feats,
            ],
        ];
        for s in steps {
            let r = run(&args(&s));
            assert_eq!(r.code, Some(0), "pipeline step {}\n{}", r.label, r.text());
        }
        p
    })
}

/// Runs a command whose output `blocked` (in `save`) cannot be written (a folder is in the
/// way), `save` also holding an older `kept` output: exit 1 naming `blocked`, and nothing new
/// appears, the older file untouched.
fn all_or_none(command: Vec<OsString>, save: &Path, blocked: &str, kept: &str) {
    std::fs::create_dir_all(save.join(blocked)).expect("mkdir");
    put(&save.join(kept), "older output\n");
    run(&command).fails_naming(&[blocked]);
    assert_eq!(files_in(save), {
        let mut v = vec![blocked.to_owned(), kept.to_owned()];
        v.sort();
        v
    });
    assert_eq!(
        std::fs::read_to_string(save.join(kept)).expect("kept"),
        "older output\n"
    );
}

/// Also seen: a failure left 3 of 4 feature CSVs.
#[test]
fn features_outputs_all_or_none() {
    let p = pipeline();
    let dir = tempfile::tempdir().expect("tmp");
    let ann = fixtures().join("gt_annotations_val.json");
    let save = dir.path().join("feats");
    let c = args(&[
        &"compute-pathology-features",
        &"--gt_ann",
        &ann,
        &"--gt_seg",
        &p.gt_seg,
        &"--save_dir",
        &save,
    ]);
    all_or_none(c, &save, "rec_area_ratio.csv", "num_instances.csv");
}

/// Also seen: a failure left 3 of 4 plots.
#[test]
fn plots_all_or_none() {
    let p = pipeline();
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("plots");
    let c = args(&[
        &"plot-pathology-features",
        &"--features_dir",
        &p.feats,
        &"--save_dir",
        &save,
    ]);
    all_or_none(c, &save, "irrectangularity_dist.png", "n_instance_dist.png");
}

/// Also seen: a failure left 1 of 2 regression files.
#[test]
fn regressions_all_or_none() {
    let p = pipeline();
    let dir = tempfile::tempdir().expect("tmp");
    let save = dir.path().join("reg");
    let iou = p.iou.join("iou_results_per_cxr.csv");
    let hit = p.hit.join("hitmiss_results_per_cxr.csv");
    let c = args(&[
        &"regression-pathology-features",
        &"--features_dir",
        &p.feats,
        &"--pred_iou_results",
        &iou,
        &"--pred_hitmiss_results",
        &hit,
        &"--save_dir",
        &save,
    ]);
    all_or_none(
        c,
        &save,
        "regression_features_pred_hitmiss.csv",
        "regression_features_pred_iou.csv",
    );
}

fn eval_iou(pred: &Path, save: &Path) -> Vec<OsString> {
    let p = pipeline();
    args(&[
        &"eval",
        &"--metric",
        &"iou",
        &"--gt_path",
        &p.gt_seg,
        &"--pred_path",
        &pred,
        &"--save_dir",
        &save,
    ])
}

/// The files of `dir` with their contents.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    files_in(dir)
        .into_iter()
        .map(|n| {
            let b = std::fs::read(dir.join(&n)).unwrap_or_default();
            (n, b)
        })
        .collect()
}

/// Also seen: two concurrent `eval` runs into one `--save_dir` left a mix of both. Afterwards the
/// folder holds exactly one run's files (or one run was refused, naming the folder).
#[test]
fn concurrent_eval_runs_never_mix() {
    let p = pipeline();
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    run(&eval_iou(&p.pred_seg, &a)).succeeds();
    run(&eval_iou(&p.gt_seg, &b)).succeeds();
    let (sa, sb) = (snapshot(&a), snapshot(&b));
    assert_ne!(
        sa, sb,
        "the two runs must differ for the test to mean anything"
    );
    for round in 0..3 {
        let both = dir.path().join(format!("both{round}"));
        let mut ca = harness::spawn(&eval_iou(&p.pred_seg, &both));
        let mut cb = harness::spawn(&eval_iou(&p.gt_seg, &both));
        let start = Instant::now();
        let mut codes = Vec::new();
        for c in [&mut ca, &mut cb] {
            loop {
                if let Some(s) = c.try_wait().expect("wait") {
                    codes.push(s.code());
                    break;
                }
                if start.elapsed() > harness::HARD_KILL {
                    harness::kill_group(c.id());
                    panic!(
                        "concurrent eval still running after {:?}",
                        harness::HARD_KILL
                    );
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let got: Vec<_> = snapshot(&both)
            .into_iter()
            .filter(|(n, _)| !n.starts_with('.'))
            .collect();
        let ok = |s: &[(String, Vec<u8>)]| got == s;
        assert!(
            codes.iter().all(|c| matches!(c, Some(0 | 1))) && codes.contains(&Some(0)),
            "exit codes {codes:?}"
        );
        assert!(
            ok(&sa) || ok(&sb),
            "round {round}: the folder mixes both runs (exit codes {codes:?}): {:?}",
            got.iter().map(|(n, b)| (n, b.len())).collect::<Vec<_>>()
        );
    }
}

/// Also seen: temporaries of a SIGKILLed run stayed behind. The next run into the folder
/// succeeds, and leaves exactly its outputs (stale temporaries removed, or ignored: hidden).
#[test]
fn stale_temporaries_after_sigkill_are_harmless() {
    let p = pipeline();
    let dir = tempfile::tempdir().expect("tmp");
    let reference = dir.path().join("reference");
    let t0 = Instant::now();
    run(&eval_iou(&p.pred_seg, &reference)).succeeds();
    let normal = t0.elapsed();
    let save = dir.path().join("save");
    // Kill runs at several points of a normal run's duration.
    for frac in [0.5, 0.8, 0.95] {
        let child = harness::spawn(&eval_iou(&p.pred_seg, &save));
        std::thread::sleep(normal.mul_f64(frac));
        harness::kill_group(child.id());
        let mut child = child;
        let _ = child.wait();
    }
    // And what a run killed between staging and renaming leaves (the names current and
    // plausible writers use).
    put(&save.join(".chexlocalize-stale.tmp"), "partial");
    put(&save.join(".iou_results_per_cxr.csv.tmp"), "partial");
    run(&eval_iou(&p.pred_seg, &save)).succeeds();
    let visible: Vec<_> = snapshot(&save)
        .into_iter()
        .filter(|(n, _)| !n.starts_with('.'))
        .collect();
    assert_eq!(visible, snapshot(&reference), "outputs after a killed run");
    let hidden: Vec<_> = files_in(&save)
        .into_iter()
        .filter(|n| n.starts_with('.'))
        .collect();
    eprintln!("left after the killed runs (hidden, ignored): {hidden:?}");
}
