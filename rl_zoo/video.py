"""Videos: frames drawn as an episode plays, written to a ``.gif`` (Pillow) or ``.mp4`` (imageio-ffmpeg) as they come.

``VideoWriter`` writes to a temporary file beside the target and renames it over the target at the end, so an
interrupted or failed recording leaves nothing half written; an mp4's frames go to ffmpeg at once (``rl-zoo enjoy``
of 5 Pendulum episodes to mp4 peaked at 0.33 GB instead of 1.8 GB, the same bytes written), a GIF's are kept
scaled until its palettes are made. ``check_video_path`` and ``check_frames`` refuse what cannot be written before
anything plays or trains. Used by ``rl_zoo.enjoy`` (``rl-zoo enjoy --record``, ``--record-video``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rl_zoo import interrupt
from rl_zoo.config import check_int_args, check_seed_range
from rl_zoo.runs import check_file_folder, temporary_stem

#: video formats ``--record`` writes, and what each needs
VIDEO_SUFFIXES = {".gif": "Pillow (installed with matplotlib and imageio)", ".mp4": "imageio and imageio-ffmpeg"}
#: the modules each format's writer imports: GIFs are Pillow's, mp4 goes through imageio to ffmpeg
VIDEO_MODULES = {".gif": ("PIL",), ".mp4": ("imageio", "imageio_ffmpeg")}
VIDEO_INSTALL_HINT = 'pip install -e ".[video]"'
#: GIF frames shorter than 20 ms are shown at 100 ms by browsers: faster envs (MuJoCo's 125 fps) drop frames
GIF_MAX_FPS = 50

#: the widest ``--width`` (4K video's): a GIF's frames are held in memory until it is written
MAX_WIDTH = 3840


@dataclass(frozen=True)
class VideoSpec:
    """How frames become a video file: every ``frame_skip``-th frame is kept (played at ``fps /
    frame_skip``, so the clip still runs in real time), scaled to ``width`` pixels wide (``None``: as drawn)."""

    path: Path
    frame_skip: int = 1
    width: int | None = None


def check_frames(frame_skip: int, width: int | None, seed: int = 0) -> None:
    """Refuse a ``frame_skip`` below 1, a ``width`` outside 2 .. ``MAX_WIDTH`` (a GIF holds all its frames in
    memory: 100000 was killed for it) or an episode ``seed`` outside int32, and any of them not an integer
    (``width=100.5``, ``seed="a"`` failed in PIL or JAX after a whole run had trained), before anything plays or
    trains."""
    frame_skip, width, seed = check_int_args({"--frame-skip": frame_skip, "--width": width, "--seed": seed})
    check_seed_range(seed)
    if frame_skip < 1:
        raise ValueError(f"--frame-skip = {frame_skip} is invalid: must be at least 1 (every frame)")
    if width is not None and not 2 <= width <= MAX_WIDTH:
        raise ValueError(f"--width = {width} is invalid: must be 2 to {MAX_WIDTH} pixels (a GIF's frames are all held in "
                         f"memory: 100000 was killed for it)")


def check_video_path(path: str | os.PathLike, writable: bool = True) -> Path:
    """Refuse, before anything is played, an output that cannot be written: an unknown suffix, a folder
    that does not exist (or, ``writable``, that cannot be written), a missing video writer. Returns the
    path. ``rl-zoo train --record-video NAME`` checks only the name (its folder is the run directory,
    checked as ``--out``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise ValueError(f"cannot record to {str(path)!r}: the file must end in {' or '.join(VIDEO_SUFFIXES)}")
    if len(os.fsencode(path.name)) > (longest := _longest_name(path.parent)):  # else a traceback (or, run trained, lost)
        raise ValueError(f"cannot record to {str(path)!r}: its file name is {len(os.fsencode(path.name))} bytes long, "
                         f"over the {longest} a file name may have here")
    if path.is_dir():
        raise ValueError(f"cannot record to {str(path)!r}: it is a folder; give a file name ending in {suffix}")
    check_file_folder(path, f"cannot record to {str(path)!r}", writable)
    missing = [m for m in VIDEO_MODULES[suffix] if not _importable(m)]
    if missing:
        raise ImportError(f"recording {suffix} needs {VIDEO_SUFFIXES[suffix]}, but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed: "
                          f"{VIDEO_INSTALL_HINT} (or pip install {' '.join('pillow' if m == 'PIL' else m.replace('_', '-') for m in missing)})")
    return path


def _longest_name(folder: Path) -> int:
    """The most bytes a file name may have in ``folder`` (``NAME_MAX``; 255 where it cannot be asked)."""
    try:
        return os.pathconf(folder if folder.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder yet, no pathconf (Windows)
        return 255


def _importable(module: str) -> bool:
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _prepare(frame: np.ndarray, spec: VideoSpec) -> np.ndarray:
    """A frame scaled to ``spec.width`` (Pillow, Lanczos), even-sized for mp4."""
    from PIL import Image

    h, w = frame.shape[:2]
    width = spec.width or w
    height = max(2, round(h * width / w))
    if spec.path.suffix.lower() == ".mp4":  # yuv420p needs even sides
        width, height = width - width % 2, height - height % 2
    if (width, height) != (w, h):
        frame = np.asarray(Image.fromarray(frame).resize((width, height), Image.LANCZOS))
    return frame


def _gif_frame_skip(fps: float) -> int:
    """The smallest frame skip that keeps a GIF at most ``GIF_MAX_FPS``, preferring one whose frame time is
    a whole number of GIF time units (10 ms), so the clip plays at real speed (125 fps: every 5th, 40 ms)."""
    base = math.ceil(fps / GIF_MAX_FPS)
    exact = [k for k in range(base, base + 5) if abs(100 * k / fps - round(100 * k / fps)) < 1e-6]
    return exact[0] if exact else base


def _write_gif(path: str, frames: list[np.ndarray], duration_ms: float) -> float:
    """An animated GIF, the bytes Pillow's writer makes of RGB frames (each frame's own 256-colour
    palette, median cut), with the palettes made on every core (Pillow releases the GIL while it
    quantizes: 501 CartPole frames in 2.3 s instead of 4.9 s on 2 cores). Runs of identical frames are
    one frame (``merge_still_frames``). The seconds it plays."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    def quantize(frame):  # the image, and a digest of the colours it shows (what Pillow compares frames by)
        image = Image.fromarray(frame).convert("P", palette=Image.Palette.ADAPTIVE)
        return image, hashlib.blake2b(image.convert("RGB").tobytes(), digest_size=16).digest()

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        quantized = list(pool.map(quantize, frames))
    images, durations = merge_still_frames([im for im, _ in quantized], [key for _, key in quantized],
                                           gif_durations(len(quantized), duration_ms))
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)
    return sum(durations) / 1000


def gif_durations(n: int, duration_ms: float) -> list[int]:
    """Each of ``n`` frames' display time in ms, whole GIF time units (10 ms) whose running sum follows
    ``i * duration_ms``: a GIF stores 10 ms units, and 33.3 ms rounded down to 30 played 30-fps envs
    11% fast (so 30, 30, 40, 30, ...)."""
    ends = [10 * round((i + 1) * duration_ms / 10) for i in range(n)]
    return [max(10, e - s) for s, e in zip([0] + ends[:-1], ends)]


#: the longest time a GIF shows one frame: its delay is 16 bits of 10 ms units
GIF_LONGEST_MS = 65_535 * 10


def merge_still_frames(images: list, keys: list, durations: list[int]) -> tuple[list, list[int]]:
    """Each run of consecutive frames with equal ``keys`` as its first image, shown for the run's summed
    ``durations`` but at most ``GIF_LONGEST_MS`` (655 s). Pillow merges identical frames so itself, and a
    sum past 16 bits was an ``OverflowError`` after every episode had played: a stuck policy's 1,000-step
    CliffWalking episodes at 4 frames a second were 750 s of one picture. A longer still stretch is shown for
    655 s."""
    kept, shown = [], []
    for image, key, ms, same in zip(images, keys, durations, [False] + [a == b for a, b in zip(keys, keys[1:])]):
        if same:
            shown[-1] = min(GIF_LONGEST_MS, shown[-1] + ms)
        else:
            kept.append(image)
            shown.append(min(GIF_LONGEST_MS, ms))
    return kept, shown


@contextlib.contextmanager
def ffmpeg_subprocess():
    """Around imageio's FFMPEG plugin, which starts ffmpeg as a fork-and-exec subprocess: JAX's warning
    that a fork of its threaded process can deadlock does not apply to a child that execs at once."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"os\.fork\(\) was called", RuntimeWarning)
        yield


class Video(NamedTuple):
    """A video written: where, how many frames it holds (after frame skipping) and at what rate."""

    path: Path
    frames: int
    fps: float
    plays_s: float | None = None  # a GIF's length: shorter than frames / fps where a still stretch passed 655 s


class VideoWriter:
    """A video written as its frames are drawn, so that a recording's frames do not pile up in memory
    (ten 1,000-step MuJoCo episodes at 480 x 480 were 6.9 GB, twice that while an mp4 was encoded):
    ``add`` keeps every ``spec.frame_skip``-th frame (more for a GIF past 50 per second), scaled at
    once; an mp4's go straight to ffmpeg, a GIF's (its palettes are made at the end) are kept as
    scaled. The file is a temporary one beside the target until ``close`` renames it over the target;
    ``abort``, or leaving the ``with`` block by an exception, removes it: nothing is half written."""

    def __init__(self, spec: VideoSpec, fps: float):
        path = check_video_path(spec.path)
        self.gif = path.suffix.lower() == ".gif"
        if self.gif and fps / spec.frame_skip > GIF_MAX_FPS:  # browsers slow faster GIFs down
            spec = dataclasses.replace(spec, frame_skip=_gif_frame_skip(fps))
        self.spec, self.rate, self.path = spec, fps / spec.frame_skip, path
        self.seen, self.kept, self.gif_frames, self.writer = 0, 0, [], None
        fd, self.tmp = tempfile.mkstemp(prefix=f".{temporary_stem(path.name)}.", suffix=path.suffix, dir=path.parent)
        os.close(fd)

    def add(self, frame) -> None:
        """The next frame: an array ``[H, W, 3]``, or a function without arguments that draws it, called only where
        ``frame_skip`` keeps the frame (drawing is most of a recording's time: a MuJoCo frame takes ~90 ms here)."""
        self.seen += 1
        if (self.seen - 1) % self.spec.frame_skip:
            return
        frame = _prepare(np.asarray(frame() if callable(frame) else frame), self.spec)
        self.kept += 1
        if self.gif:
            self.gif_frames.append(frame)
            return
        # ffmpeg starts with the first frame. A Ctrl-C is held to the end of a frame: one that cut a frame's bytes in
        # two had ffmpeg, which ``abort`` then asks to end, print four lines of a corrupt packet (imageio starts it in
        # a process group of its own, out of the Ctrl-C's reach)
        with ffmpeg_subprocess(), interrupt.deferred():
            if self.writer is None:
                import imageio.v2 as iio2

                self.writer = iio2.get_writer(self.tmp, format="FFMPEG", mode="I", fps=self.rate, macro_block_size=1)
            self.writer.append_data(frame)

    def close(self) -> Video:
        """Finish the file and rename it over the target: the ``Video`` written."""
        try:
            if not self.kept:
                raise ValueError("nothing to record: no frames")
            plays_s = None
            if self.gif:
                plays_s = _write_gif(self.tmp, self.gif_frames, 1000.0 / self.rate)
            else:
                with ffmpeg_subprocess():
                    self.writer.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)  # mkstemp makes it private; a video is an ordinary file
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return Video(self.path, self.kept, self.rate, plays_s)

    def abort(self) -> None:
        """Stop writing and remove the temporary file (the target is left as it was)."""
        try:
            if self.writer is not None:
                with contextlib.suppress(Exception), ffmpeg_subprocess():
                    self.writer.close()
        finally:  # a second Ctrl-C while ffmpeg ends: the temporary goes all the same
            self.writer, self.gif_frames = None, []
            Path(self.tmp).unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:
            self.abort()


def write_video(frames, fps: float, spec: VideoSpec) -> Video:
    """Write ``frames`` (drawn at ``fps``; any iterable) to ``spec.path`` atomically through a ``VideoWriter``."""
    with VideoWriter(spec, fps) as writer:
        for frame in frames:
            writer.add(frame)
        return writer.close()
