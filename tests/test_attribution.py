"""Tests for ``skmmm.attribution`` on small real fits with known truth.

``national_fit`` and ``geo_fit`` are session fixtures of conftest.py.
"""

import copy
import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from _geo import N_CHANNELS, N_GEOS, N_PERIODS, future_rows

from skmmm import attribution

CURVE_COLUMNS = [
    "channel",
    "spend",
    "kpi_mean",
    "kpi_lower",
    "kpi_upper",
    "in_observed_range",
]
ROI_TOLERANCE = 0.35  # median absolute relative error of the posterior median ROI


@pytest.fixture(scope="module")
def est(national_fit):
    return national_fit


@pytest.fixture(scope="module")
def data(national_data):
    return national_data


def test_contributions_add_up_to_predict_on_training_rows(est, data):
    frame = attribution.contributions(est)
    assert list(frame.columns) == data.media_columns + ["baseline"]
    assert frame.index.equals(data.X.index)
    np.testing.assert_allclose(
        frame.sum(axis=1).to_numpy(), est.predict(data.X), rtol=1e-5
    )


def test_contributions_add_up_to_predict_on_new_rows(est, data):
    new = data.X.iloc[-8:].copy()
    new.index = new.index + pd.Timedelta(weeks=8)
    frame = attribution.contributions(est, new)
    assert frame.index.equals(new.index)
    np.testing.assert_allclose(
        frame.sum(axis=1).to_numpy(), est.predict(new), rtol=1e-5
    )
    # Plain arrays (scikit-learn warns that they have no column names): a
    # RangeIndex continuing after the training periods...
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        array_frame = attribution.contributions(est, 1.1 * new.to_numpy())
    assert array_frame.index.equals(pd.RangeIndex(156, 164))
    # ... unless they are training rows, which are the training periods.
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        in_sample = attribution.contributions(est, new.to_numpy())
    assert in_sample.index.equals(pd.RangeIndex(148, 156))


def test_shares_and_baseline_add_up_to_one_per_draw(est):
    shares = attribution.contribution_share(est, include_baseline=True)
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=1e-6)
    components = est.fitted_.components()
    expected = components["media"].sum(axis=1) / components["mu"].sum(axis=1)[:, None]
    np.testing.assert_allclose(shares.drop(columns="baseline"), expected, rtol=1e-6)


def test_roi_is_contribution_over_cost(est):
    table = attribution.roi(est)
    share = attribution.contribution_share(est)
    mu_total = est.fitted_.components()["mu"].sum(axis=1)
    expected = share.to_numpy() * mu_total[:, None] / est.media_prior_
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=1e-5)


def test_roi_recovers_the_truth(est, data):
    estimate = attribution.roi(est).median()
    error = (estimate / data.true_roi - 1).abs()
    assert error.median() < ROI_TOLERANCE, error


def test_zero_spend_channel_has_zero_contribution_and_roi(
    national_fit_with_zero_channel,
):
    est, X = national_fit_with_zero_channel
    zero = est.media_names_[-1]
    frame = attribution.contributions(est)
    assert (frame[zero] == 0).all()
    for table in (
        attribution.roi(est),
        attribution.contribution_share(est),
        attribution.marginal_roi(est),
    ):
        assert np.isfinite(table.to_numpy()).all()
        assert (table[zero] == 0).all()
    table = attribution.summary(est)
    cost_per_kpi = [c for c in table if c.startswith(("cpa_", "mcpa_"))]
    assert not table.drop(columns=cost_per_kpi).isna().any().any()
    # Cost per KPI is undefined for a channel that never spent.
    assert table.loc[zero, cost_per_kpi].isna().all()
    assert not table.drop(index=zero)[cost_per_kpi].isna().any().any()


def _total_kpi_with_scaled_channel(est, channel, factor):
    """Summed training KPI per draw with one channel's media scaled, via predict's path."""
    scaled = copy.copy(est)
    media = est.training_data_.media.copy()
    media[:, channel] *= factor
    scaled.training_data_ = dataclasses.replace(est.training_data_, media=media)
    return scaled.fitted_.components()["mu"].astype(float).sum(axis=1)


def test_marginal_roi_matches_finite_differences(est):
    exact = attribution.marginal_roi(est)
    step = 0.05
    for channel, name in enumerate(est.media_names_):
        up = _total_kpi_with_scaled_channel(est, channel, 1 + step)
        down = _total_kpi_with_scaled_channel(est, channel, 1 - step)
        central = (up - down) / (2 * step) / est.media_prior_[channel]
        np.testing.assert_allclose(
            exact[name].mean(), central.mean(), rtol=2e-2, err_msg=name
        )
    incremental = attribution.marginal_roi(est, delta=1e-2)
    np.testing.assert_allclose(incremental.mean(), exact.mean(), rtol=5e-2)


