"""The fitted model: posterior draws, scales, training timeline, spec and priors.

:class:`FittedMMM` is what a fit produces (``est.fitted_``) and what the
analysis modules (attribution, optimize, plot, report) work on. Every fit is
a panel here: a national fit is a panel of one geo, so its arrays carry a
trailing geo axis of length 1, and the code that uses them has no national
and geo branches. The one place where the two differ is in this module and
in :func:`skmmm.models.panel_mean_components`: how new rows are placed on
the training timeline, and which model computes the mean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import distributions as dist

from skmmm._validation import GeoTrainingData, TrainingData
from skmmm.draws import draw_batch_size, map_draws, mean_over_draws
from skmmm.families import GEO, NATIONAL, ModelFamily, spend_shares
from skmmm.models import GeoModelSpec, ModelSpec, panel_mean_components, parameter_label
from skmmm.priors import COEF_MEDIA, ROI, ROI_SITES

__all__ = ["FittedMMM", "Timeline"]


class Timeline(NamedTuple):
    """Model inputs of every period from the first training period on.

    Attributes
    ----------
    media : jax.Array of shape (n_periods, n_channels, n_geos)
        Media on the model's internal scale.
    controls : jax.Array of shape (n_periods, n_controls, n_geos)
        Controls on the model's internal scale.
    time_index : jax.Array of shape (n_periods,)
        Period numbers (0 is the first training period).
    rows : jax.Array of shape (n_rows,)
        The period of each row asked for.
    geos : jax.Array of shape (n_rows,)
        The geo of each row (0 for a national fit).
    index : pandas.Index
        The rows' labels: dates or period numbers, (date, geo) for geo fits.
    """

    media: jax.Array
    controls: jax.Array
    time_index: jax.Array
    rows: jax.Array
    geos: jax.Array
    index: pd.Index

    @property
    def inputs(self) -> tuple[jax.Array, jax.Array, jax.Array]:
        """``(media, controls, time_index)``, the arguments of the mean."""
        return self.media, self.controls, self.time_index


@partial(jax.jit, static_argnums=(0, 7))
def _components_at_rows(
    spec, params, media, controls, time_index, rows, geos, batch_size
):
    """Mean components per draw at the (period, geo) pairs, internal scale."""
    pairs = jnp.arange(rows.shape[0])

    def at_pairs(draw):
        parts = panel_mean_components(spec, draw, media, controls, time_index, rows)
        return {
            name: value[pairs, :, geos] if name == "media" else value[pairs, geos]
            for name, value in parts.items()
        }

    return map_draws(at_pairs, params, batch_size)


def _mu_at_pairs(spec, media, controls, time_index, rows, geos):
    """One draw's expected KPI at the (period, geo) pairs, internal scale."""
    pairs = jnp.arange(rows.shape[0])

    def at_pairs(draw):
        mu = panel_mean_components(spec, draw, media, controls, time_index, rows)["mu"]
        return mu[pairs, geos]

    return at_pairs


@partial(jax.jit, static_argnums=(0, 7))
def _mu_at_rows(spec, params, media, controls, time_index, rows, geos, batch_size):
    """The expected KPI per draw at the (period, geo) pairs, internal scale."""
    at_pairs = _mu_at_pairs(spec, media, controls, time_index, rows, geos)
    return map_draws(at_pairs, params, batch_size)


@partial(jax.jit, static_argnums=(0, 7))
def _mu_moments_at_rows(
    spec, params, media, controls, time_index, rows, geos, batch_size
):
    """Mean and variance over draws of the expected KPI at the pairs.

    In batches of draws, two passes (the mean, then the mean squared
    deviation from it), so that no more than a batch of draws is held.
    """
    n_draws = next(iter(params.values())).shape[0]
    if batch_size >= n_draws:
        mu = _mu_at_rows(
            spec, params, media, controls, time_index, rows, geos, batch_size
        )
        return mu.mean(axis=0), mu.var(axis=0)
    at_pairs = _mu_at_pairs(spec, media, controls, time_index, rows, geos)
    mean = mean_over_draws(at_pairs, params, batch_size)
    variance = mean_over_draws(
        lambda draw: (at_pairs(draw) - mean) ** 2, params, batch_size
    )
    return mean, variance


