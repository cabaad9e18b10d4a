"""The on-policy core's wiring, each piece on a case where the wrong choice gives another number: the
reward scaler (no mean subtracted, reset at every episode end), the rollout's raw action and its
exact log-probability, the batch normalised with the rollout's statistics, PPO's learning-rate
schedule over optimiser steps, a new permutation per epoch, the initial gains, and the direction of
PPO's KL penalty. (A review's mutations of each passed every fast test before.)"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import envs
from rl_zoo.algos import ppo
from rl_zoo.core import losses, normalize, on_policy
from rl_zoo.core.sgd import minibatch_epochs


def test_reward_scaler_by_hand_resets_at_episode_ends_and_subtracts_no_mean():
    # gamma 0.5, rewards 1 everywhere, env 0's episode ends at t = 1 (truncated or not: episode_done)
    rewards = jnp.ones((3, 2))
    done = jnp.array([[False, False], [True, False], [False, False]])
    scaler = normalize.reward_scaler_update(normalize.reward_scaler_init(2), rewards, done, 0.5)
    # discounted returns: env 0: 1, 1.5 (then reset), 1; env 1: 1, 1.5, 1.75
    np.testing.assert_allclose(scaler.returns, [1.0, 1.75])
    seen = np.array([1.0, 1.0, 1.5, 1.5, 1.0, 1.75])
    np.testing.assert_allclose(scaler.stats.mean, seen.mean(), rtol=1e-4)
    np.testing.assert_allclose(scaler.stats.var, seen.var(), rtol=1e-3)
    # the reward is divided by the return's std, its mean not subtracted (SB3's VecNormalize)
    np.testing.assert_allclose(normalize.scale_reward(scaler, jnp.array([2.0])), [2.0 / np.sqrt(seen.var())], rtol=1e-3)


def test_observation_normalisation_by_hand_clips_at_ten_standard_deviations():
    """(x - mean) / sqrt(var + 1e-8), clipped to +-10 (SB3's VecNormalize clip_obs): mean 1, var 4."""
    stats = normalize.RunningMeanStd(jnp.array([1.0, 1.0, 1.0, 1.0]), jnp.array([4.0, 4.0, 4.0, 4.0]), jnp.array(10.0))
    got = normalize.normalize(stats, jnp.array([3.0, -5.0, 41.0, -39.0]))
    np.testing.assert_allclose(got, [1.0, -3.0, 10.0, -10.0], rtol=1e-6)  # 40 / 2 = 20 and -20 clip to +-10


def _pendulum_rollout(key: int, **env_overrides):
    """One rollout of an on-policy agent on Pendulum with a wide Gaussian (std e^1.5 = 4.5), non-trivial
    observation statistics and a reward scaler that has seen three steps: ``(config, networks, start,
    trajectory)`` (an unjitted init and update, ~5 s of CPU each time)."""
    env, env_params = envs.make("Pendulum-v1", **env_overrides)
    config = ppo.Config(num_envs=2, num_steps=16, init_log_std=1.5, normalize_obs=True, normalize_reward=True,
                        total_timesteps=64, num_minibatches=1)
    networks = on_policy.make_networks(config, env.action_space(env_params))
    agent = on_policy.build_agent(config, env, env_params, networks, learn_fn=lambda s, traj: (s, traj),
                                  make_state=lambda start: start)
    start = agent.init(jax.random.key(key))
    stats = normalize.RunningMeanStd(jnp.array([0.5, -0.2, 1.0]), jnp.array([0.3, 2.0, 4.0]), jnp.array(50.0))
    scaler = normalize.reward_scaler_update(start.reward_scaler, jnp.full((3, 2), -4.0), jnp.zeros((3, 2), bool), config.gamma)
    start = start._replace(obs_stats=stats, reward_scaler=scaler)
    _, traj = agent.update(start)
    return config, networks, start, traj


@pytest.fixture(scope="module")
def pendulum_rollout():
    """``_pendulum_rollout`` made once for the module's tests that read it."""
    return _pendulum_rollout(3)


def test_the_rollout_keeps_the_raw_sample_and_its_exact_log_probability(pendulum_rollout):
    config, networks, start, traj = pendulum_rollout
    assert float(jnp.abs(traj.action).max()) > 2.0  # outside Pendulum's [-2, 2]: the env got it clipped
    dist = networks.policy.apply(start.params.policy, on_policy.observe(config, start.obs_stats, traj.obs))
    np.testing.assert_allclose(traj.extras.log_prob, dist.log_prob(traj.action), rtol=1e-6, atol=1e-6)


def test_the_batch_is_normalised_with_the_rollouts_statistics(pendulum_rollout):
    # the ratio pi_theta / pi_old is exactly 1 before any step only if the batch's observations are
    # normalised as the rollout's were
    config, networks, start, traj = pendulum_rollout
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    new = networks.policy.apply(start.params.policy, batch.obs).log_prob(batch.action)
    np.testing.assert_allclose(new, batch.old.log_prob, rtol=1e-6, atol=1e-6)


def test_ppo_learning_rate_anneals_over_every_optimiser_step():
    # 4 updates x 2 epochs x 2 minibatches = 16 Adam steps; a constant gradient makes each Adam step
    # about the learning rate, which falls linearly: step k (0-based) about lr (1 - k / 16)
    config = ppo.Config(num_envs=1, num_steps=4, total_timesteps=16, update_epochs=2, num_minibatches=2, learning_rate=1e-2,
                        norm_adv=False)
    assert config.num_updates == 4
    optimizer = ppo.make_optimizer(config)
    params = jnp.zeros(())
    state = optimizer.init(params)
    steps = []
    for _ in range(16):
        updates, state = optimizer.update(jnp.ones(()), state, params)
        steps.append(-float(updates))
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(steps, 1e-2 * (1 - np.arange(16) / 16), rtol=1e-3)


@pytest.mark.parametrize("algo, max_grad_norm", [("ppo", 0.5), ("dqn", 10.0)])
def test_the_optimiser_clips_the_global_gradient_norm_before_adam(algo, max_grad_norm):
    """A gradient of norm 100 reaches Adam as one of norm max_grad_norm: Adam's first moment after one step is
    (1 - b1) = 0.1 times the clipped gradient. Removing the clip left every other test passing (Adam rescales
    each step to the learning rate, whatever the gradient's size)."""
    from rl_zoo import algos

    module, _ = algos.get(algo)
    config = module.Config(max_grad_norm=max_grad_norm)
    optimizer = module.make_optimizer(config)
    params, grad = {"w": jnp.zeros(4)}, {"w": jnp.array([60.0, 80.0, 0.0, 0.0])}  # |g| = 100
    _, state = optimizer.update(grad, optimizer.init(params), params)
    (adam,) = [x for x in jax.tree.leaves(state, is_leaf=lambda x: isinstance(x, optax.ScaleByAdamState))
               if isinstance(x, optax.ScaleByAdamState)]
    np.testing.assert_allclose(adam.mu["w"], 0.1 * np.array([60.0, 80.0, 0.0, 0.0]) * max_grad_norm / 100.0, rtol=1e-6)


def test_every_epoch_draws_a_new_permutation_of_the_batch():
    batch = {"i": jnp.arange(8)}
    grad_fn = lambda p, mb: (jnp.zeros(()), mb["i"])  # noqa: E731  (no step; the minibatch's indices as info)
    _, _, infos = minibatch_epochs(grad_fn, optax.sgd(0.0), jnp.zeros(()), optax.sgd(0.0).init(jnp.zeros(())), batch,
                                   jax.random.key(0), epochs=3, num_minibatches=2)
    order = np.asarray(infos).reshape(3, 8)  # [epochs, samples in the order seen]
    assert all(sorted(row) == list(range(8)) for row in order)  # each epoch uses every sample once
    assert len({tuple(row) for row in order}) == 3  # and in its own order


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_initial_gains_are_sqrt2_hidden_001_policy_head_1_value_head(env_id):
    # orthogonal initialisation (OpenAI baselines' gains, which CleanRL and SB3 keep; the small policy
    # head: Andrychowicz et al. 2021, sec. 3.2): every singular value of a kernel equals its gain
    env, env_params = envs.make(env_id)
    config = ppo.Config()
    networks = on_policy.make_networks(config, env.action_space(env_params))
    dummy = jnp.zeros(env.observation_space(env_params).shape)
    policy = networks.policy.init(jax.random.key(0), dummy)["params"]["MLP_0"]["kernels"]
    value = networks.value.init(jax.random.key(1), dummy)["params"]["MLP_0"]["kernels"]
    gains = lambda kernels: [np.linalg.svd(np.asarray(k), compute_uv=False) for k in kernels]  # noqa: E731
    for s in gains(policy)[:-1] + gains(value)[:-1]:
        np.testing.assert_allclose(s, np.sqrt(2.0), rtol=1e-4)
    np.testing.assert_allclose(gains(policy)[-1], 0.01, rtol=1e-4)
    np.testing.assert_allclose(gains(value)[-1], 1.0, rtol=1e-4)


def test_ppo_kl_penalty_is_kl_old_to_new(pendulum_rollout):
    # eq. 8: L^KLPEN = -E[r A - beta KL(pi_old || pi_theta)]; on a Gaussian policy whose std moved, the
    # two directions of the KL differ
    config, networks, start, traj = pendulum_rollout
    config = ppo.Config(**{**config.__dict__, "loss": "kl", "norm_adv": False})
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    moved = jax.tree.map(lambda x: x, start.params)
    moved.policy["params"]["log_std"] = moved.policy["params"]["log_std"] - 0.7
    beta = jnp.asarray(2.0)
    _, info = ppo.ppo_loss(moved, batch, beta, networks, config)
    new = networks.policy.apply(moved.policy, batch.obs)
    ratio = jnp.exp(new.log_prob(batch.action) - batch.old.log_prob)
    surrogate = (ratio * batch.advantages).mean()
    old_to_new, new_to_old = batch.old.dist.kl(new).mean(), new.kl(batch.old.dist).mean()
    assert abs(float(old_to_new - new_to_old)) > 0.1
    np.testing.assert_allclose(info.policy_loss, -surrogate + beta * old_to_new, rtol=1e-5)


# --- what crosses an episode's end (a review's mutations of each passed every test) ------------------
@pytest.fixture(scope="module")
def truncating_rollout():
    """``_pendulum_rollout`` with 5-step episodes: 16 steps cross three time-limit cuts (truncated, not terminated)."""
    return _pendulum_rollout(5, max_steps_in_episode=5)


def test_a_truncated_steps_next_obs_is_its_episodes_last_not_the_resets(truncating_rollout):
    """GAE and DQN bootstrap a cut episode from V or Q of its last observation (``info["final_obs"]``):
    the observation after the auto-reset (the next step's ``obs``) belongs to another episode."""
    _, _, _, traj = truncating_rollout
    done = np.asarray(traj.episode_done)[:-1]
    assert done.sum() == 6 and not np.asarray(traj.terminated).any()  # steps 5, 10, 15 of each env
    next_obs, obs = np.asarray(traj.next_obs)[:-1], np.asarray(traj.obs)[1:]
    np.testing.assert_array_equal(next_obs[~done], obs[~done])  # within an episode: the next step's observation
    assert (np.abs(next_obs[done] - obs[done]).max(axis=-1) > 1e-3).all()  # at a cut: not the reset's


def test_gae_bootstraps_from_the_normalised_next_observation_and_the_scaler_resets_at_cuts(truncating_rollout):
    """V(s') is taken on ``next_obs`` normalised as the rollout's observations were, and the reward
    scaler's running return restarts at every episode end, a time-limit cut included (``episode_done``)."""
    from rl_zoo.core.returns import gae

    config, networks, start, traj = truncating_rollout
    batch, scaler = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    want_scaler = normalize.reward_scaler_update(start.reward_scaler, traj.reward, traj.episode_done, config.gamma)
    np.testing.assert_allclose(scaler.returns, want_scaler.returns, rtol=1e-6)
    next_values = networks.value.apply(start.params.value, normalize.normalize(start.obs_stats, traj.next_obs))
    advantages, _ = gae(normalize.scale_reward(want_scaler, traj.reward), traj.extras.value, next_values, traj.terminated,
                        traj.truncated, config.gamma, config.gae_lambda)
    np.testing.assert_allclose(batch.advantages, np.asarray(advantages).reshape(-1), rtol=1e-5, atol=1e-6)


def test_the_observation_statistics_advance_by_the_rollouts_observations(truncating_rollout):
    config, _, start, traj = truncating_rollout
    state = on_policy.finish_update(start, traj, start.reward_scaler, start.key, config)
    want = normalize.rms_update(start.obs_stats, traj.obs)
    for got, expected in zip(state.obs_stats, want):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not np.allclose(normalize.rms_update(start.obs_stats, traj.next_obs).mean, want.mean)  # the choice matters here


# --- how the losses are put together (a review's mutations of each passed every fast test) -----------
def test_ppo_loss_weighs_its_parts_and_normalises_advantages_only_when_asked(pendulum_rollout):
    """L = L^pi + c_v L^V - c_H H (Schulman et al. 2017, eq. 9); before any step the ratio is 1, so the
    clipped surrogate is -mean(A): 0 for advantages normalised over the batch, their raw mean if not."""
    config, networks, start, traj = pendulum_rollout
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    for norm_adv in (True, False):
        cfg = ppo.Config(**{**vars(config), "vf_coef": 0.3, "ent_coef": 0.1, "norm_adv": norm_adv})
        total, info = ppo.ppo_loss(start.params, batch, jnp.asarray(1.0), networks, cfg)
        np.testing.assert_allclose(total, info.policy_loss + 0.3 * info.value_loss - 0.1 * info.entropy, rtol=1e-6)
        assert float(info.entropy) > 0 and float(info.value_loss) > 0
        want = 0.0 if norm_adv else -float(jnp.mean(batch.advantages))
        np.testing.assert_allclose(float(info.policy_loss), want, atol=1e-5)
    assert abs(float(jnp.mean(batch.advantages))) > 1e-2  # the two cases differ here


def test_vpg_takes_its_entropy_bonus():
    """VPG's policy loss is -E[log pi A] - c_H H: the same rollout (same key) under ent_coef 0 and 0.5."""
    from rl_zoo.algos import vpg

    env, env_params = envs.make("CartPole-v1")
    metrics = {}
    for ent_coef in (0.0, 0.5):
        config = vpg.Config(num_envs=2, num_steps=16, total_timesteps=64, ent_coef=ent_coef)
        agent = vpg.make_agent(config, env, env_params)
        _, metrics[ent_coef] = jax.jit(agent.update)(agent.init(jax.random.key(2)))
    np.testing.assert_allclose(metrics[0.5].entropy, metrics[0.0].entropy, rtol=1e-6)  # the same rollout and policy
    np.testing.assert_allclose(metrics[0.5].policy_loss, metrics[0.0].policy_loss - 0.5 * metrics[0.0].entropy, rtol=1e-5)


def _constant_policy(action):
    """``policy_fn(params, key, obs) -> (action per env, extras)``: the same raw action in every env."""
    return lambda params, key, obs: (jnp.broadcast_to(jnp.asarray(action), (obs.shape[0],) + jnp.shape(action)), {})


def test_the_rollout_clips_a_box_action_before_the_env_charges_for_it():
    """MountainCarContinuous charges 0.1 a^2 for the action it is given (gymnasium's too), so the rollout's
    clip into [-1, 1] (``env_action``) decides the reward: 0.1 x 1^2 per step, not 0.1 x 3^2. The raw
    sample stays in the trajectory."""
    from envs import EpisodeStatistics, vectorize
    from rl_zoo.core.rollout import rollout

    env, params = envs.make("MountainCarContinuous-v0")
    venv = EpisodeStatistics(vectorize(env, params, 2))
    obs, state = venv.reset(jax.random.key(0))
    _, _, traj = rollout(venv, _constant_policy(jnp.array([3.0])), None, state, obs, jax.random.key(1), 5)
    np.testing.assert_allclose(np.asarray(traj.reward), -0.1, rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(traj.action), 3.0)


def test_the_rollout_shifts_a_discrete_index_to_the_spaces_start():
    """A gymnasium ``Discrete(3, start=-1)``: the policy samples the index 0..2 and the env must get -1..1
    (its reward here is the action it got); the trajectory keeps the index."""
    import gymnasium

    from envs import EpisodeStatistics, vectorize
    from rl_zoo.core.rollout import rollout

    class Signed(gymnasium.Env):
        observation_space = gymnasium.spaces.Box(-1, 1, (1,), np.float32)
        action_space = gymnasium.spaces.Discrete(3, start=-1)

        def reset(self, seed=None, options=None):
            super().reset(seed=seed)
            return np.zeros(1, np.float32), {}

        def step(self, action):
            assert self.action_space.contains(action), action
            return np.zeros(1, np.float32), float(action), False, False, {}

    gymnasium.register("rl_zoo_test/Signed-v0", entry_point=Signed, max_episode_steps=20)
    try:
        env, params = envs.make("rl_zoo_test/Signed-v0", backend="gymnasium")
        venv = EpisodeStatistics(vectorize(env, params, 2))
        obs, state = venv.reset(jax.random.key(0))
        _, _, traj = rollout(venv, _constant_policy(jnp.int32(2)), None, state, obs, jax.random.key(1), 3)
    finally:
        gymnasium.registry.pop("rl_zoo_test/Signed-v0", None)
    np.testing.assert_array_equal(np.asarray(traj.reward), 1.0)
    np.testing.assert_array_equal(np.asarray(traj.action), 2)


# --- which quantity each update uses (a review's mutations of each passed every test, the learning tests included) ---
def _ppo_state(start, optimizer, beta):
    return ppo.State(**start._asdict(), opt_state=optimizer.init(start.params), kl_beta=jnp.float32(beta))


def test_ppo_kl_learns_with_the_states_beta_and_adapts_it_by_the_kl_old_to_new(pendulum_rollout):
    """``learn`` penalises with ``state.kl_beta`` (not the initial beta), reports ``Metrics.kl`` as
    KL(pi_old || pi_new) after the epochs, and the beta rule reads that direction: with the target set
    so that 1.5 d_targ falls between the two directions' values, they would adapt beta differently."""
    config, networks, start, traj = pendulum_rollout
    base = {**vars(config), "loss": "kl", "update_epochs": 4, "learning_rate": 0.05, "anneal_lr": False}
    cfg = ppo.Config(**base)
    optimizer = ppo.make_optimizer(cfg)
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, cfg)
    learn = lambda s, c: jax.jit(lambda s: ppo.learn(s, traj, networks, optimizer, c))(s)  # noqa: E731
    (low, m_low), (high, _) = learn(_ppo_state(start, optimizer, 0.01), cfg), learn(_ppo_state(start, optimizer, 10.0), cfg)
    moved = max(float(jnp.abs(a - b).max()) for a, b in zip(jax.tree.leaves(low.params.policy), jax.tree.leaves(high.params.policy)))
    assert moved > 1e-2  # beta 10 held the policy nearer pi_old than beta 0.01 did
    new = networks.policy.apply(low.params.policy, batch.obs)
    old_to_new, new_to_old = float(batch.old.dist.kl(new).mean()), float(new.kl(batch.old.dist).mean())
    assert abs(old_to_new - new_to_old) > 0.1 * old_to_new  # the directions differ here
    np.testing.assert_allclose(float(m_low.kl), old_to_new, rtol=1e-4)
    target = (old_to_new + new_to_old) / 3.0  # 1.5 d_targ = their mean
    _, m = learn(_ppo_state(start, optimizer, 0.01), ppo.Config(**{**base, "kl_target": target}))
    rule = lambda d: float(ppo.adapt_kl_beta(jnp.float32(0.01), jnp.float32(d), target))  # noqa: E731
    assert rule(old_to_new) != rule(new_to_old)
    np.testing.assert_allclose(float(m.details.kl_beta), rule(old_to_new), rtol=1e-6)


