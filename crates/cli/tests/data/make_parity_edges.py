"""Generates parity_edges.json: what the ORIGINAL heatmap_to_segmentation.py writes for a small set
of heatmaps in each of its modes, where the tuning CSV leaves some tasks' thresholds empty or `nan`
(the original then uses Otsu for those tasks: its `np.isnan(threshold)` check) and where some maps
are 1x1 or constant.

Versions (the reference environment of ../shared/tools/python-reference.sh): numpy 2.4.6,
pandas 3.1.1, torch 2.15.0 (CPU), opencv-python-headless 5.0.0.93, pillow 13.0.0,
pycocotools 2.0.11; the original scripts from rajpurkarlab/cheXlocalize.

The heatmaps are written as the original pickles are (pickle protocol 3 of a dict with a float32
torch tensor [1, 1, h, w], 'prob', 'task', 'gt', 'cxr_dims' = (width, height)); the JSON keeps
their values, so the Rust test writes the same maps with our writer and needs no Python.

Usage (from this folder):
  $REFENV/bin/python make_parity_edges.py $REFSRC > parity_edges.json
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np
import torch

SRC = sys.argv[1]
TASKS = ["Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Airspace Opacity", "Edema",
         "Consolidation", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Support Devices"]
rng = np.random.default_rng(2026)
# CXRs: (id, height, width); 30x40 and 20x50 take torch's small-output kernel, 70x90 the generic one.
cxrs = [("patient1_study1_view1_frontal", 30, 40), ("patient2_study1_view1_frontal", 70, 90),
        ("patient3_study1_view1_frontal", 20, 50)]
maps = []
for ci, (cxr, h, w) in enumerate(cxrs):
    for ti, task in enumerate(TASKS):
        kind = (ci * 10 + ti) % 6
        if kind == 0:
            a = rng.random((4, 5))
        elif kind == 1:
            a = rng.random((7, 7)) ** 3
        elif kind == 2:
            a = np.full((1, 1), 0.5)
        elif kind == 3:
            a = np.full((3, 3), 0.25)
        elif kind == 4:
            a = rng.random((5, 3)) * 1e-40
        else:
            a = rng.random((10, 8))
        a = a.astype(np.float32)
        maps.append({"cxr_id": cxr, "task": task, "shape": list(a.shape),
                     "values": [float(x) for x in a.ravel()], "prob": round(float(rng.random()), 6),
                     "cxr_h": h, "cxr_w": w})

# Thresholds: numbers for some tasks, empty or nan (any spelling pandas reads as NaN) for others.
cells = ["0.5", "", "nan", "0.3", "NaN", "", "0.7", "nan", "0.1", ""]
tuning = "threshold,task\n" + "".join(f"{c},{t}\n" for c, t in zip(cells, TASKS))
prob = "prob_threshold,mIoU,task\n" + "".join(
    f"{p},{m},{t}\n" for t in TASKS for p, m in [(0.2, 0.1), (0.5, 0.3), (0.8, 0.2)])

runs = [
    ["--threshold_path", "tuning_results.csv"],
    ["--threshold_path", "tuning_results.csv", "--if_smoothing", "True", "--k", "5"],
    [],
    ["--if_smoothing", "True", "--k", "3"],
    ["--probability_threshold_path", "probability_tuning_results.csv"],
]

out_runs = []
with tempfile.TemporaryDirectory() as tmp:
    md = os.path.join(tmp, "maps")
    os.makedirs(md)
    for m in maps:
        a = np.array(m["values"], dtype=np.float32).reshape(m["shape"])
        info = {"map": torch.from_numpy(a)[None, None], "prob": m["prob"], "task": m["task"],
                "gt": 1, "cxr_dims": (m["cxr_w"], m["cxr_h"])}
        with open(os.path.join(md, f"{m['cxr_id']}_{m['task']}_map.pkl"), "wb") as f:
            pickle.dump(info, f, protocol=3)
    with open(os.path.join(tmp, "tuning_results.csv"), "w") as f:
        f.write(tuning)
    with open(os.path.join(tmp, "probability_tuning_results.csv"), "w") as f:
        f.write(prob)
    for args in runs:
        outp = os.path.join(tmp, "out", "seg.json")
        subprocess.run([sys.executable, os.path.join(SRC, "heatmap_to_segmentation.py"),
                        "--map_dir", md, "--output_path", outp] + args,
                       cwd=tmp, check=True, capture_output=True)
        with open(outp) as f:
            seg = json.load(f)
        out_runs.append({"args": args, "output": seg})

print(json.dumps({"maps": maps, "tuning_results.csv": tuning,
                  "probability_tuning_results.csv": prob, "runs": out_runs}, separators=(",", ":")))
