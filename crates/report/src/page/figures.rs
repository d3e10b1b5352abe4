//! The pictures of a run: overlays of X-ray, heatmap and outlines per task, and the pathology
//! feature plots.

use std::path::{Path, PathBuf};

use chexlocalize_io::Task;
use chexlocalize_io::layout::{self, SegFile};

use super::{Options, Page, css};
use crate::cxr::{OverlayInput, XrayCache, overlay};
use crate::overlay::{GT_RGB, PRED_RGB};
use crate::tables::esc;
use chexlocalize_io::chain_text;

pub(super) fn overlays_section(page: &mut Page, data: Option<&Path>, options: &Options) {
    page.section("overlays", "Heatmaps and outlines");
    let Some(data) = data else {
        page.note(
            "No data folder (give --data, or run.json's \"data\" parameter names one): \
             the overlays of X-rays, heatmaps and outlines are left out.",
        );
        page.end_section();
        return;
    };
    if options.overlays_per_task == 0 {
        page.note("Overlays turned off (0 per task).");
        page.end_section();
        return;
    }
    let maps_dir = data.join("gradcam_maps_val");
    let maps = match chexlocalize_io::list_heatmaps(&maps_dir) {
        Ok(m) => m,
        Err(e) => {
            page.note(&format!("No overlays: {}", chain_text(&e)));
            page.end_section();
            return;
        }
    };
    let gt = page.segmentations(
        page.run.segmentations(SegFile::GroundTruth),
        "ground-truth masks: no outline drawn",
    );
    let pred = page.segmentations(
        page.run.segmentations(SegFile::Otsu),
        "Otsu masks: no predicted outline drawn",
    );
    page.push(&format!(
        "<div class=\"legend\"><span><span class=\"sw\" style=\"background:{}\"></span>ground-truth \
         outline</span><span><span class=\"sw\" style=\"background:{}\"></span>predicted outline \
         (Otsu mask)</span><span>heatmap: low<span class=\"jet\"></span>high (normalised per \
         CXR)</span></div>",
        css((GT_RGB[0], GT_RGB[1], GT_RGB[2])),
        css((PRED_RGB[0], PRED_RGB[1], PRED_RGB[2]))
    ));
    page.push(&format!(
        "<p class=\"caption\">Up to {} per task, those with the finding first. The heatmap is \
         upsampled to the X-ray's size as the segmentation does, then shown at {} pixels wide. \
         IoU: of the predicted mask with the ground truth; p: the model's probability.</p>",
        if options.overlays_per_task == 1 {
            "one CXR".to_owned()
        } else {
            format!("{} CXRs", options.overlays_per_task)
        },
        options.overlay_width
    ));
    let mut cache = XrayCache::new();
    let mut failures = Vec::new();
    page.push("<div class=\"tasks\">");
    for task in Task::SORTED {
        let mut candidates: Vec<_> = maps.iter().filter(|m| m.task == Some(task)).collect();
        let has_finding = |id: &str| {
            gt.as_ref()
                .and_then(|g| g.get(id, task))
                .is_some_and(|r| r.area() > 0)
        };
        candidates.sort_by_cached_key(|m| (!has_finding(&m.cxr_id), m.cxr_id.clone()));
        candidates.truncate(options.overlays_per_task);
        let mut row = format!("<div><h3 class=\"task\">{}</h3>", esc(task.name()));
        if candidates.is_empty() {
            row.push_str("<p class=\"caption\">No heatmap for this task.</p></div>");
            page.push(&row);
            continue;
        }
        row.push_str("<div class=\"grid\">");
        for m in candidates {
            let input = OverlayInput {
                data,
                heatmap: m,
                task,
                gt: gt.as_ref().and_then(|g| g.get(&m.cxr_id, task)),
                pred: pred.as_ref().and_then(|p| p.get(&m.cxr_id, task)),
            };
            match overlay(&input, options, &mut cache) {
                Ok(o) => {
                    let img = page.img(
                        &o.png,
                        &format!("{}, {task}: X-ray, heatmap and outlines", m.cxr_id),
                        (o.width, o.height),
                    );
                    row.push_str(&format!(
                        "<figure style=\"width:{}px\">{img}<figcaption>{}</figcaption></figure>",
                        o.width, o.caption
                    ));
                }
                Err(e) => failures.push(e),
            }
        }
        row.push_str("</div></div>");
        page.push(&row);
    }
    page.push("</div>");
    for e in failures {
        page.note(&format!("Overlay left out: {}", chain_text(&e)));
    }
    page.end_section();
}

/// The four plots of `plot-pathology-features`, in the reference's order, with their titles.
const FEATURE_PLOTS: [(&str, &str); 4] = [
    ("n_instance", "Number of instances"),
    ("area_ratio", "Area ratio"),
    ("elongation", "Elongation"),
    ("irrectangularity", "Irrectangularity"),
];

/// Width and height of a PNG, if `bytes` is one.
fn png_size(bytes: &[u8]) -> Option<(usize, usize)> {
    let r = image::ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Png);
    r.into_dimensions()
        .ok()
        .map(|(w, h)| (w as usize, h as usize))
}

pub(super) fn features_section(page: &mut Page) {
    page.section("features", "Pathology features");
    let dir = page.run.feature_plots_dir();
    page.push(
        "<p class=\"caption\">Shape of the ground-truth findings per task (letter-value plots of \
         <code>plot-pathology-features</code>): number of separate instances, share of the image \
         covered, elongation of the largest instance, and how far it is from its bounding \
         rectangle.</p>",
    );
    let files = match chexlocalize_io::list_files(&dir) {
        Ok(f) => f,
        Err(_) => {
            page.note("Not in this run: feature_plots/ (plot-pathology-features).");
            page.end_section();
            return;
        }
    };
    let name = |p: &PathBuf| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    // The four known plots first, then any other PNG of the folder.
    let mut ordered: Vec<(PathBuf, String)> = Vec::new();
    let known: Vec<String> = FEATURE_PLOTS
        .iter()
        .map(|(f, _)| layout::feature_plot(f))
        .collect();
    for (file, (_, title)) in known.iter().zip(FEATURE_PLOTS) {
        match files.iter().find(|p| name(p) == *file) {
            Some(p) => ordered.push((p.clone(), title.to_owned())),
            None => page.note(&format!("Not in this run: feature_plots/{file}.")),
        }
    }
    for p in &files {
        let n = name(p);
        if n.ends_with(".png") && !known.contains(&n) {
            ordered.push((p.clone(), n));
        }
    }
    for (path, title) in ordered {
        let bytes = match chexlocalize_io::read_bytes(&path, &page.limits) {
            Ok(b) => b,
            Err(e) => {
                page.note(&format!("Left out: {}", chain_text(&e)));
                continue;
            }
        };
        let Some(size) = png_size(&bytes) else {
            page.note(&format!(
                "Left out: {}: expected a PNG image",
                path.display()
            ));
            continue;
        };
        let img = page.img(&bytes, &format!("{title} per task"), size);
        page.push(&format!(
            "<figure class=\"chart\">{img}<figcaption>{} per task.</figcaption></figure>",
            esc(&title)
        ));
    }
    page.end_section();
}
