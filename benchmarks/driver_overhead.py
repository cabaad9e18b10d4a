"""Did seed sharding slow the single-device driver? The same training through ``rl_zoo.train.train``
at two commits, measured in alternation in fresh processes on this machine.

Issue 9 asks that device-parallel training leave single-device CPU speed within 5% of before. The
reference is the last commit before sharding landed (``d342961^``); the candidate is the working tree (checked out as
it is, uncommitted changes included, in a worktree beside the base: `_results.git_worktrees`).
Each measurement is a fresh ``python`` process that runs ``train("ppo", "CartPole-v1", ...)`` (the
README's main job: tuned config, 100k env steps, 10 evaluations) and reports the driver's own
``train_s`` (the jitted training segments alone: evaluations, checkpoints and compile excluded) and ``compile_s``. Both
trees share one persistent compilation cache per tree, warmed by a first unrecorded run, so that
``compile_s`` measures cache loading rather than XLA; the runs alternate base, head, base, head, ...
so that a change in machine load hits both alike. The ratio is head / base of the medians.

    python benchmarks/driver_overhead.py                      # base d342961^ vs the working tree
    python benchmarks/driver_overhead.py --head d342961          # the sharding commit alone
    python benchmarks/driver_overhead.py --base REV --repeats 5 --seeds 1,8
    python benchmarks/driver_overhead.py --repeats 1 --seeds 1 --out /tmp/trial.md   # a trial, not the results
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import (RERUN_KEEPS, cpu_name, git_worktrees, load_average, now_utc, require_counts, require_results_file,
                      recorded_command, require_revision, seed_counts, software, write_report)  # benchmarks/_results.py (this script's folder is on the path)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"

CHILD = r"""
import json, sys, tempfile
from rl_zoo.train import enable_compilation_cache, train
enable_compilation_cache(sys.argv[1])
r = train("ppo", "CartPole-v1", seeds=int(sys.argv[2]), out=tempfile.mkdtemp() + "/run", progress=False, log=lambda s: None)
print(json.dumps(dict(train_s=r.summary["train_s"], compile_s=r.summary["compile_s"], ret=r.summary["final_return_mean"])))
"""


#: The base commit still initialised networks with LAPACK's batched QR, which can deadlock vmapped
#: programs on 2-core machines; XLA's concurrency-optimised scheduler off made that rare, and is set
#: for both trees alike. A process that still hangs is killed and run again.
XLA_FLAGS = "--xla_cpu_enable_concurrency_optimized_scheduler=false"
#: issue 9's target: head / base train seconds at most this (nothing slower on one CPU device)
TARGET = 1.05


def child(tree: Path, cache: str, seeds: int, tries: int = 3) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree), XLA_FLAGS=XLA_FLAGS)
    for attempt in range(tries):
        try:
            out = subprocess.run([sys.executable, "-c", CHILD, cache, str(seeds)], cwd=tree, env=env,
                                 capture_output=True, text=True, check=True, timeout=300)
            return json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            print(f"  ({tree.name}: process hung, killed; trying again)", flush=True)
    raise RuntimeError(f"{tries} processes in a row hung in {tree}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="d342961^", help="reference commit (default: the one before sharding)")
    parser.add_argument("--head", default=None, help="candidate commit (default: the working tree)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each tree (default 5)")
    parser.add_argument("--seeds", default="1,8", help="comma-separated seed counts (default 1,8)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the results file (default benchmarks/results/driver_overhead.md, or "
                             f"driver_overhead_<head>.md with --head); {RERUN_KEEPS}")
    args = parser.parse_args(argv)
    load_before = load_average()  # the results say how loaded the machine was before and after the runs
    require_counts(parser, args, "repeats")
    counts = seed_counts(parser, args.seeds, "1,8")
    path = args.out or RESULTS / ("driver_overhead.md" if not args.head else
                                  f"driver_overhead_{args.head.replace('^', '_parent').replace('/', '_')}.md")
    require_results_file(parser, path)
    base_rev = require_revision(parser, ROOT, args.base)  # a typo was git worktree add's traceback
    head_rev = require_revision(parser, ROOT, args.head, "--head") if args.head else require_revision(parser, ROOT, "HEAD")

    rows = []
    with tempfile.TemporaryDirectory() as tmp, git_worktrees(ROOT, {"base": args.base, "head": args.head}, Path(tmp)) as trees:
        for seeds in counts:
            caches = {name: tempfile.mkdtemp(dir=tmp) for name in trees}
            for name, tree in trees.items():  # warm each tree's compilation cache, unrecorded
                child(tree, caches[name], seeds)
            times = {name: [] for name in trees}
            for i in range(args.repeats):
                for name, tree in trees.items():
                    r = child(tree, caches[name], seeds)
                    times[name].append(r)
                    print(f"seeds={seeds} {name} #{i + 1}: train {r['train_s']:.2f} s, compile {r['compile_s']:.2f} s, "
                          f"return {r['ret']:.1f}", flush=True)
            med = {n: statistics.median(r["train_s"] for r in times[n]) for n in trees}
            rows.append((seeds, med["base"], med["head"], med["head"] / med["base"], times))

    lines = [
        "# Driver speed on one CPU device, before and after seed sharding (issue 9)",
        "",
        f"Measured {now_utc()} on {cpu_name()} ({platform.machine()}), {os.cpu_count()} cores, by "
        f"`{recorded_command('driver_overhead.py', argv)}`. Software (both trees): {software(commit=False)}.",
        f"base = `{args.base}` ({base_rev}, before sharding); head = {'`' + args.head + '` (' + head_rev + ')' if args.head else 'the working tree at ' + head_rev}. "
        "`rl_zoo.train.train('ppo', 'CartPole-v1')` with the tuned config (100k env steps, 10 evaluations), "
        "fresh process per run, warm compilation cache per tree, runs alternating base/head. "
        "train s = the driver's jitted training segments alone (summary.json's train_s: evaluations, checkpoints and compile excluded).",
        "",
        f"| seeds | base train s (median) | head train s (median) | head / base | target <= {TARGET:g} |",
        "|---:|---:|---:|---:|---|",
    ]
    for seeds, b, h, ratio, _ in rows:
        lines.append(f"| {seeds} | {b:.2f} | {h:.2f} | {ratio:.3f} | {'met' if ratio <= TARGET else '**missed**'} |")
    lines += ["", "Every run (train s):", ""]
    for seeds, _, _, _, times in rows:
        for name in ("base", "head"):
            lines.append(f"- {seeds} seed(s), {name}: " + ", ".join(f"{r['train_s']:.2f}" for r in times[name]))
    lines += ["", f"Target (issue 9): head / base <= {TARGET:g} (nothing slower on one CPU device).",
              f"Load average before: {load_before}; at the end: {load_average()}."]
    write_report(path, "\n".join(lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
