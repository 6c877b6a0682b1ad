"""Which experiment to run next: the expected value of a lift test, before running it.

:func:`suggest` ranks candidate experiments (a spend change on one channel
for some periods) by how much each is expected to narrow that channel's ROI
interval. It is a preposterior analysis on the existing posterior draws, no
refit per candidate:

1. the model's lift of the candidate test in every draw, ``L_s``
   (:func:`skmmm.attribution.lift_test_draws`);
2. simulated outcomes of the test from the posterior predictive: a draw
   ``s`` at random, then ``y = L_s + lift_sd * e`` with ``e ~ Normal(0, 1)``;
3. for each outcome, the posterior after the test by importance weighting
   of the draws, ``w_s ∝ Normal(y | L_s, lift_sd)`` (the weights of the
   fit that would add this test to ``lift_tests``), and the width of the
   channel's weighted central ROI interval;
4. the expected width after the test: the mean over the outcomes, next to
   today's width.

Importance weighting is accurate while the test leaves enough draws with
weight (``effective_draws``, the mean of ``1 / sum_s w_s**2``): a test far
more precise than today's posterior concentrates the weight on a few draws,
and its expected width is then only indicative (refit with the test as a
``lift_tests`` row to know).

The candidates run at the end of the training timeline, through the
channel's saturation and lag at the spend it had then: the response to
expect when the channel keeps its recent spend pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from skmmm import attribution
from skmmm.draws import interval_quantiles

__all__ = ["expected_interval_widths", "suggest"]

DEFAULT_SPEND_CHANGES = (0.5, 1.0)
DEFAULT_PERIODS = (4, 8)


def _weighted_widths(
    values: np.ndarray, log_weights: np.ndarray, lower_q: float, upper_q: float
) -> tuple[np.ndarray, np.ndarray]:
    """Width of the weighted central interval of ``values`` for each weight row.

    ``values`` (n_draws,), ``log_weights`` (n_outcomes, n_draws). Returns the
    widths and the effective number of draws of each row.
    """
    order = np.argsort(values)
    sorted_values = values[order]
    log_weights = log_weights[:, order]
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    cumulative = np.cumsum(weights, axis=1)
    lower = sorted_values[np.argmax(cumulative >= lower_q, axis=1)]
    upper = sorted_values[np.argmax(cumulative >= upper_q, axis=1)]
    return upper - lower, 1.0 / (weights**2).sum(axis=1)


def expected_interval_widths(
    roi_draws: np.ndarray,
    lift_draws: np.ndarray,
    lift_sd: float,
    *,
    interval: float = 0.9,
    n_outcomes: int = 200,
    random_state=None,
) -> tuple[float, float, float]:
    """Today's and the expected ROI interval width after one test.

    Parameters
    ----------
    roi_draws : ndarray of shape (n_draws,)
        The channel's ROI per posterior draw.
    lift_draws : ndarray of shape (n_draws,)
        The test's lift per draw (KPI units).
    lift_sd : float
        The standard error the test's measured lift will have.
    interval : float, default=0.9
        Width of the central interval.
    n_outcomes : int, default=200
        Simulated outcomes of the test.
    random_state : int or Generator, default=None
        Seed of the outcomes.

    Returns
    -------
    (width_now, expected_width_after, mean_effective_draws)
    """
    lower_q, upper_q = interval_quantiles(interval)
    roi_draws = np.asarray(roi_draws, dtype=float)
    lift_draws = np.asarray(lift_draws, dtype=float)
    rng = np.random.default_rng(random_state)
    n_draws = len(roi_draws)
    now = float(np.quantile(roi_draws, upper_q) - np.quantile(roi_draws, lower_q))
    sources = rng.integers(n_draws, size=n_outcomes)
    outcomes = lift_draws[sources] + lift_sd * rng.standard_normal(n_outcomes)
    log_weights = -0.5 * ((outcomes[:, None] - lift_draws[None, :]) / lift_sd) ** 2
    widths, effective = _weighted_widths(roi_draws, log_weights, lower_q, upper_q)
    return now, float(widths.mean()), float(effective.mean())


def _as_tuple(value, name: str, kind) -> tuple:
    values = tuple(value) if isinstance(value, Sequence | np.ndarray) else (value,)
    if not values or any(
        isinstance(v, bool) or not isinstance(v, kind) for v in values
    ):
        raise ValueError(
            f"{name} must be a number or a sequence of numbers, got {value!r}."
        )
    return values


def suggest(
    est,
    *,
    budget: float | Sequence[float] | None = None,
    periods: int | Sequence[int] = DEFAULT_PERIODS,
    spend_change: float | Sequence[float] | None = None,
    post_periods: int = 2,
    channels: Sequence[str] | None = None,
    lift_sd: float | None = None,
    interval: float = 0.9,
    n_outcomes: int = 200,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Rank candidate experiments by how much they would narrow each ROI interval.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model (calibrated with ``lift_tests`` or not).
    budget : float or sequence of float, default=None
        Extra spend of a test over its whole length (negative: a holdout of
        that much spend); each channel is tried with the same money, so
        the ranking compares what a budget buys. Exclusive with
        ``spend_change``.
    periods : int or sequence of int, default=(4, 8)
        Lengths of the spend change to try, in periods.
    spend_change : float or sequence of float, default=None
        Without ``budget``: the spend change per period as a share of the
        channel's average spend per period (1.0 doubles it, -1.0 is a full
        holdout). None means (0.5, 1.0).
    post_periods : int, default=2
        Periods measured after the spend change (its carry-over).
    channels : sequence of str, default=None
        Channels to try; None means every channel that spent.
    lift_sd : float, default=None
        The standard error the test's measured lift will have, in KPI
        units. None assumes a test against a control group as noisy as the
        treatment: the model's noise sd per period (national, summed over
        geos) times ``sqrt(2 * measured periods)``.
    interval : float, default=0.9
        Width of the ROI's central interval.
    n_outcomes : int, default=200
        Simulated outcomes per candidate.
    random_state : int, default=0
        Seed of the simulated outcomes.

    Returns
    -------
    DataFrame
        One row per candidate, best first (index ``rank`` from 1), with
        ``channel``, ``delta_spend`` (per period), ``periods``,
        ``extra_spend`` (over the test), ``start``, ``end``,
        ``measure_end``, ``lift_sd``, ``expected_lift`` (the model's mean
        lift), ``roi_width_now``, ``roi_width_after`` (expected),
        ``width_ratio`` (after over now; the ranking) and
        ``effective_draws`` (mean over outcomes; small values mean the
        expected width is only indicative). A row can be copied into
        ``lift_tests`` once the test has run, with its measured ``lift``
        and ``lift_sd``.

    Examples
    --------
    >>> from skmmm import experiments
    >>> ranking = experiments.suggest(mmm, budget=50_000, periods=8)  # doctest: +SKIP
    >>> ranking[["channel", "roi_width_now", "roi_width_after"]].head(3)  # doctest: +SKIP
    """
    check_is_fitted(est, "posterior_")
    fitted = est.fitted_
    interval_quantiles(interval)
    if budget is not None and spend_change is not None:
        raise ValueError(
            "Give budget (extra spend per test) or spend_change (a share of each "
            "channel's average spend), not both."
        )
    lengths = _as_tuple(periods, "periods", Integral)
    n_times = fitted.n_train_periods
    if isinstance(post_periods, bool) or not isinstance(post_periods, Integral):
        raise ValueError(f"post_periods must be an integer >= 0, got {post_periods!r}.")
    for length in lengths:
        if not 1 <= length <= n_times - post_periods:
            raise ValueError(
                f"periods={length} with post_periods={post_periods} does not fit in "
                f"the {n_times} training periods."
            )
    if (
        isinstance(n_outcomes, bool)
        or not isinstance(n_outcomes, Integral)
        or n_outcomes < 1
    ):
        raise ValueError(f"n_outcomes must be a positive integer, got {n_outcomes!r}.")
    if lift_sd is not None and (
        isinstance(lift_sd, bool) or not isinstance(lift_sd, Real) or not lift_sd > 0
    ):
        raise ValueError(f"lift_sd must be a positive number, got {lift_sd!r}.")
    media = fitted.training_media.sum(axis=2)  # (n_times, n_channels), national
    spent = [
        name
        for name, total in zip(fitted.media_names, media.sum(axis=0), strict=True)
        if total > 0
    ]
    names = spent if channels is None else list(channels)
    unknown = [name for name in names if name not in fitted.media_names]
    if unknown:
        raise ValueError(
            f"Unknown channel(s) {unknown}; the channels are {fitted.media_names}."
        )
    if budget is not None:
        changes = [("budget", b) for b in _as_tuple(budget, "budget", Real)]
    else:
        shares = DEFAULT_SPEND_CHANGES if spend_change is None else spend_change
        changes = [("share", r) for r in _as_tuple(shares, "spend_change", Real)]
    index = fitted.training.index
    noise = np.sqrt((fitted.noise_sd() ** 2).sum(axis=1)).mean()
    rows = []
    for name in names:
        c = fitted.media_names.index(name)
        average = media[:, c].mean()
        for length in lengths:
            start = n_times - post_periods - length
            end = start + length - 1
            for kind, value in changes:
                delta = value / length if kind == "budget" else value * average
                sd = (
                    float(lift_sd)
                    if lift_sd is not None
                    else float(noise * np.sqrt(2 * (n_times - start)))
                )
                rows.append(
                    {
                        "channel": name,
                        "start": index[start],
                        "end": index[end],
                        "measure_end": index[n_times - 1],
                        "delta_spend": float(delta),
                        "lift": 0.0,
                        "lift_sd": sd,
                        "periods": int(length),
                    }
                )
    candidates = pd.DataFrame(rows)
    table = candidates.drop(columns="periods")
    try:
        lifts = attribution.lift_test_draws(est, table).to_numpy()
    except ValueError as error:
        raise ValueError(
            "A candidate experiment is not possible on this channel's recent "
            f"spend ({error}). Choose smaller holdouts (spend_change or budget) "
            "or other channels."
        ) from None
    roi = attribution.roi(est)
    rng = np.random.default_rng(random_state)
    results = [
        expected_interval_widths(
            roi[row.channel].to_numpy(),
            lifts[:, k],
            row.lift_sd,
            interval=interval,
            n_outcomes=int(n_outcomes),
            random_state=rng,
        )
        for k, row in enumerate(candidates.itertuples())
    ]
    now, after, effective = (np.array(column) for column in zip(*results, strict=True))
    out = candidates.drop(columns="lift").assign(
        extra_spend=candidates["delta_spend"] * candidates["periods"],
        expected_lift=lifts.mean(axis=0),
        roi_width_now=now,
        roi_width_after=after,
        width_ratio=np.where(now > 0, after / np.where(now > 0, now, 1.0), 1.0),
        effective_draws=effective,
    )
    columns = [
        "channel",
        "delta_spend",
        "periods",
        "extra_spend",
        "start",
        "end",
        "measure_end",
        "lift_sd",
        "expected_lift",
        "roi_width_now",
        "roi_width_after",
        "width_ratio",
        "effective_draws",
    ]
    out = out[columns].sort_values("width_ratio", kind="stable").reset_index(drop=True)
    out.index = pd.RangeIndex(1, len(out) + 1, name="rank")
    return out
