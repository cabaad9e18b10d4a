"""``envs.make``: the JAX port where one exists, the gymnasium adapter otherwise, clear errors."""

from __future__ import annotations

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs.classic_control.cartpole import CartPole

CLASSIC_CONTROL = ["CartPole-v1", "CartPole-v0", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]


@pytest.mark.parametrize("env_id", CLASSIC_CONTROL)
def test_make_picks_the_jax_port(env_id):
    env, params = envs.make(env_id)
    assert env.backend == "jax" and env.id == env_id and envs.backend_of(env_id) == "jax"
    assert isinstance(params, envs.EnvParams)
    assert params.max_steps_in_episode == gymnasium.spec(env_id).max_episode_steps
    assert env_id in envs.list()


@pytest.mark.parametrize("env_id", CLASSIC_CONTROL)
def test_backend_gymnasium_forces_the_adapter(env_id):
    env, params = envs.make(env_id, backend="gymnasium")
    assert env.backend == "gymnasium" and env.id == env_id
    port, port_params = envs.make(env_id)
    assert params.max_steps_in_episode == port_params.max_steps_in_episode
    assert str(env.observation_space(params)) == str(port.observation_space(port_params))
    assert str(env.action_space(params)) == str(port.action_space(port_params))


def test_ids_without_a_port_go_to_the_adapter():
    assert envs.backend_of("LunarLander-v3") == "gymnasium"
    with pytest.raises(ValueError, match="has no JAX port"):
        envs.make("LunarLander-v3", backend="jax")


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("CartPol-v1", "CartPole-v1"), ("Pendullum-v1", "Pendulum-v1"), ("MountainCar-v1", "MountainCar-v0"), ("acrobot-v1", "Acrobot-v1")],
)
def test_unknown_id_names_close_ids(typo, meant):
    with pytest.raises(ValueError, match="Unknown environment id") as err:
        envs.make(typo)
    assert meant in str(err.value)
    with pytest.raises(ValueError, match=meant):
        envs.make(typo, backend="gymnasium")


def test_suggestions_name_each_env_family_once():
    from envs.registry import _one_per_family

    assert _one_per_family(["Hopper-v5", "Hopper-v4", "phys2d/CartPole-v1", "CartPole-v1", "CartPole-v0"]) == [
        "Hopper-v5", "phys2d/CartPole-v1", "CartPole-v1"]
    with pytest.raises(ValueError, match="Unknown environment id") as err:
        envs.make("Hopper-v9")
    hint = str(err.value).split("Did you mean")[1].split("JAX ports")[0]
    assert "Hopper-v5" in hint and hint.count("Hopper-v") == 1


def test_bad_backend():
    with pytest.raises(ValueError, match="backend must be"):
        envs.make("CartPole-v1", backend="torch")


def test_overrides_reach_params():
    _, params = envs.make("Pendulum-v1", g=9.81, max_steps_in_episode=50)
    assert params.g == 9.81 and params.max_steps_in_episode == 50
    _, params = envs.make("MountainCar-v0", goal_velocity=0.01)
    assert params.goal_velocity == 0.01
    env, params = envs.make("Pendulum-v1", backend="gymnasium", max_steps_in_episode=30, g=9.81)
    assert params.max_steps_in_episode == 30


def test_gymnasiums_name_for_the_time_limit_works_on_a_port_too():
    for backend in (None, "gymnasium"):
        _, params = envs.make("Pendulum-v1", backend=backend, max_episode_steps=40)
        assert params.max_steps_in_episode == 40
    for backend in (None, "gymnasium"):  # one rule for both: the adapter preferred one name without a word
        with pytest.raises(ValueError, match="give the time limit once"):
            envs.make("Pendulum-v1", backend=backend, max_episode_steps=40, max_steps_in_episode=50)


def test_a_time_limit_of_none_is_the_registered_one_and_a_bad_one_is_refused():
    """As in ``gymnasium.make(id, max_episode_steps=None)``: the registered limit (the port took None and
    failed on its first step); 2.5, 0, True, "10" and 2**31 are refused by name; 2**31 - 1 is kept."""
    for backend in (None, "gymnasium"):
        for name in ("max_episode_steps", "max_steps_in_episode"):
            _, params = envs.make("CartPole-v1", backend=backend, **{name: None})
            assert params.max_steps_in_episode == 500
            for bad in (2.5, 0, True, "10", 2**31):  # 2**31: an OverflowError at the first jitted step (int32)
                with pytest.raises(ValueError, match=f"{name}=.*must be a positive integer"):
                    envs.make("CartPole-v1", backend=backend, **{name: bad})
            assert envs.make("CartPole-v1", backend=backend, **{name: 2**31 - 1})[1].max_steps_in_episode == 2**31 - 1


