"""Tests for skmmm.preprocessing.CustomScaler."""

import doctest

import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmmm import preprocessing
from skmmm.preprocessing import CustomScaler

SHAPES = [(12,), (12, 3), (12, 3, 4)]


def _positive_data(shape, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 10.0, size=shape)


# --- estimator checks ------------------------------------------------------

_FIT1D_REASON = (
    "CustomScaler accepts 1-D input of shape (n_samples,) by design, as "
    "LightweightMMM's scaler does (e.g. for the target)."
)


class _ColumnMean:
    """``np.mean`` of a column, with a repr free of memory addresses.

    sklearn names each check after the estimator's repr; a plain function's
    repr carries its address, which differs between pytest-xdist workers, and
    the workers must collect the same test ids.
    """

    def __call__(self, column):
        return np.mean(column)

    def __repr__(self) -> str:
        return "np.mean"


def _expected_failed_checks(estimator):
    failures = {"check_fit1d": _FIT1D_REASON}
    if estimator.divide_operation is not None:
        failures["check_transformer_preserve_dtypes"] = (
            "The check standardises its data, so in float32 a column mean is "
            "exactly 0; dividing by the mean is then undefined and fit rejects "
            "it. dtype preservation is checked with the constant scaler."
        )
    return failures


@parametrize_with_checks(
    [
        CustomScaler(divide_operation=_ColumnMean()),
        CustomScaler(divide_by=2.0, multiply_by=3.0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_custom_scaler_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_custom_scaler_docstring_examples_pass():
    result = doctest.testmod(preprocessing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --- known answers and round trips -----------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_custom_scaler_round_trip_recovers_input(shape):
    X = _positive_data(shape)
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=0.15)
    X_scaled = scaler.fit_transform(X)
    assert X_scaled.shape == X.shape
    assert not np.allclose(X_scaled, X)
    np.testing.assert_allclose(scaler.inverse_transform(X_scaled), X, rtol=1e-12)


def test_custom_scaler_2d_known_answer():
    X = np.array([[1.0, 4.0, -2.0], [2.0, 8.0, -6.0], [6.0, 0.0, -1.0]])
    # Column means computed by hand: 3, 4, -3.
    expected = X / np.array([3.0, 4.0, -3.0]) * 0.15
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=0.15).fit(X)
    np.testing.assert_array_equal(scaler.divide_by_, [3.0, 4.0, -3.0])
    np.testing.assert_array_equal(scaler.multiply_by_, [0.15, 0.15, 0.15])
    np.testing.assert_allclose(scaler.transform(X), expected, rtol=1e-15)


def test_custom_scaler_3d_known_answer_per_channel_and_geo():
    X = _positive_data((10, 2, 3), seed=1)
    expected = np.empty_like(X)
    for c in range(2):
        for g in range(3):
            column = X[:, c, g]
            expected[:, c, g] = column * 7.0 / (sum(column) / len(column))
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=7.0).fit(X)
    assert scaler.divide_by_.shape == (2, 3)
    np.testing.assert_allclose(scaler.transform(X), expected, rtol=1e-12)


def test_custom_scaler_1d_stays_1d():
    y = np.array([2.0, 4.0, 6.0])
    scaler = CustomScaler(divide_operation=np.mean).fit(y)
    assert scaler.n_features_in_ == 1
    assert scaler.divide_by_.shape == ()
    out = scaler.transform(y)
    assert out.ndim == 1
    np.testing.assert_allclose(out, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(scaler.inverse_transform(out), y)


def test_custom_scaler_lightweightmmm_usage_with_jax_arrays():
    # The scaling recipe of LightweightMMM's README, on JAX arrays.
    rng = np.random.default_rng(2)
    media = jnp.asarray(rng.uniform(1, 100, size=(50, 4)))
    target = jnp.asarray(rng.uniform(100, 200, size=50))
    costs = jnp.asarray(media.sum(axis=0))

    media_scaler = CustomScaler(divide_operation=jnp.mean)
    target_scaler = CustomScaler(divide_operation=jnp.mean)
    cost_scaler = CustomScaler(divide_operation=jnp.mean, multiply_by=0.15)
    media_scaled = media_scaler.fit_transform(media)
    target_scaled = target_scaler.fit_transform(target)
    costs_scaled = cost_scaler.fit_transform(costs)

    media_np, target_np, costs_np = map(np.asarray, (media, target, costs))
    assert isinstance(media_scaled, np.ndarray)
    np.testing.assert_allclose(media_scaled, media_np / media_np.mean(axis=0))
    np.testing.assert_allclose(target_scaled, target_np / target_np.mean())
    np.testing.assert_allclose(costs_scaled, costs_np / costs_np.mean() * 0.15)
    np.testing.assert_allclose(
        target_scaler.inverse_transform(target_scaled), target_np, rtol=1e-6
    )


def test_custom_scaler_jax_reduction_computed_in_float64():
    X = _positive_data((30, 3)) * 1e6 + np.pi
    np_scaler = CustomScaler(divide_operation=np.mean).fit(X)
    jnp_scaler = CustomScaler(divide_operation=jnp.mean).fit(X)
    assert jnp_scaler.divide_by_.dtype == np.float64
    np.testing.assert_allclose(jnp_scaler.divide_by_, X.mean(axis=0), rtol=1e-15)
    np.testing.assert_array_equal(jnp_scaler.divide_by_, np_scaler.divide_by_)


def test_custom_scaler_custom_callable_applied_to_each_column():
    # Mean of the non-zero entries: not expressible with an ``axis`` argument.
    def nonzero_mean(column):
        return column[column != 0].mean()

    X = _positive_data((8, 2, 3), seed=3)
    X[::2, 1, 2] = 0.0
    scaler = CustomScaler(multiply_operation=nonzero_mean).fit(X)
    expected = np.array(
        [[nonzero_mean(X[:, c, g]) for g in range(3)] for c in range(2)]
    )
    np.testing.assert_allclose(scaler.multiply_by_, expected)
    np.testing.assert_array_equal(scaler.divide_by_, np.ones((2, 3)))


def test_custom_scaler_divide_by_value_broadcasts_over_trailing_dims():
    X = _positive_data((5, 2, 3))
    per_geo = np.array([1.0, 2.0, 4.0])
    scaler = CustomScaler(divide_by=per_geo, multiply_by=10).fit(X)
    np.testing.assert_array_equal(scaler.divide_by_, np.tile(per_geo, (2, 1)))
    np.testing.assert_allclose(scaler.transform(X), X / per_geo * 10)


def test_custom_scaler_operation_takes_precedence_over_value():
    X = np.array([[1.0, 2.0], [3.0, 6.0]])
    scaler = CustomScaler(divide_operation=np.max, divide_by=100.0).fit(X)
    np.testing.assert_array_equal(scaler.divide_by_, [3.0, 6.0])


def test_custom_scaler_defaults_are_identity():
    X = _positive_data((6, 2))
    np.testing.assert_array_equal(CustomScaler().fit_transform(X), X)


# --- dtypes ----------------------------------------------------------------


def test_custom_scaler_preserves_float32():
    X = _positive_data((6, 2)).astype(np.float32)
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=0.15).fit(X)
    assert scaler.transform(X).dtype == np.float32
    assert scaler.inverse_transform(X).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, bool])
