"""Figures of the three questions (data: the .npz files run.py saves)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common

BETA_COLORS = ["tab:red", "tab:orange", "tab:olive", "tab:green", "tab:blue", "tab:purple"]
ALGO_COLORS = {"ppo": "tab:blue", "ppo-kl": "tab:orange", "rloo": "tab:green", "grpo": "tab:red"}


def kl_penalty(sweep: dict, bon: dict, path: Path, batch: int = 64) -> Path:
    """Q1: gold and proxy against KL(pi || SFT) along training, per beta (mean over seeds), best-of-n beside."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for i, beta in enumerate(sweep["betas"]):
        c = BETA_COLORS[i % len(BETA_COLORS)]
        kl = sweep["kl"][i].mean(0)
        axes[0].plot(kl, sweep["gold"][i].mean(0), color=c, label=f"PPO beta={beta:g}")
        axes[1].plot(kl, sweep["proxy"][i].mean(0), color=c, label=f"PPO beta={beta:g}")
        x = np.arange(1, sweep["gold"].shape[-1] + 1)
        axes[2].plot(x, sweep["gold"][i].mean(0), color=c, label=f"gold, beta={beta:g}")
        axes[2].plot(x, sweep["proxy"][i].mean(0), color=c, ls="--", lw=0.9)
    for ax, key in ((axes[0], "gold"), (axes[1], "proxy")):
        ax.plot(bon["kl"], bon[key].mean(1), "k-o", ms=3, label="best-of-n of SFT (n = %s; KL: its upper bound)" % ",".join(str(int(n)) for n in bon["ns"]))
        ax.set_xlabel("KL(pi || pi_SFT) per response, nats")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("gold reward (hidden)")
    axes[0].set_title("gold reward against KL")
    axes[1].set_ylabel("proxy reward (reward model)")
    axes[1].set_title("proxy reward against KL")
    axes[2].set_xlabel(f"PPO update ({batch} responses each)")
    axes[2].set_ylabel("reward (solid: gold, dashed: proxy)")
    axes[2].set_title("over training")
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, path)


def algorithms(algos: dict, path: Path) -> Path:
    """Q2: gold reward and KL against sampled responses per algorithm (mean, min-max band), final held-out gold and wall time."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.0))
    names = list(algos)
    for name in names:
        m = algos[name]
        c = ALGO_COLORS.get(name, "k")
        u = m["gold"].shape[-1]
        x = np.arange(1, u + 1) * int(m["responses"]) / u
        for ax, key in ((axes[0], "gold"), (axes[1], "kl")):
            ax.plot(x, m[key].mean(0), color=c, label=name)
            ax.fill_between(x, m[key].min(0), m[key].max(0), color=c, alpha=0.15)
    axes[0].set_title("gold reward of the batch")
    axes[1].set_title("KL(pi || pi_SFT) per response")
    for ax in axes[:2]:
        ax.set_xlabel("responses sampled (per seed)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    means = [algos[n]["final_gold"].mean() for n in names]
    cis = [common.boot_ci(algos[n]["final_gold"])[1:] for n in names]
    err = np.array([[m - lo for m, (lo, hi) in zip(means, cis)], [hi - m for m, (lo, hi) in zip(means, cis)]])
    axes[2].bar(names, means, yerr=err, color=[ALGO_COLORS.get(n, "k") for n in names], capsize=4)
    axes[2].set_title("held-out gold after training\n(mean; bars: percentile bootstrap over seeds, with 2-3 their range)", fontsize=9)
    axes[2].grid(alpha=0.3, axis="y")
    run_s = [algos[n]["seconds"][1] for n in names]
    comp_s = [algos[n]["seconds"][0] for n in names]
    axes[3].bar(names, comp_s, color="lightgray", label="compile")
    axes[3].bar(names, run_s, bottom=comp_s, color=[ALGO_COLORS.get(n, "k") for n in names], label="run")
    axes[3].set_title("wall seconds (all seeds vmapped)")
    axes[3].legend(fontsize=8)
    fig.tight_layout()
    return common.save(fig, path)


def rm_accuracy(sweep: dict, heldout: np.ndarray, path: Path) -> Path:
    """Q3: the reward model's pairwise accuracy (vs gold) on the policy's own samples during PPO, per beta,
    against its held-out accuracy on SFT samples."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.0))
    for i, beta in enumerate(sweep["betas"]):
        c = BETA_COLORS[i % len(BETA_COLORS)]
        acc = sweep["rm_accuracy"][i]  # [S, U]
        k = min(5, acc.shape[-1])  # running mean over updates: each batch has only 32 pairs
        sm = np.array([np.convolve(np.nan_to_num(a, nan=np.nanmean(a)), np.ones(k) / k, mode="valid") for a in acc])
        x = np.arange(k, acc.shape[-1] + 1)
        axes[0].plot(x, sm.mean(0), color=c, label=f"beta={beta:g}")
        axes[1].plot(sweep["kl"][i].mean(0)[k - 1:], sm.mean(0), color=c, label=f"beta={beta:g}")
    for ax in axes:
        ax.axhline(np.mean(heldout), color="k", ls="--", label=f"held-out (SFT samples) {np.mean(heldout):.2f}")
        ax.set_ylabel("RM pairwise accuracy vs gold")
        ax.grid(alpha=0.3)
    axes[0].set_xlabel("PPO update")
    axes[1].set_xlabel("KL(pi || pi_SFT) per response, nats")
    axes[0].set_title("on the policy's samples, running mean of 5 updates")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return common.save(fig, path)
