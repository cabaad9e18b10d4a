"""Discounted returns and generalised advantage estimation, with terminated and truncated apart.

Every function takes ``next_values`` = V(s'_t), the value of the observation each step reached
*before* any auto-reset (``Transition.next_obs``). Then

* ``terminated_t``: the episode really ended; nothing follows, so V(s'_t) is dropped;
* ``truncated_t``: the time limit cut the episode; V(s'_t) is kept (Pardo et al. 2018,
  "Time limits in reinforcement learning"), but the recursion does not run on into the next episode.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    gamma: float,
    lam: float,
) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimation (Schulman et al. 2016, eq. 16), time-major ``[T, B]``.

        delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)
        A_t     = delta_t + gamma lambda (1 - done_t) A_{t+1},   done_t = terminated_t or truncated_t

    Returns ``(advantages, value_targets)`` with ``value_targets = advantages + values`` (the
    lambda-return). lambda = 1 gives the Monte-Carlo return minus the baseline; lambda = 0 the TD error.
    """
    chex.assert_equal_shape([rewards, values, next_values, terminated, truncated])
    not_term = 1.0 - terminated.astype(jnp.float32)
    not_done = 1.0 - jnp.logical_or(terminated, truncated).astype(jnp.float32)
    deltas = rewards + gamma * not_term * next_values - values  # [T, B]

    def backward(carry, x):
        delta, nd = x
        adv = delta + gamma * lam * nd * carry
        return adv, adv

    _, advantages = jax.lax.scan(backward, jnp.zeros_like(deltas[0]), (deltas, not_done), reverse=True)
    return advantages, advantages + values


def discounted_returns(
    rewards: jax.Array, next_values: jax.Array, terminated: jax.Array, truncated: jax.Array, gamma: float
) -> jax.Array:
    """Reward-to-go G_t = r_t + gamma (1 - terminated_t) [done_t ? V(s'_t) : G_{t+1}], time-major ``[T, B]``.

    The last step of the batch, and every truncated step, bootstraps from V(s'_t) (Sutton & Barto
    2018, eq. 3.9 with a bootstrapped tail).
    """
    chex.assert_equal_shape([rewards, next_values, terminated, truncated])
    not_term = 1.0 - terminated.astype(jnp.float32)
    done = jnp.logical_or(terminated, truncated)
    # the batch's last step bootstraps as if truncated
    done = done.at[-1].set(True)

    def backward(carry, x):
        r, v_next, nt, d = x
        g = r + gamma * nt * jnp.where(d, v_next, carry)
        return g, g

    _, returns = jax.lax.scan(backward, jnp.zeros_like(rewards[0]), (rewards, next_values, not_term, done), reverse=True)
    return returns
