"""Unit tests of the shared core against hand-worked values, plain-Python loops and closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl_zoo.core import losses, normalize
from rl_zoo.core.buffers import flatten_time_batch, shuffled_minibatches
from rl_zoo.core.distributions import Categorical, DiagGaussian
from rl_zoo.core.returns import discounted_returns, gae


def _random_episode_data(seed, T=64, B=5):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(T, B)).astype(np.float32)
    values = rng.normal(size=(T, B)).astype(np.float32)
    next_values = rng.normal(size=(T, B)).astype(np.float32)
    terminated = rng.random((T, B)) < 0.08
    truncated = (rng.random((T, B)) < 0.08) & ~terminated
    truncated[7, 0] = True  # at least one of each
    terminated[9, 1] = True
    return rewards, values, next_values, terminated, truncated


def _gae_loop(r, v, nv, term, trunc, gamma, lam):
    T, B = r.shape
    adv = np.zeros((T, B), np.float64)
    for b in range(B):
        last = 0.0
        for t in reversed(range(T)):
            bootstrap = 0.0 if term[t, b] else nv[t, b]
            delta = r[t, b] + gamma * bootstrap - v[t, b]
            cont = 0.0 if (term[t, b] or trunc[t, b]) else 1.0
            last = delta + gamma * lam * cont * last
            adv[t, b] = last
    return adv


@pytest.mark.parametrize("seed,gamma,lam", [(0, 0.99, 0.95), (1, 0.9, 0.0), (2, 0.98, 1.0)])
def test_gae_matches_python_loop_with_terminations_and_truncations(seed, gamma, lam):
    r, v, nv, term, trunc = _random_episode_data(seed)
    adv, targets = jax.jit(gae, static_argnums=(5, 6))(r, v, nv, term, trunc, gamma, lam)
    expected = _gae_loop(r, v, nv, term, trunc, gamma, lam)
    np.testing.assert_allclose(adv, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(targets, expected + v, rtol=1e-5, atol=1e-5)


def test_gae_truncation_bootstraps_and_termination_does_not():
    # one env, two steps: step 0 truncated (bootstrap from V(final obs) = 10), step 1 terminated.
    r = jnp.array([[1.0], [1.0]])
    v = jnp.zeros((2, 1))
    nv = jnp.array([[10.0], [10.0]])
    term = jnp.array([[False], [True]])
    trunc = jnp.array([[True], [False]])
    adv, _ = gae(r, v, nv, term, trunc, 0.5, 0.9)
    np.testing.assert_allclose(adv[:, 0], [1.0 + 0.5 * 10.0, 1.0])


def test_discounted_returns_match_python_loop():
    r, _, nv, term, trunc = _random_episode_data(3)
    gamma = 0.9
    got = discounted_returns(r, nv, term, trunc, gamma)
    T, B = r.shape
    expected = np.zeros((T, B))
    for b in range(B):
        g = None
        for t in reversed(range(T)):
            done = term[t, b] or trunc[t, b] or t == T - 1
            tail = nv[t, b] if done else g
            g = r[t, b] + gamma * (0.0 if term[t, b] else tail)
            expected[t, b] = g
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", [4, 5])
def test_lambda_one_value_targets_are_the_rewards_to_go(seed):
    """GAE's lambda-return at lambda = 1 is the reward-to-go (what Spinning Up's VPG fits V to), whatever V
    is, so long as V(s'_t) = V(s_{t+1}) within an episode (the same observation): the baseline cancels along
    each episode, and both bootstrap at a cut and at the batch's end."""
    r, v, nv, term, trunc = _random_episode_data(seed)
    v[1:] = np.where(term[:-1] | trunc[:-1], v[1:], nv[:-1])
    _, targets = gae(r, v, nv, term, trunc, 0.95, 1.0)
    np.testing.assert_allclose(targets, discounted_returns(r, nv, term, trunc, 0.95), rtol=1e-5, atol=1e-4)


def test_clipped_surrogate_hand_worked():
    ratio = jnp.array([0.5, 1.5, 1.1, 0.7])
    adv = jnp.array([1.0, 1.0, -2.0, -1.0])
    # min(r A, clip(r) A): 0.5*1=0.5 vs 0.8*1 -> 0.5; 1.5 vs 1.2 -> 1.2; -2.2 vs -2.2 -> -2.2; -0.7 vs -0.8 -> -0.8
    expected = -np.mean([0.5, 1.2, -2.2, -0.8])
    np.testing.assert_allclose(losses.clipped_surrogate_loss(ratio, adv, 0.2), expected, rtol=1e-6)


def test_value_loss_plain_and_clipped_hand_worked():
    values = jnp.array([1.0, 3.0])
    targets = jnp.array([2.0, 2.0])
    old = jnp.array([0.0, 2.9])
    np.testing.assert_allclose(losses.value_loss(values, targets), 0.5 * np.mean([1.0, 1.0]))
    # clipped with eps 0.2: v_clip = [0.2, 3.0]; errors^2 = [(1.8)^2, 1.0] vs [1, 1] -> max = [3.24, 1.0]
    np.testing.assert_allclose(losses.value_loss(values, targets, old, 0.2), 0.5 * np.mean([3.24, 1.0]), rtol=1e-6)


def test_kl_penalty_loss_and_k3_estimator():
    ratio = jnp.array([1.0, 2.0])
    adv = jnp.array([1.0, -1.0])
    kl = jnp.array([0.1, 0.3])
    np.testing.assert_allclose(losses.kl_penalty_loss(ratio, adv, kl, 2.0), -np.mean([1.0 - 0.2, -2.0 - 0.6]), rtol=1e-6)
    log_ratio = jnp.log(jnp.array([2.0]))
    np.testing.assert_allclose(losses.approx_kl(log_ratio), (2.0 - 1.0) - math.log(2.0), rtol=1e-6)


def test_advantage_normalisation_single_sample_is_finite():
    out = losses.normalize_advantages(jnp.array([3.0]))
    assert np.isfinite(np.asarray(out)).all()
    out = losses.normalize_advantages(jnp.array([1.0, 3.0]))
    np.testing.assert_allclose(out, [-1.0, 1.0], atol=1e-6)


def test_td_target_terminated_vs_truncated():
    r = jnp.array([1.0, 1.0])
    nv = jnp.array([5.0, 5.0])
    np.testing.assert_allclose(losses.td_target(r, nv, jnp.array([True, False]), 0.9), [1.0, 5.5])


def test_categorical_closed_forms():
    logits = jnp.array([[0.0, math.log(3.0)]])  # p = [0.25, 0.75]
    d = Categorical(logits)
    np.testing.assert_allclose(d.log_prob(jnp.array([1])), [math.log(0.75)], rtol=1e-6)
    np.testing.assert_allclose(d.entropy(), [-(0.25 * math.log(0.25) + 0.75 * math.log(0.75))], rtol=1e-6)
    q = Categorical(jnp.array([[0.0, 0.0]]))
    np.testing.assert_allclose(d.kl(q), [0.25 * math.log(0.5) + 0.75 * math.log(1.5)], rtol=1e-5)
    assert int(d.mode()[0]) == 1
    samples = jax.vmap(lambda k: Categorical(logits[0]).sample(k))(jax.random.split(jax.random.key(0), 4000))
    assert abs(float(samples.mean()) - 0.75) < 0.03


def test_categorical_with_a_masked_action():
    """A -inf logit (an action masked out) has probability 0 and adds nothing: 0 log 0 = 0, not NaN,
    in log_prob of the other actions, entropy, KL either way round, and their gradients."""
    masked = Categorical(jnp.array([0.0, math.log(3.0), -jnp.inf]))  # p = [0.25, 0.75, 0]
    uniform = Categorical(jnp.zeros(3))  # q = [1/3, 1/3, 1/3]
    np.testing.assert_allclose(masked.log_prob(jnp.array(1)), math.log(0.75), rtol=1e-6)
    assert float(masked.log_prob(jnp.array(2))) == -math.inf
    np.testing.assert_allclose(masked.entropy(), -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)), rtol=1e-6)
    np.testing.assert_allclose(masked.kl(uniform), 0.25 * math.log(0.75) + 0.75 * math.log(2.25), rtol=1e-5)
    assert float(uniform.kl(masked)) == math.inf  # q takes action 2, which p never does
    grads = jax.grad(lambda z: Categorical(z).entropy() + Categorical(z).kl(uniform) + Categorical(z).log_prob(jnp.array(0)))(
        masked.logits)
    assert np.isfinite(np.asarray(grads)).all()


