"""Cell processes: each cell of the grid runs the driver in its own Python process
(``python -m rl_zoo.benchmark --cell CELL_JSON --parent PID``), so that its peak memory is its own and one
failing cell does not stop the grid.

A cell process never outlives the grid process that started it, however that one ends (kill -9
included): on Linux the kernel sends it SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), and
on every system a watcher thread ends it once its parent is gone (the parent PID changes). While it
runs it holds the lock of its cell folder (``rl_zoo.lock``), so no second process writes there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from rl_zoo import runs
from rl_zoo.benchmark.clips import NO_CLIP
from rl_zoo.benchmark.plan import Cell, previous_record
from rl_zoo.benchmark.records import BenchmarkFileError, CellRecord, CellResult, read_cell_record, read_json_object
from rl_zoo.benchmark.tables import read_metrics, write_tables
from rl_zoo.lock import FolderInUse, FolderLock
from rl_zoo.progress import GridProgress

CELL_LOCK = "benchmark cell folder"
#: How a cell process says why it stopped, on one line of its log (the grid's FAILED line quotes it).
CELL_ERROR = "rl-zoo benchmark cell: error: "
#: Exit codes of a cell process, as `rl-zoo train` ends: a bad config or file, a non-finite value.
EXIT_CONFIG, EXIT_NON_FINITE = 2, 3
#: seconds between two looks at the running cells (their metrics for the progress bars, their exit)
POLL_S = 0.5


@dataclass
class Running:
    """A started cell process and what its end is recorded with."""

    cell: Cell
    proc: subprocess.Popen
    started: float
    log: IO[bytes]
    record_video: bool = False  # the cell records its clip and keeps its last checkpoint (rl_zoo.benchmark.clips)
    log_start: int = 0  # where this attempt's output begins in log.txt (earlier attempts' output is kept above it)


def cell_dir(out: Path, cell: Cell) -> Path:
    return out / "cells" / cell.name


def start_cell(out: Path, cell: Cell, record_video: bool = False, cores: int | None = None) -> Running:
    """Start one cell in a fresh Python process; an interrupted cell with the same spec continues from its
    checkpoint, any other earlier content of its folder is removed first (but for its ``log.txt``, which
    the new attempt appends to). Refuses (``FolderInUse``) a cell
    folder that another process holds. ``record_video``: the cell records its clip at the end. ``cores``:
    the CPU cores its seeds may be split over (``split_cpu_for_cell``; default all)."""
    folder = cell_dir(out, cell)
    FolderLock(folder, what=CELL_LOCK).acquire().release()  # free now; the cell process holds it from its start
    resume, why = resume_decision(out, cell)  # why: said in log.txt, the folder goes with the damaged checkpoints
    earlier_log = b""
    if folder.exists() and not resume:  # starting over: the folder goes, but not what earlier attempts printed
        earlier_log = (folder / "log.txt").read_bytes() if (folder / "log.txt").is_file() else b""
        shutil.rmtree(folder)
        write_tables(out)  # its old results leave the tables with its folder (a --rerun stopped now kept them there)
    folder.mkdir(parents=True, exist_ok=True)
    if earlier_log:
        (folder / "log.txt").write_bytes(earlier_log)
    runs.atomic_write_json(folder / "cell.json", cell.record("running", resume=resume).to_json())
    log, log_start = open_log(folder / "log.txt", resume, why)
    (folder / NO_CLIP).unlink(missing_ok=True)  # this run decides anew
    proc = subprocess.Popen(
        [sys.executable, "-m", "rl_zoo.benchmark", "--cell", str(folder / "cell.json"), "--parent", str(os.getpid())]
        + (["--record-video"] if record_video else []) + ([] if cores is None else ["--cores", str(cores)]),
        stdout=log, stderr=subprocess.STDOUT,
    )
    return Running(cell, proc, time.perf_counter(), log, record_video, log_start)


def open_log(path: Path, resume: bool = False, why: str = "") -> tuple[IO[bytes], int]:
    """The cell's ``log.txt`` opened for this attempt, and the offset where this attempt's output starts:
    appended to, so that an earlier attempt's output stays, after a line saying a new attempt started
    (only when there is earlier output), and ``why`` it starts over when there is a reason to give."""
    log = open(path, "ab")
    if log.tell():
        how = "resuming from its last checkpoint" if resume else "starting over" + (f": {why}" if why else "")
        log.write(attempt_separator(time.strftime("%Y-%m-%d %H:%M:%S"), how).encode())
        log.flush()
    return log, log.tell()


def attempt_separator(when: str, how: str) -> str:
    """The line of ``log.txt`` between two attempts of a cell."""
    return f"\n----- {when}: a new attempt of this cell started ({how}); the output above is an earlier attempt's -----\n"


def resume_decision(out: Path, cell: Cell) -> tuple[bool, str]:
    """``(resume, why not)``: an interrupted cell with the same spec and an intact checkpoint continues from
    it instead of starting over (one excluded by a command since is recorded "skipped" there, its run
    directory kept: it continues too). A cell keeps one checkpoint: a damaged one (outside damage; writes are
    atomic) starts the cell over, saying why, where resuming failed on every re-run, its error telling to
    run a --resume command."""
    from rl_zoo import checkpoint

    previous = previous_record(out, cell.spec)
    run_dir = cell_dir(out, cell) / "run"
    if not (previous and previous.status in ("running", "failed", "skipped")
            and (run_dir / "config.json").exists() and checkpoint.list_checkpoints(run_dir)):
        return False, ""
    if previous.spec.identity() != cell.spec.identity():  # a failed cell's config changed, or --rerun: said in log.txt
        return False, f"its config changed ({cell.spec.changes_from(previous.spec)})"
    why = damaged_checkpoints(run_dir)
    return not why, why


def damaged_checkpoints(run_dir: Path) -> str:
    """Why a cell's run cannot resume from its checkpoints when it has some and none is intact, else ``""``
    (each is read until an intact one is found)."""
    from rl_zoo import checkpoint

    reasons = []
    for path in checkpoint.list_checkpoints(run_dir) if run_dir.is_dir() else []:
        if (why := checkpoint.verify(path)) is None:
            return ""
        reasons.append(f"{path.name}: {why}")
    return f"its checkpoints are damaged ({'; '.join(reasons)})" if reasons else ""


def finish_cell(out: Path, job: Running) -> CellRecord | None:
    """Record a finished cell process in its ``cell.json``: its status, timings and final return
    (``None`` if it failed; ``job.cell`` then says why)."""
    job.log.close()
    cell, wall = job.cell, round(time.perf_counter() - job.started, 2)
    folder = cell_dir(out, cell)
    result, why = None, ""
    if job.proc.returncode == 0:
        try:
            result = read_result(folder)
        except BenchmarkFileError as e:
            why = str(e)
    if result is None:
        cell.status, cell.reason = "failed", why or failure_reason(job.proc.returncode, read_attempt_log(folder, job.log_start))
        runs.atomic_write_json(folder / "cell.json", cell.record(cell_wall_s=wall).to_json())
        return None
    cell.status, cell.reason = "done", ""
    record = cell.record(cell_wall_s=wall, result=result)
    runs.atomic_write_json(folder / "cell.json", record.to_json())  # done first: a kill between the two keeps the run
    if not job.record_video:  # finished: nothing to resume (a grid with clips keeps the last, to record one later)
        shutil.rmtree(folder / "run" / "checkpoints", ignore_errors=True)
    return record


def read_attempt_log(folder: Path, start: int = 0) -> str:
    """This attempt's output in the cell's ``log.txt``: from byte ``start`` on ("" if there is no log)."""
    try:
        with open(folder / "log.txt", "rb") as f:
            f.seek(start)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def failure_reason(code: int | None, output: str) -> str:
    """Why a cell process failed, on one line: its exit code and the error line it wrote (``CELL_ERROR``),
    or, for an error it did not expect (a traceback), the last 3 lines of its output."""
    lines = output.strip().splitlines()
    said = [line[len(CELL_ERROR):] for line in lines if line.startswith(CELL_ERROR)]
    if code is not None and code < 0 and not said:  # its last line of output was not why: the signal was
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        oom = ", as the kernel's out-of-memory killer sends" if -code == signal.SIGKILL else ""
        return f"killed by {name} (exit code {code}{oom})"
    return f"exit code {code}: " + (said[-1] if said else " | ".join(line.strip() for line in lines[-3:]) or "no output")


def read_result(folder: Path) -> CellResult | None:
    """A cell's result from its driver's ``run/summary.json`` and its ``agent.json`` (env steps per
    update; None if unknown); None without a summary. ``BenchmarkFileError`` when the summary is damaged."""
    from rl_zoo import stats

    path = folder / "run" / "summary.json"
    if not path.exists():
        return None
    fix = f"the cell's run is incomplete: delete the folder {folder} to run that cell again"
    summary = read_json_object(path, fix)
    try:
        final = np.array(summary["final_return"], dtype=float)
        timings = {k: float(summary[k]) for k in ("compile_s", "train_s", "steps_per_s", "peak_memory_mb")}
        steps_per_seed = int(summary["env_steps_per_seed"])
        devices = int(summary["devices"]) if "devices" in summary else None
        versions = summary.get("versions")
        commit = versions.get("rl-zoo-commit") if isinstance(versions, dict) else None
    except (KeyError, TypeError, ValueError) as e:
        raise BenchmarkFileError(f"{path} is damaged: {type(e).__name__} {e} reading its fields; {fix}") from None
    try:
        agent_steps = int(read_json_object(folder / "agent.json", "")["env_steps_per_update"])
    except (BenchmarkFileError, KeyError, TypeError, ValueError):
        agent_steps = None
    return CellResult(
        compile_s=timings["compile_s"], run_s=timings["train_s"], env_steps_per_seed=steps_per_seed,
        env_steps_per_update=agent_steps, env_steps_per_s=timings["steps_per_s"], peak_memory_mb=timings["peak_memory_mb"],
        final_return_mean=float(final.mean()), final_return_iqm=float(stats.iqm(final)),
        finished=time.strftime("%Y-%m-%d %H:%M:%S"), devices=devices, commit=commit if isinstance(commit, str) else None,
    )


def cell_cores(cores: int, jobs: int, cells: int) -> int:
    """The CPU cores each cell of a grid may split its seeds over: ``cores`` shared by the cells that can run at once,
    ``min(jobs, cells)`` (a grid's one cell left to run under ``--jobs 2`` ran on half of them); fixed by the command,
    not by which cells happen to overlap, so a cell's device count (and its rounding) does not depend on timing."""
    return max(1, cores // max(1, min(jobs, cells)))


def run_cells(out: Path, todo: list[Cell], jobs: int, bar: GridProgress, clips: frozenset[str] = frozenset(),
              grid_cells: int | None = None) -> None:
    """Run the cells, ``jobs`` processes at a time, in order; rewrite the tables after each one. However
    this ends (an error, Ctrl-C), the running cell processes are stopped before it returns. A cell whose
    folder another process holds fails with that process named, untouched. (The cell processes die with
    the thread that started them, ``PR_SET_PDEATHSIG``: this one, which waits for them all.) The cells
named in ``clips`` record a clip at the end (``rl_zoo.benchmark.clips``). ``grid_cells``: the cells of the command's
    grid that train, finished before or not (default: ``todo``'s), which `cell_cores` shares the cores by: by the cells
    left, a grid stopped and run again gave a cell starting afresh twice the cores (2 devices, where the uninterrupted
    grid ran it on 1: Pendulum's PPO ended at -596.6 against -142.2)."""
    from rl_zoo.distributed import usable_cores

    pending, running = list(todo), []
    cores = cell_cores(usable_cores(), jobs, len(todo) if grid_cells is None else grid_cells)  # each running cell's share
    try:
        while pending or running:
            while pending and len(running) < jobs:
                c = pending.pop(0)
                bar.start(c.name, f"{c.algo} on {c.env}", c.env_steps, c.budget_text())
                try:
                    running.append(start_cell(out, c, c.name in clips, cores))
                except FolderInUse as e:  # another process works in the cell folder: its files are left alone
                    c.status, c.reason = "failed", str(e)
                    bar.finish(c.name, c.env_steps, finished_line(c, None))
            time.sleep(POLL_S)
            for job in list(running):
                if job.proc.poll() is None:
                    _advance(bar, job.cell, cell_dir(out, job.cell) / "run" / "metrics.csv")
                    continue
                running.remove(job)
                record = finish_cell(out, job)
                bar.finish(job.cell.name, job.cell.env_steps, finished_line(job.cell, record))
                write_tables(out)
    except BaseException:
        for job in running:
            job.proc.terminate()
        for job in running:
            job.proc.wait()
            job.log.close()
        with contextlib.suppress(Exception):  # the tables as the cell folders now are (a cell just done was missing)
            write_tables(out)
        raise


def _advance(bar: GridProgress, cell: Cell, metrics: Path) -> None:
    """The running cell's bar from its metrics so far (a file being replaced or not yet written is skipped)."""
    if not bar.display.enabled or not metrics.exists():
        return
    try:
        rows = read_metrics(metrics)
    except ValueError:
        return
    if rows:
        step = int(rows[-1]["env_steps"])
        latest = [float(r["return"]) for r in rows if int(r["env_steps"]) == step]
        bar.advance(cell.name, min(step * cell.seeds, cell.env_steps), f"return {np.mean(latest):.1f}")


def finished_line(cell: Cell, record: CellRecord | None) -> str:
    """What the grid prints when a cell ends."""
    if record is None or record.result is None:
        return f"FAILED {cell.algo} on {cell.env}: {cell.reason}"
    r = record.result
    return (f"done {cell.algo} on {cell.env}: final return {runs.return_text(r.final_return_mean)} (mean of {cell.seeds}), "
            f"compile {r.compile_s:.1f}s, run {r.run_s:.1f}s, {r.env_steps_per_s:,.0f} env steps/s, "
            f"cell {record.cell_wall_s:.0f}s")


# --------------------------------------------------------------------------------------------------
# inside the cell process


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` ends: ``PR_SET_PDEATHSIG`` (SIGKILL) on Linux, and everywhere a
    daemon thread that checks the parent PID every ``POLL_S`` seconds (a re-parented process sees another)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            PR_SET_PDEATHSIG = 1
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(POLL_S)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="rl_zoo-parent-watch", daemon=True).start()


def split_cpu_for_cell(spec_path: str | Path, cores: int | None = None) -> int:
    """In a cell process, before JAX starts: the cell's seeds over up to ``cores`` CPU devices
    (``rl_zoo.distributed.split_cpu``), or, when it resumes, as many as its run started with (a resumed
    run continues bit for bit only on the same count). Returns the device count set (1: none)."""
    from rl_zoo import distributed

    try:
        record = read_cell_record(spec_path)
    except BenchmarkFileError:
        return 1  # the cell reports it when it starts
    if record.resume:
        from rl_zoo.driver.resume import split_cpu_as_recorded

        return split_cpu_as_recorded(Path(spec_path).parent / "run")
    return distributed.split_cpu(max(1, record.spec.seeds), cores=cores)


def cell_main(spec_path: str, record_video: bool = False) -> int:
    """The child process of one cell: the driver, all its seeds vmapped, into ``<cell>/run``, holding the
    cell folder's lock; ``record_video``: its clip at the end (``rl_zoo.benchmark.clips``). Ends as
    `rl-zoo train` does, with one line (``CELL_ERROR``) instead of a traceback: code 2 for a folder another
    process holds (naming its PID), a bad config or file; 3 for a non-finite value (the NaN guard's message)."""
    from rl_zoo.driver.guard import NonFiniteError

    spec_path = Path(spec_path)
    folder = spec_path.parent
    try:
        with FolderLock(folder, what=CELL_LOCK):
            return _run_cell(spec_path, folder, record_video)
    except (FolderInUse, ValueError, FileExistsError, FileNotFoundError) as e:  # ConfigError is a ValueError
        return _say_error(e, EXIT_CONFIG)
    except NonFiniteError as e:
        return _say_error(e, EXIT_NON_FINITE)


def _say_error(e: BaseException, code: int) -> int:
    """Print ``e`` on one line after ``CELL_ERROR`` (stderr, the cell's log) and return ``code``."""
    print(CELL_ERROR + " | ".join(str(e).splitlines()), file=sys.stderr, flush=True)
    return code


def _run_cell(spec_path: Path, folder: Path, record_video: bool = False) -> int:
    """Train the cell described by ``spec_path`` (or resume it) into ``folder/run``."""
    import envs

    from rl_zoo.train import enable_compilation_cache, resolve_config, train

    record = read_cell_record(spec_path)
    spec = record.spec
    module, config = resolve_config(spec.algo, spec.env, spec.overrides, spec.total_steps)
    env, env_params = envs.make(spec.env, backend=spec.backend or None)
    agent = module.make_agent(config, env, env_params)
    runs.atomic_write_json(folder / "agent.json", dict(env_steps_per_update=agent.env_steps_per_update,
                                                       num_updates=agent.num_updates))
    enable_compilation_cache()
    hooks = []
    if record_video:
        from rl_zoo.benchmark.clip_hook import CellVideoHook

        hooks.append(CellVideoHook(folder))
    if record.resume:  # killed before: continue from its last checkpoint, rows kept, none duplicated
        train(resume=folder / "run", progress=False, keep_checkpoints=1, hooks=hooks)
        return 0
    train(spec.algo, spec.env, seeds=spec.seeds, seed=spec.seed, total_steps=spec.total_steps,
          overrides=spec.overrides, out=folder / "run", num_evals=spec.points, eval_episodes=spec.eval_episodes,
          backend=spec.backend or None, progress=False, keep_checkpoints=1, hooks=hooks,
          command=f"rl-zoo benchmark cell {spec.algo} {spec.env}")
    return 0
