"""Shared test configuration, and session-scoped data and fits.

Test modules start JAX while pytest collects them (module-level arrays), so
the first fit would find JAX's backend started and run its chains one after
another. Configure JAX as a user's first fit does, before any test module is
imported: one CPU device per core, so chains run in parallel.

The fixtures below are session-scoped: each test process (an xdist worker,
with ``--dist loadfile`` a file at a time) builds one the first time one of
its tests asks for it and keeps it for the session, so a fit costs one
sampler run per process however many modules use it. The fits are few and
small:

- ``national_data`` / ``national_fit``: 156 weeks, 3 channels, 1 control,
  adstock data with mixed spend patterns, media explaining 40% of sales, 3%
  noise, where the ROIs are identifiable; ``national_fit_with_zero_channel``
  is the same fit with the last channel never spending (same shapes, so no
  recompilation). Attribution, optimiser, fitted-model, plot and report
  tests.
- ``geo_data`` / ``geo_fit``: 3 geos x 60 weeks x 2 channels, adstock
  (sizes and sampler settings in ``_geo.py``); ``geo_estimator(**params)``
  makes unfitted estimators with the same settings, whose fits reuse the
  compiled program when only values differ. Geo tests of every module.

The fits are shared: a test that changes an estimator works on
``copy.deepcopy`` of the fixture (or a shallow copy whose attributes it
replaces).
"""

import skmmm

skmmm.configure()

import warnings  # noqa: E402

import _geo  # noqa: E402
import pytest  # noqa: E402

from skmmm import AdstockRegressor, BayesianMMMRegressor  # noqa: E402
from skmmm.datasets import simulate_mmm_data  # noqa: E402

NATIONAL_MCMC = dict(number_warmup=150, number_samples=150, number_chains=2)


# ------------------------------------------------------------ national


@pytest.fixture(scope="session")
def national_data():
    return simulate_mmm_data(
        n_periods=156,
        n_channels=3,
        model="adstock",
        n_controls=1,
        seed=1,
        media_share=0.4,
        noise_level=0.03,
    )


@pytest.fixture(scope="session")
def national_fit(national_data):
    data = national_data
    est = AdstockRegressor(
        media_columns=data.media_columns,
        media_prior=data.costs.to_numpy(),
        random_state=0,
        progress_bar=False,
        **NATIONAL_MCMC,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est


@pytest.fixture(scope="session")
def national_fit_with_zero_channel(national_data):
    """``(estimator, X)``: the last channel never spends."""
    data = national_data
    X = data.X.copy()
    X[data.media_columns[-1]] = 0.0
    est = AdstockRegressor(
        media_columns=data.media_columns,
        random_state=0,
        progress_bar=False,
        **NATIONAL_MCMC,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, data.y)
    return est, X


# ----------------------------------------------------------------- geo


@pytest.fixture(scope="session")
def geo_data():
    return simulate_mmm_data(
        n_periods=_geo.N_PERIODS,
        n_channels=_geo.N_CHANNELS,
        n_geos=_geo.N_GEOS,
        n_controls=1,
        model="adstock",
        noise_level=0.03,
        seed=3,
    )


@pytest.fixture(scope="session")
def geo_estimator(geo_data):
    """``make(**params)``: an unfitted geo estimator of the shared settings."""

    def make(**params) -> BayesianMMMRegressor:
        settings = dict(
            media_columns=geo_data.media_columns,
            date_column="date",
            geo_column="geo",
            degrees_seasonality=1,
            random_state=0,
            progress_bar=False,
            **_geo.MCMC,
        )
        return BayesianMMMRegressor("adstock", **{**settings, **params})

    return make


@pytest.fixture(scope="session")
def geo_fit(geo_data, geo_estimator) -> BayesianMMMRegressor:
    est = geo_estimator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(geo_data.X, geo_data.y)
    return est


@pytest.fixture(scope="session")
def ragged_geo_fit(geo_data, geo_estimator):
    """``(estimator, X, y)``: ``geo_data`` with geo_2 opening in week 10 and
    geo_3 closing after week 49 (a ragged panel), rows shuffled."""
    X, y = geo_data.X, geo_data.y
    dates = X["date"].drop_duplicates().sort_values().to_numpy()
    absent = ((X["geo"] == "geo_2") & (X["date"] < dates[10])) | (
        (X["geo"] == "geo_3") & (X["date"] > dates[49])
    )
    order = X.index[~absent].to_numpy()[::-1]
    X, y = X.loc[order].reset_index(drop=True), y.loc[order].reset_index(drop=True)
    est = geo_estimator()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est, X, y


@pytest.fixture(scope="session")
def filled_national_fit(national_data):
    """``(estimator, X, y)``: ``national_data`` without weeks 20, 21 and 90,
    fitted with ``fill_missing="zero"``."""
    data = national_data
    X, y = (
        data.X.drop(data.X.index[[20, 21, 90]]),
        data.y.drop(data.y.index[[20, 21, 90]]),
    )
    est = AdstockRegressor(
        media_columns=data.media_columns,
        fill_missing="zero",
        random_state=0,
        progress_bar=False,
        number_warmup=100,
        number_samples=100,
        number_chains=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    return est, X, y
