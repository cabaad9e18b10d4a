"""What ``envs.make`` checks of its options before a port is made: the time limit under one name, the options split
into constructor options and params fields (an env of one's own whose constructor needs an option made with it),
unknown options named with the nearest, a bool or str option's type, and a params value that cannot stand where its
default does. Each refusal is a ``ValueError`` naming the env and the option."""

from __future__ import annotations

import builtins
import dataclasses
import difflib
import operator
from typing import Any


def required_options(cls) -> list[str]:
    """The constructor parameters of ``cls`` without a default (``[]`` where its signature cannot be read)."""
    import inspect

    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    return [n for n, p in sig.parameters.items()
            if n != "self" and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _probe_params(env_id: str, cls, registered: dict[str, Any], overrides: dict[str, Any]):
    """The default params of ``cls`` made with its registered options, to split ``overrides`` into params fields
    and constructor options. An env of one's own whose constructor requires an option (``size``) is made with the
    overrides that give it; one not given is refused by name."""
    needed = [n for n in required_options(cls) if n not in registered]
    if not needed:
        return cls(**registered).default_params
    if missing := [n for n in needed if n not in overrides]:
        pairs = " ".join(f"{n}=VALUE" for n in missing)
        raise ValueError(f"{env_id}: its constructor needs {', '.join(missing)}: give {'it' if len(missing) == 1 else 'them'} "
                         f"(--env-kwargs {pairs}; envs.make({env_id!r}, {pairs.replace(' ', ', ')}) in Python), or "
                         f"register the env with {'it' if len(missing) == 1 else 'them'}: envs.register(..., {pairs.replace(' ', ', ')})")
    return cls(**registered, **{n: overrides[n] for n in needed}).default_params


def _split_overrides(params, overrides: dict[str, Any]) -> tuple[dict, dict]:
    fields = {f.name for f in dataclasses.fields(params)}
    return {k: v for k, v in overrides.items() if k in fields}, {k: v for k, v in overrides.items() if k not in fields}


def _check_options(env_id: str, cls, params, ctor_over: dict[str, Any]) -> None:
    """Refuse options neither the constructor of ``cls`` nor the params take, naming those that exist
    (it was ``TypeError: CartPole() takes no arguments``), and, where gymnasium's own env takes them, the adapter
    that passes them on (`_adapter_hint`)."""
    import inspect

    if cls.__init__ is object.__init__:
        ctor = []
    else:
        sig = inspect.signature(cls.__init__)
        if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            return
        ctor = [n for n, p in sig.parameters.items() if n != "self" and p.kind is not p.VAR_POSITIONAL]
        _check_option_types(env_id, sig, ctor_over)
    unknown = [k for k in ctor_over if k not in ctor]
    if not unknown:
        return
    fields = [f.name for f in dataclasses.fields(params)]
    known = ctor + fields + ["max_episode_steps"]
    close = {k: difflib.get_close_matches(k, known, n=1) for k in unknown}
    hints = "".join(f" ({k}: did you mean {c[0]}?)" for k, c in close.items() if c)
    if "render_mode" in unknown:  # gymnasium's keyword: a port draws its frames apart from its env (envs.render)
        hints += (" (render_mode: a port draws no frames itself; `rl-zoo enjoy RUN --record OUT.gif` draws its episodes "
                  "through gymnasium's renderer, envs.render.make_rgb_env(id) makes that renderer's env)")
    adapter = "" if hints else _adapter_hint(env_id, unknown)
    raise ValueError(f"{env_id}: unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}{hints}. The port takes "
                     f"constructor options [{', '.join(ctor) or 'none'}] and params fields [{', '.join(fields)}] (max_episode_steps, "
                     f"gymnasium's name, is taken for max_steps_in_episode).{adapter}")


def _adapter_hint(env_id: str, unknown: list[str]) -> str:
    """The sentence that sends options a port lacks to ``backend="gymnasium"``: said when gymnasium's own env
    takes them (a port of one's own under a gymnasium id), or may (its signature cannot tell); "" otherwise."""
    from envs.options import only_gymnasium_takes
    from envs.registry import _gymnasium_ids

    if env_id not in _gymnasium_ids():
        return ""
    only = only_gymnasium_takes(env_id)
    taken = unknown if only is None else [k for k in unknown if k in only]
    if not taken:
        return ""
    said = "may take options the port lacks" if only is None else f"takes {', '.join(taken)}"
    return (f" gymnasium's own {env_id} {said}: make it with backend='gymnasium' to pass them to gymnasium.make "
            "(on the command line: --backend gymnasium --env-kwargs KEY=VALUE).")


def _check_option_types(env_id: str, sig, ctor_over: dict[str, Any]) -> None:
    """A constructor option whose default is a bool or a str takes a value of that type: the string
    ``is_slippery="False"`` is truthy, and made the slippery lake (numbers are left to the env: an env of
    one's own with ``scale=1`` may take 0.5)."""
    import numpy as np

    for name, value in ctor_over.items():
        p = sig.parameters.get(name)
        default = None if p is None else p.default
        kind = next((t for t in (bool, str) if isinstance(default, t)), None)
        if kind is None or value is None:
            continue
        ok = isinstance(value, (bool, np.bool_)) if kind is bool else isinstance(value, str)
        if not ok:
            raise ValueError(f"{env_id}: option {name} = {value!r} is invalid: must be {kind.__name__} "
                             f"(its default is {default!r})")


#: the largest time limit: the ports and the adapter count an episode's steps in int32
MAX_TIME_LIMIT = 2**31 - 1


def _check_param_values(env_id: str, defaults, param_over: dict[str, Any], built: bool) -> dict[str, Any]:
    """Refuse a params override that cannot stand where its default does: not a number (``None``, a
    string) for a numeric field, or a scalar for an array field and the other way round (``reward=1.0``
    on FrozenLake, whose ``reward`` is the ``[S, A, K]`` table its map builds): it passed ``make`` and
    failed at the first reset or step, naming no option. ``defaults`` are the params of the env as made
    (its constructor options applied); ``built``: its array fields are built from those options (a
    port), as the message then says. Traced values (``make`` under ``jax.vmap``) and arrays of another
    length pass. Returns the overrides, a list given for an array field as an array of its dtype (the
    env's code cannot index a list)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    out = dict(param_over)
    for name, value in param_over.items():
        default = getattr(defaults, name)
        if isinstance(value, jax.core.Tracer):
            continue
        try:
            kind, ndim = np.asarray(default).dtype.kind, np.ndim(default)
        except Exception:  # noqa: BLE001 - a field of another kind (an env of one's own): its own checks
            continue
        if kind not in "biuf":
            continue
        try:
            arr = np.asarray(value)
        except Exception:  # noqa: BLE001 - a ragged list
            arr = np.asarray(None)
        shown = repr(value) if arr.size <= 8 else f"<{arr.dtype} array of shape {arr.shape}>"
        if arr.dtype.kind in ("biuf" if kind == "b" else "iuf") and arr.ndim == ndim:  # a bool only where one is
            if kind in "iu" and arr.dtype.kind == "f":  # length=2.5 for `length: int`: a state's dtype changed mid-step,
                limits = np.iinfo(np.asarray(default).dtype)  # and the error blamed the env's code; past them a cast wraps
                if not np.all(np.isfinite(arr) & (arr == np.round(arr)) & (arr >= limits.min) & (arr <= limits.max)):
                    raise ValueError(f"{env_id}: option {name}={shown}: {name} is a params field that takes whole numbers "
                                     f"from {limits.min:,} to {limits.max:,}")
                arr = arr.astype(np.asarray(default).dtype)
                out[name] = arr.item() if ndim == 0 and not isinstance(default, (jax.Array, np.ndarray)) else jnp.asarray(arr)
            elif isinstance(value, builtins.list) and isinstance(default, (jax.Array, np.ndarray)):  # list(): envs.list
                out[name] = jnp.asarray(arr, dtype=default.dtype)
            elif isinstance(value, (jax.Array, np.ndarray, np.generic)):  # np.float64(9.81) for g: under JAX_ENABLE_X64
                # a strongly typed float64 made the float32 state float64 at the first step (a scan's carry refused it)
                out[name] = (jnp.asarray(arr, dtype=default.dtype) if isinstance(default, (jax.Array, np.ndarray))
                             else arr.item())
            continue
        what = ("a number" if ndim == 0 else f"an array of {ndim} dimension{'s' if ndim > 1 else ''} (shape "
                f"{np.shape(default)} here" + ("; it is built from the constructor's options: change those instead"
                                               if built else "") + ")")
        raise ValueError(f"{env_id}: option {name}={shown}: {name} is a params field that takes {what}")
    return out


def _positive_int(value) -> bool:
    """An integer in [1, ``MAX_TIME_LIMIT``] (a Python, numpy or JAX integer scalar; not a bool, not a float)."""
    if isinstance(value, bool):
        return False
    try:
        return 1 <= operator.index(value) <= MAX_TIME_LIMIT
    except TypeError:
        return False


#: the time limit's two names: rl_zoo's params field and gymnasium's make argument
TIME_LIMIT_NAMES = ("max_steps_in_episode", "max_episode_steps")


def _one_time_limit(overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` with gymnasium's name for the time limit, ``max_episode_steps``, as rl_zoo's
    ``max_steps_in_episode`` (for the ports and the adapter alike); both names at once are refused. A
    limit of ``None`` means the registered one (as in ``gymnasium.make``); any other must be a positive
    integer."""
    overrides = {k: v for k, v in overrides.items() if not (k in TIME_LIMIT_NAMES and v is None)}
    for name in (n for n in TIME_LIMIT_NAMES if n in overrides):
        if not _positive_int(overrides[name]):
            raise ValueError(f"{name}={overrides[name]!r}: the time limit must be a positive integer of at most "
                             f"2**31 - 1 = {MAX_TIME_LIMIT:,} (steps are counted in int32; None: the registered limit)")
    if "max_episode_steps" not in overrides:
        return overrides
    if "max_steps_in_episode" in overrides:
        raise ValueError("give the time limit once: max_steps_in_episode or max_episode_steps, not both")
    out = {k: v for k, v in overrides.items() if k != "max_episode_steps"}
    return dict(out, max_steps_in_episode=overrides["max_episode_steps"])
