"""Typed, documented, validated configs shared by every algorithm.

A config is a frozen dataclass whose fields each carry a docstring (the string literal right after
the field, as in cleanrl's ``Args``); ``field_docs`` reads them back for ``rl-zoo train --help``.
``validate`` methods raise ``ConfigError`` naming the field, the value and the rule, before
anything is compiled.

Traced hyperparameters (the one rule every Config follows; `numeric_fields`, `static_fields`): a
field declared ``float`` is *numeric*: it only changes numbers in the compiled program (learning
rates, gamma, lambda, clip range, coefficients, KL targets, max_kl, epsilon schedule values), so it
may enter the program as an array, a tracer inside ``jax.vmap`` or ``jax.jit``, and one program
serves many of its values (``rl-zoo sweep``). Every other field (``int``, ``bool``, ``str``) is
*static*: sizes and counts set array shapes and loop lengths, booleans and strings pick branches, so
each value needs its own compiled program. A float field that the code does use as structure would
say so with ``dataclasses.field(metadata={"static": True})``; none does today. ``check`` lets
tracers through, so ``validate()`` runs inside a vmapped ``make_agent``; concrete values are
validated before compiling.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import inspect
import os
import textwrap
from pathlib import Path
from typing import Any


def _traced(x: Any) -> bool:
    import sys

    jax = sys.modules.get("jax")  # a tracer can only exist once jax is imported
    return jax is not None and isinstance(x, jax.core.Tracer)


class ConfigError(ValueError):
    """An impossible config: the message names the field, the value and the rule; ``field`` is the config
    field's name where one field is refused (``check``, ``check_types``), else ``None``."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def check_config_class(config: Any, expected: type) -> None:
    """Refuse a ``config`` that is not an ``expected`` (an algorithm's ``Config``) before it is read: a dict,
    or another algorithm's Config, failed on some attribute deep inside ``make_agent``."""
    if not isinstance(config, expected):
        raise ConfigError(f"config is a {type(config).__module__}.{type(config).__qualname__}, not the "
                          f"{expected.__module__}.{expected.__qualname__} this algorithm takes: build one with "
                          f"{expected.__qualname__}(field=value, ...), or rl_zoo.driver.spec.resolve_config(algo, env_id, overrides)")


#: seeds enter the compiled programs as int32 (negative seeds are valid run seeds)
MIN_SEED, MAX_SEED = -(2**31), 2**31 - 1


def check_seed_range(seed: int, seeds: int = 1, flag: str = "--seed") -> None:
    """Refuse a first seed ``seed`` whose ``seeds`` seeds (``seed`` .. ``seed + seeds - 1``) are not all
    int32, naming ``flag``: past it, ``jnp.arange`` of the seeds overflowed (a traceback, or a seed
    silently wrapped to -2**31)."""
    if seed < MIN_SEED or seed + seeds - 1 > MAX_SEED:
        span = f"{seed}" if seeds == 1 else f"{seed} to {seed + seeds - 1}"
        raise ConfigError(f"{flag} = {seed} is invalid: seeds must lie in {MIN_SEED:,} .. {MAX_SEED:,} (int32): "
                          f"asked for {span}")


def whole_number(text: str) -> int:
    """A count typed on the command line: ``100000``, ``100_000`` or ``1e5`` (a float that is a whole number,
    as ``--set`` takes it and the help texts write budgets); ``ValueError`` for anything else (``1.5e3`` is
    1500, ``2.5`` is refused; underscores as Python writes them, between digits: ``_6_4`` and ``1_000_`` are refused,
    where stripping every underscore took them as 64 and 1000). The argparse ``type`` of ``--total-steps``."""
    cleaned = str(text).strip()
    try:
        return int(cleaned)
    except ValueError:
        pass
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if not value.is_integer():  # also NaN and the infinities
        raise ValueError(f"{text!r} is not a whole number")
    if abs(value) >= 2**63:  # 1e308 is a whole number of 309 digits, which no count is
        raise ValueError(f"{text!r} is too large a count")
    return int(value)


