"""Hostile heatmap files raise (never run code, never crash the interpreter); limits apply;
the GIL is released while the pipeline works."""

import os
import pickle
import threading
import time

import numpy as np
import pytest

import chexlocalize

from conftest import FIXTURES

MAPS = FIXTURES / "gradcam_maps_val"


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    f = tmp_path / "x_Edema_map.pkl"
    f.write_bytes(pickle.dumps({"map": RunsCode(marker), "prob": 0.5}))
    with pytest.raises(ValueError) as e:
        chexlocalize.load_heatmap(f)
    assert str(f) in str(e.value)
    assert not marker.exists()


def test_deep_nesting_is_a_limit_error(tmp_path):
    # 500 empty lists, each appended into the one below it: nesting depth 500.
    f = tmp_path / "deep_Edema_map.pkl"
    f.write_bytes(b"\x80\x02" + b"]" * 500 + b"a" * 499 + b".")
    with pytest.raises(chexlocalize.LimitError) as e:
        chexlocalize.load_heatmap(f)
    assert isinstance(e.value, ValueError)
    assert "limit" in str(e.value)


@pytest.mark.parametrize("data", [b"", b"\x80\x02", b"garbage", b"\x80\x02}q\x00(X\x03\x00\x00\x00map", bytes(range(256))])
def test_truncated_or_garbage_pickles_raise(tmp_path, data):
    f = tmp_path / "g_Edema_map.pkl"
    f.write_bytes(data)
    with pytest.raises(ValueError):
        chexlocalize.load_heatmap(f)


def test_limits_are_keyword_arguments():
    f = sorted(MAPS.glob("*_map.pkl"))[0]
    with pytest.raises(chexlocalize.LimitError):
        chexlocalize.load_heatmap(f, max_file_bytes=100)
    with pytest.raises(chexlocalize.LimitError):
        chexlocalize.load_heatmap(f, max_elements=10)
    with pytest.raises(TypeError, match="unknown limit"):
        chexlocalize.load_heatmap(f, max_nonsense=1)
    rec = chexlocalize.load_heatmap(f)
    with pytest.raises(chexlocalize.LimitError):
        chexlocalize.heatmap_to_mask(rec, max_image_side=10)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        chexlocalize.load_heatmap(tmp_path / "none_Edema_map.pkl")


def test_bad_heatmap_arrays_raise():
    with pytest.raises(ValueError):
        chexlocalize.heatmap_to_mask(np.zeros((2, 3, 4), np.float32), (10, 10))
    with pytest.raises(ValueError):
        chexlocalize.heatmap_to_mask(np.zeros((0, 3), np.float32), (10, 10))
    with pytest.raises(ValueError):
        chexlocalize.heatmap_to_mask(np.zeros((3, 3), np.float32), (0, 10))
    with pytest.raises(ValueError):
        chexlocalize.heatmap_to_mask(np.zeros((3, 3), np.float32), (10, 10), smoothing_k=0)
    with pytest.raises(ValueError):
        chexlocalize.annotation_to_mask([[[1, 1]]], (10, 10))


def test_hostile_corpus_raises(tmp_path):
    """Every file of the hostile corpus (cargo xtask hostile) raises, none crashes."""
    corpus = os.environ.get("CHEXLOCALIZE_HOSTILE")
    if not corpus:
        pytest.skip("CHEXLOCALIZE_HOSTILE (a folder from cargo xtask hostile --out) is not set")
    files = [p for p in sorted(__import__("pathlib").Path(corpus).rglob("*")) if p.suffix in (".pkl", ".pt", ".npy")]
    assert files
    for f in files:
        try:
            chexlocalize.load_heatmap(f)
        except (ValueError, FileNotFoundError, OSError):
            pass


def test_the_gil_is_released_while_the_pipeline_works():
    """A Python thread keeps running while a long call works in another thread."""
    done = threading.Event()
    result = {}

    def work():
        t0 = time.perf_counter()
        result["segs"] = chexlocalize.heatmaps_to_segmentations(MAPS, jobs=1)
        result["native"] = time.perf_counter() - t0
        done.set()

    ticks = []
    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    assert len(result["segs"]) > 0
    assert result["native"] > 0.05, "the call was too short to tell"
    gaps = np.diff(ticks) if len(ticks) > 1 else np.array([result["native"]])
    # With the GIL held, the main thread would stall for the whole call.
    assert gaps.max() < 0.5 * result["native"], (gaps.max(), result["native"])
    assert len(ticks) > 10


def test_a_npy_heatmap_without_its_sidecar_names_both_files(tmp_path):
    f = tmp_path / "p1_study1_view1_frontal_Edema_map.npy"
    np.save(f, np.zeros((4, 4), np.float32))
    with pytest.raises(FileNotFoundError) as e:
        chexlocalize.load_heatmap(f)
    text = str(e.value)
    assert text.startswith(f"{f}: cannot read its sidecar {f.with_suffix('.json')}"), text
    assert '"cxr_dims": [width, height]' in text
