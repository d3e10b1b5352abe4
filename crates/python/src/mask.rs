//! `chexlocalize.mask`: the parts of `pycocotools.mask` CheXlocalize and its users call, with
//! byte-identical `counts`. The Python module `chexlocalize/mask.py` tells the argument kinds
//! apart (one mask or many, RLEs or boxes) as pycocotools does, and calls these on lists.
//!
//! Masks are column-major (Fortran) as in pycocotools, so an RLE's runs are the runs of the
//! mask's bytes in memory order: encoding is one linear scan, decoding one linear fill.

use chexlocalize_rle::{Merge, Rle};
use ndarray::ShapeBuilder;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArray3, PyReadonlyArray2, PyReadonlyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use rayon::prelude::*;

/// The runs of one column-major mask as pycocotools' `rleEncode` counts them: a new run
/// whenever the byte value changes, starting from 0 (so a mask of 0/1 bytes gives the usual
/// alternating runs, and other values behave exactly as in pycocotools). Stretches of equal
/// bytes are skipped a 64-byte block at a time (a fixed-size OR of XORs, which the compiler
/// turns into vector instructions), then 8 bytes at a time.
fn runs_of(mask: &[u8]) -> Vec<u32> {
    const BLOCK: usize = 64;
    let n = mask.len();
    let mut runs = Vec::with_capacity(16);
    let (mut prev, mut start, mut i) = (0u8, 0usize, 0usize);
    while i < n {
        while let Some(block) = mask.get(i..i + BLOCK) {
            let block: &[u8; BLOCK] = block.try_into().unwrap_or(&[0; BLOCK]);
            if block.iter().fold(0u8, |acc, &b| acc | (b ^ prev)) != 0 {
                break;
            }
            i += BLOCK;
        }
        // Then 8 bytes at a time: the first byte that differs is the lowest nonzero byte of
        // the XOR (little-endian).
        let pat = u64::from_le_bytes([prev; 8]);
        while let Some(word) = mask.get(i..i + 8) {
            let mut b = [0u8; 8];
            b.copy_from_slice(word);
            let diff = u64::from_le_bytes(b) ^ pat;
            if diff != 0 {
                i += (diff.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        while i < n && mask[i] == prev {
            i += 1;
        }
        if i == n {
            break;
        }
        runs.push((i - start) as u32);
        start = i;
        prev = mask[i];
    }
    runs.push((n - start) as u32);
    runs
}

/// Writes the 1s of `runs` into `out`, a column-major buffer that is all zeros (as pycocotools'
/// `rleDecode`). The runs of 0s are not written, so the pages of a fresh zeroed allocation that
/// hold only 0s are never touched.
fn fill_ones(runs: &[u32], out: &mut [u8]) {
    let mut pos = 0usize;
    for (k, &r) in runs.iter().enumerate() {
        let end = (pos + r as usize).min(out.len());
        if k % 2 == 1 {
            out[pos..end].fill(1);
        }
        pos = end;
    }
}

/// An RLE dict `{"size": [h, w], "counts": b"..."}` as pycocotools returns it.
pub(crate) fn rle_dict<'py>(py: Python<'py>, rle: &Rle) -> PyResult<Bound<'py, PyDict>> {
    rle_dict_parts(py, rle.height(), rle.width(), &rle.to_counts_string())
}

fn rle_dict_parts<'py>(
    py: Python<'py>,
    h: usize,
    w: usize,
    counts: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("size", PyList::new(py, [h, w])?)?;
    d.set_item("counts", PyBytes::new(py, counts.as_bytes()))?;
    Ok(d)
}

/// A list of RLE dicts of one size, from their counts strings.
fn rle_dict_list<'py>(
    py: Python<'py>,
    h: usize,
    w: usize,
    counts: &[String],
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for c in counts {
        out.append(rle_dict_parts(py, h, w, c)?)?;
    }
    Ok(out)
}

fn value_error(what: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(what.to_string())
}

/// Reads an RLE dict: `size` `[h, w]` and `counts` as compressed bytes or str (or, leniently,
/// pycocotools' uncompressed list of run lengths).
pub(crate) fn rle_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Rle> {
    read_rle(obj, Rle::from_counts_str, Rle::from_runs)
}

