"""Writes the real torch / numpy heatmap files the io tests read, and what torch / numpy read
back from them (expected.json). Run from this folder with the reference venv (torch 2.15.0 CPU,
numpy 2.4.6):

    python make_heatmap_files.py

Every value in expected.json comes from torch.load / np.load of the written files, not from
our code.
"""
import json

import numpy as np
import torch

OUT = "heatmaps"
ID = "patient1_study1_view1_frontal"

# A non-contiguous map (a transposed view keeps its strides in the file), a 14-element
# probability vector, a uint8 image tensor: the shapes the CheXlocalize pickles hold.
base = (torch.arange(12, dtype=torch.float32).reshape(1, 1, 4, 3) - 5.0) / 7.0
rec = {
    "map": base.transpose(2, 3),
    "prob": torch.linspace(0.0, 1.0, 14, dtype=torch.float32),
    "task": "Edema",
    "gt": 1,
    "cxr_img": torch.arange(12, dtype=torch.uint8).reshape(3, 2, 2),
    "cxr_dims": (7, 5),
}
torch.save(rec, f"{OUT}/{ID}_Edema_map.pt")  # zip format (the default since torch 1.6)
torch.save(rec, f"{OUT}/{ID}_Cardiomegaly_map.pt", _use_new_zipfile_serialization=False)

# .npy maps with their sidecars: float32 C order, and float64 big-endian Fortran order.
m = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
np.save(f"{OUT}/{ID}_Pneumothorax_map.npy", m.astype("<f4"))
np.save(f"{OUT}/{ID}_Atelectasis_map.npy", np.asfortranarray(m.astype(">f8")).reshape(1, 1, 3, 4))
for task, prob in [("Pneumothorax", 0.25), ("Atelectasis", [0.5] * 14)]:
    with open(f"{OUT}/{ID}_{task}_map.json", "w") as f:
        json.dump({"prob": prob, "cxr_dims": [7, 5]}, f)

expected = {}
for task in ["Edema", "Cardiomegaly"]:
    r = torch.load(f"{OUT}/{ID}_{task}_map.pt", weights_only=True)
    expected[f"{ID}_{task}_map.pt"] = {
        "map_shape": list(r["map"].shape),
        "map": r["map"].contiguous().flatten().tolist(),
        "prob": r["prob"].tolist(),
        "task": r["task"],
        "gt": r["gt"],
        "cxr_img": r["cxr_img"].flatten().tolist(),
        "cxr_dims": list(r["cxr_dims"]),
    }
for task in ["Pneumothorax", "Atelectasis"]:
    a = np.load(f"{OUT}/{ID}_{task}_map.npy")
    expected[f"{ID}_{task}_map.npy"] = {
        "map_shape": list(a.shape),
        "map": np.ascontiguousarray(a).flatten().astype(float).tolist(),
        "dtype": a.dtype.str,
        "fortran_order": bool(a.flags.f_contiguous and not a.flags.c_contiguous),
    }
with open(f"{OUT}/expected.json", "w") as f:
    json.dump(expected, f, indent=1)
