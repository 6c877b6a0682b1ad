"""Tests of skmmm.datasets: simulators with ground truth and the bundled example.

The noise-free KPI is recomputed here from ``true_params`` with small,
deliberately naive NumPy loops, independent of the module's own transforms.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmmm.datasets import load_example, simulate_dummy_data, simulate_mmm_data

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "skmmm" / "data"
TRANSFORM_PARAMS = (
    "lag_weight",
    "half_max_effective_concentration",
    "slope",
    "exponent",
    "ad_effect_retention_rate",
    "peak_effect_delay",
)


# --------------------------------------------------------------------------
# Independent reference implementation of the model (one channel at a time)
# --------------------------------------------------------------------------


def _adstock_1d(x, lag_weight):
    out, previous = [], 0.0
    for t, value in enumerate(x):
        previous = value if t == 0 else value + lag_weight * previous
        out.append(previous)
    return np.array(out) * (1.0 - lag_weight)


def _hill_1d(a, half_max, slope):
    return np.array(
        [0.0 if v == 0 else 1.0 / (1.0 + (v / half_max) ** -slope) for v in a]
    )


def _carryover_1d(x, retention, delay, number_lags=13):
    weights = [retention ** ((lag - delay) ** 2) for lag in range(number_lags)]
    out = []
    for t in range(len(x)):
        total = sum(weights[lag] * x[t - lag] for lag in range(number_lags) if t >= lag)
        out.append(total / sum(weights))
    return np.array(out)


def _power_1d(x, exponent):
    return np.array([0.0 if v == 0 else v**exponent for v in x])


def _transform_1d(x, model, p):
    if model == "hill_adstock":
        a = _adstock_1d(x, p["lag_weight"])
        return _hill_1d(a, p["half_max_effective_concentration"], p["slope"])
    if model == "adstock":
        return _power_1d(_adstock_1d(x, p["lag_weight"]), p["exponent"])
    carried = _carryover_1d(x, p["ad_effect_retention_rate"], p["peak_effect_delay"])
    return _power_1d(carried, p["exponent"])


def _channel_params(true_params, channel):
    return {k: true_params[k][channel] for k in TRANSFORM_PARAMS if k in true_params}


def _recompute(spend, controls, tp, *, geo=None):
    """Noise-free contributions (channels + baseline) of one series.

    spend/controls: DataFrames of one geo (or national), rows in time order.
    """

    def pick(value):
        return value if geo is None else value[geo]

    n = len(spend)
    t = np.arange(n, dtype=float)
    out = {}
    for channel in spend.columns:
        x = spend[channel].to_numpy(dtype=float)
        scaled = x / x.mean()  # scaled by the mean over the whole series
        f = _transform_1d(scaled, tp["model"], _channel_params(tp, channel))
        out[channel] = pick(tp["coef_media"][channel]) * f
    gamma = np.asarray(tp["gamma_seasonality"])
    season = np.zeros(n)
    for d in range(tp["degrees_seasonality"]):
        angle = 2 * np.pi * (d + 1) * t / tp["seasonality_frequency"]
        season += gamma[d, 0] * np.cos(angle) + gamma[d, 1] * np.sin(angle)
    if geo is not None:
        season *= tp["coef_seasonality"][geo]
    baseline = pick(tp["intercept"]) + pick(tp["coef_trend"]) * t ** tp["expo_trend"]
    baseline = baseline + season
    for control in controls.columns:
        baseline = baseline + pick(tp["coef_extra_features"][control]) * controls[
            control
        ].to_numpy(dtype=float)
    out["baseline"] = baseline
    return pd.DataFrame(out, index=spend.index)


def _load_script():
    path = REPO_ROOT / "benchmarks" / "make_example_data.py"
    spec = importlib.util.spec_from_file_location("make_example_data", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------
# simulate_dummy_data
# --------------------------------------------------------------------------


def test_simulate_dummy_data_national_shapes_and_dtypes():
    media, extra, target, costs = simulate_dummy_data(120, 3, 2)
    assert media.shape == (120, 3)
    assert extra.shape == (120, 2)
    assert target.shape == (120,)
    assert costs.shape == (3,)
    for array in (media, extra, target, costs):
        assert array.dtype == np.float32
        assert np.isfinite(array).all()
    assert (media > 0).all()
    assert abs(media.mean() - 20) < 1
    assert abs(extra.mean() - 5) < 0.5
    np.testing.assert_allclose(costs, media.sum(axis=0) * 0.1, rtol=1e-5)


def test_simulate_dummy_data_geo_shapes():
    media, extra, target, costs = simulate_dummy_data(104, 4, 3, geos=5)
    assert media.shape == (104, 4, 5)
    assert extra.shape == (104, 3, 5)
    assert target.shape == (104, 5)
    assert costs.shape == (4,)
    assert all(a.dtype == np.float32 for a in (media, extra, target, costs))
    # The geo media split the national media: geo weights sum to 1.
    national = media.sum(axis=2)
    assert abs(national.mean() - 20) < 1
    np.testing.assert_allclose(costs, national.sum(axis=0) * 0.1, rtol=1e-4)


def test_simulate_dummy_data_deterministic_by_seed():
    first = simulate_dummy_data(50, 2, 1, seed=3)
    again = simulate_dummy_data(50, 2, 1, seed=3)
    other = simulate_dummy_data(50, 2, 1, seed=4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"data_size": 0}, "data_size"),
        ({"data_size": -5}, "data_size"),
        ({"data_size": 10.5}, "data_size"),
        ({"n_media_channels": 0}, "n_media_channels"),
        ({"n_media_channels": True}, "n_media_channels"),
        ({"n_extra_features": 0}, "n_extra_features"),
        ({"n_extra_features": "2"}, "n_extra_features"),
        ({"geos": 0}, "geos"),
    ],
)
def test_simulate_dummy_data_invalid_arguments(kwargs, name):
    arguments = {"data_size": 20, "n_media_channels": 2, "n_extra_features": 1}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=name):
        simulate_dummy_data(**arguments)


# --------------------------------------------------------------------------
# simulate_mmm_data (national)
# --------------------------------------------------------------------------


def test_simulate_mmm_data_structure():
    data = simulate_mmm_data(n_periods=104, n_channels=7, n_controls=5, seed=1)
    assert data.media_columns == [
        "tv",
        "search",
        "social",
        "display",
        "radio",
        "channel_6",
        "channel_7",
    ]
    assert data.control_columns == [
        "price_index",
        "holiday",
        "competitor_index",
        "weather_index",
        "control_5",
    ]
    assert list(data.X.columns) == data.media_columns + data.control_columns
    assert isinstance(data.X.index, pd.DatetimeIndex)
    assert data.X.index.name == "date"
    assert data.X.index[0] == pd.Timestamp("2021-01-04")
    assert data.X.index.freqstr == "W-MON"
    assert (np.diff(data.X.index.to_numpy()) == np.timedelta64(7, "D")).all()
    assert data.y.name == "sales"
    assert data.y.index.equals(data.X.index)
    assert data.true_contributions.index.equals(data.X.index)
    assert list(data.true_contributions.columns) == data.media_columns + ["baseline"]
    assert list(data.costs.index) == data.media_columns
    assert list(data.true_roi.index) == data.media_columns
    assert data.model == "hill_adstock"
    assert isinstance(data.description, str) and "104 weeks" in data.description
    assert (data.X.dtypes == np.float64).all()
    assert np.isfinite(data.X.to_numpy()).all() and np.isfinite(data.y).all()


def test_simulate_mmm_data_deterministic_by_seed():
    first = simulate_mmm_data(n_periods=60, seed=7)
    again = simulate_mmm_data(n_periods=60, seed=7)
    other = simulate_mmm_data(n_periods=60, seed=8)
    pd.testing.assert_frame_equal(first.X, again.X)
    pd.testing.assert_series_equal(first.y, again.y)
    assert first.true_params == again.true_params
    assert not first.y.equals(other.y)


@pytest.mark.parametrize("model", ["hill_adstock", "adstock", "carryover"])
def test_simulate_mmm_data_contributions_match_independent_recomputation(model):
    data = simulate_mmm_data(model=model, seed=11)
    tp = data.true_params
    assert tp["model"] == model
    expected = _recompute(data.X[data.media_columns], data.X[data.control_columns], tp)
    pd.testing.assert_frame_equal(
        data.true_contributions, expected, check_exact=False, rtol=1e-9, atol=1e-6
    )
    # Contributions + baseline are the KPI minus the noise.
    noise = data.y - data.true_contributions.sum(axis=1)
    assert abs(noise.mean()) < 4 * tp["sigma"] / np.sqrt(len(noise))
    assert 0.75 < noise.std() / tp["sigma"] < 1.25
    np.testing.assert_allclose(tp["sigma"], 0.05 * expected.sum(axis=1).mean())
    np.testing.assert_allclose(
        [tp["media_scale"][c] for c in data.media_columns],
        data.X[data.media_columns].mean(),
    )


@pytest.mark.parametrize("model", ["hill_adstock", "adstock", "carryover"])
def test_simulate_mmm_data_true_roi_is_contribution_over_cost(model):
    data = simulate_mmm_data(model=model, seed=3)
    np.testing.assert_allclose(data.costs, data.X[data.media_columns].sum(), rtol=1e-12)
    roi = data.true_contributions[data.media_columns].sum() / data.costs
    pd.testing.assert_series_equal(roi, data.true_roi, check_names=False)
    # Realistic magnitudes.
    assert ((data.true_roi > 0.5) & (data.true_roi < 5)).all()
    share = data.true_contributions[data.media_columns].sum().sum() / data.y.sum()
    assert 0.18 < share < 0.42
    assert np.isclose(share, data.true_params["media_share"], rtol=0.02)
    assert (data.X[data.media_columns].mean() > 1_000).all()


def test_simulate_mmm_data_spend_and_controls_are_realistic():
    data = simulate_mmm_data(n_controls=4, seed=5)
    media = data.X[data.media_columns]
    assert (media >= 0).all().all()
    assert (data.X[data.control_columns] >= 0).all().all()
    assert set(np.unique(data.X["holiday"])) == {0.0, 1.0}
    assert 3 <= data.X["holiday"].sum() / 3 <= 5  # a few holiday weeks a year
    assert abs(data.X["price_index"].mean() - 1) < 0.1
    assert (data.y > 0).all()


def test_simulate_mmm_data_spend_patterns():
    patterns = ["flighted", "always_on", "seasonal", "flighted"]
    data = simulate_mmm_data(n_channels=4, spend_patterns=patterns, seed=2)
    media = data.X[data.media_columns]
    assert data.true_params["spend_patterns"] == dict(
        zip(data.media_columns, patterns, strict=True)
    )
    zero_weeks = (media == 0).sum()
    for channel, pattern in zip(data.media_columns, patterns, strict=True):
        if pattern == "flighted":
            assert 0 < zero_weeks[channel] < len(media)
        else:
            assert zero_weeks[channel] == 0
    # The seasonal channel follows a yearly cycle: strong 52-week autocorrelation.
    seasonal = media["social"].to_numpy()
    assert np.corrcoef(seasonal[:-52], seasonal[52:])[0, 1] > 0.7
    # Default: a mix of patterns across channels.
    default = simulate_mmm_data(seed=2).true_params["spend_patterns"]
    assert set(default.values()) == {"always_on", "flighted", "seasonal"}
    # A single string applies to every channel.
    flighted = simulate_mmm_data(n_channels=3, spend_patterns="flighted", seed=2)
    assert ((flighted.X[flighted.media_columns] == 0).sum() > 0).all()


def test_simulate_mmm_data_media_share_and_roi_range():
    data = simulate_mmm_data(media_share=0.3, roi_range=(1.0, 1.0), seed=4)
    np.testing.assert_allclose(data.true_roi, 1.0)
    assert np.isclose(data.true_params["media_share"], 0.3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_controls": 0},
        {"n_periods": 10},
        {"n_channels": 1, "model": "carryover"},
        {"n_channels": 1, "n_geos": 2, "n_controls": 0, "model": "adstock"},
    ],
)
def test_simulate_mmm_data_edge_sizes(kwargs):
    data = simulate_mmm_data(**kwargs)
    n_geos = kwargs.get("n_geos", 1)
    assert len(data.y) == kwargs.get("n_periods", 156) * n_geos
    assert len(data.control_columns) == kwargs.get("n_controls", 2)
    assert np.isfinite(data.true_roi).all() and (data.true_roi > 0).all()
    assert (data.y > 0).all()


def test_simulate_mmm_data_zero_noise():
    data = simulate_mmm_data(noise_level=0.0, seed=9)
    np.testing.assert_allclose(data.y, data.true_contributions.sum(axis=1), atol=0.01)


def _oracle_roi(data):
    """ROI from least squares on the true transformed media and baseline terms."""
    tp = data.true_params
    n = len(data.y)
    t = np.arange(n)
    columns = [np.ones(n), t]
    for d in (1, 2):
        columns += [np.cos(2 * np.pi * d * t / 52), np.sin(2 * np.pi * d * t / 52)]
    columns += [data.X[c].to_numpy() for c in data.control_columns]
    media = []
    for channel in data.media_columns:
        x = data.X[channel].to_numpy()
        params = _channel_params(tp, channel)
        media.append(_transform_1d(x / x.mean(), tp["model"], params))
    design = np.column_stack(columns + media)
    coef, *_ = np.linalg.lstsq(design, data.y.to_numpy(), rcond=None)
    beta = coef[-len(media) :]
    return np.array(media).sum(axis=1) * beta / data.costs.to_numpy()


def test_simulate_mmm_data_oracle_recovers_roi():
    """Known transforms + least squares recover the ROI: the data are identifiable."""
    errors = [
        np.abs(_oracle_roi(data) / data.true_roi.to_numpy() - 1)
        for model in ("hill_adstock", "adstock", "carryover")
        for data in (simulate_mmm_data(model=model, seed=seed) for seed in range(3))
    ]
    assert np.median(np.concatenate(errors)) < 0.25


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"model": "linear"}, "Unknown model"),
        ({"spend_patterns": "bursty"}, "Unknown spend pattern"),
        ({"spend_patterns": ["flighted", "always_on"]}, "one pattern per channel"),
        ({"n_periods": 9}, "n_periods"),
        ({"n_periods": 52.0}, "n_periods"),
        ({"n_channels": 0}, "n_channels"),
        ({"n_controls": -1}, "n_controls"),
        ({"n_geos": 0}, "n_geos"),
        ({"noise_level": -0.1}, "noise_level"),
        ({"noise_level": float("nan")}, "noise_level"),
        ({"roi_range": (2.0, 1.0)}, "roi_range"),
        ({"roi_range": "high"}, "roi_range"),
        ({"media_share": 1.5}, "media_share"),
        ({"geo_spend_variation": -0.5}, "geo_spend_variation"),
        ({"geo_spend_variation": float("inf")}, "geo_spend_variation"),
        ({"geo_spend_variation": True}, "geo_spend_variation"),
        ({"start_date": "not a date"}, "start_date must be a date such as"),
        ({"start_date": None}, r"start_date must be a date, got None\."),
    ],
)
def test_simulate_mmm_data_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate_mmm_data(**kwargs)


# --------------------------------------------------------------------------
# simulate_mmm_data (geo)
# --------------------------------------------------------------------------


def test_simulate_mmm_data_geo_long_format_and_truth():
    n_periods, n_geos = 80, 3
    data = simulate_mmm_data(n_periods=n_periods, n_channels=4, n_geos=n_geos, seed=6)
    X, tp = data.X, data.true_params
    geos = ["geo_1", "geo_2", "geo_3"]
    assert (
        list(X.columns) == ["date", "geo"] + data.media_columns + data.control_columns
    )
    assert X.shape == (n_periods * n_geos, 2 + 4 + 2)
    assert data.geo_column == "geo" and data.date_column == "date"
    assert X["date"].is_monotonic_increasing
    assert list(X["geo"].iloc[:n_geos]) == geos
    assert (X.groupby("geo").size() == n_periods).all()
    assert data.y.index.equals(X.index) and data.y.name == "sales"
    assert data.true_contributions.index.equals(X.index)
    assert (X[data.media_columns] >= 0).all().all()

    for geo in geos:
        rows = X["geo"] == geo
        part = X[rows].set_index("date")
        expected = _recompute(
            part[data.media_columns], part[data.control_columns], tp, geo=geo
        )
        got = data.true_contributions[rows].set_axis(part.index)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
        noise = data.y[rows].to_numpy() - expected.sum(axis=1).to_numpy()
        assert 0.7 < noise.std() / tp["sigma"][geo] < 1.3

    # Geos share transform parameters; media coefficients differ by geo.
    assert set(tp["coef_media"]["tv"]) == set(geos)
    assert isinstance(tp["lag_weight"]["tv"], float)
    # Geo-specific scale: spend, intercept and noise differ across geos.
    assert len(set(tp["intercept"].values())) == n_geos

    costs_by_geo = X.groupby("geo")[data.media_columns].sum()
    pd.testing.assert_frame_equal(
        data.costs_by_geo, costs_by_geo, check_names=False, rtol=1e-12
    )
    np.testing.assert_allclose(data.costs, costs_by_geo.sum(), rtol=1e-12)
    contributions = data.true_contributions[data.media_columns]
    by_geo = contributions.groupby(X["geo"]).sum() / costs_by_geo
    pd.testing.assert_frame_equal(data.true_roi_by_geo, by_geo, check_names=False)
    national = contributions.sum() / data.costs
    pd.testing.assert_series_equal(data.true_roi, national, check_names=False)


@pytest.mark.parametrize("variation", [0.1, 1.0])
def test_simulate_mmm_data_geo_spend_variation_is_the_log_spread_between_geos(
    variation,
):
    """Each geo's log spend is its share of the national pattern plus
    independent Normal(0, variation) noise, so the log ratio of two geos'
    always-on spend has standard deviation sqrt(2) * variation over time."""
    data = simulate_mmm_data(
        n_periods=400,
        n_channels=2,
        n_geos=4,
        spend_patterns="always_on",
        seed=3,
        geo_spend_variation=variation,
    )
    spend = data.X.pivot(index="date", columns="geo", values="tv")
    log_ratio = np.log(spend["geo_1"] / spend["geo_2"])
    assert np.isclose(log_ratio.std(), np.sqrt(2) * variation, rtol=0.15)


def test_simulate_mmm_data_geo_deterministic():
    first = simulate_mmm_data(n_periods=30, n_channels=2, n_geos=2, seed=1)
    again = simulate_mmm_data(n_periods=30, n_channels=2, n_geos=2, seed=1)
    pd.testing.assert_frame_equal(first.X, again.X)
    pd.testing.assert_series_equal(first.y, again.y)


# --------------------------------------------------------------------------
# load_example
# --------------------------------------------------------------------------


def test_load_example_structure():
    data = load_example()
    assert data.X.shape == (156, 7)
    assert data.y.shape == (156,)
    assert data.media_columns == ["tv", "search", "social", "display", "radio"]
    assert data.control_columns == ["price_index", "holiday"]
    assert data.target_column == "sales" and data.y.name == "sales"
    assert list(data.X.columns) == data.media_columns + data.control_columns
    index = data.X.index
    assert isinstance(index, pd.DatetimeIndex) and index.name == "date"
    assert index.is_monotonic_increasing and index.is_unique
    assert index.freqstr == "W-MON"
    assert (np.diff(index.to_numpy()) == np.timedelta64(7, "D")).all()
    assert data.y.index.equals(index)
    assert (data.X[data.media_columns] >= 0).all().all()
    assert isinstance(data.description, str) and data.description


def test_load_example_matches_csv_and_json():
    data = load_example()
    frame = pd.read_csv(DATA_DIR / "example_weekly.csv", parse_dates=["date"])
    truth = json.loads((DATA_DIR / "example_truth.json").read_text(encoding="utf-8"))
    pd.testing.assert_frame_equal(data.frame, frame)
    np.testing.assert_array_equal(data.X.to_numpy(), frame[data.X.columns].to_numpy())
    np.testing.assert_array_equal(data.y.to_numpy(), frame["sales"].to_numpy())
    assert data.true_params == truth["true_params"]
    assert data.true_roi.to_dict() == truth["true_roi"]
    assert data.costs.to_dict() == truth["costs"]
    np.testing.assert_allclose(data.costs, data.X[data.media_columns].sum(), rtol=1e-12)
    arguments = truth["generator"]["arguments"]
    assert arguments["n_periods"] == 156 and arguments["model"] == "hill_adstock"
    assert arguments["noise_level"] == 0.05


def test_load_example_truth_matches_independent_recomputation():
    data = load_example()
    tp = data.true_params
    expected = _recompute(data.X[data.media_columns], data.X[data.control_columns], tp)
    pd.testing.assert_frame_equal(
        data.true_contributions, expected, check_exact=False, rtol=1e-9, atol=1e-6
    )
    roi = expected[data.media_columns].sum() / data.costs
    np.testing.assert_allclose(roi, data.true_roi, rtol=1e-9)
    assert ((data.true_roi > 0.5) & (data.true_roi < 5)).all()
    noise = data.y - expected.sum(axis=1)
    assert 0.75 < noise.std() / tp["sigma"] < 1.25
    patterns = tp["spend_patterns"]
    assert set(patterns.values()) == {"always_on", "flighted", "seasonal"}
    for channel, pattern in patterns.items():
        assert ((data.X[channel] == 0).any()) == (pattern == "flighted")


def test_load_example_oracle_recovers_roi():
    data = load_example()
    np.testing.assert_allclose(_oracle_roi(data), data.true_roi, rtol=0.25)


def _assert_same_json(actual, expected, path="$"):
    """Equal JSON values; floats to 1e-12 relative.

    The truth's derived figures (ROI, contribution shares) are sums whose
    last digit moves with NumPy's summation order between releases.
    """
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert list(actual) == list(expected), path
        for key, value in expected.items():
            _assert_same_json(actual[key], value, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), path
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            _assert_same_json(got, want, f"{path}[{index}]")
    elif isinstance(expected, float):
        assert isinstance(actual, float), path
        np.testing.assert_allclose(actual, expected, rtol=1e-12, err_msg=path)
    else:
        assert actual == expected and type(actual) is type(expected), path


def test_example_files_regenerate_identically():
    csv_text, json_text = _load_script().build()
    assert csv_text == (DATA_DIR / "example_weekly.csv").read_text(encoding="utf-8")
    _assert_same_json(
        json.loads(json_text),
        json.loads((DATA_DIR / "example_truth.json").read_text(encoding="utf-8")),
    )
