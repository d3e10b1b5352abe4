//! pycocotools' compressed `counts` text (`rleToString` / `rleFrString` in `maskApi.c`).
//!
//! This module is the one place where the text format and its quirks live.
//!
//! **Format.** The runs are written one after another, each as a little-endian sequence of 5-bit
//! groups, one character per group. A character is `48 + group` (offset 48 = `'0'`), with bit
//! `0x20` set when another group of the same value follows, so the alphabet is `'0'..='o'`
//! (48..=111). In the last group of a value, bit `0x10` is the sign bit: the value is
//! sign-extended from it. The writer emits groups until the remaining bits are all copies of
//! that sign bit.
//!
//! **Delta coding.** From the fourth run on (index `i > 2`; not `i >= 2`, a pycocotools detail we
//! copy), the value written is `runs[i] - runs[i - 2]`, the difference to the previous run of
//! the same colour, so similar run lengths cost one or two characters. Runs 0, 1 and 2 are
//! written as they are.
//!
//! **Zero-length runs** are ordinary values: pycocotools writes a leading `0` run when the first
//! pixel is set, and a string may hold zero-length runs anywhere. We keep every one of them,
//! so `from_counts_str(s).to_counts_string() == s` for every string pycocotools writes.
//!
//! **Non-minimal values** such as `"Y0"` for 9 (a continuation group followed by a zero group;
//! pycocotools 2.0.11 decodes it as 9, and re-encodes the mask as `"9"`) are accepted and
//! decoded the same way; writing gives the minimal form, so for such strings only the runs, not
//! the text, round-trip.
//!
//! **Malformed input.** pycocotools does not validate the text: a character outside
//! `'0'..='o'` is decoded as garbage, a string ending inside a value (last character with the
//! continuation bit) is read past its end, values of seven groups (magnitude 2^30 and up)
//! overflow C `int` shifts (we decode them exactly, up to `u32::MAX`), and a run that decodes
//! negative is cast to a huge unsigned length. We return an [`RleError`] for each ([`RleError::InvalidChar`], [`RleError::Truncated`],
//! [`RleError::ValueTooLarge`], [`RleError::InvalidRun`]).
//!
//! **Runs not covering the mask.** pycocotools 2.0.11's `decode` raises "Invalid RLE mask
//! representation" when the runs sum to more than `h * w`, but when they sum to fewer it
//! returns a mask whose remaining pixels are uninitialised memory (observed: garbage bytes,
//! not zeros). We refuse both with [`RleError::SumMismatch`] when the [`Rle`](crate::Rle) is
//! built, so every `Rle` covers its mask exactly.

use crate::RleError;

/// Appends the pycocotools text of `counts` to `out`.
pub(crate) fn encode_counts(counts: &[u32], out: &mut String) {
    for (i, &c) in counts.iter().enumerate() {
        let mut x = i64::from(c);
        if i > 2 {
            x -= i64::from(counts[i - 2]);
        }
        loop {
            let mut c = (x & 0x1f) as u8;
            x >>= 5;
            let more = if c & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                c |= 0x20;
            }
            out.push(char::from(c + 48));
            if !more {
                break;
            }
        }
    }
}

/// Decodes pycocotools text into run lengths (not yet checked against the mask size).
///
/// Text whose bytes are all in the alphabet and whose last byte ends a value (checked first,
/// in one pass that vectorises) is decoded by a loop with no per-character checks, as
/// pycocotools' `rleFrString`; anything else goes through [`walk_checked`], which names the
/// first error. (Not [`for_each_count`]'s loop: see there.)
pub(crate) fn decode_counts(s: &str) -> Result<Vec<u32>, RleError> {
    let bytes = s.as_bytes();
    // At most one run per character; half is the usual size, and `push` grows past it.
    let mut counts: Vec<u32> = Vec::with_capacity(bytes.len() / 2 + 1);
    if !in_alphabet_ending_a_value(bytes) {
        walk_checked(s, |run| counts.push(run))?;
        return Ok(counts);
    }
    let mut p = 0usize;
    while p < bytes.len() {
        let mut x = unchecked_value(bytes, &mut p)?;
        let m = counts.len();
        if m > 2 {
            x += i64::from(counts[m - 2]);
        }
        let run = u32::try_from(x).map_err(|_| RleError::InvalidRun { index: m, value: x })?;
        counts.push(run);
    }
    Ok(counts)
}

