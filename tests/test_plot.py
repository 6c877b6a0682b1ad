"""Tests for ``skmmm.plot``: each figure rendered with Agg on a small real fit.

The fits are the session fixtures of conftest.py shared with the attribution
and optimiser tests (``national_fit``: 156 weeks, 3 channels, 1 control;
``geo_fit``: 3 geos x 60 weeks), so a test process pays for each once.
"""

import copy
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import StepPatch  # noqa: E402
from numpyro import distributions as dist  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skmmm import AdstockRegressor, BudgetOptimizer, attribution, plot  # noqa: E402

N_PERIODS = 10


@pytest.fixture(scope="module")
def est(national_fit):
    return national_fit


@pytest.fixture(scope="module")
def data(national_data):
    return national_data


@pytest.fixture(scope="module")
def optimizer_result(est):
    budget = N_PERIODS * float(est.training_data_.media.mean(axis=0).sum())
    return BudgetOptimizer(est).optimize(budget, N_PERIODS)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _render(figure: Figure) -> Figure:
    """Render the figure to PNG with Agg (catches errors deferred to drawing)."""
    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")
    return figure


def _lines(ax) -> list:
    return list(ax.get_lines())


# ------------------------------------------------------- response curves


def test_response_curves_one_axes_per_channel_plus_overlay(est):
    figure = _render(plot.plot_response_curves(est, n_points=20))
    names = est.media_names_
    assert len(figure.axes) == len(names) + 1
    curves = attribution.response_curves(est, n_points=20)
    for ax, name in zip(figure.axes, names, strict=False):
        assert ax.get_title() == name
        (line,) = _lines(ax)
        expected = curves[curves["channel"] == name]
        np.testing.assert_allclose(line.get_xdata(), expected["spend"])
        # A band shades the spend the data saw (outside it: extrapolation).
        observed = attribution.observed_spend_range(est).loc[name]
        (band,) = [p for p in ax.patches if p.get_label() == "spend seen in the data"]
        x = band.get_x()
        assert x == pytest.approx(observed["min"])
        assert x + band.get_width() == pytest.approx(observed["max"])
        np.testing.assert_allclose(line.get_ydata(), expected["kpi_mean"])
        assert any(isinstance(c, PolyCollection) for c in ax.collections)
        assert ax.get_xlabel() == "Spend per period"
    overlay = figure.axes[-1]
    assert [line.get_label() for line in _lines(overlay)] == names
    assert [text.get_text() for text in overlay.get_legend().get_texts()] == names


def test_response_curves_subset_of_channels(est):
    figure = _render(plot.plot_response_curves(est, channels=["search"], n_points=5))
    assert [ax.get_title() for ax in figure.axes] == ["search", "All channels"]
    with pytest.raises(ValueError, match=r"Unknown channel\(s\) \['radio'\]"):
        plot.plot_response_curves(est, channels=["radio"])


def test_response_curves_mark_average_and_optimal_spend(est, optimizer_result):
    figure = _render(
        plot.plot_response_curves(est, optimizer_result=optimizer_result, n_points=5)
    )
    average = est.training_data_.media.mean(axis=0)
    optimal = optimizer_result.optimal_allocation / N_PERIODS
    for position, name in enumerate(est.media_names_):
        ax = figure.axes[position]
        curve, average_marker, optimal_marker = _lines(ax)
        assert average_marker.get_label() == "historical average"
        assert optimal_marker.get_label() == "optimal"
        assert average_marker.get_xdata()[0] == pytest.approx(average[position])
        assert optimal_marker.get_xdata()[0] == pytest.approx(optimal[name])
        at_optimal = attribution.response_curves(
            est, spend_grid=np.vstack([average, optimal[est.media_names_]])
        )
        expected = at_optimal[at_optimal["channel"] == name]["kpi_mean"].iloc[1]
        assert optimal_marker.get_ydata()[0] == pytest.approx(expected)


