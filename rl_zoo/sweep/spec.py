"""What a sweep runs: the swept fields and their values, the configs they make, and the compiled
groups those configs fall into. Everything here is checked before anything compiles.

The split of a Config's fields into numeric (traced) and static ones is the rule of
`rl_zoo.config` (`numeric_fields`): configs that differ only in numeric fields share one compiled
program, those values entering it as arrays; each distinct combination of swept static values is
its own group (its own program), which the sweep does only when asked (``static_groups``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rl_zoo.config import ConfigError, check_total_steps_once, config_owner, is_numeric, numeric_fields, parse_value



#: best.yaml's first line (``rl_zoo.sweep.report.best_yaml_header``) names the algorithm and env it was swept for:
#: ``rl-zoo train --config`` reads them (here, in a module light to import); the env may carry its options,
#: ``on CartPole-v1 (max_episode_steps=200), by the IQM`` (``rl_zoo.runs.env_label``); ``by the mean`` (over env values)
#: where the env's params were swept
BEST_YAML_HEADER = re.compile(r"# rl-zoo sweep: the best .* of (?P<algo>\S+) on (?P<env>\S+)(?: \(.*\))?, by the (?:IQM|mean)")
#: and, made with env options, its second line the train command that gives them (``note_config_env_kwargs`` reads it)
BEST_YAML_TRAIN_LINE = re.compile(r"^# train it on the same env: rl-zoo train .* --env-kwargs (?P<pairs>.*) --config best\.yaml$", re.M)

@dataclass(frozen=True)
class GridField:
    """``--grid name=v1,v2,...``: every value is crossed with every value of the other grid fields."""

    name: str
    values: tuple


@dataclass(frozen=True)
class RangeField:
    """``--range name=low:high[:log]``: ``--sample N`` draws N values, uniform (or log-uniform) in [low, high]."""

    name: str
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """A sweep as the command line gives it (what ``sweep.json`` stores, and what a re-run compares)."""

    algo: str
    env_id: str
    grid: tuple[GridField, ...] = ()
    ranges: tuple[RangeField, ...] = ()
    samples: int = 0
    sample_seed: int = 0
    seeds: int = 8
    seed: int = 0
    total_steps: int | None = None
    overrides: tuple[tuple[str, Any], ...] = ()
    num_evals: int = 10
    eval_episodes: int = 10
    static_groups: bool = False
    halving_eta: int = 0  # successive halving's reduction factor (0: off; `rl_zoo.sweep.halving`)
    halving_rungs: int = 0  # its rungs (0: as many as the configs allow)
    record: tuple[str, ...] = ()  # scalar fields of each update's Metrics kept per update (e.g. "kl")
    env_kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)  # the env's options (``--env-kwargs``), as
    # ``rl-zoo train`` takes them (``rl_zoo.driver.spec.make_env``); {}: its defaults

    @property
    def env_label(self) -> str:
        """The env with its options, as titles and the report name it: ``"CartPole-v1 (max_episode_steps=200)"``."""
        from rl_zoo.runs import env_label

        return env_label(self.env_id, self.env_kwargs)

    @property
    def env_kwargs_args(self) -> str:
        """The options as ``rl-zoo train`` takes them, each pair shell-quoted: ``" --env-kwargs max_episode_steps=200
        'desc=[SF, FG]'"`` (empty without options), to follow ``--env ENV_ID`` in a command line."""
        from rl_zoo.runs import env_kwargs_args

        return env_kwargs_args(self.env_kwargs)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.grid) + tuple(r.name for r in self.ranges)

    @property
    def env_fields(self) -> tuple[str, ...]:
        """The swept fields of the env's params (``env.gravity``), in spec order."""
        return tuple(n for n in self.fields if is_env_field(n))

    @property
    def config_fields(self) -> tuple[str, ...]:
        """The swept fields of the algorithm's Config, in spec order."""
        return tuple(n for n in self.fields if not is_env_field(n))

    @property
    def has_best(self) -> bool:
        """Whether the sweep chooses a best config: not when it sweeps only the env's params (every config is the
        same algorithm on another env)."""
        return not self.env_fields or bool(self.config_fields)

    def to_json(self) -> dict:
        """The fields, without those added after the first sweeps were written when they are at their
        defaults (so that a folder of an earlier sweep keeps its digest, and its sweep.json reads as
        one of no ``env_kwargs``: the env's default options)."""
        data = dataclasses.asdict(self)
        for name in LATER_FIELDS:
            if not data[name]:
                del data[name]
        return data

    def digest(self) -> str:
        """A short hash of the sweep as the command gives it. With the resolved base config (``sweep.json``'s
        ``base_config``, which the tuned hyperparameters can change) it decides the results: a re-run with
        the same digest and base config does no work."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True, default=str).encode()).hexdigest()[:16]


#: SweepSpec fields added after the first sweeps were written, with their defaults: ``to_json`` leaves them out
#: at those, and a sweep.json without one is read as having it there (``rl_zoo.sweep.folder.spec_changes``)
LATER_FIELDS = {"halving_eta": 0, "halving_rungs": 0, "record": [], "env_kwargs": {}}


#: a swept field named ``env.NAME`` is the float field NAME of the env's params (``env.gravity`` of CartPole-v1):
#: its values enter the program as arrays like a numeric config field's, each row stepping its own env
ENV_PREFIX = "env."


def is_env_field(name: str) -> bool:
    return name.startswith(ENV_PREFIX)


def env_param(name: str) -> str:
    """``"env.gravity"`` -> ``"gravity"``."""
    return name[len(ENV_PREFIX):]


@dataclass(frozen=True)
class Point:
    """One config of the sweep: its index, the swept fields' values, the resolved, validated Config."""

    index: int
    values: tuple[tuple[str, Any], ...]  # (field, value) for each swept field, in spec order
    config: Any

    def label(self) -> str:
        return ", ".join(f"{k}={_fmt(v)}" for k, v in self.values)

    @property
    def config_values(self) -> tuple[tuple[str, Any], ...]:
        """The swept Config fields' values (without the env's params): points equal in them are one setting of the algorithm."""
        return tuple((k, v) for k, v in self.values if not is_env_field(k))


