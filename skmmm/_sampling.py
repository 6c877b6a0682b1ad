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
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpyro import handlers
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.hmc_util import build_adaptation_schedule
from numpyro.infer.util import ParamInfo, constrain_fn, potential_energy

from skmmm.draws import draw_batch_size, map_draws

__all__ = [
    "CoordinateAdaptation",
    "INIT_RADIUS",
    "SamplerSettings",
    "TRACE_LOCK",
    "SamplingResult",
    "compile_lowered",
    "compiler_options",
    "initial_point",
    "sample_nuts",
    "should_show_progress",
    "unconstrained_shapes",
]

_CACHE_SIZE = 32


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings that change the compiled program.

    ``dense_mass`` is a bool (a dense or a diagonal mass matrix over all
    parameters) or a tuple of blocks, each a tuple of site names whose
    joint mass matrix is dense; the other sites get a diagonal one.
    ``max_tree_depth`` is the (warm-up, sampling) pair of maximum tree depths.
    """

    num_warmup: int
    num_samples: int
    num_chains: int
    target_accept_prob: float
    dense_mass: bool | tuple[tuple[str, ...], ...]
    max_tree_depth: tuple[int, int]


@dataclass(frozen=True)
class CoordinateAdaptation:
    """Sampling coordinates chosen during warm-up from the chain's own draws.

    Some coordinates are efficient only with settings the posterior decides
    (how far to non-centre a hierarchy). The model takes those settings as
    the ``fields`` of its inputs (a NamedTuple). Each chain warms up with
    the settings given and, in each window of :func:`adaptation_windows`,
    averages ``statistics(params, inputs)`` over its draws; where the
    window ends (a mass-matrix window ends there too) it sets the fields to
    ``choose(means, current)`` and moves its point to the same parameters
    in the new coordinates (``move(z, params, inputs, chosen)``). The last
    slow window adapts the mass matrix in the final coordinates. Warm-up
    draws are discarded and the settings are fixed while sampling, so the
    posterior is the same for every choice.

    Attributes
    ----------
    fields : tuple of str
        The settings' fields in the model's inputs.
    statistics : callable
        ``(params, inputs) -> pytree of arrays`` for one draw; ``params``
        are the constrained sample and deterministic sites.
    choose : callable
        ``(means, current) -> new settings``: tuples of arrays, one per
        field, each of the same shape and dtype as the current one.
    move : callable
        ``(z, params, inputs, chosen) -> z`` in the new coordinates, with
        ``z`` the unconstrained point and ``inputs`` the current ones.
    """

    fields: tuple[str, ...]
    statistics: Callable[[dict, Any], Any]
    choose: Callable[[Any, tuple], tuple]
    move: Callable[[dict, dict, Any, tuple], dict]

    def current(self, inputs: NamedTuple) -> tuple:
        """The settings in ``inputs``, in the order of ``fields``."""
        return tuple(getattr(inputs, field) for field in self.fields)

    def with_settings(self, inputs: NamedTuple, settings: tuple) -> NamedTuple:
        """``inputs`` with the settings replaced."""
        return inputs._replace(**dict(zip(self.fields, settings, strict=True)))


def adaptation_windows(num_warmup: int) -> tuple[tuple[int, int], ...]:
    """Warm-up iterations (first, last) whose draws choose the coordinates.

    The slow mass-matrix windows before the last one, at most two: the
    coordinates are chosen at the end of each from its own draws, so the
    second choice is made from draws in the first choice's coordinates, and
    the last slow window adapts the mass matrix in the final ones. Empty
    when warm-up has fewer than two slow windows (under 200 iterations).
    """
    slow = build_adaptation_schedule(num_warmup)[1:-1]
    return tuple((window.start, window.end) for window in slow[-3:-1])


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
    dense_mass : bool or tuple of tuple of str
        The mass matrix's structure (``SamplerSettings.dense_mass``).
    adapted : tuple of ndarray or None
        With a :class:`CoordinateAdaptation`, each chain's chosen settings,
        one array (num_chains, ...) per setting; None otherwise.
    """

    samples: dict[str, np.ndarray]
    diverging: np.ndarray
    num_steps: np.ndarray
    energy: np.ndarray
    compile_seconds: float
    sampling_seconds: float
    chain_method: str
    device: str
    dense_mass: bool | tuple[tuple[str, ...], ...] = False
    adapted: tuple[np.ndarray, ...] | None = None


