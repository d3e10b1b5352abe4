//! numpy's and pandas' floating-point arithmetic, reproduced to the last bit.
//!
//! The reference's published numbers are means and rounded confidence bounds computed by numpy
//! and pandas. Summation order changes the last bits of a sum, and rounding to 3 decimals can then
//! flip a printed digit, so we copy each algorithm exactly:
//! - [`pairwise_sum`]: numpy's `add.reduce` over a contiguous float64 array (`pairwise_sum` in
//!   `loops_utils.h.src`), used by `ndarray.sum`, pandas `Series.mean` and column means;
//! - [`sequential_sum`]: numpy's reduction across a strided axis (pandas `DataFrame.mean(axis=1)`
//!   reduces the columns of a row one after the other — checked against pandas 3.1.1);
//! - [`nanmean`]: pandas' NaN-skipping mean (`nanops.nanmean`): the sum of the values with NaN
//!   replaced by 0, divided by the number of non-NaN values, NaN when there is none;
//! - [`numpy_round`]: `np.round(x, d)` = `rint(x * 10^d) / 10^d` (half to even on the scaled
//!   binary value), which `np.float64.__round__` — Python's `round()` on numpy floats — also
//!   uses. It differs from Python's correctly rounded `round()` on plain floats:
//!   `np.round(0.0005, 3) == 0.0` but `round(0.0005, 3) == 0.001`.

/// numpy's pairwise summation of a contiguous float64 array, starting from the identity `0.0`.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a)
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut res = 0.0;
        for &x in a {
            res += x;
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for k in 0..8 {
                r[k] += a[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[full..] {
            res += x;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise(&a[..n2]) + pairwise(&a[n2..])
    }
}

/// Left-to-right summation, as numpy reduces along a non-contiguous axis.
pub fn sequential_sum(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |s, &x| s + x)
}

/// pandas' NaN-skipping mean of a float64 column (`Series.mean()`), NaN when every value is NaN.
pub fn nanmean(a: &[f64]) -> f64 {
    let filled: Vec<f64> = a
        .iter()
        .map(|&x| if x.is_nan() { 0.0 } else { x })
        .collect();
    let count = a.iter().filter(|x| !x.is_nan()).count();
    if count == 0 {
        return f64::NAN;
    }
    pairwise_sum(&filled) / count as f64
}

/// pandas' NaN-skipping mean across a row (`DataFrame.mean(axis=1)`): sequential summation.
pub fn row_nanmean(a: &[f64]) -> f64 {
    let count = a.iter().filter(|x| !x.is_nan()).count();
    if count == 0 {
        return f64::NAN;
    }
    a.iter()
        .fold(0.0, |s, &x| if x.is_nan() { s + 0.0 } else { s + x })
        / count as f64
}

/// `np.round(x, decimals)` for `decimals >= 0`: `rint(x * 10^d) / 10^d`, ties to even.
pub fn numpy_round(x: f64, decimals: u32) -> f64 {
    let f = (0..decimals).fold(1.0f64, |p, _| p * 10.0);
    (x * f).round_ties_even() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_means_match_numpy_and_pandas() {
        // Expected values: numpy 2.4.6 / pandas 3.1.1, for a = [(-1)**(i%3) / (i+1)]:
        //   repr(float(a.sum()))  and  repr(float(pd.Series(np.where(np.arange(n)%5==0, nan, a)).mean()))
        let cases: &[(usize, f64, f64)] = &[
            (1, 1.0, f64::NAN),
            (7, 1.1928571428571428, 0.005238095238095231),
            (8, 1.0678571428571428, -0.016468253968253983),
            (9, 1.178968253968254, 0.0017573696145124576),
            (16, 1.4060536685536686, 0.02231634106634106),
            (17, 1.347230139141904, 0.016074812568025232),
            (127, 2.052076014465958, 0.00768971725761162),
            (128, 2.0442635144659578, 0.0075377347354781705),
            (129, 2.0520154524504535, 0.007539814378672521),
            (255, 2.278538525425982, 0.004733679235208594),
            (1000, 2.734219089594596, 0.0016583380604437868),
            (4097, 3.20334899031053, 0.0005194773330837588),
            (100000, 4.26845106845429, 3.193067034541858e-05),
        ];
        for &(n, sum, mean) in cases {
            let a: Vec<f64> = (0..n)
                .map(|i| 1.0 / (i + 1) as f64 * if i % 3 == 1 { -1.0 } else { 1.0 })
                .collect();
            assert_eq!(pairwise_sum(&a), sum, "sum of {n}");
            let with_nan: Vec<f64> = a
                .iter()
                .enumerate()
                .map(|(i, &x)| if i % 5 == 0 { f64::NAN } else { x })
                .collect();
            let m = nanmean(&with_nan);
            assert!(
                m == mean || (m.is_nan() && mean.is_nan()),
                "mean of {n}: {m} vs {mean}"
            );
        }
    }

    #[test]
    fn rounding_matches_numpy() {
        // Expected: [np.round(x, 3) for x in [0.0005, 0.0015, 1.0005, 2.5e-4, -0.0005, 0.1235, 123.4565]]
        let xs = [0.0005, 0.0015, 1.0005, 2.5e-4, -0.0005, 0.1235, 123.4565];
        let want = [0.0, 0.002, 1.0, 0.0, -0.0, 0.124, 123.456];
        for (x, w) in xs.iter().zip(want) {
            let r = numpy_round(*x, 3);
            assert_eq!(r, w, "round({x})");
            assert_eq!(
                r.is_sign_negative(),
                w.is_sign_negative(),
                "sign of round({x})"
            );
        }
        assert!(numpy_round(f64::NAN, 3).is_nan());
    }
}