def test_a_params_override_of_the_wrong_shape_or_kind_is_refused_by_name():
    """It passed ``make`` and failed at the first reset or step with an AttributeError or TypeError naming
    no option (FrozenLake's ``reward`` is the ``[S, A, K]`` table its map builds; ``reward=`` is one
    letter group from ``reward_schedule=``). A value of the default's rank is kept (a list as an array), of
    another length too; so is a traced one, and one checked against the env the constructor's options made."""
    for env_id, kwargs, said in [
        ("FrozenLake-v1", dict(reward=1.0), r"reward=1.0: .*array of 3 dimensions \(shape \(16, 4, 3\).*constructor's options"),
        ("FrozenLake-v1", dict(probs=None), r"probs=None: .*array of 3 dimensions"),
        ("FrozenLake-v1", dict(terminated=True), r"terminated=True: .*array of 3 dimensions"),
        ("CartPole-v1", dict(gravity=None), r"gravity=None: .*takes a number"),
        ("CartPole-v1", dict(gravity="9.8"), r"gravity='9.8': .*takes a number"),
        ("CartPole-v1", dict(gravity=True), r"gravity=True: .*takes a number"),  # --env-kwargs gravity=true ran at 1.0
    ]:
        with pytest.raises(ValueError, match=said):
            envs.make(env_id, **kwargs)
    env, params = envs.make("FrozenLake-v1", initial_states=[5])  # a list of the default's shape: start on tile 5
    obs, _ = env.reset(jax.random.key(0), params)
    assert int(obs) == 5
    assert envs.make("CartPole-v1", gravity=10)[1].gravity == 10
    eight = envs.make("FrozenLake-v1", map_name="8x8")[1].reward  # [64, 4, 3]: the made env's shape, not the 4x4's
    assert float(envs.make("FrozenLake-v1", map_name="8x8", reward=eight * 2)[1].reward.max()) == 2.0
    two = envs.make("FrozenLake-v1", initial_states=jnp.array([0, 5]), initial_cdf=jnp.array([0.5, 1.0]))[1]
    assert two.initial_states.tolist() == [0, 5]  # another length than the default's one start
    gravity = jax.vmap(lambda g: envs.make("CartPole-v1", gravity=g)[1].gravity)(jnp.array([9.8, 5.0]))
    assert gravity.tolist() == pytest.approx([9.8, 5.0])  # traced: params are a pytree (DESIGN), make under vmap too


def test_describe_rows_for_the_ports():
    rows = {r["id"]: r for r in envs.describe()}
    for env_id in CLASSIC_CONTROL:
        assert rows[env_id]["backend"] == "jax"
        assert rows[env_id]["observation"].startswith("Box(")
    assert rows["Acrobot-v1"]["action"] == "Discrete(3)"
    assert rows["Acrobot-v1"]["observation"] == "Box(shape (6,), float32)"  # its per-dimension bounds were 100 characters


def test_describe_all_leaves_no_file_and_keeps_its_lines_short(tmp_path, monkeypatch, capfd):
    """`rl-zoo envs --all` wrote MuJoCo's MUJOCO_LOG.TXT into the working folder, printed a MuJoCo
    deprecation warning per model, and made 455-character lines, its reasons cut mid-word."""
    monkeypatch.chdir(tmp_path)
    rows = envs.describe(include_gymnasium=True)
    assert not any(tmp_path.iterdir())
    assert "settotalmass" not in capfd.readouterr().err
    assert max(len(r["observation"]) for r in rows) <= 70 and max(len(r["action"]) for r in rows) <= 70
    reasons = [r["note"] for r in rows if r["note"]]  # in a column of their own (they were in the action's)
    assert reasons and all(x.startswith("unavailable (") and (x.endswith("…") or len(x) < 110) for x in reasons)
    # the cause itself, not 90 characters of "Ant-v2 cannot be made here: gymnasium's make raised…"
    assert all("cannot be made here" not in x for x in reasons)
    assert any("moved to the gymnasium-robotics" in r["note"] for r in rows if r["id"] == "Ant-v2") or "Ant-v2" not in {r["id"] for r in rows}
    assert all(r["observation"] == r["action"] == "-" for r in rows if r["note"])
    assert envs.registry._shorten("one two three four", 12) == "one two…"


def _write_registering_module(folder, name: str, env_id: str) -> None:
    (folder / f"{name}.py").write_text(
        "import gymnasium\n"
        f"gymnasium.register({env_id!r}, entry_point='gymnasium.envs.classic_control.cartpole:CartPoleEnv', max_episode_steps=60)\n")


