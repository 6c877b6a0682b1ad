"""PanelTimeSeriesSplit, compare_models, fit_many and their joblib/Dask runs.

The national fits use the same shapes (40 training weeks, 2 channels, no
controls) and sampler settings, so they compile one NUTS program; they are
cached per module and shared between tests. The geo tests at the end fit the
shapes of conftest.py's ``geo_fit`` (3 geos, 60 training weeks).
"""

import doctest
import functools
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from _geo import N_CHANNELS, N_GEOS, N_PERIODS
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_percentage_error, r2_score
from sklearn.model_selection import (
    GridSearchCV,
    TimeSeriesSplit,
    cross_val_score,
)

import skmmm.model_selection
from skmmm import (
    AdstockRegressor,
    BayesianMMMRegressor,
    PanelTimeSeriesSplit,
    compare_models,
    fit_many,
    load_example,
)
from skmmm.datasets import simulate_mmm_data
from skmmm.model_selection import RESULT_COLUMNS, crps_ensemble

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

MCMC = dict(
    number_warmup=100,
    number_samples=100,
    number_chains=1,
    degrees_seasonality=1,
    progress_bar=False,
)
CHANNELS = ["tv", "search"]
# Two folds with the same 40 training weeks (one compiled program): train on
# rows 8..47 and predict 48..55, and train on rows 0..39 and predict 40..47.
CV = TimeSeriesSplit(n_splits=2, test_size=8, max_train_size=40)
TRAIN = np.arange(8, 48)
TEST = np.arange(48, 56)


@functools.cache
def weekly(seed: int = 3):
    data = simulate_mmm_data(
        n_periods=56,
        n_channels=2,
        model="adstock",
        n_controls=0,
        seed=seed,
        media_share=0.4,
        noise_level=0.03,
    )
    return data.X, data.y


def seeded_estimator(**params):
    return AdstockRegressor(media_columns=CHANNELS, random_state=7, **MCMC, **params)


SEEDED = seeded_estimator()


def backtest_models():
    return {"seeded": SEEDED, "by_name": "adstock"}


@functools.cache
def backtest():
    X, y = weekly()
    return compare_models(
        backtest_models(),
        X,
        y,
        cv=CV,
        scoring="neg_mean_absolute_error",
        model_params=dict(media_columns=CHANNELS, **MCMC),
        random_state=0,
    )


@functools.cache
def reference_fit():
    """The seeded model fitted on the last fold's training rows, by hand."""
    X, y = weekly()
    return seeded_estimator().fit(X.iloc[TRAIN], y.iloc[TRAIN])


def brands() -> pd.DataFrame:
    """Two brands of 40 weeks; brand "a" is exactly the reference fit's data."""
    X, y = weekly()
    other_X, other_y = weekly(seed=4)
    frames = [
        X.iloc[TRAIN].assign(sales=y.iloc[TRAIN].to_numpy(), brand="a"),
        other_X.iloc[:40].assign(sales=other_y.iloc[:40].to_numpy(), brand="b"),
    ]
    return pd.concat(frames)


@functools.cache
def brand_fits():
    return fit_many(seeded_estimator(), brands(), group_columns="brand", target="sales")


# ------------------------------------------------------ PanelTimeSeriesSplit


