"""rl-zoo sweep: the numeric/static split of every Config, a swept config's update against the same
config alone, errors before compiling, the best config's YAML round trip, and a small resumable sweep."""

from __future__ import annotations

import dataclasses
import json
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

import envs
from rl_zoo import algos
from rl_zoo.config import ConfigError, apply_overrides, numeric_fields, static_fields
from rl_zoo.sweep import check_sweep, make_spec, plan_sweep, report, run_sweep
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


@pytest.fixture(autouse=True)
def _close_figures():
    """Tests that keep the figures (``figures._save`` patched) would leave them open in the worker."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


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
def test_every_numeric_field_can_be_traced(name, seed_offset):
    """Every numeric field of every algorithm at once as a vmapped array: init and one update compile,
    the lane of the config's own values makes the update that config makes alone, and the lane of
    values 0.9x as big makes another (the traced values reach the update; which field does is not
    separated here: test_a_swept_config_makes_the_same_update_as_alone sweeps single fields). "Another":
    not bit for bit the same (two lanes of one program given the same key and values are); DQN's one
    Adam step at learning rate 1e-4 moves its lanes ~1e-5 apart, inside allclose's tolerance (seed
    offsets 1, 2 and 5077 failed an allclose test)."""
    module, preset = algos.get(name)
    base = apply_overrides(module.Config(), {**preset, **SMALL[name]})
    env, params = envs.make(ENV.get(name, "CartPole-v1"))
    values = {f: getattr(base, f) for f in numeric_fields(base)}
    hp = {f: jnp.array([v, 0.9 * v], jnp.float32) for f, v in values.items()}

    def one(h):
        agent = agent_for(module, base, env, params, h)
        return agent.update(agent.init(jax.random.key(seed_offset)))[0]

    floats = lambda states: [np.asarray(x) for x in jax.tree.leaves(states) if jnp.issubdtype(x.dtype, jnp.floating)]  # noqa: E731
    lanes = floats(jax.jit(jax.vmap(one))(hp))
    alone = floats(jax.jit(one)({f: jnp.float32(v) for f, v in values.items()}))
    for x, y in zip(lanes, alone, strict=True):
        np.testing.assert_allclose(x[0], y, rtol=1e-4, atol=1e-5)
    assert any(not np.array_equal(x[0], x[1], equal_nan=True) for x in lanes)


@pytest.mark.parametrize("name, grid", [pytest.param("ppo", ["learning_rate=1e-3,3e-3", "clip_eps=0.3"], marks=pytest.mark.slow),  # 2 configs, 2 traced fields (6.5 s)
                                        pytest.param("dqn", ["learning_rate=1e-4,1e-3", "gamma=0.9,0.99"], marks=pytest.mark.slow)])
def test_a_swept_config_makes_the_same_update_as_alone(name, grid, seed_offset):
    overrides = {k: v for k, v in SMALL[name].items() if k != "total_timesteps"}
    plan = plan_sweep(make_spec(name, "CartPole-v1", grid=grid, seeds=1, total_steps=SMALL[name]["total_timesteps"], overrides=overrides))
    (group,) = plan.groups
    env, params = envs.make("CartPole-v1")

    def swept(h):
        agent = agent_for(plan.module, group.points[0].config, env, params, h)
        return agent.update(agent.init(jax.random.key(3 + seed_offset)))[0].params

    together = jax.jit(jax.vmap(swept))(traced_values(group, 1))
    for i, point in enumerate(group.points):
        agent = plan.module.make_agent(point.config, env, params)
        alone = jax.jit(lambda: agent.update(agent.init(jax.random.key(3 + seed_offset)))[0].params)()
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
    (dict(ranges=["learning_rate=0:inf"], samples=3), "'learning_rate=0:inf': LOW and HIGH must be finite numbers"),
    (dict(ranges=["learning_rate=-inf:1"], samples=3), "LOW and HIGH must be finite numbers"),
    (dict(ranges=["learning_rate=1e-4:1e309:log"], samples=3), "LOW and HIGH must be finite numbers"),
    (dict(ranges=["learning_rate=nan:1"], samples=3), "LOW and HIGH must be finite numbers"),
    (dict(ranges=["learning_rate=-1e308:1e308"], samples=3), "HIGH - LOW overflows a float"),
    (dict(ranges=["learning_rate=1e-3:1.0001e-3"], samples=3), "gave only 1 distinct configs in 300 draws"),
    (dict(grid=["learning_rate=1e-4,1e-3"], overrides=dict(learning_rate=5e-2)), "--set fixes learning_rate, which --grid sweeps"),
    (dict(ranges=["gamma=0.9:0.99"], samples=2, overrides=dict(gamma=0.9)), "--set fixes gamma, which --range sweeps"),
    (dict(grid=["total_timesteps=1024,2048"], static_groups=True, total_steps=512), "--total-steps fixes total_timesteps"),
    # trained --total-steps without a word, while sweep.json kept the --set value (rl-zoo train refuses the pair)
    (dict(grid=["learning_rate=1e-4,1e-3"], total_steps=512, overrides=dict(total_timesteps=100_000)),
     "--total-steps 512 and --set total_timesteps=100000 say the same thing twice"),
    # a point that trains another algorithm (PPO-KL labelled ppo, and a best.yaml advising a --set train refuses)
    (dict(grid=["loss=clip,kl"], static_groups=True), "--algo ppo with loss='kl' is ppo-kl: use the algorithm name ppo-kl"),
    # from Python: a float count passed check_sweep, wrote sweep.json, then failed in numpy (max() of an empty sequence)
    (dict(grid=["gamma=0.9,0.99"], seeds=1.5), "--seeds = 1.5 is invalid: must be an integer"),
    (dict(grid=["gamma=0.9,0.99"], overrides=["gamma=0.9"]), "overrides must map config fields to values"),
    # the same config trained twice, or one field given two ways
    (dict(grid=["learning_rate=1e-3,0.001"]), "'learning_rate=1e-3,0.001': a value is repeated"),
    # review: an empty item was dropped without a word ("1e-3," swept one value)
    (dict(grid=["learning_rate=1e-3,"]), "'learning_rate=1e-3,': an empty value between commas"),
    (dict(grid=["env.length=0.5,,1.0"]), "'env.length=0.5,,1.0': an empty value between commas"),
    (dict(grid=["learning_rate=1e-3,1.00000001e-3"]), "a value is repeated as the sweep trains it \\(float32\\): two configs would be one"),
    (dict(grid=["gamma=0.9,0.99"], ranges=["gamma=0.9:0.99"], samples=2), "a field is swept twice: gamma, gamma"),
    # checked as Python floats and trained as float32: inf, and 0 past "> 0"
    (dict(grid=["learning_rate=1e40,1e-3"]), "learning_rate=1e\\+40: config field 'learning_rate' = 1e\\+40 overflows float32"),
    (dict(grid=["learning_rate=1e-50,1e-3"]), "learning_rate=1e-50: config field 'learning_rate' = 1e-50 is 0 in float32"),
])
def test_bad_sweeps_are_refused_before_compiling(kwargs, message, tmp_path, monkeypatch):
    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("compiled a refused sweep"))
    with pytest.raises(ConfigError, match=message):
        run_sweep(make_spec("ppo", "CartPole-v1", **{"seeds": 2, **kwargs}), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_swept_field_only_make_train_reads_is_refused(tmp_path):
    """Q-learning's evaluation fields are ignored by the driver: swept, every point trained alike."""
    with pytest.raises(ConfigError, match="swept field eval_episodes: q-learning's eval_episodes is read by its make_train only"):
        run_sweep(make_spec("q-learning", "FrozenLake-v1", grid=["eval_episodes=10,100"], static_groups=True, seeds=2),
                  tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_random_search_draws_distinct_configs():
    """Values are rounded to 4 significant digits; two draws that round alike (this search's configs 7
    and 14 once: 0.0011955 and 0.0011962) must not train one config twice."""
    plan = plan_sweep(make_spec("dqn", "CartPole-v1", ranges=["learning_rate=1e-4:3e-3:log"], samples=16, seeds=5))
    values = [p.values for g in plan.groups for p in g.points]
    assert len(values) == 16 and len(set(values)) == 16


def test_random_values_stay_in_their_ranges():
    """Rounding to 4 digits may not step past a bound (0.99999 rounded to 1.0, which TRPO refuses); ints
    are the whole numbers of the range, each as likely (the ends were half as likely when rounded)."""
    from rl_zoo.algos import dqn, trpo
    from rl_zoo.sweep.spec import RangeField, sample_values

    near_one = sample_values((RangeField("backtrack_coeff", 0.99, 0.99999, False),), 40, 5, trpo.Config())
    assert all(0.99 <= v <= 0.99999 for (v,) in near_one)
    steps = [v for (v,) in sample_values((RangeField("n_step", 1, 3, False),), 3, 0, dqn.Config())]
    assert sorted(steps) == [1, 2, 3]
    with pytest.raises(ConfigError, match="no whole number in the range"):
        sample_values((RangeField("n_step", 1.2, 1.8, False),), 1, 0, dqn.Config())
    draws = [sample_values((RangeField("n_step", 1, 3, False), RangeField("learning_rate", 1e-4, 1e-3, True)), 60, s,
                           dqn.Config()) for s in range(5)]
    counts = np.bincount([v for d in draws for (v, _) in d], minlength=4)[1:]
    assert counts.min() > 0.6 * counts.max()  # 300 draws, 1/3 each (rounding gave 1/4, 1/2, 1/4)


def test_a_log_range_draws_each_decade_alike_and_lin_is_uniform():
    """`--range learning_rate=1e-4:1e-1:log`: one decade of three below 1e-3, so a third of the draws
    (uniform draws put 0.9% there); `:lin` (or nothing) is uniform."""
    from rl_zoo.algos import dqn, ppo
    from rl_zoo.sweep.spec import RangeField, parse_range, sample_values

    draws = np.array([v for (v,) in sample_values((RangeField("learning_rate", 1e-4, 1e-1, True),), 300, 0, dqn.Config())])
    assert 0.2 < np.mean(draws < 1e-3) < 0.47  # 1/3, binomial sd 0.027 over 300 draws
    assert parse_range("learning_rate=1e-4:1e-2:log", ppo.Config()).log
    assert not parse_range("learning_rate=1e-4:1e-2:lin", ppo.Config()).log
    assert not parse_range("learning_rate=1e-4:1e-2", ppo.Config()).log


def test_fields_added_to_the_sweep_spec_later_stay_out_of_an_earlier_sweeps_digest():
    """sweep.json of a sweep without --halving-eta, --halving-rungs or --record is what it was before those
    options existed, so an existing sweep folder is not read as a different sweep."""
    from rl_zoo.sweep.spec import SweepSpec

    assert not {"halving_eta", "halving_rungs", "record"} & set(SweepSpec("ppo", "CartPole-v1").to_json())
    assert SweepSpec("ppo", "CartPole-v1", record=("kl",)).to_json()["record"] == ("kl",)


def test_a_sweep_trained_in_part_along_other_segments_is_not_gone_on_with(tmp_path):
    """11 updates in 4 evaluations were segments of 2, 2, 2, 2, 3 until 2026-12-07 (3, 3, 3, 2 now): an old folder
    gone on with mixed the two grids in one report (a halving sweep laid the new segments over its rungs' checkpoints,
    a survivor training 26 of 29 updates). sweep.json records each group's segments now; one without them is read as
    the earlier rule's."""
    import json

    from rl_zoo.sweep import check_segments, check_sweep, group_segments

    spec = make_spec("ppo", "CartPole-v1", grid=["hidden_size=8,16"], static_groups=True, seeds=1, total_steps=11 * 32,
                     num_evals=4, overrides=dict(num_envs=2, num_steps=16, update_epochs=1, num_minibatches=1))
    checked = check_sweep(spec)
    segments = group_segments(checked.plan, checked.env, checked.env_params, spec.num_evals)
    args = (checked.plan, segments, spec.num_evals)
    assert segments == {"0": [3, 3, 3, 2], "1": [3, 3, 3, 2]}
    out = tmp_path / "sweep"
    (out / "groups").mkdir(parents=True)
    (out / "sweep.json").write_text(json.dumps({"digest": spec.digest()}))  # written before the segments were recorded
    check_segments(out, *args, rerun=False)  # no results: nothing to mix
    (out / "groups" / "group_0.npz").write_bytes(b"")
    with pytest.raises(ConfigError, match=r"trained in part along other evaluation segments .* \(group 0: 5 segments of 2, "
                                          r"the last of 3 then, 4 segments of 3, the last of 2 now\): go on with --rerun"):
        check_segments(out, *args, rerun=False)
    check_segments(out, *args, rerun=True)
    (out / "sweep.json").write_text(json.dumps({"digest": spec.digest(), "segments": segments}))
    check_segments(out, *args, rerun=False)  # recorded as this version makes them
    (out / "sweep.json").write_text(json.dumps({"digest": spec.digest()}))
    (out / "groups" / "group_1.npz").write_bytes(b"")
    check_segments(out, *args, rerun=False)  # every group finished: only read again


def test_static_fields_run_as_separate_groups():
    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "num_envs=4,8"], static_groups=True))
    assert [dict(g.static) for g in plan.groups] == [{"num_envs": 4}, {"num_envs": 8}]
    assert all(g.traced == ("learning_rate",) and len(g.points) == 2 for g in plan.groups)


