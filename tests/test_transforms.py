"""Tests for ``skmmm.transforms`` against independent plain-NumPy references.

The references below are deliberately naive: explicit Python loops over time
(and over channel/geo cells) in float64, written from the equations in
DESIGN.md, not from the vectorised implementation.
"""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skmmm import transforms

RTOL = 1e-5
HYPOTHESIS = settings(max_examples=25, deadline=None)

# Jitted once at import; the property tests reuse the compiled functions.
_adstock = jax.jit(transforms.adstock, static_argnames="normalise")
_hill = jax.jit(transforms.hill)
_carryover = jax.jit(transforms.carryover, static_argnames="number_lags")
_exponent = jax.jit(transforms.apply_exponent_safe)


# --------------------------------------------------------------------------
# Independent references (float64, loops over time)
# --------------------------------------------------------------------------


def _per_cell(parameter, cell_shape):
    """One parameter value per (channel[, geo]) cell.

    A scalar applies to every cell, a (n_channels,) parameter is shared by all
    geos of a channel and a (n_channels, n_geos) parameter is read per cell.
    """
    parameter = np.asarray(parameter, dtype=np.float64)
    out = np.empty(cell_shape)
    for cell in np.ndindex(*cell_shape):
        if parameter.ndim == 0:
            out[cell] = parameter
        elif parameter.ndim == 1:
            out[cell] = parameter[cell[0]]
        else:
            out[cell] = parameter[cell]
    return out


def _reference_adstock(data, lag_weight, normalise=True):
    data = np.asarray(data, dtype=np.float64)
    weight = _per_cell(lag_weight, data.shape[1:])
    out = np.zeros_like(data)
    for cell in np.ndindex(*data.shape[1:]):
        previous = 0.0
        for t in range(data.shape[0]):
            current = data[(t, *cell)]
            value = current if t == 0 else current + weight[cell] * previous
            previous = value
            out[(t, *cell)] = value * (1 - weight[cell]) if normalise else value
    return out


def _reference_hill(data, half_max, slope):
    data = np.asarray(data, dtype=np.float64)
    half_max = _per_cell(half_max, data.shape[1:])
    slope = _per_cell(slope, data.shape[1:])
    out = np.zeros_like(data)
    for t in range(data.shape[0]):
        for cell in np.ndindex(*data.shape[1:]):
            x = data[(t, *cell)]
            if x > 0:
                out[(t, *cell)] = 1.0 / (1.0 + (x / half_max[cell]) ** (-slope[cell]))
    return out


def _reference_carryover(data, retention, delay, number_lags=13):
    data = np.asarray(data, dtype=np.float64)
    retention = _per_cell(retention, data.shape[1:])
    delay = _per_cell(delay, data.shape[1:])
    out = np.zeros_like(data)
    for cell in np.ndindex(*data.shape[1:]):
        weights = [
            retention[cell] ** ((lag - delay[cell]) ** 2) for lag in range(number_lags)
        ]
        total = sum(weights)
        for t in range(data.shape[0]):
            acc = 0.0
            for lag in range(number_lags):
                if t - lag >= 0:  # zeros before the first period
                    acc += weights[lag] * data[(t - lag, *cell)]
            out[(t, *cell)] = acc / total
    return out


def _reference_exponent(data, exponent):
    data = np.asarray(data, dtype=np.float64)
    exponent = _per_cell(exponent, data.shape[1:])
    out = np.zeros_like(data)
    for t in range(data.shape[0]):
        for cell in np.ndindex(*data.shape[1:]):
            x = data[(t, *cell)]
            out[(t, *cell)] = x ** exponent[cell] if x != 0 else 0.0
    return out


def _reference_fourier_terms(time_index, degrees, frequency):
    out = np.zeros((len(time_index), degrees, 2))
    for i, t in enumerate(time_index):
        for d in range(1, degrees + 1):
            angle = 2 * math.pi * d * float(t) / frequency
            out[i, d - 1, 0] = math.cos(angle)
            out[i, d - 1, 1] = math.sin(angle)
    return out


