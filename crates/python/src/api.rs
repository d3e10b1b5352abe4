//! The heatmap, annotation and stage functions of the `chexlocalize` package. Stages write into
//! paths the Python wrappers choose (temporary folders) and the wrappers read the files back,
//! so results are exactly the command line's files.

use std::path::{Path, PathBuf};

use chexlocalize::{
    Bootstrap, Candidates, Evaluate, HeatmapsToSegmentations, Limits, Metric, Options, Predictor,
    ReportFormat, Scoring, Smoothing, Thresholds, Tune, ValidateSubmission,
};
use chexlocalize_io::pickle::{CxrImg, HeatmapRecord, Prob, Tensor, TensorData, Value};
use chexlocalize_rle::Rle;
use chexlocalize_saliency::{Parallelism, Threshold, segment_runs_with};
use numpy::{IntoPyArray, PyArray2, PyArrayDyn, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use crate::errors::{LimitError, error_to_py, to_py};

/// The limits named in `kwargs` over the built-in ones (`max_file_bytes`, `max_json_values`,
/// `max_image_side`, `max_image_pixels`, and the pickle machine's `max_elements`,
/// `max_bytes_object`, `max_depth`, `max_stack`, `max_memo`, `max_containers`, `max_values`,
/// `max_value_bytes`).
pub fn limits_from(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<Limits> {
    let mut l = Limits::BUILTIN;
    let Some(kwargs) = kwargs else {
        return Ok(l);
    };
    for (k, v) in kwargs.iter() {
        let key: String = k.extract()?;
        let n: u64 = v
            .extract()
            .map_err(|_| PyValueError::new_err(format!("limit {key}: expected an integer >= 0")))?;
        let small = || usize::try_from(n).unwrap_or(usize::MAX);
        match key.as_str() {
            "max_file_bytes" => l.max_file_bytes = n,
            "max_json_values" => l.max_json_values = n,
            "max_image_side" => l.max_image_side = n,
            "max_image_pixels" => l.max_image_pixels = n,
            "max_elements" => l.pickle.max_elements = n,
            "max_bytes_object" => l.pickle.max_bytes_object = n,
            "max_depth" => l.pickle.max_depth = small(),
            "max_stack" => l.pickle.max_stack = small(),
            "max_memo" => l.pickle.max_memo = small(),
            "max_containers" => l.pickle.max_containers = n,
            "max_values" => l.pickle.max_values = n,
            "max_value_bytes" => l.pickle.max_value_bytes = n,
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "unknown limit {key:?} (expected one of max_file_bytes, max_json_values, max_image_side, max_image_pixels, max_elements, max_bytes_object, max_depth, max_stack, max_memo, max_containers, max_values, max_value_bytes)"
                )));
            }
        }
    }
    Ok(l)
}

fn options(limits: Option<&Bound<'_, PyDict>>, jobs: Option<usize>) -> PyResult<Options> {
    Ok(Options {
        limits: limits_from(limits)?,
        jobs,
        ..Options::default()
    })
}

fn dyn_array<'py, T: numpy::Element>(
    py: Python<'py>,
    shape: &[usize],
    data: Vec<T>,
) -> PyResult<Bound<'py, PyArrayDyn<T>>> {
    let arr = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), data)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(arr.into_pyarray(py))
}

fn tensor_to_py<'py>(py: Python<'py>, t: &Tensor) -> PyResult<Bound<'py, PyAny>> {
    let arr = match &t.data {
        TensorData::F64(_) => dyn_array(py, &t.shape, t.to_f64_vec())?.into_any(),
        _ => dyn_array(py, &t.shape, t.to_f32_vec())?.into_any(),
    };
    Ok(arr)
}

fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::None => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => f.into_pyobject(py)?.into_any(),
        Value::Str(s) => s.into_pyobject(py)?.into_any(),
        Value::Bytes(b) => PyBytes::new(py, b).into_any(),
        Value::Tuple(items) => {
            let items = items
                .iter()
                .map(|x| value_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyTuple::new(py, items)?.into_any()
        }
        Value::List(items) => {
            let items = items
                .iter()
                .map(|x| value_to_py(py, x))
                .collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Dict(items) => {
            let d = PyDict::new(py);
            for (k, x) in items {
                d.set_item(value_to_py(py, k)?, value_to_py(py, x)?)?;
            }
            d.into_any()
        }
        Value::Tensor(t) => tensor_to_py(py, t)?,
    })
}

