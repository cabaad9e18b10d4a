"""Is the vanilla policy gradient unstable, and do trust regions help?

    python experiments/stability/run.py            # writes the PNGs and CSVs beside this file
    python experiments/stability/run.py --quick    # a small smoke run (into /tmp/stability)

VPG, PPO-clip, PPO adaptive-KL and TRPO on CartPole-v1, each across a sweep of its step size
(Adam learning rate for VPG and both PPOs, the trust-region radius max_kl for TRPO), every (value,
seed) pair trained in one compiled program (``jax.vmap`` over values and seeds). Same budget and
batch for all: 200k env steps, 1024 transitions per update (195 updates), learning rate not annealed,
a greedy evaluation (5 episodes) every 5 updates. Per run: the final return (last evaluation), the
worst drop in return between two consecutive evaluations, and the exact mean KL(pi_old || pi_new)
over the batch at each update (what each algorithm's ``Metrics`` reports).
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


ENV = "CartPole-v1"
TOTAL = 200_000
LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
MAX_KLS = [1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
#: name -> (registry name, swept field, values, overrides; batch 1024 everywhere, no annealing)
ALGOS = {
    "VPG": ("vpg", "learning_rate", LRS, dict(num_envs=8, num_steps=128, anneal_lr=False)),
    "PPO-clip": ("ppo", "learning_rate", LRS, dict(num_envs=8, num_steps=128, update_epochs=10, num_minibatches=4,
                                                   gamma=0.99, gae_lambda=0.95, anneal_lr=False)),
    "PPO-KL": ("ppo-kl", "learning_rate", LRS, dict(num_envs=8, num_steps=128, update_epochs=10, num_minibatches=4,
                                                    gamma=0.99, gae_lambda=0.95, anneal_lr=False)),
    "TRPO": ("trpo", "max_kl", MAX_KLS, dict(num_envs=8, num_steps=128)),
}
EVAL_EPISODES = 5
COLORS = {"VPG": "tab:red", "PPO-clip": "tab:blue", "PPO-KL": "tab:orange", "TRPO": "tab:green"}


def kl_of(metrics) -> np.ndarray:
    """Exact mean KL(pi_old || pi_new) per update: ``Metrics.kl`` (VPG, PPO) or ``Metrics.policy.kl`` (TRPO)."""
    return np.asarray(metrics.policy.kl if hasattr(metrics, "policy") else metrics.kl)


def worst_drop(returns: np.ndarray) -> np.ndarray:
    """``[..., E]`` -> the largest fall between consecutive evaluations (0 if it never falls)."""
    return np.maximum(-np.diff(returns, axis=-1).min(axis=-1), 0.0)


def collapsed(returns: np.ndarray, solved: float = 475.0, low: float = 250.0):
    """``[..., E]`` -> (reached ``solved`` at some evaluation, and fell below ``low`` at a later one)."""
    reached = returns >= solved
    after = np.cumsum(reached, axis=-1) > 0  # at or after the first evaluation >= solved
    return reached.any(axis=-1), (after & (returns < low)).any(axis=-1)


def wilson(k: np.ndarray, n: int, z: float = 1.96):
    """95% Wilson score interval of a binomial proportion k / n."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def run_all(seeds: int, total: int, num_evals: int, eval_episodes: int) -> dict:
    results = {}
    for name, (algo, field, values, overrides) in ALGOS.items():
        module, config = common.tuned(algo, ENV, total_timesteps=total, **overrides)
        run, steps, per_update = common.make_sweep(module, config, ENV, field, num_evals, eval_episodes)
        with common.Timer(f"{name}: {len(values)} values x {seeds} seeds x {total:,} steps") as t:
            returns, metrics = run(jnp.asarray(values, jnp.float32), jax.random.split(jax.random.key(0), seeds))
            returns = np.asarray(returns)
        results[name] = dict(field=field, values=values, steps=steps, per_update=per_update, returns=returns, kl=kl_of(metrics),
                             seconds=t.s, config=config)
    return results


def save_raw(results: dict, path: Path) -> None:
    arrays = {}
    for name, r in results.items():
        arrays[f"{name}/returns"] = r["returns"].astype(np.float32)
        arrays[f"{name}/kl"] = r["kl"].astype(np.float32)
        arrays[f"{name}/steps"] = np.asarray(r["steps"])
        arrays[f"{name}/per_update"] = np.asarray(r["per_update"])
        arrays[f"{name}/seconds"] = np.asarray(r["seconds"])
        arrays[f"{name}/total"] = np.asarray(r["config"].total_timesteps)
    np.savez_compressed(path, **arrays)


def load_raw(path: Path) -> dict:
    data = np.load(path)
    results = {}
    for name, (algo, field, values, overrides) in ALGOS.items():
        total = int(data[f"{name}/total"]) if f"{name}/total" in data else TOTAL
        _, config = common.tuned(algo, ENV, total_timesteps=total, **overrides)  # the config the run used
        results[name] = dict(field=field, values=values, returns=data[f"{name}/returns"], kl=data[f"{name}/kl"],
                             steps=data[f"{name}/steps"], per_update=int(data[f"{name}/per_update"]),
                             seconds=float(data[f"{name}/seconds"]), config=config)
    return results


