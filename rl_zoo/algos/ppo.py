"""Proximal Policy Optimization, clipped and adaptive-KL (Schulman et al. 2017, arXiv:1707.06347).

Each update collects ``num_envs x num_steps`` transitions with the current policy, computes GAE
advantages (Schulman et al. 2016), then runs ``update_epochs`` passes of shuffled minibatch Adam
steps on

    L(theta) = L^pi(theta) + c_v L^V(theta) - c_H H[pi_theta]                    (eq. 9, negated)

where the policy term is one of (``Config.loss``):

* ``"clip"``  L^CLIP = -E[min(r_t A_t, clip(r_t, 1-eps, 1+eps) A_t)]                      (eq. 7)
* ``"kl"``    L^KLPEN = -E[r_t A_t - beta KL(pi_old(.|s_t) || pi_theta(.|s_t))]            (eq. 8)
  with beta adapted once per batch (section 4): d < d_targ / 1.5 -> beta / 2,
  d > 1.5 d_targ -> beta * 2, where d is the mean KL over the whole batch after the update
  (beta kept within [2^-20, 2^20], see KL_BETA_MIN).

r_t = pi_theta(a_t|s_t) / pi_old(a_t|s_t). The KL in the penalty and in the beta rule is the exact,
closed-form KL between the old and new action distributions at each sampled state, averaged over
the batch (not a sample estimate). The logged ``approx_kl`` is the k3 sample estimator, for
comparison with other libraries. There is no ``target_kl`` early stop of the epochs (SB3 and CleanRL
offer one, off by default): every update runs all its epochs; ``loss="kl"`` is the KL control here.

The rollout, the batch with GAE, the networks and the acting policies are the on-policy core's
(`rl_zoo.core.on_policy`), shared with VPG and TRPO; this file holds the loss, the beta rule and the
epochs of minibatch steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from rl_zoo.config import check, check_config_class, check_step_count, unread_notes
from rl_zoo.core import losses, normalize
from rl_zoo.core import on_policy
from rl_zoo.core.sgd import minibatch_epochs
from rl_zoo.core.on_policy import Batch, Metrics, Networks, Params, check_env, make_networks, prepare_batch, sample_action  # noqa: F401 (check_env: the driver and sweeps call module.check_env)
from rl_zoo.core.types import Agent, episode_metrics, scan_train

__all__ = ["Config", "State", "Metrics", "Details", "LossInfo", "ppo_loss", "adapt_kl_beta", "make_optimizer", "learn",
           "make_agent", "make_train"]


@dataclass(frozen=True)
class Config(on_policy.Config):
    """PPO's fields after the on-policy ones (`rl_zoo.core.on_policy.Config`)."""

    update_epochs: int = 10
    """Passes over each batch (3-30)."""
    num_minibatches: int = 4
    """Minibatches per epoch; must divide the batch (1-64)."""
    learning_rate: float = 3e-4
    """Adam step size (1e-4 to 3e-3)."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over training."""
    loss: str = "clip"
    """Policy objective: "clip" (PPO-clip, eq. 7) or "kl" (adaptive KL penalty, eq. 8)."""
    clip_eps: float = 0.2
    """Clip range eps of the surrogate ratio (0.1-0.3). With loss="kl" it still sets the value clip
    (clip_value) and the reported clip_frac, not the policy objective."""
    kl_target: float = 0.01
    """Target KL d_targ per update for loss="kl" (0.003-0.03)."""
    kl_beta_init: float = 1.0
    """Initial KL penalty coefficient beta for loss="kl" (0.1-3)."""
    clip_value: bool = False
    """Clip the value loss around the old values with clip_eps (PPO2 style)."""
    vf_coef: float = 0.5
    """Weight c_v of the value loss (0.25-1)."""
    ent_coef: float = 0.0
    """Weight c_H of the entropy bonus (0-0.01)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip (0.5-10)."""

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    def _batch_fits(self, batch: int) -> bool:  # the minibatch rules of validate below
        return (batch % self.num_minibatches == 0 and (not self.norm_adv or batch >= 2 * self.num_minibatches)
                and super()._batch_fits(batch))

    def _minibatch_fields(self) -> tuple[str, ...]:
        return ("num_minibatches",)

    def notes(self) -> list[str]:
        """Lines for the run's log (the driver prints them): the adaptive-KL fields given a value under the clipped loss,
        which does not read them, and clip_eps under the KL loss without clip_value (``config.unread_notes``; ``--algo
        ppo-kl`` is the KL-penalty variant)."""
        if self.loss == "kl":  # clip_eps clips only the value loss (clip_value) and counts clip_frac, a logged metric
            return [] if self.clip_value else unread_notes(self, {"clip_eps": 'loss is "kl" and clip_value is false (it only '
                                                                              "counts clip_frac, a logged metric)"})
        why = 'loss is "clip" (only the KL-penalty loss, --algo ppo-kl, reads it)'
        return unread_notes(self, {"kl_target": why, "kl_beta_init": why})

    def validate(self) -> None:
        super().validate()
        check(self.update_epochs >= 1, "update_epochs", self.update_epochs, "must be a positive integer")  # num_minibatches: above
        check(self.batch_size % self.num_minibatches == 0, "num_minibatches", self.num_minibatches,
              f"must divide the batch num_envs * num_steps = {self.batch_size}")
        check(not self.norm_adv or self.batch_size >= 2 * self.num_minibatches, "num_minibatches", self.num_minibatches,
              "leaves minibatches of one sample: norm_adv centres its advantage to 0 and the policy never moves "
              "(use fewer minibatches, a bigger batch, or norm_adv=False)")
        check_step_count(self.num_updates * self.update_epochs * self.num_minibatches, "total_timesteps", self.total_timesteps,
                         "num_updates x update_epochs x num_minibatches gradient steps")
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check(self.loss in ("clip", "kl"), "loss", self.loss, 'must be "clip" or "kl"')
        for name in ("clip_eps", "kl_target", "kl_beta_init", "max_grad_norm"):
            check(getattr(self, name) > 0, name, getattr(self, name), "must be > 0")
        check((KL_BETA_MIN <= self.kl_beta_init) & (self.kl_beta_init <= KL_BETA_MAX), "kl_beta_init", self.kl_beta_init,
              f"must be within the adaptive rule's bounds [2^-20, 2^20] = [{KL_BETA_MIN:.3g}, {KL_BETA_MAX:.3g}]")
        for name in ("vf_coef", "ent_coef"):
            check(getattr(self, name) >= 0, name, getattr(self, name), "must be >= 0")


