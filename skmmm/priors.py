"""Default priors per parameter name and the resolution of ``custom_priors``.

A prior is named after the model's sample site, which is also the argument
name of the transform that uses it (``lag_weight`` for :func:`adstock`,
``half_max_effective_concentration`` and ``slope`` for :func:`hill`, ...).
Users override any of them through ``custom_priors={name: value}`` where
value is a NumPyro distribution, or the parameters of the default
distribution as a dict (by name), a sequence (in order) or a single float.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import distributions as dist

__all__ = [
    "DEFAULT_PRIORS",
    "LIGHTWEIGHT_MMM_PRIORS",
    "MEDIA_TRANSFORM_PRIORS",
    "PriorSpec",
    "ROI_SITES",
    "prior_cdf",
    "prior_quantiles",
    "resolve_priors",
    "scaled_prior",
]

COEF_MEDIA = "coef_media"
# Geo models: the national (hyper) coefficient of each channel; the per-geo
# coefficients ``coef_media`` are HalfNormal around it.
CHANNEL_COEF_MEDIA = "channel_coef_media"
# skmmm's national models put the media prior on each channel's ROI at average
# spend (KPI per unit of cost) rather than on coef_media (docs/model.md).
ROI = "roi"
# The default ROI priors are relative: on each channel's ROI over the training
# data's average return (total KPI / total cost), so that they hold whatever
# the units of the KPI and of the costs (docs/model.md, item 6).
RELATIVE_ROI_LOC = float(np.log(0.2))
RELATIVE_ROI_SCALE = 0.9
# Sites whose default scale is the media prior, a model argument.
_SCALED_BY_MEDIA_PRIOR = (COEF_MEDIA, CHANNEL_COEF_MEDIA)


@dataclass(frozen=True)
class PriorSpec:
    """A distribution class and its default parameters.

    Parameters
    ----------
    distribution : type
        A ``numpyro.distributions.Distribution`` subclass.
    parameters : dict
        Keyword arguments of ``distribution``, in its signature's order.
    """

    distribution: type
    parameters: dict[str, float] = field(default_factory=dict)

    def build(self, **overrides: Any) -> dist.Distribution:
        """Instantiate the distribution, optionally overriding parameters."""
        return self.distribution(**{**self.parameters, **overrides})


# The media coefficient's scale is the (scaled) media_prior, known only at fit
# time, so its spec carries no default parameter.
LIGHTWEIGHT_MMM_PRIORS: dict[str, PriorSpec] = {
    "intercept": PriorSpec(dist.HalfNormal, {"scale": 2.0}),
    "coef_trend": PriorSpec(dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "expo_trend": PriorSpec(dist.Uniform, {"low": 0.5, "high": 1.5}),
    "sigma": PriorSpec(dist.Gamma, {"concentration": 1.0, "rate": 1.0}),
    "gamma_seasonality": PriorSpec(dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "weekday": PriorSpec(dist.Normal, {"loc": 0.0, "scale": 0.5}),
    "coef_extra_features": PriorSpec(dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "coef_seasonality": PriorSpec(dist.HalfNormal, {"scale": 0.5}),
    COEF_MEDIA: PriorSpec(dist.HalfNormal),
    CHANNEL_COEF_MEDIA: PriorSpec(dist.HalfNormal),
    "lag_weight": PriorSpec(dist.Beta, {"concentration1": 2.0, "concentration0": 1.0}),
    "exponent": PriorSpec(dist.Beta, {"concentration1": 9.0, "concentration0": 1.0}),
    "half_max_effective_concentration": PriorSpec(
        dist.Gamma, {"concentration": 1.0, "rate": 1.0}
    ),
    "slope": PriorSpec(dist.Gamma, {"concentration": 1.0, "rate": 1.0}),
    "ad_effect_retention_rate": PriorSpec(
        dist.Beta, {"concentration1": 1.0, "concentration0": 1.0}
    ),
    "peak_effect_delay": PriorSpec(dist.HalfNormal, {"scale": 2.0}),
}

# skmmm's defaults differ from LightweightMMM's where the latter keeps chains
# from converging or lets weakly identified channels absorb the baseline
# (docs/model.md explains each change).
DEFAULT_PRIORS: dict[str, PriorSpec] = {
    **LIGHTWEIGHT_MMM_PRIORS,
    "lag_weight": PriorSpec(dist.Beta, {"concentration1": 1.0, "concentration0": 3.0}),
    "slope": PriorSpec(dist.Gamma, {"concentration": 3.0, "rate": 3.0}),
    ROI: PriorSpec(
        dist.LogNormal, {"loc": RELATIVE_ROI_LOC, "scale": RELATIVE_ROI_SCALE}
    ),
    # baseline="spline": the sd of the moving level's step from one knot to
    # the next, as a fraction of the mean KPI (docs/model.md).
    "baseline_scale": PriorSpec(dist.HalfNormal, {"scale": 0.1}),
}

MEDIA_TRANSFORM_PRIORS: dict[str, tuple[str, ...]] = {
    "adstock": ("lag_weight", "exponent"),
    "hill_adstock": ("lag_weight", "half_max_effective_concentration", "slope"),
    "carryover": ("ad_effect_retention_rate", "peak_effect_delay", "exponent"),
}

# Geo models with skmmm's parametrization put the hierarchy's top on each
# channel's ROI at average spend (docs/model.md, geo section).
CHANNEL_ROI = "channel_roi"
DEFAULT_PRIORS[CHANNEL_ROI] = DEFAULT_PRIORS[ROI]
ROI_SITES = (ROI, CHANNEL_ROI)


def _spec_from_value(name: str, default: PriorSpec, value: Any) -> dist.Distribution:
    """Turn one ``custom_priors`` value into a distribution."""
    if isinstance(value, dist.Distribution):
        return value
    parameter_names = (
        list(default.parameters)
        or [
            p
            for p in inspect.signature(default.distribution).parameters
            if p not in ("validate_args", "self")
        ][:1]
    )
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - set(parameter_names))
        if unknown:
            raise ValueError(
                f"custom_priors[{name!r}] has unknown parameter(s) {unknown}; "
                f"{default.distribution.__name__} takes {parameter_names}."
            )
        return default.build(
            **{k: jnp.asarray(v, dtype=float) for k, v in value.items()}
        )
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(
        value, bool
    ):
        value = (value,)
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, str):
        values = list(value)
        if len(values) != len(parameter_names):
            raise ValueError(
                f"custom_priors[{name!r}] gives {len(values)} parameter(s) but "
                f"{default.distribution.__name__} takes {len(parameter_names)}: "
                f"{parameter_names}."
            )
        kwargs = {
            k: jnp.asarray(v, dtype=float)
            for k, v in zip(parameter_names, values, strict=True)
        }
        return default.build(**kwargs)
    raise ValueError(
        f"custom_priors[{name!r}] must be a numpyro Distribution, a dict or sequence "
        f"of {default.distribution.__name__} parameters, or a float; got "
        f"{type(value).__name__}."
    )


def resolve_priors(
    custom_priors: Mapping[str, Any] | None,
    site_shapes: Mapping[str, tuple[int, ...]],
    defaults: Mapping[str, PriorSpec] = DEFAULT_PRIORS,
) -> dict[str, dist.Distribution | None]:
    """Build the prior of every sample site of a model.

    Parameters
    ----------
    custom_priors : dict or None
        User overrides, keyed by site name.
    site_shapes : dict
        Shape of every sample site the model uses, keyed by name.
    defaults : dict of PriorSpec, default=DEFAULT_PRIORS
        The default prior of every known name.

    Returns
    -------
    dict
        Site name -> distribution whose batch shape is the site's shape.
        ``coef_media`` (and a geo model's ``channel_coef_media``) maps to None
        when not overridden: its default scale is the media prior, a model
        argument.

    Raises
    ------
    ValueError
        For a name the model does not use, a value that cannot be turned into
        a distribution, or a distribution whose shape does not fit the site.
    """
    custom_priors = dict(custom_priors or {})
    unknown = sorted(set(custom_priors) - set(site_shapes))
    if unknown:
        raise ValueError(
            f"Unknown prior name(s) {unknown} in custom_priors; this model's "
            f"parameters are {sorted(site_shapes)}."
        )
    resolved: dict[str, dist.Distribution | None] = {}
    for name, shape in site_shapes.items():
        default = defaults[name]
        if name in custom_priors:
            prior = _spec_from_value(name, default, custom_priors[name])
        elif name in _SCALED_BY_MEDIA_PRIOR:
            resolved[name] = None
            continue
        else:
            prior = default.build()
        resolved[name] = _fit_to_shape(name, prior, shape)
    return resolved


def _fit_to_shape(
    name: str, prior: dist.Distribution, shape: tuple[int, ...]
) -> dist.Distribution:
    """Expand ``prior`` to ``shape`` or say why it cannot be."""
    if prior.event_shape:
        raise ValueError(
            f"custom_priors[{name!r}] must be a univariate distribution (event "
            f"shape ()), got event shape {prior.event_shape}."
        )
    try:
        target = np.broadcast_shapes(prior.batch_shape, shape)
    except ValueError:
        target = None
    if target != tuple(shape):
        raise ValueError(
            f"custom_priors[{name!r}] has batch shape {prior.batch_shape}, which "
            f"does not fit the parameter's shape {tuple(shape)}."
        )
    return prior.expand(shape) if prior.batch_shape != tuple(shape) else prior


def _unexpanded(prior: dist.Distribution) -> dist.Distribution:
    while isinstance(prior, dist.ExpandedDistribution):
        prior = prior.base_dist
    return prior


def scaled_prior(prior: dist.Distribution, factor: float) -> dist.Distribution:
    """The distribution of ``factor * x`` for ``x ~ prior`` (``factor > 0``).

    A LogNormal stays a LogNormal (its ``loc`` moves by ``log(factor)``), so
    its density can still be drawn exactly; any other prior becomes a
    transformed distribution.
    """
    if factor == 1.0:
        return prior
    base, batch_shape = _unexpanded(prior), prior.batch_shape
    if isinstance(base, dist.LogNormal):
        loc = jnp.broadcast_to(base.loc + np.log(factor), batch_shape)
        return dist.LogNormal(loc, jnp.broadcast_to(base.scale, batch_shape))
    return dist.TransformedDistribution(
        prior, dist.transforms.AffineTransform(0.0, factor)
    )


# Draws of a prior for its quantiles when it has no closed-form ones.
_PRIOR_DRAWS = 20_000


def prior_cdf(prior: dist.Distribution, values: np.ndarray) -> np.ndarray:
    """The prior's cumulative distribution function at ``values`` (its batch shape).

    Exact where NumPyro has the cdf, else estimated from draws.
    """
    values = np.asarray(values, dtype=float)
    try:
        return np.asarray(_unexpanded(prior).cdf(jnp.asarray(values)), dtype=float)
    except NotImplementedError:
        draws = _prior_draws(prior)
        return (draws <= values).mean(axis=0)


def prior_quantiles(prior: dist.Distribution, quantiles: Sequence[float]) -> np.ndarray:
    """The prior's quantiles, shape ``(len(quantiles), *batch_shape)``.

    Exact where NumPyro has the inverse cdf, else estimated from draws.
    """
    shape = prior.batch_shape
    try:
        base = _unexpanded(prior)
        return np.stack(
            [
                np.broadcast_to(
                    np.asarray(base.icdf(jnp.full(shape, q)), dtype=float), shape
                )
                for q in quantiles
            ]
        )
    except NotImplementedError:
        return np.quantile(_prior_draws(prior), list(quantiles), axis=0)


def _prior_draws(prior: dist.Distribution) -> np.ndarray:
    return np.asarray(prior.sample(jax.random.PRNGKey(0), (_PRIOR_DRAWS,)), dtype=float)
