"""What the on-policy actor-critic methods (VPG, TRPO, PPO) share, so each algorithm file holds only
its own policy step.

One update of any of them: collect ``num_envs x num_steps`` transitions with the stochastic policy
pi_old (`sample_action`, which records log pi_old(a|s), V(s) and pi_old(.|s) itself), turn the
trajectory into a flat batch with GAE advantages and lambda-return targets (`prepare_batch`;
Schulman et al. 2016, arXiv:1506.02438), move the policy (the algorithm's part), fit the value
function (`fit_value`, VPG and TRPO; PPO fits it inside its joint loss), then advance the
observation statistics and counters (`finish_update`). `build_agent` binds that to an env.

Names shared by the three:

* `Config`: the fields every on-policy Config has (rollout sizes, returns, normalisation,
  networks), and `ValueFitConfig`, the fields of a separate value fit (VPG, TRPO);
* `Params` (policy, value): the typed parameter pytree; `Networks`: the two flax modules;
* `Metrics`: every on-policy update reports ``episode, policy_loss, value_loss, entropy, kl`` under
  these names, plus the algorithm's own diagnostics in ``details``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from envs import EpisodeStatistics, spaces, vectorize
from envs.wrappers import OneHotObservations, one_hot_state
from rl_zoo.config import _traced, check, check_step_count, check_types, unread_notes
from rl_zoo.core import losses, normalize
from rl_zoo.core.buffers import flatten_time_batch, shuffled_minibatches
from rl_zoo.core.networks import ValueNetwork, check_layers, make_policy
from rl_zoo.core.returns import gae
from rl_zoo.core.rollout import rollout
from rl_zoo.core.types import Agent, EpisodeMetrics, Trajectory

ACTIVATIONS = ("tanh", "relu", "elu", "gelu")
#: ``init_log_std`` in [-LIMIT, LIMIT]: the variance exp(2 x) (the Gaussian's KL divides by it) stays a finite, normal
#: float32 (inf from about 44.4, subnormal below about -43.6: a first update of NaN or inf there)
LOG_STD_LIMIT = 40.0
#: the num_steps values the batch advice of a refusal tries, down from the most that fit (``Config._batch_that_fits``)
SEARCHED_STEPS = 100_000


@dataclass(frozen=True)
class Config:
    """The fields VPG, TRPO and PPO share; each algorithm's Config adds its own (and may change a default)."""

    total_timesteps: int = 1_000_000
    """Env steps per seed over the whole run (1e5 for CartPole, 1e6 for Pendulum)."""
    num_envs: int = 8
    """Parallel envs per seed (1-64)."""
    num_steps: int = 128
    """Steps per env per update; the batch is num_envs * num_steps (16-2048; the TRPO paper, App. E: 5e4-1e6 per batch)."""
    gamma: float = 0.99
    """Discount factor (0.9-0.999)."""
    gae_lambda: float = 0.95
    """GAE lambda: 0 is one-step TD, 1 is Monte Carlo (0.8-1; the GAE paper found 0.92-0.99 best, sec. 6; Spinning Up: 0.97)."""
    norm_adv: bool = True
    """Normalise advantages (zero mean, unit std): per minibatch in PPO, over the batch in VPG and TRPO.
    The std is the population one (ddof 0; SB3 and CleanRL divide by torch's ddof-1 std, a factor
    sqrt((M-1)/M) apart for M samples)."""
    normalize_obs: bool = False
    """Normalise observations with running statistics (reused, frozen, at evaluation). The statistics
    advance once per update, after it, with that update's batch: the rollout, GAE and the loss all see
    the same frozen statistics (so log pi_old stays exact), and the first update sees the raw
    observation clipped to [-10, 10] (SB3's VecNormalize and gymnasium's NormalizeObservation update
    at every step before normalising)."""
    normalize_reward: bool = False
    """Scale rewards by the running std of the discounted return (no mean subtracted; the return reset
    at every episode end, as SB3's VecNormalize). The statistics take in each rollout's whole block
    before its rewards are scaled, where SB3 updates them step by step: the first update's scale comes
    from its own block."""
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
    def env_steps_per_update(self) -> int:
        """Env steps per seed one update collects (the agent's ``env_steps_per_update``)."""
        return self.batch_size

    @property
    def num_updates(self) -> int:
        return self.total_timesteps // self.batch_size

    def _batch_fits(self, batch: int) -> bool:
        """Whether a batch of ``batch`` samples passes this config's other rules (``validate``): more than one
        sample where ``norm_adv`` centres the advantages; the subclasses add their minibatch rules."""
        return not self.norm_adv or batch >= 2

    def _minibatch_fields(self) -> tuple[str, ...]:
        """The minibatch fields that ``_batch_that_fits`` sets to 1 where no smaller batch fits them."""
        return ()

    def _batch_that_fits(self) -> str:
        """Field values that make one batch fit in total_timesteps and pass ``validate``'s other rules
        (``_batch_fits``: PPO's minibatches dividing the batch and holding 2 samples or more, VPG's and TRPO's
        value_minibatches dividing it): the most steps per env that fit, else those with the minibatch fields
        at 1, else fewer envs of one step.

        (It used to say "--set num_envs=4" whatever the config: Pendulum-v1's PPO already runs 4 envs; then it
        looked at PPO's num_minibatches only: TRPO on LunarLander-v3 was told num_steps=1500, which its
        value_minibatches = 32 refused. No "--set" in the text: a sweep may --grid the field, and an experiment's
        command takes neither.)"""
        fields = self._minibatch_fields()
        values = (self.total_timesteps, self.num_envs, *(getattr(self, name) for name in fields))
        if not all(isinstance(v, int) for v in values):
            return "lower num_envs or num_steps"  # a value traced (vmapped): the rule is built before check() looks
        top = self.total_timesteps // self.num_envs
        for num_steps in range(top, max(top - SEARCHED_STEPS, 0), -1):  # bounded: num_minibatches=999999999 searched for minutes
            if self._batch_fits(self.num_envs * num_steps):
                return f"num_steps={num_steps}"
        ones = "".join(f", {name}=1" for name in fields if getattr(self, name) != 1)
        if self.total_timesteps >= self.num_envs:
            return f"num_steps={self.total_timesteps // self.num_envs}{ones}"
        return f"num_envs={self.total_timesteps}, num_steps=1{ones}"

    def env_notes(self, action_space) -> list[str]:
        """Lines for the run's log (the driver prints them) on fields the env's action space leaves unread: a categorical
        policy (discrete actions) has no log standard deviation, so ``init_log_std`` trained nothing, without a word."""
        if not isinstance(action_space, spaces.Discrete):
            return []
        return unread_notes(self, {"init_log_std": f"the env's actions are discrete ({action_space}): a categorical policy "
                                                   "has no standard deviation"})

    def validate(self) -> None:
        check_types(self)  # each field's type first: anneal_lr="no" was truthy, learning_rate="3e-4" a bare TypeError
        for name in ("total_timesteps", "num_envs", "num_steps", "hidden_size"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check_layers(self.num_layers)
        for name in self._minibatch_fields():  # before the advice below divides by them (0 was a ZeroDivisionError)
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        enough = self.total_timesteps >= self.batch_size
        if not _traced(enough) and not enough:  # the advice searched for on a refusal only (it took seconds to minutes)
            check(False, "total_timesteps", self.total_timesteps,
                  f"must be at least one batch (num_envs * num_steps = {self.num_envs} * {self.num_steps} = "
                  f"{self.batch_size}): raise it to {self.batch_size:,} or more, or shrink the batch to fit "
                  f"({self._batch_that_fits()})")
        check((-LOG_STD_LIMIT <= self.init_log_std) & (self.init_log_std <= LOG_STD_LIMIT), "init_log_std", self.init_log_std,
              f"must be in [-{LOG_STD_LIMIT:g}, {LOG_STD_LIMIT:g}]: the variance exp(2 init_log_std) overflows or vanishes in "
              "float32 past about 44, and the first update was NaN")
        check(not self.norm_adv or self.batch_size >= 2, "num_steps", self.num_steps,
              "with num_envs = 1 makes a batch of one sample: norm_adv centres its advantage to 0 and the policy "
              "never moves (use a bigger batch, or norm_adv=False)")
        check((0 < self.gamma) & (self.gamma <= 1), "gamma", self.gamma, "must be in (0, 1]")
        check((0 <= self.gae_lambda) & (self.gae_lambda <= 1), "gae_lambda", self.gae_lambda, "must be in [0, 1]")
        check(self.activation in ACTIVATIONS, "activation", self.activation, "must be tanh, relu, elu or gelu")


@dataclass(frozen=True)
class ValueFitConfig(Config):
    """`Config` plus the value function's own fit (VPG and TRPO; PPO fits V inside its joint loss)."""

    value_lr: float = 1e-3
    """Adam step size of the value-function fit (3e-4 to 3e-3; Spinning Up: 1e-3)."""
    value_iters: int = 80
    """Passes of Adam over each batch when fitting V (5-100; Spinning Up: 80 full-batch steps)."""
    value_minibatches: int = 1
    """Minibatches per value pass; 1 is full-batch. Must divide the batch (1-32)."""

    def _batch_fits(self, batch: int) -> bool:
        return super()._batch_fits(batch) and batch % self.value_minibatches == 0

    def _minibatch_fields(self) -> tuple[str, ...]:
        return ("value_minibatches",)

    def validate(self) -> None:
        super().validate()
        check(self.value_iters >= 1, "value_iters", self.value_iters, "must be a positive integer")  # value_minibatches: above
        check(self.batch_size % self.value_minibatches == 0, "value_minibatches", self.value_minibatches,
              f"must divide the batch num_envs * num_steps = {self.batch_size}")
        check(self.value_lr > 0, "value_lr", self.value_lr, "must be > 0")
        check_step_count(self.num_updates * self.value_iters * self.value_minibatches, "total_timesteps", self.total_timesteps,
                         "num_updates x value_iters x value_minibatches value-fit steps")


# ----------------------------------------------------------------------------------------------
# Named containers.
# ----------------------------------------------------------------------------------------------


class Params(NamedTuple):
    """The parameters of the policy pi_theta and of the value function V_phi."""

    policy: Any
    value: Any


class Networks(NamedTuple):
    """The flax modules: ``policy.apply(params.policy, obs) -> distribution``, ``value.apply(params.value, obs) -> [B]``."""

    policy: Any
    value: Any


class PolicyExtras(NamedTuple):
    """What the behaviour policy records at each step (fields ``[B]``, or the distribution's arrays)."""

    log_prob: jax.Array
    value: jax.Array
    dist: Any  # the old action distribution, for the exact KL


class ActingParams(NamedTuple):
    """What the behaviour policy reads during a rollout."""

    params: Params
    obs_stats: normalize.RunningMeanStd


class Batch(NamedTuple):
    obs: jax.Array  # [N, *obs_shape], already normalised
    action: jax.Array
    old: PolicyExtras
    advantages: jax.Array  # [N]
    targets: jax.Array  # [N] lambda-returns for the value function


class Start(NamedTuple):
    """The fields every on-policy ``State`` begins with; each algorithm adds its optimiser state(s)."""

    params: Params
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    obs_stats: normalize.RunningMeanStd
    reward_scaler: normalize.RewardScaler
    key: jax.Array
    update_step: jax.Array


class ValueFitState(NamedTuple):
    """Training state of VPG and TRPO: `Start` plus the optimiser states of the policy step (TRPO has
    no policy optimiser: ``()``) and of the value fit."""

    params: Params
    policy_opt_state: Any
    value_opt_state: optax.OptState
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    obs_stats: normalize.RunningMeanStd
    reward_scaler: normalize.RewardScaler
    key: jax.Array
    update_step: jax.Array


def value_fit_state(start: Start, policy_optimizer: optax.GradientTransformation | None,
                    value_optimizer: optax.GradientTransformation) -> ValueFitState:
    """The `ValueFitState` that begins at ``start`` (``policy_optimizer=None``: no policy optimiser state)."""
    policy_opt_state = policy_optimizer.init(start.params.policy) if policy_optimizer is not None else ()
    return ValueFitState(**start._asdict(), policy_opt_state=policy_opt_state, value_opt_state=value_optimizer.init(start.params.value))


class Metrics(NamedTuple):
    """What one update of any on-policy algorithm reports (scalars per update)."""

    episode: EpisodeMetrics
    # the algorithm's policy objective, negated, before (VPG, TRPO) or during (PPO) the step; TRPO's is -L(theta_old) =
    # -E[A], 0 up to float rounding under norm_adv (its step's gain is details.policy_step.surrogate_improvement)
    policy_loss: jax.Array
    # the value loss as optimised: mean 0.5 (V - R)^2 over the separate fit's steps (VPG, TRPO), or PPO's joint-loss
    # value term over its epochs and minibatches (the clipped max form under clip_value)
    value_loss: jax.Array
    # mean entropy of the policy over the batch's states: the policy before the step (VPG, TRPO), or averaged over
    # PPO's epochs and minibatches as the policy moves (as its policy_loss is): read it within an algorithm, not across
    entropy: jax.Array
    kl: jax.Array  # exact mean KL(pi_old || pi_new) over the batch after the update
    details: Any  # the algorithm's own diagnostics (a NamedTuple)


# ----------------------------------------------------------------------------------------------
# Acting.
# ----------------------------------------------------------------------------------------------


def check_env(env, env_params) -> None:
    """Nothing to refuse: the actor-critic networks take any ``Box`` observation, and a ``Discrete`` one
    (FrozenLake, CliffWalking, Taxi: a state index) arrives one-hot encoded (`build_agent`). Kept so
    that every algorithm module offers the ``check_env(env, env_params)`` the driver and sweeps call."""


def make_networks(config: Config, action_space) -> Networks:
    hidden = (config.hidden_size,) * config.num_layers
    return Networks(
        policy=make_policy(action_space, hidden, config.activation, config.init_log_std),
        value=ValueNetwork(hidden, config.activation),
    )


def observe(config: Config, obs_stats: normalize.RunningMeanStd, obs: jax.Array) -> jax.Array:
    """The network input: ``obs`` normalised by ``obs_stats`` when ``config.normalize_obs``."""
    return normalize.normalize(obs_stats, obs) if config.normalize_obs else obs


def sample_action(networks: Networks, config: Config, acting: ActingParams, key, obs):
    """Behaviour policy for the rollout: a ~ pi_theta(.|s), with what `PolicyExtras` records."""
    x = observe(config, acting.obs_stats, obs)
    dist = networks.policy.apply(acting.params.policy, x)
    action = dist.sample(key)
    return action, PolicyExtras(dist.log_prob(action), networks.value.apply(acting.params.value, x), dist)


def greedy_action(networks: Networks, config: Config, state, obs):
    """The deterministic policy (the distribution's mode), with the training statistics frozen."""
    return networks.policy.apply(state.params.policy, observe(config, state.obs_stats, obs)).mode()


def wrap_envs(venv):
    """The training envs as the networks see them: a ``Discrete`` (state-index) observation one-hot
    (`OneHotObservations`), any other as it is."""
    return OneHotObservations(venv) if isinstance(venv.observation_space, spaces.Discrete) else venv


def _greedy_on_state_index(act, state_space, state, obs):
    """``act`` for an env whose observations are state indices: encode them as training saw them."""
    return act(state, one_hot_state(state_space, obs))


# ----------------------------------------------------------------------------------------------
# Learning.
# ----------------------------------------------------------------------------------------------


def prepare_batch(
    params: Params, obs_stats: normalize.RunningMeanStd, reward_scaler: normalize.RewardScaler, traj: Trajectory,
    networks: Networks, config: Config,
) -> tuple[Batch, normalize.RewardScaler]:
    """Trajectory ``[T, B]`` -> flat ``Batch [T*B]`` with GAE advantages and lambda-return targets.

    Observations are normalised with the statistics the rollout used; with ``normalize_reward`` the
    reward scaler is updated first and the scaled rewards enter GAE. V(s'_t) is evaluated on the
    pre-reset ``next_obs``, so `rl_zoo.core.returns.gae` can bootstrap truncated steps.
    """
    next_values = networks.value.apply(params.value, observe(config, obs_stats, traj.next_obs))  # [T, B]
    rewards = traj.reward  # [T, B]
    if config.normalize_reward:
        reward_scaler = normalize.reward_scaler_update(reward_scaler, rewards, traj.episode_done, config.gamma)
        rewards = normalize.scale_reward(reward_scaler, rewards)
    advantages, targets = gae(rewards, traj.extras.value, next_values, traj.terminated, traj.truncated, config.gamma, config.gae_lambda)
    batch = flatten_time_batch(Batch(observe(config, obs_stats, traj.obs), traj.action, traj.extras, advantages, targets))
    return batch, reward_scaler


def batch_advantages(batch: Batch, config: Config) -> jax.Array:
    """The advantages ``[N]`` the policy step uses: normalised over the batch when ``config.norm_adv``."""
    return losses.normalize_advantages(batch.advantages) if config.norm_adv else batch.advantages


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


class ValueFit(NamedTuple):
    params: Any
    opt_state: optax.OptState
    loss: jax.Array  # mean 0.5 (V - R)^2 over the fit's steps
    key: jax.Array  # the state's key after the split the fit used


def fit_value_on_batch(state, batch: Batch, networks: Networks, optimizer, config: ValueFitConfig) -> ValueFit:
    """`fit_value` on the batch's lambda-returns, from ``state.params.value`` and ``state.value_opt_state``."""
    key, key_value = jax.random.split(state.key)
    params, opt_state, loss = fit_value(
        state.params.value, state.value_opt_state, key_value, batch.obs, batch.targets,
        networks.value.apply, optimizer, config.value_iters, config.value_minibatches,
    )
    return ValueFit(params=params, opt_state=opt_state, loss=loss, key=key)


def make_value_optimizer(config: ValueFitConfig) -> optax.GradientTransformation:
    return optax.adam(config.value_lr)


def learning_rate(config, steps: int):
    """``config.learning_rate``, decayed linearly to 0 over ``steps`` optimiser steps when ``config.anneal_lr``."""
    return optax.linear_schedule(config.learning_rate, 0.0, steps) if config.anneal_lr else config.learning_rate


def finish_update(state, traj: Trajectory, reward_scaler: normalize.RewardScaler, key: jax.Array, config: Config, **changes):
    """``state`` after one update: ``changes`` (new parameters, optimiser states), the observation
    statistics advanced by the trajectory's observations, the reward scaler, the key, the counter."""
    return state._replace(
        **changes,
        obs_stats=normalize.rms_update(state.obs_stats, traj.obs) if config.normalize_obs else state.obs_stats,
        reward_scaler=reward_scaler,
        key=key,
        update_step=state.update_step + 1,
    )


# ----------------------------------------------------------------------------------------------
# Binding to an env.
# ----------------------------------------------------------------------------------------------


def build_agent(
    config: Config, env, env_params, networks: Networks, learn_fn: Callable[[Any, Trajectory], tuple[Any, Metrics]],
    make_state: Callable[[Start], Any],
) -> Agent:
    """``Agent(init, update, act, ...)`` for an on-policy method (its ``make_agent`` validated the config).

    ``init`` draws the network parameters and resets the envs into a `Start`, which ``make_state``
    completes into the algorithm's State (its optimiser states). ``update`` = rollout of
    ``config.num_steps`` steps with `sample_action`, then ``learn_fn(state, trajectory)``. A
    ``Discrete`` (state-index) observation is one-hot encoded on its way in (`OneHotObservations`,
    and ``act`` encodes the index it is given), so the trajectory, the observation statistics and the
    networks see vectors of ``n`` floats.
    """
    venv = vectorize(env, env_params, config.num_envs)
    state_space = venv.observation_space
    venv = EpisodeStatistics(wrap_envs(venv))
    obs_space = venv.observation_space
    policy_fn = partial(sample_action, networks, config)
    act = partial(greedy_action, networks, config)
    if isinstance(state_space, spaces.Discrete):  # evaluation, rl_zoo.load and enjoy hand it the env's own index
        act = partial(_greedy_on_state_index, act, state_space)
    if not venv.is_jax:  # the host-loop rollout calls learn eagerly: compile it once
        learn_fn = jax.jit(learn_fn)

    def init(key: jax.Array):
        key, k_pi, k_v, k_env = jax.random.split(key, 4)
        dummy = jnp.zeros(obs_space.shape, jnp.float32)
        params = Params(policy=networks.policy.init(k_pi, dummy), value=networks.value.init(k_v, dummy))
        obs, env_state = venv.reset(k_env)
        return make_state(Start(
            params=params,
            env_state=env_state,
            obs=obs,
            obs_stats=normalize.rms_init(obs_space.shape),
            reward_scaler=normalize.reward_scaler_init(config.num_envs),
            key=key,
            update_step=jnp.array(0, jnp.int32),
        ))

    def update(state):
        key, key_rollout = jax.random.split(state.key)
        acting = ActingParams(params=state.params, obs_stats=state.obs_stats)
        env_state, obs, traj = rollout(venv, policy_fn, acting, state.env_state, state.obs, key_rollout, config.num_steps)
        return learn_fn(state._replace(env_state=env_state, obs=obs, key=key), traj)

    return Agent(
        init=init,
        update=update,
        act=act,
        wrap_envs=wrap_envs,
        env_steps_per_update=config.batch_size,
        num_updates=config.num_updates,
    )
