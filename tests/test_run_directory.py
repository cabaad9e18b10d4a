"""A run directory hurt in the ways issue 20 lists: a damaged checkpoint (fallback to the newest intact
one), every checkpoint damaged, a corrupted config.json or metrics.csv, a second process on a locked
run directory. Every refusal names the file and leaves every file as it was.

One short reference run (PPO on CartPole-v1, 2 seeds, 10 updates in 5 segments of 2) is trained once;
each test damages a copy of it. A copy without its summary is exactly a run killed after its last
checkpoint: resuming it re-runs the segments after the checkpoint it falls back to.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rl_zoo import checkpoint, runs
from rl_zoo.cli import main
from rl_zoo.driver import RecorderHook
from rl_zoo.lock import FolderInUse, FolderLock
from rl_zoo.train import train
from run_helpers import KW, copy_run, metrics_rows, snapshot



class _LockProbe(RecorderHook):
    """Tries to take the run directory's lock at every evaluation: it must be held by the run."""

    def __init__(self):
        self.refusals: list[str] = []

    def on_evaluation(self, evaluation) -> None:
        try:
            FolderLock(self.run_dir).acquire().release()
        except FolderInUse as e:
            self.refusals.append(str(e))

    def on_start(self, start) -> None:
        self.run_dir = start.run_dir


@pytest.fixture(scope="module")
def reference(tmp_path_factory, seed_offset):
    probe = _LockProbe()
    result = train("ppo", "CartPole-v1", seeds=2, seed=seed_offset, out=tmp_path_factory.mktemp("ref") / "run",
                   keep_checkpoints=3, hooks=[probe], **KW)
    return result, probe





def test_the_run_holds_its_lock_while_it_trains_and_releases_it(reference):
    result, probe = reference
    assert len(probe.refusals) == 6  # every evaluation (0 and after 5 segments) found the directory locked
    assert all("run directory" in m and "is in use by process" in m for m in probe.refusals)
    FolderLock(result.run_dir).acquire().release()  # free again once the run ended


def test_truncated_newest_checkpoint_falls_back_to_the_previous_with_the_same_result(reference, tmp_path):
    ref = reference[0]
    run = copy_run(reference[0].run_dir, tmp_path)
    newest, previous = checkpoint.list_checkpoints(run)[-1], checkpoint.list_checkpoints(run)[-2]
    newest.write_bytes(newest.read_bytes()[:1000])  # a disk that filled up
    said = []
    result = train(resume=run, progress=False, log=said.append)
    text = "\n".join(said)
    assert f"checkpoint {newest} is damaged" in text and "checksum" in text
    assert f"resuming {run} from {previous.name}" in text
    assert (newest.parent / (newest.name + ".damaged")).stat().st_size == 1000  # kept, renamed
    assert metrics_rows(run) == metrics_rows(ref.run_dir)  # rows past the fallback trimmed, re-made identically
    assert result.summary["final_return"] == ref.summary["final_return"]
    for a, b in zip(checkpoint.read(checkpoint.latest(run))[0], checkpoint.read(checkpoint.latest(ref.run_dir))[0], strict=True):
        np.testing.assert_array_equal(a, b)
    # the resume is on record (it left none where versions and devices were unchanged)
    (entry,) = json.loads((run / "resumes.json").read_text())
    assert entry["from_checkpoint"] == previous.name and entry["updates_done"] > 0 and entry["devices"] == ref.summary["devices"]
    assert entry["versions"]["jax"] == runs.versions()["jax"] and result.summary["resumes"] == [entry]
    assert ref.summary["resumes"] == [] and not (ref.run_dir / "resumes.json").exists()


def test_a_resume_from_the_last_checkpoint_prunes_the_one_a_kill_left(reference, tmp_path):
    """Killed after its last checkpoint was written and before the oldest was deleted, a run kept one too
    many for good: the resume from the last checkpoint saves none, and only a save pruned."""
    run = copy_run(reference[0].run_dir, tmp_path)
    kept = [int(p.name[5:14]) for p in checkpoint.list_checkpoints(run)]
    assert kept == [6, 8, 10]
    oldest = checkpoint.list_checkpoints(run)[0]
    shutil.copy(oldest, oldest.with_name("ckpt_000000004.msgpack"))  # the checkpoint the killed process had not deleted
    train(resume=run, progress=False, log=lambda s: None)
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(run)] == kept


