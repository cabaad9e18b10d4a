"""Running a grid: plan it, lock its folder, run the cells that need it, keep the tables current, and
write the figures and report at the end."""

from __future__ import annotations

import dataclasses
import inspect
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from rl_zoo import distributed, runs
from rl_zoo.benchmark.cells import run_cells
from rl_zoo.benchmark.clips import complete_clips, unrecordable_envs
from rl_zoo.benchmark.plan import (DEFAULT_ALGOS, DEFAULT_ENVS, EXCLUDED, Cell, check_something_to_run, format_plan, parse_list,
                                   plan_grid, plan_header, previous_record, refuse_other_folder)
from rl_zoo.benchmark.records import CellRecord, GridMeta, read_grid_meta
from rl_zoo.benchmark.report import write_report
from rl_zoo.benchmark.tables import load_cells, load_returns, write_tables
from rl_zoo.lock import FolderLock
from rl_zoo.progress import GridProgress

GRID_LOCK = "benchmark folder"


@dataclass
class BenchmarkResult:
    out: Path
    cells: list[Cell]
    report: Path | None


def _plan_arguments(algos, env_ids, grid: dict[str, Any]) -> dict[str, Any]:
    """The arguments of ``plan_grid(algos, env_ids, **grid)`` by name, its defaults filled in (a name
    ``plan_grid`` does not take raises ``TypeError``, as the call would)."""
    bound = inspect.signature(plan_grid).bind(algos, env_ids, **grid)
    bound.apply_defaults()
    return dict(bound.arguments)


def _load_average() -> float | None:
    """The 1-minute load average (how busy the machine was, for reading the timings), if known."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def check_jobs(jobs: Any) -> int:
    """``--jobs``: the number of cells run at the same time, a whole number of at least 1 (``ValueError`` else)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs = {jobs!r} is invalid: must be a whole number of cells, at least 1")
    return jobs


def _plan_under_lock(plan: dict[str, Any], lock: FolderLock) -> list[Cell]:
    """The plan, read while holding the folder's lock. An existing folder is locked first (a second grid
    on it is refused before anything else); a new one only once the plan holds, so that a refused
    command creates nothing."""
    if Path(plan["out"]).exists():
        lock.acquire()
        cells = plan_grid(**plan)
        check_something_to_run(plan["out"], cells)
        return cells
    cells = plan_grid(**plan)
    check_something_to_run(plan["out"], cells)
    lock.acquire()
    return cells


def run_benchmark(
    algos: str | Sequence[str] = DEFAULT_ALGOS,
    env_ids: str | Sequence[str] = DEFAULT_ENVS,
    *,
    jobs: int = 1,
    progress: bool = True,
    report: bool = True,
    command: str | None = None,
    note: str | None = None,
    record_video: bool = False,
    log: Callable[[str], None] = print,
    **grid: Any,
) -> BenchmarkResult:
    """Plan the grid, run every cell that needs it (one process each, ``jobs`` at a time), write the
    tables after each cell, and at the end the figures and ``report.md`` (which quotes ``note``).

    ``grid``: the keyword arguments of :func:`plan_grid` (``seeds``, ``seed``, ``total_steps``,
    ``out``, ``points``, ``eval_episodes``, ``backend``, ``sets``, ``exclude``, ``rerun``), with
    its defaults. ``record_video``: one clip per finished cell, in the report (``rl_zoo.benchmark.clips``;
    not part of a cell's identity, so finished cells are not run again for it). The folder is locked while this runs: a second grid on it raises
    ``rl_zoo.lock.FolderInUse`` naming the holder's PID, before touching anything.

    ``jobs > 1`` overlaps one cell's compilation with another's training (compilation is mostly
    single-threaded): the grid finishes sooner, but the cells' timings include the competition. ``jobs < 1``
    raises ``ValueError`` before anything is planned or written."""
    jobs = check_jobs(jobs)
    distributed.share_gpu_memory()  # this process and its cell processes on one GPU (before any backend starts)
    plan = _plan_arguments(algos, env_ids, grid)
    out = plan["out"] = Path(plan["out"])
    refuse_other_folder(out)  # before the lock, which would leave its file in a folder not ours
    lock = FolderLock(out, what=GRID_LOCK)
    try:
        cells = _plan_under_lock(plan, lock)
        todo = [c for c in cells if c.status == "run"]
        log(plan_header(out, cells))
        log(format_plan(cells))
        meta = _new_meta(out, cells, plan, jobs, command, note, record_video)
        _write_start(out, cells, meta)
        cannot_draw = _check_drawing(cells, log) if record_video else {}
        clips = frozenset(c.name for c in todo if record_video and c.env not in cannot_draw)
        t0 = time.perf_counter()
        with GridProgress(progress and bool(todo), len(todo), sum(c.env_steps for c in todo), log) as bar:
            run_cells(out, todo, jobs, bar, clips, grid_cells=sum(c.status in ("run", "done") for c in cells))
        if todo:
            meta = dataclasses.replace(meta, grid_wall_s=round(time.perf_counter() - t0, 1), load_end=_load_average(),
                                       plan=_plan_entries(cells))  # a cell that could not start (its folder held) says why
            runs.atomic_write_json(out / "benchmark.json", meta.to_json())
            log(f"grid finished in {meta.grid_wall_s:.0f}s: {sum(c.status == 'done' for c in todo)}/{len(todo)} cell(s) done"
                + "".join(f"\n  FAILED {c.algo} on {c.env}: {c.reason}" for c in todo if c.status == "failed"))
        if record_video:
            complete_clips(out, cells, cannot_draw, log)
        path = write_report(out) if report and load_cells(out) else None  # none: no cell started (nothing to report)
    finally:
        lock.release()
    if path is not None:
        log(f"report written to {path}")
    return BenchmarkResult(out, cells, path)


