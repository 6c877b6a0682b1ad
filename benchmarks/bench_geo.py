"""Fit the geo model on a simulated panel with the default settings; print figures.

Usage: python benchmarks/bench_geo.py [--geos 50] [--weeks 104] [--channels 6]
       [--model hill_adstock] [--draws 1000] [--chains 2] [--seed 0]
       [--sampler-seed SEED]

``--seed`` simulates the panel and, unless ``--sampler-seed`` is given,
seeds the sampler too.

Prints one JSON line: compile s, sampling s, fit wall s, divergences, max
r_hat (and the worst parameters), min bulk ESS (and the slowest
parameters), min ESS per second of sampling, mean NUTS steps per draw,
predict s (first call, warm), the posterior-mean national ROI of each
channel over the true ROI, each chain's non-centring and ROI shear of
each channel and scale of each geo mean (chosen during warm-up) and the
mass matrix's structure. Wall
time is measured up to the draws being on the host, as in bench_fit.py.
The target (issue 7) on a 2-core machine: max r_hat <= 1.01 within 3
minutes of wall.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import skmmm  # noqa: E402
from skmmm import BayesianMMMRegressor  # noqa: E402
from skmmm.attribution import roi  # noqa: E402
from skmmm.datasets import simulate_mmm_data  # noqa: E402
from skmmm.diagnostics import mixing_table  # noqa: E402


def _slowest(estimator: BayesianMMMRegressor, n: int) -> list[tuple[str, float]]:
    """The ``n`` parameters with the lowest bulk ESS, with their ESS."""
    entries = estimator.fitted_.labelled_values(estimator.ess_)
    return [
        (label, round(value, 1))
        for label, value in sorted(entries, key=lambda entry: entry[1])[:n]
    ]


def bench_geo(args) -> dict:
    data = simulate_mmm_data(
        n_periods=args.weeks,
        n_channels=args.channels,
        n_geos=args.geos,
        model=args.model,
        seed=args.seed,
    )
    estimator = BayesianMMMRegressor(
        args.model,
        media_columns=data.media_columns,
        date_column=data.date_column,
        geo_column=data.geo_column,
        number_warmup=args.draws,
        number_samples=args.draws,
        number_chains=args.chains,
        random_state=args.seed if args.sampler_seed is None else args.sampler_seed,
        progress_bar=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(data.X, data.y)
    wall = time.perf_counter() - start
    info = estimator.sampling_info_
    start = time.perf_counter()
    estimator.predict(data.X)
    predict_first = time.perf_counter() - start
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        estimator.predict(data.X)
        timings.append(time.perf_counter() - start)
    min_ess = min(float(np.nanmin(v)) for v in estimator.ess_.values())
    roi_ratio = roi(estimator).mean() / data.true_roi
    return {
        "panel": f"{args.geos} geos x {args.weeks} weeks x {args.channels} channels",
        "model": args.model,
        "compile_s": round(info["compile_seconds"], 2),
        "sampling_s": round(info["sampling_seconds"], 2),
        "fit_wall_s": round(wall, 2),
        "divergences": estimator.divergences_,
        "max_r_hat": round(
            max(float(np.nanmax(v)) for v in estimator.rhat_.values()), 4
        ),
        "worst": list(mixing_table(estimator)["r_hat"].head(3).round(4).items()),
        "min_bulk_ess": round(min_ess, 1),
        "slowest": _slowest(estimator, 3),
        "ess_per_s": round(min_ess / info["sampling_seconds"], 2),
        "mean_steps": round(info["mean_num_steps"], 1),
        "predict_first_s": round(predict_first, 3),
        "predict_warm_s": round(float(np.median(timings)), 3),
        "roi_over_true": {k: round(float(v), 3) for k, v in roi_ratio.items()},
        # Each chain's choice of how far to non-centre each channel (0 centred).
        "media_noncentring": np.round(
            np.asarray(info["media_noncentring"], dtype=float), 2
        ).tolist()
        if "media_noncentring" in info
        else None,
        "roi_shear": np.round(np.asarray(info["roi_shear"], dtype=float), 2).tolist()
        if "roi_shear" in info
        else None,
        # Rows: level, seasonal amplitude, trend, then each channel's log ratios.
        "geo_mean_scale": np.round(
            np.asarray(info["geo_mean_scale"], dtype=float), 2
        ).tolist()
        if "geo_mean_scale" in info
        else None,
        "mass_matrix": info["mass_matrix"],
        "chain_method": info["chain_method"],
        "device": info["device"],
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geos", type=int, default=50)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--channels", type=int, default=6)
    parser.add_argument("--model", default="hill_adstock")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sampler-seed", type=int, default=None)
    args = parser.parse_args()
    import jax

    # Before jax.devices() below starts JAX: one CPU device per core.
    skmmm.configure()
    print(
        f"# skmmm {skmmm.__version__}, jax {jax.__version__}, devices {jax.devices()}, "
        f"compilation cache {jax.config.jax_compilation_cache_dir}"
    )
    print(json.dumps(bench_geo(args)), flush=True)


if __name__ == "__main__":
    main()
