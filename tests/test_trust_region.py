"""Tests for rl_zoo.core.trust_region: CG parity with jnp.linalg.solve, the Fisher-vector product
against an explicitly built Fisher matrix, the TRPO step length, and line-search properties."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from rl_zoo.core import trust_region as tr

# ----------------------------------------------------------------------------------------------
# Fixtures: random SPD systems and a tiny linear-softmax policy.
# ----------------------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnums=1)
def _random_spd(key: jax.Array, n: int, cond: float = 10.0) -> jax.Array:
    """Q diag(eigs) Q^T with eigenvalues in [1, cond]: well conditioned, fine in float32."""
    k1, k2 = jax.random.split(key)
    q, _ = jnp.linalg.qr(jax.random.normal(k1, (n, n)))
    eigs = jnp.linspace(1.0, cond, n)[jax.random.permutation(k2, n)]
    return (q * eigs) @ q.T


N_STATES, OBS_DIM, N_ACTIONS = 6, 3, 4


def _policy_problem(key: jax.Array):
    """A linear softmax policy pi(a|s) = softmax(s W + b) over a few states, with a surrogate.

    Returns (params, obs [N, D], actions [N], advantages [N], kl_fn, objective_fn), where kl_fn is
    the mean KL(pi_params_old || pi_params) and objective_fn the importance-sampled surrogate L.
    """
    kw, kb, ko, ka, kadv = jax.random.split(key, 5)
    params = {
        "w": 0.5 * jax.random.normal(kw, (OBS_DIM, N_ACTIONS)),
        "b": 0.5 * jax.random.normal(kb, (N_ACTIONS,)),
    }
    obs = jax.random.normal(ko, (N_STATES, OBS_DIM))
    actions = jax.random.randint(ka, (N_STATES,), 0, N_ACTIONS)
    advantages = jax.random.normal(kadv, (N_STATES,))

    def logits(p):
        return obs @ p["w"] + p["b"]  # [N, A]

    old_logp = jax.lax.stop_gradient(jax.nn.log_softmax(logits(params)))  # [N, A]

    def kl_fn(p):
        logp = jax.nn.log_softmax(logits(p))
        return jnp.mean(jnp.sum(jnp.exp(old_logp) * (old_logp - logp), axis=-1))

    def objective_fn(p):
        logp = jax.nn.log_softmax(logits(p))
        idx = jnp.arange(N_STATES)
        ratio = jnp.exp(logp[idx, actions] - old_logp[idx, actions])
        return jnp.mean(ratio * advantages)

    return params, obs, logits, kl_fn, objective_fn


# The reference values below (dot products, explicit Fisher matrices, Hessians, solves) are computed
# in full float32 or float64: on accelerators JAX's default float32 matmul is TF32 or bfloat16, about
# 3 significant digits, which the identities checked here would only meet to 1e-3.
FULL = jax.lax.Precision.HIGHEST


def _vdot(a, b) -> jax.Array:
    return jnp.dot(ravel_pytree(a)[0], ravel_pytree(b)[0], precision=FULL)


@jax.default_matmul_precision("highest")
def _explicit_fisher(params, logits) -> jax.Array:
    """F = E_s[J_s^T (diag(p_s) - p_s p_s^T) J_s], J_s = d logits_s / d theta (flattened)."""
    flat, unravel = ravel_pytree(params)
    jac = jax.jacobian(lambda f: logits(unravel(f)))(flat)  # [N, A, P]
    probs = jax.nn.softmax(logits(params))  # [N, A]
    m = jax.vmap(lambda p: jnp.diag(p) - jnp.outer(p, p))(probs)  # [N, A, A]
    return jnp.mean(jnp.einsum("nap,nab,nbq->npq", jac, m, jac), axis=0)  # [P, P]


# ----------------------------------------------------------------------------------------------
# Conjugate gradient.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, seed", [(1, 0), (3, 1), (8, 2), (20, 3)])
def test_cg_matches_linalg_solve(n, seed):
    k_a, k_b = jax.random.split(jax.random.PRNGKey(seed))
    a = _random_spd(k_a, n)
    b = jax.random.normal(k_b, (n,))
    solve = jax.jit(lambda a, b: tr.conjugate_gradient(lambda v: a @ v, b, iters=2 * n))
    x = solve(a, b)
    expected = jnp.linalg.solve(a, b)
    np.testing.assert_allclose(x, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(a @ x, b, rtol=1e-5, atol=1e-5)


def test_cg_on_pytree_matches_flat_solve():
    key = jax.random.PRNGKey(4)
    k_a, k_b1, k_b2 = jax.random.split(key, 3)
    b = {"w": jax.random.normal(k_b1, (3, 2)), "b": jax.random.normal(k_b2, (2,))}
    b_flat, unravel = ravel_pytree(b)
    a = _random_spd(k_a, b_flat.size)

    def matvec(v):
        return unravel(a @ ravel_pytree(v)[0])

    x = jax.jit(lambda b: tr.conjugate_gradient(matvec, b, iters=16))(b)
    assert jax.tree.structure(x) == jax.tree.structure(b)
    np.testing.assert_allclose(ravel_pytree(x)[0], jnp.linalg.solve(a, b_flat), rtol=1e-5, atol=1e-5)


def test_cg_stops_early_by_masking():
    # A = 3 I: one iteration solves it exactly, the remaining ones must be masked out.
    b = jnp.array([1.0, -2.0, 0.5])
    x, info = jax.jit(
        lambda b: tr.conjugate_gradient_with_info(lambda v: 3.0 * v, b, iters=10)
    )(b)
    np.testing.assert_allclose(x, b / 3.0, rtol=1e-6)
    assert int(info.iterations) == 1
    assert float(info.residual_sq) < 1e-10


def test_cg_zero_rhs_and_non_pd_give_finite_zero():
    x0 = jax.jit(lambda b: tr.conjugate_gradient(lambda v: 2.0 * v, b, iters=5))(jnp.zeros(4))
    np.testing.assert_array_equal(x0, jnp.zeros(4))
    # Negative definite: the first curvature p^T A p < 0, so CG freezes at x = 0 instead of diverging.
    x1, info = tr.conjugate_gradient_with_info(lambda v: -v, jnp.ones(4), iters=5)
    np.testing.assert_array_equal(x1, jnp.zeros(4))
    assert int(info.iterations) == 0


def test_cg_takes_its_first_step_whatever_the_scale_of_b():
    """Scaling A and b by s leaves A^-1 b unchanged. At s = 1e-6, b^T b = 5e-12 is under the 1e-10
    tolerance before any step: CG must still take its first step (Schulman's reference tests the
    residual after a step), or TRPO would not move on a small gradient. Hand-worked, A = [[4,1],[1,3]],
    b = [1,-2]: A^-1 b = [5,-9]/11 (two steps); the first step alone is (b^T b / b^T A b) b = (5/12) b."""
    a, b = jnp.array([[4.0, 1.0], [1.0, 3.0]]), jnp.array([1.0, -2.0])
    for scale in (1.0, 1e-3):
        x, info = tr.conjugate_gradient_with_info(lambda v: scale * (a @ v), scale * b, iters=10)
        np.testing.assert_allclose(x, jnp.array([5.0, -9.0]) / 11.0, rtol=1e-4)
        assert int(info.iterations) == 2  # a 2 x 2 SPD system: exact in two steps
    x, info = tr.conjugate_gradient_with_info(lambda v: 1e-6 * (a @ v), 1e-6 * b, iters=10)
    np.testing.assert_allclose(x, 5.0 / 12.0 * b, rtol=1e-4)  # then r^T r < 1e-10: frozen after one step
    assert int(info.iterations) == 1


def test_cg_vmaps_over_systems():
    keys = jax.random.split(jax.random.PRNGKey(5), 4)
    a = jax.jit(jax.vmap(lambda k: _random_spd(k, 6)))(keys)  # [4, 6, 6]
    b = jax.random.normal(jax.random.PRNGKey(6), (4, 6))
    x = jax.jit(jax.vmap(lambda a, b: tr.conjugate_gradient(lambda v: a @ v, b, iters=12)))(a, b)
    np.testing.assert_allclose(x, jnp.linalg.solve(a, b[..., None])[..., 0], rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# Fisher-vector product.
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_fvp_matches_explicit_fisher(damping):
    params, _, logits, kl_fn, _ = _policy_problem(jax.random.PRNGKey(7))
    flat, unravel = ravel_pytree(params)
    fisher = jax.jit(lambda p: _explicit_fisher(p, logits))(params)  # [P, P]
    # Independent cross-check: at theta_old the Hessian of the mean KL is the Fisher matrix.
    with jax.default_matmul_precision("highest"):
        hessian = jax.jit(jax.hessian(lambda f: kl_fn(unravel(f))))(flat)
    np.testing.assert_allclose(hessian, fisher, atol=1e-5)
    fisher64 = np.asarray(fisher, np.float64)

    @jax.jit
    def fvp_flat(params, v_flat):
        return ravel_pytree(tr.fisher_vector_product(kl_fn, params, damping)(unravel(v_flat)))[0]

    for seed in range(3):
        v = jax.random.normal(jax.random.PRNGKey(100 + seed), flat.shape)
        np.testing.assert_allclose(
            fvp_flat(params, v), fisher64 @ np.asarray(v, np.float64) + damping * np.asarray(v), rtol=1e-4, atol=1e-5
        )


def test_fvp_is_linear_and_keeps_structure():
    params, _, _, kl_fn, _ = _policy_problem(jax.random.PRNGKey(8))
    fvp = tr.fisher_vector_product(kl_fn, params, 0.05)
    u = jax.tree.map(jnp.ones_like, params)
    w = jax.tree.map(lambda x: jnp.arange(x.size, dtype=x.dtype).reshape(x.shape), params)
    lhs = fvp(jax.tree.map(lambda a, b: 2.0 * a - b, u, w))
    rhs = jax.tree.map(lambda a, b: 2.0 * a - b, fvp(u), fvp(w))
    assert jax.tree.structure(lhs) == jax.tree.structure(params)
    for left, right in zip(jax.tree.leaves(lhs), jax.tree.leaves(rhs)):
        np.testing.assert_allclose(left, right, rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# TRPO step.
# ----------------------------------------------------------------------------------------------


def test_trpo_step_lands_on_quadratic_trust_region_boundary():
    damping = 0.1
    params, _, logits, kl_fn, objective_fn = _policy_problem(jax.random.PRNGKey(9))

    @jax.jit
    def step_fn(params, max_kl):  # max_kl traced: one compile for both radii
        g = jax.grad(objective_fn)(params)
        fvp = tr.fisher_vector_product(kl_fn, params, damping)
        step, info = tr.trpo_step(g, fvp, max_kl, cg_iters=40)
        return g, step, info, 0.5 * _vdot(step, fvp(step))

    fisher = jax.jit(lambda p: _explicit_fisher(p, logits))(params)
    for max_kl in (1e-3, 1e-2):
        g, step, info, quad_kl = step_fn(params, max_kl)
        assert bool(info.valid)
        np.testing.assert_allclose(quad_kl, max_kl, rtol=1e-4)  # 1/2 s^T (F + lambda I) s == delta
        np.testing.assert_allclose(info.expected_improve, _vdot(g, step), rtol=1e-5)
        assert float(info.expected_improve) > 0  # an ascent direction for the surrogate

        # Direction: the (damped) natural gradient (F + lambda I)^{-1} g, scaled.
        g_flat, _ = ravel_pytree(g)
        damped = np.asarray(fisher, np.float64) + damping * np.eye(g_flat.size)
        nat = np.linalg.solve(damped, np.asarray(g_flat, np.float64))
        beta = np.sqrt(2 * max_kl / (nat @ damped @ nat))
        np.testing.assert_allclose(ravel_pytree(step)[0], beta * nat, rtol=1e-3, atol=1e-6)

        # The exact KL at the boundary is close to the quadratic model for a small radius.
        new_params = jax.tree.map(jnp.add, params, step)
        assert float(kl_fn(new_params)) <= 1.5 * max_kl


@pytest.mark.parametrize("cg_iters", [1, 3, 40])
def test_trpo_step_curvature_from_the_cg_residual_equals_one_more_product(cg_iters):
    # trpo_step reads x^T F x off CG's residual (r = g - F x) instead of computing F x once more;
    # that must hold however far CG got, not only once it has converged.
    params, _, _, kl_fn, objective_fn = _policy_problem(jax.random.PRNGKey(4))
    g = jax.grad(objective_fn)(params)
    fvp = tr.fisher_vector_product(kl_fn, params, 0.1)
    step, info = tr.trpo_step(g, fvp, 0.01, cg_iters=cg_iters)
    x = jax.tree.map(lambda s: s / info.step_size, step)
    np.testing.assert_allclose(info.curvature, _vdot(x, fvp(x)), rtol=1e-4)
    np.testing.assert_allclose(0.5 * _vdot(step, fvp(step)), 0.01, rtol=1e-4)


def test_trpo_step_products_are_full_float32_whatever_the_default():
    """Every matrix and dot product of the Fisher products, CG and the step length asks for HIGHEST
    precision, even under a reduced default (what accelerators use: TF32 on NVIDIA GPUs), so that the
    step is the same linear algebra on every device. Checked on the traced program, which is the same
    on a CPU as on a GPU."""
    params, _, _, kl_fn, objective_fn = _policy_problem(jax.random.PRNGKey(3))

    def step(g, params):  # the Fisher products, CG and the step length for a given gradient g
        return tr.trpo_step(g, tr.fisher_vector_product(kl_fn, params, 0.1), 0.01, cg_iters=3)[0]

    with jax.default_matmul_precision("bfloat16"):
        products = _dot_precisions(jax.make_jaxpr(step)(params, params))
        whole = _dot_precisions(jax.make_jaxpr(lambda p: step(jax.grad(objective_fn)(p), p))(params))  # g traced too
    highest = (jax.lax.Precision.HIGHEST, jax.lax.Precision.HIGHEST)
    assert len(products) >= 4  # the KL's forward and tangent products, CG's and the step's dot products
    assert all(p == highest for p in products), products
    # the surrogate gradient g is not a linear solve: it keeps the ambient default
    assert len(whole) > len(products) and any(p != highest for p in whole)


def _dot_precisions(closed) -> list:
    """The ``precision`` parameter of every ``dot_general`` in a traced program, nested ones (scan, cond,
    pjit, custom derivatives) included: read from the equations, not from the printed text."""
    found = []

    def walk(value):
        if hasattr(value, "eqns"):  # a Jaxpr
            for eqn in value.eqns:
                if eqn.primitive.name == "dot_general":
                    found.append(eqn.params["precision"])
                for v in eqn.params.values():
                    walk(v)
        elif hasattr(value, "jaxpr"):  # a ClosedJaxpr
            walk(value.jaxpr)
        elif isinstance(value, (tuple, list)):
            for v in value:
                walk(v)

    walk(closed)
    return found


def test_trpo_step_guards_non_positive_curvature():
    g = {"a": jnp.ones(3)}
    step, info = jax.jit(lambda g: tr.trpo_step(g, lambda v: jax.tree.map(jnp.negative, v), 0.01))(g)
    assert not bool(info.valid)
    np.testing.assert_array_equal(step["a"], jnp.zeros(3))
    assert np.isfinite(float(info.step_size))
    # g == 0 (no gradient signal): zero step, not NaN.
    step0, info0 = tr.trpo_step(jnp.zeros(3), lambda v: v, 0.01)
    assert not bool(info0.valid)
    np.testing.assert_array_equal(step0, jnp.zeros(3))


# ----------------------------------------------------------------------------------------------
# Backtracking line search.
# ----------------------------------------------------------------------------------------------


def test_line_search_hand_worked_index():
    # L(t) = t (always improves), KL(t) = t^2 / 2, delta = 0.3, full step 1, coeff 0.8:
    # i=0: KL 0.5 > 0.3; i=1: KL 0.32 > 0.3; i=2: t = 0.64, KL 0.2048 <= 0.3 -> accept.
    new, info = jax.jit(
        lambda p: tr.backtracking_line_search(
            lambda t: t, lambda t: 0.5 * t**2, p, jnp.array(1.0), 1.0, 0.3
        )
    )(jnp.array(0.0))
    assert bool(info.accepted)
    assert int(info.step_index) == 2
    np.testing.assert_allclose(info.step_fraction, 0.64, rtol=1e-6)
    np.testing.assert_allclose(new, 0.64, rtol=1e-6)
    np.testing.assert_allclose(info.kl, 0.2048, rtol=1e-5)
    np.testing.assert_allclose(info.improvement, 0.64, rtol=1e-6)


def test_line_search_accept_ratio():
    # L(t) = t - t^2, g = 1, full step 1: actual / expected improvement at fraction f is 1 - f.
    # accept_ratio 0.3 needs f <= 0.7: f = 1 (ratio 0), 0.8 (0.2) fail; 0.64 (0.36) passes.
    run = jax.jit(
        lambda r: tr.backtracking_line_search(
            lambda t: t - t**2, lambda t: 0.0 * t, jnp.array(0.0), jnp.array(1.0), 1.0, 1.0,
            accept_ratio=r,
        )
    )
    _, info = run(0.3)
    assert int(info.step_index) == 2
    _, info = run(0.0)  # f = 1 gives improvement 0, not strictly positive; f = 0.8 passes
    assert int(info.step_index) == 1


def test_line_search_returns_old_params_when_nothing_passes():
    params, _, _, kl_fn, _ = _policy_problem(jax.random.PRNGKey(10))
    # A random step (not a constant shift of the logits, which would leave the policy unchanged).
    step = jax.tree.map(lambda x: 0.1 * jax.random.normal(jax.random.PRNGKey(12), x.shape), params)

    def always_worse(p):  # maximised at the old params: every candidate decreases it
        return -sum(jnp.sum((a - b) ** 2) for a, b in zip(jax.tree.leaves(p), jax.tree.leaves(params)))

    def nan_objective(p):
        return jnp.where(jnp.sum(p["b"]) == jnp.sum(params["b"]), 0.0, jnp.nan)

    def improves(p):
        return jnp.sum(p["b"])

    def inf_objective(p):  # +inf passes improvement > 0: rejected only by the finiteness test (the old
        # params' 0 found by a tolerance: under jit the two sums need not round alike, and inf - inf is NaN)
        return jnp.where(jnp.abs(jnp.sum(p["b"]) - jnp.sum(params["b"])) < 1e-6, 0.0, jnp.inf)

    cases = [
        (always_worse, kl_fn, 1.0),  # objective never improves
        (nan_objective, kl_fn, 1.0),  # non-finite objective
        (inf_objective, kl_fn, 1.0),  # an infinite one
        (improves, kl_fn, 0.0),  # improves, but every candidate has KL > 0 == max_kl
    ]
    for objective_fn, kl, max_kl in cases:
        new, info = jax.jit(
            lambda p: tr.backtracking_line_search(objective_fn, kl, p, step, 1.0, max_kl)
        )(params)
        assert not bool(info.accepted)
        assert int(info.step_index) == 10
        for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(params)):
            np.testing.assert_array_equal(a, b)


def test_line_search_properties_over_random_problems():
    """Over many random policies, radii and step scales (some steps flipped to descend L):
    accepted => exact KL <= delta and L strictly improved; rejected => old params bit-for-bit.
    The sample must exercise acceptance at several backtracking depths and both rejection causes."""
    damping, iters = 0.1, 8

    def one_problem(key, max_kl, step_scale):
        params, _, _, kl_fn, objective_fn = _policy_problem(key)
        g = jax.grad(objective_fn)(params)
        step, step_info = tr.trpo_step(g, tr.fisher_vector_product(kl_fn, params, damping), max_kl)
        step = jax.tree.map(lambda s: step_scale * s, step)  # |scale| > 1 forces backtracking
        new, info = tr.backtracking_line_search(
            objective_fn, kl_fn, params, step, step_scale * step_info.expected_improve, max_kl,
            backtrack_iters=iters,
        )
        unchanged = jnp.all(
            jnp.stack([jnp.all(a == b) for a, b in zip(jax.tree.leaves(new), jax.tree.leaves(params))])
        )
        return info, kl_fn(new), objective_fn(new) - objective_fn(params), unchanged

    n = 64
    k_prob, k_kl, k_scale = jax.random.split(jax.random.PRNGKey(11), 3)
    keys = jax.random.split(k_prob, n)
    max_kls = 10.0 ** jax.random.uniform(k_kl, (n,), minval=-4.0, maxval=-1.0)
    scales = jnp.exp(jax.random.uniform(k_scale, (n,), maxval=jnp.log(60.0)))
    scales = scales.at[: n // 4].multiply(-1.0)  # descent directions: L mostly gets worse
    info, kl_new, improvement, unchanged = jax.jit(jax.vmap(one_problem))(keys, max_kls, scales)

    accepted = np.asarray(info.accepted)
    kl_new, improvement, max_kls = np.asarray(kl_new), np.asarray(improvement), np.asarray(max_kls)
    assert np.all(kl_new[accepted] <= max_kls[accepted])
    assert np.all(improvement[accepted] > 0)
    np.testing.assert_allclose(np.asarray(info.kl)[accepted], kl_new[accepted], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(info.improvement)[accepted], improvement[accepted], rtol=1e-5)
    assert np.all(np.asarray(unchanged)[~accepted])
    assert np.all(np.asarray(info.step_index)[~accepted] == iters)
    # The sample is not degenerate: accepted at >= 3 backtracking depths, and rejected by KL too.
    assert len(set(np.asarray(info.step_index)[accepted].tolist())) >= 3
    assert (~accepted[n // 4 :]).any()