def test_best_yaml_round_trips_through_set_and_the_hyperparams_loader(tmp_path, monkeypatch):
    from rl_zoo.train_command import parse_sets
    from rl_zoo.driver import spec as driver_spec
    from rl_zoo.train import resolve_config

    plan = plan_sweep(make_spec("ppo-kl", "CartPole-v1", grid=["learning_rate=3.3e-4", "kl_target=0.02"], total_steps=40_960))
    chosen = plan.points[0].config
    text = report.best_yaml(plan.spec, chosen, plan.default)
    block = yaml.safe_load(text)["CartPole-v1"]
    assert block["learning_rate"] == 3.3e-4 and block["kl_target"] == 0.02 and "loss" not in block  # the preset stays implied
    assert apply_overrides(plan.default, block) == chosen
    assert resolve_config("ppo-kl", "CartPole-v1", parse_sets([f"{k}={v}" for k, v in block.items()]))[1] == chosen
    (tmp_path / "ppo-kl.yaml").write_text(text)
    monkeypatch.setattr(driver_spec, "HYPERPARAMS_DIR", tmp_path)
    assert resolve_config("ppo-kl", "CartPole-v1")[1] == chosen


def test_a_sweep_into_a_folder_another_sweep_holds_is_refused_before_writing(tmp_path):
    """A --rerun into a folder a running sweep held claimed it, and the running sweep's group file was
    later reported under the --rerun's values."""
    from rl_zoo.lock import FolderInUse, FolderLock

    spec = make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5"], seeds=2, total_steps=2_000, num_evals=2)
    with FolderLock(tmp_path, what="sweep folder"):
        with pytest.raises(FolderInUse, match="sweep folder .* is in use"):
            run_sweep(spec, tmp_path, rerun=True, log=lambda s: None)
    assert [p.name for p in tmp_path.iterdir()] == [".lock"]


def test_a_sweep_into_a_grid_or_a_run_directory_is_refused_before_writing(tmp_path):
    spec = make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5"], seeds=2, total_steps=2_000, num_evals=2)
    for kind, marker in (("benchmark", "benchmark.json"), ("run directory", "config.json")):
        folder = tmp_path / marker
        folder.mkdir()
        (folder / marker).write_text("{}")
        (folder / "report.md").write_text("THEIRS")
        with pytest.raises(ValueError, match=f"is a {kind}"):
            run_sweep(spec, folder, log=lambda s: None)
        assert sorted(p.name for p in folder.iterdir()) == sorted([marker, "report.md"])  # not even a lock file


def test_best_yaml_lists_a_swept_field_at_its_default_so_set_pairs_give_the_chosen_config():
    """PPO's CartPole block tunes learning_rate to 1e-3; a sweep choosing the default 3e-4 left it out of
    best.yaml, and its --set pairs then trained with 1e-3."""
    from rl_zoo.train_command import parse_sets
    from rl_zoo.train import resolve_config

    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=3e-4,1e-3"], total_steps=40_960))
    chosen = plan.points[0].config
    assert chosen.learning_rate == plan.default.learning_rate == 3e-4 != plan.base.learning_rate
    block = yaml.safe_load(report.best_yaml(plan.spec, chosen, plan.default))["CartPole-v1"]
    assert block["learning_rate"] == 3e-4
    assert resolve_config("ppo", "CartPole-v1", parse_sets([f"{k}={v}" for k, v in block.items()]))[1] == chosen
    # a --set (or --total-steps) taking a tuned field back to its default: listed too (the stability
    # sweeps ran PPO at its default num_steps 128 where the CartPole block tunes 32)
    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=3e-4,1e-3"], total_steps=1_000_000,
                                overrides=dict(num_steps=128, gamma=0.99)))
    chosen = plan.points[1].config
    block = yaml.safe_load(report.best_yaml(plan.spec, chosen, plan.default, plan.tuned))["CartPole-v1"]
    assert block["num_steps"] == 128 and block["gamma"] == 0.99 and block["total_timesteps"] == 1_000_000
    assert resolve_config("ppo", "CartPole-v1", parse_sets([f"{k}={v}" for k, v in block.items()]))[1] == chosen


