"""What LLVM's optimisation level and XLA's emitters cost and buy for each program of an `rl-zoo train` run on the CPU.

    python benchmarks/compile_levels.py [--repeats 3] [--rows 'ARGS;ARGS'] [--out benchmarks/results/compile_levels.md]

XLA's CPU backend spends most of a cold compile in LLVM, at ``xla_backend_optimization_level`` 3 unless
told otherwise, and emits each fusion through its MLIR fusion emitters unless ``xla_cpu_use_fusion_emitters``
is off (then its older elemental IR emitters); ``rl_zoo.driver.plan.compile_options`` compiles a run's initial
states at level 0 with the elemental emitters, its evaluation at 1 and its segments at 2
(``CPU_OPTIMIZATION_LEVELS``, ``CPU_ELEMENTAL_EMITTERS``). This script measures those choices.

Each row (``--rows``: ``rl-zoo train`` arguments among ``--algo``, ``--env``, ``--seeds``, ``--total-steps``;
``;`` between rows; default PPO on CartPole-v1 with 1 and with 16 seeds, DQN on CartPole-v1) runs in a fresh
process that splits the CPU into devices as the ``rl-zoo`` command does, builds the run's plan once
(``compile_plan``), and keeps the three programs it lowered. Then, with JAX's caches cleared before each
compile and no persistent cache:

* **compile**: each program compiled at each level 0-3 with the fusion emitters, and at rl-zoo's level with
  the elemental ones, the settings alternating, medians of ``--repeats``;
* **run**: the whole training (every segment and the evaluation after it) with the programs as rl-zoo
  compiles them, with all three at level 3 (XLA's default) and with all three at rl-zoo's levels with the
  elemental emitters, alternating, medians of ``--repeats``: whether the cheaper compile costs training or
  evaluation time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _results import (RAW_KEEPS, RERUN_KEEPS, load_average, machine, now_utc, recorded_command, require_counts, require_results_file,
                      save_run, train_args_problem, versions, write_report)

RESULTS = Path(__file__).parent / "results"
DEFAULT_ROWS = "--algo ppo --env CartPole-v1;--algo ppo --env CartPole-v1 --seeds 16;--algo dqn --env CartPole-v1"
LEVELS = (0, 1, 2, 3)
ELEMENTAL = "elemental"  # rl-zoo's level for the program, without XLA's fusion emitters
SETTINGS = (*(str(level) for level in LEVELS), ELEMENTAL)
ROLES = {"jit_init_seeds": "init", "jit_segment": "segment", "jit_segment_upto": "segment", "jit_eval_all": "eval"}


class RowParser(argparse.ArgumentParser):
    """A row's arguments; a bad one raises ValueError (the script's own parser then names the row)."""

    def error(self, message):
        raise ValueError(message)


def row_parser() -> argparse.ArgumentParser:
    parser = RowParser(prog="row", add_help=False)
    parser.add_argument("--algo", required=True)
    parser.add_argument("--env", required=True)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--total-steps", type=int, default=None)
    return parser


def child(row: str, repeats: int, out: Path) -> None:
    """Measure one row in this process (JAX not started yet) and write its JSON to ``out``."""
    import shlex

    args = row_parser().parse_args(shlex.split(row))
    from rl_zoo import distributed

    distributed.split_cpu(args.seeds)  # as `rl-zoo train --seeds N` does, before JAX starts
    import jax
    from jax import stages

    jax.config.update("jax_enable_compilation_cache", False)
    from rl_zoo.driver.plan import CPU_OPTIMIZATION_LEVELS, compile_options, compile_plan
    from rl_zoo.driver.runner import RunContext
    from rl_zoo.driver.spec import new_spec

    lowered, real_compile = {}, stages.Lowered.compile

    def keep(self, *a, **k):
        lowered[self.as_text().split("@", 1)[1].split(maxsplit=1)[0]] = self
        return real_compile(self, *a, **k)

    spec, env, env_params, _ = new_spec(args.algo, args.env, seeds=args.seeds, total_steps=args.total_steps)
    ctx = RunContext(spec, Path(tempfile.mkdtemp()), spec.module.make_agent(spec.config, env, env_params), env, env_params,
                     lambda s: None, False)
    compile_options("init", "cpu")  # its xla_knows_option compiles a trivial program: before keeping the run's
    stages.Lowered.compile = keep
    try:
        plan = compile_plan(ctx)
    finally:
        stages.Lowered.compile = real_compile

    def options(role: str, setting: str) -> dict:
        if setting == ELEMENTAL:
            return {"xla_backend_optimization_level": CPU_OPTIMIZATION_LEVELS[role], "xla_cpu_use_fusion_emitters": False}
        return {"xla_backend_optimization_level": int(setting)}

    def compile_with(low, opts: dict):
        jax.clear_caches()  # else a compile with the same options is answered from memory
        t = time.perf_counter()
        program = low.compile(opts)
        return time.perf_counter() - t, program

    compile_s = {name: {setting: [] for setting in SETTINGS} for name in lowered}
    for _ in range(repeats):
        for name, low in lowered.items():
            for setting in SETTINGS:
                compile_s[name][setting].append(compile_with(low, options(ROLES[name], setting))[0])

    def programs(opts_of):
        return {ROLES[name]: compile_with(low, opts_of(ROLES[name]))[1] for name, low in lowered.items()}

    variants = {"as rl-zoo compiles them": programs(lambda role: compile_options(role, "cpu")),
                "all at 3": programs(lambda role: options(role, "3")),
                "all elemental": programs(lambda role: options(role, ELEMENTAL))}
    chosen = {role: ELEMENTAL if compile_options(role, "cpu").get("xla_cpu_use_fusion_emitters") is False
              else str(CPU_OPTIMIZATION_LEVELS[role]) for role in CPU_OPTIMIZATION_LEVELS}
    count = {segment.updates for segment in plan.segments}

    def train(p) -> tuple[float, float, float]:
        """(train s, evaluation s, final mean return) of the whole run with programs ``p``."""
        from rl_zoo.driver.plan import replicated_int

        states, train_s, eval_s = plan.initial_states, 0.0, 0.0
        for i, segment in enumerate(plan.segments):
            t = time.perf_counter()
            if len(count) == 1:
                states = p["segment"](states)[0]
            else:
                states = p["segment"](states, replicated_int(segment.updates, plan._replicated))[0]
            jax.block_until_ready(states)
            train_s += time.perf_counter() - t
            t = time.perf_counter()
            returns = distributed.to_host(p["eval"](states, plan.seeds_array, replicated_int(i + 1, plan._replicated)))
            eval_s += time.perf_counter() - t
        return train_s, eval_s, float(returns.mean())

    runs = {name: [] for name in variants}
    for _ in range(repeats):
        for name, p in variants.items():
            runs[name].append(train(p))
    out.write_text(json.dumps({"row": row, "devices": len(jax.devices()), "updates": sum(s.updates for s in plan.segments),
                               "compile_s": compile_s, "runs": runs, "levels": CPU_OPTIMIZATION_LEVELS, "chosen": chosen}))


def report(rows: list[dict], meta: dict) -> str:
    med = statistics.median
    lines = ["# LLVM's optimisation level and XLA's emitters, program by program", "",
             f"Measured {meta['when']} on {meta['machine']} by `{meta['command']}` (rl_zoo {meta['versions'].get('rl-zoo-commit', '?')}, "
             f"jax {meta['versions'].get('jax', '?')}). Load average before: {meta['load_before']}; after: {meta['load_after']}.", "",
             "One fresh process per row, the CPU split into devices as `rl-zoo train` splits it; no compilation cache. *compile s*: "
             "`Lowered.compile` of that program at each `xla_backend_optimization_level` (XLA's default is 3) with XLA's MLIR fusion "
             "emitters (its default), and at rl-zoo's level for the program with the elemental emitters (`xla_cpu_use_fusion_emitters` "
             "off), the settings alternating; **bold**: how rl-zoo compiles it (`rl_zoo.driver.plan.compile_options`). *run*: the "
             "whole training, every segment and the evaluation after it, with the three programs as rl-zoo compiles them, "
             "all three at level 3, and all three at rl-zoo's levels with the elemental emitters, alternating. Medians of the repeats.", ""]
    for r in rows:
        chosen = r["chosen"]
        lines += [f"## `rl-zoo train {r['row']}` ({r['devices']} device(s), {r['updates']} updates)", "",
                  "| program | " + " | ".join(f"level {lv} compile s" for lv in LEVELS) + " | rl-zoo's level, elemental | saved against 3 |",
                  "|---|" + "---:|" * (len(SETTINGS) + 1)]
        total_chosen = total_default = 0.0
        for name, by in r["compile_s"].items():
            setting = chosen[ROLES[name]]
            cells = [f"**{med(by[s]):.2f}**" if s == setting else f"{med(by[s]):.2f}" for s in SETTINGS]
            total_chosen += med(by[setting])
            total_default += med(by["3"])
            lines.append(f"| {name} | " + " | ".join(cells) + f" | {med(by['3']) - med(by[setting]):.2f} |")
        lines += [f"| all three | | | | | | {total_default - total_chosen:.2f} ({total_default:.2f} -> {total_chosen:.2f}) |", "",
                  "| programs | train s (median) | runs | evaluation s (median) | final mean return |", "|---|---:|---|---:|---:|"]
        for name, runs in r["runs"].items():
            lines.append(f"| {name} | {med(x[0] for x in runs):.2f} | {', '.join(f'{x[0]:.2f}' for x in runs)} | "
                         f"{med(x[1] for x in runs):.3f} | {runs[0][2]:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="compiles per level and runs per variant (default 3)")
    parser.add_argument("--rows", default=DEFAULT_ROWS, help=f"train arguments, ';' between rows (default {DEFAULT_ROWS!r})")
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_levels.md", help=f"results file (and .json beside it); {RERUN_KEEPS}; {RAW_KEEPS}")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], args.repeats, Path(args.child[1]))
    require_counts(parser, args, "repeats")
    require_results_file(parser, args.out)
    rows = [r.strip() for r in args.rows.split(";") if r.strip()]
    if not rows:
        parser.error(f"--rows = {args.rows!r} names no command")
    for row in rows:
        try:
            row_parser().parse_args(row.split())
        except ValueError as e:
            parser.error(f"--rows: {row!r}: {e} (each row takes --algo, --env and optionally --seeds, --total-steps)")
        if problem := train_args_problem(row.split()):
            parser.error(f"--rows: {row!r}: {problem}")
    meta = {"when": now_utc(), "machine": machine(), "load_before": load_average(), "versions": versions(),
            "command": recorded_command("compile_levels.py", argv)}
    results = []
    with tempfile.TemporaryDirectory() as work:
        for i, row in enumerate(rows):
            out = Path(work) / f"row{i}.json"
            env = dict(os.environ)
            env.pop("RL_ZOO_NO_CACHE", None)
            done = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--child", row, str(out)], env=env)
            if done.returncode != 0:
                sys.exit(f"compile_levels.py: the row {row!r} failed (exit {done.returncode})")
            results.append(json.loads(out.read_text()))
            print(f"{row}: done", flush=True)
    meta["load_after"] = load_average()
    save_run(args.out.with_suffix(".json"), {"meta": meta, "rows": results})
    text = report(results, meta)
    write_report(args.out, text)
    print(text)


if __name__ == "__main__":
    main()
