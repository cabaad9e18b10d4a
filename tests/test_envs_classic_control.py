"""Parity of the five pure-JAX classic-control ports with the installed gymnasium package.

How the comparison works (gymnax ``tests/classic_control/test_gym_env.py`` style, but whole
episodes): the port runs 12 episodes per env under several policies inside one jitted
``vmap(lax.scan(env.step))``; the policy sees the port's observations, and the actions it took are
replayed into ``gymnasium.make(id)`` (TimeLimit included), whose state is set to the port's initial
state after ``reset``. At every step the observation the port's ``step_env`` produced (the base
``step`` keeps it in ``info["final_obs"]``), the reward, ``terminated`` and the base ``step``'s
``truncated`` must agree with gymnasium's to 1e-5, and both must end the episode at the same step.

Two modes, because the port runs in float32 and gymnasium in float64:

* ``open-loop``: gymnasium is set to the port's state once, at reset, and then runs on its own for
  the whole episode. Used where float32 round-off does not grow past 1e-5 within these episodes:
  CartPole episodes that end by termination (random and fixed policies), MountainCar and
  MountainCarContinuous (all policies, up to 999 steps; each step agrees to 1 float32 ulp, these
  MountainCar episodes to 3.6e-7, MountainCarContinuous's 999-step random ones drift to ~8e-6 at
  worst). Not every episode does: a MountainCar car crawling up near the hilltop drifts to ~1e-4 and
  can end a step apart, MountainCarContinuous's random episodes reach 3.1e-5 (the envs' module
  docstrings give the numbers).
* ``resync``: before *every* step gymnasium's state is set to the port's state, so each step is
  compared from the same state, along full-length episodes (the TimeLimit still counts from reset).
  Used where the dynamics amplify float32 round-off (1e-7) past 1e-5 within an episode although
  every step agrees: Acrobot (chaotic double pendulum), Pendulum (the upright position is unstable
  and torques are random), and CartPole balanced by a controller for the full 500 steps (the
  open-loop inverted pendulum doubles errors every ~0.2 s; this one drifts even in float64).

For Acrobot and Pendulum the same episodes are also compared open-loop with the port running in
float64 (``jax.enable_x64``, state cast to float64 after reset), which checks that nothing is lost
between steps. Pendulum's full 200-step trajectories then agree. Acrobot's are compared over their
first 300 steps (60 s of simulated time): XLA's vectorised float64 sin/cos differ from numpy's by an
ulp now and then, and the chaos amplifies that by ~e per 18 steps, past 1e-5 after ~450 steps in
some episodes (1e-9 at step 300).
"""

from __future__ import annotations

import math
import zlib

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs import spaces

ATOL = 1e-5
IDS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]


# --- policies: (u, obs) -> action, in JAX, so that they run inside the scan ------------------------
# ``u`` is a uniform [0, 1) number drawn for the step outside the scan (fewer PRNG calls to compile).
def _discrete(n):
    return lambda u, obs: jnp.minimum((u * n).astype(jnp.int32), n - 1)


def _const(a):
    return lambda u, obs: jnp.int32(a)


def _sign(i, pos, neg):
    return lambda u, obs: jnp.where(obs[i] >= 0, jnp.int32(pos), jnp.int32(neg))


def _box(low, high):
    return lambda u, obs: (low + u * (high - low)) * jnp.ones((1,), jnp.float32)


def _box_sign(i, mag):
    return lambda u, obs: jnp.where(obs[i] >= 0, mag, -mag) * jnp.ones((1,), jnp.float32)


def _cartpole_controller(u, obs):
    """Bang-bang balance on theta + 0.3 theta_dot: keeps the pole up for the full 500 steps."""
    return jnp.where(obs[2] + 0.3 * obs[3] > 0, jnp.int32(1), jnp.int32(0))