def test_a_small_sweep_writes_its_outputs_and_a_rerun_does_no_work(tmp_path, monkeypatch, capsys, seed_offset):
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, seed=seed_offset, total_steps=512, num_evals=2,
                     eval_episodes=1, overrides=dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8))
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    assert result.trained_groups == 1
    for name in ("runs.csv", "configs.csv", "curves.csv", "curves.png", "sensitivity.png", "report.md", "best.yaml", "sweep.json"):
        assert (tmp_path / name).stat().st_size > 0
    rows = (tmp_path / "runs.csv").read_text().splitlines()
    assert rows[0] == "config,learning_rate,group,seed,final_return,auc,steps_to_threshold" and len(rows) == 1 + 2 * 2
    assert {int(r.split(",")[3]) for r in rows[1:]} == {seed_offset, seed_offset + 1}
    assert result.results[0].returns.shape == (2, 2, 3)  # configs, seeds, evaluations (0 and 2 segments)
    assert "IQM of final returns" in (tmp_path / "report.md").read_text()
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("a finished sweep trained again"))
    again = run_sweep(spec, tmp_path, log=lambda s: None)
    assert again.trained_groups == 0
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == before
    other = dataclasses.replace(spec, seeds=3)
    with pytest.raises(ConfigError, match="holds a different sweep \\(sweep.json -> this command: seeds: 2 -> 3\\)"):
        run_sweep(other, tmp_path, log=lambda s: None)
    from rl_zoo.sweep import check_folder, plan_sweep

    assert check_folder(tmp_path, spec, plan_sweep(spec), rerun=False)  # what the dry run says: this sweep, nothing to train
    assert not check_folder(tmp_path, spec, plan_sweep(spec), rerun=True)
    with pytest.raises(ConfigError, match="seeds: 2 -> 3"):  # and it refuses as the real run does
        check_folder(tmp_path, other, plan_sweep(other), rerun=False)
    from rl_zoo.cli import main

    assert main(["plot", str(tmp_path)]) == 2  # rl-zoo plot points at the sweep's own command
    assert "is a sweep folder: run its `rl-zoo sweep` command again" in capsys.readouterr().err


@pytest.mark.slow  # 9-14 s (halving), twice that (grid: one device too); the default run sweeps over 4 devices (test_sharding.py)
@pytest.mark.parametrize("halving", [[], ["--successive-halving", "2", "--rungs", "2"]], ids=["grid", "halving"])
def test_the_sweep_command_runs_its_rows_split_over_cpu_devices(tmp_path, halving, seed_offset):
    """`rl-zoo sweep` splits the CPU into devices (``rl_zoo.distributed.split_cpu``): every program keeps
    the rows sharded from one segment to the next (a replicated output once broke the second segment).
    The grid's rows train as on one device: each update's KL the same up to rounding (rtol 1e-3, atol 1e-6)
    in every row at the first update and in 6 of 8 rows at every update."""
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("JAX_NUM_CPU_DEVICES", "XLA_FLAGS")}
    cmd = [sys.executable, "-m", "rl_zoo.cli", "sweep", "--algo", "ppo", "--env", "CartPole-v1", "--grid", "learning_rate=1e-3,3e-3",
           "--grid", "clip_eps=0.1,0.2", "--seeds", "2", "--seed", str(seed_offset), "--total-steps", "1024", "--evals", "2", "--eval-episodes", "1",
           "--set", "num_envs=2", "--set", "num_steps=64", "--set", "hidden_size=8", "--record", "kl", *halving, "--out", str(tmp_path / "s")]
    out = subprocess.run(cmd, env=dict(env, RL_ZOO_CPU_DEVICES="2", JAX_PLATFORMS="cpu"), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    if halving:  # the rungs' lines (run_halving): 4 configs, the best 2 kept to the full budget
        assert "successive halving, eta 2: rung 0: 4 config(s) to 512 env steps per run, keep the best 2; " \
               "rung 1: 2 config(s) to 1,024 env steps per run (the full budget)" in out.stdout, out.stdout
        assert "  rung 0: 4 config(s) x 2 seed(s) to 512 env steps; kept " in out.stdout, out.stdout
        assert "  rung 1: 2 config(s) x 2 seed(s) to 1,024 env steps; best " in out.stdout, out.stdout
    else:  # the grid's one program (run_group) says where it runs
        assert "(2 device(s))" in out.stdout, out.stdout
    # both: the group's result records the devices its rows were split over
    assert int(np.load(tmp_path / "s" / "groups" / "group_0.npz")["num_devices"]) == 2
    runs_csv = (tmp_path / "s" / "runs.csv").read_text().splitlines()
    assert len(runs_csv) == 1 + 4 * 2
    assert {int(r.split(",")[4]) for r in runs_csv[1:]} == {seed_offset, seed_offset + 1}, runs_csv[0]
    assert json.loads((tmp_path / "s" / "sweep.json").read_text())
    if not halving:  # the same sweep on one device: each row's per-update KL as on two (rounding apart)
        one = subprocess.run([*cmd[:-1], str(tmp_path / "one")], env=dict(env, RL_ZOO_CPU_DEVICES="1", JAX_PLATFORMS="cpu"),
                             capture_output=True, text=True, timeout=600)
        assert one.returncode == 0, one.stderr[-3000:]
        kl1, kl2 = (np.load(tmp_path / d / "groups" / "group_0.npz")["record.kl"] for d in ("one", "s"))
        assert kl1.shape == kl2.shape == (4, 2, 8) and kl1.max() > 1e-4  # the policies moved: a comparison of something
        # atol: a KL near 1e-7 is a difference of nearly equal float32 log-probabilities, whose rounding on
        # another device count reached 5% of it (seed offset 7127); rows trained from other seeds differ by ~1e-3.
        # Every row's first update (one rollout of the same initial policy) agrees; later, an action sampled
        # by a rounding-sized margin can send a row elsewhere (seed offset 290007: row (2, 0) from its 4th
        # update), so 6 of the 8 rows agree at every update. A wrong split or a broken second segment moves them all.
        close = np.isclose(kl2, kl1, rtol=1e-3, atol=1e-6).reshape(8, 8)
        assert close[:, 0].all(), (kl1[..., 0], kl2[..., 0])
        assert close.all(axis=1).sum() >= 6, (kl1, kl2)


def test_rows_per_program_is_what_every_program_of_the_sweep_holds_a_multiple_of():
    from rl_zoo.sweep.command import parse, rows_per_program

    def rows(*argv):
        return rows_per_program(parse(["sweep", *argv]))

    assert rows("--grid", "learning_rate=1e-3,3e-3", "--grid", "clip_eps=0.1,0.2,0.3", "--seeds", "5") == 30  # one program, 6 x 5
    assert rows("--grid", "hidden_size=8,16", "--grid", "learning_rate=1e-3,3e-3,1e-2", "--static-groups", "--seeds", "3") == 9  # 2 programs of 3 x 3
    assert rows("--grid", "learning_rate=1e-3,3e-3,1e-2,3e-2", "--seeds", "5", "--successive-halving", "2") == 5  # rungs keep fewer configs
    assert rows("--grid", "no_such_field=1,2", "--seeds", "5") == 5  # refused later, by the command


@pytest.mark.parametrize("argv, message", [
    (["--algo", "dqn", "--env", "Pendulum-v1"], "DQN cannot run on Pendulum-v1"),
    # not the config error that the budget gives (learning_starts 1000 above 500 steps): it would hide this one
    (["--algo", "dqn", "--env", "Pendulum-v1", "--total-steps", "500"], "DQN cannot run on Pendulum-v1"),
    (["--record", "nope"], "--record nope: not a field"),
    # a group of fields read "not a field"; a field named twice was kept once under another digest
    (["--record", "details"], "--record details: a group of fields, not a scalar per update; record one of them: details.approx_kl"),
    (["--record", "kl", "--record", "kl"], "--record kl given more than once: name each field once"),
    (["--env", "LunarLander-v3"], "need a JAX env; LunarLander-v3 runs through the gymnasium adapter"),
    (["--env", "CarRacing-v3"], "need a JAX env; CarRacing-v3 runs through"),
    (["--algo", "ppo-kl", "--grid", "foo=1,2"], "--grid: unknown config field 'foo' for ppo-kl; numeric"),  # as typed  # registered, though the adapter refuses its images
    (["--env", "Pendulm-v1"], "unknown environment id 'Pendulm-v1'. Did you mean Pendulum-v1? Sweeps run on the JAX ports: "),
    (["--threshold", "nan"], "--threshold = nan is invalid: must be a finite return"),  # the report's "reached" was empty
    (["--grid", "clip_eps=0.1,abc"], "--grid 'clip_eps=0.1,abc': config field 'clip_eps': expected float"),
    (["--range", "gamma=0.9:0.99", "--sample", "0"], "--range needs --sample N, N >= 1"),
])
def test_a_dry_run_refuses_what_the_real_run_refuses(argv, message, tmp_path, capsys):
    """--dry-run makes the real run's checks against the env (`check_sweep`, shared), not only the configs'."""
    from rl_zoo.cli import main

    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "1", *argv, "--out", str(tmp_path / "s"), "--dry-run"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_a_dry_run_into_another_commands_folder_is_refused_as_the_real_run_is(tmp_path, capsys):
    from rl_zoo.cli import main

    (tmp_path / "cells").mkdir()  # a benchmark folder
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--out", str(tmp_path), "--dry-run"]) == 2
    assert "is a benchmark folder (`rl-zoo benchmark`): a sweep there would replace or mix with its files" in capsys.readouterr().err
    (tmp_path / "afile").write_text("mine")  # a file as --out: the real run refuses it, and now the dry run too
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--out", str(tmp_path / "afile"), "--dry-run"]) == 2
    assert "--out " + repr(str(tmp_path / "afile")) + ": it is a file, not a folder" in capsys.readouterr().err
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--out", str(tmp_path / "new"), "--dry-run"]) == 0
    assert capsys.readouterr().out.startswith(f"sweep -> {tmp_path / 'new'}\n") and not (tmp_path / "new").exists()
    (tmp_path / "other").mkdir()  # another sweep's folder (its sweep.json's spec differs): refused, naming the field
    (tmp_path / "other" / "sweep.json").write_text('{"digest": "0", "spec": {"seeds": 9}}')
    assert main(["sweep", "--grid", "learning_rate=1e-3,3e-3", "--seeds", "1", "--out", str(tmp_path / "other"), "--dry-run"]) == 2
    assert "holds a different sweep (sweep.json -> this command: " in capsys.readouterr().err


@pytest.mark.parametrize("command", [["sweep", "--grid", "learning_rate=1e-3,3e-3"], ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1"]])
@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_folder_of_the_users_own_files_is_refused_and_left_as_it_was(command, dry_run, tmp_path, capsys):
    """A sweep's or a grid's --out holding files of no rl-zoo command: its report.md was replaced without a
    word (a new user's review). Hidden files (a .gitkeep) are no reason to refuse."""
    from rl_zoo.cli import main

    (tmp_path / ".gitkeep").write_text("")
    (tmp_path / "report.md").write_text("my notes")
    (tmp_path / "returns.csv").write_text("a,b")
    assert main([*command, "--seeds", "1", "--total-steps", "4096", "--out", str(tmp_path), *dry_run]) == 2
    kind = "a sweep folder (`rl-zoo sweep`)" if command[0] == "sweep" else "a benchmark folder (`rl-zoo benchmark`)"
    assert f"{tmp_path} holds other files (report.md, returns.csv) and is not {kind}: " in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".gitkeep", "report.md", "returns.csv"]
    assert (tmp_path / "report.md").read_text() == "my notes"
    from rl_zoo.runs import refuse_other_kind

    (tmp_path / "report.md").unlink()
    (tmp_path / "returns.csv").unlink()
    refuse_other_kind(tmp_path, command[0], "it")  # only hidden files left: nothing refused


def _fake_run_group(returns_of):
    """A stand-in for `run_group` (nothing compiles): two evaluations of every config x seed, the last one
    ``returns_of(point)``; ``finite`` False for the configs whose learning rate is 1 or more."""
    from rl_zoo.sweep.runner import GroupResult

    def run_group(module, group, env, env_params, seeds, *a, **k):
        last = np.array([[returns_of(p)] * seeds for p in group.points], float)  # [configs, seeds]
        finite = np.array([[[p.config.learning_rate < 1] * 2] * seeds for p in group.points])  # [configs, seeds, 2]
        return GroupResult(np.array([0, 512]), np.stack([np.zeros_like(last), last], axis=-1), 0.0, 0.0, 1, finite=finite)

    return run_group


def test_a_rerun_removes_the_old_results_before_it_trains(tmp_path, monkeypatch):
    """A --rerun killed before it finished left the old sweep's report.md, best.yaml and tables beside
    the new sweep.json: a folder that contradicted itself."""
    import json

    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512)
    run_sweep(spec, tmp_path, log=lambda s: None)
    written = {p.name for p in tmp_path.iterdir()}
    assert {"report.md", "best.yaml", "runs.csv", "configs.csv", "curves.csv"} <= written
    report = (tmp_path / "report.md").read_text()
    assert "`rl-zoo train --algo ppo --env CartPole-v1 --seed 1000 --seeds 10 --set ...`" in report
    assert f"--config {tmp_path / 'best.yaml'}`" in report  # the file where the sweep wrote it, not a bare best.yaml

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", killed)
    other = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=3, seed=1000, total_steps=512)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(other, tmp_path, rerun=True, log=lambda s: None)
    assert json.loads((tmp_path / "sweep.json").read_text())["spec"]["seeds"] == 3
    assert not set(rl_zoo.sweep.RESULT_FILES) & {p.name for p in tmp_path.iterdir()}
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    run_sweep(other, tmp_path, log=lambda s: None)
    report = (tmp_path / "report.md").read_text()  # seeds 1000-1002 chose it: measure it from 1003
    assert "These seeds (1000-1002) chose it" in report and "`rl-zoo train --algo ppo --env CartPole-v1 --seed 1003 --seeds 10" in report
    assert "Not held out" not in report


