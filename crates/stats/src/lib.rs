//! The statistics of CheXlocalize's regression scripts, giving statsmodels' and scipy's numbers.
//!
//! `regression_pathology_features.py` and `regression_model_assurance.py` call
//! `run_linear_regression` (`utils.py`): an OLS fit `y ~ x` (statsmodels: slope, 95 % Student-t
//! interval, p-value), Spearman's rho (scipy, `nan_policy='omit'`) with a Fisher-z interval, each
//! number rounded to 3 decimals by numpy's or Python's rule depending on where it came from; then
//! `format_ci` adds Bonferroni-corrected significance stars.
//!
//! - [`linear_regression`]: the whole row, rounded as the reference stores it ([`Regression`]);
//! - [`ols`], [`spearman`], [`fisher_ci`]: the unrounded pieces; [`t_sf`], [`t_ppf`]: Student's t;
//! - [`stars`], [`python_round`]: the formatting rules.
//!
//! Where the reference crashes (too few rows for the Fisher interval, a perfect correlation,
//! fewer than 2 complete pairs) the affected numbers are NaN and the reason is reported
//! ([`FisherIssue`], [`SpearmanIssue`]) for the caller to warn about.
//!
//! ```
//! use chexlocalize_stats::{linear_regression, stars, FisherIssue};
//!
//! let y = [0.1, 0.4, 0.35, 0.8, 0.7, 0.9];
//! let x = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0];
//! let r = linear_regression(&y, &x);
//! assert_eq!((r.mean, r.n), (0.764, 6)); // statsmodels: 0.7642857142857145, p = 0.00704
//! assert!(r.lower < r.mean && r.mean < r.upper);
//! assert_eq!(stars(r.coef_pval, 1.0), "**");
//!
//! let few = linear_regression(&y[..3], &x[..3]);
//! assert_eq!(few.correlation_ci, Err(FisherIssue::TooFewRows));
//! assert!(few.corr_lower.is_nan());
//! ```
#![deny(missing_docs)]

mod ols;
mod report;
mod spearman;
mod tdist;

pub use ols::{Ols, ols};
pub use report::{Regression, linear_regression, python_round, stars};
pub use spearman::{FisherIssue, Spearman, SpearmanIssue, average_ranks, fisher_ci, spearman};
pub use tdist::{t_ppf, t_sf};
