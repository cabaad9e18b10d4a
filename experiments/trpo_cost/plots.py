"""``trpo_cost.png``: per env, where the time goes (rollout vs learning per 1,000 env steps), the
backward-pass work per env step, and greedy return against training wall seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.trpo_cost import compute
from experiments.trpo_cost.compute import ALGOS, ENVS, Curve
from rl_zoo import runs

COLORS = {"PPO-clip": "tab:blue", "TRPO": "tab:green"}


def plot(curves: dict[tuple, Curve], summaries: list[dict], out: Path, seeds: int) -> None:
    plt = common.pyplot()
    env_ids = list(ENVS)
    fig, axes = plt.subplots(len(env_ids), 3, figsize=(16, 4.4 * len(env_ids)))
    by = {(s["env"], s["algo"]): s for s in summaries}
    for row, env_id in enumerate(env_ids):
        ax_t, ax_c, ax_r = axes[row]
        names = list(ALGOS)
        x = np.arange(len(names))
        roll = [by[(env_id, n)]["rollout_ms_per_update_median"] * 1000 / by[(env_id, n)]["env_steps_per_update"] for n in names]
        learn = [by[(env_id, n)]["learn_ms_per_1000_env_steps"] for n in names]
        ax_t.bar(x, roll, color="lightgray", edgecolor="black", label="rollout (acting + env)")
        ax_t.bar(x, learn, bottom=roll, color=[COLORS[n] for n in names], edgecolor="black",
                 label="learning (update), in each algorithm's colour")
        for i, n in enumerate(names):
            s = by[(env_id, n)]
            text = f"{s['wall_ms_per_update_median']:.0f} ms/update\n({s['env_steps_per_update']} env steps/update)"
            if "policy_step_ms" in s:
                text += (f"\nof which, timed apart:\npolicy step (g, CG, line search) {s['policy_step_ms']:.0f} ms"
                         f"\nvalue fit {s['value_fit_ms']:.0f} ms")
            ax_t.text(i, roll[i] + learn[i], text, ha="center", va="bottom", fontsize=7.5)
        ax_t.set_xticks(x, names)
        ax_t.set_ylabel(f"wall ms per 1,000 env steps ({runs.plural(seeds, 'seed')} vmapped)")
        ax_t.set_title(f"{env_id}: where the time goes (median over segments)", fontsize=10)
        ax_t.legend(fontsize=8, loc="upper left")
        ax_t.set_ylim(0, max(r + lr for r, lr in zip(roll, learn)) * 1.6)
        # backward-pass work per env step, stacked, once per network a pass runs through (compute.backward_parts)
        colors = {"policy gradients": "tab:blue", "Fisher-vector products": "tab:purple", "value gradients": "tab:olive"}
        shown = {"Fisher-vector products": f"Fisher-vector products ({compute.FVP_PASSES} passes each)"}
        bottom = np.zeros(len(names))
        for label, color in colors.items():
            vals = np.array([compute.backward_parts(by[(env_id, n)])[label] for n in names])
            ax_c.bar(x, vals, bottom=bottom, color=color, edgecolor="black", label=shown.get(label, label))
            bottom += vals
        for i, n in enumerate(names):
            s = by[(env_id, n)]
            text = f"per update: {s['policy_gradients']} grad x {s['policy_gradient_samples']}"
            if s.get("policy_gradient_networks", 1) == 2:
                text += "\n(joint loss: through the policy\nand the value network)"
            if s["fisher_vector_products"]:
                text += (f"\n+ {s['fisher_vector_products']} FVP x {s['fvp_samples']}"
                         f"\n+ {s['value_gradients']} value grad x {s['value_gradient_samples']}"
                         f"\n+ {s['line_search_forward_passes']:.1f} line-search forward passes")
            ax_c.text(i, bottom[i], text, ha="center", va="bottom", fontsize=7.5)
        ax_c.set_xticks(x, names)
        ax_c.set_ylim(0, bottom.max() * 1.6)
        ax_c.set_ylabel("samples x networks through a\nbackward pass per env step")
        ax_c.set_title(f"{env_id}: gradient / Fisher-vector work per env step", fontsize=10)
        ax_c.legend(fontsize=7.5, loc="upper left")
        for n in names:
            c = curves[(env_id, n)]
            m, lo, hi = common.boot_band(c.returns)
            ax_r.plot(c.train_s, m, color=COLORS[n], marker=".", label=f"{n} ({int(c.env_steps[-1]):,} env steps)")
            ax_r.fill_between(c.train_s, lo, hi, color=COLORS[n], alpha=0.2, linewidth=0)
        ax_r.set_xlabel(f"training wall seconds ({runs.plural(seeds, 'seed')} vmapped; compile and evaluation excluded)")
        ax_r.set_ylabel("greedy return (10 episodes)")
        ax_r.set_title(f"{env_id}: return against wall-clock time", fontsize=10)
        ax_r.legend(fontsize=8, loc="lower right")
        for ax in (ax_t, ax_c, ax_r):
            ax.grid(alpha=0.3)
    fig.suptitle(f"TRPO vs PPO-clip, tuned configs, same env-step budget; return: mean over "
                 f"{common.seeds_text(summaries[0].get('first_seed'), seeds)}, "
                 f"{band_caption(seeds)}", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "trpo_cost.png")


def band_caption(seeds: int) -> str:
    """The figure title's words for its bands: "95% percentile-bootstrap band" from 4 seeds, else what they are."""
    words = reporting.interval_words(seeds)
    return "95% percentile-bootstrap band" if seeds >= reporting.BOOTSTRAP_SEEDS else f"band: {words['band']}"
