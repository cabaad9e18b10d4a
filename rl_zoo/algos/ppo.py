"""Proximal Policy Optimization, clipped and adaptive-KL (Schulman et al. 2017, arXiv:1707.06347).

Each update collects ``num_envs x num_steps`` transitions with the current policy, computes GAE
advantages (Schulman et al. 2016), then runs ``update_epochs`` passes of shuffled minibatch Adam
steps on

    L(theta) = L^pi(theta) + c_v L^V(theta) - c_H H[pi_theta]

where the policy term is one of (``Config.loss``):

* ``"clip"``  L^CLIP = -E[min(r_t A_t, clip(r_t, 1-eps, 1+eps) A_t)]                      (eq. 7)
* ``"kl"``    L^KLPEN = -E[r_t A_t - beta KL(pi_old(.|s_t) || pi_theta(.|s_t))]            (eq. 8)
  with beta adapted once per batch (section 4): d < d_targ / 1.5 -> beta / 2,
  d > 1.5 d_targ -> beta * 2, where d is the mean KL over the whole batch after the update.

r_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t). The KL in the penalty and in the beta rule is the exact,
closed-form KL between the old and new action distributions at each sampled state, averaged over
the batch (not a sample estimate). The logged ``approx_kl`` is the k3 sample estimator, for
comparison with other libraries.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from envs import EpisodeStatistics, vectorize
from rl_zoo.config import check
from rl_zoo.core import losses, normalize
from rl_zoo.core.buffers import flatten_time_batch, shuffled_minibatches
from rl_zoo.core.networks import ValueNetwork, make_policy
from rl_zoo.core.returns import gae
from rl_zoo.core.rollout import rollout
from rl_zoo.core.types import Agent, EpisodeMetrics, episode_metrics


@dataclass(frozen=True)
class Config:
    total_timesteps: int = 1_000_000
    """Env steps per seed over the whole run (1e5 for CartPole, 1e6 for Pendulum)."""
    num_envs: int = 8
    """Parallel envs per seed (1-64)."""
    num_steps: int = 128
    """Steps per env per update; the batch is num_envs * num_steps (16-2048)."""
    update_epochs: int = 10
    """Passes over each batch (3-30)."""
    num_minibatches: int = 4
    """Minibatches per epoch; must divide the batch (1-64)."""
    learning_rate: float = 3e-4
    """Adam step size (1e-4 to 3e-3)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    gamma: float = 0.99
    """Discount factor (0.9-0.999)."""
    gae_lambda: float = 0.95
    """GAE lambda: 0 is one-step TD, 1 is Monte Carlo (0.8-1)."""
    loss: str = "clip"
    """Policy objective: "clip" (PPO-clip, eq. 7) or "kl" (adaptive KL penalty, eq. 8)."""
    clip_eps: float = 0.2
    """Clip range eps of the surrogate ratio (0.1-0.3); unused by loss="kl"."""
    kl_target: float = 0.01
    """Target KL d_targ per update for loss="kl" (0.003-0.03)."""
    kl_beta_init: float = 1.0
    """Initial KL penalty coefficient beta for loss="kl" (0.1-3)."""
    clip_value: bool = False
    """Clip the value loss around the old values with clip_eps (PPO2 style)."""
    vf_coef: float = 0.5
    """Weight c_v of the value loss (0.25-1)."""
    ent_coef: float = 0.0
    """Weight c_H of the entropy bonus (0-0.01)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip (0.5-10)."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    normalize_obs: bool = False
    """Normalise observations with running statistics (reused, frozen, at evaluation)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return."""
    hidden_size: int = 64
    """Units per hidden layer of the policy and value networks (32-256)."""
    num_layers: int = 2
    """Hidden layers of each network (1-3)."""
    activation: str = "tanh"
    """Hidden activation: tanh, relu, elu or gelu."""
    init_log_std: float = 0.0
    """Initial log standard deviation of a Gaussian policy (-1 to 0.5)."""

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    @property
    def num_updates(self) -> int:
        return self.total_timesteps // self.batch_size

    def validate(self) -> None:
        for name in ("total_timesteps", "num_envs", "num_steps", "update_epochs", "num_minibatches", "hidden_size", "num_layers"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check(self.batch_size % self.num_minibatches == 0, "num_minibatches", self.num_minibatches,
              f"must divide the batch num_envs * num_steps = {self.batch_size}")
        check(self.total_timesteps >= self.batch_size, "total_timesteps", self.total_timesteps,
              f"must be at least one batch (num_envs * num_steps = {self.batch_size})")
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check(0 < self.gamma <= 1, "gamma", self.gamma, "must be in (0, 1]")
        check(0 <= self.gae_lambda <= 1, "gae_lambda", self.gae_lambda, "must be in [0, 1]")
        check(self.loss in ("clip", "kl"), "loss", self.loss, 'must be "clip" or "kl"')
        check(self.clip_eps > 0, "clip_eps", self.clip_eps, "must be > 0")
        check(self.kl_target > 0, "kl_target", self.kl_target, "must be > 0")
        check(self.kl_beta_init > 0, "kl_beta_init", self.kl_beta_init, "must be > 0")
        check(self.vf_coef >= 0, "vf_coef", self.vf_coef, "must be >= 0")
        check(self.ent_coef >= 0, "ent_coef", self.ent_coef, "must be >= 0")
        check(self.max_grad_norm > 0, "max_grad_norm", self.max_grad_norm, "must be > 0")
        check(self.activation in ("tanh", "relu", "elu", "gelu"), "activation", self.activation, "must be tanh, relu, elu or gelu")


class PolicyExtras(NamedTuple):
    """What the behaviour policy records at each step (fields ``[B]``, or the distribution's arrays)."""

    log_prob: jax.Array
    value: jax.Array
    dist: Any  # the old action distribution, for the exact KL


class State(NamedTuple):
    params: dict  # {"policy": ..., "value": ...}
    opt_state: optax.OptState
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    obs_stats: normalize.RunningMeanStd
    reward_scaler: normalize.RewardScaler
    kl_beta: jax.Array  # adaptive-KL coefficient (unused by loss="clip")
    key: jax.Array
    update_step: jax.Array


class Batch(NamedTuple):
    obs: jax.Array  # [N, *obs_shape], already normalised
    action: jax.Array
    old: PolicyExtras
    advantages: jax.Array  # [N]
    targets: jax.Array  # [N] lambda-returns for the value function


class LossInfo(NamedTuple):
    policy_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    approx_kl: jax.Array
    clip_frac: jax.Array


class Metrics(NamedTuple):
    episode: EpisodeMetrics
    policy_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    approx_kl: jax.Array
    clip_frac: jax.Array
    kl: jax.Array  # exact mean KL(pi_old || pi_new) over the batch after the epochs
    kl_beta: jax.Array


class Networks(NamedTuple):
    policy: Any
    value: Any


def make_networks(config: Config, action_space) -> Networks:
    hidden = (config.hidden_size,) * config.num_layers
    return Networks(make_policy(action_space, hidden, config.activation, config.init_log_std), ValueNetwork(hidden, config.activation))


def ppo_loss(params, batch: Batch, kl_beta, networks: Networks, config: Config) -> tuple[jax.Array, LossInfo]:
    """L = L^pi + c_v L^V - c_H H on one minibatch (see module docstring)."""
    dist = networks.policy.apply(params["policy"], batch.obs)
    log_prob = dist.log_prob(batch.action)
    log_ratio = log_prob - batch.old.log_prob
    ratio = jnp.exp(log_ratio)
    adv = losses.normalize_advantages(batch.advantages) if config.norm_adv else batch.advantages
    if config.loss == "clip":
        pg_loss = losses.clipped_surrogate_loss(ratio, adv, config.clip_eps)
    else:
        pg_loss = losses.kl_penalty_loss(ratio, adv, batch.old.dist.kl(dist), kl_beta)
    values = networks.value.apply(params["value"], batch.obs)
    v_loss = losses.value_loss(values, batch.targets, batch.old.value, config.clip_eps if config.clip_value else None)
    entropy = dist.entropy().mean()
    total = pg_loss + config.vf_coef * v_loss - config.ent_coef * entropy
    clip_frac = (jnp.abs(ratio - 1.0) > config.clip_eps).mean()
    return total, LossInfo(pg_loss, v_loss, entropy, losses.approx_kl(log_ratio), clip_frac)


def adapt_kl_beta(beta: jax.Array, kl: jax.Array, kl_target: float) -> jax.Array:
    """Schulman et al. 2017, section 4: d < d_targ/1.5 -> beta/2; d > 1.5 d_targ -> beta*2; else keep."""
    return jnp.where(kl < kl_target / 1.5, beta / 2.0, jnp.where(kl > kl_target * 1.5, beta * 2.0, beta))


def make_optimizer(config: Config) -> optax.GradientTransformation:
    steps = config.num_updates * config.update_epochs * config.num_minibatches
    lr = optax.linear_schedule(config.learning_rate, 0.0, steps) if config.anneal_lr else config.learning_rate
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(lr, eps=1e-5))


