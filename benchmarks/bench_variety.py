"""Defaults on varied simulated data: convergence and ROI recovery per scenario.

Usage: python benchmarks/bench_variety.py [--draws 1000] [--only 0 5 ...] [--list]

Each scenario of ``SCENARIOS`` simulates data with skmmm's simulator
(``skmmm.datasets.simulate_mmm_data``), reworks it, and fits
``BayesianMMMRegressor`` with every default (its own seed for the data and the
sampler). The scenarios, combined rather than full-factorial, span:

- KPI per period from 1e-2 to 1e7: the simulated KPI (and its true
  contributions) is multiplied by a factor ``a`` so that its mean is ``kpi``;
  the true ROIs scale by ``a``;
- true ROI from 0.05 to 50: through the simulator's ``roi_range``, the factor
  ``a``, or multiplying every spend column by ``b`` so that the median true
  ROI is ``roi`` (true ROIs divide by ``b``; the default ``media_prior`` is
  the column sums, so the costs scale with the spend);
- spend patterns "always_on", "flighted", "seasonal" and their mix (the
  simulator's), "rare bursts" (the first channel flighted, with all its
  flights but ``bursts`` of them set to zero spend; its true contribution is
  recomputed from the simulator's true transform parameters and the KPI
  adjusted by the difference) and "dominant" (the first channel's spend
  column scaled so that it has 90% of the cost; both the simulator and skmmm
  divide media by their mean, so its true contribution is unchanged and its
  true ROI is that contribution over the new cost);
- 1, 3, 10 and 25 channels; 52, 104 and 260 periods;
- weekly and daily data: the simulator is weekly, so for "daily" the
  simulated rows are re-indexed with a daily DatetimeIndex and fitted with
  ``seasonality_frequency=52`` (the default, passed explicitly) so that the
  model's seasonal cycle matches the one the simulator put in (52 rows);
- with and without controls (2 or 0);
- model mismatch: data from one family (``sim``) fitted by another (``fit``).

True ROIs are always ``true_contributions[c].sum() / X[c].sum()`` of the
final data. Per scenario it prints one JSON row: the description, max r_hat,
divergent draws, min bulk ESS, fit wall seconds, the first
``ConvergenceWarning`` (200 characters), the median over channels of
|posterior mean ROI / true ROI - 1|, the share of true ROIs inside the 90%
intervals (5%-95% quantiles of ``skmmm.attribution.roi`` draws), the mean
interval width over the true ROI, and the true and estimated ROIs. Then a
summary: scenarios, share without warning, median of the per-scenario median
ROI errors, coverage over all channels pooled, and the median, worst (highest
median ROI error) and worst max r_hat rows. ``--list`` builds every
scenario's data and prints its shapes and true ROIs without fitting.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from skmmm import BayesianMMMRegressor, attribution
from skmmm.datasets import _media_transform, simulate_mmm_data
from skmmm.priors import MEDIA_TRANSFORM_PRIORS

HA, AD, CO = "hill_adstock", "adstock", "carryover"
TRANSFORM_PARAMS = tuple(
    dict.fromkeys(name for names in MEDIA_TRANSFORM_PRIORS.values() for name in names)
)
DOMINANT_SHARE = 0.9


@dataclass(frozen=True)
class Scenario:
    """One simulated data set and the model fitted to it.

    ``spend`` is the simulator's ``spend_patterns`` (None: its mix); ``fit``
    None fits the simulated family; ``kpi`` None keeps the simulated KPI
    scale; ``roi`` None leaves the spend as simulated; ``bursts`` > 0 keeps
    that many flights of the first channel; ``dominant`` gives the first
    channel 90% of the cost.
    """

    periods: int
    channels: int
    sim: str = HA
    fit: str | None = None
    spend: str | None = None
    controls: int = 2
    kpi: float | None = None
    roi: float | None = None
    roi_range: tuple[float, float] = (0.8, 4.0)
    bursts: int = 0
    dominant: bool = False
    daily: bool = False


S = Scenario
SCENARIOS = [
    S(104, 3),  # reference: the simulator's defaults
    S(52, 1, spend="always_on", controls=0),
    S(52, 3, AD, spend="flighted", kpi=1e-2, roi=1.0),
    S(52, 10, CO, spend="seasonal", controls=0, roi=0.05),
    S(104, 1, CO, fit=HA, spend="flighted", kpi=1e7, roi=50.0),
    S(104, 3, spend="always_on", controls=0, kpi=1e3, roi=0.05),
    S(104, 10, roi=50.0),
    S(104, 25),
    S(260, 25, AD, controls=0),
    S(260, 3, bursts=3),
    S(260, 10, CO, spend="flighted", bursts=4),
    S(104, 3, spend="always_on", dominant=True),
    S(260, 10, AD, dominant=True),
    S(52, 3, daily=True),
    S(260, 3, CO, spend="flighted", kpi=1e5, daily=True),
    S(104, 10, AD, fit=HA, daily=True),
    S(104, 3, fit=AD),
    S(104, 3, fit=CO),
    S(104, 3, AD, fit=CO),
    S(104, 3, CO, fit=AD),
    S(260, 1, AD, spend="seasonal", kpi=1e-2, roi=0.05),
    S(52, 1, spend="flighted", kpi=1e7, roi=0.05),
    S(104, 3, kpi=1e-2, roi=50.0),
    S(104, 3, kpi=1e7, roi=0.05),
    S(104, 3, controls=0, roi_range=(10.0, 50.0)),
    S(104, 3, AD, roi_range=(0.05, 0.2)),
    S(260, 3, spend="seasonal", bursts=5, daily=True),
    S(104, 25, CO, spend="flighted", controls=0, kpi=10.0, roi=0.5),
    S(52, 10, spend="always_on", kpi=1e5, roi=2.0, dominant=True),
    S(104, 3, AD, spend="seasonal", controls=0, roi_range=(0.1, 50.0)),
    S(260, 1, spend="flighted", kpi=1e6, roi=5.0, bursts=3),
    S(104, 10, CO, fit=HA, spend="seasonal", kpi=100.0, roi=0.2),
    S(104, 3, kpi=3e6),  # ROI scaled by the factor a alone (spend as simulated)
    S(52, 3, CO, fit=HA, spend="always_on", kpi=1.0, roi=2.0, dominant=True),
]


def describe(spec: Scenario) -> str:
    """A one-line description of a scenario."""
    spend = spec.spend or "mixed"
    if spec.bursts:
        spend += f", ch0 {spec.bursts} bursts"
    if spec.dominant:
        spend += f", ch0 {DOMINANT_SHARE:.0%} of cost"
    model = spec.sim if spec.fit in (None, spec.sim) else f"{spec.sim}->{spec.fit}"
    parts = [
        f"{spec.periods} {'days' if spec.daily else 'weeks'}",
        f"{spec.channels} ch",
        spend,
        f"{spec.controls} controls",
        model,
    ]
    if spec.kpi is not None:
        parts.append(f"KPI~{spec.kpi:g}")
    if spec.roi is not None:
        parts.append(f"median ROI {spec.roi:g}")
    if spec.roi_range != (0.8, 4.0):
        parts.append(f"roi_range {spec.roi_range[0]:g}-{spec.roi_range[1]:g}")
    return ", ".join(parts)


def _keep_bursts(data, channel: str, n_keep: int, rng) -> tuple[np.ndarray, int]:
    """Zero all flights of ``channel`` but ``n_keep``; return the new spend."""
    spend = data.X[channel].to_numpy(dtype=float)
    on = spend > 0
    starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
    ends = np.flatnonzero(on & ~np.r_[on[1:], False]) + 1
    keep = rng.choice(len(starts), size=min(n_keep, len(starts)), replace=False)
    mask = np.zeros(len(spend), dtype=bool)
    for k in keep:
        mask[starts[k] : ends[k]] = True
    return np.where(mask, spend, 0.0), len(starts)


def _true_contribution(data, channel: str, spend: np.ndarray) -> np.ndarray:
    """The simulator's contribution of ``channel`` for a given spend series."""
    params = {
        name: np.array([data.true_params[name][channel]])
        for name in TRANSFORM_PARAMS
        if name in data.true_params
    }
    scaled = spend / data.true_params["media_scale"][channel]
    effect = _media_transform(scaled[:, None], data.model, params)[:, 0]
    return data.true_params["coef_media"][channel] * effect


