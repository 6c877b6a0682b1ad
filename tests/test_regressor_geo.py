"""Geo (hierarchical) fits of skmmm.regressor: fit, predict, validation, units.

The shared geo panel (3 geos x 60 weeks x 2 channels, adstock) and its fit
are the session fixtures ``geo_data`` and ``geo_fit`` of conftest.py;
``geo_estimator(**params)`` makes estimators of the same settings, whose
fits reuse the compiled program when only values differ. The national
regressor tests are in tests/test_regressor.py, which has fixtures of its
own (another data set and sampler settings). The recovery test (slow) fits
a 20-geo panel and a national model on the summed data.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from _geo import MCMC, N_CHANNELS, N_GEOS, future_rows
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skmmm import BayesianMMMRegressor, attribution, diagnostics
from skmmm.datasets import simulate_mmm_data
from skmmm.models import GeoModelSpec


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


def _adstock_mean_by_hand(est, X_train) -> np.ndarray:
    """Posterior mean of the KPI of every (date, geo), recomputed in NumPy."""
    post = est.posterior_
    train = est.training_data_
    media = train.media / est.media_scale_  # (T, C, G)
    extra = train.extra_features / est.extra_scale_ - est.extra_offset_
    n_times = media.shape[0]
    t = np.arange(n_times)
    angle = 2 * np.pi * t / est.seasonality_frequency
    mu = np.zeros((post["sigma"].shape[0], n_times, media.shape[2]))
    for d in range(mu.shape[0]):
        lag = post["lag_weight"][d][:, None]
        adstocked = np.zeros_like(media)
        previous = np.zeros(media.shape[1:])
        for step in range(n_times):
            previous = media[step] + lag * previous
            adstocked[step] = previous * (1 - lag)
        exponent = post["exponent"][d][:, None]
        transformed = np.where(adstocked > 0, adstocked, 0.0) ** exponent
        media_part = np.einsum("tcg,cg->tg", transformed, post["coef_media"][d])
        gamma = post["gamma_seasonality"][d]
        season = gamma[0, 0] * np.cos(angle) + gamma[0, 1] * np.sin(angle)
        trend = (t / n_times) ** post["expo_trend"][d]
        mu[d] = (
            post["intercept"][d]
            + trend[:, None] * post["coef_trend"][d]
            + season[:, None] * post["coef_seasonality"][d]
            + np.einsum("tfg,fg->tg", extra, post["coef_extra_features"][d])
            + media_part
        )
    return mu.mean(axis=0) * est.target_scale_


# ------------------------------------------------------------------ fit


def test_geo_fit_sets_geo_attributes_and_posterior_shapes(geo_fit, geo_data):
    est = geo_fit
    n_draws = MCMC["number_samples"] * MCMC["number_chains"]
    assert est.n_geos_ == N_GEOS
    assert est.geo_names_ == ["geo_1", "geo_2", "geo_3"]
    assert est.media_names_ == geo_data.media_columns
    assert isinstance(est.spec_, GeoModelSpec) and est.spec_.level_log_ratios
    assert est.spec_.sheared_roi
    post = est.posterior_
    assert post["coef_media"].shape == (n_draws, N_CHANNELS, N_GEOS)
    assert post["channel_coef_media"].shape == (n_draws, N_CHANNELS)
    for name in ("intercept", "coef_trend", "sigma", "coef_seasonality"):
        assert post[name].shape == (n_draws, N_GEOS)
    assert post["coef_extra_features"].shape == (n_draws, 1, N_GEOS)
    assert post["lag_weight"].shape == (n_draws, N_CHANNELS)
    assert post["channel_roi"].shape == (n_draws, N_CHANNELS)
    hidden = {
        "coef_media_raw",
        "log_level",
        "level_log_ratios",
        "sheared_log_roi",
        "log_seasonality_amplitude",
        "geo_mean_scaled_coef_trend",
    }
    assert not hidden & set(post)
    assert est.spec_.geo_mean_scaling
    # Warm-up of 150 iterations is too short to choose the coordinates.
    np.testing.assert_array_equal(
        est.sampling_info_["media_noncentring"], np.full((2, N_CHANNELS), 0.5)
    )
    np.testing.assert_array_equal(
        est.sampling_info_["roi_shear"], np.full((2, N_CHANNELS), 0.5)
    )
    np.testing.assert_array_equal(
        est.sampling_info_["geo_mean_scale"], np.ones((2, 3 + N_CHANNELS))
    )
    # Default costs: each channel's spend per geo, summing to its total.
    data = geo_data
    assert est.media_prior_by_geo_.shape == (N_CHANNELS, N_GEOS)
    np.testing.assert_allclose(est.media_prior_, data.costs.to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(
        est.media_prior_by_geo_, data.costs_by_geo.T.to_numpy(), rtol=1e-6
    )
    assert est.target_scale_.shape == (N_GEOS,)
    # Controls are centred per geo (skmmm's parametrization).
    scaled = est.training_data_.extra_features / est.extra_scale_
    np.testing.assert_allclose(est.extra_offset_, scaled.mean(axis=0))
    assert est.n_features_in_ == data.X.shape[1]


def test_geo_fit_is_a_good_fit_in_sample(geo_fit, geo_data):
    data = geo_data
    assert geo_fit.score(data.X, data.y) > 0.9


def test_geo_summary_labels_parameters_by_channel_and_geo(geo_fit):
    table = geo_fit.summary()
    assert "coef_media[tv,geo_2]" in table.index
    assert "intercept[geo_3]" in table.index
    assert "channel_coef_media[search]" in table.index
    assert "coef_extra_features[price_index,geo_1]" in table.index


def test_geo_estimator_clones_and_exposes_geo_column(geo_estimator):
    est = geo_estimator()
    assert est.get_params()["geo_column"] == "geo"
    copy_ = clone(est).set_params(geo_column="region")
    assert copy_.geo_column == "region" and est.geo_column == "geo"


def test_geo_fit_adapts_a_dense_block_over_the_seasonal_shape_only(
    geo_fit, geo_data, geo_estimator
):
    # The shape's norm moves along a ray through its components; the
    # hundreds of per-geo parameters keep a diagonal matrix.
    assert (
        geo_fit.sampling_info_["mass_matrix"]
        == "diagonal, dense block over gamma_seasonality"
    )
    data = geo_data
    diagonal = _fit(geo_estimator(dense_mass=False), data.X, data.y)
    assert diagonal.sampling_info_["mass_matrix"] == "diagonal"


def test_geo_convergence_warning_points_at_the_callers_line(
    monkeypatch, geo_data, geo_estimator
):
    # Geo and national fits warn from the same frame depth.
    monkeypatch.setattr(diagnostics, "RHAT_THRESHOLD", 0.0)
    data = geo_data
    with pytest.warns(ConvergenceWarning, match="r_hat above 0.0") as record:
        geo_estimator().fit(data.X, data.y)
    assert {
        w.filename for w in record if issubclass(w.category, ConvergenceWarning)
    } == {__file__}


def test_national_refit_after_a_geo_fit_drops_the_geo_attributes(geo_fit, geo_data):
    est = copy.deepcopy(geo_fit)
    data = geo_data
    national = data.X.groupby("date")[data.media_columns].sum()
    target = data.y.groupby(data.X["date"].to_numpy()).sum()
    est.set_params(
        geo_column=None,
        date_column=None,
        number_warmup=5,
        number_samples=5,
        number_chains=1,
    )
    _fit(est, national, target.to_numpy())
    assert est.n_geos_ == 1
    for name in ("geo_names_", "media_prior_by_geo_", "extra_offset_"):
        assert not hasattr(est, name), name
    assert est.predict(national.iloc[:3]).shape == (3,)


# -------------------------------------------------------------- predict


def test_geo_predict_matches_the_model_recomputed_by_hand(geo_fit, geo_data):
    est = copy.deepcopy(geo_fit).reduce_trace(8, random_state=0)
    data = geo_data
    expected = _adstock_mean_by_hand(est, data.X)  # (T, G)
    codes_t = pd.DatetimeIndex(data.X["date"]).map(
        {d: i for i, d in enumerate(est.training_data_.index)}
    )
    codes_g = data.X["geo"].map({g: i for i, g in enumerate(est.geo_names_)})
    predicted = est.predict(data.X)
    np.testing.assert_allclose(
        predicted, expected[np.asarray(codes_t), np.asarray(codes_g)], rtol=1e-4
    )


def test_geo_predict_follows_the_row_order_of_X(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    order = np.random.default_rng(0).permutation(len(data.X))
    shuffled = data.X.iloc[order]
    np.testing.assert_allclose(est.predict(shuffled), est.predict(data.X)[order])
    mean, std = est.predict(shuffled, return_std=True)
    assert mean.shape == std.shape == (len(data.X),) and np.all(std > 0)
    draws = est.sample_posterior_predictive(shuffled, random_state=0)
    assert draws.shape == (MCMC["number_samples"] * 2, len(data.X))
    np.testing.assert_allclose(draws.mean(axis=0), mean, rtol=0.05)


def test_geo_media_gap_is_the_same_as_predicting_the_gap_rows(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    gap = future_rows(data, 1, 3)
    later = future_rows(data, 4, 2)
    together = est.predict(pd.concat([gap, later], ignore_index=True))
    gap_media = gap[["geo", *data.media_columns]]
    separate = est.predict(later, media_gap=gap_media)
    np.testing.assert_allclose(separate, together[len(gap) :], rtol=1e-6)
    # The same gap as an array (period, channel, geo).
    array = np.stack(
        [gap[gap["geo"] == g][data.media_columns].to_numpy() for g in est.geo_names_],
        axis=2,
    )
    np.testing.assert_allclose(est.predict(later, media_gap=array), separate)
    # Without the gap, X does not continue the training calendar.
    with pytest.raises(ValueError, match="media_gap"):
        est.predict(later)


def test_geo_predict_rejects_unknown_and_missing_geos(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    unknown = data.X.copy()
    unknown.loc[unknown.index[4], "geo"] = "atlantis"
    with pytest.raises(ValueError, match="'atlantis'"):
        est.predict(unknown)
    missing = data.X[data.X["geo"] != "geo_2"]
    with pytest.raises(ValueError, match="'geo_2'"):
        est.predict(missing)
    with pytest.raises(ValueError, match="geo_column='geo' needs X"):
        est.predict(data.X.to_numpy())


# ----------------------------------------------------------- bad panels


def test_geo_fit_rejects_a_gap_in_a_geos_history_naming_geo_and_date(
    geo_data, geo_estimator
):
    data = geo_data
    dropped = data.X[~((data.X["geo"] == "geo_3") & (data.X["date"] == "2021-02-01"))]
    with pytest.raises(
        ValueError, match=r"gap in the history of geo 'geo_3'.*\(2021-02-01\)"
    ):
        geo_estimator().fit(dropped, data.y.loc[dropped.index])


# ----------------------------------------------------------- ragged panels


def test_ragged_geo_fit_scales_each_geo_over_its_own_dates(ragged_geo_fit):
    est, X, y = ragged_geo_fit
    present = est.training_data_.present
    assert present.shape == (60, N_GEOS) and (~present).sum() == 20
    by_geo = y.groupby(X["geo"]).mean()
    np.testing.assert_allclose(est.target_scale_, by_geo[est.geo_names_].to_numpy())
    tv = X[est.media_names_[0]].groupby(X["geo"]).mean()[est.geo_names_]
    np.testing.assert_allclose(est.media_scale_[0], tv.to_numpy())
    assert 0.9 < est.score(X, y) <= 1.0


def test_ragged_geo_fit_predicts_the_given_rows_in_their_order(ragged_geo_fit):
    est, X, y = ragged_geo_fit
    predicted = est.predict(X)
    assert predicted.shape == (len(X),)
    reordered = X.sample(frac=1.0, random_state=1)
    np.testing.assert_allclose(
        est.predict(reordered), predicted[reordered.index.to_numpy()], rtol=1e-6
    )
    draws = est.sample_prior_predictive(X, y, n_draws=20, random_state=0)
    assert draws.shape == (20, len(X))
    # The week after training: geo_3 closed before it, the others continue.
    last = X["date"].max()
    later = X[X["date"] == last].assign(date=last + pd.Timedelta(weeks=1))
    assert sorted(later["geo"]) == ["geo_1", "geo_2"]
    assert np.isfinite(est.predict(later)).all()
    reopened = pd.concat([later, later.iloc[[0]].assign(geo="geo_3")])
    with pytest.raises(ValueError, match=r"row for geo 'geo_3' .*outside its training"):
        est.predict(reopened)


def test_ragged_geo_attribution_sums_only_present_cells(ragged_geo_fit):
    est, X, y = ragged_geo_fit
    cells = attribution.contributions(est, by_geo=True)
    assert len(cells) == len(X)
    assert set(cells.index) == set(zip(X["date"], X["geo"], strict=True))
    by_row = pd.Series(
        est.predict(X), index=pd.MultiIndex.from_frame(X[["date", "geo"]])
    )
    np.testing.assert_allclose(
        cells.sum(axis=1).to_numpy(), by_row.loc[cells.index].to_numpy(), rtol=1e-5
    )
    roi = attribution.roi(est).mean()
    np.testing.assert_allclose(
        roi.to_numpy(),
        cells[est.media_names_].sum().to_numpy() / est.media_prior_,
        rtol=1e-5,
    )
    share = attribution.contribution_share(est).mean()
    np.testing.assert_allclose(
        share.to_numpy(),
        (cells[est.media_names_].sum() / cells.sum(axis=1).sum()).to_numpy(),
        rtol=2e-2,
    )
    log_likelihood = est.fitted_.log_likelihood()
    np.testing.assert_array_equal(
        np.isnan(log_likelihood[0]), ~est.training_data_.present
    )


def test_geo_fit_rejects_duplicate_date_geo_rows(geo_data, geo_estimator):
    data = geo_data
    doubled = pd.concat([data.X, data.X.iloc[[5]]], ignore_index=True)
    y = pd.concat([data.y, data.y.iloc[[5]]], ignore_index=True)
    geo, date = data.X.iloc[5]["geo"], data.X.iloc[5]["date"]
    with pytest.raises(
        ValueError, match=rf"duplicate rows for geo '{geo}' on {date:%Y-%m-%d}"
    ):
        geo_estimator().fit(doubled, y)


def test_geo_fit_rejects_missing_columns_and_values(geo_data, geo_estimator):
    data = geo_data
    with pytest.raises(ValueError, match="geo_column='region' is not a column"):
        geo_estimator(geo_column="region").fit(data.X, data.y)
    with pytest.raises(ValueError, match="needs the date of every row"):
        geo_estimator(date_column=None).fit(data.X, data.y)
    negative = data.X.copy()
    negative.loc[7, "tv"] = -1.0
    with pytest.raises(ValueError, match="tv"):
        geo_estimator().fit(negative, data.y)
    no_geo = data.X.copy()
    no_geo.loc[2, "geo"] = None
    with pytest.raises(ValueError, match="missing value, first at row 2"):
        geo_estimator().fit(no_geo, data.y)


def test_geo_fit_rejects_a_geo_whose_kpi_has_no_positive_mean(geo_data, geo_estimator):
    data = geo_data
    y = data.y.copy()
    y[data.X["geo"] == "geo_2"] *= -1
    with pytest.raises(ValueError, match="geo 'geo_2'"):
        geo_estimator().fit(data.X, y)


# ------------------------------------------------ media prior and units


def test_geo_media_prior_per_channel_is_split_by_spend_share(geo_data, geo_estimator):
    data = geo_data
    est = _fit(geo_estimator(media_prior=data.costs * 2), data.X, data.y)
    share = data.costs_by_geo.T.to_numpy() / data.costs.to_numpy()[:, None]
    np.testing.assert_allclose(
        est.media_prior_by_geo_, 2 * data.costs.to_numpy()[:, None] * share, rtol=1e-6
    )


def test_geo_media_prior_per_channel_and_geo_is_used_as_given(geo_data, geo_estimator):
    data = geo_data
    costs = data.costs_by_geo.T * np.array([1.0, 2.0, 3.0])  # channel x geo
    est = _fit(geo_estimator(media_prior=costs), data.X, data.y)
    np.testing.assert_allclose(est.media_prior_by_geo_, costs.to_numpy())
    np.testing.assert_allclose(est.media_prior_, costs.sum(axis=1).to_numpy())
    # ROI per geo divides by the geo's own cost.
    roi = attribution.roi(est, by_geo=True)
    media = attribution.contributions(est, by_geo=True)[data.media_columns]
    total = media.groupby(level="geo").sum().loc["geo_3", "tv"]
    np.testing.assert_allclose(
        roi[("geo_3", "tv")].mean(), total / costs.loc["tv", "geo_3"], rtol=1e-6
    )
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        geo_estimator(media_prior=np.ones((3, 2))).fit(data.X, data.y)


def test_geo_default_priors_do_not_depend_on_units(geo_fit, geo_data, geo_estimator):
    """KPI x a and every geo's spend x b: the same shares, ROI x a / b."""
    data = geo_data
    base = geo_fit
    a, b = 250.0, 0.004
    X = data.X.copy()
    X[data.media_columns] = X[data.media_columns] * b
    scaled = _fit(geo_estimator(), X, data.y * a)
    assert scaled.roi_reference_ == pytest.approx(base.roi_reference_ * a / b)
    np.testing.assert_allclose(
        attribution.summary(scaled)["share_mean"],
        attribution.summary(base)["share_mean"],
        rtol=1e-3,
    )
    np.testing.assert_allclose(
        attribution.summary(scaled)["roi_mean"] * b / a,
        attribution.summary(base)["roi_mean"],
        rtol=1e-3,
    )
    np.testing.assert_allclose(
        scaled.posterior_["channel_roi"] * b / a,
        base.posterior_["channel_roi"],
        rtol=1e-3,
    )


