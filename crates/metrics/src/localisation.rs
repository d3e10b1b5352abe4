//! Threshold-free localisation scores of a heatmap against a ground-truth mask: how good the map
//! is before any threshold is chosen. Each is NaN when the ground truth is empty (nothing to
//! find) or the map holds a NaN.
//!
//! The definitions are Quantus 0.6's (`quantus.metrics.localisation`) and scikit-learn's, with
//! one deliberate difference: where the reference ranks pixels with `np.argsort` (whose order of
//! equal values is the sort algorithm's accident), a tie group contributes its expected share —
//! as if the tied pixels were taken in random order — so a constant map scores its chance level
//! instead of whatever the sort happened to put first. On maps without ties the numbers are
//! Quantus' (the recorded cases in `tests/data` have none).
//!
//! - [`Localisation::Auroc`]: area under the ROC curve of the pixel scores vs the mask
//!   (scikit-learn's `roc_curve` + `auc`, Quantus `AUC`): ties count half.
//! - [`Localisation::Auprc`]: average precision (scikit-learn's `average_precision_score`):
//!   `Σ (R_i − R_{i−1}) P_i` over the distinct scores, highest first.
//! - [`Localisation::RelevanceMass`]: the share of the map's total inside the mask (Quantus
//!   `RelevanceMassAccuracy`, Arras et al. 2022).
//! - [`Localisation::RelevanceRank`]: the share of the `K` highest pixels inside the mask, `K`
//!   the mask's area (Quantus `RelevanceRankAccuracy`).
//! - [`Localisation::TopKIntersection`]: the share of the `k` highest pixels inside the mask
//!   (Quantus `TopKIntersection`, Theiner et al. 2021).
//! - [`Localisation::EnergyPointingGame`]: the share of the map's total inside the mask's
//!   bounding box (Score-CAM's energy-based pointing game, Wang et al. 2020).
//!
//! AUROC and average precision sort the pixel values once (an LSD radix sort on the
//! order-preserving bit pattern of each `f32`, positives and negatives apart) and walk the two
//! sorted lists; the top-`k` shares select without sorting (`select.rs`).

use chexlocalize_rle::Rle;

use crate::MetricsError;
use crate::select::{key, top_share};

/// Which threshold-free score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Localisation {
    /// Pixel-level area under the ROC curve.
    Auroc,
    /// Pixel-level average precision.
    Auprc,
    /// Share of the map's mass inside the mask.
    RelevanceMass,
    /// Share of the mask-area highest pixels inside the mask.
    RelevanceRank,
    /// Share of the `k` highest pixels inside the mask.
    TopKIntersection {
        /// How many pixels (at least 1, at most the image).
        k: usize,
    },
    /// Share of the map's mass inside the mask's bounding box.
    EnergyPointingGame,
}

/// The score of `map` (row-major, the ground truth's `height × width`) against `gt`.
///
/// # Errors
/// [`MetricsError::MapSize`] when the map does not have one value per pixel of `gt`;
/// [`MetricsError::TopK`] when `k` of [`Localisation::TopKIntersection`] is 0 or more than the
/// pixels.
pub fn localisation(map: &[f32], gt: &Rle, which: Localisation) -> Result<f64, MetricsError> {
    let (h, w) = (gt.height(), gt.width());
    if map.len() != h * w {
        return Err(MetricsError::MapSize {
            expected: h * w,
            found: map.len(),
        });
    }
    if let Localisation::TopKIntersection { k } = which {
        if k == 0 || k > map.len() {
            return Err(MetricsError::TopK {
                k,
                pixels: map.len(),
            });
        }
    }
    // A NaN in the map makes the score NaN: the sums carry it, and the rank-based scores look
    // for it in the pass they make anyway.
    if gt.is_empty() {
        return Ok(f64::NAN);
    }
    let mask = gt.decode();
    Ok(match which {
        Localisation::RelevanceMass => {
            let (inside, total) = mass_in_mask(map, &mask);
            inside / total
        }
        Localisation::EnergyPointingGame => {
            let [x, y, bw, bh] = gt.bbox();
            let (x0, y0) = (x as usize, y as usize);
            let (x1, y1) = (x0 + bw as usize, y0 + bh as usize);
            let total = sum(map);
            let inside: f64 = map
                .chunks_exact(w)
                .take(y1)
                .skip(y0)
                .map(|row| sum(&row[x0..x1]))
                .sum();
            inside / total
        }
        Localisation::RelevanceRank => top_share(map, &mask, gt.area() as usize),
        Localisation::TopKIntersection { k } => top_share(map, &mask, k),
        Localisation::Auroc => Sorted::new(map, &mask).map_or(f64::NAN, |s| s.auroc()),
        Localisation::Auprc => Sorted::new(map, &mask).map_or(f64::NAN, |s| s.average_precision()),
    })
}

