//! Holm's adjustment against statsmodels' `multipletests(p, method="holm")` on recorded
//! families (`tests/data/make_holm.py`, which names the versions).

use chexlocalize_metrics::holm;

#[test]
fn holm_matches_statsmodels() {
    let text = include_str!("data/holm_statsmodels.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    let cases = v["cases"].as_array().expect("cases");
    assert!(cases.len() >= 9);
    let nums = |x: &serde_json::Value| -> Vec<f64> {
        x.as_array()
            .expect("array")
            .iter()
            .map(|n| n.as_f64().expect("number"))
            .collect()
    };
    for case in cases {
        let (p, expected) = (nums(&case["p"]), nums(&case["holm"]));
        let ours = holm(&p);
        for (o, e) in ours.iter().zip(&expected) {
            assert!((o - e).abs() <= 1e-12, "{p:?}: {ours:?} vs {expected:?}");
        }
    }
}
