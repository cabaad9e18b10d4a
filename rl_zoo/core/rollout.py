"""Collect ``T`` steps from a vectorised env into a time-major ``Trajectory [T, B, ...]``.

One entry point, two engines: a JAX env is stepped inside ``lax.scan`` (the whole rollout compiles
into the update); a gymnasium env (``venv.is_jax`` false) is stepped in a host loop with the policy
jitted. Both return the same ``Trajectory``, so algorithm code does not know which ran.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs import spaces
from rl_zoo.core.types import Transition

#: ``policy_fn(params, key, obs [B, ...]) -> (action [B, ...], extras)``
PolicyFn = Callable[[Any, jax.Array, jax.Array], tuple[jax.Array, Any]]

_jitted: "weakref.WeakKeyDictionary[Callable, Callable]" = weakref.WeakKeyDictionary()


def env_action(action: jax.Array, space, clip: bool = True) -> jax.Array:
    """The action sent to the env: a Gaussian sample is clipped into a Box (``clip=False``: left as it
    is, the policy's raw mode); the sample itself is kept in the trajectory so that its log-probability
    stays exact. A categorical choice is an index 0..n-1: a ``Discrete(n, start)`` space gets
    ``start + index`` (the trajectory keeps the index)."""
    if isinstance(space, spaces.Box):
        return jnp.clip(action, space.low, space.high) if clip else action
    if isinstance(space, spaces.Discrete) and space.start:
        return action + jnp.asarray(space.start, action.dtype)
    return action


def _step(venv, policy_fn: PolicyFn, params, carry, key):
    env_state, obs = carry
    key_act, key_env = jax.random.split(key)
    action, extras = policy_fn(params, key_act, obs)
    next_obs, env_state, reward, terminated, truncated, info = venv.step(
        key_env, env_state, env_action(action, venv.action_space)
    )
    transition = Transition(
        obs=obs,
        action=action,
        reward=reward,
        terminated=terminated,
        truncated=truncated,
        next_obs=info["final_obs"],
        extras=extras,
        episode_done=info["episode_done"],
        episode_return=info["episode_return"],
        episode_length=info["episode_length"],
    )
    return (env_state, next_obs), transition


def rollout(venv, policy_fn: PolicyFn, params, env_state, obs, key: jax.Array, num_steps: int):
    """Run ``num_steps`` steps of ``venv`` (wrapped in ``envs.EpisodeStatistics``) under ``policy_fn``.

    Returns ``(env_state, obs, trajectory)`` where ``trajectory`` fields are ``[num_steps, B, ...]``.
    """
    keys = jax.random.split(key, num_steps)
    if venv.is_jax:
        (env_state, obs), traj = jax.lax.scan(
            lambda carry, k: _step(venv, policy_fn, params, carry, k), (env_state, obs), keys
        )
        return env_state, obs, traj
    return _host_rollout(venv, policy_fn, params, env_state, obs, keys)


def _host_rollout(venv, policy_fn, params, env_state, obs, keys):
    if policy_fn not in _jitted:
        _jitted[policy_fn] = jax.jit(policy_fn)
    policy = _jitted[policy_fn]
    transitions = []
    carry = (env_state, obs)
    for k in keys:
        carry, transition = _step(venv, policy, params, carry, k)
        transitions.append(transition)
    traj = jax.tree.map(lambda *xs: jnp.asarray(np.stack([np.asarray(x) for x in xs])), *transitions)
    return carry[0], carry[1], traj
