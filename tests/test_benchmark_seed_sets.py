"""The learning benchmarks report on held-out seeds (issue 19): the seed sets of
``benchmarks/policy_gradient.py`` and ``benchmarks/ppo_learning.py``, the move of rows recorded before
the seed sets existed (they trained the tuning seeds 0..N-1) out of the record, and the reports saying
which seeds each row used. No training."""

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def scripts(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import policy_gradient
    import ppo_learning

    yield policy_gradient, ppo_learning
    for name in ("policy_gradient", "policy_gradient_plan", "policy_gradient_report", "ppo_learning"):
        sys.modules.pop(name, None)


def _row(algo, env, final, **extra):
    return dict(algo=algo, env=env, seeds=len(final), env_steps=100_000, config={}, final=final, train_tail=final,
                compile_s=1.0, run_s=2.0, **extra)


def test_seed_sets_are_disjoint(scripts):
    pg, ppo_learning = scripts
    for sets, seeds in ((pg.SEED_SETS, 10), (ppo_learning.SEED_SETS, 10)):
        tuning = set(range(sets["tuning"], sets["tuning"] + seeds))
        report = set(range(sets["report"], sets["report"] + seeds))
        assert not tuning & report
        assert sets["report"] == 1000


def test_rows_without_a_seed_set_become_tuning_rows(scripts, tmp_path, monkeypatch):
    pg, _ = scripts
    raw = {"returns": {"trpo/CartPole-v1": _row("trpo", "CartPole-v1", [500.0] * 10),
                       "vpg/CartPole-v1": _row("vpg", "CartPole-v1", [500.0] * 9 + [234.0], seed_set="report",
                                               seed_list=list(range(1000, 1010)))},
           "speed": [], "cost": []}
    path = tmp_path / "policy_gradient.json"
    path.write_text(json.dumps(raw))
    monkeypatch.setattr(sys.modules["policy_gradient_plan"], "RAW", path)
    loaded = pg.load_raw()
    assert list(loaded["returns"]) == ["vpg/CartPole-v1"]
    moved = loaded["returns_tuning"]["trpo/CartPole-v1"]
    assert moved["seed_set"] == "tuning" and moved["seed_list"] == list(range(10))
    assert pg.seed_range(moved) == "0-9 (tuning)"
    assert pg.seed_range(loaded["returns"]["vpg/CartPole-v1"]) == "1000-1009 (held-out)"


def test_ppo_learning_report_names_the_seeds(scripts):
    _, ppo_learning = scripts
    row = dict(algo="ppo", env="Acrobot-v1", seed_set="report", seed_list=list(range(1000, 1005)), env_steps_per_seed=499_712,
               final=[-80.0, -90.0, -85.0, -120.0, -82.0], met=True, target="mean >= -100 over 5 seeds at 500k",
               compile_s=1.0, train_s=2.0, steps_per_s=3.0, date="2026-11-30", load=1.5)
    text = ppo_learning.report("ppo", {"Acrobot-v1 report": row})
    assert "| Acrobot-v1 | 1000-1004 (held-out) | 499,712 | -91.4 |" in text
    assert "tuning* seeds 0..N-1" in text
    assert "Not measured on held-out seeds yet: CartPole-v1, Pendulum-v1, MountainCarContinuous-v0." in text
