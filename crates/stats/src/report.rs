//! `run_linear_regression` and `format_ci` of the reference's `utils.py`: which numbers are
//! rounded how, and the significance stars.

use chexlocalize_metrics::numpy_round;

use crate::ols::{Ols, ols};
use crate::spearman::{FisherIssue, Spearman, SpearmanIssue, fisher_ci, spearman};

/// Python's `round(x, ndigits)` on a Python float: the decimal value nearest to the exact binary
/// value, ties to even, read back as a float (Rust's `{:.N}` formatting rounds the same way).
pub fn python_round(x: f64, ndigits: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{x:.ndigits$}").parse().unwrap_or(x)
}

/// The stars of `format_ci`: `***` when `p < 0.001 / b`, `**` when `p < 0.01 / b`, `*` when
/// `p < 0.05 / b` (Bonferroni correction `b`), nothing otherwise or for a NaN p-value.
pub fn stars(p: f64, bonferroni: f64) -> &'static str {
    if p < 0.001 / bonferroni {
        "***"
    } else if p < 0.01 / bonferroni {
        "**"
    } else if p < 0.05 / bonferroni {
        "*"
    } else {
        ""
    }
}

/// One row of the reference's `coef_summary`, with its numbers rounded as there.
#[derive(Clone, Debug, PartialEq)]
pub struct Regression {
    /// The unrounded OLS fit.
    pub fit: Ols,
    /// The unrounded correlation, or why it is NaN.
    pub correlation: Result<Spearman, SpearmanIssue>,
    /// The unrounded Fisher-z interval, or why it is NaN.
    pub correlation_ci: Result<(f64, f64), FisherIssue>,
    /// `n`: rows where `y` is not NaN (the reference counts `regression_df[y].notnull()`, even
    /// where `x` is NaN).
    pub n: usize,
    /// Slope, `np.round(.., 3)` (statsmodels returns a numpy float).
    pub mean: f64,
    /// CI ends, Python `round(.., 3)` (pandas hands them out as Python floats).
    pub lower: f64,
    /// See `lower`.
    pub upper: f64,
    /// Unrounded p-value of the slope.
    pub coef_pval: f64,
    /// Spearman's rho, `np.round(.., 3)` (scipy returns a numpy float); NaN when undefined.
    pub corr: f64,
    /// Fisher-z interval ends, Python `round(.., 3)` (`math.tanh` gives Python floats); NaN
    /// where the reference would crash or gets NaN.
    pub corr_lower: f64,
    /// See `corr_lower`.
    pub corr_upper: f64,
    /// Unrounded p-value of the correlation.
    pub corr_pval: f64,
}

/// `run_linear_regression(df, task, y, x)`: OLS `y ~ x`, Spearman's rho of `(y, x)` and its
/// Fisher-z interval with `n` = the number of non-NaN `y`, rounded as the reference rounds them.
pub fn linear_regression(y: &[f64], x: &[f64]) -> Regression {
    let fit = ols(y, x);
    let correlation = spearman(y, x);
    let n = y.iter().filter(|v| !v.is_nan()).count();
    let rho = correlation.map_or(f64::NAN, |s| s.rho);
    let correlation_ci = fisher_ci(rho, n);
    let (cl, cu) = correlation_ci.unwrap_or((f64::NAN, f64::NAN));
    Regression {
        fit,
        correlation,
        correlation_ci,
        n,
        mean: numpy_round(fit.slope, 3),
        lower: python_round(fit.lower, 3),
        upper: python_round(fit.upper, 3),
        coef_pval: fit.p_value,
        corr: numpy_round(rho, 3),
        corr_lower: python_round(cl, 3),
        corr_upper: python_round(cu, 3),
        corr_pval: correlation.map_or(f64::NAN, |s| s.p_value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_stars() {
        // Python: round(0.0005, 3) == 0.001, round(2.675, 2) == 2.67, round(-0.0004, 3) == -0.0
        assert_eq!(python_round(0.0005, 3), 0.001);
        assert_eq!(python_round(2.675, 2), 2.67);
        assert!(python_round(-0.0004, 3).is_sign_negative());
        assert!(python_round(f64::NAN, 3).is_nan());
        assert_eq!(stars(0.0003, 4.0), "**");
        assert_eq!(stars(0.0002, 1.0), "***");
        assert_eq!(stars(0.02, 1.0), "*");
        assert_eq!(stars(0.02, 4.0), "");
        assert_eq!(stars(f64::NAN, 1.0), "");
    }
}
