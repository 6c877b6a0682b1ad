"""Attribution of a fitted media mix model: contributions, ROI, response curves.

Every function takes a fitted estimator (any of skmmm's regressors) and works
on its fitted model, ``est.fitted_`` (:class:`skmmm.fitted.FittedMMM`), where
a national fit is a panel of one geo; this module never imports
:mod:`skmmm.regressor`. Results are in the user's units and indexed by
channel name.

Definitions (LightweightMMM's ``get_posterior_metrics``), per posterior draw,
over the training periods ``t``:

- contribution share of channel ``c``: ``sum_t media_{t,c} / sum_t mu_t``;
- ROI of channel ``c``: ``sum_t media_{t,c} / cost_c`` with ``cost_c`` the
  estimator's ``media_prior_`` (total cost of the channel);
- marginal ROI of channel ``c``: ``d(sum_t mu_t) / d(cost_c)`` when the
  channel's spend is scaled up along its historical pattern, from exact JAX
  derivatives.

A channel with zero cost or zero spend has share, ROI and marginal ROI 0.

Geo fits (``geo_column=``): every function reports the national total by
default (KPI, contributions and costs summed over geos) and per geo with
``by_geo=True``: per-period tables gain a geo level in their index, tables of
draws get (geo, channel) columns, :func:`summary` is indexed by (geo,
channel) and :func:`response_curves` gets a ``geo`` column. A geo's cost of a
channel is ``est.media_prior_by_geo_``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from skmmm import lift_tests as lift_tests_module
from skmmm.draws import (
    draw_batch_size,
    interval_quantiles,
    map_draws,
    mean_over_draws,
)
from skmmm.fitted import FittedMMM
from skmmm.models import lift_test_effects, media_transform, panel_mean_components
from skmmm.priors import COEF_MEDIA, ROI_SITES, prior_quantiles

__all__ = [
    "contribution_share",
    "contributions",
    "cpa",
    "incremental_kpi",
    "lift_test_draws",
    "lift_test_fit",
    "marginal_roi",
    "observed_spend_range",
    "response_curves",
    "roi",
    "roi_prior_width_ratio",
    "summary",
]

STEADY_STATE_PERIODS = 260


def _fitted(est, by_geo: bool = False) -> FittedMMM:
    """The fitted model; ``by_geo=True`` on a national fit is an error."""
    check_is_fitted(est, "posterior_")
    fitted = est.fitted_
    if by_geo and not fitted.is_geo:
        raise ValueError(
            "by_geo=True needs a geo fit (an estimator fitted with geo_column=); "
            "this model is national."
        )
    return fitted


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is not positive."""
    denominator = np.asarray(denominator, dtype=float)
    positive = denominator > 0
    safe = np.where(positive, denominator, 1.0)
    return np.where(positive, numerator / safe, 0.0)


def _draws_frame(fitted: FittedMMM, values: np.ndarray, by_geo: bool, extra=()):
    """(n_draws, n_columns, n_geos) draws as a table.

    National totals (summed over geos by the caller) have columns by channel;
    ``by_geo`` tables have (geo, channel) columns.
    """
    names = list(fitted.media_names) + list(extra)
    if by_geo:
        n_draws = values.shape[0]
        frame = pd.DataFrame(
            np.moveaxis(values, 2, 1).reshape(n_draws, -1),
            columns=pd.MultiIndex.from_product(
                [list(fitted.geo_names), names], names=["geo", "channel"]
            ),
        )
    else:
        frame = pd.DataFrame(values, columns=names)
    frame.index.name = "draw"
    return frame


@partial(jax.jit, static_argnums=(0, 7))
def _row_means(spec, params, media, controls, time_index, rows, geos, batch_size):
    """Posterior means of the channel effects and ``mu`` at (period, geo) pairs."""
    pairs = jnp.arange(rows.shape[0])

    def one_draw(draw):
        parts = panel_mean_components(spec, draw, media, controls, time_index, rows)
        return parts["media"][pairs, :, geos], parts["mu"][pairs, geos]

    return mean_over_draws(one_draw, params, batch_size)


