//! The expected CXRs and image sizes: a CSV with a `Path` column (sizes from its columns or the
//! images' headers), or an annotation or segmentation JSON.

use std::collections::BTreeSet;
use std::path::Path;

use chexlocalize_io::{CsvTable, Limits};
use serde_json::Value;

use super::Expected;
use crate::error::{Error, Result};

/// The CXR id of a CheXpert image path: `…/patient64541/study1/view1_frontal.jpg` ->
/// `patient64541_study1_view1_frontal` (the naming of the heatmap files and JSON keys).
fn cxr_id_of_path(p: &str) -> Option<String> {
    let parts: Vec<&str> = p.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    if parts.len() < 3 {
        return None;
    }
    let last = parts[parts.len() - 1];
    let stem = last.rsplit_once('.').map_or(last, |(s, _)| s);
    Some(format!(
        "{}_{}_{stem}",
        parts[parts.len() - 3],
        parts[parts.len() - 2]
    ))
}

pub(super) fn read_expected(
    path: &Path,
    images_root: Option<&Path>,
    limits: &Limits,
) -> Result<Expected> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return expected_from_json(path, limits);
    }
    let t = CsvTable::read(path, limits)?;
    let col = |names: &[&str]| {
        t.header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let cp = t.column("Path")?;
    let (ch, cw) = (col(&["height", "img_h"]), col(&["width", "img_w"]));
    let root = images_root.map_or_else(
        || {
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf()
        },
        Path::to_path_buf,
    );
    let mut out = Expected::new();
    for (r, row) in t.rows.iter().enumerate() {
        let line = r + 2;
        let p = &row[cp];
        let id = cxr_id_of_path(p).ok_or_else(|| {
            Error::input(
                path,
                format!("line {line}: expected a Path like CheXpert-v1.0/valid/<patient>/<study>/<view>.jpg, found {p:?}"),
            )
        })?;
        let size = match (ch, cw) {
            (Some(ch), Some(cw)) => {
                let (h, w) = (t.f64_at(r, ch)?, t.f64_at(r, cw)?);
                if !(h >= 1.0 && w >= 1.0 && h.fract() == 0.0 && w.fract() == 0.0) {
                    return Err(Error::input(
                        path,
                        format!(
                            "line {line}: expected a positive integer height and width, found {h} and {w}"
                        ),
                    ));
                }
                (h as usize, w as usize)
            }
            _ => image_size(&root, p)
                .map_err(|e| Error::at(path, format!("line {line}: CXR {id}"), e))?,
        };
        limits.check_image(path, &format!("CXR {id}"), size.0 as u64, size.1 as u64)?;
        if out.insert(id.clone(), Some(size)).is_some() {
            return Err(Error::input(
                path,
                format!("line {line}: CXR {id} is listed twice"),
            ));
        }
    }
    Ok(out)
}

/// `(height, width)` of an image from its header, trying `root/p`, then `p` without its leading
/// folders one by one.
fn image_size(root: &Path, p: &str) -> Result<(usize, usize)> {
    let parts: Vec<&str> = p.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    let candidate = (0..parts.len())
        .map(|skip| {
            parts[skip..]
                .iter()
                .fold(root.to_path_buf(), |a, s| a.join(s))
        })
        .find(|c| c.is_file())
        .ok_or_else(|| {
            Error::input(
                root,
                format!(
                    "image {p:?} not found here (give --images-root, or height and width columns)"
                ),
            )
        })?;
    let file = chexlocalize_io::open_input(&candidate)?;
    let (w, h) = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| Error::at(&candidate, "cannot read", e))?
        .into_dimensions()
        .map_err(|e| Error::at(&candidate, "not a readable image", e))?;
    Ok((h as usize, w as usize))
}

fn expected_from_json(path: &Path, limits: &Limits) -> Result<Expected> {
    let bytes = chexlocalize_io::read_bytes(path, limits)?;
    let v: Value = chexlocalize_io::parse_json(path, &bytes, limits)?;
    let top = v
        .as_object()
        .ok_or_else(|| Error::input(path, "top level: expected an object {cxr_id: ...}"))?;
    let annotations = top
        .values()
        .any(|e| e.as_object().is_some_and(|o| o.contains_key("img_size")));
    if annotations {
        let ann = chexlocalize_io::parse_annotations(path, &v, limits)?;
        return Ok(ann
            .cxrs
            .into_iter()
            .map(|c| (c.cxr_id, Some((c.height, c.width))))
            .collect());
    }
    let segs = chexlocalize_io::parse_segmentations(path, &v, limits)?;
    let mut out = Expected::new();
    for cxr in segs.cxrs() {
        let mut sizes: BTreeSet<(usize, usize)> = cxr
            .masks
            .iter()
            .map(|(_, r)| (r.height(), r.width()))
            .collect();
        if sizes.len() > 1 {
            return Err(Error::input(
                path,
                format!(
                    "CXR {}: expected masks of one size, found {sizes:?}",
                    cxr.cxr_id
                ),
            ));
        }
        let size = sizes.pop_first();
        if let Some((h, w)) = size {
            limits.check_image(path, &format!("CXR {}", cxr.cxr_id), h as u64, w as u64)?;
        }
        out.insert(cxr.cxr_id.clone(), size);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cxr_ids_from_chexpert_paths() {
        assert_eq!(
            cxr_id_of_path("CheXpert-v1.0/valid/patient64541/study1/view1_frontal.jpg").as_deref(),
            Some("patient64541_study1_view1_frontal")
        );
        assert_eq!(
            cxr_id_of_path("test/patient1/study2/view2_lateral.png").as_deref(),
            Some("patient1_study2_view2_lateral")
        );
        assert_eq!(cxr_id_of_path("view1.jpg"), None);
    }
}
