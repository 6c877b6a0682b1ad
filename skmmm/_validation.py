"""Input checks shared by every entry point of skmmm.

Every estimator, the budget optimiser and the command line pass user data
through this module before anything else touches it, so that every bad input
fails early with a ``ValueError`` that names the column and the row at fault,
says what is wrong, and says how to fix it.

The rules are strict on purpose: nothing is silently coerced (strings are
never parsed as numbers, a column-vector ``y`` is the only reshaping and it
warns), and the caller's data is never modified (every returned array is a
fresh ``float64`` copy).

scikit-learn does the structural checks it has (``validate_data`` for
feature names and counts, ``check_array``, ``column_or_1d``,
``check_consistent_length``); the checks here name the column, the row and
the fix where scikit-learn's message would not. The module knows nothing of
JAX, NumPyro or the estimators that call it.
"""

from __future__ import annotations

import decimal
import difflib
import numbers
import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from pandas.api import types as pdt
from pandas.tseries.frequencies import to_offset
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    column_or_1d,
    validate_data,
)

__all__ = [
    "GeoPredictionData",
    "GeoTrainingData",
    "PredictionData",
    "TableOptions",
    "TrainingData",
    "check_target_scale",
    "parse_date",
    "parse_date_column",
    "place_on_calendar",
    "validate_geo_media_gap",
    "validate_geo_prediction_data",
    "validate_geo_training_data",
    "validate_media_prior",
    "validate_prediction_data",
    "validate_training_data",
]

_DEFAULT_ESTIMATOR = "BayesianMMMRegressor"
_MAX_LISTED = 10  # how many names/rows a message lists before "..."


# --- results ---------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """Validated training data, ready for scaling and the model.

    Attributes
    ----------
    media : ndarray of shape (n_times, n_channels), dtype float64
        Media columns, in the order of ``media_names``; finite and ``>= 0``.
    extra_features : ndarray of shape (n_times, n_extra), dtype float64
        Control columns (``n_extra`` may be 0), finite.
    target : ndarray of shape (n_times,), dtype float64
        The KPI, finite.
    index : pandas.Index
        A ``DatetimeIndex`` when X carries dates (a ``date_column`` or a
        ``DatetimeIndex``), else ``RangeIndex(n_times)``.
    media_names : list of str
        Channel names: the DataFrame's column names, or ``"media_0"``, ...
        for arrays.
    extra_names : list of str
        Control names: the DataFrame's column names, or ``"extra_0"``, ...
        for arrays.
    media_positions : list of int
        Positions of the media columns in X after removing the date column.
    extra_positions : list of int
        Positions of the control columns in X after removing the date column.
    feature_names_in : ndarray of str objects or None
        X's column names (including the date column) when X is a DataFrame
        whose column names are all strings, else None.
    n_features_in : int
        Number of columns of X as passed (including the date column).
    frequency : pandas.DateOffset or None
        Regular frequency of the dates inferred by :func:`pandas.infer_freq`,
        None without dates, with fewer than 3 dates or with irregular dates.
    present : ndarray of shape (n_times,), dtype bool, or None
        Which periods X has, when ``fill_missing`` inserted the others (with
        the fill values as media and controls and a zero KPI, which the fit
        leaves out); None when X has every period.
    """

    media: np.ndarray
    extra_features: np.ndarray
    target: np.ndarray
    index: pd.Index
    media_names: list[str]
    extra_names: list[str]
    media_positions: list[int]
    extra_positions: list[int]
    feature_names_in: np.ndarray | None
    n_features_in: int
    frequency: pd.DateOffset | None
    present: np.ndarray | None = None


@dataclass(frozen=True)
class PredictionData:
    """Validated new rows for prediction.

    Attributes
    ----------
    media : ndarray of shape (n_rows, n_channels), dtype float64
        Media columns in the channel order of the fit; finite and ``>= 0``.
    extra_features : ndarray of shape (n_rows, n_extra), dtype float64
        Control columns in the order of the fit, finite.
    index : pandas.Index
        A ``DatetimeIndex`` when X carries dates, else ``RangeIndex(n_rows)``.
    """

    media: np.ndarray
    extra_features: np.ndarray
    index: pd.Index


class _FittedColumns(Protocol):
    """What :func:`validate_prediction_data` reads from the fit."""

    media_positions: Sequence[int]
    extra_positions: Sequence[int]
    feature_names_in: np.ndarray | None
    n_features_in: int
    media_names: Sequence[str]
    extra_names: Sequence[str]


# --- formatting helpers ----------------------------------------------------


def _plural(count: int, word: str) -> str:
    """``'1 period'``, ``'3 periods'``."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _format_date(value: Any) -> str:
    """A date as ``2021-02-01``, with the time only when it is not midnight."""
    stamp = pd.Timestamp(value)
    if stamp is pd.NaT:
        return "NaT"
    if stamp == stamp.normalize():
        return stamp.strftime("%Y-%m-%d")
    return str(stamp)


def _format_label(label: Any) -> str:
    """A column or index label as a user would type it."""
    if isinstance(label, str):
        return repr(str(label))
    if isinstance(label, (pd.Timestamp, np.datetime64)):
        return _format_date(label)
    if isinstance(label, numbers.Integral) and not isinstance(label, bool):
        return str(int(label))
    if isinstance(label, numbers.Real) and not isinstance(label, bool):
        return f"{float(label):g}"
    return repr(label)


def _format_value(value: Any) -> str:
    """A cell value for a message."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):g}"
    if isinstance(value, str):
        return repr(str(value))
    return repr(value)


def _format_names(names: Sequence[Any]) -> str:
    """``'tv', 'search', ...`` (at most ``_MAX_LISTED`` names)."""
    shown = ", ".join(_format_label(name) for name in list(names)[:_MAX_LISTED])
    return shown + (", ..." if len(names) > _MAX_LISTED else "")


def _is_default_range(index: pd.Index) -> bool:
    """True for ``RangeIndex(n)``: row labels that equal row positions."""
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _describe_row(position: int, labels: pd.Index | None) -> str:
    """``'row 4'``, ``'row 4 (2021-02-01)'`` or ``"row 4 (index label 'a')"``."""
    if labels is None or _is_default_range(labels):
        return f"row {position}"
    label = labels[position]
    if isinstance(labels, pd.DatetimeIndex):
        return f"row {position} ({_format_date(label)})"
    return f"row {position} (index label {_format_label(label)})"


def _close_matches(name: Any, candidates: Sequence[Any]) -> str:
    """``"; did you mean 'tv'?"`` when a close string match exists."""
    if not isinstance(name, str):
        return ""
    strings = [c for c in candidates if isinstance(c, str)]
    matches = difflib.get_close_matches(name, strings, n=1)
    return f"; did you mean {_format_label(matches[0])}?" if matches else ""


def _check_is_column(
    name: Any, columns: Sequence[Any], argument: str, what: str
) -> None:
    """``argument=name`` must be one of ``what``'s columns."""
    if name not in columns:
        raise ValueError(
            f"{argument}={_format_label(name)} is not a column of {what}"
            f"{_close_matches(name, columns)} {what} has columns "
            f"{_format_names(columns)}."
        )


def _check_none_missing(
    missing: np.ndarray, what: str, noun: str, fix: str, marker: str = ""
) -> None:
    """Refuse missing values, naming how many and the first row."""
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"{what} has {_plural(int(missing.sum()), noun)}{marker}, first at "
            f"row {row}. {fix}"
        )


# --- X as a table of columns -----------------------------------------------


@dataclass(frozen=True)
class _Table:
    """X as columns to pick from: a DataFrame or a 2-D ndarray, untouched."""

    frame: pd.DataFrame | None
    array: np.ndarray | None
    n_rows: int
    n_cols: int

    @property
    def data(self) -> pd.DataFrame | np.ndarray:
        """X itself: the DataFrame or the array."""
        return self.array if self.frame is None else self.frame

    @property
    def labels(self) -> list[Any] | None:
        """Column labels of a DataFrame, None for arrays."""
        return None if self.frame is None else list(self.frame.columns)

    def describe_column(self, position: int) -> str:
        """``"column 'tv'"`` for a DataFrame, ``'column 2'`` for an array."""
        if self.frame is None:
            return f"column {position}"
        return f"column {_format_label(self.frame.columns[position])}"

    def column(self, position: int) -> pd.Series | np.ndarray:
        """One column, as stored (no conversion)."""
        if self.frame is None:
            return self.array[:, position]
        return self.frame.iloc[:, position]


def _reject_sparse(data: Any, what: str) -> None:
    """Sparse input would be densified silently; refuse it."""
    is_pandas_sparse = isinstance(data, pd.DataFrame) and any(
        isinstance(dtype, pd.SparseDtype) for dtype in data.dtypes
    )
    is_pandas_sparse = is_pandas_sparse or (
        isinstance(data, pd.Series) and isinstance(data.dtype, pd.SparseDtype)
    )
    if sparse.issparse(data) or is_pandas_sparse:
        raise ValueError(
            f"Sparse data was passed for {what}, but dense data is required: "
            f"sparse input is not supported. Convert it with {what}.toarray() "
            "(scipy) or .sparse.to_dense() (pandas)."
        )


def _check_column_names(frame: pd.DataFrame, what: str) -> None:
    """Unique column names, all strings or none (scikit-learn's feature names).

    scikit-learn raises a TypeError for names mixing strings and other
    types; skmmm refuses them with a ValueError that says how to fix them,
    before its own lookups could read an integer name as a position.
    """
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        name = duplicated[0]
        positions = [i for i, c in enumerate(frame.columns) if c == name]
        raise ValueError(
            f"{what} has duplicate column names: {_format_label(name)} appears "
            f"at positions {positions}. Give every column a unique name."
        )
    is_string = [isinstance(label, str) for label in frame.columns]
    if any(is_string) and not all(is_string):
        position = is_string.index(False)
        label = frame.columns[position]
        raise ValueError(
            f"{what}'s column names mix strings and other types: column "
            f"{position} is named {label!r} ({type(label).__name__}). Column "
            "names are feature names only when all are strings, and an "
            "integer name could be read as a position: convert them with "
            f"{what}.columns = {what}.columns.astype(str), and name the media, "
            "date and geo columns by those strings."
        )