def plot_drop_vs_kl(results: dict, out: Path, seeds: int) -> None:
    """Every run as one point: its mean per-update KL against its worst drop and its final return,
    so that the algorithms are compared at equal policy change per update."""
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for name, r in results.items():
        kl = r["kl"].mean(axis=-1).ravel()
        axes[0].scatter(kl, worst_drop(r["returns"]).ravel(), s=14, alpha=0.6, color=COLORS[name], label=name, linewidths=0)
        axes[1].scatter(kl, r["returns"][..., -1].ravel(), s=14, alpha=0.6, color=COLORS[name], label=name, linewidths=0)
    # a binned mean per algorithm, to guide the eye
    bins = np.logspace(-6.5, 1, 16)
    for name, r in results.items():
        kl = r["kl"].mean(axis=-1).ravel()
        for ax, y in ((axes[0], worst_drop(r["returns"]).ravel()), (axes[1], r["returns"][..., -1].ravel())):
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

    fig.suptitle(f"{ENV}: every run of the sweep (all step sizes, {seeds} seeds each) placed by how far it moved "
                 "the policy per update; lines: mean within KL bins of >= 3 runs", fontsize=10)
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()  # below the panels, after the layout
    fig.legend(handles, labels, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=len(labels),
               title="dots: one run each; lines: mean within KL bins", title_fontsize=9)
    common.save(fig, out / "drop_vs_kl.png")


def plot_summary(results: dict, out: Path, seeds: int) -> list[dict]:
    plt = common.pyplot()
    names = list(results)
    fig, axes = plt.subplots(4, len(names), figsize=(4.1 * len(names), 13.5), sharey="row")
    rows = []
    rng = np.random.default_rng(0)
    for j, name in enumerate(names):
        r = results[name]
        values = np.asarray(r["values"])
        final = r["returns"][..., -1]  # [V, S]
        drop = worst_drop(r["returns"])  # [V, S]
        kl_mean = r["kl"].mean(axis=-1)  # [V, S]
        kl_max = r["kl"].max(axis=-1)
        reached, fell = collapsed(r["returns"])  # [V, S]
        c = COLORS[name]
        ax = axes[3, j]
        k = fell.sum(axis=1)
        lo, hi = wilson(k, fell.shape[1])
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
        ax.set_xlabel(f"{r['field']} (swept)")
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
                        linewidth=1.0, label="mean, 95% bootstrap CI", zorder=2)
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
        for v, val in enumerate(values):
            rows.append(dict(algo=name, field=r["field"], value=float(val), seeds=seeds,
                             final_return_mean=float(final[v].mean()), final_return_lo=common.boot_ci(final[v])[1],
                             final_return_hi=common.boot_ci(final[v])[2], final_return_min=float(final[v].min()),
                             worst_drop_mean=float(drop[v].mean()), worst_drop_lo=common.boot_ci(drop[v])[1],
                             worst_drop_hi=common.boot_ci(drop[v])[2],
                             runs_with_drop_over_250=int((drop[v] > 250).sum()),
                             kl_per_update_mean=float(kl_mean[v].mean()), kl_per_update_median=float(np.median(r["kl"][v])),
                             kl_per_update_max=float(kl_max[v].max()),
                             seeds_reaching_475=int(reached[v].sum()), seeds_collapsing_after_475=int(fell[v].sum()), best_return_mean=float(r["returns"][v].max(axis=-1).mean())))
    fig.suptitle(f"{ENV}, {results[names[0]]['steps'][-1]:,} env steps, batch 1024, {seeds} seeds per setting: "
                 "dots = seeds, black = mean with 95% percentile-bootstrap CI over seeds", fontsize=11)
    fig.tight_layout()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    proxies = [  # one legend for all panels, below them (colours: the algorithm of the column)
        Line2D([], [], color="gray", marker="o", linestyle="none", alpha=0.6, label="one seed (KL row: its mean over updates)"),
        Line2D([], [], color="gray", marker="o", markerfacecolor="none", linestyle="none",
               label="one seed, largest single update (KL row)"),
        Line2D([], [], color="black", marker="o", markersize=4, label="mean over seeds, 95% bootstrap CI"),
        Line2D([], [], color="gray", linestyle="--", label="KL = max_kl (TRPO)"),
        Patch(facecolor="gray", alpha=0.7, edgecolor="black", label="fraction of seeds (bottom row)"),
        Line2D([], [], color="black", marker="_", markersize=10, label="95% Wilson interval (bottom row)"),
    ]
    fig.legend(handles=proxies, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3)
    common.save(fig, out / "stability.png")
    return rows


