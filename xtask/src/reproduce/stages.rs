//! The stages of `cargo xtask reproduce`: each a `chexlocalize` command line and the inputs it
//! needs, for the inputs found in the data folder.

use std::path::{Path, PathBuf};

/// One step of the pipeline: a `chexlocalize` command line, run when all its inputs exist.
pub(super) struct Stage {
    pub(super) name: &'static str,
    pub(super) needs: Vec<Option<PathBuf>>,
    pub(super) args: Vec<String>,
    /// Whether nothing later needs it, so that a failure is reported and the run goes on (the
    /// tuned-threshold segmentations: a task may have no usable tuning row on small data).
    pub(super) optional: bool,
}

/// The first of `candidates` (relative to `data`) that exists.
fn first_existing(data: &Path, candidates: &[&str]) -> Option<PathBuf> {
    candidates.iter().map(|c| data.join(c)).find(|p| p.exists())
}

pub(super) fn text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `text` of a path that may be missing (the stage is then skipped and the text unused).
fn opt(p: &Option<PathBuf>) -> String {
    p.as_deref().map(text).unwrap_or_default()
}

/// Whether a saliency segmentation file needs a tuning output.
fn extra_needed(file: &str) -> bool {
    file == "saliency_threshold.json" || file == "saliency_probcut.json"
}

