//! Run-length encoded binary masks, byte-compatible with pycocotools.
#![deny(missing_docs)]
