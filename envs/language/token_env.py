"""A token-level environment: the state is a prompt plus the tokens generated so far, the action is
the next token, the reward comes at the end (RLHF as an MDP, Ziegler et al. 2019, sec. 2).

Layout of the fixed-size token buffer (``TokenLayout``), which is also the observation::

    [BOS, x_1 .. x_P, SEP, y_1 .. y_R, PAD ...]      length P + 2 + R = ``context``

``reset`` draws a prompt from ``params.prompts [N, P]``; ``step`` writes the action as the next y.
Any token may be written, PAD included, so positions come from the state's step count
(``last_position``) or, for a finished response, from its EOS (``TokenLayout.last_response_position``),
never from counting non-PAD tokens.
The episode ends at EOS or when R tokens have been generated. Both are ``terminated``: the response is
scored as it stands and nothing follows it, so no value is bootstrapped (the length limit is part of
the task here, not a cut through an ongoing process; ``info["eos"]`` says which ended it).
``truncated`` never fires (``max_steps_in_episode`` = R + 1).

The reward is 0 on every step but the last, where it is ``reward_fn(params.reward_params, tokens)``:
a hidden scoring function, or a learned reward model whose parameters are ``reward_params``. The
function is static (part of the env), its parameters are a pytree in the env params, so the same env
runs with any reward model and can be vmapped over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from envs import spaces
from envs.environment import EnvParams, Environment

#: ``reward_fn(reward_params, tokens [context]) -> scalar``
RewardFn = Callable[[Any, jax.Array], jax.Array]


@dataclass(frozen=True)
class TokenLayout:
    """Vocabulary and buffer layout shared by the env, the models and the task."""

    vocab_size: int
    """Token ids 0 .. vocab_size - 1, the four special ones included."""
    prompt_len: int
    """P: tokens per prompt."""
    max_new_tokens: int
    """R: most tokens a response may have, its EOS included."""
    pad: int = 0
    bos: int = 1
    sep: int = 2
    eos: int = 3

    @property
    def context(self) -> int:
        return self.prompt_len + 2 + self.max_new_tokens

    @property
    def response_start(self) -> int:
        """Buffer index of y_1."""
        return self.prompt_len + 2

    def last_response_position(self, tokens: jax.Array) -> jax.Array:
        """Buffer index of the last token of a *finished* response in ``tokens [..., context]``: its first
        EOS, or the last slot when the response ran to the length limit (the only two ways it ends).

        Read from the EOS, not by counting non-PAD tokens: the policy may sample PAD as a token, and a
        PAD inside a response would make a count land short of the end."""
        resp = tokens[..., self.response_start :]
        is_eos = resp == self.eos
        return self.response_start + jnp.where(is_eos.any(-1), jnp.argmax(is_eos, -1), self.max_new_tokens - 1)

    def validate(self) -> None:
        from rl_zoo.config import check

        check(self.vocab_size > max(self.pad, self.bos, self.sep, self.eos), "vocab_size", self.vocab_size,
              "must leave room for the special tokens PAD, BOS, SEP, EOS")
        check(self.prompt_len >= 1, "prompt_len", self.prompt_len, "must be >= 1")
        check(self.max_new_tokens >= 1, "max_new_tokens", self.max_new_tokens, "must be >= 1")


@struct.dataclass
class TokenEnvParams(EnvParams):
    prompts: jax.Array = None  # [N, P] int32 prompt tokens (without BOS / SEP)
    reward_params: Any = None  # parameters of the env's reward_fn (a reward model's, or None)


@struct.dataclass
class TokenState:
    time: jax.Array  # [] tokens generated so far
    tokens: jax.Array  # [context] int32 buffer (the observation)


class TokenEnv(Environment):
    """Next-token MDP over ``layout`` scored at the end by ``reward_fn`` (see module docstring)."""

    id = "Tokens-v0"

    def __init__(self, layout: TokenLayout, reward_fn: RewardFn):
        layout.validate()
        self.layout = layout
        self.reward_fn = reward_fn

    def make_params(self, prompts, reward_params=None) -> TokenEnvParams:
        """Env params for ``prompts [N, P]``, checked here (a clear error, before anything compiles)."""
        prompts = np.asarray(prompts)
        lay = self.layout
        if prompts.ndim != 2 or prompts.shape[0] == 0:
            raise ValueError(f"prompts must be a non-empty [N, P] array of token ids, got shape {prompts.shape}")
        if prompts.shape[1] != lay.prompt_len:
            raise ValueError(
                f"prompts have {prompts.shape[1]} tokens but the layout holds {lay.prompt_len} "
                f"(context {lay.context} = prompt {lay.prompt_len} + BOS + SEP + {lay.max_new_tokens} new tokens): "
                "make the prompts that long, or build the TokenLayout (and the models) for them"
            )
        if prompts.min() < 0 or prompts.max() >= lay.vocab_size:
            raise ValueError(f"prompt token ids must lie in [0, {lay.vocab_size}), got {prompts.min()}..{prompts.max()}")
        return TokenEnvParams(max_steps_in_episode=lay.max_new_tokens + 1, prompts=jnp.asarray(prompts, jnp.int32),
                              reward_params=reward_params)

    @property
    def default_params(self) -> TokenEnvParams:
        raise ValueError("TokenEnv has no default prompts: build its params with env.make_params(prompts, reward_params)")

    def initial_tokens(self, prompt: jax.Array) -> jax.Array:
        """``[BOS, prompt, SEP, PAD ...]``, length ``context``."""
        lay = self.layout
        buf = jnp.full((lay.context,), lay.pad, jnp.int32)
        return buf.at[0].set(lay.bos).at[1 : 1 + lay.prompt_len].set(prompt).at[1 + lay.prompt_len].set(lay.sep)

    def reset_env(self, key, params: TokenEnvParams):
        index = jax.random.randint(key, (), 0, params.prompts.shape[0])
        tokens = self.initial_tokens(params.prompts[index])
        return tokens, TokenState(time=jnp.array(0, jnp.int32), tokens=tokens)

    def step_env(self, key, state: TokenState, action, params: TokenEnvParams):
        lay = self.layout
        action = jnp.asarray(action, jnp.int32)
        tokens = state.tokens.at[lay.response_start + state.time].set(action)
        time = state.time + 1
        eos = action == lay.eos
        terminated = jnp.logical_or(eos, time >= lay.max_new_tokens)
        reward = jnp.where(terminated, self.reward_fn(params.reward_params, tokens), 0.0)
        return tokens, TokenState(time=time, tokens=tokens), reward, terminated, {"eos": eos}

    def observation_space(self, params=None):
        return spaces.Box(0, self.layout.vocab_size - 1, (self.layout.context,), jnp.int32)

    def action_space(self, params=None):
        return spaces.Discrete(self.layout.vocab_size)

    def last_position(self, state: TokenState) -> jax.Array:
        """Buffer index of the last token written (SEP before the first step), whose logits give the next
        token: from the state's step count, not the buffer, in which a PAD the policy sampled looks like
        an empty slot."""
        return self.layout.response_start + state.time - 1