/// Lanes of the sums below: independent `f64` accumulators, so the loops vectorise (the order
/// of the additions differs from a running sum by rounding only, far below 1e-9).
const LANES: usize = 8;

/// The sum of `values` in `f64`.
fn sum(values: &[f32]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let chunks = values.chunks_exact(LANES);
    let rest: f64 = chunks.remainder().iter().map(|&v| f64::from(v)).sum();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += f64::from(c[l]);
        }
    }
    acc.iter().sum::<f64>() + rest
}

/// The map's total inside the mask (row-major 0/1) and overall, in `f64`.
fn mass_in_mask(map: &[f32], mask: &[u8]) -> (f64, f64) {
    let (mut inside, mut total) = ([0.0f64; LANES], [0.0f64; LANES]);
    let (mut a, mut t) = (0.0, 0.0);
    let pairs = map.chunks_exact(LANES).zip(mask.chunks_exact(LANES));
    for (vs, ms) in pairs {
        for l in 0..LANES {
            let v = f64::from(vs[l]);
            total[l] += v;
            inside[l] += if ms[l] != 0 { v } else { 0.0 };
        }
    }
    let done = map.len() - map.len() % LANES;
    for (&v, &m) in map[done..].iter().zip(&mask[done..]) {
        t += f64::from(v);
        if m != 0 {
            a += f64::from(v);
        }
    }
    (
        inside.iter().sum::<f64>() + a,
        total.iter().sum::<f64>() + t,
    )
}

/// LSD radix sort, 4 passes of 8 bits (stable, linear).
pub(crate) fn radix_sort(keys: &mut Vec<u32>) {
    let mut tmp = vec![0u32; keys.len()];
    for shift in [0, 8, 16, 24] {
        let mut count = [0usize; 257];
        for &k in keys.iter() {
            count[((k >> shift) & 0xff) as usize + 1] += 1;
        }
        if count.contains(&keys.len()) {
            continue; // every key has the same byte here
        }
        for i in 1..257 {
            count[i] += count[i - 1];
        }
        for &k in keys.iter() {
            let b = ((k >> shift) & 0xff) as usize;
            tmp[count[b]] = k;
            count[b] += 1;
        }
        std::mem::swap(keys, &mut tmp);
    }
}

/// The keys of the mask's pixels and of the others, each ascending.
struct Sorted {
    pos: Vec<u32>,
    neg: Vec<u32>,
}

impl Sorted {
    /// The sorted keys, or `None` when the map holds a NaN.
    fn new(map: &[f32], mask: &[u8]) -> Option<Sorted> {
        let area = mask.iter().filter(|&&m| m != 0).count();
        let mut pos = Vec::with_capacity(area);
        let mut neg = Vec::with_capacity(map.len() - area);
        let mut nan = false;
        for (&v, &m) in map.iter().zip(mask) {
            if m != 0 { &mut pos } else { &mut neg }.push(key(v));
            nan |= v.is_nan();
        }
        if nan {
            return None;
        }
        radix_sort(&mut pos);
        radix_sort(&mut neg);
        Some(Sorted { pos, neg })
    }

    /// Distinct values from the highest down: `(positives, negatives)` holding each.
    fn groups_descending(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (mut i, mut j) = (self.pos.len(), self.neg.len());
        std::iter::from_fn(move || {
            let top = match (i, j) {
                (0, 0) => return None,
                (0, _) => self.neg[j - 1],
                (_, 0) => self.pos[i - 1],
                _ => self.pos[i - 1].max(self.neg[j - 1]),
            };
            let (i0, j0) = (i, j);
            while i > 0 && self.pos[i - 1] == top {
                i -= 1;
            }
            while j > 0 && self.neg[j - 1] == top {
                j -= 1;
            }
            Some((i0 - i, j0 - j))
        })
    }

    /// P(a positive outranks a negative) + ½ P(tie): the trapezoidal ROC area.
    fn auroc(&self) -> f64 {
        let (p, n) = (self.pos.len() as f64, self.neg.len() as f64);
        if n == 0.0 {
            return f64::NAN; // scikit-learn: no negative samples, the curve is undefined
        }
        let mut negatives_above = 0.0;
        let mut wins = 0.0;
        for (gp, gn) in self.groups_descending() {
            // Each positive in the group beats the negatives below it: n − above − tied.
            wins += gp as f64 * (n - negatives_above - gn as f64 + 0.5 * gn as f64);
            negatives_above += gn as f64;
        }
        wins / (p * n)
    }

