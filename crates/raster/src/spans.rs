//! Masks as horizontal spans: what a scanline fill draws, without a `height × width` buffer.

use ndarray::Array2;

use crate::pillow::Canvas;

/// A [`Canvas`] that records the spans drawn on it. [`RowSpans::into_rows`] merges them into the
/// sorted, disjoint runs of each row — the form `chexlocalize_rle::Rle::from_row_runs` takes.
///
/// ```
/// use chexlocalize_raster::{RowSpans, fill_polygon};
///
/// let mut spans = RowSpans::new(4, 6);
/// fill_polygon(&mut spans, &[[1, 0], [3, 0], [3, 2], [1, 2]]);
/// fill_polygon(&mut spans, &[[2, 1], [5, 1], [5, 1]]);
/// let rows = spans.into_rows();
/// assert_eq!(rows.row(0), &[(1, 4)]);
/// assert_eq!(rows.row(1), &[(1, 6)]); // overlapping spans merged
/// assert_eq!(rows.row(3), &[]);
/// assert_eq!(rows.to_mask()[[2, 3]], 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RowSpans {
    height: usize,
    width: usize,
    /// `(y, x0, x1)` with `x1` exclusive.
    spans: Vec<(u32, u32, u32)>,
}

impl RowSpans {
    /// An empty canvas of `height × width` pixels.
    pub fn new(height: usize, width: usize) -> RowSpans {
        RowSpans {
            height,
            width,
            spans: Vec::new(),
        }
    }

    /// Records the span `start..end` (half-open) of row `y`, clipped to the canvas.
    pub fn push_span(&mut self, y: usize, start: usize, end: usize) {
        let end = end.min(self.width);
        if y < self.height && start < end {
            self.spans.push((y as u32, start as u32, end as u32));
        }
    }

    /// Records the runs of non-zero bytes of row `y` (given as `width` bytes; ignored outside
    /// the canvas). Long equal stretches are skipped eight bytes at a time.
    pub fn push_row(&mut self, y: usize, row: &[u8]) {
        if y >= self.height {
            return;
        }
        let row = &row[..row.len().min(self.width)];
        let n = row.len();
        let mut i = 0;
        let mut start: Option<usize> = None;
        while i < n {
            let splat = if start.is_some() { u64::MAX } else { 0 };
            while i + 8 <= n && word_set(&row[i..i + 8]) == splat {
                i += 8;
            }
            if i >= n {
                break;
            }
            match (start, row[i] != 0) {
                (None, true) => start = Some(i),
                (Some(s), false) => {
                    self.spans.push((y as u32, s as u32, i as u32));
                    start = None;
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(s) = start {
            self.spans.push((y as u32, s as u32, n as u32));
        }
    }

    /// The runs of every row: spans sorted and merged where they overlap or touch.
    pub fn into_rows(mut self) -> RowRuns {
        // Grouped by row with a counting sort (spans arrive polygon by polygon), then each row's
        // few spans sorted.
        let height = self.height;
        self.spans.retain(|&(y, _, _)| (y as usize) < height); // (a canvas clips: none are)
        let mut starts = vec![0usize; height + 1];
        for &(y, _, _) in &self.spans {
            starts[y as usize + 1] += 1;
        }
        for y in 0..self.height {
            starts[y + 1] += starts[y];
        }
        let mut sorted = vec![(0u32, 0u32, 0u32); self.spans.len()];
        let mut next = starts.clone();
        for &span in &self.spans {
            sorted[next[span.0 as usize]] = span;
            next[span.0 as usize] += 1;
        }
        for w in starts.windows(2) {
            sorted[w[0]..w[1]].sort_unstable();
        }
        self.spans = sorted;
        let mut offsets = Vec::with_capacity(self.height + 1);
        let mut runs: Vec<(u32, u32)> = Vec::with_capacity(self.spans.len());
        let mut i = 0;
        for y in 0..self.height {
            offsets.push(runs.len());
            let row_start = runs.len();
            while i < self.spans.len() && self.spans[i].0 as usize == y {
                let (_, a, b) = self.spans[i];
                match runs[row_start..].last_mut() {
                    Some(last) if a <= last.1 => last.1 = last.1.max(b),
                    _ => runs.push((a, b)),
                }
                i += 1;
            }
        }
        offsets.push(runs.len());
        RowRuns {
            height: self.height,
            width: self.width,
            offsets,
            runs,
        }
    }
}

impl Canvas for RowSpans {
    fn dims(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    fn span(&mut self, y: usize, x0: usize, x1: usize) {
        // Canvas dimensions come from `usize` sizes that RLE masks keep within u32.
        self.spans.push((y as u32, x0 as u32, x1 as u32 + 1));
    }
}

/// Eight bytes as a word with each byte 0x00 (zero) or 0xff (non-zero).
fn word_set(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    for (d, &b) in w.iter_mut().zip(bytes) {
        *d = if b != 0 { 0xff } else { 0 };
    }
    u64::from_ne_bytes(w)
}

/// A mask as the sorted, disjoint half-open column intervals `(start, end)` of each row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowRuns {
    height: usize,
    width: usize,
    offsets: Vec<usize>,
    runs: Vec<(u32, u32)>,
}

impl RowRuns {
    /// Builds from the runs of each row, in order; `None` if there are not `height` rows or a
    /// row's runs are unsorted, overlapping, empty or reach past `width`.
    pub fn from_rows<'a>(
        height: usize,
        width: usize,
        rows: impl IntoIterator<Item = &'a [(u32, u32)]>,
    ) -> Option<RowRuns> {
        let mut offsets = vec![0];
        let mut runs = Vec::new();
        for row in rows {
            let mut last = None;
            for &(a, b) in row {
                if a >= b || b as usize > width || last.is_some_and(|l| a <= l) {
                    return None;
                }
                last = Some(b);
            }
            runs.extend_from_slice(row);
            offsets.push(runs.len());
        }
        (offsets.len() == height + 1).then_some(RowRuns {
            height,
            width,
            offsets,
            runs,
        })
    }

    /// The runs of a dense row-major mask (non-zero = set).
    pub fn from_mask(mask: &Array2<u8>) -> RowRuns {
        let (height, width) = mask.dim();
        let mut spans = RowSpans::new(height, width);
        crate::for_each_row(mask, |y, row| spans.push_row(y, row));
        spans.into_rows()
    }

    /// `(height, width)`.
    pub fn dims(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// The runs of row `y` (empty for a row outside the mask).
    pub fn row(&self, y: usize) -> &[(u32, u32)] {
        match (self.offsets.get(y), self.offsets.get(y + 1)) {
            (Some(&a), Some(&b)) => &self.runs[a..b],
            _ => &[],
        }
    }

    /// The rows in order.
    pub fn rows(&self) -> impl Iterator<Item = &[(u32, u32)]> + '_ {
        self.offsets.windows(2).map(|w| &self.runs[w[0]..w[1]])
    }

    /// Number of set pixels.
    pub fn area(&self) -> u64 {
        self.runs.iter().map(|&(a, b)| u64::from(b - a)).sum()
    }

    /// The dense row-major mask (1 = set).
    pub fn to_mask(&self) -> Array2<u8> {
        let w = self.width;
        let mut m = vec![0u8; self.height * w];
        for (row, spans) in m.chunks_exact_mut(w.max(1)).zip(self.rows()) {
            for &(a, b) in spans {
                if let Some(span) = row.get_mut(a as usize..b as usize) {
                    span.fill(1);
                }
            }
        }
        Array2::from_shape_vec((self.height, w), m).unwrap_or_default()
    }
}
