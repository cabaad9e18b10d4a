"""Pendulum-v1 in pure JAX: gymnasium's ``PendulumEnv``, step for step.

The inverted-pendulum swing-up: a torque-limited pendulum starts at a random angle and must be
swung up and held upright, with a quadratic cost on angle, angular velocity and torque.

* Doya, K. (2000). Reinforcement Learning in Continuous Time and Space. Neural Computation 12(1),
  219-245 (the torque-limited swing-up task).
* gymnasium ``gymnasium/envs/classic_control/pendulum.py`` (the formulation ported here).

Dynamics (one step, semi-implicit Euler with dt = 0.05 s, g = 10, m = l = 1):
``u = clip(action[0], -2, 2)``; ``cost = normalize(th)^2 + 0.1 * thdot^2 + 0.001 * u^2`` (from the
state *before* the step); ``thdot += (3 g / (2 l) sin th + 3 / (m l^2) u) dt`` clipped to +-8;
``th += thdot * dt`` (not wrapped, as in gymnasium). Reward ``-cost``. Never terminates; time limit
200 steps. Reset: ``th`` uniform in [-pi, pi), ``thdot`` uniform in [-1, 1). Observation
``[cos th, sin th, thdot]`` (float32).

Actions: a float array of shape (1,) in [-2, 2]. Out-of-space actions are handled as gymnasium does:
the torque is clipped to [-max_torque, max_torque] before it enters both the dynamics and the cost.
Nothing raises.

The state is float32; gymnasium steps in float64. One step from the same state agrees to float32
rounding (``tests/test_envs_classic_control.py``), but the upright position is unstable, so replaying
a logged action sequence from the same start drifts apart: under uniformly random torques in [-2, 2],
half of 100 episodes stay within 2.5e-5 of gymnasium's observations over their 200 steps, one in ten
passes 1e-3, and the worst reaches 1e-4 by step 70, 1e-3 by step 106 and 0.66 at step 194 (rewards
then differ by 2.3). The port run in float64 (``jax.enable_x64``) agrees open-loop (same test file).
Same seed and same policy here give the same episodes.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import spaces
from envs.environment import EnvParams, Environment


@struct.dataclass
class PendulumState:
    theta: jax.Array
    theta_dot: jax.Array
    time: jax.Array


@struct.dataclass
class PendulumParams(EnvParams):
    max_speed: float = 8.0
    max_torque: float = 2.0
    dt: float = 0.05
    g: float = 10.0
    m: float = 1.0
    l: float = 1.0  # noqa: E741 - gymnasium's name
    x_init: float = math.pi  # reset: theta uniform in [-x_init, x_init)
    y_init: float = 1.0  # reset: theta_dot uniform in [-y_init, y_init)
    max_steps_in_episode: int = 200

    # the dynamics divide by m l^2; the speed and torque are clipped to [-max, max]
    POSITIVE = ("m", "l", "max_speed", "max_torque")
    NON_NEGATIVE = ("dt", "x_init", "y_init")


# 2 pi = _TWO_PI_HI + _TWO_PI_LO, with _TWO_PI_HI = 201 / 32 exact in 8 bits, so k * _TWO_PI_HI is exact
_TWO_PI_HI = 6.28125
_TWO_PI_LO = 2 * math.pi - _TWO_PI_HI


def angle_normalize(x):
    """Wrap an angle into [-pi, pi): gymnasium's ``((x + pi) % (2 pi)) - pi``, accurate in float32.

    ``theta`` is not wrapped in the state (as in gymnasium) and reaches tens of radians; there the
    literal formula in float32 loses ~4e-6 rad to the rounding of ``x + pi`` and of 2 pi, enough to
    move the cost by >1e-5. Subtracting ``k * 2 pi`` in two parts (Cody & Waite 1980 argument
    reduction) keeps the result within ~1e-7 of the exact value of the float32 state. ``k``, the number
    of turns, is itself computed in float32 and is one off in a few ulps beside each odd multiple of pi
    (the result then lands just outside [-pi, pi) and its square, the cost, is off by up to 8e-5): one
    correction step moves it back.
    """
    k = jnp.floor((x + math.pi) * (1.0 / (2 * math.pi)))
    r = (x - k * _TWO_PI_HI) - k * _TWO_PI_LO
    k = k - (r < -math.pi) + (r >= math.pi)
    return (x - k * _TWO_PI_HI) - k * _TWO_PI_LO


class Pendulum(Environment):
    id = "Pendulum-v1"

    @property
    def default_params(self) -> PendulumParams:
        return PendulumParams()

    def reset_env(self, key, params):
        high = jnp.array([params.x_init, params.y_init], jnp.float32)
        theta, theta_dot = jax.random.uniform(key, (2,), jnp.float32, -high, high)
        state = PendulumState(theta, theta_dot, jnp.array(0, jnp.int32))
        return self.get_obs(state), state

    def step_env(self, key, state, action, params):
        u = jnp.clip(jnp.reshape(action, (-1,))[0].astype(jnp.float32), -params.max_torque, params.max_torque)
        th, thdot = state.theta, state.theta_dot
        costs = angle_normalize(th) ** 2 + 0.1 * thdot**2 + 0.001 * (u**2)
        newthdot = thdot + (3 * params.g / (2 * params.l) * jnp.sin(th) + 3.0 / (params.m * params.l**2) * u) * params.dt
        newthdot = jnp.clip(newthdot, -params.max_speed, params.max_speed)
        newth = th + newthdot * params.dt
        state = PendulumState(newth, newthdot, state.time + 1)
        return self.get_obs(state), state, (-costs).astype(jnp.float32), jnp.array(False), {}

    def get_obs(self, state):
        return jnp.stack([jnp.cos(state.theta), jnp.sin(state.theta), state.theta_dot]).astype(jnp.float32)

    def observation_space(self, params=None):
        p = self.default_params if params is None else params
        high = np.array([1.0, 1.0, p.max_speed], np.float32)
        return spaces.Box(-high, high, (3,), jnp.float32)

    def action_space(self, params=None):
        p = self.default_params if params is None else params
        return spaces.Box(-p.max_torque, p.max_torque, (1,), jnp.float32)