def test_a_sweep_on_the_seeds_its_tuned_config_was_chosen_on_says_so(tmp_path, monkeypatch):
    """Review: docs/sweeps.md said a sweep's report says its seeds (0-7) are among those the tuned config it starts from
    was chosen on; nothing in it did. A base config without a tuned block (PPO on Blackjack) is not said to be."""
    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512), tmp_path / "a",
              log=lambda s: None)
    assert ("**Not held out: seeds 0, 1 are among those the tuned configs were chosen on, where the tuned algorithms look "
            "better than on new seeds; --seed 1000 gives held-out ones.**") in (tmp_path / "a" / "report.md").read_text()
    run_sweep(make_spec("ppo", "Blackjack-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=1024), tmp_path / "b",
              log=lambda s: None)
    assert "Not held out" not in (tmp_path / "b" / "report.md").read_text()


def test_damaged_sweep_files_are_named_with_what_to_do(tmp_path, monkeypatch):
    """A damaged sweep.json was JSON's bare message naming no file (or an AttributeError for a list),
    and --rerun could not replace it; a truncated group file was zipfile's traceback."""
    import rl_zoo.sweep.runner
    from rl_zoo.runs import RunFileError

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512)
    run_sweep(spec, tmp_path, log=lambda s: None)
    group = tmp_path / "groups" / "group_0.npz"
    group.write_bytes(group.read_bytes()[:100])
    with pytest.raises(RunFileError, match=re.escape(f"{group}: cannot be read (BadZipFile") + ".*Delete it to train that group again"):
        run_sweep(spec, tmp_path, log=lambda s: None)
    group.unlink()
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 1  # deleted: that group trains again
    # review: a group file of one config where the plan has two was read, and the report dropped the second config
    arrays = dict(np.load(group))
    np.savez(group, **dict(arrays, returns=arrays["returns"][:1], finite=arrays["finite"][:1]))
    with pytest.raises(RunFileError, match=re.escape(f"{group}: holds results of another shape than its group's 2 configs x "
                                                     "2 seeds (returns (1, 2, ") + ".*Delete it to train that group again"):
        run_sweep(spec, tmp_path, log=lambda s: None)
    group.unlink()
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 1
    for damage, said in (("{garbage", "is not valid JSON (line 1 column 2"), ("[1, 2]", "holds a JSON list, not an object")):
        (tmp_path / "sweep.json").write_text(damage)
        with pytest.raises(RunFileError, match=re.escape(f"{tmp_path / 'sweep.json'}: {said}") + ".*with --rerun"):
            run_sweep(spec, tmp_path, log=lambda s: None)
        assert run_sweep(spec, tmp_path, rerun=True, log=lambda s: None).trained_groups == 1
        assert json.loads((tmp_path / "sweep.json").read_text())["digest"] == spec.digest()


