"""The stability experiment's sweeps and measures: one ``rl-zoo sweep`` per algorithm (every step
size x seed in one compiled program, the exact KL of every update recorded with ``--record kl``),
then per-run measures (final return, worst drop, collapse after solving, KL per update) and the
per-setting and per-KL-bin summaries that the figures and the README quote."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from experiments import common

ENV = "CartPole-v1"
TOTAL = 200_000
LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
MAX_KLS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
NUM_ENVS, NUM_STEPS = 8, 128  # one batch of 1024 transitions per update, for every algorithm
_PPO = dict(num_envs=NUM_ENVS, num_steps=NUM_STEPS, update_epochs=10, num_minibatches=4, gamma=0.99, gae_lambda=0.95, anneal_lr=False)
#: name -> (registry name, swept field, values, overrides; batch 1024 everywhere, no annealing)
ALGOS = {
    "VPG": ("vpg", "learning_rate", LRS, dict(num_envs=NUM_ENVS, num_steps=NUM_STEPS, anneal_lr=False)),
    "PPO-clip": ("ppo", "learning_rate", LRS, _PPO),
    "PPO-KL": ("ppo-kl", "learning_rate", LRS, _PPO),
    "TRPO": ("trpo", "max_kl", MAX_KLS, dict(num_envs=NUM_ENVS, num_steps=NUM_STEPS)),
}
EVAL_EPISODES = 5
#: seeds first_seed ... first_seed + seeds - 1 (jax.random.key(seed), as rl-zoo train), from 1000 by default: the
#: tuned configs whose unswept fields these sweeps keep (e.g. TRPO's value_lr) were chosen on seeds 0-9
FIRST_SEED = common.REPORT_SEED
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
    seconds: float  # compilation and training of the sweep (as its report says; kept when a re-run reads it back)
    config: object
    first_seed: int = FIRST_SEED
    here_s: float = 0.0  # what this process spent on it (a sweep read back: next to nothing, its seconds were an earlier run's)


def sweep_args(name: str, seeds: int, total: int, num_evals: int, out: Path, eval_episodes: int = EVAL_EPISODES,
               first_seed: int = FIRST_SEED) -> list[str]:
    """The ``rl-zoo sweep`` arguments of one algorithm's sweep (what `run_sweep` runs, and what the README shows)."""
    algo, field, values, overrides = ALGOS[name]
    return (["sweep", "--algo", algo, "--env", ENV, "--grid", f"{field}={','.join(f'{v:g}' for v in values)}",
             "--seeds", str(seeds), "--seed", str(first_seed), "--total-steps", str(total)]
            + [a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]
            + ["--evals", str(num_evals), "--eval-episodes", str(eval_episodes), "--record", "kl", "--threshold", f"{SOLVED:g}",
               "--out", str(out)])


def run_sweep(name: str, seeds: int, total: int, num_evals: int, out: Path, log: Callable[[str], None] = print,
              first_seed: int = FIRST_SEED, rerun: bool = False) -> Sweep:
    """``rl-zoo sweep`` of ``name`` into ``out`` (a finished sweep there is read back, nothing trains; a
    folder holding a different sweep, e.g. of other seeds, is refused with a ``ConfigError`` unless
    ``rerun``, which replaces its results)."""
    import rl_zoo.sweep
    from rl_zoo.sweep import command

    argv = sweep_args(name, seeds, total, num_evals, out, first_seed=first_seed)
    spec = command.spec_from_args(command.parse(argv))
    result = rl_zoo.sweep.run_sweep(spec, out, rerun=rerun, log=log, command="rl-zoo " + shlex.join(argv), threshold=SOLVED)
    (group,) = result.results
    per_update = int(group.env_steps[-1]) // group.recorded["kl"].shape[-1]  # env steps per update
    return Sweep(ALGOS[name][1], ALGOS[name][2], group.env_steps, per_update, group.returns, group.recorded["kl"],
                 group.compile_s + group.train_s, result.plan.base, first_seed)