def sample_action(networks: Networks, config: Config, policy_params, key, obs):
    """Behaviour policy for the rollout: ``policy_params = (params, obs_stats)``."""
    params, obs_stats = policy_params
    x = normalize.normalize(obs_stats, obs) if config.normalize_obs else obs
    dist = networks.policy.apply(params["policy"], x)
    action = dist.sample(key)
    return action, PolicyExtras(dist.log_prob(action), networks.value.apply(params["value"], x), dist)


def greedy_action(networks: Networks, config: Config, state: State, obs):
    """The deterministic policy (the distribution's mode), with the training statistics frozen."""
    x = normalize.normalize(state.obs_stats, obs) if config.normalize_obs else obs
    return networks.policy.apply(state.params["policy"], x).mode()


def learn(state: State, traj, networks: Networks, optimizer, config: Config) -> tuple[State, Metrics]:
    """GAE, then ``update_epochs`` x ``num_minibatches`` Adam steps on ``ppo_loss``, then the beta rule."""
    norm_obs = (lambda o: normalize.normalize(state.obs_stats, o)) if config.normalize_obs else (lambda o: o)
    next_values = networks.value.apply(state.params["value"], norm_obs(traj.next_obs))  # [T, B]
    reward_scaler = state.reward_scaler
    rewards = traj.reward
    if config.normalize_reward:
        reward_scaler = normalize.reward_scaler_update(reward_scaler, rewards, traj.episode_done, config.gamma)
        rewards = normalize.scale_reward(reward_scaler, rewards)
    advantages, targets = gae(rewards, traj.extras.value, next_values, traj.terminated, traj.truncated, config.gamma, config.gae_lambda)
    batch = flatten_time_batch(Batch(norm_obs(traj.obs), traj.action, traj.extras, advantages, targets))

    grad_fn = jax.grad(partial(ppo_loss, networks=networks, config=config), has_aux=True)

    def minibatch_step(carry, minibatch):
        params, opt_state = carry
        grads, info = grad_fn(params, minibatch, state.kl_beta)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), info

    def epoch(carry, key):
        carry, infos = jax.lax.scan(minibatch_step, carry, shuffled_minibatches(key, batch, config.num_minibatches))
        return carry, infos

    key, key_epochs = jax.random.split(state.key)
    (params, opt_state), infos = jax.lax.scan(epoch, (state.params, state.opt_state), jax.random.split(key_epochs, config.update_epochs))
    info = jax.tree.map(jnp.mean, infos)

    new_dist = networks.policy.apply(params["policy"], batch.obs)
    kl = batch.old.dist.kl(new_dist).mean()
    kl_beta = adapt_kl_beta(state.kl_beta, kl, config.kl_target) if config.loss == "kl" else state.kl_beta

    state = state._replace(
        params=params,
        opt_state=opt_state,
        obs_stats=normalize.rms_update(state.obs_stats, traj.obs) if config.normalize_obs else state.obs_stats,
        reward_scaler=reward_scaler,
        kl_beta=kl_beta,
        key=key,
        update_step=state.update_step + 1,
    )
    return state, Metrics(episode_metrics(traj), info.policy_loss, info.value_loss, info.entropy, info.approx_kl, info.clip_frac, kl, state.kl_beta)


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind PPO to an env: ``init``, ``update`` (rollout + learn) and the greedy ``act``."""
    venv = EpisodeStatistics(vectorize(env, env_params, config.num_envs))
    obs_space, action_space = env.observation_space(env_params), env.action_space(env_params)
    networks = make_networks(config, action_space)
    optimizer = make_optimizer(config)
    policy_fn = partial(sample_action, networks, config)
    learn_fn = partial(learn, networks=networks, optimizer=optimizer, config=config)
    if not venv.is_jax:  # the host-loop rollout calls learn eagerly: compile it once
        learn_fn = jax.jit(learn_fn)

    def init(key: jax.Array) -> State:
        key, k_pi, k_v, k_env = jax.random.split(key, 4)
        dummy = jnp.zeros(obs_space.shape, jnp.float32)
        params = {"policy": networks.policy.init(k_pi, dummy), "value": networks.value.init(k_v, dummy)}
        obs, env_state = venv.reset(k_env)
        return State(
            params=params,
            opt_state=optimizer.init(params),
            env_state=env_state,
            obs=obs,
            obs_stats=normalize.rms_init(obs_space.shape),
            reward_scaler=normalize.reward_scaler_init(config.num_envs),
            kl_beta=jnp.asarray(config.kl_beta_init, jnp.float32),
            key=key,
            update_step=jnp.array(0, jnp.int32),
        )

    def update(state: State) -> tuple[State, Metrics]:
        key, key_rollout = jax.random.split(state.key)
        env_state, obs, traj = rollout(venv, policy_fn, (state.params, state.obs_stats), state.env_state, state.obs, key_rollout, config.num_steps)
        return learn_fn(state._replace(env_state=env_state, obs=obs, key=key), traj)

    return Agent(init, update, partial(greedy_action, networks, config), config.batch_size, config.num_updates)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept."""
    agent = make_agent(config, env, env_params)

    def train(key):
        return jax.lax.scan(lambda s, _: agent.update(s), agent.init(key), None, agent.num_updates)

    return train
