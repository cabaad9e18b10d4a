"""What ``rl-zoo train --resume`` checks before it continues a run, and what it says.

* config.json must hold every field it has recorded since the first driver: a deleted ``num_evals``
  or ``seed`` took a default (the run trained past its budget; ``rl_zoo.load`` named the wrong seed);
* the checkpoint must record the run config.json describes (an edited learning rate continued silently;
  an edited hidden size failed after compiling, on the checkpoint's shapes), be a point of the run's
  segment schedule, and hold the run's seeds (checkpoints record the run and the seeds now; older ones,
  without the records, still resume exactly);
* a folder that is not a run directory gets no lock file;
* a finished run resumed with ``--record-video`` / ``--tensorboard`` says they were not applied;
* other library versions or another device count are reported (not refused);
* ``--wandb`` continues the W&B run the run directory recorded.

One short reference run (PPO on CartPole-v1, 2 seeds, 10 updates in 5 segments of 2: the programs
tests/test_run_directory.py and tests/test_cli.py compile) is trained once; each test edits a copy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from rl_zoo import checkpoint, runs
from rl_zoo.config import ConfigError
from rl_zoo.cli import main
from rl_zoo.driver.resume import resume_mismatch, unapplied_hooks_note, versions_note
from rl_zoo.driver.runner import CheckpointMeta, schedule_mismatch, seeds_mismatch, segment_schedule
from rl_zoo.driver.spec import REQUIRED_KEYS, RunSpec, read_spec, resolve_config, trajectory_mismatch
from rl_zoo.lock import FolderLock
from rl_zoo.train import train
from run_helpers import KW, copy_run, held_by_another_process, metrics_rows, snapshot



@pytest.fixture(scope="module")
def reference(tmp_path_factory, seed_offset):
    return train("ppo", "CartPole-v1", seeds=2, seed=3 + seed_offset, out=tmp_path_factory.mktemp("ref") / "run", **KW)



def _edit_config(run: Path, edit) -> None:
    data = json.loads((run / "config.json").read_text())
    edit(data)
    (run / "config.json").write_text(json.dumps(data))




# --- config.json ---------------------------------------------------------------------------------
def test_required_keys_are_written_and_later_fields_keep_their_defaults():
    _, config = resolve_config("ppo", "CartPole-v1")
    spec = RunSpec(algo="ppo", env_id="CartPole-v1", config=config, seeds=3, seed=7, num_evals=4, devices=1)
    written = spec.to_json()
    assert set(REQUIRED_KEYS) <= set(written)
    assert RunSpec.from_json(json.loads(json.dumps(written))) == spec
    for later in ("devices", "keep_checkpoints", "vector_env", "command"):  # not in the first driver's config.json
        del written[later]
    assert RunSpec.from_json(json.loads(json.dumps(written))) == spec.replace(command=None)


@pytest.mark.parametrize("deleted", [("num_evals",), ("seed",), ("backend", "seeds", "eval_episodes")])
def test_a_config_json_lacking_a_recorded_field_is_refused_naming_every_one(reference, tmp_path, capsys, deleted):
    import rl_zoo

    run = copy_run(reference.run_dir, tmp_path)
    _edit_config(run, lambda d: [d.pop(k) for k in deleted])
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"lacks the field(s) {', '.join(map(repr, deleted))}" in err and "config.json" in err and "Traceback" not in err
    assert snapshot(run) == before
    with pytest.raises(ValueError, match=r"lacks the field\(s\)"):
        rl_zoo.load(run)


def _strip_record(run: Path, field: str) -> None:
    """The newest checkpoint as written before checkpoints recorded ``field`` ("seeds", "spec", "devices")."""
    path = checkpoint.latest(run)
    leaves, meta = checkpoint.read(path)
    del meta[field]
    path.write_bytes(checkpoint.encode(leaves, meta))


@pytest.mark.parametrize("edit, named", [
    (lambda d: d["config"].update(learning_rate=d["config"]["learning_rate"] / 2), "config.learning_rate is 0.0005 there but was 0.001"),
    (lambda d: d["config"].update(hidden_size=32), "config.hidden_size is 32 there but was 64"),
    (lambda d: d.update(num_evals=3), "num_evals is 3 there but was 5"),
])
def test_an_edited_config_json_is_refused_before_compiling_naming_the_field(reference, tmp_path, capsys, edit, named):
    """A learning rate edited in config.json was continued silently as if it were the run it started as;
    a hidden size was refused only after compiling, by the checkpoint's shapes, without naming config.json."""
    run = copy_run(reference.run_dir, tmp_path)
    _edit_config(run, edit)
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "config.json: does not fit ckpt_000000010.msgpack" in captured.err and "was edited since: " + named in captured.err
    assert "compiled" not in captured.out and "Traceback" not in captured.err
    assert snapshot(run) == before


