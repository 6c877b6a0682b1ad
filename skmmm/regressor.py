"""Bayesian media mix models as scikit-learn regressors."""

from __future__ import annotations

import copy
import hashlib
import warnings
import weakref
from collections.abc import Mapping
from functools import partial
from numbers import Integral, Real
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpyro import distributions as dist
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, check_random_state

from skmmm import _validation, attribution, optimize
from skmmm._geo_coordinates import (
    INITIAL_MEDIA_NONCENTRING,
    INITIAL_ROI_SHEAR,
    coordinate_adaptation,
)
from skmmm._sampling import (
    SamplerSettings,
    sample_nuts,
    should_show_progress,
)
from skmmm.diagnostics import chain_diagnostics, convergence_verdict
from skmmm.fitted import FittedMMM
from skmmm.models import (
    COEF_MEDIA_RAW,
    GEO_MEAN_SCALED_TREND,
    LEVEL_LOG_RATIOS,
    LEVEL_SITES,
    LOG_LEVEL,
    LOG_SEASONALITY_AMPLITUDE,
    MODEL_NAMES,
    N_GEO_MEAN_SITE_ROWS,
    SHEARED_LOG_ROI,
    GeoModelInputs,
    GeoModelSpec,
    ModelSpec,
    NationalModelInputs,
    geo_model,
    geo_site_shapes,
    national_model,
    site_shapes,
)
from skmmm.priors import (
    CHANNEL_COEF_MEDIA,
    CHANNEL_ROI,
    COEF_MEDIA,
    DEFAULT_PRIORS,
    LIGHTWEIGHT_MMM_PRIORS,
    ROI,
    resolve_priors,
    scaled_prior,
)

__all__ = [
    "AdstockRegressor",
    "BayesianMMMRegressor",
    "CarryoverRegressor",
    "HillAdstockRegressor",
]

MIN_PERIODS = 5
PARAMETRIZATIONS = ("skmmm", "lightweight_mmm")
SAMPLING_MAX_TREE_DEPTH = 10
WARMUP_MAX_TREE_DEPTH = 6
_FITTED_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _prior_fingerprint(priors: dict) -> str:
    """A stable digest of resolved priors (classes and parameter values).

    The compiled sampler closes over the priors, so two fits share a program
    only when every prior's parameters agree, including those of the base of
    an expanded or transformed distribution.
    """
    digest = hashlib.sha256()

    def add(prior) -> None:
        digest.update(type(prior).__name__.encode())
        digest.update(str(prior.batch_shape).encode())
        if isinstance(prior, dist.ExpandedDistribution):
            add(prior.base_dist)
            return
        if isinstance(prior, dist.TransformedDistribution):
            add(prior.base_dist)
            for transform in prior.transforms:
                digest.update(type(transform).__name__.encode())
                for value in vars(transform).values():
                    if isinstance(value, (int, float, np.ndarray, jax.Array)):
                        digest.update(np.asarray(value, dtype=np.float64).tobytes())
            return
        for param in sorted(getattr(prior, "arg_constraints", {})):
            value = getattr(prior, param, None)
            if value is not None:
                digest.update(np.asarray(value, dtype=np.float64).tobytes())

    for name, prior in priors.items():
        digest.update(name.encode())
        if prior is not None:
            add(prior)
    return digest.hexdigest()


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


