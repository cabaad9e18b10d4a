"""The maximisation-bias MDP of Sutton & Barto (2018), Example 6.7 and Figure 6.5, as a pure-JAX
``envs.Environment``.

Two non-terminal states, A (observation 0, where every episode starts) and B (observation 1):

* in A, action ``LEFT`` (0) moves to B with reward 0; action ``RIGHT`` (1) terminates with reward 0;
* in B, each of ``num_b_actions`` actions terminates with a reward drawn from N(mean, std^2),
  N(-0.1, 1) in the book.

The expected return of going left is -0.1, so the optimal policy always goes right; an epsilon-greedy
agent that has learned this still goes left with probability epsilon / 2 (5% for epsilon = 0.1).

Only two actions exist in A. The action space is ``Discrete(num_b_actions)`` so that one table
``Q[S, A]`` holds both states; :func:`valid_actions` gives the mask of the actions that exist in
each state, and an agent must choose only among those (``step_env`` treats any action other than
``LEFT`` in A as ``RIGHT``, so a masked agent never relies on it).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from envs import EnvParams, EnvState, Environment, spaces

A, B = 0, 1
LEFT, RIGHT = 0, 1


@struct.dataclass
class MaxBiasParams(EnvParams):
    max_steps_in_episode: int = 2  # never binds: every episode ends in at most 2 steps
    reward_mean: float = -0.1
    reward_std: float = 1.0


@struct.dataclass
class MaxBiasState(EnvState):
    position: jax.Array  # int32, A (0) or B (1)


class MaximizationBias(Environment):
    """Sutton & Barto (2018) Example 6.7; ``num_b_actions`` is the number of actions in B (10 here)."""

    id = "MaximizationBias-v0"

    def __init__(self, num_b_actions: int = 10):
        self.num_b_actions = int(num_b_actions)

    @property
    def default_params(self) -> MaxBiasParams:
        return MaxBiasParams()

    def reset_env(self, key, params):
        return jnp.int32(A), MaxBiasState(time=jnp.int32(0), position=jnp.int32(A))

    def step_env(self, key, state, action, params):
        in_a = state.position == A
        went_left = in_a & (action == LEFT)
        reward_b = params.reward_mean + params.reward_std * jax.random.normal(key)
        reward = jnp.where(in_a, 0.0, reward_b)
        terminated = ~went_left  # A-right ends the episode; every action in B ends it
        position = jnp.where(went_left, B, state.position).astype(jnp.int32)
        new_state = MaxBiasState(time=state.time + 1, position=position)
        return position, new_state, reward, terminated, {}

    def observation_space(self, params=None):
        return spaces.Discrete(2)

    def action_space(self, params=None):
        return spaces.Discrete(self.num_b_actions)


def valid_actions(env: MaximizationBias, obs: jax.Array) -> jax.Array:
    """Boolean mask ``[..., num_b_actions]`` of the actions that exist in state ``obs``: 2 in A, all in B."""
    n_valid = jnp.where(obs == A, 2, env.num_b_actions)
    return jnp.arange(env.num_b_actions) < jnp.asarray(n_valid)[..., None]