def test_module_colon_id_imports_the_module_that_registers_the_env(tmp_path, monkeypatch):
    """gymnasium's ``"module:EnvId-v0"``: an env registered from Python trains and loads by its id alone
    (a fresh process imports the module again); a missing module or id is named."""
    import os
    import subprocess
    import sys

    _write_registering_module(tmp_path, "rl_zoo_test_shortpole", "RlZooShortPole-v0")
    monkeypatch.syspath_prepend(str(tmp_path))
    env, params = envs.make("rl_zoo_test_shortpole:RlZooShortPole-v0")
    assert env.backend == "gymnasium" and env.id == "rl_zoo_test_shortpole:RlZooShortPole-v0"
    assert params.max_steps_in_episode == 60  # the registered time limit
    with pytest.raises(ValueError, match="cannot import 'rl_zoo_test_no_such_module', the module that should register 'X-v0'"):
        envs.make("rl_zoo_test_no_such_module:X-v0")
    with pytest.raises(ValueError, match="importing 'rl_zoo_test_shortpole' registered 'Other-v0' neither as a JAX port"):
        envs.make("rl_zoo_test_shortpole:Other-v0")
    with pytest.raises(ValueError, match="expected MODULE:ENV_ID"):
        envs.make(":RlZooShortPole-v0")
    code = "import envs; env, p = envs.make('rl_zoo_test_shortpole:RlZooShortPole-v0'); print(env.backend, p.max_steps_in_episode)"
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    on_path = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                             env={**environ, "PYTHONPATH": str(tmp_path)})
    assert on_path.returncode == 0 and on_path.stdout.split() == ["gymnasium", "60"], on_path.stderr
    # -I: neither PYTHONPATH nor the current folder on sys.path, as under the rl-zoo console script; the
    # module beside the user (the current folder) is found all the same
    here = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300, env=environ, cwd=tmp_path)
    assert here.returncode == 0 and here.stdout.split() == ["gymnasium", "60"], here.stderr
    elsewhere = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=300, env=environ,
                               cwd=tmp_path.parent)
    assert elsewhere.returncode != 0 and "from the current folder or PYTHONPATH" in elsewhere.stderr


def test_a_module_that_fails_or_is_shadowed_is_said_in_one_line(tmp_path, monkeypatch):
    """A module that raised on import gave a chained traceback (a ModuleNotFoundError first, then "during handling"
    its error: exit 1); one named as a module of Python's or rl_zoo's (json.py, envs.py) was never imported, and the
    error said only that it registered nothing."""
    import sys

    (tmp_path / "rl_zoo_test_raising.py").write_text("x = 1\nraise RuntimeError('boom')\n")
    (tmp_path / "rl_zoo_test_syntax.py").write_text("def f(:\n")
    (tmp_path / "json.py").write_text("import gymnasium\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])  # as under the console script
    with pytest.raises(ValueError, match=r"importing 'rl_zoo_test_raising', the module that should register 'X-v0', raised "
                                         r"RuntimeError: boom \(at .*rl_zoo_test_raising.py:2\)") as raised:
        envs.make("rl_zoo_test_raising:X-v0")
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    with pytest.raises(ValueError, match=r"raised SyntaxError: .* \(at .*rl_zoo_test_syntax.py:1\)"):
        envs.make("rl_zoo_test_syntax:X-v0")
    with pytest.raises(ValueError, match=r"registered 'X-v0' neither .*: 'json' is imported from .*json.*, not from ./json.py; "
                                         r"rename your module \(e.g. my_json.py\) and train on --env my_json:X-v0"):
        envs.make("json:X-v0")


def test_module_colon_id_of_a_jax_port_of_your_own(tmp_path, monkeypatch):
    """A module that registers a pure-JAX env with ``envs.register``: ``MODULE:ID`` makes the port (the
    CLI, enjoy and rl_zoo.load in a fresh process find it by the id alone); ``backend='jax'`` on a
    gymnasium env's ``MODULE:ID`` says it has no JAX port."""
    import subprocess
    import sys

    (tmp_path / "rl_zoo_test_jaxpole.py").write_text(
        "import envs\nenvs.register('RlZooJaxPole-v0', 'envs.classic_control.cartpole:CartPole')\n")
    _write_registering_module(tmp_path, "rl_zoo_test_gympole", "RlZooGymPole-v0")
    monkeypatch.syspath_prepend(str(tmp_path))
    env, params = envs.make("rl_zoo_test_jaxpole:RlZooJaxPole-v0")
    assert env.backend == "jax" and envs.backend_of("rl_zoo_test_jaxpole:RlZooJaxPole-v0") == "jax"
    assert params.max_steps_in_episode == 500
    with pytest.raises(ValueError, match="'rl_zoo_test_gympole:RlZooGymPole-v0' has no JAX port"):
        envs.make("rl_zoo_test_gympole:RlZooGymPole-v0", backend="jax")
    with pytest.raises(ValueError, match="is a pure-JAX env \\(envs.register\\), not a gymnasium one"):
        envs.make("rl_zoo_test_jaxpole:RlZooJaxPole-v0", backend="gymnasium")
    code = ("from rl_zoo.cli import main; raise SystemExit(main(['train', '--env', 'rl_zoo_test_jaxpole:RlZooJaxPole-v0', "
            "'--total-steps', '2048', '--evals', '1', '--eval-episodes', '1', '--no-progress', '--out', 'run']))")
    done = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import json

    assert json.loads((tmp_path / "run" / "config.json").read_text())["backend"] == "jax"


def test_register_checks_its_entry_point_and_warns_when_it_replaces_one(monkeypatch):
    from envs import registry
    from envs.classic_control.cartpole import CartPole

    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS))  # leave the real registry as it was
    envs.register("RlZooClassPole-v0", CartPole)  # the class itself
    assert envs.make("RlZooClassPole-v0")[0].backend == "jax"
    with pytest.raises(ValueError, match="entry_point must be 'module:Class'"):
        envs.register("RlZooBad-v0", "envs.classic_control.cartpole.CartPole")  # a dot, not a colon: refused now, not at make
    with pytest.raises(TypeError, match="must be 'module:Class' or a class, got 3"):
        envs.register("RlZooBad-v0", 3)
    assert "RlZooBad-v0" not in envs.list()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        envs.register("RlZooClassPole-v0", CartPole)  # the same again (a module imported twice): silent
    with pytest.warns(UserWarning, match="'CartPole-v1' was registered already"):
        envs.register("CartPole-v1", "envs.classic_control.acrobot:Acrobot")


