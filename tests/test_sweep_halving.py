"""rl-zoo sweep --successive-halving: the schedule and the ranking as pure functions (hand-worked
values), bad values refused before compiling, survivors continuing from their exact train state,
and a sweep interrupted after a rung that resumes from it."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import envs
import rl_zoo.sweep.runner
from rl_zoo import checkpoint
from rl_zoo.config import ConfigError
from rl_zoo.sweep import halving, make_spec, run_sweep
from rl_zoo.sweep.halving import Rung, max_rungs, rank, schedule

TINY = dict(num_envs=2, num_steps=16, update_epochs=1, num_minibatches=1, hidden_size=8)  # 32 env steps per update


def test_schedule_by_hand():
    # 12 configs, eta 3, 10 segments: rungs as the configs allow = 3 (12 -> 4 -> 1); budgets 10//9, 10//3, 10
    assert schedule(12, 3, 0, 10) == (Rung(0, 12, 4, 1), Rung(1, 4, 1, 3), Rung(2, 1, 0, 10))
    # eta 2: 12 -> 6 -> 3 -> 1 configs; budgets 10//8 = 1, 10//4 = 2, 10//2 = 5, 10 segments
    assert schedule(12, 2, 0, 10) == (Rung(0, 12, 6, 1), Rung(1, 6, 3, 2), Rung(2, 3, 1, 5), Rung(3, 1, 0, 10))
    # 5 configs, eta 2, 2 rungs asked: 5 -> 2 (the last rung keeps floor(5/2) = 2 configs); budgets 7//2 = 3, 7
    assert schedule(5, 2, 2, 7) == (Rung(0, 5, 2, 3), Rung(1, 2, 0, 7))
    assert [max_rungs(n, 3) for n in (2, 3, 8, 9, 26, 27)] == [1, 2, 2, 3, 3, 4]

    # the log's and --dry-run's lines: 2 updates of 32 env steps per segment, rungs ending at segments 1, 3, 10
    assert halving.describe(schedule(12, 3, 0, 10), [2] * 10, 32) == [
        "rung 0: 12 config(s) to 64 env steps per run, keep the best 4", "rung 1: 4 config(s) to 192 env steps per run, keep the best 1",
        "rung 2: 1 config(s) to 640 env steps per run (the full budget)"]


def test_the_halving_table_and_report_by_hand():
    """Two rungs, eta 2, 2 seeds: configs 1 and 0 to 128 env steps (1 kept), config 1 on to 256. halving.csv
    holds each config's IQM and mean so far in their columns and its status; the report counts 2 x 128 +
    1 x (256 - 128) = 384 env steps per seed, 75% of the 2 x 256 that training both to the end takes."""
    from rl_zoo.sweep.halving import RungRecord
    from rl_zoo.sweep.spec import Group, Point, SweepSpec

    group = Group(0, (), ("learning_rate",), tuple(Point(i, (("learning_rate", lr),), None) for i, lr in enumerate((1e-3, 3e-4))))
    records = [RungRecord(0, 128, (1, 0), (5.0, 2.0), (3.0, 1.0), (1,)), RungRecord(1, 256, (1,), (7.0,), (4.0,), ())]
    rows = halving.table_rows(records, group, 2)
    assert [(r["rung"], r["config"], r["rank"], r["status"], r["iqm_at_rung"], r["mean_return_so_far"]) for r in rows] == [
        (0, 1, 1, "promoted", 5.0, 3.0), (0, 0, 2, "dropped", 2.0, 1.0), (1, 1, 1, "final", 7.0, 4.0)]
    text = halving.report_section(records, group, SweepSpec("ppo", "CartPole-v1", seeds=2, halving_eta=2))
    assert "Env steps spent: 384 per seed over 3 config-rungs, 75% of the 512 that" in text
    assert "| 0 | 128 | 2 x 2 | 1 (5.00) | 0 (2.00) |" in text  # returns below 10: two decimals (stats.return_decimals) and "| 1 | 256 | 1 x 2 | — (last rung) | — |" in text


def test_rank_by_hand():
    # IQM first, then the mean so far, then the lower position
    assert rank(np.array([1.0, 3.0, 3.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0])).tolist() == [2, 1, 3, 0]
    assert rank(np.array([5.0, 5.0, 5.0]), np.array([1.0, 1.0, 1.0])).tolist() == [0, 1, 2]
    # a NaN (a NaN return from finite parameters) below every number, wherever it sits
    assert rank(np.array([1.0, np.nan, 3.0, 2.0]), np.zeros(4)).tolist() == [2, 3, 0, 1]
    assert rank(np.array([np.nan, 1.0]), np.zeros(2)).tolist() == [1, 0]
    assert rank(np.array([5.0, 5.0]), np.array([np.nan, 1.0])).tolist() == [1, 0]
    # a config with non-finite parameters in some seed after every other, whatever its return
    assert rank(np.array([1.0, 3.0, 3.0, 2.0]), np.array([0.0, 1.0, 2.0, 0.0]), np.array([False, False, True, False])).tolist() == [1, 3, 0, 2]


def test_a_rung_keeps_its_best_configs_not_the_first_or_the_worst():
    # configs (1, 3, 4, 6) (a later rung: positions are not indices), 3 seeds, evaluations 0..2; the
    # rung ends at segment 2. IQM at the rung: 1 -> 1, 3 -> 5, 4 -> 2, 6 -> 4: keep 3 and 6 (top 2)
    returns = np.zeros((7, 3, 3))
    for c, final in ((1, 1.0), (3, 5.0), (4, 2.0), (6, 4.0)):
        returns[c, :, 2] = final
    record = halving._rank_rung(Rung(1, 4, 2, 2), (1, 3, 4, 6), returns, np.array([0, 10, 20]))
    assert record.ranked == (3, 6, 4, 1) and record.kept == (3, 6) and record.iqm == (5.0, 4.0, 2.0, 1.0)
    assert record.env_steps == 20


def test_a_tie_in_iqm_goes_to_the_higher_mean_so_far_the_rungs_own_evaluation_included():
    # 4 seeds: IQM drops one from each end. At the rung's evaluation (segment 2) config 0 has [0, 5, 5, 10]
    # and config 1 [4, 5, 5, 100]: IQM 5 each, means 5 and 28.5; the evaluations before are all 0. The mean
    # so far over env steps 0..20 (trapezoids: the last evaluation's half of the last 10 steps, over 20)
    # breaks the tie: config 1, 28.5 / 4 against 5 / 4 (a mutation that left out the rung's own evaluation
    # tied them at 0 and kept the lower position, config 0, passing every test).
    returns = np.zeros((2, 4, 3))
    returns[0, :, 2], returns[1, :, 2] = [0, 5, 5, 10], [4, 5, 5, 100]
    record = halving._rank_rung(Rung(0, 2, 1, 2), (0, 1), returns, np.array([0, 10, 20]))
    assert record.iqm == (5.0, 5.0) and record.ranked == (1, 0) and record.kept == (1,)
    np.testing.assert_allclose(record.mean_so_far, (28.5 / 4, 5.0 / 4))


def test_the_last_rung_breaks_an_iqm_tie_as_the_reports_best_rule_does():
    """Two configs at the cap (CartPole's 500) on both seeds at the end: config 1's curve got there in fewer env steps
    (mean AUC 433.3 against 406.7), so it is first at the last rung and best.yaml's config; a plain mean over the
    evaluations, the rung's old tie-break, put config 0 first (410 against 400: it weighs the first evaluation fully)."""
    from rl_zoo import stats
    from rl_zoo.sweep import report

    steps = np.array([0, 10, 20, 30])
    returns = np.array([[[340.0, 300.0, 500.0, 500.0]] * 2, [[100.0, 500.0, 500.0, 500.0]] * 2])
    record = halving._rank_rung(Rung(1, 2, 0, 3), (0, 1), returns, steps)
    assert record.iqm == (500.0, 500.0) and record.ranked == (1, 0)
    np.testing.assert_allclose(record.mean_so_far, (1300 / 3, 1220 / 3))
    summaries = [report.ConfigSummary(None, 0, returns[c, :, -1], stats.area_under_curve(steps, returns[c]),
                                      np.full(2, np.nan), 500.0, 500.0, 500.0, 30) for c in (0, 1)]
    assert [id(s) for s in report.order(summaries)] == [id(summaries[1]), id(summaries[0])]


def test_promotion_takes_the_kept_configs_rows_by_position():
    # rows are laid out by position among the rung's configs (1, 3, 4), 2 seeds each: config 4's rows are
    # 4 and 5, not 8 and 9 (an index past the end JAX would clamp without a word)
    plan = rl_zoo.sweep.plan_sweep(make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.1,0.2,0.3,0.4,0.5"],
                                             seeds=2, total_steps=2_000))
    states = {"row": np.arange(6) * 10}
    rows, kept = halving._promote(plan.groups[0], (1, 3, 4), (1, 4), states, 2, 0)
    assert np.asarray(kept["row"]).tolist() == [0, 10, 40, 50]
    assert rows.configs == (1, 4) and np.asarray(rows.seeds).tolist() == [0, 1, 0, 1]
    np.testing.assert_allclose(np.asarray(rows.hp["learning_rate"]), [0.2, 0.2, 0.5, 0.5])