def test_response_curves_refuse_a_wrong_optimizer_result(est, optimizer_result):
    with pytest.raises(TypeError, match="must be the OptimizationResult"):
        plot.plot_response_curves(est, optimizer_result={"tv": 1.0})
    renamed = copy.copy(optimizer_result)
    renamed.optimal_allocation = optimizer_result.optimal_allocation.rename(
        lambda name: name.upper()
    )
    with pytest.raises(ValueError, match="optimizer_result is for channels"):
        plot.plot_response_curves(est, optimizer_result=renamed)


# ------------------------------------------------------ data exploration


@pytest.mark.parametrize("name", ["tv $1$", "bad$\\frac$"])
def test_dollar_signs_in_channel_names_are_drawn_as_written(data, name):
    """Two ``$`` would be read as math; a malformed one made saving fail."""
    X = data.X.rename(columns={data.media_columns[0]: name})
    columns = [name, *data.media_columns[1:]]
    figures = (
        plot.plot_cross_correlate(X, data.y, media_columns=columns, max_lag=2),
        plot.plot_var_cost(X, np.ones(len(columns)), media_columns=columns),
    )
    for figure in figures:
        figure.savefig(io.BytesIO(), format="png")  # after the plot call returned
        texts = [
            text
            for ax in figure.axes
            for text in (ax.title, *ax.texts, *ax.get_xticklabels())
            if name in text.get_text()
        ]
        assert texts and all(not text.get_parse_math() for text in texts)
        plt.close(figure)


def test_cross_correlate_bars_are_lagged_correlations(data):
    max_lag = 4
    figure = _render(
        plot.plot_cross_correlate(
            data.X, data.y, media_columns=data.media_columns, max_lag=max_lag
        )
    )
    assert len(figure.axes) == len(data.media_columns)
    y = pd.Series(np.asarray(data.y), index=data.X.index)
    for ax, name in zip(figure.axes, data.media_columns, strict=True):
        assert ax.get_title().startswith(f"{name}: peak")
        bars = ax.patches
        assert len(bars) == 2 * max_lag + 1
        heights = {
            round(bar.get_x() + bar.get_width() / 2): bar.get_height() for bar in bars
        }
        for lag in (-2, 0, 3):
            expected = y.corr(data.X[name].shift(lag))
            assert heights[lag] == pytest.approx(expected, abs=1e-9)


def test_cross_correlate_refuses_bad_input(data):
    with pytest.raises(ValueError, match=r"lacks the media column\(s\) \['radio'\]"):
        plot.plot_cross_correlate(data.X, data.y, media_columns=["radio"])
    with pytest.raises(ValueError, match="y has 10 values but X has 156 rows"):
        plot.plot_cross_correlate(data.X, data.y[:10], media_columns=data.media_columns)
    with pytest.raises(ValueError, match="max_lag must be an integer"):
        plot.plot_cross_correlate(data.X[data.media_columns], data.y, max_lag=500)


def test_var_cost_scatters_coefficient_of_variation_against_cost(data):
    media = data.X[data.media_columns]
    costs = data.costs.to_numpy()
    figure = _render(
        plot.plot_var_cost(data.X, costs, media_columns=data.media_columns)
    )
    (ax,) = figure.axes
    (points,) = ax.collections
    expected = media.std(ddof=0) / media.mean()
    np.testing.assert_allclose(points.get_offsets(), np.column_stack([costs, expected]))
    assert [text.get_text() for text in ax.texts] == data.media_columns
    assert ax.get_xlabel() == "Cost"


def test_var_cost_refuses_bad_input(data):
    media = data.X[data.media_columns].copy()
    with pytest.raises(ValueError, match="costs has 2 values but there are 3"):
        plot.plot_var_cost(media, [1.0, 2.0])
    with pytest.raises(ValueError, match="Media column 'label' is not numeric"):
        plot.plot_var_cost(media.assign(label="a"), [1.0, 2.0, 3.0, 4.0])
    media[data.media_columns[0]] = 0.0
    with pytest.raises(ValueError, match=rf"\['{data.media_columns[0]}'\] are zero"):
        plot.plot_var_cost(media, data.costs.to_numpy())


