"""Replay buffer (rl_zoo.core.buffers): wrap-around, uniform sampling of filled slots only,
terminated and truncated kept apart, and the same results eagerly and under jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl_zoo.core.buffers import (
    Experience,
    ReplayBufferState,
    replay_buffer_add,
    replay_buffer_init,
    replay_buffer_sample,
)


def _batch(start: int, b: int) -> Experience:
    """``b`` transitions numbered ``start .. start + b - 1``: every field encodes the number."""
    n = jnp.arange(start, start + b)
    return Experience(
        obs=jnp.stack([n, -n], axis=-1).astype(jnp.float32),  # [b, 2]
        action=n.astype(jnp.int32) % 3,
        reward=n.astype(jnp.float32),
        next_obs=jnp.stack([n + 0.5, -n - 0.5], axis=-1).astype(jnp.float32),
        terminated=(n % 2) == 0,
        truncated=(n % 3) == 0,
    )


def _empty(capacity: int) -> ReplayBufferState:
    return replay_buffer_init(capacity, jnp.zeros((2,), jnp.float32), jnp.zeros((), jnp.int32))


def test_init_shapes_and_dtypes():
    s = _empty(5)
    assert s.capacity == 5
    assert s.obs.shape == (5, 2) and s.next_obs.shape == (5, 2) and s.obs.dtype == jnp.float32
    assert s.action.shape == (5,) and s.action.dtype == jnp.int32
    assert s.terminated.dtype == jnp.bool_ and s.truncated.dtype == jnp.bool_
    assert int(s.size) == 0 and int(s.position) == 0
    with pytest.raises(ValueError, match="capacity"):
        _empty(0)


def test_add_fills_then_wraps_around_overwriting_oldest():
    s = _empty(5)
    s = replay_buffer_add(s, _batch(0, 3))  # slots 0..2
    assert int(s.size) == 3 and int(s.position) == 3
    np.testing.assert_array_equal(s.reward, [0, 1, 2, 0, 0])
    s = replay_buffer_add(s, _batch(3, 4))  # 3, 4 -> slots 3, 4; 5, 6 wrap to slots 0, 1
    assert int(s.size) == 5 and int(s.position) == 2
    np.testing.assert_array_equal(s.reward, [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(s.obs[:, 0], [5, 6, 2, 3, 4])
    np.testing.assert_array_equal(s.next_obs[:, 1], [-5.5, -6.5, -2.5, -3.5, -4.5])
    np.testing.assert_array_equal(s.action, np.array([5, 6, 2, 3, 4]) % 3)
    s = replay_buffer_add(s, _batch(7, 5))  # a whole capacity at once, starting mid-buffer
    assert int(s.size) == 5 and int(s.position) == 2
    np.testing.assert_array_equal(s.reward, [10, 11, 7, 8, 9])


def test_add_more_than_capacity_at_once_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        replay_buffer_add(_empty(3), _batch(0, 4))


def test_terminated_and_truncated_are_stored_apart():
    s = replay_buffer_add(_empty(8), _batch(0, 6))
    n = np.arange(6)
    np.testing.assert_array_equal(s.terminated[:6], n % 2 == 0)
    np.testing.assert_array_equal(s.truncated[:6], n % 3 == 0)
    # step 2 terminated only, step 3 truncated only: the flags differ, so neither overwrote the other
    assert bool(s.terminated[2]) and not bool(s.truncated[2])
    assert bool(s.truncated[3]) and not bool(s.terminated[3])


def test_sample_draws_only_filled_slots_and_keeps_transitions_whole():
    s = replay_buffer_add(_empty(100), _batch(0, 7))
    batch = replay_buffer_sample(s, jax.random.PRNGKey(0), 4096)
    r = np.asarray(batch.reward).astype(int)
    assert set(r) == set(range(7))  # every filled slot (rewards 0..6), none beyond
    # fields of one sample come from the same slot
    np.testing.assert_array_equal(batch.obs[:, 0], r)
    np.testing.assert_array_equal(batch.next_obs[:, 0], r + 0.5)
    np.testing.assert_array_equal(batch.action, r % 3)
    np.testing.assert_array_equal(batch.terminated, r % 2 == 0)
    np.testing.assert_array_equal(batch.truncated, r % 3 == 0)
    # roughly uniform: each of 7 slots ~ 4096 / 7 = 585 times
    counts = np.bincount(r, minlength=7)
    assert counts.min() > 450 and counts.max() < 720, counts


def test_sample_never_returns_unfilled_slots():
    # fill slots 0..2 with rewards 1..3: the empty slots hold reward 0, which must never come back
    s = _empty(50)
    s = replay_buffer_add(s, _batch(1, 3))
    batch = replay_buffer_sample(s, jax.random.PRNGKey(1), 2000)
    assert np.asarray(batch.reward).min() >= 1


def test_jit_matches_eager_and_scan_works():
    keys = jax.random.split(jax.random.PRNGKey(2), 6)

    def run(state):
        for i in range(6):
            state = replay_buffer_add(state, _batch(4 * i, 4))
        return state, replay_buffer_sample(state, keys[0], 16)

    eager = run(_empty(10))
    jitted = jax.jit(run)(_empty(10))
    jax.tree.map(np.testing.assert_array_equal, eager, jitted)

    # inside lax.scan, with the batch built from traced values
    def body(state, i):
        n = 4 * i + jnp.arange(4)
        b = Experience(
            obs=jnp.stack([n, -n], -1).astype(jnp.float32), action=(n % 3).astype(jnp.int32),
            reward=n.astype(jnp.float32), next_obs=jnp.stack([n + 0.5, -n - 0.5], -1).astype(jnp.float32),
            terminated=n % 2 == 0, truncated=n % 3 == 0,
        )
        return replay_buffer_add(state, b), None

    scanned, _ = jax.jit(lambda s: jax.lax.scan(body, s, jnp.arange(6)))(_empty(10))
    jax.tree.map(np.testing.assert_array_equal, eager[0], scanned)
    # 24 transitions into 10 slots: the last 10 (14..23) remain, cursor at 24 % 10
    assert sorted(np.asarray(scanned.reward).astype(int)) == list(range(14, 24))
    assert int(scanned.position) == 4 and int(scanned.size) == 10


def test_vmap_over_independent_buffers():
    states = jax.vmap(lambda _: _empty(4))(jnp.arange(3))
    states = jax.vmap(replay_buffer_add, in_axes=(0, None))(states, _batch(0, 2))
    samples = jax.vmap(replay_buffer_sample, in_axes=(0, 0, None))(states, jax.random.split(jax.random.PRNGKey(3), 3), 8)
    assert samples.obs.shape == (3, 8, 2)
    assert set(np.asarray(samples.reward).astype(int).ravel()) <= {0, 1}
