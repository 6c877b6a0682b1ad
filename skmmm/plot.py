"""Matplotlib figures of a fitted media mix model (every LightweightMMM plot).

Each function takes a fitted estimator, an :class:`~skmmm.optimize.OptimizationResult`
or data, never refits anything, and returns a :class:`matplotlib.figure.Figure`
built without pyplot's global state (nothing is shown, no rcParams are
changed). Channel names label the axes and legends; dates label the time
axes when the data carry them. The numbers come from :mod:`skmmm.attribution`
and the estimator's fitted attributes, so the plots agree with the tables.
Geo fits are drawn as national totals.

=====================================================  ==================================
LightweightMMM name                                    what it draws
=====================================================  ==================================
:func:`plot_response_curves`                           KPI per period vs spend, per channel
:func:`plot_cross_correlate`                           lagged correlation media vs KPI
:func:`plot_var_cost`                                  coefficient of variation vs cost
:func:`plot_model_fit`                                 in-sample fit, interval, R^2, MAPE
:func:`plot_out_of_sample_model_fit`                   the same on new periods
:func:`plot_media_channel_posteriors`                  posterior of each ``coef_media``
:func:`plot_prior_and_posterior`                       prior vs posterior per parameter
:func:`plot_bars_media_metrics`                        ROI or contribution share bars
:func:`plot_pre_post_budget_allocation_comparison`     starting vs optimal budget
:func:`plot_media_baseline_contribution_area_plot`     contributions over time
:func:`plot_mcmc_diagnostics`                          trace and rank plots
=====================================================  ==================================

:func:`plot_lift_tests` (no LightweightMMM counterpart) draws each
experiment's measured lift against the model's.

:func:`create_media_baseline_contribution_df` returns the table behind the
area chart.

Examples
--------
>>> from skmmm import plot
>>> figure = plot.plot_model_fit(fitted_mmm)  # doctest: +SKIP
>>> figure.savefig("model_fit.png")  # doctest: +SKIP
>>> plot.plot_bars_media_metrics(fitted_mmm, metric="contribution_share")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any, NamedTuple

import jax
import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter
from numpyro import distributions as dist
from scipy import stats
from sklearn.metrics import mean_absolute_percentage_error, r2_score
from sklearn.utils.validation import check_is_fitted

from skmmm import attribution
from skmmm._validation import split_unknown
from skmmm.diagnostics import mixing_table
from skmmm.draws import interval_quantiles
from skmmm.families import model_family
from skmmm.optimize import OptimizationResult
from skmmm.priors import (
    CHANNEL_COEF_MEDIA,
    COEF_MEDIA,
)
from skmmm.utils import distance_prior_posterior

__all__ = [
    "create_media_baseline_contribution_df",
    "plot_bars_media_metrics",
    "plot_cross_correlate",
    "plot_lift_tests",
    "plot_mcmc_diagnostics",
    "plot_media_baseline_contribution_area_plot",
    "plot_media_channel_posteriors",
    "plot_model_fit",
    "plot_out_of_sample_model_fit",
    "plot_pre_post_budget_allocation_comparison",
    "plot_prior_and_posterior",
    "plot_prior_predictive",
    "plot_response_curves",
    "plot_var_cost",
]

METRICS = ("roi", "contribution_share")
N_DENSITY_POINTS = 200
_ACTUAL_COLOR = "0.35"
_FIT_COLOR = "C2"


# ------------------------------------------------------------ helpers


def _plain_text(plot_function: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw every text of the figure as written: no ``$...$`` math.

    Channel and column names are user data; matplotlib would read two ``$``
    in one as math, and a malformed one makes saving the figure (and the
    report) fail. Text objects take the setting when they are created, so
    the figure stays plain when saved later.
    """

    @functools.wraps(plot_function)
    def plotted(*args, **kwargs) -> Figure:
        with mpl.rc_context({"text.parse_math": False}):
            return plot_function(*args, **kwargs)

    return plotted


def _check_fitted(estimator) -> None:
    check_is_fitted(estimator, "posterior_")


def _channel_color(position: int) -> str:
    return f"C{position % 10}"


