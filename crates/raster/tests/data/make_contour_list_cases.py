"""Generates contour_list_cases.jsonl: random binary masks (blobs with holes, 1-pixel lines, single
pixels, shapes cut by the border, noise) and OpenCV 5.0.0's
cv2.findContours(mask, RETR_LIST, CHAIN_APPROX_NONE) output IN ORDER (the order matters to
compute_pathology_features.py, which takes the first longest contour); masks encoded with
pycocotools 2.0.11.

Run once in a throw-away venv with those versions:  python make_contour_list_cases.py > contour_list_cases.jsonl
"""
import json
import random

import cv2
import numpy as np
from pycocotools import mask as mask_utils

random.seed(20261125)
for case in range(300):
    h, w = random.randint(1, 36), random.randint(1, 36)
    m = np.zeros((h, w), np.uint8)
    for _ in range(random.randint(0, 6)):
        kind = random.random()
        cy, cx = random.randint(-3, h + 2), random.randint(-3, w + 2)
        if kind < 0.45:
            ry, rx = random.randint(0, 8), random.randint(0, 8)
            cv2.ellipse(m, (cx, cy), (rx, ry), random.randint(0, 180), 0, 360, 255, -1)
        elif kind < 0.7:
            cv2.line(m, (cx, cy), (random.randint(0, w), random.randint(0, h)), 255, 1)
        elif kind < 0.85:
            cv2.circle(m, (cx, cy), random.randint(1, 5), 0, -1)  # carve holes
        else:
            for _ in range(random.randint(1, 6)):
                m[random.randrange(h), random.randrange(w)] = 255
    if random.random() < 0.25:
        noise = np.random.default_rng(case).random((h, w)) < 0.2
        m[noise] = 255
    cnts = cv2.findContours((m > 0).astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)[0]
    contours = [[list(map(int, p[0])) for p in c] for c in cnts]
    rle = mask_utils.encode(np.asfortranarray((m > 0).astype(np.uint8)))
    print(json.dumps({"h": h, "w": w, "counts": rle["counts"].decode(), "contours": contours}))
