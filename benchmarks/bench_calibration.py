"""Calibration with lift tests on simulated data with known ROI (issue 26 item 5).

Usage: python benchmarks/bench_calibration.py [--scenarios 3] [--draws 300]
[--weeks 104] [--holdout] [--no-suggest]

Each scenario simulates national weekly data with skmmm's simulator (three
channels: always-on, flighted and seasonal spend; the model alternates
adstock+Hill, adstock and carryover), fits the matching model without and
with lift tests, and prints per channel the true ROI, the ROI error (|mean -
truth| / truth) and the 90% interval width (relative to the truth) of both
fits. The lift tests run on the weakly identified channels (always-on and
seasonal): +50% of the channel's average spend for 8 weeks from week 40,
measured until week 51, their measured lift simulated from the true
response with noise of sd 25% of the true lift. With ``--holdout`` the
tests switch the channel off for those 8 weeks instead
(``delta_spend="holdout"``), which measures its average effect.

Then the suggestion ranking: ``experiments.suggest`` on the uncalibrated
fit, one candidate per channel (the same budget, 8 weeks); each candidate is
run for real (a refit with its simulated outcome as a lift test), and the
table compares the expected width ratio with the realised one (the ROI
interval width after the refit over before); ``--no-suggest`` skips it.

The summary gives, over all scenarios, the median ROI error and width of
the tested and untested channels without and with tests, the coverage of
the true ROI by the 90% intervals, and the sampling time with tests over
without.
"""

from __future__ import annotations

import argparse
import time
import warnings

import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy import stats

import skmmm
from skmmm import BayesianMMMRegressor, experiments
from skmmm.datasets import simulate_mmm_data
from skmmm.models import ModelSpec, media_transform

MODELS = ("hill_adstock", "adstock", "carryover")
PATTERNS = ["always_on", "flighted", "seasonal"]
TESTED = ("tv", "social")  # always-on and seasonal
TEST_START, TEST_WEEKS, MEASURE_WEEKS = 40, 8, 12
SD_SHARE = 0.25


def true_lift(data, channel: str, start: int, end: int, measure_end: int, delta):
    """The simulator's incremental KPI of adding ``delta`` to a channel."""
    params = data.true_params
    names = data.media_columns
    c = names.index(channel)
    media = data.X[names].to_numpy(dtype=float)
    scale = np.array([params["media_scale"][name] for name in names])
    transform = {
        name: jnp.asarray([params[name][n] for n in names])
        for name in (
            "lag_weight",
            "exponent",
            "half_max_effective_concentration",
            "slope",
            "ad_effect_retention_rate",
            "peak_effect_delay",
        )
        if name in params
    }
    spec = ModelSpec(data.model)
    changed = media.copy()
    changed[start : end + 1, c] += delta
    before = np.asarray(media_transform(spec, jnp.asarray(media / scale), transform))
    after = np.asarray(media_transform(spec, jnp.asarray(changed / scale), transform))
    coef = params["coef_media"][channel]
    return float(coef * (after - before)[start : measure_end + 1, c].sum())


def lift_row(data, channel: str, start: int, weeks: int, measure: int, delta, rng):
    """A simulated test's row and its true lift; ``delta="holdout"`` switches
    the channel off from ``start`` for ``weeks``."""
    dates = data.X.index
    end, measure_end = start + weeks - 1, start + measure - 1
    change = (
        -data.X[channel].to_numpy(dtype=float)[start : end + 1]
        if delta == "holdout"
        else delta
    )
    truth = true_lift(data, channel, start, end, measure_end, change)
    sd = SD_SHARE * abs(truth)
    return {
        "channel": channel,
        "start": dates[start],
        "end": dates[end],
        "measure_end": dates[measure_end],
        "delta_spend": delta if delta == "holdout" else float(delta),
        "lift": truth + sd * rng.standard_normal(),
        "lift_sd": sd,
    }, truth


