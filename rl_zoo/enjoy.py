"""``rl-zoo enjoy RUN_DIR``: play a trained run's greedy policy, print each return, optionally record it.

    rl-zoo enjoy runs/ppo-CartPole-v1-<time> --episodes 3 --record cartpole.gif

Episodes run where the run trained. On a JAX port, one jitted ``lax.scan`` plays the whole episode
(``Environment.step_no_reset``, as the driver's evaluation steps) and keeps every state; the frames are
then drawn by gymnasium's own renderer from those states (``envs.render.PortRenderer`` copies each
port state into a gymnasium env and calls its ``render()``). On an adapter env the episode runs in a
gymnasium env made with ``render_mode="rgb_array"``, which draws itself.

A recording (``.gif`` through Pillow, ``.mp4`` through imageio-ffmpeg) is written as its frames are
drawn (``VideoWriter``: an mp4's go to ffmpeg at once; ``rl-zoo enjoy`` of 5 Pendulum episodes to mp4
peaked at 0.33 GB instead of 1.8 GB, the same bytes written), to a temporary file beside the target
renamed over it at the end, so an interrupted or failed recording leaves nothing half written.
Everything that can be checked before playing is: the output's folder and suffix, the video writer,
and whether the env can be drawn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shlex
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.spaces import to_gymnasium_action
from rl_zoo import interrupt
from rl_zoo.config import check_seed_range
from rl_zoo.core.evaluate import episode_cap
from rl_zoo.driver.recorder import RecorderHook, RunEnd, RunStart
from rl_zoo.runs import env_label, writable_folder

#: video formats ``--record`` writes, and what each needs
VIDEO_SUFFIXES = {".gif": "Pillow (installed with matplotlib and imageio)", ".mp4": "imageio and imageio-ffmpeg"}
#: the modules each format's writer imports: GIFs are Pillow's, mp4 goes through imageio to ffmpeg
VIDEO_MODULES = {".gif": ("PIL",), ".mp4": ("imageio", "imageio_ffmpeg")}
VIDEO_INSTALL_HINT = 'pip install -e ".[video]"'
#: GIF frames shorter than 20 ms are shown at 100 ms by browsers: faster envs (MuJoCo's 125 fps) drop frames
GIF_MAX_FPS = 50


@dataclass(frozen=True)
class Episode:
    """One greedy episode: its undiscounted return, its length, whether the time cap (not the env)
    ended it, and how many frames were drawn of it (0 unless recorded; the frames themselves went to
    the ``sink`` that played it, a ``VideoWriter`` or any callable)."""

    episode_return: float
    length: int
    cut: bool = False
    frames: int = 0


@dataclass(frozen=True)
class VideoSpec:
    """How frames become a video file: every ``frame_skip``-th frame is kept (played at ``fps /
    frame_skip``, so the clip still runs in real time), scaled to ``width`` pixels wide (``None``: as drawn)."""

    path: Path
    frame_skip: int = 1
    width: int | None = None


# --- playing ---------------------------------------------------------------------------------------
class PortEpisode(NamedTuple):
    """One episode on a JAX port, as ``T`` scan steps (``T`` the episode cap)."""

    first: Any  # the env state after the reset
    states: Any  # [T] the env state after each step
    actions: jax.Array  # [T]
    rewards: jax.Array  # [T]
    live: jax.Array  # [T] the step belongs to the episode (false once it has ended)
    ended: jax.Array  # the env ended it within the T steps (false: cut at the cap)


def _port_episode_fn(greedy: Callable, env, env_params, steps: int):
    """A jitted ``(agent_state, key) -> PortEpisode``: one greedy episode in ``steps`` scan steps."""

    def run(agent_state, key):
        key_reset, key_steps = jax.random.split(key)
        obs, env_state = env.reset(key_reset, env_params)

        def step(carry, k):
            obs, env_state, ended = carry
            action = greedy(agent_state, obs)
            obs, env_state, reward, terminated, truncated, _ = env.step_no_reset(k, env_state, action, env_params)
            return (obs, env_state, ended | terminated | truncated), (env_state, action, reward, ~ended)

        carry = (obs, env_state, jnp.zeros((), bool))
        (_, _, ended), (states, actions, rewards, live) = jax.lax.scan(step, carry, jax.random.split(key_steps, steps))
        return PortEpisode(env_state, states, actions, rewards, live, ended)

    return jax.jit(run)


def play_port(greedy: Callable, agent_state, env, env_params, keys, renderer=None, sink: Callable | None = None) -> list[Episode]:
    """Greedy episodes on a JAX port, one per key; with a ``renderer`` (an ``envs.render.PortRenderer``)
    each frame is drawn and handed to ``sink`` as it is drawn (the reset's, then one per step)."""
    steps = episode_cap(env_params)  # the env's time limit, or the driver evaluation's cap for an env without one
    run = _port_episode_fn(greedy, env, env_params, steps)
    episodes = []
    for key in keys:
        ep = jax.device_get(run(agent_state, key))
        length = int(ep.live.sum())
        if renderer is not None:
            sink(renderer.frame(ep.first))
            for t in range(length):
                sink(renderer.frame(jax.tree.map(lambda x: x[t], ep.states), ep.actions[t]))
        drawn = length + 1 if renderer is not None else 0
        episodes.append(Episode(float(np.sum(ep.rewards * ep.live)), length, not bool(ep.ended), drawn))
    return episodes


def make_gymnasium(env_id: str, env_params, make_kwargs: dict | None = None, drawn: bool = False):
    """The gymnasium env ``play_gymnasium`` plays: made with the run's ``make_kwargs`` and the port's
    episode cap, and ``drawn``, with ``render_mode="rgb_array"``."""
    import gymnasium

    from envs import render

    steps, make_kwargs = episode_cap(env_params), make_kwargs or {}
    return (render.make_rgb_env(env_id, max_episode_steps=steps, **make_kwargs) if drawn
            else gymnasium.make(env_id, max_episode_steps=steps, **make_kwargs))


def play_gymnasium(policy: Callable, env_id: str, env_params, seeds, sink: Callable | None = None,
                   make_kwargs: dict | None = None, env=None) -> list[Episode]:
    """Greedy episodes on a gymnasium env (the adapter's backend, made with ``make_kwargs``), one per seed;
    with a ``sink``, drawn by gymnasium itself (``render_mode="rgb_array"``) and each frame handed to it as
    it is drawn. ``env``: one ``make_gymnasium`` made already (then closed here), so that a recording reads
    its frame rate from the env it draws rather than making a second."""
    from envs import render

    steps, record = episode_cap(env_params), sink is not None
    if env is None:
        env = make_gymnasium(env_id, env_params, make_kwargs, drawn=record)
    episodes = []
    try:
        for seed in seeds:
            obs, _ = env.reset(seed=int(seed))
            if record:
                sink(render.render(env))
            total, length, done = 0.0, 0, False
            while not done and length < steps:
                action = to_gymnasium_action(np.asarray(policy(np.asarray(obs))), env.action_space)  # as training sends it
                obs, reward, terminated, truncated, _ = env.step(action.item() if action.ndim == 0 else action)
                total, length, done = total + float(reward), length + 1, bool(terminated or truncated)
                if record:
                    sink(render.render(env))
            # the cap is gymnasium's TimeLimit here: an env without a limit of its own is cut by it (as play_port says)
            capped = length >= steps and steps < int(env_params.max_steps_in_episode)
            episodes.append(Episode(total, length, not done or capped, length + 1 if record else 0))
    finally:
        env.close()
    return episodes


# --- writing ---------------------------------------------------------------------------------------
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
    if path.parent.exists() and not path.parent.is_dir():
        raise ValueError(f"cannot record to {str(path)!r}: {str(path.parent)!r} is a file, not a folder")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot record to {str(path)!r}: the folder {str(path.parent)!r} does not exist (create it first)")
    if path.is_dir():
        raise ValueError(f"cannot record to {str(path)!r}: it is a folder; give a file name ending in {suffix}")
    if writable and not writable_folder(path.parent):
        raise ValueError(f"cannot record to {str(path)!r}: the folder {str(path.parent)!r} is not writable")
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


def _write_gif(path: str, frames: list[np.ndarray], duration_ms: float) -> None:
    """An animated GIF, the bytes Pillow's writer makes of RGB frames (each frame's own 256-colour
    palette, median cut), with the palettes made on every core (Pillow releases the GIL while it
    quantizes: 501 CartPole frames in 2.3 s instead of 4.9 s on 2 cores)."""
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        images = list(pool.map(lambda f: Image.fromarray(f).convert("P", palette=Image.Palette.ADAPTIVE), frames))
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=gif_durations(len(images), duration_ms), loop=0)


