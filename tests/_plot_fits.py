"""A small geo fit for the plot tests.

The same panel and settings as the geo tests' shared fit (3 geos x 60 weeks
x 2 channels, adstock), so in a full test run the sampler reuses that fit's
compiled program.
"""

import functools
import warnings

from skmmm import BayesianMMMRegressor
from skmmm.datasets import simulate_mmm_data


@functools.cache
def geo_panel():
    return simulate_mmm_data(
        n_periods=60,
        n_channels=2,
        n_geos=3,
        n_controls=1,
        model="adstock",
        noise_level=0.03,
        seed=3,
    )


@functools.cache
def geo_fitted() -> BayesianMMMRegressor:
    data = geo_panel()
    est = BayesianMMMRegressor(
        "adstock",
        media_columns=data.media_columns,
        date_column="date",
        geo_column="geo",
        degrees_seasonality=1,
        number_warmup=150,
        number_samples=100,
        number_chains=2,
        random_state=0,
        progress_bar=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(data.X, data.y)
    return est
