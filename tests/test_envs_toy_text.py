"""Parity of the toy-text ports with gymnasium: transition tables bit for bit, trajectories step for
step on the deterministic variants (time-limit truncation included), initial states, spaces."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs.toy_text.cliff_walking import CliffWalking
from envs.toy_text.frozen_lake import FrozenLake, generate_random_map
from envs.toy_text.taxi import Taxi, decode

CUSTOM_MAP = ["SFFHF", "FHFFF", "FFHFG"]  # non-square, goal not in the corner

# (gymnasium id, gymnasium kwargs, our id, our kwargs)
CASES = [
    ("FrozenLake-v1", {}, "FrozenLake-v1", {}),
    ("FrozenLake-v1", {"is_slippery": False}, "FrozenLake-v1", {"is_slippery": False}),
    ("FrozenLake8x8-v1", {}, "FrozenLake8x8-v1", {}),
    ("FrozenLake8x8-v1", {"is_slippery": False}, "FrozenLake8x8-v1", {"is_slippery": False}),
    ("FrozenLake-v1", {"desc": CUSTOM_MAP}, "FrozenLake-v1", {"desc": CUSTOM_MAP}),
    ("FrozenLake-v1", {"desc": CUSTOM_MAP, "is_slippery": False}, "FrozenLake-v1", {"desc": CUSTOM_MAP, "is_slippery": False}),
    (
        "FrozenLake-v1",
        {"success_rate": 0.75, "reward_schedule": (5, -1, 0.5)},
        "FrozenLake-v1",
        {"success_rate": 0.75, "reward_schedule": (5, -1, 0.5)},
    ),
    ("FrozenLake-v1", {"success_rate": 1.0}, "FrozenLake-v1", {"success_rate": 1.0}),  # zero-probability outcomes kept
    ("CliffWalking-v1", {}, "CliffWalking-v1", {}),
    ("CliffWalkingSlippery-v1", {}, "CliffWalking-v1", {"is_slippery": True}),
    ("Taxi-v4", {}, "Taxi-v4", {}),
    ("Taxi-v4", {"is_rainy": True}, "Taxi-v4", {"is_rainy": True}),
    ("Taxi-v4", {"is_rainy": True, "rainy_probability": 0.5}, "Taxi-v4", {"is_rainy": True, "rainy_probability": 0.5}),
]
IDS = [f"{g}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for g, kw, _, _ in CASES]


def gym_P(genv) -> dict:
    return {
        s: {a: [(float(p), int(s2), float(r), bool(t)) for p, s2, r, t in genv.P[s][a]] for a in genv.P[s]}
        for s in genv.P
    }


@pytest.mark.parametrize("gym_id,gym_kw,our_id,our_kw", CASES, ids=IDS)
def test_transition_table_equals_gymnasium(gym_id, gym_kw, our_id, our_kw):
    genv = gym.make(gym_id, **gym_kw).unwrapped
    env, params = envs.make(our_id, **our_kw)
    # the float64 table equals gymnasium's P exactly: probabilities, next states, rewards, flags, order
    assert env.table.to_lists() == gym_P(genv)
    np.testing.assert_array_equal(env.initial_state_distribution(), genv.initial_state_distrib)
    # params hold its float32 / int32 cast
    t = env.table
    np.testing.assert_array_equal(np.asarray(params.probs), t.probs.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(params.next_state), t.next_state)
    np.testing.assert_array_equal(np.asarray(params.reward), t.reward.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(params.terminated), t.terminated)
    # padding has probability zero
    K = t.probs.shape[2]
    pad = np.arange(K)[None, None, :] >= t.num_outcomes[:, :, None]
    assert np.all(t.probs[pad] == 0.0)


@pytest.mark.parametrize("gym_id,gym_kw,our_id,our_kw", CASES, ids=IDS)
def test_spaces_and_time_limit_match(gym_id, gym_kw, our_id, our_kw):
    genv = gym.make(gym_id, **gym_kw)
    env, params = envs.make(our_id, **our_kw)
    for ours, theirs in ((env.observation_space(params), genv.observation_space), (env.action_space(params), genv.action_space)):
        assert isinstance(ours, envs.spaces.Discrete)
        assert (ours.n, ours.start) == (int(theirs.n), int(theirs.start))
    limit = gym.spec(gym_id).max_episode_steps
    if limit is None:  # CliffWalking: gymnasium registers no time limit
        assert params.max_steps_in_episode >= 2**31 - 1
    else:
        assert params.max_steps_in_episode == limit


def test_registered_time_limits_are_gymnasiums():
    assert gym.spec("FrozenLake-v1").max_episode_steps == envs.make("FrozenLake-v1")[1].max_steps_in_episode == 100
    assert gym.spec("FrozenLake8x8-v1").max_episode_steps == envs.make("FrozenLake8x8-v1")[1].max_steps_in_episode == 200
    assert gym.spec("Taxi-v4").max_episode_steps == envs.make("Taxi-v4")[1].max_steps_in_episode == 200
    assert gym.spec("CliffWalking-v1").max_episode_steps is None


@pytest.mark.parametrize("env_id, kwargs", [
    ("FrozenLake-v1", {"map_name": "8x8"}), ("FrozenLake8x8-v1", {"map_name": "4x4"}),
    ("FrozenLake8x8-v1", {"desc": ["SFH", "FFG"]}), ("FrozenLake-v1", {"desc": ["SFH", "FFG"]}),
])
def test_a_frozen_lake_keeps_the_time_limit_and_id_it_was_made_from(env_id, kwargs):
    """gymnasium's limit comes with the id's registration, not the map: the port's did follow the map."""
    env, params = envs.make(env_id, **kwargs)
    assert params.max_steps_in_episode == gym.make(env_id, **kwargs).spec.max_episode_steps == {"FrozenLake-v1": 100, "FrozenLake8x8-v1": 200}[env_id]
    assert env.id == env_id


