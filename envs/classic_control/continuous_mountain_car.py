"""MountainCarContinuous-v0 in pure JAX: gymnasium's ``Continuous_MountainCarEnv``, step for step.

The mountain-car task (Moore 1990; Sutton & Barto 2018, Example 10.1) with a continuous force, in
the version by Arnaud de Broissia that gymnasium ships (goal at 0.45, reward +100 at the goal minus
0.1 * action^2 per step).

* Moore, A. W. (1990). Efficient Memory-based Learning for Robot Control. PhD thesis, University of
  Cambridge (technical report UCAM-CL-TR-209).
* gymnasium ``gymnasium/envs/classic_control/continuous_mountain_car.py``.

Dynamics (one step): ``force = clip(action[0], -1, 1)``; ``velocity += force * 0.0015 - 0.0025 *
cos(3 * position)`` clipped to +-0.07; ``position += velocity`` clipped to [-1.2, 0.6]; hitting the
left wall while moving left stops the car. Terminates when ``position >= 0.45`` and ``velocity >=
goal_velocity`` (0). Reward ``100 * terminated - 0.1 * action[0]^2``. Time limit 999 steps. Reset:
position uniform in [-0.6, -0.4), velocity 0. Observation ``[position, velocity]`` (float32).

Actions: a float array of shape (1,) in [-1, 1]. Out-of-space actions are handled exactly as
gymnasium handles them: the force is clipped to [-1, 1], but the action cost in the reward uses the
*unclipped* action (so an action of 3 pushes like 1 and costs 0.9). Nothing raises.

The state is float32; gymnasium computes in float64. One step from the same state agrees to float32
rounding (``tests/test_envs_classic_control.py``); replayed open-loop from the same start, 300
episodes pushing along the velocity stay within 6.6e-7 of gymnasium's observations, 300 of uniformly
random forces (999 steps each) within 3.1e-5, and none of them ends a step apart.
"""

from __future__ import annotations

import jax.numpy as jnp
from flax import struct

from envs import spaces
from envs.classic_control._mountain_car_common import MountainCarBase, MountainCarState, MountainCarTrackParams

#: the state is MountainCar-v0's (position, velocity, time); the name is kept for this env
ContinuousMountainCarState = MountainCarState


@struct.dataclass
class ContinuousMountainCarParams(MountainCarTrackParams):
    """gymnasium's constants: these six, and the track, speed limit, gravity, goal velocity and reset
    range shared with MountainCar (``MountainCarTrackParams``)."""

    min_action: float = -1.0
    max_action: float = 1.0
    goal_position: float = 0.45
    power: float = 0.0015
    max_steps_in_episode: int = 999

    ORDERED = (("min_position", "max_position"), ("min_action", "max_action"))  # the track, the action space
    NOT_ABOVE = (("reset_low", "reset_high"),)  # the start: one position where equal (gymnasium's reset options take it)


class ContinuousMountainCar(MountainCarBase):
    """``reset``, the observation and its bounds are ``MountainCarBase``'s (shared with MountainCar)."""

    id = "MountainCarContinuous-v0"

    @property
    def default_params(self) -> ContinuousMountainCarParams:
        return ContinuousMountainCarParams()

    def step_env(self, key, state, action, params):
        a = jnp.reshape(action, (-1,))[0].astype(jnp.float32)
        force = jnp.clip(a, params.min_action, params.max_action)
        # gymnasium's association: velocity += (force * power - gravity * cos(3 position)), in float32
        velocity = state.velocity + (force * params.power - params.gravity * jnp.cos(3 * state.position))
        velocity = jnp.clip(velocity, -params.max_speed, params.max_speed)
        position = jnp.clip(state.position + velocity, params.min_position, params.max_position)
        velocity = jnp.where((position == params.min_position) & (velocity < 0), 0.0, velocity)
        terminated = (position >= params.goal_position) & (velocity >= params.goal_velocity)
        reward = jnp.where(terminated, 100.0, 0.0) - a**2 * 0.1
        state = ContinuousMountainCarState(position, velocity, state.time + 1)
        return self.get_obs(state), state, reward.astype(jnp.float32), terminated, {}

    def action_space(self, params=None):
        p = self.default_params if params is None else params
        return spaces.Box(p.min_action, p.max_action, (1,), jnp.float32)
