"""Shared fixtures: the repository's fixtures, the sample (when present), the CLI binary."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def _sample():
    env = os.environ.get("CHEXLOCALIZE_SAMPLE")
    p = Path(env) if env else REPO.parent / "shared" / "chexlocalize-sample"
    return p if (p / "gradcam_maps_val").is_dir() else None


SAMPLE = _sample()


def _cli():
    env = os.environ.get("CHEXLOCALIZE_BIN")
    if env:
        return Path(env)
    for profile in ("debug", "release"):
        p = REPO / "target" / profile / "chexlocalize"
        if p.is_file():
            return p
    found = shutil.which("chexlocalize")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def cli():
    """Runs the command line: cli(*args) -> CompletedProcess (text)."""
    exe = _cli()
    if exe is None or not exe.is_file():
        pytest.skip("the chexlocalize binary is not built (cargo build -p chexlocalize-cli, or set CHEXLOCALIZE_BIN)")

    def run(*args, check=True):
        r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"chexlocalize {' '.join(map(str, args))} failed: {r.stderr}")
        return r

    return run


@pytest.fixture(scope="session")
def sample():
    if SAMPLE is None:
        pytest.skip("the sample (../shared/chexlocalize-sample or CHEXLOCALIZE_SAMPLE) is absent")
    return SAMPLE


@pytest.fixture(scope="session")
def fixture_segs(cli, tmp_path_factory):
    """The fixtures' ground truth and Otsu predictions, made by the command line."""
    d = tmp_path_factory.mktemp("fixture_segs")
    gt, pred = d / "gt.json", d / "pred.json"
    cli("annotation-to-segmentation", "--ann-path", FIXTURES / "gt_annotations_val.json", "--output-path", gt)
    cli("heatmap-to-segmentation", "--map-dir", FIXTURES / "gradcam_maps_val", "--output-path", pred)
    return gt, pred


def load_json(p):
    return json.loads(Path(p).read_text())