# ------------------------------------------------------------ model fit


def test_model_fit_shows_data_prediction_interval_and_scores(est, data):
    figure = _render(plot.plot_model_fit(est))
    (ax,) = figure.axes
    actual, predicted = _lines(ax)
    np.testing.assert_allclose(actual.get_ydata(), data.y)
    np.testing.assert_allclose(predicted.get_ydata(), est.predict(data.X), rtol=1e-6)
    assert pd.DatetimeIndex(actual.get_xdata()).equals(data.X.index)
    assert ax.get_xlabel() == "Date"
    title = ax.get_title()
    assert title.startswith("In-sample fit")
    r2 = float(re.search(r"R² = ([-\d.]+)", title).group(1))
    assert r2 == pytest.approx(est.score(data.X, data.y), abs=1e-3)
    assert re.search(r"MAPE = [\d.]+%", title)
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert band.get_label() == "90% predictive interval"


def test_model_fit_needs_y_with_x_and_a_fitted_estimator(est, data):
    with pytest.raises(ValueError, match="y is required with X"):
        plot.plot_model_fit(est, data.X)
    with pytest.raises(NotFittedError):
        plot.plot_model_fit(AdstockRegressor())


def test_out_of_sample_fit_on_periods_after_training(est, data):
    new = data.X.iloc[-8:].copy()
    new.index = new.index + pd.Timedelta(weeks=8)
    target = np.asarray(data.y)[-8:] * 1.01
    figure = _render(plot.plot_out_of_sample_model_fit(est, new, target))
    (ax,) = figure.axes
    actual, predicted = _lines(ax)
    assert pd.DatetimeIndex(actual.get_xdata()).equals(new.index)
    np.testing.assert_allclose(predicted.get_ydata(), est.predict(new), rtol=1e-6)
    assert ax.get_title().startswith("Out-of-sample fit")
    with pytest.raises(ValueError, match=data.media_columns[0]):
        plot.plot_out_of_sample_model_fit(
            est, new.drop(columns=data.media_columns[0]), target
        )


# ------------------------------------------------------------ posteriors


def test_media_channel_posteriors_one_axes_per_channel(est):
    figure = _render(plot.plot_media_channel_posteriors(est))
    assert [ax.get_title() for ax in figure.axes] == est.media_names_
    for position, ax in enumerate(figure.axes):
        density, *quantile_lines = _lines(ax)
        expected = np.quantile(
            est.posterior_["coef_media"][:, position], [0.05, 0.5, 0.95]
        )
        np.testing.assert_allclose([q.get_xdata()[0] for q in quantile_lines], expected)
        assert np.all(density.get_ydata() >= 0)


def test_prior_and_posterior_one_axes_per_parameter_element(est):
    figure = _render(plot.plot_prior_and_posterior(est, n_prior_samples=500))
    # The default media prior is on roi; coef_media's prior is implied by it.
    expected = sum(
        int(np.prod(v.shape[1:]))
        for name, v in est.posterior_.items()
        if name != "coef_media"
    )
    assert len(figure.axes) == expected
    titles = [ax.get_title() for ax in figure.axes]
    for name in est.media_names_:
        assert any(title.startswith(f"roi[{name}] (KS ") for title in titles)
    for name in est.media_names_:
        assert any(title.startswith(f"lag_weight[{name}] (KS ") for title in titles)
    assert any(title.startswith("gamma_seasonality[1,cos]") for title in titles)
    for ax in figure.axes:
        assert [line.get_label() for line in _lines(ax)] == ["prior", "posterior"]


