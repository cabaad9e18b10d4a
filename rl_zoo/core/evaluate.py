"""Greedy evaluation on separate env copies: the training envs' episodes are never disturbed."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from envs import EpisodeStatistics, vectorize
from rl_zoo.core.rollout import env_action

#: time limits above this are treated as "no time limit" ...
MAX_EVAL_STEPS = 100_000
#: ... and such envs are evaluated for this many steps at most
UNLIMITED_EVAL_STEPS = 1_000


def eval_key(seed: int | jax.Array, index: int | jax.Array) -> jax.Array:
    """The key of a run's evaluation ``index`` (0: before training) for seed ``seed``:
    ``fold_in(fold_in(key(seed), 1), index)``, one stream per evaluation, apart from the training's
    (``key(seed)`` itself). ``rl-zoo train``, sweeps and the experiments all evaluate with it, so that
    their seed 1000 is evaluated alike."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), 1), index)


def episode_cap(env_params) -> int:
    """Steps an evaluation episode may take: the env's time limit, or ``UNLIMITED_EVAL_STEPS`` for an env
    whose limit is above ``MAX_EVAL_STEPS`` (none). One rule for the JAX and host evaluations and enjoy."""
    limit = int(env_params.max_steps_in_episode)
    return limit if limit <= MAX_EVAL_STEPS else UNLIMITED_EVAL_STEPS


def evaluate(
    act: Callable[[Any, jax.Array], jax.Array],
    agent_state: Any,
    env,
    env_params,
    key: jax.Array,
    num_episodes: int,
    max_steps: int | None = None,
) -> jax.Array:
    """Undiscounted return of the first episode of each of ``num_episodes`` fresh env copies ``[E]``.

    ``act(agent_state, obs) -> action`` is the algorithm's greedy policy (with its frozen
    normalisation statistics). ``max_steps`` defaults to the env's time limit, or to
    ``UNLIMITED_EVAL_STEPS`` for an env without one (CliffWalking); an episode still running
    after ``max_steps`` counts the return it collected so far.

    For JAX envs it is pure and jittable: a ``lax.while_loop`` that stops once every episode has
    ended, stepping with `Environment.step_no_reset` (only first episodes count, so nothing is
    reset, and an env whose episode ended is held where it stopped). For gymnasium envs it is a
    host loop over the auto-resetting vector env.
    """
    import numbers

    if isinstance(num_episodes, bool) or not isinstance(num_episodes, numbers.Integral) or num_episodes < 1:
        # 2.5 failed inside JAX after compiling; 0 returned an empty array
        raise ValueError(f"evaluate: num_episodes = {num_episodes!r} is invalid: a whole number of episodes, at least 1")
    if max_steps is None:
        max_steps = episode_cap(env_params)
    max_steps = int(max_steps)
    key_reset, key_steps = jax.random.split(key)
    keys = jax.random.split(key_steps, max_steps)
    venv = vectorize(env, env_params, num_episodes)
    if not venv.is_jax:
        return _evaluate_host(act, agent_state, EpisodeStatistics(venv), key_reset, keys)
    if not hasattr(venv, "step_no_reset"):  # rl_zoo.host's SeedBatchedEnv: its steps are host calls inside jit
        raise TypeError(f"evaluate takes a JAX env or the gymnasium adapter's env (envs.make(id, backend='gymnasium')), "
                        f"not {type(env).__name__}, whose vector env cannot step without its auto-reset; the driver "
                        f"evaluates it with rl_zoo.host.evaluation.evaluate_seeds")

    obs, state = venv.reset(key_reset)

    def running(carry) -> jax.Array:
        t, _, _, _, finished = carry
        return (t < max_steps) & ~finished.all()

    def step(carry):
        t, obs, state, returns, finished = carry
        action = env_action(act(agent_state, obs), venv.action_space)
        next_obs, next_state, reward, terminated, truncated, _ = venv.step_no_reset(keys[t], state, action)
        hold = lambda old, new: jnp.where(finished.reshape(finished.shape + (1,) * (new.ndim - 1)), old, new)  # noqa: E731
        return (
            t + 1,
            hold(obs, next_obs),
            jax.tree.map(hold, state, next_state),
            jnp.where(finished, returns, returns + reward),
            finished | terminated | truncated,
        )

    returns = jnp.zeros((num_episodes,), jnp.float32)
    finished = jnp.zeros((num_episodes,), bool)
    return jax.lax.while_loop(running, step, (jnp.zeros((), jnp.int32), obs, state, returns, finished))[3]


def _evaluate_host(act, agent_state, venv, key_reset, keys) -> jax.Array:
    """`evaluate` on a gymnasium vector env: a Python loop, the policy jitted, stopping early."""
    obs, state = venv.reset(key_reset)
    returns = jnp.zeros((venv.num_envs,), jnp.float32)
    finished = jnp.zeros((venv.num_envs,), bool)
    act_jit = jax.jit(act)
    for k in keys:
        action = np.asarray(env_action(act_jit(agent_state, obs), venv.action_space))
        obs, state, _, _, _, info = venv.step(k, state, action)
        newly = info["episode_done"] & ~finished
        returns = jnp.where(newly, info["episode_return"], returns)
        finished = finished | info["episode_done"]
        if bool(finished.all()):
            break
    # unfinished episodes count the partial return collected so far
    return jnp.where(finished, returns, state.episode_return)
