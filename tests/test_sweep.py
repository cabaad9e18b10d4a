"""rl-zoo sweep: the numeric/static split of every Config, a swept config's update against the same
config alone, errors before compiling, the best config's YAML round trip, and a small resumable sweep."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

import envs
from rl_zoo import algos
from rl_zoo.config import ConfigError, apply_overrides, numeric_fields, static_fields
from rl_zoo.sweep import make_spec, plan_sweep, report, run_sweep
from rl_zoo.sweep.runner import agent_for, traced_values

ALGOS = ["ppo", "ppo-kl", "vpg", "trpo", "dqn", "q-learning"]
SMALL = {
    "ppo": dict(num_envs=2, num_steps=8, update_epochs=1, num_minibatches=1, hidden_size=8, total_timesteps=32),
    "ppo-kl": dict(num_envs=2, num_steps=8, update_epochs=1, num_minibatches=1, hidden_size=8, total_timesteps=32),
    "vpg": dict(num_envs=2, num_steps=8, value_iters=1, hidden_size=8, total_timesteps=32),
    "trpo": dict(num_envs=2, num_steps=8, value_iters=1, value_minibatches=1, hidden_size=8, total_timesteps=32, cg_iters=2,
                 backtrack_iters=2),
    "dqn": dict(total_timesteps=64, learning_starts=0, buffer_size=64, batch_size=8, hidden_size=8, num_envs=1, train_frequency=4,
                gradient_steps=1),
    "q-learning": dict(total_timesteps=64),
}
ENV = {"q-learning": "CliffWalking-v1"}


@pytest.mark.parametrize("name", ALGOS)
def test_fields_split_by_the_rule(name):
    module, _ = algos.get(name)
    numeric, static = set(numeric_fields(module.Config)), set(static_fields(module.Config))
    fields = {f.name: f.type for f in dataclasses.fields(module.Config)}
    assert numeric | static == set(fields) and not numeric & static
    assert numeric == {n for n, t in fields.items() if t == "float"}
    assert {"total_timesteps", "num_envs"} <= static  # sizes are static everywhere
    assert {"gamma", "learning_rate"} & numeric or name == "trpo"


def test_the_fields_the_issue_names_fall_where_it_says():
    ppo, trpo, dqn = (algos.get(n)[0].Config for n in ("ppo", "trpo", "dqn"))
    assert {"learning_rate", "gamma", "gae_lambda", "clip_eps", "ent_coef", "vf_coef", "kl_target"} <= set(numeric_fields(ppo))
    assert {"num_envs", "num_steps", "hidden_size", "num_minibatches", "update_epochs", "anneal_lr", "loss", "norm_adv"} <= set(static_fields(ppo))
    assert "max_kl" in numeric_fields(trpo) and "cg_iters" in static_fields(trpo)
    assert {"epsilon_start", "epsilon_end", "exploration_fraction", "tau"} <= set(numeric_fields(dqn))
    assert {"double", "buffer_size", "batch_size", "target_update_interval"} <= set(static_fields(dqn))


@pytest.mark.slow
@pytest.mark.parametrize("name", ALGOS)
def test_every_numeric_field_can_be_traced(name):
    """Every numeric field of every algorithm at once as a vmapped array: init and one update compile."""
    module, preset = algos.get(name)
    base = apply_overrides(module.Config(), {**preset, **SMALL[name]})
    env, params = envs.make(ENV.get(name, "CartPole-v1"))
    hp = {f: jnp.array([getattr(base, f)] * 2, jnp.float32) for f in numeric_fields(base)}

    def one(h):
        agent = agent_for(module, base, env, params, h)
        return agent.update(agent.init(jax.random.key(0)))[0]

    states = jax.jit(jax.vmap(one))(hp)
    leaves = [x for x in jax.tree.leaves(states) if jnp.issubdtype(x.dtype, jnp.floating)]
    assert all(np.array_equal(np.asarray(x[0]), np.asarray(x[1]), equal_nan=True) for x in leaves)  # same values, same result


@pytest.mark.parametrize("name, grid", [pytest.param("ppo", ["learning_rate=1e-3,3e-3", "clip_eps=0.3"], marks=pytest.mark.slow),  # 2 configs, 2 traced fields (6.5 s)
                                        pytest.param("dqn", ["learning_rate=1e-4,1e-3", "gamma=0.9,0.99"], marks=pytest.mark.slow)])
def test_a_swept_config_makes_the_same_update_as_alone(name, grid):
    overrides = {k: v for k, v in SMALL[name].items() if k != "total_timesteps"}
    plan = plan_sweep(make_spec(name, "CartPole-v1", grid=grid, seeds=1, total_steps=SMALL[name]["total_timesteps"], overrides=overrides))
    (group,) = plan.groups
    env, params = envs.make("CartPole-v1")

    def swept(h):
        agent = agent_for(plan.module, group.points[0].config, env, params, h)
        return agent.update(agent.init(jax.random.key(3)))[0].params

    together = jax.jit(jax.vmap(swept))(traced_values(group, 1))
    for i, point in enumerate(group.points):
        agent = plan.module.make_agent(point.config, env, params)
        alone = jax.jit(lambda: agent.update(agent.init(jax.random.key(3)))[0].params)()
        for a, b in zip(jax.tree.leaves(alone), jax.tree.leaves(together)):
            np.testing.assert_allclose(np.asarray(b[i]), np.asarray(a), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(grid=["learning_rat=1e-3"]), "unknown config field 'learning_rat'.*did you mean 'learning_rate'"),
    (dict(grid=["learning_rate=1e-3,-1"]), "learning_rate=-1.*'learning_rate' = -1.0 is invalid: must be > 0"),
    (dict(grid=["clip_eps=0.1", "num_minibatches=1,3"]), "num_minibatches \\(int\\): static field.*--static-groups"),
    (dict(grid=["num_minibatches=3"], static_groups=True), "num_minibatches.*must divide the batch"),
    (dict(ranges=["loss=0:1"], samples=2), "only number fields take a range"),
    (dict(ranges=["learning_rate=0:1e-3:log"], samples=2), "log scale needs LOW > 0"),
    (dict(ranges=["gamma=0.5:1.5"], samples=20), "gamma.*must be in \\(0, 1\\]"),
    (dict(), "nothing to sweep"),
])
def test_bad_sweeps_are_refused_before_compiling(kwargs, message, tmp_path, monkeypatch):
    import rl_zoo.sweep

    monkeypatch.setattr(rl_zoo.sweep, "run_group", lambda *a, **k: pytest.fail("compiled a refused sweep"))
    with pytest.raises(ConfigError, match=message):
        run_sweep(make_spec("ppo", "CartPole-v1", seeds=2, **kwargs), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_static_fields_run_as_separate_groups():
    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "num_envs=4,8"], static_groups=True))
    assert [dict(g.static) for g in plan.groups] == [{"num_envs": 4}, {"num_envs": 8}]
    assert all(g.traced == ("learning_rate",) and len(g.points) == 2 for g in plan.groups)


def test_best_yaml_round_trips_through_set_and_the_hyperparams_loader(tmp_path, monkeypatch):
    from rl_zoo.cli import _parse_sets
    from rl_zoo.driver import spec as driver_spec
    from rl_zoo.train import resolve_config

    plan = plan_sweep(make_spec("ppo-kl", "CartPole-v1", grid=["learning_rate=3.3e-4", "kl_target=0.02"], total_steps=40_960))
    chosen = plan.points[0].config
    text = report.best_yaml(plan.spec, chosen, plan.default)
    block = yaml.safe_load(text)["CartPole-v1"]
    assert block["learning_rate"] == 3.3e-4 and block["kl_target"] == 0.02 and "loss" not in block  # the preset stays implied
    assert apply_overrides(plan.default, block) == chosen
    assert resolve_config("ppo-kl", "CartPole-v1", _parse_sets([f"{k}={v}" for k, v in block.items()]))[1] == chosen
    (tmp_path / "ppo-kl.yaml").write_text(text)
    monkeypatch.setattr(driver_spec, "HYPERPARAMS_DIR", tmp_path)
    assert resolve_config("ppo-kl", "CartPole-v1")[1] == chosen


def test_a_small_sweep_writes_its_outputs_and_a_rerun_does_no_work(tmp_path, monkeypatch, capsys):
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512, num_evals=2,
                     eval_episodes=1, overrides=dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8))
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    assert result.trained_groups == 1
    for name in ("runs.csv", "configs.csv", "curves.csv", "curves.png", "sensitivity.png", "report.md", "best.yaml", "sweep.json"):
        assert (tmp_path / name).stat().st_size > 0
    rows = (tmp_path / "runs.csv").read_text().splitlines()
    assert rows[0] == "config,learning_rate,group,seed,final_return,auc,steps_to_threshold" and len(rows) == 1 + 2 * 2
    assert result.results[0].returns.shape == (2, 2, 3)  # configs, seeds, evaluations (0 and 2 segments)
    assert "IQM of final returns" in (tmp_path / "report.md").read_text()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    import rl_zoo.sweep

    monkeypatch.setattr(rl_zoo.sweep, "run_group", lambda *a, **k: pytest.fail("a finished sweep trained again"))
    again = run_sweep(spec, tmp_path, log=lambda s: None)
    assert again.trained_groups == 0
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == before
    other = dataclasses.replace(spec, seeds=3)
    with pytest.raises(ConfigError, match="holds a different sweep"):
        run_sweep(other, tmp_path, log=lambda s: None)
    from rl_zoo.cli import main

    assert main(["plot", str(tmp_path)]) == 2  # rl-zoo plot points at the sweep's own command
    assert "is a sweep folder: run its `rl-zoo sweep` command again" in capsys.readouterr().err


@pytest.mark.slow  # 9-14 s each; the default run sweeps over 4 devices in one process (tests/test_sharding.py)
@pytest.mark.parametrize("halving", [[], ["--successive-halving", "2", "--rungs", "2"]], ids=["grid", "halving"])
def test_the_sweep_command_runs_its_rows_split_over_cpu_devices(tmp_path, halving):
    """`rl-zoo sweep` splits the CPU into devices (``rl_zoo.distributed.split_cpu``): every program keeps
    the rows sharded from one segment to the next (a replicated output once broke the second segment)."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("JAX_NUM_CPU_DEVICES", "XLA_FLAGS")}
    cmd = [sys.executable, "-m", "rl_zoo.cli", "sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", "learning_rate=1e-3,3e-3",
           "--grid", "clip_eps=0.1,0.2", "--seeds", "2", "--total-steps", "1024", "--evals", "2", "--eval-episodes", "1",
           "--set", "num_envs=2", "--set", "num_steps=64", "--set", "hidden_size=8", "--out", str(tmp_path / "s"), *halving]
    out = subprocess.run(cmd, env=dict(env, RL_ZOO_CPU_DEVICES="2", JAX_PLATFORMS="cpu"), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "(2 device(s))" in out.stdout or halving
    runs_csv = (tmp_path / "s" / "runs.csv").read_text().splitlines()
    assert len(runs_csv) == 1 + 4 * 2
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())


def test_rows_per_program_is_what_every_program_of_the_sweep_holds_a_multiple_of():
    from rl_zoo.sweep.command import parse, rows_per_program

    def rows(*argv):
        return rows_per_program(parse(["sweep", *argv]))

    assert rows("--grid", "learning_rate=1e-3,3e-3", "--grid", "clip_eps=0.1,0.2,0.3", "--seeds", "5") == 30  # one program, 6 x 5
    assert rows("--grid", "hidden_size=8,16", "--grid", "learning_rate=1e-3,3e-3,1e-2", "--static-groups", "--seeds", "3") == 9  # 2 programs of 3 x 3
    assert rows("--grid", "learning_rate=1e-3,3e-3,1e-2,3e-2", "--seeds", "5", "--successive-halving", "2") == 5  # rungs keep fewer configs
    assert rows("--grid", "no_such_field=1,2", "--seeds", "5") == 5  # refused later, by the command
