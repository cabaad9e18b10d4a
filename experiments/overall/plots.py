"""The overall experiment's figures: ``curves_<env>.png`` (the benchmark's learning curves),
``aggregate.png`` (IQM / optimality gap / area-under-curve IQM with 95% stratified-bootstrap CIs)
and ``profile.png`` (performance profiles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments import common, reporting
from experiments.overall.compute import METRICS, NAMES


def curve_figures(s, out: Path) -> None:
    """``curves_<env>.png``: the benchmark's learning-curve figure (``rl_zoo.plots.benchmark_curves``:
    return against env steps and wall-clock seconds, mean over seeds, 95% bootstrap band)."""
    from rl_zoo import benchmark, plots

    for env in dict.fromkeys(r.env for r in s.returns):
        path = plots.benchmark_curves(s.returns, env, out / f"curves_{env}.png", benchmark.threshold(env), labels=NAMES)
        common.shrink_png(path)
        print(f"wrote {path}")


def aggregate_figure(grouped: dict, numbers: dict, s, out: Path) -> None:
    """``aggregate.png``: one row per grouping of envs, one column per statistic of ``METRICS``."""
    from rl_zoo import plots

    colors = plots.algo_colors(list(s.normalised))
    plt = common.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(16, 7.6), sharex="col")
    extent = {col: [np.inf, -np.inf] for col in range(len(METRICS))}
    for row, (title, both) in enumerate(grouped.items()):
        for col, (mname, _, which) in enumerate(METRICS):
            intervals = {a: numbers[title][a][mname.split(" (")[0]] for a in both[which]}
            for point, lo, hi in intervals.values():
                extent[col] = [min(extent[col][0], lo, point), max(extent[col][1], hi, point)]
            n_envs = {a: len(both[which][a]) for a in intervals}
            labels = {a: NAMES.get(a, a) if n_envs[a] == max(n_envs.values()) else f"{NAMES.get(a, a)} ({n_envs[a]} envs)"
                      for a in intervals}
            ax = axes[row, col]
            plots.interval_bars(ax, intervals, colors, labels)
            ax.set_title(f"{mname}\n{title}", fontsize=9)
            if row == 1:
                ax.set_xlabel(("normalised final score" if which == 0 else "normalised mean return over training")
                              + "\n(0 = random policy, 1 = solved threshold)")
    for col, (lo, hi) in extent.items():  # every bar and zero-width interval inside the frame
        pad = 0.06 * (hi - lo)
        axes[0, col].set_xlim(lo - pad, hi + pad)
    n_seeds = "/".join(str(n) for n in sorted({r.n_seeds for r in s.table}))
    fig.suptitle(f"Normalised scores across envs ({n_seeds} seeds per env): point estimate (black line) and "
                 f"{ci_words(min(r.n_seeds for r in s.table))} (bar)", fontsize=11)
    fig.tight_layout()
    common.save(fig, out / "aggregate.png")


def ci_words(seeds: int) -> str:
    """The figures' name for a stratified-bootstrap interval over ``seeds`` seeds per env (2-3: not a 95% one)."""
    return ("95% stratified-bootstrap CI" if seeds >= reporting.BOOTSTRAP_SEEDS
            else f"stratified-bootstrap interval over {seeds} seeds per env (too few for 95%)")


def profile_figure(grouped: dict, norm: dict, out: Path, seeds: int = 5) -> None:
    """``profile.png``: the fraction of runs with normalised final score > tau, 95% stratified-bootstrap bands."""
    from rl_zoo import plots

    colors = plots.algo_colors(list(norm))
    all_envs = list(dict.fromkeys(e for v in norm.values() for e in v))
    missing = {a: [e for e in all_envs if e not in norm[a]] for a in norm}
    labels = {a: f"{NAMES.get(a, a)} (not on {', '.join(m)})" if m else NAMES.get(a, a) for a, m in missing.items()}
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    taus = plots.profile_taus({a: list(v.values()) for a, v in norm.items()})
    for ax, (title, (scores, _)) in zip(axes, grouped.items()):
        plots.profile_lines(ax, scores, taus, colors, labels, band_alpha=0.15)
        ax.axvline(1.0, color="black", linestyle="--", linewidth=0.9, alpha=0.6, label=r"solved threshold ($\tau$ = 1)")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(r"normalised final score $\tau$ (0 = random, 1 = solved threshold)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"fraction of runs with score > $\tau$")
    axes[0].set_ylim(-0.02, 1.02)
    handles, labels = axes[0].get_legend_handles_labels()  # the all-envs labels say which ran on fewer envs
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8.5, frameon=False)
    fig.suptitle(f"Performance profiles (run-score distributions), {ci_words(seeds).replace('interval', 'band').replace('CI', 'bands')}", fontsize=11)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    common.save(fig, out / "profile.png")