# Per env: policies, and per episode (policy index, mode). Modes: "open" or "resync" (module doc).
CASES = {
    "CartPole-v1": dict(
        policies=[_discrete(2), _const(0), _const(1), _cartpole_controller],
        episodes=[(0, "open")] * 6 + [(1, "open"), (2, "open")] + [(3, "resync")] * 4,
        endings={"terminated", "truncated"},
    ),
    "Acrobot-v1": dict(
        # random; no torque (hangs: truncation); torque along dtheta2 and against dtheta1 (pump up: termination)
        policies=[_discrete(3), _const(1), _sign(5, 2, 0), _sign(4, 0, 2)],
        episodes=[(0, "resync")] * 5 + [(1, "resync")] * 2 + [(2, "resync")] * 3 + [(3, "resync")] * 2,
        endings={"terminated", "truncated"},
    ),
    "MountainCar-v0": dict(
        # random, full throttle right, no throttle (truncation); push along the velocity (termination)
        policies=[_discrete(3), _const(2), _const(1), _sign(1, 2, 0)],
        episodes=[(0, "open")] * 5 + [(1, "open"), (2, "open")] + [(3, "open")] * 5,
        endings={"terminated", "truncated"},
    ),
    "MountainCarContinuous-v0": dict(
        # random in the space; random *outside* it (clipped force, unclipped cost); push along the
        # velocity (termination); push along the velocity with 1.5 (out of space, termination)
        policies=[_box(-1.0, 1.0), _box(-3.0, 3.0), _box_sign(1, 1.0), _box_sign(1, 1.5)],
        episodes=[(0, "open")] * 4 + [(1, "open")] * 2 + [(2, "open")] * 4 + [(3, "open")] * 2,
        endings={"terminated", "truncated"},
    ),
    "Pendulum-v1": dict(
        # random in the space; random outside it (clipped to +-2); bang-bang along thdot; zero torque
        policies=[_box(-2.0, 2.0), _box(-5.0, 5.0), _box_sign(2, 2.0), _box_sign(2, 0.0)],
        episodes=[(0, "resync")] * 5 + [(1, "resync")] * 2 + [(2, "resync")] * 3 + [(3, "resync")] * 2,
        endings={"truncated"},  # Pendulum never terminates
    ),
}
CASES["CartPole-v0"] = CASES["CartPole-v1"]  # the same env under gymnasium's first, 200-step limit
FLOAT64_OPEN_LOOP = [("Acrobot-v1", 300), ("Pendulum-v1", None)]  # (id, steps compared per episode)


# --- gymnasium state <-> port state ----------------------------------------------------------------
def _fields(env_id):
    return {
        "CartPole-v1": ("x", "x_dot", "theta", "theta_dot"),
        "CartPole-v0": ("x", "x_dot", "theta", "theta_dot"),
        "Acrobot-v1": ("theta1", "theta2", "dtheta1", "dtheta2"),
        "MountainCar-v0": ("position", "velocity"),
        "MountainCarContinuous-v0": ("position", "velocity"),
        "Pendulum-v1": ("theta", "theta_dot"),
    }[env_id]


def _set_gym_state(env_id, genv, state, t=None):
    """Set gymnasium's ``unwrapped.state`` to the port's state (at time index ``t`` of a trajectory)."""
    values = [np.asarray(getattr(state, f) if t is None else getattr(state, f)[t], np.float64) for f in _fields(env_id)]
    u = genv.unwrapped
    u.state = np.array(values, np.float64)
    if env_id.startswith("CartPole"):
        u.steps_beyond_terminated = None


def _gym_obs(env_id, genv):
    u = genv.unwrapped
    if env_id == "Acrobot-v1":
        return u._get_ob()
    if env_id == "Pendulum-v1":
        return u._get_obs()
    return np.array(u.state, np.float32)


def _gym_action(env_id, a):
    return np.asarray(a, np.float32) if env_id in ("MountainCarContinuous-v0", "Pendulum-v1") else int(a)


