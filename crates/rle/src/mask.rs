//! Encoding row-major masks into column-major runs and decoding them back, fast.
//!
//! Neither direction walks the mask column by column (a stride of `width` bytes per pixel).
//! Encoding streams through the mask once, row by row, comparing each row with the one above
//! [`CHUNK`] bytes at a time; the few columns where something changed record the row, and these
//! per-column transitions are then stitched into column-major runs. Decoding turns the runs into
//! the same transitions, grouped per block of [`BLOCK`] columns, and replays them row by row.

use crate::{Rle, RleError, pixel_count};

const BLOCK: usize = 64;
const CHUNK: usize = 64;

/// Appends `row` to `per_col[k]` for every column `k` whose set/unset state differs between
/// `cur` and `prev` (the same columns of two consecutive rows). Equal stretches — most of a
/// blob-like mask — are skipped [`CHUNK`] bytes at a time.
fn row_changes(cur: &[u8], prev: &[u8], row: u32, per_col: &mut [Vec<u32>]) {
    let mut j = 0;
    for (c, p) in cur.chunks_exact(CHUNK).zip(prev.chunks_exact(CHUNK)) {
        if differ(c, p) {
            for (k, (&a, &b)) in c.iter().zip(p).enumerate() {
                if (a != 0) != (b != 0) {
                    per_col[j + k].push(row);
                }
            }
        }
        j += CHUNK;
    }
    for k in j..cur.len() {
        if (cur[k] != 0) != (prev[k] != 0) {
            per_col[k].push(row);
        }
    }
}

/// Whether two [`CHUNK`]-byte slices differ, as wide integer compares.
#[inline(always)]
fn differ(c: &[u8], p: &[u8]) -> bool {
    let word = |s: &[u8], i: usize| u128::from_ne_bytes(s[i..i + 16].try_into().unwrap_or([0; 16]));
    (0..CHUNK / 16).fold(0, |acc, i| acc | (word(c, 16 * i) ^ word(p, 16 * i))) != 0
}

/// Column-major runs from each column's top pixel and the rows `>= 1` (ascending) where the
/// column's value differs from the row above. `columns` yields the `width` columns in order.
pub(crate) fn stitch_columns<'a>(
    height: usize,
    width: usize,
    columns: impl Iterator<Item = (bool, &'a [u32])>,
) -> Vec<u32> {
    let h = height as u64;
    let n = h * width as u64;
    // Column-major positions where the value changes (ascending).
    let mut changes: Vec<u64> = Vec::with_capacity(2 * width + 1);
    let mut value_above = false; // value at the bottom of the previous column
    for (c, (top, rows)) in columns.enumerate() {
        let c = c as u64;
        if top != value_above {
            changes.push(c * h);
        }
        changes.extend(rows.iter().map(|&r| c * h + u64::from(r)));
        value_above = top ^ (rows.len() % 2 == 1);
    }
    let mut runs = Vec::with_capacity(changes.len() + 1);
    let mut last = 0u64;
    for &p in &changes {
        runs.push((p - last) as u32);
        last = p;
    }
    runs.push((n - last) as u32);
    runs
}

impl Rle {
    /// Encodes a row-major mask of `height × width` bytes (non-zero = set).
    ///
    /// pycocotools starts a new run whenever the byte value changes, so a mask holding both `1`
    /// and `255` would get spurious runs there; we treat every non-zero byte as set.
    pub fn encode(mask: &[u8], height: usize, width: usize) -> Result<Rle, RleError> {
        let n = pixel_count(height, width)?;
        if mask.len() as u64 != n {
            return Err(RleError::SizeMismatch {
                expected: (height, width),
                got: (mask.len(), 1),
            });
        }
        if n == 0 {
            return Ok(Rle::empty(height, width));
        }
        // For every column, the rows where its value differs from the row above, found by
        // streaming through the mask row by row (one pass over contiguous memory).
        let mut per_col: Vec<Vec<u32>> = vec![Vec::new(); width];
        for (r, (cur, prev)) in mask
            .chunks_exact(width)
            .skip(1)
            .zip(mask.chunks_exact(width))
            .enumerate()
        {
            row_changes(cur, prev, (r + 1) as u32, &mut per_col);
        }
        let runs = stitch_columns(
            height,
            width,
            per_col
                .iter()
                .enumerate()
                .map(|(c, rows)| (mask[c] != 0, rows.as_slice())),
        );
        Ok(Rle {
            height,
            width,
            runs,
        })
    }

