"""Budget optimisation on a fitted media mix model.

:class:`BudgetOptimizer` finds the split of a budget over channels that
maximises the posterior-mean KPI summed over a future horizon, as
LightweightMMM's ``find_optimal_budgets``, with exact JAX gradients (no
finite differences), a feasibility check before solving, bounds matched by
channel name, fixed channels and a KPI-target mode. It works on a fitted
estimator's model (``est.fitted_``, where a national fit is a panel of one
geo) and never imports :mod:`skmmm.regressor`. One solve serves national,
proportional-geo and free-geo allocation: the decision variables are
mapped linearly to the weekly media of every channel and geo.

The horizon continues the training history: its media follow the training
media (and ``media_gap``), so adstock and carryover carry over. The
objective is evaluated in float64 (``jax.enable_x64``) so SLSQP's stopping
tolerance is not swamped by rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.utils.validation import check_is_fitted

from skmmm._validation import split_unknown
from skmmm.draws import interval_quantiles, map_draws
from skmmm.fitted import FittedMMM
from skmmm.models import CARRYOVER_LAGS, panel_mean_components

__all__ = ["BudgetOptimizer", "OptimizationResult"]

GEO_ALLOCATIONS = ("proportional", "free")
# What a budget search passes on to every optimize() call.
_PLAN_ARGUMENTS = (
    "prices",
    "extra_features",
    "media_gap",
    "fixed_channels",
    "bounds_lower",
    "bounds_upper",
)
# What fixes the horizon of an evaluate() call.
_HORIZON_ARGUMENTS = ("n_time_periods", "prices", "extra_features", "media_gap")


@dataclass
class OptimizationResult:
    """Outcome of :meth:`BudgetOptimizer.optimize`.

    Attributes
    ----------
    optimal_allocation : Series
        Spend per channel (currency, whole horizon) maximising the KPI.
    starting_allocation : Series
        The plan compared with: the budget split by historical spend share,
        or as ``optimize(starting_allocation=...)`` asked.
    kpi_optimal, kpi_starting : float
        Posterior mean of the KPI summed over the horizon. For a fit with
        ``revenue_per_kpi``, revenue: the KPI times the training period's
        average revenue per KPI (per geo), which the optimiser maximises.
    kpi_optimal_interval, kpi_starting_interval : tuple of float
        Central credible interval (lower, upper) of the same.
    budget : float
        The total budget.
    n_time_periods : int
        Length of the horizon.
    success : bool
        Whether the solver converged.
    message : str
        The solver's message (and any note of skmmm's).
    n_iterations : int
        SLSQP iterations.
    bounds_lower, bounds_upper : Series
        The per-channel bounds used.
    optimal_allocation_by_geo, starting_allocation_by_geo : DataFrame or None
        Geo fits: spend per channel (rows) and geo (columns); their row sums
        are ``optimal_allocation`` and ``starting_allocation``.
    binding_bounds : Series
        Per channel, ``"lower"`` or ``"upper"`` where the optimal spend sits
        on that bound (within 1e-6 of the budget), ``"fixed"`` for a locked
        channel, ``""`` where the optimum lies between the bounds. A binding
        bound is the constraint that shapes the answer: widen it to let the
        optimiser move further.
    probability_of_improvement : float
        Posterior probability that the optimal allocation brings more KPI
        than the starting one (the share of posterior draws in which it
        does). Near 0.5 the two plans are not distinguishable.
    marginal_roi : float
        From :meth:`BudgetOptimizer.optimize_for_marginal_roi`: the KPI the
        next unit of budget would bring at this allocation (NaN otherwise).
    outside_observed_range : Series of bool
        Per channel, whether the optimal spend per period (media units)
        lies outside the smallest-to-largest spend per period of the
        training data: the predicted effect there is an extrapolation.
    """

    optimal_allocation: pd.Series
    starting_allocation: pd.Series
    kpi_optimal: float
    kpi_starting: float
    kpi_optimal_interval: tuple[float, float]
    kpi_starting_interval: tuple[float, float]
    budget: float
    n_time_periods: int
    success: bool
    message: str
    n_iterations: int
    bounds_lower: pd.Series = field(repr=False)
    bounds_upper: pd.Series = field(repr=False)
    optimal_allocation_by_geo: pd.DataFrame | None = field(default=None, repr=False)
    starting_allocation_by_geo: pd.DataFrame | None = field(default=None, repr=False)
    binding_bounds: pd.Series | None = field(default=None, repr=False)
    probability_of_improvement: float = float("nan")
    marginal_roi: float = float("nan")
    outside_observed_range: pd.Series | None = field(default=None, repr=False)

    @property
    def kpi_uplift(self) -> float:
        """Relative KPI gain of the optimal over the starting allocation."""
        return self.kpi_optimal / self.kpi_starting - 1.0


def _check_finite_target(
    value, name: str, meaning: str, minimum: float | None = None
) -> None:
    """Raise unless ``value`` is a finite real number (``>= minimum`` if given)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, Real)
        or not np.isfinite(value)
        or (minimum is not None and value < minimum)
    ):
        bound = "" if minimum is None else f" >= {minimum:g}"
        raise ValueError(
            f"{name} must be a finite number{bound} ({meaning}), got {value!r}."
        )


