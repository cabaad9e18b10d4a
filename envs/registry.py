"""``envs.make(id)``: the JAX port where one exists, else the gymnasium adapter."""

from __future__ import annotations

import contextlib
import difflib
import importlib
import os
import warnings
from pathlib import Path
from typing import Any

from envs.make_checks import (_check_options, _check_param_values, _one_time_limit, _probe_params,
                               _split_overrides)

_PORTS: dict[str, tuple[Any, dict[str, Any]]] = {}  # id -> (entry point: "module:Class" or the class, kwargs)


def register(env_id: str, entry_point, **kwargs) -> None:
    """Register a pure-JAX env (an ``envs.Environment`` subclass) under ``env_id``: ``entry_point`` is
    ``"module:Class"`` (imported when the env is made) or the class itself; ``kwargs`` go to the
    constructor. Registering an id again replaces it, with a warning (as gymnasium warns)."""
    if isinstance(entry_point, str):
        module, _, cls = entry_point.partition(":")
        if not module or not cls or ":" in cls:
            raise ValueError(f"envs.register({env_id!r}, {entry_point!r}): entry_point must be 'module:Class' "
                             "(e.g. 'my_envs:Corridor') or the class itself")
    elif not callable(entry_point):
        raise TypeError(f"envs.register({env_id!r}, ...): entry_point must be 'module:Class' or a class, got {entry_point!r}")
    if env_id in _PORTS and not _same_registration(_PORTS[env_id], (entry_point, kwargs)):
        warnings.warn(f"envs.register: {env_id!r} was registered already ({_PORTS[env_id][0]}); it is replaced by "
                      f"{entry_point}", stacklevel=2)
    _PORTS[env_id] = (entry_point, kwargs)


def _same_registration(old: tuple, new: tuple) -> bool:
    """Whether two ``(entry_point, kwargs)`` are equal; kwargs that ``==`` cannot compare to a bool
    (numpy arrays) count as equal only when they are the same objects."""
    try:
        return bool(old == new)
    except (ValueError, TypeError):
        return old[0] == new[0] and old[1].keys() == new[1].keys() and all(old[1][k] is new[1][k] for k in old[1])


def _entry_class(entry_point):
    """The class a registered entry point names (``"module:Class"`` imported now) or is."""
    if not isinstance(entry_point, str):
        return entry_point
    module, cls = entry_point.split(":")
    return getattr(importlib.import_module(module), cls)


def list() -> list[str]:  # noqa: A001 - the issue names it envs.list()
    """Ids with a pure-JAX port, sorted."""
    return sorted(_PORTS)


def _gymnasium_ids() -> list[str]:
    import gymnasium

    return sorted(gymnasium.registry.keys())


def is_gymnasium_id(env_id: str) -> bool:
    """Whether ``env_id`` names a gymnasium env: an id in gymnasium's registry, or the ``MODULE:ID``
    form (whose module registers it when imported; not imported here). Says nothing of whether the env
    can be built (its extra installed, its spaces supported): ``make`` finds that out."""
    return ":" in env_id or env_id in _gymnasium_ids()


def _one_per_family(ids: list[str]) -> list[str]:
    """The first of each family in ``ids`` ("Hopper-v5", "Hopper-v4" -> "Hopper-v5"): five versions of
    one env would crowd out every other suggestion."""
    seen, kept = set(), []
    for env_id in ids:
        family = env_id.rsplit("-v", 1)[0]
        if family not in seen:
            seen.add(family)
            kept.append(env_id)
    return kept


class UnknownEnvironment(ValueError):
    """An env id neither a JAX port nor registered with gymnasium (in this process); the message names the closest."""


def _unknown(env_id: str) -> UnknownEnvironment:
    known = list() + [i for i in _gymnasium_ids() if i not in _PORTS]
    close = _one_per_family(difflib.get_close_matches(env_id, known, n=20, cutoff=0.5))[:5]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return UnknownEnvironment(
        f"Unknown environment id {env_id!r}.{hint} JAX ports: {', '.join(list())}. "
        "Any id registered with gymnasium also works (see `rl-zoo envs --all`)."
    )


