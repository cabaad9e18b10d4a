"""The benchmark grid at its edges: a failing cell says why in one line (the exit codes of `rl-zoo train`),
a resumed cell's log keeps the earlier attempt's output, ``--jobs`` below 1 is refused, and the report
neither hides cells the last command planned but never started, nor contradicts itself over seeds when
several commands ran into one folder, nor is written for a folder with no cell. No training (but one
``slow`` test)."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rl_zoo import benchmark as bm
from rl_zoo.benchmark import cells, report, settings_text
from rl_zoo.cli import main
from rl_zoo.config import ConfigError
from rl_zoo.driver.guard import NonFiniteError
from run_helpers import GRID, copy_grid

NON_FINITE = ("non-finite value at update 1 (env step 256) of seed 0: policy_loss = nan. Training stopped; "
              "A smaller learning rate (or max_grad_norm) usually cures this.")



def _plot(out: Path, capsys) -> str:
    """``rl-zoo plot out`` into ``out/report.md``; the report's text."""
    assert main(["plot", str(out)]) == 0, capsys.readouterr().err
    return (out / "report.md").read_text()


# --- a failing cell: one line, the exit codes of `rl-zoo train` --------------------------------------


@pytest.mark.parametrize("error, code", [(NonFiniteError(NON_FINITE), 3), (ConfigError("bad field\nsecond line"), 2)])
def test_cell_process_ends_an_error_in_one_line_with_trains_exit_code(tmp_path, monkeypatch, capsys, error, code):
    def fail(*args):
        raise error

    monkeypatch.setattr(cells, "_run_cell", fail)
    (tmp_path / "cell").mkdir()
    assert cells.cell_main(str(tmp_path / "cell" / "cell.json")) == code
    err = capsys.readouterr().err
    assert err == cells.CELL_ERROR + " | ".join(str(error).splitlines()) + "\n"