def _reference_seasonality(number_periods, degrees, gamma, frequency):
    gamma = np.asarray(gamma, dtype=np.float64)
    out = np.zeros((number_periods,) + gamma.shape[2:])
    for t in range(number_periods):
        for d in range(1, degrees + 1):
            angle = 2 * math.pi * d * t / frequency
            out[t] += gamma[d - 1, 0] * math.cos(angle) + gamma[d - 1, 1] * math.sin(
                angle
            )
    return out


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _assert_close(actual, expected, rtol=RTOL):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale)


def _media(rng, shape, zero_fraction=0.2):
    """Non-negative float32 media with some exact zeros."""
    values = rng.gamma(2.0, 0.5, size=shape) * (rng.random(shape) >= zero_fraction)
    return values.astype(np.float32)


def _parameter(rng, low, high, n_channels, n_geos, per_geo):
    shape = (n_channels, n_geos) if per_geo else (n_channels,)
    return rng.uniform(low, high, size=shape).astype(np.float32)


# JAX compiles once per input shape, and compiling dominates the run time, so
# every media test uses one of two shapes: a national and a geo model.
NATIONAL = (12, 3)
GEO = (12, 3, 2)
media_shapes = st.sampled_from([NATIONAL, GEO])
seeds = st.integers(0, 2**32 - 1)


def _impulse(size=1.0):
    """(12, 3) media with one impulse per channel at the first period."""
    data = np.zeros(NATIONAL, dtype=np.float32)
    data[0] = size
    return data


# --------------------------------------------------------------------------
# adstock
# --------------------------------------------------------------------------


@HYPOTHESIS
@given(shape=media_shapes, seed=seeds, normalise=st.booleans(), per_geo=st.booleans())
def test_adstock_matches_reference(shape, seed, normalise, per_geo):
    rng = np.random.default_rng(seed)
    data = _media(rng, shape)
    n_geos = shape[2] if len(shape) == 3 else 1
    per_geo = per_geo and len(shape) == 3
    lag_weight = _parameter(rng, 0.0, 0.95, shape[1], n_geos, per_geo)

    result = _adstock(data, lag_weight, normalise=normalise)

    _assert_close(result, _reference_adstock(data, lag_weight, normalise))


@pytest.mark.parametrize(
    ("normalise", "expected"),
    [(False, [1.0, 0.5, 0.25, 1.125]), (True, [0.5, 0.25, 0.125, 0.5625])],
)
def test_adstock_known_answer(normalise, expected):
    data = _impulse()
    data[3] = 1.0
    lag_weight = np.full(3, 0.5, dtype=np.float32)

    result = np.asarray(_adstock(data, lag_weight, normalise=normalise))

    for channel in range(3):
        _assert_close(result[:4, channel], expected)


@pytest.mark.parametrize("normalise", [True, False])
def test_adstock_lag_weight_zero_is_identity(normalise):
    data = _media(np.random.default_rng(0), GEO)

    result = _adstock(data, np.zeros(3, dtype=np.float32), normalise=normalise)

    _assert_close(result, data)


def test_adstock_constant_input_approaches_constant():
    data = np.full(NATIONAL, 2.5, dtype=np.float32)
    lag_weight = np.array([0.1, 0.3, 0.9], dtype=np.float32)

    result = np.asarray(_adstock(data, lag_weight, normalise=True))

    # a_t = c * (1 - lag_weight ** (t + 1)): a monotone approach from below.
    t = np.arange(NATIONAL[0])[:, None]
    _assert_close(result, 2.5 * (1 - lag_weight.astype(np.float64) ** (t + 1)))
    np.testing.assert_allclose(result[-1, :2], 2.5, rtol=1e-5)
    assert np.all(np.diff(result, axis=0) >= -1e-6)
    assert np.all(result <= 2.5 * (1 + 1e-5))


def test_adstock_per_channel_params_broadcast_over_geos():
    data = _media(np.random.default_rng(1), GEO)
    lag_weight = np.array([0.2, 0.6, 0.9], dtype=np.float32)

    per_channel = _adstock(data, lag_weight)
    per_cell = _adstock(data, np.repeat(lag_weight[:, None], GEO[2], axis=1))

    _assert_close(per_channel, per_cell)
    for geo in range(GEO[2]):
        _assert_close(per_channel[..., geo], _adstock(data[..., geo], lag_weight))


def test_adstock_integer_data_is_promoted_to_float():
    data = _impulse().astype(np.int32)
    lag_weight = np.full(3, 0.5, dtype=np.float32)

    result = transforms.adstock(data, lag_weight)

    assert jnp.issubdtype(result.dtype, jnp.floating)
    _assert_close(result, _reference_adstock(data, lag_weight))


