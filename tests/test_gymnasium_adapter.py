"""The gymnasium adapter (``envs/gymnasium_adapter.py``) against the JAX vector env it stands in for.

CartPole-v1 forced through the adapter must give the same transitions as the JAX port
(``JaxVecEnv``) from the same state, across auto-resets: same ``final_obs``, reward, ``terminated``
and ``truncated`` (time limit 25 here, so that both endings occur), ``obs == final_obs`` where no
episode ended, and a fresh reset observation where one did. After each reset the adapter's copy is
set to the port's new state (the two reset generators differ), then the comparison goes on.
"""

from __future__ import annotations

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs import spaces
from envs.gymnasium_adapter import NO_TIME_LIMIT, GymnasiumEnv, GymnasiumVecEnv

CARTPOLE_FIELDS = ("x", "x_dot", "theta", "theta_dot")


def _sync(gvec, jstate, i):
    u = gvec.envs[i].unwrapped
    u.state = np.array([np.asarray(getattr(jstate, f))[i] for f in CARTPOLE_FIELDS], np.float64)
    u.steps_beyond_terminated = None


def test_adapter_matches_jax_port_across_autoresets():
    num_envs, limit, steps = 4, 25, 150
    genv, gparams = envs.make("CartPole-v1", backend="gymnasium", max_steps_in_episode=limit)
    jenv, jparams = envs.make("CartPole-v1", max_steps_in_episode=limit)
    assert isinstance(genv, GymnasiumEnv) and genv.backend == "gymnasium" and jenv.backend == "jax"
    assert gparams.max_steps_in_episode == jparams.max_steps_in_episode == limit
    gvec, jvec = envs.vectorize(genv, gparams, num_envs), envs.vectorize(jenv, jparams, num_envs)
    assert isinstance(gvec, GymnasiumVecEnv) and gvec.is_jax is False and jvec.is_jax is True
    assert gvec.num_envs == num_envs
    assert str(gvec.observation_space) == str(jvec.observation_space) and gvec.action_space == jvec.action_space

    gobs, gstate = gvec.reset(jax.random.key(0))
    jobs, jstate = jvec.reset(jax.random.key(1))
    assert gobs.shape == jobs.shape == (num_envs, 4) and gobs.dtype == jnp.float32
    for i in range(num_envs):
        _sync(gvec, jstate, i)

    jstep = jax.jit(jvec.step)
    actions = np.random.default_rng(0).integers(0, 2, (steps, num_envs)).astype(np.int32)
    keys = jax.random.split(jax.random.key(2), steps)
    endings = {"terminated": 0, "truncated": 0}
    for t in range(steps):
        jobs, jstate, jrew, jterm, jtrunc, jinfo = jstep(keys[t], jstate, jnp.asarray(actions[t]))
        gobs, gstate, grew, gterm, gtrunc, ginfo = gvec.step(keys[t], gstate, jnp.asarray(actions[t]))
        for x, dtype, shape in [(gobs, jnp.float32, (num_envs, 4)), (ginfo["final_obs"], jnp.float32, (num_envs, 4)),
                                (grew, jnp.float32, (num_envs,)), (gterm, jnp.bool_, (num_envs,)), (gtrunc, jnp.bool_, (num_envs,))]:
            assert isinstance(x, jax.Array) and x.dtype == dtype and x.shape == shape
        where = f"step {t}"
        np.testing.assert_allclose(ginfo["final_obs"], jinfo["final_obs"], atol=1e-5, err_msg=where)
        np.testing.assert_array_equal(grew, jrew, err_msg=where)
        np.testing.assert_array_equal(gterm, jterm, err_msg=where)
        np.testing.assert_array_equal(gtrunc, jtrunc, err_msg=where)
        done = np.asarray(jterm | jtrunc)
        np.testing.assert_array_equal(np.asarray(gobs)[~done], np.asarray(ginfo["final_obs"])[~done])
        np.testing.assert_allclose(np.asarray(gobs)[~done], np.asarray(jobs)[~done], atol=1e-5, err_msg=where)
        for i in np.flatnonzero(done):
            assert np.all(np.abs(np.asarray(gobs[i])) <= 0.05), gobs[i]  # a fresh CartPole reset
            assert not np.allclose(gobs[i], ginfo["final_obs"][i])
            endings["terminated" if jterm[i] else "truncated"] += 1
            _sync(gvec, jstate, i)
    assert endings["terminated"] > 0 and endings["truncated"] > 0, endings


