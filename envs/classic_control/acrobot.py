"""Acrobot-v1 in pure JAX: gymnasium's ``AcrobotEnv``, step for step.

The task is Sutton's (1996) swing-up: two links hang from a fixed pivot and only the joint between
them is actuated; the episode ends when the free end rises one link length above the pivot,
``-cos(theta1) - cos(theta1 + theta2) > 1``.

* Sutton, R. S. (1996). Generalization in Reinforcement Learning: Successful Examples Using Sparse
  Coarse Coding. NIPS 8. https://papers.nips.cc/paper/1995/hash/8f1d43620bc6bb580df6e80b0dc05c48-Abstract.html
* Sutton, R. S. & Barto, A. G. (1998). Reinforcement Learning: An Introduction, 1st ed., section 11.3
  "Acrobot" (http://incompleteideas.net/book/11/node4.html): the "book" dynamics, which gymnasium uses
  by default and this port uses (Spong 1995 derives them). gymnasium's docstring cites the 2018 second
  edition but links this section; the second edition has no Acrobot case study.
* gymnasium ``gymnasium/envs/classic_control/acrobot.py`` (itself from RLPy).

Dynamics: the book equations (``_dsdt``), integrated over ``dt = 0.2`` s with one classical
fourth-order Runge-Kutta step (gymnasium's ``rk4`` with ``t = [0, dt]``); afterwards the angles are
wrapped into [-pi, pi] and the angular velocities clipped to +-4 pi and +-9 pi. Torque noise is 0, as
in gymnasium's default (``torque_noise_max = 0``), so the dynamics are deterministic.

Observation ``[cos th1, sin th1, cos th2, sin th2, dth1, dth2]`` (float32). Reward -1 on every step
that does not reach the goal, 0 on the step that does (and the episode terminates). Time limit 500
steps. Reset: the four state variables uniform in [-0.1, 0.1).

Actions: 0, 1, 2 apply torque -1, 0, +1 on the middle joint. gymnasium raises on other actions (an
``IndexError`` from its torque table, or silently wraps negative ones); this port cannot raise inside
jit and clips the action into {0, 1, 2} instead (so 7 acts as 2 and -3 as 0). Validate actions on the
host (``action_space().contains``) if you need the error.

The state is float32; gymnasium integrates in float64. The system is chaotic, so two trajectories
from the same state drift apart over hundreds of steps although every single step agrees to ~1e-6
(see ``tests/test_envs_classic_control.py``). The goal test is made in float32 too: a height
within float32 rounding of 1 can end the episode one step apart from gymnasium's float64 test.
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
class AcrobotState:
    theta1: jax.Array  # angle of the first link; 0 points straight down
    theta2: jax.Array  # angle of the second link relative to the first
    dtheta1: jax.Array
    dtheta2: jax.Array
    time: jax.Array


@struct.dataclass
class AcrobotParams(EnvParams):
    dt: float = 0.2
    link_length_1: float = 1.0
    link_mass_1: float = 1.0
    link_mass_2: float = 1.0
    link_com_pos_1: float = 0.5
    link_com_pos_2: float = 0.5
    link_moi: float = 1.0  # moment of inertia of both links
    gravity: float = 9.8
    max_vel_1: float = 4 * math.pi
    max_vel_2: float = 9 * math.pi
    reset_bound: float = 0.1
    max_steps_in_episode: int = 500

    # the dynamics divide by the mass matrix's d1 and its Schur complement: positive definite when the links' moment of
    # inertia is positive and their masses are not negative, whatever the lengths; the velocity limits bound the
    # observation space
    POSITIVE = ("link_moi", "max_vel_1", "max_vel_2")
    NON_NEGATIVE = ("link_mass_1", "link_mass_2", "dt", "reset_bound")
    MAY_BE_INFINITE = ("max_vel_1", "max_vel_2")  # no velocity limit


def _dsdt(s, torque, p: AcrobotParams):
    """Time derivative of ``(theta1, theta2, dtheta1, dtheta2)``: the book equations (gymnasium ``_dsdt``)."""
    theta1, theta2, dtheta1, dtheta2 = s
    m1, m2, l1 = p.link_mass_1, p.link_mass_2, p.link_length_1
    lc1, lc2, i1, i2, g = p.link_com_pos_1, p.link_com_pos_2, p.link_moi, p.link_moi, p.gravity
    d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * jnp.cos(theta2)) + i1 + i2
    d2 = m2 * (lc2**2 + l1 * lc2 * jnp.cos(theta2)) + i2
    phi2 = m2 * lc2 * g * jnp.cos(theta1 + theta2 - math.pi / 2.0)
    phi1 = (
        -m2 * l1 * lc2 * dtheta2**2 * jnp.sin(theta2)
        - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * jnp.sin(theta2)
        + (m1 * lc1 + m2 * l1) * g * jnp.cos(theta1 - math.pi / 2)
        + phi2
    )
    ddtheta2 = (torque + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * jnp.sin(theta2) - phi2) / (
        m2 * lc2**2 + i2 - d2**2 / d1
    )
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    return jnp.stack([dtheta1, dtheta2, ddtheta1, ddtheta2])


def _rk4(s, torque, p: AcrobotParams):
    """One classical Runge-Kutta step of length ``dt`` (gymnasium ``rk4(derivs, y0, [0, dt])``)."""
    dt = p.dt
    dt2 = dt / 2.0
    k1 = _dsdt(s, torque, p)
    k2 = _dsdt(s + dt2 * k1, torque, p)
    k3 = _dsdt(s + dt2 * k2, torque, p)
    k4 = _dsdt(s + dt * k3, torque, p)
    return s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _wrap(x, m, big_m):
    """Wrap ``x`` into [m, M] as gymnasium's loop ``while x > M: x -= M - m`` (and the mirror) does."""
    diff = big_m - m
    above = x - diff * jnp.ceil((x - big_m) / diff)
    below = x + diff * jnp.ceil((m - x) / diff)
    return jnp.where(x > big_m, above, jnp.where(x < m, below, x))


