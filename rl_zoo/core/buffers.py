"""Batches for learning: on-policy shuffled minibatches (and, below, the replay buffer)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


def flatten_time_batch(tree):
    """``[T, B, ...] -> [T * B, ...]`` for every leaf."""
    return jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), tree)


def shuffled_minibatches(key: jax.Array, batch, num_minibatches: int):
    """Permute a flat batch ``[N, ...]`` and split it into ``[num_minibatches, N / num_minibatches, ...]``.

    Every sample lands in exactly one minibatch (sampling without replacement, one epoch). ``N`` must
    divide by ``num_minibatches``: configs check this before anything compiles.
    """
    if num_minibatches == 1:  # a full-batch gradient does not depend on the order of the samples
        return jax.tree.map(lambda x: x[None], batch)
    n = jax.tree.leaves(batch)[0].shape[0]
    perm = jax.random.permutation(key, n)
    return jax.tree.map(lambda x: jnp.take(x, perm, axis=0).reshape((num_minibatches, -1) + x.shape[1:]), batch)


# ------------------------------------------------------------------------------------------------
# Replay buffer (Lin 1992; Mnih et al. 2015): a fixed-capacity circular store of transitions,
# as an optax-style ``(init, add, sample)`` triple of pure functions with its State beside them.
# ------------------------------------------------------------------------------------------------


class Experience(NamedTuple):
    """The part of a transition that off-policy learning replays. Fields ``[N, ...]``."""

    obs: jax.Array  # [N, *obs_shape] observation the action was taken in
    action: jax.Array  # [N, *act_shape]
    reward: jax.Array  # [N] float32
    next_obs: jax.Array  # [N, *obs_shape] observation reached, before any auto-reset (the final one)
    terminated: jax.Array  # [N] bool: the MDP ended, no bootstrap
    truncated: jax.Array  # [N] bool: the time limit cut the episode, bootstrap from Q(next_obs)


class ReplayBufferState(NamedTuple):
    """Storage ``[capacity, ...]`` per field plus the write cursor.

    Slots ``0 .. size - 1`` are filled: writing starts at slot 0 and wraps to 0 only once every slot
    holds a transition, so the filled slots are always a prefix of the storage.
    """

    obs: jax.Array  # [C, *obs_shape]
    action: jax.Array  # [C, *act_shape]
    reward: jax.Array  # [C]
    next_obs: jax.Array  # [C, *obs_shape]
    terminated: jax.Array  # [C] bool
    truncated: jax.Array  # [C] bool
    position: jax.Array  # int32 scalar: the slot the next transition is written to
    size: jax.Array  # int32 scalar: how many slots are filled (<= C)

    @property
    def capacity(self) -> int:
        return self.reward.shape[0]


def replay_buffer_init(capacity: int, obs: jax.Array, action: jax.Array) -> ReplayBufferState:
    """An empty buffer of ``capacity`` slots, shaped and typed after one (unbatched) example ``obs``
    and ``action`` (e.g. ``jnp.zeros(obs_space.shape)`` and ``jnp.zeros((), jnp.int32)``)."""
    if capacity < 1:
        raise ValueError(f"replay buffer capacity must be >= 1, got {capacity}")
    obs, action = jnp.asarray(obs), jnp.asarray(action)

    def zeros(x, dtype=None):
        return jnp.zeros((capacity,) + x.shape, dtype or x.dtype)

    return ReplayBufferState(
        obs=zeros(obs),
        action=zeros(action),
        reward=jnp.zeros((capacity,), jnp.float32),
        next_obs=zeros(obs),
        terminated=jnp.zeros((capacity,), bool),
        truncated=jnp.zeros((capacity,), bool),
        position=jnp.array(0, jnp.int32),
        size=jnp.array(0, jnp.int32),
    )


def replay_buffer_add(state: ReplayBufferState, batch) -> ReplayBufferState:
    """Write a batch ``[B, ...]`` of transitions (e.g. one step of ``B`` envs, or a flattened
    ``[T * B]`` trajectory) at the cursor, wrapping around and overwriting the oldest slots.

    ``batch`` is anything with fields ``obs, action, reward, next_obs, terminated, truncated``
    (an ``Experience`` or a ``rl_zoo.core.types.Transition``). ``B`` must not exceed the capacity
    (a larger batch would write the same slot twice in one scatter, in an unspecified order).
    """
    b = batch.reward.shape[0]
    if b > state.capacity:
        raise ValueError(f"cannot add {b} transitions at once to a replay buffer of capacity {state.capacity}")
    idx = (state.position + jnp.arange(b, dtype=jnp.int32)) % state.capacity  # [B]

    def write(store, x):
        return store.at[idx].set(jnp.asarray(x).astype(store.dtype), unique_indices=True)

    return ReplayBufferState(
        obs=write(state.obs, batch.obs),
        action=write(state.action, batch.action),
        reward=write(state.reward, batch.reward),
        next_obs=write(state.next_obs, batch.next_obs),
        terminated=write(state.terminated, batch.terminated),
        truncated=write(state.truncated, batch.truncated),
        position=(state.position + b) % state.capacity,
        size=jnp.minimum(state.size + b, state.capacity),
    )


def replay_buffer_end_episodes(state: ReplayBufferState, num_envs: int) -> ReplayBufferState:
    """Mark the newest transition of each of ``num_envs`` envs (the last ``num_envs`` slots written) as
    truncated: their episodes end there because the envs restart (a resumed run on host envs, whose
    state is not checkpointed), so an n-step sum stops there and bootstraps from the stored next_obs
    (a cut, not an MDP end: Pardo et al. 2018) instead of running on into the next episode. Terminated
    steps stay terminated; an empty buffer is unchanged."""
    k = jnp.arange(num_envs, dtype=jnp.int32)
    slots = (state.position - 1 - k) % state.capacity
    cut = (k < state.size) & ~state.terminated[slots]
    return state._replace(truncated=state.truncated.at[slots].set(state.truncated[slots] | cut))


def replay_buffer_sample(state: ReplayBufferState, key: jax.Array, batch_size: int) -> Experience:
    """``batch_size`` transitions drawn uniformly, with replacement, from the filled slots only
    (as in Mnih et al. 2015). Sampling an empty buffer returns slot 0's zeros: fill it first."""
    idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(state.size, 1))  # [batch_size]
    take = lambda x: jnp.take(x, idx, axis=0, mode="clip")  # noqa: E731
    return Experience(
        obs=take(state.obs),
        action=take(state.action),
        reward=take(state.reward),
        next_obs=take(state.next_obs),
        terminated=take(state.terminated),
        truncated=take(state.truncated),
    )


