"""rl-zoo enjoy: play a run's greedy policy, print the returns, record a GIF/MP4; the JAX ports drawn
by gymnasium's renderer from the port's state; adapter envs drawing themselves; bad input refused
before anything is played or written."""

from __future__ import annotations

import importlib.util
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from envs.render import PortRenderer, RenderError
from rl_zoo.cli import main
from rl_zoo.enjoy import enjoy, record_episodes
from rl_zoo.video import ffmpeg_subprocess
from test_load import train_tiny, with_an_older_checkpoint  # the same tiny PPO program as tests/test_load.py (a warm compile)


# gymnasium draws CartPole with pygame, which the dev and video extras bring (a bare install does not)
needs_pygame = pytest.mark.skipif(importlib.util.find_spec("pygame") is None,
                                  reason="drawing CartPole needs pygame: pip install -e \".[video]\"")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, seed_offset):
    out = tmp_path_factory.mktemp("enjoy") / "run"
    train_tiny(out, "CartPole-v1", 11 + seed_offset)
    return out


def _gif_frames_and_ms(path):
    """(frames, total duration in ms) of a GIF; Pillow merges identical consecutive frames into one
    longer frame, so the duration, not the frame count, says how many frames went in."""
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        frames = [(np.asarray(f.convert("RGB")), f.info["duration"]) for f in ImageSequence.Iterator(im)]
    return [f for f, _ in frames], sum(d for _, d in frames)


@needs_pygame
def test_port_frames_are_gymnasium_frames():
    """A port state copied into gymnasium draws exactly what gymnasium draws for that state."""
    import gymnasium

    import envs
    from envs.classic_control.cartpole import CartPoleState

    env, params = envs.make("CartPole-v1")
    gym_env = gymnasium.make("CartPole-v1", render_mode="rgb_array")
    gym_env.reset(seed=3)
    for _ in range(5):
        gym_env.step(1)
    x, x_dot, theta, theta_dot = gym_env.unwrapped.state
    state = CartPoleState(*(np.float32(v) for v in (x, x_dot, theta, theta_dot)), time=np.int32(5))
    with PortRenderer(env, params) as renderer:
        np.testing.assert_array_equal(renderer.frame(state), gym_env.render())
    gym_env.unwrapped.length = 1.0  # gymnasium's own env with a pole twice as long, and the port made so
    with PortRenderer(*envs.make("CartPole-v1", length=1.0)) as renderer:
        longer = renderer.frame(state)
        np.testing.assert_array_equal(longer, gym_env.render())
    with PortRenderer(env, params) as renderer:
        assert not np.array_equal(longer, renderer.frame(state))  # the default pole is drawn shorter
    gym_env.close()



@needs_pygame
@pytest.mark.parametrize("env_id, action", [("Acrobot-v1", 2), ("Pendulum-v1", np.array([1.5], np.float32)), ("Taxi-v4", 2)])
def test_port_frames_with_their_action_are_gymnasium_frames(env_id, action):
    """The other copies: Acrobot's four angles in gymnasium's order, Pendulum's torque arrow (its last
    action, signed) and the way Taxi's last move turned the taxi, drawn from the port state and the action
    that led to it."""
    import gymnasium

    import envs
    from envs.classic_control.acrobot import AcrobotState
    from envs.classic_control.pendulum import PendulumState
    from envs.toy_text.taxi import TaxiState

    env, params = envs.make(env_id)
    gym_env = gymnasium.make(env_id, render_mode="rgb_array")
    gym_env.reset(seed=3)
    for _ in range(5):
        gym_env.step(action)
    u, t = gym_env.unwrapped, np.int32(5)
    state = {"Acrobot-v1": lambda: AcrobotState(*(np.float32(v) for v in u.state), time=t),
             "Pendulum-v1": lambda: PendulumState(*(np.float32(v) for v in u.state), time=t),
             "Taxi-v4": lambda: TaxiState(s=np.int32(u.s), time=t, fickle_step=np.bool_(False))}[env_id]()
    with PortRenderer(env, params) as renderer:
        np.testing.assert_array_equal(renderer.frame(state, action), gym_env.render())
    if env_id == "Acrobot-v1":  # its first link's length is drawn from gymnasium's capitalised LINK_LENGTH_1
        u.LINK_LENGTH_1 = 0.5
        with PortRenderer(*envs.make(env_id, link_length_1=0.5)) as renderer:
            shorter = renderer.frame(state, action)
            np.testing.assert_array_equal(shorter, gym_env.render())
        with PortRenderer(env, params) as renderer:
            assert not np.array_equal(shorter, renderer.frame(state, action))
    gym_env.close()


@needs_pygame
def test_a_taxi_reset_frame_faces_south_as_gymnasiums_reset_does():
    """Each later episode's first frame kept the taxi turned as the last episode's last move left it (the
    renderer's gymnasium env is reused, and only gymnasium's reset set its orientation back)."""
    import gymnasium

    import envs
    from envs.toy_text.taxi import TaxiState

    env, params = envs.make("Taxi-v4")
    gym_env = gymnasium.make("Taxi-v4", render_mode="rgb_array")
    gym_env.reset(seed=3)
    state = TaxiState(s=np.int32(gym_env.unwrapped.s), time=np.int32(0), fickle_step=np.bool_(False))
    with PortRenderer(env, params) as renderer:
        east = renderer.frame(state, 2)  # an episode ended facing east
        first = renderer.frame(state)  # the next episode's reset frame
    np.testing.assert_array_equal(first, gym_env.render())
    assert not np.array_equal(first, east)
    gym_env.close()


