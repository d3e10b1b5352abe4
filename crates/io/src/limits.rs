//! Limits on what an input file may claim, checked before anything is allocated.

use std::path::Path;

use crate::IoError;

/// Resource limits of every reader: what an input file may claim (sizes, counts, depths) before
/// the reader allocates for it. Every reader takes them explicitly; nothing is process-global, so
/// two calls in one process (two commands, two server requests) each get their own.
///
/// The defaults ([`Limits::BUILTIN`], also [`Limits::default`]) are sized from real CheXlocalize
/// data with a margin, and keep the peak memory of reading one heatmap or one submission at
/// about 1 GB at most (measured by the hostile-input suite and `cargo xtask bench`): a CheXpert
/// image is about 2 500 x 3 000 pixels (the limit: 2^25 pixels, e.g. 5 792 x 5 792), a heatmap
/// 320 x 320 = 102 400 elements (2^22, 2 048 x 2 048: segmenting a map costs
/// about 90 bytes per map element, so this bounds it at about 400 MB), a heatmap pickle 1.6 MB, a submission for the 668-CXR
/// test set about 30 MB and its annotation JSON about 910 000 values (64 MiB, 8 Mi values; a
/// segmentation file at the size limit decodes to at most about 300 MB of runs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Limits of the pickle machine (tensor elements, string lengths, nesting depth, …).
    pub pickle: chexlocalize_pickle::Limits,
    /// Largest input file read into memory, in bytes (default 64 MiB).
    pub max_file_bytes: u64,
    /// Most values in a JSON document, object keys included (default 2^23 = 8 388 608; the test
    /// set's annotations have about 910 000). A parsed value takes about 80 bytes, so this bounds
    /// a JSON tree at about 700 MB whatever its file size.
    pub max_json_values: u64,
    /// Largest image or mask side (height or width) in pixels (default 65 536).
    pub max_image_side: u64,
    /// Largest image or mask in pixels, `height × width` (default 2^25 = 33 554 432, e.g.
    /// 5 792 × 5 792; masks and upsampled heatmaps of this size take 32 MiB and 128 MiB).
    pub max_image_pixels: u64,
}

impl Limits {
    /// The built-in limits.
    pub const BUILTIN: Limits = Limits {
        pickle: chexlocalize_pickle::Limits::BUILTIN,
        max_file_bytes: 1 << 26,
        max_json_values: 1 << 23,
        max_image_side: 1 << 16,
        max_image_pixels: 1 << 25,
    };

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

impl Default for Limits {
    /// [`Limits::BUILTIN`].
    fn default() -> Self {
        Limits::BUILTIN
    }
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
    fn a_tensor_is_never_larger_than_an_image() {
        // An upsampled map is one float per CXR pixel; a heatmap tensor may not claim more.
        let l = Limits::BUILTIN;
        assert!(l.pickle.max_elements <= l.max_image_pixels);
        assert!(l.pickle.max_bytes_object <= l.max_file_bytes);
    }

    #[test]
    fn image_sizes() {
        let l = Limits::BUILTIN;
        let p = Path::new("x.json");
        assert!(l.check_image(p, "CXR a", 2828, 2320).is_ok());
        assert!(l.check_image(p, "CXR a", 5792, 5792).is_ok());
        assert!(l.check_image(p, "CXR a", 8192, 8192).is_err());
        let e = l
            .check_image(p, "CXR a, task Edema", 100_000, 100_000)
            .expect_err("huge");
        assert_eq!(
            e.to_string(),
            "x.json: CXR a, task Edema: an image of 100000 x 100000 pixels (h x w) is over the limit: at most 65536 pixels a side and 33554432 pixels in all"
        );
        assert!(l.check_image(p, "c", 1, 70_000).is_err());
        assert!(l.check_image(p, "c", u64::MAX, u64::MAX).is_err());
    }
}
