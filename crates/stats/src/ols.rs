//! Simple linear regression `y ~ x` with an intercept, as statsmodels' `smf.ols(...).fit()`.

use crate::tdist::{t_ppf, t_sf};

/// The slope of an OLS fit with its 95 % confidence interval and two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ols {
    /// The slope (statsmodels' `params[x]`).
    pub slope: f64,
    /// Lower end of the 95 % Student-t confidence interval (`conf_int(alpha=0.05)`).
    pub lower: f64,
    /// Upper end.
    pub upper: f64,
    /// Two-sided p-value of the slope (`pvalues[x]`).
    pub p_value: f64,
    /// Rows used: those where neither `y` nor `x` is NaN (patsy's default `drop`).
    pub n: usize,
    /// Residual degrees of freedom: `n - rank` of the design matrix `[1, x]`.
    pub df_resid: f64,
}

/// Fits `y ~ 1 + x` by least squares on the rows where neither value is NaN.
///
/// Parity with statsmodels (which solves with the pseudo-inverse of `[1, x]`):
/// - with at least two distinct `x`, the usual estimates: slope `Sxy / Sxx`, standard error
///   `sqrt(SSR / (n - 2) / Sxx)`;
/// - when every `x` is the same value `c` the design has rank 1 and the pseudo-inverse gives the
///   minimum-norm solution: slope `c * mean(y) / (1 + c^2)`, `df_resid = n - 1`, standard error
///   `|c| / (1 + c^2) * sqrt(SSR / (n - 1) / n)`;
/// - the interval is `slope -/+ t.ppf(0.975, df_resid) * se`, the p-value
///   `2 * t.sf(|slope / se|, df_resid)`; with `df_resid <= 0` (a perfect fit of two points, or
///   one point) they are NaN, as statsmodels gives them.
///
/// No rows at all: everything NaN (statsmodels raises there).
pub fn ols(y: &[f64], x: &[f64]) -> Ols {
    let pairs: Vec<(f64, f64)> = y
        .iter()
        .zip(x)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(&a, &b)| (a, b))
        .collect();
    let n = pairs.len();
    let nan = Ols {
        slope: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
        p_value: f64::NAN,
        n,
        df_resid: f64::NAN,
    };
    if n == 0 {
        return nan;
    }
    let nf = n as f64;
    let my = pairs.iter().map(|p| p.0).sum::<f64>() / nf;
    let mx = pairs.iter().map(|p| p.1).sum::<f64>() / nf;
    let c = pairs[0].1;
    let (slope, se, df) = if pairs.iter().all(|p| p.1 == c) {
        // Rank 1: minimum-norm solution; fitted values are mean(y).
        let ssr: f64 = pairs.iter().map(|p| (p.0 - my) * (p.0 - my)).sum();
        let df = nf - 1.0;
        let k = 1.0 + c * c;
        let scale = ssr / df;
        (c * my / k, (c * c / (nf * k * k) * scale).sqrt(), df)
    } else {
        let sxx: f64 = pairs.iter().map(|p| (p.1 - mx) * (p.1 - mx)).sum();
        let sxy: f64 = pairs.iter().map(|p| (p.1 - mx) * (p.0 - my)).sum();
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let ssr: f64 = pairs
            .iter()
            .map(|p| {
                let r = p.0 - intercept - slope * p.1;
                r * r
            })
            .sum();
        let df = nf - 2.0;
        (slope, (ssr / df / sxx).sqrt(), df)
    };
    if df <= 0.0 {
        return Ols {
            slope,
            df_resid: df,
            ..nan
        };
    }
    let q = t_ppf(0.975, df);
    Ols {
        slope,
        lower: slope - q * se,
        upper: slope + q * se,
        p_value: 2.0 * t_sf((slope / se).abs(), df),
        n,
        df_resid: df,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values: statsmodels 0.15.0, `smf.ols("y ~ x", df).fit()`: `params.x`,
    /// `conf_int(alpha=0.05).loc["x"]`, `pvalues.x` (reprs), for the data below.
    #[test]
    fn matches_statsmodels() {
        let y = [1.0, 2.0, 3.5, f64::NAN, 2.0, 5.0, 4.25];
        let x = [0.1, 0.5, 0.2, 0.3, 0.9, 0.4, f64::NAN];
        let r = ols(&y, &x);
        let want = [
            -0.18041237113401903,
            -9.408625650188105,
            9.047800907920069,
            0.9543031826649118,
        ];
        let got = [r.slope, r.lower, r.upper, r.p_value];
        for (g, w) in got.iter().zip(want) {
            assert!(((g - w) / w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        assert_eq!((r.n, r.df_resid), (5, 3.0));
        // Constant x: the pseudo-inverse's minimum-norm solution.
        let r = ols(&[1.0, 2.0, 4.0, 3.0], &[2.0; 4]);
        let want = [
            1.0,
            0.17829589729579154,
            1.8217041027042085,
            0.030466291662170977,
        ];
        let got = [r.slope, r.lower, r.upper, r.p_value];
        for (g, w) in got.iter().zip(want) {
            assert!(((g - w) / w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
        // Two points: exact fit, no interval.
        let r = ols(&[1.0, 3.0], &[0.0, 1.0]);
        assert_eq!(r.slope, 2.0);
        assert!(r.lower.is_nan() && r.upper.is_nan() && r.p_value.is_nan());
        assert!(ols(&[f64::NAN], &[1.0]).slope.is_nan());
    }
}
