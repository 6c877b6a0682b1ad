"""Self-contained HTML report of fitted media mix models.

:func:`make_report` writes one HTML file that needs nothing else to be read:
the figures are embedded as base64 PNG ``data:`` URIs, the CSS is inline,
there is no JavaScript and a Content-Security-Policy forbids loading anything
from elsewhere. The page is rendered from the Jinja2 templates in
``skmmm/templates`` with autoescaping on, so user text (channel, control and
model names) always shows as text and never runs; only the image URIs and the
numbers this module formats itself reach the page, and they are escaped too.

Sections: data summary, convergence diagnostics with a plain-language
verdict, model fit, contribution and ROI tables with credible intervals,
response curves, the model comparison (when several models are given) and
the budget recommendation (when an optimisation result is given).
"""

from __future__ import annotations

import base64
import io
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from skmmm import attribution, plot
from skmmm.diagnostics import ConvergenceVerdict, convergence_verdict
from skmmm.optimize import OptimizationResult

__all__ = [
    "ConvergenceVerdict",
    "convergence_verdict",
    "make_report",
    "render_report",
]

FRACTION_COLUMNS = frozenset({"mape", "coverage"})
"""Backtest columns that compare_models reports as fractions."""

FIGURE_DPI = 100
MISSING = "–"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _n_chains(estimator) -> int:
    return int(getattr(estimator, "number_chains", 1) or 1)


# ------------------------------------------------------------- formatting


def _number(value: Any, digits: int = 3) -> str:
    """A number for a table: thousands separators above 1000, else ``digits`` significant."""
    if value is None:
        return MISSING
    value = float(value)
    if not math.isfinite(value):
        return MISSING
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def _rhat(value: Any) -> str:
    """r_hat with the three decimals its 1.05 threshold needs."""
    if value is None or not math.isfinite(float(value)):
        return MISSING
    return f"{float(value):.3f}"


def _percent(value: Any) -> str:
    if value is None or not math.isfinite(float(value)):
        return MISSING
    return f"{float(value):.1%}"


def _interval_text(lower: Any, upper: Any, formatter: Callable = _number) -> str:
    return f"{formatter(lower)} – {formatter(upper)}"


@dataclass
class _Table:
    """A table for the template: header, rows of preformatted cells.

    ``numeric`` marks the columns to right-align.
    """

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    caption: str = ""


def _table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    caption: str = "",
    text_columns: Sequence[int] = (),
) -> _Table:
    """Build a :class:`_Table`: the first column and ``text_columns`` hold text."""
    text = {0, *text_columns}
    return _Table(
        columns=[str(c) for c in columns],
        rows=[[str(cell) for cell in row] for row in rows],
        numeric=[position not in text for position in range(len(columns))],
        caption=caption,
    )


# ----------------------------------------------------------------- figures


@dataclass
class _EmbeddedFigure:
    """An embedded figure: title and its PNG as a ``data:`` URI."""

    title: str
    uri: str


def _figure(title: str, make: Callable[[], Any]) -> _EmbeddedFigure:
    """Render the matplotlib Figure ``make()`` returns to a PNG data URI and close it."""
    fig = make()
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    finally:
        plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return _EmbeddedFigure(title, f"data:image/png;base64,{encoded}")


# ---------------------------------------------------------------- inputs


def _as_named_estimators(estimators) -> dict[str, Any]:
    """Models by display name, in the order given."""
    if isinstance(estimators, Mapping):
        named = {str(name): est for name, est in estimators.items()}
    elif isinstance(estimators, Sequence) and not isinstance(estimators, str):
        named = {}
        for est in estimators:
            base = type(est).__name__
            name, copy = base, 2
            while name in named:
                name, copy = f"{base} ({copy})", copy + 1
            named[name] = est
    else:
        named = {type(estimators).__name__: estimators}
    if not named:
        raise ValueError("estimators is empty: give at least one fitted model.")
    for name, est in named.items():
        if not hasattr(est, "media_names_") or not hasattr(est, "posterior_"):
            raise ValueError(
                f"Model {name!r} is not a fitted skmmm regressor; call fit first."
            )
    return named


