"""Tests for ``skmmm.utils`` against independent references."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial import distance

from skmmm.utils import (
    distance_prior_posterior,
    get_beta_params_from_mu_sigma,
    get_halfnormal_mean_from_scale,
    get_halfnormal_scale_from_mean,
    interpolate_outliers,
)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


# ------------------------------------------------------------ distances


@pytest.mark.parametrize("shift", [0.0, 0.3, 1.0, 5.0])
def test_ks_matches_scipy(rng, shift):
    p = rng.normal(size=400)
    q = rng.normal(loc=shift, scale=1.5, size=300)
    expected = stats.ks_2samp(p, q).statistic
    assert distance_prior_posterior(p, q, method="KS") == pytest.approx(expected)


def test_ks_with_ties_matches_scipy(rng):
    p = rng.integers(0, 5, size=200)
    q = rng.integers(1, 7, size=150)
    expected = stats.ks_2samp(p, q).statistic
    assert distance_prior_posterior(p, q) == pytest.approx(expected)


def test_discrete_distances_match_hand_computed_pmfs():
    p = np.array([0, 0, 1, 2])  # pmf on {0, 1, 2, 3}: .5 .25 .25 0
    q = np.array([1, 2, 3, 3])  # pmf: 0 .25 .25 .5
    pmf_p = np.array([0.5, 0.25, 0.25, 0.0])
    pmf_q = np.array([0.0, 0.25, 0.25, 0.5])
    hellinger = np.sqrt(np.sum((np.sqrt(pmf_p) - np.sqrt(pmf_q)) ** 2) / 2)
    assert distance_prior_posterior(p, q, "Hellinger") == pytest.approx(hellinger)
    assert distance_prior_posterior(p, q, "JS") == pytest.approx(
        distance.jensenshannon(pmf_p, pmf_q, base=2)
    )
    assert distance_prior_posterior(p, q, "min") == pytest.approx(0.5)


@pytest.mark.parametrize("method", ["KS", "Hellinger", "JS", "min"])
@pytest.mark.parametrize("discrete", [True, False])
def test_distance_is_zero_for_identical_and_one_for_disjoint_samples(method, discrete):
    same = np.array([0.1, 0.5, 0.5, 0.9, 1.3])
    assert distance_prior_posterior(same, same, method, discrete) == pytest.approx(
        0.0, abs=1e-12
    )
    far = distance_prior_posterior(same, same + 100, method, discrete)
    assert far == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("method", ["Hellinger", "JS", "min"])
def test_continuous_distance_grows_with_the_shift(rng, method):
    prior = rng.normal(size=1000)
    distances = [
        distance_prior_posterior(
            prior, rng.normal(loc=shift, scale=0.5, size=500), method, discrete=False
        )
        for shift in (0.0, 1.0, 3.0)
    ]
    assert 0 <= distances[0] < distances[1] < distances[2] <= 1
    # Continuous draws share no values: the discrete estimate is saturated.
    assert distance_prior_posterior(
        prior, rng.normal(size=500), method, discrete=True
    ) == pytest.approx(1.0)


def test_continuous_js_matches_scipy_on_the_same_kde_grid(rng):
    p, q = rng.normal(size=300), rng.gamma(2.0, size=300)
    grid = np.linspace(min(p.min(), q.min()), max(p.max(), q.max()), 100)
    pmf_p = stats.gaussian_kde(p)(grid)
    pmf_q = stats.gaussian_kde(q)(grid)
    expected = distance.jensenshannon(pmf_p, pmf_q, base=2)
    assert distance_prior_posterior(p, q, "JS", discrete=False) == pytest.approx(
        expected, rel=1e-9
    )


def test_unknown_distance_method_is_refused():
    with pytest.raises(ValueError, match="Unknown distance method 'KL'"):
        distance_prior_posterior([1, 2], [1, 2], method="KL")


def test_distance_refuses_empty_or_non_finite_samples():
    with pytest.raises(ValueError, match="p must hold at least one sample"):
        distance_prior_posterior([], [1.0])
    with pytest.raises(ValueError, match="q holds non-finite"):
        distance_prior_posterior([1.0], [np.nan])


# ------------------------------------------------------- distributions


@pytest.mark.parametrize(
    ("mu", "sigma"), [(0.5, 0.1), (0.2, 0.05), (0.8, 0.2), (0.05, 0.01)]
)
def test_beta_params_round_trip_mean_and_sd(mu, sigma):
    a, b = get_beta_params_from_mu_sigma(mu, sigma, bracket=(0.01, 1000))
    assert stats.beta(a, b).mean() == pytest.approx(mu)
    assert stats.beta(a, b).std() == pytest.approx(sigma)


def test_beta_params_refuse_impossible_moments_and_out_of_bracket():
    with pytest.raises(ValueError, match="mu must be in"):
        get_beta_params_from_mu_sigma(1.2, 0.1)
    with pytest.raises(ValueError, match="sigma must be in"):
        get_beta_params_from_mu_sigma(0.5, 0.5)
    # mean .5, sd .01 needs a = b = 1249.5: outside the default bracket.
    with pytest.raises(ValueError, match="outside bracket"):
        get_beta_params_from_mu_sigma(0.5, 0.01)
    a, b = get_beta_params_from_mu_sigma(0.5, 0.01, bracket=(0.5, 2000))
    assert (a, b) == pytest.approx((1249.5, 1249.5))


@pytest.mark.parametrize("scale", [0.1, 1.0, 2.0, 37.5])
def test_halfnormal_mean_and_scale_are_inverse_and_match_scipy(scale):
    mean = get_halfnormal_mean_from_scale(scale)
    assert mean == pytest.approx(stats.halfnorm(scale=scale).mean())
    assert get_halfnormal_scale_from_mean(mean) == pytest.approx(scale)


def test_halfnormal_helpers_refuse_non_positive_values():
    with pytest.raises(ValueError, match="scale must be > 0"):
        get_halfnormal_mean_from_scale(0.0)
    with pytest.raises(ValueError, match="mean must be > 0"):
        get_halfnormal_scale_from_mean(-1.0)


# ------------------------------------------------------------ outliers


def test_interpolate_outliers_draws_straight_lines_and_copies():
    x = np.array([1.0, 2.0, 50.0, -40.0, 5.0, 6.0])
    cleaned = interpolate_outliers(x, [2, 3])
    np.testing.assert_allclose(cleaned, [1, 2, 3, 4, 5, 6])
    assert x[2] == 50.0  # the input is not modified


def test_interpolate_outliers_at_the_ends_takes_the_nearest_value():
    cleaned = interpolate_outliers([100.0, 2.0, 3.0, -7.0], [0, -1])
    np.testing.assert_allclose(cleaned, [2, 2, 3, 3])


def test_interpolate_outliers_works_per_column():
    x = np.column_stack([np.arange(5.0), 10 * np.arange(5.0)])
    x[2] = [99.0, -99.0]
    np.testing.assert_allclose(
        interpolate_outliers(x, [2]),
        np.column_stack([np.arange(5), np.arange(0, 50, 10)]),
    )


def test_interpolate_outliers_refuses_bad_positions():
    with pytest.raises(ValueError, match=r"outlier_idx \[7\] out of range"):
        interpolate_outliers(np.arange(5.0), [1, 7])
    with pytest.raises(ValueError, match="Every period is an outlier"):
        interpolate_outliers([1.0, 2.0], [0, 1])
    with pytest.raises(ValueError, match="integer positions"):
        interpolate_outliers([1.0, 2.0, 3.0], [1.5])
