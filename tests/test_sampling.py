"""Tests of skmmm._sampling: coordinates chosen during warm-up, mass matrix
blocks, the progress bar, fits in threads.

The warm-up adaptation is tested on a Gaussian hierarchy with its own
choice rule (the geo model's rules are tested in tests/test_geo_coordinates.py).
"""

import io
import sys
from contextlib import redirect_stderr
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np
import numpyro
import pytest
from numpyro import distributions as dist

from skmmm._sampling import (
    CoordinateAdaptation,
    SamplerSettings,
    adaptation_windows,
    sample_nuts,
    should_show_progress,
)

PRIOR_SD, GROUP_SIZE = 3.0, 20
# Per group: how noisy each member's observation is. The best non-centring
# of a Gaussian hierarchy is noise_var / (1 + noise_var): 0.04 and 0.9.
NOISE_SD = np.array([0.2, 3.0])


class HierarchyInputs(NamedTuple):
    y: jnp.ndarray
    noncentring: jnp.ndarray


def _hierarchy(inputs):
    """``x[c, i] ~ Normal(mu[c], 1)``, ``y[c, i] ~ Normal(x[c, i], NOISE_SD[c])``.

    The sampler moves ``v = x - noncentring * mu``: a shear, so the density
    of ``x`` needs no Jacobian.
    """
    y, noncentring = inputs
    n_groups, n_members = y.shape
    mu = numpyro.sample("mu", dist.Normal(jnp.zeros(n_groups), PRIOR_SD))
    v = numpyro.sample(
        "v", dist.ImproperUniform(dist.constraints.real, (), (n_groups, n_members))
    )
    x = numpyro.deterministic("x", v + noncentring * mu[:, None])
    numpyro.factor("x_prior", dist.Normal(mu[:, None], 1.0).log_prob(x).sum())
    numpyro.sample("y", dist.Normal(x, NOISE_SD[:, None]), obs=y)


def _statistics(params, inputs):
    shift = jnp.broadcast_to(params["mu"][:, None], params["x"].shape)
    ratio = params["x"]
    return {
        "shift": shift,
        "ratio": ratio,
        "shift_sq": shift**2,
        "shift_ratio": shift * ratio,
    }


def _choose(means, current):
    """Each group's pooled regression slope of ``x`` on ``mu``, clipped to [0, 1]."""
    covariance = means["shift_ratio"] - means["shift"] * means["ratio"]
    variance = means["shift_sq"] - means["shift"] ** 2
    covariance = covariance.sum(axis=-1, keepdims=True)
    variance = variance.sum(axis=-1, keepdims=True)
    slope = jnp.clip(covariance / jnp.where(variance > 0, variance, 1.0), 0.0, 1.0)
    chosen = jnp.where(variance > 1e-12, slope, current[0]).astype(current[0].dtype)
    return (jnp.broadcast_to(chosen, current[0].shape),)


def _move(z, params, inputs, chosen):
    current = inputs.noncentring
    return {**z, "v": z["v"] + (current - chosen[0]) * params["mu"][:, None]}


ADAPTATION = CoordinateAdaptation(("noncentring",), _statistics, _choose, _move)


def test_adaptation_windows_are_the_slow_windows_before_the_last():
    assert adaptation_windows(1000) == ((150, 249), (250, 449))
    assert adaptation_windows(500) == ((100, 149), (150, 249))
    assert adaptation_windows(200) == ((75, 99),)
    assert adaptation_windows(150) == ()