def _check_optimizer_result(result, estimator) -> None:
    if result is None:
        return
    if not isinstance(result, OptimizationResult):
        raise ValueError(
            "optimizer_result must be the OptimizationResult that "
            f"BudgetOptimizer.optimize returns, got {type(result).__name__}."
        )
    channels = list(result.optimal_allocation.index)
    if channels != list(estimator.media_names_):
        raise ValueError(
            f"optimizer_result's channels {channels} are not the report's first "
            f"model's channels {list(estimator.media_names_)}; optimise that model."
        )


def _check_backtest(backtest) -> None:
    if backtest is None:
        return
    if not isinstance(backtest, pd.DataFrame):
        raise ValueError(
            "backtest must be the DataFrame compare_models returns, got "
            f"{type(backtest).__name__}."
        )
    if "model" not in backtest.columns:
        raise ValueError(
            "backtest lacks the column 'model' (one row per model and fold); "
            f"its columns are {list(backtest.columns)}."
        )


# -------------------------------------------------------------- sections


def _national_target(est) -> np.ndarray:
    """KPI per training period, summed over geos for a geo fit."""
    target = est.training_data_.target
    return target.reshape(len(target), -1).sum(axis=1)


def _media_totals(est) -> np.ndarray:
    """Media per channel summed over the training periods (and geos)."""
    media = est.training_data_.media
    return media.reshape(media.shape[0], media.shape[1], -1).sum(axis=(0, 2))


def _data_summary(est) -> dict[str, Any]:
    data = est.training_data_
    index = data.index
    facts = [("Periods", str(len(index)))]
    geo_names = list(getattr(data, "geo_names", []) or [])
    if geo_names:
        facts.append((f"Geos ({len(geo_names)})", ", ".join(map(str, geo_names))))
    if isinstance(index, pd.DatetimeIndex):
        facts += [
            ("First period", f"{index[0]:%Y-%m-%d}"),
            ("Last period", f"{index[-1]:%Y-%m-%d}"),
        ]
        if data.frequency is not None:
            facts.append(("Frequency", data.frequency.freqstr))
    national = _national_target(est)
    facts += [
        ("Media channels", ", ".join(data.media_names)),
        ("Controls", ", ".join(data.extra_names) or "none"),
        ("KPI total", _number(national.sum())),
        ("KPI mean per period", _number(national.mean())),
    ]
    media_totals = _media_totals(est)
    grand_total = media_totals.sum()
    channels = _table(
        ["Channel", "Total media", "Share of media", "Cost (media_prior_)"],
        [
            [
                name,
                _number(total),
                _percent(total / grand_total if grand_total > 0 else math.nan),
                _number(cost),
            ]
            for name, total, cost in zip(
                data.media_names, media_totals, est.media_prior_, strict=True
            )
        ],
        caption="Media per channel over the training periods"
        + (" and geos" if geo_names else "")
        + "; the cost is the ROI denominator (media_prior).",
    )
    return {"facts": facts, "channels": channels}


def _diagnostics(est, verdict: ConvergenceVerdict) -> dict[str, Any]:
    summary = est.summary()
    lower, upper = summary.columns[2], summary.columns[4]
    parameters = _table(
        ["Parameter", "Mean", "SD", lower, "Median", upper, "Bulk ESS", "r_hat"],
        [
            [name]
            + [_number(row[column]) for column in summary.columns[:-1]]
            + [_rhat(row["r_hat"])]
            for name, row in summary.iterrows()
        ],
    )
    n_draws = next(iter(est.posterior_.values())).shape[0]
    info = getattr(est, "sampling_info_", {}) or {}
    sampling = (
        f"{_plural(_n_chains(est), 'chain')}, {n_draws} posterior draws in all"
        + (
            f", after {est.number_warmup} warm-up iterations per chain"
            if hasattr(est, "number_warmup")
            else ""
        )
    )
    if "sampling_seconds" in info:
        sampling += f"; sampled in {info['sampling_seconds']:.1f} s"
        if info.get("device"):
            sampling += f" on {info['device']}"
    return {"verdict": verdict, "parameters": parameters, "sampling": sampling}