def test_custom_scaler_other_dtypes_become_float64(dtype):
    X = np.array([[1, 2], [3, 1]]).astype(dtype)
    out = CustomScaler(divide_operation=np.max).fit_transform(X)
    assert out.dtype == np.float64


# --- pandas ----------------------------------------------------------------


def _media_frame():
    index = pd.date_range("2024-01-01", periods=4, freq="W-MON")
    return pd.DataFrame(
        {"tv": [1.0, 2.0, 3.0, 6.0], "radio": [10.0, 0.0, 20.0, 10.0]}, index=index
    )


def test_custom_scaler_pandas_output_keeps_names_and_index():
    df = _media_frame()
    scaler = CustomScaler(divide_operation=np.mean).set_output(transform="pandas")
    out = scaler.fit_transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["tv", "radio"]
    pd.testing.assert_index_equal(out.index, df.index)
    np.testing.assert_allclose(out.to_numpy(), df.to_numpy() / [3.0, 10.0])
    out2 = scaler.transform(df)
    pd.testing.assert_frame_equal(out, out2)


def test_custom_scaler_dataframe_default_output_is_ndarray():
    out = CustomScaler(divide_operation=np.mean).fit_transform(_media_frame())
    assert type(out) is np.ndarray


def test_custom_scaler_inverse_transform_dataframe_returns_dataframe():
    df = _media_frame()
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=0.15)
    scaled = scaler.set_output(transform="pandas").fit_transform(df)
    back = scaler.inverse_transform(scaled)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, df)


