"""``rl-zoo train --env-kwargs KEY=VALUE`` (``train(env_kwargs=...)``): the env's options reach the env
that trains, the one that evaluates, a resumed run's, a loaded policy's and ``enjoy``'s, and config.json
records them. Bad options are refused before anything compiles or is written.

The options are chosen so that their effect shows in every return whatever the rounding: a time limit of
5 steps on CartPole-v1 (no episode can fail in 5 steps: every return is exactly 5), and gymnasium's
``sutton_barto_reward`` (0 a step, -1 on failure: every return is 0 or -1).
"""

from __future__ import annotations

import json
import math
import re
import shlex

import numpy as np
import pytest

import rl_zoo
from rl_zoo import checkpoint
from rl_zoo.cli import main
from rl_zoo.config import ConfigError, check_env_kwargs, parse_env_kwargs
from rl_zoo.driver.spec import RunSpec
from rl_zoo.enjoy import enjoy
from rl_zoo.runs import RunFileError
from rl_zoo.train import train
from run_helpers import KW, copy_run, metrics_rows


# --- parsing and checking (pure) --------------------------------------------------------------------
def test_values_are_read_as_yaml_1_2_scalars():
    """1e-3 a float (YAML 1.1 read it as the string "1e-3", which a gymnasium env took and failed on at its
    first step), 010 ten (not octal 8), yes / on / 1:30 strings (not True and 90)."""
    assert parse_env_kwargs(["a=1e-3", "b=010", "c=yes", "d=on", "e=1:30", "f=True", "g=None", "h=[1e-3, 2]", "i='1e-3'"]) == {
        "a": 0.001, "b": 10, "c": "yes", "d": "on", "e": "1:30", "f": True, "g": None, "h": [0.001, 2], "i": "1e-3"}
    assert parse_env_kwargs(["continuous=true", "gravity=-9.8", "map_name=8x8", "desc=[SF, FG]", "n=3", "x=", "y=null"]) == {
        "continuous": True, "gravity": -9.8, "map_name": "8x8", "desc": ["SF", "FG"], "n": 3, "x": "", "y": None}
    assert parse_env_kwargs([" reset_bound = 0.1 "]) == {"reset_bound": 0.1}
    assert parse_env_kwargs(["max_steps_in_episode=50"]) == {"max_episode_steps": 50}  # the limit by one name
    assert parse_env_kwargs(["default_camera_config={distance: 4.0}"]) == {"default_camera_config": {"distance": 4.0}}
    assert parse_env_kwargs([]) == {}


@pytest.mark.parametrize("pairs, message", [
    (["continuous"], "expects KEY=VALUE pairs"),
    (["=1"], "expects KEY=VALUE pairs"),
    (["g=1", "g=2"], "g is given twice"),
    (["g=[1"], "not a value YAML can read"),
    (["g={1: a}"], "not a value a run can record"),
    (["g=.nan"], "not a value a run can record"),
    (["g=2001-12-14"], "not a value a run can record.*quote text"),
    (["1g=3"], "not an option name"),
    (["max_steps_in_episode=5", "max_episode_steps=5"], "give the time limit once"),
])
def test_bad_pairs_are_refused_naming_them(pairs, message):
    with pytest.raises(ConfigError, match=message):
        parse_env_kwargs(pairs)


def test_an_infinite_bound_is_taken_and_written_back_as_yaml_reads_it():
    """gymnasium's MuJoCo envs default to infinite bounds (Hopper-v4's healthy_z_range [0.7, inf])."""
    from envs.options import option_text

    assert parse_env_kwargs(["healthy_z_range=[0.7, .inf]", "low=-.inf"]) == {"healthy_z_range": [0.7, math.inf], "low": -math.inf}
    assert [option_text(v) for v in ([0.7, math.inf], {"distance": 4.0, "lookat": (0.0, 1.15)}, "1e-3", "", None)] == [
        "[0.7, .inf]", "{distance: 4.0, lookat: [0.0, 1.15]}", '"1e-3"', '""', "null"]


