"""A sweep's figures: learning curves per config, final return against each swept field (sensitivity),
and a heat map for two grid fields. Intervals are 95% bootstrap intervals (`rl_zoo.stats`; with 2-3 seeds
the seeds' range, said on the axis). A config
that diverged (some seed's parameters became NaN/Inf, ``ConfigSummary.non_finite``) is marked in each
figure, as report.md marks it in its tables: a dashed curve named so, a red cross, a dagger."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from rl_zoo import runs, stats
from rl_zoo.sweep.report import ConfigSummary, log_scale, rank_key, values_of
from rl_zoo.sweep.spec import SweepSpec, _fmt, is_env_field


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from rl_zoo.plots import save_figure

    return save_figure(fig, path, dpi=110)


def curves(out: Path, spec: SweepSpec, summaries: list[ConfigSummary], env_steps: list[np.ndarray], returns: list[np.ndarray]) -> Path:
    """Mean greedy return against env steps per config, with a 95% bootstrap band over seeds (with 2-3
    seeds their range, ``stats.interval_name``)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    cmap = plt.get_cmap("viridis")
    order = sorted(range(len(summaries)), key=lambda i: rank_key(summaries[i]))  # the best rule's order
    if spec.env_fields:  # as given: the report's order, a setting's configs together (`report.row_order`)
        order = list(range(len(summaries)))
    for rank, i in enumerate(order):
        s, steps, curve = summaries[i], env_steps[i], returns[i]
        mean, low, high = stats.mean_ci_over_seeds(curve)
        color = cmap(rank / max(len(order) - 1, 1))
        label = s.point.label() + (f" (diverged: {s.non_finite} of {len(s.final)} seeds)" if s.non_finite else "")
        ax.plot(steps, mean, color=color, lw=1.4, ls="--" if s.non_finite else "-", label=label)
        ax.fill_between(steps, low, high, color=color, alpha=0.12)
    ax.set_xlabel("env steps per seed")
    ax.set_ylabel(f"greedy return, mean over seeds [{stats.interval_name(spec.seeds, short=True)}]")
    ax.set_title(f"{spec.algo} on {spec.env_label}: {runs.plural(len(summaries), 'config')} x {runs.plural(spec.seeds, 'seed')} (legend: {'the report' + chr(39) + 's order' if spec.env_fields else 'best final IQM first'})")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _save(fig, out / "curves.png")


def _null_formatter():
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def _value_ticks(ax, values: list, log: bool) -> None:
    """A grid's values as the x ticks, written as report.md writes them (a linear axis over 3e-4 and
    1e-3 wrote "0.0003" and "0.0004" into one another), when there are at most 8; minor tick labels
    never on a log axis (their labels overprinted the major ones)."""
    distinct = sorted(set(values))
    if len(distinct) <= 8:
        ax.set_xticks(distinct, [_fmt(v) for v in distinct], rotation=30 if len(distinct) > 3 else 0, fontsize=8)
    if log:
        ax.xaxis.set_minor_formatter(_null_formatter())


def sensitivity(out: Path, spec: SweepSpec, summaries: list[ConfigSummary]) -> Path:
    """Per swept field, the IQM of final returns of each config with its 95% interval (with 2-3 seeds
    their range) against the field's value; configs equal in the other swept fields are joined by a
    line, nudged sideways apart (said in the title); a config successive halving dropped is an open
    marker (its return is at a smaller budget)."""
    plt = _pyplot()
    fields = spec.fields
    # constrained layout leaves the title of several lines its room above the panels
    fig, axes = plt.subplots(1, len(fields), figsize=(4.6 * len(fields), 3.8), squeeze=False, layout="constrained")
    any_diverged = any_dodged = any_dropped = False
    for ax, name in zip(axes[0], fields):
        others = [f for f in fields if f != name]
        lines: dict[tuple, list[ConfigSummary]] = {}
        for s in summaries:
            lines.setdefault(tuple(dict(s.point.values)[f] for f in others), []).append(s)
        joined = all(len(v) > 1 for v in lines.values()) and len(lines) <= 10
        log = log_scale(values_of(summaries, name))
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values_of(summaries, name))
        span = np.ptp(np.array(values_of(summaries, name), float)) if numeric else 0.0
        for k, (key, members) in enumerate(lines.items()):
            members = sorted(members, key=lambda s: dict(s.point.values)[name])
            x = values_of(members, name)
            if joined and numeric and len(lines) > 1:  # dodge the lines sideways so that equal points stay visible
                shift = (k - (len(lines) - 1) / 2) / len(lines)
                x = [v * (1 + 0.15 * shift) if log else v + 0.04 * span * shift for v in x]
                any_dodged = True
            y = np.array([s.iqm for s in members])
            err = np.array([[s.iqm - s.ci_low for s in members], [s.ci_high - s.iqm for s in members]])
            label = ", ".join(f"{f}={_fmt(v)}" for f, v in zip(others, key)) if joined and others else None
            line = ax.errorbar(x, y, yerr=err, marker="o", ms=4, capsize=3, lw=1.2 if joined else 0, elinewidth=1, label=label,
                               color=None if joined else "C0")  # unjoined points are configs, one colour (no legend names them)
            dropped = [k for k, s in enumerate(members) if s.stopped_early]
            if dropped:
                ax.plot([x[k] for k in dropped], y[dropped], "o", ms=7, mfc="white", mec=line[0].get_color(), mew=1.5, zorder=4)
                any_dropped = True
            diverged = [k for k, s in enumerate(members) if s.non_finite]
            if diverged:
                ax.plot([x[k] for k in diverged], y[diverged], "x", color="red", ms=9, mew=2, zorder=5)
                any_diverged = True
        if log:
            ax.set_xscale("log")
        if all(isinstance(v, bool) for v in values_of(summaries, name)):  # drawn at 0 and 1: say which is which
            ax.set_xticks([0, 1], ["False", "True"])
            ax.set_xlim(-0.5, 1.5)
        if numeric and name in [g.name for g in spec.grid]:  # a random search's values may lie close: default ticks
            _value_ticks(ax, values_of(summaries, name), log)
        elif log:
            ax.xaxis.set_minor_formatter(_null_formatter())
        ax.set_xlabel(name)
        if ax is axes[0][0]:  # every panel shows the same returns; a second label ran into the title's lines
            ax.set_ylabel(f"final return, IQM over seeds [{stats.interval_name(spec.seeds, short=True)}]", fontsize=9)
        if joined and others:
            ax.legend(fontsize=7)
    fig.suptitle(f"{spec.algo} on {spec.env_label}: sensitivity of the final return ({runs.plural(spec.seeds, 'seed')} per config)"
                 + ("\nopen marker: dropped by successive halving, its return at its last rung's smaller budget" if any_dropped else "")
                 + ("\nlines nudged sideways apart so that equal points stay visible" if any_dodged else "")
                 + ("\nred x: the config diverged (non-finite parameters on some seed)" if any_diverged else ""))
    return _save(fig, out / "sensitivity.png")


