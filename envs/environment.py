"""The functional environment API every rl_zoo algorithm trains on.

An environment is a set of pure functions with explicit PRNG key and parameters (gymnax style):

    obs, state = env.reset(key, params)
    obs, state, reward, terminated, truncated, info = env.step(key, state, action, params)

``terminated`` (the MDP reached a terminal state: the value of what follows is zero) and
``truncated`` (the time limit cut the episode: the value of what follows is *not* zero) are kept
apart. ``step`` resets automatically when either is true, in the same step; the observation that
the episode ended on is kept in ``info["final_obs"]`` so that a truncated step can be
bootstrapped from V(final_obs).

Subclasses implement ``reset_env``/``step_env`` (one episode, no time limit, no auto-reset),
``default_params``, ``observation_space`` and ``action_space``; the time limit and auto-reset live
here, once.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from flax import struct

from envs import spaces


@struct.dataclass
class EnvParams:
    """Parameters shared by every environment. ``max_steps_in_episode`` is gymnasium's TimeLimit."""

    max_steps_in_episode: int = 500


@struct.dataclass
class EnvState:
    """Every environment state carries the step count within the episode."""

    time: jax.Array


class Environment:
    """Base class of the pure-JAX environments (see module docstring for the contract)."""

    #: gymnasium id this environment ports, e.g. ``"CartPole-v1"``
    id: str = ""
    #: ``"jax"`` for pure-JAX ports; the gymnasium adapter says ``"gymnasium"``
    backend: str = "jax"

    # --- to implement -------------------------------------------------------------------------
    @property
    def default_params(self) -> EnvParams:
        raise NotImplementedError

    def reset_env(self, key: jax.Array, params: EnvParams) -> tuple[jax.Array, Any]:
        raise NotImplementedError

    def step_env(
        self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams
    ) -> tuple[jax.Array, Any, jax.Array, jax.Array, dict]:
        """One step of one episode: ``(obs, state, reward, terminated, info)``; must increment ``state.time``."""
        raise NotImplementedError

    def observation_space(self, params: EnvParams | None = None) -> spaces.Space:
        raise NotImplementedError

    def action_space(self, params: EnvParams | None = None) -> spaces.Space:
        raise NotImplementedError

    # --- the contract -------------------------------------------------------------------------
    def reset(self, key: jax.Array, params: EnvParams | None = None) -> tuple[jax.Array, Any]:
        params = self.default_params if params is None else params
        return self.reset_env(key, params)

    def step(self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams | None = None):
        """Step, apply the time limit, and auto-reset in the same step when the episode ended."""
        params = self.default_params if params is None else params
        key_step, key_reset = jax.random.split(key)
        obs_step, state_step, reward, terminated, truncated, info = self._step_in_episode(key_step, state, action, params)
        done = jnp.logical_or(terminated, truncated)
        obs_reset, state_reset = self.reset_env(key_reset, params)
        state = jax.tree.map(lambda r, s: jnp.where(done, r, s), state_reset, state_step)
        obs = jnp.where(done, obs_reset, obs_step)
        info = dict(info, final_obs=obs_step)
        return obs, state, reward, terminated, truncated, info

    def step_no_reset(self, key: jax.Array, state: Any, action: jax.Array, params: EnvParams | None = None):
        """`step` without the auto-reset: the same transition for the same key, time limit included,
        but the state an episode ended in is returned as it is. For evaluation, which only follows
        each env's first episode; an env whose dynamics draw no randomness then costs no PRNG work."""
        params = self.default_params if params is None else params
        return self._step_in_episode(jax.random.split(key)[0], state, action, params)

    def _step_in_episode(self, key_step: jax.Array, state: Any, action: jax.Array, params: EnvParams):
        obs, state, reward, terminated, info = self.step_env(key_step, state, action, params)
        truncated = state.time >= params.max_steps_in_episode
        return obs, state, reward.astype(jnp.float32), terminated, truncated, info

    @property
    def num_actions(self) -> int:
        space = self.action_space()
        return space.n if isinstance(space, spaces.Discrete) else space.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, backend={self.backend!r})"
