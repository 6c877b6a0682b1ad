"""Simulated media mix data with known ground truth, and the bundled example.

Three entry points:

- :func:`simulate_dummy_data` reproduces LightweightMMM 0.1.9's
  ``utils.simulate_dummy_data``: plain arrays for demos and smoke tests.
- :func:`simulate_mmm_data` simulates realistic weekly data (spend in
  currency, a sales KPI, controls) from exactly the model family skmmm fits,
  and returns the true parameters, contributions and ROIs so that a fit can
  be scored against the truth.
- :func:`load_example` loads the bundled example data set (156 weeks, five
  channels, two controls) and its ground truth.

This module is the independent ground truth of the package: its media
transforms are plain NumPy re-implementations; from skmmm it imports only
how a date is read (:func:`skmmm._validation.parse_date`), and no JAX.
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from skmmm._validation import parse_date

__all__ = ["load_example", "simulate_dummy_data", "simulate_mmm_data"]

MODELS = ("adstock", "hill_adstock", "carryover")
SPEND_PATTERNS = ("always_on", "flighted", "seasonal")
CHANNEL_NAMES = ("tv", "search", "social", "display", "radio")
CONTROL_NAMES = ("price_index", "holiday", "competitor_index", "weather_index")

# Default spend pattern of the named channels; further channels cycle
# through SPEND_PATTERNS.
_DEFAULT_PATTERNS = ("flighted", "always_on", "seasonal", "always_on", "flighted")
# Typical weekly spend (currency) of the named channels.
_CHANNEL_LEVELS = (12_000.0, 9_000.0, 7_000.0, 6_000.0, 5_000.0)

_NUMBER_LAGS = 13
_DEGREES_SEASONALITY = 2
_SEASONALITY_FREQUENCY = 52

_EXAMPLE_CSV = "example_weekly.csv"
_EXAMPLE_JSON = "example_truth.json"


# --------------------------------------------------------------------------
# Plain NumPy media transforms (the ground truth skmmm's JAX code must match)
# --------------------------------------------------------------------------


def _adstock(data: np.ndarray, lag_weight: np.ndarray, normalise: bool = True):
    """Geometric adstock along axis 0; ``lag_weight`` broadcasts over axis 1."""
    data = np.asarray(data, dtype=float)
    lag_weight = np.asarray(lag_weight, dtype=float)
    out = np.empty_like(data)
    out[0] = data[0]
    for t in range(1, data.shape[0]):
        out[t] = data[t] + lag_weight * out[t - 1]
    return out * (1.0 - lag_weight) if normalise else out


def _hill(data: np.ndarray, half_max: np.ndarray, slope: np.ndarray):
    """Hill saturation ``1 / (1 + (x / half_max) ** -slope)``, 0 at x = 0."""
    data = np.asarray(data, dtype=float)
    powered = np.power(data, slope)
    return powered / (powered + np.power(half_max, slope))


def _carryover(
    data: np.ndarray,
    retention: np.ndarray,
    delay: np.ndarray,
    number_lags: int = _NUMBER_LAGS,
):
    """Delayed carryover: a normalised weighted sum of the last lags."""
    data = np.asarray(data, dtype=float)
    lags = np.arange(number_lags, dtype=float)[:, None]
    weights = np.power(retention, (lags - delay) ** 2)  # (lags, channels)
    out = np.zeros_like(data)
    for lag in range(number_lags):
        out[lag:] += weights[lag] * data[: data.shape[0] - lag]
    return out / weights.sum(axis=0)


def _apply_exponent(data: np.ndarray, exponent: np.ndarray):
    """``data ** exponent`` with 0 mapped to 0."""
    data = np.asarray(data, dtype=float)
    return np.where(data > 0, np.power(np.maximum(data, 0.0), exponent), 0.0)


def _seasonality(
    n_periods: int, gamma: np.ndarray, frequency: int = _SEASONALITY_FREQUENCY
):
    """Fourier seasonality; ``gamma[d - 1] = (cos coefficient, sin coefficient)``."""
    t = np.arange(n_periods, dtype=float)[:, None]
    degrees = np.arange(1, gamma.shape[0] + 1, dtype=float)[None, :]
    angle = 2.0 * np.pi * degrees * t / frequency
    return np.cos(angle) @ gamma[:, 0] + np.sin(angle) @ gamma[:, 1]


def _media_transform(scaled: np.ndarray, model: str, params: dict[str, np.ndarray]):
    """Apply ``model``'s transform to mean-scaled media of shape (T, C)."""
    if model == "hill_adstock":
        adstocked = _adstock(scaled, params["lag_weight"])
        return _hill(
            adstocked, params["half_max_effective_concentration"], params["slope"]
        )
    if model == "adstock":
        return _apply_exponent(
            _adstock(scaled, params["lag_weight"]), params["exponent"]
        )
    carried = _carryover(
        scaled, params["ad_effect_retention_rate"], params["peak_effect_delay"]
    )
    return _apply_exponent(carried, params["exponent"])


