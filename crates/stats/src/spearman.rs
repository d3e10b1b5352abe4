//! Spearman's rank correlation as `scipy.stats.spearmanr(y, x, nan_policy='omit')` computes it,
//! and the Fisher-z confidence interval of `run_linear_regression`.

use crate::tdist::t_sf;

/// A rank correlation and its two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spearman {
    /// The correlation (NaN when undefined).
    pub rho: f64,
    /// Two-sided p-value from the t approximation with `n - 2` degrees of freedom.
    pub p_value: f64,
    /// Pairs used.
    pub n: usize,
}

/// Why a correlation is NaN, for the caller's warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpearmanIssue {
    /// Fewer than 2 rows in all (scipy returns NaN).
    TooFewRows,
    /// One variable is constant (scipy warns `ConstantInputWarning` and returns NaN).
    Constant,
    /// Fewer than 2 complete pairs once NaN rows are dropped (scipy raises "The input must have
    /// at least 3 entries!").
    TooFewPairs,
}

/// Average ranks (1-based) of `v`, as `scipy.stats.rankdata(method='average')`.
pub fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let r = (i + j + 2) as f64 / 2.0;
        for &k in &order[i..=j] {
            ranks[k] = r;
        }
        i = j + 1;
    }
    ranks
}

/// Centred cross products of the ranks of `y` and `x`: `(Syy, Sxx, Sxy)`. Ranks are multiples of
/// 1/2 with mean (n+1)/2, so these sums are exact in any order (like numpy's BLAS dot).
fn rank_sums(y: &[f64], x: &[f64]) -> (f64, f64, f64) {
    let (ry, rx) = (average_ranks(y), average_ranks(x));
    let m = (y.len() as f64 + 1.0) / 2.0;
    let (mut syy, mut sxx, mut sxy) = (0.0, 0.0, 0.0);
    for (a, b) in ry.iter().zip(&rx) {
        let (dy, dx) = (a - m, b - m);
        syy += dy * dy;
        sxx += dx * dx;
        sxy += dx * dy;
    }
    (syy, sxx, sxy)
}

fn p_value(rho: f64, dof: f64) -> f64 {
    // t = r * sqrt(dof / ((r + 1)(1 - r))), the ratio clipped at 0 (NaN stays NaN).
    let ratio = dof / ((rho + 1.0) * (1.0 - rho));
    let ratio = if ratio < 0.0 { 0.0 } else { ratio };
    let t = rho * ratio.sqrt();
    2.0 * t_sf(t.abs(), dof)
}

