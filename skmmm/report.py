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
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter

from skmmm import attribution, plot
from skmmm.diagnostics import ConvergenceVerdict, convergence_verdict
from skmmm.draws import interval_quantiles
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


@dataclass(frozen=True)
class _Units:
    """How the report names money and the KPI (``currency=``, ``kpi_name=``)."""

    currency: str | None = None
    kpi_name: str = "KPI"

    def money(self, value: Any) -> str:
        """An amount: ``€1,200`` for a symbol, ``1,200 EUR`` for a code."""
        text = _number(value)
        if self.currency is None or text == MISSING:
            return text
        if any(character.isalpha() for character in self.currency):
            return f"{text} {self.currency}"
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        return f"{sign}{self.currency}{digits}"

    @property
    def per_cost(self) -> str:
        """What one unit of cost is called: "€" or "unit of cost"."""
        return self.currency or "unit of cost"


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# Technical terms the report writes in plain words, with the term and its
# meaning in a footnote. {kpi}, {cost} and {width} are filled in.
TERMS = {
    "incremental": (
        "Incremental KPI (the channel's contribution)",
        "the {kpi} the model attributes to the channel over the training "
        "periods: what the {kpi} would have been lower without its spend.",
    ),
    "share": (
        "Contribution share",
        "the channel's incremental {kpi} as a share of the whole {kpi}.",
    ),
    "range": (
        "Credible interval",
        "the central {width} credible interval of the posterior: the model "
        "finds the value inside it with {width} probability.",
    ),
    "roi": (
        "ROI (return on investment)",
        "incremental {kpi} per {cost} spent over the training periods.",
    ),
    "mroi": (
        "Marginal ROI",
        "the extra {kpi} of one more {cost} at the historical spend.",
    ),
    "cpa": (
        "CPA (cost per acquisition, cost per KPI)",
        "the channel's cost over its incremental {kpi}.",
    ),
    "mcpa": (
        "Marginal CPA",
        "the extra spend one more unit of {kpi} takes at the historical spend.",
    ),
    "prior": (
        "Prior-to-posterior width ratio (roi_prior_width_ratio)",
        "the width of the ROI's credible interval after seeing the data, as "
        "a share of its width before (the prior): near 100%, the data said "
        "little about the channel.",
    ),
    "r2": (
        "R² (in sample)",
        "the share of the period-to-period variance of the {kpi} that the "
        "model's posterior-mean prediction explains on the training periods.",
    ),
    "mape": (
        "MAPE (mean absolute percentage error, in sample)",
        "the mean of |actual - predicted| / actual over the training periods.",
    ),
    "convergence": (
        "Convergence (r_hat, bulk ESS)",
        "the sampler ran several independent chains; r_hat compares them "
        "(at most 1.01 is good) and the bulk effective sample size (ESS) "
        "counts how many independent draws they are worth.",
    ),
    "probability": (
        "Probability of improvement",
        "the share of posterior draws in which the recommended split brings "
        "more {kpi} than the current one.",
    ),
    "extrapolation": (
        "Extrapolation",
        "a spend per period outside the range of the training data, where the "
        "response curve is the model's assumption rather than something the "
        "data showed.",
    ),
}


class _Terms:
    """Footnote markers of the technical terms, numbered in order of first use."""

    def __init__(self, units: _Units, width: str) -> None:
        self.values = {"kpi": units.kpi_name, "cost": units.per_cost, "width": width}
        self.order: list[str] = []

    def mark(self, key: str) -> str:
        """The term's superscript marker, e.g. "²"."""
        if key not in self.order:
            self.order.append(key)
        return str(self.order.index(key) + 1).translate(_SUPERSCRIPTS)

    def footnotes(self) -> list[tuple[str, str, str]]:
        """(marker, term, meaning) of every term marked, in order."""
        return [
            (
                str(position).translate(_SUPERSCRIPTS),
                TERMS[key][0],
                TERMS[key][1].format(**self.values),
            )
            for position, key in enumerate(self.order, start=1)
        ]


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


