"""Functions of every posterior draw, evaluated within bounded memory.

A draw of a geo panel's model holds a few (n_times, n_channels, n_geos)
arrays while it is evaluated; vectorising over a thousand draws at once
would hold a thousand of each. The sampler's constrained draws, predict and
attribution evaluate draws in batches sized by :func:`draw_batch_size`, so
long or wide panels need the memory of a few draws, and small ones keep the
single vectorised call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

__all__ = [
    "DRAW_BATCH_FLOATS",
    "draw_batch_size",
    "interval_quantiles",
    "map_draws",
    "mean_over_draws",
]

# The geo model's working memory per draw is a few (n_times, n_channels,
# n_geos) arrays: draws are evaluated in batches of about this many such
# floats, so predicting or attributing many geos does not hold every draw's
# arrays at once (MER #1666).
DRAW_BATCH_FLOATS = 2**24


def map_draws(function: Callable, params: Mapping, batch_size: int):
    """``function`` of every draw, stacked: one vectorised call, or batches.

    Parameters
    ----------
    function : callable
        Takes one draw (a dict of site values) and returns a pytree of arrays.
    params : dict of str to array
        Draws per site, with a leading draw axis.
    batch_size : int
        Draws evaluated at once (:func:`draw_batch_size`). Batches are used
        only when they are smaller than the draws (memory-bound panels): a
        single batch compiles to a plain vmap.

    Returns
    -------
    pytree of arrays
        ``function``'s outputs with a leading draw axis.
    """
    n_draws = next(iter(params.values())).shape[0]
    if batch_size >= n_draws:
        return jax.vmap(function)(params)
    return jax.lax.map(function, params, batch_size=batch_size)


def mean_over_draws(function: Callable, params: Mapping, batch_size: int):
    """The mean over draws of ``function``'s outputs, batch by batch.

    As ``map_draws(...).mean(axis=0)``, without holding every draw's output:
    batches of ``batch_size`` draws are summed in a scan, so the memory is
    that of one batch whatever the number of draws.
    """
    n_draws = next(iter(params.values())).shape[0]
    if batch_size >= n_draws:
        return jax.tree.map(
            lambda value: value.mean(axis=0), jax.vmap(function)(params)
        )
    n_batches, remainder = divmod(n_draws, batch_size)

    def batch_sum(batch):
        return jax.tree.map(lambda value: value.sum(axis=0), jax.vmap(function)(batch))

    batches = jax.tree.map(
        lambda value: value[: n_batches * batch_size].reshape(
            n_batches, batch_size, *value.shape[1:]
        ),
        params,
    )
    first = jax.tree.map(lambda value: value[0], batches)
    zeros = jax.tree.map(
        lambda leaf: jnp.zeros(leaf.shape, leaf.dtype), jax.eval_shape(batch_sum, first)
    )
    total, _ = jax.lax.scan(
        lambda total, batch: (jax.tree.map(jnp.add, total, batch_sum(batch)), None),
        zeros,
        batches,
    )
    if remainder:
        tail = jax.tree.map(lambda value: value[n_batches * batch_size :], params)
        total = jax.tree.map(jnp.add, total, batch_sum(tail))
    return jax.tree.map(lambda value: value / n_draws, total)


def draw_batch_size(n_draws: int, panel_size: int) -> int:
    """Draws to evaluate at once on a panel of ``panel_size`` media values.

    About :data:`DRAW_BATCH_FLOATS` floats per working array, at least one
    draw and at most ``n_draws``.
    """
    return max(1, min(n_draws, DRAW_BATCH_FLOATS // max(1, int(panel_size))))


def interval_quantiles(interval: float) -> tuple[float, float]:
    """The quantiles that bound a central credible interval of the draws.

    Parameters
    ----------
    interval : float
        Width of the interval, in (0, 1).

    Returns
    -------
    (float, float)
        ``((1 - interval) / 2, 1 - (1 - interval) / 2)``.

    Raises
    ------
    ValueError
        If ``interval`` is not in (0, 1).
    """
    if not 0 < interval < 1:
        raise ValueError(f"interval must be in (0, 1), got {interval!r}.")
    return (1 - interval) / 2, 1 - (1 - interval) / 2