def test_check_env_kwargs_takes_a_mapping_of_names_to_plain_values():
    assert check_env_kwargs(None) == {}
    assert check_env_kwargs({"desc": ("SF", "FG"), "g": 1.5}) == {"desc": ["SF", "FG"], "g": 1.5}  # a tuple as JSON reads it back
    with pytest.raises(ConfigError, match="must map option names"):
        check_env_kwargs(["continuous", True])
    with pytest.raises(ConfigError, match="not a value a run can record"):
        check_env_kwargs({"g": math.nan})
    with pytest.raises(ConfigError, match="not a value a run can record"):
        check_env_kwargs({"g": object()})


def _config_json(**extra) -> dict:
    from rl_zoo.algos import ppo

    return dict(RunSpec(algo="ppo", env_id="CartPole-v1", config=ppo.Config()).to_json(), **extra)


def test_config_json_reads_back_its_env_kwargs(tmp_path):
    data = _config_json()
    assert data["env_kwargs"] == {}
    del data["env_kwargs"]  # a run written before the field existed
    assert RunSpec.from_json(data).env_kwargs == {}
    assert RunSpec.from_json(_config_json(env_kwargs={"gravity": 12.0})).env_kwargs == {"gravity": 12.0}
    with pytest.raises(RunFileError, match="env_kwargs.*must map option names"):
        RunSpec.from_json(_config_json(env_kwargs=[1]), tmp_path / "config.json")


def test_a_random_frozenlake_map_is_recorded_so_the_run_is_played_on_it_again(tmp_path):
    """`--env-kwargs map_name=null` draws a random map at each make: config.json recorded only map_name, so every
    rl_zoo.load / enjoy / resume played a map of its own, and a policy that solved its map scored 0 on the next."""
    said = []
    run = train("q-learning", "FrozenLake-v1", out=tmp_path / "run", env_kwargs={"map_name": None},
                **dict(KW, total_steps=200, num_evals=1, log=said.append)).run_dir
    recorded = json.loads((run / "config.json").read_text())["env_kwargs"]
    assert recorded["map_name"] is None and len(recorded["desc"]) == 8 and any("drew 'desc=[" in s for s in said)
    maps = {tuple(rl_zoo.load(run).env.desc) for _ in range(2)}
    assert maps == {tuple(recorded["desc"])}
    given = train("q-learning", "FrozenLake-v1", out=tmp_path / "given", env_kwargs={"map_name": None, "desc": ["SF", "FG"]},
                  **dict(KW, total_steps=200, num_evals=1)).run_dir  # a map given: recorded as given
    assert json.loads((given / "config.json").read_text())["env_kwargs"] == {"map_name": None, "desc": ["SF", "FG"]}


def test_a_random_map_on_the_gymnasium_backend_is_drawn_once_for_every_copy():
    """`--backend gymnasium --env-kwargs map_name=null`: every gymnasium copy drew its own map (each seed's training
    and evaluation copies), config.json recorded none, and two runs of one seed differed. The port draws it once."""
    from rl_zoo.driver.spec import new_spec

    spec, env, _, note = new_spec("dqn", "FrozenLake-v1", seeds=2, backend="gymnasium", env_kwargs={"map_name": None})
    desc = spec.env_kwargs["desc"]
    assert len(desc) == 8 and "drew 'desc=[" in note
    assert env.gym_env.make_kwargs["desc"] == desc  # the copies' gymnasium.make is given the drawn map
    assert spec.make_env()[0].gym_env.make_kwargs["desc"] == desc  # and so is a resumed or evaluated run's


