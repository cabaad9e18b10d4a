"""The raw-results file of a benchmark script (``benchmarks/results/<name>.json``): read it, and
rewrite it whole and atomically after each measurement, so that an interrupted run loses only the
measurement in progress and never leaves a half-written file; the Markdown report (``write_report``),
written above what the file held before, so a rerun adds its table and loses none; the CPU's name and load, recorded with
the timings; the checks of the flags the scripts share (``require_counts``, ``require_results_file``,
``require_results_folder``, ``seed_counts``); and ``timed``, how the peer and driver speed scripts time a
whole command (``sweep_speed.py`` times its commands cold with ``RL_ZOO_NO_CACHE=1``, ``dqn.py speed`` its
child with no cache, each its own way). Also: ``save_run``, the raw file of a script that records one run per file,
earlier runs kept under "earlier"; ``recorded_command``, the command line a report quotes, as given; ``software``, the
versions line; and the up-front checks of what a script passes on (``train_args_problem``, ``env_problem``,
``require_revision``).

Imported by the benchmark scripts (``dqn.py``, ``q_learning.py``, ``policy_gradient.py`` and its plan,
``ppo_learning.py``, and the speed scripts), which run as scripts (``python benchmarks/<name>.py``), so
this folder is on ``sys.path``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path



def cpu_name() -> str:
    """The CPU's model name (``rl_zoo.runs.cpu_name``), imported when asked: the peer workers run these
    scripts with a peer's Python (``peer_speed.py --worker``), which has no rl_zoo to import."""
    from rl_zoo.runs import cpu_name as name

    return name()


def versions() -> dict[str, str]:
    """What a results row records of the software that measured it: jax, jaxlib, numpy, the rl_zoo commit
    and the JAX settings (``rl_zoo.runs.versions``, trimmed to those)."""
    from rl_zoo.runs import versions as all_versions

    keep = ("python", "jax", "jaxlib", "numpy", "rl-zoo-commit", "jax_backend", "jax_enable_x64")
    return {k: v for k, v in all_versions().items() if k in keep or k.startswith("env ")}


#: matplotlib's own cache (its font list): a fresh XDG_CACHE_HOME, which empties the JAX cache for a cold run,
#: would otherwise also make every cold run rebuild the font list, a cost no user pays twice
MPL_CACHE = os.environ.get("MPLCONFIGDIR") or str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib")


def cold_cache_env(cache_home: str | Path) -> dict:
    """The environment of an ``rl-zoo`` command whose JAX compilation cache lives in ``cache_home`` (an empty
    folder: a new user's first run; the same folder again: a warm one), with matplotlib's font list where
    it always is (``MPL_CACHE``), and without ``RL_ZOO_NO_CACHE``. The peer and driver speed scripts' cold
    runs use it (``sweep_speed.py`` and ``dqn.py`` run cold without the cache instead)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), MPLCONFIGDIR=MPL_CACHE)
    env.pop("RL_ZOO_NO_CACHE", None)
    return env


def no_cache_env() -> dict:
    """The environment of a command run cold with no persistent compilation cache at all: ``RL_ZOO_NO_CACHE=1``,
    and without ``JAX_COMPILATION_CACHE_DIR`` (with rl-zoo's cache off, JAX falls back on that variable, so a
    "cold" run in a shell that sets it could read earlier entries)."""
    env = dict(os.environ, RL_ZOO_NO_CACHE="1")
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    return env


def installed_versions() -> dict[str, str]:
    """``versions()``'s python, jax, jaxlib, numpy and rl_zoo commit, read without importing JAX: for a parent process
    whose children use the accelerator (``gpu_determinism.py``), where starting JAX would take the GPU's memory."""
    from importlib import metadata

    from rl_zoo.provenance import source_commit

    out = {"python": sys.version.split()[0]}
    for package in ("jax", "jaxlib", "numpy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    if commit := source_commit():
        out["rl-zoo-commit"] = commit
    return out


def software(recorded: dict | None = None, commit: bool = True) -> str:
    """``versions()`` (or ``recorded``, a row's) as a report's line says it: "python 3.12, jax 0.7.2, jaxlib ...", so that a
    timing can be set beside one taken under other versions (several reports named only the commits). ``commit=False``
    leaves out this checkout's commit, for a report that times other trees (driver_overhead's base and head)."""
    said = versions() if recorded is None else recorded
    return ", ".join(f"{k} {v}" for k, v in said.items() if commit or k != "rl-zoo-commit")


def machine() -> str:
    """The CPU model and core count of this machine, as a results row records where it was measured."""
    return f"{cpu_name()}, {os.cpu_count()} cores"


def seed_counts(parser, text: str, example: str = "1,16") -> list[int]:
    """``--seeds`` of a speed script (comma-separated seed counts, each measured apart) as ints; a bad
    one is ``parser.error`` (exit 2, one line) before anything runs."""
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        parser.error(f"--seeds = {text!r} is invalid: comma-separated seed counts, such as {example}")
    if min(counts) < 1:
        parser.error(f"--seeds = {text!r} is invalid: every seed count must be at least 1")
    return counts


def require_counts(parser, args, *flags: str) -> None:
    """Each of ``flags`` (attribute names of ``args``; ``None`` means unset) is a count of at least 1; one
    below is ``parser.error`` (exit 2, one line naming the flag as typed) before anything runs: 0 repeats
    wrote a table of nothing, 0 envs crashed inside JAX."""
    for flag in flags:
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} = {value} is invalid: must be at least 1")