def _figure_with_axes(
    n_axes: int, n_columns: int = 3, panel_size: tuple[float, float] = (4.5, 3.2)
) -> tuple[Figure, list[Axes]]:
    """A constrained-layout figure holding exactly ``n_axes`` axes in a grid."""
    n_columns = max(1, min(n_columns, n_axes))
    n_rows = -(-n_axes // n_columns)
    figure = Figure(
        figsize=(panel_size[0] * n_columns, panel_size[1] * n_rows),
        layout="constrained",
    )
    axes = list(figure.subplots(n_rows, n_columns, squeeze=False).ravel())
    for unused in axes[n_axes:]:
        figure.delaxes(unused)
    return figure, axes[:n_axes]


def _single_axes(ax: Axes | None, size: tuple[float, float] = (9, 4.5)):
    """``ax``'s figure and ``ax``, or a new figure with one axes."""
    if ax is not None:
        return ax.figure, ax
    figure = Figure(figsize=size, layout="constrained")
    return figure, figure.add_subplot()


def _time_label(index: pd.Index) -> str:
    return "Date" if isinstance(index, pd.DatetimeIndex) else "Period"


def _select_channels(estimator, channels: Sequence[str] | None) -> list[str]:
    names = list(estimator.media_names_)
    if channels is None:
        return names
    channels, unknown = split_unknown(channels, names)
    if unknown:
        raise ValueError(f"Unknown channel(s) {unknown}; the model's are {names}.")
    if not channels:
        raise ValueError("channels must name at least one channel.")
    return channels


def _density_curve(samples: np.ndarray, low: float, high: float):
    """Gaussian kernel density of ``samples`` on a grid from ``low`` to ``high``."""
    samples = np.asarray(samples, dtype=float).ravel()
    if np.ptp(samples) == 0 or high <= low:
        centre = float(samples[0])
        return np.array([centre, centre]), np.array([0.0, 1.0])
    grid = np.linspace(low, high, N_DENSITY_POINTS)
    return grid, stats.gaussian_kde(samples)(grid)


def _media_frame(X, media_columns) -> pd.DataFrame:
    """The media columns of ``X`` as a float DataFrame (names for arrays: "media_i")."""
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        values = np.asarray(X)
        if values.ndim == 1:
            values = values[:, None]
        if values.ndim != 2:
            raise ValueError(f"X must be 2-D, got {values.ndim} dimensions.")
        frame = pd.DataFrame(
            values, columns=[f"media_{i}" for i in range(values.shape[1])]
        )
        if media_columns is not None:
            media_columns = [
                frame.columns[c] if isinstance(c, Integral) else c
                for c in media_columns
            ]
    if media_columns is not None:
        media_columns, missing = split_unknown(media_columns, frame.columns)
        if missing:
            raise ValueError(
                f"X lacks the media column(s) {missing}; its columns are "
                f"{list(frame.columns)}."
            )
        frame = frame[media_columns]
    converted = {}
    for column in frame.columns:
        values = frame[column]
        not_numeric = ValueError(
            f"Media column {column!r} is not numeric; pass media_columns to "
            "select the media."
        )
        if pd.api.types.is_datetime64_any_dtype(values):
            raise not_numeric
        try:
            converted[str(column)] = pd.to_numeric(values).to_numpy(dtype=float)
        except (TypeError, ValueError) as error:
            raise not_numeric from error
    result = pd.DataFrame(converted, index=frame.index)
    bad = ~np.isfinite(result.to_numpy())
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise ValueError(
            f"Media column {result.columns[column]!r} has a non-finite value in "
            f"row {result.index[row]!r}."
        )
    return result


def _target_vector(y, n_rows: int) -> np.ndarray:
    target = np.asarray(y, dtype=float).ravel()
    if target.shape != (n_rows,):
        raise ValueError(
            f"y has {target.size} values but X has {n_rows} rows; they must match."
        )
    if not np.all(np.isfinite(target)):
        raise ValueError(
            f"y has a non-finite value in row {np.argmin(np.isfinite(target))}."
        )
    return target


def _national_totals(values: np.ndarray, index: pd.Index):
    """Sum the last axis of ``values`` over the rows of each date (geo fits).

    Rows are grouped by the first level of a MultiIndex, or by repeated
    labels; other indexes are returned unchanged.
    """
    if not (isinstance(index, pd.MultiIndex) or index.has_duplicates):
        return values, index
    frame = pd.DataFrame(np.atleast_2d(values).T, index=index)
    totals = frame.groupby(level=0, sort=True).sum()
    summed = totals.to_numpy().T
    return (summed if np.ndim(values) > 1 else summed[0]), totals.index


def _national_media(estimator) -> np.ndarray:
    """Training media (n_times, n_channels), summed over geos for geo fits."""
    media = np.asarray(estimator.training_data_.media, dtype=float)
    return media.sum(axis=2) if media.ndim == 3 else media


# ------------------------------------------------------- response curves


def _optimizer_weekly_spends(
    estimator, optimizer_result: OptimizationResult, prices
) -> tuple[np.ndarray, np.ndarray]:
    """Historical average and optimal spend per period, media units, model order."""
    _check_result(optimizer_result)
    names = list(estimator.media_names_)
    allocation = optimizer_result.optimal_allocation
    if sorted(map(str, allocation.index)) != sorted(names):
        raise ValueError(
            f"optimizer_result is for channels {list(allocation.index)}, but the "
            f"estimator's are {names}."
        )
    if prices is None:
        price = np.ones(len(names))
    elif isinstance(prices, Mapping | pd.Series):
        price = np.array([float(prices[name]) for name in names])
    else:
        price = np.broadcast_to(np.asarray(prices, dtype=float), (len(names),))
    if np.any(price <= 0):
        raise ValueError("prices must be > 0.")
    optimal = allocation[names].to_numpy(float) / optimizer_result.n_time_periods
    average = _national_media(estimator).mean(axis=0)
    return average, optimal / price


@_plain_text
def plot_response_curves(
    estimator,
    *,
    optimizer_result: OptimizationResult | None = None,
    n_points: int = 50,
    interval: float = 0.9,
    channels: Sequence[str] | None = None,
    prices=None,
) -> Figure:
    """Steady-state KPI per period against a constant spend, one axes per channel.

    Curves are :func:`skmmm.attribution.response_curves` (spend from 0 to
    twice each channel's largest historical spend) with their credible band;
    a grey band shades the spend per period the training data saw (outside
    it the curve is an extrapolation); a last axes overlays every channel's
    mean curve.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    optimizer_result : OptimizationResult, default=None
        When given, each channel's axes marks the historical average spend
        per period (circle) and the optimal one (cross), at their response.
    n_points : int, default=50
        Points per curve.
    interval : float, default=0.9
        Width of the credible band.
    channels : list of str, default=None
        Channels to draw; None draws every channel.
    prices : array-like or dict, default=None
        Price of one media unit per channel, to turn the optimal allocation
        (currency) into media units, as passed to ``optimize``; None means 1.

    Returns
    -------
    Figure
        ``len(channels) + 1`` axes.
    """
    _check_fitted(estimator)
    names = _select_channels(estimator, channels)
    curves = attribution.response_curves(
        estimator, n_points=n_points, interval=interval
    )
    markers = None
    if optimizer_result is not None:
        average, optimal = _optimizer_weekly_spends(estimator, optimizer_result, prices)
        # Row 0 of each channel: historical average spend; row 1: optimal spend.
        markers = attribution.response_curves(
            estimator, spend_grid=np.vstack([average, optimal]), interval=interval
        )
    observed = attribution.observed_spend_range(estimator)
    figure, axes = _figure_with_axes(len(names) + 1)
    band = f"{interval:.0%} interval"
    all_names = list(estimator.media_names_)
    for ax, name in zip(axes, names, strict=False):
        color = _channel_color(all_names.index(name))
        curve = curves[curves["channel"] == name]
        # Outside this range the curve is an extrapolation.
        ax.axvspan(
            *observed.loc[name, ["min", "max"]],
            color="0.5",
            alpha=0.12,
            linewidth=0,
            label="spend seen in the data",
        )
        ax.plot(curve["spend"], curve["kpi_mean"], color=color, label=name)
        ax.fill_between(
            curve["spend"],
            curve["kpi_lower"],
            curve["kpi_upper"],
            color=color,
            alpha=0.25,
            label=band,
        )
        if markers is not None:
            points = markers[markers["channel"] == name]
            for (_, point), marker, label, marker_color in zip(
                points.iterrows(),
                ("o", "X"),
                ("historical average", "optimal"),
                (color, "black"),
                strict=True,
            ):
                ax.plot(
                    point["spend"],
                    point["kpi_mean"],
                    marker=marker,
                    markersize=9,
                    linestyle="none",
                    color=marker_color,
                    label=label,
                )
        ax.set_title(name)
        ax.set_xlabel("Spend per period")
        ax.set_ylabel("KPI per period")
        ax.legend(fontsize="small")
    overlay = axes[-1]
    for name in names:
        curve = curves[curves["channel"] == name]
        overlay.plot(
            curve["spend"],
            curve["kpi_mean"],
            label=name,
            color=_channel_color(all_names.index(name)),
        )
    overlay.set_title("All channels")
    overlay.set_xlabel("Spend per period")
    overlay.set_ylabel("KPI per period")
    overlay.legend(fontsize="small")
    figure.suptitle("Response curves (steady state)")
    return figure


# ------------------------------------------------------ data exploration


def _lagged_correlation(media: np.ndarray, target: np.ndarray, lag: int) -> float:
    """Correlation of ``media[t - lag]`` with ``target[t]`` over their overlap."""
    n = len(target)
    if lag >= 0:
        left, right = media[: n - lag], target[lag:]
    else:
        left, right = media[-lag:], target[: n + lag]
    if len(left) < 2 or np.ptp(left) == 0 or np.ptp(right) == 0:
        return np.nan
    return float(np.corrcoef(left, right)[0, 1])


@_plain_text
def plot_cross_correlate(X, y, *, media_columns=None, max_lag: int = 10) -> Figure:
    """Correlation of each media column, shifted by -max_lag..max_lag periods, with y.

    A positive lag ``k`` correlates the media ``k`` periods earlier with the
    KPI: peaks at positive lags show media leading the KPI (carryover). Each
    axes' title gives the peak over lags >= 0.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_periods, n_features)
        Data in time order.
    y : array-like of shape (n_periods,)
        The KPI.
    media_columns : list of str or int, default=None
        Columns to correlate; None uses every column.
    max_lag : int, default=10
        Largest shift, in periods (at most ``n_periods - 2``).

    Returns
    -------
    Figure
        One axes per media column with ``2 * max_lag + 1`` bars.
    """
    media = _media_frame(X, media_columns)
    target = _target_vector(y, len(media))
    if not isinstance(max_lag, Integral) or not 0 <= max_lag <= len(media) - 2:
        raise ValueError(
            f"max_lag must be an integer in [0, {len(media) - 2}] for {len(media)} "
            f"periods, got {max_lag!r}."
        )
    lags = np.arange(-max_lag, max_lag + 1)
    figure, axes = _figure_with_axes(media.shape[1])
    for position, (ax, name) in enumerate(zip(axes, media.columns, strict=True)):
        values = media[name].to_numpy()
        correlations = np.array([_lagged_correlation(values, target, k) for k in lags])
        ax.bar(lags, np.nan_to_num(correlations), color=_channel_color(position))
        ax.axhline(0.0, color="black", linewidth=0.8)
        leading = correlations[lags >= 0]
        if np.all(np.isnan(leading)):
            ax.set_title(f"{name}: constant, no correlation")
        else:
            best = int(np.nanargmax(leading))
            ax.set_title(f"{name}: peak {leading[best]:.2f} at lag {best}")
        ax.set_xlabel("Lag (periods the media lead the KPI)")
        ax.set_ylabel("Correlation with KPI")
        ax.set_ylim(-1, 1)
    figure.suptitle("Cross-correlation of media and KPI")
    return figure


def _costs_by_channel(costs, names: list[str]) -> np.ndarray:
    if isinstance(costs, Mapping | pd.Series):
        missing = [name for name in names if name not in costs]
        if missing:
            raise ValueError(f"costs lack the channel(s) {missing}.")
        values = np.array([float(costs[name]) for name in names])
    else:
        values = np.asarray(costs, dtype=float).ravel()
        if values.shape != (len(names),):
            raise ValueError(
                f"costs has {values.size} values but there are {len(names)} media "
                f"columns {names}; give one cost per column."
            )
    bad = [
        n for n, v in zip(names, values, strict=True) if not (np.isfinite(v) and v >= 0)
    ]
    if bad:
        raise ValueError(f"costs must be finite and >= 0; bad for {bad}.")
    return values


@_plain_text
def plot_var_cost(X, costs, *, media_columns=None, ax: Axes | None = None) -> Figure:
    """Coefficient of variation (sd / mean over time) of each channel against its cost.

    Channels with little variation relative to their cost are the ones the
    data can say least about.

    Parameters
    ----------
    X : {array-like, DataFrame} of shape (n_periods, n_features)
        Data in time order.
    costs : array-like of shape (n_channels,), dict or Series
        Total cost of each media column, in order or by name.
    media_columns : list of str or int, default=None
        The media columns of ``X``; None uses every column.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
        One scatter point per channel, labelled with its name.
    """
    media = _media_frame(X, media_columns)
    names = list(media.columns)
    cost = _costs_by_channel(costs, names)
    means = media.mean(axis=0).to_numpy()
    zero = [name for name, mean in zip(names, means, strict=True) if mean == 0]
    if zero:
        raise ValueError(
            f"Media column(s) {zero} are zero in every period: their coefficient "
            "of variation is undefined."
        )
    variation = media.std(axis=0, ddof=0).to_numpy() / means
    figure, ax = _single_axes(ax, size=(6, 4.5))
    ax.scatter(cost, variation, color=[_channel_color(i) for i in range(len(names))])
    for name, x, y in zip(names, cost, variation, strict=True):
        ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("Cost")
    ax.set_ylabel("Coefficient of variation")
    ax.set_title("Variation of media against cost")
    return figure


# ------------------------------------------------------------ model fit


def _draw_fit(
    ax: Axes, index: pd.Index, target, mean, draws, interval: float, prefix: str
) -> None:
    lower_q, upper_q = interval_quantiles(interval)
    lower, upper = np.quantile(draws, [lower_q, upper_q], axis=0)
    r2 = r2_score(target, mean) if len(target) > 1 else np.nan
    mape = 100 * mean_absolute_percentage_error(target, mean)
    ax.plot(index, target, color=_ACTUAL_COLOR, label="Actual KPI")
    ax.plot(index, mean, color=_FIT_COLOR, label="Predicted KPI (posterior mean)")
    ax.fill_between(
        index,
        lower,
        upper,
        color=_FIT_COLOR,
        alpha=0.3,
        label=f"{interval:.0%} predictive interval",
    )
    ax.set_title(f"{prefix}: R² = {r2:.3f}, MAPE = {mape:.2f}%")
    ax.set_xlabel(_time_label(index))
    ax.set_ylabel("KPI")
    ax.legend(fontsize="small")


def _fit_figure(estimator, X, y, interval, media_gap, prefix, ax) -> Figure:
    _check_fitted(estimator)
    interval_quantiles(interval)
    # The rows' dates or period numbers ((date, geo) for geo fits).
    index = estimator.fitted_.timeline(X, media_gap).index
    if X is None:
        # Geo targets are (n_times, n_geos): date-major, like the row index.
        target = np.asarray(estimator.training_data_.target, dtype=float).ravel()
        present = estimator.fitted_.training_present
        if present is not None:  # the rows X had (ragged panel, fill_missing)
            target = target[present.reshape(-1)]
    else:
        target = _target_vector(y, len(index))
    mean = estimator.predict(X, media_gap=media_gap)
    # Summed over geos a batch of draws at a time: a long panel's every draw
    # of every row would not fit in memory.
    draws, _ = estimator.fitted_.predictive_totals(
        X, random_state=0, media_gap=media_gap
    )
    mean, _ = _national_totals(mean, index)
    target, index = _national_totals(target, index)
    figure, ax = _single_axes(ax)
    _draw_fit(ax, index, target, mean, draws, interval, prefix)
    return figure


@_plain_text
def plot_prior_predictive(
    estimator,
    X,
    y,
    *,
    n_draws: int = 200,
    interval: float = 0.9,
    random_state: int = 0,
    ax: Axes | None = None,
) -> Figure:
    """The KPI the priors expect before seeing it, against the observed KPI.

    Draws of :meth:`~skmmm.BayesianMMMRegressor.sample_prior_predictive`
    (the estimator need not be fitted): their median and central band per
    period, summed over geos for geo models. A band that misses the KPI, or
    is orders of magnitude wider, points at a prior to revisit.

    Parameters
    ----------
    estimator : skmmm regressor
        The model, fitted or not.
    X, y
        The data it would be fitted on.
    n_draws : int, default=200
        Prior draws.
    interval : float, default=0.9
        Width of the central band.
    random_state : int, default=0
        Seed of the draws.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
    """
    lower_q, upper_q = interval_quantiles(interval)
    draws = estimator.sample_prior_predictive(
        X, y, n_draws=n_draws, random_state=random_state
    )
    data = model_family(estimator).validate(estimator, X, y)
    target = np.asarray(data.target, dtype=float)
    index, present = data.index, data.present
    if target.ndim == 2:  # geo: (date, geo) pairs, dates first
        if present is None:
            draws = draws.reshape(len(draws), *target.shape)
        else:  # the cells X has; absent cells add nothing to a date's total
            full = np.zeros((len(draws), *target.shape))
            full[:, present] = draws
            draws = full
        draws, target = draws.sum(axis=2), target.sum(axis=1)
    elif present is not None:  # the periods fill_missing did not insert
        index, target = index[present], target[present]
    lower, median, upper = np.quantile(draws, [lower_q, 0.5, upper_q], axis=0)
    figure, ax = _single_axes(ax)
    ax.plot(index, target, color=_ACTUAL_COLOR, label="Actual KPI")
    ax.plot(index, median, color=_FIT_COLOR, linestyle="--", label="Prior median")
    ax.fill_between(
        index,
        lower,
        upper,
        color=_FIT_COLOR,
        alpha=0.25,
        label=f"{interval:.0%} prior predictive interval",
    )
    ax.set_title("Prior predictive: the KPI the priors expect before the data")
    ax.set_xlabel(_time_label(index))
    ax.set_ylabel("KPI")
    ax.legend(fontsize="small")
    return figure


@_plain_text
def plot_model_fit(
    estimator, X=None, y=None, *, interval: float = 0.9, ax: Axes | None = None
) -> Figure:
    """Actual KPI, posterior-mean prediction and predictive interval over time.

    The title gives R² (of the posterior mean, as ``estimator.score``) and
    MAPE. The interval is of the posterior predictive (noise included).

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame}, default=None
        Periods to show; None means the training data.
    y : array-like, default=None
        Their KPI; required with ``X``, ignored (training KPI) without.
    interval : float, default=0.9
        Width of the predictive interval.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
    """
    if X is not None and y is None:
        raise ValueError("y is required with X: pass the KPI of X's periods.")
    return _fit_figure(estimator, X, y, interval, None, "In-sample fit", ax)


@_plain_text
def plot_out_of_sample_model_fit(
    estimator,
    X,
    y,
    *,
    interval: float = 0.9,
    media_gap=None,
    ax: Axes | None = None,
) -> Figure:
    """Actual vs predicted KPI on periods after training (a hold-out).

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame} of shape (n_periods, n_features)
        The new periods, as in ``estimator.predict``.
    y : array-like of shape (n_periods,)
        Their KPI.
    interval : float, default=0.9
        Width of the predictive interval.
    media_gap : array-like of shape (n_gap, n_channels), default=None
        Media between the end of training and ``X``'s first period.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
    """
    if X is None or y is None:
        raise ValueError("plot_out_of_sample_model_fit needs the new periods X and y.")
    return _fit_figure(estimator, X, y, interval, media_gap, "Out-of-sample fit", ax)


# ------------------------------------------------------------ posteriors


def _channel_effect_draws(estimator) -> np.ndarray:
    """Draws of each channel's coefficient, (n_draws, n_channels)."""
    posterior = estimator.posterior_
    if CHANNEL_COEF_MEDIA in posterior:  # geo fits: the national coefficient
        return np.asarray(posterior[CHANNEL_COEF_MEDIA], dtype=float)
    draws = np.asarray(posterior[COEF_MEDIA], dtype=float)
    return draws.reshape(draws.shape[0], draws.shape[1], -1).mean(axis=2)


@_plain_text
def plot_media_channel_posteriors(
    estimator, *, quantiles: Sequence[float] = (0.05, 0.5, 0.95)
) -> Figure:
    """Posterior density of each channel's media coefficient, one axes per channel.

    The coefficient multiplies the transformed media on the model's internal
    scale (KPI and media divided by their means); geo fits show the national
    ``channel_coef_media``.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    quantiles : sequence of float, default=(0.05, 0.5, 0.95)
        Posterior quantiles marked by dashed vertical lines.

    Returns
    -------
    Figure
        ``n_channels`` axes, each with a density line and one line per quantile.
    """
    _check_fitted(estimator)
    if not all(0 <= q <= 1 for q in quantiles):
        raise ValueError(f"quantiles must be in [0, 1], got {list(quantiles)}.")
    draws = _channel_effect_draws(estimator)
    names = list(estimator.media_names_)
    figure, axes = _figure_with_axes(len(names))
    for position, (ax, name) in enumerate(zip(axes, names, strict=True)):
        values = draws[:, position]
        color = _channel_color(position)
        grid, density = _density_curve(values, values.min(), values.max())
        ax.plot(grid, density, color=color, label="posterior")
        for value in np.quantile(values, quantiles):
            ax.axvline(value, color=color, linestyle="--", linewidth=1)
        ax.set_title(name)
        ax.set_xlabel("coef_media (internal scale)")
        ax.set_ylabel("Density")
    figure.suptitle("Posterior of each channel's media coefficient")
    return figure


# numpyro distribution -> (its parameter names, the scipy.stats equivalent).
# Known priors are drawn as exact densities without JAX (no compilation);
# any other distribution is sampled with numpyro and smoothed.
_SCIPY_EQUIVALENTS: dict[type, tuple[tuple[str, ...], Callable]] = {
    dist.Normal: (("loc", "scale"), lambda loc, scale: stats.norm(loc, scale)),
    dist.HalfNormal: (("scale",), lambda scale: stats.halfnorm(scale=scale)),
    dist.Uniform: (("low", "high"), lambda low, high: stats.uniform(low, high - low)),
    dist.Gamma: (
        ("concentration", "rate"),
        lambda concentration, rate: stats.gamma(concentration, scale=1 / rate),
    ),
    dist.Beta: (
        ("concentration1", "concentration0"),
        lambda concentration1, concentration0: stats.beta(
            concentration1, concentration0
        ),
    ),
    dist.LogNormal: (
        ("loc", "scale"),
        lambda loc, scale: stats.lognorm(scale, scale=np.exp(loc)),
    ),
    dist.Exponential: (("rate",), lambda rate: stats.expon(scale=1 / rate)),
}


@dataclass(frozen=True)
class _PriorElement:
    """The prior of one parameter element: samples and, when known, its density."""

    samples: np.ndarray
    frozen: Any = None  # a frozen scipy.stats distribution, or None


def _prior_elements(
    prior: dist.Distribution, shape: tuple, n_samples: int, seed: int
) -> list[_PriorElement]:
    """One :class:`_PriorElement` per element of a parameter of ``shape``."""
    base = prior
    while isinstance(base, dist.ExpandedDistribution):
        base = base.base_dist
    n_elements = int(np.prod(shape, dtype=int))
    equivalent = _SCIPY_EQUIVALENTS.get(type(base))
    rng = np.random.default_rng(seed)
    if equivalent is not None:
        names, make = equivalent
        values = {
            name: np.broadcast_to(np.asarray(getattr(base, name), float), shape).ravel()
            for name in names
        }
        elements = []
        for position in range(n_elements):
            frozen = make(**{name: values[name][position] for name in names})
            samples = frozen.rvs(size=n_samples, random_state=rng)
            elements.append(_PriorElement(np.asarray(samples, float), frozen))
        return elements
    draws = np.asarray(prior.sample(jax.random.key(seed), (n_samples,)), dtype=float)
    draws = np.broadcast_to(draws, (n_samples, *shape)).reshape(n_samples, -1)
    return [_PriorElement(draws[:, position]) for position in range(n_elements)]


@_plain_text
def plot_prior_and_posterior(
    estimator,
    *,
    parameters: Sequence[str] | None = None,
    n_prior_samples: int = 2000,
    random_state: int = 0,
) -> Figure:
    """Prior and posterior density of every parameter element, one axes each.

    Priors are the ones the estimator was fitted with (defaults of its
    ``parametrization`` and its ``custom_priors``; ``coef_media`` with the
    media prior scaled to mean 1, or, when the media prior is on ROI (the
    default), ``roi``: each channel's ROI at average spend). Common priors (Normal, HalfNormal,
    Uniform, Gamma, Beta, LogNormal, Exponential) are drawn as exact
    densities, others from samples; posteriors as kernel density estimates.
    Each title gives the Kolmogorov-Smirnov distance between prior samples
    and posterior draws (:func:`skmmm.utils.distance_prior_posterior`): near
    0, the data said little about that parameter.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model. For geo fits, ``coef_media`` (per geo, drawn around
        ``channel_coef_media``) is left out, and so is ``channel_coef_media``
        unless its prior was given in ``custom_priors``.
    parameters : list of str, default=None
        Parameter names to draw (``"lag_weight"``, ``"coef_media"``, ...);
        None draws every parameter.
    n_prior_samples : int, default=2000
        Prior samples behind each distance (and density, for other priors).
    random_state : int, default=0
        Seed of the prior samples.

    Returns
    -------
    Figure
        One axes per parameter element, with a prior and a posterior line.
    """
    _check_fitted(estimator)
    fitted = estimator.fitted_
    priors = fitted.site_priors()
    available = [name for name in priors if name in estimator.posterior_]
    if parameters is None:
        names = available
    else:
        names = [parameters] if isinstance(parameters, str) else list(parameters)
        unknown = [name for name in names if name not in available]
        if unknown or not names:
            raise ValueError(
                f"Unknown parameter(s) {unknown}; this model's are {available}."
            )
    panels = []
    for offset, name in enumerate(names):
        posterior_draws = np.asarray(estimator.posterior_[name], dtype=float)
        shape = posterior_draws.shape[1:]
        elements = _prior_elements(
            priors[name], shape, n_prior_samples, random_state + offset
        )
        flat = posterior_draws.reshape(len(posterior_draws), -1)
        for position, element in enumerate(elements):
            label = fitted.element_label(name, position, shape)
            panels.append((label, element, flat[:, position]))
    figure, axes = _figure_with_axes(len(panels), panel_size=(4.2, 2.8))
    for ax, (label, element, posterior_values) in zip(axes, panels, strict=True):
        _draw_prior_and_posterior(ax, label, element, posterior_values)
    figure.suptitle("Prior and posterior of each parameter")
    return figure


def _draw_prior_and_posterior(
    ax: Axes, label: str, prior: _PriorElement, posterior_values: np.ndarray
) -> None:
    # The prior's far tails would squash the posterior: show its central 99%.
    if prior.frozen is not None:
        prior_low, prior_high = prior.frozen.ppf([0.005, 0.995])
    else:
        prior_low, prior_high = np.quantile(prior.samples, [0.005, 0.995])
    low = min(prior_low, posterior_values.min())
    high = max(prior_high, posterior_values.max())
    if prior.frozen is not None:
        grid = np.linspace(low, high, N_DENSITY_POINTS)
        density = prior.frozen.pdf(grid)
    else:
        grid, density = _density_curve(
            prior.samples, max(low, prior.samples.min()), min(high, prior.samples.max())
        )
    ax.plot(grid, density, color="C0", label="prior")
    grid, density = _density_curve(
        posterior_values, posterior_values.min(), posterior_values.max()
    )
    ax.plot(grid, density, color="C1", label="posterior")
    distance = distance_prior_posterior(prior.samples, posterior_values)
    ax.set_title(f"{label} (KS {distance:.2f})", fontsize="medium")
    ax.set_yticks([])
    ax.legend(fontsize="x-small")


# ------------------------------------------------------------- metrics


@_plain_text
def plot_bars_media_metrics(
    estimator,
    *,
    metric: str = "roi",
    interval: float = 0.9,
    ax: Axes | None = None,
) -> Figure:
    """Posterior mean ROI or contribution share per channel, with credible intervals.

    Bar heights are the means of :func:`skmmm.attribution.roi` or
    :func:`skmmm.attribution.contribution_share` (the ``roi_mean`` /
    ``share_mean`` of :func:`skmmm.attribution.summary`); error bars span
    the central ``interval`` of the draws.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    metric : {"roi", "contribution_share"}, default="roi"
        What to draw.
    interval : float, default=0.9
        Width of the credible interval.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
        One bar per channel.
    """
    if metric not in METRICS:
        raise ValueError(f"Unknown metric {metric!r}; choose one of {METRICS}.")
    lower_q, upper_q = interval_quantiles(interval)
    _check_fitted(estimator)
    if metric == "roi":
        draws = attribution.roi(estimator)
    else:
        draws = attribution.contribution_share(estimator)
    names = list(draws.columns)
    mean = draws.mean(axis=0).to_numpy()
    lower = draws.quantile(lower_q, axis=0).to_numpy()
    upper = draws.quantile(upper_q, axis=0).to_numpy()
    figure, ax = _single_axes(ax, size=(1.4 * len(names) + 3, 4.5))
    positions = np.arange(len(names))
    ax.bar(
        positions,
        mean,
        color=[_channel_color(i) for i in positions],
        # A few extreme draws can put the mean outside the interval: the
        # interval's line then starts at the bar's top.
        yerr=np.nan_to_num(
            np.clip(np.vstack([mean - lower, upper - mean]), 0.0, None),
            nan=0.0,
            posinf=0.0,
        ),
        capsize=4,
    )
    ax.set_xticks(positions, names, rotation=30, ha="right")
    if metric == "roi":
        ax.set_ylabel("ROI (KPI per unit of cost)")
        title = "Return on investment"
    else:
        ax.set_ylabel("Share of the predicted KPI")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        title = "Contribution share"
    # Two lines: on one, the title is wider than the figure of one or two
    # channels and constrained layout cannot shrink it.
    ax.set_title(f"{title} per channel\nbars: mean; lines: {interval:.0%} interval")
    return figure


@_plain_text
def plot_lift_tests(
    estimator,
    *,
    lift_tests=None,
    interval: float = 0.9,
    uncalibrated=None,
    ax: Axes | None = None,
) -> Figure:
    """Each experiment's measured lift against the model's, with intervals.

    One row per test: the measured lift with its central ``interval``
    under Normal(lift, lift_sd), and the model's posterior lift
    (:func:`skmmm.attribution.lift_test_fit`); with ``uncalibrated``, also
    the lift of the model fitted without the tests.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    lift_tests : DataFrame, default=None
        The experiments; None means the estimator's ``lift_tests``.
    interval : float, default=0.9
        Width of the intervals.
    uncalibrated : fitted skmmm regressor, default=None
        The same model fitted without the tests.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
    """
    lower_q, _ = interval_quantiles(interval)
    _check_fitted(estimator)
    table = attribution.lift_test_fit(
        estimator, lift_tests, interval=interval, uncalibrated=uncalibrated
    )
    n_tests = len(table)
    figure, ax = _single_axes(ax, size=(8, 1.0 + 0.7 * n_tests))
    rows = np.arange(n_tests)[::-1].astype(float)
    half_width = -stats.norm.ppf(lower_q) * table["lift_sd"].to_numpy()
    measured = table["lift"].to_numpy()
    ax.errorbar(
        measured,
        rows + 0.15,
        xerr=half_width,
        fmt="o",
        color="black",
        capsize=4,
        label="measured",
    )
    series = [("model_lift", "model", "C0", 0.0)]
    if uncalibrated is not None:
        series.append(("model_lift_before", "model without the tests", "C7", -0.15))
    for prefix, label, color, offset in series:
        mean = table[f"{prefix}_mean"].to_numpy()
        ax.errorbar(
            mean,
            rows + offset,
            xerr=np.vstack(
                [
                    mean - table[f"{prefix}_lower"].to_numpy(),
                    table[f"{prefix}_upper"].to_numpy() - mean,
                ]
            ),
            fmt="s",
            color=color,
            capsize=4,
            label=label,
        )
    labels = [
        f"{label}: {channel}" if str(label) != str(channel) else str(channel)
        for label, channel in zip(table.index, table["channel"], strict=True)
    ]
    ax.set_yticks(rows, labels)
    ax.axvline(0.0, color="0.8", linewidth=1)
    ax.set_xlabel("Lift over the measurement window (KPI)")
    ax.set_title(f"Lift tests: measured and modelled ({interval:.0%} intervals)")
    ax.legend(loc="best", fontsize="small")
    return figure


def _check_result(optimizer_result) -> None:
    if not isinstance(optimizer_result, OptimizationResult):
        raise TypeError(
            "optimizer_result must be the OptimizationResult returned by "
            f"BudgetOptimizer.optimize, got {type(optimizer_result).__name__}."
        )


def _label_bars(ax: Axes, bars, labels: Sequence[str]) -> None:
    for bar, text in zip(bars, labels, strict=True):
        ax.annotate(
            text,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            xytext=(0, 3),
            textcoords="offset points",
            fontsize="small",
        )


@_plain_text
def plot_pre_post_budget_allocation_comparison(
    optimizer_result: OptimizationResult,
) -> Figure:
    """Starting vs optimal budget per channel, and the KPI each is predicted to give.

    Parameters
    ----------
    optimizer_result : OptimizationResult
        From :meth:`skmmm.BudgetOptimizer.optimize`.

    Returns
    -------
    Figure
        Two axes: grouped bars of spend per channel (labelled with each
        channel's share of the budget), and bars of the predicted KPI over
        the horizon with their credible intervals.
    """
    _check_result(optimizer_result)
    result = optimizer_result
    names = [str(name) for name in result.optimal_allocation.index]
    starting = result.starting_allocation.reindex(result.optimal_allocation.index)
    figure, (spend_ax, kpi_ax) = _figure_with_axes(2, n_columns=2, panel_size=(6, 4.5))
    positions = np.arange(len(names))
    width = 0.4
    for offset, allocation, label, color in (
        (-width / 2, starting.to_numpy(float), "starting split", "C7"),
        (width / 2, result.optimal_allocation.to_numpy(float), "optimal", "C0"),
    ):
        bars = spend_ax.bar(
            positions + offset, allocation, width, label=label, color=color
        )
        total = allocation.sum()
        _label_bars(
            spend_ax, bars, [f"{v / total:.0%}" if total else "" for v in allocation]
        )
    spend_ax.set_xticks(positions, names, rotation=30, ha="right")
    spend_ax.set_ylabel(f"Spend over {result.n_time_periods} periods")
    spend_ax.set_title(f"Budget allocation (total {result.budget:,.0f})")
    spend_ax.legend(fontsize="small")

    kpis = np.array([result.kpi_starting, result.kpi_optimal])
    intervals = np.array([result.kpi_starting_interval, result.kpi_optimal_interval])
    bars = kpi_ax.bar(
        [0, 1],
        kpis,
        color=["C7", "C0"],
        yerr=np.abs(np.vstack([kpis - intervals[:, 0], intervals[:, 1] - kpis])),
        capsize=6,
    )
    _label_bars(kpi_ax, bars, [f"{v:,.0f}" for v in kpis])
    kpi_ax.set_xticks([0, 1], ["starting", "optimal"])
    kpi_ax.set_ylabel(f"Predicted KPI over {result.n_time_periods} periods")
    kpi_ax.set_title(f"Predicted KPI ({result.kpi_uplift:+.1%} with the optimal split)")
    figure.suptitle("Budget allocation before and after optimisation")
    return figure


# ------------------------------------------------------- contributions


def create_media_baseline_contribution_df(
    estimator, X=None, *, media_gap=None
) -> pd.DataFrame:
    """Contribution of each channel and of the baseline in every period.

    Built on :func:`skmmm.attribution.contributions` (posterior means, KPI
    units), with LightweightMMM's columns. Unlike LightweightMMM, a negative
    baseline is kept as it is, so every row adds up to ``estimator.predict``.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame}, default=None
        Periods to attribute; None means the training data.
    media_gap : array-like of shape (n_gap, n_channels), default=None
        Media between the end of training and ``X``'s first period.

    Returns
    -------
    DataFrame
        Indexed by the periods' dates (or numbers), with columns
        ``"<channel>_percentage"`` and ``"baseline_percentage"`` (shares of
        the prediction), ``"avg_prediction"``, ``"<channel> contribution"``,
        ``"baseline contribution"`` and ``"period"`` (1, 2, ...).
    """
    _check_fitted(estimator)
    contributions = attribution.contributions(estimator, X, media_gap=media_gap)
    contributions = contributions.astype(float)
    parts = list(estimator.media_names_) + ["baseline"]
    prediction = contributions[parts].sum(axis=1)
    denominator = prediction.where(prediction != 0)
    frame = pd.DataFrame(index=contributions.index)
    for part in parts:
        frame[f"{part}_percentage"] = (contributions[part] / denominator).fillna(0.0)
    frame["avg_prediction"] = prediction
    for part in parts:
        frame[f"{part} contribution"] = contributions[part]
    frame["period"] = np.arange(1, len(frame) + 1)
    return frame


@_plain_text
def plot_media_baseline_contribution_area_plot(
    estimator, X=None, *, media_gap=None, ax: Axes | None = None
) -> Figure:
    """Stacked area of the baseline and each channel's contribution over time.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame}, default=None
        Periods to attribute; None means the training data.
    media_gap : array-like of shape (n_gap, n_channels), default=None
        Media between the end of training and ``X``'s first period.
    ax : Axes, default=None
        Axes to draw into; None creates a figure.

    Returns
    -------
    Figure
        One area for the baseline (bottom) and one per channel.
    """
    frame = create_media_baseline_contribution_df(estimator, X, media_gap=media_gap)
    names = list(estimator.media_names_)
    figure, ax = _single_axes(ax, size=(11, 5))
    ax.stackplot(
        frame.index,
        frame["baseline contribution"],
        *(frame[f"{name} contribution"] for name in names),
        labels=["baseline", *names],
        colors=[_ACTUAL_COLOR, *(_channel_color(i) for i in range(len(names)))],
        alpha=0.85,
    )
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="center left", bbox_to_anchor=(1, 0.5))
    ax.set_xlabel(_time_label(frame.index))
    ax.set_ylabel("KPI")
    ax.set_title("Baseline and media contributions over time")
    return figure