def test_a_changed_base_config_is_a_different_sweep(tmp_path, monkeypatch):
    """The same command after the tuned hyperparameters changed (best.yaml pasted into hyperparams/ppo.yaml)
    must not report the results trained with the old ones as the new config's."""
    import json

    import rl_zoo.sweep.runner
    from rl_zoo.driver import spec as driver_spec

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], seeds=2, total_steps=512)
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 1
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 0  # unchanged: an exact resume, nothing trained
    tuned = driver_spec.load_hyperparams
    monkeypatch.setattr(driver_spec, "load_hyperparams", lambda algo, env: {**tuned(algo, env), "gamma": 0.9, "ent_coef": 0.05})
    with pytest.raises(ConfigError, match=f"{tmp_path} holds a sweep of this command with another base config .*"
                                          f"ent_coef: 0.0 -> 0.05; gamma: 0.98 -> 0.9.*--rerun"):
        run_sweep(spec, tmp_path, log=lambda s: None)
    assert json.loads((tmp_path / "sweep.json").read_text())["base_config"]["gamma"] == 0.98  # nothing was touched
    again = run_sweep(spec, tmp_path, rerun=True, log=lambda s: None)  # --rerun replaces the results
    assert again.trained_groups == 1 and json.loads((tmp_path / "sweep.json").read_text())["base_config"]["gamma"] == 0.9
    assert yaml.safe_load((tmp_path / "best.yaml").read_text())["CartPole-v1"]["gamma"] == 0.9
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 0
    # best.yaml pasted into the tuned file changes only the swept field, which every config sets: the same sweep
    monkeypatch.setattr(driver_spec, "load_hyperparams", lambda algo, env: {**tuned(algo, env), "gamma": 0.9,
                                                                            "ent_coef": 0.05, "learning_rate": 3e-3})
    assert run_sweep(spec, tmp_path, log=lambda s: None).trained_groups == 0


def test_a_non_finite_config_is_marked_and_never_the_best(tmp_path, monkeypatch):
    """Runs whose parameters became NaN/Inf (where rl-zoo train stops with exit code 3) are marked in the
    tables and the report, ranked last, and not chosen even with the higher return."""
    import rl_zoo.sweep.runner
    from rl_zoo.driver.guard import NonFiniteError

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 500.0 if p.index == 1 else 100.0))
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,1e30"], seeds=2, total_steps=512)
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    assert [s.non_finite for s in result.summaries] == [0, 2]
    assert result.best.point.index == 0  # config 1 has the higher IQM (500) but diverged
    assert yaml.safe_load((tmp_path / "best.yaml").read_text())["CartPole-v1"]["learning_rate"] == 1e-3
    configs = (tmp_path / "configs.csv").read_text().splitlines()
    assert configs[0].endswith(",reached,non_finite") and configs[1].endswith(",") and configs[2].endswith(",2/2")
    assert [r.split(",")[-1] for r in (tmp_path / "runs.csv").read_text().splitlines()] == ["non_finite", "", "", "yes", "yes"]
    text = (tmp_path / "report.md").read_text()
    assert "| 0 **best** |" in text and "| 1 **non-finite** (2/2 seeds) |" in text and text.index("| 0 **best**") < text.index("| 1 **non")
    assert "Not eligible: config(s) 1, marked **non-finite**" in text
    with pytest.raises(NonFiniteError, match=r"no best config.*A smaller learning_rate \(or max_grad_norm\) usually"):  # no best: exit 3
        run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=10,1e30"], seeds=2), tmp_path / "all", log=lambda s: None)
    assert (tmp_path / "all" / "configs.csv").exists() and not (tmp_path / "all" / "best.yaml").exists()


def test_the_report_and_figures_say_what_a_few_seeds_interval_is(tmp_path, monkeypatch, capsys):
    """With 2 seeds the "95% CI" of report.md, the best: line and the figures' axes was the seeds' range
    (a percentile bootstrap over 2 values); "reached threshold" was not defined; one seed read "1 seeds";
    the best block carried the sweep's short --total-steps as if tuned; a linear axis over 3e-4 and 1e-3
    wrote its tick labels into one another; the lines were nudged sideways unsaid."""
    import rl_zoo.sweep.runner
    from rl_zoo.cli import main
    from rl_zoo.sweep import figures

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 + p.index))
    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    out = tmp_path / "two"
    assert main(["sweep", "--grid", "learning_rate=3e-4,1e-3", "--grid", "gamma=0.9,0.99", "--seeds", "2",
                 "--total-steps", "512", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[-2].endswith("IQM of final returns 103.0 [103.0, 103.0] (range of the 2 seeds)")
    text = (out / "report.md").read_text()
    assert json.loads((out / "sweep.json").read_text())["command"].startswith("rl-zoo sweep --grid learning_rate=3e-4,1e-3")
    assert "| IQM final [range of the 2 seeds] |" in text and "95% CI" not in text
    assert "in brackets: the range of the 2 seeds (a percentile bootstrap over 2 values is their range, not a 95% interval)" in text
    assert "Reached threshold: the seeds whose greedy return was at or above the\nthreshold at any evaluation" in text
    assert "4 configs x 2 seeds (seeds 0-1), the same for every config;" in text
    advice = ("`total_timesteps` in the block is this sweep's budget (`--total-steps` or `--set`), not a tuned value: leave it "
              "out to keep the env's tuned budget (100,000).")
    assert advice in text
    assert (out / "best.yaml").read_text().startswith("# rl-zoo sweep: the best of 4 configs of ppo on CartPole-v1, "
                                                      "by the IQM of final returns over 2 seeds (seeds 0-1)\n")
    sens = drawn["sensitivity.png"]
    lr_axis = sens.axes[0]
    assert lr_axis.get_xscale() == "linear" and [t.get_text() for t in lr_axis.get_xticklabels()] == ["0.0003", "0.001"]
    assert lr_axis.get_ylabel() == "final return, IQM over seeds [range of the 2 seeds]"
    assert sens.axes[1].get_ylabel() == ""  # the same returns: a second label ran into the title's third line
    assert "lines nudged sideways apart" in sens._suptitle.get_text()
    assert drawn["curves.png"].axes[0].get_ylabel() == "greedy return, mean over seeds [range of the 2 seeds]"

    drawn.clear()
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-4,1e-3,1e-2"], seeds=1), tmp_path / "one", log=lambda s: None)
    text = (tmp_path / "one" / "report.md").read_text()
    assert "3 configs x 1 seed (seed 0), the same for every config;" in text and "1 seeds" not in text
    assert "| IQM final [1 seed, no interval] |" in text and "`total_timesteps` in the block" not in text  # the tuned budget
    axis = drawn["sensitivity.png"].axes[0]
    assert axis.get_xscale() == "log" and [t.get_text() for t in axis.get_xticklabels()] == ["0.0001", "0.001", "0.01"]
    assert not any(t.get_text() for t in axis.get_xticklabels(minor=True))
    assert "nudged" not in drawn["sensitivity.png"]._suptitle.get_text()  # one line: nothing to keep apart
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-4,1e-3"], seeds=1, total_steps=100_000), tmp_path / "tuned",
              log=lambda s: None)  # --total-steps at the tuned budget: nothing to say
    assert "`total_timesteps` in the block" not in (tmp_path / "tuned" / "report.md").read_text()
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-4,1e-3"], seeds=1, overrides={"total_timesteps": 512}),
              tmp_path / "set", log=lambda s: None)  # the budget given by --set instead
    assert advice in (tmp_path / "set" / "report.md").read_text()
    drawn.clear()  # a random search's values may lie close together: matplotlib's own ticks, no minor labels
    run_sweep(make_spec("ppo", "CartPole-v1", ranges=["learning_rate=1e-4:1e-2:log"], samples=4, seeds=1), tmp_path / "random",
              log=lambda s: None)
    axis = drawn["sensitivity.png"].axes[0]
    drawn_values = sorted({round(float(v), 12) for line in axis.get_lines() for v in line.get_xdata()})
    assert axis.get_xscale() == "log" and sorted(round(float(v), 12) for v in axis.get_xticks()) != drawn_values
    assert not any(t.get_text() for t in axis.get_xticklabels(minor=True))
    drawn.clear()  # one config read "1 configs x 1 seed" in the report, the curves' title and the log
    lines = []
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3"], seeds=1), tmp_path / "lone", log=lines.append)
    assert "1 config x 1 seed (seed 0), the same for every config;" in (tmp_path / "lone" / "report.md").read_text()
    assert (tmp_path / "lone" / "best.yaml").read_text().startswith("# rl-zoo sweep: the best of 1 config of ppo on")
    with pytest.raises(ConfigError, match=r"unknown config field 1 \(a field is named by a string\)"):  # a bare TypeError
        check_sweep(make_spec("ppo", "CartPole-v1", grid=["gamma=0.9,0.99"], overrides={1: 2, "clip_eps": 0.1}))
    assert "1 config x 1 seed (" in drawn["curves.png"].axes[0].get_title()
    assert any(": 1 config x 1 seed in 1 compiled group(s)" in line for line in lines)


