//! `{"size": [h, w], "counts": "..."}`, pycocotools' JSON form of a mask.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::Rle;

impl Serialize for Rle {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("size", &[self.height, self.width])?;
        m.serialize_entry("counts", &self.to_counts_string())?;
        m.end()
    }
}

/// pycocotools' `counts`: compressed text, or (as `frPyObjects` accepts) the list of run lengths.
enum Counts {
    Text(String),
    Runs(Vec<u32>),
}

impl<'de> Deserialize<'de> for Counts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Counts, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Counts;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a pycocotools counts string or a list of run lengths")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Counts, E> {
                Ok(Counts::Text(s.to_owned()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Counts, E> {
                Ok(Counts::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Counts, A::Error> {
                let mut runs = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(r) = seq.next_element::<u32>()? {
                    runs.push(r);
                }
                Ok(Counts::Runs(runs))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Rle {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rle, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Rle;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"an RLE mask {"size": [h, w], "counts": "..."}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Rle, A::Error> {
                let mut size: Option<[usize; 2]> = None;
                let mut counts: Option<Counts> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "size" if size.is_some() => return Err(de::Error::duplicate_field("size")),
                        "counts" if counts.is_some() => {
                            return Err(de::Error::duplicate_field("counts"));
                        }
                        "size" => size = Some(map.next_value()?),
                        "counts" => counts = Some(map.next_value()?),
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let [h, w] = size.ok_or_else(|| de::Error::missing_field("size"))?;
                match counts.ok_or_else(|| de::Error::missing_field("counts"))? {
                    Counts::Text(s) => Rle::from_counts_str(h, w, &s),
                    Counts::Runs(r) => Rle::from_runs(h, w, r),
                }
                .map_err(de::Error::custom)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use crate::Rle;

    #[test]
    fn serialises_like_json_dump_of_pycocotools() {
        // Expected text: pycocotools 2.0.11, json.dumps of
        // `{**r, 'counts': r['counts'].decode()}` for
        // `r = mask.encode(np.asfortranarray(np.array([[1,1,0,0],[1,1,0,0],[0,0,0,0]], np.uint8)))`
        // (json.dumps puts ", " and ": " between items; serde_json writes them compactly).
        let rle = Rle::from_runs(3, 4, vec![0, 2, 1, 2, 7]).expect("valid runs");
        let text = serde_json::to_string(&rle).expect("serialise");
        assert_eq!(text, r#"{"size":[3,4],"counts":"02106"}"#);
        let back: Rle = serde_json::from_str(&text).expect("deserialise");
        assert_eq!(back, rle);
    }

    #[test]
    fn accepts_uncompressed_counts_and_extra_keys() {
        let rle: Rle =
            serde_json::from_str(r#"{"counts": [0, 2, 1, 2, 7], "size": [3, 4], "x": 1}"#)
                .expect("uncompressed RLE");
        assert_eq!(rle.runs(), &[0, 2, 1, 2, 7]);
        assert_eq!(rle.to_counts_string(), "02106");
    }

    #[test]
    fn invalid_input_is_an_error() {
        for (json, expected) in [
            (r#"{"size": [3, 4], "counts": "0210"}"#, "expected h*w = 12"),
            (
                r#"{"size": [3, 4], "counts": "02~06"}"#,
                "expected a character",
            ),
            (r#"{"size": [3, 4], "counts": [0, -2, 14]}"#, "expected u32"),
            (
                r#"{"size": [3, 4], "counts": [0, 2, 1]}"#,
                "expected h*w = 12",
            ),
            (r#"{"size": [3], "counts": "<"}"#, "array of length 2"),
            (r#"{"counts": "<"}"#, "missing field `size`"),
            (r#"{"size": [3, 4]}"#, "missing field `counts`"),
            (
                r#"{"size": [3, 4], "counts": 12}"#,
                "a pycocotools counts string or a list",
            ),
            (
                r#"{"size": [3, 4], "size": [3, 4], "counts": "<"}"#,
                "duplicate field `size`",
            ),
            (r#"[3, 4]"#, "an RLE mask"),
        ] {
            let err = serde_json::from_str::<Rle>(json)
                .expect_err(json)
                .to_string();
            assert!(err.contains(expected), "{json}: {err}");
        }
    }
}