def test_episode_statistics_on_adapter():
    genv, params = envs.make("CartPole-v1", backend="gymnasium", max_steps_in_episode=10)
    venv = envs.EpisodeStatistics(genv.make_vec(3, params))
    obs, state = venv.reset(jax.random.key(0))
    ended = 0
    for t in range(10):
        obs, state, reward, terminated, truncated, info = venv.step(None, state, jnp.zeros((3,), jnp.int32))
        done = np.asarray(info["episode_done"])
        np.testing.assert_array_equal(done, np.asarray(terminated | truncated))
        # CartPole pays 1 per step: the return of a finished episode is its length
        np.testing.assert_array_equal(np.asarray(info["episode_return"])[done], np.asarray(info["episode_length"])[done])
        assert np.all(np.asarray(info["episode_length"])[done] <= 10)
        ended += done.sum()
    assert ended >= 3  # constant pushes topple the pole within 10 steps, or the time limit cuts the episode


def test_defaults_spaces_and_seeding():
    env, params = envs.make("Pendulum-v1", backend="gymnasium")
    port, port_params = envs.make("Pendulum-v1")
    assert params.max_steps_in_episode == 200
    assert str(env.action_space()) == str(port.action_space(port_params))
    np.testing.assert_array_equal(env.action_space().low, port.action_space(port_params).low)
    np.testing.assert_array_equal(env.observation_space(params).high, port.observation_space(port_params).high)
    assert env.num_actions == 1
    venv = env.make_vec(2, params)
    a, _ = venv.reset(jax.random.key(7))
    b, _ = venv.reset(jax.random.key(7))
    c, _ = venv.reset(jax.random.key(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    venv.close()


def test_discrete_observations_and_no_time_limit():
    env, params = envs.make("CliffWalking-v1", backend="gymnasium")  # registered without a time limit
    assert params.max_steps_in_episode == NO_TIME_LIMIT
    assert env.observation_space() == spaces.Discrete(48)
    venv = env.make_vec(2, params)
    obs, state = venv.reset(jax.random.key(0))
    assert obs.shape == (2,) and obs.dtype == jnp.int32
    obs, *_ = venv.step(None, state, jnp.array([0, 1]))
    assert obs.dtype == jnp.int32


def test_no_time_limit_lifts_a_registered_one():
    """``max_steps_in_episode=NO_TIME_LIMIT`` means none, on the adapter as on the ports (it used to leave
    gymnasium's registered 200 steps of Pendulum in place while the params said none)."""
    env, params = envs.make("Pendulum-v1", backend="gymnasium", max_steps_in_episode=NO_TIME_LIMIT)
    venv = env.make_vec(1, params)
    obs, state = venv.reset(jax.random.key(0))
    for _ in range(205):  # Pendulum never terminates
        obs, state, _, terminated, truncated, _ = venv.step(None, state, jnp.zeros((1, 1)))
        assert not bool(terminated[0] | truncated[0])
    venv.close()


def test_out_of_space_actions_raise_before_stepping():
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    venv = env.make_vec(3, params)
    obs, state = venv.reset(jax.random.key(0))
    before = [np.array(e.unwrapped.state) for e in venv.envs]
    with pytest.raises(ValueError, match=r"action 2 \(env 2 of 3\) is outside the action space Discrete\(2\)"):
        venv.step(None, state, jnp.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"action -1 .*Discrete\(2\)"):
        venv.step(None, state, np.array([-1, 0, 0]))
    with pytest.raises(ValueError, match="must be integers"):
        venv.step(None, state, jnp.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"expected actions of shape \(3,\)"):
        venv.step(None, state, jnp.array([0, 1]))
    for e, s in zip(venv.envs, before):
        np.testing.assert_array_equal(e.unwrapped.state, s)  # nothing was stepped
    venv.step(None, state, jnp.array([0, 1, 1]))  # valid actions still work

    env, params = envs.make("Pendulum-v1", backend="gymnasium")
    venv = env.make_vec(2, params)
    obs, state = venv.reset(jax.random.key(0))
    with pytest.raises(ValueError, match=r"action \[2\.5\] \(env 1 of 2\) is outside the action space Box\(-2\.0, 2\.0"):
        venv.step(None, state, jnp.array([[0.5], [2.5]]))
    with pytest.raises(ValueError, match="outside the action space"):
        venv.step(None, state, jnp.array([[jnp.nan], [0.0]]))
    with pytest.raises(ValueError, match=r"expected actions of shape \(2, 1\)"):
        venv.step(None, state, jnp.array([0.5, 0.5]))
    venv.step(None, state, jnp.array([[2.0], [-2.0]]))


def test_unsupported_space_is_explained():
    with pytest.raises(TypeError, match="Discrete and Box"):
        GymnasiumEnv("Blackjack-v1")  # Tuple observation space
    with pytest.raises(ValueError, match="register a flattened id.* Or drop --backend gymnasium: Blackjack-v1 has a JAX "
                                         "port"):  # a ValueError too: rl-zoo prints it in one line
        GymnasiumEnv("Blackjack-v1")
    import gymnasium

    with pytest.raises(ValueError, match="act in a Discrete or Box action space; got MultiDiscrete.*ActionWrapper"):
        spaces.from_gymnasium(gymnasium.spaces.MultiDiscrete([2, 3]), "action")  # not FlattenObservation's advice
    # a Box action of rank 0 or 2: the Gaussian policy's flat vector failed in compilation (rank 2) or reached the
    # env with the wrong shape (rank 0), after the run directory was written
    for shape in ((), (2, 2)):
        with pytest.raises(ValueError, match=rf"vector of actions \(a Box of rank 1\); got .* of rank {len(shape)}"):
            spaces.from_gymnasium(gymnasium.spaces.Box(-1.0, 1.0, shape), "action")
    assert spaces.from_gymnasium(gymnasium.spaces.Box(-1.0, 1.0, (2, 2))).shape == (2, 2)  # as observations: check_observation's call
    # an integer Box action (gymnasium's tabular/CliffWalking-v0): the policy's floats were cast to it, 0.99 stepped
    # as 0 and -0.7, outside the bounds, as 0 without a word
    with pytest.raises(ValueError, match=r"act with float actions; got Box\(0, 3, \(1,\), int32\), a Box of int32"):
        spaces.from_gymnasium(gymnasium.spaces.Box(0, 3, (1,), np.int32), "action")
    assert spaces.from_gymnasium(gymnasium.spaces.Box(0, 255, (3,), np.uint8)).shape == (3,)  # observations: floats
    assert str(spaces.from_gymnasium(gymnasium.spaces.Box(-0.4, 0.4, (2,), np.float32))) == "Box(-0.4, 0.4, (2,), float32)"
    # a Discrete beyond int32 (start 2**31): an OverflowError mid-compile, after the run directory was made
    for what in ("action", "observation"):
        with pytest.raises(ValueError, match=rf"holds a Discrete {what} as an int32; Discrete\(3, start=2147483648\) has "
                                             r"values from 2147483648 to 2147483650, beyond int32's"):
            spaces.from_gymnasium(gymnasium.spaces.Discrete(3, start=2**31), what)
    assert spaces.from_gymnasium(gymnasium.spaces.Discrete(2, start=2**31 - 2)).start == 2**31 - 2  # the last that fit
    assert spaces.from_gymnasium(gymnasium.spaces.Box(-1.0, 1.0, (2,), np.float64), "action").shape == (2,)


def test_an_image_observation_is_refused_before_anything_compiles():
    image = spaces.Box(np.zeros((96, 96, 3)), np.full((96, 96, 3), 255.0), (96, 96, 3), jnp.float32)
    with pytest.raises(ValueError, match=r"CarRacing-v3's observations are arrays of shape \(96, 96, 3\) \(rank 3\): "):
        spaces.check_observation(image, "CarRacing-v3")
    vector = spaces.Box(np.zeros(4), np.ones(4), (4,), jnp.float32)
    assert spaces.check_observation(vector, "x") is vector
    assert spaces.check_observation(spaces.Discrete(16, 0, jnp.int32), "x").n == 16


def test_missing_box2d_is_explained(monkeypatch):
    """Installed here or not, the message is checked: gymnasium.make made to fail as it does without Box2D."""
    try:
        import Box2D  # noqa: F401
    except ImportError:
        pass
    else:
        env, params = envs.make("LunarLander-v3")
        assert env.backend == "gymnasium" and params.max_steps_in_episode == gymnasium.spec("LunarLander-v3").max_episode_steps

    def not_installed(*args, **kwargs):
        raise gymnasium.error.DependencyNotInstalled("Box2D is not installed, you can install it by run `pip install swig`")

    monkeypatch.setattr(gymnasium, "make", not_installed)
    with pytest.raises(ImportError, match=r"LunarLander-v3 needs Box2D.*\.\[box2d\]"):
        envs.make("LunarLander-v3")


def test_a_module_registering_a_ported_id_with_gymnasium_is_told_to_pick_an_id_of_its_own(tmp_path, monkeypatch):
    """``my_lake:FrozenLake-v1``, whose module registers its own FrozenLake-v1 with gymnasium: the JAX port was made,
    Discrete(16) with a limit of 100, where gymnasium.make gives the user's Discrete(3) with a limit of 7."""
    import gymnasium

    (tmp_path / "rl_zoo_test_my_lake.py").write_text(
        "import gymnasium as gym\n"
        "from gymnasium.envs.toy_text.frozen_lake import FrozenLakeEnv\n"
        "class MyLake(FrozenLakeEnv):\n"
        "    def __init__(self, **kw):\n"
        "        super().__init__(desc=['SFG'], is_slippery=False)\n"
        "gym.register('FrozenLake-v1', entry_point=MyLake, max_episode_steps=7)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    original = gymnasium.registry["FrozenLake-v1"]
    try:
        with pytest.warns(UserWarning, match="Overriding environment"):
            with pytest.raises(ValueError, match="registers 'FrozenLake-v1' with gymnasium, an id rl_zoo runs on its own "
                                                 "JAX port.*--env rl_zoo_test_my_lake:MyFrozenLake-v1"):
                envs.make("rl_zoo_test_my_lake:FrozenLake-v1")
    finally:
        gymnasium.registry["FrozenLake-v1"] = original
    assert envs.make("FrozenLake-v1")[0].observation_space(envs.make("FrozenLake-v1")[1]).n == 16


def test_mujoco_without_the_opengl_backend_mujoco_gl_names_is_one_line(monkeypatch):
    """MUJOCO_GL=osmesa without OSMesa's library: mujoco's import fails inside gymnasium.make with PyOpenGL's
    AttributeError, a 35-frame traceback (train and enjoy), or, with --env-kwargs, blamed on the options. Now a
    MissingDependency (an ImportError: not the options') naming MUJOCO_GL; without MUJOCO_GL the error is the env's."""
    import gymnasium

    from envs.gymnasium_adapter import MissingDependency
    from rl_zoo.driver.spec import make_env

    def no_osmesa(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'glGetError'")

    monkeypatch.setattr(gymnasium, "make", no_osmesa)
    monkeypatch.setenv("MUJOCO_GL", "osmesa")
    with pytest.raises(MissingDependency, match="importing MuJoCo with MUJOCO_GL=osmesa raised AttributeError"):
        envs.make("InvertedPendulum-v5")
    with pytest.raises(MissingDependency, match="MUJOCO_GL=osmesa"):
        make_env("InvertedPendulum-v5", None, {"frame_skip": 4})
    monkeypatch.delenv("MUJOCO_GL")
    with pytest.raises(AttributeError, match="glGetError"):
        envs.make("InvertedPendulum-v5")


def test_an_import_error_of_an_env_of_ones_own_keeps_its_traceback(tmp_path, monkeypatch):
    """gymnasium's own ids that raise ImportError become one line (tests/test_cli.py); an env of one's own
    raising it in its constructor is the user's bug: the ImportError itself, not a MissingDependency."""
    from envs.gymnasium_adapter import MissingDependency

    (tmp_path / "rl_zoo_test_importing.py").write_text(
        "import gymnasium\n"
        "from gymnasium.envs.classic_control.cartpole import CartPoleEnv\n"
        "class Needs(CartPoleEnv):\n"
        "    def __init__(self, **kw):\n"
        "        import rl_zoo_no_such_module_here  # noqa: F401\n"
        "gymnasium.register('NeedsMissing-v0', entry_point=Needs)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ImportError, match="rl_zoo_no_such_module_here") as e:
        envs.make("rl_zoo_test_importing:NeedsMissing-v0")
    assert not isinstance(e.value, MissingDependency)


@pytest.mark.filterwarnings("ignore::UserWarning:gymnasium.utils.passive_env_checker")  # gymnasium's own checker warns about the broken envs made here
def test_a_gymnasium_env_of_your_own_is_checked_when_made(tmp_path, monkeypatch):
    """Its observation shape and reward are checked on one reset and step (gymnasium's checker only
    warns; the mismatch failed inside the compiled program as a host-callback error)."""
    import envs

    (tmp_path / "rl_zoo_test_badgym.py").write_text(
        "import gymnasium, numpy as np\n"
        "from gymnasium.envs.classic_control.cartpole import CartPoleEnv\n"
        "class BadObs(CartPoleEnv):\n"
        "    def step(self, a):\n"
        "        o, r, t, tr, i = super().step(a)\n"
        "        return o[:3], r, t, tr, i\n"
        "class BadReward(CartPoleEnv):\n"
        "    def step(self, a):\n"
        "        o, r, t, tr, i = super().step(a)\n"
        "        return o, np.array([r]), t, tr, i\n"
        "gymnasium.register('RlZooBadObs-v0', entry_point='rl_zoo_test_badgym:BadObs', max_episode_steps=50)\n"
        "gymnasium.register('RlZooBadReward-v0', entry_point='rl_zoo_test_badgym:BadReward', max_episode_steps=50)\n"
        "gymnasium.register('RlZooGoodPole-v0', entry_point='rl_zoo_test_badgym:CartPoleEnv', max_episode_steps=50)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=r"RlZooBadObs-v0: step\(\) gives an observation of shape \(3,\)"):
        envs.make("rl_zoo_test_badgym:RlZooBadObs-v0")
    with pytest.raises(ValueError, match=r"RlZooBadReward-v0: step\(\) gives a reward of shape \(1,\)"):
        envs.make("rl_zoo_test_badgym:RlZooBadReward-v0")
    assert envs.make("rl_zoo_test_badgym:RlZooGoodPole-v0")[0].backend == "gymnasium"  # checked, and fine


def test_a_missing_module_is_named_as_gymnasium_names_it():
    """With pygame missing, LunarLander said it "needs Box2D, which is not installed (pygame is not
    installed ...)" though Box2D was there: the module gymnasium names is the one said missing."""
    import gymnasium

    from envs.gymnasium_adapter import _missing_dependency

    said = lambda env_id, text: str(_missing_dependency(env_id, gymnasium.error.DependencyNotInstalled(text)))  # noqa: E731
    assert said("LunarLander-v3", 'pygame is not installed, run `pip install "gymnasium[box2d]"`').startswith(
        "LunarLander-v3 needs pygame, which is not installed (pygame is not installed")
    assert said("LunarLander-v3", "Box2D is not installed, you can install it by run `pip install swig`").startswith(
        "LunarLander-v3 needs Box2D, which is not installed")
    assert said("HalfCheetah-v5", "something else").startswith("HalfCheetah-v5 needs MuJoCo, which is not installed (something else)")
    assert 'pip install -e ".[box2d]"' in said("LunarLander-v3", "pygame is not installed")


def test_the_adapters_single_env_reset_and_step_say_to_use_make_vec():
    """`env.reset(key, params)` on an adapter env was a bare AttributeError; the README says it is batched only."""
    env, params = envs.make("Acrobot-v1", backend="gymnasium")
    for call in (lambda: env.reset(jax.random.key(0), params), lambda: env.step(jax.random.key(0), None, 0, params)):
        with pytest.raises(TypeError, match=r"Acrobot-v1 runs through the gymnasium adapter, which has no single-env (reset|step)"
                                            r": .*venv = env.make_vec\(n, params\)"):
            call()
