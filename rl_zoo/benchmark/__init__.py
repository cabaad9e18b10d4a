"""Algorithm comparison from one command: a grid of (algorithm, env) cells, every seed of a cell
vmapped in one compiled program, results in tidy tables, figures and a report.

    rl-zoo benchmark --algos ppo,ppo-kl,trpo,vpg,dqn --envs CartPole-v1,Acrobot-v1,Pendulum-v1 --seeds 10

A benchmark folder (default ``runs/benchmark``)::

    benchmark.json        the last command, the plan (cells to run, skipped with reason), versions
    returns.csv/.parquet  one row per algorithm, env, seed and point of the shared grid:
                          algo, env, seed, env_steps, wall_s, return
    cells.csv/.parquet    one row per cell done, skipped or failed: status and why, seeds, env
                          steps, compile s, run s, cell wall s, env steps/s, peak memory, final return
    report.md             final return, steps to threshold, speed per cell; the figures
    curves_<env>.png      learning curves against env steps and against wall-clock seconds
    aggregate.png         IQM and optimality gap of normalised final scores across envs
    profile.png           performance profiles (run-score distributions)
    cells/<algo>__<env>/  cell.json (its config, its key, its timings), log.txt (the cell's output; a cell's new
                          attempt, resumed or started over, is appended below a separator line),
                          run/ (the driver's run directory: config.json, metrics.csv, summary.json;
                          with --record-video its clip final_episode.gif and last checkpoint, or
                          no_clip.txt beside cell.json saying why there is none)

The package, along its seams:

    references.py   per-env budgets, random-policy returns and solved thresholds
    records.py      typed records (CellSpec, CellRecord, GridMeta, ReturnRow, CellRow) and their readers
    plan.py         names, budgets and configs checked; each cell's fate decided before anything runs
    cells.py        one process per cell, which dies with the grid process and locks its cell folder
    tables.py       returns and cells tables (CSV and Parquet), interpolation onto the shared grid
    report.py       summarize() and write_report(): the numbers, report.md and its figures
    settings_text.py  the report's sentences on how the cells ran (seeds, held out or not, devices, commits)
    clips.py        --record-video: one GIF per cell, the report's Clips section (clip_hook.py: the cell's hook)
    grid.py         run_benchmark(): plan, lock the folder, run the cells, tables, report
    command.py      the command line: `rl-zoo benchmark` and `rl-zoo plot` (a benchmark folder or a run directory)

Each cell runs in its own Python process through the driver (``rl_zoo.train.train``), so that its
peak memory is its own and one failing cell does not stop the grid; it ends when the grid process
ends, however that ends. The folder is locked while a grid runs in it (a second one is refused with
the holder's PID), and each cell folder while its process runs. The tables are rewritten
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

import importlib

# The names below are imported from their modules when first asked for (PEP 562), not when the package is:
# `rl-zoo train` builds the whole command line, `rl-zoo benchmark`'s parser included, and importing grid/report
# here would load scipy.stats (about 0.7 s of every command's start on a 2-core EPYC) for nothing.
_EXPORTS = {
    "grid": ("BenchmarkResult", "GRID_LOCK", "check_jobs", "run_benchmark"),
    "plan": (
        "Cell", "DEFAULT_ALGOS", "DEFAULT_ENVS", "DEFAULT_OUT", "check_something_to_run", "format_plan",
        "join_total_steps", "parse_exclude", "parse_list", "parse_sets", "parse_total_steps", "plan_grid", "plan_header"
    ),
    "records": (
        "BenchmarkFileError", "CELL_FIELDS", "CellRecord", "CellResult", "CellRow", "CellSpec", "DEFAULT_POINTS",
        "GridMeta", "RETURN_FIELDS", "ReturnRow", "cell_name", "read_cell_record", "read_grid_meta", "slug"
    ),
    "references": ("ENV_REFERENCES", "EnvReference", "FALLBACK_STEPS", "default_steps", "steps_help", "threshold"),
    "report": ("CellSummary", "Summary", "summarize", "write_report"),
    "tables": (
        "interpolate_runs", "load_cells", "load_returns", "read_cells_table", "read_metrics", "read_returns_table",
        "shared_grid", "write_tables"
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    """``rl_zoo.benchmark.NAME``: the name from its module (imported now, once)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rl_zoo.benchmark' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"rl_zoo.benchmark.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