/// The pipeline's stages, in order, for the inputs found in `data`.
pub(super) fn stages(data: &Path, out: &Path, seed: u32) -> Vec<Stage> {
    let maps = first_existing(data, &["gradcam_maps_val"]);
    let gt_ann = first_existing(data, &["gt_annotations_val.json"]);
    let hb_ann = first_existing(
        data,
        &[
            "hb_annotations_val.json",
            "reference/derived_inputs/hb_annotations.json",
        ],
    );
    let hb_pts = first_existing(
        data,
        &[
            "hb_salient_pts_val.json",
            "reference/derived_inputs/hb_salient_pts.json",
        ],
    );
    let o = |rel: &str| out.join(rel);
    // Outputs of earlier stages count as present when the stage that writes them will run.
    let after = |inputs: &[&Option<PathBuf>], path: PathBuf| {
        inputs.iter().all(|i| i.is_some()).then_some(path)
    };
    let gt = after(&[&gt_ann], o("segmentations/gt_segmentations.json"));
    let hb = after(&[&hb_ann], o("segmentations/hb_segmentations.json"));
    let otsu = after(&[&maps], o("segmentations/saliency_otsu.json"));
    let thresholds = after(&[&maps, &gt], o("tune/tuning_results.csv"));
    let cutoffs = after(&[&maps, &gt], o("tune/probability_tuning_results.csv"));
    let eval_iou = after(&[&gt, &otsu], o("eval_iou_tp"));
    let eval_iou_hb = after(&[&gt, &hb], o("eval_iou_hb_tp"));
    let eval_hit = after(&[&gt, &maps], o("eval_hitmiss"));
    let eval_hit_hb = after(&[&gt, &hb_pts], o("eval_hitmiss_hb"));
    let features = after(&[&gt_ann, &gt], o("features"));
    let seed = seed.to_string();
    let owned = |args: &[&str]| {
        args.iter()
            .map(|a| (*a).to_owned())
            .collect::<Vec<String>>()
    };
    let mut v = Vec::new();
    let mut stage = |name: &'static str, needs: &[&Option<PathBuf>], args: Vec<String>| {
        v.push(Stage {
            name,
            needs: needs.iter().map(|n| (*n).clone()).collect(),
            args,
            optional: name.contains("(tuned"),
        })
    };
    stage(
        "inspect heatmaps",
        &[&maps],
        owned(&[
            "inspect",
            &opt(&maps),
            "--format",
            "csv",
            "--output",
            &text(&o("inspect/pkl_summary.csv")),
        ]),
    );
    stage(
        "ground truth: annotations -> masks",
        &[&gt_ann],
        owned(&[
            "annotation-to-segmentation",
            "--ann_path",
            &opt(&gt_ann),
            "--output_path",
            &opt(&gt),
        ]),
    );
    stage(
        "human benchmark: annotations -> masks",
        &[&hb_ann],
        owned(&[
            "annotation-to-segmentation",
            "--ann_path",
            &opt(&hb_ann),
            "--output_path",
            &opt(&hb),
        ]),
    );
    stage(
        "tune heatmap threshold",
        &[&maps, &gt],
        owned(&[
            "tune-heatmap-threshold",
            "--map_dir",
            &opt(&maps),
            "--gt_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("tune")),
        ]),
    );
    stage(
        "tune probability cutoff",
        &[&maps, &gt],
        owned(&[
            "tune-probability-threshold",
            "--map_dir",
            &opt(&maps),
            "--gt_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("tune")),
        ]),
    );
    let none = None;
    for (name, extra, file, tuned) in [
        (
            "saliency: heatmaps -> masks (Otsu)",
            vec![],
            "saliency_otsu.json",
            &none,
        ),
        (
            "saliency: heatmaps -> masks (tuned thresholds)",
            vec!["--threshold_path".to_owned(), opt(&thresholds)],
            "saliency_threshold.json",
            &thresholds,
        ),
        (
            "saliency: heatmaps -> masks (tuned cutoffs)",
            vec!["--probability_threshold_path".to_owned(), opt(&cutoffs)],
            "saliency_probcut.json",
            &cutoffs,
        ),
        (
            "saliency: heatmaps -> masks (smoothed, k=5)",
            owned(&["--if_smoothing", "True", "--k", "5"]),
            "saliency_otsu_smooth_k5.json",
            &none,
        ),
    ] {
        let mut args = owned(&[
            "heatmap-to-segmentation",
            "--map_dir",
            &opt(&maps),
            "--output_path",
            &text(&o(&format!("segmentations/{file}"))),
        ]);
        args.extend(extra);
        // A tuned variant needs its tuning output as well.
        let needs: Vec<&Option<PathBuf>> = if extra_needed(file) {
            vec![&maps, tuned]
        } else {
            vec![&maps]
        };
        stage(name, &needs, args);
    }
    stage(
        "eval mIoU, saliency (Otsu masks)",
        &[&gt, &otsu],
        owned(&[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&otsu),
            "--true_pos_only",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_iou),
        ]),
    );
    stage(
        "eval mIoU, human benchmark",
        &[&gt, &hb],
        owned(&[
            "eval",
            "--metric",
            "iou",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&hb),
            "--true_pos_only",
            "True",
            "--if_human_benchmark",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_iou_hb),
        ]),
    );
    stage(
        "eval hit rate, saliency",
        &[&gt, &maps],
        owned(&[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&maps),
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_hit),
        ]),
    );
    stage(
        "eval hit rate, human benchmark",
        &[&gt, &hb_pts],
        owned(&[
            "eval",
            "--metric",
            "hitmiss",
            "--gt_path",
            &opt(&gt),
            "--pred_path",
            &opt(&hb_pts),
            "--if_human_benchmark",
            "True",
            "--seed",
            &seed,
            "--save_dir",
            &opt(&eval_hit_hb),
        ]),
    );
    let bootstrap = |dir: &Option<PathBuf>, file: &str| opt(&dir.as_ref().map(|d| d.join(file)));
    stage(
        "percentage decrease, mIoU",
        &[&eval_iou, &eval_iou_hb],
        owned(&[
            "calculate-percentage-decrease",
            "--metric",
            "miou",
            "--hb_bootstrap_results",
            &bootstrap(
                &eval_iou_hb,
                "iou_humanbenchmark_bootstrap_results_per_cxr.csv",
            ),
            "--pred_bootstrap_results",
            &bootstrap(&eval_iou, "iou_bootstrap_results_per_cxr.csv"),
            "--save_dir",
            &text(&o("pct_decrease")),
        ]),
    );
    stage(
        "percentage decrease, hit rate",
        &[&eval_hit, &eval_hit_hb],
        owned(&[
            "calculate-percentage-decrease",
            "--metric",
            "hitrate",
            "--hb_bootstrap_results",
            &bootstrap(
                &eval_hit_hb,
                "hitmiss_humanbenchmark_bootstrap_results_per_cxr.csv",
            ),
            "--pred_bootstrap_results",
            &bootstrap(&eval_hit, "hitmiss_bootstrap_results_per_cxr.csv"),
            "--save_dir",
            &text(&o("pct_decrease")),
        ]),
    );
    stage(
        "precision / recall / specificity",
        &[&gt, &otsu, &hb],
        owned(&[
            "precision-recall-specificity",
            "--gt_path",
            &opt(&gt),
            "--pred_seg_path",
            &opt(&otsu),
            "--hb_seg_path",
            &opt(&hb),
            "--save_dir",
            &text(&o("precision_recall_specificity")),
        ]),
    );
    stage(
        "count segmentations",
        &[&gt],
        owned(&[
            "count-segs",
            "--seg_path",
            &opt(&gt),
            "--save_dir",
            &text(&o("count_segs")),
        ]),
    );
    stage(
        "pathology features",
        &[&gt_ann, &gt],
        owned(&[
            "compute-pathology-features",
            "--gt_ann",
            &opt(&gt_ann),
            "--gt_seg",
            &opt(&gt),
            "--save_dir",
            &opt(&features),
        ]),
    );
    stage(
        "pathology feature plots",
        &[&features],
        owned(&[
            "plot-pathology-features",
            "--features_dir",
            &opt(&features),
            "--save_dir",
            &text(&o("feature_plots")),
        ]),
    );
    let per_cxr = |dir: &Option<PathBuf>, file: &str| opt(&dir.as_ref().map(|d| d.join(file)));
    let mut regression = owned(&[
        "regression-pathology-features",
        "--features_dir",
        &opt(&features),
        "--pred_iou_results",
        &per_cxr(&eval_iou, "iou_results_per_cxr.csv"),
        "--pred_hitmiss_results",
        &per_cxr(&eval_hit, "hitmiss_results_per_cxr.csv"),
        "--save_dir",
        &text(&o("regression_features")),
    ]);
    if eval_iou_hb.is_some() && eval_hit_hb.is_some() {
        regression.extend(owned(&[
            "--evaluate_hb",
            "True",
            "--hb_iou_results",
            &per_cxr(&eval_iou_hb, "iou_humanbenchmark_results_per_cxr.csv"),
            "--hb_hitmiss_results",
            &per_cxr(&eval_hit_hb, "hitmiss_humanbenchmark_results_per_cxr.csv"),
        ]));
    }
    stage(
        "regression on pathology features",
        &[&features, &eval_iou, &eval_hit],
        regression,
    );
    for (metric, dir, file) in [
        ("iou", &eval_iou, "iou_results_per_cxr.csv"),
        ("hitmiss", &eval_hit, "hitmiss_results_per_cxr.csv"),
    ] {
        stage(
            if metric == "iou" {
                "regression on model probability, mIoU"
            } else {
                "regression on model probability, hit rate"
            },
            &[&maps, dir],
            owned(&[
                "regression-model-assurance",
                "--metric",
                metric,
                "--map_dir",
                &opt(&maps),
                "--pred_results",
                &per_cxr(dir, file),
                "--save_dir",
                &text(&o("regression_model_assurance")),
            ]),
        );
    }
    v
}