def test_static_groups_that_end_at_other_env_steps_are_all_eligible(tmp_path, monkeypatch):
    """--static-groups over num_envs: each group trains its own whole updates, so their last env steps
    differ (here 512 and 480); every config trained to its group's end may be the best, and the report
    gives each group's env steps (the best rule took only the group with the most env steps)."""
    import rl_zoo.sweep.runner
    from rl_zoo.sweep.runner import GroupResult

    def run_group(module, group, env, env_params, seeds, *a, **k):
        end = 512 if group.points[0].config.num_envs == 4 else 480
        last = np.array([[100.0 if p.config.num_envs == 4 else 500.0] * seeds for p in group.points])
        return GroupResult(np.array([0, end]), np.stack([np.zeros_like(last), last], axis=-1), 0.0, 0.0, 1)

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", run_group)
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "num_envs=4,8"], static_groups=True, seeds=2,
                     total_steps=512)
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    assert result.best.point.config.num_envs == 8  # IQM 500, though its group ends at 480 env steps
    assert [s.point.config.num_envs for s in report.order(result.summaries)] == [8, 8, 4, 4]
    assert "Env steps per run, by group: 0: 512, 1: 480" in (tmp_path / "report.md").read_text()


def test_the_heatmap_marks_cells_that_successive_halving_dropped(tmp_path, monkeypatch):
    """A dropped config's "final" return is at its rung's budget: its heatmap cell says so (a star)."""
    from rl_zoo.sweep import figures
    from rl_zoo.sweep.report import ConfigSummary

    plan = plan_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "gamma=0.9,0.99"], seeds=2))
    summaries = [ConfigSummary(p, 0, np.array([100.0, 200.0]), np.zeros(2), np.full(2, np.nan), 150.0, 100.0, 200.0,
                               512, stopped_early=p.index < 2) for p in plan.groups[0].points]
    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    figures.heatmap(tmp_path, plan.spec, summaries)
    ax = drawn["heatmap.png"].axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["150", "150", "150*", "150*"]
    assert "*: holds configs dropped by successive halving" in ax.get_title()


def test_the_heatmap_writes_small_returns_with_their_decimals(tmp_path, monkeypatch):
    """FrozenLake's success rates and Blackjack's returns were written ":.0f": every cell read "1" or "-0"."""
    from rl_zoo.sweep import figures
    from rl_zoo.sweep.report import ConfigSummary

    plan = plan_sweep(make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.5", "gamma=0.9,0.99"], seeds=2))
    summaries = [ConfigSummary(p, 0, np.array([0.7, 0.8]) - p.index / 100, np.zeros(2), np.full(2, np.nan),
                               0.75 - p.index / 100, 0.7, 0.8, 512) for p in plan.groups[0].points]
    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    figures.heatmap(tmp_path, plan.spec, summaries)
    assert sorted(t.get_text() for t in drawn["heatmap.png"].axes[0].texts) == ["0.72", "0.73", "0.74", "0.75"]


def test_the_heatmap_names_the_fields_it_pools(tmp_path, monkeypatch):
    """With a third swept field each cell is the IQM over every config it holds, a value no one config
    need have reached: the colour bar and the title name the pooled field (it read "IQM over seeds")."""
    from rl_zoo.sweep import figures
    from rl_zoo.sweep.report import ConfigSummary

    def summaries_of(spec):
        return [ConfigSummary(p, 0, np.full(2, 500.0 if dict(p.values).get("ent_coef", 0.0) == 0.0 else 10.0), np.zeros(2),
                              np.full(2, np.nan), 0.0, 0.0, 0.0, 512) for p in plan_sweep(spec).groups[0].points]

    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "gamma=0.9,0.99", "ent_coef=0.0,0.1"], seeds=2)
    figures.heatmap(tmp_path, spec, summaries_of(spec))
    image, bar = drawn.pop("heatmap.png").axes
    assert sorted(t.get_text() for t in image.texts) == ["255"] * 4  # 2 seeds at 500, 2 at 10: every cell pooled
    assert bar.get_ylabel() == "final return, IQM over seeds and ent_coef" and "pools every ent_coef swept" in image.get_title()
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "gamma=0.9,0.99"], seeds=2)
    figures.heatmap(tmp_path, spec, summaries_of(spec))
    image, bar = drawn.pop("heatmap.png").axes
    assert bar.get_ylabel() == "final return, IQM over seeds" and "pools" not in image.get_title()


def test_the_figures_mark_a_diverged_config(tmp_path, monkeypatch):
    """curves.png names a diverged config and dashes it, sensitivity.png crosses it out in red and says
    so, heatmap.png puts a dagger on its cells; a sweep where nothing diverged carries none of these."""
    import rl_zoo.sweep.runner
    from rl_zoo.sweep import figures

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 + p.index))
    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,1e30", "gamma=0.9,0.99"], seeds=2, total_steps=512),
              tmp_path / "a", log=lambda s: None)
    curves = {line.get_label(): line.get_linestyle() for line in drawn["curves.png"].axes[0].get_lines()}
    marked = {label: style for label, style in curves.items() if label.endswith("(diverged: 2 of 2 seeds)")}
    assert len(curves) == 4 and len(marked) == 2 and set(marked.values()) == {"--"}
    assert all("1e+30" in label or "1e30" in label for label in marked), marked
    sensitivity = drawn["sensitivity.png"]
    assert "red x: the config diverged" in sensitivity._suptitle.get_text()
    crosses = [line for ax in sensitivity.axes for line in ax.get_lines() if line.get_marker() == "x"]
    assert sum(len(line.get_xdata()) for line in crosses) == 4  # the 2 diverged configs, in each of the 2 panels
    texts = [t.get_text() for t in drawn["heatmap.png"].axes[0].texts]
    assert sum(t.endswith("\u2020") for t in texts) == 2 and "diverged" in drawn["heatmap.png"].axes[0].get_title()

    drawn.clear()
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "gamma=0.9,0.99"], seeds=2, total_steps=512),
              tmp_path / "b", log=lambda s: None)
    assert not any("diverged" in line.get_label() for line in drawn["curves.png"].axes[0].get_lines())
    assert "red x" not in drawn["sensitivity.png"]._suptitle.get_text()
    assert not any(t.get_text().endswith("\u2020") for t in drawn["heatmap.png"].axes[0].texts)


def test_a_run_that_diverges_is_found_non_finite(tmp_path, seed_offset):
    """The compiled sweep checks every row's parameters at each evaluation (the NaN guard of rl-zoo train)."""
    spec = make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,1e30"], seeds=2, seed=seed_offset, total_steps=256, num_evals=2,
                     eval_episodes=1, overrides=dict(num_envs=2, num_steps=64, update_epochs=1, num_minibatches=1, hidden_size=8))
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    (group,) = result.results
    assert group.finite[:, :, 0].all()  # finite at initialisation
    assert group.finite_runs().tolist() == [[True, True], [False, False]]
    assert result.best.point.index == 0 and [s.non_finite for s in result.summaries] == [0, 2]
    assert result_from_npz(tmp_path).finite.tolist() == group.finite.tolist()  # kept in groups/group_0.npz for a re-run


def result_from_npz(folder):
    from rl_zoo.sweep.runner import result_from_arrays

    return result_from_arrays(np.load(folder / "groups" / "group_0.npz"))


