//! File formats of CheXlocalize: heatmap pickles, annotation/segmentation JSON, CSV; the only crate that touches files.
#![deny(missing_docs)]