def _broken(change):
    """CartPole with one rule of the env contract broken by ``change(obs, state, reward, terminated, info)``."""
    from envs.classic_control.cartpole import CartPole

    class Broken(CartPole):
        id = "Broken-v0"

        def step_env(self, key, state, action, params):
            return change(*super().step_env(key, state, action, params))

    return Broken()


@pytest.mark.parametrize("change, message", [
    (lambda o, s, r, t, i: (o, s, r[None], t, i), r"reward must be a scalar number \(step casts it to float32\), got shape \(1,\)"),
    (lambda o, s, r, t, i: (o, s, r, t.astype(jnp.float32), i), "terminated must be a boolean scalar"),
    (lambda o, s, r, t, i: (o[:3], s, r, t, i), r"step_env gives an observation of shape \(3,\), dtype float32, reset_env one of shape \(4,\)"),
    (lambda o, s, r, t, i: (o, s.replace(time=s.time.astype(jnp.float32)), r, t, i), "a state field changes from shape"),
    (lambda o, s, r, t, i: (o, s, r, t, {"msg": "hello"}), "step_env.* cannot be traced as JAX"),
    (lambda o, s, r, t, i: (o, s, r, t), r"must return \(obs, state, reward, terminated, info\)"),
])
def test_check_env_names_the_broken_rule(change, message):
    """An env of your own that breaks the contract is refused with the rule it breaks, before anything
    compiles (these were scan-carry errors, flax shape errors or 'not a valid JAX type' deep inside)."""
    env = _broken(change)
    with pytest.raises(ValueError, match=f"environment Broken-v0: .*{message}"):
        envs.check_env(env, env.default_params)


def test_check_env_refuses_an_observation_that_is_not_a_vector():
    """A JAX env of (2, 2) observations, consistent with its own Box, passed check_env and failed inside the first
    update (chex's assert_equal_shape, exit 1, a run directory left): refused as a gymnasium env's is."""
    from envs import spaces
    from envs.classic_control.cartpole import CartPole

    class Square(CartPole):
        id = "Square-v0"

        def observation_space(self, params):
            return spaces.Box(-jnp.inf, jnp.inf, (2, 2), jnp.float32)

        def reset_env(self, key, params):
            obs, state = super().reset_env(key, params)
            return obs.reshape(2, 2), state

        def step_env(self, key, state, action, params):
            obs, *rest = super().step_env(key, state, action, params)
            return (obs.reshape(2, 2), *rest)

    with pytest.raises(ValueError, match=r"environment Square-v0: observation_space is .* \(rank 2\): rl_zoo's networks "
                                         r"are MLPs over a vector observation .* flatten it in reset_env and step_env"):
        envs.check_env(Square())


