"""Where a cold `rl-zoo train` spends its compile: each program XLA compiles, its seconds and its size.

    python benchmarks/compile_programs.py [--repeats 3] [--rows 'ARGS;ARGS'] [--out benchmarks/results/compile_programs.md]

Each row is one `rl-zoo train` command (``--rows``: its arguments, ``;`` between rows; default PPO on
CartPole-v1 with 1 seed, then with 16). Each repeat is a fresh process running the command as the
``rl-zoo`` entry point does (the CPU split into one device per core for several seeds) on an empty
compilation cache, with ``jax.stages.Lowered.compile`` wrapped: every program XLA compiles is listed by
its module name (``jit_<function>``: the driver's ``init_seeds``, ``segment`` and ``eval_all``, see
``rl_zoo.driver.plan``), in the order its compile finished, with its XLA seconds, the thread it compiled on
and the length of its StableHLO text (read after the compile is timed: it adds a few hundredths of a second
to the plan's and the command's times). The driver compiles the initial states' and the evaluation's programs
on a second thread beside the segment's, so their seconds overlap: each includes the competition for the
cores, and their sum can exceed the plan's compile (the report says by how much). Repeats are matched by
program name (the finishing order can differ between them). Beside them the run's own figures from ``summary.json``: *compile* (the plan: tracing,
lowering, these compiles and the initial states' run), *train* (the segments) and the whole command's
wall time. Medians of ``--repeats``; no peer: this is the breakdown behind ``peer_speed.md``'s compile
column.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from _results import (RAW_KEEPS, RERUN_KEEPS, cold_cache_env, load_average, machine, now_utc, recorded_command, require_counts,
                      require_results_file, save_run, timed, train_args_problem, versions, write_report)

RESULTS = Path(__file__).parent / "results"
DEFAULT_ROWS = "--algo ppo --env CartPole-v1;--algo ppo --env CartPole-v1 --seeds 16"


def child(log: Path, argv: list[str]) -> int:
    """Run ``rl-zoo ARGV`` in this process with every XLA compile timed into ``log`` (JSON lines)."""
    from jax import stages  # importing JAX starts no backend: the CPU split below still applies

    real_compile = stages.Lowered.compile

    def timed_compile(self, *args, **kwargs):
        t = time.perf_counter()
        compiled = real_compile(self, *args, **kwargs)
        seconds = time.perf_counter() - t
        text = self.as_text()
        name = text.split("@", 1)[1].split(maxsplit=1)[0] if text.startswith("module @") else "?"
        beside = threading.current_thread() is not threading.main_thread()  # rl_zoo.driver.plan's second thread
        with log.open("a") as f:
            f.write(json.dumps({"program": name, "compile_s": seconds, "hlo_chars": len(text), "beside": beside}) + "\n")
        return compiled

    stages.Lowered.compile = timed_compile
    from rl_zoo.cli import main
    from rl_zoo.driver import program_store

    program_store.enable()  # as the `rl-zoo` entry point does (cli.console_main): its key and save are in the cold cost
    return main(argv, cpu_devices=True)


def measure(train_args: list[str], repeats: int, work: Path) -> list[dict]:
    """One dict per repeat: the programs compiled, the summary's compile and train seconds, the wall time."""
    runs = []
    for r in range(repeats):
        folder = Path(tempfile.mkdtemp(dir=work))
        log, out = folder / "programs.jsonl", folder / "run"
        cmd = [sys.executable, __file__, "--child", str(log), "--", "train", *train_args, "--no-progress", "--out", str(out)]
        done = timed(cmd, env=cold_cache_env(folder / "cache"))
        summary = json.loads((out / "summary.json").read_text())
        programs = [json.loads(line) for line in log.read_text().splitlines()]
        runs.append({"wall_s": done.wall_s, "compile_s": summary["compile_s"], "train_s": summary["train_s"],
                     "programs": programs, "final_return_mean": summary["final_return_mean"]})
        print(f"{' '.join(train_args)} repeat {r + 1}/{repeats}: wall {done.wall_s:.2f} s, compile {summary['compile_s']:.2f} s, "
              + ", ".join(f"{p['program']} {p['compile_s']:.2f} s" for p in programs), flush=True)
    return runs