def test_diag_gaussian_closed_forms():
    mean, log_std = jnp.array([0.5, -1.0]), jnp.log(jnp.array([2.0, 0.5]))
    d = DiagGaussian(mean, log_std)
    a = jnp.array([1.0, 0.0])
    expected_lp = sum(-((ai - m) ** 2) / (2 * s**2) - math.log(s) - 0.5 * math.log(2 * math.pi)
                      for ai, m, s in [(1.0, 0.5, 2.0), (0.0, -1.0, 0.5)])
    np.testing.assert_allclose(d.log_prob(a), expected_lp, rtol=1e-6)
    np.testing.assert_allclose(d.entropy(), sum(0.5 * math.log(2 * math.pi * math.e * s**2) for s in (2.0, 0.5)), rtol=1e-6)
    q = DiagGaussian(jnp.zeros(2), jnp.zeros(2))
    expected_kl = sum(math.log(1.0 / s) + (s**2 + m**2) / 2.0 - 0.5 for m, s in [(0.5, 2.0), (-1.0, 0.5)])
    np.testing.assert_allclose(d.kl(q), expected_kl, rtol=1e-6)
    np.testing.assert_allclose(d.kl(d), 0.0, atol=1e-7)
    np.testing.assert_allclose(d.mode(), mean)