@dataclass(frozen=True)
class Group:
    """Configs that share one compiled program: equal in every static field."""

    index: int
    static: tuple[tuple[str, Any], ...]  # the swept static fields' values of this group (empty: none swept)
    traced: tuple[str, ...]  # the swept numeric fields, which enter the program as arrays [configs * seeds]
    points: tuple[Point, ...]


def _fmt(v: Any) -> str:
    """A swept value as labels show it: a float in 4 significant digits, or as many more as tell it apart from every
    other float (``gamma=0.99995`` was labelled ``gamma=1``, a config never trained; 1.0001e-3 and 1.0004e-3 both
    ``0.001``)."""
    if not isinstance(v, float):
        return str(v)
    return next((text for digits in range(4, 18) if float(text := f"{v:.{digits}g}") == v), repr(v))


def parse_grid(text: str, config, algo: str | None = None) -> GridField:
    """``"learning_rate=1e-4,3e-4"`` -> ``GridField``, each value parsed by the field's type."""
    name, values = _split(text, "--grid", "NAME=V1,V2,...")
    items = [v.strip() for v in values.split(",")]
    if any(items) and not all(items):  # "1e-3," swept one value, "1e-3,,3e-3" two: a value left out, said
        raise ConfigError(f"--grid {text!r}: an empty value between commas; give NAME=V1,V2,...")
    if is_env_field(name):
        parsed = tuple(_env_value(name, v.strip(), f"--grid {text!r}") for v in values.split(",") if v.strip())
    else:
        field = _field(config, name, "--grid", algo)
        try:
            parsed = tuple(parse_value(field, v.strip()) for v in values.split(",") if v.strip())
        except ConfigError as e:
            raise ConfigError(f"--grid {text!r}: {e}") from None
    if not parsed:
        raise ConfigError(f"--grid {text!r}: no values after '='; give NAME=V1,V2,...")
    if len(set(parsed)) != len(parsed):
        raise ConfigError(f"--grid {text!r}: a value is repeated")
    with np.errstate(over="ignore"):  # a value beyond float32 is refused by name when its config is checked
        as_trained = [float(np.float32(v)) if isinstance(v, float) else v for v in parsed]  # floats enter as float32 arrays
    if sum(isinstance(v, float) and math.isinf(v) for v in as_trained) > 1:  # 1e39 and 2e39: both inf, said as one below
        return GridField(name, parsed)  # each config's check names the overflow
    if len(set(as_trained)) != len(as_trained):
        raise ConfigError(f"--grid {text!r}: a value is repeated as the sweep trains it (float32): two configs would be one")
    return GridField(name, parsed)


