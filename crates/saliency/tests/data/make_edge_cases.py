"""Generates edge_cases.json: the masks the ORIGINAL heatmap_to_segmentation.py makes for edge-case
heatmaps (constant maps, 1x1 maps, a single hot pixel, subnormal values) on small and odd CXR sizes,
in its three thresholding modes (Otsu, Otsu after smoothing with k, a fixed threshold).

Versions (the reference environment of ../shared/tools/python-reference.sh): numpy 2.4.6,
torch 2.15.0 (CPU), opencv-python-headless 5.0.0.93, pillow 13.0.0, pycocotools 2.0.11; the
original scripts from rajpurkarlab/cheXlocalize.

Each map is written as the original pickles are (pickle protocol 3 of a dict holding a float32
torch tensor of shape [1, 1, h, w], 'prob', 'task', 'cxr_dims' = (width, height)) and segmented
by the original `pkl_to_mask`, then encoded by its `encode_segmentation`. Each mask is kept as
"area:hash" (its pixel count and the 32-bit FNV-1a of its pycocotools counts string), to keep the
file small; `--full` prints the counts themselves. Where the original fails
(a CXR of height or width 1: `cam_to_segmentation` squeezes the map to 1-D and its assert fails),
the case records "error:" and the exception's type.

Usage (from this folder):
  $REFENV/bin/python make_edge_cases.py $REFSRC > edge_cases.json
Cases are rows [map name, CXR height, CXR width, one mask per mode in "modes" order].
"""
import json
import os
import pickle
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, sys.argv[1])
FULL = "--full" in sys.argv  # whole RLE counts instead of "area:fnv1a32(counts)", for diagnosis
from heatmap_to_segmentation import pkl_to_mask  # noqa: E402
from utils import encode_segmentation  # noqa: E402

f32 = np.float32
rng = np.random.default_rng(17)

maps = {}  # name -> float32 array


def add(name, a):
    maps[name] = np.asarray(a, dtype=f32)


for v in [0.0, 0.5, 1.0, -2.5, 3.0e38, 1e-40]:
    add(f"one_{v!r}", [[v]])
    add(f"const2x3_{v!r}", np.full((2, 3), v))
add("const7x5_0.3", np.full((7, 5), 0.3))
add("const20x20_0.7", np.full((20, 20), 0.7))
for (h, w, y, x) in [(3, 3, 1, 1), (4, 5, 0, 4), (10, 10, 7, 2)]:
    a = np.zeros((h, w))
    a[y, x] = 1.0
    add(f"hot{h}x{w}_{y}_{x}", a)
add("subnormal_rand6x6", (rng.random((6, 6)) * 1e-40))
add("subnormal_rand12x9", (rng.random((12, 9)) * 9e-41))
add("subnormal_steps5x5", np.arange(25).reshape(5, 5) * 1e-44)
add("offset_narrow4x4", 1000.0 + rng.random((4, 4)) * 1e-4)

# Every height up to 64 against a few widths (and every square), then sizes past the 128 limit of
# torch's small-output kernel (out_h + out_w <= 128), odd shapes and a few 1-pixel-wide CXRs.
sweep = sorted({(h, w) for h in range(2, 65) for w in (2, 7, 33, 64)} | {(h, h) for h in range(2, 65)}
               | {(2, 7), (7, 2), (40, 50), (64, 65), (65, 64), (63, 66), (100, 100), (37, 91),
                  (91, 37), (3001, 2), (2, 3001), (130, 5), (1, 1), (1, 9), (9, 1)})
few = [(1, 1), (2, 7), (7, 2), (16, 16), (40, 50), (64, 64), (50, 80), (100, 100), (3001, 2),
       (33, 64), (2, 3)]
sweep_maps = {"one_0.5", "one_-2.5", "one_3e+38", "one_1e-40", "const2x3_0.5"}
modes = [("otsu", np.nan, False, 0), ("smooth5", np.nan, True, 5), ("fixed0.5", 0.5, False, 0),
         ("fixed0", 0.0, False, 0)]


def segment(path, threshold, smoothing, k):
    try:
        seg = pkl_to_mask(path, threshold=threshold, smoothing=smoothing, k=k)
    except Exception as e:  # the original's own failure, recorded
        return "error:" + type(e).__name__
    counts = encode_segmentation(seg)["counts"]
    return counts if FULL else f"{int(seg.sum())}:{fnv1a32(counts):08x}"


def fnv1a32(s):
    h = 0x811C9DC5
    for b in s.encode():
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


cases = []
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "cxr_Edema_map.pkl")
    for name, a in maps.items():
        sizes = sweep if name in sweep_maps else few
        for (h, w) in sizes:
            info = {"map": torch.from_numpy(a.copy())[None, None], "prob": 0.9, "task": "Edema",
                    "gt": 1, "cxr_dims": (w, h)}
            with open(path, "wb") as f:
                pickle.dump(info, f, protocol=3)
            cases.append([name, h, w] + [segment(path, t, s, k) for (_, t, s, k) in modes])

print(json.dumps({"maps": {k: {"shape": list(v.shape), "values": [float(x) for x in v.ravel()]}
                           for k, v in maps.items()},
                  "modes": [m[0] for m in modes],
                  "cases": cases}, separators=(",", ":")).replace("],[", "],\n["))
