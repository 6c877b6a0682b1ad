"""Small fitted models shared by the attribution and optimiser tests.

One simulated scenario (156 weeks, 3 channels, 1 control, adstock data with
mixed spend patterns, media explaining 40% of sales, 3% noise) where the
ROIs are identifiable; fits are cached per process so both test modules pay
for them once.
"""

import functools
import warnings

from skmmm import AdstockRegressor
from skmmm.datasets import simulate_mmm_data

MCMC = dict(number_warmup=150, number_samples=150, number_chains=2)


@functools.cache
def simulated():
    return simulate_mmm_data(
        n_periods=156,
        n_channels=3,
        model="adstock",
        n_controls=1,
        seed=1,
        media_share=0.4,
        noise_level=0.03,
    )


@functools.cache
def fitted():
    data = simulated()
    est = AdstockRegressor(
        media_columns=data.media_columns,
        media_prior=data.costs.to_numpy(),
        random_state=0,
        progress_bar=False,
        **MCMC,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est


@functools.cache
def fitted_with_zero_channel():
    """Same shapes (no recompilation), the last channel never spends."""
    data = simulated()
    X = data.X.copy()
    X[data.media_columns[-1]] = 0.0
    est = AdstockRegressor(
        media_columns=data.media_columns, random_state=0, progress_bar=False, **MCMC
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, data.y)
    return est, X