def test_a_random_map_drawn_with_desc_null_given_is_named_and_recorded():
    """``map_name=null desc=null``: the drawn desc was filtered out as "given", so the note read "... drew  at
    random" with nothing between, and a sweep's refusal ended in an empty --env-kwargs."""
    from rl_zoo.driver.spec import new_spec

    spec, _, _, note = new_spec("q-learning", "FrozenLake-v1", devices=1, env_kwargs={"map_name": None, "desc": None})
    assert spec.env_kwargs["map_name"] is None and len(spec.env_kwargs["desc"]) == 8
    assert "map_name=null desc=null drew 'desc=[" in note


# --- refusals before anything is written ------------------------------------------------------------
@pytest.mark.parametrize("env_kwargs, message", [
    (["foo=1"], r"--env-kwargs foo=1: refused by CartPole-v1: unknown option foo"),
    (["gravity=abc"], r"--env-kwargs gravity=abc: refused by CartPole-v1: .*takes a number"),
    (["render_mode=human"], r"render_mode is not an option of a run's env"),
    (["continuous"], "expects KEY=VALUE pairs"),
])
def test_options_the_env_does_not_take_are_refused_before_the_run_starts(tmp_path, capsys, env_kwargs, message):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--no-progress", "--env-kwargs", *env_kwargs]) == 2
    assert re.search(message, capsys.readouterr().err)
    assert not out.exists()


def test_a_gymnasium_env_that_refuses_an_option_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"--env-kwargs foo=1: refused by CartPole-v1: .*unexpected keyword argument 'foo'"):
        train("ppo", "CartPole-v1", backend="gymnasium", env_kwargs={"foo": 1}, out=tmp_path / "run", **KW)
    assert not (tmp_path / "run").exists()


def test_gymnasiums_own_env_refusing_a_value_its_port_would_refuse_says_it_in_the_ports_words(tmp_path):
    """Review: gymnasium's FrozenLake raises a KeyError of the map name, said as "refused by FrozenLake-v1: '5x5'"; the
    port, which takes the same constructor options, says what map_name takes."""
    with pytest.raises(ConfigError) as e:
        train("ppo", "FrozenLake-v1", backend="gymnasium", env_kwargs={"map_name": "5x5"}, out=tmp_path / "run", **KW)
    assert str(e.value) == ("--env-kwargs map_name=5x5: refused by FrozenLake-v1: map_name must be one of ['4x4', '8x8'] "
                            "(or pass desc=[...]), got '5x5'")
    assert not (tmp_path / "run").exists()


def test_an_unknown_env_keeps_its_own_error(tmp_path):
    with pytest.raises(ValueError, match="Unknown environment id 'CartPol-v1'"):
        train("ppo", "CartPol-v1", env_kwargs={"gravity": 1.0}, out=tmp_path / "run", **KW)


def test_a_resume_takes_its_options_from_config_json(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--env-kwargs", "gravity=1.0"]) == 2
    assert "do not combine it with --set, --config, --env-kwargs" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="leave out env_kwargs"):
        train(resume=tmp_path, env_kwargs={"gravity": 1.0})


# --- the options reach every env of the run ---------------------------------------------------------
@pytest.fixture(scope="module")
def capped(tmp_path_factory, seed_offset):
    """PPO on CartPole-v1 with a 5-step time limit, 2 seeds, through the command line."""
    out = tmp_path_factory.mktemp("capped") / "run"
    assert main(["train", "--out", str(out), "--no-progress", "--seeds", "2", "--seed", str(seed_offset), "--total-steps", "2560",
                 "--evals", "5", "--eval-episodes", "1", "--env-kwargs", "max_episode_steps=5"]) == 0
    return out


def test_a_time_limit_option_caps_every_evaluation(capped):
    assert json.loads((capped / "config.json").read_text())["env_kwargs"] == {"max_episode_steps": 5}
    returns = [float(row[2]) for row in metrics_rows(capped)]
    assert len(returns) == 12 and set(returns) == {5.0}  # 6 evaluations x 2 seeds, each episode cut at 5 steps