/// Reads a heatmap file (`.pkl`, `.pt`, or `.npy` with its `.json` sidecar) without executing
/// anything in it: a dict with `map` (a float32 array of the stored shape), `prob` (a float or
/// an array), `task`, `gt`, `cxr_img` and `cxr_dims` (`(width, height)`).
#[pyfunction]
#[pyo3(signature = (path, limits = None))]
pub fn load_heatmap<'py>(
    py: Python<'py>,
    path: PathBuf,
    limits: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let limits = limits_from(limits)?;
    let rec = py
        .detach(|| chexlocalize_io::read_heatmap(&path, &limits))
        .map_err(|e| error_to_py(&e, matches!(e, chexlocalize_io::IoError::Write { .. })))?;
    let d = PyDict::new(py);
    let map = dyn_array(py, &rec.map.shape, rec.map.to_f32_vec())?;
    d.set_item("map", map)?;
    match &rec.prob {
        Prob::Float(p) => d.set_item("prob", p)?,
        Prob::Tensor(t) => d.set_item("prob", tensor_to_py(py, t)?)?,
    }
    d.set_item("task", &rec.task)?;
    d.set_item("gt", value_to_py(py, &rec.gt)?)?;
    match &rec.cxr_img {
        CxrImg::Path(p) => d.set_item("cxr_img", p)?,
        CxrImg::Tensor(t) => d.set_item("cxr_img", tensor_to_py(py, t)?)?,
        CxrImg::Other(v) => d.set_item("cxr_img", value_to_py(py, v)?)?,
    }
    d.set_item("cxr_dims", rec.cxr_dims)?;
    Ok(d)
}

/// The mask of `rle` as a row-major `h × w` array of 0/1 bytes, which `chexlocalize` views as
/// bool without a copy (decoded into zeroed memory: only the set runs are written).
fn mask_bytes<'py>(py: Python<'py>, rle: &Rle) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let (h, w) = (rle.height(), rle.width());
    let bytes: Vec<u8> = py.detach(|| rle.decode());
    let arr = ndarray::Array2::from_shape_vec((h, w), bytes)
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    Ok(arr.into_pyarray(py))
}

/// The command line's mask of a heatmap (`h × w`, or with leading dimensions of 1) for a CXR of
/// `cxr_dims = (width, height)`: Otsu's method (after smoothing with a box filter of
/// `smoothing_k` if given), or `normalised > threshold`. A `height × width` array of 0/1
/// bytes (viewed as bool by `chexlocalize.heatmap_to_mask`).
#[pyfunction]
#[pyo3(signature = (heatmap, cxr_dims, threshold = None, smoothing_k = None, limits = None))]
pub fn heatmap_to_mask<'py>(
    py: Python<'py>,
    heatmap: PyReadonlyArrayDyn<'py, f32>,
    cxr_dims: (i64, i64),
    threshold: Option<f64>,
    smoothing_k: Option<usize>,
    limits: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let limits = limits_from(limits)?;
    let source = Path::new("heatmap");
    let (w, h) = cxr_dims;
    if w <= 0 || h <= 0 {
        return Err(PyValueError::new_err(format!(
            "cxr_dims: expected (width, height), two positive integers, found ({w}, {h})"
        )));
    }
    limits
        .check_image(source, "cxr_dims", h as u64, w as u64)
        .map_err(|e| LimitError::new_err(chexlocalize::chain_text(&e)))?;
    let smoothing = match smoothing_k {
        None => None,
        Some(k @ 1..=4096) => Some(k),
        Some(k) => {
            return Err(PyValueError::new_err(format!(
                "smoothing_k: expected a box filter size from 1 to 4096, found {k}"
            )));
        }
    };
    let view = heatmap.as_array();
    let shape = view.shape().to_vec();
    let n = view.len() as u64;
    if n > limits.pickle.max_elements {
        return Err(LimitError::new_err(format!(
            "heatmap: {n} elements is over the limit: at most {}",
            limits.pickle.max_elements
        )));
    }
    // One copy of a C-contiguous array (element-wise iteration over a dynamic-rank view is
    // slow); any other layout element by element.
    let data: Vec<f32> = match view.as_slice() {
        Some(s) => s.to_vec(),
        None => view.iter().copied().collect(),
    };
    let map = Tensor::new(shape, TensorData::F32(data))
        .map_err(|e| PyValueError::new_err(format!("heatmap: {e}")))?;
    let rec = HeatmapRecord {
        map,
        prob: Prob::Float(0.0),
        task: String::new(),
        gt: Value::None,
        cxr_img: CxrImg::Other(Value::None),
        cxr_dims,
    };
    let ((mh, mw), (h, w)) = rec
        .segmentation_sizes()
        .map_err(|e| PyValueError::new_err(format!("heatmap: {e}")))?;
    let threshold = match threshold {
        Some(t) => Threshold::Fixed(t),
        None => Threshold::Otsu { smoothing },
    };
    // Straight from the rows' runs to the row-major mask (no RLE on the way: its runs go down
    // the columns, and decoding them into rows would write across the whole array).
    // The map's elements (float32, as built above) move into the 2-D array: no copy.
    let TensorData::F32(data) = rec.map.data else {
        return Err(PyValueError::new_err("heatmap: expected float32 elements"));
    };
    let mask = py
        .detach(|| {
            let map = ndarray::Array2::from_shape_vec((mh, mw), data).map_err(|e| e.to_string())?;
            Ok::<_, String>(
                segment_runs_with(map.view(), h, w, threshold, Parallelism::Halves).to_mask(),
            )
        })
        .map_err(|e| PyValueError::new_err(format!("heatmap: {e}")))?;
    Ok(mask.into_pyarray(py))
}

