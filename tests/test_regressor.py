"""Tests for skmmm.regressor: fitting, prediction, time continuity, diagnostics."""

import copy
import io
import pickle
import sys
import warnings
from contextlib import redirect_stderr

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score

from skmmm import (
    AdstockRegressor,
    BayesianMMMRegressor,
    CarryoverRegressor,
    HillAdstockRegressor,
    load_example,
)
from skmmm.datasets import simulate_mmm_data
from skmmm.models import mean_components

REGRESSORS = [AdstockRegressor, HillAdstockRegressor, CarryoverRegressor]
MODEL_OF = {
    AdstockRegressor: "adstock",
    HillAdstockRegressor: "hill_adstock",
    CarryoverRegressor: "carryover",
}
# One shape and one set of sampler settings for (almost) every fit, so the
# compiled sampling program is reused.
SETTINGS = {
    "number_warmup": 100,
    "number_samples": 60,
    "number_chains": 2,
    "progress_bar": False,
}
TINY = {"number_warmup": 5, "number_samples": 20, "number_chains": 2}
N_DRAWS = SETTINGS["number_samples"] * SETTINGS["number_chains"]
N_TRAIN = 80
MEDIA = ["tv", "search"]

DATA = simulate_mmm_data(n_periods=104, n_channels=2, n_controls=1, seed=0)
X_TRAIN, Y_TRAIN = DATA.X.iloc[:N_TRAIN], DATA.y.iloc[:N_TRAIN]
X_TEST = DATA.X.iloc[N_TRAIN:]
FEATURES = list(DATA.X.columns)  # tv, search, price_index


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


_FITS: dict = {}


def _array_fit(cls, random_state=0):
    """``cls`` fitted on the training rows as plain arrays (cached)."""
    key = (cls, random_state)
    if key not in _FITS:
        estimator = cls(media_columns=[0, 1], random_state=random_state, **SETTINGS)
        _FITS[key] = _fit(estimator, X_TRAIN.to_numpy(), Y_TRAIN.to_numpy())
    return _FITS[key]


@pytest.fixture(scope="module")
def frame_fit():
    """HillAdstockRegressor fitted on a DataFrame with a DatetimeIndex."""
    estimator = HillAdstockRegressor(media_columns=MEDIA, random_state=0, **SETTINGS)
    return _fit(estimator, X_TRAIN, Y_TRAIN)


@pytest.fixture(scope="module")
def array_fit():
    return _array_fit(HillAdstockRegressor)


@pytest.fixture(scope="module", params=REGRESSORS, ids=lambda cls: cls.__name__)
def fitted(request):
    return _array_fit(request.param)


def _mu_draws(estimator, media, extra):
    """Independent recomputation of the KPI mean per draw on a timeline."""
    n_times = media.shape[0]
    params = {name: jnp.asarray(v) for name, v in estimator.posterior_.items()}
    mu = jax.vmap(
        lambda draw: mean_components(
            estimator.spec_,
            draw,
            jnp.asarray(media / estimator.media_scale_),
            jnp.asarray(extra / estimator.extra_scale_),
            jnp.arange(n_times, dtype=float),
        )["mu"]
    )(params)
    return np.asarray(mu) * estimator.target_scale_


# ------------------------------------------------------------------ fitting


def test_fit_dataframe_sets_fitted_attributes(frame_fit):
    est = frame_fit
    assert est.media_names_ == MEDIA
    assert list(est.feature_names_in_) == FEATURES
    assert est.n_features_in_ == 3
    assert est.n_media_channels_ == 2
    assert est.n_geos_ == 1
    assert est.extra_feature_names_ == ["price_index"]
    assert isinstance(est.divergences_, int) and est.divergences_ >= 0
    expected_shapes = {
        "intercept": (),
        "coef_trend": (),
        "expo_trend": (),
        "sigma": (),
        "gamma_seasonality": (2, 2),
        "coef_extra_features": (1,),
        "coef_media": (2,),
        "roi": (2,),  # the ROI at average spend, on which the prior sits
        "lag_weight": (2,),
        "half_max_effective_concentration": (2,),
        "slope": (2,),
    }
    assert {k: v.shape[1:] for k, v in est.posterior_.items()} == expected_shapes
    for name, draws in est.posterior_.items():
        assert draws.shape[0] == N_DRAWS, name
        assert np.all(np.isfinite(draws)), name
        assert np.shape(est.rhat_[name]) == expected_shapes[name]
        assert np.shape(est.ess_[name]) == expected_shapes[name]
    assert set(est.rhat_) == set(est.posterior_) == set(est.ess_)


