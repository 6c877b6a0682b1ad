"""The one place for environment tweaks and private APIs of other packages."""

from __future__ import annotations

import os
import sys

_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def configure_host_devices() -> None:
    """Expose one XLA CPU device per core so chains run in parallel.

    JAX shows a single CPU device unless XLA_FLAGS asks for more before its
    backend starts. skmmm sets the flag on import when the user has not, and
    when JAX has not started a backend yet; otherwise chains fall back to a
    vectorised run on one device. Set ``SKMMM_HOST_DEVICES`` to choose the
    number (1 disables the change).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if _DEVICE_FLAG in flags or _jax_backend_started():
        return
    count = int(os.environ.get("SKMMM_HOST_DEVICES", os.cpu_count() or 1))
    if count > 1:
        os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={count}".strip()


def _jax_backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except ImportError:  # pragma: no cover - layout of a future JAX
        return True


def enable_compilation_cache() -> None:
    """Keep compiled XLA programs on disk so a new process skips recompiling.

    Sampling programs take 10-20 s to compile; JAX's persistent cache makes
    the next process load them in about a second. Nothing is changed when the
    user configured a cache directory, or set ``SKMMM_COMPILATION_CACHE=0``;
    ``SKMMM_COMPILATION_CACHE=/path`` chooses the directory.
    """
    setting = os.environ.get("SKMMM_COMPILATION_CACHE", "")
    if setting == "0":
        return
    import jax

    if jax.config.jax_compilation_cache_dir:
        return
    directory = setting or os.path.join(
        os.environ.get(
            "XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")
        ),
        "skmmm",
        "jax",
    )
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return
    jax.config.update("jax_compilation_cache_dir", directory)
