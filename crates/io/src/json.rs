//! Annotation, segmentation and salient-point JSON files.
//!
//! Input key order is kept (the reference iterates `dict` keys in file order); outputs are
//! written with Python `json.dump`'s default separators so that files compare byte for byte.
//! Segmentation files have one reader, [`parse_segmentations_with`], which either stops at the
//! first problem (the commands) or lists them all (`validate-submission`).

mod annotations;
mod common;
mod points;
mod seg_reader;
mod segmentations;

pub use annotations::{
    Annotations, CxrAnnotations, Polygon, annotations_to_json_string, parse_annotations,
    read_annotations,
};
pub use points::{
    SalientPoints, TaskPoints, parse_salient_points, read_salient_points,
    salient_points_to_json_string,
};
pub use seg_reader::{
    MaskFault, Problems, SegProblem, parse_segmentations, parse_segmentations_with,
    read_segmentations,
};
pub use segmentations::{CxrMasks, DuplicateMask, Segmentations, write_segmentations};
