"""chexlocalize.mask against pycocotools.mask: every function, byte for byte."""

import numpy as np
import pytest

import chexlocalize.mask as m

pm = pytest.importorskip("pycocotools.mask")

SHAPES = [(1, 1), (1, 7), (7, 1), (2, 3), (5, 5), (17, 31), (64, 48), (101, 99), (320, 320)]


def random_masks(rng, h, w, n):
    """Masks of varied kinds: empty, full, noise, blobs, single pixels, corners."""
    out = np.zeros((h, w, n), dtype=np.uint8, order="F")
    for i in range(n):
        kind = i % 6
        if kind == 1:
            out[:, :, i] = 1
        elif kind == 2:
            out[:, :, i] = rng.random((h, w)) < rng.random()
        elif kind == 3:
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            out[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1), i] = 1
        elif kind == 4:
            out[rng.integers(0, h), rng.integers(0, w), i] = 1
        elif kind == 5:
            out[0, 0, i] = 1
            out[h - 1, w - 1, i] = 1
    return np.asfortranarray(out)


@pytest.fixture(params=SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def masks(request):
    h, w = request.param
    rng = np.random.default_rng(h * 1000 + w)
    return random_masks(rng, h, w, 12)


def test_encode_many_and_one(masks):
    ours, theirs = m.encode(masks), pm.encode(masks)
    assert ours == theirs
    assert all(isinstance(r["counts"], bytes) for r in ours)
    for i in range(masks.shape[2]):
        one = np.asfortranarray(masks[:, :, i])
        assert m.encode(one) == pm.encode(one)


def test_encode_c_order_input_gives_the_same(masks):
    assert m.encode(np.ascontiguousarray(masks)) == pm.encode(masks)


def test_decode(masks):
    rles = pm.encode(masks)
    ours, theirs = m.decode(rles), pm.decode(rles)
    assert ours.dtype == theirs.dtype == np.uint8
    assert ours.shape == theirs.shape
    assert ours.flags["F_CONTIGUOUS"]
    assert np.array_equal(ours, theirs)
    one = m.decode(rles[0])
    assert one.shape == pm.decode(rles[0]).shape
    assert np.array_equal(one, pm.decode(rles[0]))
    # str counts decode too (as pycocotools accepts them).
    as_str = [{"size": r["size"], "counts": r["counts"].decode()} for r in rles]
    assert np.array_equal(m.decode(as_str), theirs)


def test_area_and_bbox(masks):
    rles = pm.encode(masks)
    a, b = m.area(rles), pm.area(rles)
    assert a.dtype == b.dtype and np.array_equal(a, b)
    assert m.area(rles[3]) == pm.area(rles[3])
    x, y = m.toBbox(rles), pm.toBbox(rles)
    assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)
    for r in rles:
        x, y = m.toBbox(r), pm.toBbox(r)
        assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y)