def _history_needed(spec) -> int | None:
    """Rows of history the horizon's KPI depends on; None for all of them.

    Carryover is a finite kernel whose weights are normalised over all its
    lags (not over the periods available), so the last ``number_lags - 1``
    periods give exactly the same horizon; geometric adstock remembers the
    whole history.
    """
    if spec.model_name == "carryover":
        return CARRYOVER_LAGS - 1
    return None


def _horizon_kpi(
    spec, n_hist, params, timeline, weekly_scaled, target_scale, batch_size
):
    """KPI summed over the horizon and the geos (KPI units), per draw.

    ``timeline`` holds (media, controls, time_index) of history + horizon;
    ``weekly_scaled`` (n_channels, n_geos) replaces the horizon's media rows
    (after ``n_hist``). Draws are evaluated ``batch_size`` at a time.
    """
    media, controls, time_index = timeline
    n_horizon = media.shape[0] - n_hist
    history_needed = _history_needed(spec)
    if history_needed is not None and n_hist > history_needed:
        # The horizon depends on the last rows of history only: skip the rest.
        start = n_hist - history_needed
        media, controls, time_index = (
            media[start:],
            controls[start:],
            time_index[start:],
        )
        n_hist = history_needed
    horizon = jnp.broadcast_to(weekly_scaled, (n_horizon,) + weekly_scaled.shape)
    media = jnp.concatenate([media[:n_hist], horizon], axis=0)
    rows = slice(n_hist, None)

    def one_draw(draw):
        parts = panel_mean_components(spec, draw, media, controls, time_index, rows)
        return parts["mu"].sum(axis=0) @ target_scale

    n_draws = next(iter(params.values())).shape[0]
    if batch_size < n_draws:
        # Batches of a long history: the gradient recomputes each batch's
        # intermediates rather than keep every batch's.
        one_draw = jax.checkpoint(one_draw)
    return map_draws(one_draw, params, batch_size)


_kpi_draws = jax.jit(_horizon_kpi, static_argnums=(0, 1, 6))


def _negative_scaled_kpi(
    x, spec, n_hist, params, timeline, weekly_map, target_scale, reference, batch_size
):
    """-mean KPI / reference as a function of the allocation units / budget."""
    weekly = (x @ weekly_map).reshape(timeline[0].shape[1:])
    kpi = _horizon_kpi(spec, n_hist, params, timeline, weekly, target_scale, batch_size)
    return -kpi.mean() / reference


_objective_and_gradient = jax.jit(
    jax.value_and_grad(_negative_scaled_kpi), static_argnums=(1, 2, 8)
)


def _weekly_per_currency(fitted: FittedMMM, n_time_periods: int, prices) -> np.ndarray:
    """Weekly media on the internal scale per unit of currency over the horizon."""
    return (1.0 / (n_time_periods * prices))[:, None] / fitted.media_scale


def _proportional_map(shares: np.ndarray, weekly_per_currency: np.ndarray):
    """(n_channels, n_channels * n_geos): a channel's spend split over geos by share."""
    n_channels, n_geos = shares.shape
    weekly_map = np.zeros((n_channels, n_channels * n_geos))
    for c in range(n_channels):
        weekly_map[c, c * n_geos : (c + 1) * n_geos] = (
            shares[c] * weekly_per_currency[c]
        )
    return weekly_map