# --------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{name} must be an integer >= {minimum}, got {value!r} "
            f"of type {type(value).__name__}."
        )
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}.")
    return int(value)


def _check_patterns(spend_patterns: Any, n_channels: int) -> list[str]:
    if spend_patterns is None:
        return [
            _DEFAULT_PATTERNS[c]
            if c < len(_DEFAULT_PATTERNS)
            else SPEND_PATTERNS[c % len(SPEND_PATTERNS)]
            for c in range(n_channels)
        ]
    if isinstance(spend_patterns, str):
        patterns = [spend_patterns] * n_channels
    else:
        patterns = list(spend_patterns)
        if len(patterns) != n_channels:
            raise ValueError(
                f"spend_patterns has {len(patterns)} entries, but n_channels is "
                f"{n_channels}: give one pattern per channel or a single string."
            )
    for pattern in patterns:
        if pattern not in SPEND_PATTERNS:
            raise ValueError(
                f"Unknown spend pattern {pattern!r}; choose from {SPEND_PATTERNS}."
            )
    return patterns


# --------------------------------------------------------------------------
# LightweightMMM's dummy data
# --------------------------------------------------------------------------


def simulate_dummy_data(
    data_size: int,
    n_media_channels: int,
    n_extra_features: int,
    geos: int = 1,
    seed: int = 5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate LightweightMMM-style dummy arrays for demos and smoke tests.

    A NumPy port of LightweightMMM 0.1.9's ``utils.simulate_dummy_data`` (same
    shapes, distributions and recipe; the random streams differ). Media are
    Normal(20, 1.5), extra features Normal(5, 1); the target is
    ``15 + seasonality + carryover(media) @ beta_media + extra @ beta_extra +
    Normal(3, 1)`` with carryover retention 0.5 and peak delay 1 on the raw
    media, no saturation and no trend. Costs are 10% of the total media. A
    burn-in of ``int(0.2 * data_size)`` periods is simulated and dropped, so
    the first rows already carry over earlier media. For ``geos > 1`` the
    national series are split over geos with random weights, and the geo
    targets get extra Normal(0, 0.5) noise.

    Parameters
    ----------
    data_size : int
        Number of time periods (rows), >= 1.
    n_media_channels : int
        Number of media channels, >= 1.
    n_extra_features : int
        Number of extra features (controls), >= 1.
    geos : int, default=1
        Number of geos; 1 gives national (2-D) data.
    seed : int, default=5
        Seed of the NumPy random generator.

    Returns
    -------
    media_data : ndarray of shape (data_size, n_media_channels) or \
(data_size, n_media_channels, geos), float32
        Media (positive, around 20 nationally).
    extra_features : ndarray of shape (data_size, n_extra_features) or \
