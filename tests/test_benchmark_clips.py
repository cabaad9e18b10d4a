"""`rl-zoo benchmark --record-video`: one clip per cell (a GIF of a greedy episode), linked from report.md;
finished cells are not run again for a clip but recorded from their kept checkpoint; a cell whose clip
cannot be made keeps its results and the report says why (rl_zoo/benchmark/clips.py)."""

import json
import os

import pytest

from rl_zoo import benchmark as bm
from rl_zoo import checkpoint
from rl_zoo.benchmark import clips
from rl_zoo.cli import main

CELL = "ppo__CartPole-v1"
LINK = f"![ppo on CartPole-v1](cells/{CELL}/run/{clips.CLIP_NAME})"


@pytest.fixture(scope="module")
def clip_grid(tmp_path_factory, seed_offset):
    pytest.importorskip("pygame", reason="drawing CartPole needs pygame: pip install -e \".[video]\"")
    out = tmp_path_factory.mktemp("clips") / "grid"
    argv = ["benchmark", "--algos", "ppo", "--envs", "CartPole-v1", "--seeds", "1", "--seed", str(seed_offset),
            "--total-steps", "1024", "--points", "2", "--eval-episodes", "1", "--out", str(out), "--no-progress",
            "--record-video"]
    assert main(argv) == 0
    return out, argv


def _gif(path):
    from PIL import Image

    with Image.open(path) as im:
        return im.format, im.size, im.n_frames


@pytest.mark.slow  # the grid: about 15 s CPU (PPO compile in the cell process)
def test_each_cell_gets_a_clip_linked_from_the_report(clip_grid):
    out, _ = clip_grid
    clip = out / "cells" / CELL / "run" / clips.CLIP_NAME
    fmt, (width, _), frames = _gif(clip)
    assert fmt == "GIF" and width == clips.WIDTH and frames >= 2  # every 2nd frame of an episode of >= 8 steps
    assert not (out / "cells" / CELL / clips.NO_CLIP).exists()
    assert json.loads((out / "benchmark.json").read_text())["record_video"] is True
    assert bm.read_grid_meta(out).record_video
    report = (out / "report.md").read_text()
    assert "## Clips" in report and f"| CartPole-v1 | {LINK} |" in report
    assert checkpoint.latest(out / "cells" / CELL / "run") is not None  # kept, to record a clip again later
    key = json.loads((out / "cells" / CELL / "cell.json").read_text())["key"]
    assert key == bm.read_cell_record(out / "cells" / CELL / "cell.json").spec.identity()  # the clip is not in it


@pytest.mark.slow  # the grid: about 15 s CPU (PPO compile in the cell process)
def test_report_elsewhere_links_relative_to_itself(clip_grid, tmp_path):
    out, _ = clip_grid
    target = tmp_path / "elsewhere" / "report.md"
    assert main(["plot", str(out), "-o", str(target)]) == 0
    text = target.read_text()
    rel = os.path.relpath(out / "cells" / CELL / "run" / clips.CLIP_NAME, target.parent)
    assert f"![ppo on CartPole-v1]({rel})" in text and (target.parent / rel).exists()


@pytest.mark.slow  # the grid: about 15 s CPU (PPO compile in the cell process)
def test_finished_cell_without_clip_is_recorded_from_its_checkpoint_not_rerun(clip_grid):
    out, argv = clip_grid
    run = out / "cells" / CELL / "run"
    (run / clips.CLIP_NAME).unlink()
    metrics = (run / "metrics.csv").stat().st_mtime_ns
    assert main(argv) == 0
    assert (run / "metrics.csv").stat().st_mtime_ns == metrics  # the cell did not run again
    assert _gif(run / clips.CLIP_NAME)[0] == "GIF"
    assert LINK in (out / "report.md").read_text()


def _records(*cells):
    return [bm.CellRecord(bm.CellSpec(algo, env), status, "") for algo, env, status in cells]