def fit(data, model: str, seed: int, args, lift_tests=None):
    est = BayesianMMMRegressor(
        model,
        media_columns=data.media_columns,
        number_warmup=args.draws,
        number_samples=args.draws,
        random_state=seed,
        progress_bar=False,
        lift_tests=lift_tests,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est


def roi_summary(est, truth: pd.Series) -> pd.DataFrame:
    roi = est.roi()
    lower, upper = roi.quantile(0.05), roi.quantile(0.95)
    return pd.DataFrame(
        {
            "error": (roi.mean() - truth).abs() / truth,
            "width": (upper - lower) / truth,
            "covered": (lower <= truth) & (truth <= upper),
        }
    )


def run_scenario(index: int, args) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    model = MODELS[index % len(MODELS)]
    seed = 300 + index
    rng = np.random.default_rng(seed)
    data = simulate_mmm_data(
        n_periods=args.weeks,
        n_channels=3,
        model=model,
        spend_patterns=PATTERNS,
        n_controls=1,
        noise_level=0.05,
        seed=seed,
    )
    truth = data.true_roi
    rows = [
        lift_row(
            data,
            channel,
            TEST_START,
            TEST_WEEKS,
            MEASURE_WEEKS,
            "holdout" if args.holdout else 0.5 * data.X[channel].mean(),
            rng,
        )[0]
        for channel in TESTED
    ]
    tests = pd.DataFrame(rows, index=[f"{c}_test" for c in TESTED])
    plain = fit(data, model, seed, args)
    calibrated = fit(data, model, seed, args, lift_tests=tests)
    before, after = roi_summary(plain, truth), roi_summary(calibrated, truth)
    table = pd.DataFrame(
        {
            "scenario": index,
            "model": model,
            "pattern": PATTERNS,
            "tested": [c in TESTED for c in data.media_columns],
            "true_roi": truth.to_numpy(),
            "error_without": before["error"].to_numpy(),
            "error_with": after["error"].to_numpy(),
            "width_without": before["width"].to_numpy(),
            "width_with": after["width"].to_numpy(),
            "covered_with": after["covered"].to_numpy(),
            "covered_without": before["covered"].to_numpy(),
        },
        index=pd.Index(data.media_columns, name="channel"),
    )
    timing = {
        "scenario": index,
        "sampling_s_without": plain.sampling_info_["sampling_seconds"],
        "sampling_s_with": calibrated.sampling_info_["sampling_seconds"],
        "steps_without": plain.sampling_info_["mean_num_steps"],
        "steps_with": calibrated.sampling_info_["mean_num_steps"],
        "max_rhat_with": max(float(np.nanmax(v)) for v in calibrated.rhat_.values()),
        "divergences_with": calibrated.divergences_,
    }
    if args.no_suggest:
        return table, None, timing
    # The suggestion ranking against each candidate's realised value.
    budget = 4.0 * float(data.X[data.media_columns].mean().sum())
    start_suggest = time.perf_counter()
    ranking = experiments.suggest(plain, budget=budget, periods=TEST_WEEKS)
    suggest_seconds = time.perf_counter() - start_suggest
    realised = []
    for _, candidate in ranking.iterrows():
        dates = list(data.X.index)
        start = dates.index(candidate["start"])
        row, truth_lift = lift_row(
            data,
            candidate["channel"],
            start,
            TEST_WEEKS,
            len(dates) - start,
            candidate["delta_spend"],
            rng,
        )
        # the test's noise is the one suggest assumed
        row["lift_sd"] = candidate["lift_sd"]
        row["lift"] = truth_lift + candidate["lift_sd"] * rng.standard_normal()
        refit = fit(data, model, seed, args, lift_tests=pd.DataFrame([row]))
        roi_before, roi_after = plain.roi()[row["channel"]], refit.roi()[row["channel"]]
        realised.append(
            float(
                (roi_after.quantile(0.95) - roi_after.quantile(0.05))
                / (roi_before.quantile(0.95) - roi_before.quantile(0.05))
            )
        )
    ranking = ranking.assign(realised_ratio=realised, scenario=index)
    timing["suggest_s"] = suggest_seconds
    return table, ranking, timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=3)
    parser.add_argument("--draws", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--holdout", action="store_true")
    parser.add_argument("--no-suggest", action="store_true")
    args = parser.parse_args()
    skmmm.configure()  # before any JAX operation: parallel chains
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    tables, rankings, timings = [], [], []
    for index in range(args.scenarios):
        table, ranking, timing = run_scenario(index, args)
        tables.append(table)
        rankings.append(ranking)
        timings.append(timing)
        print(table.round(3).to_string(), flush=True)
        if ranking is None:
            continue
        print(
            ranking[
                [
                    "channel",
                    "extra_spend",
                    "roi_width_now",
                    "width_ratio",
                    "realised_ratio",
                ]
            ]
            .round(3)
            .to_string(),
            flush=True,
        )
    table = pd.concat(tables)
    timing = pd.DataFrame(timings)
    print("\nper-scenario timing and convergence")
    print(timing.round(3).to_string(index=False))
    print(
        f"\nsummary over {args.scenarios} scenarios, {args.weeks} weeks, "
        f"{args.draws} warm-up and {args.draws} draws x 2 chains, "
        f"{'holdout' if args.holdout else '+50% spend'} tests"
    )
    for tested, group in table.groupby("tested"):
        label = "tested channels" if tested else "untested channels"
        print(
            f"{label:18s} median ROI error {group['error_without'].median():.3f} -> "
            f"{group['error_with'].median():.3f}; median 90% width / ROI "
            f"{group['width_without'].median():.3f} -> {group['width_with'].median():.3f}"
            f" (n={len(group)})"
        )
    print(
        f"coverage of the true ROI by the 90% intervals: without "
        f"{table['covered_without'].mean():.2f}, with {table['covered_with'].mean():.2f}"
        f" (n={len(table)})"
    )
    print(
        "sampling time with tests / without: "
        f"{timing['sampling_s_with'].sum() / timing['sampling_s_without'].sum():.2f}; "
        "time per NUTS step with / without: "
        f"{(timing['sampling_s_with'] / timing['steps_with']).sum() / (timing['sampling_s_without'] / timing['steps_without']).sum():.2f}"
    )
    if args.no_suggest:
        return
    ranking = pd.concat(rankings)
    correlations = [
        stats.spearmanr(group["width_ratio"], group["realised_ratio"]).statistic
        for _, group in ranking.groupby("scenario")
    ]
    top_is_best = [
        group["realised_ratio"].iloc[0] == group["realised_ratio"].min()
        for _, group in ranking.groupby("scenario")
    ]
    print(
        "suggest: Spearman(expected, realised width ratio) per scenario "
        f"{np.round(correlations, 2).tolist()}; top suggestion realised best in "
        f"{sum(top_is_best)} of {len(top_is_best)}"
    )


if __name__ == "__main__":
    main()
