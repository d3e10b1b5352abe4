"""Generates pillow_big_cases.jsonl: polygons with vertex coordinates beyond the int32 range (and at
its edges) and the masks Pillow 13.0.0 draws for them with ImageDraw.polygon(xy, fill=1,
outline=1) on a mode "1" image, as annotation_to_segmentation.py does, encoded with
pycocotools 2.0.11. (Pillow casts each coordinate with C's (int): on x86-64 a value outside the
int32 range becomes INT_MIN; its edge arithmetic then wraps in 32 bits.)

Run once in the reference venv (../shared/tools/python-reference.sh):
  $REFENV/bin/python make_pillow_big_cases.py > pillow_big_cases.jsonl
"""
import json
import random

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

random.seed(20261207)
BIG = [3e9, -5e9, 1e20, -1e20, 2147483647, 2147483648, -2147483648, -2147483649, 4294967299,
       1e10, -3e9, 2147483647.5, -2147483648.9, 6442450941]
for case in range(300):
    h, w = random.randint(1, 24), random.randint(1, 24)
    polys = []
    for _ in range(random.choice([1, 1, 2])):
        n = random.choice([2, 3, 3, 4, 5, 6])
        pts = []
        for _ in range(n):
            x = round(random.uniform(-3, w + 3), 3)
            y = round(random.uniform(-3, h + 3), 3)
            r = random.random()
            if r < 0.3:
                x = random.choice(BIG)
            elif r < 0.5:
                y = random.choice(BIG)
            elif r < 0.6:
                x, y = random.choice(BIG), random.choice(BIG)
            pts.append([x, y])
        polys.append(pts)
    img = Image.new("1", (w, h))
    for p in polys:
        ImageDraw.Draw(img).polygon([(x, y) for x, y in p], outline=1, fill=1)
    m = np.asfortranarray(np.array(img, dtype=np.uint8))
    rle = mask_utils.encode(m)
    print(json.dumps({"h": h, "w": w, "polygons": polys, "counts": rle["counts"].decode()}))