class _Compiled:
    """The compiled programs of one sampler configuration.

    ``initialise`` draws each chain's starting point with its log density and
    gradient, ``run`` warms up and samples from there (one call for all
    chains) and ``constrain`` maps the draws to the model's parameters. Three
    programs rather than one: the gradient at the start and the constrained
    model are then compiled on a second thread while ``run`` compiles, not
    inlined into it (XLA inlines every call, so each would be compiled again
    inside ``run``).
    """

    def __init__(
        self,
        initialise: Callable,
        run: Callable,
        constrain: Callable,
        chain_method: str,
    ) -> None:
        self.initialise = initialise
        self.run = run
        self.constrain = constrain
        self.chain_method = chain_method
        self.executables: dict[Hashable, tuple[Callable, Callable, Callable]] = {}


_PROGRAMS: OrderedDict[Hashable, _Compiled] = OrderedDict()
_LOCK = threading.Lock()
# Held while a model is traced (NumPyro's handler stack is process-global).
TRACE_LOCK = threading.Lock()
# Starting points are uniform on (-INIT_RADIUS, INIT_RADIUS) in unconstrained
# space (NumPyro's init_to_uniform); the Laplace fit starts its optimiser so.
INIT_RADIUS = 2.0
# Largest data array (elements) compiled with XLA's older CPU fusion emitters.
_OLD_EMITTERS_MAX_SIZE = 20_000


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


def unconstrained_shapes(model: Callable, inputs: Any) -> dict:
    """Shape and dtype of every latent site in unconstrained space.

    The model runs with zeros in place of its latent draws, under
    ``eval_shape``: no prior sampler (rejection loops for Beta, Gamma and
    Dirichlet) is traced.
    """

    def zeros_for(site):
        if site["type"] != "sample" or site.get("is_observed"):
            return None
        return jnp.zeros(site["fn"].shape(site["kwargs"].get("sample_shape", ())))

    def latent_values():
        model_trace = handlers.trace(
            handlers.substitute(handlers.seed(model, 0), substitute_fn=zeros_for)
        ).get_trace(inputs)
        return {
            name: biject_to(site["fn"].support).inv(site["value"])
            for name, site in model_trace.items()
            if site["type"] == "sample" and not site["is_observed"]
        }

    return jax.eval_shape(latent_values)


def initial_point(shapes: dict, rng_key) -> dict:
    """A uniform draw on (-2, 2) in unconstrained space (NumPyro's init_to_uniform).

    Only the shapes of the latent sites are needed, so no prior sampler is
    compiled: Beta, Gamma and Dirichlet samplers are rejection loops that
    doubled the program's compile time when used for initialisation.
    """
    keys = jax.random.split(rng_key, len(shapes))
    return {
        name: jax.random.uniform(
            key, shape.shape, shape.dtype, -INIT_RADIUS, INIT_RADIUS
        )
        for key, (name, shape) in zip(keys, shapes.items(), strict=True)
    }


