"""RLHF pieces on hand-worked values: Bradley-Terry loss, per-token KL penalty, KL controller,
leave-one-out and group baselines, gold reward, next-token loss; bad input refused before compiling."""

import dataclasses
import json
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from rl_zoo.config import ConfigError
from rl_zoo.core.kl_control import kl_controller_init, kl_controller_update, kl_penalized_rewards
from rl_zoo.core.transformer import CausalTransformer, TransformerSpec
from rl_zoo.rlhf import lm, policy_opt
from rl_zoo.rlhf import reward_model as rmod
from rl_zoo.rlhf.task import TaskSpec, gold_reward

LAY = TaskSpec(num_letters=4, prompt_len=2, max_new_tokens=3).layout  # vocab 8, context 7, letters a..d = 4..7


def test_bradley_terry_loss_hand_worked():
    # -log sigmoid(1) = log(1 + e^-1) = 0.3132617; -log sigmoid(0) = log 2 = 0.6931472; mean 0.5032044
    loss = rmod.bradley_terry_loss(jnp.array([1.0, 0.0]), jnp.array([0.0, 0.0]))
    np.testing.assert_allclose(loss, 0.5032044, rtol=1e-6)
    # a huge margin in the wrong direction costs its size (no overflow)
    np.testing.assert_allclose(rmod.bradley_terry_loss(jnp.array([0.0]), jnp.array([100.0])), 100.0, rtol=1e-6)


def test_label_pairs_follow_gold_without_noise():
    a, b = jnp.arange(6).reshape(3, 2), -jnp.arange(6).reshape(3, 2)
    c = rmod.label_pairs(jax.random.key(0), a, b, jnp.array([5.0, -5.0, 0.0]), jnp.array([-5.0, 5.0, 0.0]), 1e-4)
    np.testing.assert_array_equal(c.chosen[:2], [a[0], b[1]])
    np.testing.assert_array_equal(c.gold_chosen[:2], [5.0, 5.0])


def test_pairwise_accuracy_skips_gold_ties():
    acc = rmod.pairwise_accuracy(jnp.array([1.0, 0.0, 5.0]), jnp.array([0.0, 1.0, 0.0]),
                                 jnp.array([2.0, 2.0, 1.0]), jnp.array([1.0, 1.0, 1.0]))
    assert float(acc) == 0.5  # pair 1 agrees, pair 2 disagrees, pair 3 is a gold tie


def test_pairwise_accuracy_counts_a_score_tie_half_whichever_way_the_gold_goes():
    """A tie in score counted as agreeing whenever the gold preferred the second response (score_a > score_b
    is False, as is gold_a > gold_b): a constant reward model scored the share of such pairs."""
    tie = jnp.array([0.0, 0.0])
    assert float(rmod.pairwise_accuracy(tie, tie, jnp.array([1.0, 0.0]), jnp.array([0.0, 1.0]))) == 0.5
    assert float(rmod.pairwise_accuracy(tie, tie, jnp.array([0.0, 0.0]), jnp.array([1.0, 1.0]))) == 0.5
    assert float(rmod.pairwise_accuracy(jnp.array([1.0, 0.0, 2.0]), jnp.array([1.0, 1.0, 0.0]),
                                        jnp.array([0.0, 0.0, 1.0]), jnp.array([1.0, 1.0, 0.0]))) \
        == pytest.approx((0.5 + 1 + 1) / 3)  # a tie, then two pairs ordered as the gold


def test_per_token_kl_penalty_hand_worked():
    """r_t = -beta (log pi - log pi_ref) on response tokens, the RM score added at the last one."""
    score = jnp.array([2.0, -1.0])
    logp = jnp.array([[-1.0, -2.0, -0.5], [-1.0, -1.0, -1.0]])
    ref = jnp.array([[-1.5, -1.0, -0.5], [-2.0, -3.0, -3.0]])
    mask = jnp.array([[1, 1, 1], [1, 0, 0]])
    r = kl_penalized_rewards(score, logp, ref, mask, jnp.float32(0.1))
    # row 0: -0.1 * (0.5, -1, 0) + (0, 0, 2);  row 1: -0.1 * 1 - 1 at t = 0, nothing after the end
    np.testing.assert_allclose(r, [[-0.05, 0.1, 2.0], [-1.1, 0.0, 0.0]], rtol=1e-6, atol=1e-7)
    assert float(kl_penalized_rewards(score, logp, ref, mask, jnp.float32(0.0)).sum()) == 1.0  # beta = 0: the scores only


def test_kl_controller_update_hand_worked():
    """Ziegler et al. 2019: beta <- beta (1 + clip(KL/target - 1, +-0.2) n / horizon)."""
    s = kl_controller_init(0.1)
    # KL 9 vs target 6: error 0.5 clipped to 0.2; 64 samples, horizon 1000: beta * (1 + 0.2 * 0.064) = 0.10128
    np.testing.assert_allclose(kl_controller_update(s, jnp.float32(9.0), 64, 6.0, 1000.0).beta, 0.10128, rtol=1e-6)
    # KL 5.4: error -0.1 (inside the clip): 0.1 * (1 - 0.1 * 0.064) = 0.09936
    np.testing.assert_allclose(kl_controller_update(s, jnp.float32(5.4), 64, 6.0, 1000.0).beta, 0.09936, rtol=1e-6)
    assert kl_controller_update(s, jnp.float32(50.0), 64, None, 1000.0) is s  # fixed beta


def test_the_default_kl_horizon_lets_beta_move_far_enough_in_one_run():
    """With a fixed horizon of 2000 responses the default run (60 updates of 64) could move beta by
    1.47x at most: --kl-target 0.1 ended with a KL 21x its target, beta 1.8% higher."""
    config = policy_opt.Config(kl_target=0.1)
    assert config.controller_horizon == 60 * 64 / 20
    s = kl_controller_init(config.beta)
    for _ in range(config.num_updates):  # the KL far above its target every update: the largest step each time
        s = kl_controller_update(s, jnp.float32(2.0), config.batch_size, config.kl_target, config.controller_horizon)
    np.testing.assert_allclose(s.beta / config.beta, (1 + 4 / 60) ** 60, rtol=1e-4)  # 48x
    assert policy_opt.Config(kl_horizon=500.0).controller_horizon == 500.0


@pytest.mark.parametrize("num_updates", [1, 2, 3, 4, 7])
def test_a_short_run_never_cuts_beta_to_zero_or_below(num_updates):
    """The default horizon (responses / 20) would give a step of 4 / num_updates: beta x 0 after one update
    at KL 0 with 4 updates (`--small`), negative with 2-3. The first batch comes from the reference itself
    (KL 0, error -0.2): the largest cut, every run. The horizon is kept >= 0.4 batches: beta at most halves."""
    config = policy_opt.Config(kl_target=0.5, num_updates=num_updates)
    assert config.controller_step == 0.5 and config.controller_horizon == 0.4 * config.batch_size
    s = kl_controller_init(config.beta)
    for _ in range(num_updates):
        s = kl_controller_update(s, jnp.float32(0.0), config.batch_size, config.kl_target, config.controller_horizon)
    np.testing.assert_allclose(s.beta, config.beta * 0.5**num_updates, rtol=1e-5)
    assert policy_opt.Config(kl_target=0.5, num_updates=8).controller_horizon == 8 * 64 / 20  # responses / 20 from 8 up
    with pytest.raises(ConfigError, match=r"kl_horizon.*>= 0.4 x the batch of 64 responses = 25.6"):
        policy_opt.Config(kl_horizon=25.0).validate()
    policy_opt.Config(kl_horizon=25.6).validate()


def test_leave_one_out_and_group_baselines():
    np.testing.assert_allclose(policy_opt.leave_one_out_advantages(jnp.array([[1.0, 2.0, 3.0]])), [[-1.5, 0.0, 1.5]])
    np.testing.assert_allclose(policy_opt.group_normalized_advantages(jnp.array([[1.0, 3.0]])), [[-1.0, 1.0]], rtol=1e-5)
    np.testing.assert_allclose(policy_opt.masked_whiten(jnp.array([1.0, 3.0, 100.0]), jnp.array([1.0, 1.0, 0.0]))[:2],
                               [-1.0, 1.0], rtol=1e-6)


