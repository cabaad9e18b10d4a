"""The stability experiment's figures: ``stability.png`` (measures against the step size),
``curves.png`` (return and KL over training) and ``drop_vs_kl.png`` (every run by its mean KL)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.stability.compute import ENV, Sweep, collapsed, worst_drop

COLORS = {"VPG": "tab:red", "PPO-clip": "tab:blue", "PPO-KL": "tab:orange", "TRPO": "tab:green"}


def _seeds(results: dict[str, Sweep], seeds: int) -> str:
    """"seeds 1000–1007": the seeds of every setting."""
    return common.seeds_text(next(iter(results.values())).first_seed, seeds)


def plot_drop_vs_kl(results: dict[str, Sweep], out: Path, seeds: int) -> None:
    """Every run as one point: its mean per-update KL against its worst drop and its final return,
    so that the algorithms are compared at equal policy change per update."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for name, r in results.items():
        kl = r.kl.mean(axis=-1).ravel()
        axes[0].scatter(kl, worst_drop(r.returns).ravel(), s=14, alpha=0.6, color=COLORS[name], label=name, linewidths=0)
        axes[1].scatter(kl, r.returns[..., -1].ravel(), s=14, alpha=0.6, color=COLORS[name], label=name, linewidths=0)
    # a binned mean per algorithm, to guide the eye
    bins = np.logspace(-6.5, 1, 16)
    for name, r in results.items():
        kl = r.kl.mean(axis=-1).ravel()
        for ax, y in ((axes[0], worst_drop(r.returns).ravel()), (axes[1], r.returns[..., -1].ravel())):
            idx = np.digitize(kl, bins)
            xs, ys = [], []
            for b in np.unique(idx):
                sel = idx == b
                if sel.sum() >= 3:
                    xs.append(np.exp(np.log(kl[sel]).mean()))
                    ys.append(y[sel].mean())
            ax.plot(xs, ys, color=COLORS[name], linewidth=1.5)
    axes[0].set_ylabel("worst drop between consecutive evaluations")
    axes[1].set_ylabel("final greedy return")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("mean KL(pi_old || pi_new) per update of the run")
        ax.grid(alpha=0.3)

    fig.suptitle(f"{ENV}: every run of the sweep (all step sizes, {_seeds(results, seeds)} each) placed by how far it moved "
                 "the policy per update; lines: mean within KL bins of >= 3 runs", fontsize=10)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()  # below the panels, after the layout
    fig.legend(handles, labels, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels),
               title="dots: one run each; lines: mean within KL bins", title_fontsize=9)
    common.save(fig, out / "drop_vs_kl.png")