def test_make_checks_an_env_registered_from_outside_the_package(tmp_path, monkeypatch):
    from envs import registry

    (tmp_path / "rl_zoo_test_brokenpole.py").write_text(
        "from envs.classic_control.cartpole import CartPole\n"
        "class Broken(CartPole):\n"
        "    def step_env(self, key, state, action, params):\n"
        "        o, s, r, t, i = super().step_env(key, state, action, params)\n"
        "        return o, s, r[None], t, i\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS))
    envs.register("RlZooBrokenPole-v0", "rl_zoo_test_brokenpole:Broken")
    with pytest.raises(ValueError, match="reward must be a scalar number"):
        envs.make("RlZooBrokenPole-v0")


def test_check_env_takes_what_the_contract_allows():
    """Integer Box observations (the RLHF token env's), an int or Python-float reward (step casts it),
    typed PRNG keys in the state: valid, so not refused; a Python float reward also steps under jit."""
    from envs import spaces
    from envs.classic_control.cartpole import CartPole

    class IntObs(CartPole):  # a Box of integers, as the RLHF token env's context
        def observation_space(self, params=None):
            return spaces.Box(-10, 10, (4,), jnp.int32)

        def reset_env(self, key, params):
            obs, state = super().reset_env(key, params)
            return obs.astype(jnp.int32), state

        def step_env(self, key, state, action, params):
            obs, state, reward, terminated, info = super().step_env(key, state, action, params)
            return obs.astype(jnp.int32), state, reward, terminated, info

    envs.check_env(IntObs(), IntObs().default_params)
    for reward in (lambda r: r.astype(jnp.int32), lambda r: 1.0):
        env = _broken(lambda o, s, r, t, i, f=reward: (o, s, f(r), t, i))
        envs.check_env(env, env.default_params)
    env = _broken(lambda o, s, r, t, i: (o, s, 1.0, t, i))
    obs, state = env.reset(jax.random.key(0))
    out = jax.jit(env.step)(jax.random.key(1), state, jnp.int32(0))
    assert out[2].dtype == jnp.float32 and float(out[2]) == 1.0


def test_registering_again_with_array_kwargs_warns_rather_than_crashes(monkeypatch):
    import numpy as np

    from envs import registry

    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS))
    weights = np.array([0.0, 1.0])
    envs.register("RlZooArr-v0", "envs.classic_control.cartpole:CartPole", weights=weights)
    envs.register("RlZooArr-v0", "envs.classic_control.cartpole:CartPole", weights=weights)  # same objects: silent
    with pytest.warns(UserWarning, match="registered already"):
        envs.register("RlZooArr-v0", "envs.classic_control.cartpole:CartPole", weights=np.array([0.0, 1.0]))


class _CartPoleOfOld(CartPole):
    """CartPole as the port was before it took gymnasium's ``sutton_barto_reward``: no constructor options."""

    def __init__(self):
        super().__init__()


@pytest.mark.parametrize("env_id, kwargs, said, adapter", [
    ("CartPole-v1", {"wind": 1.0}, "unknown option wind. The port takes constructor options [sutton_barto_reward, "
     "max_episode_steps]", False),
    ("FrozenLake-v1", {"slippery": True}, "(slippery: did you mean is_slippery?)", False),
    ("OldCartPole", {"sutton_barto_reward": True}, "unknown option sutton_barto_reward. The port takes constructor options "
     "[none]", True),
])
def test_an_option_the_port_lacks_is_named_with_those_it_takes(env_id, kwargs, said, adapter, monkeypatch):
    """It was ``TypeError: CartPole() takes no arguments``. The adapter is named when gymnasium's own env takes the
    option (``OldCartPole``: a port under gymnasium's CartPole id without ``sutton_barto_reward``), not for an
    option gymnasium's env lacks too, nor for a typo."""
    from envs import registry

    if env_id == "OldCartPole":
        env_id = "CartPole-v1"
        monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS, **{env_id: (_CartPoleOfOld, {})}))
    with pytest.raises(ValueError) as e:
        envs.make(env_id, **kwargs)
    assert said in str(e.value)
    assert ("gymnasium's own CartPole-v1 takes sutton_barto_reward: make it with backend='gymnasium'" in str(e.value)) == adapter
    assert ("backend='gymnasium'" in str(e.value)) == adapter
    # gymnasium's name of the time limit is an alias, said once, not listed as a field beside rl_zoo's
    assert "reset_bound] (max_episode_steps, gymnasium's name, is taken for max_steps_in_episode)" in str(e.value) or env_id != "CartPole-v1"


def test_where_gymnasiums_signature_cannot_tell_the_adapter_is_said_as_a_may(monkeypatch):
    """``only_gymnasium_takes`` None (gymnasium's entry point takes ``**kwargs``): an unknown option may be its."""
    from envs import options

    monkeypatch.setattr(options, "only_gymnasium_takes", lambda env_id: None)
    with pytest.raises(ValueError, match="gymnasium's own CartPole-v1 may take options the port lacks: make it with "
                                         "backend='gymnasium'"):
        envs.make("CartPole-v1", wind=1.0)


