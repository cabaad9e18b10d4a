"""A small causal transformer (GPT-style, pre-LayerNorm) and next-token sampling.

One module serves three roles in RLHF (``rl_zoo/rlhf``): the language model / policy
(``out=None``: logits over the vocabulary at every position), the reward model and the value
network (``out=1``: one scalar per position). The output layer is the submodule ``"head"``, so a
reward model or value network can take every other weight from a language model (InstructGPT,
Ouyang et al. 2022, sec. 3.5: the reward model starts from the SFT model, the value function from
the reward model).

Architecture (Radford et al. 2019, GPT-2): token embedding + learned position embedding, ``layers``
blocks of ``x + MHA(LN(x))`` with a causal mask then ``x + MLP(LN(x))``, a final LayerNorm, a linear head.
Position i attends to positions <= i only (Vaswani et al. 2017, sec. 3.2.3), so the output at i is a
function of tokens[:i+1]; padding placed after the tokens of interest is never seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import flax.linen as nn
import jax
import jax.numpy as jnp


@dataclass(frozen=True)
class TransformerSpec:
    """Sizes of a ``CausalTransformer``."""

    vocab_size: int
    """Number of token ids (embedding rows, and logits when ``out`` is None)."""
    context: int
    """Longest sequence the position embedding covers."""
    width: int = 64
    """Model width d_model (64-128 here)."""
    layers: int = 2
    """Transformer blocks (1-4)."""
    heads: int = 4
    """Attention heads; must divide ``width``."""

    def validate(self) -> None:
        from rl_zoo.config import check

        for name in ("vocab_size", "context", "width", "layers", "heads"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check(self.width % self.heads == 0, "heads", self.heads, f"must divide width = {self.width}")


class Block(nn.Module):
    """Pre-LN transformer block: x + MHA(LN(x), causal), then x + MLP(LN(x)) with a 4x GELU hidden layer."""

    width: int
    heads: int

    @nn.compact
    def __call__(self, x, mask):
        h = nn.LayerNorm()(x)
        x = x + nn.MultiHeadDotProductAttention(num_heads=self.heads, qkv_features=self.width)(h, h, mask=mask)
        h = nn.LayerNorm()(x)
        h = nn.Dense(4 * self.width)(h)
        return x + nn.Dense(self.width)(nn.gelu(h))


class CausalTransformer(nn.Module):
    """``tokens [..., T] (int) -> [..., T, out]`` (``out`` = vocab_size when None): logits or scalars per position."""

    spec: TransformerSpec
    out: int | None = None

    @nn.compact
    def __call__(self, tokens):
        length = tokens.shape[-1]
        if length > self.spec.context:
            raise ValueError(f"a sequence of {length} tokens is longer than the transformer's context of {self.spec.context}")
        x = nn.Embed(self.spec.vocab_size, self.spec.width, name="embed")(tokens)
        pos = self.param("pos_embed", nn.initializers.normal(0.02), (self.spec.context, self.spec.width))
        x = x + pos[:length]
        mask = causal_mask(length)
        for i in range(self.spec.layers):
            x = Block(self.spec.width, self.spec.heads, name=f"block_{i}")(x, mask)
        x = nn.LayerNorm(name="ln_f")(x)
        return nn.Dense(self.out or self.spec.vocab_size, name="head")(x)


def causal_mask(length: int) -> jax.Array:
    """``[1, T, T]`` boolean mask (one broadcast head): query i may attend to key j iff j <= i."""
    return jnp.tril(jnp.ones((length, length), bool))[None]


def vocab_size_of(params) -> int:
    """The vocabulary a transformer's parameters were built for (rows of its token embedding)."""
    return int(params["params"]["embed"]["embedding"].shape[0])


def sample_token(key: jax.Array, logits: jax.Array, temperature: float = 1.0, top_k: int = 0) -> jax.Array:
    """Draw a token from softmax(logits / temperature), keeping only the ``top_k`` largest logits
    when ``top_k > 0`` (Fan et al. 2018; logits tied with the k-th are kept too). ``temperature`` -> 0
    approaches greedy decoding; ``temperature=0`` (a Python number) is greedy decoding, the argmax; a
    negative one is refused. A traced temperature must be positive."""
    if isinstance(temperature, (int, float)):
        if temperature < 0 or temperature != temperature:
            raise ValueError(f"temperature = {temperature!r} is invalid: must be >= 0 (0: greedy decoding)")
        if temperature == 0:  # logits / 0 made +-inf and NaN, and the draw took the first positive logit
            return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    logits = logits / temperature
    if top_k > 0:
        kth = jax.lax.top_k(logits, top_k)[0][..., -1:]
        logits = jnp.where(logits < kth, -jnp.inf, logits)
    return jax.random.categorical(key, logits, axis=-1).astype(jnp.int32)
