"""The benchmark scripts' own defects a review found: bad input passed through to a child (an unknown env) or given
to a step after set-up was a traceback or exit 1 after work; a rerun lost the committed raw data; recorded commands
that do not reproduce the run; results without software versions; a 2-seed trial judged against a 10-seed target;
--help without defaults. Each script runs from a copy of ``benchmarks/`` with an empty results folder (as in
``test_benchmark_flags.py``), so that a broken check cannot touch the committed files. No training.

``RL_ZOO_BENCHMARKS`` (default: this checkout's ``benchmarks/``) names the scripts to test, so that the tests can be
run against another checkout's scripts (each was checked to fail on the scripts before these fixes)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(os.environ.get("RL_ZOO_BENCHMARKS") or Path(__file__).resolve().parents[1] / "benchmarks").resolve()


def _env() -> dict:
    """The scripts' checkout first on the path (the copy of benchmarks/ imports its rl_zoo)."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(BENCHMARKS.parent), os.environ.get("PYTHONPATH", "")]))


def _copy(tmp_path: Path) -> Path:
    """A copy of the benchmark scripts with an empty results folder."""
    copy = tmp_path / "benchmarks"
    (copy / "results").mkdir(parents=True)
    for path in BENCHMARKS.glob("*.py"):
        shutil.copy(path, copy / path.name)
    return copy


def _run(tmp_path: Path, script: str, argv: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    copy = _copy(tmp_path)
    argv = [a.format(tmp=tmp_path) for a in argv]
    return subprocess.run([sys.executable, str(copy / script), *argv], capture_output=True, text=True, timeout=timeout,
                          env=_env(), cwd=tmp_path)


def _import(monkeypatch, name: str):
    """The script or module ``name`` of ``BENCHMARKS``, imported afresh."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for module in (name, "_results"):
        sys.modules.pop(module, None)
    import importlib

    return importlib.import_module(name)


@pytest.mark.parametrize("script, argv, message", [
    # 1. an unknown env (or algorithm) in a command passed through to a child, or made after the set-up
    ("command_start.py", ["--base", "HEAD", "--repeats", "1", "--train", "--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--train '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("command_start.py", ["--base", "HEAD", "--train", "--algo foo", "--out", "{tmp}/o.md"],
     "--train '--algo foo': unknown algorithm 'foo'; the algorithms: ppo,"),
    ("compile_programs.py", ["--rows", "--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--rows: '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("compile_levels.py", ["--rows", "--algo ppo --env CartPole-v1;--algo ppo --env NoSuch-v0", "--out", "{tmp}/o.md"],
     "--rows: '--algo ppo --env NoSuch-v0': Unknown environment id 'NoSuch-v0'"),
    ("policy_gradient.py", ["tune", "trpo", "NoSuch-v0", "--out", "{tmp}/pg"], "tune trpo NoSuch-v0: Unknown environment id"),
    # 2. other bad arguments: a traceback, a check after work, or exit 1
    ("driver_overhead.py", ["--base", "nosuch", "--out", "{tmp}/o.md"], "--base 'nosuch' is not a revision of this repository"),
    ("sweep_speed.py", ["--steps", "100", "--out", "{tmp}/o.md"], "--steps = 100 is invalid: must be at least one update's batch (256"),
    ("ppo_learning.py", ["--cells", "CartPole-v1,NoSuch-v0", "--out", "{tmp}/pl"], "--cells: unknown env 'NoSuch-v0'; the cells: CartPole-v1,"),
    ("peer_speed.py", ["--only", "bogus", "--peer-python", "{tmp}/no-python", "--out", "{tmp}/o.md"],
     "--only: unknown rows ['bogus']; choose from ppo, ppo16, dqn"),
    ("dqn.py", ["tune", "CartPole-v1", "foo", "--out", "{tmp}/d"], "'foo' is not field=value"),
    # 6. speed with other settings than the committed rows' into the committed files
    ("q_learning.py", ["speed", "--steps", "1000", "--agents", "2", "--repeats", "1"],
     "speed with --agents, --steps, --repeats would replace the speed rows in"),
])
def test_bad_input_is_refused_in_one_line_before_any_work(script, argv, message, tmp_path):
    (tmp_path / "a_file").write_text("mine\n")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = _run(tmp_path, script, argv)
    assert done.returncode == 2, done.stderr
    assert f"{script}: error: " in done.stderr and message.format(tmp=tmp_path) in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()[-1]) > 0 and done.stdout == "", done.stdout
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if "__pycache__" not in p.parts)
    assert [p for p in after if p.parts[0] != "benchmarks"] == [p for p in before if p.parts[0] != "benchmarks"]
    assert not any((tmp_path / "benchmarks" / "results").iterdir())


@pytest.mark.parametrize("pip_error, status", [
    ("ERROR: Could not find a version that satisfies the requirement ml_dtypes==9.9.9\n"
     "ERROR: No matching distribution found for ml_dtypes==9.9.9\n", 2),
    ("WARNING: Retrying\nERROR: Could not install packages due to an OSError: [Errno 28] No space left on device\n", 1),
])
def test_a_ml_dtypes_version_pip_cannot_install_is_one_line(pip_error, status, tmp_path, monkeypatch, capsys):
    """``ml_dtypes_import.py --versions 9.9.9,0.6.0`` ended in a CalledProcessError traceback: one line naming the
    version and pip's last error, exit 2 where pip found no such version (bad input), else 1."""
    ml_dtypes_import = _import(monkeypatch, "ml_dtypes_import")
    monkeypatch.setattr(ml_dtypes_import.subprocess, "run",
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1, "", pip_error))
    with pytest.raises(SystemExit) as stop:
        ml_dtypes_import.install("9.9.9", tmp_path)
    assert stop.value.code == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ml_dtypes_import.py: error: ml_dtypes 9.9.9 could not be installed into ")
    assert pip_error.strip().splitlines()[-1] in err


