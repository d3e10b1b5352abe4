"""The threshold-free metrics, HD95 and surface Dice of one map, by their reference packages.

Times, best of R runs each, in one process, on a map and two masks written by
``cargo xtask bench`` (``map.npy`` float32, ``gt.npy`` and ``pred.npy`` as 0/1 float32, all
``height x width``), what ``crates/metrics`` checks itself against (see
``crates/metrics/tests/data/make_localisation.py`` and ``make_surface.py``):

- Quantus 0.6 ``AUC``, ``RelevanceMassAccuracy``, ``RelevanceRankAccuracy``, ``TopKIntersection``
  (``abs=False, normalise=False``: the scores of the map itself), scikit-learn's
  ``average_precision_score`` for AUPRC, and numpy for the energy-based pointing game (mass in the
  mask's bounding box over all mass);
- surface-distance's ``compute_surface_distances`` + ``compute_robust_hausdorff(.., 95)`` and
  ``compute_surface_dice_at_tolerance`` (spacing 1 px).

    python bench_metrics.py --dir DIR --k K --tolerance T --repeat R > out.json

Prints ``{"versions": {...}, "metrics": {name: {"seconds": s, "value": v}}}``.
"""

import argparse
import json
import sys
import time
import warnings

import numpy as np
import quantus
import sklearn
import surface_distance as sd
from sklearn.metrics import average_precision_score

warnings.filterwarnings("ignore")


def best(f, repeat):
    out, t_best = None, float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        t_best = min(t_best, time.perf_counter() - t)
    return t_best, float(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--tolerance", type=float, required=True)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    m = np.load(f"{a.dir}/map.npy").astype(np.float64)
    gt = np.load(f"{a.dir}/gt.npy").astype(np.uint8)
    pred = np.load(f"{a.dir}/pred.npy").astype(np.uint8)
    kw = dict(abs=False, normalise=False, disable_warnings=True, display_progressbar=False)

    def q(metric):
        out = metric(
            model=None,
            x_batch=np.zeros((1, 1) + m.shape),
            y_batch=np.zeros(1, dtype=int),
            a_batch=m[None, None],
            s_batch=gt[None, None],
        )
        return out[0]

    def energy():
        rows, cols = np.nonzero(gt)
        box = np.zeros_like(gt)
        box[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] = 1
        return (m * box).sum() / m.sum()

    def surface(which):
        d = sd.compute_surface_distances(gt.astype(bool), pred.astype(bool), (1.0, 1.0))
        if which == "hd95":
            return sd.compute_robust_hausdorff(d, 95)
        return sd.compute_surface_dice_at_tolerance(d, a.tolerance)

    r = a.repeat
    metrics = {
        "auroc": best(lambda: q(quantus.AUC(**kw)), r),
        "auprc": best(lambda: average_precision_score(gt.ravel(), m.ravel()), r),
        "relevance_mass": best(lambda: q(quantus.RelevanceMassAccuracy(**kw)), r),
        "relevance_rank": best(lambda: q(quantus.RelevanceRankAccuracy(**kw)), r),
        "topk_intersection": best(lambda: q(quantus.TopKIntersection(k=a.k, **kw)), r),
        "energy_pointing_game": best(energy, r),
        "hd95": best(lambda: surface("hd95"), r),
        "surface_dice": best(lambda: surface("surface_dice"), r),
    }
    json.dump(
        {
            "versions": {
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "quantus": quantus.__version__,
                "scikit-learn": sklearn.__version__,
            },
            "metrics": {k: {"seconds": t, "value": v} for k, (t, v) in metrics.items()},
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