def _read_array(value: Any, what: str, ndim: int, remedy: str) -> np.ndarray:
    """``value`` as a NumPy array, or a ValueError that says how to pass it."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{what} could not be read as a {ndim}-D array ({exc}). {remedy}"
        ) from exc


def _as_table(X: Any) -> _Table:
    """Check that X is 2-D and wrap it, without converting its values."""
    if X is None:
        raise ValueError(
            "X is None. Pass a 2-D array or DataFrame with one row per time "
            "period and one column per media channel or control."
        )
    _reject_sparse(X, "X")
    if isinstance(X, pd.DataFrame):
        _check_column_names(X, "X")
        return _Table(frame=X, array=None, n_rows=X.shape[0], n_cols=X.shape[1])
    array = _read_array(
        X,
        "X",
        2,
        "Pass a rectangular array or a DataFrame: every row must have the same "
        "number of columns.",
    )
    if array.ndim > 2:
        raise ValueError(
            f"Found array with dim {array.ndim} (shape {array.shape}); X must "
            "be 2-D with rows = time periods and columns = media and control "
            "features. For data with several geos pass a long-format DataFrame "
            "with a geo column."
        )
    if array.dtype.kind == "c":
        raise _complex_error("X")
    # A scalar or a 1-D X (a Series too): scikit-learn's message.
    check_array(
        array,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    return _Table(frame=None, array=array, n_rows=array.shape[0], n_cols=array.shape[1])


class _ColumnRecord(BaseEstimator):
    """What scikit-learn's ``validate_data`` records of X on an estimator.

    ``n_features_in_`` and, when X's column names are all strings,
    ``feature_names_in_``: at fit from X (``reset=True``), at prediction
    from the fit (:func:`_fit_columns`).
    """


def _fit_columns(fitted: _FittedColumns, estimator_name: str) -> _ColumnRecord:
    """The columns seen at fit, on a record named as scikit-learn's messages say."""
    record = type(estimator_name, (_ColumnRecord,), {})()
    record.n_features_in_ = int(fitted.n_features_in)
    if fitted.feature_names_in is not None:
        record.feature_names_in_ = np.asarray(fitted.feature_names_in, dtype=object)
    return record


# --- numeric columns -------------------------------------------------------


class NonNumericDataError(ValueError, TypeError):
    """Data that should be numbers holds something else.

    A ValueError like every other bad input, and also a TypeError, which is
    what scikit-learn (and NumPy's ``float()``) raise for non-numeric data.
    """


def _not_numeric_error(
    what: str, values: Sequence[Any], mask: np.ndarray, labels: pd.Index | None
) -> ValueError:
    """The error for a column holding something other than numbers."""
    position = int(np.flatnonzero(mask)[0]) if mask.any() else 0
    detail = (
        f": {_describe_row(position, labels)} holds {_format_value(values[position])}"
        if len(values)
        else ""
    )
    advice = (
        "Pass the KPI as numbers."
        if what.startswith("y")
        else "Every media and control column must hold numbers; encode "
        "categories as numbers (e.g. pd.get_dummies) or drop the column."
    )
    return NonNumericDataError(
        f"{what} is not numeric{detail}: the argument must be a string or a real "
        f"number. {advice}"
    )


def _complex_error(what: str) -> ValueError:
    return ValueError(
        f"{what} holds complex numbers. Complex data not supported; pass real "
        "numbers (e.g. the real part, or the absolute value)."
    )


def _dates_in_features_error(what: str, date_hint: str) -> ValueError:
    return ValueError(f"{what} holds dates or times, not numbers. {date_hint}")


def _object_to_float(
    values: np.ndarray, what: str, labels: pd.Index | None
) -> np.ndarray:
    """Numbers of an object column as float64; None/pd.NA become NaN.

    Strings are never parsed: ``"1.5"`` is not a number here.
    """
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        if value is None or value is pd.NA:
            out[i] = np.nan
        elif isinstance(value, (bool, np.bool_, numbers.Real, decimal.Decimal)):
            out[i] = float(value)
        elif isinstance(value, numbers.Complex):
            raise _complex_error(what)
        else:
            mask = np.zeros(len(values), dtype=bool)
            mask[i] = True
            raise _not_numeric_error(what, values, mask, labels)
    return out


def _to_float(
    values: pd.Series | np.ndarray,
    what: str,
    labels: pd.Index | None,
    date_hint: str = "Convert it to numbers or drop it.",
) -> np.ndarray:
    """One column as a fresh float64 array; NaN marks missing values.

    Numbers and booleans are accepted; strings, categories, dates and complex
    numbers raise a ``ValueError`` naming ``what`` and the first bad row.
    """
    if isinstance(values, pd.Series):
        dtype = values.dtype
        if isinstance(dtype, pd.SparseDtype):
            raise ValueError(f"{what} is sparse; sparse input is not supported.")
        if isinstance(dtype, pd.CategoricalDtype):
            raise ValueError(
                f"{what} is categorical, not numeric. Encode it as numbers "
                "(e.g. pd.get_dummies) or drop the column."
            )
        if pdt.is_bool_dtype(dtype):
            return np.array(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if pdt.is_complex_dtype(dtype):
            raise _complex_error(what)
        if pdt.is_numeric_dtype(dtype):
            return np.array(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if (
            pdt.is_datetime64_any_dtype(dtype)
            or pdt.is_timedelta64_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype)
        ):
            raise _dates_in_features_error(what, date_hint)
        raw = values.to_numpy(dtype=object)
        if pdt.is_object_dtype(dtype):
            return _object_to_float(raw, what, labels)
        raise _not_numeric_error(what, raw, ~pd.isna(raw), labels)
    kind = values.dtype.kind
    if kind in "biuf":
        return values.astype(np.float64)  # astype copies
    if kind == "c":
        raise _complex_error(what)
    if kind == "O":
        return _object_to_float(values, what, labels)
    if kind in "Mm":
        raise _dates_in_features_error(what, date_hint)
    raise _not_numeric_error(what, values, np.ones(len(values), dtype=bool), labels)


def _check_finite(
    matrix: np.ndarray, names: Sequence[str], labels: pd.Index | None
) -> None:
    """Raise on the first column (in order) with NaN or infinite values.

    ``names`` describes the columns of ``matrix`` (``"column 'tv'"``, ``"y"``).
    """
    bad = ~np.isfinite(matrix)
    bad_columns = np.flatnonzero(bad.any(axis=0))
    if not len(bad_columns):
        _check_float32_range(matrix, names, labels)
        return
    first = int(bad_columns[0])
    column = matrix[:, first]
    n_nan = int(np.isnan(column).sum())
    n_inf = int(np.isinf(column).sum())
    row = int(np.flatnonzero(bad[:, first])[0])
    counts = []
    if n_nan:
        counts.append(f"{n_nan} NaN/missing")
    if n_inf:
        counts.append(f"{n_inf} infinite (inf)")
    message = (
        f"{names[first]} has {' and '.join(counts)} value(s) out of "
        f"{len(column)}, first at {_describe_row(row, labels)}: "
        f"{_format_value(column[row])}."
    )
    others = [
        f"{names[i]} ({int(bad[:, i].sum())})" for i in bad_columns[1:_MAX_LISTED]
    ]
    if others:
        more = ", ..." if len(bad_columns) > _MAX_LISTED else ""
        message += f" Also with NaN or inf: {', '.join(others)}{more}."
    raise ValueError(
        message + " NaN and inf are not allowed: fill or drop those rows first."
    )


# skmmm computes in 32-bit floats (JAX's default); larger values cannot be
# represented there.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _check_float32_range(
    matrix: np.ndarray, names: Sequence[str], labels: pd.Index | None
) -> None:
    """Raise on the first column with a value beyond float32's range."""
    too_large = np.abs(matrix) > FLOAT32_MAX
    columns = np.flatnonzero(too_large.any(axis=0))
    if not len(columns):
        return
    first = int(columns[0])
    row = int(np.flatnonzero(too_large[:, first])[0])
    raise ValueError(
        f"{names[first]} holds {_format_value(matrix[row, first])} at "
        f"{_describe_row(row, labels)}, beyond the largest number skmmm can "
        f"compute with ({FLOAT32_MAX:.3g}, 32-bit floats). Express the column "
        "in larger units (e.g. divide it by 1e6)."
    )


def _check_non_negative(
    media: np.ndarray, names: Sequence[str], labels: pd.Index | None
) -> None:
    """Raise on the first media column (in order) with a negative value."""
    negative = media < 0
    bad_columns = np.flatnonzero(negative.any(axis=0))
    if not len(bad_columns):
        return
    first = int(bad_columns[0])
    row = int(np.flatnonzero(negative[:, first])[0])
    count = int(negative[:, first].sum())
    raise ValueError(
        f"Negative values in data: media {names[first]} has "
        f"{_plural(count, 'negative value')}, first at "
        f"{_describe_row(row, labels)}: {_format_value(media[row, first])}. "
        "Media (spend, impressions, clicks, ...) must be >= 0: fix the data, "
        "or treat the column as a control by leaving it out of media_columns."
    )


def _matrix(
    table: _Table, positions: Sequence[int], labels: pd.Index | None
) -> tuple[np.ndarray, list[str]]:
    """Columns at ``positions`` (in X) as a fresh float64 matrix + descriptions."""
    descriptions = [table.describe_column(p) for p in positions]
    columns = [
        _to_float(table.column(p), what, labels, _date_hint(table, p))
        for p, what in zip(positions, descriptions, strict=True)
    ]
    if not columns:
        return np.empty((table.n_rows, 0), dtype=np.float64), descriptions
    return np.column_stack(columns).astype(np.float64, copy=False), descriptions


# --- dates -----------------------------------------------------------------


def _date_hint(table: _Table, position: int) -> str:
    """How to use a date-typed column found among the features."""
    if table.frame is None:
        return "Convert it to numbers or drop it."
    label = _format_label(table.frame.columns[position])
    return f"Pass date_column={label} to use it as the time index, or drop it."


_NUMERIC_DATE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{2}|\d{4})(?:\s|$|T)")