def plot_summary(results: dict[str, Sweep], out: Path, seeds: int) -> None:
    plt = common.pyplot()
    names = list(results)
    fig, axes = plt.subplots(4, len(names), figsize=(4.1 * len(names), 13.5), sharey="row")
    rng = np.random.default_rng(0)
    for j, name in enumerate(names):
        r = results[name]
        values = np.asarray(r.values)
        final = r.returns[..., -1]  # [V, S]
        drop = worst_drop(r.returns)  # [V, S]
        kl_mean = r.kl.mean(axis=-1)  # [V, S]
        kl_max = r.kl.max(axis=-1)
        reached, fell = collapsed(r.returns)  # [V, S]
        c = COLORS[name]
        ax = axes[3, j]
        k = fell.sum(axis=1)
        lo, hi = common.wilson(k, fell.shape[1])
        ax.bar(np.arange(len(values)), k / fell.shape[1], color=c, alpha=0.7, edgecolor="black",
               label="fraction of seeds")
        ax.errorbar(np.arange(len(values)), k / fell.shape[1], yerr=[k / fell.shape[1] - lo, hi - k / fell.shape[1]],
                    fmt="none", color="black", capsize=3, label="95% Wilson interval")
        n_seeds = fell.shape[1]
        for v in range(len(values)):
            solved = int(reached[v].sum())
            ax.text(v, 1.02, f"{k[v]}/{n_seeds}" + ("" if solved == n_seeds else f"\n({solved} solved)"),
                    ha="center", va="bottom", fontsize=7)
        ax.set_xticks(np.arange(len(values)), [f"{x:g}" for x in values], fontsize=8)
        ax.set_ylim(0, 1.2)
        ax.set_xlabel(f"{r.field} (swept)")
        ax.grid(alpha=0.3, axis="y")
        if j == 0:
            ax.set_ylabel("fraction of seeds that collapsed after\nsolving: reached >= 475, later < 250")
        for i, (metric, ylabel) in enumerate(((final, "final greedy return"),
                                              (drop, "worst drop between consecutive evaluations"),
                                              (kl_mean, "KL(pi_old || pi_new) per update"))):
            ax = axes[i, j]
            pts = [common.boot_ci(metric[v]) for v in range(len(values))]
            m = np.array([p[0] for p in pts])
            lo = np.array([p[1] for p in pts])
            hi = np.array([p[2] for p in pts])
            jitter = np.exp(rng.uniform(-0.12, 0.12, metric.shape))
            ax.scatter((values[:, None] * jitter).ravel(), metric.ravel(), s=16, color=c, alpha=0.55, linewidths=0, zorder=3,
                       label="one seed (mean over updates)" if i == 2 else "one seed")
            ax.errorbar(values, m, yerr=[m - lo, hi - m], color="black", marker="o", markersize=4, capsize=3,
                        linewidth=1.0, label=f"mean, {reporting.interval_words(seeds)['legend']}", zorder=2)
            if i == 2:
                ax.scatter((values[:, None] * jitter).ravel(), kl_max.ravel(), s=10, facecolors="none", edgecolors=c,
                           alpha=0.5, linewidths=0.7, label="one seed, largest update")
                ax.set_yscale("log")
                if name == "TRPO":
                    ax.plot(values, values, color="gray", linestyle="--", linewidth=1, label="KL = max_kl")
            ax.set_xscale("log")
            ax.grid(alpha=0.3)
            if j == 0:
                ax.set_ylabel(ylabel)
            if i == 0:
                ax.set_title(name, fontsize=11, color=c)
    fig.suptitle(f"{ENV}, {results[names[0]].steps[-1]:,} env steps, batch 1024, {_seeds(results, seeds)} per setting: "
                 f"dots = seeds, black = mean with {reporting.interval_words(seeds)['band']}", fontsize=11)
    fig.tight_layout()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    proxies = [  # one legend for all panels, below them (colours: the algorithm of the column)
        Line2D([], [], color="gray", marker="o", linestyle="none", alpha=0.6, label="one seed (KL row: its mean over updates)"),
        Line2D([], [], color="gray", marker="o", markerfacecolor="none", linestyle="none",
               label="one seed, largest single update (KL row)"),
        Line2D([], [], color="black", marker="o", markersize=4, label=f"mean over seeds, {reporting.interval_words(seeds)['legend']}"),
        Line2D([], [], color="gray", linestyle="--", label="KL = max_kl (TRPO)"),
        Patch(facecolor="gray", alpha=0.7, edgecolor="black", label="fraction of seeds (bottom row)"),
        Line2D([], [], color="black", marker="_", markersize=10, label="95% Wilson interval (bottom row)"),
    ]
    fig.legend(handles=proxies, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
    common.save(fig, out / "stability.png")


def plot_curves(results: dict[str, Sweep], out: Path, seeds: int) -> None:
    plt = common.pyplot()
    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(4.1 * len(names), 7.6), sharey="row")
    cmap = plt.get_cmap("viridis")
    for j, name in enumerate(names):
        r = results[name]
        n = len(r.values)
        for v, val in enumerate(r.values):
            color = cmap(v / max(n - 1, 1))
            m, lo, hi = common.boot_band(r.returns[v])
            ax = axes[0, j]
            ax.plot(r.steps, m, color=color, linewidth=1.4, label=f"{val:g}")
            ax.fill_between(r.steps, lo, hi, color=color, alpha=0.15, linewidth=0)
            kl = r.kl[v]  # [S, U]
            u = np.arange(1, kl.shape[1] + 1) * r.per_update
            km, klo, khi = common.boot_band(kl)
            axes[1, j].plot(u, km, color=color, linewidth=1.0)
            axes[1, j].fill_between(u, np.maximum(klo, 1e-8), khi, color=color, alpha=0.12, linewidth=0)
        axes[0, j].set_title(f"{name}: greedy return", fontsize=10)
        handles, labels = axes[0, j].get_legend_handles_labels()
        axes[1, j].legend(handles, labels, title=f"{r.field} (line colour)", fontsize=7.5, title_fontsize=7.5,
                          loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3)
        axes[1, j].set_title(f"{name}: KL(pi_old || pi_new) each update", fontsize=10)
        axes[1, j].set_yscale("log")
        for ax in axes[:, j]:
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    axes[0, 0].set_ylabel("greedy return (5 episodes)")
    axes[1, 0].set_ylabel("mean KL over the batch")
    fig.suptitle(f"{ENV}: mean over {_seeds(results, seeds)} per setting, {reporting.interval_words(seeds)['bands']}", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "curves.png")