# --- the port side: all episodes of one env in one jitted vmap(scan) --------------------------------
def _port_rollouts(env_id, x64=False, **env_kwargs):
    env, params = envs.make(env_id, **env_kwargs)
    case = CASES[env_id]
    policies = case["policies"]
    steps = int(params.max_steps_in_episode)

    def episode(key, pid):
        k_reset, k_run = jax.random.split(key)
        obs, state = env.reset(k_reset, params)
        if x64:
            state = jax.tree.map(lambda v: v.astype(jnp.float64) if v.dtype == jnp.float32 else v, state)

        def body(carry, x):
            obs, state = carry
            k_step, u = x
            action = jax.lax.switch(pid, policies, u, obs)
            obs_next, state_next, reward, terminated, truncated, info = env.step(k_step, state, action, params)
            out = dict(state=state, action=action, obs=info["final_obs"], reward=reward, terminated=terminated, truncated=truncated)
            return (obs_next, state_next), out

        k_steps, k_u = jax.random.split(k_run)
        xs = (jax.random.split(k_steps, steps), jax.random.uniform(k_u, (steps,), jnp.float32))
        _, traj = jax.lax.scan(body, (obs, state), xs)
        return obs, state, traj

    n = len(case["episodes"])
    keys = jax.random.split(jax.random.key(zlib.crc32(env_id.encode())), n)
    pids = jnp.array([p for p, _ in case["episodes"]], jnp.int32)
    return jax.device_get(jax.jit(jax.vmap(episode))(keys, pids))


def _compare(env_id, rollouts, modes, horizon=None, **env_kwargs):
    """Replay the port's actions into gymnasium; compare every step (up to ``horizon`` steps if given).
    ``env_kwargs``: the options both were made with."""
    obs0, state0, traj = rollouts
    genv = gymnasium.make(env_id, disable_env_checker=True, **env_kwargs)
    endings = []
    for i, mode in enumerate(modes):
        genv.reset(seed=i)
        _set_gym_state(env_id, genv, jax.tree.map(lambda v: v[i], state0))
        np.testing.assert_allclose(obs0[i], _gym_obs(env_id, genv), atol=ATOL, err_msg=f"{env_id} ep {i}: reset obs")
        steps = traj["reward"].shape[1]
        for t in range(steps):
            if mode == "resync":
                _set_gym_state(env_id, genv, jax.tree.map(lambda v: v[i], traj["state"]), t)
            g_obs, g_rew, g_term, g_trunc, _ = genv.step(_gym_action(env_id, traj["action"][i, t]))
            where = f"{env_id} episode {i} ({mode}) step {t + 1}"
            np.testing.assert_allclose(traj["obs"][i, t], g_obs, atol=ATOL, rtol=0, err_msg=where)
            assert abs(float(traj["reward"][i, t]) - float(g_rew)) <= ATOL, (where, traj["reward"][i, t], g_rew)
            assert bool(traj["terminated"][i, t]) == g_term, where
            assert bool(traj["truncated"][i, t]) == g_trunc, where
            if g_term or g_trunc:
                endings.append("terminated" if g_term else "truncated")
                break
            if horizon is not None and t + 1 >= horizon:
                break
        else:
            pytest.fail(f"{env_id} episode {i}: gymnasium did not end within {steps} steps")
    genv.close()
    return endings


@pytest.mark.parametrize("env_id", IDS)
def test_parity_with_gymnasium(env_id):
    """12 full-length episodes per env (random, fixed and feedback policies) match gymnasium step for step."""
    case = CASES[env_id]
    endings = _compare(env_id, _port_rollouts(env_id), [m for _, m in case["episodes"]])
    assert len(endings) >= 10
    assert set(endings) == case["endings"], endings


def test_parity_with_gymnasiums_sutton_barto_reward():
    """CartPole's one constructor option, ``sutton_barto_reward=True``: the same 12 episodes match gymnasium's,
    rewards included, with 0 a step and -1 on (and only on) each step the pole falls or the cart leaves."""
    case = CASES["CartPole-v1"]
    rollouts = _port_rollouts("CartPole-v1", sutton_barto_reward=True)
    endings = _compare("CartPole-v1", rollouts, [m for _, m in case["episodes"]], sutton_barto_reward=True)
    assert set(endings) == case["endings"], endings
    reward, terminated = rollouts[2]["reward"], rollouts[2]["terminated"]
    assert reward.dtype == np.float32 and set(np.unique(reward)) == {0.0, -1.0}
    np.testing.assert_array_equal(reward == -1.0, terminated)


