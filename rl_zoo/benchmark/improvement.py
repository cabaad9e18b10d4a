"""The report's table of the probability of improvement P(row > column) between every two algorithms, on
normalised final scores (Agarwal et al. 2021; ``rl_zoo.stats.probability_of_improvement_ci``)."""

from __future__ import annotations

import numpy as np

Interval = tuple[float, float, float]  # (point, low, high)


def interval_cell(interval: tuple[float, float, float], single: bool) -> str:
    """A table cell ``p [lo, hi]``; with one seed per env (``single``: a bootstrap within each env has nothing to
    resample, so the interval is ``[p, p]``) the point alone, said to have no interval."""
    p, lo, hi = interval
    return f"{p:.2f} (1 seed per env: no interval)" if single else f"{p:.2f} [{lo:.2f}, {hi:.2f}]"


def common_envs(normalised: dict[str, dict[str, np.ndarray]], a: str, b: str, envs: list[str]) -> list[str]:
    """The envs of ``envs`` (in its order) that both ``a`` and ``b`` have normalised scores on."""
    return [e for e in envs if e in normalised[a] and e in normalised[b]]


def improvement_matrix(normalised: dict[str, dict[str, np.ndarray]], algos: list[str],
                       envs: list[str]) -> dict[tuple[str, str], Interval | None]:
    """``{(a, b): (P(a > b), low, high)}`` for every ordered pair of different algorithms, over the envs both ran
    on (None: none). Each unordered pair is resampled once; its mirror is ``1 - P`` with the bounds swapped,
    which every resample satisfies (S(x, y) + S(y, x) = 1), so the table reads the same either way."""
    from rl_zoo import stats

    out: dict[tuple[str, str], Interval | None] = {}
    for i, a in enumerate(algos):
        for b in algos[i + 1:]:
            shared = common_envs(normalised, a, b, envs)
            if not shared:
                out[a, b] = out[b, a] = None
                continue
            p, lo, hi = stats.probability_of_improvement_ci([normalised[a][e] for e in shared],
                                                            [normalised[b][e] for e in shared])
            out[a, b], out[b, a] = (p, lo, hi), (1.0 - p, 1.0 - hi, 1.0 - lo)
    return out


def _pairs_phrase(pairs: list[tuple[str, str]], algos: list[str]) -> str:
    """``"every pair with dqn"`` when ``pairs`` are exactly those of one algorithm, else the pairs named."""
    given = {frozenset(p) for p in pairs}
    for a in algos:
        if given == {frozenset((a, b)) for b in algos if b != a}:
            return f"every pair with {a}"
    return ", ".join(f"{a} and {b}" for a, b in pairs)


def envs_counted_sentence(normalised: dict[str, dict[str, np.ndarray]], algos: list[str], envs: list[str]) -> str:
    """Which envs each pair is compared on: all of ``envs`` for most pairs, the others named by their envs."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for i, a in enumerate(algos):
        for b in algos[i + 1:]:
            groups.setdefault(tuple(common_envs(normalised, a, b, envs)), []).append((a, b))
    full = tuple(envs)
    every = f"all {len(envs)} envs ({', '.join(envs)})" if len(envs) > 1 else f"{', '.join(envs)}"
    others = [f"{_pairs_phrase(pairs, algos)}: {', '.join(shared) + ' only' if shared else 'no common env (-)'}"
              for shared, pairs in groups.items() if shared != full]
    if not others:
        return f"Every pair is compared on {every}."
    most = f"{every}, except " if full in groups else ""  # no pair ran on every env: each group named
    return (f"Each pair is compared on the envs both algorithms ran on: {most}{'; '.join(others)} (a cell says how "
            f"many envs when fewer than {len(envs)}).")


def improvement_section(normalised: dict[str, dict[str, np.ndarray]], algos: list[str], envs: list[str]) -> list[str]:
    """The report's lines: what P(X > Y) is, the envs counted, and the table; none for fewer than two algorithms."""
    if len(algos) < 2:
        return []
    matrix = improvement_matrix(normalised, algos, envs)

    def cell(a: str, b: str) -> str:
        if a == b or matrix[a, b] is None:
            return "-"
        p, lo, hi = matrix[a, b]
        shared = common_envs(normalised, a, b, envs)
        n = len(shared)
        single = all(np.size(normalised[x][e]) <= 1 for x in (a, b) for e in shared)
        return interval_cell((p, lo, hi), single) + (f" ({n} env{'' if n == 1 else 's'})" if n < len(envs) else "")

    lines = ["Probability of improvement P(row > column) [95% CI] (Agarwal et al. 2021): on each env, the chance that a "
             "seed of the row algorithm ends with a higher normalised final score than a seed of the column algorithm "
             "(every pair of their seeds compared, a tie counting one half: the Mann-Whitney U statistic over the number "
             "of pairs), averaged over the envs both ran on. 0.5 is no difference (an env where every seed of both ends "
             "on the same score, as at CartPole's cap of 500, counts 0.5 there); above 0.5 the row tends to score higher, "
             "and P(column > row) is 1 minus it. The interval: 95% stratified bootstrap (each algorithm's seeds "
             "resampled within each env, apart from the other's; 2000 resamples), narrower than 95% with few seeds per "
             "env (see the note under the results per cell). " + envs_counted_sentence(normalised, algos, envs), "",
             "| P(row > column) | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    lines += [f"| {a} | " + " | ".join(cell(a, b) for b in algos) + " |" for a in algos]
    return lines + [""]
