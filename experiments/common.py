"""Helpers shared by the experiments: confidence bands, figure saving, timing, CSV output, training
with in-program evaluations (every update trained, in the driver's segments), the reporting seeds,
the small statistics of ``rl_zoo.stats`` re-exported (Wilson, Fisher, Holm, a bootstrap difference), the command-line
helpers (one line for bad input, the recorded run, the index), the number formatters of the READMEs,
README templates and the experiments index.

Each experiment is a package (``experiments/<name>/``: ``compute.py``, ``plots.py``, ``report.py``,
``run.py``) run as ``python -m experiments.<name>.run``; it imports this module as
``from experiments import common``. The statistics come from ``rl_zoo.stats`` where it has them.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import textwrap
import time
from pathlib import Path

import numpy as np

from rl_zoo.plots import save_figure, shrink_png  # noqa: F401 (shrink_png: used by the experiments)
from rl_zoo.runs import atomic_write_text, cpu_name
from rl_zoo.stats import mean_band_over_seeds as boot_band  # noqa: F401
from rl_zoo.stats import point_ci as boot_ci  # noqa: F401
from rl_zoo.stats import t_band  # noqa: F401
from rl_zoo.stats import diff_ci, fisher_p, holm, holm_adjusted, wilson  # noqa: F401 (proportions and differences: the experiments)

DPI = 110


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> Path:
    """Save a figure tightly at ``DPI``, palette-compressed, and close it (``rl_zoo.plots.save_figure``)."""
    path = save_figure(fig, path, dpi=DPI, shrink=True)
    print(f"wrote {path}")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    path = Path(path)
    with open(path, "w", newline="") as f:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"wrote {path}")
    return path


def machine() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()  # not on every OS
    return (f"{cpu_name()} ({platform.machine()}), {os.cpu_count()} CPU cores, load average at start "
            f"{', '.join(f'{x:.1f}' for x in load)}")


class Timer:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0
        print(f"[{self.label}] {self.s:.1f}s", flush=True)
        return False


# --------------------------------------------------------------------------------------------------
# Training with in-program greedy evaluations, vmapped over seeds and one swept config field


def tuned(algo: str, env_id: str, **overrides):
    """``(module, config)``: the algorithm's defaults, its presets and tuned file for ``env_id``, then
    ``overrides`` (``rl_zoo.train.resolve_config``)."""
    import dataclasses

    from rl_zoo.train import resolve_config

    module, config = resolve_config(algo, env_id)
    return module, dataclasses.replace(config, **overrides)


def segment_plan(num_updates: int, num_evals: int) -> list[int]:
    """The updates between evaluations, as the driver runs them (``rl_zoo.driver.runner.segment_schedule``):
    ``n`` segments of K and, when K·n < ``num_updates``, a last shorter one of the rest, so that every
    update trains."""
    from rl_zoo.driver.runner import segment_schedule

    return list(segment_schedule(num_updates, num_evals))


def eval_steps(plan: list[int], env_steps_per_update: int) -> np.ndarray:
    """Env steps at each evaluation of a :func:`segment_plan` (0 first, ``num_updates`` × steps last)."""
    return np.concatenate([[0], np.cumsum(plan)]).astype(np.int64) * env_steps_per_update


def train_and_evaluate(agent, evaluate, num_evals: int, seed):
    """Pure, for ``jax.jit`` / ``jax.vmap`` over ``seed`` (an integer): ``agent.init``, then every one of
    ``agent.num_updates`` updates in the segments of :func:`segment_plan`, with ``evaluate(state, key) ->
    pytree`` before training and after each segment. Returns (evaluations ``[E + 1, ...]``, per-update
    metrics ``[num_updates, ...]``): ``n`` scanned segments of K, then, where K does not divide the
    updates, one shorter segment of the rest and its evaluation.

    The keys are ``rl-zoo train --seed``'s (``rl_zoo.driver.plan``): the initial state of
    ``jax.random.key(seed)``, evaluation ``i`` (0 before training) with ``fold_in(fold_in(key, 1), i)``,
    so an experiment's seed 1000 starts where ``rl-zoo train --seed 1000`` starts."""
    import jax
    import jax.numpy as jnp

    from rl_zoo.driver.runner import segment_sizes

    k, n = segment_sizes(agent.num_updates, num_evals)
    rest = agent.num_updates - k * n
    key = jax.random.key(seed)
    eval_key = lambda i: jax.random.fold_in(jax.random.fold_in(key, 1), i)  # noqa: E731

    def segment(length: int):
        def run(state, i):
            state, metrics = jax.lax.scan(lambda s, _: agent.update(s), state, None, length)
            return state, (evaluate(state, eval_key(i)), metrics)

        return run

    def cat(*trees):
        return jax.tree.map(lambda *xs: jnp.concatenate(xs), *trees)

    state = agent.init(key)
    first = jax.tree.map(lambda x: x[None], evaluate(state, eval_key(0)))
    state, (evals, metrics) = jax.lax.scan(segment(k), state, jnp.arange(1, n + 1))
    metrics = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), metrics)  # [n, K, ...] -> [n K, ...]
    evals = cat(first, evals)
    if rest:
        state, (last, last_metrics) = segment(rest)(state, n + 1)
        evals, metrics = cat(evals, jax.tree.map(lambda x: x[None], last)), cat(metrics, last_metrics)
    return evals, metrics