def gif_durations(n: int, duration_ms: float) -> list[int]:
    """Each of ``n`` frames' display time in ms, whole GIF time units (10 ms) whose running sum follows
    ``i * duration_ms``: a GIF stores 10 ms units, and 33.3 ms rounded down to 30 played 30-fps envs
    11% fast (so 30, 30, 40, 30, ...)."""
    ends = [10 * round((i + 1) * duration_ms / 10) for i in range(n)]
    return [max(10, e - s) for s, e in zip([0] + ends[:-1], ends)]


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
        fd, self.tmp = tempfile.mkstemp(prefix=f".{path.stem[:64]}.", suffix=path.suffix, dir=path.parent)  # a short name
        # beside a name of up to NAME_MAX
        os.close(fd)

    def add(self, frame: np.ndarray) -> None:
        self.seen += 1
        if (self.seen - 1) % self.spec.frame_skip:
            return
        frame = _prepare(np.asarray(frame), self.spec)
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
            if self.gif:
                _write_gif(self.tmp, self.gif_frames, 1000.0 / self.rate)
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
        return Video(self.path, self.kept, self.rate)

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


# --- the command -----------------------------------------------------------------------------------
def record_episodes(greedy: Callable, agent_state, env, env_params, keys, video: VideoSpec | None = None):
    """Play greedy episodes of ``(greedy, agent_state)`` on ``env`` (a JAX port or an adapter env), one
    per key, and with ``video`` write their frames to its file, one episode after another, as they are
    drawn: ``(episodes, Video or None)``. Used by ``enjoy`` and by the driver's ``--record-video``."""
    from envs import render

    if env.backend == "jax":
        if video is None:
            return play_port(greedy, agent_state, env, env_params, keys), None
        with render.PortRenderer(env, env_params) as renderer, VideoWriter(video, renderer.fps) as writer:
            episodes = play_port(greedy, agent_state, env, env_params, keys, renderer, writer.add)
            return episodes, writer.close()
    act = jax.jit(greedy)
    seeds = [int(jax.random.randint(k, (), 0, 2**31 - 1)) for k in keys]
    make_kwargs = getattr(env, "gym_env", env).make_kwargs  # the adapter's, or the seed-batched env's adapter's
    if video is None:
        return play_gymnasium(lambda obs: act(agent_state, obs), env.id, env_params, seeds, make_kwargs=make_kwargs), None
    drawn = make_gymnasium(env.id, env_params, make_kwargs, drawn=True)  # its frame rate is the video's
    try:
        writer = VideoWriter(video, render.fps(drawn))
    except BaseException:
        drawn.close()
        raise
    with writer:
        episodes = play_gymnasium(lambda obs: act(agent_state, obs), env.id, env_params, seeds, writer.add, env=drawn)
        return episodes, writer.close()