def _thousands(value: float, _position: Any = None) -> str:
    return f"{value:,.0f}"


def _readable(fig, units: _Units) -> None:
    """Make a figure readable in the report: the KPI's name, ticks such as
    12,000 instead of 12000 or 1e6, and legends beside the data, not on it."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter) and (
                max(abs(limit) for limit in axis.get_view_interval()) >= 1000
            ):
                axis.set_major_locator(MaxNLocator(nbins=5))
                axis.set_major_formatter(FuncFormatter(_thousands))
        ax.set_xlabel(_kpi_words(ax.get_xlabel(), units))
        ax.set_ylabel(_kpi_words(ax.get_ylabel(), units))
        ax.set_title(_kpi_words(ax.get_title(), units))
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    if legends:
        # Lay the figure out once, then keep its axes where they are: a layout
        # engine would shrink them to make room for the legends moved out.
        fig.canvas.draw()
        fig.set_layout_engine("none")
    entries: dict[str, Any] = {}
    for legend in legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            entries.setdefault(_kpi_words(text.get_text(), units), handle)
        legend.remove()
    if not entries:
        return
    if len(fig.axes) == 1:
        fig.axes[0].legend(
            entries.values(),
            entries.keys(),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize="small",
        )
    else:
        fig.legend(
            entries.values(),
            entries.keys(),
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=min(len(entries), 5),
            fontsize="small",
        )


def _kpi_words(text: str, units: _Units) -> str:
    """A figure's text with the KPI called by its name."""
    if units.kpi_name == "KPI":
        return text
    return re.sub(r"\bKPI\b", units.kpi_name, text)


