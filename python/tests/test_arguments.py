"""Wrong arguments raise before any work, naming the parameter and what was expected in the
command line's words (`--jobs`, `--k`, `--seed`): never a bare OverflowError or an unpacking
error. The expected messages are the command line's (see `test_jobs_wording_is_the_cli_s`)."""

import numpy as np
import pytest

import chexlocalize

from conftest import FIXTURES

MAPS = FIXTURES / "gradcam_maps_val"
# Never read: the checks come before any file is opened (else FileNotFoundError).
GT = FIXTURES / "never-read.json"
MAP = np.arange(12, dtype=np.float32).reshape(3, 4)
TRIANGLE = [[[1, 1], [10, 1], [10, 10]]]


@pytest.mark.parametrize("dims", [("a", 30), (40, 30, 2), 40, (40.5, 30), (-4, 30), (0, 30),
                                  (2**70, 30), (40, 2**31)])
def test_cxr_dims_must_be_two_positive_integers(dims):
    with pytest.raises(ValueError, match=r"^cxr_dims: expected \(width, height\), two integers "
                                         r"from 1 to 2147483647, found"):
        chexlocalize.heatmap_to_mask(MAP, dims)


def test_cxr_dims_may_not_be_missing():
    with pytest.raises(ValueError, match=r"^cxr_dims: expected \(width, height\) of the X-ray$"):
        chexlocalize.heatmap_to_mask(MAP)


@pytest.mark.parametrize("dims", [(40, 30), (40.0, 30), np.array([40, 30]), (np.int32(40), 30)])
def test_cxr_dims_accepts_integers_of_any_kind(dims):
    assert chexlocalize.heatmap_to_mask(MAP, dims).shape == (30, 40)


@pytest.mark.parametrize("k,error", [(0, ValueError), (-1, ValueError), (4097, ValueError),
                                     (2.5, TypeError), ("5", TypeError), (True, TypeError)])
def test_smoothing_k_is_a_box_filter_size(k, error):
    message = r"^smoothing_k: expected a box filter size from 1 to 4096, found"
    with pytest.raises(error, match=message):
        chexlocalize.heatmap_to_mask(MAP, (40, 30), smoothing_k=k)
    with pytest.raises(error, match=message):
        chexlocalize.heatmaps_to_segmentations(MAPS, smoothing_k=k)


def test_smoothing_k_of_numpy_integers():
    k = np.int64(3)
    assert (chexlocalize.heatmap_to_mask(MAP, (40, 30), smoothing_k=k)
            == chexlocalize.heatmap_to_mask(MAP, (40, 30), smoothing_k=3)).all()


@pytest.mark.parametrize("jobs", [0, -1, 1025])
def test_jobs_is_a_number_of_threads(jobs):
    message = rf"^jobs: expected a number of worker threads from 1 to 1024, found {jobs}$"
    with pytest.raises(ValueError, match=message):
        chexlocalize.heatmaps_to_segmentations(MAPS, jobs=jobs)
    with pytest.raises(ValueError, match=message):
        chexlocalize.evaluate(GT, GT, jobs=jobs)
    with pytest.raises(ValueError, match=message):
        chexlocalize.tune_heatmap_threshold(MAPS, GT, thresholds=[0.5], jobs=jobs)
    with pytest.raises(ValueError, match=message):
        chexlocalize.validate_submission(GT, GT, jobs=jobs)


def test_jobs_wording_is_the_cli_s(cli, tmp_path):
    with pytest.raises(ValueError) as e:
        chexlocalize.evaluate(GT, GT, jobs=0)
    r = cli("eval", "--gt-path", GT, "--pred-path", GT, "--save-dir", tmp_path, "--jobs", "0",
            check=False)
    # The same words up to the value, which the command line quotes ("0").
    words = str(e.value).removeprefix("jobs: ").removesuffix(" 0")
    assert words.endswith(", found") and r.returncode != 0
    assert f'{words} "0"' in r.stderr