@pytest.mark.parametrize("chains", [1, 2])
def test_chains_choose_the_non_centring_the_posterior_needs(chains):
    rng = np.random.default_rng(0)
    mu = np.array([1.0, -2.0])
    x = mu[:, None] + rng.normal(size=(2, GROUP_SIZE))
    y = x + NOISE_SD[:, None] * rng.normal(size=(2, GROUP_SIZE))
    start = np.full((2, GROUP_SIZE), 0.5, dtype=np.float32)
    settings = SamplerSettings(500, 1000, chains, 0.8, False, (6, 10))
    result = sample_nuts(
        _hierarchy,
        HierarchyInputs(jnp.asarray(y, jnp.float32), jnp.asarray(start)),
        settings,
        cache_key=("test-hierarchy", chains),
        seed=1,
        adaptation=ADAPTATION,
    )
    (adapted,) = result.adapted
    assert adapted.shape == (chains, 2, GROUP_SIZE)
    chosen = adapted[:, :, 0]
    assert np.all(chosen[:, 0] < 0.3) and np.all(chosen[:, 1] > 0.6), chosen
    # The draws are constrained with each chain's own coordinates: the
    # posterior means are the analytic ones.
    noise_var = NOISE_SD**2
    precision = 1 / PRIOR_SD**2 + GROUP_SIZE / (1 + noise_var)
    mu_mean = y.sum(axis=1) / (1 + noise_var) / precision
    x_mean = (mu_mean[:, None] + y / noise_var[:, None]) / (1 + 1 / noise_var[:, None])
    mu_draws = result.samples["mu"].reshape(-1, 2)
    x_draws = result.samples["x"].reshape(-1, 2, GROUP_SIZE)
    np.testing.assert_allclose(mu_draws.mean(axis=0), mu_mean, atol=0.15)
    np.testing.assert_allclose(x_draws.mean(axis=0), x_mean, atol=0.3)
    assert np.abs(x_draws.mean(axis=0) - x_mean).mean() < 0.1


def test_without_adaptation_the_setting_is_not_reported():
    y = jnp.zeros((2, 3))
    settings = SamplerSettings(20, 20, 1, 0.8, False, (4, 4))
    result = sample_nuts(
        _hierarchy,
        HierarchyInputs(y, jnp.full((2, 3), 1.0)),
        settings,
        cache_key="test-hierarchy-plain",
        seed=0,
    )
    assert result.adapted is None
    np.testing.assert_allclose(
        result.samples["x"],
        result.samples["v"] + result.samples["mu"][..., None],
        rtol=1e-5,
        atol=1e-5,
    )


def _correlated_pairs(inputs):
    """Two sites, ``pair`` and ``other``, each two values with correlation 0.99.

    No data: ``inputs`` is None.
    """
    covariance = jnp.array([[1.0, 0.99], [0.99, 1.0]])
    numpyro.sample("pair", dist.MultivariateNormal(jnp.zeros(2), covariance))
    numpyro.sample("other", dist.MultivariateNormal(jnp.zeros(2), covariance))


@pytest.mark.parametrize(
    ("dense_mass", "whitened"),
    [((("pair",), ("other",)), True), ((("pair",),), False), (False, False)],
)
def test_dense_blocks_adapt_to_their_sites_only(dense_mass, whitened):
    settings = SamplerSettings(300, 300, 1, 0.8, dense_mass, (10, 10))
    result = sample_nuts(
        _correlated_pairs, None, settings, cache_key=("test-pairs", dense_mass), seed=0
    )
    steps = result.num_steps.mean()
    # A diagonal matrix leaves a pair's ellipse (axes' ratio 14) to the step
    # size: trajectories of tens of steps. Dense blocks over both pairs
    # whiten the posterior (about 5 steps); a block over one pair must leave
    # the other as it was, or blocks were read as one dense matrix.
    if whitened:
        assert steps < 8, steps
    else:
        assert steps > 15, steps
    for site in ("pair", "other"):
        correlation = np.corrcoef(result.samples[site].reshape(-1, 2).T)[0, 1]
        assert correlation == pytest.approx(0.99, abs=0.01)


# ------------------------------------------------------------ progress


