//! The last step of `cam_to_segmentation`: every contour of the binary image filled.

use chexlocalize_raster::{BorderImage, RowRuns, RowSpans, fill_polygon};

/// `findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)` of the binary image, and every contour of more
/// than one point filled with Pillow's polygon fill (holes included, as the reference does).
/// `img` may be a crop of the `height × width` image at `offset` (x, y) that holds all its
/// foreground: the contours are the same, shifted.
pub(crate) fn fill_contours(
    img: BorderImage,
    height: usize,
    width: usize,
    offset: [i32; 2],
) -> RowRuns {
    let mut spans = RowSpans::new(height, width);
    for mut contour in img.find_contours() {
        if contour.len() > 1 {
            for p in &mut contour {
                p[0] += offset[0];
                p[1] += offset[1];
            }
            fill_polygon(&mut spans, &contour);
        }
    }
    spans.into_rows()
}