@pytest.mark.parametrize("seed,error", [(-1, ValueError), (2**32, ValueError), ("x", TypeError),
                                        (1.0, TypeError)])
def test_seed_is_in_numpy_s_legacy_range(seed, error):
    with pytest.raises(error, match=r"^seed: expected a seed \(numpy's legacy range\) from 0 to "
                                    r"4294967295, found"):
        chexlocalize.evaluate(GT, GT, seed=seed)


def test_the_largest_seed_is_accepted(fixture_segs):
    gt, pred = fixture_segs
    tables = chexlocalize.evaluate(gt, pred, seed=np.uint32(2**32 - 1), jobs=1)
    assert "iou_summary_results" in tables


@pytest.mark.parametrize("name,call", [
    ("gt", lambda v: chexlocalize.evaluate(v, GT)),
    ("pred", lambda v: chexlocalize.evaluate(GT, v)),
    ("gt", lambda v: chexlocalize.tune_heatmap_threshold(MAPS, v)),
    ("seg", lambda v: chexlocalize.validate_submission(v, GT)),
])
def test_inputs_are_paths_or_dicts(name, call):
    with pytest.raises(TypeError, match=rf"^{name}: expected a path or a dict, found int$"):
        call(3)


@pytest.mark.parametrize("thresholds,found", [([], "0"), (["a"], "'a' among them"),
                                              ([0.1, float("nan")], "nan among them"),
                                              ([0.5] * 1001, "1001")])
def test_thresholds_are_1_to_1000_finite_numbers(thresholds, found):
    with pytest.raises(ValueError, match=rf"^thresholds: expected 1 to 1000 finite numbers, "
                                         rf"found {found}$"):
        chexlocalize.tune_heatmap_threshold(MAPS, GT, thresholds=thresholds)


@pytest.mark.parametrize("size", [(-20, 20), ("a", 20), (20,), 20, (2**70, 20)])
def test_img_size_is_two_non_negative_integers(size):
    with pytest.raises(ValueError, match=r"^img_size: expected \(height, width\), two "
                                         r"integers from 0 to 2147483647, found"):
        chexlocalize.annotation_to_mask(TRIANGLE, size)


@pytest.mark.parametrize("polygons,where", [(5, "polygons"), (None, "polygons"),
                                            ("ab", "polygons"), ([5], "polygons: polygon 0")])
def test_polygons_are_lists(polygons, where):
    with pytest.raises(TypeError, match=rf"^{where}: expected a list of"):
        chexlocalize.annotation_to_mask(polygons, (20, 20))


@pytest.mark.parametrize("thresholds", [0.5, "0.5"])
def test_thresholds_are_a_sequence(thresholds):
    with pytest.raises(TypeError, match=r"^thresholds: expected a sequence of 1 to 1000 finite "
                                        r"numbers, found"):
        chexlocalize.tune_heatmap_threshold(MAPS, GT, thresholds=thresholds)


@pytest.mark.parametrize("point", [[1, 1, 1], ["a", 1], 5])
def test_polygon_points_are_pairs_of_numbers(point):
    with pytest.raises(ValueError, match=r"^polygons: polygon 0, point 1: expected \[x, y\], "
                                         r"two numbers"):
        chexlocalize.annotation_to_mask([[[1, 1], point, [10, 10]]], (20, 20))


def test_an_endless_generator_of_thresholds_is_refused_not_listed():
    import itertools

    with pytest.raises(ValueError, match=r"^thresholds: expected 1 to 1000 finite numbers, "
                                         r"found more than 1000$"):
        chexlocalize.tune_heatmap_threshold(MAPS, GT, thresholds=itertools.count())
    tables = (x / 10 for x in range(1, 3))  # a short generator is fine
    with pytest.raises(FileNotFoundError):  # (then the missing ground truth is reported)
        chexlocalize.tune_heatmap_threshold(MAPS, GT, thresholds=tables)
