"""Running mean and variance for observation and reward normalisation, as ``(init, update)`` pairs.

The statistics are part of the algorithm's state: saved in checkpoints and reused, frozen, by the
greedy policy at evaluation (a trap cleanrl issue 532 describes).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class RunningMeanStd(NamedTuple):
    mean: jax.Array
    var: jax.Array
    count: jax.Array


def rms_init(shape: tuple[int, ...] = ()) -> RunningMeanStd:
    return RunningMeanStd(jnp.zeros(shape, jnp.float32), jnp.ones(shape, jnp.float32), jnp.array(1e-4, jnp.float32))


def rms_update(stats: RunningMeanStd, x: jax.Array) -> RunningMeanStd:
    """Merge a batch ``x [N, *shape]`` into the statistics (Chan et al. 1979, parallel variance)."""
    x = x.reshape((-1,) + stats.mean.shape)
    b_mean, b_var, b_count = x.mean(0), x.var(0), x.shape[0]
    delta = b_mean - stats.mean
    total = stats.count + b_count
    mean = stats.mean + delta * b_count / total
    m2 = stats.var * stats.count + b_var * b_count + delta**2 * stats.count * b_count / total
    return RunningMeanStd(mean, m2 / total, total)


def normalize(stats: RunningMeanStd, x: jax.Array, clip: float = 10.0) -> jax.Array:
    return jnp.clip((x - stats.mean) / jnp.sqrt(stats.var + 1e-8), -clip, clip)


class RewardScaler(NamedTuple):
    """Divides rewards by the standard deviation of the discounted return (as SB3's VecNormalize)."""

    returns: jax.Array  # [B] running discounted return per env
    stats: RunningMeanStd


def reward_scaler_init(num_envs: int) -> RewardScaler:
    return RewardScaler(jnp.zeros((num_envs,), jnp.float32), rms_init(()))


def reward_scaler_update(scaler: RewardScaler, rewards: jax.Array, dones: jax.Array, gamma: float) -> RewardScaler:
    """Feed a time-major ``[T, B]`` block of rewards; return statistics of the discounted return."""

    def step(ret, x):
        r, d = x
        ret = ret * gamma + r
        return jnp.where(d, 0.0, ret), ret

    returns, seen = jax.lax.scan(step, scaler.returns, (rewards, dones))
    return RewardScaler(returns, rms_update(scaler.stats, seen))


def scale_reward(scaler: RewardScaler, rewards: jax.Array, clip: float = 10.0) -> jax.Array:
    return jnp.clip(rewards / jnp.sqrt(scaler.stats.var + 1e-8), -clip, clip)