def _day_first(raw: np.ndarray, what: str) -> bool | None:
    """Whether numeric dates such as ``01/02/2010`` put the day first.

    Any first field above 12 means day first, any second field above 12
    month first; None for other formats (ISO dates, month names). When no
    field decides, the order is a guess skmmm does not make: a ValueError
    asks for ``date_format``.
    """
    fields = []
    for value in raw:
        if pd.isna(value):
            continue
        match = _NUMERIC_DATE.match(str(value))
        if match is None:
            return None
        fields.append((int(match.group(1)), int(match.group(3))))
    if not fields:
        return None
    first = max(a for a, _ in fields)
    second = max(b for _, b in fields)
    if first > 12 and second > 12:
        raise ValueError(
            f"{what} mixes day-first and month-first dates (a first field "
            f"reaches {first}, a second {second}). Make them consistent, or "
            "pass date_format= (e.g. '%d/%m/%Y')."
        )
    if first > 12:
        return True
    if second > 12:
        return False
    if all(a == b for a, b in fields):
        return False  # the same either way
    example = next(str(v) for v in raw if not pd.isna(v))
    raise ValueError(
        f"{what} holds dates such as {example!r} whose day and month cannot "
        "be told apart (no field is above 12), so skmmm will not guess. Pass "
        "date_format='%d/%m/%Y' (day first) or date_format='%m/%d/%Y' (month "
        "first), or --date-format on the command line."
    )


def _parse_date_column(
    series: pd.Series, what: str, labels: pd.Index, date_format: str | None = None
) -> pd.DatetimeIndex:
    """A date column as a DatetimeIndex; strings are parsed, numbers refused.

    With ``date_format`` (a :func:`time.strftime` format) strings are read in
    it; without, numeric day/month orders are decided by :func:`_day_first`.
    """
    dtype = series.dtype
    if pdt.is_datetime64_any_dtype(dtype):
        return pd.DatetimeIndex(series)
    if isinstance(dtype, pd.PeriodDtype):
        return pd.DatetimeIndex(series.dt.to_timestamp())
    if pdt.is_numeric_dtype(dtype) or pdt.is_bool_dtype(dtype):
        raise ValueError(
            f"{what} holds numbers ({dtype}), not dates. Convert it first, "
            "e.g. X[col] = pd.to_datetime(X[col], format='%Y%m%d') or with "
            "the right unit=."
        )
    raw = series.to_numpy(dtype=object)
    options = (
        {"format": date_format}
        if date_format is not None
        else {"dayfirst": bool(_day_first(raw, what))}
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.to_datetime(
                pd.Series(raw, dtype=object), errors="coerce", **options
            )
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{what} could not be read as dates ({exc}). Convert it with "
            "pd.to_datetime(..., format=...) first."
        ) from exc
    unreadable = parsed.isna().to_numpy() & ~pd.isna(raw)
    if unreadable.any():
        how = (
            f"in {date_format!r}" if date_format else "in the format of the first date"
        )
        row = int(np.flatnonzero(unreadable)[0])
        raise ValueError(
            f"{what} has {_plural(int(unreadable.sum()), 'value')} that cannot "
            f"be read as a date ({how}), first at "
            f"{_describe_row(row, labels)}: {_format_value(raw[row])}. Fix it, "
            "or convert the column with pd.to_datetime(..., format=...) first."
        )
    return pd.DatetimeIndex(parsed)


def parse_date_column(
    series: pd.Series, what: str, date_format: str | None = None
) -> pd.DatetimeIndex:
    """Read a column of dates as skmmm's estimators do.

    Parameters
    ----------
    series : Series
        Dates, or strings of dates.
    what : str
        The column as messages name it, e.g. ``"date column 'week'"``.
    date_format : str, default=None
        As in :func:`validate_training_data`.

    Returns
    -------
    DatetimeIndex

    Raises
    ------
    ValueError
        For numbers, unreadable strings (naming the first), mixed or
        ambiguous day/month orders.
    """
    return _parse_date_column(series, what, series.index, date_format)


def parse_date(value: Any, *, not_a_date: str, missing: str) -> pd.Timestamp:
    """One date, read by :class:`pandas.Timestamp`.

    Parameters
    ----------
    value : str, datetime-like or None
        The date.
    not_a_date : str
        The message when ``value`` cannot be read as a date.
    missing : str
        The message when ``value`` is missing (None, NaN, NaT).

    Returns
    -------
    Timestamp

    Raises
    ------
    ValueError
        With ``not_a_date`` or ``missing``.
    """
    try:
        date = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(not_a_date) from None
    if pd.isna(date):
        raise ValueError(missing)
    return date


def split_unknown(names: Any, known: Sequence) -> tuple[list, list]:
    """One name or several, as a list, and those of them not in ``known``.

    Parameters
    ----------
    names : str or iterable
        A name (a string) or names (a list, or a dict's keys).
    known : sequence
        The names allowed.

    Returns
    -------
    (list, list)
        ``names`` as a list, and the unknown ones in their order.
    """
    listed = [names] if isinstance(names, str) else list(names)
    return listed, [name for name in listed if name not in known]


def _check_dates(dates: pd.DatetimeIndex, what: str, date_column: Any = None) -> None:
    """Dates must be present, unique and strictly increasing."""
    _check_none_missing(
        np.asarray(dates.isna()),
        what,
        "missing date",
        "Every row of X needs a date: fill or drop those rows.",
        marker=" (NaT)",
    )
    duplicated = np.asarray(dates.duplicated(keep=False))
    if duplicated.any():
        date = dates[int(np.flatnonzero(duplicated)[0])]
        rows = np.flatnonzero(np.asarray(dates == date)).tolist()
        raise ValueError(
            f"{what} has duplicate dates: {_format_date(date)} appears in rows "
            f"{rows}. X needs exactly one row per time period: aggregate the "
            "rows of each date (e.g. with groupby(...).sum()), or use a geo "
            "model (geo_column=) for data with one row per date and geo."
        )
    if len(dates) > 1:
        backwards = np.asarray(dates[1:] < dates[:-1])
        if backwards.any():
            row = int(np.flatnonzero(backwards)[0]) + 1
            how = (
                "X.sort_index()"
                if date_column is None
                else f"X.sort_values({_format_label(date_column)})"
            )
            raise ValueError(
                f"{what} is not in time order; dates are not sorted: row {row} "
                f"({_format_date(dates[row])}) comes before row {row - 1} "
                f"({_format_date(dates[row - 1])}); sort X by date ({how}, and "
                "y in the same order)."
            )


def _resolve_dates(
    table: _Table, date_column: Hashable | None, date_format: str | None = None
) -> tuple[pd.DatetimeIndex | None, int | None]:
    """The dates of X (checked) and the position of its date column, if any."""
    if date_column is not None:
        if table.frame is None:
            raise ValueError(
                f"date_column={_format_label(date_column)} needs X to be a "
                "DataFrame with that column, but X is an array. Pass a "
                "DataFrame, or leave date_column=None."
            )
        columns = list(table.frame.columns)
        _check_is_column(date_column, columns, "date_column", "X")
        position = columns.index(date_column)
        what = f"date column {_format_label(date_column)}"
        dates = _parse_date_column(
            table.frame.iloc[:, position], what, table.frame.index, date_format
        )
        dates = dates.rename(date_column)
        _check_dates(dates, what, date_column)
        return dates, position
    if table.frame is not None:
        index = table.frame.index
        if isinstance(index, pd.PeriodIndex):
            index = index.to_timestamp()
        if isinstance(index, pd.DatetimeIndex):
            _check_dates(index, "the DatetimeIndex of X")
            return index, None
    return None, None


def _infer_frequency(dates: pd.DatetimeIndex | None) -> pd.DateOffset | None:
    """The regular frequency of ``dates`` (pd.infer_freq), or None."""
    if dates is None or len(dates) < 3:
        return None
    try:
        with warnings.catch_warnings():
            # pandas 3 announces that infer_freq will return an offset;
            # to_offset below accepts both.
            warnings.filterwarnings("ignore", message=".*infer_freq.*")
            freq = pd.infer_freq(dates)
    except (TypeError, ValueError):
        return None
    return None if freq is None else to_offset(freq)


def _likely_frequency(dates: pd.DatetimeIndex) -> pd.DateOffset | None:
    """The frequency of the longest regular run at the start of ``dates``."""
    best = None
    for end in range(3, min(len(dates), 60) + 1):
        frequency = _infer_frequency(dates[:end])
        if frequency is None:
            break
        best = frequency
    if best is not None:
        return best
    steps = pd.Series(np.diff(dates.asi8))
    step = pd.Timedelta(int(steps.mode().iloc[0]), unit="ns") if len(steps) else None
    return None if step is None or step <= pd.Timedelta(0) else to_offset(step)


def _calendar_gaps(
    dates: pd.DatetimeIndex | None, frequency: pd.DateOffset | None
) -> tuple[pd.DateOffset, pd.DatetimeIndex, pd.DatetimeIndex] | None:
    """The likely frequency, missing periods and off-calendar dates; None if regular.

    ``frequency`` is :func:`_infer_frequency` of ``dates``: regular dates
    have one.
    """
    if dates is None or len(dates) < 3 or frequency is not None:
        return None
    frequency = _likely_frequency(dates)
    if frequency is None:
        return None
    expected = pd.date_range(dates[0], dates[-1], freq=frequency)
    missing = expected.difference(dates)
    off_calendar = dates.difference(expected)
    if not len(missing) and not len(off_calendar):
        return None
    return frequency, missing, off_calendar


def _listed(dates: pd.DatetimeIndex) -> str:
    shown = ", ".join(_format_date(d) for d in dates[:_MAX_LISTED])
    return shown + (", ..." if len(dates) > _MAX_LISTED else "")


def _check_regular_calendar(
    dates: pd.DatetimeIndex | None,
    frequency: pd.DateOffset | None,
    what: str,
    fill_missing: Any = None,
) -> pd.DatetimeIndex | None:
    """Every period between the first and the last date, and none between.

    Adstock and carryover run from one row to the next, so a missing week
    would silently join the weeks on either side of it. With
    ``fill_missing``, missing periods are allowed: returns the whole
    calendar (None when nothing is missing); dates off the calendar stay an
    error.
    """
    gaps = _calendar_gaps(dates, frequency)
    if gaps is None:
        return None
    frequency, missing, off_calendar = gaps
    if fill_missing is not None and not len(off_calendar):
        return pd.date_range(dates[0], dates[-1], freq=frequency, name=dates.name)
    parts = []
    if len(missing):
        parts.append(f"{_plural(len(missing), 'period')} missing ({_listed(missing)})")
    if len(off_calendar):
        parts.append(f"dates off that calendar ({_listed(off_calendar)})")
    fix = (
        "Add the missing periods (with zero media if nothing was spent, and "
        "the KPI measured then), pass fill_missing='zero' to insert them with "
        "zero media and controls and leave their KPI out of the fit (or "
        "fill_missing={column: value} for other values), or fit on the "
        "regular stretch of the data."
        if not len(off_calendar)
        else "Move each date onto the calendar (e.g. the week's Monday), or "
        "fit on the regular stretch of the data."
    )
    raise ValueError(
        f"{what} are not a regular calendar of {frequency.freqstr} periods: "
        + "; ".join(parts)
        + ". Adstock runs from one row to the next, so every period from the "
        "first date to the last needs a row. " + fix
    )


