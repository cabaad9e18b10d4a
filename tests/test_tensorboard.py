"""TensorBoard logging: event files written by rl_zoo.loggers (tensorboardX), read back with
TensorBoard's own reader (EventAccumulator): the tags, the steps and the values that went in."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from rl_zoo.loggers import TensorBoardLogger, WandbLogger, scalar_fields, tensorboard_hook

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


class _Episode(NamedTuple):
    episode_return: np.ndarray
    episodes: np.ndarray


class _Metrics(NamedTuple):
    episode: _Episode
    policy_loss: np.ndarray
    approx_kl: np.ndarray


def _read(folder) -> dict[str, list[tuple[int, float]]]:
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_scalar_fields_name_leaves_by_their_path():
    m = _Metrics(_Episode(np.zeros((1, 2)), np.ones((1, 2), np.int32)), np.zeros((1, 2)), np.zeros((1, 2)))
    assert sorted(scalar_fields(m)) == ["update/approx_kl", "update/episode/episode_return", "update/episode/episodes", "update/policy_loss"]
    # a vector per update ([seeds, K, D]) or a bool is not a scalar: left out (np.stack of the rest would fail)
    v = _Metrics(_Episode(np.zeros((1, 2, 3)), np.ones((1, 2), bool)), np.zeros((1, 2)), np.zeros(1))
    assert list(scalar_fields(v)) == ["update/policy_loss"]


def test_the_hook_logs_each_evaluations_return_and_train_return_under_their_names():
    from rl_zoo.driver.recorder import Evaluation
    from rl_zoo.loggers import LiveMetricsHook

    class Logger:
        def __init__(self):
            self.got = []

        def rows(self, rows):
            self.got += list(rows)

        def flush(self):
            pass

    logger = Logger()
    hook = LiveMetricsHook(lambda start: logger)
    hook.on_start(None)
    hook.on_evaluation(Evaluation(10, 1.5, (7, 8), np.array([5.0, 6.0]), np.array([3.0, np.nan])))
    assert [(r["seed"], r["env_steps"], r["return"], r["train_return"]) for r in logger.got][0] == (7, 10, 5.0, 3.0)
    assert logger.got[1]["return"] == 6.0 and np.isnan(logger.got[1]["train_return"])


def test_rows_and_per_update_metrics_read_back(tmp_path):
    seeds = [3, 4]
    log = TensorBoardLogger(tmp_path / "tb", seeds)
    # two segments of K=3 updates of 128 env steps, each followed by an evaluation row per seed
    for segment in range(2):
        loss = np.arange(6, dtype=np.float32).reshape(2, 3) + 10 * segment  # [seeds, K]
        ep_return = np.array([[np.nan, 5.0, 6.0], [7.0, np.nan, 8.0]], np.float32)  # NaN: no episode ended
        m = _Metrics(_Episode(ep_return, np.isfinite(ep_return).astype(np.int32)), loss, loss / 100)
        log.updates(m, first_update=3 * segment, env_steps_per_update=128)
        steps = 3 * (segment + 1) * 128
        log.rows([{"env_steps": steps, "wall_s": 1.5 * (segment + 1), "seed": s, "return": 100.0 * s + segment,
                   "train_return": float("nan") if segment == 0 else 50.0} for s in seeds])
        log.scalars({"steps_per_s": 1000.0 + segment}, steps)
    log.close()

    for i, seed in enumerate(seeds):
        got = _read(tmp_path / "tb" / f"seed_{seed}")
        assert {"return", "train_return", "wall_s", "steps_per_s", "update/policy_loss", "update/approx_kl",
                "update/episode/episode_return", "update/episode/episodes"} <= set(got)
        # one point per update, at the env steps the update ended on
        assert [s for s, _ in got["update/policy_loss"]] == [128 * u for u in range(1, 7)]
        assert [v for _, v in got["update/policy_loss"]] == pytest.approx([3 * i + k + 10 * seg for seg in range(2) for k in range(3)])
        # NaN points (no episode ended in that update) are left out: 2 of 3 per segment
        assert len(got["update/episode/episode_return"]) == 4
        # metrics.csv quantities under the CSV's names, one point per evaluation
        assert got["return"] == [(384, pytest.approx(100.0 * seed)), (768, pytest.approx(100.0 * seed + 1))]
        assert [s for s, _ in got["train_return"]] == [768]  # the NaN before any episode ended is left out
        assert [s for s, _ in got["steps_per_s"]] == [384, 768]


def test_wandb_missing_says_how_to_install(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "wandb", None)  # as if not installed
    with pytest.raises(ImportError, match=r"pip install -e \"\.\[wandb\]\""):
        WandbLogger(tmp_path, [0])


def test_a_wandb_run_that_cannot_start_stops_the_train_command_in_one_line(tmp_path, monkeypatch, capsys):
    """``rl-zoo train --wandb`` without a W&B login: exit 2, one line naming the flag and W&B's reason and how
    to go on, before anything trains; the run directory keeps its config.json for ``--resume``."""
    import sys
    import types

    from rl_zoo.cli import main

    class UsageError(Exception):
        pass

    def init(**kwargs):
        raise UsageError("No API key configured. Use `wandb login` to log in.")

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    run = tmp_path / "run"
    code = main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "1024", "--out", str(run),
                 "--wandb", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("rl-zoo: error: --wandb: it could not start (UsageError: No API key configured")
    assert f"rl-zoo train --resume {run}" in err and "Traceback" not in err
    assert (run / "config.json").is_file() and not (run / "metrics.csv").exists()


@pytest.mark.slow  # a real run (9 s); the writer's tags and steps are checked in the default run on hand-made rows
def test_train_with_tensorboard_hook(tmp_path, seed_offset):
    """``rl-zoo train --tensorboard``: every seed's folder holds metrics.csv's quantities at the
    evaluation steps and the per-update training metrics at every update's env step."""
    from rl_zoo import runs
    from test_load import train_tiny

    seed = 11 + seed_offset
    result, (module, config) = train_tiny(tmp_path / "run", "CartPole-v1", seed, hooks=[tensorboard_hook()])
    rows = runs.read_csv(tmp_path / "run" / "metrics.csv")
    per_update = config.num_envs * config.num_steps
    for s in (seed, seed + 1):
        got = _read(tmp_path / "run" / "tensorboard" / f"seed_{s}")
        evals = [int(r["env_steps"]) for r in rows if int(r["seed"]) == s]
        assert [step for step, _ in got["return"]] == evals
        assert [v for _, v in got["return"]] == pytest.approx([float(r["return"]) for r in rows if int(r["seed"]) == s])
        for tag in ("update/policy_loss", "update/value_loss", "update/entropy", "update/kl", "update/details/clip_frac"):
            assert [step for step, _ in got[tag]] == [per_update * u for u in range(1, config.num_updates + 1)], tag
        assert [step for step, _ in got["steps_per_s"]] == [per_update * config.num_updates]


