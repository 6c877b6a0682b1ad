"""Tests for ``skmmm.fitted``: the fitted model that the analysis modules use."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from skmmm import BayesianMMMRegressor
from skmmm import draws as draws_module
from skmmm import fitted as fitted_module
from skmmm.datasets import simulate_mmm_data
from skmmm.fitted import FittedMMM


@pytest.fixture(scope="module")
def est(national_fit):
    return national_fit


@pytest.fixture(scope="module")
def geo_est():
    data = simulate_mmm_data(
        n_periods=40, n_channels=2, n_geos=3, model="adstock", seed=3
    )
    est = BayesianMMMRegressor(
        "adstock",
        media_columns=data.media_columns,
        date_column="date",
        geo_column="geo",
        degrees_seasonality=1,
        number_warmup=100,
        number_samples=60,
        number_chains=1,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est, data


def test_a_national_fit_is_a_panel_of_one_geo(est):
    model = est.fitted_
    assert isinstance(model, FittedMMM)
    assert not model.is_geo and model.n_geos == 1 and model.geo_names == []
    n_times, n_channels = est.training_data_.media.shape
    assert model.training_media.shape == (n_times, n_channels, 1)
    assert model.media_scale.shape == (n_channels, 1)
    assert model.target_scale.shape == (1,)
    timeline = model.timeline()
    assert timeline.media.shape == (n_times, n_channels, 1)
    assert np.all(np.asarray(timeline.geos) == 0)
    assert timeline.index.equals(est.training_data_.index)


def test_components_add_up_to_the_mean_and_predict(est, national_data):
    data = national_data
    model = est.fitted_
    parts = model.components(data.X)
    baseline = sum(v for k, v in parts.items() if k not in ("media", "mu"))
    np.testing.assert_allclose(
        parts["mu"], baseline + parts["media"].sum(axis=2), rtol=1e-5
    )
    np.testing.assert_allclose(parts["mu"].mean(axis=0), est.predict(data.X), rtol=1e-5)
    np.testing.assert_allclose(model.mean_draws(data.X), parts["mu"], rtol=1e-6)
    mean, variance = model.mean_moments(data.X)
    np.testing.assert_allclose(variance, parts["mu"].var(axis=0), rtol=1e-3)


def test_the_model_is_cached_and_rebuilt_with_the_posterior(est):
    assert est.fitted_ is est.fitted_
    copy = pickle.loads(pickle.dumps(est))
    priors = copy.fitted_.priors
    smaller = copy.reduce_trace(10, random_state=0)
    # reduce_trace hands the estimator the model of its draws, priors resolved.
    assert smaller.fitted_.n_draws == 10
    assert smaller.fitted_.posterior is smaller.posterior_
    assert smaller.fitted_.priors == priors
    held = smaller.fitted_
    smaller.posterior_ = dict(smaller.posterior_)
    assert smaller.fitted_ is not held


def test_the_model_pickles_without_device_arrays(est):
    model = est.fitted_
    model.device_posterior()
    state = model.__getstate__()
    assert state["_device_posterior"] is None
    copy = pickle.loads(pickle.dumps(model))
    assert copy.roi_prior is not None
    np.testing.assert_array_equal(copy.mean_draws(), model.mean_draws())


def test_prior_draws_follow_the_site_priors(est):
    model = est.fitted_
    draws = model.prior_draws(n_draws=4000, random_state=1)
    assert set(draws) == set(model.site_priors())
    # The ROI prior is on the stored, absolute scale.
    np.testing.assert_allclose(
        np.median(draws["roi"], axis=0), 0.2 * model.roi_reference, rtol=0.1
    )


def test_with_draws_keeps_the_chosen_draws(est):
    model = est.fitted_
    smaller = model.with_draws(np.array([0, 5, 7]))
    assert smaller.n_draws == 3 and model.n_draws > 3
    np.testing.assert_array_equal(
        smaller.posterior["sigma"], model.posterior["sigma"][[0, 5, 7]]
    )


def test_geo_rows_map_to_their_period_and_geo(geo_est):
    est, data = geo_est
    model = est.fitted_
    assert model.is_geo and model.geo_names == est.geo_names_
    order = np.random.default_rng(0).permutation(len(data.X))
    timeline = model.timeline(data.X.iloc[order])
    geos = np.asarray(timeline.geos)
    expected = [est.geo_names_.index(g) for g in data.X["geo"].iloc[order]]
    np.testing.assert_array_equal(geos, expected)
    assert model.noise_sd().shape == (model.n_draws, model.n_geos)


def test_geo_draws_are_evaluated_in_batches_of_bounded_memory(geo_est, monkeypatch):
    # PITFALLS: out of memory rebuilding the posterior for many geos
    # (MER #1666): the working arrays of every draw are never held at once.
    est, data = geo_est
    model = est.fitted_
    timeline = model.timeline()
    params = model.device_posterior()
    n_draws = model.n_draws
    per_draw_bytes = 4 * timeline.media.size  # one (n_times, n_channels, n_geos)
    args = (model.spec, params, *timeline.inputs, timeline.rows, timeline.geos)
    moments = fitted_module._mu_moments_at_rows

    def temp_bytes(batch_size):
        compiled = moments.lower(*args, batch_size).compile()
        return compiled.memory_analysis().temp_size_in_bytes

    # Batches of 4 hold a few dozen draws' arrays; unbatched, all of them.
    assert temp_bytes(4) < 40 * per_draw_bytes
    assert temp_bytes(n_draws) > n_draws * per_draw_bytes
    for whole, batched in zip(moments(*args, n_draws), moments(*args, 4), strict=True):
        np.testing.assert_allclose(batched, whole, rtol=1e-5, atol=1e-7)
    # predict picks the batch from the budget of floats per batch.
    expected = est.predict(data.X)
    monkeypatch.setattr(draws_module, "DRAW_BATCH_FLOATS", 4 * timeline.media.size)
    assert est.fitted_.draw_batch_size(timeline.media) == 4
    np.testing.assert_allclose(est.predict(data.X), expected, rtol=1e-6)


def test_a_geo_fit_of_one_geo_keeps_its_geo_axis(geo_est):
    # Geo arrays are already (..., n_geos): one geo must not gain a second axis.
    est, data = geo_est
    one = data.X[data.X["geo"] == est.geo_names_[0]]
    single = BayesianMMMRegressor(**est.get_params())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single.fit(one, data.y[one.index])
    model = single.fitted_
    assert model.is_geo and model.n_geos == 1
    assert model.media_scale.shape == (model.n_channels, 1)
    assert single.predict(one).shape == (len(one),)
    assert single.roi().shape == (model.n_draws, model.n_channels)


def test_geo_attribution_in_batches_of_draws_equals_all_at_once(geo_est, monkeypatch):
    # Long or wide panels are attributed a few draws at a time (memory); the
    # answers must not depend on the batch.
    est, data = geo_est
    media = est.fitted_.timeline().media
    whole = (est.contributions(), est.roi(), est.marginal_roi())
    monkeypatch.setattr(draws_module, "DRAW_BATCH_FLOATS", 3 * media.size)
    assert est.fitted_.draw_batch_size(media) == 3
    batched = (est.contributions(), est.roi(), est.marginal_roi())
    for before, after in zip(whole, batched, strict=True):
        np.testing.assert_allclose(after.to_numpy(), before.to_numpy(), rtol=2e-5)


def test_predictive_totals_sum_the_predictive_draws_over_geos(geo_est, monkeypatch):
    est, data = geo_est
    model = est.fitted_
    draws = model.predictive_draws(data.X, random_state=5)
    dates = pd.DatetimeIndex(data.X["date"])
    expected = pd.DataFrame(draws.T, index=dates).groupby(level=0).sum()
    totals, index = model.predictive_totals(data.X, random_state=5)
    np.testing.assert_allclose(totals, expected.to_numpy().T, rtol=1e-10)
    np.testing.assert_array_equal(index, expected.index)
    # A batch of two draws at a time continues the same random stream.
    monkeypatch.setattr(draws_module, "DRAW_BATCH_FLOATS", 2 * len(data.X))
    batched, _ = model.predictive_totals(data.X, random_state=5)
    np.testing.assert_allclose(batched, totals, rtol=1e-10)


@pytest.mark.parametrize("which", ["national", "geo"])
def test_the_model_round_trips_through_plain_data(est, geo_est, which):
    model = est.fitted_ if which == "national" else geo_est[0].fitted_
    data = model.to_dict()
    plain = (np.ndarray, pd.Index, str, int, float, bool, list, dict, tuple)
    for name in ("posterior", "rhat", "ess"):
        assert all(isinstance(v, np.ndarray) for v in data[name].values())
    assert all(
        value is None or isinstance(value, plain)
        for key, value in data.items()
        if key not in ("priors",)
    )
    data["posterior"]["sigma"][:] = -1.0  # a copy: the model is unchanged
    assert np.all(model.posterior["sigma"] > 0)
    rebuilt = FittedMMM.from_dict(model.to_dict())
    assert rebuilt.is_geo == model.is_geo and rebuilt.spec == model.spec
    for name in ("media_scale", "control_scale", "target_scale", "media_cost"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(model, name))
    np.testing.assert_array_equal(rebuilt.mean_draws(), model.mean_draws())
    for part, values in model.components().items():
        np.testing.assert_array_equal(rebuilt.components()[part], values)
    assert set(rebuilt.site_priors()) == set(model.site_priors())


def test_plain_data_can_share_the_arrays_and_resolve_the_priors_later(est):
    model = est.fitted_
    shared = model.to_dict(with_priors=False, copy=False)
    assert shared["posterior"]["sigma"] is model.posterior["sigma"]
    assert shared["training"]["media"] is model.training.media
    calls = []

    def priors():
        calls.append(1)
        return model.priors, model.roi_prior

    rebuilt = FittedMMM.from_dict({**shared, "priors": priors, "revenue_per_kpi": 3.0})
    np.testing.assert_array_equal(rebuilt.mean_draws(), model.mean_draws())
    assert calls == []
    assert rebuilt.priors == model.priors and rebuilt.roi_prior is model.roi_prior
    assert calls == [1]
    # The revenue per KPI goes back as it was given: a number stays a number.
    assert rebuilt.to_dict(with_priors=False)["revenue_per_kpi"] == 3.0
    np.testing.assert_array_equal(rebuilt.revenue_weights, 3.0)
