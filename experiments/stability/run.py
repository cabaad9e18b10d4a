"""Is the vanilla policy gradient unstable, and do trust regions help?

    python -m experiments.stability.run            # writes the PNGs, CSVs and README beside this file
    python -m experiments.stability.run --quick    # a small smoke run (into /tmp/stability)
    python -m experiments.stability.run --replot   # figures and README again from raw.npz (no training)

VPG, PPO-clip, PPO adaptive-KL and TRPO on CartPole-v1, each across a sweep of its step size
(Adam learning rate for VPG and both PPOs, the trust-region radius max_kl for TRPO), every (value,
seed) pair trained in one compiled program (``jax.vmap`` over values and seeds). Same budget and
batch for all: 200k env steps, 1024 transitions per update (195 updates), learning rate not annealed,
a greedy evaluation (5 episodes) every 5 updates. Per run: the final return (last evaluation), the
worst drop in return between two consecutive evaluations, and the exact mean KL(pi_old || pi_new)
over the batch at each update (what each algorithm's ``Metrics`` reports).

``compute.py`` trains and measures, ``plots.py`` draws, ``report.py`` fills in ``readme_template.md``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from experiments import common
from experiments.stability import compute, plots, report

HERE = Path(__file__).resolve().parent
COMMAND = "python -m experiments.stability.run"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 20,480 env steps, 5 evaluations (into /tmp/stability)")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true", help="redraw the figures and README from raw.npz without training")
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/stability") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    machine = common.machine()
    seeds = 2 if args.quick else args.seeds
    if args.replot:
        results = compute.load_raw(out / "raw.npz")
        seeds = results["VPG"].returns.shape[1]
    else:
        results = compute.run_all(seeds, 20_480 if args.quick else compute.TOTAL, 4 if args.quick else 39)
        compute.save_raw(results, out / "raw.npz")
    plots.plot_summary(results, out, seeds)
    plots.plot_curves(results, out, seeds)
    plots.plot_drop_vs_kl(results, out, seeds)
    common.write_csv(out / "summary.csv", compute.summary_rows(results, seeds))
    if args.replot:  # the run's own machine line and times, not the replot's
        info = json.loads((out / "run_info.json").read_text())
    else:
        info = dict(machine=machine, wall_s=round(time.perf_counter() - t0, 1), eval_episodes=compute.EVAL_EPISODES,
                    quick=args.quick,
                    command=COMMAND + (" --quick" if args.quick else ""),
                    seconds={k: round(v.seconds, 1) for k, v in results.items()},
                    configs={k: str(v.config) for k, v in results.items()})
        (out / "run_info.json").write_text(json.dumps(info, indent=1))
    print(report.write(out, results, info, seeds, quick=info.get("quick", False)))
    if out == HERE:
        common.write_index()


if __name__ == "__main__":
    main()
