"""Helpers shared by the experiments: confidence bands, figure saving, timing, CSV output, training
with in-program evaluations (every update trained, in the driver's segments), the reporting seeds,
the small statistics of ``rl_zoo.stats`` re-exported (Wilson, Fisher, Holm, a bootstrap difference), the command-line
helpers (one line for bad input, the recorded run). The index, README templates and the number formatters
of the READMEs are in ``experiments/reporting.py``.

Each experiment is a package (``experiments/<name>/``: ``compute.py``, ``plots.py``, ``report.py``,
``run.py``) run as ``python -m experiments.<name>.run``; it imports this module as
``from experiments import common``. The statistics come from ``rl_zoo.stats`` where it has them.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from rl_zoo import runs
from rl_zoo.plots import save_figure, shrink_png  # noqa: F401 (shrink_png: used by the experiments)
from rl_zoo.seeds import REPORT_SEED, TUNING_SEEDS, tuning_seeds_said  # noqa: F401 (the experiments use them from here)
from rl_zoo.runs import cpu_name, versions  # noqa: F401 (versions: the experiments' run records)
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
    ``jax.random.key(seed)``, evaluation ``i`` (0 before training) with ``rl_zoo.core.evaluate.eval_key``,
    so an experiment's seed 1000 starts where ``rl-zoo train --seed 1000`` starts."""
    import jax
    import jax.numpy as jnp

    from rl_zoo.core.evaluate import eval_key
    from rl_zoo.driver.runner import segment_sizes

    k, n = segment_sizes(agent.num_updates, num_evals)
    rest = agent.num_updates - k * n
    key = jax.random.key(seed)

    def segment(length: int):
        def run(state, i):
            state, metrics = jax.lax.scan(lambda s, _: agent.update(s), state, None, length)
            return state, (evaluate(state, eval_key(seed, i)), metrics)

        return run

    def cat(*trees):
        return jax.tree.map(lambda *xs: jnp.concatenate(xs), *trees)

    state = agent.init(key)
    first = jax.tree.map(lambda x: x[None], evaluate(state, eval_key(seed, 0)))
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

# (rl_zoo.seeds: REPORT_SEED, TUNING_SEEDS and tuning_seeds_said, imported above; the experiments use them from here)


def seed_ids(first: int, n: int):
    """The seeds ``first`` .. ``first + n - 1`` as an int32 array, to vmap :func:`train_and_evaluate` over."""
    import jax.numpy as jnp

    return jnp.arange(first, first + n, dtype=jnp.int32)


def seed_keys(first: int, n: int):
    """The PRNG keys of seeds ``first`` .. ``first + n - 1``: ``jax.random.key(seed)``, as ``rl-zoo train --seed`` makes them."""
    import jax

    return jax.vmap(jax.random.key)(seed_ids(first, n))


def check_seed_args(first: int, n: int, flag: str = "--seed", tuned: bool = True) -> None:
    """Stop with one line (``fail``, naming ``flag``) when the ``n`` seeds from ``first`` are not all int32:
    ``seed_ids`` would wrap them silently (2147483647 + 1 -> -2147483648), and the reports would name seeds
    that never ran. With ``tuned`` (an experiment of rl_zoo/hyperparams' configs), warn of tuning seeds
    (``warn_tuning_seeds``)."""
    from rl_zoo.config import ConfigError, check_seed_range

    try:
        check_seed_range(first, n, flag)
    except ConfigError as e:
        fail(str(e))
    if tuned:
        warn_tuning_seeds(first, n)


def seeds_text(first: int | None, n: int) -> str:
    """"seeds 1000–1007" (or "seed 1000"); ``first`` None (a record of an older format, which did not say): "8 seeds
    (which, the record does not say)", not a guess (it read as seeds 0–7, beside "tuned on seeds 0–9")."""
    if first is None:
        return f"{runs.plural(n, 'seed')} (which, the record does not say)"
    return f"seed {first}" if n == 1 else f"seeds {first}–{first + n - 1}"


