"""Helpers shared by the geo tests of several modules.

- The shared geo panel's sizes and sampler settings (the panel and its fit
  are the session fixtures ``geo_data`` and ``geo_fit`` of conftest.py), and
  :func:`future_rows`, rows after the training weeks (regressor and
  attribution tests).
- Small geo models, prior draws and NumPy versions of the models'
  coordinates (tests of :mod:`skmmm.models` and of the geo sampler's
  coordinates).
"""

import functools

import numpy as np
import pandas as pd
from numpyro import handlers

from skmmm.models import GeoModelSpec, ModelInputs, geo_model, geo_site_shapes
from skmmm.priors import DEFAULT_PRIORS, resolve_priors

# ------------------------------------------------------ the shared panel

N_PERIODS, N_CHANNELS, N_GEOS = 60, 2, 3
MCMC = dict(number_warmup=150, number_samples=100, number_chains=2)


def future_rows(data, start: int, n_weeks: int) -> pd.DataFrame:
    """Copies of the last training weeks, moved ``start`` weeks after training."""
    last = data.X["date"].max()
    rows = data.X[data.X["date"] > last - pd.Timedelta(weeks=n_weeks)].copy()
    rows["date"] = rows["date"] + pd.Timedelta(weeks=start + n_weeks - 1)
    return rows.reset_index(drop=True)


# ------------------------------------------------------ small geo models


def log_ratio_models(model_name="hill_adstock"):
    """skmmm's geo model (log ratios, sheared ROI, seasonal amplitudes, scaled
    geo means) and the centred model, with inputs of 12 periods (float32)."""
    n_channels, n_extra, n_geos = 2, 1, 3
    spec = GeoModelSpec(model_name, degrees_seasonality=1)
    shapes = geo_site_shapes(spec, n_channels, n_extra, n_geos, roi_prior=True)
    priors = resolve_priors(None, shapes, DEFAULT_PRIORS)
    models = [
        functools.partial(
            geo_model,
            spec=GeoModelSpec(
                model_name,
                degrees_seasonality=1,
                level_log_ratios=reparametrised,
                sheared_roi=reparametrised,
                seasonality_amplitude=reparametrised,
                geo_mean_scaling=reparametrised,
            ),
            priors=priors,
        )
        for reparametrised in (True, False)
    ]
    rng = np.random.default_rng(11)
    inputs = {
        "media": rng.gamma(4.0, 0.25, (12, n_channels, n_geos)),
        "extra_features": rng.normal(size=(12, n_extra, n_geos)),
        "time_index": np.arange(12.0),
        "media_prior": np.array([0.05, 0.2]),
        "geo_prior_weights": rng.gamma(4.0, 0.25, (n_channels, n_geos)),
        "media_noncentring": np.zeros((n_channels, n_geos)),
        "roi_shear": np.zeros(n_channels),
        "geo_mean_scale": np.ones(3 + n_channels),
        "target": rng.gamma(20.0, 0.05, (12, n_geos)),
    }
    inputs = {name: np.asarray(array, np.float32) for name, array in inputs.items()}
    return models, ModelInputs(**inputs), rng


# The reparametrised model's sites with a flat (improper) base measure.
IMPROPER_SHAPES = {
    "log_level": (3,),
    "level_log_ratios": (2, 3),
    "sheared_log_roi": (2,),
    "log_seasonality_amplitude": (3,),
    "geo_mean_scaled_coef_trend": (3,),
}


def improper_draw(rng):
    return {name: rng.normal(size=shape) for name, shape in IMPROPER_SHAPES.items()}


def shared_draw(model, inputs, rng):
    """Every site but the improper ones, drawn from the prior."""
    improper = improper_draw(rng)
    trace = handlers.trace(
        handlers.seed(handlers.substitute(model, data=improper), int(rng.integers(1e6)))
    ).get_trace(inputs)
    return {
        name: site["value"]
        for name, site in trace.items()
        if site["type"] == "sample" and not site["is_observed"] and name not in improper
    }


def unscaled_geo_means_by_hand(sampled, scale):
    """The model's coordinates: the geo mean (last axis) divided by ``scale``."""
    mean = sampled.mean(axis=-1, keepdims=True)
    return sampled - mean + mean / scale
