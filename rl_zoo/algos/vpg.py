"""Vanilla policy gradient: REINFORCE with a learned value baseline and GAE advantages.

Williams 1992 ("Simple statistical gradient-following algorithms for connectionist reinforcement
learning"); Sutton et al. 2000 ("Policy gradient methods for reinforcement learning with function
approximation"); advantages by GAE (Schulman et al. 2016, arXiv:1506.02438); the layout of one
update follows OpenAI Spinning Up's ``vpg``. Each update

1. collects ``num_envs x num_steps`` transitions with the current policy (`rl_zoo.core.rollout`);
2. computes GAE advantages A_t and lambda-returns with the current value function
   (`prepare_batch` -> `rl_zoo.core.returns.gae`, truncation bootstrapped, termination not);
3. takes ONE Adam step on the policy-gradient loss (`policy_loss`)

       L^PG(theta) = -1/N sum_t log pi_theta(a_t|s_t) A_t   (- c_H H[pi_theta])

   whose gradient is the REINFORCE estimator  -E[grad log pi(a|s) A(s, a)] = -grad J(theta);
4. fits V_phi to the lambda-returns with ``value_iters`` passes of Adam on 0.5 (V - R)^2, with its
   own optimiser (`fit_value`; optionally in ``value_minibatches`` shuffled minibatches per pass).

The pieces shared with TRPO (`prepare_batch`, `fit_value`, `build_agent`) live here; TRPO imports
them. The action sampler, greedy policy and networks are PPO's (`rl_zoo.algos.ppo`): the three
policy-gradient methods act the same way and differ only in how they move theta.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from envs import EpisodeStatistics, vectorize
from rl_zoo.algos.ppo import Batch, Networks, PolicyExtras, greedy_action, make_networks, sample_action
from rl_zoo.config import check
from rl_zoo.core import losses, normalize
from rl_zoo.core.buffers import flatten_time_batch, shuffled_minibatches
from rl_zoo.core.returns import gae
from rl_zoo.core.rollout import rollout
from rl_zoo.core.types import Agent, EpisodeMetrics, episode_metrics

__all__ = [
    "Config", "State", "Metrics", "Batch", "PolicyExtras", "policy_loss", "prepare_batch", "fit_value",
    "learn", "build_agent", "make_agent", "make_train",
]


@dataclass(frozen=True)
class Config:
    total_timesteps: int = 500_000
    """Env steps per seed over the whole run (5e5 for CartPole, 1e6-3e6 for Pendulum)."""
    num_envs: int = 8
    """Parallel envs per seed (1-64)."""
    num_steps: int = 256
    """Steps per env per update; the batch is num_envs * num_steps (Spinning Up uses 4000 in all)."""
    learning_rate: float = 3e-4
    """Adam step size of the single policy step per batch (1e-4 to 1e-2; Spinning Up: 3e-4)."""
    anneal_lr: bool = False
    """Decay the policy learning rate linearly to 0 over training."""
    value_lr: float = 1e-3
    """Adam step size of the value-function fit (3e-4 to 3e-3; Spinning Up: 1e-3)."""
    value_iters: int = 80
    """Passes of Adam over each batch when fitting V (5-100; Spinning Up: 80 full-batch steps)."""
    value_minibatches: int = 1
    """Minibatches per value pass; 1 is full-batch. Must divide the batch (1-32)."""
    gamma: float = 0.99
    """Discount factor (0.9-0.999)."""
    gae_lambda: float = 0.97
    """GAE lambda: 0 is one-step TD, 1 is Monte Carlo (0.9-1; Spinning Up: 0.97)."""
    ent_coef: float = 0.0
    """Weight c_H of an entropy bonus in the policy loss (0-0.01)."""
    norm_adv: bool = True
    """Normalise advantages over the batch (zero mean, unit std)."""
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
    def num_updates(self) -> int:
        return self.total_timesteps // self.batch_size

    def validate(self) -> None:
        validate_on_policy(self)
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check(self.ent_coef >= 0, "ent_coef", self.ent_coef, "must be >= 0")


def validate_on_policy(config) -> None:
    """The checks VPG and TRPO share (rollout sizes, value fit, returns, networks)."""
    for name in ("total_timesteps", "num_envs", "num_steps", "value_iters", "value_minibatches", "hidden_size", "num_layers"):
        check(getattr(config, name) >= 1, name, getattr(config, name), "must be a positive integer")
    check(config.total_timesteps >= config.batch_size, "total_timesteps", config.total_timesteps,
          f"must be at least one batch (num_envs * num_steps = {config.batch_size})")
    check(config.batch_size % config.value_minibatches == 0, "value_minibatches", config.value_minibatches,
          f"must divide the batch num_envs * num_steps = {config.batch_size}")
    check(config.value_lr > 0, "value_lr", config.value_lr, "must be > 0")
    check(0 < config.gamma <= 1, "gamma", config.gamma, "must be in (0, 1]")
    check(0 <= config.gae_lambda <= 1, "gae_lambda", config.gae_lambda, "must be in [0, 1]")
    check(config.activation in ("tanh", "relu", "elu", "gelu"), "activation", config.activation,
          "must be tanh, relu, elu or gelu")


class State(NamedTuple):
    """Training state of VPG and TRPO (TRPO has no policy optimiser: its ``policy_opt_state`` is ``()``)."""

    params: dict  # {"policy": ..., "value": ...}
    policy_opt_state: Any
    value_opt_state: optax.OptState
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    obs_stats: normalize.RunningMeanStd
    reward_scaler: normalize.RewardScaler
    key: jax.Array
    update_step: jax.Array


class Metrics(NamedTuple):
    episode: EpisodeMetrics
    policy_loss: jax.Array  # L^PG before the step
    value_loss: jax.Array  # mean 0.5 (V - R)^2 over the value-fit steps
    entropy: jax.Array  # mean entropy of pi_old over the batch
    kl: jax.Array  # exact mean KL(pi_old || pi_new) over the batch after the step
    grad_norm: jax.Array  # global norm of the policy gradient


# ----------------------------------------------------------------------------------------------
# The math.
# ----------------------------------------------------------------------------------------------


def policy_loss(
    policy_params, obs: jax.Array, action: jax.Array, advantages: jax.Array, policy_apply: Callable, ent_coef: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """REINFORCE with a baseline (Williams 1992, eq. 11; Sutton et al. 2000, Theorem 1), negated:

        L^PG(theta) = -1/N sum_i log pi_theta(a_i|s_i) A_i  - c_H 1/N sum_i H[pi_theta(.|s_i)]

    ``grad L^PG`` is minus the sample estimate of grad J(theta) = E[grad log pi(a|s) A(s, a)].
    ``advantages [N]`` are constants (stop-gradient). Returns ``(loss, entropy)``.
    """
    dist = policy_apply(policy_params, obs)
    log_prob = dist.log_prob(action)  # [N]
    entropy = dist.entropy().mean()
    return losses.policy_gradient_loss(log_prob, advantages) - ent_coef * entropy, entropy


def prepare_batch(
    params: dict, obs_stats: normalize.RunningMeanStd, reward_scaler: normalize.RewardScaler, traj, networks: Networks, config
) -> tuple[Batch, normalize.RewardScaler]:
    """Trajectory ``[T, B]`` -> flat ``Batch [T*B]`` with GAE advantages and lambda-return targets.

    Observations are normalised with the statistics the rollout used; with ``normalize_reward`` the
    reward scaler is updated first and the scaled rewards enter GAE. V(s'_t) is evaluated on the
    pre-reset ``next_obs``, so `rl_zoo.core.returns.gae` can bootstrap truncated steps.
    """
    norm_obs = (lambda o: normalize.normalize(obs_stats, o)) if config.normalize_obs else (lambda o: o)
    next_values = networks.value.apply(params["value"], norm_obs(traj.next_obs))  # [T, B]
    rewards = traj.reward  # [T, B]
    if config.normalize_reward:
        reward_scaler = normalize.reward_scaler_update(reward_scaler, rewards, traj.episode_done, config.gamma)
        rewards = normalize.scale_reward(reward_scaler, rewards)
    advantages, targets = gae(rewards, traj.extras.value, next_values, traj.terminated, traj.truncated, config.gamma, config.gae_lambda)
    batch = flatten_time_batch(Batch(norm_obs(traj.obs), traj.action, traj.extras, advantages, targets))
    return batch, reward_scaler


def fit_value(
    value_params,
    opt_state: optax.OptState,
    key: jax.Array,
    obs: jax.Array,
    targets: jax.Array,
    value_apply: Callable,
    optimizer: optax.GradientTransformation,
    iters: int,
    num_minibatches: int = 1,
) -> tuple[Any, optax.OptState, jax.Array]:
    """Regress V_phi on the targets: ``iters`` passes of Adam on 0.5 E[(V_phi(s) - R)^2].

    With ``num_minibatches > 1`` every pass reshuffles the batch into that many minibatches
    (`rl_zoo.core.buffers.shuffled_minibatches`), one Adam step each; with 1 each pass is one
    full-batch step (Spinning Up's ``train_v_iters``). Returns ``(params, opt_state, mean loss)``.
    """

    def loss_fn(p, mb):
        mb_obs, mb_targets = mb
        return losses.value_loss(value_apply(p, mb_obs), mb_targets)

    grad_fn = jax.value_and_grad(loss_fn)

    def step(carry, mb):
        p, s = carry
        loss, grads = grad_fn(p, mb)
        updates, s = optimizer.update(grads, s, p)
        return (optax.apply_updates(p, updates), s), loss

    if num_minibatches == 1:  # full batch: no shuffling, no keys (one fewer PRNG call to compile)
        (value_params, opt_state), loss = jax.lax.scan(lambda c, _: step(c, (obs, targets)), (value_params, opt_state), None, iters)
        return value_params, opt_state, loss.mean()

    def one_pass(carry, k):
        return jax.lax.scan(step, carry, shuffled_minibatches(k, (obs, targets), num_minibatches))

    (value_params, opt_state), loss = jax.lax.scan(one_pass, (value_params, opt_state), jax.random.split(key, iters))
    return value_params, opt_state, loss.mean()


def learn(state: State, traj, networks: Networks, policy_optimizer, value_optimizer, config: Config) -> tuple[State, Metrics]:
    """GAE, one Adam step on `policy_loss`, then `fit_value`."""
    batch, reward_scaler = prepare_batch(state.params, state.obs_stats, state.reward_scaler, traj, networks, config)
    adv = losses.normalize_advantages(batch.advantages) if config.norm_adv else batch.advantages  # [N]

    # one policy-gradient step on the whole batch
    (pg_loss, entropy), grads = jax.value_and_grad(policy_loss, has_aux=True)(
        state.params["policy"], batch.obs, batch.action, adv, networks.policy.apply, config.ent_coef
    )
    updates, policy_opt_state = policy_optimizer.update(grads, state.policy_opt_state, state.params["policy"])
    policy_params = optax.apply_updates(state.params["policy"], updates)

    key, key_value = jax.random.split(state.key)
    value_params, value_opt_state, v_loss = fit_value(
        state.params["value"], state.value_opt_state, key_value, batch.obs, batch.targets,
        networks.value.apply, value_optimizer, config.value_iters, config.value_minibatches,
    )

    kl = batch.old.dist.kl(networks.policy.apply(policy_params, batch.obs)).mean()
    state = state._replace(
        params={"policy": policy_params, "value": value_params},
        policy_opt_state=policy_opt_state,
        value_opt_state=value_opt_state,
        obs_stats=normalize.rms_update(state.obs_stats, traj.obs) if config.normalize_obs else state.obs_stats,
        reward_scaler=reward_scaler,
        key=key,
        update_step=state.update_step + 1,
    )
    return state, Metrics(episode_metrics(traj), pg_loss, v_loss, entropy, kl, optax.tree.norm(grads))


# ----------------------------------------------------------------------------------------------
# Binding to an env (shared with TRPO).
# ----------------------------------------------------------------------------------------------


def build_agent(
    config,
    env,
    env_params,
    networks: Networks,
    learn_fn: Callable[[State, Any], tuple[State, Any]],
    policy_optimizer: optax.GradientTransformation | None,
    value_optimizer: optax.GradientTransformation,
) -> Agent:
    """``Agent(init, update, act, ...)`` for an on-policy method with separate policy/value fits.

    ``update`` = rollout of ``config.num_steps`` steps with PPO's `sample_action`, then
    ``learn_fn(state, trajectory)``. ``policy_optimizer=None`` (TRPO) stores ``()`` as its state.
    """
    config.validate()
    venv = EpisodeStatistics(vectorize(env, env_params, config.num_envs))
    obs_space = env.observation_space(env_params)
    policy_fn = partial(sample_action, networks, config)
    if not venv.is_jax:  # the host-loop rollout calls learn eagerly: compile it once
        learn_fn = jax.jit(learn_fn)

    def init(key: jax.Array) -> State:
        key, k_pi, k_v, k_env = jax.random.split(key, 4)
        dummy = jnp.zeros(obs_space.shape, jnp.float32)
        params = {"policy": networks.policy.init(k_pi, dummy), "value": networks.value.init(k_v, dummy)}
        obs, env_state = venv.reset(k_env)
        return State(
            params=params,
            policy_opt_state=policy_optimizer.init(params["policy"]) if policy_optimizer is not None else (),
            value_opt_state=value_optimizer.init(params["value"]),
            env_state=env_state,
            obs=obs,
            obs_stats=normalize.rms_init(obs_space.shape),
            reward_scaler=normalize.reward_scaler_init(config.num_envs),
            key=key,
            update_step=jnp.array(0, jnp.int32),
        )

    def update(state: State):
        key, key_rollout = jax.random.split(state.key)
        env_state, obs, traj = rollout(venv, policy_fn, (state.params, state.obs_stats), state.env_state, state.obs, key_rollout, config.num_steps)
        return learn_fn(state._replace(env_state=env_state, obs=obs, key=key), traj)

    return Agent(init, update, partial(greedy_action, networks, config), config.batch_size, config.num_updates)


def make_value_optimizer(config) -> optax.GradientTransformation:
    return optax.adam(config.value_lr)


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind VPG to an env: ``init``, ``update`` (rollout + learn) and the greedy ``act``."""
    networks = make_networks(config, env.action_space(env_params))
    lr = optax.linear_schedule(config.learning_rate, 0.0, config.num_updates) if config.anneal_lr else config.learning_rate
    policy_optimizer = optax.adam(lr)
    value_optimizer = make_value_optimizer(config)
    learn_fn = partial(learn, networks=networks, policy_optimizer=policy_optimizer, value_optimizer=value_optimizer, config=config)
    return build_agent(config, env, env_params, networks, learn_fn, policy_optimizer, value_optimizer)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept."""
    agent = make_agent(config, env, env_params)

    def train(key):
        return jax.lax.scan(lambda s, _: agent.update(s), agent.init(key), None, agent.num_updates)

    return train