def _fill_values(
    fill_missing: Any, media_names: Sequence[str], extra_names: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Media and control values of the periods ``fill_missing`` inserts.

    Parameters
    ----------
    fill_missing : "zero" or dict
        ``"zero"``: every media and control column is 0. A dict maps column
        names to the value of inserted rows; the columns it does not name
        are 0.
    media_names, extra_names : sequence of str
        The model's media and control columns.

    Returns
    -------
    media, controls : ndarray of shape (n_channels,) and (n_extra,)

    Raises
    ------
    ValueError
        For a name that is not a media or control column, a value that is
        not a finite number, or a negative media value.
    """
    media = np.zeros(len(media_names))
    controls = np.zeros(len(extra_names))
    if isinstance(fill_missing, str):
        if fill_missing != "zero":
            raise ValueError(
                f"fill_missing must be None, 'zero' or a dict of column -> value, "
                f"got {fill_missing!r}."
            )
        return media, controls
    names = [str(n) for n in media_names], [str(n) for n in extra_names]
    for column, value in fill_missing.items():
        key = str(column)
        if key not in names[0] + names[1]:
            raise ValueError(
                f"fill_missing names {_format_label(column)}, which is not a media "
                f"or control column{_close_matches(key, names[0] + names[1])} The "
                f"columns are {_format_names(names[0] + names[1])}."
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(
                f"fill_missing[{_format_label(column)}] must be a number, got "
                f"{value!r}."
            )
        value = float(value)
        is_media = key in names[0]
        if not np.isfinite(value) or (is_media and value < 0):
            raise ValueError(
                f"fill_missing[{_format_label(column)}] is {value}; "
                + (
                    "media must be finite and >= 0."
                    if is_media
                    else "it must be finite."
                )
            )
        if is_media:
            media[names[0].index(key)] = value
        else:
            controls[names[1].index(key)] = value
    return media, controls


# --- media columns ---------------------------------------------------------


def _labels_are_other_integers(labels: Sequence | None) -> bool:
    """Column labels that are all integers, but not 0, 1, ..., n - 1."""
    if not labels:
        return False
    integers = all(
        isinstance(label, numbers.Integral) and not isinstance(label, (bool, np.bool_))
        for label in labels
    )
    return integers and [int(label) for label in labels] != list(range(len(labels)))


def _resolve_media_columns(
    media_columns: Any, table: _Table, date_position: int | None
) -> list[int]:
    """Positions in X (as passed) of the media columns, in the order given.

    Strings are column names; integers are positions (negative ones count
    from the end, as in NumPy). When X's labels are integers other than their
    positions (a header-less CSV with a column dropped), an integer is
    ambiguous and refused.
    """
    if media_columns is None:
        return [p for p in range(table.n_cols) if p != date_position]
    if isinstance(media_columns, (str, numbers.Integral)) and not isinstance(
        media_columns, bool
    ):
        entries = [media_columns]
    else:
        try:
            entries = list(media_columns)
        except TypeError:
            raise ValueError(
                f"media_columns must be None, a column name, or a list of column "
                f"names or integer positions; got {media_columns!r}."
            ) from None
    if not entries:
        raise ValueError(
            "media_columns is empty: name at least one media column, or pass "
            "media_columns=None to treat every column as media."
        )
    labels = table.labels
    positions: list[int] = []
    for entry in entries:
        if isinstance(entry, (bool, np.bool_)):
            raise ValueError(
                f"media_columns holds the boolean {entry!r}; boolean masks are "
                "not supported. Pass column names or integer positions."
            )
        if isinstance(entry, numbers.Integral) and _labels_are_other_integers(labels):
            raise ValueError(
                f"media_columns holds the integer {int(entry)}, and X's column "
                f"labels are integers that are not their positions "
                f"({_format_names(labels)}): {int(entry)} could be the label or "
                "the position. skmmm does not guess: give X string column "
                "names (X.columns = X.columns.astype(str)) and name the media "
                "columns, or pass X as an array with positions."
            )
        if isinstance(entry, numbers.Integral):
            position = int(entry)
            if not -table.n_cols <= position < table.n_cols:
                raise ValueError(
                    f"media column position {position} is out of range: X has "
                    f"{_plural(table.n_cols, 'column')} (positions 0 to "
                    f"{table.n_cols - 1})."
                )
            position %= table.n_cols
            what = f"media column position {int(entry)}"
        else:
            if labels is None:
                raise ValueError(
                    f"media_columns names the column {_format_label(entry)}, "
                    "but X is an array without column names. Pass integer "
                    "positions, or X as a DataFrame."
                )
            if entry not in labels:
                raise ValueError(
                    f"media column {_format_label(entry)} is not a column of X"
                    f"{_close_matches(entry, labels)} X has columns "
                    f"{_format_names(labels)}."
                )
            position = labels.index(entry)
            what = f"media column {_format_label(entry)}"
        if position == date_position:
            raise ValueError(
                f"{what} is the date column; the date column cannot be a "
                "media channel. Remove it from media_columns."
            )
        if position in positions:
            raise ValueError(
                f"media_columns lists {table.describe_column(position)} more "
                "than once; list each media column once."
            )
        positions.append(position)
    return positions


def _without_date(position: int, date_position: int | None) -> int:
    """A position in X as passed -> its position once the date column is gone."""
    if date_position is not None and position > date_position:
        return position - 1
    return position


# --- y ---------------------------------------------------------------------


def _align_target(y: Any, rows: pd.Index | None) -> Any:
    """y in the order of X's row labels when both carry labels.

    A Series whose labels are X's in another order is reordered to X's; one
    whose labels differ from X's is a ValueError. A Series with the default
    labels 0, 1, ..., n - 1, like an array, is taken by position. Dates are
    checked separately (they must match exactly).
    """
    if (
        rows is None
        or not isinstance(y, (pd.Series, pd.DataFrame))
        or len(y) != len(rows)  # the length check names this case
    ):
        return y
    labels = y.index
    if labels.equals(rows) or isinstance(labels, pd.DatetimeIndex):
        return y
    if isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1:
        return y
    if labels.is_unique and rows.is_unique:
        missing = rows.difference(labels, sort=False)
        if not len(missing):
            return y.reindex(rows)
        extra = labels.difference(rows, sort=False)
        raise ValueError(
            f"y's index does not match X's: X has the row label "
            f"{_format_label(missing[0])}, which y lacks, and y has "
            f"{_format_label(extra[0])}, which X lacks. Pass y with X's row "
            "labels (y.index = X.index, if they are in the same order), or "
            "as an array."
        )
    raise ValueError(
        "y's index does not match X's (one of them repeats a label); pass y "
        "with X's row labels, or as an array in X's row order."
    )


def _as_target(y: Any, estimator_name: str) -> tuple[pd.Series | np.ndarray, str]:
    """y as a 1-D Series or ndarray (values untouched) and its description."""
    if y is None:
        raise ValueError(
            f"{estimator_name} requires y to be passed, but the target y is "
            "None. Pass the KPI (e.g. sales) as a 1-D array or Series with one "
            "value per row of X."
        )
    _reject_sparse(y, "y")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(
                f"y should be a 1d array, got a DataFrame with {y.shape[1]} "
                "columns. Pass the single KPI column, e.g. y=df['sales']."
            )
        # column_or_1d's warning; the Series keeps y's name and row labels.
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples, ), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        name = "y" if y.name is None else f"y ({_format_label(y.name)})"
        return y, name
    values = _read_array(y, "y", 1, "Pass one KPI value per row of X.")
    if values.dtype.kind == "c":
        raise _complex_error("y")
    try:
        values = column_or_1d(values, warn=True)
    except ValueError as exc:
        raise ValueError(
            f"{exc} Pass one KPI value per row of X (a single target)."
        ) from None
    return values, "y"


# --- public API ------------------------------------------------------------


@dataclass(frozen=True)
class TableOptions:
    """How a training table is read: the keyword arguments of the validators.

    :func:`validate_training_data` and :func:`validate_geo_training_data`
    take these as keyword arguments.

    Attributes
    ----------
    media_columns : str, int, list of str or int, or None, default=None
        Which columns are media: names (DataFrame X) or integer positions in X
        as passed (negative positions count from the end). None means every
        column except the date (and geo) column. The other columns are
        controls. The media keep the order given here.
    date_column : hashable, default=None
        Name of a DataFrame column holding the dates (datetime values, or
        strings parsed with :func:`pandas.to_datetime`); it becomes the index
        and is not a feature. Without it, a ``DatetimeIndex`` (or
        ``PeriodIndex``) of X is used when present.
    min_periods : int, default=5
        Fewest periods accepted (rows of a national X, dates of a panel).
    estimator_name : str, default="BayesianMMMRegressor"
        Name used in error messages.
    date_format : str, default=None
        :func:`time.strftime` format of a date column given as strings (e.g.
        ``"%d/%m/%Y"``). None reads ISO and other unambiguous dates, and
        numeric day/month dates when some field is above 12; otherwise it
        raises rather than guess the order.
    fill_missing : {"zero"} or dict, default=None
        Dated X only. None refuses missing periods (naming them); ``"zero"``
        inserts them with zero media and controls, a dict of column ->
        value with those values (other columns 0). Inserted periods get a
        zero KPI and ``present`` marks them, so that the fit leaves them out
        of the likelihood. Dates off the calendar stay an error.
    """

    media_columns: Hashable | Sequence[Hashable] | None = None
    date_column: Hashable | None = None
    min_periods: int = 5
    estimator_name: str = _DEFAULT_ESTIMATOR
    date_format: str | None = None
    fill_missing: Any = None

    def __post_init__(self) -> None:
        periods = self.min_periods
        if isinstance(periods, bool) or not isinstance(periods, numbers.Integral):
            raise ValueError(f"min_periods must be an integer >= 1, got {periods!r}.")
        if periods < 1:
            raise ValueError(f"min_periods must be an integer >= 1, got {periods}.")


def validate_training_data(
    X: ArrayLike | pd.DataFrame,
    y: ArrayLike | pd.Series | pd.DataFrame,
    **options: Any,
) -> TrainingData:
    """Check the training data of an MMM and split it into media and controls.

    Parameters
    ----------
    X : array-like of shape (n_times, n_columns) or DataFrame
        One row per time period, in time order. Media columns must be finite
        and ``>= 0``; control columns finite. Boolean columns count as 0/1.
        A DataFrame's column names are all strings or none is.
    y : array-like of shape (n_times,), Series or one-column DataFrame
        The KPI, finite. A column vector is accepted with a
        ``DataConversionWarning``, as in scikit-learn.
    **options
        The fields of :class:`TableOptions`: ``media_columns``,
        ``date_column``, ``min_periods``, ``estimator_name``,
        ``date_format``, ``fill_missing``.

    Returns
    -------
    TrainingData
        Fresh float64 arrays, names, positions and the time index.

    Raises
    ------
    ValueError
        For every bad input, with a message naming the column and the row.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame(
    ...     {"tv": [1.0, 2, 3, 4, 5], "search": [0.0, 1, 0, 1, 0],
    ...      "price": [9.0, 9, 8, 8, 9]},
    ...     index=pd.date_range("2024-01-01", periods=5, freq="W-MON"),
    ... )
    >>> data = validate_training_data(X, [10.0, 12, 13, 15, 14],
    ...                               media_columns=["tv", "search"])
    >>> data.media_names, data.extra_names, data.frequency
    (['tv', 'search'], ['price'], <Week: weekday=0>)
    >>> data.media.shape, data.extra_features.shape
    ((5, 2), (5, 1))
    """
    options = TableOptions(**options)
    estimator_name, min_periods = options.estimator_name, options.min_periods
    table = _as_table(X)
    columns = _ColumnRecord()
    validate_data(columns, table.data, reset=True, skip_check_array=True)
    y = _align_target(y, table.frame.index if table.frame is not None else None)
    y_values, y_name = _as_target(y, estimator_name)
    try:
        check_consistent_length(table.data, y_values)
    except ValueError as exc:
        raise ValueError(
            f"{exc}. X has {table.n_rows} rows (time periods) but y has "
            f"{len(y_values)} values; pass one KPI value per row of X."
        ) from None

    dates, date_position = _resolve_dates(
        table, options.date_column, options.date_format
    )
    n_features = table.n_cols - (date_position is not None)
    if n_features == 0:
        besides = "" if date_position is None else " besides the date column"
        raise ValueError(
            f"Found array with 0 feature(s) (shape=({table.n_rows}, 0)) while "
            f"a minimum of 1 is required. {estimator_name} needs at least one "
            f"media column; X has no columns{besides}."
        )
    if table.n_rows < min_periods:
        raise ValueError(
            f"{estimator_name} needs at least {min_periods} periods (time rows) "
            f"to fit, got {table.n_rows} sample(s). Pass more rows in X and y."
        )

    if dates is not None and isinstance(y_values, pd.Series):
        y_index = y_values.index
        if isinstance(y_index, pd.DatetimeIndex) and not y_index.equals(dates):
            try:
                mismatch = np.flatnonzero(np.asarray(y_index != dates))
            except TypeError:  # time-zone aware against naive
                mismatch = np.zeros(1, dtype=np.int64)
            row = int(mismatch[0]) if len(mismatch) else 0
            raise ValueError(
                f"y's dates do not match X's dates: at row {row} X has "
                f"{_format_date(dates[row])} but y has "
                f"{_format_date(y_index[row])}. Align y with X first "
                "(e.g. y = y.reindex(X.index))."
            )

    media_in_x = _resolve_media_columns(options.media_columns, table, date_position)
    extra_in_x = [
        p for p in range(table.n_cols) if p != date_position and p not in media_in_x
    ]
    row_labels = (
        dates
        if dates is not None
        else (table.frame.index if table.frame is not None else None)
    )
    media, media_desc = _matrix(table, media_in_x, row_labels)
    extra, extra_desc = _matrix(table, extra_in_x, row_labels)
    _check_finite(np.hstack([media, extra]), media_desc + extra_desc, row_labels)
    target = _to_float(y_values, y_name, row_labels)
    _check_finite(target[:, None], [y_name], row_labels)
    _check_non_negative(media, media_desc, row_labels)

    if table.frame is not None:
        media_names = [str(table.frame.columns[p]) for p in media_in_x]
        extra_names = [str(table.frame.columns[p]) for p in extra_in_x]
    else:
        media_names = [f"media_{i}" for i in range(len(media_in_x))]
        extra_names = [f"extra_{i}" for i in range(len(extra_in_x))]

    frequency = _infer_frequency(dates)
    present = None
    calendar = _check_regular_calendar(
        dates, frequency, "X's dates", options.fill_missing
    )
    if calendar is not None:
        media, extra, target, present = _insert_periods(
            calendar,
            dates,
            media,
            extra,
            target,
            options.fill_missing,
            media_names,
            extra_names,
        )
        dates, frequency = calendar, _infer_frequency(calendar)
    return TrainingData(
        media=media,
        extra_features=extra,
        target=target,
        index=dates if dates is not None else pd.RangeIndex(table.n_rows),
        media_names=media_names,
        extra_names=extra_names,
        media_positions=[_without_date(p, date_position) for p in media_in_x],
        extra_positions=[_without_date(p, date_position) for p in extra_in_x],
        feature_names_in=getattr(columns, "feature_names_in_", None),
        n_features_in=columns.n_features_in_,
        frequency=frequency,
        present=present,
    )


def _insert_periods(
    calendar: pd.DatetimeIndex,
    dates: pd.DatetimeIndex,
    media: np.ndarray,
    extra: np.ndarray,
    target: np.ndarray,
    fill_missing: Any,
    media_names: Sequence[str],
    extra_names: Sequence[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The rows on the whole ``calendar``, inserted ones with the fill values."""
    fill_media, fill_extra = _fill_values(fill_missing, media_names, extra_names)
    rows = calendar.get_indexer(dates)
    present = np.zeros(len(calendar), dtype=bool)
    present[rows] = True
    full_media = np.tile(fill_media, (len(calendar), 1))
    full_extra = np.tile(fill_extra, (len(calendar), 1))
    full_target = np.zeros(len(calendar))
    full_media[rows], full_extra[rows], full_target[rows] = media, extra, target
    return full_media, full_extra, full_target, present


def _check_fit_columns(
    table: _Table, fitted: _FittedColumns, estimator_name: str
) -> None:
    """scikit-learn's feature-name and feature-count rules between fit and predict.

    ``validate_data(..., reset=False)``: an error when the names differ
    from the fit's (or are in another order) or the number of columns
    differs, a warning when only one of the two has names.
    """
    names = fitted.feature_names_in
    if (
        table.frame is not None
        and names is not None
        and len(names) == table.n_cols
        and (table.frame.columns == names).all()
    ):
        return  # the fit's columns in the fit's order: nothing to say
    try:
        validate_data(
            _fit_columns(fitted, estimator_name),
            table.data,
            reset=False,
            skip_check_array=True,
        )
    except ValueError as exc:
        message = str(exc)
        if fitted.feature_names_in is None:
            fix = "Pass the columns used at fit (the date column included)."
        else:
            names = _format_names(list(fitted.feature_names_in))
            fix = (
                "Pass X with the columns of the training data, in the same "
                f"order: {names}."
            )
        separator = "" if message.endswith("\n") else " "
        raise ValueError(message + separator + fix) from None


def validate_prediction_data(
    X: ArrayLike | pd.DataFrame,
    *,
    fitted: _FittedColumns,
    date_column: Hashable | None = None,
    estimator_name: str = _DEFAULT_ESTIMATOR,
    date_format: str | None = None,
) -> PredictionData:
    """Check new rows of X against the columns seen at fit.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_features_in) or DataFrame
        New rows, in time order, with the columns of the training X (the date
        column included).
    fitted : TrainingData or any object with the same column attributes
        ``media_positions``, ``extra_positions``, ``feature_names_in``,
        ``n_features_in``, ``media_names`` and ``extra_names`` of the fit.
    date_column, estimator_name, date_format
        As at fit (see :class:`TableOptions`); by default None,
        ``"BayesianMMMRegressor"`` and None.

    Returns
    -------
    PredictionData
        Fresh float64 media and control arrays and the time index.

    Raises
    ------
    ValueError
        For every bad input, with a message naming the column and the row.

    Warns
    -----
    UserWarning
        When X has feature names and the fit had none, or the reverse (as in
        scikit-learn); the columns are then matched by position.

    Examples
    --------
    >>> import numpy as np
    >>> fit = validate_training_data(np.ones((6, 3)), np.ones(6), media_columns=[0, 2])
    >>> new = validate_prediction_data(np.ones((2, 3)), fitted=fit)
    >>> new.media.shape, new.extra_features.shape, list(new.index)
    ((2, 2), (2, 1), [0, 1])
    """
    table = _as_table(X)
    _check_fit_columns(table, fitted, estimator_name)
    if table.n_rows == 0:
        raise ValueError(
            f"X has 0 rows (0 sample(s)); {estimator_name} needs at least 1 "
            "row to predict."
        )
    dates, date_position = _resolve_dates(table, date_column, date_format)
    media_positions = [int(p) for p in fitted.media_positions]
    extra_positions = [int(p) for p in fitted.extra_positions]
    n_features = table.n_cols - (date_position is not None)
    if max(media_positions + extra_positions, default=-1) >= n_features:
        raise ValueError(
            f"X has {n_features} feature columns besides its date column, but "
            f"{estimator_name} was fitted on "
            f"{len(media_positions) + len(extra_positions)}; pass the same "
            "date_column as at fit."
        )

    def in_x(position: int) -> int:
        """A position without the date column -> its position in X."""
        if date_position is not None and position >= date_position:
            return position + 1
        return position

    row_labels = (
        dates
        if dates is not None
        else (table.frame.index if table.frame is not None else None)
    )
    media, media_desc = _matrix(table, [in_x(p) for p in media_positions], row_labels)
    extra, extra_desc = _matrix(table, [in_x(p) for p in extra_positions], row_labels)
    _check_finite(np.hstack([media, extra]), media_desc + extra_desc, row_labels)
    _check_non_negative(media, media_desc, row_labels)
    return PredictionData(
        media=media,
        extra_features=extra,
        index=dates if dates is not None else pd.RangeIndex(table.n_rows),
    )


def validate_media_prior(
    media_prior: ArrayLike | pd.Series | Mapping[str, float],
    n_channels: int,
    media_names: Sequence[str],
) -> np.ndarray:
    """Check the per-channel media prior (total cost of each channel).

    Parameters
    ----------
    media_prior : array-like of shape (n_channels,), Series or mapping
        One positive, finite value per media channel. A Series whose index
        labels are all strings, or a mapping, is matched to the channels by
        name; anything else by position.
    n_channels : int
        Number of media channels.
    media_names : sequence of str
        Channel names, in the model's channel order.

    Returns
    -------
    ndarray of shape (n_channels,), dtype float64
        A fresh copy in channel order.

    Raises
    ------
    ValueError
        Wrong length, names that do not match the channels, non-numeric,
        non-finite or non-positive values; the message names the channel.

    Examples
    --------
    >>> import pandas as pd
    >>> validate_media_prior(pd.Series({"search": 2.0, "tv": 5.0}), 2, ["tv", "search"])
    array([5., 2.])
    """
    names = [str(name) for name in media_names]
    if len(names) != n_channels:
        raise ValueError(
            f"media_names has {len(names)} names but n_channels is {n_channels}."
        )
    listed = ", ".join(names[:_MAX_LISTED]) + (
        ", ..." if n_channels > _MAX_LISTED else ""
    )
    channels = f"{_plural(n_channels, 'media channel')} ({listed})"
    if media_prior is None:
        raise ValueError(
            f"media_prior is None; pass one positive cost per channel for the "
            f"{channels}."
        )
    _reject_sparse(media_prior, "media_prior")
    by_name = isinstance(media_prior, Mapping) or (
        isinstance(media_prior, pd.Series)
        and len(media_prior)
        and all(isinstance(label, str) for label in media_prior.index)
    )
    if by_name:
        keys = list(media_prior.keys())
        key_names = [str(key) for key in keys]
        missing = [name for name in names if name not in key_names]
        unexpected = [key for key in key_names if key not in names]
        if missing or unexpected or len(set(key_names)) != len(key_names):
            problems = []
            if missing:
                problems.append(f"missing {_format_names(missing)}")
            if unexpected:
                problems.append(f"unexpected {_format_names(unexpected)}")
            if len(set(key_names)) != len(key_names):
                problems.append("duplicate names")
            raise ValueError(
                "media_prior is given by channel name but its names do not match "
                f"the {channels}: {'; '.join(problems)}. Give exactly one value "
                "per channel."
            )
        lookup = dict(zip(key_names, keys, strict=True))
        values = [media_prior[lookup[name]] for name in names]
        raw = pd.Series(values, index=names, dtype=object)
    else:
        if isinstance(media_prior, (pd.DataFrame, str)):
            raise ValueError(
                "media_prior must be a 1-D array-like, Series or mapping with "
                f"one value per channel for the {channels}; got "
                f"{type(media_prior).__name__}."
            )
        array = np.asarray(media_prior)
        if array.ndim == 0:
            raise ValueError(
                f"media_prior is a single number but there are {channels}; give "
                f"one value per channel (e.g. np.full({n_channels}, value))."
            )
        if array.ndim != 1:
            raise ValueError(
                f"media_prior must be 1-D with one value per channel, got shape "
                f"{array.shape}; there are {channels}."
            )
        if len(array) != n_channels:
            raise ValueError(
                f"media_prior has {len(array)} values but there are {channels}."
            )
        raw = pd.Series(list(array), index=names, dtype=object)
    prior = np.empty(n_channels, dtype=np.float64)
    for i, (name, value) in enumerate(raw.items()):
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (numbers.Real, decimal.Decimal)
        ):
            raise ValueError(
                f"media_prior for channel {name!r} is {_format_value(value)}, "
                "not a number; pass each channel's total cost as a number."
            )
        prior[i] = float(value)
    bad = ~(np.isfinite(prior) & (prior > 0))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        others = int(bad.sum()) - 1
        also = f" ({others} other channel(s) too)" if others else ""
        raise ValueError(
            f"media_prior for channel {names[first]!r} is "
            f"{_format_value(prior[first])}{also}; every channel's prior (its "
            "total cost) must be a positive, finite number. Drop a channel "
            "without cost, or pass a small positive value for it."
        )
    return prior