def test_a_resumed_run_and_a_loaded_policy_keep_the_options(capped, tmp_path):
    run = copy_run(capped, tmp_path)
    max(checkpoint.list_checkpoints(run)).unlink()  # killed before its last checkpoint: the last segment trains again
    said = []
    train(resume=run, progress=False, log=said.append)
    assert any("resuming" in s for s in said)
    assert metrics_rows(run) == metrics_rows(capped)
    policy = rl_zoo.load(run)
    assert int(policy.env_params.max_steps_in_episode) == 5
    played = enjoy(run, episodes=2, log=lambda s: None)
    assert [(ep.episode_return, ep.length) for ep in played] == [(5.0, 5), (5.0, 5)]


@pytest.mark.parametrize("backend", ["jax", "gymnasium"])
def test_sutton_barto_reward_reaches_training_evaluation_and_enjoy(backend, tmp_path, seed_offset):
    """gymnasium's CartPole option, on the JAX port (its steps match gymnasium's: test_envs_classic_control) and on
    the host envs: every return of the run, greedy, training and played, is a mean of episodes of 0 or -1."""
    run = tmp_path / "run"
    result = train("ppo", "CartPole-v1", backend=backend, env_kwargs={"sutton_barto_reward": True}, seed=seed_offset,
                   total_steps=128, overrides=dict(num_envs=4, num_steps=16, update_epochs=1, num_minibatches=1),
                   out=run, num_evals=1, eval_episodes=2, progress=False, log=lambda s: None)
    assert result.summary["backend"] == backend and result.summary["env_kwargs"] == {"sutton_barto_reward": True}
    returns = [float(row[2]) for row in metrics_rows(run)]
    assert returns and all(-1.0 <= r <= 0.0 for r in returns)  # means of 0 or -1 an episode; CartPole's +1 a step: positive
    train_returns = [float(row[3]) for row in metrics_rows(run) if row[3] not in ("", "nan")]
    assert all(-1.0 <= r <= 0.0 for r in train_returns)
    env = rl_zoo.load(run).env
    if backend == "jax":
        assert env.sutton_barto_reward is True
    else:
        assert env.gym_env.make_kwargs == {"sutton_barto_reward": True}
    played = enjoy(run, episodes=1, log=lambda s: None)
    assert played[0].episode_return in (0.0, -1.0)
    assert all(-1.0 <= r <= 0.0 for r in result.summary["final_return"])


def test_config_of_a_run_with_options_notes_them(capped, tmp_path, capsys):
    """--config a run's config.json sets its config fields, not its env's options: said, with the flag to give."""
    from rl_zoo.train_command import note_config_env_kwargs

    note_config_env_kwargs(str(capped / "config.json"), {})
    assert ("had the options max_episode_steps=5; this run's env has none (--config sets config fields only: give "
            "--env-kwargs max_episode_steps=5 for the same env)") in capsys.readouterr().err.replace("\n", " ")
    note_config_env_kwargs(str(capped / "config.json"), {"max_episode_steps": 5})
    assert capsys.readouterr().err == ""


def test_config_json_options_read_as_json_numbers(tmp_path, capsys):
    """A config.json's options in JSON's own spellings (1e-05, Infinity: YAML 1.1 reads both as strings) are the
    numbers --env-kwargs gives: no note for the same options, and a note's flag that --env-kwargs takes back."""
    import json

    from rl_zoo.config import parse_env_kwargs
    from rl_zoo.train_command import note_config_env_kwargs

    path = tmp_path / "config.json"
    options = {"tau": 1e-05, "x_threshold": float("inf")}
    path.write_text(json.dumps({"algo": "ppo", "env": "CartPole-v1", "config": {}, "env_kwargs": options}))
    assert "1e-05" in path.read_text() and "Infinity" in path.read_text()
    note_config_env_kwargs(str(path), parse_env_kwargs(["tau=0.00001", "x_threshold=.inf"]))
    assert capsys.readouterr().err == ""
    note_config_env_kwargs(str(path), {})
    err = capsys.readouterr().err.replace("\n", " ")
    flag = err.split("give --env-kwargs ")[1].split(" for the same env")[0]
    assert parse_env_kwargs(shlex.split(flag)) == options