#: the widest ``--width`` (4K video's): a GIF's frames are held in memory until it is written
MAX_WIDTH = 3840


def enjoy(run_dir, checkpoint=None, episodes: int = 1, record: str | os.PathLike | None = None, seed: int = 0,
          frame_skip: int = 1, width: int | None = None, policy_seed: int | None = None,
          log: Callable[[str], Any] = print, env_kwargs: dict | None = None) -> list[Episode]:
    """Play ``episodes`` greedy episodes of a run (``rl_zoo.load``), print each return, and write them
    all, one after another, to ``record`` (``.gif`` or ``.mp4``) if given. ``seed`` seeds the episodes'
    initial states; ``policy_seed`` picks which of the run's seeds plays (default its first); ``env_kwargs``
    plays on the env made with these options on top of the run's (``rl_zoo.load``'s)."""
    from envs import render
    from rl_zoo.policy import NotARunSeed, load

    if episodes < 1:
        raise ValueError(f"--episodes = {episodes} is invalid: must be at least 1")
    check_seed_range(seed)
    check_frames(frame_skip, width)
    video = VideoSpec(check_video_path(record), frame_skip, width) if record is not None else None
    try:
        policy = load(run_dir, checkpoint=checkpoint, seed=policy_seed, env_kwargs=env_kwargs)
    except NotARunSeed as e:  # name the flag that chose it
        raise NotARunSeed(f"--policy-seed: {e}") from None
    if video is not None and policy.env.backend == "jax" and not render.can_render_port(policy.env):
        raise render.RenderError(f"no renderer for the JAX port of {policy.env_id}")
    trained = (f", trained on {env_label(policy.env_id, policy.run.env_kwargs)}" if policy.env_kwargs != policy.run.env_kwargs
               else "")
    log(f"{policy.algo} on {env_label(policy.env_id, policy.env_kwargs)} ({policy.env.backend}){trained}, seed {policy.seed}, "
        f"{policy.checkpoint.name}")
    keys = jax.random.split(jax.random.key(seed), episodes)
    played, written = record_episodes(policy.greedy, policy.state, policy.env, policy.env_params, keys, video)
    for i, ep in enumerate(played):
        log(f"episode {i + 1}/{episodes}: return {ep.episode_return:.1f}, {ep.length} steps" + (" (cut at the cap)" if ep.cut else ""))
    if written is not None:
        log(f"recorded {written.frames} frames ({written.fps:g} per second, {written.frames / written.fps:.1f} s) to "
            f"{written.path} ({written.path.stat().st_size / 1e6:.2f} MB"
            + ("; a GIF stores identical consecutive frames once, shown for their summed time)" if written.path.suffix.lower() == ".gif" else ")"))
    return played


