"""Generates pillow_cases.jsonl: random polygons and the masks Pillow 13.0.0 draws for them with
ImageDraw.polygon(xy, fill=1, outline=1) on a mode "1" image, encoded with pycocotools 2.0.11.

Run once in a throw-away venv with those versions:  python make_pillow_cases.py > pillow_cases.jsonl
"""
import json
import random

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

random.seed(20261124)
for case in range(600):
    h, w = random.randint(1, 48), random.randint(1, 48)
    polys = []
    for _ in range(random.choice([1, 1, 1, 2, 3])):
        n = random.choice([2, 3, 3, 4, 5, 6, 8, 12, 20])
        kind = random.random()
        pts = []
        for _ in range(n):
            if kind < 0.3:  # integer vertices, some outside the image
                pts.append([random.randint(-4, w + 4), random.randint(-4, h + 4)])
            elif kind < 0.45:  # axis-aligned runs and repeated points
                base = pts[-1] if pts else [random.randint(0, w), random.randint(0, h)]
                step = random.choice([[random.randint(-6, 6), 0], [0, random.randint(-6, 6)], [0, 0]])
                pts.append([base[0] + step[0], base[1] + step[1]])
            else:  # float vertices with 5 decimals, as the annotation files
                pts.append([round(random.uniform(-3, w + 3), 5), round(random.uniform(-3, h + 3), 5)])
        polys.append(pts)
    img = Image.new("1", (w, h))
    for p in polys:
        ImageDraw.Draw(img).polygon([(x, y) for x, y in p], outline=1, fill=1)
    m = np.asfortranarray(np.array(img, dtype=np.uint8))
    rle = mask_utils.encode(m)
    print(json.dumps({"h": h, "w": w, "polygons": polys, "counts": rle["counts"].decode()}))