def test_fit_array_has_no_feature_names(array_fit):
    assert not hasattr(array_fit, "feature_names_in_")
    assert array_fit.n_features_in_ == 3
    assert array_fit.n_media_channels_ == 2
    assert len(array_fit.media_names_) == 2


def test_fit_array_and_dataframe_give_same_posterior(frame_fit, array_fit):
    for name, draws in frame_fit.posterior_.items():
        np.testing.assert_allclose(array_fit.posterior_[name], draws, rtol=1e-5)


def test_fit_returns_self():
    est = HillAdstockRegressor(media_columns=[0, 1], random_state=0, **SETTINGS)
    assert _fit(est, X_TRAIN.to_numpy(), Y_TRAIN.to_numpy()) is est


@pytest.mark.parametrize("cls", REGRESSORS, ids=lambda cls: cls.__name__)
def test_fit_each_regressor_uses_its_model(cls):
    est = _array_fit(cls)
    assert est.spec_.model_name == MODEL_OF[cls]
    assert "level" not in est.posterior_ and "level_shares" not in est.posterior_


# --------------------------------------------------------------- prediction


def test_predict_in_original_units(fitted):
    prediction = fitted.predict(X_TRAIN.to_numpy())
    assert prediction.shape == (N_TRAIN,)
    # In original units: the training-row predictions track y closely.
    assert r2_score(Y_TRAIN, prediction) > 0.5
    assert prediction.mean() == pytest.approx(Y_TRAIN.mean(), rel=0.05)


def test_predict_without_x_rows_equals_training_rows(frame_fit):
    in_sample = frame_fit.predict(X_TRAIN)
    np.testing.assert_allclose(
        in_sample,
        _mu_draws(
            frame_fit, X_TRAIN[MEDIA].to_numpy(), X_TRAIN[["price_index"]].to_numpy()
        ).mean(0),
        rtol=1e-4,
    )


def test_predict_return_std(frame_fit):
    mean, std = frame_fit.predict(X_TEST, return_std=True)
    np.testing.assert_allclose(mean, frame_fit.predict(X_TEST))
    assert std.shape == mean.shape == (len(X_TEST),)
    assert np.all(std > 0)
    # Predictive variance = variance of the mean + mean noise variance.
    sigma = frame_fit.posterior_["sigma"] * frame_fit.target_scale_
    assert np.all(std >= np.sqrt(np.mean(sigma**2)) * (1 - 1e-6))
    draws = frame_fit.sample_posterior_predictive(X_TEST, random_state=0)
    np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.35)


def test_sample_posterior_predictive_shape_and_mean(frame_fit):
    draws = frame_fit.sample_posterior_predictive(X_TEST, random_state=0)
    assert draws.shape == (N_DRAWS, len(X_TEST))
    mean, std = frame_fit.predict(X_TEST, return_std=True)
    # Monte Carlo error of the mean of N_DRAWS draws, 5 standard errors.
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 5 * std / np.sqrt(N_DRAWS))


def test_sample_posterior_predictive_random_state(frame_fit):
    first = frame_fit.sample_posterior_predictive(X_TEST, random_state=1)
    again = frame_fit.sample_posterior_predictive(X_TEST, random_state=1)
    other = frame_fit.sample_posterior_predictive(X_TEST, random_state=2)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


# ----------------------------------------------------------- time continuity


def test_predict_array_continues_training_timeline(fitted):
    X_full = DATA.X.to_numpy()
    mu = _mu_draws(fitted, X_full[:, :2], X_full[:, 2:])
    expected = mu.mean(axis=0)[N_TRAIN:]
    np.testing.assert_allclose(fitted.predict(X_TEST.to_numpy()), expected, rtol=1e-4)


def test_predict_array_differs_from_prediction_without_history(fitted):
    X_full = DATA.X.to_numpy()
    # The same rows with zero media before them: adstock/carryover start cold.
    cold_media = X_full[:, :2].copy()
    cold_media[:N_TRAIN] = 0.0
    cold = _mu_draws(fitted, cold_media, X_full[:, 2:]).mean(axis=0)[N_TRAIN:]
    prediction = fitted.predict(X_TEST.to_numpy())
    # The history's carryover is largest in the first new period and decays
    # after it (by how much depends on the fitted lag weights).
    gap = np.abs(prediction[0] - cold[0])
    assert gap > 1e-3 * np.abs(prediction[0])