# --- rl-zoo envs ID: what options an env takes ------------------------------------------------------
def test_a_ports_options_are_its_constructors_and_its_params_numbers():
    from envs.options import TIME_LIMIT_RULE, Option, env_options

    backend, options = env_options("CartPole-v1")
    assert backend == "jax" and Option("max_steps_in_episode", 500, "time limit", TIME_LIMIT_RULE) in options
    assert Option("length", 0.5, "params", "> 0") in options  # a port's rule (EnvParams.POSITIVE)
    assert Option("gravity", 9.8, "params") in options and Option("masspole", 0.1, "params", ">= 0") in options
    backend, options = env_options("FrozenLake8x8-v1")  # registered with map_name="8x8": that is its default
    assert Option("map_name", "8x8", "constructor", "4x4, 8x8, or null (a random 8x8 map, drawn once)") in options
    assert Option("is_slippery", True, "constructor", "true or false") in options
    assert Option("max_steps_in_episode", 200, "time limit", TIME_LIMIT_RULE) in options
    assert {o.kind for o in options} == {"constructor", "time limit"}  # its tables (arrays) are no options


def test_a_gymnasium_envs_options_are_its_keyword_arguments():
    from envs.options import TIME_LIMIT_RULE, Option, env_options

    assert env_options("CartPole-v1", "gymnasium") == ("gymnasium", [Option("sutton_barto_reward", False, "gymnasium.make"),
                                                                     Option("max_episode_steps", 500, "time limit", TIME_LIMIT_RULE)])
    with pytest.raises(ValueError, match="Unknown environment id"):
        env_options("CartPol-v1")


@pytest.mark.parametrize("backend", ["jax", "gymnasium"])
def test_every_option_listed_is_taken_at_its_default(backend):
    import envs
    from envs.options import env_options, option_text

    for env_id in envs.list():
        if backend == "gymnasium" and env_id not in ("CartPole-v1", "Acrobot-v1", "Pendulum-v1", "FrozenLake-v1", "Taxi-v4"):
            continue
        for option in env_options(env_id, backend)[1]:
            name = "max_episode_steps" if option.kind == "time limit" else option.name
            pasted = parse_env_kwargs([f"{name}={option_text(option.default)}"])  # as `rl-zoo envs ID` prints it
            assert pasted == {name: option.default}
            envs.make(env_id, backend=backend, **check_env_kwargs(pasted))