def test_ppo_value_loss_regresses_on_the_lambda_returns_and_clips_only_when_asked(pendulum_rollout):
    """L^V = 0.5 E[(V - V_targ)^2] on the GAE lambda-returns (not the advantages); with ``clip_value`` the
    pessimistic clipped form around the rollout's values (moved here past clip_eps)."""
    config, networks, start, traj = pendulum_rollout
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    moved = jax.tree.map(lambda x: x, start.params)
    moved.value["params"]["MLP_0"]["biases"][-1] = moved.value["params"]["MLP_0"]["biases"][-1] - 0.5  # V - 0.5 everywhere
    values = networks.value.apply(moved.value, batch.obs)
    np.testing.assert_allclose(values - batch.old.value, -0.5, rtol=1e-5)  # past clip_eps 0.2, towards the targets
    plain = losses.value_loss(values, batch.targets)
    clipped = losses.value_loss(values, batch.targets, batch.old.value, config.clip_eps)
    assert abs(float(plain - clipped)) > 1e-3 and abs(float(plain - losses.value_loss(values, batch.advantages))) > 1e-3
    for clip_value, want in ((False, plain), (True, clipped)):
        cfg = ppo.Config(**{**vars(config), "clip_value": clip_value})
        _, info = ppo.ppo_loss(moved, batch, jnp.asarray(1.0), networks, cfg)
        np.testing.assert_allclose(float(info.value_loss), float(want), rtol=1e-5)