def test_progress_bar_auto_is_on_for_a_terminal_only(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    with redirect_stderr(io.StringIO()):
        assert should_show_progress("auto") is False
    with redirect_stderr(Terminal()):
        assert should_show_progress("auto") is True
    assert should_show_progress(False) is False
    assert should_show_progress(True) is True


# ------------------------------------------------------------ threads


def _thread_fits(n_periods_list, run):
    """Fit one small model per length (shapes not compiled yet) via ``run``."""
    import warnings

    from skmmm import AdstockRegressor
    from skmmm.datasets import simulate_mmm_data

    def fit(n_periods):
        data = simulate_mmm_data(n_periods=n_periods, n_channels=1, seed=n_periods)
        est = AdstockRegressor(
            media_columns=data.media_columns,
            number_warmup=30,
            number_samples=20,
            random_state=1,
            progress_bar=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return est.fit(data.X, data.y)

    return run(fit, n_periods_list)


def test_fits_in_threads_give_the_draws_of_sequential_fits():
    from concurrent.futures import ThreadPoolExecutor

    lengths = [37, 41, 43]

    def threaded(fit, items):
        with ThreadPoolExecutor(max_workers=3) as pool:
            return list(pool.map(fit, items))

    in_threads = _thread_fits(lengths, threaded)
    one_by_one = _thread_fits(lengths, lambda fit, items: [fit(i) for i in items])
    for a, b in zip(in_threads, one_by_one, strict=True):
        np.testing.assert_array_equal(a.posterior_["sigma"], b.posterior_["sigma"])


def test_fit_many_on_joblibs_threading_backend():
    import joblib
    import pandas as pd

    from skmmm import AdstockRegressor, fit_many
    from skmmm.datasets import simulate_mmm_data

    frames = []
    for brand, n_periods in (("a", 47), ("b", 53)):
        data = simulate_mmm_data(n_periods=n_periods, n_channels=1, seed=n_periods)
        frame = data.X.assign(sales=data.y, brand=brand).reset_index()
        frames.append(frame)
    panel = pd.concat(frames, ignore_index=True)
    estimator = AdstockRegressor(
        media_columns=["tv"],
        date_column="date",
        number_warmup=30,
        number_samples=20,
        random_state=2,
        progress_bar=False,
    )
    with joblib.parallel_backend("threading"):
        models = fit_many(
            estimator, panel, group_columns="brand", target="sales", n_jobs=2
        )
    assert sorted(models) == ["a", "b"]
    assert models["a"].n_train_periods_ == 47 and models["b"].n_train_periods_ == 53


def test_a_seed_gives_the_same_draws_whatever_was_imported_first():
    """SKMMM_HOST_DEVICES=1 makes a fresh process run chains as one that
    initialised JAX before importing skmmm does (docs/scale-out.md)."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import sys, json, warnings\n"
        "if sys.argv[1] == 'jax-first':\n"
        "    import jax; jax.devices()\n"
        "import numpy as np\n"
        "from skmmm import AdstockRegressor\n"
        "from skmmm.datasets import simulate_mmm_data\n"
        "data = simulate_mmm_data(n_periods=40, n_channels=1, seed=4)\n"
        "est = AdstockRegressor(media_columns=data.media_columns,\n"
        "    number_warmup=30, number_samples=10, random_state=5,\n"
        "    progress_bar=False)\n"
        "warnings.simplefilter('ignore')\n"
        "est.fit(data.X, data.y)\n"
        "print(json.dumps([est.sampling_info_['chain_method'],\n"
        "    np.asarray(est.posterior_['sigma']).tolist()]))\n"
    )

    def run(order, **env):
        environment = {**os.environ, "SKMMM_COMPILATION_CACHE": "0", **env}
        environment.pop("XLA_FLAGS", None)
        result = subprocess.run(
            [sys.executable, "-c", script, order],
            capture_output=True,
            text=True,
            env=environment,
            timeout=600,
            check=True,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])

    jax_first = run("jax-first")
    switched = run("skmmm-first", SKMMM_HOST_DEVICES="1")
    assert jax_first[0] == switched[0] == "sequential"
    assert jax_first[1] == switched[1]
