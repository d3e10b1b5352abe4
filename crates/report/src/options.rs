//! What a report is built with besides the run's files.

use chexlocalize_io::Limits;

/// What to put in the report besides the run's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Overlay pictures per task (CXRs with a ground-truth finding first, then by CXR id).
    pub overlays_per_task: usize,
    /// Width of an overlay picture in pixels.
    pub overlay_width: usize,
    /// What the run's files and the data folder's heatmaps and X-rays may claim.
    pub limits: Limits,
}

impl Default for Options {
    /// Two overlays per task, 260 pixels wide.
    fn default() -> Self {
        Options {
            overlays_per_task: 2,
            overlay_width: 260,
            limits: Limits::BUILTIN,
        }
    }
}
