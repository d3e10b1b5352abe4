//! The commands `cargo xtask bench` times against the original scripts: every script of the
//! original repository, in an order where each reads what an earlier one wrote (both sides write
//! the same outputs to the same place, so either side's files serve the next command).

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result};

/// A benchmark row: our subcommand and arguments; the Python script gets the same arguments.
pub(crate) struct Case {
    pub(crate) label: &'static str,
    pub(crate) script: &'static str,
    pub(crate) args: Vec<String>,
}

fn case(label: &'static str, script: &'static str, args: &[&str]) -> Case {
    Case {
        label,
        script,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// A data folder laid out like the sample, with its human-benchmark inputs.
pub(crate) struct Data<'a> {
    /// Ground-truth segmentation JSON (relative to the folder).
    pub(crate) gt_seg: &'a str,
    /// Human-benchmark polygons.
    pub(crate) hb_ann: &'a str,
}

impl Data<'static> {
    /// The val-scale set's files (`cargo xtask fixtures --scale val`).
    pub(crate) const VAL: Data<'static> = Data {
        gt_seg: "gt_segmentations_val.json",
        hb_ann: "hb_annotations_val.json",
    };
}

/// The subcommand of a script (`tune_heatmap_threshold.py` → `tune-heatmap-threshold`).
pub(crate) fn subcommand(script: &str) -> String {
    script.trim_end_matches(".py").replace('_', "-")
}

/// The commands timed on `data`; outputs go to `out`.
pub(crate) fn cases(out: &Path, data: &Data<'_>) -> Vec<Case> {
    let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
    let gt = data.gt_seg;
    vec![
        case(
            "annotation_to_segmentation",
            "annotation_to_segmentation.py",
            &[
                "--ann_path",
                "gt_annotations_val.json",
                "--output_path",
                &o("gt.json"),
            ],
        ),
        case(
            "annotation_to_segmentation (human benchmark)",
            "annotation_to_segmentation.py",
            &["--ann_path", data.hb_ann, "--output_path", &o("hb.json")],
        ),
        case(
            "heatmap_to_segmentation (Otsu)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--output_path",
                &o("otsu.json"),
            ],
        ),
        case(
            "heatmap_to_segmentation (Otsu, smoothed, k = 5)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--if_smoothing",
                "True",
                "--k",
                "5",
                "--output_path",
                &o("smooth.json"),
            ],
        ),
        case(
            "heatmap_to_segmentation (thresholds)",
            "heatmap_to_segmentation.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--threshold_path",
                "tuning_results.csv",
                "--output_path",
                &o("thr.json"),
            ],
        ),
        case(
            "eval --metric iou",
            "eval.py",
            &[
                "--metric",
                "iou",
                "--gt_path",
                gt,
                "--pred_path",
                &o("otsu.json"),
                "--true_pos_only",
                "True",
                "--save_dir",
                &o("eval_iou"),
            ],
        ),
        case(
            "eval --metric iou (human benchmark)",
            "eval.py",
            &[
                "--metric",
                "iou",
                "--gt_path",
                gt,
                "--pred_path",
                &o("hb.json"),
                "--if_human_benchmark",
                "True",
                "--save_dir",
                &o("eval_iou_hb"),
            ],
        ),
        case(
            "eval --metric hitmiss (heatmaps)",
            "eval.py",
            &[
                "--metric",
                "hitmiss",
                "--gt_path",
                gt,
                "--pred_path",
                "gradcam_maps_val",
                "--save_dir",
                &o("eval_hitmiss"),
            ],
        ),
        case(
            "calculate_percentage_decrease",
            "calculate_percentage_decrease.py",
            &[
                "--metric",
                "miou",
                "--hb_bootstrap_results",
                &o("eval_iou_hb/iou_humanbenchmark_bootstrap_results_per_cxr.csv"),
                "--pred_bootstrap_results",
                &o("eval_iou/iou_bootstrap_results_per_cxr.csv"),
                "--save_dir",
                &o("pct"),
            ],
        ),
        case(
            "precision_recall_specificity",
            "precision_recall_specificity.py",
            &[
                "--gt_path",
                gt,
                "--pred_seg_path",
                &o("otsu.json"),
                "--hb_seg_path",
                &o("hb.json"),
                "--save_dir",
                &o("prs"),
            ],
        ),
        case(
            "tune_heatmap_threshold",
            "tune_heatmap_threshold.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--gt_path",
                gt,
                "--save_dir",
                &o("tune_h"),
            ],
        ),
        case(
            "tune_probability_threshold",
            "tune_probability_threshold.py",
            &[
                "--map_dir",
                "gradcam_maps_val",
                "--gt_path",
                gt,
                "--save_dir",
                &o("tune_p"),
            ],
        ),
        case(
            "count_segs",
            "count_segs.py",
            &["--seg_path", gt, "--save_dir", &o("count")],
        ),
        case(
            "compute_pathology_features",
            "compute_pathology_features.py",
            &[
                "--gt_ann",
                "gt_annotations_val.json",
                "--gt_seg",
                gt,
                "--save_dir",
                &o("features"),
            ],
        ),
        case(
            "plot_pathology_features",
            "plot_pathology_features.py",
            &["--features_dir", &o("features"), "--save_dir", &o("plots")],
        ),
    ]
}

