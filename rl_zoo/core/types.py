"""Named containers shared by every algorithm (never positional tuples)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax


class Transition(NamedTuple):
    """One batched env step. In a ``Trajectory`` every field gains a leading time axis: ``[T, B, ...]``."""

    obs: jax.Array  # [B, *obs_shape] observation the action was taken in
    action: jax.Array  # [B, *act_shape] action as sampled (before clipping to the action space)
    reward: jax.Array  # [B]
    terminated: jax.Array  # [B] the MDP ended: no value after this step
    truncated: jax.Array  # [B] the time limit cut the episode: bootstrap from V(next_obs)
    next_obs: jax.Array  # [B, *obs_shape] observation reached by this step, before any auto-reset
    extras: Any  # algorithm-specific per-step data from the policy (log-prob, value, ...)
    episode_done: jax.Array  # [B] an episode ended at this step (terminated or truncated)
    episode_return: jax.Array  # [B] return of that episode (0 where none ended)
    episode_length: jax.Array  # [B] length of that episode (0 where none ended)


#: time-major batch of transitions, every field shaped ``[T, B, ...]``
Trajectory = Transition


class Agent(NamedTuple):
    """What ``make_agent(config, env, env_params)`` returns for every algorithm.

    ``init(key) -> State``; ``update(State) -> (State, Metrics)``, jittable when the env is a JAX port;
    ``act(State, obs) -> action``, the greedy (deterministic) policy, observation normalisation included,
    used for evaluation; ``env_steps_per_update`` env steps each ``update`` consumes per seed;
    ``wrap_envs(venv) -> venv``, what the agent puts around its training envs before
    ``EpisodeStatistics`` (VPG/TRPO/PPO: one-hot state indices), so that envs restarted outside
    ``init`` (a resumed gymnasium run) hand it observations of the same shape.
    """

    init: Callable[[jax.Array], Any]
    update: Callable[[Any], tuple[Any, Any]]
    act: Callable[[Any, jax.Array], jax.Array]
    env_steps_per_update: int
    num_updates: int
    wrap_envs: Callable[[Any], Any] = lambda venv: venv  # noqa: E731 (DQN, Q-learning: the envs as they are)


def scan_train(agent: Agent):
    """A pure ``train(key) -> (State, Metrics [num_updates])``: ``init``, then every update in one
    ``lax.scan`` (every algorithm's ``make_train``)."""

    def train(key):
        return jax.lax.scan(lambda s, _: agent.update(s), agent.init(key), None, agent.num_updates)

    return train


class EpisodeMetrics(NamedTuple):
    """The episodes that finished during one update.

    An update in which no episode ended has no episode return: ``episode_return`` and
    ``episode_length`` are NaN there (``episodes == 0``), never 0, so that it cannot be mistaken for a
    return of 0. Average over updates with ``mean_episode_return`` (weighted by ``episodes``, NaN-free
    where some episode ended), or with NaN-aware reductions.
    """

    episode_return: jax.Array  # mean return of the episodes that ended (NaN where episodes == 0)
    episode_length: jax.Array  # mean length of the episodes that ended (NaN where episodes == 0)
    episodes: jax.Array  # how many ended (int)


def episode_metrics_from(done: jax.Array, episode_return: jax.Array, episode_length: jax.Array) -> EpisodeMetrics:
    """``EpisodeMetrics`` of the episodes flagged in ``done`` (any shape; ``episode_return`` and
    ``episode_length`` shaped alike, their values ignored where ``done`` is False)."""
    import jax.numpy as jnp

    n = done.sum()
    denom = jnp.maximum(n, 1)
    nan_if_none = lambda total: jnp.where(n > 0, total / denom, jnp.nan)  # noqa: E731
    return EpisodeMetrics(
        episode_return=nan_if_none(jnp.where(done, episode_return, 0).sum()),
        episode_length=nan_if_none(jnp.where(done, episode_length, 0).sum().astype(jnp.float32)),
        episodes=n,
    )


def episode_metrics(traj: Trajectory) -> EpisodeMetrics:
    """``EpisodeMetrics`` of the episodes that ended in a time-major trajectory ``[T, B]``."""
    return episode_metrics_from(traj.episode_done, traj.episode_return, traj.episode_length)


def mean_episode_return(episode: EpisodeMetrics, axis=-1) -> jax.Array:
    """Mean return over every episode that ended in the updates along ``axis``: each update's mean
    weighted by how many episodes it finished, updates that finished none left out. NaN where no
    episode ended at all."""
    import jax.numpy as jnp

    n = jnp.asarray(episode.episodes)
    total = jnp.where(n > 0, episode.episode_return * n, 0).sum(axis=axis)
    count = n.sum(axis=axis)
    return jnp.where(count > 0, total / jnp.maximum(count, 1), jnp.nan)