class State(NamedTuple):
    params: Params
    opt_state: optax.OptState  # one Adam over (policy, value)
    env_state: Any
    obs: jax.Array  # [B, *obs_shape] current observation of each training env
    obs_stats: normalize.RunningMeanStd
    reward_scaler: normalize.RewardScaler
    kl_beta: jax.Array  # adaptive-KL coefficient (unused by loss="clip")
    key: jax.Array
    update_step: jax.Array


class LossInfo(NamedTuple):
    policy_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    approx_kl: jax.Array
    clip_frac: jax.Array


class Details(NamedTuple):
    """PPO's own diagnostics in `Metrics.details` (means over the epochs' minibatches, but kl_beta)."""

    approx_kl: jax.Array  # k3 sample estimate of KL(pi_old || pi), for comparison with other libraries
    clip_frac: jax.Array  # fraction of samples with |r_t - 1| > clip_eps
    kl_beta: jax.Array  # beta after this update's rule (loss="kl")


def ppo_loss(params: Params, batch: Batch, kl_beta, networks: Networks, config: Config) -> tuple[jax.Array, LossInfo]:
    """L = L^pi + c_v L^V - c_H H on one minibatch (see module docstring)."""
    dist = networks.policy.apply(params.policy, batch.obs)
    log_prob = dist.log_prob(batch.action)
    log_ratio = log_prob - batch.old.log_prob
    ratio = jnp.exp(log_ratio)
    adv = losses.normalize_advantages(batch.advantages) if config.norm_adv else batch.advantages
    if config.loss == "clip":
        pg_loss = losses.clipped_surrogate_loss(ratio, adv, config.clip_eps)
    else:
        pg_loss = losses.kl_penalty_loss(ratio, adv, batch.old.dist.kl(dist), kl_beta)
    values = networks.value.apply(params.value, batch.obs)
    v_loss = losses.value_loss(values, batch.targets, batch.old.value, config.clip_eps if config.clip_value else None)
    entropy = dist.entropy().mean()
    total = pg_loss + config.vf_coef * v_loss - config.ent_coef * entropy
    clip_frac = (jnp.abs(ratio - 1.0) > config.clip_eps).mean()
    return total, LossInfo(pg_loss, v_loss, entropy, losses.approx_kl(log_ratio), clip_frac)


