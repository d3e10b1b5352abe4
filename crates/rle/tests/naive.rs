//! The fast run-based implementation against a slow, obvious pixel-by-pixel one.

use chexlocalize_rle::{Merge, Rle};
use proptest::prelude::*;

/// Column-major runs of a row-major mask, one pixel at a time (the definition).
fn naive_runs(mask: &[u8], h: usize, w: usize) -> Vec<u32> {
    let mut runs = Vec::new();
    let (mut cur, mut len) = (false, 0u32);
    for c in 0..w {
        for r in 0..h {
            let v = mask[r * w + c] != 0;
            if v != cur {
                runs.push(len);
                len = 0;
                cur = v;
            }
            len += 1;
        }
    }
    runs.push(len);
    runs
}

fn naive_bbox(mask: &[u8], h: usize, w: usize) -> [f64; 4] {
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for r in 0..h {
        for c in 0..w {
            if mask[r * w + c] != 0 {
                x0 = x0.min(c);
                y0 = y0.min(r);
                x1 = x1.max(c);
                y1 = y1.max(r);
            }
        }
    }
    if x0 == usize::MAX {
        return [0.0; 4];
    }
    [
        x0 as f64,
        y0 as f64,
        (x1 - x0 + 1) as f64,
        (y1 - y0 + 1) as f64,
    ]
}

/// A mask of blobs (filled rectangles) plus sparse noise; values other than 1 included.
fn blob_strategy() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (1usize..40, 1usize..80).prop_flat_map(|(h, w)| {
        let rects = proptest::collection::vec((0..h, 0..w, 0..h, 0..w), 0..4);
        let noise = proptest::collection::vec(
            (0..h * w, prop_oneof![Just(0u8), Just(1u8), Just(255u8)]),
            0..10,
        );
        (Just(h), Just(w), rects, noise).prop_map(|(h, w, rects, noise)| {
            let mut m = vec![0u8; h * w];
            for (r0, c0, r1, c1) in rects {
                for r in r0.min(r1)..=r0.max(r1) {
                    for c in c0.min(c1)..=c0.max(c1) {
                        m[r * w + c] = 1;
                    }
                }
            }
            for (i, v) in noise {
                m[i] = v;
            }
            (h, w, m)
        })
    })
}

/// A mask of independent random bits (dense, many short runs).
fn bits_strategy() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    (1usize..40, 1usize..40).prop_flat_map(|(h, w)| {
        (
            Just(h),
            Just(w),
            proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8)], h * w),
        )
    })
}

fn mask_strategy() -> impl Strategy<Value = (usize, usize, Vec<u8>)> {
    prop_oneof![blob_strategy(), bits_strategy()]
}

/// Runs of any lengths, zero-length runs anywhere included (as a decoded string may hold
/// them), summing to `h * w`: the differences between sorted random cut points.
fn runs_for(h: usize, w: usize) -> impl Strategy<Value = Vec<u32>> {
    let n = (h * w) as u32;
    proptest::collection::vec(0..=n, 0..12).prop_map(move |mut cuts| {
        cuts.sort_unstable();
        let mut runs = Vec::with_capacity(cuts.len() + 1);
        let mut last = 0;
        for c in cuts {
            runs.push(c - last);
            last = c;
        }
        runs.push(n - last);
        runs
    })
}

/// Two run lists for the same `h × w`.
fn runs_pair_strategy() -> impl Strategy<Value = (usize, usize, Vec<u32>, Vec<u32>)> {
    (1usize..12, 1usize..12)
        .prop_flat_map(|(h, w)| (Just(h), Just(w), runs_for(h, w), runs_for(h, w)))
}