def test_custom_scaler_inverse_transform_series_returns_series():
    y = pd.Series([1.0, 2.0, 3.0], index=[5, 6, 7], name="sales")
    scaler = CustomScaler(divide_operation=np.mean).fit(y)
    back = scaler.inverse_transform(pd.Series([1.0, 0.5, 2.0], index=y.index))
    assert isinstance(back, pd.Series)
    pd.testing.assert_series_equal(
        back, pd.Series([2.0, 1.0, 4.0], index=y.index), check_names=False
    )
    assert isinstance(scaler.transform(y), np.ndarray)


def test_custom_scaler_feature_names():
    scaler = CustomScaler().fit(_media_frame())
    np.testing.assert_array_equal(scaler.feature_names_in_, ["tv", "radio"])
    np.testing.assert_array_equal(scaler.get_feature_names_out(), ["tv", "radio"])

    scaler.fit(_positive_data((4, 2, 3)))
    assert not hasattr(scaler, "feature_names_in_")
    assert scaler.n_features_in_ == 6
    np.testing.assert_array_equal(
        scaler.get_feature_names_out(), [f"x{i}" for i in range(6)]
    )


def test_custom_scaler_transform_rejects_renamed_columns():
    scaler = CustomScaler(divide_operation=np.mean).fit(_media_frame())
    renamed = _media_frame().rename(columns={"radio": "print"})
    with pytest.raises(ValueError, match="feature names should match"):
        scaler.transform(renamed)


