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

from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpyro
from numpyro import distributions as dist

from skmmm import transforms
from skmmm.priors import COEF_MEDIA, MEDIA_TRANSFORM_PRIORS

__all__ = [
    "MODEL_NAMES",
    "ModelSpec",
    "mean_components",
    "media_transform",
    "national_model",
    "site_shapes",
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
    normalise_hill : bool
        Divide the Hill curve by its value at the average media level (1 on
        the internal scale), so ``coef_media`` is the effect at average spend
        rather than the saturation level.
    simplex_level : bool
        Sample ``intercept`` and ``coef_media`` as a total level times shares
        on a simplex (same priors, same posterior; see :func:`national_model`).
    """

    model_name: str
    degrees_seasonality: int = 2
    seasonality_frequency: float = 52.0
    weekday_seasonality: bool = False
    trend_time_scale: float = 1.0
    normalise_hill: bool = False
    simplex_level: bool = False


def site_shapes(spec: ModelSpec, n_channels: int, n_extra: int) -> dict[str, tuple]:
    """Shape of every sample site of the national model, in sampling order."""
    shapes: dict[str, tuple] = {
        "intercept": (),
        "coef_trend": (),
        "expo_trend": (),
        "sigma": (),
        "gamma_seasonality": (spec.degrees_seasonality, 2),
    }
    if spec.weekday_seasonality:
        shapes["weekday"] = (WEEKDAYS,)
    if n_extra:
        shapes["coef_extra_features"] = (n_extra,)
    shapes[COEF_MEDIA] = (n_channels,)
    for name in MEDIA_TRANSFORM_PRIORS[spec.model_name]:
        shapes[name] = (n_channels,)
    return shapes


def media_transform(
    spec: ModelSpec, media: jax.Array, params: Mapping[str, jax.Array]
) -> jax.Array:
    """Apply the model's media transform (before the media coefficients)."""
    if spec.model_name == "adstock":
        adstocked = transforms.adstock(media, params["lag_weight"])
        return transforms.apply_exponent_safe(adstocked, params["exponent"])
    if spec.model_name == "hill_adstock":
        adstocked = transforms.adstock(media, params["lag_weight"])
        half_max = params["half_max_effective_concentration"]
        slope = params["slope"]
        saturated = transforms.hill(adstocked, half_max, slope)
        if spec.normalise_hill:
            at_average = transforms.hill(jnp.ones_like(half_max), half_max, slope)
            saturated = saturated / at_average
        return saturated
    if spec.model_name == "carryover":
        carried = transforms.carryover(
            media,
            params["ad_effect_retention_rate"],
            params["peak_effect_delay"],
            number_lags=CARRYOVER_LAGS,
        )
        return transforms.apply_exponent_safe(carried, params["exponent"])
    raise ValueError(
        f"Unknown model {spec.model_name!r}; expected one of {MODEL_NAMES}."
    )


def mean_components(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    media: jax.Array,
    extra_features: jax.Array,
    time_index: jax.Array,
) -> dict[str, jax.Array]:
    """Every additive part of the expected KPI for one parameter draw.

    Returns
    -------
    dict
        ``media`` (n_times, n_channels): contribution of each channel;
        ``intercept``, ``trend``, ``seasonality``, ``extra_features`` (each
        (n_times,), the controls summed), ``weekday`` when used, and ``mu``,
        the expected KPI (n_times,): their sum.
    """
    n_times = media.shape[0]
    time_index = jnp.asarray(time_index, dtype=media.dtype)
    trend_time = time_index / spec.trend_time_scale
    parts: dict[str, jax.Array] = {
        "intercept": jnp.broadcast_to(params["intercept"], (n_times,)),
        "trend": params["coef_trend"]
        * transforms.apply_exponent_safe(trend_time, params["expo_trend"]),
        "seasonality": transforms.seasonality_from_terms(
            transforms.fourier_terms(
                time_index, spec.degrees_seasonality, spec.seasonality_frequency
            ),
            params["gamma_seasonality"],
        ),
    }
    if "coef_extra_features" in params:
        parts["extra_features"] = extra_features @ params["coef_extra_features"]
    if spec.weekday_seasonality:
        parts["weekday"] = params["weekday"][time_index.astype(jnp.int32) % WEEKDAYS]
    baseline = sum(parts.values())
    transformed = media_transform(spec, media, params)
    parts["media"] = transformed * params[COEF_MEDIA]
    # A dot product rather than parts["media"].sum(axis=1): XLA on CPU runs
    # small reductions (and their gradients) several times slower.
    parts["mu"] = baseline + transformed @ params[COEF_MEDIA]
    return parts


LEVEL_SITES = ("level", "level_shares")


def _sample_level_on_simplex(
    intercept_prior: dist.Distribution, coef_media_prior: dist.Distribution
) -> dict[str, jax.Array]:
    """Sample the intercept and media coefficients as a level split on a simplex.

    When media barely vary, the data fix ``intercept + sum(coef_media)`` tightly
    but not how it splits; in the default coordinates (each a log) that is a
    curved ridge on which NUTS needs its maximum tree depth. Sampling
    ``level = intercept + sum(coef_media)`` and the shares on a simplex makes
    the ridge a coordinate axis. The priors are unchanged: their densities
    are added at the implied values, with the Jacobian ``level ** n_channels``
    and the base densities of ``level`` and the shares removed.
    """
    n_channels = coef_media_prior.batch_shape[-1]
    level_base = dist.LogNormal(0.0, 2.0)
    level = numpyro.sample("level", level_base)
    shares = numpyro.sample(
        "level_shares", dist.Dirichlet(jnp.ones(n_channels + 1, dtype=level.dtype))
    )
    intercept = numpyro.deterministic("intercept", level * shares[0])
    coef_media = numpyro.deterministic(COEF_MEDIA, level * shares[1:])
    # Dirichlet(1, ..., 1) has a constant density on the simplex, so only the
    # level's base density needs removing.
    numpyro.factor(
        "level_prior",
        intercept_prior.log_prob(intercept)
        + coef_media_prior.log_prob(coef_media).sum()
        + n_channels * jnp.log(level)
        - level_base.log_prob(level),
    )
    return {"intercept": intercept, COEF_MEDIA: coef_media}


def national_model(
    media: jax.Array,
    extra_features: jax.Array,
    time_index: jax.Array,
    media_prior: jax.Array,
    target: jax.Array | None = None,
    *,
    spec: ModelSpec,
    priors: Mapping[str, dist.Distribution | None],
) -> None:
    """LightweightMMM's national model: ``target ~ Normal(mu, sigma)``.

    Parameters
    ----------
    media : jax.Array of shape (n_times, n_channels)
        Media on the internal scale.
    extra_features : jax.Array of shape (n_times, n_extra)
        Controls on the internal scale (n_extra may be 0).
    time_index : jax.Array of shape (n_times,)
        Period numbers.
    media_prior : jax.Array of shape (n_channels,)
        Scale of the default HalfNormal prior of ``coef_media``.
    target : jax.Array of shape (n_times,), optional
        Observed KPI on the internal scale; None to sample from the prior.
    spec : ModelSpec
        The model's static description.
    priors : dict
        Site name -> prior, from :func:`skmmm.priors.resolve_priors`.
    """
    coef_media_prior = priors[COEF_MEDIA]
    if coef_media_prior is None:
        coef_media_prior = dist.HalfNormal(media_prior)
    params = {}
    if spec.simplex_level:
        params.update(_sample_level_on_simplex(priors["intercept"], coef_media_prior))
    for name, prior in priors.items():
        if name not in params:
            prior = coef_media_prior if name == COEF_MEDIA else prior
            params[name] = numpyro.sample(name, prior)
    mu = mean_components(spec, params, media, extra_features, time_index)["mu"]
    numpyro.sample("target", dist.Normal(mu, params["sigma"]), obs=target)
