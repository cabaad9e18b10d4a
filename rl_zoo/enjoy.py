"""``rl-zoo enjoy RUN_DIR``: play a trained run's greedy policy, print each return, optionally record it.

    rl-zoo enjoy runs/ppo-CartPole-v1-<time> --episodes 3 --record cartpole.gif

Episodes run where the run trained. On a JAX port, one jitted ``lax.scan`` plays the whole episode
(``Environment.step_no_reset``, as the driver's evaluation steps) and keeps every state; the frames are
then drawn by gymnasium's own renderer from those states (``envs.render.PortRenderer`` copies each
port state into a gymnasium env and calls its ``render()``). On an adapter env the episode runs in a
gymnasium env made with ``render_mode="rgb_array"``, which draws itself.

A recording (``.gif`` through Pillow, ``.mp4`` through imageio-ffmpeg) is written as its frames are
drawn, by ``rl_zoo.video.VideoWriter``: an interrupted or failed recording leaves nothing half written.
Everything that can be checked before playing is: the output's folder and suffix, the video writer,
and whether the env can be drawn.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from envs.spaces import to_gymnasium_action
from rl_zoo.config import check_int_args
from rl_zoo.core.evaluate import episode_cap
from rl_zoo.driver.recorder import DEFAULT_VIDEO, RecorderHook, RunEnd, RunStart, live_flag_groups
from rl_zoo.runs import env_label, run_return_text
from rl_zoo.video import VIDEO_SUFFIXES, VideoSpec, VideoWriter, check_frames, check_video_path


@dataclass(frozen=True)
class Episode:
    """One greedy episode: its undiscounted return, its length, whether the time cap (not the env)
    ended it, and how many frames were drawn of it (0 unless recorded; the frames themselves went to
    the ``sink`` that played it, a ``VideoWriter`` or any callable, as arrays or as functions that draw them)."""

    episode_return: float
    length: int
    cut: bool = False
    frames: int = 0


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


def play_port(greedy: Callable, agent_state, env, env_params, keys, renderer=None, sink: Callable | None = None,
              on_episode: Callable[[Episode], Any] | None = None) -> list[Episode]:
    """Greedy episodes on a JAX port, one per key; with a ``renderer`` (an ``envs.render.PortRenderer``) each
    state is synced into it and handed to ``sink`` in order (the reset's, then one per step) as the renderer's
    ``draw``, a function that draws the state synced last (call it before the next frame): a ``VideoWriter`` calls
    it only for the frames its ``frame_skip`` keeps. ``on_episode`` is called with each episode as it ends."""
    steps = episode_cap(env_params)  # the env's time limit, or the driver evaluation's cap for an env without one
    run = _port_episode_fn(greedy, env, env_params, steps)
    episodes = []
    for key in keys:
        ep = jax.device_get(run(agent_state, key))
        length = int(ep.live.sum())
        if renderer is not None:
            renderer.sync(ep.first)
            sink(renderer.draw)
            for t in range(length):
                renderer.sync(jax.tree.map(lambda x: x[t], ep.states), ep.actions[t])
                sink(renderer.draw)
        drawn = length + 1 if renderer is not None else 0
        episodes.append(Episode(float(np.sum(ep.rewards * ep.live)), length, not bool(ep.ended), drawn))
        if on_episode is not None:
            on_episode(episodes[-1])
    return episodes


def make_gymnasium(env_id: str, env_params, make_kwargs: dict | None = None, drawn: bool = False):
    """The gymnasium env ``play_gymnasium`` plays: made with the run's ``make_kwargs`` and the port's
    episode cap, and ``drawn``, with ``render_mode="rgb_array"``."""
    import gymnasium

    from envs import render
    from rl_zoo.host.mujoco_warnings import route_mujoco_warnings

    steps, make_kwargs = episode_cap(env_params), make_kwargs or {}
    if drawn:
        return render.make_rgb_env(env_id, max_episode_steps=steps, **make_kwargs)  # MuJoCo's warnings routed there
    route_mujoco_warnings(env_id)
    return gymnasium.make(env_id, max_episode_steps=steps, **make_kwargs)


def play_gymnasium(policy: Callable, env_id: str, env_params, seeds, sink: Callable | None = None,
                   make_kwargs: dict | None = None, env=None, on_episode: Callable[[Episode], Any] | None = None) -> list[Episode]:
    """Greedy episodes on a gymnasium env (the adapter's backend, made with ``make_kwargs``), one per seed;
    with a ``sink``, drawn by gymnasium itself (``render_mode="rgb_array"``), each frame handed to it in order: for a
    MuJoCo env as a function that draws the env as it is (call it before the next frame; ``VideoWriter`` draws only
    the frames it keeps: every frame was drawn, so ``--frame-skip 100`` recorded a 1,000-step HalfCheetah episode no
    faster than ``--frame-skip 1``, 92 s), for any other as the frame, drawn (``render.draws_only_what_it_shows``).
    ``env``: one ``make_gymnasium`` made already (then closed here), so that a recording reads its frame rate from the
    env it draws rather than making a second. ``on_episode`` is called with each episode as it ends."""
    from envs import render

    steps, record = episode_cap(env_params), sink is not None
    lazy = record and render.draws_only_what_it_shows(env_id)
    if env is None:
        env = make_gymnasium(env_id, env_params, make_kwargs, drawn=record)
    frame = lambda: render.render(env)  # noqa: E731 - the env as it is when called
    episodes = []
    try:
        for seed in seeds:
            obs, _ = env.reset(seed=int(seed))
            if record:
                sink(frame if lazy else frame())
            total, length, done, terminated = 0.0, 0, False, False
            while not done and length < steps:
                action = to_gymnasium_action(np.asarray(policy(np.asarray(obs))), env.action_space)  # as training sends it
                obs, reward, terminated, truncated, _ = env.step(action.item() if action.ndim == 0 else action)
                total, length, done = total + float(reward), length + 1, bool(terminated or truncated)
                if record:
                    sink(frame if lazy else frame())
            # the cap is gymnasium's TimeLimit here: an env without a limit of its own is cut by it (as play_port says),
            # unless the env ended the episode itself at that very step
            capped = not terminated and length >= steps and steps < int(env_params.max_steps_in_episode)
            episodes.append(Episode(total, length, not done or capped, length + 1 if record else 0))
            if on_episode is not None:
                on_episode(episodes[-1])
    finally:
        env.close()
    return episodes


# --- the command -----------------------------------------------------------------------------------
def gymnasium_seeds(keys) -> list[int]:
    """The ``reset(seed=...)`` of each episode a gymnasium env plays, one per key: int32 draws whatever
    ``JAX_ENABLE_X64`` says (its int64 draws were other seeds, so ``rl-zoo enjoy --seed`` played another episode
    than the one ``--record-video`` recorded where the two differed in it)."""
    return [int(jax.random.randint(k, (), 0, 2**31 - 1, dtype=jnp.int32)) for k in keys]


def record_episodes(greedy: Callable, agent_state, env, env_params, keys, video: VideoSpec | None = None,
                    on_episode: Callable[[Episode], Any] | None = None):
    """Play greedy episodes of ``(greedy, agent_state)`` on ``env`` (a JAX port or an adapter env), one
    per key, and with ``video`` write their frames to its file, one episode after another, as they are
    drawn: ``(episodes, Video or None)``; ``on_episode`` is called with each as it ends. Used by ``enjoy`` and
    by the driver's ``--record-video``."""
    from envs import render

    if env.backend == "jax":
        if video is None:
            return play_port(greedy, agent_state, env, env_params, keys, on_episode=on_episode), None
        with render.PortRenderer(env, env_params) as renderer, VideoWriter(video, renderer.fps) as writer:
            episodes = play_port(greedy, agent_state, env, env_params, keys, renderer, writer.add, on_episode)
            return episodes, writer.close()
    act = jax.jit(greedy)
    seeds = gymnasium_seeds(keys)
    make_kwargs = getattr(env, "gym_env", env).make_kwargs  # the adapter's, or the seed-batched env's adapter's
    if video is None:
        return play_gymnasium(lambda obs: act(agent_state, obs), env.id, env_params, seeds, make_kwargs=make_kwargs,
                              on_episode=on_episode), None
    drawn = make_gymnasium(env.id, env_params, make_kwargs, drawn=True)  # its frame rate is the video's
    try:
        writer = VideoWriter(video, render.fps(drawn))
    except BaseException:
        drawn.close()
        raise
    with writer:
        episodes = play_gymnasium(lambda obs: act(agent_state, obs), env.id, env_params, seeds, writer.add, env=drawn,
                                  on_episode=on_episode)
        return episodes, writer.close()


def enjoy(run_dir, checkpoint=None, episodes: int = 1, record: str | os.PathLike | None = None, seed: int = 0,
          frame_skip: int = 1, width: int | None = None, policy_seed: int | None = None,
          log: Callable[[str], Any] = print, env_kwargs: dict | None = None) -> list[Episode]:
    """Play ``episodes`` greedy episodes of a run (``rl_zoo.load``), print each return, and write them
    all, one after another, to ``record`` (``.gif`` or ``.mp4``) if given. ``seed`` seeds the episodes'
    initial states; ``policy_seed`` picks which of the run's seeds plays (default its first); ``env_kwargs``
    plays on the env made with these options on top of the run's (``rl_zoo.load``'s)."""
    from envs import render
    from rl_zoo.policy import NotARunSeed, load

    (episodes,) = check_int_args({"--episodes": episodes})  # 2.5 failed inside JAX after loading the run
    if episodes is None or episodes < 1:
        raise ValueError(f"--episodes = {episodes} is invalid: must be at least 1")
    check_frames(frame_skip, width, seed)
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
    ended = []

    def say(ep: Episode) -> None:  # as each ends: a Ctrl-C kept none of the returns already played
        ended.append(ep)
        log(f"episode {len(ended)}/{episodes}: return {run_return_text(ep.episode_return)}, {ep.length} steps"
            + (" (cut at the cap)" if ep.cut else ""))

    played, written = record_episodes(policy.greedy, policy.state, policy.env, policy.env_params, keys, video, say)
    if written is not None:
        log(f"recorded {written.frames} frames ({written.fps:g} per second, {written.frames / written.fps:.1f} s) to "
            f"{written.path} ({written.path.stat().st_size / 1e6:.2f} MB"
            + ("; a GIF stores identical consecutive frames once, shown for their summed time" if written.path.suffix.lower() == ".gif" else "")
            + (f", at most 655 s: it plays {written.plays_s:.1f} s)" if written.plays_s is not None
               and written.plays_s < written.frames / written.fps - 0.05 else ")"))
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


class VideoHook(RecorderHook):
    """``rl-zoo train --record-video``: when the run ends, one greedy episode of its first seed (final
    state) is played and written to ``RUN_DIR/<name>`` (GIF by default), atomically: the episode
    ``rl-zoo enjoy RUN_DIR --episodes 1 --seed SEED`` plays (the same episode keys). A resumed run that is
    already finished trains nothing and runs no hook: ``enjoy(run_dir, record=...)`` records it."""

    flag = "--record-video"  # the train flag that adds this hook (the driver names it when it does not run)

    def __init__(self, name: str = DEFAULT_VIDEO, seed: int = 0, frame_skip: int = 1, width: int | None = None):
        if Path(name).suffix.lower() not in VIDEO_SUFFIXES or Path(name).name != name:
            raise ValueError(f"--record-video writes a file name in the run directory ending in .gif or .mp4, got {name!r}")
        check_video_path(name, writable=False)  # its format's writer installed: an mp4 without imageio-ffmpeg failed
        # after the whole run had trained (from Python; the command line checked it)
        check_frames(frame_skip, width, seed)  # frame_skip=0, width=100000: a traceback, or killed for memory, after training
        self.name, self.seed, self.frame_skip, self.width = name, seed, frame_skip, width
        #: the train flags that add this hook again, for a stopped run's `--resume` command (a resume dropped
        #: them, and the video was never made)
        (self.resume_flags,) = live_flag_groups(record_video=name)
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
        self.message = f"final greedy episode (return {run_return_text(ep.episode_return)}, {ep.length} steps) recorded to {self.path}"
