//! The threshold-free localisation scores against Quantus 0.6 / scikit-learn on recorded maps
//! (`tests/data/make_localisation.py`, which names the versions).

use chexlocalize_metrics::{Localisation, localisation};
use chexlocalize_rle::Rle;

#[test]
fn localisation_scores_match_quantus_and_scikit_learn() {
    let text = include_str!("data/localisation_quantus.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 5);
    for (i, c) in cases.iter().enumerate() {
        let n = |k: &str| c[k].as_u64().expect("int") as usize;
        let (h, w, k) = (n("height"), n("width"), n("k"));
        let map: Vec<f32> = c["map"]
            .as_array()
            .expect("map")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect();
        let mask: Vec<u8> = c["mask"]
            .as_array()
            .expect("mask")
            .iter()
            .map(|x| x.as_u64().expect("0/1") as u8)
            .collect();
        let gt = Rle::encode(&mask, h, w).expect("mask");
        for (name, which) in [
            ("auroc", Localisation::Auroc),
            ("auprc", Localisation::Auprc),
            ("relevance_mass", Localisation::RelevanceMass),
            ("relevance_rank", Localisation::RelevanceRank),
            ("topk_intersection", Localisation::TopKIntersection { k }),
            ("energy_pointing_game", Localisation::EnergyPointingGame),
        ] {
            let expected = c[name].as_f64().expect("number");
            let ours = localisation(&map, &gt, which).expect("scores");
            assert!(
                (ours - expected).abs() <= 1e-9,
                "case {i}, {name}: ours {ours}, reference {expected}"
            );
        }
    }
}
