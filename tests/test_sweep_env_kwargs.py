"""rl-zoo sweep --env-kwargs: every config trains on the env made with the options (CartPole-v1's time limit of
5 steps: every greedy return is exactly 5.0, whatever the policy and the rounding), sweep.json records them, a
sweep.json written before the field existed reads as a sweep without options, a re-run with other options is
refused as a different sweep, a refused option stops the sweep before its folder is made, and the report's and
best.yaml's train command carries the options."""

from __future__ import annotations

import dataclasses
import json
import shlex

import numpy as np
import pytest

from rl_zoo.cli import main
from rl_zoo.config import ConfigError, parse_env_kwargs
from rl_zoo.sweep import check_folder, make_spec, plan_sweep, report, run_sweep

TINY = dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8)  # as test_sweep.py's small sweep
CAPPED = {"max_episode_steps": 5}


def tiny_spec(**kwargs):
    return make_spec("ppo", "CartPole-v1", **{**dict(grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512, num_evals=2,
                                                     eval_episodes=1, overrides=TINY), **kwargs})


@pytest.fixture(scope="module")
def capped(tmp_path_factory, request):
    """One tiny sweep (2 configs x 2 seeds from --seed-offset, 512 env steps) on CartPole-v1 with a time limit of 5 steps."""
    out = tmp_path_factory.mktemp("capped")
    spec = tiny_spec(env_kwargs=CAPPED, seed=request.config.getoption("--seed-offset"))
    return spec, out, run_sweep(spec, out, log=LOGGED.append)


LOGGED: list[str] = []  # what the capped sweep said


def test_the_env_ids_threshold_is_said_to_be_measured_without_the_options(capped):
    assert ('note: the threshold for "reached" is CartPole-v1\'s, 475, measured without --env-kwargs: give --threshold '
            'for what a return means on CartPole-v1 (max_episode_steps=5)') in LOGGED


def test_every_config_trains_and_is_evaluated_on_the_env_made_with_the_options(capped):
    spec, out, result = capped
    returns = result.results[0].returns  # [configs, seeds, evaluations]
    assert returns.shape == (2, 2, 3) and np.all(returns == 5.0)  # CartPole's 500-step limit would give more by chance only
    assert {row.split(",")[4] for row in (out / "runs.csv").read_text().splitlines()[1:]} == {"5.0"}


def test_sweep_json_records_the_options_and_the_same_command_does_no_work(capped):
    spec, out, _ = capped
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["spec"]["env_kwargs"] == CAPPED and saved["digest"] == spec.digest()
    assert run_sweep(tiny_spec(env_kwargs=dict(CAPPED), seed=spec.seed), out, log=lambda s: None).trained_groups == 0


@pytest.mark.parametrize("options, said", [({"max_episode_steps": 6}, '{"max_episode_steps": 5} -> {"max_episode_steps": 6}'),
                                           ({}, '{"max_episode_steps": 5} -> {}')])
def test_a_rerun_with_other_options_is_another_sweep_refused_naming_them(capped, options, said, capsys):
    spec, out, _ = capped
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(ConfigError, match=f"holds a different sweep \\(sweep.json -> this command: env_kwargs: {said}\\)"):
        run_sweep(tiny_spec(env_kwargs=options, seed=spec.seed), out, log=lambda s: None)
    argv = ["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "2", "--seed", str(spec.seed), "--total-steps", "512", "--evals", "2", "--eval-episodes", "1",
            *(a for k, v in TINY.items() for a in ("--set", f"{k}={v}")), "--out", str(out), "--dry-run"]
    assert main(argv + (["--env-kwargs", *(f"{k}={v}" for k, v in options.items())] if options else [])) == 2
    assert f"env_kwargs: {said}" in capsys.readouterr().err
    assert main(argv + ["--env-kwargs", "max_episode_steps=5"]) == 0  # its own options: this sweep
    assert "(it holds this sweep" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_a_sweep_json_written_before_the_field_reads_as_no_options(tmp_path):
    """A sweep without options is written as before the field existed (its digest, pinned here, unchanged), and
    such a sweep.json is this command's sweep without --env-kwargs, and another's with them."""
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512)
    assert "env_kwargs" not in spec.to_json() and spec.digest() == "d8b5f040f42351cc"  # the digest before the field
    plan = plan_sweep(spec)
    (tmp_path / "sweep.json").write_text(json.dumps(dict(digest="d8b5f040f42351cc", spec=spec.to_json(),
                                                         base_config=dataclasses.asdict(plan.base)), default=str))
    assert check_folder(tmp_path, spec, plan, rerun=False)  # the same sweep: a re-run trains only what is missing
    gravity = dataclasses.replace(spec, env_kwargs={"gravity": 12.0})
    with pytest.raises(ConfigError, match=r'env_kwargs: \{\} -> \{"gravity": 12.0\}\)'):
        check_folder(tmp_path, gravity, plan_sweep(gravity), rerun=False)