@needs_pygame
def test_blackjack_frames_are_gymnasium_frames():
    """The port keeps sums, not gymnasium's lists of cards: its frames show the same player sum, usable ace and
    dealer's face-up card (gymnasium's randomly drawn suit and face card set to the port's: spades, a king)."""
    import gymnasium

    import envs
    from envs.toy_text import blackjack as bj

    env, params = envs.make("Blackjack-v1")
    gym_env = gymnasium.make("Blackjack-v1", render_mode="rgb_array")
    u, sums = gym_env.unwrapped, set()
    with PortRenderer(env, params) as renderer:
        for seed in range(300):  # until 30 hands, 3 of them soft, were drawn
            if len(sums) >= 30 and sum(usable for _, _, usable in sums) >= 3:
                break
            gym_env.reset(seed=seed)
            if seed % 2:
                gym_env.step(1)  # a hit: three cards (or a bust)
            player, dealer = bj.new_hand(*u.player[:2]), bj.new_hand(*u.dealer[:2])
            for card in u.player[2:]:
                player = bj.add_card(player, card)
            state = bj.BlackjackState(player=player, dealer=dealer, dealer_card=np.int32(u.dealer[0]), time=np.int32(0))
            u.dealer_top_card_suit, u.dealer_top_card_value_str = "S", {1: "A", 10: "K"}.get(u.dealer[0], str(u.dealer[0]))
            np.testing.assert_array_equal(renderer.frame(state), gym_env.render())
            sums.add(u._get_obs())
    assert len(sums) >= 30 and sum(usable for _, _, usable in sums) >= 3
    gym_env.close()


def test_video_settings_are_refused_before_anything_plays(run_dir, tmp_path):
    from rl_zoo.enjoy import VideoHook

    with pytest.raises(ValueError, match="--frame-skip = 0 is invalid: must be at least 1"):
        enjoy(run_dir, record=tmp_path / "clip.gif", frame_skip=0)
    with pytest.raises(ValueError, match="--width = -5 is invalid: must be 2 to 3840 pixels"):  # each flag alone
        enjoy(run_dir, record=tmp_path / "clip.gif", width=-5)
    with pytest.raises(ValueError, match="--width = 100000 is invalid"):  # a typo's frames were killed for memory (137)
        enjoy(run_dir, record=tmp_path / "clip.gif", width=100000)
    for name in ("sub/x.gif", "../x.gif"):  # a file name in the run directory, not a path out of it
        with pytest.raises(ValueError, match="--record-video writes a file name in the run directory"):
            VideoHook(name)
    assert not list(tmp_path.iterdir())

@needs_pygame
def test_enjoy_prints_returns_and_records_a_gif(run_dir, tmp_path, capsys):
    from rl_zoo.runs import run_return_text  # two decimals below 10: a shifted seed's CartPole episode of 9 steps

    out = tmp_path / "clip.gif"
    lines = []
    played = enjoy(run_dir, episodes=2, record=out, log=lines.append)
    assert len(played) == 2
    for ep in played:
        assert ep.episode_return == ep.length  # CartPole: +1 per step
        assert ep.frames == ep.length + 1  # the first state, then one per step
    assert [line for line in lines if line.startswith("episode")] == [
        f"episode {i + 1}/2: return {run_return_text(ep.episode_return)}, {ep.length} steps" for i, ep in enumerate(played)]
    frames, ms = _gif_frames_and_ms(out)
    assert frames[0].shape == (400, 600, 3)
    assert ms == pytest.approx(sum(ep.length + 1 for ep in played) * 20, abs=len(frames))  # 50 fps: 20 ms a frame
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, not mkstemp's private 0600

    # the command prints the same returns (same episode seed), and --width scales the frames
    assert main(["enjoy", str(run_dir), "--episodes", "2", "--record", str(tmp_path / "small.gif"), "--width", "150"]) == 0
    printed = capsys.readouterr().out
    for i, ep in enumerate(played):
        assert f"episode {i + 1}/2: return {run_return_text(ep.episode_return)}," in printed
    assert _gif_frames_and_ms(tmp_path / "small.gif")[0][0].shape == (100, 150, 3)


def test_enjoy_writes_mp4(run_dir, tmp_path):
    # imageio-ffmpeg (a 68 MB wheel with its own ffmpeg) comes with the `video` extra, not `dev`: this test
    # runs after `pip install -e ".[video]"` (passed 2026-12-01 with imageio-ffmpeg 0.8.1)
    pytest.importorskip("imageio_ffmpeg", reason='mp4 needs imageio-ffmpeg: pip install -e ".[video]"')
    import imageio.v3 as iio

    played = enjoy(run_dir, record=tmp_path / "clip.mp4", log=lambda *_: None)
    with ffmpeg_subprocess():  # reading it back starts ffmpeg too
        frames = iio.imread(tmp_path / "clip.mp4", plugin="FFMPEG", index=None)
    assert frames.shape == (played[0].length + 1, 400, 600, 3)


@needs_pygame
def test_adapter_env_draws_itself(tmp_path):
    """A gymnasium-adapter env plays in gymnasium with render_mode="rgb_array" (here an untrained PPO
    policy on the adapter's CartPole-v1)."""
    from rl_zoo.video import VideoSpec

    import envs
    from rl_zoo.algos import ppo
    from rl_zoo.core.rollout import env_action

    env, params = envs.make("CartPole-v1", backend="gymnasium")
    agent = ppo.make_agent(ppo.Config(num_envs=1, num_steps=8, num_minibatches=1), env, params)
    state = agent.init(jax.random.key(0))
    space = env.action_space(params)
    played, video = record_episodes(lambda s, o: env_action(agent.act(s, o), space), state, env, params,
                                    jax.random.split(jax.random.key(1), 2), VideoSpec(tmp_path / "clip.gif"))
    assert video.fps == 50 and len(played) == 2
    for ep in played:
        assert ep.episode_return == ep.length and ep.frames == ep.length + 1
    frames, ms = _gif_frames_and_ms(video.path)
    assert video.frames == sum(ep.frames for ep in played) and frames[0].shape == (400, 600, 3) and frames[0].dtype == np.uint8
    assert ms == pytest.approx(video.frames * 20, abs=len(frames))  # 50 fps (identical frames may be merged)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.gif"]