@pytest.mark.parametrize("kwargs, message", [
    (dict(halving_eta=1), "--successive-halving 1 is invalid: ETA .* at least 2"),
    (dict(halving_eta=2, halving_rungs=1), "--rungs 1 is invalid: .* at least 2 rungs"),
    (dict(halving_eta=2, halving_rungs=3), "--rungs 3 with --successive-halving 2 needs at least 4 configs .* this sweep has 3"),
    # the message wrote ETA^(R-1) out: a ValueError of Python's 4,300-digit limit, or no answer for --rungs 10**9
    (dict(halving_eta=3, halving_rungs=10**9), "--rungs 1000000000 with --successive-halving 3 needs 3\\^999999999 configs "
     "\\(so that the last rung keeps one\\); this sweep has 3: use --rungs 2 or fewer"),
    (dict(halving_eta=4), "3 config\\(s\\), too few .* at least 4 configs"),
    (dict(halving_rungs=2), "--rungs needs --successive-halving ETA"),
    (dict(halving_eta=3, num_evals=2), "less than one of the run's 2 evaluation segments .*: use --evals 4"),
    (dict(halving_eta=2, grid=["learning_rate=1e-3,3e-3", "num_envs=2,4"], static_groups=True,
          overrides={k: v for k, v in TINY.items() if k != "num_envs"}), "one halving sweep per value"),  # --set and --grid num_envs: refused
    (dict(record=["kl_divergence"]), "--record kl_divergence: not a field .* scalar fields: .*\\bkl\\b"),
])
def test_bad_halving_is_refused_before_compiling(kwargs, message, tmp_path, monkeypatch):
    monkeypatch.setattr(halving, "run_halving", lambda *a, **k: pytest.fail("compiled a refused sweep"))
    monkeypatch.setattr(rl_zoo.sweep.runner, "run_group", lambda *a, **k: pytest.fail("compiled a refused sweep"))
    spec = make_spec("ppo", "CartPole-v1", **{"grid": ["learning_rate=1e-3,3e-3,1e-2"], "seeds": 2, "total_steps": 256,
                                              "overrides": TINY, "num_evals": 4, **kwargs})
    with pytest.raises(ConfigError, match=message):
        run_sweep(spec, tmp_path / "out", log=lambda s: None)
    assert not (tmp_path / "out").exists()


