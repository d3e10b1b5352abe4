//! The largest inputs the default limits let through, each run by the commands that read it:
//! the bound of issue 17 that one heatmap or one submission costs at most about 1 GB with the
//! default limits (here, like every case, ≤ 1.2 GB peak RSS and ≤ 5 s), and that one value past
//! a limit is a clear error naming it.

use chexlocalize_testkit::hostile::{self, CXR, MAX_SIDE};

use super::Mini;
use crate::harness::{os, put, run};

/// A 2 048 x 2 048 map (the tensor limit) on a 5 792 x 5 792 CXR (the pixel limit), Otsu and
/// smoothed: the heaviest heatmap the defaults accept.
#[test]
fn largest_heatmap_within_the_defaults() {
    let m = Mini::new(Some((
        hostile::map_name(CXR, "Edema"),
        hostile::largest_heatmap("Edema"),
    )));
    for extra in [&[][..], &["--if_smoothing", "True", "--k", "5"][..]] {
        let mut a = m.args("heatmap-to-segmentation");
        a.extend(extra.iter().map(Into::into));
        run(&a).succeeds();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(m.path("out.json")).expect("out")).expect("json");
        assert_eq!(
            v[CXR]["Edema"]["size"],
            serde_json::json!([MAX_SIDE, MAX_SIDE])
        );
    }
}

/// A segmentation file just under the 64 MiB file limit whose ten masks hold 6.3 million runs
/// each, read once by count-segs, twice by eval and three times by precision-recall-specificity.
#[test]
fn largest_segmentation_files_within_the_defaults() {
    let dir = tempfile::tempdir().expect("tmp");
    let seg = dir.path().join("seg.json");
    let text = hostile::largest_segmentations(CXR, 6_300_000);
    assert!(
        text.len() > 60 << 20 && text.len() < 64 << 20,
        "{}",
        text.len()
    );
    put(&seg, text);
    let out = |name: &str| os(&dir.path().join(name));
    run(&[
        "count-segs".into(),
        "--seg_path".into(),
        os(&seg),
        "--save_dir".into(),
        out("count"),
    ])
    .succeeds();
    run(&[
        "eval".into(),
        "--metric".into(),
        "iou".into(),
        "--gt_path".into(),
        os(&seg),
        "--pred_path".into(),
        os(&seg),
        "--save_dir".into(),
        out("eval"),
    ])
    .succeeds();
    run(&[
        "precision-recall-specificity".into(),
        "--gt_path".into(),
        os(&seg),
        "--pred_seg_path".into(),
        os(&seg),
        "--hb_seg_path".into(),
        os(&seg),
        "--save_dir".into(),
        out("prs"),
    ])
    .succeeds();
}

/// A JSON document of 2^23 values (the default --max-json-values) is parsed (and then refused
/// for its shape); one value more is refused by the limit, naming it, before the tree grows.
#[test]
fn json_documents_at_the_value_limit() {
    let dir = tempfile::tempdir().expect("tmp");
    for (values, needles) in [
        (1usize << 23, &["CXR a", "expected an object"][..]),
        ((1 << 23) + 1, &["max-json-values", "8388608"][..]),
    ] {
        let seg = dir.path().join("seg.json");
        put(&seg, hostile::json_values(values));
        run(&[
            "count-segs".into(),
            "--seg_path".into(),
            os(&seg),
            "--save_dir".into(),
            os(&dir.path().join("out")),
        ])
        .fails_naming(needles);
    }
}
