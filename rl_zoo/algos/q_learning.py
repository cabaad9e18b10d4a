"""Tabular Q-learning (Watkins 1989; Watkins & Dayan 1992) and Double Q-learning (van Hasselt 2010).

Q-learning keeps one number per (state, action) and after every step moves it toward a one-step
target (Sutton & Barto 2018, eq. 6.8):

    Q(S_t, A_t) <- Q(S_t, A_t) + alpha [R_{t+1} + gamma max_a Q(S_{t+1}, a) - Q(S_t, A_t)]

with actions chosen epsilon-greedily from Q. With every pair visited infinitely often and step
sizes that satisfy sum alpha = inf, sum alpha^2 < inf, Q converges to Q* (Watkins & Dayan 1992).

Double Q-learning (van Hasselt 2010, Algorithm 1) removes the maximisation bias of the max
(Sutton & Barto 2018, sec. 6.7) with two tables: at each step a fair coin picks the table to
update, say Q^A; the next action is *selected* by Q^A and *evaluated* by Q^B:

    a* = argmax_a Q^A(S_{t+1}, a),   Q^A(S_t, A_t) <- Q^A(S_t, A_t) + alpha [R + gamma Q^B(S_{t+1}, a*) - Q^A(S_t, A_t)]

and the behaviour policy is epsilon-greedy in Q^A + Q^B. Here the tables are one array
``q [n_tables, S, A]`` (``n_tables`` 2 with ``Config.double``, else 1), so plain Q-learning is the
case where the selecting and evaluating tables are the same one.

Time limits. ``terminated`` zeroes the bootstrap; a step cut by the time limit (``truncated``) is
*not* terminal and bootstraps from the observation it ended on, ``info["final_obs"]`` (the env has
already auto-reset; Pardo et al. 2018, "Time limits in reinforcement learning").

Parallel envs. Each update steps ``num_envs`` envs once and computes every TD error from the same
table; where several envs hit the same (table, state, action) the entry moves by alpha times their
*mean* TD error, so the step never exceeds alpha however many envs agree. With ``num_envs = 1``
this is exactly the sequential algorithm above.

Only Discrete observation and action spaces: :func:`check_env` refuses anything else before any
compilation and points to DQN (continuous observations) or PPO (continuous actions).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import EpisodeStatistics, spaces, vectorize
from rl_zoo.config import ConfigError, check, check_config_class, check_types, unread_notes
from rl_zoo.core.losses import td_target  # y = r + gamma (1 - terminated) v(s'), shared with DQN
from rl_zoo.core.types import Agent, EpisodeMetrics, episode_metrics_from


@dataclass(frozen=True)
class Config:
    total_timesteps: int = 200_000
    """Env steps per seed over the whole run (1e4 for deterministic FrozenLake/CliffWalking, 1e5-1e6 for slippery FrozenLake and Taxi)."""
    num_envs: int = 1
    """Parallel envs per seed, all updating the same table each step (1-64; 1 is Watkins' sequential algorithm)."""
    gamma: float = 0.99
    """Discount factor (0.9-1; 1 only where every policy ends episodes, e.g. with a time limit)."""
    learning_rate: float = 0.1
    """Step size alpha of the TD update (0.01-1; 1 suits deterministic envs; see learning_rate_schedule)."""
    learning_rate_schedule: str = "constant"
    """How alpha changes: "constant"; "linear" (from learning_rate to learning_rate_end over total_timesteps);
    "visits" (alpha = learning_rate / n(s, a)^learning_rate_power, n the visits of that entry so far, this step's
    included: k envs on one entry in a step count k, and move it once by alpha times their mean TD error;
    Even-Dar & Mansour 2003; with power in (0.5, 1] it meets Watkins & Dayan's convergence conditions)."""
    learning_rate_end: float = 0.01
    """Final alpha of the "linear" schedule (0-learning_rate)."""
    learning_rate_power: float = 0.8
    """Exponent omega of the "visits" schedule (0.5-1; van Hasselt 2010 uses 0.8, 1 gives running means)."""
    epsilon_schedule: str = "linear"
    """Exploration schedule from epsilon_start to epsilon_end over exploration_fraction * total_timesteps:
    "linear", "exponential" (geometric: start * (end / start)^(t / T)) or "constant" (epsilon_start throughout)."""
    epsilon_start: float = 1.0
    """Initial probability of a uniformly random action (0.1-1)."""
    epsilon_end: float = 0.05
    """Final probability of a random action (0-0.1; must be > 0 for "exponential")."""
    exploration_fraction: float = 0.5
    """Fraction of total_timesteps over which epsilon decays, then stays at epsilon_end (0.1-1; 0: no decay, epsilon_end from the start)."""
    double: bool = False
    """Double Q-learning (van Hasselt 2010): two tables, one selects the bootstrap action, the other evaluates it."""
    q_init: float = 0.0
    """Initial value of every table entry; above the largest return it is optimistic and drives exploration (0-1)."""
    num_evals: int = 10
    """make_train only: greedy evaluations spread evenly over training (1-100); total_timesteps is rounded down to a
    multiple of num_evals * num_envs. (rl-zoo train: --evals.)"""
    eval_episodes: int = 100
    """make_train only: episodes per greedy evaluation, on separate env copies (0 turns evaluation off; 100-10000).
    (rl-zoo train: --eval-episodes.)"""
    eval_max_steps: int = 1000
    """make_train only: cap on the length of an evaluation episode, for envs without a time limit such as
    CliffWalking-v1 (100-10000); an episode still running at the cap counts with its return so far. (rl-zoo train:
    the env's time limit, or 1000 steps without one.)"""

    @property
    def num_tables(self) -> int:
        return 2 if self.double else 1

    @property
    def updates_per_eval(self) -> int:
        return self.total_timesteps // (self.num_envs * self.num_evals)

    @property
    def env_steps_per_update(self) -> int:
        """Env steps per seed one of the driver's updates takes (each steps ``num_envs`` envs once)."""
        return self.num_envs

    @property
    def num_updates(self) -> int:
        """``make_train``'s updates per seed (each steps num_envs envs once): whole ``num_evals`` segments.
        The driver (``make_agent``) runs ``total_timesteps // num_envs`` and cuts its own segments."""
        return self.updates_per_eval * self.num_evals

    def notes(self) -> list[str]:
        """Lines for the run's log (the driver prints them) on fields given a value that this config's schedules do not
        read (``config.unread_notes``): it trained without a word, config.json recording the value."""
        unread = {}
        if self.learning_rate_schedule != "linear":
            unread["learning_rate_end"] = f'learning_rate_schedule is "{self.learning_rate_schedule}" (only "linear" reads it)'
        if self.learning_rate_schedule != "visits":
            unread["learning_rate_power"] = f'learning_rate_schedule is "{self.learning_rate_schedule}" (only "visits" reads it)'
        if self.epsilon_schedule == "constant":
            for name in ("epsilon_end", "exploration_fraction"):
                unread[name] = 'epsilon_schedule is "constant" (epsilon_start throughout)'
        elif self.epsilon_schedule == "linear" and isinstance(self.exploration_fraction, (int, float)) and self.exploration_fraction == 0:
            unread["epsilon_start"] = "exploration_fraction = 0 plays epsilon_end from the start"  # ("exponential" divides by it)
        return unread_notes(self, unread)

    def validate(self) -> None:
        check_types(self)  # each field's type first (a string "False" is truthy)
        for name in ("total_timesteps", "num_envs", "num_evals", "eval_max_steps"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check(self.eval_episodes >= 0, "eval_episodes", self.eval_episodes, "must be >= 0 (0 turns evaluation off)")
        check(self.total_timesteps >= self.num_envs, "total_timesteps", self.total_timesteps,
              f"must be at least num_envs = {self.num_envs} (one update)")
        check((0 <= self.gamma) & (self.gamma <= 1), "gamma", self.gamma, "must be in [0, 1]")
        check((0 < self.learning_rate) & (self.learning_rate <= 1), "learning_rate", self.learning_rate, "must be in (0, 1]")
        check(self.learning_rate_schedule in ("constant", "linear", "visits"), "learning_rate_schedule",
              self.learning_rate_schedule, 'must be "constant", "linear" or "visits"')
        if self.learning_rate_schedule == "linear":  # the only schedule that reads it
            check((0 <= self.learning_rate_end) & (self.learning_rate_end <= self.learning_rate), "learning_rate_end",
                  self.learning_rate_end, f"must be in [0, learning_rate = {self.learning_rate}] for the \"linear\" schedule")
        check((0 < self.learning_rate_power) & (self.learning_rate_power <= 1), "learning_rate_power", self.learning_rate_power,
              "must be in (0, 1] (in (0.5, 1] for convergence)")
        check(self.epsilon_schedule in ("linear", "exponential", "constant"), "epsilon_schedule",
              self.epsilon_schedule, 'must be "linear", "exponential" or "constant"')
        check((0 <= self.epsilon_start) & (self.epsilon_start <= 1), "epsilon_start", self.epsilon_start, "must be in [0, 1]")
        check((0 <= self.epsilon_end) & (self.epsilon_end <= 1), "epsilon_end", self.epsilon_end, "must be in [0, 1]")
        if self.epsilon_schedule == "exponential":
            check((self.epsilon_end > 0) & (self.epsilon_start > 0), "epsilon_end", self.epsilon_end,
                  'epsilon_start and epsilon_end must be > 0 for the "exponential" schedule')
        check((0 <= self.exploration_fraction) & (self.exploration_fraction <= 1), "exploration_fraction",
              self.exploration_fraction, "must be in [0, 1] (0: epsilon_end from the start, as DQN's)")


#: Config fields that only ``make_train`` reads, and what ``rl-zoo train`` (the driver) uses instead
MAKE_TRAIN_ONLY = {"num_evals": "--evals", "eval_episodes": "--eval-episodes",
                   "eval_max_steps": "the env's time limit (1000 steps for an env without one)"}


@struct.dataclass
class State:
    q: jax.Array  # [n_tables, S, A] float32: Q (n_tables = 1) or Q^A, Q^B (double)
    visits: jax.Array  # [n_tables, S, A] int32: visits of each entry (one per env that updated it)
    env_state: Any  # EpisodeStatisticsState of the num_envs training envs
    obs: jax.Array  # [B] int32 current state of each training env
    key: jax.Array  # the seed's key; update t draws from fold_in(key, t)
    step: jax.Array  # int32 updates done; env steps = step * num_envs


class Metrics(NamedTuple):
    """One update (scalars)."""

    episode: EpisodeMetrics  # the episodes that ended at this step (EpisodeStatistics info)
    td_error: jax.Array  # mean |TD error| over the batch
    epsilon: jax.Array  # exploration rate used
    learning_rate: jax.Array  # mean step size applied


class TrainMetrics(NamedTuple):
    """One row per evaluation of ``make_train`` (each field ``[num_evals]``)."""

    env_steps: jax.Array  # env steps per seed at the end of the segment
    episode_return: jax.Array  # mean return of training episodes that ended in the segment (NaN if none)
    episodes: jax.Array  # training episodes that ended in the segment
    td_error: jax.Array  # mean |TD error| over the segment
    epsilon: jax.Array  # exploration rate at the end of the segment
    eval_return: jax.Array  # mean greedy return over eval_episodes fresh episodes (NaN if none)


# --- the math -------------------------------------------------------------------------------------
def q_learning_target(q_next: jax.Array, reward: jax.Array, terminated: jax.Array, gamma: float) -> jax.Array:
    """Q-learning target ``r + gamma (1 - terminated) max_a Q(s', a)`` ``[B]`` from ``q_next = Q(s', .)``
    ``[B, A]`` (Watkins & Dayan 1992; Sutton & Barto 2018, eq. 6.8)."""
    chex.assert_rank(q_next, 2)
    return td_target(reward, q_next.max(axis=-1), terminated, gamma)


def double_q_learning_target(
    q_select_next: jax.Array, q_eval_next: jax.Array, reward: jax.Array, terminated: jax.Array, gamma: float
) -> jax.Array:
    """Double Q-learning target ``r + gamma (1 - terminated) Q^B(s', argmax_a Q^A(s', a))`` ``[B]``
    (van Hasselt 2010, Algorithm 1): ``q_select_next = Q^A(s', .)`` picks the action,
    ``q_eval_next = Q^B(s', .)`` values it (both ``[B, A]``)."""
    chex.assert_rank(q_select_next, 2)
    chex.assert_equal_shape([q_select_next, q_eval_next])
    a_star = jnp.argmax(q_select_next, axis=-1)
    value = jnp.take_along_axis(q_eval_next, a_star[:, None], axis=-1)[:, 0]
    return td_target(reward, value, terminated, gamma)


def epsilon_at(env_steps: jax.Array, config: Config) -> jax.Array:
    """Exploration rate after ``env_steps`` env steps (``Config.epsilon_schedule``)."""
    if config.epsilon_schedule == "constant":
        return jnp.float32(config.epsilon_start)
    horizon = config.exploration_fraction * config.total_timesteps  # exploration_fraction may be traced
    frac = jnp.where(horizon > 0, jnp.clip(env_steps / jnp.maximum(1.0, horizon), 0.0, 1.0), 1.0)  # 0: no decay, the end
    if config.epsilon_schedule == "linear":
        return config.epsilon_start + frac * (config.epsilon_end - config.epsilon_start)
    return config.epsilon_start * (config.epsilon_end / config.epsilon_start) ** frac


def step_size(env_steps: jax.Array, visits: jax.Array, config: Config) -> jax.Array:
    """Step size alpha for entries updated for the ``visits``-th time (``[B]``) after ``env_steps`` steps."""
    if config.learning_rate_schedule == "visits":
        return config.learning_rate / jnp.maximum(visits, 1).astype(jnp.float32) ** config.learning_rate_power
    if config.learning_rate_schedule == "linear":
        frac = jnp.clip(env_steps / config.total_timesteps, 0.0, 1.0)
        alpha = config.learning_rate + frac * (config.learning_rate_end - config.learning_rate)
    else:
        alpha = jnp.float32(config.learning_rate)
    return jnp.broadcast_to(alpha, visits.shape).astype(jnp.float32)


def epsilon_greedy(key: jax.Array, q_values: jax.Array, epsilon: jax.Array) -> jax.Array:
    """With probability ``epsilon`` a uniformly random action, else a greedy one with ties broken
    uniformly at random (Sutton & Barto 2018, sec. 2.2 and 6.5). ``q_values`` ``[B, A]`` -> ``[B]``.

    One uniform triple per env does it all (one PRNG call, the costly part on CPU): ``u0 < epsilon``
    explores, ``u1`` picks the random action, ``u2`` picks among the tied maxima.
    """
    chex.assert_rank(q_values, 2)
    batch, num_actions = q_values.shape
    u = jax.random.uniform(key, (batch, 3))
    is_max = q_values == q_values.max(axis=-1, keepdims=True)  # [B, A]
    tie = jnp.floor(u[:, 2] * is_max.sum(axis=-1)).astype(jnp.int32)  # which maximum, [B]
    greedy = jnp.argmax(jnp.cumsum(is_max, axis=-1) > tie[:, None], axis=-1)
    random_action = jnp.minimum(jnp.floor(u[:, 1] * num_actions).astype(jnp.int32), num_actions - 1)
    return jnp.where(u[:, 0] < epsilon, random_action, greedy).astype(jnp.int32)


def apply_td_update(q, visits, table, obs, action, td_error, alpha_fn):
    """Move ``q[table, obs, action]`` by ``alpha * td_error`` (``[B]`` each); duplicates in the batch
    move by alpha times their mean TD error. ``alpha_fn(visits_now)`` gives alpha from the entries'
    update counts including this one. Returns ``(q, visits, alpha)``."""
    chex.assert_equal_shape([table, obs, action, td_error])
    idx = (table, obs, action)
    visits = visits.at[idx].add(1)
    alpha = alpha_fn(visits[idx])
    if obs.shape[0] == 1:
        return q.at[idx].add(alpha * td_error), visits, alpha
    counts = jnp.zeros(q.shape, jnp.float32).at[idx].add(1.0)
    return q.at[idx].add(alpha * td_error / counts[idx]), visits, alpha


# --- the algorithm ------------------------------------------------------------------------------------
def check_env(env, env_params) -> None:
    """Refuse, before anything compiles, an env tabular Q-learning cannot run on, saying what to use."""
    name = getattr(env, "id", "") or type(env).__name__
    obs_space, act_space = env.observation_space(env_params), env.action_space(env_params)
    problems = []
    if not isinstance(obs_space, spaces.Discrete):
        problems.append(f"its observation space is {obs_space}, not Discrete (a Q-table needs one row per state)")
    if not isinstance(act_space, spaces.Discrete):
        problems.append(f"its action space is {act_space}, not Discrete (a Q-table needs one column per action)")
    on_jax = getattr(env, "backend", "jax") == "jax"  # else refused below: a start would be a first of two refusals
    for what, space in (("observation", obs_space), ("action", act_space)):
        if not problems and on_jax and isinstance(space, spaces.Discrete) and space.start:
            problems.append(f"its {what} space is {space}, numbered from {space.start} (a Q-table's rows and "
                            "columns are numbered from 0)")
    if problems:
        if not isinstance(act_space, spaces.Discrete):
            hint = "use PPO (rl-zoo train --algo ppo), which handles continuous actions"
        else:
            hint = "use DQN (rl-zoo train --algo dqn), which fits a Q-network to continuous observations"
        raise ConfigError(f"tabular Q-learning cannot run on {name}: {'; '.join(problems)}. Instead, {hint}.")
    if not on_jax:
        from envs.registry import backend_of

        remedy = (f"{name} has a JAX port: leave out --backend gymnasium" if backend_of(name) == "jax"
                  else "use a JAX port (`rl-zoo envs` lists them) or DQN")
        raise ConfigError(f"tabular Q-learning runs on pure-JAX envs only; {name} runs on the gymnasium adapter: {remedy}.")


def _training_env(env, env_params, config: Config) -> EpisodeStatistics:
    return EpisodeStatistics(vectorize(env, env_params, config.num_envs))


def init(key: jax.Array, env, env_params, config: Config) -> State:
    """Tables filled with ``q_init``, ``num_envs`` freshly reset envs."""
    check_env(env, env_params)
    num_states = env.observation_space(env_params).n
    num_actions = env.action_space(env_params).n
    key, key_env = jax.random.split(key)
    obs, env_state = _training_env(env, env_params, config).reset(key_env)
    shape = (config.num_tables, num_states, num_actions)
    return State(
        q=jnp.full(shape, config.q_init, jnp.float32),
        visits=jnp.zeros(shape, jnp.int32),
        env_state=env_state,
        obs=obs,
        key=key,
        step=jnp.array(0, jnp.int32),
    )


def q_values(state: State, obs: jax.Array) -> jax.Array:
    """The action values the policies use: Q, or (Q^A + Q^B) / 2 for Double Q-learning. ``[..., A]``"""
    return state.q[:, obs].mean(axis=0)


def greedy_action(state: State, obs: jax.Array) -> jax.Array:
    """The greedy policy ``argmax_a Q(obs, a)`` (first maximum on ties), for any batch shape of ``obs``."""
    return jnp.argmax(q_values(state, obs), axis=-1).astype(jnp.int32)


def update(state: State, env, env_params, config: Config) -> tuple[State, Metrics]:
    """Step the ``num_envs`` envs once epsilon-greedily and apply one (Double) Q-learning update."""
    venv = _training_env(env, env_params, config)
    # counter-based keys: fold_in is several times cheaper than carrying split keys on CPU
    key = jax.random.fold_in(state.key, state.step)
    key_act, key_env, key_table = (jax.random.fold_in(key, i) for i in range(3))
    env_steps = state.step * config.num_envs
    epsilon = epsilon_at(env_steps, config)
    action = epsilon_greedy(key_act, q_values(state, state.obs), epsilon)  # [B]
    obs, env_state, reward, terminated, truncated, info = venv.step(key_env, state.env_state, action)
    next_obs = info["final_obs"]  # [B] the state the step reached, before any auto-reset

    batch = state.obs.shape[0]
    if config.double:  # a fair coin per env picks the table to update (select with it, evaluate with the other)
        table = jax.random.bernoulli(key_table, 0.5, (batch,)).astype(jnp.int32)
        target = double_q_learning_target(state.q[table, next_obs], state.q[1 - table, next_obs], reward, terminated, config.gamma)
    else:
        table = jnp.zeros((batch,), jnp.int32)
        target = q_learning_target(state.q[0, next_obs], reward, terminated, config.gamma)
    td_error = target - state.q[table, state.obs, action]  # [B]
    q, visits, alpha = apply_td_update(
        state.q, state.visits, table, state.obs, action, td_error, partial(step_size, env_steps, config=config)
    )

    metrics = Metrics(
        episode=episode_metrics_from(info["episode_done"], info["episode_return"], info["episode_length"]),
        td_error=jnp.abs(td_error).mean(),
        epsilon=jnp.asarray(epsilon, jnp.float32),
        learning_rate=alpha.mean(),
    )
    new_state = State(q=q, visits=visits, env_state=env_state, obs=obs, key=state.key, step=state.step + 1)
    return new_state, metrics


def evaluate(key: jax.Array, state: State, env, env_params, num_episodes: int, max_steps: int) -> jax.Array:
    """Undiscounted returns ``[num_episodes]`` of the greedy policy on fresh env copies. An episode
    still running after ``max_steps`` steps counts with its return so far."""
    venv = EpisodeStatistics(vectorize(env, env_params, num_episodes))
    key_reset, key_steps = jax.random.split(key)
    obs, env_state = venv.reset(key_reset)

    def step(carry, k):
        obs, env_state, returns, running = carry
        obs, env_state, reward, _, _, info = venv.step(k, env_state, greedy_action(state, obs))
        returns = returns + jnp.where(running, reward, 0.0)
        return (obs, env_state, returns, running & ~info["episode_done"]), None

    zeros = jnp.zeros((num_episodes,), jnp.float32)
    carry = (obs, env_state, zeros, jnp.ones((num_episodes,), bool))
    (_, _, returns, _), _ = jax.lax.scan(step, carry, jax.random.split(key_steps, max_steps))
    return returns


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind Q-learning to an env for the driver: ``init(key)``, ``update(state)``, greedy ``act``."""
    check_config_class(config, Config)
    config.validate()
    check_env(env, env_params)
    return Agent(
        init=partial(init, env=env, env_params=env_params, config=config),
        update=partial(update, env=env, env_params=env_params, config=config),
        act=greedy_action,
        env_steps_per_update=config.num_envs,
        num_updates=config.total_timesteps // config.num_envs,  # not num_updates: num_evals is make_train's only
    )


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, TrainMetrics [num_evals])`` that ``jax.jit`` and ``jax.vmap`` accept.

    ``num_evals`` segments of ``updates_per_eval`` updates (``lax.scan``), each followed by a greedy
    evaluation of ``eval_episodes`` episodes. Per-update metrics are summed inside the scan rather
    than stacked, so memory does not grow with ``total_timesteps``.
    """
    config.validate()
    check(config.total_timesteps >= config.num_envs * config.num_evals, "total_timesteps", config.total_timesteps,
          f"must be at least num_envs * num_evals = {config.num_envs * config.num_evals} (make_train: one update per "
          "evaluation)")
    check_env(env, env_params)
    limit = env_params.max_steps_in_episode  # traced when make_train is vmapped over env params: the evaluation's
    eval_steps = (config.eval_max_steps if isinstance(limit, jax.core.Tracer)  # scan length must be static; the env
                  else int(min(config.eval_max_steps, limit)))  # still truncates each episode at its own limit

    def segment(state: State, key_eval: jax.Array) -> tuple[State, TrainMetrics]:
        def body(carry, _):
            state, ret_sum, n_episodes, td_sum = carry
            state, m = update(state, env, env_params, config)
            n = m.episode.episodes
            return (state, ret_sum + jnp.where(n > 0, m.episode.episode_return * n, 0.0), n_episodes + n, td_sum + m.td_error), None

        carry = (state, jnp.float32(0.0), jnp.int32(0), jnp.float32(0.0))
        (state, ret_sum, n_episodes, td_sum), _ = jax.lax.scan(body, carry, None, config.updates_per_eval)
        if config.eval_episodes > 0:
            eval_return = evaluate(key_eval, state, env, env_params, config.eval_episodes, eval_steps).mean()
        else:
            eval_return = jnp.float32(jnp.nan)
        return state, TrainMetrics(
            env_steps=state.step * config.num_envs,
            episode_return=jnp.where(n_episodes > 0, ret_sum / jnp.maximum(n_episodes, 1), jnp.nan),
            episodes=n_episodes,
            td_error=td_sum / config.updates_per_eval,
            epsilon=epsilon_at(state.step * config.num_envs, config).astype(jnp.float32),
            eval_return=eval_return,
        )

    def train(key: jax.Array) -> tuple[State, TrainMetrics]:
        key_init, key_eval = jax.random.split(key)
        state = init(key_init, env, env_params, config)
        return jax.lax.scan(segment, state, jax.random.split(key_eval, config.num_evals))

    return train


# --- display ------------------------------------------------------------------------------------------
def format_policy_grid(q_table, env, decimals: int = 2) -> str:
    """The greedy policy as arrows and max_a Q as numbers, one grid cell per state, for grid worlds
    (FrozenLake, CliffWalking). ``q_table`` is ``[S, A]``, ``[n_tables, S, A]`` (averaged) or a ``State``.
    Holes, cliff cells and goals show their letter (H, C, G)."""
    q = np.asarray(q_table.q if isinstance(q_table, State) else q_table, np.float64)
    if q.ndim == 3:
        q = q.mean(axis=0)
    desc = getattr(env, "desc", None)
    symbols = getattr(env, "action_symbols", None)
    if desc is None or symbols is None:
        raise ValueError(f"format_policy_grid draws grid worlds (FrozenLake, CliffWalking); {env!r} has no grid")
    nrow, ncol = len(desc), len(desc[0])
    if q.shape != (nrow * ncol, len(symbols)):
        raise ValueError(f"q_table has shape {q.shape}; {env!r} needs ({nrow * ncol}, {len(symbols)})")
    best = q.argmax(axis=1)
    value = q.max(axis=1)
    width = max(len(f"{v:.{decimals}f}") for v in value)
    arrows, values = [], []
    for r in range(nrow):
        cells_a, cells_v = [], []
        for c in range(ncol):
            s, letter = r * ncol + c, desc[r][c]
            cells_a.append(letter if letter in "HCG" else symbols[best[s]])
            cells_v.append(letter.rjust(width) if letter in "HCG" else f"{value[s]:{width}.{decimals}f}")
        arrows.append(" ".join(cells_a))
        values.append(" ".join(cells_v))
    return "greedy policy:\n" + "\n".join(arrows) + "\n\nmax_a Q(s, a):\n" + "\n".join(values)
