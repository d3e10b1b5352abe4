//! `torch.save` zip archives: our writer's output reads back (torch 2.15's `torch.load(...,
//! weights_only=True)` reads it too: checked on `fuzz/seeds/torch/ours_zip.pt`, see
//! fuzz/README.md), and hostile or unusual archives are refused with the reason.

use chexlocalize_pickle::{
    Container, CxrImg, HeatmapRecord, Limits, PickleError, Prob, Tensor, TensorData, Value,
    dump_heatmap_torch_zip, load_heatmap, load_torch,
};
use proptest::prelude::*;

/// CRC-32 bit by bit (the textbook definition, independent of the reader's table).
fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xedb8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A zip of stored entries with `method` in every header (0 = stored, 8 = deflate).
fn zip(entries: &[(&str, &[u8])], method: u16) -> Vec<u8> {
    let (mut out, mut cd) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let off = out.len() as u32;
        let head = |sig: u32, v: &mut Vec<u8>, central: bool| {
            v.extend(sig.to_le_bytes());
            if central {
                v.extend(20u16.to_le_bytes());
            }
            for x in [20u16, 0, method, 0, 0] {
                v.extend(x.to_le_bytes());
            }
            v.extend(crc32(data).to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend((data.len() as u32).to_le_bytes());
            v.extend((name.len() as u16).to_le_bytes());
            v.extend(0u16.to_le_bytes());
        };
        head(0x0403_4b50, &mut out, false);
        out.extend(name.as_bytes());
        out.extend(*data);
        head(0x0201_4b50, &mut cd, true);
        for x in [0u16, 0, 0] {
            cd.extend(x.to_le_bytes());
        }
        cd.extend(0u32.to_le_bytes());
        cd.extend(off.to_le_bytes());
        cd.extend(name.as_bytes());
    }
    let (cd_off, cd_len) = (out.len() as u32, cd.len() as u32);
    out.extend(cd);
    out.extend(0x0605_4b50u32.to_le_bytes());
    let n = entries.len() as u16;
    for x in [0u16, 0, n, n] {
        out.extend(x.to_le_bytes());
    }
    out.extend(cd_len.to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn record(map: Vec<f32>, h: usize, w: usize, prob: Prob) -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(vec![1, 1, h, w], TensorData::F32(map)).expect("shape"),
        prob,
        task: "Pneumothorax".into(),
        gt: Value::Int(0),
        cxr_img: CxrImg::Tensor(
            Tensor::new(vec![3, 1, 2], TensorData::U8(vec![9, 8, 7, 6, 5, 4])).expect("img"),
        ),
        cxr_dims: (2320, 2828),
    }
}

proptest! {
    #[test]
    fn our_archives_read_back(
        (h, w, map) in (1usize..6, 1usize..6).prop_flat_map(|(h, w)| {
            (Just(h), Just(w), proptest::collection::vec(-1e3f32..1e3, h * w))
        }),
        p in 0.0f64..1.0,
        vector in any::<bool>(),
    ) {
        let prob = if vector {
            Prob::Tensor(Tensor::new(vec![14], TensorData::F64(vec![p; 14])).expect("prob"))
        } else {
            Prob::Float(p)
        };
        let rec = record(map, h, w, prob);
        let bytes = dump_heatmap_torch_zip(&rec, "x_Pneumothorax_map").expect("write");
        prop_assert_eq!(Container::detect(&bytes), Container::TorchZip);
        prop_assert_eq!(load_heatmap(&bytes, &Limits::default()).expect("read"), rec);
    }

    #[test]
    fn damaged_archives_never_panic(cut in 0usize..2000, flip in 0usize..2000, bit in 0u8..8) {
        let rec = record(vec![0.5; 6], 2, 3, Prob::Float(0.5));
        let mut bytes = dump_heatmap_torch_zip(&rec, "x").expect("write");
        if flip < bytes.len() {
            bytes[flip] ^= 1 << bit;
        }
        bytes.truncate(cut.max(4));
        let _ = load_torch(&bytes, &Limits::default());
    }
}

#[test]
fn hostile_data_pkl_in_an_archive_is_refused() {
    let evil: &[u8] = b"\x80\x02cposix\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.";
    let bytes = zip(&[("a/data.pkl", evil), ("a/byteorder", b"little")], 0);
    let e = load_torch(&bytes, &Limits::default()).expect_err("refused");
    assert!(
        matches!(&e, PickleError::ForbiddenGlobal { module, name, .. } if module == "posix" && name == "system"),
        "{e}"
    );
}

#[test]
fn unusual_archives_are_refused_with_the_reason() {
    let mut rec = record(vec![0.5; 6], 2, 3, Prob::Float(0.5));
    rec.cxr_img = CxrImg::Path("valid/x.jpg".into()); // one storage: the map's
    let good = dump_heatmap_torch_zip(&rec, "a").expect("write");
    let pkl_at = good
        .windows(2)
        .position(|w| w == b"\x80\x02")
        .expect("data.pkl");
    let pkl_len = good[pkl_at..]
        .windows(2)
        .position(|w| w == b"u.")
        .expect("end")
        + 2;
    let pkl = &good[pkl_at..pkl_at + pkl_len];
    let four = 0.5f32.to_le_bytes().repeat(6);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            zip(&[("a/data.pkl", pkl), ("a/data/0", &four)], 8),
            "is compressed (method 8)",
        ),
        (
            zip(&[("a/data.pkl", pkl)], 0),
            "no entry \"a/data/0\" for storage \"0\"",
        ),
        (
            zip(&[("a/data.pkl", pkl), ("a/data/0", &four[..20])], 0),
            "holds 20 bytes, expected 6 float32 elements = 24 bytes",
        ),
        (
            zip(
                &[
                    ("a/data.pkl", pkl),
                    ("a/data/0", &four),
                    ("a/data/0", &four),
                ],
                0,
            ),
            "appears twice",
        ),
        (
            zip(
                &[
                    ("a/data.pkl", pkl),
                    ("b/data.pkl", pkl),
                    ("a/data/0", &four),
                ],
                0,
            ),
            "more than one <name>/data.pkl",
        ),
        (
            zip(
                &[
                    ("a/data.pkl", pkl),
                    ("a/data/0", &four),
                    ("a/byteorder", b"middle"),
                ],
                0,
            ),
            "byteorder is \"middle\"",
        ),
        (zip(&[("a/other", b"x")], 0), "no <name>/data.pkl entry"),
    ];
    for (bytes, needle) in cases {
        let e = load_heatmap(&bytes, &Limits::default()).expect_err(needle);
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }
    // The same archive with big-endian storages reads the same values.
    let be: Vec<u8> = 0.5f32.to_be_bytes().repeat(6);
    let bytes = zip(
        &[
            ("a/data.pkl", pkl),
            ("a/data/0", &be),
            ("a/byteorder", b"big"),
        ],
        0,
    );
    let back = load_heatmap(&bytes, &Limits::default()).expect("big-endian");
    assert_eq!(back.map.data, TensorData::F32(vec![0.5; 6]));
}