def place_on_calendar(
    train_index: pd.DatetimeIndex,
    frequency: pd.DateOffset | str,
    new_index: pd.DatetimeIndex,
    media_gap_rows: int = 0,
    skippable: np.ndarray | None = None,
) -> np.ndarray:
    """Number each new row by its period on the training calendar.

    Period 0 is the first training date; training dates follow ``frequency``
    regularly. Rows inside the training range must be training dates and
    keep their training position; rows after it continue the calendar, and
    the first one must come right after the ``media_gap_rows`` periods of the
    gap (the media the caller supplies between the end of training and X).

    Parameters
    ----------
    train_index : DatetimeIndex
        The training dates (regular, strictly increasing).
    frequency : DateOffset or str
        Their frequency (``TrainingData.frequency``).
    new_index : DatetimeIndex
        The dates of the new rows: sorted, unique, consecutive periods.
    media_gap_rows : int, default=0
        Number of periods of media supplied between the end of training and
        the first new row.
    skippable : ndarray of shape (n_train,), dtype bool, default=None
        Training periods that consecutive new rows may skip: those
        ``fill_missing`` inserted, which the training X did not have.

    Returns
    -------
    ndarray of shape (n_new,), dtype int64
        The period number of each new row (consecutive integers).

    Raises
    ------
    ValueError
        When a new row is not on the calendar, precedes the training data,
        leaves a gap that ``media_gap_rows`` does not fill, or when the new
        rows are not consecutive; the message names the row and the dates.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.date_range("2024-01-01", periods=4, freq="W-MON")
    >>> new = pd.date_range("2024-01-22", periods=3, freq="W-MON")
    >>> place_on_calendar(train, "W-MON", new, 0)
    array([3, 4, 5])
    """
    if not isinstance(train_index, pd.DatetimeIndex) or not len(train_index):
        raise ValueError("train_index must be a non-empty DatetimeIndex.")
    if not isinstance(new_index, pd.DatetimeIndex):
        raise ValueError(
            "X has no dates but the model was fitted on dates; pass X with a "
            "DatetimeIndex (or the date column) to place it on the calendar."
        )
    if frequency is None:
        raise ValueError(
            "The training dates have no regular frequency, so new rows cannot "
            "be placed on their calendar. Fit on regularly spaced dates (e.g. "
            "one row per week)."
        )
    offset = to_offset(frequency)
    if (
        isinstance(media_gap_rows, bool)
        or not isinstance(media_gap_rows, numbers.Integral)
        or media_gap_rows < 0
    ):
        raise ValueError(
            f"media_gap_rows must be an integer >= 0, got {media_gap_rows!r}."
        )
    gap = int(media_gap_rows)
    if (train_index.tz is None) != (new_index.tz is None):
        kinds = {True: "time-zone aware", False: "time-zone naive"}
        raise ValueError(
            f"The dates of X are {kinds[new_index.tz is not None]} but the "
            f"training dates are {kinds[train_index.tz is not None]}; use the "
            "same kind of dates as at fit."
        )
    n_train = len(train_index)
    start, end = train_index[0], train_index[-1]
    calendar = pd.date_range(start, periods=n_train, freq=offset)
    if not calendar.equals(train_index):
        raise ValueError(
            f"The training dates do not follow the frequency {offset.freqstr} "
            f"(from {_format_date(start)} to {_format_date(end)})."
        )
    _check_dates(new_index, "the dates of X")
    if not len(new_index):
        return np.empty(0, dtype=np.int64)

    first = new_index[0]
    if first < start:
        raise ValueError(
            f"X starts on {_format_date(first)}, before the training data starts "
            f"({_format_date(start)}); rows before the training period cannot "
            "be predicted (their media history is unknown). Drop them."
        )
    if first <= end:
        position = int(train_index.get_indexer([first])[0])
        if position < 0:
            raise ValueError(
                f"row 0 of X ({_format_date(first)}) falls inside the training "
                f"period but is not one of its dates (frequency "
                f"{offset.freqstr}); use the training dates."
            )
        if gap:
            raise ValueError(
                f"media_gap has {_plural(gap, 'row')}, but X starts on "
                f"{_format_date(first)}, inside the training period, so there "
                "is no gap to fill; pass media_gap=None."
            )
        first_period = position
    else:
        steps = pd.date_range(end, first, freq=offset)
        if steps[-1] != first:
            raise ValueError(
                f"X starts on {_format_date(first)}, which is not on the "
                f"calendar of the training data (frequency {offset.freqstr}, "
                f"last date {_format_date(end)}, next "
                f"{_format_date(end + offset)}); use dates of that calendar."
            )
        after = len(steps) - 1  # periods from the end of training to X
        between = after - 1
        if between != gap:
            where = (
                f"X starts on {_format_date(first)}, "
                f"{_plural(after, 'period')} after the end of the training "
                f"data ({_format_date(end)})"
            )
            if gap == 0:
                message = (
                    f"{where}; pass the media of the {_plural(between, 'period')} "
                    f"in between as media_gap= (one row per period, from "
                    f"{_format_date(end + offset)}), or start X on "
                    f"{_format_date(end + offset)}."
                )
            elif between == 0:
                message = (
                    f"media_gap has {_plural(gap, 'row')}, but {where}, so no "
                    "period lies in between; pass media_gap=None."
                )
            else:
                message = (
                    f"media_gap has {_plural(gap, 'row')}, but {where}, so "
                    f"{_plural(between, 'period')} lie in between; pass the media "
                    f"of exactly those {_plural(between, 'period')} as media_gap=."
                )
            raise ValueError(message)
        first_period = n_train - 1 + after

    periods = first_period + np.arange(len(new_index), dtype=np.int64)
    if skippable is not None and np.any(skippable):
        # The period after each row, passing over the inserted training ones.
        later = np.arange(
            first_period + 1, max(n_train, first_period + 1) + len(periods)
        )
        inserted = (later < n_train) & np.asarray(skippable)[
            np.minimum(later, n_train - 1)
        ]
        periods = np.concatenate([[first_period], later[~inserted]])[: len(periods)]
    last_period = int(periods[-1])
    if last_period >= n_train:
        extension = pd.date_range(end, periods=last_period - n_train + 2, freq=offset)
        calendar = train_index.append(extension[1:])
    else:
        calendar = train_index
    expected = calendar[periods]
    off_calendar = np.asarray(new_index != expected)
    if off_calendar.any():
        row = int(np.flatnonzero(off_calendar)[0])
        raise ValueError(
            f"The rows of X are not consecutive periods: row {row} is "
            f"{_format_date(new_index[row])} but the period after row {row - 1} "
            f"({_format_date(new_index[row - 1])}) is "
            f"{_format_date(expected[row])} (frequency {offset.freqstr}). X must "
            "hold consecutive periods without gaps: add the missing periods or "
            "predict each block separately."
        )
    return periods


