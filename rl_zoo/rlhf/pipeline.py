"""The four stages as one command (``rl-zoo rlhf``): pretrain, SFT, reward model, RLHF; every stage
vmapped over seeds (each seed is a whole pipeline: its own initialisation, samples and labels), then a
held-out evaluation of the SFT and RLHF policies by the gold reward, and a run directory:

    config.json   the resolved PipelineConfig, seeds, library versions, the command
    metrics/      pretrain.csv, sft.csv, rm.csv (the loss, every 10th step; the reward model's held-out
                  accuracies are in summary.json), rl.csv (per update: gold, proxy, KL, beta, RM accuracy
                  on the policy's samples, ...)
    summary.json  gold reward of SFT vs RLHF on held-out prompts (per seed, mean, 95% bootstrap
                  intervals: with 2-3 seeds, their range), the RL stage's last update, beta after it,
                  the seeds whose RL stage went non-finite, timings
    samples.md    SFT and RLHF responses to the same held-out prompts, with their gold and proxy rewards
    stages.png    the four stages' curves
    checkpoints/  pretrain / sft / rm / policy / value parameters (flax msgpack, all seeds stacked)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from rl_zoo.core.transformer import CausalTransformer, TransformerSpec
from rl_zoo import interrupt
from rl_zoo.rlhf import lm, policy_opt
from rl_zoo.rlhf import reward_model as rmod
from rl_zoo.rlhf.generate import generate
from rl_zoo.rlhf.task import TaskData, TaskSpec, gold_reward


@dataclass(frozen=True)
class PipelineConfig:
    task: TaskSpec = field(default_factory=TaskSpec)
    width: int = 64
    """Transformer width (policy, reward model and value network)."""
    layers: int = 2
    """Transformer blocks."""
    heads: int = 4
    """Attention heads."""
    pretrain: lm.FitConfig = field(default_factory=lambda: lm.FitConfig(steps=800, learning_rate=2e-3))
    sft: lm.FitConfig = field(default_factory=lambda: lm.FitConfig(steps=400, learning_rate=1e-3))
    rm: lm.FitConfig = field(default_factory=lambda: lm.FitConfig(steps=400, learning_rate=5e-4))
    rm_pairs: int = 2048
    """Comparisons (pairs of SFT responses) the reward model is trained on."""
    rm_heldout_pairs: int = 512
    """Held-out comparisons for its accuracy."""
    label_temperature: float = 1.0
    """Bradley-Terry noise of the annotator: P(y1 wins) = sigmoid((g1 - g2) / label_temperature)."""
    rl: policy_opt.Config = field(default_factory=policy_opt.Config)
    eval_samples: int = 512
    """Held-out prompts sampled (one response each) to compare SFT and RLHF by the gold reward."""

    @property
    def transformer(self) -> TransformerSpec:
        lay = self.task.layout
        return TransformerSpec(lay.vocab_size, lay.context, self.width, self.layers, self.heads)

    def validate(self) -> None:
        from rl_zoo.config import check, check_types

        check_types(self)  # NaN and infinities too (the nested configs check their own fields)
        self.task.validate()
        self.transformer.validate()
        for name in ("pretrain", "sft", "rm"):
            getattr(self, name).validate(name)
        self.rl.validate()
        check(self.rm_pairs >= 1, "rm_pairs", self.rm_pairs, "must be >= 1")
        check(self.rm_heldout_pairs >= 1, "rm_heldout_pairs", self.rm_heldout_pairs, "must be >= 1")
        check(self.label_temperature > 0, "label_temperature", self.label_temperature, "must be > 0")
        check(self.eval_samples >= 1, "eval_samples", self.eval_samples, "must be >= 1")


def small_config() -> PipelineConfig:
    """A few-second pipeline for tests and smoke runs (it learns little)."""
    return PipelineConfig(
        task=TaskSpec(num_letters=6, prompt_len=3, max_new_tokens=6, corpus_docs=300, demos=200),
        width=32, layers=1, heads=2,
        pretrain=lm.FitConfig(steps=60, batch_size=32, learning_rate=3e-3),
        sft=lm.FitConfig(steps=40, batch_size=32, learning_rate=2e-3),
        rm=lm.FitConfig(steps=40, batch_size=32, learning_rate=1e-3),
        rm_pairs=128, rm_heldout_pairs=64,
        rl=policy_opt.Config(num_updates=4, prompts_per_batch=8, update_epochs=2, num_minibatches=2),
        eval_samples=32,
    )


class Models(NamedTuple):
    lm: CausalTransformer
    scalar: CausalTransformer  # reward model and value network


def make_models(config: PipelineConfig) -> Models:
    spec = config.transformer
    return Models(CausalTransformer(spec), CausalTransformer(spec, out=1))


# --- the stages: pure functions of a key (and the previous stage's params), vmapped over seeds -------------


def stage_pretrain(key, models: Models, config: PipelineConfig, corpus: np.ndarray) -> lm.FitResult:
    lay = config.task.layout
    k_init, k_fit = jax.random.split(key)
    params = lm.init_lm(models.lm, lay, k_init)
    return lm.fit_lm(models.lm, params, corpus, lm.pretrain_mask(lay, corpus), config.pretrain, k_fit)


def stage_sft(key, params, models: Models, config: PipelineConfig, demos: np.ndarray) -> lm.FitResult:
    return lm.fit_lm(models.lm, params, demos, lm.sft_mask(config.task.layout, demos), config.sft, key)


class RMResult(NamedTuple):
    params: Any
    losses: jax.Array  # [steps]
    heldout_accuracy: jax.Array  # on held-out pairs (fresh comparisons of SFT samples, the training prompts), against the gold ordering (noise-free)
    heldout_label_accuracy: jax.Array  # the same pairs, against the annotator's noisy labels
    train_label_accuracy: jax.Array


def sample_comparisons(key, env, env_params, models: Models, policy_params, n: int, temperature: float):
    """``n`` pairs of responses of ``policy_params`` to the same prompt, labelled by the Bradley-Terry annotator."""
    k_gen, k_lab = jax.random.split(key)
    resp = generate(env, env_params, models.lm.apply, policy_params, k_gen, n, 2)
    a, b = resp.tokens[0::2], resp.tokens[1::2]
    return rmod.label_pairs(k_lab, a, b, resp.score[0::2], resp.score[1::2], temperature)


def stage_rm(key, sft_params, models: Models, config: PipelineConfig, prompts) -> RMResult:
    """Comparisons of SFT samples (gold-scored env), then Bradley-Terry fitting of an RM started from the SFT trunk."""
    lay = config.task.layout
    gold_env = rmod.make_gold_env(lay)
    env_params = gold_env.make_params(prompts)
    k_data, k_held, k_init, k_fit = jax.random.split(key, 4)
    train = sample_comparisons(k_data, gold_env, env_params, models, sft_params, config.rm_pairs, config.label_temperature)
    held = sample_comparisons(k_held, gold_env, env_params, models, sft_params, config.rm_heldout_pairs, config.label_temperature)
    init = rmod.transplant_trunk(sft_params, lm.init_lm(models.scalar, lay, k_init))
    score = lambda p, tok: rmod.score(models.scalar, p, lay, tok)  # noqa: E731

    def loss_fn(p, batch: rmod.Comparisons):
        return rmod.bradley_terry_loss(score(p, batch.chosen), score(p, batch.rejected))

    fit = lm.fit(loss_fn, init, train, config.rm, k_fit)
    s_c, s_r = score(fit.params, held.chosen), score(fit.params, held.rejected)
    return RMResult(
        fit.params, fit.losses,
        rmod.pairwise_accuracy(s_c, s_r, held.gold_chosen, held.gold_rejected),
        rmod.label_accuracy(s_c, s_r),
        rmod.label_accuracy(score(fit.params, train.chosen), score(fit.params, train.rejected)),
    )


class EvalResult(NamedTuple):
    tokens: jax.Array  # [n, context]
    gold: jax.Array  # [n]
    proxy: jax.Array  # [n]


def evaluate_policy(key, policy_params, rm_params, models: Models, config: PipelineConfig, prompts) -> EvalResult:
    """One response per held-out prompt draw (``eval_samples``), scored by the gold reward and the RM.
    The same key gives the same prompts to every policy. Responses are sampled at the RL stage's
    temperature (``config.rl.temperature``), the distribution the RLHF policy was trained as (and the
    SFT model at the same T, so that the two differ by the RL stage alone)."""
    lay = config.task.layout
    env = rmod.make_gold_env(lay)
    resp = generate(env, env.make_params(prompts), models.lm.apply, policy_params, key, config.eval_samples, 1,
                    config.rl.temperature)
    return EvalResult(resp.tokens, resp.score, rmod.score(models.scalar, rm_params, lay, resp.tokens))


def rl_models(models: Models, config: PipelineConfig) -> policy_opt.Models:
    from envs.language import TokenEnv

    lay = config.task.layout
    return policy_opt.Models(models.lm, models.scalar, TokenEnv(lay, rmod.reward_fn(models.scalar, lay)),
                             lambda tokens: gold_reward(lay, tokens))


# --- the command ----------------------------------------------------------------------------------------------


class Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def run(self, name: str, fn, *args):
        t = time.perf_counter()
        out = jax.block_until_ready(fn(*args))
        self.seconds[name] = round(time.perf_counter() - t, 2)
        interrupt.check()  # a Ctrl-C Python swallowed stops the pipeline after the stage
        return out


class PipelineResult(NamedTuple):
    pretrain: lm.FitResult
    sft: lm.FitResult
    rm: RMResult
    rl_state: policy_opt.State
    rl_metrics: policy_opt.Metrics
    eval_sft: EvalResult
    eval_rlhf: EvalResult
    seconds: dict
    rl_non_finite_seeds: list[int]  # the seeds whose RL stage went non-finite (``non_finite_seeds``)


class Supervised(NamedTuple):
    """Stages 1-3 for every seed (leading axis of every array), and what stage 4 needs."""

    pretrain: lm.FitResult
    sft: lm.FitResult
    rm: RMResult
    models: Models
    data: TaskData
    keys: jax.Array  # [S, 5] per-seed stage keys


def run_supervised(config: PipelineConfig, seeds: list[int], timer: "Timer", data: TaskData | None = None, log=print) -> Supervised:
    """Stages 1-3 (pretrain, SFT, reward model), vmapped over seeds, each compiled once. Every check
    that needs no compiling (config fields, seeds, empty corpus, sequences and prompts that do not fit) runs first."""
    from rl_zoo.config import ConfigError, check_seed_range

    config.validate()
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in seeds):
        raise ConfigError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    check_seed_range(min(seeds), max(seeds) - min(seeds) + 1, flag="seeds")
    data = data or TaskData(config.task)
    lay = config.task.layout
    corpus = lm.check_sequences(lay, data.corpus, "pretraining corpus")
    demos = lm.check_sequences(lay, data.demos, "SFT demonstration set")
    rmod.make_gold_env(lay).make_params(data.train_prompts)
    models = make_models(config)
    keys = jax.vmap(lambda s: jax.random.split(jax.random.key(s), 5))(jnp.asarray(seeds))  # [S, 5]
    vm = lambda f: jax.jit(jax.vmap(f))  # noqa: E731

    log(f"[1/4] pretraining {len(seeds)} seed(s) on {len(corpus)} documents, {config.pretrain.steps} steps")
    pre = timer.run("pretrain", vm(lambda k: stage_pretrain(k, models, config, corpus)), keys[:, 0])
    log(f"      loss {_first_last(pre.losses)}  ({timer.seconds['pretrain']} s)")
    log(f"[2/4] SFT on {len(demos)} demonstrations, {config.sft.steps} steps")
    sft = timer.run("sft", vm(lambda k, p: stage_sft(k, p, models, config, demos)), keys[:, 1], pre.params)
    log(f"      loss {_first_last(sft.losses)}  ({timer.seconds['sft']} s)")
    log(f"[3/4] reward model on {config.rm_pairs} comparisons of SFT samples, {config.rm.steps} steps")
    prompts = jnp.asarray(data.train_prompts)
    rm = timer.run("rm", vm(lambda k, p: stage_rm(k, p, models, config, prompts)), keys[:, 2], sft.params)
    log(f"      loss {_first_last(rm.losses)}, accuracy vs gold on held-out pairs {_per_seed(rm.heldout_accuracy)}  ({timer.seconds['rm']} s)")
    return Supervised(pre, sft, rm, models, data, keys)


def rl_start(base: Supervised, config: PipelineConfig, runs_per_seed: int = 1) -> policy_opt.Start:
    """Stage 4's starting point per seed (the SFT policy, the RM as reward and value init), checked
    before compiling; each seed's entry repeated ``runs_per_seed`` times (for sweeps: [S * runs_per_seed])."""
    rlm = rl_models(base.models, config)
    first = lambda tree: jax.tree.map(lambda x: x[0], tree)  # noqa: E731
    policy_opt.make_start(rlm, first(base.sft.params), first(base.rm.params), first(base.rm.params), base.data.train_prompts)
    rep = lambda tree: jax.tree.map(lambda x: jnp.repeat(x, runs_per_seed, axis=0), tree)  # noqa: E731
    prompts = jnp.asarray(base.data.train_prompts)
    n = base.keys.shape[0] * runs_per_seed
    return policy_opt.Start(rep(base.sft.params), rep(base.rm.params), rep(base.rm.params), jnp.broadcast_to(prompts, (n,) + prompts.shape))


