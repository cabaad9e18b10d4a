"""Run directories: resolved config, library versions, metrics rows and summaries, written atomically.

    runs/<algo>-<env>-<YYYYmmdd-HHMMSS>/
        config.json     algorithm, env, seeds, resolved config, library versions, command
        metrics.csv     one row per evaluation and seed: env_steps, wall_s, seed, return, train_return
        summary.json    final greedy return per seed and mean, env steps, compile/train seconds, steps/s
        curve.png       return against env steps, mean and per seed

Every file is written to a temporary file in the same folder and renamed over the old one, so a
crash leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import functools
import os
import re
import tempfile
import time
from importlib import metadata  # noqa: F401  (tests patch runs.metadata.version)
from pathlib import Path
from typing import Any, Iterable

from rl_zoo.provenance import (ENV_BACKENDS, UNRECORDED_JAX_VARIABLES, cpu_name, git_commit,  # noqa: F401
                               source_commit, versions)

METRIC_FIELDS = ("env_steps", "wall_s", "seed", "return", "train_return")


@functools.cache
def _default_file_mode() -> int:
    """The mode ``open()`` would give a new file (0o666 less the umask); ``mkstemp`` makes 0o600.
    Read once, from ``/proc/self/status`` where there is one (Linux); elsewhere by setting the umask for a
    moment, during which another thread's new file would get the mode 0o666."""
    try:
        line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("Umask:"))
        umask = int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask


def temporary_stem(name: str) -> str:
    """What a temporary file beside ``name`` is named after: ``name`` itself (``.NAME.<8 random>.tmp``, which the
    program store's and resume's clean-ups look for), or, for a name over 200 bytes, its first 64 bytes and its
    suffix (the whole name and 13 bytes more went over NAME_MAX: a valid 250-byte figure name failed)."""
    if len(os.fsencode(name)) <= 200:
        return name
    stem, suffix = os.path.splitext(name)
    return os.fsencode(stem)[:64].decode(errors="ignore") + suffix[:16]


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:  # mkstemp inside: an interrupt between it and the write leaves no empty temporary behind
        fd, tmp = tempfile.mkstemp(prefix=f".{temporary_stem(path.name)}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(x):
    try:
        import numpy as np

        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, np.ndarray):
            return x.tolist()
    except ImportError:
        pass
    if isinstance(x, tuple):
        return list(x)
    return str(x)


def write_csv(path, rows: Iterable[dict], fields: Iterable[str] = METRIC_FIELDS) -> None:
    atomic_write_text(path, CsvText(fields, rows).text())


