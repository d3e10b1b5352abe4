"""Generates hb_points.json: what the ORIGINAL eval.py (--metric hitmiss --if_human_benchmark True)
makes of human-benchmark salient points on and just outside the image. It reads
`gt_mask[int(pt[1]), int(pt[0])]`: int() truncates toward zero (-0.5 -> 0, -1.2 -> -1) and numpy
wraps a negative index to the other side (-1 -> the last column); an index past the far edge (or
below -size) raises IndexError.

Versions (the reference environment of ../shared/tools/python-reference.sh): numpy 2.4.6,
pandas 3.1.1, pycocotools 2.0.11; the original scripts from rajpurkarlab/cheXlocalize.

Usage (from this folder):
  $REFENV/bin/python make_hb_points.py $REFSRC > hb_points.json
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from pycocotools import mask as mask_utils

SRC = sys.argv[1]
TASKS = ["Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Airspace Opacity", "Edema",
         "Consolidation", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Support Devices"]
H, W = 6, 8


def rle(m):
    r = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
    r["counts"] = r["counts"].decode()
    return r


# Ground truth: for each task a mask holding only one column or row at an edge, so that a wrapped
# point hits and an unwrapped one misses.
masks = {}
for i, t in enumerate(TASKS):
    m = np.zeros((H, W), np.uint8)
    if i % 3 == 0:
        m[:, W - 1] = 1  # last column
    elif i % 3 == 1:
        m[H - 1, :] = 1  # last row
    else:
        m[:, 0] = 1  # first column
    masks[t] = m
gt = {"cxrA": {t: rle(masks[t]) for t in TASKS}}
# Points: [x, y] just outside the image (negative ones wrap), on the edges, inside.
inside = {
    TASKS[0]: [[-1.2, 3]],          # int -> -1 -> column W-1: hit
    TASKS[1]: [[2, -0.9]],          # int -> 0 -> row 0: miss (mask is the last row)
    TASKS[2]: [[-0.5, 2.5]],        # int -> 0 -> column 0: hit
    TASKS[3]: [[-8, 0]],            # -8 -> column 0 of 8 (wraps fully): miss (last column)
    TASKS[4]: [[3, -1.7]],          # row -1 -> H-1: hit
    TASKS[5]: [[7.9, 5.99]],        # inside, column 7: miss (first column)
    TASKS[6]: [[-1, -1], [0, 0]],   # (H-1, W-1): hit
    TASKS[7]: [[2, -6.5]],          # row -6 -> 0: miss
    TASKS[8]: [[-7.99, 1]],         # -7 -> column 1: miss
    TASKS[9]: [[1, 1]],             # inside: miss
}
# Points past the far edge: the original's IndexError.
outside = [
    {TASKS[0]: [[8, 0]]},
    {TASKS[1]: [[0, 6.0]]},
    {TASKS[2]: [[-9, 0]]},
    {TASKS[3]: [[0, -7]]},
]

runs = []
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "gt.json"), "w") as f:
        json.dump(gt, f)
    for pts in [inside] + outside:
        with open(os.path.join(tmp, "pts.json"), "w") as f:
            json.dump({"cxrA": pts}, f)
        p = subprocess.run([sys.executable, os.path.join(SRC, "eval.py"), "--metric", "hitmiss",
                            "--gt_path", "gt.json", "--pred_path", "pts.json",
                            "--if_human_benchmark", "True", "--save_dir", "out"],
                           cwd=tmp, capture_output=True, text=True)
        if p.returncode == 0:
            with open(os.path.join(tmp, "out", "hitmiss_humanbenchmark_results_per_cxr.csv")) as f:
                result = f.read()
        else:
            result = "error:" + p.stderr.strip().splitlines()[-1].split(":")[0]
        runs.append({"points": {"cxrA": pts}, "result": result})

print(json.dumps({"gt": gt, "runs": runs}, indent=1))
