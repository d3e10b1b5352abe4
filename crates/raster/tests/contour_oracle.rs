//! Contours against OpenCV itself: 400 random masks (blobs, holes, lines, single pixels,
//! shapes cut by the border, noise) with the point lists of OpenCV 5.0.0's
//! `findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE)`, made once by
//! `tests/data/make_contour_cases.py`. The lists are compared as sorted sets of contours (the
//! order of contours is irrelevant to CheXlocalize, which fills them all onto one mask).

use chexlocalize_raster::find_contours;
use chexlocalize_rle::Rle;
use ndarray::Array2;
use serde_json::Value;

#[test]
fn every_case_matches_opencv() {
    let text = include_str!("data/contour_cases.jsonl");
    let (mut cases, mut failures) = (0, Vec::new());
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
        let want: Vec<Vec<[i32; 2]>> =
            serde_json::from_value(v["contours"].clone()).expect("contours");
        let mut got = find_contours(&mask);
        got.sort();
        if got != want {
            failures.push(format!(
                "{h}x{w} {}: got {got:?}, OpenCV {want:?}",
                v["counts"]
            ));
        }
        cases += 1;
    }
    assert_eq!(cases, 400);
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}
