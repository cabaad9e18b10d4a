"""Typed records of a benchmark folder and how they are read back.

* :class:`CellSpec`: what a cell runs (algorithm, env, budget, seeds, evaluation, resolved config) and
  its identity ``key``;
* :class:`CellRecord`: ``cells/<algo>__<env>/cell.json``, a spec with its status and, once done,
  its :class:`CellResult` (timings, final return);
* :class:`GridMeta`: ``benchmark.json``, the last command, its plan, versions, machine and load;
* :class:`ReturnRow` / :class:`CellRow`: one row of ``returns.csv`` / ``cells.csv`` (and .parquet).

Every reader names the file, says what is wrong with it and what to do (:class:`BenchmarkFileError`),
never a bare parser message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from rl_zoo.runs import slug

#: Intervals of the shared evaluation grid (``points + 1`` grid points including 0).
DEFAULT_POINTS = 40
#: Cell statuses: planned to run, finished (now or before), cannot run / excluded, failed, started and not finished.
STATUSES = ("run", "done", "skipped", "failed", "running")


class BenchmarkFileError(ValueError):
    """A file of a benchmark folder cannot be read back: the message names it, what is wrong, what to do."""


def cell_name(algo: str, env: str) -> str:
    """The folder of the (algo, env) cell under ``cells/``: ``<algo>__<env>``."""
    return f"{slug(algo)}__{slug(env)}"


def _identity_key(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class CellSpec:
    """What one cell runs. ``key`` hashes everything that changes its results (not ``overrides``,
    which ``config`` already resolves); empty for a cell that does not run."""

    algo: str
    env: str
    total_steps: int = 0
    seeds: int = 0
    seed: int = 0
    points: int = DEFAULT_POINTS
    eval_episodes: int = 10
    backend: str = ""
    overrides: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    key: str = ""

    @property
    def name(self) -> str:
        return cell_name(self.algo, self.env)

    def identity(self) -> str:
        """The key of this spec, computed afresh from its fields."""
        ident = {f: getattr(self, f) for f in ("algo", "env", "total_steps", "seeds", "seed", "points",
                                                "eval_episodes", "backend", "config")}
        return _identity_key(ident)

    def with_config(self, config: dict[str, Any]) -> "CellSpec":
        """This spec with its resolved config and the key that goes with it."""
        spec = dataclasses.replace(self, config=dict(config))
        return dataclasses.replace(spec, key=spec.identity())

    def changes_from(self, old: "CellSpec") -> str:
        """What differs from ``old``, e.g. ``total_steps 4096 -> 8192, learning_rate 0.001 -> 0.01``."""
        diffs = [f"{k} {getattr(old, k)!r} -> {getattr(self, k)!r}"
                 for k in ("total_steps", "seeds", "seed", "points", "eval_episodes", "backend")
                 if getattr(old, k) != getattr(self, k)]
        for k in sorted(set(old.config) | set(self.config)):
            if old.config.get(k) != self.config.get(k):
                diffs.append(f"{k} {old.config.get(k)!r} -> {self.config.get(k)!r}")
        return ", ".join(diffs[:6]) or "config changed"


@dataclass(frozen=True)
class CellResult:
    """A finished cell: its timings (from the driver's summary.json) and final greedy return over seeds."""

    compile_s: float
    run_s: float
    env_steps_per_seed: int
    env_steps_per_update: int | None
    env_steps_per_s: float
    peak_memory_mb: float
    final_return_mean: float
    final_return_iqm: float
    finished: str
    #: CPU devices the cell's seeds were split over (``--jobs`` and the machine's cores set it; another count
    #: rounds otherwise, README "Determinism"); None in cells finished before it was recorded
    devices: int | None = None
    #: the rl_zoo commit that trained the cell (its run's summary.json; a rerun skips a finished cell whatever the
    #: code is now, so the report says each cell's); None where not recorded (not a git checkout, an older cell)
    commit: str | None = None


class SpecFields:
    """Mixin: the fields of ``self.spec`` (a :class:`CellSpec`) that logs and tables name most, read-only."""

    spec: CellSpec

    @property
    def algo(self) -> str:
        return self.spec.algo

    @property
    def env(self) -> str:
        return self.spec.env

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def total_steps(self) -> int:
        return self.spec.total_steps

    @property
    def seeds(self) -> int:
        return self.spec.seeds


@dataclass(frozen=True)
class CellRecord(SpecFields):
    """``cell.json``: a cell's spec, status (``STATUSES``) and why, its wall time and, when done, its result."""

    spec: CellSpec
    status: str
    reason: str = ""
    resume: bool = False  # a running cell that continues from its checkpoint
    cell_wall_s: float | None = None
    result: CellResult | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(dataclasses.asdict(self.spec), status=self.status, reason=self.reason)
        if self.status == "running":
            out["resume"] = self.resume
        if self.cell_wall_s is not None:
            out["cell_wall_s"] = self.cell_wall_s
        if self.result is not None:  # devices or commit None (not recorded, an older cell) is left out, as it was
            out.update({k: v for k, v in dataclasses.asdict(self.result).items() if not (k in ("devices", "commit") and v is None)})
        return out

    def table_row(self) -> "CellRow":
        r = self.result
        return CellRow(
            algo=self.algo, env=self.env, status=self.status, reason=self.reason, backend=self.spec.backend,
            seeds=self.spec.seeds, env_steps_per_seed=r.env_steps_per_seed if r else self.spec.total_steps,
            env_steps_per_update=r.env_steps_per_update if r else None, compile_s=r.compile_s if r else None,
            run_s=r.run_s if r else None, cell_wall_s=self.cell_wall_s, env_steps_per_s=r.env_steps_per_s if r else None,
            peak_memory_mb=r.peak_memory_mb if r else None, final_return_mean=r.final_return_mean if r else None,
            final_return_iqm=r.final_return_iqm if r else None, key=self.spec.key,
        )


def read_json_object(path: Path, fix: str) -> dict[str, Any]:
    """A JSON object from ``path``; ``BenchmarkFileError`` naming the file, what is wrong, and ``fix``."""
    try:
        text = path.read_text()
    except OSError as e:
        raise BenchmarkFileError(f"cannot read {path}: {e.strerror or e}; {fix}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise BenchmarkFileError(f"{path} is damaged: not valid JSON ({e}); {fix}") from None
    if not isinstance(data, dict):
        raise BenchmarkFileError(f"{path} is damaged: a JSON object was expected, it holds a {type(data).__name__}; {fix}")
    return data


def _type_ok(value: Any, hint: Any) -> bool:
    """``value`` fits the annotation ``hint`` (str, int, float, bool, dict[...], list[...], ``X | None``)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, origin or hint) if isinstance(origin or hint, type) else True


def _take(data: dict, cls, path: Path, fix: str):
    """``cls(**fields)`` from ``data``: a missing field, or one of the wrong type, names the file."""
    kwargs = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise BenchmarkFileError(f"{path} is damaged: the field {f.name!r} is missing; {fix}")
            continue
        if not _type_ok(data[f.name], hints[f.name]):
            raise BenchmarkFileError(f"{path} is damaged: the field {f.name!r} = {data[f.name]!r} is not of type "
                                     f"{f.type if isinstance(f.type, str) else f.type.__name__}; {fix}")
        kwargs[f.name] = data[f.name]
    return cls(**kwargs)


def read_cell_record(path: str | Path) -> CellRecord:
    """A cell's ``cell.json``; ``BenchmarkFileError`` (file, what, what to do) when it is damaged."""
    path = Path(path)
    fix = (f"delete the folder {path.parent} to run that cell again (its results are lost), or restore the file")
    data = read_json_object(path, fix)
    spec = _take(data, CellSpec, path, fix)
    status = data.get("status")
    if status not in STATUSES:
        raise BenchmarkFileError(f"{path} is damaged: status {status!r} is not one of {', '.join(STATUSES)}; {fix}")
    result = _take(data, CellResult, path, fix) if status == "done" else None
    return CellRecord(spec, status, str(data.get("reason") or ""), bool(data.get("resume", False)),
                      data.get("cell_wall_s"), result)


@dataclass(frozen=True)
class GridMeta:
    """``benchmark.json``: the last ``rl-zoo benchmark`` command of the folder, its settings and plan,
    library versions, the machine, when it ran and how loaded the machine was (None: not known)."""

    command: str | None = None
    note: str | None = None
    algos: list[str] = field(default_factory=list)
    envs: list[str] = field(default_factory=list)
    seeds: int | None = None
    seed: int | None = None
    points: int | None = None
    eval_episodes: int | None = None
    jobs: int = 1
    total_steps: dict[str, int] = field(default_factory=dict)
    plan: list[dict[str, str]] = field(default_factory=list)  # algo, env, status, reason per cell (written only)
    versions: dict[str, str] = field(default_factory=dict)
    cpu_count: int | None = None
    started: str | None = None
    load_start: float | None = None
    grid_wall_s: float | None = None
    load_end: float | None = None
    record_video: bool = False  # one clip per cell (not in the cells' identity: a clip changes no result)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def read_grid_meta(out: str | Path) -> GridMeta:
    """``out/benchmark.json`` (all fields ``None`` when the folder has none; an error when it is damaged)."""
    path = Path(out) / "benchmark.json"
    if not path.exists():
        return GridMeta()
    fix = "delete it (the next `rl-zoo benchmark` into this folder writes it again; the report then lacks the command)"
    return _take(read_json_object(path, fix), GridMeta, path, fix)


class ReturnRow(NamedTuple):
    """One row of ``returns.csv``: a seed's greedy return at one point of the shared env-step grid."""

    algo: str
    env: str
    seed: int
    env_steps: int
    wall_s: float
    ret: float  # column "return"


RETURN_FIELDS = ("algo", "env", "seed", "env_steps", "wall_s", "return")


class CellRow(NamedTuple):
    """One row of ``cells.csv``: a cell's status and why, timings and final return (None: not finished)."""

    algo: str
    env: str
    status: str
    reason: str
    backend: str
    seeds: int
    env_steps_per_seed: int | None
    env_steps_per_update: int | None
    compile_s: float | None
    run_s: float | None
    cell_wall_s: float | None
    env_steps_per_s: float | None
    peak_memory_mb: float | None
    final_return_mean: float | None
    final_return_iqm: float | None
    key: str


CELL_FIELDS = CellRow._fields
