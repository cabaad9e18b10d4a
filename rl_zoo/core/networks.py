"""Networks (flax.linen). Parameters are plain pytrees (nested dicts of arrays).

Policy and value function are separate modules so that VPG and TRPO can step the policy alone and
then fit the value with their own optimiser; PPO optimises the pair
``rl_zoo.core.on_policy.Params(policy, value)`` together with one. Orthogonal initialisation with
gains sqrt(2) (hidden), 0.01 (policy head) and 1 (value head) as OpenAI baselines' PPO (which CleanRL
and SB3 keep); the small final policy layer is Andrychowicz et al. 2021's ("What matters in on-policy
RL?", sec. 3.2).
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from rl_zoo.core.distributions import Categorical, DiagGaussian

ACTIVATIONS = {"tanh": nn.tanh, "relu": nn.relu, "elu": nn.elu, "gelu": nn.gelu}
#: the deepest MLP a config may ask for (``num_layers``): each layer adds about 0.35 s of compilation on a 2-core CPU
#: (PPO on CartPole: 7.7 s at 16 layers, 30 s at 64, 45 s at 128), and ``num_layers=1048576`` traced for minutes,
#: then ran out of memory before the memory check could say so
MAX_LAYERS = 100


def check_layers(num_layers: int) -> None:
    """Refuse (``ConfigError``) a ``num_layers`` that is not a positive integer at most ``MAX_LAYERS``."""
    from rl_zoo.config import check

    check(num_layers >= 1, "num_layers", num_layers, "must be a positive integer")
    check(num_layers <= MAX_LAYERS, "num_layers", num_layers, f"must be at most {MAX_LAYERS}: each layer adds compilation "
          f"(about 0.35 s on a 2-core CPU), and these algorithms' tuned networks have 2")


def _orthonormal_columns(a: jax.Array) -> jax.Array:
    """Gram-Schmidt on the columns of a tall ``a`` [m, n], m >= n, each column orthogonalised twice.

    Its Q is the Q of ``a = QR`` with R's diagonal made positive, so for Gaussian ``a`` it is
    Haar-distributed (Mezzadri 2007, "How to generate random matrices from the classical compact
    groups"): the matrix ``jax.random.orthogonal`` returns for the same draws.
    """

    full = jax.lax.Precision.HIGHEST  # full float32 on accelerators too (their default is TF32 / bfloat16)

    def column(j, q):
        v = a[:, j]
        for _ in range(2):  # "twice is enough" (Giraud et al. 2005): orthogonal to float32 rounding
            v = v - jnp.matmul(q, jnp.matmul(q.T, v, precision=full), precision=full)  # columns >= j of q are still zero
        return q.at[:, j].set(v / jnp.linalg.norm(v))

    return jax.lax.fori_loop(0, a.shape[1], column, jnp.zeros_like(a))


def orthogonal_kernels(key: jax.Array, shapes: Sequence[tuple[int, int]], scales: Sequence[float]) -> list[jax.Array]:
    """Orthogonal initialisation (Saxe et al. 2014): for each ``(rows, cols)`` in ``shapes`` a matrix
    with orthonormal columns (or rows, if it is wide) times its scale, all from ONE Gaussian draw.

    The same distribution as ``flax.linen.initializers.orthogonal``, built without LAPACK: jaxlib
    0.10's CPU QR on a batch of matrices (``train`` vmapped over seeds initialises one network per
    seed) runs on the intra-op thread pool and deadlocked on 2-core machines. One draw for the whole
    network, rather than one per layer, also compiles faster (each random draw is its own kernel).
    """
    talls = [(max(r, c), min(r, c)) for r, c in shapes]
    offsets = np.cumsum([0] + [m * n for m, n in talls])
    z = jax.random.normal(key, (int(offsets[-1]),))
    kernels = []
    for (rows, cols), (m, n), start, scale in zip(shapes, talls, offsets, scales):
        q = _orthonormal_columns(z[start : start + m * n].reshape(m, n))
        kernels.append(scale * (q if rows >= cols else q.T))
    return kernels


class MLP(nn.Module):
    """Fully connected torso: ``x -> act(x W_i + b_i)`` for each hidden layer, then an optional linear
    head of ``out`` units. Kernels are orthogonal with gain sqrt(2) (head: ``out_scale``), biases zero.
    """

    hidden_sizes: Sequence[int] = (64, 64)
    activation: str = "tanh"
    out: int | None = None
    out_scale: float = 1.0

    @nn.compact
    def __call__(self, x):
        widths = [x.shape[-1], *self.hidden_sizes] + ([self.out] if self.out is not None else [])
        shapes = list(zip(widths[:-1], widths[1:]))
        scales = [np.sqrt(2)] * len(self.hidden_sizes) + ([self.out_scale] if self.out is not None else [])
        kernels = self.param("kernels", lambda key: orthogonal_kernels(key, shapes, scales))
        biases = self.param("biases", lambda key: [jnp.zeros(cols) for _, cols in shapes])
        act = ACTIVATIONS[self.activation]
        for i, (w, b) in enumerate(zip(kernels, biases)):
            x = x @ w + b
            if i < len(self.hidden_sizes):
                x = act(x)
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
