"""``inference="laplace"`` against NUTS: wall time, ROI medians, intervals, coverage.

Usage: python benchmarks/bench_inference.py [--scenarios 0 4 9 16 21 25] [--no-geo]
[--draws 1000]

Cases: the bundled example data (``skmmm.load_example()``), the shared
reference data (LightweightMMM's dummy data, 150 training weeks, when
``../shared/bench`` is there), the chosen scenarios of
``benchmarks/bench_variety.py`` (the same data and seeds) and, unless
``--no-geo``, a small simulated geo panel (104 weeks, 3 channels, 5 geos).
Each case is fitted with every default, by NUTS and by the Laplace
approximation, twice each, in a new Python process per case and method
(imports excluded from the times): a cold fit (the process's first, with
JAX's persistent compilation cache off, so it starts JAX and compiles
everything) and a warm fit (the same data, another seed: compiled programs
reused). Per case it prints one JSON row:

- ``nuts_cold_s``, ``nuts_warm_s``, ``laplace_cold_s``, ``laplace_warm_s``:
  wall seconds of ``fit``; ``speedup_cold`` and ``speedup_warm``, NUTS's
  over Laplace's;
- ``roi_gap_sd``: per channel, (Laplace's ROI median - NUTS's ROI median) /
  NUTS's ROI posterior sd, from the cold fits (``attribution.roi`` draws);
  ``max_abs_roi_gap_sd`` the largest over channels;
- ``width_ratio``: per channel, Laplace's 90% ROI interval width over NUTS's;
- ``coverage_nuts``, ``coverage_laplace``: the share of true ROIs inside the
  90% intervals (simulated cases: bench_variety's scenarios, the example
  data, the geo panel);
- the verdicts (``nuts_status``, ``laplace_status``).

A summary follows: cases, median speed-ups, the share of cases whose every
channel is within 0.5 NUTS sd, the share of all channels within 0.5 sd,
pooled coverage of each method.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import skmmm  # noqa: E402
from skmmm import BayesianMMMRegressor, attribution  # noqa: E402
from skmmm.datasets import simulate_mmm_data  # noqa: E402

GAP_TARGET = 0.5


def _sig(value: float, digits: int = 3) -> float:
    return float(f"{float(value):.{digits}g}")


def _cases(args) -> list[dict]:
    """Every case: name, estimator parameters, X, y, true ROIs (or None)."""
    import bench_variety

    example = skmmm.load_example()
    cases = [
        {
            "name": "example",
            "params": {"media_columns": list(example.media_columns)},
            "X": example.X,
            "y": example.y,
            "truth": example.true_roi,
            "seed": 0,
        }
    ]
    try:
        from _reference import load_reference

        X, y, _, _, costs = load_reference()
        cases.append(
            {
                "name": "reference",
                "params": {
                    "media_columns": [c for c in X.columns if c.startswith("media")],
                    "media_prior": costs.to_numpy(),
                },
                "X": X,
                "y": y,
                "truth": None,
                "seed": 0,
            }
        )
    except FileNotFoundError:
        print("# reference data not found; skipped", flush=True)
    for index in args.scenarios:
        spec = bench_variety.SCENARIOS[index]
        seed = 1000 + index
        data = bench_variety.make_data(spec, seed)
        params = {"model": data["fit_model"], "media_columns": data["media"]}
        if spec.daily:
            params["seasonality_frequency"] = 52
        cases.append(
            {
                "name": f"variety {index}: {bench_variety.describe(spec)}",
                "params": params,
                "X": data["X"],
                "y": data["y"],
                "truth": data["true_roi"],
                "seed": seed,
            }
        )
    if not args.no_geo:
        geo = simulate_mmm_data(
            n_periods=104, n_channels=3, n_geos=5, n_controls=1, seed=7
        )
        cases.append(
            {
                "name": "geo 104 weeks x 3 channels x 5 geos",
                "params": {
                    "media_columns": list(geo.media_columns),
                    "date_column": "date",
                    "geo_column": "geo",
                },
                "X": geo.X,
                "y": geo.y,
                "truth": geo.true_roi,
                "seed": 7,
            }
        )
    return cases


def _fit(case: dict, inference: str, seed: int, draws: int):
    params = dict(case["params"])
    model = params.pop("model", "hill_adstock")
    est = BayesianMMMRegressor(
        model,
        inference=inference,
        number_warmup=draws,
        number_samples=draws,
        random_state=seed,
        progress_bar=False,
        **params,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(case["X"], case["y"])
    return est, time.perf_counter() - start


def _interval(draws: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    return draws.quantile(0.05), draws.quantile(0.95)


def fit_in_this_process(case: dict, inference: str, draws: int, out: str) -> None:
    """The child's work: a cold and a warm fit; times and ROI draws to ``out``."""
    est, cold = _fit(case, inference, case["seed"], draws)
    _, warm = _fit(case, inference, case["seed"] + 1, draws)
    roi = attribution.roi(est)
    np.savez(
        out,
        roi=roi.to_numpy(),
        channels=np.asarray([str(c) for c in roi.columns]),
        cold=cold,
        warm=warm,
        compile_seconds=est.sampling_info_["compile_seconds"],
        status=est.summary().attrs["convergence"].status,
    )


