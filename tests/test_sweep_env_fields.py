"""rl-zoo sweep over the env's own numbers (``--grid env.tau=0.02,0``): each row steps and is evaluated on its
own env in the one program, crossed with a config field the best is a setting of the config fields scored over every
env value, with only env fields swept there is no best (and no best.yaml), and what cannot be traced is refused
before anything compiles or is written.

CartPole-v1 with a time step ``tau`` of 0 never moves, so every episode lasts to the time limit: a greedy return of
exactly 500.0 whatever the policy and the rounding; with the default 0.02 an untrained greedy policy (the evaluation
before training) lets the pole fall long before that."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import yaml

from envs.classic_control.cartpole import CartPoleParams
from rl_zoo import stats
from rl_zoo.cli import main
from rl_zoo.config import ConfigError
from rl_zoo.sweep import check_sweep, make_spec, plan_sweep, report, run_sweep
from rl_zoo.sweep.env_fields import members, settings, settings_section, worst_value
from rl_zoo.sweep.runner import row_params
from rl_zoo.sweep.spec import BEST_YAML_HEADER, Point, RangeField, parse_grid, parse_range

TINY = dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8)  # as test_sweep_env_kwargs.py's
EDGE = "env.tau=0.02,0"


def tiny_spec(grid, **kwargs):
    return make_spec("ppo", "CartPole-v1", **{**dict(grid=grid, seeds=2, total_steps=512, num_evals=2, eval_episodes=1,
                                                     overrides=TINY), **kwargs})


@pytest.fixture(scope="module")
def crossed(tmp_path_factory, request):
    """2 learning rates x 2 values of tau x 2 seeds (from --seed-offset), 512 env steps, in one program."""
    out = tmp_path_factory.mktemp("crossed")
    seed = request.config.getoption("--seed-offset")
    return out, run_sweep(tiny_spec([EDGE, "learning_rate=1e-3,3e-3"], seed=seed), out, log=lambda s: None)


def test_each_row_steps_and_is_evaluated_on_its_own_env(crossed):
    _, result = crossed
    returns = result.results[0].returns  # [configs, seeds, evaluations]; configs: tau-major
    taus = [dict(p.values)["env.tau"] for p in result.plan.groups[0].points]
    assert returns.shape == (4, 2, 3) and taus == [0.02, 0.02, 0.0, 0.0]
    assert np.all(returns[2:] == 500.0) and np.any(returns[:2, :, 0] < 500.0)  # before training: 4 untrained policies


def test_the_best_is_a_setting_of_the_config_fields_scored_over_every_env_value(crossed, seed_offset):
    out, result = crossed
    best = result.best
    assert [name for name, _ in best.point.values] == ["learning_rate"] and len(best.final) == 4  # 2 seeds x 2 envs
    assert [m.point.index for m in members(best, list(result.summaries))] == [c for c in range(4) if c % 2 == best.point.index % 2]
    header, body = (out / "best.yaml").read_text().split("\n", 1)
    assert f"by the mean over 2 values of env.tau of the IQM of final returns over 2 seeds (seeds {seed_offset}-{seed_offset + 1})" in header
    assert BEST_YAML_HEADER.match(header)
    assert not any(k.startswith("env") for k in yaml.safe_load(body)["CartPole-v1"])
    text = (out / "report.md").read_text()
    assert text.count("**best**") == 2 and "| config | env.tau | learning_rate |" in text
    assert f"Best: {best.point.label()} (configs " in text and "`best.yaml` holds the config fields only" in text
    assert "## Settings of learning_rate over the env values" in text and "| env.tau=0.02 | env.tau=0 |" in text
    assert (out / "runs.csv").read_text().startswith("config,env.tau,learning_rate,group,seed,")


def test_with_only_env_fields_swept_there_is_no_best_config(tmp_path, capsys):
    argv = ["sweep", "--grid", EDGE, "--seeds", "2", "--total-steps", "512", "--evals", "2", "--eval-episodes", "1",
            *(a for k, v in TINY.items() for a in ("--set", f"{k}={v}")), "--out", str(tmp_path / "s")]
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert "config 1 (env.tau=0): IQM of final returns 500.0 [500.0, 500.0]" in said and "best" not in said
    assert not (tmp_path / "s" / "best.yaml").exists()
    assert "## Across the env's params" in (tmp_path / "s" / "report.md").read_text()


def summary(i, values, final):
    """A config's summary as `report.summarize` makes one (its interval left at 0: not read here)."""
    return report.ConfigSummary(Point(i, values, None), 0, np.array(final, float), np.zeros(len(final)),
                                np.full(len(final), np.nan), float(stats.iqm(final)), 0.0, 0.0, 512)