/// The mask of radiologist polygons (each a list of `[x, y]` points, at least 2) on an image of
/// `img_size = (height, width)`, filled as Pillow's `ImageDraw.polygon` (the command line's
/// `annotation-to-segmentation`). A `height × width` array of 0/1 bytes (viewed as bool
/// by `chexlocalize.annotation_to_mask`).
#[pyfunction]
#[pyo3(signature = (polygons, img_size, limits = None))]
pub fn annotation_to_mask<'py>(
    py: Python<'py>,
    polygons: Vec<Vec<[f64; 2]>>,
    img_size: (u64, u64),
    limits: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let limits = limits_from(limits)?;
    let (h, w) = img_size;
    limits
        .check_image(Path::new("annotation"), "img_size", h, w)
        .map_err(|e| LimitError::new_err(chexlocalize::chain_text(&e)))?;
    for (i, p) in polygons.iter().enumerate() {
        if p.len() < 2 {
            return Err(PyValueError::new_err(format!(
                "polygon {i}: expected at least 2 points, found {}",
                p.len()
            )));
        }
    }
    let (h, w) = (h as usize, w as usize);
    let rle = py
        .detach(|| -> Result<Rle, String> {
            let lines: Vec<geo_types::LineString<f64>> = polygons
                .iter()
                .map(|p| {
                    geo_types::LineString::from(p.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>())
                })
                .collect();
            let runs =
                chexlocalize_raster::rasterize_spans(&lines, h, w).map_err(|e| e.to_string())?;
            Rle::from_row_runs(h, w, runs.rows()).map_err(|e| e.to_string())
        })
        .map_err(|e| PyValueError::new_err(format!("annotation: {e}")))?;
    mask_bytes(py, &rle)
}

/// `heatmap-to-segmentation` of `map_dir` into `output_path` (the Python wrapper reads it back):
/// the warnings about the inputs (the wrapper issues them as Python warnings).
#[pyfunction]
#[pyo3(signature = (map_dir, output_path, threshold_path = None, probability_threshold_path = None, smoothing_k = None, jobs = None, limits = None))]
#[allow(clippy::too_many_arguments)]
pub fn heatmaps_to_segmentations(
    py: Python<'_>,
    map_dir: PathBuf,
    output_path: PathBuf,
    threshold_path: Option<PathBuf>,
    probability_threshold_path: Option<PathBuf>,
    smoothing_k: Option<usize>,
    jobs: Option<usize>,
    limits: Option<&Bound<'_, PyDict>>,
) -> PyResult<Vec<String>> {
    let thresholds = match (threshold_path, probability_threshold_path) {
        (None, None) => Thresholds::Otsu,
        (Some(p), None) => Thresholds::Fixed(p),
        (None, Some(p)) => Thresholds::ProbabilityCutoffs(p),
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "threshold_path and probability_threshold_path: give at most one",
            ));
        }
    };
    let args = HeatmapsToSegmentations {
        map_dir,
        thresholds,
        smoothing: smoothing_k.map_or(Smoothing::None, Smoothing::BoxFilter),
        output_path,
    };
    let opts = options(limits, jobs)?;
    let out = py
        .detach(|| chexlocalize::heatmaps_to_segmentations(&args, &opts))
        .map_err(|e| to_py(&e))?;
    Ok(warnings(&out))
}

