"""Run the documentation's code at its own settings and count ConvergenceWarnings.

Usage: python benchmarks/check_doc_warnings.py [--pages README.md getting-started.md ...]

The test suite runs every ```python block of the guide pages with few draws
(tests/test_docs.py) and silences the warnings that few draws cause. This
script runs README.md's snippet and the same pages as written (the default
1000 warm-up iterations and 1000 draws on 2 chains), each page in its own
namespace and a temporary folder, and prints one JSON row per page: the
number of fits, the ConvergenceWarnings raised (with their text) and the
wall seconds. The docs' examples should raise none.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from skmmm import BayesianMMMRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGES = (
    "README.md",
    "docs/getting-started.md",
    "docs/user-guide.md",
    "docs/coming-from-lightweightmmm.md",
)
FENCE = re.compile(r"^```(\w[\w-]*)?[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def run_page(page: str) -> dict:
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = [m.group(2) for m in FENCE.finditer(text) if m.group(1) == "python"]
    fits = []
    original_fit = BayesianMMMRegressor.fit

    def counting_fit(self, X, y, *args, **kwargs):
        fits.append(type(self).__name__)
        return original_fit(self, X, y, *args, **kwargs)

    BayesianMMMRegressor.fit = counting_fit
    namespace: dict = {"__name__": "__docs__"}
    start = time.perf_counter()
    cwd = os.getcwd()
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            warnings.catch_warnings(record=True) as caught,
        ):
            os.chdir(folder)
            warnings.simplefilter("always", ConvergenceWarning)
            for code in blocks:
                exec(compile(code, page, "exec"), namespace)
    finally:
        os.chdir(cwd)
        BayesianMMMRegressor.fit = original_fit
        plt.close("all")
    messages = [
        str(w.message)[:300]
        for w in caught
        if issubclass(w.category, ConvergenceWarning)
    ]
    return {
        "page": page,
        "fits": len(fits),
        "convergence_warnings": len(messages),
        "messages": messages,
        "wall_s": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", nargs="+", default=list(PAGES))
    args = parser.parse_args()
    for page in args.pages:
        print(json.dumps(run_page(page)), flush=True)


if __name__ == "__main__":
    main()