def test_slippery_cliff_walking_is_a_port_as_gymnasium_registers_it():
    env, params = envs.make("CliffWalkingSlippery-v1")
    assert envs.backend_of("CliffWalkingSlippery-v1") == "jax" and env.is_slippery and env.id == "CliffWalkingSlippery-v1"
    np.testing.assert_array_equal(np.asarray(params.probs), np.asarray(envs.make("CliffWalking-v1", is_slippery=True)[1].probs))


def _run_parity(gym_env, env, params, actions, sync_reset: bool):
    """Step both with ``actions``; on every reset copy gymnasium's start state into ours when
    ``sync_reset`` (Taxi draws it at random), else check ours equals it."""
    step = jax.jit(env.step)
    obs_g, _ = gym_env.reset(seed=0)
    obs, state = env.reset(jax.random.key(0), params)
    if sync_reset:
        state = state.replace(s=jnp.int32(obs_g))
        obs = state.s
    assert int(obs) == obs_g
    episodes = truncations = 0
    for t, a in enumerate(actions):
        obs_g, r_g, term_g, trunc_g, _ = gym_env.step(int(a))
        obs, state, r, term, trunc, info = step(jax.random.key(t + 1), state, jnp.int32(a), params)
        assert int(info["final_obs"]) == obs_g, t
        assert float(r) == r_g and bool(term) == term_g and bool(trunc) == trunc_g, (t, r, r_g, term, term_g, trunc, trunc_g)
        if term_g or trunc_g:
            episodes += 1
            truncations += trunc_g
            obs_g, _ = gym_env.reset()
            if sync_reset:
                state = state.replace(s=jnp.int32(obs_g))
                obs = state.s
            assert int(state.time) == 0
        else:
            assert int(state.time) == gym_env._elapsed_steps
        assert int(obs) == obs_g, t
    return episodes, truncations