def contributions(est, X=None, media_gap=None, by_geo: bool = False) -> pd.DataFrame:
    """Posterior-mean contribution of each channel and of the baseline per period.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame} of shape (n_periods, n_features), default=None
        New periods, as in ``est.predict``; None means the training periods.
    media_gap : array-like of shape (n_gap, n_channels), default=None
        Media between the end of training and the first row of ``X``.
    by_geo : bool, default=False
        Geo fits only: one row per (date, geo) (X's rows, in X's order)
        instead of the national total per date.

    Returns
    -------
    DataFrame of shape (n_periods, n_channels + 1)
        One column per channel plus ``"baseline"`` (intercept, trend,
        seasonality and controls), in KPI units; each row adds up to
        ``est.predict(X)``. Indexed by the training index, ``X``'s index
        (the dates of its ``date_column``), or for arrays a RangeIndex of
        period numbers. Geo fits: indexed by date (summed over geos), or by
        (date, geo) with ``by_geo=True``.
    """
    fitted = _fitted(est, by_geo)
    timeline = fitted.timeline(X, media_gap)
    media_mean, mu_mean = _row_means(
        fitted.spec,
        fitted.device_posterior(),
        *timeline.inputs,
        timeline.rows,
        timeline.geos,
        fitted.draw_batch_size(timeline.media),
    )
    scale = fitted.target_scale[np.asarray(timeline.geos)]
    media_mean = np.asarray(media_mean, dtype=float) * scale[:, None]
    mu_mean = np.asarray(mu_mean, dtype=float) * scale
    frame = pd.DataFrame(
        media_mean, index=timeline.index, columns=list(fitted.media_names)
    )
    frame["baseline"] = mu_mean - media_mean.sum(axis=1)
    if not fitted.is_geo or by_geo:
        return frame
    return frame.groupby(level=0, sort=True).sum()


@partial(jax.jit, static_argnums=(0, 7))
def _training_totals(
    spec, params, media, controls, time_index, scaling, weights, batch_size
):
    """Per draw: channel effects (n_channels, n_geos) and ``mu`` (n_geos) summed
    over time, with media scaled by ``scaling`` (n_channels, n_geos) and each
    (period, geo) cell weighted by ``weights`` (n_times, n_geos), or not
    weighted (None)."""

    def one_draw(draw):
        parts = panel_mean_components(spec, draw, media * scaling, controls, time_index)
        if weights is None:
            return parts["media"].sum(axis=0), parts["mu"].sum(axis=0)
        return (
            (parts["media"] * weights[:, None, :]).sum(axis=0),
            (parts["mu"] * weights).sum(axis=0),
        )

    return map_draws(one_draw, params, batch_size)


def _cell_weights(fitted: FittedMMM, revenue: bool, dtype) -> jnp.ndarray | None:
    """Each training (period, geo) cell's weight in a sum over training: its
    revenue per KPI (``revenue``) or one, and zero where a ragged panel has
    no cell; None when every weight is one (a plain sum)."""
    weighted = revenue and fitted.revenue_weights is not None
    if not weighted and fitted.training_present is None:
        return None
    if weighted:
        weights = np.asarray(fitted.revenue_weights, dtype=float)
    else:
        weights = np.ones((fitted.n_train_periods, fitted.n_geos))
    if fitted.training_present is not None:
        weights = np.where(fitted.training_present, weights, 0.0)
    return jnp.asarray(weights, dtype)