# --------------------------------------------------------------------------
# hill
# --------------------------------------------------------------------------


@HYPOTHESIS
@given(shape=media_shapes, seed=seeds, per_geo=st.booleans())
def test_hill_matches_reference(shape, seed, per_geo):
    rng = np.random.default_rng(seed)
    data = _media(rng, shape, zero_fraction=0.3)
    n_geos = shape[2] if len(shape) == 3 else 1
    per_geo = per_geo and len(shape) == 3
    half_max = _parameter(rng, 0.2, 2.0, shape[1], n_geos, per_geo)
    slope = _parameter(rng, 0.3, 3.0, shape[1], n_geos, per_geo)

    result = _hill(data, half_max, slope)

    _assert_close(result, _reference_hill(data, half_max, slope))


@pytest.mark.parametrize("slope", [0.5, 1.0, 2.0])
def test_hill_zero_maps_to_zero_and_half_max_to_half(slope):
    half_max = np.array([0.7, 1.3, 2.0], dtype=np.float32)
    data = np.zeros(NATIONAL, dtype=np.float32)
    data[1::2] = half_max

    result = np.asarray(_hill(data, half_max, np.full(3, slope, dtype=np.float32)))

    np.testing.assert_array_equal(result[0::2], 0.0)
    np.testing.assert_allclose(result[1::2], 0.5, rtol=RTOL)


@pytest.mark.parametrize("tiny", [1e-37, 2e-38, 1e-39, 1e-44])
def test_hill_gradient_is_finite_near_float32s_smallest_number(tiny):
    """Adstock of a rare burst decays to such values; the gradient was NaN."""
    data = jnp.array([[tiny], [1.0]], dtype=jnp.float32)

    def total(half_max, slope):
        return transforms.hill(data, half_max, slope).sum()

    gradients = jax.grad(total, argnums=(0, 1))(
        jnp.array([5.0], dtype=jnp.float32), jnp.array([1.5], dtype=jnp.float32)
    )
    for gradient in gradients:
        assert np.all(np.isfinite(np.asarray(gradient)))


# --------------------------------------------------------------------------
# carryover
# --------------------------------------------------------------------------

LAG_CHOICES = [1, 2, 13, 20]  # 20 is longer than the series


@HYPOTHESIS
@given(
    shape=media_shapes,
    seed=seeds,
    per_geo=st.booleans(),
    number_lags=st.sampled_from(LAG_CHOICES),
)
def test_carryover_matches_reference(shape, seed, per_geo, number_lags):
    rng = np.random.default_rng(seed)
    data = _media(rng, shape)
    n_geos = shape[2] if len(shape) == 3 else 1
    per_geo = per_geo and len(shape) == 3
    retention = _parameter(rng, 0.05, 0.95, shape[1], n_geos, per_geo)
    delay = _parameter(rng, 0.0, 4.0, shape[1], n_geos, per_geo)

    result = _carryover(data, retention, delay, number_lags=number_lags)

    expected = _reference_carryover(data, retention, delay, number_lags)
    _assert_close(result, expected)


def test_carryover_default_number_lags_is_13():
    data = _media(np.random.default_rng(2), GEO)
    # Long delays put weight on the last lags, so the kernel length matters
    # through the normalising sum even though the series has only 12 periods.
    retention = np.array([0.4, 0.9, 0.8], dtype=np.float32)
    delay = np.array([1.5, 6.0, 11.0], dtype=np.float32)

    result = _carryover(data, retention, delay)

    _assert_close(result, _reference_carryover(data, retention, delay, 13))
    for other in (12, 14):
        other_result = _reference_carryover(data, retention, delay, other)
        assert not np.allclose(result, other_result, rtol=1e-3)