def test_custom_scaler_pipeline_matches_manual_scaling():
    rng = np.random.default_rng(4)
    X = rng.uniform(1, 5, size=(40, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.5
    pipe = make_pipeline(CustomScaler(divide_operation=np.mean), LinearRegression())
    pipe.fit(X, y)
    manual = LinearRegression().fit(X / X.mean(axis=0), y)
    np.testing.assert_allclose(pipe.predict(X), manual.predict(X / X.mean(axis=0)))
    np.testing.assert_allclose(pipe.predict(X), y, rtol=1e-8)


# --- sklearn parameter rules -----------------------------------------------


def test_custom_scaler_init_stores_arguments_unchanged():
    divide_by = np.array([1.0, 2.0])
    scaler = CustomScaler(divide_by=divide_by, multiply_operation=jnp.mean)
    params = scaler.get_params()
    assert params["divide_by"] is divide_by
    assert params["multiply_operation"] is jnp.mean
    assert params["divide_operation"] is None
    assert params["multiply_by"] == 1.0


def test_custom_scaler_clone_and_set_params():
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=0.15)
    scaler.fit(_positive_data((5, 2)))
    cloned = clone(scaler)
    assert cloned.get_params() == scaler.get_params()
    assert not hasattr(cloned, "divide_by_")
    cloned.set_params(multiply_by=2.0)
    cloned.fit(_positive_data((5, 2)))
    np.testing.assert_array_equal(cloned.multiply_by_, [2.0, 2.0])
    assert scaler.multiply_by == 0.15


def test_custom_scaler_rejects_invalid_parameter_types():
    with pytest.raises(ValueError, match="divide_operation"):
        CustomScaler(divide_operation="mean").fit(_positive_data((3, 2)))


def test_custom_scaler_requires_value_or_operation():
    with pytest.raises(ValueError, match="pass divide_by=1"):
        CustomScaler(divide_by=None).fit(_positive_data((3, 2)))


def test_custom_scaler_transform_before_fit_raises():
    with pytest.raises(NotFittedError):
        CustomScaler().transform(_positive_data((3, 2)))
    with pytest.raises(NotFittedError):
        CustomScaler().inverse_transform(_positive_data((3, 2)))


# --- input validation ------------------------------------------------------


def test_custom_scaler_nan_error_names_column_and_row():
    df = _media_frame()
    df.iloc[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN in column 'radio' at row 2 \(index"):
        CustomScaler(divide_operation=np.mean).fit(df)


def test_custom_scaler_inf_error_names_column_and_row():
    X = _positive_data((4, 3))
    X[0, 1] = np.inf
    with pytest.raises(ValueError, match="infinity in column 1 at row 0"):
        CustomScaler().fit(X)


def test_custom_scaler_transform_rejects_nan_in_3d():
    scaler = CustomScaler(divide_operation=np.mean).fit(_positive_data((4, 2, 3)))
    X = _positive_data((4, 2, 3))
    X[3, 1, 2] = np.nan
    with pytest.raises(ValueError, match=r"column \(channel 1, geo 2\) at row 3"):
        scaler.transform(X)


def test_custom_scaler_zero_mean_column_error_names_column():
    df = _media_frame().assign(tv=0.0)
    with pytest.raises(ValueError, match="column 'tv' has a divisor of 0"):
        CustomScaler(divide_operation=np.mean).fit(df)


def test_custom_scaler_explicit_zero_divisor_rejected():
    with pytest.raises(ValueError, match="column 1 has a divisor of 0"):
        CustomScaler(divide_by=[1.0, 0.0]).fit(_positive_data((3, 2)))


def test_custom_scaler_zero_multiplier_rejected():
    with pytest.raises(ValueError, match="column 0 has a multiplier of 0"):
        CustomScaler(multiply_by=0).fit(_positive_data((3, 2)))


def test_custom_scaler_feature_count_mismatch_message():
    scaler = CustomScaler().fit(_positive_data((5, 3)))
    with pytest.raises(
        ValueError,
        match="X has 2 features, but CustomScaler is expecting 3 features as input.",
    ):
        scaler.transform(_positive_data((5, 2)))


def test_custom_scaler_trailing_shape_mismatch_rejected():
    scaler = CustomScaler().fit(_positive_data((5, 2, 3)))
    with pytest.raises(ValueError, match=r"fitted on data of shape \(n_samples, 2, 3"):
        scaler.transform(_positive_data((5, 3, 2)))
    with pytest.raises(ValueError, match="Reshape your data"):
        scaler.transform(_positive_data((5, 6)))


def test_custom_scaler_1d_fit_rejects_2d_transform():
    scaler = CustomScaler(divide_operation=np.mean).fit(_positive_data((5,)))
    with pytest.raises(ValueError, match="Reshape your data"):
        scaler.transform(_positive_data((5, 1)))


def test_custom_scaler_rejects_empty_and_4d_input():
    with pytest.raises(ValueError, match="0 sample"):
        CustomScaler().fit(np.empty((0, 2)))
    with pytest.raises(ValueError, match="0 feature"):
        CustomScaler().fit(np.empty((3, 0, 2)))
    with pytest.raises(ValueError, match="4 dimensions"):
        CustomScaler().fit(_positive_data((3, 2, 2, 2)))


def test_custom_scaler_divide_by_shape_must_broadcast():
    with pytest.raises(ValueError, match="does not broadcast"):
        CustomScaler(divide_by=[1.0, 2.0]).fit(_positive_data((4, 3)))


def test_custom_scaler_operation_must_reduce_columns():
    with pytest.raises(ValueError, match="reduce each column to one number"):
        CustomScaler(divide_operation=np.sort).fit(_positive_data((4, 3)))


# --- no side effects -------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_custom_scaler_does_not_mutate_numpy_input(shape):
    X = _positive_data(shape)
    X_copy = X.copy()
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=2.0)
    scaler.fit(X)
    scaler.transform(X)
    scaler.inverse_transform(X)
    np.testing.assert_array_equal(X, X_copy)


def test_custom_scaler_does_not_mutate_dataframe_or_divide_by():
    df = _media_frame()
    df_copy = df.copy()
    divide_by = np.array([2.0, 4.0])
    scaler = CustomScaler(divide_by=divide_by).set_output(transform="pandas")
    out = scaler.fit_transform(df)
    scaler.inverse_transform(out)
    pd.testing.assert_frame_equal(df, df_copy)
    np.testing.assert_array_equal(divide_by, [2.0, 4.0])
    assert scaler.divide_by_ is not divide_by


@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
        elements=st.floats(0.01, 1e6),
    ),
    multiply_by=st.floats(0.01, 100),
)
def test_custom_scaler_round_trip_property(X, multiply_by):
    scaler = CustomScaler(divide_operation=np.mean, multiply_by=multiply_by)
    np.testing.assert_allclose(
        scaler.inverse_transform(scaler.fit_transform(X)), X, rtol=1e-12
    )