/// Decodes pycocotools text, giving the run lengths to `f` in order, one or eight at a time
/// (not yet checked against the mask size), without keeping them.
///
/// Text whose bytes are all in the alphabet and whose last byte ends a value (checked first,
/// in one pass that vectorises) is decoded by a loop with no per-character checks, as
/// pycocotools' `rleFrString`, taking eight one-character values at once where they come
/// ([`eight_short_runs`]: 85 % of the values of the benchmark's blob masks); anything else
/// goes through [`walk_checked`], which names the first error. Either way `f` sees the same
/// runs, up to the first error. [`decode_counts`] keeps its own loop, a value at a time:
/// filling a vector measured 20-30 % slower through this one (criterion,
/// `rle_2320x2828/from_counts_str`, on AVX2).
pub(crate) fn for_each_count(s: &str, mut f: impl FnMut(&[u32])) -> Result<(), RleError> {
    let bytes = s.as_bytes();
    if !in_alphabet_ending_a_value(bytes) {
        return walk_checked(s, |run| f(&[run]));
    }
    // The number of runs so far and the last two (each run after the second is coded as the
    // difference from the one two before it).
    let (mut m, mut before_last, mut last) = (0usize, 0u32, 0u32);
    let mut p = 0usize;
    while p < bytes.len() {
        if m > 2 {
            if let Some(runs) = eight_short_runs(bytes, p, before_last, last) {
                f(&runs);
                [before_last, last] = [runs[6], runs[7]];
                (m, p) = (m + 8, p + 8);
                continue;
            }
        }
        let mut x = unchecked_value(bytes, &mut p)?;
        if m > 2 {
            x += i64::from(before_last);
        }
        let run = u32::try_from(x).map_err(|_| RleError::InvalidRun { index: m, value: x })?;
        f(&[run]);
        (before_last, last) = (last, run);
        m += 1;
    }
    Ok(())
}

/// Whether every byte is in the alphabet and the last one ends a value: then the loops without
/// per-character checks read only within the text (checked in one pass that vectorises).
fn in_alphabet_ending_a_value(bytes: &[u8]) -> bool {
    let in_alphabet = bytes
        .chunks(64)
        .all(|c| c.iter().fold(true, |ok, &b| ok & (b.wrapping_sub(48) < 64)));
    in_alphabet && bytes.last().is_none_or(|&b| b.wrapping_sub(48) & 0x20 == 0)
}

/// The value at `*p` of text that [`in_alphabet_ending_a_value`] accepted (so no read past
/// its end), `*p` moved past it.
#[inline(always)]
fn unchecked_value(bytes: &[u8], p: &mut usize) -> Result<i64, RleError> {
    let (start, mut x, mut k) = (*p, 0i64, 0u32);
    loop {
        let c = i64::from(bytes[*p] - 48); // in bounds: the last byte ends a value
        *p += 1;
        if add_group(&mut x, &mut k, c) {
            return Ok(x);
        }
        if k == 7 {
            // 7 groups carry 35 bits: more than any u32 run length (plus sign) needs.
            return Err(RleError::ValueTooLarge { position: start });
        }
    }
}

/// Adds `c` (a character less 48) as group `k` of the value `x` and counts it; whether it was
/// the value's last group (no continuation bit `0x20`), `x` then sign-extended from its bit
/// `0x10`.
#[inline(always)]
fn add_group(x: &mut i64, k: &mut u32, c: i64) -> bool {
    *x |= (c & 0x1f) << (5 * *k);
    *k += 1;
    let last = c & 0x20 == 0;
    if last && c & 0x10 != 0 {
        *x |= -1i64 << (5 * *k);
    }
    last
}

/// The next eight runs when the eight characters at `p` are each a whole value (no
/// continuation bit: a difference in `-16..16` from the run two before, as most are in masks
/// of smooth shapes), decoded at once without a branch per character; `None` otherwise, or
/// when a run would fall outside `u32` (the caller's loop then names the error). The text is
/// in the alphabet, and the runs are past the third (`[before_last, last]` the two before).
#[inline(always)]
fn eight_short_runs(bytes: &[u8], p: usize, before_last: u32, last: u32) -> Option<[u32; 8]> {
    let word = u64::from_le_bytes(bytes.get(p..p + 8)?.try_into().ok()?);
    // Each byte is at least 48: no borrow crosses bytes.
    let groups = word.wrapping_sub(0x3030_3030_3030_3030);
    if groups & 0x2020_2020_2020_2020 != 0 {
        return None;
    }
    let (mut two_before, mut one_before) = (i64::from(before_last), i64::from(last));
    let mut runs = [0i64; 8];
    for (j, run) in runs.iter_mut().enumerate() {
        let g = ((groups >> (8 * j)) & 0x1f) as i64;
        *run = two_before + ((g ^ 0x10) - 0x10); // the group sign-extended from its bit 0x10
        (two_before, one_before) = (one_before, *run);
    }
    let mut out = [0u32; 8];
    for (o, &r) in out.iter_mut().zip(&runs) {
        *o = u32::try_from(r).ok()?;
    }
    Some(out)
}

