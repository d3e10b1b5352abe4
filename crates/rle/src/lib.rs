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
//! assert_eq!(rle.merge(&other, chexlocalize_rle::Merge::Intersection)?.area(), 2);
//! assert_eq!(rle.merge(&other, chexlocalize_rle::Merge::Union)?.area(), 6);
//! # Ok::<(), chexlocalize_rle::RleError>(())
//! ```
//!
//! Segmentation files (`{cxr_id: {task: {"size": [h, w], "counts": "..."}}}`) are read and
//! written by `chexlocalize-io`, in one place.
//!
//! [pycocotools]: https://github.com/cocodataset/cocoapi
#![deny(missing_docs)]

mod bbox;
mod codec;
mod error;
mod mask;
mod ops;
mod rows;

pub use error::RleError;
pub use ops::Merge;

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

    /// The area of the mask of `height × width` whose compressed `counts` text is `counts`:
    /// `Rle::from_counts_str(height, width, counts)?.area()`, with the same errors, without
    /// keeping its runs.
    pub fn area_of_counts_str(height: usize, width: usize, counts: &str) -> Result<u64, RleError> {
        let (mut ones, mut odd) = (0u64, false);
        for_each_checked(height, width, counts, |run| {
            if odd {
                ones += u64::from(run);
            }
            odd = !odd;
        })?;
        Ok(ones)
    }

    /// The compressed `counts` text, byte-identical to pycocotools' `rleToString`.
    pub fn to_counts_string(&self) -> String {
        let mut s = String::with_capacity(self.runs.len() * 2);
        codec::encode_counts(&self.runs, &mut s);
        s
    }

    /// An all-zero mask, encoded as pycocotools encodes one: a single run of zeros (`[0]` for a
    /// mask of zero pixels).
    ///
    /// pycocotools cannot hold more than `u32::MAX` pixels (its run lengths are 32-bit), and
    /// [`Rle::encode`] / [`Rle::from_runs`] refuse such sizes; for them this returns runs of
    /// `u32::MAX` zeros joined by zero-length set runs, so the runs still cover the mask.
    pub fn empty(height: usize, width: usize) -> Rle {
        let max = u128::from(u32::MAX);
        let mut left = height as u128 * width as u128;
        let mut runs = Vec::with_capacity(1);
        while left > max {
            runs.extend([u32::MAX, 0]);
            left -= max;
        }
        runs.push(u32::try_from(left).unwrap_or(u32::MAX));
        Rle {
            height,
            width,
            runs,
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

    /// The bounding box `[x, y, w, h]` of the set pixels, as pycocotools' `toBbox` gives it
    /// (`[0, 0, 0, 0]` for an empty mask).
    ///
    /// pycocotools 2.0.11's `rleToBbox` looks at each non-empty set run: its first and last pixel
    /// give the columns, and a run that continues into a later column makes the box full height
    /// (the run then covers the bottom row of one column and the top row of the next). This is
    /// the tight box of the set pixels, and is what we compute.
    ///
    /// Deviation: for an empty mask written with two or more runs (a zero-length set run, as in
    /// `[6, 0]`; pycocotools' own encoder never writes one) pycocotools returns its unsigned
    /// start values `[w, h, 1 - w, 1 - h]` wrapped to 32 bits (`[3, 2, 4294967294, 4294967295]`
    /// for 2×3); we return the zero box, as for the canonical empty mask `[6]`.
    pub fn bbox(&self) -> [f64; 4] {
        let mut b = bbox::Bbox::new(self.height);
        self.runs.iter().for_each(|&r| b.add(r));
        b.finish()
    }

    /// The [`bbox`](Rle::bbox) of the mask of `height × width` whose compressed `counts` text
    /// is `counts`: `Rle::from_counts_str(height, width, counts)?.bbox()`, with the same errors,
    /// without keeping its runs.
    pub fn bbox_of_counts_str(
        height: usize,
        width: usize,
        counts: &str,
    ) -> Result<[f64; 4], RleError> {
        let mut b = bbox::Bbox::new(height);
        for_each_checked(height, width, counts, |run| b.add(run))?;
        Ok(b.finish())
    }

    /// Whether pixel `(row, col)` is set; `None` outside the mask. Walks the runs (linear in
    /// their number; decode once to look up many pixels).
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

/// Gives each run of the compressed `counts` text to `f`, then checks that they cover the
/// `height × width` mask, as [`Rle::from_counts_str`] checks them.
fn for_each_checked(
    height: usize,
    width: usize,
    counts: &str,
    mut f: impl FnMut(u32),
) -> Result<(), RleError> {
    let mut total = 0u64;
    codec::for_each_count(counts, |runs| {
        for &run in runs {
            total += u64::from(run);
            f(run);
        }
    })?;
    let expected = pixel_count(height, width)?;
    if total != expected {
        return Err(RleError::SumMismatch {
            expected,
            got: total,
        });
    }
    Ok(())
}

fn pixel_count(height: usize, width: usize) -> Result<u64, RleError> {
    (height as u64)
        .checked_mul(width as u64)
        .filter(|&n| n <= u64::from(u32::MAX))
        .ok_or(RleError::TooLarge { height, width })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bbox_like_pycocotools() {
        // Expected boxes: pycocotools 2.0.11,
        // `mask.toBbox(mask.frPyObjects({'size': [h, w], 'counts': runs}, h, w))`.
        let bbox = |h, w, runs: &[u32]| {
            Rle::from_runs(h, w, runs.to_vec())
                .expect("valid runs")
                .bbox()
        };
        // A zero-length set run in the middle is skipped: [1, 0, 1, 2].
        assert_eq!(bbox(4, 3, &[3, 0, 1, 2, 6]), [1.0, 0.0, 1.0, 2.0]);
        // A run from the bottom of column 0 into column 1 makes the box full height: [0, 0, 2, 3].
        assert_eq!(bbox(3, 2, &[2, 2, 2]), [0.0, 0.0, 2.0, 3.0]);
        // Leading zero run (first pixel set): [0, 0, 1, 1].
        assert_eq!(bbox(2, 2, &[0, 1, 3]), [0.0, 0.0, 1.0, 1.0]);
        // Canonical empty mask: [0, 0, 0, 0].
        assert_eq!(bbox(2, 3, &[6]), [0.0; 4]);
        // Documented deviation: pycocotools gives [3, 2, 4294967294, 4294967295] here.
        assert_eq!(bbox(2, 3, &[6, 0]), [0.0; 4]);
    }

    #[test]
    fn area_of_counts_str_is_the_area_of_from_counts_str() {
        // Valid texts, and a bad char, a truncated value, a wrong sum and an oversized mask.
        let cases = [
            (3, 3, "0111"),
            (3, 4, "<"),
            (4, 3, "32012"),
            (2, 2, "01"),
            (3, 3, "01!1"),
            (3, 3, "0o"),
            (3, 3, "011"),
            (1 << 20, 1 << 13, "0"),
        ];
        for (h, w, s) in cases {
            let want = Rle::from_counts_str(h, w, s).map(|r| r.area());
            assert_eq!(Rle::area_of_counts_str(h, w, s), want, "{h}x{w} {s:?}");
        }
    }

    #[test]
    fn empty_masks() {
        let e = Rle::empty(3, 4);
        assert_eq!(e.runs(), &[12]);
        // pycocotools 2.0.11: mask.encode(np.zeros((3, 4), np.uint8, order='F'))['counts'] == b'<'
        assert_eq!(e.to_counts_string(), "<");
        assert!(e.is_empty());
        assert_eq!(Rle::empty(0, 5).runs(), &[0]);
        // Beyond pycocotools' 32-bit runs the runs still cover the mask.
        let big = Rle::empty(1 << 20, 1 << 13);
        let sum: u64 = big.runs().iter().map(|&r| u64::from(r)).sum();
        assert_eq!(sum, 1 << 33);
        assert_eq!((big.area(), big.bbox()), (0, [0.0; 4]));
        assert!(matches!(
            Rle::from_runs(1 << 20, 1 << 13, big.runs().to_vec()),
            Err(RleError::TooLarge { .. })
        ));
    }

    #[test]
    fn counts_that_do_not_cover_the_mask_are_refused() {
        // "<" is one run of 12: too many for 2×3, too few for 4×4.
        assert_eq!(
            Rle::from_counts_str(2, 3, "<"),
            Err(RleError::SumMismatch {
                expected: 6,
                got: 12
            })
        );
        let err = Rle::from_counts_str(4, 4, "<").expect_err("12 of 16 pixels");
        assert_eq!(err.to_string(), "runs cover 12 pixels, expected h*w = 16");
        assert_eq!(
            Rle::from_counts_str(2, 3, "0~").map_err(|e| e.to_string()),
            Err(
                "counts string: byte 0x7e at offset 1, expected a character from '0' to 'o'".into()
            )
        );
    }

    #[test]
    fn get_outside_is_none() {
        let r = Rle::from_runs(2, 3, vec![1, 1, 4]).expect("valid runs");
        assert_eq!(r.get(1, 0), Some(true));
        assert_eq!(r.get(0, 0), Some(false));
        assert_eq!((r.get(2, 0), r.get(0, 3)), (None, None));
    }
}
