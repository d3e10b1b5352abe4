"""chexlocalize against the original CheXlocalize functions, in one process on the same inputs.

Run with the reference environment's Python (torch, cv2, pycocotools, pandas and the original
scripts' folder given by --src) and the chexlocalize wheel importable (on PYTHONPATH):

- segmentation, per map: ``chexlocalize.heatmap_to_mask(info["map"], info["cxr_dims"])`` against
  the original ``F.interpolate(..., mode="bilinear")`` + ``cam_to_segmentation`` on the same
  loaded heatmaps (Otsu, and Otsu after the k = 5 box filter); both sides with every core: torch
  with its default intra-op threads and OpenCV with its default, ours with rayon's pool (which
  the smoothed mask uses for two halves of its rows; the Otsu mask is made on one thread); best
  of R passes over the maps, the two sides taking turns; the masks are checked equal;
- evaluation: ``chexlocalize.evaluate(gt, pred, metric="iou")`` against eval.py's ``evaluate``
  (per-CXR IoU, 1000 bootstrap replicates, confidence intervals, its three CSVs) after
  ``np.random.seed(0)`` as its ``__main__`` does; ours both with all threads and with
  ``jobs=1``; best of R runs; the summary tables are compared.

    python bench_original.py --src SRC --json out.json --scratch DIR \
        --data sample=DIR,PRED.json [--data val=DIR,PRED.json] [--repeat-map 10] [--repeat-eval 3]

Each ``--data NAME=DIR,PRED`` is a folder laid out as the sample (gradcam_maps_val/ and
gt_segmentations_val.json) and the Otsu segmentation JSON of its maps; heatmap_to_mask is timed on
the first one only.
"""

import argparse
import contextlib
import glob
import importlib
import io
import json
import os
import platform
import sys
import time
from importlib import metadata


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def cv2_threads():
    import cv2
    return cv2.getNumThreads()


def segmentation_rows(data, repeat, ours, F, cam_to_segmentation, CPU_Unpickler):
    """heatmap_to_mask against interpolate + cam_to_segmentation, seconds per map."""
    import numpy as np

    paths = sorted(glob.glob(os.path.join(data, "gradcam_maps_val", "*_map.pkl")))
    infos = []
    for p in paths:
        with open(p, "rb") as f:
            infos.append(CPU_Unpickler(f).load())
    modes = {"Otsu": (False, 0, None), "Otsu, smoothed k = 5": (True, 5, 5)}
    rows = []
    for label, (smoothing, k, smoothing_k) in modes.items():
        def original(info):
            w, h = info["cxr_dims"]
            up = F.interpolate(info["map"], size=(h, w), mode="bilinear", align_corners=False)
            return cam_to_segmentation(up, smoothing=smoothing, k=k)

        def mine(info):
            return ours.heatmap_to_mask(info["map"], info["cxr_dims"], smoothing_k=smoothing_k)

        for info in infos:  # the same masks, and a warm-up of both sides
            a, b = original(info), mine(info)
            if not np.array_equal(a.astype(bool), b):
                raise AssertionError(f"heatmap_to_mask ({label}) differs from cam_to_segmentation")
        best = {"peer": float("inf"), "ours": float("inf")}
        for _ in range(repeat):
            for side, f in (("peer", original), ("ours", mine)):
                t0 = time.perf_counter()
                for info in infos:
                    f(info)
                best[side] = min(best[side], (time.perf_counter() - t0) / len(infos))
        rows.append({
            "function": f"heatmap_to_mask ({label}), per map, sample",
            "peer": "interpolate + cam_to_segmentation",
            "peer_s": best["peer"],
            "ours_s": best["ours"],
        })
    return rows, len(infos)


