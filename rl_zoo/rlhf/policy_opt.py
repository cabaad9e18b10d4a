"""Stage 4: RL from the reward model with a per-token KL penalty to the frozen SFT model.

Each update samples ``prompts_per_batch x group_size`` responses through ``envs.language.TokenEnv``
(whose end-of-episode reward is the reward model's score), then computes per-token rewards
r_t = -beta (log pi - log pi_ref)(y_t) + [t last] r_RM (``rl_zoo.core.kl_control``) and one of four
policy updates, all built from rl_zoo's own losses and returns:

* ``ppo``    PPO-clip (Schulman et al. 2017, eq. 7) with GAE (``rl_zoo.core.returns.gae``) from a value
             network, as in Ziegler et al. 2019 and InstructGPT (Ouyang et al. 2022).
* ``ppo-kl`` PPO's adaptive KL penalty surrogate (Schulman et al. 2017, eq. 8; beta rule of sec. 4,
             ``rl_zoo.algos.ppo.adapt_kl_beta``) with the same GAE and value network.
* ``rloo``   REINFORCE with a leave-one-out baseline (Kool et al. 2019; Ahmadian et al. 2024):
             A_i = R_i - mean_{j != i} R_j over the group of one prompt, R the whole penalised return,
             one on-policy gradient step per batch (``policy_gradient_loss``), no critic.
* ``grpo``   group-normalised advantages A_i = (r_i - mean_G r) / (std_G r + eps) of the reward
             model's scores r alone, without a critic, with the clipped surrogate, and the KL to the
             reference in the loss, not the reward: + beta * mean_t [pi_ref/pi - log(pi_ref/pi) - 1]
             (Shao et al. 2024, eqs. 3-4: the k3 estimator, ``grpo_kl``). Where the penalty sits
             matters: in the reward (the other three), normalising by the group's std scales score and
             penalty alike, so beta keeps its weight against r_RM; in GRPO's loss only the score is
             divided by std_G, so its beta weighs as beta * std_G in the reward model's units, which
             changes from group to group: the same beta is not the same penalty for grpo.

All four losses are means over the batch's response tokens (``loss_fn``), not means of each
response's own token mean: GRPO's paper (Shao et al. 2024, eq. 3) averages each response's tokens
first (1/|o_i|), so here a long response weighs more than there, and RLOO's gradient is the
per-response REINFORCE gradient divided by the batch's mean response length (Adam's normalisation
takes most of that out of the step).

The value network is separate from the policy (as the rest of rl_zoo keeps them): its loss cannot
pull the language model away from the reference, and it starts from the reward model's weights
(InstructGPT, sec. 3.5), which already read whole responses. Unlike InstructGPT (sec. 3.5) and Stiennon
et al. 2020 (sec. 3.4), the reward model is not shifted so that demonstrations score 0 on average: rloo's
and grpo's group baselines cancel a constant, and the critic starts from the reward model's own scores.
``beta`` is fixed or adapted toward
``kl_target`` by Ziegler et al.'s controller, once per batch.

Why not ``rl_zoo.core.on_policy`` and ``rl_zoo.algos.ppo`` as they are: an episode here is one response
(every env ends within ``max_new_tokens``, none auto-resets, the rollout is ``generate``'s scan of
``TokenEnv.step_no_reset``), the rewards are made per token from two models' log-probabilities after
sampling, and the losses are masked means over response tokens of unequal lengths. So the rollout and
the update loop are this module's; their parts are the library's: the losses
(``rl_zoo.core.losses``), GAE, the epochs of minibatches (``rl_zoo.core.sgd``) and PPO's beta rule.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from envs.language import TokenEnv, TokenEnvParams
from rl_zoo.algos.ppo import KL_BETA_MAX, KL_BETA_MIN, adapt_kl_beta
from rl_zoo.config import check, check_types, unread_notes
from rl_zoo.core import losses
from rl_zoo.core.distributions import Categorical
from rl_zoo.core.kl_control import KLControllerState, kl_controller_init, kl_controller_update, kl_penalized_rewards
from rl_zoo.core.returns import gae
from rl_zoo.core.sgd import minibatch_epochs
from rl_zoo.core.transformer import CausalTransformer
from rl_zoo.rlhf.generate import Responses, generate, response_log_probs, response_logits, response_mask, response_tokens
from rl_zoo.rlhf.reward_model import pairwise_accuracy

ALGOS = ("ppo", "ppo-kl", "rloo", "grpo")
#: the KL controller's shortest horizon, in batches: one update then moves beta by at most 0.2 / 0.4 = 50%
MIN_HORIZON_BATCHES = 0.4


@dataclass(frozen=True)
class Config:
    algo: str = "ppo"
    """Policy update: "ppo" (clip), "ppo-kl" (adaptive KL surrogate), "rloo" or "grpo" (module docstring)."""
    num_updates: int = 60
    """Batches of responses (20-500)."""
    prompts_per_batch: int = 32
    """Prompts per batch (8-128)."""
    group_size: int = 2
    """Responses per prompt (>= 2: RLOO and GRPO need a group; all four use pairs to measure the RM's accuracy)."""
    update_epochs: int = 4
    """Passes over each batch (1 for rloo: plain on-policy REINFORCE; 1-8 for the others)."""
    num_minibatches: int = 2
    """Minibatches per epoch; must divide the batch."""
    learning_rate: float = 3e-4
    """Adam step size of policy (and value network) (1e-5 to 1e-3)."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    clip_eps: float = 0.2
    """Clip range of the ratio (ppo, grpo)."""
    gamma: float = 1.0
    """Discount over the tokens of a response (1: the reward at the end counts fully) (ppo, ppo-kl; rloo
    and grpo sum a response's rewards undiscounted)."""
    gae_lambda: float = 0.95
    """GAE lambda (ppo, ppo-kl)."""
    vf_coef: float = 0.5
    """Weight of the value loss (ppo, ppo-kl)."""
    beta: float = 0.05
    """KL-to-reference coefficient of the reward (grpo: of the loss's KL term; see the module docstring); the
    initial value when kl_target is set; 0 switches the penalty off."""
    kl_target: float | None = None
    """Target KL(pi || pi_ref) per response in nats for Ziegler et al.'s controller; None keeps beta fixed."""
    kl_horizon: float | None = None
    """Controller horizon in responses: K_beta = responses per batch / horizon, so beta moves by at most a
    factor 1 +- 0.2 K_beta per update (Ziegler et al.'s released code: 10000 with 512-response batches).
    None: the run's total responses / 20 (``controller_horizon``), so that over the whole run beta can move
    by up to (1 + 4 / num_updates)^num_updates (48x at 60 updates, below e^4 = 55x); a fixed 2000 let a 60-update run of 64
    responses move it by 1.47x at most, and the KL ended 21x its target. The step 0.2 K_beta is kept <= 0.5
    (the default horizon is at least 0.4 batches; a smaller ``kl_horizon`` is refused), so that an update at
    most halves beta: the first update always cuts it (its batch is sampled from the reference itself, KL 0),
    and a step of 1 or more would cut it to 0 or below (a bonus for drifting from the reference)."""
    ppo_kl_target: float = 0.01
    """ppo-kl: target per-token KL(pi_old || pi) of an update (Schulman et al. 2017, sec. 4)."""
    ppo_kl_beta_init: float = 1.0
    """ppo-kl: initial coefficient of the surrogate's KL(pi_old || pi) penalty."""
    temperature: float = 1.0
    """Temperature T of the RL policy softmax(logits / T): responses are sampled from it and scored by it
    (PPO ratios, the KL penalty to the reference at the same T, entropy), as trl's PPO trainer does; 1: the
    model's own distribution."""

    @property
    def batch_size(self) -> int:
        return self.prompts_per_batch * self.group_size

    @property
    def uses_critic(self) -> bool:
        return self.algo in ("ppo", "ppo-kl")

    @property
    def total_samples(self) -> int:
        return self.num_updates * self.batch_size

    @property
    def controller_horizon(self) -> float:
        """The KL controller's horizon in responses: ``kl_horizon``, or the run's total responses / 20 but at
        least ``MIN_HORIZON_BATCHES`` batches (runs under 8 updates), so that one update moves beta by a factor
        within [0.5, 1.5]."""
        if self.kl_horizon is not None:
            return self.kl_horizon
        return max(self.total_samples / 20, MIN_HORIZON_BATCHES * self.batch_size)

    @property
    def controller_step(self) -> float:
        """The largest relative change of beta in one update, 0.2 x responses per batch / horizon."""
        return 0.2 * self.batch_size / self.controller_horizon

    def notes(self) -> list[str]:
        """Lines for the run's log (``run_stages`` prints them) on fields given a value that this algorithm does not
        read (``config.unread_notes``): they trained without a word, config.json recording them."""
        unread = {}
        if not self.uses_critic:
            for name in ("gamma", "gae_lambda", "vf_coef"):
                unread[name] = f"{self.algo} has no critic (only ppo and ppo-kl read it)"
        if self.algo not in ("ppo", "grpo"):
            unread["clip_eps"] = f"{self.algo} clips no ratio (only ppo and grpo read it; it counts the logged clip_frac)"
        if self.algo != "ppo-kl":
            for name in ("ppo_kl_target", "ppo_kl_beta_init"):
                unread[name] = f"only ppo-kl reads it (the algorithm is {self.algo})"
        if self.kl_target is None:
            unread["kl_horizon"] = "kl_target is None: beta stays fixed, and only the controller reads it"
        return unread_notes(self, unread)

    def validate(self) -> None:
        check_types(self)  # an infinite beta or kl_target passed the bounds below and trained a NaN policy
        close = difflib.get_close_matches(str(self.algo).lower(), ALGOS, n=1, cutoff=0.5) if self.algo not in ALGOS else []
        check(self.algo in ALGOS, "algo", self.algo, f"must be one of {', '.join(ALGOS)}"
              + (f" (did you mean {close[0]}?)" if close else ""))
        for name in ("num_updates", "prompts_per_batch", "update_epochs", "num_minibatches"):
            check(getattr(self, name) >= 1, name, getattr(self, name), "must be >= 1")
        check(self.group_size >= 2, "group_size", self.group_size, "must be >= 2 (leave-one-out / group baselines, RM accuracy on pairs)")
        check(self.batch_size % self.num_minibatches == 0, "num_minibatches", self.num_minibatches,
              f"must divide the batch prompts_per_batch * group_size = {self.batch_size}")
        check(self.algo != "rloo" or (self.update_epochs == 1 and self.num_minibatches == 1), "update_epochs", self.update_epochs,
              "rloo is on-policy REINFORCE: update_epochs and num_minibatches must be 1")
        check(self.learning_rate > 0, "learning_rate", self.learning_rate, "must be > 0")
        check(self.beta >= 0, "beta", self.beta, "must be >= 0")
        check(self.kl_target is None or self.kl_target > 0, "kl_target", self.kl_target, "must be > 0 or None")
        check(self.kl_target is None or self.beta > 0, "beta", self.beta,
              "must be > 0 with kl_target: the controller multiplies beta, so from 0 it never moves")
        check(self.temperature > 0, "temperature", self.temperature, "must be > 0")
        for name in ("clip_eps", "max_grad_norm", "ppo_kl_target", "ppo_kl_beta_init"):
            check(getattr(self, name) > 0, name, getattr(self, name), "must be > 0")
        check((KL_BETA_MIN <= self.ppo_kl_beta_init) & (self.ppo_kl_beta_init <= KL_BETA_MAX), "ppo_kl_beta_init", self.ppo_kl_beta_init,
              f"must be within the adaptive rule's bounds [2^-20, 2^20] = [{KL_BETA_MIN:.3g}, {KL_BETA_MAX:.3g}]")
        check(self.kl_horizon is None or self.kl_horizon > 0, "kl_horizon", self.kl_horizon,
              "must be > 0 (the controller moves beta by KL error x responses / horizon; <= 0 would turn it around)")
        check(self.kl_horizon is None or self.kl_horizon >= MIN_HORIZON_BATCHES * self.batch_size, "kl_horizon",
              self.kl_horizon, f"must be >= {MIN_HORIZON_BATCHES:g} x the batch of {self.batch_size} responses = "
              f"{MIN_HORIZON_BATCHES * self.batch_size:g}: beta moves by up to 0.2 x batch / horizon per update, kept "
              "at 0.5 or less so that an update at most halves it (at 1 or more it could reach 0 or below: a bonus "
              "for drifting from the reference)")
        for name in ("gamma", "gae_lambda"):  # & not a chained comparison: a traced value has no bool
            value = getattr(self, name)
            check((0 <= value) & (value <= 1), name, value, "must be in [0, 1]")
        check(self.vf_coef >= 0, "vf_coef", self.vf_coef, "must be >= 0")


class Models(NamedTuple):
    """The fixed pieces of the RL stage (static: modules, env, gold score)."""

    policy: CausalTransformer  # out = vocab
    value: CausalTransformer  # out = 1
    env: TokenEnv  # its reward_fn is the reward model
    gold: Callable  # tokens [context] -> gold reward


class Start(NamedTuple):
    """What one run starts from (arrays: vmappable over seeds)."""

    sft_params: Any  # initial policy, and the frozen reference
    rm_params: Any  # the env's reward model
    value_params: Any  # initial value network (the RM's weights)
    prompts: jax.Array  # [N, P] training prompts


def make_start(models: Models, sft_params, rm_params, value_params, prompts) -> Start:
    """``Start`` after the checks that need no compiling: the policy, value network and (when the env's
    reward is a model) the reward model are built for the env's vocabulary; the prompts fit its layout."""
    from rl_zoo.rlhf.reward_model import check_vocabulary

    layout = models.env.layout
    check_vocabulary(sft_params, layout, "policy (SFT model)")
    check_vocabulary(value_params, layout, "value network")
    if rm_params is not None:
        check_vocabulary(rm_params, layout, "reward model")
    models.env.make_params(prompts, rm_params)
    return Start(sft_params, rm_params, value_params, jnp.asarray(prompts, jnp.int32))


class State(NamedTuple):
    params: dict  # {"policy": ...} (+ "value" with a critic)
    opt_state: optax.OptState
    kl_ctl: KLControllerState
    ppo_kl_beta: jax.Array
    key: jax.Array


class Batch(NamedTuple):
    tokens: jax.Array  # [B, context]
    actions: jax.Array  # [B, R]
    mask: jax.Array  # [B, R]
    old_log_prob: jax.Array  # [B, R]
    old_logits: jax.Array  # [B, R, V]
    advantages: jax.Array  # [B, R]
    targets: jax.Array  # [B, R]
    ref_log_prob: jax.Array  # [B, R] log pi_ref of the sampled tokens (grpo's KL term)


class Metrics(NamedTuple):
    gold: jax.Array  # mean gold reward of the batch's responses
    proxy: jax.Array  # mean reward-model score
    kl: jax.Array  # mean sum_t (log pi - log pi_ref): sample KL(pi || pi_ref) per response, nats
    beta: jax.Array  # the KL coefficient of this batch (the controller's next one: State.kl_ctl.beta): in the reward for ppo / ppo-kl / rloo, in the loss for grpo (whose reward has none)
    length: jax.Array  # mean response length (EOS included)
    eos_rate: jax.Array
    rm_accuracy: jax.Array  # RM's pairwise accuracy against gold on this batch's pairs
    entropy: jax.Array  # mean per-token policy entropy
    policy_loss: jax.Array
    value_loss: jax.Array
    clip_frac: jax.Array


def masked_whiten(x: jax.Array, mask: jax.Array, eps: float = 1e-8) -> jax.Array:
    """(x - mean) / (std + eps) with mean and std over the entries where ``mask`` is 1."""
    n = jnp.maximum(mask.sum(), 1.0)
    mean = (x * mask).sum() / n
    var = (((x - mean) * mask) ** 2).sum() / n
    return (x - mean) / (jnp.sqrt(var) + eps)


def leave_one_out_advantages(returns: jax.Array) -> jax.Array:
    """RLOO (Ahmadian et al. 2024, sec. 2.3, an unnumbered equation in arXiv:2402.14740v2):
    ``returns [P, G] -> R_i - (sum_j R_j - R_i) / (G - 1)``."""
    g = returns.shape[-1]
    return returns - (returns.sum(-1, keepdims=True) - returns) / (g - 1)


def group_normalized_advantages(returns: jax.Array, eps: float = 1e-6) -> jax.Array:
    """GRPO (Shao et al. 2024, sec. 4.1.2): ``returns [P, G] -> (R_i - mean_G) / (std_G + eps)``.

    ``std_G`` is the population standard deviation (ddof 0): with the default groups of 2, every pair
    that differs gets advantages of exactly -1 and +1 (TRL's torch ``std``, ddof 1, gives +-0.707)."""
    return (returns - returns.mean(-1, keepdims=True)) / (returns.std(-1, keepdims=True) + eps)


def token_advantages(config: Config, rewards: jax.Array, values: jax.Array, mask: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(advantages, value_targets)``, each ``[B, R]``, for the configured algorithm.

    ppo / ppo-kl: GAE over the tokens (time-major inside), the last token ``terminated``, then whitened
    over the whole batch's response tokens (``masked_whiten``; ``rl_zoo.algos.ppo`` normalises per
    minibatch instead);
    rloo / grpo: the whole response's return (rloo: KL-penalised; grpo: the score alone, its KL is in the
    loss), baselined within its group, on every token."""
    if config.uses_critic:
        length = mask.sum(-1, keepdims=True)
        t = jnp.arange(mask.shape[-1])[None]
        terminated = t >= length - 1  # the response ends here (and padding after it stays cut off)
        next_values = jnp.concatenate([values[:, 1:], jnp.zeros_like(values[:, :1])], axis=1)
        adv, targets = gae(rewards.T, values.T, next_values.T, terminated.T, jnp.zeros_like(terminated.T),
                           config.gamma, config.gae_lambda)
        return masked_whiten(adv.T, mask), targets.T
    returns = (rewards * mask).sum(-1).reshape(config.prompts_per_batch, config.group_size)
    adv = leave_one_out_advantages(returns) if config.algo == "rloo" else group_normalized_advantages(returns)
    adv = jnp.broadcast_to(adv.reshape(-1, 1), mask.shape)
    return adv, jnp.zeros_like(adv)


def grpo_kl(log_prob: jax.Array, ref_log_prob: jax.Array, mask: jax.Array | None = None) -> jax.Array:
    """GRPO's per-token KL(pi || pi_ref) estimate (Shao et al. 2024, eq. 4; Schulman's "k3"):
    pi_ref/pi - log(pi_ref/pi) - 1, >= 0 token by token. As a value it is unbiased for tokens sampled from
    pi (after an update's first minibatch step they come from pi_old); as a loss, differentiated through
    log pi, its expected gradient is that of KL(pi_ref || pi), the other direction: d k3 = (1 - pi_ref/pi)
    d log pi, whose mean under pi is -sum pi_ref d log pi. GRPO's paper uses it so; so does this code.
    ``mask``: 0 where there is no token (padding after EOS): 0 there, the log-ratio masked before the
    exponential (a padded slot's gap past ~88 nats overflowed to inf, and inf * 0 is NaN in loss and gradient)."""
    log_r = ref_log_prob - log_prob
    if mask is not None:
        log_r = jnp.where(mask > 0, log_r, 0.0)
    return jnp.exp(log_r) - log_r - 1.0


def mean_token_kl(old_logits: jax.Array, new_logits: jax.Array, mask: jax.Array) -> jax.Array:
    """KL(pi_old || pi_new) averaged over the response tokens (``mask``; padding left out): the ``d`` of
    ppo-kl's beta rule (Schulman et al. 2017, sec. 4), ``[B, R, V]`` logits and a ``[B, R]`` mask in."""
    return (Categorical(old_logits).kl(Categorical(new_logits)) * mask).sum() / mask.sum()


def loss_fn(params, batch: Batch, ppo_kl_beta, models: Models, config: Config, kl_beta=0.0):
    """The configured policy loss (+ value loss), each a mean over response tokens only: the token
    weights w = mask * (#entries / #tokens) turn the library losses' plain means into masked means.
    ``kl_beta``: grpo's coefficient of the KL to the reference in the loss (``grpo_kl``)."""
    layout = models.env.layout
    logits = response_logits(layout, policy_logits(models, params["policy"], batch.tokens, config))  # [B, R, V]
    dist = Categorical(logits)
    log_prob = dist.log_prob(batch.actions)
    log_ratio = (log_prob - batch.old_log_prob) * batch.mask
    ratio = jnp.exp(log_ratio)
    w = batch.mask * (batch.mask.size / jnp.maximum(batch.mask.sum(), 1.0))
    adv = batch.advantages * w
    if config.algo == "ppo":
        pg = losses.clipped_surrogate_loss(ratio, adv, config.clip_eps)
    elif config.algo == "grpo":
        pg = losses.clipped_surrogate_loss(ratio, adv, config.clip_eps) + kl_beta * (grpo_kl(log_prob, batch.ref_log_prob, batch.mask) * w).mean()
    elif config.algo == "ppo-kl":
        pg = losses.kl_penalty_loss(ratio, adv, Categorical(batch.old_logits).kl(dist) * w, ppo_kl_beta)
    else:
        pg = losses.policy_gradient_loss(log_prob, adv)
    v_loss = jnp.zeros(())
    if config.uses_critic:
        values = response_values(models, params["value"], batch.tokens)
        # padding entries are set to their targets (zero error), then the mean is rescaled to the tokens'
        v_loss = losses.value_loss(jnp.where(batch.mask > 0, values, batch.targets), batch.targets) * w.max()
    entropy = (dist.entropy() * w).mean()
    clip_frac = ((jnp.abs(ratio - 1.0) > config.clip_eps) * w).mean()
    return pg + config.vf_coef * v_loss, (pg, v_loss, entropy, clip_frac)


def policy_logits(models: Models, policy_params, tokens: jax.Array, config: Config) -> jax.Array:
    """``[B, context, V]``: the logits of the RL policy softmax(logits / T), the distribution responses are
    sampled from (``Config.temperature``), so that every ratio and KL compares the sampling policy's
    probabilities (the reference model is scored at the same T)."""
    return models.policy.apply(policy_params, tokens) / config.temperature


def response_values(models: Models, value_params, tokens: jax.Array) -> jax.Array:
    """``[B, R]``: V(s_t) of the state before y_t (the value head at the position that predicts y_t)."""
    out = models.value.apply(value_params, tokens)  # [B, context, 1]
    return response_logits(models.env.layout, out)[..., 0]


def make_optimizer(config: Config) -> optax.GradientTransformation:
    return optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(config.learning_rate, eps=1e-5))


def init(key: jax.Array, beta: jax.Array, start: Start, config: Config) -> State:
    params = {"policy": start.sft_params}
    if config.uses_critic:
        params["value"] = start.value_params
    return State(params, make_optimizer(config).init(params), kl_controller_init(beta),
                 jnp.asarray(config.ppo_kl_beta_init, jnp.float32), key)


def make_batch(state: State, start: Start, models: Models, config: Config, key: jax.Array) -> tuple[Batch, Responses]:
    """The batch one update learns from: responses sampled from the policy, scored by the reward model, their
    per-token rewards (the score minus beta times the KL to the SFT model, Ziegler et al. 2019, eq. 2; grpo
    pays its KL in the loss instead) and advantages (``token_advantages``). Also the responses themselves
    (scores, lengths, EOS) for the metrics."""
    layout = models.env.layout
    env_params = TokenEnvParams(max_steps_in_episode=layout.max_new_tokens + 1, prompts=start.prompts, reward_params=start.rm_params)
    resp: Responses = generate(models.env, env_params, models.policy.apply, state.params["policy"], key,
                               config.prompts_per_batch, config.group_size, config.temperature)
    mask = response_mask(layout, resp.length)
    full_logits = policy_logits(models, state.params["policy"], resp.tokens, config)  # [B, context, V]
    logits = response_logits(layout, full_logits)
    log_prob = response_log_probs(layout, full_logits, resp.tokens)
    ref_log_prob = response_log_probs(layout, policy_logits(models, start.sft_params, resp.tokens, config), resp.tokens)
    # grpo pays the KL in its loss (loss_fn), so its advantages see the reward model's score alone
    reward_beta = jnp.zeros_like(state.kl_ctl.beta) if config.algo == "grpo" else state.kl_ctl.beta
    rewards = kl_penalized_rewards(resp.score, log_prob, ref_log_prob, mask, reward_beta)
    values = response_values(models, state.params["value"], resp.tokens) if config.uses_critic else jnp.zeros_like(mask)
    advantages, targets = token_advantages(config, rewards, values, mask)
    return Batch(resp.tokens, response_tokens(layout, resp.tokens), mask, log_prob, logits, advantages, targets, ref_log_prob), resp


def sequence_kl(batch: Batch) -> jax.Array:
    """``[B]``: each response's summed log pi - log pi_ref over its tokens, the sample KL(pi || pi_ref) it was
    sampled with (what the reward penalises and the controller steers)."""
    return ((batch.old_log_prob - batch.ref_log_prob) * batch.mask).sum(-1)


def next_betas(state: State, params, batch: Batch, models: Models, config: Config) -> tuple[jax.Array, KLControllerState]:
    """After the epochs, once per batch: ppo-kl's surrogate beta by PPO's rule on the mean token KL(pi_old ||
    pi_new) (Schulman et al. 2017, sec. 4; other algorithms keep theirs), and the reward's KL coefficient by
    the controller (fixed, or Ziegler et al.'s adaptive one) on the batch's mean sequence KL to the SFT model."""
    ppo_kl_beta = state.ppo_kl_beta
    if config.algo == "ppo-kl":
        new_logits = response_logits(models.env.layout, policy_logits(models, params["policy"], batch.tokens, config))
        ppo_kl_beta = adapt_kl_beta(ppo_kl_beta, mean_token_kl(batch.old_logits, new_logits, batch.mask), config.ppo_kl_target)
    kl_ctl = kl_controller_update(state.kl_ctl, sequence_kl(batch).mean(), config.batch_size, config.kl_target,
                                  config.controller_horizon)
    return ppo_kl_beta, kl_ctl


def update(state: State, start: Start, models: Models, config: Config) -> tuple[State, Metrics]:
    """One RLHF update (module docstring): sample and reward a batch (`make_batch`), run the configured policy
    loss over ``update_epochs`` passes of minibatches (`loss_fn`), then move the KL coefficients (`next_betas`)."""
    key, k_gen, k_epochs = jax.random.split(state.key, 3)
    batch, resp = make_batch(state, start, models, config, k_gen)

    grad_fn = jax.grad(partial(loss_fn, ppo_kl_beta=state.ppo_kl_beta, models=models, config=config, kl_beta=state.kl_ctl.beta),
                       has_aux=True)
    params, opt_state, infos = minibatch_epochs(grad_fn, make_optimizer(config), state.params, state.opt_state, batch,
                                                k_epochs, config.update_epochs, config.num_minibatches)
    pg, v_loss, entropy, clip_frac = jax.tree.map(jnp.mean, infos)
    ppo_kl_beta, kl_ctl = next_betas(state, params, batch, models, config)

    gold = jax.vmap(models.gold)(resp.tokens)
    pairs = lambda x: x.reshape(config.prompts_per_batch, config.group_size)[:, :2]  # noqa: E731
    rm_acc = pairwise_accuracy(pairs(resp.score)[:, 0], pairs(resp.score)[:, 1], pairs(gold)[:, 0], pairs(gold)[:, 1])
    metrics = Metrics(gold.mean(), resp.score.mean(), sequence_kl(batch).mean(), state.kl_ctl.beta, resp.length.mean(),
                      resp.eos.mean(), rm_acc, entropy, pg, v_loss, clip_frac)
    return State(params, opt_state, kl_ctl, ppo_kl_beta, key), metrics


def make_train(config: Config, models: Models):
    """``train(key, beta, start) -> (State, Metrics [num_updates])``; jit and vmap (seeds, betas) accept it."""
    config.validate()

    def train(key, beta, start: Start):
        state = init(key, beta, start, config)
        return jax.lax.scan(lambda s, _: update(s, start, models, config), state, None, config.num_updates)

    return train
