"""The NumPyro model functions and the deterministic mean they share.

The model is written once as a deterministic function of its parameters
(:func:`mean_components`), used both inside the NumPyro model for fitting and,
vectorised over posterior draws, for prediction and attribution. All arrays
are on the internal scale (media, controls and KPI divided by their means).

Shapes: ``media`` (n_times, n_channels), ``extra_features`` (n_times,
n_extra), ``time_index`` (n_times,) period numbers counted from the first
training period.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro import distributions as dist

from skmmm import transforms
from skmmm.lift_tests import LiftTestInputs
from skmmm.priors import (
    CHANNEL_COEF_MEDIA,
    CHANNEL_ROI,
    COEF_MEDIA,
    MEDIA_TRANSFORM_PRIORS,
    ROI,
)

__all__ = [
    "BASELINES",
    "BASELINE_SCALE",
    "BASELINE_STEPS",
    "MODEL_NAMES",
    "GeoModelSpec",
    "ModelSpec",
    "ModelInputs",
    "baseline_knots",
    "geo_mean_components",
    "geo_mean_scaled_sites",
    "geo_model",
    "geo_site_shapes",
    "level_log_ratio_shift",
    "level_log_ratio_terms",
    "lift_test_effects",
    "lift_test_likelihood",
    "log_elasticity_at_average",
    "log_lag_gain",
    "log_spend_sensitivity",
    "mean_components",
    "media_transform",
    "national_model",
    "panel_mean_components",
    "parameter_label",
    "response_at_average",
    "sample_baseline_steps",
    "scaled_geo_means",
    "site_shapes",
    "spline_level",
    "unscaled_geo_means",
]

MODEL_NAMES: tuple[str, ...] = tuple(MEDIA_TRANSFORM_PRIORS)
CARRYOVER_LAGS = 13
WEEKDAYS = 7


@dataclass(frozen=True)
class ModelSpec:
    """Static (shape-independent, hashable) description of a model.

    Parameters
    ----------
    model_name : {"adstock", "hill_adstock", "carryover"}
        Media transform.
    degrees_seasonality : int
        Number of Fourier harmonics of the seasonality.
    seasonality_frequency : float
        Periods per seasonal cycle.
    weekday_seasonality : bool
        Add a day-of-week effect (daily data).
    trend_time_scale : float
        The trend is ``coef_trend * (t / trend_time_scale) ** expo_trend``;
        1 reproduces LightweightMMM, the number of training periods keeps the
        trend's coefficients on the KPI's scale.
    simplex_level : bool
        Sample the intercept and the media effects at average spend as a total
        level times shares on a simplex (same priors, same posterior; see
        :func:`national_model`).
    baseline : {"trend", "spline"}
        "spline" adds a moving level (:func:`spline_level`) to the baseline.
    baseline_knots : int
        With "spline", the number of the level's knots (evenly spaced).
    baseline_periods : int
        With "spline", the number of training periods the knots span.
    """

    model_name: str
    degrees_seasonality: int = 2
    seasonality_frequency: float = 52.0
    weekday_seasonality: bool = False
    trend_time_scale: float = 1.0
    simplex_level: bool = False
    baseline: str = "trend"
    baseline_knots: int = 0
    baseline_periods: int = 0


CHANNEL_SITES = frozenset(
    {COEF_MEDIA, CHANNEL_COEF_MEDIA, ROI}.union(*MEDIA_TRANSFORM_PRIORS.values())
)
GEO_SITES = frozenset({"intercept", "coef_trend", "sigma", "coef_seasonality"})


def parameter_label(
    name: str,
    position: int,
    shape: tuple[int, ...],
    *,
    channels: Sequence[str],
    controls: Sequence[str],
    geos: Sequence[str] = (),
) -> str:
    """The label of one element of a model parameter.

    ``name[tv]``, ``coef_media[tv,geo_1]``, ``intercept[geo_1]``,
    ``gamma_seasonality[1,cos]``: each axis of the parameter is named by the
    channels, controls, geos or seasonal harmonics it runs over, and by its
    index where its length matches none of them.

    Parameters
    ----------
    name : str
        The parameter (site) name.
    position : int
        The element's position in the flattened parameter.
    shape : tuple of int
        The parameter's shape (without the draws' axis).
    channels, controls, geos : sequence of str
        The names along the channel, control and geo axes.

    Returns
    -------
    str
    """
    if not shape:
        return name
    geos = [str(geo) for geo in geos]
    if name in CHANNEL_SITES:
        axes = [list(channels), geos]
    elif name == "coef_extra_features":
        axes = [list(controls), geos]
    elif name == "gamma_seasonality":
        axes = [[str(degree + 1) for degree in range(shape[0])], ["cos", "sin"]]
    elif name in GEO_SITES:
        axes = [geos]
    elif name == BASELINE_STEPS:
        axes = [[], geos]
    else:
        axes = []
    index = np.unravel_index(position, shape)
    parts = [
        str(axes[axis][i])
        if axis < len(axes) and len(axes[axis]) == size
        else str(int(i))
        for axis, (i, size) in enumerate(zip(index, shape, strict=True))
    ]
    return f"{name}[{','.join(parts)}]"


def site_shapes(
    spec: ModelSpec, n_channels: int, n_extra: int, *, roi_prior: bool = False
) -> dict[str, tuple]:
    """Shape of every prior of the national model, in sampling order.

    With ``roi_prior`` the media coefficients get their prior through each
    channel's ROI at average spend (``roi``, see :func:`national_model`).
    """
    shapes: dict[str, tuple] = {
        "intercept": (),
        "coef_trend": (),
        "expo_trend": (),
        "sigma": (),
        "gamma_seasonality": (spec.degrees_seasonality, 2),
    }
    if spec.baseline == "spline":
        shapes[BASELINE_SCALE] = ()
    if spec.weekday_seasonality:
        shapes["weekday"] = (WEEKDAYS,)
    if n_extra:
        shapes["coef_extra_features"] = (n_extra,)
    shapes[COEF_MEDIA] = (n_channels,)
    if roi_prior:
        shapes[ROI] = (n_channels,)
    for name in MEDIA_TRANSFORM_PRIORS[spec.model_name]:
        shapes[name] = (n_channels,)
    return shapes


def media_transform(
    spec: ModelSpec,
    media: jax.Array,
    params: Mapping[str, jax.Array],
    rows: jax.Array | slice | None = None,
) -> jax.Array:
    """Apply the model's media transform (before the media coefficients).

    ``rows`` (period positions or a slice) keeps only those periods: the lag over time
    (adstock or carryover) still sees every period, the pointwise shape
    (exponent or Hill) runs on the kept rows only.
    """
    if spec.model_name in ("adstock", "hill_adstock"):
        lagged = transforms.adstock(media, params["lag_weight"])
    elif spec.model_name == "carryover":
        lagged = transforms.carryover(
            media,
            params["ad_effect_retention_rate"],
            params["peak_effect_delay"],
            number_lags=CARRYOVER_LAGS,
        )
    else:
        raise ValueError(
            f"Unknown model {spec.model_name!r}; expected one of {MODEL_NAMES}."
        )
    if rows is not None:
        lagged = lagged[rows]
    return _media_shape(spec, lagged, params)


def _media_shape(
    spec: ModelSpec, lagged: jax.Array, params: Mapping[str, jax.Array]
) -> jax.Array:
    """The pointwise part of the media transform (Hill curve or exponent)."""
    if spec.model_name == "hill_adstock":
        half_max = params["half_max_effective_concentration"]
        return transforms.hill(lagged, half_max, params["slope"])
    return transforms.apply_exponent_safe(lagged, params["exponent"])


def trend_time(
    spec: ModelSpec, expo_trend: jax.Array, time_index: jax.Array
) -> jax.Array:
    """The trend's shape ``(t / trend_time_scale) ** expo_trend`` at each period."""
    return transforms.apply_exponent_safe(
        time_index / spec.trend_time_scale, expo_trend
    )