/// Reads an RLE dict as [`rle_from_py`] does, making `T` of its size and its compressed counts
/// text (`from_text`) or its list of run lengths (`from_runs`).
fn read_rle<T>(
    obj: &Bound<'_, PyAny>,
    from_text: impl FnOnce(usize, usize, &str) -> Result<T, chexlocalize_rle::RleError>,
    from_runs: impl FnOnce(usize, usize, Vec<u32>) -> Result<T, chexlocalize_rle::RleError>,
) -> PyResult<T> {
    let py = obj.py();
    let d = obj
        .cast::<PyDict>()
        .map_err(|_| value_error("expected an RLE dict with 'size' and 'counts'"))?;
    let size = d
        .get_item(pyo3::intern!(py, "size"))?
        .ok_or_else(|| value_error("RLE dict: missing 'size'"))?;
    let bad_size = || value_error("RLE dict: 'size' must be [height, width]");
    let (h, w) = match size.cast::<PyList>() {
        // The usual case, read without building a Vec.
        Ok(l) if l.len() == 2 => (
            l.get_item(0)?.extract().map_err(|_| bad_size())?,
            l.get_item(1)?.extract().map_err(|_| bad_size())?,
        ),
        _ => match size.extract::<Vec<usize>>().as_deref() {
            Ok([h, w]) => (*h, *w),
            _ => return Err(bad_size()),
        },
    };
    let counts = d
        .get_item(pyo3::intern!(py, "counts"))?
        .ok_or_else(|| value_error("RLE dict: missing 'counts'"))?;
    let rle = if let Ok(b) = counts.cast::<PyBytes>() {
        let s = std::str::from_utf8(b.as_bytes())
            .map_err(|_| value_error("RLE dict: 'counts' is not ASCII"))?;
        from_text(h, w, s)
    } else if let Ok(s) = counts.cast::<PyString>() {
        from_text(h, w, &s.to_cow()?)
    } else if let Ok(runs) = counts.extract::<Vec<u32>>() {
        from_runs(h, w, runs)
    } else {
        return Err(value_error(
            "RLE dict: 'counts' must be bytes, str or a list of run lengths",
        ));
    };
    rle.map_err(|e| value_error(format!("RLE dict: {e}")))
}

fn rles_from_list(rles: &Bound<'_, PyList>) -> PyResult<Vec<Rle>> {
    rles.iter().map(|o| rle_from_py(&o)).collect()
}

/// `encode` of an `h × w × n` uint8 array (any memory order; Fortran order needs no copy):
/// a list of `n` RLE dicts.
#[pyfunction]
pub(crate) fn mask_encode<'py>(
    py: Python<'py>,
    masks: PyReadonlyArray3<'py, u8>,
) -> PyResult<Bound<'py, PyList>> {
    let view = masks.as_array();
    let (h, w, n) = view.dim();
    // A Fortran array is a C array of the reversed shape.
    let reversed = view.reversed_axes();
    let fortran;
    let data: &[u8] = match reversed.as_slice() {
        Some(s) => s,
        None => {
            // Not Fortran-contiguous: copy into Fortran order once.
            fortran = reversed.iter().copied().collect::<Vec<u8>>();
            &fortran
        }
    };
    let counts: Vec<String> = py
        .detach(|| -> Result<Vec<String>, String> {
            let a = h * w;
            let one = |i: usize| {
                let slice = if a == 0 {
                    &[][..]
                } else {
                    &data[i * a..(i + 1) * a]
                };
                Rle::from_runs(h, w, runs_of(slice))
                    .map(|r| r.to_counts_string())
                    .map_err(|e| e.to_string())
            };
            if n > 1 && a * n > 1 << 16 {
                (0..n).into_par_iter().map(one).collect()
            } else {
                (0..n).map(one).collect()
            }
        })
        .map_err(value_error)?;
    rle_dict_list(py, h, w, &counts)
}

/// `decode` of a list of RLE dicts of one size: an `h × w × n` uint8 Fortran array.
#[pyfunction]
pub(crate) fn mask_decode<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyArray3<u8>>> {
    let rles = rles_from_list(rles)?;
    let Some(first) = rles.first() else {
        return Err(value_error("decode: expected at least one RLE"));
    };
    let (h, w) = (first.height(), first.width());
    if let Some(r) = rles.iter().find(|r| (r.height(), r.width()) != (h, w)) {
        return Err(value_error(format!(
            "decode: every RLE must have the size of the first, [{h}, {w}]; found [{}, {}]",
            r.height(),
            r.width()
        )));
    }
    let a = h * w;
    let n = rles.len();
    let buf = py.detach(|| {
        // Zeroed by the allocator (fresh pages from the system are zero without being written).
        let mut buf = vec![0u8; a * n];
        if a > 0 {
            if n > 1 && a * n > 1 << 16 {
                buf.par_chunks_mut(a)
                    .zip(rles.par_iter())
                    .for_each(|(out, r)| fill_ones(r.runs(), out));
            } else {
                for (out, r) in buf.chunks_mut(a).zip(&rles) {
                    fill_ones(r.runs(), out);
                }
            }
        }
        buf
    });
    let arr = ndarray::Array3::from_shape_vec((h, w, n).f(), buf).map_err(value_error)?;
    Ok(arr.into_pyarray(py))
}

