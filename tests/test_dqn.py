"""DQN / Double DQN: hand-worked TD targets (terminated vs truncated), Double DQN's select-with-online /
evaluate-with-target rule, the epsilon schedule, target updates, learning CartPole (k of n seeds vmapped
together, both variants), jit/vmap over hyperparameters, and the refusal of continuous action spaces."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
import learning
from rl_zoo.algos import dqn
from rl_zoo.config import ConfigError
from rl_zoo.core.buffers import Experience

# ----------------------------------------------------------------------------------------------
# TD targets, by hand
# ----------------------------------------------------------------------------------------------

# three transitions with reward 1 and gamma 0.9: an ordinary step, a terminal step, a time-limit cut
REWARD = jnp.array([1.0, 1.0, 1.0])
TERMINATED = jnp.array([False, True, False])
TRUNCATED = jnp.array([False, False, True])
Q_NEXT_TARGET = jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 0.0]])  # Q(s', .; theta^-)


def test_td_target_terminated_drops_bootstrap_truncated_keeps_it():
    y = dqn.q_learning_targets(REWARD, TERMINATED, Q_NEXT_TARGET, None, 0.9, double=False)
    # ordinary: 1 + 0.9 * max(1, 2) = 2.8; terminated: 1; truncated: 1 + 0.9 * max(5, 0) = 5.5
    np.testing.assert_allclose(y, [2.8, 1.0, 5.5], rtol=1e-6)


def test_dqn_loss_ignores_truncated_and_honours_terminated():
    """Through the real loss: flipping ``truncated`` changes nothing, flipping ``terminated`` does."""
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(hidden_size=8, gamma=0.9)
    net = dqn.make_network(cfg, env.action_space(params))
    obs_space = env.observation_space(params)
    theta = net.init(jax.random.key(0), jnp.zeros(4))
    theta_target = net.init(jax.random.key(1), jnp.zeros(4))
    obs = jax.random.normal(jax.random.key(2), (3, 4))
    next_obs = jax.random.normal(jax.random.key(3), (3, 4))
    base = Experience(obs, jnp.array([0, 1, 0]), REWARD, next_obs, jnp.zeros(3, bool), jnp.zeros(3, bool))

    def loss(batch):
        return dqn.dqn_loss(theta, theta_target, batch, net, obs_space, cfg)

    l0, info0 = loss(base)
    l_trunc, info_trunc = loss(base._replace(truncated=jnp.ones(3, bool)))
    np.testing.assert_allclose(l0, l_trunc)
    np.testing.assert_allclose(info0.target, info_trunc.target)
    # the target by hand: r + gamma max_a Q(next_obs, a; theta^-), and just r once terminated
    q_next = net.apply(theta_target, next_obs)
    np.testing.assert_allclose(info0.target, (1.0 + 0.9 * q_next.max(-1)).mean(), rtol=1e-5)
    _, info_term = loss(base._replace(terminated=jnp.ones(3, bool)))
    np.testing.assert_allclose(info_term.target, 1.0)
    # q_max is the mean over sampled states of max_a Q(s, a; theta) (the online network)
    np.testing.assert_allclose(info0.q_max, net.apply(theta, obs).max(-1).mean(), rtol=1e-5)


def test_huber_loss_by_hand_and_its_gradient_is_the_clipped_error():
    from rl_zoo.core.losses import huber_loss

    x = jnp.array([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0])
    # |x| <= 1: x^2 / 2; beyond: |x| - 1/2
    np.testing.assert_allclose(huber_loss(x), [2.5, 0.5, 0.125, 0.0, 0.125, 1.5])
    np.testing.assert_allclose(huber_loss(jnp.array([3.0, 1.5]), delta=2.0), [2 * (3 - 1), 1.125])
    # Mnih et al.'s error clipping: the gradient is the TD error clipped to [-1, 1]
    np.testing.assert_allclose(jax.grad(lambda v: huber_loss(v).sum())(x), [-1.0, -1.0, -0.5, 0.0, 0.5, 1.0])


def test_n_step_target_uses_the_per_sample_discount():
    # n-step rows (replay_buffer_sample_n_step): reward is already the m-step discounted sum, the bootstrap
    # is discounted by gamma^m: m = 2, 3, 1 with gamma 0.9 -> 0.81, 0.729, 0.9
    y = dqn.q_learning_targets(jnp.array([1.9, 2.71, 1.0]), TERMINATED, Q_NEXT_TARGET, None,
                               jnp.array([0.81, 0.729, 0.9]), double=False)
    # 1.9 + 0.81 * 2 = 3.52; terminated: 2.71; 1 + 0.9 * 5 = 5.5
    np.testing.assert_allclose(y, [3.52, 2.71, 5.5], rtol=1e-6)


def test_n_step_dqn_trains_on_n_step_targets(seed_offset):
    """n_step = 3 samples with ``replay_buffer_sample_n_step`` (stride num_envs); 1 keeps the plain sampler."""
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(total_timesteps=64, num_envs=2, train_frequency=8, gradient_steps=2, learning_starts=0,
                     batch_size=8, hidden_size=8, gamma=0.5, n_step=3)
    key = jax.random.key(seed_offset)
    buffer = jax.jit(dqn.make_train(cfg, env, params))(key)[0].buffer
    batch, discount = dqn.sample_batch(buffer, jax.random.fold_in(key, 1), cfg)
    assert batch.reward.shape == (8,) and set(np.asarray(discount).round(6).tolist()) <= {0.5, 0.25, 0.125}
    plain, none = dqn.sample_batch(buffer, jax.random.fold_in(key, 1), dataclasses.replace(cfg, n_step=1))
    assert none is None and np.all(np.isin(np.asarray(plain.reward), [1.0]))  # CartPole pays 1 a step
    # m-step sums of CartPole's rewards of 1: 1, 1.5 or 1.75, matching the discount gamma^m
    m = np.log(np.asarray(discount)) / np.log(0.5)
    np.testing.assert_allclose(np.asarray(batch.reward), (1 - 0.5**m) / (1 - 0.5), rtol=1e-6)
    with pytest.raises(ConfigError, match="n_step"):
        dataclasses.replace(cfg, n_step=0).validate()


def test_the_loss_gets_the_n_step_discount_and_each_envs_own_next_steps():
    """The n-step sampler's discount gamma^m and its stride (one env's next step is num_envs slots on)
    must reach the TD target: with gamma in its place, or windows across envs, the sampler's own
    test above still passes. Two envs, two steps (slot 2t + env): env 0 pays 1 then 2, env 1 pays 10
    then 20, both truncated at their second step; n_step 2, gamma 0.5. The four windows are equally
    likely; the mean target over 16,384 draws is their mean within 0.4 (about 5 standard errors)."""
    from rl_zoo.core.buffers import replay_buffer_add, replay_buffer_init

    env, p = envs.make("CartPole-v1")
    cfg = dqn.Config(num_envs=2, n_step=2, gamma=0.5, batch_size=16384, hidden_size=8, learning_rate=1e-9,
                     train_frequency=2, buffer_size=8, learning_starts=0, gradient_steps=1)
    state = dqn.make_agent(cfg, env, p).init(jax.random.key(0))
    obs = jnp.arange(16.0).reshape(4, 4) / 16
    nxt = obs + 30.0  # values far from 0: gamma^m against gamma shows well above the sampling noise
    exp = Experience(obs, jnp.zeros(4, jnp.int32), jnp.array([1.0, 10.0, 2.0, 20.0]), nxt,
                     jnp.zeros(4, bool), jnp.array([False, False, True, True]))
    state = state._replace(buffer=replay_buffer_add(replay_buffer_init(8, jnp.zeros(4), jnp.zeros((), jnp.int32)), exp),
                           gradient_step=jnp.array(0))
    net = dqn.make_network(cfg, env.action_space(p))
    v = np.asarray(net.apply(state.target_params, nxt).max(-1))  # V(next_obs) of each slot
    expected = np.mean([1 + 0.5 * 2 + 0.25 * v[2], 10 + 0.5 * 20 + 0.25 * v[3], 2 + 0.5 * v[2], 20 + 0.5 * v[3]])
    _, info = dqn.gradient_phase(state, net, env.observation_space(p), dqn.make_optimizer(cfg), cfg)
    np.testing.assert_allclose(float(info.target), expected, rtol=0, atol=0.4)


def test_a_warm_up_that_leaves_no_learning_update_is_refused():
    """Updates round down, warm-up updates up: learning_starts just below total_timesteps passed the
    check and the run finished with its initial weights."""
    with pytest.raises(ConfigError, match="learning_starts.*leaves no update that learns .1 update.s. of .* 1 of them warm-up"):
        dqn.Config(total_timesteps=100, num_envs=1, train_frequency=64, learning_starts=70).validate()
    dqn.Config(total_timesteps=128, num_envs=1, train_frequency=64, learning_starts=64).validate()  # the second update learns


def test_n_step_and_num_layers_beyond_what_can_run_are_refused_by_name():
    """n_step=2**31-1 compiled for 12 s and failed as "out of memory ... num_envs, num_steps and buffer_size", naming
    not n_step; num_layers=1,048,576 traced for minutes and was killed for memory before the memory check spoke."""
    with pytest.raises(ConfigError, match=r"'n_step' = 2147483647 is invalid: must be at most the steps of one env the "
                                          r"buffer holds \(buffer_size / num_envs = 1000 / 4 = 250\)"):
        dqn.Config(buffer_size=1000, num_envs=4, n_step=2**31 - 1).validate()
    dqn.Config(buffer_size=1000, num_envs=4, n_step=250).validate()
    with pytest.raises(ConfigError, match="'num_layers' = 101 is invalid: must be at most 100"):
        dqn.Config(num_layers=101).validate()
    dqn.Config(num_layers=100).validate()


@pytest.mark.parametrize("total, field", [(1, "--total-steps = 1|total_timesteps"), (256, "learning_starts"), (1000, "learning_starts")])
def test_the_budget_a_refusal_advises_passes_every_rule(total, field):
    """`--total-steps 1` on DQN's tuned CartPole config (updates of 256, learning_starts 1,000) said "raise it to 256
    or more", which was then refused as below learning_starts: the advice counts the warm-up now."""
    import re

    from rl_zoo.driver.spec import resolve_config

    with pytest.raises(ConfigError, match=field) as refused:
        resolve_config("dqn", "CartPole-v1", {"total_timesteps": total})
    advised = int(re.search(r"raise (?:it|total_timesteps) to ([\d,]+)", str(refused.value)).group(1).replace(",", ""))
    assert advised == 1024 and "learning_starts = 1,000 env steps of warm-up come first" in str(refused.value)
    resolve_config("dqn", "CartPole-v1", {"total_timesteps": advised})
    with pytest.raises(ConfigError):
        resolve_config("dqn", "CartPole-v1", {"total_timesteps": advised - 1})