#: bounds on the adaptive beta. The paper's rule has none, and in float32 about 150 halvings in a row make
#: beta exactly 0, which doubling never brings back (the penalty is gone for the rest of training): PPO-KL
#: on CartPole-v1 for 1M steps, its learning rate annealed, reached 0 in its last updates. 2^-20 (about
#: 1e-6) leaves the penalty negligible yet 20 doublings from 1; 2^20 keeps beta * KL finite.
KL_BETA_MIN, KL_BETA_MAX = 2.0 ** -20, 2.0 ** 20


def adapt_kl_beta(beta: jax.Array, kl: jax.Array, kl_target: float) -> jax.Array:
    """Schulman et al. 2017, section 4: d < d_targ/1.5 -> beta/2; d > 1.5 d_targ -> beta*2; else keep;
    the result kept within [KL_BETA_MIN, KL_BETA_MAX] (a halving or doubling past a bound stops at it)."""
    beta = jnp.where(kl < kl_target / 1.5, beta / 2.0, jnp.where(kl > kl_target * 1.5, beta * 2.0, beta))
    return jnp.clip(beta, KL_BETA_MIN, KL_BETA_MAX)


def make_optimizer(config: Config) -> optax.GradientTransformation:
    """Adam on the clipped global gradient norm. Its eps is 1e-5 rather than optax's 1e-8, as in OpenAI
    baselines' ppo2, CleanRL and PureJaxRL (a larger eps damps steps along directions of tiny gradient
    variance); DQN, VPG and the value fits keep the default."""
    lr = on_policy.learning_rate(config, config.num_updates * config.update_epochs * config.num_minibatches)
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(lr, eps=1e-5))


def learn(state: State, traj, networks: Networks, optimizer, config: Config) -> tuple[State, Metrics]:
    """GAE, then ``update_epochs`` x ``num_minibatches`` Adam steps on ``ppo_loss``, then the beta rule."""
    batch, reward_scaler = prepare_batch(state.params, state.obs_stats, state.reward_scaler, traj, networks, config)
    grad_fn = jax.grad(partial(ppo_loss, networks=networks, config=config, kl_beta=state.kl_beta), has_aux=True)
    key, key_epochs = jax.random.split(state.key)
    params, opt_state, infos = minibatch_epochs(grad_fn, optimizer, state.params, state.opt_state, batch, key_epochs,
                                                config.update_epochs, config.num_minibatches)
    info = jax.tree.map(jnp.mean, infos)

    new_dist = networks.policy.apply(params.policy, batch.obs)
    kl = batch.old.dist.kl(new_dist).mean()
    kl_beta = adapt_kl_beta(state.kl_beta, kl, config.kl_target) if config.loss == "kl" else state.kl_beta

    state = on_policy.finish_update(state, traj, reward_scaler, key, config, params=params, opt_state=opt_state, kl_beta=kl_beta)
    return state, Metrics(
        episode=episode_metrics(traj),
        policy_loss=info.policy_loss,
        value_loss=info.value_loss,
        entropy=info.entropy,
        kl=kl,
        details=Details(approx_kl=info.approx_kl, clip_frac=info.clip_frac, kl_beta=state.kl_beta),
    )


def make_agent(config: Config, env, env_params) -> Agent:
    """Bind PPO to an env: ``init``, ``update`` (rollout + learn) and the greedy ``act``."""
    check_config_class(config, Config)
    config.validate()
    networks = make_networks(config, env.action_space(env_params))
    optimizer = make_optimizer(config)

    def make_state(start: on_policy.Start) -> State:
        kl_beta = jnp.asarray(config.kl_beta_init, jnp.float32)
        return State(**start._asdict(), opt_state=optimizer.init(start.params), kl_beta=kl_beta)

    learn_fn = partial(learn, networks=networks, optimizer=optimizer, config=config)
    return on_policy.build_agent(config, env, env_params, networks, learn_fn, make_state)


def make_train(config: Config, env, env_params):
    """A pure ``train(key) -> (State, Metrics [num_updates])`` that ``jax.jit`` and ``jax.vmap`` accept (a gymnasium
    env steps through host callbacks: ``rl_zoo.host.batched_env.jittable``)."""
    from rl_zoo.host.batched_env import jittable

    return scan_train(make_agent(config, jittable(env), env_params))