@pytest.mark.parametrize(
    "gym_id,gym_kw,our_id,our_kw",
    [
        ("FrozenLake-v1", {"is_slippery": False}, "FrozenLake-v1", {"is_slippery": False}),
        ("FrozenLake8x8-v1", {"is_slippery": False}, "FrozenLake8x8-v1", {"is_slippery": False}),
        ("FrozenLake-v1", {"desc": CUSTOM_MAP, "is_slippery": False}, "FrozenLake-v1", {"desc": CUSTOM_MAP, "is_slippery": False}),
    ],
)
def test_deterministic_frozen_lake_trajectories_match(gym_id, gym_kw, our_id, our_kw):
    gym_env = gym.make(gym_id, **gym_kw)
    env, params = envs.make(our_id, **our_kw)
    limit = params.max_steps_in_episode
    rng = np.random.default_rng(1)
    # bump into the top-left corner past the time limit (truncation), then random walks
    actions = np.concatenate([np.full(limit + 5, 0), rng.integers(0, 4, 400), [1, 1, 2, 2, 1, 2]])
    episodes, truncations = _run_parity(gym_env, env, params, actions, sync_reset=False)
    assert truncations >= 1 and episodes > truncations


def test_cliff_walking_trajectory_matches():
    # gymnasium registers no time limit; give both the same one to exercise truncation
    gym_env = gym.make("CliffWalking-v1", max_episode_steps=30)
    env, params = envs.make("CliffWalking-v1", max_steps_in_episode=30)
    rng = np.random.default_rng(2)
    optimal = [0] + [1] * 11 + [2]  # up, right x 11, down: return -13
    actions = np.concatenate([optimal, [1, 1, 3], rng.integers(0, 4, 200), optimal])
    episodes, truncations = _run_parity(gym_env, env, params, actions, sync_reset=False)
    assert truncations >= 1 and episodes > truncations


def test_taxi_trajectory_matches():
    gym_env = gym.make("Taxi-v4")
    env, params = envs.make("Taxi-v4")
    rng = np.random.default_rng(3)
    actions = rng.integers(0, 6, 700)
    episodes, truncations = _run_parity(gym_env, env, params, actions, sync_reset=True)
    assert truncations >= 1


def test_taxi_delivery_terminates_with_plus_20():
    env, params = envs.make("Taxi-v4")
    # passenger waiting at Y (4, 0) with the taxi there, destination R (0, 0)
    s = jnp.int32(4 * 100 + 0 * 20 + 2 * 4 + 0)  # row 4, col 0, passenger at Y(2), destination R(0)
    _, state = env.reset(jax.random.key(0), params)
    state = state.replace(s=s)
    plan = [4, 1, 1, 1, 1, 5]  # pick up, north x 4, drop off
    total = 0.0
    for t, a in enumerate(plan):
        _, state, r, term, trunc, info = env.step(jax.random.key(t), state, jnp.int32(a), params)
        total += float(r)
    assert bool(term) and float(r) == 20.0 and total == 20.0 - 5
    assert decode(int(info["final_obs"])) == (0, 0, 0, 0)


def test_initial_states():
    key = jax.random.key(0)
    keys = jax.random.split(key, 4000)
    for env_id, kw in (("FrozenLake-v1", {}), ("FrozenLake8x8-v1", {}), ("CliffWalking-v1", {})):
        env, params = envs.make(env_id, **kw)
        obs, _ = jax.vmap(env.reset, in_axes=(0, None))(keys[:16], params)
        start = int(np.flatnonzero(env.initial_state_distribution())[0])
        assert np.all(np.asarray(obs) == start)
    env, params = envs.make("FrozenLake-v1", desc=["SFS", "FHF", "SFG"])  # several S: uniform over them
    obs, _ = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    counts = np.bincount(np.asarray(obs), minlength=9)
    assert set(np.flatnonzero(counts)) == {0, 2, 6}
    np.testing.assert_allclose(counts[[0, 2, 6]] / len(keys), 1 / 3, atol=0.03)
    # Taxi: uniform over the 300 states with the passenger on a pad that is not the destination
    env, params = envs.make("Taxi-v4")
    obs, _ = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    rows, cols, pas, dest = (np.asarray(x) for x in decode(np.asarray(obs)))
    assert np.all(pas < 4) and np.all(pas != dest)
    assert len(np.unique(np.asarray(obs))) > 280  # 4000 draws cover almost all 300 states
    valid = np.flatnonzero(gym.make("Taxi-v4").unwrapped.initial_state_distrib)
    assert set(np.unique(np.asarray(obs))) <= set(valid)