def test_a_setting_is_scored_by_the_mean_over_env_values_of_its_iqm_at_each():
    spec = tiny_spec([EDGE, "learning_rate=1e-3,3e-3"])
    summaries = [summary(0, (("env.tau", 0.02), ("learning_rate", 1e-3)), [1.0, 2.0]),
                 summary(1, (("env.tau", 0.02), ("learning_rate", 3e-3)), [9.0, 9.0]),
                 summary(2, (("env.tau", 0.0), ("learning_rate", 1e-3)), [3.0, 10.0]),
                 summary(3, (("env.tau", 0.0), ("learning_rate", 3e-3)), [9.0, 9.0])]
    first = settings(summaries, spec)[0]
    assert first.point.values == (("learning_rate", 1e-3),) and first.point.index == 0
    assert first.final.tolist() == [1.0, 2.0, 3.0, 10.0] and first.iqm == 4.0  # (1.5 + 6.5) / 2; the runs pooled: 2.5
    assert [m.point.index for m in members(first, summaries)] == [0, 2]
    assert settings(summaries, tiny_spec(["learning_rate=1e-3,3e-3"])) is summaries


def test_a_setting_that_collapses_on_one_env_value_loses_to_one_that_holds_on_all():
    """500 on four of five pole lengths and 0 on the fifth: the IQM of its 20 runs pooled trims the four zeros away
    (500); the mean over the lengths of each one's IQM is 400, below a setting at 480 everywhere."""
    spec = tiny_spec(["env.length=0.25,0.5,1,2,4", "learning_rate=1e-3,3e-3"])
    summaries = [summary(2 * i + j, (("env.length", x), ("learning_rate", lr)), [final] * 4)
                 for i, x in enumerate([0.25, 0.5, 1.0, 2.0, 4.0]) for j, (lr, final) in
                 enumerate([(1e-3, 0.0 if x == 4.0 else 500.0), (3e-3, 480.0)])]
    ranked, chosen = report.choose(summaries, spec)
    assert [r.iqm for r in ranked] == [480.0, 400.0] and chosen.point.values == (("learning_rate", 3e-3),)
    text = settings_section(ranked, summaries, spec)
    assert "| learning_rate=0.001 | 400.0 [400.0, 400.0] | env.length=4: 0.0 | 500.0 | 500.0 | 500.0 | 500.0 | 0.0 | 0/20 |" in text


def test_row_params_sets_the_swept_env_fields_only():
    params = CartPoleParams()
    assert row_params(params, {"env.gravity": 20.0, "learning_rate": 1e-3}) == dataclasses.replace(params, gravity=20.0)
    assert row_params(params, {"learning_rate": 1e-3}) is params


@pytest.mark.parametrize("text, said", [("env.gravity=9.8,x", "'x' is not a number"),
                                        # it said "env.is_slippery is a number field of the env's params"
                                        ("env.is_slippery=true,false", "'true' is not a number: env.is_slippery can only "
                                         "sweep a float field.*--env-kwargs is_slippery=VALUE"),
                                        ("env.=1,2", "names no field of the env's params"),
                                        ("env.gravity=1,inf", "'inf' is not a finite number")])
def test_values_that_are_not_finite_numbers_are_refused(text, said):
    with pytest.raises(ConfigError, match=said):
        parse_grid(text, None)


def test_an_env_range_is_a_float_range():
    assert parse_range("env.length=0.25:1:log", None) == RangeField("env.length", 0.25, 1.0, True)


