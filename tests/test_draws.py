"""Tests for ``skmmm.draws``: functions of every draw within bounded memory."""

import jax
import numpy as np
import pytest

from skmmm.draws import draw_batch_size, interval_quantiles, map_draws, mean_over_draws


@pytest.mark.parametrize("batch_size", [1, 3, 7, 100])
def test_draws_batched_give_the_unbatched_values(batch_size):
    rng = np.random.default_rng(0)
    params = {"a": rng.normal(size=(7, 4)), "b": rng.normal(size=(7,))}

    def function(draw):
        return {"x": draw["a"] * draw["b"], "y": draw["a"].sum()}

    whole = {"x": params["a"] * params["b"][:, None], "y": params["a"].sum(axis=1)}
    mapped = map_draws(function, params, batch_size)
    mean = mean_over_draws(function, params, batch_size)
    for name in ("x", "y"):
        np.testing.assert_allclose(mapped[name], whole[name], rtol=1e-6)
        np.testing.assert_allclose(mean[name], whole[name].mean(axis=0), rtol=1e-6)


def test_the_batch_bounds_the_memory_of_the_mean():
    # The mean over draws holds one batch's outputs, whatever the draws.
    n_draws, size = 64, 20_000
    params = {"a": np.ones((n_draws, 1), np.float32)}
    panel = np.linspace(0, 1, size, dtype=np.float32)

    def function(draw):
        return jax.numpy.sort(jax.numpy.sin(panel * draw["a"][0]))

    def temp_bytes(batch_size):
        program = jax.jit(lambda p: mean_over_draws(function, p, batch_size))
        return program.lower(params).compile().memory_analysis().temp_size_in_bytes

    per_draw = 4 * size
    assert temp_bytes(n_draws) >= n_draws * per_draw
    assert temp_bytes(4) <= 8 * per_draw


def test_the_batch_size_follows_the_budget_of_floats():
    assert draw_batch_size(1000, 10) == 1000
    assert draw_batch_size(1000, 2**24) == 1
    assert draw_batch_size(1000, 2**22) == 4
    assert draw_batch_size(3, 0) == 3


def test_interval_quantiles_bound_the_central_interval():
    lower, upper = interval_quantiles(0.9)
    assert lower == pytest.approx(0.05) and upper == pytest.approx(0.95)


@pytest.mark.parametrize("interval", [0.0, 1.0, -0.5, 1.5])
def test_an_interval_outside_zero_one_is_a_value_error(interval):
    with pytest.raises(ValueError, match=r"interval must be in \(0, 1\)"):
        interval_quantiles(interval)