def test_grid_excludes_only_cells_within_its_algos_and_envs(monkeypatch):
    """``grid.py --algos ppo --envs CartPole-v1`` exited 2: its fixed ``--exclude dqn:Acrobot-v1`` named a cell outside
    the grid, which ``rl-zoo benchmark`` refuses. The pairs outside are dropped (none left: no --exclude)."""
    grid = _import(monkeypatch, "grid")
    assert grid.exclude_within("dqn:Acrobot-v1", "ppo", "CartPole-v1") == ""
    assert grid.exclude_within("dqn:Acrobot-v1", "ppo,dqn", "CartPole-v1") == ""
    assert grid.exclude_within("dqn:Acrobot-v1,ppo:Pendulum-v1", "ppo,dqn", "Acrobot-v1,Pendulum-v1") == "dqn:Acrobot-v1,ppo:Pendulum-v1"
    assert grid.exclude_within(grid.EXCLUDE, grid.ALGOS, grid.ENVS) == grid.EXCLUDE


#: a stand-in for a cell's `rl-zoo benchmark`: says it is ready, then on Ctrl-C prints its clean line and exits 130
CHILD = """
import sys, time
print("ready", flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("rl-zoo: interrupted", file=sys.stderr, flush=True)
    sys.exit(130)
"""


def test_gymnasium_results_ctrl_c_ends_with_the_cells_line_and_130(tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) during a cell: the child's "interrupted" line was followed by a
    KeyboardInterrupt traceback from ``_run_child``'s re-raise. Now the child's line is the last, and the exit 130."""
    parent = (f"import sys; sys.path.insert(0, {str(BENCHMARKS)!r}); import gymnasium_results as g; "
              f"g._run_child([sys.executable, '-c', {CHILD!r}])")
    proc = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env(), start_new_session=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "rl-zoo: interrupted", err
