"""scikit-learn compatibility: estimator checks, pipelines, searches, backtests.

Every fit compiles one NUTS program per (model, data shape, settings) and
reuses it for the rest of the process, so the tests share one small
configuration (``FAST``) and one simulated data set (80 weeks) split by
``TimeSeriesSplit(3, max_train_size=20)``: every fold trains on 20 weeks, so
the tests outside the estimator checks compile one program per model.
"""

import functools
import pickle
import warnings

import jax
import jax.numpy as jnp
import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmmm import (
    AdstockRegressor,
    BayesianMMMRegressor,
    CarryoverRegressor,
    CustomScaler,
    HillAdstockRegressor,
)
from skmmm.datasets import simulate_mmm_data
from skmmm.models import mean_components

FAST = dict(
    number_warmup=50,
    number_samples=20,
    number_chains=1,
    random_state=0,
    progress_bar=False,
    degrees_seasonality=1,
)
N_PERIODS = 80
N_CHANNELS = 3
MEDIA = list(range(N_CHANNELS))
CV = TimeSeriesSplit(n_splits=3, max_train_size=20)
REGRESSORS = [AdstockRegressor, HillAdstockRegressor, CarryoverRegressor]

# Rows are consecutive time periods and predict() continues the adstock of the
# training media, so a subset or a reordering of rows is another time series.
TIME_SERIES_REASON = (
    "rows are consecutive time periods and predict continues the adstock "
    "history of the training media, so a subset or reordering of the rows is "
    "a different time series with different predictions"
)
# check_methods_subset_invariance passes: it predicts on blocks of the
# training rows, which skmmm places in-sample.
EXPECTED_FAILED_CHECKS = {
    "check_methods_sample_order_invariance": TIME_SERIES_REASON,
}

# The fixed-model subclasses share every line of fit/predict with
# BayesianMMMRegressor (they only pin ``model``), so the full check list runs
# once, for BayesianMMMRegressor; the subclasses get the API-level checks,
# which cover what they change (their constructor and parameters) without
# fitting. Running every check for all four would compile each check's data
# shapes four times (about 15 s per shape).
API_CHECKS = {
    "check_parameters_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_repr",
    "check_estimator_cloneable",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_mixin_order",
}


def _check_name(check) -> str:
    return getattr(check, "func", check).__name__


