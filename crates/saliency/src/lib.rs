//! From saliency heatmaps to what CheXlocalize scores: the heatmap upsampled to the X-ray's size
//! exactly as torch does it, and the most salient pixel for the pointing game.
//!
//! ```
//! use chexlocalize_saliency::{max_point, upsample_bilinear};
//! use ndarray::array;
//!
//! let map = array![[0.0f32, 0.2], [0.1, 0.9]];
//! let big = upsample_bilinear(map.view(), 100, 120);
//! assert_eq!(big.dim(), (100, 120));
//! // The hottest pixel of the upsampled map, without building it:
//! let (row, col) = max_point(map.view(), 100, 120);
//! assert_eq!(big[[row, col]], big.iter().copied().fold(f32::MIN, f32::max));
//! ```
#![deny(missing_docs)]

mod fma;
mod segment;
mod smooth;
mod upsample;

pub use segment::{Threshold, normalization, otsu_fill, otsu_threshold, quantize, segment};
pub use smooth::{box_filter, smooth};
pub use upsample::{max_point, upsample_bilinear};
