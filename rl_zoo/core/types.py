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
    used for evaluation; ``env_steps_per_update`` env steps each ``update`` consumes per seed.
    """

    init: Callable[[jax.Array], Any]
    update: Callable[[Any], tuple[Any, Any]]
    act: Callable[[Any, jax.Array], jax.Array]
    env_steps_per_update: int
    num_updates: int


class EpisodeMetrics(NamedTuple):
    """Returns of the episodes that finished during one update (mean is NaN-free: 0 where none ended)."""

    episode_return: jax.Array  # mean return of finished episodes
    episode_length: jax.Array  # mean length of finished episodes
    episodes: jax.Array  # how many finished


def episode_metrics(traj: Trajectory) -> EpisodeMetrics:
    import jax.numpy as jnp

    n = traj.episode_done.sum()
    denom = jnp.maximum(n, 1)
    return EpisodeMetrics(
        episode_return=(traj.episode_return * traj.episode_done).sum() / denom,
        episode_length=(traj.episode_length * traj.episode_done).sum() / denom,
        episodes=n,
    )
