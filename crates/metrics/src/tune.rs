//! What the tuning scripts do with the per-map IoUs: numpy's threshold grids, the mean per
//! candidate and Python's choice of the best one; and user-given grids, checked.

/// Most candidates a user-given tuning grid ([`parse_grid`]) may have: 1 000, e.g. a step of
/// 0.001 over [0, 1] (the reference's grids have 7 to 9, and it writes the chosen threshold
/// rounded to one decimal). Tuning time grows with the number of candidates (about 140 times
/// the reference grid's at this bound) and keeps one IoU per candidate and map (8 KB a map).
pub const MAX_GRID_LEN: usize = 1_000;

/// Why a grid specification ([`parse_grid`]) was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GridError {
    /// Neither `start:stop:step` nor a comma-separated list.
    #[error("expected start:stop:step or a comma-separated list of numbers, found {0:?}")]
    Syntax(String),
    /// A value that is not a finite number (NaN and infinities included).
    #[error("expected finite numbers, found {0:?}")]
    NotFinite(String),
    /// `step <= 0`.
    #[error("expected a step > 0, found {0}")]
    Step(f64),
    /// `start >= stop`.
    #[error("expected start < stop, found start {start} and stop {stop}")]
    Range {
        /// The first value.
        start: f64,
        /// The excluded end.
        stop: f64,
    },
    /// More than [`MAX_GRID_LEN`] candidates (`count` is numpy's length, maybe beyond `usize`).
    #[error("expected at most {max} candidates, found {}", count_text(*count))]
    TooMany {
        /// How many candidates the grid has (`ceil((stop - start) / step)` for a range).
        count: f64,
        /// [`MAX_GRID_LEN`].
        max: usize,
    },
    /// A range too narrow for its step to give a value (numpy's length rounds to 0).
    #[error("expected at least one candidate, found none in {0:?}")]
    Empty(String),
}

/// A candidate count as written in [`GridError::TooMany`]: whole up to 10^15, else `1e300`.
fn count_text(count: f64) -> String {
    if count < 1e15 {
        format!("{count}")
    } else {
        format!("{count:e}")
    }
}

/// Parses a user-given grid: `start:stop:step` (numpy's `arange`, stop excluded) or a
/// comma-separated list of numbers. Every value is finite, a range has `step > 0` and
/// `start < stop`, and there are 1 to [`MAX_GRID_LEN`] candidates; the count is checked before
/// anything is allocated for them.
///
/// ```
/// use chexlocalize_metrics::{GridError, parse_grid};
/// assert_eq!(parse_grid("0.25,0.5").unwrap(), vec![0.25, 0.5]);
/// assert_eq!(parse_grid("0:1:0.25").unwrap(), vec![0.0, 0.25, 0.5, 0.75]);
/// assert!(matches!(parse_grid("0:1:1e-12"), Err(GridError::TooMany { .. })));
/// ```
pub fn parse_grid(spec: &str) -> Result<Vec<f64>, GridError> {
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| GridError::NotFinite(t.trim().to_owned()))
    };
    let too_many = |count: f64| GridError::TooMany {
        count,
        max: MAX_GRID_LEN,
    };
    if spec.contains(':') {
        let mut parts = spec.split(':');
        let (Some(a), Some(b), Some(c), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(GridError::Syntax(spec.to_owned()));
        };
        let (start, stop, step) = (num(a)?, num(b)?, num(c)?);
        if step <= 0.0 {
            return Err(GridError::Step(step));
        }
        if start >= stop {
            return Err(GridError::Range { start, stop });
        }
        // Never NaN (finite, start < stop, step > 0); infinite when the span or the quotient
        // overflows, refused like any other excess.
        let len = ((stop - start) / step).ceil();
        if len > MAX_GRID_LEN as f64 {
            return Err(too_many(len));
        }
        let grid = arange(start, stop, step);
        if grid.is_empty() {
            return Err(GridError::Empty(spec.to_owned()));
        }
        Ok(grid)
    } else {
        let items = spec.split(',');
        let count = items.clone().count();
        if count > MAX_GRID_LEN {
            return Err(too_many(count as f64));
        }
        items.map(num).collect()
    }
}

/// `np.arange(start, stop, step)` as numpy computes it: `ceil((stop - start) / step)` values,
/// the second one `start + step` and the others `start + i * delta` with
/// `delta = (start + step) - start`. So `arange(0.2, 0.8, 0.1)` ends with
/// `0.8000000000000003` (and includes 0.8), and `arange(0.0, 0.9, 0.1)` has
/// `0.30000000000000004`. Empty for a non-finite or zero step, or when the length is not
/// positive. It allocates all of them: user-given bounds go through [`parse_grid`].
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
    fn grids_are_checked_before_allocating() {
        // Ranges go through arange (checked against numpy above); lists are read as written.
        assert_eq!(parse_grid("0.1,0.5 , 0.9"), Ok(vec![0.1, 0.5, 0.9]));
        assert_eq!(parse_grid("0:1:0.5"), Ok(vec![0.0, 0.5]));
        assert_eq!(parse_grid("0:1:1e-3").map(|g| g.len()), Ok(MAX_GRID_LEN));
        let too_many = |count: f64| {
            Err(GridError::TooMany {
                count,
                max: MAX_GRID_LEN,
            })
        };
        // ceil(1 / 1e-12) = 1e12 and 1e300 candidates: refused, not allocated.
        assert_eq!(parse_grid("0:1:1e-12"), too_many(1e12));
        assert_eq!(parse_grid("0:1e300:1"), too_many(1e300));
        // The span overflows to infinity.
        assert_eq!(parse_grid("-1e308:1e308:1e300"), too_many(f64::INFINITY));
        // 1 / 0.0009999 = 1000.1..., numpy's length 1001.
        assert_eq!(parse_grid("0:1:0.0009999"), too_many(1001.0));
        let list = vec!["0.5"; MAX_GRID_LEN + 1].join(",");
        assert_eq!(parse_grid(&list), too_many((MAX_GRID_LEN + 1) as f64));
        assert_eq!(parse_grid("0:1:0"), Err(GridError::Step(0.0)));
        assert_eq!(parse_grid("1:0:-0.1"), Err(GridError::Step(-0.1)));
        assert_eq!(
            parse_grid("0.5:0.5:0.1"),
            Err(GridError::Range {
                start: 0.5,
                stop: 0.5
            })
        );
        for bad in [
            "nan",
            "0:nan:0.1",
            "0:1:inf",
            "0.1,,0.2",
            "",
            "0.1,x",
            "-inf,0",
        ] {
            assert!(
                matches!(parse_grid(bad), Err(GridError::NotFinite(_))),
                "{bad:?}: {:?}",
                parse_grid(bad)
            );
        }
        for bad in ["0:1", "0:1:0.1:2", "0:1,2:3"] {
            assert!(
                matches!(
                    parse_grid(bad),
                    Err(GridError::Syntax(_) | GridError::NotFinite(_))
                ),
                "{bad:?}"
            );
        }
        // (1e-320 - 0) / 1e300 underflows to 0: numpy's length is 0.
        assert!(matches!(
            parse_grid("0:1e-320:1e300"),
            Err(GridError::Empty(_))
        ));
        let msg = parse_grid("0:1:1e-12").expect_err("refused").to_string();
        assert_eq!(msg, "expected at most 1000 candidates, found 1000000000000");
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
