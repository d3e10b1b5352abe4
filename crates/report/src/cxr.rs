//! One overlay picture: the layers of a (CXR, task) read from the data and run folders.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use chexlocalize_io::pickle::{CxrImg, Prob, Tensor};
use chexlocalize_io::{HeatmapFile, HeatmapRecord, Limits, Task};
use chexlocalize_rle::Rle;

use crate::charts::encode_png_best;
use crate::overlay::{Layers, compose, resample_mask, resample_mean, thumbnail_size};
use crate::tables::esc;
use crate::{Options, ReportError};

/// Thumbnails of X-rays already decoded, by CXR id and thumbnail size (`None`: not found).
pub(crate) type XrayCache = HashMap<(String, usize, usize), Option<(Vec<f32>, &'static str)>>;

/// What one overlay shows.
pub(crate) struct OverlayInput<'a> {
    /// The data folder (X-rays under `valid/`).
    pub(crate) data: &'a Path,
    /// The heatmap pickle.
    pub(crate) heatmap: &'a HeatmapFile,
    pub(crate) task: Task,
    pub(crate) gt: Option<&'a Rle>,
    pub(crate) pred: Option<&'a Rle>,
}

/// An overlay picture and its caption.
pub(crate) struct Overlay {
    pub(crate) png: Vec<u8>,
    pub(crate) width: usize,
    pub(crate) height: usize,
    /// HTML of the caption.
    pub(crate) caption: String,
}

/// Why one overlay was left out (the report says so in a note).
#[derive(Debug, thiserror::Error)]
pub(crate) enum OverlayError {
    /// The heatmap pickle could not be read.
    #[error(transparent)]
    Read(chexlocalize_io::IoError),
    /// The heatmap's map shape or CXR size cannot be segmented.
    #[error("{path}: {problem}")]
    Sizes {
        path: PathBuf,
        /// What `HeatmapRecord::segmentation_sizes` found wrong.
        problem: String,
    },
    /// The map's values do not fill its `(h, w)` shape.
    #[error("{path}: map")]
    Map {
        path: PathBuf,
        source: ndarray::ShapeError,
    },
    /// The picture could not be encoded.
    #[error(transparent)]
    Encode(ReportError),
}

/// The 2-D map of a record (leading dimensions of size 1 squeezed) and the CXR size `(h, w)`;
/// `path` is the pickle, for the error.
fn map_and_dims(
    rec: &HeatmapRecord,
    path: &Path,
) -> Result<(ndarray::Array2<f32>, usize, usize), OverlayError> {
    let ((mh, mw), (h, w)) = rec
        .segmentation_sizes()
        .map_err(|problem| OverlayError::Sizes {
            path: path.to_path_buf(),
            problem,
        })?;
    let map =
        ndarray::Array2::from_shape_vec((mh, mw), rec.map.to_f32_vec()).map_err(|source| {
            OverlayError::Map {
                path: path.to_path_buf(),
                source,
            }
        })?;
    Ok((map, h, w))
}

/// The model's probability for `task`: a float, or the task's entry of the 14 CheXpert
/// probabilities.
fn probability(rec: &HeatmapRecord, task: Task) -> Option<f64> {
    match &rec.prob {
        Prob::Float(x) => Some(*x),
        Prob::Tensor(t) => {
            let v = t.to_f64_vec();
            match v.len() {
                14 => Some(v[task.chexpert_index()]),
                1 => Some(v[0]),
                _ => None,
            }
        }
    }
}

/// Where the X-ray of `cxr_id` may be: `valid/<patient>/<study>/<view>.jpg` (the CheXpert
/// layout: a CXR id is `<patient>_<study>_<view>`, the view itself holding `_`), then the
/// record's `cxr_img` path when it is relative and stays inside the data folder.
fn xray_candidates(data: &Path, cxr_id: &str, rec: &HeatmapRecord) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let parts: Vec<&str> = cxr_id.splitn(3, '_').collect();
    if let [patient, study, view] = parts[..] {
        for split in ["valid", "test"] {
            out.push(
                data.join(split)
                    .join(patient)
                    .join(study)
                    .join(format!("{view}.jpg")),
            );
        }
    }
    if let CxrImg::Path(p) = &rec.cxr_img {
        let p = Path::new(p);
        if p.components().all(|c| matches!(c, Component::Normal(_))) {
            out.push(data.join(p));
        }
    }
    out
}