def make_data(spec: Scenario, seed: int) -> dict:
    """Simulate and rework a scenario's data; return X, y and the truth."""
    spend = spec.spend
    if spec.bursts and spend not in (None, "flighted"):
        spend = ["flighted"] + [spend] * (spec.channels - 1)
    data = simulate_mmm_data(
        n_periods=spec.periods,
        n_channels=spec.channels,
        model=spec.sim,
        spend_patterns=spend,
        n_controls=spec.controls,
        seed=seed,
        roi_range=spec.roi_range,
    )
    media = list(data.media_columns)
    X = data.X.copy()
    y = data.y.copy()
    contributions = data.true_contributions.copy()
    first = media[0]
    info = {}
    if spec.bursts:
        rng = np.random.default_rng([seed, 1])
        old = _true_contribution(data, first, X[first].to_numpy(dtype=float))
        if not np.allclose(old, contributions[first].to_numpy(), rtol=1e-6):
            raise RuntimeError("Recomputed contribution differs from the simulator's.")
        new_spend, n_flights = _keep_bursts(data, first, spec.bursts, rng)
        new = _true_contribution(data, first, new_spend)
        X[first] = new_spend
        y = y + (new - old)
        contributions[first] = new
        info["flights_before"] = n_flights
    if spec.dominant:
        others = X[media[1:]].to_numpy().sum()
        factor = DOMINANT_SHARE / (1 - DOMINANT_SHARE) * others / X[first].sum()
        X[first] = X[first] * factor
    if spec.kpi is not None:
        a = spec.kpi / float(y.mean())
        y = y * a
        contributions = contributions * a
        info["a"] = a
    if spec.roi is not None:
        roi_now = contributions[media].sum() / X[media].sum()
        b = float(np.median(roi_now)) / spec.roi
        X[media] = X[media] * b
        info["b"] = b
    if spec.daily:
        index = pd.date_range(data.X.index[0], periods=len(X), freq="D", name="date")
        X.index = index
        y.index = index
        contributions.index = index
    costs = X[media].sum()
    return {
        "X": X,
        "y": y,
        "media": media,
        "fit_model": spec.fit or spec.sim,
        "true_roi": contributions[media].sum() / costs,
        "cost_share": costs / costs.sum(),
        "info": info,
    }