/// Row-major 0/1 mask of column-major runs, one pixel at a time (the definition).
fn naive_decode(runs: &[u32], h: usize, w: usize) -> Vec<u8> {
    let mut column_major = Vec::with_capacity(h * w);
    for (i, &r) in runs.iter().enumerate() {
        column_major.extend(std::iter::repeat_n(u8::from(i % 2 == 1), r as usize));
    }
    let mut m = vec![0u8; h * w];
    for c in 0..w {
        for r in 0..h {
            m[r * w + c] = column_major[c * h + r];
        }
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_decode_match_naive((h, w, m) in mask_strategy()) {
        let rle = Rle::encode(&m, h, w).expect("encode");
        prop_assert_eq!(rle.runs().to_vec(), naive_runs(&m, h, w));
        let binary: Vec<u8> = m.iter().map(|&v| u8::from(v != 0)).collect();
        prop_assert_eq!(rle.decode(), binary.clone());
        prop_assert_eq!(rle.area(), binary.iter().map(|&v| u64::from(v)).sum::<u64>());
        prop_assert_eq!(rle.bbox(), naive_bbox(&binary, h, w));
        let text = rle.to_counts_string();
        prop_assert_eq!(Rle::from_counts_str(h, w, &text).expect("parse"), rle.clone());
        prop_assert_eq!(Rle::bbox_of_counts_str(h, w, &text), Ok(naive_bbox(&binary, h, w)));
        for r in 0..h {
            for c in 0..w {
                prop_assert_eq!(rle.get(r, c), Some(binary[r * w + c] == 1));
            }
        }
        prop_assert_eq!(rle.get(h, 0), None);
    }

    #[test]
    fn set_operations_match_naive(((h, w, a), seed) in (mask_strategy(), any::<u64>())) {
        // A second mask of the same size: a shifted copy of the first, xor-ed with a pattern.
        let b: Vec<u8> = (0..h * w)
            .map(|i| u8::from((a[(i + (seed as usize % 7)) % (h * w)] != 0) ^ ((seed >> (i % 64)) & 1 == 1 && i % 5 == 0)))
            .collect();
        let (ra, rb) = (Rle::encode(&a, h, w).expect("a"), Rle::encode(&b, h, w).expect("b"));
        let inter = (0..h * w).filter(|&i| a[i] != 0 && b[i] != 0).count() as u64;
        let union = (0..h * w).filter(|&i| a[i] != 0 || b[i] != 0).count() as u64;
        prop_assert_eq!(ra.intersection_area(&rb).expect("i"), inter);
        prop_assert_eq!(ra.union_area(&rb).expect("u"), union);
        let iou = if inter == 0 { 0.0 } else { inter as f64 / union as f64 };
        prop_assert_eq!(ra.iou(&rb).expect("iou"), iou);
        let and: Vec<u8> = (0..h * w).map(|i| u8::from(a[i] != 0 && b[i] != 0)).collect();
        let or: Vec<u8> = (0..h * w).map(|i| u8::from(a[i] != 0 || b[i] != 0)).collect();
        prop_assert_eq!(ra.merge(&rb, Merge::Intersection).expect("and"), Rle::encode(&and, h, w).expect("and"));
        prop_assert_eq!(ra.merge(&rb, Merge::Union).expect("or"), Rle::encode(&or, h, w).expect("or"));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,40}", h in 0usize..50, w in 0usize..50) {
        if let Ok(r) = Rle::from_counts_str(h, w, &s) {
            prop_assert_eq!(r.runs().iter().map(|&x| u64::from(x)).sum::<u64>(), (h * w) as u64);
            let _ = r.decode();
            let _ = r.bbox();
        }
    }

    #[test]
    fn alphabet_strings_never_panic(s in "[0-o]{0,40}", h in 0usize..50, w in 0usize..50) {
        // The streaming readers give the same values and errors as parsing first.
        let parsed = Rle::from_counts_str(h, w, &s);
        prop_assert_eq!(Rle::bbox_of_counts_str(h, w, &s), parsed.as_ref().map(Rle::bbox).map_err(Clone::clone));
        prop_assert_eq!(Rle::area_of_counts_str(h, w, &s), parsed.as_ref().map(Rle::area).map_err(Clone::clone));
        if let Ok(r) = Rle::from_counts_str(h, w, &s) {
            prop_assert_eq!(r.decode().len(), h * w);
            prop_assert_eq!(Rle::from_counts_str(h, w, &r.to_counts_string()).expect("re-parse"), r);
        }
    }

    #[test]
    fn any_runs_match_naive((h, w, a, b) in runs_pair_strategy()) {
        let ra = Rle::from_runs(h, w, a.clone()).expect("runs sum to h*w");
        let rb = Rle::from_runs(h, w, b.clone()).expect("runs sum to h*w");
        // Zero-length runs survive the text form.
        let reparsed = Rle::from_counts_str(h, w, &ra.to_counts_string()).expect("parse");
        prop_assert_eq!(reparsed.runs(), &a[..]);
        let (ma, mb) = (naive_decode(&a, h, w), naive_decode(&b, h, w));
        prop_assert_eq!(ra.decode(), ma.clone());
        let mut buf = vec![7u8; h * w];
        ra.decode_into(&mut buf).expect("right length");
        prop_assert_eq!(&buf, &ma);
        prop_assert_eq!(ra.area(), ma.iter().map(|&v| u64::from(v)).sum::<u64>());
        prop_assert_eq!(ra.is_empty(), !ma.contains(&1));
        prop_assert_eq!(ra.bbox(), naive_bbox(&ma, h, w));
        for r in 0..h {
            for c in 0..w {
                prop_assert_eq!(ra.get(r, c), Some(ma[r * w + c] == 1));
            }
        }
        prop_assert_eq!(ra.get(0, w), None);
        // Re-encoding gives the canonical runs.
        prop_assert_eq!(Rle::encode(&ma, h, w).expect("encode").runs().to_vec(), naive_runs(&ma, h, w));
        // Set operations on non-canonical runs.
        let inter = (0..h * w).filter(|&i| ma[i] == 1 && mb[i] == 1).count() as u64;
        let union = (0..h * w).filter(|&i| ma[i] == 1 || mb[i] == 1).count() as u64;
        prop_assert_eq!(ra.intersection_area(&rb).expect("i"), inter);
        prop_assert_eq!(ra.union_area(&rb).expect("u"), union);
        let iou = if inter == 0 { 0.0 } else { inter as f64 / union as f64 };
        prop_assert_eq!(ra.iou(&rb).expect("iou"), iou);
        let and: Vec<u8> = (0..h * w).map(|i| ma[i] & mb[i]).collect();
        let or: Vec<u8> = (0..h * w).map(|i| ma[i] | mb[i]).collect();
        prop_assert_eq!(ra.merge(&rb, Merge::Intersection).expect("and").runs().to_vec(), naive_runs(&and, h, w));
        prop_assert_eq!(ra.merge(&rb, Merge::Union).expect("or").runs().to_vec(), naive_runs(&or, h, w));
    }
}

