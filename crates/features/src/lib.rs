//! Pathology shape features of CheXlocalize masks, with OpenCV's geometry reproduced exactly.
//!
//! `compute_pathology_features.py` describes each ground-truth mask by its longest contour
//! (OpenCV's `findContours`), the minimum-area rectangle around it (`minAreaRect`, float32
//! rotating calipers over `convexHull`) and its area (`contourArea`). Elongation and
//! irrectangularity are ratios of those numbers, printed with 17 digits, so this crate reproduces
//! OpenCV's float32 arithmetic and hull vertex order bit for bit (tested against OpenCV 5.0.0 on
//! 785 point sets). Generic geometry crates give a correct rectangle, but not OpenCV's floats.
//!
//! - [`mask_features`]: everything `get_geometric_features` computes for one mask
//!   ([`mask_features_in`]: the same from a crop holding its set pixels);
//! - [`min_area_rect`], [`convex_hull`], [`contour_area`]: the OpenCV functions themselves.
//!
//! ```
//! use chexlocalize_features::{
//!     Orientation, contour_area, convex_hull, mask_features, min_area_rect,
//! };
//! use ndarray::Array2;
//!
//! let square = [[0, 0], [4, 0], [4, 4], [0, 4], [2, 2]];
//! assert_eq!(
//!     convex_hull(&square, Orientation::CounterClockwise),
//!     vec![[0, 0], [4, 0], [4, 4], [0, 4]]
//! );
//! assert_eq!(contour_area(&square[..4]), 16.0);
//! let r = min_area_rect(&square);
//! assert_eq!((r.width, r.height), (4.0, 4.0));
//!
//! let mut mask = Array2::<u8>::zeros((10, 10));
//! mask.slice_mut(ndarray::s![2..5, 1..8]).fill(1); // a 3 x 7 block
//! let f = mask_features(&mask).expect("non-empty");
//! assert_eq!((f.n_contours, f.area_ratio, f.elongation), (1, 0.21, 3.0));
//! ```
#![deny(missing_docs)]

mod hull;
mod mask;
mod rect;

pub use hull::{Orientation, convex_hull, convex_hull_indices};
pub use mask::{MaskFeatures, mask_features, mask_features_in};
pub use rect::{RotatedRect, contour_area, min_area_rect};