def test_wandb_logger_logs_means_and_seeds_at_env_steps(tmp_path, monkeypatch):
    """The W&B logger's calls, seen through a stand-in for the wandb module (no account or network
    in a test): per-seed values and their mean, at increasing env steps; NaN left out."""
    import sys
    import types

    calls = []

    class Run:
        def log(self, data, step):
            calls.append((step, data))

        def finish(self):
            calls.append(("finish", None))

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=lambda **kw: Run()))
    log = WandbLogger(tmp_path / "run", [0, 1], config={"algo": "ppo"})
    m = _Metrics(_Episode(np.array([[1.0, np.nan], [3.0, 4.0]]), np.ones((2, 2))), np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros((2, 2)))
    log.updates(m, first_update=0, env_steps_per_update=10)
    log.rows([{"env_steps": 20, "wall_s": 1.0, "seed": s, "return": 10.0 + s, "train_return": 5.0} for s in (0, 1)])
    log.close()
    assert [step for step, _ in calls] == [10, 20, 20, "finish"]
    assert calls[0][1]["update/policy_loss"] == 2.0 and calls[0][1]["update/policy_loss/seed_1"] == 3.0
    assert calls[1][1]["update/episode/episode_return"] == 4.0 and "update/episode/episode_return/seed_0" not in calls[1][1]
    assert calls[2][1]["return"] == 10.5 and calls[2][1]["return/seed_1"] == 11.0


