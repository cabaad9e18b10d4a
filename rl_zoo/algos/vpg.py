"""Vanilla policy gradient: REINFORCE with a learned value baseline and GAE advantages.

Williams 1992 ("Simple statistical gradient-following algorithms for connectionist reinforcement
learning"); Sutton et al. 2000 ("Policy gradient methods for reinforcement learning with function
approximation"); advantages by GAE (Schulman et al. 2016, arXiv:1506.02438); the layout of one
update follows OpenAI Spinning Up's ``vpg``. Each update

1. collects ``num_envs x num_steps`` transitions with the current policy (`rl_zoo.core.rollout`);
2. computes GAE advantages A_t and lambda-returns with the current value function
   (`prepare_batch` -> `rl_zoo.core.returns.gae`, truncation bootstrapped, termination not);
3. takes ONE Adam step on the policy-gradient loss (`policy_loss`)

       L^PG(theta) = -1/N sum_t log pi_theta(a_t|s_t) A_t   (- c_H H[pi_theta])

   whose gradient is the REINFORCE estimator  -E[grad log pi(a|s) A(s, a)] = -grad J(theta);
4. fits V_phi to the lambda-returns with ``value_iters`` passes of Adam on 0.5 (V - R)^2, with its
   own optimiser (`fit_value`; optionally in ``value_minibatches`` shuffled minibatches per pass).
   Spinning Up regresses V on the rewards-to-go instead (`rl_zoo.core.returns.discounted_returns`);
   the lambda-returns are what TRPO and PPO fit too, and equal the rewards-to-go at gae_lambda = 1.

Steps 1, 2 and 4, the networks and the acting policies are the on-policy core's
(`rl_zoo.core.on_policy`), shared with TRPO and PPO: the three policy-gradient methods act the same
way and differ only in how they move theta. This file holds step 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable, NamedTuple

import jax
import optax

from rl_zoo.config import check, check_config_class
from rl_zoo.core import losses
from rl_zoo.core import on_policy
from rl_zoo.core.on_policy import Batch, Metrics, Networks, Params, check_env, fit_value, make_networks, prepare_batch  # noqa: F401 (check_env: the driver and sweeps call module.check_env)
from rl_zoo.core.types import Agent, episode_metrics, scan_train

__all__ = ["Config", "State", "Metrics", "Details", "policy_loss", "learn", "make_agent", "make_train"]


@dataclass(frozen=True)
class Config(on_policy.ValueFitConfig):
    """VPG's fields after the on-policy ones (`rl_zoo.core.on_policy.Config`, `ValueFitConfig`)."""

    total_timesteps: int = 500_000  # VPG's default; the meaning is the on-policy Config's
    num_steps: int = 256  # Spinning Up uses 4000 steps per batch in all
    gae_lambda: float = 0.97  # Spinning Up's
    learning_rate: float = 3e-4
    """Adam step size of the single policy step per batch (1e-4 to 1e-2; Spinning Up: 3e-4)."""
    anneal_lr: bool = False
    """Decay the policy learning rate linearly to 0 over training."""
    ent_coef: float = 0.0
    """Weight c_H of an entropy bonus in the policy loss (0-0.01)."""

    def validate(self) -> None:
        super().validate()
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check(self.ent_coef >= 0, "ent_coef", self.ent_coef, "must be >= 0")


State = on_policy.ValueFitState  # params, policy_opt_state, value_opt_state, env_state, obs, ...


class Details(NamedTuple):
    """VPG's own diagnostics in `Metrics.details`."""

    grad_norm: jax.Array  # global norm of the policy gradient


# ----------------------------------------------------------------------------------------------
# The math.
# ----------------------------------------------------------------------------------------------


def policy_loss(
    policy_params, obs: jax.Array, action: jax.Array, advantages: jax.Array, policy_apply: Callable, ent_coef: float = 0.0
) -> tuple[jax.Array, jax.Array]:
    """REINFORCE with a baseline (Williams 1992, eq. 11; Sutton et al. 2000, Theorem 1), negated:

        L^PG(theta) = -1/N sum_i log pi_theta(a_i|s_i) A_i  - c_H 1/N sum_i H[pi_theta(.|s_i)]

    ``grad L^PG`` is minus the sample estimate of grad J(theta) = E[grad log pi(a|s) A(s, a)].
    ``advantages [N]`` are constants (stop-gradient). Returns ``(loss, entropy)``.
    """
    dist = policy_apply(policy_params, obs)
    log_prob = dist.log_prob(action)  # [N]
    entropy = dist.entropy().mean()
    return losses.policy_gradient_loss(log_prob, advantages) - ent_coef * entropy, entropy


def learn(state: State, traj, networks: Networks, policy_optimizer, value_optimizer, config: Config) -> tuple[State, Metrics]:
    """GAE, one Adam step on `policy_loss`, then the value fit (`rl_zoo.core.on_policy.fit_value`)."""
    batch, reward_scaler = prepare_batch(state.params, state.obs_stats, state.reward_scaler, traj, networks, config)
    adv = on_policy.batch_advantages(batch, config)  # [N]

    # one policy-gradient step on the whole batch
    (pg_loss, entropy), grads = jax.value_and_grad(policy_loss, has_aux=True)(
        state.params.policy, batch.obs, batch.action, adv, networks.policy.apply, config.ent_coef
    )
    updates, policy_opt_state = policy_optimizer.update(grads, state.policy_opt_state, state.params.policy)
    policy_params = optax.apply_updates(state.params.policy, updates)

    value = on_policy.fit_value_on_batch(state, batch, networks, value_optimizer, config)
    kl = batch.old.dist.kl(networks.policy.apply(policy_params, batch.obs)).mean()
    state = on_policy.finish_update(
        state, traj, reward_scaler, value.key, config,
        params=Params(policy=policy_params, value=value.params), policy_opt_state=policy_opt_state, value_opt_state=value.opt_state,
    )
    metrics = Metrics(
        episode=episode_metrics(traj),
        policy_loss=pg_loss,
        value_loss=value.loss,
        entropy=entropy,
        kl=kl,
        details=Details(grad_norm=optax.tree.norm(grads)),
    )
    return state, metrics


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind VPG to an env: ``init``, ``update`` (rollout + learn) and the greedy ``act``."""
    check_config_class(config, Config)
    config.validate()
    networks = make_networks(config, env.action_space(env_params))
    policy_optimizer = optax.adam(on_policy.learning_rate(config, config.num_updates))
    value_optimizer = on_policy.make_value_optimizer(config)

    make_state = partial(on_policy.value_fit_state, policy_optimizer=policy_optimizer, value_optimizer=value_optimizer)
    learn_fn = partial(learn, networks=networks, policy_optimizer=policy_optimizer, value_optimizer=value_optimizer, config=config)
    return on_policy.build_agent(config, env, env_params, networks, learn_fn, make_state)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept (a gymnasium
    env steps through host callbacks: ``rl_zoo.host.batched_env.jittable``)."""
    from rl_zoo.host.batched_env import jittable

    return scan_train(make_agent(config, jittable(env), env_params))
