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

from rl_zoo.benchmark.grid import GRID_LOCK, BenchmarkResult, check_jobs, run_benchmark
from rl_zoo.benchmark.plan import (
    DEFAULT_ALGOS, DEFAULT_ENVS, DEFAULT_OUT, Cell, check_something_to_run, format_plan, parse_exclude, parse_list,
    parse_sets, parse_total_steps, plan_grid, plan_header,
)
from rl_zoo.benchmark.records import (
    CELL_FIELDS, DEFAULT_POINTS, RETURN_FIELDS, BenchmarkFileError, CellRecord, CellResult, CellRow, CellSpec,
    GridMeta, ReturnRow, cell_name, read_cell_record, read_grid_meta, slug,
)
from rl_zoo.benchmark.references import ENV_REFERENCES, FALLBACK_STEPS, EnvReference, default_steps, steps_help, threshold
from rl_zoo.benchmark.report import CellSummary, Summary, summarize, write_report
from rl_zoo.benchmark.tables import (
    interpolate_runs, load_cells, load_returns, read_cells_table, read_metrics, read_returns_table, shared_grid,
    write_tables,
)

__all__ = [
    "BenchmarkFileError", "BenchmarkResult", "CELL_FIELDS", "Cell", "CellRecord", "CellResult", "CellRow", "CellSpec",
    "CellSummary", "DEFAULT_ALGOS", "DEFAULT_ENVS", "DEFAULT_OUT", "DEFAULT_POINTS", "ENV_REFERENCES", "EnvReference",
    "FALLBACK_STEPS", "GRID_LOCK", "GridMeta", "check_jobs", "check_something_to_run", "RETURN_FIELDS", "ReturnRow",
    "Summary", "cell_name", "default_steps",
    "format_plan", "interpolate_runs", "load_cells", "load_returns", "parse_exclude", "parse_list", "parse_sets",
    "parse_total_steps", "plan_grid", "plan_header", "read_cell_record", "read_cells_table", "read_grid_meta", "read_metrics",
    "read_returns_table", "run_benchmark", "shared_grid", "slug", "steps_help", "summarize", "threshold",
    "write_report", "write_tables",
]
