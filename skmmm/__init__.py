"""skmmm: Bayesian media mix modeling as scikit-learn estimators (JAX + NumPyro)."""

from skmmm._compat import configure_host_devices, enable_compilation_cache

configure_host_devices()
enable_compilation_cache()

from skmmm.datasets import load_example, simulate_dummy_data  # noqa: E402
from skmmm.io import load_model, save_model  # noqa: E402
from skmmm.model_selection import (  # noqa: E402
    PanelTimeSeriesSplit,
    compare_models,
    fit_many,
)
from skmmm.optimize import BudgetOptimizer  # noqa: E402
from skmmm.preprocessing import CustomScaler  # noqa: E402
from skmmm.regressor import (  # noqa: E402
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
    "fit_many",
    "load_example",
    "load_model",
    "save_model",
    "simulate_dummy_data",
]
