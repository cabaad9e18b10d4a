"""MountainCar-v0 in pure JAX: gymnasium's ``MountainCarEnv``, step for step.

An under-powered car in a valley must rock back and forth to reach the flag on the right hill.

* Moore, A. W. (1990). Efficient Memory-based Learning for Robot Control. PhD thesis, University of
  Cambridge (technical report UCAM-CL-TR-209), where the task was introduced.
* Sutton, R. S. & Barto, A. G. (2018). Reinforcement Learning: An Introduction, 2nd ed., Example
  10.1 (the formulation used here).
* gymnasium ``gymnasium/envs/classic_control/mountain_car.py``.

Dynamics (one step): ``velocity += (action - 1) * force - cos(3 * position) * gravity`` clipped to
+-0.07; ``position += velocity`` clipped to [-1.2, 0.6]; hitting the left wall while moving left
stops the car (velocity 0). Terminates when ``position >= 0.5`` and ``velocity >= goal_velocity``
(0). Reward -1 on every step, including the last. Time limit 200 steps. Reset: position uniform in
[-0.6, -0.4), velocity 0. Observation ``[position, velocity]`` (float32).

Actions: 0 accelerates left, 1 does nothing, 2 accelerates right. gymnasium asserts that the action
is in {0, 1, 2}; this port cannot raise inside jit and clips the action into {0, 1, 2} instead (so
5 acts as 2). Validate actions on the host (``action_space().contains``) if you need the error.

The state is float32; gymnasium computes in float64 (the difference stays ~1e-6 over an episode).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import spaces
from envs.environment import EnvParams, Environment


@struct.dataclass
class MountainCarState:
    position: jax.Array
    velocity: jax.Array
    time: jax.Array


@struct.dataclass
class MountainCarParams(EnvParams):
    min_position: float = -1.2
    max_position: float = 0.6
    max_speed: float = 0.07
    goal_position: float = 0.5
    goal_velocity: float = 0.0
    force: float = 0.001
    gravity: float = 0.0025
    reset_low: float = -0.6
    reset_high: float = -0.4
    max_steps_in_episode: int = 200


class MountainCar(Environment):
    id = "MountainCar-v0"

    @property
    def default_params(self) -> MountainCarParams:
        return MountainCarParams()

    def reset_env(self, key, params):
        position = jax.random.uniform(key, (), jnp.float32, params.reset_low, params.reset_high)
        state = MountainCarState(position, jnp.zeros((), jnp.float32), jnp.array(0, jnp.int32))
        return self.get_obs(state), state

    def step_env(self, key, state, action, params):
        push = (jnp.clip(action, 0, 2) - 1).astype(jnp.float32)
        velocity = state.velocity + (push * params.force + jnp.cos(3 * state.position) * (-params.gravity))
        velocity = jnp.clip(velocity, -params.max_speed, params.max_speed)
        position = jnp.clip(state.position + velocity, params.min_position, params.max_position)
        velocity = jnp.where((position == params.min_position) & (velocity < 0), 0.0, velocity)
        terminated = (position >= params.goal_position) & (velocity >= params.goal_velocity)
        state = MountainCarState(position, velocity, state.time + 1)
        return self.get_obs(state), state, jnp.float32(-1.0), terminated, {}

    def get_obs(self, state):
        return jnp.stack([state.position, state.velocity]).astype(jnp.float32)

    def observation_space(self, params=None):
        p = self.default_params if params is None else params
        low = np.array([p.min_position, -p.max_speed], np.float32)
        high = np.array([p.max_position, p.max_speed], np.float32)
        return spaces.Box(low, high, (2,), jnp.float32)

    def action_space(self, params=None):
        return spaces.Discrete(3)
