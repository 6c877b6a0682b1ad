"""Tests for skmmm.models: site shapes, the mean, and the level reparametrisation.

The geo section checks the geo model's sites and log density in each
parametrisation (small models and NumPy versions of the coordinates in
tests/_geo.py) and the functions that set its coordinates' scales.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _geo import (
    improper_draw,
    log_ratio_models,
    shared_draw,
    unscaled_geo_means_by_hand,
)
from jax.scipy.special import gammaln
from numpyro import distributions as dist
from numpyro import handlers
from numpyro.infer import Predictive
from numpyro.infer.util import log_density

from skmmm.models import (
    BASELINE_SCALE,
    BASELINE_STEPS,
    MODEL_NAMES,
    GeoModelSpec,
    ModelInputs,
    ModelSpec,
    geo_model,
    geo_site_shapes,
    log_media_variation,
    mean_components,
    media_transform,
    national_model,
    parameter_label,
    response_at_average,
    site_shapes,
    spline_level,
)
from skmmm.priors import DEFAULT_PRIORS, RELATIVE_ROI_LOC, resolve_priors

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
    args = (ModelInputs(media, extra, time_index, media_prior, target=target),)
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
        ModelInputs(media, extra, time_index, media_prior)
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
        ModelInputs(media, extra, time_index, media_prior)
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
            jax.random.PRNGKey(0), ModelInputs(media, extra, time_index, media_prior)
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
        jax.random.PRNGKey(1), ModelInputs(media, extra, time_index, media_prior)
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
        jax.random.PRNGKey(2),
        ModelInputs(media, jnp.zeros((N_TIMES, 0)), time_index, media_prior),
    )
    np.testing.assert_allclose(draws["coef_media"].mean(axis=0), 0.25, rtol=0.08)


def test_national_model_observed_target_is_conditioned():
    spec, direct, _ = _model_pair()
    media, extra, time_index, media_prior = _data()
    target = jnp.linspace(1.0, 2.0, N_TIMES)
    trace = handlers.trace(handlers.seed(direct, 0)).get_trace(
        ModelInputs(media, extra, time_index, media_prior, target=target)
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
    args = (ModelInputs(media, extra, time_index, media_cost, target=target),)
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
        jax.random.PRNGKey(3), ModelInputs(media, extra, time_index, media_cost)
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


# ------------------------------------------------------------------ geo


def test_geo_model_sites_in_each_parametrization():
    spec = GeoModelSpec("adstock", degrees_seasonality=1)
    shapes = geo_site_shapes(spec, 2, 1, 3)
    assert shapes["coef_extra_features"] == (1, 3) and "coef_media" not in shapes
    priors = resolve_priors(None, shapes, DEFAULT_PRIORS)
    roi_shapes = geo_site_shapes(spec, 2, 1, 3, roi_prior=True)
    assert "channel_roi" in roi_shapes and "channel_coef_media" not in roi_shapes
    roi_priors = resolve_priors(None, roi_shapes, DEFAULT_PRIORS)
    inputs = ModelInputs(
        **{
            name: np.asarray(a, dtype=np.float32)
            for name, a in {
                "media": np.ones((10, 2, 3)),
                "extra_features": np.ones((10, 1, 3)),
                "time_index": np.arange(10),
                "media_prior": np.ones(2),
                "geo_prior_weights": np.ones((2, 3)),
                "media_noncentring": np.full((2, 3), 0.5),
                "roi_shear": np.full(2, 0.5),
                "geo_mean_scale": np.ones(3 + 2),
            }.items()
        }
    )
    expected = {
        (False, False, False): ("sample", "channel_coef_media"),  # LightweightMMM
        (False, True, False): ("deterministic", "coef_media_raw"),
        (True, False, False): ("deterministic", "level_log_ratios"),
        (True, False, True): ("deterministic", "channel_roi"),  # skmmm's default
    }
    # The log ratios', the sheared ROI's, the seasonal amplitudes' and the
    # geo-mean-scaled trend's base measures are flat (improper): no prior
    # draw of them.
    improper = {"log_level": np.zeros(3), "level_log_ratios": np.zeros((2, 3))}
    for (log_ratios, noncentred, roi), (kind, extra_site) in expected.items():
        model = partial(
            geo_model,
            spec=GeoModelSpec(
                "adstock",
                degrees_seasonality=1,
                level_log_ratios=log_ratios,
                noncentred_media=noncentred,
                seasonality_amplitude=roi,
                sheared_roi=roi,
                geo_mean_scaling=roi,
            ),
            priors=roi_priors if roi else priors,
        )
        fixed = improper
        if roi:
            fixed = {
                **improper,
                "sheared_log_roi": np.zeros(2),
                "log_seasonality_amplitude": np.zeros(3),
                "geo_mean_scaled_coef_trend": np.zeros(3),
            }
        model = handlers.substitute(model, data=fixed if log_ratios else {})
        trace = handlers.trace(handlers.seed(model, jax.random.PRNGKey(0))).get_trace(
            inputs
        )
        assert trace["coef_media"]["type"] == kind
        assert trace["coef_media"]["value"].shape == (2, 3)
        assert trace["intercept"]["value"].shape == (3,)
        assert trace["target"]["value"].shape == (10, 3)
        assert extra_site in trace
        if roi:
            assert trace["channel_coef_media"]["type"] == "deterministic"
            assert trace["coef_seasonality"]["type"] == "deterministic"
            assert trace["channel_roi"]["type"] == "deterministic"
            assert trace["coef_trend"]["type"] == "deterministic"
            assert trace["sheared_log_roi"]["type"] == "sample"


def _hill_adstock_log_sensitivity(draw):
    """``log(slope * (1 - hill(1)) * sqrt((1 - lag) / (1 + lag)))`` by hand."""
    slope, half_max = draw["slope"], draw["half_max_effective_concentration"]
    lag_weight = draw["lag_weight"]
    return np.log(
        slope
        * half_max**slope
        / (1 + half_max**slope)
        * np.sqrt((1 - lag_weight) / (1 + lag_weight))
    )


def _log_variation_by_hand(media, draw):
    """Per (channel, geo): log sd over time of hill(adstock(media)) / hill(1)."""
    lag = draw["lag_weight"][:, None]
    adstocked, previous = np.zeros_like(media), np.zeros(media.shape[1:])
    for step in range(media.shape[0]):
        previous = media[step] + lag * previous
        adstocked[step] = previous * (1 - lag)
    half_max = draw["half_max_effective_concentration"][:, None]
    slope = draw["slope"][:, None]
    hill = adstocked**slope / (adstocked**slope + half_max**slope)
    at_average = 1 / (1 + half_max**slope)
    return 0.5 * np.log((hill / at_average).var(axis=0) + 1e-8)


def _level_by_hand(log_level, log_scaled, reference):
    """Per geo: the log intercept and log effects, and the map's log |det|.

    ``exp(x) + sum_c exp(log_scaled[c] + (1 - reference) * x) = 1`` is solved
    for ``x = log(intercept / level)`` by bisection, and the determinant of
    the map from ``(log_level, log_scaled)`` to ``(log intercept, log
    effects)`` is taken by central differences.
    """
    from scipy.optimize import brentq

    def one_geo(coordinates):
        level, scaled = coordinates[0], coordinates[1:]
        x = brentq(
            lambda x: np.exp(x) + np.exp(scaled + (1 - reference) * x).sum() - 1,
            -300.0,
            0.0,
            xtol=1e-14,
        )
        return np.concatenate([[level + x], level + scaled + (1 - reference) * x])

    columns, log_det = [], 0.0
    for geo in range(log_level.shape[0]):
        point = np.concatenate([[log_level[geo]], log_scaled[:, geo]]).astype(float)
        columns.append(one_geo(point))
        step = 1e-6
        jacobian = np.column_stack(
            [
                (one_geo(point + step * unit) - one_geo(point - step * unit))
                / (2 * step)
                for unit in np.eye(point.size)
            ]
        )
        log_det += np.linalg.slogdet(jacobian)[1]
    logs = np.column_stack(columns)
    return logs[0], logs[1:], log_det


def test_geo_log_ratios_log_density_is_the_centred_models_plus_log_jacobian():
    """Any media_noncentring, roi_shear and geo_mean_scale: the centred model."""
    from numpyro.infer.util import log_density

    from skmmm.models import LEVEL_REFERENCE

    (new_model, centred_model), inputs, rng = log_ratio_models()
    settings = [
        (np.zeros((2, 3)), np.zeros(2), np.ones(5)),
        (np.ones((2, 3)), np.ones(2), np.full(5, 0.2)),
        (rng.uniform(size=(2, 3)), rng.uniform(size=2), rng.uniform(0.05, 1, 5)),
    ]
    for noncentring, roi_shear, geo_mean_scale in settings:
        inputs = inputs._replace(
            media_noncentring=noncentring,
            roi_shear=roi_shear,
            geo_mean_scale=geo_mean_scale,
        )
        shared = shared_draw(new_model, inputs, rng)
        log_level, ratios = rng.normal(0.0, 0.5, 3), rng.normal(-1.0, 1.0, (2, 3))
        sheared_log_roi = rng.normal(0.2, 0.5, 2)
        log_amplitude, scaled_trend = rng.normal(-2.0, 0.5, 3), rng.normal(0, 1, 3)
        # The maps by hand: the per-geo coordinates' geo means divided by
        # their scales (rows: level, amplitude, trend, then each channel's
        # ratios); log ROI = sheared - j * log sensitivity; each geo's
        # effects scaled by the prior scale to the power k, then split from
        # the level; each geo's seasonality scale is its amplitude over the
        # shape's norm.
        model_level = unscaled_geo_means_by_hand(log_level, geo_mean_scale[0])
        model_ratios = unscaled_geo_means_by_hand(ratios, geo_mean_scale[3:, None])
        coef_seasonality = np.exp(
            unscaled_geo_means_by_hand(log_amplitude, geo_mean_scale[1])
        ) / np.linalg.norm(shared["gamma_seasonality"])
        coef_trend = unscaled_geo_means_by_hand(scaled_trend, geo_mean_scale[2])
        roi = np.exp(
            sheared_log_roi - roi_shear * _hill_adstock_log_sensitivity(shared)
        )
        at_average = 1 / (
            1 + shared["half_max_effective_concentration"] ** shared["slope"]
        )
        hyper = roi * inputs.media_prior / at_average
        variation = _log_variation_by_hand(inputs.media, shared)
        log_scaled = (
            model_ratios
            + noncentring
            * (
                np.log(hyper[:, None] * inputs.geo_prior_weights * at_average[:, None])
                + variation
            )
            - variation
        )
        # The sampler's level includes each geo's trend at its training mean.
        trend_mean = np.mean(inputs.time_index ** shared["expo_trend"])
        log_intercept, log_effect, log_det = _level_by_hand(
            model_level - coef_trend * trend_mean, log_scaled, LEVEL_REFERENCE
        )
        intercept, effect = np.exp(log_intercept), np.exp(log_effect)
        coef_media = effect / at_average[:, None]
        log_jacobian = (
            log_det
            + log_intercept.sum()
            + log_effect.sum()
            - 3 * np.log(at_average).sum()
            + np.log(roi).sum()
            + np.log(coef_seasonality).sum()
            - np.log(geo_mean_scale).sum()
        )
        new, _ = log_density(
            new_model,
            (inputs,),
            {},
            {
                **shared,
                "log_level": log_level,
                "level_log_ratios": ratios,
                "sheared_log_roi": sheared_log_roi,
                "log_seasonality_amplitude": log_amplitude,
                "geo_mean_scaled_coef_trend": scaled_trend,
            },
        )
        centred, _ = log_density(
            centred_model,
            (inputs,),
            {},
            {
                **shared,
                "channel_roi": roi,
                "intercept": intercept,
                "coef_media": coef_media,
                "coef_seasonality": coef_seasonality,
                "coef_trend": coef_trend,
            },
        )
        assert np.isfinite(centred)
        np.testing.assert_allclose(new, centred + log_jacobian, rtol=1e-5, atol=2e-3)


@pytest.mark.parametrize("spread", [0.5, 3.0, 10.0])
def test_intercept_share_is_the_root_with_its_implicit_derivatives(spread):
    from skmmm.models import _log_intercept_share

    rng = np.random.default_rng(int(spread))
    log_scaled = jnp.asarray(rng.normal(0.0, spread, (4, 30)), jnp.float32)
    reference = 0.9
    x = _log_intercept_share(log_scaled, reference)
    terms = jnp.exp(log_scaled + (1 - reference) * x)
    residual = jnp.exp(x) + terms.sum(axis=0) - 1
    np.testing.assert_allclose(residual, 0.0, atol=1e-5)
    # d x / d log_scaled[c] = -term_c / (exp(x) + (1 - r) * sum_c term_c).
    gradient = jax.grad(lambda scaled: _log_intercept_share(scaled, reference)[0])(
        log_scaled
    )
    expected = -terms[:, 0] / (jnp.exp(x[0]) + (1 - reference) * terms[:, 0].sum())
    np.testing.assert_allclose(gradient[:, 0], expected, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gradient[:, 1:], 0.0)


@pytest.mark.parametrize("model_name", ["hill_adstock", "adstock"])
def test_log_elasticity_is_the_log_derivative_of_the_response_at_average(
    model_name,
):
    from skmmm.models import log_elasticity_at_average, media_transform

    spec = GeoModelSpec(model_name)
    params = {
        "slope": jnp.array([0.7, 2.5]),
        "half_max_effective_concentration": jnp.array([0.4, 1.8]),
        "lag_weight": jnp.array([0.3, 0.6]),
        "exponent": jnp.array([0.8, 0.35]),
    }

    def log_response(log_media):
        # Media held constant long enough for the adstock's steady state.
        media = jnp.full((200, 2), jnp.exp(log_media))
        return jnp.log(media_transform(spec, media, params)[-1, 0])

    numeric = jax.grad(log_response)(0.0)
    np.testing.assert_allclose(
        log_elasticity_at_average(spec, params)[0], jnp.log(numeric), rtol=1e-4
    )


@pytest.mark.parametrize("model_name", ["adstock", "carryover"])
def test_lag_gain_is_the_norm_of_the_lags_impulse_response(model_name):
    from skmmm import transforms
    from skmmm.models import CARRYOVER_LAGS, log_lag_gain

    params = {
        "lag_weight": jnp.array([0.2, 0.85]),
        "ad_effect_retention_rate": jnp.array([0.3, 0.9]),
        "peak_effect_delay": jnp.array([0.5, 3.0]),
    }
    impulse = jnp.zeros((300, 2)).at[0].set(1.0)
    if model_name == "adstock":
        response = transforms.adstock(impulse, params["lag_weight"])
    else:
        response = transforms.carryover(
            impulse,
            params["ad_effect_retention_rate"],
            params["peak_effect_delay"],
            number_lags=CARRYOVER_LAGS,
        )
    np.testing.assert_allclose(
        log_lag_gain(GeoModelSpec(model_name), params),
        0.5 * np.log((np.asarray(response) ** 2).sum(axis=0)),
        rtol=1e-5,
    )


def test_geo_masked_likelihood_is_the_complete_panels_at_the_present_cells():
    """A ragged panel's density: the complete panel's minus its absent cells' terms.

    Geo 1 opens in period 4 and geo 2 closes after period 8: their media are
    zero outside those dates in both panels, so the present cells' means
    agree. The ragged panel holds zeros in the absent cells (KPI and
    controls); filled with the complete panel's values instead, its
    unmasked density would count them.
    """
    models, inputs, rng = log_ratio_models("adstock")
    present = np.ones((12, 3), dtype=bool)
    present[:4, 1] = present[9:, 2] = False

    def where_present(array, axes=(slice(None), None, slice(None))):
        return np.where(present[axes], array, 0.0).astype(np.float32)

    complete = inputs._replace(media=where_present(inputs.media))
    mask = jnp.asarray(present)
    ragged = complete._replace(
        extra_features=where_present(inputs.extra_features),
        target=where_present(inputs.target, ...),
        target_mask=mask,
    )
    for model, reparametrised in zip(models, (True, False), strict=True):
        params = shared_draw(model, complete, rng)
        if reparametrised:
            params.update(improper_draw(rng))
        site = handlers.trace(handlers.substitute(model, data=params)).get_trace(
            complete
        )["target"]
        absent = np.asarray(site["fn"].log_prob(site["value"]))[~present].sum()
        full, _ = log_density(model, (complete,), {}, params)
        masked, _ = log_density(model, (ragged,), {}, params)
        filled, _ = log_density(
            model, (complete._replace(target_mask=mask),), {}, params
        )
        assert abs(absent) > 1.0  # the absent cells' terms matter
        np.testing.assert_allclose(masked, full - absent, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(filled, masked, rtol=1e-5, atol=1e-3)


def test_national_masked_likelihood_leaves_out_the_masked_periods():
    """fill_missing's periods: the density without their KPI terms."""
    _, direct, simplex = _model_pair("adstock", roi_prior=True)
    media, extra, time_index, media_prior = _data(seed=1)
    target = jnp.asarray(np.random.default_rng(2).gamma(5.0, 0.2, N_TIMES))
    inputs = ModelInputs(media, extra, time_index, media_prior, target=target)
    mask = np.ones(N_TIMES, dtype=bool)
    mask[[4, 5, 17]] = False
    for model in (direct, simplex):
        trace = handlers.trace(handlers.seed(model, 0)).get_trace(inputs)
        params = {
            name: site["value"]
            for name, site in trace.items()
            if site["type"] == "sample" and not site["is_observed"]
        }
        site = trace["target"]
        pointwise = np.asarray(site["fn"].log_prob(site["value"]))
        full, _ = log_density(model, (inputs,), {}, params)
        masked = log_density(
            model, (inputs._replace(target_mask=jnp.asarray(mask)),), {}, params
        )[0]
        assert abs(pointwise[~mask].sum()) > 0.1
        np.testing.assert_allclose(
            masked, full - pointwise[~mask].sum(), rtol=1e-5, atol=1e-4
        )


