"""A drop-in for the parts of ``pycocotools.mask`` that CheXlocalize and its users call.

Same names, argument conventions, dtypes and shapes as pycocotools, and byte-identical
``counts``; the work is done in Rust with the GIL released (in parallel for many masks).

>>> import numpy as np, chexlocalize.mask as m
>>> rle = m.encode(np.asfortranarray(np.eye(3, dtype=np.uint8)))
>>> rle
{'size': [3, 3], 'counts': b'0111'}
>>> int(m.area(rle)), m.toBbox(rle).tolist()
(3, [0.0, 0.0, 3.0, 3.0])
"""

from __future__ import annotations

import numpy as np

from . import _native

__all__ = ["encode", "decode", "area", "iou", "merge", "toBbox", "frPyObjects"]


def encode(bimask):
    """Encode an ``h x w`` or ``h x w x n`` uint8 mask (Fortran order, as
    ``np.asfortranarray``; other orders are copied) as an RLE dict ``{"size": [h, w],
    "counts": bytes}``, or a list of ``n`` of them."""
    bimask = np.asarray(bimask)
    if bimask.dtype != np.uint8:
        raise ValueError(f"encode: expected a uint8 array, found {bimask.dtype}")
    if bimask.ndim == 3:
        return _native.mask_encode(bimask)
    if bimask.ndim == 2:
        h, w = bimask.shape
        return _native.mask_encode(bimask.reshape((h, w, 1), order="F"))[0]
    raise ValueError(f"encode: expected an h x w or h x w x n array, found {bimask.ndim} dimensions")


def decode(rleObjs):
    """Decode an RLE dict to an ``h x w`` uint8 Fortran array, or a list of RLE dicts (of one
    size) to an ``h x w x n`` one."""
    if isinstance(rleObjs, list):
        return _native.mask_decode(rleObjs)
    return _native.mask_decode([rleObjs])[:, :, 0]


def area(rleObjs):
    """The number of set pixels: a ``np.uint32`` for one RLE, a uint32 array for a list."""
    if isinstance(rleObjs, list):
        return _native.mask_area(rleObjs)
    return _native.mask_area([rleObjs])[0]


def toBbox(rleObjs):
    """The bounding box ``[x, y, w, h]`` (float64) of one RLE, or an ``n x 4`` array for a list
    (``[0, 0, 0, 0]`` for an empty mask)."""
    if isinstance(rleObjs, list):
        return _native.mask_to_bbox(rleObjs)
    return _native.mask_to_bbox_one(rleObjs)


def merge(rleObjs, intersect=0):
    """The union (``intersect=0``) or intersection of a list of RLEs, as one RLE dict."""
    return _native.mask_merge(list(rleObjs), bool(intersect))


def _kind(objs):
    """pycocotools' ``_preproc``: ``("rle", list)`` or ``("bbox", n x 4 float64 array)``."""
    if isinstance(objs, np.ndarray):
        if objs.size == 0:
            return "bbox", np.zeros((0, 4))
        if objs.ndim == 2 and objs.shape[1] == 4:
            return "bbox", np.ascontiguousarray(objs, dtype=np.float64)
        raise ValueError("numpy ndarray input is only for *bounding boxes* and should have Nx4 dimension")
    if isinstance(objs, list):
        if len(objs) == 0:
            return "empty", objs
        if all(isinstance(o, dict) for o in objs):
            return "rle", objs
        if all(isinstance(o, (list, tuple, np.ndarray)) and len(o) == 4 for o in objs):
            return "bbox", np.asarray(objs, dtype=np.float64).reshape(-1, 4)
        raise ValueError("list input can be bounding box (Nx4) or RLEs ([RLE])")
    raise ValueError("unrecognized type.  The following type: RLEs (rle), np.ndarray (box), and list (box) are supported.")


def iou(dt, gt, pyiscrowd):
    """IoU of every detection with every ground truth: an ``len(dt) x len(gt)`` float64 array
    (``[]`` when either is empty). ``dt`` and ``gt`` are both lists of RLEs, or both boxes
    (``n x 4`` arrays or lists of ``[x, y, w, h]``); for a crowd ground truth
    (``pyiscrowd[g]`` true) the union is the detection's area."""
    kd, dt = _kind(dt)
    kg, gt = _kind(gt)
    if kd == "empty" or kg == "empty" or len(dt) == 0 or len(gt) == 0:
        return []
    if kd != kg:
        raise ValueError("The dt and gt should have the same data type, either RLEs, list or np.ndarray")
    crowd = np.asarray(pyiscrowd, dtype=np.uint8).reshape(-1).tolist()  # nonzero: crowd
    if len(crowd) != len(gt):
        raise ValueError("iscrowd must have the same length as gt")
    if kd == "rle":
        return _native.mask_iou_rle(dt, gt, crowd)
    return _native.mask_iou_bbox(dt, gt, crowd)


def frPyObjects(pyobj, h, w):
    """RLEs from polygons (``[x0, y0, x1, y1, ...]``), boxes (``[x, y, w, h]``, or an ``n x 4``
    array) or uncompressed RLEs (``counts`` a list of run lengths) on an ``h x w`` image: a list
    for a list of objects, one RLE dict for one object."""
    h, w = int(h), int(w)
    if isinstance(pyobj, np.ndarray):
        return _native.mask_fr_bbox(np.ascontiguousarray(pyobj, dtype=np.float64).reshape(-1, 4), h, w)
    if isinstance(pyobj, list) and pyobj and isinstance(pyobj[0], dict):
        if "counts" in pyobj[0] and "size" in pyobj[0]:
            return _native.mask_fr_uncompressed(pyobj)
    elif isinstance(pyobj, list) and pyobj and isinstance(pyobj[0], (list, tuple, np.ndarray)):
        if len(pyobj[0]) == 4:
            return _native.mask_fr_bbox(np.asarray(pyobj, dtype=np.float64).reshape(-1, 4), h, w)
        if len(pyobj[0]) > 4:
            return _native.mask_fr_poly([[float(v) for v in p] for p in pyobj], h, w)
    elif isinstance(pyobj, list) and len(pyobj) == 4:
        return _native.mask_fr_bbox(np.asarray([pyobj], dtype=np.float64), h, w)[0]
    elif isinstance(pyobj, list) and len(pyobj) > 4:
        return _native.mask_fr_poly([[float(v) for v in pyobj]], h, w)[0]
    elif isinstance(pyobj, dict) and "counts" in pyobj and "size" in pyobj:
        return _native.mask_fr_uncompressed([pyobj])[0]
    raise ValueError("input type is not supported.")
