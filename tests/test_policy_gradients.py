"""Across the policy-gradient family (ppo, ppo-kl, vpg, trpo): the same make_agent code trains on the
host-side gymnasium adapter, and the tuned hyperparameter files name real fields and valid values."""

from __future__ import annotations

from pathlib import Path

import jax
import numpy as np
import pytest
import yaml

import envs
from rl_zoo import algos
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
def test_trains_on_the_gymnasium_adapter_unchanged(name):
    pytest.importorskip("envs.gymnasium_adapter")
    module, preset = algos.get(name)
    config = apply_overrides(module.Config(), {**preset, **SMALL[name], "total_timesteps": 3 * 64})
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    assert env.backend == "gymnasium"
    agent = module.make_agent(config, env, params)
    state = agent.init(jax.random.PRNGKey(0))
    episodes = 0
    for _ in range(agent.num_updates):  # host loop: rollout in Python, learn jitted
        state, metrics = agent.update(state)
        assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(metrics))
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


@pytest.mark.parametrize("algo", ["ppo", "vpg", "trpo"])
def test_a_state_index_observation_is_refused_before_anything_is_written(algo, tmp_path, capsys):
    """FrozenLake's observation is Discrete(16), a scalar the actor-critic MLPs cannot take (it was an
    IndexError in the network after config.json was written); the refusal names dqn and q-learning."""
    from rl_zoo.cli import main

    assert main(["train", "--algo", algo, "--env", "FrozenLake-v1", "--no-progress", "--out", str(tmp_path / "r")]) == 2
    assert "cannot run on FrozenLake-v1: its observations are Discrete(16)" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
