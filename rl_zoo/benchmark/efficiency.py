"""The report's sample-efficiency score: each seed's normalised area under its learning curve on the shared
grid of env steps (``rl_zoo.stats.area_under_curve`` of ``returns.csv``'s rows, normalised as the final
scores), aggregated across envs as the final scores are (IQM, stratified bootstrap; Agarwal et al. 2021)."""

from __future__ import annotations

import numpy as np

from rl_zoo import stats
from rl_zoo.benchmark.references import EnvReference

Interval = tuple[float, float, float]  # (point, low, high)

#: the report's sentence under the aggregate table
AUC_NOTE = ("Normalised AUC (sample efficiency): each seed's normalised greedy return averaged over training, the area "
            "under its learning curve on the shared grid of env steps (trapezoid rule) divided by the env steps it spans "
            "(Stadie et al. 2015): 1 = at the threshold from the first evaluation on (at env step 0, the untrained "
            "policy), 0 = random throughout, above 1 where the curve runs above the threshold, and of two runs that end "
            "on the same score the one that learns sooner scores higher; its IQM and interval are computed as those of "
            "the final scores.")


def seed_aucs(by_seed: dict[int, list[tuple[int, float]]], ref: EnvReference) -> np.ndarray:
    """``[seeds]`` in seed order: each seed's normalised AUC, from its ``(env steps, return)`` points of the
    shared grid normalised as ``(return - random) / (threshold - random)``."""
    out = []
    for seed in sorted(by_seed):
        steps, returns = zip(*sorted(by_seed[seed]))
        out.append(stats.area_under_curve(steps, stats.normalize(returns, ref.random, ref.solved)))
    return np.array(out)


def auc_intervals(normalised_auc: dict[str, dict[str, np.ndarray]], algos: list[str], envs: list[str]) -> dict[str, Interval]:
    """``{algo: (IQM, low, high)}``: the IQM of the normalised AUC of every seed of every env of ``envs`` (in its
    order) that the algorithm ran on, with its 95% stratified bootstrap interval (2000 resamples, as the final scores')."""
    return {a: stats.stratified_bootstrap_ci([normalised_auc[a][e] for e in envs if e in normalised_auc[a]], stats.iqm)
            for a in algos}