def check_target_scale(target: ArrayLike) -> None:
    """Check that the KPI can be scaled by its mean.

    The model divides the target by its mean, so the mean must be a positive,
    finite number.

    Parameters
    ----------
    target : array-like of shape (n_times,)
        The validated KPI (e.g. ``TrainingData.target``).

    Raises
    ------
    ValueError
        When the mean of the target is not positive.

    Examples
    --------
    >>> check_target_scale([3.0, 5.0, 4.0])
    >>> check_target_scale([-1.0, 0.5])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: y has mean -0.25, ...
    """
    values = np.asarray(target)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric, got dtype {values.dtype}.")
    mean = float(np.mean(values)) if values.size else float("nan")
    if not (np.isfinite(mean) and mean > 0):
        raise ValueError(
            f"y has mean {mean:g}, but the model scales the KPI by its mean "
            "(LightweightMMM's scaling), so y must have a positive mean. Pass "
            "the KPI in levels (e.g. sales or conversions), not as changes or "
            "a centred/standardised series."
        )


# --- geo panels --------------------------------------------------------------


@dataclass(frozen=True)
class GeoTrainingData(TrainingData):
    """Validated long-format training panel, on a (date, geo) grid.

    The fields of :class:`TrainingData` with a trailing geo axis: ``media``
    (n_times, n_channels, n_geos), ``extra_features`` (n_times, n_extra,
    n_geos), ``target`` (n_times, n_geos); ``index`` holds the n_times
    distinct dates. ``media_positions``, ``extra_positions``,
    ``feature_names_in`` and ``n_features_in`` describe X without its date
    and geo columns.

    Attributes
    ----------
    geo_names : list of str
        The geos in order of first appearance in X.
    present : ndarray of shape (n_times, n_geos), dtype bool, or None
        Which (date, geo) cells X has: a ragged panel's geos may start
        later or end earlier than the others, and the grid holds zeros
        (media, controls and KPI) where they have no rows; with
        ``fill_missing``, the periods inserted inside a geo's history hold
        the fill values. None when every geo has every date (a complete
        panel).
    """

    geo_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GeoPredictionData:
    """Validated long-format rows for prediction.

    Attributes
    ----------
    media : ndarray of shape (n_rows, n_channels)
    extra_features : ndarray of shape (n_rows, n_extra)
    dates : DatetimeIndex
        The distinct dates of X, sorted.
    date_codes : ndarray of shape (n_rows,)
        Position of each row's date in ``dates``.
    geo_codes : ndarray of shape (n_rows,)
        Position of each row's geo in the training geos.
    index : MultiIndex
        (date, geo) of every row, in X's row order.
    """

    media: np.ndarray
    extra_features: np.ndarray
    dates: pd.DatetimeIndex
    date_codes: np.ndarray
    geo_codes: np.ndarray
    index: pd.MultiIndex


