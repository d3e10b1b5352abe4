//! The parity rows of the table (NaN thresholds, salient points outside the image, single-pixel
//! maps) and the text, name, CSV, polygon, subnormal and limit items of "also seen".

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::Mini;
use crate::harness::{self, fixtures, os, put, run};
use chexlocalize_rle::Rle;
use chexlocalize_testkit::hostile::{self, CXR, TASKS};
use serde_json::{Value as Json, json};

fn args(items: &[&dyn AsRef<OsStr>]) -> Vec<OsString> {
    items.iter().map(|x| x.as_ref().to_owned()).collect()
}

fn read_json(p: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
}

/// heatmap-to-segmentation of the fixtures' 80 maps with `extra` flags; the masks.
fn segment_fixtures(dir: &Path, name: &str, extra: &[&dyn AsRef<OsStr>]) -> Json {
    let out = dir.join(name);
    let maps = fixtures().join("gradcam_maps_val");
    let mut a = args(&[
        &"heatmap-to-segmentation",
        &"--map_dir",
        &maps,
        &"--output_path",
        &out,
    ]);
    a.extend(args(extra));
    run(&a).succeeds();
    read_json(&out)
}

/// Table row: a NaN or empty threshold means Otsu for that task, as the original's
/// `np.isnan(threshold)` check does (was: empty or odd masks). Expected: the masks of those
/// tasks are the Otsu masks (no `--threshold_path`), the other tasks' those of the threshold.
#[test]
fn nan_and_empty_thresholds_mean_otsu() {
    let dir = tempfile::tempdir().expect("tmp");
    let otsu = segment_fixtures(dir.path(), "otsu.json", &[]);
    let plain = dir.path().join("plain.csv");
    put(&plain, hostile::thresholds_csv(&[], false));
    let fixed = segment_fixtures(dir.path(), "fixed.json", &[&"--threshold_path", &plain]);
    let odd = dir.path().join("odd.csv");
    put(
        &odd,
        hostile::thresholds_csv(&[("Edema", "nan"), ("Cardiomegaly", "")], false),
    );
    let got = segment_fixtures(dir.path(), "odd.json", &[&"--threshold_path", &odd]);
    let cxrs = otsu.as_object().expect("cxrs");
    let mut differs = false;
    for (id, masks) in cxrs {
        for t in TASKS {
            let want = if t == "Edema" || t == "Cardiomegaly" {
                &otsu
            } else {
                &fixed
            };
            assert_eq!(got[id][t], want[id][t], "CXR {id}, task {t}");
            differs |= otsu[id][t] != fixed[id][t] && masks.get(t).is_some();
        }
    }
    assert!(
        differs,
        "Otsu and the fixed threshold agree everywhere: the test proves nothing"
    );
}

/// A `h x w` mask with the single pixel (`row`, `col`) set, as an RLE counts string (COCO RLE
/// runs are column-major, starting with zeros).
fn one_pixel_rle(h: usize, w: usize, row: usize, col: usize) -> String {
    let at = (col * h + row) as u32;
    let total = (h * w) as u32;
    Rle::from_runs(h, w, vec![at, 1, total - at - 1])
        .expect("runs")
        .to_counts_string()
}

/// Human-benchmark hit/miss of the point `pt` on two 6 x 5 CXRs whose Edema masks hold only
/// (row 3, column 4) and only (row 3, column 0).
fn salient(pt: [f64; 2]) -> (harness::Run, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (
        "patient1_study1_view1_frontal",
        "patient2_study1_view1_frontal",
    );
    let mut gt = serde_json::Map::new();
    for (id, col) in [(a, 4), (b, 0)] {
        let mut m = serde_json::Map::new();
        for t in TASKS {
            let counts = if t == "Edema" {
                one_pixel_rle(6, 5, 3, col)
            } else {
                Rle::empty(6, 5).to_counts_string()
            };
            m.insert(t.into(), json!({"size": [6, 5], "counts": counts}));
        }
        gt.insert(id.into(), Json::Object(m));
    }
    let gt_path = dir.path().join("gt.json");
    put(&gt_path, Json::Object(gt).to_string());
    let pts = dir.path().join("pts.json");
    put(
        &pts,
        json!({a: {"Edema": [pt]}, b: {"Edema": [pt]}}).to_string(),
    );
    let save = dir.path().join("eval");
    let r = run(&args(&[
        &"eval",
        &"--metric",
        &"hitmiss",
        &"--gt_path",
        &gt_path,
        &"--pred_path",
        &pts,
        &"--if_human_benchmark",
        &"True",
        &"--save_dir",
        &save,
    ]));
    (r, dir)
}

