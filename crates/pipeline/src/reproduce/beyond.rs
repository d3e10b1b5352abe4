//! The stages after the paper's: baseline heatmaps, and comparisons of the methods a run has
//! (Grad-CAM against the human benchmark on mIoU; Grad-CAM, the human benchmark and the
//! baselines on the pointing game), each from one paired bootstrap.

use std::path::PathBuf;

use chexlocalize_io::layout::SegFile;
use chexlocalize_io::{DataLayout, RunLayout};
use chexlocalize_metrics::Scoring;

use super::Step;
use crate::options::Options;
use crate::{Baseline, BaselineKind, Bootstrap, Compare, Metric};

/// The extra stages for the inputs found in `data` (a stage whose inputs are missing is skipped).
pub(super) fn steps<'a>(
    data: &DataLayout,
    run: &'a RunLayout,
    seed: u32,
    o: &'a Options,
) -> Vec<Step<'a>> {
    let maps = data.heatmaps();
    let hb_pts = data.hb_salient_points();
    let present = |inputs: &[&Option<PathBuf>], path: PathBuf| {
        inputs.iter().all(|i| i.is_some()).then_some(path)
    };
    let gt = present(
        &[&data.gt_annotations()],
        run.segmentations(SegFile::GroundTruth),
    );
    let hb = present(
        &[&data.hb_annotations()],
        run.segmentations(SegFile::HumanBenchmark),
    );
    let otsu = present(&[&maps], run.segmentations(SegFile::Otsu));
    let center = present(&[&gt], run.baseline_dir("center"));
    let uniform = present(&[&gt], run.baseline_dir("uniform"));
    let p = |x: &Option<PathBuf>| x.clone().unwrap_or_default();
    let bootstrap = Bootstrap {
        seed,
        ..Bootstrap::default()
    };
    let mut v: Vec<Step<'a>> = Vec::new();
    for (name, kind, out) in [
        ("baseline heatmaps: centre", BaselineKind::Center, &center),
        (
            "baseline heatmaps: uniform",
            BaselineKind::Uniform,
            &uniform,
        ),
    ] {
        let a = Baseline {
            kind,
            gt_path: p(&gt),
            out_dir: p(out),
            map_side: 64,
        };
        v.push(Step {
            name,
            needs: vec![gt.clone()],
            optional: false,
            run: Box::new(move || Ok(crate::baseline(&a, o)?.into())),
        });
    }
    let miou = Compare {
        metric: Metric::Iou(Scoring::TruePositivesOnly),
        gt_path: p(&gt),
        methods: vec![
            ("Grad-CAM (Otsu)".into(), p(&otsu)),
            ("human benchmark".into(), p(&hb)),
        ],
        save_dir: run.compare_dir(),
        bootstrap,
    };
    v.push(Step {
        name: "compare mIoU: Grad-CAM vs human benchmark",
        needs: vec![gt.clone(), otsu.clone(), hb.clone()],
        optional: false,
        run: Box::new(move || Ok(crate::compare(&miou, o)?.outcome.into())),
    });
    let hits = Compare {
        metric: Metric::HitMiss {
            tolerance_px: 0.0,
            boundary: crate::ToleranceBoundary::Inclusive,
        },
        gt_path: p(&gt),
        methods: vec![
            ("Grad-CAM".into(), p(&maps)),
            ("human benchmark".into(), p(&hb_pts)),
            ("centre baseline".into(), p(&center)),
            ("uniform baseline".into(), p(&uniform)),
        ],
        save_dir: run.compare_dir(),
        bootstrap,
    };
    v.push(Step {
        name: "compare hit rate: Grad-CAM, human benchmark, baselines",
        needs: vec![gt, maps, hb_pts, center, uniform],
        optional: false,
        run: Box::new(move || Ok(crate::compare(&hits, o)?.outcome.into())),
    });
    v
}
