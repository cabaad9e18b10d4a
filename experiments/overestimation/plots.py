"""The overestimation experiment's figures: ``tabular.png`` (choice in A and value estimates per
episode, t-intervals over seeds) and ``deep.png`` (DQN vs Double DQN: estimates, estimate minus
truth, greedy return; bootstrap bands over seeds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.overestimation.compute import DEEP_ENVS, DEEP_NAMES, EVAL_EPISODES, TAB_NAMES, Tabular

COLORS = {False: "tab:blue", True: "tab:orange"}


def plot_tabular(tab: Tabular, out: Path, seeds: int) -> None:
    plt = common.pyplot()
    config, env, episodes = tab.config, tab.env, tab.episodes
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    for double, log in tab.logs.items():
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
    ax0.axhline(50.0 * config.epsilon, color="black", linestyle=":",
                label=f"optimal (epsilon/2 = {50.0 * config.epsilon:g}%)")
    ax0.set_xlabel("episode")
    ax0.set_ylabel('% "left" actions from A')
    ax0.set_ylim(0, 100)
    ax0.set_title(f"Choice in A ({seeds:,} seeds, 95% t-interval bands)", fontsize=10)
    ax0.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.19), ncol=2)
    true_value = float(env.default_params.reward_mean)
    ax1.axhline(true_value, color="black", linestyle=":", label=f"true value of both: {true_value:g}")
    ax1.set_xlabel("episode")
    ax1.set_ylabel("value estimate")
    ax1.set_title("Estimates of q(A, left) and of max$_a$ q(B, a) (the bootstrap target), mean over seeds", fontsize=9)
    ax1.legend(fontsize=8, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.19))
    for ax in (ax0, ax1):
        ax.grid(alpha=0.3)
    fig.suptitle(f"Maximisation bias (Sutton & Barto 2018, Example 6.7): epsilon {config.epsilon:g}, alpha {config.alpha:g}, "
                 f"gamma {config.gamma:g}, {env.num_b_actions} actions in B", fontsize=10)
    fig.tight_layout()
    common.save(fig, out / "tabular.png")


def _bin(x: np.ndarray, steps: np.ndarray, n_bins: int):
    """Average per-update values ``[seeds, U]`` into ``n_bins`` consecutive chunks of updates, every update
    in one (chunk sizes differ by at most one: cutting U to a multiple of ``n_bins`` dropped the last 42
    of CartPole's 192 learning updates)."""
    chunks = np.array_split(np.arange(x.shape[1]), n_bins)
    return np.stack([x[:, c].mean(axis=1) for c in chunks], axis=1), np.array([steps[c].mean() for c in chunks])


def plot_deep(results: dict, out: Path, seeds: int, first_seed: int = common.REPORT_SEED) -> None:
    """``deep.png``: one row per env (estimates vs truth, their gap, greedy return); the title names the seeds."""
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
            ax_v.fill_between(steps, lo, hi, color=c, alpha=0.1, linewidth=0)
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
    fig.suptitle(f"DQN vs Double DQN: mean over {common.seeds_text(first_seed, seeds)}, {reporting.interval_words(seeds)['bands']} "
                 f"(greedy probes: {EVAL_EPISODES} episodes per point)", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "deep.png")