/// Table row: a salient point at [-1.2, 3] is scored as the original indexes it:
/// `gt_mask[int(y), int(x)]` with `int(-1.2)` = -1 (Python truncates toward zero) and numpy's
/// index -1 the last column: a hit on the CXR whose pixel is (3, 4), a miss on the one whose
/// pixel is (3, 0) (clamping to column 0 would give the opposite). (Was: the whole file refused.)
#[test]
fn salient_point_slightly_outside_is_scored_like_the_original() {
    let (r, dir) = salient([-1.2, 3.0]);
    r.succeeds();
    let csv = std::fs::read_dir(dir.path().join("eval"))
        .expect("eval")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.to_string_lossy().ends_with("results_per_cxr.csv")
                && !p.to_string_lossy().contains("bootstrap")
        })
        .expect("per-CXR results");
    let text = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let edema = header
        .iter()
        .position(|h| *h == "Edema")
        .expect("Edema column");
    // eval.py's per-CXR CSV: the task columns, then `img_id` (pandas' column order).
    let id = header
        .iter()
        .position(|h| *h == "img_id")
        .expect("img_id column");
    let mut got = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        got.push((f[id].to_owned(), f[edema].parse::<f64>().expect("number")));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        got,
        [
            ("patient1_study1_view1_frontal".to_owned(), 1.0),
            ("patient2_study1_view1_frontal".to_owned(), 0.0)
        ],
        "{text}"
    );
}

/// A point past the far edge is the original's IndexError: a clear error naming it.
#[test]
fn salient_point_past_the_far_edge_is_a_clear_error() {
    let (r, _dir) = salient([5.0, 3.0]);
    r.fails_naming(&["pts.json", "Edema"])
        .mentions_any(&["outside", "index", "beyond", "past"]);
}

/// Table row: a 1 x 1 heatmap on a 50 x 40 CXR, in all four modes (Otsu, fixed threshold,
/// smoothing, probability cutoff): exit 0 within the bounds.
// The masks themselves are compared with the original scripts' in
// `crates/saliency/tests/edge_oracle.rs` (constant, 1 x 1, hot-pixel and subnormal maps on CXRs
// up to 64 px, all modes) and `crates/cli/tests/parity_edges.rs` (end to end); this suite
// asserts outcome, time and memory.
#[test]
fn one_pixel_map_on_a_50x40_cxr_all_four_modes() {
    let m = Mini::new(Some((
        hostile::map_name(CXR, "Edema"),
        hostile::one_pixel_map("Edema"),
    )));
    let thr = m.path("thr.csv");
    put(&thr, hostile::thresholds_csv(&[], false));
    let probs = fixtures().join("probability_tuning_results.csv");
    let modes: [Vec<&dyn AsRef<OsStr>>; 4] = [
        vec![],
        vec![&"--threshold_path", &thr],
        vec![&"--if_smoothing", &"True", &"--k", &"5"],
        vec![&"--probability_threshold_path", &probs],
    ];
    for extra in modes {
        let mut a = m.args("heatmap-to-segmentation");
        a.extend(args(&extra));
        run(&a).succeeds();
        let v = read_json(&m.path("out.json"));
        assert_eq!(v[CXR]["Edema"]["size"], json!([40, 50]), "{v}");
    }
}