class BudgetOptimizer:
    """Optimal split of a media budget for a fitted media mix model.

    Parameters
    ----------
    estimator : fitted skmmm regressor
        The model (national).
    bounds_lower_pct : float, array-like, dict or Series, default=0.2
        Lower bound of each channel: ``(1 - bounds_lower_pct)`` times its
        historical average weekly spend times the horizon times its price;
        one value for every channel, or one per channel (in the estimator's
        channel order, or by name), as LightweightMMM accepts.
    bounds_upper_pct : float, array-like, dict or Series, default=0.2
        Upper bound: ``(1 + bounds_upper_pct)`` times the same.
    max_iterations : int, default=200
        SLSQP iteration limit.
    solver_tol : float, default=1e-10
        SLSQP ``ftol`` on the KPI relative to the starting KPI.
    interval : float, default=0.9
        Width of the credible intervals of the KPI.
    geo_allocation : {"proportional", "free"}, default="proportional"
        Geo fits only. "proportional" optimises the spend per channel and
        splits each channel's spend over geos by the geos' historical share
        of it; "free" optimises the spend per (channel, geo), each bounded
        by the ``*_pct`` bounds around its own historical spend (per-channel
        ``bounds_lower``/``bounds_upper`` are split over geos by historical
        share). The KPI is summed over geos.

    Examples
    --------
    >>> optimizer = BudgetOptimizer(fitted_mmm)  # doctest: +SKIP
    >>> result = optimizer.optimize(budget=1e6, n_time_periods=10)  # doctest: +SKIP
    >>> result.optimal_allocation  # doctest: +SKIP
    """

    def __init__(
        self,
        estimator,
        *,
        bounds_lower_pct=0.2,
        bounds_upper_pct=0.2,
        max_iterations: int = 200,
        solver_tol: float = 1e-10,
        interval: float = 0.9,
        geo_allocation: str = "proportional",
    ) -> None:
        check_is_fitted(estimator, "posterior_")
        self.estimator = estimator
        lower_pct = self._by_channel(bounds_lower_pct, "bounds_lower_pct")
        if np.any(lower_pct > 1):
            raise ValueError(
                f"bounds_lower_pct must be in [0, 1], got {bounds_lower_pct}."
            )
        self._by_channel(bounds_upper_pct, "bounds_upper_pct")
        interval_quantiles(interval)
        if geo_allocation not in GEO_ALLOCATIONS:
            raise ValueError(
                f"geo_allocation must be one of {GEO_ALLOCATIONS}, got "
                f"{geo_allocation!r}."
            )
        self.estimator = estimator
        self.bounds_lower_pct = bounds_lower_pct
        self.bounds_upper_pct = bounds_upper_pct
        self.max_iterations = max_iterations
        self.solver_tol = solver_tol
        self.interval = interval
        self.geo_allocation = geo_allocation
        self._params = None

    # ------------------------------------------------------------ helpers

    @property
    def channels(self) -> list[str]:
        return list(self.fitted.media_names)

    @property
    def fitted(self) -> FittedMMM:
        """The estimator's fitted model."""
        return self.estimator.fitted_

    def _device_params(self):
        if self._params is None:
            with jax.enable_x64(True):
                self._params = {
                    name: jnp.asarray(value, dtype=jnp.float64)
                    for name, value in self.fitted.posterior.items()
                }
        return self._params

    def _by_channel(
        self, values, name: str, default: float | None = None, partial: bool = False
    ):
        """A per-channel vector from None, a scalar, a dict/Series by name or an array.

        With ``partial``, a dict or Series may name some channels only; the
        others are NaN (the caller fills them).
        """
        channels = self.channels
        if values is None:
            return None if default is None else np.full(len(channels), default)
        if isinstance(values, dict | pd.Series):
            values = dict(values)
            missing = [c for c in channels if c not in values]
            unknown = [c for c in values if c not in channels]
            if unknown or (missing and not partial):
                raise ValueError(
                    f"{name} must name every channel {channels}; missing {missing}, "
                    f"unknown {unknown}."
                )
            array = np.array([float(values.get(c, np.nan)) for c in channels])
            if partial:
                named = ~np.isnan(array)
                if not np.all(np.isfinite(array[named])) or np.any(array[named] < 0):
                    raise ValueError(f"{name} must be finite and >= 0, got {values}.")
                return array
        else:
            array = np.asarray(values, dtype=float)
            if array.ndim == 0:
                array = np.full(len(channels), float(array))
            if array.shape != (len(channels),):
                raise ValueError(
                    f"{name} must have one value per channel ({len(channels)}, in the "
                    f"order {channels}), got shape {array.shape}."
                )
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise ValueError(f"{name} must be finite and >= 0, got {array}.")
        return array

    def _rows(self, values, name: str, n_rows: int, columns: list[str]) -> np.ndarray:
        if isinstance(values, pd.DataFrame):
            missing = [c for c in columns if c not in values.columns]
            if missing:
                raise ValueError(f"{name} lacks the column(s) {missing}.")
            values = values[columns]
        array = np.asarray(values, dtype=float)
        if array.ndim == 1 and len(columns) == 1:
            array = array[:, None]
        if array.shape != (n_rows, len(columns)):
            raise ValueError(
                f"{name} must have shape ({n_rows}, {len(columns)}) (columns "
                f"{columns}), got shape {array.shape}."
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} must be finite.")
        return array

    def _timeline(self, n_time_periods, extra_features, media_gap):
        """History (training, gap) plus an empty horizon, as float64 device arrays.

        Returns the number of history periods and (media, controls, period
        numbers) on the internal scale, each with a geo axis.
        """
        fitted = self.fitted
        train_media, train_controls = fitted.training_media, fitted.training_controls
        _, n_channels, n_geos = train_media.shape
        n_extra = train_controls.shape[1]
        gap = fitted.media_gap(media_gap)
        mean_extra = train_controls.mean(axis=0)  # (n_extra, n_geos)
        if extra_features is None:
            horizon_extra = np.broadcast_to(
                mean_extra, (n_time_periods, n_extra, n_geos)
            )
        elif not fitted.is_geo:
            horizon_extra = self._rows(
                extra_features,
                "extra_features",
                n_time_periods,
                list(fitted.control_names),
            )[:, :, None]
        else:
            horizon_extra = np.asarray(extra_features, dtype=float)
            if horizon_extra.shape != (n_time_periods, n_extra, n_geos):
                raise ValueError(
                    f"extra_features of a geo fit must have shape ({n_time_periods}, "
                    f"{n_extra}, {n_geos}) (period, control "
                    f"{fitted.control_names}, geo), got {horizon_extra.shape}."
                )
            if not np.all(np.isfinite(horizon_extra)):
                raise ValueError("extra_features must be finite.")
        media = np.concatenate(
            [train_media, gap, np.zeros((n_time_periods, n_channels, n_geos))]
        )
        controls = np.concatenate(
            [
                train_controls,
                np.broadcast_to(mean_extra, (len(gap), n_extra, n_geos)),
                horizon_extra,
            ]
        )
        with jax.enable_x64(True):
            timeline = (
                jnp.asarray(media / fitted.media_scale, jnp.float64),
                jnp.asarray(fitted.scaled_controls(controls), jnp.float64),
                jnp.arange(len(media), dtype=jnp.float64),
            )
        return fitted.n_train_periods + len(gap), timeline

    def _interval(self, draws: np.ndarray) -> tuple[float, float]:
        lower_q, upper_q = interval_quantiles(self.interval)
        return float(np.quantile(draws, lower_q)), float(np.quantile(draws, upper_q))

    def _bounds(self, n_time_periods, prices, bounds_lower, bounds_upper):
        # Average weekly spend per channel, summed over geos.
        historical = self.fitted.training_media.sum(axis=2).mean(axis=0)
        base = historical * n_time_periods * prices
        lower_pct = self._by_channel(self.bounds_lower_pct, "bounds_lower_pct")
        upper_pct = self._by_channel(self.bounds_upper_pct, "bounds_upper_pct")
        # Currency bounds override the % bounds of the channels they name.
        lower = (1 - lower_pct) * base
        upper = (1 + upper_pct) * base
        given_lower = self._by_channel(bounds_lower, "bounds_lower", partial=True)
        given_upper = self._by_channel(bounds_upper, "bounds_upper", partial=True)
        if given_lower is not None:
            lower = np.where(np.isnan(given_lower), lower, given_lower)
        if given_upper is not None:
            upper = np.where(np.isnan(given_upper), upper, given_upper)
        if np.any(lower > upper):
            bad = [
                c
                for c, lo, up in zip(self.channels, lower, upper, strict=True)
                if lo > up
            ]
            raise ValueError(f"bounds_lower exceeds bounds_upper for {bad}.")
        return base, lower, upper

    # ------------------------------------------------------------ public

    def optimize(
        self,
        budget: float,
        n_time_periods: int,
        prices=None,
        extra_features=None,
        media_gap=None,
        fixed_channels=None,
        bounds_lower=None,
        bounds_upper=None,
        starting_allocation=None,
    ) -> OptimizationResult:
        """Split ``budget`` over channels to maximise the KPI over the horizon.

        Parameters
        ----------
        budget : float
            Total spend (currency) over the horizon, spent exactly.
        n_time_periods : int
            Length of the horizon; each channel spends its allocation evenly:
            weekly media = allocation / n_time_periods / price.
        prices : array-like, dict or Series, default=None
            Price of one media unit per channel (default 1: media are spend).
        extra_features : array-like of shape (n_time_periods, n_extra), default=None
            Controls over the horizon; None uses each control's training mean.
        media_gap : array-like of shape (n_gap, n_channels), default=None
            Media between the end of training and the horizon.
        fixed_channels : list of str or dict, default=None
            Channels kept at their starting (historical share) spend, or a
            dict channel -> spend (currency over the horizon).
        bounds_lower, bounds_upper : array-like, dict or Series, default=None
            Per-channel bounds (currency over the horizon), by channel name or
            in the estimator's channel order; override the ``*_pct`` bounds.
            A dict or Series may name some channels only: the others keep
            their ``*_pct`` bounds.
        starting_allocation : {None, "recent"}, array-like, dict or Series, default=None
            The plan the optimal one is compared with (``kpi_starting``,
            ``kpi_uplift``) and locked channels keep: None splits the budget
            by each channel's share of all training spend, ``"recent"`` by
            its share over the last ``n_time_periods`` training periods, and
            a plan gives each channel's spend over the horizon (currency, by
            name or in channel order), which must add up to ``budget``. The
            bounds stay around the historical average spend; a start outside
            them is projected onto them (the message says so).

        Returns
        -------
        OptimizationResult

        Raises
        ------
        ValueError
            If the bounds cannot add up to the budget (checked before solving).
        """
        fitted = self.fitted
        channels = self.channels
        n_time_periods, budget, prices, start, lower, upper, free_channels = (
            self._channel_problem(
                budget,
                n_time_periods,
                prices,
                fixed_channels,
                bounds_lower,
                bounds_upper,
                starting_allocation,
            )
        )
        # The decision variables ("units") are the channels (national,
        # "proportional") or the (channel, geo) pairs in channel-major order
        # ("free"); weekly media on the internal scale = units @ weekly_map.
        shares = fitted.spend_shares
        n_channels, n_geos = shares.shape
        weekly_per_currency = _weekly_per_currency(fitted, n_time_periods, prices)
        free_geos = fitted.is_geo and self.geo_allocation == "free"
        if free_geos:
            start_units, lower_units, upper_units = (
                (v[:, None] * shares).ravel() for v in (start, lower, upper)
            )
            weekly_map = np.diag(weekly_per_currency.ravel())
            free = np.repeat(free_channels, n_geos)
        else:
            start_units, lower_units, upper_units = start, lower, upper
            weekly_map = _proportional_map(shares, weekly_per_currency)
            free = free_channels

        n_hist, timeline = self._timeline(n_time_periods, extra_features, media_gap)
        start_feasible = bool(
            np.all(start_units >= lower_units - 1e-9 * budget)
            and np.all(start_units <= upper_units + 1e-9 * budget)
        )
        if not start_feasible:
            # Compare with a plan the user allows: the historical split
            # projected onto the bounds and the locked spends.
            start_units = _project(start_units, lower_units, upper_units, budget)
        with jax.enable_x64(True):
            solver = _Solver(
                fitted, self._device_params(), n_hist, timeline, weekly_map
            )
            start_draws = solver.kpi(start_units)
            if free.any():
                units, n_iterations, success, message = solver.solve(
                    budget,
                    start_units,
                    lower_units,
                    upper_units,
                    free,
                    abs(float(start_draws.mean())) or 1.0,
                    max_iterations=self.max_iterations,
                    tolerance=self.solver_tol,
                )
            else:
                units, n_iterations, success = start_units.copy(), 0, True
                message = "Every channel is fixed; nothing to solve."
            draws = solver.kpi(units)
        if draws.mean() < start_draws.mean():
            units, draws, success = start_units, start_draws, False
            message = (
                f"The solver ended below the starting KPI ({message}); returning the "
                "starting allocation."
            )
        if not start_feasible:
            message += (
                " Note: the starting split lies outside the bounds or the "
                "fixed spends; the starting allocation (and the uplift) is its "
                "projection onto them."
            )

        def by_geo(allocation: np.ndarray) -> pd.DataFrame:
            table = (
                allocation.reshape(n_channels, n_geos)
                if free_geos
                else allocation[:, None] * shares
            )
            frame = pd.DataFrame(
                table, index=channels, columns=list(fitted.geo_names) or None
            )
            frame.index.name, frame.columns.name = "channel", "geo"
            return frame

        optimal_by_geo, start_by_geo = by_geo(units), by_geo(start_units)
        optimal = optimal_by_geo.sum(axis=1).rename("spend")
        return OptimizationResult(
            optimal_allocation=optimal,
            starting_allocation=start_by_geo.sum(axis=1).rename("spend"),
            kpi_optimal=float(draws.mean()),
            kpi_starting=float(start_draws.mean()),
            kpi_optimal_interval=self._interval(draws),
            kpi_starting_interval=self._interval(start_draws),
            budget=budget,
            n_time_periods=n_time_periods,
            success=success,
            message=message,
            n_iterations=n_iterations,
            bounds_lower=pd.Series(lower, index=channels, name="lower"),
            bounds_upper=pd.Series(upper, index=channels, name="upper"),
            binding_bounds=_binding(optimal.to_numpy(), lower, upper, budget, channels),
            probability_of_improvement=float(np.mean(draws > start_draws)),
            outside_observed_range=_outside_observed_range(
                fitted, optimal.to_numpy() / (n_time_periods * prices), channels
            ),
            optimal_allocation_by_geo=optimal_by_geo if fitted.is_geo else None,
            starting_allocation_by_geo=start_by_geo if fitted.is_geo else None,
        )

    def evaluate(
        self,
        allocation,
        n_time_periods: int,
        prices=None,
        extra_features=None,
        media_gap=None,
    ) -> np.ndarray:
        """KPI draws over the horizon for a given split of spend.

        Parameters
        ----------
        allocation : array-like, dict or Series
            Spend per channel (currency over the horizon), by name or in the
            estimator's channel order; a geo fit splits each channel's spend
            over geos by their historical share of it.
        n_time_periods, prices, extra_features, media_gap
            As in :meth:`optimize`.

        Returns
        -------
        ndarray of shape (n_draws,)
            The KPI summed over the horizon (and the geos), per posterior draw.
        """
        n_time_periods = self._check_periods(n_time_periods)
        spend = self._by_channel(allocation, "allocation")
        prices = self._by_channel(prices, "prices", default=1.0)
        if np.any(prices <= 0):
            raise ValueError("prices must be > 0.")
        fitted = self.fitted
        weekly_map = _proportional_map(
            fitted.spend_shares, _weekly_per_currency(fitted, n_time_periods, prices)
        )
        n_hist, timeline = self._timeline(n_time_periods, extra_features, media_gap)
        with jax.enable_x64(True):
            solver = _Solver(
                fitted, self._device_params(), n_hist, timeline, weekly_map
            )
            return solver.kpi(spend)

    def optimize_for_target(
        self,
        target_kpi: float,
        n_time_periods: int,
        *,
        budget_rtol: float = 1e-6,
        **plan,
    ) -> OptimizationResult:
        """The smallest budget (and its allocation) whose optimised KPI reaches a target.

        Bisection on the budget between the sums of the lower and upper
        bounds, optimising the allocation at each step (the optimised KPI
        grows with the budget for skmmm's models).

        Parameters
        ----------
        target_kpi : float
            KPI (posterior mean, summed over the horizon) to reach.
        n_time_periods : int
            As in :meth:`optimize`.
        budget_rtol : float, default=1e-6
            Relative precision of the budget.
        **plan
            ``prices``, ``extra_features``, ``media_gap``, ``fixed_channels``,
            ``bounds_lower`` and ``bounds_upper``, as in :meth:`optimize`.

        Returns
        -------
        OptimizationResult
            At the smallest budget found whose ``kpi_optimal >= target_kpi``.

        Raises
        ------
        ValueError
            If even the largest budget the bounds allow falls short.
        """
        _check_finite_target(
            target_kpi, "target_kpi", "the KPI to reach over the horizon"
        )
        low_budget, high, kwargs = self._largest_budget(n_time_periods, plan)
        if high.kpi_optimal < target_kpi:
            raise ValueError(
                f"The bounds cannot reach a KPI of {target_kpi:.6g}: the largest "
                f"budget they allow ({high.budget:.6g}) reaches at most "
                f"{high.kpi_optimal:.6g}. Widen bounds_upper or lower the target."
            )
        _, reached = self._bisect_budget(
            lambda result: result.kpi_optimal >= target_kpi,
            low_budget,
            high,
            budget_rtol,
            kwargs,
        )
        return reached

    def optimize_for_marginal_roi(
        self,
        target_marginal_roi: float,
        n_time_periods: int,
        *,
        budget_rtol: float = 1e-4,
        **plan,
    ) -> OptimizationResult:
        """The largest budget whose next unit of spend still returns a target.

        Spend until the marginal ROI falls to ``target_marginal_roi``: the
        budget is bisected between the sums of the lower and upper bounds,
        the allocation optimised at each step, and the marginal ROI of an
        allocation is the KPI one more unit of currency brings in the
        channel where it brings most (among channels below their upper bound
        and not fixed; geo fits split it over geos by historical share). The
        optimised KPI is concave in the budget for skmmm's models, so the
        marginal ROI falls as the budget grows.

        Parameters
        ----------
        target_marginal_roi : float
            KPI per extra unit of currency at which to stop (e.g. 1.0 for
            revenue: stop where the next euro brings back one euro).
        n_time_periods : int
            As in :meth:`optimize`.
        budget_rtol : float, default=1e-4
            Relative precision of the budget.
        **plan
            As in :meth:`optimize_for_target`.

        Returns
        -------
        OptimizationResult
            At the budget found, with ``marginal_roi`` set. Where even the
            largest budget the bounds allow returns more than the target, that
            budget (the bounds stop the spending, the message says so); where
            even the smallest returns less, the smallest.
        """
        _check_finite_target(
            target_marginal_roi,
            "target_marginal_roi",
            "KPI per extra unit of currency",
            minimum=0.0,
        )
        low_budget, high, kwargs = self._largest_budget(n_time_periods, plan)
        horizon = {name: kwargs[name] for name in _HORIZON_ARGUMENTS}

        def with_marginal_roi(result: OptimizationResult) -> OptimizationResult:
            result.marginal_roi = self._marginal_roi(result, horizon)
            return result

        high = with_marginal_roi(high)
        if high.marginal_roi >= target_marginal_roi:
            high.message += (
                f" Note: at the largest budget the bounds allow ({high.budget:.6g}) "
                f"the next unit of spend still returns {high.marginal_roi:.3g}, "
                f"above the target {target_marginal_roi:.3g}: widen bounds_upper "
                "to spend more."
            )
            return high
        below, reached = self._bisect_budget(
            lambda result: with_marginal_roi(result).marginal_roi < target_marginal_roi,
            low_budget,
            high,
            budget_rtol,
            kwargs,
        )
        if below is None:
            reached.message += (
                f" Note: even the smallest budget the bounds allow returns "
                f"{reached.marginal_roi:.3g} per extra unit, below the target "
                f"{target_marginal_roi:.3g}."
            )
            return reached
        return below

    def _largest_budget(
        self, n_time_periods, plan: dict
    ) -> tuple[float, OptimizationResult, dict]:
        """Where a budget search starts: the smallest budget, the optimum at the largest.

        Returns the smallest budget the bounds allow, the optimised result at
        the largest, and the keyword arguments of :meth:`optimize` for the
        search (``plan`` completed with its defaults).
        """
        unknown = sorted(set(plan) - set(_PLAN_ARGUMENTS))
        if unknown:
            raise TypeError(
                f"unexpected keyword argument(s) {unknown}; a budget search takes "
                f"budget_rtol and {list(_PLAN_ARGUMENTS)}."
            )
        kwargs = {name: plan.get(name) for name in _PLAN_ARGUMENTS}
        kwargs["n_time_periods"] = n_time_periods
        low_budget, high_budget = self._budget_range(
            n_time_periods,
            kwargs["prices"],
            kwargs["fixed_channels"],
            kwargs["bounds_lower"],
            kwargs["bounds_upper"],
        )
        return low_budget, self.optimize(high_budget, **kwargs), kwargs

    def _budget_range(
        self, n_time_periods, prices, fixed_channels, bounds_lower, bounds_upper
    ) -> tuple[float, float]:
        """The smallest and largest budgets the bounds and fixed spends allow."""
        n_time_periods = self._check_periods(n_time_periods)
        if fixed_channels is not None:
            # Unknown or negative fixed channels raise here, before the
            # budget range below indexes them.
            self._fixed(fixed_channels, np.zeros(len(self.channels)))
        price_vector = self._by_channel(prices, "prices", default=1.0)
        _, lower, upper = self._bounds(
            n_time_periods, price_vector, bounds_lower, bounds_upper
        )
        low_budget, high_budget = float(lower.sum()), float(upper.sum())
        if isinstance(fixed_channels, dict):
            # Explicit fixed spends replace those channels' bounds.
            for c, value in fixed_channels.items():
                position = self.channels.index(c)
                low_budget += value - lower[position]
                high_budget += value - upper[position]
        return max(low_budget, 1e-12 * high_budget), high_budget

    def _bisect_budget(self, reached, low_budget, high, budget_rtol, kwargs):
        """Bisect the budget for where ``reached(result)`` turns true.

        ``reached`` must be false at small budgets and true at large ones, and
        true at ``high`` (the result at the largest budget). Returns the
        results on either side of the switch: the last budget where it is
        false (None when it is true already at ``low_budget``) and the first
        where it is true.
        """
        high_budget, above, below = high.budget, high, None
        try:
            low = self.optimize(low_budget, **kwargs)
        except ValueError:
            low = None
        if low is not None:
            if reached(low):
                return None, low
            below = low
        while high_budget - low_budget > budget_rtol * high_budget:
            middle = 0.5 * (low_budget + high_budget)
            try:
                result = self.optimize(middle, **kwargs)
            except ValueError:
                low_budget = middle
                continue
            if reached(result):
                high_budget, above = middle, result
            else:
                low_budget, below = middle, result
        return below, above

    def _marginal_roi(self, result: OptimizationResult, horizon: dict) -> float:
        """KPI of one more unit of currency where it brings most, at ``result``."""
        allocation = result.optimal_allocation.to_numpy(dtype=float)
        room = (result.bounds_upper.to_numpy() - allocation > 0) & (
            result.binding_bounds.to_numpy() != "fixed"
        )
        if not room.any():
            return 0.0
        step = 1e-3 * result.budget / len(allocation)
        base = self.evaluate(allocation, **horizon).mean()
        gains = [
            (self.evaluate(allocation + step * np.eye(len(allocation))[c], **horizon)
             .mean() - base) / step
            for c in np.flatnonzero(room)
        ]  # fmt: skip
        return float(max(gains))

    # ------------------------------------------------------------ internals

    def _channel_problem(
        self,
        budget,
        n_time_periods,
        prices,
        fixed_channels,
        bounds_lower,
        bounds_upper,
        starting_allocation=None,
    ):
        """Checked budget, horizon and prices; start, bounds and free channels.

        The start splits the budget by historical spend share (or as
        ``starting_allocation`` says, see :meth:`optimize`); fixed channels
        get equal lower and upper bounds. Raises before any solving when the
        bounds cannot absorb the budget.
        """
        n_time_periods = self._check_periods(n_time_periods)
        budget = float(budget)
        if not np.isfinite(budget) or budget <= 0:
            raise ValueError(f"budget must be a positive number, got {budget}.")
        prices = self._by_channel(prices, "prices", default=1.0)
        if np.any(prices <= 0):
            raise ValueError("prices must be > 0.")
        base, lower, upper = self._bounds(
            n_time_periods, prices, bounds_lower, bounds_upper
        )
        if base.sum() <= 0:
            raise ValueError("Every channel has zero historical spend.")
        start = self._start(starting_allocation, budget, base, n_time_periods, prices)
        fixed = self._fixed(fixed_channels, start)
        free = np.array([c not in fixed for c in self.channels])
        lower, upper = lower.copy(), upper.copy()
        for channel, value in fixed.items():
            position = self.channels.index(channel)
            lower[position] = upper[position] = value
        self._check_feasible(budget, lower, upper, free)
        return n_time_periods, budget, prices, start, lower, upper, free

    def _start(self, starting_allocation, budget, base, n_time_periods, prices):
        """The starting plan (currency per channel over the horizon)."""
        if starting_allocation is None:
            return budget * base / base.sum()
        if isinstance(starting_allocation, str):
            if starting_allocation != "recent":
                raise ValueError(
                    'starting_allocation must be None, "recent" or a plan (spend '
                    f"per channel), got {starting_allocation!r}."
                )
            media = self.fitted.training_media.sum(axis=2)[-n_time_periods:]
            recent = media.sum(axis=0) * prices
            if recent.sum() <= 0:
                raise ValueError(
                    f"The last {len(media)} training periods have no spend: "
                    'starting_allocation="recent" has no split to start from.'
                )
            return budget * recent / recent.sum()
        plan = self._by_channel(starting_allocation, "starting_allocation")
        if not np.isclose(plan.sum(), budget, rtol=1e-6, atol=0.0):
            raise ValueError(
                f"starting_allocation adds up to {plan.sum():.6g}, not to the "
                f"budget {budget:.6g}: give the plan of this budget."
            )
        return plan

    @staticmethod
    def _check_periods(n_time_periods) -> int:
        if (
            isinstance(n_time_periods, bool)
            or not isinstance(n_time_periods, Real)
            or not np.isfinite(n_time_periods)
            or int(n_time_periods) != n_time_periods
            or n_time_periods < 1
        ):
            raise ValueError(
                "n_time_periods must be a positive integer (the horizon's "
                f"number of periods), got {n_time_periods!r}."
            )
        return int(n_time_periods)

    def _fixed(self, fixed_channels, start) -> dict[str, float]:
        if fixed_channels is None:
            return {}
        listed, unknown = split_unknown(fixed_channels, self.channels)
        if unknown:
            raise ValueError(
                f"fixed_channels names unknown channel(s) {unknown}; the channels "
                f"are {self.channels}."
            )
        if isinstance(fixed_channels, dict):
            fixed = {c: float(v) for c, v in fixed_channels.items()}
            if any(not np.isfinite(v) or v < 0 for v in fixed.values()):
                raise ValueError("Fixed spends must be finite and >= 0.")
            return fixed
        return {c: float(start[self.channels.index(c)]) for c in listed}

    def _check_feasible(self, budget, lower, upper, free) -> None:
        low_sum, high_sum = float(lower.sum()), float(upper.sum())
        tolerance = 1e-9 * budget
        if low_sum - tolerance <= budget <= high_sum + tolerance:
            return
        if budget < low_sum:
            binding = [c for c, lo in zip(self.channels, lower, strict=True) if lo > 0]
            raise ValueError(
                f"The budget {budget:.6g} is below the sum of the lower bounds "
                f"({low_sum:.6g}): the channels' minimum spends "
                + ", ".join(
                    f"{c}={lo:.6g}"
                    for c, lo in zip(self.channels, lower, strict=True)
                    if lo > 0
                )
                + f" cannot all be met. Binding channels: {binding}. Raise the "
                "budget, lower bounds_lower(_pct) or unfix channels."
            )
        binding = [
            c for c, f in zip(self.channels, free, strict=True) if f
        ] or self.channels
        raise ValueError(
            f"The budget {budget:.6g} is above the sum of the upper bounds "
            f"({high_sum:.6g}): the channels' maximum spends "
            + ", ".join(
                f"{c}={up:.6g}" for c, up in zip(self.channels, upper, strict=True)
            )
            + f" cannot absorb it. Binding channels: {binding}. Lower the budget "
            "or raise bounds_upper(_pct)."
        )


