"""Stages 1 and 2: causal language modelling (pretraining) and supervised fine-tuning.

Both minimise the next-token cross-entropy (Radford et al. 2018, eq. 1)

    L = -(1/|M|) sum_{i in M} log p_theta(t_{i+1} | t_1 .. t_i)

over the positions M that the stage learns: every token of a corpus document (pretraining), only the
response and its EOS of a demonstration (SFT, Ouyang et al. 2022, sec. 3.5). The same function
``fit_lm`` runs both; it is pure in ``key`` and vmaps over seeds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from envs.language import TokenLayout
from rl_zoo.core.transformer import CausalTransformer


@dataclass(frozen=True)
class FitConfig:
    """One supervised stage (pretraining, SFT or the reward model)."""

    steps: int = 600
    """AdamW steps (100-3000)."""
    batch_size: int = 64
    """Sequences per step (16-256)."""
    learning_rate: float = 1e-3
    """AdamW step size (weight decay 0.01 on every weight, LayerNorm and embeddings included), cosine-decayed
    to 10% (1e-4 to 3e-3)."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""

    def validate(self, name: str) -> None:
        from rl_zoo.config import check, check_types

        check_types(self, f"{name}.")
        check(self.steps >= 1, f"{name}.steps", self.steps, "must be >= 1")
        check(self.batch_size >= 1, f"{name}.batch_size", self.batch_size, "must be >= 1")
        check(self.learning_rate > 0, f"{name}.learning_rate", self.learning_rate, "must be > 0")
        check(self.max_grad_norm > 0, f"{name}.max_grad_norm", self.max_grad_norm,
              "must be > 0 (a negative clip turns the gradient around, 0 stops it)")

    def optimizer(self) -> optax.GradientTransformation:
        lr = optax.cosine_decay_schedule(self.learning_rate, self.steps, alpha=0.1)
        return optax.chain(optax.clip_by_global_norm(self.max_grad_norm), optax.adamw(lr, weight_decay=0.01))


def next_token_loss(logits: jax.Array, tokens: jax.Array, loss_mask: jax.Array) -> jax.Array:
    """Mean of -log p(tokens[i+1] | tokens[:i+1]) over the targets i+1 where ``loss_mask`` is 1.

    ``logits [B, T, V]``, ``tokens [B, T]``, ``loss_mask [B, T]`` (on the *target* positions)."""
    chex.assert_equal_shape([tokens, loss_mask])
    logp = jax.nn.log_softmax(logits[:, :-1], axis=-1)
    target_logp = jnp.take_along_axis(logp, tokens[:, 1:, None], axis=-1)[..., 0]
    mask = loss_mask[:, 1:].astype(logp.dtype)
    return -(target_logp * mask).sum() / jnp.maximum(mask.sum(), 1.0)


def pretrain_mask(layout: TokenLayout, tokens: np.ndarray) -> np.ndarray:
    """Every real token is a target (padding is not)."""
    return (tokens != layout.pad).astype(np.float32)


def sft_mask(layout: TokenLayout, tokens: np.ndarray) -> np.ndarray:
    """Only the response and its EOS are targets: the prompt is given, not imitated."""
    pos = np.arange(tokens.shape[-1])
    return ((pos >= layout.response_start) & (tokens != layout.pad)).astype(np.float32)


def check_sequences(layout: TokenLayout, sequences, what: str) -> np.ndarray:
    """A clear error, before anything compiles, for an empty or ill-shaped set of training sequences."""
    seq = np.asarray(sequences)
    if seq.ndim != 2 or seq.shape[0] == 0:
        raise ValueError(f"the {what} is empty (shape {seq.shape}): it needs at least one sequence of token ids; "
                         "check the corpus / demonstration sizes (TaskSpec.corpus_docs, TaskSpec.demos)")
    if seq.shape[1] > layout.context:
        raise ValueError(f"the {what} holds sequences of {seq.shape[1]} tokens, longer than the model context of "
                         f"{layout.context}: shorten them or build the layout with a longer context")
    if seq.min() < 0 or seq.max() >= layout.vocab_size:
        raise ValueError(f"the {what} has token ids outside [0, {layout.vocab_size}): {seq.min()}..{seq.max()}")
    return seq.astype(np.int32)


class FitResult(NamedTuple):
    params: dict
    losses: jax.Array  # [steps]


def fit(loss_fn, params, data, config: FitConfig, key: jax.Array) -> FitResult:
    """``config.steps`` Adam steps on ``loss_fn(params, minibatch)``, minibatches drawn with replacement
    from ``data`` (a pytree of arrays ``[N, ...]``). Pure in ``key``: vmaps over seeds."""
    optimizer = config.optimizer()
    data = jax.tree.map(jnp.asarray, data)
    n = jax.tree.leaves(data)[0].shape[0]

    def step(carry, k):
        params, opt_state = carry
        idx = jax.random.randint(k, (config.batch_size,), 0, n)
        loss, grads = jax.value_and_grad(loss_fn)(params, jax.tree.map(lambda x: x[idx], data))
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), jax.random.split(key, config.steps))
    return FitResult(params, losses)


def fit_lm(model: CausalTransformer, params, tokens: jax.Array, loss_mask: jax.Array, config: FitConfig, key) -> FitResult:
    """Pretraining (``pretrain_mask``) or SFT (``sft_mask``): ``fit`` on ``next_token_loss``."""

    def loss_fn(p, batch):
        tok, mask = batch
        return next_token_loss(model.apply(p, tok), tok, mask)

    return fit(loss_fn, params, (tokens, loss_mask), config, key)


def init_lm(model: CausalTransformer, layout: TokenLayout, key: jax.Array):
    return model.init(key, jnp.zeros((1, layout.context), jnp.int32))


def heldout_loss(model: CausalTransformer, params, tokens, loss_mask) -> jax.Array:
    return next_token_loss(model.apply(params, tokens), tokens, loss_mask)
