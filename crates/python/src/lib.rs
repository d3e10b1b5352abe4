//! `chexlocalize._native`: the compiled part of the `chexlocalize` Python package (built by
//! maturin from `python/`). The pure-Python package around it (`python/chexlocalize/`) gives the
//! public names, docstrings and argument handling; everything here works with the GIL released.
//!
//! | module | Python |
//! |---|---|
//! | [`mask`] | `chexlocalize.mask` (pycocotools-compatible RLE functions) |
//! | [`api`] | `chexlocalize.load_heatmap`, `heatmap_to_mask`, `annotation_to_mask`, the stages |
//! | [`errors`] | `chexlocalize.LimitError` and the mapping of pipeline errors to exceptions |
#![deny(missing_docs)]

pub mod api;
pub mod errors;
pub mod mask;
mod poly;

use pyo3::prelude::*;

/// The `chexlocalize._native` module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LimitError", m.py().get_type::<errors::LimitError>())?;
    m.add_function(wrap_pyfunction!(mask::mask_encode, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_decode, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_area, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_to_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_to_bbox_one, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_iou_rle, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_iou_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_merge, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_fr_poly, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_fr_bbox, m)?)?;
    m.add_function(wrap_pyfunction!(mask::mask_fr_uncompressed, m)?)?;
    m.add_function(wrap_pyfunction!(api::load_heatmap, m)?)?;
    m.add_function(wrap_pyfunction!(api::heatmap_to_mask, m)?)?;
    m.add_function(wrap_pyfunction!(api::annotation_to_mask, m)?)?;
    m.add_function(wrap_pyfunction!(api::heatmaps_to_segmentations, m)?)?;
    m.add_function(wrap_pyfunction!(api::evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(api::tune_heatmap_threshold, m)?)?;
    m.add_function(wrap_pyfunction!(api::validate_submission, m)?)?;
    Ok(())
}
