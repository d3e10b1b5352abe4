//! Polygons to binary masks, exactly as Pillow fills them, and masks to contours, exactly as
//! OpenCV traces them.
//!
//! CheXlocalize's ground-truth masks were made by `annotation_to_segmentation.py` with
//! `ImageDraw.Draw(img).polygon(xy, fill=1, outline=1)` on a mode `"1"` image; [`rasterize`]
//! gives the same pixels (see the `pillow` module for the rule and its quirks).
//! [`rasterize_with`] also offers GDAL's all-touched rule ([`FillRule::AllTouched`]), which is not
//! leaderboard-compatible.
//!
//! A fill draws on a [`Canvas`]: a dense `Array2<u8>` mask, or [`RowSpans`], which keeps only
//! the spans per row (for building an RLE without a `height × width` buffer). Contours come from
//! [`find_contours`] on a mask or from a [`BorderImage`] filled row by row.
//!
//! ```
//! use chexlocalize_raster::rasterize;
//! use geo_types::LineString;
//!
//! // A triangle with float vertices (truncated toward zero, as Pillow does).
//! let tri = LineString::from(vec![(1.7, 1.2), (8.9, 1.0), (1.0, 6.5)]);
//! let mask = rasterize(&[tri], 8, 10)?;
//! assert_eq!(mask.dim(), (8, 10));
//! assert_eq!(mask[[1, 1]], 1);
//! assert_eq!(mask[[7, 9]], 0);
//! # Ok::<(), chexlocalize_raster::RasterError>(())
//! ```
#![deny(missing_docs)]

mod contours;
mod pillow;
mod spans;
mod touched;

use geo_types::LineString;
use ndarray::Array2;

pub use contours::{BorderImage, ContourApprox, find_contours, find_contours_list};
pub use pillow::{Canvas, fill_polygon, pillow_vertex};
pub use spans::{RowRuns, RowSpans};

/// How polygons become pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FillRule {
    /// Pillow's `ImageDraw.polygon` (vertices truncated toward zero, boundary included): how the
    /// CheXlocalize ground truth was drawn, and the only rule that reproduces the leaderboard.
    #[default]
    Pillow,
    /// Every pixel the polygon touches (GDAL's `ALL_TOUCHED=TRUE`, through `geo-rasterize`);
    /// pixel `(col, row)` is the square `[col, col + 1) × [row, row + 1)`. Gives larger masks
    /// than Pillow's; not leaderboard-compatible.
    AllTouched,
}

/// Why polygons could not be rasterised.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RasterError {
    /// Pillow refuses polygons of fewer than 2 points ("coordinate list must contain at least 2
    /// coordinates").
    #[error("polygon {index}: expected at least 2 points, found {found}")]
    TooFewPoints {
        /// Index of the polygon.
        index: usize,
        /// Its number of points.
        found: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("polygon {index}: coordinates must be finite numbers")]
    NotFinite {
        /// Index of the polygon.
        index: usize,
    },
    /// The all-touched rasteriser (`geo-rasterize`) refused the canvas (it cannot, as both sides
    /// are always given; kept typed rather than unwrapped).
    #[error("all-touched rasteriser refused the canvas")]
    Backend(#[source] geo_rasterize::RasterizeError),
}

/// The union of `polygons` filled with Pillow's rule on an all-zero `height × width` mask
/// (row-major, 0/1). Points are `(x, y)`.
pub fn rasterize(
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Array2<u8>, RasterError> {
    let mut mask = Array2::zeros((height, width));
    fill_pillow(&mut mask, polygons)?;
    Ok(mask)
}

/// The union of `polygons` as row runs (Pillow's rule), without a dense mask.
pub fn rasterize_spans(
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<RowRuns, RasterError> {
    let mut spans = RowSpans::new(height, width);
    fill_pillow(&mut spans, polygons)?;
    Ok(spans.into_rows())
}

/// [`rasterize`] with a choice of [`FillRule`].
pub fn rasterize_with(
    rule: FillRule,
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Array2<u8>, RasterError> {
    match rule {
        FillRule::Pillow => rasterize(polygons, height, width),
        FillRule::AllTouched => {
            check_polygons(polygons)?;
            touched::rasterize_all_touched(polygons, height, width)
        }
    }
}

/// Calls `f(r, row)` for every row of `mask` as a contiguous slice (copied only when the mask is
/// not in standard layout).
fn for_each_row(mask: &Array2<u8>, mut f: impl FnMut(usize, &[u8])) {
    let mut bytes = Vec::new();
    for (r, row) in mask.rows().into_iter().enumerate() {
        match row.as_slice() {
            Some(s) => f(r, s),
            None => {
                bytes.clear();
                bytes.extend(row.iter().copied());
                f(r, &bytes);
            }
        }
    }
}

/// Refuses what Pillow would not draw: fewer than 2 points, non-finite coordinates.
fn check_polygons(polygons: &[LineString<f64>]) -> Result<(), RasterError> {
    for (index, poly) in polygons.iter().enumerate() {
        if poly.0.len() < 2 {
            return Err(RasterError::TooFewPoints {
                index,
                found: poly.0.len(),
            });
        }
        if poly.0.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
            return Err(RasterError::NotFinite { index });
        }
    }
    Ok(())
}

/// Fills every polygon with Pillow's rule onto `canvas`.
fn fill_pillow<C: Canvas>(canvas: &mut C, polygons: &[LineString<f64>]) -> Result<(), RasterError> {
    check_polygons(polygons)?;
    let mut vertices = Vec::new();
    for poly in polygons {
        vertices.clear();
        vertices.extend(
            poly.0
                .iter()
                .map(|c| [pillow_vertex(c.x), pillow_vertex(c.y)]),
        );
        fill_polygon(canvas, &vertices);
    }
    Ok(())
}
