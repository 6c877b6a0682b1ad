"""Tests for ``skmmm.report``: content, escaping, and a real headless Chromium.

Three fits: the session fixtures ``national_fit`` and ``geo_fit`` of
conftest.py (free when the attribution and optimiser tests ran first in the
process) and a tiny one whose channel and control names
are HTML-hostile. The browser tests need Debian's ``chromium`` and
``chromium-driver`` and the ``selenium`` package: they skip without them,
except in CI (``CI=true``), where they fail so they cannot silently vanish.
"""

import copy
import os
import re
import shutil
import warnings
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score

from skmmm import (
    AdstockRegressor,
    BudgetOptimizer,
    attribution,
    load_model,
    plot,
    save_model,
)
from skmmm.report import (
    _as_named_estimators,
    convergence_verdict,
    make_report,
    render_report,
)

HOSTILE_CHANNELS = ["<script>alert(1)</script>", "R&D", '"quoted"']
HOSTILE_CONTROL = "O'Brien"
HOSTILE_MODEL = "<img src=x onerror=alert(2)> & co"
HOSTILE_TITLE = '<script>alert("title")</script> Q&A'
N_TIME_PERIODS = 8

FULL_REPORT_FIGURES = [
    "MCMC diagnostics",
    "Model fit",
    "Baseline and media contributions over time",
    "Contribution share per channel",
    "ROI per channel",
    "Response curves",
    "Current and recommended budget",
]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


# ------------------------------------------------------------------ fits


@pytest.fixture(scope="module")
def hostile_fit(national_data):
    """A tiny fit whose channel and control names are HTML-hostile."""
    data = national_data
    renames = dict(zip(data.media_columns, HOSTILE_CHANNELS, strict=True))
    renames["price_index"] = HOSTILE_CONTROL
    X = data.X.rename(columns=renames).iloc[:104]
    est = AdstockRegressor(
        media_columns=HOSTILE_CHANNELS,
        degrees_seasonality=1,
        number_warmup=100,
        number_samples=100,
        number_chains=1,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, data.y.iloc[:104])
    return est


def backtest_table() -> pd.DataFrame:
    """A tidy backtest as ``compare_models`` returns it: two models, two folds."""
    return pd.DataFrame(
        {
            "model": ["first", "first", "second", "second"],
            "fold": [0, 1, 0, 1],
            "r2": [0.9, 0.7, 0.6, 0.4],
            "mape": [0.05, 0.07, 0.1, 0.2],
            "coverage": [0.9, 0.8, 0.85, 0.75],
            "crps": [100.0, 300.0, 500.0, 700.0],
            "max_rhat": [1.01, 1.03, 1.002, 1.004],
            "divergences": [0, 2, 1, 1],
            "neg_mean_absolute_error": [-10.0, -20.0, -30.0, -50.0],
            # Not numbers: not averaged, not shown.
            "converged": [True, False, True, True],
            "note": ["a", "b", "c", "d"],
        }
    )


@pytest.fixture(scope="module")
def est(national_fit):
    return national_fit


@pytest.fixture(scope="module")
def optimizer_result(est):
    weekly_spend = est.training_data_.media.sum(axis=1).mean()
    return BudgetOptimizer(est).optimize(weekly_spend * N_TIME_PERIODS, N_TIME_PERIODS)