def _outside_observed_range(fitted, weekly_media, channels) -> pd.Series:
    """Whether each channel's spend per period lies outside what training saw."""
    national = fitted.training_media.sum(axis=2)
    tolerance = 1e-9 * np.maximum(national.max(axis=0), 1.0)
    outside = (weekly_media < national.min(axis=0) - tolerance) | (
        weekly_media > national.max(axis=0) + tolerance
    )
    return pd.Series(outside, index=list(channels), name="outside_observed_range")


def _binding(allocation, lower, upper, budget, channels) -> pd.Series:
    """Which bound each channel's spend sits on ("lower", "upper", "fixed", "")."""
    tolerance = 1e-6 * budget
    allocation, lower, upper = (
        np.asarray(v, dtype=float) for v in (allocation, lower, upper)
    )
    labels = np.where(
        upper - lower <= tolerance,
        "fixed",
        np.where(
            allocation <= lower + tolerance,
            "lower",
            np.where(allocation >= upper - tolerance, "upper", ""),
        ),
    )
    return pd.Series(labels, index=list(channels), name="binding")


def _project(allocation, lower, upper, budget, free=None, n_rounds: int = 50):
    """Clip to the bounds and spread any shortfall/excess over channels with room."""
    allocation = np.clip(np.asarray(allocation, dtype=float), lower, upper)
    free = np.ones(allocation.size, bool) if free is None else free
    for _ in range(n_rounds):
        residual = budget - allocation.sum()
        if abs(residual) <= 1e-12 * budget:
            break
        room = (upper - allocation) if residual > 0 else (allocation - lower)
        room = np.where(free, room, 0.0)
        if room.sum() <= 0:
            break
        step = residual * room / room.sum()
        allocation = np.clip(allocation + step, lower, upper)
    return allocation