    /// scikit-learn's average precision: each distinct score a threshold, highest first.
    fn average_precision(&self) -> f64 {
        let p = self.pos.len() as f64;
        let (mut tp, mut fp, mut ap) = (0.0, 0.0, 0.0);
        for (gp, gn) in self.groups_descending() {
            tp += gp as f64;
            fp += gn as f64;
            if gp > 0 {
                ap += (gp as f64 / p) * (tp / (tp + fp)); // a group without positives adds 0
            }
        }
        ap
    }

    /// The expected share of positives among the `k` highest pixels, a tie group at the cut
    /// contributing in proportion: the obvious version of [`top_share`], its test oracle.
    #[cfg(test)]
    fn top_share(&self, k: usize) -> f64 {
        let mut taken = 0usize;
        let mut hits = 0.0;
        for (gp, gn) in self.groups_descending() {
            let g = gp + gn;
            if taken + g >= k {
                let need = (k - taken) as f64;
                hits += need * gp as f64 / g as f64;
                return hits / k as f64;
            }
            taken += g;
            hits += gp as f64;
        }
        hits / k as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gt(mask: &[u8], h: usize, w: usize) -> Rle {
        Rle::encode(mask, h, w).expect("mask")
    }

    #[test]
    fn radix_sort_is_a_sort() {
        let mut x: u64 = 12345;
        let mut keys: Vec<u32> = (0..5000)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) as u32
            })
            .collect();
        let mut expected = keys.clone();
        expected.sort_unstable();
        radix_sort(&mut keys);
        assert_eq!(keys, expected);
        let floats = [
            -3.5f32,
            -0.0,
            0.0,
            1e-30,
            2.0,
            f32::INFINITY,
            -f32::INFINITY,
        ];
        let mut k: Vec<u32> = floats.iter().map(|&f| key(f)).collect();
        radix_sort(&mut k);
        let order: Vec<u32> = [-f32::INFINITY, -3.5, 0.0, 0.0, 1e-30, 2.0, f32::INFINITY]
            .iter()
            .map(|&f| key(f))
            .collect();
        assert_eq!(k, order);
    }

    /// AUROC by its definition: every (positive, negative) pair, ties half.
    fn auroc_pairs(map: &[f32], mask: &[u8]) -> f64 {
        let (mut s, mut n) = (0.0, 0.0);
        for (i, &m) in mask.iter().enumerate() {
            for (j, &o) in mask.iter().enumerate() {
                if m == 1 && o == 0 {
                    n += 1.0;
                    s += match map[i].partial_cmp(&map[j]).expect("no NaN") {
                        std::cmp::Ordering::Greater => 1.0,
                        std::cmp::Ordering::Equal => 0.5,
                        std::cmp::Ordering::Less => 0.0,
                    };
                }
            }
        }
        s / n
    }

    #[test]
    fn auroc_is_the_pairwise_probability_with_ties_half() {
        let mask = [1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0];
        let map = [
            0.9f32, 0.1, 0.5, 0.5, 0.3, 0.8, 0.8, 0.0, 0.2, 0.5, 0.7, 0.1,
        ];
        let a = localisation(&map, &gt(&mask, 3, 4), Localisation::Auroc).expect("ok");
        assert!((a - auroc_pairs(&map, &mask)).abs() < 1e-15, "{a}");
        // A constant map is at chance; a perfect one at 1.
        let flat = [0.3f32; 12];
        let a = localisation(&flat, &gt(&mask, 3, 4), Localisation::Auroc).expect("ok");
        assert_eq!(a, 0.5);
        let perfect: Vec<f32> = mask.iter().map(|&m| f32::from(m)).collect();
        let a = localisation(&perfect, &gt(&mask, 3, 4), Localisation::Auroc).expect("ok");
        assert_eq!(a, 1.0);
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The selection-based top share equals the sorted one (ties included: values drawn
        /// from a few levels, some within one bucket of 16 key bits, some far apart), and the
        /// lane sums equal running sums.
        #[test]
        fn fast_shares_equal_the_obvious_ones(
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(0.0f32),
                    proptest::strategy::Just(1.0f32),
                    (0u32..8).prop_map(|i| 0.5 + i as f32 * 1e-6),
                    -1e3f32..1e3,
                ],
                1..300,
            ),
            seed in 0u64..1000,
            k_frac in 0.0f64..1.0,
        ) {
            let n = values.len();
            let mask: Vec<u8> = (0..n).map(|i| u8::from((i as u64 * 7 + seed) % 5 < 2)).collect();
            let k = 1 + ((n - 1) as f64 * k_frac) as usize;
            let want = Sorted::new(&values, &mask).expect("no NaN").top_share(k);
            let got = top_share(&values, &mask, k);
            proptest::prop_assert!((got - want).abs() < 1e-12, "{} vs {}", got, want);
            let (inside, total) = mass_in_mask(&values, &mask);
            let naive_total: f64 = values.iter().map(|&v| f64::from(v)).sum();
            let naive_inside: f64 = values.iter().zip(&mask).filter(|p| *p.1 != 0).map(|p| f64::from(*p.0)).sum();
            proptest::prop_assert!((total - naive_total).abs() <= 1e-9 * (1.0 + naive_total.abs()));
            proptest::prop_assert!((inside - naive_inside).abs() <= 1e-9 * (1.0 + naive_inside.abs()));
            proptest::prop_assert!((sum(&values) - naive_total).abs() <= 1e-9 * (1.0 + naive_total.abs()));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

        /// On maps large enough for the sampled bracket (512 × 520 pixels), the top share
        /// equals the sorted walk's, bit for bit: smooth maps, maps of a few levels (large tie
        /// groups at the cut), and maps whose sampled pixels alone are high, which mislead the
        /// sample and take the bucketed path.
        #[test]
        fn sampled_top_share_equals_the_sorted_one(
            kind in 0u8..3,
            seed in 0u64..1_000_000,
            k_frac in 0.0f64..1.0,
            small_k in 1usize..3000,
        ) {
            let (h, w) = (512usize, 520usize);
            let n = h * w;
            let step = n / (1 << 16);
            let map: Vec<f32> = (0..n)
                .map(|i| {
                    let (y, x) = ((i / w) as f32, (i % w) as f32);
                    let s = seed as f32 * 1e-3;
                    match kind {
                        0 => ((x * 0.013 + s).sin() * (y * 0.021 - s).cos()).abs(),
                        1 => ((i as u64 * 2654435761 + seed) % 7) as f32 * 0.25,
                        _ => f32::from(u8::from(i % step == 0)),
                    }
                })
                .collect();
            let mask: Vec<u8> = (0..n)
                .map(|i| u8::from(((i / w) as u64 * 31 + (i % w) as u64 * 17 + seed) % 97 < 40))
                .collect();
            let sorted = Sorted::new(&map, &mask).expect("no NaN");
            for k in [1 + ((n - 1) as f64 * k_frac) as usize, small_k, n] {
                let want = sorted.top_share(k);
                proptest::prop_assert_eq!(top_share(&map, &mask, k).to_bits(), want.to_bits());
                proptest::prop_assert_eq!(crate::select::by_buckets(&map, &mask, k).to_bits(), want.to_bits());
            }
            let mut nan = map;
            nan[n / 3] = f32::NAN;
            proptest::prop_assert!(top_share(&nan, &mask, n / 2).is_nan());
        }
    }

    #[test]
    fn shares_and_their_edge_cases() {
        let mask = [1, 1, 0, 0];
        let g = gt(&mask, 2, 2);
        let map = [0.4f32, 0.1, 0.3, 0.2];
        let f = |w| localisation(&map, &g, w).expect("ok");
        assert!((f(Localisation::RelevanceMass) - 0.5).abs() < 1e-7);
        // Top 2 are 0.4 (in) and 0.3 (out).
        assert_eq!(f(Localisation::RelevanceRank), 0.5);
        assert_eq!(f(Localisation::TopKIntersection { k: 1 }), 1.0);
        // Ties at the cut count in proportion: two of four tied pixels are inside.
        let flat = [1.0f32; 4];
        let t = localisation(&flat, &g, Localisation::TopKIntersection { k: 1 }).expect("ok");
        assert_eq!(t, 0.5);
        // The bounding box of the top row is the top row.
        assert!((f(Localisation::EnergyPointingGame) - 0.5).abs() < 1e-7);
        let empty = gt(&[0, 0, 0, 0], 2, 2);
        assert!(
            localisation(&map, &empty, Localisation::Auroc)
                .expect("ok")
                .is_nan()
        );
        assert!(localisation(&map[..3], &g, Localisation::Auroc).is_err());
        assert!(localisation(&map, &g, Localisation::TopKIntersection { k: 0 }).is_err());
        // A NaN anywhere (inside the mask or not, in the box or not) makes every score NaN.
        for at in 0..4 {
            let mut nan = map;
            nan[at] = f32::NAN;
            for which in [
                Localisation::Auroc,
                Localisation::Auprc,
                Localisation::RelevanceMass,
                Localisation::RelevanceRank,
                Localisation::TopKIntersection { k: 1 },
                Localisation::EnergyPointingGame,
            ] {
                let score = localisation(&nan, &g, which).expect("ok");
                assert!(score.is_nan(), "{which:?}, NaN at {at}: {score}");
            }
        }
    }
}
