//! `{"size": [h, w], "counts": "..."}`, pycocotools' JSON form of a mask.

use serde::de::{self, Deserializer, MapAccess, Visitor};
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

#[derive(Deserialize)]
#[serde(untagged)]
enum Counts {
    Text(String),
    Runs(Vec<u32>),
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
