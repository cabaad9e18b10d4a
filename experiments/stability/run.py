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
    np.savez_compressed(path, **arrays)


def load_raw(path: Path) -> dict:
    data = np.load(path)
    results = {}
    for name, (_, field, values, _) in ALGOS.items():
        results[name] = dict(field=field, values=values, returns=data[f"{name}/returns"], kl=data[f"{name}/kl"],
                             steps=data[f"{name}/steps"], per_update=int(data[f"{name}/per_update"]),
                             seconds=float(data[f"{name}/seconds"]), config=None)
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
        ax.legend(fontsize=8, loc="upper left" if ax is axes[0] else "lower left")
    fig.suptitle(f"{ENV}: every run of the sweep (all step sizes, {seeds} seeds each) placed by how far it moved "
                 "the policy per update; lines: mean within KL bins of >= 3 runs", fontsize=10)
    fig.tight_layout()
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
        if j == len(names) - 1:
            ax.legend(fontsize=7, loc="center left")
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
                ax.legend(fontsize=7, loc="upper left")
            elif j == 0:
                ax.legend(fontsize=7, loc="best")
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
        axes[0, j].legend(title=r["field"], fontsize=7, title_fontsize=7, loc="lower right" if name != "VPG" else "upper left")
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
        results = run_all(seeds, total, num_evals, eval_episodes=5)
        save_raw(results, out / "raw.npz")
    rows = plot_summary(results, out, seeds)
    plot_curves(results, out, seeds)
    plot_drop_vs_kl(results, out, seeds)
    common.write_csv(out / "summary.csv", rows)
    info = dict(machine=machine, wall_s=round(time.perf_counter() - t0, 1),
                seconds={k: round(v["seconds"], 1) for k, v in results.items()},
                configs={k: str(v["config"]) for k, v in results.items()})
    if not args.replot:
        (out / "run_info.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info, indent=1))


if __name__ == "__main__":
    main()