def test_geo_mask_of_a_complete_panel_changes_nothing():
    """Every cell present: the same density and gradient, bit for bit.

    A complete panel is fitted without a mask (``target_mask=None``), so its
    draws are those of a fit before ragged panels; this checks that the
    mask itself is exact where it keeps a cell.
    """
    models, inputs, rng = log_ratio_models("adstock")
    model = models[0]
    params = {**shared_draw(model, inputs, rng), **improper_draw(rng)}
    mask = jnp.ones(inputs.target.shape, dtype=bool)

    def density(params, inputs):
        return log_density(model, (inputs,), {}, params)[0]

    plain, masked = (
        jax.value_and_grad(density)(params, each)
        for each in (inputs, inputs._replace(target_mask=mask))
    )
    np.testing.assert_array_equal(plain[0], masked[0])
    for name in params:
        np.testing.assert_array_equal(plain[1][name], masked[1][name])


# ------------------------------------------------------ moving baseline

SPLINE_SPEC = ModelSpec(
    "adstock", baseline="spline", baseline_knots=3, baseline_periods=5
)


def test_spline_level_known_answer_centred_and_flat_after_the_data():
    # Knots at periods 0, 2, 4 with values 0, 1, -1 (scale 1, steps 1, -2):
    # the curve 0, 0.5, 1, 0, -1 over the training periods, mean 0.1.
    params = {
        BASELINE_SCALE: jnp.asarray(1.0),
        BASELINE_STEPS: jnp.asarray([1.0, -2.0]),
    }
    level = spline_level(SPLINE_SPEC, params, jnp.arange(8, dtype=float))
    expected = np.array([0.0, 0.5, 1.0, 0.0, -1.0, -1.0, -1.0, -1.0]) - 0.1
    np.testing.assert_allclose(level, expected, atol=1e-6)
    np.testing.assert_allclose(level[:5].mean(), 0.0, atol=1e-6)


