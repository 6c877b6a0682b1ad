"""Configure JAX for skmmm's fits: CPU devices for the chains, a disk cache.

``import skmmm`` changes nothing in the process. :func:`configure` (also
``skmmm.configure``) is the one call that changes something: the
``XLA_FLAGS`` environment variable and JAX's compilation cache directory. The
first ``BayesianMMMRegressor.fit`` of a process, and the ``skmmm`` command
line, call it with its defaults through ``ensure_configured``, unless it
was called before.

This is a module of its own, not a part of the private ``skmmm._compat``,
because ``configure`` is public: the API reference documents each public
name in a public module's ``__all__``, and users import it. The JAX internals
it needs (whether JAX's backend has started, resetting its compilation cache)
stay in ``skmmm._compat``, with skmmm's other uses of private APIs.
``ensure_configured`` is for skmmm's own entry points, so it is not in
``__all__``.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from numbers import Integral

from skmmm import _compat

__all__ = ["configure"]

_DEVICE_FLAG = "--xla_force_host_platform_device_count"
_DEVICE_SETTING = re.compile(r"--xla_force_host_platform_device_count=(\S*)")

_LOCK = threading.RLock()
_configured = False
# The compilation cache directory skmmm gave JAX (None: JAX's own setting).
_cache_dir_set: str | None = None


def configure(host_devices=None, compilation_cache=None) -> dict:
    """Set up JAX for fast sampling: CPU devices for the chains, a disk cache.

    skmmm changes nothing when it is imported. The first
    ``BayesianMMMRegressor.fit`` of a process (and the ``skmmm`` command
    line) calls ``configure()`` with its defaults, unless it was called
    before; call it yourself, first thing, to choose other settings or to
    configure a process before it runs JAX code of its own.

    It changes two things:

    * the ``XLA_FLAGS`` environment variable: it adds
      ``--xla_force_host_platform_device_count=N``, so that JAX shows N CPU
      devices and a fit runs its chains in parallel, one device each
      (``sampling_info_["chain_method"]`` is ``"parallel"``). This has effect
      only before JAX starts its backend, that is before the process's first
      JAX computation (by skmmm or any other code); afterwards the device
      count is fixed and ``XLA_FLAGS`` is left alone. With fewer devices than
      chains, the chains run one after another. On GPUs the chains use the
      GPUs and the CPU device count does not matter.
    * JAX's persistent compilation cache directory
      (``jax.config.jax_compilation_cache_dir``): compiled sampling programs
      (10-20 s to compile) are kept on disk, and a new process loads them in
      about a second. This has effect at any time, for the programs compiled
      afterwards.

    It is idempotent: calling it again with the same arguments changes
    nothing more. A later call with other arguments applies them (the device
    count only while the backend has not started).

    Parameters
    ----------
    host_devices : int or None, default=None
        The number of CPU devices to ask for. None: the
        ``SKMMM_HOST_DEVICES`` environment variable if set, else one per core
        (``os.cpu_count()``); and nothing is changed when ``XLA_FLAGS``
        already sets the count (a user's own setting, or an earlier call's).
        An int replaces the count ``XLA_FLAGS`` sets, if any. 1 asks for no
        extra devices: chains run one after another, as in a process whose
        JAX started before skmmm could configure it (the same draws for a
        seed in both).
    compilation_cache : str, path-like, False or None, default=None
        Directory of the compilation cache. None: the
        ``SKMMM_COMPILATION_CACHE`` environment variable if set (``0`` for
        no cache, else the directory), else ``$XDG_CACHE_HOME/skmmm/jax``
        (``~/.cache/skmmm/jax``); and nothing is changed when JAX already has
        a cache directory (a user's own ``jax.config`` setting, or an
        earlier call's). A path sets that directory, created if missing.
        False: skmmm sets no cache; one that an earlier call set is removed,
        one the user set is kept.

    Returns
    -------
    dict
        What is in effect after the call:

        * ``"host_devices"`` (int or None): the number of CPU devices JAX
          has, or will have when its backend starts (None when ``XLA_FLAGS``
          sets a count that is not a number, or JAX has no CPU backend);
        * ``"backend_started"`` (bool): True when JAX's backend had already
          started, so the device count could not change any more;
        * ``"compilation_cache_dir"`` (str or None): JAX's compilation cache
          directory (None: no persistent cache).

    Raises
    ------
    ValueError
        If ``host_devices`` or ``SKMMM_HOST_DEVICES`` is not a positive
        integer.
    TypeError
        If ``compilation_cache`` is True (give a directory, or None).
    OSError
        If the directory given as ``compilation_cache`` cannot be created.

    Warns
    -----
    RuntimeWarning
        If ``host_devices`` is given after JAX started its backend with
        another number of CPU devices.

    Notes
    -----
    Set ``SKMMM_HOST_DEVICES=1`` and ``SKMMM_COMPILATION_CACHE=0`` to opt out
    of both changes in every process (for example on cluster workers), or
    set ``XLA_FLAGS`` and JAX's cache directory yourself: skmmm keeps them.

    Examples
    --------
    First thing in a script or notebook, before any JAX computation:

    >>> import skmmm
    >>> skmmm.configure(host_devices=4)  # doctest: +SKIP
    {'host_devices': 4, 'backend_started': False, 'compilation_cache_dir': '/home/me/.cache/skmmm/jax'}
    """
    global _configured
    if host_devices is not None:
        host_devices = _positive_count(host_devices, "host_devices")
    if compilation_cache is True:
        raise TypeError("compilation_cache must be a path, False or None, not True.")
    with _LOCK:
        started = _configure_host_devices(host_devices)
        cache_dir = _configure_compilation_cache(compilation_cache)
        _configured = True
    count = _host_device_count(started)
    if host_devices is not None and started and count not in (None, host_devices):
        warnings.warn(
            f"skmmm.configure(host_devices={host_devices}) came after JAX "
            f"started its backend; the process keeps {count} CPU device(s). "
            "Call it before the first JAX computation.",
            RuntimeWarning,
            stacklevel=2,
        )
    return {
        "host_devices": count,
        "backend_started": started,
        "compilation_cache_dir": cache_dir,
    }


def ensure_configured() -> None:
    """Call ``configure`` with its defaults, once per process.

    skmmm's entry points call this before any JAX work of theirs (the start
    of ``BayesianMMMRegressor.fit``, the command line's ``main``); it does
    nothing once ``configure`` ran, whoever called it.
    """
    if _configured:
        return
    with _LOCK:
        if not _configured:
            configure()


# ------------------------------------------------------------ host devices


def _positive_count(value, name: str) -> int:
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _configure_host_devices(host_devices: int | None) -> bool:
    """Ask for ``host_devices`` CPU devices in XLA_FLAGS; True if too late."""
    count = host_devices
    if count is None:
        setting = os.environ.get("SKMMM_HOST_DEVICES", "").strip()
        if setting:
            number = int(setting) if setting.isdigit() else setting
            count = _positive_count(number, "SKMMM_HOST_DEVICES")
        else:
            count = os.cpu_count() or 1
    if _compat.jax_backend_started():
        return True
    flags = os.environ.get("XLA_FLAGS", "")
    current = _DEVICE_SETTING.search(flags)
    if current is not None and host_devices is None:
        return False  # the user's count, or an earlier call's
    if current is not None:
        if current.group(1) != str(count):
            start, end = current.span()
            os.environ["XLA_FLAGS"] = (
                f"{flags[:start]}{_DEVICE_FLAG}={count}{flags[end:]}"
            )
    elif count > 1:
        os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={count}".strip()
    return False


def _host_device_count(started: bool) -> int | None:
    """CPU devices JAX has (backend started) or will have (from XLA_FLAGS)."""
    if started:
        import jax

        try:
            return len(jax.devices("cpu"))
        except RuntimeError:  # no CPU backend (JAX_PLATFORMS)
            return None
    current = _DEVICE_SETTING.search(os.environ.get("XLA_FLAGS", ""))
    if current is None:
        return 1
    value = current.group(1)
    return int(value) if value.isdigit() else None


# ------------------------------------------------------- compilation cache


def _default_cache_dir() -> str:
    cache_home = os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache"
    )
    return os.path.join(cache_home, "skmmm", "jax")


def _configure_compilation_cache(compilation_cache) -> str | None:
    """Set JAX's cache directory as asked; return the one in effect."""
    global _cache_dir_set
    import jax

    current = jax.config.jax_compilation_cache_dir or None
    if compilation_cache is False:
        if current is not None and current == _cache_dir_set:
            _set_cache_dir(None)
            current = None
        _cache_dir_set = None
        return current
    explicit = compilation_cache is not None
    if explicit:
        directory = os.fspath(compilation_cache)
    else:
        setting = os.environ.get("SKMMM_COMPILATION_CACHE", "")
        if setting == "0" or current is not None:
            return current
        directory = setting or _default_cache_dir()
    if "://" not in directory:  # a local directory, not a URL JAX can write to
        directory = os.path.abspath(os.path.expanduser(directory))
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as error:
            if explicit:
                raise
            if os.environ.get("SKMMM_COMPILATION_CACHE"):
                warnings.warn(
                    f"SKMMM_COMPILATION_CACHE={directory!r} cannot be created "
                    f"({error}); compiled programs are not kept on disk.",
                    RuntimeWarning,
                    stacklevel=3,
                )
            return current
    if directory != current:
        _set_cache_dir(directory)
    _cache_dir_set = directory
    return directory


def _set_cache_dir(directory: str | None) -> None:
    import jax

    had_one = bool(jax.config.jax_compilation_cache_dir)
    jax.config.update("jax_compilation_cache_dir", directory)
    if had_one:
        # JAX opens its cache once, at the first compilation that uses it.
        _compat.reset_compilation_cache()