def test_cell_process_on_a_damaged_record_exits_2_without_a_traceback(tmp_path):
    folder = tmp_path / "cells" / "ppo__CartPole-v1"
    folder.mkdir(parents=True)
    (folder / "cell.json").write_text("{not json")
    child = subprocess.run([sys.executable, "-m", "rl_zoo.benchmark", "--cell", str(folder / "cell.json")],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 2, child.stderr
    assert "Traceback" not in child.stderr
    assert child.stderr.startswith(cells.CELL_ERROR) and "cell.json is damaged: not valid JSON" in child.stderr


def test_failure_reason_quotes_the_cells_error_line_or_its_last_lines():
    log = f"compiled ppo on CartPole-v1 in 1.3s\n{cells.CELL_ERROR}{NON_FINITE}\n"
    assert cells.failure_reason(3, log) == f"exit code 3: {NON_FINITE}"
    traceback = "Traceback (most recent call last):\n  File \"x.py\", line 1, in f\n    g()\nKeyError: 'k'\n"
    assert cells.failure_reason(1, traceback) == "exit code 1: File \"x.py\", line 1, in f | g() | KeyError: 'k'"
    # killed by a signal (the OOM killer, kill -9): it was blamed on the cell's last log line
    killed = "killed by SIGKILL (exit code -9, as the kernel's out-of-memory killer sends)"
    assert cells.failure_reason(-9, "") == cells.failure_reason(-9, "compiled dqn on CartPole-v1 in 1.6s\n") == killed
    assert cells.failure_reason(-15, "") == "killed by SIGTERM (exit code -15)"


@pytest.mark.slow  # one cell compiled (about 10 s cold)
def test_a_non_finite_cell_fails_with_the_guards_message(tmp_path):
    lines: list[str] = []
    result = bm.run_benchmark("ppo", "CartPole-v1", seeds=1, total_steps=5120, points=2, eval_episodes=1,
                              sets=["ppo:learning_rate=1e30"], out=tmp_path / "b", progress=False, log=lines.append)
    [cell] = result.cells
    assert cell.status == "failed" and cell.reason.startswith("exit code 3: non-finite value at update")
    assert "File " not in cell.reason and "Traceback" not in cell.reason
    assert f"FAILED ppo on CartPole-v1: {cell.reason}" in "\n".join(lines)
    assert bm.read_cell_record(tmp_path / "b" / "cells" / "ppo__CartPole-v1" / "cell.json").reason == cell.reason


# --- a resumed cell's log --------------------------------------------------------------------------


def test_a_resumed_cell_appends_to_its_log_and_its_failure_quotes_this_attempt(tmp_path, monkeypatch):
    out = tmp_path / "b"
    [cell] = bm.plan_grid("ppo", "CartPole-v1", seeds=1, total_steps=5120, out=out)
    folder = cells.cell_dir(out, cell)
    folder.mkdir(parents=True)
    first = f"compiled ppo on CartPole-v1\n{cells.CELL_ERROR}the first attempt's error\n"
    (folder / "log.txt").write_text(first)
    popen = subprocess.Popen

    def second_attempt(cmd, stdout, stderr):  # the cell process of this attempt: a traceback's last line, then exit 2
        return popen([sys.executable, "-c", "import sys; print('RuntimeError: boom', file=sys.stderr); sys.exit(2)"],
                     stdout=stdout, stderr=stderr)

    monkeypatch.setattr(cells, "resume_decision", lambda out, cell: (True, ""))  # it continues from a checkpoint
    monkeypatch.setattr(cells.subprocess, "Popen", second_attempt)
    job = cells.start_cell(out, cell)
    job.proc.wait()
    assert cells.finish_cell(out, job) is None
    # this attempt's words, not the first attempt's error line (which a reading of the whole log would quote)
    assert cell.reason.startswith("exit code 2: ") and cell.reason.endswith("RuntimeError: boom"), cell.reason
    assert "first attempt" not in cell.reason
    log = (folder / "log.txt").read_text()
    assert log.startswith(first)  # nothing of the first attempt is lost
    assert "a new attempt of this cell started (resuming from its last checkpoint)" in log
    assert log.endswith("RuntimeError: boom\n")


def test_a_cell_started_over_keeps_the_earlier_attempts_log(tmp_path, monkeypatch):
    """A failed cell with no checkpoint is run again from scratch: its folder is emptied, its log kept."""
    out = tmp_path / "b"
    [cell] = bm.plan_grid("ppo", "CartPole-v1", seeds=1, total_steps=5120, out=out)
    folder = cells.cell_dir(out, cell)
    folder.mkdir(parents=True)
    (folder / "log.txt").write_text("the failed attempt's traceback\n")
    (folder / "run").mkdir()  # what the failed attempt left: removed
    popen = subprocess.Popen
    monkeypatch.setattr(cells.subprocess, "Popen", lambda cmd, stdout, stderr: popen(
        [sys.executable, "-c", "print('second attempt')"], stdout=stdout, stderr=stderr))
    job = cells.start_cell(out, cell)
    job.proc.wait()
    job.log.close()
    log = (folder / "log.txt").read_text()
    assert log.startswith("the failed attempt's traceback\n") and "(starting over)" in log and log.endswith("second attempt\n")
    assert not (folder / "run").exists()


def test_a_first_attempt_log_has_no_separator(tmp_path):
    log, start = cells.open_log(tmp_path / "log.txt")
    log.write(b"hello\n")
    log.close()
    assert start == 0 and (tmp_path / "log.txt").read_text() == "hello\n"
    log, start = cells.open_log(tmp_path / "log.txt", resume=True)
    log.write(b"again\n")
    log.close()
    assert cells.read_attempt_log(tmp_path, start) == "again\n"
    assert cells.read_attempt_log(tmp_path / "missing") == ""


# --- --jobs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["0", "-1"])
def test_jobs_below_one_is_refused_before_anything_is_written(tmp_path, capsys, jobs):
    out = tmp_path / "b"  # DQN cannot run on Pendulum: a grid that would train nothing
    code = main(["benchmark", "--algos", "dqn", "--envs", "Pendulum-v1", "--jobs", jobs, "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and f"rl-zoo: error: --jobs = {jobs} is invalid: must be a whole number of cells, at least 1" in err
    assert not out.exists()
    with pytest.raises(ValueError, match="--jobs = 1.5 is invalid"):
        bm.run_benchmark("dqn", "Pendulum-v1", jobs=1.5, out=out, progress=False, log=lambda line: None)
    assert not out.exists()


# --- the report ------------------------------------------------------------------------------------


def test_report_lists_cells_the_last_command_planned_but_never_started(tmp_path, capsys):
    out = copy_grid(tmp_path)  # as if the grid had been killed before its vpg cells started
    for env in ("CartPole-v1", "Acrobot-v1", "Pendulum-v1"):
        shutil.rmtree(out / "cells" / f"vpg__{env}")
    text = _plot(out, capsys)
    assert text.splitlines()[0] == (GRID / "report.md").read_text().splitlines()[0]  # vpg still in the title
    assert "**Not started:**" in text
    for env in ("CartPole-v1", "Acrobot-v1", "Pendulum-v1"):
        assert f"- vpg on {env}: planned by the last command into this folder, never started" in text
    assert report.not_started(bm.load_cells(out), bm.read_grid_meta(out)) == [
        ("vpg", "CartPole-v1"), ("vpg", "Acrobot-v1"), ("vpg", "Pendulum-v1")]
    assert "Not started" not in _plot(copy_grid(tmp_path / "whole"), capsys)


@pytest.mark.parametrize("damage, said", [
    ("missing", "missing, though the cell finished"),
    ("a seed cut", "holds the rows of seeds [1000, 1002, 1003, 1004], the cell ran seeds 1000-1004"),
])
def test_a_finished_cells_metrics_missing_or_short_of_a_seed_is_named_not_dropped(tmp_path, capsys, damage, said):
    """The cell's row and its share of the algorithm's aggregate went without a word (metrics.csv deleted), or a
    cell of 4 seeds' rows was averaged under the header's "5 seeds per cell" (one seed's rows cut)."""
    out = copy_grid(tmp_path)
    metrics = out / "cells" / "trpo__Acrobot-v1" / "run" / "metrics.csv"
    if damage == "missing":
        metrics.unlink()
    else:
        metrics.write_text("".join(line for line in metrics.read_text().splitlines(True) if ",1001," not in line))
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{metrics}: {said}" in err and "Delete the folder" in err


def _one_seed_command(out: Path, status: str) -> None:
    """Make ``out`` (a copy of the committed 5-seed grid) look as if a last command had run ppo on
    CartPole-v1 again with ``--seeds 1 --rerun`` (its cell now ``status``, seed 1000 only)."""
    meta = json.loads((out / "benchmark.json").read_text())
    meta.update(command="rl-zoo benchmark --algos ppo --envs CartPole-v1 --seeds 1 --seed 1000 --rerun --out grid",
                note=None, algos=["ppo"], envs=["CartPole-v1"], seeds=1,
                plan=[dict(algo="ppo", env="CartPole-v1", status="run", reason="")])
    (out / "benchmark.json").write_text(json.dumps(meta))
    folder = out / "cells" / "ppo__CartPole-v1"
    record = json.loads((folder / "cell.json").read_text())
    record.update(seeds=1, status=status, reason="" if status == "done" else "exit code 3: non-finite value")
    (folder / "cell.json").write_text(json.dumps(record))
    metrics = (folder / "run" / "metrics.csv").read_text().splitlines()
    seed = metrics[0].split(",").index("seed")
    (folder / "run" / "metrics.csv").write_text(
        "\n".join([metrics[0]] + [m for m in metrics[1:] if m.split(",")[seed] == "1000"]) + "\n")


def test_report_of_cells_with_different_seeds_says_each_cells_count(tmp_path, capsys):
    out = copy_grid(tmp_path)
    _one_seed_command(out, "done")
    text = _plot(out, capsys)
    assert "5 seeds per cell" not in text and "1/5" not in text
    assert ("Seeds per cell differ: 1 for ppo on CartPole-v1, 5 for the other 12 cells (seeds 1000 for ppo on CartPole-v1, "
            "1000-1004 for the other 12 cells); each cell's seeds trained") in text
    assert "Not in the plan of the last command into this folder (cells of earlier commands, with their own settings): " \
           "ppo-kl on CartPole-v1 (done)," in text
    assert "| CartPole-v1 | ppo |" in text


def test_report_after_a_failed_command_says_its_cells_are_from_earlier_commands(tmp_path, capsys):
    out = copy_grid(tmp_path)
    _one_seed_command(out, "failed")  # the finished cells all have 5 seeds, the command says --seeds 1
    text = _plot(out, capsys)
    assert "5 seeds per cell" in text and "--seeds 1" in text
    assert "Not in the plan of the last command into this folder (cells of earlier commands" in text
    assert "- ppo on CartPole-v1: exit code 3: non-finite value" in text


def _done(spec: "bm.CellSpec", devices: int | None = None, commit: str | None = None) -> "bm.CellRecord":
    result = bm.CellResult(1.0, 2.0, 100, 10, 50.0, 10.0, 9.0, 9.0, "then", devices=devices, commit=commit)
    return bm.CellRecord(spec, "done", result=result)


def test_the_report_says_which_commit_trained_the_cells():
    """A rerun after a code change skips finished cells: the report named only the jax of the command that
    wrote it, and benchmark.json the new commit, while the cells were trained by the old code."""
    old, new = "a" * 40, "b" * 40 + "-dirty"
    meta = bm.GridMeta(seeds=5, versions={"rl-zoo-commit": new})
    cells = [_done(bm.CellSpec(a, "CartPole-v1", seeds=5), commit=old) for a in ("ppo", "vpg")]
    assert settings_text.settings_sentence(cells, meta).endswith(
        f" Every cell was trained at rl_zoo commit {old[:12]}; this report was written at {new[:12]}-dirty, and a rerun skips finished cells.")
    assert settings_text.settings_sentence(cells, bm.GridMeta(seeds=5, versions={"rl-zoo-commit": old})).endswith(
        f" Every cell was trained at rl_zoo commit {old[:12]}.")
    mixed = cells + [_done(bm.CellSpec("trpo", "CartPole-v1", seeds=5), commit=new)]
    assert (f" The rl_zoo commits that trained the cells differ ({new[:12]}-dirty for trpo on CartPole-v1, {old[:12]} for the "
            f"other 2 cells); this report was written at {new[:12]}-dirty.") in settings_text.settings_sentence(mixed, meta)
    assert "commit" not in settings_text.settings_sentence([_done(bm.CellSpec("ppo", "CartPole-v1"))], meta)  # none recorded
    edited = [_done(bm.CellSpec("ppo", "CartPole-v1"), commit=old + "-dirty")]  # the same commit with edited files
    assert settings_text.settings_sentence(edited, bm.GridMeta(versions={"rl-zoo-commit": old})).endswith(
        f"commit {old[:12]}-dirty; this report was written at {old[:12]}, and a rerun skips finished cells.")
    record = _done(bm.CellSpec("ppo", "CartPole-v1"), commit=old)
    assert record.to_json()["commit"] == old and "commit" not in _done(bm.CellSpec("ppo", "CartPole-v1")).to_json()


def test_settings_sentence_counts_per_cell_only_when_they_differ():
    """Seeds per cell, which seeds (a review: the report never said), evaluation episodes and the CPU
    devices each cell's seeds were split over (``--jobs`` changes it, and with it the rounding): once when
    the cells agree, per cell when they differ."""
    meta = bm.GridMeta(seeds=3, eval_episodes=7)
    assert settings_text.settings_sentence([], meta).startswith("3 seeds per cell, trained together")  # first seed unknown
    assert settings_text.settings_sentence([], bm.GridMeta(seeds=3, seed=1000)).startswith("3 seeds per cell (seeds 1000-1002), trained")
    assert "over 7 episodes per seed" in settings_text.settings_sentence([], meta)
    spec = bm.CellSpec("ppo", "CartPole-v1", seeds=1, eval_episodes=2)
    one = bm.CellRecord(spec, "done")
    assert settings_text.settings_sentence([one], meta).startswith("1 seed per cell (seed 0), trained together")
    # a grid on the tuning seeds (the default --seed was 0) said only "seeds 0-1"
    assert (" **Not held out: seed 0 is among those the tuned configs were chosen on, where the tuned algorithms look "
            "better than on new seeds; --seed 1000 gives held-out ones.**") in settings_text.settings_sentence([one], meta)
    assert "Not held out" in settings_text.settings_sentence([], bm.GridMeta(seeds=3, seed=8))
    assert "Not held out" not in settings_text.settings_sentence([], bm.GridMeta(seeds=3, seed=1000))
    assert "CPU device" not in settings_text.settings_sentence([one], meta)  # not recorded: not said
    other = bm.CellRecord(bm.CellSpec("vpg", "CartPole-v1", seeds=2, eval_episodes=4), "done")
    text = settings_text.settings_sentence([one, other], meta)
    assert text.startswith("Seeds per cell differ: 1 for ppo on CartPole-v1, 2 for vpg on CartPole-v1 "
                           "(seeds 0 for ppo on CartPole-v1, 0-1 for vpg on CartPole-v1)")
    assert "episodes per seed that differs per cell (2 for ppo on CartPole-v1, 4 for vpg on CartPole-v1)" in text
    same = [_done(bm.CellSpec(a, "CartPole-v1", seeds=5, seed=1000), devices=2) for a in ("ppo", "vpg")]
    assert settings_text.settings_sentence(same, meta).startswith("5 seeds per cell (seeds 1000-1004), trained together")
    assert "Not held out" not in settings_text.settings_sentence(same, meta)
    # a cell whose tuned config was changed after a result on some of its seeds: a weaker hold-out, said per cell
    hopper = _done(bm.CellSpec("trpo", "Hopper-v5", seeds=5, seed=1000))
    assert settings_text.settings_sentence(same + [hopper], meta).count(" A weaker hold-out: ") == 1
    assert (" A weaker hold-out: TRPO's Hopper-v5 max_kl 0.02, changed after the source setting's result on seeds 1000-1004 "
            "(benchmarks/results/gymnasium/README.md, Tuning).") in settings_text.settings_sentence([hopper], meta)
    later = _done(bm.CellSpec("trpo", "Hopper-v5", seeds=5, seed=1005))
    skipped = bm.CellRecord(bm.CellSpec("trpo", "Hopper-v5", seeds=5, seed=1000), "skipped")
    assert "weaker" not in settings_text.settings_sentence([later], meta) + settings_text.settings_sentence([skipped], meta)
    own = _done(bm.CellSpec("trpo", "Hopper-v5", seeds=5, seed=1000, config={"max_kl": 0.01}))  # --set max_kl=0.01
    assert "weaker" not in settings_text.settings_sentence([own], meta)
    assert settings_text.settings_sentence(same, meta).endswith("Each cell's seeds were split over 2 CPU devices.")
    mixed = same + [_done(bm.CellSpec("trpo", "CartPole-v1", seeds=5, seed=1000), devices=1)]
    assert ("The CPU devices each cell's seeds were split over differ (1 for trpo on CartPole-v1, 2 for the other 2 "
            "cells): the same seeds") in settings_text.settings_sentence(mixed, meta)
    # a cell without a recorded count (None) is a value like the others: it was dropped when it tied
    unrecorded = [same[0], bm.CellRecord(bm.CellSpec("trpo", "CartPole-v1", seeds=5, seed=1000), "failed")]
    assert ("differ (2 for ppo on CartPole-v1, None for trpo on CartPole-v1; None: not recorded)"
            in settings_text.settings_sentence(unrecorded, meta))
    gpu = bm.GridMeta(seeds=5, versions={"jax_backend": "gpu"})
    assert settings_text.settings_sentence(same, gpu).endswith("Each cell's seeds were split over 2 GPU devices.")
    third = bm.CellRecord(bm.CellSpec("trpo", "CartPole-v1", seeds=2, eval_episodes=2), "done")
    assert settings_text.per_cell([one, other, third], "seeds") == (None, "1 for ppo on CartPole-v1, 2 for the other 2 cells")
    assert settings_text.per_cell([one, third], "eval_episodes") == (2, "")
    assert settings_text.per_cell([], "seeds") == (None, "")


@pytest.mark.parametrize("with_meta", [False, True])
def test_plot_of_a_folder_without_cells_is_refused_and_writes_nothing(tmp_path, capsys, with_meta):
    out = tmp_path / "b"
    (out / "cells").mkdir(parents=True)
    if with_meta:  # a grid killed before its first cell started
        shutil.copy(GRID / "benchmark.json", out / "benchmark.json")
    assert main(["plot", str(out), "-o", str(tmp_path / "figs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rl-zoo: error: ") and "no cell has finished yet" in err and len(err.splitlines()) == 1
    assert not (out / "report.md").exists() and not (tmp_path / "figs").exists()
    with pytest.raises(ValueError, match="no cell has finished yet"):
        bm.write_report(out)


def test_threshold_is_read_from_the_evaluations_by_hand():
    from rl_zoo.benchmark.report import reach_threshold

    rows = [dict(seed=s, env_steps=t, **{"return": r}) for s, curve in ((0, (0, 500, 300)), (1, (0, 100, 500)))
            for t, r in zip((0, 100, 200), curve)]
    # means over the two seeds: 0, 300, 400
    assert reach_threshold(rows, 475.0) == (None, 2)  # no mean reaches 475, but each seed does once
    assert reach_threshold(rows, 250.0) == (100, 2)
    assert reach_threshold(rows, 450.0) == (None, 2)
    # step 200 without seed 0: seed 1's 500 there alone is not a mean over the seeds
    assert reach_threshold(rows[:2] + rows[3:], 450.0) == (None, 2)
    assert reach_threshold(rows, 501.0) == (None, 0)


def _cell_with_a_checkpoint(out, algo: str, env_id: str):
    """``(cell, folder, checkpoint path)``: a planned cell of 5,120 env steps whose run folder holds a config.json and
    one intact checkpoint (4 updates), as a run stopped mid-cell leaves it (its cell.json is the test's to write)."""
    import numpy as np

    from rl_zoo import checkpoint

    [cell] = bm.plan_grid(algo, env_id, seeds=1, total_steps=5120, out=out)
    folder = cells.cell_dir(out, cell)
    (folder / "run").mkdir(parents=True)
    (folder / "run" / "config.json").write_text("{}")
    return cell, folder, checkpoint.save(folder / "run", 4, {"w": np.zeros(3)}, {"updates_done": 4}, keep=1)


def test_a_cell_excluded_after_it_was_killed_resumes_when_it_is_included_again(tmp_path):
    """An excluded cell's record is rewritten "skipped" (its run directory kept): it started over when included
    again, its checkpoint thrown away, since only "running" and "failed" records resumed. A damaged checkpoint
    (a cell keeps one) starts it over too: resuming from it failed on every re-run (review)."""
    from rl_zoo import runs

    out = tmp_path / "b"
    cell, folder, path = _cell_with_a_checkpoint(out, "ppo", "CartPole-v1")
    status = cell.status
    cell.status = "skipped"
    runs.atomic_write_json(folder / "cell.json", cell.record().to_json())
    cell.status = status
    assert cells.resume_decision(out, cell)[0]
    with pytest.raises(ValueError, match=r"interrupted, its run kept to resume with its own config\): total_steps 5120 -> 10240"):
        bm.plan_grid("ppo", "CartPole-v1", seeds=1, total_steps=10240, out=out)  # planned again, another budget
    [bigger] = bm.plan_grid("ppo", "CartPole-v1", seeds=1, total_steps=10240, out=out, rerun=True)
    assert cells.cell_dir(out, bigger) == folder  # the old run's checkpoint is not its: it starts over, saying why
    assert cells.resume_decision(out, bigger) == (False, "its config changed (total_steps 5120 -> 10240, total_timesteps 5120 -> 10240)")
    assert cells.damaged_checkpoints(folder / "run") == ""
    path.write_bytes(path.read_bytes()[:-5])  # cut short
    assert not cells.resume_decision(out, cell)[0]  # nothing intact to resume from: it starts over, saying why in log.txt
    assert cells.damaged_checkpoints(folder / "run").startswith("its checkpoints are damaged (ckpt_000000004.msgpack: ")
    path.unlink()
    assert not cells.resume_decision(out, cell)[0]


def test_an_interrupted_cell_is_not_started_over_for_another_config_without_a_word(tmp_path):
    """Review: a grid stopped with Ctrl-C 9,000 of 12,000 steps into a cell, run again with ``--set
    dqn:learning_rate=0.001``, planned "run" as for a resume, deleted the cell's run (its checkpoint and metrics)
    and trained from step 0, exit 0. Refused now as a finished cell with another config is; a failed cell (whose
    new config is likely the fix) or one with nothing intact to resume from starts over, its log saying why."""
    from rl_zoo import runs

    out = tmp_path / "b"
    cell, folder, path = _cell_with_a_checkpoint(out, "dqn", "Acrobot-v1")
    runs.atomic_write_json(folder / "cell.json", cell.record("running").to_json())  # stopped mid-run
    changed = dict(seeds=1, total_steps=5120, out=out, sets=["dqn:learning_rate=0.001"])
    with pytest.raises(ValueError) as e:
        bm.plan_grid("dqn", "Acrobot-v1", **changed)
    assert str(e.value).startswith(f"{out} holds finished or interrupted cells with a different config than this command:")
    assert "dqn on Acrobot-v1 (interrupted, its run kept to resume with its own config): learning_rate " in str(e.value)
    assert str(e.value).endswith("--rerun to run them again and replace their results (with --algos/--envs naming only "
                                 "these cells, the others stay).")
    assert [c.status for c in bm.plan_grid("dqn", "Acrobot-v1", seeds=1, total_steps=5120, out=out)] == ["run"]  # resumes
    failed = cell.record("failed")
    runs.atomic_write_json(folder / "cell.json", failed.to_json())
    [again] = bm.plan_grid("dqn", "Acrobot-v1", **changed)
    resume, why = cells.resume_decision(out, again)
    assert not resume and why.startswith("its config changed (learning_rate ") and why.endswith(" -> 0.001)")
    runs.atomic_write_json(folder / "cell.json", cell.record("running").to_json())
    path.write_bytes(path.read_bytes()[:-5])  # nothing intact to resume from: no run to keep
    assert [c.status for c in bm.plan_grid("dqn", "Acrobot-v1", **changed)] == ["run"]


def test_a_killed_cell_excluded_by_a_later_command_keeps_its_runs_settings_and_resumes_when_included(tmp_path):
    """The excluding command wrote the cell's record from its plan, which has no config (an excluded cell is not
    resolved): a third command including it again found another identity and started it over, its checkpoint
    deleted. The record now keeps the interrupted run's settings."""
    from rl_zoo import runs
    from rl_zoo.benchmark import grid
    from rl_zoo.benchmark.records import GridMeta

    out = tmp_path / "b"
    cell, folder, _ = _cell_with_a_checkpoint(out, "dqn", "CartPole-v1")
    runs.atomic_write_json(folder / "cell.json", cell.record("running").to_json())  # killed mid-run
    [excluded] = bm.plan_grid("dqn", "CartPole-v1", seeds=1, total_steps=5120, out=out, exclude=["dqn:CartPole-v1"])
    assert excluded.status == "skipped" and not excluded.spec.config
    grid._write_start(out, [excluded], GridMeta())
    kept = bm.read_cell_record(folder / "cell.json")
    assert kept.status == "skipped" and kept.spec == cell.spec and "--exclude" in kept.reason
    assert cells.resume_decision(out, cell)[0]  # included again: it continues from its checkpoint


def test_a_cell_gets_the_cores_of_the_cells_that_can_run_beside_it():
    """`--jobs 2` with one cell left to run split it over half the cores, alone on the machine."""
    assert [cells.cell_cores(2, 2, n) for n in (1, 2, 3)] == [2, 1, 1]
    assert (cells.cell_cores(16, 3, 8), cells.cell_cores(16, 1, 8), cells.cell_cores(1, 4, 4)) == (5, 16, 1)


def test_the_report_path_is_refused_before_any_work_naming_o(tmp_path, monkeypatch):
    """``plot BENCHMARK -o``: an existing file was a bare ``[Errno 17]``, ``report.txt`` silently became a
    folder, a place no file can be made in failed on a temporary figure, and an empty name wrote to the
    current folder."""
    import tempfile

    from rl_zoo.benchmark.report import report_path

    assert report_path(tmp_path / "new" / "summary.md") == tmp_path / "new" / "summary.md"
    assert report_path(tmp_path / "figs") == tmp_path / "figs" / "report.md"
    (tmp_path / "v1.2").mkdir()
    assert report_path(tmp_path / "v1.2") == tmp_path / "v1.2" / "report.md"  # an existing folder with a dot
    (tmp_path / "afile").write_text("precious")
    (tmp_path / "dir.md").mkdir()
    for output, said in (("", "-o is empty"), (tmp_path / "afile", "it is a file, not a folder"),
                         (tmp_path / "bmrep.txt", "'.txt' is neither"), (tmp_path / "dir.md", "it is a folder; give a file name")):
        with pytest.raises(ValueError, match=re.escape(said)):
            report_path(output)

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", read_only)
    with pytest.raises(ValueError, match=re.escape(f"-o '{tmp_path / 'r.md'}': the folder '{tmp_path}' is not writable")):
        report_path(tmp_path / "r.md")
    assert (tmp_path / "afile").read_text() == "precious" and not (tmp_path / "bmrep.txt").exists()
    run = tmp_path / "run"  # a run directory's plot too: it wrote ./curve.png
    run.mkdir()
    (run / "metrics.csv").write_text("env_steps,wall_s,seed,return,train_return\n0,0.1,0,9.0,nan\n")
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(run), "-o", ""]) == 2
    assert not (tmp_path / "curve.png").exists()


def test_normalised_scores_run_from_random_to_solved_by_hand(tmp_path):
    """(return - random) / (solved - random) per seed (Agarwal et al. 2021's normalisation; CartPole's random
    21.5, solved 475), on the committed grid: PPO's five seeds end at 500, PPO-KL's second at 186.9. A
    review's mutation swapping random and solved (1 - score) passed every test."""
    grid = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "grid"
    out = tmp_path / "grid"
    shutil.copytree(grid, out, ignore=shutil.ignore_patterns(".lock", "*.png", "report.md"))
    normalised = bm.summarize(out).normalised
    np.testing.assert_allclose(normalised["ppo"]["CartPole-v1"], [(500 - 21.5) / (475 - 21.5)] * 5)
    np.testing.assert_allclose(normalised["ppo-kl"]["CartPole-v1"][1], (186.9 - 21.5) / (475 - 21.5), rtol=1e-6)


def test_a_mean_exactly_at_the_threshold_reaches_it():
    """CartPole's 475, MountainCar's -110, Acrobot's -100: whole-number returns land on the threshold."""
    from rl_zoo.benchmark.report import reach_threshold

    rows = [dict(seed=s, env_steps=t, **{"return": r}) for s in (0, 1) for t, r in ((0, 0.0), (100, 475.0))]
    assert reach_threshold(rows, 475.0) == (100, 2)
    # FrozenLake's 7 wins in 10, evaluated in float32 and written as 0.699999988079071: it fell short of 0.7
    rows = [dict(seed=s, env_steps=t, **{"return": r}) for s in (0, 1) for t, r in ((0, 0.0), (100, float(np.float32(0.7))))]
    assert reach_threshold(rows, 0.7) == (100, 2)
    assert reach_threshold(rows, 0.7000001) == (None, 0)  # the next float32 above: not reached


def test_the_dry_run_plans_what_the_run_would_do(tmp_path, capsys):
    """`--dry-run` with `--exclude` skips the excluded cell, and with `--rerun` runs a finished one again,
    as the real command would (the committed grid: ppo on CartPole-v1, seeds 1000-1004)."""
    out = copy_grid(tmp_path)
    argv = ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "5", "--seed", "1000", "--dry-run", "--out", str(out)]
    for extra, line in (([], "skip   finished before, same config"), (["--rerun"], "run    5 seed(s)")):
        assert main(argv + extra) == 0
        assert line in capsys.readouterr().out
    assert main(["benchmark", "--algos", "ppo,vpg", "--envs", "CartPole-v1", "--dry-run", "--exclude", "vpg:CartPole-v1",
                 "--out", str(tmp_path / "new")]) == 0
    assert "skip   excluded on the command line (--exclude vpg:CartPole-v1)" in capsys.readouterr().out
    assert not (tmp_path / "new").exists()


def test_the_benchmark_command_exits_1_when_a_cell_failed(tmp_path, monkeypatch):
    from types import SimpleNamespace

    for statuses, code in ((["done", "failed"], 1), (["done", "done"], 0)):
        monkeypatch.setattr(bm, "run_benchmark", lambda *a, s=statuses, **k: SimpleNamespace(cells=[SimpleNamespace(status=x) for x in s]))
        assert main(["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--out", str(tmp_path / "b"), "--no-progress"]) == code


def test_a_mistyped_exclude_is_refused():
    from rl_zoo.benchmark.plan import parse_exclude

    assert parse_exclude("ppo:CartPole-v1", ["ppo"], ["CartPole-v1"]) == {("ppo", "CartPole-v1")}
    for bad in ("ppo:CartPol-v1", "pp:CartPole-v1", "ppo"):
        with pytest.raises(ValueError, match="--exclude expects ALGO:ENV"):
            parse_exclude(bad, ["ppo"], ["CartPole-v1"])


def test_cells_of_one_env_with_other_budgets_and_points_are_said_per_cell(tmp_path, capsys):
    """Cells that different commands ran into one folder: the report said one grid size (the last command's, or
    the default 40 without benchmark.json) and one env's budget from its first cell, for all of them."""
    out = copy_grid(tmp_path)
    cell = out / "cells" / "ppo__CartPole-v1" / "cell.json"
    record = json.loads(cell.read_text())
    cell.write_text(json.dumps(dict(record, points=20, total_steps=50_000)))
    text = _plot(out, capsys)
    assert "The cells of CartPole-v1 trained for different budgets" in text
    assert "### CartPole-v1 (threshold 475, env steps per seed: 50,000 for ppo on CartPole-v1, 100,000 for the other 4 cells)" in text
    assert "a shared grid of equal intervals of env steps, as many as each cell was run with (20 for ppo on CartPole-v1, " \
           "40 for the other 12 cells)" in text
    assert "Envs ran on their JAX ports." in text


def test_a_report_without_benchmark_json_says_what_it_does_not_know(tmp_path, capsys):
    out = copy_grid(tmp_path)
    (out / "benchmark.json").unlink()
    text = _plot(out, capsys)
    assert "Machine: not recorded (the folder has no benchmark.json)." in text
    assert "written at not recorded" not in text and "Machine: ?" not in text
    assert "a shared grid of 40 equal intervals" in text  # the cells' own, not a default


def test_probability_of_improvement_table_by_hand():
    """a against b: on E1 (1, 2, 3) against (2, 2, 0) wins 6 of 9 pairs of seeds, on E2 (0, 0) against (1, 1) none:
    1/3 over the 2 envs, and b against a 2/3 with the interval mirrored (each resample's P(b > a) is 1 - P(a > b)).
    c ran on E1 only, one seed at 5, above every seed of a and b: P = 0 in every resample, counted on E1 alone;
    d shares no env with the others: "-"."""
    from rl_zoo.benchmark import improvement

    normalised = {"a": {"E1": np.array([1.0, 2.0, 3.0]), "E2": np.array([0.0, 0.0])},
                  "b": {"E1": np.array([2.0, 2.0, 0.0]), "E2": np.array([1.0, 1.0])},
                  "c": {"E1": np.array([5.0])}}
    algos, envs = ["a", "b", "c"], ["E1", "E2"]
    matrix = improvement.improvement_matrix(normalised, algos, envs)
    p, lo, hi = matrix["a", "b"]
    assert p == pytest.approx(1 / 3) and lo <= p <= hi
    assert matrix["b", "a"] == pytest.approx((2 / 3, 1 - hi, 1 - lo))
    assert matrix["a", "c"] == (0.0, 0.0, 0.0) and matrix["c", "a"] == (1.0, 1.0, 1.0)
    lines = improvement.improvement_section(normalised, algos, envs)
    assert "0.5 is no difference" in lines[0] and "narrower than 95% with few seeds" in lines[0]
    assert lines[0].endswith("Each pair is compared on the envs both algorithms ran on: all 2 envs (E1, E2), except "
                             "every pair with c: E1 only (a cell says how many envs when fewer than 2).")
    assert lines[2:4] == ["| P(row > column) | a | b | c |", "|---|---|---|---|"]
    assert lines[4].startswith("| a | - | 0.33 [") and lines[4].endswith("| 0.00 [0.00, 0.00] (1 env) |")
    assert lines[6] == "| c | 1.00 [1.00, 1.00] (1 env) | 1.00 [1.00, 1.00] (1 env) | - |"
    normalised["e"] = {"E1": np.array([0.5])}  # one seed against one seed: nothing to resample, no interval
    assert "| 1.00 (1 seed per env: no interval) (1 env) |" in improvement.improvement_section(normalised, ["c", "e"], envs)[4]
    normalised["d"] = {"E3": np.array([0.5])}
    lines = improvement.improvement_section(normalised, ["a", "b", "d"], ["E1", "E2", "E3"])
    assert lines[0].endswith("both algorithms ran on: a and b: E1, E2 only; every pair with d: no common env (-) (a cell "
                             "says how many envs when fewer than 3).")  # no pair ran on all 3: none said to
    assert lines[-2] == "| d | - | - | - |"
    assert improvement.improvement_section(normalised, ["a"], envs) == []  # nothing to compare
    assert improvement.envs_counted_sentence(normalised, ["a", "b"], envs) == "Every pair is compared on all 2 envs (E1, E2)."


def test_the_curve_heading_of_an_env_without_a_threshold(tmp_path, capsys, monkeypatch):
    """Blackjack-v1 has no solved threshold: its heading read "### Blackjack-v1 (, 20,000 env steps per seed)"."""
    from rl_zoo.benchmark import report

    out = copy_grid(tmp_path)
    monkeypatch.setattr(report, "threshold", lambda env_id: None if env_id == "CartPole-v1" else 1.0)
    text = _plot(out, capsys)
    assert "### CartPole-v1 (no threshold, 100,000 env steps per seed)" in text


def test_a_cell_still_training_is_reported_as_training_not_interrupted(tmp_path):
    """`rl-zoo plot BENCHMARK` on a grid in progress listed its running cell as "interrupted"."""
    from rl_zoo import runs
    from rl_zoo.lock import FolderLock

    out = copy_grid(tmp_path)
    folder = out / "cells" / "ppo__CartPole-v1"
    record = json.loads((folder / "cell.json").read_text())
    runs.atomic_write_json(folder / "cell.json", {**record, "status": "running", "reason": "", "resume": False})
    with FolderLock(folder, what=cells.CELL_LOCK):  # as its cell process holds it
        held = report.write_report(out, tmp_path / "held").read_text()
    left = report.write_report(out, tmp_path / "left").read_text()
    line = "- ppo on CartPole-v1: "
    assert line + "still training (process " in held and line + "interrupted" in left
    # cells.csv has no row for it yet: the footer said "one row per cell" (3 rows of a grid of 4 cells)
    assert "(one row per finished, skipped or failed cell: the unfinished ones, listed above, have none yet)" in left
    assert "(one row per cell)" in report.write_report(copy_grid(tmp_path / "done")).read_text()


def test_aggregates_of_one_seed_per_env_say_they_have_no_interval(tmp_path, capsys):
    """With --seeds 1 the aggregate table printed "0.01 [0.01, 0.01]": a bootstrap within each env of one seed."""
    out = copy_grid(tmp_path)
    for folder in (f for f in (out / "cells").iterdir() if (f / "run" / "metrics.csv").is_file()):  # not the skipped
        record = json.loads((folder / "cell.json").read_text())
        record["seeds"] = 1
        (folder / "cell.json").write_text(json.dumps(record))
        metrics = (folder / "run" / "metrics.csv").read_text().splitlines()
        seed = metrics[0].split(",").index("seed")
        (folder / "run" / "metrics.csv").write_text(
            "\n".join([metrics[0]] + [m for m in metrics[1:] if m.split(",")[seed] == "1000"]) + "\n")
    text = _plot(out, capsys)
    row = next(line for line in text.splitlines() if line.startswith("| ppo | "))
    assert row.count("(1 seed per env: no interval)") == 3 and "[" not in row
    p_row = next(line for line in text.splitlines() if line.startswith("| ppo | - |"))
    assert "(1 seed per env: no interval)" in p_row and "[" not in p_row


def test_the_report_says_what_the_grid_could_not_do_and_where_it_would_not_write(tmp_path, capsys):
    """A review's findings: a cell a --rerun could not start (its folder held) was shown as done, its old row with no
    word; a grid with no env of reference values dropped the aggregate without saying why; `plot A -o B` wrote A's
    report over another benchmark folder's (or into a run directory)."""
    from types import SimpleNamespace

    from rl_zoo.benchmark.report import _aggregate_section

    out = copy_grid(tmp_path)
    meta = json.loads((out / "benchmark.json").read_text())
    meta["plan"][0].update(status="failed", reason="cell folder cells/ppo__CartPole-v1 is in use by process 6191")
    (out / "benchmark.json").write_text(json.dumps(meta))
    assert main(["plot", str(out)]) == 0
    assert ("- ppo on CartPole-v1: cell folder cells/ppo__CartPole-v1 is in use by process 6191; its row is an earlier "
            "run's result") in (out / "report.md").read_text()
    record = json.loads((out / "cells" / "ppo__CartPole-v1" / "cell.json").read_text())
    (out / "cells" / "ppo__CartPole-v1" / "cell.json").write_text(json.dumps(dict(record, status="running")))
    assert main(["plot", str(out)]) == 0  # the other process's cell, running: listed once, as unfinished, not as failed
    assert "in use by process 6191" not in (out / "report.md").read_text()
    lake = SimpleNamespace(records=[SimpleNamespace(algo="dqn", env="FrozenLake-v1")], normalised={},
                           table=[SimpleNamespace(env="FrozenLake-v1")])
    assert _aggregate_section(lake, tmp_path) == [
        "## Aggregate across envs", "", "None: no env of this grid has reference values (a random policy's return and a "
        "threshold, to normalise by): FrozenLake-v1.", ""]
    for other in (tmp_path / "other_grid", tmp_path / "a_run"):
        other.mkdir()
        (other / ("benchmark.json" if other.name == "other_grid" else "config.json")).write_text("{}")
        assert main(["plot", str(out), "-o", str(other)]) == 2
        assert f"-o '{other}' is a " in capsys.readouterr().err and sorted(p.name for p in other.iterdir()) == [
            "benchmark.json" if other.name == "other_grid" else "config.json"]


def test_a_rerun_stopped_as_its_cell_starts_leaves_no_old_results_in_the_tables(tmp_path, monkeypatch):
    """The cell's folder (its old results) was removed, but cells.csv and returns.csv kept them: a Ctrl-C there left
    tables that disagreed with the folders, which `rl-zoo plot` did not mend."""
    import csv

    out = copy_grid(tmp_path)

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cells, "open_log", ctrl_c)  # the cell's folder removed and made anew, its process not started
    argv = ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "5", "--seed", "1000", "--rerun", "--out", str(out),
            "--no-progress"]
    assert main(argv) == 130
    rows = list(csv.DictReader((out / "cells.csv").open()))
    assert ("ppo", "CartPole-v1") not in {(r["algo"], r["env"]) for r in rows} and len(rows) == 14
    assert not any(r["algo"] == "ppo" and r["env"] == "CartPole-v1" for r in csv.DictReader((out / "returns.csv").open()))


