"""Config checks and vmapped hyperparameters: ``validate()`` runs inside every ``make_agent``, so a
float field vmapped over (a tracer) must pass through ``check`` instead of raising
``TracerBoolConversionError``; concrete bad values are still refused."""

import dataclasses
import re

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import envs
from rl_zoo.algos import trpo, vpg
from rl_zoo.config import ConfigError


@pytest.mark.parametrize("module, field", [(vpg, "learning_rate"), (trpo, "max_kl")])
def test_vmap_over_float_hyperparameter(module, field, seed_offset):
    env, params = envs.make("CartPole-v1")
    base = module.Config(total_timesteps=64, num_envs=2, num_steps=32, value_iters=1)

    def run(value, key):
        return jax.flatten_util.ravel_pytree(module.make_train(dataclasses.replace(base, **{field: value}), env, params)(key)[0].params)[0]

    lanes = np.asarray(jax.jit(jax.vmap(run, in_axes=(0, None)))(jnp.array([1e-3, 1e-2]), jax.random.key(seed_offset)))
    assert np.isfinite(lanes).all()
    # the same key, another value: the traced value reached the update (each lane equal to its value's run
    # alone is test_sweep's slow test_every_numeric_field_can_be_traced, which costs a second compile)
    assert not np.allclose(lanes[0], lanes[1], rtol=1e-4, atol=1e-6)


def test_concrete_bad_value_still_refused():
    with pytest.raises(ConfigError, match="max_kl"):
        trpo.Config(max_kl=-1.0).validate()


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**400])  # 10**400: math.isfinite raised OverflowError
def test_a_float_field_must_be_finite(value):
    from rl_zoo.driver.spec import resolve_config

    with pytest.raises(ConfigError, match="'learning_rate' = .* must be a finite number"):
        resolve_config("ppo", "CartPole-v1", {"learning_rate": value})


@pytest.mark.parametrize("value, said", [
    (1e40, "overflows float32, where JAX computes it \\(infinite there\\): give a value at most 3.4e\\+38 in size"),
    (-1e39, "overflows float32"),
    (1e-50, "is 0 in float32, where JAX computes it \\(under float32's smallest normal number, 1.2e-38\\)"),
    (1e-40, "is 0 in float32"),  # a subnormal float32: XLA's CPU flushes it to 0
])
def test_a_float_field_float32_cannot_hold_is_refused(value, said):
    """``--set learning_rate=1e-50`` passed "must be > 0" and trained at a learning rate of 0 (float32), without a
    word; 1e40 trained as inf. A sweep's configs are checked by the same rule (test_sweep)."""
    from rl_zoo.config import float32_problem
    from rl_zoo.driver.spec import resolve_config

    with pytest.raises(ConfigError, match=f"'learning_rate' = {re.escape(repr(value))} {said}"):
        resolve_config("ppo", "CartPole-v1", {"learning_rate": value})
    assert float32_problem(0.0) is float32_problem(1.2e-38) is float32_problem(-3.4e38) is float32_problem(3e-4) is None
    resolve_config("ppo", "CartPole-v1", {"ent_coef": 0.0, "learning_rate": 1.2e-38})  # 0 and the smallest normal hold


@pytest.mark.parametrize("algo, overrides, message", [
    ("ppo", {"hidden_size": 10**20}, "'hidden_size' = 100000000000000000000 is invalid: must be an integer below 2**31"),
    ("ppo", {"total_timesteps": 10**12}, "'total_timesteps' = 1000000000000 is invalid: must be an integer below 2**31"),
    ("ppo", {"num_envs": 1, "num_steps": 1, "norm_adv": False, "update_epochs": 30, "total_timesteps": 10**8},
     "num_updates x update_epochs x num_minibatches gradient steps = 3,000,000,000, over JAX's 32-bit"),
    ("vpg", {"num_envs": 1, "num_steps": 1, "norm_adv": False, "value_iters": 80, "total_timesteps": 10**8}, "value-fit steps = 8,000,000,000"),
    ("dqn", {"train_frequency": 1, "gradient_steps": 30, "total_timesteps": 10**8}, "num_updates x gradient_steps gradient steps = 3,000,000,000"),
])
def test_counts_over_32_bits_are_refused_before_compiling(algo, overrides, message):
    """Integers in range for Python but not for JAX's int32 passed validation and failed in compilation
    (an OverflowError traceback after the run directory was made)."""
    from rl_zoo.driver.spec import resolve_config

    with pytest.raises(ConfigError, match=re.escape(message)):
        resolve_config(algo, "CartPole-v1", overrides)
    if "total_timesteps" in overrides:  # the same settings, fewer steps: fine
        resolve_config(algo, "CartPole-v1", dict(overrides, total_timesteps=10**6))


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0"])
def test_spaces_concrete_inside_jit(env_id):
    """make_agent builds the spaces inside the jitted function when a config field is vmapped; their
    bounds must stay concrete numpy arrays there (a jnp.array of the bounds would be a tracer)."""
    env, params = envs.make(env_id)

    @jax.jit
    def bounds():
        space = env.observation_space(params)
        assert isinstance(space.high, np.ndarray)
        return jnp.zeros(())

    bounds()


def test_a_config_of_another_class_is_refused_by_name():
    """A dict, or DQN's Config given to PPO, failed deep inside make_agent ('dict' object has no attribute
    'validate'; ... no attribute 'init_log_std')."""
    import envs
    from rl_zoo.algos import dqn, ppo
    from rl_zoo.config import ConfigError

    env, params = envs.make("CartPole-v1")
    with pytest.raises(ConfigError, match="config is a builtins.dict, not the rl_zoo.algos.ppo.Config this algorithm takes"):
        ppo.make_train({"num_envs": 8}, env, params)
    with pytest.raises(ConfigError, match="config is a rl_zoo.algos.dqn.Config, not the rl_zoo.algos.ppo.Config"):
        ppo.make_agent(dqn.Config(), env, params)


@pytest.mark.parametrize("algo, field, value, said", [
    ("ppo", "anneal_lr", "no", "must be a boolean"),  # a truthy string: it annealed
    ("ppo", "learning_rate", "3e-4", "must be a number"),  # TypeError: '>' not supported ...
    ("ppo", "num_envs", 4.0, "must be an integer"),  # a JAX shape error while tracing
    ("dqn", "double", "no", "must be a boolean"),  # Double DQN
    ("q-learning", "learning_rate", "0.1", "must be a number"),
])
def test_make_train_and_make_agent_check_each_fields_type(algo, field, value, said):
    """The README's bare program (Config, make_train) checked values, not types: train() did, make_train did not."""
    from rl_zoo import algos

    module, _ = algos.get(algo)
    env, params = envs.make("FrozenLake-v1" if algo == "q-learning" else "CartPole-v1")
    config = module.Config(**{field: value})
    for make in (module.make_train, module.make_agent):
        with pytest.raises(ConfigError, match=f"config field '{field}' = {re.escape(repr(value))} is invalid: {said}"):
            make(config, env, params)


def test_numpy_scalars_and_zero_d_arrays_pass_the_type_check():
    """The type check inside validate() refused np.array(1e-3) and np.bool_(True), which make_train took before."""
    from rl_zoo.algos import ppo

    env, params = envs.make("CartPole-v1")
    for config in (ppo.Config(learning_rate=np.array(1e-3), anneal_lr=np.bool_(False)),
                   ppo.Config(learning_rate=np.float32(1e-3), num_envs=np.int64(4))):
        ppo.make_train(config, env, params)  # builds without an error (nothing compiles)