def test_slippery_sampling_frequencies_follow_the_table():
    env, params = envs.make("FrozenLake-v1", success_rate=0.6)
    n = 20000
    keys = jax.random.split(jax.random.key(1), n)
    s, a = 4, 2  # state 4 (row 1, col 0), action right
    ns, _, _, _ = jax.vmap(env.sample_transition, in_axes=(0, None, None, None))(keys, jnp.int32(s), jnp.int32(a), params)
    freq = np.bincount(np.asarray(ns), minlength=16) / n
    expected = np.zeros(16)
    for p, s2 in zip(env.table.probs[s, a], env.table.next_state[s, a]):
        expected[s2] += p
    np.testing.assert_allclose(freq, expected, atol=0.015)


def test_taxi_fickle_passengers_state_stays_int32_under_x64():
    """Its new destination was an int64 draw under JAX_ENABLE_X64: the state's int32 index became int64 at
    the first move with the passenger aboard, and training's scan refused the carry."""
    env, params = envs.make("Taxi-v4", fickle_passenger=True, fickle_probability=1.0)
    with jax.enable_x64(True):
        _, state = env.reset(jax.random.key(0), params)
        state = state.replace(s=jnp.int32(2 * 100 + 2 * 20 + 4 * 4 + 3))  # passenger aboard at (2, 2)
        _, moved, *_ = jax.jit(env.step)(jax.random.key(1), state, jnp.int32(0), params)  # south: destination changes
    assert moved.s.dtype == jnp.int32 and decode(int(moved.s))[3] != 3


def test_taxi_fickle_passenger():
    env, params = envs.make("Taxi-v4", fickle_passenger=True, fickle_probability=1.0)
    # passenger aboard at (2, 2), destination B(3); fickle_step drawn True at reset
    _, state = env.reset(jax.random.key(0), params)
    assert bool(state.fickle_step)
    state = state.replace(s=jnp.int32(2 * 100 + 2 * 20 + 4 * 4 + 3))
    _, s1, _, _, _, _ = env.step(jax.random.key(1), state, jnp.int32(4), params)  # illegal pickup: no move
    assert int(s1.s) == int(state.s) and bool(s1.fickle_step)
    dests = set()
    for k in range(40):
        obs, s2, r, _, _, _ = env.step(jax.random.key(k), s1, jnp.int32(0), params)  # south: moves
        row, col, pas, dest = decode(int(obs))
        assert (row, col, pas) == (3, 2, 4) and dest != 3 and float(r) == -1.0 and not bool(s2.fickle_step)
        dests.add(dest)
    assert dests == {0, 1, 2}
    # a move along the row changes it too (gymnasium: taxi_row != shadow_row or taxi_col != shadow_col)
    obs_e, s_e, *_ = env.step(jax.random.key(7), s1, jnp.int32(2), params)  # east: (2, 2) -> (2, 3), no wall there
    assert decode(int(obs_e))[:3] == (2, 3, 4) and decode(int(obs_e))[3] != 3 and not bool(s_e.fickle_step)
    # changes destination once only
    obs3, _, _, _, _, _ = env.step(jax.random.key(99), s2, jnp.int32(1), params)
    assert decode(int(obs3))[3] == decode(int(s2.s))[3]
    # gymnasium agrees on the mechanism (destination changes on the first move with the passenger aboard)
    g = gym.make("Taxi-v4", fickle_passenger=True, fickle_probability=1.0).unwrapped
    g.reset(seed=0)
    g.s = 2 * 100 + 2 * 20 + 4 * 4 + 3
    obs_g, *_ = g.step(0)
    assert decode(obs_g)[:3] == (3, 2, 4) and decode(obs_g)[3] != 3
    g.reset(seed=0)
    g.s = 2 * 100 + 2 * 20 + 4 * 4 + 3
    obs_g, *_ = g.step(2)  # east
    assert decode(obs_g)[:3] == (2, 3, 4) and decode(obs_g)[3] != 3
    # without fickleness the destination never changes
    env0, params0 = envs.make("Taxi-v4")
    _, st = env0.reset(jax.random.key(0), params0)
    st = st.replace(s=jnp.int32(2 * 100 + 2 * 20 + 4 * 4 + 3))
    assert decode(int(env0.step(jax.random.key(0), st, jnp.int32(0), params0)[0]))[3] == 3