def _fit_metrics(est) -> dict[str, float]:
    """In-sample R^2 and MAPE of the posterior-mean prediction (national totals)."""
    fitted = attribution.contributions(est).sum(axis=1).to_numpy()
    target = _national_target(est)
    residual = target - fitted
    total = np.sum((target - target.mean()) ** 2)
    r2 = 1.0 - np.sum(residual**2) / total if total > 0 else math.nan
    nonzero = target != 0
    mape = (
        float(np.mean(np.abs(residual[nonzero] / target[nonzero])))
        if nonzero.any()
        else math.nan
    )
    return {"r2": float(r2), "mape": mape}


PRIOR_DOMINATED_RATIO = 0.5
"""ROI interval at least this share of the prior's: the data said little."""


def prior_dominated_channels(table: pd.DataFrame) -> list[str]:
    """Channels whose ROI interval the data narrowed by less than half.

    ``table`` is :func:`skmmm.attribution.summary`'s, indexed by channel.
    """
    ratio = table["roi_prior_width_ratio"]
    return [str(c) for c, value in ratio.items() if value >= PRIOR_DOMINATED_RATIO]


def _prior_text(ratio: float) -> str:
    if not np.isfinite(ratio):
        return MISSING
    if ratio >= PRIOR_DOMINATED_RATIO:
        return f"mostly prior ({ratio:.0%} of its width)"
    return f"narrowed to {ratio:.0%} of the prior"


KPI_TYPES = ("revenue", "count")


def _cost_per_kpi_text(value: float) -> str:
    """A cost per KPI for the table: "no upper limit" when a draw bought nothing."""
    return _number(value) if math.isfinite(value) else "no upper limit"


def _cost_per_kpi_table(table: pd.DataFrame, width: str, weak_text: str) -> _Table:
    """The attribution table of a KPI that counts: cost per KPI instead of ROI."""
    return _table(
        [
            "Channel",
            "Contribution share",
            f"Share {width} interval",
            "Cost per KPI",
            f"Cost per KPI {width} interval",
            "Cost of one more KPI",
            "ROI: data or prior",
        ],
        [
            [
                channel,
                _percent(row["share_mean"]),
                _interval_text(row["share_lower"], row["share_upper"], _percent),
                _number(row["cpa_median"])
                if math.isfinite(row["cpa_median"])
                else "not identified",
                f"{_number(row['cpa_lower'])} – {_cost_per_kpi_text(row['cpa_upper'])}",
                _cost_per_kpi_text(row["mcpa_mean"]),
                _prior_text(row["roi_prior_width_ratio"]),
            ]
            for channel, row in table.iterrows()
        ],
        caption="Cost per KPI: each channel's cost over the KPI it brought in "
        "the training period (posterior median, central credible interval); "
        "'no upper limit' where some plausible scenarios give the channel no "
        "effect, so its cost may buy nothing. Cost of one more KPI: the extra "
        "spend one more unit of KPI takes at the historical spend. Data or "
        "prior: the width of the ROI's interval after seeing the data, as a "
        "share of its width before." + weak_text,
    )


def _attribution_table(est, interval: float, kpi_type: str = "revenue") -> _Table:
    table = attribution.summary(est, interval)
    width = f"{interval:.0%}"
    weak = prior_dominated_channels(table)
    weak_text = (
        f" The data say little about {_join_words(weak)}: "
        f"{'its' if len(weak) == 1 else 'their'} ROI interval is at least half "
        "as wide as the prior's, so the estimate mostly repeats the prior. An "
        f"experiment on {'it' if len(weak) == 1 else 'them'} (a geo lift test or a "
        "holdout) would help."
        if weak
        else ""
    )
    if kpi_type == "count":
        return _cost_per_kpi_table(table, width, weak_text)
    return _table(
        [
            "Channel",
            "Contribution share",
            f"Share {width} interval",
            "ROI",
            f"ROI {width} interval",
            "Marginal ROI",
            f"Marginal ROI {width} interval",
            "ROI: data or prior",
        ],
        [
            [
                channel,
                _percent(row["share_mean"]),
                _interval_text(row["share_lower"], row["share_upper"], _percent),
                _number(row["roi_mean"]),
                _interval_text(row["roi_lower"], row["roi_upper"]),
                _number(row["mroi_mean"]),
                _interval_text(row["mroi_lower"], row["mroi_upper"]),
                _prior_text(row["roi_prior_width_ratio"]),
            ]
            for channel, row in table.iterrows()
        ],
        caption="Posterior means with central credible intervals. ROI: KPI per "
        "unit of cost over the training period; marginal ROI: extra KPI per extra "
        "unit of cost at the historical spend. Data or prior: the width of the "
        "ROI's interval after seeing the data, as a share of its width before."
        + weak_text,
    )


