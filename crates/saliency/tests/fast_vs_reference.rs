//! The fast segmentation against the straightforward one (`reference`), pixel for pixel, on
//! random maps: smooth Grad-CAM-like maps (a coarse grid upsampled, with zeroed areas, as ReLU'd
//! Grad-CAM maps are), noise, constant and tied maps, negative values, NaN and infinities,
//! output sizes smaller and larger than the map, every threshold mode, on one thread and in
//! two halves.

use chexlocalize_saliency::{
    Parallelism, Threshold, reference, segment, segment_rle, segment_runs_with,
};
use ndarray::Array2;
use proptest::prelude::*;

/// A map of `h × w`: a bilinear blend of a coarse random grid, shifted and clipped at zero.
fn camlike(h: usize, w: usize, grid: &[f32], shift: f32) -> Array2<f32> {
    let g = 4usize;
    Array2::from_shape_fn((h, w), |(r, c)| {
        let y = r as f32 / h.max(2) as f32 * (g - 1) as f32;
        let x = c as f32 / w.max(2) as f32 * (g - 1) as f32;
        let (y0, x0) = (y.floor() as usize, x.floor() as usize);
        let (y1, x1) = ((y0 + 1).min(g - 1), (x0 + 1).min(g - 1));
        let (fy, fx) = (y - y0 as f32, x - x0 as f32);
        let at = |a: usize, b: usize| grid[a * g + b];
        let v = (1.0 - fy) * ((1.0 - fx) * at(y0, x0) + fx * at(y0, x1))
            + fy * ((1.0 - fx) * at(y1, x0) + fx * at(y1, x1));
        (v - shift).max(0.0) * 0.01
    })
}

fn map_strategy() -> impl Strategy<Value = Array2<f32>> {
    let dims = || (1usize..24, 1usize..24);
    prop_oneof![
        4 => (dims(), proptest::collection::vec(0.0f32..1.0, 16), 0.0f32..0.6)
            .prop_map(|((h, w), grid, shift)| camlike(h, w, &grid, shift)),
        2 => dims().prop_flat_map(|(h, w)| {
            proptest::collection::vec(-1.0f32..1.0, h * w)
                .prop_map(move |v| Array2::from_shape_vec((h, w), v).expect("shape"))
        }),
        1 => (dims(), prop_oneof![Just(0.0f32), Just(0.25), Just(-3.0)])
            .prop_map(|((h, w), c)| Array2::from_elem((h, w), c)),
        1 => (dims(), 0usize..4, proptest::collection::vec(0u8..3, 576)).prop_map(|((h, w), which, levels)| {
            // Few distinct values (ties), sometimes with one NaN or infinity.
            let mut m = Array2::from_shape_fn((h, w), |(r, c)| f32::from(levels[r * 24 + c]) * 0.5);
            match which {
                1 => m[[h / 2, w / 2]] = f32::NAN,
                2 => m[[0, 0]] = f32::INFINITY,
                3 => m[[h - 1, w - 1]] = f32::NEG_INFINITY,
                _ => {}
            }
            m
        }),
    ]
}

fn threshold_strategy() -> impl Strategy<Value = Threshold> {
    prop_oneof![
        3 => Just(Threshold::Otsu { smoothing: None }),
        1 => (1usize..6).prop_map(|k| Threshold::Otsu { smoothing: Some(k) }),
        2 => prop_oneof![Just(-0.1f64), Just(0.0), 0.0f64..1.0, Just(0.5), Just(1.0)]
            .prop_map(Threshold::Fixed),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn fast_segmentation_equals_the_reference(
        map in map_strategy(),
        (oh, ow) in (1usize..90, 1usize..90),
        threshold in threshold_strategy(),
    ) {
        let want = reference::segment(map.view(), oh, ow, threshold);
        let got = segment(map.view(), oh, ow, threshold);
        let diff = want.iter().zip(&got).filter(|(a, b)| a != b).count();
        prop_assert_eq!(diff, 0, "{:?} {}x{} -> {}x{}", threshold, map.nrows(), map.ncols(), oh, ow);
        let rle = segment_rle(map.view(), oh, ow, threshold).expect("small mask");
        prop_assert_eq!(rle.decode(), want.iter().copied().collect::<Vec<u8>>());
        // The rows in two halves on two threads: the same mask.
        let halves = segment_runs_with(map.view(), oh, ow, threshold, Parallelism::Halves);
        prop_assert_eq!(halves.to_mask(), want, "halves");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// The pointing game's most salient pixel: the first maximum of the upsampled map.
    #[test]
    fn max_point_equals_the_reference(map in map_strategy(), (oh, ow) in (1usize..90, 1usize..90)) {
        prop_assert_eq!(
            chexlocalize_saliency::max_point(map.view(), oh, ow),
            reference::max_point(map.view(), oh, ow)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The threshold sweep gives each threshold's mask.
    #[test]
    fn threshold_sweep_equals_the_reference(
        map in map_strategy(),
        (oh, ow) in (1usize..70, 1usize..70),
        grid in proptest::collection::vec(prop_oneof![0.0f64..1.0, Just(0.2), Just(0.5), Just(-0.1)], 1..8),
    ) {
        let masks = chexlocalize_saliency::segment_thresholds(map.view(), oh, ow, &grid);
        prop_assert_eq!(masks.len(), grid.len());
        for (m, &t) in masks.iter().zip(&grid) {
            let want = reference::segment(map.view(), oh, ow, Threshold::Fixed(t));
            prop_assert_eq!(m.to_mask(), want, "threshold {}", t);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The ring-buffer box filter and the smoothing against the straightforward versions.
    #[test]
    fn box_filter_and_smoothing_equal_the_reference(
        (h, w) in (1usize..40, 1usize..40),
        k in prop_oneof![1usize..8, Just(16usize), Just(17usize), Just(32usize)],
        seed in proptest::collection::vec(any::<u8>(), 1600),
    ) {
        let img = Array2::from_shape_fn((h, w), |(r, c)| seed[r * 40 + c]);
        prop_assert_eq!(chexlocalize_saliency::box_filter(&img, k), reference::box_filter(&img, k));
        prop_assert_eq!(chexlocalize_saliency::smooth(&img, k), reference::smooth(&img, k));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The smoothed path skips the columns whose window lies in a zero area of the map: on
    /// Grad-CAM-like maps with such areas, kernel sizes up to 12 and two past 16 (the window sums
    /// in 32 bits), outputs wider than the skip needs (`w > 4k`), near the borders included.
    #[test]
    fn smoothed_segmentation_equals_the_reference(
        (mh, mw) in (2usize..24, 2usize..24),
        grid in proptest::collection::vec(0.0f32..1.0, 16),
        shift in 0.2f32..0.7,
        (oh, ow) in (1usize..120, 20usize..160),
        k in prop_oneof![6 => 1usize..13, 1 => Just(17usize), 1 => Just(21usize)],
    ) {
        let map = camlike(mh, mw, &grid, shift);
        let threshold = Threshold::Otsu { smoothing: Some(k) };
        let want = reference::segment(map.view(), oh, ow, threshold);
        let got = segment(map.view(), oh, ow, threshold);
        let diff = want.iter().zip(&got).filter(|(a, b)| a != b).count();
        prop_assert_eq!(diff, 0, "k {} {}x{} -> {}x{}", k, mh, mw, oh, ow);
    }
}
