"""Small statistical helpers (LightweightMMM's ``utils``).

- :func:`distance_prior_posterior`: how far the posterior moved from the
  prior, from samples of both (Kolmogorov-Smirnov, Hellinger, Jensen-Shannon
  or one minus the overlap), a number between 0 and 1.
- :func:`get_beta_params_from_mu_sigma`: the Beta distribution with a given
  mean and standard deviation (to write a custom prior from a belief).
- :func:`get_halfnormal_mean_from_scale`, :func:`get_halfnormal_scale_from_mean`:
  the HalfNormal's mean and scale, one from the other.
- :func:`interpolate_outliers`: replace chosen periods of a series by linear
  interpolation of their neighbours.

LightweightMMM's ``distance_pior_posterior`` is spelled
:func:`distance_prior_posterior` here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

__all__ = [
    "DISTANCE_METHODS",
    "distance_prior_posterior",
    "get_beta_params_from_mu_sigma",
    "get_halfnormal_mean_from_scale",
    "get_halfnormal_scale_from_mean",
    "interpolate_outliers",
]

DISTANCE_METHODS = ("KS", "Hellinger", "JS", "min")
N_GRID_POINTS = 100
_HALFNORMAL_MEAN_PER_SCALE = np.sqrt(2.0 / np.pi)


# ------------------------------------------------------------ distances


def _as_samples(values: ArrayLike, name: str) -> np.ndarray:
    samples = np.asarray(values, dtype=float).ravel()
    if samples.size == 0:
        raise ValueError(f"{name} must hold at least one sample, got none.")
    if not np.all(np.isfinite(samples)):
        raise ValueError(f"{name} holds non-finite samples (NaN or inf).")
    return samples


def _ks_statistic(p: np.ndarray, q: np.ndarray) -> float:
    """Largest gap between the two empirical CDFs."""
    grid = np.union1d(p, q)
    cdf_p = np.searchsorted(np.sort(p), grid, side="right") / p.size
    cdf_q = np.searchsorted(np.sort(q), grid, side="right") / q.size
    return float(np.max(np.abs(cdf_p - cdf_q)))


def _empirical_pmfs(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies of every distinct value of ``p`` and ``q``, on their union."""
    support = np.union1d(p, q)
    pmf_p = np.bincount(np.searchsorted(support, p), minlength=support.size) / p.size
    pmf_q = np.bincount(np.searchsorted(support, q), minlength=support.size) / q.size
    return pmf_p, pmf_q


