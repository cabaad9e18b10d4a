"""GPU (or any accelerator) check: issue 16's sweep against separate commands, then PPO on CartPole-v1
with 1, 64, 512 and 2048 seeds vmapped.

1. ``benchmarks/sweep_speed.py --separate N`` as a child process, first, before this process touches
   the accelerator (JAX would take most of its memory): the 96-run sweep (4 learning rates x 3 clip
   ranges x 8 seeds, PPO CartPole 100k) against N of the 12 ``rl-zoo train --seeds 8`` commands, whole
   cold processes; issue 16 asks for 5x, which 2 CPU cores cannot give (about 2x there). Skipped with
   ``--sweep-separate 0``.
2. PureJaxRL's configuration: 4 envs x 128 steps per update, 4 epochs of 4 minibatches, 500k env steps
   per seed (lr 2.5e-4 annealed, gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01, 64x64 tanh). For each
   seed count: compile seconds, run seconds, env-steps/s, mean final training return. Seeds are split
   over all local devices (``rl_zoo.distributed``). The table is rewritten after each row, so a run
   stopped at its time limit keeps the rows it finished.

    python benchmarks/gpu_check.py [--seeds 1,64,512,2048] [--steps 500000] [--sweep-separate 4]
                                   [--out benchmarks/results/gpu_check.md] [--sweep-md benchmarks/results/sweep_speed_gpu.md]

On the lent accelerator machine (JAX with CUDA there; gymnasium is not needed), as one ``run`` of the
device tool, then commit the two files that come back into ``benchmarks/results/``:

    set -o pipefail; export PYTHONPATH=$PWD PYTHONUNBUFFERED=1; python3 benchmarks/gpu_check.py --out $OUT/gpu_check.md \
        --sweep-md $OUT/sweep_speed_gpu.md 2>&1 | tee $OUT/gpu_check.log

Run so on an NVIDIA H200 (jax 0.11.2, CUDA 13) on 2026-11-30 and again on 2026-12-04:
``results/gpu_check.md`` and ``results/sweep_speed_gpu.md`` hold the second run, with their readings (the first
is their version in commit 17de750); ``results/sweep_speed_gpu_all12.md`` is ``sweep_speed.py --separate 12``
run right after the first on the same machine. The second run went on, in the same command, with
``benchmarks/ppo_speed.py --repeats 2 --out $OUT/ppo_speed_gpu.md`` (``results/ppo_speed_gpu.md``).
A third run (2026-12-04, at ``fdfc924``, the same library) is the last section of each of the two files;
its one-seed return led to ``gpu_determinism.py`` (``results/gpu_determinism.md``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import numpy as np

import envs
from rl_zoo import distributed
from rl_zoo.algos import ppo
from rl_zoo.core.types import mean_episode_return

from _results import (RERUN_KEEPS, cpu_name, file_text, load_average, recorded_command, require_results_file, seed_counts,
                      write_report)  # benchmarks/_results.py (this script's folder is on the path)


def purejaxrl_config(steps: int) -> ppo.Config:
    """PureJaxRL's CartPole PPO (4 envs x 128 steps, 4 epochs x 4 minibatches, lr 2.5e-4 annealed), ``steps`` per seed."""
    return ppo.Config(total_timesteps=steps, num_envs=4, num_steps=128, update_epochs=4, num_minibatches=4,
                      learning_rate=2.5e-4, anneal_lr=True, gamma=0.99, gae_lambda=0.95, clip_eps=0.2,
                      ent_coef=0.01, vf_coef=0.5, max_grad_norm=0.5)


def run(seeds: int, steps: int) -> dict:
    config = purejaxrl_config(steps)
    env, params = envs.make("CartPole-v1")
    train = ppo.make_train(config, env, params)
    n_dev, _ = distributed.choose_devices(seeds, None)
    sharding = distributed.seed_sharding(n_dev)

    def run_all(seed_ints):
        _, metrics = jax.vmap(lambda s: train(jax.random.key(s)))(seed_ints)
        return mean_episode_return(jax.tree.map(lambda x: x[:, -10:], metrics.episode), axis=1)  # [seeds] last updates' training return

    seed_ints = distributed.seed_array(0, seeds, sharding)
    t0 = time.perf_counter()
    compiled = jax.jit(run_all, out_shardings=sharding).lower(seed_ints).compile()
    t1 = time.perf_counter()
    returns = np.asarray(jax.block_until_ready(compiled(seed_ints)))
    t2 = time.perf_counter()
    total = config.num_updates * config.batch_size * seeds
    return dict(seeds=seeds, devices=n_dev, compile_s=t1 - t0, run_s=t2 - t1, steps_per_s=total / (t2 - t1),
                mean_return=float(returns.mean()))