BASELINES = ("trend", "spline")
BASELINE_SCALE, BASELINE_STEPS = "baseline_scale", "baseline_steps"


def baseline_knots(spec: ModelSpec) -> np.ndarray:
    """The moving level's knots: periods, evenly spaced over the training data."""
    return np.linspace(0.0, spec.baseline_periods - 1.0, spec.baseline_knots)


def _knot_weights(knots: np.ndarray, time_index: jax.Array) -> jax.Array:
    """Piecewise-linear (hat) basis at each period, (n_times, n_knots).

    Periods after the last knot get its weight alone: the level holds flat.
    """
    spacing = knots[1] - knots[0]
    clamped = jnp.clip(time_index, knots[0], knots[-1])
    distance = jnp.abs(clamped[:, None] - jnp.asarray(knots, time_index.dtype))
    return jnp.clip(1.0 - distance / spacing, 0.0, 1.0)


def spline_level(
    spec: ModelSpec, params: Mapping[str, jax.Array], time_index: jax.Array
) -> jax.Array:
    """The moving level of ``baseline="spline"`` at each period.

    A piecewise-linear curve through ``spec.baseline_knots`` evenly spaced
    knots whose values are a Gaussian random walk: knot ``k`` is knot ``k -
    1`` plus ``baseline_scale * baseline_steps[k - 1]``, ``baseline_steps ~
    Normal(0, 1)`` (non-centred). The curve is centred to mean 0 over the
    training periods, so the intercept stays the baseline's average level.
    After the last training period it holds the last knot's value.

    Returns
    -------
    jax.Array of shape (n_times,), or (n_times, n_geos) when
    ``baseline_steps`` has a geo axis.
    """
    knots = baseline_knots(spec)
    steps = params[BASELINE_SCALE] * params[BASELINE_STEPS]
    values = jnp.concatenate([jnp.zeros_like(steps[:1]), jnp.cumsum(steps, axis=0)])
    training = jnp.arange(spec.baseline_periods, dtype=time_index.dtype)
    weights = _knot_weights(knots, time_index) - _knot_weights(knots, training).mean(
        axis=0
    )
    return weights @ values


def sample_baseline_steps(
    spec: ModelSpec, params: dict[str, jax.Array], geo_shape: tuple[int, ...] = ()
) -> dict[str, jax.Array]:
    """Add the moving level's standardised steps to ``params`` (``"spline"`` only).

    ``geo_shape`` is ``(n_geos,)`` for a level per geo.
    """
    if spec.baseline == "spline":
        shape = (spec.baseline_knots - 1, *geo_shape)
        params[BASELINE_STEPS] = numpyro.sample(
            BASELINE_STEPS, dist.Normal(jnp.zeros(shape), 1.0).to_event(len(shape))
        )
    return params


def mean_components(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    extra_features: jax.Array,
    time_index: jax.Array,
    rows: jax.Array | slice | None = None,
) -> dict[str, jax.Array]:
    """Every additive part of the expected KPI for one parameter draw.

    ``rows`` (period positions or a slice, optional) computes the parts at those periods
    only (the media lags still run over every period): predicting a few
    weeks after a long history then costs a fraction of the whole timeline.

    Returns
    -------
    dict
        ``media`` (n_times, n_channels): contribution of each channel;
        ``intercept``, ``trend``, ``seasonality``, ``extra_features`` (each
        (n_times,), the controls summed), ``weekday`` when used, and ``mu``,
        the expected KPI (n_times,): their sum. With ``rows``, n_times is
        ``len(rows)``.
    """
    time_index = jnp.asarray(time_index, dtype=media.dtype)
    if rows is not None:
        time_index, extra_features = time_index[rows], extra_features[rows]
    n_times = time_index.shape[0]
    parts: dict[str, jax.Array] = {
        "intercept": jnp.broadcast_to(params["intercept"], (n_times,)),
        "trend": params["coef_trend"]
        * trend_time(spec, params["expo_trend"], time_index),
        "seasonality": transforms.seasonality_from_terms(
            transforms.fourier_terms(
                time_index, spec.degrees_seasonality, spec.seasonality_frequency
            ),
            params["gamma_seasonality"],
        ),
    }
    if spec.baseline == "spline":
        parts["level"] = spline_level(spec, params, time_index)
    if "coef_extra_features" in params:
        parts["extra_features"] = extra_features @ params["coef_extra_features"]
    if spec.weekday_seasonality:
        parts["weekday"] = params["weekday"][time_index.astype(jnp.int32) % WEEKDAYS]
    baseline = sum(parts.values())
    transformed = media_transform(spec, media, params, rows)
    parts["media"] = transformed * params[COEF_MEDIA]
    # A dot product rather than parts["media"].sum(axis=1): XLA on CPU runs
    # small reductions (and their gradients) several times slower.
    parts["mu"] = baseline + transformed @ params[COEF_MEDIA]
    return parts


LEVEL_SITES = ("level", "level_shares")
_LEVEL_BASE = dist.LogNormal(0.0, 2.0)


def response_at_average(spec: ModelSpec, params: Mapping[str, jax.Array]) -> jax.Array:
    """Media transform of a channel held at its average level, in steady state.

    Media are scaled to mean 1, and adstock and carryover of a constant 1 are
    1, so this is ``hill(1)`` for "hill_adstock" and 1 for the other models
    (``1 ** exponent``).
    """
    if spec.model_name == "hill_adstock":
        half_max = params["half_max_effective_concentration"]
        return transforms.hill(jnp.ones_like(half_max), half_max, params["slope"])
    return jnp.ones_like(params["exponent"])


def _media_log_prior(
    spec: ModelSpec,
    priors: Mapping[str, dist.Distribution | None],
    coef_media_prior: dist.Distribution,
    media_cost: jax.Array,
    params: Mapping[str, jax.Array],
    effect: jax.Array,
) -> jax.Array:
    """Log prior density of the channels' effects at average spend.

    ``effect = coef_media * response_at_average``. With an ROI prior the
    effect is ``roi * media_cost``; otherwise the density is the one of
    ``coef_media``'s prior. Either way the log Jacobian of the map to
    ``effect`` is included.
    """
    roi_prior = priors.get(ROI)
    if roi_prior is not None:
        return roi_prior.log_prob(effect / media_cost).sum() - jnp.log(media_cost).sum()
    at_average = response_at_average(spec, params)
    return (
        coef_media_prior.log_prob(effect / at_average).sum() - jnp.log(at_average).sum()
    )