def test_prior_and_posterior_uses_the_fitted_priors(est):
    priors = est.fitted_.site_priors()
    assert "coef_media" not in priors
    # The default ROI prior is relative to the data's average return.
    loc = np.log(0.2 * est.roi_reference_)
    np.testing.assert_allclose(priors["roi"].mean, np.exp(loc + 0.9**2 / 2), rtol=1e-5)
    np.testing.assert_allclose(
        priors["roi"].variance,
        (np.exp(0.9**2) - 1) * np.exp(2 * loc + 0.9**2),
        rtol=1e-4,
    )
    on_coefficients = copy.copy(est)
    on_coefficients.custom_priors = {"coef_media": 1.0}
    assert "roi" not in on_coefficients.fitted_.site_priors()
    lightweight = copy.copy(est)
    lightweight.parametrization = "lightweight_mmm"
    media_prior = np.asarray(est.media_prior_)
    np.testing.assert_allclose(
        lightweight.fitted_.site_priors()["coef_media"].scale,
        media_prior / media_prior.mean(),
    )
    custom = copy.copy(est)
    custom.custom_priors = {
        "lag_weight": {"concentration1": 50.0, "concentration0": 50.0}
    }
    figure = _render(
        plot.plot_prior_and_posterior(
            custom, parameters="lag_weight", n_prior_samples=500
        )
    )
    assert len(figure.axes) == len(est.media_names_)
    for ax in figure.axes:
        prior_line = _lines(ax)[0]
        peak = prior_line.get_xdata()[np.argmax(prior_line.get_ydata())]
        assert peak == pytest.approx(0.5, abs=0.05)  # Beta(50, 50) peaks at 0.5
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['slope'\]"):
        plot.plot_prior_and_posterior(est, parameters=["slope"])


# ------------------------------------------------------------- metrics


