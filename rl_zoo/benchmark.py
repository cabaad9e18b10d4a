"""Algorithm comparison from one command: a grid of (algorithm, env) cells, every seed of a cell
vmapped in one compiled program, results in tidy tables, figures and a report.

    rl-zoo benchmark --algos ppo,ppo-kl,trpo,vpg,dqn --envs CartPole-v1,Acrobot-v1,Pendulum-v1 --seeds 10

A benchmark folder (default ``runs/benchmark``)::

    benchmark.json        the last command, the plan (cells to run, skipped with reason), versions
    returns.csv/.parquet  one row per algorithm, env, seed and point of the shared grid:
                          algo, env, seed, env_steps, wall_s, return
    cells.csv/.parquet    one row per cell: status (done / skipped / failed) and why, seeds, env
                          steps, compile s, run s, cell wall s, env steps/s, peak memory, final return
    report.md             final return, steps to threshold, speed per cell; the figures
    curves_<env>.png      learning curves against env steps and against wall-clock seconds
    aggregate.png         IQM and optimality gap of normalised final scores across envs
    profile.png           performance profiles (run-score distributions)
    cells/<algo>__<env>/  cell.json (its config, its key, its timings), log.txt (the cell's output),
                          run/ (the driver's run directory: config.json, metrics.csv, summary.json)

Each cell runs in its own Python process through the driver (``rl_zoo.train.train``), so that its
peak memory is its own and one failing cell does not stop the grid. The tables are rewritten
(atomically) after every cell. A cell is identified by its resolved config, seeds, env-step budget,
evaluation settings and backend; re-running a command skips the cells already finished with the
same identity, and refuses (unless ``rerun``) a folder holding a cell finished with another one.

Shared evaluation grid. Algorithms consume env steps in different chunks (PPO 4096 per update on
Pendulum, DQN 256 on CartPole, ...), so the driver evaluates each run at its own update boundaries
(about ``points`` of them). Each seed's curve (return and wall-clock seconds) is then linearly
interpolated onto the shared grid ``0, T/points, ..., T`` env steps (``T`` the env's budget); the
last evaluation is at most one update short of ``T`` and is held flat up to ``T``. The raw
evaluations stay in ``cells/*/run/metrics.csv``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from rl_zoo import runs


@dataclass(frozen=True)
class EnvReference:
    """Per-env reference values: the default env-step budget of a benchmark, the return of a uniformly
    random policy, and the return that counts as solving the env (the threshold in the report, and 1
    after normalisation)."""

    steps: int
    random: float
    solved: float
    source: str


#: Random returns: mean of 1000 episodes of a uniformly random policy on this project's JAX ports.
#: Solved: gymnasium's ``reward_threshold`` where it has one; Pendulum-v1 has none, -250 is a policy
#: that swings up and balances from most starts (well-trained agents reach about -150).
#: Default steps: enough for the tuned policy-gradient algorithms to get near the threshold, and small
#: enough that the published grid (benchmarks/grid.py: 4 policy-gradient algorithms on 3 envs and DQN
#: on CartPole, 5 seeds) finishes in under 30 minutes on a 2-core CPU.
ENV_REFERENCES: dict[str, EnvReference] = {
    "CartPole-v1": EnvReference(100_000, 21.5, 475.0, "gymnasium reward_threshold"),
    "Acrobot-v1": EnvReference(500_000, -498.9, -100.0, "gymnasium reward_threshold"),
    "Pendulum-v1": EnvReference(500_000, -1235.8, -250.0, "no gymnasium threshold; swing-up and balance"),
    "MountainCar-v0": EnvReference(200_000, -200.0, -110.0, "gymnasium reward_threshold"),
    "MountainCarContinuous-v0": EnvReference(200_000, -33.1, 90.0, "gymnasium reward_threshold"),
}
#: Budget for an env without a reference entry.
FALLBACK_STEPS = 100_000
DEFAULT_ALGOS = ("ppo", "ppo-kl", "trpo", "vpg", "dqn")
DEFAULT_ENVS = ("CartPole-v1", "Acrobot-v1", "Pendulum-v1")
DEFAULT_OUT = Path("runs") / "benchmark"
#: Intervals of the shared evaluation grid (``points + 1`` grid points including 0).
DEFAULT_POINTS = 40

RETURN_FIELDS = ("algo", "env", "seed", "env_steps", "wall_s", "return")
CELL_FIELDS = (
    "algo", "env", "status", "reason", "backend", "seeds", "env_steps_per_seed", "env_steps_per_update",
    "compile_s", "run_s", "cell_wall_s", "env_steps_per_s", "peak_memory_mb", "final_return_mean",
    "final_return_iqm", "key",
)


def default_steps(env_id: str) -> int:
    ref = ENV_REFERENCES.get(env_id)
    return ref.steps if ref else FALLBACK_STEPS


def steps_help() -> str:
    """The default env-step budgets, for ``--help``."""
    parts = [f"{k} {v.steps:,}" for k, v in ENV_REFERENCES.items()]
    return ", ".join(parts) + f"; any other env {FALLBACK_STEPS:,}"


@dataclass
class Cell:
    """One (algorithm, env) pair of the grid and what will happen to it."""

    algo: str
    env: str
    status: str  # "run" | "done" (finished before, same config: skipped) | "skipped" (cannot run) | "failed"
    reason: str = ""
    total_steps: int = 0
    seeds: int = 0
    seed: int = 0
    points: int = DEFAULT_POINTS
    eval_episodes: int = 10
    backend: str = ""
    overrides: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    key: str = ""

    @property
    def name(self) -> str:
        return f"{runs._slug(self.algo)}__{runs._slug(self.env)}"

    def spec(self) -> dict:
        return dict(algo=self.algo, env=self.env, total_steps=self.total_steps, seeds=self.seeds, seed=self.seed,
                    points=self.points, eval_episodes=self.eval_episodes, backend=self.backend,
                    overrides=self.overrides, config=self.config, key=self.key)


def _parse_list(text: str | Sequence[str]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[str] = []
    for x in (i.strip() for i in items):
        if x and x not in out:
            out.append(x)
    return out


def parse_total_steps(text: str | int | dict | None, env_ids: Iterable[str]) -> dict[str, int]:
    """``None`` -> the per-env defaults; ``N`` -> N for every env; ``ENV=N,ENV=N`` -> per env (others
    keep their default)."""
    env_ids = list(env_ids)
    steps = {e: default_steps(e) for e in env_ids}
    if text is None:
        return steps
    if isinstance(text, dict):
        pairs = dict(text)
    elif isinstance(text, int) or "=" not in str(text):
        try:
            n = int(str(text).replace("_", ""))
        except ValueError:
            raise ValueError(f"--total-steps expects N or ENV=N,ENV=N, got {text!r}") from None
        pairs = {e: n for e in env_ids}
    else:
        pairs = {}
        for part in str(text).split(","):
            if "=" not in part:
                raise ValueError(f"--total-steps expects N or ENV=N,ENV=N, got {text!r}")
            k, v = part.split("=", 1)
            try:
                pairs[k.strip()] = int(v.strip().replace("_", ""))
            except ValueError:
                raise ValueError(f"--total-steps: {v.strip()!r} for {k.strip()} is not an integer") from None
    for k, v in pairs.items():
        if k not in steps:
            raise ValueError(f"--total-steps names {k!r}, which is not in the grid's envs ({', '.join(env_ids)})")
        if v < 1:
            raise ValueError(f"--total-steps for {k} = {v} is invalid: must be at least 1")
        steps[k] = int(v)
    return steps


def parse_sets(pairs: Iterable[str], algo_names: Iterable[str]) -> dict[str, dict[str, str]]:
    """``ALGO:KEY=VALUE`` (one algorithm) or ``KEY=VALUE`` (every algorithm of the grid) -> per-algo overrides."""
    algo_names = list(algo_names)
    out: dict[str, dict[str, str]] = {a: {} for a in algo_names}
    for pair in pairs:
        target, _, rest = pair.partition(":") if ":" in pair.split("=", 1)[0] else ("", "", pair)
        if "=" not in rest:
            raise ValueError(f"--set expects [ALGO:]KEY=VALUE, got {pair!r}")
        key, value = (s.strip() for s in rest.split("=", 1))
        if target and target not in out:
            raise ValueError(f"--set {pair!r} names algorithm {target!r}, which is not in the grid ({', '.join(algo_names)})")
        for a in [target] if target else algo_names:
            out[a][key] = value
    return out


def _cell_key(spec: dict) -> str:
    ident = {k: spec[k] for k in ("algo", "env", "total_steps", "seeds", "seed", "points", "eval_episodes", "backend", "config")}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def plan_grid(
    algos: str | Sequence[str] = DEFAULT_ALGOS,
    env_ids: str | Sequence[str] = DEFAULT_ENVS,
    *,
    seeds: int = 10,
    seed: int = 0,
    total_steps: str | int | dict | None = None,
    out: str | os.PathLike = DEFAULT_OUT,
    points: int = DEFAULT_POINTS,
    eval_episodes: int = 10,
    backend: str | None = None,
    sets: Iterable[str] = (),
    exclude: str | Iterable[str] = (),
    rerun: bool = False,
) -> list[Cell]:
    """Check every name and config and decide, before anything compiles, what each cell does.

    ``exclude``: ``ALGO:ENV`` pairs to leave out (listed as skipped, "excluded"). Raises ``ValueError``
    naming every unknown algorithm / env (with the known ones), any config a cell would refuse, and
    any cell in ``out`` finished with a different config (unless ``rerun``).
    """
    import envs

    from rl_zoo import algos as registry
    from rl_zoo.train import resolve_config

    algo_names, env_names = _parse_list(algos), _parse_list(env_ids)
    if not algo_names:
        raise ValueError(f"no algorithms given; known algorithms: {', '.join(registry.names())}")
    if not env_names:
        raise ValueError("no environments given (rl-zoo envs lists them)")
    if seeds < 1:
        raise ValueError(f"--seeds = {seeds} is invalid: must be at least 1")
    if points < 1 or eval_episodes < 1:
        raise ValueError("the number of grid points and of evaluation episodes must be at least 1")
    errors, modules, made = [], {}, {}
    for a in algo_names:
        try:
            modules[a] = registry.get(a)[0]
        except ValueError as e:
            errors.append(str(e))
    for e in env_names:
        try:
            made[e] = envs.make(e, backend=backend)
        except ValueError as ex:
            errors.append(str(ex))
    if errors:
        raise ValueError("\n".join(errors))
    steps = parse_total_steps(total_steps, env_names)
    overrides = parse_sets(sets, algo_names)
    excluded = set()
    for pair in _parse_list(exclude):
        a, sep, e = pair.partition(":")
        if not sep or a not in algo_names or e not in env_names:
            raise ValueError(f"--exclude expects ALGO:ENV with ALGO in {','.join(algo_names)} and ENV in "
                             f"{','.join(env_names)}, got {pair!r}")
        excluded.add((a, e))

    cells: list[Cell] = []
    for e in env_names:
        env, env_params = made[e]
        for a in algo_names:
            cell = Cell(a, e, "run", total_steps=steps[e], seeds=seeds, seed=seed, points=points,
                        eval_episodes=eval_episodes, backend=env.backend, overrides=overrides[a])
            if (a, e) in excluded:
                cell.status, cell.reason = "skipped", f"excluded on the command line (--exclude {a}:{e})"
                cells.append(cell)
                continue
            check = getattr(modules[a], "check_env", None)
            try:
                if check is not None:
                    check(env, env_params)
            except ValueError as ex:
                cell.status, cell.reason = "skipped", str(ex)
                cells.append(cell)
                continue
            try:
                _, config = resolve_config(a, e, overrides[a], steps[e])
            except ValueError as ex:
                errors.append(f"{a} on {e}: {ex}")
                continue
            cell.config = dataclasses.asdict(config)
            cell.key = _cell_key(cell.spec())
            cells.append(cell)
    if errors:
        raise ValueError("\n".join(errors))

    conflicts = []
    for cell in cells:
        if cell.status != "run":
            continue
        previous = _read_cell(Path(out), cell)
        if previous is None or previous.get("status") != "done":
            continue
        if previous.get("key") == cell.key:
            if not rerun:
                cell.status, cell.reason = "done", "finished before with the same config: skipped"
        elif not rerun:
            conflicts.append(f"{cell.algo} on {cell.env}: {_describe_change(previous, cell)}")
    if conflicts:
        raise ValueError(
            f"{out} holds finished cells with a different config than this command:\n  " + "\n  ".join(conflicts)
            + "\nUse another --out, or --rerun to run them again and replace their results."
        )
    return cells


def _describe_change(previous: dict, cell: Cell) -> str:
    new = cell.spec()
    diffs = []
    for k in ("total_steps", "seeds", "seed", "points", "eval_episodes", "backend"):
        if previous.get(k) != new[k]:
            diffs.append(f"{k} {previous.get(k)!r} -> {new[k]!r}")
    old_cfg, new_cfg = previous.get("config") or {}, new["config"]
    for k in sorted(set(old_cfg) | set(new_cfg)):
        if old_cfg.get(k) != new_cfg.get(k):
            diffs.append(f"{k} {old_cfg.get(k)!r} -> {new_cfg.get(k)!r}")
    return ", ".join(diffs[:6]) or "config changed"


def _read_cell(out: Path, cell: Cell) -> dict | None:
    path = out / "cells" / cell.name / "cell.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def format_plan(cells: list[Cell]) -> str:
    lines = []
    for c in cells:
        what = {"run": f"run    {c.seeds} seed(s) x {c.total_steps:,} env steps", "done": "skip   finished before, same config",
                "skipped": ("skip   " if c.reason.startswith("excluded") else "skip   cannot run: ") + c.reason}[c.status]
        lines.append(f"  {c.algo:<12} {c.env:<26} {what}")
    return "\n".join(lines)


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


def run_benchmark(
    algos: str | Sequence[str] = DEFAULT_ALGOS,
    env_ids: str | Sequence[str] = DEFAULT_ENVS,
    *,
    jobs: int = 1,
    progress: bool = True,
    report: bool = True,
    command: str | None = None,
    note: str | None = None,
    log: Callable[[str], None] = print,
    **grid: Any,
) -> BenchmarkResult:
    """Plan the grid, run every cell that needs it (one process each, ``jobs`` at a time), write the
    tables after each cell, and at the end the figures and ``report.md`` (which quotes ``note``).

    ``grid``: the keyword arguments of :func:`plan_grid` (``seeds``, ``seed``, ``total_steps``,
    ``out``, ``points``, ``eval_episodes``, ``backend``, ``sets``, ``exclude``, ``rerun``), with
    its defaults.

    ``jobs > 1`` overlaps one cell's compilation with another's training (compilation is mostly
    single-threaded): the grid finishes sooner, but the cells' timings include the competition."""
    plan = _plan_arguments(algos, env_ids, grid)
    out = plan["out"] = Path(plan["out"])
    seeds, seed, points, eval_episodes = plan["seeds"], plan["seed"], plan["points"], plan["eval_episodes"]
    cells = plan_grid(**plan)
    todo = [c for c in cells if c.status == "run"]
    log(f"benchmark grid -> {out}: {len(todo)} cell(s) to run, "
        f"{sum(c.status == 'done' for c in cells)} finished before with the same config (skipped), "
        f"{sum(c.status == 'skipped' for c in cells)} skipped (cannot run, or excluded)")
    log(format_plan(cells))
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(
        command=command, note=note, algos=_parse_list(algos), envs=_parse_list(env_ids), seeds=seeds, seed=seed, points=points,
        eval_episodes=eval_episodes, jobs=jobs, total_steps={c.env: c.total_steps for c in cells},
        plan=[dict(algo=c.algo, env=c.env, status=c.status, reason=c.reason) for c in cells],
        versions=runs.versions(), cpu_count=os.cpu_count(), started=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    try:
        previous = json.loads((out / "benchmark.json").read_text())
    except (OSError, ValueError):
        previous = {}
    if not todo and previous.get("grid_wall_s") is not None:  # nothing runs: keep the last measurement
        meta.update({k: previous.get(k) for k in ("started", "grid_wall_s", "load_start", "load_end")})
    else:
        meta["load_start"] = _load_average()
    runs.atomic_write_json(out / "benchmark.json", meta)
    for c in cells:  # a cell finished before and excluded now keeps its results
        if c.status == "skipped" and (_read_cell(out, c) or {}).get("status") != "done":
            runs.atomic_write_json(out / "cells" / c.name / "cell.json", dict(c.spec(), status="skipped", reason=c.reason))
    write_tables(out)
    t0 = time.perf_counter()
    with _GridProgress(progress and bool(todo), todo, log) as bar:
        _run_cells(out, todo, max(1, int(jobs)), bar)
    if todo:
        done = sum(c.status == "done" for c in todo)
        meta["grid_wall_s"] = round(time.perf_counter() - t0, 1)
        meta["load_end"] = _load_average()
        runs.atomic_write_json(out / "benchmark.json", meta)
        log(f"grid finished in {meta['grid_wall_s']:.0f}s: {done}/{len(todo)} cell(s) done"
            + "".join(f"\n  FAILED {c.algo} on {c.env}: {c.reason}" for c in todo if c.status == "failed"))
    path = None
    if report:
        path = write_report(out)
        log(f"report written to {path}")
    return BenchmarkResult(out, cells, path)


@dataclass
class _Running:
    cell: Cell
    proc: subprocess.Popen
    started: float
    logf: Any


def _load_average() -> float | None:
    """The 1-minute load average (how busy the machine was, for reading the timings), if known."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _start_cell(out: Path, cell: Cell) -> _Running:
    """Start one cell in a fresh Python process (``python -m rl_zoo.benchmark --cell <cell.json>``)."""
    import shutil

    cell_dir = out / "cells" / cell.name
    resume = _resumable(out, cell)
    if cell_dir.exists() and not resume:
        shutil.rmtree(cell_dir)
    cell_dir.mkdir(parents=True, exist_ok=True)
    runs.atomic_write_json(cell_dir / "cell.json", dict(cell.spec(), status="running", resume=resume))
    logf = open(cell_dir / "log.txt", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "rl_zoo.benchmark", "--cell", str(cell_dir / "cell.json")],
                            stdout=logf, stderr=subprocess.STDOUT)
    return _Running(cell, proc, time.perf_counter(), logf)


def _resumable(out: Path, cell: Cell) -> bool:
    """An interrupted cell with the same spec and a checkpoint continues from it instead of starting over."""
    from rl_zoo import checkpoint

    previous = _read_cell(out, cell)
    run_dir = out / "cells" / cell.name / "run"
    return bool(previous and previous.get("status") in ("running", "failed") and _cell_key(previous) == _cell_key(cell.spec())
                and (run_dir / "config.json").exists() and checkpoint.latest(run_dir) is not None)


def _finish_cell(out: Path, job: _Running) -> dict | None:
    """Record a finished cell process: its status, timings and final return (``None`` if it failed)."""
    from rl_zoo import stats

    job.logf.close()
    cell, wall = job.cell, time.perf_counter() - job.started
    cell_dir = out / "cells" / cell.name
    spec = cell.spec()
    summary_path = cell_dir / "run" / "summary.json"
    if job.proc.returncode != 0 or not summary_path.exists():
        tail = (cell_dir / "log.txt").read_text(errors="replace").strip().splitlines()[-3:]
        cell.status = "failed"
        cell.reason = f"exit code {job.proc.returncode}: " + " | ".join(tail)
        runs.atomic_write_json(cell_dir / "cell.json", dict(spec, status="failed", reason=cell.reason, cell_wall_s=round(wall, 2)))
        return None
    summary = json.loads(summary_path.read_text())
    import shutil

    shutil.rmtree(cell_dir / "run" / "checkpoints", ignore_errors=True)  # finished: nothing to resume
    try:
        agent_steps = json.loads((cell_dir / "agent.json").read_text())["env_steps_per_update"]
    except (OSError, ValueError, KeyError):
        agent_steps = None
    final = np.array(summary["final_return"], dtype=float)
    record = dict(
        spec, status="done", reason="", cell_wall_s=round(wall, 2), compile_s=summary["compile_s"], run_s=summary["train_s"],
        env_steps_per_seed=summary["env_steps_per_seed"], env_steps_per_update=agent_steps,
        env_steps_per_s=summary["steps_per_s"], peak_memory_mb=summary["peak_memory_mb"],
        final_return_mean=float(final.mean()), final_return_iqm=float(stats.iqm(final)),
        finished=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    runs.atomic_write_json(cell_dir / "cell.json", record)
    cell.status = "done"
    return record


def _run_cells(out: Path, todo: list[Cell], jobs: int, bar: "_GridProgress") -> None:
    """Run the cells, ``jobs`` processes at a time, in order; rewrite the tables after each one."""
    pending, running = list(todo), []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                job = _start_cell(out, pending.pop(0))
                running.append(job)
                bar.start(job.cell)
            time.sleep(0.5)
            for job in list(running):
                if job.proc.poll() is None:
                    bar.poll(job.cell, out / "cells" / job.cell.name / "run" / "metrics.csv")
                    continue
                running.remove(job)
                bar.finish(job.cell, _finish_cell(out, job))
                write_tables(out)
    except BaseException:
        for job in running:
            job.proc.terminate()
        for job in running:
            job.proc.wait()
            job.logf.close()
        raise


def _cell_main(spec_path: str) -> int:
    """The child process of one cell: the driver, with all its seeds vmapped, into ``<cell>/run``."""
    import envs

    from rl_zoo.train import enable_compilation_cache, resolve_config, train

    spec = json.loads(Path(spec_path).read_text())
    cell_dir = Path(spec_path).parent
    module, config = resolve_config(spec["algo"], spec["env"], spec["overrides"], spec["total_steps"])
    env, env_params = envs.make(spec["env"], backend=spec["backend"] or None)
    agent = module.make_agent(config, env, env_params)
    runs.atomic_write_json(cell_dir / "agent.json", dict(env_steps_per_update=agent.env_steps_per_update,
                                                         num_updates=agent.num_updates))
    enable_compilation_cache()
    if spec.get("resume"):  # killed before: continue from its last checkpoint, rows kept, none duplicated
        train(resume=cell_dir / "run", progress=False, keep_checkpoints=1)
        return 0
    train(spec["algo"], spec["env"], seeds=spec["seeds"], seed=spec["seed"], total_steps=spec["total_steps"],
          overrides=spec["overrides"], out=Path(spec_path).parent / "run", num_evals=spec["points"],
          eval_episodes=spec["eval_episodes"], backend=spec["backend"] or None, progress=False, keep_checkpoints=1,
          command=f"rl-zoo benchmark cell {spec['algo']} {spec['env']}")
    return 0


# --------------------------------------------------------------------------------------------------
# tables


def shared_grid(total_steps: int, points: int) -> np.ndarray:
    """The shared evaluation grid: ``points + 1`` env-step counts from 0 to ``total_steps``."""
    return np.unique(np.round(np.linspace(0, total_steps, points + 1)).astype(np.int64))


def interpolate_runs(rows: list[dict], grid: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per seed, ``(return, wall_s)`` linearly interpolated from its evaluations onto ``grid`` (held
    flat beyond the last evaluation)."""
    by_seed: dict[int, list[tuple[float, float, float]]] = {}
    for r in rows:
        by_seed.setdefault(int(r["seed"]), []).append((float(r["env_steps"]), float(r["return"]), float(r["wall_s"])))
    out = {}
    for s, pts in sorted(by_seed.items()):
        x, y, w = np.array(sorted(pts)).T
        out[s] = (np.interp(grid, x, y), np.interp(grid, x, w))
    return out


def load_cells(out: str | os.PathLike) -> list[dict]:
    """Every cell record in the folder (done, skipped, failed, running), in a stable order."""
    out = Path(out)
    records = []
    for path in sorted((out / "cells").glob("*/cell.json")):
        try:
            records.append(json.loads(path.read_text()))
        except ValueError:
            continue
    order = _order(out)
    records.sort(key=lambda r: (order[1].get(r["env"], 99), r["env"], order[0].get(r["algo"], 99), r["algo"]))
    return records


def _order(out: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Algorithm and env order: the last command's, then the registry's."""
    from rl_zoo import algos as registry

    try:
        meta = json.loads((out / "benchmark.json").read_text())
    except (OSError, ValueError):
        meta = {}
    algo_order = list(meta.get("algos", [])) + [a for a in registry.names() if a not in meta.get("algos", [])]
    env_order = list(meta.get("envs", [])) + [e for e in ENV_REFERENCES if e not in meta.get("envs", [])]
    return {a: i for i, a in enumerate(algo_order)}, {e: i for i, e in enumerate(env_order)}


def load_returns(out: str | os.PathLike, records: list[dict] | None = None) -> list[dict]:
    """Tidy rows (algo, env, seed, env_steps, wall_s, return) of every finished cell on its shared grid."""
    out = Path(out)
    rows: list[dict] = []
    for rec in records if records is not None else load_cells(out):
        if rec.get("status") != "done":
            continue
        metrics = out / "cells" / f"{runs._slug(rec['algo'])}__{runs._slug(rec['env'])}" / "run" / "metrics.csv"
        if not metrics.exists():
            continue
        grid = shared_grid(int(rec["total_steps"]), int(rec["points"]))
        for s, (ret, wall) in interpolate_runs(runs.read_csv(metrics), grid).items():
            for g, r, w in zip(grid, ret, wall):
                rows.append({"algo": rec["algo"], "env": rec["env"], "seed": s, "env_steps": int(g),
                             "wall_s": round(float(w), 3), "return": float(r)})
    return rows


def write_tables(out: str | os.PathLike) -> None:
    """Rewrite ``returns.{csv,parquet}`` and ``cells.{csv,parquet}`` from the cells in ``out`` (atomically)."""
    out = Path(out)
    records = [r for r in load_cells(out) if r.get("status") in ("done", "skipped", "failed")]
    returns = load_returns(out, records)
    cells = []
    for rec in records:
        row = {k: rec.get(k) for k in CELL_FIELDS}
        if row["env_steps_per_seed"] is None:
            row["env_steps_per_seed"] = rec.get("total_steps")
        cells.append(row)
    runs.write_csv(out / "returns.csv", returns, RETURN_FIELDS)
    runs.write_csv(out / "cells.csv", cells, CELL_FIELDS)
    _write_parquet(out / "returns.parquet", returns, RETURN_FIELDS)
    _write_parquet(out / "cells.parquet", cells, CELL_FIELDS)


_PARQUET_TYPES = {
    "algo": "string", "env": "string", "seed": "int64", "env_steps": "int64", "wall_s": "float64", "return": "float64",
    "status": "string", "reason": "string", "backend": "string", "seeds": "int64", "env_steps_per_seed": "int64",
    "env_steps_per_update": "int64", "compile_s": "float64", "run_s": "float64", "cell_wall_s": "float64",
    "env_steps_per_s": "float64", "peak_memory_mb": "float64", "final_return_mean": "float64",
    "final_return_iqm": "float64", "key": "string",
}


def _write_parquet(path: Path, rows: list[dict], fields: Sequence[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(f, getattr(pa, _PARQUET_TYPES[f])()) for f in fields])
    table = pa.Table.from_pylist([{f: r.get(f) for f in fields} for r in rows], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    runs.atomic_write_bytes(path, buf.getvalue())


# --------------------------------------------------------------------------------------------------
# report


def threshold(env_id: str) -> float | None:
    """The env's solved threshold: ours where we have a reference, else gymnasium's reward_threshold."""
    if env_id in ENV_REFERENCES:
        return ENV_REFERENCES[env_id].solved
    try:
        import gymnasium

        return gymnasium.spec(env_id).reward_threshold
    except Exception:
        return None


def _fmt(x: float) -> str:
    return f"{x:,.1f}" if abs(x) < 1e4 else f"{x:,.0f}"


def summarize(out: str | os.PathLike) -> dict[str, Any]:
    """The numbers of the report: per-cell final return (mean, 95% CI, IQM), steps to threshold, speed;
    normalised final scores per algorithm and env."""
    from rl_zoo import stats

    out = Path(out)
    records = load_cells(out)
    returns = load_returns(out, records)
    curves: dict[tuple[str, str], dict[int, list[tuple[int, float]]]] = {}
    for r in returns:
        curves.setdefault((r["algo"], r["env"]), {}).setdefault(r["seed"], []).append((r["env_steps"], r["return"]))
    table, normalised = [], {}
    for rec in records:
        if rec.get("status") != "done" or (rec["algo"], rec["env"]) not in curves:
            continue
        by_seed = curves[(rec["algo"], rec["env"])]
        arr = np.array([[v for _, v in sorted(by_seed[s])] for s in sorted(by_seed)])  # [seeds, points]
        steps = np.array([x for x, _ in sorted(next(iter(by_seed.values())))])
        final = arr[:, -1]
        lo, hi = stats.bootstrap_ci(final)
        thr = threshold(rec["env"])
        reach, seeds_reached = None, 0
        if thr is not None:
            mean_curve = arr.mean(axis=0)
            hit = np.nonzero(mean_curve >= thr)[0]
            reach = int(steps[hit[0]]) if hit.size else None
            seeds_reached = int((arr >= thr).any(axis=1).sum())
        table.append(dict(rec, final=final, final_mean=float(final.mean()), final_low=lo, final_high=hi,
                          final_iqm=float(stats.iqm(final)), threshold=thr, steps_to_threshold=reach,
                          seeds_reached=seeds_reached, n_seeds=len(final)))
        ref = ENV_REFERENCES.get(rec["env"])
        if ref is not None:
            normalised.setdefault(rec["algo"], {})[rec["env"]] = stats.normalize(final, ref.random, ref.solved)
    return dict(records=records, returns=returns, table=table, normalised=normalised)


def write_report(out: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Figures (PNG) and ``report.md`` for the benchmark folder ``out``; the report and its figures go
    to ``path`` (default ``out/report.md``) and its folder."""
    from rl_zoo import plots

    out = Path(out)
    path = Path(path) if path is not None else out / "report.md"
    fig_dir = path.parent
    s = summarize(out)
    records, table = s["records"], s["table"]
    try:
        meta = json.loads((out / "benchmark.json").read_text())
    except (OSError, ValueError):
        meta = {}
    algos = list(dict.fromkeys(r["algo"] for r in records))
    envs_ = list(dict.fromkeys(r["env"] for r in records))
    done_envs = list(dict.fromkeys(r["env"] for r in table))
    lines = [f"# Benchmark: {', '.join(algos)} on {', '.join(envs_)}", ""]
    if meta.get("command"):
        lines += ["Command:", "", "    " + meta["command"], ""]
    if meta.get("note"):
        lines += [meta["note"], ""]
    v = meta.get("versions", {})
    seeds = sorted({r["n_seeds"] for r in table})
    lines += [
        f"{'/'.join(map(str, seeds)) or '?'} seeds per cell, trained together (vmapped in one compiled program per cell); "
        f"greedy evaluation over {meta.get('eval_episodes', '?')} episodes per seed on separate env copies. "
        f"Machine: {v.get('platform', '?')}, {meta.get('cpu_count', '?')} CPU cores, jax {v.get('jax', '?')} "
        f"({v.get('jax_backend', '?')}); {meta.get('jobs', 1)} cell(s) at a time. Sum of cell wall times: "
        f"{sum(r.get('cell_wall_s') or 0 for r in records):,.0f} s"
        + (f"; the cells were last run together in {meta['grid_wall_s']:,.0f} s (started {meta.get('started')}"
           + (f", 1-minute load average {meta['load_start']:.1f} at the start and {meta['load_end']:.1f} at the end"
              if meta.get("load_end") is not None else "") + ")." if meta.get("grid_wall_s") else "."),
        "",
    ]
    skipped = [r for r in records if r.get("status") == "skipped"]
    failed = [r for r in records if r.get("status") == "failed"]
    pending = [r for r in records if r.get("status") == "running"]
    for title, group in (("Skipped", skipped), ("Failed", failed), ("Unfinished", pending)):
        if group:
            lines += [f"**{title}:**", ""] + [f"- {r['algo']} on {r['env']}: {r.get('reason') or 'interrupted'}" for r in group] + [""]

    lines += ["## Results per cell", "",
              "| env | algorithm | final return: mean [95% CI] | IQM | env steps to threshold (mean curve) | seeds at threshold | "
              "cell wall s | compile s | run s | env steps/s | peak MB |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in table:
        if r["threshold"] is None:
            reach, seeds_at = "no threshold", "-"
        else:
            reach = "not reached" if r["steps_to_threshold"] is None else f"{r['steps_to_threshold']:,}"
            seeds_at = f"{r['seeds_reached']}/{r['n_seeds']}"
        lines.append(
            f"| {r['env']} | {r['algo']} | {_fmt(r['final_mean'])} [{_fmt(r['final_low'])}, {_fmt(r['final_high'])}] | "
            f"{_fmt(r['final_iqm'])} | {reach} | {seeds_at} | {r['cell_wall_s']:,.0f} | {r['compile_s']:,.1f} | {r['run_s']:,.1f} | "
            f"{r['env_steps_per_s']:,.0f} | {r['peak_memory_mb']:,.0f} |")
    lines += [
        "",
        "Final return: the greedy return at the end of training (last point of the grid), mean over seeds with a 95% "
        "percentile bootstrap interval (2000 resamples of the seeds) and the interquartile mean over seeds. "
        "Env steps to threshold: the first grid point at which the mean over seeds reaches the env's threshold "
        "(the threshold is in each curve's heading below); seeds at threshold: how many seeds reach it at some grid "
        "point. Cell wall: the cell's whole process (start, "
        "compile, training, evaluations); compile: the driver's compilation (with JAX's persistent cache, so a "
        "repeated run compiles faster); run: the training segments only; env steps/s: all seeds' env steps over run s; "
        "peak MB: the cell process's peak resident memory.",
        "",
    ]

    normalised = s["normalised"]
    agg_algos = [a for a in algos if a in normalised]
    if agg_algos:
        n_envs = len({e for a in agg_algos for e in normalised[a]})
        labels = {a: a if len(normalised[a]) == n_envs else f"{a} ({len(normalised[a])} of {n_envs} envs)" for a in agg_algos}
        scores = {a: [normalised[a][e] for e in envs_ if e in normalised[a]] for a in agg_algos}
        numbers = plots.aggregate_intervals(scores, fig_dir / "aggregate.png", labels)
        plots.performance_profiles(scores, fig_dir / "profile.png", labels)
        lines += ["## Aggregate across envs", "",
                  "Final returns normalised per env as (return - random) / (threshold - random): 0 is a uniformly random "
                  "policy, 1 the env's threshold (table below). Point estimates pool every seed of every env; the "
                  "intervals are 95% stratified bootstrap intervals (seeds resampled within each env, 2000 resamples; "
                  "Agarwal et al. 2021). IQM: the mean of the middle 50% of runs; optimality gap: the mean shortfall "
                  "below 1 (lower is better). An algorithm that cannot run on some env is aggregated over the envs it ran on, "
                  "as its label says.", "",
                  "![IQM and optimality gap](aggregate.png)", "",
                  "| algorithm | envs | IQM [95% CI] | optimality gap [95% CI] |", "|---|---:|---|---|"]
        for a in agg_algos:
            iq, gap = numbers[a]["IQM"], numbers[a]["Optimality gap"]
            lines.append(f"| {a} | {len(scores[a])} | {iq[0]:.2f} [{iq[1]:.2f}, {iq[2]:.2f}] | {gap[0]:.2f} [{gap[1]:.2f}, {gap[2]:.2f}] |")
        lines += ["", "Performance profiles: the fraction of runs (all envs and seeds) whose normalised final score "
                  "exceeds tau; a curve above another is better everywhere.", "", "![Performance profiles](profile.png)", ""]
        missing = [e for e in done_envs if e not in ENV_REFERENCES]
        if missing:
            lines += [f"Not in the aggregate (no reference values): {', '.join(missing)}.", ""]

    if done_envs:
        lines += ["## Learning curves", "",
                  "Mean over seeds of the greedy return with a 95% pointwise bootstrap band, against env steps per seed "
                  "(left) and wall-clock seconds since training began (right; evaluations and checkpoints included, compilation "
                  "excluded). "
                  "Each seed's evaluations, made at its algorithm's update boundaries, are linearly interpolated onto "
                  f"a shared grid of {meta.get('points', DEFAULT_POINTS)} equal intervals of env steps (the last "
                  "evaluation, at most one update short of the budget, is held to its end), so that curves line up.", ""]
        for e in done_envs:
            png = f"curves_{runs._slug(e)}.png"
            thr = threshold(e)
            plots.benchmark_curves(s["returns"], e, fig_dir / png, thr)
            budget = next((r["total_steps"] for r in table if r["env"] == e), None)
            lines += [f"### {e}" + (f" (threshold {thr:g}" if thr is not None else " (") + f", {budget:,} env steps per seed)", "",
                      f"![{e} learning curves]({png})", ""]

    refs = [e for e in envs_ if e in ENV_REFERENCES]
    if refs:
        lines += ["## Reference values", "",
                  "| env | random policy | threshold (= 1 normalised) | source of the threshold | default env steps |",
                  "|---|---:|---:|---|---:|"]
        for e in refs:
            ref = ENV_REFERENCES[e]
            lines.append(f"| {e} | {ref.random:g} | {ref.solved:g} | {ref.source} | {ref.steps:,} |")
        lines += ["", "Random policy: mean return of 1000 episodes of uniformly random actions on this project's JAX port.", ""]
    lines += ["Tables: `returns.csv` / `returns.parquet` (algo, env, seed, env_steps, wall_s, return on the shared grid), "
              "`cells.csv` / `cells.parquet` (one row per cell); raw evaluations in `cells/*/run/metrics.csv`.", ""]
    runs.atomic_write_text(path, "\n".join(lines))
    return path


# --------------------------------------------------------------------------------------------------
# progress


class _GridProgress:
    """Progress over the whole grid (env steps of all cells to run, all seeds) and of each running cell."""

    def __init__(self, enabled: bool, todo: list[Cell], log: Callable[[str], None]):
        self.enabled, self.todo, self.log = enabled, todo, log
        self.total = sum(c.seeds * c.total_steps for c in todo)
        self.finished_steps = 0  # env steps of the finished cells
        self.current: dict[str, int] = {}  # running cell -> env steps done
        self.tasks: dict[str, Any] = {}
        self.started = self.finished = 0

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(
                TextColumn("{task.description}"), BarColumn(bar_width=24), TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(), TextColumn("{task.fields[info]}"), transient=False,
            )
            self.p.__enter__()
            self.grid = self.p.add_task(f"grid: 0/{len(self.todo)} cells done", total=max(self.total, 1), info="")
        return self

    def start(self, cell: Cell) -> None:
        self.started += 1
        self.current[cell.name] = 0
        label = f"[{self.started}/{len(self.todo)}] {cell.algo} on {cell.env}"
        if self.enabled:
            self.tasks[cell.name] = self.p.add_task(label, total=cell.seeds * cell.total_steps, info="starting / compiling")
        else:
            self.log(f"{label}: {cell.seeds} seed(s) x {cell.total_steps:,} env steps")

    def poll(self, cell: Cell, metrics: Path) -> None:
        if not self.enabled or not metrics.exists():
            return
        try:
            rows = runs.read_csv(metrics)
        except (OSError, ValueError):
            return
        if not rows:
            return
        step = int(rows[-1]["env_steps"])
        latest = [float(r["return"]) for r in rows if int(r["env_steps"]) == step]
        self.current[cell.name] = min(step * cell.seeds, cell.seeds * cell.total_steps)
        self.p.update(self.tasks[cell.name], completed=self.current[cell.name],
                      info=f"return {np.mean(latest):.1f}")
        self.p.update(self.grid, completed=self.finished_steps + sum(self.current.values()))

    def finish(self, cell: Cell, record: dict | None) -> None:
        self.finished += 1
        self.current.pop(cell.name, None)
        self.finished_steps += cell.seeds * cell.total_steps
        if record is None:
            line = f"FAILED {cell.algo} on {cell.env}: {cell.reason}"
        else:
            line = (f"done {cell.algo} on {cell.env}: final return {record['final_return_mean']:.1f} (mean of {cell.seeds}), "
                    f"compile {record['compile_s']:.1f}s, run {record['run_s']:.1f}s, {record['env_steps_per_s']:,.0f} env steps/s, "
                    f"cell {record['cell_wall_s']:.0f}s")
        if self.enabled:
            self.p.remove_task(self.tasks.pop(cell.name))
            self.p.update(self.grid, completed=self.finished_steps + sum(self.current.values()),
                          description=f"grid: {self.finished}/{len(self.todo)} cells done")
            self.p.console.print(line, highlight=False, markup=False)
        else:
            self.log(line)

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)
        return False


if __name__ == "__main__":  # the child process of one cell
    if len(sys.argv) == 3 and sys.argv[1] == "--cell":
        sys.exit(_cell_main(sys.argv[2]))
    print("usage: rl-zoo benchmark ... (this module's own entry point is internal: --cell CELL_JSON)", file=sys.stderr)
    sys.exit(2)
