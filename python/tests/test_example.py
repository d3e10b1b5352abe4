"""The quickstart example runs and prints the evaluation's summary table."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_quickstart_example_runs():
    script = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
    r = subprocess.run([sys.executable, str(script), str(REPO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "iou_summary_results" in r.stdout
    assert "Support Devices" in r.stdout