def test_ppo_clip_fraction_counts_both_sides(pendulum_rollout):
    """``clip_frac`` = the fraction of samples with |r - 1| > eps: ratios below 1 - eps count as well as above."""
    config, networks, start, traj = pendulum_rollout
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    moved = jax.tree.map(lambda x: x, start.params)
    moved.policy["params"]["log_std"] = moved.policy["params"]["log_std"] - 0.5
    ratio = jnp.exp(networks.policy.apply(moved.policy, batch.obs).log_prob(batch.action) - batch.old.log_prob)
    above, below = float((ratio > 1 + config.clip_eps).mean()), float((ratio < 1 - config.clip_eps).mean())
    assert above > 0 and below > 0
    _, info = ppo.ppo_loss(moved, batch, jnp.asarray(1.0), networks, config)
    np.testing.assert_allclose(float(info.clip_frac), above + below, rtol=1e-6)


def _value_fit_learn(algo, pendulum_rollout, **changes):
    """One ``learn`` of VPG or TRPO on the Pendulum rollout: ``(config, batch, metrics, new state)``."""
    from rl_zoo.algos import trpo, vpg

    module = {"vpg": vpg, "trpo": trpo}[algo]
    ppo_config, networks, start, traj = pendulum_rollout
    shared = {k: getattr(ppo_config, k) for k in ("num_envs", "num_steps", "total_timesteps", "init_log_std", "normalize_obs",
                                                  "normalize_reward")}
    config = module.Config(**shared, **changes)
    value_optimizer = on_policy.make_value_optimizer(config)
    policy_optimizer = optax.adam(config.learning_rate) if algo == "vpg" else None
    state = on_policy.value_fit_state(start, policy_optimizer, value_optimizer)
    optimizers = (policy_optimizer, value_optimizer) if algo == "vpg" else (value_optimizer,)
    new, metrics = jax.jit(lambda s: module.learn(s, traj, networks, *optimizers, config))(state)
    batch, _ = on_policy.prepare_batch(start.params, start.obs_stats, start.reward_scaler, traj, networks, config)
    return config, batch, metrics, new, state


