"""CheXlocalize from Python, notebook-style: load a heatmap safely, make the command line's mask,
evaluate a folder, look at the results. Runs on the repository's fixtures:

    python python/examples/quickstart.py [REPO_ROOT]
"""

import sys
from pathlib import Path

import chexlocalize
import chexlocalize.mask as mask_utils

root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]
maps, annotations = root / "fixtures" / "gradcam_maps_val", root / "fixtures" / "gt_annotations_val.json"

# 1. A heatmap pickle, read without executing anything in it.
rec = chexlocalize.load_heatmap(next(iter(sorted(maps.glob("*_map.pkl")))))
print(rec["task"], rec["map"].shape, rec["map"].dtype, "cxr_dims", rec["cxr_dims"])

# 2. The command line's mask (Otsu's method), as a bool array; its RLE as pycocotools writes it.
mask = chexlocalize.heatmap_to_mask(rec["map"], rec["cxr_dims"])
rle = mask_utils.encode(mask.astype("uint8", order="F"))
print("mask", mask.shape, "pixels", int(mask_utils.area(rle)), "bbox", mask_utils.toBbox(rle).tolist())

# 3. Radiologist polygons to ground-truth masks (every task, empty where none is drawn), and
#    every heatmap of the folder to predictions.
import json


def rle(mask):
    r = mask_utils.encode(mask.astype("uint8", order="F"))
    return {"size": r["size"], "counts": r["counts"].decode()}


gt = {cxr: {task: rle(chexlocalize.annotation_to_mask(polys.get(task, []), polys["img_size"]))
            for task in chexlocalize.LOCALIZATION_TASKS}
      for cxr, polys in json.loads(annotations.read_text()).items()}
pred = chexlocalize.heatmaps_to_segmentations(maps)

# 4. mIoU per task with bootstrap confidence intervals, as DataFrames.
results = chexlocalize.evaluate(gt, pred, metric="iou", true_pos_only=True, seed=0)
print(sorted(results))
print(results["iou_summary_results"].to_string(index=False))
