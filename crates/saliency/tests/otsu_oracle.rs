//! Otsu's threshold against OpenCV 5.0.0 on 300 histograms of random images (uniform, normal,
//! bimodal, constant, three-valued), made once by `tests/data/make_otsu_cases.py`.

use chexlocalize_saliency::otsu_threshold;
use serde_json::Value;

#[test]
fn thresholds_match_opencv() {
    let cases: Value = serde_json::from_str(include_str!("data/otsu_cases.json")).expect("json");
    let mut n = 0;
    for case in cases.as_array().expect("list") {
        let mut hist = [0u64; 256];
        for (k, v) in case["hist"].as_object().expect("hist") {
            hist[k.parse::<usize>().expect("bin")] = v.as_u64().expect("count");
        }
        let want = case["threshold"].as_f64().expect("threshold");
        assert_eq!(f64::from(otsu_threshold(&hist)), want, "{hist:?}");
        n += 1;
    }
    assert_eq!(n, 300);
}