def check_int_args(values: dict[str, Any]) -> list[int | None]:
    """``values`` (flag -> value; ``None`` = not given) as Python ints, in order; a value that is not an
    integer is refused naming its flag (a bool or a float from Python: ``train(seeds=1.5)`` made a run
    directory, wrote config.json, then failed deep in numpy, and its resume refused the config.json it had
    written). A numpy integer becomes an int (it failed writing config.json)."""
    import numbers

    for flag, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral)):
            raise ConfigError(f"{flag} = {value!r} is invalid: must be an integer")
    return [None if value is None else int(value) for value in values.values()]


def check_bools(values: dict[str, Any]) -> None:
    """Refuse a value of ``values`` (name -> value) that is not True or False (numpy's too): a string is truthy, and
    ``run_sweep(rerun="no")`` replaced the results of another sweep in its folder."""
    import numpy as np

    for name, value in values.items():
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"{name} = {value!r} is invalid: must be True or False")


def check_overrides(overrides: Any) -> dict[str, Any]:
    """``overrides`` (``--set``'s values from Python) as a dict: a mapping of config field to value, or ``None``."""
    from collections.abc import Mapping

    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"overrides must map config fields to values (a dict such as {{'learning_rate': 3e-4}}), "
                          f"got a {type(overrides).__name__}: {overrides!r}")
    return dict(overrides)


def check_total_steps_once(total_steps: int | None, overrides: dict[str, Any]) -> None:
    """``--total-steps N`` and ``--set total_timesteps=M`` together are refused (train and sweep): one
    silently won over the other."""
    if total_steps is not None and "total_timesteps" in overrides:
        raise ConfigError(f"--total-steps {total_steps} and --set total_timesteps={overrides['total_timesteps']} "
                          "say the same thing twice: give one")


def parse_env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """``rl-zoo train --env-kwargs KEY=VALUE ...`` as ``{KEY: VALUE}``, each value read by
    ``envs.options.parse_option_value``; a pair without ``=``, an empty key or a key given twice is refused,
    naming it."""
    import yaml

    from envs.options import parse_option_value

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--env-kwargs expects KEY=VALUE pairs (continuous=true, map_name=8x8), got {pair!r}")
        if key in out:
            raise ConfigError(f"--env-kwargs {key} is given twice: give it once")
        try:
            out[key] = parse_option_value(text)
        except yaml.YAMLError as e:
            raise ConfigError(f"--env-kwargs {key}={text}: not a value YAML can read ({' '.join(str(e).split())})") from None
    return check_env_kwargs(out, "--env-kwargs")


def check_env_kwargs(env_kwargs: Any, where: str = "env_kwargs") -> dict[str, Any]:
    """``env_kwargs`` (the env's options, ``envs.make``'s overrides: ``continuous=True``, a physical
    constant, ``max_episode_steps``) as a dict whose keys are names and whose values config.json records
    exactly (strings, numbers, booleans, None, lists; a tuple becomes a list), the time limit named
    ``max_episode_steps`` (a port's ``max_steps_in_episode`` renamed); ``ConfigError`` naming ``where`` otherwise. Whether the env takes them is the env's to say (``envs.make``)."""
    from collections.abc import Mapping

    from envs.options import plain, recordable

    if env_kwargs is None:
        return {}
    if not isinstance(env_kwargs, Mapping):
        raise ConfigError(f"{where} must map option names to values (a dict such as {{'continuous': True}}), got a "
                          f"{type(env_kwargs).__name__}: {env_kwargs!r}")
    out = {}
    for key, value in env_kwargs.items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ConfigError(f"{where}: {key!r} is not an option name (a keyword argument of the env)")
        if key == "render_mode":
            raise ConfigError(f"{where}: render_mode is not an option of a run's env: its envs train undrawn, and "
                              f"`rl-zoo enjoy RUN --record FILE` or `rl-zoo train --record-video` draw episodes")
        value = plain(value)  # tuples as lists, NumPy numbers as Python's, within lists and mappings too
        if not recordable(value):
            quote = f"; quote text that YAML reads otherwise, {key}='\"...\"'" if where == "--env-kwargs" else ""
            raise ConfigError(f"{where}: {key}={value!r} is not a value a run can record (a string, a number other than "
                              f"NaN, a boolean, None, or a list or a mapping of them{quote})")
        out[key] = value
    if "max_steps_in_episode" in out:  # a port's name for the time limit: recorded by gymnasium's, as `rl-zoo envs` lists it
        if "max_episode_steps" in out:
            raise ConfigError(f"{where}: give the time limit once, max_episode_steps (or max_steps_in_episode), not both")
        out = {"max_episode_steps" if k == "max_steps_in_episode" else k: v for k, v in out.items()}
    return out


