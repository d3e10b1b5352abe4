//! Text exactly as Python writes it: float `repr`, `json.dump` strings and separators.
//!
//! The reference scripts write CSVs with pandas (`DataFrame.to_csv`, which prints a float64 as
//! numpy's `repr`, the same text as Python's `repr`) and JSON with `json.dump` (separators `", "`
//! and `": "`, `ensure_ascii=True`). Matching these byte for byte lets users `diff` our outputs
//! against published ones.

/// Formats a float as Python's `repr(float)` does: the shortest digits that round-trip,
/// positional notation when the decimal exponent is in `-4..16`, scientific otherwise
/// (`1e-05`, `1.5e+16`), always with a `.0` for integral values in positional notation,
/// and `nan`, `inf`, `-inf` for the special values.
///
/// ```
/// use chexlocalize_io::py_float_repr;
/// assert_eq!(py_float_repr(0.0), "0.0");
/// assert_eq!(py_float_repr(1e-5), "1e-05");
/// assert_eq!(py_float_repr(0.1 + 0.2), "0.30000000000000004");
/// assert_eq!(py_float_repr(1e16), "1e+16");
/// assert_eq!(py_float_repr(123456789.0), "123456789.0");
/// ```
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-trip digits too, as `d.ddde[-]x`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci
        .split_once('e')
        .unwrap_or_else(|| unreachable!("LowerExp always writes an exponent"));
    let exp: i32 = exp
        .parse()
        .unwrap_or_else(|_| unreachable!("LowerExp writes an integer exponent"));
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

/// Appends `s` as a JSON string literal the way Python's `json.dump` writes it with the default
/// `ensure_ascii=True`: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f` escaped by name, other control
/// characters and every non-ASCII character as `\uXXXX` (UTF-16 surrogate pairs above U+FFFF).
pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Python's `json.dump` text for a float (`float.__repr__`, with `NaN`/`Infinity`/`-Infinity`).
pub fn json_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        py_float_repr(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repr_matches_python() {
        // Expected strings: Python 3.11 `repr(float(x))` for each literal.
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.5, "0.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123.456, "123.456"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e17, "1.2345e+17"),
            (0.30000000000000004, "0.30000000000000004"),
            (0.8000000000000003, "0.8000000000000003"),
            (2.0 / 3.0, "0.6666666666666666"),
            (1e300, "1e+300"),
            (5e-324, "5e-324"),
            (-2.5e-5, "-2.5e-05"),
            (162705.97949931026, "162705.97949931026"),
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (x, want) in cases {
            assert_eq!(py_float_repr(*x), *want, "repr of {x:e}");
        }
    }

    #[test]
    fn json_strings_like_python() {
        // Expected: Python `json.dumps(s)`.
        let mut out = String::new();
        push_json_string(&mut out, "a\"b\\c\nd\u{1}é😀");
        assert_eq!(out, r#""a\"b\\c\nd\u0001\u00e9\ud83d\ude00""#);
    }

    proptest! {
        #[test]
        fn repr_round_trips(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assume!(x.is_finite());
            let s = py_float_repr(x);
            let back: f64 = s.parse().expect("our repr parses");
            prop_assert_eq!(back.to_bits(), x.to_bits());
        }
    }
}