def test_sampling_env_and_config_ranges_together_is_refused():
    """Each sampled config would meet one env value of its own; an env grid crossed with sampled configs is fine."""
    with pytest.raises(ConfigError, match="each sampled config would meet one env value of its own.*--grid env.length="):
        plan_sweep(make_spec("ppo", "CartPole-v1", ranges=["env.length=0.25:2", "learning_rate=1e-4:1e-3"], samples=3))
    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["env.length=0.25,2"], ranges=["learning_rate=1e-4:1e-3"], samples=3))
    assert len(plan.points) == 6


def test_the_settings_table_gives_returns_the_decimals_of_the_report_s_other_table(tmp_path):
    """MountainCarContinuous's "do nothing" scores about -0.03: one decimal printed every setting as -0.0."""
    from rl_zoo.sweep.runner import GroupResult
    from rl_zoo.sweep.spec import Group

    spec = tiny_spec(["env.length=0.25,0.5", "learning_rate=1e-3,3e-3"])
    values = [(("env.length", x), ("learning_rate", lr)) for x in (0.25, 0.5) for lr in (1e-3, 3e-3)]
    groups = [Group(0, (), ("env.length", "learning_rate"), tuple(Point(i, v, None) for i, v in enumerate(values)))]
    curves = np.zeros((4, 2, 2))
    curves[:, :, 1] = np.array([-0.031, -0.042, -0.053, -0.061])[:, None]
    results = [GroupResult(np.array([0, 10]), curves, 0.0, 0.0, 1)]
    summaries = report.summarize(groups, results, None)
    text = report.write_report(tmp_path, report.ReportInputs(spec, groups, results, summaries, None, "", [])).read_text()
    assert "| learning_rate=0.001 | -0.042 [-0.042, -0.042] | env.length=0.5: -0.053 | -0.031 | -0.053 | 0/4 |" in text


def test_the_worst_env_value_is_a_nan_wherever_it_sits():
    assert worst_value({"g=1": 3.0, "g=2": float("nan"), "g=3": 1.0}) == "g=2"
    assert worst_value({"g=1": 3.0, "g=2": 2.0, "g=3": 1.0}) == "g=3"


def test_no_best_when_every_setting_diverged_at_some_env_value(tmp_path):
    """Each learning rate diverged at one pole length, while a config of each stayed finite: not every config
    diverged (exit 3), but no setting is eligible: no best, and the report says why."""
    from rl_zoo.sweep.runner import GroupResult
    from rl_zoo.sweep.spec import Group

    spec = tiny_spec(["env.length=0.25,0.5", "learning_rate=1e-3,3e-3"])
    values = [(("env.length", x), ("learning_rate", lr)) for x in (0.25, 0.5) for lr in (1e-3, 3e-3)]
    points = tuple(Point(i, v, None) for i, v in enumerate(values))
    finite = np.ones((4, 2, 2), bool)
    finite[0, 1, 1] = finite[3, 0, 1] = False  # lr 1e-3 at length 0.25, lr 3e-3 at length 0.5: one seed each
    groups = [Group(0, (), ("env.length", "learning_rate"), points)]
    results = [GroupResult(np.array([0, 10]), np.full((4, 2, 2), 9.0), 0.0, 0.0, 1, finite=finite)]
    summaries = report.summarize(groups, results, None)
    ranked, chosen = report.choose(summaries, spec)
    assert chosen is None and [r.non_finite for r in ranked] == [1, 1]
    text = report.write_report(tmp_path, report.ReportInputs(spec, groups, results, summaries, None, "", [])).read_text()
    assert "No setting of learning_rate kept finite parameters at every value of env.length" in text
    assert "Not eligible: config(s) 0, 3" in text and "| 0/4 |" not in text