def test_only_gymnasium_takes_names_what_a_ports_twin_takes_beyond_it(monkeypatch, capsys):
    """Every port shipped here takes every keyword of gymnasium's env; a port that lacks one has it named, by
    ``rl-zoo envs ID`` too."""
    from envs import registry
    from envs.options import has_gymnasium_twin, only_gymnasium_takes
    from rl_zoo.cli import main

    twins = [env_id for env_id in envs.list() if has_gymnasium_twin(env_id)]
    assert "CartPole-v1" in twins and "Taxi-v4" in twins and "FrozenLake8x8-v1" in twins
    assert {env_id: only_gymnasium_takes(env_id) for env_id in twins} == {env_id: [] for env_id in twins}
    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS, **{"CartPole-v1": (_CartPoleOfOld, {})}))
    assert only_gymnasium_takes("CartPole-v1") == ["sutton_barto_reward"]
    assert main(["envs", "CartPole-v1"]) == 0
    assert ("gymnasium's own CartPole-v1 also takes sutton_barto_reward (--backend gymnasium): rl-zoo envs CartPole-v1 "
            "--backend gymnasium") in capsys.readouterr().out

    class AnyOption(CartPole):  # a port that takes any keyword lacks none
        def __init__(self, **options):
            super().__init__()

    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS, **{"CartPole-v1": (AnyOption, {})}))
    assert only_gymnasium_takes("CartPole-v1") == []


def test_an_env_of_ones_own_keeps_an_id_it_cannot_have_set(monkeypatch):
    """``envs.make`` gives a port the id it was made from; an env whose ``id`` is a property keeps its own."""
    from envs import registry
    from envs.classic_control.cartpole import CartPole

    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS))  # leave the real registry as it was

    class Named(CartPole):
        id = property(lambda self: "Named-v0")

    envs.register("NamedProbe-v0", Named)
    env, _ = envs.make("NamedProbe-v0")
    assert env.id == "Named-v0"


def test_an_env_of_ones_own_whose_constructor_needs_an_option_is_made_with_it(monkeypatch, capsys):
    """A port whose constructor requires ``scale``: made with ``scale=`` (and a params field beside it), refused
    by name without it, and listed by ``rl-zoo envs ID`` as required (it was a TypeError naming the option
    given, and a traceback)."""
    from envs import registry
    from envs.classic_control.cartpole import CartPole
    from envs.options import REQUIRED, env_options
    from rl_zoo.cli import main

    monkeypatch.setattr(registry, "_PORTS", dict(registry._PORTS))  # leave the real registry as it was

    class Scaled(CartPole):
        def __init__(self, scale):
            super().__init__()
            self.scale = scale

    envs.register("RlZooScaled-v0", Scaled)
    env, params = envs.make("RlZooScaled-v0", scale=3, max_episode_steps=7)
    assert (env.scale, params.max_steps_in_episode) == (3, 7)
    with pytest.raises(ValueError, match=r"RlZooScaled-v0: its constructor needs scale: give it \(--env-kwargs scale=VALUE"):
        envs.make("RlZooScaled-v0")
    assert [(o.name, o.allowed) for o in env_options("RlZooScaled-v0")[1]] == [("scale", REQUIRED)]
    assert main(["envs", "RlZooScaled-v0"]) == 0
    shown = capsys.readouterr().out
    assert "it cannot be made with its default options (ValueError: RlZooScaled-v0: its constructor needs scale" in shown
    assert [line.split() for line in shown.splitlines() if line.startswith("scale ")] == [["scale", "-", "constructor", *REQUIRED.split()]]


def test_an_env_id_that_is_not_a_string_is_refused_by_name():
    with pytest.raises(TypeError, match="env_id must be a string such as 'CartPole-v1', got 3"):
        envs.make(3)  # "argument of type 'int' is not iterable"


def test_an_option_of_the_wrong_type_is_refused():
    """is_slippery="False" (a truthy string) made the slippery lake."""
    with pytest.raises(ValueError, match=r"FrozenLake-v1: option is_slippery = 'False' is invalid: must be bool \(its default is True\)"):
        envs.make("FrozenLake-v1", is_slippery="False")
    with pytest.raises(ValueError, match="option map_name = 8 is invalid: must be str"):
        envs.make("FrozenLake-v1", map_name=8)
    env, params = envs.make("FrozenLake-v1", is_slippery=False, map_name="8x8")
    assert env.is_slippery is False and env.observation_space(params).n == 64
    import numpy as np

    assert envs.make("FrozenLake-v1", is_slippery=np.bool_(False))[0].is_slippery == False  # noqa: E712


