"""``clip_vs_kl.png``: per env, greedy return, KL per update and PPO-KL's beta over training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting

COLORS = {"PPO-clip": "tab:blue", "PPO-KL (adaptive beta)": "tab:orange"}


def plot(results: dict, out: Path, seeds: int, first_seed: int) -> None:
    plt = common.pyplot()
    words = reporting.interval_words(seeds)
    env_ids = list(results)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16, 4.3 * len(env_ids)))
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    kilo = FuncFormatter(lambda x, _: f"{x / 1000:g}k" if x else "0")
    for row, env_id in enumerate(env_ids):
        ax_r, ax_k, ax_b = axes[row]
        k_range, b_range = [np.inf, 0.0], [np.inf, 0.0]  # what the log axes must show
        for name, r in results[env_id].items():
            c = COLORS[name]
            m, lo, hi = common.boot_band(r["returns"])
            ax_r.plot(r["steps"], m, color=c, marker=".", label=f"{name}: mean, {words['legend']}")
            ax_r.fill_between(r["steps"], lo, hi, color=c, alpha=0.2, linewidth=0)
            u = np.arange(1, r["kl"].shape[1] + 1) * r["per_update"]
            m, lo, hi = common.boot_band(r["kl"])
            ax_k.plot(u, m, color=c, linewidth=1.2, label=name)
            ax_k.fill_between(u, lo, hi, color=c, alpha=0.2, linewidth=0)  # the whole band: it may run below the axis
            # the log axis stops at a tenth of the smallest mean: a band edge near 0 would stretch it
            k_range = [min(k_range[0], np.maximum(lo, m.min() / 10).min()), max(k_range[1], hi.max())]
            if r["config"].loss == "kl":
                m, lo, hi = common.boot_band(r["beta"])
                ax_b.plot(u, m, color=c, linewidth=1.4, label=f"mean over seeds, {words['legend']}")
                ax_b.fill_between(u, lo, hi, color=c, alpha=0.2, linewidth=0)
                for s in range(min(3, r["beta"].shape[0])):
                    ax_b.plot(u, r["beta"][s], color=c, linewidth=0.6, alpha=0.5, drawstyle="steps-post",
                              label=f"{common.seeds_text(first_seed, min(3, r['beta'].shape[0]))}, one each" if s == 0 else None)
                b_range = [min(r["beta"].min(), lo.min()), max(r["beta"].max(), hi.max())]
                target = r["config"].kl_target
        ax_k.axhline(target, color="black", linestyle="--", linewidth=1, label=f"d_targ = {target:g}")
        ax_k.axhspan(target / 1.5, target * 1.5, color="gray", alpha=0.12, label="beta kept (d_targ/1.5 .. 1.5 d_targ)")
        ax_r.set_title(f"{env_id}: greedy return (10 episodes)", fontsize=10)
        ax_r.set_ylabel("return")
        ax_r.legend(fontsize=8, loc="lower right")
        # log axes with room below the data for the legend (lower left)
        ax_k.set_yscale("log")
        lo_k, hi_k = min(k_range[0], target / 1.5), max(k_range[1], target * 1.5)
        ax_k.set_ylim(lo_k / (hi_k / lo_k) ** 0.45, hi_k * 1.5)
        ax_k.set_title(f"{env_id}: KL(pi_old || pi_new) after each update", fontsize=10)
        ax_k.set_ylabel("mean KL over the batch")
        ax_k.legend(fontsize=7, loc="lower left", ncol=2)
        ax_b.set_yscale("log", base=2)
        lo_b, hi_b = b_range
        ax_b.set_ylim(lo_b / max(hi_b / lo_b, 4) ** 0.4, hi_b * 1.5)
        ax_b.yaxis.set_major_locator(LogLocator(base=2, numticks=9))
        ax_b.yaxis.set_minor_formatter(NullFormatter())
        ax_b.yaxis.set_major_formatter(FuncFormatter(lambda y, _: reporting.pow2(y)))
        ax_b.set_title(f"{env_id}: PPO-KL's penalty coefficient beta", fontsize=10)
        ax_b.set_ylabel("beta (used in the next update)")
        ax_b.legend(fontsize=8, loc="lower left")
        for ax in (ax_r, ax_k, ax_b):
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_formatter(kilo)
    fig.suptitle(f"PPO-clip vs PPO adaptive-KL, same config otherwise: mean over {common.seeds_text(first_seed, seeds)}, "
                 f"{'95% percentile-bootstrap bands over seeds' if seeds >= reporting.BOOTSTRAP_SEEDS else 'bands: ' + words['bands']}",
                 fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "clip_vs_kl.png")
