"""Same seed, same machine, same results, on an accelerator? Run-to-run determinism of PPO, process by process.

On a CPU, XLA's programs give the same floats each time they are compiled and run on one machine, and
rl_zoo's tests rely on it. On a GPU, XLA picks some kernels by timing them at compile time (autotuning)
and some reductions and scatters use atomics, so a fresh process may round differently and RL amplifies
the difference: ``gpu_check.py``'s one seed ended its training at 206.4, 184.1 and 441.2 in three runs of
the same code on three H200 machines. This script measures it and what ``--xla_gpu_deterministic_ops=true``
(XLA's flag for run-to-run determinism; it also excludes nondeterministic ops) costs:

1. The bare program: PureJaxRL's CartPole PPO (``gpu_check.purejaxrl_config``), one seed, 500k env steps,
   in fresh processes (no persistent compilation cache), default XLA flags and the deterministic flag
   (or autotuning off alone, ``--xla_gpu_autotune_level=0``: ``--variants``) alternating, ``--repeats``
   each. Each process compiles once and runs the program twice; the table gives a digest of the final
   train state and metrics for both calls (same within the process?) and across processes.
2. The command users run, ``rl-zoo train --algo ppo --env CartPole-v1 --seeds 1`` (tuned defaults, 100k
   steps), cold (``RL_ZOO_NO_CACHE=1``) with each flag setting, and with the persistent compilation cache
   shared between its runs (the second run loads the first's program); the digest covers metrics.csv
   without its wall-clock column and the last checkpoint's saved state.

    python benchmarks/gpu_determinism.py [--repeats 3] [--train-repeats 2] [--steps 500000]
                                         [--variants default,deterministic,autotune0] [--out FILE]

On the lent accelerator machine, as one ``run`` of the device tool (gymnasium is not needed):

    set -o pipefail; export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 MPLBACKEND=Agg; python3 benchmarks/gpu_determinism.py \\
        --out $OUT/gpu_determinism.md 2>&1 | tee $OUT/gpu_determinism.log

The table is rewritten after each row, so a run stopped at its time limit keeps the rows it finished.
On a CPU every digest should agree (the check that the script itself is sound).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from _results import (RERUN_KEEPS, cpu_name, file_text, installed_versions, load_average, require_counts, require_results_file,
                      software, timed, write_report)  # benchmarks/_results.py (this script's folder is on the path)

HERE = Path(__file__).resolve().parent
DETERMINISTIC = "--xla_gpu_deterministic_ops=true"
#: the bare program's XLA flag settings (--variants): XLA's defaults, its determinism flag, autotuning off alone
VARIANTS = {"default": "", "deterministic": DETERMINISTIC, "autotune0": "--xla_gpu_autotune_level=0"}


def digest_tree(tree) -> str:
    """sha256 over every leaf's bytes (typed PRNG keys as their key data), first 12 hex digits."""
    import jax
    import numpy as np

    h = hashlib.sha256()
    for leaf in jax.tree.leaves(tree):
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            leaf = jax.random.key_data(leaf)
        h.update(np.ascontiguousarray(np.asarray(leaf)).tobytes())
    return h.hexdigest()[:12]


def child(steps: int) -> None:
    """One process: compile the 1-seed program once, run it twice, print one JSON line."""
    import jax
    import numpy as np

    import envs
    from gpu_check import purejaxrl_config
    from rl_zoo.algos import ppo
    from rl_zoo.core.types import mean_episode_return

    env, params = envs.make("CartPole-v1")
    train = jax.jit(ppo.make_train(purejaxrl_config(steps), env, params))
    key = jax.random.key(0)
    t0 = time.perf_counter()
    compiled = train.lower(key).compile()
    t1 = time.perf_counter()
    first = jax.block_until_ready(compiled(key))
    t2 = time.perf_counter()
    second = jax.block_until_ready(compiled(key))
    ret = mean_episode_return(jax.tree.map(lambda x: x[-10:], first[1].episode))
    print(json.dumps(dict(compile_s=t1 - t0, run_s=t2 - t1, first=digest_tree(first), second=digest_tree(second),
                          ret=float(np.asarray(ret)), backend=jax.default_backend())), flush=True)


