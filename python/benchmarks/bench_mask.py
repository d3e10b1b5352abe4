"""chexlocalize.mask against pycocotools.mask and hotcoco.mask (each when installed), in one
process on the same inputs: for each call, the best of R rounds, the libraries taking turns
within each round (so that a slow stretch of a shared machine hits all of them alike), in an
order that changes from round to round (so that none always finds the inputs in the cache).

Inputs: N blob masks (ellipses, as segmentations are; every tenth empty, the last full) of a
CheXpert X-ray's size, Fortran-ordered uint8 as pycocotools wants them, and N polygons of V
vertices. "batch" rows make one call on all N; "one" rows make one call per mask (as eval.py
does) and give the time of one call.

    python python/benchmarks/bench_mask.py [--n 20] [--height 2320] [--width 2828]
        [--repeat 12] [--json out.json]

Without --json it prints a markdown table; with it, it writes the measurements as JSON
(used by `cargo xtask bench python`).
"""

import argparse
import itertools
import json
import platform
import sys
import time
from importlib import metadata

import numpy as np

import chexlocalize.mask as ours


def masks(n, h, w, seed=0):
    """Blob-like masks (one to three ellipses each), every tenth empty and the last full."""
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w, n), dtype=np.uint8, order="F")
    for i in range(n):
        if i % 10 == 0:
            continue  # empty
        for _ in range(int(rng.integers(1, 4))):
            cy, cx = (int(v) for v in rng.integers(0, (h, w)))
            ry, rx = (int(v) for v in rng.integers((h // 20, w // 20), (h // 3, w // 3)))
            y0, y1, x0, x1 = max(cy - ry, 0), min(cy + ry + 1, h), max(cx - rx, 0), min(cx + rx + 1, w)
            yy, xx = np.mgrid[y0:y1, x0:x1]
            blob = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
            out[y0:y1, x0:x1, i] |= blob.astype(np.uint8)
    out[:, :, n - 1] = 1
    return out


def polygons(n, h, w, vertices, seed=1):
    """Star-shaped polygons (radiologist outlines are), flattened ``[x0, y0, x1, y1, ...]``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
        t = np.sort(rng.uniform(0, 2 * np.pi, vertices))
        r = rng.uniform(0.05, 0.25, vertices) * min(h, w)
        out.append([float(v) for xy in zip(cx + r * np.cos(t), cy + r * np.sin(t)) for v in xy])
    return out


def libraries():
    libs = {"chexlocalize": ours}
    try:
        import pycocotools.mask as pm

        libs["pycocotools"] = pm
    except ImportError:
        pass
    try:
        import hotcoco.mask as hm

        libs["hotcoco"] = hm
    except ImportError:
        pass
    return libs


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def calls(ms, polys, h, w):
    """name -> (calls per timing, f(lib, its RLEs)); "one" calls loop over the masks."""
    n = ms.shape[2]
    singles = [np.asfortranarray(ms[:, :, i]) for i in range(n)]
    crowd = [0] * n

    def each(f):
        return lambda m, r: [f(m, r, i) for i in range(n)]

    return {
        f"encode (batch of {n})": (1, lambda m, r: m.encode(ms)),
        f"decode (batch of {n})": (1, lambda m, r: m.decode(r)),
        f"iou (batch, {n}x{n})": (1, lambda m, r: m.iou(r, r, crowd)),
        f"area (batch of {n})": (1, lambda m, r: m.area(r)),
        f"merge (union of {n})": (1, lambda m, r: m.merge(r)),
        f"toBbox (batch of {n})": (1, lambda m, r: m.toBbox(r)),
        f"frPyObjects ({n} polygons)": (1, lambda m, r: m.frPyObjects(polys, h, w)),
        "encode (one mask)": (n, each(lambda m, r, i: m.encode(singles[i]))),
        "decode (one RLE)": (n, each(lambda m, r, i: m.decode(r[i]))),
        "iou (1x1)": (n, each(lambda m, r, i: m.iou([r[i]], [r[n - 1 - i]], [0]))),
        "area (one RLE)": (n, each(lambda m, r, i: m.area(r[i]))),
        "merge (two RLEs)": (n, each(lambda m, r, i: m.merge([r[i], r[n - 1 - i]]))),
        "toBbox (one RLE)": (n, each(lambda m, r, i: m.toBbox(r[i]))),
        "frPyObjects (one polygon)": (n, each(lambda m, r, i: m.frPyObjects([polys[i]], h, w))),
    }


def measure(libs, rles, table, repeat):
    """{call: {lib: best seconds per call}}, the libraries taking turns in each round, in
    every order in turn (all permutations): a call that follows another library's pass over the
    same masks may find them in the cache (this machine's L3 can hold them all), so each library
    comes after each other one."""
    best = {name: {k: float("inf") for k in libs} for name in table}
    orders = list(itertools.permutations(libs.items()))
    for r in range(repeat):
        turn = orders[r % len(orders)]
        for name, (per, call) in table.items():
            for k, m in turn:
                t0 = time.perf_counter()
                call(m, rles[k])
                dt = (time.perf_counter() - t0) / per
                best[name][k] = min(best[name][k], dt)
    return best


def counts(rles):
    return [r["counts"].decode() if isinstance(r["counts"], bytes) else r["counts"] for r in rles]


def check_same(libs, rles, ms, polys, h, w):
    """Every library's encode, decode, area and frPyObjects agree with ours."""
    ref = counts(rles["chexlocalize"])
    ref_poly = counts(ours.frPyObjects(polys, h, w))
    for k, m in libs.items():
        assert counts(rles[k]) == ref, f"{k}: encode differs"
        assert np.array_equal(m.decode(rles[k]), ms), f"{k}: decode differs"
        assert [int(a) for a in m.area(rles[k])] == [int(a) for a in ours.area(rles["chexlocalize"])]
        assert counts(m.frPyObjects(polys, h, w)) == ref_poly, f"{k}: frPyObjects differs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--height", type=int, default=2320)
    ap.add_argument("--width", type=int, default=2828)
    ap.add_argument("--vertices", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=12)
    ap.add_argument("--json", help="write the measurements here as JSON")
    a = ap.parse_args()
    h, w = a.height, a.width
    ms = masks(a.n, h, w)
    polys = polygons(a.n, h, w, a.vertices)
    libs = libraries()
    rles = {k: m.encode(ms) for k, m in libs.items()}
    check_same(libs, rles, ms, polys, h, w)
    table = calls(ms, polys, h, w)
    measure(libs, rles, table, 1)  # warm-up: first-touch page faults, lazy imports
    best = measure(libs, rles, table, a.repeat)
    inputs = (f"{a.n} masks of {h}×{w} (blobs, {sum(1 for i in range(a.n) if i % 10 == 0)} empty, "
              f"1 full), {a.n} polygons of {a.vertices} vertices; best of {a.repeat} rounds")
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "chexlocalize": version("chexlocalize"),
        "pycocotools": version("pycocotools") if "pycocotools" in libs else None,
        "hotcoco": version("hotcoco") if "hotcoco" in libs else None,
    }
    rows = [
        {"function": name, "peer": k, "peer_s": t[k], "ours_s": t["chexlocalize"]}
        for name, t in best.items()
        for k in libs
        if k != "chexlocalize"
    ]
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"versions": versions, "inputs": inputs, "identical": True, "rows": rows}, f, indent=1)
        return
    print(inputs, "; seconds per call; ratio = peer / chexlocalize;", versions)
    print("| function | peer | peer (ms) | ours (ms) | ratio |\n|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['function']} | {r['peer']} | {r['peer_s'] * 1e3:.3f} | {r['ours_s'] * 1e3:.3f} "
              f"| {r['peer_s'] / r['ours_s']:.2f}× |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