/// The warnings of a stage about its inputs (the Python wrappers issue them as warnings).
fn warnings(out: &chexlocalize::Outcome) -> Vec<String> {
    out.notes
        .iter()
        .filter(|n| n.level == chexlocalize::Level::Warning)
        .map(|n| n.text.clone())
        .collect()
}

/// `eval.py` of `gt_path` against `pred_path` into `save_dir`: the CSV files written, and the
/// warnings about the inputs.
#[pyfunction]
#[pyo3(signature = (gt_path, pred_path, save_dir, metric = "iou", true_pos_only = true, seed = 0, if_human_benchmark = false, jobs = None, limits = None))]
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    py: Python<'_>,
    gt_path: PathBuf,
    pred_path: PathBuf,
    save_dir: PathBuf,
    metric: &str,
    true_pos_only: bool,
    seed: u32,
    if_human_benchmark: bool,
    jobs: Option<usize>,
    limits: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Vec<PathBuf>, Vec<String>)> {
    let metric = match metric {
        "iou" => Metric::Iou(if true_pos_only {
            Scoring::TruePositivesOnly
        } else {
            Scoring::All
        }),
        "hitmiss" => Metric::HitMiss {
            tolerance_px: 0.0,
            boundary: chexlocalize::ToleranceBoundary::Inclusive,
        },
        other => {
            return Err(PyValueError::new_err(format!(
                "metric: expected \"iou\" or \"hitmiss\", found {other:?}"
            )));
        }
    };
    let args = Evaluate {
        metric,
        gt_path,
        pred_path,
        predictor: if if_human_benchmark {
            Predictor::HumanBenchmark
        } else {
            Predictor::Saliency
        },
        save_dir,
        bootstrap: Bootstrap {
            seed,
            ..Bootstrap::default()
        },
    };
    let opts = options(limits, jobs)?;
    let out = py
        .detach(|| chexlocalize::evaluate(&args, &opts))
        .map_err(|e| to_py(&e))?;
    let notes = warnings(&out.outcome);
    Ok((out.outcome.written, notes))
}

/// `tune_heatmap_threshold.py` of `map_dir` against `gt_path` into `save_dir`: the files
/// written, and the warnings about the inputs.
#[pyfunction]
#[pyo3(signature = (map_dir, gt_path, save_dir, thresholds = None, jobs = None, limits = None))]
pub fn tune_heatmap_threshold(
    py: Python<'_>,
    map_dir: PathBuf,
    gt_path: PathBuf,
    save_dir: PathBuf,
    thresholds: Option<Vec<f64>>,
    jobs: Option<usize>,
    limits: Option<&Bound<'_, PyDict>>,
) -> PyResult<(Vec<PathBuf>, Vec<String>)> {
    let args = Tune {
        map_dir,
        gt_path,
        save_dir,
        grid: thresholds.map_or(Candidates::Reference, Candidates::Custom),
    };
    let opts = options(limits, jobs)?;
    let out = py
        .detach(|| chexlocalize::tune_heatmap_threshold(&args, &opts))
        .map_err(|e| to_py(&e))?;
    let notes = warnings(&out);
    Ok((out.written, notes))
}

/// `validate-submission`: the JSON report (problems, counts by kind, summary).
#[pyfunction]
#[pyo3(signature = (seg_path, expected, map_dir = None, images_root = None, jobs = None, limits = None))]
pub fn validate_submission(
    py: Python<'_>,
    seg_path: PathBuf,
    expected: PathBuf,
    map_dir: Option<PathBuf>,
    images_root: Option<PathBuf>,
    jobs: Option<usize>,
    limits: Option<&Bound<'_, PyDict>>,
) -> PyResult<String> {
    let args = ValidateSubmission {
        seg_path,
        map_dir,
        expected,
        images_root,
        format: ReportFormat::Json,
    };
    let opts = options(limits, jobs)?;
    let v = py
        .detach(|| chexlocalize::check_submission(&args, &opts))
        .map_err(|e| to_py(&e))?;
    Ok(v.report)
}
