"""Pictures of the environments, drawn by gymnasium's own renderer.

The JAX ports have no drawing code of their own. ``PortRenderer`` keeps one gymnasium env made with
``render_mode="rgb_array"`` beside the port, copies the port's state into it (``unwrapped.state``
for classic control, ``unwrapped.s`` and ``lastaction`` for toy text, the hands for Blackjack,
``last_u`` for Pendulum's torque arrow) and calls gymnasium's ``render()``: every frame is
gymnasium's picture of exactly the state the port reached, and nothing is re-drawn here. Adapter
envs are gymnasium envs already; ``make_rgb_env`` makes one that renders (the episode then runs in
gymnasium itself).

Drawing needs pygame (``pip install -e ".[video]"``, or ``pip install "gymnasium[classic-control]"``);
without it, or for an env that has no ``rgb_array`` mode, ``RenderError`` says what is missing and
how to install it.

    renderer = PortRenderer(env, env_params)
    frame = renderer.frame(state, action)      # uint8 [H, W, 3]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

#: how to install what drawing needs
INSTALL_HINT = 'pip install -e ".[video]" (or pip install "gymnasium[classic-control]", which brings pygame)'


_GL_HINT = " Without a display, MuJoCo envs draw with MUJOCO_GL=egl (a GPU or Mesa's EGL) or MUJOCO_GL=osmesa (software)."


def _gl_hint(env_id) -> str:
    """``_GL_HINT`` for a MuJoCo env (whose drawing needs an OpenGL context), else nothing."""
    from envs.gymnasium_adapter import required_extra

    try:
        return _GL_HINT if required_extra(str(env_id)) == "mujoco" else ""
    except Exception:  # an id gymnasium does not know: no guess
        return ""


class RenderError(RuntimeError):
    """The env cannot be drawn here; the message names what is missing and how to install it."""


@dataclass(frozen=True)
class _Sync:
    """How one port maps onto gymnasium: its id, the ``gymnasium.make`` arguments that change the
    picture, and the copy of a port state (and the action that led to it) into ``env.unwrapped``."""

    gym_id: str
    make_kwargs: Callable[[Any], dict]
    copy: Callable[[Any, Any, Any], None]  # (unwrapped, port_state, action or None)


def _no_kwargs(env) -> dict:
    return {}


def _physics(*fields: str, torque: bool = False):
    """Classic control: ``unwrapped.state`` = the named fields of the port state (float64, as gymnasium
    keeps it); for Pendulum also ``last_u``, the torque arrow."""

    def copy(u, state, action):
        u.state = np.array([float(np.asarray(getattr(state, f))) for f in fields], np.float64)
        if torque:
            u.last_u = None if action is None else float(np.clip(np.asarray(action, np.float64).ravel()[0], -u.max_torque, u.max_torque))
        if hasattr(u, "steps_beyond_terminated"):
            u.steps_beyond_terminated = None

    return copy


def _grid(u, state, action) -> None:
    """Toy text: the cell index and the last action (Taxi turns the taxi to it, and a reset's frame, with no
    action, faces it south as gymnasium's reset does; gymnasium 1.4's FrozenLake and CliffWalking draw no
    direction)."""
    u.s = int(np.asarray(state.s))
    u.lastaction = None if action is None else int(np.asarray(action))
    if action is None and hasattr(u, "taxi_orientation"):  # a reset: gymnasium's Taxi faces south again (its reset's
        u.taxi_orientation = 0  # 0), where each later episode's first frame kept the last episode's last turn
    elif u.lastaction in (0, 1, 2, 3) and hasattr(u, "taxi_orientation"):  # a move turns the taxi: gymnasium's render()
        u.taxi_orientation = u.lastaction  # does it as it draws, so a frame --frame-skip leaves undrawn lost the turn


def _cards(u, state, action) -> None:
    """Blackjack: what gymnasium draws (the player's sum and usable ace, the dealer's face-up card), as hands
    with that sum; the face-up card's suit is spades and a ten-card a king (gymnasium draws both at random)."""
    total, ace = int(np.asarray(state.player.total)), bool(np.asarray(state.player.ace))
    u.player = [1, total - 1] if ace and total + 10 <= 21 else [total]
    card = int(np.asarray(state.dealer_card))
    u.dealer = [card]
    u.dealer_top_card_suit, u.dealer_top_card_value_str = "S", {1: "A", 10: "K"}.get(card, str(card))


_SYNCS: dict[str, _Sync] = {
    "CartPole": _Sync("CartPole-v1", _no_kwargs, _physics("x", "x_dot", "theta", "theta_dot")),
    "Acrobot": _Sync("Acrobot-v1", _no_kwargs, _physics("theta1", "theta2", "dtheta1", "dtheta2")),
    "MountainCar": _Sync("MountainCar-v0", _no_kwargs, _physics("position", "velocity")),
    "ContinuousMountainCar": _Sync("MountainCarContinuous-v0", _no_kwargs, _physics("position", "velocity")),
    "Pendulum": _Sync("Pendulum-v1", _no_kwargs, _physics("theta", "theta_dot", torque=True)),
    "FrozenLake": _Sync("FrozenLake-v1", lambda env: {"desc": ["".join(r) for r in env.desc]}, _grid),
    "CliffWalking": _Sync("CliffWalking-v1", _no_kwargs, _grid),
    "Taxi": _Sync("Taxi-v4", _no_kwargs, _grid),
    "Blackjack": _Sync("Blackjack-v1", _no_kwargs, _cards),
}


