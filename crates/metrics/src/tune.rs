//! What the tuning scripts do with the per-map IoUs: numpy's threshold grids, the mean per
//! candidate and Python's choice of the best one.

/// `np.arange(start, stop, step)` as numpy computes it: `ceil((stop - start) / step)` values,
/// the second one `start + step` and the others `start + i * delta` with
/// `delta = (start + step) - start`. So `arange(0.2, 0.8, 0.1)` ends with
/// `0.8000000000000003` (and includes 0.8), and `arange(0.0, 0.9, 0.1)` has
/// `0.30000000000000004`. Empty for a non-finite or zero step, or when the length is not
/// positive.
pub fn arange(start: f64, stop: f64, step: f64) -> Vec<f64> {
    let len = ((stop - start) / step).ceil();
    if !(len.is_finite() && len >= 1.0) || step == 0.0 {
        return Vec::new();
    }
    let n = len as usize;
    let second = start + step;
    let delta = second - start;
    (0..n)
        .map(|i| match i {
            0 => start,
            1 => second,
            _ => start + i as f64 * delta,
        })
        .collect()
}

/// The index Python's `values.index(max(values))` gives: `max` keeps the first element and
/// replaces it only by a strictly greater one, so the first maximum wins, a NaN in first place
/// wins (nothing compares greater than it) and later NaNs are ignored. `None` for an empty list.
pub fn python_argmax(values: &[f64]) -> Option<usize> {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate().skip(1) {
        if v > values[best] {
            best = i;
        }
    }
    (!values.is_empty()).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arange_matches_numpy() {
        // Expected: repr(float(x)) for x in np.arange(...), numpy 2.4.6.
        type Case<'a> = ((f64, f64, f64), &'a [f64]);
        let cases: [Case<'_>; 4] = [
            (
                (0.2, 0.8, 0.1),
                &[
                    0.2,
                    0.30000000000000004,
                    0.4000000000000001,
                    0.5000000000000001,
                    0.6000000000000001,
                    0.7000000000000002,
                    0.8000000000000003,
                ],
            ),
            (
                (0.0, 0.9, 0.1),
                &[
                    0.0,
                    0.1,
                    0.2,
                    0.30000000000000004,
                    0.4,
                    0.5,
                    0.6000000000000001,
                    0.7000000000000001,
                    0.8,
                ],
            ),
            (
                (0.1, 0.9, 0.1),
                &[
                    0.1,
                    0.2,
                    0.30000000000000004,
                    0.4,
                    0.5,
                    0.6,
                    0.7000000000000001,
                    0.8,
                ],
            ),
            (
                (0.05, 0.95, 0.05),
                &[
                    0.05,
                    0.1,
                    0.15000000000000002,
                    0.2,
                    0.25,
                    0.3,
                    0.35000000000000003,
                    0.4,
                    0.45,
                    0.5,
                    0.55,
                    0.6000000000000001,
                    0.6500000000000001,
                    0.7000000000000001,
                    0.7500000000000001,
                    0.8,
                    0.8500000000000001,
                    0.9000000000000001,
                ],
            ),
        ];
        for ((a, b, c), want) in cases {
            let got = arange(a, b, c);
            assert_eq!(got.len(), want.len(), "arange({a}, {b}, {c})");
            for (g, w) in got.iter().zip(want) {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "arange({a}, {b}, {c}): {g} vs {w}"
                );
            }
        }
        assert!(arange(0.5, 0.2, 0.1).is_empty());
        assert!(arange(0.0, 1.0, 0.0).is_empty());
        assert!(arange(0.0, f64::NAN, 0.1).is_empty());
    }

    #[test]
    fn argmax_follows_python() {
        // Python 3.11: l.index(max(l)) for these lists.
        let nan = f64::NAN;
        assert_eq!(python_argmax(&[0.1, 0.3, 0.3, 0.2]), Some(1));
        assert_eq!(python_argmax(&[nan, 0.3, 0.5]), Some(0));
        assert_eq!(python_argmax(&[0.1, nan, 0.05, 0.2]), Some(3));
        assert_eq!(python_argmax(&[0.4, nan, nan]), Some(0));
        assert_eq!(python_argmax(&[nan, nan]), Some(0));
        assert_eq!(python_argmax(&[]), None);
    }
}
