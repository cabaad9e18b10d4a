"""One clip per cell (``rl-zoo benchmark --record-video``): a GIF of one greedy episode of the cell's first
seed, and the "Clips" section of ``report.md`` that shows them.

* A cell that runs records its clip at the end of training (``clip_hook.CellVideoHook``, a
  ``rl_zoo.enjoy.VideoHook`` drawn small: every 2nd frame, 200 px wide) into ``cells/<cell>/run/``.
* A cell finished before without a clip gets one from its last checkpoint (``rl_zoo.enjoy.enjoy``);
  a grid that records clips keeps each cell's last checkpoint for that (otherwise it is removed).
* A clip never fails its cell: an env that cannot be drawn here (``rl_zoo.enjoy.check_can_record``,
  checked once per env in the grid process before any cell starts) or a recording that fails leaves
  ``cells/<cell>/no_clip.txt`` saying why, and the report quotes it.

Recording a clip does not change a cell's results, so it is not part of the cell's identity
(``CellSpec.key``): finished cells are not run again for it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

from rl_zoo import interrupt, runs
from rl_zoo.benchmark.records import CellRecord, GridMeta

#: the clip in a cell's run directory
CLIP_NAME = "final_episode.gif"
#: why a cell has no clip (in the cell folder, beside cell.json)
NO_CLIP = "no_clip.txt"
#: how clips are drawn: every FRAME_SKIP-th frame (played at fps / FRAME_SKIP, so in real time), WIDTH pixels wide
FRAME_SKIP, WIDTH = 2, 200
RETRY = f"delete {NO_CLIP} (or the cell folder, to run it again) and run the command again to retry"


def clip_path(cell_folder: Path) -> Path:
    return Path(cell_folder) / "run" / CLIP_NAME


def write_no_clip(cell_folder: Path, reason: str) -> None:
    runs.atomic_write_text(Path(cell_folder) / NO_CLIP, reason.strip() + "\n")


def unrecordable_envs(env_backends: Sequence[tuple[str, str]]) -> dict[str, str]:
    """``{env: why}`` for the envs that cannot be drawn here (``check_can_record``), each checked once;
    ``env_backends``: (env id, backend or "") pairs."""
    from envs.render import RenderError
    from rl_zoo.enjoy import check_can_record

    why: dict[str, str] = {}
    for env, backend in dict.fromkeys(env_backends):
        try:
            check_can_record(env, backend or None)
        except RenderError as e:  # what is missing, how to install it
            why[env] = f"{env} cannot be drawn here: {e}"
        except Exception as e:  # noqa: BLE001 -- e.g. no display for pygame: the grid runs, without these clips
            why[env] = f"{env} cannot be drawn here: {type(e).__name__}: {e}"
    return why


def complete_clips(out: Path, records: Sequence, cannot_draw: dict[str, str],
                   log: Callable[[str], None] = print) -> None:
    """Give every finished cell of ``records`` (``Cell`` or ``CellRecord``: status, name, env) a clip or a
    ``no_clip.txt``: a cell on an env in ``cannot_draw`` gets the
    reason; a cell finished before without a clip is recorded from its last checkpoint, or told that it
    has none. Cells that already have either are left alone."""
    from rl_zoo import checkpoint

    for rec in records:
        folder = out / "cells" / rec.name
        if rec.status != "done" or clip_path(folder).exists() or (folder / NO_CLIP).exists():
            continue
        if rec.env in cannot_draw:  # its checkpoints were not kept (no clip was to be drawn): only a re-run can make one
            write_no_clip(folder, f"{cannot_draw[rec.env]} (once it can be drawn, delete the cell folder and run the "
                                  f"command again with --record-video: the cell runs again and its clip is drawn)")
        elif checkpoint.latest(folder / "run") is None:
            write_no_clip(folder, "finished by a grid without --record-video, whose checkpoints were removed: "
                          "run it again (--rerun, or delete the cell folder) to record a clip")
        else:
            _clip_from_checkpoint(folder, log)


def _clip_from_checkpoint(folder: Path, log: Callable[[str], None]) -> None:
    from rl_zoo.enjoy import enjoy

    try:
        played = enjoy(folder / "run", record=clip_path(folder), frame_skip=FRAME_SKIP, width=WIDTH, log=lambda _: None)
        log(f"clip of {folder.name} recorded from its last checkpoint (return {played[0].episode_return:.1f})")
    except Exception as e:  # noqa: BLE001 -- the cell's results stand without a clip
        interrupt.raise_if_signalled()  # an error a Ctrl-C caused inside the drawing: no note that would stop a retry
        write_no_clip(folder, f"recording from the last checkpoint failed: {type(e).__name__}: {e} ({RETRY})")


def clips_section(out: Path, records: Sequence[CellRecord], meta: GridMeta, report_dir: Path) -> list[str]:
    """The "Clips" section of ``report.md``: per env a row of the finished cells' clips (links relative to
    ``report_dir``), and why a cell has none. Empty for a grid that never recorded clips."""
    done = [r for r in records if r.status == "done"]
    clips = {r.name: clip_path(out / "cells" / r.name) for r in done}
    if not meta.record_video and not any(p.exists() for p in clips.values()):
        return []
    algos = list(dict.fromkeys(r.algo for r in done))
    lines = ["## Clips", "",
             "One greedy episode (env seed 0) of each cell's first seed at the end of training, every 2nd frame "
             f"shown ({CLIP_NAME} in each cell's run directory).", "",
             "| env | " + " | ".join(algos) + " |", "|---|" + "---|" * len(algos)]
    missing: list[str] = []
    for env in dict.fromkeys(r.env for r in done):
        row = []
        for algo in algos:
            rec = next((r for r in done if r.algo == algo and r.env == env), None)
            if rec is None:
                row.append("-")
            elif clips[rec.name].exists():
                row.append(f"![{algo} on {env}]({Path(os.path.relpath(clips[rec.name], report_dir)).as_posix()})")
            else:
                row.append("no clip")
                note = out / "cells" / rec.name / NO_CLIP
                why = note.read_text().strip() if note.exists() else "not recorded (run the grid with --record-video)"
                missing.append(f"- {algo} on {env}: {why}")
        lines.append(f"| {env} | " + " | ".join(row) + " |")
    lines += [""] + (["**No clip:**", ""] + missing + [""] if missing else [])
    return lines
