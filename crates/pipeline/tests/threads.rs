//! The pipeline called from 8 threads at once, each with its own options: every call gets its
//! own result (no process-global state leaks one call's limits or seed into another's).

use std::path::{Path, PathBuf};
use std::sync::Barrier;

use chexlocalize::{
    AnnotationsToSegmentations, Bootstrap, Error, Evaluate, Limits, Metric, Options, PolygonFill,
    Predictor, Scoring, evaluate,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Options whose image limit the fixtures' CXRs (at least 97 x 131 pixels) pass or not.
fn options(small_images_only: bool) -> Options {
    let mut limits = Limits::BUILTIN;
    if small_images_only {
        limits.max_image_pixels = 1000;
    }
    Options {
        limits,
        jobs: Some(1),
        ..Options::default()
    }
}

fn masks(out: &Path, options: &Options) -> chexlocalize::Result<Vec<u8>> {
    let path = out.join("gt.json");
    chexlocalize::annotations_to_segmentations(
        &AnnotationsToSegmentations {
            ann_path: fixtures().join("gt_annotations_val.json"),
            output_path: path.clone(),
            fill_rule: PolygonFill::Pillow,
        },
        options,
    )?;
    Ok(std::fs::read(path).expect("written"))
}

#[test]
fn eight_threads_with_different_limits_each_get_their_own_result() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The answer of each kind of call, made alone first.
    let alone = masks(tmp.path(), &options(false)).expect("the fixtures pass the built-in limits");
    let refused = masks(tmp.path(), &options(true)).expect_err("1000 pixels is too few");
    assert!(
        matches!(refused, Error::Io(_)),
        "a limit is an input error: {refused:?}"
    );
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let dir = tmp.path().join(format!("t{i}"));
                std::fs::create_dir_all(&dir).expect("dir");
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    // Several rounds, so that the calls of the two kinds interleave.
                    (0..5)
                        .map(|_| masks(&dir, &options(i % 2 == 1)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            for r in h.join().expect("no panic") {
                match (i % 2, r) {
                    (0, Ok(bytes)) => assert!(bytes == alone, "thread {i}: other masks"),
                    (1, Err(e)) => {
                        let text = chexlocalize::chain_text(&e);
                        assert!(text.contains("gt_annotations_val.json"), "{text}");
                        assert!(text.contains("1000"), "names the limit: {text}");
                    }
                    (_, r) => panic!("thread {i}: the other thread's limits leaked: {r:?}"),
                }
            }
        }
    });
}

#[test]
fn eight_threads_with_different_seeds_each_get_their_own_bootstrap() {
    let tmp = tempfile::tempdir().expect("tmp");
    let [gt, hb] = ["gt", "hb"].map(|who| {
        let out = tmp.path().join(format!("{who}.json"));
        chexlocalize::annotations_to_segmentations(
            &AnnotationsToSegmentations {
                ann_path: fixtures().join(format!("{who}_annotations_val.json")),
                output_path: out.clone(),
                fill_rule: PolygonFill::Pillow,
            },
            &Options::default(),
        )
        .expect("masks");
        out
    });
    let eval = |seed: u32, dir: &Path| {
        let e = evaluate(
            &Evaluate {
                metric: Metric::Iou(Scoring::All),
                gt_path: gt.clone(),
                pred_path: hb.clone(),
                predictor: Predictor::HumanBenchmark,
                save_dir: dir.to_path_buf(),
                bootstrap: Bootstrap {
                    seed,
                    ..Bootstrap::default()
                },
            },
            &Options::default(),
        )
        .expect("evaluate");
        std::fs::read(dir.join("iou_humanbenchmark_bootstrap_results_per_cxr.csv"))
            .map(|b| (e.summary, b))
    };
    // Alone: seeds 0 and 1 give different replicates (the bootstrap draws other CXRs).
    let (_, b0) = eval(0, &tmp.path().join("a0")).expect("read");
    let (_, b1) = eval(1, &tmp.path().join("a1")).expect("read");
    assert_ne!(b0, b1);
    let barrier = Barrier::new(8);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..8u32)
            .map(|i| {
                let dir = tmp.path().join(format!("t{i}"));
                let barrier = &barrier;
                let eval = &eval;
                s.spawn(move || {
                    barrier.wait();
                    eval(i % 2, &dir).expect("read")
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            let (_, bytes) = h.join().expect("no panic");
            let want = if i % 2 == 0 { &b0 } else { &b1 };
            assert!(&bytes == want, "thread {i} got another seed's draws");
        }
    });
}
