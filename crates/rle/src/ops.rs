//! Set operations on runs, without decoding.

use crate::{Rle, RleError};

/// How [`Rle::merge`] combines two masks: pycocotools' `merge(rles, intersect=0)` is
/// [`Merge::Union`], `intersect=1` is [`Merge::Intersection`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Merge {
    /// A pixel is set when it is set in either mask.
    Union,
    /// A pixel is set when it is set in both masks.
    Intersection,
}

/// Walks two run lists in step, calling `f(len, a_set, b_set)` for every stretch where neither
/// changes.
fn zip_runs(a: &[u32], b: &[u32], mut f: impl FnMut(u64, bool, bool)) {
    let (mut ia, mut ib) = (0usize, 0usize);
    let (mut ra, mut rb) = (0u64, 0u64); // remaining in the current run
    loop {
        while ra == 0 {
            if ia == a.len() {
                return;
            }
            ra = u64::from(a[ia]);
            ia += 1;
        }
        while rb == 0 {
            if ib == b.len() {
                return;
            }
            rb = u64::from(b[ib]);
            ib += 1;
        }
        let c = ra.min(rb);
        f(c, ia % 2 == 0, ib % 2 == 0);
        ra -= c;
        rb -= c;
    }
}

impl Rle {
    fn same_size(&self, other: &Rle) -> Result<(), RleError> {
        if (self.height, self.width) != (other.height, other.width) {
            return Err(RleError::SizeMismatch {
                expected: (self.height, self.width),
                got: (other.height, other.width),
            });
        }
        Ok(())
    }

    /// Number of pixels set in both masks.
    pub fn intersection_area(&self, other: &Rle) -> Result<u64, RleError> {
        self.same_size(other)?;
        let mut n = 0;
        zip_runs(&self.runs, &other.runs, |c, a, b| {
            if a && b {
                n += c;
            }
        });
        Ok(n)
    }

    /// Number of pixels set in either mask.
    pub fn union_area(&self, other: &Rle) -> Result<u64, RleError> {
        Ok(self.area() + other.area() - self.intersection_area(other)?)
    }

    /// Intersection over union as pycocotools' `maskUtils.iou(dt, gt, iscrowd=[0])` gives it:
    /// `0.0` when the masks do not overlap, including when both are empty (no NaN).
    pub fn iou(&self, other: &Rle) -> Result<f64, RleError> {
        let i = self.intersection_area(other)?;
        if i == 0 {
            return Ok(0.0);
        }
        let u = self.area() + other.area() - i;
        Ok(i as f64 / u as f64)
    }

    /// The union or intersection of two masks (see [`Merge`]), like pycocotools' `merge`. The
    /// result's runs are canonical: no zero-length runs except a leading one.
    pub fn merge(&self, other: &Rle, how: Merge) -> Result<Rle, RleError> {
        self.same_size(other)?;
        let mut runs: Vec<u32> = Vec::with_capacity(self.runs.len() + other.runs.len());
        let mut cur = false;
        let mut len = 0u64;
        zip_runs(&self.runs, &other.runs, |c, a, b| {
            let v = match how {
                Merge::Union => a || b,
                Merge::Intersection => a && b,
            };
            if v != cur {
                runs.push(len as u32);
                len = 0;
                cur = v;
            }
            len += c;
        });
        runs.push(len as u32);
        Rle::from_runs(self.height, self.width, runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_empty_masks_is_zero_like_pycocotools() {
        // pycocotools: maskUtils.iou([empty], [empty], [0]) == [[0.0]].
        let e = Rle::empty(4, 4);
        assert_eq!(e.iou(&e), Ok(0.0));
    }

    #[test]
    fn size_mismatch_is_an_error() {
        let a = Rle::empty(2, 3);
        let b = Rle::empty(3, 2);
        assert!(matches!(
            a.intersection_area(&b),
            Err(RleError::SizeMismatch { .. })
        ));
        assert!(a.merge(&b, Merge::Union).is_err());
        assert!(a.merge(&b, Merge::Intersection).is_err());
    }
}
