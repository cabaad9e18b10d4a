"""Helpers the run-directory, resume and benchmark tests share (``import run_helpers``, as ``learning``)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np

from rl_zoo import runs

#: a short PPO CartPole run: test_cli.py, test_run_directory.py, test_resume_checks.py and test_config_file.py train
#: the same programs (with 2 seeds), compiled once per test session
KW = dict(total_steps=2560, num_evals=5, eval_episodes=1, progress=False, log=lambda s: None)
#: the committed benchmark grid: real records and tables, no training
GRID = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "grid"


def snapshot(folder: Path, mtimes: bool = False) -> dict:
    """Every file under ``folder`` by its relative path: its bytes (and ``mtimes``: with its mtime in ns)."""
    files = (p for p in sorted(folder.rglob("*")) if p.is_file())
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) if mtimes else p.read_bytes() for p in files}


@contextlib.contextmanager
def held_by_another_process(folder: Path):
    """``folder``'s lock held by a child process, as a live run holds its folder, for the block: its PID. A lock this
    process takes is its own, which ``runs.refuse_non_empty`` does not count as another run's."""
    child = subprocess.Popen([sys.executable, "-c", "import sys; from rl_zoo.lock import FolderLock; "
                              f"FolderLock({str(folder)!r}).acquire(); print('held', flush=True); sys.stdin.read()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        yield child.pid
    finally:
        child.stdin.close()
        child.wait(timeout=30)


def metrics_rows(rows_or_run_dir) -> list[tuple]:
    """metrics.csv's rows as ``(env_steps, seed, return, train_return)``: of a run directory, or of rows read already
    (the wall seconds left out: they differ between two runs of the same numbers)."""
    rows = runs.read_csv(Path(rows_or_run_dir) / "metrics.csv") if isinstance(rows_or_run_dir, (str, Path)) else rows_or_run_dir
    return [(r["env_steps"], r["seed"], r["return"], r["train_return"]) for r in rows]


def copy_run(run_dir: Path, tmp_path: Path, finished: bool = False) -> Path:
    """A copy of ``run_dir`` in ``tmp_path/run``; unless ``finished``, as a run killed after its last checkpoint
    (no summary, no figure)."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    if not finished:
        (run / "summary.json").unlink()
        (run / "curve.png").unlink()
    return run


def copy_grid(tmp_path: Path) -> Path:
    """The committed grid's records and tables in ``tmp_path/grid``, without its figures, report and lock."""
    out = tmp_path / "grid"
    shutil.copytree(GRID, out, ignore=shutil.ignore_patterns(".lock", "*.png", "report.md"))
    return out


class Float64Tenth(gymnasium.Env):
    """Actions in Box(-0.1, 0.1) of float64 (0.1 is 0.100000001 in float32), checked by the env itself at every step
    (test_host_batched, test_load)."""

    observation_space = gymnasium.spaces.Box(-1, 1, (2,), np.float32)
    action_space = gymnasium.spaces.Box(-0.1, 0.1, (1,), np.float64)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(2, np.float32), {}

    def step(self, action):
        assert self.action_space.contains(np.asarray(action)), action
        return np.zeros(2, np.float32), 0.0, False, False, {}
