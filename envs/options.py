"""The options an env takes: the keywords ``envs.make(ID, **options)`` and ``rl-zoo train --env-kwargs
KEY=VALUE`` accept, each with the value the env is made with when it is not given (``rl-zoo envs ID``).

A JAX port takes two kinds: its constructor's options (``map_name``, ``is_slippery``: they change the
program) and the fields of its params pytree (physical constants, the time limit: numbers, which
``jax.vmap`` can batch). A gymnasium env takes its entry point's keyword arguments, passed to
``gymnasium.make``, with the defaults its registration sets (``LunarLanderContinuous-v3`` is
``LunarLander`` with ``continuous=True``), and gymnasium's ``max_episode_steps``. A port's array fields
(a tabular env's tables, built from its constructor options) are not listed.

Values are written as the command line reads them back: ``option_text`` writes, ``parse_option_value``
reads (YAML 1.2 scalars and flow lists and mappings), ``recordable`` says what config.json can hold.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from dataclasses import dataclass
from typing import Any

#: what the kinds of option are, as ``rl-zoo envs ID`` prints them
KINDS = {
    "constructor": "a JAX port's constructor option (changes the compiled program)",
    "params": "a field of a JAX port's params (a number in the program)",
    "gymnasium.make": "a keyword argument of the gymnasium env, given to gymnasium.make",
    "time limit": "gymnasium's max_episode_steps (a port's max_steps_in_episode)",
}
#: what the time limit takes (``envs.make_checks._one_time_limit``): null is the registered limit
TIME_LIMIT_RULE = "integer 1 .. 2**31-1, or null"
#: gymnasium keywords that are not the env's to take from a run: the adapter and the renderer set them
_NOT_OPTIONS = ("render_mode",)
#: ``Option.allowed`` of a constructor option without a default (an env of one's own): it must be given
REQUIRED = "required: it has no default"


@dataclass(frozen=True)
class Option:
    """One keyword an env takes, its value when not given, and its kind (a key of ``KINDS``)."""

    name: str
    default: Any
    kind: str
    allowed: str = ""  # a port's rule for the value (``"> 0"``, ``"< max_position"``; `EnvParams.invalid`); "": any


def has_gymnasium_twin(env_id: str) -> bool:
    """Whether ``env_id`` (or the id a ``MODULE:ID`` registers) is a JAX port that gymnasium also knows: its
    own env, with options of its own, is then ``backend="gymnasium"``'s."""
    from envs import registry

    bare = registry._registered_by_module(env_id)
    return bare in registry._PORTS and bare in registry._gymnasium_ids()


def env_options(env_id: str, backend: str | None = None) -> tuple[str, list[Option]]:
    """``(backend, options)`` of ``env_id`` on ``backend`` (as ``envs.make`` picks it: ``None`` the JAX port
    where one exists). An unknown id raises ``envs.make``'s ``ValueError``; a gymnasium env whose module
    cannot be imported (box2d or mujoco missing) raises the import's error."""
    from envs import registry

    bare = registry._registered_by_module(env_id)
    if bare in registry._PORTS and backend != "gymnasium":
        return "jax", _port_options(*registry._PORTS[bare])
    if backend == "jax" or bare not in registry._gymnasium_ids():
        registry.make(env_id, backend=backend)  # its error: an unknown id, or no JAX port
    return "gymnasium", _gymnasium_options(bare)


def _signature_options(creator, registered: dict[str, Any], kind: str, rules: dict[str, str] | None = None) -> list[Option]:
    """The keyword parameters of ``creator`` (a class or a function) with their defaults, those
    ``registered`` sets replaced by its values (and those it sets that the signature hides behind
    ``**kwargs`` added). ``rules``: what a port's constructor takes (``Environment.option_rules``; a bool
    option's "true or false" without one)."""
    params = inspect.signature(creator).parameters

    def allowed(n: str, p) -> str:
        if p.default is p.empty and n not in registered:
            return REQUIRED
        if rules is None:
            return ""
        return rules.get(n, "true or false" if isinstance(p.default, bool) else "")

    out = [Option(n, plain(registered.get(n, p.default if p.default is not p.empty else None)), kind, allowed(n, p))
           for n, p in params.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and n not in _NOT_OPTIONS]
    named = {o.name for o in out}
    return out + [Option(n, plain(v), kind) for n, v in registered.items() if n not in named and n not in _NOT_OPTIONS]


def takes_more(env_id: str, backend: str | None = None) -> bool:
    """Whether the env's constructor (or factory) also takes ``**kwargs``: options beyond those listed."""
    from envs import registry

    bare = registry._registered_by_module(env_id)
    if bare in registry._PORTS and backend != "gymnasium":
        creator = registry._entry_class(registry._PORTS[bare][0])
    else:
        creator = _gymnasium_creator(bare)[0]
    try:
        return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(creator).parameters.values())
    except (TypeError, ValueError):  # no signature to read
        return False