def require_results_file(parser, path: str | Path, flag: str = "--out") -> None:
    """``--out`` (or ``flag``) of a script that writes one results file (and its .json beside it): a folder
    given instead is ``parser.error`` before anything runs, rather than a traceback after the measurements."""
    if Path(path).is_dir():
        parser.error(f"{flag} {path} is a folder: give the results file to write")


def require_results_folder(parser, path: Path, holds: str) -> None:
    """``--out`` of a script that writes a folder (``holds``: what goes in it, for the message): a file given
    instead is ``parser.error`` before anything runs; a folder not there yet is made later."""
    if path.exists() and not path.is_dir():
        parser.error(f"--out {path} is a file: give the folder for {holds}")


def load_results(path: Path, empty: dict | None = None) -> dict:
    """The results in ``path``; ``empty`` (default ``{}``) when there is no such file yet."""
    if path.exists():
        return json.loads(path.read_text())
    return {} if empty is None else empty


def require_results(path: Path, script: str) -> None:
    """A report-only mode's check: exit 2 naming ``path`` when it does not exist (an empty report with a
    "not recorded" header was written instead), before anything is made."""
    if not Path(path).exists():
        print(f"{script}: error: {path} not found: there are no results to report; run the benchmark with this "
              f"--out first", file=sys.stderr)
        raise SystemExit(2)


#: what a speed script's ``--out`` help says of a rerun (``write_report``)
RERUN_KEEPS = "a rerun writes its report on top and keeps what the file held below it"

#: the heading over what a results file held before ``write_report`` put a new report above it
EARLIER = "## Earlier in this file (before the report above, written {when})"


def file_text(path: str | Path) -> str:
    """What ``path`` holds now ("" if nothing): a script that rewrites its report after every row reads it once, at
    its start, and passes it to each ``write_report`` as ``earlier``."""
    return Path(path).read_text() if Path(path).exists() else ""


