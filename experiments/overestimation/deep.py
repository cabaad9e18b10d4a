"""DQN vs Double DQN: value estimates against the discounted return the greedy policy obtains
(van Hasselt, Guez & Silver 2016, figure 3), on pure-JAX classic-control envs.

During training, ``rl_zoo.algos.dqn`` logs per update the mean of max_a Q(s, a; theta) over the states
of its replay minibatches (``Metrics.q_max``). Before training and after each segment of updates
(``experiments.common.segment_plan``: about ``num_evals`` of them, covering every update), inside the same
jitted program, :func:`probe` runs the greedy policy for ``eval_episodes`` fresh episodes and, for
every state s_t it visits within the env's usual time limit, records

* the discounted return actually obtained from s_t onwards, G_t = sum_k gamma^k r_{t+k}, and
* the network's estimate max_a Q(s_t, a; theta) of it,

and averages each over the visited states. G_t is computed from rollouts run past the usual time
limit by ``extra_steps`` steps (gamma^extra_steps < 0.005), so the return-to-go of states near the
limit is not cut short: DQN bootstraps through truncation, so what it estimates is the value of
the task without the limit.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

import envs
from rl_zoo.algos import dqn


class Probe(NamedTuple):
    true_value: jax.Array  # mean over visited states of the discounted return-to-go G_t
    q_estimate: jax.Array  # mean over the same states of max_a Q(s_t, a)
    greedy_return: jax.Array  # mean undiscounted return of the greedy episodes (usual time limit)


def probe(network, obs_space, params, env, env_params, key, num_episodes: int, gamma: float, extra_steps: int) -> Probe:
    """Greedy rollouts of ``limit + extra_steps`` steps from fresh starts (see module docstring)."""
    limit = int(env_params.max_steps_in_episode)
    long_params = env_params.replace(max_steps_in_episode=limit + extra_steps)
    horizon = limit + extra_steps

    def one_episode(k):
        k_reset, k_steps = jax.random.split(k)
        obs, state = env.reset(k_reset, long_params)

        def step(carry, kk):
            obs, state, alive = carry
            q = network.apply(params, dqn.features(obs_space, obs))  # [A]
            action = jnp.argmax(q).astype(jnp.int32)
            obs2, state, reward, terminated, truncated, _ = env.step(kk, state, action, long_params)
            out = (reward * alive, q.max(), alive, terminated & alive)
            return (obs2, state, alive & ~(terminated | truncated)), out

        _, (rewards, qmax, alive, term) = jax.lax.scan(step, (obs, state, jnp.bool_(True)), jax.random.split(k_steps, horizon))

        def back(g_next, x):
            r, t = x
            g = r + gamma * (1.0 - t.astype(jnp.float32)) * g_next
            return g, g

        _, g = jax.lax.scan(back, jnp.float32(0.0), (rewards, term), reverse=True)  # [horizon]
        visited = alive & (jnp.arange(horizon) < limit)  # states the greedy policy visits within the usual limit
        undiscounted = jnp.where(jnp.arange(horizon) < limit, rewards, 0.0).sum()
        return (g * visited).sum(), (qmax * visited).sum(), visited.sum(), undiscounted

    g_sum, q_sum, n, ret = jax.vmap(one_episode)(jax.random.split(key, num_episodes))
    n_all = jnp.maximum(n.sum(), 1)
    return Probe(g_sum.sum() / n_all, q_sum.sum() / n_all, ret.mean())


def make_experiment(config: dqn.Config, env_id: str, num_evals: int, eval_episodes: int, extra_steps: int):
    """``run(seed) -> (Probe [E + 1], q_max per update [num_updates], learning per update)``, pure, for
    ``jax.jit(jax.vmap(run))`` over seeds; and the env steps of the E + 1 probes and of every update.
    Every update trains: the segments between probes are ``common.segment_plan``'s, as the driver's
    (``common.train_and_evaluate``)."""
    from experiments import common

    env, env_params = envs.make(env_id)
    agent = dqn.make_agent(config, env, env_params)
    network = dqn.make_network(config, env.action_space(env_params))
    obs_space = env.observation_space(env_params)

    def evaluate(state, key):
        return probe(network, obs_space, state.params, env, env_params, key, eval_episodes, config.gamma, extra_steps)

    def run(seed):
        probes, metrics = common.train_and_evaluate(agent, evaluate, num_evals, seed)
        return probes, metrics.q_max, metrics.learning

    steps = common.eval_steps(common.segment_plan(agent.num_updates, num_evals), agent.env_steps_per_update)
    update_steps = (np.arange(agent.num_updates) + 1) * agent.env_steps_per_update
    return run, steps, update_steps


def tuned_config(env_id: str, double: bool, **overrides) -> dqn.Config:
    """DQN's tuned config for ``env_id`` (``rl_zoo/hyperparams/dqn.yaml``) with ``double`` set: both
    arms of the comparison share one config and differ only in the double-Q target. (Double DQN's own
    tuned file, ``double-dqn.yaml``, may differ elsewhere, e.g. its CartPole batch size.)"""
    from rl_zoo.train import resolve_config

    _, config = resolve_config("dqn", env_id)
    return dataclasses.replace(config, double=double, **overrides)
