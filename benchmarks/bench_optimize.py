"""Budget optimisation benchmark on LightweightMMM's reference dummy data.

Fits each model on the first 150 weeks of ``lmmm_dummy_160w.csv`` (media_0..4
as media, extra_0 as control, costs from ``lmmm_dummy_costs.csv`` as
media_prior) and optimises the last 10 weeks with budget = 10 x the sum of
mean weekly media, prices 1 and bounds +-20%, as REFERENCE.md's protocol.

Usage: python benchmarks/bench_optimize.py [--fast] [--data-dir ../shared/bench]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from skmmm import AdstockRegressor, CarryoverRegressor, HillAdstockRegressor
from skmmm.optimize import BudgetOptimizer

REPO = Path(__file__).resolve().parents[1]
N_TRAIN, N_HORIZON = 150, 10
MEDIA = [f"media_{i}" for i in range(5)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="200 + 200 draws")
    parser.add_argument("--data-dir", default=str(REPO.parent / "shared" / "bench"))
    parser.add_argument(
        "--models", nargs="+", default=["hill_adstock", "adstock", "carryover"]
    )
    args = parser.parse_args()
    data_dir = Path(args.data_dir)
    frame = pd.read_csv(data_dir / "lmmm_dummy_160w.csv")
    costs = pd.read_csv(data_dir / "lmmm_dummy_costs.csv")
    cost_values = costs.select_dtypes("number").to_numpy().ravel()[-len(MEDIA) :]
    train = frame.iloc[:N_TRAIN]
    X, y = train[MEDIA + ["extra_0"]], train["target"]
    budget = N_HORIZON * float(train[MEDIA].mean().sum())
    draws = dict(number_warmup=200, number_samples=200) if args.fast else {}
    classes = {
        "hill_adstock": HillAdstockRegressor,
        "adstock": AdstockRegressor,
        "carryover": CarryoverRegressor,
    }
    for name in args.models:
        est = classes[name](
            media_columns=MEDIA,
            media_prior=cost_values,
            random_state=0,
            progress_bar=False,
            **draws,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        fit_seconds = time.perf_counter() - start
        optimizer = BudgetOptimizer(est, bounds_lower_pct=0.2, bounds_upper_pct=0.2)
        start = time.perf_counter()
        result = optimizer.optimize(budget, N_HORIZON, prices=np.ones(len(MEDIA)))
        first = time.perf_counter() - start
        start = time.perf_counter()
        result = optimizer.optimize(budget, N_HORIZON, prices=np.ones(len(MEDIA)))
        warm = time.perf_counter() - start
        print(
            f"{name}: fit {fit_seconds:.1f} s | optimize first call {first:.2f} s, "
            f"warm {warm:.3f} s, {result.n_iterations} iterations, "
            f"success={result.success} | KPI starting {result.kpi_starting:.2f} "
            f"{tuple(round(v, 2) for v in result.kpi_starting_interval)}, "
            f"optimal {result.kpi_optimal:.2f} "
            f"{tuple(round(v, 2) for v in result.kpi_optimal_interval)} "
            f"(+{100 * result.kpi_uplift:.2f}%)",
            flush=True,
        )
        print("  allocation:", result.optimal_allocation.round(1).to_dict())


if __name__ == "__main__":
    main()