/// `area` of a list of RLE dicts: a uint32 array.
#[pyfunction]
pub(crate) fn mask_area<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyArray1<u32>>> {
    // Counting is quicker than releasing the GIL: the work is in reading the dicts, whose runs
    // are summed as they are decoded.
    let areas = rles
        .iter()
        .map(|o| {
            read_rle(&o, Rle::area_of_counts_str, |h, w, runs| {
                Rle::from_runs(h, w, runs).map(|r| r.area())
            })
            .map(|a| a as u32)
        })
        .collect::<PyResult<Vec<u32>>>()?;
    Ok(areas.into_pyarray(py))
}

/// The `[x, y, w, h]` of one RLE dict, computed as its counts are decoded (no runs kept).
fn bbox_of(o: &Bound<'_, PyAny>) -> PyResult<[f64; 4]> {
    read_rle(o, Rle::bbox_of_counts_str, |h, w, runs| {
        Rle::from_runs(h, w, runs).map(|r| r.bbox())
    })
}

/// `toBbox` of a list of RLE dicts: an `n × 4` float64 array of `[x, y, w, h]`. (Like
/// [`mask_area`], read with the GIL held: the work is in decoding the dicts.)
#[pyfunction]
pub(crate) fn mask_to_bbox<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let boxes = rles
        .iter()
        .map(|o| bbox_of(&o))
        .collect::<PyResult<Vec<[f64; 4]>>>()?;
    let arr =
        ndarray::Array2::from_shape_vec((boxes.len(), 4), boxes.concat()).map_err(value_error)?;
    Ok(arr.into_pyarray(py))
}

/// `toBbox` of one RLE dict: its `[x, y, w, h]` as a float64 array of 4.
#[pyfunction]
pub(crate) fn mask_to_bbox_one<'py>(
    py: Python<'py>,
    rle: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    Ok(bbox_of(rle)?.to_vec().into_pyarray(py))
}

/// The `(m, n)` table of `f(d, g)` over `m` detections and `n` ground truths, in parallel for
/// large tables.
fn table(m: usize, n: usize, f: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f64> {
    let row = |d: usize| (0..n).map(|g| f(d, g)).collect::<Vec<f64>>();
    if m * n > 64 {
        (0..m).into_par_iter().flat_map_iter(row).collect()
    } else {
        (0..m).flat_map(row).collect()
    }
}

fn check_crowd(iscrowd: &[u8], n: usize) -> PyResult<()> {
    if iscrowd.len() != n {
        return Err(value_error(format!(
            "iou: iscrowd must have the same length as gt ({n}), found {}",
            iscrowd.len()
        )));
    }
    Ok(())
}

/// `iou` of two lists of RLE dicts: an `m × n` float64 array (pycocotools' `rleIou`: 0 where
/// the masks do not overlap; `intersection / area(dt)` for crowd ground truths).
#[pyfunction]
pub(crate) fn mask_iou_rle<'py>(
    py: Python<'py>,
    dt: &Bound<'py, PyList>,
    gt: &Bound<'py, PyList>,
    iscrowd: Vec<u8>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let dt = rles_from_list(dt)?;
    let gt = rles_from_list(gt)?;
    check_crowd(&iscrowd, gt.len())?;
    let (m, n) = (dt.len(), gt.len());
    let flat = py
        .detach(|| -> Result<Vec<f64>, String> {
            let da: Vec<u64> = dt.iter().map(Rle::area).collect();
            let ga: Vec<u64> = gt.iter().map(Rle::area).collect();
            if let Some((d, g)) = dt
                .iter()
                .flat_map(|d| gt.iter().map(move |g| (d, g)))
                .find(|(d, g)| (d.height(), d.width()) != (g.height(), g.width()))
            {
                return Err(format!(
                    "iou: masks of different sizes, [{}, {}] and [{}, {}]",
                    d.height(),
                    d.width(),
                    g.height(),
                    g.width()
                ));
            }
            Ok(table(m, n, |d, g| {
                let i = dt[d].intersection_area(&gt[g]).unwrap_or(0);
                if i == 0 {
                    return 0.0;
                }
                let u = if iscrowd[g] != 0 {
                    da[d]
                } else {
                    da[d] + ga[g] - i
                };
                i as f64 / u as f64
            }))
        })
        .map_err(value_error)?;
    let arr = ndarray::Array2::from_shape_vec((m, n), flat).map_err(value_error)?;
    Ok(arr.into_pyarray(py))
}