def _build_programs(
    model: Callable,
    settings: SamplerSettings,
    progress_every: int,
    adaptation: CoordinateAdaptation | None,
) -> tuple[Callable, Callable, Callable]:
    """The per-chain programs: initialise; warm up and sample; constrain draws.

    Each runs whole inside a compiled program: NumPyro's eager helpers
    (``initialize_model``) would compile hundreds of single operations.
    """

    def potential_fn_gen(inputs):
        return lambda z: potential_energy(model, (inputs,), {}, z)

    def constrain_one(z, inputs):
        return constrain_fn(model, (inputs,), {}, z, return_deterministic=True)

    init_kernel, sample_kernel = hmc(potential_fn_gen=potential_fn_gen, algo="NUTS")
    windows = () if adaptation is None else adaptation_windows(settings.num_warmup)
    firsts = jnp.array([first for first, _ in windows])
    lasts = jnp.array([last for _, last in windows])

    def initialise(rng_key, inputs):
        init_key, _ = jax.random.split(rng_key)
        z = initial_point(unconstrained_shapes(model, inputs), init_key)
        energy, grad = jax.value_and_grad(potential_fn_gen(inputs))(z)
        return z, energy, grad

    def adapt(state, setting, sums, iteration, inputs):
        """Accumulate a window's statistics; change coordinates at its end."""
        args = adaptation.with_settings(inputs, setting)
        ends = iteration == lasts

        def switch(state, setting, sums, params):
            count = jnp.sum(jnp.where(ends, lasts - firsts + 1, 0))
            means = jax.tree.map(lambda total: total / count, sums)
            chosen = adaptation.choose(means, setting)
            z = adaptation.move(state.z, params, args, chosen)
            potential = potential_fn_gen(adaptation.with_settings(inputs, chosen))
            energy, grad = jax.value_and_grad(potential)(z)
            state = state._replace(z=z, z_grad=grad, potential_energy=energy)
            return state, chosen, jax.tree.map(jnp.zeros_like, sums)

        def in_window(state, setting, sums):
            # One constrained draw serves the statistics and, at the
            # window's last iteration, the move.
            params = constrain_one(state.z, args)
            draw = adaptation.statistics(params, args)
            sums = jax.tree.map(jnp.add, sums, draw)
            return jax.lax.cond(
                jnp.any(ends),
                switch,
                lambda state, setting, sums, _: (state, setting, sums),
                state,
                setting,
                sums,
                params,
            )

        return jax.lax.cond(
            jnp.any((iteration >= firsts) & (iteration <= lasts)),
            in_window,
            lambda *kept: kept,
            state,
            setting,
            sums,
        )

    def one_chain(rng_key, start, inputs):
        _, sample_key = jax.random.split(rng_key)
        state = init_kernel(
            ParamInfo(*start),
            settings.num_warmup,
            # NumPyro reads blocks only from a list; a tuple would be truthy, a
            # dense matrix over every site.
            dense_mass=list(settings.dense_mass)
            if isinstance(settings.dense_mass, tuple)
            else settings.dense_mass,
            target_accept_prob=settings.target_accept_prob,
            max_tree_depth=settings.max_tree_depth,
            model_args=(inputs,),
            rng_key=sample_key,
        )
        setting = sums = ()
        if adaptation is not None:
            setting = adaptation.current(inputs)
        if windows:
            shapes = jax.eval_shape(
                lambda: adaptation.statistics(constrain_one(state.z, inputs), inputs)
            )
            sums = jax.tree.map(lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), shapes)

        def step(carry, iteration):
            state, setting, sums = carry
            args = inputs
            if adaptation is not None:
                args = adaptation.with_settings(inputs, setting)
            state = sample_kernel(state, model_args=(args,))
            if windows:
                state, setting, sums = adapt(state, setting, sums, iteration, inputs)
            if progress_every:
                jax.lax.cond(
                    (iteration + 1) % progress_every == 0,
                    lambda: jax.debug.callback(_report_progress, iteration),
                    lambda: None,
                )
            draw = (state.z, state.diverging, state.num_steps, state.energy)
            return (state, setting, sums), draw

        # One scan over warm-up and sampling: two scans would put two copies of
        # the NUTS kernel in the program and double its compile time.
        n_iterations = settings.num_warmup + settings.num_samples
        (_, setting, _), trajectory = jax.lax.scan(
            step, (state, setting, sums), jnp.arange(n_iterations)
        )
        draws = jax.tree.map(lambda values: values[settings.num_warmup :], trajectory)
        return draws, setting

    def constrain(draws, inputs):
        # Deterministic sites such as the ROI sum a panel per draw: batches
        # of draws bound the memory of long or wide panels.
        n_draws = jax.tree.leaves(draws)[0].shape[0]
        panel_size = max(
            (int(np.prod(np.shape(leaf))) for leaf in jax.tree.leaves(inputs)),
            default=1,
        )
        return map_draws(
            lambda z: constrain_one(z, inputs),
            draws,
            draw_batch_size(n_draws, panel_size),
        )

    return initialise, one_chain, constrain


