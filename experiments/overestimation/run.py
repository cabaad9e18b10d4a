"""Does Q-learning overestimate, and does Double Q-learning fix it?

    python experiments/overestimation/run.py            # writes tabular.png, deep.png and CSVs beside this file
    python experiments/overestimation/run.py --quick    # a small smoke run (into --out, default /tmp)

1. Tabular: the maximisation-bias MDP of Sutton & Barto (2018, Example 6.7, Figure 6.5), Q-learning
   and Double Q-learning, 10,000 seeds each (vmapped), 300 episodes, epsilon 0.1, alpha 0.1, gamma 1.
2. Deep: DQN and Double DQN on CartPole-v1 and Acrobot-v1 (tuned configs of rl_zoo/hyperparams/dqn.yaml;
   Acrobot with 64 instead of 256 hidden units to fit the time budget), several seeds vmapped: the
   mean max_a Q over replay minibatch states during training, and on the states the greedy policy
   visits against the discounted return it actually obtains from them (van Hasselt et al. 2016, fig. 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import common  # noqa: E402  (first: it sets XLA_FLAGS before jax is imported)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from deep import make_experiment, tuned_config  # noqa: E402
from maximization_bias import MaximizationBias  # noqa: E402
from tabular import TabularConfig, make_run  # noqa: E402

COLORS = {False: "tab:blue", True: "tab:orange"}
TAB_NAMES = {False: "Q-learning", True: "Double Q-learning"}
DEEP_NAMES = {False: "DQN", True: "Double DQN"}
#: env -> config overrides (beyond the tuned file) and number of evaluations
DEEP_ENVS = {
    "CartPole-v1": dict(overrides={}, num_evals=20),
    "Acrobot-v1": dict(overrides=dict(hidden_size=64), num_evals=20),
}


def tabular(out: Path, seeds: int) -> dict:
    env = MaximizationBias()
    logs = {}
    for double in (False, True):
        config = TabularConfig(double=double)
        with common.Timer(f"tabular {TAB_NAMES[double]}, {seeds} seeds"):
            run = jax.jit(jax.vmap(make_run(config, env)))
            logs[double] = jax.tree.map(np.asarray, run(jax.random.split(jax.random.key(double), seeds)))
    episodes = np.arange(1, config.episodes + 1)

    plt = common.pyplot()
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    rows = [dict(episode=int(e)) for e in episodes]
    summary = {}
    for double, log in logs.items():
        name, c = TAB_NAMES[double], COLORS[double]
        m, lo, hi = common.t_band(100.0 * log.left.astype(float))
        ax0.plot(episodes, m, color=c, label=f"{name}")
        ax0.fill_between(episodes, lo, hi, color=c, alpha=0.25, linewidth=0)
        qm, qlo, qhi = common.t_band(log.q_a_left)
        ax1.plot(episodes, qm, color=c, label=f"{name}: Q(A, left)")
        ax1.fill_between(episodes, qlo, qhi, color=c, alpha=0.25, linewidth=0)
        bm, blo, bhi = common.t_band(log.max_q_b)
        ax1.plot(episodes, bm, color=c, linestyle="--", label=f"{name}: its estimate of max$_a$ q(B, a)")
        ax1.fill_between(episodes, blo, bhi, color=c, alpha=0.25, linewidth=0)
        key = "double_q" if double else "q"
        for i, r in enumerate(rows):
            r[f"{key}_left_pct"] = float(m[i])
            r[f"{key}_q_a_left"] = float(qm[i])
            r[f"{key}_max_q_b"] = float(bm[i])
        summary[name] = dict(
            peak_left_pct=float(m.max()), peak_episode=int(episodes[m.argmax()]),
            left_pct_last_50=float(m[-50:].mean()), left_pct_at_300=float(m[-1]),
            q_a_left_peak=float(qm.max()), q_a_left_at_300=float(qm[-1]), max_q_b_at_300=float(bm[-1]),
        )
    ax0.axhline(5.0, color="black", linestyle=":", label="optimal (epsilon/2 = 5%)")
    ax0.set_xlabel("episode")
    ax0.set_ylabel('% "left" actions from A')
    ax0.set_ylim(0, 100)
    ax0.set_title(f"Choice in A ({seeds:,} seeds, 95% t-interval bands)", fontsize=10)
    ax0.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.19), ncol=2)
    ax1.axhline(-0.1, color="black", linestyle=":", label="true value of both: -0.1")
    ax1.set_xlabel("episode")
    ax1.set_ylabel("value estimate")
    ax1.set_title("Estimates of q(A, left) and of max$_a$ q(B, a) (the bootstrap target), mean over seeds", fontsize=9)
    ax1.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.19))
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    fig.suptitle("Maximisation bias (Sutton & Barto 2018, Example 6.7): epsilon 0.1, alpha 0.1, gamma 1, 10 actions in B",
                 fontsize=10)
    fig.tight_layout()
    common.save(fig, out / "tabular.png")
    common.write_csv(out / "tabular.csv", rows)
    return summary


def deep(out: Path, seeds: int, quick: bool) -> dict:
    results = {}
    for env_id, spec in DEEP_ENVS.items():
        for double in (False, True):
            overrides = dict(spec["overrides"])
            if quick:
                overrides["total_timesteps"] = 10_000
            config = tuned_config(env_id, double, **overrides)
            num_evals = 5 if quick else spec["num_evals"]
            run, steps, update_steps = make_experiment(config, env_id, num_evals, eval_episodes=5, extra_steps=530)
            with common.Timer(f"{DEEP_NAMES[double]} on {env_id}, {seeds} seeds, {config.total_timesteps:,} steps") as t:
                probes, q_max, learning = jax.jit(jax.vmap(run))(jax.random.split(jax.random.key(100 + double), seeds))
                probes = jax.tree.map(np.asarray, probes)
            results[(env_id, double)] = dict(
                config=dataclasses.asdict(config), steps=steps, update_steps=update_steps, probes=probes,
                q_max=np.asarray(q_max), learning=np.asarray(learning)[0], seconds=t.s,
            )
    plot_deep(out, results, seeds)
    summary, rows = {}, []
    for (env_id, double), r in results.items():
        p = r["probes"]
        for i, s in enumerate(r["steps"]):
            row = dict(env=env_id, algo=DEEP_NAMES[double], env_steps=int(s))
            for field in ("true_value", "q_estimate", "greedy_return"):
                m, lo, hi = common.boot_band(getattr(p, field)[:, i:i + 1])
                row.update({field: float(m[0]), f"{field}_lo": float(lo[0]), f"{field}_hi": float(hi[0])})
            rows.append(row)
        last = slice(-5, None)  # the last quarter of the evaluations
        over = (p.q_estimate - p.true_value)[:, last].mean(axis=1)  # [seeds]
        summary[f"{DEEP_NAMES[double]} on {env_id}"] = dict(
            seeds=seeds, env_steps=int(r["steps"][-1]), seconds=round(r["seconds"], 1),
            config={k: v for k, v in r["config"].items()},
            final_greedy_return=float(p.greedy_return[:, -1].mean()),
            replay_q_max_last_10pct=float(r["q_max"][:, -max(1, r["q_max"].shape[1] // 10):].mean()),
            true_value_last_quarter=float(p.true_value[:, last].mean()),
            q_estimate_last_quarter=float(p.q_estimate[:, last].mean()),
            overestimate_last_quarter=common.boot_ci(over),
            overestimate_last_quarter_per_seed=[round(float(x), 2) for x in over],
        )
    common.write_csv(out / "deep.csv", rows)
    return summary


def _bin(x: np.ndarray, steps: np.ndarray, n_bins: int):
    """Average per-update values ``[seeds, U]`` into ``n_bins`` equal chunks of updates."""
    u = x.shape[1] - x.shape[1] % n_bins
    return x[:, :u].reshape(x.shape[0], n_bins, -1).mean(axis=2), steps[:u].reshape(n_bins, -1).mean(axis=1)


def plot_deep(out: Path, results: dict, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(DEEP_ENVS)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16.5, 4.3 * len(env_ids)))
    for row, env_id in enumerate(env_ids):
        ax_v, ax_o, ax_r = axes[row]
        for double in (False, True):
            r = results[(env_id, double)]
            c, name, p, steps = COLORS[double], DEEP_NAMES[double], r["probes"], r["steps"]
            learn = r["learning"]
            qb, sb = _bin(r["q_max"][:, learn], r["update_steps"][learn], min(50, int(learn.sum())))
            m, lo, hi = common.boot_band(qb)
            ax_v.plot(sb, m, color=c, linewidth=1.6, label=name)
            ax_v.fill_between(sb, lo, hi, color=c, alpha=0.2, linewidth=0)
            m, lo, hi = common.boot_band(p.q_estimate)
            ax_v.plot(steps, m, color=c, linestyle=":", marker=".")
            m, lo, hi = common.boot_band(p.true_value)
            ax_v.plot(steps, m, color=c, linestyle="--", linewidth=1.6)
            ax_v.fill_between(steps, lo, hi, color=c, alpha=0.15, linewidth=0)
            m, lo, hi = common.boot_band(p.q_estimate - p.true_value)
            ax_o.plot(steps, m, color=c, linewidth=1.6, marker=".", label=name)
            ax_o.fill_between(steps, lo, hi, color=c, alpha=0.2, linewidth=0)
            m, lo, hi = common.boot_band(p.greedy_return)
            ax_r.plot(steps, m, color=c, linewidth=1.6, marker=".", label=name)
            ax_r.fill_between(steps, lo, hi, color=c, alpha=0.2, linewidth=0)
        gamma = results[(env_id, False)]["config"]["gamma"]
        ax_v.set_title(f"{env_id}: value estimates vs the truth (gamma {gamma:g})", fontsize=10)
        ax_v.set_ylabel("value (discounted return)")
        from matplotlib.lines import Line2D

        styles = [Line2D([], [], color="gray", linestyle="-", label="mean max$_a$Q(s, a), replay minibatch states"),
                  Line2D([], [], color="gray", linestyle=":", marker=".", label="mean max$_a$Q(s, a), greedy-policy states"),
                  Line2D([], [], color="gray", linestyle="--", label="true discounted return, greedy-policy states")]
        handles, _ = ax_v.get_legend_handles_labels()
        ax_v.legend(handles=handles + styles, fontsize=7, loc="lower right")
        ax_o.axhline(0.0, color="black", linewidth=0.8)
        ax_o.set_title(f"{env_id}: estimate minus truth on greedy-policy states", fontsize=10)
        ax_o.set_ylabel("max$_a$Q(s, a) - discounted return from s")
        ax_o.legend(fontsize=8)
        ax_r.set_title(f"{env_id}: greedy policy's (undiscounted) episode return", fontsize=10)
        ax_r.set_ylabel("episode return")
        ax_r.legend(fontsize=8)
        for ax in (ax_v, ax_o, ax_r):
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    fig.suptitle(f"DQN vs Double DQN: mean over {seeds} seeds, 95% percentile-bootstrap bands over seeds "
                 "(greedy probes: 5 episodes per point)", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "deep.png")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--out", default=None, help="output folder (default: beside this script; /tmp/overestimation with --quick)")
    ap.add_argument("--seeds", type=int, default=8, help="seeds of the deep runs (default 8)")
    ap.add_argument("--tabular-seeds", type=int, default=10_000)
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/overestimation") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    info = dict(machine=common.machine())
    tab_seeds = 500 if args.quick else args.tabular_seeds
    info["tabular"] = tabular(out, tab_seeds)
    info["deep"] = deep(out, 2 if args.quick else args.seeds, args.quick)
    info["wall_s"] = round(time.perf_counter() - t0, 1)
    (out / "summary.json").write_text(json.dumps(info, indent=1, default=str))
    print(json.dumps(info, indent=1, default=str))
    print(f"total {info['wall_s']:.0f}s")


if __name__ == "__main__":
    main()
