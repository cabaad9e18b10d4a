"""``rl-zoo plot RUN_DIR RUN_DIR ... [-o FILE]``: several runs of ``rl-zoo train`` in one figure.

One panel per env (its options named, ``LunarLander-v3 (continuous=true)``), and in it one curve per run:
the mean greedy return over the run's seeds against env steps, with a pointwise 95% bootstrap band over
its seeds (``rl_zoo.plots.env_panels``). A run is labelled by its algorithm, and by its folder's name as
well where two runs in a panel share an algorithm (two PPO runs of different ``--set``; the folder as given
where two share a name), says where its returns stop being finite (a diverged run draws no line there), and,
for a run without summary.json, whether it is training or stopped and up to which env step it was evaluated.
"""

from __future__ import annotations

import math
from pathlib import Path

#: the figure's file name in a folder given as ``-o`` (or in the current folder without ``-o``)
DEFAULT_NAME = "compare.png"
TODO = "`rl-zoo train` writes it; compare run directories it wrote"


def check_run_dirs(dirs: list[Path]) -> None:
    """Every folder is a run directory of ``rl-zoo train`` (not a benchmark, a sweep or an RLHF run) and
    appears once; ``ValueError`` naming the first that is not."""
    from rl_zoo.runs import folder_kind, holds_rlhf_run

    seen: set[Path] = set()
    for d in dirs:
        kind = folder_kind(d)
        if kind != "run" or holds_rlhf_run(d):
            what = ("an `rl-zoo rlhf` run" if kind == "run" else "a benchmark folder (plot it alone)" if kind == "benchmark"
                    else "a sweep folder (its `rl-zoo sweep` command draws it again)" if kind == "sweep" else
                    "not there" if not d.exists() else "a file, not a run directory" if d.is_file() else
                    "not a run directory (no metrics.csv)")
            raise ValueError(f"rl-zoo plot with several folders draws run directories of `rl-zoo train` together; {d} is {what}")
        if d.resolve() in seen:
            raise ValueError(f"{d} is given twice: give each run once")
        seen.add(d.resolve())


def run_rows(dirs: list[Path]) -> list:
    """The evaluation rows of every run as ``ReturnRow``s: ``algo`` its label, ``env`` the env id with its
    options. A run without evaluations yet, or whose files are damaged, is refused naming the file."""
    return [row for _, run in _labelled_runs(dirs) for row in run]


def _labelled_runs(dirs: list[Path]) -> list[tuple[bool, list]]:
    """Per run, whether it is unfinished (no summary.json: training, or stopped) and its rows (``run_rows``)."""
    from rl_zoo import runs
    from rl_zoo.benchmark import ReturnRow

    read = []
    for d in dirs:
        cfg = runs.read_json_file(d / "config.json", required=("algo", "env"), todo=TODO)
        if not (d / "metrics.csv").exists():  # compiling, or stopped before its first evaluation
            raise ValueError(runs.metrics_not_written(d))
        rows = runs.read_metrics(d / "metrics.csv", todo=TODO)
        if not rows:
            raise ValueError(f"{d / 'metrics.csv'} has no evaluation rows yet: plot the run after its first evaluation")
        read.append((d, str(cfg["algo"]), runs.recorded_env_label(cfg), rows, cfg))
    shared = [(algo, env) for _, algo, env, _, _ in read]
    names = [run_name(d) for d, *_ in read]
    out = []
    for d, algo, env, rows, cfg in read:
        where = d.resolve() if d.name in ("", "..") else d  # `.` (its name clashing with another's) as a path that says it
        label = algo if shared.count((algo, env)) == 1 else f"{algo}: {run_name(d) if names.count(run_name(d)) == 1 else where}"
        bad = sorted({r["env_steps"] for r in rows if not math.isfinite(r["return"])})
        if bad:  # its mean is NaN from there on, which draws no line: say why it stops
            label += f", non-finite returns from {bad[0]:,} env steps"
        unfinished = unfinished_words(d, cfg, rows)
        label = (label + unfinished).replace("$", r"\$")  # a folder's "$": matplotlib read "$...$" as math (or failed)
        out.append((bool(unfinished), [ReturnRow(label, env, int(r["seed"]), int(r["env_steps"]), float(r["wall_s"]),
                                                 float(r["return"])) for r in rows]))
    return out


def unfinished_words(d: Path, cfg: dict, rows: list[dict]) -> str:
    """What a run without summary.json adds to its label: training (a process holds it), diverged (the NaN guard
    stopped it: runs.DIVERGED) or stopped, and how far
    it was evaluated (a run in progress with two evaluations was labelled "evaluated at the start and end only");
    "" for a finished run."""
    from rl_zoo import lock, runs

    if (d / "summary.json").is_file():
        return ""
    total = runs.asked_total_steps(cfg)
    of = f" of {total:,}" if total is not None else ""
    state = "training" if lock.holder(d) is not None else "diverged" if runs.diverged(d, rows) else "stopped"
    return f", {state}: evaluated up to {max(int(r['env_steps']) for r in rows):,}{of} env steps"


def compare_runs(dirs: list[str | Path], output: str | Path | None = None) -> Path:
    """Draw the runs in ``dirs`` together (module docstring) to ``output`` (a figure file, or an existing folder
    for ``compare.png`` in it; default ``./compare.png``); the path written. Every folder and the output are
    checked before anything is drawn."""
    from rl_zoo import plots

    dirs = [Path(d) for d in dirs]
    check_run_dirs(dirs)
    path = plots.figure_path(output if output is not None else Path.cwd(), DEFAULT_NAME,
                             "-o" if output is not None else "the current folder (where the figure goes without -o)")
    labelled = _labelled_runs(dirs)
    rows = [row for _, run in labelled for row in run]
    envs = list(dict.fromkeys(r.env for r in rows))
    return plots.env_panels(rows, envs, path, unfinished={run[0].algo for unfinished, run in labelled if unfinished})


def run_name(d: Path) -> str:
    """A run directory's folder name, ``.`` and ``..`` (whose ``Path.name`` is empty or "..") resolved."""
    return Path(d).resolve().name if Path(d).name in ("", "..") else Path(d).name
