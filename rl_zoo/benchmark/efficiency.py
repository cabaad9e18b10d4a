"""The report's sample-efficiency score: each seed's normalised area under its learning curve on the shared
grid of env steps (``rl_zoo.stats.area_under_curve`` of ``returns.csv``'s rows, normalised as the final
scores), aggregated across envs as the final scores are (IQM, stratified bootstrap; Agarwal et al. 2021)."""

from __future__ import annotations

import numpy as np

from rl_zoo import stats
from rl_zoo.benchmark.improvement import Interval
from rl_zoo.benchmark.references import EnvReference

#: the report's sentence under the aggregate table
AUC_NOTE = ("Normalised AUC (sample efficiency): each seed's normalised greedy return averaged over training, the area "
            "under its learning curve on the shared grid of env steps (trapezoid rule) divided by the env steps it spans "
            "(Stadie et al. 2015): 0 for a run random throughout, 1 for one at the threshold throughout (from its first "
            "evaluation, at env step 0, on); a run that starts near 0 and ends above the threshold can score about 1 too, "
            "so it mixes how soon a run learns with how far above the threshold it ends; of two runs that end on the "
            "same score the one that learns sooner scores higher. Its IQM and interval are computed as those of the "
            "final scores.")


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
