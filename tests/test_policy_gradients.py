"""Across the policy-gradient family (ppo, ppo-kl, vpg, trpo): the same make_agent code trains on the
host-side gymnasium adapter, and the tuned hyperparameter files name real fields and valid values."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest
import yaml

import envs
import learning
from rl_zoo import algos
from rl_zoo.algos import ppo
from rl_zoo.config import apply_overrides
from rl_zoo.core.evaluate import evaluate

FAMILY = ["ppo", "ppo-kl", "vpg", "trpo"]
SMALL = {
    "ppo": dict(num_envs=2, num_steps=32, update_epochs=2, num_minibatches=2, hidden_size=16),
    "ppo-kl": dict(num_envs=2, num_steps=32, update_epochs=2, num_minibatches=2, hidden_size=16),
    "vpg": dict(num_envs=2, num_steps=32, value_iters=2, hidden_size=16),
    "trpo": dict(num_envs=2, num_steps=32, value_iters=2, value_minibatches=2, hidden_size=16),
}
HYPERPARAMS = Path(__file__).resolve().parents[1] / "rl_zoo" / "hyperparams"


# All behind -m slow: the default run covers PPO on the adapter through tests/test_host_batched.py (the
# batched host path every adapter run takes); the family shares that path (rl_zoo.core.on_policy)
@pytest.mark.slow
@pytest.mark.parametrize("name", FAMILY)
def test_runs_on_the_gymnasium_adapter_unchanged_with_finite_metrics(name, seed_offset):
    pytest.importorskip("envs.gymnasium_adapter")
    module, preset = algos.get(name)
    config = apply_overrides(module.Config(), {**preset, **SMALL[name], "total_timesteps": 3 * 64})
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    assert env.backend == "gymnasium"
    agent = module.make_agent(config, env, params)
    state = agent.init(jax.random.PRNGKey(seed_offset))
    episodes = 0
    for _ in range(agent.num_updates):  # host loop: rollout in Python, learn jitted
        state, metrics = agent.update(state)
        # the episode statistics are NaN in an update in which no episode ended (64 steps; seed offset 9421's
        # third update), by design; everything else is finite
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(metrics._replace(episode=())))
        ended = int(metrics.episode.episodes) > 0
        assert np.isfinite(float(metrics.episode.episode_return)) == ended
        episodes += int(metrics.episode.episodes)
    assert int(state.update_step) == 3
    assert episodes > 0  # random CartPole episodes last ~22 steps: some ended in 192 steps
    returns = evaluate(agent.act, state, env, params, jax.random.PRNGKey(1), 2, max_steps=50)
    assert returns.shape == (2,)


def _hyperparam_entries():
    for name in ("vpg", "trpo", "ppo-kl"):
        table = yaml.safe_load((HYPERPARAMS / f"{name}.yaml").read_text())
        for env_id, overrides in table.items():
            yield name, env_id, overrides


@pytest.mark.parametrize("name", ["vpg", "trpo", "ppo-kl"])
def test_hyperparam_files_cover_the_classic_tasks(name):
    table = yaml.safe_load((HYPERPARAMS / f"{name}.yaml").read_text())
    assert {"CartPole-v1", "Acrobot-v1", "Pendulum-v1"} <= set(table)


def _skip_without_extra(env_id: str) -> None:
    """Box2D and MuJoCo ids need the project's box2d / mujoco extras, which the dev install leaves out."""
    from envs.gymnasium_adapter import required_extra

    extra = required_extra(env_id)
    if extra is not None:
        module = {"box2d": "Box2D", "mujoco": "mujoco"}[extra]
        pytest.importorskip(module, reason=f"{env_id} needs the {extra} extra: pip install -e \".[{extra}]\"")


@pytest.mark.parametrize("name, env_id, overrides", list(_hyperparam_entries()))
def test_hyperparams_are_valid_configs(name, env_id, overrides):
    module, preset = algos.get(name)
    default = apply_overrides(module.Config(), preset)
    config = apply_overrides(default, overrides)  # unknown fields raise ConfigError
    config.validate()
    for field, value in overrides.items():  # only fields that differ from the defaults
        assert getattr(default, field) != value, f"{name}.yaml {env_id}: {field}={value} is the default"
    _skip_without_extra(env_id)
    env, params = envs.make(env_id)
    module.make_agent(config, env, params)  # the networks fit the env's spaces


