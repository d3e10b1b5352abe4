"""Heatmaps, annotations and evaluation against the command line (fixtures) and the reference
scripts' outputs (the sample)."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

import chexlocalize
from chexlocalize import mask as m

from conftest import FIXTURES, load_json

pd = pytest.importorskip("pandas")

MAPS = FIXTURES / "gradcam_maps_val"


def decoded(rle):
    return m.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def check_masks_match_segmentation(seg, map_dir, n=None, **kw):
    files = sorted(Path(map_dir).rglob("*_map.pkl"))[:n]
    checked = 0
    for f in files:
        cxr_id, task = f.name.rsplit("_", 2)[0], f.name.rsplit("_", 2)[1]
        if task not in seg.get(cxr_id, {}):
            continue
        rec = chexlocalize.load_heatmap(f)
        ours = chexlocalize.heatmap_to_mask(rec["map"], rec["cxr_dims"], **kw)
        want = decoded(seg[cxr_id][task])
        assert ours.dtype == np.bool_ and ours.shape == want.shape, f
        assert np.array_equal(ours, want), f
        checked += 1
    return checked


def test_load_heatmap_keys_and_types():
    f = next(iter(sorted(MAPS.glob("*_map.pkl"))))
    rec = chexlocalize.load_heatmap(f)
    assert set(rec) >= {"map", "prob", "task", "gt", "cxr_dims", "cxr_img"}
    assert rec["map"].dtype == np.float32 and rec["map"].ndim == 4
    assert isinstance(rec["task"], str) and rec["task"] in f.name
    w, h = rec["cxr_dims"]
    assert w > 0 and h > 0


def test_heatmap_to_mask_otsu_matches_cli(cli, fixture_segs):
    _, pred = fixture_segs
    assert check_masks_match_segmentation(load_json(pred), MAPS) == 600


@pytest.mark.parametrize("kw,args", [
    ({"smoothing_k": 5}, ["--if-smoothing", "True", "--k", "5"]),
])
def test_heatmap_to_mask_smoothing_matches_cli(cli, tmp_path, kw, args):
    out = tmp_path / "s.json"
    cli("heatmap-to-segmentation", "--map-dir", MAPS, "--output-path", out, *args)
    assert check_masks_match_segmentation(load_json(out), MAPS, n=120, **kw) == 120


def test_heatmap_to_mask_fixed_threshold_matches_cli(cli, tmp_path):
    out = tmp_path / "t.json"
    cli("heatmap-to-segmentation", "--map-dir", MAPS, "--threshold-path",
        FIXTURES / "tuning_results.csv", "--output-path", out)
    seg = load_json(out)
    th = pd.read_csv(FIXTURES / "tuning_results.csv")
    checked = 0
    for f in sorted(MAPS.glob("*_map.pkl"))[:100]:
        cxr_id, task = f.name.rsplit("_", 2)[0], f.name.rsplit("_", 2)[1]
        t = th[th.task == task].threshold
        if task not in seg.get(cxr_id, {}) or t.empty or np.isnan(t.iloc[0]):
            continue
        rec = chexlocalize.load_heatmap(f)
        ours = chexlocalize.heatmap_to_mask(rec, threshold=float(t.iloc[0]))
        assert np.array_equal(ours, decoded(seg[cxr_id][task])), f
        checked += 1
    assert checked > 0


def test_heatmaps_to_segmentations_matches_cli(cli, fixture_segs):
    _, pred = fixture_segs
    assert chexlocalize.heatmaps_to_segmentations(MAPS) == load_json(pred)


def test_annotation_to_mask_matches_cli(fixture_segs):
    gt, _ = fixture_segs
    seg = load_json(gt)
    ann = load_json(FIXTURES / "gt_annotations_val.json")
    checked = 0
    for cxr_id, tasks in ann.items():
        size = tasks["img_size"]
        for task, polys in tasks.items():
            if task == "img_size":
                continue
            ours = chexlocalize.annotation_to_mask(polys, size)
            assert np.array_equal(ours, decoded(seg[cxr_id][task])), (cxr_id, task)
            checked += 1
    assert checked > 0


def frames_equal(ours, path):
    want = pd.read_csv(path)
    pd.testing.assert_frame_equal(ours, want, check_exact=True)


@pytest.mark.parametrize("true_pos_only", [True, False])
def test_evaluate_matches_cli(cli, fixture_segs, tmp_path, true_pos_only):
    gt, pred = fixture_segs
    cli("eval", "--metric", "iou", "--gt-path", gt, "--pred-path", pred,
        "--true-pos-only", str(true_pos_only), "--save-dir", tmp_path, "--seed", "3")
    res = chexlocalize.evaluate(gt, pred, true_pos_only=true_pos_only, seed=3)
    assert sorted(res) == ["iou_bootstrap_results_per_cxr", "iou_results_per_cxr", "iou_summary_results"]
    for name, df in res.items():
        frames_equal(df, tmp_path / f"{name}.csv")
    # Loaded dicts give the same tables.
    again = chexlocalize.evaluate(load_json(gt), load_json(pred), true_pos_only=true_pos_only, seed=3)
    for name, df in again.items():
        pd.testing.assert_frame_equal(df, res[name], check_exact=True)


def test_evaluate_hitmiss_matches_cli(cli, fixture_segs, tmp_path):
    gt, _ = fixture_segs
    cli("eval", "--metric", "hitmiss", "--gt-path", gt, "--pred-path", MAPS, "--save-dir", tmp_path)
    res = chexlocalize.evaluate(gt, MAPS, metric="hitmiss")
    assert len(res) == 3
    for name, df in res.items():
        frames_equal(df, tmp_path / f"{name}.csv")


def test_sample_matches_the_reference_scripts(sample):
    ref = sample / "reference"
    seg = chexlocalize.heatmaps_to_segmentations(sample / "gradcam_maps_val")
    assert seg == load_json(ref / "saliency_otsu.json")
    assert check_masks_match_segmentation(seg, sample / "gradcam_maps_val", n=60) > 0
    res = chexlocalize.evaluate(sample / "gt_segmentations_val.json", ref / "saliency_otsu.json", seed=7)
    for name, df in res.items():
        frames_equal(df, ref / "eval_iou_tp_seed7" / f"{name}.csv")


def test_validate_submission(cli, fixture_segs, tmp_path):
    gt, pred = fixture_segs
    expected = FIXTURES / "gt_annotations_val.json"
    assert chexlocalize.validate_submission(gt, expected) == []
    problems = chexlocalize.validate_submission(pred, expected, map_dir=MAPS)
    r = cli("validate-submission", "--seg-path", pred, "--map-dir", MAPS, "--expected", expected,
            "--format", "json", check=False)
    assert problems and problems == json.loads(r.stdout)["problems"]
    seg = load_json(gt)
    first = next(iter(seg))
    del seg[first]
    problems = chexlocalize.validate_submission(seg, expected)
    assert [p["kind"] for p in problems] == ["missing_cxr"] and problems[0]["cxr_id"] == first


def test_errors_match_the_cli(cli, tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError) as e:
        chexlocalize.evaluate(missing, missing)
    r = cli("eval", "--metric", "iou", "--gt-path", missing, "--pred-path", missing,
            "--save-dir", tmp_path, check=False)
    assert r.returncode != 0 and str(e.value) in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1}')
    with pytest.raises(ValueError) as e:
        chexlocalize.evaluate(bad, bad)
    r = cli("eval", "--metric", "iou", "--gt-path", bad, "--pred-path", bad,
            "--save-dir", tmp_path, check=False)
    assert r.returncode != 0 and str(e.value) in r.stderr
    with pytest.raises(ValueError, match="metric"):
        chexlocalize.evaluate(bad, bad, metric="dice")


def test_numpy_record_arrays_without_pandas(fixture_segs, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *a, **k):
        if name == "pandas":
            raise ImportError("no pandas")
        return real(name, *a, **k)

    gt, pred = fixture_segs
    with_pd = chexlocalize.evaluate(gt, pred)
    monkeypatch.setattr(builtins, "__import__", no_pandas)
    res = chexlocalize.evaluate(gt, pred)
    rec = res["iou_summary_results"]
    assert isinstance(rec, np.recarray)
    assert list(rec.dtype.names) == [c if c else f"f{i}" for i, c in enumerate(with_pd["iou_summary_results"].columns)]


@pytest.mark.parametrize("kwargs,ref", [
    ({"threshold_path": "tuning_results.csv"}, "saliency_threshold.json"),
    ({"probability_threshold_path": "probability_tuning_results.csv"}, "saliency_probcut.json"),
    ({"smoothing_k": 5}, "saliency_otsu_smooth_k5.json"),
])
def test_sample_segmentations_match_the_reference(sample, kwargs, ref):
    kw = {k: (sample / v if k.endswith("_path") else v) for k, v in kwargs.items()}
    seg = chexlocalize.heatmaps_to_segmentations(sample / "gradcam_maps_val", **kw)
    assert seg == load_json(sample / "reference" / ref)


@pytest.mark.parametrize("pred,kw,ref", [
    ("reference/hb_segmentations.json", {"if_human_benchmark": True}, "eval_iou_hb_tp"),
    ("reference/saliency_otsu.json", {"true_pos_only": False}, "eval_iou_all"),
    ("gradcam_maps_val", {"metric": "hitmiss"}, "eval_hitmiss"),
])
def test_sample_evaluations_match_the_reference(sample, pred, kw, ref):
    res = chexlocalize.evaluate(sample / "gt_segmentations_val.json", sample / pred, **kw)
    want = sorted(p.stem for p in (sample / "reference" / ref).glob("*.csv"))
    assert sorted(res) == want
    for name, df in res.items():
        frames_equal(df, sample / "reference" / ref / f"{name}.csv")


def test_sample_tuning_matches_the_reference(sample):
    res = chexlocalize.tune_heatmap_threshold(sample / "gradcam_maps_val", sample / "gt_segmentations_val.json")
    ref = sample / "reference" / "tune_heatmap_threshold"
    assert sorted(res) == sorted(p.stem for p in ref.glob("*.csv"))
    for name, df in res.items():
        frames_equal(df, ref / f"{name}.csv")


def test_tuning_and_evaluation_warnings_are_python_warnings(fixture_segs, tmp_path):
    gt, pred = fixture_segs
    with pytest.warns(UserWarning, match=r"^no heatmaps of the ten tasks under "):
        chexlocalize.tune_heatmap_threshold(tmp_path, gt, thresholds=[0.5])
    # A salient point outside its image: the human benchmark's hit rate warns, as the command
    # line does.
    pts = load_json(FIXTURES / "hb_salient_pts_val.json")
    cxr = next(iter(pts))
    task = next(iter(pts[cxr]))
    pts[cxr][task] = [[-1.5, 2.0]]
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(pts))
    with pytest.warns(UserWarning, match=rf"CXR {cxr}, task {task}: salient point .* outside"):
        chexlocalize.evaluate(gt, outside, metric="hitmiss", if_human_benchmark=True, jobs=1)


def test_warnings_about_the_inputs_are_python_warnings(tmp_path):
    (tmp_path / "notes.txt").write_text("not a heatmap")
    with pytest.warns(UserWarning, match=r"^no heatmaps of the ten tasks under ") as record:
        assert chexlocalize.heatmaps_to_segmentations(tmp_path) == {}
    assert str(tmp_path) in str(record[0].message)
    # A folder with heatmaps warns about nothing (the closing "saved to" line is not a warning).
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chexlocalize.heatmaps_to_segmentations(FIXTURES / "gradcam_maps_val")
