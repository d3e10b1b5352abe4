//! Hostile inputs of issue 17, built here byte by byte: each is answered — refused with the limit
//! it breaks, or decoded — in time linear in its size, on a small stack, well within a second
//! (debug build; the quadratic or recursive code these replace took minutes or aborted).
//!
//! Opcode bytes are those of CPython's `pickletools` (`Lib/pickletools.py`); expected depths and
//! offsets are counted from the bytes as written below.

use std::time::{Duration, Instant};

use chexlocalize_pickle::{
    Limits, PickleError, TensorData, Value, load_heatmap, load_torch, load_value,
};

/// Runs `f` on a thread with a 256 KiB stack (smaller than rayon's workers) and checks it ends
/// within `bound`.
fn small_stack<T: Send + 'static>(bound: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let start = Instant::now();
    let out = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow, no panic");
    let took = start.elapsed();
    eprintln!("took {took:?}");
    assert!(took < bound, "took {took:?}, over {bound:?}");
    out
}

const SECOND: Duration = Duration::from_secs(1);

fn binunicode(s: &str) -> Vec<u8> {
    let mut v = vec![b'X'];
    v.extend((s.len() as u32).to_le_bytes());
    v.extend(s.as_bytes());
    v
}

#[test]
fn a_map_of_200_000_nested_1_tuples_is_refused_at_depth_101() {
    // {'map': ((((None,),),)…)}: PROTO 2, EMPTY_DICT, MARK, 'map', NONE, then TUPLE1 × 200 000.
    let mut p = b"\x80\x02}(".to_vec();
    p.extend(binunicode("map"));
    p.push(b'N');
    let first = p.len(); // 13
    p.extend(std::iter::repeat_n(0x85, 200_000));
    p.extend(b"u.");
    let err = small_stack(SECOND, move || {
        load_heatmap(&p, &Limits::default()).expect_err("refused")
    });
    // The k-th TUPLE1 makes a tuple of height k; the 101st is over the limit of 100.
    assert_eq!(
        err,
        PickleError::NestingTooDeep {
            context: "pickle",
            offset: first + 100,
            opcode: "TUPLE1",
            depth: 101,
            limit: 100,
        }
    );
    assert_eq!(
        err.to_string(),
        "pickle: nesting depth would be 101 at byte 113 (TUPLE1), over the limit of 100"
    );
}

#[test]
fn max_depth_is_capped_so_values_stay_shallow() {
    // Asking for a million levels still stops at 1 000: decoded values are dropped recursively.
    let mut p = b"\x80\x02N".to_vec();
    p.extend(std::iter::repeat_n(0x85, 5_000));
    p.push(b'.');
    let limits = Limits {
        max_depth: 1_000_000,
        ..Limits::default()
    };
    let err = small_stack(SECOND, move || {
        load_value(&p, &limits).expect_err("refused")
    });
    assert!(
        matches!(
            err,
            PickleError::NestingTooDeep {
                depth: 1001,
                limit: 1000,
                offset: 1003,
                ..
            }
        ),
        "{err}"
    );
}

/// `]\x94` then, for i in 0..n: GET i, EMPTY_LIST, MEMOIZE, APPEND, POP — each new list goes
/// into the previous one, which already sits inside all the earlier ones.
fn top_down_chain(n: u32) -> Vec<u8> {
    let mut p = b"\x80\x04]\x94".to_vec();
    for i in 0..n {
        p.push(b'j');
        p.extend(i.to_le_bytes());
        p.extend(b"]\x94a0");
    }
    p.extend(b"j\x00\x00\x00\x00.");
    p
}

#[test]
fn a_deep_chain_built_by_appending_through_the_memo_is_refused() {
    // After step i the outermost list has height i + 2: step 99's APPEND (at byte
    // 4 + 9 * 99 + 7 = 902) would make it 101.
    let err = small_stack(SECOND, || {
        load_value(&top_down_chain(200_000), &Limits::default()).expect_err("refused")
    });
    assert!(
        matches!(
            err,
            PickleError::NestingTooDeep {
                offset: 902,
                opcode: "APPEND",
                depth: 101,
                limit: 100,
                ..
            }
        ),
        "{err}"
    );
    // 99 steps: 100 nested lists, accepted, innermost empty.
    let mut v = small_stack(SECOND, || {
        load_value(&top_down_chain(99), &Limits::default()).expect("at the limit")
    });
    let mut levels = 1;
    while let Value::List(mut items) = v {
        match items.pop() {
            Some(inner) => {
                assert!(items.is_empty());
                v = inner;
                levels += 1;
            }
            None => break,
        }
    }
    assert_eq!(levels, 100);
}

