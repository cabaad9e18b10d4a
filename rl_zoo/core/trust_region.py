"""Trust-region building blocks for TRPO (Schulman et al. 2015, arXiv:1502.05477, Appendix C).

TRPO solves eq. (14): maximise the surrogate L(theta) = E[pi_theta(a|s) / pi_old(a|s) * A(s, a)]
subject to the mean KL  KLbar(theta) = E_s[KL(pi_old(.|s) || pi_theta(.|s))] <= delta.
Appendix C approximates L linearly, L(theta_old + s) ~ L(theta_old) + g^T s, and the KL quadratically,
KLbar(theta_old + s) ~ 1/2 s^T F s, where F is the Hessian of KLbar at theta_old (the Fisher matrix).
One update is then:
  1. g = grad L(theta_old)                                   (the policy gradient; caller's job)
  2. x ~= F^{-1} g by conjugate gradient, using only F v     (`fisher_vector_product`,
                                                             `conjugate_gradient`)
  3. full step = sqrt(2 delta / x^T (F + lambda I) x) x, so that 1/2 step^T (F + lambda I) step == delta
                                                             (`trpo_step`)
  4. backtrack theta_old + c^i * step until the exact KLbar <= delta and L improves, else keep
     theta_old                                               (`backtracking_line_search`)

Conventions. Every vector argument (``b``, ``g``, ``v``, ``params``, ``full_step``) is a pytree of
float arrays (a flax params dict, or a single flat ``jnp`` vector, which is a one-leaf pytree); dot
products sum over all leaves. ``matvec``/``fvp`` map a pytree to a pytree of the same structure.
``objective_fn(params)`` returns the scalar surrogate L to MAXIMISE; ``kl_fn(params)`` returns the
scalar mean KL(pi_old || pi_params) with the old policy held fixed (closed over, or behind
``jax.lax.stop_gradient``). All functions are pure and jittable; the float hyperparameters
(``damping``, ``max_kl``, ``backtrack_coeff``, ``accept_ratio``, ``residual_tol``) may be traced (so
they can be vmapped), while iteration counts must be Python ints.

Precision. By default JAX computes float32 matrix products in reduced precision on accelerators
(TF32, about 3 significant digits, on recent NVIDIA GPUs; bfloat16 passes on TPUs; JAX docs,
"Matmul precision"). CG needs its products F v and dot products to be the same linear operator
from one iteration to the next, and step 3 sets the step length from x^T F x, so both are computed
in full float32 (``HIGHEST``) whatever the default: ``fisher_vector_product`` traces the KL's
derivatives under ``jax.default_matmul_precision("highest")``, and every dot product here asks for
it. On a CPU this changes nothing (float32 products are full precision there); on an H200 at the
default precision the unit tests' Hessian of the KL and explicit Fisher matrix differed by up to
3e-3 (relative), and a TRPO direction by 1% in one component. The surrogate gradient g
and the line search's exact KL keep the default: neither is a linear solve.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import chex
import jax
import jax.numpy as jnp

PyTree = Any
MatVec = Callable[[PyTree], PyTree]


# ----------------------------------------------------------------------------------------------
# Small pytree helpers (vectors are pytrees; a flat array is the one-leaf case).
# ----------------------------------------------------------------------------------------------


def _tree_vdot(a: PyTree, b: PyTree) -> jax.Array:
    """Sum over leaves of <a_leaf, b_leaf>: the dot product of the two flattened vectors."""
    chex.assert_trees_all_equal_shapes(a, b)
    leaves = jax.tree.leaves(jax.tree.map(lambda x, y: jnp.vdot(x, y, precision=jax.lax.Precision.HIGHEST), a, b))
    return sum(leaves, jnp.zeros((), jnp.result_type(*leaves))) if leaves else jnp.zeros(())


def _tree_axpy(alpha: jax.Array, x: PyTree, y: PyTree) -> PyTree:
    """alpha * x + y, leaf-wise, keeping each leaf's dtype."""
    return jax.tree.map(lambda xi, yi: (alpha * xi + yi).astype(yi.dtype), x, y)


def _tree_scale(alpha: jax.Array, x: PyTree) -> PyTree:
    return jax.tree.map(lambda xi: (alpha * xi).astype(xi.dtype), x)