def _date_text(value: Any) -> str:
    if isinstance(value, pd.Timestamp):
        return str(value.date())
    return str(value)


def _lift_test_table(est, interval: float) -> _Table | None:
    """The experiments the fit was calibrated with, measured and modelled."""
    if getattr(est, "lift_tests", None) is None:
        return None
    table = attribution.lift_test_fit(est, interval=interval)
    width = f"{interval:.0%}"
    geo = "geo" in table.columns
    return _table(
        ["Test", "Channel"]
        + (["Geo"] if geo else [])
        + [
            "Spend change",
            "Measured",
            "Measured lift",
            "Lift sd",
            "Model lift",
            f"Model {width} interval",
            "z",
        ],
        [
            [str(label), row["channel"]]
            + (["national" if pd.isna(row["geo"]) else row["geo"]] if geo else [])
            + [
                f"{_date_text(row['start'])} – {_date_text(row['end'])}: "
                f"{_number(row['delta_spend'])} per period",
                f"to {_date_text(row['measure_end'])}",
                _number(row["lift"]),
                _number(row["lift_sd"]),
                _number(row["model_lift_mean"]),
                _interval_text(row["model_lift_lower"], row["model_lift_upper"]),
                _number(row["z"], 2),
            ]
            for label, row in table.iterrows()
        ],
        caption="Each experiment adds its measured lift, with its standard error, "
        "to the model's likelihood. Model lift: the posterior mean KPI the test's "
        "spend change adds over its measurement window. z: (model - measured) / "
        "the combined standard deviation; beyond about ±2 the model and the test "
        "disagree (check the test's dates, spend change and standard error).",
        text_columns=range(1, 4 + int(geo)),
    )


