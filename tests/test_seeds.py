"""rl_zoo.seeds: which seeds a report may call held out."""

import re
from pathlib import Path

import yaml

from rl_zoo import seeds

HYPERPARAMS = Path(seeds.__file__).parent / "hyperparams"


def _weaker_entries() -> set:
    """(algo, env) of every YAML entry whose comment block above it says "A weaker hold-out"."""
    found = set()
    for path in HYPERPARAMS.glob("*.yaml"):
        comment: list[str] = []
        for line in path.read_text().splitlines():
            if line.startswith("#"):
                comment.append(line)
            elif m := re.match(r"([A-Za-z0-9_:\-]+):", line):
                if "weaker hold-out" in " ".join(comment).lower():
                    found.add((path.stem, m.group(1)))
                comment = []
            elif not line.strip():
                continue
    return found


def test_the_record_of_configs_chosen_after_a_report_seed_result_matches_the_yaml_comments():
    """seeds.py said the report seeds were ones "no tuning saw" and `rl-zoo benchmark`'s per-cell reports of TRPO on
    Hopper-v5 or DQN on LunarLander-v3 said nothing, while their YAML comments call them a weaker hold-out."""
    assert set(seeds.REPORT_SEEDS_SEEN) == _weaker_entries() and len(seeds.REPORT_SEEDS_SEEN) == 6
    for (algo, env), seen in seeds.REPORT_SEEDS_SEEN.items():
        entry = (yaml.safe_load((HYPERPARAMS / f"{algo}.yaml").read_text()) or {})[env]
        assert seen.seeds.start >= seeds.REPORT_SEED and seen.fields and set(seen.fields) <= set(entry), (algo, env)


def test_report_seeds_seen_are_said_only_where_the_seeds_overlap():
    said = seeds.report_seeds_seen_said("double-dqn", "CartPole-v1", 1009, 3)
    assert said.startswith("a weaker hold-out: Double DQN's CartPole `n_step: 3`, chosen by comparing it with one-step")
    assert seeds.report_seeds_seen_said("double-dqn", "CartPole-v1", 1010, 3) is None
    assert seeds.report_seeds_seen_said("dqn", "CartPole-v1", 1000, 10) is None
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", 995, 5) is None
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", 995, 6).startswith("a weaker hold-out: TRPO's Hopper-v5")
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", None, 5) is None  # an older record: not guessed
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", 1000, None) is None
    # a run that sets what the choice was about otherwise runs no config that result chose (`--set n_step=1`)
    assert seeds.report_seeds_seen_said("double-dqn", "CartPole-v1", 1000, 10, {"n_step": 1, "gamma": 0.98}) is None
    assert seeds.report_seeds_seen_said("double-dqn", "CartPole-v1", 1000, 10, {"n_step": 3, "gamma": 0.9}) is not None
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", 1000, 5, {"max_kl": 0.01}) is None
    assert seeds.report_seeds_seen_said("trpo", "Hopper-v5", 1000, 5, {"max_kl": 0.02, "total_timesteps": 5}) is not None
