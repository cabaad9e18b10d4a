"""Stage 3: a reward model fitted to pairwise comparisons (Christiano et al. 2017; Ouyang et al. 2022,
sec. 3.5), here labelled by the hidden gold reward with Bradley-Terry noise.

Comparisons: two responses y_1, y_2 to the same prompt, sampled from the SFT policy; the "annotator"
prefers y_1 with probability sigmoid((g(x, y_1) - g(x, y_2)) / label_temperature) (Bradley & Terry
1952), g the gold reward. The reward model r(x, y) is a ``CausalTransformer`` with a scalar head read
at the last token of the response (it has seen the whole sequence there), started from the SFT
model's weights. Its loss (Ouyang et al. 2022, eq. 1):

    L(r) = -E[log sigmoid(r(x, y_w) - r(x, y_l))]
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp

from envs.language import TokenEnv, TokenLayout
from rl_zoo.core.transformer import CausalTransformer, vocab_size_of


def bradley_terry_loss(r_chosen: jax.Array, r_rejected: jax.Array) -> jax.Array:
    """-mean log sigmoid(r_w - r_l), computed as softplus(r_l - r_w) (no overflow for large margins)."""
    chex.assert_equal_shape([r_chosen, r_rejected])
    return jax.nn.softplus(r_rejected - r_chosen).mean()


def score(model: CausalTransformer, params, layout: TokenLayout, tokens: jax.Array) -> jax.Array:
    """r(x, y) for buffers ``tokens [..., context]`` of finished responses: the scalar head at the
    response's last token (its EOS, or the last slot at the length limit)."""
    out = model.apply(params, tokens)[..., 0]  # [..., context]
    last = layout.last_response_position(tokens)
    return jnp.take_along_axis(out, last[..., None], axis=-1)[..., 0]


def check_vocabulary(params, layout: TokenLayout, what: str = "reward model") -> None:
    """A clear error, before anything compiles, when ``params`` were built for another vocabulary."""
    n = vocab_size_of(params)
    if n != layout.vocab_size:
        raise ValueError(f"the {what} was built for a vocabulary of {n} tokens but the task has {layout.vocab_size}: "
                         "train it on this task (same TaskSpec.num_letters) or load the one that goes with it")


def reward_fn(model: CausalTransformer, layout: TokenLayout):
    """``reward_fn(params, tokens [context])`` for ``TokenEnv``: the reward model as the env's reward."""
    return lambda params, tokens: score(model, params, layout, tokens[None])[0]


def transplant_trunk(source, target):
    """Every weight of ``source`` but its output ``head``, and ``target``'s head: an LM's trunk under a scalar head."""
    inner = dict(source["params"])
    inner["head"] = target["params"]["head"]
    return {"params": inner}


class Comparisons(NamedTuple):
    """Pairs of responses to the same prompt, ``[N, context]`` each; the annotator preferred ``chosen``."""

    chosen: jax.Array
    rejected: jax.Array
    gold_chosen: jax.Array  # [N] gold reward of each side (for noise-free accuracy)
    gold_rejected: jax.Array


def label_pairs(key, a: jax.Array, b: jax.Array, gold_a: jax.Array, gold_b: jax.Array, temperature: float) -> Comparisons:
    """Bradley-Terry annotator: ``a`` wins with probability sigmoid((g_a - g_b) / temperature)."""
    a_wins = jax.random.uniform(key, gold_a.shape) < jax.nn.sigmoid((gold_a - gold_b) / temperature)
    pick = lambda x, y: jnp.where(a_wins.reshape(a_wins.shape + (1,) * (x.ndim - 1)), x, y)  # noqa: E731
    return Comparisons(pick(a, b), pick(b, a), pick(gold_a, gold_b), pick(gold_b, gold_a))


def pairwise_accuracy(score_a: jax.Array, score_b: jax.Array, gold_a: jax.Array, gold_b: jax.Array) -> jax.Array:
    """Share of pairs with different gold rewards that the scores order as the gold does (ties in gold skipped;
    a tie in score counts half, as a coin toss would; NaN when no pair differs)."""
    differ = gold_a != gold_b
    agree = jnp.where(score_a == score_b, 0.5, ((score_a > score_b) == (gold_a > gold_b)).astype(jnp.float32))
    return jnp.where(differ.any(), (agree * differ).sum() / jnp.maximum(differ.sum(), 1), jnp.nan)


def label_accuracy(score_chosen: jax.Array, score_rejected: jax.Array) -> jax.Array:
    """Share of labelled pairs whose scores order them as the annotator's label does; a tie in score counts half
    (two identical responses get equal scores: their label is a coin toss, and so is the score's order)."""
    return jnp.where(score_chosen == score_rejected, 0.5, (score_chosen > score_rejected).astype(jnp.float32)).mean()


def make_gold_env(layout: TokenLayout) -> TokenEnv:
    from rl_zoo.rlhf.task import gold_reward

    return TokenEnv(layout, lambda _params, tokens: gold_reward(layout, tokens))
