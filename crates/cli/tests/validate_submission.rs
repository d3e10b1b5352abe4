//! `validate-submission` end to end: it lists every problem of a deliberately broken submission
//! made from the fixtures, and accepts the original repository's sample.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use chexlocalize_io::Limits;
use common::{fixtures, run, s, stderr};
use serde_json::{Value as Json, json};

/// Makes a submission from the fixtures' first 8 CXRs (patient90001-90008, the hard cases;
/// heatmap-to-segmentation on their 80 maps), with the expected list as a CheXpert-style CSV whose
/// sizes come from the fixture images.
fn fixture_submission(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let maps = dir.join("maps");
    std::fs::create_dir(&maps).expect("mkdir");
    for e in std::fs::read_dir(fixtures().join("gradcam_maps_val")).expect("list") {
        let p = e.expect("entry").path();
        let name = p.file_name().expect("name");
        let first_8 = |i| {
            name.to_string_lossy()
                .starts_with(&format!("patient9000{i}_"))
        };
        if (1..=8).any(first_8) {
            std::fs::copy(&p, maps.join(name)).expect("copy");
        }
    }
    let seg = dir.join("submission.json");
    let res = run(&[
        "heatmap-to-segmentation",
        "--map_dir",
        s(&maps),
        "--output_path",
        s(&seg),
    ]);
    assert_eq!(res.status.code(), Some(0), "{}", stderr(&res));
    let csv = dir.join("valid.csv");
    let mut text = String::from("Path,Sex,Age\n");
    for i in 1..=8 {
        text.push_str(&format!(
            "CheXpert-v1.0/valid/patient9000{i}/study1/view1_frontal.jpg,Female,50\n"
        ));
    }
    std::fs::write(&csv, text).expect("write");
    (seg, maps, csv)
}

fn validate(seg: &Path, maps: &Path, csv: &Path, format: &str) -> Output {
    run(&[
        "validate-submission",
        "--seg-path",
        s(seg),
        "--map-dir",
        s(maps),
        "--expected",
        s(csv),
        "--images-root",
        s(&fixtures()),
        "--format",
        format,
    ])
}

