"""Loss functions, each a small pure function of arrays with the paper's equation beside it.

Sign convention: every function returns a quantity to *minimise*.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp


def normalize_advantages(adv: jax.Array, eps: float = 1e-8) -> jax.Array:
    """(A - mean A) / (std A + eps). A single sample has no spread: it is only centred (to 0), never
    divided by a zero std into NaN (the trap of SB3 PR 1028)."""
    if adv.size <= 1:
        return adv - adv.mean()
    return (adv - adv.mean()) / (adv.std() + eps)


def policy_gradient_loss(log_prob: jax.Array, advantages: jax.Array) -> jax.Array:
    """REINFORCE with a baseline (Williams 1992; Sutton et al. 2000): L = -E[log pi(a|s) A]."""
    chex.assert_equal_shape([log_prob, advantages])
    return -(log_prob * jax.lax.stop_gradient(advantages)).mean()


def clipped_surrogate_loss(ratio: jax.Array, advantages: jax.Array, clip_eps: float) -> jax.Array:
    """PPO's clipped surrogate (Schulman et al. 2017, eq. 7), negated:

        L^CLIP = -E[min(r A, clip(r, 1 - eps, 1 + eps) A)],   r = pi(a|s) / pi_old(a|s)
    """
    chex.assert_equal_shape([ratio, advantages])
    unclipped = ratio * advantages
    clipped = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps) * advantages
    return -jnp.minimum(unclipped, clipped).mean()


def kl_penalty_loss(ratio: jax.Array, advantages: jax.Array, kl: jax.Array, beta: jax.Array) -> jax.Array:
    """PPO's adaptive-KL objective (Schulman et al. 2017, eq. 8), negated:

        L^KLPEN = -E[r A - beta KL(pi_old(.|s) || pi(.|s))]
    """
    chex.assert_equal_shape([ratio, advantages, kl])
    return -(ratio * advantages - beta * kl).mean()


def value_loss(
    values: jax.Array, targets: jax.Array, old_values: jax.Array | None = None, clip_eps: float | None = None
) -> jax.Array:
    """0.5 E[(V(s) - V_targ)^2]; with ``clip_eps``, PPO2's pessimistic clipped form
    0.5 E[max((V - V_targ)^2, (V_old + clip(V - V_old, -eps, eps) - V_targ)^2)] (Dhariwal et al. 2017)."""
    chex.assert_equal_shape([values, targets])
    if clip_eps is not None and old_values is None:
        raise ValueError("value_loss: clip_eps clips the change from old_values, so it needs old_values")
    loss = (values - targets) ** 2
    if clip_eps is not None:
        clipped = old_values + jnp.clip(values - old_values, -clip_eps, clip_eps)
        loss = jnp.maximum(loss, (clipped - targets) ** 2)
    return 0.5 * loss.mean()


def approx_kl(log_ratio: jax.Array) -> jax.Array:
    """KL(pi_old || pi) estimated from samples a ~ pi_old with k3 = (r - 1) - log r (Schulman 2020,
    "Approximating KL divergence"): unbiased and never negative."""
    return ((jnp.exp(log_ratio) - 1.0) - log_ratio).mean()


def td_target(
    reward: jax.Array, next_value: jax.Array, terminated: jax.Array, gamma: float
) -> jax.Array:
    """One-step TD target y = r + gamma (1 - terminated) V(s') (Sutton & Barto 2018, eq. 6.2; with
    V(s') = max_a Q(s', a) it is Q-learning's target, eq. 6.8).

    Only ``terminated`` drops the bootstrap; a truncated step bootstraps from V(s') of its final
    observation. Tabular Q-learning (`rl_zoo.algos.q_learning`) and DQN both use it."""
    chex.assert_equal_shape([reward, next_value, terminated])
    return reward + gamma * (1.0 - terminated.astype(reward.dtype)) * next_value


def huber_loss(x: jax.Array, delta: float = 1.0) -> jax.Array:
    """Huber (1964): x^2/2 for |x| <= delta, delta (|x| - delta/2) beyond (Mnih et al. 2015's error clipping)."""
    abs_x = jnp.abs(x)
    return jnp.where(abs_x <= delta, 0.5 * x**2, delta * (abs_x - 0.5 * delta))