def child_env(*paths: Path, xla_flags: str = "", **extra: str) -> dict:
    """This process's environment with ``paths`` on PYTHONPATH, ``xla_flags`` added to XLA_FLAGS, and ``extra``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [*map(str, paths), os.environ.get("PYTHONPATH")])), **extra)
    env["XLA_FLAGS"] = " ".join(filter(None, [env.get("XLA_FLAGS", ""), xla_flags]))
    return env


def failure(e: RuntimeError) -> dict:
    """A row for a child that failed: the last line of what it said."""
    return dict(error=(str(e).strip().splitlines() or ["(no output)"])[-1][:200])


def bare_row(variant: str, steps: int) -> dict:
    try:
        done = timed([sys.executable, str(Path(__file__).resolve()), "--child", "--steps", str(steps)],
                     env=child_env(HERE.parent, HERE, xla_flags=VARIANTS[variant]))
    except RuntimeError as e:
        return failure(e)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]), wall_s=done.wall_s)


def run_digest(out: Path) -> str:
    """metrics.csv without wall_s, and the last checkpoint's saved state (not its meta, which holds wall times)."""
    import numpy as np

    from rl_zoo import checkpoint

    h = hashlib.sha256()
    with open(out / "metrics.csv") as f:  # every column but wall_s (_results.metrics_returns keeps only three)
        for row in csv.DictReader(f):
            row.pop("wall_s", None)
            h.update(json.dumps(row, sort_keys=True).encode())
    leaves, _ = checkpoint.read(checkpoint.latest(out))
    for leaf in leaves:
        h.update(np.ascontiguousarray(leaf).tobytes())
    return h.hexdigest()[:12]


def train_row(mode: str, cache_home: str) -> dict:
    """``rl-zoo train`` PPO CartPole 1 seed as a process; mode: 'cold', 'cold deterministic' or 'shared cache'."""
    env = child_env(HERE.parent, xla_flags=DETERMINISTIC if mode.endswith("deterministic") else "",
                    XDG_CACHE_HOME=cache_home, **({"RL_ZOO_NO_CACHE": "1"} if mode.startswith("cold") else {}))
    if mode.startswith("cold"):  # with rl-zoo's cache off JAX falls back on this variable: a cold run could read it
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "rl_zoo.cli", "train", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", "1",
               "--no-progress", "--out", tmp]
        try:
            done = timed(cmd, env=env, cwd=HERE.parent)
        except RuntimeError as e:
            return failure(e)
        summary = json.loads((Path(tmp) / "summary.json").read_text())
        return dict(digest=run_digest(Path(tmp)), wall_s=done.wall_s, compile_s=summary["compile_s"],
                    train_s=summary["train_s"], ret=summary["final_return_mean"])