def test_area_under_curve_and_steps_to_threshold_by_hand():
    """Steps (0, 100, 200), returns (0, 10, 30): trapezoids 5 x 100 + 20 x 100 = 2500 over 200 steps is
    12.5; a threshold of 10 is first reached at step 100, one of 31 never (NaN), as with no threshold."""
    from rl_zoo.stats import area_under_curve
    from rl_zoo.sweep.report import steps_to_threshold

    steps, returns = np.array([0, 100, 200]), np.array([[0.0, 10.0, 30.0], [30.0, 30.0, 30.0]])
    np.testing.assert_allclose(area_under_curve(steps, returns), [12.5, 30.0])
    np.testing.assert_array_equal(steps_to_threshold(steps, returns, 10.0), [100.0, 0.0])
    assert np.isnan(steps_to_threshold(steps, returns[:1], 31.0)).all()
    assert np.isnan(steps_to_threshold(steps, returns, None)).all()
    # FrozenLake's 7 wins in 10: the float32 0.7 = 0.699999988 as the report reads it (float64), at the threshold 0.7
    won = np.array([[0.0, float(np.float32(0.7))]])
    np.testing.assert_array_equal(steps_to_threshold(steps[:2], won, 0.7), [steps[1]])


def test_equal_iqms_are_ranked_by_area_under_the_curve():
    """The best rule breaks an IQM tie by mean AUC: the config that got there sooner ranks first, in the
    report's order and as best.yaml's config."""
    from rl_zoo.sweep.report import ConfigSummary, best, order

    def summary(name, auc):
        return ConfigSummary(point={"lr": name}, group=0, final=np.array([100.0]), auc=np.array([auc]),
                             steps_to_threshold=np.array([np.nan]), iqm=100.0, ci_low=90.0, ci_high=110.0)

    assert [s.point["lr"] for s in order([summary("late", 40.0), summary("soon", 75.0)])] == ["soon", "late"]
    assert best([summary("late", 40.0), summary("soon", 75.0)]).point["lr"] == "soon"


def test_a_nan_score_ranks_below_every_number_wherever_it_sits():
    """A NaN return from finite parameters (huge weights giving inf - inf actions): Python's sort compares NaN false
    with everything, so with a bare -iqm key a config of IQM 115 before a NaN one was "best" over one of 400."""
    from rl_zoo.sweep.report import ConfigSummary, best, order

    def summary(name, iqm, auc=1.0):
        return ConfigSummary(point=name, group=0, final=np.array([iqm]), auc=np.array([auc]),
                             steps_to_threshold=np.array([np.nan]), iqm=iqm, ci_low=iqm, ci_high=iqm)

    assert best([summary("a", 115.0), summary("b", np.nan), summary("c", 400.0)]).point == "c"
    assert [s.point for s in order([summary("b", np.nan), summary("a", 115.0)])] == ["a", "b"]
    assert [s.point for s in order([summary("a", 5.0, np.nan), summary("b", 5.0, 2.0)])] == ["b", "a"]


def _four_seed_sweep():
    """Two configs x 4 seeds, evaluated at env steps 0, 10, 20. Config 0 ends at (1, 2, 3, 100): IQM
    (2 + 3) / 2 = 2.5 where the mean is 26.5; config 1 ends at (2, 2, 3, 3), the same IQM 2.5, later."""
    from rl_zoo.sweep.runner import GroupResult
    from rl_zoo.sweep.spec import Group, Point

    curves = np.array([[[0, 5, 1], [0, 5, 2], [0, 5, 3], [0, 5, 100]],
                       [[0, 0, 2], [0, 0, 2], [0, 0, 3], [0, 0, 3]]], float)
    points = tuple(Point(i, (("learning_rate", lr),), None) for i, lr in enumerate((1e-3, 3e-4)))
    return [Group(0, (), ("learning_rate",), points)], [GroupResult(np.array([0, 10, 20]), curves, 0.0, 0.0, 1)]


def test_a_config_is_summarised_by_its_last_evaluation_and_the_iqm_over_seeds():
    """By hand: final returns are the last column; IQM 2.5 (the mean would be 26.5). The 95% bootstrap
    interval of the IQM of 4 values is (1, 100): a resample's IQM is 1 when 3 of its 4 draws are the 1,
    with probability 4 (1/4)^3 (3/4) + (1/4)^4 = 5.1% > 2.5% (likewise 100). AUC of seed 0: trapezoids
    (0 + 5) / 2 x 10 + (5 + 1) / 2 x 10 = 55 over 20 steps = 2.75; the threshold 50 is reached by seed 3
    alone, at step 20."""
    groups, results = _four_seed_sweep()
    first, second = report.summarize(groups, results, 50.0)
    np.testing.assert_array_equal(first.final, [1, 2, 3, 100])
    assert (first.iqm, first.ci_low, first.ci_high) == (2.5, 1.0, 100.0)
    np.testing.assert_allclose(first.auc, [2.75, 3.0, 3.25, 27.5])
    np.testing.assert_array_equal(first.steps_to_threshold, [np.nan, np.nan, np.nan, 20.0])
    assert second.iqm == 2.5 and report.best([second, first]) is first  # the tie goes to the higher AUC
    # float32 returns (as a sweep's are): seeds ending at 26.0 and 43.7 have the float32 mean 34.849998, printed 34.8
    # beside the (float64) IQM's 34.9
    results[0] = dataclasses.replace(results[0], returns=np.tile(np.array([[26.0], [43.7]], np.float32), (2, 1, 3)))
    (two, _) = report.summarize(groups, results, None)
    assert f"{two.final.mean():.1f}" == f"{two.iqm:.1f}" == "34.9"


def test_the_sweep_tables_and_report_hold_each_configs_numbers(tmp_path):
    """configs.csv, runs.csv (seeds numbered from the sweep's --seed) and report.md's table carry the
    summary's numbers in their own columns, and only the chosen config is marked best (config 1 ties
    its IQM)."""
    from rl_zoo.sweep.spec import SweepSpec

    groups, results = _four_seed_sweep()
    spec = SweepSpec("ppo", "CartPole-v1", seeds=4, seed=1000)
    summaries = report.summarize(groups, results, 50.0)
    assert report.config_rows(summaries, spec)[0] == {
        "config": 0, "learning_rate": 1e-3, "group": 0, "iqm_final": 2.5, "ci_low": 1.0, "ci_high": 100.0,
        "mean_final": 26.5, "mean_auc": 9.125, "reached": "1/4"}
    rows = report.run_rows(summaries, spec)
    assert [(r["config"], r["seed"], r["final_return"], r["steps_to_threshold"]) for r in rows[:4]] == [
        (0, 1000, 1.0, ""), (0, 1001, 2.0, ""), (0, 1002, 3.0, ""), (0, 1003, 100.0, 20)]
    text = report.write_report(tmp_path, report.ReportInputs(spec, groups, results, summaries, 50.0, "CartPole-v1: {}\n",
                                                             [])).read_text()
    assert "| 0 **best** | 0.001 | 2.5 [1.0, 100.0] | 26.5 | 9.1 | 1/4 |" in text
    assert "| 1 | 0.0003 | 2.5 [2.0, 3.0] | 2.5 | 0.6 | 0/4 |" in text
    assert "as arrays),\ntimed on a machine not recorded:" in text
    assert report.machine_of({"cpu": "AMD EPYC", "devices": "cpu:0, cpu:1", "jax": "0.10.2", "jax_backend": "cpu"}) == \
        "AMD EPYC, devices cpu:0, cpu:1, jax 0.10.2 (cpu)"
    assert report.machine_of({"jax": "0.10.2"}).startswith("a CPU whose model was not recorded")


def test_configs_successive_halving_dropped_rank_after_the_full_budget_the_later_dropped_first():
    from rl_zoo.sweep.report import ConfigSummary, order

    def summary(name, trained, stopped):
        return ConfigSummary(point=name, group=0, final=np.array([1.0]), auc=np.array([1.0]), steps_to_threshold=np.array([np.nan]),
                             iqm={"full": 1.0, "early": 9.0, "later": 5.0}[name], ci_low=0.0, ci_high=9.0,
                             env_steps_trained=trained, stopped_early=stopped)

    assert [s.point for s in order([summary("early", 128, True), summary("full", 512, False), summary("later", 256, True)])] == [
        "full", "later", "early"]


def test_one_string_for_grid_is_one_grid_not_one_per_character():
    """make_spec(grid="learning_rate=1e-3,3e-3") walked the string: "--grid 'l': expected NAME=V1,V2,..."."""
    as_string = make_spec("ppo", "CartPole-v1", grid="learning_rate=1e-3,3e-3", record="kl")
    assert as_string == make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3"], record=["kl"])


