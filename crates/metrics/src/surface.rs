//! Boundary distances between two masks: the robust Hausdorff distance (HD95) and the surface
//! Dice at a tolerance, as DeepMind's `surface-distance` package (0.1) computes them in 2-D.
//!
//! Written here rather than taken from a crate: the numbers depend on that package's exact
//! construction. Boundary elements sit at pixel corners: each corner's 2 × 2 neighbourhood code
//! (`8·top-left + 4·top-right + 2·bottom-left + 1·bottom-right`, the masks cropped to the
//! bounding box of their union) marks a boundary element when it is neither 0 nor 15, with a
//! length from a 16-entry table (a straight edge is one spacing, a diagonal half the pixel
//! diagonal, a saddle two of those). The distance of each element of one mask to the other's
//! elements is the exact Euclidean distance transform with the pixel spacing (scipy's
//! `distance_transform_edt(sampling=…)`; here Felzenszwalb & Huttenlocher's lower envelope of
//! parabolas, exact for any spacing). HD95 is, in each direction, the distance at which the
//! length-weighted cumulative share first reaches 95 % (`np.searchsorted` on the cumulative
//! lengths), the larger of the two; surface Dice is the share of both boundaries' length lying
//! within the tolerance of the other.
//!
//! Empty masks, where the package gives `inf` or `nan`: an empty ground truth is not scored
//! (NaN, as every metric here); an empty prediction of a non-empty ground truth scores HD95 =
//! the image diagonal (the largest distance possible, so a mean stays finite and a missed
//! finding costs the most) and surface Dice = 0.

use chexlocalize_rle::Rle;

use crate::MetricsError;
use crate::numeric::pairwise_sum;

/// The size of a pixel, rows then columns (millimetres, or 1 × 1 for distances in pixels).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spacing {
    row: f64,
    col: f64,
}

impl Spacing {
    /// Distances in pixels.
    pub const PIXELS: Spacing = Spacing { row: 1.0, col: 1.0 };

    /// A pixel of `row × col` (each finite and above 0); `None` otherwise.
    pub fn new(row: f64, col: f64) -> Option<Spacing> {
        let ok = |x: f64| x.is_finite() && x > 0.0;
        (ok(row) && ok(col)).then_some(Spacing { row, col })
    }
}

/// HD95: the robust Hausdorff distance at 95 % (see the module doc for empty masks).
pub fn hd95(pred: &Rle, gt: &Rle, spacing: Spacing) -> Result<f64, MetricsError> {
    robust_hausdorff(pred, gt, spacing, 95.0)
}

/// The robust Hausdorff distance at `percent` (100 = the Hausdorff distance).
pub fn robust_hausdorff(
    pred: &Rle,
    gt: &Rle,
    spacing: Spacing,
    percent: f64,
) -> Result<f64, MetricsError> {
    let Some(b) = boundaries(pred, gt, spacing)? else {
        return Ok(f64::NAN);
    };
    if b.pred.is_empty() {
        let (h, w) = (gt.height() as f64, gt.width() as f64);
        return Ok(((h * spacing.row).powi(2) + (w * spacing.col).powi(2)).sqrt());
    }
    Ok(percentile_distance(b.gt, percent).max(percentile_distance(b.pred, percent)))
}

/// The surface Dice at `tolerance` (in the spacing's unit): the boundary length of both masks
/// within `tolerance` of the other's boundary, over their total length.
pub fn surface_dice(
    pred: &Rle,
    gt: &Rle,
    spacing: Spacing,
    tolerance: f64,
) -> Result<f64, MetricsError> {
    let Some(b) = boundaries(pred, gt, spacing)? else {
        return Ok(f64::NAN);
    };
    let within = |v: &[(f64, f64)]| {
        let sel: Vec<f64> = v
            .iter()
            .filter(|(d, _)| *d <= tolerance)
            .map(|(_, a)| *a)
            .collect();
        pairwise_sum(&sel)
    };
    let total = |v: &[(f64, f64)]| pairwise_sum(&v.iter().map(|(_, a)| *a).collect::<Vec<_>>());
    Ok((within(&b.gt) + within(&b.pred)) / (total(&b.gt) + total(&b.pred)))
}

/// Each boundary element of one mask: (distance to the other mask's boundary, length), sorted.
struct Boundaries {
    gt: Vec<(f64, f64)>,
    pred: Vec<(f64, f64)>,
}

