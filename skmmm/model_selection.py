"""Choosing and validating models: backtests, panel splits, many fits at once.

- :class:`PanelTimeSeriesSplit` splits a long panel (one row per date and geo)
  by date, never inside a date, so a fold's test dates all come after its
  training dates.
- :func:`compare_models` backtests several models on the same chronological
  folds and returns a tidy table of out-of-sample accuracy, calibration of
  the predictive distribution and sampler diagnostics per model and fold.
- :func:`fit_many` fits one model per brand, KPI or segment of a long
  DataFrame.

Every fit goes through :class:`joblib.Parallel`, so ``n_jobs`` spreads fits
over local processes and ``with joblib.parallel_config(backend="dask"):``
sends them to a Dask cluster (see ``docs/scale-out.md``). Seeds are drawn in
the calling process before any fit is dispatched, so results do not depend on
the backend or on the number of workers.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Iterable, Mapping, Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import (
    check_scoring,
    mean_absolute_percentage_error,
    r2_score,
)
from sklearn.model_selection import BaseCrossValidator, TimeSeriesSplit
from sklearn.utils.validation import check_random_state

from skmmm.draws import interval_quantiles
from skmmm.models import MODEL_NAMES
from skmmm.regressor import BayesianMMMRegressor

__all__ = ["PanelTimeSeriesSplit", "compare_models", "crps_ensemble", "fit_many"]

#: Weeks held out per backtest fold by default: one quarter of weekly data.
DEFAULT_TEST_SIZE = 13
#: Backtest folds by default.
DEFAULT_N_SPLITS = 3
_MAX_SEED = 2**31 - 1

RESULT_COLUMNS = [
    "model",
    "fold",
    "n_train",
    "n_test",
    "r2",
    "mape",
    "coverage",
    "crps",
    "max_rhat",
    "divergences",
    "fit_seconds",
]


# ---------------------------------------------------------------- dates


def _row_dates(X: Any, date_column: Hashable | None) -> pd.Index | None:
    """The date of every row of ``X``, or None when ``X`` carries no dates.

    Dates come from ``X[date_column]``, else a DatetimeIndex (or PeriodIndex),
    else the first datetime level of a MultiIndex.
    """
    if not isinstance(X, pd.DataFrame):
        if date_column is not None:
            raise ValueError(
                f"date_column={date_column!r} needs X to be a DataFrame with that "
                f"column, but X is a {type(X).__name__}."
            )
        return None
    if date_column is not None:
        if date_column not in X.columns:
            raise ValueError(
                f"date_column={date_column!r} is not a column of X; X has columns "
                f"{list(X.columns)}."
            )
        return _as_dates(X[date_column], f"date column {date_column!r}")
    index = X.index
    if isinstance(index, pd.MultiIndex):
        for level in range(index.nlevels):
            values = index.get_level_values(level)
            if isinstance(values, pd.DatetimeIndex | pd.PeriodIndex):
                return _as_dates(pd.Series(values), f"index level {level}")
        return None
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        return _as_dates(pd.Series(index), "the index of X")
    return None


def _as_dates(values: pd.Series, what: str) -> pd.Index:
    """Dates as an Index, parsing strings; numbers (period numbers) are kept."""
    if isinstance(values.dtype, pd.PeriodDtype):
        values = values.dt.to_timestamp()
    if not (
        pd.api.types.is_datetime64_any_dtype(values.dtype)
        or pd.api.types.is_numeric_dtype(values.dtype)
    ):
        try:
            values = pd.to_datetime(values)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"The {what} cannot be read as dates: {exc}") from None
    missing = np.flatnonzero(pd.isna(values).to_numpy())
    if len(missing):
        raise ValueError(
            f"The {what} has {len(missing)} missing date(s), first at row "
            f"{int(missing[0])}; every row needs a date."
        )
    return pd.Index(values.to_numpy())


# ------------------------------------------------------------- splitter


class PanelTimeSeriesSplit(BaseCrossValidator):
    """Time series cross-validation of a long panel, split by date.

    Like :class:`~sklearn.model_selection.TimeSeriesSplit` applied to the
    distinct dates of ``X``: every row of a date (all geos, brands, ...) falls
    on the same side of a split, and each fold's test dates come after its
    training dates. Rows need not be sorted; the indices returned are sorted
    row positions.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    test_size : int, default=None
        Dates per test fold. None means ``n_dates // (n_splits + 1)``.
    gap : int, default=0
        Dates left out between the end of each training set and its test set.
    max_train_size : int, default=None
        Most dates in a training set (the latest ones are kept).
    date_column : str, default=None
        Column of ``X`` holding the dates. Without it, a DatetimeIndex of
        ``X`` (or the first datetime level of its MultiIndex) is used.

    See Also
    --------
    sklearn.model_selection.TimeSeriesSplit : The same on one row per date.
    compare_models : Backtests with these folds.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-08",
    ...                             "2024-01-08", "2024-01-15", "2024-01-15"]),
    ...     "geo": ["a", "b"] * 3,
    ...     "tv": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    >>> cv = PanelTimeSeriesSplit(n_splits=2, date_column="date")
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(panel)]
    [([0, 1], [2, 3]), ([0, 1, 2, 3], [4, 5])]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        test_size: int | None = None,
        gap: int = 0,
        max_train_size: int | None = None,
        date_column: str | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.test_size = test_size
        self.gap = gap
        self.max_train_size = max_train_size
        self.date_column = date_column

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return int(self.n_splits)

    def _check_params(self) -> None:
        for name, minimum in (("n_splits", 2), ("gap", 0)):
            value = getattr(self, name)
            if not isinstance(value, Integral) or value < minimum:
                raise ValueError(
                    f"{name} must be an integer >= {minimum}, got {value!r}."
                )
        for name in ("test_size", "max_train_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, Integral) or value < 1):
                raise ValueError(
                    f"{name} must be None or an integer >= 1, got {value!r}."
                )

    def split(self, X, y=None, groups=None):
        """Row indices of each fold's training and test sets.

        Parameters
        ----------
        X : DataFrame of shape (n_rows, n_features)
            Long data with a date column (``date_column``) or a date index.
        y : object
            Ignored.
        groups : object
            Ignored.

        Yields
        ------
        train : ndarray of int
            Sorted row positions of the training dates.
        test : ndarray of int
            Sorted row positions of the test dates.
        """
        self._check_params()
        dates = _row_dates(X, self.date_column)
        if dates is None:
            raise ValueError(
                "PanelTimeSeriesSplit needs the dates of X: pass a DataFrame with "
                "date_column= naming its date column, or with a DatetimeIndex "
                "(or a datetime level in its MultiIndex)."
            )
        codes, unique_dates = pd.factorize(dates, sort=True)
        n_dates = len(unique_dates)
        test_size = (
            self.test_size
            if self.test_size is not None
            else n_dates // (self.n_splits + 1)
        )
        needed = self.n_splits * test_size + self.gap + 1
        if test_size < 1 or n_dates < needed:
            raise ValueError(
                f"PanelTimeSeriesSplit(n_splits={self.n_splits}, test_size="
                f"{self.test_size}, gap={self.gap}) needs at least "
                f"{max(needed, self.n_splits + 1)} distinct dates, but X has "
                f"{n_dates}. Use fewer splits or a smaller test_size."
            )
        by_date = TimeSeriesSplit(
            n_splits=self.n_splits,
            test_size=test_size,
            gap=self.gap,
            max_train_size=self.max_train_size,
        )
        for train_dates, test_dates in by_date.split(np.arange(n_dates)):
            yield (
                _rows_of(codes, train_dates, n_dates),
                _rows_of(codes, test_dates, n_dates),
            )


def _rows_of(codes: np.ndarray, date_positions: np.ndarray, n_dates: int) -> np.ndarray:
    """Row positions whose date code is one of ``date_positions``."""
    selected = np.zeros(n_dates, dtype=bool)
    selected[date_positions] = True
    return np.flatnonzero(selected[codes])


# ------------------------------------------------------- metrics helpers


def crps_ensemble(draws: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of predictive draws, per observation.

    ``CRPS = E|X - y| - E|X - X'| / 2`` with ``X, X'`` independent draws of
    the predictive distribution (the energy form), computed exactly on the
    empirical distribution of the draws. Lower is better; it is in the KPI's
    units and equals the absolute error for a point forecast.

    Parameters
    ----------
    draws : array-like of shape (n_draws, n_obs)
        Draws of the predictive distribution of each observation.
    observed : array-like of shape (n_obs,)
        The observed values.

    Returns
    -------
    ndarray of shape (n_obs,)

    Examples
    --------
    >>> crps_ensemble([[1.0], [3.0]], [2.0])
    array([0.5])
    """
    draws = np.sort(np.asarray(draws, dtype=float), axis=0)
    observed = np.asarray(observed, dtype=float)
    n_draws = draws.shape[0]
    accuracy = np.abs(draws - observed).mean(axis=0)
    # Sum over pairs |x_i - x_j| of sorted draws = 2 sum_i (2i - n - 1) x_(i).
    weights = 2 * np.arange(1, n_draws + 1) - n_draws - 1
    spread = 2 * (weights @ draws) / n_draws**2
    return accuracy - spread / 2


def _interval_coverage(
    draws: np.ndarray, observed: np.ndarray, interval: float
) -> float:
    """Share of observations inside the central ``interval`` of the draws."""
    lower, upper = np.quantile(draws, [(1 - interval) / 2, (1 + interval) / 2], axis=0)
    return float(np.mean((observed >= lower) & (observed <= upper)))


def _max_rhat(fitted) -> float:
    values = np.concatenate([np.ravel(v) for v in fitted.rhat_.values()])
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else float("nan")


# ------------------------------------------------------ data and folds


def _take_rows(data: Any, rows: np.ndarray) -> Any:
    if isinstance(data, pd.DataFrame | pd.Series):
        return data.iloc[rows]
    return np.asarray(data)[rows]


def _n_rows(data: Any) -> int:
    return len(data) if hasattr(data, "__len__") else np.asarray(data).shape[0]


def _geo_column(estimator) -> Any:
    return estimator.get_params(deep=False).get("geo_column")


def _date_column(estimator) -> Any:
    return estimator.get_params(deep=False).get("date_column")


def _default_cv(X, estimators: Sequence[BaseEstimator], n_splits: int | None):
    """TimeSeriesSplit (PanelTimeSeriesSplit for geo models) of weekly quarters."""
    n_splits = DEFAULT_N_SPLITS if n_splits is None else n_splits
    panel = [est for est in estimators if _geo_column(est) is not None]
    if panel:
        date_column = _date_column(panel[0])
        dates = _row_dates(X, date_column)
        n_dates = _n_rows(X) if dates is None else dates.nunique()
        test_size = min(DEFAULT_TEST_SIZE, max(1, n_dates // (n_splits + 1)))
        return PanelTimeSeriesSplit(
            n_splits, test_size=test_size, date_column=date_column
        )
    test_size = min(DEFAULT_TEST_SIZE, max(1, _n_rows(X) // (n_splits + 1)))
    return TimeSeriesSplit(n_splits=n_splits, test_size=test_size)


def _folds(cv, X, y, estimators) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) row positions of every fold."""
    if cv is None or isinstance(cv, Integral):
        cv = _default_cv(X, estimators, cv)
    if hasattr(cv, "split") and not isinstance(cv, str | bytes):
        folds = list(cv.split(X, y))
    elif isinstance(cv, Iterable) and not isinstance(cv, str | bytes):
        folds = list(cv)
    else:
        raise ValueError(
            "cv must be None, an int, a splitter with a split method, or an "
            f"iterable of (train, test) index arrays; got {cv!r}."
        )
    if not folds:
        raise ValueError("cv produced no folds.")
    checked = []
    for number, fold in enumerate(folds):
        try:
            train, test = fold
        except (TypeError, ValueError):
            raise ValueError(
                f"Fold {number} of cv is not a (train, test) pair of index arrays."
            ) from None
        train, test = (np.asarray(part, dtype=int).ravel() for part in (train, test))
        if not len(train) or not len(test):
            raise ValueError(f"Fold {number} has an empty training or test set.")
        checked.append((train, test))
    return checked


def _check_fold_order(
    number: int,
    train: np.ndarray,
    test: np.ndarray,
    dates: pd.Index | None,
    panel: bool,
) -> None:
    """A backtest predicts the future: test rows must follow training rows."""
    if dates is not None:
        last_train, first_test = dates[train].max(), dates[test].min()
        if first_test <= last_train:
            raise ValueError(
                f"Fold {number}: its test rows start on {first_test}, not after "
                f"the last training date {last_train}. A backtest must predict "
                "dates after the training data: use TimeSeriesSplit or "
                "PanelTimeSeriesSplit."
            )
    if panel:
        return
    if test.min() <= train.max():
        raise ValueError(
            f"Fold {number}: test row {int(test.min())} does not come after the "
            f"last training row {int(train.max())}. A backtest must predict the "
            "rows after the training data: use TimeSeriesSplit (rows in time "
            "order)."
        )
    if np.any(np.diff(test) != 1):
        raise ValueError(
            f"Fold {number}: its test rows are not consecutive periods "
            f"(rows {int(test.min())} to {int(test.max())} with some missing)."
        )


def _media_gap(fitted, X, rows: np.ndarray):
    """Media of the periods between a fold's training and test rows."""
    if not len(rows):
        return None
    part = _take_rows(X, rows)
    if isinstance(part, pd.DataFrame):
        return part  # the estimator picks its media columns by name
    return np.asarray(part, dtype=float)[:, fitted.training_data_.media_positions]


# ------------------------------------------------------ estimators


def _resolve_estimators(
    estimators: Any, model_params: Mapping[str, Any] | None
) -> dict[str, BaseEstimator]:
    """Labels and unfitted estimators from names, estimators, a list or a dict."""
    if isinstance(estimators, str | BaseEstimator):
        estimators = [estimators]
    items = (
        list(estimators.items())
        if isinstance(estimators, Mapping)
        else [(None, est) for est in estimators]
    )
    if not items:
        raise ValueError("compare_models needs at least one model name or estimator.")
    params = dict(model_params or {})
    resolved: dict[str, BaseEstimator] = {}
    for label, est in items:
        if isinstance(est, str):
            if est not in MODEL_NAMES:
                raise ValueError(
                    f"Unknown model name {est!r}; the models are {list(MODEL_NAMES)}."
                )
            est = BayesianMMMRegressor(est, **params)
        elif not isinstance(est, BaseEstimator):
            raise ValueError(
                "compare_models takes model names ('adstock', 'hill_adstock', "
                f"'carryover') or unfitted estimators, got {est!r}."
            )
        else:
            est = clone(est)
        label = str(label) if label is not None else _label(est)
        unique, copy = label, 2
        while unique in resolved:
            unique, copy = f"{label}#{copy}", copy + 1
        resolved[unique] = est
    return resolved


def _label(estimator: BaseEstimator) -> str:
    model = getattr(estimator, "model", None)
    return model if isinstance(model, str) else type(estimator).__name__


def _with_seed(estimator: BaseEstimator, seed: int) -> BaseEstimator:
    """A clone with ``random_state=seed``, unless the estimator has its own int seed."""
    estimator = clone(estimator)
    params = estimator.get_params(deep=False)
    if "random_state" in params and not isinstance(params["random_state"], Integral):
        estimator.set_params(random_state=seed)
    return estimator


def _metric_scorers(scoring) -> dict[str, Any]:
    """Extra scikit-learn scorers by column name."""
    if scoring is None:
        return {}
    if isinstance(scoring, str):
        return {scoring: check_scoring(None, scoring=scoring)}
    if callable(scoring):
        return {"score": scoring}
    if isinstance(scoring, Mapping):
        return {
            str(name): check_scoring(None, scoring=s) if isinstance(s, str) else s
            for name, s in scoring.items()
        }
    return {str(name): check_scoring(None, scoring=name) for name in scoring}


# ------------------------------------------------------------ backtests


def _fit_and_score(
    estimator: BaseEstimator,
    X,
    y,
    train: np.ndarray,
    test: np.ndarray,
    gap_rows: np.ndarray,
    seed: int,
    interval: float,
    scorers: Mapping[str, Any],
    where: str,
) -> dict[str, Any]:
    """Fit on a fold's training rows and score its test rows (runs in a worker).

    A ValueError names the model and fold (``where``).
    """
    try:
        return _backtest_fold(
            estimator, X, y, train, test, gap_rows, seed, interval, scorers
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def _backtest_fold(estimator, X, y, train, test, gap_rows, seed, interval, scorers):
    """The row of one model and fold: see :func:`_fit_and_score`."""
    start = time.perf_counter()
    fitted = estimator.fit(_take_rows(X, train), _take_rows(y, train))
    fit_seconds = time.perf_counter() - start
    X_test = _take_rows(X, test)
    observed = np.asarray(_take_rows(y, test), dtype=float)
    gap = _media_gap(fitted, X, gap_rows)
    predicted = fitted.predict(X_test, media_gap=gap)
    draws = fitted.sample_posterior_predictive(X_test, random_state=seed, media_gap=gap)
    row = {
        "n_train": len(train),
        "n_test": len(test),
        "r2": r2_score(observed, predicted) if len(test) > 1 else float("nan"),
        "mape": mean_absolute_percentage_error(observed, predicted),
        "coverage": _interval_coverage(draws, observed, interval),
        "crps": float(crps_ensemble(draws, observed).mean()),
        "max_rhat": _max_rhat(fitted),
        "divergences": int(fitted.divergences_),
        "fit_seconds": fit_seconds,
    }
    for name, scorer in scorers.items():
        row[name] = float(scorer(fitted, X_test, observed))
    return row


def _loo_row(estimator, X, y, seed: int) -> dict[str, Any]:
    """Fit on every row and summarise the fit's PSIS-LOO (runs in a worker)."""
    import arviz as az

    from skmmm.io import to_inference_data

    fitted = _with_seed(estimator, seed).fit(X, y)
    loo = az.loo(to_inference_data(fitted), pointwise=True)
    pareto_k = np.asarray(loo.pareto_k).ravel()
    return {
        "elpd_loo": float(loo.elpd_loo),
        "se": float(loo.se),
        "p_loo": float(loo.p_loo),
        "max_pareto_k": float(pareto_k.max()),
        "n_high_pareto_k": int((pareto_k > 0.7).sum()),
        "max_rhat": _max_rhat(fitted),
        "divergences": int(fitted.divergences_),
    }


def _compare_by_loo(models, X, y, random_state, n_jobs, verbose) -> pd.DataFrame:
    try:
        import arviz  # noqa: F401
    except ImportError:
        raise ImportError(
            'compare_models(method="loo") needs ArviZ: pip install skmmm[arviz]'
        ) from None
    seeds = check_random_state(random_state).randint(0, _MAX_SEED, size=len(models))
    rows = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_loo_row)(est, X, y, int(seed))
        for est, seed in zip(models.values(), seeds, strict=True)
    )
    table = pd.DataFrame(rows, index=pd.Index(list(models), name="model"))
    table = table.sort_values("elpd_loo", ascending=False).reset_index()
    table.insert(1, "rank", np.arange(len(table)))
    return table


def compare_models(
    estimators,
    X,
    y,
    *,
    cv=None,
    scoring=None,
    model_params: Mapping[str, Any] | None = None,
    interval: float = 0.9,
    n_jobs: int | None = None,
    random_state=None,
    verbose: int = 0,
    method: str = "backtest",
) -> pd.DataFrame:
    """Backtest several media mix models on the same chronological folds.

    Each model is fitted on each fold's training rows and predicts the fold's
    test rows, which continue from the training history (adstock and
    carryover carry over). Rows with dates (a DatetimeIndex or the
    estimator's ``date_column``) are placed on the calendar; rows of plain
    arrays are the periods right after the training rows. Periods between
    training and test rows (a ``gap``) are passed to the model as
    ``media_gap``.

    Parameters
    ----------
    estimators : str, estimator, list of them, or dict of label -> estimator
        Model names (``"adstock"``, ``"hill_adstock"``, ``"carryover"``:
        :class:`~skmmm.BayesianMMMRegressor` with ``model_params``) or
        unfitted estimators (cloned, never modified).
    X : {array-like, DataFrame} of shape (n_rows, n_features)
        Media and controls in time order (a long panel for geo models).
    y : array-like of shape (n_rows,)
        The KPI.
    cv : int, cross-validation generator or iterable, default=None
        None means 3 folds of 13 periods (a quarter of weekly data; fewer
        when the data are short) with :class:`~sklearn.model_selection.TimeSeriesSplit`,
        or :class:`PanelTimeSeriesSplit` when an estimator has a
        ``geo_column``; an int sets the number of such folds; a splitter
        (anything with ``split``) or an iterable of (train, test) row
        positions is used as given. Test rows must come after training rows.
    scoring : str, callable, list or dict, default=None
        Extra scikit-learn scorers evaluated on each fold's test rows, one
        column each (named after the scorer, or ``"score"`` for a callable).
        Scorers call ``predict(X_test)`` without ``media_gap``.
    model_params : dict, default=None
        Parameters of the estimators built from model names (e.g.
        ``media_columns``, ``number_samples``).
    interval : float, default=0.9
        Width of the central predictive interval whose coverage is reported.
    n_jobs : int, default=None
        Fits run in parallel through joblib (None: one at a time, or as set
        by :func:`joblib.parallel_config`; -1: all cores).
    random_state : int, RandomState or None, default=None
        Seeds every fit whose estimator has ``random_state=None`` and the
        predictive draws; an int makes the table reproducible.
    verbose : int, default=0
        joblib's verbosity.
    method : {"backtest", "loo"}, default="backtest"
        "backtest" fits each model on each fold (below); "loo" fits each
        model once on all rows and ranks the models by their PSIS-LOO
        expected log predictive density (``arviz.loo``, needs ArviZ): no
        refits per fold, but it judges in-sample fit with a leave-one-out
        correction, not forecasts. ArviZ's Pareto-k warnings are passed on;
        ``cv``, ``scoring`` and ``interval`` do not apply.

    Returns
    -------
    DataFrame
        With ``method="loo"``: one row per model, best first, with columns
        ``model``, ``rank``, ``elpd_loo``, ``se``, ``p_loo``,
        ``max_pareto_k``, ``n_high_pareto_k`` (points with k > 0.7, where
        the estimate is unreliable), ``max_rhat`` and ``divergences``.
        Otherwise one row per (model, fold) with columns ``model``, ``fold``,
        ``n_train``, ``n_test``, ``r2`` (out-of-sample R^2 of the posterior
        mean), ``mape`` (mean absolute percentage error, a fraction),
        ``coverage`` (share of test KPI values inside the central
        ``interval`` of the posterior predictive draws), ``crps`` (mean
        continuous ranked probability score of the draws, KPI units; lower
        is better), ``max_rhat`` (worst split r_hat; one chain is split too),
        ``divergences``, ``fit_seconds``, then one column per extra scorer.

    See Also
    --------
    PanelTimeSeriesSplit : Folds of a long panel, by date.
    crps_ensemble : The CRPS of predictive draws.

    Examples
    --------
    >>> from skmmm import load_example
    >>> data = load_example()
    >>> table = compare_models(  # doctest: +SKIP
    ...     ["adstock", "hill_adstock", "carryover"], data.X, data.y, cv=2,
    ...     model_params={"media_columns": data.media_columns}, random_state=0)
    >>> table.groupby("model")[["r2", "mape", "crps"]].mean()  # doctest: +SKIP
    """
    interval_quantiles(interval)
    if method not in ("backtest", "loo"):
        raise ValueError(f'method must be "backtest" or "loo", got {method!r}.')
    models = _resolve_estimators(estimators, model_params)
    if _n_rows(X) != _n_rows(y):
        raise ValueError(
            f"X has {_n_rows(X)} rows but y has {_n_rows(y)}; they must match."
        )
    if method == "loo":
        if cv is not None or scoring is not None:
            raise ValueError(
                'cv and scoring belong to method="backtest"; method="loo" fits '
                "each model once on all rows."
            )
        return _compare_by_loo(models, X, y, random_state, n_jobs, verbose)
    folds = _folds(cv, X, y, list(models.values()))
    scorers = _metric_scorers(scoring)
    seeds = check_random_state(random_state).randint(
        0, _MAX_SEED, size=(len(models), len(folds))
    )
    tasks, keys = [], []
    for model_number, (label, est) in enumerate(models.items()):
        panel = _geo_column(est) is not None
        dates = _row_dates(X, _date_column(est))
        for number, (train, test) in enumerate(folds):
            _check_fold_order(number, train, test, dates, panel)
            gap_rows = np.arange(0) if panel else np.arange(train.max() + 1, test.min())
            seed = int(seeds[model_number, number])
            tasks.append(
                delayed(_fit_and_score)(
                    _with_seed(est, seed),
                    X,
                    y,
                    train,
                    test,
                    gap_rows,
                    seed,
                    interval,
                    scorers,
                    f"Model {label!r}, fold {number}",
                )
            )
            keys.append({"model": label, "fold": number})
    rows = Parallel(n_jobs=n_jobs, verbose=verbose)(tasks)
    table = pd.DataFrame([{**key, **row} for key, row in zip(keys, rows, strict=True)])
    return table[RESULT_COLUMNS + list(scorers)]


# ------------------------------------------------------------- fit_many


def _group_frames(
    data: pd.DataFrame, group_columns: list[Hashable]
) -> list[tuple[Hashable, pd.DataFrame]]:
    key = group_columns[0] if len(group_columns) == 1 else group_columns
    missing = data[group_columns].isna().any(axis=1).to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"The group column(s) {group_columns} have a missing value in row "
            f"{row} ({data.index[row]!r}); every row needs a group."
        )
    return list(data.groupby(key, sort=True, observed=True))


