"""Batches for learning: on-policy shuffled minibatches (and, below, the replay buffer)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def flatten_time_batch(tree):
    """``[T, B, ...] -> [T * B, ...]`` for every leaf."""
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), tree)


def shuffled_minibatches(key: jax.Array, batch, num_minibatches: int):
    """Permute a flat batch ``[N, ...]`` and split it into ``[num_minibatches, N / num_minibatches, ...]``.

    Every sample lands in exactly one minibatch (sampling without replacement, one epoch). ``N`` must
    divide by ``num_minibatches``: configs check this before anything compiles.
    """
    n = jax.tree.leaves(batch)[0].shape[0]
    perm = jax.random.permutation(key, n)
    return jax.tree.map(lambda x: jnp.take(x, perm, axis=0).reshape((num_minibatches, -1) + x.shape[1:]), batch)
