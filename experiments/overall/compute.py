"""The overall experiment's grid and aggregates: two ``rl-zoo benchmark`` commands into one folder,
then the normalised final scores and areas under the learning curves, and their IQM / optimality
gap with 95% stratified-bootstrap intervals (``rl_zoo.stats``, after Agarwal et al. 2021)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import numpy as np

from experiments import common

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
NAMES = {"ppo": "PPO-clip", "ppo-kl": "PPO-KL", "trpo": "TRPO", "vpg": "VPG", "dqn": "DQN", "double-dqn": "Double DQN"}
NOTE = ("Run by python -m experiments.overall.run as two commands into this folder: Acrobot-v1 and Pendulum-v1 with "
        "--set dqn:hidden_size=64 --set double-dqn:hidden_size=64 (tuned: 256x256; to fit the time budget), "
        "then CartPole-v1 with every tuned config. The command shown is the last one.")
DISCRETE = ["CartPole-v1", "Acrobot-v1"]
#: (name, statistic, which score: 0 = final, 1 = area under the curve); the README's keys are the names up to " ("
METRICS = (("final score: IQM (higher is better)", "iqm", 0),
           ("final score: optimality gap (lower is better)", "optimality_gap", 0),
           ("area under the curve: IQM (higher is better)", "iqm", 1))


def run_benchmark(bench: Path, seeds: int, first_seed: int, jobs: int, quick: bool) -> list[str]:
    """Run the two grids of ``GRIDS`` into ``bench`` on seeds ``first_seed`` .. ``first_seed + seeds - 1``;
    returns the commands."""
    commands = []
    for grid in GRIDS:
        cmd = ["rl-zoo", "benchmark", "--algos", ALGOS, "--envs", grid["envs"], "--seeds", str(seeds), "--seed", str(first_seed),
               "--total-steps", grid["quick_steps"] if quick else grid["steps"],
               "--points", "20", "--eval-episodes", "5", "--jobs", str(jobs), "--out", str(bench),
               "--no-progress", "--note", NOTE]
        for s in grid["sets"]:
            cmd += ["--set", s]
        print("$", shlex.join(cmd), flush=True)
        done = subprocess.run(cmd, env=dict(os.environ))
        if done.returncode:  # its own error is printed above it; a traceback of CalledProcessError added nothing
            common.fail(f"`rl-zoo benchmark` stopped with exit code {done.returncode} (its message is above; where it says "
                        "--rerun, run this script without --resume, which starts benchmark/ afresh)", done.returncode)
        commands.append(shlex.join(cmd))
    return commands


def area_under_curves(s) -> dict:
    """For a ``rl_zoo.benchmark.Summary``: algo -> env -> each seed's mean greedy return over the shared grid of env steps (training
    included, not just its end), normalised like the final scores."""
    from rl_zoo import benchmark, stats

    curves: dict = {}
    for r in s.returns:
        curves.setdefault(r.algo, {}).setdefault(r.env, {}).setdefault(r.seed, []).append(float(r.ret))
    return {a: {e: stats.normalize(np.array([np.mean(v) for _, v in sorted(by_seed.items())]),
                                   benchmark.ENV_REFERENCES[e].random, benchmark.ENV_REFERENCES[e].solved)
                for e, by_seed in per_env.items() if e in benchmark.ENV_REFERENCES}
            for a, per_env in curves.items()}


def groups(norm: dict, auc: dict) -> dict:
    """Title -> (final scores, areas under the curve), each algo -> [per-env score arrays]: all envs
    (each algorithm over the envs it ran on) and the discrete envs only (where all six ran)."""
    all_envs = list(dict.fromkeys(e for v in norm.values() for e in v))

    def group(table, envs):
        return {a: [v[e] for e in envs if e in v] for a, v in table.items() if any(e in v for e in envs)}

    return {f"all envs ({', '.join(all_envs)})": (group(norm, all_envs), group(auc, all_envs)),
            f"discrete envs only ({', '.join(DISCRETE)})": (group(norm, DISCRETE), group(auc, DISCRETE))}


def aggregates(grouped: dict) -> dict:
    """Title -> algo -> statistic name (``METRICS`` up to " (") -> (point, low, high) of the 95%
    stratified-bootstrap CI (2000 resamples)."""
    from rl_zoo import stats

    numbers: dict = {}
    for title, both in grouped.items():
        for mname, fn, which in METRICS:
            for a, scores in both[which].items():
                numbers.setdefault(title, {}).setdefault(a, {})[mname.split(" (")[0]] = \
                    stats.stratified_bootstrap_ci(scores, getattr(stats, fn), 0.95, 2000)
    return numbers


def score_rows(norm: dict, auc: dict, first_seed: int) -> list[dict]:
    """``normalised_scores.csv``: one row per (algo, env, seed); a cell's seeds are ``first_seed``, ``first_seed + 1``, ..."""
    return [dict(algo=a, env=e, seed=first_seed + i, normalised_final_score=float(v), normalised_auc=float(auc[a][e][i]))
            for a, per_env in norm.items() for e, x in per_env.items() for i, v in enumerate(x)]
