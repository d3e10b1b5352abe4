//! Building an [`Rle`] from a mask given as horizontal runs per row, without a dense buffer.
//!
//! Scanline algorithms (polygon fills, thresholds of a row at a time) produce a mask as sorted
//! column intervals per row. The column-major runs only change where a column's value differs
//! from the row above, so we compute, row by row, the symmetric difference of consecutive rows'
//! intervals (a merge of two sorted lists of boundaries) and record each column it covers. The
//! work is proportional to the number of such changes, not to `height * width`.

use crate::mask::stitch_columns;
use crate::{Rle, RleError, pixel_count};

/// Appends to `out` the column intervals `[a, b)` where the union of `prev` and the union of
/// `cur` differ: the boundaries of both rows merged, equal boundaries cancelling.
fn row_xor(prev: &[(u32, u32)], cur: &[(u32, u32)], out: &mut Vec<(u32, u32)>) {
    let mut bounds = prev.iter().flat_map(|&(a, b)| [a, b]).peekable();
    let mut other = cur.iter().flat_map(|&(a, b)| [a, b]).peekable();
    let mut open: Option<u32> = None;
    let mut toggle = |x: u32, out: &mut Vec<(u32, u32)>| match open.take() {
        Some(a) if a != x => out.push((a, x)),
        Some(_) => {}
        None => open = Some(x),
    };
    loop {
        let x = match (bounds.peek(), other.peek()) {
            (Some(&a), Some(&b)) if a <= b => bounds.next(),
            (Some(_), Some(_)) => other.next(),
            (Some(_), None) => bounds.next(),
            (None, Some(_)) => other.next(),
            (None, None) => break,
        };
        if let Some(x) = x {
            toggle(x, out);
        }
    }
}

impl Rle {
    /// Encodes a mask given as horizontal runs: `rows` yields, for each of the `height` rows in
    /// order, the half-open column intervals `(start, end)` of its set pixels, sorted, not
    /// overlapping (touching is fine), within `0..=width`. Empty intervals are ignored.
    ///
    /// ```
    /// use chexlocalize_rle::Rle;
    ///
    /// // A 3×4 mask with a 2×2 square in the top-left corner.
    /// let rows: [&[(u32, u32)]; 3] = [&[(0, 2)], &[(0, 1), (1, 2)], &[]];
    /// let rle = Rle::from_row_runs(3, 4, rows)?;
    /// assert_eq!(rle, Rle::encode(&[1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0], 3, 4)?);
    /// # Ok::<(), chexlocalize_rle::RleError>(())
    /// ```
    pub fn from_row_runs<'a>(
        height: usize,
        width: usize,
        rows: impl IntoIterator<Item = &'a [(u32, u32)]>,
    ) -> Result<Rle, RleError> {
        pixel_count(height, width)?;
        // Every column's changes, as (row, column) pairs in row order, then grouped by column.
        let mut flips: Vec<(u32, u32)> = Vec::new();
        let mut diff: Vec<(u32, u32)> = Vec::new();
        let mut prev: &[(u32, u32)] = &[];
        let mut count = 0usize;
        for (r, row) in rows.into_iter().enumerate() {
            if r >= height {
                return Err(RleError::SizeMismatch {
                    expected: (height, width),
                    got: (r + 1, width),
                });
            }
            check_row(row, width, r, height)?;
            diff.clear();
            row_xor(prev, row, &mut diff);
            for &(a, b) in &diff {
                flips.extend((a..b).map(|c| (c, r as u32)));
            }
            prev = row;
            count = r + 1;
        }
        if count != height {
            return Err(RleError::SizeMismatch {
                expected: (height, width),
                got: (count, width),
            });
        }
        if height == 0 || width == 0 {
            return Ok(Rle::empty(height, width));
        }
        // The rows grouped by column, each column's rows ascending (a counting sort, stable:
        // the flips come in row order).
        let mut starts = vec![0usize; width + 1];
        for &(c, _) in &flips {
            starts[c as usize + 1] += 1;
        }
        for c in 0..width {
            starts[c + 1] += starts[c];
        }
        let mut flip_rows = vec![0u32; flips.len()];
        let mut next = starts.clone();
        for &(c, r) in &flips {
            flip_rows[next[c as usize]] = r;
            next[c as usize] += 1;
        }
        let columns = starts.windows(2).map(|w| {
            let col = &flip_rows[w[0]..w[1]];
            // A change at row 0 is the top pixel being set (the row above counts as unset).
            match col.split_first() {
                Some((0, rest)) => (true, rest),
                _ => (false, col),
            }
        });
        let runs = stitch_columns(height, width, columns);
        Ok(Rle {
            height,
            width,
            runs,
        })
    }
}

/// Refuses a row whose intervals are unsorted, overlapping or outside `0..=width`.
fn check_row(row: &[(u32, u32)], width: usize, r: usize, height: usize) -> Result<(), RleError> {
    let mut last = 0u32;
    for &(a, b) in row {
        if a > b || a < last || b as usize > width {
            return Err(RleError::InvalidRowRuns {
                row: r,
                height,
                width,
            });
        }
        last = b;
    }
    Ok(())
}