def sweep_check(separate: int, md: str) -> None:
    """Issue 16's measurement (``sweep_speed.py``) in a child process, its sweep folder in a temporary one."""
    here = Path(__file__).resolve().parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(here.parent), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, str(here / "sweep_speed.py"), "--separate", str(separate), "--out", md,
               "--sweep-out", str(Path(tmp) / "sweep")]
        print("sweep vs separate commands:", " ".join(cmd[1:]), flush=True)
        done = subprocess.run(cmd, env=env, cwd=here.parent)
    print(f"sweep check {'wrote ' + md if done.returncode == 0 else f'failed ({done.returncode})'}", flush=True)


def write_table(path: str, rows: list[dict], args, load_start: str, earlier: str, command: str) -> None:
    """The report of the rows so far; ``command``: the command line as given (``recorded_command``: ``--sweep-separate``
    and ``--out`` were left out of the one written by hand)."""
    devices = jax.devices()
    lines = [
        "# GPU check: PPO on CartPole-v1, seeds vmapped",
        "",
        f"{time.strftime('%Y-%m-%d')}, jax {jax.__version__}, backend `{jax.default_backend()}`, devices: "
        f"{', '.join(getattr(d, 'device_kind', str(d)) for d in devices)}; host CPU {cpu_name()}. "
        f"Command: `{command}`. Host load average "
        f"at the start: {load_start}; when the last row was written: {load_average()}.",
        "PureJaxRL's configuration: 4 envs x 128 steps, 4 epochs x 4 minibatches, "
        f"{args.steps:,} env steps per seed; N seeds are seeds 0..N-1 (a speed check, "
        "not a held-out result).",
        "",
        "| seeds | devices | compile s | run s | env steps/s | mean training return (last 10 updates) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {r['seeds']} | {r['devices']} | {r['compile_s']:.1f} | {r['run_s']:.1f} | {r['steps_per_s']:,.0f} | {r['mean_return']:.1f} |" for r in rows]
    write_report(path, "\n".join(lines) + "\n", earlier)  # what the file held before this run, not its last row's table


def _seed_counts(parser: argparse.ArgumentParser, args) -> list[int]:
    """``--seeds`` as counts, and ``--steps``, refused when bad before anything runs (they failed after the sweep check)."""
    counts = seed_counts(parser, args.seeds, "1,64,512")
    batch = 4 * 128  # PureJaxRL's 4 envs x 128 steps per update (run)
    if args.steps < batch:
        parser.error(f"--steps = {args.steps} is invalid: must be at least one update's batch ({batch} env steps)")
    if not 0 <= args.sweep_separate <= 12:
        parser.error(f"--sweep-separate = {args.sweep_separate} is invalid: 0 (skip) to 12 (the sweep's configs)")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,64,512,2048")
    parser.add_argument("--steps", type=int, default=500_000, help="env steps per seed (default 500k)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "gpu_check.md"), help=f"results file; {RERUN_KEEPS}")
    parser.add_argument("--sweep-separate", type=int, default=4,
                        help="separate train commands the sweep is timed against (1-12; 0 skips the sweep check)")
    parser.add_argument("--sweep-md", default=str(Path(__file__).parent / "results" / "sweep_speed_gpu.md"),
                        help=f"sweep_speed.py's results file; {RERUN_KEEPS}")
    args = parser.parse_args()
    seed_counts = _seed_counts(parser, args)  # checked before the sweep check's minutes (of device time)
    require_results_file(parser, args.out)
    require_results_file(parser, args.sweep_md, "--sweep-md")
    if args.sweep_separate:
        sweep_check(args.sweep_separate, args.sweep_md)
    devices = jax.devices()
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, {len(devices)} device(s): {devices}")
    rows, load_start, earlier = [], load_average(), file_text(args.out)
    for n in seed_counts:
        r = run(n, args.steps)
        rows.append(r)
        print(f"{n:>5} seeds on {r['devices']} device(s): compile {r['compile_s']:6.1f}s  run {r['run_s']:7.1f}s  "
              f"{r['steps_per_s']:>14,.0f} env steps/s  mean training return {r['mean_return']:.1f}", flush=True)
        write_table(args.out, rows, args, load_start, earlier, recorded_command("gpu_check.py"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
