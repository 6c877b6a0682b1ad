"""Fitting with lift tests: the likelihood term, sklearn's rules, national and geo."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from numpyro import handlers
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from skmmm import AdstockRegressor, BayesianMMMRegressor, attribution
from skmmm.datasets import simulate_mmm_data
from skmmm.families import model_family

MCMC = dict(number_warmup=100, number_samples=100, number_chains=1, progress_bar=False)
# Exponent ~1: the response is linear, so a test's lift per unit of extra
# spend is the channel's ROI (with the window covering the carry-over).
LINEAR = {"exponent": {"concentration1": 2000.0, "concentration0": 1.0}}


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.fixture(scope="module")
def data():
    return simulate_mmm_data(
        n_periods=80,
        n_channels=2,
        model="adstock",
        n_controls=0,
        seed=3,
        spend_patterns=["always_on", "flighted"],
        noise_level=0.05,
    )


def _precise_test(data, roi, sd_share=0.01, scale=1.0):
    """A 10-week +50% test of tv that implies ``roi``, measured 30 weeks."""
    dates = data.X.index
    delta = 0.5 * float(data.X["tv"].mean())
    lift = roi * delta * 10 * scale
    return pd.DataFrame(
        {
            "channel": ["tv"],
            "start": [dates[30]],
            "end": [dates[39]],
            "measure_end": [dates[69]],
            "delta_spend": [delta],
            "lift": [lift],
            "lift_sd": [sd_share * lift],
        },
        index=["tv_test"],
    )


@pytest.fixture(scope="module")
def calibrated(data):
    implied = 1.6 * float(data.true_roi["tv"])
    est = AdstockRegressor(
        media_columns=data.media_columns,
        custom_priors=LINEAR,
        lift_tests=_precise_test(data, implied),
        random_state=0,
        **MCMC,
    )
    return _fit(est, data.X, data.y), implied


def test_a_precise_lift_test_pulls_the_roi_to_its_implied_roi(data, calibrated):
    est, implied = calibrated
    uncalibrated = _fit(clone(est).set_params(lift_tests=None), data.X, data.y)
    before = uncalibrated.roi()["tv"].mean()
    after = est.roi()["tv"].mean()
    assert abs(before / implied - 1) > 0.2
    assert abs(after / implied - 1) < 0.05
    fit = attribution.lift_test_fit(est, uncalibrated=uncalibrated)
    assert abs(fit.loc["tv_test", "z"]) < 2
    assert {"model_lift_before_mean", "model_lift_lower"} <= set(fit.columns)


def test_lift_and_kpi_rescaled_together_scale_the_roi(data, calibrated):
    est, implied = calibrated
    a = 1000.0
    scaled = _fit(
        clone(est).set_params(lift_tests=_precise_test(data, implied, scale=a)),
        data.X,
        data.y * a,
    )
    np.testing.assert_allclose(
        scaled.roi().to_numpy(), a * est.roi().to_numpy(), rtol=2e-3
    )


def test_without_lift_tests_the_model_has_no_lift_site(data):
    est = AdstockRegressor(media_columns=data.media_columns, **MCMC)
    problem = model_family(est).prepare(est, data.X, data.y, stacklevel=1)
    assert problem.inputs.lift_tests is None
    trace = handlers.trace(handlers.seed(problem.model, 0)).get_trace(problem.inputs)
    assert "lift_tests" not in trace
    est.set_params(lift_tests=_precise_test(data, 2.0))
    problem = model_family(est).prepare(est, data.X, data.y, stacklevel=1)
    trace = handlers.trace(handlers.seed(problem.model, 0)).get_trace(problem.inputs)
    assert trace["lift_tests"]["type"] == "sample"  # numpyro.factor


def test_bad_lift_tests_fail_at_fit(data):
    table = _precise_test(data, 2.0).assign(channel="radio")
    est = AdstockRegressor(media_columns=data.media_columns, lift_tests=table, **MCMC)
    with pytest.raises(ValueError, match="unknown channel 'radio'"):
        est.fit(data.X, data.y)
    with pytest.raises(ValueError, match="lift_tests"):
        AdstockRegressor(lift_tests=[1, 2], **MCMC).fit(data.X, data.y)


def test_lift_tests_survive_clone_get_params_and_grid_search(data):
    table = _precise_test(data, 2.0, sd_share=0.2)
    est = BayesianMMMRegressor(
        "adstock", media_columns=data.media_columns, lift_tests=table, **MCMC
    )
    assert est.get_params()["lift_tests"] is table
    cloned = clone(est)
    pd.testing.assert_frame_equal(cloned.lift_tests, table)
    assert AdstockRegressor(lift_tests=table).get_params()["lift_tests"] is table
    # the test lies in every fold's training periods
    search = GridSearchCV(
        est.set_params(number_warmup=30, number_samples=30),
        {"model": ["adstock", "carryover"]},
        cv=TimeSeriesSplit(n_splits=2, test_size=5),
        refit=False,
        error_score="raise",
    )
    _fit(search, data.X, data.y)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("model", ["hill_adstock", "carryover"])
@pytest.mark.parametrize("parametrization", ["skmmm", "lightweight_mmm"])
def test_every_model_fits_its_lift_test(data, model, parametrization):
    table = _precise_test(data, 1.5 * float(data.true_roi["tv"]), sd_share=0.05)
    est = BayesianMMMRegressor(
        model,
        media_columns=data.media_columns,
        lift_tests=table,
        parametrization=parametrization,
        random_state=0,
        **{**MCMC, "number_warmup": 60, "number_samples": 60},
    )
    fit = attribution.lift_test_fit(_fit(est, data.X, data.y))
    assert abs(fit.loc["tv_test", "z"]) < 2.5


@pytest.fixture(scope="module")
def geo_data():
    return simulate_mmm_data(
        n_periods=52, n_channels=2, model="adstock", n_controls=0, n_geos=3, seed=4
    )


@pytest.mark.parametrize("parametrization", ["skmmm", "lightweight_mmm"])
def test_geo_fits_take_geo_and_national_tests(geo_data, parametrization):
    data = geo_data
    dates = pd.DatetimeIndex(sorted(data.X["date"].unique()))
    geos = list(data.X["geo"].unique())
    first = data.X[data.X["geo"] == geos[0]]
    delta = float(first[data.media_columns[0]].mean())
    truth = data.true_roi_by_geo.loc[geos[0], data.media_columns[0]]
    table = pd.DataFrame(
        {
            "channel": [data.media_columns[0]] * 2,
            "geo": [geos[0], None],
            "start": [dates[20], dates[20]],
            "end": [dates[27], dates[27]],
            "measure_end": [dates[40], dates[40]],
            "delta_spend": [delta, 3 * delta],
            "lift": [truth * delta * 8, float(data.true_roi.iloc[0]) * 3 * delta * 8],
            "lift_sd": [0.1 * truth * delta * 8, 0.1 * 3 * delta * 8],
        }
    )
    est = BayesianMMMRegressor(
        "adstock",
        media_columns=data.media_columns,
        geo_column="geo",
        date_column="date",
        lift_tests=table,
        parametrization=parametrization,
        random_state=0,
        **{**MCMC, "number_warmup": 60, "number_samples": 60},
    )
    fit = attribution.lift_test_fit(_fit(est, data.X, data.y))
    assert fit["geo"].iloc[0] == geos[0] and pd.isna(fit["geo"].iloc[1])
    assert np.all(np.abs(fit["z"]) < 3)
    # a national test is the sum of its geos' tests, its spend split by share
    channel = data.media_columns[0]
    spend = data.X.groupby("geo")[channel].sum()
    national = table.iloc[[1]]
    split = pd.concat(
        [
            national.assign(
                geo=geo, delta_spend=national["delta_spend"] * spend[geo] / spend.sum()
            )
            for geo in geos
        ],
        ignore_index=True,
    )
    np.testing.assert_allclose(
        attribution.lift_test_draws(est, split).sum(axis=1),
        attribution.lift_test_draws(est, national).iloc[:, 0],
        rtol=1e-4,
    )


def test_lift_test_draws_take_any_table(data, calibrated):
    est, implied = calibrated
    table = _precise_test(data, implied)
    double = table.assign(delta_spend=2 * table["delta_spend"])
    one = attribution.lift_test_draws(est, table)["tv_test"]
    two = attribution.lift_test_draws(est, double)["tv_test"]
    # exponent ~1: twice the spend, twice the lift
    np.testing.assert_allclose(two, 2 * one, rtol=5e-3)
    copy.deepcopy(est)  # a calibrated fit copies (joblib, fit_many)


def test_prior_predictive_ignores_the_lift_tests(data):
    est = AdstockRegressor(media_columns=data.media_columns, **MCMC)
    plain = est.sample_prior_predictive(data.X, data.y, n_draws=20, random_state=0)
    est.set_params(lift_tests=_precise_test(data, 2.0))
    draws = est.sample_prior_predictive(data.X, data.y, n_draws=20, random_state=0)
    np.testing.assert_allclose(draws, plain, rtol=1e-5)


def test_fit_many_calibrates_every_group(data):
    from skmmm import fit_many

    frames = []
    for brand, factor in (("a", 1.0), ("b", 2.0)):
        frame = data.X.assign(brand=brand, sales=data.y * factor)
        frames.append(frame)
    table = _precise_test(data, 2.0, sd_share=0.05)
    est = AdstockRegressor(
        media_columns=data.media_columns,
        lift_tests=table,
        random_state=0,
        **{**MCMC, "number_warmup": 40, "number_samples": 40},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = fit_many(est, pd.concat(frames), group_columns="brand", target="sales")
    assert set(fits) == {"a", "b"}
    for fitted in fits.values():
        assert fitted.lift_tests is not table  # cloned
        pd.testing.assert_frame_equal(fitted.lift_tests, table)
        assert "tv_test" in attribution.lift_test_fit(fitted).index
