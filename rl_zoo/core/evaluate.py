"""Greedy evaluation on separate env copies: the training envs' episodes are never disturbed."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs import EpisodeStatistics, vectorize
from rl_zoo.core.rollout import env_action

#: time limits above this are treated as "no time limit" ...
MAX_EVAL_STEPS = 100_000
#: ... and such envs are evaluated for this many steps at most
UNLIMITED_EVAL_STEPS = 1_000


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
    normalisation statistics). Pure and jittable for JAX envs (a ``lax.scan`` of ``max_steps``);
    a host loop for gymnasium envs. ``max_steps`` defaults to the env's time limit, or to
    ``UNLIMITED_EVAL_STEPS`` for an env without one (CliffWalking); an episode still running
    after ``max_steps`` counts the return it collected so far.
    """
    venv = EpisodeStatistics(vectorize(env, env_params, num_episodes))
    if max_steps is None:
        limit = int(env_params.max_steps_in_episode)
        max_steps = limit if limit <= MAX_EVAL_STEPS else UNLIMITED_EVAL_STEPS
    max_steps = int(max_steps)
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
        return _returns(carry)
    act_jit = jax.jit(act)
    for k in keys:
        obs, state, returns, finished = carry
        action = np.asarray(env_action(act_jit(agent_state, obs), venv.action_space))
        obs, state, _, _, _, info = venv.step(k, state, action)
        newly = info["episode_done"] & ~finished
        carry = (obs, state, jnp.where(newly, info["episode_return"], returns), finished | info["episode_done"])
        if bool(carry[3].all()):
            break
    return _returns(carry)


def _returns(carry) -> jax.Array:
    """Finished episodes give their return; unfinished ones the partial return collected so far."""
    _, state, returns, finished = carry
    return jnp.where(finished, returns, state.episode_return)