def _smoothed_pmf(samples: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density of ``samples`` on ``grid``, normalised to sum 1."""
    if np.ptp(samples) == 0:
        # A kernel needs spread; a point mass goes to the nearest grid point.
        density = np.zeros_like(grid)
        density[np.argmin(np.abs(grid - samples[0]))] = 1.0
        return density
    density = stats.gaussian_kde(samples)(grid)
    return density / density.sum()


def _smoothed_pmfs(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grid = np.linspace(min(p.min(), q.min()), max(p.max(), q.max()), N_GRID_POINTS)
    return _smoothed_pmf(p, grid), _smoothed_pmf(q, grid)


def _jensen_shannon(pmf_p: np.ndarray, pmf_q: np.ndarray) -> float:
    """Jensen-Shannon distance in bits (square root of the divergence), in [0, 1]."""
    middle = (pmf_p + pmf_q) / 2

    def kl_to_middle(pmf: np.ndarray) -> float:
        positive = pmf > 0
        return float(np.sum(pmf[positive] * np.log2(pmf[positive] / middle[positive])))

    divergence = (kl_to_middle(pmf_p) + kl_to_middle(pmf_q)) / 2
    return float(np.sqrt(max(divergence, 0.0)))


def distance_prior_posterior(
    p: ArrayLike, q: ArrayLike, method: str = "KS", discrete: bool = True
) -> float:
    """Distance between two distributions given samples of each, in [0, 1].

    Typically ``p`` holds prior samples and ``q`` posterior draws of one
    parameter: 0 means the data did not move the prior, 1 that the two do
    not overlap. KL divergence is not offered: it is infinite wherever one
    distribution is 0 and the other is not.

    Parameters
    ----------
    p, q : array-like
        Samples of the two distributions (flattened).
    method : {"KS", "Hellinger", "JS", "min"}, default="KS"
        "KS": Kolmogorov-Smirnov statistic, the largest gap between the two
        empirical CDFs. "Hellinger": Hellinger distance. "JS": Jensen-Shannon
        distance with base-2 logarithms (the square root of the divergence).
        "min": one minus the overlap ``sum(min(p, q))`` of the two
        probability vectors.
    discrete : bool, default=True
        For "Hellinger", "JS" and "min": True compares the frequencies of the
        distinct sample values (right for discrete data; continuous samples
        rarely share values, so the distance is then close to 1). False
        compares Gaussian kernel density estimates (Scott's bandwidth) on 100
        points spanning both samples, which suits continuous parameters.
        Ignored by "KS".

    Returns
    -------
    float
        The distance, between 0 and 1.

    Raises
    ------
    ValueError
        For an unknown method, or empty or non-finite samples.

    Examples
    --------
    >>> distance_prior_posterior([0, 1, 2, 3], [0, 1, 2, 3])
    0.0
    >>> distance_prior_posterior([0, 1], [5, 6], method="Hellinger")
    1.0
    """
    if method not in DISTANCE_METHODS:
        raise ValueError(
            f"Unknown distance method {method!r}; choose one of {DISTANCE_METHODS}."
        )
    p, q = _as_samples(p, "p"), _as_samples(q, "q")
    if method == "KS":
        return _ks_statistic(p, q)
    pmf_p, pmf_q = _empirical_pmfs(p, q) if discrete else _smoothed_pmfs(p, q)
    if method == "Hellinger":
        squared = np.sum((np.sqrt(pmf_p) - np.sqrt(pmf_q)) ** 2) / 2
        return float(np.sqrt(min(squared, 1.0)))
    if method == "JS":
        return _jensen_shannon(pmf_p, pmf_q)
    return float(max(1.0 - np.minimum(pmf_p, pmf_q).sum(), 0.0))


# ------------------------------------------------------- distributions


def get_beta_params_from_mu_sigma(
    mu: float, sigma: float, bracket: tuple[float, float] = (0.5, 100)
) -> tuple[float, float]:
    """Parameters ``(a, b)`` of the Beta distribution with mean ``mu`` and sd ``sigma``.

    Solved exactly by the method of moments: with ``n = a + b``,
    ``mu = a / n`` and ``sigma**2 = mu * (1 - mu) / (n + 1)``. (LightweightMMM
    0.1.9 solves an approximation that assumes ``a = 1``; its result has a
    different standard deviation.)

    Parameters
    ----------
    mu : float
        Mean, in (0, 1).
    sigma : float
        Standard deviation, in (0, sqrt(mu * (1 - mu))).
    bracket : tuple of float, default=(0.5, 100)
        Range ``b`` must lie in, as in LightweightMMM (where it is the root
        search's bracket): a Beta outside it is refused with a ValueError.

    Returns
    -------
    a, b : float
        ``numpyro.distributions.Beta(concentration1=a, concentration0=b)`` and
        ``scipy.stats.beta(a, b)`` have mean ``mu`` and sd ``sigma``.

    Raises
    ------
    ValueError
        If no Beta has this mean and sd, or its ``b`` is outside ``bracket``.

    Examples
    --------
    >>> a, b = get_beta_params_from_mu_sigma(0.5, 0.1)
    >>> round(a, 6), round(b, 6)
    (12.0, 12.0)
    """
    mu, sigma = float(mu), float(sigma)
    if not 0 < mu < 1:
        raise ValueError(f"mu must be in (0, 1) for a Beta distribution, got {mu}.")
    largest_sd = np.sqrt(mu * (1 - mu))
    if not 0 < sigma < largest_sd:
        raise ValueError(
            f"sigma must be in (0, {largest_sd:.6g}) for a Beta distribution with "
            f"mean {mu}, got {sigma}."
        )
    low, high = sorted(float(v) for v in bracket)
    total = mu * (1 - mu) / sigma**2 - 1
    a, b = mu * total, (1 - mu) * total
    if not low <= b <= high:
        raise ValueError(
            f"The Beta with mean {mu} and sd {sigma} has b = {b:.6g}, outside "
            f"bracket ({low}, {high}); widen the bracket to accept it."
        )
    return float(a), float(b)


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}.")
    return value


def get_halfnormal_mean_from_scale(scale: float) -> float:
    """Mean of ``HalfNormal(scale)``: ``scale * sqrt(2 / pi)``.

    :func:`get_halfnormal_scale_from_mean` is its inverse.

    Examples
    --------
    >>> round(get_halfnormal_mean_from_scale(1.0), 6)
    0.797885
    >>> round(get_halfnormal_scale_from_mean(1.0), 6)
    1.253314
    """
    return _positive(scale, "scale") * float(_HALFNORMAL_MEAN_PER_SCALE)


def get_halfnormal_scale_from_mean(mean: float) -> float:
    """Scale of the HalfNormal with mean ``mean``: ``mean * sqrt(pi / 2)``.

    The inverse of :func:`get_halfnormal_mean_from_scale` (examples there).
    """
    return _positive(mean, "mean") / float(_HALFNORMAL_MEAN_PER_SCALE)


# ------------------------------------------------------------ outliers


def interpolate_outliers(x: ArrayLike, outlier_idx: ArrayLike) -> np.ndarray:
    """A copy of ``x`` with the values at ``outlier_idx`` linearly interpolated.

    Each outlier is replaced by the straight line between the nearest
    non-outlier periods before and after it; an outlier at either end takes
    the nearest non-outlier value. ``x`` itself is left unchanged.

    Parameters
    ----------
    x : array-like of shape (n_periods,) or (n_periods, n_columns)
        A series in time order (or several, as columns).
    outlier_idx : array-like of int
        Positions (rows) of the outliers; negative positions count from the end.

    Returns
    -------
    ndarray of the shape of ``x``, float

    Raises
    ------
    ValueError
        If a position is out of range, every period is an outlier, or ``x``
        is not 1-D or 2-D.

    Examples
    --------
    >>> interpolate_outliers([1.0, 2.0, 100.0, 4.0], [2])
    array([1., 2., 3., 4.])
    """
    values = np.array(x, dtype=float)
    if values.ndim not in (1, 2):
        raise ValueError(f"x must be 1-D or 2-D, got {values.ndim} dimensions.")
    n_periods = values.shape[0]
    positions = np.asarray(outlier_idx).ravel()
    if positions.size == 0:
        return values
    if not np.issubdtype(positions.dtype, np.integer):
        raise ValueError(
            f"outlier_idx must hold integer positions, got dtype {positions.dtype}."
        )
    out_of_range = positions[(positions < -n_periods) | (positions >= n_periods)]
    if out_of_range.size:
        raise ValueError(
            f"outlier_idx {out_of_range.tolist()} out of range for {n_periods} periods."
        )
    is_outlier = np.zeros(n_periods, dtype=bool)
    is_outlier[positions] = True
    if is_outlier.all():
        raise ValueError("Every period is an outlier; nothing to interpolate from.")
    time = np.arange(n_periods)
    columns = values if values.ndim == 2 else values[:, None]
    for column in columns.T:
        column[is_outlier] = np.interp(
            time[is_outlier], time[~is_outlier], column[~is_outlier]
        )
    return values
