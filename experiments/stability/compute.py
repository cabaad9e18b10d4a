"""Training and the measures of the stability experiment: every (step size, seed) pair of one
algorithm in one compiled program, then per-run measures (final return, worst drop, collapse after
solving, KL per update) and the per-setting and per-KL-bin summaries that the figures and the README
quote."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from experiments import common

ENV = "CartPole-v1"
TOTAL = 200_000
LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
MAX_KLS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
_PPO = dict(num_envs=8, num_steps=128, update_epochs=10, num_minibatches=4, gamma=0.99, gae_lambda=0.95, anneal_lr=False)
#: name -> (registry name, swept field, values, overrides; batch 1024 everywhere, no annealing)
ALGOS = {
    "VPG": ("vpg", "learning_rate", LRS, dict(num_envs=8, num_steps=128, anneal_lr=False)),
    "PPO-clip": ("ppo", "learning_rate", LRS, _PPO),
    "PPO-KL": ("ppo-kl", "learning_rate", LRS, _PPO),
    "TRPO": ("trpo", "max_kl", MAX_KLS, dict(num_envs=8, num_steps=128)),
}
EVAL_EPISODES = 5
#: bins of a run's mean KL per update, for the "collapsed at equal KL" table
KL_BINS = [(0.0, 3e-4), (3e-4, 3e-3), (3e-3, 1e-2), (1e-2, 3e-2), (3e-2, np.inf)]
SOLVED, LOW = 475.0, 250.0


@dataclass
class Sweep:
    """One algorithm's sweep: ``returns [V, S, E]`` (greedy, E evaluations) and ``kl [V, S, U]``."""

    field: str
    values: list
    steps: np.ndarray  # [E] env steps of the evaluations
    per_update: int  # env steps per update
    returns: np.ndarray
    kl: np.ndarray
    seconds: float
    config: object


def config_of(name: str, total: int = TOTAL):
    """``(module, config)`` of one algorithm of the sweep, before the swept field is replaced."""
    algo, _, _, overrides = ALGOS[name]
    return common.tuned(algo, ENV, total_timesteps=total, **overrides)


def run_sweep(name: str, seeds: int, total: int, num_evals: int, eval_episodes: int = EVAL_EPISODES) -> Sweep:
    """Train ``name`` at every value of its swept field x ``seeds`` seeds (seed keys from key 0) in one
    vmapped program; the exact mean KL(pi_old || pi_new) per update comes from its ``Metrics.kl``."""
    _, field, values, _ = ALGOS[name]
    module, config = config_of(name, total)
    run, steps, per_update = common.make_sweep(module, config, ENV, field, num_evals, eval_episodes)
    with common.Timer(f"{name}: {len(values)} values x {seeds} seeds x {total:,} steps") as t:
        returns, metrics = run(jnp.asarray(values, jnp.float32), jax.random.split(jax.random.key(0), seeds))
        returns = np.asarray(returns)
    return Sweep(field, values, steps, per_update, returns, np.asarray(metrics.kl), t.s, config)


def run_all(seeds: int, total: int, num_evals: int) -> dict[str, Sweep]:
    return {name: run_sweep(name, seeds, total, num_evals) for name in ALGOS}


def save_raw(results: dict[str, Sweep], path: Path) -> None:
    arrays = {}
    for name, r in results.items():
        arrays[f"{name}/returns"] = r.returns.astype(np.float32)
        arrays[f"{name}/kl"] = r.kl.astype(np.float32)
        arrays[f"{name}/steps"] = np.asarray(r.steps)
        arrays[f"{name}/per_update"] = np.asarray(r.per_update)
        arrays[f"{name}/seconds"] = np.asarray(r.seconds)
        arrays[f"{name}/total"] = np.asarray(r.config.total_timesteps)
    np.savez_compressed(path, **arrays)


def load_raw(path: Path) -> dict[str, Sweep]:
    data = np.load(path)
    results = {}
    for name, (_, field, values, _) in ALGOS.items():
        total = int(data[f"{name}/total"]) if f"{name}/total" in data else TOTAL
        results[name] = Sweep(field, values, data[f"{name}/steps"], int(data[f"{name}/per_update"]),
                              data[f"{name}/returns"], data[f"{name}/kl"], float(data[f"{name}/seconds"]),
                              config_of(name, total)[1])  # the config the run used
    return results