def _check_drawing(cells: list[Cell], log: Callable[[str], None]) -> dict[str, str]:
    """``{env: why}`` for the envs of the cells to run or finished that cannot be drawn here (their cells
    run without a clip), said before any cell starts."""
    cannot_draw = unrecordable_envs([(c.env, c.spec.backend) for c in cells if c.status in ("run", "done")])
    for why in cannot_draw.values():
        log(f"no clips: {why}")
    return cannot_draw


def _new_meta(out: Path, cells: list[Cell], plan: dict[str, Any], jobs: int, command: str | None,
              note: str | None, record_video: bool = False) -> GridMeta:
    """``benchmark.json`` for this command; when nothing runs, the last grid's timing, load, ``--jobs``, versions and
    CPU count are kept: they describe the run that made the timings (a finished grid read again with ``--jobs 2``
    said "2 cell(s) at a time" beside the ``--jobs 1`` run's wall time). ``note`` None keeps the last command's where
    this command's grid is the same (algorithms, envs, seeds, excluded cells: a re-run without ``--note`` dropped it from report.md;
    another grid's note would say things of other cells); ``""`` removes it."""
    previous = read_grid_meta(out)
    meta = GridMeta(
        command=command, note=note or None, algos=parse_list(plan["algos"]), envs=parse_list(plan["env_ids"]),
        seeds=plan["seeds"], seed=plan["seed"], points=plan["points"], eval_episodes=plan["eval_episodes"], jobs=jobs,
        total_steps={c.env: c.total_steps for c in cells},
        plan=_plan_entries(cells),
        versions=runs.versions(), cpu_count=os.cpu_count(), started=time.strftime("%Y-%m-%d %H:%M:%S"),
        record_video=record_video,
    )
    same_grid = ([previous.algos, previous.envs, previous.seeds, previous.seed, _excluded(previous.plan or [])]
                 == [meta.algos, meta.envs, meta.seeds, meta.seed, _excluded(meta.plan)])
    if note is None and same_grid:
        meta = dataclasses.replace(meta, note=previous.note)
    if not any(c.status == "run" for c in cells) and previous.grid_wall_s is not None:
        return dataclasses.replace(meta, started=previous.started, grid_wall_s=previous.grid_wall_s,
                                   load_start=previous.load_start, load_end=previous.load_end, jobs=previous.jobs,
                                   versions=_timed_versions(previous.versions, meta.versions), cpu_count=previous.cpu_count)
    return dataclasses.replace(meta, load_start=_load_average())


def _timed_versions(timed: dict[str, str], now: dict[str, str]) -> dict[str, str]:
    """The versions of the run that made a grid's timings, with the commit of this process, which writes the report
    (its "this report was written at", beside the commits that trained the cells)."""
    kept = {k: v for k, v in timed.items() if k != "rl-zoo-commit"}
    return {**kept, "rl-zoo-commit": now["rl-zoo-commit"]} if "rl-zoo-commit" in now else kept


def _excluded(plan: list[dict]) -> list[tuple[str, str]]:
    """The ``(algo, env)`` cells a plan (``_plan_entries``) left out with ``--exclude``."""
    return sorted((e["algo"], e["env"]) for e in plan if e.get("status") == "skipped" and str(e.get("reason", "")).startswith(EXCLUDED))


def _plan_entries(cells: list[Cell]) -> list[dict]:
    """``benchmark.json``'s plan: each cell's algo, env, status and reason."""
    return [dict(algo=c.algo, env=c.env, status=c.status, reason=c.reason) for c in cells]


def _write_start(out: Path, cells: list[Cell], meta: GridMeta) -> None:
    """Before any cell runs: ``benchmark.json``, the records of cells skipped now (a cell finished before
    and excluded now keeps its results; one interrupted or failed before keeps its run's settings, so that
    a later command including it again resumes its run: an excluded cell's plan has no config, and its
    record, written over the interrupted one's, made that command start the cell over), and the tables."""
    skipped = [(c, previous_record(out, c.spec)) for c in cells if c.status == "skipped"]
    keep = [(c, before) for c, before in skipped if getattr(before, "status", None) != "done"]
    # every record readable (a damaged one outside the plan is refused before anything is written), and every
    # finished cell's metrics.csv, which write_tables reads: a damaged one was refused after benchmark.json held
    # the refused command
    load_returns(out, [r for r in load_cells(out) if r.status in ("done", "skipped", "failed")])
    runs.atomic_write_json(out / "benchmark.json", meta.to_json())
    for c, before in keep:
        record = c.record() if before is None or not before.spec.config else CellRecord(before.spec, "skipped", c.reason)
        runs.atomic_write_json(out / "cells" / c.name / "cell.json", record.to_json())
    write_tables(out)