def test_a_cell_started_on_a_rerun_gets_the_cores_of_the_whole_grid(monkeypatch, tmp_path):
    """A grid stopped and run again shared the cores by the cells left: its last cell, starting afresh, ran on 2 devices
    where the uninterrupted grid ran it on 1 (PPO on Pendulum-v1 ended at -596.6 against -142.2)."""
    from types import SimpleNamespace

    from rl_zoo import distributed
    from rl_zoo.lock import FolderInUse

    given = []

    def start_cell(out, cell, clip, cores):
        given.append(cores)
        raise FolderInUse("held")  # the cell ends there: only its share of the cores is looked at

    monkeypatch.setattr(cells, "start_cell", start_cell)
    monkeypatch.setattr(distributed, "usable_cores", lambda: 2)
    bar = SimpleNamespace(start=lambda *a, **k: None, finish=lambda *a, **k: None)
    for grid_cells in (2, None):  # one cell left of a grid of two, --jobs 2; then as before (the cells left)
        left = SimpleNamespace(name="ppo-Pendulum-v1", algo="ppo", env="Pendulum-v1", seeds=2, total_steps=4096,
                               env_steps=8192, budget_text=lambda: "2 seed(s) x 4,096 env steps", status="run", reason="")
        cells.run_cells(tmp_path, [left], 2, bar, grid_cells=grid_cells)
    assert given == [1, 2]