class _Solver:
    """The horizon's KPI and its SLSQP maximisation for one optimisation problem.

    ``weekly_map`` (n_units, n_channels * n_geos) turns the spend of each
    decision unit into weekly media on the internal scale. Call inside
    ``jax.enable_x64(True)``.
    """

    def __init__(self, fitted, params, n_hist, timeline, weekly_map):
        self.spec = fitted.spec
        self.params = params
        self.n_hist = n_hist
        self.timeline = timeline
        self.weekly_map = weekly_map
        self.shape = fitted.spend_shares.shape  # (n_channels, n_geos)
        # With revenue_per_kpi the objective is revenue: each geo's KPI times
        # its training average revenue per KPI (ones otherwise).
        self.target_scale = jnp.asarray(
            fitted.target_scale * fitted.revenue_per_kpi_by_geo, jnp.float64
        )
        # Doubles, and the gradient's working arrays: eight panels per draw.
        self.batch_size = fitted.draw_batch_size(timeline[0], panels_per_draw=8)

    def kpi(self, units: np.ndarray) -> np.ndarray:
        """KPI draws (KPI units) summed over the horizon for the units' spend."""
        weekly = (units @ self.weekly_map).reshape(self.shape)
        draws = _kpi_draws(
            self.spec,
            self.n_hist,
            self.params,
            self.timeline,
            jnp.asarray(weekly, jnp.float64),
            self.target_scale,
            self.batch_size,
        )
        return np.asarray(draws, dtype=float)

    def solve(
        self, budget, start, lower, upper, free, reference, max_iterations, tolerance
    ):
        """SLSQP over the units' spend divided by the budget, from ``start``.

        The objective is -KPI / ``reference`` (about -1) for conditioning.
        Returns the allocation, the iterations, the solver's success flag and
        its message.
        """
        weekly_map = jnp.asarray(self.weekly_map * budget, jnp.float64)

        def fun(x):
            value, gradient = _objective_and_gradient(
                jnp.asarray(x, jnp.float64),
                self.spec,
                self.n_hist,
                self.params,
                self.timeline,
                weekly_map,
                self.target_scale,
                reference,
                self.batch_size,
            )
            return float(value), np.asarray(gradient, dtype=float)

        result = minimize(
            fun,
            start / budget,
            jac=True,
            method="SLSQP",
            bounds=list(zip(lower / budget, upper / budget, strict=True)),
            constraints=[
                {
                    "type": "eq",
                    "fun": lambda x: np.array([x.sum() - 1.0]),
                    "jac": lambda x: np.ones((1, x.size)),
                }
            ],
            options={"maxiter": max_iterations, "ftol": tolerance},
        )
        units = _project(result.x * budget, lower, upper, budget, free)
        return (
            units,
            int(result.get("nit", 0)),
            bool(result.success),
            str(result.message),
        )