def make_seed_runs(module, config, env_id: str, num_evals: int, eval_episodes: int):
    """A jitted ``run(seeds [S]) -> (eval_returns [S, E + 1], metrics [S, U])``, the env steps of the
    E + 1 evaluations, and the env steps per update: each seed trains ``module`` with ``config`` for all
    of its ``U = num_updates`` updates (:func:`train_and_evaluate`), the seeds vmapped in one program,
    and evaluates the greedy policy on ``eval_episodes`` fresh episodes (``rl_zoo.core.evaluate``)
    before training and after each segment of :func:`segment_plan` (about ``num_evals`` of them).
    (A grid of hyperparameter values is ``rl_zoo.sweep``'s job; this keeps every update's metrics.)"""
    import jax

    import envs
    from rl_zoo.core.evaluate import evaluate

    env, env_params = envs.make(env_id)
    agent = module.make_agent(config, env, env_params)
    steps = eval_steps(segment_plan(agent.num_updates, num_evals), agent.env_steps_per_update)
    greedy = lambda state, k: evaluate(agent.act, state, env, env_params, k, eval_episodes).mean()  # noqa: E731
    run = jax.jit(jax.vmap(lambda seed: train_and_evaluate(agent, greedy, num_evals, seed)))
    return run, steps, agent.env_steps_per_update


# --------------------------------------------------------------------------------------------------
# Seeds: the tuned configs of rl_zoo/hyperparams were chosen on seeds 0-9 (some on 200-209); the
# experiments report on seeds nobody tuned on, from REPORT_SEED up (as the benchmarks do)

REPORT_SEED = 1000


def seed_ids(first: int, n: int):
    """The seeds ``first`` .. ``first + n - 1`` as an int32 array, to vmap :func:`train_and_evaluate` over."""
    import jax.numpy as jnp

    return jnp.arange(first, first + n, dtype=jnp.int32)


def seed_keys(first: int, n: int):
    """The PRNG keys of seeds ``first`` .. ``first + n - 1``: ``jax.random.key(seed)``, as ``rl-zoo train --seed`` makes them."""
    import jax

    return jax.vmap(jax.random.key)(seed_ids(first, n))


def seeds_text(first: int, n: int) -> str:
    """"seeds 1000–1007" (or "seed 1000")."""
    return f"seed {first}" if n == 1 else f"seeds {first}–{first + n - 1}"


# --------------------------------------------------------------------------------------------------
# The command lines (run.py): one clear line for bad input, the recorded run, the index


def fail(message: str, code: int = 2):
    """Stop a command with one line on stderr (no traceback) and exit status ``code``."""
    import sys

    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (``--seeds 0`` is refused with one line)."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not >= 1")
    return value


def read_record(folder: Path, name: str) -> dict:
    """The JSON record ``name`` of an earlier run in ``folder`` (for ``--report`` / ``--replot``); a
    missing or unreadable one stops the command with one line (nothing is created)."""
    path = Path(folder) / name
    if not path.is_file():
        fail(f"{path} not found: --report and --replot rewrite the outputs of a finished run in that folder; "
             "run the experiment there first (or pass --out to the run's folder)")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        fail(f"{path} is not valid JSON ({e})")


