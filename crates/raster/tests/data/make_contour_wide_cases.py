"""Generates contour_wide_cases.jsonl: random binary masks 64 to 400 pixels wide (long runs of
background and foreground, blobs with holes, lines, single pixels, shapes touching the border,
small noisy patches), wide enough for the raster scan's 64-byte skipping, with OpenCV 5.0.0's
cv2.findContours(mask, RETR_TREE, CHAIN_APPROX_SIMPLE) point lists; masks encoded with
pycocotools 2.0.11.

Run once in a throw-away venv with those versions:
    python make_contour_wide_cases.py > contour_wide_cases.jsonl
"""
import json
import random

import cv2
import numpy as np
from pycocotools import mask as mask_utils

random.seed(20261207)
for case in range(60):
    h, w = random.randint(1, 30), random.randint(64, 400)
    m = np.zeros((h, w), np.uint8)
    for _ in range(random.randint(0, 6)):
        kind = random.random()
        cy, cx = random.randint(-3, h + 2), random.randint(-3, w + 2)
        if kind < 0.45:
            ry, rx = random.randint(0, 12), random.randint(0, 150)
            cv2.ellipse(m, (cx, cy), (rx, ry), random.randint(-10, 10), 0, 360, 255, -1)
        elif kind < 0.6:
            cv2.line(m, (cx, cy), (random.randint(0, w), random.randint(0, h)), 255, 1)
        elif kind < 0.8:
            cv2.circle(m, (cx, cy), random.randint(1, 8), 0, -1)  # carve holes
        else:
            for _ in range(random.randint(1, 6)):
                m[random.randrange(h), random.randrange(w)] = 255
    if random.random() < 0.3:
        y0, x0 = random.randrange(h), random.randrange(w)
        patch = m[y0:y0 + 6, x0:x0 + 20]
        patch[np.random.default_rng(case).random(patch.shape) < 0.3] = 255
    cnts = cv2.findContours(m, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[0]
    contours = sorted([[list(map(int, p[0])) for p in c] for c in cnts])
    rle = mask_utils.encode(np.asfortranarray((m > 0).astype(np.uint8)))
    print(json.dumps({"h": h, "w": w, "counts": rle["counts"].decode(), "contours": contours}))