def test_parity_of_cartpole_v0_cut_at_its_200_steps():
    """CartPole-v0, gymnasium's first (out-of-date) CartPole, is CartPole-v1 under a 200-step limit: the same 12
    episodes match gymnasium's CartPole-v0 step for step, the controller's truncated at step 200."""
    rollouts = _port_rollouts("CartPole-v0")
    assert rollouts[2]["reward"].shape[1] == 200
    endings = _compare("CartPole-v0", rollouts, [m for _, m in CASES["CartPole-v0"]["episodes"]])
    assert set(endings) == {"terminated", "truncated"}
    assert bool(rollouts[2]["truncated"][-1, 199]) and not rollouts[2]["terminated"][-1].any()  # the balanced one


@pytest.mark.parametrize(("env_id", "horizon"), FLOAT64_OPEN_LOOP)
def test_parity_open_loop_in_float64(env_id, horizon):
    """The chaotic ones, with the port in float64: trajectories agree without re-syncing (module doc)."""
    with jax.enable_x64(True):
        rollouts = _port_rollouts(env_id, x64=True)
    assert getattr(rollouts[2]["state"], _fields(env_id)[0]).dtype == np.float64
    endings = _compare(env_id, rollouts, ["open"] * len(CASES[env_id]["episodes"]), horizon)
    if horizon is None:
        assert set(endings) == CASES[env_id]["endings"]


# --- spaces, limits, reset distributions ------------------------------------------------------------
def _assert_same_space(ours, theirs):
    if isinstance(theirs, gymnasium.spaces.Discrete):
        assert isinstance(ours, spaces.Discrete)
        assert (ours.n, ours.start) == (int(theirs.n), int(theirs.start))
    else:
        assert isinstance(ours, spaces.Box)
        assert ours.shape == theirs.shape
        assert np.dtype(ours.dtype) == theirs.dtype == np.float32
        np.testing.assert_array_equal(ours.low, theirs.low)
        np.testing.assert_array_equal(ours.high, theirs.high)


@pytest.mark.parametrize("env_id", IDS)
def test_spaces_and_time_limit_match_gymnasium(env_id):
    env, params = envs.make(env_id)
    genv = gymnasium.make(env_id)
    assert env.backend == "jax" and env.id == env_id
    _assert_same_space(env.observation_space(params), genv.observation_space)
    _assert_same_space(env.action_space(params), genv.action_space)
    assert params.max_steps_in_episode == gymnasium.spec(env_id).max_episode_steps


RESET_BOUNDS = {  # gymnasium's documented reset distribution: uniform in [low, high) per state variable
    "CartPole-v1": dict(x=(-0.05, 0.05), x_dot=(-0.05, 0.05), theta=(-0.05, 0.05), theta_dot=(-0.05, 0.05)),
    "Acrobot-v1": dict(theta1=(-0.1, 0.1), theta2=(-0.1, 0.1), dtheta1=(-0.1, 0.1), dtheta2=(-0.1, 0.1)),
    "MountainCar-v0": dict(position=(-0.6, -0.4), velocity=(0.0, 0.0)),
    "MountainCarContinuous-v0": dict(position=(-0.6, -0.4), velocity=(0.0, 0.0)),
    "Pendulum-v1": dict(theta=(-math.pi, math.pi), theta_dot=(-1.0, 1.0)),
}