def cell_score(cell: list[ConfigSummary], env_pooled: list[str]) -> float:
    """A heat map cell: the IQM of the final returns of every run its configs hold; where env fields are pooled in
    it (``env_pooled``), the mean over their values of the IQM of the runs at each (a collapse at one counts)."""
    by_env: dict[tuple, list[np.ndarray]] = {}
    for s in cell:
        by_env.setdefault(tuple(dict(s.point.values)[n] for n in env_pooled), []).append(s.final)
    return float(np.mean([stats.iqm(np.concatenate(finals)) for finals in by_env.values()]))


def heatmap(out: Path, spec: SweepSpec, summaries: list[ConfigSummary]) -> Path | None:
    """IQM of final returns over the first two grid fields, pooled over any other swept field (each
    cell's IQM over the seeds of every config it holds; the title and the colour bar name the pooled fields).
    Where a pooled field is the env's (``env.NAME``), a cell is the mean over its env values of the IQM at each,
    as a setting's score is (`rl_zoo.sweep.env_fields.settings`): pooled runs would trim a collapse away."""
    if len(spec.grid) < 2:
        return None
    plt = _pyplot()
    (fx, xs), (fy, ys) = [(g.name, list(g.values)) for g in spec.grid[:2]]
    pooled = [name for name in spec.fields if name not in (fx, fy)]
    env_pooled = [name for name in pooled if is_env_field(name)]

    grid = np.full((len(ys), len(xs)), np.nan)
    diverged = np.zeros((len(ys), len(xs)), bool)
    dropped = np.zeros((len(ys), len(xs)), bool)  # successive halving stopped some config of the cell early
    for (i, y), (j, x) in itertools.product(enumerate(ys), enumerate(xs)):
        cell = [s for s in summaries if dict(s.point.values)[fx] == x and dict(s.point.values)[fy] == y]
        if cell:
            grid[i, j] = cell_score(cell, env_pooled)
            diverged[i, j] = any(s.non_finite for s in cell)
            dropped[i, j] = any(s.stopped_early for s in cell)
    fig, ax = plt.subplots(figsize=(1.3 * len(xs) + 2.5, 0.8 * len(ys) + 2))
    im = ax.imshow(grid, origin="lower", cmap="viridis", aspect="auto")
    d = stats.return_decimals(grid) - 1  # one fewer than the tables: "500" for CartPole, "0.74" for FrozenLake (it wrote "1")
    for i, j in itertools.product(range(len(ys)), range(len(xs))):
        ax.text(j, i, f"{grid[i, j]:.{d}f}" + ("\u2020" if diverged[i, j] else "") + ("*" if dropped[i, j] else ""), ha="center", va="center", color="w" if grid[i, j] < np.nanmean(grid) else "k", fontsize=9)
    ax.set_xticks(range(len(xs)), [_fmt(v) for v in xs])
    ax.set_yticks(range(len(ys)), [_fmt(v) for v in ys])
    ax.set_xlabel(fx)
    ax.set_ylabel(fy)
    others = [name for name in pooled if name not in env_pooled]
    label = "final return, IQM over seeds" + (f" and {', '.join(others)}" if others else "")
    fig.colorbar(im, ax=ax, label=f"{label}, mean over {', '.join(env_pooled)}" if env_pooled else label)
    pooling = (f"\neach cell pools every {', '.join(others)} swept" if others else "") + (
        f"\neach cell: the mean over {', '.join(env_pooled)} of the IQM at each" if env_pooled else "")
    ax.set_title(f"{spec.algo} on {spec.env_label}" + pooling + ("\n\u2020: diverged (non-finite parameters on some seed)" if diverged.any() else "")
                 + ("\n*: holds configs dropped by successive halving (their return at their last rung's budget)" if dropped.any() else ""))
    return _save(fig, out / "heatmap.png")
