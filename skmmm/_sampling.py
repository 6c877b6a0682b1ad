"""NUTS sampling with compiled programs reused across fits.

NumPyro's ``MCMC`` object rebuilds (and so recompiles) its parallel-chain
program at every ``run``. skmmm fits many models of the same shape (grid
searches, refits, backtests with equal folds), so this module drives NumPyro's
functional NUTS kernel itself: one jitted program per (model, shapes,
settings), cached for the life of the process, with chains mapped over devices
(``pmap``) when there are enough of them and run one after another otherwise.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy

__all__ = ["SamplerSettings", "SamplingResult", "sample_nuts", "should_show_progress"]

_CACHE_SIZE = 32


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings that change the compiled program."""

    num_warmup: int
    num_samples: int
    num_chains: int
    target_accept_prob: float
    dense_mass: bool
    max_tree_depth: int


@dataclass
class SamplingResult:
    """Draws and diagnostics of one fit.

    Attributes
    ----------
    samples : dict of ndarray
        Constrained draws, each of shape (num_chains, num_samples, ...).
    diverging, num_steps, energy : ndarray of shape (num_chains, num_samples)
        Per-draw sampler statistics.
    compile_seconds, sampling_seconds : float
        Time spent compiling the program (0 when it was cached) and running it.
    chain_method : {"parallel", "sequential"}
        How chains were run.
    device : str
        The platform the program ran on ("cpu", "gpu", ...).
    """

    samples: dict[str, np.ndarray]
    diverging: np.ndarray
    num_steps: np.ndarray
    energy: np.ndarray
    compile_seconds: float
    sampling_seconds: float
    chain_method: str
    device: str


class _Compiled:
    """A compiled sampling program and what it needs at run time."""

    def __init__(self, run: Callable, chain_method: str) -> None:
        self.run = run
        self.chain_method = chain_method
        self.executables: dict[Hashable, Callable] = {}


_PROGRAMS: OrderedDict[Hashable, _Compiled] = OrderedDict()
_LOCK = threading.Lock()
_INIT_RADIUS = 2.0


def should_show_progress(progress_bar: bool | str) -> bool:
    """Resolve ``progress_bar="auto"``: on for a terminal or a notebook."""
    if progress_bar != "auto":
        return bool(progress_bar)
    if "ipykernel" in sys.modules:
        return True
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class _ProgressBar:
    """A tqdm bar fed from inside the compiled program by host callbacks."""

    def __init__(self, total: int, every: int) -> None:
        from tqdm.auto import tqdm

        self.every = every
        self.bar = tqdm(total=total, desc="sampling", unit="it", leave=False)
        self.lock = threading.Lock()

    def update(self, *_: object) -> None:
        with self.lock:
            self.bar.update(self.every)

    def close(self) -> None:
        self.bar.close()


_ACTIVE_BAR: list[_ProgressBar | None] = [None]


def _report_progress(*args: object) -> None:
    bar = _ACTIVE_BAR[0]
    if bar is not None:
        bar.update(*args)


def _unconstrained_prior_draw(model: Callable, model_args: tuple, rng_key) -> dict:
    """One prior draw of every latent site, mapped to unconstrained space."""
    model_trace = handlers.trace(handlers.seed(model, rng_key)).get_trace(*model_args)
    return {
        name: biject_to(site["fn"].support).inv(site["value"])
        for name, site in model_trace.items()
        if site["type"] == "sample" and not site["is_observed"]
    }


def _initial_point(unconstrained_shapes: dict, rng_key) -> dict:
    """A uniform draw on (-2, 2) in unconstrained space (NumPyro's init_to_uniform).

    Only the shapes of the latent sites are needed, so no prior sampler is
    compiled: Beta, Gamma and Dirichlet samplers are rejection loops that
    doubled the program's compile time when used for initialisation.
    """
    keys = jax.random.split(rng_key, len(unconstrained_shapes))
    return {
        name: jax.random.uniform(
            key, shape.shape, shape.dtype, -_INIT_RADIUS, _INIT_RADIUS
        )
        for key, (name, shape) in zip(keys, unconstrained_shapes.items(), strict=True)
    }