def tuning_banner(first: int | None, n: int) -> str:
    """The line a README puts at its top (``reporting.fill_template``'s ``banner``) for a run on seeds that include
    tuning seeds (``--seed 0``): it went on to call them held out. Empty for held-out seeds."""
    said = tuning_seeds_said(first, n)
    return f"\n**Not held out: {said}.**\n" if said else ""


def warn_tuning_seeds(first: int, n: int) -> None:
    """One line on stderr, before training, where the seeds asked for include tuning seeds (``tuning_seeds_said``)."""
    import sys

    if said := tuning_seeds_said(first, n):
        print(f"warning: {seeds_text(first, n)} {'is' if n == 1 else 'are'} not held out: {said}", file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# The command lines (run.py): one clear line for bad input, the recorded run, the index


def fail(message: str, code: int = 2):
    """Stop a command with one line on stderr (no traceback) and exit status ``code``."""
    import sys

    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def command(main, again: str = "the same command starts it again") -> None:
    """``python -m experiments.<name>.run``: ``main()`` as a command. A Ctrl-C (or SIGTERM) ends it with one line and
    exit status 130 (143), where it was a traceback from deep inside JAX; the files written so far stay. ``again``:
    how to go on (overall's benchmark grid keeps its finished cells with --resume)."""
    from rl_zoo import interrupt

    with interrupt.installed(terminate=True):
        try:
            code = main()
        except KeyboardInterrupt:
            code = interrupt.say_stop(f": the files written so far stay; {again}", prefix="")
    raise SystemExit(code)


def output_folder(given: str | None, default: Path) -> Path:
    """The run's folder: ``--out`` as given, else ``default``. A file there stops the command with one line
    before any work (it was a traceback: FileExistsError, or NotADirectoryError from stability's sweeps/)."""
    out = Path(given) if given else Path(default)
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file: give the folder for the experiment's figures, tables and README")
    return out


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


def read_record(folder: Path, name: str, required: tuple[str, ...] = ()) -> dict:
    """The JSON record ``name`` of an earlier run in ``folder`` (for ``--report`` / ``--replot``); a
    missing or unreadable one, or one without the ``required`` fields (another experiment's, given the wrong
    ``--out``), stops the command with one line (nothing is created)."""
    path = Path(folder) / name
    if not path.is_file():
        fail(f"{path} not found: --report and --replot rewrite the outputs of a finished run in that folder; "
             "run the experiment there first (or pass --out to the run's folder)")
    try:
        record = json.loads(path.read_text())
    except ValueError as e:
        fail(f"{path} is not valid JSON ({e})")
    missing = [k for k in required if not isinstance(record, dict) or k not in record]
    if missing:
        fail(f"{path} is not a record of this experiment: it lacks {', '.join(missing)} (is --out another "
             f"experiment's folder?)")
    return record


def load_arrays(path: Path, keys=()) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file an earlier run wrote (for ``--replot``), read whole. A damaged file, or one
    without ``keys`` (of another experiment or an older version), stops the command with one line before anything
    is written (it was a traceback: BadZipFile, KeyError)."""
    import zipfile
    import zlib

    try:
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as e:
        fail(f"{path} is damaged ({type(e).__name__}: {e}): run the experiment again to write it")
    if missing := [k for k in keys if k not in arrays]:
        fail(f"{path} lacks {', '.join(missing[:3])}{f' and {len(missing) - 3} more' if len(missing) > 3 else ''}: "
             "not the arrays of this experiment's last run; run the experiment again to write them")
    return arrays


@contextlib.contextmanager
def reading_record(path: Path):
    """Around the code that writes a report from a recorded run (``--report`` / ``--replot``): a field missing from
    the record or in another form (a damaged file, or one of an older version) stops the command with one line that
    names the record, where it was a traceback (KeyError, StopIteration) from deep in the report."""
    try:
        yield
    except (KeyError, TypeError, IndexError, ValueError, AttributeError, StopIteration) as e:
        fail(f"{path} lacks a field the report reads, or holds it in another form ({type(e).__name__}: {e}): "
             "damaged, or of an older version; run the experiment again to record it")


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