def parse_range(text: str, config, algo: str | None = None) -> RangeField:
    """``"learning_rate=1e-4:3e-3:log"`` -> ``RangeField`` (a numeric or integer field)."""
    name, rest = _split(text, "--range", "NAME=LOW:HIGH[:log]")
    if is_env_field(name):
        _env_value(name, "0", f"--range {text!r}")  # the name's form; its values are checked below
        kind = "float"
    else:
        field = _field(config, name, "--range", algo)
        kind = field.type if isinstance(field.type, str) else field.type.__name__
    if kind not in ("float", "int"):
        raise ConfigError(f"--range {name}: the field is {kind}; only number fields take a range (use --grid for its values)")
    parts = rest.split(":")
    if len(parts) not in (2, 3) or (len(parts) == 3 and parts[2] not in ("log", "lin")):
        raise ConfigError(f"--range {text!r}: expected NAME=LOW:HIGH or NAME=LOW:HIGH:log")
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(f"--range {text!r}: LOW and HIGH must be numbers") from None
    log = len(parts) == 3 and parts[2] == "log"
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"--range {text!r}: LOW and HIGH must be finite numbers (not inf or nan)")
    if not math.isfinite(high - low):
        raise ConfigError(f"--range {text!r}: HIGH - LOW overflows a float; give a narrower range")
    if not low < high:
        raise ConfigError(f"--range {text!r}: LOW must be below HIGH")
    if log and low <= 0:
        raise ConfigError(f"--range {text!r}: a log scale needs LOW > 0")
    return RangeField(name, low, high, log)


def _split(text: str, flag: str, form: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfigError(f"{flag} {text!r}: expected {form}")
    name, rest = text.split("=", 1)
    return name.strip(), rest.strip()


def _env_value(name: str, text: str, where: str) -> float:
    """A value of a swept env param (``env.NAME``): a finite number (whether the env has the field, takes the
    value and can trace it is checked against the env, `rl_zoo.sweep.env_fields`)."""
    if not env_param(name).isidentifier():
        raise ConfigError(f"{where}: {name!r} names no field of the env's params; give env.NAME, e.g. env.gravity "
                          f"(`rl-zoo envs ID` lists an env's options)")
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a number: {name} can only sweep a float field of the env's params; "
                          f"an option that is a switch or a name takes one value per sweep: --env-kwargs "
                          f"{env_param(name)}=VALUE") from None
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {text!r} is not a finite number")
    if abs(value) > float(np.finfo(np.float32).max):  # the sweep trains it as a float32, like every traced value
        raise ConfigError(f"{where}: {text} overflows a float32 (the sweep's arrays): give a value below 3.4e38")
    return value


