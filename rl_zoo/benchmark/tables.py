"""The grid's tables: every cell's evaluations interpolated onto the shared env-step grid
(``returns.csv`` / ``.parquet``) and one row per cell (``cells.csv`` / ``.parquet``), rebuilt from the
cell folders after every cell; and the readers of all of them, which name a damaged file."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from rl_zoo import runs
from rl_zoo.benchmark.records import (
    CELL_FIELDS, RETURN_FIELDS, BenchmarkFileError, CellRecord, CellRow, ReturnRow, cell_name, read_cell_record,
    read_grid_meta,
)
from rl_zoo.benchmark.references import ENV_REFERENCES


def shared_grid(total_steps: int, points: int) -> np.ndarray:
    """The shared evaluation grid: ``points + 1`` env-step counts from 0 to ``total_steps``."""
    return np.unique(np.round(np.linspace(0, total_steps, points + 1)).astype(np.int64))


def interpolate_runs(rows: list[dict], grid: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per seed, ``(return, wall_s)`` linearly interpolated from its evaluations (metrics.csv rows:
    ``seed, env_steps, return, wall_s``) onto ``grid`` (held flat beyond the last evaluation)."""
    by_seed: dict[int, list[tuple[float, float, float]]] = {}
    for r in rows:
        by_seed.setdefault(int(r["seed"]), []).append((float(r["env_steps"]), float(r["return"]), float(r["wall_s"])))
    out = {}
    for s, pts in sorted(by_seed.items()):
        x, y, w = np.array(sorted(pts)).T
        out[s] = (np.interp(grid, x, y), np.interp(grid, x, w))
    return out


def load_cells(out: str | os.PathLike) -> list[CellRecord]:
    """Every cell record in the folder (done, skipped, failed, running), in the last command's order of
    envs and algorithms (then the registry's)."""
    out = Path(out)
    records = [read_cell_record(p) for p in sorted((out / "cells").glob("*/cell.json"))]
    algo_rank, env_rank = _order(out)
    records.sort(key=lambda r: (env_rank.get(r.env, 99), r.env, algo_rank.get(r.algo, 99), r.algo))
    return records


def _order(out: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Algorithm and env ranks: the last command's order, then the registry's."""
    from rl_zoo import algos as registry

    meta = read_grid_meta(out)
    algo_order = list(meta.algos) + [a for a in registry.names() if a not in meta.algos]
    env_order = list(meta.envs) + [e for e in ENV_REFERENCES if e not in meta.envs]
    return {a: i for i, a in enumerate(algo_order)}, {e: i for i, e in enumerate(env_order)}


def read_metrics(path: Path) -> list[dict]:
    """A cell run's ``metrics.csv`` (the driver's rows, numbers parsed), checked as a resume checks it
    (``rl_zoo.runs.read_metrics``: columns, numbers, every line ended, no row repeated or out of order):
    ``BenchmarkFileError`` names the file, the line and what is wrong when it is damaged."""
    try:
        return runs.read_metrics(path, todo=_run_again(path))
    except runs.RunFileError as e:
        raise BenchmarkFileError(str(e)) from None


def _run_again(metrics: Path) -> str:
    """What to do about a cell's damaged or missing ``run/metrics.csv``."""
    return f"Delete the folder {metrics.parent.parent} to run that cell again"


def load_returns(out: str | os.PathLike, records: list[CellRecord] | None = None) -> list[ReturnRow]:
    """Tidy rows of every finished cell on its shared grid (from ``cells/*/run/metrics.csv``)."""
    out = Path(out)
    rows: list[ReturnRow] = []
    for rec in records if records is not None else load_cells(out):
        if rec.status != "done":
            continue
        metrics = out / "cells" / cell_name(rec.algo, rec.env) / "run" / "metrics.csv"
        if not metrics.exists():  # the cell's row and its algorithm's aggregate went without a word
            raise BenchmarkFileError(f"{metrics}: missing, though the cell finished (its cell.json says done). "
                                     f"{_run_again(metrics)}")
        read = read_metrics(metrics)
        expected = set(range(int(rec.spec.seed), int(rec.spec.seed) + int(rec.spec.seeds)))
        if rec.spec.seeds and (found := {int(r["seed"]) for r in read}) != expected:  # a cell of 4 seeds read as of 5
            raise BenchmarkFileError(f"{metrics}: holds the rows of seeds {sorted(found)}, the cell ran seeds "
                                     f"{min(expected)}-{max(expected)}: cut or edited. {_run_again(metrics)}")
        grid = shared_grid(int(rec.spec.total_steps), int(rec.spec.points))
        for s, (ret, wall) in interpolate_runs(read, grid).items():
            for g, r, w in zip(grid, ret, wall):
                rows.append(ReturnRow(rec.algo, rec.env, s, int(g), round(float(w), 3), float(r)))
    return rows


