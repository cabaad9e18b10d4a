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
    replay_buffer_end_episodes,
    replay_buffer_init,
    replay_buffer_sample,
    replay_buffer_sample_n_step,
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
    states = jax.vmap(replay_buffer_add, in_axes=(0, None))(states, _batch(1, 2))  # rewards 1, 2: an empty slot's 0 would show
    samples = jax.vmap(replay_buffer_sample, in_axes=(0, 0, None))(states, jax.random.split(jax.random.PRNGKey(3), 3), 8)
    assert samples.obs.shape == (3, 8, 2)
    assert set(np.asarray(samples.reward).astype(int).ravel()) <= {1, 2}


# --- n-step transitions (replay_buffer_sample_n_step) ---------------------------------------------


def _steps(rewards, terminated=(), truncated=()) -> Experience:
    """Transitions t = 0, 1, ...: obs t, next_obs t + 0.5, the given rewards, episode ends at the given t."""
    t = jnp.arange(len(rewards), dtype=jnp.float32)
    return Experience(
        obs=jnp.stack([t, t], axis=-1), action=jnp.zeros(len(rewards), jnp.int32), reward=jnp.asarray(rewards, jnp.float32),
        next_obs=jnp.stack([t + 0.5, t + 0.5], axis=-1),
        terminated=jnp.isin(jnp.arange(len(rewards)), jnp.asarray(terminated, jnp.int32)),
        truncated=jnp.isin(jnp.arange(len(rewards)), jnp.asarray(truncated, jnp.int32)),
    )


def _by_start(batch) -> dict:
    """start obs -> (reward, next_obs, terminated, truncated, discount, steps) of every sampled row."""
    e = batch.experience
    rows = zip(np.asarray(e.obs[:, 0]), np.asarray(e.reward), np.asarray(e.next_obs[:, 0]), np.asarray(e.terminated),
               np.asarray(e.truncated), np.asarray(batch.discount), np.asarray(batch.steps))
    return {float(o): (float(r), float(nx), bool(te), bool(tr), float(d), int(m)) for o, r, nx, te, tr, d, m in rows}


def test_n_step_sums_rewards_and_stops_at_episode_ends_and_newest_data():
    # 6 steps in a buffer of 8: rewards 1..6, step 2 terminated, step 4 truncated; gamma 0.5, n = 3
    buf = replay_buffer_add(_empty(8), _steps([1, 2, 3, 4, 5, 6], terminated=[2], truncated=[4]))
    got = _by_start(replay_buffer_sample_n_step(buf, jax.random.key(0), 256, 3, 0.5))
    assert sorted(got) == [0, 1, 2, 3, 4, 5]
    assert got[0] == (1 + 0.5 * 2 + 0.25 * 3, 2.5, True, False, 0.125, 3)  # ends with the terminated step 2
    assert got[1] == (2 + 0.5 * 3, 2.5, True, False, 0.25, 2)  # step 3 is another episode
    assert got[2] == (3, 2.5, True, False, 0.5, 1)
    assert got[3] == (4 + 0.5 * 5, 4.5, False, True, 0.25, 2)  # truncated at 4: bootstrap from its final obs
    assert got[4] == (5, 4.5, False, True, 0.5, 1)
    assert got[5] == (6, 5.5, False, False, 0.5, 1)  # slots 6 and 7 hold no data yet


def test_n_step_follows_the_wrap_and_stops_at_the_oldest_slot():
    # capacity 4, 6 steps of rewards 1..6 and no episode end: slots hold steps 4, 5, 2, 3; the cursor is at 2
    buf = replay_buffer_add(replay_buffer_add(_empty(4), _steps([1, 2, 3, 4])), _steps([5, 6])._replace(
        obs=jnp.array([[4.0, 4.0], [5.0, 5.0]]), next_obs=jnp.array([[4.5, 4.5], [5.5, 5.5]])))
    got = _by_start(replay_buffer_sample_n_step(buf, jax.random.key(1), 256, 3, 0.5))
    assert got[2] == (3 + 0.5 * 4 + 0.25 * 5, 4.5, False, False, 0.125, 3)  # slots 2, 3, 0 (wrapped)
    assert got[3] == (4 + 0.5 * 5 + 0.25 * 6, 5.5, False, False, 0.125, 3)
    assert got[4] == (5 + 0.5 * 6, 5.5, False, False, 0.25, 2)  # slot 2 after it holds the older step 2
    assert got[5] == (6, 5.5, False, False, 0.5, 1)


def test_n_step_with_several_envs_steps_by_the_env_count():
    # 2 envs, 3 steps, flattened time-major: slot 2t + b. env 0 rewards 1, 2, 3; env 1 rewards 10, 20, 30
    exp = _steps([1, 10, 2, 20, 3, 30])
    buf = replay_buffer_add(_empty(8), exp._replace(obs=jnp.arange(6.0)[:, None].repeat(2, 1)))
    got = _by_start(replay_buffer_sample_n_step(buf, jax.random.key(2), 256, 2, 0.5, stride=2))
    assert got[0][0] == 1 + 0.5 * 2 and got[1][0] == 10 + 0.5 * 20 and got[3][0] == 20 + 0.5 * 30
    assert got[4][0] == 3 and got[4][5] == 1 and got[5][0] == 30  # their next step is not stored yet


def test_ending_the_episodes_stops_n_step_sums_at_the_restart():
    """Host envs restart on resume: the newest step of each env ends its episode (truncated: bootstrap
    from its next_obs), so a window from the old episode does not run into the new one. 2 envs, two
    steps before the restart (env 0 rewards 1, 2; env 1 10, 20; env 1's last step terminated), two after."""
    before = _steps([1, 10, 2, 20], terminated=[3])
    buf = replay_buffer_end_episodes(replay_buffer_add(_empty(8), before), num_envs=2)
    assert np.asarray(buf.truncated[:4]).tolist() == [False, False, True, False]  # env 1's terminated step stays terminated
    after = _steps([100, 1000, 200, 2000])._replace(obs=jnp.arange(4.0, 8.0)[:, None].repeat(2, 1))
    buf = replay_buffer_add(buf, after)
    got = _by_start(replay_buffer_sample_n_step(buf, jax.random.key(4), 256, 2, 0.5, stride=2))
    assert got[0] == (1 + 0.5 * 2, 2.5, False, True, 0.25, 2)  # env 0's old episode, ended at the restart
    assert got[2] == (2, 2.5, False, True, 0.5, 1)  # not 2 + 0.5 * 100
    assert got[3] == (20, 3.5, True, False, 0.5, 1)
    assert got[4] == (100 + 0.5 * 200, 2.5, False, False, 0.25, 2)  # the new episode runs on (next_obs of its second step)
    assert replay_buffer_end_episodes(_empty(8), 2).truncated.sum() == 0  # nothing written: nothing to end


def test_one_step_n_step_sample_is_the_plain_sample():
    buf = replay_buffer_add(_empty(16), _batch(0, 10))
    plain = replay_buffer_sample(buf, jax.random.key(3), 32)
    one = replay_buffer_sample_n_step(buf, jax.random.key(3), 32, 1, 0.9)
    jax.tree.map(np.testing.assert_array_equal, one.experience, plain)
    np.testing.assert_allclose(np.asarray(one.discount), 0.9)
    with pytest.raises(ValueError, match="n >= 1"):
        replay_buffer_sample_n_step(buf, jax.random.key(3), 32, 0, 0.9)