def _sample_with_level_on_simplex(
    spec: ModelSpec,
    priors: Mapping[str, dist.Distribution | None],
    intercept_prior: dist.Distribution,
    coef_media_prior: dist.Distribution,
    media_cost: jax.Array,
) -> dict[str, jax.Array]:
    """Sample every parameter, with the level split on a simplex.

    When media barely vary, the data fix the KPI's level, ``intercept`` plus
    each channel's effect at average spend (``coef_media * response at
    average``), to a fraction of a percent, but say little about how it
    splits or how the Hill curve bends. In LightweightMMM's coordinates (each
    positive parameter on a log scale) that is a curved ridge, made worse by
    ``coef_media`` trading off against the Hill half-max point, and NUTS
    needs its maximum tree depth. Here the sampler moves ``level`` and the
    shares ``(intercept, effects) / level`` on a simplex, and ``coef_media``
    is derived as ``effect / response_at_average``. The priors are unchanged:
    the densities of ``intercept`` and of the effects (through ``coef_media``
    or ``roi``, :func:`_media_log_prior`) are added at the implied values,
    with the log Jacobian of the map (``n_channels * log(level)`` for the
    simplex), and the base density of ``level`` removed (Dirichlet(1, ..., 1)
    is flat).
    """
    n_channels = coef_media_prior.batch_shape[-1]
    level = numpyro.sample("level", _LEVEL_BASE)
    shares = numpyro.sample(
        "level_shares", dist.Dirichlet(jnp.ones(n_channels + 1, dtype=level.dtype))
    )
    params = {
        name: numpyro.sample(name, prior)
        for name, prior in priors.items()
        if name not in ("intercept", COEF_MEDIA, ROI)
    }
    effect = level * shares[1:]
    if priors.get(ROI) is not None:
        numpyro.deterministic(ROI, effect / media_cost)
    intercept = numpyro.deterministic("intercept", level * shares[0])
    coef_media = numpyro.deterministic(
        COEF_MEDIA, effect / response_at_average(spec, params)
    )
    numpyro.factor(
        "level_prior",
        intercept_prior.log_prob(intercept)
        + _media_log_prior(spec, priors, coef_media_prior, media_cost, params, effect)
        + n_channels * jnp.log(level)
        - _LEVEL_BASE.log_prob(level),
    )
    return {**params, "intercept": intercept, COEF_MEDIA: coef_media}


class ModelInputs(NamedTuple):
    """The data of :func:`national_model` and :func:`geo_model` (internal scale).

    The models take them as their one argument (a pytree: inputs of the same
    shapes reuse the compiled sampler). A geo model's arrays have a geo
    axis; the four fields after ``media_prior`` are the geo model's only
    (None for a national model).

    Parameters
    ----------
    media : jax.Array of shape (n_times, n_channels[, n_geos])
        Media on the internal scale.
    extra_features : jax.Array of shape (n_times, n_extra[, n_geos])
        Controls on the internal scale (n_extra may be 0).
    time_index : jax.Array of shape (n_times,)
        Period numbers.
    media_prior : jax.Array of shape (n_channels,)
        The scale of each channel's media effects' prior (see each model):
        its cost per period on the internal KPI scale (total cost /
        (n_periods * mean KPI), averaged over geos).
    geo_prior_weights : jax.Array of shape (n_channels, n_geos), optional
        Relative prior scale of each geo's coefficient (ones unless the
        media prior is given per channel and geo, or with ``channel_roi``).
    media_noncentring : jax.Array of shape (n_channels, n_geos), optional
        With ``spec.level_log_ratios``, how far each geo's effect moves with
        its channel's hyper coefficient in the sampler's coordinates (0:
        centred, 1: non-centred); the posterior does not depend on it.
        Unused otherwise.
    roi_shear : jax.Array of shape (n_channels,), optional
        With ``spec.sheared_roi``, how far each channel's sampled ROI
        coordinate is its marginal ROI (:func:`_sample_channel_roi`); the
        posterior does not depend on it. Unused otherwise.
    geo_mean_scale : jax.Array of shape (3 + n_channels,), optional
        With ``spec.geo_mean_scaling``, how the sampler's coordinates scale
        the mean over geos of each geo's level, log seasonality amplitude and
        trend coefficient, then of each channel's log ratios
        (:func:`scale_geo_means`); the posterior does not depend on it. The
        log ratios and, with ``spec.seasonality_amplitude``, the amplitudes
        use their rows in every parametrisation that samples them (ones keep
        the model's coordinates).
    target : jax.Array of shape (n_times[, n_geos]), optional
        Observed KPI on the internal scale; None to sample from the prior.
    target_mask : jax.Array of target's shape, dtype bool, optional
        The observed periods, or cells of a ragged geo panel (geos with
        different first or last dates); False leaves a period out of the
        likelihood (one that ``fill_missing`` inserted, or an absent cell,
        which holds zero media and controls). None: everything is observed.
    lift_tests : LiftTestInputs, optional
        Experiments, each adding a likelihood term
        (:func:`lift_test_likelihood`).
    """

    media: jax.Array
    extra_features: jax.Array
    time_index: jax.Array
    media_prior: jax.Array
    geo_prior_weights: jax.Array | None = None
    media_noncentring: jax.Array | None = None
    roi_shear: jax.Array | None = None
    geo_mean_scale: jax.Array | None = None
    target: jax.Array | None = None
    target_mask: jax.Array | None = None
    lift_tests: LiftTestInputs | None = None


def national_model(
    inputs: ModelInputs,
    *,
    spec: ModelSpec,
    priors: Mapping[str, dist.Distribution | None],
) -> None:
    """LightweightMMM's national model: ``target ~ Normal(mu, sigma)``.

    ``inputs.media_prior`` is each channel's cost per period on the internal
    KPI scale. The default prior of ``coef_media`` is LightweightMMM's
    HalfNormal(media_prior / mean(media_prior)); with an ``roi`` prior, a
    channel's effect at average spend is ``roi * media_prior`` (``roi`` is
    then KPI per unit of cost).

    Parameters
    ----------
    inputs : ModelInputs
        The data, without the geo model's fields: ``media`` (n_times,
        n_channels), ``extra_features`` (n_times, n_extra), ``target`` and
        ``target_mask`` (n_times,).
    spec : ModelSpec
        The model's static description.
    priors : dict
        Site name -> prior, from :func:`skmmm.priors.resolve_priors`.
    """
    media, media_prior = inputs.media, inputs.media_prior
    coef_media_prior = priors[COEF_MEDIA]
    if coef_media_prior is None:
        coef_media_prior = dist.HalfNormal(media_prior / media_prior.mean())
    if spec.simplex_level:
        params = _sample_with_level_on_simplex(
            spec, priors, priors["intercept"], coef_media_prior, media_prior
        )
    elif priors.get(ROI) is not None:
        params = {
            name: numpyro.sample(name, prior)
            for name, prior in priors.items()
            if name not in (COEF_MEDIA, ROI)
        }
        roi = numpyro.sample(ROI, priors[ROI])
        params[COEF_MEDIA] = numpyro.deterministic(
            COEF_MEDIA, roi * media_prior / response_at_average(spec, params)
        )
    else:
        params = {
            name: numpyro.sample(
                name, coef_media_prior if name == COEF_MEDIA else prior
            )
            for name, prior in priors.items()
        }
    params = sample_baseline_steps(spec, params)
    parts = mean_components(
        spec, params, media, inputs.extra_features, inputs.time_index
    )
    mu = parts["mu"]
    _observe(dist.Normal(mu, params["sigma"]), inputs.target, inputs.target_mask)
    lift_test_likelihood(spec, params, media, inputs.lift_tests)