def test_resumed_run_purges_points_past_its_checkpoint(tmp_path):
    """A run killed after its checkpoint at env step 3 had logged steps 1-5; resumed with purge_step=4
    it logs 4-6 again: TensorBoard shows each step once, the resumed values past the checkpoint."""
    import time

    first = TensorBoardLogger(tmp_path, [0])
    first.scalars({"x": 1.0}, 1), first.scalars({"x": 2.0}, 2), first.scalars({"x": 3.0}, 3)
    first.scalars({"x": -4.0}, 4), first.scalars({"x": -5.0}, 5)
    first.close()
    time.sleep(1.1)  # event files are named by the second they were opened in
    resumed = TensorBoardLogger(tmp_path, [0], purge_step=4)
    for step in (4, 5, 6):
        resumed.scalars({"x": float(step)}, step)
    resumed.close()
    assert _read(tmp_path / "seed_0")["x"] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 5.0), (6, 6.0)]


def _through_the_hook(tmp_path, first: dict[int, float], start_updates: int, again: list[int],
                      start_evaluated: bool = True) -> list[tuple]:
    """The points TensorBoard reads after a killed run wrote ``first`` ({step: x}) and a resume from the
    checkpoint after ``start_updates`` updates (1 env step per update) wrote each step of ``again`` (x =
    step), through ``tensorboard_hook``, the path ``--tensorboard`` takes."""
    import time
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    killed = TensorBoardLogger(tmp_path / "tensorboard", [0])
    for step, x in first.items():
        killed.scalars({"x": x}, step)
    killed.close()
    time.sleep(1.1)  # event files are named by the second they were opened in
    hook = tensorboard_hook()
    agent = SimpleNamespace(env_steps_per_update=1)
    hook.on_start(RunStart(SimpleNamespace(seed_ids=(0,)), tmp_path, agent, None, None, start_updates=start_updates,
                           start_evaluated=start_evaluated))
    for step in again:
        hook.logger.scalars({"x": float(step)}, step)
    hook.close()
    return _read(tmp_path / "tensorboard" / "seed_0")["x"]


def test_the_hook_of_a_run_resumed_from_a_checkpoint_purges_past_it(tmp_path):
    """Resumed from the checkpoint after update 3, the points of steps 1-3 are kept, those the killed
    process wrote past it (4, 5) replaced by the resumed run's."""
    first = {1: 1.0, 2: 2.0, 3: 3.0, 4: -4.0, 5: -5.0}
    assert _through_the_hook(tmp_path, first, 3, [4, 5, 6]) == [(s, float(s)) for s in range(1, 7)]


def test_a_resume_from_a_checkpoint_saved_before_its_evaluation_logs_that_evaluation_once(tmp_path):
    """A gymnasium-backend run saves each segment before its evaluation (rl_zoo.host.runner): killed between that
    save and the next, it had logged the evaluation at step 3, which the resumed run makes again. The hook purged
    from step 4 and TensorBoard kept both points at step 3; it purges from step 3 (metrics.csv drops the row too)."""
    first = {1: 1.0, 2: 2.0, 3: -3.0}
    assert _through_the_hook(tmp_path, first, 3, [3, 4], start_evaluated=False) == [(s, float(s)) for s in range(1, 5)]


def test_that_resume_keeps_the_segments_points_at_the_checkpoints_step(tmp_path):
    """The purge from the checkpoint's step hides every tag's point there; the segment's own (update/..., steps_per_s),
    which the resumed run does not make again, are written back from the killed process's files."""
    import time
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    killed = TensorBoardLogger(tmp_path / "tensorboard", [0, 1])
    killed.updates({"loss": np.array([[0.5, 0.25], [0.75, 0.125]])}, 1, 1)  # [seeds, K]: updates 2 and 3
    killed.scalars({"steps_per_s": 100.0}, 3)
    killed.rows([{"env_steps": 3, "seed": s, "return": -3.0} for s in (0, 1)])
    killed.close()
    time.sleep(1.1)  # event files are named by the second they were opened in
    hook = tensorboard_hook()
    start = RunStart(SimpleNamespace(seed_ids=(0, 1)), tmp_path, SimpleNamespace(env_steps_per_update=1), None, None,
                     start_updates=3, start_evaluated=False)
    hook.on_start(start)
    hook.logger.rows([{"env_steps": 3, "seed": s, "return": 3.0} for s in (0, 1)])
    hook.close()
    for seed, losses in ((0, [0.5, 0.25]), (1, [0.75, 0.125])):
        read = _read(tmp_path / "tensorboard" / f"seed_{seed}")
        assert read["return"] == [(3, 3.0)]
        assert read["update/loss"] == [(2, losses[0]), (3, losses[1])]
        assert read["steps_per_s"] == [(3, 100.0)]


