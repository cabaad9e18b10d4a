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


def _dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale), bias_init=nn.initializers.zeros)


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