def _panel_frame(X: Any, geo_column: Hashable, what: str) -> pd.DataFrame:
    """X as a DataFrame holding ``geo_column``, or a clear error."""
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"geo_column={_format_label(geo_column)} needs {what} to be a "
            "long-format DataFrame (one row per date and geo) with that column, "
            f"but got {type(X).__name__}."
        )
    _check_is_column(geo_column, list(X.columns), "geo_column", what)
    _check_column_names(X, what)
    return X


def _panel_geos(frame: pd.DataFrame, geo_column: Hashable) -> np.ndarray:
    """The geo of every row, as strings; missing geos are refused."""
    raw = frame[geo_column]
    _check_none_missing(
        np.asarray(raw.isna()),
        f"geo column {_format_label(geo_column)}",
        "missing value",
        "Every row needs a geo: fill or drop those rows.",
    )
    return np.asarray([str(value) for value in raw], dtype=object)


def _panel_dates(
    frame: pd.DataFrame,
    date_column: Hashable | None,
    geo_column: Hashable,
    date_format: str | None = None,
) -> pd.DatetimeIndex:
    """The date of every row of a long panel (repeated across geos)."""
    if date_column is not None:
        _check_is_column(date_column, list(frame.columns), "date_column", "X")
        if date_column == geo_column:
            raise ValueError("date_column and geo_column must be different columns.")
        what = f"date column {_format_label(date_column)}"
        dates = _parse_date_column(frame[date_column], what, frame.index, date_format)
    else:
        index = frame.index
        if isinstance(index, pd.PeriodIndex):
            index = index.to_timestamp()
        if not isinstance(index, pd.DatetimeIndex):
            raise ValueError(
                "A geo model needs the date of every row: pass date_column= "
                "(a column of dates) or give X a DatetimeIndex."
            )
        dates, what = index, "the DatetimeIndex of X"
    _check_none_missing(
        np.asarray(dates.isna()),
        what,
        "missing date",
        "Every row needs a date: fill or drop those rows.",
        marker=" (NaT)",
    )
    return pd.DatetimeIndex(dates)


