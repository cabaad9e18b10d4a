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
    mine = set(range(first, first + n))
    shared = sorted(s for r in TUNING_SEEDS for s in r if s in mine)
    if not shared:
        return None
    return (f"{'seed' if len(shared) == 1 else 'seeds'} {', '.join(map(str, shared[:3]))}"
            f"{' ...' if len(shared) > 3 else ''} {'is' if len(shared) == 1 else 'are'} among those the tuned configs "
            f"were chosen on, where the tuned algorithms look better than on new seeds; --seed {REPORT_SEED} gives held-out ones")