def _import_from_here_too(module: str) -> None:
    """Import ``module``; if it is not found, look in the current folder too, as ``python`` and
    ``python -m`` do and the ``rl-zoo`` console script does not (``my_envs.py`` beside the user)."""
    import os
    import sys

    try:
        importlib.import_module(module)
        return
    except ModuleNotFoundError as e:
        here = os.getcwd()
        if e.name != module.split(".")[0] or here in sys.path or "" in sys.path:
            raise
    sys.path.insert(0, here)  # kept: async vector-env workers inherit the parent's sys.path
    importlib.import_module(module)  # outside the except: its own error is not shown as "during" the first one's


def _import_error_words(module: str, error: Exception) -> str:
    """``error``, raised while ``module`` was imported, in one line: its type, message and where in the user's code
    (a ``SyntaxError``'s file and line, else the innermost frame)."""
    import traceback

    if isinstance(error, SyntaxError) and error.filename:
        where = f"{error.filename}:{error.lineno}"
    else:
        frames = traceback.extract_tb(error.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else module
    return f"{type(error).__name__}: {error} (at {where})"


def _shadowed(module: str, bare: str) -> str:
    """Words for a ``module`` of the user's in the current folder that another module of that name (Python's own, an
    installed package's, rl_zoo's ``envs``) was imported in place of; ``""`` if it was not."""
    import os
    import sys
    from pathlib import Path

    top = module.split(".")[0]
    local = next((p for p in (Path(os.getcwd()) / f"{top}.py", Path(os.getcwd()) / top / "__init__.py") if p.exists()), None)
    imported = getattr(sys.modules.get(top), "__file__", None)
    if local is None or imported is None or Path(imported).resolve() == local.resolve():
        return ""
    return (f": {top!r} is imported from {imported} (a module of Python's, of an installed package or of rl_zoo), not "
            f"from ./{local.relative_to(os.getcwd())}; rename your module (e.g. my_{top}.py) and train on --env my_{top}:{bare}")


def gymnasium_name(env_id: str) -> str:
    """The id gymnasium's registry knows: ``"EnvId-v0"`` of ``"module:EnvId-v0"`` (``gymnasium.make``
    takes both forms, ``gymnasium.spec`` only this one); an id without a colon as it is."""
    return env_id.rpartition(":")[2]


def _registered_by_module(env_id: str) -> str:
    """gymnasium's ``"module:EnvId-v0"`` form: import ``module`` (which registers ``EnvId-v0``, as a JAX
    port with ``envs.register`` or with gymnasium) and return ``EnvId-v0``; an id without a colon is
    returned as it is. The full form is what a run should record for an env registered from Python: a
    fresh process (``rl-zoo train``/``enjoy``, ``rl_zoo.load``, an async vector env's worker) imports
    the module again from the id alone."""
    if ":" not in env_id:
        return env_id
    from envs.gymnasium_adapter import _of_your_own

    module, bare = env_id.partition(":")[0], gymnasium_name(env_id)
    if not module or not bare or env_id.count(":") > 1:
        raise ValueError(f"environment id {env_id!r}: expected MODULE:ENV_ID (a module that registers ENV_ID, with "
                         "envs.register or with gymnasium)")
    try:
        _import_from_here_too(module)
    except ImportError as e:
        raise ValueError(f"environment id {env_id!r}: cannot import {module!r}, the module that should register "
                         f"{bare!r}, from the current folder or PYTHONPATH ({type(e).__name__}: {e})") from None
    except Exception as e:  # the module's own code failed (a SyntaxError too): one line, not a chained traceback
        raise ValueError(f"environment id {env_id!r}: importing {module!r}, the module that should register {bare!r}, "
                         f"raised {_import_error_words(module, e)}") from None
    if bare not in _PORTS and bare not in _gymnasium_ids():
        raise ValueError(f"environment id {env_id!r}: importing {module!r} registered {bare!r} neither as a JAX "
                         f"port (envs.register) nor with gymnasium{_shadowed(module, bare)}")
    if bare in _PORTS and _entry_class(_PORTS[bare][0]).__module__.startswith("envs.") and bare in _gymnasium_ids() \
            and _of_your_own(bare):
        raise ValueError(f"environment id {env_id!r}: {module!r} registers {bare!r} with gymnasium, an id rl_zoo runs on "
                         f"its own JAX port, which would be made instead of your env: register it under an id of its "
                         f"own (My{bare}) and train on --env {module}:My{bare}")
    return bare


def default_eval_episodes(env_id: str, backend: str | None = None) -> int:
    """The greedy episodes per evaluation and seed that rl-zoo's commands play on ``env_id`` unless told: the
    JAX port's ``default_eval_episodes`` (1,000 for Blackjack-v1, whose return is one +-1 draw), 10 for
    the adapter and for an id that is not known (``make`` then says what is wrong with it)."""
    try:
        bare = _registered_by_module(env_id)
    except ValueError:
        return 10
    if bare in _PORTS and backend != "gymnasium":
        return int(getattr(_entry_class(_PORTS[bare][0]), "default_eval_episodes", 10))
    return 10


def make(env_id: str, backend: str | None = None, **overrides):
    """Make an environment: ``(env, params)``.

    ``backend``: ``None`` picks the JAX port where one exists and the gymnasium adapter otherwise;
    ``"jax"`` insists on the port; ``"gymnasium"`` forces the adapter. ``overrides`` that name a
    field of the env's params (``max_steps_in_episode``, or gymnasium's name ``max_episode_steps``;
    physical constants) replace it; the rest go to the constructor (``map_name``, ``is_slippery`` ...;
    for the adapter, to ``gymnasium.make``). ``env_id`` may be gymnasium's ``"module:EnvId-v0"``:
    ``module`` is imported first, to register ``EnvId-v0`` as a JAX port (``register``) or with
    gymnasium (an env of your own, trained and loaded from the command line).
    """
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a string such as 'CartPole-v1', got {env_id!r}")
    if backend not in (None, "jax", "gymnasium"):
        raise ValueError(f"backend must be 'jax', 'gymnasium' or None, got {backend!r}")
    overrides = _one_time_limit(overrides)
    bare = _registered_by_module(env_id)  # the id a MODULE:ID's module registered (imported now); a plain id as it is
    if bare in _PORTS and backend != "gymnasium":
        entry_point, kwargs = _PORTS[bare]
        probe = _entry_class(entry_point)
        # Split overrides into params fields and constructor kwargs using a default instance.
        defaults = _probe_params(env_id, probe, kwargs, overrides)
        param_over, ctor_over = _split_overrides(defaults, overrides)
        _check_options(bare, probe, defaults, ctor_over)
        env = probe(**{**kwargs, **ctor_over})
        param_over = _check_param_values(bare, env.default_params, param_over, probe.__module__.startswith("envs."))
        try:
            env.id = bare  # the id it was made from (a FrozenLake8x8-v1 on a map of one's own is still that id)
        except AttributeError:  # an env of one's own whose id is a property, or a frozen dataclass: its own say
            pass
        params = env.default_params.replace(**param_over) if param_over else env.default_params
        if param_over and (problem := getattr(params, "invalid", lambda: None)()):  # e.g. a pole of length 0
            raise ValueError(f"{bare}: {problem}")
        if not probe.__module__.startswith("envs."):  # an env of your own: its contract checked once (the ports have tests)
            from envs.environment import check_env

            check_env(env, params, bare)
        return env, params
    if backend == "jax":
        if is_gymnasium_id(env_id):
            raise ValueError(f"{env_id!r} has no JAX port; JAX ports: {', '.join(list())}. Leave the backend out (it picks gymnasium's env), or ask for it: `--backend gymnasium` "
                             f"(backend='gymnasium' in Python).")
        raise _unknown(env_id)
    if bare not in _gymnasium_ids():
        if bare in _PORTS:  # backend="gymnasium" on a JAX env of one's own
            raise ValueError(f"{env_id!r} is a pure-JAX env (envs.register), not a gymnasium one: leave out "
                             "backend='gymnasium' (--backend gymnasium)")
        raise _unknown(env_id)
    from envs.gymnasium_adapter import GymnasiumEnv

    env = GymnasiumEnv(env_id, **overrides)
    return env, env.default_params


def backend_of(env_id: str) -> str:
    """``"jax"`` for an id with a pure-JAX port (a ``MODULE:ID`` whose module registers ``ID`` with
    ``envs.register``: imported here), else ``"gymnasium"`` (whether or not gymnasium knows it)."""
    return "jax" if _registered_by_module(env_id) in _PORTS else "gymnasium"


def _shorten(text: str, width: int = 70) -> str:
    """``text`` on one line, cut at a word boundary to at most ``width`` characters, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    cut = text[: width - 1].rsplit(" ", 1)[0]
    return (cut if len(cut) > width // 2 else text[: width - 1]) + "…"


@contextlib.contextmanager
def _working_folder(path: str):
    """``os.chdir(path)`` meanwhile (``contextlib.chdir`` is Python 3.11+; the floor is 3.10)."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@contextlib.contextmanager
def _quiet_native_output(path: Path):
    """File descriptors 1 and 2 go to ``path`` meanwhile: MuJoCo prints a deprecation warning per model it
    compiles (C code, past Python's ``warnings``), which would bury the table."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        with open(path, "wb") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, old in zip((1, 2), saved):
            os.dup2(old, fd)
            os.close(old)


def _space_text(space, width: int = 70) -> str:
    """A space as its ``str``, or, where that is longer than ``width`` (a Box's per-dimension bounds),
    its kind, shape and dtype."""
    text = " ".join(str(space).split())
    if len(text) <= width or getattr(space, "shape", None) is None:
        return _shorten(text, width)
    import numpy as np

    return f"{type(space).__name__}(shape {tuple(space.shape)}, {np.dtype(space.dtype).name})"


def made_quietly(env_id: str, backend: str | None = None):
    """``make(env_id, backend=backend)`` in a temporary working folder, with native output (MuJoCo's
    warnings, ``MUJOCO_LOG.TXT``) and gymnasium's warnings kept out of the caller's terminal and folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch, _working_folder(scratch), _quiet_native_output(Path(scratch) / "native.txt"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return make(env_id, backend=backend)


def describe(include_gymnasium: bool = False) -> list[dict[str, str]]:
    """One row per id: id, backend, observation space, action space and a note (for ``rl-zoo envs``; the
    note says why an id cannot be made here, its spaces then ``-``), each cell shortened to one
    table-friendly line. The envs are built in a temporary folder: MuJoCo writes its
    warnings to ``MUJOCO_LOG.TXT`` in the working directory."""
    import tempfile

    rows = []
    ids = list() + ([i for i in _gymnasium_ids() if i not in _PORTS] if include_gymnasium else [])
    with tempfile.TemporaryDirectory() as scratch, _working_folder(scratch), _quiet_native_output(Path(scratch) / "native.txt"):
        for env_id in ids:
            try:
                with warnings.catch_warnings():  # gymnasium warns for each old version it lists (Ant-v2, ...)
                    warnings.simplefilter("ignore")
                    env, params = make(env_id)
                rows.append(dict(id=env_id, backend=env.backend, observation=_space_text(env.observation_space(params)),
                                 action=_space_text(env.action_space(params)), note=""))
            except Exception as e:  # an optional dependency (box2d, mujoco) may be missing
                rows.append(dict(id=env_id, backend="gymnasium", observation="-", action="-", note=unavailable_note(env_id, e)))
    return rows


def unavailable_note(env_id: str, error: Exception) -> str:
    """``rl-zoo envs --all``'s note on an id that cannot be made: the cause itself (gymnasium's ImportError behind a
    MissingDependency, not the 90 characters of boilerplate before it), without the id the row names already."""
    cause = error.__cause__ if isinstance(error.__cause__, Exception) else error
    text = str(cause).removeprefix(f"{env_id}: ").removeprefix(f"{env_id} ")
    return _shorten(f"unavailable ({type(cause).__name__}): {text}", 110)


# --- the pure-JAX ports -------------------------------------------------------------------------
register("CartPole-v1", "envs.classic_control.cartpole:CartPole")
register("CartPole-v0", "envs.classic_control.cartpole:CartPole", max_episode_steps=200)  # gymnasium's first, out of date
register("Acrobot-v1", "envs.classic_control.acrobot:Acrobot")
register("MountainCar-v0", "envs.classic_control.mountain_car:MountainCar")
register("MountainCarContinuous-v0", "envs.classic_control.continuous_mountain_car:ContinuousMountainCar")
register("Pendulum-v1", "envs.classic_control.pendulum:Pendulum")
# gymnasium gives a FrozenLake the time limit of the id it is made from, whatever its map: so do these
register("FrozenLake-v1", "envs.toy_text.frozen_lake:FrozenLake", max_episode_steps=100)
register("FrozenLake8x8-v1", "envs.toy_text.frozen_lake:FrozenLake", map_name="8x8", max_episode_steps=200)
register("CliffWalking-v1", "envs.toy_text.cliff_walking:CliffWalking")
register("CliffWalkingSlippery-v1", "envs.toy_text.cliff_walking:CliffWalking", is_slippery=True)
register("Taxi-v4", "envs.toy_text.taxi:Taxi")
register("Blackjack-v1", "envs.toy_text.blackjack:Blackjack", sab=True)  # gymnasium registers it with sab=True
