//! Reading and writing the files of CheXlocalize. This is the only crate of the workspace that
//! touches the file system; the others work on in-memory values.
//!
//! | file | reader | writer |
//! |---|---|---|
//! | heatmap pickle `<cxr_id>_<task>_map.pkl` | [`read_heatmap`], [`list_heatmaps`] | [`write_heatmap`] |
//! | `torch.save` heatmap `<cxr_id>_<task>_map.pt` (zip or legacy) | [`read_heatmap`], [`list_heatmaps`] | [`pickle::dump_heatmap_torch_zip`] |
//! | `.npy` heatmap `<cxr_id>_<task>_map.npy` + sidecar `<cxr_id>_<task>_map.json` (`{"prob": p, "cxr_dims": [w, h]}`) | [`read_heatmap`], [`parse_npy`] | [`write_npy_heatmap`], [`npy_bytes`] |
//! | annotations `{cxr_id: {"img_size": [h, w], task: polygons}}` | [`read_annotations`] | [`annotations_to_json_string`] |
//! | segmentations `{cxr_id: {task: RLE}}` | [`read_segmentations`], [`parse_segmentations_with`] (every problem, or the first) | [`write_segmentations`] |
//! | salient points `{cxr_id: {task: [[x, y], ...]}}` | [`read_salient_points`] | [`salient_points_to_json_string`] |
//! | CSV (pandas' dialect) | [`CsvTable`], [`read_thresholds`], [`read_probability_cutoffs`] | [`CsvWriter`] |
//! | any JSON, any file, a folder's files | [`read_json`], [`read_bytes`], [`list_files`] | [`write_atomic`] |
//!
//! Every error names the file (control characters and non-UTF-8 bytes escaped, see
//! [`escape_path`]) and, where it applies, the CXR id, the task or the line, and says what was
//! expected. Every reader opens its file through [`read_bytes`]: a FIFO, a device or a
//! socket is refused by name without blocking, and reading stops at
//! [`Limits::max_file_bytes`] whatever the file's length claims. Every writer is atomic
//! ([`write_atomic`], [`write_atomic_all`] for outputs of several files): an output set appears
//! whole or not at all, concurrent writers into one folder are serialised by a lock on the
//! folder, symbolic links are followed and kept, FIFOs and devices are written through. Pickles and `torch.save` archives are
//! decoded by [`chexlocalize_pickle`], which never executes anything. Sizes claimed by a file
//! (image and mask sizes, tensor elements, file length) are checked against [`Limits`] before
//! anything is allocated.
//!
//! ```
//! use chexlocalize_io::{CsvWriter, Field, Task, py_float_repr};
//!
//! assert_eq!(Task::from_name("Lung Opacity"), Some(Task::AirspaceOpacity));
//! let mut csv = CsvWriter::new();
//! csv.row(["task", "mIoU"]);
//! csv.row([Field::from(Task::Edema.name()), Field::Float(0.1 + 0.2)]);
//! assert_eq!(csv.as_str(), "task,mIoU\nEdema,0.30000000000000004\n");
//! assert_eq!(py_float_repr(1e-5), "1e-05");
//!
//! // A mask size no chest X-ray has is refused before anything is allocated.
//! let limits = chexlocalize_io::Limits::default();
//! let err = limits
//!     .check_image(std::path::Path::new("seg.json"), "CXR c, task Edema", 100_000, 100_000)
//!     .unwrap_err();
//! assert!(err.to_string().starts_with("seg.json: CXR c, task Edema: an image of 100000 x 100000"));
//! ```
#![deny(missing_docs)]

mod atomic;
mod csv;
mod error;
mod files;
mod heatmap;
mod json;
mod json_value;
pub mod layout;
mod limits;
mod names;
mod npy;
mod pyfmt;
mod tasks;

pub use atomic::{write_atomic, write_atomic_all, write_atomic_all_in};
pub use chexlocalize_pickle as pickle;
pub use chexlocalize_pickle::HeatmapRecord;
pub use csv::{CsvTable, CsvWriter, Field, read_probability_cutoffs, read_thresholds};
pub use error::{IoError, chain_text};
pub use files::{list_files, open_input, read_bytes};
pub use heatmap::{
    HEATMAP_SUFFIXES, HeatmapFile, list_heatmaps, npy_sidecar_path, parse_heatmap_name,
    read_heatmap, read_heatmap_prob, write_heatmap, write_npy_heatmap,
};
pub use json::{
    Annotations, CxrAnnotations, CxrMasks, DuplicateMask, MaskFault, Polygon, Problems,
    SalientPoints, SegProblem, Segmentations, TaskPoints, annotations_to_json_string,
    parse_annotations, parse_salient_points, parse_segmentations, parse_segmentations_with,
    read_annotations, read_salient_points, read_segmentations, salient_points_to_json_string,
    write_segmentations,
};
pub use json_value::{parse_json, read_json};
pub use layout::{DataLayout, RunLayout};
pub use limits::Limits;
pub use names::escape_path;
pub use npy::{npy_bytes, parse_npy};
pub use pyfmt::{json_float, push_json_string, py_float_repr};
pub use tasks::{CHEXPERT_TASKS, Task};
