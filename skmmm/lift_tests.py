"""Experiments (lift tests) as model inputs: the table's checks and conversion.

A lift test is an experiment that changed one channel's spend for a while
(a geo-lift, a conversion-lift test, a holdout) and measured the KPI it
added. ``lift_tests=`` takes a DataFrame with one row per test:

``channel``
    The channel whose spend changed (a media column name).
``start``, ``end``
    First and last period of the spend change (inclusive): dates for dated
    data, period positions (0 is the first training period) for undated data.
``measure_end`` (optional)
    Last period of the measurement window, which runs from ``start``;
    default ``end``. Later than ``end`` counts the carry-over after the
    spend change. A missing value in the column means ``end``.
``delta_spend``
    Extra media per period during the test, in the channel's media units
    (negative for a partial cut), or ``"holdout"``: the channel's spend is
    switched off from ``start`` to ``end`` (in the test's geo, or in every
    geo for a national test), so the lift is the (negative) KPI its
    observed spend brought. A holdout measures the channel's average
    effect, a small change its marginal one.
``lift``, ``lift_sd``
    The measured incremental KPI over the measurement window, in KPI units,
    and its standard error.
``geo`` (optional, geo fits only)
    The geo the test ran in; a missing value (or no column) means a national
    test: ``delta_spend`` is then split over the geos by their share of the
    channel's training spend and the lift is the sum over geos.

:func:`validate_lift_tests` checks the table against the training data and
returns the tests as positions (:class:`LiftTests`); :func:`lift_test_inputs`
converts them to the model's internal scale (:class:`LiftTestInputs`),
padded to a fixed number of tests so refits with a few more or fewer tests
reuse the compiled sampler.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from skmmm._validation import parse_date

__all__ = [
    "LIFT_TEST_COLUMNS",
    "LiftTestInputs",
    "LiftTests",
    "lift_test_inputs",
    "padded_size",
    "validate_lift_tests",
]

REQUIRED_COLUMNS = ("channel", "start", "end", "delta_spend", "lift", "lift_sd")
OPTIONAL_COLUMNS = ("measure_end", "geo")
LIFT_TEST_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
NATIONAL = -1
MIN_PADDED_TESTS = 4


class LiftTests(NamedTuple):
    """Validated lift tests, one entry per row of the table.

    Attributes
    ----------
    channel : ndarray of int, shape (n_tests,)
        Position of each test's channel.
    geo : ndarray of int, shape (n_tests,)
        Position of each test's geo; -1 for a national test.
    start, end, measure_end : ndarray of int, shape (n_tests,)
        Training period positions.
    delta_spend, lift, lift_sd : ndarray of float, shape (n_tests,)
        In media and KPI units; ``delta_spend`` is NaN for a holdout.
    holdout : ndarray of bool, shape (n_tests,)
        The tests that switched the channel's spend off.
    labels : pandas.Index
        The table's row labels.
    """

    channel: np.ndarray
    geo: np.ndarray
    start: np.ndarray
    end: np.ndarray
    measure_end: np.ndarray
    delta_spend: np.ndarray
    lift: np.ndarray
    lift_sd: np.ndarray
    holdout: np.ndarray
    labels: pd.Index

    @property
    def n_tests(self) -> int:
        return int(self.channel.shape[0])


class LiftTestInputs(NamedTuple):
    """The lift tests on the model's internal scale, padded to a fixed count.

    Attributes
    ----------
    channel : array of int, shape (n_padded,)
        Each test's channel (0 for padding).
    delta : array of shape (n_padded, n_times, n_geos)
        The change of the channel's media per period and geo, on the media's
        internal scale (zero outside ``start..end`` and for padding).
    window : array of shape (n_padded, n_times)
        1 over each test's measurement window, 0 elsewhere.
    weights : array of shape (n_padded, n_geos)
        Each geo's KPI scale over the test's: the test's lift on its scale
        is ``sum_g weights[g] * lift_g`` of the per-geo lifts on each geo's
        internal scale.
    lift, lift_sd : array of shape (n_padded,)
        The measured lift and its standard error on the test's scale.
    kpi_scale : array of shape (n_padded,)
        The test's scale: KPI units per unit of ``lift``.
    valid : array of shape (n_padded,)
        1 for a test, 0 for padding.
    history : array of shape (n_padded, n_times, n_geos)
        The channel's scaled media before the test, latest first
        (``history[k, j] = media[start - 1 - j]``, zeros before the data).
    window_media, window_delta : array of shape (n_padded, n_window, n_geos)
        The channel's scaled media and the change over the measurement
        window, from ``start`` (zeros after it).
    window_mask : array of shape (n_padded, n_window)
        1 over each test's measurement window. ``n_window`` is the longest
        window, padded to a power of two: with these, adstock's lag over the
        window needs no scan over the whole timeline.
    """

    channel: Any
    delta: Any
    window: Any
    weights: Any
    lift: Any
    lift_sd: Any
    kpi_scale: Any
    valid: Any
    history: Any
    window_media: Any
    window_delta: Any
    window_mask: Any


def _describe_row(position: int, labels: pd.Index) -> str:
    """``'row 2'`` or ``"row 2 (index label 'tv_q1')"``, positions from 0 as iloc."""
    default = (
        isinstance(labels, pd.RangeIndex) and labels.start == 0 and labels.step == 1
    )
    if default:
        return f"row {position}"
    return f"row {position} (index label {labels[position]!r})"


def _number(value: Any, where: str, column: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise ValueError(
            f"lift_tests {where}, column {column!r}: expected a number, got {value!r}."
        )
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(
            f"lift_tests {where}, column {column!r}: the value is {number}; every "
            "test needs a finite value here."
        )
    return number


def _period(value: Any, where: str, column: str, index: pd.Index) -> int:
    """The training period position of a date (dated data) or a position."""
    n_times = len(index)
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(value, bool | np.bool_) or isinstance(value, Real):
            raise ValueError(
                f"lift_tests {where}, column {column!r}: the training data have "
                f"dates, so give a date (e.g. '{index[0].date()}'), got {value!r}."
            )
        date = parse_date(
            value,
            not_a_date=f"lift_tests {where}, column {column!r}: {value!r} is not "
            "a date.",
            missing=f"lift_tests {where}, column {column!r} is missing; every "
            "test needs its dates.",
        )
        if index.tz is not None and date.tz is None:
            date = date.tz_localize(index.tz)
        position = index.get_indexer([date])[0]
        if position < 0:
            inside = index[0] <= date <= index[-1]
            raise ValueError(
                f"lift_tests {where}, column {column!r}: {date.date()} is "
                + (
                    "not one of the training periods' dates; give the date of "
                    "the period, as in the training index"
                    if inside
                    else "outside the training data "
                    f"({index[0].date()} to {index[-1].date()})"
                )
                + "."
            )
        return int(position)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool | np.bool_) or not isinstance(value, Integral):
        raise ValueError(
            f"lift_tests {where}, column {column!r}: the training data have no "
            f"dates, so give a period position (0 to {n_times - 1}), got {value!r}."
        )
    if not 0 <= int(value) < n_times:
        raise ValueError(
            f"lift_tests {where}, column {column!r}: period {int(value)} is outside "
            f"the training data (periods 0 to {n_times - 1})."
        )
    return int(value)


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def validate_lift_tests(
    lift_tests: Any,
    *,
    index: pd.Index,
    media_names: Sequence[str],
    media: np.ndarray,
    geo_names: Sequence[str] | None = None,
) -> LiftTests:
    """Check a lift-test table against the training data.

    Parameters
    ----------
    lift_tests : DataFrame
        One row per test (see the module's docstring for the columns).
    index : pandas.Index
        The training periods: a DatetimeIndex for dated data.
    media_names : sequence of str
        The channels.
    media : ndarray of shape (n_times, n_channels[, n_geos])
        The training media in media units (a spend change may not make them
        negative).
    geo_names : sequence of str, default=None
        The geos of a geo fit; None for a national fit.

    Returns
    -------
    LiftTests

    Raises
    ------
    ValueError
        Naming the row and the column: a missing or unknown column, an
        unknown channel or geo, dates outside the training data or in the
        wrong order, a missing value, ``lift_sd <= 0``, a zero spend change or
        one that makes media negative.
    """
    if not isinstance(lift_tests, pd.DataFrame):
        raise ValueError(
            "lift_tests must be a pandas DataFrame with one row per experiment "
            f"and columns {list(REQUIRED_COLUMNS)} (optional {list(OPTIONAL_COLUMNS)}),"
            f" got {type(lift_tests).__name__}."
        )
    columns = [str(column) for column in lift_tests.columns]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ValueError(
            f"lift_tests lacks the column(s) {missing}; it needs "
            f"{list(REQUIRED_COLUMNS)} (optional {list(OPTIONAL_COLUMNS)})."
        )
    unknown = [column for column in columns if column not in LIFT_TEST_COLUMNS]
    if unknown:
        raise ValueError(
            f"lift_tests has unknown column(s) {unknown}; the columns are "
            f"{list(LIFT_TEST_COLUMNS)}. Name the tests with the DataFrame's index."
        )
    if len(columns) != len(set(columns)):
        raise ValueError("lift_tests has duplicate column names.")
    if len(lift_tests) == 0:
        raise ValueError(
            "lift_tests has no rows; pass lift_tests=None to fit without experiments."
        )
    if geo_names is None and "geo" in columns:
        raise ValueError(
            "lift_tests has a 'geo' column but the model is national (no "
            "geo_column); drop the column."
        )
    media = np.asarray(media, dtype=float)
    panel = media if media.ndim == 3 else media[:, :, None]
    shares = _spend_shares(panel)
    frame = lift_tests.rename(columns=str)
    labels = frame.index
    names = [str(name) for name in media_names]
    geos = [str(geo) for geo in geo_names] if geo_names is not None else []
    n_tests = len(frame)
    out = {
        name: np.zeros(n_tests, dtype=int)
        for name in ("channel", "geo", "start", "end", "measure_end")
    }
    out.update(
        {
            name: np.zeros(n_tests, dtype=float)
            for name in ("delta_spend", "lift", "lift_sd")
        }
    )
    out["holdout"] = np.zeros(n_tests, dtype=bool)
    for position in range(n_tests):
        row = frame.iloc[position]
        where = _describe_row(position, labels)
        channel = row["channel"]
        if str(channel) not in names or _is_missing(channel):
            raise ValueError(
                f"lift_tests {where}, column 'channel': unknown channel "
                f"{channel!r}; the channels are {names}."
            )
        out["channel"][position] = names.index(str(channel))
        geo = row["geo"] if "geo" in columns else None
        if _is_missing(geo):
            out["geo"][position] = NATIONAL
        elif str(geo) not in geos:
            raise ValueError(
                f"lift_tests {where}, column 'geo': unknown geo {geo!r}; the geos "
                f"are {geos} (leave it empty for a national test)."
            )
        else:
            out["geo"][position] = geos.index(str(geo))
        start = _period(row["start"], where, "start", index)
        end = _period(row["end"], where, "end", index)
        measure = row["measure_end"] if "measure_end" in columns else None
        measure_end = (
            end
            if _is_missing(measure)
            else _period(measure, where, "measure_end", index)
        )
        if end < start:
            raise ValueError(
                f"lift_tests {where}: 'end' is before 'start'; the spend change "
                "runs from start to end inclusive."
            )
        if measure_end < end:
            raise ValueError(
                f"lift_tests {where}: 'measure_end' is before 'end'; the "
                "measurement window runs from start to measure_end and must "
                "cover the spend change."
            )
        out["start"][position], out["end"][position] = start, end
        out["measure_end"][position] = measure_end
        holdout = isinstance(row["delta_spend"], str) and (
            row["delta_spend"].strip().lower() == "holdout"
        )
        out["holdout"][position] = holdout
        for name in (
            ("lift", "lift_sd") if holdout else ("delta_spend", "lift", "lift_sd")
        ):
            out[name][position] = _number(row[name], where, name)
        if out["lift_sd"][position] <= 0:
            raise ValueError(
                f"lift_tests {where}, column 'lift_sd': {out['lift_sd'][position]:g}"
                " is not positive; give the lift's standard error (> 0)."
            )
        c, g = out["channel"][position], out["geo"][position]
        if holdout:
            out["delta_spend"][position] = np.nan
            cells = panel[start : end + 1, c, :]
            if not np.any(cells if g == NATIONAL else cells[:, g]):
                raise ValueError(
                    f"lift_tests {where}, column 'delta_spend': a holdout of "
                    f"{names[c]!r} from start to end switches off no spend (it "
                    "spent nothing then); check the dates, channel and geo."
                )
            continue
        delta = out["delta_spend"][position]
        if delta == 0:
            raise ValueError(
                f"lift_tests {where}, column 'delta_spend': 0 changes nothing; "
                "give the extra media per period (negative for a cut), or 'holdout'."
            )
        split = delta * (shares[c] if g == NATIONAL else np.eye(panel.shape[2])[g])
        changed = panel[start : end + 1, c, :] + split
        if np.any(changed < -1e-9 * max(1.0, abs(delta))):
            t, h = np.argwhere(changed < -1e-9 * max(1.0, abs(delta)))[0]
            geo_text = f" in geo {geos[h]!r}" if geos else ""
            raise ValueError(
                f"lift_tests {where}, column 'delta_spend': {delta:g} makes "
                f"{names[c]!r}'s media negative{geo_text} in period {start + t} "
                f"(it is {panel[start + t, c, h]:g} there); a holdout can at most "
                "remove the spend of its smallest period."
            )
    return LiftTests(**out, labels=labels)


def _spend_shares(panel: np.ndarray) -> np.ndarray:
    """Each geo's share of each channel's spend (n_channels, n_geos); even if none."""
    totals = panel.sum(axis=0)
    channel = totals.sum(axis=1, keepdims=True)
    return np.where(
        channel > 0, totals / np.where(channel > 0, channel, 1.0), 1.0 / totals.shape[1]
    )


def padded_size(n_tests: int) -> int:
    """The number of test slots: a power of two, at least 4."""
    return max(MIN_PADDED_TESTS, 1 << max(0, int(n_tests) - 1).bit_length())


def lift_test_inputs(
    tests: LiftTests,
    *,
    media: np.ndarray,
    media_scale: np.ndarray,
    target_scale: np.ndarray,
    n_padded: int | None = None,
) -> LiftTestInputs:
    """The tests on the model's internal scale (NumPy arrays), padded.

    Parameters
    ----------
    tests : LiftTests
        From :func:`validate_lift_tests`.
    media : ndarray of shape (n_times, n_channels[, n_geos])
        Training media in media units (for each geo's share of a national test).
    media_scale : ndarray of shape (n_channels,) or (n_channels, n_geos)
        The media's internal scales.
    target_scale : float or ndarray of shape (n_geos,)
        The KPI's internal scale per geo.
    n_padded : int, default=None
        Number of slots; None means :func:`padded_size`.

    Returns
    -------
    LiftTestInputs
        A test in geo ``g`` is on geo ``g``'s KPI scale; a national test on
        the mean of the geos' scales (the national one for a national fit).
    """
    media = np.asarray(media, dtype=float)
    panel = media if media.ndim == 3 else media[:, :, None]
    n_times, _, n_geos = panel.shape
    scale = np.asarray(media_scale, dtype=float).reshape(panel.shape[1], -1)
    scale = np.broadcast_to(scale, panel.shape[1:])
    kpi = np.broadcast_to(
        np.atleast_1d(np.asarray(target_scale, dtype=float)), (n_geos,)
    )
    shares = _spend_shares(panel)
    size = padded_size(tests.n_tests) if n_padded is None else int(n_padded)
    if size < tests.n_tests:
        raise ValueError(f"n_padded={size} is less than the {tests.n_tests} tests.")
    channel = np.zeros(size, dtype=np.int32)
    delta = np.zeros((size, n_times, n_geos))
    window = np.zeros((size, n_times))
    weights = np.zeros((size, n_geos))
    lift = np.zeros(size)
    lift_sd = np.ones(size)
    kpi_scale = np.ones(size)
    valid = np.zeros(size)
    lengths = tests.measure_end - tests.start + 1
    n_window = padded_size(int(lengths.max()) if tests.n_tests else 1)
    history = np.zeros((size, n_times, n_geos))
    window_media = np.zeros((size, n_window, n_geos))
    window_delta = np.zeros((size, n_window, n_geos))
    window_mask = np.zeros((size, n_window))
    for k in range(tests.n_tests):
        c, g = int(tests.channel[k]), int(tests.geo[k])
        national = g == NATIONAL
        split = shares[c] if national else np.eye(n_geos)[g]
        start, end = int(tests.start[k]), int(tests.end[k])
        if tests.holdout[k]:
            cells = np.ones(n_geos) if national else np.eye(n_geos)[g]
            delta[k, start : end + 1, :] = -panel[start : end + 1, c, :] * cells
            delta[k, start : end + 1, :] /= scale[c]
        else:
            delta[k, start : end + 1, :] = tests.delta_spend[k] * split / scale[c]
        window[k, start : int(tests.measure_end[k]) + 1] = 1.0
        reference = kpi.mean() if national else kpi[g]
        weights[k] = (kpi / reference) * (1.0 if national else np.eye(n_geos)[g])
        channel[k] = c
        lift[k] = tests.lift[k] / reference
        lift_sd[k] = tests.lift_sd[k] / reference
        kpi_scale[k] = reference
        valid[k] = 1.0
        scaled = panel[:, c, :] / scale[c]
        history[k, :start] = scaled[:start][::-1]
        length = int(lengths[k])
        window_media[k, :length] = scaled[start : start + length]
        window_delta[k, : end - start + 1] = delta[k, start : end + 1]
        window_mask[k, :length] = 1.0
    return LiftTestInputs(
        channel,
        delta,
        window,
        weights,
        lift,
        lift_sd,
        kpi_scale,
        valid,
        history,
        window_media,
        window_delta,
        window_mask,
    )
