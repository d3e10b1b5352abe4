//! Polygons to binary masks, exactly as Pillow fills them.
//!
//! CheXlocalize's ground-truth masks were made by `annotation_to_segmentation.py` with
//! `ImageDraw.Draw(img).polygon(xy, fill=1, outline=1)` on a mode `"1"` image; [`rasterize`]
//! gives the same pixels (see the `pillow` module for the rule and its quirks).
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

use geo_types::LineString;
use ndarray::Array2;

pub use contours::{ContourApprox, find_contours, find_contours_list};
pub use pillow::{fill_polygon, pillow_vertex};

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
}

/// The union of `polygons` filled with Pillow's rule on an all-zero `height × width` mask
/// (row-major, 0/1). Points are `(x, y)`.
pub fn rasterize(
    polygons: &[LineString<f64>],
    height: usize,
    width: usize,
) -> Result<Array2<u8>, RasterError> {
    let mut mask = Array2::zeros((height, width));
    let mut vertices = Vec::new();
    for (index, poly) in polygons.iter().enumerate() {
        if poly.0.len() < 2 {
            return Err(RasterError::TooFewPoints {
                index,
                found: poly.0.len(),
            });
        }
        vertices.clear();
        for c in &poly.0 {
            if !c.x.is_finite() || !c.y.is_finite() {
                return Err(RasterError::NotFinite { index });
            }
            vertices.push([pillow_vertex(c.x), pillow_vertex(c.y)]);
        }
        fill_polygon(&mut mask, &vertices);
    }
    Ok(mask)
}
