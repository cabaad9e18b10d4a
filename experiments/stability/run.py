"""Is the vanilla policy gradient unstable, and do trust regions help?

    python -m experiments.stability.run            # four rl-zoo sweeps, then the PNGs, CSV and README beside this file
    python -m experiments.stability.run --quick    # a small smoke run (into /tmp/stability)

VPG, PPO-clip, PPO adaptive-KL and TRPO on CartPole-v1, each across a sweep of its step size
(Adam learning rate for VPG and both PPOs, the trust-region radius max_kl for TRPO). Each algorithm
is one ``rl-zoo sweep`` (``compute.sweep_args``: every (value, seed) pair in one compiled program,
``--record kl`` keeping the exact mean KL(pi_old || pi_new) of every update); the sweeps' folders are
``sweeps/<algo>/`` (each with its own report.md). Same budget and batch for all: 200k env steps,
1024 transitions per update (195 updates), learning rate not annealed, a greedy evaluation (5
episodes) every 5 updates. Per run: the final return (last evaluation), the worst drop in return
between two consecutive evaluations, and the KL per update.

A finished sweep is read back, not trained again, so re-running redraws the figures and the README
from ``sweeps/`` (where its raw arrays, ``groups/*.npz``, are kept: they are not committed, so a fresh
clone trains the sweeps again). A sweep folder that holds a different sweep (other seeds, budget or tuned base
config) is refused with one line: delete the folder, or pass ``--rerun`` to train every sweep again.
Seeds 1000 and up (``--seed``): the tuned configs whose unswept fields the sweeps keep were chosen on
seeds 0-9. ``compute.py`` holds the sweeps and the
measures, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import time
from pathlib import Path

from experiments import common, reporting
from experiments.stability import compute, plots, report
from rl_zoo import runs
from rl_zoo.config import ConfigError

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.stability.run"


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory where it lies below it (as the README shows commands)."""
    rel = os.path.relpath(path)
    return Path(rel) if not rel.startswith("..") else path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="2 seeds (unless --seeds), 20,480 env steps, 4 evaluations (into /tmp/stability)")
    ap.add_argument("--seeds", type=common.positive_int, default=None, help="seeds per setting (default 8; 2 with --quick)")
    ap.add_argument("--seed", type=int, default=compute.FIRST_SEED,
                    help=f"first seed (default {compute.FIRST_SEED}; the tuned configs were chosen on seeds 0-9)")
    ap.add_argument("--total-steps", type=common.positive_int, default=None,
                    help=f"env steps per run (default {compute.TOTAL:,}; 20,480 with --quick)")
    ap.add_argument("--rerun", action="store_true",
                    help="train every sweep again, replacing the results in sweeps/ (a sweep folder of another "
                         "command, e.g. other seeds, is otherwise refused)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = common.output_folder(args.out, Path("/tmp/stability") if args.quick else HERE)
    common.check_seed_args(args.seed, args.seeds or (2 if args.quick else 8))  # before any work
    t0 = time.perf_counter()
    machine = common.machine()
    seeds = args.seeds or (2 if args.quick else 8)
    total = args.total_steps or (20_480 if args.quick else compute.TOTAL)
    if total < compute.NUM_ENVS * compute.NUM_STEPS:  # the library's rule suggests smaller num_steps: fixed here
        common.fail(f"--total-steps = {total} is invalid: must be at least one batch (num_envs * num_steps = "
                    f"{compute.NUM_ENVS} * {compute.NUM_STEPS} = {compute.NUM_ENVS * compute.NUM_STEPS:,}, the same "
                    f"for every algorithm of this experiment)")
    num_evals = 4 if args.quick else max(1, round(39 * total / compute.TOTAL))  # an evaluation every ~5 updates
    try:
        results = compute.run_all(seeds, total, num_evals, out, first_seed=args.seed, rerun=args.rerun)  # makes out/sweeps/
    except ConfigError as e:
        common.fail(str(e))
    plots.plot_summary(results, out, seeds)
    plots.plot_curves(results, out, seeds)
    plots.plot_drop_vs_kl(results, out, seeds)
    common.write_csv(out / "summary.csv", compute.summary_rows(results, seeds))
    trained = {k: round(v.seconds, 1) for k, v in results.items()}
    info_path = out / "run_info.json"
    old = json.loads(info_path.read_text()) if info_path.exists() else {}
    if (old.get("seconds") == trained and old.get("seeds") == seeds
            and old.get("first_seed") == args.seed):  # every sweep was read back: keep the training run's record
        info = old
    else:
        command = (COMMAND + (" --quick" if args.quick else "") + (f" --seeds {seeds}" if args.seeds else "")
                   + (f" --seed {args.seed}" if args.seed != compute.FIRST_SEED else "")
                   + (f" --total-steps {total}" if args.total_steps else ""))
        info = dict(machine=machine, versions=common.versions(), wall_s=round(time.perf_counter() - t0 + compute.earlier_seconds(results), 1), eval_episodes=compute.EVAL_EPISODES,
                    quick=args.quick, seeds=seeds, first_seed=args.seed, command=command,
                    sweeps=["rl-zoo " + shlex.join(compute.sweep_args(name, seeds, total, num_evals, _shown(out / "sweeps" / name.lower()),
                                                                      first_seed=args.seed))
                            for name in compute.ALGOS],
                    seconds=trained, configs={k: dataclasses.asdict(v.config) for k, v in results.items()})
        runs.atomic_write_json(info_path, info)
    print(report.write(out, results, info, seeds, quick=info.get("quick", False)))
    reporting.finish_index(out, HERE)

if __name__ == "__main__":
    common.command(main)
