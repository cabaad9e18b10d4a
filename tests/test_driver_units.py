"""The driver's small pure pieces on hand-worked values: the NaN guard's message, the rows a resume
keeps, the latest training return, the last evaluation's returns and summary.json's totals (a fourth
mutation round found each could change without any fast test failing)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pytest

from rl_zoo import runs
from rl_zoo.driver.guard import NonFiniteError, check_finite
from rl_zoo.driver.recorder import Recorder, _row, summarize
from rl_zoo.driver.resume import rows_up_to
from rl_zoo.driver.runner import CheckpointMeta, ResumePoint, latest_episode_return


class _Episode(NamedTuple):
    episodes: np.ndarray
    episode_return: np.ndarray


class _Metrics(NamedTuple):
    loss: np.ndarray
    episode: _Episode


def test_the_nan_guard_names_the_first_update_then_the_seed_and_skips_episode_statistics(tmp_path):
    """Seed index 0 goes NaN at update 5 of the segment, seed index 1 Inf at update 2: the earlier update
    is named (10 done before: update 13, env step 13 x 128 = 1,664) with its seed (first seed 3 + 1). An
    update where no episode ended has NaN episode statistics by design: not a failure."""
    no_episode = _Episode(np.zeros((2, 8)), np.full((2, 8), np.nan))
    loss = np.zeros((2, 8))
    loss[0, 5], loss[1, 2] = np.nan, np.inf
    where = dict(done_updates=10, steps_per_update=128, first_seed=3, run_dir=tmp_path)
    with pytest.raises(NonFiniteError, match=r"non-finite value at update 13 \(env step 1,664\) of seed 4: loss = inf"):
        check_finite(_Metrics(loss, no_episode), {}, **where)
    check_finite(_Metrics(np.zeros((2, 8)), no_episode), {}, **where)
    with pytest.raises(NonFiniteError, match=r"in this segment of seed 4: parameter \['w'\] is not finite"):
        check_finite(_Metrics(np.zeros((2, 8)), no_episode), {"w": np.array([True, False])}, **where)
    per_layer = np.ones((2, 8, 3))  # several values per update (a gradient norm per layer): the non-finite one is named
    per_layer[1, 2, 2] = np.nan
    with pytest.raises(NonFiniteError, match=r"at update 13 \(env step 1,664\) of seed 4: loss = nan"):
        check_finite(_Metrics(per_layer, no_episode), {}, **where)


def test_a_resume_keeps_the_rows_at_its_checkpoint_only_if_it_was_evaluated(tmp_path):
    """A host run killed after an evaluation's rows were written but before the checkpoint that follows
    it: the checkpoint before the evaluation (evaluated=False) drops that step's rows, which the resume
    makes again (kept, they would be there twice)."""
    runs.write_csv(tmp_path / "metrics.csv", [_row(t, 0.0, 0, 1.0, 1.0) for t in (0, 200, 400)])
    for evaluated, steps in ((False, [0, 200]), (True, [0, 200, 400])):
        point = ResumePoint(tmp_path / "ckpt", CheckpointMeta(2, 4, 0.0, 0.0, (1.0,), evaluated=evaluated, seeds=(0,)))
        assert [r["env_steps"] for r in rows_up_to(tmp_path, point, 100, (0,))] == steps


def test_a_resume_refuses_metrics_that_lack_an_evaluation_before_its_checkpoint(tmp_path):
    """A JAX run evaluates at the start and after every segment: rows of a whole evaluation deleted from the
    middle of metrics.csv (a review's edit) were taken up, and the finished run lacked them for good; rows of
    only some seeds at a step too. Segments of 2 updates of 100 env steps, 2 seeds, checkpoint after 3 segments."""
    point = ResumePoint(tmp_path / "ckpt_6", CheckpointMeta(3, 6, 0.0, 0.0, (1.0, 1.0), evaluated=True, seeds=(0, 1)))
    whole = [_row(t, 0.0, s, 1.0, 1.0) for t in (0, 200, 400, 600) for s in (0, 1)]
    runs.write_csv(tmp_path / "metrics.csv", whole)
    assert len(rows_up_to(tmp_path, point, 100, (0, 1), schedule=(2, 2, 2, 2))) == 8
    runs.write_csv(tmp_path / "metrics.csv", [r for r in whole if r["env_steps"] != 200])
    with pytest.raises(runs.RunFileError, match=r"lacks the evaluation at env step 200 \(of seeds \[0, 1\]\): it was cut"):
        rows_up_to(tmp_path, point, 100, (0, 1), schedule=(2, 2, 2, 2))
    assert len(rows_up_to(tmp_path, point, 100, (0, 1))) == 6  # a host run's evaluations are not every segment's
    runs.write_csv(tmp_path / "metrics.csv", [r for r in whole if (r["env_steps"], r["seed"]) != (400, 1)])
    with pytest.raises(runs.RunFileError, match=r"lacks the evaluation at env step 400 \(of seeds \[0, 1\]\)"):
        rows_up_to(tmp_path, point, 100, (0, 1))


def test_the_latest_training_return_is_the_last_update_that_ended_an_episode():
    metrics = SimpleNamespace(episode=_Episode(np.array([[1, 0, 2], [0, 0, 0]]), np.array([[5.0, np.nan, 9.0], [np.nan] * 3])))
    np.testing.assert_array_equal(latest_episode_return(metrics, np.array([np.nan, 7.0])), [9.0, 7.0])  # none ended: kept


def test_a_finished_runs_final_returns_are_its_last_evaluations(tmp_path):
    """A run resumed with nothing left to train takes its summary's final returns from metrics.csv's last
    evaluation, not its first (the random policy's)."""
    rows = [_row(0, 0.0, 0, 1.0, np.nan), _row(0, 0.0, 1, 2.0, np.nan), _row(100, 1.0, 0, 3.0, np.nan), _row(100, 1.0, 1, 4.0, np.nan)]
    np.testing.assert_array_equal(Recorder(tmp_path, rows=rows).last_returns(2), [3.0, 4.0])


def test_the_summary_counts_env_steps_over_every_seed():
    spec = SimpleNamespace(algo="ppo", env_id="CartPole-v1", backend="jax", seed_ids=(0, 1, 2), seeds=3, eval_episodes=10, devices=1, env_kwargs={})
    summary = summarize(spec, np.array([1.0, 2.0, 3.0]), env_steps_per_seed=4096, compile_s=1.0, train_s=2.0)
    assert (summary["env_steps_total"], summary["steps_per_s"], summary["final_return_mean"]) == (12288, 6144.0, 2.0)


def test_the_summary_of_returns_read_back_from_metrics_is_the_uninterrupted_runs():
    """A run killed after its last checkpoint summarises the returns metrics.csv gives back (float64 of the float32
    values); the uninterrupted run summarised the evaluation's float32 array: its std differed in the 7th digit."""
    spec = SimpleNamespace(algo="ppo", env_id="CartPole-v1", backend="jax", seed_ids=(0, 1, 2), seeds=3, eval_episodes=10, devices=1, env_kwargs={})
    evaluated = np.array([396.9, 500.0, 500.0], np.float32)
    read_back = np.array([float(x) for x in evaluated])  # as runs.write_csv writes and read_metrics reads them
    kept = ("final_return", "final_return_mean", "final_return_std")
    first, again = (summarize(spec, r, env_steps_per_seed=1, compile_s=0.0, train_s=1.0) for r in (evaluated, read_back))
    assert {k: first[k] for k in kept} == {k: again[k] for k in kept}


def test_a_resume_splits_the_cpu_as_asked_before_as_recorded(tmp_path, monkeypatch):
    """``--devices`` given on resume wins over config.json's recorded count; without it, the recorded one."""
    from rl_zoo import distributed
    from rl_zoo.driver.resume import split_cpu_as_recorded

    asked = []
    monkeypatch.setattr(distributed, "split_cpu", lambda rows, devices=None: asked.append((rows, devices)) or devices)
    (tmp_path / "config.json").write_text('{"seeds": 4, "devices": 2}')
    assert (split_cpu_as_recorded(tmp_path, 1), split_cpu_as_recorded(tmp_path)) == (1, 2)
    assert asked == [(4, 1), (4, 2)]
    (tmp_path / "config.json").write_text("{not json")
    assert split_cpu_as_recorded(tmp_path, 2) == 1 and len(asked) == 2  # unreadable: nothing split, the driver reports it


def test_a_resume_splits_the_cpu_as_its_checkpoint_was_written_not_as_config_json_first_said(tmp_path, monkeypatch):
    """config.json keeps the count a run started with; a resume with --devices 1 wrote its checkpoints on 1: a
    later plain resume split the CPU by config.json's 2, after saying the checkpoint's count was the run's."""
    from rl_zoo import checkpoint, distributed
    from rl_zoo.driver.resume import split_cpu_as_recorded
    from rl_zoo.driver.runner import CheckpointMeta

    asked = []
    monkeypatch.setattr(distributed, "split_cpu", lambda rows, devices=None: asked.append((rows, devices)) or devices)
    (tmp_path / "config.json").write_text('{"seeds": 4, "devices": 2}')
    meta = CheckpointMeta(1, 8, 1.0, 1.0, (0.0,) * 4, devices=1)
    checkpoint.save(tmp_path, 8, {"w": np.zeros(3)}, meta.to_dict())
    assert (split_cpu_as_recorded(tmp_path), split_cpu_as_recorded(tmp_path, 2)) == (1, 2)  # --devices still wins
    checkpoint.save(tmp_path, 16, {"w": np.zeros(3)}, CheckpointMeta(2, 16, 2.0, 2.0, (0.0,) * 4).to_dict())
    assert split_cpu_as_recorded(tmp_path) == 2  # a checkpoint that does not record its count: config.json's


def test_the_terminal_summary_says_what_its_plus_minus_is(tmp_path):
    """"final greedy return 251.9 +- 53.4 over 3 seed(s)" did not say what +- was (a new user's review)."""
    from rl_zoo.driver.run import RunResult, format_summary

    (tmp_path / "metrics.csv").write_text("env_steps,wall_s,seed,return,train_return\n0,0.0,0,1.0,nan\n0,0.0,1,3.0,nan\n"
                                          "512,1.0,0,10.0,5.0\n512,1.0,1,30.0,6.0\n")
    summary = dict(algo="ppo", env="CartPole-v1", seeds=[0, 1], final_return_mean=20.0, final_return_std=10.0, env_steps_per_seed=512,
                   compile_s=1.0, train_s=2.0, steps_per_s=512.0, peak_memory_mb=100.0)
    lines = format_summary(RunResult(tmp_path, summary)).splitlines()
    assert lines[0] == "ppo on CartPole-v1: final greedy return 20.0 +- 10.0 (mean +- std over 2 seeds) after 512 env steps per seed"
    assert [line.split() for line in lines[2:4]] == [["0", "2.00"], ["512", "20.0"]]
    assert lines[4:] == ["compile 1.0s, train 2.0s, 512 env steps/s, peak memory 100 MB", f"run written to {tmp_path}"]
    one = dict(summary, seeds=[0], final_return_std=0.0)
    assert format_summary(RunResult(tmp_path, one)).splitlines()[0] == \
        "ppo on CartPole-v1: final greedy return 20.0 (1 seed) after 512 env steps per seed"


def test_a_run_whose_keys_are_of_another_prng_kind_is_refused_before_anything_changes(tmp_path):
    """JAX_DEFAULT_PRNG_IMPL=rbg on a threefry run's checkpoint: wrap_key_data's TypeError traceback, after resumes.json
    was written; rbg's keys read as unsafe_rbg's (both 4 words wide): the run went on, on other random streams."""
    import jax

    from rl_zoo import checkpoint
    from rl_zoo.driver.resume import prng_mismatch

    assert prng_mismatch({"jax_default_prng_impl": "rbg"}, {"jax_default_prng_impl": "unsafe_rbg"}).endswith(
        "resume it with JAX_DEFAULT_PRNG_IMPL=rbg")
    assert prng_mismatch({"jax_default_prng_impl": "rbg"}, {"jax_default_prng_impl": "rbg"}) is None
    assert prng_mismatch({}, {"jax_default_prng_impl": "rbg"}) is None  # a config.json of before it was recorded
    path = checkpoint.save(tmp_path, 1, {"key": jax.random.key(0, impl="threefry2x32")}, {})
    with pytest.raises(ValueError, match="random keys 2 words wide, this process's .*4: it was written under another"):
        checkpoint.restore(path, {"key": jax.random.key(0, impl="rbg")})
    restored, _ = checkpoint.restore(path, {"key": jax.random.key(5, impl="threefry2x32")})
    assert (jax.random.key_data(restored["key"]) == jax.random.key_data(jax.random.key(0))).all()


def test_a_checkpoint_array_of_another_kind_is_refused_not_cast(tmp_path):
    """restore cast each array to the template's dtype: a float 0.7 restored into an int leaf became 0, silently."""
    import jax.numpy as jnp
    import numpy as np

    from rl_zoo import checkpoint

    path = checkpoint.save(tmp_path, 1, {"q": jnp.array([0.7, 1.5])}, {})
    with pytest.raises(ValueError, match="array 0 holds float32 values, this config's state int32"):
        checkpoint.restore(path, {"q": jnp.zeros(2, jnp.int32)})
    restored, _ = checkpoint.restore(path, {"q": jnp.zeros(2, jnp.float16)})  # a width, not a kind: cast
    assert restored["q"].dtype == jnp.float16 and np.allclose(restored["q"], [0.7, 1.5], atol=1e-3)
    count = checkpoint.save(tmp_path / "n", 1, {"n": jnp.array(3, jnp.uint32)}, {})
    assert int(checkpoint.restore(count, {"n": jnp.array(0, jnp.int32)})[0]["n"]) == 3  # signed or not: an int


def test_numpy_scalars_given_as_overrides_become_python_numbers():
    """``overrides={"num_envs": np.int64(4)}`` passed the type checks as numpy and broke config.json (not JSON
    serializable) after the run directory was made, leaving .lock and config.json behind."""
    import json

    import numpy as np

    from rl_zoo.driver.spec import resolve_config

    _, config = resolve_config("ppo", "CartPole-v1", {"num_envs": np.int64(4), "learning_rate": np.array(1e-3),
                                                      "anneal_lr": np.bool_(False)})
    assert (type(config.num_envs), type(config.learning_rate), type(config.anneal_lr)) == (int, float, bool)
    json.dumps({"num_envs": config.num_envs, "learning_rate": config.learning_rate, "anneal_lr": config.anneal_lr})
    # JAX's concrete scalars too: taken for tracers, they skipped the checks and broke config.json the same way
    import jax.numpy as jnp

    _, config = resolve_config("ppo", "CartPole-v1", {"num_envs": jnp.int32(4), "learning_rate": jnp.float32(1e-3)})
    assert (type(config.num_envs), type(config.learning_rate)) == (int, float)
    with pytest.raises(ValueError, match="config field 'num_envs' = 4.0 is invalid: must be an integer"):
        resolve_config("ppo", "CartPole-v1", {"num_envs": jnp.float32(4.0)})


@pytest.mark.parametrize("kwargs, said", [
    (dict(out=""), "out = '' is invalid"),  # a whole run was written into the current folder
    (dict(out="x", runs_root="elsewhere"), "out and runs_root = 'elsewhere' were both given"),  # runs_root was ignored
    (dict(log=None), "log = None is invalid"),  # a TypeError after config.json was written
    (dict(progress="no"), "progress = 'no' is invalid: must be True or False"),  # truthy: the bar was shown
    (dict(out=123), "out = 123 is invalid: give a folder as a str or a pathlib.Path"),  # a bare "expected str, bytes ..."
    (dict(runs_root=None), "runs_root = None is invalid: give a folder"),
])
def test_python_train_refuses_what_the_command_line_cannot_give_before_anything_is_made(tmp_path, monkeypatch, kwargs, said):
    from rl_zoo.config import ConfigError
    from rl_zoo.train import train

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=said):
        train("ppo", "CartPole-v1", total_steps=256, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, said", [
    (dict(keep_checkpoints=2.5), "--keep-checkpoints = 2.5 is invalid: must be an integer"),
    (dict(keep_checkpoints=True), "--keep-checkpoints = True is invalid: must be an integer"),  # kept 1, silently
    (dict(devices="1"), "--devices = '1' is invalid: must be an integer"),
])
def test_a_resume_checks_its_counts_as_a_new_run_does_before_anything_is_written(tmp_path, kwargs, said):
    """``train(resume=R, keep_checkpoints=2.5)`` failed in a TypeError after resumes.json had recorded the resume."""
    from rl_zoo.config import ConfigError
    from rl_zoo.train import train

    with pytest.raises(ConfigError, match=said):
        train(resume=tmp_path, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_metrics_files_are_the_rows_written_whole_after_each_evaluation(tmp_path):
    """metrics.csv is written whole at every evaluation, its rows now formatted once (``runs.CsvText``): formatting
    them all again made a 4,000-evaluation run spend 55 s of its 80 s writing it. The files stay exactly what
    ``runs.write_csv`` makes of all the rows, a resumed run's earlier rows and a host's shard included."""
    from rl_zoo.driver.recorder import Evaluation

    earlier = [_row(0, 0.5, s, 1.0 + s, float("nan")) for s in (3, 4, 5)]
    recorder = Recorder(tmp_path, host=1, host_seeds=(4,), rows=earlier)
    for i in range(1, 4):
        recorder.evaluation(Evaluation(256 * i, 0.1234567 * i, (3, 4, 5), np.array([i, 0.96, -1e-7]), np.array([2.0, np.nan, 3.5])))
    expect = tmp_path / "expect.csv"
    runs.write_csv(expect, recorder.rows)
    assert (tmp_path / "metrics.csv").read_bytes() == expect.read_bytes()
    runs.write_csv(expect, [r for r in recorder.rows if r["seed"] == 4])
    assert (tmp_path / "metrics.host1.csv").read_bytes() == expect.read_bytes()
    assert len(recorder.rows) == 12 and runs.read_metrics(tmp_path / "metrics.csv")[-1]["return"] == -1e-7
    assert runs.CsvText(rows=recorder.rows).text() == (tmp_path / "metrics.csv").read_bytes().decode()


def test_the_divergence_advice_names_the_algorithms_own_fields():
    """"A smaller learning rate (or max_grad_norm)" was said to TRPO, which has neither, and VPG, which has no clip."""
    from rl_zoo import algos
    from rl_zoo.driver.guard import cure_words

    def fields(name):
        import dataclasses

        return {f.name: None for f in dataclasses.fields(algos.get(name)[0].Config)}

    assert cure_words(fields("ppo"), "policy_loss = nan") == "A smaller learning_rate (or max_grad_norm) usually cures this (--set)."
    assert cure_words(fields("trpo"), "value_loss = nan") == "A smaller value_lr or max_kl usually cures this (--set)."
    assert cure_words(fields("trpo"), "surrogate = inf") == "A smaller value_lr or max_kl usually cures this (--set)."
    assert cure_words(fields("vpg"), "value_loss = nan") == "A smaller value_lr or learning_rate usually cures this (--set)."
    assert cure_words(fields("vpg"), "policy_loss = nan") == "A smaller learning_rate or value_lr usually cures this (--set)."
    assert cure_words({}, "x = nan") == "A smaller learning rate (or max_grad_norm) usually cures this."