def test_sweep_json_records_the_env_params_and_a_changed_default_is_another_sweep(capped, tmp_path, capsys):
    """The same command after a release changed a port's constant (CartPole's pole half-length 0.5, here as if it
    had been 0.4 when the sweep ran) is refused as another sweep; a swept ``env.length`` is not compared."""
    import envs

    spec, out, _ = capped
    saved = json.loads((out / "sweep.json").read_text())
    assert saved["env_params"]["max_steps_in_episode"] == 5 and saved["env_params"]["length"] == 0.5
    saved["env_params"]["length"] = 0.4
    (tmp_path / "sweep.json").write_text(json.dumps(saved))
    env_params = envs.make("CartPole-v1", **CAPPED)[1]
    with pytest.raises(ConfigError, match=r"with other params \(the env's defaults changed since; sweep.json -> now: "
                                          r"length: 0.4 -> 0.5\)"):
        check_folder(tmp_path, spec, plan_sweep(spec), rerun=False, env_params=env_params)
    assert not check_folder(tmp_path, spec, plan_sweep(spec), rerun=True, env_params=env_params)
    argv = ["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "2", "--seed", str(spec.seed), "--total-steps", "512", "--evals", "2", "--eval-episodes", "1",
            *(a for k, v in TINY.items() for a in ("--set", f"{k}={v}")), "--env-kwargs", "max_episode_steps=5",
            "--out", str(tmp_path), "--dry-run"]
    assert main(argv) == 2 and "length: 0.4 -> 0.5" in capsys.readouterr().err  # the dry run refuses as the run does
    swept = dataclasses.replace(spec, grid=spec.grid + make_spec("ppo", "CartPole-v1", grid=["env.length=0.4,0.5"]).grid)
    saved["spec"], saved["digest"] = swept.to_json(), swept.digest()
    (tmp_path / "sweep.json").write_text(json.dumps(saved))
    assert check_folder(tmp_path, swept, plan_sweep(swept), rerun=False, env_params=env_params)  # its values are the sweep's


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["run", "dry-run"])
@pytest.mark.parametrize("options, message", [
    (["gravty=12"], "--env-kwargs gravty=12: refused by CartPole-v1: .*did you mean gravity"),
    (["max_episode_steps=-3"], "--env-kwargs max_episode_steps=-3: refused by CartPole-v1: .*must be a positive integer"),
    (["gravity"], "--env-kwargs expects KEY=VALUE pairs"),
    (["render_mode=human"], "render_mode is not an option of a run's env"),
])
def test_a_refused_option_stops_the_sweep_before_its_folder_is_made(options, message, dry_run, tmp_path, capsys):
    import re

    out = tmp_path / "s"
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "1", "--env-kwargs", *options, "--out", str(out), *dry_run]) == 2
    assert re.search(message, capsys.readouterr().err) and not out.exists()


def test_a_refused_option_from_python_is_a_config_error_before_writing(tmp_path):
    with pytest.raises(ConfigError, match="refused by FrozenLake-v1: .*map_name"):
        run_sweep(make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5"], seeds=1,
                            env_kwargs={"map_name": "9x9"}), tmp_path / "s", log=lambda s: None)
    with pytest.raises(ConfigError, match="--env-kwargs must map option names to values"):
        make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], env_kwargs=[("gravity", 12.0)])
    assert not (tmp_path / "s").exists()