def test_a_state_index_observation_trains_one_hot_and_loads(tmp_path, capsys, seed_offset):
    """FrozenLake's observation is Discrete(16), a state index: the actor-critic networks take it one-hot
    (it was refused; before that an IndexError after config.json was written). The run loads, and the
    loaded policy takes the env's own index, one or a batch."""
    import rl_zoo
    from rl_zoo.cli import main

    out = tmp_path / "r"
    args = ["train", "--algo", "ppo", "--env", "FrozenLake-v1", "--no-progress", "--out", str(out), "--total-steps", "1024",
            "--set", "num_envs=2", "--set", "num_steps=64", "--set", "hidden_size=8", "--seed", str(seed_offset)]
    assert main(args) == 0, capsys.readouterr().err
    policy = rl_zoo.load(out)
    assert int(policy(5)) in range(4)
    assert np.asarray(policy(np.array([0, 5, 15]))).shape == (3,)
    kernels = policy.state.params.policy["params"]["MLP_0"]["kernels"]
    assert kernels[0].shape == (16, 8)  # the first layer reads the 16 one-hot inputs


# Measured (python tests/learning.py test_policy_gradients FROZEN_LAKE 100 124), 100k env steps, greedy success
# rate over 50 episodes per seed, seeds 100-123 sorted: .12 .16 .18 .32 .34 .36 .52 .54 .56 .6 .6 .6 .62 .62 .62 .66
# .72 .72 .72 .72 .74 .74 .74 .88; training success (episodes ended in the last 20 updates): .1 .22 .22 .25 .32 .33
# .44 .52 .56 .6 .6 .65 .66 .66 .67 .69 .69 .7 .71 .74 .74 .75 .75 .75. Untrained (one update of 512 steps):
# greedy 0 (x11) to .22, training at most .05. Measured again (same command, seeds 200-247, 2026-12-03, after seed
# offset 5077's 8 seeds had 4 below .2 in training: .06 .09 .12 .13 .28 .44 .67 .76; greedy .08 .08 .16 .16 .26
# .44 .66 .76): greedy .04 .08 .1 .1 .1 .1 .1
# .16 .18 .18 .22 .24 .26 .28 .28 .34 .34 .4 .4 .42 .44 .48 .5 .5 .52 .58 .58 .6 .62 .64 .64 .64 .66 .66 .7 .7 .72
# (x6) .74 .74 .76 .78 .8 .8; training .08 .09 .11 .12 .12 .14 .14 .17 .18 .2 .2 .21 .22 .25 .29 .31 .37 .41 .42 .43
# .46 .47 .49 .49 .5 .5 .53 .56 .61 .63 .66 .67 .68 .68 .69 .69 .71 .72 (x4) .74 .74 .75 (x3) .76 .78: .2 in
# training is reached by about 85% of seeds, not 96%. Asserted: of 8 seeds, at least 5 reach .1 in training (76
# of the 80 seeds measured or tested did, twice the untrained maximum; P(fail) ~ 4e-4 at p = .95) and at least 2
# reach .3 greedy (57 of 80 did, p = .71: P(fail) ~ 1e-3; an untrained policy never did, its maximum .22).
FROZEN_LAKE = learning.Setting(
    "ppo", "FrozenLake-v1",
    ppo.Config(num_envs=8, num_steps=64, total_timesteps=100_000, num_minibatches=4, update_epochs=4, gamma=0.99,
               ent_coef=0.01, learning_rate=3e-3),
    eval_episodes=50, tail=20)


@pytest.mark.slow  # 40-80 s on 2 cores
def test_ppo_learns_slippery_frozen_lake_from_one_hot_states(seed_offset):
    scores = learning.run(FROZEN_LAKE, learning.seeds(seed_offset, 8))
    assert learning.count(scores.train, 0.1) >= 5, scores.train
    assert learning.count(scores.greedy, 0.3) >= 2, scores.greedy


@pytest.mark.slow
@pytest.mark.parametrize("algo", ["vpg", "trpo"])
def test_vpg_and_trpo_run_on_a_state_index_observation(algo, seed_offset):
    module, preset = algos.get(algo)
    cfg = apply_overrides(module.Config(), {**preset, **SMALL[algo], "total_timesteps": 256})
    env, params = envs.make("CliffWalking-v1")
    state, metrics = jax.jit(module.make_train(cfg, env, params))(jax.random.key(seed_offset))
    assert state.obs.shape == (2, 48)  # [envs, one-hot of 48 states]
    assert np.all(np.isfinite(np.asarray(metrics.value_loss)))
    agent = module.make_agent(cfg, env, params)
    assert int(agent.act(state, jax.numpy.asarray(36))) in range(4)
