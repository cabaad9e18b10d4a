"""Greedy evaluation on separate env copies: the training envs' episodes are never disturbed."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs import EpisodeStatistics, vectorize
from rl_zoo.core.rollout import env_action


def evaluate(
    act: Callable[[Any, jax.Array], jax.Array],
    agent_state: Any,
    env,
    env_params,
    key: jax.Array,
    num_episodes: int,
    max_steps: int | None = None,
) -> jax.Array:
    """Undiscounted return of the first episode of each of ``num_episodes`` fresh env copies ``[E]``.

    ``act(agent_state, obs) -> action`` is the algorithm's greedy policy (with its frozen
    normalisation statistics). Pure and jittable for JAX envs (a ``lax.scan`` of ``max_steps``,
    default the env's time limit); a host loop for gymnasium envs.
    """
    venv = EpisodeStatistics(vectorize(env, env_params, num_episodes))
    max_steps = int(max_steps or env_params.max_steps_in_episode)
    key_reset, key_steps = jax.random.split(key)
    obs, state = venv.reset(key_reset)
    returns = jnp.zeros((num_episodes,), jnp.float32)
    finished = jnp.zeros((num_episodes,), bool)

    def step(carry, k):
        obs, state, returns, finished = carry
        action = env_action(act(agent_state, obs), venv.action_space)
        obs, state, _, _, _, info = venv.step(k, state, action)
        newly = info["episode_done"] & ~finished
        returns = jnp.where(newly, info["episode_return"], returns)
        return (obs, state, returns, finished | info["episode_done"]), None

    keys = jax.random.split(key_steps, max_steps)
    carry = (obs, state, returns, finished)
    if venv.is_jax:
        carry, _ = jax.lax.scan(step, carry, keys)
        return carry[2]
    act_jit = jax.jit(act)
    for k in keys:
        obs, state, returns, finished = carry
        action = np.asarray(env_action(act_jit(agent_state, obs), venv.action_space))
        obs, state, _, _, _, info = venv.step(k, state, action)
        newly = info["episode_done"] & ~finished
        carry = (obs, state, jnp.where(newly, info["episode_return"], returns), finished | info["episode_done"])
        if bool(carry[3].all()):
            break
    return carry[2]