def _with_geo_axis(values, is_geo: bool) -> np.ndarray:
    """A national array with a trailing geo axis of length 1 (geo arrays as given)."""
    values = np.asarray(values, dtype=float)
    return values if is_geo else values[..., None]


class FittedMMM:
    """A fitted media mix model, independent of the estimator that fitted it.

    Built by the estimators' ``fit`` (``est.fitted_``) and by
    :func:`skmmm.load_model`. Arrays that depend on the geo have a trailing
    geo axis, of length 1 for a national fit.

    Parameters
    ----------
    spec : ModelSpec or GeoModelSpec
        The model's static description (its type says national or geo).
    posterior : dict of str to ndarray
        Posterior draws per site, chains stacked (leading axis), ROI sites
        on the absolute scale (KPI per unit of cost).
    rhat, ess : dict of str to ndarray
        Split r_hat and bulk effective sample size per site.
    divergences : int
        Divergent transitions after warm-up.
    training : skmmm._validation.TrainingData
        The validated training data (media, controls, KPI, dates, names).
    media_scale : ndarray of shape (n_channels,) or (n_channels, n_geos)
        Internal scale of the media.
    control_scale : ndarray of shape (n_controls,) or (n_controls, n_geos)
        Internal scale of the controls.
    target_scale : float or ndarray of shape (n_geos,)
        Internal scale of the KPI.
    media_cost : ndarray of shape (n_channels,) or (n_channels, n_geos)
        Total training cost of each channel (in each geo).
    priors : callable
        Returns ``(site_priors, roi_prior)``: the resolved priors of the
        model's sites (on the model's scales) and the prior of each
        channel's ROI on the scale its draws are stored on (None when the
        media prior is not on ROI). Called on first use of :attr:`priors`
        or :attr:`roi_prior`, so that a model whose priors cannot be
        resolved any more still predicts.
    roi_reference : float, default=1.0
        What the model's ROI site is relative to (1.0 when absolute).
    control_offset : ndarray of shape (n_controls, n_geos), default=None
        Subtracted from the scaled controls (geo fits centre them).
    geo_column, date_column, date_format : str or None, default=None
        How new rows name their geo and date.
    estimator_name : str, default="BayesianMMMRegressor"
        Named in error messages.
    sampling_info : dict, default=None
        The sampler's record (times, device, mass matrix, energies).
    revenue_per_kpi : float or ndarray, default=None
        Revenue per unit of KPI of the training periods: a number, or one
        value per period ((n_periods,), or (n_periods, n_geos) for geo fits).
        None: the KPI is revenue.
    revenue_column : str, default=None
        The column of ``X`` that held it; new rows may carry it, and it is
        dropped from them.
    """

    def __init__(
        self,
        *,
        spec: ModelSpec,
        posterior: Mapping[str, np.ndarray],
        rhat: Mapping[str, np.ndarray],
        ess: Mapping[str, np.ndarray],
        divergences: int,
        training,
        media_scale,
        control_scale,
        target_scale,
        media_cost,
        priors: Callable[[], tuple[Mapping[str, Any], Any]],
        roi_reference: float = 1.0,
        control_offset=None,
        geo_column: str | None = None,
        date_column: str | None = None,
        date_format: str | None = None,
        estimator_name: str = "BayesianMMMRegressor",
        sampling_info: Mapping[str, Any] | None = None,
        revenue_per_kpi=None,
        revenue_column: str | None = None,
    ) -> None:
        self.spec = spec
        self.posterior = dict(posterior)
        self.rhat = dict(rhat)
        self.ess = dict(ess)
        self.divergences = int(divergences)
        self.training = training
        self.media_names = [str(name) for name in training.media_names]
        self.control_names = [str(name) for name in training.extra_names]
        self.geo_names = [str(geo) for geo in training.geo_names] if self.is_geo else []
        self.media_scale = _with_geo_axis(media_scale, self.is_geo)
        self.control_scale = _with_geo_axis(control_scale, self.is_geo)
        self.control_offset = (
            np.zeros_like(self.control_scale)
            if control_offset is None
            else np.broadcast_to(
                np.asarray(control_offset, dtype=float), self.control_scale.shape
            )
        )
        self.target_scale = np.atleast_1d(np.asarray(target_scale, dtype=float))
        self.media_cost = _with_geo_axis(media_cost, self.is_geo)
        self._prior_source = priors
        self._resolved_priors = None
        self.roi_reference = float(roi_reference)
        self.geo_column = geo_column
        self.date_column = date_column
        self.date_format = date_format
        self.estimator_name = estimator_name
        self.sampling_info = dict(sampling_info or {})
        self.revenue_column = revenue_column
        # As given (a number stays a number), for to_dict.
        self._revenue_per_kpi = (
            None
            if revenue_per_kpi is None
            else np.asarray(revenue_per_kpi, dtype=float)
            if np.ndim(revenue_per_kpi)
            else float(revenue_per_kpi)
        )
        self.revenue_weights = (
            None
            if revenue_per_kpi is None
            else np.broadcast_to(
                _with_geo_axis(np.asarray(revenue_per_kpi, dtype=float), self.is_geo)
                if np.ndim(revenue_per_kpi)
                else np.asarray(revenue_per_kpi, dtype=float),
                (self.n_train_periods, self.n_geos),
            ).copy()
        )
        self._device_posterior = None

    def __getstate__(self) -> dict:
        # Device arrays are a cache: pickles carry the NumPy draws only.
        state = {**self.__dict__, "_device_posterior": None}
        state["_resolved_priors"] = self._priors()
        state["_prior_source"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        resolved = self._resolved_priors
        self._prior_source = lambda: resolved

    # ------------------------------------------------------------ priors

    @property
    def priors(self) -> dict[str, Any]:
        """The resolved prior of each site of the model, on the model's scales."""
        return dict(self._priors()[0])

    @property
    def roi_prior(self):
        """Each channel's ROI prior on the absolute scale, or None."""
        return self._priors()[1]

    def _priors(self):
        if self._resolved_priors is None:
            self._resolved_priors = self._prior_source()
        return self._resolved_priors

    # ------------------------------------------------------------ shapes

    @property
    def family(self) -> ModelFamily:
        """The model family (:mod:`skmmm.families`): national or geo."""
        return GEO if isinstance(self.spec, GeoModelSpec) else NATIONAL

    @property
    def is_geo(self) -> bool:
        """Whether the model is a geo (hierarchical) model."""
        return self.family is GEO

    def media_gap(self, media_gap) -> np.ndarray:
        """Validated media of the periods after training, (n_gap, n_channels, n_geos).

        Parameters
        ----------
        media_gap : array-like or DataFrame or None
            As the estimator's ``predict`` takes it.

        Returns
        -------
        ndarray
        """
        return self.family.media_gap(self, media_gap)

    @property
    def n_geos(self) -> int:
        """Number of geos (1 for a national model)."""
        return len(self.training.geo_names) if self.is_geo else 1

    @property
    def n_channels(self) -> int:
        return len(self.media_names)

    @property
    def n_draws(self) -> int:
        return int(next(iter(self.posterior.values())).shape[0])

    @property
    def n_train_periods(self) -> int:
        return int(self.training.media.shape[0])

    @property
    def revenue_per_kpi_by_geo(self) -> np.ndarray:
        """Average revenue per unit of KPI of each geo's training KPI, (n_geos,).

        Total revenue over total KPI (the KPI-weighted mean of
        ``revenue_weights``); ones when the KPI is revenue.
        """
        if self.revenue_weights is None:
            return np.ones(self.n_geos)
        target = _with_geo_axis(self.training.target, self.is_geo)
        totals = target.sum(axis=0)
        revenue = (target * self.revenue_weights).sum(axis=0)
        mean = self.revenue_weights.mean(axis=0)
        return np.where(totals != 0, revenue / np.where(totals != 0, totals, 1), mean)

    @property
    def training_media(self) -> np.ndarray:
        """Training media in media units, (n_times, n_channels, n_geos)."""
        return _with_geo_axis(self.training.media, self.is_geo)

    @property
    def spend_shares(self) -> np.ndarray:
        """Each geo's share of each channel's training spend, (n_channels, n_geos)."""
        return spend_shares(self.training_media)

    @property
    def training_controls(self) -> np.ndarray:
        """Training controls in their units, (n_times, n_controls, n_geos)."""
        return _with_geo_axis(self.training.extra_features, self.is_geo)

    @property
    def training_target(self) -> np.ndarray:
        """Training KPI, (n_times, n_geos)."""
        target = np.asarray(self.training.target, dtype=float)
        return target if target.ndim == 2 else target[:, None]

    @property
    def training_present(self) -> np.ndarray | None:
        """The (period, geo) cells the training data have, (n_times, n_geos) bool.

        None when every cell is present (a complete panel); a ragged
        panel's geos start or end at different dates.
        """
        present = getattr(self.training, "present", None)
        if present is None:
            return None
        present = np.asarray(present, dtype=bool)
        return present if present.ndim == 2 else present[:, None]

    def scaled_controls(self, controls: np.ndarray) -> np.ndarray:
        """Controls (n_periods, n_controls, n_geos) on the model's internal scale."""
        return controls / self.control_scale - self.control_offset

    def device_posterior(self) -> dict[str, jax.Array]:
        """The posterior draws as device arrays, converted once per ``posterior``."""
        cached = self._device_posterior
        if cached is None or cached[0] is not self.posterior:
            arrays = {
                name: jnp.asarray(value) for name, value in self.posterior.items()
            }
            cached = (self.posterior, arrays)
            self._device_posterior = cached
        return cached[1]

    # ---------------------------------------------------------- timeline

    def timeline(self, X=None, media_gap=None) -> Timeline:
        """The model inputs from the first training period to the rows of ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame}, default=None
            New rows, as the estimator's ``predict`` takes them; None means
            the training rows (every period and geo, date-major).
        media_gap : array-like, default=None
            Media of the periods between the end of training and ``X``.

        Returns
        -------
        Timeline
            Device arrays on the internal scale, with the period and geo of
            each row and the rows' labels.
        """
        if (
            self.revenue_column is not None
            and isinstance(X, pd.DataFrame)
            and self.revenue_column in X.columns
        ):
            X = X.drop(columns=[self.revenue_column])
        media, controls, time_index, rows, geos, index = self.family.place_rows(
            self, X, media_gap
        )
        dtype = jnp.result_type(float)
        return Timeline(
            jnp.asarray(media / self.media_scale, dtype),
            jnp.asarray(self.scaled_controls(controls), dtype),
            jnp.asarray(time_index, dtype),
            jnp.asarray(rows),
            jnp.asarray(geos),
            index,
        )

    # -------------------------------------------------------- components

    def draw_batch_size(self, media, panels_per_draw: int = 1) -> int:
        """Draws to evaluate at once on ``media``, a panel of model inputs.

        See :func:`draw_batch_size`: the analysis functions pass it to
        :func:`map_draws` and :func:`mean_over_draws`, so that a long or wide
        panel is evaluated a few draws at a time. ``panels_per_draw`` counts
        the working arrays of media's size a draw needs beyond the usual
        (a gradient keeps a few).
        """
        panel_size = int(np.prod(np.shape(media))) * panels_per_draw
        return draw_batch_size(self.n_draws, panel_size)

    def _at_rows(self, function, timeline: Timeline):
        params = self.device_posterior()
        batch_size = self.draw_batch_size(timeline.media)
        return function(
            self.spec,
            params,
            *timeline.inputs,
            timeline.rows,
            timeline.geos,
            batch_size,
        )

    def _row_scale(self, timeline: Timeline) -> np.ndarray:
        return self.target_scale[np.asarray(timeline.geos)]

    def components(self, X=None, media_gap=None) -> dict[str, np.ndarray]:
        """Every additive part of the expected KPI per draw, in KPI units.

        Parameters
        ----------
        X, media_gap
            As in :meth:`timeline`.

        Returns
        -------
        dict of str to ndarray
            ``media`` (n_draws, n_rows, n_channels), ``mu`` and the baseline
            parts (``intercept``, ``trend``, ``seasonality``, and
            ``extra_features``, ``weekday`` and the moving ``level`` of
            ``baseline="spline"`` when used), each
            (n_draws, n_rows).
        """
        timeline = self.timeline(X, media_gap)
        parts = self._at_rows(_components_at_rows, timeline)
        scale = self._row_scale(timeline)
        return {
            name: np.asarray(value)
            * (scale[None, :, None] if name == "media" else scale[None, :])
            for name, value in parts.items()
        }

    def mean_draws(self, X=None, media_gap=None) -> np.ndarray:
        """The expected KPI per draw, (n_draws, n_rows), in KPI units."""
        return self._mean_and_noise(X, media_gap)[0]

    def _mean_and_noise(
        self, X, media_gap, timeline: Timeline | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Expected KPI and noise sd per draw at each row, both in KPI units."""
        if timeline is None:
            timeline = self.timeline(X, media_gap)
        mu = np.asarray(self._at_rows(_mu_at_rows, timeline))
        geos = np.asarray(timeline.geos)
        return mu * self.target_scale[geos], self.noise_sd()[:, geos]

    def mean_moments(
        self, X=None, media_gap=None, noise: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance of the KPI per row, in KPI units.

        The variance is that of the expected KPI over draws; with ``noise``
        the mean noise variance is added (the posterior predictive variance,
        as ``BayesianRidge.predict(return_std=True)`` reports it). Only the
        moments leave the device: copying every draw to the host would
        dominate a warm predict.
        """
        timeline = self.timeline(X, media_gap)
        mean, variance = self._at_rows(_mu_moments_at_rows, timeline)
        scale = self._row_scale(timeline)
        variance = np.asarray(variance, dtype=float) * scale**2
        if noise:
            noise_variance = np.mean(self.noise_sd() ** 2, axis=0)
            variance = variance + noise_variance[np.asarray(timeline.geos)]
        return np.asarray(mean, dtype=float) * scale, variance

    def noise_sd(self) -> np.ndarray:
        """The noise standard deviation per draw and geo, (n_draws, n_geos)."""
        sigma = np.asarray(self.posterior["sigma"], dtype=float)
        return (sigma if sigma.ndim == 2 else sigma[:, None]) * self.target_scale

    def log_likelihood(self) -> np.ndarray:
        """Pointwise log-likelihood of the training KPI per draw.

        ``log Normal(y | mu, sigma)`` of every training period (and geo),
        computed from the draws on demand rather than stored: what PSIS-LOO
        (``arviz.loo``) needs to compare models without refitting them.

        Returns
        -------
        ndarray of shape (n_draws, n_times, n_geos)
            NaN in the cells :attr:`training_present` marks absent.
        """
        mu, sigma = self._mean_and_noise(None, None)
        present = self.training_present
        observed = self.training_target.reshape(-1)  # date-major, as the rows
        if present is not None:
            observed = observed[present.reshape(-1)]
        log_density = (
            -0.5 * ((observed - mu) / sigma) ** 2
            - np.log(sigma)
            - 0.5 * np.log(2 * np.pi)
        )
        shape = (self.n_draws, self.n_train_periods, self.n_geos)
        if present is None:
            return log_density.reshape(shape)
        full = np.full((self.n_draws, present.size), np.nan)
        full[:, present.reshape(-1)] = log_density
        return full.reshape(shape)

    def predictive_draws(self, X=None, random_state=None, media_gap=None) -> np.ndarray:
        """Draws of the KPI (mean plus noise), (n_draws, n_rows), in KPI units."""
        return self.predictive_draws_at(self.timeline(X, media_gap), random_state)

    def predictive_draws_at(self, timeline: Timeline, random_state=None) -> np.ndarray:
        """Draws of the KPI (mean plus noise) at the rows of a :meth:`timeline`.

        ``random_state`` is a seed or a :class:`numpy.random.Generator`; a
        generator continues its stream, so successive calls on subsets of the
        draws (:meth:`with_draws`) draw the noise of one call on them all.
        """
        rng = np.random.default_rng(random_state)
        mu, sigma = self._mean_and_noise(None, None, timeline)
        return mu + sigma * rng.standard_normal(mu.shape)

    def predictive_totals(
        self, X=None, random_state=None, media_gap=None
    ) -> tuple[np.ndarray, pd.Index]:
        """Draws of the KPI summed over the geos of each period.

        As :meth:`predictive_draws` followed by a sum over each period's
        rows, computed a batch of draws at a time, so that a long or wide
        panel never holds every draw of every row. The noise continues one
        random stream over the batches: the draws equal those of
        :meth:`predictive_draws` with the same ``random_state``, summed.

        Returns
        -------
        totals : ndarray of shape (n_draws, n_periods)
            Ordered by period.
        index : pandas.Index
            Each period's label (its date, or the rows' label for national
            fits).
        """
        timeline = self.timeline(X, media_gap)
        periods = np.asarray(timeline.rows)
        order = np.argsort(periods, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(periods[order]) != 0])
        index = timeline.index[order[starts]]
        if isinstance(index, pd.MultiIndex):
            index = index.get_level_values(0)
        rng = np.random.default_rng(random_state)
        batch = draw_batch_size(self.n_draws, len(periods))
        totals = []
        for first in range(0, self.n_draws, batch):
            subset = self.with_draws(np.arange(first, min(first + batch, self.n_draws)))
            draws = subset.predictive_draws_at(timeline, rng)
            totals.append(np.add.reduceat(draws[:, order], starts, axis=1))
        return np.concatenate(totals), index

    def site_priors(self) -> dict[str, dist.Distribution]:
        """The prior of each stored site, on the scale its draws are stored on.

        ROI sites get :attr:`roi_prior` (absolute); with a ROI prior,
        ``coef_media`` has none of its own (it follows from the ROI). A
        national ``coef_media`` left to the default gets LightweightMMM's
        HalfNormal scaled by each channel's cost over the mean cost.
        """
        priors = dict(self.priors)
        for name in ROI_SITES:
            if priors.get(name) is not None:
                priors[name] = self.roi_prior
        if ROI in priors:
            priors.pop(COEF_MEDIA, None)
        if not self.is_geo and COEF_MEDIA in priors and priors[COEF_MEDIA] is None:
            cost = self.media_cost.sum(axis=1)
            priors[COEF_MEDIA] = dist.HalfNormal(cost / cost.mean())
        return {name: prior for name, prior in priors.items() if prior is not None}

    def prior_draws(self, n_draws: int = 500, random_state: int = 0) -> dict:
        """Draws from :meth:`site_priors`, each with a leading draw axis.

        Parameters
        ----------
        n_draws : int, default=500
            Draws per site.
        random_state : int, default=0
            Seed of the draws.

        Returns
        -------
        dict of str to ndarray
        """
        priors = self.site_priors()
        keys = jax.random.split(jax.random.key(int(random_state)), len(priors))
        return {
            name: np.asarray(prior.sample(key, (int(n_draws),)))
            for key, (name, prior) in zip(keys, priors.items(), strict=True)
        }

    # ------------------------------------------------------------ labels

    def element_label(self, name: str, position: int, shape: tuple) -> str:
        """The label of one element of a parameter, as in ``summary`` and plots."""
        return parameter_label(
            name,
            position,
            shape,
            channels=self.media_names,
            controls=self.control_names,
            geos=self.geo_names,
        )

    def labelled_values(self, diagnostic: Mapping[str, Any]) -> list[tuple[str, float]]:
        """Each finite element of a per-site diagnostic (``rhat``, ``ess``) by label."""
        entries = []
        for name, values in diagnostic.items():
            flat = np.atleast_1d(values).ravel()
            for position, value in enumerate(flat):
                if np.isfinite(value):
                    label = self.element_label(name, position, np.shape(values))
                    entries.append((label, float(value)))
        return entries

    # ------------------------------------------------------------ as data

    def to_dict(self, with_priors: bool = True, copy: bool = True) -> dict[str, Any]:
        """The model as plain data: what :meth:`from_dict` rebuilds it from.

        Parameters
        ----------
        with_priors : bool, default=True
            Include the resolved priors (``"priors"``); False leaves them
            unresolved (the arrays only, as :func:`skmmm.save_model` writes
            them).
        copy : bool, default=True
            Copy the arrays, so that changing them leaves the model as it
            is; False shares them with the model (no memory for a second
            posterior).

        Returns
        -------
        dict
            ``spec`` (the spec's fields, and ``"geo"``: whether it is a geo
            model), ``posterior``, ``rhat`` and ``ess`` (dicts of ndarray),
            ``divergences``, ``training`` (the training data's fields, media
            and KPI arrays and the ``pandas.Index`` of periods), the scales
            and costs as the estimator holds them (national arrays without
            the geo axis), ``roi_reference``, the column names new rows are
            read with, ``estimator_name``, ``sampling_info``,
            ``revenue_per_kpi`` (as the model was given it: a number, an
            array or None) and ``revenue_column``, and ``priors``: the
            resolved ``(site priors, ROI prior)`` as NumPyro distributions.
        """
        as_array = np.array if copy else np.asarray

        def as_fitted(values):
            values = as_array(values, dtype=float)
            return values if self.is_geo else values[..., 0]

        def arrays(group):
            return {name: as_array(value) for name, value in group.items()}

        training = {
            field.name: getattr(self.training, field.name)
            for field in dataclasses.fields(self.training)
        }
        training = {
            name: as_array(value) if isinstance(value, np.ndarray) else value
            for name, value in training.items()
        }
        revenue = self._revenue_per_kpi
        return {
            "spec": {**dict(vars(self.spec)), "geo": self.is_geo},
            "posterior": arrays(self.posterior),
            "rhat": arrays(self.rhat),
            "ess": arrays(self.ess),
            "divergences": self.divergences,
            "training": training,
            "media_scale": as_fitted(self.media_scale),
            "control_scale": as_fitted(self.control_scale),
            "control_offset": as_fitted(self.control_offset),
            "target_scale": as_array(self.target_scale)
            if self.is_geo
            else float(self.target_scale[0]),
            "media_cost": as_fitted(self.media_cost),
            "roi_reference": self.roi_reference,
            "geo_column": self.geo_column,
            "date_column": self.date_column,
            "date_format": self.date_format,
            "estimator_name": self.estimator_name,
            "sampling_info": dict(self.sampling_info),
            "revenue_per_kpi": as_array(revenue)
            if isinstance(revenue, np.ndarray)
            else revenue,
            "revenue_column": self.revenue_column,
            **({"priors": self._priors()} if with_priors else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FittedMMM:
        """The model :meth:`to_dict` described.

        Parameters
        ----------
        data : dict
            As :meth:`to_dict` returns it. ``priors`` may also be a callable
            that returns them, called on first use (as the ``priors``
            parameter of the class); keys that :meth:`to_dict` has and
            ``data`` lacks take the class's defaults.

        Returns
        -------
        FittedMMM
        """
        data = dict(data)
        spec_fields = dict(data.pop("spec"))
        spec_class = GeoModelSpec if spec_fields.pop("geo") else ModelSpec
        fields = dict(data.pop("training"))
        training_class = GeoTrainingData if "geo_names" in fields else TrainingData
        priors = data.pop("priors")
        return cls(
            spec=spec_class(**spec_fields),
            training=training_class(**fields),
            priors=priors if callable(priors) else lambda: priors,
            **data,
        )

    def with_draws(self, keep: np.ndarray) -> FittedMMM:
        """A copy that keeps the posterior draws at positions ``keep``."""
        copy = object.__new__(FittedMMM)
        copy.__dict__.update(self.__dict__)
        copy.posterior = {name: value[keep] for name, value in self.posterior.items()}
        copy._device_posterior = None
        return copy