def test_summary_columns_and_consistency(est):
    table = attribution.summary(est, interval=0.8)
    assert list(table.index) == est.media_names_
    for column in (
        "share_mean",
        "share_lower",
        "share_upper",
        "roi_mean",
        "roi_lower",
        "roi_upper",
        "mroi_mean",
    ):
        assert column in table
    np.testing.assert_allclose(table["roi_mean"], attribution.roi(est).mean())
    assert (table["roi_lower"] <= table["roi_upper"]).all()
    with pytest.raises(ValueError, match="interval"):
        attribution.summary(est, interval=1.5)


def test_cpa_is_cost_over_contribution_and_inf_where_nothing_is_bought(est):
    values = attribution.cpa(est)
    np.testing.assert_allclose(values, 1.0 / attribution.roi(est), rtol=1e-9)
    table = attribution.summary(est)
    np.testing.assert_allclose(table["cpa_median"], values.median(), rtol=1e-12)
    mroi = attribution.marginal_roi(est)
    np.testing.assert_allclose(table["mcpa_mean"], (1.0 / mroi).mean(), rtol=1e-9)
    # A draw in which a channel brings no KPI: its cost buys nothing there.
    broke = copy.copy(est)
    broke.posterior_ = {
        **est.posterior_,
        "coef_media": est.posterior_["coef_media"].copy(),
    }
    broke.posterior_["coef_media"][0, 0] = 0.0
    assert np.isinf(attribution.cpa(broke).iloc[0, 0])
    assert np.isinf(attribution.summary(broke)["cpa_mean"].iloc[0])
    assert np.isfinite(attribution.summary(broke)["cpa_median"].iloc[0])


def test_response_curves_mark_the_spend_range_the_data_saw(est, geo_fit):
    observed = attribution.observed_spend_range(est)
    media = est.training_data_.media
    np.testing.assert_allclose(observed["min"], media.min(axis=0))
    np.testing.assert_allclose(observed["max"], media.max(axis=0))
    curves = attribution.response_curves(est, n_points=21)
    for name, curve in curves.groupby("channel"):
        low, high = observed.loc[name]
        inside = (curve["spend"] >= low) & (curve["spend"] <= high)
        assert (curve["in_observed_range"] == inside).all()
        # The default grid runs to twice the largest spend: its end is outside.
        assert not curve["in_observed_range"].iloc[-1]
    by_geo = attribution.observed_spend_range(geo_fit, by_geo=True)
    geo_media = geo_fit.training_data_.media  # (n_times, n_channels, n_geos)
    first = (geo_fit.geo_names_[0], geo_fit.media_names_[0])
    assert by_geo.loc[first, "max"] == pytest.approx(geo_media[:, 0, 0].max())
    geo_curves = attribution.response_curves(geo_fit, n_points=5, by_geo=True)
    assert geo_curves["in_observed_range"].dtype == bool


def test_response_curves_shape_and_monotone(est):
    curves = attribution.response_curves(est, n_points=11)
    assert list(curves.columns) == CURVE_COLUMNS
    assert len(curves) == 11 * len(est.media_names_)
    for name, curve in curves.groupby("channel"):
        assert curve["kpi_mean"].iloc[0] == 0
        assert np.all(np.diff(curve["kpi_mean"]) >= -1e-6)
        maximum = est.training_data_.media[:, est.media_names_.index(name)].max()
        assert curve["spend"].iloc[-1] == pytest.approx(2 * maximum)
    assert (curves["kpi_lower"] <= curves["kpi_upper"] + 1e-9).all()


def test_response_curve_steady_state_matches_constant_spend_prediction(est, data):
    """At a constant spend s, the curve equals coef * transform of the long-run level."""
    spend = float(est.training_data_.media[:, 0].mean())
    curves = attribution.response_curves(est, spend_grid=[spend])
    first = curves[curves["channel"] == est.media_names_[0]]
    coef = est.posterior_["coef_media"][:, 0]
    exponent = est.posterior_["exponent"][:, 0]
    # adstock of a long constant series converges to the series itself.
    expected = coef * (spend / est.media_scale_[0]) ** exponent * est.target_scale_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(
            first["kpi_mean"].iloc[0], expected.mean(), rtol=1e-3
        )