def test_a_policy_whose_config_json_changed_shapes_names_the_field(reference, tmp_path):
    import rl_zoo

    run = copy_run(reference.run_dir, tmp_path, finished=True)
    _edit_config(run, lambda d: d["config"].update(hidden_size=32))
    with pytest.raises(ValueError, match=r"expected .*\(config.json was edited since: config.hidden_size is 32 there but was 64"):
        rl_zoo.load(run)


def test_another_runs_checkpoint_need_not_share_the_evaluation_schedule(reference, tmp_path):
    """A sibling run of the same algorithm, env and config but other --evals: its checkpoint loads into this run
    (as --checkpoint's help says); this run's own checkpoint, under an edited num_evals, does not."""
    import rl_zoo

    run = copy_run(reference.run_dir, tmp_path, finished=True)
    _edit_config(run, lambda d: d.update(num_evals=d["num_evals"] + 3))
    sibling = sorted((reference.run_dir / "checkpoints").iterdir())[-1]
    assert rl_zoo.load(run, checkpoint=sibling).checkpoint == sibling
    with pytest.raises(ValueError, match="config.json was edited since: num_evals is"):
        rl_zoo.load(run)


@pytest.mark.parametrize("edit,named", [
    (lambda d: d["config"].update(normalize_obs=not d["config"]["normalize_obs"]), "config.normalize_obs is"),
    (lambda d: d["config"].update(activation="relu"), "config.activation is 'relu' there but was 'tanh'"),
    (lambda d: d.update(algo="ppo-kl"), "does not fit this run: it was written by a ppo run on CartPole-v1, not by this run's ppo-kl"),
])
def test_a_policy_whose_config_json_changed_without_changing_shapes_is_refused(reference, tmp_path, edit, named):
    """The same array shapes loaded silently as another policy (observations not normalised, another
    activation, PPO's weights as PPO-KL's): every difference from the checkpoint's record is refused."""
    import rl_zoo

    run = copy_run(reference.run_dir, tmp_path, finished=True)
    _edit_config(run, edit)
    with pytest.raises(ValueError, match=re.escape(named)):
        rl_zoo.load(run)


def test_an_edited_evaluation_schedule_is_refused_before_compiling(reference, tmp_path, capsys):
    """A checkpoint that does not record its run (written before they did) is checked against the schedule."""
    run = copy_run(reference.run_dir, tmp_path)
    _strip_record(run, "spec")
    _edit_config(run, lambda d: d.update(num_evals=3))  # 10 updates: 2 segments of 5 instead of 5 of 2
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    captured = capsys.readouterr()
    assert "does not fit ckpt_000000010.msgpack" in captured.err and "5 segment(s)" in captured.err
    assert "compiled" not in captured.out
    assert snapshot(run) == before


def test_a_checkpoint_of_other_seeds_is_refused_by_resume_and_load(reference, tmp_path, capsys):
    import rl_zoo

    run = copy_run(reference.run_dir, tmp_path)
    seed = reference.summary["seeds"][0]
    _edit_config(run, lambda d: d.update(seed=seed + 10))
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    assert f"holds the states of seeds {seed}, {seed + 1}, this run's are {seed + 10}, {seed + 11}" in capsys.readouterr().err
    assert snapshot(run) == before
    with pytest.raises(ValueError, match="does not fit this run: it holds the states of seeds"):
        rl_zoo.load(run)


@pytest.mark.parametrize("field, value", [("backend", "foo"), ("vector_env", "threads")])
def test_a_config_json_naming_an_unknown_backend_is_refused_naming_the_field(reference, tmp_path, capsys, field, value):
    """It was ``KeyError: 'foo'`` with exit 1 (RUNNERS[spec.backend]), after the lock."""
    run = copy_run(reference.run_dir, tmp_path)
    _edit_config(run, lambda d: d.update({field: value}))
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"field {field!r} = {value!r} is none of" in err and "config.json" in err
    assert snapshot(run) == before


def test_a_resumed_run_removes_the_half_written_files_of_a_killed_write(reference, tmp_path):
    """A SIGKILL inside ``atomic_write_bytes`` leaves ``.NAME.XXXX.tmp`` (megabytes for DQN); resume removes them."""
    run = copy_run(reference.run_dir, tmp_path)
    stale = [run / "checkpoints" / ".ckpt_000000012.msgpack.ab12cd_3.tmp", run / ".metrics.csv.x9yz0k1w.tmp"]
    stranger = run / ".notes.tmp"  # not a name atomic_write_bytes makes: left alone
    for path in stale + [stranger, run / ".notes.tmp.png"]:
        path.write_bytes(b"half")
    train(resume=run, progress=False, log=lambda s: None)
    assert not any(path.exists() for path in stale) and stranger.exists() and (run / ".notes.tmp.png").exists()


