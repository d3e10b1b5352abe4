//! Overlay pictures: the X-ray in grey, the heatmap in a JET-like colormap alpha-blended over it,
//! and the outlines of the ground-truth and predicted masks, at thumbnail size.
//!
//! Every layer arrives at its own resolution (the X-ray's JPEG, the heatmap upsampled to the
//! CXR size, masks at the CXR size) and is resampled to the thumbnail by [`resample_mean`] (box
//! averaging when shrinking, nearest pixels when enlarging); outlines are found on the thumbnail
//! so that they are drawn with the same width on every picture.

/// The ground-truth outline's colour.
pub(crate) const GT_RGB: [u8; 3] = [255, 255, 255];
/// The predicted (Otsu) outline's colour.
pub(crate) const PRED_RGB: [u8; 3] = [255, 0, 255];
/// Opacity of the heatmap over the X-ray.
const HEAT_ALPHA: f32 = 0.4;
/// Grey behind the heatmap when the X-ray is not available.
const NO_XRAY_GREY: f32 = 0.35;

/// The JET-like colour of `v` in `[0, 1]` (dark blue, blue, cyan, yellow, red, dark red), as
/// matplotlib's `jet`: each channel is `clamp(1.5 - |4v - c|, 0, 1)` with `c` = 3, 2, 1 for red,
/// green, blue. NaN is coloured as 0, values outside `[0, 1]` are clamped.
pub(crate) fn jet(v: f32) -> [u8; 3] {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    let c = |x: f32| ((1.5 - (4.0 * v - x).abs()).clamp(0.0, 1.0) * 255.0).round() as u8;
    [c(3.0), c(2.0), c(1.0)]
}

/// The source index range `[a, b)` of every output index along one axis: the input pixels that
/// output pixel `i` covers, at least one.
fn spans(n_in: usize, n_out: usize) -> Vec<(usize, usize)> {
    (0..n_out)
        .map(|i| {
            let a = (i * n_in / n_out).min(n_in - 1);
            let b = ((i + 1) * n_in).div_ceil(n_out).clamp(a + 1, n_in);
            (a, b)
        })
        .collect()
}

/// Resamples a row-major `h × w` image to `th × tw`: each output pixel is the mean of the input
/// pixels it covers (box filter) when shrinking, the nearest input pixel(s) when enlarging.
/// Empty input or output gives zeros.
pub(crate) fn resample_mean(src: &[f32], h: usize, w: usize, th: usize, tw: usize) -> Vec<f32> {
    if h == 0 || w == 0 || th == 0 || tw == 0 || src.len() != h * w {
        return vec![0.0; th * tw];
    }
    let (xs, ys) = (spans(w, tw), spans(h, th));
    // Along the width first, then the height (the box filter is separable).
    let mut rows = vec![0.0f32; h * tw];
    for (y, out) in rows.chunks_exact_mut(tw).enumerate() {
        let line = &src[y * w..(y + 1) * w];
        for (o, &(a, b)) in out.iter_mut().zip(&xs) {
            *o = line[a..b].iter().sum::<f32>() / (b - a) as f32;
        }
    }
    let mut out = vec![0.0f32; th * tw];
    for (ty, &(a, b)) in ys.iter().enumerate() {
        let dst = &mut out[ty * tw..(ty + 1) * tw];
        for y in a..b {
            for (d, s) in dst.iter_mut().zip(&rows[y * tw..(y + 1) * tw]) {
                *d += s;
            }
        }
        let n = (b - a) as f32;
        dst.iter_mut().for_each(|d| *d /= n);
    }
    out
}

/// A binary mask resampled to the thumbnail: a pixel is set when at least half of what it covers
/// is; a non-empty mask that would vanish (thinner than a thumbnail pixel) keeps every pixel that
/// covers any of it instead.
pub(crate) fn resample_mask(mask: &[u8], h: usize, w: usize, th: usize, tw: usize) -> Vec<bool> {
    let f: Vec<f32> = mask.iter().map(|&m| f32::from(u8::from(m != 0))).collect();
    let cover = resample_mean(&f, h, w, th, tw);
    let half: Vec<bool> = cover.iter().map(|&c| c >= 0.5).collect();
    if half.iter().any(|&b| b) || !mask.iter().any(|&m| m != 0) {
        half
    } else {
        cover.iter().map(|&c| c > 0.0).collect()
    }
}