def _sig(value: float, digits: int = 4) -> float:
    return float(f"{float(value):.{digits}g}")


def _sig_dict(series: pd.Series) -> dict:
    return {str(k): _sig(v) for k, v in series.items()}


def list_scenario(index: int) -> dict:
    spec = SCENARIOS[index]
    data = make_data(spec, 1000 + index)
    return {
        "scenario": index,
        "description": describe(spec),
        "X_shape": list(data["X"].shape),
        "kpi_mean": _sig(data["y"].mean()),
        "y_min": _sig(data["y"].min()),
        "frequency": getattr(data["X"].index.freq, "freqstr", None),
        "fit_model": data["fit_model"],
        "true_roi": _sig_dict(data["true_roi"]),
        "cost_share_ch0": _sig(data["cost_share"].iloc[0], 3),
        "nonzero_ch0": int((data["X"][data["media"][0]] > 0).sum()),
        **{k: _sig(v) if isinstance(v, float) else v for k, v in data["info"].items()},
    }


def run_scenario(index: int, args) -> dict:
    spec = SCENARIOS[index]
    seed = 1000 + index
    data = make_data(spec, seed)
    extra = {"seasonality_frequency": 52} if spec.daily else {}
    estimator = BayesianMMMRegressor(
        data["fit_model"],
        media_columns=data["media"],
        random_state=seed,
        progress_bar=False,
        number_warmup=args.draws,
        number_samples=args.draws,
        target_accept_prob=args.target_accept_prob,
        **extra,
    )
    row = {
        "scenario": index,
        "description": describe(spec),
        "seed": seed,
    }
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator.fit(data["X"], data["y"])
        except Exception as error:  # report it and go on
            row["error"] = f"{type(error).__name__}: {error}"[:300]
    row["fit_s"] = round(time.perf_counter() - start, 1)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    others = {
        f"{w.category.__name__}: {str(w.message)[:120]}"
        for w in caught
        if not issubclass(w.category, ConvergenceWarning)
    }
    row["convergence_warning"] = bool(convergence)
    row["warning_message"] = str(convergence[0].message)[:200] if convergence else None
    row["other_warnings"] = sorted(others)[:3]
    if "error" in row:
        return row
    rhat = np.concatenate([np.ravel(v) for v in estimator.rhat_.values()])
    ess = np.concatenate([np.ravel(v) for v in estimator.ess_.values()])
    draws = attribution.roi(estimator)
    truth = data["true_roi"].reindex(draws.columns)
    estimate = draws.mean()
    lower, upper = draws.quantile(0.05), draws.quantile(0.95)
    error = (estimate / truth - 1).abs()
    covered = (truth >= lower) & (truth <= upper)
    row.update(
        {
            "max_r_hat": round(float(np.nanmax(rhat)), 4),
            "divergences": int(estimator.divergences_),
            "min_ess_bulk": round(float(np.nanmin(ess)), 1),
            "median_abs_rel_roi_error": _sig(error.median()),
            "coverage_90": _sig(covered.mean(), 3),
            "mean_rel_width_90": _sig(((upper - lower) / truth).mean()),
            "covered": [bool(c) for c in covered],
            "true_roi": _sig_dict(truth),
            "estimated_roi": _sig_dict(estimate),
        }
    )
    return row


