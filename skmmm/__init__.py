"""skmmm: Bayesian media mix modeling as scikit-learn estimators (JAX + NumPyro)."""

from skmmm._compat import configure_host_devices, enable_compilation_cache

configure_host_devices()
enable_compilation_cache()

from skmmm.datasets import load_example, simulate_dummy_data  # noqa: E402
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
    "CarryoverRegressor",
    "CustomScaler",
    "HillAdstockRegressor",
    "__version__",
    "load_example",
    "simulate_dummy_data",
]