@pytest.mark.parametrize(
    ("metric", "draws_of"),
    [("roi", attribution.roi), ("contribution_share", attribution.contribution_share)],
)
def test_metric_bars_agree_with_attribution(est, metric, draws_of):
    # PITFALLS: summary numbers that disagree with the plots (LightweightMMM #96).
    figure = _render(plot.plot_bars_media_metrics(est, metric=metric, interval=0.8))
    (ax,) = figure.axes
    draws = draws_of(est)
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], draws.mean())
    assert [label.get_text() for label in ax.get_xticklabels()] == est.media_names_
    (errorbar,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    (error_lines,) = errorbar.lines[2]
    segments = error_lines.get_segments()
    np.testing.assert_allclose([s[0][1] for s in segments], draws.quantile(0.1))
    np.testing.assert_allclose([s[1][1] for s in segments], draws.quantile(0.9))


def test_metric_bars_draw_a_mean_outside_its_interval(est, monkeypatch):
    # Heavy tails: a few extreme draws put the mean above the 95% quantile.
    draws = attribution.roi(est).copy()
    draws.iloc[:3, 0] = 1e6
    monkeypatch.setattr(plot.attribution, "roi", lambda estimator: draws)
    figure = _render(plot.plot_bars_media_metrics(est))
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    assert heights[0] == pytest.approx(draws.iloc[:, 0].mean())


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_metric_bars_title_fits_the_figure(est, monkeypatch, n_channels):
    draws = attribution.roi(est).iloc[:, :n_channels]
    monkeypatch.setattr(plot.attribution, "roi", lambda estimator: draws)
    figure = _render(plot.plot_bars_media_metrics(est))
    (ax,) = figure.axes
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    extent = ax.title.get_window_extent(canvas.get_renderer())
    assert ax.get_title().startswith("Return on investment per channel")
    assert 0 <= extent.x0 and extent.x1 <= figure.bbox.width


def test_metric_bars_refuse_unknown_metric_and_unfitted_estimator(est):
    with pytest.raises(ValueError, match="Unknown metric 'mroi'"):
        plot.plot_bars_media_metrics(est, metric="mroi")
    with pytest.raises(NotFittedError):
        plot.plot_bars_media_metrics(AdstockRegressor())


def test_pre_post_budget_allocation_comparison(optimizer_result):
    figure = _render(plot.plot_pre_post_budget_allocation_comparison(optimizer_result))
    spend_ax, kpi_ax = figure.axes
    starting, optimal = spend_ax.containers
    assert [c.get_label() for c in (starting, optimal)] == [
        "starting split",
        "optimal",
    ]
    np.testing.assert_allclose(
        [bar.get_height() for bar in starting], optimizer_result.starting_allocation
    )
    np.testing.assert_allclose(
        [bar.get_height() for bar in optimal], optimizer_result.optimal_allocation
    )
    names = list(optimizer_result.optimal_allocation.index)
    assert [label.get_text() for label in spend_ax.get_xticklabels()] == names
    shares = optimizer_result.optimal_allocation / optimizer_result.budget
    assert [t.get_text() for t in spend_ax.texts][len(names) :] == [
        f"{share:.0%}" for share in shares
    ]
    (kpi_bars,) = [c for c in kpi_ax.containers if isinstance(c, BarContainer)]
    np.testing.assert_allclose(
        [bar.get_height() for bar in kpi_bars],
        [optimizer_result.kpi_starting, optimizer_result.kpi_optimal],
    )
    with pytest.raises(TypeError, match="got dict"):
        plot.plot_pre_post_budget_allocation_comparison({"tv": 1.0})


# ------------------------------------------------------- contributions


def test_contribution_df_adds_up_to_the_prediction(est, data):
    frame = plot.create_media_baseline_contribution_df(est)
    names = est.media_names_
    parts = [*names, "baseline"]
    assert frame.index.equals(data.X.index)
    np.testing.assert_allclose(frame["avg_prediction"], est.predict(data.X), rtol=1e-5)
    contributions = frame[[f"{p} contribution" for p in parts]].sum(axis=1)
    np.testing.assert_allclose(contributions, frame["avg_prediction"], rtol=1e-9)
    shares = frame[[f"{p}_percentage" for p in parts]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0, rtol=1e-9)
    np.testing.assert_array_equal(frame["period"], np.arange(1, len(data.X) + 1))


def test_contribution_area_plot_stacks_baseline_and_channels(est, data):
    figure = _render(plot.plot_media_baseline_contribution_area_plot(est))
    (ax,) = figure.axes
    assert len(ax.collections) == len(est.media_names_) + 1
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [*est.media_names_[::-1], "baseline"]
    assert ax.get_xlabel() == "Date"
    # The top of the stack is the prediction.
    top = ax.collections[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(est.predict(data.X).max(), rel=1e-5)


# ---------------------------------------------------------- diagnostics


def test_mcmc_diagnostics_show_the_worst_rhat_parameters(est):
    figure = _render(plot.plot_mcmc_diagnostics(est, n_parameters=3))
    assert len(figure.axes) == 6
    worst = max(float(np.nanmax(v)) for v in est.rhat_.values())
    first_title = figure.axes[0].get_title()
    assert f"r_hat {worst:.3f}" in first_title
    n_chains, n_samples = est.number_chains, est.number_samples
    for trace_ax, rank_ax in zip(figure.axes[::2], figure.axes[1::2], strict=True):
        assert len(_lines(trace_ax)) == n_chains
        assert all(len(line.get_ydata()) == n_samples for line in _lines(trace_ax))
        stairs = [p for p in rank_ax.patches if isinstance(p, StepPatch)]
        assert len(stairs) == n_chains
        assert all(s.get_data().values.sum() == n_samples for s in stairs)
    with pytest.raises(ValueError, match="n_parameters must be a positive integer"):
        plot.plot_mcmc_diagnostics(est, n_parameters=0)


def test_mcmc_diagnostics_after_reduce_trace_merge_the_chains(est):
    thinned = copy.copy(est).reduce_trace(50, random_state=0)
    figure = _render(plot.plot_mcmc_diagnostics(thinned, n_parameters=1))
    (line,) = _lines(figure.axes[0])
    assert line.get_label() == "all draws (chains merged)"
    assert len(line.get_ydata()) == 50
    # One row of draws: the rank plot compares its halves (a single row's
    # ranks among themselves would be uniform whatever the chain did).
    stairs = [p for p in figure.axes[1].patches if isinstance(p, StepPatch)]
    assert [s.get_label() for s in stairs] == [
        "all draws (chains merged), first half",
        "all draws (chains merged), second half",
    ]
    assert [s.get_data().values.sum() for s in stairs] == [25, 25]


def test_plots_leave_pyplot_and_rcparams_alone(est, data):
    before = dict(matplotlib.rcParams)
    figures_before = plt.get_fignums()
    plot.plot_bars_media_metrics(est)
    plot.plot_var_cost(data.X[data.media_columns], data.costs.to_numpy())
    assert plt.get_fignums() == figures_before
    assert dict(matplotlib.rcParams) == before


# ------------------------------------------------------------------ geo


@pytest.fixture(scope="module")
def geo(geo_fit):
    return geo_fit


def test_geo_model_fit_shows_national_totals(geo, geo_data):
    data = geo_data
    figure = _render(plot.plot_model_fit(geo))
    (ax,) = figure.axes
    actual, predicted = _lines(ax)
    dates = pd.DatetimeIndex(sorted(data.X["date"].unique()))
    assert pd.DatetimeIndex(actual.get_xdata()).equals(dates)
    national_y = pd.Series(np.asarray(data.y)).groupby(data.X["date"].to_numpy()).sum()
    np.testing.assert_allclose(actual.get_ydata(), national_y)
    national_prediction = (
        pd.Series(geo.predict(data.X)).groupby(data.X["date"].to_numpy()).sum()
    )
    np.testing.assert_allclose(predicted.get_ydata(), national_prediction, rtol=1e-5)


def test_geo_contributions_and_channel_posteriors_are_national(geo):
    frame = plot.create_media_baseline_contribution_df(geo)
    national = attribution.contributions(geo)
    np.testing.assert_allclose(
        frame["tv contribution"], national["tv"].astype(float), rtol=1e-9
    )
    figure = _render(plot.plot_media_channel_posteriors(geo))
    assert [ax.get_title() for ax in figure.axes] == geo.media_names_
    figure = _render(
        plot.plot_prior_and_posterior(
            geo, parameters=["intercept", "lag_weight"], n_prior_samples=200
        )
    )
    titles = [ax.get_title().split(" (KS")[0] for ax in figure.axes]
    assert titles == [
        *(f"intercept[{g}]" for g in geo.geo_names_),
        *(f"lag_weight[{c}]" for c in geo.media_names_),
    ]
    # Per-geo coefficients have a hierarchical prior, not one of their own.
    with pytest.raises(ValueError, match=r"Unknown parameter\(s\) \['coef_media'\]"):
        plot.plot_prior_and_posterior(geo, parameters=["coef_media"])


@pytest.mark.parametrize(
    "prior",
    [
        dist.Normal(0.5, 2.0),
        dist.HalfNormal(1.5),
        dist.Uniform(0.5, 1.5),
        dist.Gamma(3.0, 2.0),
        dist.Beta(2.0, 5.0),
        dist.LogNormal(0.2, 0.7),
        dist.Exponential(3.0),
    ],
    ids=lambda prior: type(prior).__name__,
)
def test_prior_densities_are_numpyros(prior):
    (element,) = plot._prior_elements(prior, (), n_samples=10, seed=0)
    points = np.array([0.6, 0.75, 0.9])  # inside every support
    np.testing.assert_allclose(
        element.frozen.logpdf(points), np.asarray(prior.log_prob(points)), rtol=1e-5
    )


def test_other_priors_are_sampled_with_numpyro():
    prior = dist.TruncatedNormal(0.0, 1.0, low=0.2).expand((2,))
    elements = plot._prior_elements(prior, (2,), n_samples=300, seed=0)
    assert len(elements) == 2
    assert all(e.frozen is None and e.samples.min() >= 0.2 for e in elements)


def test_prior_predictive_plot_shows_the_kpi_and_the_priors_band(national_data):
    data = national_data
    unfitted = AdstockRegressor(media_columns=data.media_columns)
    figure = _render(plot.plot_prior_predictive(unfitted, data.X, data.y, n_draws=100))
    (ax,) = figure.axes
    actual, median = _lines(ax)
    np.testing.assert_allclose(actual.get_ydata(), data.y.to_numpy())
    draws = unfitted.sample_prior_predictive(
        data.X, data.y, n_draws=100, random_state=0
    )
    np.testing.assert_allclose(median.get_ydata(), np.median(draws, axis=0))
    assert "Prior predictive" in ax.get_title()


def test_prior_predictive_plot_sums_geos_per_date(geo_data, geo_estimator):
    figure = _render(
        plot.plot_prior_predictive(geo_estimator(), geo_data.X, geo_data.y, n_draws=30)
    )
    actual, _ = _lines(figure.axes[0])
    totals = geo_data.y.groupby(geo_data.X["date"].to_numpy()).sum()
    np.testing.assert_allclose(actual.get_ydata(), totals.to_numpy())


def test_model_fit_of_a_ragged_panel_sums_the_rows_x_had(ragged_geo_fit):
    est, X, y = ragged_geo_fit
    actual, predicted = _lines(_render(plot.plot_model_fit(est)).axes[0])
    totals = y.groupby(X["date"].to_numpy()).sum()
    np.testing.assert_allclose(actual.get_ydata(), totals.to_numpy())
    prediction = pd.Series(est.predict(X)).groupby(X["date"].to_numpy()).sum()
    np.testing.assert_allclose(predicted.get_ydata(), prediction, rtol=1e-5)


def test_prior_predictive_plot_of_a_ragged_panel_and_of_filled_weeks(
    ragged_geo_fit, filled_national_fit
):
    for est, X, y in (ragged_geo_fit, filled_national_fit):
        figure = plot.plot_prior_predictive(est, X, y, n_draws=20)
        actual, median = _lines(_render(figure).axes[0])
        dates = X["date"] if "date" in X.columns else X.index
        totals = y.groupby(np.asarray(dates)).sum()
        np.testing.assert_allclose(actual.get_ydata(), totals.to_numpy())
        assert len(median.get_ydata()) == len(totals)


def test_plot_lift_tests_draws_measured_and_modelled_lift(est, data):
    dates = data.X.index
    table = pd.DataFrame(
        {
            "channel": data.media_columns[:2],
            "start": [dates[50], dates[100]],
            "end": [dates[57], dates[103]],
            "delta_spend": [1000.0, 500.0],
            "lift": [1e4, 5e3],
            "lift_sd": [1e3, 1e3],
        },
        index=["tv_test", "search_test"],
    )
    figure = _render(plot.plot_lift_tests(est, lift_tests=table))
    ax = figure.axes[0]
    assert len([c for c in ax.containers if isinstance(c, ErrorbarContainer)]) == 2
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == [
        f"tv_test: {data.media_columns[0]}",
        f"search_test: {data.media_columns[1]}",
    ]
    assert list(ax.get_yticks()) == [1.0, 0.0]  # the first test on top
    with_before = plot.plot_lift_tests(est, lift_tests=table, uncalibrated=est)
    containers = with_before.axes[0].containers
    assert len([c for c in containers if isinstance(c, ErrorbarContainer)]) == 3
