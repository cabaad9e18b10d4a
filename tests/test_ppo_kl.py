"""PPO with the adaptive KL penalty: the beta rule on hand-worked values, beta adapted once per batch,
the registry preset, and a small fixed-seed learning test on CartPole-v1."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from rl_zoo import algos
from rl_zoo.algos import ppo


@pytest.mark.parametrize(
    "kl, expected",
    [
        # d_targ = 0.01: halve below 0.01/1.5 = 0.00667, double above 1.5 * 0.01 = 0.015, else keep
        (0.0, 0.5),
        (0.005, 0.5),
        (0.0066, 0.5),
        (0.0067, 1.0),
        (0.01, 1.0),
        (0.0149, 1.0),
        (0.0151, 2.0),
        (0.5, 2.0),
    ],
)
def test_beta_rule_hand_worked(kl, expected):
    assert float(ppo.adapt_kl_beta(jnp.float32(1.0), jnp.float32(kl), 0.01)) == pytest.approx(expected)


def test_beta_rule_boundaries_keep_beta_and_it_vectorises():
    # the rule's inequalities are strict: exactly d_targ/1.5 or 1.5 d_targ keeps beta
    beta = jnp.array([3.0, 3.0, 3.0, 0.25])
    kl = jnp.array([0.02 / 1.5, 0.02 * 1.5, 0.001, 0.1])
    np.testing.assert_allclose(ppo.adapt_kl_beta(beta, kl, 0.02), [3.0, 3.0, 1.5, 0.5])


def test_ppo_kl_preset():
    module, preset = algos.get("ppo-kl")
    assert module is ppo and preset == {"loss": "kl"}


def test_beta_is_adapted_once_per_batch_not_per_minibatch():
    env, params = envs.make("CartPole-v1")
    config = ppo.Config(loss="kl", total_timesteps=64, num_envs=2, num_steps=16, update_epochs=3, num_minibatches=4,
                        hidden_size=8, kl_beta_init=1.0, kl_target=1e-9, anneal_lr=False)
    agent = ppo.make_agent(config, env, params)
    update = jax.jit(agent.update)
    state = agent.init(jax.random.PRNGKey(0))
    betas = []
    for _ in range(3):
        state, metrics = update(state)
        betas.append(float(metrics.details.kl_beta))
        # with a tiny target every batch's KL is above 1.5 d_targ: exactly one doubling per update
        assert float(metrics.kl) > 1.5e-9
    assert betas == [2.0, 4.0, 8.0]


def test_ppo_kl_learns_cartpole():
    """Fixed seed; 40 updates of 8 x 128 steps. Over 8 seeds the last-5-update mean return was 172-457."""
    env, params = envs.make("CartPole-v1")
    config = ppo.Config(loss="kl", total_timesteps=40_960, num_envs=8, num_steps=128)
    _, metrics = jax.jit(ppo.make_train(config, env, params))(jax.random.PRNGKey(0))
    returns = np.asarray(metrics.episode.episode_return)
    assert returns[:3].mean() < 40
    assert returns[-5:].mean() >= 100
    # beta moved: the KL rule was active
    assert len(np.unique(np.asarray(metrics.details.kl_beta))) > 1
