"""chexlocalize.mask against pycocotools.mask (and hotcoco's mask module when installed), in one
process on the same inputs: best of R runs of each call.

    python python/benchmarks/bench_mask.py [--n 100] [--size 1024] [--repeat 3]
"""

import argparse
import time

import numpy as np

import chexlocalize.mask as ours


def masks(n, size, seed=0):
    """Blob-like masks (ellipses, as segmentations are), some empty and one full."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.zeros((size, size, n), dtype=np.uint8, order="F")
    for i in range(n):
        if i % 10 == 0:
            continue  # empty
        for _ in range(int(rng.integers(1, 4))):
            cy, cx = rng.integers(0, size, 2)
            ry, rx = rng.integers(size // 20, size // 3, 2)
            out[:, :, i] |= (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)
    out[:, :, n - 1] = 1
    return out


def best(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    ms = masks(a.n, a.size)
    libs = {"chexlocalize": ours}
    try:
        import pycocotools.mask as pm

        libs["pycocotools"] = pm
    except ImportError:
        pass
    try:
        import hotcoco.mask as hm  # noqa: F401

        libs["hotcoco"] = hm
    except ImportError:
        pass
    rles = {k: m.encode(ms) for k, m in libs.items()}
    crowd = [0] * a.n
    rows = []
    calls = {
        "encode": lambda m, r: m.encode(ms),
        "decode": lambda m, r: m.decode(r),
        "area": lambda m, r: m.area(r),
        "toBbox": lambda m, r: m.toBbox(r),
        f"iou {a.n}x{a.n}": lambda m, r: m.iou(r, r, crowd),
        "merge": lambda m, r: m.merge(r),
    }
    for name, call in calls.items():
        row = [name]
        for k, m in libs.items():
            row.append(best(lambda: call(m, rles[k]), a.repeat))
        rows.append(row)
    print(f"{a.n} masks of {a.size} x {a.size}, best of {a.repeat} (seconds; ratio = other / chexlocalize)")
    head = ["function"] + list(libs) + [f"{k} / chexlocalize" for k in list(libs)[1:]]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        ratios = [f"{r[i] / r[1]:.1f}x" for i in range(2, len(r))]
        print("| " + " | ".join([r[0]] + [f"{t:.4f}" for t in r[1:]] + ratios) + " |")
    assert rles["chexlocalize"] == rles.get("pycocotools", rles["chexlocalize"])


if __name__ == "__main__":
    main()
