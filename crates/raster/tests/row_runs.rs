//! `RowRuns` to and from dense masks against the obvious pixel-by-pixel forms.

use chexlocalize_raster::RowRuns;
use ndarray::Array2;
use proptest::prelude::*;

/// A mask of up to 12 × 40 pixels whose rows mix long stretches and single pixels.
fn mask() -> impl Strategy<Value = Array2<u8>> {
    (0usize..12, 0usize..40).prop_flat_map(|(h, w)| {
        proptest::collection::vec(
            prop_oneof![3 => Just(0u8), 2 => Just(1u8), 1 => any::<u8>()],
            h * w,
        )
        .prop_map(move |v| Array2::from_shape_vec((h, w), v).expect("h * w values"))
    })
}

proptest! {
    #[test]
    fn round_trip_is_the_binarised_mask(m in mask()) {
        let runs = RowRuns::from_mask(&m);
        let dense = runs.to_mask();
        prop_assert_eq!(dense.dim(), m.dim());
        for ((y, x), &v) in m.indexed_iter() {
            prop_assert_eq!(dense[[y, x]], u8::from(v != 0), "pixel ({}, {})", y, x);
        }
        prop_assert_eq!(runs.area(), m.iter().filter(|&&v| v != 0).count() as u64);
    }

    #[test]
    fn runs_given_by_row_fill_exactly_their_pixels(
        rows in proptest::collection::vec(proptest::collection::vec(0u32..6, 0..8), 0..6),
        pad in 0u32..4,
    ) {
        // Each row's cut points (gaps and lengths, at least 1) make sorted disjoint runs.
        let spans: Vec<Vec<(u32, u32)>> = rows
            .iter()
            .map(|cuts| {
                let (mut at, mut out) = (0u32, Vec::new());
                for pair in cuts.chunks_exact(2) {
                    let a = at + pair[0];
                    let b = a + pair[1] + 1;
                    out.push((a, b));
                    at = b + 1;
                }
                out
            })
            .collect();
        let width = spans.iter().flatten().map(|r| r.1).max().unwrap_or(0) + pad;
        let runs = RowRuns::from_rows(spans.len(), width as usize, spans.iter().map(|r| &r[..]))
            .expect("valid runs");
        let dense = runs.to_mask();
        for (y, row) in spans.iter().enumerate() {
            for x in 0..width {
                let set = row.iter().any(|&(a, b)| a <= x && x < b);
                prop_assert_eq!(dense[[y, x as usize]], u8::from(set), "pixel ({}, {})", y, x);
            }
        }
    }
}
