#!/usr/bin/env bash
# Builds the regression oracle in this folder by running the ORIGINAL CheXlocalize scripts on the
# deterministic mid-size synthetic set. Needs: a Python env with the reference versions (numpy
# 2.4.6, pandas 3.1.1, scipy 1.17.1, statsmodels 0.15.0, opencv 5.0.0, pycocotools 2.0.11,
# torch), and a checkout of rajpurkarlab/cheXlocalize (commit 2a79492) with the one
# compatibility edit of the sample's reference/CRASHES.md (`conf_int(alpha=0.05)` without
# `cols`).
#
#   usage: make_regression_oracle.sh PYTHON CHEXLOCALIZE_SRC   (run from the workspace root)
#
# Steps: `cargo xtask fixtures --scale mid --seed 1` (40 CXRs, every CXR with a finding, so that
# the reference's row-position alignment holds), then annotation_to_segmentation,
# heatmap_to_segmentation (Otsu), eval (iou tp/all, human benchmark iou, hitmiss, human
# benchmark hitmiss), compute_pathology_features, regression_pathology_features
# (--evaluate_hb True) and regression_model_assurance (iou and hitmiss), all in a temporary
# folder. Kept in regression_mid/: the ground truth (annotations, and masks as
# annotation_to_segmentation wrote them), the features CSVs, the inputs of the two regression
# scripts (per-CXR result CSVs; the probabilities of the heatmap pickles as a CSV, from which the
# tests write tiny pickles) and the regression outputs. ~300 KB in all.
set -euo pipefail
PY=$1
SRC=$(cd "$2" && pwd)
OUT=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
cargo xtask fixtures --scale mid --seed 1 --out "$WORK/set"
cd "$WORK/set"
"$PY" "$SRC/annotation_to_segmentation.py" --ann_path gt_annotations_val.json --output_path gt_seg.json
"$PY" "$SRC/annotation_to_segmentation.py" --ann_path hb_annotations_val.json --output_path hb_seg.json
"$PY" "$SRC/heatmap_to_segmentation.py" --map_dir gradcam_maps_val --output_path saliency.json
"$PY" "$SRC/eval.py" --metric iou --gt_path gt_seg.json --pred_path saliency.json --true_pos_only True --save_dir eval_iou_tp
"$PY" "$SRC/eval.py" --metric iou --gt_path gt_seg.json --pred_path saliency.json --true_pos_only False --save_dir eval_iou_all
"$PY" "$SRC/eval.py" --metric iou --gt_path gt_seg.json --pred_path hb_seg.json --true_pos_only True --if_human_benchmark True --save_dir eval_iou_hb_tp
"$PY" "$SRC/eval.py" --metric hitmiss --gt_path gt_seg.json --pred_path gradcam_maps_val --save_dir eval_hitmiss
"$PY" "$SRC/eval.py" --metric hitmiss --gt_path gt_seg.json --pred_path hb_salient_pts_val.json --if_human_benchmark True --save_dir eval_hitmiss_hb
mkdir -p features regression_features regression_model_assurance
"$PY" "$SRC/compute_pathology_features.py" --gt_ann gt_annotations_val.json --gt_seg gt_seg.json --save_dir features
"$PY" "$SRC/regression_pathology_features.py" --features_dir features \
  --pred_iou_results eval_iou_tp/iou_results_per_cxr.csv --pred_hitmiss_results eval_hitmiss/hitmiss_results_per_cxr.csv \
  --evaluate_hb True --hb_iou_results eval_iou_hb_tp/iou_humanbenchmark_results_per_cxr.csv \
  --hb_hitmiss_results eval_hitmiss_hb/hitmiss_humanbenchmark_results_per_cxr.csv --save_dir regression_features
for m in iou hitmiss; do
  res=eval_iou_all/iou_results_per_cxr.csv
  [ "$m" = hitmiss ] && res=eval_hitmiss/hitmiss_results_per_cxr.csv
  "$PY" "$SRC/regression_model_assurance.py" --metric "$m" --map_dir gradcam_maps_val --pred_results "$res" --save_dir regression_model_assurance
done
# The model probabilities as the reference reads them (prob is a Python float in this set).
"$PY" - <<'PYEOF'
import pathlib, pickle, csv
rows = []
for p in sorted(pathlib.Path("gradcam_maps_val").glob("*_map.pkl")):
    info = pickle.load(open(p, "rb"))
    name = p.name[: -len("_map.pkl")]
    task = name.split("_")[-1]
    rows.append(("_".join(name.split("_")[:-1]), task, repr(float(info["prob"]))))
with open("probabilities.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["img_id", "task", "prob"])
    w.writerows(rows)
PYEOF
D="$OUT/regression_mid"
mkdir -p "$D"
cp gt_annotations_val.json gt_seg.json features/*.csv probabilities.csv "$D/"
cp eval_iou_tp/iou_results_per_cxr.csv "$D/iou_tp_results_per_cxr.csv"
cp eval_iou_all/iou_results_per_cxr.csv "$D/iou_all_results_per_cxr.csv"
cp eval_iou_hb_tp/iou_humanbenchmark_results_per_cxr.csv eval_hitmiss/hitmiss_results_per_cxr.csv \
   eval_hitmiss_hb/hitmiss_humanbenchmark_results_per_cxr.csv "$D/"
cp regression_features/*.csv regression_model_assurance/*.csv "$D/"
echo "oracle written to $D (work folder $WORK)"
