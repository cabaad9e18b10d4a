"""A sweep's output folder: whether it holds this sweep (``check_folder``: the command's spec, the base config and
the env's params it resolved to, the evaluation segments its finished parts trained along), claiming it
(``claim_folder``: ``sweep.json``), and reading a finished group back (``read_group``). `rl_zoo.sweep.run_sweep`
calls them under the folder's lock; ``rl-zoo sweep --dry-run`` calls the checks, which write nothing."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rl_zoo import runs
from rl_zoo.config import ConfigError
from rl_zoo.sweep.spec import LATER_FIELDS, SweepSpec, env_param, is_env_field

if TYPE_CHECKING:
    from rl_zoo.sweep import SweepPlan
    from rl_zoo.sweep.runner import GroupResult


def base_config_changes(saved: dict, base, swept: tuple[str, ...] = ()) -> list[str]:
    """The fields whose value in ``saved`` (``sweep.json``'s ``base_config``) differs from the resolved
    ``base`` config, as ``"name: old -> new"``. Fields only one side has (a Config field added or
    removed since) are not compared, nor the ``swept`` ones, which every config sets (pasting the
    sweep's ``best.yaml`` into the tuned file changes them and no trained config)."""
    now = json.loads(json.dumps(dataclasses.asdict(base), default=str))  # as sweep.json stores it
    return [f"{k}: {saved[k]!r} -> {now[k]!r}" for k in sorted(now)
            if k in saved and k not in swept and saved[k] != now[k]]


def env_params_record(env_params) -> dict[str, Any]:
    """The env's params as ``sweep.json`` records them (``env_params``): a number as it is, an array (a toy-text
    env's transition table) as its shape and a digest of its bytes, so that a table of 100 KB is a short line."""
    import hashlib

    record = {}
    for f in dataclasses.fields(env_params):
        value = np.asarray(getattr(env_params, f.name))
        record[f.name] = value.item() if value.ndim == 0 else \
            f"array {list(value.shape)} {value.dtype} sha256:{hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()[:16]}"
    return record


def env_params_changes(saved: dict, env_params, swept: tuple[str, ...] = ()) -> list[str]:
    """The fields whose value in ``saved`` (``sweep.json``'s ``env_params``) differs from ``env_params`` (the env
    made with the sweep's options now), as ``"name: old -> new"``: the same command after a release changed a
    port's constants is another sweep. Fields only one side has, and the swept ``env.NAME`` ones, are not compared."""
    now = json.loads(json.dumps(env_params_record(env_params)))  # as sweep.json stores it
    swept_names = {env_param(name) for name in swept if is_env_field(name)}
    return [f"{k}: {saved[k]!r} -> {now[k]!r}" for k in sorted(now)
            if k in saved and k not in swept_names and saved[k] != now[k]]


#: what a finished sweep writes beside sweep.json and groups/ (``--rerun`` removes them first)
RESULT_FILES = ("report.md", "best.yaml", "runs.csv", "configs.csv", "curves.csv", "halving.csv",
                "curves.png", "sensitivity.png", "heatmap.png")


def read_group(path: Path, configs: int, seeds: int) -> GroupResult:
    """A finished group's arrays read back; a file that cannot be read (truncated, not an npz, an array
    missing) or holds another shape than the group's ``configs`` x ``seeds`` (the report would drop the configs
    past its rows without a word) is a ``RunFileError`` naming it and what to do, not numpy's traceback."""
    import zipfile

    from rl_zoo.sweep.runner import result_from_arrays

    todo = ("Delete it to train that group again (the sweep's other groups are kept), or run the same command with "
            "--rerun to train them all again")
    try:
        with np.load(path) as arrays:
            result = result_from_arrays(arrays)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise runs.file_error(path, f"cannot be read ({type(e).__name__}: {e})", todo) from None
    shapes = [result.returns.shape[:2]] + [a.shape[:2] for a in (result.finite, *result.recorded.values()) if a is not None]
    evals = {result.returns.shape[-1], len(result.env_steps)} | ({result.finite.shape[-1]} if result.finite is not None else set())
    halving_ok = result.evals_done is None or result.evals_done.shape == (configs,)
    if result.returns.ndim != 3 or set(shapes) != {(configs, seeds)} or len(evals) != 1 or not halving_ok:
        raise runs.file_error(path, f"holds results of another shape than its group's {runs.plural(configs, 'config')} x "
                              f"{runs.plural(seeds, 'seed')} (returns {result.returns.shape}, env_steps "
                              f"{result.env_steps.shape})", todo)
    return result


def spec_changes(saved: dict, now: dict) -> list[str]:
    """The fields of a sweep.json's ``spec`` that differ from this command's (``SweepSpec.to_json``), as
    ``name: saved -> now``. A field added since (``spec.LATER_FIELDS``: ``env_kwargs`` ...) that one of them
    leaves out is at its default there (``env_kwargs: {} -> {"gravity": 12.0}``); another field only one of
    them has shows as ``-``."""
    saved, now = {**LATER_FIELDS, **saved}, {**LATER_FIELDS, **now}
    return [f"{k}: {json.dumps(saved.get(k, '-'), default=str)} -> {json.dumps(now.get(k, '-'), default=str)}"
            for k in sorted(set(saved) | set(now)) if saved.get(k) != now.get(k)]


def _beyond_set_values(spec: dict) -> dict:
    """A sweep spec (as sweep.json holds it) without what only sets the base config's values (``--set``,
    ``--total-steps``) or permits a static field (``--static-groups``)."""
    return {k: v for k, v in spec.items() if k not in ("overrides", "total_steps", "static_groups")}


def _same_sweep_written_otherwise(saved: dict, now: dict, config) -> bool:
    """Whether two sweep specs (as sweep.json holds them) differ only in how they were written: ``--set gamma=0.97``
    keeps the string "0.97", a ``--config`` file the number 0.97 (and YAML reads ``1e-2`` as a string), each compared
    as the field's type parses it; ``--total-steps N`` is ``--set total_timesteps=N``; ``--static-groups`` only
    permits sweeping a static field (one swept without it is refused before the folder is looked at), so it changes
    nothing by itself. The digest stays the one first written."""
    from rl_zoo.config import parse_value

    if _beyond_set_values(saved) != _beyond_set_values(now):
        return False
    fields = {f.name: f for f in dataclasses.fields(config)}

    def typed(spec: dict) -> dict | None:
        pairs = [*(spec.get("overrides") or []),
                 *([("total_timesteps", spec["total_steps"])] if spec.get("total_steps") is not None else [])]
        try:
            return {k: parse_value(fields[k], v) if isinstance(v, str) else v for k, v in pairs}
        except (KeyError, ValueError, TypeError, ConfigError):  # a field gone, a value its type refuses: not the same
            return None

    a, b = typed(saved), typed(now)
    return a is not None and a == b


def _same_base_set_otherwise(saved_spec: dict, saved_base: dict | None, now: dict, base, swept: tuple[str, ...]) -> bool:
    """Whether this command's spec differs from sweep.json's only in its ``--set`` / ``--total-steps`` values and
    both resolve to the same base config: ``--set gamma=0.98`` or ``--total-steps 100000`` that the tuned file
    already gives is the sweep that ran without them (it was refused as "a different sweep", and only --rerun,
    which trains everything again, got past). A sweep.json without its ``base_config``, or without a field the
    config has now (written before the field was added; ``base_config_changes`` leaves such a field uncompared,
    and a --set of it passed as the same sweep), is not: its value then is not known."""
    return (bool(saved_base) and _beyond_set_values(saved_spec) == _beyond_set_values(now)
            and {f.name for f in dataclasses.fields(base)} <= set(saved_base)
            and not base_config_changes(saved_base, base, swept))


def check_folder(out: Path, spec: SweepSpec, plan: SweepPlan, rerun: bool, env_params=None) -> bool:
    """Whether ``out`` already holds this sweep (a re-run trains only its unfinished groups); a folder
    that holds a different sweep is refused (``ConfigError``, naming what differs; nothing is touched).
    A sweep is the command's spec (its digest), the base config it resolved to and the env's params
    (``env_params``, when given and recorded): the same command after ``rl_zoo/hyperparams/<algo>.yaml``
    or a port's constants changed is a different sweep. Writes nothing (a dry run calls it too)."""
    path = out / "sweep.json"
    if not path.exists():
        return False
    try:
        saved = runs.read_json_file(path, todo="Run the same command with --rerun to replace this folder's results, "
                                               "or use another --out")
    except runs.RunFileError:
        if not rerun:
            raise
        return False  # --rerun replaces it with the rest of the results
    saved_spec = saved.get("spec") if isinstance(saved.get("spec"), dict) else {}
    now_spec = json.loads(json.dumps(spec.to_json(), default=str))
    if saved.get("digest") != spec.digest() and not rerun and not _same_sweep_written_otherwise(saved_spec, now_spec, plan.default) \
            and not _same_base_set_otherwise(saved_spec, saved.get("base_config"), now_spec, plan.base, spec.fields):
        changes = spec_changes(saved_spec, now_spec)
        raise ConfigError(f"{out} holds a different sweep (sweep.json -> this command: {'; '.join(changes) or 'its digest'}): "
                          f"use another --out, or --rerun to replace its results")
    changes = base_config_changes(saved.get("base_config") or {}, plan.base, spec.fields)
    if changes and not rerun:
        raise ConfigError(f"{out} holds a sweep of this command with another base config (tuned hyperparameters or "
                          f"defaults changed since; sweep.json -> now: {'; '.join(changes)}): use another --out, or "
                          f"--rerun to replace its results")
    changes = env_params_changes(saved.get("env_params") or {}, env_params, spec.fields) if env_params is not None else []
    if changes and not rerun:
        raise ConfigError(f"{out} holds a sweep of this command on {spec.env_id} with other params (the env's defaults "
                          f"changed since; sweep.json -> now: {'; '.join(changes)}): use another --out, or --rerun to "
                          f"replace its results")
    return not rerun


def group_segments(plan: SweepPlan, env, env_params, num_evals: int) -> dict[str, list[int]]:
    """Each group's evaluation segments (updates each, ``runner.segment_plan``), by group index as sweep.json keeps them."""
    from rl_zoo.sweep.runner import segment_plan

    return {str(g.index): segment_plan(plan.module.make_agent(g.points[0].config, env, env_params).num_updates, num_evals)
            for g in plan.groups}


def check_segments(out: Path, plan: SweepPlan, now: dict[str, list[int]], num_evals: int, rerun: bool) -> None:
    """Refuse to go on with a sweep whose finished parts (groups, halving rungs) were trained along other evaluation
    segments than this version makes: those sweep.json records, or, in one written before it recorded them, the
    segments of the rule until 2026-12-07 (``runner.floor_segment_schedule``). Gone on with, a halving sweep laid
    the new segments over the old rungs' checkpoints (a survivor trained 26 of its 29 updates) and groups mixed
    evaluation grids in one report. ``now``: this version's segments (``group_segments``). Nothing to check for a
    folder without results, one whose every group is finished (it is only read again), or with --rerun."""
    from rl_zoo.driver.runner import floor_segment_schedule

    path = out / "sweep.json"
    finished = {g.index for g in plan.groups if (out / "groups" / f"group_{g.index}.npz").exists()}
    done = finished or list((out / "groups" / "halving").glob("*"))
    if rerun or not path.exists() or not done or len(finished) == len(plan.groups):
        return
    saved = runs.read_json_file(path).get("segments")
    for index, segments in now.items():
        before = saved.get(index) if isinstance(saved, dict) else list(floor_segment_schedule(sum(segments), num_evals))
        if before is not None and list(before) != segments:
            raise ConfigError(f"{out} holds a sweep of this command trained in part along other evaluation segments than "
                              f"this rl_zoo makes (group {index}: {_segments_words(before)} then, {_segments_words(segments)} "
                              f"now): go on with --rerun, which trains every group again, or use another --out")


def _segments_words(segments) -> str:
    segments = list(segments)
    return f"{len(segments)} segments of {segments[0]}" + (f", the last of {segments[-1]}" if segments[-1] != segments[0] else "")


def claim_folder(out: Path, spec: SweepSpec, plan: SweepPlan, rerun: bool, env_params, command: str | None = None,
                  segments: dict | None = None) -> None:
    """Write ``sweep.json`` unless ``out`` holds this sweep already (``check_folder``, which refuses another),
    with the env's params and the command that created it (None from Python without one)."""
    if check_folder(out, spec, plan, rerun, env_params):
        return
    path = out / "sweep.json"
    out.mkdir(parents=True, exist_ok=True)
    if rerun:  # the old results go before the new sweep.json: a folder killed mid-rerun holds no report of the old sweep
        for old in [*(out / "groups").glob("group_*.npz"), *(out / "groups" / "halving").glob("*"),
                    *(out / name for name in RESULT_FILES if (out / name).exists())]:
            old.unlink()
    runs.atomic_write_json(path, dict(digest=spec.digest(), spec=spec.to_json(), base_config=dataclasses.asdict(plan.base),
                                      env_params=env_params_record(env_params), segments=segments,
                                      groups=[dict(index=g.index, static=[list(kv) for kv in g.static], traced=list(g.traced),
                                                   configs=[p.index for p in g.points]) for g in plan.groups],
                                      versions=runs.versions(), created=time.strftime("%Y-%m-%d %H:%M:%S"), command=command))