def _field(config, name: str, flag: str, algo: str | None = None) -> dataclasses.Field:
    """``config``'s field ``name``; else a ``ConfigError`` naming the algorithm (``algo`` as the user gave it, else
    the config's module) and its fields."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    if name not in fields:
        import difflib

        close = difflib.get_close_matches(name, fields, 1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{flag}: unknown config field {name!r}{hint} for {config_owner(config, algo)}; "
                          f"numeric (traced) fields: {', '.join(numeric_fields(config))}; all fields: {', '.join(sorted(fields))}")
    return fields[name]


def sample_values(ranges: tuple[RangeField, ...], samples: int, seed: int, config) -> list[tuple]:
    """``samples`` distinct random points, one value per range field: floats uniform (log-uniform where
    asked) and rounded to 4 significant digits, kept inside ``[low, high]``; ints uniform over the whole
    numbers in ``[low, high]`` (log-uniform where asked, then rounded). A draw that rounds to an earlier
    point is drawn again, so that no config is trained twice; a range too narrow for ``samples``
    distinct points is refused."""
    rng = np.random.default_rng(seed)
    kinds = [float if is_env_field(r.name) else _field(config, r.name, "--range").type for r in ranges]
    ints = [(k if isinstance(k, str) else k.__name__) == "int" for k in kinds]
    for r, is_int in zip(ranges, ints):
        if is_int and math.ceil(r.low) > math.floor(r.high):
            raise ConfigError(f"--range {r.name}={r.low:g}:{r.high:g}: no whole number in the range, and {r.name} is an integer")

    def one(r: RangeField, is_int: bool):
        if is_int and not r.log:
            return int(rng.integers(math.ceil(r.low), math.floor(r.high) + 1))
        v = math.exp(rng.uniform(math.log(r.low), math.log(r.high))) if r.log else rng.uniform(r.low, r.high)
        if is_int:
            return min(max(int(round(v)), math.ceil(r.low)), math.floor(r.high))
        return min(max(float(f"{v:.4g}"), r.low), r.high)  # rounding may step past a bound (0.99999 -> 1.0)

    def draw() -> tuple:
        return tuple(one(r, is_int) for r, is_int in zip(ranges, ints))

    points: list[tuple] = []
    for _ in range(100 * samples):
        row = draw()
        if row not in points:
            points.append(row)
            if len(points) == samples:
                return points
    raise ConfigError(f"--sample {samples}: the --range fields gave only {len(points)} distinct configs in "
                      f"{100 * samples} draws (ints round to whole numbers, floats to 4 significant digits); "
                      "widen the ranges or ask for fewer samples")


def build_points(spec: SweepSpec, base, validate_one) -> list[Point]:
    """Every config of the sweep: the grid crossed with the sampled points, each validated concretely
    by ``validate_one(values) -> Config`` (which raises naming the field and the rule)."""
    if spec.ranges and spec.samples < 1:
        raise ConfigError("--range needs --sample N, N >= 1 (how many random configs to draw)")
    if spec.samples and not spec.ranges:
        raise ConfigError("--sample N needs at least one --range NAME=LOW:HIGH[:log]")
    if not spec.grid and not spec.ranges:
        raise ConfigError("nothing to sweep: give --grid NAME=V1,V2,... and/or --sample N with --range NAME=LOW:HIGH[:log]")
    names = spec.fields
    if len(set(names)) != len(names):
        raise ConfigError(f"a field is swept twice: {', '.join(names)}")
    check_fixed(spec)
    grid = list(itertools.product(*(g.values for g in spec.grid)))
    sampled = sample_values(spec.ranges, spec.samples, spec.sample_seed, base) if spec.ranges else [()]
    points = []
    for g, s in itertools.product(grid, sampled):
        values = tuple(zip(names, g + s))
        try:
            config = validate_one(dict(values))
        except ConfigError as e:
            raise ConfigError(f"sweep config {', '.join(f'{k}={_fmt(v)}' for k, v in values)}: {e}") from None
        points.append(Point(len(points), values, config))
    return points


def check_fixed(spec: SweepSpec) -> None:
    """A swept field cannot also be fixed for every config (``--set``, or ``--total-steps`` for
    ``total_timesteps``): the sweep's values would silently replace the fixed one. Nor can
    ``--total-steps`` and ``--set total_timesteps=`` both be given (as ``rl-zoo train`` refuses: the
    first won without a word, and sweep.json kept the other)."""
    check_total_steps_once(spec.total_steps, dict(spec.overrides))
    fixed = {name: "--set" for name, _ in spec.overrides}
    if spec.total_steps is not None:
        fixed["total_timesteps"] = "--total-steps"
    swept = {**{r.name: "--range" for r in spec.ranges}, **{g.name: "--grid" for g in spec.grid}}
    both = [n for n in swept if n in fixed]
    if both:
        raise ConfigError("; ".join(f"{fixed[n]} fixes {n}, which {swept[n]} sweeps" for n in both)
                          + ": the swept values would replace the fixed one; drop one of the two")


def check_static(spec: SweepSpec, base) -> None:
    """Swept static fields are refused, with the reason, unless ``spec.static_groups``."""
    fields = {f.name: f for f in dataclasses.fields(base)}
    static = [n for n in spec.config_fields if not is_numeric(fields[n])]
    if static and not spec.static_groups:
        kinds = ", ".join(f"{n} ({fields[n].type})" for n in static)
        raise ConfigError(
            f"{kinds}: static field(s), which set array shapes, loop lengths or branches, so their values cannot "
            f"share one compiled program. Pass --static-groups to compile one program per combination of their values "
            f"(run one after another), or sweep only numeric fields: {', '.join(numeric_fields(base))}"
        )


def group_points(points: list[Point], spec: SweepSpec, base) -> list[Group]:
    """Split the configs into compiled groups by their swept static fields (`check_static` first)."""
    check_static(spec, base)
    fields = {f.name: f for f in dataclasses.fields(base)}
    static = [n for n in spec.config_fields if not is_numeric(fields[n])]
    traced = tuple(n for n in spec.fields if is_env_field(n) or is_numeric(fields[n]))  # an env param: a float
    groups: dict[tuple, list[Point]] = {}
    for p in points:
        key = tuple((n, v) for n, v in p.values if n in static)
        groups.setdefault(key, []).append(p)
    return [Group(i, key, traced, tuple(ps)) for i, (key, ps) in enumerate(groups.items())]

