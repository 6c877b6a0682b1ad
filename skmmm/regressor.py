"""Bayesian media mix models as scikit-learn regressors."""

from __future__ import annotations

import copy
import inspect
import warnings
import weakref
from collections.abc import Mapping
from functools import partial
from numbers import Integral, Real
from typing import Any

import jax
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, check_random_state

from skmmm import attribution, optimize
from skmmm._compat import Interval, StrOptions
from skmmm._laplace import LaplaceSettings, fit_laplace
from skmmm._sampling import (
    SamplerSettings,
    sample_nuts,
    should_show_progress,
)
from skmmm.config import ensure_configured
from skmmm.diagnostics import chain_diagnostics, convergence_verdict
from skmmm.draws import interval_quantiles
from skmmm.families import GEO, GEO_ONLY_ATTRIBUTES, NATIONAL, model_family
from skmmm.fitted import FittedMMM
from skmmm.models import (
    BASELINES,
    LEVEL_SITES,
    MODEL_NAMES,
    GeoModelSpec,
)
from skmmm.priors import (
    DEFAULT_PRIORS,
    resolve_priors,
    scaled_prior,
)

__all__ = [
    "AdstockRegressor",
    "BayesianMMMRegressor",
    "CarryoverRegressor",
    "HillAdstockRegressor",
]

PARAMETRIZATIONS = ("skmmm", "lightweight_mmm")
INFERENCE_METHODS = ("nuts", "laplace")
SAMPLING_MAX_TREE_DEPTH = 10
WARMUP_MAX_TREE_DEPTH = 6
_FITTED_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _model_attributes(geo: bool) -> dict[str, str]:
    """The fitted attribute that holds each field of the fitted model.

    By the field's name, a parameter of :class:`FittedMMM` and a key of its
    ``to_dict``: ``fitted_`` builds the model from these attributes, and
    :func:`load_fitted` sets them from the model it builds.
    """
    return {
        "spec": "spec_",
        "posterior": "posterior_",
        "rhat": "rhat_",
        "ess": "ess_",
        "divergences": "divergences_",
        "sampling_info": "sampling_info_",
        "training": "training_data_",
        "media_scale": "media_scale_",
        "control_scale": "extra_scale_",
        "target_scale": "target_scale_",
        "media_cost": "media_prior_by_geo_" if geo else "media_prior_",
        "roi_reference": "roi_reference_",
        "revenue_per_kpi": "revenue_per_kpi_",
        **({"control_offset": "extra_offset_"} if geo else {}),
    }


def _model_settings(est, geo: bool) -> dict[str, Any]:
    """The fitted model's settings that the estimator's parameters give."""
    column = est.revenue_per_kpi
    return {
        "geo_column": est.geo_column if geo else None,
        "date_column": est.date_column,
        "date_format": est.date_format,
        "estimator_name": type(est).__name__,
        "revenue_column": column if isinstance(column, str) else None,
    }


def _resolved_priors(est) -> tuple[dict, Any]:
    """A fitted estimator's ``(site priors, ROI prior)``: the model's priors."""
    site_priors = model_family(est).resolve_priors(
        est,
        est.spec_,
        est.n_media_channels_,
        len(est.extra_feature_names_),
        est.n_geos_,
    )
    return site_priors, est.roi_prior()


def _hold(est, fitted: FittedMMM) -> None:
    """Make ``fitted`` the estimator's ``fitted_`` until ``posterior_`` is replaced."""
    _FITTED_MODELS[est] = (est.posterior_, fitted)


def _set_training_data(est, data, geo: bool) -> None:
    """The fitted attributes that the training data give: names and sizes."""
    est.media_names_ = list(data.media_names)
    est.extra_feature_names_ = list(data.extra_names)
    est.n_media_channels_ = len(data.media_names)
    est.n_geos_ = len(data.geo_names) if geo else 1
    if geo:
        est.geo_names_ = list(data.geo_names)
    est.training_data_ = data
    est.n_train_periods_ = int(data.media.shape[0])


def _describe_mass_matrix(dense_mass: bool | tuple[tuple[str, ...], ...]) -> str:
    """``SamplerSettings.dense_mass`` in words, for ``sampling_info_``."""
    if not isinstance(dense_mass, tuple):
        return "dense" if dense_mass else "diagonal"
    blocks = "; ".join(", ".join(block) for block in dense_mass)
    noun = "block" if len(dense_mass) == 1 else "blocks"
    return f"diagonal, dense {noun} over {blocks}"


def _draws_and_diagnostics(result, hidden_sites) -> tuple[dict, dict, dict]:
    """Posterior draws (chains stacked), split r_hat and bulk ESS of each site."""
    by_chain = {
        name: value
        for name, value in result.samples.items()
        if name not in hidden_sites
    }
    posterior = {
        name: value.reshape((value.shape[0] * value.shape[1],) + value.shape[2:])
        for name, value in by_chain.items()
    }
    rhat, ess = chain_diagnostics(by_chain)
    return posterior, rhat, ess