def evaluation_rows(name, data, pred, scratch, repeat, ours, original_eval):
    """chexlocalize.evaluate against eval.py's evaluate (metric iou), seconds per call."""
    import numpy as np
    import pandas as pd

    gt = os.path.join(data, "gt_segmentations_val.json")
    save_dir = os.path.join(scratch, f"original-eval-{name}")

    def original():
        np.random.seed(0)
        with contextlib.redirect_stdout(io.StringIO()):  # its progress and summary prints
            original_eval.evaluate(gt, pred, save_dir, "iou", True, False)

    sides = {
        "peer": original,
        "ours": lambda: ours.evaluate(gt, pred, metric="iou", true_pos_only=True, seed=0),
        "ours1": lambda: ours.evaluate(gt, pred, metric="iou", true_pos_only=True, seed=0, jobs=1),
    }
    best = {k: float("inf") for k in sides}
    result = None
    for _ in range(repeat):
        for side, f in sides.items():
            t0 = time.perf_counter()
            out = f()
            best[side] = min(best[side], time.perf_counter() - t0)
            if side == "ours":
                result = out
    theirs = pd.read_csv(os.path.join(save_dir, "iou_summary_results.csv"))
    mine = result["iou_summary_results"]
    same = (list(theirs["name"]) == list(mine["name"])
            and all(np.allclose(theirs[c], mine[c], equal_nan=True) for c in ("lower", "mean", "upper")))
    n_cxr = len(json.load(open(gt)))
    peer = "eval.py evaluate (IoU + 1000 bootstrap replicates)"
    return [
        {"function": f"evaluate, metric iou, {name} ({n_cxr} CXRs)", "peer": peer,
         "peer_s": best["peer"], "ours_s": best["ours"], "same_summary": same},
        {"function": f"evaluate, metric iou, {name} ({n_cxr} CXRs), jobs = 1", "peer": peer,
         "peer_s": best["peer"], "ours_s": best["ours1"], "same_summary": same},
    ]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="the original scripts' folder")
    ap.add_argument("--data", action="append", required=True, help="NAME=DIR,PRED.json")
    ap.add_argument("--scratch", required=True, help="where eval.py writes its CSVs")
    ap.add_argument("--repeat-map", type=int, default=10)
    ap.add_argument("--repeat-eval", type=int, default=3)
    ap.add_argument("--json", required=True, help="write the measurements here as JSON")
    a = ap.parse_args()
    sys.path.insert(0, a.src)
    import numpy as np
    import torch
    import torch.nn.functional as F

    import chexlocalize as ours

    # torch's default thread count for the segmentation; eval.py does not use torch.
    threads = torch.get_num_threads()
    from heatmap_to_segmentation import cam_to_segmentation
    from utils import CPU_Unpickler

    original_eval = importlib.import_module("eval")
    sets = []
    for d in a.data:
        name, rest = d.split("=", 1)
        folder, pred = rest.rsplit(",", 1)
        sets.append((name, folder, pred))
    rows, n_maps = segmentation_rows(sets[0][1], a.repeat_map, ours, F, cam_to_segmentation,
                                     CPU_Unpickler)
    repeats = {}
    for name, folder, pred in sets:
        # The val-scale set is large: fewer runs there.
        r = a.repeat_eval if name == sets[0][0] else max(1, a.repeat_eval - 1)
        repeats[name] = r
        rows += evaluation_rows(name, folder, pred, a.scratch, r, ours, original_eval)
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "opencv": version("opencv-python") or version("opencv-python-headless"),
        "pycocotools": version("pycocotools"),
        "pandas": version("pandas"),
        "chexlocalize": version("chexlocalize"),
    }
    inputs = (f"heatmap_to_mask: the {n_maps} maps of {sets[0][0]}, best of {a.repeat_map} passes, "
              f"both sides with every core (torch: {threads} intra-op threads, OpenCV: "
              f"{cv2_threads()}; ours: smoothed in two halves on rayon's pool, Otsu on one "
              "thread); "
              "evaluate: " + ", ".join(f"{n} best of {repeats[n]}" for n, _, _ in sets))
    with open(a.json, "w") as f:
        json.dump({"versions": versions, "inputs": inputs, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