def test_predict_datetime_in_sample_rows_reproduce_fit(frame_fit):
    full = frame_fit.predict(X_TRAIN)
    np.testing.assert_allclose(
        frame_fit.predict(X_TRAIN.iloc[10:30]), full[10:30], rtol=1e-5
    )
    np.testing.assert_allclose(
        frame_fit.predict(X_TRAIN.iloc[[-1]]), full[-1:], rtol=1e-5
    )


def test_predict_datetime_after_training_matches_array_path(frame_fit, array_fit):
    np.testing.assert_allclose(
        frame_fit.predict(X_TEST),
        array_fit.predict(X_TEST.to_numpy()),
        rtol=1e-4,
    )


def test_predict_datetime_gap_without_media_gap_raises(frame_fit):
    with pytest.raises(ValueError, match="media_gap"):
        frame_fit.predict(X_TEST.iloc[5:])


def test_predict_datetime_gap_with_media_gap_matches_array_path(frame_fit, array_fit):
    expected = array_fit.predict(X_TEST.to_numpy())[5:]
    gap = X_TEST[MEDIA].iloc[:5]
    np.testing.assert_allclose(
        frame_fit.predict(X_TEST.iloc[5:], media_gap=gap), expected, rtol=1e-4
    )
    np.testing.assert_allclose(
        frame_fit.predict(X_TEST.iloc[5:], media_gap=gap.to_numpy()),
        expected,
        rtol=1e-4,
    )


def test_predict_array_with_media_gap_skips_gap_rows(array_fit):
    expected = array_fit.predict(X_TEST.to_numpy())[5:]
    gap = X_TEST[MEDIA].to_numpy()[:5]
    np.testing.assert_allclose(
        array_fit.predict(X_TEST.to_numpy()[5:], media_gap=gap), expected, rtol=1e-4
    )


# ------------------------------------------------------------ random_state


def test_random_state_same_seed_gives_identical_posterior(array_fit):
    again = _fit(
        HillAdstockRegressor(media_columns=[0, 1], random_state=0, **SETTINGS),
        X_TRAIN.to_numpy(),
        Y_TRAIN.to_numpy(),
    )
    for name, draws in array_fit.posterior_.items():
        np.testing.assert_array_equal(again.posterior_[name], draws)


def test_random_state_different_seeds_differ(array_fit):
    other = _array_fit(HillAdstockRegressor, random_state=1)
    assert not np.allclose(
        other.posterior_["coef_media"], array_fit.posterior_["coef_media"]
    )


# ----------------------------------------------------------------- summary


def test_summary_one_row_per_parameter_element(frame_fit):
    table = frame_fit.summary()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == [
        "mean",
        "sd",
        "5%",
        "median",
        "95%",
        "ess_bulk",
        "r_hat",
    ]
    n_elements = sum(int(np.prod(v.shape[1:])) for v in frame_fit.posterior_.values())
    assert len(table) == n_elements
    for label in [
        "intercept",
        "sigma",
        "coef_media[tv]",
        "coef_media[search]",
        "lag_weight[tv]",
        "slope[search]",
        "coef_extra_features[price_index]",
    ]:
        assert label in table.index, label
    coef = frame_fit.posterior_["coef_media"]
    assert table.loc["coef_media[search]", "mean"] == pytest.approx(
        coef[:, 1].mean(), rel=1e-6
    )
    assert table.loc["coef_media[tv]", "5%"] == pytest.approx(
        np.quantile(coef[:, 0], 0.05), rel=1e-6
    )
    assert table.loc["sigma", "r_hat"] == pytest.approx(float(frame_fit.rhat_["sigma"]))


def test_reduce_trace_keeps_n_draws(frame_fit):
    est = copy.deepcopy(frame_fit)
    assert est.reduce_trace(30, random_state=0) is est
    for name, draws in est.posterior_.items():
        assert draws.shape[0] == 30, name
    prediction = est.predict(X_TEST)
    assert prediction.shape == (len(X_TEST),)
    np.testing.assert_allclose(prediction, frame_fit.predict(X_TEST), rtol=0.1)
    assert est.sample_posterior_predictive(X_TEST).shape == (30, len(X_TEST))
    # The fixture keeps all its draws.
    assert frame_fit.posterior_["sigma"].shape[0] == N_DRAWS