def plot_curves(results: dict, out: Path, seeds: int) -> None:
    plt = common.pyplot()
    names = list(results)
    fig, axes = plt.subplots(2, len(names), figsize=(4.1 * len(names), 7.6), sharey="row")
    cmap = plt.get_cmap("viridis")
    for j, name in enumerate(names):
        r = results[name]
        n = len(r["values"])
        for v, val in enumerate(r["values"]):
            color = cmap(v / max(n - 1, 1))
            m, lo, hi = common.boot_band(r["returns"][v])
            ax = axes[0, j]
            ax.plot(r["steps"], m, color=color, linewidth=1.4, label=f"{val:g}")
            ax.fill_between(r["steps"], lo, hi, color=color, alpha=0.15, linewidth=0)
            kl = r["kl"][v]  # [S, U]
            u = np.arange(1, kl.shape[1] + 1) * r["per_update"]
            km, klo, khi = common.boot_band(kl)
            axes[1, j].plot(u, km, color=color, linewidth=1.0)
            axes[1, j].fill_between(u, np.maximum(klo, 1e-8), khi, color=color, alpha=0.12, linewidth=0)
        axes[0, j].set_title(f"{name}: greedy return", fontsize=10)
        handles, labels = axes[0, j].get_legend_handles_labels()
        axes[1, j].legend(handles, labels, title=f"{r['field']} (line colour)", fontsize=7.5, title_fontsize=7.5,
                          loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3)
        axes[1, j].set_title(f"{name}: KL(pi_old || pi_new) each update", fontsize=10)
        axes[1, j].set_yscale("log")
        for ax in axes[:, j]:
            ax.set_xlabel("env steps")
            ax.grid(alpha=0.3)
            ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    axes[0, 0].set_ylabel("greedy return (5 episodes)")
    axes[1, 0].set_ylabel("mean KL over the batch")
    fig.suptitle(f"{ENV}: mean over {seeds} seeds per setting, 95% percentile-bootstrap bands over seeds", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "curves.png")


# --------------------------------------------------------------------------------------------------
# README.md and finding.md, written from the numbers of this run (also by --replot, from raw.npz)

KL_BINS = [(0.0, 3e-4), (3e-4, 3e-3), (3e-3, 1e-2), (1e-2, 3e-2), (3e-2, np.inf)]


def _v(x: float) -> str:
    """A swept value as in the tables: 1e-4, 3e-3, 0.1."""
    if x >= 0.1:
        return f"{x:g}"
    m, e = f"{x:.0e}".split("e")
    return f"{m}e{int(e)}"


