"""CheXlocalize at native speed, from Python.

The CheXlocalize evaluation pipeline (the Rust ``chexlocalize`` library) as Python functions:
heatmap files read without executing anything in them, the command line's exact masks as
numpy arrays, and the evaluation's tables as pandas DataFrames (numpy record arrays when pandas
is not installed). ``chexlocalize.mask`` is a drop-in for the parts of ``pycocotools.mask``
CheXlocalize uses. Every function releases the GIL while it works.

The command line's warnings about the inputs (a skipped file, a folder without heatmaps) are
issued as ``UserWarning``. Errors are exceptions with the command line's messages:
``FileNotFoundError``, :class:`LimitError` (a ``ValueError``: an input over a limit) and
``ValueError``. Arguments are checked before any work, with the command line's ranges (``jobs``
1 to 1024, ``smoothing_k`` 1 to 4096, ``seed`` 0 to 2**32 - 1): a value out of range is a
``ValueError``, one of the wrong type a ``TypeError``, each naming the parameter.

Limits (keyword arguments of the functions that read files, as the command line's
``--max-*`` options): ``max_file_bytes``, ``max_json_values``, ``max_image_side``,
``max_image_pixels``, and the pickle machine's ``max_elements``, ``max_bytes_object``,
``max_depth``, ``max_stack``, ``max_memo``, ``max_containers``, ``max_values``,
``max_value_bytes``.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import _args, _native, mask
from ._native import LimitError

__all__ = [
    "LOCALIZATION_TASKS",
    "LimitError",
    "annotation_to_mask",
    "evaluate",
    "heatmap_to_mask",
    "heatmaps_to_segmentations",
    "load_heatmap",
    "mask",
    "tune_heatmap_threshold",
    "validate_submission",
]

LimitError.__module__ = "chexlocalize"

#: The ten CheXlocalize tasks, in the order the reference scripts write them.
LOCALIZATION_TASKS = (
    "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Lesion", "Airspace Opacity", "Edema",
    "Consolidation", "Atelectasis", "Pneumothorax", "Pleural Effusion", "Support Devices",
)


def _read_csv(path):
    """A CSV file as a pandas DataFrame, or a numpy record array without pandas."""
    try:
        import pandas as pd
    except ImportError:
        pd = None
    if pd is not None:
        return pd.read_csv(path)
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = []
    for i in range(len(header)):
        values = [r[i] if i < len(r) else "" for r in body]
        try:
            cols.append(np.array([float(v) if v != "" else np.nan for v in values]))
        except ValueError:
            cols.append(np.array(values, dtype=object))
    names = [h if h else f"f{i}" for i, h in enumerate(header)]
    return np.rec.fromarrays(cols, names=names) if cols else np.rec.array([])


def _as_path(obj, tmp, name):
    """A path for a path, or a JSON file written into ``tmp`` for a loaded dict (checked by
    :func:`_args.path_or_dict` first)."""
    if isinstance(obj, dict):
        p = Path(tmp) / name
        p.write_text(json.dumps(obj))
        return os.fspath(p)
    return os.fspath(obj)


def _warn(notes):
    """The command line's warnings about the inputs, as ``UserWarning``s of the caller's call."""
    for text in notes:
        warnings.warn(text, UserWarning, stacklevel=3)


def load_heatmap(path, **limits):
    """Read a heatmap file (``.pkl``, ``.pt``, or ``.npy`` with its ``.json`` sidecar) without
    executing anything in it.

    Returns a dict with the pickle's keys: ``map`` (float32 array of the stored shape, usually
    ``1 x 1 x h x w``), ``prob`` (a float, or an array of the 14 CheXpert probabilities),
    ``task``, ``gt``, ``cxr_img`` and ``cxr_dims`` (``(width, height)``).
    """
    return _native.load_heatmap(os.fspath(path), limits or None)


def heatmap_to_mask(heatmap, cxr_dims=None, threshold=None, smoothing_k=None, **limits):
    """The command line's segmentation of one heatmap, as a ``height x width`` bool array.

    ``heatmap`` is a 2-D array (or with leading dimensions of 1, as stored) or a dict from
    :func:`load_heatmap`; ``cxr_dims`` is ``(width, height)`` of the X-ray (taken from the dict
    when not given). ``threshold=None`` uses Otsu's method, after a box filter of size
    ``smoothing_k`` when given; a number keeps the normalised values above it. The GIL is
    released while it works; with ``smoothing_k`` the smoothed image is made in two halves on
    the package's thread pool (``RAYON_NUM_THREADS`` sets its size).
    """
    if isinstance(heatmap, dict):
        if cxr_dims is None:
            cxr_dims = heatmap["cxr_dims"]
        heatmap = heatmap["map"]
    if cxr_dims is None:
        raise ValueError("cxr_dims: expected (width, height) of the X-ray")
    w, h = _args.size_pair("cxr_dims", cxr_dims, "(width, height)", 1)
    smoothing_k = _args.optional_integer("smoothing_k", smoothing_k, _args.SMOOTHING)
    arr = np.asarray(heatmap)
    if hasattr(heatmap, "detach"):  # a torch tensor
        arr = heatmap.detach().cpu().numpy()
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    out = _native.heatmap_to_mask(arr, (w, h), threshold, smoothing_k, limits or None)
    return out.view(np.bool_)  # 0/1 bytes: the same memory as bool


def annotation_to_mask(polygons, img_size, **limits):
    """The mask of radiologist polygons (each a list of ``[x, y]`` points) on an image of
    ``img_size = (height, width)``, filled as the command line's ``annotation-to-segmentation``
    (Pillow's polygon rule): a ``height x width`` bool array."""
    polys = _args.polygons("polygons", polygons)
    h, w = _args.size_pair("img_size", img_size, "(height, width)", 0)
    return _native.annotation_to_mask(polys, (h, w), limits or None).view(np.bool_)


def heatmaps_to_segmentations(map_dir, threshold_path=None, probability_threshold_path=None,
                              smoothing_k=None, jobs=None, **limits):
    """``heatmap-to-segmentation`` of a folder of heatmaps: the segmentation JSON as a dict
    ``{cxr_id: {task: {"size": [h, w], "counts": str}}}``."""
    smoothing_k = _args.optional_integer("smoothing_k", smoothing_k, _args.SMOOTHING)
    jobs = _args.optional_integer("jobs", jobs, _args.JOBS)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "segmentations.json"
        notes = _native.heatmaps_to_segmentations(
            os.fspath(map_dir), os.fspath(out),
            None if threshold_path is None else os.fspath(threshold_path),
            None if probability_threshold_path is None else os.fspath(probability_threshold_path),
            smoothing_k, jobs, limits or None)
        _warn(notes)
        return json.loads(out.read_text())


def evaluate(gt, pred, metric="iou", true_pos_only=True, seed=0, if_human_benchmark=False,
             jobs=None, **limits):
    """``eval.py``: score predictions against the ground truth.

    ``gt`` is a segmentation JSON (path or loaded dict); ``pred`` a segmentation JSON for
    ``metric="iou"``, or a heatmap folder (a salient-points JSON with
    ``if_human_benchmark=True``) for ``metric="hitmiss"``. Returns the three tables the command
    line writes, keyed by file name without extension: ``{metric}_results_per_cxr``,
    ``{metric}_bootstrap_results_per_cxr`` and ``{metric}_summary_results`` (with
    ``{metric}_humanbenchmark_`` as the prefix for the human benchmark), as pandas DataFrames
    with the files' columns, or numpy record arrays without pandas.
    """
    _args.path_or_dict("gt", gt)
    _args.path_or_dict("pred", pred)
    seed = _args.integer("seed", seed, _args.SEED)
    jobs = _args.optional_integer("jobs", jobs, _args.JOBS)
    with tempfile.TemporaryDirectory() as tmp:
        gt_path = _as_path(gt, tmp, "gt.json")
        pred_path = _as_path(pred, tmp, "pred.json")
        save_dir = Path(tmp) / "out"
        written, notes = _native.evaluate(gt_path, pred_path, os.fspath(save_dir), metric,
                                          bool(true_pos_only), seed, bool(if_human_benchmark),
                                          jobs, limits or None)
        _warn(notes)
        return {Path(p).stem: _read_csv(p) for p in written}


def tune_heatmap_threshold(map_dir, gt, thresholds=None, jobs=None, **limits):
    """``tune_heatmap_threshold.py``: the mIoU of each candidate threshold per task, as the
    command line's CSV (a DataFrame; keyed by file name without extension)."""
    _args.path_or_dict("gt", gt)
    if thresholds is not None:
        thresholds = _args.candidates("thresholds", thresholds)
    jobs = _args.optional_integer("jobs", jobs, _args.JOBS)
    with tempfile.TemporaryDirectory() as tmp:
        gt_path = _as_path(gt, tmp, "gt.json")
        save_dir = Path(tmp) / "out"
        written, notes = _native.tune_heatmap_threshold(
            os.fspath(map_dir), gt_path, os.fspath(save_dir),
            thresholds, jobs, limits or None)
        _warn(notes)
        return {Path(p).stem: _read_csv(p) for p in written}


def validate_submission(seg, expected, map_dir=None, images_root=None, jobs=None, **limits):
    """``validate-submission``: the problems of a submission (a segmentation JSON, path or dict,
    and optionally its heatmap folder) against the expected CXRs (a CSV with a ``Path`` column,
    or an annotation or segmentation JSON). Returns the list of problems (each a dict with the
    file, CXR, task, kind and message); empty when the submission can be scored."""
    _args.path_or_dict("seg", seg)
    jobs = _args.optional_integer("jobs", jobs, _args.JOBS)
    with tempfile.TemporaryDirectory() as tmp:
        seg_path = _as_path(seg, tmp, "submission.json")
        report = _native.validate_submission(
            seg_path, os.fspath(expected),
            None if map_dir is None else os.fspath(map_dir),
            None if images_root is None else os.fspath(images_root), jobs, limits or None)
    return json.loads(report)["problems"]
