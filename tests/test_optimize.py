"""Tests for ``skmmm.optimize`` on the small real fits shared with attribution.

``national_fit`` and ``geo_fit`` are session fixtures of conftest.py.
"""

import _geo
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skmmm.optimize import BudgetOptimizer

N_PERIODS = 10


@pytest.fixture(scope="module")
def optimizer(national_fit):
    return BudgetOptimizer(national_fit)


@pytest.fixture(scope="module")
def budget(optimizer):
    return N_PERIODS * float(
        optimizer.estimator.training_data_.media.mean(axis=0).sum()
    )


def test_optimize_improves_and_spends_the_budget(optimizer, budget):
    result = optimizer.optimize(budget, N_PERIODS)
    assert result.success, result.message
    assert result.optimal_allocation.sum() == pytest.approx(budget, rel=1e-9)
    assert result.kpi_optimal >= result.kpi_starting
    assert list(result.optimal_allocation.index) == optimizer.channels
    historical = optimizer.estimator.training_data_.media.mean(axis=0)
    np.testing.assert_allclose(
        result.starting_allocation, budget * historical / historical.sum()
    )
    lower, upper = result.kpi_optimal_interval
    assert lower <= result.kpi_optimal <= upper


def test_optimum_matches_brute_force_grid(optimizer, budget):
    """One channel fixed, two free: a 1-D grid over their split is the truth."""
    fixed = optimizer.channels[-1]
    result = optimizer.optimize(budget, N_PERIODS, fixed_channels=[fixed])
    lower, upper = result.bounds_lower.to_numpy(), result.bounds_upper.to_numpy()
    free_budget = budget - result.starting_allocation[fixed]
    first = np.linspace(
        max(lower[0], free_budget - upper[1]),
        min(upper[0], free_budget - lower[1]),
        401,
    )
    kpis = []
    for spend in first:
        allocation = np.array(
            [spend, free_budget - spend, result.starting_allocation[fixed]]
        )
        kpis.append(optimizer.evaluate(allocation, N_PERIODS).mean())
    best = int(np.argmax(kpis))
    assert result.kpi_optimal >= kpis[best] - 1e-7 * abs(kpis[best])
    step = first[1] - first[0]
    assert abs(result.optimal_allocation.iloc[0] - first[best]) <= 2 * step


@settings(max_examples=20, deadline=None)
@given(
    budget_factor=st.floats(0.0, 1.0),
    lower_pct=st.floats(0.0, 0.9),
    upper_pct=st.floats(0.0, 1.0),
)
def test_property_budget_bounds_and_improvement(
    optimizer, budget_factor, lower_pct, upper_pct
):
    opt = BudgetOptimizer(
        optimizer.estimator, bounds_lower_pct=lower_pct, bounds_upper_pct=upper_pct
    )
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    low, high = (1 - lower_pct) * base.sum(), (1 + upper_pct) * base.sum()
    budget = low + budget_factor * (high - low)
    result = opt.optimize(budget, N_PERIODS)
    allocation = result.optimal_allocation.to_numpy()
    assert allocation.sum() == pytest.approx(budget, rel=1e-6)
    tolerance = 1e-9 * budget
    assert np.all(allocation >= result.bounds_lower.to_numpy() - tolerance)
    assert np.all(allocation <= result.bounds_upper.to_numpy() + tolerance)
    assert result.kpi_optimal >= result.kpi_starting - 1e-9 * abs(result.kpi_starting)


@settings(max_examples=25, deadline=None)
@given(
    lower_factors=st.lists(st.floats(0.0, 1.5), min_size=3, max_size=3),
    widths=st.lists(st.floats(0.0, 1.5), min_size=3, max_size=3),
    budget_factor=st.floats(0.0, 1.0),
    lock=st.one_of(st.none(), st.tuples(st.integers(0, 2), st.floats(0.0, 2.0))),
)
def test_property_never_reports_an_improvement_it_does_not_have(
    optimizer, lower_factors, widths, budget_factor, lock
):
    """Bounds and locks the historical split breaks: the start obeys them too."""
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    lower = base * np.asarray(lower_factors)
    upper = lower + base * np.asarray(widths)
    fixed = None
    if lock is not None:
        position, factor = lock
        value = factor * base[position]
        fixed = {optimizer.channels[position]: value}
        lower[position] = upper[position] = value
    budget = lower.sum() + budget_factor * (upper.sum() - lower.sum())
    if budget <= 0:
        return
    result = optimizer.optimize(
        budget,
        N_PERIODS,
        fixed_channels=fixed,
        bounds_lower=lower,
        bounds_upper=upper,
    )
    start = result.starting_allocation.to_numpy()
    tolerance = 1e-6 * budget
    assert start.sum() == pytest.approx(budget, rel=1e-6)
    assert np.all(start >= lower - tolerance) and np.all(start <= upper + tolerance)
    if result.success:
        assert result.kpi_optimal >= result.kpi_starting