class CsvText:
    """A CSV file's text (header and rows, as ``csv.DictWriter`` writes them), kept row by row so that a file rewritten
    whole after each new row formats only the new ones: a run's metrics.csv is written at every evaluation, and
    formatting every row again made a 4,000-evaluation run spend 55 s of its 80 s writing it."""

    def __init__(self, fields: Iterable[str] = METRIC_FIELDS, rows: Iterable[dict] = ()):
        self._buf = io.StringIO()
        self._writer = csv.DictWriter(self._buf, fieldnames=list(fields), extrasaction="ignore")
        self._writer.writeheader()
        self.add(rows)

    def add(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self._writer.writerow(row)

    def text(self) -> str:
        return self._buf.getvalue()


def read_csv(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


class RunFileError(ValueError):
    """A file of a run directory that cannot be used as it is: the message names the file, what is
    wrong and what to do."""


def file_error(path, problem: str, todo: str) -> RunFileError:
    """``PATH: PROBLEM. TODO`` (one full stop where ``problem`` ends with its own: "... Known algorithms: ppo, ...".)"""
    return RunFileError(f"{path}: {problem.rstrip('.')}. {todo}")


def read_json_file(path, required: Iterable[str] = (), todo: str = "Restore it from a copy, or start a new run") -> dict:
    """A JSON object read back from ``path``, with the keys ``required``; else ``RunFileError`` naming
    the file, what is wrong (not found, not JSON, not an object, a key missing) and ``todo``."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise file_error(path, "not found", todo) from None
    except (OSError, UnicodeDecodeError) as e:
        raise file_error(path, f"cannot be read ({e})", todo) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        where = "it is empty" if not text.strip() else f"line {e.lineno} column {e.colno}: {e.msg}"
        raise file_error(path, f"is not valid JSON ({where})", todo) from None
    if not isinstance(data, dict):
        raise file_error(path, f"holds a JSON {type(data).__name__}, not an object", todo)
    missing = [k for k in required if k not in data]
    if missing:
        raise file_error(path, f"lacks the field(s) {', '.join(map(repr, missing))}", todo)
    return data


def _metric_value(name: str, text: str):
    return int(text) if name in ("env_steps", "seed") else float(text)


#: written into a run directory the NaN guard stopped (`rl-zoo train` exit 3): its message and how far the run was
#: evaluated, so that `rl-zoo plot` says "diverged" rather than "stopped" (a Ctrl-C'd run's word)
DIVERGED = "diverged.json"


def record_divergence(run_dir, message: str) -> None:
    """Write ``DIVERGED`` for a run the NaN guard stopped with ``message``: that message, when, and the last env
    step metrics.csv holds an evaluation of (a resume that goes past it is no longer the diverged run). A file
    that cannot be written is left out: the guard's own error is what the user must see."""
    run_dir = Path(run_dir)
    try:
        rows = read_metrics(run_dir / "metrics.csv") if (run_dir / "metrics.csv").is_file() else []
    except (RunFileError, OSError):
        rows = []
    try:
        atomic_write_json(run_dir / DIVERGED, {"message": message, "time": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
                                               "evaluated_up_to": max((int(r["env_steps"]) for r in rows), default=None)})
    except OSError:
        pass


def diverged(run_dir, rows: list[dict]) -> bool:
    """Whether the run in ``run_dir``, whose metrics.csv holds ``rows``, ended where the NaN guard stopped it
    (``DIVERGED`` there, written when its last evaluation was the last of ``rows``)."""
    try:
        record = json.loads((Path(run_dir) / DIVERGED).read_text())
    except (OSError, ValueError):
        return False
    last = max((int(r["env_steps"]) for r in rows), default=None)
    return isinstance(record, dict) and record.get("evaluated_up_to") == last


def metrics_not_written(run_dir) -> str:
    """What ``rl-zoo plot`` says of a run directory (``config.json`` there) without ``metrics.csv``."""
    return (f"{Path(run_dir) / 'metrics.csv'}: not written yet (a run writes it at its first evaluation; this one is "
            "compiling, or stopped before it): plot the run after its first evaluation")


def read_metrics(path, todo: str = "Restore it from a copy, or start a new run") -> list[dict]:
    """The rows of a driver's ``metrics.csv``, numbers parsed (``env_steps`` and ``seed`` int, the rest
    float), so that writing them back gives the same text; ``RunFileError`` naming the file and the
    line when the header or a value is wrong, a row repeats an earlier one's env step and seed or comes
    before it, or the file ends inside a line (cut inside its last number, it parsed as another number)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END):  # not empty: its last byte
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    raise file_error(path, "ends inside its last line (every line the driver writes ends with a line "
                                     "break): it was cut short", todo)
        with open(path, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise file_error(path, "is empty (not even the header line)", todo)
            if tuple(header) != METRIC_FIELDS:
                raise file_error(path, f"has the columns {header}, expected {list(METRIC_FIELDS)}", todo)
            rows, seen = [], {}  # (env_steps, seed) -> line
            for line, values in enumerate(reader, start=2):
                if len(values) != len(METRIC_FIELDS):
                    raise file_error(path, f"line {line} has {len(values)} values, expected {len(METRIC_FIELDS)}", todo)
                try:
                    rows.append({k: _metric_value(k, v) for k, v in zip(METRIC_FIELDS, values)})
                except ValueError:
                    bad = next(k for k, v in zip(METRIC_FIELDS, values) if not _parses(k, v))
                    kind = "a whole number" if bad in ("env_steps", "seed") else "a number"
                    raise file_error(path, f"line {line}: {bad} = {values[METRIC_FIELDS.index(bad)]!r} is not {kind}", todo) from None
                key = (rows[-1]["env_steps"], rows[-1]["seed"])
                if key in seen:
                    raise file_error(path, f"line {line} repeats line {seen[key]} (env step {key[0]:,}, seed {key[1]})", todo)
                if len(rows) > 1 and key[0] < rows[-2]["env_steps"]:
                    raise file_error(path, f"line {line} (env step {key[0]:,}) comes after env step {rows[-2]['env_steps']:,}: "
                                     "the rows are out of order", todo)
                seen[key] = line
            return rows
    except FileNotFoundError:
        raise file_error(path, "not found", todo) from None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise file_error(path, f"cannot be read ({e})", todo) from None


def _parses(name: str, text: str) -> bool:
    try:
        _metric_value(name, text)
        return True
    except ValueError:
        return False


def plural(n: int, noun: str) -> str:
    """``"1 seed"``, ``"2 seeds"``: a count with its noun, for the lines and reports that print one."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def env_label(env_id: str, env_kwargs: dict | None = None) -> str:
    """``env_id`` with the options its env was made with, as a run's summary line, figure and ``enjoy`` name
    it: ``"LunarLander-v3 (continuous=true)"`` (sorted by name, each value as ``--env-kwargs`` takes it, so the
    same options give the same label in any order); the id alone without options."""
    if not env_kwargs:
        return env_id
    from envs.options import option_text

    return f"{env_id} ({', '.join(f'{k}={option_text(v)}' for k, v in sorted(env_kwargs.items()))})"


def asked_total_steps(cfg: dict) -> int | None:
    """The env steps per seed a run's config.json (read as ``cfg``) asked for (its config's ``total_timesteps``), or
    ``None`` where it holds no finite number (a hand-edited file: "config": "x" was an AttributeError, 1e400 an
    OverflowError). ``rl-zoo plot`` says an unfinished run's progress out of it."""
    import math

    total = cfg["config"].get("total_timesteps") if isinstance(cfg.get("config"), dict) else None
    if isinstance(total, (int, float)) and not isinstance(total, bool) and math.isfinite(total):
        return int(total)
    return None


def recorded_env_label(config: dict) -> str:
    """``env_label`` of what a run's ``config.json`` (its contents ``config``) records: its env and options."""
    options = config.get("env_kwargs")
    return env_label(str(config.get("env")), options if isinstance(options, dict) else None)


def env_kwargs_args(env_kwargs: dict | None) -> str:
    """``" --env-kwargs K=V ..."``: each pair written as ``--env-kwargs`` reads it back (``env_kwargs_pairs``), to
    follow ``--env ENV_ID`` in a command line; ``""`` for none."""
    return " --env-kwargs " + env_kwargs_pairs(env_kwargs) if env_kwargs else ""


def env_kwargs_pairs(env_kwargs: dict) -> str:
    """``"K=V ..."``: each pair written as ``--env-kwargs`` reads it back (``envs.options.option_text``), shell-quoted."""
    import shlex

    from envs.options import option_text

    return " ".join(shlex.quote(f"{k}={option_text(v)}") for k, v in env_kwargs.items())


def slug(text: str) -> str:
    """``text`` as a safe file-name part (runs of other characters become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)



def check_output_folder(path: str | os.PathLike, option: str, given: str | os.PathLike | None = None) -> None:
    """Refuse, before any work, an output folder that cannot be made or written: ``path`` (given on the
    command line as ``option``, or as the folder of ``given``) must be a folder, or not exist yet below a
    writable folder. Raises ``ValueError`` naming the option, what was given and the part of the path in the way."""
    path = Path(path)
    shown = str(path if given is None else given)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{option} {shown!r}: {'it' if given is None else repr(str(path))} is a file, not a folder; give a folder")
    for nearest in (path, *path.absolute().parents):  # the nearest folder there is, or a link to nothing in the way
        if nearest.exists():
            break
        if nearest.is_symlink():  # "exists" is False, and making the folder there was errno 17
            raise ValueError(f"{option} {shown!r}: {str(nearest)!r} is a link to {os.readlink(nearest)!r}, which does not "
                             f"exist; make that folder first, or give another")
    if not nearest.is_dir():
        raise ValueError(f"{option} {shown!r}: {str(nearest)!r} is a file, so no folder can be made below it")
    if not writable_folder(nearest):
        raise ValueError(f"{option} {shown!r}: the folder {str(nearest)!r} is not writable")


def check_file_folder(path: str | os.PathLike, said: str, writable: bool = True) -> None:
    """Refuse, before any work, an output file ``path`` whose folder is a file, does not exist (``FileNotFoundError``)
    or, with ``writable``, cannot be written; ``said`` begins each message (the option and what was given). A
    figure's ``-o`` and a video's ``--record`` check their files so."""
    parent = Path(path).parent
    if parent.exists() and not parent.is_dir():
        raise ValueError(f"{said}: {str(parent)!r} is a file, not a folder")
    if not parent.is_dir():
        raise FileNotFoundError(f"{said}: the folder {str(parent)!r} does not exist (create it first)")
    if writable and not writable_folder(parent):  # /proc, /sys, a read-only mount: it failed on a temporary file later
        raise ValueError(f"{said}: the folder {str(parent)!r} is not writable")


def writable_folder(folder: str | os.PathLike) -> bool:
    """Whether a file can be made in the existing ``folder``: its permissions, then a probe file made and
    removed (as root, a read-only mount, /proc or /sys passes the permission check)."""
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".rl_zoo_probe_"):
            return True
    except OSError:
        return False


def rlhf_run_words(folder: str | os.PathLike) -> str:
    """What an ``rl-zoo rlhf`` run directory is not (its config.json records a "pipeline", not an "algo"), and where
    its results are; one without summary.json (written last) was stopped before its end, and has none."""
    results = ("its results are its summary.json, samples.md and stages.png" if (Path(folder) / "summary.json").is_file()
               else "this one has no summary.json: it was stopped before its end, and holds no results (delete it)")
    return (f"an `rl-zoo rlhf` run directory: `rl-zoo train --resume`, `rl-zoo enjoy` and `rl_zoo.load` take those of "
            f"`rl-zoo train`; an rlhf run does not resume, and {results}")


FOLDER_KINDS = {"sweep": "a sweep folder (`rl-zoo sweep`)", "benchmark": "a benchmark folder (`rl-zoo benchmark`)",
                "run": "a run directory (`rl-zoo train`)"}


def mean_return(returns) -> float:
    """The mean of per-seed returns in float64, as the summary and metrics.csv's readers take it: the float32 mean of
    388.7 and 165.8 is exactly 277.25, which the progress line printed as 277.2 where the summary said 277.3."""
    import numpy as np

    return float(np.mean(np.asarray(returns, np.float64)))


def run_return_text(x: float) -> str:
    """A return on a run's terminal lines (its summary, its progress line): one decimal, two below 10 (FrozenLake's
    0.74 would show as 0.7, and 0.96 as 1.0)."""
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def return_text(x: float) -> str:
    """A return as the benchmark report's tables and a grid's console lines print it: two decimals below 10 (a success
    rate, FrozenLake's 0.74; the console's one decimal said 0.1 where the report said 0.05), one below 10,000, none
    above, with thousands separated (a run's own lines: ``run_return_text``)."""
    return f"{x:,.2f}" if abs(x) < 10 else f"{x:,.1f}" if abs(x) < 1e4 else f"{x:,.0f}"


def folder_kind(path: str | os.PathLike) -> str | None:
    """What an existing folder holds, by the files each command writes first: ``"sweep"`` (sweep.json),
    ``"benchmark"`` (cells/ or benchmark.json), ``"run"`` (config.json or metrics.csv); ``None`` for
    anything else (a missing or empty folder)."""
    path = Path(path)
    if not path.is_dir():
        return None
    if (path / "sweep.json").exists():
        return "sweep"
    if (path / "cells").is_dir() or (path / "benchmark.json").exists():
        return "benchmark"
    if (path / "config.json").exists() or (path / "metrics.csv").exists():
        return "run"
    return None


def refuse_other_kind(out: str | os.PathLike, mine: str, what: str) -> None:
    """``ValueError`` when ``out`` holds another command's outputs than ``mine`` (a ``folder_kind``), or
    files of no command (a folder of the user's own: its report.md was replaced): ``what`` (the command's
    outputs, "a sweep") would replace or mix with them. Hidden files (``.gitkeep``, a lock) do not count."""
    kind = folder_kind(out)
    if kind is not None and kind != mine:
        raise ValueError(f"{out} is {FOLDER_KINDS[kind]}: {what} there would replace or mix with its files; use another --out")
    if kind is None and Path(out).is_dir():
        others = sorted(p.name for p in Path(out).iterdir() if not p.name.startswith("."))
        if others:
            shown = ", ".join(others[:4]) + (f" and {len(others) - 4} more" if len(others) > 4 else "")
            raise ValueError(f"{out} holds other files ({shown}) and is not {FOLDER_KINDS[mine]}: {what} there could "
                             f"replace them; use a new or empty --out (nothing was touched)")


def is_rlhf_config(data: dict) -> bool:
    """Whether a config.json's contents are an ``rl-zoo rlhf`` run's (``rl_zoo.rlhf.report``), not a train run's."""
    return "pipeline" in data and "algo" not in data


def holds_rlhf_run(folder: str | os.PathLike) -> bool:
    """Whether ``folder``'s config.json is an ``rl-zoo rlhf`` run's (False when there is none, or it does not read)."""
    try:
        return is_rlhf_config(json.loads((Path(folder) / "config.json").read_text()))
    except (OSError, ValueError, TypeError, AttributeError):
        return False


def refuse_non_empty(out: str | os.PathLike) -> Path:
    """``out`` as a path, if it is a run directory still to be made (missing or empty); else ``FileExistsError``
    (naming the resume command when the folder holds an ``rl-zoo train`` run)."""
    from rl_zoo.lock import holder

    path = Path(out)
    # a lock file alone, or with config.json's temporary: a run killed between taking the lock and writing config.json
    # (the lock itself refuses the folder while another process holds it)
    if path.exists() and not only_leftovers(path):
        # its advice (resume it, delete it) is for a stopped run; this process's own lock (rl-zoo rlhf checks again
        # holding it) is no other run
        if path.is_dir() and (pid := holder(path)) is not None and pid != os.getpid():
            raise FileExistsError(f"run directory {str(path)!r} is in use by {f'process {pid}' if pid else 'another process'}, "
                                  f"a run writing into it now; choose another --out (nothing in it was touched)")
        resume = ""
        if (path / "config.json").is_file():
            rlhf = holds_rlhf_run(path)
            whole = (path / "summary.json").exists()
            resume = ((" (it holds an `rl-zoo rlhf` run, which does not resume)" if whole else " (it holds an `rl-zoo rlhf` "
                       "run stopped before its end, without summary.json: delete it and run again; an rlhf run does not "
                       "resume)") if rlhf else
                      f", or continue the run it holds with `rl-zoo train --resume {path}` (a run stopped before its first "
                      "checkpoint starts again from the beginning)")
        raise FileExistsError(f"run directory {str(path)!r} already exists and is not empty; choose another --out{resume} "
                              "(nothing in it was touched)")
    return path


#: what a full disk, a full quota, a read-only or forbidden folder raise: the run stops with one line
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def remove_stale_temporaries(run_dir: str | os.PathLike) -> list[Path]:
    """Delete the ``.NAME.*.tmp`` files `atomic_write_bytes` leaves when its process is killed mid-write
    (a DQN checkpoint's is megabytes per seed; figures go through it too), in ``run_dir`` and its
    ``checkpoints``, and the ``.curve.tmp.png`` that rl_zoo.plots wrote before it did (a run of an older
    version resumed); call it holding the run directory's lock, so that no live writer owns them. Returns
    what it removed."""
    removed = []
    for folder in (Path(run_dir), Path(run_dir) / "checkpoints"):
        for tmp in folder.glob(".*.tmp*") if folder.is_dir() else ():
            if is_stale_temporary(tmp.name):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


def is_stale_temporary(name: str) -> bool:
    """Whether a file name is one of `atomic_write_bytes`'s temporaries (mkstemp's 8 random characters: ours, not a
    stranger's) or a figure's fixed temporary name: what a process killed mid-write leaves."""
    return bool(re.fullmatch(r"\..+\.[a-z0-9_]{8}\.tmp", name) or re.fullmatch(r"\.curve\.tmp\.png", name))


def only_leftovers(path: Path) -> bool:
    """Whether the folder ``path`` holds nothing but its lock and the temporaries of a process killed mid-write
    (between taking the lock and finishing config.json): a run that never started."""
    from rl_zoo.lock import LOCK_NAME

    return all(p.name == LOCK_NAME or is_stale_temporary(p.name) for p in path.iterdir())


def new_run_dir(algo: str, env_id: str, root: str | os.PathLike = "runs", out: str | os.PathLike | None = None) -> Path:
    """Create a fresh run directory. An explicit ``out`` that already holds files is refused, so
    that nothing of an earlier run is overwritten."""
    if out is not None:
        path = refuse_non_empty(out)
        path.mkdir(parents=True, exist_ok=True)
        return path
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{slug(algo)}-{slug(env_id)}-{stamp}"
    path, n = base, 1
    while True:
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            if not (path.exists() or path.is_symlink()):  # a folder above it is in the way: no other name helps (it
                raise  # looped forever under a --runs-root that is a link to nothing)
            n += 1
            path = base.with_name(f"{base.name}-{n}")
