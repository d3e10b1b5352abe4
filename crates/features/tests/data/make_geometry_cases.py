"""Generates geometry_cases.jsonl: point sets and what OpenCV 5.0.0 computes on them:
cv2.convexHull(points, clockwise=True/False), cv2.minAreaRect(points) and
cv2.contourArea(points).

The point sets are (a) the longest RETR_LIST / CHAIN_APPROX_NONE contour of random masks (blobs,
polygons, 1-pixel lines, single pixels, noise), small and CXR-sized, as
compute_pathology_features.py uses them, and (b) random integer point sets with duplicates and
collinear runs. Every float is written with repr() (minAreaRect's float32 results are exact in
a Python float).

Run once in a throw-away venv with those versions:  python make_geometry_cases.py > geometry_cases.jsonl
"""
import json
import random

import cv2
import numpy as np

random.seed(20261126)
rng = np.random.default_rng(20261126)


def random_mask(h, w, big):
    m = np.zeros((h, w), np.uint8)
    for _ in range(random.randint(1, 5)):
        kind = random.random()
        cy, cx = random.randint(-3, h + 2), random.randint(-3, w + 2)
        if kind < 0.35:
            s = max(h, w) // (4 if big else 3)
            ry, rx = random.randint(0, s), random.randint(0, s)
            cv2.ellipse(m, (cx, cy), (rx, ry), random.randint(0, 180), 0, 360, 1, -1)
        elif kind < 0.6:
            n = random.randint(3, 14)
            r = random.uniform(1, max(h, w) / 3)
            pts = [[cx + r * random.uniform(0.5, 1.3) * np.cos(t), cy + r * random.uniform(0.5, 1.3) * np.sin(t)]
                   for t in sorted(random.uniform(0, 2 * np.pi) for _ in range(n))]
            cv2.fillPoly(m, [np.array(pts, np.int32)], 1)
        elif kind < 0.75:
            cv2.line(m, (cx, cy), (random.randint(0, w), random.randint(0, h)), 1, 1)
        elif kind < 0.85:
            cv2.circle(m, (cx, cy), random.randint(1, max(2, h // 6)), 0, -1)
        else:
            for _ in range(random.randint(1, 4)):
                m[random.randrange(h), random.randrange(w)] = 1
    return m


def record(kind, pts):
    p = np.array(pts, np.int32).reshape(-1, 1, 2)
    (cx, cy), (w, h), a = cv2.minAreaRect(p)
    return {
        "kind": kind,
        "points": [int(v) for v in p.reshape(-1)],
        "hull_cw": [int(v) for v in cv2.convexHull(p, clockwise=True).reshape(-1)],
        "hull_ccw": [int(v) for v in cv2.convexHull(p, clockwise=False).reshape(-1)],
        "rect": [repr(float(v)) for v in (cx, cy, w, h, a)],
        "area": repr(float(cv2.contourArea(p))),
    }


cases = []
for case in range(500):
    big = case < 40
    h, w = (random.randint(150, 400), random.randint(150, 400)) if big else (random.randint(1, 40), random.randint(1, 40))
    m = random_mask(h, w, big)
    cnts = cv2.findContours(m, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)[0]
    if not cnts:
        continue
    cnt = cnts[int(np.argmax([len(c) for c in cnts]))]
    cases.append(record("contour", cnt.reshape(-1, 2).tolist()))
for case in range(300):
    n = random.randint(1, 30)
    span = random.choice([2, 4, 10, 100, 3000])
    pts = rng.integers(0, span, size=(n, 2)).tolist()
    if random.random() < 0.3:  # duplicates
        pts += [list(pts[random.randrange(n)]) for _ in range(random.randint(1, 5))]
    if random.random() < 0.3:  # a collinear run
        x0, y0, dx, dy = (random.randint(0, span) for _ in range(4))
        pts += [[x0 + k * dx, y0 + k * dy] for k in range(random.randint(2, 6))]
    random.shuffle(pts)
    cases.append(record("points", pts))
for c in cases:
    print(json.dumps(c))
