"""What MountainCar-v0 and MountainCarContinuous-v0 share: gymnasium's two mountain-car envs have the
same track, speed limit, gravity, goal velocity and start distribution, and the same observation.

* gymnasium ``gymnasium/envs/classic_control/mountain_car.py`` and
  ``gymnasium/envs/classic_control/continuous_mountain_car.py`` (the shared constants of their
  ``__init__``, their ``reset`` and their ``observation_space``).

Each env's own module keeps what differs: the goal position, how the action pushes the car (its
``step``), the reward, the action space and the time limit.
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
class MountainCarTrackParams(EnvParams):
    """The constants both envs share; each env's params add its goal position, push and time limit."""

    min_position: float = -1.2
    max_position: float = 0.6
    max_speed: float = 0.07
    goal_velocity: float = 0.0
    gravity: float = 0.0025
    reset_low: float = -0.6
    reset_high: float = -0.4

    POSITIVE = ("max_speed",)  # the velocity is clipped to [-max_speed, max_speed]
    MAY_BE_INFINITE = ("goal_velocity",)  # -inf: reaching the goal ends an episode at any velocity; +inf: nothing does
    ORDERED = (("min_position", "max_position"),)
    NOT_ABOVE = (("reset_low", "reset_high"),)  # uniform(low, high) with low > high was low; equal: a fixed start, as gymnasium's


class MountainCarBase(Environment):
    """Reset (position uniform in [reset_low, reset_high), velocity 0), observation
    ``[position, velocity]`` (float32) and its bounds, shared by both mountain-car envs."""

    def reset_env(self, key, params):
        position = jax.random.uniform(key, (), jnp.float32, params.reset_low, params.reset_high)
        state = MountainCarState(position, jnp.zeros((), jnp.float32), jnp.array(0, jnp.int32))
        return self.get_obs(state), state

    def get_obs(self, state):
        return jnp.stack([state.position, state.velocity]).astype(jnp.float32)

    def observation_space(self, params=None):
        p = self.default_params if params is None else params
        low = np.array([p.min_position, -p.max_speed], np.float32)
        high = np.array([p.max_position, p.max_speed], np.float32)
        return spaces.Box(low, high, (2,), jnp.float32)
