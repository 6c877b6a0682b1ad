"""Which experiment next: preposterior ranking of candidate lift tests."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skmmm import AdstockRegressor, experiments
from skmmm.datasets import simulate_mmm_data


def test_expected_width_matches_the_conjugate_normal_answer():
    """ROI ~ Normal(0, 1), lift = 2 ROI measured with sd 1: the posterior sd
    after the test is 1 / sqrt(1 + 4) whatever the outcome."""
    rng = np.random.default_rng(0)
    roi = rng.standard_normal(40_000)
    now, after, effective = experiments.expected_interval_widths(
        roi, 2.0 * roi, 1.0, n_outcomes=400, random_state=1
    )
    assert now == pytest.approx(2 * 1.6449, rel=0.02)
    assert after / now == pytest.approx(1 / np.sqrt(5), rel=0.03)
    # E[(E w)^2 / E w^2] over outcomes y ~ Normal(0, 5): 0.6 * sqrt(45 / 85)
    assert effective / 40_000 == pytest.approx(0.6 * np.sqrt(45 / 85), rel=0.05)


def test_an_uninformative_test_leaves_the_width():
    rng = np.random.default_rng(0)
    roi = rng.standard_normal(5_000)
    now, after, _ = experiments.expected_interval_widths(roi, roi, 1e6, random_state=0)
    assert after == pytest.approx(now, rel=0.01)


@pytest.fixture(scope="module")
def weak_and_strong():
    """tv always on (weakly identified), search flighted (well identified)."""
    data = simulate_mmm_data(
        n_periods=104,
        n_channels=2,
        model="adstock",
        n_controls=0,
        seed=5,
        spend_patterns=["always_on", "flighted"],
        noise_level=0.12,
    )
    est = AdstockRegressor(
        media_columns=data.media_columns,
        number_warmup=150,
        number_samples=200,
        number_chains=1,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est, data


def test_suggest_ranks_the_weakly_identified_channel_first(weak_and_strong):
    est, data = weak_and_strong
    budget = 4 * float(data.X[data.media_columns].mean().sum())
    ranking = experiments.suggest(est, budget=budget, periods=8, lift_sd=30_000.0)
    assert list(ranking["channel"]) == ["tv", "search"]
    assert list(ranking.index) == [1, 2] and ranking.index.name == "rank"
    assert (ranking["roi_width_after"] < ranking["roi_width_now"]).all()
    assert ranking["width_ratio"].is_monotonic_increasing
    np.testing.assert_allclose(ranking["extra_spend"], budget)
    roi = est.roi()
    width = roi.quantile(0.95) - roi.quantile(0.05)
    np.testing.assert_allclose(
        ranking.set_index("channel")["roi_width_now"], width[ranking["channel"]]
    )
    # a row is a lift_tests row once the test has run
    row = ranking.iloc[[0]][["channel", "start", "end", "measure_end", "delta_spend"]]
    AdstockRegressor(lift_tests=row.assign(lift=1.0, lift_sd=1.0))


def test_suggest_grid_of_lengths_and_spend_changes(weak_and_strong):
    est, data = weak_and_strong
    ranking = experiments.suggest(est, periods=[4, 8], spend_change=[0.5, 1.0])
    assert len(ranking) == 2 * 2 * 2
    assert set(ranking["periods"]) == {4, 8}
    average = data.X["tv"].mean()
    tv = ranking[ranking["channel"] == "tv"]
    np.testing.assert_allclose(sorted(set(tv["delta_spend"])), [0.5 * average, average])
    # the default lift_sd grows with the measured periods
    by_length = ranking.groupby("periods")["lift_sd"].first()
    assert by_length[8] / by_length[4] == pytest.approx(np.sqrt(10 / 6))
    assert (ranking["measure_end"] == data.X.index[-1]).all()


def test_suggest_refuses_bad_arguments(weak_and_strong):
    est, _ = weak_and_strong
    with pytest.raises(ValueError, match="not both"):
        experiments.suggest(est, budget=1.0, spend_change=1.0)
    with pytest.raises(ValueError, match="Unknown channel"):
        experiments.suggest(est, channels=["radio"])
    with pytest.raises(ValueError, match="does not fit"):
        experiments.suggest(est, periods=200)
    with pytest.raises(ValueError, match="not possible"):
        experiments.suggest(est, spend_change=-5.0, channels=["search"])
    with pytest.raises(ValueError, match="lift_sd must be a positive number"):
        experiments.suggest(est, lift_sd=0.0)
    assert isinstance(
        experiments.suggest(est, periods=4, spend_change=-0.1, channels=["tv"]),
        pd.DataFrame,
    )