def test_a_full_disk_stops_the_run_in_one_line_that_says_how_it_goes_on(reference, tmp_path, capsys, monkeypatch):
    """It was a traceback with exit 1 and no word of --resume."""
    import errno

    from rl_zoo import checkpoint as ckpt

    run = copy_run(reference.run_dir, tmp_path)

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(ckpt, "atomic_write_bytes", full)
    (run / "checkpoints" / "ckpt_000000010.msgpack").unlink()  # resume from update 8: a segment and its checkpoint to go
    assert main(["train", "--resume", str(run), "--no-progress"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("rl-zoo: error: [Errno 28] No space left on device") and "Traceback" not in err
    assert f"stopped by the system (No space left on device): {run} keeps its metrics and checkpoints" in out + err
    assert f"rl-zoo train --resume {run}" in out + err


def test_schedule_and_seed_checks():
    meta = CheckpointMeta(segments_done=2, updates_done=4, train_s=0.0, wall_s=0.0, latest_train_return=(0.0,))
    assert segment_schedule(10, 5) == (2, 2, 2, 2, 2)
    assert segment_schedule(39, 7) == (13, 13, 13)
    # no count from 2 to 10 divides 11: ceil(11/5) = 3 a segment, the last shorter (the floor, 2, made 2 x 5 and 1)
    assert segment_schedule(11, 5) == (3, 3, 3, 2)
    # 29 updates in 10: the floor made 2 x 10 and a last of 9, longer than the others, a third of the run unevaluated
    assert segment_schedule(29, 10) == (3,) * 9 + (2,)
    assert segment_schedule(11, 5, meta) == (2, 2, 2, 2, 2, 1)  # a checkpoint written along the floor's segments
    assert segment_schedule(11, 5, dataclasses.replace(meta, segments_done=1, updates_done=3)) == (3, 3, 3, 2)
    for updates in range(1, 200):
        for evals in range(1, 25):
            schedule = segment_schedule(updates, evals)
            assert sum(schedule) == updates and min(schedule[:-1], default=schedule[0]) >= schedule[-1]
            asked = min(evals, updates)
            divides = any(updates % n == 0 for n in range(max(1, asked // 2), 2 * asked + 1))
            assert len(schedule) <= (2 * asked if divides else asked)  # equal segments near asked, else asked at most
    assert schedule_mismatch(meta, (2, 2, 2, 2, 2)) is None
    assert "first 2 segment(s) hold 10 updates" in schedule_mismatch(meta, (5, 5))
    assert "past the run's 3 updates" in schedule_mismatch(meta, (1, 1, 1))
    assert seeds_mismatch(None, (0, 1)) is None and seeds_mismatch((0, 1), (0, 1)) is None
    assert seeds_mismatch((3, 4, 5), (0,)) == "it holds the states of seeds 3-5, this run's are 0"


def test_trajectory_mismatch_names_what_changes_the_run_and_nothing_a_resume_may_change():
    _, config = resolve_config("ppo", "CartPole-v1")
    spec = RunSpec(algo="ppo", env_id="CartPole-v1", config=config, seeds=2, seed=3)
    record = spec.trajectory_record()
    assert trajectory_mismatch(record, spec.replace(devices=2, keep_checkpoints=9, command="x", vector_env="async")) is None
    assert trajectory_mismatch(record, spec.replace(eval_episodes=4, config=dataclasses.replace(config, gamma=0.9))) == (
        "config.json was edited since: config.gamma is 0.9 there but was 0.98 when it was written; "
        "eval_episodes is 4 there but was 10 when it was written")
    # a field the library added since the checkpoint was written: its default is no edit, another value is
    older = json.loads(record)
    del older["backend"], older["config"]["clip_value"]
    assert trajectory_mismatch(json.dumps(older), spec) is None
    assert trajectory_mismatch(json.dumps(older), spec.replace(config=dataclasses.replace(config, clip_value=True))) == (
        "config.json was edited since: config.clip_value is True there but was absent when it was written")
    # a field deleted from config.json reads as the default (review: it was said as if the file held that value)
    default_lr = type(config)().learning_rate
    assert default_lr != config.learning_rate
    assert trajectory_mismatch(record, spec.replace(config=dataclasses.replace(config, learning_rate=default_lr))) == (
        f"config.json was edited since: config.learning_rate is {default_lr!r} there (its default: a field deleted from "
        f"config.json reads as it, or it was set to it there) but was {config.learning_rate!r} when it was written")


# --- bad arguments from Python ----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, said", [
    (dict(seeds=True), "--seeds = True is invalid: must be an integer"),
    (dict(seeds=1.5), "--seeds = 1.5 is invalid: must be an integer"),
    (dict(num_evals=1.5), "--evals = 1.5 is invalid: must be an integer"),
    (dict(eval_episodes="3"), "--eval-episodes = '3' is invalid: must be an integer"),
    (dict(keep_checkpoints=0), "--keep-checkpoints = 0 is invalid: must be at least 1"),
    (dict(overrides=["learning_rate=1"]), "overrides must map config fields to values"),
    (dict(total_steps=1000, overrides={"total_timesteps": 2000}), "say the same thing twice"),
    # None where the default is a number: num_evals=None wrote config.json, then a TypeError in the runner (and the
    # resume refused that config.json); seeds=None and seed=None were bare TypeErrors naming no argument
    (dict(num_evals=None), "--evals = None is invalid: must be an integer (leave it out for its default)"),
    (dict(seeds=None), "--seeds = None is invalid: must be an integer (leave it out for its default)"),
    (dict(seed=None), "--seed = None is invalid: must be an integer (leave it out for its default)"),
    (dict(overrides={1: 2}), "unknown config field 1 (a field is named by a string) for ppo"),  # an AttributeError
    (dict(overrides={"num_layers": 1_048_576}), "config field 'num_layers' = 1048576 is invalid: must be at most 100"),
])
def test_train_from_python_refuses_bad_arguments_before_writing(kwargs, said, tmp_path):
    """A bool or float count made the run directory and its config.json, then failed in numpy, and the
    resume refused that config.json as edited; total_steps silently won over overrides' total_timesteps."""
    with pytest.raises(ConfigError, match=re.escape(said)):
        train("ppo", "CartPole-v1", out=tmp_path / "run", progress=False, **kwargs)
    assert not (tmp_path / "run").exists()


def test_an_algorithm_that_is_not_a_string_is_named_not_an_attribute_error(tmp_path):
    with pytest.raises(ValueError, match="Unknown algorithm 3. Known algorithms: "):
        train(3, "CartPole-v1", out=tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match=r"Unknown algorithm \['ppo'\]. Known algorithms: "):  # unhashable: a TypeError
        train(["ppo"], "CartPole-v1", out=tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_a_number_for_a_float_field_is_recorded_as_the_float_set_would_write(tmp_path):
    """`--set gamma=1` wrote 1.0 where a --config file's or Python's 1 wrote 1; a Fraction passed the type check, was
    written to config.json as the string "1/1000", then failed the run (and its resume refused the string)."""
    from fractions import Fraction

    train("ppo", "CartPole-v1", total_steps=256, num_evals=1, out=tmp_path / "run", progress=False,
          overrides=dict(num_envs=2, num_steps=128, gamma=1, learning_rate=Fraction(1, 1000)))
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert (config["gamma"], config["learning_rate"]) == (1.0, 0.001)
    assert isinstance(config["gamma"], float) and isinstance(config["num_envs"], int)


def test_train_from_python_takes_numpy_integers(tmp_path):
    """np.int64 counts passed the integer check, then failed writing config.json (not JSON serializable)."""
    result = train("ppo", "CartPole-v1", seeds=np.int64(1), seed=np.int32(2), total_steps=np.int64(512), num_evals=np.int64(1),
                   eval_episodes=np.int64(1), out=tmp_path / "run", progress=False, overrides=dict(num_envs=2, num_steps=64))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["seeds"], config["seed"], config["num_evals"]) == (1, 2, 1) and result.summary["env_steps_per_seed"] == 512


# --- not a run directory -------------------------------------------------------------------------
def test_a_checkpoints_file_is_refused_before_compiling(reference, tmp_path, capsys):
    """It trained a segment from the beginning, cut metrics.csv, then failed making the checkpoint folder."""
    run = tmp_path / "run"
    shutil.copytree(reference.run_dir, run)
    (run / "summary.json").unlink()
    shutil.rmtree(run / "checkpoints")
    (run / "checkpoints").write_text("not a folder")
    before = (run / "metrics.csv").read_bytes()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{run / 'checkpoints'}: is a file, not the run's checkpoint folder. Move it away" in err and "compiled" not in err
    assert (run / "metrics.csv").read_bytes() == before


def test_a_folder_holding_only_a_lock_is_taken_by_a_new_run_and_named_on_resume(tmp_path, capsys):
    """A run killed between taking its lock and writing config.json left a folder with `.lock` alone: `--resume`
    said "no config.json", and the same command with `--out` said "already exists and is not empty"."""
    left = tmp_path / "left"
    left.mkdir()
    (left / ".lock").write_text("12345\n")
    assert main(["train", "--resume", str(left), "--no-progress"]) == 2
    assert "its run was stopped before it wrote config.json (the folder holds only its lock); start it again with its " \
           f"command and --out {left}" in capsys.readouterr().err
    assert runs.refuse_non_empty(left) == left
    # killed mid-write of config.json (a kill -9 between its temporary and the rename): the same, the temporary
    # removed by the run that takes the folder (both refused it: "not empty", "no config.json there")
    (left / ".config.json.ab12cd_9.tmp").write_text('{"algo": "pp')
    assert main(["train", "--resume", str(left), "--no-progress"]) == 2
    assert "its run was stopped before it wrote config.json" in capsys.readouterr().err
    assert runs.refuse_non_empty(left) == left
    (left / "stranger.txt").write_text("")
    with pytest.raises(FileExistsError, match="already exists and is not empty"):
        runs.refuse_non_empty(left)
    (left / "stranger.txt").unlink()
    (left / "config.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already exists and is not empty"):
        runs.refuse_non_empty(left)
    with held_by_another_process(left) as pid:  # a run writing into it now: its advice (resume it) was for a stopped run
        with pytest.raises(FileExistsError, match=f"run directory '{left}' is in use by process {pid}, a run "
                                                  "writing into it now; choose another --out"):
            runs.refuse_non_empty(left)
    with FolderLock(left):  # this process's own lock (rl-zoo rlhf checks again holding it): not another run
        with pytest.raises(FileExistsError, match="already exists and is not empty"):
            runs.refuse_non_empty(left)
    (left / "config.json").unlink()
    assert main(["train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--total-steps", "2000", "--evals", "1",
                 "--out", str(left), "--no-progress"]) == 0
    assert not (left / ".config.json.ab12cd_9.tmp").exists() and (left / "summary.json").is_file()


def test_a_file_system_without_locks_is_one_line_and_a_finished_run_still_reads(reference, tmp_path, capsys, monkeypatch):
    """flock's ENOLCK (NFS without its lock daemon) was a traceback, for a new run and for a finished run's resume,
    which only reads."""
    import errno
    import fcntl

    real = fcntl.flock

    def no_exclusive_locks(fd, op):
        if op & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", no_exclusive_locks)
    said = "its file system gives no locks (No locks available), which rl-zoo takes so that two processes never write"
    assert main(["train", "--algo", "q-learning", "--env", "FrozenLake-v1", "--out", str(tmp_path / "new")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: ") and said in err and "Traceback" not in err
    assert main(["train", "--resume", str(reference.run_dir), "--no-progress"]) == 0  # finished: read, nothing written
    assert "is finished" in capsys.readouterr().out
    unfinished = copy_run(reference.run_dir, tmp_path / "unfinished")  # killed after its last checkpoint
    checkpoint.latest(unfinished).unlink()
    assert main(["train", "--resume", str(unfinished), "--no-progress"]) == 1
    assert said in capsys.readouterr().err


def test_resume_of_a_folder_without_config_json_leaves_it_as_it_was(tmp_path, capsys):
    empty = tmp_path / "e"
    empty.mkdir()
    assert main(["train", "--resume", str(empty), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "no config.json there" in err and "it holds run directories" not in err
    # the runs root itself (`--resume runs`): its newest run directories are named, to give one of them
    root = tmp_path / "runs"
    for i, name in enumerate(["a", "b", "c", "d"]):
        (root / name).mkdir(parents=True)
        (root / name / "config.json").write_text("{}")
        os.utime(root / name / "config.json", (1000 + i, 1000 + i))
        os.utime(root / name, (1000 + i, 1000 + i))
    (root / "notes").mkdir()
    assert main(["train", "--resume", str(root), "--no-progress"]) == 2
    assert (f"it holds run directories: {root / 'd'}, {root / 'c'}, {root / 'b'} and 1 more (newest first): give one of them"
            in capsys.readouterr().err)
    assert list(empty.iterdir()) == []  # no .lock: `--out e` still takes it
    assert runs.refuse_non_empty(empty) == empty
    # a sweep's or a grid's folder: resumed by running its own command again, which the error says
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "sweep.json").write_text("{}")
    (tmp_path / "b" / "cells").mkdir(parents=True)
    assert main(["train", "--resume", str(tmp_path / "s"), "--no-progress"]) == 2
    assert "it is a sweep folder (`rl-zoo sweep`); run its `rl-zoo sweep` command again" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "b"), "--no-progress"]) == 2
    assert "it is a benchmark folder (`rl-zoo benchmark`); run its `rl-zoo benchmark` command again: finished cells are " \
        "skipped and unfinished ones resume" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == ["sweep.json"] and [p.name for p in (tmp_path / "b").iterdir()] == ["cells"]


# --- a finished run --------------------------------------------------------------------------------
def test_a_finished_run_says_its_hooks_were_not_applied(reference, tmp_path):
    from rl_zoo.enjoy import VideoHook
    from rl_zoo.loggers import tensorboard_hook

    run = copy_run(reference.run_dir, tmp_path, finished=True)
    before = snapshot(run)
    said = []
    train(resume=run, progress=False, log=said.append, hooks=[VideoHook(), tensorboard_hook()])
    assert said[-1] == unapplied_hooks_note([VideoHook(), tensorboard_hook()], run)
    assert said[-1].startswith("--record-video, --tensorboard not applied: the run is finished")
    assert f"rl-zoo enjoy {run} --record OUT.gif" in said[-1]
    assert snapshot(run) == before
    assert unapplied_hooks_note([], run) is None


# --- versions, devices, old checkpoints, W&B: one resumed run ----------------------------------------
class FakeWandb:
    """Stands in for the ``wandb`` module: records ``init``'s arguments and every ``log`` call."""

    def __init__(self):
        self.inits: list[dict] = []
        self.logged: list[tuple[dict, int]] = []

    def init(self, **kwargs):
        self.inits.append(kwargs)
        fake = self

        class Run:
            id = kwargs.get("id") or f"fake{len(fake.inits)}"

            def log(self, data, step):
                fake.logged.append((data, step))

            def finish(self):
                pass

        return Run()


@pytest.fixture
def fake_wandb(monkeypatch):
    fake = FakeWandb()
    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=fake.init))
    return fake


@pytest.fixture(scope="module")
def resumed(reference, tmp_path_factory):
    """The reference run killed after its 4th segment, its newest checkpoint written before checkpoints
    recorded their seeds, its config.json recording older library versions, 2 devices and 5 checkpoints to keep (changes a resume may make), resumed with
    ``--wandb`` (a W&B run it recorded): ``(run, log lines, fake wandb)``."""
    from rl_zoo.loggers import WANDB_RUN_FILE, wandb_hook

    run = copy_run(reference.run_dir, tmp_path_factory.mktemp("resumed"))
    checkpoint.latest(run).unlink()
    for field in ("seeds", "spec", "devices"):
        _strip_record(run, field)
    _edit_config(run, lambda d: (d["versions"].update(jax="0.0.1", numpy="0.0.2"), d.update(devices=2, keep_checkpoints=5, command="edited")))
    (run / WANDB_RUN_FILE).write_text(json.dumps({"id": "abc123", "project": "mine"}))
    said, fake = [], FakeWandb()
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=fake.init))
        train(resume=run, progress=False, log=said.append, hooks=[wandb_hook()])
    return run, said, fake