def test_estimator_methods_equal_the_attribution_functions(est):
    pd.testing.assert_frame_equal(est.roi(), attribution.roi(est))
    pd.testing.assert_frame_equal(
        est.contribution_share(), attribution.contribution_share(est)
    )
    pd.testing.assert_frame_equal(est.contributions(), attribution.contributions(est))
    pd.testing.assert_frame_equal(
        est.attribution_summary(interval=0.8), attribution.summary(est, interval=0.8)
    )
    pd.testing.assert_frame_equal(est.marginal_roi(), attribution.marginal_roi(est))
    pd.testing.assert_frame_equal(
        est.response_curves(n_points=7), attribution.response_curves(est, n_points=7)
    )


def test_roi_prior_width_ratio_compares_posterior_and_prior_intervals(est):
    from scipy import stats

    ratio = attribution.summary(est)["roi_prior_width_ratio"]
    prior = est.roi_prior()
    frozen = stats.lognorm(np.asarray(prior.scale), scale=np.exp(np.asarray(prior.loc)))
    prior_width = frozen.ppf(0.95) - frozen.ppf(0.05)
    draws = est.posterior_["roi"]
    width = np.quantile(draws, 0.95, axis=0) - np.quantile(draws, 0.05, axis=0)
    np.testing.assert_allclose(ratio, width / prior_width, rtol=1e-4)
    assert (ratio < 0.5).all()  # the simulated channels are identified


def test_roi_prior_width_ratio_is_one_when_the_posterior_is_the_prior(est):
    import jax

    unlearned = copy.copy(est)
    prior_draws = est.roi_prior().sample(jax.random.PRNGKey(0), (20_000,))
    unlearned.posterior_ = {**est.posterior_, "roi": np.asarray(prior_draws)}
    np.testing.assert_allclose(
        attribution.roi_prior_width_ratio(unlearned), 1.0, atol=0.05
    )