def write_report(path: str | Path, text: str, earlier: str | None = None) -> None:
    """Write the Markdown report ``text`` to ``path``, making its folder first as ``save_results`` does (a
    missing folder lost a whole run's measurements at this last write).

    A file already there keeps what it held below the new report, under ``EARLIER`` (its title line dropped
    when the new report starts with the same one): the results files carry earlier tables and readings
    written by hand, which a rerun of the script that made them once replaced whole. To start a file afresh,
    delete it first. ``earlier``: what the file held when the run began (``file_text``), for a script that writes
    its report after every row: read from the file each time, the run's own partial tables piled up below it, one
    "earlier" inside the other. Written as the library writes its run files (``rl_zoo.runs.atomic_write_text``: a
    temporary file beside it, then a rename), so an interrupted write loses neither."""
    from rl_zoo.runs import atomic_write_text  # imported when asked, as ``cpu_name`` is: peer workers have no rl_zoo

    path = Path(path)
    earlier = file_text(path) if earlier is None else earlier
    earlier = "" if earlier == text else earlier
    title = text.partition("\n")[0]
    if title.startswith("# ") and earlier.partition("\n")[0] == title:
        earlier = earlier.partition("\n")[2]
    if earlier.strip():
        text = f"{text.rstrip()}\n\n{EARLIER.format(when=now_utc())}\n\n{earlier.strip()}\n"
    atomic_write_text(path, text)  # makes the folder first


def save_results(path: Path, raw: dict) -> None:
    """Write ``raw`` to ``path`` as JSON (indent 1), as ``write_report`` writes (``rl_zoo.runs.atomic_write_text``)."""
    from rl_zoo.runs import atomic_write_text

    atomic_write_text(path, json.dumps(raw, indent=1))  # makes the folder first


#: the key under which ``save_run`` keeps what a one-run raw file held before (newest first)
EARLIER_RUNS = "earlier"

#: what the ``--out`` help of a script that writes its raw file with ``save_run`` says of its .json
RAW_KEEPS = f'the .json keeps earlier runs\' raw data under "{EARLIER_RUNS}"'


def save_run(path: Path, raw: dict) -> None:
    """Write the raw data of one whole run (``raw``) to ``path``, keeping what the file held: its earlier runs, newest
    first, in a list under ``EARLIER_RUNS``. The scripts that record one run per file (``command_start``,
    ``compile_levels``, ``compile_programs``, ``flat_optimizer``, ``ml_dtypes_import``) rewrote it whole, so a
    smoke run with ``--repeats 1`` replaced a committed run's 48 measurements with its own 12 while the .md
    (``write_report``) kept the old table. Called once per run, at its end; a file that is not a JSON object is
    kept whole as one earlier entry."""
    earlier = load_results(path) if Path(path).exists() else None
    runs = []
    if isinstance(earlier, dict):
        runs = [{k: v for k, v in earlier.items() if k != EARLIER_RUNS}] if set(earlier) - {EARLIER_RUNS} else []
        runs += earlier.get(EARLIER_RUNS, [])
    elif earlier is not None:
        runs = [earlier]
    save_results(path, {**raw, EARLIER_RUNS: runs} if runs else raw)


def recorded_command(script: str, argv: list[str] | None = None) -> str:
    """The command a results file quotes: ``python benchmarks/<script> ARGV`` with ``argv`` (default ``sys.argv[1:]``)
    quoted as given (``shlex.join``), so that pasting it reproduces the run. Several scripts wrote a fixed command or
    a few of their flags (``--only``, ``--sweep-separate`` left out) or joined the words with spaces."""
    import shlex

    args = sys.argv[1:] if argv is None else argv
    return f"python benchmarks/{script}" + (f" {shlex.join(args)}" if args else "")  # no trailing space without arguments


def env_problem(env_id: str) -> str | None:
    """Why ``env_id`` cannot be trained here (``envs.make``'s one-line refusal: an unknown id, an env's missing extra),
    or ``None``. For a script that passes an env id on to a child or a later step, which otherwise failed with a
    traceback after its set-up."""
    import envs

    try:
        envs.make(env_id)
    except (ValueError, ImportError) as e:
        return " ".join(str(e).split())
    return None


class _TrainArgs(argparse.ArgumentParser):
    """``--algo`` and ``--env`` of ``rl-zoo train`` arguments; a bad one raises ``ValueError``, for the caller to name."""

    def error(self, message):
        raise ValueError(message)