def _figure(
    title: str, make: Callable[[], Any], units: _Units = _Units()
) -> _EmbeddedFigure:
    """Render the matplotlib Figure ``make()`` returns to a PNG data URI and close it."""
    fig = make()
    try:
        _readable(fig, units)
        buffer = io.BytesIO()
        # "tight" grows the image to hold every label and the legends.
        fig.savefig(buffer, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
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
    """KPI per training period, summed over geos for a geo fit.

    Periods that ``fill_missing`` inserted (no cell observed) are left out.
    """
    target = est.training_data_.target
    national = target.reshape(len(target), -1).sum(axis=1)
    present = est.fitted_.training_present
    return national if present is None else national[present.any(axis=1)]


def _media_totals(est) -> np.ndarray:
    """Media per channel summed over the training periods (and geos)."""
    media = est.training_data_.media
    return media.reshape(media.shape[0], media.shape[1], -1).sum(axis=(0, 2))


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _data_summary(est, units: _Units) -> dict[str, Any]:
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
        (f"{_capitalised(units.kpi_name)} total", _number(national.sum())),
        (f"{_capitalised(units.kpi_name)} mean per period", _number(national.mean())),
    ]
    revenue = getattr(est, "revenue_per_kpi", None)
    if revenue is not None and hasattr(est, "revenue_per_kpi_"):
        average = est.fitted_.revenue_per_kpi_by_geo
        source = (
            f"column {revenue!r}, KPI-weighted average {_number(float(np.mean(average)))}"
            if isinstance(revenue, str)
            else _number(float(revenue))
        )
        facts.append(
            (
                "Revenue per KPI",
                f"{source}: ROI is revenue per unit of cost, the budget "
                "optimiser maximises revenue",
            )
        )
    media_totals = _media_totals(est)
    grand_total = media_totals.sum()
    channels = _table(
        ["Channel", "Total media", "Share of media", "Cost"],
        [
            [
                name,
                _number(total),
                _percent(total / grand_total if grand_total > 0 else math.nan),
                units.money(cost),
            ]
            for name, total, cost in zip(
                data.media_names, media_totals, est.media_prior_, strict=True
            )
        ],
        caption="Media per channel over the training periods"
        + (" and geos" if geo_names else "")
        + "; the cost is what returns are measured against (media_prior_).",
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
    if info.get("inference") == "laplace":
        sampling = (
            f"Laplace approximation at the posterior mode (inference='laplace'), "
            f"{n_draws} independent draws from it; fitted in "
            f"{info.get('sampling_seconds', math.nan):.1f} s"
        )
        return {
            "verdict": verdict,
            "parameters": parameters,
            "sampling": sampling,
            "approximate": True,
        }
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
    return {
        "verdict": verdict,
        "parameters": parameters,
        "sampling": sampling,
        "approximate": False,
    }


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


def _cost_per_kpi_text(value: float, units: _Units) -> str:
    """A cost per KPI for the table: "no upper limit" when a draw bought nothing."""
    return units.money(value) if math.isfinite(value) else "no upper limit"


def _incremental_cells(est, interval: float) -> dict[str, tuple[float, float, float]]:
    """Each channel's incremental KPI: posterior mean and central interval."""
    draws = attribution.incremental_kpi(est)
    lower_q, upper_q = interval_quantiles(interval)
    return {
        str(channel): (
            float(values.mean()),
            float(values.quantile(lower_q)),
            float(values.quantile(upper_q)),
        )
        for channel, values in draws.items()
    }


def _cost_per_kpi_columns(units: _Units, terms: _Terms, band: str):
    """The count KPI's columns after the share: cost per KPI, not ROI."""
    kpi = units.kpi_name
    headers = [
        f"Cost per {kpi}{terms.mark('cpa')}",
        band,
        f"Cost of one more {kpi}{terms.mark('mcpa')}",
    ]

    def cells(row: pd.Series) -> list[str]:
        return [
            units.money(row["cpa_median"])
            if math.isfinite(row["cpa_median"])
            else "not identified",
            f"{units.money(row['cpa_lower'])} – "
            f"{_cost_per_kpi_text(row['cpa_upper'], units)}",
            _cost_per_kpi_text(row["mcpa_mean"], units),
        ]

    caption = (
        f"Cost per {kpi}: each channel's cost over the {kpi} it brought "
        "in the training period (the middle of the plausible scenarios); 'no "
        "upper limit' where some plausible scenarios give the channel no "
        "effect, so its cost may buy nothing."
    )
    return headers, cells, caption


def _roi_columns(units: _Units, terms: _Terms, band: str):
    """The revenue KPI's columns after the share: its band, ROI and marginal ROI."""
    kpi = _capitalised(units.kpi_name)
    headers = [
        band,
        f"{kpi} per {units.per_cost} spent{terms.mark('roi')}",
        band,
        f"{kpi} from the next {units.per_cost}{terms.mark('mroi')}",
        band,
    ]

    def cells(row: pd.Series) -> list[str]:
        return [
            _interval_text(row["share_lower"], row["share_upper"], _percent),
            _number(row["roi_mean"]),
            _interval_text(row["roi_lower"], row["roi_upper"]),
            _number(row["mroi_mean"]),
            _interval_text(row["mroi_lower"], row["mroi_upper"]),
        ]

    caption = (
        "Averages over the model's plausible scenarios (posterior "
        "draws), with the range the middle of them spans."
    )
    return headers, cells, caption


def _attribution_table(
    est, interval: float, kpi_type: str, units: _Units, terms: _Terms
) -> _Table:
    """Per channel: incremental KPI, share, and ROI (or cost per KPI)."""
    table = attribution.summary(est, interval)
    incremental = _incremental_cells(est, interval)
    weak = prior_dominated_channels(table)
    weak_text = (
        f" The data say little about {_join_words(weak)}: "
        f"{'its' if len(weak) == 1 else 'their'} plausible range of returns is "
        "at least half as wide as before seeing the data, so the estimate "
        "mostly repeats the prior assumption. An "
        f"experiment on {'it' if len(weak) == 1 else 'them'} (a geo lift test or a "
        "holdout) would help."
        if weak
        else ""
    )
    # Footnotes are numbered in the order the headers mark their terms.
    kpi, band = units.kpi_name, "plausible range" + terms.mark("range")
    headers = [
        "Channel",
        f"Incremental {kpi}{terms.mark('incremental')}",
        band,
        f"Share of {kpi}{terms.mark('share')}",
    ]
    columns = _cost_per_kpi_columns if kpi_type == "count" else _roi_columns
    specific_headers, cells, caption = columns(units, terms, band)
    return _table(
        [*headers, *specific_headers, f"Data or prior?{terms.mark('prior')}"],
        [
            [
                channel,
                _number(incremental[str(channel)][0]),
                _interval_text(*incremental[str(channel)][1:]),
                _percent(row["share_mean"]),
                *cells(row),
                _prior_text(row["roi_prior_width_ratio"]),
            ]
            for channel, row in table.iterrows()
        ],
        caption=caption + weak_text,
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
                + (
                    "spend switched off"
                    if row["delta_spend"] == "holdout"
                    else f"{_number(row['delta_spend'])} per period"
                ),
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


def _budget(result: OptimizationResult, units: _Units, terms: _Terms) -> dict[str, Any]:
    start, optimal = result.starting_allocation, result.optimal_allocation
    money = units.money
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
                money(start[channel]),
                money(optimal[channel]),
                _percent(
                    optimal[channel] / start[channel] - 1
                    if start[channel] > 0
                    else math.nan
                ),
                money(result.bounds_lower[channel]),
                money(result.bounds_upper[channel]),
                _BINDING_WORDS.get(_binding_label(result, channel), ""),
            ]
            for channel in optimal.index
        ],
        caption="Spend per channel over the whole horizon. The current split "
        "is the plan the recommendation is compared with (by default the "
        "budget divided by historical spend share).",
    )
    kpi = _table(
        [
            "Allocation",
            f"Predicted {units.kpi_name}",
            "plausible range" + terms.mark("range"),
        ],
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
    if np.isfinite(probability):
        terms.mark("probability")
    outside = (
        []
        if result.outside_observed_range is None
        else [c for c, out in result.outside_observed_range.items() if out]
    )
    if outside:
        terms.mark("extrapolation")
    return {
        "probability": _percent(probability) if np.isfinite(probability) else "",
        "credible": bool(np.isfinite(probability) and probability >= 0.9),
        "allocation": allocation,
        "kpi": kpi,
        "budget": money(result.budget),
        "n_time_periods": result.n_time_periods,
        "uplift": _percent(uplift),
        "success": bool(result.success),
        "message": result.message,
        "extrapolated": outside,
        "marks": {
            key: terms.mark(key)
            for key in ("probability", "extrapolation")
            if key in terms.order
        },
    }


# ---------------------------------------------------------------- figures


def _figures(
    est, interval: float, optimizer_result, units: _Units
) -> dict[str, list[_EmbeddedFigure]]:
    """Every figure of the report, by section."""

    def figure(title: str, make: Callable[[], Any]) -> _EmbeddedFigure:
        return _figure(title, make, units)

    figures = {
        "fit": [
            figure("Model fit", lambda: plot.plot_model_fit(est, interval=interval))
        ],
        "diagnostics": [
            figure("MCMC diagnostics", lambda: plot.plot_mcmc_diagnostics(est))
        ],
        "contributions": [
            figure(
                "Baseline and media contributions over time",
                lambda: plot.plot_media_baseline_contribution_area_plot(est),
            ),
            figure(
                "Contribution share per channel",
                lambda: plot.plot_bars_media_metrics(
                    est, metric="contribution_share", interval=interval
                ),
            ),
            figure(
                "ROI per channel",
                lambda: plot.plot_bars_media_metrics(
                    est, metric="roi", interval=interval
                ),
            ),
        ],
        "response": [
            figure(
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
            figure(
                "Lift tests",
                lambda: plot.plot_lift_tests(est, interval=interval),
            )
        )
    if optimizer_result is not None:
        figures["budget"].append(
            figure(
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
    currency: str | None = None,
    kpi_name: str = "KPI",
) -> str:
    """A self-contained HTML report of one or several fitted models, as a string.

    The page embeds its figures (PNG ``data:`` URIs) and CSS, runs no
    JavaScript and loads nothing from the network. Every user-given name
    (channels, controls, models, the title) is HTML-escaped.
    :func:`make_report` writes it to a file.

    Parameters
    ----------
    estimators : fitted regressor, list of them or dict name -> fitted regressor
        Several models of the same data: the first drives the detailed
        sections (data, diagnostics, fit, attribution, response curves,
        budget) and all of them appear in a comparison table. A list names
        models by class name.
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
    currency : str, default=None
        How to write amounts of money: a symbol (``"€"``, written before the
        number) or a code (``"EUR"``, ``"k€"``, written after it). None
        writes plain numbers and "per unit of cost".
    kpi_name : str, default="KPI"
        What the KPI is called in headings and sentences, e.g. ``"sales"``
        or ``"sign-ups"``.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    ValueError
        If a model is not fitted, ``optimizer_result`` is of another type or
        other channels, ``backtest`` lacks a ``model`` column,
        ``interval`` is not in (0, 1), or ``currency`` or ``kpi_name`` is
        not a non-empty string.

    See Also
    --------
    make_report : The same HTML, written to a file.
    convergence_verdict : The diagnostics verdict the report shows.
    """
    named = _as_named_estimators(estimators)
    main_name, main = next(iter(named.items()))
    _check_optimizer_result(optimizer_result, main)
    _check_backtest(backtest)
    interval_quantiles(interval)
    if kpi_type not in KPI_TYPES:
        raise ValueError(
            f"kpi_type must be 'revenue' (the KPI earns: ROI) or 'count' (it "
            f"counts, e.g. conversions: cost per KPI), got {kpi_type!r}."
        )
    for name, value in (("currency", currency), ("kpi_name", kpi_name)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError(
                f"{name} must be a non-empty string such as "
                f"{'€ or EUR' if name == 'currency' else 'sales or sign-ups'}, "
                f"got {value!r}."
            )
    checks = {
        name: (convergence_verdict(est), _fit_metrics(est))
        for name, est in (named.items() if len(named) > 1 else [(main_name, main)])
    }
    verdict, metrics = checks[main_name]
    width = f"{interval:.0%}"
    units = _Units(currency=currency, kpi_name=kpi_name.strip())
    terms = _Terms(units, width)
    marks = {key: terms.mark(key) for key in ("convergence", "r2", "mape")}
    attribution_table = _attribution_table(main, interval, kpi_type, units, terms)
    budget = (
        _budget(optimizer_result, units, terms)
        if optimizer_result is not None
        else None
    )
    context = {
        "title": title,
        "main_name": main_name,
        "model_name": main.spec_.model_name,
        "n_models": len(named),
        "interval_width": width,
        "kpi_name": units.kpi_name,
        "marks": marks,
        "data": _data_summary(main, units),
        "diagnostics": _diagnostics(main, verdict),
        "fit": {
            "r2": _number(metrics["r2"]),
            "explained": _percent(metrics["r2"]),
            "mape": _percent(metrics["mape"]),
        },
        "attribution": attribution_table,
        "lift_tests": _lift_test_table(main, interval),
        "comparison": _comparison_table(named, checks) if len(named) > 1 else None,
        "backtest": _backtest_table(backtest) if backtest is not None else None,
        "budget": budget,
        "figures": _figures(main, interval, optimizer_result, units),
        "footnotes": terms.footnotes(),
    }
    return _environment().get_template("report.html").render(context)


def make_report(estimators, path: str | os.PathLike, **options) -> Path:
    """Write a self-contained HTML report of one or several fitted models.

    Parameters
    ----------
    estimators : fitted regressor, list of them or dict name -> fitted regressor
        As in :func:`render_report`.
    path : str or path-like
        The HTML file to write (its folder must exist).
    **options
        ``optimizer_result``, ``backtest``, ``title``, ``interval``,
        ``kpi_type``, ``currency`` and ``kpi_name``, as in
        :func:`render_report`.

    Returns
    -------
    Path
        ``path``, written as UTF-8.

    Raises
    ------
    ValueError
        As :func:`render_report`; nothing is written then.

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
    html = render_report(estimators, **options)
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path
