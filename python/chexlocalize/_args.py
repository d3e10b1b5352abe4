"""Checks of the scalar arguments of the ``chexlocalize`` functions, before any work.

Each error names the Python parameter and what was expected, in the command line's words for
the same option (``--jobs``, ``--k``, ``--seed``, ``--grid``), so that a wrong value never
surfaces as a bare ``OverflowError`` or an unpacking error. A value of the wrong type is a
``TypeError``; one of the right type out of range a ``ValueError``.
"""

from __future__ import annotations

import itertools
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
#: The largest image side any input may have (``--max-image-side`` goes at most this far: the
#: RLE masks' 32-bit run lengths and Pillow's coordinates).
SIDE = 2**31 - 1


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
    """Two integers from ``least`` to :data:`SIDE` (``order`` names them, e.g.
    ``"(width, height)"``); the limits (``max_image_side``, ``max_image_pixels``) are checked
    later, as for the command line."""
    try:
        a, b = value
    except (TypeError, ValueError):
        a = b = None
    pair = (_whole(a), _whole(b))
    if any(v is None or not least <= v <= SIDE for v in pair):
        raise ValueError(
            f"{name}: expected {order}, two integers from {least} to {SIDE}, found {value!r}"
        )
    return pair


def _items(name, value, what):
    """The items of ``value``, or a ``TypeError`` saying that ``what`` was expected."""
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"{name}: expected {what}, found {type(value).__name__}")
    try:
        return list(value)
    except TypeError:
        raise TypeError(f"{name}: expected {what}, found {type(value).__name__}") from None


def polygons(name, value):
    """Polygons as lists of ``[x, y]`` float pairs."""
    out = []
    what = "a list of polygons, each a list of [x, y] points"
    for i, polygon in enumerate(_items(name, value, what)):
        points = []
        where = f"{name}: polygon {i}"
        for j, point in enumerate(_items(where, polygon, "a list of [x, y] points")):
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
    """Candidate thresholds: 1 to 1000 finite numbers. An iterator is read no further than one
    past the most (an endless generator is refused, not listed)."""
    what = f"a sequence of 1 to {CANDIDATES} finite numbers"
    if not isinstance(value, (str, bytes, dict)) and not hasattr(value, "__len__"):
        try:
            items = list(itertools.islice(value, CANDIDATES + 1))
        except TypeError:
            raise TypeError(f"{name}: expected {what}, found {type(value).__name__}") from None
        if len(items) > CANDIDATES:
            raise ValueError(
                f"{name}: expected 1 to {CANDIDATES} finite numbers, found more than {CANDIDATES}"
            )
        value = items
    out = []
    for t in _items(name, value, what):
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
