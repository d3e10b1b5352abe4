"""Expected threshold-free localisation scores for crates/metrics/tests/localisation.rs.

Quantus 0.6.0 (AUC, RelevanceMassAccuracy, RelevanceRankAccuracy, TopKIntersection), with
scikit-learn for AUPRC (average_precision_score) and a direct numpy sum for the energy-based
pointing game (no package implements it on masks). Maps are float32 without ties (random
continuous values plus a smooth bump), passed to Quantus as float64 with abs=False and
normalise=False so the scores are of the map itself.

    python -m venv V && V/bin/pip install numpy scikit-learn quantus==0.6.0
    V/bin/python make_localisation.py > localisation_quantus.json
"""
import json
import sys
import warnings

import numpy as np
import quantus
import sklearn
from sklearn.metrics import average_precision_score

warnings.filterwarnings("ignore")
rng = np.random.RandomState(21)


def case(h, w, shape):
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * w
    bump = np.exp(-(((yy - cy) / (0.25 * h)) ** 2 + ((xx - cx) / (0.25 * w)) ** 2))
    a = (bump + rng.uniform(0, 0.6, size=(h, w))).astype(np.float32)
    if shape == "ellipse":
        s = ((yy - cy) / (0.3 * h)) ** 2 + ((xx - cx) / (0.2 * w)) ** 2 < 1
    elif shape == "two-blobs":
        s = (((yy - 0.3 * h) ** 2 + (xx - 0.3 * w) ** 2) < (0.15 * h) ** 2) | (
            ((yy - 0.7 * h) ** 2 + (xx - 0.75 * w) ** 2) < (0.12 * h) ** 2
        )
    else:  # a band missing the bump: a poor map
        s = (yy > 0.8 * h) & (xx < 0.5 * w)
    return a, s.astype(np.uint8)


def q(metric, a, s):
    x = np.zeros((1, 1) + a.shape)
    out = metric(
        model=None,
        x_batch=x,
        y_batch=np.zeros(1, dtype=int),
        a_batch=a.astype(np.float64)[None, None],
        s_batch=s[None, None],
    )
    return float(out[0])


cases = []
for h, w, shape, k in [
    (30, 40, "ellipse", 50),
    (37, 23, "two-blobs", 7),
    (40, 40, "band", 120),
    (25, 50, "ellipse", 1),
    (31, 33, "two-blobs", 300),
]:
    a, s = case(h, w, shape)
    assert len(np.unique(a)) == a.size, "the recorded maps have no ties"
    kw = dict(abs=False, normalise=False, disable_warnings=True, display_progressbar=False)
    rows, cols = np.nonzero(s)
    box = np.zeros_like(s)
    box[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = 1
    a64 = a.astype(np.float64)
    cases.append(
        {
            "height": h,
            "width": w,
            "map": [float(v) for v in a.ravel()],
            "mask": [int(v) for v in s.ravel()],
            "k": k,
            "auroc": q(quantus.AUC(**kw), a, s),
            "auprc": float(average_precision_score(s.ravel(), a64.ravel())),
            "relevance_mass": q(quantus.RelevanceMassAccuracy(**kw), a, s),
            "relevance_rank": q(quantus.RelevanceRankAccuracy(**kw), a, s),
            "topk_intersection": q(quantus.TopKIntersection(k=k, **kw), a, s),
            "energy_pointing_game": float((a64 * box).sum() / a64.sum()),
        }
    )
json.dump(
    {
        "made_with": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "quantus": quantus.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "cases": cases,
    },
    sys.stdout,
)
print()