@pytest.mark.parametrize("crowd", [0, 1])
def test_iou_rle(masks, crowd):
    rles = pm.encode(masks)
    dt, gt = rles[: len(rles) // 2 + 1], rles[len(rles) // 2 - 1 :]
    iscrowd = [crowd ^ (i % 2) for i in range(len(gt))]
    ours, theirs = m.iou(dt, gt, iscrowd), pm.iou(dt, gt, iscrowd)
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_iou_boxes():
    rng = np.random.default_rng(5)
    dt = rng.random((9, 4)) * 50
    gt = rng.random((7, 4)) * 50
    gt[0] = dt[0]
    crowd = [0, 1, 0, 1, 0, 0, 1]
    assert np.array_equal(m.iou(dt, gt, crowd), pm.iou(dt, gt, crowd))
    assert np.array_equal(m.iou(dt.tolist(), gt.tolist(), crowd), pm.iou(dt.tolist(), gt.tolist(), crowd))


def test_iou_empty_and_errors():
    r = pm.encode(np.ones((3, 3, 1), dtype=np.uint8, order="F"))
    assert m.iou([], r, [0]) == pm.iou([], r, [0]) == []
    with pytest.raises(ValueError, match="iscrowd"):
        m.iou(r, r, [0, 1])
    with pytest.raises(ValueError):
        m.iou(r, pm.encode(np.ones((4, 3, 1), dtype=np.uint8, order="F")), [0])


@pytest.mark.parametrize("intersect", [0, 1])
def test_merge(masks, intersect):
    rles = pm.encode(masks)
    for k in (1, 2, 5, len(rles)):
        assert m.merge(rles[:k], intersect) == pm.merge(rles[:k], intersect)


def test_merge_mismatched_sizes_like_pycocotools():
    a = pm.encode(np.ones((3, 3, 1), dtype=np.uint8, order="F"))
    b = pm.encode(np.ones((4, 3, 1), dtype=np.uint8, order="F"))
    assert m.merge(a + b) == pm.merge(a + b)


def test_fr_py_objects_polygons_and_boxes():
    rng = np.random.default_rng(11)
    agree = 0
    for h, w in [(1, 1), (5, 7), (40, 30), (123, 77)]:
        polys = [list(rng.random(2 * k) * (max(h, w) + 4) - 2) for k in (3, 4, 5, 8, 20)]
        polys.append([0.5, 0.5, w - 0.5, 0.5, w - 0.5, h - 0.5])  # an exact corner triangle
        polys.append([1.0, 1.0, 1.0, 1.0, 3.0, 3.0])  # repeated points
        assert m.frPyObjects(polys, h, w) == pm.frPyObjects(polys, h, w)
        boxes = rng.random((6, 4)) * max(h, w)
        assert m.frPyObjects(boxes, h, w) == pm.frPyObjects(boxes, h, w)
        # pycocotools refuses a list of boxes (its frBbox wants an ndarray); we take both.
        assert m.frPyObjects(boxes.tolist(), h, w) == pm.frPyObjects(boxes, h, w)
        agree += len(polys) + 2 * len(boxes)
    assert agree == 4 * (7 + 12)


def test_fr_py_objects_polygons_on_grid_points():
    # Vertices on the 0.1 and 0.5 grids, partly outside the image, hit the boundary cases of
    # pycocotools' floor/ceil tests (done with integers here) and its clamping.
    rng = np.random.default_rng(12)
    for h, w in [(1, 3), (9, 4), (37, 61)]:
        for step in (0.1, 0.5, 0.2):
            polys = [list(np.round(rng.uniform(-3, max(h, w) + 3, 2 * k) / step) * step)
                     for k in (3, 4, 7, 12) for _ in range(10)]
            assert m.frPyObjects(polys, h, w) == pm.frPyObjects(polys, h, w)


def test_fr_py_objects_uncompressed():
    mask = np.asfortranarray(np.eye(4, 6, dtype=np.uint8))
    runs, flat, prev, c = [], mask.ravel(order="F"), 0, 0
    for v in flat:
        if v != prev:
            runs.append(c)
            c, prev = 0, v
        c += 1
    runs.append(c)
    obj = {"size": [4, 6], "counts": runs}
    assert m.frPyObjects(obj, 4, 6) == pm.frPyObjects(obj, 4, 6)
    assert m.frPyObjects([obj, obj], 4, 6) == pm.frPyObjects([obj, obj], 4, 6)


def test_bad_rles_raise_value_error():
    for bad in [{"size": [2, 2]}, {"counts": b"4"}, {"size": [2, 2], "counts": b"5"},
                {"size": [2, 2], "counts": b"\xff"}, {"size": "x", "counts": b"4"}]:
        with pytest.raises(ValueError):
            m.decode(bad)
    with pytest.raises(ValueError):
        m.encode(np.zeros((2, 2), dtype=np.float32))


def test_random_agreement_count():
    """Many random masks at once: every RLE and every derived value agrees."""
    rng = np.random.default_rng(2024)
    total = 0
    for _ in range(20):
        h, w = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        ms = random_masks(rng, h, w, 30)
        ours, theirs = m.encode(ms), pm.encode(ms)
        assert ours == theirs
        assert np.array_equal(m.decode(ours), pm.decode(theirs))
        assert np.array_equal(m.area(ours), pm.area(theirs))
        assert np.array_equal(m.toBbox(ours), pm.toBbox(theirs))
        assert np.array_equal(m.iou(ours, theirs, [0] * 30), pm.iou(theirs, theirs, [0] * 30))
        total += len(ours)
    assert total == 600


def test_encode_bytes_other_than_0_and_1_like_pycocotools():
    rng = np.random.default_rng(3)
    ms = np.asfortranarray(rng.choice(np.array([0, 1, 2, 255], dtype=np.uint8), size=(37, 45, 4)))
    ms[:, :20, 0] = 7  # a long run of a non-0/1 value, skipped in blocks
    assert m.encode(ms) == pm.encode(ms)
