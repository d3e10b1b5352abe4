//! `find_contours_list` against OpenCV itself: 300 random masks (blobs, holes, 1-pixel lines,
//! single pixels, shapes cut by the border, noise) with the contours of OpenCV 5.0.0's
//! `findContours(mask, RETR_LIST, CHAIN_APPROX_NONE)` in OpenCV's order, made once by
//! `tests/data/make_contour_list_cases.py`. Compared point for point, order included.

use chexlocalize_raster::{ContourApprox, find_contours_list};
use chexlocalize_rle::Rle;
use ndarray::Array2;
use serde_json::Value;

#[test]
fn every_case_matches_opencv_in_order() {
    let text = include_str!("data/contour_list_cases.jsonl");
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
        let want: Vec<Vec<[i32; 2]>> =
            serde_json::from_value(v["contours"].clone()).expect("contours");
        let got = find_contours_list(&mask, ContourApprox::None);
        points += want.iter().map(Vec::len).sum::<usize>();
        if got != want {
            failures.push(format!(
                "{h}x{w} {}: got {got:?}, OpenCV {want:?}",
                v["counts"]
            ));
        }
        cases += 1;
    }
    assert_eq!(cases, 300);
    assert!(
        points > 5000,
        "the cases should hold many points ({points})"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n")
    );
}
