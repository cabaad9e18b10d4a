"""Helpers shared by the experiment scripts: confidence bands, figure saving, timing, CSV output.

Every script puts ``experiments/`` on ``sys.path`` and imports this module; the statistics come from
``rl_zoo.stats`` where it has them.
"""

from __future__ import annotations

import csv
import os
import platform
import time
from pathlib import Path

import numpy as np

DPI = 110


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> Path:
    """Save a figure tightly at ``DPI`` and close it."""
    plt = pyplot()
    path = Path(path)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    shrink_png(path)
    print(f"wrote {path}")
    return path


def shrink_png(path: Path) -> None:
    """Re-encode a PNG with a 256-colour palette (no dithering): 2-3x smaller, visually the same."""
    from PIL import Image

    with Image.open(path) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    q.save(path, optimize=True)


def t_band(x: np.ndarray, axis: int = 0, confidence: float = 0.95):
    """Mean and Student-t confidence interval of the mean along ``axis`` (NaNs ignored)."""
    from scipy import stats

    x = np.asarray(x, float)
    n = np.sum(np.isfinite(x), axis=axis)
    m = np.nanmean(x, axis=axis)
    se = np.nanstd(x, axis=axis, ddof=1) / np.sqrt(np.maximum(n, 1))
    h = se * stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
    return m, m - h, m + h


def boot_band(x: np.ndarray, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0):
    """Mean over the first axis (seeds) and a pointwise percentile-bootstrap band (``rl_zoo.stats``)."""
    from rl_zoo import stats

    x = np.asarray(x, float)
    return stats.mean_ci_over_seeds(x.reshape(x.shape[0], -1), confidence, n_resamples, seed)


def boot_ci(x, statistic=np.mean, confidence: float = 0.95, seed: int = 0):
    """Point estimate and percentile-bootstrap CI of ``statistic`` of a 1-D sample."""
    from rl_zoo import stats

    x = np.asarray(x, float).ravel()
    lo, hi = stats.bootstrap_ci(x, lambda s, axis=None: statistic(s, axis=axis), confidence, 2000, seed)
    return float(statistic(x)), lo, hi


def write_csv(path: Path, rows: list[dict]) -> Path:
    path = Path(path)
    with open(path, "w", newline="") as f:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"wrote {path}")
    return path


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    return (f"{platform.machine()}, {os.cpu_count()} CPU cores, load average at start "
            f"{', '.join(f'{x:.1f}' for x in load)}")


class Timer:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0
        print(f"[{self.label}] {self.s:.1f}s", flush=True)
        return False


# --------------------------------------------------------------------------------------------------
# Training with in-program greedy evaluations, vmapped over seeds and one swept config field


def tuned(algo: str, env_id: str, **overrides):
    """``(module, config)``: the algorithm's defaults, its presets and tuned file for ``env_id``, then
    ``overrides`` (``rl_zoo.train.resolve_config``)."""
    import dataclasses

    from rl_zoo.train import resolve_config

    module, config = resolve_config(algo, env_id)
    return module, dataclasses.replace(config, **overrides)


def make_sweep(module, config, env_id: str, field: str | None, num_evals: int, eval_episodes: int):
    """A jitted ``run(values [V], keys [S]) -> (eval_returns [V, S, num_evals + 1], metrics [V, S, U])``.

    Each (value, seed) trains ``module`` with ``config`` (``field`` replaced by the value, inside the
    vmapped function), and evaluates the greedy policy on ``eval_episodes`` fresh episodes
    (``rl_zoo.core.evaluate.evaluate``) before training and after every ``num_updates // num_evals``
    updates. Also returns the env steps of each evaluation."""
    import dataclasses

    import jax
    import jax.numpy as jnp

    import envs
    from rl_zoo.core.evaluate import evaluate

    env, env_params = envs.make(env_id)
    probe = module.make_agent(config, env, env_params)
    per_eval = probe.num_updates // num_evals
    steps = np.arange(num_evals + 1) * per_eval * probe.env_steps_per_update

    def one(value, key):
        cfg = dataclasses.replace(config, **{field: value}) if field else config
        agent = module.make_agent(cfg, env, env_params)

        def segment(state, k):
            state, metrics = jax.lax.scan(lambda s, _: agent.update(s), state, None, per_eval)
            return state, (evaluate(agent.act, state, env, env_params, k, eval_episodes).mean(), metrics)

        k_init, k_eval0, k_evals = jax.random.split(key, 3)
        state = agent.init(k_init)
        first = evaluate(agent.act, state, env, env_params, k_eval0, eval_episodes).mean()
        _, (returns, metrics) = jax.lax.scan(segment, state, jax.random.split(k_evals, num_evals))
        metrics = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), metrics)
        return jnp.concatenate([first[None], returns]), metrics

    flat = jax.jit(jax.vmap(one))  # one vmap over the (value, seed) pairs

    def run(values, keys):
        v, s = values.shape[0], keys.shape[0]
        out = flat(jnp.repeat(values, s), jnp.tile(keys, v))
        return jax.tree.map(lambda x: x.reshape((v, s) + x.shape[1:]), out)

    return run, steps, probe.env_steps_per_update
