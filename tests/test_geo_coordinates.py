"""Tests of skmmm._geo_coordinates: the geo sampler's coordinates in warm-up.

Each chosen setting (``choose_*``) is checked against the regression or
spread it is defined by, on draws made up with known answers; the
statistics (``*_statistics``) and the moves of :func:`coordinate_adaptation`
are checked on small geo models (tests/_geo.py): the statistics are the
model's coordinates, and a move keeps every parameter.
"""

import jax.numpy as jnp
import numpy as np
import pytest
from _geo import (
    improper_draw,
    log_ratio_models,
    shared_draw,
    unscaled_geo_means_by_hand,
)
from numpyro.infer.util import constrain_fn, unconstrain_fn

from skmmm._geo_coordinates import (
    choose_geo_mean_scale,
    choose_media_noncentring,
    choose_roi_shear,
    coordinate_adaptation,
    geo_mean_statistics,
)
from skmmm.models import MIN_GEO_MEAN_SCALE


def test_geo_coordinate_moves_keep_the_parameters():
    """The warm-up move of the estimator's adaptation: new coordinates, same draw."""
    (model, _), inputs, rng = log_ratio_models()
    adaptation = coordinate_adaptation(model.keywords["spec"])
    shared = shared_draw(model, inputs, rng)
    improper = improper_draw(rng)
    inputs = inputs._replace(
        media_noncentring=np.full((2, 3), 0.5),
        roi_shear=np.full(2, 0.5),
        geo_mean_scale=np.array([0.3, 0.5, 0.7, 0.2, 1.0], np.float32),
    )
    z = unconstrain_fn(model, (inputs,), {}, {**shared, **improper})
    before = constrain_fn(model, (inputs,), {}, z, return_deterministic=True)
    chosen = (
        np.array([[0.1] * 3, [0.9] * 3], np.float32),
        np.array([1.0, 0.0], np.float32),
        np.array([1.0, 0.1, 0.4, 0.6, 0.05], np.float32),
    )
    moved = adaptation.move(z, before, inputs, chosen)
    after = constrain_fn(
        model,
        (adaptation.with_settings(inputs, chosen),),
        {},
        moved,
        return_deterministic=True,
    )
    for name in (
        "intercept",
        "coef_media",
        "channel_roi",
        "slope",
        "coef_trend",
        "coef_seasonality",
    ):
        np.testing.assert_allclose(after[name], before[name], rtol=1e-5, atol=1e-6)
    for name in improper:
        assert not np.allclose(moved[name], z[name]), name


def test_geo_mean_statistics_see_the_models_per_geo_coordinates():
    """The warm-up statistics of a draw are the model's coordinates: the
    sampler's per-geo values with their geo mean divided by the scale."""
    (model, _), inputs, rng = log_ratio_models()
    spec = model.keywords["spec"]
    scale = np.array([0.3, 0.5, 0.7, 0.2, 1.0], np.float32)
    inputs = inputs._replace(geo_mean_scale=scale)
    shared, improper = shared_draw(model, inputs, rng), improper_draw(rng)
    z = unconstrain_fn(model, (inputs,), {}, {**shared, **improper})
    params = constrain_fn(model, (inputs,), {}, z, return_deterministic=True)
    value = np.asarray(geo_mean_statistics(spec, params, inputs.time_index)["value"])
    expected = [
        unscaled_geo_means_by_hand(improper[name], scale[row])
        for row, name in enumerate(
            ("log_level", "log_seasonality_amplitude", "geo_mean_scaled_coef_trend")
        )
    ]
    np.testing.assert_allclose(value, np.stack(expected), rtol=1e-4, atol=1e-5)


def test_roi_shear_is_chosen_from_the_regression_on_the_sensitivity():
    rng = np.random.default_rng(3)
    log_sensitivity = rng.normal(size=(4000, 3))
    noise = 0.1 * rng.normal(size=(4000, 3))
    # Channel 0: the data fix the marginal ROI (log ROI falls one for one
    # with the log sensitivity); 1: they fix the ROI; 2: half way.
    log_roi = log_sensitivity * np.array([-1.0, 0.0, -0.5]) + noise
    means = {
        "sensitivity": log_sensitivity.mean(0),
        "roi": log_roi.mean(0),
        "sensitivity_sq": (log_sensitivity**2).mean(0),
        "sensitivity_roi": (log_sensitivity * log_roi).mean(0),
    }
    chosen = choose_roi_shear(means, jnp.full(3, 0.5))
    np.testing.assert_allclose(chosen, [1.0, 0.0, 0.5], atol=0.02)
    # A sensitivity that did not move keeps the current shear.
    frozen = {**means, "sensitivity_sq": means["sensitivity"] ** 2}
    np.testing.assert_allclose(choose_roi_shear(frozen, jnp.full(3, 0.3)), 0.3)