# ------------------------------------------------------------ lift tests


def lift_test_effects(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    tests: LiftTestInputs,
) -> jax.Array:
    """The model's lift of each test for one draw, on each test's KPI scale.

    The incremental KPI of adding each test's ``delta`` to its channel's
    observed media, summed over its measurement window: through the
    channel's lag (adstock or carryover), its saturation at the spend it
    had then, and its coefficient (per geo for geo models), so a test at
    high spend informs the curve, not only the ROI.

    Parameters
    ----------
    spec : ModelSpec or GeoModelSpec
        The model.
    params : dict
        One draw (``coef_media`` (n_channels,) or (n_channels, n_geos) and
        the transform parameters).
    media : jax.Array of shape (n_times, n_channels[, n_geos])
        Training media on the internal scale.
    tests : LiftTestInputs
        The tests (:func:`skmmm.lift_tests.lift_test_inputs`).

    Returns
    -------
    jax.Array of shape (n_padded,)
        Multiply by ``tests.kpi_scale`` for KPI units; 0 for padding.
    """
    panel = media if media.ndim == 3 else media[:, :, None]
    coef = params[COEF_MEDIA]
    coef = coef if coef.ndim == 2 else coef[:, None]
    channel = tests.channel
    per_test = {
        name: params[name][channel] for name in MEDIA_TRANSFORM_PRIORS[spec.model_name]
    }
    if spec.model_name in ("adstock", "hill_adstock"):
        return _adstock_lift(spec, per_test, coef[channel], tests)
    n_tests = channel.shape[0]
    base = panel[:, channel, :]  # (n_times, n_tests, n_geos): one column per test
    changed = base + jnp.moveaxis(tests.delta, 0, 1)
    # One transform over both: carryover is a convolution, no scan over time.
    per_test = {name: jnp.tile(value, 2) for name, value in per_test.items()}
    both = media_transform(spec, jnp.concatenate([changed, base], axis=1), per_test)
    increment = both[:, :n_tests] - both[:, n_tests:]
    per_geo = jnp.einsum("tkg,kt->kg", increment, tests.window) * coef[channel]
    return (per_geo * tests.weights).sum(axis=1)


def _adstock_lift(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    coef: jax.Array,
    tests: LiftTestInputs,
) -> jax.Array:
    """:func:`lift_test_effects` for the adstock models, without a scan.

    Unnormalised adstock ``a_t = x_t + w a_{t-1}`` is, over a test's
    window from ``start``, ``a_{start+i} = w**(i+1) a_{start-1} +
    sum_{j<=i} w**(i-j) x_{start+j}``, and ``a_{start-1} = sum_j w**j
    history[j]``: a dot product over the history and a small (window x
    window) product, where a second scan over the whole timeline made each
    sampler step 1.8 times slower (benchmarks/bench_calibration.py).
    ``params`` are the tests' channels' transform parameters, ``coef`` their
    coefficients (n_padded, n_geos).
    """
    lag = params["lag_weight"]  # (n_padded,)
    n_times, n_window = tests.history.shape[1], tests.window_mask.shape[1]
    log_lag = jnp.log(lag)[:, None]
    before = jnp.einsum(
        "kj,kjg->kg",
        jnp.exp(log_lag * jnp.arange(n_times, dtype=lag.dtype)),
        tests.history,
    )
    steps = jnp.arange(n_window, dtype=lag.dtype)
    gap = steps[:, None] - steps[None, :]
    kernel = jnp.where(
        gap >= 0, jnp.exp(log_lag[:, :, None] * jnp.maximum(gap, 0.0)), 0.0
    )  # (n_padded, n_window, n_window)
    base = jnp.exp(log_lag * (steps + 1))[:, :, None] * before[:, None, :]
    base = base + jnp.einsum("kij,kjg->kig", kernel, tests.window_media)
    changed = base + jnp.einsum("kij,kjg->kig", kernel, tests.window_delta)
    normalise = (1 - lag)[:, None, None]
    # (n_window, 2 * n_padded, n_geos): the tests as channels of the shape.
    lagged = jnp.moveaxis(
        jnp.concatenate([changed, base], axis=0) * jnp.tile(normalise, (2, 1, 1)),
        0,
        1,
    )
    shaped = _media_shape(
        spec, lagged, {name: jnp.tile(value, 2) for name, value in params.items()}
    )
    n_tests = lag.shape[0]
    increment = (
        shaped[:, :n_tests] - shaped[:, n_tests:]
    )  # (n_window, n_padded, n_geos)
    per_geo = jnp.einsum("ikg,ki->kg", increment, tests.window_mask) * coef
    return (per_geo * tests.weights).sum(axis=1)


def lift_test_likelihood(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    tests: LiftTestInputs | None,
) -> None:
    """Add ``lift ~ Normal(model's lift, lift_sd)`` per test (nothing when None)."""
    if tests is None:
        return
    predicted = lift_test_effects(spec, params, media, tests)
    log_density = dist.Normal(predicted, tests.lift_sd).log_prob(tests.lift)
    numpyro.factor("lift_tests", (log_density * tests.valid).sum())


# --------------------------------------------------------------------- geo
#
# Geo shapes: ``media`` (n_times, n_channels, n_geos), ``extra_features``
# (n_times, n_extra, n_geos), ``target`` (n_times, n_geos); each geo's media,
# controls and KPI are scaled by their own means.

COEF_MEDIA_RAW = "coef_media_raw"


@dataclass(frozen=True)
class GeoModelSpec(ModelSpec):
    """Static description of a geo (hierarchical) model.

    Parameters
    ----------
    noncentred_media : bool
        Sample each geo's media coefficient as ``channel_coef_media`` times a
        HalfNormal(1) draw (``coef_media_raw``) instead of drawing it from
        HalfNormal(``channel_coef_media``) directly: the same prior, without
        the funnel between a channel's national coefficient and its geo
        coefficients (see :func:`geo_model`).
    seasonality_amplitude : bool
        Sample each geo's seasonality amplitude rather than its scale
        (:func:`_sample_geo_seasonality`).
    level_log_ratios : bool
        Sample each geo's level and its channels' log ratios to the intercept,
        partially non-centred by the ``media_noncentring`` model input
        (:func:`_sample_geo_level_log_ratios`); needs positive priors on the
        intercept and the channels' hyper coefficients.
    sheared_roi : bool
        Sample each channel's ROI sheared towards its marginal ROI by the
        ``roi_shear`` model input (:func:`_sample_channel_roi`); needs a
        ``channel_roi`` prior with positive support.
    geo_mean_scaling : bool
        Sample the per-geo coordinates with their mean over geos scaled by
        the ``geo_mean_scale`` model input (:func:`scale_geo_means`);
        needs ``level_log_ratios`` and a ``coef_trend`` prior with real
        support.
    """

    noncentred_media: bool = False
    seasonality_amplitude: bool = False
    level_log_ratios: bool = False
    sheared_roi: bool = False
    geo_mean_scaling: bool = False


