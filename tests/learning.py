"""Learning tests that hold on any machine.

One seed's learning curve is not a property of the code: another CPU, XLA version, device count or
company of vmapped seeds rounds floats differently, and RL training amplifies a 1e-8 difference into
another run. What holds anywhere is a statement about the distribution over seeds: *of n seeds
vmapped together, at least k clear a threshold*. Each learning test names a ``Setting`` and asserts
that, with n, k and the threshold chosen from the setting's measured distribution (20+ seeds other
than the test's own, numbers kept in a comment beside the setting), so that a working algorithm
rarely fails (how rarely: tests/README.md, "How sure is k of n?") and a broken one (random play) cannot pass.

Measure a setting (prints each score's sorted values over the seeds)::

    python tests/learning.py test_ppo CARTPOLE_LEARNING 100 124   # module, Setting name, seeds [100, 124)

Tests add ``seed_offset`` (``pytest --seed-offset N``) to their seeds, so anyone can check that no
test leans on lucky seeds.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class Setting:
    """A learning-test setting: algorithm name (``rl_zoo.algos``), env id, config, how it is scored."""

    algo: str  # e.g. "ppo", "double-dqn"
    env_id: str
    config: Any  # the algorithm's Config (the name's preset already applied)
    eval_episodes: int = 10  # greedy episodes per seed after training
    tail: int = 10  # the training return is averaged over the episodes that ended in the last `tail` updates


class Scores(NamedTuple):
    """Per seed ``[n]``: the greedy return after training (mean over ``eval_episodes`` episodes) and the
    mean return of the training episodes that ended in the last ``tail`` updates (NaN if none ended);
    ``metrics`` is the algorithm's per-update metrics ``[n, updates]``."""

    greedy: np.ndarray
    train: np.ndarray
    metrics: Any


def seeds(offset: int, n: int, base: int = 0) -> np.ndarray:
    """The ``n`` seeds ``base + offset, ..., base + offset + n - 1`` (``offset``: the ``seed_offset`` fixture)."""
    return np.arange(n) + base + offset


def run(setting: Setting, seed_ints) -> Scores:
    """Train ``setting`` for every seed in ``seed_ints``, vmapped in one program with the greedy evaluation."""
    greedy, train_tail, metrics = program(setting)(jnp.asarray(seed_ints, jnp.uint32))
    return Scores(np.asarray(greedy), np.asarray(train_tail), jax.tree.map(np.asarray, metrics))


def program(setting: Setting):
    """``jit(vmap(seed -> (greedy return, training return of the tail, metrics)))`` for ``setting``."""
    import envs
    from rl_zoo import algos
    from rl_zoo.core.evaluate import evaluate
    from rl_zoo.core.types import mean_episode_return

    module, _ = algos.get(setting.algo)
    env, params = envs.make(setting.env_id)
    agent = module.make_agent(setting.config, env, params)
    train = module.make_train(setting.config, env, params)

    def one_seed(seed):
        key = jax.random.key(seed)
        state, metrics = train(key)
        greedy = evaluate(agent.act, state, env, params, jax.random.fold_in(key, 1_000_003), setting.eval_episodes).mean()
        tail = jax.tree.map(lambda x: x[-setting.tail:], metrics.episode)
        return greedy, mean_episode_return(tail), metrics

    return jax.jit(jax.vmap(one_seed))


def count(values: np.ndarray, threshold: float) -> int:
    """How many of ``values`` are at least ``threshold`` (NaN counts as not clearing it)."""
    return int(np.sum(np.nan_to_num(values, nan=-np.inf) >= threshold))


def _main() -> None:
    import argparse
    import importlib
    import sys
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Measure a learning-test setting over many seeds.")
    parser.add_argument("module", help="test module holding the Setting, e.g. test_ppo")
    parser.add_argument("setting", help="name of the Setting in that module, e.g. CARTPOLE_LEARNING")
    parser.add_argument("start", type=int)
    parser.add_argument("stop", type=int)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    setting = getattr(importlib.import_module(args.module), args.setting)
    seed_ints = jnp.arange(args.start, args.stop, dtype=jnp.uint32)
    t0, c0 = time.perf_counter(), time.process_time()
    compiled = program(setting).lower(seed_ints).compile()
    t1, c1 = time.perf_counter(), time.process_time()
    greedy, train_tail, metrics = jax.block_until_ready(compiled(seed_ints))
    t2, c2 = time.perf_counter(), time.process_time()
    scores = Scores(np.asarray(greedy), np.asarray(train_tail), jax.tree.map(np.asarray, metrics))
    print(f"{args.module}.{args.setting}, seeds {args.start}..{args.stop - 1}: compile {t1 - t0:.1f} s ({c1 - c0:.1f} s cpu), "
          f"run {t2 - t1:.1f} s ({c2 - c1:.1f} s cpu)")
    for name in ("greedy", "train"):
        values = getattr(scores, name)
        digits = 2 if np.nanmax(np.abs(values), initial=0.0) < 10 else 0  # success rates (FrozenLake) need decimals
        print(f"  {name:>6} sorted: {' '.join(f'{v:.{digits}f}' for v in np.sort(values))}")
    extra = getattr(importlib.import_module(args.module), "measure_extra", None)
    if extra is not None:
        extra(scores)


if __name__ == "__main__":
    _main()