def test_an_old_checkpoint_without_seeds_resumes_exactly_and_the_new_one_records_them(reference, resumed):
    run, said, _ = resumed
    assert any(line.startswith(f"resuming {run} from ckpt_000000008.msgpack") for line in said)
    assert metrics_rows(run) == metrics_rows(reference.run_dir)
    for a, b in zip(checkpoint.read(checkpoint.latest(run))[0], checkpoint.read(checkpoint.latest(reference.run_dir))[0], strict=True):
        np.testing.assert_array_equal(a, b)
    newest = checkpoint.read(checkpoint.latest(run))[1]
    assert newest["seeds"] == reference.summary["seeds"]
    assert json.loads(newest["spec"]) == json.loads(read_spec(reference.run_dir).trajectory_record())


def test_devices_edited_in_config_json_are_said_and_the_checkpoints_count_kept(reference, tmp_path):
    """config.json's devices edited (1 -> 2) resumed on 2 without a word: the checkpoint now records the
    count its seeds were split over, and a resume continues on that one, saying what config.json says (review)."""
    run = copy_run(reference.run_dir, tmp_path)
    trained_on = checkpoint.read(checkpoint.latest(run))[1]["devices"]
    assert trained_on == reference.summary["devices"]
    _edit_config(run, lambda d: d.update(devices=2 if trained_on == 1 else 1))
    said = []
    result = train(resume=run, progress=False, log=said.append)
    assert f"config.json records {2 if trained_on == 1 else 1} device(s) but {checkpoint.list_checkpoints(reference.run_dir)[-1].name} " \
        f"was written on {trained_on} (an earlier resume with --devices, or an edited config.json): the checkpoint's count " \
        f"is the run's" in said
    assert result.summary["devices"] == trained_on and not any(line.startswith("resuming on") for line in said)
    assert metrics_rows(run) == metrics_rows(reference.run_dir)


