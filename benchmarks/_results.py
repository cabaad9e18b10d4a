"""The raw-results file of a benchmark script (``benchmarks/results/<name>.json``): read it, and
rewrite it whole and atomically after each measurement, so that an interrupted run loses only the
measurement in progress and never leaves a half-written file; and the CPU's name, recorded with the
timings.

Imported by ``benchmarks/dqn.py``, ``q_learning.py`` and ``policy_gradient.py``, which run as scripts
(``python benchmarks/<name>.py``), so this folder is on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def load_results(path: Path, empty: dict | None = None) -> dict:
    """The results in ``path``; ``empty`` (default ``{}``) when there is no such file yet."""
    if path.exists():
        return json.loads(path.read_text())
    return {} if empty is None else empty


def save_results(path: Path, raw: dict) -> None:
    """Write ``raw`` to ``path`` as JSON (indent 1) through a temporary file beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(raw, indent=1))
    tmp.replace(path)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """The 1- and 5-minute load averages and the core count, as the results files quote them."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"
