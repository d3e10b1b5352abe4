//! pycocotools' compressed `counts` text (`rleToString` / `rleFrString` in `maskApi.c`).
//!
//! Each run length is written as a little-endian sequence of 5-bit groups, one character per group:
//! the character is `48 + group`, with bit `0x20` set when another group follows. The last group's
//! bit `0x10` is the sign bit (the value is sign-extended from it). From the fourth run on
//! (index > 2, not ≥ 2 — a pycocotools detail we copy), the value written is the difference to the
//! run two places before, so alternating run lengths of similar size stay short.
//!
//! pycocotools does not validate its input: a character outside `'0'..='o'` decodes to garbage, a
//! string ending inside a value is read past its end, and counts summing to more than `h * w`
//! overrun the output buffer when decoded. We return [`RleError`] instead for each of these, and for
//! counts summing to fewer pixels (pycocotools would leave the rest of the mask uninitialised).

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
pub(crate) fn decode_counts(s: &str) -> Result<Vec<u32>, RleError> {
    let bytes = s.as_bytes();
    let mut counts: Vec<u32> = Vec::with_capacity(bytes.len() / 2 + 1);
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
            x |= (c & 0x1f) << (5 * k);
            p += 1;
            k += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << (5 * k);
                }
                break;
            }
        }
        let m = counts.len();
        if m > 2 {
            x += i64::from(counts[m - 2]);
        }
        let run = u32::try_from(x).map_err(|_| RleError::InvalidRun { index: m, value: x })?;
        counts.push(run);
    }
    Ok(counts)
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
    }

    #[test]
    fn delta_round_trip() {
        let counts = vec![100_000, 3, 99_999, 4, 0, 1, 4_000_000_000, 5];
        let mut s = String::new();
        encode_counts(&counts, &mut s);
        assert_eq!(decode_counts(&s), Ok(counts));
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
        // "3" then a negative value: -1 encodes as '?' (0x0f | 0x10 = 31, +48 = 79 'O').
        assert!(matches!(
            decode_counts("O"),
            Err(RleError::InvalidRun { .. })
        ));
    }
}
