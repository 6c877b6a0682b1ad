"""Fit skmmm at its defaults on other projects' public MMM datasets.

Usage: python benchmarks/bench_external.py [--models hill_adstock ...]
       [--datasets pymc meridian_national ...] [--draws 1000] [--seed 0]
       [--data-dir ../shared/external-data] [--kpi-scale 1.0]

The files are the ones in ``shared/external-data`` (see its README): PyMC-
Marketing's example (2 channels, spend in 0-1 units), Meridian's simulated
national and geo data (KPI revenue = conversions x revenue_per_conversion,
media the ``*_spend`` columns) and Robyn's simulated weekly data (media the
``*_S`` columns, ``events`` one-hot encoded). Each is fitted as a user would,
with every default. Per dataset and model it prints one JSON row: fit wall
seconds, max r_hat, divergent draws, min bulk ESS, the convergence verdict,
any ConvergenceWarning, and per channel the contribution share and ROI
(posterior mean and 90% interval). ``--kpi-scale`` multiplies the KPI (a unit
change), to check that shares stay and ROIs scale.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skmmm import BayesianMMMRegressor, attribution
from skmmm.diagnostics import convergence_verdict

DEFAULT_DATA_DIR = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "external-data"
)
MODELS = ("hill_adstock", "adstock", "carryover")


def load_pymc(data_dir: Path) -> dict:
    frame = pd.read_csv(data_dir / "pymc_marketing_mmm_example.csv")
    X = frame[["date_week", "x1", "x2", "event_1", "event_2"]]
    return {"X": X, "y": frame["y"], "media": ["x1", "x2"], "date_column": "date_week"}


def _meridian(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    media = [c for c in frame.columns if c.endswith("_spend")]
    controls = [c for c in frame.columns if c.endswith("_control")]
    revenue = frame["conversions"] * frame["revenue_per_conversion"]
    return frame[keys + media + controls], revenue.rename("revenue"), media


def load_meridian_national(data_dir: Path) -> dict:
    frame = pd.read_csv(data_dir / "meridian_national_media_rf.csv")
    X, y, media = _meridian(frame, ["time"])
    return {"X": X, "y": y, "media": media, "date_column": "time"}


def load_meridian_geo(data_dir: Path) -> dict:
    frame = pd.read_csv(data_dir / "meridian_geo_media_rf.csv")
    X, y, media = _meridian(frame, ["time", "geo"])
    return {
        "X": X,
        "y": y,
        "media": media,
        "date_column": "time",
        "geo_column": "geo",
    }


def load_robyn(data_dir: Path) -> dict:
    frame = pd.read_csv(data_dir / "robyn_dt_simulated_weekly.csv")
    media = [c for c in frame.columns if c.endswith("_S")]
    events = pd.get_dummies(frame["events"], prefix="event", dtype=float).drop(
        columns="event_na", errors="ignore"
    )
    X = pd.concat(
        [frame[["DATE", *media, "competitor_sales_B", "newsletter"]], events], axis=1
    )
    return {"X": X, "y": frame["revenue"], "media": media, "date_column": "DATE"}


DATASETS = {
    "pymc": load_pymc,
    "meridian_national": load_meridian_national,
    "meridian_geo": load_meridian_geo,
    "robyn": load_robyn,
}


def fit_one(name: str, model: str, args) -> dict:
    data = DATASETS[name](Path(args.data_dir))
    estimator = BayesianMMMRegressor(
        model,
        media_columns=data["media"],
        date_column=data["date_column"],
        geo_column=data.get("geo_column"),
        number_warmup=args.draws,
        number_samples=args.draws,
        target_accept_prob=args.target_accept_prob,
        random_state=args.seed,
        progress_bar=False,
    )
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        estimator.fit(data["X"], data["y"] * args.kpi_scale)
    seconds = time.perf_counter() - start
    verdict = convergence_verdict(estimator)
    table = attribution.summary(estimator)
    channels = {
        channel: {
            "share": round(float(row["share_mean"]), 4),
            "roi": round(float(row["roi_mean"]), 4),
            "roi_90": [
                round(float(row["roi_lower"]), 4),
                round(float(row["roi_upper"]), 4),
            ],
        }
        for channel, row in table.iterrows()
    }
    return {
        "dataset": name,
        "model": model,
        "fit_s": round(seconds, 1),
        "max_r_hat": round(verdict.max_rhat, 4),
        "divergences": estimator.divergences_,
        "min_ess_bulk": round(verdict.min_ess, 1),
        "verdict": verdict.status,
        "convergence_warnings": [
            str(w.message)[:200]
            for w in caught
            if issubclass(w.category, ConvergenceWarning)
        ],
        "channels": channels,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument(
        "--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS)
    )
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--target-accept-prob",
        type=float,
        default=None,
        help="NUTS target acceptance probability (default: the estimators')",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kpi-scale", type=float, default=1.0)
    parser.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        for model in args.models:
            row = fit_one(name, model, args)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(
        json.dumps(
            {
                "fits": len(rows),
                "without_warning": sum(not r["convergence_warnings"] for r in rows),
                "max_r_hat": max(r["max_r_hat"] for r in rows),
                "median_fit_s": float(np.median([r["fit_s"] for r in rows])),
            }
        )
    )


if __name__ == "__main__":
    main()