def test_gae_advantages_end_at_the_last_token():
    """gamma = lambda = 1: every token's value target is the response's reward-to-go. The values (and
    the rewards) on padding are junk that a response not cut off at its last token would bootstrap from."""
    config = policy_opt.Config(prompts_per_batch=1, group_size=2, gae_lambda=1.0)
    rewards = jnp.array([[0.1, 0.2, 1.0, 0.0], [2.0, 9.0, 9.0, 9.0]])
    mask = jnp.array([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    values = jnp.array([[0.5, 0.5, 0.5, 5.0], [0.5, 5.0, 5.0, 5.0]])
    adv, targets = policy_opt.token_advantages(config, rewards, values, mask)
    np.testing.assert_allclose(targets[0, :3], [1.3, 1.2, 1.0], rtol=1e-6)  # the first ends at its third token
    assert float(targets[1, 0]) == 2.0  # the second ends at its first token: nothing flows back into it


def _tokens(prompt, response):
    buf = [LAY.bos, *prompt, LAY.sep, *response]
    return jnp.array(buf + [LAY.pad] * (LAY.context - len(buf)), jnp.int32)


@pytest.mark.parametrize("prompt, response, gold", [
    ([4, 5], [4, 5, 3], 2.0),  # "ab</s>" for prompt "ab": two on topic
    ([4, 5], [4, 4, 3], 0.0),  # "aa": two on topic, one stutter (-2)
    ([4, 5], [6, 7, 6], -3.0),  # off topic and never ends (-3)
    ([4, 5], [4, 1, 3], 0.0),  # a special token inside (-1)
    ([4, 5], [3], 0.0),  # the empty response
    ([4, 5], [0, 0, 3], -4.0),  # "_ _": two special tokens (-1 each) and a stutter (-2): any repeated token counts
])
def test_gold_reward_hand_worked(prompt, response, gold):
    assert float(gold_reward(LAY, _tokens(prompt, response))) == gold


def test_generation_reads_the_next_position_after_a_sampled_pad():
    """A policy that says PAD, then c, then EOS (position by position, with certainty): the sampler must
    read the logits after the PAD at the PAD's position, as the learner scores them (a count of non-PAD
    tokens would read SEP's logits again and say PAD three times)."""
    from rl_zoo.rlhf.generate import generate, response_log_probs

    wanted = {3: LAY.pad, 4: 6, 5: LAY.eos}  # buffer position -> the token its logits give
    table = jnp.array([wanted.get(i, 4) for i in range(LAY.context)])
    apply_fn = lambda _params, obs: jnp.broadcast_to(  # noqa: E731
        100.0 * jax.nn.one_hot(table, LAY.vocab_size), obs.shape + (LAY.vocab_size,))
    env = rmod.make_gold_env(LAY)
    resp = generate(env, env.make_params(np.array([[4, 5]])), apply_fn, None, jax.random.key(0), 2)
    np.testing.assert_array_equal(resp.tokens[:, 4:], [[LAY.pad, 6, LAY.eos]] * 2)
    np.testing.assert_array_equal(resp.length, [3, 3])
    assert bool(resp.eos.all())
    np.testing.assert_array_equal(resp.score, [-1.0, -1.0])  # gold: one special token inside, c off topic
    logp = response_log_probs(LAY, apply_fn(None, resp.tokens), resp.tokens)
    np.testing.assert_allclose(logp, 0.0, atol=1e-6)  # the learner agrees: each token had probability 1


def test_reward_model_scores_at_the_eos_past_a_sampled_pad():
    class Position:  # a "model" whose scalar output at each position is that position
        def apply(self, _params, tokens):
            return jnp.broadcast_to(jnp.arange(tokens.shape[-1], dtype=jnp.float32), tokens.shape)[..., None]

    tokens = jnp.stack([_tokens([4, 5], [4, LAY.pad, 3]), _tokens([4, 5], [3]), _tokens([4, 5], [5, 6, LAY.pad])])
    np.testing.assert_array_equal(rmod.score(Position(), None, LAY, tokens), [6.0, 4.0, 6.0])


def test_next_token_loss_hand_worked():
    # uniform logits over 4 tokens: -log(1/4) at each masked target
    tokens = jnp.array([[1, 2, 3]])
    loss = lm.next_token_loss(jnp.zeros((1, 3, 4)), tokens, jnp.array([[1.0, 0.0, 1.0]]))
    np.testing.assert_allclose(loss, math.log(4), rtol=1e-6)
    np.testing.assert_array_equal(lm.sft_mask(LAY, np.asarray(_tokens([4, 5], [6, 3]))[None]), [[0, 0, 0, 0, 1, 1, 0]])


# --- bad input: clear errors, before anything compiles ---------------------------------------------------


def test_empty_corpus_is_refused():
    with pytest.raises(ValueError, match="pretraining corpus is empty"):
        lm.check_sequences(LAY, np.zeros((0, LAY.context), np.int32), "pretraining corpus")
    with pytest.raises(ConfigError, match="corpus_docs"):
        TaskSpec(corpus_docs=0).validate()
    with pytest.raises(ConfigError, match="'data_seed' = -1 is invalid: must be >= 0"):  # numpy's bare "expected non-negative"
        TaskSpec(data_seed=-1).validate()


def test_task_sizes_that_cannot_make_demonstrations_are_refused():
    """Demonstrations have 2-6 distinct-from-the-last letters and EOS: a one-token limit crashed in numpy's
    integers(2, 2); a one-letter prompt with every demo letter from it never finished."""
    with pytest.raises(ConfigError, match=r"max_new_tokens.*at least two letters"):
        TaskSpec(num_letters=4, prompt_len=2, max_new_tokens=2).validate()
    with pytest.raises(ConfigError, match=r"demo_on_topic.*prompt_len = 1"):
        TaskSpec(num_letters=4, prompt_len=1, demo_on_topic=1.0).validate()
    TaskSpec(num_letters=4, prompt_len=1, demo_on_topic=0.9).validate()


def test_prompts_beyond_a_million_arrangements_are_drawn_not_listed():
    """16 letters, prompts of 7: 57.7 million arrangements (listing them took gigabytes); 50,000 distinct
    ones are drawn, each of 7 distinct letters. Small sets are listed in full as before."""
    from rl_zoo.rlhf import task

    rng = np.random.default_rng(0)
    big = task._prompts(rng, 16, 7)
    assert big.shape == (task.MAX_PROMPTS, 7) and len({tuple(r) for r in big}) == task.MAX_PROMPTS
    assert all(len(set(r)) == 7 for r in big[:1000]) and big.min() >= 0 and big.max() <= 15
    small = task._prompts(rng, 4, 2)
    assert sorted(map(tuple, small)) == [(a, b) for a in range(4) for b in range(4) if a != b]


def test_prompt_longer_than_context_is_refused():
    with pytest.raises(ValueError, match="longer than the model context of 7"):
        lm.check_sequences(LAY, np.ones((4, 9), np.int32), "SFT demonstration set")
    env = rmod.make_gold_env(LAY)
    with pytest.raises(ValueError, match="prompts have 6 tokens but the layout holds 2"):
        env.make_params(np.full((2, 6), 4))


def test_reward_model_for_another_vocabulary_is_refused():
    other = TransformerSpec(vocab_size=20, context=LAY.context, width=8, layers=1, heads=1)
    # jitted inits: one compile each, not one per primitive
    rm_params = jax.jit(CausalTransformer(other, out=1).init)(jax.random.key(0), jnp.zeros((1, LAY.context), jnp.int32))
    with pytest.raises(ValueError, match="vocabulary of 20 tokens but the task has 8"):
        rmod.check_vocabulary(rm_params, LAY)
    spec = TransformerSpec(vocab_size=8, context=LAY.context, width=8, layers=1, heads=1)
    ok = jax.jit(CausalTransformer(spec).init)(jax.random.key(0), jnp.zeros((1, LAY.context), jnp.int32))
    from envs.language import TokenEnv

    models = policy_opt.Models(CausalTransformer(spec), CausalTransformer(spec, out=1),
                               TokenEnv(LAY, rmod.reward_fn(CausalTransformer(other, out=1), LAY)), lambda t: gold_reward(LAY, t))
    with pytest.raises(ValueError, match="reward model was built for a vocabulary of 20"):
        policy_opt.make_start(models, ok, rm_params, ok, np.array([[4, 5]]))


def test_bad_rl_config_is_refused():
    with pytest.raises(ConfigError, match="group_size"):
        policy_opt.Config(group_size=1).validate()
    with pytest.raises(ConfigError, match="rloo is on-policy"):
        policy_opt.Config(algo="rloo", update_epochs=4).validate()
    with pytest.raises(ConfigError, match="algo"):
        policy_opt.Config(algo="dpo").validate()
    with pytest.raises(ConfigError, match="from 0 it never moves"):
        policy_opt.Config(beta=0.0, kl_target=0.5).validate()
    policy_opt.Config(beta=0.0).validate()  # no penalty at all: allowed
    with pytest.raises(ConfigError, match="kl_horizon.*would turn it around"):
        policy_opt.Config(kl_horizon=0.0).validate()
    for field, bad in (("clip_eps", 0.0), ("ppo_kl_target", -0.1), ("gamma", 1.5), ("gae_lambda", -0.1), ("vf_coef", -1.0)):
        with pytest.raises(ConfigError, match=field):
            policy_opt.Config(**{field: bad}).validate()
    # an infinite beta or kl_target passed the bounds and trained a NaN policy reported as a result (inf x a KL of 0)
    for field in ("beta", "kl_target", "learning_rate", "temperature"):
        with pytest.raises(ConfigError, match=f"'{field}' = inf is invalid: must be a finite number"):
            policy_opt.Config(**{field: math.inf}).validate()


def test_bad_pipeline_config_is_refused_by_its_dotted_name():
    """The supervised stages' and the task's fields are checked too: a negative gradient clip trained
    uphill (optax flips the gradient), an infinite learning rate or a NaN passed."""
    import dataclasses

    from rl_zoo.rlhf.pipeline import small_config

    config = small_config()
    for bad, said in ((dict(sft=lm.FitConfig(max_grad_norm=-1.0)), "'sft.max_grad_norm' = -1.0 is invalid: must be > 0"),
                      (dict(rm=lm.FitConfig(learning_rate=math.inf)), "'rm.learning_rate' = inf is invalid: must be a finite"),
                      (dict(label_temperature=math.nan), "'label_temperature' = nan is invalid: must be a finite"),
                      (dict(task=dataclasses.replace(config.task, demo_on_topic=math.nan)), "'demo_on_topic' = nan is invalid: must be a finite"),
                      (dict(rl=dataclasses.replace(config.rl, ppo_kl_beta_init=1e-9)), "'ppo_kl_beta_init' = 1e-09 is invalid: must be within")):
        with pytest.raises(ConfigError, match=re.escape(said)):
            dataclasses.replace(config, **bad).validate()
    config.validate()


def test_the_stages_refuse_seeds_before_compiling():
    """An empty seed list or one past int32 was a JAX traceback (a traced float seed; an OverflowError)."""
    from rl_zoo.rlhf.pipeline import Timer, run_supervised, small_config

    for seeds, said in (([], "non-empty list of integers"), ([1.5], "non-empty list of integers"),
                        ([2**31], "seeds = 2147483648 is invalid")):
        with pytest.raises(ConfigError, match=re.escape(said)):
            run_supervised(small_config(), seeds, Timer(), log=lambda s: None)


def test_non_finite_seeds_names_the_seeds_whose_rl_stage_broke():
    from rl_zoo.rlhf.pipeline import non_finite_seeds

    params = {"policy": {"w": jnp.array([[1.0, 2.0], [1.0, 2.0], [jnp.nan, 0.0]])}}
    metrics = policy_opt.Metrics(*([jnp.zeros((3, 4))] * len(policy_opt.Metrics._fields)))
    state = policy_opt.State(params, None, None, None, None)
    assert non_finite_seeds(state, metrics, [10, 11, 12]) == [12]
    metrics = metrics._replace(policy_loss=jnp.zeros((3, 4)).at[1, 3].set(jnp.inf))
    assert non_finite_seeds(state, metrics, [10, 11, 12]) == [11, 12]
    assert non_finite_seeds(state._replace(params={"policy": {"w": jnp.ones((3, 2))}}), metrics._replace(
        policy_loss=jnp.zeros((3, 4))), [10, 11, 12]) == []
    # the RM's accuracy is NaN by design in a batch where no pair's gold rewards differ: not a broken seed
    assert non_finite_seeds(state._replace(params={"policy": {"w": jnp.ones((3, 2))}}), metrics._replace(
        policy_loss=jnp.zeros((3, 4)), rm_accuracy=jnp.full((3, 4), jnp.nan)), [10, 11, 12]) == []


def test_the_rl_policy_is_scored_at_its_sampling_temperature():
    """Responses are sampled from softmax(logits / T); ratios and the KL to the reference must use the
    same distribution, so the policy's (and reference's) scoring logits are the model's divided by T."""
    spec = TransformerSpec(vocab_size=8, context=LAY.context, width=8, layers=1, heads=1)
    model = CausalTransformer(spec)
    tokens = jnp.zeros((1, LAY.context), jnp.int32)
    params = jax.jit(model.init)(jax.random.key(0), tokens)
    models = policy_opt.Models(model, CausalTransformer(spec, out=1), None, None)
    raw = model.apply(params, tokens)
    np.testing.assert_allclose(policy_opt.policy_logits(models, params, tokens, policy_opt.Config(temperature=2.0)), raw / 2.0, rtol=1e-6)
    np.testing.assert_array_equal(policy_opt.policy_logits(models, params, tokens, policy_opt.Config()), raw)  # T = 1: unchanged


@pytest.mark.parametrize("argv, group, prompts", [
    (["rlhf"], 2, 32), (["rlhf", "--algo", "grpo"], 4, 16), (["rlhf", "--algo", "rloo"], 4, 16),
    (["rlhf", "--algo", "grpo", "--group-size", "8"], 8, 8), (["rlhf", "--small", "--algo", "grpo"], 4, 4),
])
def test_rlhf_group_size_keeps_the_batch(argv, group, prompts):
    """grpo ran with the default groups of 2 (its advantages +-1 whatever the scores) and no flag to change it."""
    from rl_zoo.cli import _build_parser
    from rl_zoo.rlhf.command import resolve

    rl = resolve(_build_parser().parse_args(argv)).rl
    assert (rl.group_size, rl.prompts_per_batch) == (group, prompts)
    with pytest.raises(ValueError, match="--group-size = 5 is invalid: must be at least 2 and divide the batch of 64"):
        resolve(_build_parser().parse_args(["rlhf", "--group-size", "5"]))


def test_the_held_out_evaluation_samples_at_the_rl_temperature(monkeypatch):
    """The RLHF policy was trained as softmax(logits / T) but evaluated at T = 1: another policy."""
    import dataclasses

    from rl_zoo.rlhf import pipeline
    from rl_zoo.rlhf.generate import Responses

    asked = []

    def fake_generate(env, env_params, apply_fn, params, key, num_prompts, group_size=1, temperature=1.0, top_k=0):
        asked.append(temperature)
        n = num_prompts * group_size
        return Responses(jnp.zeros((n, 7), jnp.int32), jnp.zeros(n), jnp.ones(n, jnp.int32), jnp.ones(n, bool))

    monkeypatch.setattr(pipeline, "generate", fake_generate)
    monkeypatch.setattr(pipeline.rmod, "score", lambda *args: jnp.zeros(1))
    config = pipeline.small_config()
    config = dataclasses.replace(config, rl=dataclasses.replace(config.rl, temperature=0.7))
    prompts = jnp.zeros((4, config.task.layout.prompt_len), jnp.int32)
    pipeline.evaluate_policy(jax.random.key(0), None, None, pipeline.Models(type("LM", (), {"apply": None})(), None), config, prompts)
    assert asked == [0.7]


@pytest.mark.parametrize("algo, expect", [
    ("rloo", [-1.5, 0.0, 1.5]),  # R_i minus the mean of the other two: 1 - 5/2, 2 - 4/2, 3 - 3/2
    ("grpo", [-1.2247449, 0.0, 1.2247449]),  # (R_i - 2) / sqrt(2/3), the group's population std
])
def test_critic_free_advantages_baseline_each_response_in_its_group(algo, expect):
    """One prompt, three responses whose masked rewards sum to 1, 2 and 3 (the 9 is padding): every token
    of a response gets its response's advantage; no value targets."""
    config = policy_opt.Config(algo=algo, prompts_per_batch=1, group_size=3, update_epochs=1, num_minibatches=1)
    rewards = jnp.array([[1.0, 0.0, 0.0], [0.0, 2.0, 9.0], [3.0, 0.0, 0.0]])
    mask = jnp.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    adv, targets = policy_opt.token_advantages(config, rewards, jnp.zeros_like(rewards), mask)
    np.testing.assert_allclose(adv, np.repeat(np.array(expect)[:, None], 3, axis=1), rtol=1e-5, atol=1e-6)
    assert not np.asarray(targets).any()


@pytest.mark.parametrize("algo", policy_opt.ALGOS)
def test_each_algorithm_takes_its_own_policy_loss_over_response_tokens_only(algo):
    """Ratio e^0.5 on every real token (old log-probs 0.5 below the policy's), advantage 1: ppo and grpo
    clip it to 1 + eps = 1.2 (loss -1.2); ppo-kl takes the ratio unclipped and adds beta times the mean
    over real tokens of KL(pi_old || pi), the old logits moved away from the policy's (-e^0.5 + 0.5 KL);
    rloo is REINFORCE, -mean log pi(a|s) over the real tokens (no ratio at all); grpo
    adds beta * mean k3 with log pi_ref 0.3 below log pi: 0.5 (e^-0.3 + 0.3 - 1). The second response
    is one token long: its padding holds junk (old log-probs, advantages, reference log-probs, value
    targets) that a loss which did not mask it would show; ppo's value loss is 0.5 on targets 1 above."""
    from rl_zoo.core.distributions import Categorical
    from rl_zoo.rlhf.generate import response_logits

    spec = TransformerSpec(vocab_size=LAY.vocab_size, context=LAY.context, width=8, layers=1, heads=1)
    models = policy_opt.Models(CausalTransformer(spec), CausalTransformer(spec, out=1), type("E", (), {"layout": LAY})(), None)
    tokens = jnp.array([[LAY.bos, 4, 5, LAY.sep, 4, 5, 3], [LAY.bos, 6, 7, LAY.sep, 3, LAY.pad, LAY.pad]], jnp.int32)
    params = {"policy": models.policy.init(jax.random.key(0), tokens), "value": models.value.init(jax.random.key(1), tokens)}
    config = policy_opt.Config(algo=algo, prompts_per_batch=1, group_size=2, update_epochs=1, num_minibatches=1)
    logits = response_logits(LAY, policy_opt.policy_logits(models, params["policy"], tokens, config))
    actions = tokens[:, LAY.response_start:]
    log_prob = Categorical(logits).log_prob(actions)
    mask = jnp.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    real = mask > 0
    junk = lambda good, bad: jnp.where(real, good, bad)  # noqa: E731
    values = policy_opt.response_values(models, params["value"], tokens)
    old_logits = jnp.where(real[..., None], logits + jnp.linspace(-2.0, 2.0, logits.shape[-1]), logits * 9.0)
    old_to_new = Categorical(old_logits).kl(Categorical(logits))
    assert abs(float(old_to_new[real].mean() - Categorical(logits).kl(Categorical(old_logits))[real].mean())) > 0.01
    batch = policy_opt.Batch(tokens, actions, mask, junk(log_prob - 0.5, log_prob - 5.0), old_logits,
                             junk(1.0, 100.0), junk(values + 1.0, values + 50.0), junk(log_prob - 0.3, log_prob + 7.0))
    _, (pg, v_loss, *_rest) = policy_opt.loss_fn(params, batch, jnp.float32(0.5), models, config, kl_beta=0.5)
    want = {"ppo": -1.2, "grpo": -1.2 + 0.5 * (math.exp(-0.3) + 0.3 - 1.0),
            "ppo-kl": -math.exp(0.5) + 0.5 * float(old_to_new[real].mean()), "rloo": -float(log_prob[real].mean())}[algo]
    np.testing.assert_allclose(float(pg), want, rtol=1e-5)
    np.testing.assert_allclose(float(v_loss), 0.5 if config.uses_critic else 0.0, rtol=1e-5)


def test_ppo_kl_beta_rule_reads_the_mean_kl_old_to_new_over_response_tokens():
    """Two responses, the second one token long: token KLs 0.5 and 0.2 (the first response) and 0.3, by hand
    from two-token distributions; the padded entry's junk (KL 5) is left out: d = 1/3 (0.5 + 0.2 + 0.3)."""
    from rl_zoo.core.distributions import Categorical

    def logits_with_kl(kl):  # old (1/2, 1/2) against new (p, 1 - p): KL(old || new) = -log 2 - 0.5 log(p (1 - p))
        p = 0.5 * (1.0 + math.sqrt(1.0 - 4.0 * math.exp(-2.0 * (kl + math.log(2.0)))))
        return [0.0, 0.0], [math.log(p), math.log(1.0 - p)]

    pairs = [[logits_with_kl(0.5), logits_with_kl(0.2)], [logits_with_kl(0.3), logits_with_kl(5.0)]]
    old = jnp.array([[o for o, _ in row] for row in pairs])
    new = jnp.array([[n for _, n in row] for row in pairs])
    np.testing.assert_allclose(Categorical(old).kl(Categorical(new)), [[0.5, 0.2], [0.3, 5.0]], rtol=1e-5)
    mask = jnp.array([[1.0, 1.0], [1.0, 0.0]])
    np.testing.assert_allclose(float(policy_opt.mean_token_kl(old, new, mask)), 1.0 / 3.0, rtol=1e-5)


def test_grpo_kl_is_the_k3_estimator():
    log_prob, ref = jnp.array([-1.0, -2.0, -0.5]), jnp.array([-1.0, -1.5, -1.2])
    np.testing.assert_allclose(policy_opt.grpo_kl(log_prob, ref), [0.0, math.exp(0.5) - 1.5, math.exp(-0.7) - 0.3], rtol=1e-6)
    # padding after EOS: 0 there, and no inf * 0 = NaN from a gap of 100 nats, in the value or the gradient
    log_prob, ref, mask = jnp.array([-2.0, -101.0]), jnp.array([-1.5, -1.0]), jnp.array([1.0, 0.0])
    np.testing.assert_allclose(policy_opt.grpo_kl(log_prob, ref, mask), [math.exp(0.5) - 1.5, 0.0], rtol=1e-6)
    grad = jax.grad(lambda lp: (policy_opt.grpo_kl(lp, ref, mask) * mask).mean())(log_prob)
    np.testing.assert_allclose(grad, [(1.0 - math.exp(0.5)) / 2, 0.0], rtol=1e-6)


def test_the_label_accuracy_counts_a_tie_in_score_half():
    """Two identical responses score the same; their label is a coin toss: half, not a disagreement."""
    chosen, rejected = jnp.array([2.0, 1.0, 0.5, 3.0]), jnp.array([1.0, 2.0, 0.5, 3.0])
    assert float(rmod.label_accuracy(chosen, rejected)) == 0.5  # (1 + 0 + 0.5 + 0.5) / 4
    assert float(rmod.label_accuracy(chosen[:1], rejected[:1])) == 1.0


def _tiny_rl_start():
    """A one-layer policy (the SFT start and reference), value head and reward model on LAY, two prompts,
    the task's gold reward."""
    from envs.language import TokenEnv

    spec = TransformerSpec(vocab_size=LAY.vocab_size, context=LAY.context, width=8, layers=1, heads=1)
    rm_model = CausalTransformer(spec, out=1)
    zeros = jnp.zeros((1, LAY.context), jnp.int32)
    rm = jax.jit(rm_model.init)(jax.random.key(1), zeros)
    models = policy_opt.Models(CausalTransformer(spec), rm_model, TokenEnv(LAY, rmod.reward_fn(rm_model, LAY)),
                               lambda t: gold_reward(LAY, t))
    sft = jax.jit(models.policy.init)(jax.random.key(0), zeros)
    return models, policy_opt.make_start(models, sft, rm, rm, np.array([[4, 5], [6, 7]]))


def test_the_kl_penalty_is_taken_against_the_frozen_sft_reference(monkeypatch):
    """A policy that moved from its SFT start pays a KL to that start: the update's sequence KL is
    sum_t (log pi - log pi_ref) over the response against ``start.sft_params``, not 0 (a review's mutation
    that took the reference from the current policy passed every test: the learning tests run beta 0).
    The same update, by what each other number must be: init keeps the run's own beta (a beta sweep passes
    it per run; the config's 0.05 is not it); responses are sampled at the config's temperature; rl.csv's
    beta is the one this batch paid, and the controller moves it with the batch's mean sequence KL
    (Ziegler et al. 2019, eq. 2; not the sum over the batch). With the reward model as the gold, the
    reward model's accuracy is 1 (a swapped pair gives 0)."""
    from rl_zoo.rlhf import generate as gen

    models, start = _tiny_rl_start()
    scored_by_the_rm = rmod.reward_fn(models.value, LAY)
    models = models._replace(gold=lambda t: scored_by_the_rm(start.rm_params, t))
    asked = []
    monkeypatch.setattr(policy_opt, "generate", lambda *a, **k: asked.append(a[7]) or gen.generate(*a, **k))
    zeros = jnp.zeros((1, LAY.context), jnp.int32)
    # kl_target 5: this batch's mean sequence KL (3.7 here) is below it, beta goes down; the sum over the 8
    # responses (about 30) is far above it
    config = policy_opt.Config(prompts_per_batch=4, group_size=2, update_epochs=1, num_minibatches=1, kl_target=5.0, temperature=0.7)
    state = policy_opt.init(jax.random.key(2), jnp.float32(0.3), start, config)
    assert float(state.kl_ctl.beta) == pytest.approx(0.3)
    moved = jax.jit(models.policy.init)(jax.random.key(3), zeros)  # another policy than the reference
    update = jax.jit(lambda state, start: policy_opt.update(state, start, models, config))
    _, same = update(state, start)
    new, other = update(state._replace(params={**state.params, "policy": moved}), start)
    assert float(same.kl) == 0.0  # the policy is the reference: log pi - log pi_ref = 0 on every token
    assert abs(float(other.kl)) > 1e-3
    assert asked == [0.7]  # traced once
    assert float(other.beta) == pytest.approx(0.3) and float(other.rm_accuracy) == 1.0
    want = kl_controller_update(state.kl_ctl, other.kl, config.batch_size, config.kl_target, config.controller_horizon)
    assert 0.75 < float(other.kl) < 5.0 and float(new.kl_ctl.beta) == pytest.approx(float(want.beta)) and float(want.beta) < 0.3


def test_ppo_kl_adapts_its_own_beta_after_the_epochs():
    """Far over a tiny target, ppo-kl's surrogate beta doubles (Schulman et al. 2017, sec. 4)."""
    models, start = _tiny_rl_start()
    config = policy_opt.Config(algo="ppo-kl", prompts_per_batch=2, group_size=2, update_epochs=1, num_minibatches=1, ppo_kl_target=1e-9)
    state = policy_opt.init(jax.random.key(2), jnp.float32(0.0), start, config)
    new, _ = jax.jit(lambda s: policy_opt.update(s, start, models, config))(state)
    assert float(new.ppo_kl_beta) == 2.0 * config.ppo_kl_beta_init


# --- the data and sampling plumbing (a review's mutations of each passed every test) -----------------------
def test_a_group_of_responses_shares_its_prompt():
    """RLOO and GRPO baseline each response against the others of its group, and the reward model's pairs
    are two responses to one prompt: rows g*G .. g*G+G-1 must hold the same prompt."""
    from rl_zoo.rlhf.generate import generate

    env = rmod.make_gold_env(LAY)
    prompts = np.array([[4, 5], [6, 7], [5, 4], [7, 6], [4, 6], [6, 4]])
    apply_fn = lambda _params, obs: jnp.zeros(obs.shape + (LAY.vocab_size,))  # noqa: E731 (uniform)
    resp = generate(env, env.make_params(prompts), apply_fn, None, jax.random.key(0), 4, 2)
    given = np.asarray(resp.tokens[:, 1:1 + LAY.prompt_len]).reshape(4, 2, LAY.prompt_len)
    np.testing.assert_array_equal(given[:, 0], given[:, 1])
    assert len({tuple(p) for p in given[:, 0]}) > 1  # (and the groups are not all one prompt)


def test_a_response_that_ends_early_keeps_its_eos_and_its_mask_stops_at_it():
    """EOS as the first response token: length 1, ended by EOS (what eos_rate counts) however the finished
    buffer steps on; the mask covers the generated tokens, EOS included, and nothing after."""
    from rl_zoo.rlhf.generate import generate, response_mask

    table = jnp.array([LAY.eos if i == LAY.response_start - 1 else 4 for i in range(LAY.context)])
    apply_fn = lambda _params, obs: jnp.broadcast_to(  # noqa: E731
        100.0 * jax.nn.one_hot(table, LAY.vocab_size), obs.shape + (LAY.vocab_size,))
    env = rmod.make_gold_env(LAY)
    resp = generate(env, env.make_params(np.array([[4, 5]])), apply_fn, None, jax.random.key(0), 2)
    np.testing.assert_array_equal(resp.length, [1, 1])
    assert bool(resp.eos.all())
    np.testing.assert_array_equal(response_mask(LAY, jnp.array([1, 3])), [[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])


def test_the_task_data_holds_out_its_eval_prompts_and_never_stutters():
    """Held-out prompts are not trained on; the bigram chain has no self-transitions, so no corpus document
    repeats a letter; the demonstrator never says a letter twice in a row (the gold reward's stutter)."""
    from rl_zoo.rlhf.task import TaskData

    data = TaskData(TaskSpec(num_letters=6, prompt_len=3, max_new_tokens=6, corpus_docs=200, demos=200))
    assert not {tuple(p) for p in data.eval_prompts} & {tuple(p) for p in data.train_prompts}
    assert not np.diag(data.bigram).any()
    for rows in (data.corpus, data.demos):
        letters = rows >= 4  # letter ids start at 4
        assert not (letters[:, 1:] & letters[:, :-1] & (rows[:, 1:] == rows[:, :-1])).any()


def test_the_annotators_temperature_softens_its_preferences():
    """Bradley-Terry labels: gold 1 against 0 at temperature 10 wins sigmoid(0.1) = 0.525 of the time (not
    sigmoid(1) = 0.731); 4000 pairs give a share within 0.008 (one sd) of it."""
    n = 4000
    a, b = jnp.ones((n, 1)), jnp.zeros((n, 1))
    c = rmod.label_pairs(jax.random.key(0), a, b, jnp.ones(n), jnp.zeros(n), 10.0)
    assert 0.495 < float(c.gold_chosen.mean()) < 0.555


def test_token_ids_the_vocabulary_lacks_are_refused_and_padding_is_no_target():
    with pytest.raises(ValueError, match=r"token ids outside \[0, 8\)"):
        lm.check_sequences(LAY, [[1, LAY.vocab_size]], "corpus")
    np.testing.assert_array_equal(lm.pretrain_mask(LAY, np.array([[LAY.bos, 4, LAY.eos, LAY.pad, LAY.pad]])), [[1, 1, 1, 0, 0]])


def test_supervised_minibatches_draw_every_example():
    """fit's minibatches come from all of ``data``: with examples 0 and 1 and the batch mean as the loss, the
    mean loss over 50 steps of 16 is about 0.5 (the last example never drawn would give 0)."""
    result = lm.fit(lambda p, batch: batch.mean() + 0.0 * p["w"], {"w": jnp.zeros(())}, jnp.array([0.0, 1.0]),
                    lm.FitConfig(steps=50, batch_size=16), jax.random.key(0))
    assert 0.4 < float(result.losses.mean()) < 0.6


def test_the_pipeline_evaluates_the_sft_and_the_rlhf_policies_each_its_own():
    """run_stages' wiring, every stage stubbed: the held-out evaluation of "SFT" gets the SFT parameters
    and that of "RLHF" the RL stage's policy (a mutation that evaluated the SFT policy twice passed every
    test: the report would compare SFT with itself), both with the reward model's parameters."""
    from types import SimpleNamespace

    from rl_zoo.rlhf import pipeline

    seeds = [0, 1]
    base = SimpleNamespace(keys=jnp.zeros((2, 5, 2), jnp.uint32), sft=SimpleNamespace(params=jnp.full(2, 10.0)),
                           rm=SimpleNamespace(params=jnp.full(2, 3.0)), models=None, data=SimpleNamespace(eval_prompts=None),
                           pretrain=None)
    metrics = policy_opt.Metrics(*([jnp.zeros(4)] * len(policy_opt.Metrics._fields)))

    def train(key, beta, start):
        return policy_opt.State({"policy": jnp.float32(20.0)}, (), None, jnp.float32(1.0), key), metrics

    config = pipeline.small_config()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "run_supervised", lambda *a, **k: base)
        patch.setattr(pipeline, "rl_models", lambda *a: None)
        patch.setattr(pipeline, "rl_start", lambda *a: jnp.zeros(2))
        patch.setattr(pipeline.policy_opt, "make_train", lambda *a: train)
        patch.setattr(pipeline, "evaluate_policy", lambda key, params, rm_params, *rest: params + rm_params / 100.0)
        result = pipeline.run_stages(config, seeds, log=lambda *a: None)
    np.testing.assert_allclose(result.eval_sft, [10.03, 10.03], rtol=1e-6)
    np.testing.assert_allclose(result.eval_rlhf, [20.03, 20.03], rtol=1e-6)


def test_comparisons_carry_each_responses_own_gold_score():
    """The reward model's training pairs: the annotator labels each pair by its two responses' gold scores,
    so each side's recorded gold is the gold reward of its own tokens."""
    from rl_zoo.rlhf import pipeline

    config = pipeline.PipelineConfig(task=TaskSpec(num_letters=4, prompt_len=2, max_new_tokens=3), width=8, layers=1, heads=1)
    lay = config.task.layout
    models = pipeline.make_models(config)
    env = rmod.make_gold_env(lay)
    env_params = env.make_params(np.array([[4, 5], [6, 7], [5, 4], [7, 6]]))
    c = jax.jit(lambda k: pipeline.sample_comparisons(k, env, env_params, models, lm.init_lm(models.lm, lay, k), 16, 1.0))(
        jax.random.key(1))
    gold = jax.vmap(lambda t: gold_reward(lay, t))
    np.testing.assert_allclose(gold(c.chosen), c.gold_chosen)
    np.testing.assert_allclose(gold(c.rejected), c.gold_rejected)
    assert float(jnp.abs(c.gold_chosen - c.gold_rejected).max()) > 0  # some pair differs: a swap would show


def test_the_rlhf_summary_separates_only_intervals_that_do_not_overlap_and_reports_the_last_update():
    """summary.json: "separated" when RLHF's 95% interval of held-out gold lies above SFT's (per-seed means
    (0, 0, 0) against (1, 1.1, 0.9)), not merely a higher mean ((0, 1, 2) against (0.5, 1.5, 2.5)); rl_final
    is each metric at the last update; rl.csv counts the responses sampled so far."""
    from types import SimpleNamespace

    from rl_zoo.rlhf import report

    def result(sft, rlhf):  # per-seed means, two held-out prompts each
        ev = lambda m: SimpleNamespace(gold=np.repeat(np.array(m, float)[:, None], 2, axis=1), proxy=np.zeros((len(m), 2)))  # noqa: E731
        return SimpleNamespace(eval_sft=ev(sft), eval_rlhf=ev(rlhf))

    assert report.gold_comparison(result([0, 0, 0], [1, 1.1, 0.9]))["separated"]
    apart = report.gold_comparison(result([0, 1, 2], [0.5, 1.5, 2.5]))
    assert apart["rlhf"]["mean"] > apart["sft"]["mean"] and not apart["separated"]
    assert report.gold_comparison(result([0], [1]))["separated"] is None  # one seed: a point, not an interval
    # RLHF wholly below SFT (--beta 0, over-optimised): said "NOT separated", as if the two could not be told apart
    below = report.gold_comparison(result([1.22, 1.25, 1.28], [-0.06, 0.0, 0.06]))
    assert (below["separated"], below["rlhf_below"]) == (False, True) and apart["rlhf_below"] is False
    assert report.gold_comparison(result([0], [1]))["rlhf_below"] is None
    # a seed's NaN (an RM accuracy on a batch without a comparable pair) made the mean NaN and summary.json not JSON
    some = report.interval([float("nan"), 0.375, 0.5])
    assert (some["mean"], some["ci95"], some["per_seed"], some["seeds_counted"]) == (0.4375, [0.375, 0.5], [None, 0.375, 0.5], 2)
    assert report.interval([float("nan")]) == {"mean": None, "ci95": [None, None], "per_seed": [None], "seeds_counted": 0}
    assert "seeds_counted" not in report.interval([1.0, 2.0])
    metrics = policy_opt.Metrics(*[np.array([[0.0, 1.0], [2.0, 3.0]])] * len(policy_opt.Metrics._fields))  # [seeds, updates]
    assert report.final_metrics(metrics)["gold"]["per_seed"] == [1.0, 3.0]
    rows = report.rl_rows(metrics, [7, 8], batch_size=16)
    assert [(r["seed"], r["update"], r["responses"], r["gold"]) for r in rows] == [(7, 1, 16, 0.0), (7, 2, 32, 1.0), (8, 1, 16, 2.0), (8, 2, 32, 3.0)]


def test_the_printed_summary_reads_as_text_not_python_objects():
    """`rl-zoo rlhf` printed "held-out accuracy vs gold [0.49  0.686 0.775]" and "stage seconds: {'pretrain': 5.62, ...}"."""
    from rl_zoo.rlhf.pipeline import _per_seed
    from rl_zoo.rlhf import report
    from rl_zoo.rlhf.report import format_summary

    assert _per_seed(jnp.array([0.49, 0.686, 0.775])) == "0.490, 0.686, 0.775 (per seed)" and _per_seed(jnp.array([0.5])) == "0.500"
    ci = lambda m: dict(mean=m, ci95=[m - 0.1, m + 0.1])  # noqa: E731
    summary = dict(seeds=[1000, 1001], gold_heldout=dict(sft=ci(1.0), rlhf=ci(2.0), separated=True),
                   rm_heldout_accuracy_vs_gold=ci(0.7), seconds=dict(pretrain=5.62, sft=1.0, eval_rlhf=0.0))
    assert format_summary(summary).splitlines() == [
        "seeds 1000-1001, held out from the defaults' choice (seeds 0-2)",
        "gold reward on held-out prompts, mean over seeds [the range of the 2 seeds (a percentile bootstrap over 2 "
        "values is their range, not a 95% interval)]:", "  SFT  1.00 [0.90, 1.10]",
        "  RLHF 2.00 [1.90, 2.10]   separated", "reward model accuracy vs gold on held-out pairs (training prompts): 0.70 [0.60, 0.80]",
        "stage seconds: pretrain 5.6, sft 1.0, eval_rlhf 0.0"]
    summary.update(seeds=[1000], gold_heldout=dict(sft=ci(1.0), rlhf=ci(2.0), separated=None),
                   rm_heldout_accuracy_vs_gold=report.interval([float("nan"), 0.5]))
    lines = format_summary(summary).splitlines()
    assert lines[3] == "  RLHF 2.00 [1.90, 2.10]   (1 seed: no interval to separate)"
    summary["gold_heldout"] = dict(sft=ci(2.0), rlhf=ci(1.0), separated=False, rlhf_below=True)
    assert format_summary(summary).splitlines()[3] == "  RLHF 1.00 [0.90, 1.10]   separated: RLHF BELOW SFT"
    assert lines[4].endswith("training prompts): 0.50 (1 of 2 seeds finite)")


def test_the_summary_says_when_its_seeds_are_those_the_defaults_were_chosen_on():
    """Review: a plain `rl-zoo rlhf` runs seeds 0-2, those the pipeline's defaults were chosen on, and its summary named
    no seed: its "separated" read as a held-out result."""
    from rl_zoo.rlhf.report import seeds_line

    assert seeds_line([0, 1, 2]) == ("seeds 0-2: not held out (seeds 0, 1, 2 are among those the pipeline's defaults were "
                                     "chosen on, where they look better than on new seeds; --seed 1000 gives held-out ones)")
    assert seeds_line([2, 3]).startswith("seeds 2-3: not held out (seed 2 is among those")
    assert seeds_line([1000]) == "seed 1000, held out from the defaults' choice (seeds 0-2)"
    assert seeds_line([5, 0]) == ("seeds 5, 0: not held out (seed 0 is among those the pipeline's defaults were chosen on, "
                                  "where they look better than on new seeds; --seed 1000 gives held-out ones)")  # any list
    assert seeds_line([-3, -2]) == "seeds -3 to -2, held out from the defaults' choice (seeds 0-2)"  # was "-3--2"


def test_rl_fields_the_chosen_algorithm_does_not_read_are_noted():
    """Review: policy_opt.Config(algo="grpo", vf_coef=3.0, kl_horizon=100.0, ppo_kl_target=0.5) trained without a word
    (no critic; a fixed beta; only ppo-kl reads ppo_kl_*), config.json recording them."""
    from rl_zoo.rlhf import policy_opt

    assert policy_opt.Config().notes() == [] and policy_opt.Config(algo="grpo").notes() == []
    said = [n.split(" is not read")[0] for n in policy_opt.Config(algo="grpo", vf_coef=3.0, kl_horizon=100.0, ppo_kl_target=0.5).notes()]
    assert said == ["note: vf_coef = 3.0", "note: ppo_kl_target = 0.5", "note: kl_horizon = 100.0"]
    assert policy_opt.Config(algo="rloo", clip_eps=0.3, update_epochs=1, num_minibatches=1).notes() == [
        "note: clip_eps = 0.3 is not read: rloo clips no ratio (only ppo and grpo read it; it counts the logged clip_frac)"]
    assert policy_opt.Config(kl_target=1.0, kl_horizon=100.0).notes() == []


def test_a_stopped_rlhf_run_keeps_nothing_or_says_it_is_partial(tmp_path, monkeypatch, capsys):
    """Ctrl-C before the results: the folder was left empty with no word (another per interrupted run in runs/);
    a stop while the results were written left summary.json without the figure or checkpoints, read as a whole
    run. config.json is written first now, summary.json last, and a stopped run is said for what it is."""
    from rl_zoo.cli import main
    from rl_zoo.rlhf import pipeline, report

    def ctrl_c(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "run_stages", ctrl_c)
    assert main(["rlhf", "--small", "--runs-root", str(tmp_path / "runs")]) == 130
    err = capsys.readouterr().err  # one line (review: "rl-zoo: interrupted" came on a line of its own below it)
    assert err.startswith("rl-zoo: interrupted: stopped before it wrote its results") and "nothing was kept" in err, err
    assert len(err.strip().splitlines()) == 1 and list((tmp_path / "runs").iterdir()) == []
    given = tmp_path / "given"
    given.mkdir()
    assert main(["rlhf", "--small", "--out", str(given)]) == 130  # the user's own empty folder stays, emptied
    assert given.is_dir() and list(given.iterdir()) == []
    assert "nothing was kept" in capsys.readouterr().err
    # stopped while writing: after the metrics, before the figure (and so before summary.json)
    monkeypatch.setattr(pipeline, "run_stages", lambda config, seeds: object())
    monkeypatch.setattr(report, "write_run", lambda out, *a, **k: ((out / "metrics").mkdir(), ctrl_c()))
    out = tmp_path / "partial"
    assert main(["rlhf", "--small", "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "holds a partial run (no summary.json, which is written last)" in err and len(err.strip().splitlines()) == 1, err
    assert "pipeline" in json.loads((out / "config.json").read_text()) and not (out / "summary.json").exists()
    assert main(["rlhf", "--small", "--out", str(out)]) == 2
    assert "run stopped before its end, without summary.json: delete it and run again" in capsys.readouterr().err
    # plot says what an rlhf run is, as enjoy does (it looked for metrics.csv); not that this stopped one's results
    # are "its summary.json, samples.md and stages.png", none of which it has
    for command in (["plot", str(out)], ["enjoy", str(out)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "is an `rl-zoo rlhf` run directory" in err and "its results are" not in err
        assert "this one has no summary.json: it was stopped before its end, and holds no results (delete it)" in err
    (out / "summary.json").write_text("{}")
    assert main(["plot", str(out)]) == 2
    assert "its results are its summary.json, samples.md and stages.png" in capsys.readouterr().err


def test_an_rlhf_run_whose_rl_stage_diverged_is_written_and_exits_3(tmp_path, monkeypatch, capsys):
    """`rl-zoo --help`: exit status 3, a run diverged (NaN/Inf), as `rl-zoo train` says it; `rl-zoo rlhf --beta 1e30`
    warned, wrote a gold score for the broken policy and exited 0. The run is still written whole."""
    from rl_zoo.cli import main
    from rl_zoo.rlhf import pipeline, report

    monkeypatch.setattr(pipeline, "run_stages", lambda config, seeds: object())
    for broken, code in (([], 0), ([1], 3)):
        monkeypatch.setattr(report, "write_run", lambda out, *a, **k: {"rl_non_finite_seeds": broken})
        monkeypatch.setattr(report, "format_summary", lambda summary: "RLHF ...")
        assert main(["rlhf", "--small", "--seeds", "2", "--out", str(tmp_path / f"run{code}")]) == code
        said = capsys.readouterr()
        assert "run written to" in said.out
        assert ("the RL stage diverged (NaN or infinity) on seed(s) 1: the run is written" in said.err) == bool(broken)


def test_samples_md_keeps_a_response_of_special_tokens_in_its_cell():
    """A sampled SEP reads "|" and BOS "<s>": unescaped, the row had one cell more than its header, and GitHub took
    "<s>" for a strikethrough. Letters stay as they are (the committed samples.md reads the same)."""
    from types import SimpleNamespace

    from envs.language import TokenLayout
    from rl_zoo.rlhf.report import samples_markdown

    layout = TokenLayout(vocab_size=12, prompt_len=2, max_new_tokens=6)
    sft = [1, 4, 5, 2, 4, 5, 3, 0, 0, 0]  # BOS a b SEP | a b EOS
    rl = [1, 4, 5, 2, 4, 2, 5, 1, 6, 3]  # BOS a b SEP | a SEP b BOS c EOS
    scored = lambda tokens: SimpleNamespace(tokens=np.array([[tokens]]), gold=np.zeros((1, 1)), proxy=np.zeros((1, 1)))  # noqa: E731
    table = samples_markdown(SimpleNamespace(task=SimpleNamespace(layout=layout)),
                             SimpleNamespace(eval_sft=scored(sft), eval_rlhf=scored(rl))).splitlines()
    assert table[2] == "| ab | a b | 0 | 0.00 | `a \\| b <s> c` | 0 | 0.00 |"
    assert [len(line.replace("\\|", "").split("|")) for line in table] == [9, 9, 9]


def test_the_stages_figure_numbers_steps_as_the_metrics_files_do(tmp_path, monkeypatch):
    """Panels 1-3 put step 1 at x = 0, where metrics/*.csv number steps from 1."""
    from types import SimpleNamespace

    from rl_zoo import plots
    from rl_zoo.rlhf import report

    drawn = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig) or path)
    losses = lambda: SimpleNamespace(losses=np.ones((2, 5)))  # noqa: E731 -- [seeds, steps]
    rl = SimpleNamespace(gold=np.ones((2, 3)), proxy=np.ones((2, 3)), kl=np.ones((2, 3)))
    report.stages_figure(SimpleNamespace(pretrain=losses(), sft=losses(), rm=losses(), rl_metrics=rl), tmp_path / "s.png", 16)
    (fig,) = drawn
    for ax in fig.axes[:3]:
        assert all(list(line.get_xdata()) == [1, 2, 3, 4, 5] for line in ax.lines)
    assert all(list(line.get_xdata()) == [16, 32, 48] for line in fig.axes[3].lines)


def test_an_rlhf_run_holds_its_folder_and_a_stop_as_it_starts_keeps_nothing(tmp_path, monkeypatch, capsys):
    """Two rlhf runs into one --out both ran and mixed their files (config.json of one, rl.csv of the other); a
    second started during the first was told to delete the live run's folder. A Ctrl-C as the folder was made, or
    a full disk writing config.json, left an empty folder with no word."""
    import errno

    from rl_zoo.cli import main
    from rl_zoo.lock import FolderLock
    from rl_zoo.rlhf import pipeline, report
    from run_helpers import held_by_another_process

    monkeypatch.setattr(pipeline, "run_stages", lambda *a: pytest.fail("trained in a folder another run holds"))
    live = tmp_path / "live"
    live.mkdir()
    with held_by_another_process(live) as pid:  # a run that has taken the folder, before its config.json, then after it
        for files in ((), ("config.json",)):
            for name in files:
                (live / name).write_text("{}")
            assert main(["rlhf", "--small", "--out", str(live)]) == 2
            assert f"run directory '{live}' is in use by process {pid}" in capsys.readouterr().err
            assert sorted(p.name for p in live.iterdir()) == sorted((".lock", *files))  # nothing touched
    # a run that filled the folder and ended between the first check and the lock: not "in use" by this process
    lock = FolderLock.acquire

    def filled_meanwhile(self):
        (self.folder / "summary.json").write_text("{}")
        (self.folder / "config.json").write_text(json.dumps({"pipeline": {}}))
        return lock(self)

    monkeypatch.setattr(FolderLock, "acquire", filled_meanwhile)
    assert main(["rlhf", "--small", "--out", str(tmp_path / "filled")]) == 2
    err = capsys.readouterr().err
    assert "already exists and is not empty" in err and "in use" not in err
    monkeypatch.undo()
    monkeypatch.setattr(pipeline, "run_stages", lambda *a: pytest.fail("trained in a folder another run holds"))

    def stop(error):
        def raise_it(*a, **k):
            raise error
        return raise_it

    monkeypatch.setattr("rl_zoo.lock.FolderLock.acquire", stop(KeyboardInterrupt()))  # the folder made, the lock not yet
    assert main(["rlhf", "--small", "--runs-root", str(tmp_path / "runs")]) == 130
    assert "nothing was kept" in capsys.readouterr().err and list((tmp_path / "runs").iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr(report, "write_config", stop(OSError(errno.ENOSPC, "No space left on device")))
    assert main(["rlhf", "--small", "--runs-root", str(tmp_path / "runs")]) == 1
    assert "nothing was kept" in capsys.readouterr().err and list((tmp_path / "runs").iterdir()) == []


def test_ppo_kl_next_beta_reads_the_kl_old_to_new_of_the_batch():
    """``next_betas`` feeds PPO's rule KL(pi_old || pi_new) of the batch's tokens: with the target set so that
    1.5 d_targ falls between the two directions' values, the other direction would move beta otherwise."""
    from rl_zoo.rlhf.generate import response_logits

    models, start = _tiny_rl_start()
    config = policy_opt.Config(algo="ppo-kl", prompts_per_batch=2, group_size=2, update_epochs=1, num_minibatches=1)
    state = policy_opt.init(jax.random.key(2), jnp.float32(0.0), start, config)
    batch, _ = policy_opt.make_batch(state, start, models, config, jax.random.key(3))
    moved = jax.tree.map(lambda x: x * 3.0 if x.ndim == 2 else x, state.params)  # a sharper policy: the directions differ
    new_logits = response_logits(models.env.layout, policy_opt.policy_logits(models, moved["policy"], batch.tokens, config))
    old_to_new = float(policy_opt.mean_token_kl(batch.old_logits, new_logits, batch.mask))
    new_to_old = float(policy_opt.mean_token_kl(new_logits, batch.old_logits, batch.mask))
    assert abs(old_to_new - new_to_old) > 0.1 * max(old_to_new, new_to_old)
    target = (old_to_new + new_to_old) / 3.0  # 1.5 d_targ = their mean
    config = dataclasses.replace(config, ppo_kl_target=target)
    rule = lambda d: float(policy_opt.adapt_kl_beta(state.ppo_kl_beta, jnp.float32(d), target))  # noqa: E731
    assert rule(old_to_new) != rule(new_to_old)
    beta, _ = policy_opt.next_betas(state, moved, batch, models, config)
    np.testing.assert_allclose(float(beta), rule(old_to_new), rtol=1e-6)


def test_write_run_writes_summary_json_last(tmp_path, monkeypatch):
    """A stop while the results are written (here: in the figure) leaves no summary.json, the mark of a whole
    run; it was written before the figure and the checkpoints."""
    from types import SimpleNamespace as NS

    from rl_zoo.rlhf import report

    for name in ("loss_rows", "rl_rows"):
        monkeypatch.setattr(report, name, lambda *a, **k: [])
    for name in ("gold_comparison", "interval", "final_metrics"):
        monkeypatch.setattr(report, name, lambda *a, **k: 0.0)
    monkeypatch.setattr(report, "samples_markdown", lambda *a, **k: "")

    def stopped(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "stages_figure", stopped)
    stage = NS(losses=None, params={}, heldout_accuracy=None, heldout_label_accuracy=None)
    result = NS(pretrain=stage, sft=stage, rm=stage, rl_metrics=None, rl_state=NS(kl_ctl=NS(beta=0.0), params={}),
                rl_non_finite_seeds=[], seconds={})
    config = report.PipelineConfig()
    with pytest.raises(KeyboardInterrupt):
        report.write_run(tmp_path, config, [0], result)
    assert (tmp_path / "metrics").is_dir() and (tmp_path / "samples.md").exists()
    assert not (tmp_path / "summary.json").exists() and not (tmp_path / "checkpoints").exists()


def test_an_rlhf_run_that_fails_is_not_told_to_run_again(tmp_path, monkeypatch, capsys):
    """The same error would come back: only an interrupted run is told to run the command again."""
    from rl_zoo.cli import main
    from rl_zoo.driver.guard import NonFiniteError
    from rl_zoo.rlhf import pipeline

    def diverged(*a, **k):
        raise NonFiniteError("non-finite RL stage (a test)")

    monkeypatch.setattr(pipeline, "run_stages", diverged)
    assert main(["rlhf", "--small", "--out", str(tmp_path / "r")]) == 3
    err = capsys.readouterr().err
    assert "nothing was kept" in err and "run the command again" not in err and not (tmp_path / "r").exists()
    assert "rl-zoo rlhf: stopped before it wrote its results" in err and "interrupted" not in err, err  # an error's own line