/// [`for_each_count`] checking every character: the walk for text that may be malformed, which
/// names the first error.
fn walk_checked(s: &str, mut f: impl FnMut(u32)) -> Result<(), RleError> {
    let bytes = s.as_bytes();
    // The number of runs so far and the last two (each run after the second is coded as the
    // difference from the one two before it).
    let (mut m, mut before_last, mut last) = (0usize, 0u32, 0u32);
    let mut p = 0usize;
    while p < bytes.len() {
        let start = p;
        let mut x: i64 = 0;
        let mut k = 0u32;
        loop {
            let Some(&b) = bytes.get(p) else {
                return Err(RleError::Truncated { position: start });
            };
            if !(48..=111).contains(&b) {
                return Err(RleError::InvalidChar {
                    position: p,
                    byte: b,
                });
            }
            let c = i64::from(b - 48);
            if k >= 7 {
                // 7 groups carry 35 bits: more than any u32 run length (plus sign) needs.
                return Err(RleError::ValueTooLarge { position: start });
            }
            p += 1;
            if add_group(&mut x, &mut k, c) {
                break;
            }
        }
        if m > 2 {
            x += i64::from(before_last);
        }
        let run = u32::try_from(x).map_err(|_| RleError::InvalidRun { index: m, value: x })?;
        f(run);
        (before_last, last) = (last, run);
        m += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_strings() {
        // Expected strings: pycocotools 2.0.11 `mask.encode(np.asfortranarray(m))['counts']`.
        let mut s = String::new();
        encode_counts(&[6], &mut s);
        assert_eq!(s, "6");
        s.clear();
        encode_counts(&[0, 6], &mut s);
        assert_eq!(s, "06");
        s.clear();
        encode_counts(&[1, 2, 3], &mut s);
        assert_eq!(s, "123");
        assert_eq!(decode_counts("123"), Ok(vec![1, 2, 3]));
        // Multi-group values and negative deltas (runs 3.. minus runs 1..): pycocotools 2.0.11,
        // `mask.encode(m)['counts']` for a 1-column mask with these runs.
        let runs = [100_000, 3, 99_999, 4, 7, 1];
        s.clear();
        encode_counts(&runs, &mut s);
        assert_eq!(s, "PeQ33odQ31X[nLM");
        assert_eq!(decode_counts("PeQ33odQ31X[nLM"), Ok(runs.to_vec()));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The unchecked loop gives what the checked walk gives, runs or error: strings of the
        /// alphabet (long values and dangling continuations included) and strings with a byte
        /// outside it.
        #[test]
        fn the_unchecked_loop_equals_the_checked_walk(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => 48u8..=111,
                    8 => 48u8..=79, // one-character values: the eight-at-once path
                    1 => 80u8..=111, // continuation groups: long values
                    1 => proptest::prelude::any::<u8>(),
                ],
                0..60,
            ),
        ) {
            let text: String = text.iter().map(|&b| char::from(b & 0x7f)).collect();
            let mut walked = Vec::new();
            let walk = walk_checked(&text, |r| walked.push(r)).map(|()| walked);
            let mut seen = Vec::new();
            let each = for_each_count(&text, |r| seen.extend_from_slice(r)).map(|()| seen);
            proptest::prop_assert_eq!(&each, &walk);
            proptest::prop_assert_eq!(decode_counts(&text), walk);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Runs that differ little from the run two before (the short values the eight-at-once
        /// path decodes), with large ones and zeros among them, round-trip through the text.
        #[test]
        fn runs_of_smooth_shapes_round_trip(
            runs in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => 0u32..40,
                    1 => 0u32..5_000_000,
                    1 => proptest::strategy::Just(u32::MAX),
                ],
                0..200,
            ),
        ) {
            let mut s = String::new();
            encode_counts(&runs, &mut s);
            let mut seen = Vec::new();
            for_each_count(&s, |r| seen.extend_from_slice(r))?;
            proptest::prop_assert_eq!(&seen, &runs);
            proptest::prop_assert_eq!(decode_counts(&s), Ok(runs));
        }
    }

    #[test]
    fn delta_round_trip() {
        let counts = vec![100_000, 3, 99_999, 4, 0, 1, 4_000_000_000, 5];
        let mut s = String::new();
        encode_counts(&counts, &mut s);
        assert_eq!(decode_counts(&s), Ok(counts));
    }

    #[test]
    fn decoding_reserves_no_more_than_half_the_text() {
        // Each run coded in two characters: a 64 MiB text must not reserve a u32 per byte.
        let text = "Y0".repeat(500);
        let counts = decode_counts(&text).expect("valid text");
        assert_eq!(counts.len(), 500);
        assert!(
            counts.capacity() <= text.len() / 2 + 1,
            "{}",
            counts.capacity()
        );
    }

    #[test]
    fn non_minimal_values_decode_like_pycocotools() {
        // pycocotools 2.0.11: mask.decode({'size': [1, 9], 'counts': b'Y0'}) is 9 zeros, and
        // mask.encode of that mask gives b'9'. Found by the `rle` fuzz target.
        assert_eq!(decode_counts("Y0"), Ok(vec![9]));
        let mut s = String::new();
        encode_counts(&[9], &mut s);
        assert_eq!(s, "9");
    }

    #[test]
    fn malformed() {
        assert_eq!(
            decode_counts("1~"),
            Err(RleError::InvalidChar {
                position: 1,
                byte: b'~'
            })
        );
        assert_eq!(
            decode_counts("1P"),
            Err(RleError::Truncated { position: 1 })
        );
        assert!(matches!(
            decode_counts("PPPPPPP1"),
            Err(RleError::ValueTooLarge { .. })
        ));
        // A first run of -1: five one-bits, sign bit set, no continuation = 31, +48 = 'O'.
        assert!(matches!(
            decode_counts("O"),
            Err(RleError::InvalidRun { .. })
        ));
    }
}
