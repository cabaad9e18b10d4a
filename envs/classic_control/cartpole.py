"""CartPole-v1 in pure JAX: gymnasium's ``CartPoleEnv`` (Barto, Sutton & Anderson 1983), step for step.

Dynamics from Florian (2007), "Correct equations for the dynamics of the cart-pole system", explicit
Euler with tau = 0.02 s, as gymnasium integrates them. Reward 1 per step (including the step that
terminates), termination when |x| > 2.4 or |theta| > 12 degrees, time limit 500 steps (CartPole-v0,
gymnasium's out-of-date first version, is the same env with a limit of 200 and a reward threshold of 195). With
``sutton_barto_reward=True`` (gymnasium's constructor option, ``--env-kwargs sutton_barto_reward=true``) the
reward is that of Barto, Sutton & Anderson (1983) instead: 0 a step and -1 on the step that ends the episode
(a time limit's cut is no failure: 0), so every return is 0 or -1.

Actions: 0 pushes left, 1 pushes right. gymnasium asserts that the action is in {0, 1}; this port
cannot raise inside jit, so any action other than 1 pushes left.

The state is float32; gymnasium steps in float64. One step from the same state agrees to float32
rounding (``tests/test_envs_classic_control.py``), but a balanced pole is an unstable equilibrium:
replaying a logged action sequence from the same start drifts apart over hundreds of steps (an
episode gymnasium balances for 500 steps may fall after ~200 here), as a float32 copy of gymnasium's
own equations in numpy does too. Same seed and same policy here give the same episodes. The
thresholds are compared in float32 as well: float32(2.4) lies 9.5e-8 above 2.4, so a cart exactly
there ends the episode in gymnasium's float64 test and not here (likewise the angle's 12 degrees).
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
class CartPoleState:
    x: jax.Array
    x_dot: jax.Array
    theta: jax.Array
    theta_dot: jax.Array
    time: jax.Array


@struct.dataclass
class CartPoleParams(EnvParams):
    gravity: float = 9.8
    masscart: float = 1.0
    masspole: float = 0.1
    length: float = 0.5  # half the pole's length
    force_mag: float = 10.0
    tau: float = 0.02
    theta_threshold_radians: float = 12 * 2 * math.pi / 360
    x_threshold: float = 2.4
    reset_bound: float = 0.05
    max_steps_in_episode: int = 500

    # the dynamics divide by the pole's length and the total mass (checked in `invalid`); the thresholds bound the
    # observation space; the reset draws in [-reset_bound, reset_bound]
    POSITIVE = ("length", "x_threshold", "theta_threshold_radians")
    NON_NEGATIVE = ("masscart", "masspole", "tau", "reset_bound")
    MAY_BE_INFINITE = ("x_threshold", "theta_threshold_radians")  # no such end of an episode

    def invalid(self) -> str | None:
        """`EnvParams.invalid`'s rules, then the total mass: positive (the pole's mass alone may carry it)."""
        said, total = super().invalid(), self.masscart + self.masspole
        if said is None and not isinstance(total, jax.core.Tracer) and not np.all(np.asarray(total) > 0):
            shown = f"{total:g}" if np.ndim(total) == 0 else np.asarray(total)
            return f"masscart + masspole = {shown} must be > 0 (the dynamics divide by the total mass)"
        return said


class CartPole(Environment):
    """CartPole-v1; constructor arguments as gymnasium's ``CartPoleEnv`` (minus rendering)."""

    id = "CartPole-v1"

    def __init__(self, sutton_barto_reward: bool = False, max_episode_steps: int = 500):
        self.sutton_barto_reward = bool(sutton_barto_reward)
        #: the time limit of the id it is registered under: CartPole-v1's 500, CartPole-v0's 200
        self.max_episode_steps = int(max_episode_steps)

    @property
    def default_params(self) -> CartPoleParams:
        return CartPoleParams(max_steps_in_episode=self.max_episode_steps)

    def reset_env(self, key, params):
        x, x_dot, theta, theta_dot = jax.random.uniform(key, (4,), jnp.float32, -params.reset_bound, params.reset_bound)
        state = CartPoleState(x, x_dot, theta, theta_dot, jnp.array(0, jnp.int32))
        return self.get_obs(state), state

    def step_env(self, key, state, action, params):
        force = jnp.where(action == 1, params.force_mag, -params.force_mag)
        costheta, sintheta = jnp.cos(state.theta), jnp.sin(state.theta)
        total_mass = params.masspole + params.masscart
        polemass_length = params.masspole * params.length
        temp = (force + polemass_length * state.theta_dot**2 * sintheta) / total_mass
        thetaacc = (params.gravity * sintheta - costheta * temp) / (
            params.length * (4.0 / 3.0 - params.masspole * costheta**2 / total_mass)
        )
        xacc = temp - polemass_length * thetaacc * costheta / total_mass
        state = CartPoleState(
            x=state.x + params.tau * state.x_dot,
            x_dot=state.x_dot + params.tau * xacc,
            theta=state.theta + params.tau * state.theta_dot,
            theta_dot=state.theta_dot + params.tau * thetaacc,
            time=state.time + 1,
        )
        terminated = (
            (state.x < -params.x_threshold)
            | (state.x > params.x_threshold)
            | (state.theta < -params.theta_threshold_radians)
            | (state.theta > params.theta_threshold_radians)
        )
        if self.sutton_barto_reward:  # gymnasium's CartPoleEnv.step: 0.0 until the pole falls, -1.0 when it does
            reward = jnp.where(terminated, jnp.float32(-1.0), jnp.float32(0.0))
        else:
            reward = jnp.float32(1.0)
        return self.get_obs(state), state, reward, terminated, {}

    def get_obs(self, state):
        return jnp.stack([state.x, state.x_dot, state.theta, state.theta_dot]).astype(jnp.float32)

    def observation_space(self, params=None):
        p = self.default_params if params is None else params
        high = np.array([p.x_threshold * 2, np.inf, p.theta_threshold_radians * 2, np.inf], np.float32)
        return spaces.Box(-high, high, (4,), jnp.float32)

    def action_space(self, params=None):
        return spaces.Discrete(2)