def draws_only_what_it_shows(env_id: str) -> bool:
    """Whether gymnasium's ``render()`` of ``env_id`` only reads the env, so that a frame a recording skips need
    not be drawn: MuJoCo's renderer draws the simulation's data (and a frame there costs ~0.1 s on a CPU). Other
    renderers change the env as they draw (Taxi turns the taxi to its last move, LunarLander ages its flame
    particles), and their every frame is drawn."""
    from envs.gymnasium_adapter import required_extra

    try:
        return required_extra(str(env_id)) == "mujoco"
    except Exception:  # noqa: BLE001 - an id gymnasium does not know: drawn, every frame
        return False


def can_render_port(env) -> bool:
    """Whether ``PortRenderer`` knows how to draw this JAX port."""
    return type(env).__name__ in _SYNCS


def _headless_defaults() -> None:
    """Off-screen drawing needs no sound and, without a display, no window system: tell SDL so (unless
    the user chose otherwise), which also keeps pygame's banner and SDL's probing messages off the
    terminal; MuJoCo then draws through EGL (``MUJOCO_GL=egl``; set ``MUJOCO_GL=osmesa`` for software)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("MUJOCO_GL", "egl")


def make_rgb_env(env_id: str, max_episode_steps: int | None = None, **make_kwargs):
    """``gymnasium.make(env_id, render_mode="rgb_array")``, with a missing dependency or an env that
    cannot draw itself turned into a ``RenderError`` that says what to install."""
    import gymnasium

    from rl_zoo.host.mujoco_warnings import route_mujoco_warnings

    _headless_defaults()
    route_mujoco_warnings(env_id)
    try:
        env = gymnasium.make(env_id, render_mode="rgb_array", max_episode_steps=max_episode_steps, **make_kwargs)
    except gymnasium.error.DependencyNotInstalled as e:
        raise RenderError(f"{env_id} cannot be made for drawing: {e}. Install it: {INSTALL_HINT}.") from e
    except Exception as e:  # an env that takes no render_mode, a broken OpenGL set-up, ...
        raise RenderError(f"{env_id} cannot be made for drawing (gymnasium.make(render_mode='rgb_array') failed: "
                          f"{type(e).__name__}: {e}).{_gl_hint(env_id)}") from e
    if "rgb_array" not in env.metadata.get("render_modes", []):
        env.close()
        raise RenderError(f"{env_id} has no rgb_array render mode (its modes: {env.metadata.get('render_modes', [])}), so it cannot be recorded.")
    return env


def render(gym_env) -> np.ndarray:
    """One frame ``uint8 [H, W, 3]`` from a gymnasium env in ``rgb_array`` mode; a missing pygame (or
    another drawing library) becomes a ``RenderError`` naming it and how to install it."""
    import gymnasium

    name = gym_env.spec.id if gym_env.spec else gym_env
    try:
        frame = gym_env.render()
    except gymnasium.error.DependencyNotInstalled as e:
        raise RenderError(f"drawing {name} needs a library that is not installed: {e}. Install it: {INSTALL_HINT}.") from e
    except Exception as e:  # e.g. MuJoCo without an OpenGL context: say what failed, and the usual cure
        raise RenderError(f"drawing {name} failed ({type(e).__name__}: {e}).{_gl_hint(name)}") from e
    if frame is None:
        raise RenderError(f"{gym_env} returned no frame from render(); it was not made with render_mode='rgb_array'.")
    return np.asarray(frame, np.uint8)


def fps(gym_env, default: int = 30) -> int:
    """The frame rate gymnasium plays this env at (``metadata["render_fps"]``)."""
    return int(gym_env.metadata.get("render_fps") or default)


def copy_constants(unwrapped, env_params) -> None:
    """Give the gymnasium env the port's physical constants where it has an attribute of the same name, or of the
    name in capitals (CartPole's ``length`` and ``x_threshold``, Acrobot's ``LINK_LENGTH_1``, which their pictures
    draw to scale), so that a port made with other options (``--env-kwargs length=1.0``) is drawn as it is."""
    import dataclasses

    for f in dataclasses.fields(env_params):
        value = getattr(env_params, f.name)
        name = next((n for n in (f.name, f.name.upper()) if hasattr(unwrapped, n)), None)
        current = getattr(unwrapped, name) if name else None
        if isinstance(current, (int, float)) and not isinstance(current, bool) and np.ndim(value) == 0:
            setattr(unwrapped, name, type(current)(np.asarray(value).item()))


class PortRenderer:
    """Draws states of a JAX port with gymnasium's renderer (see the module docstring)."""

    def __init__(self, env, env_params=None):
        sync = _SYNCS.get(type(env).__name__)
        if sync is None:
            raise RenderError(f"no renderer for the JAX port {type(env).__name__}; known: {', '.join(sorted(_SYNCS))}")
        self._sync = sync
        self.gym_env = make_rgb_env(sync.gym_id, **sync.make_kwargs(env))
        self.gym_env.reset(seed=0)  # gymnasium refuses to render before the first reset
        if env_params is not None:
            copy_constants(self.gym_env.unwrapped, env_params)
        render(self.gym_env)  # fails here, before any episode is played, if pygame is missing
        self.fps = fps(self.gym_env)

    def frame(self, state, action=None) -> np.ndarray:
        """The picture of one (unbatched) port state; ``action`` is the one that led to it, if any."""
        self.sync(state, action)
        return self.draw()

    def sync(self, state, action=None) -> None:
        """Copy one (unbatched) port state into the gymnasium env (cheap; every frame is synced, drawn or not)."""
        self._sync.copy(self.gym_env.unwrapped, state, action)

    def draw(self) -> np.ndarray:
        """The picture of the state last synced (the costly part: a recording draws only the frames it keeps)."""
        return render(self.gym_env)

    def close(self) -> None:
        self.gym_env.close()

    def __enter__(self) -> "PortRenderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