LOG_SEASONALITY_AMPLITUDE = "log_seasonality_amplitude"
LOG_LEVEL, LEVEL_LOG_RATIOS = "log_level", "level_log_ratios"
GEO_MEAN_SCALED_TREND = "geo_mean_scaled_coef_trend"
# Rows of the ``geo_mean_scale`` model input (:func:`scale_geo_means`):
# each geo's level, log seasonality amplitude and trend coefficient, then
# each channel's log ratios.
_LEVEL_ROW, _AMPLITUDE_ROW, _TREND_ROW, _FIRST_RATIO_ROW = 0, 1, 2, 3
N_GEO_MEAN_SITE_ROWS = _FIRST_RATIO_ROW
# The smallest scale chosen: a mean over geos that moves 20 times more than
# the geos' own spread allows for.
MIN_GEO_MEAN_SCALE = 0.05


def _sample_flat(name: str, shape: tuple[int, ...]) -> jax.Array:
    """A site with a flat (improper) base measure; the model adds its density."""
    return numpyro.sample(name, dist.ImproperUniform(dist.constraints.real, (), shape))


def unscaled_geo_means(sampled: jax.Array, scale: jax.Array) -> jax.Array:
    """Per-geo values (geos on the last axis) from coordinates whose mean over
    geos is ``scale`` times theirs: ``sampled + (1 / scale - 1) * mean``."""
    return sampled + (1 / scale - 1) * sampled.mean(axis=-1, keepdims=True)


def scaled_geo_means(values: jax.Array, scale: jax.Array) -> jax.Array:
    """The inverse of :func:`unscaled_geo_means`."""
    return values - (1 - scale) * values.mean(axis=-1, keepdims=True)


def geo_mean_scaled_sites(
    spec: GeoModelSpec, geo_mean_scale: jax.Array
) -> dict[str, jax.Array]:
    """Each site whose geo mean the sampler scales, with its scale (broadcastable)."""
    if not spec.geo_mean_scaling:
        return {}
    sites = {
        LOG_LEVEL: geo_mean_scale[_LEVEL_ROW],
        GEO_MEAN_SCALED_TREND: geo_mean_scale[_TREND_ROW],
        LEVEL_LOG_RATIOS: geo_mean_scale[_FIRST_RATIO_ROW:, None],
    }
    if spec.seasonality_amplitude:
        sites[LOG_SEASONALITY_AMPLITUDE] = geo_mean_scale[_AMPLITUDE_ROW]
    return sites


def _sample_geo_seasonality(
    spec: GeoModelSpec,
    priors: Mapping[str, dist.Distribution],
    geo_mean_scale: jax.Array,
) -> dict[str, jax.Array]:
    """Sample the shared seasonality shape and each geo's seasonality scale.

    Only ``gamma_seasonality * coef_seasonality[g]`` enters the likelihood,
    so scaling the shape up and every geo's scale down by the same factor
    leaves it unchanged: a curved ridge that the data do not resolve. With
    ``spec.seasonality_amplitude`` the sampler moves each geo's amplitude
    ``coef_seasonality[g] * |gamma_seasonality|`` (which the data fix)
    instead of ``coef_seasonality[g]``; the ridge becomes the straight ray
    of ``gamma_seasonality``'s norm. Same priors: the density of
    ``coef_seasonality`` is added at the implied value with the log Jacobian
    ``-n_geos * log|gamma_seasonality|``. The sampler moves the log
    amplitudes with their mean over geos scaled (:func:`scale_geo_means`).
    """
    gamma = numpyro.sample("gamma_seasonality", priors["gamma_seasonality"])
    scale_prior = priors["coef_seasonality"]
    if not spec.seasonality_amplitude:
        return {
            "gamma_seasonality": gamma,
            "coef_seasonality": numpyro.sample("coef_seasonality", scale_prior),
        }
    n_geos = scale_prior.batch_shape[-1]
    log_amplitude = unscaled_geo_means(
        _sample_flat(LOG_SEASONALITY_AMPLITUDE, (n_geos,)),
        geo_mean_scale[_AMPLITUDE_ROW],
    )
    norm = jnp.sqrt(jnp.sum(gamma**2))
    coef_seasonality = numpyro.deterministic(
        "coef_seasonality", jnp.exp(log_amplitude) / norm
    )
    numpyro.factor(
        "seasonality_prior",
        scale_prior.log_prob(coef_seasonality).sum()
        - n_geos * jnp.log(norm)
        + log_amplitude.sum(),
    )
    return {"gamma_seasonality": gamma, "coef_seasonality": coef_seasonality}


def geo_site_shapes(
    spec: ModelSpec,
    n_channels: int,
    n_extra: int,
    n_geos: int,
    *,
    roi_prior: bool = False,
) -> dict[str, tuple]:
    """Shape of every site of the geo model that takes a prior from ``custom_priors``.

    ``coef_media`` is not among them: its prior is HalfNormal around
    ``channel_coef_media``, whose prior users override, or, with
    ``roi_prior``, which follows from each channel's ROI ``channel_roi``.
    """
    shapes: dict[str, tuple] = {
        "intercept": (n_geos,),
        "coef_trend": (n_geos,),
        "expo_trend": (),
        "sigma": (n_geos,),
        "gamma_seasonality": (spec.degrees_seasonality, 2),
        "coef_seasonality": (n_geos,),
    }
    if spec.baseline == "spline":
        shapes[BASELINE_SCALE] = ()
    if spec.weekday_seasonality:
        shapes["weekday"] = (WEEKDAYS,)
    if n_extra:
        shapes["coef_extra_features"] = (n_extra, n_geos)
    shapes[CHANNEL_ROI if roi_prior else CHANNEL_COEF_MEDIA] = (n_channels,)
    for name in MEDIA_TRANSFORM_PRIORS[spec.model_name]:
        shapes[name] = (n_channels,)
    return shapes


SHEARED_LOG_ROI = "sheared_log_roi"


def log_elasticity_at_average(
    spec: ModelSpec, params: Mapping[str, jax.Array]
) -> jax.Array:
    """Log elasticity of each channel's response at average media, in steady state.

    ``d log(response) / d log(media)`` at media 1 (their mean on the
    internal scale): ``slope * (1 - hill(1))`` for "hill_adstock" and the
    exponent for the other models.
    """
    if spec.model_name == "hill_adstock":
        slope = params["slope"]
        half_max = params["half_max_effective_concentration"]
        return jnp.log(slope) + jax.nn.log_sigmoid(slope * jnp.log(half_max))
    return jnp.log(params["exponent"])


def log_lag_gain(spec: ModelSpec, params: Mapping[str, jax.Array]) -> jax.Array:
    """Log of how much each channel's lag keeps of its spend's variation.

    The root sum of squares of the lag's (normalised) weights: the standard
    deviation of the lagged output for uncorrelated unit input.
    ``sqrt((1 - lag) / (1 + lag))`` for adstock.
    """
    if spec.model_name in ("adstock", "hill_adstock"):
        lag_weight = params["lag_weight"]
        return 0.5 * (jnp.log1p(-lag_weight) - jnp.log1p(lag_weight))
    retention = params["ad_effect_retention_rate"]
    lags = jnp.arange(CARRYOVER_LAGS, dtype=retention.dtype)[:, None]
    log_weights = (lags - params["peak_effect_delay"]) ** 2 * jnp.log(retention)
    log_weights = log_weights - jax.nn.logsumexp(log_weights, axis=0)
    return 0.5 * jax.nn.logsumexp(2 * log_weights, axis=0)


