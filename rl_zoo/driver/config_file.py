"""``rl-zoo train --config FILE`` (and ``sweep --config``): the config fields a YAML or JSON file sets for an
algorithm on an env, in any of the three forms the library writes (``rl_zoo/hyperparams/<algo>.yaml``'s
``ENV_ID:`` blocks, a sweep's ``best.yaml``, a run's ``config.json``) or as plain ``field: value`` lines."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from rl_zoo.config import ConfigError, apply_overrides, check_types, read_file_once


def read_config_file(path: str | os.PathLike, algo: str, env_id: str) -> dict[str, Any]:
    """The config fields a file sets for ``algo`` on ``env_id`` (``rl-zoo train --config FILE``), checked
    against ``algo``'s fields. The file is YAML (or JSON) in one of three forms:

    * ``ENV_ID:`` blocks of ``field: value`` lines, as ``rl_zoo/hyperparams/<algo>.yaml`` and a sweep's
      ``best.yaml`` are written: ``env_id``'s block;
    * ``field: value`` lines alone: for any env;
    * a run's ``config.json``: its resolved config, if the run was of ``algo`` on ``env_id``.

    The caller puts them on the tuned values, under ``--set`` and ``--total-steps``. A ``ConfigError``
    names the file and what is wrong in it (not found, not a mapping, no block for ``env_id``, an unknown
    field or a value of the wrong type) before anything compiles.
    """
    from rl_zoo import algos
    from rl_zoo.driver.spec import check_driver_fields

    where = f"--config {path}"
    text, data = read_mapping(path, where)
    module = algos.get(algo)[0]
    from rl_zoo.sweep.spec import BEST_YAML_HEADER

    if (swept := BEST_YAML_HEADER.match(text)) and swept["algo"] != algo:  # a ppo best.yaml would mostly train as dqn's too
        raise ConfigError(f"{where} is a sweep's best config of {swept['algo']} (its first line says so), not of {algo}: "
                          f"give --algo {swept['algo']}")
    values = _config_of(data, algo, env_id, module, where)
    fields = {f.name: f for f in dataclasses.fields(module.Config)}
    for key, value in values.items():
        if not isinstance(key, str):
            raise ConfigError(f"{where}: the key {key!r} is not a field name (YAML reads true and false as booleans, "
                              f"and bare numbers as numbers: quote it)")
        if key in fields and "int" in str(fields[key].type) and isinstance(value, float) and value.is_integer():
            values[key] = int(value)  # 100000.0, as --set and --total-steps take 1e5
    try:
        check_driver_fields(algo, values, f"{where}:")
        check_types(apply_overrides(module.Config(), values, algo))  # unknown fields, values of the wrong kind: said with the file
    except ConfigError as e:
        raise ConfigError(str(e) if str(e).startswith(where) else f"{where}: {e}") from None
    return values


class _KeyTwice(ValueError):
    pass


def _no_key_twice(pairs: list[tuple]) -> dict:
    """A JSON object's pairs as a dict; a key given twice refused (``json`` keeps the last silently)."""
    out = {}
    for key, value in pairs:
        if key in out:
            raise _KeyTwice(f"the key {key!r} is given twice (the last would win silently)")
        out[key] = value
    return out


def _file_loader():
    """The YAML loader of ``--config`` files: ``--env-kwargs``'s (YAML 1.2's scalars: ``016`` sixteen, as
    ``--set`` reads it, not YAML 1.1's octal 14; ``1e-3`` a float), refusing a key given twice in a mapping (a key
    that overrides one a merge ``<<: *base`` brings is not twice: rl_zoo/hyperparams' files do so)."""
    import yaml

    from envs.options import _option_loader

    class Loader(_option_loader()):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: its keys may be set again below it
                    continue
                key = self.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)):  # a list as a key: construct_mapping's own error
                    continue
                if key in seen:
                    raise yaml.constructor.ConstructorError(None, None, f"the key {key!r} is given twice (the last would "
                                                            "win silently)", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return Loader


def read_mapping(path, where: str) -> tuple[str, dict]:
    """``(text, mapping)`` of a ``--config`` file (a byte-order mark dropped); ``ConfigError`` for a file that is
    missing, a folder, unreadable, not YAML (with the line and column), not a non-empty mapping, or one with a key
    given twice. A file that is JSON (a run's config.json) is read as JSON; YAML is read with YAML 1.2's numbers
    (``_file_loader``)."""
    import json

    import yaml

    try:
        text = read_file_once(path)
    except FileNotFoundError:
        raise ConfigError(f"{where}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{where}: a folder, not a file (a sweep's best.yaml, or a run's config.json)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot be read ({e})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_key_twice)
    except _KeyTwice as e:
        raise ConfigError(f"{where}: {e}") from None
    except ValueError:  # not JSON: YAML (of which JSON's own numbers are a superset only in YAML 1.2)
        data = None
    try:
        data = yaml.load(text, Loader=_file_loader()) if data is None else data
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        said = getattr(e, "problem", None) or str(e).splitlines()[0]
        if isinstance(e, yaml.constructor.ConstructorError) and "given twice" in said:  # YAML, but not a config
            raise ConfigError(f"{where}{at.replace(' at', ',')}: {said}") from None
        raise ConfigError(f"{where} is not YAML{at}: {said}") from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{where} holds {'nothing' if data is None else 'no mapping'}: it should map config fields "
                          f"to values (learning_rate: 0.001), or env ids to blocks of them, as a sweep's best.yaml does")
    return text, data


def _config_of(data: dict, algo: str, env_id: str, module, where: str) -> dict:
    """The ``field: value`` mapping a ``--config`` file's ``data`` holds for ``env_id``, by its form."""
    import re

    fields = {f.name for f in dataclasses.fields(module.Config)}
    if {"algo", "env", "config"} <= set(data):  # a run's config.json
        if (data["algo"], data["env"]) != (algo, env_id):
            raise ConfigError(f"{where} is the config of a run of {data['algo']} on {data['env']}; give --algo "
                              f"{data['algo']} --env {data['env']} to train it again")
        if not isinstance(data["config"], dict):
            raise ConfigError(f"{where}: the config should map fields to values, got {data['config']!r}")
        only_make_train = getattr(module, "MAKE_TRAIN_ONLY", {})  # at their defaults in any run's config: not set again
        return {k: v for k, v in data["config"].items() if k not in only_make_train}
    if {"digest", "spec", "groups"} <= set(data):  # a sweep's sweep.json: it was "mixes config fields with blocks"
        raise ConfigError(f"{where} is a sweep's plan (sweep.json), not a config: give the best.yaml beside it (the best "
                          f"config the sweep found), or a run's config.json")
    looks_like_ids = all(isinstance(k, str) and re.search(r"-v\d+$", k) for k in data)
    blocks = (all(isinstance(v, dict) or v is None for v in data.values()) and not set(data) & fields
              and (looks_like_ids or any(isinstance(v, dict) for v in data.values())))
    if blocks:
        if env_id not in data:
            raise ConfigError(f"{where} has no block for {env_id} (it has {', '.join(map(str, data))}): give --env with "
                              f"one of those, or add a block {env_id}: with the fields")
        values = data[env_id] or {}
        if not isinstance(values, dict):
            raise ConfigError(f"{where}: the config should map fields to values, got {values!r}")
        return dict(values)
    if any(isinstance(v, dict) for v in data.values()):
        raise ConfigError(f"{where} mixes config fields with blocks: give either field: value lines, or ENV_ID: blocks "
                          f"of them")
    return dict(data)