def _spec(**kwargs):
    # 8 updates of 32 env steps, 4 evaluation segments of 2 updates; 2 configs, eta 2: rung 0 both to
    # 4 updates (2 segments), rung 1 the better one to 8
    return make_spec("ppo", "CartPole-v1", grid=["learning_rate=3e-4,1e-2"], seeds=2, total_steps=256, overrides=TINY,
                     num_evals=4, eval_episodes=1, halving_eta=2, record=["kl"], **kwargs)


def _template(result, configs, env_id="CartPole-v1"):
    """A freshly initialised state for the rows of ``configs`` (the structure a rung checkpoint is read into)."""
    env, params = envs.make(env_id)
    seeds = result.plan.spec.seeds
    agent = result.plan.module.make_agent(result.plan.points[0].config, env, params)
    return jax.vmap(agent.init)(jax.vmap(jax.random.key)(np.arange(len(configs) * seeds)))


@pytest.mark.slow  # 5 s; the default suite keeps the schedule, ranking and refusal tests
def test_survivors_continue_their_schedule(tmp_path, monkeypatch, seed_offset):
    """Tabular Q-learning (cheap to compile): epsilon falls linearly with the update counter over the whole
    budget, so a survivor restarted at rung 1 would jump back to epsilon_start; continued, it keeps falling."""
    inits = []
    real_init = halving.init_rows
    monkeypatch.setattr(halving, "init_rows", lambda *a: inits.append(1) or real_init(*a))
    spec = make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.05,0.5"], seeds=2, seed=seed_offset, total_steps=64,
                     num_evals=4, eval_episodes=1, halving_eta=2, record=["epsilon"],
                     overrides=dict(epsilon_schedule="linear", epsilon_start=1.0, epsilon_end=0.05, exploration_fraction=1.0))
    result = run_sweep(spec, tmp_path, log=lambda s: None)
    assert len(inits) == 1  # initialised once, for rung 0
    (r0, r1) = result.rungs
    (kept,), (dropped,) = r0.kept, set(r0.ranked) - set(r0.kept)
    eps = result.results[0].recorded["epsilon"]  # [configs, seeds, updates]
    u0 = r0.env_steps * eps.shape[-1] // r1.env_steps  # updates at the end of rung 0: half of them (2 of 4 segments)
    assert u0 == eps.shape[-1] // 2
    assert np.isfinite(eps[kept]).all() and (np.diff(eps[kept], axis=-1) < 0).all()  # no restart, no gap at the rung
    np.testing.assert_array_equal(eps[kept, :, :u0], eps[dropped, :, :u0])  # the same schedule until the drop
    assert np.isnan(eps[dropped, :, u0:]).all()
    path, _, _ = halving._Store(tmp_path / "groups" / "halving").load(0)
    state, _ = checkpoint.restore(path, _template(result, r0.kept, "FrozenLake-v1"))
    assert np.asarray(state.step).tolist() == [u0, u0]  # the checkpointed survivor's update counter