def test_the_report_names_the_cells_that_evaluated_fewer_times_than_their_grid():
    """A Hopper-v5 cell's 40 grid points held 10 evaluations (the gymnasium cut to 10% of training), drawn as a
    curve of 40 points, and neither --help nor the report said so."""
    from types import SimpleNamespace

    from rl_zoo.benchmark.report import _fewer_evaluations

    def cell(algo, env, made, points):
        return SimpleNamespace(record=SimpleNamespace(algo=algo, env=env), evaluations=made, spec=SimpleNamespace(points=points))

    assert _fewer_evaluations([cell("ppo", "CartPole-v1", 40, 40), cell("ppo", "Pendulum-v1", 41, 40)]) == ""
    said = _fewer_evaluations([cell("ppo", "CartPole-v1", 40, 40), cell("ppo", "Hopper-v5", 10, 40)])
    assert "evaluated fewer times than their grid's intervals" in said and "ppo on Hopper-v5 (10 for 40)" in said
    # review: it said a gymnasium env's evaluations "cost at most 10%" of training; the start's and the final one come
    # on top (HalfCheetah-v5 at 8,192 steps: eval_fraction 2.44)
    assert "at most 10%" not in said and "the final one is always made" in said and "eval_fraction" in said
    assert "CartPole" not in said