def test_other_versions_and_devices_are_reported(resumed):
    import jax

    run, said, _ = resumed
    warning = [line for line in said if line.startswith("warning: library versions or JAX settings differ")]
    assert len(warning) == 1 and f"jax 0.0.1 -> {jax.__version__}" in warning[0] and "numpy 0.0.2 -> " in warning[0]
    assert any(line.startswith("resuming on 1 device(s); the run trained on 2") for line in said)
    assert json.loads((run / "summary.json").read_text())["devices"] == 1


def test_wandb_continues_the_recorded_run(resumed):
    _, _, fake = resumed
    assert len(fake.inits) == 1
    assert fake.inits[0]["id"] == "abc123" and fake.inits[0]["resume"] == "allow" and fake.inits[0]["project"] == "mine"
    assert min(step for _, step in fake.logged) > 8 * 256  # from the checkpoint on
    config = fake.inits[0]["config"]  # config.json's run-level fields beside the algorithm's (were the latter only)
    assert config["algo"] == "ppo" and config["seeds"] >= 1 and "num_evals" in config and "versions" in config
    assert config["learning_rate"] == json.loads((resumed[0] / "config.json").read_text())["config"]["learning_rate"]


def test_versions_note():
    same = {"jax": "1", "numpy": "2", "platform": "a", "devices": "cpu:0"}
    assert versions_note(same, dict(same, platform="b", devices="cpu:0, cpu:1")) is None
    assert "jax 1 -> 3" in versions_note(same, dict(same, jax="3"))
    assert "records no library versions" in versions_note(None, same)
    # rl_zoo's own source (a `git pull` between a kill and --resume) and the CPU model are recorded and compared too
    assert "rl-zoo-commit abc -> def" in versions_note(dict(same, **{"rl-zoo-commit": "abc"}), dict(same, **{"rl-zoo-commit": "def"}))
    assert "cpu Xeon -> EPYC" in versions_note(dict(same, cpu="Xeon"), dict(same, cpu="EPYC"))
    # the JAX settings that change numbers, where config.json records them (not for runs from before they were)
    assert "jax_enable_x64 False -> True" in versions_note(dict(same, jax_enable_x64="False"), dict(same, jax_enable_x64="True"))
    assert versions_note(same, dict(same, jax_enable_x64="False")) is None
    # XLA_FLAGS and JAX_* variables config.json records: a resume without them went on along other random streams
    # (JAX_THREEFRY_PARTITIONABLE=0) or other code (XLA_FLAGS=--xla_backend_optimization_level=0), unsaid
    env = lambda **kw: dict(same, **{f"env {k}": v for k, v in kw.items()})  # noqa: E731
    opt = "--xla_backend_optimization_level=0"
    assert f"env XLA_FLAGS {opt!r} -> 'unset'" in versions_note(env(XLA_FLAGS=opt), same)
    assert "env JAX_THREEFRY_PARTITIONABLE '0' -> 'unset'" in versions_note(env(JAX_THREEFRY_PARTITIONABLE="0"), same)
    assert "env JAX_THREEFRY_PARTITIONABLE 'unset' -> '1'" in versions_note(same, env(JAX_THREEFRY_PARTITIONABLE="1"))
    # the device count alone is said apart (as are x64, the matmul precision, the key kind and the platforms)
    count = "--xla_force_host_platform_device_count"
    assert versions_note(env(XLA_FLAGS=f"{count}=2"), env(XLA_FLAGS=f"{count}=4")) is None
    assert versions_note(env(XLA_FLAGS=f"{count}=2 {opt}"), env(XLA_FLAGS=f"{opt} {count}=4")) is None
    assert f"env XLA_FLAGS {opt!r} -> 'unset'" in versions_note(env(XLA_FLAGS=f"{count}=2 {opt}"), env(XLA_FLAGS=f"{count}=2"))
    assert versions_note(env(JAX_NUM_CPU_DEVICES="2", JAX_ENABLE_X64="1"), same) is None


