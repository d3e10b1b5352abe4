//! Nothing in a pickle is executed; malformed or hostile input is an error, never a panic or an
//! unbounded allocation; and our writer's output reads back.

use chexlocalize_pickle::{
    CxrImg, HeatmapRecord, Limits, PickleError, Prob, Tensor, TensorData, Value, dump_heatmap,
    load_heatmap, load_value,
};
use proptest::prelude::*;

fn record(map: Vec<f32>, h: usize, w: usize, prob: Prob, protocol_img: bool) -> HeatmapRecord {
    HeatmapRecord {
        map: Tensor::new(vec![1, 1, h, w], TensorData::F32(map)).expect("shape"),
        prob,
        task: "Pleural Effusion".into(),
        gt: Value::Int(0),
        cxr_img: if protocol_img {
            CxrImg::Tensor(
                Tensor::new(
                    vec![3, 2, 2],
                    TensorData::F32((0..12).map(|i| i as f32 / 7.0).collect()),
                )
                .expect("img"),
            )
        } else {
            CxrImg::Path("valid/x.jpg".into())
        },
        cxr_dims: (390, 321),
    }
}

#[test]
fn forbidden_globals_are_named_and_not_run() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.",
            "os.system",
        ),
        (
            b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.",
            "builtins.eval",
        ),
        (
            b"\x80\x04\x8c\x08builtins\x8c\x04exec\x93X\x01\x00\x00\x001\x85R.",
            "builtins.exec",
        ),
        (b"\x80\x02csubprocess\nPopen\n.", "subprocess.Popen"),
        (b"\x80\x02ctorch\nload\n.", "torch.load"),
    ];
    for (bytes, name) in cases {
        let err = load_value(bytes, &Limits::default()).expect_err("refused");
        assert!(matches!(err, PickleError::ForbiddenGlobal { .. }), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn claimed_sizes_are_checked_before_allocating() {
    // BINBYTES8 claiming 2^60 bytes; BINUNICODE claiming 4 GiB; LONG4 of 2^31 bytes.
    let cases: &[&[u8]] = &[
        b"\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x10.",
        b"\x80\x03X\xff\xff\xff\xff.",
        b"\x80\x02\x8b\x00\x00\x00\x80.",
    ];
    for bytes in cases {
        let err = load_value(bytes, &Limits::default()).expect_err("refused");
        assert!(
            matches!(
                err,
                PickleError::LimitExceeded { .. } | PickleError::Truncated { .. }
            ),
            "{err}"
        );
    }
}

#[test]
fn deep_nesting_and_cycles_are_refused() {
    let mut deep = b"\x80\x02".to_vec();
    deep.extend(std::iter::repeat_n(b']', 5000));
    deep.extend(std::iter::repeat_n(b'a', 4999));
    deep.push(b'.');
    let err = load_value(&deep, &Limits::default()).expect_err("too deep");
    assert!(err.to_string().contains("nesting depth"), "{err}");
    // A list appended to itself through the memo.
    let cycle = b"\x80\x02]q\x00h\x00a.";
    let err = load_value(cycle, &Limits::default()).expect_err("cycle");
    assert!(err.to_string().contains("nesting depth"), "{err}");
}

#[test]
fn storage_sizes_are_checked() {
    let rec = record(vec![1.0; 6], 2, 3, Prob::Float(0.5), false);
    let mut bytes = dump_heatmap(&rec, 3).expect("dump");
    // Corrupt the map's storage element count (the u64 after the storage pickles).
    let marker = b"\x80\x02]X\x01\x00\x00\x000a.";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker")
        + marker.len();
    bytes[at] = 200;
    let err = load_heatmap(&bytes, &Limits::default()).expect_err("bad count");
    assert!(err.to_string().contains("elements"), "{err}");
}

#[test]
fn record_errors_name_the_key() {
    let rec = record(vec![1.0; 4], 2, 2, Prob::Float(0.5), false);
    let mut bytes = dump_heatmap(&rec, 3).expect("dump");
    // Rename "task" to "tusk".
    let at = bytes.windows(4).position(|w| w == b"task").expect("key");
    bytes[at + 1] = b'u';
    let err = load_heatmap(&bytes, &Limits::default()).expect_err("no task");
    assert_eq!(
        err.to_string(),
        "key \"task\": expected a string (the task name)"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn writer_round_trips(
        h in 1usize..12,
        w in 1usize..12,
        seed in any::<u32>(),
        protocol in 2u8..=5,
        tensor_prob in any::<bool>(),
        img in any::<bool>(),
    ) {
        let map: Vec<f32> = (0..h * w).map(|i| ((i as u32).wrapping_mul(2_654_435_761) ^ seed) as f32 / 1e9 - 2.0).collect();
        let prob = if tensor_prob {
            Prob::Tensor(Tensor::new(vec![14], TensorData::F32((0..14).map(|i| (i as f32) / 14.0).collect())).expect("prob"))
        } else {
            Prob::Float(f64::from(seed) / 1e10)
        };
        let rec = record(map, h, w, prob, img);
        let bytes = dump_heatmap(&rec, protocol).expect("dump");
        prop_assert_eq!(load_heatmap(&bytes, &Limits::default()).expect("load"), rec);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = load_value(&bytes, &Limits::default());
    }

    #[test]
    fn mutated_valid_pickles_never_panic(pos in any::<prop::sample::Index>(), byte in any::<u8>(), protocol in 2u8..=5) {
        let rec = record(vec![0.5; 6], 2, 3, Prob::Float(0.25), true);
        let mut bytes = dump_heatmap(&rec, protocol).expect("dump");
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = load_heatmap(&bytes, &Limits::default());
    }
}

#[test]
fn very_deep_nesting_does_not_overflow_the_stack() {
    // 90 000 nested lists built bottom-up and top-down (through the memo), run on a thread with a
    // small stack like rayon's workers: refused by depth, and dropped without recursion.
    let n = 90_000;
    let mut bottom_up = b"\x80\x02".to_vec();
    bottom_up.extend(std::iter::repeat_n(b']', n));
    bottom_up.extend(std::iter::repeat_n(b'a', n - 1));
    bottom_up.push(b'.');
    let mut top_down = b"\x80\x04]\x94".to_vec();
    for i in 0..n as u32 {
        top_down.push(b'j');
        top_down.extend(i.to_le_bytes());
        top_down.extend(b"]\x94a0");
    }
    top_down.extend(b"j\x00\x00\x00\x00.");
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            for bytes in [bottom_up, top_down] {
                assert!(load_value(&bytes, &Limits::default()).is_err());
            }
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

/// Replaces the first occurrence of `from` (after `after`) in `bytes` with `to` (same length).
fn patch(bytes: &mut [u8], after: usize, from: &[u8], to: &[u8]) -> usize {
    let at = after
        + bytes[after..]
            .windows(from.len())
            .position(|w| w == from)
            .expect("pattern present");
    bytes[at..at + to.len()].copy_from_slice(to);
    at + to.len()
}

#[test]
fn strided_and_offset_views_follow_torch_semantics() {
    // A map tensor over the storage [0, 1, 2, 3, 4, 5], written as shape (3, 2) stride (2, 1),
    // then patched into views; torch's rule: element (i, j) = storage[offset + i*stride0 + j*stride1].
    let rec = HeatmapRecord {
        map: Tensor::new(
            vec![3, 2],
            TensorData::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]),
        )
        .expect("shape"),
        ..record(vec![0.0], 1, 1, Prob::Float(0.5), false)
    };
    let bytes = dump_heatmap(&rec, 3).expect("dump");
    // The map's arguments: offset `K\x00`, size `K\x03K\x02\x86`, stride `K\x02K\x01\x86`.
    let storage_end = bytes.windows(4).position(|w| w == b"map\x00").unwrap_or(0);
    let args = bytes
        .windows(11)
        .position(|w| w == b"K\x00K\x03K\x02\x86K\x02K\x01")
        .expect("map arguments")
        .max(storage_end);

    // Transposed: shape (2, 3), stride (1, 2) -> [[0, 2, 4], [1, 3, 5]].
    let mut t = bytes.clone();
    let next = patch(&mut t, args, b"K\x03K\x02", b"K\x02K\x03");
    patch(&mut t, next, b"K\x02K\x01", b"K\x01K\x02");
    let got = load_heatmap(&t, &Limits::default()).expect("transposed view");
    assert_eq!(got.map.shape, vec![2, 3]);
    assert_eq!(
        got.map.data,
        TensorData::F32(vec![0.0, 2.0, 4.0, 1.0, 3.0, 5.0])
    );

    // Offset 1, shape (2, 2), stride (2, 1) -> [[1, 2], [3, 4]].
    let mut o = bytes.clone();
    patch(&mut o, args, b"K\x00K\x03", b"K\x01K\x02");
    let got = load_heatmap(&o, &Limits::default()).expect("offset view");
    assert_eq!(got.map.data, TensorData::F32(vec![1.0, 2.0, 3.0, 4.0]));

    // Offset 2 with shape (3, 2) reaches index 2 + 2*2 + 1 = 7 of 6 elements: refused.
    let mut bad = bytes;
    patch(&mut bad, args, b"K\x00K\x03", b"K\x02K\x03");
    let err = load_heatmap(&bad, &Limits::default()).expect_err("out of the storage");
    assert!(err.to_string().contains("reach element 7"), "{err}");
}

#[test]
fn every_storage_type_round_trips() {
    let datas = [
        TensorData::F32(vec![1.5, -2.25, 0.0, f32::MAX]),
        TensorData::F64(vec![0.1, -1e300, 3.0, f64::MIN_POSITIVE]),
        TensorData::F16(vec![0x3c00, 0xc000, 0x0001, 0x7bff]),
        TensorData::BF16(vec![0x3f80, 0xbf80, 0x0001, 0x7f7f]),
        TensorData::I64(vec![i64::MIN, -1, 0, i64::MAX]),
        TensorData::I32(vec![i32::MIN, -1, 0, i32::MAX]),
        TensorData::I16(vec![i16::MIN, -1, 0, i16::MAX]),
        TensorData::I8(vec![i8::MIN, -1, 0, i8::MAX]),
        TensorData::U8(vec![0, 1, 128, 255]),
        TensorData::Bool(vec![true, false, false, true]),
    ];
    for data in datas {
        let rec = HeatmapRecord {
            cxr_img: CxrImg::Tensor(Tensor::new(vec![2, 2], data.clone()).expect("shape")),
            ..record(vec![0.5; 4], 2, 2, Prob::Float(0.5), false)
        };
        for protocol in 2..=5 {
            let bytes = dump_heatmap(&rec, protocol).expect("dump");
            let back = load_heatmap(&bytes, &Limits::default()).expect("load");
            assert_eq!(
                back.cxr_img,
                rec.cxr_img,
                "{:?}, protocol {protocol}",
                data.dtype()
            );
        }
    }
}

#[test]
fn shared_references_cannot_expand_exponentially() {
    // "Billion laughs": level k is a list holding level k-1 twice (through the memo), so 40
    // levels are 2^40 lists once copied into a tree. Python shares them; we refuse the copy
    // once it is over `max_value_bytes`, quickly. (Found by the `torch` fuzz target as an
    // out-of-memory: 1.6 KB of input took 2 GB and 10 s.)
    let mut p = b"\x80\x02]q\x00".to_vec();
    for k in 0u8..40 {
        p.extend([b'(', b'h', k, b'h', k, b'l', b'q', k + 1]);
    }
    p.push(b'.');
    let start = std::time::Instant::now();
    let err = load_value(&p, &Limits::default()).expect_err("too big once copied");
    assert!(
        matches!(err, PickleError::LimitExceeded { what, .. } if what.starts_with("objects in the decoded value")),
        "{err}"
    );
    assert!(start.elapsed().as_secs() < 30, "took {:?}", start.elapsed());
    // The same structure a few levels deep is fine.
    let mut small = b"\x80\x02]q\x00".to_vec();
    for k in 0u8..4 {
        small.extend([b'(', b'h', k, b'h', k, b'l', b'q', k + 1]);
    }
    small.push(b'.');
    assert!(load_value(&small, &Limits::default()).is_ok());
}

/// Another file given as a heatmap (text, an empty file) is named as not a pickle, with its
/// first bytes; a protocol-0 pickle still reads, and a protocol-2 one keeps its opcode error.
#[test]
fn files_that_are_not_pickles_say_so() {
    let limits = Limits::default();
    let text = chexlocalize_pickle::load_any(b"hello world\n", &limits).expect_err("text");
    assert!(matches!(text, PickleError::NotAPickle { .. }), "{text:?}");
    let message = text.to_string();
    assert!(
        message.contains("starts with 68 65 6c 6c 6f 20 77 6f (\"hello wo\")"),
        "{message}"
    );
    assert!(message.contains("memo key"), "{message}");
    let empty = chexlocalize_pickle::load_any(b"", &limits).expect_err("empty");
    assert!(empty.to_string().contains("an empty file"), "{empty}");
    // `N.` is None in protocol 0: still read.
    assert_eq!(
        chexlocalize_pickle::load_any(b"N.", &limits).expect("protocol 0"),
        Value::None
    );
    let proto2 = chexlocalize_pickle::load_any(b"\x80\x02h\x05", &limits).expect_err("bad");
    assert!(
        matches!(proto2, PickleError::Malformed { .. }),
        "{proto2:?}"
    );
}
