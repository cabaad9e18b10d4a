"""Wrappers the algorithms need. Observation normalisation is not here: it lives in the algorithm
core (``rl_zoo.core.normalize``) so that its statistics are saved and reused at evaluation."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs import spaces


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


def one_hot_state(space: spaces.Discrete, obs: jax.Array) -> jax.Array:
    """A state index ``obs`` of ``space`` (``{start, ..., start + n - 1}``) as a float32 one-hot vector
    of ``n`` (trailing axis): how a network takes FrozenLake's, CliffWalking's or Taxi's observation."""
    return jax.nn.one_hot(jnp.asarray(obs) - space.start, space.n, dtype=jnp.float32)


class OneHotObservations:
    """A ``VecEnv`` whose ``Discrete`` (state-index) observations arrive one-hot encoded: ``[B]`` ints
    become ``[B, n]`` floats, in ``reset``, ``step`` and ``info["final_obs"]`` alike. The actor-critic
    networks (VPG, TRPO, PPO) take a vector of floats; with this they run on toy-text envs as SB3's
    policies do (its ``preprocess_obs`` one-hot encodes a ``Discrete`` observation). Pure when the
    wrapped env is."""

    def __init__(self, venv):
        self.venv = venv
        self.is_jax = venv.is_jax
        self.num_envs = venv.num_envs
        self.state_space = venv.observation_space
        n = self.state_space.n
        self.observation_space = spaces.Box(np.zeros(n, np.float32), np.ones(n, np.float32), (n,))
        self.action_space = venv.action_space

    def reset(self, key: jax.Array):
        obs, env_state = self.venv.reset(key)
        return one_hot_state(self.state_space, obs), env_state

    def step(self, key: jax.Array, state, action: jax.Array):
        obs, state, reward, terminated, truncated, info = self.venv.step(key, state, action)
        if "final_obs" in info:
            info = dict(info, final_obs=one_hot_state(self.state_space, info["final_obs"]))
        return one_hot_state(self.state_space, obs), state, reward, terminated, truncated, info