/// `spearmanr(y, x, nan_policy='omit')`, or the reason it is NaN.
///
/// Parity with scipy 1.17, which has two code paths:
/// - the constant-input check runs on the whole columns, NaN rows included (a NaN is never equal
///   to the first value, so a column with a NaN is not constant);
/// - without NaN: `np.corrcoef` of the ranks: covariances times `1/(n-1)`, divided by the two
///   standard deviations one after the other, clipped to [-1, 1];
/// - with a NaN: `mstats.spearmanr` on the complete pairs (non-finite values dropped): covariances
///   divided by `n-1`, divided by the product of the standard deviations, NOT clipped; a zero
///   product leaves the covariance as it is (numpy.ma's masked division); all-zero data is NaN;
/// - p-value: `2 * t.sf(|r| sqrt((n-2) / ((1+r)(1-r))), n-2)`, NaN for `n = 2`.
pub fn spearman(y: &[f64], x: &[f64]) -> Result<Spearman, SpearmanIssue> {
    let n_obs = y.len().min(x.len());
    let (y, x) = (&y[..n_obs], &x[..n_obs]);
    if n_obs <= 1 {
        return Err(SpearmanIssue::TooFewRows);
    }
    let constant = |v: &[f64]| v.iter().all(|&a| a == v[0]);
    if constant(y) || constant(x) {
        return Err(SpearmanIssue::Constant);
    }
    if y.iter().chain(x).any(|v| v.is_nan()) {
        let (yy, xx): (Vec<f64>, Vec<f64>) = y
            .iter()
            .zip(x)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(&a, &b)| (a, b))
            .unzip();
        let n = yy.len();
        if yy.iter().chain(&xx).all(|&v| v == 0.0) && n > 0 {
            return Ok(Spearman {
                rho: f64::NAN,
                p_value: f64::NAN,
                n,
            });
        }
        if n < 2 {
            return Err(SpearmanIssue::TooFewPairs);
        }
        let (syy, sxx, sxy) = rank_sums(&yy, &xx);
        let f = (n - 1) as f64;
        let (cyy, cxx, cxy) = (syy / f, sxx / f, sxy / f);
        let denom = cxx.sqrt() * cyy.sqrt();
        let rho = if denom == 0.0 { cxy } else { cxy / denom };
        return Ok(Spearman {
            rho,
            p_value: p_value(rho, (n - 2) as f64),
            n,
        });
    }
    let (syy, sxx, sxy) = rank_sums(y, x);
    let inv = 1.0 / (n_obs - 1) as f64;
    let (cyy, cxx, cxy) = (syy * inv, sxx * inv, sxy * inv);
    let rho = (cxy / cxx.sqrt() / cyy.sqrt()).clamp(-1.0, 1.0);
    Ok(Spearman {
        rho,
        p_value: p_value(rho, (n_obs - 2) as f64),
        n: n_obs,
    })
}

/// Why a Fisher-z interval is NaN, for the caller's warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FisherIssue {
    /// `n <= 3`: the standard error `1 / sqrt(n - 3)` does not exist (the reference crashes
    /// with a division by zero or a math domain error).
    TooFewRows,
    /// `|rho| >= 1`: `atanh` is infinite (the reference crashes with a math domain error).
    Perfect,
    /// The correlation itself is NaN.
    Undefined,
}

/// The 95 % Fisher-z interval of `run_linear_regression`:
/// `tanh(atanh(rho) -/+ 1.96 / sqrt(n - 3))`.
pub fn fisher_ci(rho: f64, n: usize) -> Result<(f64, f64), FisherIssue> {
    if rho.is_nan() {
        return Err(FisherIssue::Undefined);
    }
    if n <= 3 {
        return Err(FisherIssue::TooFewRows);
    }
    if rho.abs() >= 1.0 {
        return Err(FisherIssue::Perfect);
    }
    let delta = 1.96 * (1.0 / ((n - 3) as f64).sqrt());
    let z = rho.atanh();
    Ok(((z - delta).tanh(), (z + delta).tanh()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values: scipy 1.17.1, `spearmanr(y, x, nan_policy='omit')` (reprs).
    #[test]
    fn matches_scipy() {
        let y = [1.0, 2.0, 2.0, 5.0, 3.0, 0.5, 7.0];
        let x = [0.3, 0.1, 0.4, 0.4, 0.9, 0.2, 0.8];
        let s = spearman(&y, &x).expect("defined");
        assert_eq!(s.rho, 0.7000000000000001);
        assert!((s.p_value - 0.07991669030889918).abs() < 1e-15);
        let y2 = [1.0, 2.0, f64::NAN, 5.0, 3.0, 0.5, 7.0];
        let s = spearman(&y2, &x).expect("defined");
        assert_eq!(s.rho, 0.6571428571428571);
        assert!((s.p_value - 0.15617492711370254).abs() < 1e-15);
        assert_eq!(s.n, 6);
        assert_eq!(
            spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]),
            Err(SpearmanIssue::Constant)
        );
        assert_eq!(
            spearman(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, f64::NAN]),
            Err(SpearmanIssue::TooFewPairs)
        );
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0]),
            vec![3.5, 1.0, 3.5, 2.0]
        );
    }
}