def test_the_dry_run_and_help_show_the_options(tmp_path, capsys):
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "1", "--env-kwargs", "max_episode_steps=200",
                 "gravity=12.0", "--out", str(tmp_path / "s"), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "env: CartPole-v1 (gravity=12.0, max_episode_steps=200), made with --env-kwargs max_episode_steps=200 gravity=12.0"
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--env-kwargs KEY=VALUE [KEY=VALUE ...]" in text and "takes no --env-kwargs" not in text


def test_the_report_and_best_yaml_name_the_env_with_its_options_and_train_with_them(capped):
    spec, out, _ = capped
    text = (out / "report.md").read_text()
    assert text.startswith("# Sweep: ppo on CartPole-v1 (max_episode_steps=5)\n")
    assert f"`rl-zoo train --algo ppo --env CartPole-v1 --env-kwargs max_episode_steps=5 --config {out / 'best.yaml'}`" in text
    assert "`rl-zoo train --algo ppo --env CartPole-v1 --env-kwargs max_episode_steps=5 --seed 1000 --seeds 10 --set ...`" in text
    best = (out / "best.yaml").read_text().splitlines()
    assert best[0].startswith("# rl-zoo sweep: the best of 2 configs of ppo on CartPole-v1 (max_episode_steps=5), by the IQM")
    assert best[1] == "# train it on the same env: rl-zoo train --algo ppo --env CartPole-v1 --env-kwargs max_episode_steps=5 --config best.yaml"
    from rl_zoo.driver.config_file import read_config_file

    assert read_config_file(out / "best.yaml", "ppo", "CartPole-v1")["learning_rate"] in (1e-3, 3e-3)
    with pytest.raises(ConfigError, match="is a sweep's best config of ppo"):  # its first line is still read with the options
        read_config_file(out / "best.yaml", "dqn", "CartPole-v1")


def test_the_train_command_shell_quotes_each_option_so_that_it_reads_back_the_same():
    options = {"desc": ["SF", "FG"], "is_slippery": False, "map_name": "4x4", "bound": float("inf")}
    spec = make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5"], env_kwargs=options)
    command = report.train_command(spec)
    words = shlex.split(command)
    assert words[:7] == ["rl-zoo", "train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--env-kwargs"]
    assert parse_env_kwargs(words[7:]) == options
    assert report.train_command(make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5"])) == (
        "rl-zoo train --algo q-learning --env FrozenLake-v1")


def test_config_of_a_run_with_options_is_noted_unless_the_sweep_has_the_same(tmp_path, capsys):
    from rl_zoo.algos import ppo
    from rl_zoo.driver.spec import RunSpec
    from rl_zoo.sweep.command import parse, spec_from_args

    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(RunSpec(algo="ppo", env_id="CartPole-v1", config=ppo.Config()).to_json(), env_kwargs=CAPPED)))
    argv = ["sweep", "--grid", "learning_rate=1e-3,3e-3", "--config", str(path)]
    spec = spec_from_args(parse(argv), notes=True)
    err = " ".join(capsys.readouterr().err.split())
    assert spec.env_kwargs == {} and ("this sweep's env has none (--config sets config fields only: give --env-kwargs "
                                      "max_episode_steps=5 for the same env)") in err
    spec = spec_from_args(parse(argv + ["--env-kwargs", "max_episode_steps=5"]), notes=True)
    assert spec.env_kwargs == CAPPED and "env had the options" not in capsys.readouterr().err
    spec_from_args(parse(argv + ["--env-kwargs", "max_episode_steps=6"]), notes=True)
    assert "this sweep's env has other ones" in " ".join(capsys.readouterr().err.split())


def test_an_option_that_draws_the_env_at_random_is_refused_naming_a_draw_to_give(tmp_path):
    """FrozenLake's map_name=null draws a map at each make: a resumed sweep, or its best config trained, would play another."""
    with pytest.raises(ConfigError, match=r"--env-kwargs map_name=null draws part of the env at random at each make: .*"
                                          r"such as this draw's --env-kwargs 'desc=\[S"):
        run_sweep(make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.2"], total_steps=2000,
                            env_kwargs={"map_name": None}), tmp_path / "s")
    assert not (tmp_path / "s").exists()