# ---------------------------------------------------------- diagnostics


class _Element(NamedTuple):
    """One element of a parameter, with its convergence diagnostics."""

    label: str
    name: str
    position: int
    rhat: float
    ess: float


def _worst_mixing(estimator, n_parameters: int) -> list[_Element]:
    """The parameter elements whose chains mixed worst (:func:`mixing_table`)."""
    table = mixing_table(estimator).head(n_parameters)
    return [
        _Element(label, row.site, int(row.position), row.r_hat, row.ess_bulk)
        for label, row in zip(table.index, table.itertuples(), strict=True)
    ]


def _draws_by_chain(estimator, values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Draws as (n_chains, n_samples) and chain labels, while the run is complete.

    After ``reduce_trace`` the chain boundaries are lost: one row of all draws.
    """
    n_chains = int(getattr(estimator, "number_chains", 1))
    n_samples = int(getattr(estimator, "number_samples", len(values)))
    if n_chains * n_samples == len(values):
        return values.reshape(n_chains, n_samples), [
            f"chain {chain}" for chain in range(n_chains)
        ]
    return values[None, :], ["all draws (chains merged)"]


@_plain_text
def plot_mcmc_diagnostics(
    estimator, *, n_parameters: int = 4, n_bins: int = 20
) -> Figure:
    """Trace and rank plots of the parameters whose chains mixed worst.

    Left column: each chain's draws in order (chains that mix overlap, with
    no trend). Right column: histograms of the ranks of each chain's draws
    among all draws (uniform when the chains sample the same distribution).
    With a single chain (or after ``reduce_trace``) the rank plot compares
    the first and second half of the draws, as split r_hat does: one
    chain's ranks among its own draws are uniform whatever the chain did.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model.
    n_parameters : int, default=4
        How many parameter elements to show, highest r_hat first (lowest
        effective sample size with a single chain).
    n_bins : int, default=20
        Bins of the rank histograms.

    Returns
    -------
    Figure
        ``2 * n_parameters`` axes (fewer if the model has fewer parameters).
    """
    if not isinstance(n_parameters, Integral) or n_parameters < 1:
        raise ValueError(
            f"n_parameters must be a positive integer, got {n_parameters!r}."
        )
    if not isinstance(n_bins, Integral) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}.")
    _check_fitted(estimator)
    selected = _worst_mixing(estimator, n_parameters)
    figure, axes = _figure_with_axes(
        2 * len(selected), n_columns=2, panel_size=(6, 2.6)
    )
    for row, element in enumerate(selected):
        draws = np.asarray(estimator.posterior_[element.name], dtype=float)
        values = draws.reshape(len(draws), -1)[:, element.position]
        chains, chain_labels = _draws_by_chain(estimator, values)
        _draw_trace(axes[2 * row], element, chains, chain_labels)
        _draw_ranks(
            axes[2 * row + 1], element.label, *_halves(chains, chain_labels), n_bins
        )
    figure.suptitle("MCMC diagnostics of the worst-mixing parameters")
    return figure


def _draw_trace(
    ax: Axes, element: _Element, chains: np.ndarray, chain_labels: list[str]
) -> None:
    for values, chain_label in zip(chains, chain_labels, strict=True):
        ax.plot(values, linewidth=0.7, alpha=0.8, label=chain_label)
    ax.set_title(
        f"{element.label}: r_hat {element.rhat:.3f}, ESS {element.ess:.0f}",
        fontsize="medium",
    )
    ax.set_xlabel("Draw")
    ax.set_ylabel(element.label)
    ax.legend(fontsize="x-small")


def _halves(chains: np.ndarray, labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """One chain's draws as its two halves (the odd last draw left out)."""
    if len(chains) > 1:
        return chains, labels
    half = chains.shape[1] // 2
    return chains[0, : 2 * half].reshape(2, half), [
        f"{labels[0]}, first half",
        f"{labels[0]}, second half",
    ]


def _draw_ranks(
    ax: Axes, label: str, chains: np.ndarray, chain_labels: list[str], n_bins: int
) -> None:
    ranks = stats.rankdata(chains.ravel()).reshape(chains.shape)
    edges = np.linspace(0.5, chains.size + 0.5, n_bins + 1)
    for chain_ranks, chain_label in zip(ranks, chain_labels, strict=True):
        counts, _ = np.histogram(chain_ranks, bins=edges)
        ax.stairs(counts, edges, label=chain_label)
    ax.axhline(chains.shape[1] / n_bins, color="black", linestyle="--", linewidth=0.8)
    ax.set_title(f"{label}: rank plot", fontsize="medium")
    ax.set_xlabel("Rank among all draws")
    ax.set_ylabel("Count")