def test_bad_input_is_refused_and_nothing_is_written(run_dir, tmp_path, monkeypatch, capsys):
    # an output folder that does not exist: refused before playing, nothing created
    with pytest.raises(FileNotFoundError, match="does not exist"):
        enjoy(run_dir, record=tmp_path / "nowhere" / "clip.gif")
    assert not (tmp_path / "nowhere").exists()
    (tmp_path / "notes.txt").write_text("precious")  # a file where the folder should be
    with pytest.raises(ValueError, match="is a file, not a folder"):
        enjoy(run_dir, record=tmp_path / "notes.txt" / "clip.gif")
    assert (tmp_path / "notes.txt").read_text() == "precious"
    (tmp_path / "notes.txt").unlink()
    with pytest.raises(ValueError, match=r"must end in \.gif or \.mp4"):
        enjoy(run_dir, record=tmp_path / "clip.avi")
    # a folder that cannot be written (read-only permissions; a read-only mount, which root passes): refused
    # before playing (it failed after every episode was played and drawn, naming a temporary file)
    import tempfile

    from rl_zoo import enjoy as enjoy_module

    def no_file_here(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    for target, fake in ((enjoy_module.os, "access"), (tempfile, "NamedTemporaryFile")):
        with monkeypatch.context() as m:
            m.setattr(target, fake, (lambda *a: False) if fake == "access" else no_file_here)
            assert main(["enjoy", str(run_dir), "--episodes", "2", "--record", str(tmp_path / "clip.gif")]) == 2
        captured = capsys.readouterr()
        assert f"the folder {str(tmp_path)!r} is not writable" in captured.err and "episode 1" not in captured.out
    assert not (tmp_path / "clip.gif").exists() and not list(tmp_path.glob(".*"))  # no video, no probe left
    # not a run directory / no checkpoints, through the command: exit code 2 and the reason
    assert main(["enjoy", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    # `--env ID` was taken for --env-kwargs ("expects KEY=VALUE pairs"): enjoy plays the run's own env
    assert main(["enjoy", str(run_dir), "--env", "Acrobot-v1"]) == 2
    assert "rl-zoo enjoy plays the env RUN_DIR trained on (its config.json), so it takes no --env" in capsys.readouterr().err
    # a benchmark folder, or one of its cells: where the run directories are (it said only "no config.json")
    cell = tmp_path / "bm" / "cells" / "ppo__CartPole-v1"
    (cell / "run").mkdir(parents=True)
    (cell / "cell.json").write_text("{}")
    (cell / "run" / "config.json").write_text("{}")
    assert main(["enjoy", str(tmp_path / "bm")]) == 2
    assert f"is a benchmark folder (`rl-zoo benchmark`): each cell's run directory is cells/<cell>/run, e.g. {str(cell / 'run')!r}" in capsys.readouterr().err
    assert main(["enjoy", str(cell)]) == 2
    assert f"is a benchmark cell's folder: its run directory is {str(cell / 'run')!r}" in capsys.readouterr().err
    import shutil

    shutil.rmtree(tmp_path / "bm")
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((run_dir / "config.json").read_text())
    assert main(["enjoy", str(bare)]) == 2
    assert "has no checkpoints" in capsys.readouterr().err
    # no pygame: a clear message naming what to install, and no file (not even a temporary one)
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(RenderError, match=r"pip install -e \"\.\[video\]\""):
        enjoy(run_dir, record=tmp_path / "clip.gif", log=lambda *_: None)
    assert main(["enjoy", str(run_dir), "--record", str(tmp_path / "clip.gif")]) == 2
    assert "pygame" in capsys.readouterr().err
    # an mp4 without imageio-ffmpeg
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    with pytest.raises(ImportError, match="imageio-ffmpeg"):
        enjoy(run_dir, record=tmp_path / "clip.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bare"]


@pytest.mark.slow  # 4 s; the default suite records a clip through test_enjoy_prints_returns_and_records_a_gif
def test_train_record_video(tmp_path, seed_offset):
    """``rl-zoo train --record-video`` (``VideoHook``): the final greedy episode of the first seed, in the
    run directory (the same tiny program as tests/test_load.py)."""
    from rl_zoo.enjoy import VideoHook

    hook = VideoHook()
    train_tiny(tmp_path / "run", "CartPole-v1", 11 + seed_offset, hooks=[hook])
    assert hook.path == tmp_path / "run" / "final_episode.gif"
    assert hook.message.endswith(f"recorded to {hook.path}")
    frames, ms = _gif_frames_and_ms(hook.path)
    assert frames[0].shape == (400, 600, 3) and ms == pytest.approx((hook.episode.length + 1) * 20, abs=len(frames))
    # the episode `rl-zoo enjoy RUN_DIR --episodes 1` plays (its keys were key(0), enjoy's split(key(0), 1))
    (again,) = enjoy(tmp_path / "run", episodes=1, log=lambda *_: None)
    assert (again.episode_return, again.length) == (hook.episode.episode_return, hook.episode.length)
    # through the command: a video name that is not a .gif/.mp4 file is refused before anything is written
    argv = ["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "128", "--no-progress",
            "--out", str(tmp_path / "run2"), "--record-video", "clip.avi"]
    assert main(argv) == 2
    assert not (tmp_path / "run2").exists()


def test_fast_envs_make_gifs_at_real_speed(tmp_path):
    """GIF frames shorter than 20 ms are slowed down by browsers, and GIF times are whole 10 ms units:
    a 125 fps env (MuJoCo) keeps every 5th frame at 40 ms, 60 fps every 3rd at 50 ms, 50 fps all at 20 ms."""
    from rl_zoo.video import VideoSpec, _gif_frame_skip, write_video

    assert [_gif_frame_skip(f) for f in (125, 60, 100)] == [5, 3, 2]
    frames = [np.full((8, 8, 3), 10 * i, np.uint8) for i in range(25)]  # all different: none merged
    fast = write_video(frames, 125, VideoSpec(tmp_path / "fast.gif"))
    _, ms = _gif_frames_and_ms(fast.path)
    assert ms == 5 * 40 and (fast.frames, fast.fps) == (5, 25)  # 25 frames at 125 fps = 200 ms; what enjoy reports
    _, ms = _gif_frames_and_ms(write_video(frames, 50, VideoSpec(tmp_path / "cartpole_rate.gif")).path)
    assert ms == 25 * 20


def test_gif_frame_times_add_up_to_real_time():
    """A GIF stores 10 ms units: a 30-fps env's 33.3 ms frames were stored as 30 ms (11% fast); the
    frame times now carry the rounding, so 30 frames last one second."""
    from rl_zoo.video import gif_durations

    assert gif_durations(6, 1000 / 30) == [30, 40, 30, 30, 40, 30]
    assert sum(gif_durations(30, 1000 / 30)) == 1000 and sum(gif_durations(15, 1000 / 15)) == 1000
    assert gif_durations(3, 40.0) == [40, 40, 40]


def test_an_adapter_episode_cut_by_the_cap_says_so():
    """CliffWalking has no time limit: enjoy caps its episodes at 1,000 steps through gymnasium's
    TimeLimit, whose truncation marked the episode as not cut (a JAX port's said cut)."""
    import numpy as np

    import envs
    from rl_zoo.enjoy import play_gymnasium

    env, params = envs.make("CliffWalking-v1", backend="gymnasium")
    (episode,) = play_gymnasium(lambda obs: np.int64(0), "CliffWalking-v1", params, [0])  # always up
    assert episode.length == 1000 and episode.cut and episode.episode_return == -1000.0
    # an episode the env's own time limit ends (MountainCar's 200 steps, never pushed up the hill) is not cut
    env, params = envs.make("MountainCar-v0", backend="gymnasium")
    (episode,) = play_gymnasium(lambda obs: np.int64(1), "MountainCar-v0", params, [0])
    assert episode.length == 200 and not episode.cut


def test_enjoy_flags_choose_the_seed_and_checkpoint_that_play(run_dir, tmp_path, capsys, seed_offset):
    """--policy-seed and --checkpoint reach rl_zoo.load: the header names what played (an older checkpoint
    than the newest, which plays by default), and a seed the run did not train is refused naming those it did."""
    from rl_zoo import checkpoint

    run_dir = with_an_older_checkpoint(run_dir, tmp_path / "copy")
    first = checkpoint.list_checkpoints(run_dir)[0].name
    assert first != checkpoint.latest(run_dir).name
    second_seed = 12 + seed_offset  # train_tiny trains seeds s and s + 1
    assert main(["enjoy", str(run_dir), "--episodes", "1", "--policy-seed", str(second_seed), "--checkpoint", first]) == 0
    out = capsys.readouterr().out
    assert f"seed {second_seed}, {first}" in out.splitlines()[0]
    untrained = second_seed + 1  # 999999 was a trained seed at --seed-offset 999988
    assert main(["enjoy", str(run_dir), "--episodes", "1", "--policy-seed", str(untrained)]) == 2
    assert f"--policy-seed: seed {untrained} is not one of this run's seeds" in capsys.readouterr().err
    assert main(["enjoy", str(run_dir), "--episodes", "1", "--width", "100"]) == 0  # played, with a word on --width
    for episodes in (2.5, "2", None, True):  # from Python: 2.5 failed inside JAX after loading the run
        with pytest.raises(ValueError, match="--episodes = .* is invalid"):
            enjoy(run_dir, episodes=episodes)
    assert "--frame-skip and --width shape a recording: without --record they do nothing" in capsys.readouterr().err


def test_a_played_box_action_reaches_the_env_in_its_own_dtype_and_bounds():
    """The policy clips to the bounds rounded to float32 (0.1 -> 0.100000001): played on a float64 Box env it
    was outside the env's own space, which the training host envs had stopped sending."""
    import gymnasium

    from envs.spaces import to_gymnasium_action as _env_dtype

    space = gymnasium.spaces.Box(-0.1, 0.1, (1,), np.float64)
    played = _env_dtype(np.array([np.float32(0.1)]), space)
    assert played.dtype == np.float64 and space.contains(played)
    assert _env_dtype(np.array(1), gymnasium.spaces.Discrete(2)) == 1  # a discrete action as it was


def test_record_video_checks_its_name_not_the_current_folder(tmp_path, monkeypatch):
    """``train --record-video NAME`` writes RUN_DIR/NAME: the current folder's permissions are not its
    business (a read-only one was refused, and a probe file was made in it)."""
    from rl_zoo.video import check_video_path

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "access", lambda *a: False)
    assert check_video_path("final_episode.gif", writable=False).name == "final_episode.gif"
    with pytest.raises(ValueError, match="is not writable"):
        check_video_path("final_episode.gif")
    assert not list(tmp_path.iterdir())


def test_an_error_while_drawing_leaves_the_target_as_it_was_and_no_temporary_file(tmp_path):
    """``VideoWriter`` leaves by an exception: the temporary file beside the target is removed and the target
    keeps its bytes. The check ran with an mp4 target only, behind the skip for imageio-ffmpeg (not in the dev
    extra): it never ran in CI, and an ``__exit__`` that no longer aborted passed every test that did."""
    from rl_zoo.video import VideoSpec, VideoWriter

    old = tmp_path / "old.gif"
    old.write_bytes(b"an earlier clip")
    with pytest.raises(RuntimeError, match="renderer broke"), VideoWriter(VideoSpec(old), 30) as writer:
        writer.add(np.zeros((16, 24, 3), np.uint8))
        raise RuntimeError("renderer broke")
    assert old.read_bytes() == b"an earlier clip" and [p.name for p in tmp_path.iterdir()] == ["old.gif"]


def test_a_recording_is_written_as_it_is_drawn_and_an_error_leaves_the_target_as_it_was(tmp_path):
    """Frames went to a list per episode and were stacked for the mp4 encoder at the end (ten 1,000-step
    MuJoCo episodes at 480 x 480: 6.9 GB, twice that while encoding). Now an mp4's frames go to ffmpeg as
    they are drawn, every --frame-skip-th kept, and a GIF keeps only the kept, scaled ones."""
    pytest.importorskip("imageio_ffmpeg", reason='mp4 needs imageio-ffmpeg: pip install -e ".[video]"')
    import imageio.v3 as iio

    from rl_zoo.video import VideoSpec, VideoWriter

    frames = [np.full((16, 24, 3), 40 * i, np.uint8) for i in range(5)]
    with VideoWriter(VideoSpec(tmp_path / "clip.mp4", frame_skip=2), 30) as writer:
        for f in frames:
            writer.add(f)
            assert writer.gif_frames == [] and writer.writer is not None  # handed to ffmpeg, not kept
        video = writer.close()
    assert (video.frames, video.fps) == (3, 15)
    with ffmpeg_subprocess():
        back = iio.imread(video.path, plugin="FFMPEG", index=None)
    assert back.shape == (3, 16, 24, 3)  # frames 0, 2 and 4 (grey levels 0, 80, 160 up to the codec's rounding)
    np.testing.assert_allclose(back.mean(axis=(1, 2, 3)), [0, 80, 160], atol=4)
    with VideoWriter(VideoSpec(tmp_path / "small.gif", frame_skip=2, width=12), 30) as writer:
        for f in frames:
            writer.add(f)
        assert [g.shape for g in writer.gif_frames] == [(8, 12, 3)] * 3  # kept as scaled, the skipped ones dropped
        writer.close()
    (tmp_path / "old.mp4").write_bytes(b"an earlier clip")
    with pytest.raises(RuntimeError, match="renderer broke"), VideoWriter(VideoSpec(tmp_path / "old.mp4"), 30) as writer:
        writer.add(frames[0])
        raise RuntimeError("renderer broke")
    assert (tmp_path / "old.mp4").read_bytes() == b"an earlier clip"  # no temporary file left, the target as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "old.mp4", "small.gif"]


def test_each_frame_of_a_port_episode_is_drawn_with_the_action_that_led_to_it():
    """Pendulum's torque arrow and Taxi's heading come from the action: the reset's frame has none, every
    later one the action of its step, and each frame goes to the sink in order, synced, as a function that draws it."""
    import envs
    from rl_zoo.enjoy import play_port

    env, params = envs.make("Pendulum-v1")

    class Renderer:
        def __init__(self):
            self.actions = []

        def sync(self, state, action=None):
            self.actions.append(None if action is None else float(np.asarray(action).ravel()[0]))

        def draw(self):
            return len(self.actions)

    renderer, sunk = Renderer(), []
    (episode,) = play_port(lambda agent_state, obs: jnp.array([1.5]), None, env, params, [jax.random.key(0)], renderer,
                           lambda draw: sunk.append(draw()))
    assert episode.length == 200 and episode.frames == 201 and sunk == list(range(1, 202))
    assert renderer.actions[0] is None and renderer.actions[1:] == [1.5] * 200


def test_a_gif_needs_pillow_only(monkeypatch, tmp_path):
    """A .gif was refused when imageio was missing, though the GIF writer is Pillow's alone; an mp4 needs
    imageio and imageio-ffmpeg, a GIF Pillow."""
    import sys

    from rl_zoo.video import check_video_path

    monkeypatch.setitem(sys.modules, "imageio", None)
    assert check_video_path(tmp_path / "clip.gif") == tmp_path / "clip.gif"
    with pytest.raises(ImportError, match=r"needs imageio and imageio-ffmpeg, but imageio (and imageio_ffmpeg are|is) not"):
        check_video_path(tmp_path / "clip.mp4")
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match=r"recording \.gif needs Pillow .* PIL is not installed: .*pip install pillow"):
        check_video_path(tmp_path / "clip.gif")


def test_a_drawing_failure_gives_the_mujoco_gl_hint_only_for_mujoco_envs(monkeypatch):
    """An env of your own that takes no render_mode was told about MUJOCO_GL, which does nothing for it."""
    import gymnasium

    from envs import render

    def fails(*a, **k):
        raise TypeError("__init__() got an unexpected keyword argument 'render_mode'")

    monkeypatch.setattr(gymnasium, "make", fails)
    for env_id, hinted in (("CartPole-v1", False), ("Hopper-v5", True)):
        with pytest.raises(RenderError, match=rf"{env_id} cannot be made for drawing") as e:
            render.make_rgb_env(env_id)
        assert ("MUJOCO_GL" in str(e.value)) == hinted


def test_enjoy_env_kwargs_before_the_run_dir(run_dir, capsys):
    """`--env-kwargs k=v RUN_DIR`: the options' list takes the folder too; it is given back as RUN_DIR. No RUN_DIR at
    all is refused with the command's form."""
    assert main(["enjoy", "--env-kwargs", "max_episode_steps=5", str(run_dir)]) == 0
    assert "episode 1/1: return 5.00, 5 steps" in capsys.readouterr().out
    assert main(["enjoy"]) == 2 and "give RUN_DIR" in capsys.readouterr().err


def test_a_gymnasium_envs_recording_plays_at_its_own_frame_rate_with_the_runs_options():
    """A MuJoCo env plays at 1 / dt, and frame_skip changes dt: recordings of InvertedPendulum-v5 with
    frame_skip=4 were written at the default 25 fps, twice too fast (its own rate: 12)."""
    pytest.importorskip("mujoco")
    import envs
    from envs import render
    from rl_zoo.enjoy import make_gymnasium

    _, params = envs.make("InvertedPendulum-v5")
    rates = []
    for kwargs in ({}, {"frame_skip": 4}):
        drawn = make_gymnasium("InvertedPendulum-v5", params, kwargs, drawn=True)  # the env the frames come from
        rates.append(render.fps(drawn))
        drawn.close()
    assert rates == [25, 12]


def test_a_video_hook_whose_writer_is_missing_is_refused_before_training(monkeypatch):
    """``train(..., hooks=[VideoHook("ep.mp4")])`` without imageio-ffmpeg trained the whole run, then raised
    ImportError: the run's RunResult lost (the command line checked the writer first, Python did not)."""
    from rl_zoo import video
    from rl_zoo.enjoy import VideoHook

    monkeypatch.setattr(video, "_importable", lambda module: module != "imageio_ffmpeg")
    with pytest.raises(ImportError, match="recording .mp4 needs imageio and imageio-ffmpeg"):
        VideoHook("ep.mp4")
    assert VideoHook("ep.gif").name == "ep.gif"


def test_a_video_hooks_frame_skip_and_width_are_checked_when_it_is_made():
    """``VideoHook(width=100000)`` trained the whole run, then was killed for memory (about 20 GB); frame_skip=0 was a
    ZeroDivisionError after training: refused when made, as ``rl-zoo enjoy`` refuses them."""
    from rl_zoo.enjoy import VideoHook

    with pytest.raises(ValueError, match=r"--frame-skip = 0 is invalid: must be at least 1"):
        VideoHook(frame_skip=0)
    for width in (1, 100_000):
        with pytest.raises(ValueError, match=rf"--width = {width} is invalid: must be 2 to \d+ pixels"):
            VideoHook(width=width)
    assert VideoHook(frame_skip=2, width=200).width == 200


def _ctrl_c_inside_a_library(error: Exception):
    """What Box2D's drawing did with a Ctrl-C in 2 of 22 tries: the signal's handler ran (the interrupt is
    remembered) and the library turned the KeyboardInterrupt into an error of its own."""
    import signal

    from rl_zoo import interrupt

    try:
        interrupt._handler(signal.SIGINT, None)
    except KeyboardInterrupt:
        raise error from None


@needs_pygame
def test_a_ctrl_c_that_a_drawing_library_turned_into_an_error_is_an_interrupt(run_dir, tmp_path, monkeypatch, capsys,
                                                                              python_sigint):
    """`rl-zoo enjoy --record` said "drawing LunarLander-v3 failed (TypeError: ...)", exit 2: now 130, one line."""
    from envs import render

    monkeypatch.setattr(render, "render", lambda env: _ctrl_c_inside_a_library(RenderError("drawing CartPole-v1 failed (TypeError: x)")))
    assert main(["enjoy", str(run_dir), "--record", str(tmp_path / "clip.gif")]) == 130
    assert capsys.readouterr().err.strip() == "rl-zoo: interrupted"
    assert not list(tmp_path.iterdir())
    monkeypatch.setattr(render, "render", lambda env: (_ for _ in ()).throw(RenderError("drawing CartPole-v1 failed (no signal)")))
    assert main(["enjoy", str(run_dir), "--record", str(tmp_path / "clip.gif")]) == 2  # without a signal: the error it is
    assert capsys.readouterr().err.strip() == "rl-zoo: error: drawing CartPole-v1 failed (no signal)"
    from rl_zoo import interrupt

    interrupt.raise_if_signalled()  # outside `installed`, the signal of an earlier command is forgotten


@needs_pygame
@pytest.mark.parametrize("how", ["interrupt", "error"])
def test_a_ctrl_c_while_record_video_draws_after_the_run_says_nothing_is_left_to_resume(tmp_path, monkeypatch, how, seed_offset,
                                                                                         python_sigint):
    """A Ctrl-C while ``--record-video`` drew the final episode said the run could be resumed; the resume found
    it finished and recorded nothing. A drawing error the Ctrl-C caused was a traceback."""
    from rl_zoo import enjoy as enjoy_module
    from rl_zoo import interrupt
    from rl_zoo.enjoy import VideoHook
    from rl_zoo.train import train
    from test_load import TINY

    def cut(*args, **kwargs):
        if how == "interrupt":
            raise KeyboardInterrupt
        _ctrl_c_inside_a_library(TypeError("a Box2D body's position"))

    monkeypatch.setattr(enjoy_module, "record_episodes", cut)
    said, run = [], tmp_path / "run"
    with interrupt.installed(), pytest.raises(interrupt.AfterTheRun):
        train("ppo", "CartPole-v1", seed=11 + seed_offset, total_steps=2 * 4 * 32, overrides=TINY["CartPole-v1"],
              out=run, num_evals=1, eval_episodes=1, progress=False, log=said.append, hooks=[VideoHook(frame_skip=2)])
    assert said[-1] == (f"\ninterrupted: --record-video was stopped after the run finished; {run} holds its results "
                        f"(summary.json, curve.png), so there is nothing to resume; `rl-zoo enjoy {run} --frame-skip 2 "
                        f"--record {run / 'final_episode.gif'}` records it")
    assert (run / "summary.json").is_file() and (run / "curve.png").is_file()


@needs_pygame
def test_the_command_names_no_resume_after_a_finished_runs_hook_was_stopped(run_dir, monkeypatch, capsys):
    from rl_zoo import interrupt

    def stopped(*args, **kwargs):
        raise interrupt.AfterTheRun

    monkeypatch.setattr("rl_zoo.train.train", stopped)
    assert main(["train", "--resume", str(run_dir), "--record-video", "--no-progress"]) == 130
    assert capsys.readouterr().err.strip() == "rl-zoo: interrupted"  # not ": `rl-zoo train --resume ...` takes it up again"


def test_a_ctrl_c_is_held_to_the_end_of_a_frame_handed_to_ffmpeg(tmp_path, monkeypatch, python_sigint):
    """A Ctrl-C that cut a frame's bytes in two had ffmpeg (out of the Ctrl-C's reach in its own process group),
    asked by ``abort`` to end, print four lines about a corrupt packet. A second Ctrl-C while ffmpeg ends leaves
    no temporary file either. (No ffmpeg needed: imageio's writer is stood in for.)"""
    import signal

    import imageio.v2 as iio2

    from rl_zoo.video import VideoSpec, VideoWriter

    events = []

    class Writer:
        def append_data(self, frame):
            events.append("frame begun")
            os.kill(os.getpid(), signal.SIGINT)
            events.append("frame written")

        def close(self):
            events.append("closed")
            raise KeyboardInterrupt  # a second Ctrl-C while ffmpeg ends

    monkeypatch.setattr(iio2, "get_writer", lambda *a, **k: Writer())
    monkeypatch.setattr("rl_zoo.video._importable", lambda module: True)  # imageio_ffmpeg, not in the dev extra
    writer = VideoWriter(VideoSpec(tmp_path / "clip.mp4"), 30)
    with pytest.raises(KeyboardInterrupt):
        writer.add(np.zeros((16, 24, 3), np.uint8))
    assert events == ["frame begun", "frame written"]
    with pytest.raises(KeyboardInterrupt):
        writer.abort()
    assert events[-1] == "closed" and not list(tmp_path.iterdir())


def test_a_long_video_name_records_and_one_too_long_is_refused_before_anything(tmp_path):
    """A 245-byte name (the file system takes 255) was a traceback: its temporary file's name, the target's with a
    prefix and suffix, was too long. A 304-byte name was a traceback too, from ``rl-zoo train --record-video``
    after the whole run had trained."""
    from rl_zoo.enjoy import VideoHook
    from rl_zoo.video import VideoSpec, VideoWriter, check_video_path

    long = tmp_path / ("a" * 241 + ".gif")
    with VideoWriter(VideoSpec(long), 30) as writer:
        writer.add(np.zeros((16, 24, 3), np.uint8))
        assert writer.close().path == long
    assert [p.name for p in tmp_path.iterdir()] == [long.name]
    too_long = "b" * 300 + ".gif"
    for make in (lambda: check_video_path(tmp_path / too_long), lambda: VideoHook(too_long)):
        with pytest.raises(ValueError, match="its file name is 304 bytes long, over the 255 a file name may have here"):
            make()
    # 62 emoji (248 bytes) and ".gif": the name fits, but the temporary one's 64 characters of its stem (256 bytes)
    # were too long (OSError 36 and a traceback, after the whole run trained for --record-video)
    (long.parent / "emoji").mkdir()
    emoji = long.parent / "emoji" / ("\U0001F600" * 62 + ".gif")
    with VideoWriter(VideoSpec(emoji), 30) as writer:
        writer.add(np.zeros((16, 24, 3), np.uint8))
        assert writer.close().path == emoji
    assert [p.name for p in emoji.parent.iterdir()] == [emoji.name]


def test_an_adapter_envs_episode_seeds_do_not_depend_on_jax_enable_x64():
    """Under JAX_ENABLE_X64=1 a gymnasium env's episodes were reset with other seeds (an int64 draw): `rl-zoo enjoy
    --seed` played another episode than the one recorded; JAX ports were not affected."""
    import subprocess

    code = ("import jax; from rl_zoo.enjoy import gymnasium_seeds; "
            "print(gymnasium_seeds(jax.random.split(jax.random.key(3), 3)))")
    seeds = [subprocess.run([sys.executable, "-c", code], env={**os.environ, "JAX_ENABLE_X64": x64}, check=True,
                            capture_output=True, text=True).stdout for x64 in ("0", "1")]
    assert seeds[0] == seeds[1] and len(eval(seeds[0])) == 3


def test_an_empty_run_dir_and_an_edited_algo_are_named_plainly(tmp_path, capsys):
    """`rl-zoo enjoy ""` said "'.' is not a run directory" (Path("") is the current folder); an unknown algo in
    config.json ended its list of algorithms with two full stops."""
    from rl_zoo import runs

    assert main(["enjoy", ""]) == 2
    assert "the run directory given is empty ('')" in capsys.readouterr().err
    error = runs.file_error("run/config.json", "Unknown algorithm 'foo'. Known algorithms: ppo, vpg.", "Restore it")
    assert str(error) == "run/config.json: Unknown algorithm 'foo'. Known algorithms: ppo, vpg. Restore it"
    assert str(runs.file_error("run/config.json", "not found", "Restore it")) == "run/config.json: not found. Restore it"


def test_a_skipped_frame_is_not_drawn(tmp_path):
    """--frame-skip dropped frames after they were drawn: a 1,000-step HalfCheetah episode took 92 s to record with
    --frame-skip 1 and no less with 100 (drawing is most of it). For a MuJoCo env (whose renderer only reads the
    simulation) the player hands the writer a function that draws the frame, and the writer calls it only for the
    frames it keeps; other gymnasium renderers change the env as they draw, and get every frame drawn."""
    import envs
    from rl_zoo.enjoy import play_gymnasium
    from rl_zoo.video import VideoSpec, VideoWriter

    drawn = []

    def draw(i):
        drawn.append(i)
        return np.full((16, 24, 3), 10 * i, np.uint8)

    with VideoWriter(VideoSpec(tmp_path / "skip.gif", frame_skip=3), 30) as writer:
        for i in range(10):
            writer.add(lambda i=i: draw(i))
        assert drawn == [0, 3, 6, 9] and len(writer.gif_frames) == 4
        writer.add(np.zeros((16, 24, 3), np.uint8))  # an array, as before: the 11th frame, skipped
        assert len(writer.gif_frames) == 4
        writer.close()
    # the gymnasium player: arrays for CartPole (drawn), functions for a MuJoCo env (drawn only if called)
    env, params = envs.make("CartPole-v1", backend="gymnasium")
    frames = []
    episodes = play_gymnasium(lambda obs: np.int32(0), "CartPole-v1", params, [3], frames.append)
    assert len(frames) == episodes[0].length + 1 and all(isinstance(f, np.ndarray) and f.ndim == 3 for f in frames)
    if importlib.util.find_spec("mujoco") is not None:
        env, params = envs.make("Hopper-v5")
        frames = []
        episodes = play_gymnasium(lambda obs: np.zeros(3, np.float32), "Hopper-v5", params, [3], frames.append)
        assert len(frames) == episodes[0].length + 1 and all(callable(f) for f in frames)


@needs_pygame
def test_a_taxi_recorded_with_frame_skip_keeps_its_heading(tmp_path):
    """gymnasium's Taxi turns the taxi to its last move as it draws: a turn on a frame --frame-skip left undrawn was
    lost (100 of 101 kept frames facing south where the taxi went east; the benchmark's clips skip every other). The
    port's renderer syncs every frame, drawn or not, and the sync turns the taxi."""
    import envs
    from envs.render import PortRenderer
    from rl_zoo.enjoy import play_port
    from rl_zoo.video import VideoSpec, VideoWriter

    env, params = envs.make("Taxi-v4")
    greedy = lambda agent_state, obs: (obs * 13 + 5) % 6  # noqa: E731 - actions 2, 4, 4, ...: east, then no move
    kept = {}
    for skip in (1, 2):
        with PortRenderer(env, params) as renderer, VideoWriter(VideoSpec(tmp_path / f"{skip}.gif", frame_skip=skip),
                                                                renderer.fps) as writer:
            play_port(greedy, None, env, params, [jax.random.key(0)], renderer, writer.add)
            kept[skip] = writer.gif_frames
            writer.close()
    assert len(kept[2]) == (len(kept[1]) + 1) // 2 > 2
    assert all(np.array_equal(a, b) for a, b in zip(kept[2], kept[1][::2]))


def test_a_still_stretch_past_655_s_is_one_gif_frame_of_655_s(tmp_path):
    """A stuck policy's 1,000-step CliffWalking episodes at 4 frames a second are 750 s of one picture: Pillow
    merged them into one frame whose 16-bit delay overflowed (``OverflowError`` after every episode had played,
    and at the end of a `--record-video` run, exit 1); runs of identical frames are one frame of at most 655 s."""
    from rl_zoo.video import GIF_LONGEST_MS, VideoSpec, merge_still_frames, write_video

    assert merge_still_frames(list("aabc"), list("aabc"), [100, 100, 100, 100]) == (list("abc"), [200, 100, 100])
    assert merge_still_frames(list("aaa"), list("aaa"), [300_000, 300_000, 300_000]) == (["a"], [GIF_LONGEST_MS])
    assert merge_still_frames(list("ab"), list("ab"), [800_000, 10]) == (list("ab"), [GIF_LONGEST_MS, 10])
    still, end = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    written = write_video([still] * 3000 + [end], 4, VideoSpec(tmp_path / "stuck.gif"))
    frames, ms = _gif_frames_and_ms(written.path)
    assert len(frames) == 2 and ms == GIF_LONGEST_MS + 250 and written.plays_s == ms / 1000  # said by enjoy


def test_an_adapter_episode_the_env_ends_at_the_cap_is_not_cut():
    """A gymnasium env that terminated itself at the very step of enjoy's cap (CliffWalking's 1,000) was said
    "(cut at the cap)", as if the cap had stopped it."""
    import gymnasium

    import envs
    from rl_zoo.enjoy import play_gymnasium

    class EndsAt(gymnasium.Env):
        observation_space, action_space = gymnasium.spaces.Discrete(1), gymnasium.spaces.Discrete(1)

        def __init__(self, end):
            self.end, self.t = end, 0

        def reset(self, seed=None, options=None):
            self.t = 0
            return 0, {}

        def step(self, action):
            self.t += 1
            return 0, -1.0, self.t == self.end, False, {}

    _, params = envs.make("CliffWalking-v1", backend="gymnasium")  # no time limit of its own: enjoy caps it at 1,000
    for end, cut in ((1000, False), (1001, True), (999, False)):
        (episode,) = play_gymnasium(lambda obs: np.int64(0), "CliffWalking-v1", params, [0],
                                    env=gymnasium.wrappers.TimeLimit(EndsAt(end), 1000))
        assert (episode.length, episode.cut) == (min(end, 1000), cut), end


def test_each_return_is_said_as_its_episode_ends_to_two_decimals_below_10(run_dir, monkeypatch):
    """The returns were printed after every episode had played (a Ctrl-C kept none of them), to one decimal
    (0.96 read 1.0, -0.022 read -0.0): each is said as its episode ends, as a run's own lines say returns."""
    from rl_zoo import enjoy as enjoy_module

    def one_then_ctrl_c(greedy, state, env, env_params, keys, video=None, on_episode=None):
        on_episode(enjoy_module.Episode(0.96, 5, False, 0))
        raise KeyboardInterrupt

    monkeypatch.setattr(enjoy_module, "record_episodes", one_then_ctrl_c)
    lines = []
    with pytest.raises(KeyboardInterrupt):
        enjoy(run_dir, episodes=3, log=lines.append)
    assert lines[-1] == "episode 1/3: return 0.96, 5 steps"


def test_a_run_whose_env_changed_since_it_trained_is_said_so(run_dir, monkeypatch):
    """A custom env whose observation space changed after the run trained: the error named array shapes only."""
    import envs
    from rl_zoo import load
    from rl_zoo.driver.spec import RunSpec

    monkeypatch.setattr(RunSpec, "make_env", lambda self: envs.make("Acrobot-v1"))  # 6 observations, 3 actions
    with pytest.raises(ValueError, match=r"has shape .*CartPole-v1 itself is likely not the env it trained on: its "
                                         r"observation space is now Box\(.*\(6,\).* and its action space Discrete\(3\)"):
        load(run_dir)


def test_only_a_shape_that_does_not_fit_blames_the_env(run_dir, monkeypatch):
    """The env-spaces hint was added to every refusal of the checkpoint: "holds 3 seeds, this run 2 (... CartPole-v1
    itself is likely not the env it trained on ...)" for another run's checkpoint of other seeds."""
    from rl_zoo import checkpoint, load

    def refuse(error):
        def restore(*args, **kwargs):
            raise error
        return restore

    monkeypatch.setattr(checkpoint, "restore", refuse(ValueError("checkpoint c: holds 3 seeds, this run 2")))
    with pytest.raises(ValueError) as e:
        load(run_dir)
    assert str(e.value) == "checkpoint c: holds 3 seeds, this run 2"
    monkeypatch.setattr(checkpoint, "restore", refuse(checkpoint.ShapeMismatch("checkpoint c: array 3 has shape (1,), expected (2,)")))
    with pytest.raises(ValueError, match=r"expected \(2,\) \(this checkpoint records this run's own settings, so CartPole-v1 "):
        load(run_dir)


def test_an_env_whose_action_kind_changed_is_blamed_too(run_dir, monkeypatch):
    """A Box action space where the run trained on Discrete adds an array (log_std): "holds 56 arrays but this config's
    state has 57" lost the env hint when it was given to shape mismatches alone."""
    import envs
    from rl_zoo import load
    from rl_zoo.driver.spec import RunSpec

    monkeypatch.setattr(RunSpec, "make_env", lambda self: envs.make("Pendulum-v1"))
    with pytest.raises(ValueError, match=r"arrays but this config's state has .*likely not the env it trained on: "
                                         r"its observation space is now Box.* and its action space Box"):
        load(run_dir)
