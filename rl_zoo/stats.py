"""Statistics for comparing algorithms over few seeds (Agarwal et al. 2021, "Deep Reinforcement
Learning at the Edge of the Statistical Precipice", NeurIPS).

Scores come as a matrix ``[runs, tasks]`` (or one array per task when tasks have different numbers
of runs). The point estimates are computed over all runs of all tasks pooled; the confidence
intervals use the *stratified* bootstrap: runs are resampled with replacement within each task,
independently across tasks, so that every resample keeps every task in proportion (rliable's
``StratifiedBootstrap``, here in numpy). One-sample intervals use ``scipy.stats.bootstrap``.

* ``iqm``: interquartile mean, the mean of the scores left after trimming floor(n/4) from each end
  (``trim_mean(x, 0.25)``, as rliable: the middle 50% when 4 divides n, the middle 60% of 5 or 10
  runs, the plain mean of 3 or fewer): robust to outlier runs, yet less noisy than the median.
* ``optimality_gap``: ``mean(max(gamma - x, 0))``, how far the runs fall short of the target score
  ``gamma`` (1 = the reference score after normalisation); lower is better.
* ``performance_profile``: the run-score distribution ``P(X > tau)`` for each threshold ``tau``: the
  fraction of runs (over all tasks) whose score exceeds ``tau``; non-increasing in ``tau``.
* ``probability_of_improvement``: ``P(X > Y)``, how likely a run of X on a task beats a run of Y, averaged
  over tasks (ties count 1/2); 0.5 is no difference. Its interval resamples X's and Y's runs apart.
* ``normalize``: ``(score - random) / (reference - random)``, so 0 is a random policy and 1 the
  reference score.
* ``area_under_curve``: a learning curve's mean over env steps (trapezoids over the steps, divided by
  their span); of a normalised curve, the normalised AUC, a sample-efficiency score.

For counts ("how many seeds collapsed") and two-arm comparisons: ``wilson`` (Wilson 1927 score
interval of a proportion), ``fisher_p`` (Fisher's exact test of two proportions), ``holm`` / ``holm_adjusted`` (Holm 1979
step-down correction over a family of tests), ``diff_ci`` (bootstrap CI of a difference of means) and
``permutation_p`` (a permutation test of a difference of means, exact for few seeds).

**Few seeds.** A percentile bootstrap resamples the seeds there are, so with few of them its
intervals are narrower than their nominal level: for the mean of normal data, a nominal 95% interval
(``bootstrap_ci``) covers the true mean in about 50% of samples of 2 seeds, 74% of 3, 85% of 5 and
90% of 10 (1,000 simulated samples each). Read such an interval as the spread the seeds show, and use
more seeds (or ``t_band``, a t interval) where coverage matters. With one run per task the intervals
collapse to the point.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
from scipy import stats as _stats


def return_decimals(*values) -> int:
    """Decimals that tell returns of this size apart: 1 from 10 up (CartPole's 500.0), 2 from 1 (Taxi's 7.90),
    3 below (FrozenLake's success 0.740, Blackjack's -0.044: one decimal printed -0.1 for every config). The
    largest finite magnitude among ``values`` (numbers or arrays) decides; none: 1."""
    finite = [abs(float(v)) for x in values for v in np.ravel(np.asarray(x, dtype=float)) if np.isfinite(v)]
    largest = max(finite, default=10.0)
    return 1 if largest >= 10 else 2 if largest >= 1 else 3


def descending(score) -> float:
    """A sort key that puts higher scores first and a NaN last: ``-score``, or ``inf`` for a NaN (Python's sort
    orders NaN against nothing, so a bare ``-score`` key leaves a list's order up to where the NaN sits)."""
    score = float(score)
    return math.inf if math.isnan(score) else -score


def normalize(score, random: float, reference: float):
    """Normalised score ``(score - random) / (reference - random)``: 0 = random policy, 1 = reference."""
    if reference == random:
        raise ValueError("the reference score must differ from the random score")
    return (np.asarray(score, dtype=float) - random) / (reference - random)


def at_or_above(returns, threshold):
    """``returns >= threshold`` on the float32 grid the returns were evaluated on: FrozenLake's 7 wins in 10 is the
    float32 0.7 = 0.699999988, which fell short of a threshold of 0.7 compared in float64 (a sweep and a benchmark
    counted such seeds as not reaching it). A mean over seeds is rounded to float32 first, as its terms were."""
    return np.asarray(returns, np.float32) >= np.float32(threshold)


def area_under_curve(env_steps, scores) -> np.ndarray:
    """The area under a learning curve divided by the env steps it spans: ``scores [..., E]`` evaluated at
    ``env_steps [E]`` (increasing), by the trapezoid rule,

        AUC = sum_k (t_k+1 - t_k) (s_k + s_k+1) / 2  /  (t_E - t_1),

    so an evaluation weighs by the env steps around it (unevenly spaced points are not counted alike, and
    the first and last count half as much as the others of an even grid). It is the curve's mean over
    training: of normalised scores (``normalize``), the normalised AUC: 1 for a run at the reference score
    from its first evaluation on, 0 for one random throughout, and, of two runs that end on the same
    score, higher for the one that got there in fewer env steps (the area under the learning curve as a
    measure of sample efficiency, as Stadie et al. 2015, "Incentivizing Exploration in Reinforcement Learning
    with Deep Predictive Models", arXiv:1507.00814, report it: AUC-100). With one evaluation the span is
    empty: the AUC is its score."""
    t, s = np.asarray(env_steps, dtype=float), np.asarray(scores, dtype=float)
    if t.ndim != 1 or t.size == 0 or s.shape[-1:] != t.shape or np.any(np.diff(t) <= 0):
        raise ValueError(f"area_under_curve needs increasing env steps [E] and scores [..., E]; got env steps "
                         f"{t.tolist() if t.size <= 6 else t.shape} and scores of shape {s.shape}")
    if t.size == 1:
        return s[..., 0]
    return np.sum(np.diff(t) * (s[..., 1:] + s[..., :-1]) / 2, axis=-1) / (t[-1] - t[0])


def iqm(x, axis=None):
    """Interquartile mean: ``scipy.stats.trim_mean(x, 0.25)``, the mean after trimming floor(n / 4)
    scores from each end (rliable's definition; the middle 50% when 4 divides n). ``axis=None`` pools
    every score."""
    x = np.asarray(x, dtype=float)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return _stats.trim_mean(x, 0.25, axis=axis)


def optimality_gap(x, gamma: float = 1.0, axis=None):
    """``mean(max(gamma - x, 0))``: the average shortfall below the target ``gamma`` (scores above
    ``gamma`` count as reaching it, no more). 0 = every run reaches ``gamma``; lower is better."""
    x = np.asarray(x, dtype=float)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return np.mean(np.maximum(gamma - x, 0.0), axis=axis)


def mean(x, axis=None):
    x = np.asarray(x, dtype=float)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return np.mean(x, axis=axis)


def median(x, axis=None):
    x = np.asarray(x, dtype=float)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return np.median(x, axis=axis)


def performance_profile(scores, taus) -> np.ndarray:
    """Run-score distribution: for each ``tau``, the fraction of all runs (pooled over tasks) whose
    score is greater than ``tau``. ``scores``: ``[runs, tasks]`` or a list of per-task arrays (a nested list is
    the latter: ``_columns``). Each task weighs by its number of runs (equal when every task has the same number of
    seeds). A NaN score makes every fraction NaN, as it makes the other statistics here NaN (it is not counted as a
    low score)."""
    x = np.concatenate([np.asarray(s, dtype=float).reshape(-1) for s in _columns(scores)])
    taus = np.asarray(taus, dtype=float)
    if np.isnan(x).any():
        return np.full(taus.shape, np.nan)
    return (x[None, :] > taus[:, None]).mean(axis=1)


def _columns(scores) -> list[np.ndarray]:
    """Per-task score arrays from a ``[runs, tasks]`` matrix (any array: numpy, JAX; a 1-D array = one
    task) or a list of per-task arrays (a list of numbers = one task, 0-d arrays too). A nested list of lists is a list
    of per-task rows, the transpose of the same numbers as a ``[runs, tasks]`` array."""
    if hasattr(scores, "shape") or (isinstance(scores, Sequence) and scores and np.ndim(scores[0]) == 0):
        arr = np.asarray(scores, dtype=float)
        if arr.ndim == 1:
            return [arr]
        if arr.ndim != 2:
            raise ValueError(f"scores must be [runs, tasks], got shape {arr.shape}")
        return [arr[:, j] for j in range(arr.shape[1])]
    return [np.asarray(s, dtype=float).reshape(-1) for s in scores]


def _check_confidence(confidence) -> None:
    """A confidence level is a fraction in (0, 1): 95 (a percentage) gave NaN bounds, or numpy's quantile error."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)) or not 0 < confidence < 1:
        raise ValueError(f"confidence = {confidence!r} is invalid: a fraction in (0, 1), such as 0.95")


def _percentile_interval(boot, confidence: float, axis=None):
    """``(low, high)``: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of bootstrap
    statistics ``boot`` along ``axis`` (the percentile interval; Efron & Tibshirani 1993, ch. 13), interpolated
    linearly between the two order statistics either side (numpy's default). An infinite statistic (a run's
    score of +-inf) gives an infinite bound, not NaN: where a neighbour is infinite the bound is their common
    value, or else the outer neighbour (the lower for ``low``, the higher for ``high``); numpy interpolated
    inf - inf = NaN there, and 0 * inf = NaN next to one. A NaN statistic still makes its bounds NaN."""
    alpha = (1.0 - confidence) / 2
    boot = np.asarray(boot, dtype=float)
    with np.errstate(invalid="ignore"):  # numpy's interpolation next to an infinity, mended below
        bounds = np.quantile(boot, [alpha, 1 - alpha], axis=axis)
    if not np.isinf(boot).any():
        return bounds[0], bounds[1]
    below = np.quantile(boot, [alpha, 1 - alpha], axis=axis, method="lower")
    above = np.quantile(boot, [alpha, 1 - alpha], axis=axis, method="higher")
    outer = np.stack([below[0], above[1]])
    interpolated = np.isfinite(below) & np.isfinite(above) & ~np.isnan(bounds)
    bounds = np.where(interpolated, bounds, np.where(below == above, below, outer))
    return bounds[0], bounds[1]


def bootstrap_ci(
    x,
    statistic: Callable = mean,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of ``statistic`` of one sample ``x`` (``scipy.stats.
    bootstrap``). With one value, or all values equal, the interval collapses to that value."""
    _check_confidence(confidence)
    x = np.asarray(x, dtype=float).reshape(-1)
    if x.size < 2 or np.all(x == x[0]):
        v = float(statistic(x))
        return v, v
    res = _stats.bootstrap((x,), lambda s, axis: statistic(s, axis=axis), confidence_level=confidence,
                           n_resamples=n_resamples, method="percentile", vectorized=True,
                           rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def interval_name(n: int, confidence: float = 0.95, short: bool = False) -> str:
    """What ``bootstrap_ci`` of the mean over ``n`` seeds is, in words for a table or a figure: with 2 or 3
    seeds every resampled mean lies between the seeds' extremes and the all-lowest (or all-highest)
    resample is more likely than the tail (1/4, 1/27 > 2.5%), so the "95%" interval is exactly the seeds'
    range and covers the true mean far less often than 95%; with 1 there is none. ``short``: the few words
    of an axis label or a table header ("95% CI", "range of the 3 seeds")."""
    if n < 1:
        raise ValueError(f"n = {n} is invalid: a count of seeds, at least 1")
    if short:  # an axis label or a table header
        return "1 seed, no interval" if n == 1 else f"range of the {n} seeds" if n <= 3 else f"{confidence:.0%} CI"
    if n == 1:
        return "1 seed: no interval"
    if n <= 3:
        return f"the range of the {n} seeds (a percentile bootstrap over {n} values is their range, not a {confidence:.0%} interval)"
    return f"a {confidence:.0%} percentile-bootstrap interval over {n} seeds"


def stratified_resamples(scores, n_resamples: int = 2000, seed: int = 0) -> np.ndarray:
    """``[n_resamples, total runs]``: stratified bootstrap resamples of the pooled runs. Within each
    task its runs are drawn with replacement (as many as it has); tasks are drawn independently, so
    every resample keeps every task in its original proportion (rliable's ``StratifiedBootstrap``)."""
    cols = _columns(scores)
    _check_every_task_has_runs(cols)
    rng = np.random.default_rng(seed)
    return np.concatenate([c[rng.integers(0, c.size, size=(n_resamples, c.size))] for c in cols], axis=1)


def _check_every_task_has_runs(cols: list[np.ndarray]) -> None:
    """A task without runs has no score to resample: it was left out of the pool without a word (the
    interval then spoke for fewer tasks than were passed); no task at all failed in numpy's concatenate."""
    empty = [j for j, c in enumerate(cols) if c.size == 0]
    if not cols or empty:
        raise ValueError("every task needs at least one run; " + (f"task {', '.join(map(str, empty))} (counting from 0) "
                         f"of {len(cols)} has none" if cols else "no task was given"))


def stratified_bootstrap_ci(
    scores,
    statistic: Callable = iqm,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(point, low, high)``: ``statistic`` of all runs of all tasks pooled, and its percentile
    confidence interval over stratified bootstrap resamples (``stratified_resamples``).
    ``scores``: ``[runs, tasks]`` or a list of per-task arrays (a nested list is the latter: ``_columns``);
    ``statistic(x, axis)`` reduces runs."""
    _check_confidence(confidence)
    cols = _columns(scores)
    _check_every_task_has_runs(cols)
    point = float(statistic(np.concatenate(cols)))
    boot = statistic(stratified_resamples(cols, n_resamples, seed), axis=1)  # [resamples]
    low, high = _percentile_interval(boot, confidence)
    return point, float(low), float(high)


def task_mean_ci(
    scores,
    statistic: Callable = iqm,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(point, low, high)``: the mean over tasks of ``statistic`` of each task's runs (every task weighs the
    same, however its runs spread: a task where every run fails lowers it by its share, where the pooled IQM
    of `stratified_bootstrap_ci` trims a failing task of a quarter or less of the runs away), and its
    percentile interval over bootstrap resamples that draw each task's runs with replacement within it.
    ``scores``: ``[runs, tasks]`` or a list of per-task arrays of one length, read as the other statistics here
    read them (``_columns``: a nested list is per-task rows; it was read as ``[runs, tasks]`` here alone)."""
    _check_confidence(confidence)
    if hasattr(scores, "shape") and np.ndim(scores) < 2:
        raise ValueError(f"scores must be [runs, tasks] with at least one of each, got shape {np.shape(scores)}")
    cols = _columns(scores)
    if len({c.size for c in cols}) > 1:
        raise ValueError(f"every task needs as many runs here, got {', '.join(str(c.size) for c in cols)}")
    x = np.stack(cols, axis=1) if cols else np.zeros((0, 0))  # [runs, tasks]
    if not x.size:
        raise ValueError(f"scores must be [runs, tasks] with at least one of each, got shape {x.shape}")
    point = float(np.mean(statistic(x, axis=0)))
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, x.shape[0], size=(n_resamples,) + x.shape)  # [resamples, runs, tasks]
    boot = statistic(np.take_along_axis(np.broadcast_to(x, drawn.shape), drawn, axis=1), axis=1).mean(axis=1)
    low, high = _percentile_interval(boot, confidence)
    return point, float(low), float(high)


def performance_profile_ci(
    scores,
    taus,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(profile, low, high)`` over ``taus``: the run-score distribution and its pointwise stratified
    bootstrap confidence band. A NaN score makes all three NaN (``performance_profile``)."""
    cols = _columns(scores)
    _check_confidence(confidence)
    taus = np.asarray(taus, dtype=float)
    point = performance_profile(cols, taus)
    if np.isnan(point).any():  # a resample's NaN > tau is False: it would count as a low score
        return point, point.copy(), point.copy()
    boot = stratified_resamples(cols, n_resamples, seed)  # [resamples, runs]
    profiles = (boot[:, None, :] > taus[None, :, None]).mean(axis=2)  # [resamples, taus]
    low, high = _percentile_interval(profiles, confidence, axis=0)
    return point, low, high


def _win_rate(x, y) -> np.ndarray:
    """``(1/(N K)) sum_i sum_j S(x_i, y_j)`` over the last axes of ``x [..., N]`` and ``y [..., K]``, with
    S(x, y) = 1 if x > y, 1/2 if x == y, else 0: the Mann-Whitney U statistic of x over y divided by N K."""
    x, y = x[..., :, None], y[..., None, :]
    return np.mean((x > y) + 0.5 * (x == y), axis=(-2, -1))


def probability_of_improvement(x, y) -> float:
    """P(X > Y), the probability that a run of algorithm X on a task scores higher than a run of Y, averaged
    over tasks (Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of the Statistical Precipice",
    NeurIPS, sec. 4.3, "Robust and Efficient Aggregate Metrics", the per-task term its eq. A.2; rliable's
    ``probability_of_improvement``):

        P(X > Y) = (1/M) sum_m P(X_m > Y_m),   P(X_m > Y_m) = (1/(N K)) sum_i sum_j S(x_m,i, y_m,j)

    over M tasks, N runs of X and K of Y on task m, with S(x, y) = 1 if x > y, 1/2 if x == y, 0 otherwise
    (the Mann-Whitney U statistic normalised). 0.5: neither tends to score higher; 1: every run of X beats
    every run of Y on every task. ``x``, ``y``: ``[runs, tasks]`` or lists of per-task arrays, the same tasks
    in the same order (the runs may differ in number). A NaN score makes it NaN (a NaN is neither > nor ==)."""
    xs, ys = _columns(x), _columns(y)
    if len(xs) != len(ys) or not xs or any(c.size == 0 for c in xs + ys):
        raise ValueError(f"probability_of_improvement needs runs of both algorithms on the same tasks; got "
                         f"{[c.size for c in xs]} runs of X and {[c.size for c in ys]} of Y per task")
    if any(np.isnan(c).any() for c in xs + ys):
        return float("nan")
    return float(np.mean([_win_rate(a, b) for a, b in zip(xs, ys)]))


def probability_of_improvement_ci(
    x,
    y,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(point, low, high)``: ``probability_of_improvement(x, y)`` and its percentile confidence interval
    over stratified bootstrap resamples in which the runs of X and those of Y are resampled within each task,
    independently (``stratified_resamples`` of the 2 M per-task columns; rliable's
    ``StratifiedIndependentBootstrap``). With one run per task and algorithm the interval is the point."""
    _check_confidence(confidence)
    xs, ys = _columns(x), _columns(y)
    point = probability_of_improvement(xs, ys)
    if np.isnan(point):
        return point, point, point
    boot = stratified_resamples(xs + ys, n_resamples, seed)  # [resamples, runs of X, then of Y]
    parts = np.split(boot, np.cumsum([c.size for c in xs + ys])[:-1], axis=1)
    m = len(xs)
    per_task = [_win_rate(parts[t], parts[m + t]) for t in range(m)]  # M x [resamples]
    low, high = _percentile_interval(np.mean(per_task, axis=0), confidence)
    return point, float(low), float(high)


def mean_ci_over_seeds(curves, confidence: float = 0.95, n_resamples: int = 1000, seed: int = 0):
    """For ``curves [seeds, points]``: the mean across seeds at each point and a pointwise percentile
    bootstrap band (seeds resampled with replacement). Vectorised over points."""
    _check_confidence(confidence)
    curves = np.asarray(curves, dtype=float)
    m = curves.mean(axis=0)
    n = curves.shape[0]
    if n < 2:
        return m, m.copy(), m.copy()
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    means = curves[idx].mean(axis=1)  # [resamples, points]
    low, high = _percentile_interval(means, confidence, axis=0)
    return m, low, high


def t_band(x, axis: int = 0, confidence: float = 0.95):
    """Mean and Student-t confidence interval of the mean along ``axis`` (NaNs ignored):
    ``(mean, low, high)``; with one finite value the bounds are NaN (no spread to estimate; numpy warns)."""
    x = np.asarray(x, float)
    n = np.sum(np.isfinite(x), axis=axis)
    m = np.nanmean(x, axis=axis)
    se = np.nanstd(x, axis=axis, ddof=1) / np.sqrt(np.maximum(n, 1))
    _check_confidence(confidence)
    h = se * _stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
    return m, m - h, m + h


def mean_band_over_seeds(x, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0):
    """Mean over the first axis (seeds) of an array of any shape and a pointwise percentile-bootstrap
    band: ``mean_ci_over_seeds`` on ``x`` flattened to ``[seeds, -1]``."""
    x = np.asarray(x, float)
    return mean_ci_over_seeds(x.reshape(x.shape[0], -1), confidence, n_resamples, seed)


def point_ci(x, statistic=np.mean, confidence: float = 0.95, seed: int = 0) -> tuple[float, float, float]:
    """``statistic`` of a 1-D sample and its percentile-bootstrap CI: ``(estimate, low, high)``."""
    x = np.asarray(x, float).ravel()
    lo, hi = bootstrap_ci(x, lambda s, axis=None: statistic(s, axis=axis), confidence, 2000, seed)
    return float(statistic(x)), lo, hi


def wilson(k, n, z: float = 1.96):
    """Wilson (1927) score interval (lo, hi) of a binomial proportion ``k / n``, 95% at the default ``z``
    (``k`` may be an array): unlike ``p +- z se`` it stays inside [0, 1] and keeps a width at k = 0 or n."""
    k = np.asarray(k, float)
    if isinstance(n, bool) or np.any(np.asarray(n) <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"wilson(k={k.tolist()!r}, n={n!r}) is invalid: n trials > 0 and 0 <= k <= n successes")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at k = 0 (or n) the bound is 0 (1) exactly, which rounding put at -2.8e-17 (k = 0, n = 10)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test that ``k1 / n1`` and ``k2 / n2`` are the same proportion."""
    return float(_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided").pvalue)


def holm(pvalues: list[float], alpha: float = 0.05) -> list[bool]:
    """Which of ``pvalues`` are rejected at family-wise level ``alpha`` (Holm 1979, step-down Bonferroni).
    A NaN p-value (no test made) is never rejected and not counted in the family's size m; ``argsort`` puts
    it last, so it stops the steps."""
    order, m = np.argsort(pvalues), _tests_made(pvalues)
    rejected = [False] * len(pvalues)
    for rank, i in enumerate(order):
        if np.isnan(pvalues[i]) or not pvalues[i] <= alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


def holm_adjusted(pvalues: list[float]) -> list[float]:
    """Holm's adjusted p-values (Holm 1979; Wright 1992, "Adjusted p-values for simultaneous inference"):
    with the m p-values sorted, p~_(i) = max over j <= i of min(1, (m - j + 1) p_(j)). ``holm(p, alpha)``
    rejects those with p~ <= alpha (up to float rounding at a p exactly on a threshold); a NaN (no test
    made) stays NaN and is not counted in m."""
    order, m = np.argsort(pvalues), _tests_made(pvalues)
    adjusted, running = [float("nan")] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        if np.isnan(pvalues[i]):
            continue
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))
        adjusted[i] = running
    return adjusted


def _tests_made(pvalues) -> int:
    """Holm's family size m: the p-values that are not NaN (a NaN is a test not made); one outside [0, 1]
    is refused (it was ranked as if it were a p-value)."""
    p = np.asarray(pvalues, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values lie in [0, 1] (NaN: no test); got {p[(p < 0) | (p > 1)].tolist()}")
    return int(np.sum(~np.isnan(p)))


def permutation_p(a, b, n_resamples: int = 100_000, seed: int = 0) -> float:
    """Two-sided p-value of the difference in means of two independent samples by a permutation test (Fisher
    1935; Good 2005): the share of the ways of splitting the pooled values into groups of ``len(a)`` and ``len(b)``
    whose |difference of means| is at least the observed one. Exact (every split) when there are at most
    ``n_resamples`` of them (8 and 8 seeds: 12,870), else ``n_resamples`` random splits (plus the observed one).
    Unlike a percentile bootstrap interval of the difference (``diff_ci``), whose coverage falls short with
    few seeds, it holds its level at any sample size. A NaN or infinite value gives NaN (no test made, as
    ``holm`` reads it); an empty sample is refused (``ValueError``): it has no mean, and p came out 0."""
    import itertools

    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    if a.size == 0 or b.size == 0:
        raise ValueError(f"permutation_p needs at least one value in each sample; got {a.size} and {b.size}")
    pooled, n = np.concatenate([a, b]), a.size
    if not np.all(np.isfinite(pooled)):  # no split reaches a NaN difference: p came out 0, "highly significant"
        return float("nan")
    observed = abs(a.mean() - b.mean())
    tolerance = 1e-12 * max(1.0, float(np.abs(pooled).max(initial=0.0)))  # a split equal to the observed one counts
    if math.comb(pooled.size, n) <= n_resamples:
        firsts = np.array(list(itertools.combinations(range(pooled.size), n)), dtype=int)
        in_a = np.zeros((len(firsts), pooled.size), bool)
        np.put_along_axis(in_a, firsts, True, axis=1)
        extra = 0
    else:
        rng = np.random.default_rng(seed)
        in_a = np.argsort(rng.random((n_resamples, pooled.size)), axis=1) < n
        extra = 1
    diffs = np.abs((in_a * pooled).sum(1) / n - (~in_a * pooled).sum(1) / (pooled.size - n))
    return float((np.sum(diffs >= observed - tolerance) + extra) / (len(diffs) + extra))


def diff_ci(a, b, n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a`` minus mean of ``b`` and its 95% percentile-bootstrap CI, resampling the two apart (as
    independent samples). For two arms run on the same seeds this ignores their pairing: the interval is
    then conservative (wider than a paired one) when the seeds' outcomes are positively correlated."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    rng = np.random.default_rng(seed)
    d = (rng.choice(a, (n_resamples, a.size)).mean(1) - rng.choice(b, (n_resamples, b.size)).mean(1))
    low, high = _percentile_interval(d, 0.95)
    return float(a.mean() - b.mean()), float(low), float(high)
