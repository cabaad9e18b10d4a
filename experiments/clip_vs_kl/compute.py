"""Training and the per-(env, variant) summary of the clip-vs-KL experiment: both PPO losses with
the same tuned config, all seeds of a variant in one vmapped program; logged per update the exact
mean KL(pi_old || pi_new) (``Metrics.kl``), beta and the clip fraction (``Metrics.details``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common
from rl_zoo.algos.ppo import KL_BETA_MIN

#: env -> (env-step budget, number of evaluations, extra overrides on top of the tuned ppo config)
ENVS = {
    "CartPole-v1": (100_000, 20, {}),
    "Pendulum-v1": (1_000_000, 20, {}),
}
VARIANTS = {"PPO-clip": "clip", "PPO-KL (adaptive beta)": "kl"}
EVAL_EPISODES = 10


def configs(env_id: str, total: int | None = None) -> dict:
    """Variant name -> its config on ``env_id`` (PPO's tuned config, ``loss`` replaced)."""
    budget, _, overrides = ENVS[env_id]
    return {name: common.tuned("ppo", env_id, total_timesteps=total or budget, loss=loss, **overrides)[1]
            for name, loss in VARIANTS.items()}


def run_env(env_id: str, total: int, num_evals: int, overrides: dict, seeds: int, first_seed: int = common.REPORT_SEED) -> dict:
    """Both variants on ``env_id``, each with seeds ``first_seed`` .. ``first_seed + seeds - 1`` vmapped; every update trains."""
    out = {}
    for name, loss in VARIANTS.items():
        module, config = common.tuned("ppo", env_id, total_timesteps=total, loss=loss, **overrides)
        run, steps, per_update = common.make_seed_runs(module, config, env_id, num_evals, eval_episodes=EVAL_EPISODES)
        with common.Timer(f"{name} on {env_id}: {seeds} seeds x {int(steps[-1]):,} env steps") as t:
            returns, m = run(common.seed_ids(first_seed, seeds))
            returns = np.asarray(returns)
        out[name] = dict(returns=returns, kl=np.asarray(m.kl), beta=np.asarray(m.details.kl_beta),
                         clip_frac=np.asarray(m.details.clip_frac), steps=steps, per_update=per_update, seconds=t.s,
                         config=config)
    return out


def trailing_halvings(beta: np.ndarray) -> int:
    """How many of the last updates of one seed each halved beta (0 if the last one did not). An update that left
    beta at the rule's lower bound ``KL_BETA_MIN`` counts as one (the halving stopped at the bound: a beta that fell
    to 2^-20 and sat there read as "does not fall")."""
    n = 0
    for t in range(beta.size - 1, 0, -1):
        if beta[t] < beta[t - 1] or beta[t] == beta[t - 1] == np.float32(KL_BETA_MIN):
            n += 1
        else:
            break
    return n


def stays_above(steps: np.ndarray, curve: np.ndarray, level: float):
    """The first evaluation step from which ``curve`` stays >= ``level`` to the end (None if it ends below)."""
    ok = curve >= level
    if not ok[-1]:
        return None
    i = len(ok) - 1
    while i > 0 and ok[i - 1]:
        i -= 1
    return int(steps[i])


def summarise(results: dict) -> list[dict]:
    """``summary.csv``: one row per (env, variant), the numbers the README quotes."""
    from rl_zoo.benchmark import ENV_REFERENCES

    rows = []
    for env_id, res in results.items():
        for name, r in res.items():
            final = r["returns"][:, -1]
            m, lo, hi = common.boot_ci(final)
            am, alo, ahi = common.boot_ci(r["returns"].mean(axis=1))
            kl, beta, cfg = r["kl"], r["beta"], r["config"]
            target = cfg.kl_target
            n_upd = kl.shape[1]
            tenth = max(1, n_upd // 10)
            body = beta[:, : n_upd - tenth]  # the first 90% of training
            thr = ENV_REFERENCES[env_id].solved
            halv = [trailing_halvings(b) for b in beta]
            rows.append(dict(
                env=env_id, algo=name, loss=cfg.loss, seeds=final.size, env_steps=int(r["steps"][-1]),
                budget=int(cfg.total_timesteps), updates=n_upd, evaluations=int(r["returns"].shape[1]), seconds=round(r["seconds"], 1),
                final_return_mean=m, final_return_lo=lo, final_return_hi=hi,
                final_return_worst_seed=float(final.min()),
                best_return_of_worst_seed=float(r["returns"][int(final.argmin())].max()),
                auc_return_mean=am, auc_return_lo=alo, auc_return_hi=ahi,
                threshold=thr, steps_mean_stays_above_threshold=stays_above(r["steps"], r["returns"].mean(0), thr),
                kl_median=float(np.median(kl)), kl_p90=float(np.quantile(kl, 0.9)), kl_max=float(kl.max()),
                kl_max_env_step=int((np.unravel_index(kl.argmax(), kl.shape)[1] + 1) * r["per_update"]),
                kl_median_first_tenth=float(np.median(kl[:, :tenth])), kl_median_last_tenth=float(np.median(kl[:, -tenth:])),
                frac_updates_kl_above_1_5_target=float((kl > 1.5 * target).mean()),
                frac_updates_kl_below_target_over_1_5=float((kl < target / 1.5).mean()),
                frac_updates_kl_in_band=float(((kl >= target / 1.5) & (kl <= 1.5 * target)).mean()),
                beta_final_median=float(np.median(beta[:, -1])), beta_min=float(beta.min()),
                beta_max=float(beta.max()), beta_p10_first_90pct=float(np.quantile(body, 0.1)),
                beta_p90_first_90pct=float(np.quantile(body, 0.9)),
                beta_mean_peak=float(beta.mean(0).max()), beta_mean_peak_update=int(beta.mean(0).argmax()),
                beta_trailing_halvings_median=float(np.median(halv)),
                beta_median_first_90pct=float(np.median(body)),
                frac_updates_kl_below_target_over_1_5_last_tenth=float((kl[:, -tenth:] < target / 1.5).mean()),
                clip_frac_mean=float(r["clip_frac"].mean()),
                final_return_per_seed=" ".join(f"{x:.1f}" for x in final),  # seeds in order, the same for both losses
            ))
    return rows


RAW = ("returns", "kl", "beta", "clip_frac", "steps", "per_update", "seconds")


def save_raw(results: dict, path: Path) -> None:
    """The logged arrays (for --replot; ignored by git)."""
    arrays = {}
    for env_id, res in results.items():
        for name, r in res.items():
            loss = r["config"].loss
            for k in RAW:
                arrays[f"{env_id}|{loss}|{k}"] = np.asarray(r[k])
            arrays[f"{env_id}|{loss}|total"] = np.asarray(r["config"].total_timesteps)
    np.savez_compressed(path, **arrays)


def load_raw(path: Path, configs: dict) -> dict:
    """The arrays of :func:`save_raw`, with each (env, variant)'s config as the run recorded it
    (``configs``: ``"<env> <variant>"`` -> Config, :func:`recorded_configs`)."""
    z = common.load_arrays(path, [f"{e}|{loss}|{k}" for e in ENVS for loss in VARIANTS.values() for k in RAW])
    results: dict = {}
    for env_id in ENVS:
        for name, loss in VARIANTS.items():
            r = {k: z[f"{env_id}|{loss}|{k}"] for k in RAW}
            r["per_update"], r["seconds"] = int(r["per_update"]), float(r["seconds"])
            r["config"] = configs[f"{env_id} {name}"]
            results.setdefault(env_id, {})[name] = r
    return results


def recorded_configs(info: dict) -> dict:
    """``"<env> <variant>"`` -> the PPO Config a recorded run used (``run_info.json``'s ``configs``,
    written with ``dataclasses.asdict``), not today's tuned file."""
    from rl_zoo.algos import ppo

    return {key: common.config_from_record(ppo.Config, d) for key, d in info["configs"].items()}