class Acrobot(Environment):
    id = "Acrobot-v1"

    @property
    def default_params(self) -> AcrobotParams:
        return AcrobotParams()

    def reset_env(self, key, params):
        th1, th2, dth1, dth2 = jax.random.uniform(key, (4,), jnp.float32, -params.reset_bound, params.reset_bound)
        state = AcrobotState(th1, th2, dth1, dth2, jnp.array(0, jnp.int32))
        return self.get_obs(state), state

    def step_env(self, key, state, action, params):
        torque = (jnp.clip(jnp.asarray(action).astype(jnp.int32), 0, 2) - 1).astype(jnp.float32)  # AVAIL_TORQUE = [-1, 0, +1]
        s = jnp.stack([state.theta1, state.theta2, state.dtheta1, state.dtheta2])
        ns = _rk4(s, torque, params)
        state = AcrobotState(
            theta1=_wrap(ns[0], -math.pi, math.pi),
            theta2=_wrap(ns[1], -math.pi, math.pi),
            dtheta1=jnp.clip(ns[2], -params.max_vel_1, params.max_vel_1),
            dtheta2=jnp.clip(ns[3], -params.max_vel_2, params.max_vel_2),
            time=state.time + 1,
        )
        terminated = -jnp.cos(state.theta1) - jnp.cos(state.theta2 + state.theta1) > 1.0
        reward = jnp.where(terminated, 0.0, -1.0).astype(jnp.float32)
        return self.get_obs(state), state, reward, terminated, {}

    def get_obs(self, state):
        return jnp.stack(
            [jnp.cos(state.theta1), jnp.sin(state.theta1), jnp.cos(state.theta2), jnp.sin(state.theta2), state.dtheta1, state.dtheta2]
        ).astype(jnp.float32)

    def observation_space(self, params=None):
        p = self.default_params if params is None else params
        high = np.array([1.0, 1.0, 1.0, 1.0, p.max_vel_1, p.max_vel_2], np.float32)
        return spaces.Box(-high, high, (6,), jnp.float32)

    def action_space(self, params=None):
        return spaces.Discrete(3)