@pytest.mark.parametrize("number_lags", [1, 2, 13, 20])
def test_carryover_zeros_before_first_period(number_lags):
    # An impulse at t = 0 returns the normalised kernel: nothing leaks in
    # from before the first period, and the first output uses only x_0.
    retention = np.array([0.4, 0.7, 0.2], dtype=np.float32)
    delay = np.array([1.5, 0.0, 3.0], dtype=np.float32)

    response = np.asarray(
        _carryover(_impulse(3.0), retention, delay, number_lags=number_lags)
    )

    for channel in range(3):
        lags = np.arange(max(number_lags, NATIONAL[0]), dtype=np.float64)
        kernel = float(retention[channel]) ** ((lags - float(delay[channel])) ** 2)
        kernel[number_lags:] = 0.0
        expected = 3.0 * kernel / kernel.sum()
        _assert_close(response[:, channel], expected[: NATIONAL[0]])


def test_carryover_fractional_delay_peaks_between_lags():
    retention = np.array([0.4, 0.4, 0.4], dtype=np.float32)
    delay = np.array([1.5, 2.5, 0.5], dtype=np.float32)

    response = np.asarray(_carryover(_impulse(), retention, delay))

    for channel, peak in enumerate([1, 2, 0]):
        # The kernel is symmetric about the delay: equal largest weights at
        # the two lags either side of it.
        column = response[:, channel]
        np.testing.assert_allclose(column[peak], column[peak + 1], rtol=RTOL)
        np.testing.assert_allclose(column.max(), column[peak], rtol=RTOL)
        assert column[peak + 2] < column[peak + 1]


def test_carryover_tiny_retention_zero_delay_is_identity():
    data = _media(np.random.default_rng(3), GEO)

    result = _carryover(data, np.full(3, 1e-6, np.float32), np.zeros(3, np.float32))

    np.testing.assert_allclose(result, data, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("number_lags", [0, -1])
def test_carryover_non_positive_number_lags_raises(number_lags):
    data = np.ones(NATIONAL, dtype=np.float32)

    with pytest.raises(ValueError, match="number_lags"):
        transforms.carryover(data, np.full(3, 0.5), np.ones(3), number_lags=number_lags)


# --------------------------------------------------------------------------
# apply_exponent_safe
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [NATIONAL, GEO])
@pytest.mark.parametrize("exponent", [0.3, 0.9, 1.0, 2.0])
def test_apply_exponent_safe_matches_reference(shape, exponent):
    data = _media(np.random.default_rng(4), shape, zero_fraction=0.4)
    exponents = np.array([exponent, 0.5, 1.5], dtype=np.float32)

    result = _exponent(data, exponents)

    _assert_close(result, _reference_exponent(data, exponents))


@pytest.mark.parametrize("exponent", [0.0, 0.3, 1.0])
def test_apply_exponent_safe_zero_maps_to_zero(exponent):
    data = np.zeros(NATIONAL, dtype=np.float32)
    data[1::2, 1:] = 2.0

    result = np.asarray(_exponent(data, np.full(3, exponent, dtype=np.float32)))

    np.testing.assert_array_equal(result[:, 0], 0.0)
    np.testing.assert_array_equal(result[0::2], 0.0)
    np.testing.assert_allclose(result[1::2, 1:], 2.0**exponent, rtol=RTOL)


# --------------------------------------------------------------------------
# seasonality
# --------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [1, 2, 3])
@pytest.mark.parametrize("frequency", [52, 7])
@pytest.mark.parametrize("gamma_shape", ["national", "geo"])
def test_calculate_seasonality_matches_reference(degrees, frequency, gamma_shape):
    rng = np.random.default_rng(degrees * 100 + frequency)
    shape = (degrees, 2) if gamma_shape == "national" else (degrees, 2, 3)
    gamma = rng.normal(size=shape).astype(np.float32)

    result = transforms.calculate_seasonality(104, degrees, gamma, frequency=frequency)

    expected = _reference_seasonality(104, degrees, gamma, frequency)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("frequency", [52, 7])
def test_calculate_seasonality_is_periodic(frequency):
    gamma = np.array([[0.3, -1.2], [0.5, 0.1]], dtype=np.float32)

    result = np.asarray(
        transforms.calculate_seasonality(3 * frequency, 2, gamma, frequency)
    )

    np.testing.assert_allclose(result[frequency:], result[:-frequency], atol=1e-4)
    np.testing.assert_allclose(result[0], gamma[:, 0].sum(), rtol=RTOL)