def test_infeasible_budget_raises_before_solving(optimizer, budget, monkeypatch):
    def no_solve(*args, **kwargs):
        raise AssertionError("solver called")

    monkeypatch.setattr("skmmm.optimize.minimize", no_solve)
    with pytest.raises(ValueError, match="below the sum of the lower bounds"):
        optimizer.optimize(0.5 * budget, N_PERIODS)
    with pytest.raises(ValueError, match="above the sum of the upper bounds"):
        optimizer.optimize(2 * budget, N_PERIODS)


def test_fixed_channels_stay_fixed(optimizer, budget):
    channel = optimizer.channels[0]
    result = optimizer.optimize(budget, N_PERIODS, fixed_channels=[channel])
    assert result.optimal_allocation[channel] == pytest.approx(
        result.starting_allocation[channel], rel=1e-12
    )
    value = 0.3 * budget
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    result = optimizer.optimize(
        budget,
        N_PERIODS,
        fixed_channels={channel: value},
        bounds_lower=0.5 * base,
        bounds_upper=2 * base,
    )
    assert result.optimal_allocation[channel] == pytest.approx(value, rel=1e-12)
    assert result.optimal_allocation.sum() == pytest.approx(budget, rel=1e-9)


def test_bounds_matched_by_channel_name(optimizer, budget):
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    names = optimizer.channels
    lower = pd.Series(0.9 * base, index=names)[::-1]  # reversed order on purpose
    upper = {name: 1.1 * b for name, b in zip(names, base, strict=True)}
    upper[names[0]] = 1.5 * base[0]
    result = optimizer.optimize(
        base.sum(), N_PERIODS, bounds_lower=lower, bounds_upper=upper
    )
    assert result.bounds_upper[names[0]] == pytest.approx(1.5 * base[0])
    np.testing.assert_allclose(result.bounds_lower[names], 0.9 * base)


def test_optimize_for_target(optimizer, budget):
    reference = optimizer.optimize(budget, N_PERIODS)
    target = reference.kpi_optimal * 1.005
    result = optimizer.optimize_for_target(target, N_PERIODS)
    assert result.kpi_optimal >= target
    smaller = optimizer.optimize(result.budget * (1 - 1e-3), N_PERIODS)
    assert smaller.kpi_optimal < target
    with pytest.raises(ValueError, match="cannot reach"):
        optimizer.optimize_for_target(reference.kpi_optimal * 10, N_PERIODS)


def test_optimize_for_marginal_roi_spends_until_the_next_unit_returns_the_target(
    optimizer, budget
):
    wide = BudgetOptimizer(
        optimizer.estimator, bounds_lower_pct=0.9, bounds_upper_pct=3.0
    )
    now = _best_marginal(wide, budget)  # the next unit's return at today's budget
    results = {
        factor: wide.optimize_for_marginal_roi(factor * now, N_PERIODS)
        for factor in (1.1, 1.25)
    }
    # Asking more of the last unit of spend means a smaller budget.
    assert results[1.25].budget < results[1.1].budget < budget
    for factor, result in results.items():
        target = factor * now
        assert result.optimal_allocation.sum() == pytest.approx(result.budget)
        assert result.marginal_roi >= target
        # A little more budget and the next unit returns less than the target.
        assert _best_marginal(wide, 1.01 * result.budget) < target


def _best_marginal(optimizer, budget) -> float:
    """The most one more unit of spend returns at the optimal split of ``budget``."""
    result = optimizer.optimize(budget, N_PERIODS)
    step = 1e-3 * budget
    base = optimizer.evaluate(result.optimal_allocation, N_PERIODS).mean()
    allocation = result.optimal_allocation.to_numpy()
    return max(
        (optimizer.evaluate(allocation + step * np.eye(len(allocation))[c], N_PERIODS)
         .mean() - base) / step
        for c in range(len(allocation))
    )  # fmt: skip


