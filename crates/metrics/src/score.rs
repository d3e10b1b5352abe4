//! IoU and the pointing game with the reference's rules; the Dice coefficient.

use chexlocalize_rle::Rle;

use crate::MetricsError;

/// Which mask pairs [`iou`] scores (the others are NaN, left out of means): `eval.py
/// --true_pos_only True` is [`Scoring::TruePositivesOnly`], `False` is [`Scoring::All`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scoring {
    /// Only true positives: both masks non-empty.
    TruePositivesOnly,
    /// Every pair whose union is non-empty (a false positive or false negative scores 0).
    All,
}

/// IoU of a predicted and a ground-truth mask with `eval.py`'s rules.
///
/// NaN for a pair that `scoring` leaves out: with [`Scoring::TruePositivesOnly`] unless both
/// masks are non-empty, with [`Scoring::All`] only when the union is empty. The division is
/// float64 as numpy does it.
pub fn iou(pred: &Rle, gt: &Rle, scoring: Scoring) -> Result<f64, MetricsError> {
    let inter = pred.intersection_area(gt)?;
    let (pa, ga) = (pred.area(), gt.area());
    let union = pa + ga - inter;
    let nan = match scoring {
        Scoring::TruePositivesOnly => pa == 0 || ga == 0,
        Scoring::All => union == 0,
    };
    Ok(if nan {
        f64::NAN
    } else {
        inter as f64 / union as f64
    })
}

/// The Dice coefficient `2 |P ∩ G| / (|P| + |G|)` of a predicted and a ground-truth mask; NaN
/// when the ground truth is empty (nothing to find: MONAI's `DiceMetric(ignore_empty=True)`;
/// CheXlocalize leaves such pairs out of its means too), 0 for an empty prediction of a
/// non-empty ground truth.
pub fn dice(pred: &Rle, gt: &Rle) -> Result<f64, MetricsError> {
    let inter = pred.intersection_area(gt)?;
    let (pa, ga) = (pred.area(), gt.area());
    Ok(if ga == 0 {
        f64::NAN
    } else {
        2.0 * inter as f64 / (pa + ga) as f64
    })
}

/// Whether a ground-truth pixel exactly at the tolerance distance counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ToleranceBoundary {
    /// Distance `≤` tolerance (this project's default; with tolerance 0 exactly the
    /// reference's rule: the point's own pixel).
    #[default]
    Inclusive,
    /// Distance `<` tolerance, as TorchRay's pointing game compares (with tolerance 0 nothing
    /// is a hit).
    Strict,
}

/// Whether the ground truth is set at `(row, col)` or, with `tolerance_px > 0`, at any pixel
/// whose centre lies within `tolerance_px` of it (Euclidean, the boundary included; TorchRay's
/// pointing game uses 15). A point outside the mask is a miss.
pub fn hit_with_tolerance(gt: &Rle, row: usize, col: usize, tolerance_px: f64) -> bool {
    hit_within(gt, row, col, tolerance_px, ToleranceBoundary::Inclusive)
}

/// [`hit_with_tolerance`] with the boundary rule chosen.
pub fn hit_within(
    gt: &Rle,
    row: usize,
    col: usize,
    tolerance_px: f64,
    boundary: ToleranceBoundary,
) -> bool {
    if tolerance_px.is_nan() {
        return false;
    }
    let inside = |d2: f64| match boundary {
        ToleranceBoundary::Inclusive => d2 <= tolerance_px * tolerance_px,
        ToleranceBoundary::Strict => d2 < tolerance_px * tolerance_px,
    };
    if !inside(0.0) {
        return false;
    }
    if gt.get(row, col) == Some(true) {
        return true;
    }
    if tolerance_px < 1.0 {
        return false;
    }
    let t = tolerance_px.floor() as usize;
    let (h, w) = (gt.height(), gt.width());
    for r in row.saturating_sub(t)..=(row + t).min(h.saturating_sub(1)) {
        for c in col.saturating_sub(t)..=(col + t).min(w.saturating_sub(1)) {
            let (dr, dc) = (r.abs_diff(row) as f64, c.abs_diff(col) as f64);
            if inside(dr * dr + dc * dc) && gt.get(r, c) == Some(true) {
                return true;
            }
        }
    }
    false
}