class BayesianMMMRegressor(RegressorMixin, BaseEstimator):
    """Bayesian media mix model (LightweightMMM's three models) as a regressor.

    The KPI is modelled as intercept + trend + Fourier seasonality + the
    transformed media times their coefficients + linear controls + Gaussian
    noise, and fitted with NUTS (NumPyro). Media, controls and the KPI are
    scaled internally by their means; every output is in the user's units.

    Parameters
    ----------
    model : {"hill_adstock", "adstock", "carryover"}, default="hill_adstock"
        Media transform: geometric adstock followed by a Hill curve, adstock
        raised to a power, or delayed carryover raised to a power.
    media_columns : list of str or int, default=None
        Columns of ``X`` that are media (names for DataFrames, positions for
        either). The remaining columns are controls (extra features). None
        means every column is media.
    media_prior : array-like of shape (n_channels,), default=None
        Total cost of each channel: the scale of each media coefficient's
        prior, as in LightweightMMM. None uses the column sums of the media
        (media given as spend).
    revenue_per_kpi : float or str, default=None
        Revenue per unit of KPI, for a KPI that is not revenue (conversions,
        sign-ups): a positive number, or the name of a column of ``X`` with
        each period's value (each row's: per date and geo in geo fits). The
        model is still fitted on the KPI, and the column is not a control;
        ROI (``attribution.roi``, ``marginal_roi``, ``summary``'s ``roi_*``
        and ``mroi_*``, the report) is then revenue per unit of cost, each
        period's contribution times its revenue per KPI, and the budget
        optimiser maximises revenue (the KPI times the training period's
        average revenue per KPI, per geo). Cost per KPI (``cpa``) stays in
        KPI units. None: the KPI is the revenue.
    degrees_seasonality : int, default=2
        Number of Fourier harmonics of the seasonality.
    seasonality_frequency : int, default=52
        Periods per seasonal cycle (52 for yearly seasonality of weekly data).
    weekday_seasonality : bool, default=False
        Add a day-of-week effect (daily data).
    baseline : {"trend", "spline"}, default="trend"
        "trend": the baseline is the intercept, a power trend and the
        seasonality. "spline" adds a smooth moving level, a piecewise-linear
        curve with a knot every quarter of a seasonal cycle whose knots
        follow a Gaussian random walk, for level shifts and slow drifts that
        would otherwise leak into media. It belongs to the baseline in
        attribution, and predictions after the data hold its last value
        (docs/model.md, "A baseline that can move"). Needs
        ``parametrization="skmmm"``.
    custom_priors : dict, default=None
        Overrides of the default priors by parameter name: a NumPyro
        distribution, or the default distribution's parameters as a dict,
        sequence or float. See ``skmmm.priors``. The default
        parametrization puts the media prior on ``roi`` (``channel_roi`` for
        geo fits), each channel's ROI at average spend, relative to the
        data's average return: ``roi / roi_reference_ ~ LogNormal(log 0.2,
        0.9)``, so the same data in other units give the same answer. A
        ``roi`` (or ``channel_roi``) given here is absolute, in KPI per unit
        of cost; giving ``coef_media`` instead uses that prior on the
        coefficients, as LightweightMMM does.
    date_column : str, default=None
        Column of ``X`` holding the dates. Without it, a DatetimeIndex of
        ``X`` is used when present.
    date_format : str, default=None
        Format of the date column's strings, as in :func:`time.strftime`
        (``"%d/%m/%Y"`` for 31/12/2024). None reads ISO dates (2024-12-31)
        and numeric dates whose day and month can be told apart (some field
        above 12); for dates such as 01/02/2024 throughout, ``fit`` raises
        rather than guess whether that is 1 February or 2 January.
    fill_missing : {"zero"} or dict, default=None
        What ``fit`` does with periods missing from dated data (a week
        without a row, or a gap inside a geo's history). None refuses them
        with an error naming the dates. ``"zero"`` inserts them with zero
        media and controls; a dict of column -> value inserts them with
        those values (columns it does not name are 0). Either way their KPI
        is unknown: the fit leaves it out of the likelihood, and
        ``predict``, ``contributions`` and the other training-period
        results cover only the rows ``X`` had. Dates off the calendar (an
        extra date between two periods) stay an error.
    geo_column : str, default=None
        Column of ``X`` naming each row's geo: fits the geo (hierarchical)
        model on a long DataFrame with one row per date and geo (see
        docs/model.md). None fits the national model.
    parametrization : {"skmmm", "lightweight_mmm"}, default="skmmm"
        "skmmm" uses the reparametrisations and priors that make the sampler
        converge (docs/model.md); "lightweight_mmm" reproduces LightweightMMM
        0.1.9's model and priors exactly.
    inference : {"nuts", "laplace"}, default="nuts"
        How the posterior is computed. "nuts" samples it with NUTS (exact up
        to Monte Carlo error; r_hat and ESS check the chains). "laplace"
        approximates it by a normal distribution in NumPyro's unconstrained
        space at the posterior mode (BFGS from ``number_chains`` starting
        points, covariance the inverse Hessian) and draws
        ``number_chains * number_samples`` independent draws from it: many
        times faster, but approximate, and labelled so in ``summary()``,
        ``sampling_info_`` and the report (docs/user-guide.md says when not to
        use it). With "laplace", ``number_warmup`` is the optimiser's
        iteration limit per start; the NUTS settings are unused.
    number_warmup : int, default=1000
        Warm-up (adaptation) iterations per chain.
    number_samples : int, default=1000
        Posterior draws kept per chain.
    number_chains : int, default=2
        Number of chains, run in parallel over devices when there are enough.
    target_accept_prob : float, default=None
        NUTS target acceptance probability. None means 0.9 for national fits
        with "skmmm" and 0.85 (LightweightMMM's default) otherwise. 0.9
        takes smaller steps: on 34 simulated national scenarios
        (bench_variety) the fits without a convergence warning rose from 26
        to 30, for about 10% more fit time. Geo fits keep 0.85, with which
        their sampler was measured (docs/model.md).
    dense_mass : bool, default=None
        Adapt a dense mass matrix. None means True for "skmmm" and False for
        "lightweight_mmm"; for geo fits (hundreds of per-geo parameters) it
        means a diagonal one, with "skmmm" a dense block over the
        seasonality's shape (``gamma_seasonality``).
    max_tree_depth : int or tuple of (int, int), default=None
        NUTS maximum tree depth; a pair sets it for warm-up and sampling
        separately, as in NumPyro. None means (6, 10) for "skmmm" and 10 for
        "lightweight_mmm". Capping warm-up trees at 63 steps stops the first
        adaptation windows, which run before the mass matrix fits the
        posterior, from spending most of the fit's gradient evaluations at
        the full depth (docs/model.md).
    random_state : int, default=None
        Seed of the sampler. None draws a seed from NumPy's global generator.
    progress_bar : bool or "auto", default="auto"
        Show a progress bar while sampling; "auto" shows it when a person is
        watching (a terminal or a notebook).
    lift_tests : DataFrame, default=None
        Experiments that calibrate the model (geo-lift, conversion-lift,
        holdouts), one row per test, with columns ``channel``, ``start``,
        ``end`` (dates, or period positions for undated data: the spend
        change runs from ``start`` to ``end`` inclusive), optional
        ``measure_end`` (last period of the measurement window, default
        ``end``), ``delta_spend`` (extra media per period, in the channel's
        media units; negative for a holdout), ``lift`` (the measured
        incremental KPI over the window, in KPI units), ``lift_sd`` (its
        standard error), and for geo fits optional ``geo`` (empty: a national
        test). Each test adds ``lift ~ Normal(model's lift, lift_sd)`` to the
        likelihood, where the model's lift runs the spend change through the
        channel's lag, saturation and coefficient (``skmmm.lift_tests``, the
        user guide's "Calibrating with experiments"). None fits without tests.

    Attributes
    ----------
    posterior_ : dict of ndarray
        Posterior draws by parameter name, each with a leading axis of
        ``number_chains * number_samples`` draws.
    n_media_channels_ : int
        Number of media channels.
    n_geos_ : int
        Number of geos (1 for a national model).
    media_names_ : list of str
        Channel names.
    extra_feature_names_ : list of str
        Control names.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of ``X`` when it was a DataFrame with string columns.
    n_features_in_ : int
        Number of columns of ``X``.
    divergences_ : int
        Number of divergent transitions after warm-up.
    revenue_per_kpi_ : float or ndarray of shape (n_periods,) or (n_periods, n_geos)
        The training periods' revenue per unit of KPI (set only with
        ``revenue_per_kpi``).
    roi_reference_ : float
        The training data's average return, total KPI over total cost (the
        media prior), to which the default ROI prior is relative: a channel
        at the prior's median returns 0.2 times it. 1.0 when the ROI prior is
        absolute (given in ``custom_priors``) or not used
        (``parametrization="lightweight_mmm"``).
    rhat_ : dict of ndarray
        Split r_hat of every parameter.
    ess_ : dict of ndarray
        Bulk effective sample size of every parameter.
    sampling_info_ : dict
        ``"inference"`` (``"nuts"`` or ``"laplace"``); for Laplace fits,
        compile and fit seconds, device, ``"optimizer_converged"``,
        ``"newton_decrement"``, ``"clipped_directions"``, ``"min_curvature"``,
        ``"optimizer_iterations"`` and ``"start_log_densities"`` (one per
        start) and ``"best_start"``. For NUTS fits:
        compile and sampling seconds, chain method, device, mean NUTS steps,
        ``"mass_matrix"`` (``"dense"``, ``"diagonal"``, or ``"diagonal, dense
        block over gamma_seasonality"`` with the sites of each dense block);
        for geo fits, ``"media_noncentring"`` and ``"roi_shear"`` (chains x
        channels), how far each chain non-centred each channel's geo effects
        and sheared its ROI towards its marginal ROI, and
        ``"geo_mean_scale"`` (chains x (3 + channels)), how each chain scaled
        the mean over geos of each geo's level, log seasonality amplitude and
        trend coefficient and of each channel's log ratios (docs/model.md).

    See Also
    --------
    AdstockRegressor, HillAdstockRegressor, CarryoverRegressor

    Examples
    --------
    >>> from skmmm import HillAdstockRegressor, load_example
    >>> data = load_example()
    >>> mmm = HillAdstockRegressor(media_columns=data.media_columns,
    ...                            number_warmup=50, number_samples=50,
    ...                            random_state=0, progress_bar=False)
    >>> mmm.fit(data.X, data.y).predict(data.X).shape  # doctest: +SKIP
    (156,)
    """

    _parameter_constraints: dict = {
        "model": [StrOptions(set(MODEL_NAMES))],
        "media_columns": ["array-like", str, None],
        "media_prior": ["array-like", None],
        "revenue_per_kpi": [Interval(Real, 0, None, closed="neither"), str, None],
        "degrees_seasonality": [Interval(Integral, 0, None, closed="left")],
        "seasonality_frequency": [Interval(Real, 0, None, closed="neither")],
        "weekday_seasonality": ["boolean"],
        "baseline": [StrOptions(set(BASELINES))],
        "custom_priors": [dict, None],
        "date_column": [str, None],
        "date_format": [str, None],
        "fill_missing": [StrOptions({"zero"}), dict, None],
        "geo_column": [str, None],
        "parametrization": [StrOptions(set(PARAMETRIZATIONS))],
        "inference": [StrOptions(set(INFERENCE_METHODS))],
        "number_warmup": [Interval(Integral, 1, None, closed="left")],
        "number_samples": [Interval(Integral, 1, None, closed="left")],
        "number_chains": [Interval(Integral, 1, None, closed="left")],
        "target_accept_prob": [Interval(Real, 0, 1, closed="neither"), None],
        "dense_mass": ["boolean", None],
        "max_tree_depth": [Interval(Integral, 1, None, closed="left"), tuple, None],
        "random_state": ["random_state"],
        "progress_bar": ["boolean", StrOptions({"auto"})],
        "lift_tests": [pd.DataFrame, None],
    }

    def __init__(
        self,
        model: str = "hill_adstock",
        *,
        media_columns: list | None = None,
        media_prior: Any = None,
        revenue_per_kpi: float | str | None = None,
        degrees_seasonality: int = 2,
        seasonality_frequency: float = 52,
        weekday_seasonality: bool = False,
        baseline: str = "trend",
        custom_priors: dict | None = None,
        date_column: str | None = None,
        date_format: str | None = None,
        fill_missing: str | dict | None = None,
        geo_column: str | None = None,
        parametrization: str = "skmmm",
        inference: str = "nuts",
        number_warmup: int = 1000,
        number_samples: int = 1000,
        number_chains: int = 2,
        target_accept_prob: float | None = None,
        dense_mass: bool | None = None,
        max_tree_depth: int | tuple[int, int] | None = None,
        random_state: int | None = None,
        progress_bar: bool | str = "auto",
        lift_tests: pd.DataFrame | None = None,
    ) -> None:
        self.model = model
        self.media_columns = media_columns
        self.media_prior = media_prior
        self.revenue_per_kpi = revenue_per_kpi
        self.degrees_seasonality = degrees_seasonality
        self.seasonality_frequency = seasonality_frequency
        self.weekday_seasonality = weekday_seasonality
        self.baseline = baseline
        self.custom_priors = custom_priors
        self.date_column = date_column
        self.date_format = date_format
        self.fill_missing = fill_missing
        self.geo_column = geo_column
        self.parametrization = parametrization
        self.inference = inference
        self.number_warmup = number_warmup
        self.number_samples = number_samples
        self.number_chains = number_chains
        self.target_accept_prob = target_accept_prob
        self.dense_mass = dense_mass
        self.max_tree_depth = max_tree_depth
        self.random_state = random_state
        self.progress_bar = progress_bar
        self.lift_tests = lift_tests

    # ------------------------------------------------------------------ fit

    def fit(self, X, y) -> BayesianMMMRegressor:
        """Sample the posterior of the model given media, controls and KPI.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_periods, n_features)
            One row per time period, in time order: media (>= 0) and controls.
        y : array-like of shape (n_periods,)
            The KPI.

        Returns
        -------
        self : BayesianMMMRegressor
            The fitted estimator.
        """
        # One CPU device per core (parallel chains) and the compilation
        # cache, unless the user configured JAX already (skmmm.configure).
        ensure_configured()
        self._validate_params()
        family = model_family(self)
        if family is NATIONAL:
            # A national refit of an estimator fitted on geos drops the geo results.
            for name in GEO_ONLY_ATTRIBUTES:
                self.__dict__.pop(name, None)
        problem = family.prepare(self, X, y, stacklevel=2)
        self.__dict__.pop("revenue_per_kpi_", None)
        for name, value in problem.attributes.items():
            setattr(self, name, value)
        if self.inference == "laplace":
            self._store_laplace_result(
                fit_laplace(
                    problem.model,
                    problem.inputs,
                    LaplaceSettings(
                        num_starts=self.number_chains,
                        num_draws=self.number_chains * self.number_samples,
                        max_iterations=self.number_warmup,
                    ),
                    cache_key=problem.cache_key,
                    seed=self._seed(),
                ),
                problem.hidden_sites,
            )
        else:
            result = sample_nuts(
                problem.model,
                problem.inputs,
                self._sampler_settings(dense_mass=problem.dense_mass),
                cache_key=problem.cache_key,
                seed=self._seed(),
                progress_bar=should_show_progress(self.progress_bar),
                adaptation=problem.adaptation,
            )
            self._store_sampling_result(result, problem.hidden_sites)
            if problem.adaptation is not None:
                self.sampling_info_.update(
                    family.adapted_settings(self.spec_, result.adapted)
                )
        if problem.roi_site in self.posterior_:
            self.posterior_[problem.roi_site] = (
                self.posterior_[problem.roi_site] * self.roi_reference_
            )
        self.n_features_in_ = problem.n_features_in
        if problem.feature_names_in is not None:
            self.feature_names_in_ = problem.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        _set_training_data(self, problem.data, family is GEO)
        self._warn_on_convergence(stacklevel=3)
        return self

    def _inference_used(self) -> str:
        """How the fitted posterior was computed (files before it: NUTS)."""
        return str(getattr(self, "sampling_info_", {}).get("inference", "nuts"))

    def _is_geo_fit(self) -> bool:
        return isinstance(getattr(self, "spec_", None), GeoModelSpec)

    def _sampler_settings(
        self, dense_mass: bool | tuple[tuple[str, ...], ...]
    ) -> SamplerSettings:
        return SamplerSettings(
            num_warmup=self.number_warmup,
            num_samples=self.number_samples,
            num_chains=self.number_chains,
            target_accept_prob=self._target_accept_prob(),
            dense_mass=dense_mass,
            max_tree_depth=self._tree_depths(),
        )

    def _store_sampling_result(self, result, hidden_sites=()) -> None:
        self.posterior_, self.rhat_, self.ess_ = _draws_and_diagnostics(
            result, set(hidden_sites) | set(LEVEL_SITES)
        )
        self.divergences_ = int(result.diverging.sum())
        self.sampling_info_ = {
            "inference": "nuts",
            "compile_seconds": result.compile_seconds,
            "sampling_seconds": result.sampling_seconds,
            "chain_method": result.chain_method,
            "device": result.device,
            "mass_matrix": _describe_mass_matrix(result.dense_mass),
            "mean_num_steps": float(result.num_steps.mean()),
            "diverging": result.diverging,
            "energy": result.energy,
            "n_steps": result.num_steps,
        }

    def _store_laplace_result(self, result, hidden_sites=()) -> None:
        """Draws of a Laplace fit; r_hat and ESS are NaN (no chains to compare)."""
        hidden = set(hidden_sites) | set(LEVEL_SITES)
        self.posterior_ = {
            name: value for name, value in result.samples.items() if name not in hidden
        }
        self.rhat_ = {
            name: np.full(value.shape[1:], np.nan)
            for name, value in self.posterior_.items()
        }
        self.ess_ = {name: value.copy() for name, value in self.rhat_.items()}
        self.divergences_ = 0
        self.sampling_info_ = {
            "inference": "laplace",
            "compile_seconds": result.compile_seconds,
            "sampling_seconds": result.fit_seconds,
            "device": result.device,
            "optimizer_converged": result.converged,
            "newton_decrement": result.newton_decrement,
            "clipped_directions": result.clipped_directions,
            "min_curvature": result.min_curvature,
            "optimizer_iterations": result.iterations,
            "start_log_densities": result.log_densities,
            "best_start": result.best_start,
        }

    def _target_accept_prob(self) -> float:
        if self.target_accept_prob is None:
            national = self.geo_column is None
            return 0.9 if national and self.parametrization == "skmmm" else 0.85
        return float(self.target_accept_prob)

    def _tree_depths(self) -> tuple[int, int]:
        """The (warm-up, sampling) maximum NUTS tree depths."""
        depth = self.max_tree_depth
        if depth is None:
            if self.parametrization == "lightweight_mmm":
                return (SAMPLING_MAX_TREE_DEPTH, SAMPLING_MAX_TREE_DEPTH)
            return (WARMUP_MAX_TREE_DEPTH, SAMPLING_MAX_TREE_DEPTH)
        if not isinstance(depth, tuple):
            return (int(depth), int(depth))
        if len(depth) != 2 or not all(
            isinstance(d, Integral) and not isinstance(d, bool) and d >= 1
            for d in depth
        ):
            raise ValueError(
                "max_tree_depth must be an int >= 1 or a pair (warm-up depth, "
                f"sampling depth) of ints >= 1; got {depth!r}."
            )
        return (int(depth[0]), int(depth[1]))

    def _seed(self) -> int:
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        # None draws from NumPy's global generator, as sklearn does.
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _warn_on_convergence(self, stacklevel: int) -> None:
        """Warn when :func:`skmmm.diagnostics.convergence_verdict` says so.

        ``stacklevel`` counts this method's frame as 1.
        """
        verdict = convergence_verdict(self)
        if verdict.should_warn:
            warnings.warn(verdict.message(), ConvergenceWarning, stacklevel=stacklevel)

    def roi_prior(self):
        """The prior of each channel's ROI at average spend, in KPI per unit of cost.

        skmmm's default prior is relative (``roi / roi_reference_`` ~
        LogNormal(log 0.2, 0.9)); this returns it on the absolute scale, as
        ``posterior_["roi"]`` (``"channel_roi"`` for geo fits) is stored.

        Returns
        -------
        numpyro.distributions.Distribution or None
            Batch shape (n_channels,); None when the media prior is not on
            ROI (``parametrization="lightweight_mmm"``, or ``coef_media`` /
            ``channel_coef_media`` set in ``custom_priors``).
        """
        check_is_fitted(self, "posterior_")
        family = GEO if self._is_geo_fit() else NATIONAL
        if not family.uses_roi_prior(self):
            return None
        site = family.roi_site
        n_channels = self.n_media_channels_
        resolved = resolve_priors(
            {k: v for k, v in (self.custom_priors or {}).items() if k == site},
            {site: (n_channels,)},
            DEFAULT_PRIORS,
        )[site]
        return scaled_prior(resolved, float(getattr(self, "roi_reference_", 1.0)))

    @property
    def fitted_(self) -> FittedMMM:
        """The fitted model as a :class:`skmmm.fitted.FittedMMM`.

        What attribution, the optimiser, the plots and the report work on:
        the posterior draws, the scales, the training timeline, the spec and
        the resolved priors, national fits as a panel of one geo. Built from
        the fitted attributes on first use (a load and :meth:`reduce_trace`
        hand the estimator its model) and rebuilt when ``posterior_`` is
        replaced.
        """
        check_is_fitted(self, "posterior_")
        cached = _FITTED_MODELS.get(self)
        if cached is not None and cached[0] is self.posterior_:
            return cached[1]
        geo = self._is_geo_fit()
        attributes = vars(self)
        fitted = FittedMMM(
            **{
                field: attributes[name]
                for field, name in _model_attributes(geo).items()
                if name in attributes
            },
            **_model_settings(self, geo),
            # A shallow copy resolves the priors on first use: the model must
            # not hold the estimator, its key in the cache.
            priors=partial(_resolved_priors, copy.copy(self)),
        )
        _hold(self, fitted)
        return fitted

    def predict(self, X, return_std: bool = False, media_gap=None):
        """Posterior mean of the KPI for the periods in ``X``.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_periods, n_features)
            Media and controls with the columns seen in fit. Rows of a plain
            array are the periods right after the training data; rows with
            dates are placed on the training calendar. For a geo fit, a long
            DataFrame with every training geo at each of its dates (rows in
            any order; one prediction per row, in X's order).
        return_std : bool, default=False
            Also return the posterior predictive standard deviation (mean
            uncertainty and noise), like ``BayesianRidge``.
        media_gap : array-like of shape (n_gap, n_channels), default=None
            Media of the periods between the end of training and the first
            row of ``X``, so adstock carries over correctly. For a geo fit,
            shape (n_gap, n_channels, n_geos) or a long DataFrame with the
            geo column and the media columns (each geo's rows in time order).

        Returns
        -------
        y_mean : ndarray of shape (n_periods,)
        y_std : ndarray of shape (n_periods,)
            Only with ``return_std=True``.
        """
        mean, variance = self.fitted_.mean_moments(X, media_gap, noise=return_std)
        return (mean, np.sqrt(variance)) if return_std else mean

    def sample_prior_predictive(
        self, X, y, n_draws: int = 500, random_state=None
    ) -> np.ndarray:
        """Draws of the KPI the priors alone imply, shape (n_draws, n_rows).

        Check the priors before fitting: the draws should cover the KPI's
        plausible range, neither a narrow band far from it nor values
        orders of magnitude off. The model is set up exactly as
        :meth:`fit` would set it up on ``(X, y)`` (validation, scales,
        priors, ``custom_priors``); ``y`` only sets the KPI's scale, which
        skmmm's priors are relative to, and nothing is fitted or stored.

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_periods, n_features)
            The data you would fit (a long panel for geo models).
        y : array-like of shape (n_periods,)
            Its KPI.
        n_draws : int, default=500
            Number of draws.
        random_state : int, default=None
            Seed of the draws.

        Returns
        -------
        ndarray of shape (n_draws, n_rows)
            In KPI units. Geo models: one column per (date, geo) pair, dates
            first, as ``training_data_.target.ravel()`` of a fit on ``X``
            (a ragged panel: the pairs X has, in that order).
        """
        from numpyro.infer import Predictive

        self._validate_params()
        if (
            isinstance(n_draws, bool)
            or not isinstance(n_draws, Integral)
            or n_draws < 1
        ):
            raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}.")
        ensure_configured()
        problem = model_family(self).prepare(self, X, y, stacklevel=2)
        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
        draws = Predictive(
            problem.prior_model or problem.model, num_samples=int(n_draws)
        )(jax.random.key(seed), problem.inputs._replace(target=None))["target"]
        scale = np.asarray(problem.attributes["target_scale_"], dtype=float)
        draws = (np.asarray(draws, dtype=float) * scale).reshape(int(n_draws), -1)
        present = getattr(problem.data, "present", None)
        return draws if present is None else draws[:, present.reshape(-1)]

    def sample_posterior_predictive(
        self, X, random_state=None, media_gap=None
    ) -> np.ndarray:
        """Draws of the KPI (mean plus noise), shape (n_draws, n_periods).

        Parameters
        ----------
        X : {array-like, DataFrame} of shape (n_periods, n_features)
            As in :meth:`predict`.
        random_state : int, default=None
            Seed of the noise draws.
        media_gap : array-like of shape (n_gap, n_channels), default=None
            As in :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_draws, n_periods)
        """
        return self.fitted_.predictive_draws(X, random_state, media_gap)

    # ----------------------------------------------------------- summaries

    def summary(self, interval: float = 0.9) -> pd.DataFrame:
        """Diagnostics table of every parameter (LightweightMMM's print_summary).

        Parameters
        ----------
        interval : float, default=0.9
            Width of the central credible interval.

        Returns
        -------
        DataFrame
            One row per parameter element with columns ``mean``, ``sd``, the
            lower quantile, ``median``, the upper quantile, ``ess_bulk``, ``r_hat``.
            ``table.attrs["convergence"]`` holds the fit's
            :class:`skmmm.diagnostics.ConvergenceVerdict`, the judgement the
            warning and the report give; ``table.attrs["inference"]`` is
            ``"nuts"`` or ``"laplace"``. A Laplace fit's draws are
            independent draws from an approximation, with nothing for r_hat
            and ESS to check: both columns are NaN and the verdict's status
            is ``"approximate"``.
        """
        check_is_fitted(self, "posterior_")
        if (
            isinstance(interval, bool)
            or not isinstance(interval, Real)
            or not 0 < interval < 1
        ):
            raise ValueError(
                "interval must be a number between 0 and 1 (the width of the "
                f"central credible interval, e.g. 0.9), got {interval!r}."
            )
        lower_q, upper_q = interval_quantiles(interval)
        fitted = self.fitted_
        rows = {}
        for name, draws in self.posterior_.items():
            shape = draws.shape[1:]
            flat = draws.reshape(draws.shape[0], -1)
            rhat = np.atleast_1d(self.rhat_[name]).ravel()
            ess = np.atleast_1d(self.ess_[name]).ravel()
            for position in range(flat.shape[1]):
                values = flat[:, position]
                rows[fitted.element_label(name, position, shape)] = {
                    "mean": values.mean(),
                    "sd": values.std(ddof=1) if len(values) > 1 else np.nan,
                    f"{lower_q:.0%}": np.quantile(values, lower_q),
                    "median": np.median(values),
                    f"{upper_q:.0%}": np.quantile(values, upper_q),
                    "ess_bulk": ess[position],
                    "r_hat": rhat[position],
                }
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.attrs["inference"] = self._inference_used()
        table.attrs["convergence"] = convergence_verdict(self, table)
        return table

    def reduce_trace(self, n_draws: int, random_state=None) -> BayesianMMMRegressor:
        """Keep a random subset of ``n_draws`` posterior draws (in place).

        Speeds up predict, attribution and optimisation; diagnostics are kept
        from the full run.

        Parameters
        ----------
        n_draws : int
            Number of draws to keep.
        random_state : int, default=None
            Seed of the subset.

        Returns
        -------
        self
        """
        check_is_fitted(self, "posterior_")
        total = next(iter(self.posterior_.values())).shape[0]
        if not 1 <= n_draws <= total:
            raise ValueError(f"n_draws must be between 1 and {total}, got {n_draws}.")
        keep = np.sort(
            np.random.default_rng(random_state).choice(total, n_draws, replace=False)
        )
        # The model keeps its resolved priors: no rebuild from the attributes.
        fitted = self.fitted_.with_draws(keep)
        self.posterior_ = fitted.posterior
        _hold(self, fitted)
        return self

    # ------------------------------------------------------------ plumbing

    # ------------------------------------------- attribution and optimisation
    # Thin methods over skmmm.attribution and skmmm.optimize (which never
    # import this module), for users who prefer ``mmm.roi()`` to
    # ``attribution.roi(mmm)``.

    def contributions(self, X=None, media_gap=None, by_geo: bool = False):
        """Per-period contribution of each channel and of the baseline.

        See :func:`skmmm.attribution.contributions`.
        """
        return attribution.contributions(self, X, media_gap=media_gap, by_geo=by_geo)

    def contribution_share(self, include_baseline: bool = False, by_geo: bool = False):
        """Share of the training KPI per channel, per posterior draw.

        See :func:`skmmm.attribution.contribution_share`.
        """
        return attribution.contribution_share(
            self, include_baseline=include_baseline, by_geo=by_geo
        )

    def roi(self, by_geo: bool = False):
        """ROI of each channel over the training period, per posterior draw.

        See :func:`skmmm.attribution.roi`.
        """
        return attribution.roi(self, by_geo=by_geo)

    def marginal_roi(self, delta: float | None = None, by_geo: bool = False):
        """Extra KPI per extra unit of spend at the historical spend, per draw.

        See :func:`skmmm.attribution.marginal_roi`.
        """
        return attribution.marginal_roi(self, delta=delta, by_geo=by_geo)

    def attribution_summary(self, interval: float = 0.9, by_geo: bool = False):
        """Share, ROI and marginal ROI per channel with credible intervals.

        See :func:`skmmm.attribution.summary` (``summary()`` of the estimator
        is the per-parameter diagnostics table).
        """
        return attribution.summary(self, interval=interval, by_geo=by_geo)

    def response_curves(self, **kwargs):
        """KPI per period as a function of spend, per channel.

        Keyword arguments go to :func:`skmmm.attribution.response_curves`.
        """
        return attribution.response_curves(self, **kwargs)

    def optimize_budget(self, budget: float, n_time_periods: int, **kwargs):
        """The budget split that maximises the KPI over the next periods.

        Builds a :class:`skmmm.optimize.BudgetOptimizer` (its options
        ``bounds_lower_pct``, ``bounds_upper_pct``, ``max_iterations``,
        ``interval`` and ``geo_allocation`` can be given here) and returns
        its :meth:`~skmmm.optimize.BudgetOptimizer.optimize` result; every
        other keyword goes to ``optimize``.
        """
        options = {
            name: kwargs.pop(name) for name in _OPTIMIZER_OPTIONS if name in kwargs
        }
        optimizer = optimize.BudgetOptimizer(self, **options)
        return optimizer.optimize(budget, n_time_periods, **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        tags.target_tags.positive_only = True
        tags.non_deterministic = self.random_state is None
        return tags


_OPTIMIZER_OPTIONS = (
    "bounds_lower_pct",
    "bounds_upper_pct",
    "max_iterations",
    "solver_tol",
    "interval",
    "geo_allocation",
)


class _FixedModelRegressor(BayesianMMMRegressor):
    """A BayesianMMMRegressor whose ``model`` is a class attribute, not a parameter."""

    model: str

    _parameter_constraints: dict = {
        k: v
        for k, v in BayesianMMMRegressor._parameter_constraints.items()
        if k != "model"
    }

    # The parameters are BayesianMMMRegressor's without ``model``: the
    # signature is derived from it (scikit-learn's get_params reads it), so
    # the two cannot drift apart.
    def __init__(self, **params) -> None:
        bound = _FIXED_MODEL_SIGNATURE.bind(self, **params)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)