(data_size, n_extra_features, geos), float32
        Extra features (around 5 nationally).
    target : ndarray of shape (data_size,) or (data_size, geos), float32
        The KPI.
    costs : ndarray of shape (n_media_channels,), float32
        Total cost per channel (national).

    Raises
    ------
    ValueError
        If an argument is not a positive integer.

    Examples
    --------
    >>> from skmmm.datasets import simulate_dummy_data
    >>> media, extra, target, costs = simulate_dummy_data(
    ...     data_size=104, n_media_channels=3, n_extra_features=2)
    >>> media.shape, extra.shape, target.shape, costs.shape
    ((104, 3), (104, 2), (104,), (3,))
    >>> media, extra, target, costs = simulate_dummy_data(104, 3, 2, geos=4)
    >>> media.shape, extra.shape, target.shape, costs.shape
    ((104, 3, 4), (104, 2, 4), (104, 4), (3,))
    >>> str(media.dtype)
    'float32'
    """
    data_size = _check_int(data_size, "data_size", 1)
    n_media_channels = _check_int(n_media_channels, "n_media_channels", 1)
    n_extra_features = _check_int(n_extra_features, "n_extra_features", 1)
    geos = _check_int(geos, "geos", 1)
    seed = _check_int(seed, "seed", 0)

    rng = np.random.default_rng(seed)
    offset = int(data_size * 0.2)
    total = data_size + offset
    media = rng.normal(size=(total, n_media_channels)) * 1.5 + 20.0
    extra = rng.normal(size=(total, n_extra_features)) + 5.0
    # Reduce the costs to make the ROI realistic (as LightweightMMM does).
    costs = media[offset:].sum(axis=0) * 0.1
    seasonality = _seasonality(
        total, np.ones((_DEGREES_SEASONALITY, 2)), _SEASONALITY_FREQUENCY
    )
    noise = rng.normal(size=total) + 3.0
    transformed = _carryover(
        media,
        np.full(n_media_channels, 0.5),
        np.full(n_media_channels, 1.0),
    )
    beta_media = rng.normal(size=n_media_channels) + 1.0
    beta_extra = rng.normal(size=n_extra_features)
    target = 15.0 + seasonality + transformed @ beta_media + extra @ beta_extra + noise

    if geos > 1:
        weights = rng.uniform(size=geos)
        weights /= weights.sum()
        target = target[:, None] * weights + rng.normal(size=(total, geos)) * 0.5
        media = media[:, :, None] * weights
        extra = extra[:, :, None] * weights

    return (
        media[offset:].astype(np.float32),
        extra[offset:].astype(np.float32),
        target[offset:].astype(np.float32),
        costs.astype(np.float32),
    )


# --------------------------------------------------------------------------
# Realistic simulation with ground truth
# --------------------------------------------------------------------------


def _spend_pattern(
    rng: np.random.Generator, pattern: str, level: float, n_periods: int
) -> np.ndarray:
    """One channel's national weekly spend (currency, >= 0)."""
    t = np.arange(n_periods)
    if pattern == "always_on":
        # Budget set per quarter (13 weeks), weekly noise around it.
        quarter = np.exp(rng.normal(0.0, 0.4, n_periods // 13 + 1))[t // 13]
        return level * quarter * np.exp(rng.normal(0.0, 0.3, n_periods))
    if pattern == "seasonal":
        # A yearly peak season (a bump of a few weeks), whose size varies by
        # year, over a low off-season level.
        peak = rng.uniform(0, _SEASONALITY_FREQUENCY)
        width = rng.uniform(2.0, 5.0)
        distance = (t - peak) % _SEASONALITY_FREQUENCY
        distance = np.minimum(distance, _SEASONALITY_FREQUENCY - distance)
        year = np.exp(rng.normal(0.0, 0.4, n_periods // _SEASONALITY_FREQUENCY + 1))
        season = 0.3 + 2.5 * np.exp(-0.5 * (distance / width) ** 2) * year[t // 52]
        return level * season * np.exp(rng.normal(0.0, 0.3, n_periods))
    # Flighted: bursts of 3-8 weeks on, 2-6 weeks off (zero spend when off).
    # Both kinds of run occur whenever n_periods >= 10.
    on = np.zeros(n_periods, dtype=bool)
    burst = np.ones(n_periods)
    state = bool(rng.integers(2))
    start = 0
    while start < n_periods:
        length = int(rng.integers(3, 9) if state else rng.integers(2, 7))
        on[start : start + length] = state
        burst[start : start + length] = np.exp(rng.normal(0.0, 0.2))
        start += length
        state = not state
    weekly = 2.0 * level * burst * np.exp(rng.normal(0.0, 0.15, n_periods))
    return np.where(on, weekly, 0.0)


def _holidays(dates: pd.DatetimeIndex) -> np.ndarray:
    """1 for periods [date, date + 6 days] that contain a major holiday."""
    days = []
    for year in range(dates.min().year - 1, dates.max().year + 2):
        november_first = pd.Timestamp(year=year, month=11, day=1)
        thanksgiving = november_first + pd.Timedelta(
            days=(3 - november_first.weekday()) % 7 + 21
        )
        days += [
            pd.Timestamp(year=year, month=1, day=1),
            pd.Timestamp(year=year, month=7, day=4),
            thanksgiving + pd.Timedelta(days=1),  # Black Friday
            pd.Timestamp(year=year, month=12, day=25),
        ]
    days = pd.DatetimeIndex(days).to_numpy()
    start = dates.to_numpy()[:, None]
    inside = (days[None, :] >= start) & (
        days[None, :] <= start + np.timedelta64(6, "D")
    )
    return inside.any(axis=1).astype(float)


def _ar1(rng: np.random.Generator, n_periods: int, rho: float, sd: float):
    """Zero-mean stationary AR(1) path."""
    out = np.empty(n_periods)
    out[0] = rng.normal(0.0, sd / np.sqrt(1.0 - rho**2))
    for t in range(1, n_periods):
        out[t] = rho * out[t - 1] + rng.normal(0.0, sd)
    return out


def _controls(
    rng: np.random.Generator, names: list[str], dates: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """National control series (T, F) and their effect per unit of baseline.

    The second output holds each control's coefficient relative to the
    baseline level (sales per unit of control / mean baseline sales).
    """
    n_periods = len(dates)
    t = np.arange(n_periods)
    values, relative = [], []
    for name in names:
        if name == "price_index":
            promo = np.where(rng.uniform(size=n_periods) < 0.08, 0.9, 1.0)
            series = (1.0 + _ar1(rng, n_periods, 0.7, 0.025)) * promo
            coef = -rng.uniform(0.8, 1.5)
        elif name == "holiday":
            series = _holidays(dates)
            coef = rng.uniform(0.05, 0.15)
        elif name == "competitor_index":
            series = 1.0 + _ar1(rng, n_periods, 0.8, 0.04)
            coef = -rng.uniform(0.1, 0.3)
        elif name == "weather_index":
            cycle = 0.3 * np.cos(2.0 * np.pi * (t - 26) / _SEASONALITY_FREQUENCY)
            series = 1.0 + cycle + rng.normal(0.0, 0.05, n_periods)
            coef = rng.uniform(0.05, 0.15)
        else:
            series = np.exp(rng.normal(0.0, 0.2, n_periods))
            coef = rng.uniform(-0.1, 0.1)
        values.append(np.round(np.maximum(series, 0.0), 3))
        relative.append(coef)
    return np.array(values).T.reshape(n_periods, len(names)), np.array(relative)


def simulate_mmm_data(
    n_periods: int = 156,
    n_channels: int = 5,
    model: str = "hill_adstock",
    spend_patterns: str | Sequence[str] | None = None,
    n_controls: int = 2,
    noise_level: float = 0.05,
    n_geos: int = 1,
    start_date: str | pd.Timestamp = "2021-01-04",
    seed: int | None = 0,
    *,
    roi_range: tuple[float, float] = (0.8, 4.0),
    media_share: float | None = None,
    geo_spend_variation: float = 0.1,
) -> Bunch:
    """Simulate weekly media mix data with known ground truth.

    The data come from exactly the model family skmmm fits, so a fit can be
    scored against the truth. Per channel ``c`` with weekly spend
    ``x[t, c] >= 0``, the media effect is ``coef_media[c] * f_c(x / m_c)``
    where ``m_c`` is the channel's mean spend over the whole series (per geo
    for geo data), as skmmm scales media internally, and ``f_c`` is

    - ``"hill_adstock"``: ``hill(adstock(x / m_c))``,
    - ``"adstock"``: ``adstock(x / m_c) ** exponent``,
    - ``"carryover"``: ``carryover(x / m_c) ** exponent``,

    with the transforms of :mod:`skmmm.transforms` (normalised geometric
    adstock, Hill ``1 / (1 + (a / half_max) ** -slope)``, 13-lag delayed
    carryover). The KPI (sales) is::

        y[t] = intercept + coef_trend * t ** expo_trend
               + sum_d gamma[d, 0] cos(2 pi d t / 52) + gamma[d, 1] sin(2 pi d t / 52)
               + sum_c coef_media[c] * f_c[t] + sum_f coef_extra[f] * control[t, f]
               + Normal(0, sigma)

    with ``t = 0 .. n_periods - 1`` and two Fourier degrees. Every coefficient
    is in the KPI's original units. Spend is in currency (weekly spend in the
    thousands) and ``sigma = noise_level * mean(noise-free y)``. True ROIs are
    drawn in ``roi_range`` and the baseline is set so that media explain
    ``media_share`` of sales; a channel's true ROI is
    ``sum_t coef_media[c] * f_c[t] / cost_c`` (the ROI of the Attribution
    section of skmmm's design), i.e. KPI per unit of spend.

    With ``n_geos > 1`` the data are a long panel: geos share the transform
    parameters and the shape of the seasonality, and have their own size
    (population), spend, intercept, trend, seasonality scale, control
    coefficients, noise and media coefficients (drawn around national ones).

    Parameters
    ----------
    n_periods : int, default=156
        Number of weeks, >= 10.
    n_channels : int, default=5
        Number of media channels, >= 1. The first five are named ``"tv"``,
        ``"search"``, ``"social"``, ``"display"``, ``"radio"``; further ones
        ``"channel_6"``, ``"channel_7"``, ...
    model : {"hill_adstock", "adstock", "carryover"}, default="hill_adstock"
        The media transform used to simulate the KPI.
    spend_patterns : str or sequence of str, default=None
        Spend pattern per channel, each one of ``"always_on"`` (steady with
        noise), ``"flighted"`` (bursts of 3-8 weeks, zero spend in between),
        ``"seasonal"`` (following a yearly cycle). A single string applies to
        every channel. None gives a mix: tv flighted, search always-on, social
        seasonal, display always-on, radio flighted, then cycling.
    n_controls : int, default=2
        Number of control variables, >= 0: ``"price_index"`` (around 1, with
        promotions), ``"holiday"`` (0/1 dummy), ``"competitor_index"``,
        ``"weather_index"``, then ``"control_5"``, ... (all non-negative).
    noise_level : float, default=0.05
        Noise standard deviation as a fraction of mean sales, >= 0.
    n_geos : int, default=1
        Number of geos; 1 gives national data.
    start_date : str or Timestamp, default="2021-01-04"
        Date of the first week; weeks are 7 days apart (frequency ``W-MON``
        for a Monday).
    seed : int or None, default=0
        Seed of ``numpy.random.default_rng``; the same seed gives the same data.
    roi_range : tuple of float, default=(0.8, 4.0)
        Range of the (national) true ROIs, drawn uniformly.
    media_share : float, default=None
        Share of sales explained by media, in (0, 1). None draws it uniformly
        in [0.2, 0.4].
    geo_spend_variation : float, default=0.1
        Geo data only: standard deviation of the log of each geo's weekly
        spend around its share of the national pattern, >= 0. With 0.1 the
        geos' flights are nearly in step, and a geo model learns little more
        than a national model on the summed data; larger values give each
        geo spend moves of its own.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields

        X : DataFrame
            National: indexed by a weekly DatetimeIndex named ``"date"``,
            media spend columns then control columns. Geo: a long frame with
            columns ``"date"``, ``"geo"``, media..., controls..., rows sorted by
            date then geo.
        y : Series named ``"sales"``, aligned with ``X``.
            The KPI.
        media_columns, control_columns : list of str
            The media and control column names.
        costs : Series
            Total spend per channel (the media column sums).
        true_roi : Series
            True ROI per channel (national: summed over geos).
        true_contributions : DataFrame
            Per-row contribution of each channel in KPI units, plus
            ``"baseline"`` (intercept, trend, seasonality and controls);
            rows add up to ``y`` minus the noise.
        true_params : dict
            ``intercept``, ``coef_trend``, ``expo_trend``,
            ``gamma_seasonality`` (list of ``[cos, sin]`` per degree),
            ``degrees_seasonality``, ``seasonality_frequency``,
            ``coef_media``, ``coef_extra_features``, ``sigma``, the
            transform parameters of ``model`` by channel (``lag_weight``,
            ``half_max_effective_concentration``, ``slope``, ``exponent``,
            ``ad_effect_retention_rate``, ``peak_effect_delay``),
            ``media_scale`` (the mean spend ``m_c``), ``spend_patterns``,
            ``media_share`` and ``model``. For geo data the per-geo values are
            dicts keyed by geo (``coef_media`` and ``media_scale``: channel ->
            geo -> value; ``coef_extra_features``: control -> geo -> value),
            ``gamma_seasonality`` is a unitless shape and ``coef_seasonality``
            (geo -> KPI units) scales it.
        model : str
            The media transform that generated the data.
        description : str
            A paragraph on the scenario.
        true_roi_by_geo, costs_by_geo : DataFrame (geo x channel), geo only
            Each geo's true ROI and total cost per channel.
        geo_column, date_column : str, geo only
            The names of X's geo and date columns.

    Raises
    ------
    ValueError
        On an unknown model or spend pattern, ``n_periods < 10`` or any
        other invalid argument.

    Notes
    -----
    Draws: transform parameters uniform in ``lag_weight`` [0.3, 0.8],
    ``half_max_effective_concentration`` [0.5, 1.5], ``slope`` [1, 2.5],
    ``ad_effect_retention_rate`` [0.3, 0.8], ``peak_effect_delay`` [0, 3],
    ``exponent`` [0.5, 0.9]; the baseline has a trend of -5% to +15% of its
    level over the whole period and a yearly cycle of 5-12% (first degree)
    and 1-4% (second degree) of it; a 10% price cut lifts sales by 8-15%,
    a holiday week by 5-15%. Always-on spend changes by quarter (13 weeks)
    and week; seasonal spend peaks for a few weeks a year, by an amount
    that varies by year. Both vary enough that the media effects are
    identifiable: least squares on the true transforms recovers the ROIs
    to about 15% (median) at the defaults.

    ``gamma_seasonality[d - 1]`` holds the (cosine, sine) coefficients of
    degree ``d``, the order of :func:`skmmm.transforms.calculate_seasonality`
    (LightweightMMM orders them sine first).

    Examples
    --------
    >>> from skmmm.datasets import simulate_mmm_data
    >>> data = simulate_mmm_data(n_periods=104, n_channels=3, seed=1)
    >>> data.X.shape, data.y.name
    ((104, 5), 'sales')
    >>> data.media_columns, data.control_columns
    (['tv', 'search', 'social'], ['price_index', 'holiday'])
    >>> roi = data.true_contributions[data.media_columns].sum() / data.costs
    >>> bool(np.allclose(roi, data.true_roi))
    True
    >>> geo = simulate_mmm_data(n_periods=52, n_channels=2, n_geos=3)
    >>> geo.X.shape, list(geo.X.columns[:2]), geo.true_roi_by_geo.shape
    ((156, 6), ['date', 'geo'], (3, 2))
    """
    n_periods = _check_int(n_periods, "n_periods", 10)
    n_channels = _check_int(n_channels, "n_channels", 1)
    n_controls = _check_int(n_controls, "n_controls", 0)
    n_geos = _check_int(n_geos, "n_geos", 1)
    if model not in MODELS:
        raise ValueError(f"Unknown model {model!r}; choose from {MODELS}.")
    patterns = _check_patterns(spend_patterns, n_channels)
    if (
        isinstance(noise_level, bool)
        or not isinstance(noise_level, numbers.Real)
        or not np.isfinite(noise_level)
        or noise_level < 0
    ):
        raise ValueError(
            f"noise_level must be a finite number >= 0, got {noise_level!r}."
        )
    try:
        low, high = (float(v) for v in roi_range)
    except (TypeError, ValueError):
        raise ValueError(
            f"roi_range must be a pair of numbers (low, high), got {roi_range!r}."
        ) from None
    if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
        raise ValueError(f"roi_range must satisfy 0 < low <= high, got {roi_range!r}.")
    if media_share is not None and not (
        isinstance(media_share, numbers.Real) and 0 < media_share < 1
    ):
        raise ValueError(f"media_share must be in (0, 1), got {media_share!r}.")
    if not (
        isinstance(geo_spend_variation, numbers.Real)
        and not isinstance(geo_spend_variation, bool)
        and np.isfinite(geo_spend_variation)
        and geo_spend_variation >= 0
    ):
        raise ValueError(
            "geo_spend_variation must be a finite number >= 0, "
            f"got {geo_spend_variation!r}."
        )
    start = parse_date(
        start_date,
        not_a_date=f"start_date must be a date such as '2021-01-04', got "
        f"{start_date!r}.",
        missing=f"start_date must be a date, got {start_date!r}.",
    )

    rng = np.random.default_rng(seed)
    is_geo = n_geos > 1
    geo_sd = 1.0 if is_geo else 0.0  # geo-level variation switched off nationally
    media_names = [
        CHANNEL_NAMES[c] if c < len(CHANNEL_NAMES) else f"channel_{c + 1}"
        for c in range(n_channels)
    ]
    control_names = [
        CONTROL_NAMES[f] if f < len(CONTROL_NAMES) else f"control_{f + 1}"
        for f in range(n_controls)
    ]
    geo_names = [f"geo_{g + 1}" for g in range(n_geos)] if is_geo else ["national"]
    start = start.normalize()
    weekly = pd.offsets.Week(weekday=start.weekday())  # e.g. W-MON
    dates = pd.date_range(start, periods=n_periods, freq=weekly, name="date")
    t = np.arange(n_periods, dtype=float)

    # Media: national spend pattern per channel, shared by the geos.
    levels = np.array(
        [
            _CHANNEL_LEVELS[c] if c < len(_CHANNEL_LEVELS) else rng.uniform(2e3, 1e4)
            for c in range(n_channels)
        ]
    ) * rng.uniform(0.8, 1.2, n_channels)
    national = np.stack(
        [
            _spend_pattern(rng, p, lv, n_periods)
            for p, lv in zip(patterns, levels, strict=True)
        ],
        axis=1,
    )
    population = rng.uniform(0.5, 2.0, n_geos) if is_geo else np.ones(1)
    geo_weight = population / population.sum()
    spend = (
        national[:, :, None]
        * geo_weight
        * np.exp(
            rng.normal(
                0.0, geo_spend_variation * geo_sd, (n_periods, n_channels, n_geos)
            )
        )
    )
    spend = np.round(spend, 2)  # (T, C, G), currency with cents
    # Guard against a channel without spend in a geo after rounding.
    spend[0] = np.where(spend.sum(axis=0) > 0, spend[0], 0.01)

    # Transform parameters (shared by geos).
    params: dict[str, np.ndarray] = {}
    if model in ("adstock", "hill_adstock"):
        params["lag_weight"] = rng.uniform(0.3, 0.8, n_channels)
    if model == "hill_adstock":
        params["half_max_effective_concentration"] = rng.uniform(0.5, 1.5, n_channels)
        params["slope"] = rng.uniform(1.0, 2.5, n_channels)
    if model == "carryover":
        params["ad_effect_retention_rate"] = rng.uniform(0.3, 0.8, n_channels)
        params["peak_effect_delay"] = rng.uniform(0.0, 3.0, n_channels)
    if model in ("adstock", "carryover"):
        params["exponent"] = rng.uniform(0.5, 0.9, n_channels)

    media_scale = spend.mean(axis=0)  # (C, G)
    transformed = np.stack(
        [
            _media_transform(spend[:, :, g] / media_scale[:, g], model, params)
            for g in range(n_geos)
        ],
        axis=2,
    )  # (T, C, G)
    costs_cg = spend.sum(axis=0)  # (C, G)
    roi_national = rng.uniform(low, high, n_channels)
    roi_cg = roi_national[:, None] * np.exp(
        rng.normal(0.0, 0.15 * geo_sd, (n_channels, n_geos))
    )
    coef_media = roi_cg * costs_cg / transformed.sum(axis=0)  # (C, G)
    media_effect = transformed * coef_media  # (T, C, G)

    # Baseline: level set so that media explain `share` of sales.
    share = rng.uniform(0.2, 0.4) if media_share is None else float(media_share)
    level = media_effect.sum(axis=(0, 1)) / n_periods * (1.0 - share) / share
    level = level * np.exp(rng.normal(0.0, 0.1 * geo_sd, n_geos))  # (G,)
    trend_rel = rng.uniform(-0.05, 0.15) + rng.normal(0.0, 0.02 * geo_sd, n_geos)
    coef_trend = level * trend_rel / (n_periods - 1)
    amplitude = np.array([rng.uniform(0.05, 0.12), rng.uniform(0.01, 0.04)])
    phase = rng.uniform(0.0, 2.0 * np.pi, _DEGREES_SEASONALITY)
    gamma_shape = np.stack([amplitude * np.cos(phase), amplitude * np.sin(phase)], 1)
    coef_seasonality = level * np.exp(rng.normal(0.0, 0.1 * geo_sd, n_geos))
    season_shape = _seasonality(n_periods, gamma_shape)
    control_national, control_rel = _controls(rng, control_names, dates)
    controls = np.repeat(control_national[:, :, None], n_geos, axis=2)
    for f, name in enumerate(control_names):
        if name != "holiday" and is_geo:
            noise = rng.normal(0.0, 0.01, (n_periods, n_geos))
            controls[:, f] = np.round(np.maximum(controls[:, f] + noise, 0.0), 3)
    coef_extra = (
        control_rel[:, None]
        * np.exp(rng.normal(0.0, 0.1 * geo_sd, (n_controls, n_geos)))
        * level
    )  # (F, G)
    trend = coef_trend * t[:, None]  # (T, G)
    season = season_shape[:, None] * coef_seasonality  # (T, G)
    control_effect = np.einsum("tfg,fg->tg", controls, coef_extra)
    intercept = level - trend.mean(0) - season.mean(0) - control_effect.mean(0)
    baseline = intercept + trend + season + control_effect  # (T, G)

    mu = baseline + media_effect.sum(axis=1)  # (T, G)
    sigma = noise_level * mu.mean(axis=0)
    y = np.round(mu + rng.normal(size=mu.shape) * sigma, 2)

    # Assemble the outputs.
    costs_cg = np.round(costs_cg, 2)
    costs = pd.Series(
        np.round(costs_cg.sum(axis=1), 2), index=media_names, name="costs"
    )
    true_roi = pd.Series(
        media_effect.sum(axis=(0, 2)) / costs.to_numpy(), index=media_names, name="roi"
    )

    def by_channel(values: np.ndarray) -> dict[str, float]:
        return {n: float(v) for n, v in zip(media_names, values, strict=True)}

    def by_geo(values: np.ndarray) -> Any:
        return (
            {g: float(v) for g, v in zip(geo_names, values, strict=True)}
            if is_geo
            else float(values[0])
        )

    true_params: dict[str, Any] = {
        "model": model,
        "intercept": by_geo(intercept),
        "coef_trend": by_geo(coef_trend),
        "expo_trend": 1.0,
        "degrees_seasonality": _DEGREES_SEASONALITY,
        "seasonality_frequency": _SEASONALITY_FREQUENCY,
        "gamma_seasonality": (
            gamma_shape if is_geo else gamma_shape * coef_seasonality[0]
        ).tolist(),
        "coef_media": {
            n: by_geo(v) for n, v in zip(media_names, coef_media, strict=True)
        },
        "coef_extra_features": {
            n: by_geo(v) for n, v in zip(control_names, coef_extra, strict=True)
        },
        "sigma": by_geo(sigma),
        **{name: by_channel(value) for name, value in params.items()},
        "media_scale": {
            n: by_geo(v) for n, v in zip(media_names, media_scale, strict=True)
        },
        "spend_patterns": dict(zip(media_names, patterns, strict=True)),
        "media_share": float(media_effect.sum() / mu.sum()),
    }
    if is_geo:
        true_params["coef_seasonality"] = by_geo(coef_seasonality)

    description = (
        f"Simulated weekly media mix data: {n_periods} weeks from "
        f"{dates[0].date()}, {n_channels} channels ({', '.join(media_names)}; "
        f"spend patterns {', '.join(patterns)}), {n_controls} controls, "
        f"model {model!r}, noise {noise_level:.0%} of mean sales"
        + (f", {n_geos} geos" if is_geo else "")
        + f", seed {seed}. Media explain {true_params['media_share']:.0%} of "
        "sales. Transforms act on spend divided by its mean per channel"
        + (" and geo" if is_geo else "")
        + "; coefficients are in sales units."
    )
    columns = media_names + control_names
    common = {
        "media_columns": media_names,
        "control_columns": control_names,
        "costs": costs,
        "true_roi": true_roi,
        "true_params": true_params,
        "model": model,
        "description": description,
    }
    if not is_geo:
        X = pd.DataFrame(
            np.concatenate([spend[:, :, 0], controls[:, :, 0]], axis=1),
            index=dates,
            columns=columns,
        )
        y_series = pd.Series(y[:, 0], index=dates, name="sales")
        contributions = pd.DataFrame(
            media_effect[:, :, 0], index=dates, columns=media_names
        )
        contributions["baseline"] = baseline[:, 0]
        return Bunch(**common, X=X, y=y_series, true_contributions=contributions)

    # Long format, sorted by date then geo: row = t * n_geos + g.
    long_values = np.concatenate([spend, controls], axis=1)  # (T, C+F, G)
    X = pd.DataFrame(
        long_values.transpose(0, 2, 1).reshape(n_periods * n_geos, -1),
        columns=columns,
    )
    X.insert(0, "geo", np.tile(geo_names, n_periods))
    X.insert(0, "date", np.repeat(dates, n_geos))
    y_series = pd.Series(y.reshape(-1), name="sales")
    contributions = pd.DataFrame(
        media_effect.transpose(0, 2, 1).reshape(n_periods * n_geos, -1),
        columns=media_names,
    )
    contributions["baseline"] = baseline.reshape(-1)
    geo_index = pd.Index(geo_names, name="geo")
    costs_by_geo = pd.DataFrame(costs_cg.T, index=geo_index, columns=media_names)
    true_roi_by_geo = pd.DataFrame(
        media_effect.sum(axis=0).T / costs_cg.T, index=geo_index, columns=media_names
    )
    return Bunch(
        **common,
        X=X,
        y=y_series,
        costs_by_geo=costs_by_geo,
        true_roi_by_geo=true_roi_by_geo,
        true_contributions=contributions,
        geo_column="geo",
        date_column="date",
    )


# --------------------------------------------------------------------------
# Bundled example
# --------------------------------------------------------------------------


def _example_contributions(
    X: pd.DataFrame, true_params: dict[str, Any], media: list[str], controls: list[str]
) -> pd.DataFrame:
    """Noise-free channel contributions and baseline of national data."""
    params = {
        name: np.array([true_params[name][c] for c in media])
        for name in (
            "lag_weight",
            "half_max_effective_concentration",
            "slope",
            "exponent",
            "ad_effect_retention_rate",
            "peak_effect_delay",
        )
        if name in true_params
    }
    scale = np.array([true_params["media_scale"][c] for c in media])
    coef = np.array([true_params["coef_media"][c] for c in media])
    effect = _media_transform(X[media].to_numpy() / scale, true_params["model"], params)
    contributions = pd.DataFrame(effect * coef, index=X.index, columns=media)
    t = np.arange(len(X), dtype=float)
    gamma = np.asarray(true_params["gamma_seasonality"], dtype=float)
    extra = np.array([true_params["coef_extra_features"][f] for f in controls])
    contributions["baseline"] = (
        true_params["intercept"]
        + true_params["coef_trend"] * t ** true_params["expo_trend"]
        + _seasonality(len(X), gamma, true_params["seasonality_frequency"])
        + X[controls].to_numpy() @ extra
    )
    return contributions


def load_example() -> Bunch:
    """Load the bundled weekly example data set and its ground truth.

    156 weeks of national data starting 2021-01-04: spend (currency) on five
    channels (``tv`` and ``radio`` flighted, ``search`` and ``display``
    always-on, ``social`` seasonal), two controls (``price_index``,
    ``holiday``) and weekly ``sales``, simulated by :func:`simulate_mmm_data`
    with ``model="hill_adstock"`` and 5% noise (see
    ``benchmarks/make_example_data.py``, which regenerates the files). The
    true media transform acts on spend divided by its mean per channel.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With fields

        X : DataFrame of shape (156, 7)
            Media spend then controls, indexed by a weekly DatetimeIndex
            named ``"date"``.
        y : Series of shape (156,)
            Weekly sales, named ``"sales"``.
        frame : DataFrame of shape (156, 9)
            The whole CSV: ``date``, media, controls and ``sales``.
        media_columns, control_columns : list of str
            The media and control column names.
        target_column : str
            The KPI column's name.
        costs : Series
            Total spend per channel.
        true_roi : Series
            True ROI per channel (sales per unit of spend).
        true_contributions : DataFrame of shape (156, 6)
            True weekly sales contribution per channel, plus ``"baseline"``.
        true_params : dict
            The generating parameters (see :func:`simulate_mmm_data`).
        generator : dict
            The function and arguments that generated the data.
        description : str
            A paragraph on the data.

    Examples
    --------
    >>> from skmmm.datasets import load_example
    >>> data = load_example()
    >>> data.X.shape, data.y.shape
    ((156, 7), (156,))
    >>> data.media_columns
    ['tv', 'search', 'social', 'display', 'radio']
    >>> data.X.index.freqstr
    'W-MON'
    """
    folder = resources.files("skmmm") / "data"
    with (folder / _EXAMPLE_JSON).open("r", encoding="utf-8") as handle:
        truth = json.load(handle)
    with (folder / _EXAMPLE_CSV).open("rb") as handle:
        frame = pd.read_csv(handle, parse_dates=["date"])

    media = list(truth["media_columns"])
    controls = list(truth["control_columns"])
    target = truth["target_column"]
    index = pd.DatetimeIndex(frame["date"], name="date", freq="infer")
    X = frame[media + controls].set_axis(index)
    y = frame[target].set_axis(index).rename(target)
    true_params = truth["true_params"]
    return Bunch(
        X=X,
        y=y,
        frame=frame,
        media_columns=media,
        control_columns=controls,
        target_column=target,
        costs=pd.Series(truth["costs"], name="costs").reindex(media),
        true_roi=pd.Series(truth["true_roi"], name="roi").reindex(media),
        true_contributions=_example_contributions(X, true_params, media, controls),
        true_params=true_params,
        generator=truth["generator"],
        description=truth["description"],
    )
