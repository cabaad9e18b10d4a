"""The token-level environment keeps the env contract: shapes, end of sequence, reward only at the end."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.language import TokenEnv, TokenLayout

LAY = TokenLayout(vocab_size=8, prompt_len=2, max_new_tokens=3)  # context 7, letters 4..7
SUM_FN = lambda params, tokens: tokens.sum().astype(jnp.float32) + params  # noqa: E731  a visible score


def make():
    env = TokenEnv(LAY, SUM_FN)
    return env, env.make_params(np.array([[4, 5], [6, 7]]), jnp.float32(100.0))


def test_reset_layout_and_spaces(seed_offset):
    env, params = make()
    obs, state = env.reset(jax.random.key(seed_offset), params)  # samples one of the two prompts
    assert obs.shape == (7,) and obs.dtype == jnp.int32
    assert env.observation_space().shape == (7,) and env.action_space().n == 8
    assert obs[0] == LAY.bos and obs[3] == LAY.sep and (obs[4:] == LAY.pad).all()
    assert tuple(obs[1:3].tolist()) in {(4, 5), (6, 7)}
    assert int(env.last_position(state)) == 3  # SEP: its logits give y_1


def test_reward_only_at_eos():
    env, params = make()
    obs, state = env.reset(jax.random.key(0), params)
    obs, state, r, term, trunc, info = env.step_no_reset(jax.random.key(1), state, 4, params)
    assert (float(r), bool(term), bool(trunc), bool(info["eos"])) == (0.0, False, False, False)
    assert obs[4] == 4 and int(env.last_position(state)) == 4
    obs, state, r, term, trunc, info = env.step_no_reset(jax.random.key(2), state, LAY.eos, params)
    assert bool(term) and not bool(trunc) and bool(info["eos"])
    assert float(r) == float(obs.sum()) + 100.0  # the reward function saw the final buffer and its params


def test_a_sampled_pad_does_not_move_the_position_back():
    """PAD is a token the policy may sample; the buffer then looks one token shorter than it is."""
    env, params = make()
    obs, state = env.reset(jax.random.key(0), params)
    obs, state, *_ = env.step_no_reset(jax.random.key(1), state, LAY.pad, params)
    assert int(env.last_position(state)) == 4  # counting non-PAD tokens would say 3 (SEP) again
    obs, state, *_ = env.step_no_reset(jax.random.key(2), state, 5, params)
    assert int(env.last_position(state)) == 5


@pytest.mark.parametrize("response, last", [
    ([4, 0, 3], 6),  # a PAD inside, then EOS: the EOS (a count of non-PAD tokens would give 5)
    ([0, 3], 5),  # PAD then EOS
    ([3], 4),  # the empty response: its EOS
    ([5, 0, 6], 6),  # no EOS: the length limit's last slot
    ([5, 6, 0], 6),  # no EOS, PAD last: still the last slot (a count would give 5)
])
def test_last_response_position_reads_the_eos_not_the_padding(response, last):
    buf = [LAY.bos, 4, 5, LAY.sep, *response]
    tokens = jnp.array(buf + [LAY.pad] * (LAY.context - len(buf)), jnp.int32)
    assert int(LAY.last_response_position(tokens)) == last
    np.testing.assert_array_equal(LAY.last_response_position(jnp.stack([tokens, tokens])), [last, last])


def test_length_limit_terminates_without_eos_and_auto_resets():
    env, params = make()
    obs, state = env.reset(jax.random.key(0), params)
    rewards = []
    for t, a in enumerate([5, 6, 7]):
        obs, state, r, term, trunc, info = env.step(jax.random.key(t), state, a, params)
        rewards.append(float(r))
    assert rewards[:2] == [0.0, 0.0] and rewards[2] > 0
    assert bool(term) and not bool(info["eos"]) and not bool(trunc)
    np.testing.assert_array_equal(info["final_obs"][4:], [5, 6, 7])
    assert int(state.time) == 0 and (obs[4:] == LAY.pad).all()  # same-step auto-reset


def test_jit_and_vmap():
    env, params = make()
    keys = jax.random.split(jax.random.key(0), 5)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(keys, params)
    step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    obs, state, r, term, trunc, info = step(keys, state, jnp.full(5, LAY.eos), params)
    assert obs.shape == (5, 7) and r.shape == (5,) and term.all()


def test_rl_zoo_ppo_runs_on_it(seed_offset):
    """Same contract as every env: rl_zoo's own PPO agent (an MLP on the token buffer) trains on it."""
    from rl_zoo.algos import ppo

    env, params = make()
    config = ppo.Config(total_timesteps=64, num_envs=4, num_steps=8, update_epochs=1, num_minibatches=1, hidden_size=8, num_layers=1)
    agent = ppo.make_agent(config, env, params)
    state, metrics = jax.jit(agent.update)(jax.jit(agent.init)(jax.random.key(seed_offset)))  # jitted: one compile each
    assert np.isfinite(float(metrics.policy_loss)) and int(metrics.episode.episodes) > 0


@pytest.mark.parametrize("prompts, match", [
    (np.zeros((0, 2), np.int32), "non-empty"),
    (np.full((3, 5), 4), "prompts have 5 tokens but the layout holds 2"),
    (np.full((3, 2), 9), r"token ids must lie in \[0, 8\)"),
])
def test_bad_prompts_are_refused(prompts, match):
    with pytest.raises(ValueError, match=match):
        TokenEnv(LAY, SUM_FN).make_params(prompts)