def only_gymnasium_takes(env_id: str) -> list[str] | None:
    """The options of gymnasium's own ``env_id`` that its JAX port does not take (none for the ports shipped
    here: each takes every keyword of gymnasium's env); None when that cannot be told (gymnasium's entry point
    takes ``**kwargs``, or its signature cannot be read). ``rl-zoo envs ID`` names them, and ``envs.make``
    points an unknown option to ``backend="gymnasium"`` when gymnasium's env takes it."""
    from envs import registry

    bare = registry._registered_by_module(env_id)
    try:
        if takes_more(bare, "gymnasium"):
            return None
        theirs = [o.name for o in _gymnasium_options(bare) if o.kind != "time limit"]
    except (ImportError, TypeError, ValueError):  # a module that cannot load here, a creator without a signature
        return None
    if takes_more(bare):
        return []  # the port takes any keyword
    ours = {o.name for o in _port_options(*registry._PORTS[bare])} | {"max_episode_steps"}
    return [name for name in theirs if name not in ours]


def replaced_options(env_id: str, given) -> set[str]:
    """The options of a run of ``env_id`` that options ``given`` anew replace: the others of a group they belong to
    (``Environment.option_groups``). ``rl-zoo enjoy RUN --env-kwargs map_name=8x8`` on a run of a random map (recorded
    as ``desc``, which wins over ``map_name``) played the run's map under the header "map_name=8x8"."""
    from envs import registry

    bare = registry._registered_by_module(env_id)
    if bare not in registry._PORTS:
        return set()
    groups = getattr(registry._entry_class(registry._PORTS[bare][0]), "option_groups", ())
    return {name for group in groups if set(group) & set(given) for name in group if name not in given}


def _port_options(entry_point, registered: dict[str, Any]) -> list[Option]:
    from envs import make_checks, registry

    cls = registry._entry_class(entry_point)
    ctor = [] if cls.__init__ is object.__init__ else _signature_options(cls, registered, "constructor",
                                                                        dict(getattr(cls, "option_rules", {})))
    if any(n not in registered for n in make_checks.required_options(cls)):  # an env of one's own that needs an option
        return ctor  # made only with it: its params fields are not known here
    params = cls(**registered).default_params
    rules = {**allowed_values(params), "max_steps_in_episode": TIME_LIMIT_RULE}
    fields = [Option(f.name, _number(getattr(params, f.name)), "time limit" if f.name == "max_steps_in_episode" else "params",
                     rules.get(f.name, "")) for f in dataclasses.fields(params) if _number(getattr(params, f.name)) is not None]
    fields = [Option(o.name, None, o.kind, o.allowed) if o.kind == "time limit" and o.default == make_checks.MAX_TIME_LIMIT else o
              for o in fields]  # no time limit (CliffWalking's), as gymnasium says it: None
    return [o for o in ctor if o.name != "max_episode_steps"] + fields  # a FrozenLake's registered limit: the params field's value


def float_fields(params) -> list[str]:
    """The fields of a port's params that hold a Python float (what a sweep can trace, if the code lets it)."""
    return [f.name for f in dataclasses.fields(params) if type(getattr(params, f.name)) is float]


def sweepable(env, params) -> tuple[list[str], list[str]]:
    """``(traced, fixed)``: the float fields of a JAX port's params that its spaces, reset and step can take as
    traced numbers (what ``rl-zoo sweep --grid env.NAME=...`` vmaps), and those they need concrete (a bound of an
    observation or action space: CartPole's ``x_threshold``). Traced with ``jax.eval_shape``: nothing runs."""
    import jax
    import jax.numpy as jnp

    from envs.spaces import TracedBoundsError

    space = env.action_space(params)
    action = jnp.zeros(space.shape, space.dtype)

    def one(name):
        def run(value):
            p = params.replace(**{name: value})
            env.observation_space(p), env.action_space(p)
            _, state = env.reset(jax.random.key(0), p)
            return env.step(jax.random.key(1), state, action, p)[0]

        try:
            jax.eval_shape(run, jax.ShapeDtypeStruct((), jnp.float32))
            return True
        except (jax.errors.JAXTypeError, TracedBoundsError):
            return False

    floats = float_fields(params)
    traced = [name for name in floats if one(name)]
    return traced, [name for name in floats if name not in traced]