# The full list compiles a sampler for each of the checks' data shapes: slow.
@pytest.mark.slow
@parametrize_with_checks(
    [BayesianMMMRegressor(**FAST)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_bayesian_mmm_regressor_passes_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@parametrize_with_checks(
    [cls(**FAST) for cls in REGRESSORS],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_fixed_model_regressor_passes_api_checks(estimator, check):
    if _check_name(check) not in API_CHECKS:
        pytest.skip("fit/predict checks run for BayesianMMMRegressor only")
    check(estimator)


@functools.cache
def _simulated():
    data = simulate_mmm_data(
        n_periods=N_PERIODS, n_channels=N_CHANNELS, n_controls=1, seed=3
    )
    return data.X.to_numpy(), data.y.to_numpy()


def _folds():
    X, _ = _simulated()
    return list(CV.split(X))


def _fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _mean_prediction(est, X_timeline, first_period):
    """Posterior mean of the KPI over ``X_timeline``, recomputed from the draws.

    ``X_timeline`` holds consecutive periods starting at ``first_period``;
    media and controls are scaled as the estimator does in fit.
    """
    media = X_timeline[:, :N_CHANNELS] / est.media_scale_
    extra = X_timeline[:, N_CHANNELS:] / est.extra_scale_
    time_index = first_period + np.arange(len(X_timeline), dtype=float)
    params = {name: jnp.asarray(value) for name, value in est.posterior_.items()}
    mu = jax.vmap(
        lambda draw: mean_components(
            est.spec_, draw, jnp.asarray(media), jnp.asarray(extra), time_index
        )["mu"]
    )(params)
    return np.asarray(mu).mean(axis=0) * est.target_scale_


def test_time_series_split_fold_prediction_continues_training_media():
    X, y = _simulated()
    train, test = _folds()[1]
    est = _fit_quietly(
        HillAdstockRegressor(media_columns=MEDIA, **FAST),
        X[train],
        y[train],
    )

    predicted = est.predict(X[test])

    # The fold's timeline: its training weeks (periods 0.. of the fit), then
    # the test weeks right after them.
    timeline = X[train[0] : test[-1] + 1]
    over_timeline = _mean_prediction(est, timeline, first_period=0)
    np.testing.assert_allclose(predicted, over_timeline[-len(test) :], rtol=1e-5)
    restarted = _mean_prediction(est, X[test], first_period=len(train))
    assert np.max(np.abs(predicted - restarted)) > 1e-3 * np.abs(predicted).mean()


def test_time_series_split_fold_prediction_matches_in_sample_rows():
    # Known answer through the estimator itself: the training rows predicted in
    # sample are the first rows of the timeline, the test rows continue it.
    X, y = _simulated()
    train, test = _folds()[1]
    est = _fit_quietly(
        HillAdstockRegressor(media_columns=MEDIA, **FAST),
        X[train],
        y[train],
    )
    over_timeline = _mean_prediction(est, X[train[0] : test[-1] + 1], first_period=0)
    in_sample = est.fitted_.components()["mu"].mean(axis=0)
    np.testing.assert_allclose(in_sample, over_timeline[: len(train)], rtol=1e-5)


def test_pipeline_with_custom_scaler_predicts_in_original_units():
    X, y = _simulated()
    train, test = _folds()[2]
    costs = X[train, :N_CHANNELS].sum(axis=0)
    settings = dict(media_columns=MEDIA, media_prior=costs, **FAST)
    pipeline = Pipeline(
        [
            ("scale", CustomScaler(divide_operation=np.mean)),
            ("mmm", HillAdstockRegressor(**settings)),
        ]
    )
    _fit_quietly(pipeline, X[train], y[train])
    predicted = pipeline.predict(X[test])

    # The estimator scales by the means itself, so pre-scaling the columns
    # by their means leaves the model (and its predictions of y) unchanged.
    direct = _fit_quietly(HillAdstockRegressor(**settings), X[train], y[train])
    assert predicted.shape == (len(test),)
    np.testing.assert_allclose(predicted, direct.predict(X[test]), rtol=1e-3)
    # In the KPI's units (about 1e5 here), not the internal scale (about 1): a
    # 20-week fit with few draws forecasts the level only roughly.
    assert abs(predicted.mean() / y[test].mean() - 1) < 0.5


def test_grid_search_over_model_picks_a_model():
    X, y = _simulated()
    search = GridSearchCV(
        BayesianMMMRegressor(media_columns=MEDIA, **FAST),
        {"model": ["adstock", "hill_adstock", "carryover"]},
        cv=CV,
        refit=False,
        error_score="raise",
    )
    _fit_quietly(search, X, y)

    assert search.best_params_["model"] in {"adstock", "hill_adstock", "carryover"}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert len(search.cv_results_["params"]) == 3


def test_cross_val_score_runs_with_time_series_split():
    X, y = _simulated()
    est = BayesianMMMRegressor("hill_adstock", media_columns=MEDIA, **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(est, X, y, cv=CV, error_score="raise")
    assert scores.shape == (3,)
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("cls", REGRESSORS)
def test_regressor_get_params_set_params_round_trip(cls):
    est = cls(**FAST)
    params = est.get_params()
    assert "model" not in params
    assert params["number_warmup"] == FAST["number_warmup"]
    est.set_params(number_samples=7, media_columns=[0, 2])
    assert est.get_params()["number_samples"] == 7
    assert est.get_params()["media_columns"] == [0, 2]
    assert cls(**params).set_params(**params).get_params() == params


def test_bayesian_mmm_regressor_set_params_changes_model():
    est = BayesianMMMRegressor(**FAST)
    assert est.set_params(model="carryover").get_params()["model"] == "carryover"
    with pytest.raises(ValueError, match="model"):
        est.set_params(model="linear").fit(*_simulated())


def test_clone_of_fitted_regressor_is_unfitted():
    X, y = _simulated()
    train, _ = _folds()[0]
    est = _fit_quietly(
        HillAdstockRegressor(media_columns=MEDIA, **FAST), X[train], y[train]
    )

    cloned = clone(est)

    assert not hasattr(cloned, "posterior_")
    assert cloned.get_params() == est.get_params()
    assert type(cloned) is HillAdstockRegressor


def test_fitted_regressor_is_picklable_with_identical_predictions(tmp_path):
    X, y = _simulated()
    train, test = _folds()[0]
    est = _fit_quietly(
        HillAdstockRegressor(media_columns=MEDIA, **FAST), X[train], y[train]
    )
    expected = est.predict(X[test])

    path = tmp_path / "mmm.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(X[test]), expected)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(est)).predict(X[test]), expected
    )