def _program_for(
    cache_key: Hashable,
    model: Callable,
    settings: SamplerSettings,
    progress_every: int,
    adaptation: CoordinateAdaptation | None,
) -> _Compiled:
    key = (cache_key, settings, progress_every, adaptation is None)
    with _LOCK:
        compiled = _PROGRAMS.get(key)
        if compiled is not None:
            _PROGRAMS.move_to_end(key)
            return compiled
    initialise, one_chain, constrain = _build_programs(
        model, settings, progress_every, adaptation
    )
    if settings.num_chains > 1 and jax.local_device_count() >= settings.num_chains:
        run = jax.pmap(one_chain, in_axes=(0, 0, None))
        chain_method = "parallel"
    else:
        # Chains one after another: vmap would batch NUTS's while loops, which
        # costs ~20 s of tracing and makes every chain wait for the slowest.
        run = jax.jit(
            lambda keys, starts, inputs: jax.lax.map(
                lambda chain: one_chain(*chain, inputs), (keys, starts)
            )
        )
        chain_method = "sequential"
    compiled = _Compiled(
        jax.jit(jax.vmap(initialise, in_axes=(0, None))),
        run,
        jax.jit(constrain),
        chain_method,
    )
    with _LOCK:
        _PROGRAMS[key] = compiled
        while len(_PROGRAMS) > _CACHE_SIZE:
            _PROGRAMS.popitem(last=False)
    return compiled


def _compile(compiled: _Compiled, chain_keys, inputs, settings) -> tuple:
    """Lower the three programs, then compile them on two threads.

    Lowering traces the model with NumPyro's effect handlers, whose stack is
    global to the process: two threads tracing at once mix their sites
    ("all sites must have unique names"), so lowering holds ``TRACE_LOCK``
    (fits in threads then trace one at a time and compile in parallel). It
    stays on this thread; XLA's compiler releases the GIL.
    """
    with TRACE_LOCK:
        lowered_initialise = compiled.initialise.lower(chain_keys, inputs)
        starts = lowered_initialise.out_info
        draws = jax.tree.map(
            lambda leaf: jax.ShapeDtypeStruct(
                (settings.num_samples, *leaf.shape[1:]), leaf.dtype
            ),
            starts[0],
        )
        lowered_run = compiled.run.lower(chain_keys, starts, inputs)
        lowered_side = (
            lowered_initialise,
            compiled.constrain.lower(draws, inputs),
        )
    options = compiler_options(inputs)
    side: list = []
    worker = threading.Thread(
        target=lambda: side.extend(
            compile_lowered(lowered, options) for lowered in lowered_side
        )
    )
    worker.start()
    try:
        run = compile_lowered(lowered_run, options)
    finally:
        worker.join()
    if len(side) != len(lowered_side):
        # The worker failed; compile here to raise its error.
        side = [compile_lowered(lowered, options) for lowered in lowered_side]
    return side[0], run, side[1]


def compiler_options(inputs: Any) -> dict:
    """XLA options for the sampling programs of this data on this platform.

    On CPU, XLA's older fusion emitters compile the programs about 2 s (a
    quarter) faster than the default emitters. On national data (150 x 5
    media, benchmarks/bench_fit.py) the sampler runs as fast with them; on a
    geo panel (104 x 6 x 50, benchmarks/bench_geo.py) it ran 55% slower, so
    they are used for small data only.
    """
    largest = max((int(np.size(leaf)) for leaf in jax.tree.leaves(inputs)), default=0)
    if jax.default_backend() == "cpu" and largest <= _OLD_EMITTERS_MAX_SIZE:
        return {"xla_cpu_use_fusion_emitters": False}
    return {}