def log_spend_sensitivity(
    spec: ModelSpec, params: Mapping[str, jax.Array]
) -> jax.Array:
    """Log of how far each channel's contribution follows its spend's variation.

    The elasticity at average spend times the lag's gain
    (:func:`log_elasticity_at_average`, :func:`log_lag_gain`): for spend
    that varies a little around its average, the contribution varies by the
    effect at average spend times this times the spend's relative variation.
    """
    return log_elasticity_at_average(spec, params) + log_lag_gain(spec, params)


def _sample_channel_roi(
    spec: GeoModelSpec,
    priors: Mapping[str, dist.Distribution],
    params: Mapping[str, jax.Array],
    roi_shear: jax.Array,
) -> jax.Array:
    """Sample each channel's ROI at average spend, sheared towards its marginal ROI.

    With ``spec.sheared_roi`` the sampler moves ``log(channel_roi) + j *
    log(sensitivity)`` (:func:`log_spend_sensitivity`) with ``j =
    roi_shear`` in [0, 1]. At ``j = 1`` that is the log of the marginal ROI
    at average spend times the lag's gain, which is what the data fix for a
    channel whose spend barely varies: they see how its contribution moves
    with spend, so its ROI, its curve's slope and its lag trade off along a
    ridge in the ROI's coordinates and not in these. A channel whose spend
    varies a lot pins its ROI itself (``j = 0``). The sampler picks ``j``
    per channel during warm-up (:func:`choose_roi_shear`). Every ``j`` gives
    the same posterior: the map to ``(log ROI, transform parameters)`` is a
    shear (determinant 1), so the ROI's prior density is added at the
    implied value with its own log Jacobian ``log roi``.
    """
    prior = priors[CHANNEL_ROI]
    if not spec.sheared_roi:
        return numpyro.sample(CHANNEL_ROI, prior)
    sheared = _sample_flat(SHEARED_LOG_ROI, roi_shear.shape)
    log_roi = sheared - roi_shear * log_spend_sensitivity(spec, params)
    roi = numpyro.deterministic(CHANNEL_ROI, jnp.exp(log_roi))
    numpyro.factor("channel_roi_prior", prior.log_prob(roi).sum() + log_roi.sum())
    return roi


def _channel_coef_media(
    spec: GeoModelSpec,
    priors: Mapping[str, dist.Distribution],
    params: Mapping[str, jax.Array],
    inputs: ModelInputs,
) -> jax.Array:
    """Sample each channel's hyper coefficient (after the transform parameters).

    With a ``channel_roi`` prior, ``channel_coef_media = channel_roi *
    media_prior / response_at_average``: ``media_prior`` is then the
    channel's cost per period on the internal KPI scale, so a geo whose
    coefficient is at the hyper scale has that ROI at average spend.
    """
    media_prior = inputs.media_prior
    if CHANNEL_ROI in priors:
        roi = _sample_channel_roi(spec, priors, params, inputs.roi_shear)
        return numpyro.deterministic(
            CHANNEL_COEF_MEDIA, roi * media_prior / response_at_average(spec, params)
        )
    prior = priors.get(CHANNEL_COEF_MEDIA) or dist.HalfNormal(media_prior)
    return numpyro.sample(CHANNEL_COEF_MEDIA, prior)


def _sample_geo_priors(
    spec: GeoModelSpec, priors: Mapping[str, dist.Distribution], inputs: ModelInputs
) -> dict[str, jax.Array]:
    """Every shared and per-geo parameter except the level (intercept, coef_media)."""
    geo_mean_scale = inputs.geo_mean_scale
    params = _sample_geo_seasonality(spec, priors, geo_mean_scale)
    if spec.geo_mean_scaling:
        trend_prior = priors["coef_trend"]
        params["coef_trend"] = numpyro.deterministic(
            "coef_trend",
            unscaled_geo_means(
                _sample_flat(GEO_MEAN_SCALED_TREND, trend_prior.batch_shape),
                geo_mean_scale[_TREND_ROW],
            ),
        )
        numpyro.factor(
            "coef_trend_prior", trend_prior.log_prob(params["coef_trend"]).sum()
        )
    skipped = {"intercept", CHANNEL_COEF_MEDIA, CHANNEL_ROI, *params}
    params.update(
        {
            name: numpyro.sample(name, prior)
            for name, prior in priors.items()
            if name not in skipped
        }
    )
    params[CHANNEL_COEF_MEDIA] = _channel_coef_media(spec, priors, params, inputs)
    return params


def geo_mean_components(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    extra_features: jax.Array,
    time_index: jax.Array,
    transformed: jax.Array | None = None,
) -> dict[str, jax.Array]:
    """Every additive part of the expected KPI of every geo for one draw.

    ``transformed`` (optional) is ``media_transform(spec, media, params)``
    when the caller has it already: the model computes it once for the
    sampler's coordinates and the likelihood.

    Returns
    -------
    dict
        ``media`` (n_times, n_channels, n_geos): contribution of each channel
        in each geo; ``intercept``, ``trend``, ``seasonality``,
        ``extra_features`` (the controls summed), ``weekday`` when used, and
        ``mu``, the expected KPI: each (n_times, n_geos).
    """
    n_times, _, n_geos = media.shape
    time_index = jnp.asarray(time_index, dtype=media.dtype)
    seasonality = transforms.seasonality_from_terms(
        transforms.fourier_terms(
            time_index, spec.degrees_seasonality, spec.seasonality_frequency
        ),
        params["gamma_seasonality"],
    )
    parts: dict[str, jax.Array] = {
        "intercept": jnp.broadcast_to(params["intercept"], (n_times, n_geos)),
        "trend": trend_time(spec, params["expo_trend"], time_index)[:, None]
        * params["coef_trend"],
        "seasonality": seasonality[:, None] * params["coef_seasonality"],
    }
    if spec.baseline == "spline":
        parts["level"] = spline_level(spec, params, time_index)
    if "coef_extra_features" in params:
        parts["extra_features"] = jnp.einsum(
            "tfg,fg->tg", extra_features, params["coef_extra_features"]
        )
    if spec.weekday_seasonality:
        weekday = params["weekday"][time_index.astype(jnp.int32) % WEEKDAYS]
        parts["weekday"] = jnp.broadcast_to(weekday[:, None], (n_times, n_geos))
    baseline = sum(parts.values())
    if transformed is None:
        transformed = media_transform(spec, media, params)
    parts["media"] = transformed * params[COEF_MEDIA]
    parts["mu"] = baseline + jnp.einsum("tcg,cg->tg", transformed, params[COEF_MEDIA])
    return parts


