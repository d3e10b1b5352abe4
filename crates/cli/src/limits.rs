//! The `--max-*` flags of every command: the limits input files are checked against.

use chexlocalize_io::Limits;
use clap::Args;

/// Limits on what input files may claim, checked before anything is allocated (global flags).
#[derive(Args, Debug)]
pub(crate) struct LimitArgs {
    /// Largest image or mask an input may claim, in pixels (h x w).
    #[arg(long = "max-image-pixels", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_image_pixels)]
    max_image_pixels: u64,
    /// Largest image or mask side an input may claim, in pixels.
    #[arg(long = "max-image-side", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_image_side)]
    max_image_side: u64,
    /// Largest input file read into memory, in bytes.
    #[arg(long = "max-file-bytes", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_file_bytes)]
    max_file_bytes: u64,
    /// Largest tensor or array in a heatmap file, in elements.
    #[arg(long = "max-tensor-elements", global = true, value_name = "N", default_value_t = Limits::BUILTIN.pickle.max_elements)]
    max_tensor_elements: u64,
}

impl LimitArgs {
    /// Makes these limits the process default ([`Limits::default`]) used by every reader.
    pub(crate) fn install(&self) {
        let mut l = Limits::BUILTIN;
        l.max_image_pixels = self.max_image_pixels;
        l.max_image_side = self.max_image_side;
        l.max_file_bytes = self.max_file_bytes;
        l.pickle.max_elements = self.max_tensor_elements;
        Limits::set_process_default(l);
    }
}