@pytest.mark.parametrize("n_draws", [0, N_DRAWS + 1])
def test_reduce_trace_rejects_bad_count(frame_fit, n_draws):
    with pytest.raises(ValueError, match="n_draws"):
        copy.deepcopy(frame_fit).reduce_trace(n_draws)


# ------------------------------------------------------------- diagnostics


def test_fit_warns_on_poor_convergence_naming_parameter():
    # progress_bar=True as in the next test: the same compiled program.
    est = HillAdstockRegressor(
        media_columns=MEDIA, random_state=0, progress_bar=True, **TINY
    )
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X_TRAIN, Y_TRAIN)
    message = " ".join(
        str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)
    )
    assert "r_hat" in message or "divergent" in message
    assert any(name in message for name in est.posterior_), message
    # The warning points at the caller's fit line, not inside skmmm.
    assert {
        w.filename for w in record if issubclass(w.category, ConvergenceWarning)
    } == {__file__}


@pytest.mark.parametrize(
    "parametrization, depth, expected",
    [
        ("skmmm", None, (6, 10)),
        ("lightweight_mmm", None, (10, 10)),
        ("skmmm", 8, (8, 8)),
        ("lightweight_mmm", (4, 9), (4, 9)),
    ],
)
def test_max_tree_depth_resolves_to_warmup_and_sampling_depths(
    parametrization, depth, expected
):
    est = HillAdstockRegressor(parametrization=parametrization, max_tree_depth=depth)
    assert est._tree_depths() == expected


@pytest.mark.parametrize("depth", [(6,), (6, 10, 12), (0, 10), (6, 2.5), (True, 10)])
def test_fit_rejects_bad_max_tree_depth_pair(depth):
    est = HillAdstockRegressor(media_columns=MEDIA, max_tree_depth=depth, **TINY)
    with pytest.raises(ValueError, match="max_tree_depth"):
        est.fit(X_TRAIN, Y_TRAIN)


def test_max_tree_depth_pair_caps_sampling_trees_with_its_second_depth():
    est = HillAdstockRegressor(
        media_columns=MEDIA, max_tree_depth=(10, 2), random_state=0, **TINY
    )
    _fit(est, X_TRAIN, Y_TRAIN)
    # A tree of depth 2 has at most 2**2 - 1 leapfrog steps.
    assert est.sampling_info_["n_steps"].max() <= 3


def test_progress_bar_true_writes_to_stderr(capsys):
    est = HillAdstockRegressor(
        media_columns=MEDIA, random_state=0, progress_bar=True, **TINY
    )
    _fit(est, X_TRAIN, Y_TRAIN)
    assert "sampling" in capsys.readouterr().err


