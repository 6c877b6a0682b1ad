"""Tests of skmmm._laplace and of fits with ``inference="laplace"``."""

import copy
import warnings

import numpy as np
import numpyro
import numpyro.distributions as dist
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from skmmm import AdstockRegressor, load_model, save_model
from skmmm._laplace import LaplaceSettings, fit_laplace
from skmmm.diagnostics import convergence_verdict
from skmmm.report import render_report

SETTINGS = LaplaceSettings(num_starts=2, num_draws=4000, max_iterations=200)


def normal_model(y):
    """x ~ Normal(1, 2), y_i ~ Normal(x, 1): the posterior of x is normal."""
    x = numpyro.sample("x", dist.Normal(1.0, 2.0))
    numpyro.deterministic("twice_x", 2 * x)
    with numpyro.plate("rows", y.shape[0]):
        numpyro.sample("y", dist.Normal(x, 1.0), obs=y)


def test_laplace_is_exact_for_a_normal_posterior():
    y = np.array([0.3, 1.9, 2.4, 1.1], dtype=np.float32)
    result = fit_laplace(normal_model, y, SETTINGS, cache_key="normal", seed=0)
    precision = 1 / 2.0**2 + len(y)
    mean = (1.0 / 2.0**2 + y.sum()) / precision
    assert result.converged
    assert result.samples["x"].shape == (SETTINGS.num_draws,)
    np.testing.assert_allclose(result.samples["x"].mean(), mean, atol=0.03)
    np.testing.assert_allclose(result.samples["x"].std(), precision**-0.5, rtol=0.05)
    np.testing.assert_allclose(result.samples["twice_x"], 2 * result.samples["x"])


def test_laplace_maps_draws_through_the_constraints():
    def model(y):
        scale = numpyro.sample("scale", dist.HalfNormal(1.0))
        with numpyro.plate("rows", y.shape[0]):
            numpyro.sample("y", dist.Normal(0.0, scale), obs=y)

    y = np.random.default_rng(0).normal(0, 0.5, 50).astype(np.float32)
    result = fit_laplace(model, y, SETTINGS, cache_key="scale", seed=1)
    assert result.converged
    assert np.all(result.samples["scale"] > 0)
    assert 0.35 < np.median(result.samples["scale"]) < 0.65


def test_a_flat_direction_is_not_converged():
    def model(y):
        numpyro.sample("free", dist.ImproperUniform(dist.constraints.real, (), ()))
        x = numpyro.sample("x", dist.Normal(0.0, 1.0))
        numpyro.sample("y", dist.Normal(x, 1.0), obs=y)

    result = fit_laplace(model, np.float32(0.5), SETTINGS, cache_key="flat", seed=0)
    assert not result.converged
    assert result.clipped_directions == 1


def test_same_seed_gives_the_same_draws():
    y = np.array([0.3, 1.9], dtype=np.float32)
    first, second = (
        fit_laplace(normal_model, y, SETTINGS, cache_key="normal2", seed=5)
        for _ in range(2)
    )
    np.testing.assert_array_equal(first.samples["x"], second.samples["x"])
    assert second.compile_seconds == 0.0


# ----------------------------------------------------------- estimators


@pytest.fixture(scope="module")
def laplace_fit(national_data):
    data = national_data
    est = AdstockRegressor(
        media_columns=data.media_columns,
        media_prior=data.costs.to_numpy(),
        inference="laplace",
        number_samples=150,
        number_chains=2,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(data.X, data.y)
    return est


def test_laplace_posterior_has_the_keys_and_shapes_of_nuts(laplace_fit, national_fit):
    assert set(laplace_fit.posterior_) == set(national_fit.posterior_)
    for name, draws in national_fit.posterior_.items():
        assert laplace_fit.posterior_[name].shape == draws.shape, name
    assert laplace_fit.sampling_info_["inference"] == "laplace"
    assert national_fit.sampling_info_["inference"] == "nuts"
    assert laplace_fit.sampling_info_["optimizer_converged"]


def test_laplace_roi_is_close_to_nuts(laplace_fit, national_fit):
    nuts = national_fit.roi()
    gap = (laplace_fit.roi().median() - nuts.median()).abs() / nuts.std()
    assert (gap < 1.0).all(), gap


def test_laplace_summary_is_marked_approximate(laplace_fit):
    table = laplace_fit.summary()
    assert table.attrs["inference"] == "laplace"
    assert table["r_hat"].isna().all() and table["ess_bulk"].isna().all()
    verdict = table.attrs["convergence"]
    assert verdict.status == "approximate"
    assert not verdict.should_warn
    assert any("inference='nuts'" in note for note in verdict.notes)


def test_an_unconverged_optimiser_warns_with_the_remedy(laplace_fit):
    est = copy.copy(laplace_fit)
    est.sampling_info_ = {
        **laplace_fit.sampling_info_,
        "optimizer_converged": False,
        "newton_decrement": 3.0,
    }
    verdict = convergence_verdict(est)
    assert verdict.status == "not converged" and verdict.should_warn
    assert "number_warmup" in verdict.advice and "inference='nuts'" in verdict.advice


def test_laplace_report_says_approximate(laplace_fit):
    html = render_report(laplace_fit)
    assert "Approximate fit" in html
    assert "Laplace approximation at the posterior mode" in html


def test_inference_survives_clone_and_is_validated():
    est = AdstockRegressor(inference="laplace")
    assert clone(est).get_params()["inference"] == "laplace"
    with pytest.raises(ValueError, match="inference"):
        AdstockRegressor(inference="vi").fit(np.ones((60, 1)), np.ones(60))


def test_laplace_round_trips_through_save_and_load(laplace_fit, tmp_path):
    path = tmp_path / "laplace.skmmm"
    save_model(laplace_fit, path)
    loaded = load_model(path)
    assert loaded.inference == "laplace"
    assert loaded.summary().attrs["convergence"].status == "approximate"
    np.testing.assert_array_equal(loaded.roi().to_numpy(), laplace_fit.roi().to_numpy())


def test_grid_search_over_inference(national_data):
    data = national_data
    search = GridSearchCV(
        AdstockRegressor(
            media_columns=data.media_columns,
            number_samples=20,
            random_state=0,
            progress_bar=False,
        ),
        {"inference": ["laplace"], "degrees_seasonality": [1, 2]},
        cv=TimeSeriesSplit(n_splits=2, test_size=26),
    )
    search.fit(data.X.iloc[:130], data.y.iloc[:130])
    assert search.best_estimator_.sampling_info_["inference"] == "laplace"
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_geo_laplace_fit_has_the_draws_of_a_geo_nuts_fit(
    geo_data, geo_estimator, geo_fit
):
    est = geo_estimator(inference="laplace")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(geo_data.X, geo_data.y)
    assert set(est.posterior_) == set(geo_fit.posterior_)
    for name, draws in geo_fit.posterior_.items():
        assert est.posterior_[name].shape == draws.shape, name
    assert est.roi(by_geo=True).shape == geo_fit.roi(by_geo=True).shape
