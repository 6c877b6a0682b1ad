"""How the geo model's sampler coordinates are chosen in warm-up.

:func:`skmmm.models.geo_model` samples per-geo parameters in coordinates
set by three of its inputs (``media_noncentring``, ``roi_shear`` and
``geo_mean_scale``); the posterior does not depend on them, the sampler's
efficiency does. During warm-up each chain measures the posterior's
statistics (``*_statistics``), chooses the settings (``choose_*``) and moves
its state to the new coordinates (:func:`move_coordinates`);
:func:`coordinate_adaptation` bundles them for :func:`skmmm._sampling.sample_nuts`.
docs/model.md (geo section) explains the choices.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

import jax
import jax.numpy as jnp

from skmmm._sampling import CoordinateAdaptation
from skmmm.models import (
    LEVEL_LOG_RATIOS,
    LEVEL_REFERENCE,
    MIN_GEO_MEAN_SCALE,
    N_GEO_MEAN_SITE_ROWS,
    SHEARED_LOG_ROI,
    GeoModelSpec,
    ModelInputs,
    ModelSpec,
    geo_mean_scaled_sites,
    level_log_ratio_terms,
    log_spend_sensitivity,
    response_at_average,
    scaled_geo_means,
    trend_time,
    unscaled_geo_means,
)
from skmmm.priors import CHANNEL_ROI, COEF_MEDIA

__all__ = [
    "INITIAL_MEDIA_NONCENTRING",
    "INITIAL_ROI_SHEAR",
    "choose_geo_mean_scale",
    "choose_media_noncentring",
    "choose_roi_shear",
    "coordinate_adaptation",
    "geo_mean_statistics",
    "level_log_ratio_statistics",
    "move_coordinates",
    "roi_shear_statistics",
    "scale_geo_means",
]

# Where each chain starts choosing how far to non-centre each channel's geo
# effects (0 centred, 1 non-centred) and how far to shear its ROI towards its
# marginal ROI (0 none, 1 all the way).
INITIAL_MEDIA_NONCENTRING = 0.5
INITIAL_ROI_SHEAR = 0.5


def scale_geo_means(
    spec: GeoModelSpec,
    unconstrained: Mapping[str, jax.Array],
    geo_mean_scale: jax.Array,
    *,
    inverse: bool = False,
) -> dict[str, jax.Array]:
    """The sampler's point with the geo means of the per-geo sites scaled.

    With ``spec.geo_mean_scaling`` the sampler moves each geo's level, log
    seasonality amplitude and trend coefficient, and each channel's log
    ratios, in coordinates whose mean over geos is ``geo_mean_scale`` times
    the mean of the model's coordinates, the deviations from it unchanged.
    With a diagonal mass matrix the sampler's scale of each per-geo value is
    about its own posterior spread; when the geos move together (the
    levels of 50 geos with a shared parameter), their mean moves several
    times more than that spread allows for along the direction of all geos
    at once, and it is the posterior's slowest direction. A ``scale`` of
    ``sqrt(spread / ((n_geos - 1) * variance of the mean))`` gives that
    direction the spread of the others (:func:`choose_geo_mean_scale`).
    The map is linear with log Jacobian ``-log(scale)`` per site (and
    channel), so every scale gives the same posterior. ``inverse`` maps the
    sampler's point back to the model's coordinates (scale 1).
    """
    transform = unscaled_geo_means if inverse else scaled_geo_means
    mapped = dict(unconstrained)
    for name, scale in geo_mean_scaled_sites(spec, geo_mean_scale).items():
        mapped[name] = transform(unconstrained[name], scale)
    return mapped


def geo_mean_statistics(
    spec: GeoModelSpec, params: Mapping[str, jax.Array], time_index: jax.Array
) -> dict[str, jax.Array]:
    """Moments of one draw for :func:`choose_geo_mean_scale`.

    ``value`` holds, per geo, the model's coordinates of the level (the log
    level plus the trend at its training mean), the log seasonality
    amplitude (zero without ``spec.seasonality_amplitude``) and the trend
    coefficient, shape (3, n_geos); ``mean`` their means over geos.
    """
    at_average = response_at_average(spec, params)
    level = params["intercept"] + (params[COEF_MEDIA] * at_average[:, None]).sum(axis=0)
    trend_mean = trend_time(spec, params["expo_trend"], time_index).mean()
    amplitude = jnp.zeros_like(level)
    if spec.seasonality_amplitude:
        norm = jnp.sqrt(jnp.sum(params["gamma_seasonality"] ** 2))
        amplitude = jnp.log(params["coef_seasonality"] * norm)
    value = jnp.stack(
        [
            jnp.log(level) + params["coef_trend"] * trend_mean,
            amplitude,
            params["coef_trend"],
        ]
    )
    mean = value.mean(axis=-1)
    return {"value": value, "value_sq": value**2, "mean": mean, "mean_sq": mean**2}


def _geo_mean_scale(
    variance_of_mean: jax.Array,
    mean_variance: jax.Array,
    n_geos: int,
    current: jax.Array,
) -> jax.Array:
    """The scale that gives the geo mean the geos' own spread; ``current``
    where the mean did not move."""
    spread = mean_variance - variance_of_mean
    moved = (variance_of_mean > 1e-12) & (spread > 0) & (n_geos > 1)
    scale = jnp.sqrt(
        jnp.where(moved, spread, 1.0)
        / jnp.where(moved, (n_geos - 1) * variance_of_mean, 1.0)
    )
    chosen = jnp.clip(scale, MIN_GEO_MEAN_SCALE, 1.0)
    return jnp.where(moved, chosen, current).astype(current.dtype)


def _variance_of_difference(
    left: jax.Array,
    right: jax.Array,
    left_sq: jax.Array,
    right_sq: jax.Array,
    product: jax.Array,
    k: jax.Array,
) -> jax.Array:
    """``Var(left - k * right)`` from the means of both, their squares and product."""
    return (
        left_sq
        - left**2
        - 2 * k * (product - left * right)
        + k**2 * (right_sq - right**2)
    )


def choose_geo_mean_scale(
    site_means: Mapping[str, jax.Array],
    ratio_means: Mapping[str, jax.Array],
    media_noncentring: jax.Array,
    current: jax.Array,
) -> jax.Array:
    """Each row's ``geo_mean_scale`` from warm-up means of the statistics.

    ``site_means`` are the means of :func:`geo_mean_statistics`,
    ``ratio_means`` those of :func:`level_log_ratio_statistics` and
    ``media_noncentring`` the ``k`` the log ratios
    will have: their coordinates ``v = ratio - k * shift`` are formed from
    the moments, so the scale fits the final coordinates. The scale is
    ``sqrt(spread / ((n_geos - 1) * variance of the mean))``, clipped to
    [MIN_GEO_MEAN_SCALE, 1], with ``spread`` the mean over geos of the
    variance of each geo's deviation from the mean (:func:`scale_geo_means`).
    """
    n_geos = site_means["value"].shape[-1]
    value_variance = site_means["value_sq"] - site_means["value"] ** 2
    chosen = _geo_mean_scale(
        site_means["mean_sq"] - site_means["mean"] ** 2,
        value_variance.mean(axis=-1),
        n_geos,
        current[:N_GEO_MEAN_SITE_ROWS],
    )
    k = media_noncentring[:, 0]
    per_geo = _variance_of_difference(
        ratio_means["ratio"],
        ratio_means["shift"],
        ratio_means["ratio_sq"],
        ratio_means["shift_sq"],
        ratio_means["shift_ratio"],
        k[:, None],
    )
    of_mean = _variance_of_difference(
        ratio_means["ratio_mean"],
        ratio_means["shift_mean"],
        ratio_means["ratio_mean_sq"],
        ratio_means["shift_mean_sq"],
        ratio_means["shift_ratio_mean"],
        k,
    )
    ratio_rows = _geo_mean_scale(
        of_mean, per_geo.mean(axis=-1), n_geos, current[N_GEO_MEAN_SITE_ROWS:]
    )
    return jnp.concatenate([chosen, ratio_rows])


def roi_shear_statistics(
    spec: ModelSpec, params: Mapping[str, jax.Array]
) -> dict[str, jax.Array]:
    """Moments of one draw for :func:`choose_roi_shear`, each (n_channels,)."""
    sensitivity = log_spend_sensitivity(spec, params)
    log_roi = jnp.log(params[CHANNEL_ROI])
    return {
        "sensitivity": sensitivity,
        "roi": log_roi,
        "sensitivity_sq": sensitivity**2,
        "sensitivity_roi": sensitivity * log_roi,
    }


def _clipped_slope(
    covariance: jax.Array, variance: jax.Array, current: jax.Array
) -> jax.Array:
    """A regression slope clipped to [0, 1]; ``current`` where nothing varied."""
    slope = covariance / jnp.where(variance > 0, variance, 1.0)
    chosen = jnp.clip(slope, 0.0, 1.0)
    return jnp.where(variance > 1e-12, chosen, current).astype(current.dtype)


def choose_roi_shear(means: Mapping[str, jax.Array], current: jax.Array) -> jax.Array:
    """Each channel's ``j`` from warm-up means of :func:`roi_shear_statistics`.

    ``j`` is minus the slope of the regression of the log ROI on the log
    sensitivity (:func:`log_spend_sensitivity`), clipped to [0, 1]: the
    sampled ``log roi + j * log sensitivity`` is then uncorrelated with the
    sensitivity. A channel whose sensitivity did not move keeps its ``j``.
    """
    covariance = means["sensitivity_roi"] - means["sensitivity"] * means["roi"]
    variance = means["sensitivity_sq"] - means["sensitivity"] ** 2
    return _clipped_slope(-covariance, variance, current)


def level_log_ratio_statistics(
    spec: ModelSpec,
    params: Mapping[str, jax.Array],
    geo_prior_weights: jax.Array,
    media: jax.Array,
) -> dict[str, jax.Array]:
    """Moments of one draw for :func:`choose_media_noncentring`.

    ``shift`` is :func:`level_log_ratio_shift` and ``ratio`` each geo's
    ``log(effect / intercept) + LEVEL_REFERENCE * log(intercept / level) +
    variation`` (``v + k * shift`` of :func:`_sample_geo_level_log_ratios`);
    the products give their covariance.
    """
    at_average, _, variation, shift = level_log_ratio_terms(
        spec, params, geo_prior_weights, media
    )
    effect = params[COEF_MEDIA] * at_average[:, None]
    level = params["intercept"] + effect.sum(axis=0)
    ratio = (
        jnp.log(effect / params["intercept"])
        + LEVEL_REFERENCE * jnp.log(params["intercept"] / level)
        + variation
    )
    ratio_mean, shift_mean = ratio.mean(axis=-1), shift.mean(axis=-1)
    return {
        "shift": shift,
        "ratio": ratio,
        "shift_sq": shift**2,
        "ratio_sq": ratio**2,
        "shift_ratio": shift * ratio,
        # The same of their means over geos, for choose_geo_mean_scale.
        "shift_mean": shift_mean,
        "ratio_mean": ratio_mean,
        "shift_mean_sq": shift_mean**2,
        "ratio_mean_sq": ratio_mean**2,
        "shift_ratio_mean": shift_mean * ratio_mean,
    }


def choose_media_noncentring(
    means: Mapping[str, jax.Array], current: jax.Array
) -> jax.Array:
    """Each channel's ``k`` from warm-up means of :func:`level_log_ratio_statistics`.

    ``k`` is the slope of the regression of the geos' log ratios on the
    channel's shift, pooled over geos and clipped to [0, 1]: ``v = ratio - k
    * shift`` is then uncorrelated with the shift, which for a Gaussian
    hierarchy is the best partially non-centred coordinate (Papaspiliopoulos,
    Roberts and Skold, 2007). A channel whose shift did not move keeps its
    ``k``.
    """
    covariance = means["shift_ratio"] - means["shift"] * means["ratio"]
    variance = means["shift_sq"] - means["shift"] ** 2
    chosen = _clipped_slope(
        covariance.sum(axis=-1, keepdims=True),
        variance.sum(axis=-1, keepdims=True),
        current,
    )
    return jnp.broadcast_to(chosen, current.shape)


def move_coordinates(
    spec: GeoModelSpec,
    unconstrained: Mapping[str, jax.Array],
    params: Mapping[str, jax.Array],
    inputs: ModelInputs,
    chosen: tuple[jax.Array, jax.Array, jax.Array],
) -> dict[str, jax.Array]:
    """The same parameters in the coordinates of the ``chosen`` settings.

    ``chosen`` holds the new ``media_noncentring``, ``roi_shear`` and
    ``geo_mean_scale``; ``inputs`` hold the current ones. In the model's
    coordinates of the per-geo sites (geo means unscaled), the log ratios
    move by ``(current - chosen) * shift`` (:func:`level_log_ratio_shift`)
    and the sheared log ROI by ``(chosen - current) * log sensitivity``
    (:func:`log_spend_sensitivity`); then the geo means are scaled by the
    chosen scale (:func:`scale_geo_means`).
    """
    noncentring, roi_shear, geo_mean_scale = chosen
    z = scale_geo_means(spec, unconstrained, inputs.geo_mean_scale, inverse=True)
    if spec.level_log_ratios:
        *_, shift = level_log_ratio_terms(
            spec, params, inputs.geo_prior_weights, inputs.media
        )
        z[LEVEL_LOG_RATIOS] = (
            z[LEVEL_LOG_RATIOS] + (inputs.media_noncentring - noncentring) * shift
        )
    if spec.sheared_roi:
        sensitivity = log_spend_sensitivity(spec, params)
        z[SHEARED_LOG_ROI] = (
            z[SHEARED_LOG_ROI] + (roi_shear - inputs.roi_shear) * sensitivity
        )
    return scale_geo_means(spec, z, geo_mean_scale)


def coordinate_adaptation(spec: GeoModelSpec) -> CoordinateAdaptation:
    """Each chain picks the coordinate settings of :func:`geo_model` in warm-up.

    ``media_noncentring`` with ``spec.level_log_ratios``, ``roi_shear``
    with ``spec.sheared_roi`` and ``geo_mean_scale`` with
    ``spec.geo_mean_scaling``; a setting the spec does not use is kept.
    """

    def statistics(params, inputs):
        moments = {}
        if spec.level_log_ratios:
            moments["noncentring"] = level_log_ratio_statistics(
                spec, params, inputs.geo_prior_weights, inputs.media
            )
        if spec.sheared_roi:
            moments["roi_shear"] = roi_shear_statistics(spec, params)
        if spec.geo_mean_scaling:
            moments["geo_mean"] = geo_mean_statistics(spec, params, inputs.time_index)
        return moments

    def choose(means, current):
        noncentring, roi_shear, geo_mean_scale = current
        if spec.level_log_ratios:
            noncentring = choose_media_noncentring(means["noncentring"], noncentring)
        if spec.sheared_roi:
            roi_shear = choose_roi_shear(means["roi_shear"], roi_shear)
        if spec.geo_mean_scaling:
            geo_mean_scale = choose_geo_mean_scale(
                means["geo_mean"], means["noncentring"], noncentring, geo_mean_scale
            )
        return noncentring, roi_shear, geo_mean_scale

    return CoordinateAdaptation(
        ("media_noncentring", "roi_shear", "geo_mean_scale"),
        statistics,
        choose,
        partial(move_coordinates, spec),
    )
