//! The hostile-shape seeds written by `examples/make_seeds.rs` are what they claim to be: the
//! expected bytes are spelled out here from the pickle and zip formats, not produced by the
//! seed maker.

use std::path::Path;

use chexlocalize_fuzzing::expand;

fn seed(target: &str, name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/seeds")
        .join(target)
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn deep_nesting_seeds() {
    // PROTO 2, BININT1 1, 1 + 10³ TUPLE1, POP, NONE, STOP.
    let want = [&b"\x80\x02K\x01"[..], &[0x85; 1001], b"0N."].concat();
    assert_eq!(expand(&seed("pickle_rep", "deep_tuple1")), want);
    // The same nest as the value of "map" in a dict.
    let want = [
        &b"\x80\x02}X\x03\x00\x00\x00mapK\x01"[..],
        &[0x85; 1001],
        b"s.",
    ]
    .concat();
    assert_eq!(expand(&seed("pickle_rep", "deep_tuple1_map")), want);
    // PROTO 2, 1 + 1 001 EMPTY_LIST, 1 001 APPEND, STOP: one list nested 1 001 deep.
    let want = [&b"\x80\x02"[..], &[b']'; 1002], &[b'a'; 1001], b"."].concat();
    assert_eq!(expand(&seed("pickle_rep", "deep_list_append")), want);
}

#[test]
fn many_keys_seed_sets_1001_distinct_keys_one_at_a_time() {
    let mut want = b"\x80\x02}".to_vec();
    for i in 0..1001 {
        want.extend(b"X\x08\x00\x00\x00");
        want.extend(format!("{i:08}").as_bytes());
        want.extend(b"K\x01s");
    }
    want.push(b'.');
    assert_eq!(expand(&seed("pickle_rep", "many_keys_setitem")), want);
}

#[test]
fn zip_seed_lists_one_entry_under_nine_names() {
    let b = expand(&seed("torch_rep", "one_entry_many_names.pt"));
    let u32_at = |at: usize| u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"));
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([b[at], b[at + 1]]));
    let size = 1_030_302; // 1 + 101³ stored bytes
    assert_eq!(u32_at(0), 0x0403_4b50, "local header");
    assert_eq!((u32_at(18), u32_at(22)), (size, size));
    let data = 30 + u16_at(26);
    assert!(b[data..data + size as usize].iter().all(|&x| x == 0));
    // CRC-32 of 1 030 302 zero bytes, per the IEEE polynomial (bitwise, here).
    let mut crc = !0u32;
    for _ in 0..size {
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    assert_eq!(u32_at(14), !crc);
    let eocd = b.len() - 22 - 64_001;
    assert_eq!(u32_at(eocd), 0x0605_4b50);
    assert_eq!(u16_at(eocd + 20), 64_001, "comment to the end of the file");
    let cd = u32_at(eocd + 16) as usize;
    assert_eq!(cd, data + size as usize);
    assert_eq!(cd + u32_at(eocd + 12) as usize, b.len(), "stated size");
    let mut names = Vec::new();
    let mut p = cd;
    while u32_at(p) == 0x0201_4b50 {
        assert_eq!(u32_at(p + 16), !crc);
        assert_eq!(u32_at(p + 42), 0, "every name points at the one entry");
        let n = u16_at(p + 28);
        names.push(String::from_utf8(b[p + 46..p + 46 + n].to_vec()).expect("UTF-8"));
        p += 46 + n;
    }
    assert_eq!(p, eocd);
    let want: Vec<String> = (0..9).map(|i| format!("a/data/{i:08}")).collect();
    assert_eq!(names, want);
}

#[test]
fn broadcast_seeds_read_as_16_by_16_maps() {
    let limits = chexlocalize_pickle::Limits::default();
    // One storage element 0.5 viewed with strides 0.
    let rec = chexlocalize_pickle::load_heatmap(&seed("pickle", "stride0_map.pkl"), &limits)
        .expect("stride-0 map");
    assert_eq!(rec.map.shape, [1, 1, 16, 16]);
    assert!(rec.map.to_f64_vec().iter().all(|&x| x == 0.5));
    // Storage 0..16 as one row, repeated on 16 rows (row stride 0): pixel (r, c) is c.
    let rec = chexlocalize_pickle::load_heatmap(&seed("pickle", "broadcast_rows.pkl"), &limits)
        .expect("broadcast map");
    assert_eq!(rec.map.shape, [1, 1, 16, 16]);
    let v = rec.map.to_f64_vec();
    assert!((0..256).all(|i| v[i] == (i % 16) as f64));
    // The `_rep` copies are the same bytes.
    assert_eq!(
        expand(&seed("pickle_rep", "stride0_map.pkl")),
        seed("pickle", "stride0_map.pkl")
    );
}

#[test]
fn expand_repeats_numbers_and_caps() {
    use chexlocalize_fuzzing::EXPAND_MAX;
    // k = 127: 1 + 127³ = 2 048 384 copies.
    assert_eq!(expand(b"\x7f\x01x"), vec![b'x'; 2_048_384]);
    // 255-byte pieces, 2 048 384 wanted: cut at the last whole copy under the cap, and what
    // follows is dropped.
    let big = [&[0x7f, 0xff][..], &[b'y'; 255], b"\x00\x01z"].concat();
    let out = expand(&big);
    assert_eq!(out.len(), EXPAND_MAX / 255 * 255);
    assert!(out.iter().all(|&b| b == b'y'));
    // Numbered copies: digits at position 2 of "ab________", clipped to the piece.
    let out = expand(b"\x82\x0b\x02ab________");
    assert_eq!(out.len(), 9 * 10);
    assert_eq!(&out[80..], b"ab00000008");
    assert_eq!(expand(b"\x81\x04\x02abc"), b"ab0ab0");
    // A lone trailing byte is kept; an empty payload stands for nothing.
    assert_eq!(expand(b"\x05\x00\x00\x01q!"), b"q!");
}