def test_taxi_action_mask_matches_gymnasium():
    g = gym.make("Taxi-v4").unwrapped
    masks = jax.vmap(Taxi.action_mask)(jnp.arange(500))
    np.testing.assert_array_equal(np.asarray(masks), np.stack([g.action_mask(s) for s in range(500)]))


def test_out_of_range_actions_are_clipped():
    env, params = envs.make("FrozenLake-v1", is_slippery=False)
    _, state = env.reset(jax.random.key(0), params)
    state = state.replace(s=jnp.int32(4))  # row 1, col 0
    below = env.step(jax.random.key(0), state, jnp.int32(-1), params)[0]
    left = env.step(jax.random.key(0), state, jnp.int32(0), params)[0]
    above = env.step(jax.random.key(0), state, jnp.int32(7), params)[0]
    up = env.step(jax.random.key(0), state, jnp.int32(3), params)[0]
    assert int(below) == int(left) and int(above) == int(up)
    for env_id in ("FrozenLake-v1", "CliffWalking-v1", "Taxi-v4"):  # a Python int, as gymnasium users pass it
        env, params = envs.make(env_id)  # it was AttributeError: 'int' object has no attribute 'astype'
        _, state = env.reset(jax.random.key(0), params)
        py = env.step(jax.random.key(1), state, 1, params)[0]
        assert int(py) == int(env.step(jax.random.key(1), state, jnp.int32(1), params)[0])


def test_random_map_matches_gymnasium_generator():
    from gymnasium.envs.toy_text.frozen_lake import generate_random_map as gym_generate

    assert generate_random_map(6, 0.7, seed=3) == gym_generate(6, 0.7, seed=3)
    env = FrozenLake(desc=None, map_name=None)
    assert (env.nrow, env.ncol) == (8, 8) and env.desc[0][0] == "S" and env.desc[-1][-1] == "G"


def test_vmap_and_jit_over_envs_and_params():
    env, params = envs.make("FrozenLake-v1")
    venv = envs.EpisodeStatistics(envs.vectorize(env, params, 8))
    obs, state = jax.jit(venv.reset)(jax.random.key(0))
    assert obs.shape == (8,) and obs.dtype == jnp.int32

    def body(carry, key):
        obs, state = carry
        k1, k2 = jax.random.split(key)
        action = jax.random.randint(k1, (8,), 0, 4)
        obs, state, r, term, trunc, info = venv.step(k2, state, action)
        return (obs, state), (r, term, trunc, info["episode_done"])

    _, (r, term, trunc, done) = jax.jit(lambda c, k: jax.lax.scan(body, c, k))((obs, state), jax.random.split(jax.random.key(1), 300))
    assert r.shape == (300, 8) and bool(jnp.any(term)) and bool(jnp.all(done == (term | trunc)))
    # the table is a pytree leaf: params of two tables of the same shape vmap together
    _, p2 = envs.make("FrozenLake-v1", success_rate=1.0)
    both = jax.tree.map(lambda a, b: jnp.stack([jnp.asarray(a), jnp.asarray(b)]), params, p2)
    _, st = env.reset(jax.random.key(0), params)
    st = st.replace(s=jnp.int32(0))
    keys = jax.random.split(jax.random.key(2), 64)
    step = jax.vmap(jax.vmap(env.step, in_axes=(0, None, None, None)), in_axes=(None, None, None, 0))
    obs2 = step(keys, st, jnp.int32(2), both)[0]  # [2 params, 64 keys]: right from the start
    assert set(np.unique(np.asarray(obs2[1]))) == {1}  # success_rate 1: always right
    assert set(np.unique(np.asarray(obs2[0]))) == {0, 1, 4}  # slippery: down, right or up (stays)