@pytest.mark.parametrize("degrees", [1, 3])
@pytest.mark.parametrize("frequency", [52, 7, 365.25])
def test_fourier_terms_matches_reference(degrees, frequency):
    time_index = np.arange(100, 160)  # e.g. periods after a training window

    result = transforms.fourier_terms(time_index, degrees, frequency)

    expected = _reference_fourier_terms(time_index, degrees, frequency)
    assert result.shape == (60, degrees, 2)
    np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4)


def test_seasonality_from_terms_consistent_with_calculate_seasonality():
    gamma = np.random.default_rng(5).normal(size=(2, 2, 3)).astype(np.float32)
    terms = transforms.fourier_terms(np.arange(30), 2, 52)

    combined = transforms.seasonality_from_terms(terms, gamma)

    _assert_close(combined, transforms.calculate_seasonality(30, 2, gamma, 52))


# --------------------------------------------------------------------------
# jit, vmap and gradients
# --------------------------------------------------------------------------

_DATA = _media(np.random.default_rng(6), NATIONAL, zero_fraction=0.3)
_DATA_GEO = _media(np.random.default_rng(7), GEO, zero_fraction=0.3)
_LAG = np.array([0.5, 0.2, 0.8], dtype=np.float32)
_K = np.array([0.7, 1.0, 1.5], dtype=np.float32)
_SLOPE = np.array([0.5, 2.0, 1.0], dtype=np.float32)
_RETENTION = np.array([0.4, 0.6, 0.2], dtype=np.float32)
_DELAY = np.array([1.5, 0.0, 3.0], dtype=np.float32)
_EXPONENT = np.array([0.3, 0.9, 0.5], dtype=np.float32)

JIT_CASES = {
    "adstock": (lambda x, p: transforms.adstock(x, p), _LAG),
    "adstock_unnormalised": (
        lambda x, p: transforms.adstock(x, p, normalise=False),
        _LAG,
    ),
    "hill": (lambda x, p: transforms.hill(x, p[0], p[1]), np.stack([_K, _SLOPE])),
    "carryover": (
        lambda x, p: transforms.carryover(x, p[0], p[1]),
        np.stack([_RETENTION, _DELAY]),
    ),
    "apply_exponent_safe": (transforms.apply_exponent_safe, _EXPONENT),
}


@pytest.mark.parametrize("name", sorted(JIT_CASES))
@pytest.mark.parametrize("data", [_DATA, _DATA_GEO], ids=["national", "geo"])
def test_transform_jit_matches_eager(name, data):
    function, parameters = JIT_CASES[name]

    eager = function(data, parameters)
    jitted = jax.jit(function)(data, parameters)

    _assert_close(jitted, eager)


def test_carryover_jit_with_static_number_lags():
    jitted = jax.jit(transforms.carryover, static_argnames="number_lags")

    result = jitted(_DATA, _RETENTION, _DELAY, number_lags=7)

    _assert_close(result, _reference_carryover(_DATA, _RETENTION, _DELAY, 7))


def test_seasonality_jit_matches_eager():
    gamma = np.random.default_rng(8).normal(size=(3, 2)).astype(np.float32)
    jitted = jax.jit(transforms.calculate_seasonality, static_argnums=(0, 1))

    _assert_close(jitted(52, 3, gamma), transforms.calculate_seasonality(52, 3, gamma))
    terms = jax.jit(transforms.fourier_terms, static_argnums=(1,))(
        jnp.arange(10), 3, 52
    )
    _assert_close(terms, transforms.fourier_terms(jnp.arange(10), 3, 52))


@pytest.mark.parametrize("name", sorted(JIT_CASES))
def test_transform_vmap_over_parameter_draws_matches_loop(name):
    function, parameters = JIT_CASES[name]
    rng = np.random.default_rng(9)
    draws = parameters[None] * rng.uniform(0.8, 1.1, size=(5, *parameters.shape))
    draws = draws.astype(np.float32)

    batched = jax.vmap(function, in_axes=(None, 0))(_DATA_GEO, draws)

    looped = np.stack([np.asarray(function(_DATA_GEO, draw)) for draw in draws])
    _assert_close(batched, looped)


def _model_adstock(data, lag_weight, exponent):
    return transforms.apply_exponent_safe(
        transforms.adstock(data, lag_weight), exponent
    )


def _model_hill_adstock(data, lag_weight, half_max, slope):
    return transforms.hill(transforms.adstock(data, lag_weight), half_max, slope)