@pytest.mark.slow  # PPO compiles five programs (init, then a segment and an evaluation per rung): ~20 s of CPU
def test_survivors_continue_from_their_state(tmp_path, monkeypatch, seed_offset):
    inits = []
    real_init = halving.init_rows
    monkeypatch.setattr(halving, "init_rows", lambda *a: inits.append(1) or real_init(*a))
    result = run_sweep(_spec(seed=seed_offset), tmp_path, log=lambda s: None)
    assert len(inits) == 1  # initialised once, for rung 0: the survivor is not trained again from scratch
    (r0, r1) = result.rungs
    assert (r0.env_steps, r1.env_steps) == (128, 256) and len(r0.ranked) == 2 and len(r0.kept) == 1 and r1.ranked == r0.kept
    (kept,), (dropped,) = r0.kept, set(r0.ranked) - set(r0.kept)
    # the survivor's rung-0 train state, as checkpointed: 4 updates done, continued by rung 1
    path, _, _ = halving._Store(tmp_path / "groups" / "halving").load(0)
    state, _ = checkpoint.restore(path, _template(result, r0.kept))
    assert np.asarray(state.update_step).tolist() == [4, 4]
    group = result.results[0]
    kl = group.recorded["kl"]  # [configs, seeds, 8 updates]
    assert np.isfinite(kl[kept]).all()  # every update of the survivor, without a gap at the rung
    assert np.isfinite(kl[dropped, :, :4]).all() and np.isnan(kl[dropped, :, 4:]).all()  # the dropped one stopped
    assert group.evals_done.tolist() == ([3, 5] if kept == 1 else [5, 3])
    assert np.isfinite(group.returns[kept]).all() and np.isnan(group.returns[dropped, :, 3:]).all()
    assert result.best.point.index == kept  # the best is chosen among the configs trained to the full budget
    rows = (tmp_path / "halving.csv").read_text().splitlines()
    assert rows[0] == "rung,env_steps,config,learning_rate,rank,iqm_at_rung,mean_return_so_far,status" and len(rows) == 4
    assert {r.split(",")[-1] for r in rows[1:]} == {"promoted", "dropped", "final"}
    report = (tmp_path / "report.md").read_text()
    assert "## Successive halving" in report and "| 0 | 128 | 2 x 2 |" in report
    runs = (tmp_path / "runs.csv").read_text().splitlines()
    assert runs[0].startswith("config,learning_rate,group,seed,env_steps_trained,")
    assert sorted(int(r.split(",")[4]) for r in runs[1:]) == [128, 128, 256, 256]