# ------------------------------------------------------------- recovery


RECOVERY_TOLERANCE = 0.15  # relative error of each channel's national ROI
RECOVERY_MCMC = dict(warmup=150, samples=100, chains=2)


@pytest.mark.slow
def test_geo_model_recovers_national_roi_with_narrower_intervals_than_national():
    """20 geos x 104 weeks x 4 flighted channels: the geo model's national ROI
    of every channel is within 15% of the truth, and its 90% ROI interval of
    every channel is narrower than that of a national model fitted on the
    data summed over geos.

    Each geo's spend moves on its own (``geo_spend_variation=1``), which the
    summed data average away. With spend in step across geos (0.1) the sum
    carries about what the geos do, and the two models' intervals were about
    as wide (mean width over channels 0.58-0.75 against 0.64-0.69 over
    sampler seeds); with 1.0, 0.43-0.44 against 0.70-0.76."""
    data = simulate_mmm_data(
        n_periods=104,
        n_channels=4,
        n_geos=20,
        n_controls=1,
        model="adstock",
        noise_level=0.05,
        seed=11,
        spend_patterns="flighted",
        geo_spend_variation=1.0,
    )
    settings = dict(
        media_columns=data.media_columns,
        degrees_seasonality=2,
        number_warmup=RECOVERY_MCMC["warmup"],
        number_samples=RECOVERY_MCMC["samples"],
        number_chains=RECOVERY_MCMC["chains"],
        random_state=0,
        progress_bar=False,
    )
    geo = _fit(
        BayesianMMMRegressor(
            "adstock", date_column="date", geo_column="geo", **settings
        ),
        data.X,
        data.y,
    )
    summed = data.X.groupby("date").agg(
        {
            **{c: "sum" for c in data.media_columns},
            **{c: "mean" for c in data.control_columns},
        }
    )
    national = _fit(
        BayesianMMMRegressor("adstock", media_prior=data.costs, **settings),
        summed,
        data.y.groupby(data.X["date"]).sum(),
    )
    geo_roi, national_roi = attribution.roi(geo), attribution.roi(national)
    error = geo_roi.mean() / data.true_roi - 1
    assert (error.abs() < RECOVERY_TOLERANCE).all(), error

    def width(draws):
        return draws.quantile(0.95) - draws.quantile(0.05)

    assert (width(geo_roi) < width(national_roi)).all(), (
        width(geo_roi),
        width(national_roi),
    )


def test_geo_prior_predictive_has_a_draw_per_date_and_geo(geo_data, geo_estimator):
    est = geo_estimator()
    draws = est.sample_prior_predictive(
        geo_data.X, geo_data.y, n_draws=50, random_state=0
    )
    assert draws.shape == (50, len(geo_data.y)) and np.isfinite(draws).all()
    assert 0.3 < np.median(draws) / geo_data.y.mean() < 3


def test_complete_geo_panel_is_fitted_without_a_mask(geo_fit, geo_data, geo_estimator):
    """Same inputs, so the same draws as before ragged panels were accepted."""
    from skmmm.families import model_family

    assert geo_fit.training_data_.present is None
    est = geo_estimator()
    problem = model_family(est).prepare(est, geo_data.X, geo_data.y, stacklevel=1)
    assert problem.inputs.target_mask is None
    np.testing.assert_array_equal(
        problem.attributes["target_scale_"],
        problem.data.target.mean(axis=0),
    )