def test_contributions_of_a_date_column_fit_are_indexed_by_date(data):
    from skmmm import AdstockRegressor

    frame = data.X.reset_index()  # "date" becomes a column
    est = AdstockRegressor(
        media_columns=data.media_columns,
        date_column="date",
        number_warmup=20,
        number_samples=10,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(frame.iloc[:-8], data.y.iloc[:-8].to_numpy())
    new = attribution.contributions(est, frame.iloc[-8:])
    assert new.index.equals(pd.DatetimeIndex(frame["date"].iloc[-8:]).rename("date"))
    assert attribution.contributions(est).index.equals(est.training_data_.index)


# ------------------------------------------------------------------ geo


def test_geo_contributions_add_up_per_row_and_nationally(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    by_geo = attribution.contributions(est, by_geo=True)
    assert by_geo.index.names == ["date", "geo"]
    assert len(by_geo) == len(data.X)
    rows = pd.MultiIndex.from_frame(data.X[["date", "geo"]])
    np.testing.assert_allclose(
        by_geo.loc[rows].sum(axis=1).to_numpy(), est.predict(data.X), rtol=1e-8
    )
    national = attribution.contributions(est)
    assert isinstance(national.index, pd.DatetimeIndex)
    pd.testing.assert_frame_equal(
        national, by_geo.groupby(level="date").sum(), check_names=False
    )
    future = future_rows(data, 1, 2)
    on_rows = attribution.contributions(est, future, by_geo=True)
    np.testing.assert_allclose(on_rows.sum(axis=1).to_numpy(), est.predict(future))


def test_geo_share_and_roi_national_totals_match_geo_sums(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    contributions = attribution.contributions(est, by_geo=True)
    share = attribution.contribution_share(est, include_baseline=True, by_geo=True)
    assert share.columns.names == ["geo", "channel"]
    np.testing.assert_allclose(share.T.groupby(level="geo").sum().T.to_numpy(), 1.0)
    roi_geo = attribution.roi(est, by_geo=True).mean()
    roi = attribution.roi(est).mean()
    cost = est.media_prior_by_geo_
    for c, channel in enumerate(data.media_columns):
        weighted = sum(
            roi_geo[(geo, channel)] * cost[c, g] for g, geo in enumerate(est.geo_names_)
        )
        np.testing.assert_allclose(roi[channel], weighted / cost[c].sum(), rtol=1e-6)
        total = contributions[channel].sum()
        np.testing.assert_allclose(roi[channel], total / est.media_prior_[c], rtol=1e-6)


def test_geo_marginal_roi_gradient_matches_finite_difference(geo_fit):
    est = geo_fit
    for by_geo in (False, True):
        exact = attribution.marginal_roi(est, by_geo=by_geo).mean()
        approx = attribution.marginal_roi(est, delta=1e-2, by_geo=by_geo).mean()
        np.testing.assert_allclose(exact.to_numpy(), approx.to_numpy(), rtol=2e-2)
    national = attribution.marginal_roi(est).mean()
    per_geo = attribution.marginal_roi(est, by_geo=True).mean()
    # Raising a channel everywhere adds up each geo's marginal KPI.
    for c, channel in enumerate(est.media_names_):
        kpi = sum(
            per_geo[(geo, channel)] * est.media_prior_by_geo_[c, g]
            for g, geo in enumerate(est.geo_names_)
        )
        np.testing.assert_allclose(
            national[channel] * est.media_prior_[c], kpi, rtol=1e-6
        )


def test_geo_summary_by_geo_is_indexed_by_geo_and_channel(geo_fit):
    est = geo_fit
    table = attribution.summary(est, by_geo=True)
    assert table.index.names == ["geo", "channel"]
    assert len(table) == N_GEOS * N_CHANNELS
    national = attribution.summary(est)
    assert list(national.index) == est.media_names_
    assert (table["roi_lower"] <= table["roi_upper"]).all()


def test_geo_response_curves_national_and_by_geo(geo_fit):
    est = geo_fit
    curves = attribution.response_curves(est, n_points=4)
    assert list(curves.columns) == CURVE_COLUMNS
    by_geo = attribution.response_curves(est, n_points=4, by_geo=True)
    assert by_geo["geo"].unique().tolist() == est.geo_names_
    for frame in (curves, by_geo):
        assert (frame.loc[frame["spend"] == 0, "kpi_mean"] == 0).all()
        assert (
            frame.groupby(["channel"] + (["geo"] if "geo" in frame else []))["kpi_mean"]
            .diff()
            .dropna()
            > 0
        ).all()


def test_geo_future_rows_carry_over_training_media(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    future = future_rows(data, 1, 2)
    quiet = future.copy()
    quiet[data.media_columns] = 0.0
    # With no new spend, the first future week still holds adstocked media.
    contributions = attribution.contributions(est, quiet, by_geo=True)
    assert (contributions[data.media_columns].sum(axis=1) > 0).all()


def test_observed_spend_range_of_a_ragged_panel_uses_the_rows_x_had(ragged_geo_fit):
    est, X, _ = ragged_geo_fit
    by_geo = attribution.observed_spend_range(est, by_geo=True)
    channel = "search"  # always on: its smallest spend in each geo is above 0
    given = X.groupby("geo")[channel]
    np.testing.assert_allclose(
        by_geo.xs(channel, level="channel").loc[est.geo_names_, "min"],
        given.min().loc[est.geo_names_],
    )
    national = X.groupby("date")[channel].sum()
    assert attribution.observed_spend_range(est).loc[channel, "min"] == pytest.approx(
        national.min()
    )


# ------------------------------------------------------- revenue per KPI


def _revenue_fit(data, X=None, **params):
    """A fast (Laplace) fit; the same seed gives the same posterior whatever
    ``revenue_per_kpi`` is, since the model is fitted on the KPI."""
    from skmmm import AdstockRegressor

    est = AdstockRegressor(
        media_columns=data.media_columns,
        inference="laplace",
        number_samples=50,
        random_state=0,
        progress_bar=False,
        **params,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(data.X if X is None else X, data.y)


@pytest.fixture(scope="module")
def kpi_fit(national_data):
    return _revenue_fit(national_data)


def test_revenue_per_kpi_number_scales_roi_and_not_cpa(national_data, kpi_fit):
    est = _revenue_fit(national_data, revenue_per_kpi=2.5)
    np.testing.assert_allclose(
        est.roi().to_numpy(), 2.5 * kpi_fit.roi().to_numpy(), rtol=1e-5
    )
    np.testing.assert_allclose(
        est.marginal_roi().to_numpy(),
        2.5 * kpi_fit.marginal_roi().to_numpy(),
        rtol=1e-5,
    )
    table, kpi_table = attribution.summary(est), attribution.summary(kpi_fit)
    np.testing.assert_allclose(
        table["roi_median"], 2.5 * kpi_table["roi_median"], rtol=1e-5
    )
    np.testing.assert_allclose(table["cpa_mean"], kpi_table["cpa_mean"], rtol=1e-5)
    np.testing.assert_allclose(table["mcpa_mean"], kpi_table["mcpa_mean"], rtol=1e-5)
    budget = float(national_data.X[national_data.media_columns].sum().sum()) / 20
    revenue, kpi = est.optimize_budget(budget, 8), kpi_fit.optimize_budget(budget, 8)
    assert revenue.kpi_optimal == pytest.approx(2.5 * kpi.kpi_optimal, rel=1e-5)


def test_revenue_per_kpi_column_weights_each_period(national_data, kpi_fit):
    X = national_data.X.copy()
    weights = np.linspace(1.0, 3.0, len(X))
    X["revenue_per_conversion"] = weights
    est = _revenue_fit(national_data, X, revenue_per_kpi="revenue_per_conversion")
    assert est.n_features_in_ == kpi_fit.n_features_in_  # not a control
    np.testing.assert_array_equal(est.revenue_per_kpi_, weights)
    np.testing.assert_allclose(est.predict(X), kpi_fit.predict(national_data.X))
    # Known answer: ROI is linear in the contributions, so its posterior mean
    # is the weighted sum of the mean contributions over the cost.
    contributions = attribution.contributions(est)[national_data.media_columns]
    expected = (contributions.to_numpy() * weights[:, None]).sum(0) / est.media_prior_
    np.testing.assert_allclose(est.roi().mean().to_numpy(), expected, rtol=1e-4)


def test_revenue_per_kpi_column_is_per_geo_row(geo_data, geo_estimator):
    X = geo_data.X.copy()
    X["rpk"] = np.random.default_rng(0).uniform(1.0, 3.0, len(X))
    est = geo_estimator(inference="laplace", revenue_per_kpi="rpk")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, geo_data.y)
    assert est.revenue_per_kpi_.shape == (N_PERIODS, N_GEOS)
    contributions = attribution.contributions(est, by_geo=True)
    weights = X.set_index(["date", "geo"])["rpk"].reindex(contributions.index)
    expected = (
        contributions[geo_data.media_columns].to_numpy() * weights.to_numpy()[:, None]
    ).sum(0) / est.media_prior_
    np.testing.assert_allclose(est.roi().mean().to_numpy(), expected, rtol=1e-4)


@pytest.mark.parametrize(
    "value, match",
    [
        ("missing", "revenue_per_kpi='missing' is not a column of X"),
        (-1.0, "revenue_per_kpi"),
        (0.0, "revenue_per_kpi"),
    ],
)
def test_revenue_per_kpi_bad_values_are_refused(national_data, value, match):
    with pytest.raises(ValueError, match=match):
        _revenue_fit(national_data, revenue_per_kpi=value)


def test_revenue_per_kpi_column_with_a_negative_value_names_the_period(
    national_data,
):
    X = national_data.X.copy()
    X["rpk"] = 1.0
    X.iloc[5, X.columns.get_loc("rpk")] = -2.0
    with pytest.raises(ValueError, match="'rpk' has a value .* at period"):
        _revenue_fit(national_data, X, revenue_per_kpi="rpk")


# ------------------------------------------------------------ lift tests


def _lift_table(data):
    dates = data.X.index
    channel = data.media_columns[0]
    return pd.DataFrame(
        {
            "channel": [channel, data.media_columns[1]],
            "start": [dates[50], dates[100]],
            "end": [dates[57], dates[103]],
            "measure_end": [dates[70], dates[103]],
            "delta_spend": [float(data.X[channel].mean()), 1000.0],
            "lift": [1e5, 1e4],
            "lift_sd": [1e4, 1e3],
        },
        index=["first", "second"],
    )


def test_lift_test_draws_are_the_change_of_the_prediction(est, data):
    """Known answer: predict with the test's spend added, minus predict."""
    table = _lift_table(data)
    draws = attribution.lift_test_draws(est, table)
    assert list(draws.columns) == ["first", "second"] and len(draws) == len(
        est.posterior_["sigma"]
    )
    for label, row in table.iterrows():
        changed = data.X.copy()
        changed.loc[row["start"] : row["end"], row["channel"]] += row["delta_spend"]
        window = (data.X.index >= row["start"]) & (data.X.index <= row["measure_end"])
        expected = (est.predict(changed) - est.predict(data.X))[window].sum()
        np.testing.assert_allclose(draws[label].mean(), expected, rtol=2e-3)


def test_a_holdout_is_the_prediction_without_the_channels_spend(est, data):
    """Known answer: a holdout switches the channel off from start to end."""
    table = _lift_table(data)
    table["delta_spend"] = table["delta_spend"].astype(object)
    table.loc["first", "delta_spend"] = "holdout"
    draws = attribution.lift_test_draws(est, table)
    row = table.loc["first"]
    changed = data.X.copy()
    changed.loc[row["start"] : row["end"], row["channel"]] = 0.0
    window = (data.X.index >= row["start"]) & (data.X.index <= row["measure_end"])
    expected = (est.predict(changed) - est.predict(data.X))[window].sum()
    assert expected < 0
    np.testing.assert_allclose(draws["first"].mean(), expected, rtol=2e-3)
    fit = attribution.lift_test_fit(est, table)
    assert fit.loc["first", "delta_spend"] == "holdout"
    assert fit.loc["second", "delta_spend"] == 1000.0


def test_a_geo_holdout_switches_off_that_geo_only(geo_fit, geo_data):
    channel = geo_fit.media_names_[0]
    dates = pd.DatetimeIndex(sorted(geo_data.X["date"].unique()))
    geo = geo_fit.geo_names_[1]
    table = pd.DataFrame(
        {
            "channel": [channel],
            "geo": [geo],
            "start": [dates[10]],
            "end": [dates[14]],
            "delta_spend": ["holdout"],
            "lift": [-1.0],
            "lift_sd": [1.0],
        }
    )
    draws = attribution.lift_test_draws(geo_fit, table)
    X = geo_data.X
    rows = (X["geo"] == geo) & (X["date"] >= dates[10]) & (X["date"] <= dates[14])
    changed = X.copy()
    changed.loc[rows, channel] = 0.0
    expected = (geo_fit.predict(changed) - geo_fit.predict(X))[rows.to_numpy()]
    np.testing.assert_allclose(draws[0].mean(), expected.sum(), rtol=2e-3)


def test_lift_test_fit_reports_measured_and_modelled_lift(est, data):
    table = _lift_table(data)
    calibrated = copy.copy(est)
    calibrated.lift_tests = table  # a table on the estimator is the default
    fit = attribution.lift_test_fit(calibrated, interval=0.8)
    draws = attribution.lift_test_draws(est, table)
    assert list(fit.index) == ["first", "second"]
    np.testing.assert_allclose(fit["model_lift_mean"], draws.mean())
    np.testing.assert_allclose(fit["model_lift_lower"], draws.quantile(0.1))
    assert (fit["start"] == table["start"]).all() and (
        fit["lift"] == table["lift"]
    ).all()
    z = (fit["model_lift_mean"] - fit["lift"]) / np.hypot(
        fit["lift_sd"], fit["model_lift_sd"]
    )
    np.testing.assert_allclose(fit["z"], z)
    before = attribution.lift_test_fit(est, table, uncalibrated=est)
    np.testing.assert_allclose(before["model_lift_before_mean"], fit["model_lift_mean"])
    with pytest.raises(ValueError, match="has no lift_tests"):
        attribution.lift_test_fit(est)


def test_geo_lift_test_draws_sum_each_geo(geo_fit, geo_data):
    channel = geo_fit.media_names_[0]
    dates = pd.DatetimeIndex(sorted(geo_data.X["date"].unique()))
    table = pd.DataFrame(
        {
            "channel": [channel] * (N_GEOS + 1),
            "geo": [*geo_fit.geo_names_, None],
            "start": [dates[10]] * (N_GEOS + 1),
            "end": [dates[14]] * (N_GEOS + 1),
            "delta_spend": [100.0] * (N_GEOS + 1),
            "lift": [1.0] * (N_GEOS + 1),
            "lift_sd": [1.0] * (N_GEOS + 1),
        }
    )
    draws = attribution.lift_test_draws(geo_fit, table)
    assert draws.shape[1] == N_GEOS + 1 and np.all(draws.to_numpy() > 0)
    # each geo's test: the change of that geo's prediction
    X = geo_data.X
    geo = geo_fit.geo_names_[1]
    changed = X.copy()
    rows = (X["geo"] == geo) & (X["date"] >= dates[10]) & (X["date"] <= dates[14])
    changed.loc[rows, channel] += 100.0
    in_window = (X["geo"] == geo) & (X["date"] >= dates[10]) & (X["date"] <= dates[14])
    expected = (geo_fit.predict(changed) - geo_fit.predict(X))[in_window.to_numpy()]
    np.testing.assert_allclose(draws[1].mean(), expected.sum(), rtol=2e-3)
