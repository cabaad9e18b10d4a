"""Deep Q-Network (Mnih et al. 2015, "Human-level control through deep reinforcement learning",
Nature 518) and Double DQN (van Hasselt, Guez & Silver 2016, "Deep reinforcement learning with
double Q-learning", AAAI), one file, switched by ``Config.double``.

The Q-network Q(s, .; theta) is trained by Adam on the Huber loss (Huber 1964; Mnih et al.'s "error
clipping" to [-1, 1] is its gradient) between Q(s, a; theta) and a one-step TD target computed with
a target network theta^- on minibatches drawn uniformly from a replay buffer (Lin 1992):

    L(theta) = E_{(s, a, r, s') ~ U(D)} [ huber( y - Q(s, a; theta) ) ]
    DQN         y = r + gamma (1 - terminated) max_a' Q(s', a'; theta^-)                 (Mnih et al.)
    Double DQN  y = r + gamma (1 - terminated) Q(s', argmax_a' Q(s', a'; theta); theta^-)
                   (van Hasselt et al. 2016, section "Double DQN": Double Q-learning's eq. 4 with
                    its second network theta' replaced by the target network theta^-)

With ``n_step = n > 1`` the target sums n rewards before bootstrapping (Sutton 1988; Hessel et al.
2018, "Rainbow", eq. 2; ``rl_zoo.core.buffers.replay_buffer_sample_n_step``), stopping early at the end
of an episode: y = sum_{k<m} gamma^k r_{t+k} + gamma^m (1 - terminated) V(s_{t+m}), m <= n. It is
off-policy for m > 1 (the behaviour policy's actions, uncorrected), as in Rainbow.

Only ``terminated`` drops the bootstrap; a step cut by the time limit (``truncated``) bootstraps
from Q of its final observation, which the replay buffer keeps as ``next_obs`` (Pardo et al. 2018,
"Time limits in reinforcement learning").

One ``update`` (one iteration of the driver's jitted scan):

1. ``train_frequency`` steps of ``num_envs`` envs with an epsilon-greedy policy (through
   ``rl_zoo.core.rollout``: ``lax.scan`` for JAX envs, a host loop for gymnasium envs):

   * warm-up: in the updates that end before ``learning_starts`` env steps are stored, the policy is
     uniformly random (Mnih et al.'s "replay start size"; ``num_warmup_updates``);
   * schedule: from the update whose collection reaches ``learning_starts`` (whose gradient steps are
     the first), epsilon is the linear schedule from ``epsilon_start`` at env step 0 to ``epsilon_end``
     at ``exploration_fraction`` of training, read at the env step the update starts on (so the first
     learning update already plays below ``epsilon_start``, SB3's schedule);
   * staircase: epsilon is read once per update, so it holds for ``env_steps_per_update`` env steps
     (tuned CartPole, ``learning_starts`` 1000 and 256 steps per update: steps 768-999 already run
     at epsilon 0.905, not 1; with ``learning_starts`` no larger than one update's steps no update is
     wholly random);

2. the ``train_frequency * num_envs`` transitions go into the replay buffer in one write;
3. once ``learning_starts`` env steps are stored, ``gradient_steps`` Adam steps (a ``lax.scan``,
   skipped by ``lax.cond`` before that). After every ``target_update_interval`` gradient steps the
   target network moves to theta^- <- tau theta + (1 - tau) theta^- (tau = 1: the hard copy of Mnih
   et al.; tau < 1: Polyak averaging, Lillicrap et al. 2016).

Under ``jax.vmap`` over seeds the ``lax.cond`` becomes a select, so the few updates before
``learning_starts`` compute (and discard) a gradient phase too; the results are the same.
``anneal_lr`` (off by default, not in the papers) decays Adam's step size linearly to 0, which
freezes the final greedy policy; the tuned CartPole and MountainCar settings use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import optax

from envs import EpisodeStatistics, spaces, vectorize
from envs.wrappers import one_hot_state
from rl_zoo.config import check, check_config_class, check_step_count, check_types, unread_notes
from rl_zoo.core import losses
from rl_zoo.core.buffers import (
    Experience,
    ReplayBufferState,
    flatten_time_batch,
    replay_buffer_add,
    replay_buffer_init,
    replay_buffer_sample,
    replay_buffer_sample_n_step,
)
from rl_zoo.core.networks import QNetwork, check_layers
from rl_zoo.core.rollout import rollout
from rl_zoo.core.types import Agent, EpisodeMetrics, episode_metrics, scan_train


@dataclass(frozen=True)
class Config:
    total_timesteps: int = 500_000
    """Env steps per seed over the whole run (5e4 for CartPole, 1e5-2e5 for Acrobot and MountainCar)."""
    num_envs: int = 1
    """Parallel envs per seed (1-16); each update takes num_envs * train_frequency env steps."""
    buffer_size: int = 100_000
    """Replay buffer capacity in transitions (1e4-1e6); at least num_envs * train_frequency."""
    learning_starts: int = 1_000
    """Env steps stored before the first gradient step (0-5e4); played uniformly at random in whole updates (module docstring)."""
    batch_size: int = 64
    """Transitions sampled from the buffer per gradient step (32-256)."""
    learning_rate: float = 1e-4
    """Adam step size (1e-4 to 4e-3)."""
    anneal_lr: bool = False
    """Decay the learning rate linearly to 0 over training's gradient steps (freezes the final policy)."""
    gamma: float = 0.99
    """Discount factor (0.9-0.999)."""
    n_step: int = 1
    """Rewards summed before bootstrapping: the n-step TD target (1-5; 1 is Mnih et al.'s, Rainbow uses 3)."""
    train_frequency: int = 4
    """Env steps (per env) between training phases (1-256)."""
    gradient_steps: int = 1
    """Gradient steps per training phase (1-256); train_frequency * num_envs / gradient_steps env steps per gradient step."""
    target_update_interval: int = 1_000
    """Gradient steps between target-network updates (1-10000)."""
    tau: float = 1.0
    """Target update rate: 1 copies the online network (hard update); < 1 is Polyak averaging (0.005-1)."""
    epsilon_start: float = 1.0
    """Exploration rate epsilon at the start of the linear schedule (0.5-1)."""
    epsilon_end: float = 0.05
    """Exploration rate epsilon after the schedule (0.01-0.1)."""
    exploration_fraction: float = 0.1
    """Fraction of total_timesteps over which epsilon decays linearly from epsilon_start to epsilon_end (0.05-0.5; 0: epsilon_end from the first learning update)."""
    max_grad_norm: float = 10.0
    """Global gradient-norm clip (1-10)."""
    double: bool = False
    """Double DQN (van Hasselt et al. 2016): select a' with the online network, evaluate it with the target network."""
    hidden_size: int = 64
    """Units per hidden layer of the Q-network (64-256)."""
    num_layers: int = 2
    """Hidden layers of the Q-network (1-3)."""
    activation: str = "relu"
    """Hidden activation: relu, tanh, elu or gelu."""

    @property
    def env_steps_per_update(self) -> int:
        return self.num_envs * self.train_frequency

    @property
    def num_updates(self) -> int:
        return self.total_timesteps // self.env_steps_per_update

    @property
    def num_warmup_updates(self) -> int:
        """Updates that only collect (random actions, no gradient step): those after which fewer than
        ``learning_starts`` env steps are stored."""
        return max(0, -(-self.learning_starts // self.env_steps_per_update) - 1)

    @property
    def exploration_steps(self):
        """Env steps over which epsilon decays (a float, so that exploration_fraction may be vmapped)."""
        return self.exploration_fraction * self.total_timesteps

    def _least_budget(self) -> str:
        """The smallest total_timesteps every rule takes with these fields: whole updates, past learning_starts
        (its warm-up), one that learns; "one update" where a field is traced."""
        if not all(isinstance(v, int) for v in (self.learning_starts, self.num_envs, self.train_frequency)):
            return f"{self.env_steps_per_update:,}"
        steps = self.env_steps_per_update * (max(0, self.learning_starts) // self.env_steps_per_update + 1)
        return f"{steps:,}" + (f" (learning_starts = {self.learning_starts:,} env steps of warm-up come first)"
                               if steps > self.env_steps_per_update else "")

    def _update_that_fits(self) -> str:
        """Field values that make one update's env steps fit in total_timesteps (and learning_starts below it)."""
        if not all(isinstance(v, int) for v in (self.total_timesteps, self.num_envs, self.learning_starts)):
            return "lower num_envs or train_frequency"  # a value traced (vmapped): the rule is built before check()
        if self.total_timesteps >= self.num_envs:
            fix = f"train_frequency={self.total_timesteps // self.num_envs}"
        else:
            fix = f"num_envs={self.total_timesteps}, train_frequency=1"
        return fix + (", learning_starts=0" if self.learning_starts >= self.total_timesteps else "")

    def notes(self) -> list[str]:
        """Lines for the run's log on settings that train but cannot be what was meant (the driver prints them):
        epsilon_start given where exploration_fraction = 0 never plays it (``config.unread_notes``); a buffer smaller
        than a batch; fewer learning gradient steps than ``target_update_interval`` leave the target network at its
        random initial weights for the whole run (DQN bootstraps from it throughout)."""
        warmup = isinstance(self.learning_starts, int) and self.num_warmup_updates > 0
        notes = unread_notes(self, {"epsilon_start": "exploration_fraction = 0 plays epsilon_end from the first learning update"
                                                    + (" (the warm-up before learning_starts plays uniformly at random)" if warmup else "")}
                             if isinstance(self.exploration_fraction, (int, float)) and self.exploration_fraction == 0 else {})
        if isinstance(self.buffer_size, int) and isinstance(self.batch_size, int) and self.buffer_size < self.batch_size:
            notes.append(f"note: buffer_size = {self.buffer_size:,} holds fewer transitions than a batch (batch_size = "
                         f"{self.batch_size:,}): each batch repeats transitions (drawn with replacement)")
        fields = (self.total_timesteps, self.num_envs, self.train_frequency, self.learning_starts, self.gradient_steps,
                  self.target_update_interval)
        if not all(isinstance(v, int) for v in fields):  # a swept (traced) field: no concrete count
            return notes
        learning = max(self.num_updates - self.num_warmup_updates, 0) * self.gradient_steps
        if learning >= self.target_update_interval:
            return notes
        return notes + [f"note: target_update_interval = {self.target_update_interval:,} gradient steps, but this run takes "
                        f"{learning:,}: the target network stays at its random initial weights and DQN bootstraps from it "
                        f"throughout (--set target_update_interval={max(learning // 10, 1)}, say, or a larger --total-steps)"]

    def validate(self) -> None:
        check_types(self)  # each field's type first: double="no" was truthy (Double DQN)
        for name in ("total_timesteps", "num_envs", "buffer_size", "batch_size", "train_frequency",
                     "gradient_steps", "target_update_interval", "hidden_size", "n_step"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check_layers(self.num_layers)
        check(self.n_step <= self.buffer_size // self.num_envs, "n_step", self.n_step,
              f"must be at most the steps of one env the buffer holds (buffer_size / num_envs = {self.buffer_size} / "
              f"{self.num_envs} = {self.buffer_size // self.num_envs}); 1 to 5 are usual (Rainbow's 3)")
        check(self.learning_starts >= 0, "learning_starts", self.learning_starts, "must be >= 0")
        check(self.buffer_size >= self.env_steps_per_update, "buffer_size", self.buffer_size,
              f"must hold one update's transitions (num_envs * train_frequency = {self.env_steps_per_update})")
        check(self.total_timesteps >= self.env_steps_per_update, "total_timesteps", self.total_timesteps,
              f"must be at least one update (num_envs * train_frequency = {self.num_envs} * {self.train_frequency} "
              f"= {self.env_steps_per_update}): raise it to {self._least_budget()} or more, or shrink the "
              f"update to fit ({self._update_that_fits()})")
        check(self.learning_starts < self.total_timesteps, "learning_starts", self.learning_starts,
              f"must be below total_timesteps = {self.total_timesteps}, or DQN never learns: lower it, or raise "
              f"total_timesteps to {self._least_budget()} or more")
        if isinstance(self.learning_starts, int) and isinstance(self.total_timesteps, int):  # concrete (not vmapped)
            # the updates round down and the warm-up ones up: learning_starts just below total_timesteps left none
            check(self.num_updates > self.num_warmup_updates, "learning_starts", self.learning_starts,
                  f"leaves no update that learns ({self.num_updates} update(s) of num_envs * train_frequency = "
                  f"{self.env_steps_per_update} env steps, {self.num_warmup_updates} of them warm-up): lower it or "
                  f"raise total_timesteps to {self._least_budget()} or more")
        check_step_count(self.num_updates * self.gradient_steps, "total_timesteps", self.total_timesteps,
                         "num_updates x gradient_steps gradient steps")
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check((0 <= self.gamma) & (self.gamma <= 1), "gamma", self.gamma, "must be in [0, 1]")  # 0: y = r, as Q-learning's
        check((0 < self.tau) & (self.tau <= 1), "tau", self.tau, "must be in (0, 1]")
        for name in ("epsilon_start", "epsilon_end", "exploration_fraction"):
            check((0 <= getattr(self, name)) & (getattr(self, name) <= 1), name, getattr(self, name), "must be in [0, 1]")
        check(self.max_grad_norm > 0, "max_grad_norm", self.max_grad_norm, "must be > 0")
        check(self.activation in ("tanh", "relu", "elu", "gelu"), "activation", self.activation, "must be tanh, relu, elu or gelu")


def check_env(env, env_params) -> None:
    """DQN needs a finite action set: it acts by argmax_a Q(s, a) and bootstraps from max_a' Q(s', a')."""
    space = env.action_space(env_params)
    if not isinstance(space, spaces.Discrete):
        raise ValueError(
            f"DQN cannot run on {getattr(env, 'id', '') or type(env).__name__}: its action space is {space}, "
            "continuous, and DQN needs a discrete one (it outputs one Q-value per action and takes "
            "argmax_a Q(s, a), a maximum over a finite set). Use a policy-gradient method, which handles "
            "continuous actions: ppo, trpo or vpg."
        )


class State(NamedTuple):
    params: Any  # online network theta
    target_params: Any  # target network theta^-
    opt_state: optax.OptState
    buffer: ReplayBufferState
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    key: jax.Array
    update_step: jax.Array  # updates done (each num_envs * train_frequency env steps)
    gradient_step: jax.Array  # gradient steps done (drives the target-network updates)


class LossInfo(NamedTuple):
    loss: jax.Array  # mean Huber TD loss of the minibatch
    q_max: jax.Array  # mean over sampled states of max_a Q(s, a; theta): the value estimate
    q_taken: jax.Array  # mean Q(s, a; theta) of the sampled (s, a)
    target: jax.Array  # mean TD target y


class Metrics(NamedTuple):
    episode: EpisodeMetrics
    loss: jax.Array  # mean over this update's gradient steps (0 before learning starts)
    q_max: jax.Array  # mean max_a Q(s, a) of sampled states, to compare with realised returns
    q_taken: jax.Array
    target: jax.Array
    epsilon: jax.Array  # exploration rate used for this update's env steps
    learning: jax.Array  # bool: gradient steps ran in this update


def make_network(config: Config, action_space) -> QNetwork:
    return QNetwork(action_space.n, (config.hidden_size,) * config.num_layers, config.activation)


def features(obs_space, obs: jax.Array) -> jax.Array:
    """Network input: the observation as float32; a Discrete observation (toy-text) becomes one-hot."""
    if isinstance(obs_space, spaces.Discrete):
        return one_hot_state(obs_space, obs)
    return obs.astype(jnp.float32)


# --- the math --------------------------------------------------------------------------------------


def linear_epsilon(env_step: jax.Array, start: float, end: float, duration: int) -> jax.Array:
    """epsilon(t) = start + (end - start) min(t / duration, 1) (Mnih et al. 2015: 1 -> 0.1 over 1e6 frames); a
    zero ``duration`` (``exploration_fraction=0``: no decay) is ``end`` from step 0 (it played the whole first
    update, 256 env steps on tuned CartPole, at ``start``)."""
    frac = jnp.where(duration > 0, jnp.clip(env_step / jnp.maximum(duration, 1), 0.0, 1.0), 1.0)
    return jnp.asarray(start + (end - start) * frac, jnp.float32)


def epsilon_greedy(key: jax.Array, q_values: jax.Array, epsilon: jax.Array) -> jax.Array:
    """With probability epsilon a uniformly random action, else argmax_a Q(s, a). ``q_values [B, A] -> [B]``."""
    chex.assert_rank(q_values, 2)
    k_explore, k_action = jax.random.split(key)
    batch, num_actions = q_values.shape
    random_action = jax.random.randint(k_action, (batch,), 0, num_actions, dtype=jnp.int32)
    explore = jax.random.uniform(k_explore, (batch,)) < epsilon
    return jnp.where(explore, random_action, jnp.argmax(q_values, axis=-1).astype(jnp.int32))


def bootstrap_value(q_next_target: jax.Array, q_next_online: jax.Array | None, double: bool) -> jax.Array:
    """The value of s' in the TD target, ``[N, A] -> [N]``.

    DQN (Mnih et al. 2015): max_a' Q(s', a'; theta^-), the target network both selects and evaluates.
    Double DQN (van Hasselt et al. 2016, section "Double DQN": their eq. 4, Double Q-learning, with the
    target network theta^- as its second network): Q(s', argmax_a' Q(s', a'; theta); theta^-), the
    online network selects and the target network evaluates, which removes the upward bias of
    max over noisy estimates.
    """
    chex.assert_rank(q_next_target, 2)
    if not double:
        return q_next_target.max(axis=-1)
    chex.assert_equal_shape([q_next_target, q_next_online])
    a_star = jnp.argmax(q_next_online, axis=-1)  # [N]
    return jnp.take_along_axis(q_next_target, a_star[:, None], axis=-1)[:, 0]


def q_learning_targets(
    reward: jax.Array,
    terminated: jax.Array,
    q_next_target: jax.Array,
    q_next_online: jax.Array | None,
    gamma: float,
    double: bool,
) -> jax.Array:
    """y = r + gamma (1 - terminated) V(s'), V(s') from ``bootstrap_value``; truncation does not stop it."""
    return losses.td_target(reward, bootstrap_value(q_next_target, q_next_online, double), terminated, gamma)


def dqn_loss(params, target_params, batch: Experience, network: QNetwork, obs_space, config: Config, discount=None):
    """Mean Huber loss between Q(s, a; theta) and the (constant) TD target on a minibatch ``[N]``.
    ``discount [N]`` (n-step targets: gamma^m, with ``batch.reward`` the m-step discounted sum)
    replaces ``config.gamma`` when given."""
    q = network.apply(params, features(obs_space, batch.obs))  # [N, A]
    next_x = features(obs_space, batch.next_obs)
    q_next_target = network.apply(target_params, next_x)  # [N, A]
    q_next_online = jax.lax.stop_gradient(network.apply(params, next_x)) if config.double else None
    y = jax.lax.stop_gradient(
        q_learning_targets(batch.reward, batch.terminated, q_next_target, q_next_online,
                           config.gamma if discount is None else discount, config.double)
    )  # [N]
    q_taken = jnp.take_along_axis(q, batch.action.astype(jnp.int32)[:, None], axis=-1)[:, 0]  # [N]
    chex.assert_equal_shape([q_taken, y])
    loss = losses.huber_loss(q_taken - y).mean()
    return loss, LossInfo(loss, jax.lax.stop_gradient(q.max(axis=-1).mean()), jax.lax.stop_gradient(q_taken.mean()), y.mean())


def update_target(params, target_params, gradient_step: jax.Array, interval: int, tau: float):
    """Every ``interval`` gradient steps theta^- <- tau theta + (1 - tau) theta^- (tau = 1: hard copy,
    exactly, since 1 * theta + 0 * theta^- = theta). ``tau`` may be traced (vmapped)."""
    due = gradient_step % interval == 0
    hard = isinstance(tau, (int, float)) and tau == 1.0  # a Python 1.0 skips the arithmetic
    moved = params if hard else optax.incremental_update(params, target_params, tau)
    return jax.tree.map(lambda new, old: jnp.where(due, new, old), moved, target_params)


def make_optimizer(config: Config) -> optax.GradientTransformation:
    steps = max(config.num_updates - config.num_warmup_updates, 1) * config.gradient_steps
    lr = optax.linear_schedule(config.learning_rate, 0.0, steps) if config.anneal_lr else config.learning_rate
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(lr))


# --- acting and learning ---------------------------------------------------------------------------


def behaviour_action(network: QNetwork, obs_space, policy_params, key, obs):
    """Epsilon-greedy behaviour policy for the rollout: ``policy_params = (params, epsilon)``."""
    params, epsilon = policy_params
    return epsilon_greedy(key, network.apply(params, features(obs_space, obs)), epsilon), None


def greedy_action(network: QNetwork, obs_space, state: State, obs):
    """argmax_a Q(s, a; theta): the policy that evaluation runs."""
    return jnp.argmax(network.apply(state.params, features(obs_space, obs)), axis=-1).astype(jnp.int32)


def epsilon_for_update(config: Config, update_step: jax.Array) -> jax.Array:
    """Uniformly random play (epsilon = 1) while filling the buffer, then the linear schedule read at
    the env-step count where this update starts."""
    scheduled = linear_epsilon(update_step * config.env_steps_per_update, config.epsilon_start, config.epsilon_end,
                               config.exploration_steps)
    return jnp.where(update_step < config.num_warmup_updates, 1.0, scheduled)


def sample_batch(buffer: ReplayBufferState, key: jax.Array, config: Config) -> tuple[Experience, jax.Array | None]:
    """A uniform minibatch and its bootstrap discount: one-step transitions (discount = config.gamma,
    returned as None) or, with ``n_step > 1``, n-step ones (``replay_buffer_sample_n_step``)."""
    if config.n_step == 1:
        return replay_buffer_sample(buffer, key, config.batch_size), None
    batch = replay_buffer_sample_n_step(buffer, key, config.batch_size, config.n_step, config.gamma, config.num_envs)
    return batch.experience, batch.discount


def gradient_phase(state: State, network: QNetwork, obs_space, optimizer, config: Config) -> tuple[State, LossInfo]:
    """``gradient_steps`` Adam steps on ``dqn_loss``, each on a fresh uniform minibatch, with the
    target update rule after each; returns the mean ``LossInfo``."""
    grad_fn = jax.grad(partial(dqn_loss, network=network, obs_space=obs_space, config=config), has_aux=True)

    def step(carry, key):
        params, target_params, opt_state, gradient_step = carry
        batch, discount = sample_batch(state.buffer, key, config)
        grads, info = grad_fn(params, target_params, batch, discount=discount)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        gradient_step = gradient_step + 1
        target_params = update_target(params, target_params, gradient_step, config.target_update_interval, config.tau)
        return (params, target_params, opt_state, gradient_step), info

    key, key_steps = jax.random.split(state.key)
    carry = (state.params, state.target_params, state.opt_state, state.gradient_step)
    (params, target_params, opt_state, gradient_step), infos = jax.lax.scan(
        step, carry, jax.random.split(key_steps, config.gradient_steps)
    )
    state = state._replace(params=params, target_params=target_params, opt_state=opt_state, key=key, gradient_step=gradient_step)
    return state, jax.tree.map(jnp.mean, infos)


def learn(state: State, traj, epsilon, network: QNetwork, obs_space, optimizer, config: Config) -> tuple[State, Metrics]:
    """Store the trajectory ``[T, B]`` in the buffer, then the gradient phase once learning has started."""
    buffer = replay_buffer_add(state.buffer, flatten_time_batch(traj))
    state = state._replace(buffer=buffer)
    learning = state.update_step >= config.num_warmup_updates

    def learn_now(s):  # float32 as skip's zeros: under JAX_ENABLE_X64 a config's float promotes the losses to float64
        s, info = gradient_phase(s, network=network, obs_space=obs_space, optimizer=optimizer, config=config)
        return s, jax.tree.map(lambda x: x.astype(jnp.float32), info)

    def skip(s):
        zero = jnp.zeros((), jnp.float32)
        return s, LossInfo(zero, zero, zero, zero)

    state, info = jax.lax.cond(learning, learn_now, skip, state)
    state = state._replace(update_step=state.update_step + 1)
    return state, Metrics(episode_metrics(traj), info.loss, info.q_max, info.q_taken, info.target, epsilon, learning)


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind DQN to an env: ``init``, ``update`` (epsilon-greedy rollout + replay learning) and the greedy ``act``."""
    check_config_class(config, Config)
    config.validate()
    check_env(env, env_params)
    venv = EpisodeStatistics(vectorize(env, env_params, config.num_envs))
    obs_space, action_space = env.observation_space(env_params), env.action_space(env_params)
    network = make_network(config, action_space)
    optimizer = make_optimizer(config)
    policy_fn = partial(behaviour_action, network, obs_space)
    learn_fn = partial(learn, network=network, obs_space=obs_space, optimizer=optimizer, config=config)
    if not venv.is_jax:  # the host-loop rollout calls learn eagerly: compile it once
        learn_fn = jax.jit(learn_fn)

    def init(key: jax.Array) -> State:
        key, k_net, k_env = jax.random.split(key, 3)
        dummy_obs = jnp.zeros(obs_space.shape, obs_space.dtype)
        params = network.init(k_net, features(obs_space, dummy_obs))
        obs, env_state = venv.reset(k_env)
        return State(
            params=params,
            target_params=params,
            opt_state=optimizer.init(params),
            buffer=replay_buffer_init(config.buffer_size, dummy_obs, jnp.zeros(action_space.shape, action_space.dtype)),
            env_state=env_state,
            obs=obs,
            key=key,
            update_step=jnp.array(0, jnp.int32),
            gradient_step=jnp.array(0, jnp.int32),
        )

    def update(state: State) -> tuple[State, Metrics]:
        key, key_rollout = jax.random.split(state.key)
        epsilon = epsilon_for_update(config, state.update_step)
        env_state, obs, traj = rollout(venv, policy_fn, (state.params, epsilon), state.env_state, state.obs, key_rollout,
                                       config.train_frequency)
        return learn_fn(state._replace(env_state=env_state, obs=obs, key=key), traj, epsilon)

    return Agent(init, update, partial(greedy_action, network, obs_space), config.env_steps_per_update, config.num_updates)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept (a gymnasium
    env steps through host callbacks: ``rl_zoo.host.batched_env.jittable``)."""
    from rl_zoo.host.batched_env import jittable

    return scan_train(make_agent(config, jittable(env), env_params))
