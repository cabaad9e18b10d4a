"""Greedy evaluation of all seeds at once on host (gymnasium) envs, at a cost that is counted.

Each seed plays ``episodes`` episodes on fresh env copies of its own (seeded from the seed, the
evaluation's index and the episode's), each copy followed for its first episode only; a copy whose
episode has ended is not stepped again. At most ``batched_env.EVAL_WAVE`` copies per seed are made:
more episodes are played in waves of them, each episode seeded as it would be in one wave. The greedy
policy runs once per step for every seed (``jax.vmap`` over seeds, jitted) with each seed's frozen
normalisation statistics (the trap of cleanrl issue 532).

Evaluation episodes on long-episode envs (LunarLander, MuJoCo: up to 1,000 steps each) can cost as
many env steps as training itself; ``eval_count`` picks how many evaluations a run makes after the
start's so that their worst case stays at most ``EVAL_FRACTION`` of the training's env steps (the
start's evaluation comes on top: up to one evaluation more in all).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from rl_zoo.core.rollout import env_action
from rl_zoo.driver.plan import map_seeds

#: evaluations' worst-case env steps (every episode running to the time limit) as a fraction of training's
EVAL_FRACTION = 0.1


def eval_count(total_steps: int, episode_limit: int, episodes: int, asked: int) -> int:
    """How many evaluations after the start one run makes: ``asked``, cut so that ``episodes`` episodes
    of ``episode_limit`` steps each time cost at most ``EVAL_FRACTION`` of ``total_steps``; at least 1
    (the final one, whatever it costs)."""
    worst = max(1, episodes * episode_limit)
    return max(1, min(asked, int(EVAL_FRACTION * total_steps) // worst))


def eval_cut_note(total_steps: int, episode_limit: int, episodes: int, asked: int) -> str | None:
    """The line a run logs when ``eval_count`` makes fewer evaluations than ``asked`` (``None`` if it
    does not), saying too when even one evaluation's worst case exceeds ``EVAL_FRACTION``."""
    n = eval_count(total_steps, episode_limit, episodes, asked)
    if n == asked:
        return None
    worst = episodes * episode_limit
    over = (f"; even one may cost {worst / total_steps:.0%} (fewer --eval-episodes cost less)"
            if worst > EVAL_FRACTION * total_steps else "")
    return (f"{n} evaluation(s) instead of {asked}: {episodes} episodes of up to {episode_limit} steps each time "
            f"would cost more than {EVAL_FRACTION:.0%} of the {total_steps:,} training env steps{over}")


def eval_seeds(seeds: np.ndarray, index: int) -> np.ndarray:
    """Env seeds of evaluation ``index`` for each run seed: a stream apart from the training envs'."""
    return np.array([np.random.SeedSequence([int(s) & 0xFFFFFFFF, 1, index]).generate_state(1)[0] for s in seeds], np.int64)


@functools.cache
def _greedy_all(act, action_space):
    """``act`` mapped over seeds (``map_seeds``: one seed runs unbatched) and jitted (built once per
    agent and action space)."""
    return jax.jit(map_seeds(lambda state, obs: env_action(act(state, obs), action_space)))


def _env_call(fn, *args, what: str):
    """``fn(*args)``, an evaluation env call: an exception the env raises comes out as ``HostEnvError`` (one line
    and the env's traceback, the run's checkpoints named), as one raised in a training step does."""
    import traceback

    from rl_zoo.host.calls import HostEnvError, NonFiniteAction

    try:
        return fn(*args)
    except (KeyboardInterrupt, HostEnvError, NonFiniteAction):  # NonFiniteAction: the learner's, for the NaN guard
        raise
    except Exception as e:
        env_id = getattr(fn.__self__, "env_id", "the env")
        raise HostEnvError(f"{env_id} (an evaluation, {what}) raised {type(e).__name__}: {e}",
                           "".join(traceback.format_exception(e))) from e


def evaluate_seeds(act, states, host, seeds: np.ndarray, action_space, max_steps: int,
                   episodes: int | None = None) -> np.ndarray:
    """Undiscounted return of each seed's first ``episodes`` episodes ``[S, episodes]`` (default
    ``host.copies``), played ``host.copies`` at a time: episode ``i`` of a seed is its env copy ``i``
    (``copy_seeds``), whichever wave plays it.

    ``act(state, obs [E, ...]) -> action`` is the algorithm's greedy policy; ``states`` its state with
    a leading seed axis; ``host`` evaluation envs from ``SeedBatchedEnv.make_eval``. An episode still
    running after ``max_steps`` counts the return collected so far.
    """
    episodes = host.copies if episodes is None else int(episodes)
    greedy = _greedy_all(act, action_space)
    returns = np.zeros((len(seeds), episodes), np.float64)
    for first in range(0, episodes, host.copies):
        count = min(host.copies, episodes - first)
        (obs,) = _env_call(host.reset, seeds, first, count, what="its reset")
        wave = np.zeros(obs.shape[:2], np.float64)
        for _ in range(int(max_steps)):
            obs, reward, ended = _env_call(host.step_first_episode, np.asarray(greedy(states, obs)), what="a step")
            wave += reward
            if ended.all():
                break
        returns[:, first:first + count] = wave[:, :count]
    return returns
