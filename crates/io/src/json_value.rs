//! JSON text to a `serde_json::Value` within a budget of values.
//!
//! `serde_json::from_slice::<Value>` turns every two-byte `0,` of an array into a value of about
//! 80 bytes (with `preserve_order`), so a 64 MiB file of zeros took 2.4 GB. Here every value,
//! object key included, is counted while it is parsed and the parse stops at
//! [`Limits::max_json_values`], before the tree grows past it. Nesting is bounded by
//! serde_json's own recursion limit (128), so neither parsing nor dropping the tree recurses
//! deeper than that.

use std::cell::Cell;
use std::fmt;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::files::read_file;
use crate::{IoError, Limits};

/// Values left to parse, and whether the parse ran out.
struct Budget {
    left: Cell<u64>,
    exhausted: Cell<bool>,
}

impl Budget {
    fn charge<E: serde::de::Error>(&self) -> Result<(), E> {
        match self.left.get().checked_sub(1) {
            Some(left) => {
                self.left.set(left);
                Ok(())
            }
            None => {
                self.exhausted.set(true);
                Err(E::custom("over the limit of JSON values"))
            }
        }
    }
}

/// Parses one value, counting it and everything inside it.
#[derive(Clone, Copy)]
struct Counted<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Counted<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Counted<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::from(v))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        self.0.charge()?;
        // serde_json never hands a visitor a non-finite number; `Null` is its own mapping.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        self.0.charge()?;
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.charge()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.charge()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.0.charge()?;
            let v = map.next_value_seed(self)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses JSON text read from `path`, refusing a document of more than
/// [`Limits::max_json_values`] values (object keys count as values) with an
/// [`IoError::Limit`] naming the file and the limit.
pub fn parse_json(path: &Path, bytes: &[u8], limits: &Limits) -> Result<Value, IoError> {
    let budget = Budget {
        left: Cell::new(limits.max_json_values),
        exhausted: Cell::new(false),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = Counted(&budget)
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    parsed.map_err(|source| {
        if budget.exhausted.get() {
            IoError::Limit {
                path: path.to_path_buf(),
                location: "file".to_owned(),
                what: "a JSON document of more values".to_owned(),
                limit: format!(
                    "at most {} values (--max-json-values)",
                    limits.max_json_values
                ),
            }
        } else {
            IoError::Json {
                path: path.to_path_buf(),
                source,
            }
        }
    })
}

/// Reads and parses any JSON file (`run.json`, a segmentation file, ...) within `limits`: the
/// file size and the number of values.
pub fn read_json(path: &Path, limits: &Limits) -> Result<Value, IoError> {
    let bytes = read_file(path, limits)?;
    parse_json(path, &bytes, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(n: u64) -> Limits {
        Limits {
            max_json_values: n,
            ..Limits::BUILTIN
        }
    }

    #[test]
    fn same_values_as_serde_json() {
        let texts = [
            r#"{"b": [1, -2, 3.5, 1e300, true, null, "x\u00e9"], "a": {"k": []}, "b": 7}"#,
            "[]",
            "18446744073709551615",
            "-9223372036854775808",
            "0.1",
            r#""\ud83d\ude00""#,
        ];
        for t in texts {
            let ours =
                parse_json(Path::new("t.json"), t.as_bytes(), &Limits::BUILTIN).expect("parses");
            let theirs: Value = serde_json::from_str(t).expect("serde_json parses");
            assert_eq!(ours, theirs, "{t}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
        }
    }

    #[test]
    fn counts_every_value_and_key() {
        // object, key "a", array, 1, 2: five values.
        let t = br#"{"a": [1, 2]}"#;
        assert!(parse_json(Path::new("t.json"), t, &limits(5)).is_ok());
        let e = parse_json(Path::new("t.json"), t, &limits(4)).expect_err("over");
        assert!(matches!(e, IoError::Limit { .. }), "{e}");
        assert!(e.to_string().contains("at most 4 values"), "{e}");
        assert!(e.to_string().starts_with("t.json"), "{e}");
    }

    #[test]
    fn syntax_errors_stay_syntax_errors() {
        for t in [&b"{"[..], b"[1,]", b"{} x", b"\xff"] {
            let e = parse_json(Path::new("t.json"), t, &Limits::BUILTIN).expect_err("bad");
            assert!(matches!(e, IoError::Json { .. }), "{e}");
        }
    }

    #[test]
    fn a_large_array_stops_at_the_budget() {
        // 4 million zeros: serde_json's Value would take ~300 MB; the budget stops it at 1000.
        let mut t = Vec::with_capacity(8_000_002);
        t.push(b'[');
        for _ in 0..4_000_000 {
            t.extend_from_slice(b"0,");
        }
        t.extend_from_slice(b"0]");
        let start = std::time::Instant::now();
        let e = parse_json(Path::new("t.json"), &t, &limits(1000)).expect_err("over");
        assert!(matches!(e, IoError::Limit { .. }), "{e}");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn deep_nesting_is_a_syntax_error_not_a_crash() {
        let t = "[".repeat(100_000);
        let e = parse_json(Path::new("t.json"), t.as_bytes(), &Limits::BUILTIN).expect_err("deep");
        let text = crate::error::full_chain(&e);
        assert!(text.contains("recursion limit"), "{text}");
    }
}
