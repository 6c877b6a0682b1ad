"""Tests for skmmm.models: site shapes, the mean, and the level reparametrisation."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import gammaln
from numpyro import distributions as dist
from numpyro import handlers
from numpyro.infer import Predictive
from numpyro.infer.util import log_density

from skmmm.models import (
    MODEL_NAMES,
    ModelSpec,
    log_media_variation,
    mean_components,
    media_transform,
    national_model,
    parameter_label,
    response_at_average,
    site_shapes,
)
from skmmm.priors import RELATIVE_ROI_LOC, resolve_priors

N_TIMES = 30
N_CHANNELS = 3
N_EXTRA = 2

TRANSFORM_SITES = {
    "adstock": ["lag_weight", "exponent"],
    "hill_adstock": ["lag_weight", "half_max_effective_concentration", "slope"],
    "carryover": ["ad_effect_retention_rate", "peak_effect_delay", "exponent"],
}


def _data(seed=0, n_times=N_TIMES, n_channels=N_CHANNELS, n_extra=N_EXTRA):
    rng = np.random.default_rng(seed)
    media = rng.gamma(2.0, 0.5, size=(n_times, n_channels))
    extra = rng.normal(size=(n_times, n_extra))
    return (
        jnp.asarray(media),
        jnp.asarray(extra),
        jnp.arange(n_times, dtype=float),
        jnp.asarray(rng.uniform(0.5, 1.5, size=n_channels)),
    )


def _prior_draw(spec, n_channels=N_CHANNELS, n_extra=N_EXTRA, seed=0):
    """One draw of every parameter from the default priors."""
    shapes = site_shapes(spec, n_channels, n_extra)
    priors = resolve_priors(None, shapes)
    priors["coef_media"] = dist.HalfNormal(jnp.ones(n_channels))
    keys = jax.random.split(jax.random.PRNGKey(seed), len(priors))
    return {
        name: prior.sample(key)
        for (name, prior), key in zip(priors.items(), keys, strict=True)
    }


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_site_shapes_lists_every_site_in_order(model):
    spec = ModelSpec(model, degrees_seasonality=3, weekday_seasonality=True)
    shapes = site_shapes(spec, N_CHANNELS, N_EXTRA)
    expected = {
        "intercept": (),
        "coef_trend": (),
        "expo_trend": (),
        "sigma": (),
        "gamma_seasonality": (3, 2),
        "weekday": (7,),
        "coef_extra_features": (N_EXTRA,),
        "coef_media": (N_CHANNELS,),
        **{name: (N_CHANNELS,) for name in TRANSFORM_SITES[model]},
    }
    assert shapes == expected
    assert list(shapes) == list(expected)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_site_shapes_omits_weekday_and_controls_when_unused(model):
    shapes = site_shapes(ModelSpec(model), 1, 0)
    assert "weekday" not in shapes
    assert "coef_extra_features" not in shapes
    assert shapes["gamma_seasonality"] == (2, 2)
    assert shapes["coef_media"] == (1,)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_mean_components_parts_add_up_to_mu(model):
    weekday = True
    spec = ModelSpec(model, weekday_seasonality=weekday, trend_time_scale=N_TIMES)
    media, extra, time_index, _ = _data()
    params = _prior_draw(spec)
    parts = mean_components(spec, params, media, extra, time_index)
    baseline_names = {"intercept", "trend", "seasonality", "extra_features"}
    if weekday:
        baseline_names.add("weekday")
    assert set(parts) == baseline_names | {"media", "mu"}
    assert parts["media"].shape == (N_TIMES, N_CHANNELS)
    for name in baseline_names | {"mu"}:
        assert parts[name].shape == (N_TIMES,), name
    total = sum(parts[name] for name in baseline_names) + parts["media"].sum(axis=1)
    np.testing.assert_allclose(parts["mu"], total, rtol=1e-6, atol=1e-6)


def test_mean_components_known_answer_for_adstock():
    spec = ModelSpec("adstock", degrees_seasonality=1, trend_time_scale=10.0)
    media, extra, time_index, _ = _data()
    params = _prior_draw(spec)
    parts = mean_components(spec, params, media, extra, time_index)

    t = np.arange(N_TIMES, dtype=float)
    x = np.asarray(media)
    lag = np.asarray(params["lag_weight"])
    adstocked = np.zeros_like(x)
    adstocked[0] = x[0]
    for i in range(1, N_TIMES):
        adstocked[i] = x[i] + lag * adstocked[i - 1]
    adstocked *= 1 - lag
    media_part = adstocked ** np.asarray(params["exponent"]) * np.asarray(
        params["coef_media"]
    )
    gamma = np.asarray(params["gamma_seasonality"])
    seasonality = gamma[0, 0] * np.cos(2 * np.pi * t / 52) + gamma[0, 1] * np.sin(
        2 * np.pi * t / 52
    )
    trend = float(params["coef_trend"]) * (t / 10.0) ** float(params["expo_trend"])
    expected_mu = (
        float(params["intercept"])
        + trend
        + seasonality
        + np.asarray(extra) @ np.asarray(params["coef_extra_features"])
        + media_part.sum(axis=1)
    )
    np.testing.assert_allclose(parts["media"], media_part, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(parts["seasonality"], seasonality, atol=1e-6)
    np.testing.assert_allclose(parts["trend"], trend, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(parts["mu"], expected_mu, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_response_at_average_is_steady_state_transform_of_unit_media(model_name):
    params = {
        "lag_weight": jnp.array([0.2, 0.5, 0.8]),
        "half_max_effective_concentration": jnp.array([0.3, 1.0, 2.5]),
        "slope": jnp.array([0.5, 1.5, 3.0]),
        "exponent": jnp.array([0.3, 0.6, 0.9]),
        "ad_effect_retention_rate": jnp.array([0.2, 0.5, 0.8]),
        "peak_effect_delay": jnp.array([0.0, 1.5, 3.0]),
    }
    spec = ModelSpec(model_name)
    steady = media_transform(spec, jnp.ones((300, 3)), params)[-1]
    np.testing.assert_allclose(response_at_average(spec, params), steady, rtol=1e-4)


def test_response_at_average_hill_matches_closed_form():
    half_max = np.array([0.3, 1.0, 2.5])
    slope = np.array([0.5, 1.5, 3.0])
    params = {
        "half_max_effective_concentration": jnp.asarray(half_max),
        "slope": jnp.asarray(slope),
    }
    expected = 1.0 / (1.0 + half_max**slope)
    np.testing.assert_allclose(
        response_at_average(ModelSpec("hill_adstock"), params), expected, rtol=1e-5
    )


def test_media_transform_unknown_model_raises():
    with pytest.raises(ValueError, match="linear"):
        media_transform(ModelSpec("linear"), jnp.ones((4, 1)), {})


def _simplex_points(spec, n_points, rng):
    """Prior draws of the other parameters, and levels and shares to map."""
    draws = [_prior_draw(spec, seed=seed) for seed in range(n_points)]
    others = {
        name: jnp.stack([draw[name] for draw in draws])
        for name in draws[0]
        if name not in ("intercept", "coef_media")
    }
    level = jnp.asarray(rng.lognormal(0.0, 1.0, size=n_points))
    shares = jnp.asarray(rng.dirichlet(np.ones(N_CHANNELS + 1), size=n_points))
    return others, level, shares


def _model_pair(model_name="hill_adstock", roi_prior=False):
    spec = ModelSpec(model_name, trend_time_scale=N_TIMES)
    shapes = site_shapes(spec, N_CHANNELS, N_EXTRA, roi_prior=roi_prior)
    priors = resolve_priors(None, shapes)
    direct = partial(national_model, spec=spec, priors=priors)
    simplex_spec = ModelSpec(**{**spec.__dict__, "simplex_level": True})
    simplex = partial(national_model, spec=simplex_spec, priors=priors)
    return spec, direct, simplex


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_simplex_level_log_density_equals_direct_plus_log_jacobian(model_name):
    spec, direct, simplex = _model_pair(model_name)
    media, extra, time_index, media_prior = _data(seed=1)
    target = jnp.asarray(np.random.default_rng(2).gamma(5.0, 0.2, N_TIMES))
    args = (media, extra, time_index, media_prior, target)
    n_points = 6
    rng = np.random.default_rng(5)
    others, level, shares = _simplex_points(spec, n_points, rng)

    @jax.jit
    @jax.vmap
    def log_densities(others, level, shares):
        at_average = response_at_average(spec, others)
        direct_params = {
            **others,
            "intercept": level * shares[0],
            "coef_media": level * shares[1:] / at_average,
        }
        simplex_params = {**others, "level": level, "level_shares": shares}
        log_direct, _ = log_density(direct, args, {}, direct_params)
        log_simplex, _ = log_density(simplex, args, {}, simplex_params)
        # Change of variables (intercept, coef_media) -> (level, shares): the
        # Jacobian is level ** n_channels / prod(response at average);
        # Dirichlet(1) adds the constant log(n_channels!) on the simplex.
        expected = (
            log_direct
            + N_CHANNELS * jnp.log(level)
            - jnp.log(at_average).sum()
            + gammaln(N_CHANNELS + 1.0)
        )
        return log_simplex, expected

    log_simplex, expected = log_densities(others, level, shares)
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(log_simplex, expected, rtol=1e-5, atol=1e-4)


def test_simplex_level_deterministic_sites_are_level_times_shares():
    spec, _, simplex = _model_pair()
    media, extra, time_index, media_prior = _data(seed=1)
    level, shares = jnp.asarray(3.0), jnp.array([0.1, 0.2, 0.3, 0.4])
    substituted = handlers.substitute(
        simplex, data={"level": level, "level_shares": shares}
    )
    trace = handlers.trace(handlers.seed(substituted, 0)).get_trace(
        media, extra, time_index, media_prior
    )
    assert trace["intercept"]["type"] == "deterministic"
    assert trace["coef_media"]["type"] == "deterministic"
    half_max = np.asarray(trace["half_max_effective_concentration"]["value"])
    slope = np.asarray(trace["slope"]["value"])
    hill_at_one = 1.0 / (1.0 + half_max**slope)
    np.testing.assert_allclose(trace["intercept"]["value"], 0.3, rtol=1e-6)
    np.testing.assert_allclose(
        trace["coef_media"]["value"], np.array([0.6, 0.9, 1.2]) / hill_at_one, 1e-5
    )


def test_simplex_level_factor_is_original_priors_plus_log_jacobian():
    spec, _, simplex = _model_pair()
    media, extra, time_index, media_prior = _data(seed=1)
    level, shares = jnp.asarray(2.5), jnp.array([0.4, 0.1, 0.3, 0.2])
    others = {
        k: v
        for k, v in _prior_draw(spec).items()
        if k not in ("intercept", "coef_media")
    }
    substituted = handlers.substitute(
        simplex, data={**others, "level": level, "level_shares": shares}
    )
    trace = handlers.trace(handlers.seed(substituted, 0)).get_trace(
        media, extra, time_index, media_prior
    )
    at_average = response_at_average(spec, others)
    intercept, coef_media = level * shares[0], level * shares[1:] / at_average
    expected = (
        dist.HalfNormal(2.0).log_prob(intercept)
        + dist.HalfNormal(media_prior / media_prior.mean()).log_prob(coef_media).sum()
        - jnp.log(at_average).sum()
        + N_CHANNELS * np.log(level)
        - dist.LogNormal(0.0, 2.0).log_prob(level)
    )
    factor = trace["level_prior"]["fn"].log_prob(trace["level_prior"]["value"])
    np.testing.assert_allclose(factor, expected, rtol=1e-6)


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_national_model_runs_under_predictive(model_name):
    spec, direct, simplex = _model_pair(model_name)
    media, extra, time_index, media_prior = _data()
    for model in (direct, simplex):
        draws = Predictive(model, num_samples=20)(
            jax.random.PRNGKey(0), media, extra, time_index, media_prior
        )
        assert draws["target"].shape == (20, N_TIMES)
        assert draws["coef_media"].shape == (20, N_CHANNELS)
        assert draws["intercept"].shape == (20,)
        for name in TRANSFORM_SITES[model_name]:
            assert draws[name].shape == (20, N_CHANNELS)
        assert np.all(np.isfinite(draws["target"]))


def test_national_model_coef_media_prior_scale_is_media_prior():
    _, direct, _ = _model_pair()
    media, extra, time_index, _ = _data()
    media_prior = jnp.array([0.1, 1.0, 10.0])
    draws = Predictive(direct, num_samples=4000)(
        jax.random.PRNGKey(1), media, extra, time_index, media_prior
    )
    # LightweightMMM's HalfNormal(media_prior / mean(media_prior)); HalfNormal(s)
    # has mean s * sqrt(2 / pi); 4000 draws: < 3% MC error.
    scale = np.asarray(media_prior) / np.mean(np.asarray(media_prior))
    expected = scale * np.sqrt(2 / np.pi)
    np.testing.assert_allclose(draws["coef_media"].mean(axis=0), expected, rtol=0.06)
    np.testing.assert_allclose(draws["intercept"].mean(), 2 * np.sqrt(2 / np.pi), 0.06)


def test_national_model_uses_custom_coef_media_prior():
    spec = ModelSpec("adstock")
    priors = resolve_priors(
        {"coef_media": dist.Exponential(4.0)}, site_shapes(spec, N_CHANNELS, 0)
    )
    model = partial(national_model, spec=spec, priors=priors)
    media, _, time_index, media_prior = _data()
    draws = Predictive(model, num_samples=4000)(
        jax.random.PRNGKey(2), media, jnp.zeros((N_TIMES, 0)), time_index, media_prior
    )
    np.testing.assert_allclose(draws["coef_media"].mean(axis=0), 0.25, rtol=0.08)


def test_national_model_observed_target_is_conditioned():
    spec, direct, _ = _model_pair()
    media, extra, time_index, media_prior = _data()
    target = jnp.linspace(1.0, 2.0, N_TIMES)
    trace = handlers.trace(handlers.seed(direct, 0)).get_trace(
        media, extra, time_index, media_prior, target
    )
    assert trace["target"]["is_observed"]
    np.testing.assert_array_equal(trace["target"]["value"], target)
    mu = mean_components(
        spec,
        {k: v["value"] for k, v in trace.items() if v["type"] == "sample"},
        media,
        extra,
        time_index,
    )["mu"]
    np.testing.assert_allclose(trace["target"]["fn"].loc, mu, rtol=1e-6)


def test_site_shapes_adds_roi_after_coef_media():
    shapes = site_shapes(ModelSpec("hill_adstock"), N_CHANNELS, 0, roi_prior=True)
    names = list(shapes)
    assert shapes["roi"] == (N_CHANNELS,)
    assert names.index("roi") == names.index("coef_media") + 1


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_roi_prior_on_simplex_log_density_equals_direct_plus_log_jacobian(model_name):
    """(intercept, roi) -> (level, shares) with effect = roi * cost = level * share."""
    spec, direct, simplex = _model_pair(model_name, roi_prior=True)
    media, extra, time_index, media_cost = _data(seed=3)
    target = jnp.asarray(np.random.default_rng(4).gamma(5.0, 0.2, N_TIMES))
    args = (media, extra, time_index, media_cost, target)
    n_points = 6
    rng = np.random.default_rng(6)
    others, level, shares = _simplex_points(spec, n_points, rng)

    @jax.jit
    @jax.vmap
    def log_densities(others, level, shares):
        direct_params = {
            **others,
            "intercept": level * shares[0],
            "roi": level * shares[1:] / media_cost,
        }
        simplex_params = {**others, "level": level, "level_shares": shares}
        log_direct, _ = log_density(direct, args, {}, direct_params)
        log_simplex, _ = log_density(simplex, args, {}, simplex_params)
        expected = (
            log_direct
            + N_CHANNELS * jnp.log(level)
            - jnp.log(media_cost).sum()
            + gammaln(N_CHANNELS + 1.0)
        )
        return log_simplex, expected

    log_simplex, expected = log_densities(others, level, shares)
    assert np.all(np.isfinite(expected))
    np.testing.assert_allclose(log_simplex, expected, rtol=1e-5, atol=1e-4)


def test_roi_prior_sets_effect_at_average_spend():
    """coef_media * response at average = roi * media cost, roi ~ the default prior."""
    spec, direct, _ = _model_pair("hill_adstock", roi_prior=True)
    media, extra, time_index, _ = _data()
    media_cost = jnp.array([0.01, 0.1, 1.0])
    draws = Predictive(direct, num_samples=4000)(
        jax.random.PRNGKey(3), media, extra, time_index, media_cost
    )
    np.testing.assert_allclose(
        np.median(draws["roi"], axis=0), np.exp(RELATIVE_ROI_LOC), rtol=0.08
    )
    at_average = response_at_average(spec, draws)
    np.testing.assert_allclose(
        draws["coef_media"] * at_average, draws["roi"] * media_cost, rtol=1e-5
    )


@pytest.mark.parametrize("model_name", MODEL_NAMES)
def test_mean_components_at_rows_equal_the_full_timeline_at_those_rows(model_name):
    spec = ModelSpec(model_name, trend_time_scale=N_TIMES)
    params = _prior_draw(spec, seed=7)
    media, extra, time_index, _ = _data(seed=8)
    full = mean_components(spec, params, media, extra, time_index)
    rows = jnp.array([0, 5, 17, N_TIMES - 1])
    for selection, expected_rows in ((rows, rows), (slice(20, None), slice(20, None))):
        at_rows = mean_components(spec, params, media, extra, time_index, selection)
        assert set(at_rows) == set(full)
        for name, value in full.items():
            np.testing.assert_allclose(
                at_rows[name], value[expected_rows], rtol=1e-5, atol=1e-6
            )


def test_log_media_variation_keeps_the_spread_of_slowly_varying_media():
    # Media near saturation vary by 1e-4 of their level; in float32,
    # mean(x**2) - mean(x)**2 would round that spread away.
    weeks = np.arange(104)
    relative = np.stack(
        [1 + 1e-4 * np.sin(weeks / 5.0), 2 + 0.5 * np.cos(weeks / 3.0)], axis=1
    )[:, :, None] * np.array([1.0, 3.0])  # (time, channel, geo)
    at_average = np.array([0.9, 0.2])
    transformed = relative * at_average[None, :, None]
    expected = 0.5 * np.log(relative.var(axis=0) + 1e-8)
    actual = log_media_variation(
        jnp.asarray(transformed, jnp.float32), jnp.asarray(at_average, jnp.float32)
    )
    np.testing.assert_allclose(actual, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("name", "position", "shape", "expected"),
    [
        ("expo_trend", 0, (), "expo_trend"),
        ("slope", 1, (2,), "slope[search]"),
        ("coef_media", 4, (2, 3), "coef_media[search,north]"),
        ("coef_extra_features", 2, (1, 3), "coef_extra_features[price,south]"),
        ("coef_extra_features", 0, (1,), "coef_extra_features[price]"),
        ("intercept", 1, (3,), "intercept[north]"),
        ("gamma_seasonality", 3, (2, 2), "gamma_seasonality[2,sin]"),
        # An axis whose length matches no names is labelled by its index.
        ("intercept", 0, (1,), "intercept[0]"),
        ("weekday", 4, (7,), "weekday[4]"),
    ],
)
def test_parameter_labels_name_each_axis(name, position, shape, expected):
    label = parameter_label(
        name,
        position,
        shape,
        channels=["tv", "search"],
        controls=["price"],
        geos=["east", "north", "south"],
    )
    assert label == expected
