"""Q-learning vs Double Q-learning on the maximisation-bias MDP (Sutton & Barto 2018, Figure 6.5).

Per episode (from A): pick an action epsilon-greedily among the actions that exist in the state
(ties broken uniformly at random), step the env, apply the (Double) Q-learning update with the TD
targets of ``rl_zoo.algos.q_learning`` (``q_learning_target``, ``double_q_learning_target``) and its
table write (``apply_td_update``), and, if the agent went to B, do the same from B. Double
Q-learning keeps two tables, flips a fair coin per update for the one to update, and acts
epsilon-greedily in Q1 + Q2 (van Hasselt 2010, Algorithm 1; Sutton & Barto, Figure 6.5).

This is a small loop rather than ``q_learning.make_train`` because the book's MDP has 2 actions in A
and 10 in B: q_learning's epsilon-greedy explores over every column of the table, which would give A
ten actions and change the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from experiments.overestimation.maximization_bias import LEFT, MaximizationBias, valid_actions
from rl_zoo.algos.q_learning import apply_td_update, double_q_learning_target, q_learning_target

NEG = -1e9  # stands in for -inf on actions that do not exist (finite, so 0 * NEG = 0 at terminal steps)


@dataclass(frozen=True)
class TabularConfig:
    episodes: int = 300
    epsilon: float = 0.1
    alpha: float = 0.1
    gamma: float = 1.0
    double: bool = False


class EpisodeLog(NamedTuple):
    left: jax.Array  # bool: the action in A was LEFT
    q_a_left: jax.Array  # estimate of Q(A, LEFT) after the episode (mean of the tables)
    q_a_right: jax.Array
    max_q_b: jax.Array  # the estimate of max_a q(B, a) the algorithm bootstraps from after the episode


def masked_epsilon_greedy(key, q_row, mask, epsilon):
    """Epsilon-greedy over the valid actions of one state; ties among maxima broken uniformly."""
    u = jax.random.uniform(key, (3,))
    n_valid = mask.sum()
    random_action = jnp.minimum(jnp.floor(u[1] * n_valid).astype(jnp.int32), n_valid - 1)  # valid actions are 0..n-1
    qm = jnp.where(mask, q_row, -jnp.inf)
    is_max = (qm == qm.max()) & mask
    tie = jnp.floor(u[2] * is_max.sum()).astype(jnp.int32)
    greedy = jnp.argmax(jnp.cumsum(is_max) > tie).astype(jnp.int32)
    return jnp.where(u[0] < epsilon, random_action, greedy)


def bootstrap_estimate(q_b):
    """The value of B the TD target of A-left uses: max_a Q(B, a) for Q-learning (one table); for
    Double Q-learning the average of the two cross estimates Q2(B, argmax Q1(B, .)) and
    Q1(B, argmax Q2(B, .)). ``q_b [tables, A]``."""
    if q_b.shape[0] == 1:
        return q_b[0].max()
    return 0.5 * (q_b[1, jnp.argmax(q_b[0])] + q_b[0, jnp.argmax(q_b[1])])


def make_run(config: TabularConfig, env: MaximizationBias):
    params = env.default_params
    n_tables = 2 if config.double else 1
    n_obs, n_act = env.observation_space().n, env.action_space().n
    alpha_fn = lambda visits: jnp.full(visits.shape, config.alpha, jnp.float32)  # noqa: E731

    def td_step(key, q, visits, obs, env_state, active):
        """One step from ``obs``; the update is applied only where ``active``."""
        k_act, k_env, k_table = jax.random.split(key, 3)
        mask = valid_actions(env, obs)
        action = masked_epsilon_greedy(k_act, q[:, obs].sum(axis=0), mask, config.epsilon)
        next_obs_reset, env_state, reward, terminated, truncated, info = env.step(k_env, env_state, action, params)
        next_obs = info["final_obs"]
        qn = jnp.where(valid_actions(env, next_obs), q[:, next_obs], NEG)  # [tables, A]
        r, term = reward[None], terminated[None]
        if config.double:
            table = jax.random.bernoulli(k_table, 0.5).astype(jnp.int32)
            target = double_q_learning_target(qn[table][None], qn[1 - table][None], r, term, config.gamma)
        else:
            table = jnp.int32(0)
            target = q_learning_target(qn[0][None], r, term, config.gamma)
        td_error = (target - q[table, obs, action]) * active
        q, visits, _ = apply_td_update(q, visits, table[None], obs[None], action[None], td_error, alpha_fn)
        return q, visits, action, next_obs, terminated, env_state, next_obs_reset

    def episode(carry, key):
        q, visits = carry
        k_reset, k1, k2 = jax.random.split(key, 3)
        obs, env_state = env.reset(k_reset, params)
        q, visits, a1, obs_b, term1, env_state, _ = td_step(k1, q, visits, obs, env_state, jnp.float32(1.0))
        q, visits, _, _, _, _, _ = td_step(k2, q, visits, obs_b, env_state, (~term1).astype(jnp.float32))
        qm = q.mean(axis=0)
        return (q, visits), EpisodeLog(a1 == LEFT, qm[0, LEFT], qm[0, 1], bootstrap_estimate(q[:, 1]))

    def run(key):
        q0 = jnp.zeros((n_tables, n_obs, n_act), jnp.float32)
        _, log = jax.lax.scan(episode, (q0, jnp.zeros(q0.shape, jnp.int32)), jax.random.split(key, config.episodes))
        return log

    return run
