//! HD95, the Hausdorff distance and surface Dice against DeepMind's `surface-distance` on
//! recorded masks (`tests/data/make_surface.py`, which names the versions).

use chexlocalize_metrics::{Spacing, robust_hausdorff, surface_dice};
use chexlocalize_rle::Rle;

#[test]
fn boundary_distances_match_surface_distance() {
    let text = include_str!("data/surface_distance.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("json");
    let cases = v["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 6);
    for (i, c) in cases.iter().enumerate() {
        let n = |k: &str| c[k].as_u64().expect("int") as usize;
        let (h, w) = (n("height"), n("width"));
        let mask = |k: &str| -> Rle {
            let m: Vec<u8> = c[k]
                .as_array()
                .expect("mask")
                .iter()
                .map(|x| x.as_u64().expect("0/1") as u8)
                .collect();
            Rle::encode(&m, h, w).expect("mask")
        };
        let (gt, pred) = (mask("gt"), mask("pred"));
        let sp = &c["spacing"];
        let spacing = Spacing::new(sp[0].as_f64().expect("row"), sp[1].as_f64().expect("col"))
            .expect("spacing");
        let f = |k: &str| c[k].as_f64().expect("number");
        let check = |name: &str, ours: f64| {
            assert!(
                (ours - f(name)).abs() <= 1e-9,
                "case {i}, {name}: ours {ours}, reference {}",
                f(name)
            );
        };
        check(
            "hd95",
            robust_hausdorff(&pred, &gt, spacing, 95.0).expect("hd95"),
        );
        check(
            "hd100",
            robust_hausdorff(&pred, &gt, spacing, 100.0).expect("hd"),
        );
        check(
            "surface_dice_1",
            surface_dice(&pred, &gt, spacing, 1.0).expect("sd"),
        );
        check(
            "surface_dice_2.5",
            surface_dice(&pred, &gt, spacing, 2.5).expect("sd"),
        );
    }
}