@pytest.mark.parametrize("flags, said", [
    (["--grid", "env.length=0,0.5"], "sweep config env.length=0: refused by CartPole-v1: length = 0 must be > 0"),
    # passed "> 0" as a Python float and trained as a pole of length 0 (float32): diverged
    (["--grid", "env.length=1e-50,0.5"], "sweep config env.length=1e-50: refused by CartPole-v1: length = 1e-50 is 0 in float32"),
    (["--range", "env.gravity=1e39:1e40", "--sample", "2"], "refused by CartPole-v1: gravity = .*e\\+39 overflows float32"),
])
def test_a_value_the_env_refuses_is_refused_before_compiling(flags, said, tmp_path, capsys):
    assert main(["sweep", *flags, "--out", str(tmp_path / "s")]) == 2
    assert re.search(said, capsys.readouterr().err)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("env_id, grid, kwargs, said", [
    ("CartPole-v1", "env.gravty=9.8,12", {}, r"no field 'gravty' \(did you mean env.gravity\?\)"),
    ("CartPole-v1", "env.max_steps_in_episode=100,200", {}, "an integer, not a float.*--env-kwargs max_episode_steps=VALUE"),
    ("CartPole-v1", "env.gravity=9.8,12", {"env_kwargs": {"gravity": 11.0}}, "--env-kwargs fixes gravity, which env.gravity sweeps"),
    ("CartPole-v1", "env.gravity=9.8,12", {"halving_eta": 2}, "--successive-halving ranks configs on one env"),
    ("CartPole-v1", "env.max_episode_steps=100,200", {}, "the time limit is an integer.*--env-kwargs max_episode_steps=VALUE"),
    ("FrozenLake-v1", "env.success_rate=0.3,0.5", {}, "success_rate is an option of its constructor"),
    ("CartPole-v1", "env.sutton_barto_reward=0,1", {}, r"sutton_barto_reward is an option of its constructor \(it decides "
     "what the env builds and compiles.*--env-kwargs sutton_barto_reward=VALUE"),
    ("Pendulum-v1", "env.max_torque=1,2", {}, "env.max_torque: .*needs max_torque as a concrete number.*--env-kwargs max_torque=VALUE"),
    ("CartPole-v1", "env.gravity=9.8,12", {"ranges": ["env.x_threshold=2:3"], "samples": 2},
     "env.x_threshold: .*concrete number"),  # its observation space's bound: named alone, though gravity traces
])
def test_what_a_sweep_cannot_trace_is_refused_naming_the_field(env_id, grid, kwargs, said):
    with pytest.raises(ConfigError, match=said):
        check_sweep(make_spec("q-learning" if "Frozen" in env_id else "ppo", env_id, grid=[grid], seeds=2, **kwargs))


def test_an_array_field_is_refused_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", "--algo", "q-learning", "--env", "FrozenLake-v1", "--grid", "env.reward=1,2", "--out", str(out)]) == 2
    assert "env.reward: FrozenLake-v1's reward is an array" in capsys.readouterr().err and not out.exists()


def test_the_default_threshold_is_said_to_be_the_default_envs(tmp_path):
    said: list[str] = []
    run_sweep(tiny_spec([EDGE]), tmp_path / "s", log=said.append)
    assert ('note: the threshold for "reached" is CartPole-v1\'s, 475, measured on its default params: give --threshold '
            'for what a return means as env.tau changes') in said


def test_every_config_diverged_names_the_env_values_as_a_cause():
    from rl_zoo.driver.guard import NonFiniteError

    spec = tiny_spec(["env.length=0.25,0.5"])
    summaries = [dataclasses.replace(summary(i, (("env.length", x),), [1.0, 2.0]), finite=np.array([False, True]))
                 for i, x in enumerate([0.25, 0.5])]
    with pytest.raises(NonFiniteError, match="An env value can be the cause"):
        report.choose(summaries, spec)
    ranked, chosen = report.choose(summaries[:1] + [summary(1, (("env.length", 0.5),), [1.0, 2.0])], spec)
    assert chosen is None and len(ranked) == 1  # only env params swept: no best, though one config stayed finite


def test_a_heat_map_cell_pooling_env_values_is_their_mean_of_iqms():
    from rl_zoo.sweep.figures import cell_score

    cell = [summary(0, (("env.length", 0.5), ("clip_eps", 0.1)), [500.0] * 4),
            summary(1, (("env.length", 4.0), ("clip_eps", 0.1)), [0.0] * 4)]
    assert cell_score(cell, ["env.length"]) == 250.0 and cell_score(cell, []) == 250.0
    four = cell + [summary(2 + i, (("env.length", x), ("clip_eps", 0.1)), [500.0] * 4) for i, x in enumerate([1.0, 2.0, 0.25])]
    assert cell_score(four, ["env.length"]) == 400.0 and cell_score(four, []) == 500.0  # pooled: the zeros trimmed away
