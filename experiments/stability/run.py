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
from ``sweeps/`` (delete a sweep's folder to train it again). ``compute.py`` holds the sweeps and the
measures, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import time
from pathlib import Path

from experiments import common
from rl_zoo import runs
from experiments.stability import compute, plots, report

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.stability.run"


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory where it lies below it (as the README shows commands)."""
    rel = os.path.relpath(path)
    return Path(rel) if not rel.startswith("..") else path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 20,480 env steps, 4 evaluations (into /tmp/stability)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds per setting, 0 to SEEDS-1 (default 8)")
    ap.add_argument("--total-steps", type=int, default=compute.TOTAL, help=f"env steps per run (default {compute.TOTAL:,})")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/stability") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    machine = common.machine()
    seeds = 2 if args.quick else args.seeds
    total = 20_480 if args.quick else args.total_steps
    num_evals = 4 if args.quick else max(1, round(39 * total / compute.TOTAL))  # an evaluation every ~5 updates
    results = compute.run_all(seeds, total, num_evals, out)
    plots.plot_summary(results, out, seeds)
    plots.plot_curves(results, out, seeds)
    plots.plot_drop_vs_kl(results, out, seeds)
    common.write_csv(out / "summary.csv", compute.summary_rows(results, seeds))
    trained = {k: round(v.seconds, 1) for k, v in results.items()}
    info_path = out / "run_info.json"
    old = json.loads(info_path.read_text()) if info_path.exists() else {}
    if old.get("seconds") == trained and old.get("seeds") == seeds:  # every sweep was read back: keep the training run's record
        info = old
    else:
        info = dict(machine=machine, wall_s=round(time.perf_counter() - t0, 1), eval_episodes=compute.EVAL_EPISODES,
                    quick=args.quick, seeds=seeds, first_seed=compute.FIRST_SEED,
                    command=COMMAND + (" --quick" if args.quick else "") + (f" --seeds {seeds}" if seeds != 8 and not args.quick else "")
                    + (f" --total-steps {total}" if total != compute.TOTAL and not args.quick else ""),
                    sweeps=[f"rl-zoo {shlex.join(compute.sweep_args(name, seeds, total, num_evals, _shown(out / 'sweeps' / name.lower())))}"
                            for name in compute.ALGOS],
                    seconds=trained, configs={k: str(v.config) for k, v in results.items()})
        runs.atomic_write_json(info_path, info)
    print(report.write(out, results, info, seeds, quick=info.get("quick", False)))
    if out == HERE:
        common.write_index()


if __name__ == "__main__":
    main()
