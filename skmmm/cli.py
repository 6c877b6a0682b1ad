"""The ``skmmm`` command line.

``skmmm demo`` fits the three models on the bundled example data, backtests
them on held-out weeks, optimises next quarter's budget with the best one,
saves it and writes an HTML report. ``skmmm fit --data FILE.csv ...`` does
the same on a user's CSV, and ``skmmm report MODEL_FILE --out FILE.html``
writes the report of a saved model.

Progress (status lines and a bar while sampling) goes to stderr when it is a
terminal, unless ``--quiet``; results go to stdout. Bad usage or bad data exit
with status 2 and a one-line message naming the problem.

Each command first configures JAX as a fit does (``skmmm.configure`` with its
defaults; ``SKMMM_HOST_DEVICES`` and ``SKMMM_COMPILATION_CACHE`` apply).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["build_parser", "main"]

MODELS = ("adstock", "hill_adstock", "carryover")
MODEL_FILE = "model.skmmm"
REPORT_FILE = "report.html"
BACKTEST_FILE = "backtest.csv"
BUDGET_FILE = "budget.csv"
BOUNDS_PCT = 0.2
MIN_TRAINING_PERIODS = 26
EXIT_USAGE = 2
KPI_TYPES = ("revenue", "count")


@dataclass
class Problem:
    """A data set to model, in the estimators' terms."""

    X: pd.DataFrame
    y: pd.Series
    media: list[str]
    date_column: str | None = None
    geo_column: str | None = None
    costs: np.ndarray | None = None
    source: str = ""
    true_roi: pd.Series | None = field(default=None, repr=False)


