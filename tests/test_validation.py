"""Tests for skmmm._validation: every rule, its error message, and no mutation."""

import doctest
import re
import types
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import DataConversionWarning

from skmmm import _validation
from skmmm._validation import (
    PredictionData,
    TrainingData,
    check_target_scale,
    place_on_calendar,
    validate_media_prior,
    validate_prediction_data,
    validate_training_data,
)

N = 8
DATES = pd.date_range("2021-01-04", periods=N, freq="W-MON")


def _frame(with_date=True):
    """date, tv, search, price: two media and one control, weekly."""
    data = {
        "tv": np.arange(N, dtype=float) * 10.0,
        "search": np.arange(N, dtype=float) + 1.0,
        "price": np.linspace(9.0, 10.0, N),
    }
    if with_date:
        data = {"date": DATES, **data}
    return pd.DataFrame(data)


def _y():
    return np.arange(N, dtype=float) + 100.0


def _array():
    rng = np.random.default_rng(0)
    return rng.uniform(0.0, 5.0, size=(N, 3))


def _fit_frame():
    return validate_training_data(
        _frame(), _y(), media_columns=["tv", "search"], date_column="date"
    )


# --- module ----------------------------------------------------------------


def test_module_doctests_pass():
    result = doctest.testmod(_validation, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --- training: happy paths -------------------------------------------------


def test_training_dataframe_splits_media_and_controls():
    X = _frame(with_date=False)
    data = validate_training_data(X, _y(), media_columns=["tv", "search"])
    assert isinstance(data, TrainingData)
    assert data.media_names == ["tv", "search"]
    assert data.extra_names == ["price"]
    assert data.media_positions == [0, 1]
    assert data.extra_positions == [2]
    np.testing.assert_array_equal(data.media, X[["tv", "search"]].to_numpy())
    np.testing.assert_array_equal(data.extra_features, X[["price"]].to_numpy())
    np.testing.assert_array_equal(data.target, _y())
    assert data.media.dtype == data.extra_features.dtype == data.target.dtype
    assert data.media.dtype == np.float64
    assert data.index.equals(pd.RangeIndex(N))
    assert data.frequency is None
    assert data.n_features_in == 3
    assert data.feature_names_in.dtype == object
    assert list(data.feature_names_in) == ["tv", "search", "price"]


def test_training_ndarray_default_names_positions_and_index():
    X = _array()
    data = validate_training_data(X, _y(), media_columns=[2, 0])
    assert data.media_names == ["media_0", "media_1"]
    assert data.extra_names == ["extra_0"]
    assert data.media_positions == [2, 0]
    assert data.extra_positions == [1]
    np.testing.assert_array_equal(data.media, X[:, [2, 0]])
    np.testing.assert_array_equal(data.extra_features, X[:, [1]])
    assert isinstance(data.index, pd.RangeIndex)
    assert data.feature_names_in is None
    assert data.n_features_in == 3


def test_training_media_columns_none_means_all_columns():
    data = validate_training_data(_frame(), _y(), date_column="date")
    assert data.media_names == ["tv", "search", "price"]
    assert data.extra_names == []
    assert data.extra_features.shape == (N, 0)
    assert data.media_positions == [0, 1, 2]


def test_training_media_columns_keep_the_given_order():
    data = validate_training_data(
        _frame(with_date=False), _y(), media_columns=["search", "tv"]
    )
    assert data.media_names == ["search", "tv"]
    assert data.media_positions == [1, 0]
    np.testing.assert_array_equal(data.media[:, 0], _frame()["search"])


def test_training_media_columns_string_is_one_name():
    data = validate_training_data(_frame(with_date=False), _y(), media_columns="tv")
    assert data.media_names == ["tv"]
    assert data.extra_names == ["search", "price"]


def test_training_media_columns_integer_positions_on_dataframe():
    data = validate_training_data(
        _frame(), _y(), media_columns=[1, 3], date_column="date"
    )
    # positions are in X as passed; returned positions drop the date column
    assert data.media_names == ["tv", "price"]
    assert data.media_positions == [0, 2]
    assert data.extra_positions == [1]


def test_training_integer_labels_other_than_positions_are_refused():
    """A header-less CSV with its first column dropped: labels 1..n, not 0..n-1."""
    X = pd.DataFrame(_array(), columns=[1, 2, 3])
    with pytest.raises(ValueError, match="could be the label or the position"):
        validate_training_data(X, _y(), media_columns=[1, 2])


def test_training_integer_labels_equal_to_positions_are_both():
    X = pd.DataFrame(_array(), columns=[0, 1, 2])
    data = validate_training_data(X, _y(), media_columns=[2, 0])
    assert data.media_positions == [2, 0]
    np.testing.assert_array_equal(data.media, _array()[:, [2, 0]])


def test_training_y_is_aligned_to_x_by_its_row_labels():
    X = _frame(with_date=False)
    X.index = np.arange(N) + 50
    order = np.random.default_rng(0).permutation(N)
    y = pd.Series(_y(), index=X.index)
    data = validate_training_data(X, y.iloc[order], media_columns=["tv"])
    np.testing.assert_array_equal(data.target, _y())


def test_training_y_with_other_row_labels_is_refused():
    X = _frame(with_date=False)
    X.index = np.arange(N) + 50
    y = pd.Series(_y(), index=np.arange(N) + 51)
    with pytest.raises(ValueError, match="X has the row label 50, which y lacks"):
        validate_training_data(X, y, media_columns=["tv"])


def test_training_y_with_default_labels_is_taken_by_position():
    X = _frame(with_date=False)
    X.index = np.arange(N) + 50
    data = validate_training_data(X, pd.Series(_y()), media_columns=["tv"])
    np.testing.assert_array_equal(data.target, _y())


def test_training_media_columns_negative_position_counts_from_end():
    data = validate_training_data(_array(), _y(), media_columns=[-1])
    assert data.media_positions == [2]


def test_training_date_column_becomes_index_and_is_excluded():
    X = _frame()
    data = validate_training_data(
        X, _y(), media_columns=["tv", "search"], date_column="date"
    )
    assert isinstance(data.index, pd.DatetimeIndex)
    assert data.index.equals(pd.DatetimeIndex(DATES))
    assert data.frequency == pd.offsets.Week(weekday=0)
    assert data.media_positions == [0, 1]
    assert data.extra_positions == [2]
    assert data.n_features_in == 4
    assert list(data.feature_names_in) == ["date", "tv", "search", "price"]


def test_training_date_column_strings_are_parsed():
    X = _frame()
    X["date"] = X["date"].dt.strftime("%Y-%m-%d")
    data = validate_training_data(X, _y(), date_column="date")
    assert data.index.equals(pd.DatetimeIndex(DATES))
    assert pd.api.types.is_string_dtype(X["date"])  # the caller's column untouched


def test_training_datetime_index_is_used():
    X = _frame(with_date=False).set_axis(DATES)
    data = validate_training_data(X, _y())
    assert data.index.equals(DATES)
    assert data.frequency == pd.tseries.frequencies.to_offset("W-MON")
    assert data.n_features_in == 3


def test_training_period_index_is_used_as_dates():
    X = _frame(with_date=False).set_axis(
        pd.period_range("2021-01", periods=N, freq="M")
    )
    data = validate_training_data(X, _y())
    assert isinstance(data.index, pd.DatetimeIndex)
    assert data.index[0] == pd.Timestamp("2021-01-01")
    assert data.frequency == pd.tseries.frequencies.to_offset("MS")


def test_training_irregular_dates_are_refused():
    """A gap and a stray date: adstock would run across them (issue 25)."""
    dates = DATES.delete(3).append(pd.DatetimeIndex(["2021-06-01"]))
    with pytest.raises(ValueError, match="not a regular calendar"):
        validate_training_data(_frame(with_date=False).set_axis(dates), _y())


def test_training_bool_columns_are_cast_to_float():
    X = _frame(with_date=False).assign(promo=[True, False] * (N // 2))
    data = validate_training_data(X, _y(), media_columns=["tv"])
    np.testing.assert_array_equal(data.extra_features[:, 2], [1.0, 0.0] * (N // 2))


def test_training_nullable_and_object_number_columns_are_accepted():
    X = _frame(with_date=False)
    X["tv"] = X["tv"].astype("Int64")
    X["price"] = X["price"].astype(object)
    data = validate_training_data(X, _y(), media_columns=["tv"])
    np.testing.assert_array_equal(data.media[:, 0], np.arange(N) * 10.0)
    assert data.extra_features.dtype == np.float64


def test_training_all_zero_media_column_is_allowed():
    X = _frame(with_date=False).assign(tv=0.0)
    data = validate_training_data(X, _y())
    assert not data.media[:, 0].any()


def test_training_feature_names_none_for_non_string_columns():
    X = pd.DataFrame(_array())
    data = validate_training_data(X, _y())
    assert data.feature_names_in is None
    assert data.media_names == ["0", "1", "2"]


@pytest.mark.parametrize("media_columns", [["tv"], [0], None])
def test_training_column_names_mixing_strings_and_integers_are_refused(media_columns):
    # scikit-learn has no feature names for them, and the integer name 0 at
    # position 1 could be read as position 0.
    X = pd.DataFrame(_array(), columns=["tv", 0, "price"])
    with pytest.raises(ValueError, match=re.escape("column 1 is named 0 (int)")):
        validate_training_data(X, _y(), media_columns=media_columns)
    data = validate_training_data(X.set_axis(X.columns.astype(str), axis=1), _y())
    assert list(data.feature_names_in) == ["tv", "0", "price"]


def test_prediction_column_names_mixing_strings_and_integers_are_refused():
    fit = validate_training_data(_array(), _y())
    X = pd.DataFrame(_array(), columns=["tv", 0, "price"])
    with pytest.raises(ValueError, match=r"X.columns = X.columns.astype\(str\)"):
        validate_prediction_data(X, fitted=fit)


def test_geo_column_names_mixing_strings_and_integers_are_refused():
    X = pd.DataFrame(
        {"date": np.repeat(DATES[:5], 2), "geo": ["a", "b"] * 5, 7: np.ones(10)}
    )
    with pytest.raises(ValueError, match="column 2 is named 7 .*astype"):
        _validation.validate_geo_training_data(
            X, np.ones(10), geo_column="geo", date_column="date"
        )


def test_training_feature_names_are_sklearns():
    from sklearn.utils.validation import validate_data

    from skmmm.preprocessing import CustomScaler

    X = _frame(with_date=False)
    reference = CustomScaler()
    validate_data(reference, X, reset=True, skip_check_array=True)
    data = validate_training_data(X, _y())
    np.testing.assert_array_equal(data.feature_names_in, reference.feature_names_in_)
    assert data.n_features_in == reference.n_features_in_


def test_training_y_series_is_accepted():
    data = validate_training_data(_array(), pd.Series(_y(), name="sales"))
    np.testing.assert_array_equal(data.target, _y())


@pytest.mark.parametrize(
    "y",
    [_y().reshape(-1, 1), pd.DataFrame({"sales": _y()})],
    ids=["array", "dataframe"],
)
def test_training_column_vector_y_warns_and_is_raveled(y):
    with pytest.warns(DataConversionWarning, match="A column-vector y was passed"):
        data = validate_training_data(_array(), y)
    assert data.target.shape == (N,)
    np.testing.assert_array_equal(data.target, _y())


def test_training_does_not_modify_dataframe_inputs():
    X = _frame()
    X.loc[2, "search"] = 0.0
    y = pd.Series(_y(), name="sales")
    X_before, y_before = X.copy(deep=True), y.copy(deep=True)
    data = validate_training_data(
        X, y, media_columns=["tv", "search"], date_column="date"
    )
    data.media[:] = -1.0
    data.target[:] = -1.0
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)


def test_training_does_not_modify_or_share_ndarray_inputs():
    X, y = _array(), _y()
    X_before, y_before = X.copy(), y.copy()
    data = validate_training_data(X, y, media_columns=[0, 1])
    assert not np.shares_memory(data.media, X)
    assert not np.shares_memory(data.extra_features, X)
    assert not np.shares_memory(data.target, y)
    data.media[:] = -1.0
    data.target[:] = -1.0
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=5, max_side=12),
        elements=st.floats(0.0, 1e6),
    )
)
def test_training_valid_arrays_round_trip(X):
    y = np.ones(X.shape[0])
    data = validate_training_data(X, y)
    np.testing.assert_array_equal(data.media, X)
    assert data.extra_features.shape == (X.shape[0], 0)


# --- training: shape errors ------------------------------------------------


def test_training_1d_x_raises_like_sklearn():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array instead"):
        validate_training_data(np.ones(N), _y())


def test_training_series_x_raises_1d_error():
    with pytest.raises(ValueError, match=r"(?s)Expected 2D array.*Reshape your data"):
        validate_training_data(pd.Series(np.ones(N)), _y())


def test_training_3d_x_raises():
    with pytest.raises(ValueError, match=r"dim 3 .*must be 2-D"):
        validate_training_data(np.ones((N, 2, 2)), _y())


@pytest.mark.parametrize(
    "X",
    [
        scipy.sparse.csr_matrix(np.ones((N, 2))),
        pd.DataFrame({"tv": pd.arrays.SparseArray(np.ones(N))}),
    ],
    ids=["scipy", "pandas"],
)
def test_training_sparse_x_is_not_supported(X):
    with pytest.raises(ValueError, match="sparse input is not supported"):
        validate_training_data(X, _y())


def test_training_x_none_raises():
    with pytest.raises(ValueError, match="X is None"):
        validate_training_data(None, _y())


def test_training_ragged_x_raises():
    with pytest.raises(ValueError, match="could not be read as a 2-D array"):
        validate_training_data([[1.0, 2.0], [3.0]], [1.0, 2.0])


def test_training_ragged_y_raises():
    with pytest.raises(ValueError, match="y could not be read as a 1-D array"):
        validate_training_data(np.ones((2, 2)), [[1.0, 2.0], [3.0]])


def test_training_zero_features_raises_sklearn_message():
    msg = r"0 feature\(s\) \(shape=\(\d*, 0\)\) while a minimum of \d* is required."
    with pytest.raises(ValueError, match=msg):
        validate_training_data(np.empty((12, 0)), np.ones(12))


def test_training_only_a_date_column_raises_zero_features():
    with pytest.raises(ValueError, match=r"0 feature\(s\).*besides the date column"):
        validate_training_data(_frame()[["date"]], _y(), date_column="date")


def test_training_zero_rows_raise():
    with pytest.raises(ValueError, match="got 0 sample"):
        validate_training_data(np.empty((0, 3)), [])


def test_training_one_row_raises_with_sample_count():
    with pytest.raises(ValueError, match="1 sample") as info:
        validate_training_data(np.ones((1, 10)), np.ones(1))
    assert "at least 5 periods" in str(info.value)


def test_training_min_periods_is_configurable():
    validate_training_data(np.ones((3, 2)), np.ones(3), min_periods=3)
    with pytest.raises(ValueError, match="at least 4 periods .* got 3 sample"):
        validate_training_data(np.ones((3, 2)), np.ones(3), min_periods=4)


def test_training_estimator_name_is_used_in_messages():
    with pytest.raises(ValueError, match="^HillAdstockRegressor needs at least"):
        validate_training_data(
            np.ones((2, 2)), np.ones(2), estimator_name="HillAdstockRegressor"
        )


@pytest.mark.parametrize("min_periods", [0, 2.5, True])
def test_training_invalid_min_periods_raises(min_periods):
    with pytest.raises(ValueError, match="min_periods must be an integer >= 1"):
        validate_training_data(_array(), _y(), min_periods=min_periods)


def test_training_duplicate_column_names_raise():
    X = pd.DataFrame(_array(), columns=["tv", "search", "tv"])
    with pytest.raises(ValueError, match=r"duplicate column names: 'tv'.*\[0, 2\]"):
        validate_training_data(X, _y())


# --- training: y errors ----------------------------------------------------


def test_training_y_none_raises_sklearn_message():
    with pytest.raises(ValueError, match="requires y to be passed, but the target y"):
        validate_training_data(_array(), None)


def test_training_y_with_several_columns_raises():
    with pytest.raises(ValueError, match=r"y should be a 1d array.*\(8, 2\)"):
        validate_training_data(_array(), np.ones((N, 2)))


def test_training_y_dataframe_with_several_columns_raises():
    with pytest.raises(ValueError, match="y should be a 1d array.*2 columns"):
        validate_training_data(_array(), pd.DataFrame({"a": _y(), "b": _y()}))


def test_training_length_mismatch_names_both_lengths():
    with pytest.raises(ValueError, match=r"X has 8 rows .* y has 7 values"):
        validate_training_data(_array(), _y()[:7])


def test_training_non_numeric_y_raises():
    y = np.array(["a"] * N)
    with pytest.raises(ValueError, match="y is not numeric: row 0 holds 'a'"):
        validate_training_data(_array(), y)


def test_training_nan_in_y_names_y_and_row():
    y = pd.Series(_y(), name="sales")
    y[5] = np.nan
    with pytest.raises(ValueError, match=r"y \('sales'\) has 1 NaN.*first at row 5"):
        validate_training_data(_array(), y)


def test_training_y_dates_must_match_x_dates():
    X = _frame(with_date=False).set_axis(DATES)
    y = pd.Series(_y(), index=DATES[::-1])
    with pytest.raises(ValueError, match="y's dates do not match X's dates: at row 0"):
        validate_training_data(X, y)


# --- training: non-numeric columns -----------------------------------------


def test_training_string_column_is_not_numeric():
    X = _frame(with_date=False).assign(region=["north"] * N)
    with pytest.raises(
        ValueError, match="column 'region' is not numeric: row 0 holds 'north'"
    ):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_training_numeric_strings_are_not_parsed():
    X = _frame(with_date=False).astype({"price": object})
    X.loc[3, "price"] = "9.5"
    with pytest.raises(ValueError, match=r"column 'price' is not numeric: row 3"):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_training_ndarray_string_column_names_position():
    X = np.array([["1.0", "x"]] * N)
    with pytest.raises(ValueError, match="column 0 is not numeric: row 0 holds '1.0'"):
        validate_training_data(X, _y())


def test_training_categorical_column_raises():
    X = _frame(with_date=False).assign(region=pd.Categorical(["a", "b"] * (N // 2)))
    with pytest.raises(ValueError, match="column 'region' is categorical"):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_training_date_feature_column_suggests_date_column():
    X = _frame()
    with pytest.raises(
        ValueError, match="column 'date' holds dates.*date_column='date'"
    ):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_training_complex_data_not_supported():
    X = np.ones((N, 1)) + 1j
    with pytest.raises(
        ValueError, match="X holds complex .*Complex data not supported"
    ):
        validate_training_data(X, _y())
    frame = pd.DataFrame({"tv": np.ones(N), "price": np.ones(N) + 1j})
    with pytest.raises(ValueError, match="column 'price' holds complex numbers"):
        validate_training_data(frame, _y())
    with pytest.raises(ValueError, match="y holds complex numbers"):
        validate_training_data(_array(), _y() + 1j)


# --- training: media_columns errors ----------------------------------------


def test_training_unknown_media_column_is_named():
    with pytest.raises(
        ValueError, match="media column 'tvv' is not a column of X; did you mean 'tv'"
    ):
        validate_training_data(_frame(with_date=False), _y(), media_columns=["tvv"])


def test_training_media_position_out_of_range_is_named():
    with pytest.raises(
        ValueError, match=r"position 3 is out of range: X has 3 columns \(positions 0"
    ):
        validate_training_data(_array(), _y(), media_columns=[0, 3])


@pytest.mark.parametrize("media_columns", [["tv", "tv"], ["tv", 0]])
def test_training_duplicate_media_columns_raise(media_columns):
    with pytest.raises(ValueError, match="lists column 'tv' more than once"):
        validate_training_data(
            _frame(with_date=False), _y(), media_columns=media_columns
        )


def test_training_empty_media_columns_raise():
    with pytest.raises(ValueError, match="media_columns is empty"):
        validate_training_data(_array(), _y(), media_columns=[])


def test_training_media_names_need_a_dataframe():
    with pytest.raises(ValueError, match="names the column 'tv', but X is an array"):
        validate_training_data(_array(), _y(), media_columns=["tv"])


def test_training_boolean_media_columns_raise():
    with pytest.raises(ValueError, match="boolean masks are not supported"):
        validate_training_data(_array(), _y(), media_columns=[True, False, True])


def test_training_date_column_cannot_be_media():
    with pytest.raises(ValueError, match="media column 'date' is the date column"):
        validate_training_data(
            _frame(), _y(), media_columns=["date", "tv"], date_column="date"
        )


# --- training: dates -------------------------------------------------------


def test_training_unsorted_dates_name_the_first_out_of_order_row():
    X = _frame()
    X["date"] = X["date"].iloc[[0, 1, 2, 3, 5, 4, 6, 7]].to_numpy()
    msg = (
        "dates are not sorted: row 5 (2021-02-01) comes before row 4 "
        "(2021-02-08); sort X by date"
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_training_data(X, _y(), date_column="date")


def test_training_unsorted_datetime_index_raises():
    X = _frame(with_date=False).set_axis(DATES[::-1])
    with pytest.raises(ValueError, match=r"row 1 \(2021-02-15\) comes before row 0"):
        validate_training_data(X, _y())


def test_training_duplicate_dates_name_date_and_rows():
    X = _frame()
    X.loc[4, "date"] = X.loc[3, "date"]
    with pytest.raises(
        ValueError, match=r"duplicate dates: 2021-01-25 appears in rows \[3, 4\]"
    ):
        validate_training_data(X, _y(), date_column="date")


def test_training_missing_dates_raise():
    X = _frame()
    X.loc[2, "date"] = pd.NaT
    with pytest.raises(ValueError, match=r"1 missing date \(NaT\), first at row 2"):
        validate_training_data(X, _y(), date_column="date")


def test_training_unparsable_date_is_named():
    X = _frame()
    X["date"] = X["date"].dt.strftime("%Y-%m-%d")
    X.loc[6, "date"] = "not a date"
    with pytest.raises(
        ValueError, match="cannot be read as a date .*row 6: 'not a date'"
    ):
        validate_training_data(X, _y(), date_column="date")


def test_training_numeric_date_column_raises():
    X = _frame().assign(date=np.arange(N))
    with pytest.raises(ValueError, match="date column 'date' holds numbers"):
        validate_training_data(X, _y(), date_column="date")


def test_training_unknown_date_column_raises():
    with pytest.raises(ValueError, match="date_column='day' is not a column of X"):
        validate_training_data(_frame(), _y(), date_column="day")


def test_training_date_column_needs_a_dataframe():
    with pytest.raises(ValueError, match="needs X to be a DataFrame"):
        validate_training_data(_array(), _y(), date_column="date")


# --- training: values ------------------------------------------------------


def test_training_nan_names_column_row_and_count():
    X = _frame()
    X.loc[[3, 6], "price"] = np.nan
    with pytest.raises(
        ValueError,
        match=r"column 'price' has 2 NaN/missing value\(s\) out of 8, "
        r"first at row 3 \(2021-01-25\)",
    ):
        validate_training_data(X, _y(), media_columns=["tv"], date_column="date")


def test_training_inf_names_column_and_row():
    X = _array()
    X[4, 1] = -np.inf
    with pytest.raises(ValueError, match=r"column 1 has 1 infinite \(inf\).*row 4"):
        validate_training_data(X, _y())


def test_training_nan_row_uses_index_label():
    X = _frame(with_date=False).set_axis(list("abcdefgh"))
    X.loc["c", "tv"] = np.nan
    with pytest.raises(ValueError, match=r"first at row 2 \(index label 'c'\)"):
        validate_training_data(X, _y())


def test_training_nan_in_several_columns_lists_the_others():
    X = _frame(with_date=False)
    X.loc[1, "tv"] = np.nan
    X.loc[2, "price"] = np.nan
    with pytest.raises(ValueError, match=r"column 'tv' .*Also .*column 'price' \(1\)"):
        validate_training_data(X, _y())


def test_training_pandas_missing_value_is_reported_as_nan():
    X = _frame(with_date=False)
    X["tv"] = X["tv"].astype("Float64")
    X.loc[5, "tv"] = pd.NA
    with pytest.raises(ValueError, match="column 'tv' has 1 NaN/missing.*row 5"):
        validate_training_data(X, _y())


def test_training_negative_media_names_column_row_and_value():
    X = _frame()
    X.loc[4, "search"] = -2.5
    with pytest.raises(
        ValueError,
        match=r"media column 'search' has 1 negative value, "
        r"first at row 4 \(2021-02-01\): -2.5",
    ):
        validate_training_data(
            X, _y(), media_columns=["tv", "search"], date_column="date"
        )


def test_training_negative_controls_are_allowed():
    X = _frame(with_date=False).assign(price=-1.0)
    data = validate_training_data(X, _y(), media_columns=["tv"])
    assert (data.extra_features[:, 1] == -1.0).all()


# --- prediction ------------------------------------------------------------


def test_prediction_dataframe_uses_fit_columns_and_dates():
    fit = _fit_frame()
    X = _frame().iloc[5:]
    new = validate_prediction_data(X, fitted=fit, date_column="date")
    assert isinstance(new, PredictionData)
    np.testing.assert_array_equal(new.media, X[["tv", "search"]].to_numpy())
    np.testing.assert_array_equal(new.extra_features, X[["price"]].to_numpy())
    assert new.index.equals(pd.DatetimeIndex(DATES[5:]))


def test_prediction_ndarray_gets_a_range_index():
    X = _array()
    fit = validate_training_data(X, _y(), media_columns=[2])
    new = validate_prediction_data(X[:3], fitted=fit)
    np.testing.assert_array_equal(new.media, X[:3, [2]])
    np.testing.assert_array_equal(new.extra_features, X[:3, [0, 1]])
    assert new.index.equals(pd.RangeIndex(3))


def test_prediction_dataframe_without_dates_gets_a_range_index():
    X = _frame(with_date=False)
    fit = validate_training_data(X, _y())
    new = validate_prediction_data(X.set_axis(list("abcdefgh")), fitted=fit)
    assert new.index.equals(pd.RangeIndex(N))


def test_prediction_datetime_index_is_kept():
    X = _frame(with_date=False).set_axis(DATES)
    fit = validate_training_data(X, _y())
    new = validate_prediction_data(X.iloc[2:4], fitted=fit)
    assert new.index.equals(DATES[2:4])


def test_prediction_accepts_any_object_with_the_fit_attributes():
    fitted = types.SimpleNamespace(
        media_positions=[1],
        extra_positions=[0],
        feature_names_in=None,
        n_features_in=2,
        media_names=["media_0"],
        extra_names=["extra_0"],
    )
    new = validate_prediction_data(np.array([[5.0, 1.0]]), fitted=fitted)
    np.testing.assert_array_equal(new.media, [[1.0]])
    np.testing.assert_array_equal(new.extra_features, [[5.0]])


def test_prediction_wrong_number_of_features_raises_sklearn_message():
    fit = validate_training_data(np.ones((N, 6)), _y())
    msg = "X has 4 features, but HillAdstockRegressor is expecting 6 features as input."
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_prediction_data(
            np.ones((2, 4)), fitted=fit, estimator_name="HillAdstockRegressor"
        )


def test_prediction_reordered_names_raise_sklearn_message():
    fit = _fit_frame()
    X = _frame()[["date", "search", "tv", "price"]]
    msg = (
        "The feature names should match those that were passed during fit.\n"
        "Feature names must be in the same order as they were in fit."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_unseen_and_missing_names_are_listed():
    fit = _fit_frame()
    X = _frame().rename(columns={"tv": "television"})
    msg = (
        "The feature names should match those that were passed during fit.\n"
        "Feature names unseen at fit time:\n- television\n"
        "Feature names seen at fit time, yet now missing:\n- tv\n"
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_names_are_checked_before_the_feature_count():
    fit = _fit_frame()
    with pytest.raises(ValueError, match="yet now missing:\n- price\n"):
        validate_prediction_data(
            _frame().drop(columns="price"), fitted=fit, date_column="date"
        )


def test_prediction_array_after_named_fit_warns_and_is_accepted():
    X = _frame(with_date=False)
    fit = validate_training_data(X, _y())
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        new = validate_prediction_data(X.to_numpy(), fitted=fit)
    np.testing.assert_array_equal(new.media, X.to_numpy())


def test_prediction_dataframe_after_unnamed_fit_warns_and_is_accepted():
    X = _frame(with_date=False)
    fit = validate_training_data(X.to_numpy(), _y())
    with pytest.warns(UserWarning, match="X has feature names, but"):
        new = validate_prediction_data(X, fitted=fit)
    np.testing.assert_array_equal(new.media, X.to_numpy())


def test_prediction_matching_names_do_not_warn():
    fit = _fit_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_prediction_data(_frame(), fitted=fit, date_column="date")


def test_prediction_nan_and_inf_are_named():
    fit = _fit_frame()
    X = _frame()
    X.loc[3, "price"] = np.inf
    with pytest.raises(ValueError, match=r"column 'price' .*inf.*row 3 \(2021-01-25\)"):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_negative_media_is_named():
    fit = _fit_frame()
    X = _frame()
    X.loc[1, "tv"] = -4.0
    with pytest.raises(ValueError, match="media column 'tv' .*row 1 .*: -4"):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_non_numeric_column_is_named():
    fit = _fit_frame()
    X = _frame().astype({"price": object})
    X.loc[2, "price"] = "cheap"
    with pytest.raises(ValueError, match="column 'price' is not numeric: row 2"):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_unsorted_dates_raise():
    fit = _fit_frame()
    X = _frame().iloc[[1, 0, 2]]
    with pytest.raises(ValueError, match="dates are not sorted: row 1"):
        validate_prediction_data(X, fitted=fit, date_column="date")


def test_prediction_single_row_is_enough_but_zero_rows_raise():
    fit = _fit_frame()
    assert validate_prediction_data(_frame().iloc[:1], fitted=fit, date_column="date")
    with pytest.raises(ValueError, match="0 rows"):
        validate_prediction_data(_frame().iloc[:0], fitted=fit, date_column="date")


def test_prediction_does_not_modify_inputs():
    fit = _fit_frame()
    X = _frame()
    X_before = X.copy(deep=True)
    new = validate_prediction_data(X, fitted=fit, date_column="date")
    new.media[:] = -1.0
    pd.testing.assert_frame_equal(X, X_before)


# --- media prior -----------------------------------------------------------

NAMES = ["tv", "search", "radio", "print", "ooh"]


def test_media_prior_array_returns_float64_copy():
    prior = np.array([1, 2, 3, 4, 5])
    result = validate_media_prior(prior, 5, NAMES)
    assert result.dtype == np.float64
    np.testing.assert_array_equal(result, [1.0, 2.0, 3.0, 4.0, 5.0])
    result[0] = 99.0
    assert prior[0] == 1


def test_media_prior_series_is_aligned_by_name():
    prior = pd.Series({"search": 2.0, "tv": 1.0, "ooh": 5.0, "radio": 3.0, "print": 4})
    np.testing.assert_array_equal(
        validate_media_prior(prior, 5, NAMES), [1.0, 2.0, 3.0, 4.0, 5.0]
    )


def test_media_prior_mapping_is_aligned_by_name():
    np.testing.assert_array_equal(
        validate_media_prior({"search": 2.0, "tv": 1.0}, 2, ["tv", "search"]), [1, 2]
    )


def test_media_prior_series_with_range_index_is_positional():
    prior = pd.Series([3.0, 4.0])
    np.testing.assert_array_equal(
        validate_media_prior(prior, 2, ["tv", "search"]), [3, 4]
    )


def test_media_prior_name_mismatch_lists_missing_and_unexpected():
    prior = pd.Series({"tv": 1.0, "serch": 2.0})
    with pytest.raises(ValueError, match="missing 'search'; unexpected 'serch'"):
        validate_media_prior(prior, 2, ["tv", "search"])


def test_media_prior_wrong_length_names_the_channels():
    msg = "media_prior has 3 values but there are 5 media channels (tv, search, "
    with pytest.raises(ValueError, match=re.escape(msg)):
        validate_media_prior([1.0, 2.0, 3.0], 5, NAMES)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_media_prior_non_positive_or_non_finite_names_the_channel(bad):
    with pytest.raises(ValueError, match="media_prior for channel 'search' is"):
        validate_media_prior([1.0, bad], 2, ["tv", "search"])


@pytest.mark.parametrize(
    ("prior", "match"),
    [
        (5.0, "single number"),
        (np.ones((2, 2)), "must be 1-D"),
        (["1", "2"], "'1', not a number"),
        (None, "media_prior is None"),
    ],
)
def test_media_prior_bad_shapes_and_types_raise(prior, match):
    with pytest.raises(ValueError, match=match):
        validate_media_prior(prior, 2, ["tv", "search"])


# --- calendar --------------------------------------------------------------

TRAIN = pd.date_range("2023-01-02", "2023-02-06", freq="W-MON")  # 6 Mondays


def _mondays(start, periods):
    return pd.date_range(start, periods=periods, freq="W-MON")


def test_calendar_rows_right_after_training_continue_it():
    periods = place_on_calendar(TRAIN, "W-MON", _mondays("2023-02-13", 3), 0)
    np.testing.assert_array_equal(periods, [6, 7, 8])
    assert periods.dtype == np.int64


def test_calendar_in_sample_rows_keep_training_positions():
    periods = place_on_calendar(TRAIN, "W-MON", _mondays("2023-01-09", 3), 0)
    np.testing.assert_array_equal(periods, [1, 2, 3])


def test_calendar_mixed_in_and_out_of_sample_rows():
    periods = place_on_calendar(TRAIN, "W-MON", _mondays("2023-01-30", 4), 0)
    np.testing.assert_array_equal(periods, [4, 5, 6, 7])


def test_calendar_media_gap_moves_the_start():
    offset = pd.offsets.Week(weekday=0)
    periods = place_on_calendar(TRAIN, offset, _mondays("2023-03-06", 2), 3)
    np.testing.assert_array_equal(periods, [9, 10])


def test_calendar_gap_without_media_gap_raises():
    msg = (
        "X starts on 2023-03-06, 4 periods after the end of the training data "
        "(2023-02-06); pass the media of the 3 periods in between as media_gap="
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        place_on_calendar(TRAIN, "W-MON", _mondays("2023-03-06", 2), 0)


def test_calendar_media_gap_of_the_wrong_size_raises():
    with pytest.raises(ValueError, match="media_gap has 2 rows, .*so 3 periods lie"):
        place_on_calendar(TRAIN, "W-MON", _mondays("2023-03-06", 2), 2)


def test_calendar_media_gap_without_a_gap_raises():
    with pytest.raises(ValueError, match="no period lies in between"):
        place_on_calendar(TRAIN, "W-MON", _mondays("2023-02-13", 2), 1)
    with pytest.raises(ValueError, match="inside the training period"):
        place_on_calendar(TRAIN, "W-MON", _mondays("2023-01-09", 2), 1)


def test_calendar_rows_before_training_raise():
    with pytest.raises(ValueError, match="X starts on 2022-12-26, before the training"):
        place_on_calendar(TRAIN, "W-MON", _mondays("2022-12-26", 3), 0)


def test_calendar_in_range_date_off_the_calendar_raises():
    new = pd.DatetimeIndex(["2023-01-11"])
    with pytest.raises(ValueError, match=r"row 0 of X \(2023-01-11\) falls inside"):
        place_on_calendar(TRAIN, "W-MON", new, 0)


def test_calendar_later_date_off_the_calendar_raises():
    new = pd.DatetimeIndex(["2023-02-15"])
    with pytest.raises(ValueError, match="2023-02-15, which is not on the calendar"):
        place_on_calendar(TRAIN, "W-MON", new, 0)


def test_calendar_internal_gap_names_the_row():
    new = pd.DatetimeIndex(["2023-02-13", "2023-02-20", "2023-03-06"])
    with pytest.raises(
        ValueError,
        match=r"row 2 is 2023-03-06 but the period after row 1 .* 2023-02-27",
    ):
        place_on_calendar(TRAIN, "W-MON", new, 0)


def test_calendar_unsorted_rows_raise():
    new = _mondays("2023-02-13", 3)[::-1]
    with pytest.raises(ValueError, match="dates are not sorted"):
        place_on_calendar(TRAIN, "W-MON", new, 0)


def test_calendar_monthly_frequency():
    train = pd.date_range("2022-01-01", periods=12, freq="MS")
    new = pd.date_range("2023-02-01", periods=2, freq="MS")
    np.testing.assert_array_equal(place_on_calendar(train, "MS", new, 1), [13, 14])


def test_calendar_empty_new_index_returns_empty():
    periods = place_on_calendar(TRAIN, "W-MON", pd.DatetimeIndex([]), 0)
    assert periods.shape == (0,)


def test_calendar_without_frequency_raises():
    with pytest.raises(ValueError, match="no regular frequency"):
        place_on_calendar(TRAIN, None, _mondays("2023-02-13", 1), 0)


def test_calendar_training_dates_must_follow_the_frequency():
    with pytest.raises(ValueError, match="do not follow the frequency"):
        place_on_calendar(TRAIN, "W-TUE", _mondays("2023-02-13", 1), 0)


def test_calendar_time_zone_mismatch_raises():
    new = _mondays("2023-02-13", 1).tz_localize("UTC")
    with pytest.raises(ValueError, match="time-zone aware"):
        place_on_calendar(TRAIN, "W-MON", new, 0)


# --- target scale ----------------------------------------------------------


def test_target_scale_accepts_positive_mean():
    check_target_scale(np.array([0.0, 2.0, 1.0]))


@pytest.mark.parametrize("target", [[0.0, 0.0], [-1.0, 0.5], [1.0, -3.0]])
def test_target_scale_rejects_non_positive_mean(target):
    with pytest.raises(ValueError, match="y has mean .* must have a positive mean"):
        check_target_scale(np.array(target))


def _string_dates(dates, fmt):
    X = _frame()
    X["date"] = [d.strftime(fmt) for d in dates]
    return X


def test_day_first_dates_are_read_day_first_when_a_day_exceeds_12():
    X = _string_dates(DATES, "%d/%m/%Y")
    data = validate_training_data(X, _y(), date_column="date", media_columns=["tv"])
    assert data.index.equals(pd.DatetimeIndex(DATES).rename("date"))


def test_month_first_dates_are_read_month_first_when_a_day_exceeds_12():
    X = _string_dates(DATES, "%m/%d/%Y")
    data = validate_training_data(X, _y(), date_column="date", media_columns=["tv"])
    assert data.index.equals(pd.DatetimeIndex(DATES).rename("date"))


def test_ambiguous_day_month_order_asks_for_date_format():
    """Monthly data on the 1st: 01/02/2010 could be 1 Feb or 2 Jan."""
    monthly = pd.date_range("2010-01-01", periods=N, freq="MS")
    X = _string_dates(monthly, "%d/%m/%Y")
    with pytest.raises(ValueError, match="cannot be told apart.*date_format"):
        validate_training_data(X, _y(), date_column="date", media_columns=["tv"])
    data = validate_training_data(
        X, _y(), date_column="date", media_columns=["tv"], date_format="%d/%m/%Y"
    )
    assert data.index.equals(monthly.rename("date"))


def test_a_missing_week_is_named_at_fit():
    dates = pd.date_range("2021-01-04", periods=N + 1, freq="W-MON")
    X = _frame(with_date=False)
    X.index = dates.delete(3)
    with pytest.raises(ValueError, match=r"1 period missing \(2021-01-25\)"):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_a_missing_month_is_named_at_fit():
    dates = pd.date_range("2020-01-01", periods=N + 1, freq="MS")
    X = _frame(with_date=False)
    X.index = dates.delete(5)
    with pytest.raises(ValueError, match="2020-06-01"):
        validate_training_data(X, _y(), media_columns=["tv"])


def test_a_date_off_the_calendar_is_named_at_fit():
    dates = pd.date_range("2021-01-04", periods=N, freq="W-MON").tolist()
    dates[4] = dates[4] + pd.Timedelta(days=2)
    X = _frame(with_date=False)
    X.index = pd.DatetimeIndex(dates)
    with pytest.raises(ValueError, match="off that calendar"):
        validate_training_data(X, _y(), media_columns=["tv"])


# ------------------------------------------------------ ragged geo panels

_GEO_DATES = pd.date_range("2021-01-04", periods=8, freq="W-MON")


def _panel(drop=()):
    """Geos a, b, c over 8 weeks; ``drop`` lists (geo, week) cells to leave out."""
    rows = [
        {"date": date, "geo": geo, "tv": 1.0 + week, "price": 2.0}
        for week, date in enumerate(_GEO_DATES)
        for geo in "abc"
        if (geo, week) not in drop
    ]
    X = pd.DataFrame(rows)
    return X, pd.Series(10.0 + np.arange(len(X)), index=X.index)


def _validate_panel(X, y):
    return _validation.validate_geo_training_data(
        X, y, geo_column="geo", date_column="date", media_columns=["tv"]
    )


def test_geo_ragged_panel_marks_each_geos_cells():
    # b starts in week 2, c ends after week 5.
    drop = {("b", 0), ("b", 1), ("c", 6), ("c", 7)}
    X, y = _panel(drop)
    data = _validate_panel(X, y)
    assert data.geo_names == ["a", "c", "b"]  # order of first appearance
    expected = np.ones((8, 3), dtype=bool)
    expected[:2, 2] = expected[6:, 1] = False
    np.testing.assert_array_equal(data.present, expected)
    assert data.media.shape == (8, 1, 3)
    assert data.media[:, 0][~expected].sum() == data.target[~expected].sum() == 0
    row = X.index[(X["geo"] == "b") & (X["date"] == _GEO_DATES[2])][0]
    assert data.target[2, 2] == y[row]


def test_geo_complete_panel_has_no_cell_mask():
    assert _validate_panel(*_panel()).present is None


def test_geo_gap_inside_a_geos_history_names_the_geo_and_dates():
    X, y = _panel({("b", 3), ("b", 4)})
    with pytest.raises(
        ValueError,
        match=r"gap in the history of geo 'b'.*2 dates between its first date "
        r"2021-01-04 and its last date 2021-02-22 \(2021-01-25, 2021-02-01\)",
    ):
        _validate_panel(X, y)


def test_geo_ragged_panel_still_refuses_duplicate_rows():
    X, y = _panel({("b", 0)})
    X = pd.concat([X, X.iloc[[4]]], ignore_index=True)
    y = pd.concat([y, y.iloc[[4]]], ignore_index=True)
    geo, date = X.iloc[4]["geo"], X.iloc[4]["date"]
    with pytest.raises(
        ValueError, match=rf"duplicate rows for geo '{geo}' on {date:%Y-%m-%d}"
    ):
        _validate_panel(X, y)


def _predict_rows(fitted, X):
    return _validation.validate_geo_prediction_data(
        X, fitted=fitted, geo_column="geo", date_column="date"
    )


def test_geo_prediction_rows_follow_each_geos_training_history():
    drop = {("b", 0), ("b", 1), ("c", 6), ("c", 7)}
    fitted = _validate_panel(*_panel(drop))
    X, _ = _panel(drop)
    assert len(_predict_rows(fitted, X).index) == len(X)
    # A row of b before its first training date.
    early, _ = _panel({("b", 1), ("c", 6), ("c", 7)})
    with pytest.raises(ValueError, match=r"row for geo 'b' on 2021-01-04, outside"):
        _predict_rows(fitted, early)
    # b present at week 4 in training, but left out of X.
    short = X[~((X["geo"] == "b") & (X["date"] == _GEO_DATES[4]))]
    with pytest.raises(ValueError, match=r"no row for geo 'b' on 2021-02-01"):
        _predict_rows(fitted, short)
    # After training: a and b continue, c closed before the end.
    later = X[X["date"] == _GEO_DATES[7]].assign(
        date=_GEO_DATES[7] + pd.Timedelta("7D")
    )
    assert len(_predict_rows(fitted, later).index) == 2
    reopened = pd.concat([later, later.iloc[[0]].assign(geo="c")], ignore_index=True)
    with pytest.raises(ValueError, match=r"row for geo 'c' on 2021-03-01, outside"):
        _predict_rows(fitted, reopened)


# ------------------------------------------------------------- fill_missing


def _with_missing_weeks(*weeks):
    """_frame() on a weekly calendar of N + len(weeks) periods without ``weeks``."""
    dates = pd.date_range("2021-01-04", periods=N + len(weeks), freq="W-MON")
    return _frame(with_date=False).set_axis(dates.delete(list(weeks)))


def test_a_missing_week_error_names_the_fill_missing_option():
    with pytest.raises(ValueError, match=r"\(2021-01-25\).*fill_missing='zero'"):
        validate_training_data(_with_missing_weeks(3), _y(), media_columns=["tv"])


def test_fill_missing_zero_inserts_the_missing_periods():
    X = _with_missing_weeks(3, 4)
    data = validate_training_data(X, _y(), media_columns=["tv"], fill_missing="zero")
    assert len(data.index) == N + 2
    assert data.frequency == pd.tseries.frequencies.to_offset("W-MON")
    np.testing.assert_array_equal(np.flatnonzero(~data.present), [3, 4])
    assert (data.media[[3, 4]] == 0).all() and (data.extra_features[[3, 4]] == 0).all()
    assert (data.target[[3, 4]] == 0).all()
    np.testing.assert_array_equal(data.target[data.present], _y())
    np.testing.assert_array_equal(data.media[data.present, 0], X["tv"].to_numpy())


def test_fill_missing_values_per_column():
    X = _with_missing_weeks(3)
    data = validate_training_data(
        X,
        _y(),
        media_columns=["tv", "search"],
        fill_missing={"search": 2.0, "price": 9.5},
    )
    assert data.media[3].tolist() == [0.0, 2.0]  # tv, search
    assert data.extra_features[3].tolist() == [9.5]


@pytest.mark.parametrize(
    "fill, message",
    [
        ({"radio": 1.0}, r"fill_missing names 'radio', which is not a media"),
        ({"tv": -1.0}, r"fill_missing\['tv'\] is -1.0; media must be finite"),
        ({"price": float("nan")}, r"fill_missing\['price'\] is nan"),
        ({"tv": "0"}, r"fill_missing\['tv'\] must be a number"),
    ],
)
def test_fill_missing_bad_values_are_refused(fill, message):
    with pytest.raises(ValueError, match=message):
        validate_training_data(
            _with_missing_weeks(3), _y(), media_columns=["tv"], fill_missing=fill
        )


def test_fill_missing_keeps_refusing_dates_off_the_calendar():
    dates = DATES.tolist()
    dates[4] = dates[4] + pd.Timedelta(days=2)
    X = _frame(with_date=False).set_axis(pd.DatetimeIndex(dates))
    with pytest.raises(ValueError, match="off that calendar"):
        validate_training_data(X, _y(), media_columns=["tv"], fill_missing="zero")


def test_fill_missing_complete_data_has_no_mask():
    data = validate_training_data(
        _frame(), _y(), media_columns=["tv"], date_column="date", fill_missing="zero"
    )
    assert data.present is None


def test_calendar_new_rows_may_skip_inserted_training_periods():
    skippable = np.zeros(len(DATES), dtype=bool)
    skippable[3] = True
    periods = place_on_calendar(DATES, "W-MON", DATES.delete(3), 0, skippable)
    np.testing.assert_array_equal(periods, [0, 1, 2, 4, 5, 6, 7])
    with pytest.raises(ValueError, match="not consecutive"):
        place_on_calendar(DATES, "W-MON", DATES.delete(3), 0)
    with pytest.raises(ValueError, match="not consecutive"):  # week 2 was observed
        place_on_calendar(DATES, "W-MON", DATES.delete(2), 0, skippable)


def test_geo_fill_missing_inserts_a_gap_in_a_geos_history():
    X, y = _panel({("b", 3), ("b", 4), ("b", 0)})
    data = _validation.validate_geo_training_data(
        X,
        y,
        geo_column="geo",
        date_column="date",
        media_columns=["tv"],
        fill_missing={"tv": 7.0},
    )
    b = data.geo_names.index("b")
    np.testing.assert_array_equal(np.flatnonzero(~data.present[:, b]), [0, 3, 4])
    # Inside b's history the fill value, before its first date zero media.
    assert data.media[[3, 4], 0, b].tolist() == [7.0, 7.0]
    assert data.media[0, 0, b] == 0.0 and np.delete(data.present, b, axis=1).all()


def test_geo_fill_missing_inserts_a_date_every_geo_lacks():
    X, y = _panel({(geo, 5) for geo in "abc"})
    with pytest.raises(ValueError, match=r"1 period missing \(2021-02-08\)"):
        _validate_panel(X, y)
    data = _validation.validate_geo_training_data(
        X, y, geo_column="geo", date_column="date", fill_missing="zero"
    )
    assert len(data.index) == 8 and not data.present[5].any()
