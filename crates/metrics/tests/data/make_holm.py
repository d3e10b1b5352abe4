"""Expected Holm-adjusted p-values for crates/metrics/tests/holm.rs, from statsmodels.

Run with the reference venv (`../shared/tools/python-reference.sh` builds it):
    $CHEXLOCALIZE_PY/bin/python make_holm.py > holm_statsmodels.json
Made with Python 3.11.7, numpy 2.4.6, statsmodels 0.15.0 (recorded in the output).
"""
import json
import sys

import numpy as np
import statsmodels
from statsmodels.stats.multitest import multipletests

rng = np.random.RandomState(7)
families = [
    [0.01, 0.04, 0.03, 0.005],
    [0.5, 0.2, 0.9],
    [0.001, 0.001, 0.2, 0.04, 0.3],
    [0.02],
    [1.0, 1.0],
    [0.0019980019980019984, 0.6833166833166833, 1.0],
]
families += [list(rng.uniform(0, 0.2, size=n)) for n in (6, 15, 45)]
cases = []
for p in families:
    _, adjusted, _, _ = multipletests(p, method="holm")
    cases.append({"p": [float(x) for x in p], "holm": [float(x) for x in adjusted]})
json.dump(
    {
        "made_with": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "statsmodels": statsmodels.__version__,
        },
        "cases": cases,
    },
    sys.stdout,
    indent=1,
)
print()