def test_rl_zoo_envs_id_prints_the_options(capsys):
    assert main(["envs", "CartPole-v1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^gravity +9\.8 +params$", out, re.M) and re.search(r"^length +0\.5 +params +> 0$", out, re.M)
    assert re.search(r"^max_episode_steps +500 +time limit +integer 1 \.\. 2\*\*31-1, or null$", out, re.M)
    assert re.search(r"^sutton_barto_reward +false +constructor +true or false$", out, re.M)  # gymnasium's one option, the port's too
    assert ("gymnasium's own CartPole-v1 takes no option the port lacks (rl-zoo envs CartPole-v1 --backend gymnasium "
            "lists its own)") in out
    assert main(["envs", "CartPole-v1", "--backend", "gymnasium"]) == 0
    assert re.search(r"^sutton_barto_reward +false +gymnasium\.make$", capsys.readouterr().out, re.M)
    assert main(["envs", "CartPole-v1", "--all"]) == 2
    assert main(["envs", "--backend", "jax"]) == 2
    assert main(["envs", "CartPol-v1"]) == 2 and "Unknown environment id" in capsys.readouterr().err


def test_a_gymnasium_constructors_assertion_is_refused_in_one_line(tmp_path, capsys):
    pytest.importorskip("Box2D")
    out = tmp_path / "run"
    assert main(["train", "--env", "LunarLander-v3", "--env-kwargs", "gravity=5", "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: --env-kwargs gravity=5: refused by LunarLander-v3: AssertionError") and "Traceback" not in err
    assert not out.exists()


def test_the_options_name_the_run_in_its_summary_figure_title_and_enjoy(capped, capsys, tmp_path):
    from rl_zoo.train import RunResult, format_summary

    summary = json.loads((capped / "summary.json").read_text())
    assert summary["env_kwargs"] == {"max_episode_steps": 5}
    line = format_summary(RunResult(capped, summary, None)).splitlines()[0]
    assert line.startswith("ppo on CartPole-v1 (max_episode_steps=5): final greedy return 5.00")
    said = []
    enjoy(capped, log=said.append)
    assert said[0].startswith("ppo on CartPole-v1 (max_episode_steps=5) (jax), seed")


def test_the_config_note_quotes_each_option_for_the_shell(tmp_path, capsys):
    import shlex

    from rl_zoo.train_command import note_config_env_kwargs

    path = tmp_path / "config.json"
    path.write_text(json.dumps(_config_json(env_kwargs={"desc": ["SF", "FG"], "is_slippery": False})))
    note_config_env_kwargs(str(path), {})
    err = capsys.readouterr().err.replace("\n", " ")
    pasted = shlex.split(err.split("give --env-kwargs ", 1)[1].split(" for the same env")[0])
    assert parse_env_kwargs(pasted) == {"desc": ["SF", "FG"], "is_slippery": False}  # pasted, it reads back the same
    note_config_env_kwargs(str(path), {}, sweep=True)
    assert "this sweep's env has none (--config sets config fields only: give --env-kwargs" in capsys.readouterr().err
    path.write_text(json.dumps(_config_json(env_kwargs={"max_steps_in_episode": 5})))
    note_config_env_kwargs(str(path), {"max_episode_steps": 5})  # the same limit by gymnasium's name: no note
    assert capsys.readouterr().err == ""


def test_an_env_that_needs_an_option_to_be_made_is_listed_and_refused_in_one_line(tmp_path, capsys):
    """A gymnasium env of one's own whose constructor requires an argument: `rl-zoo envs` lists its options
    (it cannot be made with none), and a wrong option is refused in the env's words, not a traceback."""
    import gymnasium
    from gymnasium.envs.classic_control.cartpole import CartPoleEnv

    class NeedsScale(CartPoleEnv):
        def __init__(self, scale: float, render_mode=None):
            super().__init__(render_mode=render_mode)

    if "rl_zoo_test/NeedsScale-v0" not in gymnasium.registry:
        gymnasium.register("rl_zoo_test/NeedsScale-v0", entry_point=NeedsScale, max_episode_steps=50)
    assert main(["envs", "rl_zoo_test/NeedsScale-v0"]) == 0
    out = capsys.readouterr().out
    assert "it cannot be made with its default options (TypeError" in out and re.search(r"^scale +- +gymnasium\.make +required: it has no default$", out, re.M)
    assert main(["train", "--env", "rl_zoo_test/NeedsScale-v0", "--env-kwargs", "foo=1", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: --env-kwargs foo=1: refused by rl_zoo_test/NeedsScale-v0:") and "Traceback" not in err


def test_a_sweeps_best_yaml_made_with_options_is_noted_like_a_run(tmp_path, capsys):
    """best.yaml of a sweep with --env-kwargs carries its train command in a comment: train --config without
    the same options says so, with the flag."""
    from rl_zoo.sweep import make_spec
    from rl_zoo.sweep.report import train_command
    from rl_zoo.train_command import note_config_env_kwargs

    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], env_kwargs={"gravity": 12.0, "desc": ["SF", "FG"]})
    path = tmp_path / "best.yaml"
    path.write_text(f"# rl-zoo sweep: the best of 2 configs of ppo on CartPole-v1 (...), by the IQM of final returns over 8 seeds\n"
                    f"# train it on the same env: {train_command(spec)} --config best.yaml\nCartPole-v1:\n  learning_rate: 0.001\n")
    note_config_env_kwargs(str(path), {})
    err = capsys.readouterr().err.replace("\n", " ")
    assert "is the best config of a sweep whose env had the options gravity=12.0 'desc=[SF, FG]'" in err
    note_config_env_kwargs(str(path), {"gravity": 12.0, "desc": ["SF", "FG"]})
    assert capsys.readouterr().err == ""


def test_a_missing_package_is_the_envs_error_not_the_options(tmp_path):
    """An env whose package is missing failed with options too: it was said to refuse them."""
    import gymnasium
    from gymnasium.error import DependencyNotInstalled

    def needs_package(**kwargs):
        raise DependencyNotInstalled("box2d is not installed, run `pip install box2d`")

    if "rl_zoo_test/NeedsPackage-v0" not in gymnasium.registry:
        gymnasium.register("rl_zoo_test/NeedsPackage-v0", entry_point=needs_package)
    for env_kwargs in ({}, {"continuous": True}):
        with pytest.raises(ImportError, match="box2d"):
            train("ppo", "rl_zoo_test/NeedsPackage-v0", env_kwargs=env_kwargs, out=tmp_path / "run", **KW)


def test_options_from_python_may_be_numpy_numbers_and_nested_tuples():
    assert check_env_kwargs({"g": np.float32(12.0), "cam": {"lookat": (0.0, 1.5)}, "pairs": [(1, 2)]}) == {
        "g": 12.0, "cam": {"lookat": [0.0, 1.5]}, "pairs": [[1, 2]]}
    with pytest.raises(ConfigError, match=r"a list or a mapping of them\)$"):  # no shell quoting advice from Python
        check_env_kwargs({"g": object()})


def test_the_same_options_in_another_order_label_the_same_env():
    from rl_zoo.runs import env_label

    assert env_label("CartPole-v1", {"max_episode_steps": 200, "gravity": 12.0}) == env_label(
        "CartPole-v1", {"gravity": 12.0, "max_episode_steps": 200}) == "CartPole-v1 (gravity=12.0, max_episode_steps=200)"
    assert env_label("Hopper-v4", {"healthy_z_range": [0.7, math.inf]}) == "Hopper-v4 (healthy_z_range=[0.7, .inf])"


def test_rl_zoo_envs_with_backend_gymnasium_says_to_train_with_it(capsys):
    assert main(["envs", "CartPole-v1", "--backend", "gymnasium"]) == 0
    out = capsys.readouterr().out
    assert "`rl-zoo train --env CartPole-v1 --backend gymnasium --env-kwargs KEY=VALUE ...`" in out
    assert "envs.make('CartPole-v1', backend='gymnasium', KEY=VALUE)" in out


def test_rl_zoo_envs_says_which_params_a_sweep_can_trace(capsys):
    """CartPole's thresholds bound its observation space, Pendulum's max_torque its action space: one value per run;
    the physical constants the dynamics only compute with are traced (what rl-zoo sweep --grid env.NAME takes)."""
    import envs
    from envs.options import sweepable

    traced, fixed = sweepable(*envs.make("CartPole-v1"))
    assert {"gravity", "length", "masspole", "tau"} <= set(traced) and set(fixed) == {"x_threshold", "theta_threshold_radians"}
    assert "max_torque" in sweepable(*envs.make("Pendulum-v1"))[1]
    assert main(["envs", "CartPole-v1"]) == 0
    assert "rl-zoo sweep --grid env.NAME=V1,V2 traces: gravity, masscart" in capsys.readouterr().out
    assert main(["envs", "FrozenLake-v1"]) == 0 and "traces" not in capsys.readouterr().out  # no float params