BRIEF_KEYS = (
    "scenario",
    "description",
    "error",
    "fit_s",
    "max_r_hat",
    "divergences",
    "min_ess_bulk",
    "convergence_warning",
    "median_abs_rel_roi_error",
    "coverage_90",
    "mean_rel_width_90",
)


def _brief(row: dict | None) -> dict | None:
    return None if row is None else {k: row[k] for k in BRIEF_KEYS if k in row}


def summarise(rows: list[dict]) -> dict:
    fitted = [r for r in rows if "error" not in r]
    by_error = sorted(fitted, key=lambda r: r["median_abs_rel_roi_error"])
    covered = [c for r in fitted for c in r["covered"]]
    return {
        "scenarios": len(rows),
        "errors": len(rows) - len(fitted),
        "share_without_warning": _sig(
            np.mean([not r["convergence_warning"] for r in rows]), 3
        ),
        "median_of_median_abs_rel_roi_error": (
            _sig(np.median([r["median_abs_rel_roi_error"] for r in fitted]))
            if fitted
            else None
        ),
        "coverage_90_pooled": _sig(np.mean(covered), 3) if covered else None,
        "channels": len(covered),
        "median_row": _brief(by_error[(len(by_error) - 1) // 2] if fitted else None),
        "worst_row": _brief(by_error[-1] if fitted else None),
        "worst_r_hat_row": _brief(
            max(fitted, key=lambda r: r["max_r_hat"]) if fitted else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument(
        "--target-accept-prob",
        type=float,
        default=None,
        help="NUTS target acceptance probability (default: the estimators')",
    )
    parser.add_argument(
        "--only", type=int, nargs="+", default=None, help="scenario indices to run"
    )
    parser.add_argument(
        "--list", action="store_true", help="build the data only, without fitting"
    )
    args = parser.parse_args()
    indices = range(len(SCENARIOS)) if args.only is None else args.only
    if args.list:
        for index in indices:
            print(json.dumps(list_scenario(index)), flush=True)
        return
    rows = []
    for index in indices:
        row = run_scenario(index, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(json.dumps(summarise(rows)), flush=True)


if __name__ == "__main__":
    main()