def run_all(seeds: int, total: int, num_evals: int, out: Path, first_seed: int = FIRST_SEED,
            rerun: bool = False) -> dict[str, Sweep]:
    """Every algorithm's sweep, each with the seconds this process spent on it (``here_s``)."""
    import dataclasses
    import time

    results = {}
    for name in ALGOS:
        t0 = time.perf_counter()
        sweep = run_sweep(name, seeds, total, num_evals, out / "sweeps" / name.lower(), first_seed=first_seed, rerun=rerun)
        results[name] = dataclasses.replace(sweep, here_s=time.perf_counter() - t0)
    return results


def earlier_seconds(results: dict[str, Sweep]) -> float:
    """The training seconds of the sweeps an earlier process ran and this one read back (a run stopped and
    started again): the whole run's time is this process's and these (it said 28 s of parts adding up to 38 s)."""
    return sum(max(0.0, r.seconds - r.here_s) for r in results.values())


# --------------------------------------------------------------------------------------------------
# Measures of one run ([..., E] returns) and the summaries


def worst_drop(returns: np.ndarray) -> np.ndarray:
    """``[..., E]`` -> the largest fall between consecutive evaluations (0 if it never falls)."""
    return np.maximum(-np.diff(returns, axis=-1).min(axis=-1), 0.0)


def collapsed(returns: np.ndarray, solved: float = SOLVED, low: float = LOW):
    """``[..., E]`` -> (reached ``solved`` at some evaluation, and fell below ``low`` at a later one); a return that
    is not finite (a diverged run) after solving counts as a fall (``NaN < low`` is false: it counted as kept)."""
    reached = returns >= solved
    after = np.cumsum(reached, axis=-1) > 0  # at or after the first evaluation >= solved
    return reached.any(axis=-1), (after & ~(returns >= low)).any(axis=-1)


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
                     kl=float(kl.mean()), kl_median=float(np.median(kl)), kl_max=float(kl.max()),
                     kl_ratio_lo=float((kl.mean(axis=-1) / val).min()), kl_ratio_hi=float((kl.mean(axis=-1) / val).max()),
                     over_radius=int((kl.max(axis=-1) > val * (1 + 1e-4)).sum()))
            s["reliable"] = s["reached"] == n and 8 * s["fell"] <= n  # at most one in 8 collapsed (none of fewer than 8)
            s["good"] = s["final"][0] >= SOLVED
            per.append(s)
        out[name] = per
    return out


def kl_bins(results: dict[str, Sweep]) -> dict[str, list[tuple[int, int]]]:
    """Per algorithm and ``KL_BINS`` bin of the run's mean KL per update: (collapsed, solved) runs. A run whose KL
    is not finite (it diverged) is in the last bin, the largest steps (it was in none: 47 of 48 solved runs placed)."""
    out = {}
    for name, r in results.items():
        kl = r.kl.mean(axis=-1).ravel()
        kl = np.where(np.isfinite(kl), kl, np.finfo(np.float64).max)  # the last bin ends at inf, exclusive
        reached, fell = (x.ravel() for x in collapsed(r.returns))
        out[name] = [(int((fell & (kl >= lo) & (kl < hi)).sum()), int((reached & (kl >= lo) & (kl < hi)).sum()))
                     for lo, hi in KL_BINS]
    return out


def bin_tests(bins: dict[str, list[tuple[int, int]]]) -> list[dict]:
    """Within each ``KL_BINS`` bin, Fisher's exact test (two-sided) of every pair of algorithms with
    solved runs there: is the fraction that collapsed the same? One dict per test: bin index, the two
    algorithms, their (collapsed, solved) counts and the p-value."""
    names = list(bins)
    tests = []
    for i in range(len(KL_BINS)):
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                (ka, na), (kb, nb) = bins[names[a]][i], bins[names[b]][i]
                if na and nb:
                    tests.append(dict(bin=i, a=names[a], b=names[b], a_counts=(ka, na), b_counts=(kb, nb),
                                      p=common.fisher_p(ka, na, kb, nb)))
    return tests
