"""Whole `rl-zoo` commands at two commits, side by side: what a change did to the commands users type.

    python benchmarks/command_start.py --base REV [--repeats 5] [--cold] [--train 'ARGS'] [--out benchmarks/results/command_start.md]

The base is checked out into a temporary git worktree, and so is the head: the working tree as it is,
uncommitted and untracked files included, so that both trees are imported from the same kind of folder
(``_results.git_worktrees`` says why). Each measurement is
a fresh process of the same Python running the ``rl-zoo`` entry point (``rl_zoo.cli.console_main``) from one tree (the editable install's
import hook is left out, so that the tree named is the tree imported), timed whole, the trees taken in
alternation (base, head, base, ...), medians of ``--repeats``. Rows:

* ``rl-zoo algos``: the command line built and a table printed, no JAX: the floor of every command;
* ``rl-zoo train warm``: PPO on CartPole-v1 with its defaults, 1 seed (``--train``: other arguments of
  ``rl-zoo train``), on a compilation cache that a first, unrecorded run of each tree filled (so that XLA
  compiling does not drown a difference of start-up);
* ``rl-zoo train cold``: the same on an empty cache (``--cold``; a new user's first run).

For the train rows the run's own ``compile_s`` (summary.json: tracing, compiling or loading the programs, and the
initial states) is reported beside the whole command's seconds: it moves less with the host's noise.

Both trees' returns are compared (``metrics.csv``'s env steps, seeds and returns): a change that should not
touch training must train the same numbers, bit for bit; a difference is printed, not hidden.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import (RAW_KEEPS, RERUN_KEEPS, cold_cache_env, git_worktrees, load_average, machine, metrics_returns, now_utc,
                      recorded_command, require_counts, require_results_file, require_revision, save_run, software, timed,
                      train_args_problem, versions, write_report)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"

#: runs the ``rl-zoo`` entry point (``rl_zoo.cli.console_main``: the CPU split into devices for several seeds, as
#: users get it) from the tree in argv[1], with the editable install's finder removed
LAUNCH = r"""
import sys
tree = sys.argv[1]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, tree)
sys.argv = ["rl-zoo", *sys.argv[2:]]
import rl_zoo.cli
assert rl_zoo.cli.__file__.startswith(tree), rl_zoo.cli.__file__
rl_zoo.cli.console_main()
"""
DEFAULT_TRAIN = "--algo ppo --env CartPole-v1"


def command(tree: Path, args: list[str]) -> list[str]:
    return [sys.executable, "-c", LAUNCH, str(tree), *args]


def measure(trees: dict[str, Path], repeats: int, cold: bool, work: Path, train_args: list[str]) -> tuple[dict, dict, bool]:
    """({row: {tree name: [wall s]}}, {train row: {tree name: [the run's compile_s]}}, whether both trees trained
    the same returns)."""
    train_cmd = ["train", *train_args, "--no-progress"]
    caches = {name: work / f"cache-{name}" for name in trees}
    for name, tree in trees.items():  # fill each tree's cache, unrecorded
        timed(command(tree, [*train_cmd, "--out", str(work / f"prime-{name}")]), env=cold_cache_env(caches[name]))
    rows = ["rl-zoo algos", "rl-zoo train warm"] + (["rl-zoo train cold"] if cold else [])
    times = {row: {name: [] for name in trees} for row in rows}
    compile_s = {row: {name: [] for name in trees} for row in rows[1:]}

    def train(row: str, name: str, run: Path, cache: Path) -> None:
        times[row][name].append(timed(command(trees[name], [*train_cmd, "--out", str(run)]), env=cold_cache_env(cache)).wall_s)
        compile_s[row][name].append(json.loads((run / "summary.json").read_text())["compile_s"])

    for r in range(repeats):
        for name, tree in trees.items():
            times["rl-zoo algos"][name].append(timed(command(tree, ["algos"])).wall_s)
            train("rl-zoo train warm", name, work / f"warm-{name}-{r}", caches[name])
            if cold:
                train("rl-zoo train cold", name, work / f"cold-{name}-{r}", Path(tempfile.mkdtemp(dir=work)))
            print(f"repeat {r + 1}/{repeats}, {name}: " + ", ".join(f"{row} {t[name][-1]:.2f} s" for row, t in times.items()), flush=True)
    base, head = trees
    same = metrics_returns(work / f"prime-{base}") == metrics_returns(work / f"prime-{head}")
    return times, compile_s, same


def report(times: dict, compile_s: dict, same: bool, meta: dict) -> str:
    lines = ["# Whole `rl-zoo` commands at two commits", "",
             f"Measured {meta['when']} on {meta['machine']} by `{meta['command']}`: base {meta['base']}, head {meta['head']}. "
             f"Load average before: {meta['load_before']}; after: {meta['load_after']}. Software: {software(meta['versions'])}.", "",
             f"Fresh processes timed whole, the trees alternating, medians. *train* is `rl-zoo train {meta['train']}` "
             "(its defaults otherwise); warm = on a compilation cache each tree filled first; cold = an empty one; "
             "*compile s* = the run's own compile_s (summary.json). Returns: "
             + ("the same bit for bit." if same else "**they differ** between the trees."), "",
             "| command | base s (median) | head s (median) | head / base | base compile s | head compile s | base runs | head runs |",
             "|---|---:|---:|---:|---:|---:|---|---|"]
    for row, by_tree in times.items():
        b, h = (statistics.median(v) for v in by_tree.values())
        runs = [", ".join(f"{t:.2f}" for t in v) for v in by_tree.values()]
        compiled = [f"{statistics.median(v):.2f}" for v in compile_s[row].values()] if row in compile_s else ["", ""]
        lines.append(f"| {row} | {b:.2f} | {h:.2f} | {h / b:.2f} | {compiled[0]} | {compiled[1]} | {runs[0]} | {runs[1]} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the commit to compare against (any git revision)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs per tree (default 5)")
    parser.add_argument("--cold", action="store_true", help="also time the train command on an empty compilation cache")
    parser.add_argument("--train", default=DEFAULT_TRAIN, metavar="ARGS",
                        help=f"the train command's arguments, quoted as one (default {DEFAULT_TRAIN!r}; --out and --no-progress are added)")
    parser.add_argument("--out", type=Path, default=RESULTS / "command_start.md", help=f"results file (and .json beside it); {RERUN_KEEPS}; {RAW_KEEPS}")
    args = parser.parse_args(argv)
    require_counts(parser, args, "repeats")
    require_results_file(parser, args.out)
    train_args = shlex.split(args.train)
    if not train_args or {"--out", "--resume"} & {a.split("=")[0] for a in train_args}:
        parser.error(f"--train {args.train!r}: give the run's settings (--algo, --env, --seeds, ...); "
                     "the script chooses each run's --out")
    if problem := train_args_problem(train_args):
        parser.error(f"--train {args.train!r}: {problem}")
    base_rev = require_revision(parser, ROOT, args.base)
    head_rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    meta = {"when": now_utc(), "machine": machine(), "load_before": load_average(), "base": base_rev,
            "head": head_rev + (" + uncommitted changes" if dirty else ""), "command": recorded_command("command_start.py", argv),
            "train": shlex.join(train_args), "versions": versions()}
    with tempfile.TemporaryDirectory() as work, git_worktrees(ROOT, {"base": args.base, "head": None}, Path(work)) as trees:
        times, compile_s, same = measure(trees, args.repeats, args.cold, Path(work), train_args)
    meta["load_after"] = load_average()
    save_run(args.out.with_suffix(".json"), {"meta": meta, "times": times, "compile_s": compile_s, "same_returns": same})
    text = report(times, compile_s, same, meta)
    write_report(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