/// A preprocessed image tensor (`3 × h × w`, `1 × h × w` or `h × w`) as grey levels in
/// `[0, 1]`: its first channel, min-max normalised.
fn tensor_grey(t: &Tensor) -> Option<(Vec<f32>, usize, usize)> {
    let s = &t.shape;
    let (h, w) = match s.len() {
        2 => (s[0], s[1]),
        3 if s[0] >= 1 => (s[1], s[2]),
        _ => return None,
    };
    if h == 0 || w == 0 {
        return None;
    }
    let v: Vec<f32> = t.to_f32_vec().into_iter().take(h * w).collect();
    let (lo, hi) = v
        .iter()
        .filter(|x| x.is_finite())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return None;
    }
    Some((v.iter().map(|x| (x - lo) / (hi - lo)).collect(), h, w))
}

/// The X-ray at thumbnail size and where it came from, or `None`.
fn xray(
    data: &Path,
    cxr_id: &str,
    rec: &HeatmapRecord,
    (th, tw): (usize, usize),
    limits: &Limits,
) -> Option<(Vec<f32>, &'static str)> {
    for path in xray_candidates(data, cxr_id, rec) {
        let Ok(bytes) = chexlocalize_io::read_bytes(&path, limits) else {
            continue;
        };
        let Ok(img) = image::load_from_memory(&bytes) else {
            continue;
        };
        let grey = img.to_luma8();
        let (w, h) = (grey.width() as usize, grey.height() as usize);
        let v: Vec<f32> = grey
            .as_raw()
            .iter()
            .map(|&p| f32::from(p) / 255.0)
            .collect();
        return Some((resample_mean(&v, h, w, th, tw), "JPEG"));
    }
    if let CxrImg::Tensor(t) = &rec.cxr_img {
        let (v, h, w) = tensor_grey(t)?;
        return Some((resample_mean(&v, h, w, th, tw), "the pickle's image tensor"));
    }
    None
}

/// Draws the overlay of one (CXR, task); the error says what was missing or malformed.
pub(crate) fn overlay(
    input: &OverlayInput<'_>,
    options: &Options,
    cache: &mut XrayCache,
) -> Result<Overlay, OverlayError> {
    let (width, limits) = (options.overlay_width, &options.limits);
    let f = input.heatmap;
    let rec = chexlocalize_io::read_heatmap(&f.path, limits).map_err(OverlayError::Read)?;
    let (map, h, w) = map_and_dims(&rec, &f.path)?;
    let (th, tw) = thumbnail_size(h, w, width);

    // The heatmap as the segmentation sees it: upsampled to the CXR size exactly as torch does,
    // min-max normalised (averaging commutes with the affine normalisation, so the thumbnail is
    // normalised after resampling).
    let up = chexlocalize_saliency::upsample_bilinear(map.view(), h, w);
    let (lo, range) = chexlocalize_saliency::normalization(&up);
    let heat = if range.is_finite() && range > 0.0 {
        let flat: Vec<f32> = up.iter().copied().collect();
        drop(up);
        Some(
            resample_mean(&flat, h, w, th, tw)
                .into_iter()
                .map(|x| (x - lo) / range)
                .collect(),
        )
    } else {
        None
    };

    let key = (f.cxr_id.clone(), th, tw);
    let xr = cache
        .entry(key)
        .or_insert_with(|| xray(input.data, &f.cxr_id, &rec, (th, tw), limits))
        .clone();
    let mask = |r: &Rle| resample_mask(&r.decode(), r.height(), r.width(), th, tw);
    let layers = Layers {
        th,
        tw,
        xray: xr.as_ref().map(|(v, _)| v.clone()),
        heat,
        gt: input.gt.map(mask),
        pred: input.pred.map(mask),
    };
    let what = format!("the overlay of {}, {}", f.cxr_id, input.task);
    let png = encode_png_best(&compose(&layers), &what).map_err(OverlayError::Encode)?;

    let mut facts = Vec::new();
    match (input.gt, input.pred) {
        (Some(gt), _) if gt.area() == 0 => facts.push("no ground-truth finding".to_owned()),
        (Some(gt), Some(pred)) => {
            if let Ok(iou) = pred.iou(gt) {
                facts.push(format!("IoU {iou:.3}"));
            }
            facts.push(format!(
                "finding: {:.1} % of the image",
                100.0 * gt.area() as f64 / (gt.height() * gt.width()).max(1) as f64
            ));
        }
        _ => {}
    }
    if let Some(p) = probability(&rec, input.task) {
        facts.push(format!("p = {p:.3}"));
    }
    match (&xr, &layers.heat) {
        (None, _) => facts.push("X-ray not found".to_owned()),
        (Some((_, "JPEG")), _) => {}
        (Some((_, from)), _) => facts.push(format!("X-ray from {from}")),
    }
    if layers.heat.is_none() {
        facts.push("constant heatmap".to_owned());
    }
    let caption = format!(
        "<code>{}</code><br>{}",
        esc(&f.cxr_id),
        esc(&facts.join(" · "))
    );
    Ok(Overlay {
        png,
        width: tw,
        height: th,
        caption,
    })
}