/// The pixel `(row, col)` that `eval.py` reads for a human benchmark point `[x, y]`.
///
/// Parity: `get_hb_hitrates` reads `gt_mask[int(y), int(x)]`. Python's `int()` truncates toward
/// zero (`-0.5 -> 0`, `-1.2 -> -1`) and fails on NaN and infinities; numpy then takes an index
/// `i` of an axis of size `n` when `-n <= i < n`, a negative one counting from the far side
/// (`-1 -> n - 1`), and raises IndexError otherwise. We score the same pixel, and give an error
/// where the original fails. A point that is not inside the image (`0 <= x < w`, `0 <= y < h`)
/// but is scored is worth a warning: the caller checks [`point_inside`].
pub fn human_point_to_pixel(
    x: f64,
    y: f64,
    height: usize,
    width: usize,
) -> Result<(usize, usize), MetricsError> {
    let index = |coordinate: f64, size: usize, axis: &'static str| {
        let t = coordinate.trunc();
        if !t.is_finite() || t >= size as f64 || t < -(size as f64) {
            return Err(MetricsError::PointOutside {
                axis,
                coordinate,
                size,
                x,
                y,
                height,
                width,
            });
        }
        // In range, so the cast is exact; a negative index counts from the far side.
        Ok(if t < 0.0 {
            size - (-t) as usize
        } else {
            t as usize
        })
    };
    Ok((index(y, height, "row")?, index(x, width, "column")?))
}

/// Whether `[x, y]` lies inside a `height x width` image (`0 <= x < width`, `0 <= y < height`).
pub fn point_inside(x: f64, y: f64, height: usize, width: usize) -> bool {
    x >= 0.0 && y >= 0.0 && x < width as f64 && y < height as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(bits: &[u8], h: usize, w: usize) -> Rle {
        Rle::encode(bits, h, w).expect("mask")
    }

    #[test]
    fn iou_rules() {
        let empty = Rle::empty(2, 2);
        let a = mask(&[1, 1, 0, 0], 2, 2);
        let b = mask(&[0, 1, 0, 1], 2, 2);
        assert!(
            iou(&empty, &empty, Scoring::TruePositivesOnly)
                .expect("ok")
                .is_nan()
        );
        assert!(iou(&empty, &empty, Scoring::All).expect("ok").is_nan());
        assert!(
            iou(&a, &empty, Scoring::TruePositivesOnly)
                .expect("ok")
                .is_nan()
        );
        assert_eq!(iou(&a, &empty, Scoring::All).expect("ok"), 0.0);
        assert_eq!(
            iou(&a, &b, Scoring::TruePositivesOnly).expect("ok"),
            1.0 / 3.0
        );
        assert!(iou(&a, &Rle::empty(3, 2), Scoring::All).is_err());
    }

    #[test]
    fn pointing_with_tolerance() {
        let mut bits = vec![0u8; 100];
        bits[5 * 10 + 5] = 1;
        let gt = mask(&bits, 10, 10);
        assert!(hit_with_tolerance(&gt, 5, 5, 0.0));
        assert!(!hit_with_tolerance(&gt, 5, 7, 0.0));
        assert!(hit_with_tolerance(&gt, 5, 7, 2.0));
        assert!(!hit_with_tolerance(&gt, 7, 7, 2.0)); // distance 2.83
        assert!(hit_with_tolerance(&gt, 7, 7, 3.0));
        // Exactly at the tolerance: a hit with ≤, a miss with TorchRay's <.
        let strict = ToleranceBoundary::Strict;
        assert!(hit_within(&gt, 5, 7, 2.0, ToleranceBoundary::Inclusive));
        assert!(!hit_within(&gt, 5, 7, 2.0, strict));
        assert!(hit_within(&gt, 5, 7, 2.5, strict));
        assert!(hit_within(&gt, 5, 5, 0.5, strict) && !hit_within(&gt, 5, 5, 0.0, strict));
    }

    #[test]
    fn human_points_index_as_numpy() {
        // Expected pixels: Python's int() then numpy's indexing, by hand.
        assert_eq!(
            human_point_to_pixel(2020.9, 2021.2, 2022, 2021),
            Ok((2021, 2020))
        );
        assert_eq!(human_point_to_pixel(-0.5, 0.0, 10, 10), Ok((0, 0)));
        assert_eq!(human_point_to_pixel(-1.2, 3.0, 5, 6), Ok((3, 5)));
        assert_eq!(human_point_to_pixel(-6.9, -5.0, 5, 6), Ok((0, 0)));
        assert!(!point_inside(-1.2, 3.0, 5, 6) && point_inside(5.9, 4.9, 5, 6));
        for (x, y) in [
            (6.0, 0.0),
            (-7.0, 0.0),
            (0.0, 5.0),
            (0.0, -6.0),
            (f64::NAN, 0.0),
        ] {
            let e = human_point_to_pixel(x, y, 5, 6).expect_err("past the edge");
            assert!(e.to_string().contains("past the edge"), "{e}");
        }
    }
}
