"""Which seeds are held out. The tuned configs of ``rl_zoo/hyperparams`` were chosen by looking at seeds 0-9
(some at 200-209: each file says which), where they look better than anywhere else; rl_zoo's benchmarks and
experiments report on seeds from ``REPORT_SEED`` up, which no tuning saw. A report on seeds that include tuning
ones says so (``tuning_seeds_said``): `rl-zoo benchmark`'s report, the experiments' READMEs."""

from __future__ import annotations

#: the first of the seeds rl_zoo's benchmarks and experiments report on (none tuned on them)
REPORT_SEED = 1000
#: the seeds the tuned configs of rl_zoo/hyperparams were chosen on (their files say which each used)
TUNING_SEEDS = (range(0, 10), range(200, 210))


def tuning_seeds_said(first: int | None, n: int) -> str | None:
    """The words for a run on seeds ``first`` .. ``first + n - 1`` that include some of ``TUNING_SEEDS``, else ``None``."""
    if first is None:  # a record of an older format, which did not say: not guessed
        return None
    said = shared_seeds_said(first, n, TUNING_SEEDS, "the tuned configs were", shown=3)
    return said and (f"{said}, where the tuned algorithms look better than on new seeds; --seed {REPORT_SEED} gives "
                     "held-out ones")


def shared_seeds_said(first: int, n: int, chosen_on, what: str, shown: int | None = None) -> str | None:
    """"seeds 0, 1 are among those WHAT chosen on" for the seeds ``first`` .. ``first + n - 1`` that lie in the ranges
    ``chosen_on`` (the first ``shown`` of them, then "..."), else ``None``: a report's words for seeds that tuned
    what it reports on (``tuning_seeds_said``; the rlhf experiment's own settings)."""
    mine = set(range(first, first + n))
    shared = sorted(s for r in chosen_on for s in r if s in mine)
    if not shared:
        return None
    listed = shared if shown is None else shared[:shown]
    return (f"{'seed' if len(shared) == 1 else 'seeds'} {', '.join(map(str, listed))}{' ...' if len(listed) < len(shared) else ''} "
            f"{'is' if len(shared) == 1 else 'are'} among those {what} chosen on")
