"""Geo fits in skmmm.io: save/load and export to ArviZ.

The national fits' tests are in tests/test_io.py; these use the shared geo
fit, the session fixture ``geo_fit`` of conftest.py.
"""

import numpy as np
import pandas as pd
import pytest
from _geo import N_GEOS, N_PERIODS

from skmmm import attribution, load_model, save_model
from skmmm.io import to_inference_data


def test_geo_fit_round_trips_through_save_and_load(tmp_path, geo_fit, geo_data):
    est, data = geo_fit, geo_data
    path = tmp_path / "geo.skmmm"
    save_model(est, path)
    loaded = load_model(path)
    assert loaded.geo_names_ == est.geo_names_ and loaded.n_geos_ == N_GEOS
    assert loaded.spec_ == est.spec_
    assert loaded.sampling_info_["mass_matrix"] == est.sampling_info_["mass_matrix"]
    np.testing.assert_array_equal(loaded.predict(data.X), est.predict(data.X))
    np.testing.assert_array_equal(loaded.media_prior_by_geo_, est.media_prior_by_geo_)
    pd.testing.assert_frame_equal(
        attribution.summary(loaded, by_geo=True), attribution.summary(est, by_geo=True)
    )
    # The loaded model's attributes keep their order: saved again, the file
    # is the one it was loaded from.
    save_model(loaded, tmp_path / "again.skmmm")
    assert (tmp_path / "again.skmmm").read_bytes() == path.read_bytes()


def test_geo_fit_exports_to_arviz_with_a_geo_dimension(geo_fit):
    pytest.importorskip("arviz")
    est = geo_fit
    data = to_inference_data(est, posterior_predictive=True)
    assert data.posterior["coef_media"].dims == ("chain", "draw", "channel", "geo")
    assert list(data.posterior["geo"].values) == est.geo_names_
    assert data.posterior["intercept"].dims == ("chain", "draw", "geo")
    assert data.observed_data["y"].dims == ("time", "geo")
    np.testing.assert_array_equal(
        data.observed_data["y"].values, est.training_data_.target
    )
    assert data.posterior_predictive["y"].shape[2:] == (N_PERIODS, N_GEOS)
    assert data.log_likelihood["y"].dims == ("chain", "draw", "time", "geo")


def test_ragged_geo_fit_round_trips_its_cells(tmp_path, ragged_geo_fit):
    est, X, _ = ragged_geo_fit
    path = tmp_path / "ragged.skmmm"
    save_model(est, path)
    loaded = load_model(path)
    np.testing.assert_array_equal(
        loaded.training_data_.present, est.training_data_.present
    )
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    pd.testing.assert_frame_equal(attribution.summary(loaded), attribution.summary(est))


@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
def test_ragged_geo_fit_exports_its_present_cells_to_arviz(ragged_geo_fit):
    az = pytest.importorskip("arviz")
    est, X, y = ragged_geo_fit
    data = to_inference_data(est, posterior_predictive=True)
    assert data.observed_data["y"].dims == ("cell",)
    assert data.observed_data["y"].size == len(X)
    assert data.log_likelihood["y"].dims == ("chain", "draw", "cell")
    assert np.isfinite(data.log_likelihood["y"].values).all()
    assert data.posterior_predictive["y"].shape[2:] == (len(X),)
    assert np.isfinite(az.loo(data).elpd_loo)
