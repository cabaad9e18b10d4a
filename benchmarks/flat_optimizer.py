"""Adam on one flat vector (``optax.flatten``) against Adam leaf by leaf: what a lever of issue 15 costs.

    python benchmarks/flat_optimizer.py [--repeats 4] [--steps 2000] [--out benchmarks/results/flat_optimizer.md]

rl-zoo's optimizers (``rl_zoo.algos.ppo.make_optimizer``, ``rl_zoo.algos.dqn.make_optimizer``) clip the
global gradient norm and apply Adam to each leaf of the parameters (a weight matrix, a bias): one fused XLA
kernel per leaf, 12 leaves for PPO's two networks of 3 layers. ``optax.flatten`` concatenates the leaves into one
vector first, so that the clip and Adam are one kernel: fewer fusions for XLA to compile. This script times
``--steps`` gradient steps (a regression through an MLP of the tuned settings' shapes, the batch drawn in the
loop, one ``jit`` of a ``lax.scan``) with the optimizer both ways, on the shapes of rl-zoo's tuned PPO and DQN
CartPole-v1 networks. Each measurement is a fresh process (``--worker``), the variants in alternation, on all
the cores and pinned to one (``os.sched_setaffinity``); medians of ``--repeats``. A third variant compiles the
flat one with XLA's concurrency-optimized scheduler off. *compile s* is XLA's compile
of the program, *run s* a second call of it, *fusions* the compiled program's fusion count.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

from _results import (RAW_KEEPS, RERUN_KEEPS, load_average, machine, now_utc, recorded_command, require_counts, require_results_file,
                      save_run, software, timed, versions, write_report)

RESULTS = Path(__file__).parent / "results"
#: (label, hidden width, batch): the tuned CartPole-v1 networks' shapes (rl_zoo/hyperparams)
SHAPES = (("PPO-sized: 4-64-64-2 tanh, batch 256", 64, 256), ("DQN-sized: 4-256-256-2 tanh, batch 128", 256, 128))
#: the optimizer leaf by leaf; on one flat vector; and on one flat vector with XLA's concurrency-optimized
#: scheduler off (``xla_cpu_enable_concurrency_optimized_scheduler``, a compile option)
VARIANTS = ("per leaf", "flat", "flat, scheduler off")


def worker(variant: str, hidden: int, batch: int, steps: int, one_core: bool) -> dict:
    """One measurement in this process: compile and run ``steps`` gradient steps, the optimizer as ``variant``."""
    if one_core:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # before XLA starts its threads
    import time

    import jax
    import jax.numpy as jnp
    import optax

    sizes = [4, hidden, hidden, 2]
    keys = jax.random.split(jax.random.key(0), len(sizes) - 1)
    params = [(0.1 * jax.random.normal(k, (a, b)), jnp.zeros(b)) for k, a, b in zip(keys, sizes[:-1], sizes[1:])]

    def net(p, x):
        for i, (w, b) in enumerate(p):
            x = x @ w + b
            x = jnp.tanh(x) if i < len(p) - 1 else x
        return x

    def loss(p, x):
        return jnp.mean((net(p, x) - jnp.sum(x, axis=1, keepdims=True)) ** 2)

    optimizer = optax.chain(optax.clip_by_global_norm(10.0), optax.adam(1e-3))
    optimizer = optax.flatten(optimizer) if variant.startswith("flat") else optimizer
    options = {"xla_cpu_enable_concurrency_optimized_scheduler": False} if variant.endswith("scheduler off") else None

    def step(carry, key):
        p, s = carry
        updates, s = optimizer.update(jax.grad(loss)(p, jax.random.normal(key, (batch, 4))), s, p)
        return (optax.apply_updates(p, updates), s), None

    program = jax.jit(lambda p, s, key: jax.lax.scan(step, (p, s), jax.random.split(key, steps))[0])
    state = optimizer.init(params)
    start = time.perf_counter()
    compiled = program.lower(params, state, jax.random.key(1)).compile(options)
    compile_s = time.perf_counter() - start
    jax.block_until_ready(compiled(params, state, jax.random.key(1)))
    start = time.perf_counter()
    jax.block_until_ready(compiled(params, state, jax.random.key(2)))
    return {"compile_s": compile_s, "run_s": time.perf_counter() - start, "fusions": compiled.as_text().count(" fusion(")}


def measure(variant: str, hidden: int, batch: int, steps: int, one_core: bool) -> dict:
    args = [sys.executable, __file__, "--worker", json.dumps([variant, hidden, batch, steps, one_core])]
    return json.loads(timed(args).stdout)  # a failed worker raises with the end of its stderr


def _optax_version() -> dict:
    """optax's version, which the timed optimizers are (``versions()`` names jax, jaxlib and numpy, not optax)."""
    import optax

    return {"optax": optax.__version__}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=4, help="fresh processes per variant and row (default 4)")
    ap.add_argument("--steps", type=int, default=2000, help="gradient steps per program (default 2000)")
    ap.add_argument("--out", default=str(RESULTS / "flat_optimizer.md"),
                    help=f"results file (default benchmarks/results/flat_optimizer.md) and .json beside it; {RERUN_KEEPS}; {RAW_KEEPS}")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(*json.loads(args.worker))))
        return 0
    require_counts(ap, args, "repeats", "steps")
    require_results_file(ap, args.out)
    load_before, raw = load_average(), {"rows": []}
    recorded = {**versions(), **_optax_version()}  # this process's; each worker imports the same
    table = ["| shapes | cores | optimizer | compile s (median) | run s (median) | run s, each process | fusions |",
             "|---|---|---|---:|---:|---|---:|"]
    for label, hidden, batch in SHAPES:
        for one_core in (False, True) if hasattr(os, "sched_setaffinity") else (False,):  # Linux pins, others do not
            runs = {v: [] for v in VARIANTS}
            for _ in range(args.repeats):
                for variant in VARIANTS:
                    runs[variant].append(measure(variant, hidden, batch, args.steps, one_core))
            for variant, results in runs.items():
                run_s = [r["run_s"] for r in results]
                cores = "1 (pinned)" if one_core else str(os.cpu_count())
                table.append(f"| {label} | {cores} | {variant} | {statistics.median(r['compile_s'] for r in results):.2f} "
                             f"| {statistics.median(run_s):.2f} | {', '.join(f'{s:.2f}' for s in run_s)} | {results[0]['fusions']} |")
                raw["rows"].append({"shapes": label, "cores": cores, "optimizer": variant, "runs": results})
                print(table[-1], flush=True)
    header = [f"# {__doc__.splitlines()[0]}", "",
              (f"Measured {now_utc()} on {machine()} by `{recorded_command('flat_optimizer.py', argv)}`. Load average before: "
               f"{load_before}; after: {load_average()}. Software: {software(recorded)}."), "",
              " ".join(line.strip() for line in __doc__.split("\n\n")[2].splitlines()), ""]
    save_run(Path(args.out).with_suffix(".json"), {"measured": now_utc(), "machine": machine(), "versions": recorded, **raw})
    write_report(args.out, "\n".join([*header, *table, ""]))
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