def test_optimize_for_marginal_roi_says_when_the_bounds_stop_spending(
    optimizer, budget
):
    unreachable = optimizer.optimize_for_marginal_roi(0.0, N_PERIODS)
    # The bounds stop the spending before the next unit returns nothing.
    assert "widen bounds_upper" in unreachable.message
    assert unreachable.budget == pytest.approx(unreachable.bounds_upper.sum())
    greedy = optimizer.optimize_for_marginal_roi(1e9, N_PERIODS)
    assert "even the smallest budget" in greedy.message
    assert greedy.budget == pytest.approx(greedy.bounds_lower.sum())
    for bad in (-1.0, float("nan"), "1"):
        with pytest.raises(ValueError, match="target_marginal_roi"):
            optimizer.optimize_for_marginal_roi(bad, N_PERIODS)


def test_starting_allocation_recent_or_a_plan(optimizer, budget):
    wide = BudgetOptimizer(
        optimizer.estimator, bounds_lower_pct=1.0, bounds_upper_pct=5.0
    )
    media = optimizer.estimator.training_data_.media
    recent = media[-N_PERIODS:].sum(axis=0)
    result = wide.optimize(budget, N_PERIODS, starting_allocation="recent")
    np.testing.assert_allclose(
        result.starting_allocation, budget * recent / recent.sum(), rtol=1e-9
    )
    assert "outside the bounds" not in result.message
    shares = [0.5, 0.3, 0.2]
    plan = {c: s * budget for c, s in zip(optimizer.channels, shares, strict=True)}
    planned = wide.optimize(
        budget, N_PERIODS, starting_allocation=plan, fixed_channels=["tv"]
    )
    np.testing.assert_allclose(planned.starting_allocation, list(plan.values()))
    # A lock keeps the plan's spend.
    assert planned.optimal_allocation["tv"] == pytest.approx(plan["tv"])
    assert planned.kpi_starting == pytest.approx(
        wide.evaluate(plan, N_PERIODS).mean(), rel=1e-9
    )
    with pytest.raises(ValueError, match="adds up to"):
        wide.optimize(budget, N_PERIODS, starting_allocation={**plan, "tv": 0.0})
    with pytest.raises(ValueError, match="starting_allocation must be"):
        wide.optimize(budget, N_PERIODS, starting_allocation="latest")
    with pytest.raises(ValueError, match="starting_allocation must name every"):
        wide.optimize(budget, N_PERIODS, starting_allocation={"tv": budget})


def test_result_flags_spend_outside_the_range_the_data_saw(optimizer, budget):
    within = optimizer.optimize(budget, N_PERIODS)
    assert not within.outside_observed_range.any()
    media = optimizer.estimator.training_data_.media
    wide = BudgetOptimizer(
        optimizer.estimator, bounds_lower_pct=1.0, bounds_upper_pct=10.0
    )
    large = wide.optimize(10 * N_PERIODS * media.mean(axis=0).sum(), N_PERIODS)
    weekly = large.optimal_allocation / N_PERIODS
    expected = (weekly > media.max(axis=0)) | (weekly < media.min(axis=0))
    assert large.outside_observed_range.any()
    assert (large.outside_observed_range == expected).all()


def test_evaluate_gives_the_results_kpi_draws(optimizer, budget):
    result = optimizer.optimize(budget, N_PERIODS)
    draws = optimizer.evaluate(result.optimal_allocation, N_PERIODS)
    assert draws.shape == (len(optimizer.estimator.posterior_["sigma"]),)
    assert draws.mean() == pytest.approx(result.kpi_optimal, rel=1e-9)
    by_name = optimizer.evaluate(result.starting_allocation.to_dict(), N_PERIODS)
    assert by_name.mean() == pytest.approx(result.kpi_starting, rel=1e-9)


