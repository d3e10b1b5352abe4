"""Histograms on which Otsu's between-class variance has an exact tie, with cv2's answers.

Run with the reference environment (opencv-python 5.0.0 wheel, Intel IPP 2026.0.0, numpy):

    "$REFENV"/bin/python make_otsu_ties.py > otsu_ties.json   # REFENV: ../shared/tools/python-reference.sh

Each case is a 1-row uint8 image given as its histogram ({value: count}, non-empty bins only),
with `ties`: every threshold whose between-class variance equals the maximum EXACTLY (rational
arithmetic: (S*n1 - N*s1)^2 / (n1*n2)), `ipp`: cv2.threshold(..., THRESH_OTSU) with IPP on (the
default, i.e. what the Python reference runs; ippiComputeThreshold_Otsu_8u_C1R at the CPU's
default dispatch level), `ocv`: the same with cv2.ipp.setUseIPP(False) (OpenCV's own C++).

Sets: "random" (random images of 2-40 pixels over 2-5 distinct values, deduplicated; every
tied one plus a few untied controls) and "tri" (the three pixels a, a+d, a+2d for every a and
d in 1..2: thresholds a and a+d always tie, variance d^2/2).

Measured: IPP agrees with OpenCV's C++ on every untied histogram; on ties it takes the first
tied threshold in some cases and a later one in others, and its choice also depends on the
dispatch level (OPENCV_IPP=sse42 gives different answers from the default/avx2 on the "tri"
set). No rule reproducing it has been found yet (closing note of issue 17: float32/double, bin centres, FMA, nine variance forms and both comparisons were tried; the best rule matched 76% of the "tri" ties).
"""
import json
import sys
from fractions import Fraction

import cv2
import numpy as np


def otsu(img, ipp):
    cv2.ipp.setUseIPP(ipp)
    return int(cv2.threshold(img, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[0])


def exact_ties(h):
    n = sum(h)
    s = sum(i * c for i, c in enumerate(h))
    n1 = s1 = 0
    sig = []
    for i in range(256):
        if not h[i]:
            continue
        n1 += h[i]
        s1 += i * h[i]
        if n1 == n:
            break
        sig.append((Fraction((s * n1 - n * s1) ** 2, n1 * (n - n1)), i))
    if not sig:
        return []
    top = max(v for v, _ in sig)
    return [i for v, i in sig if v == top]


def case(img, kind):
    h = np.bincount(img.ravel(), minlength=256).tolist()
    return {
        "set": kind,
        "hist": {str(i): c for i, c in enumerate(h) if c},
        "ties": exact_ties(h),
        "ipp": otsu(img, True),
        "ocv": otsu(img, False),
    }


def main():
    rng = np.random.default_rng(1)
    cases, seen, controls = [], set(), 0
    for _ in range(100_000):
        k = int(rng.integers(2, 6))
        if rng.random() < 0.5:
            lo = int(rng.integers(0, 240))
            span = np.arange(lo, min(256, lo + int(rng.integers(6, 20))))
            vals = rng.choice(span, k, replace=False)
        else:
            vals = rng.choice(256, k, replace=False)
        img = rng.choice(vals, int(rng.integers(2, 41))).astype(np.uint8).reshape(1, -1)
        key = tuple(np.bincount(img.ravel(), minlength=256))
        if key in seen:
            continue
        seen.add(key)
        tied = len(exact_ties(list(key))) > 1
        if not tied:
            if controls >= 100 or rng.random() > 0.02:
                continue
            controls += 1
        cases.append(case(img, "random"))
    for d in (1, 2):
        for a in range(256 - 2 * d):
            cases.append(case(np.array([[a, a + d, a + 2 * d]], np.uint8), "tri"))
    info = {
        "cv2": cv2.__version__,
        "numpy": np.__version__,
        "ipp": cv2.ipp.getIppVersion() if hasattr(cv2.ipp, "getIppVersion") else "",
        "script": "crates/saliency/tests/data/make_otsu_ties.py",
    }
    json.dump({"info": info, "cases": cases}, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