def test_diag_gaussian_samples_have_its_mean_and_std():
    """``sample`` draws mean + std * N(0, 1): at the initial log std 0, std and variance are both 1, and a
    review's mutation sampling with the variance passed every test (20,000 draws: the sample std is within
    about 0.5% of the true one, asserted within 3%)."""
    d = DiagGaussian(jnp.array([0.5, -1.0]), jnp.log(jnp.array([2.0, 0.5])))
    x = np.asarray(jax.vmap(d.sample)(jax.random.split(jax.random.key(0), 20_000)))
    np.testing.assert_allclose(x.mean(0), [0.5, -1.0], atol=0.05)
    np.testing.assert_allclose(x.std(0), [2.0, 0.5], rtol=0.03)


def test_minibatches_cover_every_sample_once_per_epoch():
    traj = {"x": jnp.arange(8 * 6).reshape(8, 6), "y": jnp.arange(8 * 6 * 2).reshape(8, 6, 2)}
    flat = flatten_time_batch(traj)
    assert flat["x"].shape == (48,) and flat["y"].shape == (48, 2)
    mbs = shuffled_minibatches(jax.random.key(3), flat, 4)
    assert mbs["x"].shape == (4, 12)
    assert sorted(np.asarray(mbs["x"]).ravel().tolist()) == list(range(48))
    # rows stay aligned across fields
    np.testing.assert_array_equal(np.asarray(mbs["y"])[..., 0], 2 * np.asarray(mbs["x"]))
    other = shuffled_minibatches(jax.random.key(4), flat, 4)
    assert not np.array_equal(np.asarray(other["x"]), np.asarray(mbs["x"]))


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(10, 50, 3)).astype(np.float32)
    stats = normalize.rms_init((3,))
    for chunk in data:
        stats = normalize.rms_update(stats, jnp.asarray(chunk))
    flat = data.reshape(-1, 3)
    np.testing.assert_allclose(stats.mean, flat.mean(0), rtol=1e-3)
    np.testing.assert_allclose(stats.var, flat.var(0), rtol=1e-3)
    z = normalize.normalize(stats, jnp.asarray(flat))
    np.testing.assert_allclose(np.asarray(z).mean(0), 0.0, atol=1e-3)


def test_orthogonal_kernels_are_orthonormal_and_match_qr():
    from rl_zoo.core.networks import _orthonormal_columns, orthogonal_kernels

    shapes, scales = [(4, 64), (64, 64), (64, 2)], [2.0, 1.0, 0.01]
    kernels = orthogonal_kernels(jax.random.key(0), shapes, scales)
    for (rows, cols), scale, w in zip(shapes, scales, kernels):
        assert w.shape == (rows, cols)
        w = np.asarray(w, np.float64)  # the check itself in float64 (an accelerator's default float32 matmul is TF32)
        gram = w @ w.T if rows < cols else w.T @ w  # orthonormal rows of a wide kernel, columns of a tall one
        np.testing.assert_allclose(np.asarray(gram), scale**2 * np.eye(min(rows, cols)), atol=1e-5 * scale**2)
    # Gram-Schmidt gives QR's Q with R's diagonal made positive (what jax.random.orthogonal returns)
    a = jax.random.normal(jax.random.key(1), (64, 16))
    q, r = np.linalg.qr(np.asarray(a, np.float64))
    np.testing.assert_allclose(np.asarray(_orthonormal_columns(a)), q * np.sign(np.diag(r)), atol=1e-5)


def test_network_init_vmapped_over_seeds_runs_and_differs():
    """One network per seed under vmap: the case where a batched LAPACK QR deadlocked jaxlib's CPU pool."""
    from rl_zoo.core.networks import ValueNetwork

    net = ValueNetwork((64, 64))
    params = jax.jit(jax.vmap(lambda k: net.init(k, jnp.zeros(4))))(jax.random.split(jax.random.key(0), 8))
    flat = np.concatenate([np.asarray(leaf).reshape(8, -1) for leaf in jax.tree.leaves(params)], axis=1)
    assert np.isfinite(flat).all() and not np.allclose(flat[0], flat[1])