def run_stages(config: PipelineConfig, seeds: list[int], data: TaskData | None = None, log=print) -> PipelineResult:
    """The four stages and the held-out evaluation for every seed (vmapped), each stage compiled once."""
    timer = Timer()
    for line in config.rl.notes():  # RL fields the chosen algorithm does not read (grpo's vf_coef)
        log(line)
    base = run_supervised(config, seeds, timer, data, log)
    log(f"[4/4] RLHF ({config.rl.algo}, beta {config.rl.beta}{', adaptive' if config.rl.kl_target else ''}): "
        f"{config.rl.num_updates} updates x {config.rl.batch_size} responses")
    train = policy_opt.make_train(config.rl, rl_models(base.models, config))
    beta = jnp.full((len(seeds),), config.rl.beta, jnp.float32)
    rl_state, rl_metrics = timer.run("rlhf", jax.jit(jax.vmap(train)), base.keys[:, 3], beta, rl_start(base, config))
    log(f"      gold {_first_last(rl_metrics.gold)}, proxy {_first_last(rl_metrics.proxy)}, KL {_first_last(rl_metrics.kl)}  ({timer.seconds['rlhf']} s)")
    if broken := non_finite_seeds(rl_state, rl_metrics, seeds):  # computed once: summary.json lists them too
        log(f"      warning: the RL stage went non-finite (NaN or infinity) on seed(s) {', '.join(map(str, broken))}: their "
            f"policies are broken and their results are not results (summary.json lists them); a smaller --beta (if it "
            f"was raised) or RL learning rate (PipelineConfig(rl=...).learning_rate, from Python) may keep it finite")
    ev = jax.jit(jax.vmap(lambda k, p, r: evaluate_policy(k, p, r, base.models, config, base.data.eval_prompts)))
    eval_sft = timer.run("eval_sft", ev, base.keys[:, 4], base.sft.params, base.rm.params)
    eval_rlhf = timer.run("eval_rlhf", ev, base.keys[:, 4], rl_state.params["policy"], base.rm.params)
    return PipelineResult(base.pretrain, base.sft, base.rm, rl_state, rl_metrics, eval_sft, eval_rlhf, timer.seconds, broken)


