//! Errors of RLE parsing and arithmetic.

use std::fmt;

/// Why a run-length encoding was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RleError {
    /// A `counts` character outside pycocotools' alphabet `'0'..='o'` (48..=111).
    InvalidChar {
        /// Byte offset in the string.
        position: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The string ends inside a value (its last character has the continuation bit `0x20`).
    Truncated {
        /// Byte offset where the unfinished value starts.
        position: usize,
    },
    /// A value with more 5-bit groups than a 32-bit run length can need.
    ValueTooLarge {
        /// Byte offset where the value starts.
        position: usize,
    },
    /// A run length that is negative or above `u32::MAX` after undoing the delta coding.
    InvalidRun {
        /// Index of the run.
        index: usize,
        /// The decoded value.
        value: i64,
    },
    /// The runs do not cover the mask exactly.
    SumMismatch {
        /// `height * width`.
        expected: u64,
        /// The sum of the runs.
        got: u64,
    },
    /// Two masks of different sizes were combined, or a mask buffer has the wrong length.
    SizeMismatch {
        /// The expected `(height, width)` or `(len, 1)` for buffers.
        expected: (usize, usize),
        /// What was found.
        got: (usize, usize),
    },
    /// Row intervals given to [`Rle::from_row_runs`](crate::Rle::from_row_runs) that are not
    /// sorted, overlap, or reach past the width.
    InvalidRowRuns {
        /// The row.
        row: usize,
        /// Mask height.
        height: usize,
        /// Mask width.
        width: usize,
    },
    /// More than `u32::MAX` pixels: pycocotools' run lengths are 32-bit.
    TooLarge {
        /// Mask height.
        height: usize,
        /// Mask width.
        width: usize,
    },
}

impl fmt::Display for RleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RleError::InvalidChar { position, byte } => write!(
                f,
                "counts string: byte {byte:#04x} at offset {position}, expected a character from '0' to 'o'"
            ),
            RleError::Truncated { position } => write!(
                f,
                "counts string: the value starting at offset {position} is cut off (expected a final character without the continuation bit)"
            ),
            RleError::ValueTooLarge { position } => write!(
                f,
                "counts string: the value starting at offset {position} is longer than 7 characters, expected a 32-bit run length"
            ),
            RleError::InvalidRun { index, value } => write!(
                f,
                "counts string: run {index} decodes to {value}, expected a length from 0 to {}",
                u32::MAX
            ),
            RleError::SumMismatch { expected, got } => {
                write!(f, "runs cover {got} pixels, expected h*w = {expected}")
            }
            RleError::SizeMismatch { expected, got } => write!(
                f,
                "size {}x{}, expected {}x{}",
                got.0, got.1, expected.0, expected.1
            ),
            RleError::InvalidRowRuns { row, height, width } => write!(
                f,
                "row {row} of a {height}x{width} mask: expected sorted, non-overlapping column intervals within 0..={width}"
            ),
            RleError::TooLarge { height, width } => write!(
                f,
                "mask of {height}x{width} pixels, expected at most {} pixels",
                u32::MAX
            ),
        }
    }
}

impl std::error::Error for RleError {}
