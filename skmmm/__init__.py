"""skmmm: Bayesian media mix modeling as scikit-learn estimators (JAX + NumPyro).

Importing skmmm changes nothing in the process: no environment variable, no
JAX setting, and it starts no JAX backend. The first fit (or the ``skmmm``
command line) calls :func:`configure`, which asks JAX for one CPU device per
core and a disk cache of compiled programs; call ``skmmm.configure(...)``
first to choose otherwise.
"""

from skmmm.config import configure
from skmmm.datasets import load_example, simulate_dummy_data
from skmmm.io import load_model, save_model
from skmmm.model_selection import (
    PanelTimeSeriesSplit,
    compare_models,
    fit_many,
)
from skmmm.optimize import BudgetOptimizer
from skmmm.preprocessing import CustomScaler
from skmmm.regressor import (
    AdstockRegressor,
    BayesianMMMRegressor,
    CarryoverRegressor,
    HillAdstockRegressor,
)

__version__ = "0.1.0"

__all__ = [
    "AdstockRegressor",
    "BayesianMMMRegressor",
    "BudgetOptimizer",
    "CarryoverRegressor",
    "CustomScaler",
    "HillAdstockRegressor",
    "PanelTimeSeriesSplit",
    "__version__",
    "compare_models",
    "configure",
    "fit_many",
    "load_example",
    "load_model",
    "save_model",
    "simulate_dummy_data",
]