def _model_carryover(data, retention, delay, exponent):
    return transforms.apply_exponent_safe(
        transforms.carryover(data, retention, delay), exponent
    )


def _reference_model_adstock(data, lag_weight, exponent):
    return _reference_exponent(_reference_adstock(data, lag_weight), exponent)


def _reference_model_hill_adstock(data, lag_weight, half_max, slope):
    return _reference_hill(_reference_adstock(data, lag_weight), half_max, slope)


def _reference_model_carryover(data, retention, delay, exponent):
    return _reference_exponent(_reference_carryover(data, retention, delay), exponent)


# Parameters inside the default priors' support; two channels so that the
# slope 0.5 and slope 2 cases are both covered.
MODEL_CASES = {
    "adstock": (
        _model_adstock,
        _reference_model_adstock,
        (np.array([0.5, 0.5]), np.array([0.3, 0.3])),
    ),
    "hill_adstock": (
        _model_hill_adstock,
        _reference_model_hill_adstock,
        (np.array([0.5, 0.5]), np.array([0.7, 0.7]), np.array([0.5, 2.0])),
    ),
    "carryover": (
        _model_carryover,
        _reference_model_carryover,
        (np.array([0.4, 0.4]), np.array([1.5, 1.5]), np.array([0.3, 0.3])),
    ),
}


@functools.cache
def _value_and_grad(model):
    """Jitted value and gradient of sum(weights * transform(data, *params)).

    Gradients are taken w.r.t. the data and every parameter (not the weights).
    """
    function, _, parameters = MODEL_CASES[model]

    def objective(weights, *args):
        return jnp.sum(weights * function(*args))

    return jax.jit(
        jax.value_and_grad(objective, argnums=tuple(range(1, 2 + len(parameters))))
    )


def _zero_media(kind):
    data = _media(np.random.default_rng(10), (12, 2), zero_fraction=0.0)
    if kind == "all_zero_channel":
        data[:, 0] = 0.0
    elif kind == "zeros_in_data":
        data[[0, 1, 5, 6, 11], 0] = 0.0  # leading, interior and final zeros
        data[[3, 7], 1] = 0.0
    return data


@pytest.mark.parametrize("model", sorted(MODEL_CASES))
@pytest.mark.parametrize("kind", ["all_zero_channel", "zeros_in_data", "all_zero"])
def test_model_transform_gradients_finite_at_zero_media(model, kind):
    _, _, parameters = MODEL_CASES[model]
    data = _zero_media(kind)
    if kind == "all_zero":
        data[:] = 0.0
    parameters = tuple(p.astype(np.float32) for p in parameters)

    value, gradients = _value_and_grad(model)(np.ones_like(data), data, *parameters)

    # Outputs are non-negative, so a finite sum means every output is finite.
    assert np.isfinite(float(value))
    assert len(gradients) == 1 + len(parameters)
    for gradient in gradients:
        assert np.all(np.isfinite(np.asarray(gradient)))


@pytest.mark.parametrize("model", sorted(MODEL_CASES))
@pytest.mark.parametrize("kind", ["all_zero_channel", "zeros_in_data"])
def test_model_transform_gradients_match_finite_differences(model, kind):
    # Directional derivative along a random direction, against central finite
    # differences of the float64 reference. The data direction is zero where
    # the data are zero (the one-sided derivative of x ** 0.3 is infinite there).
    function, reference, parameters = MODEL_CASES[model]
    data = _zero_media(kind)
    rng = np.random.default_rng(11)
    directions = [rng.normal(size=data.shape) * (data > 0)] + [
        rng.normal(size=p.shape) for p in parameters
    ]
    weights = rng.uniform(0.5, 1.5, size=data.shape).astype(np.float32)

    args = (data, *(p.astype(np.float32) for p in parameters))
    _, gradients = _value_and_grad(model)(weights, *args)
    analytic = sum(
        float(np.sum(np.asarray(g, dtype=np.float64) * v))
        for g, v in zip(gradients, directions, strict=True)
    )

    def reference_objective(step):
        shifted = [
            np.asarray(a, dtype=np.float64) + step * v
            for a, v in zip(args, directions, strict=True)
        ]
        return float(np.sum(weights * reference(*shifted)))

    step = 1e-6
    numeric = (reference_objective(step) - reference_objective(-step)) / (2 * step)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-3, atol=1e-4)