def test_double_dqn_selects_with_online_and_evaluates_with_target():
    q_next_online = jnp.array([[1.0, 5.0], [3.0, 2.0]])  # online prefers a'=1 in row 0, a'=0 in row 1
    q_next_target = jnp.array([[10.0, 0.0], [4.0, 7.0]])  # target prefers the other action in each row
    np.testing.assert_allclose(dqn.bootstrap_value(q_next_target, q_next_online, double=True), [0.0, 4.0])
    np.testing.assert_allclose(dqn.bootstrap_value(q_next_target, q_next_online, double=False), [10.0, 7.0])
    y = dqn.q_learning_targets(jnp.array([1.0, 1.0]), jnp.array([False, True]), q_next_target, q_next_online, 0.5, double=True)
    np.testing.assert_allclose(y, [1.0 + 0.5 * 0.0, 1.0])


def test_double_dqn_loss_uses_online_argmax():
    """With theta^- = theta the two targets agree; with different networks Double DQN's target is
    Q(s', argmax_a Q(s', a; theta); theta^-) exactly."""
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(hidden_size=8, gamma=0.9, double=True)
    net = dqn.make_network(cfg, env.action_space(params))
    obs_space = env.observation_space(params)
    theta = net.init(jax.random.key(0), jnp.zeros(4))
    theta_target = net.init(jax.random.key(1), jnp.zeros(4))
    obs, next_obs = jax.random.normal(jax.random.key(2), (2, 16, 4))
    batch = Experience(obs, jnp.zeros(16, jnp.int32), jnp.zeros(16), next_obs, jnp.zeros(16, bool), jnp.zeros(16, bool))
    _, info = dqn.dqn_loss(theta, theta_target, batch, net, obs_space, cfg)
    a_star = net.apply(theta, next_obs).argmax(-1)
    expected = 0.9 * net.apply(theta_target, next_obs)[jnp.arange(16), a_star]
    np.testing.assert_allclose(info.target, expected.mean(), rtol=1e-5)
    _, info_same = dqn.dqn_loss(theta, theta, batch, net, obs_space, cfg)
    _, info_dqn = dqn.dqn_loss(theta, theta, batch, net, obs_space, dataclasses.replace(cfg, double=False))
    np.testing.assert_allclose(info_same.target, info_dqn.target, rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# Exploration and target updates
# ----------------------------------------------------------------------------------------------


def test_linear_epsilon_schedule():
    eps = [float(dqn.linear_epsilon(jnp.array(t), 1.0, 0.1, 100)) for t in (0, 50, 100, 1000)]
    np.testing.assert_allclose(eps, [1.0, 0.55, 0.1, 0.1], rtol=1e-6)


def test_a_zero_length_decay_plays_epsilon_end_from_the_start_and_gamma_0_is_allowed():
    """exploration_fraction=0 played DQN's whole first update (256 env steps on tuned CartPole) at epsilon_start,
    where Q-learning refused it; gamma=0 (y = r) was refused by DQN, allowed by Q-learning. Both now take both."""
    assert [float(dqn.linear_epsilon(jnp.array(t), 1.0, 0.1, 0)) for t in (0, 5)] == pytest.approx([0.1, 0.1])
    cfg = dqn.Config(total_timesteps=1000, train_frequency=10, learning_starts=0, exploration_fraction=0.0, epsilon_end=0.1)
    assert [float(dqn.epsilon_for_update(cfg, jnp.array(u))) for u in (0, 1, 99)] == pytest.approx([0.1, 0.1, 0.1])
    dqn.Config(gamma=0.0).validate()
    from rl_zoo.algos import q_learning as ql
    q = ql.Config(total_timesteps=1000, exploration_fraction=0.0, epsilon_start=1.0, epsilon_end=0.05)
    q.validate()
    assert [float(ql.epsilon_at(t, q)) for t in (0, 1, 999)] == pytest.approx([0.05, 0.05, 0.05])
    exp = dataclasses.replace(q, epsilon_schedule="exponential")
    assert float(ql.epsilon_at(0, exp)) == pytest.approx(0.05)


def test_epsilon_for_update_is_random_before_learning_starts():
    cfg = dqn.Config(total_timesteps=10_000, train_frequency=100, learning_starts=250, exploration_fraction=0.5,
                     epsilon_start=0.8, epsilon_end=0.0)
    assert cfg.num_warmup_updates == 2  # after updates 0 and 1 only 100 and 200 < 250 steps are stored
    eps = [float(dqn.epsilon_for_update(cfg, jnp.array(u))) for u in (0, 1, 2, 25, 60)]
    np.testing.assert_allclose(eps, [1.0, 1.0, 0.8 * (1 - 200 / 5000), 0.8 * 0.5, 0.0], rtol=1e-6)
    assert dqn.Config(learning_starts=0).num_warmup_updates == 0


def test_epsilon_greedy_explores_at_the_right_rate():
    q = jnp.tile(jnp.array([[0.0, 1.0, 0.0, 0.0]]), (20_000, 1))  # greedy action 1 of 4
    for eps in (0.0, 0.3, 1.0):
        a = np.asarray(dqn.epsilon_greedy(jax.random.key(0), q, jnp.asarray(eps)))
        # P(action != 1) = eps * 3/4
        assert abs((a != 1).mean() - 0.75 * eps) < 0.015, eps
        assert a.dtype == np.int32


def test_hard_and_polyak_target_updates():
    online, target = {"w": jnp.ones(3)}, {"w": jnp.zeros(3)}
    np.testing.assert_array_equal(dqn.update_target(online, target, jnp.array(9), 10, 1.0)["w"], 0.0)
    np.testing.assert_array_equal(dqn.update_target(online, target, jnp.array(10), 10, 1.0)["w"], 1.0)
    np.testing.assert_allclose(dqn.update_target(online, target, jnp.array(7), 1, 0.25)["w"], 0.25)
    np.testing.assert_allclose(dqn.update_target(online, target, jnp.array(7), 2, 0.25)["w"], 0.0)


def test_target_network_copied_every_interval_gradient_steps(seed_offset):
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(total_timesteps=64, train_frequency=16, gradient_steps=3, target_update_interval=2,
                     learning_starts=0, batch_size=8, hidden_size=8, learning_rate=1e-2)
    agent = dqn.make_agent(cfg, env, params)
    state = agent.init(jax.random.key(seed_offset))
    update = jax.jit(agent.update)
    state, m = update(state)  # gradient steps 1, 2, 3: copied at 2, then one more step
    assert int(state.gradient_step) == 3 and bool(m.learning)
    diff = jax.tree.leaves(jax.tree.map(lambda a, b: jnp.abs(a - b).max(), state.params, state.target_params))
    assert max(float(d) for d in diff) > 0
    state, _ = update(state)  # steps 4, 5, 6: copied at 4 and 6, so target == online
    jax.tree.map(np.testing.assert_array_equal, state.params, state.target_params)


def test_no_gradient_steps_before_learning_starts(seed_offset):
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(total_timesteps=200, train_frequency=10, gradient_steps=2, learning_starts=35, hidden_size=8, batch_size=4)
    agent = dqn.make_agent(cfg, env, params)
    _, metrics = jax.jit(dqn.make_train(cfg, env, params))(jax.random.key(seed_offset))
    learning = np.asarray(metrics.learning)
    # after updates 0, 1, 2 only 10, 20, 30 < 35 transitions are stored; from update 3 on, 40 >= 35
    np.testing.assert_array_equal(learning, np.arange(agent.num_updates) >= 3)
    np.testing.assert_array_equal(np.asarray(metrics.epsilon)[:3], 1.0)
    assert np.all(np.asarray(metrics.loss)[:3] == 0.0) and np.all(np.asarray(metrics.loss)[3:] > 0.0)



@pytest.mark.parametrize("double", [False, True])
def test_dqn_trains_under_jax_enable_x64(double, seed_offset):
    """Under JAX_ENABLE_X64 the gradient phase's losses came out float64 beside the warm-up's float32 zeros:
    ``lax.cond`` refused the two branches (a TypeError traceback from `rl-zoo train`, ports and adapter alike)."""
    env, params = envs.make("CartPole-v1")
    cfg = dqn.Config(total_timesteps=200, train_frequency=10, gradient_steps=2, learning_starts=35, hidden_size=8, batch_size=4,
                     double=double)
    with jax.enable_x64(True):
        _, metrics = jax.jit(dqn.make_train(cfg, env, params))(jax.random.key(seed_offset))
    loss = np.asarray(metrics.loss)
    assert loss.dtype == np.float32 and np.all(loss[:3] == 0.0) and np.all(np.isfinite(loss[3:])) and np.all(loss[3:] > 0.0)

# ----------------------------------------------------------------------------------------------
# Learning, jit / vmap, gymnasium, refusal
# ----------------------------------------------------------------------------------------------

CARTPOLE = dqn.Config(total_timesteps=30_000, learning_rate=1e-3, batch_size=64, buffer_size=30_000, learning_starts=1_000,
                      train_frequency=16, gradient_steps=8, target_update_interval=100, exploration_fraction=0.2,
                      epsilon_end=0.05, hidden_size=64)


# 30k env steps (1875 updates of 16 steps). Measured over seeds 100-115 vmapped together
# (python tests/learning.py test_dqn DQN_LEARNING 100 116, and DOUBLE_DQN_LEARNING), greedy return (10
# episodes) sorted: DQN 98 109 126 133 138 139 147 179 189 214 230 294 500 500 500 500; Double DQN 49 103
# 110 112 119 119 121 122 128 143 147 174 183 184 314 500. DQN on CartPole oscillates; an untrained greedy
# policy scores ~10. (The training return of the last 20 updates, 320 steps, is NaN for the seeds that
# balance the pole: no episode ends; it is not asserted.) Asserted, of 8 seeds vmapped together: at least
# 5 reach a greedy return of 40, at least 7 keep the final value estimate between 10 and 110. The final
# q_max (mean over sampled states of max_a Q, last update) measured over seeds 100-195 (python
# tests/learning.py test_dqn DQN_LEARNING 100 132, then 132 196, and the same for DOUBLE_DQN_LEARNING; 2026-12-01,
# jax 0.10.2, 1 CPU device, 2-core Intel Xeon VM): DQN min 51.7, 5th percentile 60.6, median 69.6, 95th
# percentile 83.3, max 89.5; Double DQN min 54.0, 5th percentile 59.0, median 68.1, 95th percentile 79.9, max
# 99.5 (one seed of 96; the next 85.6). The greedy returns of those 96 seeds: DQN 3 below 40 (23.6 29.4 47.1 ...),
# Double DQN 2 (15.6 29.7 71.4 ...).
DQN_LEARNING = learning.Setting("dqn", "CartPole-v1", CARTPOLE, tail=20)
DOUBLE_DQN_LEARNING = learning.Setting("double-dqn", "CartPole-v1", dataclasses.replace(CARTPOLE, double=True), tail=20)


def measure_extra(scores):
    """What ``python tests/learning.py test_dqn ...`` prints beyond the returns: the final value estimates."""
    print(f"  final q_max sorted: {' '.join(f'{v:.1f}' for v in np.sort(scores.metrics.q_max[:, -1]))}")


@pytest.mark.parametrize("setting", [DQN_LEARNING, DOUBLE_DQN_LEARNING], ids=["dqn", "double-dqn"])
def test_learns_cartpole_vmapped_over_seeds(setting, seed_offset):
    scores = learning.run(setting, learning.seeds(seed_offset, 8))
    metrics = scores.metrics
    assert metrics.loss.shape == (8, CARTPOLE.num_updates) and np.all(np.isfinite(metrics.loss))
    assert not np.allclose(metrics.loss[0], metrics.loss[1])  # the seeds differ
    # 3 of 96 DQN seeds (2 of 96 Double DQN) ended below 40 (see above): at least 6 of 8 would fail about
    # once in 600 runs (binomial, p = 0.031); at least 5 of 8, once in 15,000
    assert learning.count(scores.greedy, 40.0) >= 5, scores.greedy
    # value estimates stay bounded by the discounted return of a perfect episode, 1 / (1 - gamma) = 100
    q_max = metrics.q_max[:, -1]
    assert int(np.sum((q_max > 10.0) & (q_max < 110.0))) >= 7, q_max


@pytest.mark.slow  # 5 s; test_sweep traces every float field of every algorithm
def test_make_train_vmaps_over_float_hyperparameters(seed_offset):
    cfg = dataclasses.replace(CARTPOLE, total_timesteps=640, learning_starts=64, hidden_size=16, batch_size=16,
                              target_update_interval=4)
    env, params = envs.make("CartPole-v1")

    def train(lr, tau, fraction):
        return dqn.make_train(dataclasses.replace(cfg, learning_rate=lr, tau=tau, exploration_fraction=fraction), env, params)(
            jax.random.key(seed_offset))

    values = (jnp.array([1e-4, 1e-2]), jnp.array([1.0, 0.1]), jnp.array([0.1, 0.9]))
    state, metrics = jax.jit(jax.vmap(train))(*values)
    assert metrics.loss.shape == (2, cfg.num_updates)
    # half way (env step 320): fraction 0.1 has decayed to the end; 0.9 is at 1 - 0.95 * 320 / 576
    eps = np.asarray(metrics.epsilon)[:, cfg.num_updates // 2]
    np.testing.assert_allclose(eps, [cfg.epsilon_end, 1.0 - 0.95 * 320 / 576], rtol=1e-5)
    # each member matches its own unvmapped run: the same computation, batched or not, so equal to float
    # rounding; compared over the 4 warm-up updates and the first 2 that learn (16 gradient steps: the
    # learning rate from step 2, tau's Polyak target from step 5, the epsilon schedule in their rollouts).
    # Later updates are not compared: training amplifies a last-bit difference (another CPU or XLA
    # version vectorises the batched program differently) into another trajectory.
    single = jax.jit(train)(*(v[1] for v in values))[1]
    early = cfg.num_warmup_updates + 2
    assert np.all(np.asarray(single.loss)[cfg.num_warmup_updates:early] > 0)  # the compared updates did learn
    np.testing.assert_allclose(np.asarray(metrics.loss)[1, :early], np.asarray(single.loss)[:early], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(metrics.q_max)[1, :early], np.asarray(single.q_max)[:early], rtol=1e-4, atol=1e-6)


def test_gymnasium_env_runs_eagerly(seed_offset):
    pytest.importorskip("envs.gymnasium_adapter")
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    cfg = dataclasses.replace(CARTPOLE, total_timesteps=64, num_envs=2, learning_starts=16, hidden_size=16, batch_size=8)
    agent = dqn.make_agent(cfg, env, params)
    state = agent.init(jax.random.key(seed_offset))
    for _ in range(agent.num_updates):
        state, metrics = agent.update(state)
    assert int(state.buffer.size) == 64 and bool(metrics.learning)
    assert int(state.gradient_step) == cfg.gradient_steps * (agent.num_updates - cfg.num_warmup_updates)


def test_refuses_pendulum_with_a_clear_message():
    env, params = envs.make("Pendulum-v1")
    with pytest.raises(ValueError) as excinfo:
        dqn.check_env(env, params)
    msg = str(excinfo.value)
    assert "Pendulum-v1" in msg and "continuous" in msg and "discrete" in msg
    for alternative in ("ppo", "trpo", "vpg"):
        assert alternative in msg
    with pytest.raises(ValueError, match="continuous"):
        dqn.make_agent(dqn.Config(), env, params)


def test_config_validation_names_field_and_rule():
    with pytest.raises(ConfigError, match="buffer_size.*num_envs \\* train_frequency"):
        dqn.Config(buffer_size=10, train_frequency=16).validate()
    with pytest.raises(ConfigError, match="tau"):
        dqn.Config(tau=0.0).validate()
    with pytest.raises(ConfigError, match="epsilon_end"):
        dqn.Config(epsilon_end=1.5).validate()
    with pytest.raises(ConfigError, match="learning_starts"):
        dqn.Config(total_timesteps=1000, learning_starts=1000).validate()
    dqn.Config().validate()
    CARTPOLE.validate()


def test_tuned_hyperparameters_resolve_and_validate():
    from rl_zoo.train import resolve_config

    for algo in ("dqn", "double-dqn"):
        for env_id in ("CartPole-v1", "Acrobot-v1", "MountainCar-v0"):
            module, cfg = resolve_config(algo, env_id)
            assert module is dqn and cfg.double == (algo == "double-dqn")
            assert cfg.total_timesteps <= (50_000 if env_id == "CartPole-v1" else 200_000)


def test_a_run_shorter_than_one_target_update_says_its_target_network_never_moves(tmp_path):
    """With fewer learning gradient steps than target_update_interval the target network stayed at its random
    start for the whole run, without a word (the default interval, 1000, on an env without tuned settings)."""
    from rl_zoo.train import train

    config = dqn.Config(total_timesteps=4000, num_envs=1, train_frequency=4, learning_starts=1000)
    assert config.num_updates - config.num_warmup_updates == 751  # the 250th update stores step 1,000 and learns
    assert config.notes() == ["note: target_update_interval = 1,000 gradient steps, but this run takes 751: the target "
                              "network stays at its random initial weights and DQN bootstraps from it throughout "
                              "(--set target_update_interval=75, say, or a larger --total-steps)"]
    assert dqn.Config(total_timesteps=4000, num_envs=1, train_frequency=4, learning_starts=1000, gradient_steps=2).notes() == []
    assert dqn.Config(total_timesteps=4000, target_update_interval=751, num_envs=1, train_frequency=4, learning_starts=1000).notes() == []
    said = []
    train("dqn", "FrozenLake-v1", total_steps=512, overrides={"learning_starts": 0, "num_envs": 1, "train_frequency": 4},
          num_evals=1, eval_episodes=1, out=tmp_path / "r", progress=False, log=said.append)
    assert "note: target_update_interval = 1,000 gradient steps, but this run takes 128" in said[0]


def test_a_field_the_config_does_not_read_is_noted():
    """Review: epsilon_start with exploration_fraction = 0 (epsilon_end from the first learning update) and a buffer
    smaller than a batch trained without a word, config.json recording them; a default value is not noted."""
    base = dict(total_timesteps=50_000, target_update_interval=10)
    assert dqn.Config(**base).notes() == [] and dqn.Config(**base, exploration_fraction=0).notes() == []
    assert dqn.Config(**base, exploration_fraction=0, epsilon_start=0.5).notes() == [
        "note: epsilon_start = 0.5 is not read: exploration_fraction = 0 plays epsilon_end from the first learning update "
        "(the warm-up before learning_starts plays uniformly at random)"]
    assert dqn.Config(**base, epsilon_start=0.5).notes() == []  # read by the schedule
    no_warmup = dqn.Config(**base, exploration_fraction=0, epsilon_start=0.5, learning_starts=100, num_envs=64, train_frequency=4)
    assert no_warmup.num_warmup_updates == 0 and no_warmup.notes() == [  # no warm-up to speak of
        "note: epsilon_start = 0.5 is not read: exploration_fraction = 0 plays epsilon_end from the first learning update"]
    assert dqn.Config(**base, buffer_size=300, batch_size=512).notes() == [
        "note: buffer_size = 300 holds fewer transitions than a batch (batch_size = 512): each batch repeats transitions "
        "(drawn with replacement)"]