@pytest.mark.parametrize("env_id, kwargs, said", [
    ("CartPole-v1", {"length": 0.0}, "CartPole-v1: length = 0 must be > 0"),
    ("CartPole-v1", {"masspole": -0.1}, "masspole = -0.1 must be >= 0"),
    ("Pendulum-v1", {"m": 0}, "m = 0 must be > 0"),
    ("Acrobot-v1", {"link_moi": -1.0}, "link_moi = -1 must be > 0"),
    ("MountainCar-v0", {"min_position": 1.0}, "min_position = 1 must be below max_position = 0.6"),
    ("MountainCarContinuous-v0", {"max_action": -2.0}, "min_action = -1 must be below max_action = -2"),
    # uniform(low, high) with low above high draws low every time: every episode started at one spot
    ("MountainCar-v0", {"reset_low": -0.4, "reset_high": -0.6}, "reset_low = -0.4 must be at most reset_high = -0.6"),
    ("MountainCarContinuous-v0", {"reset_low": -0.4, "reset_high": -0.6}, "reset_low = -0.4 must be at most reset_high"),
    ("CartPole-v1", {"x_threshold": -1.0}, "x_threshold = -1 must be > 0"),  # it bounds the observation space
    ("CartPole-v1", {"masscart": 0.0, "masspole": 0.0}, "masscart \\+ masspole = 0 must be > 0"),
    ("CartPole-v1", {"gravity": float("nan")}, "gravity = nan must be a finite number"),
    ("CartPole-v1", {"length": float("inf")}, "length = inf must be a finite number"),
    # finite, but not in float32, where the ports step: gravity 1e40 stepped as inf, a pole of 1e-50 as one of 0
    ("CartPole-v1", {"gravity": 1e40}, "gravity = 1e\\+40 overflows float32, where JAX computes it"),
    ("CartPole-v1", {"length": 1e-50}, "length = 1e-50 is 0 in float32, where JAX computes it"),
    ("CartPole-v1", {"x_threshold": 1e-40}, "x_threshold = 1e-40 is 0 in float32"),  # a subnormal: flushed on the CPU
])
def test_a_physical_constant_outside_what_the_dynamics_allow_is_refused(env_id, kwargs, said):
    """A pole of length 0 divides by zero at every step: refused by make, where it would have trained NaN."""
    with pytest.raises(ValueError, match=said):
        envs.make(env_id, **kwargs)


def test_the_rules_allow_the_defaults_and_degenerate_but_defined_values():
    for env_id in envs.list():
        assert getattr(envs.make(env_id)[1], "invalid", lambda: None)() is None
    envs.make("CartPole-v1", tau=0.0, masspole=0.0, gravity=-9.8)  # a frozen cart, a massless pole, gravity upside down
    envs.make("CartPole-v1", masscart=0.0)  # the pole's mass alone: the total mass stays positive
    envs.make("Acrobot-v1", link_mass_1=0.0, link_length_1=0.0)  # the inertia keeps the mass matrix positive definite
    envs.make("CartPole-v1", x_threshold=float("inf"))  # no wall: an infinity that means something (MAY_BE_INFINITE)
    envs.make("CartPole-v1", x_threshold=1e40)  # as inf in float32: no wall either
    envs.make("CartPole-v1", gravity=3e38, tau=1.2e-38)  # float32's largest and smallest normal sizes hold
    for env_id in ("MountainCar-v0", "MountainCarContinuous-v0"):  # gymnasium takes either infinity too
        envs.make(env_id, goal_velocity=float("inf")), envs.make(env_id, goal_velocity=-float("inf"))
    for env_id in ("MountainCar-v0", "MountainCarContinuous-v0"):  # a fixed start, as gymnasium's reset options take it
        env, params = envs.make(env_id, reset_low=-0.5, reset_high=-0.5)
        assert float(env.reset(jax.random.key(0), params)[0][0]) == -0.5
    with pytest.raises(ValueError, match="render_mode: a port draws no frames itself"):  # gymnasium's keyword
        envs.make("CartPole-v1", render_mode="rgb_array")
    traced = jax.vmap(lambda length: envs.make("CartPole-v1")[1].replace(length=length).invalid())
    traced(jnp.array([0.0, 1.0]))  # a traced value is not checked (a sweep's rows): no error


def test_an_integer_params_field_takes_whole_numbers_only():
    """``length=2.5`` for a ``length: int`` params field of one's own env passed, and the first step failed with "a
    state field changes from dtype int32 at reset to float32", blaming the env's code. A whole float is the int."""
    import dataclasses

    from envs import make_checks

    @dataclasses.dataclass(frozen=True)
    class Params:
        length: int = 5
        widths: np.ndarray = dataclasses.field(default_factory=lambda: np.array([1, 2], np.int32))

    with pytest.raises(ValueError, match=r"Corridor-v0: option length=2.5: length is a params field that takes whole numbers"):
        make_checks._check_param_values("Corridor-v0", Params(), {"length": 2.5}, built=False)
    out = make_checks._check_param_values("Corridor-v0", Params(), {"length": 3.0, "widths": [3.0, 4.0]}, built=False)
    assert out["length"] == 3 and type(out["length"]) is int
    assert out["widths"].dtype == np.int32 and out["widths"].tolist() == [3, 4]
    assert make_checks._check_param_values("Corridor-v0", Params(), {"length": 7}, built=False) == {"length": 7}
    for over in ({"length": 1e20}, {"widths": [3e9, 1.0]}):  # past the dtype: the cast wrapped around, silently
        with pytest.raises(ValueError, match="takes whole numbers from -"):
            make_checks._check_param_values("Corridor-v0", Params(), over, built=False)