def test_wandb_logger_records_a_new_run_and_continues_it(tmp_path, fake_wandb):
    from rl_zoo.loggers import WANDB_RUN_FILE, WandbLogger

    WandbLogger(tmp_path, [0, 1], project="p")
    assert "id" not in fake_wandb.inits[0]
    assert json.loads((tmp_path / WANDB_RUN_FILE).read_text()) == {"id": "fake1", "project": "p"}
    logger = WandbLogger(tmp_path, [0, 1], resume=True)
    assert fake_wandb.inits[1]["id"] == "fake1" and fake_wandb.inits[1]["resume"] == "allow"
    assert fake_wandb.inits[1]["project"] == "p" and "fake1 continued" in logger.message
    (tmp_path / WANDB_RUN_FILE).unlink()
    WandbLogger(tmp_path, [0, 1], resume=True)  # nothing recorded (the run began without --wandb): a new W&B run
    assert "id" not in fake_wandb.inits[2]


def test_resume_mismatch_of_a_host_run_checks_its_budget(reference):
    spec = read_spec(reference.run_dir).replace(backend="gymnasium")
    agent = types.SimpleNamespace(num_updates=10)
    meta = CheckpointMeta(segments_done=7, updates_done=12, train_s=0.0, wall_s=0.0, latest_train_return=(0.0, 0.0))
    assert "only 10" in resume_mismatch(spec, agent, meta)
    assert resume_mismatch(spec, agent, CheckpointMeta(7, 10, 0.0, 0.0, (0.0, 0.0))) is None  # host segments may differ


