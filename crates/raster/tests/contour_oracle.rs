//! Contours against OpenCV 5.0.0 itself, on random masks (blobs, holes, 1-pixel lines, single
//! pixels, shapes cut by the border, noise) whose OpenCV contours were made once by the scripts
//! in `tests/data/`:
//! - `contour_cases.jsonl` (`make_contour_cases.py`): 400 masks with
//!   `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)`, compared as sorted sets of contours
//!   (the order is irrelevant to CheXlocalize, which fills them all onto one mask);
//! - `contour_wide_cases.jsonl` (`make_contour_wide_cases.py`): 60 masks 64 to 400 pixels
//!   wide, as the first file (wide enough for the raster scan's 64-byte skipping);
//! - `contour_list_cases.jsonl` (`make_contour_list_cases.py`): 300 masks with
//!   `findContours(mask, RETR_LIST, CHAIN_APPROX_NONE)`, compared point for point in OpenCV's
//!   order (the pathology features take the contour with the most points, first on ties).

use chexlocalize_raster::{ContourApprox, find_contours, find_contours_list};
use chexlocalize_rle::Rle;
use ndarray::Array2;
use serde_json::Value;

type Contours = Vec<Vec<[i32; 2]>>;

/// Runs `contours` on every case of a JSON-lines file (`h`, `w`, mask as `counts`, OpenCV's
/// `contours`) and returns the number of cases, of OpenCV points, and the differing cases.
fn compare(text: &str, contours: impl Fn(&Array2<u8>) -> Contours) -> (usize, usize, Vec<String>) {
    let (mut cases, mut points, mut failures) = (0, 0, Vec::new());
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("case");
        let (h, w) = (
            v["h"].as_u64().expect("h") as usize,
            v["w"].as_u64().expect("w") as usize,
        );
        let bits = Rle::from_counts_str(h, w, v["counts"].as_str().expect("counts"))
            .expect("rle")
            .decode();
        let mask = Array2::from_shape_vec((h, w), bits).expect("shape");
        let want: Contours = serde_json::from_value(v["contours"].clone()).expect("contours");
        let got = contours(&mask);
        points += want.iter().map(Vec::len).sum::<usize>();
        if got != want {
            failures.push(format!(
                "{h}x{w} {}: got {got:?}, OpenCV {want:?}",
                v["counts"]
            ));
        }
        cases += 1;
    }
    (cases, points, failures)
}

fn assert_no_failures(cases: usize, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}

#[test]
fn every_case_matches_opencv() {
    let (cases, _, failures) = compare(include_str!("data/contour_cases.jsonl"), |mask| {
        let mut got = find_contours(mask);
        got.sort();
        got
    });
    assert_eq!(cases, 400);
    assert_no_failures(cases, &failures);
}

#[test]
fn every_wide_case_matches_opencv() {
    let (cases, points, failures) =
        compare(include_str!("data/contour_wide_cases.jsonl"), |mask| {
            let mut got = find_contours(mask);
            got.sort();
            got
        });
    assert_eq!(cases, 60);
    assert!(
        points > 1000,
        "the cases should hold many points ({points})"
    );
    assert_no_failures(cases, &failures);
}

#[test]
fn every_list_case_matches_opencv_in_order() {
    let (cases, points, failures) = compare(include_str!("data/contour_list_cases.jsonl"), |m| {
        find_contours_list(m, ContourApprox::None)
    });
    assert_eq!(cases, 300);
    assert!(
        points > 5000,
        "the cases should hold many points ({points})"
    );
    assert_no_failures(cases, &failures);
}