def panel_mean_components(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    extra_features: jax.Array,
    time_index: jax.Array,
    rows: jax.Array | slice | None = None,
) -> dict[str, jax.Array]:
    """:func:`mean_components` or :func:`geo_mean_components` on a panel.

    A national model is a panel of one geo: ``media`` (n_times, n_channels,
    n_geos) and ``extra_features`` (n_times, n_extra, n_geos) with
    ``n_geos = 1``. The spec's type chooses the model.

    Returns
    -------
    dict
        ``media`` (n_rows, n_channels, n_geos) and every other part
        (n_rows, n_geos), at the periods ``rows`` (every period when None).
    """
    if isinstance(spec, GeoModelSpec):
        parts = geo_mean_components(spec, params, media, extra_features, time_index)
        if rows is None:
            return parts
        return {name: value[rows] for name, value in parts.items()}
    parts = mean_components(
        spec, params, media[:, :, 0], extra_features[:, :, 0], time_index, rows
    )
    return {name: value[..., None] for name, value in parts.items()}


def log_media_variation(transformed: jax.Array, at_average: jax.Array) -> jax.Array:
    """Log of each geo's spread of transformed media over time, (n_channels, n_geos).

    The standard deviation over periods of ``transformed[:, c, g] /
    response_at_average[c]``: a geo's effect at average spend times this is
    the size of the channel's week-to-week contribution, which is what the
    data see of it. A tiny floor keeps the log finite for constant media.
    """
    relative = transformed / at_average[:, None]
    # Means over time as dot products, as in mean_components. Two passes: in
    # float32, mean(x**2) - mean(x)**2 loses the variance of slowly varying
    # media to rounding, and its noise would reach the sampler's gradient.
    weights = jnp.full(transformed.shape[0], 1.0 / transformed.shape[0])
    mean = jnp.einsum("t,tcg->cg", weights, relative)
    variance = jnp.einsum("t,tcg->cg", weights, (relative - mean) ** 2)
    return 0.5 * jnp.log(variance + 1e-8)


def level_log_ratio_shift(
    params: Mapping[str, jax.Array],
    geo_prior_weights: jax.Array,
    at_average: jax.Array,
    variation: jax.Array,
) -> jax.Array:
    """Prior location of each geo's variation log ratio, (n_channels, n_geos).

    The log prior scale of the effect at average spend (``coef_media *
    response_at_average``, with ``coef_media[c, g] ~
    HalfNormal(channel_coef_media[c] * geo_prior_weights[c, g])``) plus the
    geo's ``variation`` (:func:`log_media_variation`): the log of
    ``channel_coef_media * geo_prior_weights * response_at_average *
    exp(variation)``, where the hierarchy centres the log of the effect
    times the spread. ``at_average`` is :func:`response_at_average`.
    """
    prior_scale = (
        params[CHANNEL_COEF_MEDIA][:, None] * geo_prior_weights * at_average[:, None]
    )
    return jnp.log(prior_scale) + variation


def level_log_ratio_terms(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    geo_prior_weights: jax.Array,
    media: jax.Array,
) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    """One draw's response at average spend, transformed media, variation and shift.

    The shift is :func:`level_log_ratio_shift`; the model, the warm-up
    statistics and the coordinate move all need it from the same draw.
    """
    at_average = response_at_average(spec, params)  # (n_channels,)
    transformed = media_transform(spec, media, params)
    variation = log_media_variation(transformed, at_average)
    shift = level_log_ratio_shift(params, geo_prior_weights, at_average, variation)
    return at_average, transformed, variation, shift


# How far each geo's log ratios are taken relative to the level rather than
# the intercept (see _sample_geo_level_log_ratios); below 1, so that every
# point of the sampler's space is a valid split of the level.
LEVEL_REFERENCE = 0.9
_SHARE_NEWTON_STEPS = 12


def _log_intercept_share(log_scaled: jax.Array, reference: float) -> jax.Array:
    """Each geo's ``x = log(intercept / level)``, shape (n_geos,).

    ``x`` solves ``exp(x) + sum_c exp(log_scaled[c] + (1 - reference) * x) =
    1``. The left side is increasing and convex in ``x``, so Newton's steps
    from a point at or right of the root fall monotonically onto it. They
    run without gradients; one more step with them gives the derivatives of
    the root (at the root, a Newton step's derivatives are the implicit
    function's).
    """
    keep = 1.0 - reference

    def newton_step(x, log_scaled):
        terms = jnp.exp(log_scaled + keep * x)
        value = jnp.exp(x) + terms.sum(axis=0) - 1.0
        slope = jnp.exp(x) + keep * terms.sum(axis=0)
        return x - value / slope

    frozen = jax.lax.stop_gradient(log_scaled)
    # Both starts are at or right of the root: the first solves the equation
    # without the intercept's term, the second with reference = 0.
    x = jnp.minimum(
        -jax.nn.logsumexp(frozen, axis=0) / keep,
        -jax.nn.logsumexp(
            jnp.concatenate([jnp.zeros_like(frozen[:1]), frozen]), axis=0
        ),
    )
    for _ in range(_SHARE_NEWTON_STEPS):
        x = newton_step(x, frozen)
    return newton_step(jax.lax.stop_gradient(x), log_scaled)


