"""Trust Region Policy Optimization (Schulman et al. 2015, arXiv:1502.05477).

Each update collects ``num_envs x num_steps`` transitions, computes GAE advantages (Schulman et al.
2016) as VPG and PPO do (`rl_zoo.core.on_policy.prepare_batch`), and then solves eq. (14),

    maximise_theta  L(theta) = E[pi_theta(a|s) / pi_old(a|s) A(s, a)]
    subject to      KLbar(theta) = E_s[KL(pi_old(.|s) || pi_theta(.|s))] <= delta   (max_kl)

approximately, as in Appendix C (`policy_step`):

1. g = grad L(theta_old)                                  (one gradient evaluation)
2. x ~= F^{-1} g by ``cg_iters`` conjugate-gradient steps; F v is the Hessian-vector product of
   KLbar at theta_old by forward-over-reverse autodiff, damped: (F + cg_damping I) v
   (`rl_zoo.core.trust_region.fisher_vector_product`, `conjugate_gradient`)
3. full step s = sqrt(2 delta / x^T (F + cg_damping I) x) x, on the boundary of the damped quadratic KL model
   (`rl_zoo.core.trust_region.trpo_step`)
4. theta = theta_old + c^i s for the first i < backtrack_iters with exact KLbar <= delta AND
   L(theta) > L(theta_old); if none passes, theta = theta_old (`backtracking_line_search`).

The value function is fitted separately afterwards with Adam (`rl_zoo.core.on_policy.fit_value`).
Advantages are normalised over the batch (``norm_adv``): centring changes g's direction (the mean
advantage acts as a baseline), scaling only its size, which does not change the step (its length is
set by delta alone) in exact arithmetic; conjugate gradient stops on an absolute ``residual_tol``
(as ``modular_rl``'s does), so unnormalised tiny advantages can end it after one iteration, nearer the
plain gradient's direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

from rl_zoo.config import check, check_config_class
from rl_zoo.core import on_policy
from rl_zoo.core import trust_region as tr
from rl_zoo.core.on_policy import Metrics, Networks, Params, check_env, make_networks, prepare_batch  # noqa: F401 (check_env: the driver and sweeps call module.check_env)
from rl_zoo.core.types import Agent, episode_metrics, scan_train

#: a bound on the whole step's norm below which the policy stays effectively unchanged (float32 weights of order 0.1-1 are
#: spaced ~1e-8 to 1e-7 apart; only the biases, which start at 0, would move, by as little)
TINY_STEP = 1e-7

__all__ = ["Config", "State", "Metrics", "Details", "PolicyStepInfo", "policy_step", "learn", "make_agent", "make_train"]


@dataclass(frozen=True)
class Config(on_policy.ValueFitConfig):
    """TRPO's fields after the on-policy ones (`rl_zoo.core.on_policy.Config`, `ValueFitConfig`)."""

    num_envs: int = 2  # TRPO's defaults; the meanings are the on-policy Config's
    num_steps: int = 1024
    gae_lambda: float = 0.97
    value_iters: int = 5
    value_minibatches: int = 16
    max_kl: float = 0.01
    """Trust-region radius delta on the mean KL(pi_old || pi) per update (0.001-0.05; paper: 0.01)."""
    cg_iters: int = 10
    """Conjugate-gradient iterations for x ~= F^{-1} g (5-20; paper: 10)."""
    cg_damping: float = 0.1
    """Damping lambda added to the Fisher matrix, (F + lambda I) v (0.001-0.1; Schulman's modular_rl: 1e-3, Spinning Up: 0.1)."""
    backtrack_coeff: float = 0.8
    """Line-search shrink factor c of the step, theta_old + c^i s (0.5-0.9)."""
    backtrack_iters: int = 10
    """Step sizes the line search tries before keeping the old policy (5-15)."""
    accept_ratio: float = 0.0
    """Minimum ratio of actual to linearly predicted surrogate improvement (0 = any improvement; 0.1 in modular_rl)."""

    def validate(self) -> None:
        super().validate()
        for name in ("cg_iters", "backtrack_iters"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be a positive integer")
        check(self.max_kl > 0, "max_kl", self.max_kl, "must be > 0")
        check(self.cg_damping >= 0, "cg_damping", self.cg_damping, "must be >= 0")
        check((0 < self.backtrack_coeff) & (self.backtrack_coeff < 1), "backtrack_coeff", self.backtrack_coeff, "must be in (0, 1)")
        check((0 <= self.accept_ratio) & (self.accept_ratio < 1), "accept_ratio", self.accept_ratio,
              "must be in [0, 1): a step's actual improvement is about the linear prediction at best, and at 1 or more "
              "the line search accepted no step (modular_rl: 0.1)")

    def notes(self) -> list[str]:
        """Lines for the run's log (the driver prints them): a trust region whose steps cannot move float32 weights.
        The natural-gradient step s = sqrt(2 delta / x^T (F + lambda I) x) x has norm at most sqrt(2 max_kl / cg_damping):
        cg_damping=1e30 or max_kl=1e-30 kept every update's policy, without a word."""
        if not all(isinstance(v, (int, float)) for v in (self.max_kl, self.cg_damping)) or self.cg_damping <= 0:
            return []
        bound = math.sqrt(2 * self.max_kl / self.cg_damping)
        if bound >= TINY_STEP:
            return []
        return [f"note: max_kl = {self.max_kl:g} with cg_damping = {self.cg_damping:g} bounds each policy step to a norm of "
                f"sqrt(2 max_kl / cg_damping) = {bound:.1e}, far below float32's resolution of its weights: the policy stays "
                f"effectively as it started"]


State = on_policy.ValueFitState  # its policy_opt_state is (): the natural-gradient step keeps no optimiser state


class PolicyStepInfo(NamedTuple):
    """What one natural-gradient step did (all scalars)."""

    surrogate: jax.Array  # L(theta_old) = E[A] (ratio 1), with the advantages as given
    kl: jax.Array  # exact mean KL(pi_old || pi_new) of the accepted step; 0 if none accepted
    accepted: jax.Array  # the line search accepted a step (float, 1.0 or 0.0, so it averages)
    step_fraction: jax.Array  # c^i of the accepted step; 0 if none accepted
    surrogate_improvement: jax.Array  # L(theta_new) - L(theta_old); 0 if none accepted
    expected_improvement: jax.Array  # c^i g^T s, the linear model's prediction of it
    grad_norm: jax.Array  # ||g||
    step_norm: jax.Array  # ||s|| of the full step
    cg_iterations: jax.Array  # CG updates actually applied (<= cg_iters)
    grad_evals: jax.Array  # policy-gradient evaluations (1)
    fvp_evals: jax.Array  # Fisher-vector products computed: cg_iters (x^T F x comes from CG's residual)
    line_search_evals: jax.Array  # candidates evaluated (each: one surrogate and one KL, forward only)


class Details(NamedTuple):
    """TRPO's own diagnostics in `Metrics.details`."""

    policy_step: PolicyStepInfo
    value_grad_evals: jax.Array  # Adam steps of the value fit: value_iters * value_minibatches


# ----------------------------------------------------------------------------------------------
# The math.
# ----------------------------------------------------------------------------------------------


def surrogate(policy_params, obs: jax.Array, action: jax.Array, advantages: jax.Array, old_log_prob: jax.Array, policy_apply: Callable) -> jax.Array:
    """L(theta) = 1/N sum_i exp(log pi_theta(a_i|s_i) - log pi_old(a_i|s_i)) A_i  (eq. 14, to maximise)."""
    log_prob = policy_apply(policy_params, obs).log_prob(action)  # [N]
    return (jnp.exp(log_prob - old_log_prob) * advantages).mean()


def mean_kl(policy_params, obs: jax.Array, old_dist, policy_apply: Callable) -> jax.Array:
    """KLbar(theta) = 1/N sum_i KL(pi_old(.|s_i) || pi_theta(.|s_i)), closed form, pi_old held fixed."""
    return old_dist.kl(policy_apply(policy_params, obs)).mean()


def policy_step(
    policy_params,
    obs: jax.Array,
    action: jax.Array,
    advantages: jax.Array,
    policy_apply: Callable,
    config: Config,
):
    """One TRPO policy update (Schulman et al. 2015, Appendix C): steps 1-4 of the module docstring.

    ``obs [N, ...]``, ``action [N, ...]``, ``advantages [N]`` (used as given: normalise before).
    pi_old is ``policy_params`` itself, recomputed here and held fixed, so the KL at theta_old is
    exactly 0 and the ratio exactly 1. Returns ``(new_policy_params, PolicyStepInfo)``; when the line
    search accepts nothing, ``new_policy_params`` equals ``policy_params`` bit for bit.
    """
    old_dist = jax.lax.stop_gradient(policy_apply(policy_params, obs))
    old_log_prob = old_dist.log_prob(action)  # [N]
    # Work on the flat parameter vector theta [P] (as Schulman's code does): CG and the line search
    # then handle one array instead of one per layer (measured: ~40% less XLA compile time for this step).
    theta_old, unravel = ravel_pytree(policy_params)  # [P]
    apply_flat = lambda theta, x: policy_apply(unravel(theta), x)  # noqa: E731
    objective = partial(surrogate, obs=obs, action=action, advantages=advantages, old_log_prob=old_log_prob, policy_apply=apply_flat)
    kl_fn = partial(mean_kl, obs=obs, old_dist=old_dist, policy_apply=apply_flat)

    surr_old, g = jax.value_and_grad(objective)(theta_old)  # 1. g = grad L(theta_old)  [P]
    fvp = tr.fisher_vector_product(kl_fn, theta_old, config.cg_damping)  # 2. v -> (F + lambda I) v
    full_step, step_info = tr.trpo_step(g, fvp, config.max_kl, config.cg_iters)  # 2-3. s = sqrt(2 delta / x^T (F + lambda I) x) x
    theta_new, ls = tr.backtracking_line_search(  # 4. backtrack on the exact KL and L
        objective, kl_fn, theta_old, full_step, step_info.expected_improve,
        config.max_kl, config.backtrack_coeff, config.backtrack_iters, config.accept_ratio,
    )
    # when nothing is accepted theta_new is theta_old itself, and unravel gives back the same leaves
    new_params = unravel(theta_new)
    info = PolicyStepInfo(
        surrogate=surr_old,
        kl=ls.kl,
        accepted=ls.accepted.astype(jnp.float32),
        step_fraction=ls.step_fraction,
        surrogate_improvement=ls.improvement,
        expected_improvement=ls.expected_improve,
        grad_norm=jnp.linalg.norm(g),
        step_norm=jnp.linalg.norm(full_step),
        cg_iterations=step_info.cg_iterations,
        grad_evals=jnp.asarray(1, jnp.int32),
        fvp_evals=jnp.asarray(config.cg_iters, jnp.int32),
        line_search_evals=jnp.minimum(ls.step_index + 1, config.backtrack_iters).astype(jnp.int32),
    )
    return new_params, info


def learn(state: State, traj, networks: Networks, value_optimizer, config: Config) -> tuple[State, Metrics]:
    """GAE, one natural-gradient `policy_step`, then the value fit (`rl_zoo.core.on_policy.fit_value`)."""
    batch, reward_scaler = prepare_batch(state.params, state.obs_stats, state.reward_scaler, traj, networks, config)
    adv = on_policy.batch_advantages(batch, config)  # [N]
    policy_params, info = policy_step(state.params.policy, batch.obs, batch.action, adv, networks.policy.apply, config)

    value = on_policy.fit_value_on_batch(state, batch, networks, value_optimizer, config)
    state = on_policy.finish_update(
        state, traj, reward_scaler, value.key, config,
        params=Params(policy=policy_params, value=value.params), value_opt_state=value.opt_state,
    )
    metrics = Metrics(
        episode=episode_metrics(traj),
        policy_loss=-info.surrogate,
        value_loss=value.loss,
        entropy=batch.old.dist.entropy().mean(),
        kl=info.kl,
        details=Details(policy_step=info, value_grad_evals=jnp.asarray(config.value_iters * config.value_minibatches, jnp.int32)),
    )
    return state, metrics


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind TRPO to an env: ``init``, ``update`` (rollout + learn) and the greedy ``act``."""
    check_config_class(config, Config)
    config.validate()
    networks = make_networks(config, env.action_space(env_params))
    value_optimizer = on_policy.make_value_optimizer(config)
    make_state = partial(on_policy.value_fit_state, policy_optimizer=None, value_optimizer=value_optimizer)
    learn_fn = partial(learn, networks=networks, value_optimizer=value_optimizer, config=config)
    return on_policy.build_agent(config, env, env_params, networks, learn_fn, make_state)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept (a gymnasium
    env steps through host callbacks: ``rl_zoo.host.batched_env.jittable``)."""
    from rl_zoo.host.batched_env import jittable

    return scan_train(make_agent(config, jittable(env), env_params))