def _k(x: float) -> str:
    """A KL value: 2e-6, 1.4e-3, 0.026, 0.56."""
    if x >= 0.01:
        return f"{x:.2g}"
    m, e = f"{x:.1e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def _list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def analyse(results: dict) -> dict:
    """Per setting and per KL bin, the facts the README and finding quote."""
    facts = {"settings": {}, "bins": {}}
    for name, r in results.items():
        per = []
        for v, val in enumerate(r["values"]):
            ret = r["returns"][v]
            reached, fell = collapsed(ret)
            n = ret.shape[0]
            per.append(dict(value=float(val), n=n, reached=int(reached.sum()), fell=int(fell.sum()),
                            final=common.boot_ci(ret[:, -1]), drop=float(worst_drop(ret).mean()),
                            kl=float(r["kl"][v].mean()), kl_max=float(r["kl"][v].max()),
                            kl_ratio_lo=float((r["kl"][v].mean(axis=-1) / val).min()),
                            kl_ratio_hi=float((r["kl"][v].mean(axis=-1) / val).max()),
                            over_radius=int((r["kl"][v].max(axis=-1) > val * (1 + 1e-4)).sum())))
            s = per[-1]
            s["reliable"] = s["reached"] == n and s["fell"] <= max(1, n // 8)
            s["good"] = s["final"][0] >= 475.0
        facts["settings"][name] = per
        kl = r["kl"].mean(axis=-1).ravel()
        reached, fell = collapsed(r["returns"])
        reached, fell = reached.ravel(), fell.ravel()
        facts["bins"][name] = [(int((fell & (kl >= lo) & (kl < hi)).sum()), int((reached & (kl >= lo) & (kl < hi)).sum()))
                               for lo, hi in KL_BINS]
    return facts


def _collapse_cell(s: dict) -> str:
    if s["reached"] == 0:
        return "— (none solved)"
    if s["reached"] < s["n"]:
        return f"{s['fell']}/{s['reached']} solved"
    return f"{s['fell']}/{s['n']}"


def _final_cell(s: dict) -> str:
    m, lo, hi = s["final"]
    if lo == hi:
        return f"{m:.0f}"
    return f"{m:.0f} ({lo:.0f}–{hi:.0f})"


def _run(s: dict, field: str) -> str:
    return f"{'lr' if field == 'learning_rate' else field} {_v(s['value'])}"


def _window(per: list[dict], key: str) -> list[dict]:
    """The longest run of consecutive settings with ``key`` true."""
    best, cur = [], []
    for s in per:
        cur = cur + [s] if s[key] else []
        if len(cur) > len(best):
            best = cur
    return best


def _frac(k: int, n: int) -> str:
    return f"{k}/{n}"


def texts(results: dict, facts: dict, seeds: int) -> dict:
    """The data-dependent paragraphs, chosen from the numbers."""
    S = facts["settings"]
    t = {}
    # VPG
    vpg = S["VPG"]
    kls = [s["kl"] for s in vpg]
    mono = all(b > a for a, b in zip(kls, kls[1:]))
    win = _window(vpg, "reliable")
    above = [s for s in vpg if win and s["value"] > win[-1]["value"]]
    below = [s for s in vpg if win and s["value"] < win[0]["value"]]
    unstable_above = bool(above) and all(s["fell"] >= max(1, s["reached"]) / 2 for s in above)
    narrow = bool(win) and len(win) <= 2 and unstable_above
    tail = []  # the largest learning rates, at each of which half or more of the seeds that solved it collapsed
    for s in reversed(vpg):
        if s["reached"] == 0 or s["fell"] < s["reached"] / 2:
            break
        tail.insert(0, s)
    t["vpg_tail"] = tail
    if narrow:
        head = "VPG is unstable above a narrow window of learning rates."
    elif win:
        head = f"VPG was reliable at learning rates {_v(win[0]['value'])}–{_v(win[-1]['value'])}"
        head += (f"; from lr {_v(tail[0]['value'])} up, half or more of its seeds collapsed after solving." if tail
                 else ".")
    else:
        head = "VPG was not reliable at any learning rate of the sweep."
    body = (f" Its per-update KL {'grows with' if mono else 'varies with'} the learning rate over "
            f"{np.log10(max(kls) / min(kls)):.0f} orders of magnitude ({_k(min(kls))} to {_k(max(kls))} across the sweep)"
            + (": nothing limits how far one step moves the policy." if mono else "."))
    if win:
        nf = sum(s["fell"] for s in win)
        body += (f" At lr {_list([_v(s['value']) for s in win])} it solved CartPole in every seed and "
                 + ("none collapsed." if nf == 0 else f"{nf} of {sum(s['n'] for s in win)} runs collapsed after solving."))
        if above:
            body += " Above that, " + "; ".join(
                f"at {_v(s['value'])}, {s['fell']} of the {s['reached']} seeds that solved it collapsed" for s in above) + "."
        for s in below:
            if s["reached"] == 0:
                body += (f" At {_v(s['value'])} it did not solve CartPole within the budget (final return "
                         f"{s['final'][0]:.0f}).")
            else:
                body += f" At {_v(s['value'])}, {s['fell']} of {s['reached']} seeds that solved it collapsed."
        if narrow:
            body += (f" So the usable range spans {_v(win[0]['value'])}–{_v(win[-1]['value'])}, and moving past it makes "
                     "collapses routine.")
    t["vpg"] = f"* **{head}**{body}"
    t["vpg_window"] = win
    t["vpg_narrow"] = narrow

    # TRPO
    trpo = S["TRPO"]
    over = sum(s["over_radius"] for s in trpo)
    lo_r, hi_r = min(s["kl_ratio_lo"] for s in trpo), max(s["kl_ratio_hi"] for s in trpo)
    twin = _window(trpo, "reliable")
    bad = [s for s in trpo if s["fell"] >= max(1, s["reached"]) / 2 and s["reached"] > 0]
    head = ("TRPO's trust region does exactly what it promises" if over == 0 else
            "TRPO's trust region holds the mean KL, but not every update")
    head += ", and that alone is not stability." if bad else "."
    lines = [f"* **{head}**",
             f"  * Its per-update KL sits at {lo_r:.2f}–{hi_r:.2f} × max_kl (mean over each run) and "
             + ("never exceeds max_kl" if over == 0 else f"exceeded max_kl in {over} runs")
             + f" (largest single update: {_k(trpo[0]['kl_max'])} at max_kl {_v(trpo[0]['value'])}, "
             f"{_k(trpo[-1]['kl_max'])} at {_v(trpo[-1]['value'])})."]
    if twin:
        lines.append(f"  * With max_kl {_list([_v(s['value']) for s in twin])} it solved CartPole in every seed and "
                     f"{_list([_frac(s['fell'], s['n']) for s in twin])} collapsed after solving.")
    if bad:
        lines.append(f"  * At max_kl {_list([_v(s['value']) for s in bad])} half or more of the seeds that solved it collapsed "
                     f"({_list([_frac(s['fell'], s['reached']) for s in bad])}).")
    if over == 0 and hi_r / max(lo_r, 1e-12) < 3:
        lines.append("  * What TRPO buys is a step size that means the same thing on every update, whatever the "
                     "gradient scale." + (" A radius that is too large still breaks it." if bad else ""))
    t["trpo"] = "\n".join(lines)
    t["trpo_over"], t["trpo_bad"] = over, bad

    # PPO-clip
    clip = S["PPO-clip"]
    wins = {n: _window(S[n], "good") for n in ("VPG", "PPO-clip", "PPO-KL")}
    cw = wins["PPO-clip"]
    widest = bool(cw) and len(cw) > max(len(wins["VPG"]), len(wins["PPO-KL"]))
    lines = []
    if cw:
        dec = np.log10(cw[-1]["value"] / cw[0]["value"])
        head = ("PPO-clip tolerates the widest range of learning rates." if widest else
                f"PPO-clip's mean final return stayed near 500 at lr {_v(cw[0]['value'])}–{_v(cw[-1]['value'])}.")
        lines.append(f"* **{head}** From {_v(cw[0]['value'])} to {_v(cw[-1]['value'])} ({dec:.1f} decades) its mean final "
                     f"return stayed at or above {min(s['final'][0] for s in cw):.0f}, and its mean per-update KL within "
                     f"{_k(min(s['kl'] for s in cw))}–{_k(max(s['kl'] for s in cw))} across that range.")
        for s in clip:
            if s["value"] > cw[-1]["value"]:
                lines.append(f"  At {_v(s['value'])} the clip no longer holds the policy (mean KL {_k(s['kl'])}, single "
                             f"updates up to {_k(s['kl_max'])}) and {s['fell']} of {s['reached']} seeds that solved it "
                             "collapsed.")
    else:
        lines.append("* **PPO-clip did not keep a mean final return of 475 at any learning rate of the sweep.**")
    small = [s for s in clip[:len(clip) // 2] if s["reached"] > 0 and s["fell"] >= s["reached"] / 2]
    if small:
        s0 = small[0]
        vk = min(S["VPG"], key=lambda v: abs(np.log10(v["kl"] / s0["kl"])))
        drops = _list([f"{s['drop']:.0f}" for s in small])
        recovered = all(s["final"][0] >= 475 for s in small)
        text = (f"  Unexpectedly, at its *smallest* learning rate{'s' if len(small) > 1 else ''} "
                f"({_list([_v(s['value']) for s in small])}) it often collapsed after solving"
                + (" and recovered" if recovered else "")
                + f" ({_list([_frac(s['fell'], s['reached']) for s in small])} runs; worst drops ≈ {drops}).")
        if abs(np.log10(vk["kl"] / s0["kl"])) < 0.5:
            text += (f" At lr {_v(s0['value'])} its updates move the policy about as far as VPG's at lr {_v(vk['value'])} "
                     f"(mean KL {_k(s0['kl'])} vs {_k(vk['kl'])}), where {vk['fell']} of {vk['reached']} VPG seeds "
                     "that solved it collapsed.")
        text += " This run does not explain why."
        lines.append(text)
    t["clip"] = "\n".join(lines)
    t["clip_window"], t["clip_widest"] = cw, widest

    # PPO-KL
    kl = S["PPO-KL"]
    targ = float(results["PPO-KL"]["config"].kl_target) if results["PPO-KL"].get("config") is not None else 0.01
    upper = kl[1:]
    m_lo, m_hi = min(s["kl"] for s in upper), max(s["kl"] for s in upper)
    biggest = max(s["kl_max"] for s in kl)
    holds = m_hi / m_lo < 3
    head = ("PPO adaptive-KL holds the mean KL" if holds else "PPO adaptive-KL's mean KL moves with the learning rate")
    head += (" but not the worst update." if biggest > 10 * targ else ".")
    text = (f"* **{head}** For lr ≥ {_v(upper[0]['value'])} its mean KL stayed at {_k(m_lo)}–{_k(m_hi)} "
            f"({m_lo / targ:.1f}–{m_hi / targ:.1f} × d_targ = {targ:g}). Single updates reached KL ≈ {biggest:.2g} "
            "(the hollow circles), because beta reacts one batch late.")
    cmp = [f"{_v(a['value'])}: {_frac(a['fell'], a['reached'])} vs {_frac(b['fell'], b['reached'])}"
           for a, b in zip(kl, clip) if a["reached"] and b["reached"]]
    text += f" Collapses after solving, PPO-KL vs PPO-clip, by learning rate: {'; '.join(cmp)}."
    a, b = kl[-1], clip[-1]
    if b["reached"] and b["fell"] >= b["reached"] / 2 and a["fell"] < b["fell"]:
        text += (f" At lr {_v(a['value'])}, where PPO-clip broke down ({_frac(b['fell'], b['reached'])}), the penalty "
                 f"kept the mean KL at {_k(a['kl'])}, and only {_frac(a['fell'], a['reached'])} collapsed.")
    if holds:
        text += " Adaptive beta compensates for the learning rate, so its per-update KL barely depends on it."
    t["kl"] = text

    # KL bins
    bins = facts["bins"]
    names = list(results)
    hdr = "| mean KL per update of the run | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names)
    labels = [f"< {_k(KL_BINS[0][1])}"] + [f"{_k(lo)} – {_k(hi)}" for lo, hi in KL_BINS[1:-1]] + [f"≥ {_k(KL_BINS[-1][0])}"]
    rows = [hdr] + [f"| {lab} | " + " | ".join(f"{bins[n][i][0]}/{bins[n][i][1]}" if bins[n][i][1] else "–" for n in names)
                    + " |" for i, lab in enumerate(labels)]
    t["bins_table"] = "\n".join(rows)
    top_k, top_n = sum(bins[n][-1][0] for n in names), sum(bins[n][-1][1] for n in names)
    bullets = []
    if top_n:
        frac = top_k / top_n
        word = ("nearly every run" if frac >= 0.9 else "most runs" if frac > 0.5 else
                "a minority of the runs" if top_k else "none of the runs")
        every = all(bins[n][-1][0] >= 0.6 * bins[n][-1][1] for n in names if bins[n][-1][1] >= 4)
        t["top_every"] = frac > 0.5 and every
        t["top_word"] = word
        per_algo = ", ".join(f"{n} {bins[n][-1][0]}/{bins[n][-1][1]}" for n in names if bins[n][-1][1])
        bullets.append(f"Above a mean KL of {_k(KL_BINS[-1][0])} per update, {word} that "
                       f"solved the task collapsed{', whatever the algorithm' if t['top_every'] else ''} "
                       f"({top_k} of {top_n}: {per_algo}).")
    t["top_frac"] = (top_k, top_n)
    mid = [(bins[n][3][0] / bins[n][3][1], n) for n in names if bins[n][3][1] >= 4]
    t["mid_best"] = None
    if len(mid) >= 2:
        mid.sort()
        best = mid[0]
        rest = ", ".join(f"{n} ({bins[n][3][0]}/{bins[n][3][1]})" for _, n in mid[1:])
        if best[0] < 0.5 * mid[1][0]:
            s = (f"Between {_k(KL_BINS[3][0])} and {_k(KL_BINS[3][1])}, {best[1]} "
                 f"({bins[best[1]][3][0]}/{bins[best[1]][3][1]}) held up far better than {rest}")
            s += (", perhaps because clipping limits the change *per state* as well as on average." if best[1] == "PPO-clip"
                  else ".")
            t["mid_best"] = best[1]
        else:
            s = (f"Between {_k(KL_BINS[3][0])} and {_k(KL_BINS[3][1])}, {best[1]} collapsed least "
                 f"({bins[best[1]][3][0]}/{bins[best[1]][3][1]}), followed by {rest}; with this few runs per cell the "
                 "differences are not conclusive.")
        bullets.append(s)
    low = [(bins[n][1][0] / bins[n][1][1], -bins[n][1][1], n) for n in names if bins[n][1][1] >= 4]
    if low:
        low.sort()
        n0 = low[0][2]
        bullets.append(f"Between {_k(KL_BINS[1][0])} and {_k(KL_BINS[1][1])}, {n0} collapsed least "
                       f"({bins[n0][1][0]}/{bins[n0][1][1]}).")
    t["bins_text"] = " ".join(bullets)
    return t


def write_readme(out: Path, results: dict, facts: dict, info: dict, seeds: int) -> None:
    S = facts["settings"]
    t = texts(results, facts, seeds)
    cfg = {n: r["config"] for n, r in results.items()}
    v, p, k, tr = cfg["VPG"], cfg["PPO-clip"], cfg["PPO-KL"], cfg["TRPO"]
    r0 = results["VPG"]
    n_updates = r0["kl"].shape[-1]
    n_evals = r0["returns"].shape[-1]
    per_eval = n_updates // (n_evals - 1)
    table = []
    for name, per in S.items():
        for s in per:
            table.append(f"| {name} | {_run(s, results[name]['field'])} | {_final_cell(s)} | {s['drop']:.0f} | {_k(s['kl'])} | "
                         f"{_collapse_cell(s)} |")
    n_runs = sum(r["returns"].shape[0] * r["returns"].shape[1] for r in results.values())
    # answer bullets
    ans = []
    win = t["vpg_window"]
    if t["vpg_narrow"]:
        ans.append("* VPG is unstable as soon as its learning rate leaves a narrow window "
                   f"({_v(win[0]['value'])}–{_v(win[-1]['value'])} here), because nothing bounds its steps. Inside that "
                   "window it was stable on CartPole.")
    elif win:
        tail = t["vpg_tail"]
        ans.append(f"* VPG was reliable at learning rates {_v(win[0]['value'])}–{_v(win[-1]['value'])} on CartPole"
                   + (f"; from {_v(tail[0]['value'])} up, where nothing bounds its now large steps, half or more of "
                      "its seeds collapsed after solving." if tail else "."))
    else:
        ans.append("* VPG was not reliable at any learning rate of the sweep.")
    s = "* Trust regions help in a specific way."
    if t["trpo_over"] == 0:
        s += (" TRPO makes the step size a bound on the policy change, so it can be set without knowing the gradient "
              "scale.")
    cw, vw = t["clip_window"], _window(S["VPG"], "good")
    if cw and len(cw) > len(vw):
        s += (f" PPO-clip widens the range of learning rates that end near 500 (mean final return ≥ 475) from "
              f"{len(vw)} to {len(cw)} of the {len(S['VPG'])} values swept")
        s += " and was the most robust at moderate KL." if t["mid_best"] == "PPO-clip" else "."
    if s.endswith("specific way."):
        s = "* In this run neither trust region clearly helped over VPG by these measures."
    ans.append(s)
    k_top, n_top = t["top_frac"]
    if n_top and t.get("top_every"):
        ans.append(f"* Neither prevents collapse when the allowed change per update is large (mean KL ≳ "
                   f"{_k(KL_BINS[-1][0])}): {t['top_word']} collapse there, whatever the algorithm ({k_top} of "
                   f"{n_top} runs that solved the task).")
    nolearn = [(n, s) for n, per in S.items() for s in per if s["reached"] == 0]
    cav = (f"* Caveats: one small task (CartPole, where \"collapse\" means falling from 500); {seeds} seeds per setting; "
           f"greedy evaluations of only {info.get('eval_episodes', 5)} episodes, so the worst-drop measure also picks up "
           "evaluation noise")
    if nolearn:
        cav += " in runs that never solved (" + ", ".join(f"{n} at {_run(s, results[n]['field'])}: drops ≈ {s['drop']:.0f}"
                                                          for n, s in nolearn) + ")"
    ans.append(cav + ".")
    secs = info["seconds"]
    text = f"""# Is the vanilla policy gradient unstable, and do trust regions help?

    {info.get('command', 'python experiments/stability/run.py')}            # {info['wall_s'] / 60:.1f} minutes for the run below; writes this README, finding.md, stability.png, curves.png, drop_vs_kl.png, summary.csv
    python experiments/stability/run.py --replot   # redraw the figures and this README from raw.npz (kept by the last run, not in git)

This README is written by `run.py` from the numbers of its run (`summary.csv`, `run_info.json`).

## Set-up

VPG, PPO-clip, PPO adaptive-KL and TRPO on {ENV}, each across a sweep of its step size:

* Adam learning rate ∈ {{{', '.join(_v(x) for x in LRS)}}} for VPG and both PPOs;
* the trust-region radius max_kl ∈ {{{', '.join(_v(x) for x in MAX_KLS)}}} for TRPO.

Each algorithm's {len(LRS)} values × {seeds} seeds are trained in one compiled program. The config is built
inside the vmapped function with `dataclasses.replace`, with one `jax.vmap` over the (value,
seed) pairs. The settings are the same for all four, so that only the step size differs:

* {v.total_timesteps:,} env steps, {v.num_envs * v.num_steps} transitions per update ({v.num_envs} envs × {v.num_steps} steps; {n_updates} updates), γ = {v.gamma:g};
* no learning-rate annealing;
* the rest from each algorithm's defaults and tuned file. VPG takes one policy step per batch and
  fits the value function with {v.value_iters} {'full-batch' if v.value_minibatches == 1 else f'{v.value_minibatches}-minibatch'} Adam steps (λ = {v.gae_lambda:g}). The two PPOs have identical
  configs apart from `loss`: {p.update_epochs} epochs × {p.num_minibatches} minibatches, λ = {p.gae_lambda:g}, clip {p.clip_eps:g} or d_targ {k.kl_target:g}. TRPO
  uses {tr.cg_iters} CG iterations, damping {tr.cg_damping:g} and λ = {tr.gae_lambda:g}.
* a greedy evaluation ({info.get('eval_episodes', 5)} episodes) before training and after every {per_eval} updates ({n_evals} in all).

`run_info.json` lists the base configs; the swept field replaces the value shown there.

Per run, the script records:
* **final return**: the last evaluation;
* **worst drop**: the largest fall in return between two consecutive evaluations;
* **collapse after solving**: the run reached ≥ 475 at some evaluation and fell below 250 at a
  later one;
* **KL per update**: the exact mean KL(pi_old‖pi_new) over the batch after each update, from each
  algorithm's `Metrics`.

## Figures

![Final return, worst drop, KL per update and collapse fraction against the step size](stability.png)

`stability.png`: one column per algorithm, one row per measure, against the swept value. The
first three rows show one dot per seed, plus the mean with a 95% percentile-bootstrap CI over
the {seeds} seeds. The KL row also shows each seed's largest single update (hollow circles). The
last row is the fraction of seeds that collapsed after solving, with 95% Wilson intervals.

![Greedy return and per-update KL over training for every setting](curves.png)

`curves.png`: greedy return and per-update KL over training for every setting: the mean over {seeds}
seeds with a 95% percentile-bootstrap band.

![Every run placed by its mean per-update KL](drop_vs_kl.png)

`drop_vs_kl.png`: all {n_runs} runs placed by their mean per-update KL, so the algorithms can be
compared at equal policy change per update.

## What the data says

| algo | setting | final return (95% CI) | worst drop | mean KL / update | collapsed after solving |
|---|---|---|---:|---:|---:|
""" + "\n".join(table) + f"""

(`summary.csv` has every number, with CIs for the drops as well. "k/m solved": k of the m seeds that
reached 475 collapsed.)

{t['vpg']}
{t['trpo']}
{t['clip']}
{t['kl']}
* **At equal KL per update, the algorithms are not equally robust** (`drop_vs_kl.png`; collapsed / runs that
  solved the task, pooled over settings, by the run's mean KL per update):

""" + "\n".join("  " + line for line in t["bins_table"].split("\n")) + f"""

  {t['bins_text']}

**Answer:**
""" + "\n".join(ans) + f"""

**Run time:** {info['wall_s']:.0f} s ({info['wall_s'] / 60:.1f} min) for `{info.get('command', 'python experiments/stability/run.py')}` on
{info['machine']}: {', '.join(f'{n} {s:.0f} s' for n, s in secs.items())} (compilation included).
"""
    (out / "README.md").write_text(text)
    print(f"wrote {out / 'README.md'}")


def finding(results: dict, facts: dict, seeds: int) -> str:
    S = facts["settings"]
    t = texts(results, facts, seeds)
    parts = []
    win = t["vpg_window"]
    vkl = max(s["kl"] for s in S["VPG"])
    if t["vpg_narrow"]:
        parts.append(f"VPG is stable only in a narrow band of learning rates ({_v(win[0]['value'])} to "
                     f"{_v(win[-1]['value'])} on CartPole). Above it, its unbounded steps (mean KL per update up to "
                     f"{_k(vkl)}) make collapses routine.")
    elif win:
        tail = t["vpg_tail"]
        parts.append(f"VPG was reliable at learning rates {_v(win[0]['value'])}–{_v(win[-1]['value'])} on CartPole"
                     + (f"; from {_v(tail[0]['value'])} up, its unbounded steps (mean KL per update up to {_k(vkl)}) "
                        "made half or more of its seeds collapse after solving." if tail else "."))
    else:
        parts.append("VPG was not reliable at any learning rate of the sweep.")
    bad = t["trpo_bad"]
    s = "TRPO bounds the KL exactly" if t["trpo_over"] == 0 else "TRPO holds the mean KL near max_kl"
    if bad:
        s += (f", but with max_kl ≥ {_v(bad[0]['value'])} half or more of its seeds collapsed after solving "
              f"({_list([_frac(b['fell'], b['reached']) for b in bad])}).")
    else:
        s += "."
    parts.append(s)
    cw = t["clip_window"]
    if cw:
        dec = np.log10(cw[-1]["value"] / cw[0]["value"])
        parts.append(f"PPO-clip kept a mean final return ≥ 475 over {dec:.1f} "
                     f"decade{'' if dec == 1 else 's'} of learning rates ({_v(cw[0]['value'])}–{_v(cw[-1]['value'])})"
                     + (", the widest range." if t["clip_widest"] else "."))
    k, n = t["top_frac"]
    if n:
        parts.append(f"Of the runs of any algorithm with a mean KL above {_k(KL_BINS[-1][0])} per update that solved "
                     f"the task, {k}/{n} collapsed ({seeds} seeds per setting).")
    return " ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--out", default=None)
    ap.add_argument("--replot", action="store_true", help="redraw the figures from raw.npz without training")
    args = ap.parse_args()
    out = Path(args.out) if args.out else (Path("/tmp/stability") if args.quick else HERE)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    machine = common.machine()
    seeds = 2 if args.quick else args.seeds
    total = 20_480 if args.quick else TOTAL
    num_evals = 4 if args.quick else 39
    if args.replot:
        results = load_raw(out / "raw.npz")
        seeds = results["VPG"]["returns"].shape[1]
    else:
        results = run_all(seeds, total, num_evals, eval_episodes=EVAL_EPISODES)
        save_raw(results, out / "raw.npz")
    rows = plot_summary(results, out, seeds)
    plot_curves(results, out, seeds)
    plot_drop_vs_kl(results, out, seeds)
    common.write_csv(out / "summary.csv", rows)
    if args.replot:  # the run's own machine line and times, not the replot's
        info = json.loads((out / "run_info.json").read_text())
    else:
        info = dict(machine=machine, wall_s=round(time.perf_counter() - t0, 1), eval_episodes=EVAL_EPISODES,
                    command="python experiments/stability/run.py" + (" --quick" if args.quick else ""),
                    seconds={k: round(v["seconds"], 1) for k, v in results.items()},
                    configs={k: str(v["config"]) for k, v in results.items()})
        (out / "run_info.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1))
    facts = analyse(results)
    write_readme(out, results, facts, info, seeds)
    (out / "finding.md").write_text(finding(results, facts, seeds) + "\n")
    print(f"wrote {out / 'finding.md'}")
    if out == HERE and hasattr(common, "write_index"):
        common.write_index()


if __name__ == "__main__":
    main()
