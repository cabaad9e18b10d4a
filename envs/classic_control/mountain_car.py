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

The state is float32; gymnasium computes in float64. One step from the same state agrees to float32
rounding (``tests/test_envs_classic_control.py``), and random-action episodes, which stay in the
valley, replay open-loop into gymnasium to ~5e-7. A car that crawls up to the goal passes close to the
hilltop (position pi/6 = 0.52, an unstable point of the track), which amplifies the rounding: with a
policy that pushes along the velocity and does nothing on a random third of the steps, 300 episodes
replayed open-loop from the same start differ by up to 9.3e-5 (2.0e-4 with ``goal_velocity=0.01``),
and one ends a step apart (at step 132 the port's position is 0.49999967, not terminated, gymnasium's
0.50000012, terminated). Same seed and same policy here give the same episodes.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import struct

from envs import spaces
from envs.classic_control._mountain_car_common import MountainCarBase, MountainCarState, MountainCarTrackParams


@struct.dataclass
class MountainCarParams(MountainCarTrackParams):
    """gymnasium's constants: these three, and the track, speed limit, gravity, goal velocity and
    reset range shared with MountainCarContinuous (``MountainCarTrackParams``)."""

    goal_position: float = 0.5
    force: float = 0.001
    max_steps_in_episode: int = 200


class MountainCar(MountainCarBase):
    """``reset``, the observation and its bounds are ``MountainCarBase``'s (shared with MountainCarContinuous)."""

    id = "MountainCar-v0"

    @property
    def default_params(self) -> MountainCarParams:
        return MountainCarParams()

    def step_env(self, key, state, action, params):
        push = (jnp.clip(jnp.asarray(action).astype(jnp.int32), 0, 2) - 1).astype(jnp.float32)  # a float 1.5 is action 1
        velocity = state.velocity + (push * params.force + jnp.cos(3 * state.position) * (-params.gravity))
        velocity = jnp.clip(velocity, -params.max_speed, params.max_speed)
        position = jnp.clip(state.position + velocity, params.min_position, params.max_position)
        velocity = jnp.where((position == params.min_position) & (velocity < 0), 0.0, velocity)
        terminated = (position >= params.goal_position) & (velocity >= params.goal_velocity)
        state = MountainCarState(position, velocity, state.time + 1)
        return self.get_obs(state), state, jnp.float32(-1.0), terminated, {}

    def action_space(self, params=None):
        return spaces.Discrete(3)
