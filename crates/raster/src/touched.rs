//! The all-touched fill rule (GDAL's `ALL_TOUCHED=TRUE`) through `geo-rasterize`.
//!
//! Not the rule CheXlocalize's ground truth was drawn with: masks made this way are larger than
//! Pillow's (every pixel the polygon's area or outline touches is set) and do not reproduce the
//! leaderboard. Coordinates follow the usual image convention of GDAL and geo-rasterize: pixel
//! `(col, row)` is the square `[col, col + 1) × [row, row + 1)`, so a vertex `(2.0, 3.0)` is the
//! top-left corner of pixel `(2, 3)`.

use geo_rasterize::BinaryBuilder;
use geo_types::{LineString, Polygon};
use ndarray::Array2;

use crate::RasterError;

/// The union of `polygons`, each closed, with every pixel it touches set.
pub(crate) fn rasterize_all_touched(
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Array2<u8>, RasterError> {
    let mut out = Array2::zeros((height, width));
    if height == 0 || width == 0 {
        return Ok(out);
    }
    let mut r = BinaryBuilder::new()
        .width(width)
        .height(height)
        .build()
        .map_err(RasterError::Backend)?;
    for (index, poly) in polygons.iter().enumerate() {
        let shape = Polygon::new(poly.clone(), Vec::new());
        r.rasterize(&shape)
            .map_err(|_| RasterError::NotFinite { index })?;
    }
    let done = r.finish();
    // geo-rasterize's array is (rows, columns), like ours; copied over because it is built
    // on another ndarray version.
    for ((y, x), &v) in done.indexed_iter() {
        if v {
            out[[y, x]] = 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_every_touched_pixel() {
        // A square from (1.5, 1.5) to (3.5, 2.5): it touches columns 1..=3 of rows 1..=2, while
        // Pillow (truncating to (1, 1)-(3, 2)) fills the same pixels here.
        let sq = LineString::from(vec![(1.5, 1.5), (3.5, 1.5), (3.5, 2.5), (1.5, 2.5)]);
        let m = rasterize_all_touched(&[sq], 5, 6).expect("finite");
        let set: Vec<(usize, usize)> = m
            .indexed_iter()
            .filter(|&(_, &v)| v == 1)
            .map(|(p, _)| p)
            .collect();
        assert_eq!(
            set,
            vec![(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)],
            "rows 1-2, columns 1-3"
        );
        // A thin sliver still sets the pixels it passes through; Pillow's rule would too, but
        // a triangle inside one pixel is set only by the all-touched rule.
        let tiny = LineString::from(vec![(4.2, 0.2), (4.8, 0.2), (4.5, 0.7)]);
        let m = rasterize_all_touched(&[tiny], 5, 6).expect("finite");
        assert_eq!(m.sum(), 1);
        assert_eq!(m[[0, 4]], 1);
    }
}
