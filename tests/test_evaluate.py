"""Greedy evaluation (`rl_zoo.core.evaluate`) and the env step it uses (`Environment.step_no_reset`)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from envs import EpisodeStatistics, spaces, vectorize
from rl_zoo.core.evaluate import evaluate


def _obs_dependent_policy(env, params):
    """A fixed, deterministic policy whose actions vary with the observation (varied episodes)."""
    space = env.action_space(params)
    obs_dim = int(np.prod(env.observation_space(params).shape)) or 1
    w = jax.random.normal(jax.random.key(1), (obs_dim, 1))

    def act(_, obs):
        h = jnp.sin(obs.reshape(obs.shape[0], -1).astype(jnp.float32) @ w * 3.0)[:, 0]  # [E] in [-1, 1]
        if isinstance(space, spaces.Discrete):
            return jnp.minimum(((h + 1) * 0.5 * space.n).astype(jnp.int32), space.n - 1)
        return jnp.broadcast_to(h[:, None] * space.high, (obs.shape[0],) + space.shape)

    return act


def _first_episode_returns(act, env, params, key, num_episodes, max_steps):
    """Reference: step the auto-resetting, statistics-keeping vector env and keep each env's first
    finished episode (the partial return for one still running after ``max_steps``)."""
    venv = EpisodeStatistics(vectorize(env, params, num_episodes))
    key_reset, key_steps = jax.random.split(key)
    obs, state = venv.reset(key_reset)
    returns = np.zeros(num_episodes, np.float32)
    finished = np.zeros(num_episodes, bool)
    step = jax.jit(lambda k, state, obs: venv.step(k, state, act(None, obs)))  # one compiled step, looped on the host
    for k in jax.random.split(key_steps, max_steps):
        obs, state, _, _, _, info = step(k, state, obs)
        newly = np.asarray(info["episode_done"]) & ~finished
        returns = np.where(newly, np.asarray(info["episode_return"]), returns)
        finished |= np.asarray(info["episode_done"])
    return np.where(finished, returns, np.asarray(state.episode_return))


@pytest.mark.parametrize("env_id, max_steps", [("CartPole-v1", None), ("Pendulum-v1", None), ("FrozenLake-v1", None), ("Taxi-v4", 60)])
def test_evaluate_returns_the_first_episodes_of_the_auto_resetting_env(env_id, max_steps):
    env, params = envs.make(env_id)
    act = _obs_dependent_policy(env, params)
    key = jax.random.key(3)
    steps = max_steps or int(params.max_steps_in_episode)
    got = jax.jit(lambda k: evaluate(act, None, env, params, k, 8, max_steps))(key)
    # the reference runs op by op, evaluate compiled: float sums may differ in the last bit
    np.testing.assert_allclose(np.asarray(got), _first_episode_returns(act, env, params, key, 8, steps), rtol=1e-6)


def test_evaluate_counts_the_partial_return_of_an_episode_cut_by_max_steps():
    env, params = envs.make("CartPole-v1")
    push_left = lambda _, obs: jnp.zeros(obs.shape[0], jnp.int32)  # noqa: E731 - falls after ~10 steps
    np.testing.assert_array_equal(np.asarray(evaluate(push_left, None, env, params, jax.random.key(0), 4, max_steps=5)), 5.0)
    full = np.asarray(evaluate(push_left, None, env, params, jax.random.key(0), 4))
    assert np.all((full > 5) & (full < 20))


@pytest.mark.parametrize("env_id, action_of", [("CartPole-v1", lambda i: 0), ("FrozenLake-v1", lambda i: i % 4)])
def test_step_no_reset_is_the_transition_step_takes_before_resetting(env_id, action_of):
    """Over 40 steps that end several episodes (CartPole pushed one way falls in about 10 steps; with alternating
    pushes it ended none, and a step_no_reset that reset passed)."""
    env, params = envs.make(env_id)
    _, state = env.reset(jax.random.key(0), params)
    ended = 0
    for i in range(40):
        key = jax.random.key(100 + i)
        action = jnp.asarray(action_of(i))
        _, state_r, reward_r, term_r, trunc_r, info_r = env.step(key, state, action, params)
        obs_n, state_n, reward_n, term_n, trunc_n, _ = env.step_no_reset(key, state, action, params)
        np.testing.assert_array_equal(obs_n, info_r["final_obs"])
        assert (float(reward_n), bool(term_n), bool(trunc_n)) == (float(reward_r), bool(term_r), bool(trunc_r))
        if not bool(term_r | trunc_r):
            jax.tree.map(np.testing.assert_array_equal, state_n, state_r)
        ended += int(bool(term_r | trunc_r))
        state = state_r
    assert ended >= 2


def test_a_gymnasium_evaluation_keeps_each_copys_first_episode():
    """The gymnasium vector env resets an ended copy by itself: a copy whose first episode ends early plays
    a second one while another copy is still in its first. Each copy counts its first episode (the JAX
    path's rule); a review's mutation that let a later episode overwrite it passed every test. Episodes 1
    and 3 (of the whole process) last 2 steps, the others 9; episode n pays n per step."""
    import gymnasium

    class Lengths(gymnasium.Env):
        resets = 0
        observation_space = gymnasium.spaces.Box(-1, 1, (1,), np.float32)
        action_space = gymnasium.spaces.Discrete(2)

        def reset(self, seed=None, options=None):
            super().reset(seed=seed)
            n = Lengths.resets = Lengths.resets + 1
            self.length, self.reward, self.t = (2 if n in (1, 3) else 9), float(n), 0
            return np.zeros(1, np.float32), {}

        def step(self, action):
            self.t += 1
            return np.zeros(1, np.float32), self.reward, self.t >= self.length, False, {}

    gymnasium.register("rl_zoo_test/Lengths-v0", entry_point=Lengths, max_episode_steps=50)
    try:
        env, params = envs.make("rl_zoo_test/Lengths-v0", backend="gymnasium")
        Lengths.resets = 0
        returns = evaluate(lambda s, obs: jnp.zeros(obs.shape[0], jnp.int32), None, env, params, jax.random.key(0), 2, 20)
        assert Lengths.resets >= 3  # copy 0 played its second episode (pays 3 a step) before copy 1 ended
        np.testing.assert_array_equal(returns, [2.0, 18.0])  # 2 steps x 1, 9 steps x 2
        Lengths.resets = 0  # cut at 5 steps: copy 1's first episode counts what it collected (5 steps x 2)
        returns = evaluate(lambda s, obs: jnp.zeros(obs.shape[0], jnp.int32), None, env, params, jax.random.key(0), 2, 5)
        np.testing.assert_array_equal(returns, [2.0, 10.0])
    finally:
        gymnasium.registry.pop("rl_zoo_test/Lengths-v0", None)


def test_episode_cap_is_the_time_limit_up_to_the_largest_evaluated_one():
    from rl_zoo.core.evaluate import MAX_EVAL_STEPS, UNLIMITED_EVAL_STEPS, episode_cap

    _, params = envs.make("CartPole-v1")
    assert episode_cap(params) == 500
    assert episode_cap(params.replace(max_steps_in_episode=MAX_EVAL_STEPS)) == MAX_EVAL_STEPS
    assert episode_cap(params.replace(max_steps_in_episode=MAX_EVAL_STEPS + 1)) == UNLIMITED_EVAL_STEPS


def test_evaluate_refuses_the_drivers_seed_batched_host_env_with_where_to_go():
    """``SeedBatchedEnv`` (the driver's gymnasium envs inside jit) says ``is_jax`` but cannot step without
    its auto-reset: evaluate said ``AttributeError: ... step_no_reset``."""
    from rl_zoo.host.batched_env import SeedBatchedEnv

    env, params = envs.make("CartPole-v1", backend="gymnasium")
    with pytest.raises(TypeError, match="not SeedBatchedEnv, .* rl_zoo.host.evaluation.evaluate_seeds"):
        evaluate(lambda s, obs: jnp.zeros(obs.shape[0], jnp.int32), None, SeedBatchedEnv(env), params, jax.random.key(0), 2)


def test_eval_key_by_hand():
    """Evaluation ``i`` of seed ``s``: ``fold_in(fold_in(key(s), 1), i)``, apart from the training's ``key(s)``."""
    from rl_zoo.core.evaluate import eval_key

    by_hand = jax.random.fold_in(jax.random.fold_in(jax.random.key(7), 1), 3)
    np.testing.assert_array_equal(jax.random.key_data(eval_key(7, 3)), jax.random.key_data(by_hand))
    keys = {tuple(np.asarray(jax.random.key_data(eval_key(7, i)))) for i in range(4)}
    assert len(keys | {tuple(np.asarray(jax.random.key_data(jax.random.key(7))))}) == 5


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_a_bad_episode_count_is_refused_before_anything_runs(bad):
    """num_episodes=2.5 failed inside JAX after compiling, 0 returned an empty array of returns."""
    env, params = envs.make("CartPole-v1")
    with pytest.raises(ValueError, match=r"evaluate: num_episodes = .* is invalid: a whole number of episodes, at least 1"):
        evaluate(lambda s, o: jnp.zeros((), jnp.int32), None, env, params, jax.random.key(0), bad)