def _tree_select(pred: jax.Array, on_true: PyTree, on_false: PyTree) -> PyTree:
    """Leaf-wise ``jnp.where(pred, on_true, on_false)`` for a scalar boolean ``pred``."""
    return jax.tree.map(lambda t, f: jnp.where(pred, t, f), on_true, on_false)


def _tree_all_finite(x: PyTree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(x)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


# ----------------------------------------------------------------------------------------------
# Conjugate gradient.
# ----------------------------------------------------------------------------------------------


class CGInfo(NamedTuple):
    """Diagnostics of one `conjugate_gradient` solve."""

    iterations: jax.Array  # [] int32, number of CG updates actually applied (<= iters)
    residual_sq: jax.Array  # [] squared norm ||b - A x||^2 of the recursive residual at exit
    residual: PyTree  # the recursive residual r = b - A x at exit (b's structure)


class _CGState(NamedTuple):
    x: PyTree  # current iterate
    r: PyTree  # residual b - A x (updated recursively)
    p: PyTree  # search direction
    rdotr: jax.Array  # [] r^T r
    done: jax.Array  # [] bool, frozen (converged or broke down)
    iterations: jax.Array  # [] int32


def conjugate_gradient_with_info(
    matvec: MatVec, b: PyTree, iters: int, residual_tol: float = 1e-10
) -> tuple[PyTree, CGInfo]:
    """`conjugate_gradient`, also returning `CGInfo` (iterations applied, final squared residual)."""
    dtype = jnp.result_type(*jax.tree.leaves(b))
    rdotr0 = _tree_vdot(b, b)
    init = _CGState(
        x=jax.tree.map(jnp.zeros_like, b),
        r=b,
        p=b,
        rdotr=rdotr0,
        done=jnp.asarray(False),
        iterations=jnp.zeros((), jnp.int32),
    )

    def body(_, s: _CGState) -> _CGState:
        ap = matvec(s.p)
        chex.assert_trees_all_equal_shapes_and_dtypes(ap, s.p)
        p_ap = _tree_vdot(s.p, ap)
        # A step is taken only if not yet converged and the curvature along p is positive and finite
        # (p^T A p <= 0 means A is not positive definite along p: CG breaks down, so we stop there).
        # The first step is always taken (as in Schulman's reference code, which tests the residual
        # after each step): TRPO rescales the direction to the trust region whatever |g| is, so a
        # small gradient must still give a direction, not x = 0 (b == 0 stops on p^T A p = 0).
        converged = (s.iterations > 0) & (s.rdotr < residual_tol)
        ok = ~s.done & ~converged & (p_ap > 0) & jnp.isfinite(p_ap)
        alpha = jnp.where(ok, s.rdotr / jnp.where(ok, p_ap, 1.0), 0.0).astype(dtype)
        x = _tree_axpy(alpha, s.p, s.x)
        r = _tree_axpy(-alpha, ap, s.r)
        rdotr = _tree_vdot(r, r)
        beta = (rdotr / jnp.where(ok, s.rdotr, 1.0)).astype(dtype)
        p = _tree_axpy(beta, s.p, r)
        new = _CGState(x, r, p, rdotr, jnp.asarray(False), s.iterations + 1)
        frozen = s._replace(done=jnp.asarray(True))
        return _tree_select(ok, new, frozen)

    out = jax.lax.fori_loop(0, iters, body, init)
    return out.x, CGInfo(iterations=out.iterations, residual_sq=out.rdotr, residual=out.r)


def conjugate_gradient(
    matvec: MatVec, b: PyTree, iters: int, residual_tol: float = 1e-10
) -> PyTree:
    """Approximately solve ``A x = b`` for symmetric positive-definite A, given only ``v -> A v``.

    Linear conjugate gradient (Nocedal & Wright, *Numerical Optimization*, Algorithm 5.2; Shewchuk
    1994, "An Introduction to the Conjugate Gradient Method Without the Agonizing Pain", B2), started
    from x_0 = 0, as TRPO uses it to compute the search direction x ~= F^{-1} g (Schulman et al.
    2015, Appendix C)::

        r_0 = p_0 = b
        alpha_k = r_k^T r_k / p_k^T A p_k
        x_{k+1} = x_k + alpha_k p_k;   r_{k+1} = r_k - alpha_k A p_k
        p_{k+1} = r_{k+1} + (r_{k+1}^T r_{k+1} / r_k^T r_k) p_k

    Runs exactly ``iters`` matrix-vector products inside a ``lax.fori_loop`` (fixed trip count, so it
    is jittable, vmappable and differentiable); once ``r^T r < residual_tol`` after a step (the
    *squared* residual norm, tested after each step as in Schulman's reference code, so at least one
    step is taken whatever the scale of b, unless the first curvature fails the test below) the iterate
    is frozen by masking. It also freezes if the curvature ``p^T A p`` is not positive and finite (A not
    SPD along p), returning the last good iterate instead of NaN (0 when that happens on the first step:
    ``b^T A b <= 0``); with ``b == 0`` it returns 0.

    Args:
      matvec: ``v -> A v``, a pytree-to-pytree map with ``b``'s structure, shapes and dtypes.
      b: right-hand side, a pytree of float arrays (or one flat vector).
      iters: maximum number of CG iterations (Python int; n iterations solve an n-dim system exactly
        in exact arithmetic; TRPO uses ~10).
      residual_tol: stop once the squared residual norm ``r^T r`` falls below this.

    Returns:
      x, a pytree with ``b``'s structure. Use `conjugate_gradient_with_info` for diagnostics.
    """
    return conjugate_gradient_with_info(matvec, b, iters, residual_tol)[0]


# ----------------------------------------------------------------------------------------------
# Fisher-vector product.
# ----------------------------------------------------------------------------------------------


def fisher_vector_product(
    kl_fn: Callable[[PyTree], jax.Array], params: PyTree, damping: float | jax.Array
) -> MatVec:
    """Return ``v -> F v + damping * v`` with F the Hessian of the mean KL at ``params``.

    Schulman et al. 2015, Appendix C: the constraint of eq. (14) is approximated as
    ``KLbar(theta_old, theta) ~= 1/2 (theta - theta_old)^T A (theta - theta_old)`` with
    ``A_ij = d^2/(dtheta_i dtheta_j) KLbar(theta_old, theta)`` at ``theta = theta_old``; there this
    Hessian equals the (average) Fisher information matrix, and TRPO only ever needs products A v.
    We compute them by forward-over-reverse autodiff, ``F v = d/de grad KLbar(params + e v)|_{e=0}``
    (``jax.jvp`` of ``jax.grad``; via ``jax.linearize`` so the forward/backward pass through the
    network is traced once and reused by every CG iteration), at the cost of ~2 gradient evaluations
    per product and without ever forming F. ``damping * v`` (Tikhonov damping, typically 0.01-0.1)
    keeps the system positive definite when F is singular (e.g. softmax logits are shift-invariant).

    Args:
      kl_fn: ``params -> []`` mean ``KL(pi_old || pi_params)`` over the batch of states, the old
        policy's distribution held fixed (closed-over constants or ``stop_gradient``). F is only
        the Fisher matrix when ``params`` are the old policy's parameters (KL = 0 there).
      params: the point theta_old at which the Hessian is taken, a pytree of float arrays.
      damping: non-negative scalar added to the diagonal.

    Returns:
      ``fvp(v) -> F v + damping v``, a pytree with ``params``' structure; jittable, linear in v.
    """
    grad_kl = jax.grad(lambda p: _checked_scalar(kl_fn(p), "kl_fn"))
    with jax.default_matmul_precision("highest"):  # full float32 on accelerators too (module docstring)
        _, hvp = jax.linearize(grad_kl, params)

    def fvp(v: PyTree) -> PyTree:
        chex.assert_trees_all_equal_shapes(v, params)
        return _tree_axpy(damping, v, hvp(v))

    return fvp


def _checked_scalar(x: jax.Array, name: str) -> jax.Array:
    chex.assert_rank(x, 0, custom_message=f"{name} must return a scalar")
    return x


# ----------------------------------------------------------------------------------------------
# Step direction and size.
# ----------------------------------------------------------------------------------------------


class TRPOStepInfo(NamedTuple):
    """Diagnostics of `trpo_step`."""

    valid: jax.Array  # [] bool; False -> the curvature x^T F x was <= 0 or non-finite, step == 0
    step_size: jax.Array  # [] beta = sqrt(2 max_kl / x^T F x) (0 when not valid)
    curvature: jax.Array  # [] x^T F x of the CG solution x (damping included if fvp has it)
    expected_improve: jax.Array  # [] g^T step, the linear model's predicted increase of L
    cg_iterations: jax.Array  # [] int32, CG updates applied
    cg_residual_sq: jax.Array  # [] squared CG residual at exit


def trpo_step(
    g: PyTree,
    fvp: MatVec,
    max_kl: float | jax.Array,
    cg_iters: int = 10,
    residual_tol: float = 1e-10,
) -> tuple[PyTree, TRPOStepInfo]:
    """Full TRPO step: natural-gradient direction scaled to the trust-region boundary.

    Schulman et al. 2015, Appendix C: solve ``F x = g`` by conjugate gradient, then take the largest
    step ``beta x`` that satisfies the quadratic KL model with equality::

        delta = 1/2 (beta x)^T F (beta x)   =>   beta = sqrt(2 delta / x^T F x)

    (``delta == max_kl``). If ``x^T F x`` is not positive and finite (F not PD along x, CG produced
    NaN, or ``g == 0``), the step is all zeros and ``info.valid`` is False, so a following line
    search rejects it and the policy stays put.

    Args:
      g: gradient of the surrogate L (to be maximised) at theta_old; a pytree like params.
      fvp: ``v -> F v (+ damping v)``, e.g. from `fisher_vector_product`. The step length uses the
        same (damped) product, as in the reference implementations, read off CG's residual
        ``r = g - F x`` as ``x^T F x = x^T (g - r)`` rather than computed once more.
      max_kl: trust-region radius delta on the mean KL (typically 0.01).
      cg_iters: CG iterations (Python int, typically 10).
      residual_tol: CG stopping threshold on the squared residual.

    Returns:
      (step, info): ``step`` has g's structure and is an ascent direction for L (``params + step``);
      `TRPOStepInfo` with ``expected_improve = g^T step``, the value `backtracking_line_search` wants.
    """
    x, cg_info = conjugate_gradient_with_info(fvp, g, cg_iters, residual_tol)
    # CG's recursive residual is r = g - F x, so x^T F x = x^T (g - r) without another product F x.
    xfx = _tree_vdot(x, jax.tree.map(jnp.subtract, g, cg_info.residual))
    chex.assert_rank(xfx, 0)
    valid = (xfx > 0) & jnp.isfinite(xfx) & _tree_all_finite(x)
    beta = jnp.where(valid, jnp.sqrt(2.0 * max_kl / jnp.where(valid, xfx, 1.0)), 0.0)
    step = jax.tree.map(lambda xi: jnp.where(valid, beta * xi, 0.0).astype(xi.dtype), x)
    info = TRPOStepInfo(
        valid=valid,
        step_size=beta,
        curvature=xfx,
        expected_improve=_tree_vdot(g, step),
        cg_iterations=cg_info.iterations,
        cg_residual_sq=cg_info.residual_sq,
    )
    return step, info


# ----------------------------------------------------------------------------------------------
# Backtracking line search.
# ----------------------------------------------------------------------------------------------


class LineSearchInfo(NamedTuple):
    """Diagnostics of `backtracking_line_search`; kl and improvement describe the RETURNED params."""

    accepted: jax.Array  # [] bool, some candidate passed
    step_index: jax.Array  # [] int32, i of the accepted candidate; backtrack_iters if none
    step_fraction: jax.Array  # [] backtrack_coeff**i of the accepted candidate; 0 if none
    kl: jax.Array  # [] kl_fn(new_params); 0 if none accepted (the old params)
    improvement: jax.Array  # [] objective(new) - objective(old); 0 if none accepted
    expected_improve: jax.Array  # [] step_fraction * expected_improve; 0 if none accepted


class _LSState(NamedTuple):
    i: jax.Array  # [] int32, index of the next candidate to try
    accepted: jax.Array  # [] bool
    params: PyTree  # last candidate tried
    frac: jax.Array  # [] its step fraction
    kl: jax.Array  # [] its mean KL
    improvement: jax.Array  # [] its objective improvement


def backtracking_line_search(
    objective_fn: Callable[[PyTree], jax.Array],
    kl_fn: Callable[[PyTree], jax.Array],
    params: PyTree,
    full_step: PyTree,
    expected_improve: float | jax.Array,
    max_kl: float | jax.Array,
    backtrack_coeff: float | jax.Array = 0.8,
    backtrack_iters: int = 10,
    accept_ratio: float | jax.Array = 0.0,
) -> tuple[PyTree, LineSearchInfo]:
    """Exponentially shrink the full TRPO step until the exact constraint and objective are satisfied.

    Schulman et al. 2015, Appendix C: "we use a line search to ensure improvement of the surrogate
    objective and satisfaction of the KL divergence constraint ... we shrink beta exponentially until
    the objective improves" (the constraint is eq. (14)'s). Tries
    ``theta_i = params + backtrack_coeff**i * full_step`` for ``i = 0 .. backtrack_iters - 1`` and
    returns the first one with

        kl_fn(theta_i) <= max_kl                          (exact mean KL, not the quadratic model)
        objective_fn(theta_i) - objective_fn(params) > 0  (L is the surrogate to MAXIMISE; strict)
        and  improvement >= accept_ratio * coeff**i * expected_improve   (only if accept_ratio > 0)

    and both finite: a candidate whose objective or KL is NaN or infinite is rejected (a +inf objective
    would pass ``improvement > 0``, so finiteness is its own test). If none
    passes, ``params`` is returned unchanged (bit-for-bit), as the design notes require.

    Implementation: a ``lax.while_loop`` that stops at the first accepted candidate, so the usual
    case costs one objective and one KL evaluation (plus one for the old objective); under ``vmap``
    it runs until every batch member is done. Jittable; not reverse-mode differentiable (not needed).

    Args:
      objective_fn: ``params -> []`` surrogate advantage L(theta), larger is better.
      kl_fn: ``params -> []`` mean KL(pi_old || pi_params), old policy fixed.
      params: theta_old (pytree of float arrays).
      full_step: step from `trpo_step`, same structure/shapes as params.
      expected_improve: ``g^T full_step``, the linear prediction of L's increase (`TRPOStepInfo`);
        only used when ``accept_ratio > 0``.
      max_kl: trust-region radius delta (typically 0.01).
      backtrack_coeff: shrink factor in (0, 1) (typically 0.8; 0.5 in Schulman's code).
      backtrack_iters: number of candidates (Python int, typically 10).
      accept_ratio: minimum actual / expected improvement (0 -> any strict improvement; Schulman's
        modular_rl uses 0.1).

    Returns:
      (new_params, `LineSearchInfo`).
    """
    chex.assert_trees_all_equal_shapes(params, full_step)
    dtype = jnp.result_type(*jax.tree.leaves(params))
    objective_old = _checked_scalar(objective_fn(params), "objective_fn")
    expected_improve = jnp.asarray(expected_improve, dtype)
    coeff = jnp.asarray(backtrack_coeff, dtype)

    def evaluate(i: jax.Array) -> _LSState:
        frac = coeff ** i.astype(dtype)
        candidate = _tree_axpy(frac, full_step, params)
        kl = _checked_scalar(kl_fn(candidate), "kl_fn").astype(dtype)
        improvement = (_checked_scalar(objective_fn(candidate), "objective_fn") - objective_old)
        improvement = improvement.astype(dtype)
        accepted = (
            (kl <= max_kl)
            & (improvement > 0)
            & jnp.isfinite(improvement)
            & ((accept_ratio <= 0) | (improvement >= accept_ratio * frac * expected_improve))
        )
        return _LSState(i + 1, accepted, candidate, frac, kl, improvement)

    zero = jnp.zeros((), dtype)
    init = _LSState(jnp.zeros((), jnp.int32), jnp.asarray(False), params, zero, zero, zero)
    out = jax.lax.while_loop(
        lambda s: (s.i < backtrack_iters) & ~s.accepted, lambda s: evaluate(s.i), init
    )

    acc = out.accepted
    new_params = _tree_select(acc, out.params, params)
    info = LineSearchInfo(
        accepted=acc,
        step_index=jnp.where(acc, out.i - 1, backtrack_iters).astype(jnp.int32),
        step_fraction=jnp.where(acc, out.frac, zero),
        kl=jnp.where(acc, out.kl, zero),
        improvement=jnp.where(acc, out.improvement, zero),
        expected_improve=jnp.where(acc, out.frac * expected_improve, zero),
    )
    return new_params, info