/// Also seen: subnormal-valued maps (differed by 2–9 px): exit 0 within the bounds.
// Exact masks against the original: `crates/saliency/tests/edge_oracle.rs` (subnormal cases).
#[test]
fn subnormal_map_heatmap_to_segmentation() {
    let m = Mini::new(Some((
        hostile::map_name(CXR, "Edema"),
        hostile::subnormal_map("Edema"),
    )));
    run(&m.args("heatmap-to-segmentation")).succeeds();
    assert_eq!(
        read_json(&m.path("out.json"))[CXR]["Edema"]["size"],
        json!([16, 20])
    );
}

/// Also seen: polygon coordinates beyond the int32 range: exit 0 within the bounds (a
/// rasteriser walking the polygon's extent would take minutes).
// Exact masks against Pillow: `crates/raster/tests/pillow_oracle.rs`
// (`coordinates_beyond_int32_match_pillow`).
#[test]
fn polygon_coordinates_beyond_int32_annotation_to_segmentation() {
    let dir = tempfile::tempdir().expect("tmp");
    let ann = dir.path().join("ann.json");
    put(&ann, hostile::huge_polygon_annotations());
    let out = dir.path().join("gt.json");
    run(&args(&[
        &"annotation-to-segmentation",
        &"--ann_path",
        &ann,
        &"--output_path",
        &out,
    ]))
    .succeeds();
    assert_eq!(read_json(&out)[CXR]["Edema"]["size"], json!([20, 30]));
}

/// Also seen: a CSV starting with a UTF-8 BOM was rejected (pandas reads it). The same masks as
/// without the BOM; and an expected list with a BOM validates.
#[test]
fn csv_with_a_utf8_bom_is_accepted() {
    let m = Mini::new(None);
    let (plain, bom) = (m.path("plain.csv"), m.path("bom.csv"));
    put(&plain, hostile::thresholds_csv(&[("Edema", "0.3")], false));
    put(&bom, hostile::thresholds_csv(&[("Edema", "0.3")], true));
    let mut outs = Vec::new();
    for csv in [&plain, &bom] {
        let mut a = m.args("heatmap-to-segmentation");
        a.extend(args(&[&"--threshold_path", csv]));
        run(&a).succeeds();
        outs.push(read_json(&m.path("out.json")));
    }
    assert_eq!(outs[0], outs[1]);
    let expected = std::fs::read_to_string(&m.expected).expect("csv");
    put(&m.expected, format!("\u{feff}{expected}"));
    run(&m.args("validate-submission")).succeeds();
}

/// Every line of a text report starts with one of `prefixes` except the summary (the last).
fn lines_are_anchored(stdout: &str, prefixes: &[&str]) {
    let lines: Vec<&str> = stdout.lines().collect();
    let (last, rest) = lines.split_last().expect("a report");
    assert!(last.starts_with("FAILED: "), "summary {last:?}");
    for l in rest {
        assert!(
            prefixes.iter().any(|p| l.starts_with(p)),
            "a forged or unanchored line {l:?} in:\n{stdout}"
        );
    }
}

/// Also seen: a file name with a newline could forge an "OK" line in validate-submission's text
/// report.
#[test]
fn newline_in_a_file_name_cannot_forge_a_report_line() {
    let m = Mini::new(None);
    let forged =
        "OK: 1 CXRs expected; segmentations: 1 CXRs, 10 masks; heatmaps: 10 files; no problems";
    let name = format!("{CXR}_Edema\n{forged}\nx_Edema_map.pkl");
    put(&m.maps.join(&name), hostile::small_heatmap("Edema"));
    let r = run(&m.args("validate-submission"));
    r.fails_naming(&[]);
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("OK")),
        "forged:\n{}",
        r.stdout
    );
    let (seg, maps) = (m.gt.display().to_string(), m.maps.display().to_string());
    lines_are_anchored(&r.stdout, &[&seg, &maps]);
}

