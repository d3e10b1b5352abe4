//! [`Parallelism`]: whether one map's segmentation may use a second thread.

/// How one map's segmentation uses threads: the same mask either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Parallelism {
    /// All on the calling thread: for many maps at once, which are run in parallel instead
    /// (the command line).
    #[default]
    Sequential,
    /// The smoothed image (with its histogram) made in two parts of the rows, of about equal
    /// work, on rayon's pool: for one map at a time (`heatmap_to_mask` from Python). Otsu's
    /// threshold and the contours stay on the calling thread, and so does the mask without
    /// smoothing (its histogram split in two measured no faster: 1.00 against 1.04 ms per
    /// sample map).
    Halves,
}