@pytest.mark.parametrize("batch_size", [4, 3])
def test_carryover_horizon_needs_only_the_kernel_of_history(batch_size):
    """The optimiser's shortcut for carryover (last 12 periods of history only)
    gives exactly the horizon KPI of the full-history mean, all draws at once
    or in batches."""
    import jax.numpy as jnp

    from skmmm.models import ModelSpec, mean_components
    from skmmm.optimize import _horizon_kpi

    rng = np.random.default_rng(0)
    n_hist, n_horizon, n_channels, n_draws = 40, 6, 3, 4
    spec = ModelSpec("carryover", degrees_seasonality=1, trend_time_scale=40.0)
    params = {
        "intercept": jnp.asarray(rng.uniform(0.5, 1, n_draws)),
        "coef_trend": jnp.asarray(rng.normal(size=n_draws)),
        "expo_trend": jnp.asarray(rng.uniform(0.5, 1.5, n_draws)),
        "sigma": jnp.ones(n_draws),
        "gamma_seasonality": jnp.asarray(rng.normal(size=(n_draws, 1, 2))),
        "coef_extra_features": jnp.asarray(rng.normal(size=(n_draws, 1))),
        "coef_media": jnp.asarray(rng.uniform(0.1, 1, (n_draws, n_channels))),
        "ad_effect_retention_rate": jnp.asarray(
            rng.uniform(0.2, 0.95, (n_draws, n_channels))
        ),
        "peak_effect_delay": jnp.asarray(rng.uniform(0, 4, (n_draws, n_channels))),
        "exponent": jnp.asarray(rng.uniform(0.5, 1, (n_draws, n_channels))),
    }
    n_times = n_hist + n_horizon
    media = jnp.asarray(rng.gamma(2.0, 0.5, (n_times, n_channels)))
    extra = jnp.asarray(rng.normal(size=(n_times, 1)))
    time_index = jnp.arange(n_times, dtype=media.dtype)
    weekly = jnp.asarray(rng.uniform(0.5, 2.0, n_channels))

    shortcut = _horizon_kpi(
        spec,
        n_hist,
        params,
        (media[:, :, None], extra[:, :, None], time_index),
        weekly[:, None],
        jnp.ones(1),
        batch_size,
    )

    full_media = media.at[n_hist:].set(jnp.broadcast_to(weekly, (n_horizon, 3)))
    expected = [
        mean_components(
            spec,
            {name: value[d] for name, value in params.items()},
            full_media,
            extra,
            time_index,
        )["mu"][n_hist:].sum()
        for d in range(n_draws)
    ]
    np.testing.assert_allclose(shortcut, expected, rtol=1e-5)


def test_estimator_optimize_budget_passes_options_through(optimizer, budget):
    est = optimizer.estimator
    direct = BudgetOptimizer(est, bounds_upper_pct=0.3).optimize(
        budget, N_PERIODS, fixed_channels=[optimizer.channels[0]]
    )
    method = est.optimize_budget(
        budget,
        N_PERIODS,
        bounds_upper_pct=0.3,
        fixed_channels=[optimizer.channels[0]],
    )
    pd.testing.assert_series_equal(method.optimal_allocation, direct.optimal_allocation)
    assert method.kpi_optimal == pytest.approx(direct.kpi_optimal)


@pytest.mark.parametrize("periods", [float("inf"), float("nan"), 0, 2.5, "10", True])
def test_bad_horizon_is_a_value_error_naming_it(optimizer, budget, periods):
    with pytest.raises(ValueError, match="n_time_periods must be a positive integer"):
        optimizer.optimize(budget, periods)


@pytest.mark.parametrize("target", [float("nan"), float("inf"), None])
def test_bad_target_is_a_value_error_naming_it(optimizer, target):
    with pytest.raises(ValueError, match="target_kpi must be a finite number"):
        optimizer.optimize_for_target(target, N_PERIODS)


def test_a_budget_search_names_an_unknown_keyword(optimizer):
    with pytest.raises(TypeError, match="unexpected keyword argument.*'price'"):
        optimizer.optimize_for_target(1.0, N_PERIODS, price=2.0)
    with pytest.raises(TypeError, match="unexpected keyword argument.*'bounds'"):
        optimizer.optimize_for_marginal_roi(1.0, N_PERIODS, bounds=None)


def test_unknown_fixed_channel_in_target_mode_is_named(optimizer):
    with pytest.raises(ValueError, match="unknown channel"):
        optimizer.optimize_for_target(1.0, N_PERIODS, fixed_channels={"nope": 1.0})


def test_per_channel_pct_bounds_as_array_dict_or_series(optimizer, budget):
    estimator = optimizer.estimator
    names = optimizer.channels
    base = N_PERIODS * estimator.training_data_.media.mean(axis=0)
    for lower_pct, upper_pct in (
        (np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.4, 0.3])),
        ({n: v for n, v in zip(names, [0.1, 0.2, 0.3], strict=True)}, 0.3),
        (pd.Series([0.1, 0.2, 0.3], index=names)[::-1], 0.3),
    ):
        opt = BudgetOptimizer(
            estimator, bounds_lower_pct=lower_pct, bounds_upper_pct=upper_pct
        )
        result = opt.optimize(base.sum(), N_PERIODS)
        np.testing.assert_allclose(
            result.bounds_lower.to_numpy(), (1 - np.array([0.1, 0.2, 0.3])) * base
        )
    with pytest.raises(ValueError, match="bounds_lower_pct must be in"):
        BudgetOptimizer(estimator, bounds_lower_pct=[0.1, 1.5, 0.2])


