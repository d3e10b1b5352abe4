//! Set operations on runs, without decoding: each walks the two masks' set spans (a pair of
//! runs, zeros then ones, is one span), never pixel by pixel.

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

/// Calls `f(start, end)` for every non-empty overlap of a set span of `a` with one of `b`, in
/// order: the overlap of the current two spans, then the one that ends first is done.
#[inline(always)]
fn overlaps(a: &[u32], b: &[u32], mut f: impl FnMut(u64, u64)) {
    let (mut a, mut b) = (Spans::new(a), Spans::new(b));
    let (mut x, mut y) = (a.next(), b.next());
    while let (Some(p), Some(q)) = (x, y) {
        let (start, end) = (p.0.max(q.0), p.1.min(q.1));
        if start < end {
            f(start, end);
        }
        if p.1 <= q.1 {
            x = a.next();
        } else {
            y = b.next();
        }
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
        overlaps(&self.runs, &other.runs, |start, end| n += end - start);
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
        // The runs sum to this (an `Rle`'s invariant); larger masks cannot be written.
        let total = crate::pixel_count(self.height, self.width)?;
        let mut out = Merged::new(self.runs.len() + other.runs.len());
        match how {
            // The set spans of both in order of start, each joined to the last when they
            // overlap or touch.
            Merge::Union => {
                let (mut a, mut b) = (Spans::new(&self.runs), Spans::new(&other.runs));
                let (mut x, mut y) = (a.next(), b.next());
                while let Some(s) = match (x, y) {
                    (Some(p), q) if q.is_none_or(|q| p.0 <= q.0) => {
                        x = a.next();
                        Some(p)
                    }
                    (_, q) => {
                        y = b.next();
                        q
                    }
                } {
                    out.add(s);
                }
            }
            Merge::Intersection => {
                overlaps(&self.runs, &other.runs, |start, end| out.add((start, end)))
            }
        }
        Ok(Rle {
            height: self.height,
            width: self.width,
            runs: out.finish(total),
        })
    }
}

/// The set spans `[start, end)` of a run list, in order, without the empty ones.
struct Spans<'a> {
    runs: &'a [u32],
    /// The position where the next pair of runs (zeros, then ones) starts.
    at: u64,
}

impl<'a> Spans<'a> {
    fn new(runs: &'a [u32]) -> Spans<'a> {
        Spans { runs, at: 0 }
    }

    #[inline(always)]
    fn next(&mut self) -> Option<(u64, u64)> {
        while let [zeros, ones, rest @ ..] = self.runs {
            let start = self.at + u64::from(*zeros);
            self.at = start + u64::from(*ones);
            self.runs = rest;
            if *ones > 0 {
                return Some((start, self.at));
            }
        }
        None
    }
}

/// Run lengths made from set spans given in order of start, joining those that overlap or
/// touch: zeros first (zero long when the mask starts set), no other empty run.
struct Merged {
    runs: Vec<u32>,
    /// The span being extended, if any; where the last one written ended.
    open: Option<(u64, u64)>,
    written: u64,
}

impl Merged {
    fn new(capacity: usize) -> Merged {
        Merged {
            runs: Vec::with_capacity(capacity),
            open: None,
            written: 0,
        }
    }

    #[inline(always)]
    fn add(&mut self, (start, end): (u64, u64)) {
        match &mut self.open {
            Some(open) if start <= open.1 => open.1 = open.1.max(end),
            open => {
                if let Some(done) = open.replace((start, end)) {
                    self.write(done);
                }
            }
        }
    }

    fn write(&mut self, (start, end): (u64, u64)) {
        // Lengths within a mask of at most `u32::MAX` pixels (the runs were u32 and summed to it).
        self.runs.push((start - self.written) as u32);
        self.runs.push((end - start) as u32);
        self.written = end;
    }

    /// The runs of a mask of `total` pixels.
    fn finish(mut self, total: u64) -> Vec<u32> {
        if let Some(done) = self.open.take() {
            self.write(done);
        }
        if self.runs.is_empty() || self.written < total {
            self.runs.push((total - self.written) as u32);
        }
        self.runs
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
