"""Batches of environments behind one interface, whatever the backend.

The rollout in ``rl_zoo.core.rollout`` sees only a ``VecEnv``:

    obs, state = venv.reset(key)                                   # obs [B, ...]
    obs, state, reward, terminated, truncated, info = venv.step(key, state, action)   # [B, ...]

* ``JaxVecEnv`` vmaps a pure-JAX ``Environment``: pure, jittable, ``is_jax = True``.
* ``envs.gymnasium_adapter.GymnasiumVecEnv`` drives a host-side gymnasium vector env in same-step
  auto-reset mode: not jittable, ``is_jax = False``; ``state`` is a placeholder there.

Both keep ``info["final_obs"]`` (the observation an episode ended on) and ``terminated`` and
``truncated`` apart.
"""

from __future__ import annotations

from typing import Any

import jax

from envs.environment import EnvParams, Environment


class JaxVecEnv:
    """``num_envs`` copies of a pure-JAX environment, stepped with ``jax.vmap``."""

    is_jax = True

    def __init__(self, env: Environment, params: EnvParams, num_envs: int):
        self.env, self.params, self.num_envs = env, params, int(num_envs)
        # spaces hold concrete numpy bounds, even when the env is built inside a jitted function
        with jax.ensure_compile_time_eval():
            self.observation_space = env.observation_space(params)
            self.action_space = env.action_space(params)

    def reset(self, key: jax.Array) -> tuple[jax.Array, Any]:
        keys = jax.random.split(key, self.num_envs)
        return jax.vmap(self.env.reset, in_axes=(0, None))(keys, self.params)

    def step(self, key: jax.Array, state: Any, action: jax.Array):
        keys = jax.random.split(key, self.num_envs)
        return jax.vmap(self.env.step, in_axes=(0, 0, 0, None))(keys, state, action, self.params)

    def step_no_reset(self, key: jax.Array, state: Any, action: jax.Array):
        """`Environment.step_no_reset` of every copy, with the keys `step` would give them."""
        keys = jax.random.split(key, self.num_envs)
        return jax.vmap(self.env.step_no_reset, in_axes=(0, 0, 0, None))(keys, state, action, self.params)


def vectorize(env, params: EnvParams, num_envs: int):
    """A ``VecEnv`` of ``num_envs`` copies of ``env``: vmapped for JAX ports, a host vector env otherwise."""
    if getattr(env, "backend", "jax") == "jax":
        return JaxVecEnv(env, params, num_envs)
    return env.make_vec(num_envs, params)