def require_file(path: Path, what: str) -> Path:
    """``path`` if it exists, else stop with one line that says what it is (e.g. the raw arrays of ``--replot``)."""
    if not Path(path).is_file():
        fail(f"{path} not found ({what})")
    return Path(path)


def config_from_record(config_class, record) -> object:
    """A Config as a run recorded it (``dataclasses.asdict`` in its JSON), for ``--report`` / ``--replot``:
    rebuilt from the recorded values, not from today's tuned files. A record of an older format (the
    config as text) stops the command with one line."""
    import dataclasses

    if not isinstance(record, dict):
        fail("the run's record holds its configs as text (an older format): run the experiment again to record them")
    names = {f.name for f in dataclasses.fields(config_class)}
    missing = [f.name for f in dataclasses.fields(config_class) if f.name not in record]
    if missing:  # a field added since the run: its value then was the default of that time, unknown here
        print(f"note: the recorded config has no {', '.join(missing)} (added since); today's default is shown")
    return config_class(**{k: tuple(v) if isinstance(v, list) else v for k, v in record.items() if k in names})


def is_experiment_folder(out: Path, here: Path) -> bool:
    """Whether ``out`` is the experiment's own folder ``here`` (however it was spelled): only then does
    a run rebuild the experiments index."""
    return Path(out).resolve() == Path(here).resolve()


def finish_index(out: Path, here: Path) -> None:
    """Rebuild ``experiments/README.md`` (:func:`write_index`) after a run into the experiment's own folder."""
    if is_experiment_folder(out, here):
        write_index()


# --------------------------------------------------------------------------------------------------
# Generated text: the experiments index and small formatting helpers for the READMEs

EXPERIMENTS = Path(__file__).resolve().parent
#: index order; experiment folders not listed here follow alphabetically
INDEX_ORDER = ["overestimation", "stability", "trpo_cost", "clip_vs_kl", "overall"]
BUDGET_MIN = 20

INDEX_INTRO = """\
# Experiments

Each folder asks one question and answers it with one command, run from the repository root. The
command trains everything it needs (seeds, and swept hyperparameters where there are any, vmapped
in compiled JAX programs) and writes its figures, small CSVs of the plotted numbers, a `README.md`
and a one-line `finding.md` beside itself (rlhf: its `results/results.md`; its README and finding are
written by hand from it), then rebuilds this index (`common.write_index()`). {timing}
`--quick` runs a small smoke version into `/tmp`.
"""

INDEX_CONVENTIONS = """\
Layout of an experiment (a package, `experiments/<name>/`):
* `compute.py` trains and measures (a small function per training program: a sweep could replace
  it), `plots.py` draws the figures, `report.py` fills in `readme_template.md`, `run.py` is the
  command line (`--quick`; `--replot` from the raw arrays of the last run, `raw.npz`, not in git;
  `--report` rewrites the README and finding from the recorded numbers, where the experiment has it).
* The README's tables and numbers are generated, and so are the verdicts that follow from the
  intervals (overlap, significance, which is larger), so that a rerun cannot leave a stale one
  (overestimation, clip_vs_kl); the rest of the interpretation is written by hand in
  `readme_template.md`, after the run it describes. When a rerun changes the numbers, check the
  words against the tables.

Conventions:
* Bands and error bars are 95% intervals over seeds: percentile bootstrap (`rl_zoo.stats`)
  unless a figure says otherwise. The tabular overestimation figure uses t-intervals over 10,000
  seeds; collapse fractions use Wilson intervals.
* Returns are greedy-policy evaluations on separate env copies.
* Each script records its configs and wall time (`run_info.json` or `summary.json`).
* Shared helpers (bands, sweeps, number formatters, README templates, this index) live in `common.py`.
"""


def run_record(folder: Path) -> dict:
    """The recorded run info of an experiment folder (``run_info.json`` or ``summary.json``), or ``{}``."""
    for name in ("run_info.json", "summary.json"):
        path = Path(folder) / name
        if path.exists():
            try:
                return json.loads(path.read_text())
            except ValueError:
                continue
    return {}