def unread_notes(config, unread: dict[str, str]) -> list[str]:
    """A note for each field of ``unread`` (name -> why this config's other settings do not read it) whose value is not
    the Config's default: a value given (``--set``, a config file, a tuned block) that the run would ignore without a
    word, while config.json recorded it as if it applied (``learning_rate_end`` under a constant learning rate). A
    swept (traced) value has no concrete value to compare: left out."""
    default = type(config)()
    notes = []
    for name, why in unread.items():
        value = getattr(config, name)
        if isinstance(value, (bool, int, float, str)) and value != getattr(default, name):
            notes.append(f"note: {name} = {value!r} is not read: {why}")
    return notes


def check(ok: bool, field: str, value: Any, rule: str) -> None:
    if _traced(ok):  # a hyperparameter vmapped or jitted over: no concrete value to check here
        return
    if not ok:
        raise ConfigError(f"config field {field!r} = {value!r} is invalid: {rule}", field=field)


def _kind(field: dataclasses.Field) -> str:
    return field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))


def is_numeric(field: dataclasses.Field) -> bool:
    """The rule (module docstring): a ``float`` field is numeric (may be traced) unless its metadata
    says ``static``; every other field is static."""
    return _kind(field) == "float" and not field.metadata.get("static", False)


def numeric_fields(config) -> tuple[str, ...]:
    """Names of the numeric (traceable) fields of a Config class or instance, in declaration order."""
    return tuple(f.name for f in dataclasses.fields(config) if is_numeric(f))


def static_fields(config) -> tuple[str, ...]:
    """Names of the static fields (shapes, counts, branches) of a Config class or instance."""
    return tuple(f.name for f in dataclasses.fields(config) if not is_numeric(f))


def field_docs(cls) -> dict[str, str]:
    """Map each dataclass field of ``cls`` (and its bases) to the docstring written under it."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body
        for node, nxt in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def parse_value(field: dataclasses.Field, text: str) -> Any:
    """Parse ``text`` as the type of ``field`` (bool, int, float, str, or ``None``)."""
    kind = _kind(field)
    if text.lower() in ("none", "null") and "None" in kind:
        return None
    if "bool" in kind:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"config field {field.name!r}: expected a boolean (true/false), got {text!r}")
    try:
        if "int" in kind and "float" not in kind:
            return whole_number(text)  # 100000, 100_000 or 1e5, as --total-steps takes them
        if "float" in kind:
            return float(text)
    except ValueError:
        raise ConfigError(f"config field {field.name!r}: expected {kind}, got {text!r}") from None
    return text


def config_owner(config, algo: str | None = None) -> str:
    """Whose config an "unknown config field" names: ``algo`` as the user gave it (``double-q-learning``), else the
    config's module (``q_learning``)."""
    return algo or type(config).__module__.split(".")[-1]