def test_episode_metrics_no_episode_is_nan_not_zero():
    """An update in which no episode ended has no return (NaN), not a return of 0; averages over updates
    weight each update by its episode count and leave out the updates that ended none."""
    from rl_zoo.core.types import EpisodeMetrics, episode_metrics_from, mean_episode_return

    done = jnp.array([[False, True], [False, True]])  # [T, B]: two episodes ended, returns 3 and 5
    got = episode_metrics_from(done, jnp.array([[9.0, 3.0], [9.0, 5.0]]), jnp.array([[7, 2], [7, 4]]))
    assert (float(got.episode_return), float(got.episode_length), int(got.episodes)) == (4.0, 3.0, 2)
    none = episode_metrics_from(jnp.zeros((2, 2), bool), jnp.full((2, 2), 9.0), jnp.full((2, 2), 7))
    assert int(none.episodes) == 0 and np.isnan(float(none.episode_return)) and np.isnan(float(none.episode_length))
    # three updates: none ended, one ended with 10, three ended with mean 20 -> (10 + 3 * 20) / 4 = 17.5 (not 70 / 3)
    per_update = EpisodeMetrics(jnp.array([jnp.nan, 10.0, 20.0]), jnp.array([jnp.nan, 10.0, 20.0]), jnp.array([0, 1, 3]))
    assert float(mean_episode_return(per_update)) == 17.5
    assert np.isnan(float(mean_episode_return(jax.tree.map(lambda x: x[:1], per_update))))
    batched = jax.tree.map(lambda x: jnp.stack([x, x[::-1]]), per_update)  # [seeds, updates]
    np.testing.assert_array_equal(np.asarray(mean_episode_return(batched, axis=1)), [17.5, 17.5])


def test_env_action_numbers_a_choice_as_its_space_does():
    """A categorical choice is an index 0..n-1; Discrete(3, start=-1) takes -1, 0, 1 (the index went
    to the env as it was, outside the space); a Box clips; Discrete(n) is unchanged."""
    from envs import spaces
    from rl_zoo.core.rollout import env_action

    index = jnp.array([0, 1, 2], jnp.int32)
    shifted = env_action(index, spaces.Discrete(3, start=-1))
    assert shifted.tolist() == [-1, 0, 1] and shifted.dtype == jnp.int32
    assert env_action(index, spaces.Discrete(3)).tolist() == [0, 1, 2]
    assert env_action(jnp.array([-3.0, 0.5, 3.0]), spaces.Box(-1.0, 2.0, (3,))).tolist() == [-1.0, 0.5, 2.0]


def test_q_learning_refuses_spaces_not_numbered_from_zero():
    from envs import spaces
    from rl_zoo.algos import q_learning
    from rl_zoo.config import ConfigError

    class Shifted:  # only what check_env reads
        id = "Shifted-v0"
        backend = "jax"

        def observation_space(self, params):
            return spaces.Discrete(4)

        def action_space(self, params):
            return spaces.Discrete(3, start=-1)

    with pytest.raises(ConfigError, match="action space is Discrete.*numbered from -1.*Instead, use DQN"):
        q_learning.check_env(Shifted(), None)
    Shifted.backend = "gymnasium"  # one refusal, the backend's: the start fixed, it was refused a second time for it
    with pytest.raises(ConfigError, match="runs on pure-JAX envs only; Shifted-v0 runs on the gymnasium adapter: use a JAX port"):
        q_learning.check_env(Shifted(), None)


def test_an_action_index_out_of_range_has_no_log_probability():
    """Categorical.log_prob gave an index outside 0..n-1 the log-probability 0 (a certain action), so an
    env's shifted Discrete(n, start) action passed by mistake trained on silently: it is NaN now, for the
    NaN guard to name. In-range actions keep their values, a masked one its -inf."""
    from rl_zoo.core.distributions import Categorical

    dist = Categorical(jnp.array([[1.0, 2.0, -jnp.inf], [0.0, 0.0, 0.0]]))
    assert np.isnan(np.asarray(dist.log_prob(jnp.array([3, -1])))).all()
    np.testing.assert_allclose(dist.log_prob(jnp.array([1, 2])), [1.0 - np.log(1 + np.e), -np.log(3.0)], rtol=1e-6)
    assert float(dist.log_prob(jnp.array([2, 0]))[0]) == -np.inf


def test_a_clipped_value_loss_needs_the_old_values():
    from rl_zoo.core import losses

    with pytest.raises(ValueError, match="clip_eps clips the change from old_values"):
        losses.value_loss(jnp.ones(2), jnp.zeros(2), None, 0.2)