def test_a_run_started_again_without_a_checkpoint_logs_each_step_once(tmp_path):
    """Killed before its first checkpoint, a run resumes from nothing and writes steps 0, 1, 2 again: the
    hook purges from step 0 (it purged nothing, and TensorBoard showed the start's evaluation twice)."""
    (tmp_path / "metrics.csv").write_text("env_steps,wall_s,seed,return,train_return\n0,1.0,0,9.0,\n")  # its first row
    assert _through_the_hook(tmp_path, {0: -1.0, 1: -2.0, 2: -3.0}, 0, [0, 1, 2]) == [(0, 0.0), (1, 1.0), (2, 2.0)]


def test_a_flushed_point_survives_a_killed_process(tmp_path):
    """SummaryWriter.flush did not wait for its writer thread's queue: a process killed right after the
    hook's flush (the checkpoint then saved) lost the last points, 3 times out of 3 in a review's repro."""
    import subprocess
    import sys

    script = (f"import os; from rl_zoo.loggers import TensorBoardLogger\n"
              f"log = TensorBoardLogger({str(tmp_path / 'tb')!r}, [0])\n"
              "for i in range(5):\n"
              "    log.rows([{'env_steps': 100 * i, 'seed': 0, 'return': float(i)}]); log.flush()\n"
              "os._exit(0)  # no close, no exit handlers: as a kill -9 after the last flush\n")
    subprocess.run([sys.executable, "-c", script], check=True)
    assert _read(tmp_path / "tb" / "seed_0")["return"] == [(100 * i, float(i)) for i in range(5)]


def test_runs_given_one_dir_log_into_folders_of_their_own(tmp_path):
    """``--tensorboard DIR`` shared by two runs wrote both into ``DIR/seed_0``: TensorBoard showed one run
    with two points at each step. Each run now writes ``DIR/<run folder name>/seed_<s>``; without a DIR,
    ``RUN_DIR/tensorboard/seed_<s>`` as before."""
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    agent = SimpleNamespace(env_steps_per_update=1)
    for run, value, logdir in (("ppo-run", 1.0, tmp_path / "shared"), ("vpg-run", 2.0, tmp_path / "shared"),
                               ("own-run", 3.0, None)):
        hook = tensorboard_hook(logdir)
        hook.on_start(RunStart(SimpleNamespace(seed_ids=(0,)), tmp_path / run, agent, None, None, start_updates=0))
        hook.logger.scalars({"x": value}, 1)
        hook.close()
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["ppo-run", "vpg-run"]
    assert _read(tmp_path / "shared" / "ppo-run" / "seed_0")["x"] == [(1, 1.0)]
    assert _read(tmp_path / "shared" / "vpg-run" / "seed_0")["x"] == [(1, 2.0)]
    assert _read(tmp_path / "own-run" / "tensorboard" / "seed_0")["x"] == [(1, 3.0)]


def test_runs_of_the_same_folder_name_given_one_dir_log_apart_and_a_resume_finds_its_own(tmp_path):
    """``--out A/run`` and ``--out B/run`` with one ``--tensorboard DIR`` both wrote ``DIR/run/seed_0``: the second
    goes to ``DIR/run-2``, and each, resumed, to its own folder again."""
    import time
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    agent = SimpleNamespace(env_steps_per_update=1)

    def log(run_dir, value, step, start_updates=0):
        hook = tensorboard_hook(tmp_path / "shared")
        hook.on_start(RunStart(SimpleNamespace(seed_ids=(0,)), run_dir, agent, None, None, start_updates=start_updates))
        hook.logger.scalars({"x": value}, step)
        hook.close()
        return hook.message

    (tmp_path / "A" / "run").mkdir(parents=True), (tmp_path / "B" / "run").mkdir(parents=True)
    log(tmp_path / "A" / "run", 1.0, 1)
    assert str(tmp_path / "shared" / "run-2") in log(tmp_path / "B" / "run", 2.0, 1)
    time.sleep(1.1)  # event files are named by the second they were opened in
    log(tmp_path / "B" / "run", 4.0, 3, start_updates=2)  # resumed: its own folder, not A's
    log(tmp_path / "A" / "run", 3.0, 3, start_updates=2)
    assert sorted(p.name for p in (tmp_path / "shared").iterdir()) == ["run", "run-2"]
    assert _read(tmp_path / "shared" / "run" / "seed_0")["x"] == [(1, 1.0), (3, 3.0)]
    assert _read(tmp_path / "shared" / "run-2" / "seed_0")["x"] == [(1, 2.0), (3, 4.0)]


