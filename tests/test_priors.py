"""Tests for skmmm.priors: default priors per site and custom_priors resolution."""

import jax.numpy as jnp
import numpy as np
import pytest
from numpyro import distributions as dist

from skmmm.models import MODEL_NAMES, ModelSpec, site_shapes
from skmmm.priors import (
    DEFAULT_PRIORS,
    LIGHTWEIGHT_MMM_PRIORS,
    resolve_priors,
)

N_CHANNELS = 5
N_EXTRA = 2

# The DESIGN.md table, written out independently of skmmm.priors.
DESIGN_TABLE = {
    "intercept": (dist.HalfNormal, {"scale": 2.0}),
    "coef_trend": (dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "expo_trend": (dist.Uniform, {"low": 0.5, "high": 1.5}),
    "sigma": (dist.Gamma, {"concentration": 1.0, "rate": 1.0}),
    "gamma_seasonality": (dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "weekday": (dist.Normal, {"loc": 0.0, "scale": 0.5}),
    "coef_extra_features": (dist.Normal, {"loc": 0.0, "scale": 1.0}),
    "lag_weight": (dist.Beta, {"concentration1": 2.0, "concentration0": 1.0}),
    "exponent": (dist.Beta, {"concentration1": 9.0, "concentration0": 1.0}),
    "half_max_effective_concentration": (
        dist.Gamma,
        {"concentration": 1.0, "rate": 1.0},
    ),
    "slope": (dist.Gamma, {"concentration": 1.0, "rate": 1.0}),
    "ad_effect_retention_rate": (
        dist.Beta,
        {"concentration1": 1.0, "concentration0": 1.0},
    ),
    "peak_effect_delay": (dist.HalfNormal, {"scale": 2.0}),
}


def _shapes(model="hill_adstock", weekday=True, n_channels=N_CHANNELS):
    spec = ModelSpec(model, degrees_seasonality=3, weekday_seasonality=weekday)
    return site_shapes(spec, n_channels, N_EXTRA)


def _base(prior):
    """The distribution under any ExpandedDistribution wrapper."""
    while isinstance(prior, dist.ExpandedDistribution):
        prior = prior.base_dist
    return prior


def _assert_is(prior, cls, parameters, shape):
    assert isinstance(_base(prior), cls), (prior, cls)
    assert prior.batch_shape == tuple(shape)
    assert prior.event_shape == ()
    for name, value in parameters.items():
        actual = np.broadcast_to(np.asarray(getattr(_base(prior), name)), shape)
        np.testing.assert_allclose(actual, value, err_msg=name)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_resolve_priors_defaults_follow_design_table(model):
    shapes = _shapes(model)
    priors = resolve_priors(None, shapes, LIGHTWEIGHT_MMM_PRIORS)
    assert list(priors) == list(shapes)
    for name, shape in shapes.items():
        if name == "coef_media":
            continue
        cls, parameters = DESIGN_TABLE[name]
        _assert_is(priors[name], cls, parameters, shape)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_resolve_priors_skmmm_defaults_use_default_priors(model):
    shapes = _shapes(model)
    priors = resolve_priors(None, shapes)
    assert list(priors) == list(shapes)
    for name, shape in shapes.items():
        if name == "coef_media":
            continue
        if name == "lag_weight":
            cls, parameters = dist.Beta, {"concentration1": 1.0, "concentration0": 3.0}
        else:
            # skmmm may deliberately change other defaults (docs/model.md).
            spec = DEFAULT_PRIORS[name]
            cls, parameters = spec.distribution, spec.parameters
        _assert_is(priors[name], cls, parameters, shape)


def test_default_priors_lag_weight_is_beta_1_3():
    prior = DEFAULT_PRIORS["lag_weight"].build()
    assert isinstance(prior, dist.Beta)
    assert float(prior.concentration1) == 1.0
    assert float(prior.concentration0) == 3.0
    assert float(prior.mean) == pytest.approx(0.25)


def test_lightweight_mmm_priors_lag_weight_is_beta_2_1():
    prior = LIGHTWEIGHT_MMM_PRIORS["lag_weight"].build()
    assert isinstance(prior, dist.Beta)
    assert float(prior.concentration1) == 2.0
    assert float(prior.concentration0) == 1.0


@pytest.mark.parametrize("defaults", [DEFAULT_PRIORS, LIGHTWEIGHT_MMM_PRIORS])
def test_resolve_priors_coef_media_none_when_not_overridden(defaults):
    priors = resolve_priors({"intercept": 1.0}, _shapes(), defaults)
    assert priors["coef_media"] is None


def test_resolve_priors_accepts_distribution():
    custom = dist.Beta(4.0, 5.0)
    priors = resolve_priors({"lag_weight": custom}, _shapes())
    _assert_is(
        priors["lag_weight"],
        dist.Beta,
        {"concentration1": 4.0, "concentration0": 5.0},
        (N_CHANNELS,),
    )


def test_resolve_priors_accepts_distribution_with_site_shape():
    values = jnp.arange(1.0, N_CHANNELS + 1.0)
    custom = dist.HalfNormal(values)
    priors = resolve_priors({"coef_media": custom}, _shapes())
    assert priors["coef_media"] is custom
    np.testing.assert_allclose(priors["coef_media"].scale, values)


def test_resolve_priors_dict_overrides_named_parameters_only():
    priors = resolve_priors({"lag_weight": {"concentration1": 7.0}}, _shapes())
    # concentration0 keeps the skmmm default of 3.
    _assert_is(
        priors["lag_weight"],
        dist.Beta,
        {"concentration1": 7.0, "concentration0": 3.0},
        (N_CHANNELS,),
    )


def test_resolve_priors_dict_unknown_parameter_raises():
    with pytest.raises(ValueError, match="lag_weight.*alpha"):
        resolve_priors({"lag_weight": {"alpha": 1.0}}, _shapes())


def test_resolve_priors_sequence_in_signature_order():
    priors = resolve_priors(
        {"lag_weight": [2.0, 5.0], "coef_trend": (1.5, 0.25)}, _shapes()
    )
    _assert_is(
        priors["lag_weight"],
        dist.Beta,
        {"concentration1": 2.0, "concentration0": 5.0},
        (N_CHANNELS,),
    )
    _assert_is(priors["coef_trend"], dist.Normal, {"loc": 1.5, "scale": 0.25}, ())


def test_resolve_priors_sequence_of_per_channel_values():
    per_channel = np.linspace(1.0, 2.0, N_CHANNELS)
    priors = resolve_priors({"slope": [per_channel, 3.0]}, _shapes())
    _assert_is(
        priors["slope"],
        dist.Gamma,
        {"concentration": per_channel, "rate": 3.0},
        (N_CHANNELS,),
    )


@pytest.mark.parametrize("value", [0.5, 3, np.float32(0.5)])
def test_resolve_priors_float_sets_single_parameter(value):
    priors = resolve_priors({"intercept": value, "coef_media": value}, _shapes())
    _assert_is(priors["intercept"], dist.HalfNormal, {"scale": float(value)}, ())
    _assert_is(
        priors["coef_media"], dist.HalfNormal, {"scale": float(value)}, (N_CHANNELS,)
    )


def test_resolve_priors_unknown_name_raises_naming_it():
    with pytest.raises(ValueError, match="lag_wieght"):
        resolve_priors({"lag_wieght": 0.5}, _shapes())


def test_resolve_priors_name_of_other_model_raises():
    # exponent belongs to adstock/carryover, not to hill_adstock.
    with pytest.raises(ValueError, match="exponent"):
        resolve_priors({"exponent": (9.0, 1.0)}, _shapes("hill_adstock"))


@pytest.mark.parametrize(
    "name, value",
    [("lag_weight", [1.0, 2.0, 3.0]), ("intercept", [1.0, 2.0]), ("sigma", [1.0])],
)
def test_resolve_priors_wrong_number_of_parameters_raises(name, value):
    with pytest.raises(ValueError, match=rf"{name}.*{len(value)} parameter"):
        resolve_priors({name: value}, _shapes())


def test_resolve_priors_wrong_batch_shape_raises():
    custom = dist.Beta(jnp.ones(3), jnp.ones(3))
    with pytest.raises(ValueError, match=r"lag_weight.*batch shape \(3,\)"):
        resolve_priors({"lag_weight": custom}, _shapes(n_channels=5))


def test_resolve_priors_per_channel_sequence_of_wrong_length_raises():
    with pytest.raises(ValueError, match="slope"):
        resolve_priors({"slope": [np.ones(3), 1.0]}, _shapes(n_channels=5))


@pytest.mark.parametrize(
    "custom",
    [
        dist.Dirichlet(jnp.ones(N_CHANNELS)),
        dist.MultivariateNormal(jnp.zeros(N_CHANNELS), jnp.eye(N_CHANNELS)),
    ],
)
def test_resolve_priors_rejects_multivariate_distribution(custom):
    with pytest.raises(ValueError, match="univariate"):
        resolve_priors({"coef_media": custom}, _shapes())


@pytest.mark.parametrize("value", ["beta", None, True])
def test_resolve_priors_rejects_unusable_value(value):
    with pytest.raises(ValueError, match="lag_weight"):
        resolve_priors({"lag_weight": value}, _shapes())


def test_resolve_priors_does_not_mutate_custom_priors():
    custom = {"lag_weight": [2.0, 5.0]}
    resolve_priors(custom, _shapes())
    assert custom == {"lag_weight": [2.0, 5.0]}