/// `None` when the ground truth is empty (not scored).
fn boundaries(pred: &Rle, gt: &Rle, s: Spacing) -> Result<Option<Boundaries>, MetricsError> {
    if (pred.height(), pred.width()) != (gt.height(), gt.width()) {
        return Err(chexlocalize_rle::RleError::SizeMismatch {
            expected: (gt.height(), gt.width()),
            got: (pred.height(), pred.width()),
        }
        .into());
    }
    if gt.is_empty() {
        return Ok(None);
    }
    let (h, w) = (gt.height(), gt.width());
    let (g, p) = (gt.decode(), pred.decode());
    // The bounding box of the union.
    let (mut r0, mut r1, mut c0, mut c1) = (h, 0, w, 0);
    for r in 0..h {
        for c in 0..w {
            if g[r * w + c] != 0 || p[r * w + c] != 0 {
                (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
            }
        }
    }
    // Corners of the crop: (rows + 1) × (cols + 1).
    let (ch, cw) = (r1 - r0 + 2, c1 - c0 + 2);
    let codes = |m: &[u8]| -> Vec<u8> {
        let at = |r: isize, c: isize| -> u8 {
            if r < 0 || c < 0 || r as usize > r1 - r0 || c as usize > c1 - c0 {
                0
            } else {
                u8::from(m[(r0 + r as usize) * w + c0 + c as usize] != 0)
            }
        };
        let mut out = vec![0u8; ch * cw];
        for i in 0..ch {
            for j in 0..cw {
                let (r, c) = (i as isize, j as isize);
                out[i * cw + j] =
                    8 * at(r - 1, c - 1) + 4 * at(r - 1, c) + 2 * at(r, c - 1) + at(r, c);
            }
        }
        out
    };
    let (cg, cp) = (codes(&g), codes(&p));
    let lengths = contour_lengths(s);
    let border = |code: u8| code != 0 && code != 15;
    let dist_g = distance_to(&cg, ch, cw, s, border);
    let dist_p = distance_to(&cp, ch, cw, s, border);
    let collect = |codes: &[u8], other: &Option<Vec<f64>>| -> Vec<(f64, f64)> {
        let mut v: Vec<(f64, f64)> = codes
            .iter()
            .enumerate()
            .filter(|(_, c)| border(**c))
            .map(|(i, &c)| {
                let d = other.as_ref().map_or(f64::INFINITY, |o| o[i]);
                (d, lengths[c as usize])
            })
            .collect();
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        v
    };
    Ok(Some(Boundaries {
        gt: collect(&cg, &dist_p),
        pred: collect(&cp, &dist_g),
    }))
}

/// The length of the boundary element of each neighbourhood code (`surface-distance`'s
/// `create_table_neighbour_code_to_contour_length`).
fn contour_lengths(s: Spacing) -> [f64; 16] {
    let (v, h) = (s.row, s.col);
    let d = 0.5 * (s.row * s.row + s.col * s.col).sqrt();
    [
        0.0,
        d,
        d,
        h,
        d,
        v,
        2.0 * d,
        d,
        d,
        2.0 * d,
        v,
        d,
        h,
        d,
        d,
        0.0,
    ]
}

/// The Euclidean distance of every corner to the nearest corner whose code is a border;
/// `None` when there is none.
fn distance_to(
    codes: &[u8],
    h: usize,
    w: usize,
    s: Spacing,
    border: impl Fn(u8) -> bool,
) -> Option<Vec<f64>> {
    if !codes.iter().any(|&c| border(c)) {
        return None;
    }
    let mut f: Vec<f64> = codes
        .iter()
        .map(|&c| if border(c) { 0.0 } else { f64::INFINITY })
        .collect();
    let mut buf = Vec::new();
    // Along each column (row spacing), then along each row (column spacing).
    for c in 0..w {
        let col: Vec<f64> = (0..h).map(|r| f[r * w + c]).collect();
        envelope(&col, s.row, &mut buf);
        for r in 0..h {
            f[r * w + c] = buf[r];
        }
    }
    for r in 0..h {
        envelope(&f[r * w..(r + 1) * w], s.col, &mut buf);
        f[r * w..(r + 1) * w].copy_from_slice(&buf);
    }
    Some(f.into_iter().map(f64::sqrt).collect())
}

/// `out[x] = min over q of f[q] + (spacing · (x − q))²` (Felzenszwalb & Huttenlocher), with
/// infinite `f[q]` left out.
fn envelope(f: &[f64], spacing: f64, out: &mut Vec<f64>) {
    let n = f.len();
    out.clear();
    let s2 = spacing * spacing;
    let mut v: Vec<usize> = Vec::with_capacity(n);
    let mut z: Vec<f64> = Vec::with_capacity(n + 1);
    let cross = |q: usize, p: usize| -> f64 {
        let (q, p) = (q as f64, p as f64);
        ((f[q as usize] + s2 * q * q) - (f[p as usize] + s2 * p * p)) / (2.0 * s2 * (q - p))
    };
    for q in (0..n).filter(|&q| f[q].is_finite()) {
        while let Some(&p) = v.last() {
            let x = cross(q, p);
            if x <= *z.last().unwrap_or(&f64::NEG_INFINITY) {
                v.pop();
                z.pop();
            } else {
                z.push(x);
                break;
            }
        }
        if v.is_empty() {
            z.clear();
            z.push(f64::NEG_INFINITY);
        }
        v.push(q);
    }
    if v.is_empty() {
        out.resize(n, f64::INFINITY);
        return;
    }
    z.push(f64::INFINITY);
    let mut k = 0;
    for x in 0..n {
        while z[k + 1] < x as f64 {
            k += 1;
        }
        let d = (x as f64 - v[k] as f64) * spacing;
        out.push(d * d + f[v[k]]);
    }
}

/// The distance at which the cumulative length share first reaches `percent` %.
fn percentile_distance(sorted: Vec<(f64, f64)>, percent: f64) -> f64 {
    let areas: Vec<f64> = sorted.iter().map(|(_, a)| *a).collect();
    let total = pairwise_sum(&areas);
    let target = percent / 100.0;
    let mut cum = 0.0;
    // np.searchsorted(cumsum / total, target): the first index whose share is ≥ target.
    let idx = areas
        .iter()
        .position(|a| {
            cum += a;
            cum / total >= target
        })
        .unwrap_or(sorted.len());
    sorted[idx.min(sorted.len() - 1)].0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rle(h: usize, w: usize, set: impl Fn(usize, usize) -> bool) -> Rle {
        let m: Vec<u8> = (0..h * w).map(|i| u8::from(set(i / w, i % w))).collect();
        Rle::encode(&m, h, w).expect("mask")
    }

    /// The distance transform by brute force over every pair of corners.
    #[test]
    fn envelope_transform_is_the_brute_force_distance() {
        let (h, w) = (9, 13);
        let codes: Vec<u8> = (0..h * w)
            .map(|i| if (i * 7 + i / 5) % 11 == 0 { 3 } else { 0 })
            .collect();
        let s = Spacing::new(0.7, 1.9).expect("spacing");
        let fast = distance_to(&codes, h, w, s, |c| c == 3).expect("borders");
        for (i, &got) in fast.iter().enumerate() {
            let slow = (0..h * w)
                .filter(|&k| codes[k] == 3)
                .map(|k| {
                    let dr = (i / w) as f64 - (k / w) as f64;
                    let dc = (i % w) as f64 - (k % w) as f64;
                    ((dr * s.row).powi(2) + (dc * s.col).powi(2)).sqrt()
                })
                .fold(f64::INFINITY, f64::min);
            assert!((got - slow).abs() < 1e-12, "{i}: {got} vs {slow}");
        }
    }

    #[test]
    fn identical_masks_are_zero_apart_and_empty_masks_follow_the_conventions() {
        let a = rle(10, 12, |r, c| (2..7).contains(&r) && (3..9).contains(&c));
        assert_eq!(hd95(&a, &a, Spacing::PIXELS).expect("ok"), 0.0);
        assert_eq!(surface_dice(&a, &a, Spacing::PIXELS, 0.0).expect("ok"), 1.0);
        let empty = Rle::empty(10, 12);
        assert!(hd95(&a, &empty, Spacing::PIXELS).expect("ok").is_nan());
        let diag = (100.0f64 + 144.0).sqrt();
        assert_eq!(hd95(&empty, &a, Spacing::PIXELS).expect("ok"), diag);
        assert_eq!(
            surface_dice(&empty, &a, Spacing::PIXELS, 5.0).expect("ok"),
            0.0
        );
        // A shift by 3 columns: every boundary element is at most 3 away.
        let b = rle(10, 12, |r, c| (2..7).contains(&r) && (6..12).contains(&c));
        let hd = robust_hausdorff(&b, &a, Spacing::PIXELS, 100.0).expect("ok");
        assert_eq!(hd, 3.0);
        assert!(Spacing::new(0.0, 1.0).is_none() && Spacing::new(1.0, f64::NAN).is_none());
    }
}
