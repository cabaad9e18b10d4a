"""PPO-clip against PPO with the adaptive KL penalty (Schulman et al. 2017, eq. 7 vs eq. 8 and sec. 4).

    python experiments/clip_vs_kl/run.py            # writes clip_vs_kl.png and CSVs beside this file
    python experiments/clip_vs_kl/run.py --quick    # a small smoke run (into /tmp/clip_vs_kl)

On each env both variants use the same config, PPO's tuned one (rl_zoo/hyperparams/ppo.yaml), and
differ only in ``loss`` ("clip": clip_eps 0.2; "kl": kl_target 0.01, beta_0 = 1, beta halved or
doubled once per batch). All seeds of both variants run in one vmapped program per variant. Logged
per update: the exact mean KL(pi_old || pi_new) over the batch after the update (``Metrics.kl``),
beta (``Metrics.kl_beta``), the clip fraction; greedy evaluations (10 episodes) at ~20 points.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import common  # noqa: E402  (first: it sets XLA_FLAGS before jax is imported)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


#: env -> (env-step budget, number of evaluations, extra overrides on top of the tuned ppo config)
ENVS = {
    "CartPole-v1": (100_000, 20, {}),
    "Pendulum-v1": (1_000_000, 20, {}),
}
VARIANTS = {"PPO-clip": "clip", "PPO-KL (adaptive beta)": "kl"}
COLORS = {"PPO-clip": "tab:blue", "PPO-KL (adaptive beta)": "tab:orange"}


def run_env(env_id: str, total: int, num_evals: int, overrides: dict, seeds: int) -> dict:
    out = {}
    for name, loss in VARIANTS.items():
        module, config = common.tuned("ppo", env_id, total_timesteps=total, loss=loss, **overrides)
        run, steps, per_update = common.make_sweep(module, config, env_id, None, num_evals, eval_episodes=10)
        with common.Timer(f"{name} on {env_id}: {seeds} seeds x {config.total_timesteps:,} steps") as t:
            returns, m = run(jnp.zeros((1,), jnp.float32), jax.random.split(jax.random.key(3), seeds))
            returns = np.asarray(returns)[0]
        out[name] = dict(returns=returns, kl=np.asarray(m.kl)[0], beta=np.asarray(m.kl_beta)[0],
                         clip_frac=np.asarray(m.clip_frac)[0], steps=steps, per_update=per_update, seconds=t.s,
                         config=config)
    return out


def plot(results: dict, out: Path, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(results)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16, 4.3 * len(env_ids)))
    for row, env_id in enumerate(env_ids):
        ax_r, ax_k, ax_b = axes[row]
        for name, r in results[env_id].items():
            c = COLORS[name]
            m, lo, hi = common.boot_band(r["returns"])
            ax_r.plot(r["steps"], m, color=c, marker=".", label=name)
            ax_r.fill_between(r["steps"], lo, hi, color=c, alpha=0.2, linewidth=0)
            u = np.arange(1, r["kl"].shape[1] + 1) * r["per_update"]
            m, lo, hi = common.boot_band(r["kl"])
            ax_k.plot(u, m, color=c, linewidth=1.2, label=f"{name}: mean over seeds")
            ax_k.fill_between(u, np.maximum(lo, 1e-8), hi, color=c, alpha=0.2, linewidth=0)
            if r["config"].loss == "kl":
                m, lo, hi = common.boot_band(r["beta"])
                ax_b.plot(u, m, color=c, linewidth=1.4, label="mean over seeds, 95% bootstrap band")
                ax_b.fill_between(u, lo, hi, color=c, alpha=0.2, linewidth=0)
                for s in range(min(3, r["beta"].shape[0])):
                    ax_b.plot(u, r["beta"][s], color=c, linewidth=0.6, alpha=0.5, drawstyle="steps-post",
                              label="seeds 0-2" if s == 0 else None)
                target = r["config"].kl_target
        ax_k.axhline(target, color="black", linestyle="--", linewidth=1, label=f"d_targ = {target:g}")
        ax_k.axhspan(target / 1.5, target * 1.5, color="gray", alpha=0.12, label="beta kept (d_targ/1.5 .. 1.5 d_targ)")
        ax_r.set_title(f"{env_id}: greedy return (10 episodes)", fontsize=10)
        ax_r.set_ylabel("return")
        ax_r.legend(fontsize=8, loc="lower right")
        ax_k.set_yscale("log")
        ax_k.set_title(f"{env_id}: KL(pi_old || pi_new) after each update", fontsize=10)
        ax_k.set_ylabel("mean KL over the batch")
        ax_k.legend(fontsize=7, loc="best")
        ax_b.set_yscale("log")
        ax_b.set_title(f"{env_id}: PPO-KL's penalty coefficient beta", fontsize=10)
        ax_b.set_ylabel("beta (used in the next update)")
        ax_b.legend(fontsize=8, loc="best")
        for ax in (ax_r, ax_k, ax_b):
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    fig.suptitle(f"PPO-clip vs PPO adaptive-KL, same config otherwise: mean over {seeds} seeds, "
                 "95% percentile-bootstrap bands over seeds", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "clip_vs_kl.png")


def summarise(results: dict) -> list[dict]:
    rows = []
    for env_id, res in results.items():
        for name, r in res.items():
            final = r["returns"][:, -1]
            m, lo, hi = common.boot_ci(final)
            kl = r["kl"]
            target = r["config"].kl_target
            rows.append(dict(
                env=env_id, algo=name, seeds=final.size, env_steps=int(r["steps"][-1]), seconds=round(r["seconds"], 1),
                final_return_mean=m, final_return_lo=lo, final_return_hi=hi,
                auc_return_mean=float(r["returns"].mean()),
                kl_median=float(np.median(kl)), kl_p90=float(np.quantile(kl, 0.9)), kl_max=float(kl.max()),
                frac_updates_kl_above_1_5_target=float((kl > 1.5 * target).mean()),
                frac_updates_kl_below_target_over_1_5=float((kl < target / 1.5).mean()),
                beta_final_median=float(np.median(r["beta"][:, -1])), beta_min=float(r["beta"].min()),
                beta_max=float(r["beta"].max()), clip_frac_mean=float(r["clip_frac"].mean()),
            ))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/clip_vs_kl") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    machine = common.machine()
    seeds = 2 if args.quick else args.seeds
    results = {}
    for env_id, (total, num_evals, overrides) in ENVS.items():
        results[env_id] = run_env(env_id, total // 10 if args.quick else total, 4 if args.quick else num_evals,
                                  overrides, seeds)
    plot(results, out, seeds)
    rows = summarise(results)
    common.write_csv(out / "summary.csv", rows)
    info = dict(machine=machine, wall_s=round(time.perf_counter() - t0, 1), summary=rows,
                configs={f"{e} {n}": str(r["config"]) for e, res in results.items() for n, r in res.items()})
    (out / "run_info.json").write_text(json.dumps(info, indent=1, default=str))
    print(json.dumps(info, indent=1, default=str))


if __name__ == "__main__":
    main()
