//! `annotation-to-segmentation`: radiologist polygons to RLE masks.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use chexlocalize_io::{Segmentations, Task};
use chexlocalize_raster::rasterize;
use chexlocalize_rle::Rle;
use clap::Args;
use geo_types::LineString;
use rayon::prelude::*;

use crate::progress::{Progress, thread_pool};

/// Arguments of `chexlocalize annotation-to-segmentation`.
#[derive(Args, Debug)]
pub(crate) struct AnnotationArgs {
    /// JSON file with the polygon annotations.
    #[arg(long = "ann-path", visible_alias = "ann_path")]
    ann_path: PathBuf,
    /// Where to write the segmentation JSON.
    #[arg(
        long = "output-path",
        visible_alias = "output_path",
        default_value = "./human_segmentations.json"
    )]
    output_path: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

pub(crate) fn annotation_to_segmentation(args: &AnnotationArgs) -> Result<()> {
    let ann = chexlocalize_io::read_annotations(&args.ann_path)?;
    // Reject what Pillow would not draw as a region before doing any work.
    for cxr in &ann.cxrs {
        for (task, polys) in &cxr.tasks {
            for (i, p) in polys.iter().enumerate() {
                if p.len() < 2 {
                    bail!(
                        "{}: CXR {}, task {task}, polygon {i}: expected at least 2 points, found {}",
                        args.ann_path.display(),
                        cxr.cxr_id,
                        p.len()
                    );
                }
            }
        }
    }
    let pool = thread_pool(args.jobs)?;
    let progress = Progress::new(ann.cxrs.len() as u64, "rasterising");
    // Parity: the reference writes, per CXR in file order, the ten tasks in LOCALIZATION_TASKS order.
    let masks: Vec<Vec<(Task, Rle)>> = pool.install(|| {
        ann.cxrs
            .par_iter()
            .map(|cxr| {
                let out = Task::ALL
                    .iter()
                    .map(|&task| {
                        let polys: Vec<LineString<f64>> = cxr
                            .polygons(task)
                            .iter()
                            .map(|p| {
                                LineString::from(p.iter().map(|&[x, y]| (x, y)).collect::<Vec<_>>())
                            })
                            .collect();
                        let mask = rasterize(&polys, cxr.height, cxr.width)
                            .with_context(|| format!("CXR {}, task {task}", cxr.cxr_id))?;
                        let rle = encode(&mask)?;
                        Ok((task, rle))
                    })
                    .collect::<Result<Vec<_>>>();
                progress.inc();
                out
            })
            .collect::<Result<Vec<_>>>()
    })?;
    progress.finish();
    let mut segs = Segmentations::new();
    for (cxr, masks) in ann.cxrs.iter().zip(masks) {
        for (task, rle) in masks {
            segs.insert(&cxr.cxr_id, task, rle)?;
        }
    }
    chexlocalize_io::write_segmentations(&args.output_path, &segs)?;
    eprintln!("Segmentation masks saved to {}", args.output_path.display());
    Ok(())
}

pub(crate) fn encode(mask: &ndarray::Array2<u8>) -> Result<Rle> {
    let (h, w) = mask.dim();
    let rle = match mask.as_slice() {
        Some(s) => Rle::encode(s, h, w),
        None => Rle::encode(&mask.iter().copied().collect::<Vec<u8>>(), h, w),
    };
    rle.map_err(|e| anyhow!("encoding a mask: {e}"))
}