def _geo_prior_scales(
    prior_by_geo: np.ndarray, target_scale: np.ndarray, per_geo: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Internal prior scales of the geo model's media coefficients.

    Returns the scale of each channel's ``channel_coef_media`` (mean 1) and
    the relative scale of each geo's coefficient (n_channels, n_geos). Costs
    given per channel keep LightweightMMM's prior (weights 1); costs given
    per channel and geo weight each geo by its cost relative to its KPI
    (both scales are per geo), normalised to mean 1 over the geos.
    """
    if not per_geo:
        channel = prior_by_geo.sum(axis=1)
        return channel / channel.mean(), np.ones_like(prior_by_geo)
    relative = prior_by_geo / target_scale[None, :]
    channel = relative.mean(axis=1)
    return channel / channel.mean(), relative / channel[:, None]


def _split_over_geos(prior: np.ndarray, media: np.ndarray) -> np.ndarray:
    """Per-channel costs split over geos by each geo's share of the spend."""
    totals = media.sum(axis=0)  # (n_channels, n_geos)
    channel_totals = totals.sum(axis=1, keepdims=True)
    shares = np.where(
        channel_totals > 0,
        totals / np.where(channel_totals > 0, channel_totals, 1.0),
        1.0 / totals.shape[1],
    )
    return prior[:, None] * shares


class _GeoMixin:
    """Geo (hierarchical) fits of :class:`BayesianMMMRegressor`.

    A fit with ``geo_column`` set takes a long DataFrame (one row per date
    and geo) and samples :func:`skmmm.models.geo_model`; predictions come
    back one per row of X, in X's order. Kept apart from the national code
    paths, which only dispatch here.
    """

    def _is_geo_fit(self) -> bool:
        return isinstance(getattr(self, "spec_", None), GeoModelSpec)

    # ------------------------------------------------------------- fit

    def _fit_geo(self, X, y):
        data = _validation.validate_geo_training_data(
            X,
            y,
            geo_column=self.geo_column,
            media_columns=self.media_columns,
            date_column=self.date_column,
            date_format=self.date_format,
            min_periods=MIN_PERIODS,
            estimator_name=type(self).__name__,
        )
        self._check_geo_target(data)
        prior_by_geo, per_geo = self._resolve_geo_media_prior(data)

        n_times, n_channels, n_geos = data.media.shape
        self.media_scale_ = _safe_scale(data.media.mean(axis=0))
        self.extra_scale_ = _safe_scale(np.abs(data.extra_features).mean(axis=0))
        # skmmm centres each geo's scaled controls: the intercept is then the
        # baseline at average controls, not at zero controls, which a control
        # near its mean (a price index) makes almost collinear with it.
        self.extra_offset_ = (
            (data.extra_features / self.extra_scale_).mean(axis=0)
            if self.parametrization == "skmmm"
            else np.zeros_like(self.extra_scale_)
        )
        self.target_scale_ = data.target.mean(axis=0)
        self.media_prior_ = prior_by_geo.sum(axis=1)
        self.media_prior_by_geo_ = prior_by_geo
        roi_prior = self._geo_uses_roi_prior()
        self.roi_reference_ = self._roi_reference(
            float(data.target.sum()), float(prior_by_geo.sum()), site=CHANNEL_ROI
        )
        if roi_prior:
            # Cost per period on each geo's internal KPI scale (relative to
            # roi_reference_, as in the national fit).
            media_cost = (
                prior_by_geo * self.roi_reference_ / (n_times * self.target_scale_)
            )
            channel_prior = media_cost.mean(axis=1)
            geo_weights = media_cost / channel_prior[:, None]
        else:
            channel_prior, geo_weights = _geo_prior_scales(
                prior_by_geo, self.target_scale_, per_geo
            )

        base = self._model_spec(n_times)
        priors = self._fit_priors(
            base, n_channels, data.extra_features.shape[1], n_geos
        )
        self.spec_ = GeoModelSpec(
            **{**base.__dict__, **self._geo_sampling_coordinates(priors)}
        )
        float_dtype = jnp.result_type(float)
        model_args = GeoModelInputs(
            *(
                jnp.asarray(a, dtype=float_dtype)
                for a in (
                    data.media / self.media_scale_,
                    data.extra_features / self.extra_scale_ - self.extra_offset_,
                    np.arange(n_times),
                    channel_prior,
                    geo_weights,
                    np.full((n_channels, n_geos), INITIAL_MEDIA_NONCENTRING),
                    np.full(n_channels, INITIAL_ROI_SHEAR),
                    np.ones(N_GEO_MEAN_SITE_ROWS + n_channels),
                    data.target / self.target_scale_,
                )
            )
        )
        result = sample_nuts(
            partial(geo_model, spec=self.spec_, priors=priors),
            model_args,
            self._sampler_settings(dense_mass=self._geo_dense_mass()),
            cache_key=("geo", self.spec_, _prior_fingerprint(priors)),
            seed=self._seed(),
            progress_bar=should_show_progress(self.progress_bar),
            adaptation=coordinate_adaptation(self.spec_)
            if self.spec_.level_log_ratios
            or self.spec_.sheared_roi
            or self.spec_.geo_mean_scaling
            else None,
        )
        self._store_sampling_result(
            result,
            hidden_sites=(
                COEF_MEDIA_RAW,
                LOG_SEASONALITY_AMPLITUDE,
                GEO_MEAN_SCALED_TREND,
                LOG_LEVEL,
                LEVEL_LOG_RATIOS,
                SHEARED_LOG_ROI,
            ),
        )
        if CHANNEL_ROI in self.posterior_:
            self.posterior_[CHANNEL_ROI] = (
                self.posterior_[CHANNEL_ROI] * self.roi_reference_
            )
        if self.spec_.level_log_ratios:
            # Pooled per channel: the same value for every geo.
            self.sampling_info_["media_noncentring"] = result.adapted[0][..., 0]
        if self.spec_.sheared_roi:
            self.sampling_info_["roi_shear"] = result.adapted[1]
        if self.spec_.geo_mean_scaling:
            self.sampling_info_["geo_mean_scale"] = result.adapted[2]

        self.media_names_ = list(data.media_names)
        self.extra_feature_names_ = list(data.extra_names)
        self.n_media_channels_ = n_channels
        self.n_geos_ = n_geos
        self.geo_names_ = list(data.geo_names)
        self.n_features_in_ = int(X.shape[1])
        columns = list(X.columns)
        if all(isinstance(column, str) for column in columns):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.training_data_ = data
        self.n_train_periods_ = n_times
        # Two frames below the caller: fit, then _fit_geo.
        self._warn_on_convergence(stacklevel=4)
        return self

    def _geo_uses_roi_prior(self) -> bool:
        """skmmm's geo prior on channel ROIs, unless ``channel_coef_media`` is set."""
        return self.parametrization == "skmmm" and CHANNEL_COEF_MEDIA not in (
            self.custom_priors or {}
        )

    def _geo_sampling_coordinates(self, priors: dict) -> dict[str, bool]:
        """The reparametrisation of the geo model (docs/model.md, geo section)."""
        if self.parametrization == "lightweight_mmm":
            return {
                "level_log_ratios": False,
                "noncentred_media": False,
                "seasonality_amplitude": False,
            }
        positive = all(
            prior is None or _has_positive_support(prior)
            for prior in (priors["intercept"], priors.get(CHANNEL_COEF_MEDIA))
        )
        return {
            "level_log_ratios": positive,
            "noncentred_media": not positive,
            "sheared_roi": priors.get(CHANNEL_ROI) is not None
            and _has_positive_support(priors[CHANNEL_ROI]),
            "seasonality_amplitude": self.degrees_seasonality > 0
            and _has_positive_support(priors["coef_seasonality"])
            and _has_real_support(priors["gamma_seasonality"]),
            "geo_mean_scaling": positive and _has_real_support(priors["coef_trend"]),
        }

    def _geo_dense_mass(self) -> bool | tuple[tuple[str, ...], ...]:
        """A diagonal mass matrix with a dense block over the seasonal shape.

        A dense matrix over hundreds of per-geo parameters adapts poorly
        (docs/model.md). With each geo's seasonality amplitude sampled, only
        the shape's direction reaches the likelihood and its norm moves along
        a ray through all its components, which a diagonal matrix cannot
        follow.
        """
        if self.dense_mass is None and self.spec_.seasonality_amplitude:
            return (("gamma_seasonality",),)
        return bool(self.dense_mass)

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

    @staticmethod
    def _check_geo_target(data) -> None:
        _validation.check_target_scale(data.target)
        means = data.target.mean(axis=0)
        bad = np.flatnonzero(~(np.isfinite(means) & (means > 0)))
        if bad.size:
            geo = data.geo_names[int(bad[0])]
            raise ValueError(
                f"y has mean {means[bad[0]]:g} in geo {geo!r}, but the geo model "
                "scales each geo's KPI by its mean, so every geo's KPI must have "
                "a positive mean. Drop that geo or pass the KPI in levels."
            )

    def _resolve_geo_media_prior(self, data) -> tuple[np.ndarray, bool]:
        """Costs per (channel, geo) and whether the user gave them per geo."""
        totals = data.media.sum(axis=(0, 2))
        zero_channels = [
            name
            for name, total in zip(data.media_names, totals, strict=True)
            if not total
        ]
        if zero_channels:
            warnings.warn(
                f"Media channel(s) {zero_channels} are zero in every period and "
                "geo; their effect cannot be estimated and their contribution "
                "will be 0.",
                UserWarning,
                stacklevel=4,
            )
        prior = self.media_prior
        n_channels, n_geos = totals.size, len(data.geo_names)
        if prior is None:
            by_geo = data.media.sum(axis=0)
            fallback = by_geo[by_geo > 0].mean() if np.any(by_geo > 0) else 1.0
            return np.where(by_geo > 0, by_geo, fallback), False
        if isinstance(prior, pd.DataFrame):
            frame = prior
            if set(data.geo_names) <= {str(i) for i in frame.index}:
                frame = frame.T
            frame = frame.rename(index=str, columns=str)
            missing = [g for g in data.geo_names if g not in frame.columns]
            if missing:
                raise ValueError(
                    "media_prior given as a DataFrame must have one row per channel "
                    f"and one column per geo; it lacks the geo(s) {missing}."
                )
            by_geo = np.stack(
                [
                    _validation.validate_media_prior(
                        frame[geo], n_channels, data.media_names
                    )
                    for geo in data.geo_names
                ],
                axis=1,
            )
            return by_geo, True
        array = None if isinstance(prior, (Mapping, pd.Series)) else np.asarray(prior)
        if array is not None and array.ndim == 2:
            if array.shape != (n_channels, n_geos):
                raise ValueError(
                    f"media_prior given per channel and geo must have shape "
                    f"({n_channels}, {n_geos}) (channels {data.media_names} by geos "
                    f"{data.geo_names}), got {array.shape}."
                )
            by_geo = np.stack(
                [
                    _validation.validate_media_prior(
                        array[:, g], n_channels, data.media_names
                    )
                    for g in range(n_geos)
                ],
                axis=1,
            )
            return by_geo, True
        national = _validation.validate_media_prior(prior, n_channels, data.media_names)
        return _split_over_geos(national, data.media), False


class BayesianMMMRegressor(_GeoMixin, RegressorMixin, BaseEstimator):
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
    degrees_seasonality : int, default=2
        Number of Fourier harmonics of the seasonality.
    seasonality_frequency : int, default=52
        Periods per seasonal cycle (52 for yearly seasonality of weekly data).
    weekday_seasonality : bool, default=False
        Add a day-of-week effect (daily data).
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
    geo_column : str, default=None
        Column of ``X`` naming each row's geo: fits the geo (hierarchical)
        model on a long DataFrame with one row per date and geo (see
        docs/model.md). None fits the national model.
    parametrization : {"skmmm", "lightweight_mmm"}, default="skmmm"
        "skmmm" uses the reparametrisations and priors that make the sampler
        converge (docs/model.md); "lightweight_mmm" reproduces LightweightMMM
        0.1.9's model and priors exactly.
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
        Compile and sampling seconds, chain method, device, mean NUTS steps,
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
        "degrees_seasonality": [Interval(Integral, 0, None, closed="left")],
        "seasonality_frequency": [Interval(Real, 0, None, closed="neither")],
        "weekday_seasonality": ["boolean"],
        "custom_priors": [dict, None],
        "date_column": [str, None],
        "date_format": [str, None],
        "geo_column": [str, None],
        "parametrization": [StrOptions(set(PARAMETRIZATIONS))],
        "number_warmup": [Interval(Integral, 1, None, closed="left")],
        "number_samples": [Interval(Integral, 1, None, closed="left")],
        "number_chains": [Interval(Integral, 1, None, closed="left")],
        "target_accept_prob": [Interval(Real, 0, 1, closed="neither"), None],
        "dense_mass": ["boolean", None],
        "max_tree_depth": [Interval(Integral, 1, None, closed="left"), tuple, None],
        "random_state": ["random_state"],
        "progress_bar": ["boolean", StrOptions({"auto"})],
    }

    def __init__(
        self,
        model: str = "hill_adstock",
        *,
        media_columns: list | None = None,
        media_prior: Any = None,
        degrees_seasonality: int = 2,
        seasonality_frequency: float = 52,
        weekday_seasonality: bool = False,
        custom_priors: dict | None = None,
        date_column: str | None = None,
        date_format: str | None = None,
        geo_column: str | None = None,
        parametrization: str = "skmmm",
        number_warmup: int = 1000,
        number_samples: int = 1000,
        number_chains: int = 2,
        target_accept_prob: float | None = None,
        dense_mass: bool | None = None,
        max_tree_depth: int | tuple[int, int] | None = None,
        random_state: int | None = None,
        progress_bar: bool | str = "auto",
    ) -> None:
        self.model = model
        self.media_columns = media_columns
        self.media_prior = media_prior
        self.degrees_seasonality = degrees_seasonality
        self.seasonality_frequency = seasonality_frequency
        self.weekday_seasonality = weekday_seasonality
        self.custom_priors = custom_priors
        self.date_column = date_column
        self.date_format = date_format
        self.geo_column = geo_column
        self.parametrization = parametrization
        self.number_warmup = number_warmup
        self.number_samples = number_samples
        self.number_chains = number_chains
        self.target_accept_prob = target_accept_prob
        self.dense_mass = dense_mass
        self.max_tree_depth = max_tree_depth
        self.random_state = random_state
        self.progress_bar = progress_bar

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
        self._validate_params()
        if self.geo_column is not None:
            return self._fit_geo(X, y)
        # A national refit of an estimator fitted on geos drops the geo results.
        for name in _GEO_ONLY_ATTRIBUTES:
            self.__dict__.pop(name, None)
        data = _validation.validate_training_data(
            X,
            y,
            media_columns=self.media_columns,
            date_column=self.date_column,
            date_format=self.date_format,
            min_periods=MIN_PERIODS,
            estimator_name=type(self).__name__,
        )
        _validation.check_target_scale(data.target)
        media_prior = self._resolve_media_prior(data)

        self.media_scale_ = _safe_scale(data.media.mean(axis=0))
        self.extra_scale_ = _safe_scale(np.abs(data.extra_features).mean(axis=0))
        self.target_scale_ = float(data.target.mean())
        self.media_prior_ = media_prior
        scaled_media = data.media / self.media_scale_
        scaled_extra = data.extra_features / self.extra_scale_
        scaled_target = data.target / self.target_scale_

        n_times, n_channels = data.media.shape
        self.roi_reference_ = self._roi_reference(
            float(data.target.sum()), float(media_prior.sum())
        )
        # Cost per period on the internal KPI scale: an effect at average spend
        # of roi * media_cost (the model rescales it for coef_media's prior).
        # With the default, relative ROI prior the model's roi is ROI over
        # roi_reference_, so the model sees cost shares whatever the units.
        media_cost = media_prior * self.roi_reference_ / (n_times * self.target_scale_)
        self.spec_ = self._model_spec(n_times)
        priors = self._fit_priors(
            self.spec_, n_channels, data.extra_features.shape[1], None
        )
        spec = self._with_level_reparametrization(self.spec_, priors)
        model = partial(national_model, spec=spec, priors=priors)
        settings = self._sampler_settings(dense_mass=self._dense_mass())
        float_dtype = jnp.result_type(float)
        model_args = NationalModelInputs(
            *(
                jnp.asarray(a, dtype=float_dtype)
                for a in (
                    scaled_media,
                    scaled_extra,
                    np.arange(n_times),
                    media_cost,
                    scaled_target,
                )
            )
        )
        result = sample_nuts(
            model,
            model_args,
            settings,
            cache_key=("national", spec, _prior_fingerprint(priors)),
            seed=self._seed(),
            progress_bar=should_show_progress(self.progress_bar),
        )

        self._store_sampling_result(result)
        if ROI in self.posterior_:
            self.posterior_[ROI] = self.posterior_[ROI] * self.roi_reference_

        self.media_names_ = list(data.media_names)
        self.extra_feature_names_ = list(data.extra_names)
        self.n_media_channels_ = n_channels
        self.n_geos_ = 1
        self.n_features_in_ = data.n_features_in
        if data.feature_names_in is not None:
            self.feature_names_in_ = data.feature_names_in
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.training_data_ = data
        self.n_train_periods_ = n_times
        self._warn_on_convergence(stacklevel=3)
        return self

    def _model_spec(self, n_times: int) -> ModelSpec:
        lightweight = self.parametrization == "lightweight_mmm"
        return ModelSpec(
            model_name=self.model,
            degrees_seasonality=int(self.degrees_seasonality),
            seasonality_frequency=float(self.seasonality_frequency),
            weekday_seasonality=bool(self.weekday_seasonality),
            trend_time_scale=1.0 if lightweight else float(n_times),
        )

    def _with_level_reparametrization(self, spec: ModelSpec, priors: dict) -> ModelSpec:
        """Use the level-on-a-simplex coordinates when both priors are positive."""
        if self.parametrization == "lightweight_mmm":
            return spec
        intercept_prior, coef_prior = priors["intercept"], priors[COEF_MEDIA]
        positive = all(
            prior is None or _has_positive_support(prior)
            for prior in (intercept_prior, coef_prior)
        )
        if not positive:
            return spec
        return ModelSpec(**{**spec.__dict__, "simplex_level": True})

    def _roi_reference(
        self, total_target: float, total_cost: float, site: str = ROI
    ) -> float:
        """What the model's ROI site is relative to: the data's average return.

        skmmm's default ROI prior is on each channel's ROI over the training
        data's total KPI per unit of total cost, so that it means the same in
        any units; a ROI prior given in ``custom_priors`` is absolute (1.0).
        """
        if site in (self.custom_priors or {}) or self.parametrization != "skmmm":
            return 1.0
        if not (np.isfinite(total_target) and total_target > 0 and total_cost > 0):
            return 1.0
        return total_target / total_cost

    def _uses_roi_prior(self) -> bool:
        """Whether the media effects get their prior through ``roi``.

        skmmm's parametrization does, unless ``custom_priors`` sets
        ``coef_media`` (then that prior is used, as in LightweightMMM).
        """
        custom = self.custom_priors or {}
        if ROI in custom and COEF_MEDIA in custom:
            raise ValueError(
                "custom_priors sets both 'coef_media' and 'roi'; they are two "
                "ways to give the media effects a prior: keep one."
            )
        if self.parametrization == "lightweight_mmm":
            return False
        return COEF_MEDIA not in custom

    def _dense_mass(self) -> bool:
        if self.dense_mass is None:
            return self.parametrization == "skmmm"
        return bool(self.dense_mass)

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

    def _resolve_media_prior(self, data) -> np.ndarray:
        zero_channels = [
            name
            for name, total in zip(
                data.media_names, data.media.sum(axis=0), strict=False
            )
            if total == 0
        ]
        if zero_channels:
            warnings.warn(
                f"Media channel(s) {zero_channels} are zero in every period; their "
                "effect cannot be estimated and their contribution will be 0.",
                UserWarning,
                stacklevel=3,
            )
        if self.media_prior is not None:
            return _validation.validate_media_prior(
                self.media_prior, data.media.shape[1], data.media_names
            )
        totals = data.media.sum(axis=0)
        fallback = totals[totals > 0].mean() if np.any(totals > 0) else 1.0
        return np.where(totals > 0, totals, fallback)

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
        geo = self._is_geo_fit()
        if not (self._geo_uses_roi_prior() if geo else self._uses_roi_prior()):
            return None
        site = CHANNEL_ROI if geo else ROI
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
        the fitted attributes on first use and rebuilt when ``posterior_`` is
        replaced (a refit, :meth:`reduce_trace`, a load).
        """
        check_is_fitted(self, "posterior_")
        cached = _FITTED_MODELS.get(self)
        if cached is not None and cached[0] is self.posterior_:
            return cached[1]
        geo = self._is_geo_fit()
        # A shallow copy resolves the priors on first use: the model must not
        # hold the estimator, its key in the cache.
        source = copy.copy(self)
        fitted = FittedMMM(
            spec=self.spec_,
            posterior=self.posterior_,
            rhat=self.rhat_,
            ess=self.ess_,
            divergences=self.divergences_,
            training=self.training_data_,
            media_scale=self.media_scale_,
            control_scale=self.extra_scale_,
            control_offset=getattr(self, "extra_offset_", None),
            target_scale=self.target_scale_,
            media_cost=self.media_prior_by_geo_ if geo else self.media_prior_,
            priors=lambda: (
                source._fit_priors(
                    source.spec_,
                    source.n_media_channels_,
                    len(source.extra_feature_names_),
                    source.n_geos_ if geo else None,
                ),
                source.roi_prior(),
            ),
            roi_reference=getattr(self, "roi_reference_", 1.0),
            geo_column=self.geo_column if geo else None,
            date_column=self.date_column,
            date_format=self.date_format,
            estimator_name=type(self).__name__,
            sampling_info=getattr(self, "sampling_info_", None),
        )
        _FITTED_MODELS[self] = (self.posterior_, fitted)
        return fitted

    def _fit_priors(
        self, spec: ModelSpec, n_channels: int, n_extra: int, n_geos: int | None
    ) -> dict:
        """The priors of the model's sites, resolved from ``custom_priors``.

        ``n_geos`` None means the national model.
        """
        if n_geos is None:
            shapes = site_shapes(
                spec, n_channels, n_extra, roi_prior=self._uses_roi_prior()
            )
        else:
            shapes = geo_site_shapes(
                spec,
                n_channels,
                n_extra,
                n_geos,
                roi_prior=self._geo_uses_roi_prior(),
            )
        return resolve_priors(
            self.custom_priors,
            shapes,
            LIGHTWEIGHT_MMM_PRIORS
            if self.parametrization == "lightweight_mmm"
            else DEFAULT_PRIORS,
        )

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
            warning and the report give.
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
        lower_q, upper_q = (1 - interval) / 2, 1 - (1 - interval) / 2
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
        self.posterior_ = {name: value[keep] for name, value in self.posterior_.items()}
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


_GEO_ONLY_ATTRIBUTES = ("geo_names_", "media_prior_by_geo_", "extra_offset_")

_OPTIMIZER_OPTIONS = (
    "bounds_lower_pct",
    "bounds_upper_pct",
    "max_iterations",
    "solver_tol",
    "interval",
    "geo_allocation",
)


def _safe_scale(values: np.ndarray) -> np.ndarray:
    """Means used as divisors, with 1 where a column is all zero."""
    return np.where(values > 0, values, 1.0)


def _has_real_support(prior) -> bool:
    from numpyro.distributions import constraints

    return prior.support is constraints.real


def _has_positive_support(prior) -> bool:
    from numpyro.distributions import constraints

    return (
        prior.support is constraints.positive
        or prior.support is constraints.nonnegative
    )


class _FixedModelRegressor(BayesianMMMRegressor):
    """A BayesianMMMRegressor whose ``model`` is a class attribute, not a parameter."""

    model: str

    _parameter_constraints: dict = {
        k: v
        for k, v in BayesianMMMRegressor._parameter_constraints.items()
        if k != "model"
    }

    def __init__(
        self,
        *,
        media_columns: list | None = None,
        media_prior: Any = None,
        degrees_seasonality: int = 2,
        seasonality_frequency: float = 52,
        weekday_seasonality: bool = False,
        custom_priors: dict | None = None,
        date_column: str | None = None,
        date_format: str | None = None,
        geo_column: str | None = None,
        parametrization: str = "skmmm",
        number_warmup: int = 1000,
        number_samples: int = 1000,
        number_chains: int = 2,
        target_accept_prob: float | None = None,
        dense_mass: bool | None = None,
        max_tree_depth: int | tuple[int, int] | None = None,
        random_state: int | None = None,
        progress_bar: bool | str = "auto",
    ) -> None:
        self.media_columns = media_columns
        self.media_prior = media_prior
        self.degrees_seasonality = degrees_seasonality
        self.seasonality_frequency = seasonality_frequency
        self.weekday_seasonality = weekday_seasonality
        self.custom_priors = custom_priors
        self.date_column = date_column
        self.date_format = date_format
        self.geo_column = geo_column
        self.parametrization = parametrization
        self.number_warmup = number_warmup
        self.number_samples = number_samples
        self.number_chains = number_chains
        self.target_accept_prob = target_accept_prob
        self.dense_mass = dense_mass
        self.max_tree_depth = max_tree_depth
        self.random_state = random_state
        self.progress_bar = progress_bar


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
