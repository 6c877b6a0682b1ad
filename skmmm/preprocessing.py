"""Explicit scaling of media, features and targets (LightweightMMM's CustomScaler).

The estimators in :mod:`skmmm` scale their inputs internally, so this module is
for users who want explicit control, or who port LightweightMMM code that
scales data by hand before fitting.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from typing import Any

import jax.numpy as jnp
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

__all__ = ["CustomScaler"]

# Reductions whose result along axis 0 equals applying them to every column.
# They are evaluated with NumPy in one vectorised call (and in the input's
# precision, float64 by default) instead of one call per column; the JAX ones
# map to their NumPy twins because JAX computes in float32 by default.
_VECTORISED_REDUCTIONS: tuple[tuple[Callable[..., Any], Callable[..., Any]], ...] = (
    (np.mean, np.mean),
    (np.median, np.median),
    (np.sum, np.sum),
    (np.min, np.min),
    (np.max, np.max),
    (np.std, np.std),
    (np.var, np.var),
    (jnp.mean, np.mean),
    (jnp.median, np.median),
    (jnp.sum, np.sum),
    (jnp.min, np.min),
    (jnp.max, np.max),
    (jnp.std, np.std),
    (jnp.var, np.var),
)

_MAX_NDIM = 3


class CustomScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale data by dividing and multiplying, column by column.

    A scikit-learn port of LightweightMMM's ``preprocessing.CustomScaler``:
    ``transform`` computes ``X / divide_by_ * multiply_by_`` and
    ``inverse_transform`` undoes it. Each factor is either given as a value or
    computed at fit time by an operation applied to every column (every slice
    along axis 0), e.g. ``divide_operation=np.mean`` scales each column by its
    mean, LightweightMMM's recommended scaling for media, extra features and
    the target.

    Works on 1-D arrays of shape ``(n_samples,)``, 2-D arrays of shape
    ``(n_samples, n_features)`` and 3-D arrays of shape
    ``(n_samples, n_channels, n_geos)`` (time, channel, geo), always along
    axis 0. Accepts NumPy arrays, JAX arrays and pandas DataFrames/Series.

    Parameters
    ----------
    divide_operation : callable or None, default=None
        Function reducing a 1-D column to a number, e.g. ``np.mean`` or
        ``jnp.mean``. When given, ``divide_by`` is ignored and the divisor of
        each column is ``divide_operation(column)`` on the data passed to
        ``fit`` (as ``jnp.apply_along_axis(divide_operation, 0, X)`` in
        LightweightMMM). The NumPy and JAX versions of ``mean``, ``median``,
        ``sum``, ``min``, ``max``, ``std`` and ``var`` are evaluated with NumPy
        in the input's precision.
    divide_by : float or array-like, default=1
        Divisor used when ``divide_operation`` is None: a number, or an array
        broadcasting against the trailing dimensions of ``X`` (for ``X`` of
        shape ``(n, c, g)``: a number, shape ``(g,)`` or ``(c, g)``).
    multiply_operation : callable or None, default=None
        As ``divide_operation``, for the multiplier. When given,
        ``multiply_by`` is ignored.
    multiply_by : float or array-like, default=1.0
        Multiplier used when ``multiply_operation`` is None, with the same
        broadcasting rules as ``divide_by``.

    Attributes
    ----------
    divide_by_ : ndarray of shape X.shape[1:]
        Divisor of every column: shape ``()`` for 1-D input,
        ``(n_features,)`` for 2-D input and ``(n_channels, n_geos)`` for 3-D
        input. float32 when fitted on float32 data, float64 otherwise.
    multiply_by_ : ndarray of shape X.shape[1:]
        Multiplier of every column, as ``divide_by_``.
    n_features_in_ : int
        Number of columns seen during fit: the product of the trailing
        dimensions of ``X`` (1 for 1-D input).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the columns seen during fit. Defined only when ``X`` was a
        DataFrame whose column names are all strings.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : Centre and scale to unit variance.
    sklearn.preprocessing.MaxAbsScaler : Scale each column by its maximum.

    Notes
    -----
    Unlike LightweightMMM, ``__init__`` only stores its arguments (so
    ``clone`` and grid searches work); fitted values live in the ``divide_by_``
    and ``multiply_by_`` attributes. Fitting fails with a ``ValueError`` when
    ``X`` holds NaN or infinite values, or when a column's divisor or
    multiplier is 0 or not finite (e.g. an all-zero column scaled by its
    mean), because such a scaling cannot be inverted.

    Examples
    --------
    >>> import numpy as np
    >>> from skmmm.preprocessing import CustomScaler
    >>> X = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> scaler = CustomScaler(divide_operation=np.mean, multiply_by=100).fit(X)
    >>> scaler.divide_by_
    array([ 2., 20.])
    >>> scaler.transform(X)
    array([[ 50.,  50.],
           [150., 150.]])
    >>> scaler.inverse_transform(scaler.transform(X))
    array([[ 1., 10.],
           [ 3., 30.]])

    DataFrames keep their column names and index with pandas output:

    >>> import pandas as pd
    >>> media = pd.DataFrame({"tv": [1.0, 3.0], "radio": [10.0, 30.0]})
    >>> scaler = CustomScaler(divide_operation=np.mean).set_output(transform="pandas")
    >>> scaler.fit_transform(media)
        tv  radio
    0  0.5    0.5
    1  1.5    1.5
    """

    _parameter_constraints: dict = {
        "divide_operation": [callable, None],
        "divide_by": [Real, "array-like", None],
        "multiply_operation": [callable, None],
        "multiply_by": [Real, "array-like", None],
    }

    def __init__(
        self,
        divide_operation: Callable[[np.ndarray], Any] | None = None,
        divide_by: float | ArrayLike | None = 1,
        multiply_operation: Callable[[np.ndarray], Any] | None = None,
        multiply_by: float | ArrayLike | None = 1.0,
    ) -> None:
        self.divide_operation = divide_operation
        self.divide_by = divide_by
        self.multiply_operation = multiply_operation
        self.multiply_by = multiply_by

    def fit(self, X: ArrayLike, y: Any = None) -> CustomScaler:
        """Compute the divisor and the multiplier of every column.

        Parameters
        ----------
        X : array-like of shape (n_samples,), (n_samples, n_features) or \
(n_samples, n_channels, n_geos)
            Data to learn the scaling factors from, rows along axis 0. Must be
            finite with at least one row.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : CustomScaler
            The fitted scaler.
        """
        self._validate_params()
        arr = self._validate_input(X, reset=True)
        labels = _column_labels(X)
        self.divide_by_ = self._resolve_factor(
            arr, self.divide_operation, self.divide_by, "divide"
        )
        self.multiply_by_ = self._resolve_factor(
            arr, self.multiply_operation, self.multiply_by, "multiply"
        )
        _check_factor(
            self.divide_by_,
            "divisor",
            "divide_by" if self.divide_operation is None else "divide_operation",
            labels,
        )
        _check_factor(
            self.multiply_by_,
            "multiplier",
            "multiply_by" if self.multiply_operation is None else "multiply_operation",
            labels,
        )
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Scale ``X``: ``X / divide_by_ * multiply_by_``.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit`` (any number of rows)
            Data to scale. Must be finite.

        Returns
        -------
        X_scaled : ndarray of the same shape as X
            Scaled data, float32 for float32 input and float64 otherwise. With
            ``set_output(transform="pandas")``, a DataFrame named by
            ``get_feature_names_out()`` (keeping the index of a DataFrame
            input); pandas output needs 1-D or 2-D input.
        """
        check_is_fitted(self)
        arr = self._validate_input(X, reset=False)
        divide_by = self.divide_by_.astype(arr.dtype, copy=False)
        multiply_by = self.multiply_by_.astype(arr.dtype, copy=False)
        return arr / divide_by * multiply_by

    def inverse_transform(self, X: ArrayLike) -> np.ndarray | pd.DataFrame:
        """Undo the scaling: ``X / multiply_by_ * divide_by_``.

        Parameters
        ----------
        X : array-like of the shape seen in ``fit`` (any number of rows)
            Scaled data. Must be finite.

        Returns
        -------
        X_original : ndarray, DataFrame or Series of the same shape as X
            Data in the original units: a DataFrame (Series) with the same
            columns and index when ``X`` is a DataFrame (Series), an ndarray
            otherwise.
        """
        check_is_fitted(self)
        arr = self._validate_input(X, reset=False, check_names=False)
        divide_by = self.divide_by_.astype(arr.dtype, copy=False)
        multiply_by = self.multiply_by_.astype(arr.dtype, copy=False)
        out = arr / multiply_by * divide_by
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=X.columns)
        if isinstance(X, pd.Series):
            return pd.Series(out, index=X.index, name=X.name)
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate_input(
        self, X: ArrayLike, *, reset: bool, check_names: bool = True
    ) -> np.ndarray:
        """Return X as a finite float ndarray, checking it against the fit."""
        if reset or check_names:
            # Sets (reset=True) or checks feature_names_in_ with sklearn's rules.
            validate_data(self, X, skip_check_array=True, ensure_2d=False, reset=reset)
        arr = check_array(
            X,
            dtype=(np.float64, np.float32),
            ensure_all_finite=False,
            ensure_2d=False,
            allow_nd=True,
            ensure_min_samples=1,
            input_name="X",
            estimator=self,
        )
        name = type(self).__name__
        if arr.ndim > _MAX_NDIM:
            raise ValueError(
                f"X has {arr.ndim} dimensions (shape {arr.shape}), but {name} "
                "accepts 1-D (n_samples,), 2-D (n_samples, n_features) or 3-D "
                "(n_samples, n_channels, n_geos) data."
            )
        trailing = arr.shape[1:]
        n_features = int(np.prod(trailing, dtype=np.int64))
        if n_features == 0:
            raise ValueError(
                f"Found array with 0 feature(s) (shape={arr.shape}) while a "
                f"minimum of 1 is required by {name}."
            )
        if reset:
            self.n_features_in_ = n_features
            self._fit_trailing_shape = trailing
        else:
            expected = self._fit_trailing_shape
            if n_features != self.n_features_in_:
                message = (
                    f"X has {n_features} features, but {name} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            elif trailing != expected:
                message = (
                    f"X has shape {arr.shape}, but {name} was fitted on data of "
                    f"shape {_shape_text(expected)}."
                )
            else:
                message = None
            if message is not None:
                if arr.ndim != len(expected) + 1:
                    message += (
                        f" Reshape your data to the {len(expected) + 1}-D shape "
                        f"seen in fit, {_shape_text(expected)}."
                    )
                raise ValueError(message)
        _check_all_finite(arr, X)
        return arr

    @staticmethod
    def _resolve_factor(
        arr: np.ndarray,
        operation: Callable[..., Any] | None,
        value: Any,
        kind: str,
    ) -> np.ndarray:
        """Compute one scaling factor per column, shape ``arr.shape[1:]``."""
        trailing = arr.shape[1:]
        if operation is not None:
            factor = _apply_along_rows(operation, arr)
            factor = np.asarray(factor, dtype=arr.dtype)
            if factor.shape != trailing:
                raise ValueError(
                    f"{kind}_operation must reduce each column to one number, but "
                    f"applied along axis 0 of X with shape {arr.shape} it returned "
                    f"shape {factor.shape} instead of {trailing}."
                )
            return factor
        if value is None:
            raise ValueError(
                f"Either {kind}_operation or {kind}_by must be given; to skip "
                f"this step pass {kind}_by=1."
            )
        try:
            factor = np.asarray(value, dtype=arr.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{kind}_by must be a number or an array of numbers, got {value!r}."
            ) from exc
        try:
            return np.broadcast_to(factor, trailing).copy()
        except ValueError:
            raise ValueError(
                f"{kind}_by has shape {factor.shape}, which does not broadcast "
                f"to the shape of one row of X, {trailing} (X has shape "
                f"{arr.shape}); pass a number or an array of shape {trailing}."
            ) from None


def _apply_along_rows(operation: Callable[..., Any], arr: np.ndarray) -> np.ndarray:
    """Apply ``operation`` to every 1-D slice of ``arr`` along axis 0."""
    for known, numpy_twin in _VECTORISED_REDUCTIONS:
        if operation is known:
            return numpy_twin(arr, axis=0)
    return np.apply_along_axis(operation, 0, arr)


def _shape_text(trailing: tuple[int, ...]) -> str:
    """``(n_samples, 3, 2)``-style description of a fitted input shape."""
    return "(" + ", ".join(["n_samples", *map(str, trailing)]) + ")"


def _column_labels(X: Any) -> pd.Index | None:
    """Column labels of a DataFrame, None for other inputs."""
    return X.columns if isinstance(X, pd.DataFrame) else None


def _describe_column(position: tuple[int, ...], labels: pd.Index | None) -> str:
    """Human-readable name of the column at ``position`` (indices after axis 0)."""
    if not position:
        return "the only column"
    if len(position) == 1:
        j = position[0]
        if labels is not None:
            return f"column {labels[j]!r}"
        return f"column {j}"
    if len(position) == 2:
        return f"column (channel {position[0]}, geo {position[1]})"
    return f"column {position}"


def _check_all_finite(arr: np.ndarray, X: Any) -> None:
    """Raise a ValueError naming the first non-finite entry of ``arr``."""
    finite = np.isfinite(arr)
    if finite.all():
        return
    first = tuple(int(i) for i in np.argwhere(~finite)[0])
    row, position = first[0], first[1:]
    what = "NaN" if np.isnan(arr[first]) else "infinity"
    where = f"row {row}"
    if isinstance(X, (pd.DataFrame, pd.Series)) and not isinstance(
        X.index, pd.RangeIndex
    ):
        where += f" (index {X.index[row]})"
    n_bad = int(arr.size - np.count_nonzero(finite))
    raise ValueError(
        f"Input X contains {what} in {_describe_column(position, _column_labels(X))}"
        f" at {where} ({n_bad} non-finite value(s) in total). CustomScaler needs "
        "finite values: impute or drop them first."
    )


def _check_factor(
    factor: np.ndarray, noun: str, source: str, labels: pd.Index | None
) -> None:
    """Reject divisors/multipliers that are 0 or not finite (not invertible)."""
    bad = (factor == 0) | ~np.isfinite(factor)
    if not bad.any():
        return
    position = tuple(int(i) for i in np.argwhere(bad)[0])
    param = source.split("_")[0] + "_by"
    raise ValueError(
        f"{_describe_column(position, labels)} has a {noun} of "
        f"{float(factor[position]):g} (from {source}), so the scaling cannot be "
        "applied and inverted. Drop or fix that column (e.g. an all-zero column "
        f"scaled by its mean), or pass an explicit finite, non-zero {param}."
    )