#[test]
fn validate_submission_finds_every_problem_of_a_broken_submission() {
    let dir = tempfile::tempdir().expect("tmp");
    let (seg, maps, csv) = fixture_submission(dir.path());
    let ok = validate(&seg, &maps, &csv, "text");
    let text = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{text}{}", stderr(&ok));
    assert_eq!(
        text,
        "OK: 8 CXRs expected; segmentations: 8 CXRs, 80 masks; heatmaps: 80 files; no problems\n"
    );

    // Break the segmentation JSON, one problem of each kind.
    let mut v: Json =
        serde_json::from_str(&std::fs::read_to_string(&seg).expect("read")).expect("json");
    let top = v.as_object_mut().expect("object");
    let p = |i: u32| format!("patient9000{i}_study1_view1_frontal");
    top.remove(&p(2)).expect("missing CXR");
    top.insert(
        "patient99999_study1_view1_frontal".into(),
        json!({"Edema": {"size": [2, 3], "counts": "06"}}),
    );
    let cxr = |top: &mut serde_json::Map<String, Json>, i| {
        top.get_mut(&p(i))
            .and_then(Json::as_object_mut)
            .expect("cxr")
            .clone()
    };
    // 3: Edema under an unknown name.
    let mut c3 = cxr(top, 3);
    let edema = c3.remove("Edema").expect("edema");
    c3.insert("Pneumonia".into(), edema);
    top.insert(p(3), Json::Object(c3));
    // 4: both "Lung Opacity" and "Airspace Opacity"; 5: "Lung Opacity" alone is fine.
    let mut c4 = cxr(top, 4);
    let ao = c4.get("Airspace Opacity").cloned().expect("ao");
    c4.insert("Lung Opacity".into(), ao);
    top.insert(p(4), Json::Object(c4));
    let mut c5 = cxr(top, 5);
    let ao = c5.remove("Airspace Opacity").expect("ao");
    c5.insert("Lung Opacity".into(), ao);
    top.insert(p(5), Json::Object(c5));
    // 6: a mask of the wrong size (an empty 2x3 mask); 7: corrupt RLE; 8: a huge size.
    let mut c6 = cxr(top, 6);
    c6.insert(
        "Cardiomegaly".into(),
        json!({"size": [2, 3], "counts": "6"}),
    );
    top.insert(p(6), Json::Object(c6));
    let mut c7 = cxr(top, 7);
    c7.insert(
        "Consolidation".into(),
        json!({"size": [2, 3], "counts": "0~"}),
    );
    top.insert(p(7), Json::Object(c7));
    let mut c8 = cxr(top, 8);
    c8.insert(
        "Lung Lesion".into(),
        json!({"size": [100000, 100000], "counts": "0"}),
    );
    top.insert(p(8), Json::Object(c8));
    std::fs::write(&seg, v.to_string()).expect("write");

    // Break the heatmap folder.
    let map = |i: u32, task: &str| maps.join(format!("{}_{task}_map.pkl", p(i)));
    std::fs::remove_file(map(1, "Edema")).expect("missing heatmap");
    let bytes = std::fs::read(map(1, "Atelectasis")).expect("read");
    std::fs::write(map(1, "Atelectasis"), &bytes[..bytes.len() / 2]).expect("truncated");
    std::fs::write(
        map(1, "Cardiomegaly"),
        b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
    )
    .expect("evil");
    std::fs::copy(
        map(3, "Edema"),
        maps.join("patient99999_study1_view1_frontal_Edema_map.pkl"),
    )
    .expect("extra");
    std::fs::rename(map(4, "Edema"), map(4, "Pneumonia")).expect("unknown task");
    let mut rec =
        chexlocalize_io::read_heatmap(&map(5, "Edema"), &Limits::default()).expect("read");
    rec.cxr_dims = (rec.cxr_dims.0 + 1, rec.cxr_dims.1);
    chexlocalize_io::write_heatmap(&map(5, "Edema"), &rec, 2).expect("wrong dims");
    let rec = chexlocalize_io::read_heatmap(&map(6, "Edema"), &Limits::default()).expect("read");
    chexlocalize_io::write_npy_heatmap(&maps.join(format!("{}_Edema_map.npy", p(6))), &rec)
        .expect("duplicate");

    let out = validate(&seg, &maps, &csv, "text");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    eprintln!("{text}"); // shown with --nocapture
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr(&out));
    let seg_s = s(&seg);
    let maps_s = s(&maps);
    let expected_lines = [
        format!(
            "{seg_s}: CXR {}: missing_cxr: no masks for this CXR (expected 10)",
            p(2)
        ),
        format!(
            "{seg_s}: CXR patient99999_study1_view1_frontal: extra_cxr: not in the expected list"
        ),
        format!(
            "{seg_s}: CXR {}, task Pneumonia: unknown_task: not one of the 10 CheXlocalize tasks",
            p(3)
        ),
        format!("{seg_s}: CXR {}, task Edema: missing_task: no mask", p(3)),
        format!(
            "{seg_s}: CXR {}, task Airspace Opacity: duplicate_task: two masks for one task: \"Airspace Opacity\" and \"Lung Opacity\"",
            p(4)
        ),
        format!(
            "{seg_s}: CXR {}, task Cardiomegaly: size_mismatch: mask is 2x3 (h x w), the image is",
            p(6)
        ),
        format!(
            "{seg_s}: CXR {}, task Consolidation: corrupt_rle: corrupt RLE: counts string: byte 0x7e at offset 1",
            p(7)
        ),
        format!(
            "{seg_s}: CXR {}, task Lung Lesion: over_limit: size: an image of 100000 x 100000 pixels (h x w) is over the limit",
            p(8)
        ),
        format!(
            "{maps_s}: CXR {}, task Edema: missing_heatmap: no heatmap for this CXR and task",
            p(1)
        ),
        format!(
            "{}: CXR {}, task Atelectasis: unreadable_heatmap: not a CheXlocalize heatmap pickle",
            s(&map(1, "Atelectasis")),
            p(1)
        ),
        format!(
            "{}: CXR {}, task Cardiomegaly: unreadable_heatmap: not a CheXlocalize heatmap pickle: pickle: refused global os.system",
            s(&map(1, "Cardiomegaly")),
            p(1)
        ),
        format!(
            "{maps_s}/patient99999_study1_view1_frontal_Edema_map.pkl: CXR patient99999_study1_view1_frontal, task Edema: extra_heatmap"
        ),
        format!(
            "{}: CXR {}, task Pneumonia: unknown_task: the file name's task",
            s(&map(4, "Pneumonia")),
            p(4)
        ),
        format!("{maps_s}: CXR {}, task Edema: missing_heatmap", p(4)),
        format!(
            "{}: CXR {}, task Edema: heatmap_size_mismatch: cxr_dims give",
            s(&map(5, "Edema")),
            p(5)
        ),
        format!(
            "{maps_s}/{}_Edema_map.pkl: CXR {}, task Edema: duplicate_heatmap: a second heatmap",
            p(6),
            p(6)
        ),
    ];
    let lines: Vec<&str> = text.lines().collect();
    for e in &expected_lines {
        assert!(
            lines.iter().any(|l| l.starts_with(e.as_str())),
            "missing {e:?} in:\n{text}"
        );
    }
    // Nothing else is reported: the "Lung Opacity" of CXR 5 is accepted, and every problem is
    // one of the above (CXR 6's duplicate is the .pkl, sorted after the .npy). Masks are counted
    // for expected CXRs and known, first-seen tasks: 7 CXRs x 10, less CXR 3's "Pneumonia".
    assert_eq!(lines.len(), expected_lines.len() + 1, "{text}");
    assert_eq!(
        lines.last().copied(),
        Some(
            "FAILED: 16 problems (missing_cxr 1, extra_cxr 1, unknown_task 2, duplicate_task 1, missing_task 1, corrupt_rle 1, size_mismatch 1, over_limit 1, unreadable_heatmap 2, duplicate_heatmap 1, extra_heatmap 1, missing_heatmap 2, heatmap_size_mismatch 1); 8 CXRs expected; segmentations: 8 CXRs, 69 masks; heatmaps: 81 files"
        )
    );

    // The same report for machines.
    let out = validate(&seg, &maps, &csv, "json");
    assert_eq!(out.status.code(), Some(1));
    let v: Json = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(v["ok"], false);
    assert_eq!(v["problems"].as_array().map(Vec::len), Some(16));
    assert_eq!(v["problem_counts"]["missing_heatmap"], 2);
    let first = &v["problems"][0];
    assert_eq!(first["kind"], "missing_cxr");
    assert_eq!(first["cxr_id"], p(2));
    assert_eq!(first["task"], Json::Null);
}

#[test]
fn validate_submission_reads_the_original_sample() {
    // The sample's valid.csv lists its two CXRs; their sizes come from the JPEG headers in
    // valid/ and must match the repository's own segmentation JSON and heatmaps.
    let Some(sample) = chexlocalize_testkit::sample_dir() else {
        return;
    };
    let out = run(&[
        "validate-submission",
        "--seg-path",
        s(&sample.join("gradcam_segmentations_val_sample.json")),
        "--map-dir",
        s(&sample.join("gradcam_maps_val")),
        "--expected",
        s(&sample.join("valid.csv")),
    ]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "OK: 2 CXRs expected; segmentations: 2 CXRs, 20 masks; heatmaps: 20 files; no problems\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(0));
}
