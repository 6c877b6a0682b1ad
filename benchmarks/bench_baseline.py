"""The moving baseline: ROI recovery and LOO's choice when the level moves.

Usage: python benchmarks/bench_baseline.py [--draws 300] [--seeds 3] [--first-seed 0]

Each scenario simulates 104 weeks of 3 channels (seasonal, always-on and
flighted spend) with skmmm's simulator and moves the KPI's baseline by 15%
of its mean: "step" from the middle week on, "drift" up and back down along
half a sine over the two years, or "none". Media contributions, and so the
true ROIs, are the simulator's. Both baselines are fitted (hill_adstock, one
chain of ``--draws`` warm-up and ``--draws`` kept draws, seeded) and
compared by ``compare_models(method="loo")``, which refits them with the
same seeds. The right choice is "spline" where the level moves and "trend"
where it does not.

It prints one JSON line per (scenario, baseline) and a summary per kind of
scenario and baseline: the median absolute relative ROI error over channels
and scenarios, the share of true ROIs inside the 90% credible interval, and
how often LOO ranked the right baseline first.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from skmmm import HillAdstockRegressor, attribution
from skmmm.datasets import simulate_mmm_data
from skmmm.model_selection import compare_models

KINDS = ("step", "drift", "none")
BASELINES = ("trend", "spline")
N_PERIODS = 104
SHIFT = 0.15


def scenario(kind: str, seed: int):
    """Simulated data and its KPI with the baseline moved as ``kind`` says."""
    data = simulate_mmm_data(
        n_periods=N_PERIODS,
        n_channels=3,
        spend_patterns=["seasonal", "always_on", "flighted"],
        seed=seed,
    )
    t = np.arange(N_PERIODS)
    shape = {
        "step": (t >= N_PERIODS // 2).astype(float),
        "drift": np.sin(np.pi * t / N_PERIODS),
        "none": np.zeros(N_PERIODS),
    }[kind]
    y = data.y + SHIFT * data.true_contributions["baseline"].mean() * shape
    return data, y


def estimator(data, baseline: str, seed: int, draws: int) -> HillAdstockRegressor:
    return HillAdstockRegressor(
        media_columns=data.media_columns,
        baseline=baseline,
        number_warmup=draws,
        number_samples=draws,
        number_chains=1,
        random_state=seed,
        progress_bar=False,
    )


def run(kind: str, seed: int, draws: int) -> tuple[list[dict], str]:
    data, y = scenario(kind, seed)
    rows = []
    for baseline in BASELINES:
        est = estimator(data, baseline, seed, draws)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(data.X, y)
        roi = attribution.roi(est)
        truth = data.true_roi.reindex(roi.columns)
        lower, upper = roi.quantile(0.05), roi.quantile(0.95)
        rows.append(
            {
                "kind": kind,
                "seed": seed,
                "baseline": baseline,
                "fit_s": round(time.perf_counter() - start, 1),
                "divergences": est.divergences_,
                "abs_rel_error": (np.abs(roi.median() / truth - 1)).round(3).to_dict(),
                "covered": ((truth >= lower) & (truth <= upper)).to_dict(),
            }
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_models(
            {b: estimator(data, b, seed, draws) for b in BASELINES},
            data.X,
            y,
            method="loo",
        )
    best = str(table["model"].iloc[0])
    elpd = table.set_index("model")["elpd_loo"]
    for row in rows:
        row["loo_best"] = best
        row["elpd_loo"] = round(float(elpd[row["baseline"]]), 1)
    return rows, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args()
    results, right = [], []
    for kind in KINDS:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            rows, best = run(kind, seed, args.draws)
            for row in rows:
                print(json.dumps(row), flush=True)
            results.extend(rows)
            right.append(best == ("trend" if kind == "none" else "spline"))
    for kind in KINDS:
        for baseline in BASELINES:
            chosen = [
                r for r in results if r["kind"] == kind and r["baseline"] == baseline
            ]
            errors = [e for r in chosen for e in r["abs_rel_error"].values()]
            covered = [c for r in chosen for c in r["covered"].values()]
            print(
                json.dumps(
                    {
                        "kind": kind,
                        "baseline": baseline,
                        "scenarios": len(chosen),
                        "median_abs_rel_roi_error_pct": round(
                            100 * float(np.median(errors)), 1
                        ),
                        "coverage_90_pct": round(100 * float(np.mean(covered)), 1),
                    }
                )
            )
    print(
        json.dumps(
            {
                "loo_right_baseline": f"{sum(right)}/{len(right)}",
                "loo_right_pct": round(100 * float(np.mean(right)), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