def _totals(
    fitted: FittedMMM, scaling=None, revenue: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Channel effects (n_draws, n_channels, n_geos) and KPI (n_draws, n_geos)
    summed over the training periods (a ragged panel's present cells), in
    KPI units (revenue with ``revenue`` when the fit has ``revenue_per_kpi``)."""
    media, controls, time_index = fitted.timeline().inputs
    if scaling is None:
        scaling = jnp.ones(media.shape[1:], media.dtype)
    media_total, mu_total = _training_totals(
        fitted.spec,
        fitted.device_posterior(),
        media,
        controls,
        time_index,
        scaling,
        _cell_weights(fitted, revenue, media.dtype),
        fitted.draw_batch_size(media),
    )
    return (
        np.asarray(media_total, dtype=float) * fitted.target_scale,
        np.asarray(mu_total, dtype=float) * fitted.target_scale,
    )


def contribution_share(
    est, include_baseline: bool = False, by_geo: bool = False
) -> pd.DataFrame:
    """Share of the training KPI explained by each channel, per posterior draw.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    include_baseline : bool, default=False
        Add a ``"baseline"`` column; then every row sums to 1.
    by_geo : bool, default=False
        Geo fits only: each geo's shares, columns (geo, channel).

    Returns
    -------
    DataFrame of shape (n_draws, n_channels[ + 1])
        ``sum_t media_{t,c} / sum_t mu_t`` over the training periods.
    """
    fitted = _fitted(est, by_geo)
    media_total, mu_total = _totals(fitted)
    if by_geo:
        shares = _safe_divide(media_total, mu_total[:, None, :])
    else:
        shares = _safe_divide(
            media_total.sum(axis=2, keepdims=True), mu_total.sum(axis=1)[:, None, None]
        )
    if include_baseline:
        shares = np.concatenate([shares, 1.0 - shares.sum(axis=1, keepdims=True)], 1)
    extra = ("baseline",) if include_baseline else ()
    return _draws_frame(fitted, shares if by_geo else shares[:, :, 0], by_geo, extra)


def incremental_kpi(est, by_geo: bool = False) -> pd.DataFrame:
    """KPI each channel brought over the training period, per posterior draw.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    by_geo : bool, default=False
        Geo fits only: each geo's, columns (geo, channel).

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        ``sum_t media_{t,c}``: the channel's contribution summed over the
        training periods (and geos), in KPI units; the numerator of its ROI.
    """
    fitted = _fitted(est, by_geo)
    media_total, _ = _totals(fitted)
    return _draws_frame(
        fitted, media_total if by_geo else media_total.sum(axis=2), by_geo
    )


def _per_cost(fitted: FittedMMM, kpi: np.ndarray, by_geo: bool) -> pd.DataFrame:
    """KPI draws (n_draws, n_channels, n_geos) per unit of cost, national or by geo."""
    spend = fitted.training_media.sum(axis=0)  # (n_channels, n_geos)
    if by_geo:
        values = np.where(spend > 0, _safe_divide(kpi, fitted.media_cost[None]), 0.0)
        return _draws_frame(fitted, values, by_geo)
    cost = fitted.media_cost.sum(axis=1)
    spent = spend.sum(axis=1) > 0
    values = np.where(spent, _safe_divide(kpi.sum(axis=2), cost[None, :]), 0.0)
    return _draws_frame(fitted, values, by_geo)


def roi(est, by_geo: bool = False) -> pd.DataFrame:
    """Return on investment of each channel over the training period, per draw.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    by_geo : bool, default=False
        Geo fits only: each geo's ROI (its contribution over its cost
        ``est.media_prior_by_geo_``), columns (geo, channel).

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        ``sum_t media_{t,c} / cost_c`` (KPI per unit of currency) with
        ``cost = est.media_prior_``; 0 for a channel with no cost or no spend.
        With ``revenue_per_kpi``, revenue per unit of currency:
        ``sum_t revenue_per_kpi_t * media_{t,c} / cost_c``.
    """
    fitted = _fitted(est, by_geo)
    media_total, _ = _totals(fitted, revenue=True)
    return _per_cost(fitted, media_total, by_geo)


def _cost_per_kpi(cost: np.ndarray, kpi: np.ndarray, spend: np.ndarray):
    """Cost over KPI per draw: inf where the KPI is not positive, NaN unspent."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(kpi > 0, cost / np.where(kpi > 0, kpi, 1.0), np.inf)
    return np.where(spend > 0, values, np.nan)


def cpa(est, by_geo: bool = False) -> pd.DataFrame:
    """Cost per incremental unit of KPI of each channel, per posterior draw.

    The cost per acquisition (CPA, or cost per KPI) for a KPI that counts
    (conversions, sign-ups): each channel's cost over the KPI it brought
    over the training period, the inverse of its ROI.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    by_geo : bool, default=False
        Geo fits only: each geo's CPA (its cost over its contribution),
        columns (geo, channel).

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        Currency per unit of KPI. ``inf`` in draws where the channel brought
        no KPI (its cost buys nothing there), NaN for a channel without
        spend.
    """
    fitted = _fitted(est, by_geo)
    media_total, _ = _totals(fitted)
    spend = fitted.training_media.sum(axis=0)  # (n_channels, n_geos)
    if by_geo:
        values = _cost_per_kpi(fitted.media_cost[None], media_total, spend[None])
        return _draws_frame(fitted, values, by_geo)
    values = _cost_per_kpi(
        fitted.media_cost.sum(axis=1)[None],
        media_total.sum(axis=2),
        spend.sum(axis=1)[None],
    )
    return _draws_frame(fitted, values, by_geo)


@partial(jax.jit, static_argnums=(0, 7))
def _total_kpi_gradient(
    spec, params, media, controls, time_index, target_scale, weights, batch_size
):
    """d(KPI summed over time and geos, KPI units)/d(scaling_{c,g}) at 1,
    each (period, geo) cell weighted by ``weights`` (n_times, n_geos).

    Geos are independent given a draw, so entry (c, g) is also the
    derivative of geo ``g``'s own KPI. Shape (n_draws, n_channels, n_geos).
    """

    def one_draw(draw):
        def total(scaling):
            parts = panel_mean_components(
                spec, draw, media * scaling, controls, time_index
            )
            mu = parts["mu"] if weights is None else parts["mu"] * weights
            return mu.sum(axis=0) @ target_scale

        return jax.grad(total)(jnp.ones(media.shape[1:], media.dtype))

    return map_draws(one_draw, params, batch_size)


def _kpi_derivative(
    fitted: FittedMMM, delta: float | None, revenue: bool = True
) -> np.ndarray:
    """d KPI / d(relative spend) per draw, channel and geo, in KPI units
    (revenue with ``revenue`` when the fit has ``revenue_per_kpi``)."""
    if delta is None:
        media, controls, time_index = fitted.timeline().inputs
        return np.asarray(
            _total_kpi_gradient(
                fitted.spec,
                fitted.device_posterior(),
                media,
                controls,
                time_index,
                jnp.asarray(fitted.target_scale, media.dtype),
                _cell_weights(fitted, revenue, media.dtype),
                fitted.draw_batch_size(media, panels_per_draw=4),
            ),
            dtype=float,
        )
    if not delta > 0:
        raise ValueError(f"delta must be a positive number or None, got {delta}.")
    n_channels, n_geos = fitted.media_scale.shape
    _, base = _totals(fitted, revenue=revenue)
    # Scaling a channel in every geo at once changes each geo's KPI by what
    # scaling it in that geo alone would: geos share no media.
    steps = []
    for c in range(n_channels):
        scaling = np.ones((n_channels, n_geos))
        scaling[c] = 1.0 + delta
        _, raised = _totals(
            fitted, jnp.asarray(scaling, jnp.result_type(float)), revenue=revenue
        )
        steps.append((raised - base) / delta)
    return np.stack(steps, axis=1)


def marginal_roi(est, delta: float | None = None, by_geo: bool = False) -> pd.DataFrame:
    """Extra KPI per extra unit of spend at the historical spend, per draw.

    The training spend of channel ``c`` is scaled by ``1 + s`` along its
    historical pattern (every period alike, so adstock carries over as
    observed) and the summed expected KPI over the training period is
    differentiated with respect to ``s`` at ``s = 0``, then divided by the
    channel's cost (``est.media_prior_``).

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    delta : float, default=None
        None gives the exact derivative (JAX autodiff). A positive number
        gives the incremental ROI of a ``delta`` relative increase instead:
        ``(KPI(1 + delta) - KPI(1)) / (delta * cost_c)``.
    by_geo : bool, default=False
        Geo fits only: each geo's marginal ROI (its spend scaled alone),
        columns (geo, channel). Without it, a geo fit scales the channel's
        spend in every geo at once.

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        KPI per unit of currency (revenue per unit of currency with
        ``revenue_per_kpi``, each period's extra KPI times its revenue per
        KPI); 0 for a channel with no spend or cost.
    """
    fitted = _fitted(est, by_geo)
    return _per_cost(fitted, _kpi_derivative(fitted, delta), by_geo)


def summary(est, interval: float = 0.9, by_geo: bool = False) -> pd.DataFrame:
    """Contribution share, ROI and marginal ROI per channel with credible intervals.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    interval : float, default=0.9
        Width of the central credible interval.
    by_geo : bool, default=False
        Geo fits only: one row per (geo, channel).

    Returns
    -------
    DataFrame indexed by channel
        Columns ``share_mean, share_median, share_lower, share_upper,
        roi_mean, roi_median, roi_lower, roi_upper, mroi_mean, mroi_lower,
        mroi_upper, cpa_mean, cpa_median, cpa_lower, cpa_upper, mcpa_mean,
        roi_prior_width_ratio``. ``cpa_*`` is the cost per unit of KPI
        (:func:`cpa`) and ``mcpa_mean`` the cost of one more unit of KPI at
        the historical spend (the mean over draws of 1 / marginal ROI): the
        figures to read when the KPI counts (conversions) rather than earns.
        They are ``inf`` where some draws give the channel no KPI (its cost
        buys nothing there) and NaN for a channel without spend. Indexed by (geo, channel) with
        ``by_geo=True``. With ``revenue_per_kpi``, ``roi_*`` and ``mroi_*``
        are revenue per unit of cost, and ``cpa_*`` and ``mcpa_mean`` stay
        cost per unit of KPI.

        ``roi_prior_width_ratio`` says how much the data narrowed the
        channel's ROI: the width of the posterior's credible interval of its
        ROI at average spend (the quantity the prior is on, ``roi``, or
        ``channel_roi`` for geo fits) over the width of the prior's interval.
        Near 1 the ROI is mostly prior: the data say little about the
        channel, and an experiment would help. NaN when the media prior is
        not on ROI; with ``by_geo=True`` each geo shows its channel's value.
    """
    lower_q, upper_q = interval_quantiles(interval)
    fitted = _fitted(est, by_geo)
    if by_geo:
        index = pd.MultiIndex.from_product(
            [list(fitted.geo_names), list(fitted.media_names)],
            names=["geo", "channel"],
        )
    else:
        index = pd.Index(list(fitted.media_names), name="channel")
    table = pd.DataFrame(index=index)
    mroi = marginal_roi(est, by_geo=by_geo)
    for prefix, draws in (
        ("share", contribution_share(est, by_geo=by_geo)),
        ("roi", roi(est, by_geo=by_geo)),
        ("mroi", mroi),
        ("cpa", cpa(est, by_geo=by_geo)),
    ):
        table[f"{prefix}_mean"] = draws.mean(axis=0)
        if prefix != "mroi":
            table[f"{prefix}_median"] = draws.median(axis=0)
        table[f"{prefix}_lower"] = draws.quantile(lower_q, axis=0)
        table[f"{prefix}_upper"] = draws.quantile(upper_q, axis=0)
    # The cost of one more unit of KPI at the historical spend: 1 / mROI in
    # KPI units (not revenue, with revenue_per_kpi).
    spent = ~np.isnan(table["cpa_lower"].to_numpy())
    kpi_mroi = mroi.to_numpy()
    if fitted.revenue_weights is not None:
        kpi_mroi = _per_cost(
            fitted, _kpi_derivative(fitted, None, revenue=False), by_geo
        ).to_numpy()
    with np.errstate(divide="ignore"):
        per_draw = np.where(kpi_mroi > 0, 1.0 / kpi_mroi, np.inf)
    table["mcpa_mean"] = np.where(spent, per_draw.mean(axis=0), np.nan)
    ratio = roi_prior_width_ratio(est, interval)
    table["roi_prior_width_ratio"] = (
        np.tile(ratio, len(fitted.geo_names)) if by_geo else ratio
    )
    return table


def roi_prior_width_ratio(est, interval: float = 0.9) -> np.ndarray:
    """Posterior over prior credible-interval width of each channel's ROI.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    interval : float, default=0.9
        Width of the central intervals compared.

    Returns
    -------
    ndarray of shape (n_channels,)
        NaN for every channel when the media prior is not on ROI.
    """
    lower_q, upper_q = interval_quantiles(interval)
    fitted = _fitted(est)
    prior = fitted.roi_prior
    if prior is None:
        return np.full(fitted.n_channels, np.nan)
    site = next(name for name in ROI_SITES if name in fitted.posterior)
    draws = np.asarray(fitted.posterior[site])
    posterior_width = np.quantile(draws, upper_q, axis=0) - np.quantile(
        draws, lower_q, axis=0
    )
    bounds = prior_quantiles(prior, (lower_q, upper_q))
    return posterior_width / (bounds[1] - bounds[0])


@partial(jax.jit, static_argnums=(0, 1, 4))
def _steady_state_effect(spec, n_periods, params, weekly_scaled, batch_size):
    """Per-draw effect (n_draws, n_channels, n_geos) in the last of ``n_periods``
    periods of constant spend ``weekly_scaled`` (n_channels, n_geos), internal
    scale."""
    media = jnp.broadcast_to(weekly_scaled, (n_periods,) + weekly_scaled.shape)

    def one_draw(draw):
        # A national coef_media is (n_channels,): give it the geo axis.
        coef = draw[COEF_MEDIA].reshape(weekly_scaled.shape[0], -1)
        return media_transform(spec, media, draw)[-1] * coef

    return map_draws(one_draw, params, batch_size)


def _spend_grid(names, spend_grid, n_points, maximum) -> np.ndarray:
    """The (n_points, n_channels) grid of weekly spends; ``maximum`` per channel
    sets the default grid (0 to twice the largest historical weekly spend)."""
    if spend_grid is None:
        if n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {n_points}.")
        return np.linspace(0.0, 2.0, n_points)[:, None] * maximum[None, :]
    if isinstance(spend_grid, pd.DataFrame):
        missing = [name for name in names if name not in spend_grid.columns]
        if missing:
            raise ValueError(f"spend_grid lacks the channel column(s) {missing}.")
        grid = spend_grid[names].to_numpy(dtype=float)
    elif isinstance(spend_grid, dict):
        missing = [name for name in names if name not in spend_grid]
        if missing:
            raise ValueError(f"spend_grid lacks the channel(s) {missing}.")
        columns = [np.asarray(spend_grid[name], dtype=float) for name in names]
        if len({len(column) for column in columns}) != 1:
            raise ValueError("Every channel's spend_grid must have the same length.")
        grid = np.stack(columns, axis=1)
    else:
        grid = np.asarray(spend_grid, dtype=float)
        if grid.ndim == 1:
            grid = np.repeat(grid[:, None], len(names), axis=1)
    if grid.ndim != 2 or grid.shape[1] != len(names):
        raise ValueError(
            "spend_grid must be 1-D (one grid for every channel) or of shape "
            f"(n_points, {len(names)}), got shape {grid.shape}."
        )
    if not np.all(np.isfinite(grid)) or np.any(grid < 0):
        raise ValueError("spend_grid must hold finite spends >= 0.")
    return grid


def observed_spend_range(est, by_geo: bool = False) -> pd.DataFrame:
    """The smallest and largest spend per period of each channel in the training data.

    Beyond this range the model's response is an extrapolation: the data
    did not show how the KPI responds there.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    by_geo : bool, default=False
        Geo fits only: each geo's own range, indexed by (geo, channel).
        Without it, the range of the national spend (summed over geos).

    Returns
    -------
    DataFrame
        Columns ``min`` and ``max`` (media units per period), indexed by
        channel.
    """
    fitted = _fitted(est, by_geo)
    media = fitted.training_media  # (n_times, n_channels, n_geos)
    present = fitted.training_present  # the cells the data have, or None
    if by_geo:
        index = pd.MultiIndex.from_product(
            [list(fitted.geo_names), list(fitted.media_names)],
            names=["geo", "channel"],
        )
        if present is None:
            low, high = media.min(axis=0), media.max(axis=0)
        else:
            cells = present[:, None, :]
            low = np.where(cells, media, np.inf).min(axis=0)
            high = np.where(cells, media, -np.inf).max(axis=0)
        low, high = low.T.ravel(), high.T.ravel()
    else:
        index = pd.Index(list(fitted.media_names), name="channel")
        national = media.sum(axis=2)
        if present is not None:
            national = national[present.any(axis=1)]
        low, high = national.min(axis=0), national.max(axis=0)
    return pd.DataFrame({"min": low, "max": high}, index=index)


def response_curves(
    est,
    spend_grid=None,
    n_points: int = 50,
    interval: float = 0.9,
    by_geo: bool = False,
) -> pd.DataFrame:
    """KPI per period attributable to each channel at a constant weekly spend.

    The steady state: the channel's transform is applied to a long constant
    series (``STEADY_STATE_PERIODS`` periods, at least the training length)
    and the last period's effect is reported.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    spend_grid : array-like, dict or DataFrame, default=None
        Weekly spends (media units) to evaluate: 1-D (the same grid for every
        channel), (n_points, n_channels), or by channel name. None gives
        ``n_points`` spends from 0 to twice each channel's largest historical
        weekly spend.
    n_points : int, default=50
        Grid size when ``spend_grid`` is None.
    interval : float, default=0.9
        Width of the central credible interval.
    by_geo : bool, default=False
        Geo fits: without it, the spend is national, split over geos by
        their historical share of each channel's spend, and the KPI is
        summed over geos; with it, each geo's curve at a weekly spend in
        that geo (the default grid per geo), with a ``geo`` column.

    Returns
    -------
    DataFrame
        Tidy: columns ``channel, spend, kpi_mean, kpi_lower, kpi_upper,
        in_observed_range`` (and ``geo`` first with ``by_geo=True``).
        ``in_observed_range`` is False where the spend lies outside the
        spend per period the training data saw
        (:func:`observed_spend_range`): there the curve is an extrapolation.
    """
    fitted = _fitted(est, by_geo)
    lower_q, upper_q = interval_quantiles(interval)
    media = fitted.training_media  # (n_times, n_channels, n_geos)
    shares = fitted.spend_shares
    params = fitted.device_posterior()
    n_periods = max(STEADY_STATE_PERIODS, fitted.n_train_periods)
    dtype = jnp.result_type(float)
    names = list(fitted.media_names)
    # A long history makes long steady states: a few draws at a time.
    batch_size = draw_batch_size(fitted.n_draws, n_periods * media[0].size)

    def effects_at(weekly: np.ndarray) -> np.ndarray:
        """(n_draws, n_channels, n_geos) KPI for weekly spend per (channel, geo)."""
        scaled = jnp.asarray(weekly / fitted.media_scale, dtype)
        effect = _steady_state_effect(
            fitted.spec, n_periods, params, scaled, batch_size
        )
        return np.asarray(effect, dtype=float) * fitted.target_scale

    observed = observed_spend_range(est, by_geo)

    def summarise(draws: np.ndarray, spends: np.ndarray, channel: str, geo=None):
        low, high = observed.loc[channel if geo is None else (geo, channel)]
        return {
            "channel": channel,
            "spend": spends,
            "kpi_mean": draws.mean(axis=0),
            "kpi_lower": np.quantile(draws, lower_q, axis=0),
            "kpi_upper": np.quantile(draws, upper_q, axis=0),
            "in_observed_range": (spends >= low) & (spends <= high),
        }

    frames = []
    if not by_geo:
        # National spend, split over geos by their historical share of it.
        grid = _spend_grid(names, spend_grid, n_points, media.sum(axis=2).max(axis=0))
        effects = np.stack(
            [effects_at(row[:, None] * shares).sum(axis=2) for row in grid], axis=1
        )  # (n_draws, n_points, n_channels)
        for c, name in enumerate(names):
            frames.append(pd.DataFrame(summarise(effects[:, :, c], grid[:, c], name)))
        return pd.concat(frames, ignore_index=True)
    if spend_grid is None:
        if n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {n_points}.")
        grid = np.linspace(0.0, 2.0, n_points)[:, None, None] * media.max(axis=0)
    else:
        per_channel = _spend_grid(names, spend_grid, n_points, None)
        grid = np.repeat(per_channel[:, :, None], fitted.n_geos, axis=2)
    effects = np.stack([effects_at(weekly) for weekly in grid], axis=1)
    for g, geo in enumerate(fitted.geo_names):
        for c, name in enumerate(names):
            frame = pd.DataFrame(
                summarise(effects[:, :, c, g], grid[:, c, g], name, geo)
            )
            frame.insert(0, "geo", geo)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------ lift tests


@partial(jax.jit, static_argnums=0)
def _lift_draws(spec, params, media, tests):
    return jax.vmap(lambda draw: lift_test_effects(spec, draw, media, tests))(params)


def _validated_tests(fitted: FittedMMM, table) -> lift_tests_module.LiftTests:
    return lift_tests_module.validate_lift_tests(
        table,
        index=fitted.training.index,
        media_names=fitted.media_names,
        media=fitted.training.media,
        geo_names=fitted.geo_names if fitted.is_geo else None,
    )


def lift_test_draws(est, lift_tests=None) -> pd.DataFrame:
    """The model's lift of each experiment, per posterior draw, in KPI units.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    lift_tests : DataFrame, default=None
        Experiments in the format of the estimator's ``lift_tests``
        parameter (their ``lift`` and ``lift_sd`` are not used); None
        means the estimator's own ``lift_tests``.

    Returns
    -------
    DataFrame of shape (n_draws, n_tests)
        One column per row of ``lift_tests`` (its index): the incremental
        KPI of the test's spend change over its measurement window, as the
        likelihood term of a calibrated fit computes it.
    """
    fitted = _fitted(est)
    table = est.lift_tests if lift_tests is None else lift_tests
    if table is None:
        raise ValueError(
            "The estimator has no lift_tests; pass lift_tests= (a DataFrame of "
            "experiments) to evaluate."
        )
    tests = _validated_tests(fitted, table)
    inputs = lift_tests_module.lift_test_inputs(
        tests,
        media=fitted.training_media,
        media_scale=fitted.media_scale,
        target_scale=fitted.target_scale,
    )
    dtype = jnp.result_type(float)
    device_inputs = lift_tests_module.LiftTestInputs(
        *(
            jnp.asarray(a, jnp.int32 if name == "channel" else dtype)
            for name, a in zip(
                lift_tests_module.LiftTestInputs._fields, inputs, strict=True
            )
        )
    )
    draws = _lift_draws(
        fitted.spec,
        fitted.device_posterior(),
        fitted.timeline().media,
        device_inputs,
    )
    values = (
        np.asarray(draws, dtype=float)[:, : tests.n_tests]
        * inputs.kpi_scale[: tests.n_tests]
    )
    frame = pd.DataFrame(values, columns=tests.labels)
    frame.index.name = "draw"
    return frame


def lift_test_fit(
    est, lift_tests=None, interval: float = 0.9, uncalibrated=None
) -> pd.DataFrame:
    """Each experiment's measured lift next to the model's.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model (usually fitted with ``lift_tests``).
    lift_tests : DataFrame, default=None
        The experiments; None means the estimator's ``lift_tests``.
    interval : float, default=0.9
        Width of the central credible interval of the model's lift.
    uncalibrated : fitted skmmm regressor, default=None
        The same model fitted without the tests: adds its lift (the
        ``model_lift_before_*`` columns), so the table shows what
        calibration changed.

    Returns
    -------
    DataFrame
        One row per test (the table's index) with ``channel``, ``geo`` (geo
        fits), ``start``, ``end``, ``measure_end``, ``delta_spend`` (``"holdout"``
        for a holdout),
        ``lift``, ``lift_sd`` as given, then ``model_lift_mean``,
        ``model_lift_sd``, ``model_lift_lower``, ``model_lift_upper`` and
        ``z``: (model mean - lift) / sqrt(lift_sd**2 + model_lift_sd**2),
        which is within about +-2 where test and model agree.
    """
    lower_q, upper_q = interval_quantiles(interval)
    fitted = _fitted(est)
    table = est.lift_tests if lift_tests is None else lift_tests
    draws = lift_test_draws(est, table)
    tests = _validated_tests(fitted, table)
    index = fitted.training.index
    frame = pd.DataFrame(index=tests.labels)
    frame["channel"] = [fitted.media_names[c] for c in tests.channel]
    if fitted.is_geo:
        frame["geo"] = [
            None if g == lift_tests_module.NATIONAL else fitted.geo_names[g]
            for g in tests.geo
        ]
    for name in ("start", "end", "measure_end"):
        frame[name] = index[getattr(tests, name)]
    frame["delta_spend"] = pd.Series(
        [
            "holdout" if off else value
            for off, value in zip(tests.holdout, tests.delta_spend, strict=True)
        ],
        index=frame.index,
        dtype=object if tests.holdout.any() else float,
    )
    for name in ("lift", "lift_sd"):
        frame[name] = getattr(tests, name)

    def describe(values: pd.DataFrame, prefix: str) -> None:
        frame[f"{prefix}_mean"] = values.mean(axis=0).to_numpy()
        frame[f"{prefix}_sd"] = values.std(axis=0, ddof=0).to_numpy()
        frame[f"{prefix}_lower"] = values.quantile(lower_q, axis=0).to_numpy()
        frame[f"{prefix}_upper"] = values.quantile(upper_q, axis=0).to_numpy()

    describe(draws, "model_lift")
    frame["z"] = (frame["model_lift_mean"] - frame["lift"]) / np.sqrt(
        frame["lift_sd"] ** 2 + frame["model_lift_sd"] ** 2
    )
    if uncalibrated is not None:
        describe(lift_test_draws(uncalibrated, table), "model_lift_before")
    return frame
