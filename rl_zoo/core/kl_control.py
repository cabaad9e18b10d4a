"""The KL penalty of RLHF: per-token penalised rewards and the adaptive KL controller.

RLHF maximises r_RM(x, y) - beta KL(pi(.|x) || pi_ref(.|x)) (Ziegler et al. 2019, eq. 2; Stiennon et
al. 2020, sec. 3.4; InstructGPT, Ouyang et al. 2022, eq. 2 with its pretraining term's gamma = 0: their
"PPO" models, not "PPO-ptx"). The KL of a sampled response is estimated by
sum_t log pi(y_t|x, y_<t) - log pi_ref(y_t|x, y_<t), and paid token by token as a reward, so that the
ordinary per-step machinery (GAE, PPO) serves unchanged.

The controller (Ziegler et al. 2019, sec. 2.2) moves beta toward a target KL:

    e_t       = clip(KL_t / KL_target - 1, -0.2, 0.2)
    beta_t+1  = beta_t (1 + K_beta e_t),    K_beta = n_t / horizon

with n_t the number of samples (responses) in the batch that measured KL_t. The paper states a fixed
K_beta = 0.1; K_beta = n_t / horizon is its released code's (openai/lm-human-preferences,
``AdaptiveKLController``, horizon 10000), which trl's and verl's ``AdaptiveKLController`` copy. A fixed beta is the same
pair with ``target=None``. Beta is updated once per batch (never per minibatch).
"""

from __future__ import annotations

from typing import NamedTuple

import chex
import jax
import jax.numpy as jnp


class KLControllerState(NamedTuple):
    beta: jax.Array  # [] current KL coefficient


def kl_controller_init(beta: float | jax.Array) -> KLControllerState:
    return KLControllerState(jnp.asarray(beta, jnp.float32))


def kl_controller_update(
    state: KLControllerState, kl: jax.Array, n_samples: int, target: float | None, horizon: float
) -> KLControllerState:
    """One update of Ziegler et al.'s proportional controller (module docstring); ``target=None`` keeps beta fixed."""
    if target is None:
        return state
    error = jnp.clip(kl / target - 1.0, -0.2, 0.2)
    return KLControllerState(state.beta * (1.0 + error * n_samples / horizon))


def kl_penalized_rewards(
    score: jax.Array, log_prob: jax.Array, ref_log_prob: jax.Array, mask: jax.Array, beta: jax.Array
) -> jax.Array:
    """Per-token rewards ``[B, T]`` of RLHF (Ziegler et al. 2019, eq. 2; Ouyang et al. 2022, eq. 2, gamma = 0):

        r_t = -beta (log pi(y_t|.) - log pi_ref(y_t|.))  +  [t is the last token] r_RM(x, y)

    ``score [B]`` the reward model's score of each response, ``log_prob``/``ref_log_prob [B, T]`` of the
    sampled tokens under the policy and the frozen reference, ``mask [B, T]`` 1 on response tokens
    (a prefix of each row; at least one). Steps past the end get 0. Their sum over t is
    r_RM - beta * (sample KL estimate of the response).
    """
    chex.assert_equal_shape([log_prob, ref_log_prob, mask])
    mask = mask.astype(log_prob.dtype)
    length = mask.sum(-1).astype(jnp.int32)  # [B]
    last = jax.nn.one_hot(length - 1, log_prob.shape[-1], dtype=log_prob.dtype)  # [B, T]
    return -beta * (log_prob - ref_log_prob) * mask + last * score[:, None]
