//! Run-length encoded binary masks, byte-compatible with [pycocotools].
//!
//! An [`Rle`] holds a binary mask of `height × width` pixels as run lengths over its pixels in
//! **column-major** order (down the first column, then the second, …), starting with a run of zeros
//! (which is empty when the first pixel is set) — exactly pycocotools' representation. Masks go in
//! and come out **row-major** (`&[u8]` of `h * w` bytes, non-zero = set), as `ndarray` and image
//! crates hold them.
//!
//! Area, bounding box, intersection, union, IoU and merges are computed on the runs, without
//! decoding, and [`Rle::to_counts_string`] / [`Rle::from_counts_str`] read and write pycocotools'
//! compressed `counts` text byte for byte (see the `codec` module for the format and what we
//! reject that pycocotools silently misreads).
//!
//! ```
//! use chexlocalize_rle::Rle;
//!
//! // A 3×4 mask (row-major): a 2×2 square in the top-left corner.
//! let mask = [1, 1, 0, 0,
//!             1, 1, 0, 0,
//!             0, 0, 0, 0];
//! let rle = Rle::encode(&mask, 3, 4)?;
//! assert_eq!(rle.runs(), &[0, 2, 1, 2, 7]);          // column-major runs, zeros first
//! assert_eq!(rle.to_counts_string(), "02106");       // what pycocotools writes (deltas from run 3 on)
//! assert_eq!(rle.area(), 4);
//! assert_eq!(rle.bbox(), [0.0, 0.0, 2.0, 2.0]);      // x, y, w, h
//!
//! let back = Rle::from_counts_str(3, 4, "02106")?;
//! assert_eq!(back.decode(), mask);
//!
//! let other = Rle::encode(&[0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0], 3, 4)?;
//! assert_eq!(rle.intersection_area(&other)?, 2);
//! assert_eq!(rle.iou(&other)?, 2.0 / 6.0);
//! # Ok::<(), chexlocalize_rle::RleError>(())
//! ```
//!
//! With the `serde` feature an [`Rle`] (de)serialises as pycocotools' JSON object
//! `{"size": [h, w], "counts": "..."}` (a list of run lengths is accepted for `counts` too).
//!
//! [pycocotools]: https://github.com/cocodataset/cocoapi
#![deny(missing_docs)]

mod codec;
mod error;
mod mask;
mod ops;
#[cfg(feature = "serde")]
mod serde_impl;

pub use error::RleError;

/// A binary mask as pycocotools run-length encoding. See the [crate documentation](crate).
///
/// Invariant: the runs sum to `height * width`. Runs of length zero are allowed where pycocotools
/// allows them (a leading zero-run when the first pixel is set; anywhere in a decoded string).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rle {
    height: usize,
    width: usize,
    runs: Vec<u32>,
}

impl Rle {
    /// Builds an RLE from run lengths, checking that they cover exactly `height * width` pixels.
    pub fn from_runs(height: usize, width: usize, runs: Vec<u32>) -> Result<Rle, RleError> {
        let expected = pixel_count(height, width)?;
        let got: u64 = runs.iter().map(|&r| u64::from(r)).sum();
        if got != expected {
            return Err(RleError::SumMismatch { expected, got });
        }
        Ok(Rle {
            height,
            width,
            runs,
        })
    }

    /// Parses pycocotools' compressed `counts` text for a mask of `height × width`.
    pub fn from_counts_str(height: usize, width: usize, counts: &str) -> Result<Rle, RleError> {
        let runs = codec::decode_counts(counts)?;
        Rle::from_runs(height, width, runs)
    }

    /// The compressed `counts` text, byte-identical to pycocotools' `rleToString`.
    pub fn to_counts_string(&self) -> String {
        let mut s = String::with_capacity(self.runs.len() * 2);
        codec::encode_counts(&self.runs, &mut s);
        s
    }

    /// An all-zero mask. Encoded as a single run, as pycocotools encodes an empty mask.
    ///
    /// A mask of zero pixels has the single run `0`, as pycocotools gives.
    pub fn empty(height: usize, width: usize) -> Rle {
        let n = height.saturating_mul(width);
        Rle {
            height,
            width,
            runs: vec![u32::try_from(n).unwrap_or(u32::MAX)],
        }
    }

    /// Mask height (rows).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Mask width (columns).
    pub fn width(&self) -> usize {
        self.width
    }

    /// The run lengths, column-major, starting with zeros.
    pub fn runs(&self) -> &[u32] {
        &self.runs
    }

    /// Number of set pixels (pycocotools `area`).
    pub fn area(&self) -> u64 {
        self.runs
            .iter()
            .skip(1)
            .step_by(2)
            .map(|&r| u64::from(r))
            .sum()
    }

    /// Whether no pixel is set.
    pub fn is_empty(&self) -> bool {
        self.area() == 0
    }

    /// The bounding box `[x, y, w, h]` as pycocotools' `toBbox` computes it (all zeros for an
    /// empty mask).
    pub fn bbox(&self) -> [f64; 4] {
        // pycocotools' rleToBbox, in its own unsigned arithmetic: only the first
        // floor(m / 2) * 2 runs are looked at; a set run that spans columns makes the box full
        // height.
        //
        // Deviation: an empty mask always gets the zero box (pycocotools computes a box from the
        // trailing zero-length run of a non-canonical encoding such as `[6, 0]`).
        let h = self.height as u64;
        let m = self.runs.len() / 2 * 2;
        if m == 0 || h == 0 || self.is_empty() {
            return [0.0; 4];
        }
        let (mut xs, mut ys) = (self.width as u64, h);
        let (mut xe, mut ye) = (0u64, 0u64);
        let mut cc = 0u64;
        let mut xp = 0u64;
        for (j, &r) in self.runs[..m].iter().enumerate() {
            cc += u64::from(r);
            let Some(t) = cc.checked_sub((j % 2) as u64) else {
                // A leading zero-length set run at the very start: pycocotools' unsigned
                // arithmetic wraps here; such a run sets no pixel, so it is skipped.
                continue;
            };
            let (y, x) = (t % h, t / h);
            if j % 2 == 0 {
                xp = x;
            } else if xp < x {
                ys = 0;
                ye = h - 1;
            }
            xs = xs.min(x);
            xe = xe.max(x);
            ys = ys.min(y);
            ye = ye.max(y);
        }
        [
            xs as f64,
            ys as f64,
            (xe - xs + 1) as f64,
            (ye - ys + 1) as f64,
        ]
    }

    /// Whether pixel `(row, col)` is set; `None` outside the mask.
    pub fn get(&self, row: usize, col: usize) -> Option<bool> {
        if row >= self.height || col >= self.width {
            return None;
        }
        let target = col as u64 * self.height as u64 + row as u64;
        let mut pos = 0u64;
        for (i, &r) in self.runs.iter().enumerate() {
            pos += u64::from(r);
            if target < pos {
                return Some(i % 2 == 1);
            }
        }
        Some(false)
    }
}

fn pixel_count(height: usize, width: usize) -> Result<u64, RleError> {
    (height as u64)
        .checked_mul(width as u64)
        .filter(|&n| n <= u64::from(u32::MAX))
        .ok_or(RleError::TooLarge { height, width })
}
