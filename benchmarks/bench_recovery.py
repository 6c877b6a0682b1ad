"""Recovery of known ROI on simulated data: error and interval coverage.

Usage: python benchmarks/bench_recovery.py [--draws 1000] [--scenarios 8]

Each scenario simulates 156 weeks of 5 channels with skmmm's simulator
(always-on, flighted and seasonal spend, trend, yearly seasonality, two
controls, 5% noise), alternating adstock+Hill and delayed-carryover data over
several seeds, and fits the matching model with the default settings. It
prints, per scenario, the true and estimated ROI of each channel, then the
median absolute relative ROI error and the share of true ROIs inside the 90%
credible interval over all channels (shared/bench/REFERENCE.md has the peers'
figures on such data).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from skmmm import BayesianMMMRegressor, attribution
from skmmm.datasets import simulate_mmm_data

MODELS = ("hill_adstock", "carryover")


def run_scenario(index: int, args) -> dict:
    model = MODELS[index % len(MODELS)]
    seed = 100 + index
    data = simulate_mmm_data(n_periods=156, n_channels=5, model=model, seed=seed)
    estimator = BayesianMMMRegressor(
        model,
        media_columns=data.media_columns,
        number_warmup=args.draws,
        number_samples=args.draws,
        random_state=seed,
        progress_bar=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(data.X, data.y)
    seconds = time.perf_counter() - start
    roi_draws = attribution.roi(estimator)
    lower, upper = roi_draws.quantile(0.05), roi_draws.quantile(0.95)
    estimate = roi_draws.mean()
    truth = data.true_roi.reindex(roi_draws.columns)
    return {
        "scenario": index,
        "model": model,
        "seed": seed,
        "fit_s": round(seconds, 1),
        "max_r_hat": round(
            max(float(np.nanmax(v)) for v in estimator.rhat_.values()), 3
        ),
        "divergences": estimator.divergences_,
        "true_roi": truth.round(3).to_dict(),
        "estimated_roi": estimate.round(3).to_dict(),
        "abs_rel_error": (np.abs(estimate / truth - 1)).round(3).to_dict(),
        "covered": ((truth >= lower) & (truth <= upper)).to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--scenarios", type=int, default=8)
    args = parser.parse_args()
    errors, covered = [], []
    for index in range(args.scenarios):
        result = run_scenario(index, args)
        print(json.dumps(result), flush=True)
        errors.extend(result["abs_rel_error"].values())
        covered.extend(result["covered"].values())
    print(
        json.dumps(
            {
                "scenarios": args.scenarios,
                "channels": len(errors),
                "median_abs_rel_roi_error_pct": round(
                    100 * float(np.median(errors)), 1
                ),
                "coverage_90_pct": round(100 * float(np.mean(covered)), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