def train_args_problem(train_args: list[str]) -> str | None:
    """Why the ``rl-zoo train`` arguments ``train_args`` (passed through to a child by a benchmark script) name an
    algorithm or env that cannot run (rl-zoo's defaults, ppo and CartPole-v1, where one is left out), or ``None``.
    Checked before any work: an unknown env was the child's traceback after a worktree's set-up, or a RuntimeError."""
    from rl_zoo import algos

    parser = _TrainArgs(add_help=False, allow_abbrev=False)
    parser.add_argument("--algo", default="ppo")
    parser.add_argument("--env", default="CartPole-v1")
    try:
        given, _ = parser.parse_known_args(train_args)
    except ValueError as e:
        return str(e)
    if given.algo not in algos.names():
        return f"unknown algorithm {given.algo!r}; the algorithms: {', '.join(algos.names())}"
    return env_problem(given.env)


def require_revision(parser, root: Path, revision: str, flag: str = "--base") -> str:
    """The short hash of git ``revision`` of the repository at ``root``; one that is not there is ``parser.error``
    (exit 2, one line) before any worktree is made (it was a CalledProcessError traceback from ``git worktree add``)."""
    rev = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "--short", f"{revision}^{{commit}}"], cwd=root,
                         capture_output=True, text=True)
    if rev.returncode != 0:
        parser.error(f"{flag} {revision!r} is not a revision of this repository")
    return rev.stdout.strip()


def now_utc() -> str:
    """The date and minute in UTC, as the results files quote when they were measured."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def load_average() -> str:
    """The 1- and 5-minute load averages and the core count, as the results files quote them."""
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"


@dataclass(frozen=True)
class Timed:
    """A finished command: what it printed, and the seconds it took."""

    stdout: str
    wall_s: float
    cpu_s: float  # user + system seconds of the process and all its threads


def timed(cmd: list[str], env: dict | None = None, cwd: str | Path | None = None) -> Timed:
    """Run ``cmd`` to its end as a fresh process and time it whole. The CPU seconds come from the
    kernel's account of the finished child, which other load on the machine disturbs far less than
    wall time. A failed command raises ``RuntimeError`` with the end of its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} ... failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return Timed(proc.stdout, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def metrics_returns(run_dir: Path) -> list[str]:
    """A run directory's metrics.csv without its wall-clock column: env_steps, seed and return, one string per
    row (header included), for checking that two builds trained the same numbers bit for bit."""
    return [",".join(cell for i, cell in enumerate(row.split(",")) if i in (0, 2, 3))
            for row in (Path(run_dir) / "metrics.csv").read_text().splitlines()]


def snapshot_commit(root: Path) -> str:
    """A commit (on no branch) of the working tree as it is: HEAD plus every change, untracked files included
    (those .gitignore names left out), made through a temporary index, the repository's own index untouched."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))

        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout.strip()

        git("read-tree", "HEAD")
        git("add", "-A")
        return git("commit-tree", git("write-tree"), "-p", "HEAD", "-m", "benchmarks: the working tree")


@contextmanager
def git_worktrees(root: Path, revisions: dict[str, str | None], folder: Path):
    """``{name: tree}``: each revision checked out in a detached git worktree ``folder/name``, removed afterwards;
    a revision ``None`` is the working tree as it is (``snapshot_commit``). Two trees compared by a benchmark are
    both worktrees so that they are imported from the same kind of folder: the working tree itself, imported
    from /work rather than /tmp, ran ``rl-zoo algos`` 0.04-0.07 s faster than the same code in a worktree
    (``results/compile_overlap.md``)."""
    trees = {name: Path(folder) / name for name in revisions}
    try:
        for name, revision in revisions.items():
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(trees[name]), revision or snapshot_commit(root)],
                           cwd=root, check=True, capture_output=True)
        yield trees
    finally:
        for tree in trees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, check=False, capture_output=True)


if __name__ == "__main__":  # run alone it did nothing, --help included
    raise SystemExit(f"{__file__} is a module the benchmark scripts import: run one of the scripts beside it (python benchmarks/<name>.py --help)")
