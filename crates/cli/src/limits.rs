//! The `--max-*` flags of every command: the limits input files are checked against.

use chexlocalize_io::Limits;
use clap::Args;

use crate::args::int_in;

/// Largest value of `--max-image-side`: 2^31 - 1, the largest side Pillow and the RLE masks'
/// 32-bit run lengths can describe.
pub(crate) const SIDE_BOUND: u64 = i32::MAX as u64;

/// Largest value of `--max-image-pixels`, `--max-tensor-elements` and `--max-file-bytes`: 2^40
/// (a tebi-pixel mask or a 1 TiB file; anything larger cannot be held in memory, and products
/// such as elements x 8 bytes stay far from overflowing).
pub(crate) const SIZE_BOUND: u64 = 1 << 40;

/// Limits on what input files may claim, checked before anything is allocated (global flags).
#[derive(Args, Debug)]
#[command(next_help_heading = "Limits on input files (checked before anything is allocated)")]
pub(crate) struct LimitArgs {
    /// Largest image or mask an input may claim, in pixels (h x w): 1 to 2^40.
    #[arg(long = "max-image-pixels", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_image_pixels, value_parser = int_in::<u64>(1, SIZE_BOUND, "a number of pixels"), allow_negative_numbers = true)]
    max_image_pixels: u64,
    /// Largest image or mask side an input may claim, in pixels: 1 to 2^31 - 1.
    #[arg(long = "max-image-side", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_image_side, value_parser = int_in::<u64>(1, SIDE_BOUND, "a number of pixels"), allow_negative_numbers = true)]
    max_image_side: u64,
    /// Largest input file read into memory, in bytes: 1 to 2^40.
    #[arg(long = "max-file-bytes", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_file_bytes, value_parser = int_in::<u64>(1, SIZE_BOUND, "a number of bytes"), allow_negative_numbers = true)]
    max_file_bytes: u64,
    /// Largest tensor or array in a heatmap file, in elements: 1 to 2^40.
    #[arg(long = "max-tensor-elements", global = true, value_name = "N", default_value_t = Limits::BUILTIN.pickle.max_elements, value_parser = int_in::<u64>(1, SIZE_BOUND, "a number of elements"), allow_negative_numbers = true)]
    max_tensor_elements: u64,
    /// Most values in a JSON input, object keys included: 1 to 2^40.
    #[arg(long = "max-json-values", global = true, value_name = "N", default_value_t = Limits::BUILTIN.max_json_values, value_parser = int_in::<u64>(1, SIZE_BOUND, "a number of values"), allow_negative_numbers = true)]
    max_json_values: u64,
}

impl LimitArgs {
    /// The limits these flags give, the built-in ones where a flag is absent. Strings inside a
    /// file are bounded by the file's size, and the decoded value of a heatmap by what its
    /// largest allowed tensor of float64 takes.
    pub(crate) fn limits(&self) -> Limits {
        let mut l = Limits::BUILTIN;
        l.max_image_pixels = self.max_image_pixels;
        l.max_image_side = self.max_image_side;
        l.max_file_bytes = self.max_file_bytes;
        l.max_json_values = self.max_json_values;
        l.pickle.max_elements = self.max_tensor_elements;
        l.pickle.max_bytes_object = self.max_file_bytes;
        l.pickle.max_value_bytes = l
            .pickle
            .max_value_bytes
            .max(self.max_tensor_elements.saturating_mul(8));
        l
    }
}
