"""Attribution of a fitted media mix model: contributions, ROI, response curves.

Every function takes a fitted estimator (any of skmmm's regressors) and works
through its fitted attributes only (``posterior_``, ``spec_``, the scales,
``media_prior_``, ``training_data_`` and ``_posterior_components``); this
module never imports :mod:`skmmm.regressor`. Results are in the user's units
and indexed by channel name.

Definitions (LightweightMMM's ``get_posterior_metrics``), per posterior draw,
over the training periods ``t``:

- contribution share of channel ``c``: ``sum_t media_{t,c} / sum_t mu_t``;
- ROI of channel ``c``: ``sum_t media_{t,c} / cost_c`` with ``cost_c`` the
  estimator's ``media_prior_`` (total cost of the channel);
- marginal ROI of channel ``c``: ``d(sum_t mu_t) / d(cost_c)`` when the
  channel's spend is scaled up along its historical pattern, from exact JAX
  derivatives.

A channel with zero cost or zero spend has share, ROI and marginal ROI 0.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from skmmm.models import mean_components, media_transform
from skmmm.priors import COEF_MEDIA

__all__ = [
    "contribution_share",
    "contributions",
    "marginal_roi",
    "response_curves",
    "roi",
    "summary",
]

STEADY_STATE_PERIODS = 260


def _check_fitted(est) -> None:
    check_is_fitted(est, "posterior_")


def _device_params(est) -> dict[str, jax.Array]:
    return est._device_params()


def _check_interval(interval: float) -> tuple[float, float]:
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval!r}.")
    return (1 - interval) / 2, 1 - (1 - interval) / 2


def _rows_index(est, X, media_gap) -> pd.Index:
    if X is None:
        return est.training_data_.index
    if isinstance(X, pd.DataFrame):
        return X.index
    n_gap = 0 if media_gap is None else len(np.asarray(media_gap))
    start = est.n_train_periods_ + n_gap
    return pd.RangeIndex(start, start + len(np.asarray(X)))


def _safe_divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is not positive."""
    denominator = np.asarray(denominator, dtype=float)
    positive = denominator > 0
    safe = np.where(positive, denominator, 1.0)
    return np.where(positive, numerator / safe, 0.0)


def contributions(est, X=None, media_gap=None) -> pd.DataFrame:
    """Posterior-mean contribution of each channel and of the baseline per period.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    X : {array-like, DataFrame} of shape (n_periods, n_features), default=None
        New periods, as in ``est.predict``; None means the training periods.
    media_gap : array-like of shape (n_gap, n_channels), default=None
        Media between the end of training and the first row of ``X``.

    Returns
    -------
    DataFrame of shape (n_periods, n_channels + 1)
        One column per channel plus ``"baseline"`` (intercept, trend,
        seasonality and controls), in KPI units; each row adds up to
        ``est.predict(X)``. Indexed by the training index, ``X``'s index, or
        for arrays a RangeIndex of period numbers continuing after training.
    """
    _check_fitted(est)
    components = est._posterior_components(X, media_gap)
    media = components["media"].mean(axis=0)
    baseline = (components["mu"] - components["media"].sum(axis=2)).mean(axis=0)
    frame = pd.DataFrame(
        media, index=_rows_index(est, X, media_gap), columns=list(est.media_names_)
    )
    frame["baseline"] = baseline
    return frame


def contribution_share(est, include_baseline: bool = False) -> pd.DataFrame:
    """Share of the training KPI explained by each channel, per posterior draw.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    include_baseline : bool, default=False
        Add a ``"baseline"`` column; then every row sums to 1.

    Returns
    -------
    DataFrame of shape (n_draws, n_channels[ + 1])
        ``sum_t media_{t,c} / sum_t mu_t`` over the training periods.
    """
    _check_fitted(est)
    components = est._posterior_components()
    media_total = components["media"].sum(axis=1)
    mu_total = components["mu"].sum(axis=1)
    shares = _safe_divide(media_total, mu_total[:, None])
    frame = pd.DataFrame(shares, columns=list(est.media_names_))
    frame.index.name = "draw"
    if include_baseline:
        frame["baseline"] = 1.0 - shares.sum(axis=1)
    return frame


def roi(est) -> pd.DataFrame:
    """Return on investment of each channel over the training period, per draw.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        ``sum_t media_{t,c} / cost_c`` (KPI per unit of currency) with
        ``cost = est.media_prior_``; 0 for a channel with no cost or no spend.
    """
    _check_fitted(est)
    media_total = est._posterior_components()["media"].sum(axis=1)
    cost = np.asarray(est.media_prior_, dtype=float)
    spent = est.training_data_.media.sum(axis=0) > 0
    values = np.where(spent, _safe_divide(media_total, cost[None, :]), 0.0)
    frame = pd.DataFrame(values, columns=list(est.media_names_))
    frame.index.name = "draw"
    return frame


@partial(jax.jit, static_argnums=0)
def _total_kpi_draws(spec, params, media, extra, time_index, scaling):
    """Summed expected KPI (internal scale) per draw, media scaled per channel."""

    def one_draw(draw):
        return mean_components(spec, draw, media * scaling, extra, time_index)[
            "mu"
        ].sum()

    return jax.vmap(one_draw)(params)


@partial(jax.jit, static_argnums=0)
def _total_kpi_gradient(spec, params, media, extra, time_index):
    """d(sum_t mu_t)/d(scaling_c) at scaling 1, per draw: shape (n_draws, n_channels)."""

    def one_draw(draw):
        def total(scaling):
            return mean_components(spec, draw, media * scaling, extra, time_index)[
                "mu"
            ].sum()

        return jax.grad(total)(jnp.ones(media.shape[1], media.dtype))

    return jax.vmap(one_draw)(params)