def test_bad_constructor_arguments_are_refused():
    with pytest.raises(ValueError, match="map_name"):
        FrozenLake(map_name="5x5")
    with pytest.raises(ValueError, match="letters"):
        FrozenLake(desc=["SFX", "FFG"])
    with pytest.raises(ValueError, match="list of rows"):  # was read as a one-column map (gymnasium raises)
        FrozenLake(desc="SFFG")
    with pytest.raises(ValueError, match="got the row 101"):  # TypeError: 'int' object is not iterable
        FrozenLake(desc=["SFF", 101])
    with pytest.raises(ValueError, match=r"reward_schedule is \(goal, hole, frozen\): 3 finite numbers"):
        FrozenLake(reward_schedule=(1, 0))  # was IndexError from inside the table's construction
    # None made the hole's reward NaN; the others were float()'s, iter()'s and a comparison's bare errors
    for schedule in ((1, None, 0), ("a", "b", "c"), 1, (1, float("nan"), 0)):
        with pytest.raises(ValueError, match=r"reward_schedule is \(goal, hole, frozen\): 3 finite numbers"):
            FrozenLake(reward_schedule=schedule)
    # review: 1e40 passed as a finite float64 and was an inf reward in JAX's float32 (a NaN stop, "a smaller learning_rate")
    for schedule in ((1e40, 0, 0), (0, -3.5e38, 0)):
        with pytest.raises(ValueError, match=r"overflows float32, where JAX computes the rewards: give values at most 3.4e\+38"):
            FrozenLake(reward_schedule=schedule)
    with pytest.raises(ValueError, match=r"3 finite numbers"):  # an int past any float: was np.isfinite's TypeError
        FrozenLake(reward_schedule=(10**400, 0, 0))
    assert FrozenLake(reward_schedule=(3e38, 0, 0)).reward_schedule == (3e38, 0, 0)
    with pytest.raises(ValueError, match="success_rate must be a number in \\[0, 1\\], got None"):
        FrozenLake(success_rate=None)
    with pytest.raises(ValueError, match="rainy_probability"):
        Taxi(rainy_probability=1.5)
    with pytest.raises(ValueError, match="rainy_probability must be a number in \\[0, 1\\], got None"):
        Taxi(rainy_probability=None)
    assert CliffWalking(is_slippery=True).id == "CliffWalkingSlippery-v1"


def test_one_hot_state_numbers_from_the_space_start():
    from envs.spaces import Discrete
    from envs.wrappers import one_hot_state

    x = np.asarray(one_hot_state(Discrete(3, start=-1), jnp.array([-1, 1, 0])))
    np.testing.assert_array_equal(x, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert x.dtype == np.float32


def test_one_hot_observations_encode_reset_step_and_final_obs():
    """Non-slippery 4x4 FrozenLake (SFFF / FHFH / FFFH / HFFG), two copies from state 0. Copy 0 goes down
    three times: 4, 8, then the hole at 12 (terminated: final_obs one-hot at 12, the observation the
    reset's 0). Copy 1 goes right, right, down: 1, 2, 6, still on the lake."""
    from envs.wrappers import OneHotObservations

    env, params = envs.make("FrozenLake-v1", is_slippery=False)
    venv = OneHotObservations(envs.vectorize(env, params, 2))
    assert venv.observation_space.shape == (16,)
    obs, state = venv.reset(jax.random.key(0))
    assert obs.shape == (2, 16) and obs.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(obs).argmax(-1), [0, 0])
    assert float(obs.sum()) == 2.0
    down, right = 1, 2
    for t, (action, expect) in enumerate((([down, right], [4, 1]), ([down, right], [8, 2]), ([down, down], [0, 6]))):
        obs, state, reward, terminated, truncated, info = venv.step(jax.random.key(t), state, jnp.array(action))
        np.testing.assert_array_equal(np.asarray(obs).argmax(-1), expect)
        assert float(obs.sum()) == 2.0
    np.testing.assert_array_equal(np.asarray(terminated), [True, False])
    np.testing.assert_array_equal(np.asarray(info["final_obs"]).argmax(-1), [12, 6])
    assert info["final_obs"].shape == (2, 16)
