"""Wrappers the algorithms need. Observation normalisation is not here: it lives in the algorithm
core (``rl_zoo.core.normalize``) so that its statistics are saved and reused at evaluation."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class EpisodeStatisticsState(NamedTuple):
    env_state: Any
    episode_return: jax.Array  # [B] running undiscounted return of the current episode
    episode_length: jax.Array  # [B] steps taken in the current episode


class EpisodeStatistics:
    """Track the return and length of finished episodes on any ``VecEnv`` (JAX or gymnasium).

    Adds to ``info``: ``episode_done`` [B] (an episode ended at this step), ``episode_return`` and
    ``episode_length`` [B] (those of the episode that ended; zero where none did). Pure when the
    wrapped env is, so it runs inside ``jax.jit``/``lax.scan``.
    """

    def __init__(self, venv):
        self.venv = venv
        self.is_jax = venv.is_jax
        self.num_envs = venv.num_envs
        self.observation_space = venv.observation_space
        self.action_space = venv.action_space

    def reset(self, key: jax.Array):
        obs, env_state = self.venv.reset(key)
        zeros = jnp.zeros((self.num_envs,), jnp.float32)
        return obs, EpisodeStatisticsState(env_state, zeros, jnp.zeros((self.num_envs,), jnp.int32))

    def step(self, key: jax.Array, state: EpisodeStatisticsState, action: jax.Array):
        obs, env_state, reward, terminated, truncated, info = self.venv.step(key, state.env_state, action)
        reward, terminated, truncated = jnp.asarray(reward), jnp.asarray(terminated), jnp.asarray(truncated)
        done = terminated | truncated
        ep_return = state.episode_return + reward
        ep_length = state.episode_length + 1
        info = dict(
            info,
            episode_done=done,
            episode_return=jnp.where(done, ep_return, 0.0),
            episode_length=jnp.where(done, ep_length, 0),
        )
        new_state = EpisodeStatisticsState(
            env_state, jnp.where(done, 0.0, ep_return), jnp.where(done, 0, ep_length)
        )
        return obs, new_state, reward, terminated, truncated, info