class NStepBatch(NamedTuple):
    """Transitions sampled for an n-step TD target: ``experience.reward`` is the discounted sum of the
    first ``m <= n`` rewards from ``experience.obs``, ``experience.next_obs`` / ``terminated`` /
    ``truncated`` are those of the m-th step, and ``discount`` is gamma^m. Fields ``[N, ...]``."""

    experience: Experience
    discount: jax.Array  # [N] gamma^m: what multiplies the bootstrap value (1 - terminated) V(next_obs)
    steps: jax.Array  # [N] int32 m: rewards summed (fewer than n where the episode or the stored data ended)


def replay_buffer_sample_n_step(
    state: ReplayBufferState, key: jax.Array, batch_size: int, n: int, gamma, stride: int = 1
) -> NStepBatch:
    """``batch_size`` start slots drawn as ``replay_buffer_sample`` draws them, each extended to an
    n-step transition (Sutton 1988; Mnih et al. 2016; Hessel et al. 2018, "Rainbow", eq. 2):

        R_t^(m) = sum_{k<m} gamma^k r_{t+k},   target y = R_t^(m) + gamma^m (1 - terminated_{t+m-1}) V(s_{t+m})

    The next steps of the same env are ``stride`` slots apart (``stride`` = num_envs: the buffer
    stores ``[T, B]`` rollouts flattened time-major). The sum stops after the first step that ends
    the episode (terminated: no bootstrap; truncated: bootstrap from its final observation), and
    before any slot not written after the start slot (the newest data, or the oldest being
    overwritten), so m = 1 .. n. ``n = 1`` gives ``replay_buffer_sample``'s transitions, gamma^1.
    """
    if n < 1:
        raise ValueError(f"n-step sampling needs n >= 1, got {n}")
    capacity = state.capacity
    idx = jax.random.randint(key, (batch_size,), 0, jnp.maximum(state.size, 1))  # [N] start slots
    offsets = jnp.arange(n, dtype=jnp.int32) * stride  # [n]
    slots = (idx[:, None] + offsets) % capacity  # [N, n]
    newest = (state.position - 1 - idx) % capacity  # [N] how many slots after the start hold newer data
    available = offsets[None, :] <= newest[:, None]  # [N, n]
    ended = state.terminated[slots] | state.truncated[slots]  # [N, n]
    ended = ended.astype(jnp.int32)
    ended_before = (jnp.cumsum(ended, axis=1) - ended) > 0  # an earlier step ended the episode
    include = available & ~ended_before  # [N, n], a prefix of each row, its first entry always True
    powers = jnp.asarray(gamma, jnp.float32) ** jnp.arange(n, dtype=jnp.float32)  # [n]
    reward = (state.reward[slots] * powers * include).sum(axis=1)  # [N]
    steps = include.sum(axis=1).astype(jnp.int32)  # [N] m
    last = jnp.take_along_axis(slots, (steps - 1)[:, None], axis=1)[:, 0]  # [N] slot of the m-th step
    take = lambda x, i: jnp.take(x, i, axis=0, mode="clip")  # noqa: E731
    experience = Experience(
        obs=take(state.obs, idx),
        action=take(state.action, idx),
        reward=reward,
        next_obs=take(state.next_obs, last),
        terminated=take(state.terminated, last),
        truncated=take(state.truncated, last),
    )
    return NStepBatch(experience, jnp.asarray(gamma, jnp.float32) ** steps.astype(jnp.float32), steps)