def _distinct_dates(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The distinct dates of a panel, sorted, in their time zone."""
    distinct = pd.DatetimeIndex(np.unique(dates.to_numpy()))
    if dates.tz is not None:
        distinct = distinct.tz_localize("UTC").tz_convert(dates.tz)
    return distinct


def _check_unique_pairs(dates: pd.DatetimeIndex, geos: np.ndarray) -> None:
    """One row per (date, geo)."""
    pairs = pd.MultiIndex.from_arrays([dates, geos])
    duplicated = np.asarray(pairs.duplicated(keep=False))
    if duplicated.any():
        first = int(np.flatnonzero(duplicated)[0])
        same = np.flatnonzero(
            np.asarray(dates == dates[first]) & (geos == geos[first])
        ).tolist()
        raise ValueError(
            f"X has duplicate rows for geo {geos[first]!r} on "
            f"{_format_date(dates[first])} (rows {same}). A panel needs exactly "
            "one row per date and geo: aggregate them (e.g. with "
            "groupby([date, geo]).sum())."
        )


def _geo_histories(
    dates: pd.DatetimeIndex,
    geos: np.ndarray,
    all_dates: pd.DatetimeIndex,
    geo_names: Sequence[str],
    allow_gaps: bool = False,
) -> np.ndarray:
    """Each geo's history, its first to its last date, on the grid of ``all_dates``.

    A geo may start after the first date or end before the last one (a
    ragged panel), but needs a row at every date between its own first and
    last date (adstock runs from one period to the next), unless
    ``allow_gaps`` (``fill_missing`` inserts those periods).
    """
    histories = np.zeros((len(all_dates), len(geo_names)), dtype=bool)
    for g, geo in enumerate(geo_names):
        have = pd.DatetimeIndex(dates[geos == geo])
        codes = np.sort(all_dates.get_indexer(have))
        first, last = int(codes[0]), int(codes[-1])
        if len(codes) != last - first + 1 and not allow_gaps:
            lacking = all_dates[first : last + 1].difference(have)
            raise ValueError(
                f"X has a gap in the history of geo {geo!r}: it has no row for "
                f"{_plural(len(lacking), 'date')} between its first date "
                f"{_format_date(all_dates[first])} and its last date "
                f"{_format_date(all_dates[last])} ({_listed(lacking)}). A geo may "
                "start later or end earlier than the others, but adstock runs "
                "from one period to the next, so it needs a row at every date "
                "in between: add the missing rows (with zero media if nothing "
                "was spent, and the KPI measured then), or pass "
                "fill_missing='zero' to insert them with zero media and "
                "controls and leave their KPI out of the fit."
            )
        histories[first : last + 1, g] = True
    return histories


def _check_active_geos(
    dates: pd.DatetimeIndex,
    geos: np.ndarray,
    all_dates: pd.DatetimeIndex,
    fitted: GeoTrainingData,
) -> None:
    """New rows cover every geo the model has at each of their dates, and no other.

    At a training date the model has the geos present then; after the
    training data, the geos whose history reaches its last date. A complete
    training panel has every geo at every date.
    """
    names = list(fitted.geo_names)
    present = fitted.present
    train_dates = pd.DatetimeIndex(fitted.index)
    codes = train_dates.get_indexer(all_dates)
    for position, date in enumerate(all_dates):
        if present is None:
            active = np.ones(len(names), dtype=bool)
        elif codes[position] >= 0:
            active = present[codes[position]]
        elif date > train_dates[-1]:
            active = present[-1]
        else:  # before or off the training calendar: placing the rows says so
            continue
        have = set(geos[np.asarray(dates == date)])
        for g, geo in enumerate(names):
            if active[g] and geo not in have:
                raise ValueError(
                    f"X has no row for geo {geo!r} on {_format_date(date)}, a "
                    "date where the model has that geo: at each date of X, "
                    "every geo of the model needs a row (select one geo's "
                    "predictions from the result instead of leaving out its rows)."
                )
            if not active[g] and geo in have:
                history = train_dates[present[:, g]]
                where = (
                    "a period fill_missing inserted into its training history"
                    if history[0] < date < history[-1]
                    else f"outside its training history ({_format_date(history[0])} "
                    f"to {_format_date(history[-1])})"
                )
                raise ValueError(
                    f"X has a row for geo {geo!r} on {_format_date(date)}, "
                    f"{where}: the model has no data of that geo there. Drop "
                    "those rows."
                )


def _panel_feature_frame(
    frame: pd.DataFrame, date_column: Hashable | None, geo_column: Hashable
) -> pd.DataFrame:
    """X without its date and geo columns, with row positions as its index."""
    dropped = [geo_column] + ([date_column] if date_column is not None else [])
    return frame.drop(columns=dropped).reset_index(drop=True)


def _media_names_without_panel_columns(
    media_columns: Any, frame: pd.DataFrame, dropped: Sequence[Hashable]
) -> Any:
    """Integer media positions (in X as passed) -> names; the panel columns refused."""
    if media_columns is None:
        return None
    single = isinstance(media_columns, (str, numbers.Integral)) and not isinstance(
        media_columns, bool
    )
    entries = [media_columns] if single else list(media_columns)
    names = []
    for entry in entries:
        if isinstance(entry, numbers.Integral) and not isinstance(entry, bool):
            if -frame.shape[1] <= int(entry) < frame.shape[1]:
                entry = frame.columns[int(entry)]
        if entry in dropped:
            raise ValueError(
                f"media column {_format_label(entry)} is the date or geo column; "
                "it cannot be a media channel. Remove it from media_columns."
            )
        names.append(entry)
    return names


def validate_geo_training_data(
    X: pd.DataFrame,
    y: ArrayLike | pd.Series,
    *,
    geo_column: Hashable,
    **options: Any,
) -> GeoTrainingData:
    """Check a long-format geo panel and arrange it on a (date, geo) grid.

    Parameters
    ----------
    X : DataFrame of shape (n_rows, n_columns)
        One row per date and geo, in any order: ``geo_column``, the dates
        (``date_column`` or a DatetimeIndex), media (finite, ``>= 0``) and
        controls (finite).
    y : array-like of shape (n_rows,)
        The KPI of every row, finite.
    geo_column : hashable
        The column naming each row's geo.
    **options
        The fields of :class:`TableOptions`: ``min_periods`` counts dates,
        and ``fill_missing`` inserts the periods missing from the panel's
        calendar and those inside a geo's history (``present`` False: their
        KPI is left out).

    Returns
    -------
    GeoTrainingData

    Raises
    ------
    ValueError
        For every bad input; a duplicate (date, geo) row or a geo missing a
        date between its own first and last date names the geo and the
        dates. Geos with different first or last dates (a ragged panel) are
        accepted: ``present`` marks the cells X has.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"date": pd.to_datetime(["2024-01-01"] * 2 + ["2024-01-08"] * 2),
    ...                   "geo": ["a", "b", "a", "b"], "tv": [1.0, 2, 3, 4]})
    >>> data = validate_geo_training_data(X, [5.0, 6, 7, 8], geo_column="geo",
    ...                                   date_column="date", min_periods=2)
    >>> data.media.shape, data.geo_names, data.target[:, 1].tolist()
    ((2, 1, 2), ['a', 'b'], [6.0, 8.0])
    """
    options = TableOptions(**options)
    date_column, fill_missing = options.date_column, options.fill_missing
    frame = _panel_frame(X, geo_column, "X")
    geos = _panel_geos(frame, geo_column)
    dates = _panel_dates(frame, date_column, geo_column, options.date_format)
    _check_unique_pairs(dates, geos)
    all_dates = _distinct_dates(dates).rename(dates.name)
    geo_names = list(pd.unique(geos))
    if fill_missing is None:
        histories = _geo_histories(dates, geos, all_dates, geo_names)
    frequency = _infer_frequency(all_dates)
    calendar = _check_regular_calendar(
        all_dates, frequency, "The panel's dates", fill_missing
    )
    if calendar is not None:
        all_dates, frequency = calendar, _infer_frequency(calendar)
    if fill_missing is not None:
        histories = _geo_histories(dates, geos, all_dates, geo_names, allow_gaps=True)
    if len(all_dates) < options.min_periods:
        raise ValueError(
            f"{options.estimator_name} needs at least {options.min_periods} "
            f"dates per geo to fit, got {len(all_dates)}. Pass more periods."
        )
    dropped = [geo_column] + ([date_column] if date_column is not None else [])
    rows = validate_training_data(
        _panel_feature_frame(frame, date_column, geo_column),
        _align_target(y, frame.index).reset_index(drop=True)
        if isinstance(y, (pd.Series, pd.DataFrame))
        else y,
        media_columns=_media_names_without_panel_columns(
            options.media_columns, frame, dropped
        ),
        min_periods=1,
        estimator_name=options.estimator_name,
    )
    date_codes = all_dates.get_indexer(dates)
    geo_codes = pd.Index(geo_names).get_indexer(geos)
    shape = (len(all_dates), len(geo_names))
    media = np.zeros((shape[0], rows.media.shape[1], shape[1]))
    extra = np.zeros((shape[0], rows.extra_features.shape[1], shape[1]))
    target = np.zeros(shape)
    present = np.zeros(shape, dtype=bool)
    present[date_codes, geo_codes] = True
    inserted = histories & ~present  # fill_missing's periods inside a history
    if inserted.any():
        fill_media, fill_extra = _fill_values(
            fill_missing, rows.media_names, rows.extra_names
        )
        periods, columns = inserted.nonzero()
        media[periods, :, columns] = fill_media
        extra[periods, :, columns] = fill_extra
    media[date_codes, :, geo_codes] = rows.media
    extra[date_codes, :, geo_codes] = rows.extra_features
    target[date_codes, geo_codes] = rows.target
    # The rows' names, positions and feature counts, on the (date, geo) grid.
    on_grid = {
        "media": media,
        "extra_features": extra,
        "target": target,
        "index": all_dates,
        "frequency": frequency,
        "present": None if present.all() else present,
    }
    by_row = {f.name: getattr(rows, f.name) for f in fields(rows)}
    return GeoTrainingData(**{**by_row, **on_grid}, geo_names=geo_names)


def validate_geo_prediction_data(
    X: pd.DataFrame,
    *,
    fitted: GeoTrainingData,
    geo_column: Hashable,
    date_column: Hashable | None = None,
    estimator_name: str = _DEFAULT_ESTIMATOR,
    date_format: str | None = None,
) -> GeoPredictionData:
    """Check new long-format rows of a geo model.

    Every row's geo must be a training geo, each (date, geo) must appear
    once, and every geo the model has at a date of X must have a row there:
    at a training date, the geos the training panel has then; after it, the
    geos whose history reaches the last training date.

    Parameters
    ----------
    X : DataFrame
        Rows with the columns of the training X.
    fitted : GeoTrainingData
        The training panel.
    geo_column, date_column, estimator_name, date_format
        As at fit.

    Returns
    -------
    GeoPredictionData

    Raises
    ------
    ValueError
        An unknown geo, a missing geo or date, duplicate rows, bad values;
        the message names the geo, the date or the row.
    """
    frame = _panel_frame(X, geo_column, "X")
    if not len(frame):
        raise ValueError("X has 0 rows; pass at least one row to predict.")
    geos = _panel_geos(frame, geo_column)
    known = list(fitted.geo_names)
    unknown = [geo for geo in pd.unique(geos) if geo not in known]
    if unknown:
        row = int(np.flatnonzero(geos == unknown[0])[0])
        raise ValueError(
            f"X has geo {unknown[0]!r} (first at row {row}) that the model was "
            f"not fitted on{_close_matches(unknown[0], known)} The training geos "
            f"are {_format_names(known)}."
        )
    dates = _panel_dates(frame, date_column, geo_column, date_format)
    _check_unique_pairs(dates, geos)
    all_dates = _distinct_dates(dates)
    _check_active_geos(dates, geos, all_dates, fitted)
    rows = validate_prediction_data(
        _panel_feature_frame(frame, date_column, geo_column),
        fitted=fitted,
        estimator_name=estimator_name,
    )
    return GeoPredictionData(
        media=rows.media,
        extra_features=rows.extra_features,
        dates=all_dates,
        date_codes=all_dates.get_indexer(dates),
        geo_codes=pd.Index(known).get_indexer(geos),
        index=pd.MultiIndex.from_arrays(
            [dates, geos], names=[dates.name or "date", str(geo_column)]
        ),
    )


def validate_geo_media_gap(
    media_gap: Any,
    *,
    media_names: Sequence[str],
    geo_names: Sequence[str],
    geo_column: Hashable,
) -> np.ndarray:
    """Media of the periods between the end of training and X, per geo.

    Parameters
    ----------
    media_gap : None, array-like of shape (n_gap, n_channels, n_geos) or DataFrame
        A long DataFrame has ``geo_column`` and the media columns, the same
        number of rows for every geo, each geo's rows in time order.
    media_names, geo_names : sequence of str
        The model's channels and geos.
    geo_column : hashable
        The geo column's name.

    Returns
    -------
    ndarray of shape (n_gap, n_channels, n_geos)
    """
    n_channels, n_geos = len(media_names), len(geo_names)
    if media_gap is None:
        return np.zeros((0, n_channels, n_geos))
    if isinstance(media_gap, pd.DataFrame):
        frame = _panel_frame(media_gap, geo_column, "media_gap")
        missing = [name for name in media_names if name not in frame.columns]
        if missing:
            raise ValueError(
                f"media_gap lacks the media column(s) {_format_names(missing)}."
            )
        geos = _panel_geos(frame, geo_column)
        unknown = [geo for geo in pd.unique(geos) if geo not in geo_names]
        if unknown:
            raise ValueError(
                f"media_gap has geo {unknown[0]!r} that the model was not fitted on."
            )
        counts = {geo: int((geos == geo).sum()) for geo in geo_names}
        if len(set(counts.values())) != 1:
            geo = min(counts, key=counts.get)
            raise ValueError(
                f"media_gap has {counts[geo]} row(s) for geo {geo!r} but "
                f"{max(counts.values())} for another; give every geo the same "
                "periods."
            )
        values = frame[list(media_names)].to_numpy(dtype=float)
        gap = np.stack([values[geos == geo] for geo in geo_names], axis=2)
    else:
        gap = np.asarray(media_gap, dtype=float)
        if gap.ndim != 3 or gap.shape[1:] != (n_channels, n_geos):
            raise ValueError(
                f"media_gap must have shape (n_gap_periods, {n_channels}, {n_geos}) "
                "(period, channel, geo) or be a long DataFrame with the geo "
                f"column; got shape {gap.shape}."
            )
    bad = ~np.isfinite(gap) | (gap < 0)
    if bad.any():
        period, channel, geo = np.argwhere(bad)[0]
        raise ValueError(
            f"media_gap has an invalid value {gap[period, channel, geo]} in period "
            f"{period}, channel {media_names[channel]!r}, geo {geo_names[geo]!r}: "
            "media must be finite and >= 0."
        )
    return gap