/// A = [B, C], B = [D], C = [D], then D.append(a chain of `k` nested lists).
fn diamond(k: usize) -> Vec<u8> {
    let mut p = b"\x80\x02]q\x000]q\x01h\x00a0]q\x02h\x00a0]q\x03h\x01ah\x02ah\x00".to_vec();
    p.extend(std::iter::repeat_n(b']', k));
    p.extend(std::iter::repeat_n(b'a', k - 1));
    p.extend(b"a0.");
    p
}

#[test]
fn deepening_a_shared_list_deepens_every_holder() {
    // D gets height k + 1, B and C k + 2, A k + 3.
    assert!(load_value(&diamond(97), &Limits::default()).is_ok());
    let err = load_value(&diamond(98), &Limits::default()).expect_err("refused");
    assert!(
        matches!(
            err,
            PickleError::NestingTooDeep {
                opcode: "APPEND",
                depth: 101,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn reference_cycles_are_refused_before_they_form() {
    let cases: &[&[u8]] = &[
        // L.append(L)
        b"\x80\x02]q\x00h\x00a.",
        // A, B; B.append(A); A.append(B)
        b"\x80\x02]q\x00]q\x01h\x00a0h\x01a.",
        // d['k'] = d
        b"\x80\x02}q\x00X\x01\x00\x00\x00kh\x00s.",
    ];
    for bytes in cases {
        let err = load_value(bytes, &Limits::default()).expect_err("refused");
        assert!(err.to_string().contains("reference cycle"), "{err}");
    }
}

#[test]
fn a_dict_of_400_000_keys_set_one_at_a_time_is_linear() {
    // EMPTY_DICT, then (BININT i, NONE, SETITEM) for i < 400 000 (2.8 MB; Python loads the
    // 4.6 MB original in 0.2 s), then True -> 'x' (Python: True == 1, so d[1] becomes 'x' and
    // the key stays the int 1).
    let n = 400_000i32;
    let mut p = b"\x80\x02}".to_vec();
    for i in 0..n {
        p.push(b'J');
        p.extend(i.to_le_bytes());
        p.extend(b"Ns");
    }
    p.push(0x88);
    p.extend(binunicode("x"));
    p.extend(b"s.");
    let v = small_stack(4 * SECOND, move || {
        load_value(&p, &Limits::default()).expect("loads")
    });
    let Value::Dict(items) = v else {
        panic!("a dict")
    };
    assert_eq!(items.len(), n as usize);
    assert_eq!(items[0], (Value::Int(0), Value::None));
    assert_eq!(items[1], (Value::Int(1), Value::Str("x".into())));
    assert_eq!(items[399_999], (Value::Int(399_999), Value::None));
}

#[test]
fn a_long_key_used_many_times_is_hashed_once() {
    // A 1 MB string memoised, then set as a key 100 000 times (d[s] = None): one entry.
    let mut p = b"\x80\x02}".to_vec();
    p.extend(binunicode(&"k".repeat(1 << 20)));
    p.extend(b"q\x00N");
    p.push(b's');
    for _ in 0..100_000 {
        p.extend(b"h\x00Ns");
    }
    p.push(b'.');
    let v = small_stack(SECOND, move || {
        load_value(&p, &Limits::default()).expect("loads")
    });
    assert!(matches!(v, Value::Dict(items) if items.len() == 1));
}

#[test]
fn a_constructor_applied_to_one_big_argument_many_times_runs_once() {
    // _codecs.encode(s, 'latin1') of one memoised 1 MB string, 100 000 times (POP after each).
    let mut p = b"\x80\x02c_codecs\nencode\nq\x01".to_vec();
    p.extend(binunicode(&"\u{e9}".repeat(1 << 19)));
    p.extend(binunicode("latin1"));
    p.extend(b"\x86q\x02");
    for _ in 0..100_000 {
        p.extend(b"h\x01h\x02R0");
    }
    p.extend(b"h\x01h\x02R.");
    let v = small_stack(SECOND, move || {
        load_value(&p, &Limits::default()).expect("loads")
    });
    assert!(matches!(v, Value::Bytes(b) if b.len() == 1 << 19 && b.iter().all(|&x| x == 0xe9)));
}

/// torch's legacy serialisation of a float storage of `data` (what `_load_from_bytes` reads),
/// declaring `numel` elements.
fn legacy_storage(numel: i32, data: &[f32]) -> Vec<u8> {
    let mut b = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    b.extend(b"\x80\x02M\xe9\x03.\x80\x02}.\x80\x02(");
    b.extend(binunicode("storage"));
    b.extend(b"ctorch\nFloatStorage\n");
    b.extend(binunicode("0"));
    b.extend(binunicode("cpu"));
    b.push(b'J');
    b.extend(numel.to_le_bytes());
    b.extend(b"NtQ.\x80\x02]");
    b.extend(binunicode("0"));
    b.extend(b"a.");
    b.extend((numel as u64).to_le_bytes());
    for x in data {
        b.extend(x.to_le_bytes());
    }
    b
}

/// A heatmap pickle whose map is `storage` viewed with `size` and `stride` (offset 0).
fn heatmap_view(storage: &[u8], size: &[u16], stride: &[u16]) -> Vec<u8> {
    let mut p = b"\x80\x02}(".to_vec();
    p.extend(binunicode("map"));
    p.extend(b"ctorch._utils\n_rebuild_tensor_v2\n(ctorch.storage\n_load_from_bytes\nB");
    p.extend((storage.len() as u32).to_le_bytes());
    p.extend(storage);
    p.extend(b"\x85RK\x00");
    for dims in [size, stride] {
        p.push(b'(');
        for d in dims {
            p.push(b'M');
            p.extend(d.to_le_bytes());
        }
        p.push(b't');
    }
    p.extend(b"\x89ccollections\nOrderedDict\n)RtR");
    p.extend(binunicode("prob"));
    p.extend(b"G?\xe0\x00\x00\x00\x00\x00\x00");
    p.extend(binunicode("task"));
    p.extend(binunicode("Edema"));
    p.extend(binunicode("cxr_dims"));
    p.extend(b"K\x02K\x02\x86u.");
    p
}

#[test]
fn a_stride_0_view_counts_every_element_it_shows_before_allocating() {
    // One float viewed as 1 x 1 x 16384 x 16384 with strides 0: 2^28 elements, 1 GiB as f32.
    let storage = legacy_storage(1, &[0.25]);
    let big = heatmap_view(&storage, &[1, 1, 16384, 16384], &[0, 0, 0, 0]);
    assert!(big.len() < 1000, "{} bytes", big.len());
    let elements = Limits {
        max_elements: 1 << 24,
        max_value_bytes: 1 << 40,
        ..Limits::default()
    };
    let b = big.clone();
    let err = small_stack(SECOND, move || {
        load_heatmap(&b, &elements).expect_err("refused")
    });
    assert!(
        matches!(err, PickleError::LimitExceeded { what: "element count", value, limit, .. } if value == 1 << 28 && limit == 1 << 24),
        "{err}"
    );
    // The key "map" (3 bytes) is counted before the tensor's 2^30.
    let bytes = Limits {
        max_elements: 1 << 30,
        max_value_bytes: 1 << 26,
        ..Limits::default()
    };
    let err = small_stack(SECOND, move || {
        load_heatmap(&big, &bytes).expect_err("refused")
    });
    assert!(
        matches!(err, PickleError::LimitExceeded { what, value, .. } if what.starts_with("bytes in the decoded value") && value == 3 + (1 << 30)),
        "{err}"
    );
    // A small broadcast decodes as torch's as_strided gives it: storage[0] at every index.
    let small = heatmap_view(&storage, &[1, 1, 3, 4], &[0, 0, 0, 0]);
    let rec = load_heatmap(&small, &Limits::default()).expect("small broadcast");
    assert_eq!(rec.map.shape, vec![1, 1, 3, 4]);
    assert_eq!(rec.map.data, TensorData::F32(vec![0.25; 12]));
}

#[test]
fn claimed_storage_sizes_are_checked_against_the_bytes_present() {
    // Under limits of 2^28 elements: a storage claiming 2^27 floats (512 MiB) with 4 bytes of
    // data is truncated, nothing allocated; one claiming 2^30 elements is over max_elements.
    let limits = Limits {
        max_elements: 1 << 28,
        ..Limits::default()
    };
    for (numel, limit_hit) in [(1 << 27, false), (1 << 30, true)] {
        let p = heatmap_view(&legacy_storage(numel, &[1.0]), &[1, 1, 1, 1], &[1, 1, 1, 1]);
        let l = limits.clone();
        let err = small_stack(SECOND, move || load_heatmap(&p, &l).expect_err("refused"));
        if limit_hit {
            assert!(
                matches!(
                    err,
                    PickleError::LimitExceeded {
                        what: "storage element count",
                        ..
                    }
                ),
                "{err}"
            );
        } else {
            assert!(matches!(err, PickleError::Truncated { .. }), "{err}");
        }
    }
    // A protocol-5 FRAME claiming 2^64 - 1 bytes is advisory: the pickle after it loads.
    let framed = b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xffN.";
    assert_eq!(load_value(framed, &Limits::default()), Ok(Value::None));
}

/// A zip whose central directory lists the stored entry at offset 0 under each of `names`.
fn one_entry_many_names(data: &[u8], names: usize) -> Vec<u8> {
    let crc = 0u32; // never reached: the overlap is refused before any CRC is computed
    let mut out = 0x0403_4b50u32.to_le_bytes().to_vec();
    for x in [20u16, 0, 0, 0, 0] {
        out.extend(x.to_le_bytes());
    }
    out.extend(crc.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(8u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(b"a/data/0");
    out.extend(data);
    let cd_off = out.len() as u32;
    for i in 0..names {
        let name = format!("a/data/{i}");
        out.extend(0x0201_4b50u32.to_le_bytes());
        for x in [20u16, 20, 0, 0, 0, 0] {
            out.extend(x.to_le_bytes());
        }
        out.extend(crc.to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out.extend((name.len() as u16).to_le_bytes());
        for x in [0u16, 0, 0, 0] {
            out.extend(x.to_le_bytes());
        }
        out.extend(0u32.to_le_bytes());
        out.extend(0u32.to_le_bytes()); // local header offset: all the same
        out.extend(name.as_bytes());
    }
    let cd_len = out.len() as u32 - cd_off;
    out.extend(0x0605_4b50u32.to_le_bytes());
    for x in [0u16, 0, names as u16, names as u16] {
        out.extend(x.to_le_bytes());
    }
    out.extend(cd_len.to_le_bytes());
    out.extend(cd_off.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

#[test]
fn an_archive_listing_one_entry_under_1000_names_is_refused_at_once() {
    let zip = one_entry_many_names(&vec![7u8; 1 << 20], 1000);
    let err = small_stack(SECOND, move || {
        load_torch(&zip, &Limits::default()).expect_err("refused")
    });
    assert_eq!(
        err.to_string(),
        format!(
            "torch archive: entries \"a/data/0\" (bytes 0..{end}) and \"a/data/1\" (bytes 0..{end}) overlap: each byte of an archive belongs to one entry",
            end = 38 + (1 << 20)
        )
    );
    // One name whose data (38..98) runs into the central directory (42..96).
    let mut zip = one_entry_many_names(b"abcd", 1);
    zip[18..22].copy_from_slice(&60u32.to_le_bytes());
    zip[22..26].copy_from_slice(&60u32.to_le_bytes());
    let cd = 42;
    zip[cd + 20..cd + 24].copy_from_slice(&60u32.to_le_bytes());
    zip[cd + 24..cd + 28].copy_from_slice(&60u32.to_le_bytes());
    let err = load_torch(&zip, &Limits::default()).expect_err("refused");
    assert!(
        err.to_string().contains("overlaps the central directory"),
        "{err}"
    );
}

#[test]
fn the_deepest_value_accepted_drops_compares_and_prints_on_a_512_kib_stack() {
    // 1 000 nested 1-tuples (the hard cap): the decoded Value is recursive (derived Drop,
    // PartialEq, Debug), so the cap must leave room on a modest stack.
    let mut p = b"\x80\x02N".to_vec();
    p.extend(std::iter::repeat_n(0x85, 999));
    p.push(b'.');
    let limits = Limits {
        max_depth: 1_000_000,
        ..Limits::default()
    };
    // Measured in a debug build: cloning overflows a 256 KiB stack, 512 KiB is enough for all
    // four (std's threads and rayon's workers get 2 MiB).
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || {
            let v = load_value(&p, &limits).expect("1 000 levels");
            assert_eq!(v.clone(), v);
            assert_eq!(format!("{v:?}").matches("Tuple").count(), 999);
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}

#[test]
fn raising_a_list_held_by_99_000_others_stays_linear() {
    // X = [] (memo 0) is appended to 99 000 lists left on the stack; then X is deepened one level
    // at a time, 97 times (X.append(Y_k), Y_k = [Y_{k-1}] memoised at k). Each raise visits X's
    // 99 000 parents once: about 10 million steps in all, bounded by max_depth × parent links.
    let mut p = b"\x80\x04]\x94".to_vec();
    for _ in 0..99_000 {
        p.extend(b"]j\x00\x00\x00\x00a");
    }
    p.extend(b"]\x94"); // Y_1, memo 1
    for k in 1u32..98 {
        // X.append(Y_k), then Y_{k+1} = [Y_k], memo k + 1.
        p.push(b'j');
        p.extend(0u32.to_le_bytes());
        p.push(b'j');
        p.extend(k.to_le_bytes());
        p.extend(b"a0]j");
        p.extend(k.to_le_bytes());
        p.extend(b"a\x94");
    }
    p.extend(b"0j\x00\x00\x00\x00.");
    let v = small_stack(4 * SECOND, move || {
        load_value(&p, &Limits::default()).expect("height 98")
    });
    let Value::List(items) = v else {
        panic!("X is a list")
    };
    assert_eq!(items.len(), 97);
}
