//! Limits on what an input file may claim, checked before anything is allocated.

use std::path::Path;
use std::sync::OnceLock;

use crate::IoError;

/// Resource limits of every reader: what an input file may claim (sizes, counts, depths) before
/// the reader allocates for it. The defaults are generous for CheXlocalize data (a CheXpert
/// image is about 2 500 × 3 000 pixels, a heatmap 320 × 320) and far below what would exhaust
/// a machine.
///
/// The readers without a `limits` argument use [`Limits::default`], which is [`Limits::BUILTIN`]
/// unless the program set its own once with [`Limits::set_process_default`] (the `chexlocalize`
/// binary does so from its `--max-*` flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Limits of the pickle machine (tensor elements, string lengths, nesting depth, …).
    pub pickle: chexlocalize_pickle::Limits,
    /// Largest input file read into memory, in bytes (default 4 GiB).
    pub max_file_bytes: u64,
    /// Largest image or mask side (height or width) in pixels (default 65 536).
    pub max_image_side: u64,
    /// Largest image or mask in pixels, `height × width` (default 2^26 = 67 108 864, e.g.
    /// 8 192 × 8 192; masks and upsampled heatmaps of this size take 64 MiB and 256 MiB).
    pub max_image_pixels: u64,
}

impl Limits {
    /// The built-in limits.
    pub const BUILTIN: Limits = Limits {
        pickle: chexlocalize_pickle::Limits {
            max_elements: 1 << 28,
            max_bytes_object: 1 << 30,
            max_depth: 100,
            max_stack: 100_000,
            max_memo: 100_000,
            max_containers: 100_000,
            max_values: 1_000_000,
            max_value_bytes: 1 << 31,
        },
        max_file_bytes: 1 << 32,
        max_image_side: 1 << 16,
        max_image_pixels: 1 << 26,
    };

    /// Makes `limits` what [`Limits::default`] returns for the rest of the process. Only the
    /// first call has an effect; it returns `false` when limits were already set.
    pub fn set_process_default(limits: Limits) -> bool {
        PROCESS_DEFAULT.set(limits).is_ok()
    }

    /// Checks an image or mask size `(height, width)` read from `path` at `location` (a CXR id,
    /// a task, a key).
    pub fn check_image(
        &self,
        path: &Path,
        location: &str,
        height: u64,
        width: u64,
    ) -> Result<(), IoError> {
        let pixels = height.checked_mul(width);
        if height > self.max_image_side
            || width > self.max_image_side
            || pixels.is_none_or(|p| p > self.max_image_pixels)
        {
            return Err(IoError::Limit {
                path: path.to_path_buf(),
                location: location.to_owned(),
                what: format!("an image of {height} x {width} pixels (h x w)"),
                limit: format!(
                    "at most {} pixels a side and {} pixels in all",
                    self.max_image_side, self.max_image_pixels
                ),
            });
        }
        Ok(())
    }
}

static PROCESS_DEFAULT: OnceLock<Limits> = OnceLock::new();

impl Default for Limits {
    /// The limits set with [`Limits::set_process_default`], else [`Limits::BUILTIN`].
    fn default() -> Self {
        PROCESS_DEFAULT.get().cloned().unwrap_or(Limits::BUILTIN)
    }
}

/// Reads a whole regular file of at most `limits.max_file_bytes` bytes (see
/// [`read_bytes_limited`](crate::files::read_bytes_limited): FIFOs and devices are refused by
/// name, reading stops at the cap whatever the file's length claims).
pub(crate) fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, IoError> {
    crate::files::read_bytes_limited(path, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pickle_limits_are_the_pickle_defaults() {
        assert_eq!(
            Limits::BUILTIN.pickle,
            chexlocalize_pickle::Limits::default()
        );
    }

    #[test]
    fn image_sizes() {
        let l = Limits::BUILTIN;
        let p = Path::new("x.json");
        assert!(l.check_image(p, "CXR a", 2828, 2320).is_ok());
        assert!(l.check_image(p, "CXR a", 8192, 8192).is_ok());
        let e = l
            .check_image(p, "CXR a, task Edema", 100_000, 100_000)
            .expect_err("huge");
        assert_eq!(
            e.to_string(),
            "x.json: CXR a, task Edema: an image of 100000 x 100000 pixels (h x w) is over the limit: at most 65536 pixels a side and 67108864 pixels in all"
        );
        assert!(l.check_image(p, "c", 1, 70_000).is_err());
        assert!(l.check_image(p, "c", u64::MAX, u64::MAX).is_err());
    }
}