def report(rows: dict[str, list[dict]], meta: dict) -> str:
    med = statistics.median
    lines = ["# The programs a cold `rl-zoo train` compiles", "",
             f"Measured {meta['when']} on {meta['machine']} by `{meta['command']}` (rl_zoo {meta['versions'].get('rl-zoo-commit', '?')}, "
             f"jax {meta['versions'].get('jax', '?')}). Load average before: {meta['load_before']}; after: {meta['load_after']}.", "",
             "Fresh processes, each on an empty compilation cache; medians of the repeats. *XLA s*: `Lowered.compile` of that "
             "program, timed on its thread (*beside*: the driver's second thread, compiling while the main thread "
             "traces and compiles the segment: the seconds overlap, each with the competition for the cores in it); "
             "*plan compile s*: summary.json's compile_s (tracing, lowering, every compile and the initial states' run); "
             "*HLO chars*: the length of the program's StableHLO text.", ""]
    for args, runs in rows.items():
        keyed = [_by_name(r["programs"]) for r in runs]
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in runs)
        plan_s = med(r["compile_s"] for r in runs)
        lines += [f"## `rl-zoo train {args}`", "",
                  f"Whole command **{med(r['wall_s'] for r in runs):.2f} s** (runs {walls}), "
                  f"plan compile **{plan_s:.2f} s**, train {med(r['train_s'] for r in runs):.2f} s, "
                  f"final return {med(r['final_return_mean'] for r in runs):.1f}.", "",
                  "| program (in the order its compile finished) | thread | XLA s (median) | runs | HLO chars |",
                  "|---|---|---:|---|---:|"]
        for key, first in keyed[0].items():
            seconds = [k[key]["compile_s"] for k in keyed if key in k]
            lines.append(f"| {key} | {'beside' if first.get('beside') else 'main'} | {med(seconds):.2f} | "
                         f"{', '.join(f'{s:.2f}' for s in seconds)} | {first['hlo_chars']:,} |")
        xla = med(sum(p["compile_s"] for p in r["programs"]) for r in runs)
        over = f" (overlapping: {xla - plan_s:.2f} s more than the plan's whole compile)" if xla > plan_s else ""
        lines += [f"| all programs, summed | | {xla:.2f}{over} | | |", ""]
    return "\n".join(lines)


def _by_name(programs: list[dict]) -> dict[str, dict]:
    """A run's programs keyed by name (``name #2`` for a name's second compile), in the order they finished."""
    keyed: dict[str, dict] = {}
    for p in programs:
        n = sum(1 for k in keyed if k == p["program"] or k.startswith(p["program"] + " #"))
        keyed[p["program"] if n == 0 else f"{p['program']} #{n + 1}"] = p
    return keyed


def main(argv=None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        sys.exit(child(Path(argv[1]), argv[3:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="fresh cold processes per command (default 3)")
    parser.add_argument("--rows", default=DEFAULT_ROWS, help=f"`rl-zoo train` arguments of each row, ';' between rows "
                                                             f"(default {DEFAULT_ROWS!r})")
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_programs.md", help=f"results file (and .json beside it); {RERUN_KEEPS}; {RAW_KEEPS}")
    args = parser.parse_args(argv)
    require_counts(parser, args, "repeats")
    require_results_file(parser, args.out)
    row_args = [shlex.split(row) for row in args.rows.split(";") if row.strip()]
    if not row_args:
        parser.error(f"--rows = {args.rows!r} names no command: `rl-zoo train` arguments, ';' between rows")
    for train_args in row_args:
        if problem := train_args_problem(train_args):
            parser.error(f"--rows: {shlex.join(train_args)!r}: {problem}")
    meta = {"when": now_utc(), "machine": machine(), "load_before": load_average(), "versions": versions(),
            "command": recorded_command("compile_programs.py", argv)}
    rows = {}
    with tempfile.TemporaryDirectory() as work:
        for train_args in row_args:
            rows[" ".join(train_args)] = measure(train_args, args.repeats, Path(work))
    meta["load_after"] = load_average()
    save_run(args.out.with_suffix(".json"), {"meta": meta, "rows": rows})
    text = report(rows, meta)
    write_report(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