def fmt_minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def load_at_start(machine_line: str | None) -> str | None:
    """The 1-minute load average from a :func:`machine` line (``None`` if it has none)."""
    if not machine_line or "load average at start" not in machine_line:
        return None
    return machine_line.split("load average at start", 1)[1].split(",")[0].strip()


def cpu_of(machine_line: str | None) -> str | None:
    """The CPU a :func:`machine` line names, shortened ("AMD EPYC", "Intel Xeon"); ``None`` for a line of
    before it named one ("x86_64, 2 CPU cores, ...")."""
    if not machine_line or " (" not in machine_line.split(",")[0]:
        return None
    return machine_line.split(" (", 1)[0].replace("(R)", "").replace(" Processor", "").strip()


def write_index(root: Path | None = None) -> Path:
    """Rebuild ``experiments/README.md``: one row per experiment folder (one with a ``run.py``), its
    command, its recorded wall time (``wall_s`` of ``run_info.json`` / ``summary.json``) and the one
    line of ``finding.md`` its run.py wrote ("not run yet" where there is none)."""
    root = Path(root) if root is not None else EXPERIMENTS
    folders = [p.parent.name for p in root.glob("*/run.py")]
    folders = [n for n in INDEX_ORDER if n in folders] + sorted(n for n in folders if n not in INDEX_ORDER)
    rows, walls = [], []
    for name in folders:
        folder = root / name
        finding_path = folder / "finding.md"
        finding = " ".join(finding_path.read_text().split()) if finding_path.exists() else ""
        if not finding:
            finding, time_here = "not run yet", "–"
        else:
            rec = run_record(folder)
            wall = rec.get("wall_s")
            if isinstance(wall, (int, float)):
                walls.append((name, float(wall), load_at_start(rec.get("machine"))))
                cpu = cpu_of(rec.get("machine"))
                time_here = fmt_minutes(wall) + (f" ({cpu})" if cpu else "")
            else:
                time_here = "not recorded"
        rows.append(f"| [{name}]({name}/) | `python -m experiments.{name}.run` | {time_here} | {finding} |")
    if walls:
        over = [w for w in walls if w[1] > BUDGET_MIN * 60]
        if over:
            timing = ("The times are the last full run of each, on a 2-core CPU (named beside the time where "
                      "recorded), some shared with other jobs; "
                      + "; ".join(f"{n} took {fmt_minutes(w)}, over the {BUDGET_MIN}-minute budget"
                                  + (f" (load average {ld} at its start)" if ld else "") for n, w, ld in over) + ".")
        else:
            timing = (f"Every run below finished in under {BUDGET_MIN} minutes on a 2-core CPU (named beside the "
                      "time where recorded) shared with other jobs (time here: the last full run, recorded by the script).")
    else:
        timing = "No full run has been recorded yet."
    intro = INDEX_INTRO.format(timing=timing).split("\n", 2)
    intro = "\n".join(intro[:2]) + "\n" + textwrap.fill(" ".join(intro[2].split()), 100) + "\n"
    text = (intro + "\n"
            + "| experiment | command | time here | finding |\n|---|---|---:|---|\n"
            + "\n".join(rows) + "\n\n" + INDEX_CONVENTIONS)
    path = root / "README.md"
    path.write_text(text)
    print(f"wrote {path}")
    return path


def write_finding(folder: Path, line: str, smoke: bool = False) -> str:
    """``finding.md``: the experiment's finding in one line (for the index); returns the line. A smoke
    run's (``--quick``) says so first: its hand-worded claims were written for the full run's numbers."""
    path = Path(folder) / "finding.md"
    line = " ".join((("Smoke run (`--quick`), not a result: " if smoke else "") + line).split())
    atomic_write_text(path, line + "\n")
    print(f"wrote {path}")
    return line


def fill_template(template: Path, path: Path, fields: dict) -> Path:
    """Write ``template`` (markdown with ``{field}`` slots; ``{{``/``}}`` for literal braces) filled in
    with ``fields`` to ``path``. A slot without a field is an error that names the template."""
    text = Path(template).read_text()
    try:
        filled = text.format_map(fields)
    except KeyError as e:
        raise KeyError(f"{template}: the template has the slot {e} but the report gives no such field; "
                       "add it to the report's fields() or remove it from the template") from None
    atomic_write_text(path, filled)
    print(f"wrote {path}")
    return Path(path)