def _build_program(
    model: Callable, settings: SamplerSettings, progress_every: int
) -> Callable:
    """The per-chain program: initialise, warm up, sample, constrain the draws.

    Everything runs inside one compiled program: NumPyro's eager helpers
    (``initialize_model``) would compile hundreds of single operations.
    """

    def potential_fn_gen(*model_args):
        return lambda z: potential_energy(model, model_args, {}, z)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")

    def one_chain(rng_key, model_args):
        init_key, sample_key = jax.random.split(rng_key)
        shapes = jax.eval_shape(
            lambda: _unconstrained_prior_draw(model, model_args, jax.random.PRNGKey(0))
        )
        init_z = _initial_point(shapes, init_key)
        state = init_kernel(
            init_z,
            settings.num_warmup,
            dense_mass=settings.dense_mass,
            target_accept_prob=settings.target_accept_prob,
            max_tree_depth=settings.max_tree_depth,
            model_args=model_args,
            rng_key=sample_key,
        )
        initial_energy = state.potential_energy

        def step(state, iteration):
            state = sample_kernel(state, model_args=model_args)
            if progress_every:
                jax.lax.cond(
                    (iteration + 1) % progress_every == 0,
                    lambda: jax.debug.callback(_report_progress, iteration),
                    lambda: None,
                )
            return state, (state.z, state.diverging, state.num_steps, state.energy)

        # One scan over warm-up and sampling: two scans would put two copies of
        # the NUTS kernel in the program and double its compile time.
        n_iterations = settings.num_warmup + settings.num_samples
        _, trajectory = jax.lax.scan(step, state, jnp.arange(n_iterations))
        draws, diverging, num_steps, energy = jax.tree.map(
            lambda values: values[settings.num_warmup :], trajectory
        )
        constrained = jax.vmap(
            lambda z: constrain_fn(model, model_args, {}, z, return_deterministic=True)
        )(draws)
        return constrained, diverging, num_steps, energy, initial_energy

    return one_chain


def _program_for(
    cache_key: Hashable,
    model: Callable,
    settings: SamplerSettings,
    progress_every: int,
) -> _Compiled:
    key = (cache_key, settings, progress_every)
    with _LOCK:
        compiled = _PROGRAMS.get(key)
        if compiled is not None:
            _PROGRAMS.move_to_end(key)
            return compiled
    one_chain = _build_program(model, settings, progress_every)
    if settings.num_chains > 1 and jax.local_device_count() >= settings.num_chains:
        run = jax.pmap(one_chain, in_axes=(0, None))
        chain_method = "parallel"
    else:
        # Chains one after another: vmap would batch NUTS's while loops, which
        # costs ~20 s of tracing and makes every chain wait for the slowest.
        run = jax.jit(
            lambda keys, model_args: jax.lax.map(
                lambda key: one_chain(key, model_args), keys
            )
        )
        chain_method = "sequential"
    compiled = _Compiled(run, chain_method)
    with _LOCK:
        _PROGRAMS[key] = compiled
        while len(_PROGRAMS) > _CACHE_SIZE:
            _PROGRAMS.popitem(last=False)
    return compiled


def sample_nuts(
    model: Callable,
    model_args: tuple,
    settings: SamplerSettings,
    *,
    cache_key: Hashable,
    seed: int,
    progress_bar: bool = False,
) -> SamplingResult:
    """Run NUTS on ``model`` and return constrained draws and diagnostics.

    Parameters
    ----------
    model : callable
        A NumPyro model taking ``*model_args`` (arrays only).
    model_args : tuple of arrays
        The model's data; arrays of the same shapes reuse the compiled program.
    settings : SamplerSettings
        Sampler settings.
    cache_key : hashable
        Identifies everything about ``model`` that is not in ``model_args``
        (its structure and priors). Equal keys must mean equal programs.
    seed : int
        Seed of the sampler's random numbers.
    progress_bar : bool, default=False
        Show a progress bar during sampling.

    Returns
    -------
    SamplingResult
    """
    progress_every = (
        max(1, (settings.num_warmup + settings.num_samples) // 50)
        if progress_bar
        else 0
    )
    compiled = _program_for(cache_key, model, settings, progress_every)
    chain_keys = jax.random.split(jax.random.PRNGKey(seed), settings.num_chains)
    call_args = (chain_keys, model_args)

    shapes = jax.tree.map(lambda x: (jnp.shape(x), jnp.result_type(x)), call_args)
    shape_key = str(jax.tree.structure(shapes)) + str(jax.tree.leaves(shapes))
    executable = compiled.executables.get(shape_key)
    compile_seconds = 0.0
    if executable is None:
        start = time.perf_counter()
        executable = compiled.run.lower(*call_args).compile()
        compile_seconds = time.perf_counter() - start
        compiled.executables[shape_key] = executable

    bar = None
    if progress_every:
        total = settings.num_chains * (settings.num_warmup + settings.num_samples)
        bar = _ProgressBar(total, progress_every)
        _ACTIVE_BAR[0] = bar
    start = time.perf_counter()
    try:
        draws, diverging, num_steps, energy, initial_energy = executable(*call_args)
        draws = jax.tree.map(np.asarray, draws)
        diverging, num_steps, energy = (
            np.asarray(a) for a in (diverging, num_steps, energy)
        )
        if not np.all(np.isfinite(np.asarray(initial_energy))):
            raise RuntimeError(
                "The sampler's starting point has an infinite or NaN log density; "
                "check custom_priors for parameters outside their support."
            )
    finally:
        if bar is not None:
            _ACTIVE_BAR[0] = None
            bar.close()
    sampling_seconds = time.perf_counter() - start
    return SamplingResult(
        samples=draws,
        diverging=diverging.astype(bool),
        num_steps=num_steps,
        energy=energy,
        compile_seconds=compile_seconds,
        sampling_seconds=sampling_seconds,
        chain_method=compiled.chain_method,
        device=jax.devices()[0].platform,
    )