def test_spline_level_per_geo_is_each_geo_s_curve():
    steps = jnp.asarray([[1.0, 0.5], [-2.0, 0.0]])
    params = {BASELINE_SCALE: jnp.asarray(2.0), BASELINE_STEPS: steps}
    level = spline_level(SPLINE_SPEC, params, jnp.arange(5, dtype=float))
    assert level.shape == (5, 2)
    for geo in range(2):
        alone = {BASELINE_SCALE: jnp.asarray(2.0), BASELINE_STEPS: steps[:, geo]}
        np.testing.assert_allclose(
            level[:, geo], spline_level(SPLINE_SPEC, alone, jnp.arange(5.0))
        )


def test_spline_baseline_adds_its_sites_and_a_level_part():
    assert BASELINE_SCALE not in site_shapes(ModelSpec("adstock"), 2, 1)
    assert site_shapes(SPLINE_SPEC, 2, 1)[BASELINE_SCALE] == ()
    assert geo_site_shapes(SPLINE_SPEC, 2, 1, 3)[BASELINE_SCALE] == ()
    spec = ModelSpec(
        "adstock", baseline="spline", baseline_knots=4, baseline_periods=N_TIMES
    )
    media, extra, time_index, media_prior = _data()
    priors = resolve_priors(None, site_shapes(spec, N_CHANNELS, N_EXTRA))
    draws = Predictive(
        partial(national_model, spec=spec, priors=priors), num_samples=10
    )(jax.random.PRNGKey(0), ModelInputs(media, extra, time_index, media_prior))
    assert draws[BASELINE_STEPS].shape == (10, 3)
    draw = {name: value[0] for name, value in draws.items()}
    parts = mean_components(spec, draw, media, extra, time_index)
    others = sum(value for name, value in parts.items() if name not in ("mu", "media"))
    np.testing.assert_allclose(
        parts["mu"], others + parts["media"].sum(axis=1), rtol=1e-5
    )
    np.testing.assert_allclose(
        parts["level"], spline_level(spec, draw, time_index), rtol=1e-6
    )