def num(x: float, sig: int = 3) -> str:
    """A number for prose and tables: ``sig`` significant digits (integers from 100 on), a true minus."""
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    s = f"{x:.0f}" if abs(x) >= 10 ** (sig - 1) else f"{x:.{sig}g}"
    if "e" in s:  # tiny values: keep them readable
        s = f"{x:.1e}"
    return s.replace("-", "−")


def intervals_overlap(a, b) -> bool:
    """Whether two intervals ``(point, low, high)`` overlap (which does not show their means equal)."""
    return a[1] <= b[2] and b[1] <= a[2]


def signed(x: float, spec: str = ".2f") -> str:
    """``format(x, spec)`` with a true minus (``spec`` "+.1f" adds the sign of positive numbers too)."""
    return format(x, spec).replace("-", "\u2212")


def short_sci(x: float) -> str:
    """A swept value as the tables show it: 1e-4, 3e-3, 0.1."""
    if x >= 0.1:
        return f"{x:g}"
    m, e = f"{x:.0e}".split("e")
    return f"{m}e{int(e)}"


def sig2(x: float) -> str:
    """Two significant digits, short scientific below 0.01 (KL values): 2e-6, 1.4e-3, 0.026, 0.56."""
    if x >= 0.01:
        return f"{x:.2g}"
    m, e = f"{x:.1e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e)}"


def f2(x: float) -> str:
    """Two decimals and a true minus, never "−0.00" (normalised scores)."""
    t = f"{float(x):.2f}"
    return "0.00" if t == "-0.00" else t.replace("-", "−")


def pow2(x: float) -> str:
    """A power of 2 as a short number: 4, 1/8, 2^-9 (the adaptive-KL beta only takes values 2^k)."""
    k = int(round(np.log2(x)))
    return str(2 ** k) if k >= 0 else (f"1/{2 ** -k}" if k > -8 else f"2^{k}")


def and_list(items) -> str:
    """"a", "a and b", "a, b and c"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def config_field(config: str, field: str) -> str:
    """A field of a config as ``run_info.json`` records it (``str(config)``), "?" if it is not there."""
    import re

    m = re.search(rf"\b{field}=([^,)]+)", config)
    return m.group(1) if m else "?"


def pct(x: float) -> str:
    return f"{100 * float(x):.0f}%"


def ci_text(m: float, lo: float, hi: float, sig: int = 3, brackets: str = "()") -> str:
    return f"{num(m, sig)} {brackets[0]}{num(lo, sig)}, {num(hi, sig)}{brackets[1]}"


def run_line(wall_s: float, machine_line: str) -> str:
    """The README's run-time sentence from the recorded wall time and :func:`machine` line."""
    load = load_at_start(machine_line)
    cores = machine_line.split(" CPU cores")[0].split(", ")[-1] if "CPU cores" in machine_line else "?"
    over = "" if wall_s <= BUDGET_MIN * 60 else f" This is over the {BUDGET_MIN}-minute budget."
    cpu = f" of an {cpu_of(machine_line)}" if cpu_of(machine_line) else ""
    return (f"{wall_s:.0f} s ({fmt_minutes(wall_s)}) for the whole script, on {cores} CPU cores{cpu} (1-minute load "
            f"average {load if load else '?'} at the start; above 1, other work shared them).{over}")


def write_md(path: Path, lines: list[str], width: int = 100) -> Path:
    """Write markdown lines, wrapping prose and bullet lines at ``width`` (tables, code blocks,
    headings, images and comments are left as they are)."""
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if (len(line) <= width or not stripped or line.startswith("    ") and not stripped[:2] in ("* ", "1.", "2.", "3.")
                or stripped[0] in "|#!<"):
            out.append(line)
            continue
        bullet = stripped[:2] if stripped[:2] in ("* ", "- ") else (stripped[:3] if stripped[:1].isdigit() and stripped[1:3] == ". " else "")
        out.append(textwrap.fill(stripped, width, initial_indent=" " * indent,
                                 subsequent_indent=" " * (indent + len(bullet)), break_on_hyphens=False,
                                 break_long_words=False))
    path = Path(path)
    path.write_text("\n".join(out) + "\n")
    print(f"wrote {path}")
    return path
