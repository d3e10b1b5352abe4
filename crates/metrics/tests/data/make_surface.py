"""Expected HD95, Hausdorff and surface Dice for crates/metrics/tests/surface.rs, from DeepMind's
surface-distance package (2-D, `compute_surface_distances` then `compute_robust_hausdorff` and
`compute_surface_dice_at_tolerance`), on pairs of masks whose ground truth and prediction are
both non-empty (the empty-mask conventions are this project's own, tested in the crate).

    python -m venv V && V/bin/pip install numpy scipy surface-distance
    V/bin/python make_surface.py > surface_distance.json
"""
import json
import sys

import numpy as np
import scipy
import surface_distance as sd

rng = np.random.RandomState(5)


def blob(h, w, n):
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
        ry, rx = rng.uniform(0.08, 0.3) * h, rng.uniform(0.08, 0.3) * w
        m |= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    return m


cases = []
for h, w, spacing in [
    (40, 50, (1.0, 1.0)),
    (33, 47, (0.7, 1.3)),
    (60, 45, (1.0, 1.0)),
    (25, 25, (2.5, 0.4)),
    (50, 70, (1.0, 1.0)),
    (41, 39, (0.9, 0.9)),
]:
    gt = blob(h, w, rng.randint(1, 4))
    pred = blob(h, w, rng.randint(1, 4))
    if len(cases) % 2 == 1:
        # A near miss: the ground truth shifted by a pixel or two, so distances are small.
        pred = np.roll(gt, (1, 2), axis=(0, 1))
    if not gt.any() or not pred.any():
        continue
    d = sd.compute_surface_distances(gt, pred, spacing)
    cases.append(
        {
            "height": h,
            "width": w,
            "spacing": list(spacing),
            "gt": [int(v) for v in gt.ravel()],
            "pred": [int(v) for v in pred.ravel()],
            "hd95": float(sd.compute_robust_hausdorff(d, 95)),
            "hd100": float(sd.compute_robust_hausdorff(d, 100)),
            "surface_dice_1": float(sd.compute_surface_dice_at_tolerance(d, 1.0)),
            "surface_dice_2.5": float(sd.compute_surface_dice_at_tolerance(d, 2.5)),
        }
    )
json.dump(
    {
        "made_with": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "surface-distance": "0.1",
        },
        "cases": cases,
    },
    sys.stdout,
)
print()