@pytest.mark.parametrize("algo", ["vpg", "trpo"])
def test_vpg_and_trpo_fit_the_value_on_the_lambda_returns(algo, pendulum_rollout):
    """The separate value fit (``fit_value_on_batch``) regresses V on the batch's lambda-returns: one Adam
    pass of one minibatch, redone by hand with the same key, lands on the same parameters."""
    config, batch, metrics, new, state = _value_fit_learn(algo, pendulum_rollout, value_iters=1, value_minibatches=1)
    _, networks, _, _ = pendulum_rollout
    _, key_value = jax.random.split(state.key)
    fit = lambda targets: on_policy.fit_value(state.params.value, state.value_opt_state, key_value, batch.obs, targets,  # noqa: E731
                                              networks.value.apply, on_policy.make_value_optimizer(config), 1, 1)
    want, _, want_loss = fit(batch.targets)
    for a, b in zip(jax.tree.leaves(new.params.value), jax.tree.leaves(want)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(float(metrics.value_loss), float(want_loss), rtol=1e-5)
    assert abs(float(fit(batch.advantages)[2] - want_loss)) > 1e-3  # the advantages would give another fit


@pytest.mark.parametrize("algo", ["vpg", "trpo"])
def test_vpg_and_trpo_normalise_the_advantages_only_when_asked(algo, pendulum_rollout):
    """The policy loss before the step, by hand: TRPO's -L(theta_old) = -E[A] (0 for advantages normalised over
    the batch); VPG's -E[log pi(a|s) A] - c_H H."""
    _, networks, start, _ = pendulum_rollout
    for norm_adv in (True, False):
        no_bonus = {"ent_coef": 0.0} if algo == "vpg" else {}  # (TRPO has no entropy bonus)
        config, batch, metrics, _, _ = _value_fit_learn(algo, pendulum_rollout, norm_adv=norm_adv, **no_bonus)
        adv = losses.normalize_advantages(batch.advantages) if norm_adv else batch.advantages
        if algo == "trpo":
            want = -float(adv.mean())
        else:
            log_prob = networks.policy.apply(start.params.policy, batch.obs).log_prob(batch.action)
            want = -float((log_prob * adv).mean())
        np.testing.assert_allclose(float(metrics.policy_loss), want, rtol=1e-4, atol=1e-5)
    assert abs(float(jnp.mean(batch.advantages))) > 1e-2  # raw and normalised advantages differ here