@pytest.mark.parametrize("env_id", IDS)
def test_reset_distribution_within_gymnasium_bounds(env_id):
    """20k initial states: inside gymnasium's bounds, covering them, observations inside the space."""
    env, params = envs.make(env_id)
    obs, state = jax.jit(jax.vmap(env.reset, in_axes=(0, None)))(jax.random.split(jax.random.key(0), 20_000), params)
    assert obs.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(state.time), 0)
    for name, (low, high) in RESET_BOUNDS[env_id].items():
        assert getattr(state, name).dtype == jnp.float32
        v = np.asarray(getattr(state, name), np.float64)
        if low == high:
            np.testing.assert_array_equal(v, low)
            continue
        assert v.min() >= np.float32(low) and v.max() <= np.float32(high), (name, v.min(), v.max())
        margin = 0.01 * (high - low)
        assert v.min() < low + margin and v.max() > high - margin, (name, v.min(), v.max())  # not narrower
    space = env.observation_space(params)
    o = np.asarray(obs)
    assert o.shape == (20_000, *space.shape)
    assert np.all((o >= space.low) & (o <= space.high))


# --- documented handling of out-of-space actions, jit/vmap over params ----------------------------
def _one_step_each(env_id, actions):
    """``step_env`` from one reset state, once per action (one jitted vmap)."""
    env, params = envs.make(env_id)
    _, state = env.reset(jax.random.key(3), params)
    step = jax.jit(jax.vmap(env.step_env, in_axes=(None, None, 0, None)))
    obs, _, reward, terminated, _ = step(jax.random.key(4), state, jnp.asarray(actions), params)
    return np.asarray(obs), np.asarray(reward)


@pytest.mark.parametrize(
    ("env_id", "pairs"),
    [
        ("Acrobot-v1", [(7, 2), (-3, 0)]),  # clipped into {0, 1, 2}
        ("MountainCar-v0", [(5, 2), (-1, 0)]),  # clipped into {0, 1, 2}
        ("CartPole-v1", [(5, 0), (-1, 0)]),  # anything but 1 pushes left
    ],
)
def test_discrete_out_of_space_actions_as_documented(env_id, pairs):
    obs, reward = _one_step_each(env_id, [a for pair in pairs for a in pair])
    for k in range(len(pairs)):
        np.testing.assert_array_equal(obs[2 * k], obs[2 * k + 1])
        assert reward[2 * k] == reward[2 * k + 1]


def test_continuous_out_of_space_actions_follow_gymnasium():
    # MountainCarContinuous: the force is clipped, the action cost is not
    obs, reward = _one_step_each("MountainCarContinuous-v0", [[3.0], [1.0]])
    np.testing.assert_array_equal(obs[0], obs[1])
    np.testing.assert_allclose(reward, [-0.9, -0.1], rtol=1e-6)
    # Pendulum: the torque is clipped before both the dynamics and the cost
    obs, reward = _one_step_each("Pendulum-v1", [[-7.0], [-2.0]])
    np.testing.assert_array_equal(obs[0], obs[1])
    assert reward[0] == reward[1]


def test_params_vmap_over_physics():
    env, params = envs.make("Pendulum-v1")
    gs = jnp.array([5.0, 10.0, 15.0])
    batch = jax.vmap(lambda g: params.replace(g=g))(gs)
    _, state = env.reset(jax.random.key(0), params)
    step = jax.jit(jax.vmap(env.step, in_axes=(None, None, None, 0)))
    obs, *_ = step(jax.random.key(1), state, jnp.array([0.0]), batch)
    assert obs.shape == (3, 3) and len({float(x) for x in obs[:, 2]}) == 3  # thdot depends on g
    _, p981 = envs.make("Pendulum-v1", g=9.81)
    assert p981.g == 9.81