_FIXED_MODEL_SIGNATURE = inspect.signature(BayesianMMMRegressor.__init__).replace(
    parameters=[
        parameter
        for name, parameter in inspect.signature(
            BayesianMMMRegressor.__init__
        ).parameters.items()
        if name != "model"
    ]
)
_FixedModelRegressor.__init__.__signature__ = _FIXED_MODEL_SIGNATURE


class AdstockRegressor(_FixedModelRegressor):
    """Media mix model with adstock raised to a power (``model="adstock"``).

    Same parameters, attributes and methods as :class:`BayesianMMMRegressor`,
    without the ``model`` parameter.
    """

    model = "adstock"


class HillAdstockRegressor(_FixedModelRegressor):
    """Media mix model with adstock then a Hill curve (``model="hill_adstock"``).

    Same parameters, attributes and methods as :class:`BayesianMMMRegressor`,
    without the ``model`` parameter.
    """

    model = "hill_adstock"


class CarryoverRegressor(_FixedModelRegressor):
    """Media mix model with delayed carryover raised to a power (``model="carryover"``).

    Same parameters, attributes and methods as :class:`BayesianMMMRegressor`,
    without the ``model`` parameter.
    """

    model = "carryover"


def load_fitted(estimator: BayesianMMMRegressor, attributes: Mapping[str, Any]):
    """Make ``estimator`` the fitted estimator that ``attributes`` describe.

    What :func:`skmmm.load_model` builds the estimator with. The attributes
    that hold the fields of the fitted model (``posterior_``,
    ``media_scale_``, ...) become a :class:`FittedMMM` through
    :meth:`FittedMMM.from_dict`, its other settings from the estimator's
    parameters and its priors resolved from them on first use. The
    estimator holds that model as ``fitted_``; those attributes, and the
    ones the training data give (``media_names_``, ``n_geos_``, ...), are
    set from it, and any other attribute as given.

    Parameters
    ----------
    estimator : BayesianMMMRegressor
        Unfitted, with the parameters of the fit.
    attributes : dict
        Fitted attributes by name; ``spec_`` and ``training_data_`` as plain
        data, as :meth:`FittedMMM.to_dict` gives ``spec`` and ``training``.

    Returns
    -------
    FittedMMM
        The estimator's ``fitted_``.
    """
    geo = bool(attributes["spec_"]["geo"])
    held = {
        field: name
        for field, name in _model_attributes(geo).items()
        if name in attributes
    }
    source = estimator  # a copy once its attributes are set, below
    fitted = FittedMMM.from_dict(
        {
            **{field: attributes[name] for field, name in held.items()},
            **_model_settings(estimator, geo),
            "priors": lambda: _resolved_priors(source),
        }
    )
    model = fitted.to_dict(with_priors=False, copy=False)
    model.update(spec=fitted.spec, training=fitted.training)
    from_model = {name: model[field] for field, name in held.items()}
    # In the order given: a saved loaded model lists its attributes as saved.
    for name, value in attributes.items():
        setattr(estimator, name, from_model[name] if name in from_model else value)
    _set_training_data(estimator, fitted.training, geo)
    source = copy.copy(estimator)
    _hold(estimator, fitted)
    return fitted
