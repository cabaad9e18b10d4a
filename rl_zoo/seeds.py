"""Which seeds are held out. The tuned configs of ``rl_zoo/hyperparams`` were chosen by looking at seeds 0-9
(some at 200-209: each file says which), where they look better than anywhere else; rl_zoo's benchmarks and
experiments report on seeds from ``REPORT_SEED`` up, which no tuning ran on. A few configs were changed after a
result on those seeds (``REPORT_SEEDS_SEEN``: their YAML comments say how), a weaker hold-out that their reports name
(``report_seeds_seen_said``). A report on seeds that include tuning ones says so (``tuning_seeds_said``):
`rl-zoo benchmark`'s report, the experiments' READMEs."""

from __future__ import annotations

from dataclasses import dataclass

#: the first of the seeds rl_zoo's benchmarks and experiments report on (none tuned on them)
REPORT_SEED = 1000
#: the seeds the tuned configs of rl_zoo/hyperparams were chosen on (their files say which each used)
TUNING_SEEDS = (range(0, 10), range(200, 210))

_GYMNASIUM_TUNING = "(benchmarks/results/gymnasium/README.md, Tuning)"
_DQN_LUNAR = ("learning_rate", "batch_size", "train_frequency", "target_update_interval")  # the zoo's entries differ in


@dataclass(frozen=True)
class SeenSeeds:
    """A tuned config changed after a result on some report seeds (the new setting tried on tuning seeds, or not
    tried): a weaker hold-out on ``seeds``, for a run whose ``fields`` keep the YAML's values."""

    seeds: range
    fields: tuple[str, ...]
    what: str


#: (algo, env) -> the tuned configs of rl_zoo/hyperparams so chosen ("A weaker hold-out" in their YAML comments)
REPORT_SEEDS_SEEN = {
    ("double-dqn", "CartPole-v1"): SeenSeeds(range(1000, 1010), ("n_step",), "Double DQN's CartPole `n_step: 3`, chosen "
                                             "by comparing it with one-step targets on seeds 1000-1009 (`benchmarks/results/dqn.md`)"),
    ("dqn", "LunarLander-v3"): SeenSeeds(range(1000, 1005), _DQN_LUNAR, "DQN's LunarLander-v3 entry, changed after its first "
                                         f"entry's result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("double-dqn", "LunarLander-v3"): SeenSeeds(range(1000, 1005), _DQN_LUNAR, "Double DQN's LunarLander-v3 entry, DQN's, "
                                                f"changed after DQN's result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "LunarLander-v3"): SeenSeeds(range(1000, 1005), ("num_steps", "value_minibatches"), "TRPO's LunarLander-v3 "
                                          f"batch, changed after the source setting's result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "LunarLanderContinuous-v3"): SeenSeeds(range(1000, 1005), ("num_steps", "value_minibatches"), "TRPO's "
                                                    "LunarLanderContinuous-v3 batch, changed after the source setting's "
                                                    f"result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
    ("trpo", "Hopper-v5"): SeenSeeds(range(1000, 1005), ("max_kl",), "TRPO's Hopper-v5 max_kl 0.02, changed after the "
                                     f"source setting's result on seeds 1000-1004 {_GYMNASIUM_TUNING}"),
}


def report_seeds_seen_said(algo: str, env_id: str, first: int | None, n: int | None, config: dict | None = None) -> str | None:
    """"a weaker hold-out: WHAT (...)" for a run of ``algo`` on ``env_id`` on seeds ``first`` .. ``first + n - 1`` that
    share seeds with the result that chose its tuned config (``REPORT_SEEDS_SEEN``), else ``None``; also ``None`` where
    ``config`` (the run's resolved fields; not given: the tuned ones) sets a field the choice was about otherwise
    (`--set n_step=1` runs no config that result chose)."""
    from rl_zoo.driver.spec import load_hyperparams

    seen = REPORT_SEEDS_SEEN.get((algo, env_id))
    if first is None or n is None or seen is None or not shares_seeds(first, n, seen.seeds):
        return None  # no seed of the run's among those seen
    tuned = load_hyperparams(algo, env_id)
    if config and any(f in config and config[f] != tuned.get(f) for f in seen.fields):
        return None
    return f"a weaker hold-out: {seen.what}"


def shares_seeds(first: int, n: int, seeds: range) -> bool:
    """Whether the seeds ``first`` .. ``first + n - 1`` include some of ``seeds`` (a range of step 1: by their ends)."""
    return first < seeds.stop and seeds.start < first + n


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
    return seeds_among_said(range(first, first + n), chosen_on, what, shown)


def seeds_among_said(seeds, chosen_on, what: str, shown: int | None = None) -> str | None:
    """``shared_seeds_said`` for any collection of ``seeds`` (an rlhf run's from the Python API need not be consecutive)."""
    mine = set(seeds)
    shared = sorted(s for r in chosen_on for s in r if s in mine)
    if not shared:
        return None
    listed = shared if shown is None else shared[:shown]
    return (f"{'seed' if len(shared) == 1 else 'seeds'} {', '.join(map(str, listed))}{' ...' if len(listed) < len(shared) else ''} "
            f"{'is' if len(shared) == 1 else 'are'} among those {what} chosen on")