def test_the_jobs_sentence_says_which_cells_an_earlier_command_finished():
    """Review: a grid resumed with --jobs 1 said "1 cell(s) at a time" of a cell that had trained beside another under
    --jobs 2 (benchmark.json keeps the last command's --jobs)."""
    from types import SimpleNamespace

    from rl_zoo.benchmark.report import _jobs_words

    meta = SimpleNamespace(jobs=1, started="2026-12-07 13:00:00")
    done = lambda when: SimpleNamespace(result=SimpleNamespace(finished=when))  # noqa: E731
    assert _jobs_words([done("2026-12-07 13:05:00"), SimpleNamespace(result=None)], meta) == "1 cell(s) at a time"
    assert _jobs_words([done("2026-12-07 12:55:00"), done("2026-12-07 13:05:00")], meta) == (
        "1 cell(s) at a time in the last command (1 cell finished by an earlier one, at its own --jobs)")


def test_a_benchmark_folder_that_cannot_be_written_is_refused_up_front_without_o(tmp_path, monkeypatch, capsys):
    """A read-only grid without -o: the figures were drawn, then exit 1 on a raw ``[Errno 13]`` naming a hidden
    temporary file; now exit 2 in one line that says to give -o."""
    from rl_zoo import runs

    out = copy_grid(tmp_path)
    monkeypatch.setattr(runs, "writable_folder", lambda folder: Path(folder).resolve() != out.resolve())
    assert main(["plot", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} is not writable, and without -o the report and its figures go into it: give -o" in err, err
    assert len(err.strip().splitlines()) == 1 and not (out / "report.md").exists()


def test_a_report_elsewhere_does_not_replace_files_of_the_users_own(tmp_path, capsys):
    """``-o mydocs`` replaced mydocs/report.md and mydocs/profile.png, and ``-o README.md`` a README (``rl-zoo
    benchmark --out`` refuses such a folder): refused, nothing touched; a report of ours is written again."""
    out = copy_grid(tmp_path)
    docs = tmp_path / "mydocs"
    docs.mkdir()
    (docs / "report.md").write_text("my own notes\n")
    (docs / "profile.png").write_bytes(b"my own picture")
    readme = tmp_path / "README.md"
    readme.write_text("# My project\n")
    for output, said in ((docs, "/report.md' exists and is not an rl-zoo benchmark report"),
                         (readme, "/README.md' exists and is not an rl-zoo benchmark report")):
        assert main(["plot", str(out), "-o", str(output)]) == 2
        assert re.search(said, capsys.readouterr().err)
    (docs / "report.md").unlink()
    assert main(["plot", str(out), "-o", str(docs)]) == 2
    assert "holds profile.png, not of an rl-zoo benchmark report" in capsys.readouterr().err
    assert sorted(p.name for p in docs.iterdir()) == ["profile.png"] and (docs / "profile.png").read_bytes() == b"my own picture"
    assert readme.read_text() == "# My project\n"
    earlier = tmp_path / "earlier"  # the folder of an earlier report: its report and figures are ours to replace
    earlier.mkdir()
    (earlier / "report.md").write_text("# Benchmark: ppo on CartPole-v1\n")
    (earlier / "profile.png").write_bytes(b"an earlier report's")
    report._refuse_files_of_others(earlier / "report.md")
    report._refuse_files_of_others(earlier / "other.md")


def test_a_report_stopped_among_its_figures_is_written_again_into_its_folder(tmp_path, monkeypatch, capsys):
    """The figures are drawn before report.md: a report stopped among them (Ctrl-C, a full disk) left aggregate.png
    in a folder with no report of ours, and the command again was refused as over "files not of a report"; an empty
    .md file (``mktemp --suffix .md``) was refused too, where there is nothing to lose."""
    out = copy_grid(tmp_path)
    rep = tmp_path / "rep"

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(report, "_curves_section", stopped)
        with pytest.raises(KeyboardInterrupt):
            report.write_report(out, rep)
    assert (rep / "aggregate.png").is_file() and "stopped: run it again" in (rep / "report.md").read_text()
    assert main(["plot", str(out), "-o", str(rep)]) == 0, capsys.readouterr().err
    assert (rep / "report.md").read_text().startswith("# Benchmark: ") and "if this line stays" not in (rep / "report.md").read_text()
    empty = tmp_path / "empty.md"
    empty.write_text("")
    report._refuse_files_of_others(empty)


def test_a_rerun_without_note_keeps_the_last_commands_note(tmp_path):
    """Review: re-running a grid's command without ``--note`` dropped the earlier note from report.md."""
    from rl_zoo import runs
    from rl_zoo.benchmark import grid
    from rl_zoo.benchmark.records import GridMeta

    plan = dict(algos="ppo", env_ids="CartPole-v1", seeds=2, seed=1000, points=4, eval_episodes=10)
    runs.atomic_write_json(tmp_path / "benchmark.json", GridMeta(note="why dqn is excluded", algos=["ppo"], envs=["CartPole-v1"],
                                                                 seeds=2, seed=1000).to_json())
    assert grid._new_meta(tmp_path, [], plan, 1, "cmd", None).note == "why dqn is excluded"
    assert grid._new_meta(tmp_path, [], plan, 1, "cmd", "another").note == "another"
    assert grid._new_meta(tmp_path, [], plan, 1, "cmd", "").note is None
    assert grid._new_meta(tmp_path / "new", [], plan, 1, "cmd", None).note is None
    other = dict(plan, algos="vpg", env_ids="Pendulum-v1")  # another grid into the folder: the note was of other cells
    assert grid._new_meta(tmp_path, [], other, 1, "cmd", None).note is None
    assert grid._new_meta(tmp_path, [], dict(plan, seed=0), 1, "cmd", None).note is None
    from rl_zoo.benchmark.plan import EXCLUDED
    from rl_zoo.benchmark.records import GridMeta as Meta

    excluded = [dict(algo="ppo", env="CartPole-v1", status="skipped", reason=f"{EXCLUDED} (--exclude ppo:CartPole-v1)")]
    runs.atomic_write_json(tmp_path / "benchmark.json", Meta(note="ppo excluded for time", algos=["ppo"], envs=["CartPole-v1"],
                                                             seeds=2, seed=1000, plan=excluded).to_json())
    assert grid._new_meta(tmp_path, [], plan, 1, "cmd", None).note is None  # the exclusion gone: so is its note