def _sample_geo_level_log_ratios(
    spec: GeoModelSpec, priors: Mapping[str, dist.Distribution], inputs: ModelInputs
) -> tuple[dict[str, jax.Array], jax.Array]:
    """Sample every parameter, each geo's level split by log ratios.

    Per geo the sampler moves ``log(level[g]) + coef_trend[g] *
    mean_t(trend_time)``, where ``level`` is the intercept plus every
    channel's effect at average spend. A geo's level is near 1 on the
    internal scale, so this is about the log of the level plus the geo's
    trend at its training mean: the geo's mean KPI, which the data fix. The
    level alone moves with ``expo_trend``, which sets the trend's mean, in
    every geo at once. Per channel it moves ``v[c, g]``, with, for ``r =
    LEVEL_REFERENCE``,

        log(effect[c, g] / intercept[g]) + r * log(intercept[g] / level[g])
            + variation[c, g] = v[c, g] + k[c, g] * shift[c, g]

    where ``variation`` is :func:`log_media_variation`, ``shift`` the prior
    location of the left side (:func:`level_log_ratio_shift`) and ``k =
    inputs.media_noncentring`` in [0, 1]. With ``k = 0`` a geo's effects stay put
    when their channel's hyper coefficient moves (a centred hierarchy, right
    when the data fix each geo's effect); with ``k = 1`` they move with it
    (non-centred, right when the data say little about each geo's effect, as
    for an always-on channel: its hyper coefficient then moves without
    dragging 50 coefficients along). The sampler picks ``k`` per channel
    during warm-up (:func:`choose_media_noncentring`).

    ``variation`` makes the centred coordinate the size of the channel's
    week-to-week contribution, which the data fix, rather than its effect at
    average spend, which moves with the transform's shape: for a flighted
    channel on a Hill curve the effect at average spend that fits the data
    changes with the Hill slope and half-saturation, and every geo's ``v``
    had to move with them. It depends on the transform parameters only, so
    the map keeps its Jacobian.

    ``r`` takes the effects mostly relative to the level, which the data
    fix, rather than to the intercept, which moves whenever the weakly
    identified channels' effects do: at ``r = 0`` (log ratios to the
    intercept) a shift of the level's split between the intercept and those
    channels moved every geo's ``v`` of every channel at once, the slowest
    direction of the posterior. ``r < 1`` keeps every point of the sampler's
    space a valid split (a positive intercept): the intercept's share solves
    :func:`_log_intercept_share`.

    Every ``k`` gives the same posterior: the densities of ``intercept``
    and of ``coef_media`` given ``channel_coef_media`` (the centred
    hierarchy) are added at the implied values with the log Jacobian
    ``log(intercept) + sum_c log(effect[c]) - sum_c log(response_at_average[c])
    - log(1 - r * sum_c effect[c] / level)`` per geo (the last term is the
    map from ``(log_level, v)`` to the log intercept and log effects; the
    trend's shift of ``log_level`` depends on other sites only, so it adds
    nothing).

    Returns the parameters and the transformed media, which the likelihood
    reuses.
    """
    geo_prior_weights, geo_mean_scale = inputs.geo_prior_weights, inputs.geo_mean_scale
    n_channels, n_geos = geo_prior_weights.shape
    log_level = unscaled_geo_means(
        _sample_flat(LOG_LEVEL, (n_geos,)), geo_mean_scale[_LEVEL_ROW]
    )
    ratios = unscaled_geo_means(
        _sample_flat(LEVEL_LOG_RATIOS, (n_channels, n_geos)),
        geo_mean_scale[_FIRST_RATIO_ROW:, None],
    )
    params = _sample_geo_priors(spec, priors, inputs)
    # The sampler's level also holds each geo's trend at its training mean
    # (item 8 in docs/model.md); the shift depends on other sites only, so
    # the map's Jacobian is unchanged.
    trend_mean = trend_time(spec, params["expo_trend"], inputs.time_index).mean()
    log_level = log_level - params["coef_trend"] * trend_mean
    at_average, transformed, variation, shift = level_log_ratio_terms(
        spec, params, geo_prior_weights, inputs.media
    )
    log_scaled = ratios + inputs.media_noncentring * shift - variation
    log_share = _log_intercept_share(log_scaled, LEVEL_REFERENCE)
    log_intercept = log_level + log_share
    log_ratio = log_scaled - LEVEL_REFERENCE * log_share
    log_effect = log_intercept + log_ratio
    effect_share = jnp.exp(log_effect - log_level)
    intercept = numpyro.deterministic("intercept", jnp.exp(log_intercept))
    coef_media = numpyro.deterministic(
        COEF_MEDIA, jnp.exp(log_effect) / at_average[:, None]
    )
    coef_prior = dist.HalfNormal(
        params[CHANNEL_COEF_MEDIA][:, None] * geo_prior_weights
    )
    numpyro.factor(
        "level_prior",
        priors["intercept"].log_prob(intercept).sum()
        + coef_prior.log_prob(coef_media).sum()
        + log_intercept.sum()
        + log_effect.sum()
        - n_geos * jnp.log(at_average).sum()
        - jnp.log1p(-(LEVEL_REFERENCE * effect_share).sum(axis=0)).sum(),
    )
    return {**params, "intercept": intercept, COEF_MEDIA: coef_media}, transformed


def geo_model(
    inputs: ModelInputs,
    *,
    spec: GeoModelSpec,
    priors: Mapping[str, dist.Distribution | None],
) -> None:
    """LightweightMMM's geo model: ``target[:, g] ~ Normal(mu[:, g], sigma[g])``.

    ``channel_coef_media[c] ~ HalfNormal(media_prior[c])`` and
    ``coef_media[c, g] ~ HalfNormal(channel_coef_media[c] *
    geo_prior_weights[c, g])``; intercept, trend coefficient, seasonality
    scale (``coef_seasonality``) and noise per geo; transform parameters,
    ``expo_trend`` and the seasonality's shape (``gamma_seasonality``)
    shared; control coefficients per (control, geo). With a
    ``channel_roi`` prior in ``priors`` (skmmm's default), the hyper
    coefficient follows from each channel's ROI at average spend instead
    (:func:`_channel_coef_media`).

    With ``spec.noncentred_media`` the geo coefficients are
    ``channel_coef_media[c] * geo_prior_weights[c, g] * coef_media_raw[c, g]``
    with ``coef_media_raw ~ HalfNormal(1)``: the same distribution (a
    HalfNormal's scale multiplies a HalfNormal(1) draw), sampled in
    coordinates where the geo coefficients do not shrink with the national
    one, which removes the funnel of a centred hierarchy when the data say
    little about each geo. With ``spec.level_log_ratios`` (skmmm's default)
    the sampler moves each geo's level and partially non-centred log ratios
    instead (:func:`_sample_geo_level_log_ratios`).

    Parameters
    ----------
    inputs : ModelInputs
        The data with the geo model's fields: ``media`` (n_times,
        n_channels, n_geos), ``extra_features`` (n_times, n_extra, n_geos),
        ``target`` and ``target_mask`` (n_times, n_geos). ``media_prior``
        is the scale of the default HalfNormal prior of
        ``channel_coef_media``; with a ``channel_roi`` prior, each channel's
        cost per period on the internal KPI scale, averaged over geos.
    spec : GeoModelSpec
        The model's static description.
    priors : dict
        Site name -> prior, from :func:`skmmm.priors.resolve_priors` over
        :func:`geo_site_shapes`.
    """
    media, geo_prior_weights = inputs.media, inputs.geo_prior_weights
    transformed = None
    if spec.level_log_ratios:
        params, transformed = _sample_geo_level_log_ratios(spec, priors, inputs)
    else:
        params = _sample_geo_priors(spec, priors, inputs)
        params["intercept"] = numpyro.sample("intercept", priors["intercept"])
        scale = params[CHANNEL_COEF_MEDIA][:, None] * geo_prior_weights
        if spec.noncentred_media:
            raw = numpyro.sample(
                COEF_MEDIA_RAW, dist.HalfNormal(jnp.ones_like(geo_prior_weights))
            )
            params[COEF_MEDIA] = numpyro.deterministic(COEF_MEDIA, scale * raw)
        else:
            params[COEF_MEDIA] = numpyro.sample(COEF_MEDIA, dist.HalfNormal(scale))
    if spec.geo_mean_scaling:
        # Constant while sampling; it makes the density the exact image of
        # the model's for every scale.
        scales = geo_mean_scaled_sites(spec, inputs.geo_mean_scale)
        numpyro.factor(
            "geo_mean_scale_jacobian",
            -sum(jnp.log(scale).sum() for scale in scales.values()),
        )
    params = sample_baseline_steps(spec, params, (media.shape[2],))
    mu = geo_mean_components(
        spec, params, media, inputs.extra_features, inputs.time_index, transformed
    )["mu"]
    _observe(dist.Normal(mu, params["sigma"]), inputs.target, inputs.target_mask)
    lift_test_likelihood(spec, params, media, inputs.lift_tests)


def _observe(
    likelihood: dist.Distribution, target: jax.Array | None, mask: jax.Array | None
) -> None:
    """The KPI's site; ``mask`` (bool) leaves the False cells out of the density."""
    if mask is None:
        numpyro.sample("target", likelihood, obs=target)
        return
    with numpyro.handlers.mask(mask=mask):
        numpyro.sample("target", likelihood, obs=target)
