//! Convex hull, `minAreaRect` and `contourArea` against OpenCV 5.0.0 itself, on the 785 point sets
//! of `tests/data/geometry_cases.jsonl` (made once by `tests/data/make_geometry_cases.py`): the
//! longest contours of random masks (40 of them from masks of 150-400 px, up to 1112 points) and random
//! point sets with duplicates and collinear runs. Hulls are compared vertex for vertex in order;
//! rectangles and areas bit for bit.

use chexlocalize_features::{Orientation, contour_area, convex_hull, min_area_rect};
use serde_json::Value;

fn points(v: &Value) -> Vec<[i32; 2]> {
    let flat: Vec<i32> = serde_json::from_value(v.clone()).expect("points");
    flat.chunks(2).map(|c| [c[0], c[1]]).collect()
}

fn float(v: &Value) -> f64 {
    v.as_str().expect("repr").parse().expect("float")
}

#[test]
fn every_case_matches_opencv() {
    let text = include_str!("data/geometry_cases.jsonl");
    let (mut cases, mut failures) = (0, Vec::new());
    let (mut contour_cases, mut long) = (0, 0);
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("case");
        let pts = points(&v["points"]);
        if v["kind"] == "contour" {
            contour_cases += 1;
            long += usize::from(pts.len() > 300);
        }
        let mut diffs = Vec::new();
        for (cw, key) in [
            (Orientation::Clockwise, "hull_cw"),
            (Orientation::CounterClockwise, "hull_ccw"),
        ] {
            let want = points(&v[key]);
            let got = convex_hull(&pts, cw);
            if got != want {
                diffs.push(format!("{key}: got {got:?}, OpenCV {want:?}"));
            }
        }
        let r = min_area_rect(&pts);
        let want: Vec<f64> = (0..5).map(|i| float(&v["rect"][i])).collect();
        let got = [r.center[0], r.center[1], r.width, r.height].map(f64::from);
        // OpenCV 5 orders the sides by its angle convention; compare them as a pair.
        let same_sides =
            (got[2], got[3]) == (want[2], want[3]) || (got[2], got[3]) == (want[3], want[2]);
        if !same_sides || (pts.len() > 1 && got[..2] != want[..2]) {
            diffs.push(format!("minAreaRect: got {got:?}, OpenCV {want:?}"));
        }
        let area = contour_area(&pts);
        if area != float(&v["area"]) {
            diffs.push(format!("contourArea: got {area}, OpenCV {}", v["area"]));
        }
        if !diffs.is_empty() {
            failures.push(format!("{} points: {}", pts.len(), diffs.join("; ")));
        }
        cases += 1;
    }
    assert_eq!(cases, 785);
    assert!(
        contour_cases > 400 && long >= 20,
        "{contour_cases} contours, {long} long"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}",
        failures.len(),
        failures[..failures.len().min(4)].join("\n")
    );
}