def _return_dict(row: ReturnRow) -> dict:
    return dict(zip(RETURN_FIELDS, row))


#: The cells ``cells.csv`` has a row for (a running or interrupted one has none yet; the report says so)
TABLED = ("done", "skipped", "failed")


def write_tables(out: str | os.PathLike) -> None:
    """Rewrite ``returns.{csv,parquet}`` and ``cells.{csv,parquet}`` from the cells in ``out`` (atomically)."""
    out = Path(out)
    records = [r for r in load_cells(out) if r.status in TABLED]
    returns = [_return_dict(r) for r in load_returns(out, records)]
    cells = [r.table_row()._asdict() for r in records]
    runs.write_csv(out / "returns.csv", returns, RETURN_FIELDS)
    runs.write_csv(out / "cells.csv", cells, CELL_FIELDS)
    _write_parquet(out / "returns.parquet", returns, RETURN_FIELDS)
    _write_parquet(out / "cells.parquet", cells, CELL_FIELDS)


#: Column types of both tables (returns and cells); ``int``/``float`` columns may be empty (None).
COLUMN_TYPES = {
    "algo": str, "env": str, "seed": int, "env_steps": int, "wall_s": float, "return": float,
    "status": str, "reason": str, "backend": str, "seeds": int, "env_steps_per_seed": int,
    "env_steps_per_update": int, "compile_s": float, "run_s": float, "cell_wall_s": float,
    "env_steps_per_s": float, "peak_memory_mb": float, "final_return_mean": float,
    "final_return_iqm": float, "key": str,
}
_ARROW_TYPES = {str: "string", int: "int64", float: "float64"}


def _write_parquet(path: Path, rows: list[dict], fields: Sequence[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(f, getattr(pa, _ARROW_TYPES[COLUMN_TYPES[f]])()) for f in fields])
    table = pa.Table.from_pylist([{f: r.get(f) for f in fields} for r in rows], schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    runs.atomic_write_bytes(path, buf.getvalue())


def _read_table(path: Path, fields: Sequence[str]) -> list[dict]:
    """Rows of a CSV or Parquet table with ``fields``, each value parsed to its column's type."""
    fix = (f"run the same `rl-zoo benchmark` command into {path.parent} again: it rebuilds {path.name} from "
           "cells/*/cell.json and the cells' metrics before running anything")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
            header = list(rows[0]) if rows else list(pq.read_schema(path).names)
        else:
            with open(path, newline="") as f:
                reader = csv.DictReader(f)
                rows, header = list(reader), list(reader.fieldnames or [])
    except FileNotFoundError:
        raise BenchmarkFileError(f"{path} does not exist; {fix}") from None
    except Exception as e:  # a parser's own words, kept after the file's name
        raise BenchmarkFileError(f"{path} is damaged: cannot be parsed ({type(e).__name__}: {e}); {fix}") from None
    if header != list(fields):
        raise BenchmarkFileError(f"{path} is damaged: its columns are {', '.join(map(str, header)) or 'none'}, "
                                 f"expected {', '.join(fields)}; {fix}")
    out = []
    for line, row in enumerate(rows, start=2):
        parsed = {}
        for name in fields:
            value, kind = row.get(name), COLUMN_TYPES[name]
            try:
                parsed[name] = (value or "") if kind is str else None if value in ("", None) else kind(value)
            except (TypeError, ValueError):
                where = f"line {line}" if path.suffix != ".parquet" else f"row {line - 1}"
                raise BenchmarkFileError(f"{path} is damaged: {where}, column {name!r} holds {value!r}, not "
                                         f"{'an integer' if kind is int else 'a number'}; {fix}") from None
        out.append(parsed)
    return out


def read_returns_table(path: str | os.PathLike) -> list[ReturnRow]:
    """``returns.csv`` or ``returns.parquet`` as typed rows; ``BenchmarkFileError`` when it is damaged."""
    return [ReturnRow(*(r[f] for f in RETURN_FIELDS)) for r in _read_table(Path(path), RETURN_FIELDS)]


def read_cells_table(path: str | os.PathLike) -> list[CellRow]:
    """``cells.csv`` or ``cells.parquet`` as typed rows; ``BenchmarkFileError`` when it is damaged."""
    return [CellRow(**r) for r in _read_table(Path(path), CELL_FIELDS)]