@pytest.fixture(scope="module")
def full_report(est, optimizer_result, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    written = make_report(
        {"first": est, "second": est},
        path,
        optimizer_result=optimizer_result,
        backtest=backtest_table(),
    )
    return written, path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_report(hostile_fit, tmp_path_factory):
    """The hostile fit's report, from a saved and loaded copy (as `skmmm report`)."""
    folder = tmp_path_factory.mktemp("report")
    save_model(hostile_fit, folder / "hostile.skmmm")
    path = folder / "hostile.html"
    make_report(
        {HOSTILE_MODEL: load_model(folder / "hostile.skmmm")},
        path,
        backtest=backtest_table().replace({"first": HOSTILE_MODEL}),
        title=HOSTILE_TITLE,
    )
    return path, path.read_text(encoding="utf-8")


# ------------------------------------------------------------ html parsing


class _Tables(HTMLParser):
    """Every ``<table>`` of a page as rows of unescaped cell texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(html: str) -> dict[str, dict[str, list[str]]]:
    """Tables keyed by their first header cell; rows keyed by their first cell."""
    parser = _Tables()
    parser.feed(html)
    tables = {}
    for rows in parser.tables:
        header, *body = rows
        key = " | ".join(header)
        tables[key] = {row[0]: row[1:] for row in body}
    return tables


def html_text(html: str) -> str:
    """The page's text with tags removed and entities decoded, spaces collapsed."""
    inline_dropped = re.sub(r"</?(?:strong|em|a)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline_dropped)).split())


SUPERSCRIPTS = re.compile("[⁰¹²³⁴⁵⁶⁷⁸⁹]+")


def table_starting(html: str, *columns: str) -> dict[str, list[str]]:
    """The table whose first headers are ``columns`` (footnote markers dropped)."""
    matches = [
        rows
        for header, rows in tables_of(html).items()
        if SUPERSCRIPTS.sub("", header).split(" | ")[: len(columns)] == list(columns)
    ]
    assert len(matches) == 1, f"expected one table headed {columns}"
    return matches[0]


# ----------------------------------------------------------------- content


def test_make_report_returns_the_written_path(full_report, tmp_path):
    written, html = full_report
    assert isinstance(written, Path)
    assert written.read_text(encoding="utf-8") == html
    assert html.startswith("<!DOCTYPE html>")


def test_report_is_self_contained(full_report):
    _, html = full_report
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    # Nothing is loaded from elsewhere: every src is a data: URI.
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert len(sources) == len(FULL_REPORT_FIGURES)
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in html


def test_report_has_every_section(full_report):
    _, html = full_report
    for section in (
        "data",
        "diagnostics",
        "fit",
        "attribution",
        "response",
        "comparison",
        "budget",
    ):
        assert f'<section id="{section}">' in html


def test_data_summary_matches_training_data(full_report, national_data):
    _, html = full_report
    data = national_data
    channels = table_starting(html, "Channel", "Total media")
    assert list(channels) == data.media_columns
    for name in data.media_columns:
        total = float(channels[name][0].replace(",", ""))
        assert total == pytest.approx(data.X[name].sum(), abs=0.5)
    assert f"{data.y.sum():,.0f}" in html
    assert "2021-01-04" in html  # first week of the simulated data


def test_attribution_table_matches_attribution_summary(full_report, est):
    _, html = full_report
    expected = attribution.summary(est, 0.9)
    table = table_starting(html, "Channel", "Incremental KPI")
    assert list(table) == list(expected.index)
    for channel, row in expected.iterrows():
        share, share_interval, roi, roi_interval = table[channel][2:6]
        assert share == f"{row['share_mean']:.1%}"
        assert float(roi) == pytest.approx(row["roi_mean"], rel=1e-2)
        low, high = (float(v) for v in roi_interval.split(" – "))
        assert low == pytest.approx(row["roi_lower"], rel=1e-2)
        assert high == pytest.approx(row["roi_upper"], rel=1e-2)


def test_diagnostics_section_shows_the_verdict_and_every_parameter(full_report, est):
    _, html = full_report
    verdict = convergence_verdict(est)
    assert verdict.headline in html
    parameters = table_starting(html, "Parameter")
    assert list(parameters) == list(est.summary().index)


def test_budget_section_matches_the_optimizer_result(full_report, optimizer_result):
    _, html = full_report
    table = table_starting(html, "Channel", "Current split")
    for channel, spend in optimizer_result.optimal_allocation.items():
        start, recommended = table[channel][:2]
        assert float(recommended.replace(",", "")) == pytest.approx(spend, abs=0.5)
        assert float(start.replace(",", "")) == pytest.approx(
            optimizer_result.starting_allocation[channel], abs=0.5
        )
    assert f"{optimizer_result.kpi_uplift:.1%}" in html


def test_budget_section_says_when_the_recommendation_extrapolates(
    est, optimizer_result, tmp_path
):
    assert "outside the range the data saw" not in make_report(
        est, tmp_path / "within.html", optimizer_result=optimizer_result
    ).read_text(encoding="utf-8")
    media = est.training_data_.media
    wide = BudgetOptimizer(est, bounds_lower_pct=1.0, bounds_upper_pct=10.0)
    large = wide.optimize(
        10 * N_TIME_PERIODS * media.mean(axis=0).sum(), N_TIME_PERIODS
    )
    html = make_report(est, tmp_path / "large.html", optimizer_result=large).read_text(
        encoding="utf-8"
    )
    flagged = [c for c, out in large.outside_observed_range.items() if out]
    assert flagged and "outside the range the data saw" in html
    assert ", ".join(flagged) in html


def test_a_count_kpi_reports_cost_per_kpi_and_no_upper_limit_where_nothing_is_bought(
    est,
):
    from skmmm import attribution

    html = render_report(est, kpi_type="count")
    table = table_starting(html, "Channel", "Incremental KPI")
    summary = attribution.summary(est)
    for channel, cells in table.items():
        assert float(cells[3].replace(",", "")) == pytest.approx(
            summary.loc[channel, "cpa_median"], rel=5e-3
        )
    assert "Marginal ROI" not in html
    broke = copy.copy(est)
    coef = est.posterior_["coef_media"].copy()
    coef[0, 0] = 0.0
    broke.posterior_ = {**est.posterior_, "coef_media": coef}
    assert "no upper limit" in render_report(broke, kpi_type="count")
    with pytest.raises(ValueError, match="kpi_type"):
        render_report(est, kpi_type="conversions")


def test_fit_metrics_are_r2_and_mape_of_predict(full_report, est, national_data):
    _, html = full_report
    data = national_data
    predicted = est.predict(data.X)
    r2 = r2_score(data.y, predicted)
    mape = np.mean(np.abs(1 - predicted / data.y))
    text = html_text(html)
    assert f"explains {r2:.1%} of the ups and downs of the KPI" in text
    assert f"(in-sample R² {r2:.3g}" in text
    assert f"is off by {mape:.1%} per period on average" in text


def test_tables_agree_with_the_bar_plots(full_report, est):
    """The numbers in the tables are the bars' heights (LMMM #96)."""
    _, html = full_report
    table = table_starting(html, "Channel", "Incremental KPI")
    for metric, column in (("roi", 4), ("contribution_share", 2)):
        figure = plot.plot_bars_media_metrics(est, metric=metric)
        heights = [bar.get_height() for bar in figure.axes[0].patches]
        shown = [table[channel][column] for channel in est.media_names_]
        if metric == "roi":
            expected = [f"{height:.3g}" for height in heights]
        else:
            expected = [f"{height:.1%}" for height in heights]
        assert shown == expected


def test_comparison_and_backtest_tables(full_report):
    _, html = full_report
    comparison = table_starting(html, "Model", "Transform")
    assert list(comparison) == ["first", "second"]
    assert comparison["first"][0] == "adstock"
    backtest = table_starting(html, "Model", "Folds")
    header = next(k for k in tables_of(html) if k.startswith("Model | Folds"))
    assert header.split(" | ")[2:] == [
        "r2",
        "mape",
        "coverage",
        "crps",
        "max_rhat",
        "divergences",
        "neg_mean_absolute_error",
    ]
    # Means over the two folds of each model.
    assert backtest["first"] == [
        "2",
        "0.8",
        "6.0%",
        "85.0%",
        "200",
        "1.020",
        "1",
        "-15",
    ]
    assert backtest["second"] == [
        "2",
        "0.5",
        "15.0%",
        "80.0%",
        "600",
        "1.003",
        "1",
        "-40",
    ]


def test_one_model_has_no_comparison_table(hostile_report):
    _, html = hostile_report
    headers = [header.split(" | ")[:2] for header in tables_of(html)]
    assert ["Model", "Transform"] not in headers
    assert ["Model", "Folds"] in headers  # the backtest still shows
    assert '<section id="budget">' not in html


def test_models_are_named_by_key_or_by_class(est):
    assert list(_as_named_estimators({1: est, "b": est})) == ["1", "b"]
    assert list(_as_named_estimators([est, est, est])) == [
        "AdstockRegressor",
        "AdstockRegressor (2)",
        "AdstockRegressor (3)",
    ]
    assert list(_as_named_estimators(est)) == ["AdstockRegressor"]


def test_geo_report_shows_national_totals(tmp_path, geo_fit, geo_data):
    est, data = geo_fit, geo_data
    html = make_report(est, tmp_path / "geo.html").read_text(encoding="utf-8")
    text = html_text(html)
    assert "Geos (3) geo_1, geo_2, geo_3" in text
    national = data.y.groupby(data.X["date"].to_numpy()).sum()
    assert f"KPI total {national.sum():,.0f}" in text
    fitted_national = attribution.contributions(est).sum(axis=1).to_numpy()
    r2 = r2_score(national.to_numpy(), fitted_national)
    assert f"(in-sample R² {r2:.3g}" in text
    channels = table_starting(html, "Channel", "Total media")
    for name in data.media_columns:
        total = float(channels[name][0].replace(",", ""))
        assert total == pytest.approx(data.X[name].sum(), abs=0.5)


# --------------------------------------------------------------- escaping


def test_user_text_is_escaped_in_the_html(hostile_report):
    _, html = hostile_report
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "R&amp;D" in html and "R&D" not in html
    assert "&#34;quoted&#34;" in html
    assert "O&#39;Brien" in html
    assert "&lt;img src=x onerror=alert(2)&gt; &amp; co" in html


def test_user_text_reads_back_literally(hostile_report):
    _, html = hostile_report
    table = table_starting(html, "Channel", "Incremental KPI")
    assert list(table) == HOSTILE_CHANNELS
    assert f"Model {HOSTILE_MODEL} (adstock transform)" in html_text(html)
    backtest = table_starting(html, "Model", "Folds")
    assert list(backtest) == [HOSTILE_MODEL, "second"]


# ----------------------------------------------------------------- verdict


def with_diagnostics(est, rhat=1.004, ess=1e4, divergences=0, **overrides):
    """A copy of ``est`` with uniform diagnostics, then per-parameter overrides.

    ``overrides`` maps a parameter name to ``(rhat, ess)`` arrays.
    """
    changed = copy.copy(est)
    changed.rhat_ = {name: np.full_like(v, rhat) for name, v in est.rhat_.items()}
    changed.ess_ = {name: np.full_like(v, ess) for name, v in est.ess_.items()}
    for name, (rhat_values, ess_values) in overrides.items():
        changed.rhat_[name] = np.asarray(rhat_values, dtype=float)
        changed.ess_[name] = np.asarray(ess_values, dtype=float)
    changed.divergences_ = divergences
    return changed


def test_verdict_converged_names_max_rhat(est):
    good = with_diagnostics(est, sigma=(1.008, 5e3))
    verdict = convergence_verdict(good)
    assert verdict.status == "converged"
    assert verdict.headline == "Converged: max r_hat 1.008, no divergent transitions."
    assert verdict.advice == ""
    assert verdict.max_rhat == pytest.approx(1.008)
    assert not verdict.should_warn


def test_verdict_rhat_between_target_and_threshold_is_a_note(est):
    verdict = convergence_verdict(with_diagnostics(est, sigma=(1.02, 5e3)))
    assert verdict.status == "converged"
    assert "r_hat above 1.01 for sigma (1.020)" in verdict.notes[0]
    assert "number_samples" in verdict.notes[0]
    assert not verdict.should_warn
    failed = convergence_verdict(with_diagnostics(est, sigma=(1.2, 5e3)))
    assert failed.should_warn
    assert failed.message().startswith(type(est).__name__)


def test_verdict_a_few_divergences_are_a_note(est):
    n_draws = next(iter(est.posterior_.values())).shape[0]
    few = with_diagnostics(est, divergences=1)
    verdict = convergence_verdict(few)
    assert verdict.status == "converged"
    assert not verdict.should_warn
    assert any(
        note.startswith("Note: 1 divergent transition") for note in verdict.notes
    )
    many = with_diagnostics(est, divergences=int(0.02 * n_draws) + 1)
    assert convergence_verdict(many).status == "not converged"


def test_verdict_names_the_worst_parameters_and_what_to_do(est):
    n_draws = next(iter(est.posterior_.values())).shape[0]
    bad = with_diagnostics(
        est, divergences=n_draws, coef_media=([1.0, 1.2, 1.08], [1e4, 1e4, 1e4])
    )
    verdict = convergence_verdict(bad)
    assert verdict.status == "not converged"
    assert verdict.worst_parameters == ["coef_media[search]", "coef_media[social]"]
    assert f"{n_draws} divergent transitions" in verdict.headline
    assert "coef_media[search] (1.200), coef_media[social] (1.080)" in verdict.headline
    assert "number_warmup" in verdict.advice
    assert "target_accept_prob" in verdict.advice


def test_verdict_high_rhat_without_divergences_does_not_blame_the_step_size(est):
    verdict = convergence_verdict(with_diagnostics(est, sigma=(1.3, 1e4)))
    assert verdict.status == "not converged"
    assert verdict.headline == "Not converged: r_hat above 1.05 for sigma (1.300)."
    assert "target_accept_prob" not in verdict.advice


def test_verdict_low_ess_is_a_warning(est):
    thin = with_diagnostics(est, sigma=(1.0, 12.0))
    verdict = convergence_verdict(thin)
    assert verdict.status == "warning"
    assert verdict.worst_parameters == ["sigma"]
    assert "sigma (12)" in verdict.headline
    assert "number_warmup=2000" in verdict.advice


def test_verdict_modest_ess_is_a_note(est):
    verdict = convergence_verdict(with_diagnostics(est, sigma=(1.0, 150.0)))
    assert verdict.status == "converged" and not verdict.should_warn
    assert any("bulk ESS below 200 for sigma (150)" in n for n in verdict.notes)


def test_verdict_judges_a_single_chain_by_split_rhat(hostile_fit):
    one_chain = copy.copy(hostile_fit)
    one_chain.divergences_ = 0
    # Split r_hat compares the halves of each chain: one chain is judged too.
    assert np.isfinite(convergence_verdict(one_chain).max_rhat)
    one_chain.rhat_ = {
        name: np.full_like(v, np.nan) for name, v in one_chain.rhat_.items()
    }
    verdict = convergence_verdict(one_chain)
    assert verdict.status == "warning"
    assert verdict.headline.startswith("Convergence not checked")
    assert "number_chains" in verdict.advice


# -------------------------------------------------------------- bad input


def test_bad_inputs_raise_clear_errors(est, hostile_fit, optimizer_result, tmp_path):
    path = tmp_path / "bad.html"
    with pytest.raises(ValueError, match="empty"):
        make_report([], path)
    with pytest.raises(ValueError, match="not a fitted"):
        make_report({"raw": AdstockRegressor()}, path)
    with pytest.raises(ValueError, match="'model'"):
        make_report(est, path, backtest=backtest_table().drop(columns="model"))
    with pytest.raises(ValueError, match="OptimizationResult"):
        make_report(est, path, optimizer_result={"tv": 1.0})
    with pytest.raises(ValueError, match="interval"):
        make_report(est, path, interval=1.5)
    with pytest.raises(ValueError, match="channels"):
        make_report(hostile_fit, path, optimizer_result=optimizer_result)
    assert not path.exists()


# ---------------------------------------------------------------- browser


def _require(reason: str):
    """Skip locally, fail in CI: the browser test must not vanish silently."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true; .ci/run installs it)")
    pytest.skip(reason)


def test_missing_browser_skips_locally_and_fails_in_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required when CI=true"):
        _require("chromium is missing")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium is missing"):
        _require("chromium is missing")


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _require("selenium is not installed (pip install -e '.[test]')")
    for binary in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(binary) is None:
            _require(f"{binary} is missing (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _open(browser, path: Path) -> list[dict]:
    """Load a page and return its browser console entries."""
    browser.get(path.resolve().as_uri())
    return browser.get_log("browser")


def _images(browser) -> list[dict]:
    return browser.execute_script(
        "return Array.from(document.images).map(function (img) {"
        "  return {alt: img.alt, complete: img.complete,"
        "          width: img.naturalWidth, height: img.naturalHeight}; });"
    )


def test_report_loads_in_chromium_with_every_figure_decoded(browser, full_report):
    path, _ = full_report
    console = _open(browser, path)
    assert [entry for entry in console if entry["level"] == "SEVERE"] == []
    images = _images(browser)
    assert [image["alt"] for image in images] == FULL_REPORT_FIGURES
    for image in images:
        assert image["complete"], image["alt"]
        assert image["width"] > 0 and image["height"] > 0, image["alt"]
    assert browser.title == "Media mix model report"


def test_hostile_names_show_as_text_in_chromium(browser, hostile_report):
    from selenium.common.exceptions import NoAlertPresentException

    path, _ = hostile_report
    console = _open(browser, path)
    assert [entry for entry in console if entry["level"] == "SEVERE"] == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert  # noqa: B018 (the property raises without a dialog)
    assert browser.execute_script("return document.scripts.length") == 0
    assert browser.title == HOSTILE_TITLE
    text = browser.execute_script("return document.body.textContent")
    for name in [*HOSTILE_CHANNELS, HOSTILE_CONTROL, HOSTILE_MODEL]:
        assert name in text
    # Every image is one of ours (the hostile <img> stayed text) and decoded.
    images = _images(browser)
    assert [image["alt"] for image in images] == FULL_REPORT_FIGURES[:-1]
    assert all(image["complete"] and image["width"] > 0 for image in images)


def test_prior_data_conflict_names_the_channel(est):
    from skmmm.diagnostics import prior_data_conflicts

    assert prior_data_conflicts(est) == []
    conflicting = copy.copy(est)
    roi = np.array(est.posterior_["roi"])
    roi[:, 1] *= 1e4
    conflicting.posterior_ = {**est.posterior_, "roi": roi}
    (note,) = prior_data_conflicts(conflicting)
    assert f"ROI of {est.media_names_[1]}" in note and "above" in note
    assert note in convergence_verdict(conflicting).notes


def test_report_says_which_channels_the_data_say_little_about(est, tmp_path):
    import jax

    unlearned = copy.copy(est)
    prior_draws = np.array(est.roi_prior().sample(jax.random.PRNGKey(0), (300,)))
    roi = np.array(est.posterior_["roi"])
    roi[:, 0] = prior_draws[: len(roi), 0]
    unlearned.posterior_ = {**est.posterior_, "roi": roi}
    text = unescape(make_report(unlearned, tmp_path / "r.html").read_text())
    assert f"The data say little about {est.media_names_[0]}:" in text
    assert "mostly prior" in text


def test_warning_names_the_model_and_its_training_period(est):
    failed = convergence_verdict(with_diagnostics(est, sigma=(1.2, 5e3)))
    dates = est.training_data_.index
    assert failed.model == (
        f"{type(est).__name__} fitted on {dates[0].date()} to {dates[-1].date()} "
        f"({est.n_train_periods_} periods)"
    )
    assert failed.message().startswith(failed.model + ": Not converged")


def test_summary_carries_the_same_verdict(est):
    table = est.summary()
    assert table.attrs["convergence"] == convergence_verdict(est)


def test_budget_section_says_how_likely_the_gain_is(full_report):
    _, html = full_report
    text = unescape(html)
    assert "beats the current one in" in text
    assert "Limited by" in text


# ------------------------------------------------------ words for a marketer


def test_currency_and_kpi_name_label_the_amounts(est, optimizer_result):
    html = render_report(
        est, optimizer_result=optimizer_result, currency="€", kpi_name="sales"
    )
    text = html_text(html)
    assert "Sales total" in text and "KPI total" not in text
    channels = table_starting(html, "Channel", "Incremental sales")
    assert list(channels) == list(est.media_names_)
    budget = table_starting(html, "Channel", "Current split")
    for channel, spend in optimizer_result.starting_allocation.items():
        assert budget[channel][0] == f"€{spend:,.0f}"
    assert table_starting(html, "Allocation", "Predicted sales")
    coded = html_text(
        render_report(est, optimizer_result=optimizer_result, currency="k€")
    )
    assert f"{optimizer_result.budget:,.0f} k€" in coded
    for bad in ({"currency": ""}, {"kpi_name": " "}, {"currency": 3}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            render_report(est, **bad)


def test_incremental_kpi_is_the_channels_contribution(full_report, est):
    _, html = full_report
    table = table_starting(html, "Channel", "Incremental KPI")
    draws = attribution.incremental_kpi(est)
    np.testing.assert_allclose(
        draws.to_numpy() / est.media_prior_, attribution.roi(est).to_numpy(), rtol=1e-6
    )
    for channel in est.media_names_:
        shown = float(table[channel][0].replace(",", ""))
        assert shown == pytest.approx(draws[channel].mean(), rel=1e-3, abs=0.5)


def test_every_technical_term_has_its_footnote(full_report):
    _, html = full_report
    body, _, terms = html.partition('<section id="terms">')
    used = set(SUPERSCRIPTS.findall(body))
    explained = re.findall(r"<dt>([⁰¹²³⁴⁵⁶⁷⁸⁹]+) ", terms)
    assert sorted(used) == sorted(explained) and len(explained) >= 8
    text = html_text(terms)
    for term in ("ROI (return on investment)", "Credible interval", "R² (in sample)"):
        assert term in text


def test_figures_get_thousands_separators_and_legends_beside_the_data():
    import matplotlib.pyplot as plt

    from skmmm.report import _readable, _Units

    figure, ax = plt.subplots()
    ax.plot([0, 1, 2], [0, 120_000, 250_000], label="Predicted KPI")
    ax.legend(loc="lower right")
    _readable(figure, _Units(kpi_name="sales"))
    figure.canvas.draw()
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert any("," in label for label in labels), labels
    legend = ax.get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["Predicted sales"]
    renderer = figure.canvas.get_renderer()
    assert not legend.get_window_extent(renderer).overlaps(
        ax.get_window_extent(renderer)
    )
    plt.close(figure)


@pytest.mark.parametrize("width", [1400, 800])
def test_report_fits_the_window_in_chromium(browser, full_report, width):
    path, _ = full_report
    browser.set_window_size(width, 1000)
    _open(browser, path)
    page_width = browser.execute_script("return document.documentElement.scrollWidth")
    window = browser.execute_script("return document.documentElement.clientWidth")
    assert page_width <= window  # wide tables scroll inside their own box
    widths = browser.execute_script(
        "return Array.from(document.images).map(function (img) {"
        "  return img.getBoundingClientRect().right; });"
    )
    assert max(widths) <= window


def test_lift_test_section_only_with_lift_tests(est, full_report, national_data):
    _, html = full_report
    assert 'id="lift-tests"' not in html
    dates = national_data.X.index
    calibrated = copy.copy(est)
    calibrated.lift_tests = pd.DataFrame(
        {
            "channel": [national_data.media_columns[0]],
            "start": [dates[50]],
            "end": [dates[57]],
            "delta_spend": [1000.0],
            "lift": [12345.0],
            "lift_sd": [1000.0],
        },
        index=["<b>tv</b>"],
    )
    html = render_report(calibrated)
    assert '<section id="lift-tests">' in html and 'href="#lift-tests"' in html
    assert "12,345" in html or "1.23e+04" in html or "12345" in html
    assert "&lt;b&gt;tv&lt;/b&gt;" in html and "<b>tv</b>" not in html