def test_resuming_a_finished_run_changes_nothing(reference, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(reference[0].run_dir, run)
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"{run} is finished (2,560 env steps per seed): nothing to resume" in printed
    assert "compiled" not in printed
    assert snapshot(run) == before  # its summary keeps the timings of the run that trained


def test_a_run_on_read_only_storage_resumes_only_when_finished(reference, tmp_path, capsys, monkeypatch):
    """On a read-only mount the lock file cannot be made: a finished run is still reported finished (it
    stopped at ``[Errno 30]`` on ``.lock``), and an unfinished one is refused by name, nothing changed."""
    import rl_zoo.lock

    real_open = os.open

    def read_only_open(path, *args, **kwargs):
        if str(path).endswith(rl_zoo.lock.LOCK_NAME):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    finished = tmp_path / "finished"
    shutil.copytree(reference[0].run_dir, finished)
    unfinished = copy_run(reference[0].run_dir, tmp_path)
    before = {run: snapshot(run) for run in (finished, unfinished)}
    monkeypatch.setattr(rl_zoo.lock.os, "open", read_only_open)
    assert main(["train", "--resume", str(finished), "--no-progress"]) == 0
    assert f"{finished} is finished (2,560 env steps per seed): nothing to resume" in capsys.readouterr().out
    assert main(["train", "--resume", str(unfinished), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"cannot resume {str(unfinished)!r}: no file can be made there (Read-only file system)" in err, err
    assert {run: snapshot(run) for run in (finished, unfinished)} == before


def test_a_finished_run_without_checkpoints_is_finished_too(reference, tmp_path, capsys):
    """rl-zoo benchmark removes a finished cell's checkpoints: --resume must not train it all again (it
    used to, replacing its results), and enjoy / load say why there is nothing to load."""
    from rl_zoo.policy import find_checkpoint

    run = tmp_path / "run"
    shutil.copytree(reference[0].run_dir, run)
    shutil.rmtree(run / "checkpoints")
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"{run} is finished (2,560 env steps per seed): nothing to resume" in printed
    assert "it keeps no checkpoint: rl-zoo benchmark removes a finished cell's" in printed
    assert "compiled" not in printed and snapshot(run) == before
    from rl_zoo.enjoy import VideoHook

    said = []
    train(resume=run, progress=False, log=said.append, hooks=[VideoHook()])  # enjoy has nothing to play: not suggested
    assert said[-1] == "--record-video not applied: the run is finished, so nothing trained and nothing was recorded; " \
                       "it keeps no checkpoint, so no policy to play: a video needs a new run with --record-video"
    with pytest.raises(FileNotFoundError, match="finished \\(summary.json\\) but keeps no checkpoints.*train its config again") as e:
        find_checkpoint(run, None)
    seed = json.loads((run / "config.json").read_text())["seed"]  # and it gives the command that does
    assert str(e.value).endswith(f"(into a new folder): `rl-zoo train --algo ppo --env CartPole-v1 --seeds 2 --seed {seed} "
                                 f"--total-steps 2560 --evals 5 --eval-episodes 1`.")


def test_the_retrain_command_resolves_to_the_runs_config(reference):
    """The command a finished benchmark cell's enjoy error gives (its user retyped config.json's values by
    hand): every field that differs from what the algorithm and env resolve to now is a --set."""
    import dataclasses
    import shlex

    from rl_zoo.cli import _build_parser
    from rl_zoo.config import parse_env_kwargs
    from rl_zoo.train_command import parse_sets
    from rl_zoo.driver.spec import read_spec, resolve_config
    from rl_zoo.policy import retrain_command

    spec = read_spec(reference[0].run_dir)
    spec = spec.replace(config=dataclasses.replace(spec.config, learning_rate=0.0123, anneal_lr=False, activation="relu"))
    argv = shlex.split(retrain_command(spec))
    assert argv[:2] == ["rl-zoo", "train"] and argv.count("--set") == 3
    args = _build_parser(None).parse_args(argv[1:])
    _, config = resolve_config(args.algo, args.env, parse_sets(args.set), args.total_steps)
    assert config == spec.config and (args.seeds, args.seed, args.evals, args.eval_episodes) == (spec.seeds, spec.seed, 5, 1)
    assert args.backend is None and _build_parser(None).parse_args(
        shlex.split(retrain_command(spec.replace(backend="gymnasium")))[1:]).backend == "gymnasium"  # the adapter, asked for
    other = spec.replace(env_kwargs={"length": 1.0, "desc": ["SF", "FG"]})  # options (a list too) go with it
    assert parse_env_kwargs(_build_parser(None).parse_args(shlex.split(retrain_command(other))[1:]).env_kwargs) == \
        other.env_kwargs


def test_the_retrain_command_gives_an_eval_count_other_than_the_envs_own():
    """Blackjack-v1 evaluates 1,000 episodes unless told: a run told 10 (the count of most envs) says so."""
    import shlex

    from rl_zoo.driver.spec import new_spec
    from rl_zoo.policy import retrain_command

    for episodes, said in ((10, ["--eval-episodes", "10"]), (1000, [])):
        argv = shlex.split(retrain_command(new_spec("q-learning", "Blackjack-v1", total_steps=2000,
                                                      eval_episodes=episodes)[0]))
        assert argv[argv.index("--total-steps") + 2:] == said


class _CtrlC(RecorderHook):
    """The user's Ctrl-C, arriving at the third evaluation (the one after the second segment)."""

    def __init__(self):
        self.seen = 0

    def on_evaluation(self, evaluation) -> None:
        self.seen += 1
        if self.seen == 3:
            raise KeyboardInterrupt


def test_ctrl_c_says_how_to_resume_and_the_cli_exits_130(reference, tmp_path, capsys, monkeypatch, seed_offset):
    said = []
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train("ppo", "CartPole-v1", seeds=2, seed=seed_offset, out=run, hooks=[_CtrlC()], **dict(KW, log=said.append))
    assert said[-1] == (f"\ninterrupted: {run} keeps its metrics and checkpoints up to the last finished segment; "
                        f"`rl-zoo train --resume {run}` continues from there")
    # evaluations at 0 and after segment 1 went through; segment 2's comes before its checkpoint
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(run)] == [2]
    FolderLock(run).acquire().release()  # the lock was released on the way out

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("rl_zoo.train.train", interrupted)
    assert main(["train", "--total-steps", "256", "--out", str(tmp_path / "other"), "--no-progress"]) == 130
    assert capsys.readouterr().err.strip() == "rl-zoo: interrupted"


def test_ctrl_c_while_the_run_is_set_up_says_how_to_resume(tmp_path, monkeypatch):
    """A Ctrl-C after config.json was written but before the first segment (setting up the recorder) printed only
    `rl-zoo: interrupted`: the run's folder was left with no word of its resume command. The agent is built
    before the folder is made (its memory is checked first): a Ctrl-C there leaves no folder."""
    from rl_zoo.algos import ppo
    from rl_zoo.driver import run as driver_run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    said, run = [], tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(ppo, "make_agent", interrupted)
        with pytest.raises(KeyboardInterrupt):
            train("ppo", "CartPole-v1", out=run, **dict(KW, log=said.append))
    assert not run.exists()
    monkeypatch.setattr(driver_run, "Recorder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train("ppo", "CartPole-v1", out=run, **dict(KW, log=said.append))
    assert said[-1] == f"\ninterrupted: {run} had no checkpoint yet; `rl-zoo train --resume {run}` starts it again from its config.json"
    assert (run / "config.json").is_file()


def test_the_resume_command_a_stopped_run_names_repeats_its_live_flags(tmp_path, monkeypatch):
    """config.json does not hold --record-video, --tensorboard or --wandb: the command a stopped run named
    (`rl-zoo train --resume RUN`) finished the run without its video, and nothing said so."""
    from rl_zoo.driver import run as driver_run
    from rl_zoo.enjoy import VideoHook
    from rl_zoo.loggers import tensorboard_hook

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    said, run = [], tmp_path / "my run"
    monkeypatch.setattr(driver_run, "Recorder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train("ppo", "CartPole-v1", out=run, hooks=[VideoHook("clip.gif"), tensorboard_hook(tmp_path / "tb")],
              **dict(KW, log=said.append))
    assert said[-1] == (f"\ninterrupted: {run} had no checkpoint yet; `rl-zoo train --resume '{run}' --record-video clip.gif "
                        f"--tensorboard {tmp_path / 'tb'}` starts it again from its config.json")
    assert driver_run.resume_command(run, [VideoHook(), tensorboard_hook(), RecorderHook()]) == \
        f"rl-zoo train --resume '{run}' --record-video --tensorboard"


class _SwallowedCtrlC(RecorderHook):
    """A Ctrl-C that lands, at the start, in a callback whose exceptions Python ignores (an XLA gc
    callback, an import lock's weakref callback): the handler ran, the KeyboardInterrupt went nowhere."""

    def on_start(self, start) -> None:
        import signal

        from rl_zoo import interrupt

        try:
            interrupt._handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            pass  # "Exception ignored in: <function _xla_gc_callback ...>"


def test_a_ctrl_c_python_swallowed_stops_the_run_after_its_next_checkpoint(tmp_path, seed_offset):
    """It ran on to the end (exit 0), and once hung importing matplotlib for the figure, holding the lock."""
    from rl_zoo import interrupt

    run = tmp_path / "run"
    try:
        with pytest.raises(KeyboardInterrupt):
            train("ppo", "CartPole-v1", seeds=1, seed=seed_offset, out=run, hooks=[_SwallowedCtrlC()], **KW)
    finally:
        interrupt._pending = False  # whatever happened, the next test in this worker starts with no Ctrl-C pending
    assert [int(p.name[5:14]) for p in checkpoint.list_checkpoints(run)] == [2]  # the first segment's, then stopped
    assert not (run / "summary.json").exists()
    result = train(resume=run, progress=False, log=lambda s: None)  # and nothing is left pending for the next run
    assert result.summary["env_steps_per_seed"] == 2560


def test_a_flipped_byte_is_caught_by_the_checksum(reference, tmp_path):
    path = tmp_path / "ckpt_000000010.msgpack"
    data = bytearray(checkpoint.latest(reference[0].run_dir).read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert "checksum does not match" in checkpoint.verify(path)
    path.write_bytes(data[:5])
    assert "checksum does not match" in checkpoint.verify(path)
    path.write_bytes(b"")
    assert "empty" in checkpoint.verify(path)
    path.write_bytes(b"{not a checkpoint")
    assert "not a readable checkpoint" in checkpoint.verify(path)


def test_every_checkpoint_damaged_is_refused_and_nothing_changes(reference, tmp_path, capsys):
    run = copy_run(reference[0].run_dir, tmp_path)
    for path in checkpoint.list_checkpoints(run):
        path.write_bytes(path.read_bytes()[:-7])
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "every checkpoint" in err and "Nothing was changed" in err
    assert all(p.name in err for p in checkpoint.list_checkpoints(run))
    assert snapshot(run) == before  # the lock file holds this same process's PID: byte-identical too
    assert "move the checkpoints folder away and run the same --resume command" in err


def test_every_checkpoint_of_a_finished_run_damaged_says_its_results_stand(reference, tmp_path, capsys):
    """Moving the checkpoints away would not train a finished run again (without them it is finished
    all the same): the advice is a new run."""
    run = tmp_path / "run"
    shutil.copytree(reference[0].run_dir, run)
    for path in checkpoint.list_checkpoints(run):
        path.write_bytes(path.read_bytes()[:-7])
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "The run had finished (summary.json), so its results stand" in err and "move the checkpoints" not in err


def _edit_json(path, **changes):
    """config.json with ``changes`` to its top-level fields (an edit: ``devices`` was named as flags never
    given, a seed past int32 was an OverflowError)."""
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(data, **changes)))


def _damage_first_seed(path):
    """The seed of metrics.csv's first row becomes 'zero' (whatever the seeds: --seed-offset shifts them)."""
    lines = path.read_text().splitlines()
    column = lines[0].split(",").index("seed")
    row = lines[1].split(",")
    row[column] = "zero"
    path.write_text("\n".join([lines[0], ",".join(row)] + lines[2:]) + "\n")


def _edit_lines(path, edit):
    """Rewrite a CSV file's lines through ``edit`` (a list of lines -> a list of lines), as the driver ends them."""
    lines = path.read_text().splitlines()
    path.write_bytes(("\r\n".join(edit(lines)) + "\r\n").encode())


@pytest.mark.parametrize("damage, message", [
    (lambda run: (run / "config.json").write_text("{not json"), r"config.json: is not valid JSON \(line 1 column 2"),
    (lambda run: (run / "config.json").write_text('{"algo": "ppo", "env": "CartPole-v1"}'), "config.json: lacks the field"),
    (lambda run: (run / "config.json").write_text((run / "config.json").read_text().replace('"seeds": 2', '"seeds": "two"')),
     "config.json: field 'seeds' = 'two' is not a positive integer"),
    (lambda run: _edit_json(run / "config.json", devices=3), r"config.json: field 'devices' = 3 does not divide its 'seeds' = 2"),
    (lambda run: _edit_json(run / "config.json", seed=3_000_000_000), r"config.json: field 'seed' = 3000000000 is invalid"),
    (lambda run: _damage_first_seed(run / "metrics.csv"), r"metrics.csv: line \d+: seed = 'zero' is not a whole number"),
    (lambda run: (run / "metrics.csv").write_text("\n".join((run / "metrics.csv").read_text().splitlines()[:4]) + "\n"),
     r"metrics.csv: lacks the evaluation at env step 512 \(of seeds \[\d+, \d+\]\): it was cut short"),  # its first incomplete one
    # cut inside its last number, the row parsed as another number (116.5 -> 116.) and was kept (review)
    (lambda run: (run / "metrics.csv").write_bytes((run / "metrics.csv").read_bytes()[:-3]), "metrics.csv: ends inside its last line"),
    (lambda run: _edit_lines(run / "metrics.csv", lambda lines: lines[:3] + lines[2:]), r"metrics.csv: line 4 repeats line 3 \(env step 0,"),
    (lambda run: _edit_lines(run / "metrics.csv", lambda lines: [lines[0], lines[-1]] + lines[1:-1]),
     r"metrics.csv: line 3 \(env step 0\) comes after env step [\d,]+: the rows are out of order"),
], ids=["config-not-json", "config-field-missing", "config-field-mistyped", "config-devices-split", "config-seed-int32",
        "metrics-bad-value", "metrics-cut-short", "metrics-cut-in-a-number", "metrics-row-repeated", "metrics-out-of-order"])
def test_a_corrupted_run_file_is_named_and_nothing_changes(reference, tmp_path, capsys, damage, message):
    import re

    run = copy_run(reference[0].run_dir, tmp_path)
    damage(run)
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert str(run) in err and ("restore it from a copy" in err) and "Traceback" not in err
    assert snapshot(run) == before


HOLDER = r"""
import sys, time
from rl_zoo.lock import FolderLock
lock = FolderLock(sys.argv[1]).acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_a_second_process_on_a_locked_run_directory_exits_and_touches_nothing(reference, tmp_path):
    run = copy_run(reference[0].run_dir, tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(run)
        out = subprocess.run([sys.executable, "-m", "rl_zoo.cli", "train", "--resume", str(run), "--no-progress"],
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 2
        assert f"run directory {str(run)!r} is in use by process {holder.pid}" in out.stderr
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()


def test_a_taken_out_folder_that_holds_a_run_points_to_resume(tmp_path):
    """A run that failed before its first checkpoint leaves config.json: --out of it again is refused
    (nothing is overwritten), and the refusal says --resume continues it."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")
    with pytest.raises(FileExistsError, match="or continue the run it holds with `rl-zoo train --resume"):
        runs.refuse_non_empty(tmp_path / "run")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(FileExistsError, match=r"choose another --out \(nothing in it was touched\)"):
        runs.refuse_non_empty(tmp_path / "other")


def test_versions_record_the_source_commit():
    """The package version (0.1.0) said nothing of the code between releases: a checkout records its commit."""
    import subprocess

    import rl_zoo
    from rl_zoo import runs

    root = Path(rl_zoo.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        pytest.skip("rl_zoo is not imported from a git checkout here")
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    commit = runs.versions()["rl-zoo-commit"]
    assert commit in (head, f"{head}-dirty")


def test_the_commit_is_dirty_for_an_edit_or_a_new_source_file(tmp_path):
    """A new module in rl_zoo/ (untracked) left the recorded commit clean, though the run imported code the
    commit does not hold. Tracked edits anywhere, or an untracked file in rl_zoo/ or envs/, mark it dirty;
    an untracked file elsewhere (a user's notes) does not."""
    import shutil
    import subprocess

    from rl_zoo import runs

    if shutil.which("git") is None:
        pytest.skip("no git here")
    git = lambda *a: subprocess.run(["git", "-C", str(tmp_path), *a], check=True, capture_output=True, text=True)  # noqa: E731
    git("init", "-q")
    (tmp_path / "rl_zoo").mkdir()
    (tmp_path / "rl_zoo" / "a.py").write_text("x = 1\n")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = git("rev-parse", "HEAD").stdout.strip()
    commit = lambda: runs.git_commit(tmp_path)  # noqa: E731
    assert commit() == head
    (tmp_path / "notes.txt").write_text("mine")
    assert commit() == head
    (tmp_path / "rl_zoo" / "new.py").write_text("y = 2\n")
    assert commit() == f"{head}-dirty"
    (tmp_path / "rl_zoo" / "new.py").unlink()
    (tmp_path / "rl_zoo" / "a.py").write_text("x = 2\n")
    assert commit() == f"{head}-dirty"


def test_versions_record_the_simulators_where_installed(monkeypatch):
    """Box2D and MuJoCo results depend on the simulator's version as much as on gymnasium's: recorded when
    installed, left out when not (the box2d / mujoco extras are optional)."""
    from importlib import metadata

    from rl_zoo import runs

    real = metadata.version
    monkeypatch.setattr(runs.metadata, "version", lambda pkg: "9.9" if pkg in runs.ENV_BACKENDS else real(pkg))
    recorded = runs.versions()
    assert all(recorded[pkg] == "9.9" for pkg in runs.ENV_BACKENDS)

    def missing(pkg):
        if pkg in runs.ENV_BACKENDS:
            raise metadata.PackageNotFoundError(pkg)
        return real(pkg)

    monkeypatch.setattr(runs.metadata, "version", missing)
    assert not set(runs.ENV_BACKENDS) & set(runs.versions())


def test_versions_record_the_jax_settings_that_change_numbers(monkeypatch):
    """JAX_ENABLE_X64=1 trained another policy (final return 124 against 245) with an identical config.json:
    x64, the matmul precision, XLA_FLAGS and JAX_* variables are recorded; the compilation cache's are not."""
    from rl_zoo import runs

    monkeypatch.setenv("JAX_DEFAULT_MATMUL_PRECISION", "highest")
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "/somewhere")
    recorded = runs.versions()
    assert recorded["jax_enable_x64"] in ("True", "False") and "jax_default_matmul_precision" in recorded
    assert recorded["env JAX_DEFAULT_MATMUL_PRECISION"] == "highest" and "env JAX_COMPILATION_CACHE_DIR" not in recorded
    assert ("env XLA_FLAGS" in recorded) == ("XLA_FLAGS" in os.environ)


def test_only_a_swallowed_ctrl_c_is_kept_out_of_pythons_unraisable_reports():
    """Within ``interrupt.installed()`` the "Exception ignored in ..." report of a swallowed Ctrl-C is
    left out (the run stops at its next check instead), and every other one still reaches the hook."""
    from types import SimpleNamespace

    from rl_zoo import interrupt

    seen = []
    for exc_type in (KeyboardInterrupt, RuntimeError):
        interrupt._quiet_about_interrupts(seen.append, SimpleNamespace(exc_type=exc_type))
    assert [u.exc_type for u in seen] == [RuntimeError]


def test_a_swallowed_ctrl_c_is_raised_by_the_next_check_once():
    """``interrupt.check()`` raises a swallowed Ctrl-C once, and the next check goes on: a program that
    caught the interrupt and, in the same ``interrupt.installed()``, trains again (a sweep's next group,
    a resume) is not stopped by the old Ctrl-C."""
    import signal

    from rl_zoo import interrupt

    try:
        interrupt.check()  # nothing pending: nothing raised
        with pytest.raises(KeyboardInterrupt):
            interrupt._handler(signal.SIGINT, None)
        with pytest.raises(KeyboardInterrupt):
            interrupt.check()
        try:
            interrupt.check()
        except KeyboardInterrupt:  # a KeyboardInterrupt escaping a test would stop pytest itself
            pytest.fail("check() raised the same swallowed Ctrl-C twice")
    finally:
        interrupt._pending = False


DEFERRED = '''
import os, signal
from rl_zoo import interrupt

signal.signal(signal.SIGINT, signal.default_int_handler)  # a background shell hands children SIGINT ignored
with interrupt.installed(terminate=True):
    for signum in (signal.SIGINT, signal.SIGTERM):
        reached = False
        try:
            with interrupt.deferred():
                os.kill(os.getpid(), signum)
                reached = True  # held: the block runs to its end
        except KeyboardInterrupt:
            print(signal.Signals(signum).name, "held:", reached, "then raised, remembered:", interrupt._pending,
                  "received:", interrupt.received())
            interrupt._pending = False
    try:
        os.kill(os.getpid(), signal.SIGINT)
        print("not raised after the block")
    except KeyboardInterrupt:
        print("raised at once after the block")
    with interrupt.deferred():
        pass
    print("a block without a signal goes on")
'''


def test_deferred_holds_a_ctrl_c_or_sigterm_to_the_end_of_its_block():
    """``interrupt.deferred()`` (around the start of the thread that steps host envs): a SIGINT or SIGTERM
    inside the block is raised as a KeyboardInterrupt when the block ends, as the handler would (remembered
    for ``check``, SIGTERM said as "terminated"), and the handlers are back afterwards."""
    done = subprocess.run([sys.executable, "-c", DEFERRED], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == [
        "SIGINT held: True then raised, remembered: True received: interrupted",
        "SIGTERM held: True then raised, remembered: True received: terminated",
        "raised at once after the block",
        "a block without a signal goes on",
    ], done.stdout + done.stderr


def test_a_sigint_handler_the_caller_set_is_left_in_place():
    """A program that embeds rl_zoo with its own SIGINT handler keeps it inside ``interrupt.installed()``."""
    import signal

    from rl_zoo import interrupt

    def own(signum, frame):
        pass

    before = signal.signal(signal.SIGINT, own)
    try:
        with interrupt.installed():
            assert signal.getsignal(signal.SIGINT) is own
        with pytest.raises(KeyboardInterrupt):  # and with Python's default, installed() raises and remembers
            signal.signal(signal.SIGINT, signal.default_int_handler)
            with interrupt.installed():
                assert signal.getsignal(signal.SIGINT) is interrupt._handler
                signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, before)
        interrupt._pending = False


def test_a_checkpoint_set_aside_twice_keeps_both_damaged_copies(tmp_path):
    first = tmp_path / "ckpt_000000002.ckpt"
    first.write_text("one")
    assert checkpoint.set_aside(first).name == "ckpt_000000002.ckpt.damaged"
    first.write_text("two")  # the same name damaged again (a resumed run wrote it anew)
    assert checkpoint.set_aside(first).name == "ckpt_000000002.ckpt.damaged2"
    assert (tmp_path / "ckpt_000000002.ckpt.damaged").read_text() == "one"


@pytest.mark.parametrize("hooks, message", [
    ([1], "hook 1 is invalid: it has no on_start, on_evaluation, on_segment, on_finish, close"),
    (5, "hooks = 5 is invalid: must be a list of RecorderHook objects"),
    # the README's names taken as hooks: a factory function and a class, not what they make
    (["tensorboard_hook"], r"hook tensorboard_hook is invalid: a function, not a hook; .*pass the hook it returns: hooks=\[tensorboard_hook\(\)\]"),
    (["VideoHook"], r"hook VideoHook is invalid: it is a class; pass a hook made from it: hooks=\[VideoHook\(\)\]"),
    (["Duck"], r"hook Duck is invalid: it is a class; pass a hook made from it: hooks=\[Duck\(\)\]"),  # not a RecorderHook
])
def test_a_bad_hook_is_refused_before_the_run_directory_is_made(tmp_path, hooks, message):
    """hooks=[1] failed at the end ('int' object has no attribute 'close') and left config.json and a lock
    behind, so the same out was then refused as not empty."""
    from rl_zoo.config import ConfigError
    from rl_zoo.enjoy import VideoHook
    from rl_zoo.loggers import tensorboard_hook

    class Duck:  # every hook method, but the class itself given: it passed, and failed after the folder was made
        on_start = on_evaluation = on_segment = on_finish = close = lambda self, *a: None

    named = {"tensorboard_hook": tensorboard_hook, "VideoHook": VideoHook, "Duck": Duck}
    hooks = [named.get(h, h) for h in hooks] if isinstance(hooks, list) else hooks
    with pytest.raises(ConfigError, match=message):
        train("ppo", "CartPole-v1", out=tmp_path / "run", hooks=hooks, **KW)
    assert not (tmp_path / "run").exists()


def test_the_umask_is_read_without_setting_it(monkeypatch):
    """Reading the umask by setting it to 0 for a moment let another thread's file be made 0o666 then:
    on Linux it is read from /proc/self/status, the same value."""
    import os

    from rl_zoo import runs

    umask = os.umask(0o027)
    try:
        runs._default_file_mode.cache_clear()
        monkeypatch.setattr(runs.os, "umask", lambda *a: pytest.fail("the umask was set to read it"))
        if not Path("/proc/self/status").exists():
            pytest.skip("no /proc here")
        assert runs._default_file_mode() == 0o640
    finally:
        monkeypatch.undo()
        os.umask(umask)
        runs._default_file_mode.cache_clear()


CTRL_C_IN_IMPORTS = '''
import os, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # a background shell hands children SIGINT ignored
from rl_zoo.driver import program_store
real = program_store.enable
def enable():
    os.kill(os.getpid(), signal.SIGINT)  # a Ctrl-C among the driver's imports, which console_main makes first
    real()
program_store.enable = enable
sys.argv = ["rl-zoo", "train", "--out", sys.argv[1], "--total-steps", "1024", "--no-progress"]
from rl_zoo.cli import console_main
console_main()
'''

SECOND_SIGNAL = '''
import atexit, os, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from rl_zoo import interrupt
from rl_zoo.cli import exit_now
with interrupt.installed(terminate=True):
    try:
        os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        interrupt.stopping()
        os.kill(os.getpid(), signal.SIGTERM)  # a second stop while the first is said: remembered, not raised
        print("said once:", interrupt.received())
with interrupt.installed(terminate=True):  # a later block takes signals again
    try:
        os.kill(os.getpid(), signal.SIGINT)
    except KeyboardInterrupt:
        print("raised again in a new block")
atexit.register(lambda: (os.kill(os.getpid(), signal.SIGINT), time.sleep(5)))  # a Ctrl-C in JAX's exit handlers
exit_now(130)
'''


def test_a_ctrl_c_among_the_commands_first_imports_is_one_line_and_130(tmp_path):
    """A Ctrl-C in the ~1 s the command spends importing the driver reached Python's default handler: a traceback
    (rc -2), an abort inside JAX's native imports (rc -6, -11), or, lost in an ignored callback, a run trained to
    exit 0. It is held to the end of the imports now, and said in one line."""
    done = subprocess.run([sys.executable, "-c", CTRL_C_IN_IMPORTS, str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 130 and done.stderr.strip() == "rl-zoo: interrupted", done.stderr
    assert not (tmp_path / "run").exists()


def test_a_second_signal_while_a_stop_is_said_or_in_the_exit_handlers_is_quiet():
    """A second Ctrl-C 0.1 s after the first printed a traceback: raised inside the except clause saying the stop,
    or in JAX's exit handlers (``exit_now``), and the process died of it (rc -2) where 130 or 143 was due."""
    done = subprocess.run([sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["said once: interrupted", "raised again in a new block"], done.stdout + done.stderr
    assert done.returncode == 130 and "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_a_lock_held_for_a_moment_by_a_holder_test_is_taken_at_a_second_try(tmp_path, monkeypatch):
    """``lock.holder`` (rl-zoo plot's "still training" test) holds the lock shared for microseconds: a run starting
    then was refused as in use by the PID its crashed predecessor left (2,847 of 71,299 tries in a loop)."""
    import fcntl

    real, refusals = fcntl.flock, []

    def busy_twice(fd, op):
        if op & fcntl.LOCK_EX and len(refusals) < 2:
            refusals.append(op)
            raise BlockingIOError
        return real(fd, op)

    monkeypatch.setattr(fcntl, "flock", busy_twice)
    FolderLock(tmp_path).acquire().release()
    assert len(refusals) == 2
    with FolderLock(tmp_path / "held"):  # a lock truly held is still refused
        with pytest.raises(FolderInUse, match="is in use by process"):
            FolderLock(tmp_path / "held").acquire()


def test_a_new_run_directory_below_a_link_to_nothing_is_an_error_not_an_endless_search(tmp_path):
    """``new_run_dir`` tried the names -2, -3, ... while mkdir said "File exists" for a folder above the run's (a
    --runs-root that is a link to nothing, made after the command's checks): it never returned."""
    from rl_zoo.runs import new_run_dir

    (tmp_path / "root").symlink_to(tmp_path / "gone")
    with pytest.raises(FileExistsError):
        new_run_dir("ppo", "CartPole-v1", root=tmp_path / "root")
    first = new_run_dir("ppo", "CartPole-v1", root=tmp_path / "runs")
    assert new_run_dir("ppo", "CartPole-v1", root=tmp_path / "runs") != first  # a run of that name: the next name
