"""Fit each model on the reference data with the default settings; print figures.

Usage: python benchmarks/bench_fit.py [--models hill_adstock ...] [--draws 1000]
       [--seed 0] [--data-dir ../shared/bench] [--lmmm /tmp/venv-lmmm/bin/python]

Per model: compile s, sampling s, fit wall s, divergences, max r_hat, min bulk
ESS, min ESS per second of sampling, predict s (first call, warm), held-out
R^2 and MAPE on the last 10 weeks. Wall time is measured up to the draws
being on the host (the estimator converts them to NumPy). With --lmmm,
LightweightMMM 0.1.9 is fitted on the same data in the same run
(shared/bench/lmmm/setup.sh installs it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _reference import DEFAULT_DATA_DIR, load_reference  # noqa: E402

import skmmm  # noqa: E402
from skmmm import BayesianMMMRegressor  # noqa: E402
from skmmm.diagnostics import mixing_table  # noqa: E402


def bench_model(model: str, args) -> dict:
    X_train, y_train, X_test, y_test, costs = load_reference(args.data_dir)
    estimator = BayesianMMMRegressor(
        model,
        media_columns=list(costs.index),
        media_prior=costs,
        number_warmup=args.draws,
        number_samples=args.draws,
        number_chains=args.chains,
        random_state=args.seed,
        progress_bar=False,
        custom_priors=json.loads(args.custom_priors) if args.custom_priors else None,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X_train, y_train)
    wall = time.perf_counter() - start
    info = estimator.sampling_info_
    start = time.perf_counter()
    predicted = estimator.predict(X_test)
    predict_first = time.perf_counter() - start
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        estimator.predict(X_test)
        timings.append(time.perf_counter() - start)
    min_ess = min(float(np.nanmin(v)) for v in estimator.ess_.values())
    actual = y_test.to_numpy()
    n_draws = args.chains * args.draws
    return {
        "model": model,
        "compile_s": round(info["compile_seconds"], 2),
        "sampling_s": round(info["sampling_seconds"], 2),
        "fit_wall_s": round(wall, 2),
        "divergences": estimator.divergences_,
        "divergent_pct": round(100 * estimator.divergences_ / n_draws, 2),
        "max_r_hat": round(
            max(float(np.nanmax(v)) for v in estimator.rhat_.values()), 4
        ),
        "worst": list(mixing_table(estimator)["r_hat"].head(2).round(4).items()),
        "min_bulk_ess": round(min_ess, 1),
        "ess_per_s": round(min_ess / info["sampling_seconds"], 1),
        "mean_steps": round(info["mean_num_steps"], 1),
        "predict_first_s": round(predict_first, 4),
        "predict_warm_s": round(float(np.median(timings)), 4),
        "heldout_r2": round(float(estimator.score(X_test, actual)), 3),
        "heldout_mape_pct": round(
            100 * float(np.mean(np.abs(predicted / actual - 1))), 2
        ),
        "chain_method": info["chain_method"],
        "device": info["device"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=["adstock", "hill_adstock", "carryover"]
    )
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    parser.add_argument("--custom-priors", help="JSON dict of custom_priors")
    parser.add_argument("--lmmm", help="python of a LightweightMMM 0.1.9 virtualenv")
    args = parser.parse_args()
    import jax

    # Before jax.devices() below starts JAX: one CPU device per core.
    skmmm.configure()
    print(
        f"# skmmm {skmmm.__version__}, jax {jax.__version__}, devices {jax.devices()}, "
        f"compilation cache {jax.config.jax_compilation_cache_dir}"
    )
    for model in args.models:
        print(json.dumps(bench_model(model, args)), flush=True)
        if args.lmmm:
            script = Path(args.data_dir) / "lmmm" / "fit_lmmm.py"
            out = subprocess.run(
                [args.lmmm, str(script), model, str(args.seed)],
                capture_output=True,
                text=True,
                check=False,
            )
            print(
                out.stdout.strip().splitlines()[-1] if out.stdout else out.stderr[-500:]
            )


if __name__ == "__main__":
    main()