    /// Decodes into a new row-major buffer of `height * width` bytes holding 0 or 1.
    pub fn decode(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.height * self.width];
        self.fill_row_major(&mut out);
        out
    }

    /// Decodes into `out` (row-major, `height * width` bytes), overwriting it with 0 or 1.
    pub fn decode_into(&self, out: &mut [u8]) -> Result<(), RleError> {
        if self.height.checked_mul(self.width) != Some(out.len()) {
            return Err(RleError::SizeMismatch {
                expected: (self.height, self.width),
                got: (out.len(), 1),
            });
        }
        out.fill(0);
        self.fill_row_major(out);
        Ok(())
    }

    /// Sets the pixels of `out` (all zero on entry) covered by set runs.
    fn fill_row_major(&self, out: &mut [u8]) {
        let (h, w) = (self.height, self.width);
        if h == 0 || w == 0 {
            return;
        }
        // Toggle events (row, column) grouped per column block.
        let mut events: Vec<Vec<(u32, u8)>> = vec![Vec::new(); w.div_ceil(BLOCK)];
        let mut pos = 0u64;
        let hh = h as u64;
        for (i, &r) in self.runs.iter().enumerate() {
            let start = pos;
            pos += u64::from(r);
            if i % 2 == 0 || r == 0 {
                continue;
            }
            // The set run covers [start, pos): one interval of rows per column it touches.
            let (c0, c1) = (start / hh, (pos - 1) / hh);
            for c in c0..=c1 {
                let lo = if c == c0 { start % hh } else { 0 };
                let hi = if c == c1 { (pos - 1) % hh + 1 } else { hh };
                let (b, k) = ((c as usize) / BLOCK, (c as usize % BLOCK) as u8);
                events[b].push((lo as u32, k));
                if hi < hh {
                    events[b].push((hi as u32, k));
                }
            }
        }
        let mut state = [0u8; BLOCK];
        for (b, ev) in events.iter_mut().enumerate() {
            if ev.is_empty() {
                continue;
            }
            ev.sort_unstable();
            let block = b * BLOCK;
            let bw = BLOCK.min(w - block);
            state.fill(0);
            let mut e = 0;
            let mut active = 0usize;
            for r in 0..h {
                while e < ev.len() && ev[e].0 as usize == r {
                    let k = ev[e].1 as usize;
                    state[k] ^= 1;
                    if state[k] == 1 {
                        active += 1;
                    } else {
                        active -= 1;
                    }
                    e += 1;
                }
                if active > 0 {
                    out[r * w + block..r * w + block + bw].copy_from_slice(&state[..bw]);
                } else if e >= ev.len() {
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zero_run_when_first_pixel_set() {
        let r = Rle::encode(&[1, 0, 0, 0], 2, 2).expect("encode");
        assert_eq!(r.runs(), &[0, 1, 3]);
        assert_eq!(r.decode(), vec![1, 0, 0, 0]);
    }

    #[test]
    fn wrong_buffer_length() {
        assert!(matches!(
            Rle::encode(&[0; 5], 2, 3),
            Err(RleError::SizeMismatch { .. })
        ));
        let r = Rle::empty(2, 3);
        assert!(r.decode_into(&mut [0; 5]).is_err());
    }

    #[test]
    fn zero_sized() {
        let r = Rle::encode(&[], 0, 7).expect("encode");
        assert_eq!(r.runs(), &[0]);
        assert!(r.decode().is_empty());
    }
}