def test_a_checkpoint_of_another_algorithm_or_env_is_said_so_not_a_field_at_its_default():
    """Review: a resume whose config.json names another env than its checkpoint said "env is 'Acrobot-v1' there (its
    default: a field deleted from config.json reads as it ...)", though algo and env are required (a deleted one is
    refused as lacking); a dqn checkpoint copied into a ppo run's folder read as config.json edited."""
    _, config = resolve_config("ppo", "CartPole-v1")
    spec = RunSpec(algo="ppo", env_id="CartPole-v1", config=config, seeds=2)
    other_env = trajectory_mismatch(spec.trajectory_record(), spec.replace(env_id="Acrobot-v1"))
    assert other_env.startswith("config.json was edited since: env is 'Acrobot-v1' there but was") and "default" not in other_env
    agent = types.SimpleNamespace(num_updates=10)
    _, dqn_config = resolve_config("dqn", "CartPole-v1")
    dqn = RunSpec(algo="dqn", env_id="CartPole-v1", config=dqn_config, seeds=2)
    meta = CheckpointMeta(5, 10, 0.0, 0.0, (0.0, 0.0), seeds=(0, 1), spec=dqn.trajectory_record())
    assert resume_mismatch(spec, agent, meta) == (
        "it was written by a dqn run on CartPole-v1, not by this run's ppo on CartPole-v1 (config.json edited since, "
        "or a checkpoint copied in from another run)")