def _fit_group(estimator: BaseEstimator, group: Hashable, X, y) -> BaseEstimator:
    """Fit one group's model; errors name the group (runs in a worker)."""
    try:
        return estimator.fit(X, y)
    except ValueError as exc:
        raise ValueError(f"Group {group!r}: {exc}") from exc


def fit_many(
    estimator: BaseEstimator,
    data: pd.DataFrame,
    *,
    group_columns: Hashable | Sequence[Hashable],
    target: Hashable,
    feature_columns: Sequence[Hashable] | None = None,
    n_jobs: int | None = None,
    random_state=None,
    verbose: int = 0,
) -> dict[Hashable, BaseEstimator]:
    """Fit one model per group (brand, KPI, segment) of a long DataFrame.

    The rows of each group form one data set (national, or a geo panel when
    the estimator has a ``geo_column``); ``estimator`` is cloned for each and
    the fits run through joblib.

    Parameters
    ----------
    estimator : unfitted estimator
        The model; cloned per group, never modified.
    data : DataFrame
        Long data: group column(s), the target and the features, with the
        index (e.g. a DatetimeIndex) or date column the estimator expects.
    group_columns : str or list of str
        Column(s) naming the groups.
    target : str
        Column of the KPI.
    feature_columns : list of str, default=None
        Columns passed as ``X``. None means every column except the group
        columns and the target.
    n_jobs : int, default=None
        Fits run in parallel through joblib (see :func:`compare_models`).
    random_state : int, RandomState or None, default=None
        Seeds each group's fit when the estimator has ``random_state=None``.
    verbose : int, default=0
        joblib's verbosity.

    Returns
    -------
    dict
        Group -> fitted estimator, in sorted group order; keys are the group
        values (tuples for several group columns).

    Raises
    ------
    ValueError
        When a column is missing, or a group's data are invalid (the message
        names the group).

    Examples
    --------
    >>> models = fit_many(AdstockRegressor(), sales, group_columns="brand",  # doctest: +SKIP
    ...                   target="sales", random_state=0)
    >>> models["brand_a"].predict(...)  # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a DataFrame, got {type(data).__name__}.")
    if not isinstance(estimator, BaseEstimator):
        raise ValueError(f"estimator must be an unfitted estimator, got {estimator!r}.")
    groups = (
        [group_columns]
        if isinstance(group_columns, str) or not isinstance(group_columns, Sequence)
        else list(group_columns)
    )
    if not groups:
        raise ValueError("group_columns must name at least one column.")
    features = (
        [c for c in data.columns if c not in groups and c != target]
        if feature_columns is None
        else list(feature_columns)
    )
    missing = [c for c in [*groups, target, *features] if c not in data.columns]
    if missing:
        raise ValueError(
            f"data has no column(s) {missing}; its columns are {list(data.columns)}."
        )
    frames = _group_frames(data, groups)
    seeds = check_random_state(random_state).randint(0, _MAX_SEED, size=len(frames))
    tasks = [
        delayed(_fit_group)(
            _with_seed(estimator, int(seed)),
            key,
            frame[features],
            frame[target],
        )
        for (key, frame), seed in zip(frames, seeds, strict=True)
    ]
    fitted = Parallel(n_jobs=n_jobs, verbose=verbose)(tasks)
    return {key: est for (key, _), est in zip(frames, fitted, strict=True)}