/// The outline of a row-major `h × w` mask, `thickness` pixels wide, inside the mask: the set
/// pixels with an unset pixel (or the image's edge) within `thickness` pixels (Chebyshev
/// distance).
pub(crate) fn outline(mask: &[bool], h: usize, w: usize, thickness: usize) -> Vec<bool> {
    let r = thickness.max(1) as isize;
    let (hi, wi) = (h as isize, w as isize);
    let unset =
        |y: isize, x: isize| y < 0 || x < 0 || y >= hi || x >= wi || !mask[(y * wi + x) as usize];
    let mut out = vec![false; h * w];
    for y in 0..hi {
        for x in 0..wi {
            if !mask[(y * wi + x) as usize] {
                continue;
            }
            let edge = (-r..=r).any(|dy| (-r..=r).any(|dx| unset(y + dy, x + dx)));
            out[(y * wi + x) as usize] = edge;
        }
    }
    out
}

/// The thumbnail size `(th, tw)` of an `h × w` picture `width` pixels wide (at most 2 × `width`
/// high, at least 1 × 1).
pub(crate) fn thumbnail_size(h: usize, w: usize, width: usize) -> (usize, usize) {
    let tw = width.max(1);
    let th = if w == 0 {
        tw
    } else {
        ((h as f64 * tw as f64 / w as f64).round() as usize).clamp(1, 2 * tw)
    };
    (th, tw)
}

/// The layers of one overlay, each already at the thumbnail size `th × tw`, row-major.
pub(crate) struct Layers {
    pub(crate) th: usize,
    pub(crate) tw: usize,
    /// The X-ray, grey levels in `[0, 1]`.
    pub(crate) xray: Option<Vec<f32>>,
    /// The normalised heatmap, in `[0, 1]`.
    pub(crate) heat: Option<Vec<f32>>,
    /// The ground-truth mask.
    pub(crate) gt: Option<Vec<bool>>,
    /// The predicted mask.
    pub(crate) pred: Option<Vec<bool>>,
}

