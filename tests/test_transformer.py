"""The causal transformer: a token never sees the future; shapes; sampling with temperature / top-k."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl_zoo.core.transformer import CausalTransformer, TransformerSpec, causal_mask, sample_token, vocab_size_of

SPEC = TransformerSpec(vocab_size=10, context=8, width=16, layers=2, heads=2)


def test_causal_mask_is_lower_triangular():
    np.testing.assert_array_equal(causal_mask(3)[0], [[1, 0, 0], [1, 1, 0], [1, 1, 1]])


@pytest.mark.parametrize("changed", [0, 3, 7])
def test_a_token_never_sees_the_future(changed):
    """Changing token j changes the outputs at positions >= j and leaves every position < j bit for bit."""
    model = CausalTransformer(SPEC)
    tokens = jnp.array([[1, 4, 5, 6, 7, 8, 9, 2]])
    params = jax.jit(model.init)(jax.random.key(0), tokens)  # jitted: one compile, not one per primitive
    other = tokens.at[0, changed].set((tokens[0, changed] + 3) % 10)
    apply = jax.jit(model.apply)
    a, b = apply(params, tokens), apply(params, other)
    assert a.shape == (1, 8, 10)
    np.testing.assert_array_equal(a[0, :changed], b[0, :changed])
    assert np.abs(np.asarray(a[0, changed:] - b[0, changed:])).max(-1).min() > 1e-6


def test_scalar_head_and_unbatched_input():
    model = CausalTransformer(SPEC, out=1)
    params = jax.jit(model.init)(jax.random.key(1), jnp.zeros((2, 8), jnp.int32))
    apply = jax.jit(model.apply)
    assert apply(params, jnp.zeros((2, 5), jnp.int32)).shape == (2, 5, 1)
    assert apply(params, jnp.zeros((8,), jnp.int32)).shape == (8, 1)
    assert vocab_size_of(params) == 10


def test_sequence_longer_than_context_is_refused():
    model = CausalTransformer(SPEC)
    with pytest.raises(ValueError, match="longer than the transformer's context of 8"):
        model.init(jax.random.key(0), jnp.zeros((1, 9), jnp.int32))


def test_temperature_two_samples_the_softmax_of_half_the_logits(seed_offset):
    """Temperature T samples softmax(logits / T): at T = 2, probabilities 0.1 .. 0.4 become sqrt(p) / sum sqrt(p)
    = 0.163, 0.230, 0.282, 0.325 (a division by sqrt(T) would give 0.134, 0.218, 0.291, 0.357). 20,000 draws:
    each frequency's standard error is at most 0.0034, the tolerance 0.015."""
    p = np.array([0.1, 0.2, 0.3, 0.4])
    keys = jax.random.split(jax.random.key(seed_offset), 20_000)
    draws = np.asarray(jax.jit(jax.vmap(lambda k: sample_token(k, jnp.log(jnp.asarray(p)), 2.0)))(keys))
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / len(draws), np.sqrt(p) / np.sqrt(p).sum(), atol=0.015)


def test_top_k_and_temperature():
    logits = jnp.log(jnp.array([0.1, 0.2, 0.3, 0.4]))
    keys = jax.random.split(jax.random.key(0), 2000)
    top2 = jax.vmap(lambda k: sample_token(k, logits, 1.0, top_k=2))(keys)
    assert set(np.unique(top2)) == {2, 3}  # only the two largest logits survive
    cold = jax.vmap(lambda k: sample_token(k, logits, 1e-3))(keys)
    assert (cold == 3).all()  # temperature -> 0: greedy


def test_temperature_zero_is_greedy_decoding_and_a_negative_one_is_refused():
    """``temperature=0``: the argmax. It was logits / 0, every positive logit +inf and a zero one NaN, and the draw
    took the first positive logit (token 1 here, not 2)."""
    logits = jnp.array([[-1.0, 0.5, 2.0, 0.0], [3.0, -2.0, 0.0, 1.0]])
    keys = jax.random.split(jax.random.key(0), 50)
    draws = np.asarray(jax.vmap(lambda k: sample_token(k, logits, 0.0))(keys))
    assert (draws == np.array([2, 0])).all()
    assert (np.asarray(jax.jit(lambda k: sample_token(k, logits, 0))(keys[0])) == np.array([2, 0])).all()
    with pytest.raises(ValueError, match=r"temperature = -1.0 is invalid: must be >= 0 \(0: greedy decoding\)"):
        sample_token(keys[0], logits, -1.0)
