"""Checks of the scalar arguments of the ``chexlocalize`` functions, before any work.

Each error names the Python parameter and what was expected, in the command line's words for
the same option (``--jobs``, ``--k``, ``--seed``, ``--grid``), so that a wrong value never
surfaces as a bare ``OverflowError`` or an unpacking error. A value of the wrong type is a
``TypeError``; one of the right type out of range a ``ValueError``.
"""

from __future__ import annotations

import math
import numbers
import os

#: ``--jobs``: worker threads.
JOBS = (1, 1024, "a number of worker threads")
#: ``--k``: the box filter's size.
SMOOTHING = (1, 4096, "a box filter size")
#: ``--seed``: numpy's legacy seed range.
SEED = (0, 2**32 - 1, "a seed (numpy's legacy range)")
#: ``--grid``: how many candidate thresholds.
CANDIDATES = 1000


def integer(name, value, bounds):
    """``value`` as an ``int`` within ``bounds = (lo, hi, what)``."""
    lo, hi, what = bounds
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected {what} from {lo} to {hi}, found {value!r}")
    v = int(value)
    if not lo <= v <= hi:
        raise ValueError(f"{name}: expected {what} from {lo} to {hi}, found {v}")
    return v


def optional_integer(name, value, bounds):
    """``None``, or :func:`integer`."""
    return None if value is None else integer(name, value, bounds)


def _whole(value):
    """``value`` as an ``int`` when it is an integer (or a float with no fraction), else
    ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(value)
    return None


def size_pair(name, value, order, least):
    """Two integers ``>= least`` (``order`` names them, e.g. ``"(width, height)"``)."""
    try:
        a, b = value
    except (TypeError, ValueError):
        a = b = None
    pair = (_whole(a), _whole(b))
    if any(v is None or v < least for v in pair):
        kind = "positive" if least == 1 else "non-negative"
        raise ValueError(f"{name}: expected {order}, two {kind} integers, found {value!r}")
    return pair


def polygons(name, value):
    """Polygons as lists of ``[x, y]`` float pairs."""
    out = []
    for i, polygon in enumerate(value):
        points = []
        for j, point in enumerate(polygon):
            try:
                x, y = point
                points.append([float(x), float(y)])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{name}: polygon {i}, point {j}: expected [x, y], two numbers, "
                    f"found {point!r}"
                ) from None
        out.append(points)
    return out


def candidates(name, value):
    """Candidate thresholds: 1 to 1000 finite numbers."""
    out = []
    for t in value:
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise ValueError(
                f"{name}: expected 1 to {CANDIDATES} finite numbers, found {t!r} among them"
            )
        out.append(float(t))
    if not 1 <= len(out) <= CANDIDATES:
        raise ValueError(f"{name}: expected 1 to {CANDIDATES} finite numbers, found {len(out)}")
    return out


def path_or_dict(name, value):
    """Checks that ``value`` is a path or a loaded JSON dict."""
    if not isinstance(value, (str, os.PathLike, dict)):
        raise TypeError(f"{name}: expected a path or a dict, found {type(value).__name__}")
