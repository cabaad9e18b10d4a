"""Figures: the learning curve of one run (mean and per seed); for a benchmark grid, learning curves
per env with bootstrap bands, and aggregate figures across envs (IQM, optimality gap, performance
profiles; statistics in ``rl_zoo.stats``)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def prefetch() -> None:
    """Import matplotlib on a background thread (0.3 s of a short run's wall time otherwise): XLA's
    compiler releases the GIL, so the import overlaps the compile that comes before any figure."""
    import threading

    threading.Thread(target=_pyplot, name="rl_zoo-import-matplotlib", daemon=True).start()


def figure_formats() -> tuple[str, ...]:
    """The file suffixes matplotlib can save a figure as (``.png``, ``.pdf``, ``.svg``, ...); ``.pgf`` only
    where the TeX program it runs (``rcParams["pgf.texsystem"]``, xelatex by default) is installed; not
    ``.eps`` / ``.ps`` (``NO_TRANSPARENCY``)."""
    import shutil

    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase

    formats = sorted(set(FigureCanvasBase.get_supported_filetypes()) - set(NO_TRANSPARENCY))
    if shutil.which(matplotlib.rcParams["pgf.texsystem"]) is None:
        formats.remove("pgf")
    return tuple(f".{ext}" for ext in formats)


#: formats matplotlib saves without transparency (its PostScript backend): the 95% bands, drawn at alpha 0.2, came
#: out opaque and hid the mean curves, and a run's faint per-seed lines looked like its mean; not offered
NO_TRANSPARENCY = ("eps", "ps")


def figure_path(output: str | Path, default_name: str = "curve.png", option: str = "-o") -> Path:
    """Where a figure asked for as ``option output`` goes: an existing folder means ``output/default_name``;
    otherwise ``output`` itself, which must end in a suffix matplotlib saves (``figure_formats``) and lie in
    an existing folder. ``ValueError`` / ``FileNotFoundError`` naming ``output`` otherwise, before any work."""
    path = Path(output)
    if path.is_dir():
        path = path / default_name
        if path.is_dir():  # drawn, then a traceback writing it
            raise ValueError(f"{option} {str(output)!r}: {str(path)!r} is a folder: give a file name for the figure")
    elif str(output).endswith(("/", os.sep)):  # meant as a folder
        raise FileNotFoundError(f"{option} {str(output)!r}: the folder does not exist (create it first)")
    formats = figure_formats()
    if path.suffix.lower() not in formats:
        got = f"{path.suffix!r} is not one of them" if path.suffix else "it has no suffix"
        if path.suffix.lower() == ".pgf":
            import matplotlib

            got += f" ({matplotlib.rcParams['pgf.texsystem']}, which matplotlib runs to write .pgf, is not installed)"
        if path.suffix.lower().lstrip(".") in NO_TRANSPARENCY:
            got += (" (matplotlib's PostScript draws no transparency: the bands would hide the curves; "
                    ".pdf and .svg are vector formats too)")
        raise ValueError(f"{option} {str(output)!r}: a figure is saved as {', '.join(formats)}; {got} "
                         f"(or give an existing folder, for {default_name} in it)")
    from rl_zoo.runs import check_file_folder

    check_file_folder(path, f"{option} {str(output)!r}")
    return path


def learning_curve(rows: list[dict], title: str, path: str | Path) -> Path:
    """Greedy evaluation return against env steps: one thin line per seed, the mean in bold (with one
    seed, its line alone) at the env steps every seed was evaluated at (a resumed or hand-made
    metrics.csv may not line up). A curve of one or two evaluations is drawn with markers (a line of
    one point draws nothing). A non-finite return (a diverged run) is marked with a red cross on the x
    axis at its step, and the legend counts them and names their seeds. Written atomically to ``path``
    in the format its suffix names (``figure_path`` checks one given by a user)."""
    if isinstance(rows, (str, os.PathLike)):  # it failed with "string indices must be integers"
        raise TypeError(f"learning_curve: rows are metrics rows (rl_zoo.runs.read_csv(path) of a metrics.csv), got {rows!r}")
    if not rows:
        raise ValueError("learning_curve: no evaluation rows to draw")
    if Path(path).suffix.lower() not in figure_formats():  # from Python: "out/curve" was written as a PNG named curve
        raise ValueError(f"learning_curve: path {str(path)!r} needs a figure suffix, one of {', '.join(figure_formats())}")
    plt = _pyplot()
    by_seed: dict[int, dict[float, float]] = defaultdict(dict)
    for r in rows:
        by_seed[int(r["seed"])][float(r["env_steps"])] = float(r["return"])
    dots = lambda n: {"marker": "o", "markersize": 4} if n <= 2 else {}  # noqa: E731 (a line of 1 point draws nothing)
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for i, (seed, pts) in enumerate(sorted(by_seed.items())):
        x, y = np.array(sorted(pts.items())).T
        if len(by_seed) == 1:
            ax.plot(x, y, color="tab:blue", linewidth=2.0, label=f"seed {seed}", **dots(len(x)))
        else:
            ax.plot(x, y, color="tab:blue", alpha=0.25, linewidth=0.8, label="per seed" if i == 0 else None, **dots(len(x)))
    common = sorted(set.intersection(*(set(pts) for pts in by_seed.values())))
    if len(by_seed) > 1 and common:  # no step every seed has: no mean to draw
        mean = [np.mean([pts[x] for pts in by_seed.values()]) for x in common]
        ax.plot(common, mean, color="tab:blue", linewidth=2.0, label=f"mean of {len(by_seed)} seeds", **dots(len(common)))
    bad = sorted((x, seed) for seed, pts in by_seed.items() for x, y in pts.items() if not np.isfinite(y))
    if bad:
        seeds = sorted({seed for _, seed in bad})
        ax.plot([x for x, _ in bad], [0.0] * len(bad), "x", color="red", markersize=8, transform=ax.get_xaxis_transform(),
                clip_on=False, label=f"non-finite return ({len(bad)} evaluation{'s' if len(bad) > 1 else ''}, "
                f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})")
    ax.set_xlabel("env steps (per seed)")
    ax.set_ylabel("greedy evaluation return")
    lines = title_lines(title)
    ax.set_title("\n".join(lines), fontsize=12 if len(title) <= 55 else 9)  # 80 characters in 9 points fit the width
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    return save_figure(fig, path, tight=False)


def title_lines(title: str, width: int = 80, most: int = 4) -> list[str]:
    """``title`` in lines of at most ``width`` characters, at most ``most`` of them (the last cut with "…"): a run's
    title names its env options, and one line of them (FrozenLake's map as ``desc``) was cut at both edges of the
    figure, the algorithm and env id with it."""
    import textwrap

    lines = textwrap.wrap(title, width) or [""]
    if len(lines) > most:
        lines = lines[:most - 1] + [textwrap.shorten(" ".join(lines[most - 1:]), width, placeholder=" …")]
    return lines


# --------------------------------------------------------------------------------------------------
# Benchmark figures: learning curves per env, aggregate statistics across envs (rl_zoo.benchmark)

#: one colour per algorithm, fixed by the registry order so that every figure agrees
_PALETTE = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
            "tab:cyan", "tab:gray")


def algo_colors(names) -> dict[str, str]:
    """A colour per algorithm name: a registered algorithm its own (the registry's order), every other name, in
    order of appearance, the next palette colour no name drawn beside it has (from the one after the registry's);
    colours repeat only past ten names (``curve_styles`` draws those curves dashed). (Counting on past the palette gave `rl-zoo plot`'s third run label that
    is not an algorithm's, such as "dqn: d3", ppo's blue beside ppo.)"""
    from rl_zoo import algos as registry

    known = registry.names()
    colors = {n: _PALETTE[known.index(n) % len(_PALETTE)] for n in names if n in known}
    start = len(known) % len(_PALETTE)
    free = [c for c in _PALETTE[start:] + _PALETTE[:start] if c not in colors.values()]
    for i, n in enumerate(dict.fromkeys(n for n in names if n not in known)):
        colors[n] = free[i] if i < len(free) else _PALETTE[(start + i) % len(_PALETTE)]
    return {n: colors[n] for n in names}


#: how the k-th name to have a colour an earlier name already has (past ten names) draws its curve: a dash
#: pattern, or for a curve of one or two points (dotted markers, ``_few_points_style``) a marker shape
_DASHES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D")


def curve_styles(names) -> dict[str, tuple[str, int]]:
    """``{name: (colour, repeat)}``: ``algo_colors``' colour and how many names before it have that colour
    (0 for the first ten), which ``curve_style`` draws as a dash pattern or a marker of its own, so that
    runs 1 and 11 of ``rl-zoo plot`` are not one look."""
    colors, seen = algo_colors(names), {}
    out = {}
    for n in names:
        out[n] = (colors[n], seen.get(colors[n], 0))
        seen[colors[n]] = out[n][1] + 1
    return out


def curve_style(style: tuple[str, int], points: int) -> tuple[dict, str]:
    """The ``ax.plot`` keywords of a curve of ``points`` evaluations in ``style`` (``curve_styles``), and
    what its label adds (``_few_points_style``)."""
    color, repeat = style
    few, note = _few_points_style(points)
    if few:
        return {"color": color, **few, "marker": _MARKERS[repeat % len(_MARKERS)]}, note
    return {"color": color, "linestyle": _DASHES[repeat % len(_DASHES)]}, note


def save_figure(fig, path: str | Path, dpi: float | None = None, shrink: bool = False, tight: bool = True) -> Path:
    """Draw ``fig`` into memory in the format ``path``'s suffix names (``tight``: cropped), ``shrink`` a PNG
    to a 256-colour palette (other formats are left as drawn), and write it through a temporary file and a rename (``runs.atomic_write_bytes``:
    a crash or an error leaves the old file or the new one, and no temporary file); the figure is closed
    however this ends. The one way every figure of the library is saved."""
    import io

    from rl_zoo.runs import atomic_write_bytes

    plt = _pyplot()
    path = Path(path)
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format=path.suffix[1:].lower() or "png", **({"bbox_inches": "tight"} if tight else {}),
                    **({} if dpi is None else {"dpi": dpi}))
        png = path.suffix.lower() in (".png", "")
        data = _shrunk_png(buf.getvalue()) if shrink and png else buf.getvalue()  # a PDF or SVG as drawn
        atomic_write_bytes(path, data)  # the folder made if missing
    finally:
        plt.close(fig)
    return path


_save = save_figure


def _shrunk_png(data: bytes) -> bytes:
    """A PNG's bytes re-encoded with a 256-colour palette (median cut, no dithering): 2-3x smaller, visually the same."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        q = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    q.save(out, format="PNG", optimize=True)
    return out.getvalue()


def shrink_png(path: str | Path) -> None:
    """Re-encode a PNG file with a 256-colour palette (``_shrunk_png``), in place, atomically."""
    from rl_zoo.runs import atomic_write_bytes

    atomic_write_bytes(Path(path), _shrunk_png(Path(path).read_bytes()))


def benchmark_curves(rows: list, env_id: str, path: str | Path, threshold: float | None = None,
                     confidence: float = 0.95, labels: dict[str, str] | None = None) -> Path:
    """Greedy return against env steps (left) and against wall-clock seconds (right) for every
    algorithm on ``env_id``: the mean over seeds and a pointwise bootstrap confidence band. The
    legend sits below the panels, off the curves.

    ``rows``: tidy rows on a shared env-step grid (``rl_zoo.benchmark.ReturnRow``: algo, env, seed,
    env_steps, wall_s, ret); ``labels``: display names by algorithm (default: the algorithm names)."""
    from rl_zoo import stats

    plt = _pyplot()
    data: dict[str, dict[int, list[tuple[int, float, float]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.env == env_id:
            data[r.algo][int(r.seed)].append((int(r.env_steps), float(r.wall_s), float(r.ret)))
    styles = curve_styles(list(data))
    labels = labels or {}
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.6), dpi=110, sharey=True)
    final_walls = []
    for algo, by_seed in data.items():
        seeds = sorted(by_seed)
        curves = [np.array(sorted(by_seed[s])) for s in seeds]
        n = min(len(c) for c in curves)
        steps = curves[0][:n, 0]
        wall = np.mean([c[:n, 1] for c in curves], axis=0)
        ret = np.stack([c[:n, 2] for c in curves])  # [seeds, points]
        m, lo, hi = stats.mean_ci_over_seeds(ret, confidence)
        final_walls.append(float(wall[-1]))
        style, note = curve_style(styles[algo], n)
        label = f"{labels.get(algo, algo)} ({_seeds_label(len(seeds))}{note})"
        for ax, x in ((axes[0], steps), (axes[1], wall)):
            ax.plot(x, m, linewidth=1.8, label=label, **style)
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.2, linewidth=0)
    for ax in axes:
        if threshold is not None:
            ax.axhline(threshold, color="black", linestyle="--", linewidth=0.9, alpha=0.6,
                       label=f"threshold {threshold:g}")
        ax.grid(alpha=0.3)
    axes[0].set_xlabel("env steps (per seed)")
    wall_label = "wall-clock seconds since training began (compilation excluded)"
    if len(final_walls) > 1 and min(final_walls) > 0 and max(final_walls) / min(final_walls) > 8:
        axes[1].set_xscale("log")  # algorithms an order of magnitude apart: keep the fast ones visible
        wall_label += ", log scale"
    axes[1].set_xlabel(wall_label)
    axes[0].set_ylabel("greedy evaluation return")
    axes[0].ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names) if len(names) <= 5 else (len(names) + 1) // 2,
               fontsize=8.5, frameon=False)
    fig.suptitle(f"{env_id}: mean over seeds, {confidence:.0%} bootstrap band ({_BAND_FEW_SEEDS})")
    fig.tight_layout(rect=(0, 0.08 if len(names) <= 5 else 0.13, 1, 1))
    return _save(fig, path)


#: what a percentile bootstrap band over a few seeds is (its resampled means lie between the seeds'
#: extremes: with 2 or 3 seeds the band is their range, narrower than its nominal level below ~10)
_BAND_FEW_SEEDS = "with 2-3 seeds it is their range, with 1 none"


def _seeds_label(n: int) -> str:
    from rl_zoo.runs import plural

    return plural(n, "seed")


def _few_points_style(points: int) -> tuple[dict, str]:
    """How a curve of only ``points`` evaluations is drawn, and what its label adds: two (the start and
    the end, where a run's evaluation budget allowed no more) as dotted markers, not a learning curve."""
    if points > 2:
        return {}, ""
    return {"marker": "o", "linestyle": ":"}, ", evaluated at the start and end only" if points == 2 else ", one evaluation"


def env_panels(rows: list, env_ids: list[str], path: str | Path, marks: dict[str, dict[str, float]] | None = None,
               confidence: float = 0.95, title: str | None = None, unfinished: frozenset | set = frozenset()) -> Path:
    """One panel per env in ``env_ids``: greedy return against env steps for every algorithm found
    there, the mean over seeds and a pointwise bootstrap band (``rl_zoo.stats.mean_ci_over_seeds``).

    ``rows``: tidy ``ReturnRow``s (algo, env, seed, env_steps, wall_s, ret), any number of cells;
    ``marks``: per env, labelled horizontal lines (for example a target or a published reference);
    ``unfinished``: the algorithms (labels) whose runs have not ended, whose few evaluations are not "the start and
    the end". Seeds are averaged at the env steps all of them were evaluated at (hand-made tables may differ).
    With more than one panel the algorithms' legend is drawn once, in the grid's first empty cell (else
    below the panels), so that it hides no curve; each panel's legend names only its marks."""
    from rl_zoo import stats

    plt = _pyplot()
    data: dict[str, dict[str, dict[int, list[tuple[int, float]]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for r in rows:
        data[r.env][r.algo][int(r.seed)].append((int(r.env_steps), float(r.ret)))
    styles = curve_styles(sorted({a for env in data.values() for a in env}))
    cols = min(3, max(1, len(env_ids)))
    nrows = -(-len(env_ids) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.6 * nrows), dpi=100, squeeze=False)
    shared = len(env_ids) > 1
    algo_lines: dict[str, Any] = {}  # label -> its first line, for the shared legend
    for ax, env_id in zip(axes.flat, env_ids):
        for algo, by_seed in sorted(data.get(env_id, {}).items()):
            # the env steps every seed was evaluated at (pairing seeds by position averaged seed 0's step 512 with
            # seed 1's 1024 where seed 1 was evaluated at 0 and 1024 only)
            curves = [dict(v) for v in by_seed.values()]
            x = sorted(set.intersection(*(set(c) for c in curves)))
            n = len(x)
            if not n:  # no mean to draw: said in the legend rather than left out
                ax.plot([], [], **curve_style(styles[algo], 3)[0], label=f"{algo} (no env step all its seeds were evaluated at)")
                continue
            m, lo, hi = stats.mean_ci_over_seeds(np.array([[c[s] for s in x] for c in curves]), confidence)
            style, note = curve_style(styles[algo], n)
            note = "" if algo in unfinished and n > 1 else note
            (line,) = ax.plot(x, m, linewidth=1.8, label=f"{algo} ({_seeds_label(len(curves))}{note})", **style)
            algo_lines.setdefault(line.get_label(), line)
            ax.fill_between(x, lo, hi, color=style["color"], alpha=0.2, linewidth=0)
        mark_lines = [ax.axhline(value, color="black", linestyle=("--", ":")[i % 2], linewidth=0.9, alpha=0.6, label=label)
                      for i, (label, value) in enumerate((marks or {}).get(env_id, {}).items())]
        ax.set_title(env_id, fontsize=10)
        ax.grid(alpha=0.3)
        ax.ticklabel_format(axis="x", style="sci", scilimits=(0, 3))
        ax.set_xlabel("env steps (per seed)", fontsize=8.5)
        if not shared:
            _panel_legend(fig, ax)
        elif mark_lines:
            ax.legend(handles=mark_lines, fontsize=7, loc="best", frameon=False)
        if not data.get(env_id):
            ax.text(0.5, 0.5, "not run yet", ha="center", va="center", transform=ax.transAxes, color="gray")
    spare = list(axes.flat)[len(env_ids):]
    for ax in spare:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("greedy evaluation return", fontsize=8.5)
    fig.suptitle(title or f"mean over seeds, {confidence:.0%} bootstrap band ({_BAND_FEW_SEEDS})", fontsize=11)
    if shared and algo_lines and spare:
        spare[0].set_visible(True)
        spare[0].axis("off")
        spare[0].legend(list(algo_lines.values()), list(algo_lines), loc="center", fontsize=9, frameon=False, title="algorithm")
        fig.tight_layout()
    elif shared and algo_lines:  # below the panels, in as many columns as the labels' length lets fit the width
        width, height = fig.get_size_inches()
        columns = max(1, min(4, len(algo_lines), int(width / (0.075 * max(map(len, algo_lines))))))
        rows_of_legend = -(-len(algo_lines) // columns)
        fig.set_size_inches(width, height + 0.2 * rows_of_legend)  # the panels keep their height
        fig.legend(list(algo_lines.values()), list(algo_lines), loc="lower center", ncol=columns, fontsize=8.5, frameon=False)
        fig.tight_layout(rect=(0, (0.1 + 0.19 * rows_of_legend) / (height + 0.2 * rows_of_legend), 1, 1))
    else:
        fig.tight_layout()
    return _save(fig, path, shrink=True)


def _panel_legend(fig, ax) -> None:
    """One panel's legend: inside it where it is short, else to its right in a column of its own, the figure widened
    for it (25 runs' labels drawn at "best" covered the curves, the title and the axis labels)."""
    labels = [h.get_label() for h in ax.get_legend_handles_labels()[0]]
    if len(labels) <= 6 and max(map(len, labels), default=0) <= 40:
        ax.legend(fontsize=7.5, loc="best", frameon=False)
        return
    columns = 1 + len(labels) // 28
    width, height = fig.get_size_inches()
    fig.set_size_inches(width + columns * 0.055 * max(map(len, labels)), max(height, 0.17 * -(-len(labels) // columns) + 1))
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, ncol=columns, borderaxespad=0)


def interval_bars(ax, intervals: dict[str, tuple[float, float, float]], colors: dict[str, str],
                  labels: dict[str, str] | None = None) -> None:
    """One row per algorithm on ``ax``, first at the top: its interval ``(point, lo, hi)`` as a bar and the
    point estimate as a black tick (Agarwal et al. 2021, fig. 9 style)."""
    algos = list(intervals)
    for i, a in enumerate(algos):
        point, lo, hi = intervals[a]
        y = len(algos) - 1 - i
        bar = ax.barh(y, hi - lo, left=lo, height=0.6, color=colors[a], alpha=0.55)
        for patch in bar:  # a bar pins the axis to its ends: a zero-width interval's tick sat on the border, unseen
            patch.sticky_edges.x.clear()
        ax.plot([point, point], [y - 0.3, y + 0.3], color="black", linewidth=1.6)
    ax.set_yticks(range(len(algos)))
    ax.set_yticklabels([(labels or {}).get(a, a) for a in reversed(algos)])
    ax.grid(axis="x", alpha=0.3)


def profile_lines(ax, scores: dict[str, list[np.ndarray]], taus: np.ndarray, colors: dict[str, str],
                  labels: dict[str, str] | None = None, confidence: float = 0.95, n_resamples: int = 2000,
                  band_alpha: float = 0.2) -> None:
    """Performance profiles on ``ax``: per algorithm, the fraction of runs (all envs and seeds of
    ``scores[algo]``, one array per env) whose normalised score exceeds each tau, with a pointwise
    stratified bootstrap band (Agarwal et al. 2021, sec. 4)."""
    from rl_zoo import stats

    for a, sc in scores.items():
        p, lo, hi = stats.performance_profile_ci(sc, taus, confidence, n_resamples)
        ax.plot(taus, p, color=colors[a], linewidth=1.8, label=(labels or {}).get(a, a))
        ax.fill_between(taus, lo, hi, color=colors[a], alpha=band_alpha, linewidth=0)


def profile_taus(scores: dict[str, list[np.ndarray]]) -> np.ndarray:
    """201 thresholds from below 0 (or the lowest finite score) to above 1.1 (or the highest finite score). An
    infinite score does not stretch them (linspace(0, inf) blanked every profile): its run still counts in a
    profile, above (+inf) or below (-inf) every threshold. NaN scores are left out of the range too."""
    pooled = np.concatenate([np.concatenate([np.asarray(s, float).ravel() for s in v]) for v in scores.values()])
    finite = pooled[np.isfinite(pooled)]
    hi_tau = max(1.1, float(finite.max()) + 0.05) if finite.size else 1.1
    lo_tau = min(0.0, float(finite.min()) - 0.05) if finite.size else 0.0
    return np.linspace(lo_tau, hi_tau, 201)


def aggregate_intervals(scores: dict[str, list[np.ndarray]], path: str | Path, labels: dict[str, str] | None = None,
                        confidence: float = 0.95, n_resamples: int = 2000) -> dict[str, dict[str, tuple]]:
    """IQM and optimality gap of normalised scores, per algorithm, with stratified bootstrap
    confidence intervals (Agarwal et al. 2021, fig. 9 style). ``scores[algo]``: one array of
    normalised final scores (over seeds) per env. Returns the numbers plotted."""
    from rl_zoo import stats

    plt = _pyplot()
    algos = list(scores)
    colors = algo_colors(algos)
    metrics = (("IQM", stats.iqm), ("Optimality gap", stats.optimality_gap))
    results: dict[str, dict[str, tuple]] = {a: {} for a in algos}
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 0.55 * len(algos) + 1.6), dpi=110, sharey=True)
    for j, (name, fn) in enumerate(metrics):
        for a in algos:
            results[a][name] = stats.stratified_bootstrap_ci(scores[a], fn, confidence, n_resamples)
        interval_bars(axes[j], {a: results[a][name] for a in algos}, colors, labels)
        axes[j].set_title(name + (" (higher is better)" if j == 0 else " (lower is better)"), fontsize=10)
        axes[j].set_xlabel("normalised score\n(0 = random policy, 1 = solved threshold)" if j == 0 else  # two lines: one
                           "mean shortfall of the normalised score below 1\n(0 = every run at the threshold, 1 = random)")  # ran into the other
        if j == 0:  # the threshold, so that scores just above it (CartPole's 500 is 1.055) read as "solved", not as a spread
            axes[j].axvline(1.0, color="black", linestyle="--", linewidth=0.9, alpha=0.6)
    fig.suptitle(f"Final normalised score across envs: point estimate and {confidence:.0%} stratified bootstrap CI",
                 fontsize=10)
    fig.tight_layout()
    _save(fig, path)
    return results


def performance_profiles(scores: dict[str, list[np.ndarray]], path: str | Path, labels: dict[str, str] | None = None,
                         confidence: float = 0.95, n_resamples: int = 2000) -> Path:
    """Performance profiles (run-score distributions): the fraction of runs, over all envs and seeds,
    whose normalised final score exceeds tau, with a pointwise stratified bootstrap band."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    profile_lines(ax, scores, profile_taus(scores), algo_colors(list(scores)), labels, confidence, n_resamples)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=0.9, alpha=0.6)
    ax.set_xlabel(r"normalised score $\tau$ (0 = random policy, 1 = solved threshold)")
    ax.set_ylabel(r"fraction of runs with score > $\tau$")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"Performance profiles, {confidence:.0%} stratified bootstrap bands", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
