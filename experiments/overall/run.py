"""Which algorithm is best overall on classic control?

    python experiments/overall/run.py            # runs `rl-zoo benchmark`, then copies its figures here
    python experiments/overall/run.py --quick    # a small smoke run (into /tmp/overall)

The grid is `rl-zoo benchmark` (rl_zoo/benchmark.py): PPO-clip, PPO-KL, TRPO, VPG, DQN and Double DQN
on CartPole-v1, Acrobot-v1 and Pendulum-v1 (DQN cannot act in Pendulum's continuous action space
and is skipped there), each cell's seeds vmapped in one program, every algorithm with its tuned
config except for the shared per-env budget (and DQN's hidden layers on Acrobot, see GRIDS). The
benchmark writes its folder to ``benchmark/`` here (ignored by git: run directories, checkpoints);
this script copies the report and its learning-curve figures beside itself and redraws the
aggregate figures with a second aggregate over the two discrete envs only, where all six
algorithms ran.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402  (first: it sets XLA_FLAGS, which the benchmark's cell processes inherit)

ALGOS = "ppo,ppo-kl,trpo,vpg,dqn,double-dqn"
#: Two benchmark commands into one folder (the report covers every cell in it). DQN's tuned 256x256
#: network on Acrobot (4 gradient steps of 128 per 4 env steps, 200k steps) would alone take most of
#: the 20-minute budget on 2 CPU cores, so on Acrobot and Pendulum (where DQN is skipped) DQN and
#: Double DQN use 64x64 hidden layers (it learns Acrobot as well: experiments/overestimation); on
#: CartPole every algorithm runs its tuned config (DQN with 64x64 reached only ~270 there).
GRIDS = [
    dict(envs="Acrobot-v1,Pendulum-v1", steps="Acrobot-v1=200000,Pendulum-v1=500000",
         quick_steps="Acrobot-v1=5000,Pendulum-v1=10000", sets=["dqn:hidden_size=64", "double-dqn:hidden_size=64"]),
    dict(envs="CartPole-v1", steps="CartPole-v1=100000", quick_steps="CartPole-v1=5000", sets=[]),
]
NOTE = ("Run by experiments/overall/run.py as two commands into this folder: Acrobot-v1 and Pendulum-v1 with "
        "--set dqn:hidden_size=64 --set double-dqn:hidden_size=64 (tuned: 256x256; to fit the time budget), "
        "then CartPole-v1 with every tuned config. The command shown is the last one.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true", help="only redraw the figures from the benchmark folder")
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/overall") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    bench = out / "benchmark"
    if args.replot:
        aggregate_figures(bench, out)
        return
    t0 = time.perf_counter()
    machine = common.machine()
    commands = []
    for grid in GRIDS:
        cmd = ["rl-zoo", "benchmark", "--algos", ALGOS, "--envs", grid["envs"],
               "--seeds", str(2 if args.quick else args.seeds),
               "--total-steps", grid["quick_steps"] if args.quick else grid["steps"],
               "--points", "20", "--eval-episodes", "5", "--jobs", str(args.jobs), "--out", str(bench),
               "--no-progress", "--note", NOTE]
        for s in grid["sets"]:
            cmd += ["--set", s]
        print("$", shlex.join(cmd), flush=True)
        subprocess.run(cmd, check=True, env=dict(os.environ))
        commands.append(shlex.join(cmd))
    wall = time.perf_counter() - t0

    for png in sorted(bench.glob("curves_*.png")):
        shutil.copy(png, out / png.name)
        common.shrink_png(out / png.name)
    # the report's aggregate.png / profile.png are redrawn here (aggregate_figures), with the
    # discrete-env aggregate added, so its links point at these
    shutil.copy(bench / "report.md", out / "benchmark_report.md")
    shutil.copy(bench / "cells.csv", out / "cells.csv")
    numbers = aggregate_figures(bench, out)
    (out / "run_info.json").write_text(json.dumps(dict(commands=commands, machine=machine, wall_s=round(wall, 1),
                                                       aggregates=numbers), indent=1))
    print(f"total {wall:.0f}s")


def aggregate_figures(bench: Path, out: Path) -> dict:
    """IQM and optimality gap (``aggregate.png``) and performance profiles (``profile.png``) of the
    normalised final scores, with 95% stratified-bootstrap intervals (``rl_zoo.stats``), over (a) all
    three envs, each algorithm over the envs it ran on (DQN: 2 of 3), and (b) the two discrete envs,
    where all six algorithms ran."""
    import numpy as np

    from rl_zoo import benchmark, plots, stats

    s = benchmark.summarize(bench)
    norm = s["normalised"]
    # the area under the learning curve: each run's mean greedy return over the shared grid of env
    # steps (training included, not just its end), normalised the same way
    curves: dict = {}
    for r in s["returns"]:
        curves.setdefault(r["algo"], {}).setdefault(r["env"], {}).setdefault(r["seed"], []).append(float(r["return"]))
    auc = {a: {e: stats.normalize(np.array([np.mean(v) for _, v in sorted(by_seed.items())]),
                                  benchmark.ENV_REFERENCES[e].random, benchmark.ENV_REFERENCES[e].solved)
               for e, by_seed in per_env.items() if e in benchmark.ENV_REFERENCES}
           for a, per_env in curves.items()}
    all_envs = list(dict.fromkeys(e for v in norm.values() for e in v))
    discrete = ["CartPole-v1", "Acrobot-v1"]
    def group(table, envs):
        return {a: [v[e] for e in envs if e in v] for a, v in table.items() if any(e in v for e in envs)}

    groups = {
        f"all envs ({', '.join(all_envs)})": (group(norm, all_envs), group(auc, all_envs)),
        f"discrete envs only ({', '.join(discrete)})": (group(norm, discrete), group(auc, discrete)),
    }
    colors = plots.algo_colors(list(norm))
    plt = common.pyplot()
    metrics = (("final score: IQM (higher is better)", stats.iqm, 0),
               ("final score: optimality gap (lower is better)", stats.optimality_gap, 0),
               ("area under the curve: IQM (higher is better)", stats.iqm, 1))
    fig, axes = plt.subplots(2, 3, figsize=(16, 7.6), sharex="col")
    numbers = {}
    extent = {col: [np.inf, -np.inf] for col in range(len(metrics))}
    for row, (title, both) in enumerate(groups.items()):
        for col, (mname, fn, which) in enumerate(metrics):
            scores = both[which]
            algos = list(scores)
            ax = axes[row, col]
            for i, a in enumerate(algos):
                point, lo, hi = stats.stratified_bootstrap_ci(scores[a], fn, 0.95, 2000)
                numbers.setdefault(title, {}).setdefault(a, {})[mname.split(" (")[0]] = [round(point, 3), round(lo, 3), round(hi, 3)]
                y = len(algos) - 1 - i
                extent[col] = [min(extent[col][0], lo, point), max(extent[col][1], hi, point)]
                ax.barh(y, hi - lo, left=lo, height=0.6, color=colors[a], alpha=0.55)
                ax.plot([point, point], [y - 0.3, y + 0.3], color="black", linewidth=1.6)
            ax.set_yticks(range(len(algos)))
            n_envs = {a: len(scores[a]) for a in algos}
            ax.set_yticklabels([a if n_envs[a] == max(n_envs.values()) else f"{a} ({n_envs[a]} envs)" for a in reversed(algos)])
            ax.set_title(f"{mname}\n{title}", fontsize=9)
            ax.grid(axis="x", alpha=0.3)
            if row == 1:
                ax.set_xlabel(("normalised final score" if which == 0 else "normalised mean return over training")
                              + "\n(0 = random policy, 1 = solved threshold)")
    for col, (lo, hi) in extent.items():  # every bar and zero-width interval inside the frame
        pad = 0.06 * (hi - lo)
        axes[0, col].set_xlim(lo - pad, hi + pad)
    fig.suptitle("Normalised scores across envs (5 seeds per env): point estimate (black line) and 95% "
                 "stratified-bootstrap CI (bar)", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "aggregate.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    pooled = np.concatenate([np.ravel(x) for v in norm.values() for x in v.values()])
    taus = np.linspace(min(0.0, pooled.min() - 0.05), max(1.1, pooled.max() + 0.05), 201)
    for ax, (title, (scores, _)) in zip(axes, groups.items()):
        for a, sc in scores.items():
            p, lo, hi = stats.performance_profile_ci(sc, taus, 0.95, 2000)
            ax.plot(taus, p, color=colors[a], linewidth=1.8, label=a if len(sc) == len(all_envs) or "discrete" in title else f"{a} ({len(sc)} envs)")
            ax.fill_between(taus, lo, hi, color=colors[a], alpha=0.15, linewidth=0)
        ax.axvline(1.0, color="black", linestyle="--", linewidth=0.9, alpha=0.6)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(r"normalised final score $\tau$ (0 = random, 1 = solved threshold)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
    axes[0].set_ylabel(r"fraction of runs with score > $\tau$")
    axes[0].set_ylim(-0.02, 1.02)
    fig.suptitle("Performance profiles (run-score distributions), 95% stratified-bootstrap bands", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "profile.png")

    rows = []
    for a, per_env in norm.items():
        for e, x in per_env.items():
            for i, v in enumerate(x):
                rows.append(dict(algo=a, env=e, seed=i, normalised_final_score=float(v),
                                 normalised_auc=float(auc[a][e][i])))
    common.write_csv(out / "normalised_scores.csv", rows)
    return numbers


if __name__ == "__main__":
    main()