def test_partial_currency_bounds_keep_the_pct_bounds_of_other_channels(
    optimizer, budget
):
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    first = optimizer.channels[0]
    result = optimizer.optimize(
        base.sum(), N_PERIODS, bounds_upper={first: 1.05 * base[0]}
    )
    assert result.bounds_upper[first] == pytest.approx(1.05 * base[0])
    np.testing.assert_allclose(result.bounds_upper.iloc[1:], 1.2 * base[1:])


def test_result_flags_binding_bounds_and_the_probability_of_improvement(
    optimizer, budget
):
    base = N_PERIODS * optimizer.estimator.training_data_.media.mean(axis=0)
    fixed = optimizer.channels[-1]
    result = optimizer.optimize(base.sum(), N_PERIODS, fixed_channels=[fixed])
    binding = result.binding_bounds
    assert list(binding.index) == optimizer.channels
    assert binding[fixed] == "fixed"
    allocation = result.optimal_allocation
    for channel, label in binding.items():
        if label == "upper":
            assert allocation[channel] == pytest.approx(result.bounds_upper[channel])
        elif label == "lower":
            assert allocation[channel] == pytest.approx(result.bounds_lower[channel])
    assert 0.0 <= result.probability_of_improvement <= 1.0
    if result.kpi_optimal > result.kpi_starting:
        assert result.probability_of_improvement > 0.5


# ------------------------------------------------------------------ geo


def test_geo_optimizer_proportional_splits_by_historical_share(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    budget = float(data.costs.sum()) / _geo.N_PERIODS * 6
    result = BudgetOptimizer(est).optimize(budget, n_time_periods=6)
    by_geo = result.optimal_allocation_by_geo
    assert by_geo.shape == (_geo.N_CHANNELS, _geo.N_GEOS)
    np.testing.assert_allclose(by_geo.sum(axis=1), result.optimal_allocation)
    np.testing.assert_allclose(result.optimal_allocation.sum(), budget, rtol=1e-6)
    share = data.costs_by_geo.T.to_numpy() / data.costs.to_numpy()[:, None]
    np.testing.assert_allclose(
        by_geo.to_numpy() / by_geo.sum(axis=1).to_numpy()[:, None], share, rtol=1e-6
    )
    assert result.kpi_optimal >= result.kpi_starting - 1e-9
    lower, upper = result.bounds_lower, result.bounds_upper
    assert (
        (result.optimal_allocation >= lower - 1e-6)
        & (result.optimal_allocation <= upper + 1e-6)
    ).all()


def test_geo_optimizer_free_allocation_is_at_least_as_good(geo_fit, geo_data):
    est, data = geo_fit, geo_data
    budget = float(data.costs.sum()) / _geo.N_PERIODS * 6
    proportional = BudgetOptimizer(est).optimize(budget, n_time_periods=6)
    free = BudgetOptimizer(est, geo_allocation="free").optimize(budget, 6)
    np.testing.assert_allclose(free.optimal_allocation_by_geo.to_numpy().sum(), budget)
    base = free.starting_allocation_by_geo.to_numpy()
    alloc = free.optimal_allocation_by_geo.to_numpy()
    assert np.all(alloc >= 0.8 * base - 1e-6) and np.all(alloc <= 1.2 * base + 1e-6)
    assert free.kpi_optimal >= proportional.kpi_optimal - 1e-6 * abs(
        proportional.kpi_optimal
    )
    with pytest.raises(ValueError, match="geo_allocation"):
        BudgetOptimizer(est, geo_allocation="by_geo")


def test_geo_optimum_in_batches_of_draws_equals_all_at_once(
    geo_fit, geo_data, monkeypatch
):
    # A long history is optimised a few draws at a time (memory): the plan and
    # its KPI must not depend on the batch.
    from skmmm import draws

    budget = float(geo_data.costs.sum()) / _geo.N_PERIODS * 6
    whole = BudgetOptimizer(geo_fit, geo_allocation="free").optimize(budget, 6)
    n_media = geo_fit.fitted_.timeline().media.size
    monkeypatch.setattr(draws, "DRAW_BATCH_FLOATS", 8 * 3 * n_media)
    batched = BudgetOptimizer(geo_fit, geo_allocation="free").optimize(budget, 6)
    np.testing.assert_allclose(
        batched.optimal_allocation_by_geo.to_numpy(),
        whole.optimal_allocation_by_geo.to_numpy(),
        rtol=1e-6,
    )
    np.testing.assert_allclose(batched.kpi_optimal, whole.kpi_optimal, rtol=1e-9)