/// The two regression scripts, on the outputs of [`cases`] and of [`positive_results`]. They
/// need more CXRs than the sample's two (`../shared/chexlocalize-sample/reference/CRASHES.md`).
pub(crate) fn regression_cases(out: &Path) -> Vec<Case> {
    let o = |rel: &str| out.join(rel).to_string_lossy().into_owned();
    vec![
        case(
            "regression_pathology_features",
            "regression_pathology_features.py",
            &[
                "--features_dir",
                &o("features"),
                "--pred_iou_results",
                &o("regression_inputs/iou_results_per_cxr.csv"),
                "--pred_hitmiss_results",
                &o("regression_inputs/hitmiss_results_per_cxr.csv"),
                "--save_dir",
                &o("regression_features"),
            ],
        ),
        case(
            "regression_model_assurance",
            "regression_model_assurance.py",
            &[
                "--metric",
                "iou",
                "--map_dir",
                "gradcam_maps_val",
                "--pred_results",
                &o("eval_iou/iou_results_per_cxr.csv"),
                "--save_dir",
                &o("regression_assurance"),
            ],
        ),
    ]
}

/// The per-CXR results of `eval` restricted to the CXRs with a ground-truth segmentation for
/// some task, in `out/regression_inputs/`: `regression_pathology_features.py` pairs the rows of
/// those CXRs' features with the rows of the results by position, so it fails ("All arrays must
/// be of the same length") when the results also hold CXRs without any (ours pairs them by id).
pub(crate) fn positive_results(out: &Path) -> Result<()> {
    let read = |rel: &str| {
        let p = out.join(rel);
        std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
    };
    let instances = read("features/num_instances.csv")?;
    let negative: HashSet<&str> = instances
        .lines()
        .skip(1)
        .filter_map(|l| {
            // Counts per task, then `img_id`.
            let (counts, id) = l.rsplit_once(',')?;
            counts
                .split(',')
                .all(|c| c.parse::<f64>() == Ok(0.0))
                .then_some(id)
        })
        .collect();
    let dir = out.join("regression_inputs");
    std::fs::create_dir_all(&dir)?;
    for name in ["iou_results_per_cxr.csv", "hitmiss_results_per_cxr.csv"] {
        let metric = name.split('_').next().unwrap_or_default();
        let text = read(&format!("eval_{metric}/{name}"))?;
        // `img_id` is the last column of eval's per-CXR files.
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|&(i, l)| i == 0 || !negative.contains(l.rsplit(',').next().unwrap_or("")))
            .map(|(_, l)| l)
            .collect();
        std::fs::write(dir.join(name), kept.join("\n") + "\n")?;
    }
    Ok(())
}
