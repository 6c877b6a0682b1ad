"""The one place for private APIs of other packages.

:mod:`skmmm.config` changes the environment (``XLA_FLAGS``, JAX's
compilation cache) through the JAX internals here.
"""

from __future__ import annotations

import sys

# scikit-learn's parameter constraints (``_parameter_constraints``), which
# its own estimators use; skmmm's estimators declare theirs the same way.
from sklearn.utils._param_validation import Interval, StrOptions

__all__ = ["Interval", "StrOptions", "jax_backend_started", "reset_compilation_cache"]


def jax_backend_started() -> bool:
    """Whether JAX has started its backend (its devices are then fixed)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except ImportError:  # pragma: no cover - layout of a future JAX
        return True


def reset_compilation_cache() -> None:
    """Make JAX open its compilation cache again, at a new directory."""
    from jax.experimental.compilation_cache import compilation_cache

    compilation_cache.reset_cache()