def test_a_new_run_at_a_deleted_runs_path_hides_its_points_and_out_dot_logs_under_its_folders_name(tmp_path, monkeypatch):
    """A run at ``--out X`` with ``--tensorboard DIR``, X deleted and a new run made there: the new run wrote beside
    the old one's events in ``DIR/X`` (two points at each step, the old algorithm's tags' points shown); it purges
    them from step 0. ``--out .`` wrote into ``DIR`` itself (``Path('.').name`` is empty), the next such run into ``DIR/-2``."""
    import shutil
    import time
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    agent = SimpleNamespace(env_steps_per_update=1)

    def log(run_dir, tags, logdir=tmp_path / "shared"):
        hook = tensorboard_hook(logdir)
        hook.on_start(RunStart(SimpleNamespace(seed_ids=(0,)), run_dir, agent, None, None, start_updates=0))
        for step in (0, 1):
            hook.logger.scalars(tags, step)
        hook.close()

    (tmp_path / "X").mkdir()
    log(tmp_path / "X", {"x": 1.0, "update/kl": 0.5})
    shutil.rmtree(tmp_path / "X")
    (tmp_path / "X").mkdir()
    time.sleep(1.1)  # event files are named by the second they were opened in
    log(tmp_path / "X", {"x": 2.0})
    read = _read(tmp_path / "shared" / "X" / "seed_0")
    assert read["x"] == [(0, 2.0), (1, 2.0)] and read.get("update/kl", []) == []  # the old tag has no point left
    for name in ("e1", "e2"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        log(Path("."), {"x": 3.0}, logdir=Path("..") / "dot")
    assert sorted(p.name for p in (tmp_path / "dot").iterdir()) == ["e1", "e2"]
    # a run directory reached through a link in DIR (`--tensorboard runs --out runs/x`, runs/x -> ../scratch/abc) is
    # still DIR's own run: RUN_DIR/tensorboard, not a new DIR/abc (resolving the link made one)
    (tmp_path / "scratch" / "abc").mkdir(parents=True)
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x").symlink_to(tmp_path / "scratch" / "abc")
    log(tmp_path / "runs" / "x", {"x": 4.0}, logdir=tmp_path / "runs")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["x"] and (tmp_path / "scratch" / "abc" / "tensorboard").is_dir()


def test_a_tensorboard_dir_that_holds_the_run_directory_logs_into_the_runs_own_folder(tmp_path):
    """``--tensorboard runs`` for a run in ``runs/``: ``runs/<name>`` is the run itself, so its events go to
    ``runs/<name>/tensorboard`` (they went to a sibling ``runs/<name>-2`` that looked like a second run)."""
    from types import SimpleNamespace

    from rl_zoo.driver.recorder import RunStart

    run = tmp_path / "runs" / "ppo-CartPole-v1-1"
    run.mkdir(parents=True)
    hook = tensorboard_hook(tmp_path / "runs")
    hook.on_start(RunStart(SimpleNamespace(seed_ids=(0,)), run, SimpleNamespace(env_steps_per_update=1), None, None, start_updates=0))
    hook.logger.scalars({"x": 1.0}, 1)
    hook.close()
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [run.name]
    assert _read(run / "tensorboard" / "seed_0")["x"] == [(1, 1.0)]


def test_a_run_resumed_into_its_older_runs_root_folder_keeps_it(tmp_path):
    """A run that logged with `--tensorboard runs` before RUN_DIR/tensorboard was its place wrote `runs/<name>-2`
    (owned by it): resumed, it keeps that folder rather than showing as two runs in TensorBoard."""
    from rl_zoo.loggers import OWNER_FILE, shared_folder

    run = tmp_path / "runs" / "ppo-x"
    run.mkdir(parents=True)
    (tmp_path / "runs" / "ppo-x-2").mkdir()  # another run directory, not a TensorBoard folder: skipped
    older = tmp_path / "runs" / "ppo-x-3"
    older.mkdir()
    (older / OWNER_FILE).write_text(f"{run.resolve()}\n")
    assert shared_folder(tmp_path / "runs", run) == older
    (older / OWNER_FILE).write_text("/elsewhere/ppo-x\n")
    assert shared_folder(tmp_path / "runs", run) == run / "tensorboard"