def test_progress_bar_auto_is_quiet_without_tty(capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    est = HillAdstockRegressor(
        media_columns=MEDIA,
        random_state=0,
        progress_bar="auto",
        **{k: v for k, v in SETTINGS.items() if k != "progress_bar"},
    )
    _fit(est, X_TRAIN, Y_TRAIN)
    assert capsys.readouterr().err == ""


def test_progress_bar_auto_shows_on_tty(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    est = HillAdstockRegressor(
        media_columns=MEDIA, random_state=0, progress_bar="auto", **TINY
    )
    terminal = Terminal()
    with redirect_stderr(terminal):
        _fit(est, X_TRAIN, Y_TRAIN)
    assert "sampling" in terminal.getvalue()


def test_fit_zero_media_channel_warns_and_stays_finite():
    X = X_TRAIN.copy()
    X["search"] = 0.0
    est = HillAdstockRegressor(media_columns=MEDIA, random_state=0, **SETTINGS)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, Y_TRAIN)
    user = [w for w in record if w.category is UserWarning]
    assert any("search" in str(w.message) for w in user), [
        str(w.message) for w in record
    ]
    for name, draws in est.posterior_.items():
        assert np.all(np.isfinite(draws)), name
    prediction = est.predict(X)
    assert np.all(np.isfinite(prediction))


def test_fit_lightweight_mmm_parametrization():
    est = HillAdstockRegressor(
        media_columns=MEDIA,
        parametrization="lightweight_mmm",
        random_state=0,
        **SETTINGS,
    )
    _fit(est, X_TRAIN, Y_TRAIN)
    assert est.spec_.trend_time_scale == 1.0
    assert "level" not in est.posterior_
    for draws in est.posterior_.values():
        assert np.all(np.isfinite(draws))
    assert est.predict(X_TEST).shape == (len(X_TEST),)
    assert r2_score(Y_TRAIN, est.predict(X_TRAIN)) > 0.3


# ------------------------------------------------------------ bad parameters


def test_fit_custom_priors_unknown_name_raises():
    est = HillAdstockRegressor(custom_priors={"lag_wieght": 0.5}, **TINY)
    with pytest.raises(ValueError, match="lag_wieght"):
        est.fit(X_TRAIN, Y_TRAIN)


def test_fit_custom_priors_on_both_roi_and_coef_media_raises():
    est = HillAdstockRegressor(custom_priors={"roi": (0.0, 1.0), "coef_media": 1.0})
    with pytest.raises(ValueError, match="both 'coef_media' and 'roi'"):
        est.fit(X_TRAIN, Y_TRAIN)


def test_fit_roi_prior_is_unknown_in_lightweight_mmm_parametrization():
    est = HillAdstockRegressor(
        custom_priors={"roi": (0.0, 1.0)}, parametrization="lightweight_mmm", **TINY
    )
    with pytest.raises(ValueError, match="'roi'"):
        est.fit(X_TRAIN, Y_TRAIN)


def test_fit_with_a_prior_that_makes_the_start_infinite_raises_before_sampling():
    import numpyro.distributions as dist

    # A negative noise scale: every starting point has a NaN log density.
    est = HillAdstockRegressor(
        media_columns=MEDIA, custom_priors={"sigma": dist.Uniform(-2.0, -1.0)}, **TINY
    )
    with pytest.raises(ValueError, match="starting point"):
        est.fit(X_TRAIN, Y_TRAIN)
    assert not hasattr(est, "posterior_")


def test_fit_unknown_model_raises():
    with pytest.raises(ValueError, match="model"):
        BayesianMMMRegressor(model="linear", **TINY).fit(X_TRAIN, Y_TRAIN)


@pytest.mark.parametrize(
    "media_prior, match",
    [
        ([1.0], "1 values but there are 2"),
        ([1.0, 2.0, 3.0], "3 values"),
        ([1.0, 0.0], "search"),
        ([-1.0, 2.0], "tv"),
        ([np.nan, 2.0], "tv"),
    ],
)
def test_fit_rejects_bad_media_prior(media_prior, match):
    est = HillAdstockRegressor(media_columns=MEDIA, media_prior=media_prior, **TINY)
    with pytest.raises(ValueError, match=match):
        est.fit(X_TRAIN, Y_TRAIN)


# --------------------------------------------------------------- bad inputs


def _with(X, row, column, value):
    X = X.copy()
    X.iloc[row, X.columns.get_loc(column)] = value
    return X


def _reindexed(positions):
    X, y = X_TRAIN.iloc[positions].copy(), Y_TRAIN.iloc[positions].copy()
    return X, y


def _duplicate_dates():
    X, y = X_TRAIN.copy(), Y_TRAIN.copy()
    dates = X.index.tolist()
    dates[5] = dates[4]
    X.index = y.index = pd.DatetimeIndex(dates, name="date")
    return X, y


BAD_INPUTS = {
    "nan_media": (lambda: (_with(X_TRAIN, 7, "tv", np.nan), Y_TRAIN), r"'tv'.*row 7"),
    "inf_control": (
        lambda: (_with(X_TRAIN, 9, "price_index", np.inf), Y_TRAIN),
        r"'price_index'.*row 9",
    ),
    "negative_media": (
        lambda: (_with(X_TRAIN, 11, "search", -1.0), Y_TRAIN),
        r"'search'.*row 11",
    ),
    "nan_target": (
        lambda: (X_TRAIN, Y_TRAIN.where(np.arange(N_TRAIN) != 3)),
        r"sales.*row 3",
    ),
    "one_dimensional_X": (
        lambda: (X_TRAIN["tv"].to_numpy(), Y_TRAIN.to_numpy()),
        "2D",
    ),
    "length_mismatch": (lambda: (X_TRAIN, Y_TRAIN.iloc[:70]), "80.*70"),
    "too_few_periods": (lambda: (X_TRAIN.iloc[:3], Y_TRAIN.iloc[:3]), "at least"),
    "unsorted_dates": (
        lambda: _reindexed([1, 0] + list(range(2, N_TRAIN))),
        "not in time order",
    ),
    "duplicate_dates": (_duplicate_dates, "duplicate"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_fit_rejects_bad_input(case):
    make, match = BAD_INPUTS[case]
    X, y = make()
    media_columns = MEDIA if isinstance(X, pd.DataFrame) else [0]
    est = HillAdstockRegressor(media_columns=media_columns, **TINY)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)


def test_predict_rejects_different_columns(frame_fit):
    renamed = X_TEST.rename(columns={"search": "social"})
    with pytest.raises(ValueError, match="search|social"):
        frame_fit.predict(renamed)


def test_predict_rejects_wrong_number_of_features(array_fit):
    with pytest.raises(ValueError, match="3 features"):
        array_fit.predict(X_TEST.to_numpy()[:, :2])


def test_predict_rejects_negative_media(array_fit):
    X = X_TEST.to_numpy().copy()
    X[4, 1] = -5.0
    with pytest.raises(ValueError, match="row 4"):
        array_fit.predict(X)


def test_predict_before_fit_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        HillAdstockRegressor().predict(X_TEST)


# ------------------------------------------------------------ sklearn rules


def test_pickle_round_trip_gives_identical_predictions(frame_fit):
    restored = pickle.loads(pickle.dumps(frame_fit))
    np.testing.assert_array_equal(restored.predict(X_TEST), frame_fit.predict(X_TEST))
    assert restored.media_names_ == frame_fit.media_names_


@pytest.mark.parametrize("cls", REGRESSORS, ids=lambda cls: cls.__name__)
def test_fixed_model_regressor_has_no_model_parameter(cls):
    est = cls(media_columns=MEDIA, number_warmup=7)
    params = est.get_params()
    assert "model" not in params
    assert est.model == MODEL_OF[cls]
    cloned = clone(est)
    assert type(cloned) is cls
    assert cloned.get_params() == params
    assert cloned.number_warmup == 7
    with pytest.raises(ValueError):
        est.set_params(model="adstock")


def test_bayesian_mmm_regressor_model_is_a_parameter():
    est = BayesianMMMRegressor(model="carryover")
    assert est.get_params()["model"] == "carryover"
    assert clone(est).set_params(model="adstock").model == "adstock"
    assert set(est.get_params()) - {"model"} == set(HillAdstockRegressor().get_params())


# ------------------------------------------------------------ units


def _units_fit(model, X, y, media_prior=None, **params):
    estimator = BayesianMMMRegressor(
        model,
        media_columns=MEDIA,
        media_prior=media_prior,
        random_state=3,
        **{**SETTINGS, **params},
    )
    return _fit(estimator, X, y)


def _shares_and_roi(estimator):
    from skmmm import attribution

    table = attribution.summary(estimator)
    return table[["share_mean", "share_lower", "share_upper"]], table[
        ["roi_mean", "roi_lower", "roi_upper"]
    ]


_UNIT_BASE: dict = {}


def _unit_base(model):
    if model not in _UNIT_BASE:
        _UNIT_BASE[model] = _shares_and_roi(_units_fit(model, X_TRAIN, Y_TRAIN))
    return _UNIT_BASE[model]


@pytest.mark.parametrize("model", ["adstock", "hill_adstock", "carryover"])
@settings(max_examples=6, deadline=None)
@given(
    log_a=st.floats(np.log10(1e-4), np.log10(1e6)),
    log_b=st.floats(np.log10(1e-3), np.log10(1e3)),
)
def test_default_priors_do_not_depend_on_units(model, log_a, log_b):
    """KPI x a and media (= spend) x b: same shares, ROI x a / b."""
    a, b = 10.0**log_a, 10.0**log_b
    shares, roi = _unit_base(model)
    X = X_TRAIN.copy()
    X[MEDIA] = X[MEDIA] * b
    scaled_shares, scaled_roi = _shares_and_roi(_units_fit(model, X, Y_TRAIN * a))
    np.testing.assert_allclose(scaled_shares, shares, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(scaled_roi.to_numpy() * b / a, roi, rtol=1e-3)


def test_media_units_do_not_matter_when_costs_are_given():
    """Impressions in any unit per channel, costs in currency: the same answer."""
    costs = X_TRAIN[MEDIA].sum().to_numpy()
    shares, roi = _shares_and_roi(_units_fit("adstock", X_TRAIN, Y_TRAIN, costs))
    X = X_TRAIN.copy()
    X[MEDIA] = X[MEDIA] * [1e3, 0.02]  # e.g. impressions and thousands of clicks
    scaled_shares, scaled_roi = _shares_and_roi(
        _units_fit("adstock", X, Y_TRAIN, costs)
    )
    np.testing.assert_allclose(scaled_shares, shares, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(scaled_roi, roi, rtol=1e-3)


def test_custom_roi_prior_is_absolute():
    """custom_priors={"roi": ...} states ROI in KPI per unit of cost."""
    estimator = _units_fit(
        "adstock",
        X_TRAIN,
        Y_TRAIN,
        custom_priors={"roi": (np.log(3.0), 0.01)},
        number_warmup=500,
    )
    assert estimator.roi_reference_ == 1.0
    np.testing.assert_allclose(
        np.median(estimator.posterior_["roi"], axis=0), 3.0, rtol=0.05
    )
    default = _units_fit("adstock", X_TRAIN, Y_TRAIN)
    expected = Y_TRAIN.sum() / X_TRAIN[MEDIA].to_numpy().sum()
    assert default.roi_reference_ == pytest.approx(expected)
    prior = default.roi_prior()
    np.testing.assert_allclose(np.exp(np.asarray(prior.loc)), 0.2 * expected, rtol=1e-5)


def test_reordering_channels_reorders_the_answers():
    converged = {"number_warmup": 500, "number_samples": 500}
    forward = _units_fit("adstock", X_TRAIN, Y_TRAIN, **converged)
    reordered = BayesianMMMRegressor(
        "adstock",
        media_columns=MEDIA[::-1],
        random_state=3,
        **{**SETTINGS, **converged},
    )
    _fit(reordered, X_TRAIN[MEDIA[::-1] + ["price_index"]], Y_TRAIN)
    from skmmm import attribution

    draws = attribution.roi(forward)
    other = attribution.roi(reordered)
    assert list(other.columns) == MEDIA[::-1]
    # Different parameter order, different random streams: equal within the
    # posterior's spread.
    difference = (other[MEDIA].mean() - draws.mean()).abs()
    assert (difference < 0.5 * draws.std()).all(), (difference, draws.std())


def test_refit_with_other_custom_prior_values_uses_them():
    """The compiled program is keyed on the priors' values, not only their class."""
    first = _units_fit("adstock", X_TRAIN, Y_TRAIN, custom_priors={"sigma": (1.0, 1.0)})
    second = _units_fit(
        "adstock", X_TRAIN, Y_TRAIN, custom_priors={"sigma": (1.0, 1e4)}
    )
    assert np.median(second.posterior_["sigma"]) < 0.5 * np.median(
        first.posterior_["sigma"]
    )


@pytest.mark.parametrize("interval", [-1, 0, 1, 1.5, float("nan")])
def test_summary_refuses_an_interval_outside_zero_one(interval):
    est = _fit(BayesianMMMRegressor(media_columns=MEDIA, **SETTINGS), X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="interval must be a number between 0 and 1"):
        est.summary(interval=interval)


def test_values_beyond_float32_are_a_value_error_naming_the_column():
    X = X_TRAIN.copy()
    X.iloc[3, 0] = 1e39
    est = BayesianMMMRegressor(media_columns=MEDIA, **TINY)
    with pytest.raises(ValueError, match="column 'tv' holds 1e\\+39 at row 3"):
        est.fit(X, Y_TRAIN)
    with pytest.raises(ValueError, match=r"y \('sales'\) holds .* 32-bit floats"):
        est.fit(X_TRAIN, Y_TRAIN * 1e36)


def test_undated_training_rows_are_in_sample():
    """pd.read_csv gives no dates: predict/score on the training rows is in-sample."""
    from skmmm import attribution

    X, y = X_TRAIN.reset_index(drop=True), Y_TRAIN.reset_index(drop=True)
    est = _fit(BayesianMMMRegressor(media_columns=MEDIA, **SETTINGS), X, y)
    in_sample = est.predict(X)
    training = attribution.contributions(est).sum(axis=1).to_numpy()
    np.testing.assert_allclose(in_sample, training, rtol=1e-5)
    np.testing.assert_allclose(
        attribution.contributions(est, X).to_numpy(),
        attribution.contributions(est).to_numpy(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(est.predict(X.iloc[20:30]), in_sample[20:30], rtol=1e-6)
    assert est.score(X, y) == pytest.approx(r2_score(y, in_sample))
    # Rows that are not training rows continue after the training data.
    changed = X.iloc[20:30].copy()
    changed.iloc[0, 0] += 1.0
    continued = est.predict(changed)
    assert not np.allclose(continued, in_sample[20:30], rtol=1e-3)
    # History then a plan: the history in-sample, the plan right after it.
    after = est.predict(pd.concat([X, changed], ignore_index=True))
    np.testing.assert_allclose(after[:80], in_sample, rtol=1e-5)
    np.testing.assert_allclose(after[80:], continued, rtol=1e-5)


def test_prior_predictive_draws_before_fitting_on_the_data_s_scale():
    data = load_example()
    est = AdstockRegressor(media_columns=data.media_columns)
    draws = est.sample_prior_predictive(data.X, data.y, n_draws=200, random_state=0)
    assert draws.shape == (200, len(data.y)) and np.isfinite(draws).all()
    # Relative priors: the draws are on the KPI's scale, wide but not absurd.
    assert 0.3 < np.median(draws) / data.y.mean() < 3
    assert not hasattr(est, "posterior_")  # nothing fitted or stored
    again = est.sample_prior_predictive(data.X, data.y, n_draws=200, random_state=0)
    np.testing.assert_array_equal(again, draws)
    # The KPI in other units: the draws scale with it.
    scaled = est.sample_prior_predictive(
        data.X, 1e-3 * data.y, n_draws=200, random_state=0
    )
    np.testing.assert_allclose(scaled, 1e-3 * draws, rtol=1e-4)
    with pytest.raises(ValueError, match="n_draws"):
        est.sample_prior_predictive(data.X, data.y, n_draws=0)


# ------------------------------------------------------------- fill_missing


def test_missing_weeks_are_refused_naming_them_and_fill_missing(national_data):
    data = national_data
    X, y = data.X.drop(data.X.index[[20, 21]]), data.y.drop(data.y.index[[20, 21]])
    est = AdstockRegressor(media_columns=data.media_columns, progress_bar=False)
    dates = ", ".join(f"{d:%Y-%m-%d}" for d in data.X.index[[20, 21]])
    with pytest.raises(ValueError, match=rf"\({dates}\).*fill_missing='zero'"):
        est.fit(X, y)


def test_fill_missing_is_a_validated_constructor_parameter():
    est = AdstockRegressor(fill_missing={"tv": 0.0})
    assert clone(est).get_params()["fill_missing"] == {"tv": 0.0}
    with pytest.raises(ValueError, match="fill_missing"):
        AdstockRegressor(fill_missing="mean").fit(np.ones((10, 1)), np.ones(10))


def test_fill_missing_fit_reports_only_the_rows_x_had(filled_national_fit):
    est, X, y = filled_national_fit
    present = est.training_data_.present
    assert len(present) == len(X) + 3 and np.flatnonzero(~present).tolist() == [
        20,
        21,
        90,
    ]
    assert est.target_scale_ == pytest.approx(y.mean())
    predicted = est.predict(X)
    assert predicted.shape == (len(X),) and est.score(X, y) > 0.8
    contributions = est.contributions()
    assert contributions.index.equals(X.index)
    np.testing.assert_allclose(contributions.sum(axis=1), predicted, rtol=1e-5)
    np.testing.assert_allclose(
        est.roi().mean().to_numpy(),
        contributions[est.media_names_].sum().to_numpy() / est.media_prior_,
        rtol=1e-5,
    )
    log_likelihood = est.fitted_.log_likelihood()[:, :, 0]
    np.testing.assert_array_equal(np.isnan(log_likelihood).any(axis=0), ~present)
    # The inserted weeks carry the media history: the week after them is the
    # same prediction whether X has the gap or not.
    rows = X.iloc[[19, 20]]
    np.testing.assert_allclose(est.predict(rows), predicted[[19, 20]], rtol=1e-6)
