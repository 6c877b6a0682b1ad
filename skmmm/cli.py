"""The ``skmmm`` command line.

``skmmm demo`` fits the three models on the bundled example data, backtests
them on held-out weeks, and prints diagnostics, contribution shares and ROI
per channel next to the true ROI the example was simulated with.
Bad usage or bad data exit with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["main"]

MODELS = ("adstock", "hill_adstock", "carryover")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="skmmm",
        description="Bayesian media mix modeling (scikit-learn + NumPyro).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the three models on the bundled example data and compare them"
    )
    demo.add_argument(
        "--draws",
        type=int,
        default=1000,
        help="warm-up iterations and draws per chain (default 1000)",
    )
    demo.add_argument(
        "--chains", type=int, default=2, help="number of chains (default 2)"
    )
    demo.add_argument(
        "--holdout",
        type=int,
        default=13,
        help="weeks held out for the backtest (default 13)",
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _fit_one(model: str, X, y, media_columns, args) -> tuple[object, float, list[str]]:
    from skmmm import BayesianMMMRegressor

    estimator = BayesianMMMRegressor(
        model,
        media_columns=media_columns,
        number_warmup=args.draws,
        number_samples=args.draws,
        number_chains=args.chains,
        random_state=args.seed,
        progress_bar=False if args.quiet else "auto",
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(X, y)
    seconds = time.perf_counter() - start
    return estimator, seconds, [str(w.message) for w in caught]


def _demo(args: argparse.Namespace) -> int:
    from skmmm import attribution, load_example

    if args.draws < 1 or args.chains < 1:
        raise ValueError("--draws and --chains must be positive integers.")
    data = load_example()
    n_periods = len(data.y)
    if not 0 <= args.holdout <= n_periods - 52:
        raise ValueError(
            f"--holdout must be between 0 and {n_periods - 52} weeks, got {args.holdout}."
        )
    train = slice(0, n_periods - args.holdout)
    test = slice(n_periods - args.holdout, n_periods)
    print(
        f"Example data: {n_periods} weeks, channels {', '.join(data.media_columns)}, "
        f"controls {', '.join(data.control_columns)}; last {args.holdout} weeks held out."
    )
    rows = []
    for model in MODELS:
        estimator, seconds, messages = _fit_one(
            model, data.X.iloc[train], data.y.iloc[train], data.media_columns, args
        )
        max_rhat = max(float(np.nanmax(v)) for v in estimator.rhat_.values())
        min_ess = min(float(np.nanmin(v)) for v in estimator.ess_.values())
        row = {
            "model": model,
            "fit s": seconds,
            "divergences": estimator.divergences_,
            "max r_hat": max_rhat,
            "min ESS": min_ess,
            "train R2": estimator.score(data.X.iloc[train], data.y.iloc[train]),
        }
        if args.holdout:
            predicted = estimator.predict(data.X.iloc[test])
            actual = data.y.iloc[test].to_numpy()
            row["holdout R2"] = estimator.score(data.X.iloc[test], actual)
            row["holdout MAPE %"] = 100 * float(np.mean(np.abs(predicted / actual - 1)))
        rows.append(row)
        table = attribution.summary(estimator)
        table["true_roi"] = data.true_roi.reindex(table.index)
        print(f"\n== {model}: fitted in {seconds:.1f} s")
        for message in messages:
            print(f"   warning: {message}")
        print(
            table[["share_mean", "roi_mean", "roi_lower", "roi_upper", "true_roi"]]
            .round(3)
            .to_string()
        )
    print("\n== Model comparison")
    print(pd.DataFrame(rows).set_index("model").round(3).to_string())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
    except ValueError as error:
        print(f"skmmm: error: {error}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
