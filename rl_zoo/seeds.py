"""Which seeds are held out. The tuned configs of ``rl_zoo/hyperparams`` were chosen by looking at seeds 0-9
(some at 200-209: each file says which), where they look better than anywhere else; rl_zoo's benchmarks and
experiments report on seeds from ``REPORT_SEED`` up, which no tuning ran on. A few configs were changed after a
result on those seeds (``REPORT_SEEDS_SEEN``: their YAML comments say how), a weaker hold-out that their reports name
(``report_seeds_seen_said``). A report on seeds that include tuning ones says so (``tuning_seeds_said``):
`rl-zoo benchmark`'s report, the experiments' READMEs."""

from __future__ import annotations

#: the first of the seeds rl_zoo's benchmarks and experiments report on (none tuned on them)
REPORT_SEED = 1000
#: the seeds the tuned configs of rl_zoo/hyperparams were chosen on (their files say which each used)
TUNING_SEEDS = (range(0, 10), range(200, 210))

_GYMNASIUM_TUNING = "(benchmarks/results/gymnasium/README.md, Tuning)"
#: (algo, env) -> (report seeds, what they chose): the tuned configs changed after a result on some report seeds (the
#: new setting tried on tuning seeds, or not tried): a weaker hold-out on those seeds ("A weaker hold-out" in the YAML)
REPORT_SEEDS_SEEN = {
    ("double-dqn", "CartPole-v1"): (range(1000, 1010), "Double DQN's CartPole `n_step: 3`, chosen by comparing it with "
                                    "one-step targets on seeds 1000-1009 (`benchmarks/results/dqn.md`)"),
    ("dqn", "LunarLander-v3"): (range(1000, 1005), "DQN's LunarLander-v3 entry, changed after its first entry's result on "
                                f"seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("double-dqn", "LunarLander-v3"): (range(1000, 1005), "Double DQN's LunarLander-v3 entry, DQN's, changed after DQN's "
                                       f"result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "LunarLander-v3"): (range(1000, 1005), "TRPO's LunarLander-v3 batch, changed after the source setting's result "
                                 f"on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "LunarLanderContinuous-v3"): (range(1000, 1005), "TRPO's LunarLanderContinuous-v3 batch, changed after the "
                                           f"source setting's result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "Hopper-v5"): (range(1000, 1005), "TRPO's Hopper-v5 max_kl 0.02, changed after the source setting's result on "
                            f"seeds 1000-1004 {_GYMNASIUM_TUNING}"),
}


def report_seeds_seen_said(algo: str, env_id: str, first: int | None, n: int | None) -> str | None:
    """"A weaker hold-out: WHAT (...)" for a run of ``algo`` on ``env_id`` on seeds ``first`` .. ``first + n - 1`` that
    share seeds with the result that chose its tuned config (``REPORT_SEEDS_SEEN``), else ``None``."""
    seen = REPORT_SEEDS_SEEN.get((algo, env_id))
    if first is None or n is None or seen is None or not set(range(first, first + n)) & set(seen[0]):
        return None
    return f"a weaker hold-out: {seen[1]}"


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