def _training_inputs(est):
    dtype = jnp.result_type(float)
    train = est.training_data_
    n_times = est.n_train_periods_
    return (
        jnp.asarray(train.media / est.media_scale_, dtype),
        jnp.asarray(train.extra_features / est.extra_scale_, dtype),
        jnp.asarray(np.arange(n_times), dtype),
    )


def marginal_roi(est, delta: float | None = None) -> pd.DataFrame:
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

    Returns
    -------
    DataFrame of shape (n_draws, n_channels)
        KPI per unit of currency; 0 for a channel with no spend or cost.
    """
    _check_fitted(est)
    media, extra, time_index = _training_inputs(est)
    params = _device_params(est)
    n_channels = media.shape[1]
    if delta is None:
        gradient = np.asarray(
            _total_kpi_gradient(est.spec_, params, media, extra, time_index),
            dtype=float,
        )
    else:
        if not delta > 0:
            raise ValueError(f"delta must be a positive number or None, got {delta}.")
        ones = jnp.ones(n_channels, media.dtype)
        base = np.asarray(
            _total_kpi_draws(est.spec_, params, media, extra, time_index, ones),
            dtype=float,
        )
        gradient = np.stack(
            [
                (
                    np.asarray(
                        _total_kpi_draws(
                            est.spec_,
                            params,
                            media,
                            extra,
                            time_index,
                            ones.at[c].set(1.0 + delta),
                        ),
                        dtype=float,
                    )
                    - base
                )
                / delta
                for c in range(n_channels)
            ],
            axis=1,
        )
    cost = np.asarray(est.media_prior_, dtype=float)
    spent = est.training_data_.media.sum(axis=0) > 0
    values = np.where(
        spent, _safe_divide(gradient * est.target_scale_, cost[None, :]), 0.0
    )
    frame = pd.DataFrame(values, columns=list(est.media_names_))
    frame.index.name = "draw"
    return frame


def summary(est, interval: float = 0.9) -> pd.DataFrame:
    """Contribution share, ROI and marginal ROI per channel with credible intervals.

    Parameters
    ----------
    est : fitted skmmm regressor
        The model.
    interval : float, default=0.9
        Width of the central credible interval.

    Returns
    -------
    DataFrame indexed by channel
        Columns ``share_mean, share_median, share_lower, share_upper,
        roi_mean, roi_median, roi_lower, roi_upper, mroi_mean, mroi_lower,
        mroi_upper``.
    """
    lower_q, upper_q = _check_interval(interval)
    table = pd.DataFrame(index=pd.Index(list(est.media_names_), name="channel"))
    for prefix, draws in (
        ("share", contribution_share(est)),
        ("roi", roi(est)),
        ("mroi", marginal_roi(est)),
    ):
        table[f"{prefix}_mean"] = draws.mean(axis=0)
        if prefix != "mroi":
            table[f"{prefix}_median"] = draws.median(axis=0)
        table[f"{prefix}_lower"] = draws.quantile(lower_q, axis=0)
        table[f"{prefix}_upper"] = draws.quantile(upper_q, axis=0)
    return table


@partial(jax.jit, static_argnums=(0, 1))
def _steady_state_effect(spec, n_periods, params, weekly_scaled):
    """Per-draw effect of each channel in the last of ``n_periods`` constant periods.

    ``weekly_scaled`` (n_channels,) is the constant spend on the internal
    scale; returns (n_draws, n_channels) on the internal KPI scale.
    """
    media = jnp.broadcast_to(weekly_scaled, (n_periods, weekly_scaled.shape[0]))

    def one_draw(draw):
        return media_transform(spec, media, draw)[-1] * draw[COEF_MEDIA]

    return jax.vmap(one_draw)(params)


def _spend_grid(est, spend_grid, n_points) -> np.ndarray:
    names = list(est.media_names_)
    if spend_grid is None:
        if n_points < 2:
            raise ValueError(f"n_points must be >= 2, got {n_points}.")
        maximum = est.training_data_.media.max(axis=0)
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


def response_curves(
    est, spend_grid=None, n_points: int = 50, interval: float = 0.9
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

    Returns
    -------
    DataFrame
        Tidy: columns ``channel, spend, kpi_mean, kpi_lower, kpi_upper``.
    """
    _check_fitted(est)
    lower_q, upper_q = _check_interval(interval)
    grid = _spend_grid(est, spend_grid, n_points)
    params = _device_params(est)
    n_periods = max(STEADY_STATE_PERIODS, int(est.n_train_periods_))
    dtype = jnp.result_type(float)
    effects = np.stack(
        [
            np.asarray(
                _steady_state_effect(
                    est.spec_,
                    n_periods,
                    params,
                    jnp.asarray(row / est.media_scale_, dtype),
                ),
                dtype=float,
            )
            * est.target_scale_
            for row in grid
        ],
        axis=1,
    )  # (n_draws, n_points, n_channels)
    frames = []
    for c, name in enumerate(est.media_names_):
        frames.append(
            pd.DataFrame(
                {
                    "channel": name,
                    "spend": grid[:, c],
                    "kpi_mean": effects[:, :, c].mean(axis=0),
                    "kpi_lower": np.quantile(effects[:, :, c], lower_q, axis=0),
                    "kpi_upper": np.quantile(effects[:, :, c], upper_q, axis=0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