def test_a_resumed_runs_summary_counts_the_evaluation_and_checkpoint_time_of_every_process(reference, tmp_path):
    """Review: a resumed run's summary.json added up train_s over its processes but counted eval_s and checkpoint_s
    of the last process only (0.0 beside the time of 14 evaluations and 13 checkpoints)."""
    run = copy_run(reference.run_dir, tmp_path)
    for older in sorted((run / "checkpoints").glob("ckpt_*.msgpack"))[:-1]:
        older.unlink()  # the last one: the resume evaluates and checkpoints nothing more
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    before, after = (json.loads((d / "summary.json").read_text()) for d in (reference.run_dir, run))
    assert after["eval_s"] == before["eval_s"] > 0  # all of it in the first process, every evaluation made there
    assert 0 < after["checkpoint_s"] <= before["checkpoint_s"]  # but for the last checkpoint's writing


def test_remove_stale_temporaries_takes_ours_and_leaves_strangers(tmp_path):
    """What a killed writer leaves (mkstemp's ``.NAME.XXXXXXXX.tmp``, the figure's ``.curve.tmp.png``) goes; other
    hidden files stay. (The resume test above redraws curve.png, which replaces a stale ``.curve.tmp.png`` anyway.)"""
    (tmp_path / "checkpoints").mkdir()
    ours = [tmp_path / ".curve.tmp.png", tmp_path / ".summary.json.k2j4h6g8.tmp",
            tmp_path / "checkpoints" / ".ckpt_000000004.msgpack.a1b2c3d4.tmp"]
    strangers = [tmp_path / ".notes.tmp", tmp_path / ".notes.tmp.png", tmp_path / ".lock", tmp_path / ".x.toolong12.tmp"]
    for path in ours + strangers:
        path.write_bytes(b"x")
    assert sorted(runs.remove_stale_temporaries(tmp_path)) == sorted(ours)
    assert all(p.exists() for p in strangers) and not any(p.exists() for p in ours)


@pytest.mark.parametrize("given", [dict(overrides={"learning_rate": 5.0}), dict(total_steps=4096), dict(out="elsewhere"),
                                   dict(total_steps=0), dict(out="")])
def test_resume_from_python_refuses_the_settings_it_would_ignore(given, tmp_path):
    """train(resume=RUN, overrides={...}) returned the run as it was, the overrides silently ignored (the
    CLI refuses --set, --total-steps and --out with --resume)."""
    with pytest.raises(ConfigError, match=f"continues the run with the settings its config.json records: leave out {next(iter(given))}"):
        train(resume=tmp_path / "run", progress=False, log=lambda s: None, **given)
    assert not (tmp_path / "run").exists()