def allowed_values(params) -> dict[str, str]:
    """``{field: rule}``: what a port's params declare their dynamics are defined for (``POSITIVE``, ``NON_NEGATIVE``,
    ``ORDERED``, ``NOT_ABOVE``; `envs.environment.EnvParams`), in words: ``"> 0"``, ``">= 0"``, ``"< max_position"``."""
    rules: dict[str, list[str]] = {}
    for name in getattr(params, "POSITIVE", ()):
        rules.setdefault(name, []).append("> 0")
    for name in getattr(params, "NON_NEGATIVE", ()):
        rules.setdefault(name, []).append(">= 0")
    for low, high in getattr(params, "ORDERED", ()):
        rules.setdefault(low, []).append(f"< {high}")
        rules.setdefault(high, []).append(f"> {low}")
    for low, high in getattr(params, "NOT_ABOVE", ()):
        rules.setdefault(low, []).append(f"<= {high}")
        rules.setdefault(high, []).append(f">= {low}")
    return {name: ", ".join(said) for name, said in rules.items()}


def _gymnasium_creator(env_id: str):
    """``(creator, spec)`` of a gymnasium id: the class or function its entry point names (imported now), and
    its registration."""
    import gymnasium
    from gymnasium.envs.registration import load_env_creator

    spec = gymnasium.spec(env_id)
    return (load_env_creator(spec.entry_point) if isinstance(spec.entry_point, str) else spec.entry_point), spec


def _gymnasium_options(env_id: str) -> list[Option]:
    creator, spec = _gymnasium_creator(env_id)
    return _signature_options(creator, dict(spec.kwargs), "gymnasium.make") + [
        Option("max_episode_steps", spec.max_episode_steps, "time limit", TIME_LIMIT_RULE)]


def _number(value: Any) -> Any:
    """A params field's default as a Python number, or None for an array (a tabular env's tables, built
    from its constructor options: not an option of their own)."""
    import numpy as np

    array = np.asarray(value)
    return array.item() if array.ndim == 0 else None


def plain(value: Any) -> Any:
    """A default as config.json would record it: arrays and tuples as lists, NumPy scalars as numbers,
    within lists and mappings too."""
    import numpy as np

    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def option_text(value: Any) -> str:
    """``value`` written so that ``--env-kwargs KEY=<it>`` reads it back equal (``envs.options.parse_option_value``):
    YAML flow style, ``true``, ``null``, ``.inf``, ``[1, 0, 0]``, ``{distance: 4.0}``; a string YAML would read
    as something else (``"1e-3"``, ``"true"``, ``""``) double-quoted."""
    import json
    import math

    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float) and math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(option_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{option_text(k)}: {option_text(v)}" for k, v in value.items()) + "}"
    try:
        same = (value.strip() == value != "" and parse_option_value(value) == value
                and not any(c in value for c in ",[]{}#:'\""))
    except Exception:  # noqa: BLE001 - any text YAML cannot read as itself is quoted
        same = False
    return value if same else json.dumps(value)


# --- reading what the command line gives: YAML 1.2 values, and what a run can record ------------------
@functools.lru_cache(maxsize=None)
def _option_loader():
    """A YAML loader that reads scalars as a user of ``--env-kwargs`` means them (YAML 1.2's core schema, decimal
    integers only, and Python's ``None`` as null): ``1e-3``
    a float (YAML 1.1 left it a string, which gymnasium took and failed on at its first step), ``010`` ten (not
    octal 8), ``yes``, ``no``, ``on`` and ``1:30`` strings; ``true``, ``True``, ``TRUE`` (and ``false`` alike)
    booleans, ``null``/``None``/``~`` None. Built once."""
    import re

    import yaml

    tags = {f"tag:yaml.org,2002:{t}" for t in ("bool", "int", "float", "null")}

    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {first: [(tag, rx) for tag, rx in pairs if tag not in tags]
                                      for first, pairs in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    for tag, pattern, first in (
        ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
        ("int", r"[-+]?[0-9]+", "-+0123456789"),
        ("float", r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
         "-+0123456789."),
        ("null", r"~|null|Null|NULL|None|", ["~", "n", "N", "", None]),
    ):
        Loader.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(f"^(?:{pattern})$"), list(first))
    Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: int(loader.construct_scalar(node)))
    return Loader


def parse_option_value(text: str) -> Any:
    """One ``--env-kwargs`` value: a YAML scalar, flow list or mapping read by ``_option_loader`` (``true`` a
    bool, ``-9.8`` and ``1e-3`` floats, ``8x8`` a string, ``[SFFF, FHFH]`` a list, ``{distance: 4.0}`` a
    mapping); an empty value is the empty string. ``yaml.YAMLError`` for text YAML cannot read."""
    import yaml

    return yaml.load(text, Loader=_option_loader()) if text.strip() else ""


def recordable(value: Any) -> bool:
    """Whether ``value`` is what config.json can hold and read back as it was: a string, bool, int,
    float other than NaN (``.inf``: gymnasium's MuJoCo envs have infinite bounds) or None, or a list of such
    values, or a mapping of names to them (MuJoCo's ``default_camera_config``)."""
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value  # NaN is not equal to itself: a run could not be compared with its record
    if isinstance(value, dict):
        return all(isinstance(k, str) and recordable(v) for k, v in value.items())
    return isinstance(value, list) and all(recordable(v) for v in value)