def non_finite_seeds(rl_state: policy_opt.State, rl_metrics: policy_opt.Metrics, seeds: list[int]) -> list[int]:
    """The seeds (leading axis of every array) whose RL stage ended with a non-finite parameter or metric;
    ``rm_accuracy`` is left out: it is NaN by design in a batch where no pair's gold rewards differ."""
    ok = np.ones(len(seeds), bool)
    for x in map(np.asarray, jax.tree.leaves((rl_state.params, rl_metrics._replace(rm_accuracy=None)))):
        if np.issubdtype(x.dtype, np.floating):
            ok &= np.isfinite(x.reshape(len(seeds), -1)).all(axis=1)
    return [s for s, good in zip(seeds, ok) if not good]


def _per_seed(x) -> str:
    """One number per seed, "0.490, 0.686, 0.775 (per seed)" (numpy printed "[0.49  0.686 0.775]")."""
    values = np.asarray(x).ravel()
    return ", ".join(f"{v:.3f}" for v in values) + (" (per seed)" if values.size > 1 else "")


def _first_last(x) -> str:
    x = np.asarray(x).mean(0)
    plain = lambda v: round(float(v), 3) + 0.0  # noqa: E731  (a mean that rounds to -0.000 prints 0.000)
    return f"{plain(x[0]):.3f} -> {plain(x[-1]):.3f}"