def long_panel(n_dates: int = 20, geos=("north", "south", "east"), seed: int = 0):
    """A long panel with rows in shuffled order and a DatetimeIndex."""
    dates = pd.date_range("2023-01-02", periods=n_dates, freq="W-MON")
    frame = pd.DataFrame(
        {
            "date": np.repeat(dates, len(geos)),
            "geo": np.tile(geos, n_dates),
            "tv": np.arange(n_dates * len(geos), dtype=float),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize(
    "params",
    [
        dict(n_splits=3),
        dict(n_splits=2, test_size=4, gap=2),
        dict(n_splits=4, test_size=3, max_train_size=5),
    ],
)
def test_panel_split_is_time_series_split_of_the_dates(params):
    panel = long_panel()
    cv = PanelTimeSeriesSplit(**params, date_column="date")
    unique_dates = np.sort(panel["date"].unique())
    expected = list(TimeSeriesSplit(**params).split(unique_dates))
    folds = list(cv.split(panel))
    assert len(folds) == cv.get_n_splits() == params["n_splits"]
    for (train, test), (train_dates, test_dates) in zip(folds, expected, strict=True):
        np.testing.assert_array_equal(train, np.sort(train))
        np.testing.assert_array_equal(test, np.sort(test))
        # Exactly the rows of the expected dates: every geo of a date, one side.
        assert set(panel["date"].iloc[train]) == set(unique_dates[train_dates])
        assert set(panel["date"].iloc[test]) == set(unique_dates[test_dates])
        assert len(train) == 3 * len(train_dates)
        assert len(test) == 3 * len(test_dates)
        assert panel["date"].iloc[test].min() > panel["date"].iloc[train].max()


def test_panel_split_reads_dates_from_index_level_and_strings():
    panel = long_panel()
    by_column = [
        (train.tolist(), test.tolist())
        for train, test in PanelTimeSeriesSplit(3, date_column="date").split(panel)
    ]
    as_strings = panel.assign(date=panel["date"].dt.strftime("%Y-%m-%d"))
    with_index = panel.set_index("date")
    with_levels = panel.set_index(["geo", "date"])
    for X, date_column in (
        (as_strings, "date"),
        (with_index, None),
        (with_levels, None),
    ):
        folds = PanelTimeSeriesSplit(3, date_column=date_column).split(X)
        assert [(a.tolist(), b.tolist()) for a, b in folds] == by_column


def test_panel_split_errors_name_the_problem():
    panel = long_panel(n_dates=6)
    with pytest.raises(ValueError, match=r"at least 9 distinct dates.*has 6"):
        list(PanelTimeSeriesSplit(4, test_size=2, date_column="date").split(panel))
    with pytest.raises(ValueError, match="needs the dates of X"):
        list(PanelTimeSeriesSplit(2).split(panel))
    with pytest.raises(ValueError, match="not a column of X"):
        list(PanelTimeSeriesSplit(2, date_column="week").split(panel))
    with pytest.raises(ValueError, match="n_splits must be an integer >= 2"):
        list(PanelTimeSeriesSplit(1, date_column="date").split(panel))
    missing = panel.astype({"date": object})
    missing.loc[4, "date"] = None
    with pytest.raises(ValueError, match="missing date.*row 4"):
        list(PanelTimeSeriesSplit(2, date_column="date").split(missing))


class _LastTrainingDate(RegressorMixin, BaseEstimator):
    """Remembers the last training date; scores 1 if test dates come later."""

    def fit(self, X, y):
        self.last_date_ = X.index.max()
        self.n_dates_ = X.index.nunique()
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def score(self, X, y):
        return float(X.index.min() > self.last_date_)


def test_panel_split_in_cross_val_score_and_grid_search():
    panel = long_panel(n_dates=16).set_index("date")
    X, y = panel[["tv"]], panel["tv"] * 2.0
    scores = cross_val_score(_LastTrainingDate(), X, y, cv=PanelTimeSeriesSplit(3))
    np.testing.assert_array_equal(scores, [1.0, 1.0, 1.0])

    search = GridSearchCV(Ridge(), {"alpha": [0.1, 10.0]}, cv=PanelTimeSeriesSplit(3))
    search.fit(X, y)
    assert search.n_splits_ == 3
    assert search.best_params_ == {"alpha": 0.1}


def test_docstring_examples():
    result = doctest.testmod(skmmm.model_selection, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted >= 2


# -------------------------------------------------------------------- CRPS


def test_crps_of_a_point_forecast_is_the_absolute_error():
    np.testing.assert_allclose(
        crps_ensemble(np.full((5, 3), 2.0), [1.0, 2.0, 4.5]), [1.0, 0.0, 2.5]
    )


def test_crps_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    draws, observed = rng.normal(size=(30, 4)), rng.normal(size=4)
    accuracy = np.abs(draws - observed).mean(axis=0)
    spread = np.abs(draws[:, None, :] - draws[None, :, :]).mean(axis=(0, 1))
    np.testing.assert_allclose(crps_ensemble(draws, observed), accuracy - spread / 2)


def test_crps_of_a_normal_matches_its_closed_form():
    draws = np.random.default_rng(1).normal(size=(20000, 1))
    # CRPS(N(0, 1), 0) = 2 phi(0) - 1 / sqrt(pi).
    expected = 2 / np.sqrt(2 * np.pi) - 1 / np.sqrt(np.pi)
    np.testing.assert_allclose(crps_ensemble(draws, [0.0]), [expected], rtol=0.02)


# ----------------------------------------------------------- compare_models


def test_compare_models_returns_one_row_per_model_and_fold():
    """The tool to choose between models by out-of-sample fit (LMMM #326)."""
    table = backtest()
    assert list(table.columns) == RESULT_COLUMNS + ["neg_mean_absolute_error"]
    assert table[["model", "fold"]].values.tolist() == [
        ["seeded", 0],
        ["seeded", 1],
        ["by_name", 0],
        ["by_name", 1],
    ]
    assert (table["n_train"] == 40).all() and (table["n_test"] == 8).all()
    assert table["coverage"].between(0, 1).all()
    assert (table["crps"] > 0).all() and (table["mape"] > 0).all()
    assert np.isfinite(table["max_rhat"]).all()  # split r_hat of one chain
    assert (table["divergences"] >= 0).all() and (table["fit_seconds"] > 0).all()
    # The simulated series is well predicted one quarter ahead.
    assert table["r2"].mean() > 0.3


def test_compare_models_scores_each_fold_as_a_fit_by_hand():
    X, y = weekly()
    row = backtest().set_index(["model", "fold"]).loc[("seeded", 1)]
    predicted = reference_fit().predict(X.iloc[TEST])
    observed = y.iloc[TEST].to_numpy()
    assert row["r2"] == pytest.approx(r2_score(observed, predicted), rel=1e-9)
    assert row["mape"] == pytest.approx(
        mean_absolute_percentage_error(observed, predicted), rel=1e-9
    )
    assert row["neg_mean_absolute_error"] == pytest.approx(
        -np.mean(np.abs(observed - predicted)), rel=1e-9
    )


def test_compare_models_leaves_estimators_unfitted():
    backtest()
    assert not hasattr(SEEDED, "posterior_")
    assert SEEDED.get_params() == seeded_estimator().get_params()


def test_compare_models_continues_arrays_and_passes_the_gap():
    """Plain arrays continue after training; a gap goes in as media_gap.

    Both folds train on the reference fit's rows with its seed, so they
    reproduce it: the first predicts the next 8 weeks, the second skips two.
    """
    X, y = weekly()
    reference = reference_fit()
    folds = [(TRAIN, TEST), (TRAIN, TEST[2:])]
    table = compare_models(
        AdstockRegressor(media_columns=[0, 1], random_state=7, **MCMC),
        X.to_numpy(),
        y.to_numpy(),
        cv=folds,
        random_state=0,
    )
    for (_, test), r2 in zip(folds, table["r2"], strict=True):
        gap = X.iloc[TRAIN[-1] + 1 : test[0]]
        predicted = reference.predict(X.iloc[test], media_gap=gap if len(gap) else None)
        assert r2 == pytest.approx(r2_score(y.iloc[test], predicted), rel=1e-9)


def test_compare_models_places_dated_rows_after_a_gap():
    X, y = weekly()
    table = compare_models(seeded_estimator(), X, y, cv=[(TRAIN, TEST[3:])])
    gap = X.iloc[TEST[:3]]
    predicted = reference_fit().predict(X.iloc[TEST[3:]], media_gap=gap)
    assert table["r2"].iloc[0] == pytest.approx(
        r2_score(y.iloc[TEST[3:]], predicted), rel=1e-9
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(cv=[(np.arange(10, 20), np.arange(5, 12))]), "Fold 0: test row 5"),
        (dict(cv=[(np.arange(0, 20), np.array([21, 23]))]), "not consecutive"),
        (dict(cv=[(np.arange(0, 20), [])]), "empty training or test"),
        (dict(cv="five"), "cv must be None, an int"),
        (dict(interval=1.5), "interval must be in"),
    ],
)
def test_compare_models_rejects_bad_folds(kwargs, message):
    """Hold-outs must be chronological, never random (MER #680)."""
    X, y = weekly()
    with pytest.raises(ValueError, match=message):
        compare_models(seeded_estimator(), X.to_numpy(), y.to_numpy(), **kwargs)


def test_compare_models_errors_name_the_model_and_fold():
    X, y = weekly()
    X = X.copy()
    X.iloc[20, 0] = np.nan
    with pytest.raises(ValueError, match=r"Model 'seeded', fold 0: .*'tv'.*row 12"):
        compare_models({"seeded": SEEDED}, X, y, cv=[(TRAIN, TEST)])


def test_compare_models_rejects_bad_models_and_lengths():
    X, y = weekly()
    with pytest.raises(ValueError, match="Unknown model name 'hill'"):
        compare_models(["adstock", "hill"], X, y)
    with pytest.raises(ValueError, match="model names .* or unfitted estimators"):
        compare_models([42], X, y)
    with pytest.raises(ValueError, match="X has 56 rows but y has 50"):
        compare_models("adstock", X, y.iloc[:50])


def test_compare_models_default_folds_are_quarters():
    X, y = weekly()
    folds = skmmm.model_selection._folds(None, X, y, [seeded_estimator()])
    assert [len(test) for _, test in folds] == [13, 13, 13]
    assert folds[-1][1][-1] == len(X) - 1
    assert len(skmmm.model_selection._folds(2, X, y, [seeded_estimator()])) == 2


# ----------------------------------------------------------------- fit_many


def test_fit_many_fits_one_clone_per_group():
    estimator = seeded_estimator()
    models = brand_fits()
    assert list(models) == ["a", "b"]
    assert models["a"] is not models["b"] and not hasattr(estimator, "posterior_")
    for model in models.values():
        assert model.n_train_periods_ == 40
        assert model.media_names_ == CHANNELS
    # Brand "a" holds the reference fit's rows: same data, same seed.
    for name, draws in reference_fit().posterior_.items():
        np.testing.assert_array_equal(models["a"].posterior_[name], draws)
    assert not np.array_equal(
        models["a"].posterior_["coef_media"], models["b"].posterior_["coef_media"]
    )


def test_fit_many_names_the_group_with_bad_data():
    data = brands()
    data.loc[data["brand"] == "a", "kpi"] = "sales"
    data.loc[data["brand"] == "b", "kpi"] = "sales"
    data.iloc[5, data.columns.get_loc("tv")] = -1.0  # a row of brand "a"
    with pytest.raises(ValueError, match=r"Group \('a', 'sales'\): .*'tv'"):
        fit_many(
            seeded_estimator(),
            data,
            group_columns=["brand", "kpi"],
            target="sales",
            feature_columns=CHANNELS,
        )


def test_fit_many_rejects_missing_columns_and_groups():
    data = brands()
    with pytest.raises(ValueError, match=r"no column\(s\) \['revenue'\]"):
        fit_many(seeded_estimator(), data, group_columns="brand", target="revenue")
    data.iloc[3, data.columns.get_loc("brand")] = None
    with pytest.raises(ValueError, match="missing value in row 3"):
        fit_many(seeded_estimator(), data, group_columns="brand", target="sales")


# --------------------------------------------------------------- Dask


def test_dask_cluster_gives_the_sequential_results():
    distributed = pytest.importorskip("distributed")
    X, y = weekly()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        table = compare_models(
            backtest_models(),
            X,
            y,
            cv=CV,
            scoring="neg_mean_absolute_error",
            model_params=dict(media_columns=CHANNELS, **MCMC),
            random_state=0,
        )
        models = fit_many(
            seeded_estimator(), brands(), group_columns="brand", target="sales"
        )
    same = [c for c in table.columns if c != "fit_seconds"]
    pd.testing.assert_frame_equal(table[same], backtest()[same])
    assert list(models) == ["a", "b"]
    for group, model in models.items():
        for name, draws in brand_fits()[group].posterior_.items():
            np.testing.assert_array_equal(model.posterior_[name], draws)


# ------------------------------------------------------------------- geo


def test_compare_models_backtests_a_geo_model_by_date():
    """A geo fit on a PanelTimeSeriesSplit fold (shapes of the geo_fit fixture)."""
    data = simulate_mmm_data(
        n_periods=68,
        n_channels=2,
        n_geos=3,
        n_controls=1,
        model="adstock",
        noise_level=0.03,
        seed=3,
    )
    geo = BayesianMMMRegressor(
        "adstock",
        media_columns=data.media_columns,
        date_column="date",
        geo_column="geo",
        degrees_seasonality=1,
        random_state=0,
        progress_bar=False,
        number_warmup=150,
        number_samples=100,
        number_chains=2,
    )
    cv = PanelTimeSeriesSplit(2, test_size=4, max_train_size=60, date_column="date")
    last_fold = list(cv.split(data.X))[-1:]  # one geo fit keeps the test short
    table = compare_models(geo, data.X, data.y, cv=last_fold, random_state=0)
    assert table[["n_train", "n_test"]].values.tolist() == [[180, 12]]
    assert table["coverage"].between(0, 1).all()
    assert np.isfinite(table["max_rhat"]).all()  # two chains
    assert (table["r2"] > 0).all()


# ------------------------------------------------------ geo grid search


def test_geo_grid_search_with_a_date_based_panel_splitter(geo_estimator):
    longer = simulate_mmm_data(
        n_periods=N_PERIODS + 16,
        n_channels=N_CHANNELS,
        n_geos=N_GEOS,
        n_controls=1,
        model="adstock",
        noise_level=0.03,
        seed=4,
    )
    # Training folds of N_PERIODS dates: the program compiled for geo_fit
    # (conftest.py).
    cv = PanelTimeSeriesSplit(
        n_splits=2, test_size=8, max_train_size=N_PERIODS, date_column="date"
    )
    folds = list(cv.split(longer.X))
    assert all(len(train) == N_PERIODS * N_GEOS for train, _ in folds)
    search = GridSearchCV(geo_estimator(), {"model": ["adstock"]}, cv=cv, refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(longer.X, longer.y)
    scores = search.cv_results_
    assert scores["split0_test_score"][0] > 0 and scores["split1_test_score"][0] > 0


def test_compare_models_by_loo_ranks_models_without_refits():
    data = load_example()
    X, y = data.X.iloc[:80], data.y.iloc[:80]
    table = compare_models(
        ["adstock", "carryover"],
        X,
        y,
        model_params={
            "media_columns": data.media_columns,
            "number_warmup": 100,
            "number_samples": 100,
            "degrees_seasonality": 1,
            "progress_bar": False,
        },
        method="loo",
        random_state=0,
    )
    assert list(table["rank"]) == [0, 1]
    assert set(table["model"]) == {"adstock", "carryover"}
    assert table["elpd_loo"].is_monotonic_decreasing
    assert (table["se"] > 0).all() and (table["p_loo"] > 0).all()
    assert (table["n_high_pareto_k"] >= 0).all()
    with pytest.raises(ValueError, match="method"):
        compare_models("adstock", X, y, method="waic")
    with pytest.raises(ValueError, match="cv and scoring"):
        compare_models("adstock", X, y, method="loo", cv=2)