/// `iou` of two `k × 4` float64 arrays of boxes `[x, y, w, h]` (pycocotools' `bbIou`).
#[pyfunction]
pub(crate) fn mask_iou_bbox<'py>(
    py: Python<'py>,
    dt: PyReadonlyArray2<'py, f64>,
    gt: PyReadonlyArray2<'py, f64>,
    iscrowd: Vec<u8>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let boxes = |a: &PyReadonlyArray2<'py, f64>| -> PyResult<Vec<[f64; 4]>> {
        let v = a.as_array();
        if v.ncols() != 4 {
            return Err(value_error("iou: boxes must be an N x 4 array"));
        }
        Ok(v.rows()
            .into_iter()
            .map(|r| [r[0], r[1], r[2], r[3]])
            .collect())
    };
    let (dt, gt) = (boxes(&dt)?, boxes(&gt)?);
    check_crowd(&iscrowd, gt.len())?;
    let (m, n) = (dt.len(), gt.len());
    let flat = py.detach(|| {
        table(m, n, |d, g| {
            let (a, b) = (dt[d], gt[g]);
            let w = (a[0] + a[2]).min(b[0] + b[2]) - a[0].max(b[0]);
            if w <= 0.0 {
                return 0.0;
            }
            let h = (a[1] + a[3]).min(b[1] + b[3]) - a[1].max(b[1]);
            if h <= 0.0 {
                return 0.0;
            }
            let i = w * h;
            let da = a[2] * a[3];
            let u = if iscrowd[g] != 0 {
                da
            } else {
                da + b[2] * b[3] - i
            };
            i / u
        })
    });
    let arr = ndarray::Array2::from_shape_vec((m, n), flat).map_err(value_error)?;
    Ok(arr.into_pyarray(py))
}

/// `merge` of a list of RLE dicts: their union (or intersection) as one RLE dict. As in
/// pycocotools, no RLEs give a `[0, 0]` mask and RLEs of different sizes a `[0, 0]` mask.
#[pyfunction]
#[pyo3(signature = (rles, intersect = false))]
pub(crate) fn mask_merge<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyList>,
    intersect: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let rles = rles_from_list(rles)?;
    let how = if intersect {
        Merge::Intersection
    } else {
        Merge::Union
    };
    let merged = py.detach(|| -> Option<Rle> {
        match rles.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            // The first merge reads the first two in place (no copy of the first).
            [a, b, rest @ ..] => rest
                .iter()
                .try_fold(a.merge(b, how).ok()?, |acc, r| acc.merge(r, how).ok()),
        }
    });
    match merged {
        Some(r) => rle_dict(py, &r),
        None => rle_dict_parts(py, 0, 0, ""),
    }
}

/// `frPyObjects` of uncompressed RLEs (`counts` a list of run lengths): compressed RLE dicts.
#[pyfunction]
pub(crate) fn mask_fr_uncompressed<'py>(
    py: Python<'py>,
    rles: &Bound<'py, PyList>,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for r in rles_from_list(rles)? {
        out.append(rle_dict(py, &r)?)?;
    }
    Ok(out)
}

/// `frPyObjects` of polygons `[x0, y0, x1, y1, ...]` on an `h × w` image: RLE dicts, by
/// pycocotools' `rleFrPoly` (points upsampled 5×, boundary crossings per column).
#[pyfunction]
pub(crate) fn mask_fr_poly<'py>(
    py: Python<'py>,
    polys: Vec<Vec<f64>>,
    h: usize,
    w: usize,
) -> PyResult<Bound<'py, PyList>> {
    let counts = py
        .detach(|| -> Result<Vec<String>, String> {
            polys
                .par_iter()
                .map(|p| {
                    let runs = crate::poly::fr_poly(p, h, w);
                    Rle::from_runs(h, w, runs)
                        .map(|r| r.to_counts_string())
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
        .map_err(value_error)?;
    rle_dict_list(py, h, w, &counts)
}

/// `frPyObjects` of boxes (an `n × 4` float64 array of `[x, y, w, h]`) on an `h × w` image:
/// each box as the polygon of its corners, as pycocotools' `rleFrBbox`.
#[pyfunction]
pub(crate) fn mask_fr_bbox<'py>(
    py: Python<'py>,
    boxes: PyReadonlyArray2<'py, f64>,
    h: usize,
    w: usize,
) -> PyResult<Bound<'py, PyList>> {
    let v = boxes.as_array();
    if v.ncols() != 4 {
        return Err(value_error("frPyObjects: boxes must be an N x 4 array"));
    }
    let polys: Vec<Vec<f64>> = v
        .rows()
        .into_iter()
        .map(|b| {
            let (xs, ys, xe, ye) = (b[0], b[1], b[0] + b[2], b[1] + b[3]);
            vec![xs, ys, xs, ye, xe, ye, xe, ys]
        })
        .collect();
    mask_fr_poly(py, polys, h, w)
}
