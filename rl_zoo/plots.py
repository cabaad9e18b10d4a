"""Figures: the learning curve of one run (mean and per seed)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def learning_curve(rows: list[dict], title: str, path: str | Path) -> Path:
    """Greedy evaluation return against env steps: one thin line per seed, the mean in bold."""
    plt = _pyplot()
    by_seed: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for r in rows:
        by_seed[int(r["seed"])].append((float(r["env_steps"]), float(r["return"])))
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    curves = []
    for seed, pts in sorted(by_seed.items()):
        pts.sort()
        x, y = np.array(pts).T
        ax.plot(x, y, color="tab:blue", alpha=0.25, linewidth=0.8, label="per seed" if not curves else None)
        curves.append((x, y))
    if curves:
        n = min(len(c[0]) for c in curves)
        x = curves[0][0][:n]
        mean = np.mean([c[1][:n] for c in curves], axis=0)
        ax.plot(x, mean, color="tab:blue", linewidth=2.0, label=f"mean of {len(curves)} seed(s)")
    ax.set_xlabel("env steps (per seed)")
    ax.set_ylabel("greedy evaluation return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