def apply_overrides(config, overrides: dict[str, Any], algo: str | None = None):
    """Replace fields of ``config``; an unknown key names the valid ones (and ``algo``, the algorithm's name as the
    user gave it, else the config's module: ``--algo double-q-learning`` is not "q_learning" to them). Strings are
    parsed by type."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    unknown = [k for k in overrides if k not in fields]
    if unknown:
        import difflib

        def hint(key) -> str:
            if not isinstance(key, str):  # train(overrides={1: 2}) was an AttributeError
                return f"{key!r} (a field is named by a string)"
            if key.startswith("env."):  # the env's param, as a sweep names it: not a config field
                return f"{key!r} (the env's {key[4:]}: give it with --env-kwargs {key[4:]}=VALUE, or sweep it with --grid {key}=V1,V2)"
            close = difflib.get_close_matches(key, fields, 1)
            return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)

        hints = [hint(k) for k in unknown]
        raise ConfigError(
            f"unknown config field {', '.join(hints)} for {config_owner(config, algo)}; "
            f"valid fields: {', '.join(sorted(fields))}"
        )
    values = {k: parse_value(fields[k], v) if isinstance(v, str) else _float_field_value(fields[k], python_scalar(v))
              for k, v in overrides.items()}
    return dataclasses.replace(config, **values)


def _float_field_value(field: dataclasses.Field, value):
    """A number given for a float field as a float, as ``--set`` parses one: ``gamma: 1`` from a file or
    ``overrides={"gamma": 1}`` was recorded as 1 where ``--set gamma=1`` wrote 1.0, and a ``Fraction(1, 1000)`` passed
    the type check, then was written to config.json as the string "1/1000" and failed the run (its resume refused
    the string). Anything else (a bool, a tracer, an int too large for a float, another field's value) as it is,
    for ``check_types`` to judge."""
    import numbers

    kind = _kind(field)
    if (not kind.startswith("float") or isinstance(value, (bool, float)) or not isinstance(value, numbers.Real)
            or _is_tracer(value)):
        return value
    try:
        return float(value)
    except OverflowError:  # 10**400: check_types says "a finite number"
        return value


def python_scalar(value):
    """A 0-d numpy or concrete JAX value (``np.int64(4)``, ``np.array(1e-3)``, ``np.bool_(False)``,
    ``jnp.float32(1e-3)``) as the Python number it holds: kept as it was, it passed the type checks (a JAX one taken
    for a tracer) and then broke config.json (not JSON serializable) after the run directory was made, leaving one
    its resume refused. Anything else (a tracer too) as it is."""
    import numpy as np

    concrete_jax = hasattr(value, "aval") and not _is_tracer(value)
    return value.item() if (isinstance(value, (np.ndarray, np.generic)) or concrete_jax) and np.ndim(value) == 0 else value


def _is_tracer(value) -> bool:
    """Whether ``value`` is a JAX tracer (a field vmapped or jitted over); JAX is imported only for a JAX value."""
    if not hasattr(value, "aval"):
        return False
    import jax

    return isinstance(value, jax.core.Tracer)


def to_dict(config) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _finite(value) -> bool:
    """``math.isfinite``, but False for an int too large to be a float (10**400), where it raises."""
    import math

    try:
        return math.isfinite(value)
    except OverflowError:
        return False


#: the smallest normal float32: XLA's CPU flushes smaller (subnormal) numbers to 0
FLOAT32_TINY = 1.1754944e-38
#: the largest finite float32
FLOAT32_MAX = 3.4028235e38


def float32_problem(value) -> str | None:
    """What goes wrong with a finite number ``value`` where JAX computes, in float32 (``None``: nothing): past
    ``FLOAT32_MAX`` it becomes infinite; a nonzero value under ``FLOAT32_TINY`` in size becomes 0 (a subnormal
    is flushed to 0 on XLA's CPU). Said as the end of "X = 1e-50 ...", e.g. "is 0 in float32 ..."."""
    size = abs(float(value))
    if size > FLOAT32_MAX:
        return f"overflows float32, where JAX computes it (infinite there): give a value at most {FLOAT32_MAX:.1e} in size"
    if 0 < size < FLOAT32_TINY:
        return (f"is 0 in float32, where JAX computes it (under float32's smallest normal number, {FLOAT32_TINY:.1e}): "
                f"give a value at least {FLOAT32_TINY:.1e} in size")
    return None


#: integer fields and the counts derived from them stay below this: JAX computes in 32-bit integers
INT32_LIMIT = 2**31


def check_step_count(count: int, name: str, value, what: str) -> None:
    """Refuse a derived count (optimiser steps: the learning-rate schedule's length) at or over 2**31, which
    JAX's 32-bit integers cannot hold: it failed inside compilation, after the run directory was made.
    ``name``/``value``: the field to blame (usually total_timesteps)."""
    if isinstance(count, int):  # concrete (a vmapped field is a tracer)
        check(count < INT32_LIMIT, name, value, f"makes {what} = {count:,}, over JAX's 32-bit integer limit of "
              f"2**31 = {INT32_LIMIT:,}")


def check_types(config, prefix: str = "") -> None:
    """Every field holds a value of its declared type (bool, int, float, str; ``X | None``); a field
    holding a dataclass is left to its own check (the error names a field as ``prefix + name``).

    An int is accepted for a float field; a bool is never accepted for a number, nor NaN or an
    infinity for a float field (no hyperparameter means "unbounded" by ``inf``: such a run would only
    reach the NaN guard). Tracers (a float field vmapped over) are let through.
    """
    import numbers

    for f in dataclasses.fields(config):
        value = python_scalar(getattr(config, f.name))  # np.array(1e-3), np.bool_(True)
        kind = _kind(f)
        if value is None and "None" in kind:
            continue
        if _is_tracer(value):  # a float field vmapped over (a concrete jax scalar is a number: `python_scalar`)
            continue
        if kind.startswith("bool"):
            ok, name = isinstance(value, bool), "a boolean"
        elif kind.startswith("int"):
            ok, name = isinstance(value, numbers.Integral) and not isinstance(value, bool), "an integer"
            if ok and not -INT32_LIMIT <= value < INT32_LIMIT:  # JAX's default integers: it would fail in compilation
                ok, name = False, f"an integer below 2**31 = {INT32_LIMIT:,} (JAX's 32-bit integers)"
        elif kind.startswith("float"):
            ok, name = isinstance(value, numbers.Real) and not isinstance(value, bool), "a number"
            if ok and not _finite(value):  # NaN, +-inf, or an int too large for a float
                ok, name = False, "a finite number (not NaN or infinite)"
            elif ok and (problem := float32_problem(value)):  # 1e40 trained as inf, 1e-50 as 0 (below a rule's "> 0")
                raise ConfigError(f"config field {prefix + f.name!r} = {value!r} {problem}", field=prefix + f.name)
        elif kind.startswith("str"):
            ok, name = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise ConfigError(f"config field {prefix + f.name!r} = {value!r} is invalid: must be {name}", field=prefix + f.name)


#: within ``one_read_per_file``: the text of each ``--config`` file read, by its path; ``None`` outside
_READ_ONCE: dict[str, str] | None = None


@contextlib.contextmanager
def one_read_per_file():
    """Within the block (one ``rl-zoo`` command, ``rl_zoo.cli.main``), each ``--config`` file is read once and its
    text kept for the block's later reads: a command reads its ``--config`` more than once (train: the fields, then
    a run's env options to note; sweep: its spec before JAX starts, then again), and the second read of a pipe
    (``--config <(...)``, ``/dev/stdin``) was empty: "holds nothing", exit 2. Outside, every read is fresh (a named
    FIFO fed again gives its new text)."""
    global _READ_ONCE
    outer = _READ_ONCE
    _READ_ONCE = {} if outer is None else outer
    try:
        yield
    finally:
        _READ_ONCE = outer


def read_file_once(path) -> str:
    """The text of the file ``path`` (a byte-order mark dropped), as first read within ``one_read_per_file``."""
    if _READ_ONCE is not None and os.fspath(path) in _READ_ONCE:
        return _READ_ONCE[os.fspath(path)]
    text = Path(path).read_text(encoding="utf-8-sig")
    if _READ_ONCE is not None:
        _READ_ONCE[os.fspath(path)] = text
    return text