def test_the_same_sweep_with_a_bare_static_groups_or_its_budget_by_set_is_the_same_sweep(tmp_path, monkeypatch):
    """`--static-groups` only permits sweeping a static field, and `--total-steps N` is `--set total_timesteps=N`:
    the same sweep given either way was refused as "a different sweep" (static_groups: false -> true). A swept
    static field, or another budget, is still another sweep."""
    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    grid = dict(grid=["learning_rate=1e-3,2e-3"], seeds=2)
    run_sweep(make_spec("ppo", "CartPole-v1", total_steps=512, **grid), tmp_path, log=lambda s: None)
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("the same sweep trained again"))
    for same in (make_spec("ppo", "CartPole-v1", total_steps=512, static_groups=True, **grid),
                 make_spec("ppo", "CartPole-v1", overrides={"total_timesteps": "512"}, **grid),
                 make_spec("ppo", "CartPole-v1", overrides={"total_timesteps": 512}, static_groups=True, **grid)):
        assert run_sweep(same, tmp_path, log=lambda s: None).trained_groups == 0
    with pytest.raises(ConfigError, match=r"holds a different sweep .*total_steps: 512 -> null"):
        run_sweep(make_spec("ppo", "CartPole-v1", overrides={"total_timesteps": 1024}, **grid), tmp_path, log=lambda s: None)
    with pytest.raises(ConfigError, match=r"holds a different sweep .*grid: "):
        run_sweep(make_spec("ppo", "CartPole-v1", total_steps=512, static_groups=True,
                            grid=["learning_rate=1e-3,2e-3", "num_envs=4,8"], seeds=2), tmp_path, log=lambda s: None)


def test_the_same_fixed_values_written_as_strings_or_numbers_are_the_same_sweep(tmp_path, monkeypatch):
    """`--set gamma=0.97` keeps the string "0.97", a --config file the number 0.97 (and YAML reads 1e-2 as a
    string): the same sweep written two ways was refused as "a different sweep". A changed value still is."""
    import rl_zoo.sweep.runner

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    grid = dict(grid=["learning_rate=1e-3,2e-3"], seeds=2, total_steps=512)
    run_sweep(make_spec("ppo", "CartPole-v1", overrides={"gamma": "0.97", "ent_coef": "1e-2"}, **grid), tmp_path, log=lambda s: None)
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("the same sweep trained again"))
    again = run_sweep(make_spec("ppo", "CartPole-v1", overrides={"gamma": 0.97, "ent_coef": 0.01}, **grid), tmp_path, log=lambda s: None)
    assert again.trained_groups == 0
    with pytest.raises(ConfigError, match=r'holds a different sweep .*overrides: .*\["gamma", "0.97"\].* -> .*\["gamma", 0.98\]'):
        run_sweep(make_spec("ppo", "CartPole-v1", overrides={"gamma": 0.98, "ent_coef": 0.01}, **grid), tmp_path, log=lambda s: None)


def test_a_set_value_the_tuned_file_already_gives_is_the_same_sweep(tmp_path, monkeypatch):
    """`--set gamma=0.98` (CartPole's tuned gamma) or `--total-steps 100000` (its tuned budget) resolve to the
    config the sweep ran with, written without them: they were refused as "a different sweep (overrides: [] ->
    [["gamma", "0.98"]])", and only --rerun, which trains everything again, got past. Another value still is."""
    import rl_zoo.sweep.runner
    from rl_zoo.driver.spec import load_hyperparams

    tuned = load_hyperparams("ppo", "CartPole-v1")
    assert tuned["gamma"] == 0.98 and tuned["total_timesteps"] == 100000  # what the commands below restate
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 * p.index))
    grid = dict(grid=["learning_rate=1e-3,2e-3"], seeds=2)
    run_sweep(make_spec("ppo", "CartPole-v1", **grid), tmp_path, log=lambda s: None)
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("the same sweep trained again"))
    for same in (make_spec("ppo", "CartPole-v1", overrides={"gamma": "0.98"}, **grid),
                 make_spec("ppo", "CartPole-v1", total_steps=100000, overrides={"gamma": 0.98}, **grid)):
        assert run_sweep(same, tmp_path, log=lambda s: None).trained_groups == 0
    with pytest.raises(ConfigError, match=r'holds a different sweep .*overrides: \[\] -> \[\["gamma", "0.97"\]\]'):
        run_sweep(make_spec("ppo", "CartPole-v1", overrides={"gamma": "0.97"}, **grid), tmp_path, log=lambda s: None)
    # a sweep.json written before a field existed: a --set of that field is not known to be the same
    record = json.loads((tmp_path / "sweep.json").read_text())
    del record["base_config"]["ent_coef"]
    (tmp_path / "sweep.json").write_text(json.dumps(record))
    with pytest.raises(ConfigError, match=r'holds a different sweep .*\["ent_coef", "0.5"\]'):
        run_sweep(make_spec("ppo", "CartPole-v1", overrides={"ent_coef": "0.5"}, **grid), tmp_path, log=lambda s: None)


@pytest.mark.parametrize("rerun", [False, True])
def test_ctrl_c_says_how_to_go_on_without_rerun_starting_over(tmp_path, monkeypatch, capsys, rerun):
    """A grid or sweep interrupted under --rerun was told to "run the same command again", which with --rerun
    trains every finished group (or cell) again."""
    import rl_zoo.sweep.runner
    from rl_zoo.cli import main

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", ctrl_c)
    argv = ["sweep", "--grid", "learning_rate=1e-3,2e-3", "--seeds", "2", "--total-steps", "512", "--out", str(tmp_path / "s")]
    assert main(argv + (["--rerun"] if rerun else [])) == 130
    err = capsys.readouterr().err
    assert ("run the same command without --rerun again" in err) == rerun and "finished groups and halving rungs are kept" in err


def test_distinct_swept_values_get_distinct_labels(tmp_path, capsys):
    """4 significant digits labelled gamma=0.99995 "gamma=1" (a config never trained, in the report, log and figures)
    and learning rates 1.0001e-3 and 1.0004e-3 both "0.001"; a value needing no more keeps its 4 digits."""
    from rl_zoo.cli import main
    from rl_zoo.sweep.spec import _fmt

    assert [_fmt(v) for v in (0.99995, 1.0001e-3, 1.0004e-3, 3e-4, 1e-5, 2.5e-4, 1.0, 64)] == [
        "0.99995", "0.0010001", "0.0010004", "0.0003", "1e-05", "0.00025", "1", "64"]
    assert main(["sweep", "--grid", "learning_rate=1.0001e-3,1.0004e-3", "--seeds", "1", "--out", str(tmp_path / "s"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "learning_rate=0.0010001" in out and "learning_rate=0.0010004" in out


def test_the_sensitivity_figure_names_a_switchs_two_values(tmp_path, monkeypatch):
    """A bool field's panel was a number axis 0.0, 0.2 ... 1.0 that never said which end was True."""
    import rl_zoo.sweep.runner
    from rl_zoo.sweep import figures

    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", _fake_run_group(lambda p: 100.0 + p.index))
    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    run_sweep(make_spec("ppo", "CartPole-v1", grid=["learning_rate=1e-3,3e-3", "anneal_lr=true,false"], static_groups=True,
                        seeds=2, total_steps=512), tmp_path, log=lambda s: None)
    lr_axis, switch_axis = drawn["sensitivity.png"].axes[:2]
    assert switch_axis.get_xlabel() == "anneal_lr"
    assert [t.get_text() for t in switch_axis.get_xticklabels()] == ["False", "True"]
    assert [t.get_text() for t in lr_axis.get_xticklabels()] == ["0.001", "0.003"]


@pytest.mark.parametrize("grid, message", [
    ("ent_coef=0,1e39", "config field 'ent_coef' = 1e+39 overflows float32"),
    ("ent_coef=1e39,2e39", "config field 'ent_coef' = 1e+39 overflows float32"),  # was "a value is repeated (float32)"
    ("env.gravity=9.8,1e39", "1e39 overflows a float32 (the sweep's arrays)"),
])
def test_a_value_beyond_float32_is_refused_without_numpys_warning(grid, message, tmp_path, capsys):
    """The refusal came after numpy's "RuntimeWarning: overflow encountered in cast" and its source line."""
    import warnings

    from rl_zoo.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["sweep", "--grid", grid, "--seeds", "1", "--out", str(tmp_path / "s"), "--dry-run"]) == 2
    assert message in capsys.readouterr().err


def test_the_sweeps_divergence_advice_names_the_algorithms_own_fields():
    """A TRPO sweep whose every config diverged was told "a smaller learning rate (or max_grad_norm)", fields TRPO lacks."""
    from types import SimpleNamespace

    from rl_zoo.algos import trpo, vpg

    def swept(config):
        return [SimpleNamespace(point=SimpleNamespace(config=config))]

    assert report._cure_words(swept(trpo.Config())) == "A smaller value_lr or max_kl usually cures this (--set)."
    assert report._cure_words(swept(vpg.Config())) == "A smaller learning_rate or value_lr usually cures this (--set)."