def _child(index: int, inference: str, args, out: str) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        str(index),
        inference,
        out,
        "--draws",
        str(args.draws),
        "--scenarios",
        *map(str, args.scenarios),
    ] + (["--no-geo"] if args.no_geo else [])
    subprocess.run(command, check=True)
    with np.load(out) as saved:
        result = {key: saved[key] for key in saved.files}
    roi = pd.DataFrame(result["roi"], columns=list(result["channels"]))
    return {**result, "roi": roi}


def run_case(index: int, case: dict, args) -> dict:
    row: dict = {"case": case["name"]}
    draws = {}
    with tempfile.TemporaryDirectory() as folder:
        for inference in ("laplace", "nuts"):
            result = _child(index, inference, args, f"{folder}/{inference}.npz")
            draws[inference] = result["roi"]
            row[f"{inference}_cold_s"] = round(float(result["cold"]), 2)
            row[f"{inference}_warm_s"] = round(float(result["warm"]), 2)
            row[f"{inference}_compile_s"] = round(float(result["compile_seconds"]), 2)
            row[f"{inference}_status"] = str(result["status"])
    row["speedup_cold"] = _sig(row["nuts_cold_s"] / row["laplace_cold_s"])
    row["speedup_warm"] = _sig(row["nuts_warm_s"] / row["laplace_warm_s"])
    nuts, laplace = draws["nuts"], draws["laplace"]
    gap = (laplace.median() - nuts.median()) / nuts.std()
    (n_low, n_high), (l_low, l_high) = _interval(nuts), _interval(laplace)
    row["roi_gap_sd"] = {k: _sig(v) for k, v in gap.items()}
    row["max_abs_roi_gap_sd"] = _sig(gap.abs().max())
    row["width_ratio"] = {
        k: _sig(v) for k, v in ((l_high - l_low) / (n_high - n_low)).items()
    }
    row["roi_median_nuts"] = {k: _sig(v) for k, v in nuts.median().items()}
    row["roi_median_laplace"] = {k: _sig(v) for k, v in laplace.median().items()}
    truth = case["truth"]
    if truth is not None:
        truth = pd.Series(truth.to_numpy(), index=[str(c) for c in truth.index])
        truth = truth.reindex(nuts.columns)
        row["covered_nuts"] = [bool(c) for c in (truth >= n_low) & (truth <= n_high)]
        row["covered_laplace"] = [bool(c) for c in (truth >= l_low) & (truth <= l_high)]
    return row


def summarise(rows: list[dict]) -> dict:
    gaps = np.concatenate([list(r["roi_gap_sd"].values()) for r in rows])
    pooled = {
        name: [c for r in rows for c in r.get(f"covered_{name}", [])]
        for name in ("nuts", "laplace")
    }
    return {
        "cases": len(rows),
        "median_speedup_cold": _sig(np.median([r["speedup_cold"] for r in rows])),
        "median_speedup_warm": _sig(np.median([r["speedup_warm"] for r in rows])),
        "cases_all_within_0.5_sd": _sig(
            np.mean([r["max_abs_roi_gap_sd"] <= GAP_TARGET for r in rows])
        ),
        "channels_within_0.5_sd": _sig(np.mean(np.abs(gaps) <= GAP_TARGET)),
        "median_abs_gap_sd": _sig(np.median(np.abs(gaps))),
        "coverage_90_nuts": _sig(np.mean(pooled["nuts"])) if pooled["nuts"] else None,
        "coverage_90_laplace": _sig(np.mean(pooled["laplace"]))
        if pooled["laplace"]
        else None,
        "channels_with_truth": len(pooled["nuts"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scenarios", type=int, nargs="*", default=[0, 4, 9, 16, 21, 25]
    )
    parser.add_argument("--no-geo", action="store_true")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Cold fits compile everything: no persistent compilation cache.
    configured = skmmm.configure(compilation_cache=False)
    if args.child:
        index, inference, out = args.child
        fit_in_this_process(_cases(args)[int(index)], inference, args.draws, out)
        return
    print(json.dumps(configured), flush=True)
    rows = []
    for index, case in enumerate(_cases(args)):
        row = run_case(index, case, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps({"summary": summarise(rows)}), flush=True)


if __name__ == "__main__":
    main()
