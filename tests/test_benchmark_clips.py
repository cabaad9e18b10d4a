"""`rl-zoo benchmark --record-video`: one clip per cell (a GIF of a greedy episode), linked from report.md;
finished cells are not run again for a clip but recorded from their kept checkpoint; a cell whose clip
cannot be made keeps its results and the report says why (rl_zoo/benchmark/clips.py)."""

import json
import shutil

import pytest

from rl_zoo import benchmark as bm
from rl_zoo import checkpoint
from rl_zoo.benchmark import clips
from rl_zoo.cli import main

CELL = "ppo__CartPole-v1"
LINK = f"![ppo on CartPole-v1](cells/{CELL}/run/{clips.CLIP_NAME})"

pytest.importorskip("pygame")
pytest.importorskip("imageio")


@pytest.fixture(scope="module")
def clip_grid(tmp_path_factory, seed_offset):
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


def test_report_elsewhere_links_relative_to_itself(clip_grid, tmp_path):
    out, _ = clip_grid
    target = tmp_path / "elsewhere" / "report.md"
    assert main(["plot", str(out), "-o", str(target)]) == 0
    text = target.read_text()
    import os

    rel = os.path.relpath(out / "cells" / CELL / "run" / clips.CLIP_NAME, target.parent)
    assert f"![ppo on CartPole-v1]({rel})" in text and (target.parent / rel).exists()


def test_finished_cell_without_clip_is_recorded_from_its_checkpoint_not_rerun(clip_grid):
    out, argv = clip_grid
    run = out / "cells" / CELL / "run"
    (run / clips.CLIP_NAME).unlink()
    metrics = (run / "metrics.csv").stat().st_mtime_ns
    assert main(argv) == 0
    assert (run / "metrics.csv").stat().st_mtime_ns == metrics  # the cell did not run again
    assert _gif(run / clips.CLIP_NAME)[0] == "GIF"
    assert LINK in (out / "report.md").read_text()


def test_a_cell_without_a_clip_keeps_its_results_and_the_report_says_why(clip_grid, tmp_path):
    out, _ = clip_grid
    grid = tmp_path / "grid"
    shutil.copytree(out, grid, ignore=shutil.ignore_patterns(".lock", "*.lock"))
    (grid / "cells" / CELL / "run" / clips.CLIP_NAME).unlink()
    records = bm.load_cells(grid)
    assert clips.clips_section(grid, records, bm.GridMeta(), grid) == []  # no clip, not recorded: no section
    clips.complete_clips(grid, records, {"CartPole-v1": "CartPole-v1 cannot be drawn here: no pygame"}, log=lambda _: None)
    why = (grid / "cells" / CELL / clips.NO_CLIP).read_text()
    assert "no pygame" in why and clips.NO_CLIP in why  # how to retry
    report = bm.write_report(grid).read_text()
    assert "| CartPole-v1 | no clip |" in report and "- ppo on CartPole-v1: CartPole-v1 cannot be drawn here: no pygame" in report
    assert [r.status for r in bm.load_cells(grid)] == ["done"]
    # a recording that fails inside the cell process is written down, not raised (the cell stays done)
    from rl_zoo.benchmark.clip_hook import CellVideoHook

    (grid / "cells" / CELL / clips.NO_CLIP).unlink()
    CellVideoHook(grid / "cells" / CELL).on_finish(None)  # no run started: the hook cannot play
    assert "recording failed" in (grid / "cells" / CELL / clips.NO_CLIP).read_text()
    # finished by a grid without --record-video (checkpoints removed): the report says how to get a clip
    (grid / "cells" / CELL / clips.NO_CLIP).unlink()
    shutil.rmtree(grid / "cells" / CELL / "run" / "checkpoints")
    clips.complete_clips(grid, records, {}, log=lambda _: None)
    assert "--rerun" in bm.write_report(grid).read_text()
