//! From saliency heatmaps to what CheXlocalize scores: masks exactly as
//! `heatmap_to_segmentation.py` makes them, and the most salient pixel for the pointing game.
//!
//! Every step reproduces the reference's arithmetic bit for bit: torch's bilinear upsampling
//! (float32, with its fused multiply-adds), the float32 normalisation, numpy's `uint8` cast,
//! OpenCV's Otsu threshold, contours, JET colormap and box filter, and Pillow's polygon fill. The
//! fast paths ([`segment_rle`], [`max_point`], [`segment_thresholds`]) never build the
//! full-size float image; the straightforward step-by-step versions are kept in
//! [`reference`](mod@crate::reference) as their test oracle.
//!
//! ```
//! use chexlocalize_saliency::{Threshold, max_point, segment, segment_rle, upsample_bilinear};
//! use ndarray::array;
//!
//! let map = array![[0.0f32, 0.2, 0.1], [0.1, 0.9, 0.3], [0.0, 0.2, 0.1]];
//! // The hottest pixel of the map upsampled to 100×120, without building the image:
//! let (row, col) = max_point(map.view(), 100, 120);
//! let big = upsample_bilinear(map.view(), 100, 120);
//! assert_eq!(big[[row, col]], big.iter().copied().fold(f32::MIN, f32::max));
//! // The Otsu mask, as pycocotools RLE and as a dense mask:
//! let rle = segment_rle(map.view(), 100, 120, Threshold::Otsu { smoothing: None })?;
//! let mask = segment(map.view(), 100, 120, Threshold::Otsu { smoothing: None });
//! assert_eq!(rle.decode(), mask.iter().copied().collect::<Vec<u8>>());
//! assert_eq!(mask[[row, col]], 1);
//! # Ok::<(), chexlocalize_rle::RleError>(())
//! ```
#![deny(missing_docs)]

mod axis;
mod cells;
#[cfg(target_arch = "x86_64")]
mod columns;
mod dispatch;
mod engine;
mod fill;
mod fma;
mod gray;
mod histogram;
mod jet;
mod parallel;
pub mod reference;
mod segment;
mod simd;
mod small;
mod smooth;
mod smoothed;
mod threshold;
mod upsample;

pub use engine::Upsampled;
pub use parallel::Parallelism;
pub use segment::{segment, segment_rle, segment_runs, segment_runs_with, segment_thresholds};
pub use smooth::{box_filter, smooth};
pub use threshold::{Threshold, normalization, otsu_threshold, quantize};
pub use upsample::{max_point, upsample_bilinear};