def test_box_samples_lie_in_the_space_when_bounded_on_one_side():
    """Gymnasium's scheme: low + Exp(1) / high - Exp(1) on a half-bounded dimension (a normal there fell
    outside the space 72% of the time), a normal only where both bounds are infinite."""
    box = spaces.Box(np.array([0.0, -np.inf, -1.0, -np.inf], np.float32), np.array([np.inf, 0.0, 1.0, np.inf], np.float32), (4,))
    x = np.asarray(jax.vmap(box.sample)(jax.random.split(jax.random.key(0), 4000)))
    assert all(box.contains(v) for v in x)
    assert np.all(x[:, 0] >= 0) and np.all(x[:, 1] <= 0) and np.all(np.abs(x[:, 2]) <= 1)
    assert (x[:, 3] < 0).mean() > 0.4 and (x[:, 3] > 0).mean() > 0.4  # the unbounded one spans both signs
    ints = spaces.Box(np.zeros(1, np.float32), np.full(1, 2, np.float32), (1,), dtype=np.uint8)  # high included, as gymnasium
    counts = np.bincount(np.asarray(jax.vmap(ints.sample)(jax.random.split(jax.random.key(1), 3000))).ravel(), minlength=4)
    assert counts[3] == 0 and all(900 < c < 1100 for c in counts[:3]), counts


@pytest.mark.parametrize("env_id", ["MountainCar-v0", "Acrobot-v1"])
def test_a_float_action_is_its_whole_action_not_a_fraction_of_the_push(env_id):
    """The docstrings say actions are clipped into {0, 1, 2}: 1.5 was half way between pushes."""
    env, params = envs.make(env_id)
    _, state = env.reset(jax.random.key(0), params)
    def step(a):
        return np.asarray(env.step_env(jax.random.key(1), state, a, params)[0])

    np.testing.assert_array_equal(step(jnp.float32(1.5)), step(jnp.int32(1)))
    np.testing.assert_array_equal(step(jnp.float32(7.0)), step(jnp.int32(2)))


def _one_step_from(env_id, values, actions):
    """``step_env`` once from each state ``values[i]`` (the env's ``_fields``) with ``actions[i]``, port and
    gymnasium side by side: ``(port obs, gymnasium obs, port reward, gymnasium reward)``."""
    env, params = envs.make(env_id)
    _, state = env.reset(jax.random.key(0), params)
    genv = gymnasium.make(env_id)
    genv.reset(seed=0)
    ours, theirs, our_r, their_r = [], [], [], []
    for v, a in zip(values, actions):
        s = state.replace(**{f: jnp.float32(x) for f, x in zip(_fields(env_id), v)})
        obs, _, r, _, _ = env.step_env(jax.random.key(1), s, jnp.asarray(a), params)
        _set_gym_state(env_id, genv, s)
        gobs, gr, *_ = genv.unwrapped.step(_gym_action(env_id, a))
        ours.append(np.asarray(obs)), theirs.append(np.asarray(gobs, np.float32)), our_r.append(float(r)), their_r.append(gr)
    return np.array(ours), np.array(theirs), np.array(our_r), np.array(their_r)


@pytest.mark.parametrize(("env_id", "values", "actions", "clipped"), [
    # Acrobot: the velocities are clipped to 4 pi and 9 pi (the parity episodes reach 5.95 and 13.4 at most)
    ("Acrobot-v1", [(0.0, 0.0, 20.0, 0.0), (0.0, 0.0, 0.0, 40.0), (0.0, 0.0, 0.0, -40.0), (0.0, 0.0, -20.0, 0.0)], [1, 2, 0, 1],
     [(0, 4, 4 * math.pi), (1, 4, -4 * math.pi), (1, 5, 9 * math.pi), (2, 4, 4 * math.pi), (2, 5, -9 * math.pi),
      (3, 4, -4 * math.pi)]),
    # MountainCar: the speed is clipped to 0.07 (the parity episodes never reach it)
    ("MountainCar-v0", [(-0.5, 0.0695), (-0.5, -0.0695), (0.2, 0.09)], [2, 0, 1], [(0, 1, 0.07), (1, 1, -0.07), (2, 1, 0.07)]),
    ("MountainCarContinuous-v0", [(-0.5, 0.0695), (-0.5, -0.0695), (0.2, 0.09)], [[1.0], [-1.0], [0.0]],
     [(0, 1, 0.07), (1, 1, -0.07), (2, 1, 0.07)]),
])
def test_velocity_limits_match_gymnasium(env_id, values, actions, clipped):
    """One step from states at and beyond the velocity limits, which the parity episodes never reach:
    each clipped component (row, observation index) equals gymnasium's limit, and the whole step agrees
    with gymnasium's."""
    ours, theirs, our_r, their_r = _one_step_from(env_id, values, actions)
    for row, component, limit in clipped:
        np.testing.assert_allclose(ours[row, component], limit, rtol=1e-6)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(our_r, their_r, atol=1e-6)


