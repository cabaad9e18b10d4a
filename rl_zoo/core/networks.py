"""Networks (flax.linen). Parameters are plain pytrees (nested dicts of arrays).

Policy and value function are separate modules so that TRPO can step the policy alone; PPO and
VPG optimise the pair ``{"policy": ..., "value": ...}`` together. Orthogonal initialisation with
a small final policy layer follows Andrychowicz et al. 2021 ("What matters in on-policy RL?").
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from rl_zoo.core.distributions import Categorical, DiagGaussian

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu, "elu": nn.elu, "gelu": nn.gelu}


def _orthonormal_columns(a: jax.Array) -> jax.Array:
    """Gram-Schmidt on the columns of a tall ``a`` [m, n], m >= n, each column orthogonalised twice.

    Its Q is the Q of ``a = QR`` with R's diagonal made positive, so for Gaussian ``a`` it is
    Haar-distributed (Mezzadri 2007, "How to generate random matrices from the classical compact
    groups"), the same matrix ``jax.random.orthogonal`` returns for the same draws.
    """

    def column(j, q):
        v = a[:, j]
        for _ in range(2):  # "twice is enough" (Giraud et al. 2005): orthogonal to float32 rounding
            v = v - q @ (q.T @ v)  # columns >= j of q are still zero
        return q.at[:, j].set(v / jnp.linalg.norm(v))

    return jax.lax.fori_loop(0, a.shape[1], column, jnp.zeros_like(a))


def orthogonal(scale: float = 1.0):
    """Orthogonal initialisation (Saxe et al. 2014) scaled by ``scale``, without LAPACK.

    Same distribution as ``flax.linen.initializers.orthogonal``, but built from matrix products
    instead of a QR custom call: jaxlib 0.10's CPU QR on a batch of matrices (``train`` vmapped
    over seeds initialises one network per seed) runs on the intra-op thread pool and can deadlock
    when that pool is small (seen on 2-core machines).
    """

    def init(key, shape, dtype=jnp.float32):
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        tall = jax.random.normal(key, (max(rows, cols), min(rows, cols)), dtype)
        q = _orthonormal_columns(tall)
        q = q if rows >= cols else q.T
        return scale * q.reshape(shape)

    return init


def _dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=orthogonal(scale), bias_init=nn.initializers.zeros)


class MLP(nn.Module):
    """Fully connected torso: Dense -> activation, repeated; an optional linear head of ``out`` units."""

    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    out: int | None = None
    out_scale: float = 1.0

    @nn.compact
    def __call__(self, x):
        act = ACTIVATIONS[self.activation]
        for h in self.hidden_sizes:
            x = act(_dense(h, np.sqrt(2))(x))
        if self.out is not None:
            x = _dense(self.out, self.out_scale)(x)
        return x


class CategoricalPolicy(nn.Module):
    """pi(a|s) = softmax(MLP(s))."""

    num_actions: int
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"

    @nn.compact
    def __call__(self, obs) -> Categorical:
        return Categorical(MLP(self.hidden_sizes, self.activation, self.num_actions, 0.01)(obs))


class GaussianPolicy(nn.Module):
    """pi(a|s) = N(MLP(s), diag(exp(log_std))^2) with a state-independent learned ``log_std``."""

    action_dim: int
    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    init_log_std: float = 0.0

    @nn.compact
    def __call__(self, obs) -> DiagGaussian:
        mean = MLP(self.hidden_sizes, self.activation, self.action_dim, 0.01)(obs)
        log_std = self.param("log_std", nn.initializers.constant(self.init_log_std), (self.action_dim,))
        return DiagGaussian(mean, jnp.broadcast_to(log_std, mean.shape))


class ValueNetwork(nn.Module):
    """V(s): MLP with one linear output."""

    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"

    @nn.compact
    def __call__(self, obs) -> jax.Array:
        return MLP(self.hidden_sizes, self.activation, 1, 1.0)(obs)[..., 0]


class QNetwork(nn.Module):
    """Q(s, .): MLP with one output per discrete action (Mnih et al. 2015)."""

    num_actions: int
    hidden_sizes: Sequence[int] = (120, 84)
    activation: str = "relu"

    @nn.compact
    def __call__(self, obs) -> jax.Array:
        return MLP(self.hidden_sizes, self.activation, self.num_actions, 1.0)(obs)


def make_policy(action_space, hidden_sizes, activation, init_log_std: float = 0.0) -> nn.Module:
    """The policy head that fits ``action_space``: categorical for Discrete, Gaussian for Box."""
    from envs import spaces

    if isinstance(action_space, spaces.Discrete):
        return CategoricalPolicy(action_space.n, tuple(hidden_sizes), activation)
    return GaussianPolicy(int(np.prod(action_space.shape)), tuple(hidden_sizes), activation, init_log_std)