/// Composes the layers into an RGB picture: grey X-ray (or a dark grey without it), the heatmap
/// blended over it, then the ground-truth outline and the predicted outline (2 pixels wide) on
/// top.
pub(crate) fn compose(l: &Layers) -> image::RgbImage {
    let (th, tw) = (l.th, l.tw);
    let n = th * tw;
    let gt = l.gt.as_ref().map(|m| outline(m, th, tw, 2));
    let pred = l.pred.as_ref().map(|m| outline(m, th, tw, 2));
    let mut img = image::RgbImage::new(tw as u32, th as u32);
    for (i, px) in img.pixels_mut().enumerate().take(n) {
        let g = l
            .xray
            .as_ref()
            .map_or(NO_XRAY_GREY, |x| x[i].clamp(0.0, 1.0));
        let mut rgb = [g * 255.0; 3];
        if let Some(heat) = &l.heat {
            let c = jet(heat[i]);
            for (v, c) in rgb.iter_mut().zip(c) {
                *v = (1.0 - HEAT_ALPHA) * *v + HEAT_ALPHA * f32::from(c);
            }
        }
        let mut out = rgb.map(|v| v.round().clamp(0.0, 255.0) as u8);
        if gt.as_ref().is_some_and(|o| o[i]) {
            out = GT_RGB;
        }
        if pred.as_ref().is_some_and(|o| o[i]) {
            out = PRED_RGB;
        }
        px.0 = out;
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jet_runs_from_dark_blue_to_dark_red() {
        assert_eq!(jet(0.0), [0, 0, 128]);
        assert_eq!(jet(0.25), [0, 128, 255]);
        assert_eq!(jet(0.5), [128, 255, 128]);
        assert_eq!(jet(0.75), [255, 128, 0]);
        assert_eq!(jet(1.0), [128, 0, 0]);
        assert_eq!(jet(f32::NAN), jet(0.0));
        assert_eq!(jet(7.0), jet(1.0));
        // Blue falls as red rises along the map.
        let ramp: Vec<[u8; 3]> = (0..=20).map(|i| jet(i as f32 / 20.0)).collect();
        assert!(ramp.windows(2).all(|w| w[1][0] >= w[0][0] || w[1][2] == 0));
    }

    #[test]
    fn resampling_averages_when_shrinking_and_repeats_when_enlarging() {
        // 2×4 → 1×2: each output is the mean of a 2×2 block.
        let src = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(resample_mean(&src, 2, 4, 1, 2), vec![2.5, 4.5]);
        // 1×2 → 2×4: nearest pixels.
        assert_eq!(
            resample_mean(&[1.0, 3.0], 1, 2, 2, 4),
            vec![1.0, 1.0, 3.0, 3.0, 1.0, 1.0, 3.0, 3.0]
        );
        // Identity, odd sizes, and empty inputs.
        let v: Vec<f32> = (0..15).map(|i| i as f32).collect();
        assert_eq!(resample_mean(&v, 3, 5, 3, 5), v);
        assert_eq!(resample_mean(&v, 3, 5, 2, 2).len(), 4);
        assert_eq!(resample_mean(&[], 0, 0, 2, 2), vec![0.0; 4]);
        // The mean is kept when shrinking by an integer factor.
        let big: Vec<f32> = (0..64 * 48).map(|i| (i % 7) as f32).collect();
        let small = resample_mean(&big, 64, 48, 16, 12);
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean(&big) - mean(&small)).abs() < 1e-3);
    }

    #[test]
    fn thin_masks_survive_downscaling() {
        // A one-pixel-wide vertical line in a 40×40 mask, shrunk to 10×10.
        let mut m = vec![0u8; 1600];
        for y in 0..40 {
            m[y * 40 + 17] = 1;
        }
        let r = resample_mask(&m, 40, 40, 10, 10);
        assert_eq!(r.iter().filter(|&&b| b).count(), 10);
        assert!(resample_mask(&[0; 16], 4, 4, 2, 2).iter().all(|&b| !b));
        // A filled block keeps its area.
        let block: Vec<u8> = (0..1600).map(|i| u8::from((i / 40) < 20)).collect();
        let r = resample_mask(&block, 40, 40, 10, 10);
        assert_eq!(r.iter().filter(|&&b| b).count(), 50);
    }

    #[test]
    fn outline_is_the_inner_border() {
        // A 4×4 square in a 6×6 image: its 12 border pixels, not its 2×2 inside.
        let mask: Vec<bool> = (0..36)
            .map(|i| (1..5).contains(&(i / 6)) && (1..5).contains(&(i % 6)))
            .collect();
        let o = outline(&mask, 6, 6, 1);
        assert_eq!(o.iter().filter(|&&b| b).count(), 12);
        assert!(!o[2 * 6 + 2] && !o[3 * 6 + 3] && o[6 + 1] && !o[0]);
        // Two pixels wide: the whole 4×4 square.
        assert_eq!(outline(&mask, 6, 6, 2).iter().filter(|&&b| b).count(), 16);
        // The image's edge counts as outside.
        assert!(outline(&[true; 9], 3, 3, 1).iter().filter(|&&b| b).count() == 8);
    }

    #[test]
    fn compose_draws_outlines_over_the_blend() {
        let (th, tw) = (8, 8);
        let square: Vec<bool> = (0..64)
            .map(|i| (2..6).contains(&(i / 8)) && (2..6).contains(&(i % 8)))
            .collect();
        let img = compose(&Layers {
            th,
            tw,
            xray: Some(vec![1.0; 64]),
            heat: Some(vec![0.0; 64]),
            gt: Some(square.clone()),
            pred: None,
        });
        assert_eq!(img.dimensions(), (8, 8));
        assert_eq!(img.get_pixel(2, 2).0, GT_RGB);
        // White X-ray under dark blue at 40 %.
        assert_eq!(img.get_pixel(0, 0).0, [153, 153, 204]);
        let img = compose(&Layers {
            th,
            tw,
            xray: None,
            heat: None,
            gt: Some(square.clone()),
            pred: Some(square),
        });
        assert_eq!(img.get_pixel(3, 3).0, PRED_RGB);
        assert_eq!(img.get_pixel(0, 0).0, [89, 89, 89]);
    }

    #[test]
    fn thumbnails_keep_the_aspect_ratio() {
        assert_eq!(thumbnail_size(2320, 2828, 320), (263, 320));
        assert_eq!(thumbnail_size(97, 131, 320), (237, 320));
        assert_eq!(thumbnail_size(10_000, 10, 100), (200, 100));
        assert_eq!(thumbnail_size(0, 0, 100), (100, 100));
    }
}