/// Also seen: ESC and NUL bytes (in a CXR id, in a file name) were echoed raw.
#[test]
fn esc_and_nul_are_not_echoed_raw() {
    let m = Mini::new(None);
    let mut v = read_json(&m.gt);
    let masks = v[CXR].clone();
    v.as_object_mut()
        .expect("obj")
        .insert("evil\u{1b}[2J\u{0}id".into(), masks);
    put(&m.gt, v.to_string());
    put(
        &m.maps.join(format!("{CXR}_Ede\u{1b}[31mma_map.pkl")),
        hostile::small_heatmap("Edema"),
    );
    let r = run(&m.args("validate-submission"));
    r.fails_naming(&["evil"]);
    for (what, s) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(
            !s.contains('\u{1b}') && !s.contains('\0'),
            "raw control byte in {what}: {s:?}"
        );
    }
}

/// Also seen: non-UTF-8 file names were skipped silently. They are reported (lossy-escaped).
#[test]
fn non_utf8_file_names_are_reported() {
    let m = Mini::new(None);
    let mut name = format!("{CXR}_Edema").into_bytes();
    name.extend(b"\xff_map.pkl");
    let p = m.maps.join(OsStr::from_bytes(&name));
    put(&p, hostile::small_heatmap("Edema"));
    let r = run(&m.args("validate-submission"));
    r.fails_naming(&[]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.contains("frontal_Edema") && l.contains("_map.pkl")),
        "the non-UTF-8 name is not reported:\n{}",
        r.stdout
    );
    let r = run(&m.args("heatmap-to-segmentation"));
    assert!(matches!(r.code, Some(0 | 1)), "{}", r.text());
    r.mentions(&["_map.pkl"])
        .mentions_any(&["utf-8", "utf8", "\\xff", "\u{fffd}"]);
}

/// Also seen: the `--max-*` limits of one in-process `run` leaked into the next (a process-global
/// `OnceLock`). Each call gets its own: default, then 100 pixels (refused), then default again.
#[test]
fn limits_of_one_run_call_do_not_leak_into_the_next() {
    let dir = tempfile::tempdir().expect("tmp");
    let ann = fixtures().join("gt_annotations_val.json");
    let out = dir.path().join("gt.json");
    let call = |limit: Option<&str>| {
        let mut a: Vec<OsString> = vec!["chexlocalize".into()];
        if let Some(l) = limit {
            a.extend(["--max-image-pixels".into(), l.into()]);
        }
        a.extend(args(&[
            &"annotation-to-segmentation",
            &"--ann_path",
            &ann,
            &"--output_path",
            &out,
        ]));
        chexlocalize_cli::run(a)
    };
    call(None).expect("default limits: the fixtures pass");
    let e = call(Some("100")).expect_err("100 pixels: refused");
    assert!(
        chexlocalize_cli::error_text(&e).contains("100 pixels"),
        "{e:#}"
    );
    call(None).expect("default limits again: the 100-pixel limit must not stay");
}

/// The generator's cases are valid heatmaps apart from their hostile feature (small versions,
/// read in-process with the project's reader): so each test above fails for that feature only.
#[test]
fn generated_cases_are_valid_apart_from_their_hostile_part() {
    use chexlocalize_io::pickle::{Limits, load_heatmap};
    let l = Limits::default();
    let err = load_heatmap(&hostile::nested_tuple_map(3), &l).expect_err("map is a tuple");
    assert!(err.to_string().contains("map"), "{err}");
    for (what, bytes, numel) in [
        ("small", hostile::small_heatmap("Edema"), 6),
        ("many keys", hostile::many_keys(10), 6),
        ("zip, one name", hostile::zip_aliased_storage(4096, 1), 1024),
        ("zero strides", hostile::zero_stride_map(4), 16),
        ("one pixel", hostile::one_pixel_map("Edema"), 1),
        ("subnormal", hostile::subnormal_map("Edema"), 64),
    ] {
        let rec = load_heatmap(&bytes, &l).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(rec.map.numel(), numel, "{what}");
        assert_eq!(rec.task, "Edema", "{what}");
    }
    let zero = load_heatmap(&hostile::zero_stride_map(4), &l).expect("zero strides");
    assert!(zero.map.to_f64_vec().iter().all(|&x| x == 0.5));
    let _ = os(Path::new("."));
}