@pytest.mark.parametrize("env_id, name, value", [("Pendulum-v1", "g", np.float64(9.81)), ("CartPole-v1", "gravity", np.float64(9.8)),
                                                 ("Acrobot-v1", "gravity", np.float64(9.8)), ("MountainCar-v0", "force", np.float32(0.001))])
def test_a_numpy_scalar_params_override_keeps_the_state_float32_under_x64(env_id, name, value):
    """Under JAX_ENABLE_X64 a numpy float64 for a Python-float field was a strongly typed float64: the
    float32 state became float64 at the first step and a scan's carry refused it."""
    env, params = envs.make(env_id, **{name: value})
    assert type(getattr(params, name)) is float and getattr(params, name) == float(value)

    def rollout(key):
        obs, state = env.reset(key, params)

        def body(carry, k):
            obs, state, *_ = env.step(k, carry, env.action_space(params).sample(k), params)
            return state, obs
        return jax.lax.scan(body, state, jax.random.split(key, 3))

    with jax.enable_x64(True):
        state, obs = jax.jit(rollout)(jax.random.key(0))
    assert obs.dtype == jnp.float32
    assert {leaf.dtype for leaf in jax.tree.leaves(state) if jnp.issubdtype(leaf.dtype, jnp.floating)} == {jnp.dtype(jnp.float32)}


def test_a_mujoco_env_made_for_training_leaves_no_log_file_and_warns_once(tmp_path):
    """`rl-zoo train` and `rl-zoo enjoy` on HalfCheetah-v5 left MUJOCO_LOG.TXT in the folder they were typed in and
    printed MuJoCo's settotalmass deprecation line per env copy (12 for PPO): only `rl-zoo envs` kept them away."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    pytest.importorskip("mujoco")

    def python(script: str, *flags: str) -> subprocess.CompletedProcess:  # in tmp_path, a process of its own
        return subprocess.run([sys.executable, *flags, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "PYTHONPATH": str(Path(envs.__file__).parents[1])})

    done = python("import warnings, envs\n"
                  "from rl_zoo.host.mujoco_warnings import MuJoCoWarning, uses_mujoco\n"
                  "print(uses_mujoco('Hopper-v5'), uses_mujoco('LunarLander-v3'), uses_mujoco('no-such-id-v0'))\n"
                  "with warnings.catch_warnings(record=True) as seen:\n"
                  "    warnings.simplefilter('always')\n"
                  "    for _ in range(3):\n"
                  "        env, params = envs.make('HalfCheetah-v5')\n"
                  "        env.make_vec(2, params)\n"
                  "print(sum(issubclass(w.category, MuJoCoWarning) for w in seen))\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "False", "1"] and "settotalmass" not in done.stderr
    assert not any(tmp_path.iterdir())
    # a first warning under an ignoring filter is shown the next time (it counted as shown); -W error kills nothing
    # (an exception raised inside MuJoCo's C callback aborted the process): the line goes to stderr
    done = python("import warnings, envs\n"
                  "with warnings.catch_warnings():\n"
                  "    warnings.simplefilter('ignore')\n"
                  "    envs.make('HalfCheetah-v5')\n"
                  "with warnings.catch_warnings(record=True) as seen:\n"
                  "    warnings.simplefilter('always')\n"
                  "    envs.make('HalfCheetah-v5')\n"
                  "print(len(seen))\n")
    assert done.returncode == 0 and done.stdout.split() == ["1"], done.stderr
    done = python("import envs; envs.make('HalfCheetah-v5')", "-W", "error::RuntimeWarning")
    assert done.returncode == 0, done.stderr
    assert "MuJoCo warning: compiler attribute 'settotalmass' is deprecated" in done.stderr
    assert not any(tmp_path.iterdir())


def test_rl_zoo_envs_says_what_each_constructor_option_takes():
    """Review: the allowed column was blank for the constructor options a port refuses values of (success_rate and the
    Taxi probabilities in [0, 1], map_name 4x4/8x8/null, reward_schedule 3 numbers); only params fields said theirs."""
    from envs.options import env_options

    said = lambda env_id: {o.name: o.allowed for o in env_options(env_id)[1] if o.kind == "constructor"}  # noqa: E731
    assert said("FrozenLake-v1") == {"desc": "rows of S, F, H, G, one S at least, all as long (over map_name)",
                                     "map_name": "4x4, 8x8, or null (a random 8x8 map, drawn once)",
                                     "is_slippery": "true or false", "success_rate": "0 .. 1",
                                     "reward_schedule": "[goal, hole, frozen], numbers within float32"}
    assert said("Taxi-v4") == {"is_rainy": "true or false", "fickle_passenger": "true or false",
                               "rainy_probability": "0 .. 1", "fickle_probability": "0 .. 1"}
    assert said("CartPole-v1") == {"sutton_barto_reward": "true or false"}
    assert said("Blackjack-v1") == {"natural": "true or false", "sab": "true or false"}