#[cfg(test)]
mod tests {
    use chexlocalize_io::pickle::{TensorData, Value};

    use super::*;

    fn record(cxr_img: CxrImg) -> HeatmapRecord {
        HeatmapRecord {
            map: Tensor::new(vec![1, 1, 2, 2], TensorData::F32(vec![0.0, 1.0, 0.5, 0.2]))
                .expect("tensor"),
            prob: Prob::Float(0.5),
            task: "Edema".into(),
            gt: Value::None,
            cxr_img,
            cxr_dims: (40, 30),
        }
    }

    #[test]
    fn xray_paths_follow_the_chexpert_layout_and_stay_inside_the_data() {
        let data = Path::new("d");
        let c = xray_candidates(
            data,
            "patient64541_study1_view1_frontal",
            &record(CxrImg::Path("../etc/x.jpg".into())),
        );
        assert_eq!(
            c[0],
            Path::new("d/valid/patient64541/study1/view1_frontal.jpg")
        );
        assert_eq!(c.len(), 2);
        let c = xray_candidates(data, "x", &record(CxrImg::Path("valid/a.jpg".into())));
        assert_eq!(c, [Path::new("d/valid/a.jpg")]);
    }

    #[test]
    fn image_tensors_become_grey_levels() {
        let t = Tensor::new(
            vec![3, 1, 2],
            TensorData::F32(vec![-1.0, 1.0, 9.0, 9.0, 9.0, 9.0]),
        )
        .expect("tensor");
        assert_eq!(tensor_grey(&t), Some((vec![0.0, 1.0], 1, 2)));
        let flat = Tensor::new(vec![2], TensorData::F32(vec![1.0, 1.0])).expect("tensor");
        assert_eq!(tensor_grey(&flat), None);
    }

    #[test]
    fn maps_are_squeezed_and_dims_checked() {
        let p = Path::new("m_map.pkl");
        let (map, h, w) = map_and_dims(&record(CxrImg::Other(Value::None)), p).expect("map");
        assert_eq!((map.dim(), h, w), ((2, 2), 30, 40));
        let mut bad = record(CxrImg::Other(Value::None));
        bad.cxr_dims = (0, 10);
        let e = map_and_dims(&bad, p).expect_err("dims");
        assert!(matches!(e, OverlayError::Sizes { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.starts_with("m_map.pkl: cxr_dims: expected (width, height)"),
            "{text}"
        );
        assert_eq!(probability(&bad, Task::Edema), Some(0.5));
    }
}