/// Row-major mask to each row's maximal runs of set pixels, as half-open intervals.
fn row_intervals(mask: &[u8], h: usize, w: usize) -> Vec<Vec<(u32, u32)>> {
    (0..h)
        .map(|r| {
            let row = &mask[r * w..(r + 1) * w];
            let mut out = Vec::new();
            let mut c = 0;
            while c < w {
                if row[c] != 0 {
                    let s = c;
                    while c < w && row[c] != 0 {
                        c += 1;
                    }
                    out.push((s as u32, c as u32));
                } else {
                    c += 1;
                }
            }
            out
        })
        .collect()
}

/// Splits every interval at a pseudo-random point and adds empty intervals, which must not change
/// the mask (touching and empty intervals are allowed).
fn fragment(rows: &[Vec<(u32, u32)>], salt: u32) -> Vec<Vec<(u32, u32)>> {
    rows.iter()
        .map(|row| {
            let mut out = Vec::new();
            for (i, &(a, b)) in row.iter().enumerate() {
                let cut = a + (salt.wrapping_add(i as u32 * 7)) % (b - a + 1);
                out.extend([(a, a), (a, cut), (cut, b)]);
            }
            out
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn row_runs_match_encode((h, w, m) in mask_strategy(), salt in any::<u32>()) {
        let want = Rle::encode(&m, h, w).expect("encode");
        let rows = row_intervals(&m, h, w);
        let got = Rle::from_row_runs(h, w, rows.iter().map(Vec::as_slice)).expect("row runs");
        prop_assert_eq!(&got, &want);
        let split = fragment(&rows, salt);
        let got = Rle::from_row_runs(h, w, split.iter().map(Vec::as_slice)).expect("fragments");
        prop_assert_eq!(got, want);
    }
}

#[test]
fn row_runs_are_checked() {
    let ok: [&[(u32, u32)]; 2] = [&[(0, 3)], &[]];
    assert!(Rle::from_row_runs(2, 3, ok).is_ok());
    // Too few rows, too many rows, past the width, overlapping, reversed.
    let cases: [&[&[(u32, u32)]]; 5] = [
        &[&[(0, 3)]],
        &[&[], &[], &[]],
        &[&[(0, 4)], &[]],
        &[&[(0, 2), (1, 3)], &[]],
        &[&[(2, 1)], &[]],
    ];
    for rows in cases {
        assert!(
            Rle::from_row_runs(2, 3, rows.iter().copied()).is_err(),
            "{rows:?}"
        );
    }
}