def test_clips_section_links_clips_and_says_why_a_cell_has_none(tmp_path):
    """Without training: a folder with one clip, one cell on an env that cannot be drawn, one finished
    without checkpoints, one failed cell (no clip expected) and the hook's failure written down."""
    out = tmp_path / "grid"
    records = _records(("ppo", "CartPole-v1", "done"), ("vpg", "CartPole-v1", "done"), ("ppo", "Pendulum-v1", "done"),
                       ("dqn", "CartPole-v1", "failed"), ("vpg", "Pendulum-v1", "done"))
    for r in records:
        (out / "cells" / r.name / "run").mkdir(parents=True)
    assert clips.clips_section(out, records, bm.GridMeta(), out) == []  # never recorded: no section
    (out / "cells" / CELL / "run" / clips.CLIP_NAME).write_bytes(b"GIF89a")
    clips.complete_clips(out, records, {"Pendulum-v1": "Pendulum-v1 cannot be drawn here: no pygame"}, log=lambda _: None)
    assert not (out / "cells" / CELL / clips.NO_CLIP).exists()  # it has its clip
    assert not (out / "cells" / "dqn__CartPole-v1" / clips.NO_CLIP).exists()  # failed: no results, no clip
    assert "--rerun" in (out / "cells" / "vpg__CartPole-v1" / clips.NO_CLIP).read_text()  # no checkpoint kept
    # how to retry: the cell ran without a clip to draw, so its checkpoints went; deleting no_clip.txt alone would
    # find none and blame a grid without --record-video
    assert "delete the cell folder" in (out / "cells" / "ppo__Pendulum-v1" / clips.NO_CLIP).read_text()
    lines = clips.clips_section(out, records, bm.GridMeta(record_video=True), out)
    assert lines[0] == "## Clips" and "| env | ppo | vpg |" in lines
    assert f"| CartPole-v1 | {LINK} | no clip |" in lines and "| Pendulum-v1 | no clip | no clip |" in lines
    assert any(x.startswith("- ppo on Pendulum-v1: Pendulum-v1 cannot be drawn here: no pygame") for x in lines)
    assert any(x.startswith("- vpg on CartPole-v1: finished by a grid without --record-video") for x in lines)
    elsewhere = clips.clips_section(out, records, bm.GridMeta(), tmp_path / "a" / "b")  # a clip exists: shown
    assert f"![ppo on CartPole-v1](../../grid/cells/{CELL}/run/{clips.CLIP_NAME})" in "\n".join(elsewhere)
    # a recording that fails inside the cell process is written down, not raised (the cell stays done)
    from rl_zoo.benchmark.clip_hook import CellVideoHook

    CellVideoHook(out / "cells" / "dqn__CartPole-v1").on_finish(None)  # no run started: the hook cannot play
    assert "recording failed" in (out / "cells" / "dqn__CartPole-v1" / clips.NO_CLIP).read_text()


def test_a_ctrl_c_that_the_drawing_turned_into_an_error_writes_no_no_clip_note(tmp_path, monkeypatch, python_sigint):
    """Box2D's drawing turned a Ctrl-C into a TypeError (2 of 22 tries): the cell got a no_clip.txt saying the
    recording failed, which kept every later run of the grid from recording its clip. It is the interrupt now."""
    import signal

    from rl_zoo import interrupt

    def cut(*args, **kwargs):
        try:
            interrupt._handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            raise TypeError("a Box2D body's position") from None

    monkeypatch.setattr("rl_zoo.enjoy.enjoy", cut)
    folder = tmp_path / CELL
    folder.mkdir()
    with interrupt.installed(), pytest.raises(KeyboardInterrupt):
        clips._clip_from_checkpoint(folder, print)
    assert not list(folder.iterdir())
    monkeypatch.setattr("rl_zoo.enjoy.enjoy", lambda *a, **k: (_ for _ in ()).throw(TypeError("a Box2D body's position")))
    clips._clip_from_checkpoint(folder, print)  # no signal: the error is the recording's, and said
    assert "TypeError" in (folder / clips.NO_CLIP).read_text()


def test_a_ctrl_c_that_the_drawing_turned_into_an_error_in_the_cell_writes_no_no_clip_note(tmp_path, monkeypatch,
                                                                                            python_sigint):
    """The same Ctrl-C inside the cell process's own clip (``CellVideoHook``): it too wrote no_clip.txt."""
    import signal

    from rl_zoo import interrupt
    from rl_zoo.benchmark.clip_hook import CellVideoHook
    from rl_zoo.enjoy import VideoHook

    def cut(self, end):
        try:
            interrupt._handler(signal.SIGINT, None)
        except KeyboardInterrupt:
            raise TypeError("a Box2D body's position") from None

    monkeypatch.setattr(VideoHook, "on_finish", cut)
    with interrupt.installed(), pytest.raises(KeyboardInterrupt):
        CellVideoHook(tmp_path).on_finish(None)
    assert not list(tmp_path.iterdir())
    monkeypatch.setattr(VideoHook, "on_finish", lambda self, end: (_ for _ in ()).throw(TypeError("no display")))
    CellVideoHook(tmp_path).on_finish(None)  # no signal: the recording's own error, noted
    assert "TypeError: no display" in (tmp_path / clips.NO_CLIP).read_text()