def test_media_noncentring_is_the_pooled_regression_of_the_ratios_on_the_shift():
    rng = np.random.default_rng(7)
    n_draws, n_geos = 4000, 5
    # Per channel, each geo's log ratio moves with the channel's shift (common
    # to the geos) by this slope; the last two are clipped to [0, 1].
    slopes = np.array([0.2, 0.9, 1.5, -0.5])
    shift = np.broadcast_to(rng.normal(size=(n_draws, 4, 1)), (n_draws, 4, n_geos))
    ratio = slopes[:, None] * shift + 0.3 * rng.normal(size=(n_draws, 4, n_geos))
    means = {
        "shift": shift.mean(0),
        "ratio": ratio.mean(0),
        "shift_sq": (shift**2).mean(0),
        "shift_ratio": (shift * ratio).mean(0),
    }
    chosen = np.asarray(choose_media_noncentring(means, jnp.full((4, n_geos), 0.5)))
    expected = np.broadcast_to([[0.2], [0.9], [1.0], [0.0]], (4, n_geos))
    np.testing.assert_allclose(chosen, expected, atol=0.02)
    # A shift that did not move keeps the current non-centring.
    frozen = {**means, "shift_sq": means["shift"] ** 2}
    kept = choose_media_noncentring(frozen, jnp.full((4, n_geos), 0.3))
    np.testing.assert_allclose(kept, 0.3)


def _geo_mean_scale_by_hand(values):
    """``sqrt(spread / ((n_geos - 1) * variance of the mean))`` of draws x geos."""
    mean = values.mean(axis=-1)
    spread = (values - mean[:, None]).var(axis=0).mean()
    return np.sqrt(spread / ((values.shape[-1] - 1) * mean.var()))


def test_geo_mean_scale_gives_the_geo_mean_the_geos_own_spread():
    rng = np.random.default_rng(5)
    n_draws, n_geos = 4000, 40

    def per_geo(common_sd, own_sd):
        common = rng.normal(0.0, common_sd, (n_draws, 1))
        return common + rng.normal(0.0, own_sd, (n_draws, n_geos))

    # Rows: geos that move together (level), independent geos (amplitude),
    # a mean that swamps the geos' spread (trend).
    sites = np.stack([per_geo(0.1, 0.2), per_geo(0.0, 0.2), per_geo(3.0, 0.1)], 1)
    site_means = {
        "value": sites.mean(0),
        "value_sq": (sites**2).mean(0),
        "mean": sites.mean(-1).mean(0),
        "mean_sq": (sites.mean(-1) ** 2).mean(0),
    }
    # Two channels: v = ratio - k * shift is what the sampler will move, with
    # the shift common to the geos; k = 0.8 leaves v's geos independent.
    shift = per_geo(1.0, 0.05)
    v = np.stack([per_geo(0.2, 0.3), per_geo(0.0, 0.3)], 1)
    ratio = v + 0.8 * shift[:, None]
    shift = np.broadcast_to(shift[:, None], ratio.shape)

    def moments(name, values):
        mean = values.mean(-1)
        return {name: values.mean(0), f"{name}_mean": mean.mean(0)}

    ratio_means = {
        **moments("ratio", ratio),
        **moments("shift", shift),
        "ratio_sq": (ratio**2).mean(0),
        "shift_sq": (shift**2).mean(0),
        "shift_ratio": (shift * ratio).mean(0),
        "ratio_mean_sq": (ratio.mean(-1) ** 2).mean(0),
        "shift_mean_sq": (shift.mean(-1) ** 2).mean(0),
        "shift_ratio_mean": (shift.mean(-1) * ratio.mean(-1)).mean(0),
    }
    current = jnp.full(5, 0.7)
    chosen = np.asarray(
        choose_geo_mean_scale(
            site_means, ratio_means, jnp.full((2, n_geos), 0.8), current
        )
    )
    expected_level = _geo_mean_scale_by_hand(sites[:, 0])
    assert 0.2 < expected_level < 0.4
    np.testing.assert_allclose(chosen[0], expected_level, rtol=1e-3)
    # Independent geos: the mean already has their spread.
    assert chosen[1] > 0.9
    assert chosen[2] == pytest.approx(MIN_GEO_MEAN_SCALE)
    by_hand = [min(_geo_mean_scale_by_hand(v[:, c]), 1.0) for c in range(2)]
    np.testing.assert_allclose(chosen[3:], by_hand, rtol=1e-3)
    assert chosen[3] < 0.5 < 0.9 < chosen[4]
    # In the scaled coordinates the direction of all geos at once has the
    # spread of a single geo (the mass matrix's scale).
    scaled = sites[:, 0] - (1 - chosen[0]) * sites[:, 0].mean(-1, keepdims=True)
    along_all = scaled.sum(-1) / np.sqrt(n_geos)
    assert along_all.var() == pytest.approx(scaled.var(0).mean(), rel=0.1)
    # A site or a channel whose geo mean never moved keeps its row.
    frozen = {**site_means, "mean_sq": site_means["mean"] ** 2}
    frozen_ratios = {
        **ratio_means,
        "ratio_mean_sq": ratio_means["ratio_mean"] ** 2,
        "shift_mean_sq": ratio_means["shift_mean"] ** 2,
        "shift_ratio_mean": ratio_means["shift_mean"] * ratio_means["ratio_mean"],
    }
    kept = np.asarray(
        choose_geo_mean_scale(frozen, frozen_ratios, jnp.zeros((2, n_geos)), current)
    )
    np.testing.assert_allclose(kept, 0.7)
