"""The three questions' computations on top of stages 1-3 of ``rl_zoo.rlhf.pipeline`` (shared by all):

* ``beta_sweep``   PPO-clip for several fixed KL coefficients (0 included), all (beta, seed) runs vmapped;
* ``best_of_n``    n SFT samples per held-out prompt, the one the reward model likes best kept;
* ``algorithms``   PPO-clip, PPO adaptive-KL, RLOO, GRPO at the same number of sampled responses.

Each returns plain numpy arrays (saved as .npz by run.py, so figures can be redrawn without training).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from rl_zoo.rlhf import policy_opt
from rl_zoo.rlhf import reward_model as rmod
from rl_zoo.rlhf.generate import generate
from rl_zoo.rlhf.pipeline import PipelineConfig, Supervised, evaluate_policy, rl_models, rl_start


def _metrics_dict(metrics: policy_opt.Metrics, shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    return {k: np.asarray(v).reshape(shape + (-1,)) for k, v in metrics._asdict().items()}


def timed_run(fn, *args) -> tuple[object, float, float]:
    """``(output, compile_s, run_s)`` of ``jax.jit(fn)(*args)``, compilation timed apart."""
    t = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    out = jax.block_until_ready(compiled(*args))
    return out, t_compile, time.perf_counter() - t


def beta_sweep(base: Supervised, config: PipelineConfig, betas: list[float]) -> dict[str, np.ndarray]:
    """PPO-clip for every beta x seed (vmapped together); metrics ``[B, S, updates]`` and the held-out
    gold / proxy of each final policy ``[B, S]``."""
    s, b = base.keys.shape[0], len(betas)
    start = rl_start(base, config, runs_per_seed=b)  # seed-major: [S * B]
    keys = jnp.repeat(base.keys[:, 3], b, axis=0)
    beta = jnp.tile(jnp.asarray(betas, jnp.float32), s)
    train = jax.vmap(policy_opt.make_train(config.rl, rl_models(base.models, config)))
    (state, metrics), t_compile, t_run = timed_run(train, keys, beta, start)
    out = {k: np.swapaxes(v, 0, 1) for k, v in _metrics_dict(metrics, (s, b)).items()}  # [B, S, U]
    ev = jax.jit(jax.vmap(lambda k, p, r: evaluate_policy(k, p, r, base.models, config, base.data.eval_prompts)))
    res = ev(jnp.repeat(base.keys[:, 4], b, axis=0), state.params["policy"], start.rm_params)
    out["final_gold"] = np.asarray(res.gold).mean(1).reshape(s, b).T
    out["final_proxy"] = np.asarray(res.proxy).mean(1).reshape(s, b).T
    out["betas"] = np.asarray(betas)
    out["seconds"] = np.asarray([t_compile, t_run])
    return out


def best_of_n(base: Supervised, config: PipelineConfig, ns: list[int], prompts: int = 256) -> dict[str, np.ndarray]:
    """For each n: gold and proxy of the RM's favourite among n SFT samples (``[len(ns), S]``), and the
    analytic bound KL(best-of-n || SFT) <= log n - (n - 1) / n (Stiennon et al. 2020, app. G.3; equal
    only for a distribution under which two samples never coincide, strictly less for a discrete one
    whose samples can repeat: Beirami et al. 2024)."""
    lay = config.task.layout
    env = rmod.make_gold_env(lay)
    env_params = env.make_params(base.data.eval_prompts)
    n_max = max(ns)

    def per_seed(key, sft_params, rm_params):
        resp = generate(env, env_params, base.models.lm.apply, sft_params, key, prompts, n_max)
        proxy = rmod.score(base.models.scalar, rm_params, lay, resp.tokens).reshape(prompts, n_max)
        gold = resp.score.reshape(prompts, n_max)
        out = []
        for n in ns:  # the first n of each group are n independent samples
            pick = jnp.argmax(proxy[:, :n], axis=1)
            out.append((jnp.take_along_axis(gold[:, :n], pick[:, None], 1).mean(), proxy[:, :n].max(1).mean()))
        return jnp.asarray(out)  # [len(ns), 2]

    res = np.asarray(jax.jit(jax.vmap(per_seed))(base.keys[:, 4], base.sft.params, base.rm.params))  # [S, N, 2]
    ns_arr = np.asarray(ns, float)
    return {"ns": ns_arr, "gold": res[..., 0].T, "proxy": res[..., 1].T, "kl": np.log(ns_arr) - (ns_arr - 1) / ns_arr}


ALGO_CONFIGS = {
    "ppo": {},
    "ppo-kl": {},
    "rloo": {"update_epochs": 1, "num_minibatches": 1},
    "grpo": {},
}


def algorithms(base: Supervised, config: PipelineConfig, algos: list[str], group_size: int) -> dict[str, dict]:
    """Each algorithm at the same prompts x group size x updates (so the same number of sampled
    responses), all seeds vmapped; metrics ``[S, updates]``, held-out gold ``[S]``, compile and run seconds."""
    out = {}
    s = base.keys.shape[0]
    start = rl_start(base, config)
    ev = jax.jit(jax.vmap(lambda k, p, r: evaluate_policy(k, p, r, base.models, config, base.data.eval_prompts)))
    for algo in algos:
        rl = dataclasses.replace(config.rl, algo=algo, group_size=group_size,
                                 prompts_per_batch=config.rl.batch_size // group_size, **ALGO_CONFIGS[algo])
        train = jax.vmap(policy_opt.make_train(rl, rl_models(base.models, dataclasses.replace(config, rl=rl))))
        beta = jnp.full((s,), rl.beta, jnp.float32)
        (state, metrics), t_compile, t_run = timed_run(train, base.keys[:, 3], beta, start)
        res = ev(base.keys[:, 4], state.params["policy"], start.rm_params)
        out[algo] = dict(_metrics_dict(metrics, (s,)), final_gold=np.asarray(res.gold).mean(1),
                         final_proxy=np.asarray(res.proxy).mean(1), seconds=np.asarray([t_compile, t_run]),
                         responses=np.asarray(rl.total_samples))
        print(f"  {algo}: held-out gold {out[algo]['final_gold'].mean():.2f}, compile {t_compile:.0f} s, run {t_run:.0f} s", flush=True)
    return out
