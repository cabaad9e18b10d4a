"""What the version of ml_dtypes costs every process: its import, and a whole warm `rl-zoo train` (issue 15).

    python benchmarks/ml_dtypes_import.py [--versions 0.7.0,0.6.0] [--repeats 5]

JAX imports ml_dtypes (the numpy dtypes bfloat16, float8_*, int4, ...) when it starts, so every `rl-zoo`
process that touches JAX pays its import. ml_dtypes 0.7.0's extension module registers its numpy ufunc
loops and casts in about 0.7-0.9 s on a 2-core EPYC (``perf`` puts the time in numpy's
``PyUFunc_AddLoop``, comparing the signatures of the loops already registered); 0.6.0 imports in about
0.1 s. rl_zoo's dependencies hold ml_dtypes below 0.7 for that reason (``pyproject.toml``); this script
measures the difference again, so that the bound can go when a later ml_dtypes imports as fast.

Each version is installed once, without its dependencies, into its own folder
(``--store``, default ``/tmp/rl_zoo_ml_dtypes/<version>``; pip needs the network the first time) and put
first on ``PYTHONPATH``, so that the same Python, JAX and rl_zoo run with it. Rows, each a fresh process
timed whole, the versions taken in alternation, medians of ``--repeats``:

* ``import ml_dtypes``: ``python -c "import ml_dtypes"``;
* ``import jax``: ``python -c "import jax"``;
* ``rl-zoo train warm``: PPO on CartPole-v1 with its defaults, 1 seed, on a compilation cache that a first
  run of the same command filled (so that compiling does not drown the difference).

Both versions train bit for bit the same run (the script checks that the returns in metrics.csv match).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import (RAW_KEEPS, RERUN_KEEPS, cold_cache_env, load_average, machine, metrics_returns, now_utc, recorded_command,
                      require_counts, require_results_file, save_run, timed, versions, write_report)

RESULTS = Path(__file__).parent / "results"
TRAIN = ["-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1", "--no-progress"]


def install(version: str, store: Path) -> Path:
    """The folder holding ml_dtypes ``version`` alone (installed there by pip the first time). A version pip cannot
    install ends the script in one line naming it (it was a CalledProcessError traceback): exit 2 where pip found no
    such version (a bad ``--versions``), else 1 (no network, a full disk: pip's last error line says which)."""
    folder = store / version
    if not (folder / "ml_dtypes").is_dir():
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(folder),
                               f"ml_dtypes=={version}"], capture_output=True, text=True)
        if done.returncode != 0:
            errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")] or done.stderr.strip().splitlines() or ["?"]
            no_such = any("No matching distribution" in e or "Could not find a version" in e for e in errors)
            print(f"ml_dtypes_import.py: error: ml_dtypes {version} could not be installed into {folder} (pip: {errors[-1]})",
                  file=sys.stderr)
            raise SystemExit(2 if no_such else 1)
    return folder


def measure(versions_: list[str], repeats: int, store: Path, work: Path) -> dict:
    """{row: {version: [wall seconds, ...]}}, the versions alternating within each repeat."""
    folders = {v: install(v, store) for v in versions_}
    cache = work / "cache"
    env_of = {v: dict(cold_cache_env(cache), PYTHONPATH=str(folders[v])) for v in versions_}
    for v in versions_:  # the version each process really imports
        out = subprocess.run([sys.executable, "-c", "import ml_dtypes; print(ml_dtypes.__version__)"],
                             env=env_of[v], capture_output=True, text=True, check=True).stdout.strip()
        if out != v:
            raise SystemExit(f"ml_dtypes_import.py: {folders[v]} gives ml_dtypes {out}, not {v}")
    timed([sys.executable, *TRAIN, "--out", str(work / "prime")], env=env_of[versions_[0]])  # fills the cache
    rows = {"import ml_dtypes": [sys.executable, "-c", "import ml_dtypes"],
            "import jax": [sys.executable, "-c", "import jax"]}
    times: dict = {row: {v: [] for v in versions_} for row in [*rows, "rl-zoo train warm"]}
    for r in range(repeats):
        for v in versions_:
            for row, cmd in rows.items():
                times[row][v].append(timed(cmd, env=env_of[v]).wall_s)
            out = work / f"run-{v}-{r}"
            times["rl-zoo train warm"][v].append(timed([sys.executable, *TRAIN, "--out", str(out)], env=env_of[v]).wall_s)
            if metrics_returns(out) != metrics_returns(work / "prime"):
                raise SystemExit(f"ml_dtypes_import.py: ml_dtypes {v} trained other returns than {versions_[0]}")
            print(f"repeat {r + 1}/{repeats}, ml_dtypes {v}: " + ", ".join(f"{row} {t[v][-1]:.2f} s" for row, t in times.items()),
                  flush=True)
    return times


def report(times: dict, versions_: list[str], meta: dict) -> str:
    first = versions_[0]
    lines = ["# What ml_dtypes' version costs every process", "",
             f"Measured {meta['when']} on {meta['machine']}, by `{meta['command']}`. Load average before: {meta['load_before']}; "
             f"after: {meta['load_after']}. Software: {meta['versions']}.", "",
             "Each figure is the median wall time of fresh processes, the versions taken in alternation; "
             "*train warm* is `rl-zoo train --algo ppo --env CartPole-v1` (1 seed, defaults) on a filled compilation cache. "
             "Both versions trained the same returns, bit for bit.", "",
             "| row | ml_dtypes | wall s (median) | runs | minus " + first + " |", "|---|---|---:|---|---:|"]
    for row, by_version in times.items():
        base = statistics.median(by_version[first])
        for v in versions_:
            med = statistics.median(by_version[v])
            runs = ", ".join(f"{t:.2f}" for t in by_version[v])
            lines.append(f"| {row} | {v} | {med:.2f} | {runs} | {med - base:+.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--versions", default="0.7.0,0.6.0", help="ml_dtypes versions, comma-separated (default 0.7.0,0.6.0)")
    parser.add_argument("--repeats", type=int, default=5, help="alternating runs per version (default 5)")
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "rl_zoo_ml_dtypes",
                        help="where each version is installed (default /tmp/rl_zoo_ml_dtypes/<version>)")
    parser.add_argument("--out", type=Path, default=RESULTS / "ml_dtypes_import.md", help=f"results file (and .json beside it); {RERUN_KEEPS}; {RAW_KEEPS}")
    args = parser.parse_args(argv)
    versions_ = [v.strip() for v in args.versions.split(",") if v.strip()]
    if len(versions_) < 2:
        parser.error(f"--versions {args.versions!r}: give at least two, comma-separated")
    require_counts(parser, args, "repeats")
    require_results_file(parser, args.out)
    meta = {"when": now_utc(), "machine": machine(), "load_before": load_average(),
            "command": recorded_command("ml_dtypes_import.py", argv),
            "versions": ", ".join(f"{k} {v}" for k, v in versions().items())}
    with tempfile.TemporaryDirectory() as work:
        times = measure(versions_, args.repeats, args.store, Path(work))
    meta["load_after"] = load_average()
    save_run(args.out.with_suffix(".json"), {"meta": meta, "times": times})
    write_report(args.out, report(times, versions_, meta))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
