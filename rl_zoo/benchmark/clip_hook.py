"""The clip hook of a benchmark cell process (``rl_zoo.benchmark.clips``); a module of its own so that
importing ``rl_zoo.benchmark`` does not import JAX and the driver."""

from __future__ import annotations

from pathlib import Path

from rl_zoo import interrupt
from rl_zoo.benchmark.clips import CLIP_NAME, FRAME_SKIP, WIDTH, write_no_clip
from rl_zoo.driver.recorder import RunEnd
from rl_zoo.enjoy import VideoHook


class CellVideoHook(VideoHook):
    """The clip of a cell process: ``VideoHook`` drawn small, whose failure (an env that cannot be drawn,
    a missing video writer, ...) is written to ``no_clip.txt`` instead of failing the finished cell."""

    def __init__(self, cell_folder: Path):
        super().__init__(CLIP_NAME, frame_skip=FRAME_SKIP, width=WIDTH)
        self.cell_folder = Path(cell_folder)

    def on_finish(self, end: RunEnd) -> None:
        try:
            super().on_finish(end)
        except Exception as e:  # noqa: BLE001 -- a clip never fails the cell whose results are written
            interrupt.raise_if_signalled()  # an error a Ctrl-C caused inside the drawing: no note that would stop a retry
            write_no_clip(self.cell_folder, f"recording failed: {type(e).__name__}: {e}")
