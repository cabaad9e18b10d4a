"""Action distributions for policy-gradient methods: categorical and diagonal Gaussian.

Each is a NamedTuple of arrays with ``log_prob``, ``entropy``, ``kl``, ``sample`` and ``mode``;
batch dimensions broadcast. ``kl(self, other)`` is KL(self || other) in closed form.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp


class Categorical(NamedTuple):
    """pi(a|s) = softmax(logits)_a over a discrete action set."""

    logits: jax.Array  # [..., n]

    @property
    def log_probs(self) -> jax.Array:
        return jax.nn.log_softmax(self.logits, axis=-1)

    def log_prob(self, action: jax.Array) -> jax.Array:
        # A one-hot select rather than a gather: the same numbers, and its gradient is a select instead of a
        # scatter (fewer, simpler XLA kernels); a select, not a product, so that a masked action's -inf
        # log-probability does not turn every other action's into 0 * -inf = NaN. An index outside 0..n-1
        # (sampled actions never are; an env's action with Discrete(n, start) start != 0 would be) selects
        # nothing: NaN, which the driver's NaN guard names, not the log-probability 0 of a certain action
        n = self.logits.shape[-1]
        chosen = jax.nn.one_hot(action, n, dtype=jnp.bool_)
        logp = jnp.where(chosen, self.log_probs, 0.0).sum(-1)
        return jnp.where((action >= 0) & (action < n), logp, jnp.nan)

    def entropy(self) -> jax.Array:
        """H = -sum_a p_a log p_a, with 0 log 0 = 0 (an action masked by a -inf logit adds nothing)."""
        return -_sum_p_times(self.log_probs, self.log_probs)

    def kl(self, other: "Categorical") -> jax.Array:
        """KL(self || other) = sum_a p_a (log p_a - log q_a), with 0 (log 0 - log q) = 0: actions ``self``
        never takes add nothing (+inf where ``self`` takes an action ``other`` never does)."""
        return _sum_p_times(self.log_probs, self.log_probs - other.log_probs)

    def sample(self, key: jax.Array) -> jax.Array:
        return jax.random.categorical(key, self.logits, axis=-1).astype(jnp.int32)

    def mode(self) -> jax.Array:
        return jnp.argmax(self.logits, axis=-1).astype(jnp.int32)


def _sum_p_times(logp: jax.Array, x: jax.Array) -> jax.Array:
    """sum_a p_a x_a with p = exp(logp), where terms with p_a = 0 (a -inf logit, or one so low that
    p_a underflows) are 0 whatever x_a is (the convention 0 log 0 = 0). The inner ``where`` keeps
    infinities out of the product, so its gradient is finite too."""
    p = jnp.exp(logp)
    taken = p > 0
    return jnp.where(taken, p * jnp.where(taken, x, 0.0), 0.0).sum(-1)


class DiagGaussian(NamedTuple):
    """pi(a|s) = N(mean(s), diag(exp(log_std))^2) over R^d; independent dimensions sum."""

    mean: jax.Array  # [..., d]
    log_std: jax.Array  # [..., d] (broadcast against mean)

    def log_prob(self, action: jax.Array) -> jax.Array:
        """log N(a; mu, sigma) = sum_i -(a_i - mu_i)^2 / (2 sigma_i^2) - log sigma_i - log(2 pi)/2."""
        z = (action - self.mean) * jnp.exp(-self.log_std)
        return (-0.5 * z**2 - self.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)

    def entropy(self) -> jax.Array:
        """H = sum_i log sigma_i + (1 + log 2 pi) / 2."""
        log_std = jnp.broadcast_to(self.log_std, self.mean.shape)
        return (log_std + 0.5 * (1.0 + math.log(2 * math.pi))).sum(-1)

    def kl(self, other: "DiagGaussian") -> jax.Array:
        """KL(p || q) = sum_i log(s_q/s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2."""
        var_p, var_q = jnp.exp(2 * self.log_std), jnp.exp(2 * other.log_std)
        kl = other.log_std - self.log_std + (var_p + (self.mean - other.mean) ** 2) / (2 * var_q) - 0.5
        return jnp.broadcast_to(kl, jnp.broadcast_shapes(self.mean.shape, other.mean.shape)).sum(-1)

    def sample(self, key: jax.Array) -> jax.Array:
        return self.mean + jnp.exp(self.log_std) * jax.random.normal(key, self.mean.shape, self.mean.dtype)

    def mode(self) -> jax.Array:
        return self.mean
