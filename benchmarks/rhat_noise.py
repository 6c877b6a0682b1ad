"""How large the worst split r_hat of many quantities gets by chance alone.

Usage: python benchmarks/rhat_noise.py [--quantities 635] [--slow N]
       [--chains 2] [--draws 1000] [--ess 2000 1000 667 353] [--repeats 40]
       [--seed 0]

Each quantity is a stationary AR(1) chain whose autocorrelation gives the
bulk ESS asked for (over all chains' draws), so every chain samples the
target exactly: whatever r_hat shows above 1 is Monte Carlo noise. With
``--slow N`` only N quantities have that ESS and the others are independent
draws (ESS = chains x draws), as in a fit where a few shared parameters mix
slowly. Prints one JSON line per ESS: the median and 90th percentile of
NumPyro's split r_hat maximised over the quantities, and how often that
maximum exceeds 1.01 (issue 7's target) and 1.05 (the fit's warning
threshold).

bench_geo.py's panel (50 geos, 6 channels) has 635 reported quantities;
2 chains of 1000 draws are the default settings.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from numpyro.diagnostics import split_gelman_rubin


def ar1_chains(
    rng: np.random.Generator, rho: float, chains: int, draws: int, quantities: int
) -> np.ndarray:
    """Stationary AR(1) draws with unit innovations, (chains, draws, quantities)."""
    noise = rng.normal(size=(chains, draws, quantities))
    values = np.empty_like(noise)
    values[:, 0] = noise[:, 0] / np.sqrt(1.0 - rho**2)
    for step in range(1, draws):
        values[:, step] = rho * values[:, step - 1] + noise[:, step]
    return values


def rhat_noise(args) -> list[dict]:
    rng = np.random.default_rng(args.seed)
    total = args.chains * args.draws
    slow = args.quantities if args.slow is None else args.slow
    rows = []
    for ess in args.ess:
        # An AR(1) chain of n draws has ESS n (1 - rho) / (1 + rho).
        rho = (total - ess) / (total + ess)
        worst = np.empty(args.repeats)
        for repeat in range(args.repeats):
            draws = rng.normal(size=(args.chains, args.draws, args.quantities))
            draws[..., :slow] = ar1_chains(rng, rho, args.chains, args.draws, slow)
            worst[repeat] = float(np.max(split_gelman_rubin(draws)))
        rows.append(
            {
                "ess": ess,
                "quantities": args.quantities,
                "at_that_ess": slow,
                "chains x draws": f"{args.chains} x {args.draws}",
                "max_r_hat_median": round(float(np.median(worst)), 4),
                "max_r_hat_p90": round(float(np.quantile(worst, 0.9)), 4),
                "share_above_1.01": round(float(np.mean(worst > 1.01)), 3),
                "share_above_1.05": round(float(np.mean(worst > 1.05)), 3),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quantities", type=int, default=635)
    parser.add_argument("--slow", type=int, default=None)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--ess", type=float, nargs="+", default=[2000.0, 1000.0, 667.0, 353.0]
    )
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    for row in rhat_noise(parser.parse_args()):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