# --------------------------------------------------------------------------------------------------
# Measures of one run ([..., E] returns) and the summaries


def worst_drop(returns: np.ndarray) -> np.ndarray:
    """``[..., E]`` -> the largest fall between consecutive evaluations (0 if it never falls)."""
    return np.maximum(-np.diff(returns, axis=-1).min(axis=-1), 0.0)


def collapsed(returns: np.ndarray, solved: float = SOLVED, low: float = LOW):
    """``[..., E]`` -> (reached ``solved`` at some evaluation, and fell below ``low`` at a later one)."""
    reached = returns >= solved
    after = np.cumsum(reached, axis=-1) > 0  # at or after the first evaluation >= solved
    return reached.any(axis=-1), (after & (returns < low)).any(axis=-1)


def wilson(k: np.ndarray, n: int, z: float = 1.96):
    """95% Wilson score interval of a binomial proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def summary_rows(results: dict[str, Sweep], seeds: int) -> list[dict]:
    """``summary.csv``: one row per (algorithm, swept value), with bootstrap CIs over seeds."""
    rows = []
    for name, r in results.items():
        final, drop = r.returns[..., -1], worst_drop(r.returns)  # [V, S]
        kl_mean, kl_max = r.kl.mean(axis=-1), r.kl.max(axis=-1)
        reached, fell = collapsed(r.returns)
        for v, val in enumerate(r.values):
            rows.append(dict(algo=name, field=r.field, value=float(val), seeds=seeds,
                             final_return_mean=float(final[v].mean()), final_return_lo=common.boot_ci(final[v])[1],
                             final_return_hi=common.boot_ci(final[v])[2], final_return_min=float(final[v].min()),
                             worst_drop_mean=float(drop[v].mean()), worst_drop_lo=common.boot_ci(drop[v])[1],
                             worst_drop_hi=common.boot_ci(drop[v])[2],
                             runs_with_drop_over_250=int((drop[v] > 250).sum()),
                             kl_per_update_mean=float(kl_mean[v].mean()), kl_per_update_median=float(np.median(r.kl[v])),
                             kl_per_update_max=float(kl_max[v].max()),
                             seeds_reaching_475=int(reached[v].sum()), seeds_collapsing_after_475=int(fell[v].sum()),
                             best_return_mean=float(r.returns[v].max(axis=-1).mean())))
    return rows


def settings(results: dict[str, Sweep]) -> dict[str, list[dict]]:
    """Per algorithm, per swept value: the numbers the README's table and text quote."""
    out = {}
    for name, r in results.items():
        per = []
        for v, val in enumerate(r.values):
            ret, kl = r.returns[v], r.kl[v]
            reached, fell = collapsed(ret)
            n = ret.shape[0]
            s = dict(value=float(val), n=n, reached=int(reached.sum()), fell=int(fell.sum()),
                     final=common.boot_ci(ret[:, -1]), drop=float(worst_drop(ret).mean()),
                     kl=float(kl.mean()), kl_max=float(kl.max()),
                     kl_ratio_lo=float((kl.mean(axis=-1) / val).min()), kl_ratio_hi=float((kl.mean(axis=-1) / val).max()),
                     over_radius=int((kl.max(axis=-1) > val * (1 + 1e-4)).sum()))
            s["reliable"] = s["reached"] == n and s["fell"] <= max(1, n // 8)
            s["good"] = s["final"][0] >= SOLVED
            per.append(s)
        out[name] = per
    return out


def kl_bins(results: dict[str, Sweep]) -> dict[str, list[tuple[int, int]]]:
    """Per algorithm and ``KL_BINS`` bin of the run's mean KL per update: (collapsed, solved) runs."""
    out = {}
    for name, r in results.items():
        kl = r.kl.mean(axis=-1).ravel()
        reached, fell = (x.ravel() for x in collapsed(r.returns))
        out[name] = [(int((fell & (kl >= lo) & (kl < hi)).sum()), int((reached & (kl >= lo) & (kl < hi)).sum()))
                     for lo, hi in KL_BINS]
    return out
