"""Sampling responses through the token environment, and their log-probabilities.

``generate`` resets ``B = num_prompts x group_size`` copies of ``envs.language.TokenEnv`` (the
``group_size`` copies of a prompt share their reset key, so they get the same prompt) and steps them
with the policy for ``max_new_tokens`` steps; an env whose episode ended keeps its final buffer.
Each step the policy reads the logits at the last written position of the observation (from the
env's step count: a sampled PAD does not move it back). The learner
then scores whole responses with one forward pass (``response_log_probs``): the logits at buffer
position i give the distribution of token i+1.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from envs.language import TokenEnv, TokenEnvParams, TokenLayout
from rl_zoo.core.transformer import sample_token


class Responses(NamedTuple):
    tokens: jax.Array  # [B, context] final buffers
    score: jax.Array  # [B] the env's reward at the end (the reward model's, or the gold, score)
    length: jax.Array  # [B] tokens generated, EOS included
    eos: jax.Array  # [B] the response ended with EOS (not at the length limit)


def generate(
    env: TokenEnv,
    env_params: TokenEnvParams,
    apply_fn: Callable,
    policy_params,
    key: jax.Array,
    num_prompts: int,
    group_size: int = 1,
    temperature: float = 1.0,
    top_k: int = 0,
) -> Responses:
    """``num_prompts x group_size`` responses (groups adjacent: rows g*G .. g*G+G-1 share a prompt)."""
    key_reset, key_steps = jax.random.split(key)
    reset_keys = jnp.repeat(jax.random.split(key_reset, num_prompts), group_size, axis=0)
    obs, state = jax.vmap(env.reset, in_axes=(0, None))(reset_keys, env_params)
    batch = num_prompts * group_size
    step = jax.vmap(env.step_no_reset, in_axes=(0, 0, 0, None))

    def body(carry, k):
        obs, state, done, score, eos = carry
        k_act, k_env = jax.random.split(k)
        logits = apply_fn(policy_params, obs)  # [B, context, V]
        last = env.last_position(state)  # [B]
        next_logits = jnp.take_along_axis(logits, last[:, None, None], axis=1)[:, 0]
        action = sample_token(k_act, next_logits, temperature, top_k)
        obs2, state2, reward, terminated, truncated, info = step(jax.random.split(k_env, batch), state, action, env_params)
        keep = lambda old, new: jnp.where(done.reshape(done.shape + (1,) * (new.ndim - 1)), old, new)  # noqa: E731
        state = jax.tree.map(keep, state, state2)
        score = jnp.where(done, score, reward)
        eos = jnp.where(done, eos, info["eos"])
        done = done | terminated | truncated
        return (keep(obs, obs2), state, done, score, eos), None

    init = (obs, state, jnp.zeros(batch, bool), jnp.zeros(batch), jnp.zeros(batch, bool))
    (obs, state, _, score, eos), _ = jax.lax.scan(body, init, jax.random.split(key_steps, env.layout.max_new_tokens))
    return Responses(state.tokens, score, state.time, eos)


def response_logits(layout: TokenLayout, logits: jax.Array) -> jax.Array:
    """``[B, context, V] -> [B, R, V]``: the distributions that produced y_1 .. y_R."""
    s = layout.response_start
    return logits[:, s - 1 : s - 1 + layout.max_new_tokens]


def response_tokens(layout: TokenLayout, tokens: jax.Array) -> jax.Array:
    s = layout.response_start
    return tokens[:, s : s + layout.max_new_tokens]


def response_log_probs(layout: TokenLayout, logits: jax.Array, tokens: jax.Array) -> jax.Array:
    """``[B, R]``: log pi(y_t | x, y_<t) of the response tokens (past the end: of PAD, to be masked)."""
    logp = jax.nn.log_softmax(response_logits(layout, logits), axis=-1)
    return jnp.take_along_axis(logp, response_tokens(layout, tokens)[..., None], axis=-1)[..., 0]


def response_mask(layout: TokenLayout, length: jax.Array) -> jax.Array:
    """``[B, R]`` 1.0 on the generated tokens (EOS included), 0.0 past the end."""
    return (jnp.arange(layout.max_new_tokens)[None, :] < length[:, None]).astype(jnp.float32)
