//! The fill against Pillow itself: 600 random polygon sets (float and integer vertices, points
//! outside the image, 2-point polygons, repeated points, axis-aligned runs, self-intersections)
//! with the masks Pillow 13.0.0 drew, made once by `tests/data/make_pillow_cases.py`; and 300
//! polygon sets with coordinates beyond the int32 range (3e9, -5e9, 1e20, 2^31, ...), made once
//! by `tests/data/make_pillow_big_cases.py`.

use chexlocalize_raster::{rasterize, rasterize_spans};
use chexlocalize_rle::Rle;
use geo_types::LineString;
use serde_json::Value;

#[test]
fn every_case_matches_pillow() {
    check(include_str!("data/pillow_cases.jsonl"), 600);
}

#[test]
fn coordinates_beyond_int32_match_pillow() {
    check(include_str!("data/pillow_big_cases.jsonl"), 300);
}

fn check(text: &str, n: usize) {
    let (mut cases, mut failures) = (0, Vec::new());
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).expect("case");
        let (h, w) = (
            v["h"].as_u64().expect("h") as usize,
            v["w"].as_u64().expect("w") as usize,
        );
        let polygons: Vec<LineString<f64>> = v["polygons"]
            .as_array()
            .expect("polygons")
            .iter()
            .map(|p| {
                LineString::from(
                    p.as_array()
                        .expect("points")
                        .iter()
                        .map(|q| (q[0].as_f64().expect("x"), q[1].as_f64().expect("y")))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let want = Rle::from_counts_str(h, w, v["counts"].as_str().expect("counts"))
            .expect("rle")
            .decode();
        let got = rasterize(&polygons, h, w).expect("rasterize");
        let diff = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        if diff > 0 {
            failures.push(format!("{h}x{w} {:?}: {diff} pixels", v["polygons"]));
        }
        // The span canvas draws the same pixels, and its RLE is pycocotools' string.
        let runs = rasterize_spans(&polygons, h, w).expect("rasterize_spans");
        if runs.to_mask() != got {
            failures.push(format!("{h}x{w} {:?}: spans differ", v["polygons"]));
        }
        let rle = Rle::from_row_runs(h, w, runs.rows()).expect("row runs");
        if rle.to_counts_string() != v["counts"].as_str().expect("counts") {
            failures.push(format!(
                "{h}x{w} {:?}: RLE from spans differs",
                v["polygons"]
            ));
        }
        cases += 1;
    }
    assert_eq!(cases, n);
    assert!(
        failures.is_empty(),
        "{} of {cases} differ:\n{}\n({} masks with pixels differing)",
        failures.len(),
        failures[..failures.len().min(5)].join("\n"),
        failures.iter().filter(|f| f.ends_with("pixels")).count()
    );
}