# ---------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def _number_at_least(minimum: float, strict: bool, what: str):
    """An argparse type: a finite float above (or, not ``strict``, at) ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (
            np.isfinite(value)
            and (value > minimum or (not strict and value == minimum))
        ):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


_positive_float = _number_at_least(0.0, True, "a positive number")
_bound_fraction = _number_at_least(0.0, False, "a fraction >= 0, e.g. 0.3 for +-30%")
_amount = _number_at_least(0.0, False, "an amount >= 0 (currency over the horizon)")


def _optional_amount(text: str, option: str) -> float | None:
    if not text.strip():
        return None
    try:
        return _amount(text)
    except argparse.ArgumentTypeError as error:
        raise argparse.ArgumentTypeError(f"{option}: {error}") from None


def _channel_bounds(text: str) -> tuple[str, float | None, float | None]:
    """``CHANNEL=LOW:HIGH`` (either side may be empty) -> (channel, low, high)."""
    channel, equals, limits = text.rpartition("=")
    low, colon, high = limits.partition(":")
    if not (equals and colon and channel):
        raise argparse.ArgumentTypeError(
            f"expected CHANNEL=LOW:HIGH (e.g. tv=10000:50000, or tv=:50000), got "
            f"{text!r}"
        )
    return (
        channel,
        _optional_amount(low, "--bounds"),
        _optional_amount(high, "--bounds"),
    )


def _channel_lock(text: str) -> tuple[str, float | None]:
    """``CHANNEL`` or ``CHANNEL=SPEND`` -> (channel, spend or None)."""
    channel, equals, spend = text.rpartition("=")
    if not equals:
        return text, None
    if not channel:
        raise argparse.ArgumentTypeError(
            f"expected CHANNEL or CHANNEL=SPEND, got {text!r}"
        )
    return channel, _optional_amount(spend, "--lock")


def _add_budget_options(parser: argparse.ArgumentParser) -> None:
    """``--budget``, ``--bounds-pct``, ``--bounds`` and ``--lock``."""
    budget = parser.add_argument_group("budget optimisation")
    budget.add_argument(
        "--budget",
        type=_positive_float,
        default=None,
        help="total spend over the horizon, in currency (default: the spend of "
        "the last --horizon periods)",
    )
    budget.add_argument(
        "--bounds-pct",
        type=_bound_fraction,
        default=None,
        help="how far each channel may move from its historical spend, e.g. 0.3 "
        "for +-30%% (default 0.2, widened when the budget moved further)",
    )
    budget.add_argument(
        "--bounds",
        type=_channel_bounds,
        action="append",
        default=[],
        metavar="CHANNEL=LOW:HIGH",
        help="a channel's spend over the horizon between LOW and HIGH (currency; "
        "either may be empty, e.g. tv=:50000); repeat for more channels",
    )
    budget.add_argument(
        "--lock",
        type=_channel_lock,
        action="append",
        default=[],
        metavar="CHANNEL[=SPEND]",
        help="keep a channel at its current share of the budget, or at SPEND "
        "(currency over the horizon); repeat for more channels",
    )


def _add_report_options(parser: argparse.ArgumentParser) -> None:
    """``--kpi-type``, ``--currency`` and ``--kpi-name``: how the report words it."""
    parser.add_argument(
        "--kpi-type",
        choices=KPI_TYPES,
        default="revenue",
        help="revenue: report each channel's ROI; count (conversions, "
        "sign-ups): report its cost per KPI (default revenue)",
    )
    parser.add_argument(
        "--currency",
        default=None,
        help="how the report writes money: a symbol such as € (before the "
        "number) or a code such as EUR (after it); default plain numbers",
    )
    parser.add_argument(
        "--kpi-name",
        default="KPI",
        help="what the report calls the KPI, e.g. sales or sign-ups (default KPI)",
    )


def _run_options() -> argparse.ArgumentParser:
    """Options shared by ``demo`` and ``fit``."""
    options = argparse.ArgumentParser(add_help=False)
    sampling = options.add_argument_group("sampling and backtest")
    sampling.add_argument(
        "--draws",
        type=_positive_int,
        default=1000,
        help="posterior draws per chain (default 1000, as the estimators)",
    )
    sampling.add_argument(
        "--warmup",
        type=_positive_int,
        default=1000,
        help="warm-up iterations per chain (default 1000, as the estimators)",
    )
    sampling.add_argument(
        "--chains", type=_positive_int, default=2, help="number of chains (default 2)"
    )
    options.add_argument(
        "--overwrite",
        action="store_true",
        help="replace outputs that already exist (default: refuse)",
    )
    sampling.add_argument(
        "--folds",
        type=_non_negative_int,
        default=1,
        help="backtest folds at the end of the data (default 1; 0: no backtest)",
    )
    sampling.add_argument(
        "--holdout",
        type=_positive_int,
        default=13,
        help="periods per backtest fold (default 13)",
    )
    sampling.add_argument(
        "--horizon",
        type=_positive_int,
        default=13,
        help="periods of the budget optimisation (default 13, next quarter)",
    )
    sampling.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sampling.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _add_report_options(options)
    _add_budget_options(options)
    return options


def build_parser() -> argparse.ArgumentParser:
    """The ``skmmm`` command line's argument parser (its commands and options)."""
    parser = argparse.ArgumentParser(
        prog="skmmm",
        description="Bayesian media mix modeling (scikit-learn + NumPyro).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_options = _run_options()

    demo = commands.add_parser(
        "demo",
        parents=[run_options],
        help="fit, compare and optimise the three models on the bundled example data",
    )
    demo.add_argument(
        "--out",
        default="skmmm-demo",
        help="folder for the model, report and tables (default ./skmmm-demo)",
    )

    fit = commands.add_parser(
        "fit",
        parents=[run_options],
        help="fit, compare and optimise models on a CSV file",
    )
    fit.add_argument("--data", required=True, help="CSV file, one row per period")
    fit.add_argument(
        "--sep",
        default=None,
        help="column separator (default: detected among , ; tab |)",
    )
    fit.add_argument(
        "--decimal", default=".", help="decimal mark, e.g. ',' (default '.')"
    )
    fit.add_argument(
        "--thousands",
        default=None,
        help="thousands separator, e.g. ',' for 12,922.39 (default: none)",
    )
    fit.add_argument("--date-column", required=True, help="column of the dates")
    fit.add_argument(
        "--date-format",
        default=None,
        help="format of the dates, e.g. %%d/%%m/%%Y for 31/12/2024 (default: ISO "
        "dates, or day/month dates whose order some value above 12 decides)",
    )
    fit.add_argument("--target", required=True, help="column of the KPI")
    fit.add_argument(
        "--media", required=True, nargs="+", help="media columns (spend or units)"
    )
    fit.add_argument("--controls", nargs="+", default=[], help="control columns")
    fit.add_argument(
        "--costs",
        nargs="+",
        type=float,
        default=None,
        help="total cost of each media channel, in the order of --media "
        "(default: media are spend)",
    )
    fit.add_argument(
        "--geo-column", default=None, help="column of the geo (long panel data)"
    )
    fit.add_argument(
        "--model",
        choices=[*MODELS, "best"],
        default="best",
        help="model to fit; 'best' backtests the three and keeps the best (default)",
    )
    fit.add_argument("--out", required=True, help="folder for the results")

    report = commands.add_parser("report", help="write the report of a saved model")
    report.add_argument("model_file", help="a model file written by skmmm")
    report.add_argument("--out", required=True, help="the HTML file to write")
    _add_report_options(report)
    report.add_argument(
        "--horizon",
        type=_positive_int,
        default=13,
        help="periods of the budget recommendation (default 13, next quarter)",
    )
    _add_budget_options(report)
    report.add_argument(
        "--title", default="Media mix model report", help="title of the report"
    )
    report.add_argument(
        "--overwrite",
        action="store_true",
        help="replace FILE if it already exists (default: refuse)",
    )
    return parser


# ------------------------------------------------------------------ data


def _example_problem() -> Problem:
    from skmmm import load_example

    data = load_example()
    return Problem(
        X=data.X,
        y=data.y,
        media=list(data.media_columns),
        source="the bundled example data",
        true_roi=data.true_roi,
    )


_SEPARATORS = (",", ";", "\t", "|")
# "12,922.39" and "12.922,39": numbers with thousands separators.
_THOUSANDS = {
    ",": re.compile(r"^\s*-?\d{1,3}(,\d{3})+(\.\d*)?\s*$"),
    ".": re.compile(r"^\s*-?\d{1,3}(\.\d{3})+(,\d*)?\s*$"),
    " ": re.compile(r"^\s*-?\d{1,3}( \d{3})+([.,]\d*)?\s*$"),
}
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


def _sniff_separator(path: str) -> str:
    """The CSV's delimiter, from its first lines (a comma when unsure)."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as stream:
        sample = stream.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(_SEPARATORS)).delimiter
    except csv.Error:
        return ","


def _read_csv(args: argparse.Namespace) -> pd.DataFrame:
    """The user's CSV, read with the options given, or named problems."""
    separator = args.sep or _sniff_separator(args.data)
    frame = pd.read_csv(
        args.data,
        sep=separator,
        decimal=args.decimal,
        thousands=args.thousands,
        encoding="utf-8-sig",
    )
    if frame.empty:
        raise ValueError(f"{args.data} has no data rows.")
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        glued = [s for s in _SEPARATORS if s != separator and s in header]
        if glued:
            raise ValueError(
                f"{args.data} was read as one column {header!r}: its columns "
                f"look separated by {glued[0]!r}, not {separator!r}. Pass "
                f"--sep {glued[0]!r}."
            )
    return frame


def _spreadsheet_line(frame: pd.DataFrame, label) -> int:
    """The line of row ``label`` as a spreadsheet shows it (the header is line 1)."""
    return int(frame.index.get_loc(label)) + 2


def _check_numbers(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    """Text columns that hold numbers with separators: say which option reads them."""
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values.dtype):
            continue
        text = values.dropna().astype(str)
        for separator, pattern in _THOUSANDS.items():
            matches = text[text.str.match(pattern)]
            if len(matches):
                line = _spreadsheet_line(frame, matches.index[0])
                decimal = "," if separator == "." else "."
                options = f"--thousands {separator!r}" + (
                    f" --decimal {decimal!r}" if decimal != "." else ""
                )
                raise ValueError(
                    f"column {column!r} of {source} holds numbers with thousands "
                    f"separators, e.g. {matches.iloc[0]!r} on line {line}; read "
                    f"them with {options}."
                )
        matches = text[text.str.match(_DECIMAL_COMMA)]
        if len(matches):
            line = _spreadsheet_line(frame, matches.index[0])
            raise ValueError(
                f"column {column!r} of {source} holds numbers with a decimal "
                f"comma, e.g. {matches.iloc[0]!r} on line {line}; read them "
                "with --decimal ','."
            )


def _csv_problem(args: argparse.Namespace) -> Problem:
    frame = _read_csv(args)
    roles = [
        ("--date-column", [args.date_column]),
        ("--target", [args.target]),
        ("--media", args.media),
        ("--controls", args.controls),
        ("--geo-column", [args.geo_column] if args.geo_column else []),
    ]
    used: list[str] = []
    for option, columns in roles:
        for column in columns:
            if column not in frame.columns:
                raise ValueError(
                    f"column {column!r} (given by {option}) is not in {args.data}; "
                    f"its columns are {', '.join(map(repr, frame.columns))}."
                )
            if column in used:
                raise ValueError(f"column {column!r} is given twice.")
            used.append(column)
    if args.costs is not None and len(args.costs) != len(args.media):
        raise ValueError(
            f"--costs has {len(args.costs)} values but --media names "
            f"{len(args.media)} channels; give one total cost per channel."
        )
    _check_numbers(frame, [args.target, *args.media, *args.controls], str(args.data))
    ignored = [c for c in frame.columns if c not in used]
    if ignored:
        # A warning, printed with the others once the command has run.
        warnings.warn(
            f"ignoring column(s) {', '.join(map(repr, ignored))} of "
            f"{args.data}: name them with --controls to use them.",
            UserWarning,
            stacklevel=2,
        )
    frame = _sorted_by_date(frame, args.date_column, args.geo_column, args.date_format)
    features = [args.date_column]
    if args.geo_column:
        features.append(args.geo_column)
    return Problem(
        X=frame[features + args.media + args.controls],
        y=frame[args.target],
        media=list(args.media),
        date_column=args.date_column,
        geo_column=args.geo_column,
        costs=None if args.costs is None else np.asarray(args.costs, dtype=float),
        source=str(args.data),
    )


def _sorted_by_date(
    frame: pd.DataFrame, date_column: str, geo_column, date_format: str | None
) -> pd.DataFrame:
    """Rows in date (then geo) order, the dates read as the estimators read them.

    Day-first and month-first dates are told apart by their values (or
    ``--date-format``); an ambiguous order is an error, never a guess.
    """
    from skmmm._validation import parse_date_column

    dates = parse_date_column(
        frame[date_column], f"date column {date_column!r}", date_format
    )
    keys = [date_column] + ([geo_column] if geo_column else [])
    frame = frame.assign(**{date_column: np.asarray(dates)})
    if frame[date_column].is_monotonic_increasing:
        return frame
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _dates(problem: Problem) -> pd.Index:
    if problem.date_column is not None:
        return pd.Index(pd.to_datetime(problem.X[problem.date_column]))
    return problem.X.index


def _check_room_for_folds(problem: Problem, n_folds: int, holdout: int) -> None:
    """Enough periods before the backtest folds (checked before any fit)."""
    if problem.date_column is not None:
        n_dates = problem.X[problem.date_column].nunique()
    else:
        n_dates = problem.X.index.nunique()
    n_train = n_dates - n_folds * holdout
    if n_train < MIN_TRAINING_PERIODS:
        raise ValueError(
            f"--folds {n_folds} x --holdout {holdout} leaves {n_train} of "
            f"{n_dates} periods to train on; at least {MIN_TRAINING_PERIODS} are "
            "needed. Use fewer or shorter folds."
        )


def _holdout_folds(
    problem: Problem, n_folds: int, holdout: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds of ``holdout`` periods at the end of the data, all geos of a date together."""
    codes, unique_dates = pd.factorize(_dates(problem), sort=True)
    n_train = len(unique_dates) - n_folds * holdout
    folds = []
    for fold in range(n_folds):
        end = n_train + fold * holdout
        folds.append(
            (
                np.flatnonzero(codes < end),
                np.flatnonzero((codes >= end) & (codes < end + holdout)),
            )
        )
    return folds


# ------------------------------------------------------------ workflow


class _Progress:
    """Status lines on stderr, only when a person is watching."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, message: str) -> None:
        if self.enabled:
            print(message, file=sys.stderr, flush=True)


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.quiet and bool(getattr(sys.stderr, "isatty", lambda: False)())


def _estimators(problem: Problem, models: Sequence[str], args) -> dict:
    from skmmm import BayesianMMMRegressor

    return {
        name: BayesianMMMRegressor(
            name,
            media_columns=problem.media,
            media_prior=problem.costs,
            date_column=problem.date_column,
            geo_column=problem.geo_column,
            number_warmup=args.warmup,
            number_samples=args.draws,
            number_chains=args.chains,
            random_state=args.seed,
            progress_bar=_show_progress(args),
        )
        for name in models
    }


def _model_budget(model, horizon: int):
    """Prices, and the recent budget and its ratio, from a model's training data."""
    media = np.asarray(model.training_data_.media, dtype=float)
    media = media.reshape(media.shape[0], media.shape[1], -1)
    totals = media.sum(axis=(0, 2))
    costs = np.asarray(model.media_prior_, dtype=float)
    ratios = np.divide(costs, totals, out=np.ones_like(totals), where=totals > 0)
    # Media given as spend cost exactly their sums.
    prices = None if np.allclose(ratios, 1.0, rtol=1e-9) else ratios
    spend = media.sum(axis=2) * (1.0 if prices is None else prices)
    per_period = spend.sum(axis=1)
    recent = per_period[-horizon:].mean()
    return (
        None if prices is None else pd.Series(prices, index=model.media_names_),
        float(horizon * recent),
        float(recent / per_period.mean()),
    )


def _optimize_budget(best, args: argparse.Namespace, prices, budget, ratio):
    """The budget split of ``best`` over ``args.horizon`` periods.

    ``budget`` is the recent spend over the horizon and ``ratio`` its ratio
    to the historical average; ``--budget``, ``--bounds-pct``, ``--bounds``
    and ``--lock`` override and constrain.
    """
    from skmmm import BudgetOptimizer

    horizon = args.horizon
    if args.budget is not None:
        ratio *= args.budget / budget
        budget = args.budget
    if args.bounds_pct is not None:
        lower_pct, upper_pct = min(1.0, args.bounds_pct), args.bounds_pct
    else:
        # Bounds of +-20% around historical spend, widened when the budget
        # has moved further than that from the average (else no split is
        # feasible).
        lower_pct = min(1.0, max(BOUNDS_PCT, 1.0 - ratio + 0.05))
        upper_pct = max(BOUNDS_PCT, ratio - 1.0 + 0.05)
    optimizer = BudgetOptimizer(
        best, bounds_lower_pct=lower_pct, bounds_upper_pct=upper_pct
    )
    return optimizer.optimize(
        budget,
        horizon,
        prices=prices,
        # "Spend now": the split of the last periods, as the default budget.
        starting_allocation="recent",
        fixed_channels=_locks(args.lock),
        bounds_lower={c: low for c, low, _ in args.bounds if low is not None} or None,
        bounds_upper={c: up for c, _, up in args.bounds if up is not None} or None,
    )


def _check_budget_options(
    channels: Sequence[str], args: argparse.Namespace, what: str = "media columns"
) -> None:
    """Channel names in ``--bounds`` and ``--lock`` are ``channels`` (checked
    before fitting or optimising)."""
    for option, named in (
        ("--bounds", [channel for channel, _, _ in args.bounds]),
        ("--lock", [channel for channel, _ in args.lock]),
    ):
        unknown = [channel for channel in named if channel not in channels]
        if unknown:
            raise ValueError(
                f"{option} names {unknown}, which are not {what}; the {what} "
                f"are {list(channels)}."
            )
    _locks(args.lock)


def _locks(locks: Sequence[tuple[str, float | None]]):
    """``--lock`` values as the optimiser's ``fixed_channels`` (list or dict)."""
    if not locks:
        return None
    spends = {channel: spend for channel, spend in locks}
    if all(spend is None for spend in spends.values()):
        return list(spends)
    if any(spend is None for spend in spends.values()):
        raise ValueError(
            "--lock: give every locked channel a spend (CHANNEL=SPEND) or none "
            "(CHANNEL keeps its current share of the budget); got "
            + ", ".join(c if v is None else f"{c}={v:g}" for c, v in spends.items())
            + "."
        )
    return spends


def _mean_backtest(backtest: pd.DataFrame) -> pd.DataFrame:
    metrics = ["r2", "mape", "crps", "coverage"]
    return backtest.groupby("model", sort=False)[metrics].mean()


def _summary_table(fitted: dict, backtest: pd.DataFrame | None, best: str):
    rows = {}
    means = _mean_backtest(backtest) if backtest is not None else None
    for name, est in fitted.items():
        rhat = np.concatenate([np.ravel(v) for v in est.rhat_.values()])
        row = {}
        if means is not None:
            row.update(
                {
                    "oos R2": means.loc[name, "r2"],
                    "oos MAPE %": 100 * means.loc[name, "mape"],
                    "CRPS": means.loc[name, "crps"],
                    "90% coverage": means.loc[name, "coverage"],
                }
            )
        row.update(
            {
                "max r_hat": np.nanmax(rhat) if np.isfinite(rhat).any() else np.nan,
                "divergences": est.divergences_,
                "best": "*" if name == best else "",
            }
        )
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _refuse_to_overwrite(outputs: Sequence[Path], overwrite: bool) -> None:
    """A ValueError naming the outputs that exist, unless ``--overwrite``."""
    existing = [str(path) for path in outputs if path.exists()]
    if existing and not overwrite:
        raise ValueError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written. Choose another --out, or pass --overwrite to "
            "replace them."
        )


def _run(problem: Problem, models: Sequence[str], args: argparse.Namespace) -> int:
    from skmmm import compare_models, save_model
    from skmmm.report import make_report

    if len(models) > 1 and args.folds == 0:
        raise ValueError("choosing the best model needs a backtest: use --folds >= 1.")
    out = Path(args.out)
    outputs = [out / name for name in (REPORT_FILE, BUDGET_FILE, MODEL_FILE)]
    if args.folds:
        outputs.append(out / BACKTEST_FILE)
    _refuse_to_overwrite(outputs, args.overwrite)
    out.mkdir(parents=True, exist_ok=True)
    progress = _Progress(_show_progress(args))
    if args.folds:
        _check_room_for_folds(problem, args.folds, args.holdout)
    _check_budget_options(problem.media, args)
    estimators = _estimators(problem, models, args)

    fitted = {}
    for name, est in estimators.items():
        progress(f"fitting {name} on {problem.source} ...")
        fitted[name] = est.fit(problem.X, problem.y)

    backtest = None
    if args.folds:
        progress(f"backtesting on {args.folds} fold(s) of {args.holdout} periods ...")
        backtest = compare_models(
            estimators,
            problem.X,
            problem.y,
            cv=_holdout_folds(problem, args.folds, args.holdout),
            random_state=args.seed,
        )
        backtest.to_csv(out / BACKTEST_FILE, index=False)
    best = _mean_backtest(backtest)["mape"].idxmin() if len(models) > 1 else models[0]
    ordered = {best: fitted[best], **{k: v for k, v in fitted.items() if k != best}}

    progress(f"optimising the next {args.horizon} periods' budget with {best} ...")
    best_model = fitted[best]
    result = _optimize_budget(
        best_model, args, *_model_budget(best_model, args.horizon)
    )
    pd.DataFrame(
        {"starting": result.starting_allocation, "optimal": result.optimal_allocation}
    ).rename_axis("channel").to_csv(out / BUDGET_FILE)

    save_model(fitted[best], out / MODEL_FILE)
    progress("writing the report ...")
    report = make_report(
        ordered,
        out / REPORT_FILE,
        optimizer_result=result,
        backtest=backtest,
        kpi_type=args.kpi_type,
        currency=args.currency,
        kpi_name=args.kpi_name,
    )
    _print_results(problem, ordered, backtest, best, result, out, report, args)
    return 0


def _print_results(problem, fitted, backtest, best, result, out, report, args):
    from skmmm import attribution

    table = _summary_table(fitted, backtest, best)
    print(f"Models fitted on {problem.source} ({len(problem.y)} rows):")
    print(table.round(3).to_string())
    per_cost = "cpa_median" if args.kpi_type == "count" else "roi_mean"
    channels = attribution.summary(fitted[best])[["share_mean", per_cost]]
    if problem.true_roi is not None:
        channels["true_roi"] = problem.true_roi.reindex(channels.index)
    channels["spend_now"] = result.starting_allocation
    channels["spend_optimal"] = result.optimal_allocation
    print(f"\nBest model: {best}. Next {result.n_time_periods} periods:")
    print(channels.round(3).to_string())
    print(
        f"Budget {result.budget:,.0f}: predicted KPI {result.kpi_starting:,.0f} "
        f"with the current split, {result.kpi_optimal:,.0f} with the optimal "
        f"one ({result.kpi_uplift:+.1%})."
    )
    print(f"\nModel: {out / MODEL_FILE}")
    print(f"Report: {report}")


def _demo(args: argparse.Namespace) -> int:
    return _run(_example_problem(), MODELS, args)


def _fit(args: argparse.Namespace) -> int:
    models = MODELS if args.model == "best" else (args.model,)
    return _run(_csv_problem(args), models, args)


def _report(args: argparse.Namespace) -> int:
    from skmmm import load_model
    from skmmm.report import make_report

    out = Path(args.out)
    _refuse_to_overwrite([out], args.overwrite)
    model = load_model(args.model_file)
    _check_budget_options(model.media_names_, args, "channels of the model")
    # Every section the model has the data for: the budget of the next
    # periods at the recent spend, as `skmmm fit` recommends it.
    result = _optimize_budget(model, args, *_model_budget(model, args.horizon))
    out.parent.mkdir(parents=True, exist_ok=True)
    path = make_report(
        {model.spec_.model_name: model},
        out,
        title=args.title,
        optimizer_result=result,
        kpi_type=args.kpi_type,
        currency=args.currency,
        kpi_name=args.kpi_name,
    )
    print(f"Report: {path}")
    return 0


COMMANDS = {"demo": _demo, "fit": _fit, "report": _report}


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status.

    Parameters
    ----------
    argv : sequence of str, default=None
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 on bad usage or bad data.
    """
    from skmmm.config import ensure_configured

    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # One CPU device per core and the compilation cache, as a fit
            # would ask for, before any JAX work (skmmm.configure).
            ensure_configured()
            status = COMMANDS[args.command](args)
    except (ValueError, OSError) as error:
        print(f"skmmm: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "quiet", False):
        for message in dict.fromkeys(_one_line(w.message) for w in caught):
            print(f"skmmm: warning: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