@pytest.mark.slow
def test_an_interrupted_halving_sweep_resumes_from_its_last_rung(tmp_path, monkeypatch, seed_offset):
    """Interrupted after rung 0, the same command trains only rung 1, from the checkpointed state,
    and gives the uninterrupted sweep's numbers (same machine, same programs)."""
    whole = run_sweep(_spec(seed=seed_offset), tmp_path / "whole", log=lambda s: None)
    real_save = halving._Store.save

    def crash_after_saving(self, *a):
        real_save(self, *a)
        raise KeyboardInterrupt

    monkeypatch.setattr(halving._Store, "save", crash_after_saving)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(_spec(seed=seed_offset), tmp_path / "cut", log=lambda s: None)
    monkeypatch.setattr(halving._Store, "save", real_save)
    before = np.load(tmp_path / "cut" / "groups" / "halving" / "rung_0.npz")["seconds"]  # compile, train before the stop
    assert (before > 0).all()
    lines = []
    resumed = run_sweep(_spec(seed=seed_offset), tmp_path / "cut", log=lines.append)
    assert any("resumed after rung 0" in line for line in lines)
    # the report's times include the work before the stop (they were the resumed process's alone)
    assert resumed.results[0].compile_s > before[0] and resumed.results[0].train_s > before[1]
    assert resumed.rungs == whole.rungs
    np.testing.assert_array_equal(resumed.results[0].returns, whole.results[0].returns)
    np.testing.assert_array_equal(resumed.results[0].recorded["kl"], whole.results[0].recorded["kl"])
    again = run_sweep(_spec(seed=seed_offset), tmp_path / "cut", log=lambda s: None)  # finished: nothing trained
    assert again.trained_groups == 0 and again.rungs == whole.rungs


def test_a_damaged_rung_file_is_named_with_what_to_do(tmp_path):
    """A truncated ``rung_<i>.npz`` was numpy's ``BadZipFile`` traceback, a damaged ``rungs.json`` json's bare
    "Expecting value": each is now a ``RunFileError`` naming the file and how to go on."""
    from rl_zoo.runs import RunFileError

    (tmp_path / "rung_1.npz").write_bytes(b"PK\x03\x04 truncated")
    (tmp_path / "rung_1.ckpt").write_bytes(b"")
    (tmp_path / "rungs.json").write_text("[\n")
    with pytest.raises(RunFileError, match=r"rung_1.npz: cannot be read \(BadZipFile.*Delete it and rung_1.ckpt to "
                                           r"continue from rung 0, or run the same command with --rerun"):
        halving._Store(tmp_path).load(1)
    (tmp_path / "rung_1.npz").unlink()
    with pytest.raises(RunFileError, match=r"rungs.json: cannot be read \(JSONDecodeError.*Delete .* to train the "
                                           r"successive halving again from rung 0"):
        halving.load_records(tmp_path)
    # a finished group's halving folder deleted: deleting it (again) changed nothing, its results must go too
    results = tmp_path / "group_0.npz"
    with pytest.raises(RunFileError, match=r"rungs.json: cannot be read \(FileNotFoundError.*Restore it, or delete "
                                           r".*group_0.npz \(the group's results\) and .* to train the successive halving"):
        halving.load_records(tmp_path / "halving", finished=results)


@pytest.mark.slow  # tabular Q-learning: ~5 s
def test_a_rung_is_logged_once_saved_and_the_dropped_configs_are_said_in_the_figure_and_best_yaml(tmp_path, monkeypatch,
                                                                                                   seed_offset):
    """The rung line was logged before the rung was saved (a Ctrl-C between them retrained a rung the log had
    called done); the sensitivity figure joined a dropped config's return at its smaller budget to the
    survivors' unmarked; best.yaml said "best of 2 configs" where one reached the full budget."""
    from rl_zoo.sweep import figures

    drawn = {}
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.setdefault(path.name, fig) and path)
    saved_when_logged = []

    def log(line):
        if line.startswith("  rung 0:"):  # the rung's result (the schedule's line names it before)
            saved_when_logged.append((tmp_path / "groups" / "halving" / "rung_0.npz").exists())

    spec = make_spec("q-learning", "FrozenLake-v1", grid=["learning_rate=0.05,0.5"], seeds=2, seed=seed_offset, total_steps=64,
                     num_evals=4, eval_episodes=1, halving_eta=2)
    run_sweep(spec, tmp_path, log=log)
    assert saved_when_logged == [True]
    assert (tmp_path / "best.yaml").read_text().startswith(
        "# rl-zoo sweep: the best among the 1 of 2 configs successive halving trained to the full budget of q-learning")
    sens = drawn["sensitivity.png"]
    open_markers = [line for line in sens.axes[0].get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "white"]
    assert sum(len(line.get_xdata()) for line in open_markers) == 1  # the dropped config
    assert "open marker: dropped by successive halving" in sens._suptitle.get_text()
