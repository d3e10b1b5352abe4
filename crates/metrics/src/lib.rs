//! The scores of CheXlocalize — IoU, the pointing game, bootstrap confidence intervals and the
//! percentage decrease from the human benchmark — numerically identical to the reference's numpy
//! and pandas code. Light on purpose: it depends only on `chexlocalize-rle` and `rand_chacha`.
//!
//! ```
//! use chexlocalize_metrics::{
//!     CiLevel, Clusters, NumpyLegacyRng, Scoring, bootstrap, confidence_interval, iou,
//!     pair_differences, paired_bootstrap,
//! };
//! use chexlocalize_rle::Rle;
//!
//! let gt = Rle::encode(&[1, 1, 0, 0], 2, 2)?;
//! let pred = Rle::encode(&[0, 1, 0, 1], 2, 2)?;
//! assert_eq!(iou(&pred, &gt, Scoring::TruePositivesOnly)?, 1.0 / 3.0);
//!
//! // Per-CXR scores of two tasks (NaN = not applicable), bootstrapped as `eval.py --seed 0`.
//! let columns = vec![vec![0.5, f64::NAN, 0.25, 1.0], vec![1.0, 0.0, 0.0, 1.0]];
//! let replicates = bootstrap(&columns, 1000, &mut NumpyLegacyRng::new(0));
//! let ci = confidence_interval(&replicates.iter().map(|r| r[0]).collect::<Vec<_>>());
//! assert!(ci.lower <= ci.mean && ci.mean <= ci.upper);
//!
//! // Two methods on the same CXRs, one shared draw per replicate: is the first better?
//! let other = vec![vec![0.25, f64::NAN, 0.25, 0.75], vec![1.0, 0.0, 0.0, 0.0]];
//! let paired = paired_bootstrap(&[columns.clone(), other], &Clusters::singletons(4), 1000,
//!     &mut NumpyLegacyRng::new(0));
//! let diffs = pair_differences(&paired, CiLevel::NINETY_FIVE);
//! assert_eq!((diffs[0].a, diffs[0].b, diffs[0].column), (0, 1, 0));
//! assert!(diffs[0].lower <= diffs[0].mean && diffs[0].p > 0.0);
//!
//! // Without parity constraints, prefer the default ChaCha generator.
//! let modern = bootstrap(&columns, 1000, &mut chexlocalize_metrics::ChaChaSampler::default());
//! assert_eq!(modern.len(), 1000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod bootstrap;
mod compare;
mod localisation;
mod numeric;
mod pct;
mod rng;
mod score;
mod select;
mod surface;
mod tune;

pub use bootstrap::{
    Ci, CiLevel, Clusters, bootstrap, bootstrap_clustered, confidence_interval,
    confidence_interval_at,
};
pub use compare::{PairDiff, holm, pair_differences, paired_bootstrap};
pub use localisation::{Localisation, localisation};
pub use numeric::{nanmean, numpy_round, pairwise_sum, row_nanmean, sequential_sum};
pub use pct::{PctDecrease, PctRow, percentage_decrease};
pub use rng::{ChaChaSampler, IndexSampler, NumpyLegacyRng};
pub use score::{
    Scoring, ToleranceBoundary, dice, hit_with_tolerance, hit_within, human_point_to_pixel, iou,
    point_inside,
};
pub use surface::{Spacing, hd95, robust_hausdorff, surface_dice};
pub use tune::{GridError, MAX_GRID_LEN, arange, parse_grid, python_argmax};

/// Why a score could not be computed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Two masks of different sizes (the RLE error is the whole message: it is not repeated as
    /// a cause).
    #[error(transparent)]
    Rle(#[from] chexlocalize_rle::RleError),
    /// A human benchmark point outside the image.
    #[error(
        "point [{x}, {y}] is past the edge of the {height}x{width} image: its {axis} index int({coordinate}) is not in [-{size}, {size}), or not finite (the original fails there: IndexError, or int() of NaN)"
    )]
    PointOutside {
        /// "row" (from y) or "column" (from x).
        axis: &'static str,
        /// The coordinate that indexes that axis.
        coordinate: f64,
        /// The size of that axis.
        size: usize,
        /// The point's x.
        x: f64,
        /// The point's y.
        y: f64,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
    },
    /// The two bootstrap tables of [`percentage_decrease`] hold different numbers of
    /// replicates (rows).
    #[error(
        "the human benchmark has {human_benchmark} bootstrap replicates, the predictions {predictions}"
    )]
    ReplicateCountMismatch {
        /// Replicates in the human benchmark's table.
        human_benchmark: usize,
        /// Replicates in the predictions' table.
        predictions: usize,
    },
    /// A heatmap without one value per pixel of its ground truth.
    #[error("the heatmap has {found} values, the ground truth {expected} pixels")]
    MapSize {
        /// Pixels of the ground truth.
        expected: usize,
        /// Values of the map.
        found: usize,
    },
    /// `k` of the top-k intersection out of range.
    #[error("k: expected 1 to {pixels} (the pixels of the image), found {k}")]
    TopK {
        /// The `k` asked for.
        k: usize,
        /// Pixels of the image.
        pixels: usize,
    },
    /// The two bootstrap tables of [`percentage_decrease`] do not have the same columns (in any
    /// order).
    #[error("the bootstrap tables have different columns: {human_benchmark:?} and {predictions:?}")]
    ColumnMismatch {
        /// The human benchmark table's column names, in its order.
        human_benchmark: Vec<String>,
        /// The predictions table's column names, in its order.
        predictions: Vec<String>,
    },
}
