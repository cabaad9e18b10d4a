"""Epochs of shuffled minibatch gradient steps on one batch: the inner loop of PPO-style updates
(Schulman et al. 2017, Algorithm 1: "optimise surrogate L wrt theta, with K epochs and minibatch size M")."""

from __future__ import annotations

from typing import Any, Callable

import jax
import optax

from rl_zoo.core.buffers import shuffled_minibatches


def minibatch_epochs(
    grad_fn: Callable[[Any, Any], tuple[Any, Any]],
    optimizer: optax.GradientTransformation,
    params,
    opt_state: optax.OptState,
    batch,
    key: jax.Array,
    epochs: int,
    num_minibatches: int,
):
    """``epochs`` passes over ``batch`` (a pytree ``[N, ...]``), each split into ``num_minibatches``
    shuffled minibatches with one ``optimizer`` step each; ``grad_fn(params, minibatch) -> (grads, info)``.
    Returns ``(params, opt_state, infos)``, ``infos`` stacked ``[epochs, num_minibatches, ...]``."""

    def step(carry, minibatch):
        p, s = carry
        grads, info = grad_fn(p, minibatch)
        updates, s = optimizer.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), info

    def epoch(carry, k):
        return jax.lax.scan(step, carry, shuffled_minibatches(k, batch, num_minibatches))

    (params, opt_state), infos = jax.lax.scan(epoch, (params, opt_state), jax.random.split(key, epochs))
    return params, opt_state, infos