def compile_lowered(lowered, options: dict):
    """Compile with ``options``, or without them if this XLA does not know them."""
    if options:
        try:
            return lowered.compile(options)
        except Exception as error:  # an XLA without the option: a plain compile
            if "xla_cpu_use_fusion_emitters" not in str(error):
                raise
    return lowered.compile()


def sample_nuts(
    model: Callable,
    inputs: Any,
    settings: SamplerSettings,
    *,
    cache_key: Hashable,
    seed: int,
    progress_bar: bool = False,
    adaptation: CoordinateAdaptation | None = None,
) -> SamplingResult:
    """Run NUTS on ``model`` and return constrained draws and diagnostics.

    Parameters
    ----------
    model : callable
        A NumPyro model taking one argument, ``inputs``.
    inputs : pytree of arrays
        The model's data (a NamedTuple such as
        :class:`skmmm.models.ModelInputs`); inputs of the same structure and
        shapes reuse the compiled program.
    settings : SamplerSettings
        Sampler settings.
    cache_key : hashable
        Identifies everything about ``model`` (and ``adaptation``) that is not
        in ``inputs``: its structure and priors. Equal keys must mean
        equal programs.
    seed : int
        Seed of the sampler's random numbers.
    progress_bar : bool, default=False
        Show a progress bar during sampling.
    adaptation : CoordinateAdaptation, optional
        Coordinates each chain chooses during warm-up.

    Returns
    -------
    SamplingResult
    """
    progress_every = (
        max(1, (settings.num_warmup + settings.num_samples) // 50)
        if progress_bar
        else 0
    )
    compiled = _program_for(cache_key, model, settings, progress_every, adaptation)
    chain_keys = jax.random.split(jax.random.PRNGKey(seed), settings.num_chains)

    shapes = jax.tree.map(
        lambda x: (jnp.shape(x), jnp.result_type(x)), (chain_keys, inputs)
    )
    shape_key = str(jax.tree.structure(shapes)) + str(jax.tree.leaves(shapes))
    executables = compiled.executables.get(shape_key)
    compile_seconds = 0.0
    if executables is None:
        start = time.perf_counter()
        executables = _compile(compiled, chain_keys, inputs, settings)
        compile_seconds = time.perf_counter() - start
        compiled.executables[shape_key] = executables
    initialise, run, constrain = executables

    bar = None
    start = time.perf_counter()
    starts = initialise(chain_keys, inputs)
    if not np.all(np.isfinite(np.asarray(starts[1]))):
        raise ValueError(
            "The sampler's starting point has an infinite or NaN log density: "
            "a prior in custom_priors may put no mass where the parameter "
            "lives (e.g. a Normal prior on a positive parameter), or the data's "
            "values may be too large or too small for 32-bit floats; check "
            "custom_priors, or express the KPI and the media in other units."
        )
    if progress_every:
        total = settings.num_chains * (settings.num_warmup + settings.num_samples)
        bar = _ProgressBar(total, progress_every)
        _ACTIVE_BAR[0] = bar
    try:
        trajectory, adapted = run(chain_keys, starts, inputs)
        adapted = jax.tree.map(np.asarray, adapted)
        unconstrained, diverging, num_steps, energy = (
            jax.tree.map(np.asarray, part) for part in trajectory
        )
    finally:
        if bar is not None:
            _ACTIVE_BAR[0] = None
            bar.close()
    chains = []
    for chain in range(settings.num_chains):
        args = inputs
        if adaptation is not None:
            args = adaptation.with_settings(
                inputs, tuple(setting[chain] for setting in adapted)
            )
        z = jax.tree.map(lambda leaf, chain=chain: leaf[chain], unconstrained)
        chains.append(jax.tree.map(np.asarray, constrain(z, args)))
    draws = jax.tree.map(lambda *per_chain: np.stack(per_chain), *chains)
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
        dense_mass=settings.dense_mass,
        adapted=None if adaptation is None else tuple(adapted),
    )