def _join_words(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _comparison_table(
    named: Mapping[str, Any],
    checks: Mapping[str, tuple[ConvergenceVerdict, dict[str, float]]],
) -> _Table:
    rows = []
    for name, est in named.items():
        verdict, metrics = checks[name]
        rows.append(
            [
                name,
                est.spec_.model_name,
                _number(metrics["r2"]),
                _percent(metrics["mape"]),
                _rhat(verdict.max_rhat),
                str(verdict.divergences),
                _number(verdict.min_ess),
                verdict.status,
            ]
        )
    return _table(
        [
            "Model",
            "Transform",
            "R² (in sample)",
            "MAPE (in sample)",
            "Max r_hat",
            "Divergences",
            "Min bulk ESS",
            "Convergence",
        ],
        rows,
        text_columns=(1, 7),
    )


def _backtest_cell(column: Any, value: float) -> str:
    """compare_models' fractions as percentages, r_hat with 3 decimals."""
    if column in FRACTION_COLUMNS:
        return _percent(value)
    if "rhat" in str(column):
        return _rhat(value)
    return _number(value)


def _backtest_table(backtest: pd.DataFrame) -> _Table:
    """Every numeric column of the backtest, averaged over folds per model."""
    numeric = [
        column
        for column in backtest.columns
        if column not in ("model", "fold")
        and pd.api.types.is_numeric_dtype(backtest[column])
        and not pd.api.types.is_bool_dtype(backtest[column])
    ]
    grouped = backtest.groupby("model", sort=False)
    means = grouped[numeric].mean()
    n_folds = (
        grouped["fold"].nunique() if "fold" in backtest.columns else grouped.size()
    )
    return _table(
        ["Model", "Folds"] + [str(column) for column in numeric],
        [
            [str(model), str(int(n_folds[model]))]
            + [_backtest_cell(column, means.loc[model, column]) for column in numeric]
            for model in means.index
        ],
        caption="Out-of-sample metrics, mean over the backtest folds.",
    )


_BINDING_WORDS = {
    "lower": "its lower bound",
    "upper": "its upper bound",
    "fixed": "fixed spend",
}


def _binding_label(result: OptimizationResult, channel: str) -> str:
    binding = result.binding_bounds
    return "" if binding is None else str(binding.get(channel, ""))


def _budget(result: OptimizationResult, interval_width: str) -> dict[str, Any]:
    start, optimal = result.starting_allocation, result.optimal_allocation
    allocation = _table(
        [
            "Channel",
            "Current split",
            "Recommended",
            "Change",
            "Lower bound",
            "Upper bound",
            "Limited by",
        ],
        [
            [
                channel,
                _number(start[channel]),
                _number(optimal[channel]),
                _percent(
                    optimal[channel] / start[channel] - 1
                    if start[channel] > 0
                    else math.nan
                ),
                _number(result.bounds_lower[channel]),
                _number(result.bounds_upper[channel]),
                _BINDING_WORDS.get(_binding_label(result, channel), ""),
            ]
            for channel in optimal.index
        ],
        caption="Spend per channel over the whole horizon. The current split "
        "is the plan the recommendation is compared with (by default the "
        "budget divided by historical spend share).",
    )
    kpi = _table(
        ["Allocation", "Predicted KPI", f"{interval_width} interval"],
        [
            [
                "Current split",
                _number(result.kpi_starting),
                _interval_text(*result.kpi_starting_interval),
            ],
            [
                "Recommended",
                _number(result.kpi_optimal),
                _interval_text(*result.kpi_optimal_interval),
            ],
        ],
    )
    uplift = result.kpi_uplift if result.kpi_starting else math.nan
    probability = result.probability_of_improvement
    return {
        "probability": _percent(probability) if np.isfinite(probability) else "",
        "credible": bool(np.isfinite(probability) and probability >= 0.9),
        "allocation": allocation,
        "kpi": kpi,
        "budget": _number(result.budget),
        "n_time_periods": result.n_time_periods,
        "uplift": _percent(uplift),
        "success": bool(result.success),
        "message": result.message,
        "extrapolated": []
        if result.outside_observed_range is None
        else [c for c, out in result.outside_observed_range.items() if out],
    }


# ---------------------------------------------------------------- figures


def _figures(
    est, interval: float, optimizer_result
) -> dict[str, list[_EmbeddedFigure]]:
    """Every figure of the report, by section."""
    figures = {
        "fit": [
            _figure("Model fit", lambda: plot.plot_model_fit(est, interval=interval))
        ],
        "diagnostics": [
            _figure("MCMC diagnostics", lambda: plot.plot_mcmc_diagnostics(est))
        ],
        "contributions": [
            _figure(
                "Baseline and media contributions over time",
                lambda: plot.plot_media_baseline_contribution_area_plot(est),
            ),
            _figure(
                "Contribution share per channel",
                lambda: plot.plot_bars_media_metrics(
                    est, metric="contribution_share", interval=interval
                ),
            ),
            _figure(
                "ROI per channel",
                lambda: plot.plot_bars_media_metrics(
                    est, metric="roi", interval=interval
                ),
            ),
        ],
        "response": [
            _figure(
                "Response curves",
                lambda: plot.plot_response_curves(
                    est, optimizer_result=optimizer_result
                ),
            )
        ],
        "budget": [],
        "lift_tests": [],
    }
    if getattr(est, "lift_tests", None) is not None:
        figures["lift_tests"].append(
            _figure(
                "Lift tests",
                lambda: plot.plot_lift_tests(est, interval=interval),
            )
        )
    if optimizer_result is not None:
        figures["budget"].append(
            _figure(
                "Current and recommended budget",
                lambda: plot.plot_pre_post_budget_allocation_comparison(
                    optimizer_result
                ),
            )
        )
    return figures


# ------------------------------------------------------------------ render


def _environment() -> Environment:
    # autoescape=True escapes every substitution whatever the template's name.
    return Environment(
        loader=PackageLoader("skmmm", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(
    estimators,
    *,
    optimizer_result: OptimizationResult | None = None,
    backtest: pd.DataFrame | None = None,
    title: str = "Media mix model report",
    interval: float = 0.9,
    kpi_type: str = "revenue",
) -> str:
    """The report's HTML as a string (see :func:`make_report`)."""
    named = _as_named_estimators(estimators)
    main_name, main = next(iter(named.items()))
    _check_optimizer_result(optimizer_result, main)
    _check_backtest(backtest)
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval!r}.")
    if kpi_type not in KPI_TYPES:
        raise ValueError(
            f"kpi_type must be 'revenue' (the KPI earns: ROI) or 'count' (it "
            f"counts, e.g. conversions: cost per KPI), got {kpi_type!r}."
        )
    checks = {
        name: (convergence_verdict(est), _fit_metrics(est))
        for name, est in (named.items() if len(named) > 1 else [(main_name, main)])
    }
    verdict, metrics = checks[main_name]
    width = f"{interval:.0%}"
    context = {
        "title": title,
        "main_name": main_name,
        "model_name": main.spec_.model_name,
        "n_models": len(named),
        "interval_width": width,
        "data": _data_summary(main),
        "diagnostics": _diagnostics(main, verdict),
        "fit": {
            key: (_number(value) if key == "r2" else _percent(value))
            for key, value in metrics.items()
        },
        "attribution": _attribution_table(main, interval, kpi_type),
        "lift_tests": _lift_test_table(main, interval),
        "comparison": _comparison_table(named, checks) if len(named) > 1 else None,
        "backtest": _backtest_table(backtest) if backtest is not None else None,
        "budget": (
            _budget(optimizer_result, width) if optimizer_result is not None else None
        ),
        "figures": _figures(main, interval, optimizer_result),
    }
    return _environment().get_template("report.html").render(context)


def make_report(
    estimators,
    path: str | os.PathLike,
    *,
    optimizer_result: OptimizationResult | None = None,
    backtest: pd.DataFrame | None = None,
    title: str = "Media mix model report",
    interval: float = 0.9,
    kpi_type: str = "revenue",
) -> Path:
    """Write a self-contained HTML report of one or several fitted models.

    The file embeds its figures (PNG ``data:`` URIs) and CSS, runs no
    JavaScript and loads nothing from the network. Every user-given name
    (channels, controls, models, the title) is HTML-escaped.

    Parameters
    ----------
    estimators : fitted regressor, list of them or dict name -> fitted regressor
        Several models of the same data: the first drives the detailed
        sections (data, diagnostics, fit, attribution, response curves,
        budget) and all of them appear in a comparison table. A list names
        models by class name.
    path : str or path-like
        The HTML file to write (its folder must exist).
    optimizer_result : OptimizationResult, default=None
        ``BudgetOptimizer(first_model).optimize(...)``'s result: adds the
        budget recommendation.
    backtest : DataFrame, default=None
        The tidy table of :func:`skmmm.model_selection.compare_models` (a
        ``model`` column, usually a ``fold`` column and metric columns):
        every numeric column is shown averaged over folds per model.
    title : str, default="Media mix model report"
        The page title.
    interval : float, default=0.9
        Width of the central credible intervals in tables and figures.
    kpi_type : {"revenue", "count"}, default="revenue"
        What the KPI is: "revenue" shows each channel's ROI (KPI per unit
        of cost); "count" (conversions, sign-ups, acquisitions) shows its
        cost per KPI instead (:func:`skmmm.attribution.cpa`).

    Returns
    -------
    Path
        ``path``, written as UTF-8.

    Raises
    ------
    ValueError
        If a model is not fitted, ``optimizer_result`` is of another type or
        other channels, ``backtest`` lacks a ``model`` column, or
        ``interval`` is not in (0, 1).

    See Also
    --------
    render_report : The same HTML as a string.
    convergence_verdict : The diagnostics verdict the report shows.

    Examples
    --------
    >>> from skmmm import BudgetOptimizer, HillAdstockRegressor, load_example
    >>> from skmmm.report import make_report
    >>> data = load_example()
    >>> mmm = HillAdstockRegressor(media_columns=data.media_columns, random_state=0)
    >>> mmm.fit(data.X, data.y)  # doctest: +SKIP
    >>> result = BudgetOptimizer(mmm).optimize(1e6, 13)  # doctest: +SKIP
    >>> make_report(mmm, "report.html", optimizer_result=result)  # doctest: +SKIP
    PosixPath('report.html')
    """
    html = render_report(
        estimators,
        optimizer_result=optimizer_result,
        backtest=backtest,
        title=title,
        interval=interval,
        kpi_type=kpi_type,
    )
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
