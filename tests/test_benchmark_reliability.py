"""The benchmark grid when things go wrong: a killed grid leaves no cell process behind, a second grid on a
locked folder is refused without touching a file, a damaged record or table gives an error that names the
file; and `rl-zoo plot` on the committed grid rewrites its report.md word for word."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rl_zoo import benchmark as bm
from rl_zoo.benchmark import cells
from rl_zoo.cli import main
from rl_zoo.lock import FolderInUse, FolderLock
from run_helpers import GRID, copy_grid, snapshot



def _alive(pid: int) -> bool:
    """The process runs: one of its threads has not ended yet.

    Not the main thread's state alone: when a multithreaded process (JAX's) is killed, its main thread
    shows as a zombie while the other threads are still exiting, and until the last of them has, the
    process's files stay open and its ``flock`` locks held. A process whose threads have all ended
    (a zombie not yet reaped by whoever adopted it) does not count."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
            return True
        except ProcessLookupError:
            return False
    for tid in tids:
        try:
            stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
        except OSError:  # the thread ended while we looked
            continue
        if stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
            return True
    return False


def _lock_holder(folder: Path) -> int | None:
    try:
        text = (folder / ".lock").read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None




def test_kill_9_of_the_grid_ends_its_cell_process(tmp_path):
    """kill -9 of `rl-zoo benchmark` alone (not its process group): the cell process it started ends too."""
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "rl_zoo.cli", "benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "1",
           "--total-steps", "40960", "--points", "4", "--eval-episodes", "1", "--out", str(out), "--no-progress"]
    grid = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    cell_dir = out / "cells" / "ppo__CartPole-v1"
    deadline = time.time() + 120
    cell_pid = None
    while time.time() < deadline and grid.poll() is None:
        cell_pid = _lock_holder(cell_dir)  # the cell process writes its PID into its folder's lock
        if cell_pid and cell_pid != grid.pid and _alive(cell_pid):
            break
        time.sleep(0.02)
    try:
        assert cell_pid and _alive(cell_pid), "the cell process did not start"
        assert _lock_holder(out) == grid.pid  # the grid holds the benchmark folder
        os.kill(grid.pid, signal.SIGKILL)
        grid.wait()
        deadline = time.time() + 10
        while _alive(cell_pid) and time.time() < deadline:
            time.sleep(0.05)
        assert not _alive(cell_pid), f"cell process {cell_pid} outlived the grid"
        with FolderLock(cell_dir, what=cells.CELL_LOCK), FolderLock(out, what=bm.GRID_LOCK):
            pass  # and nobody holds the folders any more
    finally:
        for pid in (grid.pid, cell_pid):
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_second_grid_on_a_locked_folder_is_refused_and_touches_nothing(tmp_path, capsys):
    out = copy_grid(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from rl_zoo.lock import FolderLock; "
                               f"FolderLock({str(out)!r}, what='benchmark folder').acquire(); print('locked', flush=True); "
                               "time.sleep(120)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot_with_mtimes(out)
        code = main(["benchmark", "--algos", "ppo,vpg", "--envs", "CartPole-v1", "--seeds", "5", "--out", str(out), "--rerun"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"benchmark folder {str(out)!r} is in use by process {holder.pid}" in err
        assert snapshot_with_mtimes(out) == before  # every file byte-identical, not even rewritten
    finally:
        holder.kill()
        holder.wait()


def test_a_cell_folder_held_by_another_process_is_refused(tmp_path):
    out = copy_grid(tmp_path)
    [cell] = [c for c in bm.plan_grid("ppo", "CartPole-v1", seeds=5, out=out, rerun=True)]
    folder = out / "cells" / cell.name
    with FolderLock(folder, what=cells.CELL_LOCK):  # as a running cell process holds it
        before = snapshot_with_mtimes(folder)
        with pytest.raises(FolderInUse, match="benchmark cell folder .* is in use by process"):
            cells.start_cell(out, cell)
        child = subprocess.run([sys.executable, "-m", "rl_zoo.benchmark", "--cell", str(folder / "cell.json")],
                               capture_output=True, text=True, timeout=120)
        lines: list[str] = []  # a grid that reaches the cell fails it, names the holder, and goes on
        result = bm.run_benchmark("ppo", "CartPole-v1", seeds=5, out=out, rerun=True, progress=False, report=False,
                                  log=lines.append)
        assert [c.status for c in result.cells] == ["failed"]
        assert f"is in use by process {os.getpid()}" in result.cells[0].reason and "FAILED ppo on CartPole-v1" in "\n".join(lines)
    assert child.returncode == 2 and f"is in use by process {os.getpid()}" in child.stderr
    assert snapshot_with_mtimes(folder) == before


@pytest.mark.parametrize("damage, message", [
    ("cells/ppo__CartPole-v1/cell.json", r"cell\.json is damaged: not valid JSON .*delete the folder"),
    # a cell outside the grid's plan (ppo only): refused too before benchmark.json was rewritten
    ("cells/vpg__CartPole-v1/cell.json", r"cell\.json is damaged: not valid JSON .*delete the folder"),
    ("benchmark.json", r"benchmark\.json is damaged: not valid JSON .*delete it"),
    ("cells/vpg__CartPole-v1/run/metrics.csv", r"metrics\.csv: line 3: return = 'x' is not a number\. Delete the folder"),
    ("cells/vpg__CartPole-v1/run/metrics.csv#repeat", r"metrics\.csv: line 3 repeats line 2 \(env step 0, seed"),  # checked as resume checks it
])
def test_a_damaged_record_names_the_file_in_plot_and_benchmark(tmp_path, capsys, damage, message):
    import re

    out = copy_grid(tmp_path)
    damage, _, how = damage.partition("#")
    path = out / damage
    if path.suffix == ".csv":
        lines = path.read_text().splitlines()
        cols = lines[0].split(",")
        row = lines[2].split(",")
        row[cols.index("return")] = "x"
        lines = lines[:2] + lines[1:] if how == "repeat" else lines[:2] + [",".join(row)] + lines[3:]
        path.write_text("\n".join(lines) + "\n")
    else:
        path.write_text("{not json")
    assert main(["plot", str(out), "-o", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and re.search(message, err), err
    if path.name in ("cell.json", "metrics.csv"):  # a grid into the folder stops before writing anything (a damaged
        # metrics.csv of a finished cell was refused after benchmark.json held the refused command)
        before = snapshot_with_mtimes(out)
        assert main(["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "5", "--seed", "1000",
                     "--out", str(out)]) == 2  # the committed grid's seeds: the ppo cell finished with the same config
        err = capsys.readouterr().err
        assert str(path) in err and re.search(message, err), err
        after = snapshot_with_mtimes(out)
        assert {k: after[k] for k in before} == before and set(after) - set(before) <= {".lock"}


def test_tables_read_back_typed_and_damaged_ones_name_the_file(tmp_path):
    out = copy_grid(tmp_path)
    for suffix in (".csv", ".parquet"):
        rows = bm.read_returns_table(out / f"returns{suffix}")
        assert rows and all(isinstance(r, bm.ReturnRow) for r in rows)
        table = bm.read_cells_table(out / f"cells{suffix}")
        assert {(r.algo, r.env, r.status) for r in table} >= {("ppo", "CartPole-v1", "done"), ("dqn", "Pendulum-v1", "skipped")}
    assert bm.read_returns_table(out / "returns.csv") == bm.read_returns_table(out / "returns.parquet")
    assert bm.read_returns_table(out / "returns.csv") == bm.load_returns(out)  # the table is what the cells give
    csv_path = out / "cells.csv"
    text = csv_path.read_text().splitlines()
    csv_path.write_text("\n".join([text[0].replace("compile_s", "compile")] + text[1:]) + "\n")
    with pytest.raises(bm.BenchmarkFileError, match=r"cells\.csv is damaged: its columns are .*compile,.*expected.*compile_s.*rebuilds"):
        bm.read_cells_table(csv_path)
    csv_path.write_text("\n".join(text[:2] + [text[2].replace(",jax,5,", ",jax,five,")] + text[3:]) + "\n")
    with pytest.raises(bm.BenchmarkFileError, match=r"cells\.csv is damaged: line 3, column 'seeds' holds 'five', not an integer"):
        bm.read_cells_table(csv_path)
    parquet = out / "returns.parquet"
    parquet.write_bytes(parquet.read_bytes()[:1000])
    with pytest.raises(bm.BenchmarkFileError, match=rf"{parquet.name} is damaged: cannot be parsed"):
        bm.read_returns_table(parquet)


def test_cell_record_fields_are_checked(tmp_path):
    path = tmp_path / "cells" / "ppo__CartPole-v1" / "cell.json"
    path.parent.mkdir(parents=True)
    record = json.loads((GRID / "cells" / "ppo__CartPole-v1" / "cell.json").read_text())
    path.write_text(json.dumps({k: v for k, v in record.items() if k != "compile_s"}))
    with pytest.raises(bm.BenchmarkFileError, match=r"cell\.json is damaged: the field 'compile_s' is missing"):
        bm.read_cell_record(path)
    path.write_text(json.dumps(dict(record, seeds="5")))
    with pytest.raises(bm.BenchmarkFileError, match=r"the field 'seeds' = '5' is not of type int"):
        bm.read_cell_record(path)
    path.write_text(json.dumps(dict(record, status="finished")))
    with pytest.raises(bm.BenchmarkFileError, match="status 'finished' is not one of"):
        bm.read_cell_record(path)
    path.write_text(json.dumps(record))
    rec = bm.read_cell_record(path)
    assert rec.to_json() == record and rec.spec.identity() == rec.spec.key


def test_plot_rewrites_the_committed_report_word_for_word(tmp_path):
    assert main(["plot", str(GRID), "-o", str(tmp_path / "replot")]) == 0
    assert (tmp_path / "replot" / "report.md").read_text() == (GRID / "report.md").read_text()


def test_a_damaged_run_summary_fails_its_cell_with_the_file_named(tmp_path):
    out = copy_grid(tmp_path)
    folder = out / "cells" / "ppo__CartPole-v1"
    good = cells.read_result(folder)
    recorded = bm.read_cell_record(folder / "cell.json").result
    assert (good.compile_s, good.run_s, good.env_steps_per_update, good.final_return_mean) == (
        recorded.compile_s, recorded.run_s, recorded.env_steps_per_update, recorded.final_return_mean)
    assert recorded.devices is None and good.devices == 1  # cell.json predates it; the run's summary.json says 1
    (folder / "run" / "summary.json").write_text('{"final_return": [1.0]}')
    with pytest.raises(bm.BenchmarkFileError, match=r"summary\.json is damaged: KeyError 'compile_s'.*delete the folder"):
        cells.read_result(folder)
    [cell] = bm.plan_grid("ppo", "CartPole-v1", seeds=5, out=out, rerun=True)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    job = cells.Running(cell, proc, time.perf_counter(), open(folder / "log.txt", "ab"))
    assert cells.finish_cell(out, job) is None
    record = bm.read_cell_record(folder / "cell.json")
    assert record.status == "failed" and "summary.json is damaged" in record.reason and record.result is None


def snapshot_with_mtimes(folder: Path) -> dict:
    return snapshot(folder, mtimes=True)


def test_a_cell_another_process_holds_is_reported_failed_not_never_started(tmp_path, seed_offset):
    """The grid went on past a cell whose folder another process held and said FAILED, but nothing recorded it:
    the report listed the cell as "never started (the grid ended before it)"."""
    out = tmp_path / "grid"
    with FolderLock(out / "cells" / "vpg__CartPole-v1", what=cells.CELL_LOCK):  # as another cell process holds it
        result = bm.run_benchmark("ppo,vpg", "CartPole-v1", seeds=1, seed=seed_offset, total_steps=5120, points=2,
                                  eval_episodes=1, out=out, progress=False, log=lambda *_: None)
    assert [c.status for c in result.cells] == ["done", "failed"]
    [entry] = [p for p in bm.read_grid_meta(out).plan if p["algo"] == "vpg"]
    assert entry["status"] == "failed" and "is in use by process" in entry["reason"]
    text = result.report.read_text()
    assert "- vpg on CartPole-v1: benchmark cell folder" in text and "never started" not in text