# --- rl-zoo train --record-video -------------------------------------------------------------------
def check_can_record(env_id: str, backend: str | None = None, env_kwargs: dict | None = None) -> None:
    """Raise ``RenderError`` (what is missing, how to install it) if episodes of ``env_id`` (made with
    ``env_kwargs``) cannot be drawn here, so that ``--record-video`` fails before training rather than after it."""
    from envs import render
    from rl_zoo.driver.spec import make_env

    env, env_params = make_env(env_id, backend, env_kwargs or {})
    if env.backend == "jax":
        if not render.can_render_port(env):
            raise render.RenderError(f"no renderer for the JAX port of {env_id}")
        render.PortRenderer(env, env_params).close()
        return
    gym_env = render.make_rgb_env(env_id, **env.make_kwargs)
    try:
        gym_env.reset(seed=0)
        render.render(gym_env)
    finally:
        gym_env.close()


def check_frames(frame_skip: int, width: int | None) -> None:
    """Refuse a ``frame_skip`` below 1 or a ``width`` outside 2 .. ``MAX_WIDTH`` (a GIF holds all its frames in
    memory: 100000 was killed for it), before anything plays or trains."""
    if frame_skip < 1:
        raise ValueError(f"--frame-skip = {frame_skip} is invalid: must be at least 1 (every frame)")
    if width is not None and not 2 <= width <= MAX_WIDTH:
        raise ValueError(f"--width = {width} is invalid: must be 2 to {MAX_WIDTH} pixels (a GIF's frames are all held in "
                         f"memory: 100000 was killed for it)")


class VideoHook(RecorderHook):
    """``rl-zoo train --record-video``: when the run ends, one greedy episode of its first seed (final
    state) is played and written to ``RUN_DIR/<name>`` (GIF by default), atomically: the episode
    ``rl-zoo enjoy RUN_DIR --episodes 1 --seed SEED`` plays (the same episode keys). A resumed run that is
    already finished trains nothing and runs no hook: ``enjoy(run_dir, record=...)`` records it."""

    flag = "--record-video"  # the train flag that adds this hook (the driver names it when it does not run)

    def __init__(self, name: str = "final_episode.gif", seed: int = 0, frame_skip: int = 1, width: int | None = None):
        if Path(name).suffix.lower() not in VIDEO_SUFFIXES or Path(name).name != name:
            raise ValueError(f"--record-video writes a file name in the run directory ending in .gif or .mp4, got {name!r}")
        check_video_path(name, writable=False)  # its format's writer installed: an mp4 without imageio-ffmpeg failed
        # after the whole run had trained (from Python; the command line checked it)
        check_frames(frame_skip, width)  # frame_skip=0, width=100000: a traceback, or killed for memory, after training
        self.name, self.seed, self.frame_skip, self.width = name, seed, frame_skip, width
        self.path: Path | None = None  # where the video went, once written
        self.episode: Episode | None = None
        self.message: str | None = None  # what to tell the user, once written

    def on_start(self, start: RunStart) -> None:
        self.start = start

    def again(self, run_dir: Path) -> str | None:
        """How to record the video of a finished run this hook did not write (a Ctrl-C stopped it), if it can be."""
        from rl_zoo import checkpoint

        if not checkpoint.list_checkpoints(run_dir):
            return None
        options = "".join(f" {flag} {value}" for flag, value, default in (("--seed", self.seed, 0), ("--frame-skip", self.frame_skip, 1),
                                                                         ("--width", self.width, None)) if value != default)
        return f"`rl-zoo enjoy {shlex.quote(str(run_dir))}{options} --record {shlex.quote(str(Path(run_dir) / self.name))}` records it"

    def on_finish(self, end: RunEnd) -> None:
        from rl_zoo.policy import greedy_policy, seed_state

        st = self.start
        greedy = greedy_policy(st.agent, st.env.action_space(st.env_params))
        keys = jax.random.split(jax.random.key(self.seed), 1)  # enjoy's keys: `rl-zoo enjoy RUN_DIR --episodes 1` plays it again
        video = VideoSpec(Path(end.run_dir) / self.name, self.frame_skip, self.width)
        played, written = record_episodes(greedy, seed_state(end.final_state, 0), st.env, st.env_params, keys, video)
        ep, self.path = played[0], written.path
        self.episode = ep
        self.message = f"final greedy episode (return {ep.episode_return:.1f}, {ep.length} steps) recorded to {self.path}"