def test_pendulum_angle_wrap_is_exact_beside_every_odd_multiple_of_pi():
    """Pendulum's cost squares the wrapped angle. Its float32 turn count was one off within a few ulps of
    (2j + 1) pi, landing just below -pi where gymnasium has just below +pi: the cost moved by up to 8e-5.
    Every float32 within 1000 ulps of each boundary up to |theta| < 85 (about the largest an episode
    reaches), against gymnasium's formula in float64 on the same float32 angle."""
    from envs.classic_control.pendulum import angle_normalize

    x = np.concatenate([(np.float32((2 * j + 1) * math.pi).view(np.int32) + np.arange(-1000, 1001, dtype=np.int32)).view(np.float32)
                        for j in range(-14, 14)])
    x = x[np.abs(x) < 85]
    ours = np.asarray(angle_normalize(jnp.asarray(x)), np.float64)
    gym = ((x.astype(np.float64) + np.pi) % (2 * np.pi)) - np.pi
    assert np.all(ours >= -np.float32(math.pi)) and np.all(ours < np.float32(math.pi))
    np.testing.assert_allclose(ours**2, gym**2, atol=2e-6)  # one float32 ulp of pi, squared: 1.5e-6


def test_a_traced_param_that_bounds_a_space_is_refused_by_name():
    """Pendulum's max_torque bounds its actions: vmapped over, it was a TracerArrayConversionError from
    inside numpy; traced params the spaces do not read (g) still vmap."""
    env, params = envs.make("Pendulum-v1")
    stacked = jax.tree.map(lambda a: jnp.stack([jnp.asarray(a)] * 2), params)
    with pytest.raises(ValueError, match="bounds must be concrete.*max_torque"):
        jax.vmap(env.action_space)(stacked.replace(max_torque=jnp.array([2.0, 1.0])))
    obs, _ = jax.vmap(env.reset, in_axes=(None, 0))(jax.random.key(0), stacked.replace(g=jnp.array([9.8, 5.0])))
    assert obs.shape == (2, 3)


# --- the vector env and its episode statistics (a review's mutations of each passed every test) --------
def test_each_vectorised_copy_starts_from_its_own_state():
    obs, _ = envs.vectorize(*envs.make("CartPole-v1"), 8).reset(jax.random.key(0))
    assert len(np.unique(np.asarray(obs), axis=0)) == 8


def test_episode_statistics_start_each_episode_from_zero():
    """CartPole pushed left always: episodes of about 10 steps, so 60 steps end several per copy; at each
    end the reported length and return (1 a step) count only that episode's steps."""
    env, params = envs.make("CartPole-v1")
    venv = envs.EpisodeStatistics(envs.vectorize(env, params, 4))
    _, state = venv.reset(jax.random.key(0))
    step = jax.jit(lambda k, s: venv.step(k, s, jnp.zeros((4,), jnp.int32)))
    started, ended = np.zeros(4, int), 0
    for t, k in enumerate(jax.random.split(jax.random.key(1), 60), start=1):
        _, state, _, _, _, info = step(k, state)
        done = np.asarray(info["episode_done"])
        np.testing.assert_array_equal(np.asarray(info["episode_length"])[done], (t - started)[done])
        np.testing.assert_array_equal(np.asarray(info["episode_return"])[done], (t - started)[done])
        ended, started = ended + int(done.sum()), np.where(done, t, started)
    assert ended >= 12  # the later episodes are what test the reset