def write(path: Path, args, bare: list[tuple[str, dict]], train: list[tuple[str, dict]], load_start: str, earlier: str) -> None:
    lines = [
        "# Run-to-run determinism on this machine: PPO CartPole-v1, one seed, process by process",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, host CPU {cpu_name()}, {os.cpu_count()} cores. "
        f"Command: `python benchmarks/gpu_determinism.py --repeats {args.repeats} --train-repeats {args.train_repeats} "
        f"--steps {args.steps} --variants {args.variants}`. Load average at the start: {load_start}; at this write: {load_average()}. "
        f"Software (this process's; the children import the same): {software(installed_versions())}.",
        "XLA flags: " + "; ".join(f"`{v}` = `XLA_FLAGS={f}`" for v, f in VARIANTS.items() if f) + ". "
        "Digests: sha256 of the outputs, first 12 hex digits.",
        "",
        f"Bare program (PureJaxRL's configuration, seed 0, {args.steps:,} env steps), a fresh process per row, "
        "no persistent cache; each process compiles once and calls the program twice:",
        "",
        "| run | XLA flags | backend | compile s | run s | process wall s | digest, 1st call | digest, 2nd call | training return (last 10 updates) |",
        "|---:|---|---|---:|---:|---:|---|---|---:|",
    ]
    for i, (flags, r) in enumerate(bare, 1):
        if "error" in r:
            lines.append(f"| {i} | {flags} | failed: {r['error']} | | | | | | |")
        else:
            lines.append(f"| {i} | {flags} | {r['backend']} | {r['compile_s']:.1f} | {r['run_s']:.1f} | {r['wall_s']:.1f} | "
                         f"`{r['first']}` | `{r['second']}` | {r['ret']:.1f} |")
    lines += ["", "`rl-zoo train --algo ppo --env CartPole-v1 --seeds 1` (tuned defaults, 100k steps), a fresh process per row; "
              "digest of metrics.csv without wall_s and the last checkpoint's state:", "",
              "| run | mode | compile s | train s | process wall s | digest | final greedy return |",
              "|---:|---|---:|---:|---:|---|---:|"]
    for i, (mode, r) in enumerate(train, 1):
        if "error" in r:
            lines.append(f"| {i} | {mode} | failed: {r['error']} | | | | |")
        else:
            lines.append(f"| {i} | {mode} | {r['compile_s']:.1f} | {r['train_s']:.1f} | {r['wall_s']:.1f} | `{r['digest']}` | {r['ret']:.1f} |")
    lines += ["", "Distinct digests per setting (1 = reproducible in these runs):", ""]
    for label, rows, key in [*[(f"bare, {v}", [r for f, r in bare if f == v], "first") for v in VARIANTS],
                             *[(f"rl-zoo train, {m}", [r for mm, r in train if mm == m], "digest")
                               for m in ("cold", "cold deterministic", "shared cache")]]:
        ok = [r[key] for r in rows if "error" not in r]
        if ok:
            lines.append(f"- {label}: {len(set(ok))} distinct of {len(ok)} runs")
    write_report(path, "\n".join(lines) + "\n", earlier)  # what the file held before this run, not its last row's table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="bare-program processes per flag setting (default 3)")
    parser.add_argument("--train-repeats", type=int, default=2, help="rl-zoo train processes per mode (default 2; 0 skips)")
    parser.add_argument("--steps", type=int, default=500_000, help="env steps of the bare program (default 500k)")
    parser.add_argument("--out", default=str(HERE / "results" / "gpu_determinism.md"), help=f"results file; {RERUN_KEEPS}")
    parser.add_argument("--variants", default="default,deterministic",
                        help=f"the bare program's XLA flag settings, alternated (of {', '.join(VARIANTS)}; default: default,deterministic)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.steps < 512:
        parser.error(f"--steps = {args.steps} is invalid: must be at least one update's batch (512 env steps)")
    require_counts(parser, args, "repeats")
    if args.train_repeats < 0:
        parser.error(f"--train-repeats = {args.train_repeats} is invalid: must be at least 0 (0 skips rl-zoo train)")
    require_results_file(parser, args.out)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if not variants or any(v not in VARIANTS for v in variants):
        parser.error(f"--variants = {args.variants!r} is invalid: comma-separated, of {', '.join(VARIANTS)}")
    if args.child:
        child(args.steps)
        return
    out, load_start = Path(args.out), load_average()
    earlier = file_text(out)
    bare: list[tuple[str, dict]] = []
    train: list[tuple[str, dict]] = []
    for _ in range(args.repeats):
        for flags in variants:
            bare.append((flags, bare_row(flags, args.steps)))
            print(flags, bare[-1], flush=True)
            write(out, args, bare, train, load_start, earlier)
    with tempfile.TemporaryDirectory() as shared_cache:
        for _ in range(args.train_repeats):
            for mode in ("cold", "cold deterministic", "shared cache"):
                with tempfile.TemporaryDirectory() as own_cache:
                    train.append((mode, train_row(mode, shared_cache if mode == "shared cache" else own_cache)))
                print(mode, train[-1], flush=True)
                write(out, args, bare, train, load_start, earlier)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
